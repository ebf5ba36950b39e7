//! Sheets for pre-printing: badges sorted by name, as many per A4 or Letter page as fit
//! (four A6, six 4 × 3 in), centred, with thin grey lines to cut along.

use serde::{Deserialize, Serialize};

use onsite_shared::text::fold;

use crate::RenderError;
use crate::layout::{BadgeData, Layout, PT_PER_MM, Warning, layout};
use crate::pdf;
use crate::template::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    pub fn mm(self) -> (f32, f32) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }

    pub fn media(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "Letter",
        }
    }
}

/// A warning about one badge of a sheet run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetWarning {
    pub ticket_code: String,
    pub warning: Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sheets {
    pub pdf: Vec<u8>,
    pub pages: usize,
    pub per_page: usize,
    /// The ticket codes in the order they were placed (by last name, then first name).
    pub order: Vec<String>,
    pub warnings: Vec<SheetWarning>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SheetError {
    #[error("a {w} × {h} mm badge does not fit on {paper:?} paper")]
    TooLarge { w: f32, h: f32, paper: Paper },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Lays out and renders every badge, sorted by name (accent- and case-blind), onto sheets.
pub fn render_sheets(
    template: &Template,
    paper: Paper,
    badges: &[BadgeData],
) -> Result<Sheets, SheetError> {
    let (paper_w, paper_h) = paper.mm();
    let (badge_w, badge_h) = template.page.mm();
    let cols = (paper_w / badge_w).floor() as usize;
    let rows = (paper_h / badge_h).floor() as usize;
    if cols == 0 || rows == 0 {
        return Err(SheetError::TooLarge {
            w: badge_w,
            h: badge_h,
            paper,
        });
    }
    let per_page = cols * rows;
    let mut sorted: Vec<&BadgeData> = badges.iter().collect();
    sorted.sort_by_cached_key(|b| {
        (
            fold(&b.last_name),
            fold(&b.first_name),
            b.ticket_code.clone(),
        )
    });
    let layouts: Vec<Layout> = sorted
        .iter()
        .map(|b| layout(template, b))
        .collect::<Result<_, _>>()?;
    let warnings = sorted
        .iter()
        .zip(&layouts)
        .flat_map(|(b, l)| {
            l.warnings.iter().map(|w| SheetWarning {
                ticket_code: b.ticket_code.clone(),
                warning: w.clone(),
            })
        })
        .collect();
    let (page_w, page_h) = (paper_w * PT_PER_MM, paper_h * PT_PER_MM);
    let (cell_w, cell_h) = (badge_w * PT_PER_MM, badge_h * PT_PER_MM);
    let left = (page_w - cols as f32 * cell_w) / 2.0;
    let top = (page_h - rows as f32 * cell_h) / 2.0;
    let pages: Vec<pdf::Page<'_>> = layouts
        .chunks(per_page)
        .map(|chunk| pdf::Page {
            width: page_w,
            height: page_h,
            badges: chunk
                .iter()
                .enumerate()
                .map(|(i, l)| pdf::Placed {
                    layout: l,
                    x: left + (i % cols) as f32 * cell_w,
                    y: top + (i / cols) as f32 * cell_h,
                })
                .collect(),
            cut_lines: true,
        })
        .collect();
    let bytes = pdf::write("Badges", &pages);
    Ok(Sheets {
        pdf: bytes,
        pages: pages.len(),
        per_page,
        order: sorted.iter().map(|b| b.ticket_code.clone()).collect(),
        warnings,
    })
}
