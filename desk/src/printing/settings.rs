//! The desk's print settings: its badge printer, the auto-print policy and the badge
//! templates.
//!
//! Head office sets the conference's templates, a template per attendee type and defaults for
//! every desk (`conference.badge_templates_set`, `…attendee_type_template_set`,
//! `…desk_defaults_set`, pulled like any event). What staff choose at this desk wins over head
//! office's defaults:
//! - templates: a set loaded at this desk, else the conference's (or the built-in set);
//! - the template for a badge: the one chosen at this desk (it knows the media in its
//!   printer), else the holder's attendee type's, else the desk defaults', else the first;
//! - printer and auto-print: this desk's, else the desk defaults', else none and
//!   `if_never_printed`.

use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use onsite_badge::{Template, TemplateSet};
use onsite_shared::badge::AutoPrint;
use onsite_shared::conference::Conference;
use onsite_shared::ids::AttendeeTypeId;

use super::clean;
use crate::error::DeskError;
use crate::store::{Desk, set_setting, setting};

/// The desk's print settings, as they take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PrintSettings {
    pub printer: Option<String>,
    pub auto_print: AutoPrint,
    /// The template this desk prints every badge with; `None`: head office's choice, per
    /// attendee type.
    pub template: Option<String>,
    /// The template a badge gets when neither this desk nor the holder's attendee type names
    /// one.
    pub default_template: String,
}

pub(super) fn auto_print_setting(
    conn: &Connection,
    conf: &Conference,
) -> Result<AutoPrint, DeskError> {
    Ok(match setting(conn, "auto_print")?.as_deref() {
        Some("always") => AutoPrint::Always,
        Some("never") => AutoPrint::Never,
        Some(_) => AutoPrint::IfNeverPrinted,
        None => conf.desk_defaults.auto_print.unwrap_or_default(),
    })
}

/// The print queue this desk sends badges to: its own choice, else head office's default.
pub(super) fn printer(conn: &Connection, conf: &Conference) -> Result<Option<String>, DeskError> {
    Ok(setting(conn, "printer")?.or_else(|| conf.desk_defaults.printer.clone()))
}

pub(super) fn templates(conn: &Connection, conf: &Conference) -> Result<TemplateSet, DeskError> {
    match setting(conn, "badge_templates")? {
        Some(json) => TemplateSet::from_json(&json)
            .map_err(|e| DeskError::Corrupt(format!("stored badge templates: {e}"))),
        None => Ok(conf.templates().clone()),
    }
}

/// The template for a holder of `attendee_types` (see the module's order), with its id.
pub(super) fn template_for(
    conn: &Connection,
    conf: &Conference,
    attendee_types: &[AttendeeTypeId],
) -> Result<(String, Template), DeskError> {
    let set = templates(conn, conf)?;
    let chosen = setting(conn, "badge_template")?;
    let template = [chosen.as_deref(), Some(conf.template_for(attendee_types))]
        .into_iter()
        .flatten()
        .find_map(|id| set.get(id).ok())
        .unwrap_or_else(|| set.first());
    Ok((template.id.clone(), template.clone()))
}

/// The paper this desk's badges print on by default (IPP `media`).
pub(crate) fn default_media(conn: &Connection, conf: &Conference) -> Result<String, DeskError> {
    Ok(template_for(conn, conf, &[])?.1.page.media())
}

impl Desk {
    /// The conference as this desk knows it (empty before enrolment and the first pull).
    fn known_conference(&self, conn: &Connection) -> Result<Arc<Conference>, DeskError> {
        match Desk::identity(conn) {
            Ok(id) => self.conference(conn, id),
            Err(DeskError::NotEnrolled) => Ok(Arc::default()),
            Err(e) => Err(e),
        }
    }

    pub fn print_settings(&self) -> Result<PrintSettings, DeskError> {
        self.read(|conn| {
            let conf = self.known_conference(conn)?;
            let set = templates(conn, &conf)?;
            Ok(PrintSettings {
                printer: printer(conn, &conf)?,
                auto_print: auto_print_setting(conn, &conf)?,
                template: setting(conn, "badge_template")?.filter(|id| set.get(id).is_ok()),
                default_template: template_for(conn, &conf, &[])?.0,
            })
        })
    }

    /// Chooses this desk's badge printer (a spooler queue name); `None` forgets it (and the
    /// desk defaults' printer applies, if head office set one).
    pub fn set_printer(&self, printer: Option<&str>) -> Result<(), DeskError> {
        let printer = clean(printer);
        self.write(|tx| match printer {
            Some(p) => set_setting(tx, "printer", &p),
            None => {
                tx.execute("DELETE FROM settings WHERE key = 'printer'", [])?;
                Ok(())
            }
        })
    }

    pub fn set_auto_print(&self, policy: AutoPrint) -> Result<(), DeskError> {
        let value = match policy {
            AutoPrint::Always => "always",
            AutoPrint::IfNeverPrinted => "if_never_printed",
            AutoPrint::Never => "never",
        };
        self.write(|tx| set_setting(tx, "auto_print", value))
    }

    /// The badge templates this desk can use: loaded here, else the conference's.
    pub fn badge_templates(&self) -> Result<TemplateSet, DeskError> {
        self.read(|conn| {
            let conf = self.known_conference(conn)?;
            templates(conn, &conf)
        })
    }

    /// Loads a template set (JSON, format 1) at this desk, in place of the conference's. A
    /// set that does not read changes nothing.
    pub fn set_badge_templates(&self, json: &str) -> Result<(), DeskError> {
        let set = TemplateSet::from_json(json).map_err(|e| DeskError::BadInput(e.to_string()))?;
        let text = serde_json::to_string(&set)?;
        self.write(|tx| set_setting(tx, "badge_templates", &text))
    }

    /// Prints every badge at this desk with template `id`; an empty id goes back to head
    /// office's choice per attendee type.
    pub fn set_badge_template(&self, id: &str) -> Result<(), DeskError> {
        let id = id.trim();
        self.write(|tx| {
            if id.is_empty() {
                tx.execute("DELETE FROM settings WHERE key = 'badge_template'", [])?;
                return Ok(());
            }
            let conf = self.known_conference(tx)?;
            templates(tx, &conf)?
                .get(id)
                .map_err(|e| DeskError::BadInput(e.to_string()))?;
            set_setting(tx, "badge_template", id)
        })
    }
}
