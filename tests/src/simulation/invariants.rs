//! What must hold once the network has healed and every desk has synced: checked against the
//! server's store and every desk's file. What must hold at every moment is checked after every
//! step too ([`check_step`]): the server oversells nothing and flags each duplicate once, and
//! the desk the step acted on keeps a gapless outbox.
//!
//! - Every desk event has an outcome, nothing is pending, and each one the server did not
//!   refuse is in its log exactly once; each client's sequence is gapless from 1.
//! - No seat type holds more seats than its quota, unless by explicit overbooking (only the
//!   overbooking policy may), and the server's tickets agree with its seat counts.
//! - Every walk-in sale is decided, and the desk that made it shows the server's decision
//!   and refund (the compensation reached it).
//! - Every desk's projections equal a rebuild from its logs, and agree with the server on
//!   every ticket: admitted or not, withdrawn or not, and its duplicate flags.
//! - Each duplicate admission is flagged exactly once.
//! - Every desk knows how wrong its clock is: the skew its sync shows is its clock's error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use onsite_desk_core::{Desk, JobState};
use onsite_server::Store as _;
use onsite_server::event_log;
use onsite_server::head_office;
use onsite_server::storage::{SqlValue, StoreError, Tx};
use onsite_shared::aggregate::Aggregate;
use onsite_shared::badge;
use onsite_shared::check_in::{self, CheckIn};
use onsite_shared::conference::{Conference, OversellPolicy};
use onsite_shared::conflict::{ConflictKind, Resolution};
use onsite_shared::event::{Event, StreamId};
use onsite_shared::ids::{ConferenceId, OrderId, SeatTypeId};
use onsite_shared::order::{Order, OrderStatus};
use onsite_shared::protocol::OutcomeStatus;
use onsite_shared::seat_availability;
use onsite_shared::seat_availability::SeatsAvailability;

use super::World;
use super::printer::VirtualPrinter;

/// What the server holds, read in one transaction.
struct Server {
    conference: Conference,
    seats: SeatsAvailability,
    event_ids: BTreeSet<String>,
    /// Each client's last sequence, and the pushes' sequence ranges.
    clients: HashMap<String, (i64, Vec<(i64, i64)>)>,
    valid_tickets: BTreeMap<String, i64>,
    /// Ticket code → status.
    tickets: BTreeMap<String, String>,
    /// Walk-in order → (status, refund due).
    walk_ins: BTreeMap<String, (String, i64)>,
    admitted: BTreeSet<String>,
    /// Ticket code → (admissions recorded, of them while another was in force).
    admissions_per_code: BTreeMap<String, (u32, u32)>,
    duplicates_per_code: BTreeMap<String, u32>,
    /// Seat type → seats overbooked because head office honoured a walk-in sale.
    honoured: BTreeMap<SeatTypeId, i64>,
    /// Orders whose money came after their hold expired (a conflict for head office).
    paid_after_expiry: BTreeSet<OrderId>,
    /// Print job → how many print events name it.
    prints_per_job: BTreeMap<String, u32>,
    /// Reservations that took seats that were not there (the seats stream folded in order).
    oversold: Vec<String>,
}

fn text(v: &str) -> SqlValue {
    SqlValue::from(v.to_owned())
}

