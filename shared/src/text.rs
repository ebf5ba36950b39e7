//! Text folding for search: lower case and without diacritics, so that "lucja nunez" finds
//! "Łucja Ñuñez" and "ZURICH" finds "Zürich". Covers Latin-1 and Latin Extended-A, which is
//! what attendee names at a European conference use; other scripts pass through lower-cased.
//! Also: escaping text for HTML and XML (the badge preview's SVG, the dashboard's pages).

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

#[cfg(test)]
mod tests {
    use super::fold;

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
