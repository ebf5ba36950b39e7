//! Registrations: search and filters over every ticket of a conference, and one
//! registration's history from its events (who did what, at which desk, on both clocks).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{ConferencePage, Tab, esc, failed, html, page};
use crate::App;
use crate::head_office::{self, RegistrationQuery};
use crate::storage::Store;

const PAGE_SIZE: u32 = 50;

pub(super) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/conferences/{conference}/registrations", get(list::<S>))
        .route(
            "/conferences/{conference}/registrations/{code}",
            get(show::<S>),
        )
}

/// The search form as the browser sends it: every field a string, empty meaning "any".
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct Filter {
    q: String,
    origin: String,
    admitted: String,
    attendee_type: String,
    page: u32,
}

impl Filter {
    fn query(&self) -> RegistrationQuery {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        RegistrationQuery {
            q: some(&self.q),
            origin: some(&self.origin),
            admitted: match self.admitted.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            attendee_type: some(&self.attendee_type),
            limit: Some(PAGE_SIZE),
            offset: Some(self.page.saturating_mul(PAGE_SIZE)),
        }
    }

    /// This filter's query string, on another page.
    fn link(&self, page: u32) -> String {
        let on_page = Self {
            page,
            ..self.clone()
        };
        format!(
            "?{}",
            serde_urlencoded::to_string(&on_page).unwrap_or_default()
        )
    }
}

fn select(name: &str, label: &str, current: &str, options: &[(String, String)]) -> String {
    let mut out = format!("<label class=\"inline\">{label} <select id=\"{name}\" name=\"{name}\">");
    for (value, text) in options {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if value == current { " selected" } else { "" },
            esc(text)
        );
    }
    out.push_str("</select></label> ");
    out
}

fn origin_label(origin: &str) -> &str {
    match origin {
        "online" => "online",
        "imported" => "imported",
        "walk_in" => "walk-in",
        other => other,
    }
}

