//! Desks and head-office credentials.
//!
//! A desk is enrolled for one conference: head office (or `onsite-server device enroll`) makes a
//! one-time code, the desk trades it for a token. Codes expire after 24 hours and work once.
//! Tokens are 256 random bits; codes 60. Both are stored only as SHA-256 hashes (they are
//! random, not chosen by people, so a slow password hash adds nothing but latency to every
//! sync). A revoked desk's token answers 401 with `auth.revoked`, so the desk can say so.

use std::fmt::Write as _;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::{ConferenceId, DeviceId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::params;
use crate::storage::{StoreError, Tx, time_text};
use crate::sync::Desk;

const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no valid credentials")]
    Unknown,
    #[error("this desk was revoked")]
    Revoked,
    #[error("this enrolment code is unknown, used or expired")]
    BadCode,
    #[error("no such conference")]
    NoConference,
    #[error("no such desk")]
    NoDevice,
    #[error("a desk needs a name")]
    NameRequired,
    #[error(transparent)]
    Text(#[from] onsite_shared::text::TextError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    Ok(buf)
}

pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `XXXX-XXXX-XXXX`, Crockford base 32: easy to read aloud and type.
pub(crate) fn new_code() -> Result<String, StoreError> {
    let bits = u64::from_le_bytes(random_bytes::<8>()?);
    let mut code = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(CODE_ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
    }
    Ok(code)
}

/// What a person typed, the way the code was made: upper case, no separators, and the
/// look-alikes O→0, I/L→1.
pub fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

pub fn new_token(prefix: &str) -> Result<String, StoreError> {
    let mut token = String::from(prefix);
    for b in random_bytes::<32>()? {
        let _ = write!(token, "{b:02x}");
    }
    Ok(token)
}

pub(crate) fn conference_exists(
    tx: &mut dyn Tx,
    conference: ConferenceId,
) -> Result<bool, StoreError> {
    Ok(!tx
        .query(
            "SELECT 1 FROM events WHERE stream_type = 'conference' AND stream_id = $1 LIMIT 1",
            params![conference.to_string()],
        )?
        .is_empty())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub device_id: DeviceId,
    pub code: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Registers a desk for a conference and makes its one-time enrolment code.
pub fn enroll(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    name: &str,
    now: Timestamp,
) -> Result<Enrolment, AuthError> {
    onsite_shared::text::check(
        "the desk's name",
        name,
        onsite_shared::text::limit::NAME,
        false,
    )?;
    if name.trim().is_empty() {
        return Err(AuthError::NameRequired);
    }
    if !conference_exists(tx, conference)? {
        return Err(AuthError::NoConference);
    }
    let device_id = DeviceId::from_uuid(uuid::Uuid::now_v7());
    let code = new_code()?;
    let expires_at = now + chrono::Duration::hours(24);
    tx.execute(
        "INSERT INTO devices (device_id, conference, name, code_hash, code_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            device_id.to_string(),
            conference.to_string(),
            name.trim(),
            hash(&normalise_code(&code)),
            time_text(&expires_at),
            time_text(&now),
        ],
    )?;
    Ok(Enrolment {
        device_id,
        code,
        expires_at,
    })
}

/// A new one-time code for a desk that is enrolled already (its database was copied, or
/// restored from a backup): redeemed, it gives the same desk a new token, and the old token
/// stops working. A revoked desk gets none.
pub fn reenroll(tx: &mut dyn Tx, device: DeviceId, now: Timestamp) -> Result<Enrolment, AuthError> {
    let code = new_code()?;
    let expires_at = now + chrono::Duration::hours(24);
    let changed = tx.execute(
        "UPDATE devices SET code_hash = $2, code_expires_at = $3 \
         WHERE device_id = $1 AND revoked_at IS NULL",
        params![
            device.to_string(),
            hash(&normalise_code(&code)),
            time_text(&expires_at)
        ],
    )?;
    if changed == 0 {
        return Err(AuthError::NoDevice);
    }
    Ok(Enrolment {
        device_id: device,
        code,
        expires_at,
    })
}

pub use onsite_shared::protocol::DeskCredentials;

/// Trades a one-time code for a desk token. The code cannot be used again.
pub fn redeem(tx: &mut dyn Tx, code: &str, now: Timestamp) -> Result<DeskCredentials, AuthError> {
    let rows = tx.query(
        "SELECT device_id, conference, name, code_expires_at, revoked_at FROM devices WHERE code_hash = $1",
        params![hash(&normalise_code(code))],
    )?;
    let row = rows.first().ok_or(AuthError::BadCode)?;
    if row.opt_text(4)?.is_some() {
        return Err(AuthError::Revoked);
    }
    let expires = row.text(3)?;
    if expires < time_text(&now) {
        return Err(AuthError::BadCode);
    }
    let token = new_token("osd_")?;
    let device_id: DeviceId = row.parse(0)?;
    tx.execute(
        "UPDATE devices SET code_hash = NULL, code_expires_at = NULL, token_hash = $2, enrolled_at = $3 \
         WHERE device_id = $1",
        params![device_id.to_string(), hash(&token), time_text(&now)],
    )?;
    Ok(DeskCredentials {
        device_id,
        conference_id: row.parse(1)?,
        name: row.text(2)?,
        token,
    })
}

/// Who a desk token belongs to.
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<Desk, AuthError> {
    let rows = tx.query(
        "SELECT device_id, conference, revoked_at FROM devices WHERE token_hash = $1",
        params![hash(token)],
    )?;
    let row = rows.first().ok_or(AuthError::Unknown)?;
    if row.opt_text(2)?.is_some() {
        return Err(AuthError::Revoked);
    }
    Ok(Desk {
        device: row.parse(0)?,
        conference: row.parse(1)?,
    })
}

pub fn revoke(tx: &mut dyn Tx, device: DeviceId, now: Timestamp) -> Result<(), AuthError> {
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2), code_hash = NULL WHERE device_id = $1",
        params![device.to_string(), time_text(&now)],
    )?;
    if n == 0 {
        return Err(AuthError::NoDevice);
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DeviceRow {
    pub device_id: String,
    pub conference_id: String,
    pub name: String,
    pub created_at: String,
    pub enrolled_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_seen: Option<String>,
    pub app_version: Option<String>,
    pub pending: Option<i64>,
    pub clock_skew_ms: Option<i64>,
}

pub fn list(
    tx: &mut dyn Tx,
    conference: Option<ConferenceId>,
) -> Result<Vec<DeviceRow>, StoreError> {
    let rows = tx.query(
        "SELECT device_id, conference, name, created_at, enrolled_at, revoked_at, last_seen, app_version, pending, \
         clock_skew_ms FROM devices WHERE ($1 = '' OR conference = $1) ORDER BY created_at",
        params![conference.map(|c| c.to_string()).unwrap_or_default()],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DeviceRow {
                device_id: r.text(0)?,
                conference_id: r.text(1)?,
                name: r.text(2)?,
                created_at: r.text(3)?,
                enrolled_at: r.opt_text(4)?,
                revoked_at: r.opt_text(5)?,
                last_seen: r.opt_text(6)?,
                app_version: r.opt_text(7)?,
                pending: r.opt_int(8)?,
                clock_skew_ms: r.opt_int(9)?,
            })
        })
        .collect()
}

