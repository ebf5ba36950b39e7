//! A badge as head office previews it before any desk prints one: a conference's template
//! drawn for a sample attendee of a chosen attendee type, by the same layout code the desks
//! print with (`onsite-badge`), so the preview and the paper cannot disagree.

use onsite_badge::{BadgeData, Warning};
use onsite_shared::conference::{Conference, SeatKind};
use onsite_shared::error_code;
use onsite_shared::ids::AttendeeTypeId;

use crate::recorder::Rejected;

/// A sample attendee: a name of ordinary length, a company, the conference's first two add-ons.
pub fn sample(conf: &Conference, attendee_type: Option<&AttendeeTypeId>) -> BadgeData {
    let admission = conf
        .seat_types
        .values()
        .find(|s| s.kind == SeatKind::Admission)
        .map_or("Attendee", |s| s.name.as_str());
    let types: Vec<AttendeeTypeId> = attendee_type.into_iter().cloned().collect();
    BadgeData {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        company: "Analytical Engines Ltd".into(),
        entitlements: conf
            .seat_types
            .values()
            .filter(|s| s.kind == SeatKind::AddOn)
            .take(2)
            .map(|s| s.name.clone())
            .collect(),
        ticket_code: "K7QF-3XP9".into(),
        ..BadgeData::of_conference(conf, &types, admission)
    }
}

/// Template `template` of the conference's set drawn for the sample attendee, as SVG, with
/// what would not fit.
pub fn svg(
    conf: &Conference,
    template: &str,
    attendee_type: Option<&AttendeeTypeId>,
) -> Result<(String, Vec<Warning>), Rejected> {
    let template = conf
        .templates()
        .get(template)
        .map_err(|e| Rejected::Domain {
            code: error_code::BADGE_TEMPLATE_NOT_FOUND,
            message: e.to_string(),
        })?;
    if let Some(a) = attendee_type
        && !conf.attendee_types.contains_key(a)
    {
        return Err(Rejected::Domain {
            code: "conference.unknown_attendee_type",
            message: format!("attendee type {a} does not exist"),
        });
    }
    onsite_badge::render_svg(template, &sample(conf, attendee_type)).map_err(|e| Rejected::Domain {
        code: error_code::BADGE_CANNOT_RENDER,
        message: e.to_string(),
    })
}
