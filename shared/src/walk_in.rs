//! Walk-in sales at the door.
//!
//! At the desk a sale is decided against the desk's own view of the seats (authoritative
//! remaining as of the last sync, minus its own pending sales) and refused when that view shows
//! no seats. The money changes hands at once and the tickets are made at the desk, so what the
//! desk records is a fact: `SaleRecorded`, provisional until the server has decided.
//!
//! The server decides it again when it arrives ([`crate::reconciliation::walk_in`]): what is
//! still there is confirmed, what is not is overbooked by policy or compensated.
//!
//! A desk that holds a seat lease ([`crate::seat_availability::Lease`]) sells from it first:
//! the sale names the leases it drew on (`from_leases`), and those tickets are **final** — the
//! server commits them from the lease and never compensates them. Only what goes beyond the
//! desk's unused lease is provisional, and the desk knows which before the money is taken.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::conference::{Conference, OversellPolicy};
use crate::ids::{
    ConferenceId, ConflictId, DeviceId, LeaseId, OrderId, SeatTypeId, TicketCode, TicketId,
};
use crate::money::{Currency, Money};
use crate::order::{PaymentMethod, SeatPrice};
use crate::seat_assignments::{self, Attendee};
use crate::seat_availability::SeatQuantity;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub seat_type: SeatTypeId,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SaleTicket {
    pub ticket: TicketId,
    pub code: TicketCode,
    pub seat_type: SeatTypeId,
    pub attendee: Attendee,
}

/// A sale as the desk made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub conference: ConferenceId,
    pub order: OrderId,
    pub desk: DeviceId,
    pub sold_at: Timestamp,
    pub lines: Vec<SaleLine>,
    pub tickets: Vec<SaleTicket>,
    pub payment_method: PaymentMethod,
    pub amount_taken: Money,
    pub total: Money,
    /// Seats sold from this desk's leases (final); the rest of the sale is provisional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_leases: Vec<LeaseClaim>,
}

/// Seats of one seat type a sale took from one of the desk's leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LeaseClaim {
    pub lease: LeaseId,
    pub seat_type: SeatTypeId,
    pub quantity: u32,
}

/// A lease as the desk sees it when it sells: what it still covers at this desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldLease {
    pub lease: LeaseId,
    pub seat_type: SeatTypeId,
    /// Seats not yet sold from it, counting this desk's sales the server has not seen.
    pub left: u32,
    pub until: Timestamp,
}

/// The most tickets one walk-in sale may carry (a family, a team; larger groups register).
pub const MAX_TICKETS: usize = 50;
/// The most a walk-in sale, or one of its prices, may be, in minor units (1,000,000.00).
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000;

impl Sale {
    /// Seats of `seat_type` the sale took from the desk's leases.
    pub fn from_lease(&self, seat_type: SeatTypeId) -> u32 {
        self.from_leases
            .iter()
            .filter(|c| c.seat_type == seat_type)
            .map(|c| c.quantity)
            .fold(0, u32::saturating_add)
    }

    /// The tickets sold from a lease, which are final: of each seat type, the first ones.
    pub fn final_tickets(&self) -> Vec<TicketId> {
        let mut left: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        self.tickets
            .iter()
            .filter(|t| {
                let n = left
                    .entry(t.seat_type)
                    .or_insert_with(|| self.from_lease(t.seat_type));
                let take = *n > 0;
                *n = n.saturating_sub(1);
                take
            })
            .map(|t| t.ticket)
            .collect()
    }

