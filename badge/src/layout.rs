//! Laying a badge out: where every rectangle, line of text and QR module goes, and what did
//! not fit. Pure and deterministic: the same template and data give the same layout.

use serde::{Deserialize, Serialize};

use crate::font::{self, Face};
use crate::template::{Align, Area, Element, Field, Paint, Template, VAlign};

/// Points per millimetre.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;
/// Line height as a multiple of the font size.
const LINE_HEIGHT: f32 = 1.2;
/// Modules of white around a QR code (the standard asks for four).
const QR_QUIET: usize = 4;
/// The step by which too-long text is shrunk.
const SIZE_STEP: f32 = 0.5;

/// What is printed on one badge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BadgeData {
    pub conference: String,
    /// The attendee type's name, shown in the band.
    pub attendee_type: String,
    /// The attendee type's band colour.
    pub band: [u8; 3],
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    /// Add-ons the person holds (workshops, receptions).
    pub entitlements: Vec<String>,
    pub ticket_code: String,
    /// Empty when the holder gave none (nothing is printed then).
    pub pronouns: String,
}

/// The band of a badge whose holder has no attendee type.
const NEUTRAL_BAND: [u8; 3] = [0x5A, 0x62, 0x70];

impl BadgeData {
    /// A badge of `conf` with the band of the holder's first attendee type the conference
    /// knows (its name and colour), or `otherwise` on a neutral band; the person's fields
    /// empty, for the caller to fill.
    pub fn of_conference(
        conf: &onsite_shared::conference::Conference,
        attendee_types: &[onsite_shared::ids::AttendeeTypeId],
        otherwise: &str,
    ) -> BadgeData {
        let kind = attendee_types
            .iter()
            .find_map(|id| conf.attendee_types.get(id));
        BadgeData {
            conference: conf
                .details
                .as_ref()
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            attendee_type: kind.map_or_else(|| otherwise.to_owned(), |k| k.name.clone()),
            band: kind
                .and_then(|k| crate::template::parse_hex(k.badge_colour.as_str()))
                .unwrap_or(NEUTRAL_BAND),
            first_name: String::new(),
            last_name: String::new(),
            company: String::new(),
            entitlements: Vec::new(),
            ticket_code: String::new(),
            pronouns: String::new(),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name.trim(), self.last_name.trim())
            .trim()
            .to_owned()
    }

    fn field(&self, field: Field) -> String {
        match field {
            Field::Conference => self.conference.trim().to_owned(),
            Field::AttendeeType => self.attendee_type.trim().to_owned(),
            Field::Name => self.full_name(),
            Field::Company => self.company.trim().to_owned(),
            Field::Entitlements => self
                .entitlements
                .iter()
                .map(|e| e.trim())
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            Field::TicketCode => self.ticket_code.trim().to_owned(),
            Field::Pronouns => self.pronouns.trim().to_owned(),
        }
    }
}

/// Something the person at the desk must know before the badge is printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum Warning {
    /// The text does not fit its box even at the smallest size on the most lines: what is
    /// printed ends in "…".
    Overflow { field: Field, text: String },
    /// The font has no glyph for these characters: they print as empty boxes.
    MissingGlyphs { field: Field, chars: String },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Overflow { field, text } => write!(
                f,
                "the {} {text:?} does not fit on the badge, even small and on the most lines; \
                 it would be cut short",
                field_name(*field)
            ),
            Warning::MissingGlyphs { field, chars } => write!(
                f,
                "the badge font cannot draw {chars:?} in the {}",
                field_name(*field)
            ),
        }
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Conference => "conference name",
        Field::AttendeeType => "attendee type",
        Field::Name => "name",
        Field::Company => "company",
        Field::Entitlements => "entitlements",
        Field::TicketCode => "ticket code",
        Field::Pronouns => "pronouns",
    }
}

/// A rectangle in points from the badge's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// Filled rectangles of one colour (a band, or the dark runs of a QR code).
    Fill { rgb: [u8; 3], rects: Vec<Rect> },
    /// One line of text; `baseline` is measured from the top.
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        rgb: [u8; 3],
        text: String,
    },
}

