//! The badge font, embedded in the binary: DejaVu Sans and DejaVu Sans Bold (Bitstream Vera
//! licence, `assets/LICENSE-DejaVu.txt`). Full Latin-1 and Latin Extended-A/B, Greek and
//! Cyrillic: Zürich, Łódź and Ñuñez render.

use std::sync::OnceLock;

use printpdf::ParsedFont;

static REGULAR: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/DejaVuSans-Bold.ttf");

/// DejaVu Sans' ascender and descender (hhea: 1901 and 483 of 2048 units per em).
const ASCENT: f32 = 1901.0 / 2048.0;
const DESCENT: f32 = 483.0 / 2048.0;

pub(crate) struct Face {
    pub(crate) parsed: ParsedFont,
    /// The font's resource name in every PDF we write (fixed, so output is deterministic).
    pub(crate) resource: &'static str,
    units_per_em: f32,
    pub(crate) ascent: f32,
    pub(crate) descent: f32,
}

impl Face {
    fn load(bytes: &[u8], resource: &'static str) -> Face {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .expect("the embedded DejaVu font parses");
        let units_per_em = f32::from(parsed.pdf_font_metrics.units_per_em);
        Face {
            parsed,
            resource,
            units_per_em,
            ascent: ASCENT,
            descent: DESCENT,
        }
    }

    /// The width of `text` set at `size` points, in points (no kerning: DejaVu's is slight,
    /// and measuring a little wide never clips).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(self.parsed.get_horizontal_advance(gid))
            })
            .sum();
        units as f32 / self.units_per_em * size
    }

    /// The characters of `text` the font has no glyph for, each once.
    pub(crate) fn missing(&self, text: &str) -> String {
        let mut missing = String::new();
        for c in text.chars() {
            if !c.is_whitespace()
                && self.parsed.lookup_glyph_index(c as u32).is_none()
                && !missing.contains(c)
            {
                missing.push(c);
            }
        }
        missing
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

fn faces() -> &'static Faces {
    static FACES: OnceLock<Faces> = OnceLock::new();
    FACES.get_or_init(|| Faces {
        regular: Face::load(REGULAR, "F1"),
        bold: Face::load(BOLD, "F2"),
    })
}

pub(crate) fn face(bold: bool) -> &'static Face {
    let f = faces();
    if bold { &f.bold } else { &f.regular }
}

/// Both faces, for the PDF's font resources.
pub(crate) fn all() -> [&'static Face; 2] {
    let f = faces();
    [&f.regular, &f.bold]
}