    /// Checks that the sale adds up, as the desk's decision made it: tickets (at least one,
    /// at most [`MAX_TICKETS`], distinct ids and codes, valid attendees), a line per seat type
    /// sold with its count, the total the lines make, amounts between zero and
    /// [`MAX_AMOUNT_MINOR`] in `currency`, and at least the total taken for cash or card.
    /// The server runs it on every pushed sale before it decides anything.
    pub fn check(&self, currency: Currency) -> Result<(), Error> {
        if self.tickets.is_empty() {
            return Err(Error::NoTickets);
        }
        if self.tickets.len() > MAX_TICKETS {
            return Err(Error::TooManyTickets {
                max: MAX_TICKETS,
                got: self.tickets.len(),
            });
        }
        let mut ids: Vec<TicketId> = self.tickets.iter().map(|t| t.ticket).collect();
        let mut codes: Vec<&TicketCode> = self.tickets.iter().map(|t| &t.code).collect();
        ids.sort_unstable();
        ids.dedup();
        codes.sort_unstable();
        codes.dedup();
        if ids.len() != self.tickets.len() || codes.len() != self.tickets.len() {
            return Err(Error::DuplicateTicket);
        }
        for t in &self.tickets {
            t.attendee.validate()?;
        }
        let mut sold: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        for t in &self.tickets {
            *sold.entry(t.seat_type).or_default() += 1;
        }
        let mut lines: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        let in_range =
            |m: &Money| m.currency == currency && (0..=MAX_AMOUNT_MINOR).contains(&m.amount_minor);
        let mut total = Money::zero(currency);
        for l in &self.lines {
            crate::text::check("a line's name", &l.name, crate::text::limit::TITLE, false)
                .map_err(seat_assignments::Error::from)?;
            if lines.insert(l.seat_type, l.quantity).is_some() {
                return Err(Error::LinesDisagree);
            }
            if !in_range(&l.unit_price) {
                return Err(Error::AmountOutOfRange);
            }
            total = total.plus(l.unit_price.times(l.quantity)?)?;
        }
        if lines != sold {
            return Err(Error::LinesDisagree);
        }
        let mut claimed: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        let mut leases: Vec<LeaseId> = Vec::with_capacity(self.from_leases.len());
        for c in &self.from_leases {
            let of_type = claimed.entry(c.seat_type).or_default();
            *of_type = of_type.saturating_add(c.quantity);
            leases.push(c.lease);
        }
        leases.sort_unstable();
        leases.dedup();
        let overclaimed = claimed
            .iter()
            .any(|(t, n)| *n > sold.get(t).copied().unwrap_or(0));
        if leases.len() != self.from_leases.len()
            || self.from_leases.iter().any(|c| c.quantity == 0)
            || overclaimed
        {
            return Err(Error::LeaseClaimsDisagree);
        }
        if total != self.total {
            return Err(Error::TotalDisagrees);
        }
        for m in [&self.total, &self.amount_taken] {
            if m.currency != currency {
                return Err(Error::WrongCurrency {
                    expected: currency,
                    got: m.currency,
                });
            }
            if !in_range(m) {
                return Err(Error::AmountOutOfRange);
            }
        }
        let must_pay_now = matches!(
            self.payment_method,
            PaymentMethod::Cash | PaymentMethod::Card
        );
        if must_pay_now && self.amount_taken.amount_minor < self.total.amount_minor {
            return Err(Error::AmountShort {
                taken: self.amount_taken,
                total: self.total,
            });
        }
        Ok(())
    }

    /// The sale's lines as an order's price list (a complimentary sale's prices are zero).
    pub fn price_list(&self) -> Vec<SeatPrice> {
        self.lines
            .iter()
            .map(|l| SeatPrice {
                seat_type: l.seat_type,
                name: l.name.clone(),
                unit_price: l.unit_price,
            })
            .collect()
    }
}

/// What the desk knows when it sells: the seat types and what it believes is left.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeskView {
    pub conference: Option<Conference>,
    /// What is left beyond every lease, minus this desk's provisional sales.
    pub remaining: BTreeMap<SeatTypeId, i64>,
    /// This desk's open leases.
    pub leases: Vec<HeldLease>,
}

impl DeskView {
    /// Seats of `seat_type` this desk's leases still cover at `at`.
    pub fn lease_left(&self, seat_type: SeatTypeId, at: Timestamp) -> u32 {
        self.leases
            .iter()
            .filter(|l| l.seat_type == seat_type && at < l.until)
            .map(|l| l.left)
            .fold(0, u32::saturating_add)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Everything but the lines' names and prices, which come from the conference. Seats
    /// come from `leases` first (in the order given, while they last and before their end),
    /// then from what is left.
    Sell {
        view: DeskView,
        conference: ConferenceId,
        order: OrderId,
        desk: DeviceId,
        sold_at: Timestamp,
        tickets: Vec<SaleTicket>,
        payment_method: PaymentMethod,
        amount_taken: Money,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    SeatsGone,
    UnknownSeatType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "walk_in.sale_recorded")]
    SaleRecorded { sale: Sale },
    #[serde(rename = "walk_in.confirmed")]
    Confirmed {
        order: OrderId,
        tickets: Vec<TicketId>,
        /// Seats honoured beyond the quota under the `overbook` policy.
        #[serde(default)]
        overbooked: Vec<SeatQuantity>,
    },
    /// Compensation: some tickets were withdrawn.
    #[serde(rename = "walk_in.partially_confirmed")]
    PartiallyConfirmed {
        order: OrderId,
        confirmed: Vec<TicketId>,
        withdrawn: Vec<TicketId>,
        refund_due: Money,
        reason: RejectReason,
        conflict: ConflictId,
    },
    /// Compensation: every ticket was withdrawn.
    #[serde(rename = "walk_in.rejected")]
    Rejected {
        order: OrderId,
        withdrawn: Vec<TicketId>,
        refund_due: Money,
        reason: RejectReason,
        conflict: ConflictId,
    },
    /// Head office overrode the quota: the withdrawn tickets are valid again.
    #[serde(rename = "walk_in.honoured")]
    Honoured {
        order: OrderId,
        reinstated: Vec<TicketId>,
        overbooked: Vec<SeatQuantity>,
    },
}

