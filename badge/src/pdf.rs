//! Layouts to PDF with printpdf's ops API: vector shapes, text in the embedded font (subset),
//! nothing that depends on the clock or chance.

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFont, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder,
};

use crate::font;
use crate::layout::{Layout, PT_PER_MM, Shape};

/// One badge placed on a page, `x`/`y` its top-left corner in points from the page's top-left.
pub(crate) struct Placed<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) x: f32,
    pub(crate) y: f32,
}

pub(crate) struct Page<'a> {
    pub(crate) width: f32,
    pub(crate) height: f32,
    pub(crate) badges: Vec<Placed<'a>>,
    /// Thin grey lines around each badge, to cut along.
    pub(crate) cut_lines: bool,
}

fn colour([r, g, b]: [u8; 3]) -> Color {
    Color::Rgb(Rgb {
        r: f32::from(r) / 255.0,
        g: f32::from(g) / 255.0,
        b: f32::from(b) / 255.0,
        icc_profile: None,
    })
}

fn point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

pub(crate) fn write(title: &str, pages: &[Page<'_>]) -> Vec<u8> {
    let mut doc = PdfDocument::new(title);
    let mut used = [false; 2];
    let mut pdf_pages = Vec::with_capacity(pages.len());
    for page in pages {
        let mut ops = Vec::new();
        for placed in &page.badges {
            // PDF space starts bottom-left; layouts measure from the top.
            let to_x = |x: f32| placed.x + x;
            let to_y = |y: f32| page.height - (placed.y + y);
            for shape in &placed.layout.shapes {
                match shape {
                    Shape::Fill { rgb, rects } => {
                        ops.push(Op::SetFillColor { col: colour(*rgb) });
                        let rings = rects
                            .iter()
                            .map(|r| PolygonRing {
                                points: vec![
                                    point(to_x(r.x), to_y(r.y)),
                                    point(to_x(r.x + r.w), to_y(r.y)),
                                    point(to_x(r.x + r.w), to_y(r.y + r.h)),
                                    point(to_x(r.x), to_y(r.y + r.h)),
                                ],
                            })
                            .collect();
                        ops.push(Op::DrawPolygon {
                            polygon: Polygon {
                                rings,
                                mode: PaintMode::Fill,
                                winding_order: WindingOrder::NonZero,
                            },
                        });
                    }
                    Shape::Text {
                        x,
                        baseline,
                        size,
                        bold,
                        rgb,
                        text,
                    } => {
                        used[usize::from(*bold)] = true;
                        let face = font::face(*bold);
                        ops.push(Op::SetFillColor { col: colour(*rgb) });
                        ops.push(Op::StartTextSection);
                        ops.push(Op::SetFont {
                            font: PdfFontHandle::External(FontId(face.resource.to_owned())),
                            size: Pt(*size),
                        });
                        ops.push(Op::SetTextCursor {
                            pos: Point {
                                x: Pt(to_x(*x)),
                                y: Pt(to_y(*baseline)),
                            },
                        });
                        ops.push(Op::ShowText {
                            items: vec![TextItem::Text(text.clone())],
                        });
                        ops.push(Op::EndTextSection);
                    }
                }
            }
            if page.cut_lines {
                let (w, h) = (placed.layout.width, placed.layout.height);
                ops.push(Op::SetOutlineColor {
                    col: colour([190, 190, 190]),
                });
                ops.push(Op::SetOutlineThickness { pt: Pt(0.25) });
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![
                            point(to_x(0.0), to_y(0.0)),
                            point(to_x(w), to_y(0.0)),
                            point(to_x(w), to_y(h)),
                            point(to_x(0.0), to_y(h)),
                        ],
                        is_closed: true,
                    },
                });
            }
        }
        pdf_pages.push(PdfPage::new(
            Mm(page.width / PT_PER_MM),
            Mm(page.height / PT_PER_MM),
            ops,
        ));
    }
    for (face, used) in font::all().into_iter().zip(used) {
        if used {
            doc.resources.fonts.map.insert(
                FontId(face.resource.to_owned()),
                PdfFont::new(face.parsed.clone()),
            );
        }
    }
    let mut warnings = Vec::new();
    let mut bytes = doc
        .with_pages(pdf_pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    fix_id(&mut bytes);
    bytes
}

/// printpdf writes a random document id into the trailer; replace it, in place and at the
/// same length, with one derived from the content, so the same badge gives the same bytes.
fn fix_id(bytes: &mut [u8]) {
    let Some(at) = find_last(bytes, b"/ID") else {
        return;
    };
    let hash = fnv(&bytes[..at]);
    let hex: Vec<u8> = format!(
        "{hash:016x}{:016x}",
        hash.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15
    )
    .into_bytes();
    let mut i = at;
    let end = bytes.len().min(at + 120);
    while i < end {
        if bytes[i] == b'(' {
            let start = i + 1;
            let Some(len) = bytes[start..end].iter().position(|&b| b == b')') else {
                return;
            };
            for (k, b) in bytes[start..start + len].iter_mut().enumerate() {
                *b = hex[k % hex.len()];
            }
            i = start + len;
        }
        i += 1;
    }
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// FNV-1a: enough to make an id that changes with the content.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
