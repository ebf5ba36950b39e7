//! The server's re-decision of what desks did offline, pure.
//!
//! Every event a desk pushes is decided again against the authoritative aggregates. The shell
//! asks [`needs`] what to load, loads it into [`Loaded`], calls [`redecide`] and records the
//! [`Outcome`]: the desk's event as the server keeps it (its id, device time and sequence are
//! the shell's to keep), then the server's own events after it. The rules, per desk event:
//! - admissions, undos, badge prints: physical facts, always recorded; a second admission of a
//!   ticket, or an admission of a ticket that admits nobody, is flagged and opens a conflict;
//!   an undo of what is not admitted is rejected;
//! - exits and re-entries: physical facts, recorded once per movement;
//! - hand-outs: physical facts too, recorded when the conference hands out that item (in that
//!   size); a second hand-out of an item to the same ticket is flagged and opens a conflict;
//!   an undo of what was not handed out is rejected;
//! - room entries and leaves: physical facts, recorded once per visit when the room and the
//!   ticket exist; an entry without a reason by someone who holds none of the room's seat
//!   types, or into a room at capacity (every desk's entries counted), is flagged and opens a
//!   conflict;
//! - attendee corrections: recorded when the ticket still belongs to the same person;
//! - walk-in sales: a sale the server already has is a duplicate; a sale that does not add up
//!   ([`crate::walk_in::Sale::check`]) or names a ticket that exists already is not recorded
//!   and opens a conflict (the money the desk took must be found); the rest is reconciled
//!   against the authoritative seats ([`walk_in::reconcile`]: confirmed, overbooked by
//!   policy, or compensated: partial/rejected, refund due, conflict opened);
//! - conflict acknowledgements and resolutions: decided on the conflict; honouring a sale over
//!   the quota, or acting as anyone but a desk, is not a desk's to push;
//! - an event that touches a stream of another conference than the desk's (a correction, a
//!   conflict, a badge of another conference's ticket) is rejected;
//! - anything else is not a desk's to push, and is rejected.
//!
//! Which desk acted is the shell's to check against the desk's token before any of this.
//!
//! A desk event that contradicts the domain's rules outright (a correction without a name)
//! is an [`Error`]: the desk sent something inconsistent, and the whole push is refused.

pub mod walk_in;

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::badge::{self, Badge};
use crate::check_in::{self, CheckIn, TicketStatus};
use crate::conference::Conference;
use crate::conflict::{self, Actor, Conflict, ConflictKind, Resolution};
use crate::event::{Event, StreamId};
use crate::hand_out::{self, HandOuts};
use crate::ids::{ConferenceId, ConflictId, SeatTypeId, TicketCode, TicketId};
use crate::protocol::{OutcomeStatus, reason};
use crate::room::{self, RoomVisits};
use crate::seat_assignments::{self, SeatAssignments};
use crate::seat_availability::SeatsAvailability;
use crate::walk_in::{self as sale, WalkInSale};

/// Something re-deciding an event needs loaded: a stream (into the [`Loaded`] field of its
/// aggregate) or a ticket's status as the server's roster has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    CheckIn(StreamId),
    TicketStatus {
        conference: ConferenceId,
        code: TicketCode,
    },
    Badge(StreamId),
    /// The conference a ticket belongs to, if the server knows the ticket.
    TicketConference(TicketId),
    Assignments(StreamId),
    /// How many of these tickets exist already: by id in any conference, or by code in
    /// `conference`.
    ExistingTickets {
        conference: ConferenceId,
        tickets: Vec<TicketId>,
        codes: Vec<TicketCode>,
    },
    Sale(StreamId),
    Conference(StreamId),
    Seats(StreamId),
    Conflict(StreamId),
    HandOut(StreamId),
    Room(StreamId),
    /// How many people are in a room now, as the server counts every desk's entries.
    RoomOccupancy {
        conference: ConferenceId,
        room: String,
    },
    /// The seat types a ticket's holder holds: the ticket's own and the add-ons of the same
    /// person (by email) that are not withdrawn.
    Holds {
        conference: ConferenceId,
        code: TicketCode,
    },
}