impl Event {
    pub fn order(&self) -> OrderId {
        match self {
            Event::SaleRecorded { sale } => sale.order,
            Event::Confirmed { order, .. }
            | Event::PartiallyConfirmed { order, .. }
            | Event::Rejected { order, .. }
            | Event::Honoured { order, .. } => *order,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the conference is not known at this desk yet; sync first")]
    NoConference,
    #[error("a sale needs at least one ticket")]
    NoTickets,
    #[error("seat type {0} is not sold at this conference")]
    UnknownSeatType(SeatTypeId),
    #[error("{name}: only {remaining} left as of the last sync, {wanted} wanted")]
    NoSeatsLeft {
        seat_type: SeatTypeId,
        name: String,
        remaining: i64,
        wanted: u32,
    },
    #[error(transparent)]
    Attendee(#[from] seat_assignments::Error),
    #[error("{taken} taken, but the sale costs {total}")]
    AmountShort { taken: Money, total: Money },
    #[error("the amount is in {got}, the conference sells in {expected}")]
    WrongCurrency { expected: Currency, got: Currency },
    #[error("the sale already exists")]
    AlreadyRecorded,
    #[error("two tickets have the same id or code")]
    DuplicateTicket,
    #[error("a sale may carry at most {max} tickets, this one has {got}")]
    TooManyTickets { max: usize, got: usize },
    #[error("an amount is negative or above the most a sale may be")]
    AmountOutOfRange,
    #[error("the sale's lines do not match its tickets")]
    LinesDisagree,
    #[error("the sale's total is not what its lines make")]
    TotalDisagrees,
    #[error("the sale's lease claims do not match its tickets")]
    LeaseClaimsDisagree,
    #[error("the sale claims lease {0}, which this desk does not hold for that seat type")]
    LeaseNotHeld(LeaseId),
    #[error(transparent)]
    Money(#[from] crate::money::MoneyError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::NoConference => "walk_in.no_conference",
            Error::NoTickets => "walk_in.no_tickets",
            Error::UnknownSeatType(_) => "walk_in.unknown_seat_type",
            Error::NoSeatsLeft { .. } => "walk_in.no_seats_left",
            Error::Attendee(e) => e.code(),
            Error::AmountShort { .. } => "walk_in.amount_short",
            Error::WrongCurrency { .. } => "walk_in.wrong_currency",
            Error::AlreadyRecorded => "walk_in.already_recorded",
            Error::DuplicateTicket => "walk_in.duplicate_ticket",
            Error::TooManyTickets { .. } => "walk_in.too_many_tickets",
            Error::AmountOutOfRange => "walk_in.amount_out_of_range",
            Error::LinesDisagree => "walk_in.lines_disagree",
            Error::TotalDisagrees => "walk_in.total_disagrees",
            Error::LeaseClaimsDisagree => "walk_in.lease_claims_disagree",
            Error::LeaseNotHeld(_) => "walk_in.lease_not_held",
            Error::Money(_) => "walk_in.money",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum SaleStatus {
    #[default]
    Provisional,
    Confirmed,
    PartiallyConfirmed,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WalkInSale {
    pub sale: Option<Sale>,
    pub status: SaleStatus,
    pub withdrawn: Vec<TicketId>,
    pub refund_due: Option<Money>,
}

impl Aggregate for WalkInSale {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let Command::Sell {
            view,
            conference,
            order,
            desk,
            sold_at,
            tickets,
            payment_method,
            amount_taken,
        } = command;
        if self.sale.is_some() {
            return Err(Error::AlreadyRecorded);
        }
        let conf = view.conference.as_ref().ok_or(Error::NoConference)?;
        let currency = conf.currency().ok_or(Error::NoConference)?;
        if tickets.is_empty() {
            return Err(Error::NoTickets);
        }
        let mut ids: Vec<TicketId> = tickets.iter().map(|t| t.ticket).collect();
        let mut codes: Vec<&TicketCode> = tickets.iter().map(|t| &t.code).collect();
        ids.sort_unstable();
        ids.dedup();
        codes.sort_unstable();
        codes.dedup();
        if ids.len() != tickets.len() || codes.len() != tickets.len() {
            return Err(Error::DuplicateTicket);
        }
        let mut clean_tickets = Vec::with_capacity(tickets.len());
        let mut wanted: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        for t in tickets {
            if conf.seat_type(t.seat_type).is_none() {
                return Err(Error::UnknownSeatType(t.seat_type));
            }
            let attendee = t.attendee.validate()?;
            *wanted.entry(t.seat_type).or_default() += 1;
            clean_tickets.push(SaleTicket {
                attendee,
                ..t.clone()
            });
        }
        let complimentary = *payment_method == PaymentMethod::Complimentary;
        let mut lines = Vec::new();
        let mut from_leases = Vec::new();
        let mut total = Money::zero(currency);
        for (seat_type, quantity) in &wanted {
            // Checked above.
            let Some(st) = conf.seat_type(*seat_type) else {
                continue;
            };
            let mut to_place = *quantity;
            for held in view
                .leases
                .iter()
                .filter(|l| l.seat_type == *seat_type && *sold_at < l.until && l.left > 0)
            {
                let take = to_place.min(held.left);
                if take == 0 {
                    break;
                }
                from_leases.push(LeaseClaim {
                    lease: held.lease,
                    seat_type: *seat_type,
                    quantity: take,
                });
                to_place -= take;
            }
            let remaining = view.remaining.get(seat_type).copied().unwrap_or(0);
            if st.policy == OversellPolicy::Reject && remaining < i64::from(to_place) {
                let covered = quantity - to_place;
                return Err(Error::NoSeatsLeft {
                    seat_type: *seat_type,
                    name: st.name.clone(),
                    remaining: remaining.max(0) + i64::from(covered),
                    wanted: *quantity,
                });
            }
            let unit_price = if complimentary {
                Money::zero(currency)
            } else {
                st.price
            };
            total = total.plus(unit_price.times(*quantity)?)?;
            lines.push(SaleLine {
                seat_type: *seat_type,
                name: st.name.clone(),
                unit_price,
                quantity: *quantity,
            });
        }
        if amount_taken.currency != currency {
            return Err(Error::WrongCurrency {
                expected: currency,
                got: amount_taken.currency,
            });
        }
        let must_pay_now = matches!(payment_method, PaymentMethod::Cash | PaymentMethod::Card);
        if must_pay_now && amount_taken.amount_minor < total.amount_minor {
            return Err(Error::AmountShort {
                taken: *amount_taken,
                total,
            });
        }
        let sale = Sale {
            conference: *conference,
            order: *order,
            desk: *desk,
            sold_at: *sold_at,
            lines,
            tickets: clean_tickets,
            payment_method: *payment_method,
            amount_taken: *amount_taken,
            total,
            from_leases,
        };
        // What the server will check again: a sale this desk records always adds up.
        sale.check(currency)?;
        Ok(vec![Event::SaleRecorded { sale }])
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::SaleRecorded { sale } => self.sale = Some(sale.clone()),
            Event::Confirmed { .. } => self.status = SaleStatus::Confirmed,
            Event::PartiallyConfirmed {
                withdrawn,
                refund_due,
                ..
            } => {
                self.status = SaleStatus::PartiallyConfirmed;
                self.withdrawn = withdrawn.clone();
                self.refund_due = Some(*refund_due);
            }
            Event::Rejected {
                withdrawn,
                refund_due,
                ..
            } => {
                self.status = SaleStatus::Rejected;
                self.withdrawn = withdrawn.clone();
                self.refund_due = Some(*refund_due);
            }
            Event::Honoured { .. } => {
                self.status = SaleStatus::Confirmed;
                self.withdrawn.clear();
                self.refund_due = None;
            }
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests;
