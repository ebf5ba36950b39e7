//! Setting a conference up from the dashboard: a new conference, its details, publishing, seat
//! types and their quotas, attendee types, and its history (who changed what, when). Anyone
//! signed in reads; only owners change (the forms are not shown to others, and refused if
//! posted). Every change is the same command the API runs, recorded as events that desks
//! pull, attributed to the person in `changes`.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use onsite_shared::conference::{OversellPolicy, SeatKind};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, SeatTypeId};
use onsite_shared::money::Currency;
use onsite_shared::seat_availability::SeatsAvailability;
use serde::Deserialize;

use super::session::{SignedIn, form_is_ours};
use super::{ConferencePage, Tab, failed, forbidden, not_allowed, refused};
use crate::App;
use crate::admin::{self, NewAttendeeType, NewConference, NewSeatType};
use crate::recorder::{Recorder, Rejected};
use crate::storage::Store;

/// `199.00` (or `199`, `199.5`) as minor units: two decimals, as the conference's currencies
/// (EUR, USD, GBP and the like) have.
pub(super) fn parse_price(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok().filter(|w: &i64| *w >= 0)?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

fn price(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// The refusal, if this form may not change the set-up: it must come from our page, and its
/// sender must manage.
pub(super) fn refusal(conf: &ConferencePage, headers: &HeaderMap, csrf: &str) -> Option<Response> {
    if !form_is_ours(headers, &conf.session, csrf) {
        return Some(forbidden());
    }
    if !conf.session.role.manages() {
        return Some(not_allowed(&conf.session, "setting conferences up"));
    }
    None
}

/// Runs a set-up command as the signed-in owner, its events attributed to them; answers with
/// the way back to the set-up page, or the domain's refusal.
pub(super) async fn change<S, F>(
    app: &App<S>,
    conf: &ConferencePage,
    headers: &HeaderMap,
    csrf: &str,
    work: F,
) -> Response
where
    S: Store,
    F: Fn(&mut Recorder<'_>) -> Result<(), Rejected> + Send + 'static,
{
    if let Some(no) = refusal(conf, headers, csrf) {
        return no;
    }
    write_then_back(app, conf, "/setup", work).await
}

/// Runs a command as the signed-in person, its events attributed to them; answers with the
/// way back to the conference's page `back`, or the domain's refusal. The caller has checked
/// that the form may change anything.
pub(super) async fn write_then_back<S, F>(
    app: &App<S>,
    conf: &ConferencePage,
    back: &str,
    work: F,
) -> Response
where
    S: Store,
    F: Fn(&mut Recorder<'_>) -> Result<(), Rejected> + Send + 'static,
{
    let (id, actor, now) = (conf.id, conf.session.email.clone(), chrono::Utc::now());
    let back = conf.href(back);
    match admin::write_as(&app.store, id, now, Some(actor), work).await {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(Rejected::Domain { message, .. }) => refused(&conf.session, &message, &back),
        Err(e) => failed(e),
    }
}

fn details_form(conf: &ConferencePage) -> Markup {
    let Some(d) = conf.conference.details.as_ref() else {
        return html! {};
    };
    html! {
        form.card method="post" action=(conf.href("/setup/details")) #details {
            input type="hidden" name="csrf" value=(conf.session.csrf);
            label { "Name " input #conf-name name="name" value=(d.name) required; }
            label { "Description " textarea name="description" rows="3" cols="60" { (d.description) } }
            label { "Venue " input name="venue" value=(d.venue); }
            label.inline { "Time zone " input name="time_zone" value=(d.time_zone.as_deref().unwrap_or_default()) placeholder="Europe/Zurich" size="16"; }
            label.inline { "Owner " input name="owner_name" value=(d.owner_name.as_deref().unwrap_or_default()); }
            label.inline { "Starts on " input type="date" name="starts_on" value=(d.starts_on) required; }
            label.inline { "Ends on " input type="date" name="ends_on" value=(d.ends_on) required; }
            label.inline {
                "Seats per online order at most "
                input type="number" min="1" name="max_seats_per_order"
                    value=(conf.conference.max_seats_per_order());
            }
            p.muted { "Address (slug): " code { (d.slug) } "; currency " (d.currency.as_str()) "." }
            button #save-details { "Save the details" }
        }
    }
}

fn seat_types(
    conf: &ConferencePage,
    seats: &SeatsAvailability,
    leased: &[(SeatTypeId, String, u32)],
    manages: bool,
) -> Markup {
    html! {
        table #seat-types {
            tr {
                th { "Seat type" } th { "Kind" } th { "Price" } th { "Policy" } th.n { "Quota" }
                th.n { "Held" } th { "Held for desks" } th.n { "Sold" } th.n { "Remaining" }
                @if manages { th { "Change the quota" } th { "Edit" } }
            }
            @for t in conf.conference.seat_types.values() {
                @let held: u32 = seats.pending.values().filter_map(|p| p.get(&t.id)).sum();
                @let sold = seats.committed.get(&t.id).copied().unwrap_or(0);
                @let remaining = seats.remaining(t.id).unwrap_or(0);
                tr data-seat-type=(t.name) {
                    td { (t.name) }
                    td { @match t.kind { SeatKind::Admission => "admission", SeatKind::AddOn => "add-on" } }
                    td.n { (price(t.price.amount_minor)) " " (t.price.currency.as_str()) }
                    td { @match t.policy { OversellPolicy::Reject => "sold out at the quota", OversellPolicy::Overbook => "overbook (standing room)" } }
                    td.n.quota { (t.quota) }
                    td.n { (held) }
                    td.leased {
                        @for (_, desk, n) in leased.iter().filter(|(s, _, _)| *s == t.id) {
                            span.lease { "held by " (desk) ": " (n) } " "
                        }
                    }
                    td.n { (sold) }
                    td.n.remaining {
                        @if remaining < 0 { span.warn { (remaining) " (overbooked by " (-remaining) ")" } }
                        @else { (remaining) }
                    }
                    @if manages {
                        td {
                            form.inline method="post"
                                action=(conf.href(&format!("/setup/seat-types/{}/quota", t.id))) {
                                input type="hidden" name="csrf" value=(conf.session.csrf);
                                input type="number" min="0" name="quota" value=(t.quota) size="6" aria-label="New quota";
                                label.inline {
                                    input type="checkbox" name="overbook" value="on";
                                    " overbook if below the sold and held"
                                }
                                button.quota { "Set" }
                            }
                        }
                        td { (edit_seat_type(conf, t)) }
                    }
                }
            }
        }
        @if manages {
            form.card method="post" action=(conf.href("/setup/seat-types")) #add-seat-type {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Name " input #seat-name name="name" required; }
                label.inline { "Price " input #seat-price name="price" placeholder="199.00" required size="8"; }
                label.inline { "Quota " input #seat-quota type="number" min="0" name="quota" required size="6"; }
                label.inline {
                    "Kind "
                    select name="kind" { option value="admission" { "admission" } option value="add_on" { "add-on" } }
                }
                label.inline {
                    "When gone "
                    select name="policy" {
                        option value="reject" { "sold out" }
                        option value="overbook" { "overbook (standing room)" }
                    }
                }
                label { "Description " input name="description" size="60"; }
                button #add-seat { "Add the seat type" }
            }
        }
    }
}

/// A seat type's name, price, description and oversell policy, behind a disclosure.
fn edit_seat_type(conf: &ConferencePage, t: &onsite_shared::conference::SeatType) -> Markup {
    html! {
        details.edit-seat-type {
            summary { "Edit" }
            form method="post" action=(conf.href(&format!("/setup/seat-types/{}", t.id))) {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label { "Name " input name="name" value=(t.name) required; }
                label { "Price " input name="price" value=(price(t.price.amount_minor)) size="8" required; }
                label { "Description " input name="description" value=(t.description) size="40"; }
                label {
                    "When gone "
                    select name="policy" {
                        option value="reject" selected[t.policy == OversellPolicy::Reject] { "sold out" }
                        option value="overbook" selected[t.policy == OversellPolicy::Overbook] { "overbook (standing room)" }
                    }
                }
                button.save-seat-type { "Save" }
            }
            (admission_rules_form(conf, t.id))
        }
    }
}

/// A seat type's admission rules: the conference days it admits on, the earliest entry, and
/// the ID and minor flags the door shows.
fn admission_rules_form(conf: &ConferencePage, seat_type: SeatTypeId) -> Markup {
    let rules = conf.conference.rules_for(seat_type);
    let days: Vec<chrono::NaiveDate> = conf
        .conference
        .details
        .as_ref()
        .map(|d| {
            d.starts_on
                .iter_days()
                .take_while(|x| *x <= d.ends_on)
                .take(31)
                .collect()
        })
        .unwrap_or_default();
    let zone = conf.conference.zone();
    html! {
        form.admission-rules method="post" action=(conf.href(&format!("/setup/seat-types/{seat_type}/rules"))) {
            input type="hidden" name="csrf" value=(conf.session.csrf);
            fieldset {
                legend { "Admits on (none ticked: every day; " (zone.name()) ")" }
                @for d in &days {
                    label.inline {
                        input type="checkbox" name="valid_on" value=(d) checked[rules.valid_on.contains(d)];
                        " " (d.format("%a %-d %b"))
                    }
                }
            }
            label.inline {
                "Not before "
                input type="time" name="earliest_entry" value=(rules.earliest_entry.map(|t| t.format("%H:%M").to_string()).unwrap_or_default());
            }
            label.inline { input type="checkbox" name="id_check" value="on" checked[rules.id_check]; " check ID" }
            label.inline { input type="checkbox" name="minor" value="on" checked[rules.minor]; " minor" }
            button.save-rules { "Save the admission rules" }
        }
    }
}

fn attendee_types(conf: &ConferencePage, manages: bool) -> Markup {
    html! {
        table #attendee-types {
            tr { th { "Attendee type" } th { "Id" } th { "Badge colour" } th { "Badge template" } th { "Sample badge" } }
            @for a in conf.conference.attendee_types.values() {
                tr data-attendee-type=(a.id.as_str()) {
                    td { (a.name) }
                    td { code { (a.id.as_str()) } }
                    td { span style={ "display:inline-block;width:1em;height:1em;background:" (a.badge_colour.as_str()) } {} " " (a.badge_colour.as_str()) }
                    (super::badges::attendee_type_cell(conf, &a.id, manages))
                }
            }
        }
        @if manages {
            form.card method="post" action=(conf.href("/setup/attendee-types")) #add-attendee-type {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Name " input #attendee-name name="name" required; }
                label.inline { "Id " input #attendee-id name="id" required placeholder="speaker" size="12"; }
                label.inline { "Badge colour " input #attendee-colour type="color" name="badge_colour" value="#e53935"; }
                button #add-attendee { "Define the attendee type" }
            }
        }
    }
}

pub(super) async fn page<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
) -> Response {
    let id = conf.id;
    let (seats, leases) = match app
        .store
        .read(move |tx| {
            let (seats, _) = crate::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(id))?;
            Ok::<_, Rejected>((seats, crate::lease::list(tx, id)?))
        })
        .await
    {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let held = crate::lease::held_by_desk(&leases);
    let manages = conf.session.role.manages();
    let published = conf.conference.published;
    let body = html! {
        section.card #publishing {
            @if published {
                p.ok #published { "Published: open for online registration." }
            } @else {
                p.warn #published { "Not published: online registration is closed." }
            }
            @if manages {
                form.inline method="post" action=(conf.href("/setup/publish")) {
                    input type="hidden" name="csrf" value=(conf.session.csrf);
                    input type="hidden" name="published" value=(if published { "false" } else { "true" });
                    button #toggle-publish { (if published { "Unpublish" } else { "Publish" }) }
                }
            }
        }
        h2 { "Details" }
        @if manages { (details_form(&conf)) } @else if let Some(d) = &conf.conference.details {
            p { (d.venue) ", " (d.starts_on) " – " (d.ends_on) } p { (d.description) }
        }
        h2 { "Seat types" }
        (seat_types(&conf, &seats, &held, manages))
        h2 { "Attendee types" }
        (attendee_types(&conf, manages))
        (super::badges::section(&conf, manages))
        (super::hand_outs::section(&conf, manages))
        (super::gates::section(&conf, manages))
        (super::rooms::section(&conf, manages))
        @if manages {
            h2 { "Import registrations" }
            (super::imports::form(&conf))
        }
    };
    conf.render(Tab::Setup, "Set-up", false, &body)
}

#[derive(Deserialize)]
pub(super) struct DetailsForm {
    csrf: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    venue: String,
    starts_on: String,
    ends_on: String,
    #[serde(default)]
    max_seats_per_order: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    owner_name: String,
}

pub(super) async fn details<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<DetailsForm>,
) -> Response {
    let back = conf.href("/setup");
    let (Ok(starts_on), Ok(ends_on)) = (form.starts_on.parse(), form.ends_on.parse()) else {
        return refused(
            &conf.session,
            "The dates are not dates (YYYY-MM-DD).",
            &back,
        );
    };
    let max = match form.max_seats_per_order.trim() {
        "" => None,
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => return refused(&conf.session, "Seats per order: a number from 1.", &back),
        },
    };
    let csrf = form.csrf.clone();
    change(&app, &conf, &headers, &csrf, move |rec| {
        let form = &form;
        admin::update_details(rec, |d| {
            d.name.clone_from(&form.name);
            d.description.clone_from(&form.description);
            d.venue.clone_from(&form.venue);
            d.starts_on = starts_on;
            d.ends_on = ends_on;
            d.max_seats_per_order = max;
            d.time_zone = optional(&form.time_zone);
            d.owner_name = optional(&form.owner_name);
        })
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct PublishForm {
    csrf: String,
    published: String,
}

pub(super) async fn publish<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<PublishForm>,
) -> Response {
    let published = form.published == "true";
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::publish(rec, published)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct SeatTypeForm {
    csrf: String,
    name: String,
    #[serde(default)]
    description: String,
    price: String,
    quota: String,
    kind: String,
    policy: String,
}

pub(super) async fn add_seat_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<SeatTypeForm>,
) -> Response {
    let back = conf.href("/setup");
    let Some(price_minor) = parse_price(&form.price) else {
        return refused(
            &conf.session,
            "The price is not an amount (e.g. 199.00).",
            &back,
        );
    };
    let Ok(quota) = form.quota.trim().parse::<u32>() else {
        return refused(&conf.session, "The quota is not a number of seats.", &back);
    };
    let kind = if form.kind == "add_on" {
        SeatKind::AddOn
    } else {
        SeatKind::Admission
    };
    let policy = if form.policy == "overbook" {
        OversellPolicy::Overbook
    } else {
        OversellPolicy::Reject
    };
    let new = NewSeatType {
        id: None,
        name: form.name.clone(),
        description: form.description.clone(),
        price_minor,
        quota,
        kind,
        policy,
    };
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::add_seat_type(rec, &new).map(drop)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct EditSeatTypeForm {
    csrf: String,
    name: String,
    #[serde(default)]
    description: String,
    price: String,
    policy: String,
}

pub(super) async fn edit_seat_type_form<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, seat_type)): Path<(String, String)>,
    Form(form): Form<EditSeatTypeForm>,
) -> Response {
    let back = conf.href("/setup");
    let Ok(seat_type) = seat_type.parse::<SeatTypeId>() else {
        return refused(&conf.session, "No such seat type.", &back);
    };
    let Some(price_minor) = parse_price(&form.price) else {
        return refused(
            &conf.session,
            "The price is not an amount (e.g. 199.00).",
            &back,
        );
    };
    let change_to = admin::SeatTypeChange {
        name: form.name.clone(),
        description: form.description.clone(),
        price_minor,
        policy: if form.policy == "overbook" {
            OversellPolicy::Overbook
        } else {
            OversellPolicy::Reject
        },
    };
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::update_seat_type(rec, seat_type, &change_to)
    })
    .await
}

