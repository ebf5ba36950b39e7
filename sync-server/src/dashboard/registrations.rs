//! Registrations: search and filters over every ticket of a conference, and one
//! registration's history from its events (who did what, at which desk, on both clocks).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::{ConferencePage, Tab, failed, not_found};
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

fn select(name: &str, label: &str, current: &str, options: &[(String, String)]) -> Markup {
    html! {
        label.inline {
            (label) " "
            select id=(name) name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
        }
        " "
    }
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
    let first = filter.page.saturating_mul(PAGE_SIZE);
    let shown = u32::try_from(found.registrations.len()).unwrap_or(0);
    let body = html! {
        form.card method="get" #filters {
            label.inline {
                "Search "
                input #q name="q" type="search" value=(filter.q)
                    placeholder="name, email, company or ticket code" size="30";
            }
            " "
            (select("origin", "Origin", &filter.origin, &[
                pair("", "any"),
                pair("online", "online"),
                pair("imported", "imported"),
                pair("walk_in", "walk-in"),
            ]))
            (select("admitted", "Admitted", &filter.admitted, &[
                pair("", "any"),
                pair("yes", "yes"),
                pair("no", "not yet"),
            ]))
            (select("attendee_type", "Attendee type", &filter.attendee_type, &types))
            button #search { "Show" }
        }
        p #found data-total=(found.total) {
            (found.total) " registration(s)"
            @if shown > 0 { ", showing " (first + 1) "–" (first + shown) }
        }
        div.scroll {
            table #registrations {
                tr {
                    th { "Ticket" } th { "Name" } th { "Company" } th { "Seat type" }
                    th { "Origin" } th { "Status" } th { "Admitted" }
                }
                @for r in &found.registrations {
                    tr data-code=(r.code) {
                        td { a href=(conf.href(&format!("/registrations/{}", r.code))) { (r.code) } }
                        td { (r.first_name) " " (r.last_name) }
                        td { (r.company) }
                        td { (r.seat_type_name) }
                        td { (origin_label(&r.origin)) }
                        td { (r.status) }
                        td {
                            @if let Some(at) = &r.admitted_at {
                                span.ok { (at.get(11..16).unwrap_or(at)) }
                                " " (r.admitted_gate.as_deref().unwrap_or_default())
                            } @else {
                                span.muted { "no" }
                            }
                        }
                    }
                }
            }
        }
        p {
            @if filter.page > 0 {
                a #previous href=(filter.link(filter.page - 1)) { "← previous" }
                " "
            }
            @if i64::from(first + shown) < found.total {
                a #next href=(filter.link(filter.page + 1)) { "next →" }
            }
        }
    };
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
            return not_found("No such registration", &conf.session);
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
    let body = html! {
        table #registration .card {
            tr { th { "Ticket code" } td { (r.code) } }
            tr { th { "Name" } td { (r.first_name) " " (r.last_name) } }
            tr { th { "Email" } td { (r.email) } }
            tr { th { "Company" } td { (r.company) } }
            tr { th { "Seat type" } td { (r.seat_type_name) } }
            tr { th { "Attendee types" } td { (types.join(", ")) } }
            tr { th { "Origin" } td { (origin_label(&r.origin)) } }
            tr { th { "Status" } td { (r.status) } }
            tr {
                th { "Admitted" }
                td #admitted-state {
                    @if let Some(at) = &r.admitted_at {
                        (at) " at gate " (r.admitted_gate.as_deref().unwrap_or_default())
                    } @else {
                        "not yet"
                    }
                }
            }
            tr { th { "Order" } td { (r.order_id) } }
        }
        h2 { "History" }
        div.scroll {
            table #history {
                tr { th { "Desk time" } th { "Server time" } th { "What" } th { "Who" } }
                @for e in &entries {
                    tr data-event=(e.event_type) {
                        td { (e.occurred_at) }
                        td { (e.recorded_at) }
                        td { (e.summary) }
                        td {
                            @match (&e.desk, e.by_desk) {
                                (Some(desk), true) => { "desk " (desk) }
                                (Some(desk), false) => { "server, on desk " (desk) "'s push" }
                                (None, _) => { "server" }
                            }
                        }
                    }
                }
            }
        }
    };
    conf.render(
        Tab::Registrations,
        &format!("{} {}", r.first_name, r.last_name),
        true,
        &body,
    )
}