/// A badge laid out: page size in points, shapes in drawing order, warnings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
    pub warnings: Vec<Warning>,
}

/// Lays one badge out with a template.
pub fn layout(template: &Template, data: &BadgeData) -> Result<Layout, crate::RenderError> {
    let (w_mm, h_mm) = template.page.mm();
    let mut out = Layout {
        width: w_mm * PT_PER_MM,
        height: h_mm * PT_PER_MM,
        shapes: Vec::new(),
        warnings: Vec::new(),
    };
    for element in &template.elements {
        match element {
            Element::Rect { area, fill } => out.shapes.push(Shape::Fill {
                rgb: resolve(fill, data.band),
                rects: vec![pt(area)],
            }),
            Element::Text {
                field,
                area,
                size,
                min_size,
                max_lines,
                bold,
                align,
                valign,
                colour,
            } => {
                let text = data.field(*field);
                if text.is_empty() {
                    continue;
                }
                let face = font::face(*bold);
                let missing = face.missing(&text);
                if !missing.is_empty() {
                    out.warnings.push(Warning::MissingGlyphs {
                        field: *field,
                        chars: missing,
                    });
                }
                let style = Style {
                    face,
                    max: *size,
                    min: min_size.unwrap_or(*size),
                    max_lines: usize::from(*max_lines),
                };
                let area = pt(area);
                let (size, lines) = match fit(&text, area, &style) {
                    Some(fitted) => fitted,
                    None => {
                        out.warnings.push(Warning::Overflow {
                            field: *field,
                            text: text.clone(),
                        });
                        cut_short(&text, area, &style)
                    }
                };
                let rgb = resolve(colour, data.band);
                place_lines(
                    &mut out.shapes,
                    &lines,
                    area,
                    size,
                    *bold,
                    *align,
                    *valign,
                    rgb,
                );
            }
            Element::Qr { field, area } => {
                let text = data.field(*field);
                if text.is_empty() {
                    continue;
                }
                out.shapes.extend(qr(&text, pt(area))?);
            }
        }
    }
    Ok(out)
}

fn pt(area: &Area) -> Rect {
    Rect {
        x: area.x * PT_PER_MM,
        y: area.y * PT_PER_MM,
        w: area.w * PT_PER_MM,
        h: area.h * PT_PER_MM,
    }
}

fn resolve(paint: &Paint, band: [u8; 3]) -> [u8; 3] {
    match paint {
        Paint::Band => band,
        Paint::OnBand => on(band),
        Paint::Rgb(rgb) => *rgb,
    }
}

/// Black or white, whichever reads better on `background` (WCAG relative luminance).
pub fn on(background: [u8; 3]) -> [u8; 3] {
    let lin = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = background;
    let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    // Contrast with white (1.05 / (l + 0.05)) against with black ((l + 0.05) / 0.05).
    if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
        [255, 255, 255]
    } else {
        [0, 0, 0]
    }
}

struct Style {
    face: &'static Face,
    max: f32,
    min: f32,
    max_lines: usize,
}

fn block_height(lines: usize, size: f32, face: &Face) -> f32 {
    (lines as f32 - 1.0) * LINE_HEIGHT * size + (face.ascent + face.descent) * size
}

fn sizes(style: &Style) -> impl Iterator<Item = f32> + '_ {
    let steps = ((style.max - style.min) / SIZE_STEP).floor() as usize;
    (0..=steps)
        .map(move |i| style.max - i as f32 * SIZE_STEP)
        .chain((style.min < style.max - steps as f32 * SIZE_STEP).then_some(style.min))
}

/// Shrink on one line first, down to the smallest size; only then wrap onto more lines,
/// again from the largest size. `None` when nothing fits.
fn fit(text: &str, area: Rect, style: &Style) -> Option<(f32, Vec<String>)> {
    for lines in 1..=style.max_lines {
        for size in sizes(style) {
            if block_height(lines, size, style.face) > area.h + 0.01 {
                continue;
            }
            if let Some(wrapped) = wrap(text, size, area.w, lines, style.face) {
                return Some((size, wrapped));
            }
        }
    }
    None
}

