//! Walk-in sales: seats as the desk sees them, the sale itself, and the sales journal.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::conference::{Conference, OversellPolicy, SeatKind};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{AttendeeTypeId, LeaseId, OrderId, SeatTypeId, TicketCode, TicketId};
use onsite_shared::money::Money;
use onsite_shared::order::PaymentMethod;
use onsite_shared::protocol::{VenueAllocation, VenueSeatsLeft};
use onsite_shared::seat_assignments::Attendee;
use onsite_shared::seat_availability::{LeaseEnd, SeatQuantity, SeatsAvailability};
use onsite_shared::walk_in::{self, DeskView, HeldLease, SaleStatus, SaleTicket, WalkInSale};

use crate::command;
use crate::error::DeskError;
use crate::projection;
use crate::store::{Desk, Identity, parse_time, setting};

/// One seat type as the walk-in screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SeatAvailability {
    pub seat_type: SeatTypeId,
    pub name: String,
    pub price: Money,
    pub admits: bool,
    /// Sold beyond the quota at the door when gone (the seat type's policy).
    pub overbook: bool,
    /// Remaining as the server last said.
    pub authoritative: i64,
    /// This desk's sales beyond its leases the server has not decided yet.
    pub pending: i64,
    /// Seats this desk's open leases still cover: sales of these are final.
    pub lease_left: i64,
    /// Seats the venue relay this desk talks to had left in its venue leases at the last
    /// sync: sales of these are final too (the desk asks the relay before the payment).
    pub venue_left: i64,
    /// What this desk may still sell: `authoritative - pending + lease_left + venue_left`.
    pub remaining: i64,
    /// When the desk last heard from the server (`None`: never).
    #[ts(type = "string | null")]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct SaleTicketRequest {
    pub seat_type: SeatTypeId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub company: String,
    pub attendee_types: Vec<AttendeeTypeId>,
}

#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
pub struct SaleRequest {
    pub tickets: Vec<SaleTicketRequest>,
    pub payment_method: PaymentMethod,
    /// What was taken, in minor units of the conference's currency.
    pub amount_taken_minor: i64,
}

/// The provisional order a sale made, with the tickets made at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SaleReceipt {
    pub order: OrderId,
    pub tickets: Vec<SaleTicket>,
    pub total: Money,
    pub amount_taken: Money,
    /// The tickets let in with the sale ([`Desk::sell_and_admit`]).
    pub admitted: Vec<TicketCode>,
    /// The tickets sold from this desk's lease: final, never refunded for want of a seat.
    /// The others are provisional until the server has decided.
    pub final_tickets: Vec<TicketId>,
}

/// A lease of seats granted to this desk, as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LeaseView {
    pub lease: LeaseId,
    pub seat_type: SeatTypeId,
    pub seat_type_name: String,
    pub granted: u32,
    /// Sold from it, as the server last said.
    pub sold: u32,
    /// Sold from it here and not yet decided by the server.
    pub sold_here_pending: u32,
    /// What it still covers: final sales this desk can make.
    pub left: u32,
    #[ts(type = "string")]
    pub until: Timestamp,
    /// How it ended, if it did (as the server said, or its time ran out here).
    pub ended: Option<LeaseEnd>,
}

/// One line of the walk-in sales journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SaleView {
    pub order: OrderId,
    #[ts(type = "string")]
    pub sold_at: Timestamp,
    pub status: SaleStatus,
    pub total: Money,
    pub amount_taken: Money,
    pub payment_method: PaymentMethod,
    pub tickets: Vec<SaleTicket>,
    pub withdrawn: Vec<TicketId>,
    pub refund_due: Option<Money>,
    /// Not pushed and confirmed by the server yet.
    pub pending: bool,
    /// The tickets sold from this desk's lease (final).
    pub final_tickets: Vec<TicketId>,
}

/// This desk's undecided sales: seats per seat type sold beyond its leases, and seats per
/// lease sold from it.
#[derive(Default)]
struct Undecided {
    beyond_leases: BTreeMap<SeatTypeId, i64>,
    from_lease: BTreeMap<LeaseId, u32>,
}