/// The admission rules form, read as pairs (`valid_on` repeats).
pub(super) async fn admission_rules<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, seat_type)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let back = conf.href("/setup");
    let Ok(seat_type) = seat_type.parse::<SeatTypeId>() else {
        return refused(&conf.session, "No such seat type.", &back);
    };
    let mut csrf = String::new();
    let mut rules = onsite_shared::admission_rules::AdmissionRules::default();
    for (key, value) in pairs {
        match key.as_str() {
            "csrf" => csrf = value,
            "valid_on" => match value.parse::<chrono::NaiveDate>() {
                Ok(d) => rules.valid_on.push(d),
                Err(_) => return refused(&conf.session, "A day is not a date.", &back),
            },
            "earliest_entry" if !value.trim().is_empty() => {
                match chrono::NaiveTime::parse_from_str(value.trim(), "%H:%M") {
                    Ok(t) => rules.earliest_entry = Some(t),
                    Err(_) => {
                        return refused(
                            &conf.session,
                            "The entry time is not a time (08:00).",
                            &back,
                        );
                    }
                }
            }
            "id_check" => rules.id_check = true,
            "minor" => rules.minor = true,
            _ => {}
        }
    }
    change(&app, &conf, &headers, &csrf, move |rec| {
        admin::set_admission_rules(rec, seat_type, &rules)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct QuotaForm {
    csrf: String,
    quota: String,
    #[serde(default)]
    overbook: Option<String>,
}

pub(super) async fn quota<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, seat_type)): Path<(String, String)>,
    Form(form): Form<QuotaForm>,
) -> Response {
    let back = conf.href("/setup");
    let (Ok(seat_type), Ok(quota)) = (
        seat_type.parse::<SeatTypeId>(),
        form.quota.trim().parse::<u32>(),
    ) else {
        return refused(
            &conf.session,
            "No such seat type, or the quota is not a number.",
            &back,
        );
    };
    let overbook = form.overbook.is_some();
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::change_quota(rec, seat_type, quota, overbook)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct AttendeeTypeForm {
    csrf: String,
    id: String,
    name: String,
    badge_colour: String,
}

pub(super) async fn add_attendee_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<AttendeeTypeForm>,
) -> Response {
    let new = NewAttendeeType {
        id: form.id.trim().to_lowercase(),
        name: form.name.clone(),
        badge_colour: form.badge_colour.clone(),
    };
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::define_attendee_type(rec, &new)
    })
    .await
}

