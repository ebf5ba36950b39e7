//! Upstream's side of venue relays: head office enrols a relay for one conference (a one-time
//! code, like a desk's), the relay trades it for a token, and with that token it mirrors the
//! conference's log, learns the conference's desks (their token hashes, so it can tell them
//! apart while the uplink is down) and forwards their pushes on their behalf. A relay's token
//! is never a desk's: the desk routes do not know it, and the relay routes know only it.

use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::{ClientId, ConferenceId, DeviceId};
use onsite_shared::protocol::{DeskCredentials, RelayClient, RelayDesk, RelayStatus};
use serde::Serialize;

use crate::devices::{self, AuthError};
use crate::params;
use crate::storage::{StoreError, Tx, time_text};

/// A relay, as its token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relay {
    pub relay: DeviceId,
    pub conference: ConferenceId,
}

/// Registers a relay for a conference and makes its one-time enrolment code (24 hours).
pub fn enroll(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    name: &str,
    now: Timestamp,
) -> Result<devices::Enrolment, AuthError> {
    onsite_shared::text::check(
        "the relay's name",
        name,
        onsite_shared::text::limit::NAME,
        false,
    )?;
    if name.trim().is_empty() {
        return Err(AuthError::NameRequired);
    }
    if !devices::conference_exists(tx, conference)? {
        return Err(AuthError::NoConference);
    }
    let relay = DeviceId::from_uuid(uuid::Uuid::now_v7());
    let code = devices::new_code()?;
    let expires_at = now + chrono::Duration::hours(24);
    tx.execute(
        "INSERT INTO relays (relay_id, conference, name, code_hash, code_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            relay.to_string(),
            conference.to_string(),
            name.trim(),
            devices::hash(&devices::normalise_code(&code)),
            time_text(&expires_at),
            time_text(&now),
        ],
    )?;
    Ok(devices::Enrolment {
        device_id: relay,
        code,
        expires_at,
    })
}

/// Trades a relay's one-time code for its token. The code cannot be used again.
pub fn redeem(tx: &mut dyn Tx, code: &str, now: Timestamp) -> Result<DeskCredentials, AuthError> {
    let rows = tx.query(
        "SELECT relay_id, conference, name, code_expires_at, revoked_at FROM relays WHERE code_hash = $1",
        params![devices::hash(&devices::normalise_code(code))],
    )?;
    let row = rows.first().ok_or(AuthError::BadCode)?;
    if row.opt_text(4)?.is_some() {
        return Err(AuthError::Revoked);
    }
    if row.text(3)? < time_text(&now) {
        return Err(AuthError::BadCode);
    }
    let token = devices::new_token("osr_")?;
    let relay: DeviceId = row.parse(0)?;
    tx.execute(
        "UPDATE relays SET code_hash = NULL, code_expires_at = NULL, token_hash = $2, enrolled_at = $3 \
         WHERE relay_id = $1",
        params![relay.to_string(), devices::hash(&token), time_text(&now)],
    )?;
    Ok(DeskCredentials {
        device_id: relay,
        conference_id: row.parse(1)?,
        name: row.text(2)?,
        token,
    })
}

/// Who a relay token belongs to; its last contact is now.
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<Relay, AuthError> {
    let rows = tx.query(
        "SELECT relay_id, conference, revoked_at FROM relays WHERE token_hash = $1",
        params![devices::hash(token)],
    )?;
    let row = rows.first().ok_or(AuthError::Unknown)?;
    if row.opt_text(2)?.is_some() {
        return Err(AuthError::Revoked);
    }
    Ok(Relay {
        relay: row.parse(0)?,
        conference: row.parse(1)?,
    })
}

/// The desk a relay pushes for: a desk of the relay's conference, enrolled and not revoked.
pub fn desk_for(
    tx: &mut dyn Tx,
    relay: Relay,
    device: DeviceId,
) -> Result<crate::sync::Desk, AuthError> {
    let rows = tx.query(
        "SELECT conference, revoked_at, token_hash FROM devices WHERE device_id = $1",
        params![device.to_string()],
    )?;
    let row = rows.first().ok_or(AuthError::NoDevice)?;
    if row.text(0)? != relay.conference.to_string() || row.opt_text(2)?.is_none() {
        return Err(AuthError::NoDevice);
    }
    if row.opt_text(1)?.is_some() {
        return Err(AuthError::Revoked);
    }
    Ok(crate::sync::Desk {
        device,
        conference: relay.conference,
    })
}

/// The desks of the relay's conference, with their token hashes and the sequences upstream
/// holds from each of their sync clients.
pub fn desks(tx: &mut dyn Tx, relay: Relay) -> Result<Vec<RelayDesk>, StoreError> {
    let rows = tx.query(
        "SELECT d.device_id, d.name, d.token_hash, d.revoked_at, c.client_id, c.last_client_seq \
         FROM devices d LEFT JOIN clients c ON c.device_id = d.device_id \
         WHERE d.conference = $1 ORDER BY d.device_id",
        params![relay.conference.to_string()],
    )?;
    let mut out: Vec<RelayDesk> = Vec::new();
    for r in &rows {
        let device: DeviceId = r.parse(0)?;
        if out.last().is_none_or(|d| d.device_id != device) {
            out.push(RelayDesk {
                device_id: device,
                name: r.text(1)?,
                token_hash: r.opt_text(2)?,
                revoked: r.opt_text(3)?.is_some(),
                clients: Vec::new(),
            });
        }
        if let Some(client) = r.opt_text(4)? {
            let client: ClientId = client
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("client id {client}")))?;
            if let Some(d) = out.last_mut() {
                d.clients.push(RelayClient {
                    client_id: client,
                    last_client_seq: u64::try_from(r.opt_int(5)?.unwrap_or(0)).unwrap_or(0),
                });
            }
        }
    }
    Ok(out)
}

