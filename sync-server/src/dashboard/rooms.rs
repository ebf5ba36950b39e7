//! Rooms on the set-up page (add or change one: who may enter, its capacity; take one away)
//! and on the overview (how full each is now, how many came).

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::SeatTypeId;
use onsite_shared::room::Room;

use super::ConferencePage;
use super::setup::change;
use crate::App;
use crate::admin;
use crate::head_office::RoomAttendance;
use crate::recorder::{Recorder, Rejected};
use crate::storage::Store;

/// The Rooms section of the set-up page.
pub(super) fn section(conf: &ConferencePage, manages: bool) -> Markup {
    let c = &conf.conference;
    let seat_name = |id: &SeatTypeId| {
        c.seat_types
            .get(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    html! {
        h2 { "Rooms" }
        p.muted { "A desk set to a room's name scans people into it: green for holders of the room's seat types, a warning at 80 % and 95 % of its capacity, refused when full unless staff give a reason." }
        table #rooms {
            tr { th { "Room" } th { "Who may enter" } th { "Capacity" } @if manages { th {} } }
            @for r in &c.rooms {
                tr data-room=(r.name) {
                    td { (r.name) }
                    td {
                        @if r.seat_types.is_empty() { "everyone" }
                        @else { (r.seat_types.iter().map(seat_name).collect::<Vec<_>>().join(", ")) }
                    }
                    td.n { @match r.capacity { Some(n) => { (n) } None => { "—" } } }
                    @if manages {
                        td {
                            form.act method="post" action=(conf.href("/setup/rooms/remove")) {
                                input type="hidden" name="csrf" value=(conf.session.csrf);
                                input type="hidden" name="name" value=(r.name);
                                button.remove-room { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        @if manages {
            form.card method="post" action=(conf.href("/setup/rooms")) #room-form {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Room " input #room-name name="name" required size="16" placeholder="Workshop A"; }
                label.inline { "Capacity " input #room-capacity name="capacity" size="6" inputmode="numeric" placeholder="no limit"; }
                label.inline {
                    "For "
                    select #room-for name="for" multiple size="4" {
                        @for s in c.seat_types.values() {
                            option value=(s.id) { (s.name) }
                        }
                    }
                }
                span.muted { " (none chosen: everyone)" }
                button #save-room { "Add or change the room" }
            }
        }
    }
}

/// The rooms on the overview.
pub(super) fn numbers(rooms: &[RoomAttendance]) -> Markup {
    html! {
        h2 { "Rooms" }
        table #room-numbers {
            tr { th { "Room" } th { "In now" } th { "Capacity" } th { "Came" } }
            @for r in rooms {
                tr data-room=(r.room) data-inside=(r.inside_now) data-attended=(r.attended) {
                    td { (r.room) }
                    td.n { (r.inside_now) }
                    td.n { @match r.capacity { Some(n) => { (n) } None => { "—" } } }
                    td.n { (r.attended) }
                }
            }
        }
    }
}

/// The room form as posted: repeated `for` fields, so read as pairs.
fn read_form(pairs: Vec<(String, String)>) -> Result<(String, Room), String> {
    let mut csrf = String::new();
    let mut room = Room {
        name: String::new(),
        seat_types: vec![],
        capacity: None,
    };
    for (key, value) in pairs {
        match key.as_str() {
            "csrf" => csrf = value,
            "name" => room.name = value,
            "capacity" => {
                let v = value.trim();
                room.capacity = if v.is_empty() {
                    None
                } else {
                    Some(
                        v.parse()
                            .map_err(|_| format!("{v:?} is not a capacity: a whole number"))?,
                    )
                };
            }
            "for" => room.seat_types.push(
                value
                    .parse::<SeatTypeId>()
                    .map_err(|_| format!("{value:?} is not a seat type"))?,
            ),
            _ => {}
        }
    }
    Ok((csrf, room))
}

/// The conference's rooms with the one called `name` taken out and `with` put in its place
/// (or at the end), then set.
fn replace(rec: &mut Recorder<'_>, name: &str, with: Option<Room>) -> Result<(), Rejected> {
    let (conf, _) = rec.load::<Conference>(&StreamId::conference(rec.conference))?;
    let mut rooms = conf.rooms;
    let at = rooms
        .iter()
        .position(|r| r.name.eq_ignore_ascii_case(name.trim()));
    match (at, with) {
        (Some(at), Some(new)) => rooms[at] = new,
        (Some(at), None) => {
            rooms.remove(at);
        }
        (None, Some(new)) => rooms.push(new),
        (None, None) => {}
    }
    admin::set_rooms(rec, &rooms)
}

pub(super) async fn save<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (csrf, room) = match read_form(pairs) {
        Ok(f) => f,
        Err(message) => return super::refused(&conf.session, &message, &conf.href("/setup")),
    };
    change(&app, &conf, &headers, &csrf, move |rec| {
        replace(rec, &room.name.clone(), Some(room.clone()))
    })
    .await
}

#[derive(serde::Deserialize)]
pub(super) struct RemoveForm {
    csrf: String,
    name: String,
}

pub(super) async fn remove<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let name = form.name.clone();
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        replace(rec, &name, None)
    })
    .await
}
