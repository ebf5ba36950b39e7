//! Gates on the set-up page: each gate desks may be set to, with its direction and zone (add
//! or change one, take one away), and the zones that let nobody back in.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use onsite_shared::conference::{Conference, Gate, GateDirection, Gates};
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
