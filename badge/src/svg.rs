//! The same layout as the PDF, as SVG: the badge preview a screen shows before printing.
//! Text is set in DejaVu Sans, whose metrics the layout measured with; a screen without that
//! font shows the preview in a near substitute (the printed badge embeds the font).

use std::fmt::Write as _;

use onsite_shared::text::escape_markup;

use crate::layout::{Layout, Shape};

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// One badge as an SVG document, sized in points like the PDF.
pub(crate) fn write(layout: &Layout) -> String {
    let (w, h) = (layout.width, layout.height);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.2} {h:.2}\" \
         width=\"{w:.2}pt\" height=\"{h:.2}pt\">\
         <rect width=\"{w:.2}\" height=\"{h:.2}\" fill=\"#ffffff\"/>"
    );
    for shape in &layout.shapes {
        match shape {
            Shape::Fill { rgb, rects } => {
                let mut d = String::new();
                for r in rects {
                    let _ = write!(
                        d,
                        "M{:.2} {:.2}h{:.2}v{:.2}h{:.2}z",
                        r.x, r.y, r.w, r.h, -r.w
                    );
                }
                let _ = write!(out, "<path fill=\"{}\" d=\"{d}\"/>", hex(*rgb));
            }
            Shape::Text {
                x,
                baseline,
                size,
                bold,
                rgb,
                text,
            } => {
                let _ = write!(
                    out,
                    "<text x=\"{x:.2}\" y=\"{baseline:.2}\" font-family=\"DejaVu Sans\" \
                     font-size=\"{size:.2}\" font-weight=\"{}\" fill=\"{}\" \
                     xml:space=\"preserve\">{}</text>",
                    if *bold { "bold" } else { "normal" },
                    hex(*rgb),
                    escape_markup(text)
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}