/// Greedy word wrap into at most `max_lines` lines; `None` if it needs more, or if one word
/// alone is wider than the box.
fn wrap(text: &str, size: f32, width: f32, max_lines: usize, face: &Face) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate, size) <= width {
            current = candidate;
        } else {
            if current.is_empty() || face.width(word, size) > width {
                return None;
            }
            lines.push(std::mem::replace(&mut current, word.to_owned()));
            if lines.len() == max_lines {
                return None;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    (lines.len() <= max_lines).then_some(lines)
}

/// What is drawn when nothing fits (the overflow warning says so): the smallest size, as many
/// lines as allowed and fit the box, the last one ending in "…".
fn cut_short(text: &str, area: Rect, style: &Style) -> (f32, Vec<String>) {
    let size = style.min;
    let face = style.face;
    let mut room = style.max_lines;
    while room > 1 && block_height(room, size, face) > area.h {
        room -= 1;
    }
    let mut lines = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while !rest.is_empty() && lines.len() < room {
        let last = lines.len() + 1 == room;
        let mut take = rest.len();
        loop {
            let mut line: String = rest[..take].iter().collect();
            if last && take < rest.len() {
                line.push('…');
            }
            if face.width(&line, size) <= area.w || take <= 1 {
                // Break at a space when there is one in the line.
                let space = rest[..take].iter().rposition(|c| c.is_whitespace());
                if let Some(space) = space.filter(|&s| !last && take < rest.len() && s > 0) {
                    take = space;
                    line = rest[..take].iter().collect();
                }
                lines.push(line.trim().to_owned());
                rest.drain(..take);
                while rest.first().is_some_and(|c| c.is_whitespace()) {
                    rest.remove(0);
                }
                break;
            }
            take -= 1;
        }
    }
    (size, lines)
}

#[allow(clippy::too_many_arguments)]
fn place_lines(
    shapes: &mut Vec<Shape>,
    lines: &[String],
    area: Rect,
    size: f32,
    bold: bool,
    align: Align,
    valign: VAlign,
    rgb: [u8; 3],
) {
    let face = font::face(bold);
    let block = block_height(lines.len(), size, face);
    let top = match valign {
        VAlign::Top => area.y,
        VAlign::Middle => area.y + ((area.h - block) / 2.0).max(0.0),
    };
    for (i, line) in lines.iter().enumerate() {
        let x = match align {
            Align::Left => area.x,
            Align::Center => area.x + ((area.w - face.width(line, size)) / 2.0).max(0.0),
        };
        shapes.push(Shape::Text {
            x,
            baseline: top + face.ascent * size + i as f32 * LINE_HEIGHT * size,
            size,
            bold,
            rgb,
            text: line.clone(),
        });
    }
}

/// A QR code as filled rectangles, one per horizontal run of dark modules, on a white square
/// that holds the quiet zone.
fn qr(text: &str, area: Rect) -> Result<Vec<Shape>, crate::RenderError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| crate::RenderError::Qr(e.to_string()))?;
    let modules = code.width();
    let side = area.w.min(area.h);
    let unit = side / (modules + 2 * QR_QUIET) as f32;
    let x0 = area.x + (area.w - side) / 2.0;
    let y0 = area.y + (area.h - side) / 2.0;
    let colours = code.to_colors();
    let mut runs = Vec::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colours[row * modules + col] == qrcode::Color::Dark {
                let start = col;
                while col < modules && colours[row * modules + col] == qrcode::Color::Dark {
                    col += 1;
                }
                runs.push(Rect {
                    x: x0 + (QR_QUIET + start) as f32 * unit,
                    y: y0 + (QR_QUIET + row) as f32 * unit,
                    w: (col - start) as f32 * unit,
                    h: unit,
                });
            } else {
                col += 1;
            }
        }
    }
    Ok(vec![
        Shape::Fill {
            rgb: [255, 255, 255],
            rects: vec![Rect {
                x: x0,
                y: y0,
                w: side,
                h: side,
            }],
        },
        Shape::Fill {
            rgb: [0, 0, 0],
            rects: runs,
        },
    ])
}