/// The conference's set-up changes, newest first, with who made each.
pub(super) async fn history<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
) -> Response {
    let id = conf.id;
    let changes = match app.store.read(move |tx| admin::history(tx, id, 500)).await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let body = html! {
        table #history {
            tr { th { "When (UTC)" } th { "Who" } th { "What" } th { "Details" } }
            @for c in &changes {
                tr {
                    td { (c.at.get(..19).unwrap_or(&c.at).replace('T', " ")) }
                    td { (c.actor.as_deref().unwrap_or("import or command line")) }
                    td { (c.event_type.trim_start_matches("conference.").replace(['_', '.'], " ")) }
                    td.muted { (summary(&c.payload)) }
                }
            }
        }
    };
    conf.render(Tab::History, "History", false, &body)
}

/// The few fields of a change worth a line: a name, a quota and the one before it, a colour.
fn summary(payload: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for key in [
        "name",
        "quota",
        "previous",
        "policy",
        "badge_colour",
        "template",
        "file",
        "source",
        "imported",
        "skipped",
    ] {
        if let Some(v) = payload.get(key) {
            parts.push(format!("{key}: {}", text(v)));
        }
    }
    if let Some(a) = payload.get("attendee_type").and_then(|v| v.as_str()) {
        parts.push(format!("attendee type: {a}"));
    }
    match payload.get("templates") {
        Some(serde_json::Value::Null) => parts.push("the built-in templates".into()),
        Some(set) => {
            let ids: Vec<String> = set["templates"]
                .as_array()
                .map(|ts| ts.iter().map(|t| text(&t["id"])).collect())
                .unwrap_or_default();
            parts.push(format!("templates: {}", ids.join(", ")));
        }
        None => {}
    }
    for key in ["details", "seat_type", "attendee_type", "defaults"] {
        if let Some(v) = payload.get(key).filter(|v| v.is_object()) {
            for inner in [
                "name",
                "venue",
                "starts_on",
                "ends_on",
                "quota",
                "badge_colour",
                "auto_print",
                "badge_template",
                "printer",
            ] {
                if let Some(x) = v.get(inner) {
                    parts.push(format!("{inner}: {}", text(x)));
                }
            }
        }
    }
    parts.join(", ")
}