/// The most desks a relay's status may name (more than any venue has).
pub const MAX_STATUS_DESKS: usize = 1_000;

/// Keeps what a relay said of itself, for head office; the desks it names must be of its
/// conference (others are left out).
pub fn record_status(
    tx: &mut dyn Tx,
    relay: Relay,
    status: &RelayStatus,
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut desks: Vec<String> = Vec::new();
    for d in status.desks.iter().take(MAX_STATUS_DESKS) {
        let ours = crate::storage::count(
            tx,
            "SELECT COUNT(*) FROM devices WHERE device_id = $1 AND conference = $2",
            params![d.to_string(), relay.conference.to_string()],
        )?;
        if ours == 1 && !desks.contains(&d.to_string()) {
            desks.push(d.to_string());
        }
    }
    for a in &status.allocations {
        // A relay's word on its own allocation may change until the sale reaches it; another
        // relay's row is not its to change.
        tx.execute(
            "INSERT INTO venue_allocations (order_id, lease_id, relay_id, conference, seat_type, \
             quantity, until, reported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (order_id, lease_id) DO UPDATE SET quantity = excluded.quantity, \
             seat_type = excluded.seat_type, until = excluded.until, \
             reported_at = excluded.reported_at \
             WHERE venue_allocations.relay_id = excluded.relay_id",
            params![
                a.order.to_string(),
                a.lease.to_string(),
                relay.relay.to_string(),
                relay.conference.to_string(),
                a.seat_type.to_string(),
                i64::from(a.quantity),
                time_text(&a.until),
                time_text(&now)
            ],
        )?;
    }
    tx.execute(
        "UPDATE relays SET last_seen = $2, held = $3, desks = $4 WHERE relay_id = $1",
        params![
            relay.relay.to_string(),
            time_text(&now),
            i64::try_from(status.held).unwrap_or(i64::MAX),
            serde_json::to_string(&desks)?
        ],
    )?;
    Ok(())
}

/// Its last contact is now (a pull).
pub fn seen(tx: &mut dyn Tx, relay: Relay, now: Timestamp) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE relays SET last_seen = $2 WHERE relay_id = $1",
        params![relay.relay.to_string(), time_text(&now)],
    )?;
    Ok(())
}

/// A relay as head office sees it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RelayRow {
    pub relay_id: String,
    pub name: String,
    pub created_at: String,
    pub enrolled_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_seen: Option<String>,
    /// Desk events it held, not yet forwarded, when it last said.
    pub held: i64,
    /// The desks that synced through it lately, by id.
    pub desks: Vec<String>,
}

pub fn list(tx: &mut dyn Tx, conference: ConferenceId) -> Result<Vec<RelayRow>, StoreError> {
    tx.query(
        "SELECT relay_id, name, created_at, enrolled_at, revoked_at, last_seen, held, desks \
         FROM relays WHERE conference = $1 ORDER BY created_at",
        params![conference.to_string()],
    )?
    .iter()
    .map(|r| {
        Ok(RelayRow {
            relay_id: r.text(0)?,
            name: r.text(1)?,
            created_at: r.text(2)?,
            enrolled_at: r.opt_text(3)?,
            revoked_at: r.opt_text(4)?,
            last_seen: r.opt_text(5)?,
            held: r.int(6)?,
            desks: r.json(7)?,
        })
    })
    .collect()
}

/// Revokes a relay of the conference: its token stops working at once.
pub fn revoke(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    relay: DeviceId,
    now: Timestamp,
) -> Result<(), AuthError> {
    let n = tx.execute(
        "UPDATE relays SET revoked_at = COALESCE(revoked_at, $3), code_hash = NULL \
         WHERE relay_id = $1 AND conference = $2",
        params![relay.to_string(), conference.to_string(), time_text(&now)],
    )?;
    if n == 0 {
        return Err(AuthError::NoDevice);
    }
    Ok(())
}

/// What relays of `conference` reported handing out for the sale `order`.
pub fn reported(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    order: onsite_shared::ids::OrderId,
) -> Result<Vec<onsite_shared::reconciliation::walk_in::Vouched>, StoreError> {
    tx.query(
        "SELECT relay_id, order_id, lease_id, seat_type, quantity, until FROM venue_allocations \
         WHERE order_id = $1 AND conference = $2",
        params![order.to_string(), conference.to_string()],
    )?
    .iter()
    .map(|r| {
        Ok(onsite_shared::reconciliation::walk_in::Vouched {
            relay: r.parse(0)?,
            allocation: onsite_shared::protocol::VenueAllocation {
                order: r.parse(1)?,
                lease: r.parse(2)?,
                seat_type: r.parse(3)?,
                quantity: u32::try_from(r.int(4)?).unwrap_or(0),
                until: r.parse(5)?,
            },
        })
    })
    .collect()
}
