//! The two logs: the outbox (the desk's own events, gapless `client_seq`) and the remote log
//! (authoritative events pulled from the server, unique by event id).

use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::value::RawValue;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::event::{Envelope, Event, Metadata, StreamId};
use onsite_shared::ids::{DeviceId, EventId};

use crate::error::DeskError;
use crate::store::{Identity, time_text};

/// The text key a stream is stored under (`admission-<conference>/<code>`).
pub(crate) fn stream_key(stream: &StreamId) -> String {
    stream.to_string()
}

/// Outcomes after which a desk event is no longer replayed on top of the server's state:
/// the server did not record it (`rejected`), or it holds it under another id (`duplicate`).
/// An accepted event stays in the overlay until the pull brings it back.
const OVERLAY_SQL: &str = "SELECT envelope FROM outbox o WHERE o.stream = ?1 \
     AND (o.outcome IS NULL OR o.outcome IN ('accepted', 'compensated')) \
     AND NOT EXISTS (SELECT 1 FROM remote r WHERE r.event_id = o.event_id) \
     ORDER BY o.client_seq";

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
    /// The typed event, and the envelope without its payload (`null`).
    fn decode(self) -> Result<(Envelope, Event), DeskError> {
        let event = Event::decode_json(&self.event_type, self.schema_version, self.payload.get())?;
        let envelope = Envelope {
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
            payload: serde_json::Value::Null,
        };
        Ok((envelope, event))
    }
}

/// A stored or pulled envelope's text: the envelope (its payload `null`) and its event.
pub(crate) fn decode_envelope(text: &str) -> Result<(Envelope, Event), DeskError> {
    let wire: WireEnvelope<'_> = serde_json::from_str(text)?;
    wire.decode()
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
