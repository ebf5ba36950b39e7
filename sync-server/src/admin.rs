//! Conference administration: the book's Conference Management context, driven by head office
//! through the API (and by `demo` and `import`). Quota changes reach `SeatsAvailability` in the
//! same transaction as the conference's own event (the book's `AddSeats`/`RemoveSeats`
//! translation, B:5082–5083), so seats and seat types never disagree.

use onsite_shared::badge_template::TemplateSet;
use onsite_shared::conference::{
    self, AttendeeType, Colour, Conference, ConferenceDetails, DeskDefaults, OversellPolicy,
    SeatKind, SeatType,
};
use onsite_shared::error_code;
use onsite_shared::event::{Event, StreamId};
use onsite_shared::hand_out::Item as HandOutItem;
use onsite_shared::ids::{AttendeeTypeId, ConferenceId, SeatTypeId};
use onsite_shared::money::Money;
use onsite_shared::seat_availability::{self, SeatsAvailability};
use serde::{Deserialize, Serialize};

use crate::event_log;
use crate::params;
use crate::recorder::{Recorder, Rejected};
use crate::storage::{StoreError, Tx};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewConference {
    #[serde(default)]
    pub id: Option<ConferenceId>,
    #[serde(flatten)]
    pub details: ConferenceDetails,
    #[serde(default)]
    pub owner_email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewSeatType {
    #[serde(default)]
    pub id: Option<SeatTypeId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price_minor: i64,
    pub quota: u32,
    pub kind: SeatKind,
    #[serde(default)]
    pub policy: OversellPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewAttendeeType {
    pub id: String,
    pub name: String,
    pub badge_colour: String,
}

/// A seat type's new name, description, price and oversell policy (its kind stays: tickets
/// were sold as what they are).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeatTypeChange {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price_minor: i64,
    pub policy: OversellPolicy,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Rejected {
    Rejected::Domain {
        code,
        message: message.into(),
    }
}

/// Creates the recorder's conference. Its slug must not be another conference's.
pub fn create_conference(
    rec: &mut Recorder<'_>,
    new: &NewConference,
) -> Result<ConferenceId, Rejected> {
    let id = rec.conference;
    let slug = new.details.slug.as_str();
    if let Some(other) = conference_by_slug(rec.tx, slug)?
        && other != id
    {
        return Err(invalid(
            error_code::CONFERENCE_SLUG_TAKEN,
            format!("another conference has the slug {slug:?} already"),
        ));
    }
    let command = conference::Command::Create {
        conference: id,
        details: new.details.clone(),
        owner_email: new.owner_email.clone(),
    };
    rec.execute::<Conference>(&StreamId::conference(id), &command)?;
    Ok(id)
}

pub fn add_seat_type(rec: &mut Recorder<'_>, new: &NewSeatType) -> Result<SeatTypeId, Rejected> {
    let conference = rec.conference;
    let (state, _) = rec.load::<Conference>(&StreamId::conference(conference))?;
    let currency = state.currency().ok_or_else(|| {
        invalid(
            error_code::CONFERENCE_NOT_FOUND,
            "the conference does not exist",
        )
    })?;
    let id = new
        .id
        .unwrap_or_else(|| SeatTypeId::from_uuid(uuid::Uuid::now_v7()));
    let seat_type = SeatType {
        id,
        name: new.name.clone(),
        description: new.description.clone(),
        price: Money::new(new.price_minor, currency),
        quota: new.quota,
        kind: new.kind,
        policy: new.policy,
    };
    rec.execute::<Conference>(
        &StreamId::conference(conference),
        &conference::Command::AddSeatType(seat_type),
    )?;
    rec.execute::<SeatsAvailability>(
        &StreamId::seats(conference),
        &seat_availability::Command::AddSeats {
            conference,
            seat_type: id,
            quantity: new.quota,
        },
    )?;
    Ok(id)
}

/// Changes a seat type's quota. Seats already sold or held stay so: a quota below them
/// overbooks (negative remaining, for head office to resolve) and is done only when
/// `overbook` says so; otherwise it is refused with `seats.quota_below_taken`, changing
/// nothing.
pub fn change_quota(
    rec: &mut Recorder<'_>,
    seat_type: SeatTypeId,
    quota: u32,
    overbook: bool,
) -> Result<(), Rejected> {
    let conference = rec.conference;
    let (seats, _) = rec.load::<SeatsAvailability>(&StreamId::seats(conference))?;
    let taken =
        seats.quota.get(&seat_type).copied().unwrap_or(0) - seats.remaining(seat_type).unwrap_or(0);
    if i64::from(quota) < taken && !overbook {
        return Err(invalid(
            error_code::QUOTA_BELOW_TAKEN,
            format!(
                "{taken} seats are sold or held: a quota of {quota} would overbook by {}; \
                 confirm the overbooking to do it anyway",
                taken - i64::from(quota)
            ),
        ));
    }
    let events = rec.execute::<Conference>(
        &StreamId::conference(conference),
        &conference::Command::ChangeQuota { seat_type, quota },
    )?;
    for e in events {
        if let Event::Conference(conference::Event::SeatQuotaChanged {
            previous, quota, ..
        }) = e
        {
            let command = if quota >= previous {
                seat_availability::Command::AddSeats {
                    conference,
                    seat_type,
                    quantity: quota - previous,
                }
            } else {
                seat_availability::Command::RemoveSeats {
                    conference,
                    seat_type,
                    quantity: previous - quota,
                }
            };
            rec.execute::<SeatsAvailability>(&StreamId::seats(conference), &command)?;
        }
    }
    Ok(())
}

/// Edits a seat type: its text and price, and its oversell policy, in one transaction.
pub fn update_seat_type(
    rec: &mut Recorder<'_>,
    seat_type: SeatTypeId,
    change: &SeatTypeChange,
) -> Result<(), Rejected> {
    let stream = StreamId::conference(rec.conference);
    let (state, _) = rec.load::<Conference>(&stream)?;
    let currency = state.currency().ok_or_else(|| {
        invalid(
            error_code::CONFERENCE_NOT_FOUND,
            "the conference does not exist",
        )
    })?;
    rec.execute::<Conference>(
        &stream,
        &conference::Command::UpdateSeatType {
            seat_type,
            name: change.name.clone(),
            description: change.description.clone(),
            price: Money::new(change.price_minor, currency),
        },
    )?;
    rec.execute::<Conference>(
        &stream,
        &conference::Command::SetOversellPolicy {
            seat_type,
            policy: change.policy,
        },
    )?;
    Ok(())
}

/// Sets the conference's badge templates (`None`: the built-in set again).
pub fn set_badge_templates(
    rec: &mut Recorder<'_>,
    templates: Option<TemplateSet>,
) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetBadgeTemplates { templates },
    )?;
    Ok(())
}

