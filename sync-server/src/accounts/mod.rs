//! Head-office people and their browser sessions, for the dashboard.
//!
//! A person signs in with an email and a password; the password is stored as an argon2id PHC
//! string (salted, slow on purpose: people choose passwords). Checks run on a small pool of
//! threads with their memory allocated once ([`hasher`]), and how often they may be tried is
//! limited per address and per account ([`guard`]). A session id is 256 random bits, stored
//! only as its SHA-256 hash, and lives 12 hours; each session carries its own CSRF token that
//! every form must send back.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use onsite_shared::aggregate::Timestamp;

pub mod guard;
pub mod hasher;

use crate::devices::{hash, new_token};
use crate::params;
use crate::storage::{StoreError, Tx, time_text};

/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("wrong email or password")]
    BadCredentials,
    #[error("an email address is needed")]
    BadEmail,
    #[error("a password needs at least {MIN_PASSWORD} characters")]
    WeakPassword,
    #[error("not signed in, or the session ended")]
    NoSession,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn clean_email(email: &str) -> Result<String, AccountError> {
    let e = email.trim().to_lowercase();
    if e.len() < 3 || !e.contains('@') || e.contains(char::is_whitespace) {
        return Err(AccountError::BadEmail);
    }
    Ok(e)
}

/// The PHC string for a new password (CPU-heavy: not on the store's writer).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// The server's secret key for `purpose` (32 random bytes, made once and kept in `meta`, so
/// that every process on one database signs alike).
pub fn signing_key(tx: &mut dyn Tx, purpose: &str) -> Result<Vec<u8>, StoreError> {
    let name = format!("key.{purpose}");
    let fresh = hex(&crate::devices::random_bytes::<32>()?);
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        params![name.clone(), fresh],
    )?;
    let rows = tx.query("SELECT value FROM meta WHERE key = $1", params![name])?;
    let text = rows
        .first()
        .map(|r| r.text(0))
        .transpose()?
        .ok_or_else(|| StoreError::Corrupt("the signing key vanished".into()))?;
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| StoreError::Corrupt("the signing key is not hex".into()))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds a person, or sets a new password for one.
pub fn set_user(
    tx: &mut dyn Tx,
    email: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<String, AccountError> {
    let email = clean_email(email)?;
    tx.execute(
        "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
        params![email.clone(), password_hash, time_text(&now)],
    )?;
    // A new password ends every open session of that person.
    tx.execute(
        "DELETE FROM sessions WHERE email = $1",
        params![email.clone()],
    )?;
    Ok(email)
}

/// The stored PHC string of a person, if there is one.
pub fn password_hash_of(tx: &mut dyn Tx, email: &str) -> Result<Option<String>, AccountError> {
    let Ok(email) = clean_email(email) else {
        return Ok(None);
    };
    let rows = tx.query(
        "SELECT password_hash FROM users WHERE email = $1",
        params![email],
    )?;
    Ok(rows.first().map(|r| r.text(0)).transpose()?)
}

/// A fresh sign-in: the cookie's value and the session's CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

pub fn open_session(
    tx: &mut dyn Tx,
    email: &str,
    now: Timestamp,
) -> Result<NewSession, AccountError> {
    let email = clean_email(email)?;
    let token = new_token("oss_")?;
    let csrf = new_token("")?;
    let expires = now + chrono::Duration::hours(SESSION_HOURS);
    tx.execute(
        "INSERT INTO sessions (session_hash, email, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        params![
            hash(&token),
            email,
            csrf.clone(),
            time_text(&now),
            time_text(&expires)
        ],
    )?;
    Ok(NewSession { token, csrf })
}

/// Who is signed in with this session id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub email: String,
    pub csrf: String,
}

pub fn session(tx: &mut dyn Tx, token: &str, now: Timestamp) -> Result<Session, AccountError> {
    let rows = tx.query(
        "SELECT email, csrf, expires_at FROM sessions WHERE session_hash = $1",
        params![hash(token)],
    )?;
    let row = rows.first().ok_or(AccountError::NoSession)?;
    let expires = chrono::DateTime::parse_from_rfc3339(&row.text(2)?)
        .map_err(|e| StoreError::Corrupt(format!("session expiry: {e}")))?;
    if expires < now {
        return Err(AccountError::NoSession);
    }
    Ok(Session {
        email: row.text(0)?,
        csrf: row.text(1)?,
    })
}

pub fn close_session(tx: &mut dyn Tx, token: &str) -> Result<(), AccountError> {
    tx.execute(
        "DELETE FROM sessions WHERE session_hash = $1",
        params![hash(token)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_is_an_argon2id_phc_string() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
    }

    #[test]
    fn short_passwords_and_odd_emails_are_refused() {
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::WeakPassword)
        ));
        assert!(matches!(clean_email("nobody"), Err(AccountError::BadEmail)));
        assert_eq!(
            clean_email(" Office@Example.COM ").unwrap(),
            "office@example.com"
        );
    }
}