fn read_server(tx: &mut dyn Tx, id: ConferenceId) -> Result<Server, StoreError> {
    let c = id.to_string();
    let mut honoured_orders = BTreeSet::new();
    let mut paid_after_expiry = BTreeSet::new();
    for conflict in head_office::conflicts(tx, id, false)? {
        let kind: ConflictKind = serde_json::from_value(conflict.detail)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let resolution: Option<Resolution> = conflict
            .resolution
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match (kind, resolution) {
            (ConflictKind::WalkInRejected { order, .. }, Some(Resolution::SaleHonoured)) => {
                honoured_orders.insert(order);
            }
            (ConflictKind::PaymentAfterExpiry { order, .. }, _) => {
                paid_after_expiry.insert(order);
            }
            _ => {}
        }
    }
    // The seats stream in its order: a reservation may take only seats that remain. Only an
    // overbooking (by policy, or head office honouring a sale) or a quota cut may take the
    // remaining seats below zero, and both are events of their own.
    let mut oversold = Vec::new();
    let mut remaining: BTreeMap<SeatTypeId, i64> = BTreeMap::new();
    for r in tx.query(
        "SELECT version, event_type, schema_version, payload FROM events \
         WHERE conference = $1 AND stream_type = 'seats' ORDER BY version",
        &[text(&c)],
    )? {
        let event = Event::decode_json(&r.text(1)?, r.parse(2)?, &r.text(3)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let Event::Seats(event) = event else {
            continue;
        };
        match &event {
            seat_availability::Event::AvailableSeatsChanged { seats, .. } => {
                for s in seats {
                    *remaining.entry(s.seat_type).or_default() += s.delta;
                }
            }
            seat_availability::Event::SeatsReserved {
                reservation,
                available_seats_changed,
                ..
            }
            | seat_availability::Event::ReservationCancelled {
                reservation,
                available_seats_changed,
                ..
            } => {
                for s in available_seats_changed {
                    let left = remaining.entry(s.seat_type).or_default();
                    if s.delta < 0 && *left + s.delta < 0 {
                        oversold.push(format!(
                            "version {}: reservation {reservation} took {} seat(s) of {} with {} left",
                            r.int(0)?,
                            -s.delta,
                            s.seat_type,
                            *left
                        ));
                    }
                    *left += s.delta;
                }
            }
            seat_availability::Event::SeatsOverbooked { seats, .. } => {
                for s in seats {
                    *remaining.entry(s.seat_type).or_default() -= i64::from(s.quantity);
                }
            }
            seat_availability::Event::LeaseGranted {
                lease,
                seat_type,
                quantity,
                ..
            } => {
                let left = remaining.entry(*seat_type).or_default();
                if *left < i64::from(*quantity) {
                    oversold.push(format!(
                        "version {}: lease {lease} took {quantity} seat(s) of {seat_type} with {} left",
                        r.int(0)?,
                        *left
                    ));
                }
                *left -= i64::from(*quantity);
            }
            // A sale beyond its lease is a desk's physical fact, said so in the event.
            seat_availability::Event::LeaseSold {
                seat_type,
                beyond_lease,
                ..
            } => {
                *remaining.entry(*seat_type).or_default() -= i64::from(*beyond_lease);
            }
            seat_availability::Event::LeaseReturned {
                seat_type, unsold, ..
            } => {
                *remaining.entry(*seat_type).or_default() += i64::from(*unsold);
            }
            seat_availability::Event::ReservationCommitted { .. } => {}
        }
    }
    let mut prints_per_job: BTreeMap<String, u32> = BTreeMap::new();
    for r in tx.query(
        "SELECT event_type, schema_version, payload FROM events WHERE conference = $1 \
         AND event_type IN ('badge.printed', 'badge.reprinted')",
        &[text(&c)],
    )? {
        let event = Event::decode_json(&r.text(0)?, r.parse(1)?, &r.text(2)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let Event::Badge(badge::Event::Printed { print } | badge::Event::Reprinted { print, .. }) =
            event
        else {
            continue;
        };
        let job = print.job.to_string();
        *prints_per_job.entry(job).or_default() += 1;
    }
    let mut honoured: BTreeMap<SeatTypeId, i64> = BTreeMap::new();
    for r in tx.query(
        "SELECT event_type, schema_version, payload FROM events \
         WHERE conference = $1 AND event_type = 'seats.overbooked'",
        &[text(&c)],
    )? {
        let event = Event::decode_json(&r.text(0)?, r.parse(1)?, &r.text(2)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Event::Seats(seat_availability::Event::SeatsOverbooked {
            reservation, seats, ..
        }) = event
            && honoured_orders.contains(&reservation)
        {
            for s in seats {
                *honoured.entry(s.seat_type).or_default() += i64::from(s.quantity);
            }
        }
    }
    let (conference, _) = event_log::load::<Conference>(tx, &StreamId::conference(id))?;
    let (seats, _) = event_log::load::<SeatsAvailability>(tx, &StreamId::seats(id))?;
    let event_ids = tx
        .query(
            "SELECT event_id FROM events WHERE conference = $1",
            &[text(&c)],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let mut clients: HashMap<String, (i64, Vec<(i64, i64)>)> = HashMap::new();
    for r in tx.query("SELECT client_id, last_client_seq FROM clients", &[])? {
        clients.entry(r.text(0)?).or_default().0 = r.int(1)?;
    }
    for r in tx.query(
        "SELECT client_id, first_seq, last_seq FROM push_outcomes",
        &[],
    )? {
        clients
            .entry(r.text(0)?)
            .or_default()
            .1
            .push((r.int(1)?, r.int(2)?));
    }
    let mut valid_tickets = BTreeMap::new();
    for r in tx.query(
        "SELECT seat_type, COUNT(*) FROM tickets WHERE conference = $1 AND status = 'valid' GROUP BY seat_type",
        &[text(&c)],
    )? {
        valid_tickets.insert(r.text(0)?, r.int(1)?);
    }
    let tickets = tx
        .query(
            "SELECT code, status FROM tickets WHERE conference = $1",
            &[text(&c)],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect::<Result<_, StoreError>>()?;
    let walk_ins = tx
        .query(
            "SELECT order_id, status, refund_due_minor FROM walk_ins WHERE conference = $1",
            &[text(&c)],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, (r.text(1)?, r.int(2)?))))
        .collect::<Result<_, StoreError>>()?;
    let admitted = tx
        .query(
            "SELECT DISTINCT code FROM admissions WHERE conference = $1",
            &[text(&c)],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let code_of = |json: &str| {
        serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    // Each ticket's admission stream folded in its order: an admission recorded while another
    // was in force (not undone) is a duplicate and must be flagged; one after an undo is not.
    let mut admissions_per_code: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut states: BTreeMap<String, CheckIn> = BTreeMap::new();
    for r in tx.query(
        "SELECT stream_id, event_type, schema_version, payload FROM events \
         WHERE conference = $1 AND stream_type = 'admission' ORDER BY stream_id, version",
        &[text(&c)],
    )? {
        let event = Event::decode_json(&r.text(1)?, r.parse(2)?, &r.text(3)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let Event::CheckIn(event) = event else {
            continue;
        };
        let state = states.remove(&r.text(0)?).unwrap_or_default();
        if let check_in::Event::Admitted { code, .. } = &event {
            let counts = admissions_per_code.entry(code.to_string()).or_default();
            counts.0 += 1;
            if state.current.is_some() {
                counts.1 += 1;
            }
        }
        states.insert(r.text(0)?, state.evolve(&event));
    }
    let mut duplicates_per_code = BTreeMap::new();
    for r in tx.query(
        "SELECT detail FROM conflicts WHERE conference = $1 AND kind = 'duplicate_admission'",
        &[text(&c)],
    )? {
        *duplicates_per_code.entry(code_of(&r.text(0)?)).or_default() += 1;
    }
    Ok(Server {
        conference,
        seats,
        event_ids,
        clients,
        valid_tickets,
        tickets,
        walk_ins,
        admitted,
        admissions_per_code,
        duplicates_per_code,
        honoured,
        paid_after_expiry,
        prints_per_job,
        oversold,
    })
}

/// What must hold after any step, whatever the network did: on the server, seats and
/// duplicate flags; on the desk the step acted on, a gapless outbox.
pub(super) async fn check_step(world: &World, step: super::Step) -> Result<(), String> {
    use super::Step;
    // Only these steps change what the server holds.
    if matches!(
        step,
        Step::Sync { .. }
            | Step::Quota { .. }
            | Step::Order { .. }
            | Step::Pay { .. }
            | Step::Timers
            | Step::Decide { .. }
            | Step::RestartServer
            | Step::PowerCut { .. }
            | Step::Redeliver { .. }
    ) {
        server_at_any_moment(world).await?;
    }
    if matches!(
        step,
        Step::RestartServer | Step::PowerCut { server: true, .. }
    ) {
        answers_kept(world).await?;
    }
    let desk = match step {
        Step::Sell { desk, .. }
        | Step::CheckIn { desk, .. }
        | Step::Sync { desk, .. }
        | Step::Crash { desk }
        | Step::Undo { desk, .. }
        | Step::Correct { desk, .. }
        | Step::Restore { desk }
        | Step::PowerCut { desk, .. } => desk % world.desks.len(),
        _ => return Ok(()),
    };
    let items = world.desks[desk]
        .client
        .desk()
        .outbox(0, u32::MAX)
        .map_err(|e| e.to_string())?;
    for (n, item) in items.iter().enumerate() {
        if item.client_seq != n as u64 + 1 {
            return Err(format!(
                "desk {desk}: outbox sequence {} at position {n}",
                item.client_seq
            ));
        }
    }
    Ok(())
}

/// Reads the server and checks what holds of it at every moment: seats and duplicate flags.
async fn server_at_any_moment(world: &World) -> Result<Server, String> {
    let id = world.conference;
    let server = world
        .net
        .server()
        .app
        .store
        .read(move |tx| read_server(tx, id))
        .await
        .map_err(|e| format!("reading the server: {e}"))?;
    seats(&server)?;
    duplicates(&server)?;
    if let Some((job, n)) = server.prints_per_job.iter().find(|(_, n)| **n != 1) {
        return Err(format!("print job {job:?} is recorded {n} times"));
    }
    Ok(server)
}

/// Nothing the server answered is taken back, whatever happened to it: every event a desk
/// holds an outcome for (other than a refusal) is in its log and its sequence is known, and
/// every event a desk pulled is in its log at the position it was pulled from.
async fn answers_kept(world: &World) -> Result<(), String> {
    let id = world.conference.to_string();
    let (positions, clients) = world
        .net
        .server()
        .app
        .store
        .read(move |tx| {
            let positions: BTreeMap<i64, String> = tx
                .query(
                    "SELECT position, event_id FROM events WHERE conference = $1",
                    &[text(&id)],
                )?
                .iter()
                .map(|r| Ok((r.int(0)?, r.text(1)?)))
                .collect::<Result<_, StoreError>>()?;
            let clients: HashMap<String, i64> = tx
                .query("SELECT client_id, last_client_seq FROM clients", &[])?
                .iter()
                .map(|r| Ok((r.text(0)?, r.int(1)?)))
                .collect::<Result<_, StoreError>>()?;
            Ok::<_, StoreError>((positions, clients))
        })
        .await
        .map_err(|e| format!("reading the server: {e}"))?;
    let at: HashMap<&String, i64> = positions.iter().map(|(p, id)| (id, *p)).collect();
    for (i, d) in world.desks.iter().enumerate() {
        let desk = d.client.desk();
        let client = desk.client_id().map_err(|e| e.to_string())?.to_string();
        let known = clients.get(&client).copied().unwrap_or(0);
        // What the server acknowledged to the desk's current enrolment (a re-enrolled desk
        // keeps the answers its old one had, and pushes its log again).
        let acknowledged = desk.local_status().map_err(|e| e.to_string())?.acknowledged;
        for item in desk.outbox(0, u32::MAX).map_err(|e| e.to_string())? {
            let Some(outcome) = item.outcome else {
                continue;
            };
            if item.client_seq <= acknowledged && item.client_seq as i64 > known {
                return Err(format!(
                    "desk {i}: event {} was answered ({outcome:?}), and the server knows the \
                     desk's sequence only up to {known}",
                    item.client_seq
                ));
            }
            if outcome != OutcomeStatus::Rejected && !at.contains_key(&item.event_id.to_string()) {
                return Err(format!(
                    "desk {i}: event {} ({}) was answered {outcome:?}, and is not in the \
                     server's log",
                    item.client_seq, item.event_type
                ));
            }
        }
        let pulled = rusqlite::Connection::open_with_flags(
            &d.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|c| {
            let mut statement = c.prepare("SELECT event_id FROM remote ORDER BY position")?;
            statement
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("desk {i}'s pulled log: {e}"))?;
        // Pulled in the server's order, each from where the server still holds it.
        let mut last = 0;
        for event_id in pulled {
            match at.get(&event_id) {
                Some(&position) if position > last => last = position,
                Some(&position) => {
                    return Err(format!(
                        "desk {i} pulled {event_id} (now at position {position}) after the \
                         one at {last}"
                    ));
                }
                None => {
                    return Err(format!(
                        "desk {i} pulled {event_id}, which the server no longer holds"
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn check(world: &World) -> Result<(), String> {
    answers_kept(world).await?;
    let server = server_at_any_moment(world).await?;
    orders(world, &server).await?;
    for (i, d) in world.desks.iter().enumerate() {
        let desk = d.client.desk();
        let say = |what: String| format!("desk {i}: {what}");
        log(desk, &server, world.desks[i].restored).map_err(say)?;
        sales(desk, &server).map_err(say)?;
        tickets(desk, &server, &world.codes).map_err(say)?;
        rebuild(desk).map_err(say)?;
        prints(desk, &world.printers[i]).map_err(say)?;
        let shown = d
            .client
            .status()
            .map_err(|e| say(format!("status: {e}")))?
            .skew_ms;
        let error = world.clocks.error_ms(i);
        if shown != Some(error) {
            return Err(say(format!(
                "its clock is {error} ms off, and its sync shows a skew of {shown:?} ms"
            )));
        }
    }
    Ok(())
}

/// Once every hold has run out: no online order holds seats any more (each was confirmed or
/// expired), and every order the buyer paid is confirmed or, paid too late, a conflict for head
/// office (the money is never dropped).
async fn orders(world: &World, server: &Server) -> Result<(), String> {
    let ids: Vec<OrderId> = world.orders.iter().map(|(o, _)| *o).collect();
    let states = world
        .net
        .server()
        .app
        .store
        .read(move |tx| {
            ids.iter()
                .map(|o| Ok(event_log::load::<Order>(tx, &StreamId::order(*o))?.0))
                .collect::<Result<Vec<Order>, StoreError>>()
        })
        .await
        .map_err(|e| format!("reading orders: {e}"))?;
    for ((order, paid), state) in world.orders.iter().zip(states) {
        if server.seats.pending.contains_key(order) {
            return Err(format!(
                "order {order} ({:?}) still holds seats after every hold ran out",
                state.status
            ));
        }
        if !matches!(state.status, OrderStatus::Confirmed | OrderStatus::Expired) {
            return Err(format!(
                "order {order} is {:?} after every hold ran out",
                state.status
            ));
        }
        if *paid
            && state.status != OrderStatus::Confirmed
            && !server.paid_after_expiry.contains(order)
        {
            return Err(format!(
                "order {order} was paid, is {:?}, and no conflict holds the money",
                state.status
            ));
        }
    }
    Ok(())
}

fn seats(server: &Server) -> Result<(), String> {
    if let Some(first) = server.oversold.first() {
        return Err(format!("oversold: {first}"));
    }
    for (seat_type, s) in &server.conference.seat_types {
        let quota = server.seats.quota.get(seat_type).copied().unwrap_or(0);
        let committed = server.seats.committed.get(seat_type).copied().unwrap_or(0);
        let held: i64 = server
            .seats
            .pending
            .values()
            .filter_map(|p| p.get(seat_type))
            .map(|n| i64::from(*n))
            .sum();
        let remaining = server.seats.remaining(*seat_type).unwrap_or(0);
        if remaining != quota - committed - held {
            return Err(format!(
                "{}: {remaining} remaining of {quota}, with {committed} sold and {held} held",
                s.name
            ));
        }
        let overbooked = server.seats.overbooked.get(seat_type).copied().unwrap_or(0);
        let honoured = server.honoured.get(seat_type).copied().unwrap_or(0);
        if overbooked > honoured && s.policy != OversellPolicy::Overbook {
            return Err(format!(
                "{}: {overbooked} seat(s) overbooked under a policy that refuses, {honoured} \
                 of them by head office honouring a sale",
                s.name
            ));
        }
        let valid = server
            .valid_tickets
            .get(&seat_type.to_string())
            .copied()
            .unwrap_or(0);
        if valid != committed {
            return Err(format!(
                "{}: {valid} valid ticket(s) but {committed} seat(s) sold",
                s.name
            ));
        }
    }
    Ok(())
}

fn duplicates(server: &Server) -> Result<(), String> {
    for (code, (admissions, while_in)) in &server.admissions_per_code {
        let flagged = server.duplicates_per_code.get(code).copied().unwrap_or(0);
        if flagged != *while_in {
            return Err(format!(
                "{code}: admitted {admissions} time(s), {while_in} of them while another \
                 admission was in force, but {flagged} duplicate flag(s)"
            ));
        }
    }
    Ok(())
}

/// `restored`: the desk's file was restored from a backup and it has not re-enrolled since (it
/// recorded nothing new, so nothing told it): the server may know more of its old sequence
/// than its log holds, never less.
fn log(desk: &Desk, server: &Server, restored: bool) -> Result<(), String> {
    let status = desk.local_status().map_err(|e| e.to_string())?;
    if status.pending > 0 {
        return Err(format!("{} event(s) still pending", status.pending));
    }
    let client = desk.client_id().map_err(|e| e.to_string())?.to_string();
    let items = desk.outbox(0, u32::MAX).map_err(|e| e.to_string())?;
    for (n, item) in items.iter().enumerate() {
        if item.client_seq != n as u64 + 1 {
            return Err(format!(
                "outbox sequence {} at position {n}",
                item.client_seq
            ));
        }
        let stored = server.event_ids.contains(&item.event_id.to_string());
        match item.outcome {
            None => return Err(format!("event {} has no outcome", item.client_seq)),
            Some(OutcomeStatus::Rejected) if stored => {
                return Err(format!(
                    "refused event {} is in the server's log",
                    item.client_seq
                ));
            }
            Some(OutcomeStatus::Rejected) => {}
            Some(_) if !stored => {
                return Err(format!(
                    "event {} ({}) is not in the server's log",
                    item.client_seq, item.event_type
                ));
            }
            Some(_) => {}
        }
    }
    let appended = items.len() as i64;
    let (last, mut ranges) = server.clients.get(&client).cloned().unwrap_or_default();
    if last != appended && !(restored && last > appended) {
        return Err(format!("the server has sequence {last} of {appended}"));
    }
    ranges.sort_unstable();
    let mut next = 1;
    for (first, end) in ranges {
        if first != next {
            return Err(format!(
                "the server's pushes jump from {} to {first}",
                next - 1
            ));
        }
        next = end + 1;
    }
    if appended > 0 && next != last + 1 {
        return Err(format!("the server's pushes end at {}", next - 1));
    }
    Ok(())
}

fn sales(desk: &Desk, server: &Server) -> Result<(), String> {
    for sale in desk.sales().map_err(|e| e.to_string())? {
        let order = sale.order.to_string();
        let Some((status, refund)) = server.walk_ins.get(&order) else {
            return Err(format!("sale {order} is not on the server"));
        };
        let ours = serde_json::to_value(sale.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let our_refund = sale.refund_due.map_or(0, |m| m.amount_minor);
        // Head office honoured it: confirmed in the domain (and at the desk); the server's
        // list says how it came to be confirmed.
        let status = if status == "honoured" {
            "confirmed"
        } else {
            status
        };
        if sale.pending || ours != status || our_refund != *refund {
            return Err(format!(
                "sale {order}: the desk shows {ours} (refund {our_refund}, pending {}), the server {status} (refund {refund})",
                sale.pending
            ));
        }
    }
    Ok(())
}

fn tickets(desk: &Desk, server: &Server, codes: &[String]) -> Result<(), String> {
    for code in codes {
        let Some(server_status) = server.tickets.get(code) else {
            // Sold at a desk and refused by the server before it was recorded: no ticket.
            continue;
        };
        let entry = desk
            .attendee(code)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{code} is not in its roster"))?;
        let admitted = server.admitted.contains(code);
        if entry.admission.is_some() != admitted {
            return Err(format!(
                "{code}: admitted here {}, on the server {admitted}",
                entry.admission.is_some()
            ));
        }
        if entry.withdrawn != (server_status == "withdrawn") {
            return Err(format!(
                "{code}: withdrawn here {}, on the server it is {server_status}",
                entry.withdrawn
            ));
        }
        let flagged = server.duplicates_per_code.get(code).copied().unwrap_or(0);
        if i64::from(entry.duplicates) != i64::from(flagged) {
            return Err(format!(
                "{code}: {} duplicate flag(s) here, {flagged} on the server",
                entry.duplicates
            ));
        }
    }
    Ok(())
}

/// No job went to the printer twice; every print job is settled (completed or failed);
/// each completed one came out of the printer and recorded one print event (and no job id is
/// recorded twice on the server: [`server_at_any_moment`]).
fn prints(desk: &Desk, printer: &VirtualPrinter) -> Result<(), String> {
    let twice = printer.jobs_sent_twice();
    if twice > 0 {
        return Err(format!("{twice} print job(s) handed to the printer twice"));
    }
    let badges = printer.badges();
    let jobs = desk.print_jobs(usize::MAX).map_err(|e| e.to_string())?;
    let mut completed = 0;
    for job in &jobs {
        match job.state {
            JobState::Failed => {}
            JobState::Completed => {
                completed += 1;
                let out = job.spooler_job.and_then(|s| badges.get(&s));
                if out != Some(&format!("Badge {} (job {})", job.code, job.job)) {
                    return Err(format!(
                        "print job {} is completed, and the printer printed {out:?} as its job {:?}",
                        job.job, job.spooler_job
                    ));
                }
            }
            JobState::Queued | JobState::Sending | JobState::Sent => {
                return Err(format!(
                    "print job {} is still {:?} with the printer cleared",
                    job.job, job.state
                ));
            }
        }
    }
    let recorded = desk
        .outbox(0, u32::MAX)
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|item| {
            matches!(
                item.event_type.as_str(),
                "badge.printed" | "badge.reprinted"
            )
        })
        .count();
    if recorded != completed {
        return Err(format!(
            "{completed} print job(s) completed, {recorded} print(s) recorded"
        ));
    }
    Ok(())
}

fn rebuild(desk: &Desk) -> Result<(), String> {
    let before = desk.projection_dump().map_err(|e| e.to_string())?;
    desk.rebuild_projections().map_err(|e| e.to_string())?;
    let after = desk.projection_dump().map_err(|e| e.to_string())?;
    if before != after {
        let first = before
            .iter()
            .zip(&after)
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("{a}\n  rebuilt: {b}"))
            .unwrap_or_else(|| format!("{} rows, rebuilt {}", before.len(), after.len()));
        return Err(format!("projections differ from a rebuild: {first}"));
    }
    Ok(())
}
