//! What goes on a badge, and the badge rendered: the PDF that prints, the SVG the screen shows
//! (the same layout, so the screen and the paper cannot disagree).

use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use onsite_badge::{BadgeData, Warning};
use onsite_shared::conference::Conference;

use super::settings::template_for;
use crate::error::DeskError;
use crate::roster::{self, RosterEntry};
use crate::store::{Desk, Identity};

/// A badge rendered for the screen, before anything is printed.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BadgePreview {
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub warnings: Vec<Warning>,
    pub template: String,
    pub width_mm: f32,
    pub height_mm: f32,
    pub media: String,
}

/// A badge preview for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BadgeSvg {
    pub svg: String,
    pub warnings: Vec<Warning>,
    pub template: String,
}

/// What goes on a ticket holder's badge.
pub(crate) fn badge_data(conf: &Conference, entry: &RosterEntry) -> BadgeData {
    BadgeData {
        // The name the person goes by, when the registration says one.
        first_name: entry
            .preferred_name
            .clone()
            .unwrap_or_else(|| entry.first_name.clone()),
        last_name: entry.last_name.clone(),
        company: entry.company.clone(),
        entitlements: entry.entitlements.clone(),
        ticket_code: entry.code.to_string(),
        pronouns: entry.pronouns.clone().unwrap_or_default(),
        ..BadgeData::of_conference(conf, &entry.attendee_types, &entry.seat_type_name)
    }
}

/// The holder's badge rendered with the template it gets at this desk.
pub(super) fn render(
    conn: &Connection,
    conf: &Conference,
    entry: &RosterEntry,
) -> Result<BadgePreview, DeskError> {
    let (id, template) = template_for(conn, conf, &entry.attendee_types)?;
    let rendered = onsite_badge::render_badge(&template, &badge_data(conf, entry))
        .map_err(|e| DeskError::BadInput(e.to_string()))?;
    let (width_mm, height_mm) = template.page.mm();
    Ok(BadgePreview {
        pdf: rendered.pdf,
        warnings: rendered.warnings,
        template: id,
        width_mm,
        height_mm,
        media: template.page.media(),
    })
}

impl Desk {
    pub(super) fn known_entry(
        &self,
        conn: &Connection,
        id: Identity,
        code: &str,
    ) -> Result<(Arc<Conference>, RosterEntry), DeskError> {
        let parsed = crate::roster::code_of(code)?;
        let conf = self.conference(conn, id)?;
        let entry = roster::entry(conn, &conf, &parsed)?
            .ok_or_else(|| DeskError::NoSuchTicket(code.trim().to_owned()))?;
        Ok((conf, entry))
    }
}

impl Desk {
    /// The ticket holder's badge, rendered with the desk's template: for the screen, and to
    /// see the warnings before printing.
    pub fn badge_preview(&self, code: &str) -> Result<BadgePreview, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            render(conn, &conf, &entry)
        })
    }

    /// The badge as the screen previews it (SVG of the same layout), with its warnings.
    pub fn badge_svg(&self, code: &str) -> Result<BadgeSvg, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            let (template_id, template) = template_for(conn, &conf, &entry.attendee_types)?;
            let (svg, warnings) = onsite_badge::render_svg(&template, &badge_data(&conf, &entry))
                .map_err(|e| DeskError::BadInput(e.to_string()))?;
            Ok(BadgeSvg {
                svg,
                warnings,
                template: template_id,
            })
        })
    }

    /// Every badge's data, for sheets printed ahead of the event.
    pub fn badge_data(&self, code: &str) -> Result<BadgeData, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            Ok(badge_data(&conf, &entry))
        })
    }
}
