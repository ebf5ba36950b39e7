//! The order: what a registrant asked for, what was reserved, what it costs, and whether it is
//! confirmed. The book's V3 `Order` (seed digest §2.4): placed with a reservation expiry and an
//! access code, totals computed at placement from frozen prices, reserved fully or in part,
//! registrant assigned, confirmed or expired. A confirmed order cannot change or expire.
//!
//! Decisions where the book is silent:
//! - Every order records its **origin**: online, imported (with the source's id), or a walk-in
//!   sale at a desk (desk, payment method, amount taken).
//! - Confirmation states the payment: a free order confirms without one; an order with a total
//!   above zero needs a payment received (method and amount). Confirming twice is a no-op.
//! - An order can be cancelled (by head office or the registrant) until it is confirmed;
//!   afterwards it is a sale and is handled as a refund, outside this aggregate.
//! - Prices come in the command (the pricing read model is data here), so old orders keep the
//!   prices and names they were placed with (B:5487–5540).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::ids::{ConferenceId, DeviceId, OrderId, SeatTypeId};
use crate::money::{Money, MoneyError};
use crate::seat_availability::SeatQuantity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum PaymentMethod {
    Cash,
    Card,
    Complimentary,
    Invoice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderOrigin {
    Online,
    Imported {
        source: String,
        source_id: String,
    },
    WalkIn {
        desk: DeviceId,
        payment_method: PaymentMethod,
        amount_taken: Money,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum Payment {
    /// The order is free of charge.
    NotRequired,
    /// Money taken: by head office or a provider, exactly the order's total in its currency.
    Received {
        method: PaymentMethod,
        amount: Money,
        reference: String,
    },
    /// Billed later (a company's purchase order); the organiser accepts it as payment.
    Invoiced { reference: String },
}

/// The name and unit price of a seat type at the time of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatPrice {
    pub seat_type: SeatTypeId,
    pub name: String,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub seat_type: SeatTypeId,
    pub description: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registrant {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

impl Registrant {
    /// The registrant as given, trimmed, if it is one: a first and a last name and a plausible
    /// email, each within its length and without control characters.
    pub fn validate(&self) -> Result<Registrant, Error> {
        use crate::text::{check, limit};
        let registrant = Registrant {
            first_name: self.first_name.trim().to_owned(),
            last_name: self.last_name.trim().to_owned(),
            email: self.email.trim().to_owned(),
        };
        check("the first name", &registrant.first_name, limit::NAME, false)?;
        check("the last name", &registrant.last_name, limit::NAME, false)?;
        check("the email", &registrant.email, limit::EMAIL, false)?;
        if registrant.first_name.is_empty() {
            return Err(Error::Required {
                field: "the first name",
            });
        }
        if registrant.last_name.is_empty() {
            return Err(Error::Required {
                field: "the last name",
            });
        }
        if !is_plausible_email(&registrant.email) {
            return Err(Error::BadEmail(registrant.email));
        }
        Ok(registrant)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed; its seats are being reserved.
    #[default]
    Created,
    /// Fewer seats could be reserved than were asked for: the order holds (and costs) what it
    /// got, possibly nothing (total 0). It can be paid for what it holds, or changed.
    PartiallyReserved,
    /// Every seat asked for is held until `reservation_expires_at`: waiting for payment.
    ReservationCompleted,
    /// Paid (or free, or invoiced): the seats are sold and the tickets exist.
    Confirmed,
    /// Not paid within the window (and its grace): the seats went back.
    Expired,
    /// Given up by the registrant (or by head office): the seats went back.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Place {
        order: OrderId,
        conference: ConferenceId,
        seats: Vec<SeatQuantity>,
        prices: Vec<SeatPrice>,
        access_code: String,
        reservation_expires_at: Timestamp,
        origin: OrderOrigin,
        /// The most seats the order may hold (an online buyer's bound); `None` for orders
        /// that were sold already (imported, walk-in).
        max_seats: Option<u32>,
    },
    /// The registrant changes the seats before confirmation; they are reserved again, within
    /// the window the order was placed with (a change does not lengthen it).
    UpdateSeats {
        seats: Vec<SeatQuantity>,
        prices: Vec<SeatPrice>,
        /// As at placing: the most seats an online order may hold.
        max_seats: Option<u32>,
        /// When the registrant asked: after the window, the order can no longer change.
        at: Timestamp,
    },
    /// From the process manager, with what `SeatsAvailability` actually granted.
    MarkSeatsAsReserved {
        seats: Vec<SeatQuantity>,
        reservation_expires_at: Timestamp,
    },
    /// The book's `RejectOrder`: the reservation window passed (or nothing could be reserved).
    Reject,
    AssignRegistrant(Registrant),
    Confirm {
        payment: Payment,
    },
    Cancel {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    /// Schema 2: the access code's hash ([`access_code_hash`]) instead of the code, so that
    /// a pulled event never hands out what reads and changes the order.
    #[serde(rename = "order.placed")]
    Placed {
        order: OrderId,
        conference: ConferenceId,
        seats: Vec<SeatQuantity>,
        reservation_expires_at: Timestamp,
        access_code_hash: String,
        origin: OrderOrigin,
    },
    #[serde(rename = "order.totals_calculated")]
    TotalsCalculated {
        order: OrderId,
        lines: Vec<OrderLine>,
        total: Money,
        is_free_of_charge: bool,
    },
    #[serde(rename = "order.updated")]
    Updated {
        order: OrderId,
        seats: Vec<SeatQuantity>,
    },
    #[serde(rename = "order.partially_reserved")]
    PartiallyReserved {
        order: OrderId,
        reservation_expires_at: Timestamp,
        seats: Vec<SeatQuantity>,
    },
    #[serde(rename = "order.reservation_completed")]
    ReservationCompleted {
        order: OrderId,
        reservation_expires_at: Timestamp,
        seats: Vec<SeatQuantity>,
    },
    #[serde(rename = "order.registrant_assigned")]
    RegistrantAssigned {
        order: OrderId,
        registrant: Registrant,
    },
    #[serde(rename = "order.confirmed")]
    Confirmed { order: OrderId, payment: Payment },
    #[serde(rename = "order.expired")]
    Expired { order: OrderId },
    #[serde(rename = "order.cancelled")]
    Cancelled { order: OrderId, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the order already exists")]
    AlreadyExists,
    #[error("the order does not exist")]
    NotFound,
    #[error("an order needs at least one seat")]
    NoSeats,
    #[error("seat type {0} has no price")]
    UnknownSeatType(SeatTypeId),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("cannot modify a confirmed order")]
    AlreadyConfirmed,
    #[error("the order expired")]
    Expired,
    #[error("the order was cancelled")]
    Cancelled,
    #[error("no seats are reserved for this order yet")]
    NotReserved,
    #[error("the order costs {0}; it needs a payment before it is confirmed")]
    PaymentRequired(Money),
    #[error("the payment of {paid} does not cover the total of {total}")]
    PaymentShort { paid: Money, total: Money },
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("an order may hold at most {max} seats, this one asks for {asked}")]
    TooManySeats { max: u32, asked: u64 },
    #[error("the payment of {paid} is not the total of {total}")]
    PaymentNotTotal { paid: Money, total: Money },
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::AlreadyExists => "order.already_exists",
            Error::NotFound => "order.not_found",
            Error::NoSeats => "order.no_seats",
            Error::UnknownSeatType(_) => "order.unknown_seat_type",
            Error::Money(_) => "order.money",
            Error::AlreadyConfirmed => "order.already_confirmed",
            Error::Expired => "order.expired",
            Error::Cancelled => "order.cancelled",
            Error::NotReserved => "order.not_reserved",
            Error::TooManySeats { .. } => "order.too_many_seats",
            Error::PaymentNotTotal { .. } => "order.payment_not_total",
            Error::PaymentRequired(_) => "order.payment_required",
            Error::PaymentShort { .. } => "order.payment_short",
            Error::Required { .. } => "order.required",
            Error::BadEmail(_) => "order.bad_email",
        }
    }
}

/// A plausible email: something, `@`, a domain with a dot, no spaces. Deliverability is not
/// something a pure function can know.
pub fn is_plausible_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Order {
    pub id: Option<OrderId>,
    pub conference: Option<ConferenceId>,
    pub status: OrderStatus,
    pub seats: Vec<SeatQuantity>,
    pub prices: BTreeMap<SeatTypeId, SeatPrice>,
    pub lines: Vec<OrderLine>,
    pub total: Option<Money>,
    pub reservation_expires_at: Option<Timestamp>,
    /// The access code's hash; empty for an order placed without one (walk-in, import).
    pub access_code_hash: String,
    pub registrant: Option<Registrant>,
    pub origin: Option<OrderOrigin>,
}

/// The hash an access code is kept as: SHA-256 (hex) of the code as typed, trimmed and upper
/// case; empty for no code. A code is six characters of 32, so the hash does not hide it from
/// someone who tries them all, but nobody reads it off a pulled event.
pub fn access_code_hash(code: &str) -> String {
    use sha2::Digest as _;
    let code = code.trim().to_ascii_uppercase();
    if code.is_empty() {
        return String::new();
    }
    sha2::Sha256::digest(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Order {
    /// Whether `payment` settles this order exactly: what a trusted party (head office, a
    /// payment provider) may confirm it with. Money received must be the total, in its
    /// currency; "not required" only for a free order. (`Confirm` itself takes more than the
    /// total: a desk may have taken more in cash than a sale cost.)
    pub fn settled_by(&self, payment: &Payment) -> Result<(), Error> {
        let total = self.total.ok_or(Error::NotReserved)?;
        if self.seats.is_empty() {
            // Nothing could be reserved: nothing to pay for, whatever the (zero) total says.
            return Err(Error::NotReserved);
        }
        match payment {
            Payment::NotRequired if !total.is_zero() => Err(Error::PaymentRequired(total)),
            Payment::Received { amount, .. } if *amount != total => Err(Error::PaymentNotTotal {
                paid: *amount,
                total,
            }),
            Payment::NotRequired | Payment::Received { .. } | Payment::Invoiced { .. } => Ok(()),
        }
    }

    /// Whether `code` opens this order (never for an order without a code).
    pub fn opens_with(&self, code: &str) -> bool {
        !self.access_code_hash.is_empty() && access_code_hash(code) == self.access_code_hash
    }

    pub fn is_free_of_charge(&self) -> bool {
        self.total.is_some_and(|t| t.is_zero())
    }

    fn existing(&self) -> Result<OrderId, Error> {
        let id = self.id.ok_or(Error::NotFound)?;
        match self.status {
            OrderStatus::Confirmed => Err(Error::AlreadyConfirmed),
            OrderStatus::Expired => Err(Error::Expired),
            OrderStatus::Cancelled => Err(Error::Cancelled),
            OrderStatus::Created
            | OrderStatus::PartiallyReserved
            | OrderStatus::ReservationCompleted => Ok(id),
        }
    }
}

fn normalise(seats: &[SeatQuantity]) -> Vec<SeatQuantity> {
    let mut by_type: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for s in seats {
        let q = by_type.entry(s.seat_type).or_default();
        *q = q.saturating_add(s.quantity);
    }
    by_type
        .into_iter()
        .filter(|(_, q)| *q > 0)
        .map(|(seat_type, quantity)| SeatQuantity {
            seat_type,
            quantity,
        })
        .collect()
}

/// `line = unit price × quantity`, `total = Σ lines`, in the order's one currency.
fn totals(
    order: OrderId,
    seats: &[SeatQuantity],
    prices: &BTreeMap<SeatTypeId, SeatPrice>,
) -> Result<Event, Error> {
    let mut lines = Vec::with_capacity(seats.len());
    let mut total: Option<Money> = None;
    for s in seats {
        let price = prices
            .get(&s.seat_type)
            .ok_or(Error::UnknownSeatType(s.seat_type))?;
        let line_total = price.unit_price.times(s.quantity)?;
        total = Some(match total {
            None => line_total,
            Some(t) => t.plus(line_total)?,
        });
        lines.push(OrderLine {
            seat_type: s.seat_type,
            description: price.name.clone(),
            unit_price: price.unit_price,
            quantity: s.quantity,
            line_total,
        });
    }
    let total = total.ok_or(Error::NoSeats)?;
    Ok(Event::TotalsCalculated {
        order,
        lines,
        total,
        is_free_of_charge: total.is_zero(),
    })
}

fn price_map(prices: &[SeatPrice]) -> BTreeMap<SeatTypeId, SeatPrice> {
    prices.iter().map(|p| (p.seat_type, p.clone())).collect()
}

impl Aggregate for Order {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Place {
                order,
                conference,
                seats,
                prices,
                access_code,
                reservation_expires_at,
                origin,
                max_seats,
            } => {
                if self.id.is_some() {
                    return Err(Error::AlreadyExists);
                }
                let asked: u64 = seats.iter().map(|s| u64::from(s.quantity)).sum();
                if let Some(max) = *max_seats
                    && asked > u64::from(max)
                {
                    return Err(Error::TooManySeats { max, asked });
                }
                let seats = normalise(seats);
                if seats.is_empty() {
                    return Err(Error::NoSeats);
                }
                let totals = totals(*order, &seats, &price_map(prices))?;
                Ok(vec![
                    Event::Placed {
                        order: *order,
                        conference: *conference,
                        seats,
                        reservation_expires_at: *reservation_expires_at,
                        access_code_hash: access_code_hash(access_code),
                        origin: origin.clone(),
                    },
                    totals,
                ])
            }
            Command::UpdateSeats {
                seats,
                prices,
                max_seats,
                at,
            } => {
                let id = self.existing()?;
                if self.reservation_expires_at.is_some_and(|end| *at >= end) {
                    return Err(Error::Expired);
                }
                let asked: u64 = seats.iter().map(|s| u64::from(s.quantity)).sum();
                if let Some(max) = *max_seats
                    && asked > u64::from(max)
                {
                    return Err(Error::TooManySeats { max, asked });
                }
                let seats = normalise(seats);
                if seats.is_empty() {
                    return Err(Error::NoSeats);
                }
                let mut all_prices = self.prices.clone();
                all_prices.extend(price_map(prices));
                let totals = totals(id, &seats, &all_prices)?;
                Ok(vec![Event::Updated { order: id, seats }, totals])
            }
            Command::MarkSeatsAsReserved {
                seats,
                reservation_expires_at,
            } => {
                let id = self.existing()?;
                let reserved = normalise(seats);
                let complete = reserved == self.seats;
                if complete {
                    return Ok(vec![Event::ReservationCompleted {
                        order: id,
                        reservation_expires_at: *reservation_expires_at,
                        seats: reserved,
                    }]);
                }
                let mut events = vec![Event::PartiallyReserved {
                    order: id,
                    reservation_expires_at: *reservation_expires_at,
                    seats: reserved.clone(),
                }];
                if !reserved.is_empty() {
                    events.push(totals(id, &reserved, &self.prices)?);
                } else if let Some(asked) = self.total {
                    // Nothing could be reserved: nothing is owed. Not "free of charge", which
                    // would let the process confirm it; there is nothing to confirm.
                    events.push(Event::TotalsCalculated {
                        order: id,
                        lines: Vec::new(),
                        total: Money::new(0, asked.currency),
                        is_free_of_charge: false,
                    });
                }
                Ok(events)
            }
            Command::Reject => match self.status {
                _ if self.id.is_none() => Ok(vec![]),
                OrderStatus::Confirmed => Err(Error::AlreadyConfirmed),
                OrderStatus::Expired | OrderStatus::Cancelled => Ok(vec![]),
                OrderStatus::Created
                | OrderStatus::PartiallyReserved
                | OrderStatus::ReservationCompleted => Ok(vec![Event::Expired {
                    order: self.existing()?,
                }]),
            },
            Command::AssignRegistrant(registrant) => {
                let id = self.id.ok_or(Error::NotFound)?;
                if matches!(self.status, OrderStatus::Expired) {
                    return Err(Error::Expired);
                }
                if matches!(self.status, OrderStatus::Cancelled) {
                    return Err(Error::Cancelled);
                }
                let registrant = registrant.validate()?;
                if self.registrant.as_ref() == Some(&registrant) {
                    return Ok(vec![]);
                }
                Ok(vec![Event::RegistrantAssigned {
                    order: id,
                    registrant,
                }])
            }
            Command::Confirm { payment } => {
                if self.status == OrderStatus::Confirmed {
                    return Ok(vec![]);
                }
                let id = self.existing()?;
                if self.status == OrderStatus::Created || self.seats.is_empty() {
                    return Err(Error::NotReserved);
                }
                let total = self.total.ok_or(Error::NotReserved)?;
                match payment {
                    Payment::NotRequired if !total.is_zero() => {
                        return Err(Error::PaymentRequired(total));
                    }
                    Payment::NotRequired | Payment::Invoiced { .. } => {}
                    Payment::Received { amount, .. } => {
                        if amount.currency != total.currency
                            || amount.amount_minor < total.amount_minor
                        {
                            return Err(Error::PaymentShort {
                                paid: *amount,
                                total,
                            });
                        }
                    }
                }
                Ok(vec![Event::Confirmed {
                    order: id,
                    payment: payment.clone(),
                }])
            }
            Command::Cancel { reason } => {
                if self.status == OrderStatus::Cancelled {
                    return Ok(vec![]);
                }
                let id = self.existing()?;
                Ok(vec![Event::Cancelled {
                    order: id,
                    reason: reason.trim().to_owned(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Placed {
                order,
                conference,
                seats,
                reservation_expires_at,
                access_code_hash,
                origin,
            } => {
                self.id = Some(*order);
                self.conference = Some(*conference);
                self.seats = seats.clone();
                self.reservation_expires_at = Some(*reservation_expires_at);
                self.access_code_hash = access_code_hash.clone();
                self.origin = Some(origin.clone());
                self.status = OrderStatus::Created;
            }
            Event::TotalsCalculated { lines, total, .. } => {
                for line in lines {
                    self.prices.insert(
                        line.seat_type,
                        SeatPrice {
                            seat_type: line.seat_type,
                            name: line.description.clone(),
                            unit_price: line.unit_price,
                        },
                    );
                }
                self.lines = lines.clone();
                self.total = Some(*total);
            }
            Event::Updated { seats, .. } => {
                self.seats = seats.clone();
                self.status = OrderStatus::Created;
            }
            Event::PartiallyReserved {
                reservation_expires_at,
                seats,
                ..
            } => {
                self.seats = seats.clone();
                self.reservation_expires_at = Some(*reservation_expires_at);
                self.status = OrderStatus::PartiallyReserved;
            }
            Event::ReservationCompleted {
                reservation_expires_at,
                seats,
                ..
            } => {
                self.seats = seats.clone();
                self.reservation_expires_at = Some(*reservation_expires_at);
                self.status = OrderStatus::ReservationCompleted;
            }
            Event::RegistrantAssigned { registrant, .. } => {
                self.registrant = Some(registrant.clone())
            }
            Event::Confirmed { .. } => self.status = OrderStatus::Confirmed,
            Event::Expired { .. } => self.status = OrderStatus::Expired,
            Event::Cancelled { .. } => self.status = OrderStatus::Cancelled,
        }
        self
    }
}

#[cfg(test)]
mod tests;
