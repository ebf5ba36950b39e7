//! Conflicts: every compensation and flag of a conference, and head office's decisions on
//! them (record the refund, honour the sale over the quota, dismiss with a note, close). Each
//! decision is an event (see `head_office::resolve`) that the desks pull.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use onsite_shared::conflict::ConflictKind;
use onsite_shared::ids::ConflictId;
use onsite_shared::order::PaymentMethod;
use serde::Deserialize;

use super::{ConferencePage, Tab, esc, failed, forbidden, form_is_ours, refused};
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
    esc(names.get(&id).unwrap_or(&id))
}

fn detail(
    kind: &ConflictKind,
    names: &DeskNames,
    holders: &Holders,
    conf: &ConferencePage,
) -> String {
    let registration = |code: &str| {
        format!(
            "<a href=\"{}\">{}</a>",
            conf.href(&format!("/registrations/{}", esc(code))),
            esc(code)
        )
    };
    match kind {
        ConflictKind::WalkInRejected {
            order,
            desk: d,
            tickets,
            refund_due,
        } => {
            let who: Vec<String> = tickets
                .iter()
                .map(|t| {
                    holders.get(&t.to_string()).map_or_else(
                        || esc(&t.to_string()),
                        |(code, name)| format!("{} ({})", esc(name), registration(code)),
                    )
                })
                .collect();
            format!(
                "Walk-in sale at desk {} (order {order}): withdrawn because the seats were gone: {}. \
                 <strong>Refund due {}</strong>.",
                desk(names, d),
                who.join(", "),
                esc(&refund_due.to_string())
            )
        }
        ConflictKind::DuplicateAdmission {
            code,
            first,
            duplicate,
        } => format!(
            "Ticket {} admitted twice: first at gate {} (desk {}, {}), again at gate {} (desk {}, {}).",
            registration(code.as_str()),
            esc(&first.gate),
            desk(names, &first.desk),
            first.at.format("%H:%M:%S"),
            esc(&duplicate.gate),
            desk(names, &duplicate.desk),
            duplicate.at.format("%H:%M:%S")
        ),
        ConflictKind::InvalidTicketAdmission {
            code,
            admission,
            status,
        } => format!(
            "Ticket {} ({}) admitted at gate {} by desk {} at {}.",
            esc(code.as_str()),
            format!("{status:?}").to_lowercase(),
            esc(&admission.gate),
            desk(names, &admission.desk),
            admission.at.format("%H:%M:%S")
        ),
        ConflictKind::PaymentAfterExpiry { order, payment } => {
            format!("Order {order} was paid after its reservation expired ({payment:?}).")
        }
        ConflictKind::SaleRefused {
            order,
            desk: d,
            reason,
            amount_taken,
        } => format!(
            "Walk-in sale at desk {} (order {order}) refused by the server ({}): nothing of it \
             was recorded. <strong>The desk says it took {}</strong>.",
            desk(names, d),
            esc(reason),
            esc(&amount_taken.to_string())
        ),
    }
}

fn action(csrf: &str, href: &str, decision: &str, inner: &str, button: &str) -> String {
    format!(
        "<form class=\"act\" method=\"post\" action=\"{href}\" data-decision=\"{decision}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"decision\" value=\"{decision}\">\
         {inner}<button>{button}</button></form>",
        esc(csrf)
    )
}

fn note(required: bool, placeholder: &str) -> String {
    format!(
        "<input name=\"note\" placeholder=\"{placeholder}\" size=\"24\"{}> ",
        if required { " required" } else { "" }
    )
}

fn actions(csrf: &str, href: &str, kind: &ConflictKind) -> String {
    let mut out = String::new();
    let money_back = matches!(
        kind,
        ConflictKind::WalkInRejected { .. }
            | ConflictKind::PaymentAfterExpiry { .. }
            | ConflictKind::SaleRefused { .. }
    );
    if money_back {
        let mut methods = String::from("<select name=\"method\">");
        for (value, label) in METHODS {
            let _ = write!(methods, "<option value=\"{value}\">{label}</option>");
        }
        methods.push_str("</select> ");
        out.push_str(&action(
            csrf,
            href,
            "refund",
            &format!("{methods}{}", note(false, "reference (optional)")),
            "Record refund",
        ));
    }
    if matches!(kind, ConflictKind::WalkInRejected { .. }) {
        out.push_str(&action(
            csrf,
            href,
            "honour",
            &note(false, "why (e.g. extra chairs)"),
            "Honour the sale over the quota",
        ));
    }
    if !money_back {
        out.push_str(&action(
            csrf,
            href,
            "close",
            &note(false, "note (optional)"),
            "Close",
        ));
    }
    out.push_str(&action(
        csrf,
        href,
        "dismiss",
        &note(true, "why (required)"),
        "Dismiss",
    ));
    out
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
    let mut body = format!(
        "<p id=\"open-count\" data-open=\"{}\">{} open conflict(s).</p>",
        open.len(),
        open.len()
    );
    for row in &open {
        let Ok(kind) = serde_json::from_value::<ConflictKind>(row.detail.clone()) else {
            continue;
        };
        let href = conf.href(&format!("/conflicts/{}", row.conflict_id));
        let _ = write!(
            body,
            "<section class=\"card conflict\" id=\"conflict-{}\" data-kind=\"{}\"><h3>{}</h3>\
             <p>{}</p><p class=\"muted\">Opened {}{}</p>{}</section>",
            esc(&row.conflict_id),
            esc(&row.kind),
            esc(kind.label()),
            detail(&kind, &names, &holders, &conf),
            esc(&row.opened_at),
            if row.acknowledged {
                "; acknowledged at the door"
            } else {
                ""
            },
            actions(&conf.session.csrf, &href, &kind)
        );
    }
    body.push_str(
        "<h2>Resolved</h2><div class=\"scroll\"><table id=\"resolved\"><tr><th>What</th><th>Opened</th>\
         <th>Resolved</th><th>Resolution</th><th>Note</th></tr>",
    );
    for row in closed.iter().rev() {
        let label = serde_json::from_value::<ConflictKind>(row.detail.clone())
            .map_or_else(|_| row.kind.clone(), |k| k.label().to_owned());
        let _ = write!(
            body,
            "<tr id=\"resolved-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.conflict_id),
            esc(&label),
            esc(&row.opened_at),
            esc(row.resolved_at.as_deref().unwrap_or_default()),
            esc(&resolution_text(row)),
            esc(row.note.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</table></div>");
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