fn undecided(conn: &Connection) -> Result<Undecided, DeskError> {
    let mut stmt = conn.prepare_cached("SELECT state FROM sales WHERE status = 'provisional'")?;
    let states = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Undecided::default();
    for s in states {
        let state: WalkInSale = serde_json::from_str(&s?)?;
        let Some(sale) = state.sale else { continue };
        let finals = sale.final_tickets();
        for t in sale.tickets.iter().filter(|t| !finals.contains(&t.ticket)) {
            *out.beyond_leases.entry(t.seat_type).or_default() += 1;
        }
        for c in &sale.from_leases {
            *out.from_lease.entry(c.lease).or_default() += c.quantity;
        }
    }
    Ok(out)
}

/// This desk's leases, with what each still covers at `now`.
fn leases(
    id: Identity,
    conf: &Conference,
    seats: &SeatsAvailability,
    undecided: &Undecided,
    now: Timestamp,
) -> Vec<LeaseView> {
    seats
        .leases
        .iter()
        .filter(|(_, l)| l.desk == id.device)
        .map(|(lease, l)| {
            let pending = undecided.from_lease.get(lease).copied().unwrap_or(0);
            let ended = l.ended.or((now >= l.until).then_some(LeaseEnd::Expired));
            let left = if ended.is_some() {
                0
            } else {
                l.granted
                    .saturating_sub(l.sold)
                    .saturating_sub(l.beyond)
                    .saturating_sub(pending)
            };
            LeaseView {
                lease: *lease,
                seat_type: l.seat_type,
                seat_type_name: conf
                    .seat_type(l.seat_type)
                    .map_or_else(|| l.seat_type.to_string(), |s| s.name.clone()),
                granted: l.granted,
                sold: l.sold + l.beyond,
                sold_here_pending: pending,
                left,
                until: l.until,
                ended,
            }
        })
        .collect()
}

fn availability(
    conn: &Connection,
    id: Identity,
    conf: &Conference,
    now: Timestamp,
) -> Result<(Vec<SeatAvailability>, Vec<LeaseView>), DeskError> {
    let seats: SeatsAvailability = projection::authority(conn, &StreamId::seats(id.conference))?;
    let undecided = undecided(conn)?;
    let held = leases(id, conf, &seats, &undecided, now);
    let as_of = setting(conn, "last_sync")?
        .map(|t| parse_time(&t))
        .transpose()?;
    let venue: Vec<VenueSeatsLeft> = match setting(conn, "venue_seats")? {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    };
    let seat_types = conf
        .seat_types
        .values()
        .map(|st| {
            let authoritative = seats.remaining(st.id).unwrap_or(0);
            let pending = undecided.beyond_leases.get(&st.id).copied().unwrap_or(0);
            let lease_left: i64 = held
                .iter()
                .filter(|l| l.seat_type == st.id)
                .map(|l| i64::from(l.left))
                .sum();
            let venue_left = venue
                .iter()
                .filter(|v| v.seat_type == st.id)
                .map(|v| i64::try_from(v.left).unwrap_or(i64::MAX))
                .sum();
            SeatAvailability {
                seat_type: st.id,
                name: st.name.clone(),
                price: st.price,
                admits: st.kind == SeatKind::Admission,
                overbook: st.policy == OversellPolicy::Overbook,
                authoritative,
                pending,
                lease_left,
                venue_left,
                remaining: authoritative - pending + lease_left + venue_left,
                as_of,
            }
        })
        .collect();
    Ok((seat_types, held))
}

/// The next walk-in guest's number at this desk (1, 2, …), counted in its settings.
fn next_guest(tx: &Connection) -> Result<u64, DeskError> {
    let n = crate::store::setting(tx, "walk_in_guests")?
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    crate::store::set_setting(tx, "walk_in_guests", &n.to_string())?;
    Ok(n)
}

