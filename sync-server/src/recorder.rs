//! Recording events: versions per stream, server metadata, and the projections that must move
//! in the same transaction (the server's read models are never behind its log).

use std::any::Any;
use std::collections::HashMap;

use onsite_shared::aggregate::{DomainError, Timestamp};
use onsite_shared::event::{Envelope, Event, Metadata, StreamAggregate, StreamId};
use onsite_shared::ids::{ConferenceId, DeviceId, EventId};

use crate::event_log::{self, Append};
use crate::projection;
use crate::storage::{StoreError, Tx};

/// Mints a UUIDv7 event id: time-ordered, so the log's unique index stays local.
pub fn new_event_id() -> EventId {
    EventId::from_uuid(uuid::Uuid::now_v7())
}

/// A pushed event, decoded, and the form the log stores it in (its type and payload text):
/// made on the request's task, so that the writer, every push's bottleneck, does not
/// serialize what the desk sent.
#[derive(Debug)]
pub struct Prepared {
    pub event: Event,
    event_type: String,
    payload: String,
}

impl Prepared {
    pub fn new(event: Event) -> Result<Self, StoreError> {
        let (event_type, payload) = event.to_parts();
        Ok(Self {
            payload: serde_json::to_string(&payload)?,
            event_type,
            event,
        })
    }
}

/// Appends events for one conference inside one transaction.
pub struct Recorder<'t> {
    pub tx: &'t mut dyn Tx,
    pub conference: ConferenceId,
    pub now: Timestamp,
    /// Who caused what is being recorded (the desk's event, when there is one).
    pub causation: Option<EventId>,
    pub device: Option<DeviceId>,
    versions: HashMap<StreamId, u64>,
    /// States this job decided on, moved forward by what it decided: a job that decides on
    /// the same stream many times (an import, a burst of walk-in sales) reads it once.
    states: HashMap<StreamId, Box<dyn Any + Send>>,
    recorded: Vec<EventId>,
    /// Events recorded but not inserted yet: only when [`Recorder::batched`].
    pending: Vec<Append>,
    /// Admissions recorded but not projected yet: only when batched on a backend that
    /// batches appends (PostgreSQL).
    admitted: Vec<projection::Admitted>,
    batched: bool,
    /// Whether appends wait for [`Recorder::into_appends`] ([`Recorder::deferred`]).
    deferred: bool,
    /// Whether recording moves the read models ([`Recorder::unprojected`]).
    projected: bool,
}

impl<'t> Recorder<'t> {
    pub fn new(tx: &'t mut dyn Tx, conference: ConferenceId, now: Timestamp) -> Self {
        Self {
            tx,
            conference,
            now,
            causation: None,
            device: None,
            versions: HashMap::new(),
            states: HashMap::new(),
            recorded: Vec::new(),
            pending: Vec::new(),
            admitted: Vec::new(),
            batched: false,
            deferred: false,
            projected: true,
        }
    }

    /// Decides without writing: every append is kept for [`Recorder::into_appends`], to be
    /// written later (perhaps in another transaction, as the importer's pipeline does). Every
    /// stream the job reads must be read (or [`Recorder::seed`]ed) before its first append:
    /// a read after one is refused, since the log it would read lacks what was decided.
    pub fn deferred(mut self) -> Self {
        self.batched = true;
        self.deferred = true;
        self
    }

