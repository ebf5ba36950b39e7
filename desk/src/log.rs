//! The two logs: the outbox (the desk's own events, gapless `client_seq`, the server's answer
//! to each) and the remote log (authoritative events pulled from the server, unique by event
//! id, in pull order), with the sequence the server acknowledged.
//!
//! The venue feed (`venue`): other desks' events a venue relay holds, not decided upstream yet,
//! shown on top of the server's state like the desk's own until they are.
//!
//! This module is the only code that reads or writes the `outbox`, `remote` and `venue` tables.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::value::RawValue;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::event::{Envelope, Event, Metadata, StreamId};
use onsite_shared::ids::{DeviceId, EventId};
use onsite_shared::protocol::{OutcomeStatus, PushItem, PushOutcome};

use crate::error::DeskError;
use crate::store::{Identity, parse_setting, parse_time, set_setting, time_text};

/// The text key a stream is stored under (`admission-<conference>/<code>`).
pub(crate) fn stream_key(stream: &StreamId) -> String {
    stream.to_string()
}

/// Outcomes after which a desk event is no longer replayed on top of the server's state:
/// the server did not record it (`rejected`), or it holds it under another id (`duplicate`).
/// An accepted event stays in the overlay until the pull brings it back; a `held` one too.
/// The venue's events (other desks', held at a relay) come first: they happened elsewhere,
/// and this desk decided its own on top of them.
const OVERLAY_SQL: &str = "SELECT envelope FROM ( \
     SELECT 0 AS k, v.seq AS n, v.envelope FROM venue v WHERE v.stream = ?1 \
       AND NOT EXISTS (SELECT 1 FROM remote r WHERE r.event_id = v.event_id) \
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = v.event_id) \
     UNION ALL \
     SELECT 1, o.client_seq, o.envelope FROM outbox o WHERE o.stream = ?1 \
       AND (o.outcome IS NULL OR o.outcome IN ('accepted', 'compensated', 'held')) \
       AND NOT EXISTS (SELECT 1 FROM remote r WHERE r.event_id = o.event_id)) \
     ORDER BY k, n";

/// An envelope as the logs store it and a pull sends it, with its payload left as JSON text.
/// The payload is decoded straight into the typed event, without a JSON tree in between (a
/// tree per event was a fifth of a bootstrap's work), and the envelope is kept without it:
/// the raw text is what the logs keep. The fields are [`Envelope`]'s; building one from this
/// lists every one of them, so a field added there cannot be forgotten here.
#[derive(Deserialize)]
struct WireEnvelope<'a> {
    event_id: EventId,
    stream: StreamId,
    version: u64,
    event_type: String,
    schema_version: u16,
    occurred_at: Timestamp,
    #[serde(default)]
    recorded_at: Option<Timestamp>,
    #[serde(default)]
    device_id: Option<DeviceId>,
    #[serde(default)]
    client_seq: Option<u64>,
    #[serde(default)]
    causation_id: Option<EventId>,
    #[serde(default)]
    correlation_id: Option<EventId>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

impl WireEnvelope<'_> {
    /// The envelope with `payload` in place of the one it carries.
    fn with_payload(self, payload: serde_json::Value) -> Envelope {
        Envelope {
            event_id: self.event_id,
            stream: self.stream,
            version: self.version,
            event_type: self.event_type,
            schema_version: self.schema_version,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            device_id: self.device_id,
            client_seq: self.client_seq,
            causation_id: self.causation_id,
            correlation_id: self.correlation_id,
            payload,
        }
    }

    /// The typed event, and the envelope without its payload (`null`).
    fn decode(self) -> Result<(Envelope, Event), DeskError> {
        let event = Event::decode_json(&self.event_type, self.schema_version, self.payload.get())?;
        Ok((self.with_payload(serde_json::Value::Null), event))
    }
}

/// A stored or pulled envelope's text: the envelope (its payload `null`) and its event.
pub(crate) fn decode_envelope(text: &str) -> Result<(Envelope, Event), DeskError> {
    let wire: WireEnvelope<'_> = serde_json::from_str(text)?;
    wire.decode()
}

/// A stored envelope whole, its payload as it was stored: what a push sends.
fn stored_envelope(text: &str) -> Result<Envelope, DeskError> {
    let wire: WireEnvelope<'_> = serde_json::from_str(text)?;
    let payload = serde_json::from_str(wire.payload.get())?;
    Ok(wire.with_payload(payload))
}

/// The stream a stored envelope belongs to, without decoding its event.
fn stored_stream(text: &str) -> Result<StreamId, DeskError> {
    let wire: WireEnvelope<'_> = serde_json::from_str(text)?;
    Ok(wire.stream)
}