fn new_code(conn: &Connection) -> Result<TicketCode, DeskError> {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes)
            .map_err(|e| DeskError::Corrupt(format!("no randomness: {e}")))?;
        let code = TicketCode::from_entropy(u64::from_le_bytes(bytes));
        let taken: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM roster WHERE code = ?1)")?
            .query_row([code.as_str()], |r| r.get(0))?;
        if !taken {
            return Ok(code);
        }
    }
}

fn sale_view(state: WalkInSale, pending: bool) -> Option<SaleView> {
    let sale = state.sale?;
    Some(SaleView {
        final_tickets: sale.final_tickets(),
        order: sale.order,
        sold_at: sale.sold_at,
        status: state.status,
        total: sale.total,
        amount_taken: sale.amount_taken,
        payment_method: sale.payment_method,
        tickets: sale.tickets,
        withdrawn: state.withdrawn,
        refund_due: state.refund_due,
        pending,
    })
}

impl Desk {
    /// Seat types with what this desk may still sell, as of the last sync.
    pub fn availability(&self) -> Result<Vec<SeatAvailability>, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let conf = self.conference(conn, id)?;
            Ok(availability(conn, id, &conf, self.now())?.0)
        })
    }

    /// The seat leases head office granted this desk, open or ended.
    pub fn leases(&self) -> Result<Vec<LeaseView>, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let conf = self.conference(conn, id)?;
            Ok(availability(conn, id, &conf, self.now())?.1)
        })
    }

    /// Sells seats at the door: a provisional order with tickets made here, refused when the
    /// desk's own view shows no seats left. A ticket sold without a name or an email is a
    /// walk-in guest's: it is named "Walk-in guest N" (N counted at this desk) so that the
    /// door, the badge and head office can tell guests apart.
    pub fn sell(&self, req: &SaleRequest) -> Result<SaleReceipt, DeskError> {
        let order = OrderId::from_uuid(uuid::Uuid::now_v7());
        self.write(|tx| self.sell_in(tx, req, order, &[]))
    }

    /// Sells, and lets the buyers in at once (a desk that is also a door), in one
    /// transaction: each ticket that admits gets its admission event at this desk's gate.
    pub fn sell_and_admit(&self, req: &SaleRequest) -> Result<SaleReceipt, DeskError> {
        let order = OrderId::from_uuid(uuid::Uuid::now_v7());
        self.sell_as(req, true, order, &[])
    }

    /// Seats of each seat type a sale needs beyond what this desk's own leases cover, for the
    /// seat types the venue relay said at the last sync it has seats of in its venue leases:
    /// what to ask the relay for before taking the payment.
    pub fn venue_need(&self, req: &SaleRequest) -> Result<Vec<SeatQuantity>, DeskError> {
        let seat_types = self.availability()?;
        let mut wanted: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
        for t in &req.tickets {
            *wanted.entry(t.seat_type).or_default() += 1;
        }
        Ok(wanted
            .into_iter()
            .filter_map(|(seat_type, want)| {
                let seats = seat_types
                    .iter()
                    .find(|a| a.seat_type == seat_type && a.venue_left > 0)?;
                let need = i64::from(want) - seats.lease_left;
                (need > 0).then(|| SeatQuantity {
                    seat_type,
                    quantity: u32::try_from(need).unwrap_or(0),
                })
            })
            .collect())
    }

    /// Sells as the sale `order`, with the seats a venue relay handed this desk for it
    /// (`venue`: final, like seats from the desk's own lease), and lets the buyers in when
    /// `admit` says so.
    pub fn sell_as(
        &self,
        req: &SaleRequest,
        admit: bool,
        order: OrderId,
        venue: &[VenueAllocation],
    ) -> Result<SaleReceipt, DeskError> {
        self.write(|tx| {
            let mut receipt = self.sell_in(tx, req, order, venue)?;
            if !admit {
                return Ok(receipt);
            }
            let id = Desk::identity(tx)?;
            let conf = self.conference(tx, id)?;
            let gate = crate::check_in::gate_of(tx, None)?;
            for t in &receipt.tickets {
                let outcome = crate::check_in::admit(
                    tx,
                    id,
                    &conf,
                    t.code.as_str(),
                    &gate,
                    None,
                    self.now(),
                )?;
                if matches!(outcome, crate::CheckInOutcome::Admitted { .. }) {
                    receipt.admitted.push(t.code.clone());
                }
            }
            Ok(receipt)
        })
    }

    fn sell_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        req: &SaleRequest,
        order: OrderId,
        venue: &[VenueAllocation],
    ) -> Result<SaleReceipt, DeskError> {
        let now = self.now();
        let id = Desk::identity(tx)?;
        let conf = self.conference(tx, id)?;
        let (seat_types, held) = availability(tx, id, &conf, now)?;
        // What is left beyond the leases: the leases are offered to the sale on their own.
        let remaining = seat_types
            .into_iter()
            .map(|a| (a.seat_type, a.authoritative - a.pending))
            .collect();
        let leases = held
            .iter()
            .filter(|l| l.left > 0)
            .map(|l| HeldLease {
                lease: l.lease,
                seat_type: l.seat_type,
                left: l.left,
                until: l.until,
            })
            .chain(
                venue
                    .iter()
                    .filter(|a| a.order == order)
                    .map(|a| HeldLease {
                        lease: a.lease,
                        seat_type: a.seat_type,
                        left: a.quantity,
                        until: a.until,
                    }),
            )
            .collect();
        let currency = conf
            .currency()
            .ok_or_else(|| DeskError::refused(&walk_in::Error::NoConference))?;
        let mut tickets = Vec::with_capacity(req.tickets.len());
        for t in &req.tickets {
            let mut code = new_code(tx)?;
            while tickets.iter().any(|x: &SaleTicket| x.code == code) {
                code = new_code(tx)?;
            }
            let guest = [&t.first_name, &t.last_name, &t.email]
                .iter()
                .all(|s| s.trim().is_empty());
            let (first_name, last_name) = if guest {
                ("Walk-in".to_owned(), format!("guest {}", next_guest(tx)?))
            } else {
                (t.first_name.clone(), t.last_name.clone())
            };
            tickets.push(SaleTicket {
                ticket: TicketId::from_uuid(uuid::Uuid::now_v7()),
                code,
                seat_type: t.seat_type,
                attendee: Attendee {
                    first_name,
                    last_name,
                    email: t.email.clone(),
                    company: t.company.clone(),
                    attendee_types: t.attendee_types.clone(),
                    ..Default::default()
                },
            });
        }
        let command = walk_in::Command::Sell {
            view: DeskView {
                conference: conf.id.is_some().then(|| Conference::clone(&conf)),
                remaining,
                leases,
            },
            conference: id.conference,
            order,
            desk: id.device,
            sold_at: now,
            tickets,
            payment_method: req.payment_method,
            amount_taken: Money::new(req.amount_taken_minor, currency),
        };
        let sold = command::execute::<WalkInSale>(tx, id, &StreamId::walk_in(order), now, |_| {
            Ok(command)
        })?;
        let sale = sold
            .sale
            .ok_or_else(|| DeskError::Corrupt("a sale recorded nothing".into()))?;
        Ok(SaleReceipt {
            final_tickets: sale.final_tickets(),
            order: sale.order,
            tickets: sale.tickets,
            total: sale.total,
            amount_taken: sale.amount_taken,
            admitted: Vec::new(),
        })
    }

    /// This desk's walk-in sales journal, newest first.
    pub fn sales(&self) -> Result<Vec<SaleView>, DeskError> {
        self.read(|conn| {
            let me = Desk::identity(conn)?.device;
            let mut stmt =
                conn.prepare_cached("SELECT state, pending FROM sales ORDER BY sold_at DESC")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (state, pending) = row?;
                let state: WalkInSale = serde_json::from_str(&state)?;
                if state.sale.as_ref().is_some_and(|s| s.desk == me) {
                    out.extend(sale_view(state, pending));
                }
            }
            Ok(out)
        })
    }
}