/// What the shell loaded for one event, as [`needs`] asked (the rest stays default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub check_in: CheckIn,
    pub ticket_status: TicketStatus,
    /// The seat type of the ticket [`Need::TicketStatus`] asked about, if the server knows it.
    pub ticket_seat_type: Option<crate::ids::SeatTypeId>,
    pub badge: Badge,
    pub ticket_conference: Option<ConferenceId>,
    pub assignments: SeatAssignments,
    pub existing_tickets: usize,
    pub sale: WalkInSale,
    pub conference: Conference,
    pub seats: SeatsAvailability,
    pub conflict: Conflict,
    pub hand_outs: HandOuts,
    pub rooms: RoomVisits,
    pub room_occupancy: u32,
    pub holds: Vec<SeatTypeId>,
}

impl Default for Loaded {
    fn default() -> Self {
        Self {
            check_in: CheckIn::default(),
            ticket_status: TicketStatus::Unknown,
            ticket_seat_type: None,
            badge: Badge::default(),
            ticket_conference: None,
            assignments: SeatAssignments::default(),
            existing_tickets: 0,
            sale: WalkInSale::default(),
            conference: Conference::default(),
            seats: SeatsAvailability::default(),
            conflict: Conflict::default(),
            hand_outs: HandOuts::default(),
            rooms: RoomVisits::default(),
            room_occupancy: 0,
            holds: Vec::new(),
        }
    }
}

/// What the server decided about one desk event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: OutcomeStatus,
    /// Why, for anything but a plain acceptance ([`reason`], or a domain error's code).
    pub reason: Option<&'static str>,
    /// The desk's event as the server records it (it may differ from what was pushed: a
    /// reason trimmed, an attendee normalised); `None` when none of it is recorded.
    pub desk_event: Option<Event>,
    /// The server's own events, recorded after the desk's, in order.
    pub events: Vec<Event>,
}

impl Outcome {
    fn new(status: OutcomeStatus, reason: Option<&'static str>) -> Self {
        Self {
            status,
            reason,
            desk_event: None,
            events: vec![],
        }
    }

    fn accepted() -> Self {
        Self::new(OutcomeStatus::Accepted, None)
    }

    fn rejected(reason: &'static str) -> Self {
        Self::new(OutcomeStatus::Rejected, Some(reason))
    }

    fn recording(mut self, event: Event) -> Self {
        self.desk_event = Some(event);
        self
    }
}

/// A desk event the domain's rules contradict: the push that carries it is refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: &'static str,
    pub message: String,
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        self.code
    }
}

fn inconsistent<E: DomainError>(e: &E) -> Error {
    Error {
        code: e.code(),
        message: e.to_string(),
    }
}

/// What the server supplies that the event cannot say and a pure function cannot make: the
/// conference of the desk that pushed (from its token), the server's clock, and ids for the
/// conflicts a decision opens (taken one by one, only when one is opened).
pub struct Context<I> {
    pub conference: ConferenceId,
    pub now: Timestamp,
    pub conflicts: I,
    /// The pushing desk's clock less the server's, when its push said what its clock showed.
    pub clock_skew_ms: Option<i64>,
    /// What venue relays vouch they handed the pushing desk from their venue leases for the
    /// event's sale (the relay that forwarded the push, and what relays reported): a sale's
    /// claim on a venue lease is honoured only so far.
    pub vouched: Vec<walk_in::Vouched>,
}

impl<I: Iterator<Item = ConflictId>> Context<I> {
    fn conflict(&mut self) -> Result<ConflictId, Error> {
        self.conflicts.next().ok_or_else(|| Error {
            code: "reconciliation.no_ids",
            message: "no conflict id was supplied".into(),
        })
    }
}

/// The outcome of a physical fact the server records: the first event `decided` is the
/// desk's as kept, the rest are the server's own; each one `flag` makes a conflict of opens
/// it (after the flag), and the outcome says `why`. Nothing decided: already recorded.
fn flagged<E, I>(
    decided: Vec<E>,
    conference: ConferenceId,
    context: &mut Context<I>,
    why: &'static str,
    flag: impl Fn(&E) -> Option<ConflictKind>,
) -> Result<Outcome, Error>
where
    E: Into<Event>,
    I: Iterator<Item = ConflictId>,
{
    let mut outcome = Outcome::accepted();
    let mut decided = decided.into_iter();
    outcome.desk_event = decided.next().map(Into::into);
    for e in decided {
        let kind = flag(&e);
        outcome.events.push(e.into());
        if let Some(kind) = kind {
            outcome.reason = Some(why);
            outcome.events.push(
                conflict::Event::Opened {
                    conflict: context.conflict()?,
                    conference,
                    kind,
                    at: context.now,
                }
                .into(),
            );
        }
    }
    Ok(outcome)
}

