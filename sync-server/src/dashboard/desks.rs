//! Desks: each enrolled desk's last contact, the pending events it reported, its app version
//! and clock skew; enrolling a new desk (its one-time code, and a QR code of it that a
//! scanner types into the desk's setup screen) and revoking one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, PreEscaped, html};
use onsite_shared::ids::DeviceId;
use serde::Deserialize;

use super::{ConferencePage, Tab, failed, forbidden, form_is_ours, not_allowed, refused};
use crate::App;
use crate::devices::{self, AuthError, DeviceRow};
use crate::storage::Store;

pub(super) fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route(
            "/conferences/{conference}/desks",
            get(list::<S>).post(enrol::<S>),
        )
        .route(
            "/conferences/{conference}/desks/{device}/revoke",
            post(revoke::<S>),
        )
}

/// How long ago, in words a person reads at a glance.
fn ago(then: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(then) else {
        return then.to_owned();
    };
    let secs = (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

fn skew(ms: i64) -> Markup {
    // Rounded to a tenth of a second, without a sign on zero.
    let tenths = (ms as f64 / 100.0).round() as i64;
    let text = if tenths == 0 {
        "0.0 s".to_owned()
    } else {
        format!("{:+.1} s", tenths as f64 / 10.0)
    };
    html! {
        @if ms.abs() > 60_000 { span.warn { (text) } } @else { (text) }
    }
}

fn table(rows: &[DeviceRow], csrf: &str, conf: &ConferencePage) -> Markup {
    let now = chrono::Utc::now();
    html! {
        div.scroll {
            table #desks {
                tr {
                    th { "Desk" } th { "State" } th { "Last contact" } th { "Pending" }
                    th { "App version" } th { "Clock skew" } th {}
                }
                @for d in rows {
                    @let state = match (&d.revoked_at, &d.enrolled_at) {
                        (Some(_), _) => "revoked",
                        (None, Some(_)) => "active",
                        (None, None) => "waiting",
                    };
                    tr data-device=(d.device_id) data-state=(state) {
                        td { (d.name) }
                        td {
                            @match state {
                                "revoked" => span.warn { "revoked" },
                                "active" => span.ok { "active" },
                                _ => span.muted { "waiting for its code" },
                            }
                        }
                        td {
                            @match &d.last_seen {
                                Some(t) => { (ago(t, now)) }
                                None => { "never" }
                            }
                        }
                        td.n { @if let Some(p) = d.pending { (p) } }
                        td { (d.app_version.as_deref().unwrap_or_default()) }
                        td { @if let Some(ms) = d.clock_skew_ms { (skew(ms)) } }
                        td {
                            @if d.revoked_at.is_none() && conf.session.role.operates() {
                                form.inline method="post"
                                    action=(conf.href(&format!("/desks/{}/revoke", d.device_id))) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.revoke { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn enrol_form(csrf: &str, conf: &ConferencePage) -> Markup {
    if !conf.session.role.operates() {
        return html! {};
    }
    html! {
        form.card method="post" action=(conf.href("/desks")) #enrol {
            input type="hidden" name="csrf" value=(csrf);
            label.inline {
                "New desk's name "
                input #desk-name name="name" required placeholder="e.g. North door 2";
            }
            label.inline {
                "How many "
                input #desk-count name="count" type="number" min="1" max=(MAX_AT_ONCE) value="1" size="3";
            }
            " "
            button #enrol-desk { "Enrol" }
            p.muted { "Several desks are named “name 1”, “name 2”, …; each gets its own code." }
        }
    }
}

async fn read_desks<S: Store>(
    app: &App<S>,
    conf: &ConferencePage,
) -> Result<Vec<DeviceRow>, Response> {
    let id = conf.id;
    app.store
        .read(move |tx| devices::list(tx, Some(id)))
        .await
        .map_err(failed)
}

async fn list<S: Store>(State(app): State<Arc<App<S>>>, conf: ConferencePage) -> Response {
    let rows = match read_desks(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let body = html! {
        (table(&rows, &conf.session.csrf, &conf))
        (enrol_form(&conf.session.csrf, &conf))
    };
    conf.render(Tab::Desks, "Desks", true, &body)
}

/// The most desks enrolled with one form (a venue's doors, the evening before).
const MAX_AT_ONCE: u32 = 50;

#[derive(Deserialize)]
struct EnrolForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    count: Option<String>,
}

/// The code as a QR code, drawn as inline SVG (the first one with the id tests find it by).
fn qr_svg(code: &str, first: bool) -> Markup {
    let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) else {
        return html! {};
    };
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // The renderer writes a standalone document; inline, only the <svg> element is wanted.
    // The renderer's output holds only shapes and colours (the code is in the modules, not in
    // any text), so it goes in as it is.
    let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    let id = if first { " id=\"enrolment-qr\"" } else { "" };
    PreEscaped(svg.replacen(
        "<svg",
        &format!("<svg{id} role=\"img\" aria-label=\"QR code of the enrolment code\""),
        1,
    ))
}

async fn enrol<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Response {
    if !form_is_ours(&headers, &conf.session, &form.csrf) {
        return forbidden();
    }
    if !conf.session.role.operates() {
        return not_allowed(&conf.session, "enrolling desks");
    }
    let count = match form.count.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(n) => match n.parse::<u32>() {
            Ok(n) if (1..=MAX_AT_ONCE).contains(&n) => n,
            _ => {
                return refused(
                    &conf.session,
                    &format!("How many: a number from 1 to {MAX_AT_ONCE}."),
                    &conf.href("/desks"),
                );
            }
        },
    };
    let names: Vec<String> = if count == 1 {
        vec![form.name.trim().to_owned()]
    } else {
        (1..=count)
            .map(|i| format!("{} {i}", form.name.trim()))
            .collect()
    };
    let (id, now) = (conf.id, chrono::Utc::now());
    let wanted = names.clone();
    // All of them or none: one transaction.
    let enrolments = match app
        .store
        .write(move |tx| {
            wanted
                .iter()
                .map(|name| devices::enroll(tx, id, name, now))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
    {
        Ok(e) => e,
        Err(AuthError::Store(e)) => return failed(e),
        Err(e) => return refused(&conf.session, &e.to_string(), &conf.href("/desks")),
    };
    let rows = match read_desks(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let body = html! {
        @for (i, (name, enrolment)) in names.iter().zip(&enrolments).enumerate() {
            section.card.enrolment id=[(i == 0).then_some("enrolment")] {
                h2 { "Enrol “" (name) "”" }
                p {
                    "On the desk, open " em { "Setup" } ", enter this server's address and this code \
                     (or scan it). It works once and expires "
                    (enrolment.expires_at.format("%Y-%m-%d %H:%M UTC")) "."
                }
                p.code id=[(i == 0).then_some("enrolment-code")] { (enrolment.code) }
                (qr_svg(&enrolment.code, i == 0))
            }
        }
        (table(&rows, &conf.session.csrf, &conf))
        (enrol_form(&conf.session.csrf, &conf))
    };
    // Not refreshed: the code is shown this once.
    conf.render(Tab::Desks, "Desks", false, &body)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn revoke<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, device)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !form_is_ours(&headers, &conf.session, &form.csrf) {
        return forbidden();
    }
    if !conf.session.role.operates() {
        return not_allowed(&conf.session, "revoking desks");
    }
    let back = conf.href("/desks");
    let rows = match read_desks(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let Some(device) = device
        .parse::<DeviceId>()
        .ok()
        .filter(|d| rows.iter().any(|r| r.device_id == d.to_string()))
    else {
        return refused(
            &conf.session,
            "There is no such desk at this conference.",
            &back,
        );
    };
    let now = chrono::Utc::now();
    match app
        .store
        .write(move |tx| devices::revoke(tx, device, now))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(AuthError::Store(e)) => failed(e),
        Err(e) => refused(&conf.session, &e.to_string(), &back),
    }
}