fn decode(envelope: &str) -> Result<Event, DeskError> {
    Ok(decode_envelope(envelope)?.1)
}

/// The desk's own events of `stream` that the server's state does not contain yet, in order.
pub(crate) fn overlay(conn: &Connection, stream: &str) -> Result<Vec<Event>, DeskError> {
    let mut stmt = conn.prepare_cached(OVERLAY_SQL)?;
    let rows = stmt.query_map([stream], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(decode(&row?)?);
    }
    Ok(out)
}

/// The remote events of `stream` before `position` (all of them for `None`), in order.
pub(crate) fn remote_events(
    conn: &Connection,
    stream: &str,
    before: Option<i64>,
) -> Result<Vec<Event>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope FROM remote WHERE stream = ?1 AND position < ?2 ORDER BY position",
    )?;
    let rows = stmt.query_map(params![stream, before.unwrap_or(i64::MAX)], |r| {
        r.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(decode(&row?)?);
    }
    Ok(out)
}

/// The remote events of `stream` after `after` and before `before`, with their positions.
pub(crate) fn remote_between(
    conn: &Connection,
    stream: &str,
    after: i64,
    before: i64,
) -> Result<Vec<(i64, Event)>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, envelope FROM remote WHERE stream = ?1 AND position > ?2 AND position < ?3 \
         ORDER BY position",
    )?;
    let rows = stmt.query_map(params![stream, after, before], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (position, envelope) = row?;
        out.push((position, decode(&envelope)?));
    }
    Ok(out)
}

/// Appends one of the desk's own events to the outbox with the next `client_seq`.
pub(crate) fn append(
    conn: &Connection,
    id: Identity,
    event: &Event,
    occurred_at: Timestamp,
) -> Result<Envelope, DeskError> {
    let stream = event.stream();
    let key = stream_key(&stream);
    let next_seq: u64 = conn
        .prepare_cached("SELECT COALESCE(MAX(client_seq), 0) + 1 FROM outbox")?
        .query_row([], |r| r.get(0))?;
    // The desk's local version: what it knows of the stream, plus one. The server stamps its own.
    let known: u64 = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM remote WHERE stream = ?1) + \
             (SELECT COUNT(*) FROM outbox o WHERE o.stream = ?1 \
              AND NOT EXISTS (SELECT 1 FROM remote r WHERE r.event_id = o.event_id))",
        )?
        .query_row([&key], |r| r.get(0))?;
    let envelope = Envelope::new(
        EventId::from_uuid(uuid::Uuid::now_v7()),
        event,
        known + 1,
        occurred_at,
        Metadata {
            device_id: Some(id.device),
            client_seq: Some(next_seq),
            causation_id: None,
            correlation_id: None,
        },
    );
    conn.prepare_cached(
        "INSERT INTO outbox (client_seq, event_id, stream, event_type, occurred_at, envelope) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        next_seq,
        envelope.event_id.to_string(),
        key,
        envelope.event_type,
        time_text(&occurred_at),
        serde_json::to_string(&envelope)?,
    ])?;
    Ok(envelope)
}

/// Stores a pulled event. `None` when the event id is already in the remote log.
pub(crate) fn insert_remote(
    conn: &Connection,
    envelope: &Envelope,
    raw: &str,
) -> Result<Option<i64>, DeskError> {
    // Not `RETURNING position`: SQLite runs that through a temporary table and a statement
    // journal, which cost a bootstrap more than the inserts themselves.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO remote (event_id, stream, envelope) VALUES (?1, ?2, ?3) \
             ON CONFLICT (event_id) DO NOTHING",
        )?
        .execute(params![
            envelope.event_id.to_string(),
            stream_key(&envelope.stream),
            raw
        ])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// The highest `client_seq` this desk has given an event (0: none).
pub(crate) fn appended(conn: &Connection) -> Result<u64, DeskError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(client_seq), 0) FROM outbox")?
        .query_row([], |r| r.get(0))?)
}

/// The highest `client_seq` the server has acknowledged (0: none).
pub(crate) fn acknowledged(conn: &Connection) -> Result<u64, DeskError> {
    Ok(parse_setting(conn, "acked_seq")?.unwrap_or(0))
}

/// Records that the server has every item up to `seq` (and no further: a 409 says where it
/// wants to resume).
pub(crate) fn set_acknowledged(conn: &Connection, seq: u64) -> Result<(), DeskError> {
    set_setting(conn, "acked_seq", &seq.to_string())
}

