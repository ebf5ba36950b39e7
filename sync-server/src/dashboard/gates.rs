//! Gates on the set-up page: each gate desks may be set to, with its direction and zone (add
//! or change one, take one away), the zones that let nobody back in, and what the check-in
//! card shows.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use onsite_shared::conference::{CardField, Conference, Gate, GateDirection, Gates, ResultCard};
use onsite_shared::event::StreamId;
use serde::Deserialize;

use super::ConferencePage;
use super::setup::change;
use crate::App;
use crate::admin;
use crate::recorder::{Recorder, Rejected};
use crate::storage::Store;

fn direction_text(d: GateDirection) -> &'static str {
    match d {
        GateDirection::In => "in",
        GateDirection::Out => "out",
        GateDirection::Both => "both",
    }
}

/// The Gates section of the set-up page.
pub(super) fn section(conf: &ConferencePage, manages: bool) -> Markup {
    let g = &conf.conference.gates;
    html! {
        h2 { "Gates" }
        p.muted { "A gate that is not listed is an entrance to the venue. Inside now counts each person once, whatever gates they used." }
        table #gates {
            tr { th { "Gate" } th { "Direction" } th { "Zone" } @if manages { th {} } }
            @for gate in &g.gates {
                tr data-gate=(gate.name) {
                    td { (gate.name) }
                    td { (direction_text(gate.direction)) }
                    td { (gate.zone) }
                    @if manages {
                        td {
                            form.act method="post" action=(conf.href("/setup/gates/remove")) {
                                input type="hidden" name="csrf" value=(conf.session.csrf);
                                input type="hidden" name="name" value=(gate.name);
                                button.remove-gate { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        p #no-reentry { "No re-entry in: " @if g.no_reentry.is_empty() { "—" } @else { (g.no_reentry.join(", ")) } }
        (card_form(conf, manages))
        @if manages {
            form.card method="post" action=(conf.href("/setup/gates")) #gate-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Gate " input #gate-name name="name" required size="14" placeholder="north exit"; }
                label.inline {
                    "Direction "
                    select #gate-direction name="direction" {
                        option value="in" { "in" } option value="out" { "out" } option value="both" { "both" }
                    }
                }
                label.inline { "Zone " input #gate-zone name="zone" size="12" placeholder="venue"; }
                button #save-gate { "Add or change the gate" }
            }
            form.card method="post" action=(conf.href("/setup/gates/no-reentry")) #no-reentry-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Zones without re-entry " input #no-reentry-zones name="zones" size="30" value=(g.no_reentry.join(", ")) placeholder="workshop, reception"; }
                button #save-no-reentry { "Save" }
            }
        }
    }
}

const STANDARD: [(CardField, &str); 7] = [
    (CardField::SeatType, "ticket"),
    (CardField::Company, "company"),
    (CardField::AttendeeType, "attendee type"),
    (CardField::AddOns, "add-ons"),
    (CardField::HandOuts, "hand-outs"),
    (CardField::Note, "note (in red)"),
    (CardField::Email, "email"),
];

fn field_value(f: &CardField) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What the check-in card shows at every gate (a gate's own list is set through the API).
fn card_form(conf: &ConferencePage, manages: bool) -> Markup {
    let card = &conf.conference.result_card;
    let custom: Vec<&str> = card
        .fields
        .iter()
        .filter_map(|f| match f {
            CardField::Custom(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    html! {
        h3 { "The check-in card" }
        p #card-fields {
            "Shows the name, then: "
            (card.fields.iter().map(|f| match f {
                CardField::Custom(n) => n.clone(),
                other => STANDARD.iter().find(|(s, _)| s == other).map_or_else(String::new, |(_, t)| (*t).to_owned()),
            }).collect::<Vec<_>>().join(", "))
            @if !card.gates.is_empty() { " (" (card.gates.len()) " gate(s) have their own)" }
        }
        @if manages {
            form.card method="post" action=(conf.href("/setup/card")) #card-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                @for (f, text) in &STANDARD {
                    label.inline {
                        input type="checkbox" name="field" value=(field_value(f)) checked[card.fields.contains(f)];
                        " " (text)
                    }
                }
                label.inline { "Custom fields " input #card-custom name="custom" size="24" value=(custom.join(", ")) placeholder="dietary, t-shirt size"; }
                button #save-card { "Save the card" }
            }
        }
    }
}

pub(super) async fn save_card<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let mut csrf = String::new();
    let mut fields = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "csrf" => csrf = value,
            "field" => match STANDARD.iter().find(|(f, _)| field_value(f) == value) {
                Some((f, _)) => fields.push(f.clone()),
                None => {
                    return super::refused(
                        &conf.session,
                        "Not a field of the card.",
                        &conf.href("/setup"),
                    );
                }
            },
            "custom" => fields.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(|n| CardField::Custom(n.to_owned())),
            ),
            _ => {}
        }
    }
    change(&app, &conf, &headers, &csrf, move |rec| {
        let (c, _) = rec.load::<Conference>(&StreamId::conference(rec.conference))?;
        let card = ResultCard {
            fields: fields.clone(),
            gates: c.result_card.gates,
        };
        admin::set_result_card(rec, &card)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct GateForm {
    csrf: String,
    name: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    zone: String,
}

#[derive(Deserialize)]
pub(super) struct ZonesForm {
    csrf: String,
    #[serde(default)]
    zones: String,
}

/// The conference's gates now, changed by `edit`, then set.
fn set(rec: &mut Recorder<'_>, edit: impl FnOnce(&mut Gates)) -> Result<(), Rejected> {
    let (conf, _) = rec.load::<Conference>(&StreamId::conference(rec.conference))?;
    let mut gates = conf.gates;
    edit(&mut gates);
    admin::set_gates(rec, &gates)
}

pub(super) async fn save<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<GateForm>,
) -> Response {
    let direction = match form.direction.as_str() {
        "" | "in" => GateDirection::In,
        "out" => GateDirection::Out,
        "both" => GateDirection::Both,
        _ => {
            return super::refused(
                &conf.session,
                "A gate's direction is in, out or both.",
                &conf.href("/setup"),
            );
        }
    };
    let gate = Gate {
        name: form.name.clone(),
        direction,
        zone: form.zone.clone(),
    };
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        let gate = gate.clone();
        set(rec, |g| {
            match g
                .gates
                .iter_mut()
                .find(|o| o.name.eq_ignore_ascii_case(gate.name.trim()))
            {
                Some(o) => *o = gate,
                None => g.gates.push(gate),
            }
        })
    })
    .await
}

pub(super) async fn remove<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<GateForm>,
) -> Response {
    let name = form.name.clone();
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        set(rec, |g| {
            g.gates
                .retain(|o| !o.name.eq_ignore_ascii_case(name.trim()))
        })
    })
    .await
}

pub(super) async fn no_reentry<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path(_): Path<String>,
    Form(form): Form<ZonesForm>,
) -> Response {
    let zones: Vec<String> = form
        .zones
        .split(',')
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
        .collect();
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        let zones = zones.clone();
        set(rec, |g| g.no_reentry = zones)
    })
    .await
}
