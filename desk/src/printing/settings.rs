//! The desk's print settings: its badge printer, the auto-print policy and the badge
//! templates (a set loaded from JSON, or the default set).

use rusqlite::Connection;
use serde::Serialize;

use onsite_badge::TemplateSet;
use onsite_shared::badge::AutoPrint;

use super::clean;
use crate::error::DeskError;
use crate::store::{Desk, set_setting, setting};

/// The desk's print settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PrintSettings {
    pub printer: Option<String>,
    pub auto_print: AutoPrint,
    pub template: String,
}

pub(super) fn auto_print_setting(conn: &Connection) -> Result<AutoPrint, DeskError> {
    Ok(match setting(conn, "auto_print")?.as_deref() {
        Some("always") => AutoPrint::Always,
        Some("never") => AutoPrint::Never,
        _ => AutoPrint::IfNeverPrinted,
    })
}

pub(super) fn templates(conn: &Connection) -> Result<TemplateSet, DeskError> {
    match setting(conn, "badge_templates")? {
        Some(json) => TemplateSet::from_json(&json)
            .map_err(|e| DeskError::Corrupt(format!("stored badge templates: {e}"))),
        None => Ok(TemplateSet::default_set()),
    }
}

pub(super) fn template_id(conn: &Connection, set: &TemplateSet) -> Result<String, DeskError> {
    Ok(setting(conn, "badge_template")?
        .filter(|id| set.get(id).is_ok())
        .unwrap_or_else(|| set.first().id.clone()))
}

impl Desk {
    pub fn print_settings(&self) -> Result<PrintSettings, DeskError> {
        self.read(|conn| {
            let set = templates(conn)?;
            Ok(PrintSettings {
                printer: setting(conn, "printer")?,
                auto_print: auto_print_setting(conn)?,
                template: template_id(conn, &set)?,
            })
        })
    }

    /// Chooses this desk's badge printer (a spooler queue name); `None` forgets it.
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

    /// The badge templates this desk can use (the default set until others are loaded).
    pub fn badge_templates(&self) -> Result<TemplateSet, DeskError> {
        self.read(templates)
    }

    /// Loads a template set (JSON, format 1). A set that does not read changes nothing.
    pub fn set_badge_templates(&self, json: &str) -> Result<(), DeskError> {
        let set = TemplateSet::from_json(json).map_err(|e| DeskError::BadInput(e.to_string()))?;
        let text = serde_json::to_string(&set)?;
        self.write(|tx| set_setting(tx, "badge_templates", &text))
    }

    pub fn set_badge_template(&self, id: &str) -> Result<(), DeskError> {
        self.write(|tx| {
            templates(tx)?
                .get(id)
                .map_err(|e| DeskError::BadInput(e.to_string()))?;
            set_setting(tx, "badge_template", id)
        })
    }
}