    /// A stream's state and version as this job should take them, without reading the log:
    /// what an earlier job decided and has not written yet.
    pub fn seed<A: StreamAggregate + Send + 'static>(
        &mut self,
        stream: &StreamId,
        state: A,
        version: u64,
    ) {
        self.versions.insert(stream.clone(), version);
        self.states.insert(stream.clone(), Box::new(state));
    }

    /// The version this job has taken `stream` to (or found it at).
    pub fn version(&self, stream: &StreamId) -> Option<u64> {
        self.versions.get(stream).copied()
    }

    /// What a [`Recorder::deferred`] job decided, to be written with
    /// [`event_log::insert_events`].
    pub fn into_appends(self) -> Vec<Append> {
        self.pending
    }

    /// Records without moving the read models: for a job that writes the rows its events
    /// lead to itself, whole and many at a time (the importer, [`projection::imported`]).
    pub fn unprojected(mut self) -> Self {
        self.projected = false;
        self
    }

    /// A stream this job creates, under an id it has just minted (a UUIDv7): known to be empty
    /// without reading the log. Were it not (an id used twice), the first append would hit
    /// `UNIQUE(stream, version)` and the job would fail whole.
    pub fn fresh<A: StreamAggregate + Send + 'static>(&mut self, stream: &StreamId) {
        self.versions.insert(stream.clone(), 0);
        self.states.insert(stream.clone(), Box::new(A::default()));
    }

    /// The state of a stream as this job left it, if the job decided on it.
    pub fn state<A: StreamAggregate + Send + 'static>(&self, stream: &StreamId) -> Option<&A> {
        self.states.get(stream).and_then(|s| s.downcast_ref::<A>())
    }

    /// Collects appends and writes them as many rows per statement as the backend likes
    /// ([`storage::Dialect::rows_per_insert`]): before anything reads the log again (a load)
    /// and in [`Recorder::finish`], which the job must call. On PostgreSQL a push of a hundred
    /// admissions then costs a few round trips instead of hundreds. On PostgreSQL the
    /// admissions' projection is collected the same way (every other projection change moves
    /// at once, after the admissions collected before it).
    pub fn batched(mut self) -> Self {
        self.batched = true;
        self
    }

    /// Inserts what [`Recorder::batched`] collected.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.deferred && !self.pending.is_empty() {
            return Err(StoreError::Database(format!(
                "a deferred recording read the log after it had decided something ({} events)",
                self.pending.len()
            )));
        }
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            event_log::insert_events(self.tx, self.conference, pending)?;
        }
        self.flush_admitted()
    }

    fn flush_admitted(&mut self) -> Result<(), StoreError> {
        if !self.admitted.is_empty() {
            let admitted = std::mem::take(&mut self.admitted);
            projection::admit_many(self.tx, self.conference, &admitted)?;
        }
        Ok(())
    }

    /// Moves the projections by `event`, in the order events are recorded.
    fn project(&mut self, event: &Event) -> Result<(), StoreError> {
        if !self.projected {
            return Ok(());
        }
        // Where the backend batches appends (a statement is a round trip), admissions too.
        if self.batched
            && self.tx.dialect().rows_per_insert() > 1
            && let Some(admitted) = projection::Admitted::of(event)
        {
            self.admitted.push(admitted);
            return Ok(());
        }
        self.flush_admitted()?;
        projection::apply(self.tx, self.conference, event)
    }

    /// Ends the job's recording (inserting what is still collected) and gives the
    /// transaction back.
    pub fn finish(mut self) -> Result<&'t mut dyn Tx, StoreError> {
        self.flush()?;
        Ok(self.tx)
    }

    fn append(&mut self, e: Append) -> Result<(), StoreError> {
        if self.batched {
            self.pending.push(e);
            // PostgreSQL takes a big batch's events with one `COPY` (see `insert_events`).
            let flush_at = match self.tx.dialect() {
                crate::storage::Dialect::Postgres => 8 * crate::storage::COPY_FROM_ROWS,
                crate::storage::Dialect::Sqlite => self.tx.dialect().rows_per_insert(),
            };
            if !self.deferred && self.pending.len() >= flush_at {
                self.flush()?;
            }
            Ok(())
        } else {
            event_log::insert_events(self.tx, self.conference, vec![e])
        }
    }

    /// Loads an aggregate to decide on it. Its version is remembered: events appended to this
    /// stream continue from the version the decision saw, so if another process appended in
    /// between, the insert hits `UNIQUE(stream, version)` and the job is decided again —
    /// never appended on top of a state it did not see.
    pub fn load<A: StreamAggregate + Send + 'static>(
        &mut self,
        stream: &StreamId,
    ) -> Result<(A, u64), StoreError> {
        if let (Some(state), Some(version)) = (
            self.states.get(stream).and_then(|s| s.downcast_ref::<A>()),
            self.versions.get(stream),
        ) {
            return Ok((state.clone(), *version));
        }
        self.flush()?;
        let (state, version) = event_log::load::<A>(self.tx, stream)?;
        let expected = *self.versions.entry(stream.clone()).or_insert(version);
        if expected != version {
            // Another process appended since this job first read the stream: decide again.
            self.tx.lost_race();
            return Err(StoreError::Conflict(format!(
                "{stream} moved from {expected} to {version} during the job"
            )));
        }
        Ok((state, version))
    }

    /// Reads many streams of one aggregate type together, so that the decisions that follow
    /// find them loaded.
    pub fn preload<A: StreamAggregate + Send + 'static>(
        &mut self,
        streams: &[StreamId],
    ) -> Result<(), StoreError> {
        let unknown: Vec<StreamId> = streams
            .iter()
            .filter(|s| !self.versions.contains_key(*s))
            .cloned()
            .collect();
        self.flush()?;
        for (stream, (state, version)) in event_log::load_many::<A>(self.tx, &unknown)? {
            self.versions.insert(stream.clone(), version);
            self.states.insert(stream, Box::new(state));
        }
        Ok(())
    }

    /// The ids recorded so far, in order.
    pub fn recorded(&self) -> &[EventId] {
        &self.recorded
    }

    /// The ids recorded since the last call; the recorder goes on with the next piece of work
    /// of the same job (what it has loaded stays loaded).
    pub fn take_recorded(&mut self) -> Vec<EventId> {
        std::mem::take(&mut self.recorded)
    }

    fn next_version(&mut self, stream: &StreamId) -> Result<u64, StoreError> {
        let current = match self.versions.get(stream) {
            Some(v) => *v,
            None => {
                self.flush()?;
                event_log::stream_version(self.tx, stream)?
            }
        };
        self.versions.insert(stream.clone(), current + 1);
        Ok(current + 1)
    }

    /// Records a desk's own event as it was pushed: its id, device time, device and sequence
    /// are kept; the server adds the stream version and its own time. `event` is what the
    /// server decided to record; when it is the pushed event unchanged (the usual case), the
    /// stored form made before the writer ran is used.
    pub fn record_pushed(
        &mut self,
        envelope: &Envelope,
        event: &Event,
        pushed: &Prepared,
    ) -> Result<EventId, StoreError> {
        // The desk's payload is not copied: the event (perhaps as the server decided it, and
        // always in the current schema) is what is stored.
        let (event_type, payload) = if *event == pushed.event {
            (pushed.event_type.clone(), pushed.payload.clone())
        } else {
            let (event_type, payload) = event.to_parts();
            (event_type, serde_json::to_string(&payload)?)
        };
        let stream = event.stream();
        let e = Envelope {
            event_id: envelope.event_id,
            version: self.next_version(&stream)?,
            stream,
            schema_version: onsite_shared::event::current_schema_version(&event_type)
                .unwrap_or(envelope.schema_version),
            event_type,
            occurred_at: envelope.occurred_at,
            recorded_at: Some(self.now),
            // The desk as its token says (a push that claimed another was refused).
            device_id: self.device.or(envelope.device_id),
            client_seq: envelope.client_seq,
            causation_id: envelope.causation_id,
            correlation_id: envelope.correlation_id,
            payload: serde_json::Value::Null,
        };
        let id = e.event_id;
        self.states.remove(&e.stream);
        self.append(Append {
            envelope: e,
            payload,
        })?;
        self.project(event)?;
        self.recorded.push(id);
        Ok(id)
    }

    /// Records an event the server decided.
    pub fn record(&mut self, event: &Event) -> Result<EventId, StoreError> {
        let stream = event.stream();
        let version = self.next_version(&stream)?;
        let meta = Metadata {
            device_id: self.device,
            client_seq: None,
            causation_id: self.causation,
            correlation_id: self.causation,
        };
        let mut e = Envelope::new(new_event_id(), event, version, self.now, meta);
        e.recorded_at = Some(self.now);
        let id = e.event_id;
        self.append(Append::new(e)?)?;
        self.project(event)?;
        self.states.remove(&stream);
        self.recorded.push(id);
        Ok(id)
    }

    pub fn record_all(&mut self, events: &[Event]) -> Result<(), StoreError> {
        for e in events {
            self.record(e)?;
        }
        Ok(())
    }

    /// Loads an aggregate, decides a command on it and records what it decided.
    pub fn execute<A>(
        &mut self,
        stream: &StreamId,
        command: &A::Command,
    ) -> Result<Vec<Event>, Rejected>
    where
        A: StreamAggregate + Send + 'static,
        A::Error: DomainError,
        A::Event: Clone,
        Event: From<A::Event>,
    {
        let (state, _) = self.load::<A>(stream)?;
        let decided = state.decide(command).map_err(|e| Rejected::Domain {
            code: e.code(),
            message: e.to_string(),
        })?;
        let events: Vec<Event> = decided.iter().cloned().map(Event::from).collect();
        self.record_all(&events)?;
        // Every event went to `stream` (an aggregate decides for itself only), so its state
        // after them is the old one moved forward.
        if events.iter().all(|e| &e.stream() == stream) {
            let next = decided.iter().fold(state, A::evolve);
            self.states.insert(stream.clone(), Box::new(next));
        }
        Ok(events)
    }
}

/// Why a command recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("{message}")]
    Domain { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}