/// The next items to push, in `client_seq` order, and how many are pending in all.
pub(crate) fn pending(conn: &Connection, limit: usize) -> Result<(Vec<PushItem>, u64), DeskError> {
    let acked = acknowledged(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT client_seq, envelope FROM outbox WHERE client_seq > ?1 ORDER BY client_seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![acked, limit], |r| {
        Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut items = Vec::new();
    for row in rows {
        let (client_seq, text) = row?;
        items.push(PushItem {
            client_seq,
            event: stored_envelope(&text)?,
        });
    }
    let total: u64 = conn
        .prepare_cached("SELECT COUNT(*) FROM outbox WHERE client_seq > ?1")?
        .query_row([acked], |r| r.get(0))?;
    Ok((items, total))
}

pub(crate) fn outcome_text(s: OutcomeStatus) -> &'static str {
    match s {
        OutcomeStatus::Accepted => "accepted",
        OutcomeStatus::Duplicate => "duplicate",
        OutcomeStatus::Compensated => "compensated",
        OutcomeStatus::Rejected => "rejected",
        OutcomeStatus::Held => "held",
    }
}

fn parse_outcome(s: &str) -> Option<OutcomeStatus> {
    match s {
        "accepted" => Some(OutcomeStatus::Accepted),
        "duplicate" => Some(OutcomeStatus::Duplicate),
        "compensated" => Some(OutcomeStatus::Compensated),
        "rejected" => Some(OutcomeStatus::Rejected),
        "held" => Some(OutcomeStatus::Held),
        _ => None,
    }
}

/// Keeps the server's answer to one pushed item (a `held` never takes a final answer's
/// place: a relay may hold again what upstream has decided). Returns the item's stream when the answer
/// takes it out of the overlay (the server did not record it, or holds it under another id)
/// for the first time: its projection rows must be written again.
pub(crate) fn record_outcome(
    conn: &Connection,
    outcome: &PushOutcome,
) -> Result<Option<StreamId>, DeskError> {
    let changed: Option<String> = conn
        .prepare_cached(
            "UPDATE outbox SET outcome = ?3, reason = ?4 WHERE client_seq = ?1 AND event_id = ?2 \
             AND outcome IS NOT ?3 AND (?3 <> 'held' OR outcome IS NULL) RETURNING envelope",
        )?
        .query_row(
            params![
                outcome.client_seq,
                outcome.event_id.to_string(),
                outcome_text(outcome.status),
                outcome.reason
            ],
            |r| r.get(0),
        )
        .optional()?;
    let leaves_overlay = matches!(
        outcome.status,
        OutcomeStatus::Rejected | OutcomeStatus::Duplicate
    );
    match changed {
        Some(text) if leaves_overlay => Ok(Some(stored_stream(&text)?)),
        _ => Ok(None),
    }
}

/// The lowest sequence a relay answered `held` and no final outcome has come for yet.
pub(crate) fn first_held(conn: &Connection) -> Result<Option<u64>, DeskError> {
    Ok(conn
        .prepare_cached("SELECT MIN(client_seq) FROM outbox WHERE outcome = 'held'")?
        .query_row([], |r| r.get(0))?)
}

/// Stores venue events (other desks', held at a relay); returns the streams that gained one.
/// An event the desk has already (its own, or in the remote log) is not stored.
pub(crate) fn insert_venue(
    conn: &Connection,
    events: &[(String, Envelope)],
) -> Result<Vec<StreamId>, DeskError> {
    let mut streams = Vec::new();
    for (raw, envelope) in events {
        let inserted = conn
            .prepare_cached(
                "INSERT INTO venue (event_id, stream, envelope) SELECT ?1, ?2, ?3 \
                 WHERE NOT EXISTS (SELECT 1 FROM remote WHERE event_id = ?1) \
                 AND NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = ?1) \
                 ON CONFLICT (event_id) DO NOTHING",
            )?
            .execute(params![
                envelope.event_id.to_string(),
                stream_key(&envelope.stream),
                raw
            ])?;
        if inserted == 1 {
            streams.push(envelope.stream.clone());
        }
    }
    Ok(streams)
}

/// Forgets venue events (upstream refused them); returns their streams.
pub(crate) fn remove_venue(conn: &Connection, ids: &[EventId]) -> Result<Vec<StreamId>, DeskError> {
    let mut streams = Vec::new();
    for id in ids {
        let gone: Option<String> = conn
            .prepare_cached("DELETE FROM venue WHERE event_id = ?1 RETURNING envelope")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        if let Some(text) = gone {
            streams.push(stored_stream(&text)?);
        }
    }
    Ok(streams)
}

/// Forgets the whole venue feed (the server now spoken to has none, or the feed started
/// again); returns the streams that held any of it, and drops the venue events the remote
/// log has anyway.
pub(crate) fn clear_venue(conn: &Connection) -> Result<Vec<StreamId>, DeskError> {
    let texts: Vec<String> = conn
        .prepare_cached(
            "DELETE FROM venue WHERE NOT EXISTS \
             (SELECT 1 FROM remote r WHERE r.event_id = venue.event_id) RETURNING envelope",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    conn.execute("DELETE FROM venue", [])?;
    texts.iter().map(|t| stored_stream(t)).collect()
}

/// Venue events the remote log now has: no longer needed.
pub(crate) fn prune_venue(conn: &Connection) -> Result<(), DeskError> {
    conn.prepare_cached(
        "DELETE FROM venue WHERE EXISTS (SELECT 1 FROM remote r WHERE r.event_id = venue.event_id)",
    )?
    .execute([])?;
    Ok(())
}

/// The local half of the sync status, as the logs have it.
pub(crate) struct Counts {
    pub acknowledged: u64,
    pub pending: u64,
    pub oldest_pending_at: Option<Timestamp>,
    pub appended: u64,
    pub pulled: u64,
    /// Acknowledged by a relay (`held`), not decided upstream yet.
    pub held: u64,
}

pub(crate) fn counts(conn: &Connection) -> Result<Counts, DeskError> {
    let acknowledged = acknowledged(conn)?;
    let (pending, oldest): (u64, Option<String>) = conn.query_row(
        "SELECT COUNT(*), MIN(occurred_at) FROM outbox WHERE client_seq > ?1",
        [acknowledged],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let appended = appended(conn)?;
    let pulled: u64 = conn.query_row("SELECT COUNT(*) FROM remote", [], |r| r.get(0))?;
    let held: u64 = conn
        .prepare_cached("SELECT COUNT(*) FROM outbox WHERE outcome = 'held'")?
        .query_row([], |r| r.get(0))?;
    Ok(Counts {
        acknowledged,
        pending,
        oldest_pending_at: oldest.map(|t| parse_time(&t)).transpose()?,
        appended,
        pulled,
        held,
    })
}

/// One of the desk's own events, with the server's answer.
pub(crate) struct OwnEvent {
    pub client_seq: u64,
    pub event_id: EventId,
    pub event_type: String,
    pub occurred_at: Timestamp,
    pub outcome: Option<OutcomeStatus>,
    pub reason: Option<String>,
}

/// The desk's own events after `after_seq`, oldest first.
pub(crate) fn own_events(
    conn: &Connection,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<OwnEvent>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_seq, event_id, event_type, occurred_at, outcome, reason FROM outbox \
         WHERE client_seq > ?1 ORDER BY client_seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after_seq, limit], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (client_seq, event_id, event_type, occurred_at, outcome, reason) = row?;
        out.push(OwnEvent {
            client_seq,
            event_id: event_id
                .parse()
                .map_err(|_| DeskError::Corrupt(format!("bad event id {event_id:?}")))?,
            event_type,
            occurred_at: parse_time(&occurred_at)?,
            outcome: outcome.as_deref().and_then(parse_outcome),
            reason,
        });
    }
    Ok(out)
}

/// A page of the remote log after `after`, in position order, decoded.
pub(crate) fn remote_page(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, Envelope, Event)>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, envelope FROM remote WHERE position > ?1 ORDER BY position LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut page = Vec::new();
    for row in rows {
        let (position, raw) = row?;
        let (envelope, event) = decode_envelope(&raw)?;
        page.push((position, envelope, event));
    }
    Ok(page)
}

