//! The sync protocol on the server: push (re-decide every desk event) and pull.
//!
//! A push runs in one transaction: the client's sequence is checked and advanced, every item's
//! outcome is stored, and every event an item produced is appended — all or nothing. A repeat
//! of an item already seen gets its stored outcome back and changes nothing; an item whose
//! event id is already in the log (the same event pushed under another client id after a
//! reinstall) is a `duplicate`. A gap refuses the whole push with the sequence expected.
//!
//! What the server decides about each desk event is [`onsite_shared::reconciliation`], pure:
//! this module loads what it needs and records what it decided.

use std::collections::HashMap;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::check_in::{self, CheckIn, TicketStatus};
use onsite_shared::error_code;
use onsite_shared::event::{DecodeError, Envelope, Event, StreamId};
use onsite_shared::ids::{ClientId, ConferenceId, ConflictId, DeviceId, EventId, TicketCode};
use onsite_shared::protocol::{
    MAX_PUSH_ITEMS, OLDEST_PROTOCOL_VERSION, OutcomeStatus, PROTOCOL_VERSION, PushOutcome,
    PushRequest, PushResponse,
};
use onsite_shared::reconciliation::walk_in as walk_in_reconciliation;
use onsite_shared::reconciliation::{self, Loaded, Need};
use onsite_shared::walk_in;

use crate::event_log;
use crate::params;
use crate::projection;
use crate::recorder::{Prepared, Recorder};
use crate::storage::{self, StoreError, Tx, time_text};