/// Sets the template an attendee type's badges use (`None`: the desk defaults').
pub fn set_attendee_type_template(
    rec: &mut Recorder<'_>,
    attendee_type: &str,
    template: Option<String>,
) -> Result<(), Rejected> {
    let attendee_type = AttendeeTypeId::parse(attendee_type)
        .map_err(|e| invalid(error_code::BAD_ATTENDEE_TYPE, e.to_string()))?;
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetAttendeeTypeTemplate {
            attendee_type,
            template,
        },
    )?;
    Ok(())
}

pub fn set_desk_defaults(rec: &mut Recorder<'_>, defaults: &DeskDefaults) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetDeskDefaults(defaults.clone()),
    )?;
    Ok(())
}

pub fn set_result_card(
    rec: &mut Recorder<'_>,
    card: &onsite_shared::conference::ResultCard,
) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetResultCard(card.clone()),
    )?;
    Ok(())
}

pub fn set_rooms(
    rec: &mut Recorder<'_>,
    rooms: &[onsite_shared::room::Room],
) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetRooms(rooms.to_vec()),
    )?;
    Ok(())
}

pub fn set_gates(
    rec: &mut Recorder<'_>,
    gates: &onsite_shared::conference::Gates,
) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetGates(gates.clone()),
    )?;
    Ok(())
}

