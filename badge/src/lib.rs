//! Onsite badges: templates as data, laid out and rendered to PDF. Pure: no I/O, no clock.
//!
//! - [`template`]: the versioned layout description and the default set.
//! - [`layout()`]: where everything goes on one badge, and [`Warning`]s for what does not fit
//!   (checked before anything is printed).
//! - [`render_badge`]: one badge as a one-page PDF of the template's page size.
//! - [`render_svg`]: the same badge as SVG, for a preview on screen.
//! - [`render_sheets`]: many badges, sorted by name, several per A4 or Letter page.
//!
//! The same template and data always give the same bytes.

mod font;
mod layout;
mod pdf;
mod sheet;
mod svg;

pub use layout::{BadgeData, Layout, Rect, Shape, Warning, layout, on};
pub use onsite_shared::badge_template as template;
pub use sheet::{Paper, SheetError, SheetWarning, Sheets, render_sheets};
pub use template::{PageSize, Template, TemplateError, TemplateSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the ticket code cannot be drawn as a QR code: {0}")]
    Qr(String),
}

/// One badge, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub warnings: Vec<Warning>,
    pub page: PageSize,
}

/// Renders one badge as a one-page PDF of the template's page size.
pub fn render_badge(template: &Template, data: &BadgeData) -> Result<Rendered, RenderError> {
    let laid = layout(template, data)?;
    let page = pdf::Page {
        width: laid.width,
        height: laid.height,
        badges: vec![pdf::Placed {
            layout: &laid,
            x: 0.0,
            y: 0.0,
        }],
        cut_lines: false,
    };
    let bytes = pdf::write(&format!("Badge {}", data.ticket_code), &[page]);
    Ok(Rendered {
        pdf: bytes,
        warnings: laid.warnings,
        page: template.page,
    })
}

/// The same badge as an SVG document (the preview a screen shows), with the same warnings.
pub fn render_svg(
    template: &Template,
    data: &BadgeData,
) -> Result<(String, Vec<Warning>), RenderError> {
    let laid = layout(template, data)?;
    Ok((svg::write(&laid), laid.warnings))
}

#[cfg(test)]
mod tests;
