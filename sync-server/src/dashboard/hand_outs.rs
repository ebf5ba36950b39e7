//! Hand-outs: on the set-up page, the items the door hands out and who gets each (add or
//! change one, take one away); on the overview, how many were handed out, with the export.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::hand_out::Item;
use onsite_shared::ids::{AttendeeTypeId, SeatTypeId};

use super::ConferencePage;
use super::setup::change;
use crate::App;
use crate::admin;
use crate::head_office::HandOuts;
use crate::recorder::Recorder;
use crate::storage::Store;

/// Who gets an item, in words.
fn who(conf: &Conference, item: &Item) -> String {
    let mut names: Vec<String> = item
        .seat_types
        .iter()
        .map(|s| conf.seat_type(*s).map_or(s.to_string(), |s| s.name.clone()))
        .collect();
    names.extend(item.attendee_types.iter().map(|a| {
        conf.attendee_types
            .get(a)
            .map_or(a.to_string(), |a| a.name.clone())
    }));
    if names.is_empty() {
        "everyone".into()
    } else {
        names.join(", ")
    }
}

/// The Hand-outs section of the set-up page.
pub(super) fn section(conf: &ConferencePage, manages: bool) -> Markup {
    let c = &conf.conference;
    html! {
        h2 { "Hand-outs" }
        p.muted { "What the door hands over (T-shirts, vouchers, kits), once per person; the desks show it on the check-in card." }
        table #hand-out-items {
            tr { th { "Item" } th { "Sizes" } th { "Who gets it" } @if manages { th {} } }
            @for item in &c.hand_outs {
                tr data-item=(item.id) {
                    td { (item.name) " " code { (item.id) } }
                    td { @if item.sizes.is_empty() { "—" } @else { (item.sizes.join(", ")) } }
                    td { (who(c, item)) }
                    @if manages {
                        td {
                            form.act method="post" action=(conf.href(&format!("/setup/hand-outs/{}/remove", item.id))) {
                                input type="hidden" name="csrf" value=(conf.session.csrf);
                                button.remove-item { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        @if manages {
            form.card method="post" action=(conf.href("/setup/hand-outs")) #hand-out-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Id " input #item-id name="id" required size="14" placeholder="t-shirt" pattern="[a-z0-9_-]{1,40}"; }
                label.inline { "Name " input #item-name name="name" required size="18" placeholder="T-shirt"; }
                label.inline { "Sizes " input #item-sizes name="sizes" size="16" placeholder="S, M, L (or none)"; }
                label.inline {
                    "For "
                    select #item-for name="for" multiple size="4" {
                        @for s in c.seat_types.values() {
                            option value={ "seat:" (s.id) } { (s.name) }
                        }
                        @for a in c.attendee_types.values() {
                            option value={ "type:" (a.id) } { (a.name) " (attendee type)" }
                        }
                    }
                }
                span.muted { " (none chosen: everyone)" }
                button #save-item { "Add or change the item" }
            }
        }
    }
}

/// The hand-out counts on the overview.
pub(super) fn counts(conf: &ConferencePage, given: &HandOuts) -> Markup {
    html! {
        h2 { "Hand-outs" }
        @if given.items.is_empty() {
            p.muted { "Nothing is handed out. Items are set up on the set-up page." }
        } @else {
            table #hand-outs {
                tr { th { "Item" } th { "Handed out" } th { "Still to hand out" } th { "By size" } }
                @for i in &given.items {
                    tr data-item=(i.item) data-given=(i.given) data-still=((i.expected - i.given).max(0)) {
                        td { (i.name) }
                        td.n { (i.given) }
                        td.n { ((i.expected - i.given).max(0)) }
                        td {
                            @for (n, s) in i.by_size.iter().enumerate() {
                                @if n > 0 { ", " }
                                (s.size.as_deref().unwrap_or("—")) " " (s.given)
                            }
                        }
                    }
                }
            }
            p { a #export-hand-outs href=(conf.href("/exports/hand-outs.csv")) { "Export the hand-outs (CSV)" } }
        }
    }
}

/// The item form as posted: repeated `for` fields, so read as pairs.
struct ItemForm {
    csrf: String,
    item: Item,
}

fn read_form(pairs: Vec<(String, String)>) -> Result<ItemForm, String> {
    let mut csrf = String::new();
    let mut item = Item {
        id: String::new(),
        name: String::new(),
        sizes: vec![],
        seat_types: vec![],
        attendee_types: vec![],
    };
    for (key, value) in pairs {
        match key.as_str() {
            "csrf" => csrf = value,
            "id" => item.id = value,
            "name" => item.name = value,
            "sizes" => {
                item.sizes = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "for" => match value.split_once(':') {
                Some(("seat", id)) => item.seat_types.push(
                    id.parse::<SeatTypeId>()
                        .map_err(|_| format!("{id:?} is not a seat type"))?,
                ),
                Some(("type", id)) => item
                    .attendee_types
                    .push(AttendeeTypeId::parse(id).map_err(|e| e.to_string())?),
                _ => return Err(format!("{value:?} is not a seat or attendee type")),
            },
            _ => {}
        }
    }
    Ok(ItemForm { csrf, item })
}

/// The items with `id` taken out and `with` put in its place (or at the end).
fn replaced(
    rec: &mut Recorder<'_>,
    id: &str,
    with: Option<&Item>,
) -> Result<Vec<Item>, crate::recorder::Rejected> {
    let (conf, _) = rec.load::<Conference>(&StreamId::conference(rec.conference))?;
    let mut items = conf.hand_outs;
    match (items.iter().position(|i| i.id == id), with) {
        (Some(at), Some(new)) => items[at] = new.clone(),
        (Some(at), None) => {
            items.remove(at);
        }
        (None, Some(new)) => items.push(new.clone()),
        (None, None) => {}
    }
    Ok(items)
}

pub(super) async fn save<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = match read_form(pairs) {
        Ok(f) => f,
        Err(message) => {
            return super::refused(&conf.session, &message, &conf.href("/setup"));
        }
    };
    let item = form.item;
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        let id = item.id.trim().to_owned();
        let items = replaced(rec, &id, Some(&item))?;
        admin::set_hand_outs(rec, &items)
    })
    .await
}

#[derive(serde::Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn remove<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, item)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        let items = replaced(rec, &item, None)?;
        admin::set_hand_outs(rec, &items)
    })
    .await
}