pub fn set_admission_rules(
    rec: &mut Recorder<'_>,
    seat_type: SeatTypeId,
    rules: &onsite_shared::admission_rules::AdmissionRules,
) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetAdmissionRules {
            seat_type,
            rules: rules.clone(),
        },
    )?;
    Ok(())
}

pub fn set_hand_outs(rec: &mut Recorder<'_>, items: &[HandOutItem]) -> Result<(), Rejected> {
    rec.execute::<Conference>(
        &StreamId::conference(rec.conference),
        &conference::Command::SetHandOuts(items.to_vec()),
    )?;
    Ok(())
}

pub fn define_attendee_type(rec: &mut Recorder<'_>, new: &NewAttendeeType) -> Result<(), Rejected> {
    let id = AttendeeTypeId::parse(&new.id)
        .map_err(|e| invalid(error_code::BAD_ATTENDEE_TYPE, e.to_string()))?;
    let badge_colour = Colour::parse(&new.badge_colour)
        .map_err(|e| invalid(error_code::BAD_COLOUR, e.to_string()))?;
    let command = conference::Command::DefineAttendeeType(AttendeeType {
        id,
        name: new.name.clone(),
        badge_colour,
    });
    rec.execute::<Conference>(&StreamId::conference(rec.conference), &command)?;
    Ok(())
}

/// Changes the conference's details (its slug stays: it is its address on a registration
/// site, and desks and links know it).
pub fn update_details(
    rec: &mut Recorder<'_>,
    change: impl FnOnce(&mut ConferenceDetails),
) -> Result<(), Rejected> {
    let stream = StreamId::conference(rec.conference);
    let (state, _) = rec.load::<Conference>(&stream)?;
    let mut details = state.details.ok_or_else(|| {
        invalid(
            error_code::CONFERENCE_NOT_FOUND,
            "the conference does not exist",
        )
    })?;
    let slug = details.slug.clone();
    change(&mut details);
    details.slug = slug;
    rec.execute::<Conference>(&stream, &conference::Command::Update { details })?;
    Ok(())
}

/// Runs `work` on `conference` in one write transaction; the events it records are attributed
/// to `actor` (a person's email, `token NAME`) for the conference's history, or to nobody (an
/// online buyer).
pub async fn write_as<S, T, F>(
    store: &S,
    conference: ConferenceId,
    now: onsite_shared::Timestamp,
    actor: Option<String>,
    work: F,
) -> Result<T, Rejected>
where
    S: crate::storage::Store,
    T: Send + 'static,
    F: Fn(&mut Recorder<'_>) -> Result<T, Rejected> + Send + 'static,
{
    store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, conference, now);
            let done = work(&mut rec)?;
            let recorded = rec.take_recorded();
            if let Some(actor) = &actor {
                attribute(tx, conference, &recorded, actor)?;
            }
            Ok(done)
        })
        .await
}

/// Says who recorded `events` (a head-office person, or an API token by its name), for the
/// conference's history.
pub fn attribute(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    events: &[onsite_shared::ids::EventId],
    actor: &str,
) -> Result<(), StoreError> {
    let c = conference.to_string();
    let rows = events
        .iter()
        .map(|e| {
            vec![
                crate::storage::SqlValue::from(e.to_string()),
                crate::storage::SqlValue::from(c.as_str()),
                crate::storage::SqlValue::from(actor),
            ]
        })
        .collect();
    let per_statement = tx.dialect().rows_per_insert();
    crate::projection::insert_rows(
        tx,
        "INSERT INTO changes (event_id, conference, actor) VALUES",
        rows,
        per_statement,
    )
}

/// One change to a conference's set-up, for its history page.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub at: String,
    pub event_type: String,
    pub payload: serde_json::Value,
    /// Who: a person's email, `token NAME`, or `None` (an import, the command line, or a
    /// change from before changes were attributed).
    pub actor: Option<String>,
}

