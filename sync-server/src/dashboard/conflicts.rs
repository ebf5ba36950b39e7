//! Conflicts: every compensation and flag of a conference, and head office's decisions on
//! them (record the refund, honour the sale over the quota, dismiss with a note, close). Each
//! decision is an event (see `head_office::resolve`) that the desks pull.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use onsite_shared::conflict::ConflictKind;
use onsite_shared::ids::ConflictId;
use onsite_shared::order::PaymentMethod;
use serde::Deserialize;

use super::{ConferencePage, Tab, failed, forbidden, form_is_ours, not_allowed, refused};
use crate::App;
use crate::head_office::{self, ConflictRow, Decision};
use crate::recorder::{Recorder, Rejected};
use crate::storage::Store;

pub(super) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/conferences/{conference}/conflicts", get(list::<S>))
        .route(
            "/conferences/{conference}/conflicts/{conflict}",
            post(decide::<S>),
        )
}

const METHODS: [(&str, &str); 4] = [
    ("cash", "cash"),
    ("card", "card"),
    ("invoice", "invoice (credit note)"),
    ("complimentary", "complimentary"),
];

/// Desk names by id, for saying where things happened.
type DeskNames = std::collections::HashMap<String, String>;
/// Walk-in tickets by id: their code and holder.
type Holders = std::collections::HashMap<String, (String, String)>;

fn desk(names: &DeskNames, id: &impl ToString) -> String {
    let id = id.to_string();
    names.get(&id).cloned().unwrap_or(id)
}

fn detail(
    kind: &ConflictKind,
    names: &DeskNames,
    holders: &Holders,
    conf: &ConferencePage,
) -> Markup {
    let registration = |code: &str| {
        html! { a href=(conf.href(&format!("/registrations/{code}"))) { (code) } }
    };
    let time = |at: &chrono::DateTime<chrono::Utc>| at.format("%H:%M:%S").to_string();
    match kind {
        ConflictKind::WalkInRejected {
            order,
            desk: d,
            tickets,
            refund_due,
        } => html! {
            "Walk-in sale at desk " (desk(names, d)) " (order " (order)
            "): withdrawn because the seats were gone: "
            @for (i, t) in tickets.iter().enumerate() {
                @if i > 0 { ", " }
                @match holders.get(&t.to_string()) {
                    Some((code, name)) => { (name) " (" (registration(code)) ")" }
                    None => { (t) }
                }
            }
            ". " strong { "Refund due " (refund_due) } "."
        },
        ConflictKind::DuplicateAdmission {
            code,
            first,
            duplicate,
        } => html! {
            "Ticket " (registration(code.as_str())) " admitted twice: first at gate " (first.gate)
            " (desk " (desk(names, &first.desk)) ", " (time(&first.at)) "), again at gate "
            (duplicate.gate) " (desk " (desk(names, &duplicate.desk)) ", " (time(&duplicate.at))
            ")."
        },
        ConflictKind::DuplicateHandOut {
            code,
            item,
            first,
            duplicate,
        } => html! {
            (item) " handed out twice to ticket " (registration(code.as_str())) ": by desk "
            (desk(names, &first.desk)) " at " (time(&first.at))
            @if let Some(s) = &first.size { " (size " (s) ")" }
            ", again by desk " (desk(names, &duplicate.desk)) " at " (time(&duplicate.at))
            @if let Some(s) = &duplicate.size { " (size " (s) ")" }
            "."
        },
        ConflictKind::RoomEntry {
            code,
            room,
            visit,
            breach,
        } => html! {
            "Ticket " (registration(code.as_str())) " let into " (room) " by desk "
            (desk(names, &visit.desk)) " at " (time(&visit.at)) " without a reason: "
            (breach.to_string()) "."
        },
        ConflictKind::AdmissionOutsideRules {
            code,
            admission,
            breach,
            by_clock,
        } => html! {
            "Ticket " (registration(code.as_str())) " admitted at gate " (admission.gate)
            " by desk " (desk(names, &admission.desk)) " outside its rules: " (breach.to_string())
            @if *by_clock { " — the desk's clock was off, so it did not know" }
            "."
        },
        ConflictKind::InvalidTicketAdmission {
            code,
            admission,
            status,
        } => html! {
            "Ticket " (code) " (" (format!("{status:?}").to_lowercase()) ") admitted at gate "
            (admission.gate) " by desk " (desk(names, &admission.desk)) " at "
            (time(&admission.at)) "."
        },
        ConflictKind::PaymentAfterExpiry { order, payment } => html! {
            "Order " (order) " was paid after its reservation expired (" (format!("{payment:?}"))
            ")."
        },
        ConflictKind::SaleRefused {
            order,
            desk: d,
            reason,
            amount_taken,
        } => html! {
            "Walk-in sale at desk " (desk(names, d)) " (order " (order)
            ") refused by the server (" (reason) "): nothing of it was recorded. "
            strong { "The desk says it took " (amount_taken) } "."
        },
    }
}

/// One decision on a conflict: a form that posts it, with `fields` before its button.
fn action(csrf: &str, href: &str, decision: &str, fields: &Markup, button: &str) -> Markup {
    html! {
        form.act method="post" action=(href) data-decision=(decision) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="decision" value=(decision);
            (fields)
            button { (button) }
        }
    }
}

fn note(required: bool, placeholder: &str) -> Markup {
    html! {
        input name="note" placeholder=(placeholder) size="24" required[required];
        " "
    }
}