/// Records the clock skew a desk showed at its last sync (its clock minus the server's).
pub fn record_skew(tx: &mut dyn Tx, device: DeviceId, skew_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE devices SET clock_skew_ms = $2 WHERE device_id = $1",
        params![device.to_string(), skew_ms],
    )?;
    Ok(())
}

/// Makes a head-office API token.
pub fn create_admin_token(
    tx: &mut dyn Tx,
    name: &str,
    now: Timestamp,
) -> Result<String, AuthError> {
    onsite_shared::text::check(
        "the token's name",
        name,
        onsite_shared::text::limit::NAME,
        false,
    )?;
    if name.trim().is_empty() {
        return Err(AuthError::NameRequired);
    }
    let token = new_token("osa_")?;
    tx.execute(
        "INSERT INTO admin_tokens (token_hash, name, created_at) VALUES ($1, $2, $3)",
        params![hash(&token), name.trim(), time_text(&now)],
    )?;
    Ok(token)
}

/// A head-office token as `admin-token list` shows it: never the token, but the first
/// characters of its hash, which `admin-token revoke` takes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdminTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// How much of a token's hash names it.
const TOKEN_ID_LEN: usize = 12;

pub fn admin_tokens(tx: &mut dyn Tx) -> Result<Vec<AdminTokenRow>, StoreError> {
    tx.query(
        "SELECT token_hash, name, created_at, revoked_at FROM admin_tokens ORDER BY created_at",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(AdminTokenRow {
            id: r.text(0)?.chars().take(TOKEN_ID_LEN).collect(),
            name: r.text(1)?,
            created_at: r.text(2)?,
            revoked_at: r.opt_text(3)?,
        })
    })
    .collect()
}

/// Revokes the head-office token whose id (as `admin_tokens` shows it) is `id`: it stops
/// working at once. An id that names no token, or more than one, revokes nothing.
pub fn revoke_admin_token(tx: &mut dyn Tx, id: &str, now: Timestamp) -> Result<(), AuthError> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < TOKEN_ID_LEN || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AuthError::Unknown);
    }
    let rows = tx.query(
        "SELECT token_hash FROM admin_tokens WHERE token_hash LIKE $1",
        params![format!("{id}%")],
    )?;
    let [row] = rows.as_slice() else {
        return Err(AuthError::Unknown);
    };
    tx.execute(
        "UPDATE admin_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        params![row.text(0)?, time_text(&now)],
    )?;
    Ok(())
}

/// Whose head-office token this is.
pub fn admin(tx: &mut dyn Tx, token: &str) -> Result<String, AuthError> {
    let rows = tx.query(
        "SELECT name, revoked_at FROM admin_tokens WHERE token_hash = $1",
        params![hash(token)],
    )?;
    let row = rows.first().ok_or(AuthError::Unknown)?;
    if row.opt_text(1)?.is_some() {
        return Err(AuthError::Revoked);
    }
    row.text(0).map_err(AuthError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_forgive_case_separators_and_look_alikes() {
        assert_eq!(normalise_code("ab0l-iO9z "), "AB0110".to_owned() + "9Z");
    }

    #[test]
    fn codes_are_grouped_and_random() {
        let a = new_code().unwrap();
        let b = new_code().unwrap();
        assert_eq!(a.len(), 14);
        assert_ne!(a, b);
        assert_eq!(normalise_code(&a).len(), 12);
    }
}