/// What re-deciding `event` needs loaded.
pub fn needs(event: &Event) -> Vec<Need> {
    if !event.is_desk_event() {
        return vec![];
    }
    match event {
        Event::CheckIn(check_in::Event::Admitted {
            conference, code, ..
        }) => vec![
            Need::CheckIn(StreamId::admission(*conference, code)),
            Need::TicketStatus {
                conference: *conference,
                code: code.clone(),
            },
            Need::Conference(StreamId::conference(*conference)),
        ],
        Event::CheckIn(
            check_in::Event::Undone {
                conference, code, ..
            }
            | check_in::Event::Exited {
                conference, code, ..
            }
            | check_in::Event::Reentered {
                conference, code, ..
            },
        ) => vec![Need::CheckIn(StreamId::admission(*conference, code))],
        Event::Badge(e) => vec![
            Need::Badge(StreamId::badge(e.ticket())),
            Need::TicketConference(e.ticket()),
        ],
        Event::SeatAssignments(seat_assignments::Event::Updated { order, .. }) => {
            vec![Need::Assignments(StreamId::seat_assignments(*order))]
        }
        Event::HandOut(hand_out::Event::Given {
            conference, code, ..
        }) => vec![
            Need::HandOut(StreamId::hand_out(*conference, code)),
            Need::Conference(StreamId::conference(*conference)),
            Need::TicketStatus {
                conference: *conference,
                code: code.clone(),
            },
        ],
        Event::HandOut(e) => vec![Need::HandOut(StreamId::hand_out(e.conference(), e.code()))],
        Event::Room(room::Event::Entered {
            conference,
            code,
            room,
            ..
        }) => vec![
            Need::Room(StreamId::room(*conference, code)),
            Need::Conference(StreamId::conference(*conference)),
            Need::TicketStatus {
                conference: *conference,
                code: code.clone(),
            },
            Need::RoomOccupancy {
                conference: *conference,
                room: room.clone(),
            },
            Need::Holds {
                conference: *conference,
                code: code.clone(),
            },
        ],
        Event::Room(e) => vec![
            Need::Room(StreamId::room(e.conference(), e.code())),
            Need::TicketStatus {
                conference: e.conference(),
                code: e.code().clone(),
            },
        ],
        Event::WalkIn(sale::Event::SaleRecorded { sale }) => vec![
            Need::Sale(StreamId::walk_in(sale.order)),
            Need::ExistingTickets {
                conference: sale.conference,
                tickets: sale.tickets.iter().map(|t| t.ticket).collect(),
                codes: sale.tickets.iter().map(|t| t.code.clone()).collect(),
            },
            Need::Conference(StreamId::conference(sale.conference)),
            Need::Seats(StreamId::seats(sale.conference)),
        ],
        Event::Conflict(
            conflict::Event::Acknowledged { conflict, .. }
            | conflict::Event::Resolved { conflict, .. },
        ) => vec![Need::Conflict(StreamId::conflict(*conflict))],
        _ => vec![],
    }
}

