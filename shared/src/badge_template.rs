//! Badge templates: a versioned layout description, not code per badge type. The format and
//! its checks live in the pure domain, because the conference carries its templates (head
//! office sets them; desks pull them); the `onsite-badge` crate lays them out and renders them.
//!
//! A template is a page size and a list of elements placed in boxes measured in millimetres
//! from the top-left corner of the badge: coloured rectangles, text fields and the QR code.
//! Colours may name the attendee type's band colour (`"band"`) or the colour that reads on it
//! (`"on_band"`), so one template gives every attendee type its own look.
//! [`TemplateSet::default_set`] is the set shipped in the binary (`shared/assets/templates.json`).

use serde::{Deserialize, Serialize};

/// The layout format this build reads. A template with another `format` is refused.
pub const FORMAT: u32 = 1;

/// The most templates one set may hold.
pub const MAX_TEMPLATES: usize = 32;

/// The most elements one template may hold.
pub const MAX_ELEMENTS: usize = 64;

const DEFAULT_SET: &str = include_str!("../assets/templates.json");

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template file is not valid: {0}")]
    Malformed(String),
    #[error("template format {found} is not known to this version (it reads format {FORMAT})")]
    UnknownFormat { found: u32 },
    #[error("template {template:?}: {problem}")]
    Invalid { template: String, problem: String },
    #[error("no template {0:?}")]
    NotFound(String),
}

/// The page a badge is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "preset")]
pub enum PageSize {
    /// 4 × 3 in landscape (101.6 × 76.2 mm), the usual badge-holder insert.
    #[serde(rename = "4x3in")]
    FourByThreeIn,
    /// A6 portrait (105 × 148 mm).
    A6,
    /// A 54 × 90 mm label (landscape, 90 wide), as label printers take them.
    #[serde(rename = "label_54x90mm")]
    Label54x90,
    Custom {
        width_mm: f32,
        height_mm: f32,
    },
}

impl PageSize {
    /// Width and height in millimetres.
    pub fn mm(self) -> (f32, f32) {
        match self {
            PageSize::FourByThreeIn => (101.6, 76.2),
            PageSize::A6 => (105.0, 148.0),
            PageSize::Label54x90 => (90.0, 54.0),
            PageSize::Custom {
                width_mm,
                height_mm,
            } => (width_mm, height_mm),
        }
    }

    /// The IPP/CUPS `media` value that makes a spooler print this page unscaled.
    pub fn media(self) -> String {
        match self {
            PageSize::FourByThreeIn => "Custom.4x3in".to_owned(),
            PageSize::A6 => "A6".to_owned(),
            PageSize::Label54x90 => "Custom.90x54mm".to_owned(),
            PageSize::Custom {
                width_mm,
                height_mm,
            } => format!("Custom.{}x{}mm", trim(width_mm), trim(height_mm)),
        }
    }
}

fn trim(v: f32) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A box in millimetres from the badge's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// What a text or QR element shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum Field {
    Conference,
    AttendeeType,
    /// First and last name: the largest element of a badge.
    Name,
    Company,
    /// The add-ons the person holds, joined with " · ".
    Entitlements,
    TicketCode,
    /// The holder's pronouns ("she/her"), when they gave any.
    Pronouns,
}

/// A colour: `"band"`, `"on_band"` or `"#RRGGBB"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Paint {
    Band,
    OnBand,
    Rgb([u8; 3]),
}

impl From<Paint> for String {
    fn from(p: Paint) -> String {
        match p {
            Paint::Band => "band".to_owned(),
            Paint::OnBand => "on_band".to_owned(),
            Paint::Rgb([r, g, b]) => format!("#{r:02X}{g:02X}{b:02X}"),
        }
    }
}

impl TryFrom<String> for Paint {
    type Error = String;
    fn try_from(s: String) -> Result<Paint, String> {
        match s.as_str() {
            "band" => Ok(Paint::Band),
            "on_band" => Ok(Paint::OnBand),
            _ => parse_hex(&s)
                .map(Paint::Rgb)
                .ok_or_else(|| format!("colour {s:?} is not \"band\", \"on_band\" or \"#RRGGBB\"")),
        }
    }
}

/// `#RRGGBB` → bytes.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Center,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VAlign {
    #[default]
    Top,
    Middle,
}

fn black() -> Paint {
    Paint::Rgb([0, 0, 0])
}

