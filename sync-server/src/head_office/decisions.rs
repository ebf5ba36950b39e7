//! Head office's decisions on conflicts: each is an event on the conflict's stream, and
//! honouring a sale records the overbooking and the reinstated tickets with it.

use onsite_shared::conflict::{self, Actor, Conflict, ConflictKind, Resolution};
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConflictId;
use onsite_shared::order::{self, PaymentMethod};
use onsite_shared::seat_availability::SeatsAvailability;
use onsite_shared::walk_in::WalkInSale;

use crate::params;
use crate::recorder::{Recorder, Rejected};

/// What head office decides about a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The money went back: the refund due (walk-in) or the late payment.
    RecordRefund(PaymentMethod),
    /// Override the quota: the sale's withdrawn seats are overbooked and its tickets reinstated.
    HonourSale,
    /// Nothing to do; the note says why.
    Dismiss,
    /// Seen and handled (flags).
    Close,
}

/// Resolves a conflict as head office: the resolution is an event on the conflict's stream,
/// and honouring a sale records the overbooking and the reinstated tickets in the same
/// transaction. Desks receive all of it through pull.
pub fn resolve(
    rec: &mut Recorder<'_>,
    conflict_id: ConflictId,
    decision: Decision,
    user: &str,
    note: &str,
) -> Result<(), Rejected> {
    let not_found = || Rejected::Domain {
        code: error_code::CONFLICT_NOT_FOUND,
        message: "no such conflict in this conference".to_owned(),
    };
    let owner = rec.tx.query(
        "SELECT conference FROM conflicts WHERE conflict_id = $1",
        params![conflict_id.to_string()],
    )?;
    if owner.first().map(|r| r.text(0)).transpose()? != Some(rec.conference.to_string()) {
        return Err(not_found());
    }
    let stream = StreamId::conflict(conflict_id);
    let (state, _) = rec.load::<Conflict>(&stream)?;
    let kind = state.kind.ok_or_else(not_found)?;
    let resolution = match decision {
        Decision::RecordRefund(method) => Resolution::RefundRecorded {
            amount: match &kind {
                ConflictKind::WalkInRejected { refund_due, .. } => *refund_due,
                ConflictKind::SaleRefused { amount_taken, .. } => *amount_taken,
                ConflictKind::PaymentAfterExpiry {
                    payment: order::Payment::Received { amount, .. },
                    ..
                } => *amount,
                _ => {
                    return Err(Rejected::Domain {
                        code: error_code::CONFLICT_NOT_APPLICABLE,
                        message: format!("there is no money to return for a {}", kind.label()),
                    });
                }
            },
            method,
        },
        Decision::HonourSale => Resolution::SaleHonoured,
        Decision::Dismiss => Resolution::Dismissed,
        Decision::Close => Resolution::Closed,
    };
    rec.execute::<Conflict>(
        &stream,
        &conflict::Command::Resolve {
            resolution,
            by: Actor::HeadOffice {
                user: user.to_owned(),
            },
            at: rec.now,
            note: note.to_owned(),
        },
    )?;
    if let (Decision::HonourSale, ConflictKind::WalkInRejected { order, .. }) = (decision, &kind) {
        let (sale, _) = rec.load::<WalkInSale>(&StreamId::walk_in(*order))?;
        let (seats, _) = rec.load::<SeatsAvailability>(&StreamId::seats(rec.conference))?;
        let reason = if note.trim().is_empty() {
            format!("honoured by head office ({user})")
        } else {
            note.trim().to_owned()
        };
        let events = onsite_shared::reconciliation::walk_in::honour(&sale, &seats, &reason)
            .map_err(|e| Rejected::Domain {
                code: error_code::CANNOT_HONOUR,
                message: e.to_string(),
            })?;
        rec.record_all(&events)?;
    }
    Ok(())
}