/// Decides a desk's event again against what [`needs`] loaded.
pub fn redecide<I: Iterator<Item = ConflictId>>(
    event: &Event,
    loaded: &Loaded,
    mut context: Context<I>,
) -> Result<Outcome, Error> {
    if !event.is_desk_event() {
        return Ok(Outcome::rejected(reason::NOT_A_DESK_EVENT));
    }
    match event {
        Event::CheckIn(check_in::Event::Admitted {
            conference,
            code,
            ticket,
            admission,
            override_reason,
        }) => {
            let decided = loaded
                .check_in
                .decide(&check_in::Command::RecordAdmission {
                    conference: *conference,
                    code: code.clone(),
                    ticket: *ticket,
                    status: loaded.ticket_status,
                    admission: admission.clone(),
                    override_reason: override_reason.clone(),
                    rules: loaded
                        .ticket_seat_type
                        .map(|s| loaded.conference.rules_for(s).clone())
                        .unwrap_or_default(),
                    zone: loaded.conference.zone(),
                    clock_skew_ms: context.clock_skew_ms,
                })
                .map_err(|e| inconsistent(&e))?;
            let mut outcome = Outcome::accepted();
            let mut decided = decided.into_iter().map(Event::CheckIn);
            outcome.desk_event = decided.next();
            for e in decided {
                let kind = match &e {
                    Event::CheckIn(check_in::Event::DuplicateFlagged {
                        code,
                        duplicate,
                        first,
                        ..
                    }) => {
                        outcome.reason = Some(reason::DUPLICATE_ADMISSION);
                        Some(ConflictKind::DuplicateAdmission {
                            code: code.clone(),
                            first: first.clone(),
                            duplicate: duplicate.clone(),
                        })
                    }
                    Event::CheckIn(check_in::Event::OutsideRulesFlagged {
                        code,
                        admission,
                        breach,
                        by_clock,
                        ..
                    }) => {
                        outcome
                            .reason
                            .get_or_insert(reason::OUTSIDE_RULES_ADMISSION);
                        Some(ConflictKind::AdmissionOutsideRules {
                            code: code.clone(),
                            admission: admission.clone(),
                            breach: breach.clone(),
                            by_clock: *by_clock,
                        })
                    }
                    Event::CheckIn(check_in::Event::InvalidTicketFlagged {
                        code,
                        admission,
                        status,
                        ..
                    }) => {
                        outcome
                            .reason
                            .get_or_insert(reason::INVALID_TICKET_ADMISSION);
                        Some(ConflictKind::InvalidTicketAdmission {
                            code: code.clone(),
                            admission: admission.clone(),
                            status: *status,
                        })
                    }
                    _ => None,
                };
                outcome.events.push(e);
                if let Some(kind) = kind {
                    outcome.events.push(
                        conflict::Event::Opened {
                            conflict: context.conflict()?,
                            conference: *conference,
                            kind,
                            at: context.now,
                        }
                        .into(),
                    );
                }
            }
            Ok(outcome)
        }
        Event::CheckIn(check_in::Event::Undone {
            admission,
            desk,
            at,
            reason: why,
            ..
        }) => {
            let decided = loaded
                .check_in
                .decide(&check_in::Command::RecordUndo {
                    admission: *admission,
                    desk: *desk,
                    at: *at,
                    reason: why.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            Ok(if decided.is_empty() {
                Outcome::rejected(reason::NOT_ADMITTED)
            } else {
                Outcome::accepted().recording(event.clone())
            })
        }
        Event::CheckIn(
            e @ (check_in::Event::Exited { .. } | check_in::Event::Reentered { .. }),
        ) => {
            let decided = loaded
                .check_in
                .decide(&check_in::Command::RecordMovement { event: e.clone() })
                .map_err(|e| inconsistent(&e))?;
            // Recorded once: the same movement again is accepted and records nothing.
            Ok(match decided.into_iter().next() {
                Some(e) => Outcome::accepted().recording(e.into()),
                None => Outcome::accepted(),
            })
        }
        Event::Badge(e) => {
            if loaded
                .ticket_conference
                .is_some_and(|c| c != context.conference)
            {
                return Ok(Outcome::rejected(reason::OTHER_CONFERENCE));
            }
            let (print, reprint_reason) = match e {
                badge::Event::Printed { print } => (print, None),
                badge::Event::Reprinted { print, reason } => (print, Some(reason.clone())),
                badge::Event::NameSet { name } => {
                    if loaded.ticket_conference.is_none() {
                        return Ok(Outcome::rejected(reason::UNKNOWN_TICKET));
                    }
                    let decided = loaded
                        .badge
                        .decide(&badge::Command::SetName(name.clone()))
                        .map_err(|e| inconsistent(&e))?;
                    return Ok(match decided.into_iter().next() {
                        Some(e) => Outcome::accepted().recording(e.into()),
                        None => Outcome::accepted(),
                    });
                }
            };
            let decided = loaded
                .badge
                .decide(&badge::Command::RecordPushedPrint {
                    print: print.clone(),
                    reprint_reason,
                })
                .map_err(|e| inconsistent(&e))?;
            // A print the server has (the same job) is accepted again and recorded once.
            Ok(if decided.is_empty() {
                Outcome::accepted()
            } else {
                Outcome::accepted().recording(event.clone())
            })
        }
        Event::HandOut(hand_out::Event::Given {
            conference,
            code,
            item,
            given,
        }) => {
            let offered = loaded
                .conference
                .hand_out(item)
                .is_some_and(|i| i.size(given.size.as_deref()).is_ok_and(|s| s == given.size));
            if !offered {
                return Ok(Outcome::rejected(reason::UNKNOWN_HAND_OUT));
            }
            if loaded.ticket_status == TicketStatus::Unknown {
                return Ok(Outcome::rejected(reason::HAND_OUT_UNKNOWN_TICKET));
            }
            let decided = loaded
                .hand_outs
                .decide(&hand_out::Command::RecordGiven {
                    conference: *conference,
                    code: code.clone(),
                    item: item.clone(),
                    given: given.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            flagged(
                decided,
                *conference,
                &mut context,
                reason::DUPLICATE_HAND_OUT,
                |e| match e {
                    hand_out::Event::DuplicateFlagged {
                        code,
                        item,
                        duplicate,
                        first,
                        ..
                    } => Some(ConflictKind::DuplicateHandOut {
                        code: code.clone(),
                        item: item.clone(),
                        first: first.clone(),
                        duplicate: duplicate.clone(),
                    }),
                    _ => None,
                },
            )
        }
        Event::Room(room::Event::Entered {
            conference,
            code,
            room,
            visit,
            override_reason,
        }) => {
            let Some(room) = loaded.conference.room(room) else {
                return Ok(Outcome::rejected(reason::UNKNOWN_ROOM));
            };
            if loaded.ticket_status == TicketStatus::Unknown {
                return Ok(Outcome::rejected(reason::ROOM_UNKNOWN_TICKET));
            }
            let decided = loaded
                .rooms
                .decide(&room::Command::RecordEntry {
                    conference: *conference,
                    code: code.clone(),
                    room: room.clone(),
                    entitled: room.admits(&loaded.holds),
                    occupancy: loaded.room_occupancy,
                    visit: visit.clone(),
                    override_reason: override_reason.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            flagged(
                decided,
                *conference,
                &mut context,
                reason::ROOM_ENTRY_FLAGGED,
                |e| match e {
                    room::Event::EntryFlagged {
                        code,
                        room,
                        visit,
                        breach,
                        ..
                    } => Some(ConflictKind::RoomEntry {
                        code: code.clone(),
                        room: room.clone(),
                        visit: visit.clone(),
                        breach: breach.clone(),
                    }),
                    _ => None,
                },
            )
        }
        Event::Room(room::Event::Left {
            conference,
            code,
            room,
            visit,
        }) => {
            if loaded.ticket_status == TicketStatus::Unknown {
                return Ok(Outcome::rejected(reason::ROOM_UNKNOWN_TICKET));
            }
            let decided = loaded
                .rooms
                .decide(&room::Command::RecordLeave {
                    conference: *conference,
                    code: code.clone(),
                    room: room.clone(),
                    visit: visit.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            // A leave the server has (the same visit) is accepted again and recorded once.
            Ok(match decided.into_iter().next() {
                None => Outcome::accepted(),
                Some(e) => Outcome::accepted().recording(e.into()),
            })
        }
        Event::HandOut(hand_out::Event::Undone {
            item,
            hand_out,
            desk,
            at,
            reason: why,
            ..
        }) => {
            let decided = loaded
                .hand_outs
                .decide(&hand_out::Command::RecordUndo {
                    item: item.clone(),
                    hand_out: *hand_out,
                    desk: *desk,
                    at: *at,
                    reason: why.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            Ok(match decided.into_iter().next() {
                None => Outcome::rejected(reason::NOT_HANDED_OUT),
                Some(e) => Outcome::accepted().recording(e.into()),
            })
        }
        Event::SeatAssignments(seat_assignments::Event::Updated {
            order,
            ticket,
            attendee,
            ..
        }) => {
            let state = &loaded.assignments;
            if state.conference.is_some_and(|c| c != context.conference) {
                return Ok(Outcome::rejected(reason::OTHER_CONFERENCE));
            }
            let Some(position) = state.positions.iter().find(|p| p.seat.ticket == *ticket) else {
                return Ok(Outcome::rejected(reason::UNKNOWN_TICKET));
            };
            let same_person = position
                .attendee
                .as_ref()
                .is_some_and(|a| a.email.eq_ignore_ascii_case(&attendee.email));
            if !same_person {
                // The seat went to someone else meanwhile; a desk's correction must not undo that.
                return Ok(Outcome::rejected(reason::REASSIGNED));
            }
            let decided = state
                .decide(&seat_assignments::Command::Assign {
                    position: position.seat.position,
                    attendee: attendee.clone(),
                })
                .map_err(|e| inconsistent(&e))?;
            match decided.as_slice() {
                [] => Ok(Outcome::accepted()),
                [seat_assignments::Event::Updated { position, .. }] => Ok(Outcome::accepted()
                    .recording(
                        seat_assignments::Event::Updated {
                            order: *order,
                            position: *position,
                            ticket: *ticket,
                            attendee: attendee.validate().map_err(|e| inconsistent(&e))?,
                        }
                        .into(),
                    )),
                _ => Ok(Outcome::rejected(reason::REASSIGNED)),
            }
        }
        Event::WalkIn(sale::Event::SaleRecorded { sale }) => {
            if loaded.sale.sale.is_some() {
                return Ok(Outcome::new(OutcomeStatus::Duplicate, None));
            }
            let refused = match loaded.conference.currency() {
                _ if loaded.existing_tickets > 0 => Some(reason::TICKET_EXISTS),
                Some(currency) => sale
                    .check(currency)
                    .and_then(|()| walk_in::check_leases(sale, &loaded.seats))
                    .err()
                    .map(|e| e.code()),
                // No conference to reconcile against: `reconcile` rejects what it cannot place.
                None => None,
            };
            if let Some(why) = refused {
                let mut outcome = Outcome::rejected(why);
                outcome.events.push(
                    conflict::Event::Opened {
                        conflict: context.conflict()?,
                        conference: context.conference,
                        kind: ConflictKind::SaleRefused {
                            order: sale.order,
                            desk: sale.desk,
                            reason: why.to_owned(),
                            amount_taken: sale.amount_taken,
                        },
                        at: context.now,
                    }
                    .into(),
                );
                return Ok(outcome);
            }
            let reconciled = walk_in::reconcile(
                sale,
                walk_in::Authority {
                    conference: &loaded.conference,
                    seats: &loaded.seats,
                    conflict: context.conflict()?,
                    now: context.now,
                    vouched: &context.vouched,
                },
            )
            .map_err(|e| inconsistent(&e))?;
            let mut outcome = Outcome::accepted();
            let mut reconciled = reconciled.into_iter();
            outcome.desk_event = reconciled.next();
            for e in reconciled {
                match &e {
                    Event::WalkIn(sale::Event::PartiallyConfirmed { .. }) => {
                        outcome.status = OutcomeStatus::Compensated;
                        outcome.reason = Some(reason::WALK_IN_PARTIAL);
                    }
                    Event::WalkIn(sale::Event::Rejected { .. }) => {
                        outcome.status = OutcomeStatus::Compensated;
                        outcome.reason = Some(reason::WALK_IN_REJECTED);
                    }
                    Event::WalkIn(sale::Event::Confirmed { overbooked, .. })
                        if !overbooked.is_empty() =>
                    {
                        outcome.reason = Some(reason::WALK_IN_OVERBOOKED);
                    }
                    _ => {}
                }
                outcome.events.push(e);
            }
            Ok(outcome)
        }
        Event::Conflict(_)
            if loaded
                .conflict
                .conference
                .is_some_and(|c| c != context.conference) =>
        {
            Ok(Outcome::rejected(reason::OTHER_CONFERENCE))
        }
        Event::Conflict(conflict::Event::Acknowledged { by, at, note, .. }) => {
            if !matches!(by, Actor::Desk { .. }) {
                return Ok(Outcome::rejected(reason::CONFLICT_NOT_FOR_DESKS));
            }
            Ok(on_conflict(
                event,
                &loaded.conflict,
                &conflict::Command::Acknowledge {
                    by: by.clone(),
                    at: *at,
                    note: note.clone(),
                },
            ))
        }
        Event::Conflict(conflict::Event::Resolved {
            resolution,
            by,
            at,
            note,
            ..
        }) => {
            if *resolution == Resolution::SaleHonoured || !matches!(by, Actor::Desk { .. }) {
                // Overriding a quota is head office's decision, not a desk's.
                return Ok(Outcome::rejected(reason::CONFLICT_NOT_FOR_DESKS));
            }
            Ok(on_conflict(
                event,
                &loaded.conflict,
                &conflict::Command::Resolve {
                    resolution: resolution.clone(),
                    by: by.clone(),
                    at: *at,
                    note: note.clone(),
                },
            ))
        }
        _ => Ok(Outcome::rejected(reason::NOT_A_DESK_EVENT)),
    }
}

/// A desk's action on a conflict: recorded as pushed when the conflict takes it, accepted
/// without a record when it changes nothing, rejected with the conflict's reason otherwise.
fn on_conflict(event: &Event, state: &Conflict, command: &conflict::Command) -> Outcome {
    match state.decide(command) {
        Ok(events) if events.is_empty() => Outcome::accepted(),
        Ok(_) => Outcome::accepted().recording(event.clone()),
        Err(e) => Outcome::rejected(e.code()),
    }
}

#[cfg(test)]
mod tests;