/// The desk a request comes from, as its token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Desk {
    pub device: DeviceId,
    pub conference: ConferenceId,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("expected client_seq {expected} next")]
    Gap { expected: u64 },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    /// An event claims another desk than the token's.
    #[error("{0}")]
    WrongDesk(String),
    /// This client's log and the server's disagree at a sequence (a copy of the desk pushed).
    #[error("{0}")]
    Diverged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DecodeError> for PushError {
    fn from(e: DecodeError) -> Self {
        PushError::BadRequest {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// The highest `client_seq` a push may carry (the database keeps it as a signed 64-bit number).
pub const MAX_CLIENT_SEQ: u64 = i64::MAX as u64;

/// A push that passed every check that needs no database, its events decoded. The writer
/// (one thread on SQLite, a row lock on PostgreSQL) is every push's bottleneck, so what can
/// happen before it does.
#[derive(Debug)]
pub struct CheckedPush {
    req: PushRequest,
    events: Vec<Prepared>,
    relay: Option<Forwarded>,
}

/// A push a venue relay forwarded: the relay, and the seats it says it handed the desk from
/// its venue leases (what a sale's claim on them is worth).
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub relay: DeviceId,
    pub allocations: Vec<onsite_shared::protocol::VenueAllocation>,
}

impl CheckedPush {
    /// The same push, as forwarded by a venue relay.
    pub fn forwarded(mut self, by: Forwarded) -> Self {
        self.relay = Some(by);
        self
    }

    /// The push as the desk sent it.
    pub fn request(&self) -> &PushRequest {
        &self.req
    }
}

/// Checks a push before it is written: protocol version, size, consecutive sequences, and
/// every event decodable, naming no other desk than the token's and about the desk's
/// conference. An unknown event type or schema
/// version refuses the whole push, so nothing is stored.
pub fn check(desk: Desk, req: PushRequest) -> Result<CheckedPush, PushError> {
    if !(OLDEST_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&req.protocol_version) {
        return Err(PushError::BadRequest {
            code: error_code::UNSUPPORTED_PROTOCOL,
            message: format!(
                "this server speaks sync protocol {OLDEST_PROTOCOL_VERSION} to \
                 {PROTOCOL_VERSION}, not {}",
                req.protocol_version
            ),
        });
    }
    if req.items.len() > MAX_PUSH_ITEMS {
        return Err(PushError::BadRequest {
            code: error_code::TOO_MANY_ITEMS,
            message: format!(
                "at most {MAX_PUSH_ITEMS} items per push, got {}",
                req.items.len()
            ),
        });
    }
    onsite_shared::text::check(
        "app_version",
        &req.app_version,
        onsite_shared::text::limit::LABEL,
        false,
    )
    .map_err(|e| PushError::BadRequest {
        code: e.code(),
        message: e.to_string(),
    })?;
    let mut events = Vec::with_capacity(req.items.len());
    for (i, item) in req.items.iter().enumerate() {
        // Sequences count from 1 and are stored as 64-bit signed integers.
        if !(1..=MAX_CLIENT_SEQ).contains(&item.client_seq) {
            return Err(PushError::BadRequest {
                code: error_code::MALFORMED,
                message: format!(
                    "client_seq {} is outside 1..={MAX_CLIENT_SEQ}",
                    item.client_seq
                ),
            });
        }
        if i > 0 && Some(item.client_seq) != req.items[i - 1].client_seq.checked_add(1) {
            return Err(PushError::BadRequest {
                code: error_code::MALFORMED,
                message: "items must have consecutive client_seq values".into(),
            });
        }
        if item.event.client_seq.is_some_and(|s| s != item.client_seq) {
            return Err(PushError::BadRequest {
                code: error_code::MALFORMED,
                message: format!(
                    "item {} carries an event with another client_seq",
                    item.client_seq
                ),
            });
        }
        let event = item.event.decode()?;
        let claimed = [item.event.device_id, event.acting_desk()];
        if let Some(other) = claimed.into_iter().flatten().find(|d| *d != desk.device) {
            return Err(PushError::WrongDesk(format!(
                "item {} says desk {other} did it; this token is desk {}",
                item.client_seq, desk.device
            )));
        }
        if event
            .door_conference()
            .is_some_and(|c| c != desk.conference)
        {
            return Err(PushError::Forbidden(format!(
                "item {} is about another conference; this desk is enrolled for {}",
                item.client_seq, desk.conference
            )));
        }
        events.push(Prepared::new(event)?);
    }
    Ok(CheckedPush {
        req,
        events,
        relay: None,
    })
}

/// Handles one checked push, inside the caller's transaction.
pub fn push(
    tx: &mut dyn Tx,
    desk: Desk,
    checked: &CheckedPush,
    now: Timestamp,
) -> Result<PushResponse, PushError> {
    let req = &checked.req;
    let last = client_sequence(tx, req.client_id, desk.device)?;
    if let Some(first) = req.items.first()
        && first.client_seq > last + 1
    {
        return Err(PushError::Gap { expected: last + 1 });
    }

    // Read together what the new items will need: whether their events are known, and the
    // streams of the tickets they admit.
    let fresh: Vec<(&onsite_shared::protocol::PushItem, &Event)> = req
        .items
        .iter()
        .zip(checked.events.iter().map(|p| &p.event))
        .filter(|(item, _)| item.client_seq > last)
        .collect();
    let ids: Vec<EventId> = fresh.iter().map(|(item, _)| item.event.event_id).collect();
    let mut known = event_log::existing_events(tx, &ids)?;
    let codes: Vec<&TicketCode> = fresh
        .iter()
        .filter_map(|(_, event)| match event {
            Event::CheckIn(check_in::Event::Admitted { code, .. }) => Some(code),
            _ => None,
        })
        .collect();
    let admissions: Vec<StreamId> = codes
        .iter()
        .map(|code| StreamId::admission(desk.conference, code))
        .collect();
    // Good while the push only admits: any other decision may create or withdraw tickets
    // (a walk-in sale admitted in the same push), and then statuses are read one by one.
    let mut statuses = Some(projection::ticket_statuses(tx, desk.conference, &codes)?);
    // The desk's clock less the server's, as this push shows it: admission rules are judged
    // on the scan time less it too.
    let skew = req.device_time.map(|t| (t - now).num_milliseconds());
    let mut rec = Recorder::new(tx, desk.conference, now).batched();
    rec.device = Some(desk.device);
    rec.preload::<CheckIn>(&admissions)?;

    let mut outcomes = Vec::with_capacity(req.items.len());
    let mut stored = StoredOutcomes::default();
    // The outcomes of the new items (the last ones: a push repeats seen items first).
    let mut fresh_outcomes = 0;
    let mut last_seq = last;
    for (item, pushed) in req.items.iter().zip(&checked.events) {
        if item.client_seq <= last {
            outcomes.push(stored.get(
                rec.tx,
                req.client_id,
                item.client_seq,
                item.event.event_id,
            )?);
            continue;
        }
        let outcome = if !known.insert(item.event.event_id) {
            PushOutcome {
                client_seq: item.client_seq,
                event_id: item.event.event_id,
                status: OutcomeStatus::Duplicate,
                reason: None,
                result_event_ids: vec![],
            }
        } else {
            rec.causation = Some(item.event.event_id);
            if !matches!(
                pushed.event,
                Event::CheckIn(check_in::Event::Admitted { .. })
            ) {
                statuses = None;
            }
            let decided = decide(
                &mut rec,
                &item.event,
                pushed,
                statuses.as_ref(),
                skew,
                checked.relay.as_ref(),
            )?;
            PushOutcome {
                client_seq: item.client_seq,
                event_id: item.event.event_id,
                status: decided.status,
                reason: decided.reason.map(str::to_owned),
                result_event_ids: rec.take_recorded(),
            }
        };
        last_seq = item.client_seq;
        fresh_outcomes += 1;
        outcomes.push(outcome);
    }
    let tx = rec.finish()?;
    store_outcomes(
        tx,
        req.client_id,
        &outcomes[outcomes.len() - fresh_outcomes..],
    )?;
    record_contact(tx, desk, req, last_seq, now)?;
    Ok(PushResponse {
        last_client_seq: last_seq,
        outcomes,
    })
}

/// What a push says of its desk, kept with it: the client's sequence now, its app version,
/// what it still has to push, and that it was seen now.
pub(crate) fn record_contact(
    tx: &mut dyn Tx,
    desk: Desk,
    req: &PushRequest,
    last_seq: u64,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE clients SET last_client_seq = $2, app_version = $3, pending = $4, last_seen = $5 WHERE client_id = $1",
        params![req.client_id.to_string(), last_seq, req.app_version.clone(), req.pending_after, time_text(&now)],
    )?;
    tx.execute(
        "UPDATE devices SET last_seen = $2, app_version = $3, pending = $4 WHERE device_id = $1",
        params![
            desk.device.to_string(),
            time_text(&now),
            req.app_version.clone(),
            req.pending_after
        ],
    )?;
    Ok(())
}

/// The last sequence recorded for a client, creating the client on first contact. On
/// PostgreSQL the row is locked for the rest of the transaction, so two server processes
/// cannot both accept the same sequence.
pub fn client_sequence(
    tx: &mut dyn Tx,
    client: ClientId,
    device: DeviceId,
) -> Result<u64, PushError> {
    tx.execute(
        "INSERT INTO clients (client_id, device_id, last_client_seq) VALUES ($1, $2, 0) \
         ON CONFLICT (client_id) DO NOTHING",
        params![client.to_string(), device.to_string()],
    )?;
    let lock = match tx.dialect() {
        storage::Dialect::Postgres => " FOR UPDATE",
        storage::Dialect::Sqlite => "",
    };
    let rows = tx.query(
        &format!("SELECT device_id, last_client_seq FROM clients WHERE client_id = $1{lock}"),
        params![client.to_string()],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Corrupt("client row vanished".into()))?;
    if row.text(0)? != device.to_string() {
        return Err(PushError::Forbidden(
            "this client id belongs to another desk".into(),
        ));
    }
    Ok(u64::try_from(row.int(1)?).unwrap_or(0))
}

/// Keeps the outcomes of a push's new items (consecutive sequences), so that a repeat gets
/// them back: one row for the whole push, not one per item (a row per item was a tenth of
/// the rows a push of admissions wrote).
fn store_outcomes(
    tx: &mut dyn Tx,
    client: ClientId,
    outcomes: &[PushOutcome],
) -> Result<(), PushError> {
    let (Some(first), Some(last)) = (outcomes.first(), outcomes.last()) else {
        return Ok(());
    };
    tx.execute(
        "INSERT INTO push_outcomes (client_id, first_seq, last_seq, outcomes) VALUES ($1, $2, $3, $4)",
        params![
            client.to_string(),
            first.client_seq,
            last.client_seq,
            serde_json::to_string(outcomes).map_err(StoreError::from)?
        ],
    )?;
    Ok(())
}

/// The stored outcomes of one earlier push, by sequence: a push that repeats items repeats
/// them from the same few earlier pushes, so each is read once.
#[derive(Default)]
struct StoredOutcomes {
    pushes: Vec<(u64, Vec<PushOutcome>)>,
}

impl StoredOutcomes {
    fn get(
        &mut self,
        tx: &mut dyn Tx,
        client: ClientId,
        seq: u64,
        event_id: EventId,
    ) -> Result<PushOutcome, PushError> {
        let outcome = match self.cached(seq) {
            Some(o) => Some(o),
            None if self.read_push(tx, client, seq)? => self.cached(seq),
            None => legacy_outcome(tx, client, seq)?,
        }
        .ok_or_else(|| StoreError::Corrupt(format!("no stored outcome for client_seq {seq}")))?;
        if outcome.client_seq != seq {
            return Err(StoreError::Corrupt(format!(
                "the outcome stored for client_seq {seq} is for {}",
                outcome.client_seq
            ))
            .into());
        }
        if outcome.event_id != event_id {
            return Err(PushError::Diverged(format!(
                "client_seq {seq} was pushed before with another event: another copy of this \
                 desk's database (or an older backup of it) synced first. Ask head office for a \
                 re-enrolment code and re-enrol this desk; it then sends everything again and \
                 nothing is lost"
            )));
        }
        Ok(outcome)
    }

    fn cached(&self, seq: u64) -> Option<PushOutcome> {
        self.pushes.iter().find_map(|(first, outcomes)| {
            let i = usize::try_from(seq.checked_sub(*first)?).ok()?;
            outcomes.get(i).cloned()
        })
    }

    /// Reads the stored push that holds `seq`, if one does, into the cache.
    fn read_push(
        &mut self,
        tx: &mut dyn Tx,
        client: ClientId,
        seq: u64,
    ) -> Result<bool, PushError> {
        let rows = tx.query(
            "SELECT first_seq, last_seq, outcomes FROM push_outcomes \
             WHERE client_id = $1 AND first_seq <= $2 ORDER BY first_seq DESC LIMIT 1",
            params![client.to_string(), seq],
        )?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        if u64::try_from(row.int(1)?).unwrap_or(0) < seq {
            return Ok(false);
        }
        let first = u64::try_from(row.int(0)?).unwrap_or(0);
        self.pushes.push((first, row.json(2)?));
        Ok(true)
    }
}

/// An outcome kept one row per item, by an older server.
fn legacy_outcome(
    tx: &mut dyn Tx,
    client: ClientId,
    seq: u64,
) -> Result<Option<PushOutcome>, PushError> {
    let rows = tx.query(
        "SELECT outcome FROM outcomes WHERE client_id = $1 AND client_seq = $2",
        params![client.to_string(), seq],
    )?;
    Ok(rows.first().map(|r| r.json(0)).transpose()?)
}

/// Decides one desk event again ([`reconciliation::redecide`]) and records the outcome: the
/// desk's event as decided, then the server's own. `statuses` are the tickets' statuses read
/// ahead for this push (a code missing from them is unknown), or `None` to read each one
/// when needed.
fn decide(
    rec: &mut Recorder<'_>,
    envelope: &Envelope,
    pushed: &Prepared,
    statuses: Option<&HashMap<TicketCode, projection::TicketFacts>>,
    clock_skew_ms: Option<i64>,
    relay: Option<&Forwarded>,
) -> Result<reconciliation::Outcome, PushError> {
    let event = &pushed.event;
    let mut loaded = Loaded::default();
    for need in reconciliation::needs(event) {
        match need {
            Need::CheckIn(s) => loaded.check_in = rec.load(&s)?.0,
            Need::TicketStatus { conference, code } => {
                let facts = match statuses {
                    Some(known) => known.get(&code).copied(),
                    None => projection::ticket_facts(rec.tx, conference, &code)?,
                };
                loaded.ticket_status = facts.map_or(TicketStatus::Unknown, |f| f.status);
                loaded.ticket_seat_type = facts.and_then(|f| f.seat_type);
            }
            Need::Badge(s) => loaded.badge = rec.load(&s)?.0,
            Need::TicketConference(ticket) => {
                loaded.ticket_conference = projection::ticket_conference(rec.tx, ticket)?;
            }
            Need::ExistingTickets {
                conference,
                tickets,
                codes,
            } => {
                loaded.existing_tickets =
                    projection::existing_tickets(rec.tx, conference, &tickets, &codes)?;
            }
            Need::Assignments(s) => loaded.assignments = rec.load(&s)?.0,
            Need::Sale(s) => loaded.sale = rec.load(&s)?.0,
            Need::Conference(s) => loaded.conference = rec.load(&s)?.0,
            Need::Seats(s) => loaded.seats = rec.load(&s)?.0,
            Need::Conflict(s) => loaded.conflict = rec.load(&s)?.0,
            Need::HandOut(s) => loaded.hand_outs = rec.load(&s)?.0,
            Need::Room(s) => loaded.rooms = rec.load(&s)?.0,
            Need::RoomOccupancy { conference, room } => {
                loaded.room_occupancy = projection::room_occupancy(rec.tx, conference, &room)?;
            }
            Need::Holds { conference, code } => {
                loaded.holds = projection::holds(rec.tx, conference, &code)?;
            }
        }
    }
    // What venue relays say of the seats a sale claims from their venue leases: the relay
    // that forwarded it, and what relays reported beforehand (the desk may push it itself).
    let vouched = match event {
        Event::WalkIn(walk_in::Event::SaleRecorded { sale }) if !sale.from_leases.is_empty() => {
            let mut vouched: Vec<walk_in_reconciliation::Vouched> = relay
                .map(|r| {
                    r.allocations
                        .iter()
                        .filter(|a| a.order == sale.order)
                        .map(|&allocation| walk_in_reconciliation::Vouched {
                            relay: r.relay,
                            allocation,
                        })
                        .collect()
                })
                .unwrap_or_default();
            vouched.extend(crate::relay::registry::reported(
                rec.tx,
                rec.conference,
                sale.order,
            )?);
            vouched
        }
        _ => Vec::new(),
    };
    let outcome = reconciliation::redecide(
        event,
        &loaded,
        reconciliation::Context {
            conference: rec.conference,
            now: rec.now,
            conflicts: std::iter::repeat_with(|| ConflictId::from_uuid(uuid::Uuid::now_v7())),
            clock_skew_ms,
            vouched,
        },
    )
    .map_err(|e| PushError::BadRequest {
        code: e.code,
        message: e.message,
    })?;
    if let Some(e) = &outcome.desk_event {
        rec.record_pushed(envelope, e, pushed)?;
    }
    rec.record_all(&outcome.events)?;
    Ok(outcome)
}

// ---- pull ----

/// The outcomes stored for a client's items from `from` on, in order, at most `limit`: what
/// a desk asks for items a relay answered `held` (upstream decided them when the relay, or
/// the desk itself after a fail-over, pushed them).
pub fn decided_outcomes(
    tx: &mut dyn Tx,
    client: ClientId,
    from: u64,
    limit: usize,
) -> Result<Vec<PushOutcome>, StoreError> {
    let rows = tx.query(
        "SELECT outcomes FROM push_outcomes WHERE client_id = $1 AND last_seq >= $2 \
         ORDER BY first_seq LIMIT $3",
        params![client.to_string(), from, limit as u64],
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let outcomes: Vec<PushOutcome> = row.json(0)?;
        out.extend(outcomes.into_iter().filter(|o| o.client_seq >= from));
        if out.len() >= limit {
            break;
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// The last sequence the server recorded for a client (0 if it never pushed).
pub fn last_client_seq(tx: &mut dyn Tx, client: Option<ClientId>) -> Result<u64, StoreError> {
    let Some(client) = client else {
        return Ok(0);
    };
    crate::storage::count(
        tx,
        "SELECT last_client_seq FROM clients WHERE client_id = $1",
        params![client.to_string()],
    )
}