/// Every stream the desk has appended its own events to, in the order it first did.
pub(crate) fn own_streams(conn: &Connection) -> Result<Vec<StreamId>, DeskError> {
    let texts: Vec<String> = conn
        .prepare_cached(
            "SELECT envelope FROM outbox WHERE client_seq IN \
             (SELECT MIN(client_seq) FROM outbox GROUP BY stream) ORDER BY client_seq",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    texts.iter().map(|t| stored_stream(t)).collect()
}

/// When the first remote event of `stream` happened, as its payload says (`$.payload.at`):
/// a conflict's opening time.
pub(crate) fn first_remote_at(
    conn: &Connection,
    stream: &str,
) -> Result<Option<String>, DeskError> {
    Ok(conn
        .prepare_cached(
            "SELECT json_extract(envelope, '$.payload.at') FROM remote WHERE stream = ?1 \
             ORDER BY position LIMIT 1",
        )?
        .query_row([stream], |r| r.get(0))
        .optional()?
        .flatten())
}

/// How many streams the remote log holds.
pub(crate) fn remote_stream_count(conn: &Connection) -> Result<u64, DeskError> {
    Ok(
        conn.query_row("SELECT COUNT(DISTINCT stream) FROM remote", [], |r| {
            r.get(0)
        })?,
    )
}