async fn list<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    Query(filter): Query<Filter>,
) -> Response {
    let id = conf.id;
    let query = filter.query();
    let found = match app
        .store
        .read(move |tx| head_office::registrations(tx, id, &query))
        .await
    {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let pair = |v: &str, t: &str| (v.to_owned(), t.to_owned());
    let mut types = vec![pair("", "any")];
    types.extend(
        conf.conference
            .attendee_types
            .values()
            .map(|t| (t.id.to_string(), t.name.clone())),
    );
    let mut body = format!(
        "<form method=\"get\" class=\"card\" id=\"filters\"><label class=\"inline\">Search \
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" placeholder=\"name, email, company or ticket code\" size=\"30\"></label> ",
        esc(&filter.q)
    );
    body.push_str(&select(
        "origin",
        "Origin",
        &filter.origin,
        &[
            pair("", "any"),
            pair("online", "online"),
            pair("imported", "imported"),
            pair("walk_in", "walk-in"),
        ],
    ));
    body.push_str(&select(
        "admitted",
        "Admitted",
        &filter.admitted,
        &[pair("", "any"), pair("yes", "yes"), pair("no", "not yet")],
    ));
    body.push_str(&select(
        "attendee_type",
        "Attendee type",
        &filter.attendee_type,
        &types,
    ));
    body.push_str("<button id=\"search\">Show</button></form>");
    let first = filter.page.saturating_mul(PAGE_SIZE);
    let shown = u32::try_from(found.registrations.len()).unwrap_or(0);
    let _ = write!(
        body,
        "<p id=\"found\" data-total=\"{}\">{} registration(s){}</p>",
        found.total,
        found.total,
        if shown > 0 {
            format!(", showing {}–{}", first + 1, first + shown)
        } else {
            String::new()
        }
    );
    body.push_str(
        "<div class=\"scroll\"><table id=\"registrations\"><tr><th>Ticket</th><th>Name</th><th>Company</th>\
         <th>Seat type</th><th>Origin</th><th>Status</th><th>Admitted</th></tr>",
    );
    for r in &found.registrations {
        let admitted = match (&r.admitted_at, &r.admitted_gate) {
            (Some(at), gate) => format!(
                "<span class=\"ok\">{}</span> {}",
                esc(at.get(11..16).unwrap_or(at)),
                esc(gate.as_deref().unwrap_or_default())
            ),
            (None, _) => "<span class=\"muted\">no</span>".to_owned(),
        };
        let _ = write!(
            body,
            "<tr data-code=\"{code}\"><td><a href=\"{href}\">{code}</a></td><td>{} {}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{admitted}</td></tr>",
            esc(&r.first_name),
            esc(&r.last_name),
            esc(&r.company),
            esc(&r.seat_type_name),
            origin_label(&r.origin),
            esc(&r.status),
            code = esc(&r.code),
            href = conf.href(&format!("/registrations/{}", esc(&r.code))),
        );
    }
    body.push_str("</table></div><p>");
    if filter.page > 0 {
        let _ = write!(
            body,
            "<a id=\"previous\" href=\"{}\">← previous</a> ",
            esc(&filter.link(filter.page - 1))
        );
    }
    if i64::from(first + shown) < found.total {
        let _ = write!(
            body,
            "<a id=\"next\" href=\"{}\">next →</a>",
            esc(&filter.link(filter.page + 1))
        );
    }
    body.push_str("</p>");
    conf.render(Tab::Registrations, "Registrations", true, &body)
}

async fn show<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    Path((_, code)): Path<(String, String)>,
) -> Response {
    let id = conf.id;
    let wanted = code.clone();
    let (registration, entries) = match app
        .store
        .read(move |tx| head_office::history(tx, id, &wanted))
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => {
            return html(
                StatusCode::NOT_FOUND,
                page("No such registration", Some(&conf.session), false, ""),
            );
        }
        Err(e) => return failed(e),
    };
    let r = &registration;
    let types: Vec<String> = r
        .attendee_types
        .iter()
        .map(|t| {
            conf.conference
                .attendee_types
                .values()
                .find(|a| a.id.to_string() == *t)
                .map_or_else(|| t.clone(), |a| a.name.clone())
        })
        .collect();
    let mut body = String::new();
    let _ = write!(
        body,
        "<table id=\"registration\" class=\"card\">\
         <tr><th>Ticket code</th><td>{}</td></tr><tr><th>Name</th><td>{} {}</td></tr>\
         <tr><th>Email</th><td>{}</td></tr><tr><th>Company</th><td>{}</td></tr>\
         <tr><th>Seat type</th><td>{}</td></tr><tr><th>Attendee types</th><td>{}</td></tr>\
         <tr><th>Origin</th><td>{}</td></tr><tr><th>Status</th><td>{}</td></tr>\
         <tr><th>Admitted</th><td id=\"admitted-state\">{}</td></tr><tr><th>Order</th><td>{}</td></tr></table>",
        esc(&r.code),
        esc(&r.first_name),
        esc(&r.last_name),
        esc(&r.email),
        esc(&r.company),
        esc(&r.seat_type_name),
        esc(&types.join(", ")),
        origin_label(&r.origin),
        esc(&r.status),
        r.admitted_at.as_deref().map_or_else(
            || "not yet".to_owned(),
            |at| format!(
                "{} at gate {}",
                esc(at),
                esc(r.admitted_gate.as_deref().unwrap_or_default())
            )
        ),
        esc(&r.order_id),
    );
    body.push_str(
        "<h2>History</h2><div class=\"scroll\"><table id=\"history\"><tr><th>Desk time</th><th>Server time</th>\
         <th>What</th><th>Who</th></tr>",
    );
    for e in &entries {
        let who = match (&e.desk, e.by_desk) {
            (Some(desk), true) => format!("desk {}", esc(desk)),
            (Some(desk), false) => format!("server, on desk {}'s push", esc(desk)),
            (None, _) => "server".to_owned(),
        };
        let _ = write!(
            body,
            "<tr data-event=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{who}</td></tr>",
            esc(&e.event_type),
            esc(&e.occurred_at),
            esc(&e.recorded_at),
            esc(&e.summary),
        );
    }
    body.push_str("</table></div>");
    conf.render(
        Tab::Registrations,
        &format!("{} {}", r.first_name, r.last_name),
        true,
        &body,
    )
}
