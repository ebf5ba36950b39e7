//! What a barcode scanner typed, read back as the code it scanned.
//!
//! A keyboard-wedge scanner sends key presses for the keys of a US keyboard. On a host whose
//! keyboard is French (AZERTY) or German (QWERTZ) the same keys type other characters:
//! `K7QF-3XP9` arrives as `KèAF)"XPç` on AZERTY (the digit row types `&é"'(-è_çà` unshifted,
//! `A`/`Q` and `Z`/`W` trade places, `M` is `?`, `-` is `)`), and as `K7QFß3XP9` on QWERTZ
//! (`Y`/`Z` trade places, `-` is `ß`). [`candidates`] gives the text as typed, then as the US
//! keys it was typed with on each layout: the door tries them in that order, and the first
//! the roster knows is the ticket. A code typed right is always tried first, so recovery
//! only ever turns an unknown code into a known one.

use crate::ids::TicketCode;

/// A keyboard layout a scanner's US key presses may land on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// French: AZERTY, digits shifted.
    Azerty,
    /// German: QWERTZ.
    Qwertz,
}

impl Layout {
    pub const ALL: [Layout; 2] = [Layout::Azerty, Layout::Qwertz];

    /// The US key's character for a character this layout typed (the character itself when
    /// the two layouts agree on it).
    fn us_key(self, c: char) -> char {
        match self {
            Layout::Azerty => match c {
                '&' => '1',
                'é' => '2',
                '"' => '3',
                '\'' => '4',
                '(' => '5',
                '-' => '6',
                'è' => '7',
                '_' => '8',
                'ç' => '9',
                'à' => '0',
                ')' => '-',
                'a' => 'q',
                'q' => 'a',
                'A' => 'Q',
                'Q' => 'A',
                'z' => 'w',
                'w' => 'z',
                'Z' => 'W',
                'W' => 'Z',
                ',' => 'm',
                '?' => 'M',
                other => other,
            },
            Layout::Qwertz => match c {
                'y' => 'z',
                'z' => 'y',
                'Y' => 'Z',
                'Z' => 'Y',
                'ß' => '-',
                other => other,
            },
        }
    }

    /// What the scanner meant, had it typed `typed` on this layout.
    pub fn retyped(self, typed: &str) -> String {
        typed.chars().map(|c| self.us_key(c)).collect()
    }

    /// What a scanner that means `us` types on this layout (the inverse of
    /// [`Layout::retyped`]): for tests and for showing staff what happened.
    pub fn typed(self, us: &str) -> String {
        us.chars()
            .map(|u| {
                TYPED
                    .iter()
                    .find(|&&c| self.us_key(c) == u && c != u)
                    .copied()
                    .unwrap_or(u)
            })
            .collect()
    }
}

/// Every character a layout types differently from a US keyboard.
const TYPED: &[char] = &[
    '&', 'é', '"', '\'', '(', '-', 'è', '_', 'ç', 'à', ')', 'a', 'q', 'A', 'Q', 'z', 'w', 'Z', 'W',
    ',', '?', 'y', 'Y', 'ß',
];

/// The codes `typed` may stand for, in the order to try them: as typed, then retyped from
/// each [`Layout`]; each once, only those that are codes at all.
pub fn candidates(typed: &str) -> Vec<TicketCode> {
    let typed = typed.trim();
    let mut out: Vec<TicketCode> = Vec::new();
    let texts = std::iter::once(typed.to_owned()).chain(Layout::ALL.map(|l| l.retyped(typed)));
    for text in texts {
        if let Ok(code) = TicketCode::parse(&text)
            && !out.contains(&code)
        {
            out.push(code);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(typed: &str) -> Vec<String> {
        candidates(typed).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_code_typed_right_is_tried_first() {
        assert_eq!(codes("k7qf-3xp9")[0], "K7QF-3XP9");
    }

    #[test]
    fn an_azerty_host_gives_back_the_code_its_scanner_meant() {
        // K7QF-3XP9 and 0123-4567 and MZWA-89QM, typed by a US scanner on AZERTY.
        assert!(codes("KèAF)\"XPç").contains(&"K7QF-3XP9".to_owned()));
        assert_eq!(codes("à&é\")'(-è"), ["0123-4567"]);
        assert!(codes("?WZQ)_çA?").contains(&"MZWA-89QM".to_owned()));
        // The unshifted letters too (a scanner set to lower case).
        assert!(codes("kèaf)\"xpç").contains(&"K7QF-3XP9".to_owned()));
    }

    #[test]
    fn a_qwertz_host_gives_back_the_code_its_scanner_meant() {
        // YZ12-3Z4Y typed on QWERTZ: Y and Z swap, '-' is ß.
        let found = codes("ZY12ß3Y4Z");
        assert!(found.contains(&"YZ12-3Z4Y".to_owned()), "{found:?}");
        // As typed first: a code with a Z is itself before its swapped twin.
        assert_eq!(codes("ZY12-3Y4Z")[0], "ZY12-3Y4Z");
    }

    proptest::proptest! {
        /// Every code the desks and the importer make, typed on any layout, is found again.
        #[test]
        fn every_code_typed_on_any_layout_is_found_again(bits: u64) {
            let code = TicketCode::from_entropy(bits);
            for layout in Layout::ALL {
                let typed = layout.typed(code.as_str());
                proptest::prop_assert!(
                    candidates(&typed).contains(&code),
                    "{code} typed on {layout:?} as {typed}"
                );
            }
        }
    }

    #[test]
    fn what_is_no_code_on_any_layout_gives_nothing() {
        assert!(codes("").is_empty());
        assert!(codes("§§§§").is_empty());
        assert!(codes(&"x".repeat(40)).is_empty());
    }
}
