//! The event log, on top of the SQL interface ([`crate::storage::Tx`]): appending envelopes,
//! loading aggregates from their streams (with snapshots of long ones), and which events it
//! holds already. Both backends share it; the pull, which each backend does its own way, is
//! [`crate::storage::Store::pull`].

use std::collections::HashMap;

use onsite_shared::event::{Envelope, Event, StreamAggregate, StreamId};
use onsite_shared::ids::{ConferenceId, EventId};
use serde::Serialize;

use crate::params;
use crate::storage::{EVENT_COLUMNS, SqlValue, StoreError, Tx, in_list, placeholders, time_text};

/// The current version of a stream (0 when it has no events).
pub fn stream_version(tx: &mut dyn Tx, stream: &StreamId) -> Result<u64, StoreError> {
    crate::storage::count(
        tx,
        "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_type = $1 AND stream_id = $2",
        params![stream.stream_type.as_str(), stream.id.as_str()],
    )
}

/// The states of many streams of one aggregate type at once (one query, whatever their
/// number): a push of a hundred admissions reads its hundred tickets' streams together. For
/// streams that stay short (a ticket's admissions): each is read from its first event, and
/// the snapshots [`load`] keeps of long streams are not looked up (a hundred more lookups
/// in every push, for a snapshot a ticket's stream gets only after a hundred admissions and
/// undos).
pub fn load_many<A: StreamAggregate>(
    tx: &mut dyn Tx,
    streams: &[StreamId],
) -> Result<HashMap<StreamId, (A, u64)>, StoreError> {
    let mut out: HashMap<StreamId, (A, u64)> = HashMap::new();
    let Some(first) = streams.first() else {
        return Ok(out);
    };
    let stream_type = first.stream_type;
    if streams.iter().any(|s| s.stream_type != stream_type) {
        return Err(StoreError::Corrupt(
            "load_many over several stream types".into(),
        ));
    }
    let mut ids: Vec<&str> = streams.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let list = in_list(2, ids.len());
    let mut values = vec![SqlValue::from(stream_type.as_str())];
    values.extend(ids.iter().map(|id| SqlValue::from(*id)));
    out.reserve(ids.len());
    for id in &ids {
        out.insert(
            StreamId {
                stream_type,
                id: (*id).to_owned(),
            },
            (A::default(), 0),
        );
    }
    // Sorted here, not by `ORDER BY`: asked for the index's order, PostgreSQL (before 17)
    // scans every stream of the type and filters by the list, which grows with the log.
    let mut rows = tx.query(
        &format!(
            "SELECT stream_id, version, event_type, schema_version, payload FROM events \
             WHERE stream_type = $1 AND stream_id IN ({list})"
        ),
        &values,
    )?;
    rows.sort_by_cached_key(|r| (r.text(0).unwrap_or_default(), r.int(1).unwrap_or(0)));
    for r in &rows {
        let stream = StreamId {
            stream_type,
            id: r.text(0)?,
        };
        let version = u64::try_from(r.int(1)?).unwrap_or(0);
        let Some((state, at)) = out.remove(&stream) else {
            continue;
        };
        let next = if version > at {
            let payload = serde_json::from_str(&r.text(4)?)?;
            let schema = u16::try_from(r.int(3)?).unwrap_or(0);
            let event = Event::decode(&r.text(2)?, schema, payload)?;
            let state = match A::pick_owned(event) {
                Some(e) => state.evolve(&e),
                None => state,
            };
            (state, version)
        } else {
            (state, at)
        };
        out.insert(stream, next);
    }
    Ok(out)
}

/// Which of `ids` are in the log already.
pub fn existing_events(
    tx: &mut dyn Tx,
    ids: &[EventId],
) -> Result<std::collections::HashSet<EventId>, StoreError> {
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let list = in_list(1, ids.len());
    let values: Vec<SqlValue> = ids
        .iter()
        .map(|id| SqlValue::from(id.to_string()))
        .collect();
    tx.query(
        &format!("SELECT event_id FROM events WHERE event_id IN ({list})"),
        &values,
    )?
    .iter()
    .map(|r| r.parse(0))
    .collect()
}

/// An envelope ready for the log, its payload already the JSON text the log keeps (the
/// envelope's own `payload` is not read). A push makes that text before the writer runs.
#[derive(Debug)]
pub struct Append {
    pub envelope: Envelope,
    pub payload: String,
}

impl Append {
    pub fn new(mut envelope: Envelope) -> Result<Self, StoreError> {
        let payload = serde_json::to_string(&std::mem::take(&mut envelope.payload))?;
        Ok(Self { envelope, payload })
    }
}

