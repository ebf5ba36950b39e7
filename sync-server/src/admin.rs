//! Conference administration: the book's Conference Management context, driven by head office
//! through the API (and by `demo` and `import`). Quota changes reach `SeatsAvailability` in the
//! same transaction as the conference's own event (the book's `AddSeats`/`RemoveSeats`
//! translation, B:5082–5083), so seats and seat types never disagree.

use onsite_shared::conference::{
    self, AttendeeType, Colour, Conference, ConferenceDetails, OversellPolicy, SeatKind, SeatType,
};
use onsite_shared::error_code;
use onsite_shared::event::{Event, StreamId};
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

pub fn change_quota(
    rec: &mut Recorder<'_>,
    seat_type: SeatTypeId,
    quota: u32,
) -> Result<(), Rejected> {
    let conference = rec.conference;
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
