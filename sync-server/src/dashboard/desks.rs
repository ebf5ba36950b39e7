//! Desks: each enrolled desk's last contact, the pending events it reported, its app version
//! and clock skew; enrolling a new desk (its one-time code, and a QR code of it that a
//! scanner types into the desk's setup screen) and revoking one; the seat leases desks hold
//! (granted, sold from, given back), granting one and revoking one; the venue relays (last
//! contact, what each holds not yet forwarded, the desks behind it), enrolling and revoking one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, PreEscaped, html};
use onsite_shared::ids::{DeviceId, LeaseId, SeatTypeId};
use onsite_shared::readiness::{Level, Readiness};
use onsite_shared::seat_availability::LeaseEnd;
use serde::Deserialize;

use super::{ConferencePage, Tab, failed, forbidden, form_is_ours, not_allowed, refused};
use crate::App;
use crate::devices::{self, AuthError, DeviceRow};
use crate::lease::{self, LeaseRow, NewLease};
use crate::relay::registry::{self, RelayRow};
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
        .route(
            "/conferences/{conference}/desks/leases",
            post(grant_lease::<S>),
        )
        .route(
            "/conferences/{conference}/desks/leases/{lease}/revoke",
            post(revoke_lease::<S>),
        )
        .route(
            "/conferences/{conference}/desks/lease-policy",
            post(set_policy::<S>),
        )
        .route(
            "/conferences/{conference}/desks/relays",
            post(enrol_relay::<S>),
        )
        .route(
            "/conferences/{conference}/desks/relays/{relay}/revoke",
            post(revoke_relay::<S>),
        )
}

fn relays_table(relays: &[RelayRow], desks: &[DeviceRow], conf: &ConferencePage) -> Markup {
    let now = chrono::Utc::now();
    let name_of = |id: &str| {
        desks
            .iter()
            .find(|d| d.device_id == id)
            .map_or_else(|| id.to_owned(), |d| d.name.clone())
    };
    html! {
        h2 { "Venue relays" }
        @if relays.is_empty() {
            p.muted {
                "No relay. A relay keeps the venue's desks working together when the venue loses \
                 its internet: enrol one below and run it on a laptop at the venue."
            }
        } @else {
            div.scroll {
                table #relays {
                    tr {
                        th { "Relay" } th { "State" } th { "Last contact" }
                        th { "Held, not yet forwarded" } th { "Desks behind it" } th {}
                    }
                    @for r in relays {
                        @let state = match (&r.revoked_at, &r.enrolled_at) {
                            (Some(_), _) => "revoked",
                            (None, Some(_)) => "active",
                            (None, None) => "waiting",
                        };
                        tr data-relay=(r.relay_id) data-state=(state) {
                            td { (r.name) }
                            td {
                                @match state {
                                    "revoked" => span.warn { "revoked" },
                                    "active" => span.ok { "active" },
                                    _ => span.muted { "waiting for its code" },
                                }
                            }
                            td {
                                @match &r.last_seen {
                                    Some(t) => { (ago(t, now)) }
                                    None => { "never" }
                                }
                            }
                            td.n.held { (r.held) }
                            td.behind {
                                (r.desks.iter().map(|d| name_of(d)).collect::<Vec<_>>().join(", "))
                            }
                            td {
                                @if r.revoked_at.is_none() && conf.session.role.operates() {
                                    form.inline method="post"
                                        action=(conf.href(&format!("/desks/relays/{}/revoke", r.relay_id))) {
                                        input type="hidden" name="csrf" value=(conf.session.csrf);
                                        button.revoke { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if conf.session.role.operates() {
            form.card method="post" action=(conf.href("/desks/relays")) #enrol-relay-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline {
                    "New relay's name "
                    input #relay-name name="name" required placeholder="e.g. Main hall relay";
                }
                " "
                button #enrol-relay { "Enrol a relay" }
            }
        }
    }
}

async fn read_relays<S: Store>(
    app: &App<S>,
    conf: &ConferencePage,
) -> Result<Vec<RelayRow>, Response> {
    let id = conf.id;
    app.store
        .read(move |tx| registry::list(tx, id))
        .await
        .map_err(failed)
}

#[derive(Deserialize)]
struct RelayForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn enrol_relay<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<RelayForm>,
) -> Response {
    if !form_is_ours(&headers, &conf.session, &form.csrf) {
        return forbidden();
    }
    if !conf.session.role.operates() {
        return not_allowed(&conf.session, "enrolling relays");
    }
    let (id, now) = (conf.id, chrono::Utc::now());
    let name = form.name.trim().to_owned();
    let wanted = name.clone();
    let enrolment = match app
        .store
        .write(move |tx| registry::enroll(tx, id, &wanted, now))
        .await
    {
        Ok(e) => e,
        Err(AuthError::Store(e)) => return failed(e),
        Err(e) => return refused(&conf.session, &e.to_string(), &conf.href("/desks")),
    };
    let upstream = super::people::origin(&headers);
    let body = html! {
        section.card.enrolment #relay-enrolment {
            h2 { "Enrol the relay “" (name) "”" }
            p {
                "On the laptop or box at the venue, run (it works once and expires "
                (enrolment.expires_at.format("%Y-%m-%d %H:%M UTC")) "):"
            }
            pre #relay-command {
                "onsite-server --data-dir /var/lib/onsite-relay relay --upstream " (upstream)
                " --code " (enrolment.code)
            }
            p.code #relay-code { (enrolment.code) }
            p.muted {
                "Then give the desks its address (Settings → Venue relay), or let them find it on \
                 the venue network."
            }
        }
    };
    // Not refreshed: the code is shown this once.
    conf.render(Tab::Desks, "Desks", false, &body)
}

async fn revoke_relay<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, relay)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !form_is_ours(&headers, &conf.session, &form.csrf) {
        return forbidden();
    }
    if !conf.session.role.operates() {
        return not_allowed(&conf.session, "revoking relays");
    }
    let back = conf.href("/desks");
    let Ok(relay) = relay.parse::<DeviceId>() else {
        return refused(&conf.session, "There is no such relay.", &back);
    };
    let (id, now) = (conf.id, chrono::Utc::now());
    match app
        .store
        .write(move |tx| registry::revoke(tx, id, relay, now))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(AuthError::Store(e)) => failed(e),
        Err(_) => refused(
            &conf.session,
            "There is no such relay at this conference.",
            &back,
        ),
    }
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

fn ready_cell(r: Option<&Readiness>) -> Markup {
    let Some(r) = r else {
        return html! { td.ready data-level="unknown" { span.muted { "not reported" } } };
    };
    let level = match r.level {
        Level::Green => "green",
        Level::Amber => "amber",
        Level::Red => "red",
    };
    let open: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.level != Level::Green)
        .map(|c| c.reason.as_str())
        .collect();
    html! {
        td.ready data-level=(level) {
            @if r.ready { span.ok { "ready" } }
            @else if r.level == Level::Red { span.warn { "not ready" } ": " (open.join("; ")) }
            @else { "almost: " (open.join("; ")) }
        }
    }
}

