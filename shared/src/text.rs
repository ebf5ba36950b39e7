//! Text folding for search: lower case and without diacritics, so that "lucja nunez" finds
//! "Łucja Ñuñez" and "ZURICH" finds "Zürich". Covers Latin-1 and Latin Extended-A, which is
//! what attendee names at a European conference use; other scripts pass through lower-cased.
//! Also: escaping text for HTML and XML (the badge preview's SVG, the dashboard's pages), and
//! the limits every piece of text a person types is held to ([`check`]).

/// The letters under common diacritics, and the few letters that are not a base letter plus a
/// mark (ł, ø, ß, æ, œ, ð, þ, đ, ı).
fn base(c: char) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("àáâãäåāăą", "a"),
        ("æ", "ae"),
        ("çćĉċč", "c"),
        ("ďđð", "d"),
        ("èéêëēĕėęě", "e"),
        ("ĝğġģ", "g"),
        ("ĥħ", "h"),
        ("ìíîïĩīĭįı", "i"),
        ("ĳ", "ij"),
        ("ĵ", "j"),
        ("ķ", "k"),
        ("ĺļľŀł", "l"),
        ("ñńņňŉ", "n"),
        ("òóôõöøōŏő", "o"),
        ("œ", "oe"),
        ("ŕŗř", "r"),
        ("śŝşšș", "s"),
        ("ß", "ss"),
        ("ţťŧț", "t"),
        ("þ", "th"),
        ("ùúûüũūŭůűų", "u"),
        ("ŵ", "w"),
        ("ýÿŷ", "y"),
        ("źżž", "z"),
    ];
    MAP.iter().find(|(set, _)| set.contains(c)).map(|(_, b)| *b)
}

/// A reason or a note as given: trimmed, `None` when blank.
pub fn given(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Folds `text` for comparison: lower case, diacritics removed, whitespace collapsed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match if c.is_ascii() { None } else { base(c) } {
            Some(b) => out.push_str(b),
            None => out.push(c),
        }
    }
    out
}

/// Text made safe for HTML or XML element content and quoted attribute values.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How long each kind of text may be, in characters.
pub mod limit {
    /// A first or last name.
    pub const NAME: usize = 100;
    pub const EMAIL: usize = 254;
    /// A company, venue, conference or seat type name, a printer.
    pub const TITLE: usize = 200;
    pub const SLUG: usize = 100;
    pub const DESCRIPTION: usize = 5_000;
    /// A gate, an app version.
    pub const LABEL: usize = 64;
    /// Why something was done (an override, an undo, a reprint).
    pub const REASON: usize = 500;
    /// A note on a conflict.
    pub const NOTE: usize = 1_000;
}

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is too long: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
}

impl TextError {
    pub fn code(&self) -> &'static str {
        match self {
            TextError::TooLong { .. } => "text.too_long",
            TextError::ControlCharacter { .. } => "text.control_character",
        }
    }
}

/// Checks text a person typed: at most `max` characters, and no control characters (NUL,
/// ESC and the like; a line break or tab only where `multi_line`).
pub fn check(
    field: &'static str,
    text: &str,
    max: usize,
    multi_line: bool,
) -> Result<(), TextError> {
    if text.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(TextError::ControlCharacter { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{TextError, check, fold};

    #[test]
    fn text_is_held_to_its_length_and_to_printable_characters() {
        assert_eq!(check("the name", "Łucja Ñuñez", 100, false), Ok(()));
        assert_eq!(
            check("the name", &"x".repeat(101), 100, false),
            Err(TextError::TooLong {
                field: "the name",
                max: 100
            })
        );
        assert_eq!(
            check("the name", &"ł".repeat(100), 100, false),
            Ok(()),
            "characters, not bytes"
        );
        for bad in ["a\u{0}b", "\u{1b}[31m", "line\nbreak"] {
            assert_eq!(
                check("the name", bad, 100, false),
                Err(TextError::ControlCharacter { field: "the name" }),
                "{bad:?}"
            );
        }
        assert_eq!(check("the note", "line\nbreak\ttab", 100, true), Ok(()));
        assert!(check("the note", "nul\u{0}", 100, true).is_err());
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("Łucja Ñuñez"), "lucja nunez");
        assert_eq!(fold("ZÜRICH"), "zurich");
        assert_eq!(fold("  Søren   Østergaard "), "soren ostergaard");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ștefan Dvořák"), "stefan dvorak");
        assert_eq!(fold("K7QF-3XP9"), "k7qf-3xp9");
    }
}