/// The conference's set-up changes, newest first: details, publishing, seat types and quotas,
/// attendee types, badges, and imports of registrations (`registrations.imported`, with the
/// file, its source and how many of its registrations were new).
pub fn history(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    limit: u32,
) -> Result<Vec<Change>, StoreError> {
    let mut changes = tx
        .query(
            "SELECT e.recorded_at, e.event_type, e.payload, c.actor FROM events e \
             LEFT JOIN changes c ON c.event_id = e.event_id \
             WHERE e.stream_type = 'conference' AND e.stream_id = $1 \
             ORDER BY e.version DESC LIMIT $2",
            params![conference.to_string(), i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            Ok(Change {
                at: r.text(0)?,
                event_type: r.text(1)?,
                payload: r.json(2)?,
                actor: r.opt_text(3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let imports = tx.query(
        "SELECT at, actor, source, file, registrations, imported FROM import_runs \
         WHERE conference = $1 ORDER BY at DESC LIMIT $2",
        params![conference.to_string(), i64::from(limit)],
    )?;
    for r in &imports {
        let (registrations, imported) = (r.int(4)?, r.int(5)?);
        changes.push(Change {
            at: r.text(0)?,
            event_type: "registrations.imported".into(),
            payload: serde_json::json!({
                "file": r.text(3)?,
                "source": r.text(2)?,
                "imported": imported,
                "skipped": registrations - imported,
            }),
            actor: r.opt_text(1)?,
        });
    }
    changes.sort_by(|a, b| b.at.cmp(&a.at));
    changes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(changes)
}

pub fn publish(rec: &mut Recorder<'_>, published: bool) -> Result<(), Rejected> {
    let command = if published {
        conference::Command::Publish
    } else {
        conference::Command::Unpublish
    };
    rec.execute::<Conference>(&StreamId::conference(rec.conference), &command)?;
    Ok(())
}

/// The conference with this slug, if one exists.
/// Refuses, as "not found", a conference that has no events: for reads, which would otherwise
/// answer an empty list for an id nobody created.
pub fn require_conference(tx: &mut dyn Tx, conference: ConferenceId) -> Result<(), Rejected> {
    let rows = tx.query(
        "SELECT 1 FROM events WHERE stream_type = 'conference' AND stream_id = $1 LIMIT 1",
        params![conference.to_string()],
    )?;
    if rows.is_empty() {
        return Err(Rejected::Domain {
            code: error_code::CONFERENCE_NOT_FOUND,
            message: "no such conference".into(),
        });
    }
    Ok(())
}

pub fn conference_by_slug(tx: &mut dyn Tx, slug: &str) -> Result<Option<ConferenceId>, StoreError> {
    tx.query(
        "SELECT conference FROM conference_slugs WHERE slug = $1",
        params![slug.to_owned()],
    )?
    .first()
    .map(|r| r.parse(0))
    .transpose()
}

/// Fills the slug index of a database written before it existed, from the conferences' own
/// events (once: it does nothing when the index has rows). Where two conferences share a slug,
/// the first created keeps it and a warning names the other. How many slugs it indexed.
pub fn index_slugs(tx: &mut dyn Tx) -> Result<usize, StoreError> {
    let indexed = tx
        .query("SELECT COUNT(*) FROM conference_slugs", params![])?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    if indexed > 0 {
        return Ok(0);
    }
    let created = tx.query(
        "SELECT stream_id FROM events WHERE event_type = 'conference.created' ORDER BY position",
        params![],
    )?;
    let mut count = 0;
    for row in created {
        let id: ConferenceId = row.parse(0)?;
        let (c, _) = event_log::load::<Conference>(tx, &StreamId::conference(id))?;
        let Some(details) = c.details else {
            continue;
        };
        let added = tx.execute(
            "INSERT INTO conference_slugs (slug, conference) VALUES ($1, $2) \
             ON CONFLICT (slug) DO NOTHING",
            params![details.slug.clone(), id.to_string()],
        )?;
        if added == 0 {
            tracing::warn!(conference = %id, slug = %details.slug, "two conferences share a slug; the first created keeps it");
        } else {
            count += 1;
        }
    }
    Ok(count)
}