#[derive(Deserialize)]
pub(super) struct NewConferenceForm {
    csrf: String,
    name: String,
    slug: String,
    #[serde(default)]
    venue: String,
    starts_on: String,
    ends_on: String,
    currency: String,
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    time_zone: String,
}

/// A form's text, `None` when left empty.
fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The form on the list of conferences (owners).
pub(super) fn new_conference_form(csrf: &str) -> Markup {
    html! {
        h2 { "New conference" }
        form.card method="post" action="/conferences" #new-conference {
            input type="hidden" name="csrf" value=(csrf);
            label.inline { "Name " input #new-name name="name" required; }
            label.inline { "Address (slug) " input #new-slug name="slug" required placeholder="cqrs-summit-2027" pattern="[a-z0-9-]+"; }
            label.inline { "Venue " input #new-venue name="venue"; }
            label.inline { "Starts on " input #new-starts type="date" name="starts_on" required; }
            label.inline { "Ends on " input #new-ends type="date" name="ends_on" required; }
            label.inline { "Time zone " input #new-zone name="time_zone" placeholder="Europe/Zurich" size="16"; }
            label.inline { "Currency " input #new-currency name="currency" value="EUR" size="4" required; }
            label.inline { "Owner " input name="owner_name" placeholder="name"; }
            label.inline { "Owner's email " input type="email" name="owner_email"; }
            button #create-conference { "Create the conference" }
        }
    }
}

pub(super) async fn create<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
    headers: HeaderMap,
    Form(form): Form<NewConferenceForm>,
) -> Response {
    if !form_is_ours(&headers, &session, &form.csrf) {
        return forbidden();
    }
    if !session.role.manages() {
        return not_allowed(&session, "creating conferences");
    }
    let (Ok(starts_on), Ok(ends_on)) = (form.starts_on.parse(), form.ends_on.parse()) else {
        return refused(&session, "The dates are not dates (YYYY-MM-DD).", "/");
    };
    let Ok(currency) = Currency::parse(&form.currency) else {
        return refused(
            &session,
            "The currency is not a three-letter code (EUR).",
            "/",
        );
    };
    let new = NewConference {
        id: None,
        details: onsite_shared::conference::ConferenceDetails {
            name: form.name.clone(),
            slug: form.slug.trim().to_owned(),
            description: String::new(),
            venue: form.venue.clone(),
            starts_on,
            ends_on,
            currency,
            max_seats_per_order: None,
            time_zone: optional(&form.time_zone),
            owner_name: optional(&form.owner_name),
        },
        owner_email: form.owner_email.clone(),
    };
    let (id, actor, now) = (
        ConferenceId::from_uuid(uuid::Uuid::now_v7()),
        session.email.clone(),
        chrono::Utc::now(),
    );
    match admin::write_as(&app.store, id, now, Some(actor), move |rec| {
        admin::create_conference(rec, &new).map(drop)
    })
    .await
    {
        Ok(()) => Redirect::to(&format!("/conferences/{id}/setup")).into_response(),
        Err(Rejected::Domain { message, .. }) => refused(&session, &message, "/"),
        Err(e) => failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_price;

    #[test]
    fn prices_are_read_as_two_decimals() {
        assert_eq!(parse_price("199.00"), Some(19_900));
        assert_eq!(parse_price("199"), Some(19_900));
        assert_eq!(parse_price("12,5"), Some(1_250));
        assert_eq!(parse_price("0.05"), Some(5));
        for bad in ["", "-1", "1.234", "abc", "1.x", ".5"] {
            assert_eq!(parse_price(bad), None, "{bad}");
        }
    }
}