fn actions(csrf: &str, href: &str, kind: &ConflictKind) -> Markup {
    let money_back = matches!(
        kind,
        ConflictKind::WalkInRejected { .. }
            | ConflictKind::PaymentAfterExpiry { .. }
            | ConflictKind::SaleRefused { .. }
    );
    let refund = html! {
        select name="method" {
            @for (value, label) in METHODS { option value=(value) { (label) } }
        }
        " "
        (note(false, "reference (optional)"))
    };
    html! {
        @if money_back {
            (action(csrf, href, "refund", &refund, "Record refund"))
        }
        @if matches!(kind, ConflictKind::WalkInRejected { .. }) {
            (action(csrf, href, "honour", &note(false, "why (e.g. extra chairs)"),
                "Honour the sale over the quota"))
        }
        @if !money_back {
            (action(csrf, href, "close", &note(false, "note (optional)"), "Close"))
        }
        (action(csrf, href, "dismiss", &note(true, "why (required)"), "Dismiss"))
    }
}

fn resolution_text(row: &ConflictRow) -> String {
    row.resolution
        .clone()
        .and_then(|r| serde_json::from_value::<onsite_shared::conflict::Resolution>(r).ok())
        .map(|r| head_office::resolution_words(&r))
        .unwrap_or_default()
}

async fn list<S: Store>(State(app): State<Arc<App<S>>>, conf: ConferencePage) -> Response {
    let id = conf.id;
    let read = app
        .store
        .read(move |tx| {
            let rows = head_office::conflicts(tx, id, false)?;
            let names: DeskNames = crate::devices::list(tx, Some(id))?
                .into_iter()
                .map(|d| (d.device_id, d.name))
                .collect();
            let holders: Holders = tx
                .query(
                    "SELECT ticket, code, first_name, last_name FROM tickets WHERE conference = $1 AND origin = 'walk_in'",
                    crate::params![id.to_string()],
                )?
                .iter()
                .map(|r| Ok((r.text(0)?, (r.text(1)?, format!("{} {}", r.text(2)?, r.text(3)?)))))
                .collect::<Result<_, crate::storage::StoreError>>()?;
            Ok::<_, crate::storage::StoreError>((rows, names, holders))
        })
        .await;
    let (rows, names, holders) = match read {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let (open, closed): (Vec<&ConflictRow>, Vec<&ConflictRow>) =
        rows.iter().partition(|r| r.resolved_at.is_none());
    let body = html! {
        p #open-count data-open=(open.len()) { (open.len()) " open conflict(s)." }
        @for row in &open {
            @if let Ok(kind) = serde_json::from_value::<ConflictKind>(row.detail.clone()) {
                section.card.conflict id={ "conflict-" (row.conflict_id) } data-kind=(row.kind) {
                    h3 { (kind.label()) }
                    p { (detail(&kind, &names, &holders, &conf)) }
                    p.muted {
                        "Opened " (row.opened_at)
                        @if row.acknowledged { "; acknowledged at the door" }
                    }
                    @if conf.session.role.operates() {
                        (actions(
                            &conf.session.csrf,
                            &conf.href(&format!("/conflicts/{}", row.conflict_id)),
                            &kind,
                        ))
                    }
                }
            }
        }
        h2 { "Resolved" }
        div.scroll {
            table #resolved {
                tr {
                    th { "What" } th { "Opened" } th { "Resolved" } th { "Resolution" }
                    th { "Note" }
                }
                @for row in closed.iter().rev() {
                    tr id={ "resolved-" (row.conflict_id) } {
                        td {
                            @match serde_json::from_value::<ConflictKind>(row.detail.clone()) {
                                Ok(kind) => { (kind.label()) }
                                Err(_) => { (row.kind) }
                            }
                        }
                        td { (row.opened_at) }
                        td { (row.resolved_at.as_deref().unwrap_or_default()) }
                        td { (resolution_text(row)) }
                        td { (row.note.as_deref().unwrap_or_default()) }
                    }
                }
            }
        }
    };
    conf.render(Tab::Conflicts, "Conflicts", true, &body)
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    note: String,
}

async fn decide<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, conflict)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if !form_is_ours(&headers, &conf.session, &form.csrf) {
        return forbidden();
    }
    if !conf.session.role.operates() {
        return not_allowed(&conf.session, "deciding conflicts");
    }
    let back = conf.href("/conflicts");
    let Ok(conflict) = conflict.parse::<ConflictId>() else {
        return refused(&conf.session, "There is no such conflict.", &back);
    };
    let method = match form.method.as_str() {
        "cash" => Some(PaymentMethod::Cash),
        "card" => Some(PaymentMethod::Card),
        "invoice" => Some(PaymentMethod::Invoice),
        "complimentary" => Some(PaymentMethod::Complimentary),
        _ => None,
    };
    let decision = match (form.decision.as_str(), method) {
        ("refund", Some(m)) => Decision::RecordRefund(m),
        ("refund", None) => return refused(&conf.session, "Say how the money went back.", &back),
        ("honour", _) => Decision::HonourSale,
        ("dismiss", _) => Decision::Dismiss,
        ("close", _) => Decision::Close,
        _ => {
            return refused(
                &conf.session,
                "That is not a decision this page offers.",
                &back,
            );
        }
    };
    let (id, user, note) = (conf.id, conf.session.email.clone(), form.note);
    let now = chrono::Utc::now();
    let done = app
        .store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, id, now);
            head_office::resolve(&mut rec, conflict, decision, &user, &note)
        })
        .await;
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(Rejected::Domain { message, .. }) => refused(&conf.session, &message, &back),
        Err(Rejected::Store(e)) => failed(e),
    }
}
