//! The conflict inbox: compensations and flags that need a person, and the desk's actions on
//! them (events, like everything else).

use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::conflict::{self, Actor, Conflict, ConflictKind, Resolution};
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConflictId;
use onsite_shared::money::Money;
use onsite_shared::order::PaymentMethod;

use crate::command;
use crate::error::DeskError;
use crate::roster;
use crate::store::{Desk, parse_time};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConflictItem {
    pub conflict: ConflictId,
    pub label: String,
    pub kind: ConflictKind,
    #[ts(type = "string | null")]
    pub opened_at: Option<Timestamp>,
    pub acknowledged: bool,
    pub resolution: Option<Resolution>,
    /// An action of this desk the server has not confirmed yet.
    pub pending: bool,
}

impl ConflictItem {
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }
}

/// What a desk can do with an inbox item. Honouring a sale over the quota is head office's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ConflictAction {
    /// Seen, being handled at the door; the item stays open.
    Acknowledge { note: String },
    /// The money was given back.
    RecordRefund {
        amount_minor: i64,
        method: PaymentMethod,
        note: String,
    },
    /// Nothing to do (needs a note saying why).
    Dismiss { note: String },
    /// A flag that was looked at and needs nothing more.
    Close { note: String },
}

impl Desk {
    /// The inbox: open items first (oldest first), then resolved ones.
    pub fn conflicts(&self) -> Result<Vec<ConflictItem>, DeskError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT state, opened_at, pending FROM conflicts ORDER BY open DESC, opened_at, conflict",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (state, opened_at, pending) = row?;
                let state: Conflict = serde_json::from_str(&state)?;
                let (Some(id), Some(kind)) = (state.id, state.kind) else {
                    continue;
                };
                out.push(ConflictItem {
                    conflict: id,
                    label: kind.label().to_owned(),
                    kind,
                    opened_at: (!opened_at.is_empty())
                        .then(|| parse_time(&opened_at))
                        .transpose()?,
                    acknowledged: state.acknowledged,
                    resolution: state.resolution,
                    pending,
                });
            }
            Ok(out)
        })
    }

    /// How many inbox items are open (the badge in the navigation).
    pub fn open_conflicts(&self) -> Result<u64, DeskError> {
        self.read(|conn| {
            Ok(
                conn.query_row("SELECT COUNT(*) FROM conflicts WHERE open = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Acts on an inbox item.
    pub fn act_on_conflict(
        &self,
        conflict: ConflictId,
        action: &ConflictAction,
    ) -> Result<(), DeskError> {
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let stream = StreamId::conflict(conflict);
            let conf = self.conference(tx, id)?;
            command::execute::<Conflict>(tx, id, &stream, now, |state| {
                if state.id.is_none() {
                    return Err(DeskError::NoSuchConflict);
                }
                let by = Actor::Desk { device: id.device };
                let currency = match &state.kind {
                    Some(ConflictKind::WalkInRejected { refund_due, .. }) => refund_due.currency,
                    _ => roster::currency(&conf)?,
                };
                Ok(match action {
                    ConflictAction::Acknowledge { note } => conflict::Command::Acknowledge {
                        by,
                        at: now,
                        note: note.clone(),
                    },
                    ConflictAction::RecordRefund {
                        amount_minor,
                        method,
                        note,
                    } => conflict::Command::Resolve {
                        resolution: Resolution::RefundRecorded {
                            amount: Money::new(*amount_minor, currency),
                            method: *method,
                        },
                        by,
                        at: now,
                        note: note.clone(),
                    },
                    ConflictAction::Dismiss { note } => conflict::Command::Resolve {
                        resolution: Resolution::Dismissed,
                        by,
                        at: now,
                        note: note.clone(),
                    },
                    ConflictAction::Close { note } => conflict::Command::Resolve {
                        resolution: Resolution::Closed,
                        by,
                        at: now,
                        note: note.clone(),
                    },
                })
            })?;
            Ok(())
        })
    }
}