fn table(
    rows: &[DeviceRow],
    ready: &HashMap<String, Readiness>,
    csrf: &str,
    conf: &ConferencePage,
) -> Markup {
    let now = chrono::Utc::now();
    html! {
        div.scroll {
            table #desks {
                tr {
                    th { "Desk" } th { "State" } th { "Ready for the doors" } th { "Last contact" }
                    th { "Pending" } th { "App version" } th { "Clock skew" } th {}
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
                        (ready_cell(ready.get(&d.device_id)))
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

fn leases_table(rows: &[LeaseRow], conf: &ConferencePage) -> Markup {
    let manages = conf.session.role.manages();
    html! {
        h2 { "Seat leases" }
        p.muted {
            "Seats held for one desk: its walk-in sales from them are final, even offline. \
             A venue lease is held by a venue relay: every desk behind it sells from it, \
             finally, while the venue's internet is down. \
             Unsold seats go back when the lease ends."
        }
        @if rows.is_empty() {
            p.muted #no-leases { "No desk holds a lease." }
        } @else {
            div.scroll {
                table #leases {
                    tr {
                        th { "Desk" } th { "Seat type" } th.n { "Leased" } th.n { "Sold from it" }
                        th.n { "Still held" } th.n { "Returned" } th { "Until" } th { "State" } th {}
                    }
                    @for r in rows {
                        tr data-lease=(r.lease) data-desk=(r.desk_name) {
                            td {
                                @if r.venue { span.venue { "Venue: " } }
                                (r.desk_name)
                            }
                            td { (r.seat_type_name) }
                            td.n { (r.granted) }
                            td.n.sold {
                                (r.sold + r.sold_after_end)
                                @if r.sold_after_end > 0 {
                                    " " span.warn { "(" (r.sold_after_end) " after it ended)" }
                                }
                                @if r.venue && r.handed_out > r.sold + r.sold_after_end {
                                    " " span.muted.handed-out { "(" (r.handed_out) " handed out at the venue)" }
                                }
                            }
                            td.n.held { (r.held) }
                            td.n.returned { (r.returned) }
                            td { (r.until.format("%Y-%m-%d %H:%M UTC")) }
                            td.state {
                                @match r.ended {
                                    None => span.ok { "open" },
                                    Some(LeaseEnd::Returned) => "given back",
                                    Some(LeaseEnd::Revoked) => "revoked",
                                    Some(LeaseEnd::Expired) => "expired",
                                }
                            }
                            td {
                                @if r.ended.is_none() && manages {
                                    form.inline method="post"
                                        action=(conf.href(&format!("/desks/leases/{}/revoke", r.lease))) {
                                        input type="hidden" name="csrf" value=(conf.session.csrf);
                                        button.revoke-lease { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn grant_form(
    desks: &[DeviceRow],
    relays: &[crate::relay::registry::RelayRow],
    conf: &ConferencePage,
) -> Markup {
    if !conf.session.role.manages() {
        return html! {};
    }
    let active: Vec<&DeviceRow> = desks.iter().filter(|d| d.revoked_at.is_none()).collect();
    let relays: Vec<_> = relays.iter().filter(|r| r.revoked_at.is_none()).collect();
    html! {
        form.card method="post" action=(conf.href("/desks/leases")) #grant-lease {
            input type="hidden" name="csrf" value=(conf.session.csrf);
            label.inline {
                "Hold "
                input #lease-quantity name="quantity" type="number" min="1" value="5" size="4" required;
            }
            label.inline {
                " seats of "
                select #lease-seat-type name="seat_type" {
                    @for t in conf.conference.seat_types.values() {
                        option value=(t.id) { (t.name) }
                    }
                }
            }
            label.inline {
                " for "
                select #lease-desk name="desk" {
                    @for d in &active { option value=(d.device_id) { (d.name) } }
                    @if !relays.is_empty() {
                        optgroup label="Venue relays: every desk behind it sells from the lease" {
                            @for r in &relays {
                                option.venue value=(r.relay_id) { "Venue: " (r.name) }
                            }
                        }
                    }
                }
            }
            label.inline {
                " for the next "
                input #lease-hours name="hours" type="number" min="1" max=(lease::MAX_LEASE_DAYS * 24) value="12" size="4" required;
                " hours"
            }
            " "
            button #grant { "Grant the lease" }
        }
    }
}

fn policy_form(policy: &lease::Policy, conf: &ConferencePage) -> Markup {
    let manages = conf.session.role.manages();
    let row_of = |t: SeatTypeId| policy.seat_types.iter().find(|r| r.seat_type == t);
    html! {
        h3 { "Lease policy" }
        p.muted {
            "Per seat type: the most seats a desk may hold by asking for them (none: desks may \
             not ask), what every desk holds without asking (given now, and to each desk that \
             enrols later), and how long such a lease runs."
        }
        form.card method="post" action=(conf.href("/desks/lease-policy")) #lease-policy {
            input type="hidden" name="csrf" value=(conf.session.csrf);
            table {
                tr { th { "Seat type" } th { "Most per desk" } th { "Given to every desk" } th { "Hours" } }
                @for t in conf.conference.seat_types.values() {
                    @let row = row_of(t.id);
                    tr data-seat-type=(t.name) {
                        td { (t.name) }
                        td { input type="number" min="0" size="5" name=(format!("max_{}", t.id))
                            value=[row.map(|r| r.max_per_desk)] disabled[!manages]; }
                        td { input type="number" min="0" size="5" name=(format!("auto_{}", t.id))
                            value=[row.map(|r| r.auto_per_desk)] disabled[!manages]; }
                        td { input type="number" min="1" max=(lease::MAX_POLICY_HOURS) size="4"
                            name=(format!("hours_{}", t.id))
                            value=(row.map_or(12, |r| r.hours)) disabled[!manages]; }
                    }
                }
            }
            @if manages { button #save-policy { "Save the policy" } }
        }
    }
}

async fn read_leases<S: Store>(
    app: &App<S>,
    conf: &ConferencePage,
) -> Result<Vec<LeaseRow>, Response> {
    let id = conf.id;
    app.store
        .read(move |tx| lease::list(tx, id))
        .await
        .map_err(failed)
}

#[derive(Deserialize)]
struct GrantForm {
    csrf: String,
    #[serde(default)]
    desk: String,
    #[serde(default)]
    seat_type: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    hours: String,
}

async fn grant_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<GrantForm>,
) -> Response {
    if let Some(no) = super::setup::refusal(&conf, &headers, &form.csrf) {
        return no;
    }
    let back = conf.href("/desks");
    let now = chrono::Utc::now();
    let parsed = (
        form.desk.trim().parse::<DeviceId>(),
        form.seat_type.trim().parse::<SeatTypeId>(),
        form.quantity.trim().parse::<u32>(),
        form.hours.trim().parse::<i64>(),
    );
    let (Ok(desk), Ok(seat_type), Ok(quantity), Ok(hours)) = parsed else {
        return refused(
            &conf.session,
            "A lease needs a desk, a seat type, a number of seats and a number of hours.",
            &back,
        );
    };
    let new = NewLease {
        desk,
        seat_type,
        quantity,
        until: now + chrono::Duration::hours(hours.clamp(0, lease::MAX_LEASE_DAYS * 24 + 1)),
    };
    super::setup::write_then_back(&app, &conf, "/desks", move |rec| {
        lease::grant(rec, &new).map(|_| ())
    })
    .await
}

async fn set_policy<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    if let Some(no) = super::setup::refusal(&conf, &headers, &csrf) {
        return no;
    }
    let back = conf.href("/desks");
    let mut rows = Vec::new();
    for t in conf.conference.seat_types.values() {
        let field = |what: &str| {
            form.get(&format!("{what}_{}", t.id))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(max) = field("max") else { continue };
        let parsed = (
            max.parse::<u32>(),
            field("auto").unwrap_or_else(|| "0".into()).parse::<u32>(),
            field("hours").unwrap_or_else(|| "12".into()).parse::<u32>(),
        );
        let (Ok(max_per_desk), Ok(auto_per_desk), Ok(hours)) = parsed else {
            return refused(
                &conf.session,
                &format!("{}: the seats and hours are whole numbers.", t.name),
                &back,
            );
        };
        rows.push(lease::PolicyRow {
            seat_type: t.id,
            max_per_desk,
            auto_per_desk,
            hours,
        });
    }
    let policy = lease::Policy { seat_types: rows };
    super::setup::write_then_back(&app, &conf, "/desks", move |rec| {
        lease::set_policy(rec, &policy)
    })
    .await
}

async fn revoke_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, lease_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(no) = super::setup::refusal(&conf, &headers, &form.csrf) {
        return no;
    }
    let back = conf.href("/desks");
    let Ok(lease_id) = lease_id.parse::<LeaseId>() else {
        return refused(&conf.session, "There is no such lease.", &back);
    };
    super::setup::write_then_back(&app, &conf, "/desks", move |rec| {
        lease::end(rec, lease_id, LeaseEnd::Revoked, None)
    })
    .await
}

async fn read_desks<S: Store>(
    app: &App<S>,
    conf: &ConferencePage,
) -> Result<(Vec<DeviceRow>, HashMap<String, Readiness>), Response> {
    let (id, now) = (conf.id, chrono::Utc::now());
    app.store
        .read(move |tx| {
            let ready = crate::readiness::desks(tx, id, now)?
                .into_iter()
                .filter_map(|d| Some((d.desk.to_string(), d.readiness?)))
                .collect();
            Ok::<_, crate::storage::StoreError>((devices::list(tx, Some(id))?, ready))
        })
        .await
        .map_err(failed)
}

async fn list<S: Store>(State(app): State<Arc<App<S>>>, conf: ConferencePage) -> Response {
    let (rows, ready) = match read_desks(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let leases = match read_leases(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let id = conf.id;
    let policy = match app.store.read(move |tx| lease::policy(tx, id)).await {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let relays = match read_relays(&app, &conf).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let body = html! {
        (table(&rows, &ready, &conf.session.csrf, &conf))
        (enrol_form(&conf.session.csrf, &conf))
        (relays_table(&relays, &rows, &conf))
        (leases_table(&leases, &conf))
        (grant_form(&rows, &relays, &conf))
        (policy_form(&policy, &conf))
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
    let (rows, ready) = match read_desks(&app, &conf).await {
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
        (table(&rows, &ready, &conf.session.csrf, &conf))
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
    let (rows, _) = match read_desks(&app, &conf).await {
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