fn one() -> u8 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Element {
    Rect {
        #[serde(rename = "box")]
        area: Area,
        fill: Paint,
    },
    /// A text field. It is set at `size` points; when it does not fit it shrinks to
    /// `min_size`, then wraps onto up to `max_lines` lines; when it still does not fit the
    /// layout reports an overflow instead of clipping.
    Text {
        field: Field,
        #[serde(rename = "box")]
        area: Area,
        size: f32,
        #[serde(default)]
        min_size: Option<f32>,
        #[serde(default = "one")]
        max_lines: u8,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        align: Align,
        #[serde(default)]
        valign: VAlign,
        #[serde(default = "black")]
        colour: Paint,
    },
    /// A QR code of the field (the ticket code), with its quiet zone inside the box.
    Qr {
        field: Field,
        #[serde(rename = "box")]
        area: Area,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub page: PageSize,
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSet {
    pub format: u32,
    pub templates: Vec<Template>,
}

impl TemplateSet {
    /// The templates shipped in the binary: one per page-size preset.
    pub fn default_set() -> TemplateSet {
        Self::built_in().clone()
    }

    /// The shipped set, read once.
    pub fn built_in() -> &'static TemplateSet {
        static SET: std::sync::OnceLock<TemplateSet> = std::sync::OnceLock::new();
        SET.get_or_init(|| {
            TemplateSet::from_json(DEFAULT_SET).expect("the embedded template set is valid")
        })
    }

    /// Reads and checks a template set. Nothing is half-read: an error means no template.
    pub fn from_json(json: &str) -> Result<TemplateSet, TemplateError> {
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head =
            serde_json::from_str(json).map_err(|e| TemplateError::Malformed(e.to_string()))?;
        if head.format != FORMAT {
            return Err(TemplateError::UnknownFormat { found: head.format });
        }
        let set: TemplateSet =
            serde_json::from_str(json).map_err(|e| TemplateError::Malformed(e.to_string()))?;
        set.check()?;
        Ok(set)
    }

    /// Checks a set read some other way (a request body, an event): its format, at least one
    /// and at most [`MAX_TEMPLATES`] templates with distinct ids, each valid.
    pub fn check(&self) -> Result<(), TemplateError> {
        if self.format != FORMAT {
            return Err(TemplateError::UnknownFormat { found: self.format });
        }
        if self.templates.is_empty() {
            return Err(TemplateError::Malformed("the set has no template".into()));
        }
        if self.templates.len() > MAX_TEMPLATES {
            return Err(TemplateError::Malformed(format!(
                "the set has {} templates; at most {MAX_TEMPLATES} are allowed",
                self.templates.len()
            )));
        }
        for (i, t) in self.templates.iter().enumerate() {
            t.validate()?;
            if self.templates[..i].iter().any(|o| o.id == t.id) {
                return Err(TemplateError::Malformed(format!(
                    "two templates have the id {:?}",
                    t.id
                )));
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<&Template, TemplateError> {
        self.templates
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| TemplateError::NotFound(id.to_owned()))
    }

    /// The first template of the set: what a desk uses until someone picks another.
    pub fn first(&self) -> &Template {
        &self.templates[0]
    }
}

impl Template {
    pub fn validate(&self) -> Result<(), TemplateError> {
        let bad = |problem: String| TemplateError::Invalid {
            template: self.id.chars().take(64).collect(),
            problem,
        };
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if !id_ok {
            return Err(bad(
                "the id must be 1–64 lower-case letters, digits, '-' or '_'".into(),
            ));
        }
        if self.name.trim().is_empty()
            || self.name.chars().count() > 120
            || self.name.chars().any(char::is_control)
        {
            return Err(bad(
                "the name must be 1–120 characters without control characters".into(),
            ));
        }
        if self.elements.len() > MAX_ELEMENTS {
            return Err(bad(format!(
                "{} elements; at most {MAX_ELEMENTS} are allowed",
                self.elements.len()
            )));
        }
        let (w, h) = self.page.mm();
        if !(20.0..=450.0).contains(&w) || !(20.0..=450.0).contains(&h) {
            return Err(bad(format!(
                "page {w} × {h} mm is outside 20–450 mm a side"
            )));
        }
        for (i, e) in self.elements.iter().enumerate() {
            let area = match e {
                Element::Rect { area, .. } | Element::Qr { area, .. } => area,
                Element::Text {
                    area,
                    size,
                    min_size,
                    max_lines,
                    ..
                } => {
                    let min = min_size.unwrap_or(*size);
                    if !(min > 2.0 && min <= *size && *size <= 200.0) {
                        return Err(bad(format!(
                            "element {i}: sizes must satisfy 2 < min_size ≤ size ≤ 200"
                        )));
                    }
                    if !(1..=4).contains(max_lines) {
                        return Err(bad(format!("element {i}: max_lines must be 1 to 4")));
                    }
                    area
                }
            };
            let inside = area.x >= 0.0
                && area.y >= 0.0
                && area.w > 0.0
                && area.h > 0.0
                && area.x + area.w <= w + 0.01
                && area.y + area.h <= h + 0.01;
            if !inside {
                return Err(bad(format!("element {i}: its box is not inside the page")));
            }
        }
        Ok(())
    }
}

/// A template set that passed [`TemplateSet::check`]: what a conference carries in its events.
/// Checked sets hold no NaN (JSON cannot say it, and the checks refuse it), so equality is an
/// equivalence and events that carry one can be compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TemplateSet", into = "TemplateSet")]
pub struct CheckedTemplates(TemplateSet);

impl Eq for CheckedTemplates {}

impl CheckedTemplates {
    pub fn new(set: TemplateSet) -> Result<Self, TemplateError> {
        set.check()?;
        Ok(Self(set))
    }

    pub fn set(&self) -> &TemplateSet {
        &self.0
    }
}

impl TryFrom<TemplateSet> for CheckedTemplates {
    type Error = TemplateError;
    fn try_from(set: TemplateSet) -> Result<Self, TemplateError> {
        Self::new(set)
    }
}

impl From<CheckedTemplates> for TemplateSet {
    fn from(c: CheckedTemplates) -> TemplateSet {
        c.0
    }
}