/// Appends envelopes (their versions already set), as many rows per statement as the backend
/// likes ([`Dialect::rows_per_insert`]). A clash on
/// `(stream, version)` or on `event_id` becomes [`StoreError::Conflict`].
pub fn insert_events(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    events: Vec<Append>,
) -> Result<(), StoreError> {
    const COLUMNS: usize = 14;
    let conference = conference.to_string();
    let bulk = tx.dialect() == crate::storage::Dialect::Postgres
        && events.len() >= crate::storage::COPY_FROM_ROWS;
    let per_statement = if bulk {
        events.len()
    } else {
        tx.dialect().rows_per_insert()
    };
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut values = Vec::with_capacity(per_statement.min(events.len()) * COLUMNS);
        let mut rows = 0;
        for Append {
            envelope: e,
            payload,
        } in events.by_ref().take(per_statement)
        {
            let recorded_at = e.recorded_at.map(|t| time_text(&t)).unwrap_or_default();
            values.extend([
                SqlValue::from(e.event_id.to_string()),
                SqlValue::from(conference.as_str()),
                SqlValue::from(e.stream.stream_type.as_str()),
                SqlValue::from(e.stream.id),
                SqlValue::from(e.version),
                SqlValue::from(e.event_type),
                SqlValue::from(i64::from(e.schema_version)),
                SqlValue::from(time_text(&e.occurred_at)),
                SqlValue::from(recorded_at),
                SqlValue::from(e.device_id.map(|d| d.to_string())),
                SqlValue::from(e.client_seq),
                SqlValue::from(e.causation_id.map(|d| d.to_string())),
                SqlValue::from(e.correlation_id.map(|d| d.to_string())),
                SqlValue::from(payload),
            ]);
            rows += 1;
        }
        // SQLite inserts one row per statement, for every event: its statement is made once.
        static ONE_ROW: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "INSERT INTO events ({EVENT_COLUMNS}) VALUES {}",
                placeholders(1, COLUMNS)
            )
        });
        if bulk {
            tx.copy_rows("events", EVENT_COLUMNS, COLUMNS, values)?;
        } else if rows == 1 {
            tx.execute(&ONE_ROW, &values)?;
        } else {
            tx.execute(
                &format!(
                    "INSERT INTO events ({EVENT_COLUMNS}) VALUES {}",
                    placeholders(rows, COLUMNS)
                ),
                &values,
            )?;
        }
    }
    Ok(())
}

/// The events of one stream after `after_version`, decoded.
pub fn stream_events(
    tx: &mut dyn Tx,
    stream: &StreamId,
    after_version: u64,
) -> Result<Vec<(u64, Event)>, StoreError> {
    let rows = tx.query(
        "SELECT version, event_type, schema_version, payload FROM events \
         WHERE stream_type = $1 AND stream_id = $2 AND version > $3 ORDER BY version",
        params![
            stream.stream_type.as_str(),
            stream.id.as_str(),
            after_version
        ],
    )?;
    rows.iter()
        .map(|r| {
            let version = u64::try_from(r.int(0)?).unwrap_or(0);
            let payload = serde_json::from_str(&r.text(3)?)?;
            let schema = u16::try_from(r.int(2)?).unwrap_or(0);
            Ok((version, Event::decode(&r.text(1)?, schema, payload)?))
        })
        .collect()
}

/// How many events past its snapshot a stream may grow before loading it writes a new one.
const SNAPSHOT_EVERY: u64 = 100;

/// Loads an aggregate: its snapshot (if any) plus the events after it. Long tails are
/// snapshotted in the same transaction, so a snapshot never disagrees with the log.
pub fn load<A: StreamAggregate>(
    tx: &mut dyn Tx,
    stream: &StreamId,
) -> Result<(A, u64), StoreError> {
    let rows = tx.query(
        "SELECT version, state FROM snapshots WHERE stream_type = $1 AND stream_id = $2",
        params![stream.stream_type.as_str(), stream.id.as_str()],
    )?;
    let (mut state, mut version) = match rows.first() {
        // A snapshot of an older shape is ignored: the log is the truth.
        Some(r) => match serde_json::from_str::<A>(&r.text(1)?) {
            Ok(state) => (state, u64::try_from(r.int(0)?).unwrap_or(0)),
            Err(_) => (A::default(), 0),
        },
        None => (A::default(), 0),
    };
    let snapshot_version = version;
    for (v, event) in stream_events(tx, stream, version)? {
        if let Some(e) = A::pick_owned(event) {
            state = state.evolve(&e);
        }
        version = v;
    }
    // Readers leave the snapshot to the next write that loads the stream.
    if version - snapshot_version >= SNAPSHOT_EVERY && !tx.read_only() {
        save_snapshot(tx, stream, version, &state)?;
    }
    Ok((state, version))
}

fn save_snapshot<A: Serialize>(
    tx: &mut dyn Tx,
    stream: &StreamId,
    version: u64,
    state: &A,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO snapshots (stream_type, stream_id, version, state) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (stream_type, stream_id) DO UPDATE SET version = excluded.version, state = excluded.state",
        params![stream.stream_type.as_str(), stream.id.as_str(), version, serde_json::to_string(state)?],
    )?;
    Ok(())
}
