//! Head-office people and their browser sessions, for the dashboard.
//!
//! A person signs in with an email and a password; the password is stored as an argon2id PHC
//! string (salted, slow on purpose: people choose passwords). Checks run on a small pool of
//! threads with their memory allocated once ([`hasher`]), and how often they may be tried is
//! limited per address and per account ([`guard`]). A session id is 256 random bits, stored
//! only as its SHA-256 hash, and lives 12 hours; each session carries its own CSRF token that
//! every form must send back.
//!
//! Each person has a [`Role`]; people are invited by an owner ([`invite`]): a one-time link,
//! shown to the owner to pass on (no mail server), with which the invited person sets a
//! password ([`accept_invite`]).

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

/// What a head-office person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything: set conferences up, import, invite and remove people.
    Owner,
    /// Read, decide conflicts, enrol and revoke desks.
    Staff,
    /// Read only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Staff, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    /// Decide conflicts, enrol and revoke desks.
    pub fn operates(self) -> bool {
        matches!(self, Role::Owner | Role::Staff)
    }

    /// Set conferences up, import, invite and remove people.
    pub fn manages(self) -> bool {
        self == Role::Owner
    }
}

/// How long an invitation link works.
pub const INVITE_DAYS: i64 = 7;

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
    #[error("this invitation link is unknown, used or expired")]
    BadInvite,
    #[error("{0} already has an account")]
    AlreadyAUser(String),
    #[error("the last owner cannot be removed")]
    LastOwner,
    #[error("no such person")]
    NoSuchUser,
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
    pub role: Role,
}

pub fn session(tx: &mut dyn Tx, token: &str, now: Timestamp) -> Result<Session, AccountError> {
    let rows = tx.query(
        "SELECT s.email, s.csrf, s.expires_at, r.role FROM sessions s \
         LEFT JOIN user_roles r ON r.email = s.email WHERE s.session_hash = $1",
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
        role: role_from(row.opt_text(3)?)?,
    })
}

fn role_from(text: Option<String>) -> Result<Role, StoreError> {
    match text {
        None => Ok(Role::Owner),
        Some(t) => Role::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("role {t:?}"))),
    }
}

/// Gives a person a role.
pub fn set_role(tx: &mut dyn Tx, email: &str, role: Role) -> Result<(), AccountError> {
    let email = clean_email(email)?;
    tx.execute(
        "INSERT INTO user_roles (email, role) VALUES ($1, $2) \
         ON CONFLICT (email) DO UPDATE SET role = excluded.role",
        params![email, role.as_str()],
    )?;
    Ok(())
}

/// A head-office person, as the people page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub role: Role,
    pub created_at: String,
}

/// An invitation not used yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvite {
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: String,
}

pub fn people(tx: &mut dyn Tx) -> Result<Vec<Person>, StoreError> {
    tx.query(
        "SELECT u.email, r.role, u.created_at FROM users u \
         LEFT JOIN user_roles r ON r.email = u.email ORDER BY u.email",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(Person {
            email: r.text(0)?,
            role: role_from(r.opt_text(1)?)?,
            created_at: r.text(2)?,
        })
    })
    .collect()
}

pub fn pending_invites(tx: &mut dyn Tx, now: Timestamp) -> Result<Vec<PendingInvite>, StoreError> {
    tx.query(
        "SELECT email, role, invited_by, expires_at FROM invites \
         WHERE used_at IS NULL AND expires_at > $1 ORDER BY created_at",
        params![time_text(&now)],
    )?
    .iter()
    .map(|r| {
        Ok(PendingInvite {
            email: r.text(0)?,
            role: role_from(Some(r.text(1)?))?,
            invited_by: r.text(2)?,
            expires_at: r.text(3)?,
        })
    })
    .collect()
}

fn has_account(tx: &mut dyn Tx, email: &str) -> Result<bool, StoreError> {
    Ok(!tx
        .query("SELECT 1 FROM users WHERE email = $1", params![email])?
        .is_empty())
}

/// Invites `email` with `role`: returns the one-time token of the link that sets the
/// password (kept only as its hash). Inviting the same address again replaces the last
/// invitation, which stops working.
pub fn invite(
    tx: &mut dyn Tx,
    email: &str,
    role: Role,
    invited_by: &str,
    now: Timestamp,
) -> Result<String, AccountError> {
    let email = clean_email(email)?;
    if has_account(tx, &email)? {
        return Err(AccountError::AlreadyAUser(email));
    }
    tx.execute(
        "DELETE FROM invites WHERE email = $1 AND used_at IS NULL",
        params![email.clone()],
    )?;
    let token = new_token("osi_")?;
    let expires = now + chrono::Duration::days(INVITE_DAYS);
    tx.execute(
        "INSERT INTO invites (token_hash, email, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            hash(&token),
            email,
            role.as_str(),
            invited_by,
            time_text(&now),
            time_text(&expires)
        ],
    )?;
    Ok(token)
}

/// The invitation a link's token opens: the address and role, if it is live.
pub fn open_invite(
    tx: &mut dyn Tx,
    token: &str,
    now: Timestamp,
) -> Result<(String, Role), AccountError> {
    let rows = tx.query(
        "SELECT email, role FROM invites WHERE token_hash = $1 AND used_at IS NULL \
         AND expires_at > $2",
        params![hash(token), time_text(&now)],
    )?;
    let row = rows.first().ok_or(AccountError::BadInvite)?;
    Ok((row.text(0)?, role_from(Some(row.text(1)?))?))
}

/// Uses an invitation: the person gets their account with the invited role and the password
/// hashed by the caller, and the link stops working. Returns the address.
pub fn accept_invite(
    tx: &mut dyn Tx,
    token: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<String, AccountError> {
    let (email, role) = open_invite(tx, token, now)?;
    let used = tx.execute(
        "UPDATE invites SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        params![hash(token), time_text(&now)],
    )?;
    if used != 1 {
        return Err(AccountError::BadInvite);
    }
    if has_account(tx, &email)? {
        return Err(AccountError::AlreadyAUser(email));
    }
    set_user(tx, &email, password_hash, now)?;
    set_role(tx, &email, role)?;
    Ok(email)
}

/// Removes a person: their account, role and sessions. The last owner stays.
pub fn remove(tx: &mut dyn Tx, email: &str) -> Result<(), AccountError> {
    let email = clean_email(email)?;
    let people = people(tx)?;
    let person = people
        .iter()
        .find(|p| p.email == email)
        .ok_or(AccountError::NoSuchUser)?;
    let owners = people.iter().filter(|p| p.role == Role::Owner).count();
    if person.role == Role::Owner && owners <= 1 {
        return Err(AccountError::LastOwner);
    }
    for sql in [
        "DELETE FROM sessions WHERE email = $1",
        "DELETE FROM user_roles WHERE email = $1",
        "DELETE FROM users WHERE email = $1",
    ] {
        tx.execute(sql, params![email.clone()])?;
    }
    Ok(())
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
