//! Signing in and out of the dashboard: the session cookie, the sign-in form and its CSRF
//! check, and what makes a form post this dashboard's own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{Markup, html};
use serde::Deserialize;

use super::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, failed, forbidden, page, respond};
use crate::App;
use crate::accounts::{self, AccountError, Session};
use crate::devices::new_token;
use crate::storage::Store;

/// A cookie of the dashboard's: only for this server's pages (`HttpOnly`, `SameSite=Strict`,
/// `Path=/`), and `Secure` when the browser came over HTTPS so that it is never sent back over
/// plain HTTP.
fn cookie(name: &'static str, value: String, max_age: i64, https: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// Whether the browser reached the server over HTTPS (through a proxy that says so with
/// `X-Forwarded-Proto` or `Forwarded`; the server itself speaks plain HTTP).
fn over_https(headers: &HeaderMap) -> bool {
    let said = |name: header::HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    };
    said(header::HeaderName::from_static("x-forwarded-proto"))
        .iter()
        .any(|v| v.split(',').next().is_some_and(|p| p.trim() == "https"))
        || said(header::FORWARDED)
            .iter()
            .any(|v| v.split([';', ',']).any(|p| p.trim() == "proto=https"))
}

/// A request from another site: its `Origin` (when the browser sends one) is not this host.
pub(super) fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let bare = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    bare != host
}

/// The signed-in person (and the session id from the cookie); without a live session the
/// request is answered with the way to the sign-in page.
pub(super) struct SignedIn {
    token: String,
    pub(super) session: Session,
}

impl<S: Store> FromRequestParts<Arc<App<S>>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App<S>>) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(Redirect::to("/login").into_response());
        };
        let now = chrono::Utc::now();
        let t = token.clone();
        match app
            .store
            .read(move |tx| accounts::session(tx, &t, now))
            .await
        {
            Ok(session) => Ok(SignedIn { token, session }),
            Err(AccountError::NoSession) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(failed(e)),
        }
    }
}

fn login_form(csrf: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.err #login-error { (m) }
        }
        form.card method="post" action="/login" {
            input type="hidden" name="csrf" value=(csrf);
            label {
                "Email "
                input #email name="email" type="email" autocomplete="username" required;
            }
            label {
                "Password "
                input #password name="password" type="password" autocomplete="current-password" required;
            }
            button #sign-in { "Sign in" }
        }
    }
}

/// How long a sign-in form's pre-session lasts.
const PRESESSION_SECONDS: i64 = 600;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn presession_mac(key: &[u8], body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"login:");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A sign-in form's pre-session, `<expires>.<nonce>.<signature>`: signed with the server's
/// key, so that it cannot be made up (a double-submit of any two equal values could), and
/// good for [`PRESESSION_SECONDS`].
fn presession(key: &[u8], now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    let nonce = new_token("").map_err(|e| e.to_string())?;
    let body = format!("{}.{nonce}", now.timestamp() + PRESESSION_SECONDS);
    let mac = presession_mac(key, &body);
    Ok(format!("{body}.{mac}"))
}

/// Whether `token` is a pre-session this server signed that has not expired.
fn presession_holds(key: &[u8], token: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    use hmac::{KeyInit, Mac};
    let Some((body, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Some(expires) = body
        .split_once('.')
        .and_then(|(e, _)| e.parse::<i64>().ok())
    else {
        return false;
    };
    let Some(signature) = (0..signature.len())
        .step_by(2)
        .map(|i| {
            signature
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"login:");
    mac.update(body.as_bytes());
    mac.verify_slice(&signature).is_ok() && expires >= now.timestamp()
}

/// A sign-in page with a fresh pre-session in its cookie and its form.
fn login_response(key: &[u8], https: bool, status: StatusCode, message: Option<&str>) -> Response {
    let csrf = match presession(key, chrono::Utc::now()) {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let form = login_form(&csrf, message);
    let jar = CookieJar::new().add(cookie(LOGIN_CSRF_COOKIE, csrf, PRESESSION_SECONDS, https));
    (jar, respond(status, page("Sign in", None, false, &form))).into_response()
}

/// Turned away for now: the sign-in page again, with when to try next.
fn try_later(
    key: &[u8],
    https: bool,
    status: StatusCode,
    message: &str,
    after: std::time::Duration,
) -> Response {
    let secs = after.as_secs().max(1);
    let mut res = login_response(
        key,
        https,
        status,
        Some(&format!("{message} Try again in {secs} s.")),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub(super) async fn login_page<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
) -> Response {
    login_response(
        &app.guards.login_key,
        over_https(&headers),
        StatusCode::OK,
        None,
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

pub(super) async fn login<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let key = &app.guards.login_key;
    let https = over_https(&headers);
    let now = chrono::Utc::now();
    let jar = CookieJar::from_headers(&headers);
    if cross_site(&headers)
        || jar.get(LOGIN_CSRF_COOKIE).map(Cookie::value) != Some(form.csrf.as_str())
        || !presession_holds(key, &form.csrf, now)
    {
        return forbidden();
    }
    let guard = &app.guards.sign_in;
    let refused = |reason: &'static str| {
        ::metrics::counter!("onsite_sign_in_refused_total", "reason" => reason).increment(1);
    };
    if let Err(wait) = guard.address(peer.ip()) {
        refused("address_rate_limited");
        return try_later(
            key,
            https,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts from this address.",
            wait.retry_after,
        );
    }
    let account =
        accounts::clean_email(&form.email).unwrap_or_else(|_| form.email.trim().to_lowercase());
    if let Err(wait) = guard.account(&account) {
        refused("account_locked");
        return try_later(
            key,
            https,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins for this email.",
            wait.retry_after,
        );
    }
    let email = account.clone();
    let stored = match app
        .store
        .read(move |tx| accounts::password_hash_of(tx, &email))
        .await
    {
        Ok(h) => h,
        Err(e) => return failed(e),
    };
    match app
        .guards
        .hasher
        .matches(&form.password, stored.as_deref())
        .await
    {
        Err(busy) => {
            refused("hasher_busy");
            return try_later(
                key,
                https,
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("{}.", capitalised(&busy.to_string())),
                std::time::Duration::from_secs(1),
            );
        }
        Ok(false) => {
            refused("wrong_password");
            guard.failed(&account);
            return login_response(
                key,
                https,
                StatusCode::UNAUTHORIZED,
                Some("Wrong email or password."),
            );
        }
        Ok(true) => guard.succeeded(&account),
    }
    match app
        .store
        .write(move |tx| accounts::open_session(tx, &account, now))
        .await
    {
        Ok(s) => {
            let session = cookie(
                SESSION_COOKIE,
                s.token,
                accounts::SESSION_HOURS * 3600,
                https,
            );
            // The pre-session has done its job.
            let jar = jar
                .add(session)
                .remove(cookie(LOGIN_CSRF_COOKIE, String::new(), 0, https));
            (jar, Redirect::to("/")).into_response()
        }
        Err(e) => failed(e),
    }
}

pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { token, session }: SignedIn,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if cross_site(&headers) || form.csrf != session.csrf {
        return forbidden();
    }
    if let Err(e) = app
        .store
        .write(move |tx| accounts::close_session(tx, &token))
        .await
    {
        return failed(e);
    }
    let gone = cookie(SESSION_COOKIE, String::new(), 0, over_https(&headers));
    (CookieJar::new().remove(gone), Redirect::to("/login")).into_response()
}

/// A form post is this dashboard's own: same origin and the session's CSRF token.
fn invite_form(token: &str, email: &str, role: accounts::Role, message: Option<&str>) -> Markup {
    html! {
        p { "Set a password for " strong #invited-email { (email) } " (" (role.as_str()) ")." }
        @if let Some(m) = message {
            p.err #invite-error { (m) }
        }
        form.card method="post" action={ "/invite/" (token) } {
            label {
                "Password (at least " (accounts::MIN_PASSWORD) " characters) "
                input #new-password name="password" type="password" autocomplete="new-password" required;
            }
            label {
                "The same again "
                input #new-password-again name="again" type="password" autocomplete="new-password" required;
            }
            button #set-password { "Set the password and sign in" }
        }
    }
}

fn bad_invite() -> Response {
    let body = html! {
        p.err #invite-error {
            "This invitation link is unknown, was used already, or has expired. \
             Ask an owner for a new one."
        }
    };
    respond(
        StatusCode::NOT_FOUND,
        page("Invitation", None, false, &body),
    )
}

/// The page an invitation link opens: who it is for, and the form that sets the password.
pub(super) async fn invite_page<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(token): Path<String>,
) -> Response {
    let now = chrono::Utc::now();
    let t = token.clone();
    match app
        .store
        .read(move |tx| accounts::open_invite(tx, &t, now))
        .await
    {
        Ok((email, role)) => respond(
            StatusCode::OK,
            page(
                "Invitation",
                None,
                false,
                &invite_form(&token, &email, role, None),
            ),
        ),
        Err(AccountError::BadInvite) => bad_invite(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub(super) struct InviteForm {
    password: String,
    again: String,
}

/// Uses an invitation: the password is set, the link stops working, and the person is signed
/// in. Limited per address like signing in; the password is hashed only for a live link.
pub(super) async fn accept_invite<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Response {
    if cross_site(&headers) {
        return forbidden();
    }
    if app.guards.sign_in.address(peer.ip()).is_err() {
        let body = html! { p.err { "Too many attempts from this address; try again later." } };
        return respond(
            StatusCode::TOO_MANY_REQUESTS,
            page("Invitation", None, false, &body),
        );
    }
    let now = chrono::Utc::now();
    let t = token.clone();
    let (email, role) = match app
        .store
        .read(move |tx| accounts::open_invite(tx, &t, now))
        .await
    {
        Ok(found) => found,
        Err(AccountError::BadInvite) => return bad_invite(),
        Err(e) => return failed(e),
    };
    let again = |message: &str| {
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "Invitation",
                None,
                false,
                &invite_form(&token, &email, role, Some(message)),
            ),
        )
    };
    if form.password != form.again {
        return again("The two passwords differ.");
    }
    let password = form.password.clone();
    let hashed = match tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await
    {
        Ok(Ok(h)) => h,
        Ok(Err(AccountError::WeakPassword)) => {
            return again(&format!(
                "A password needs at least {} characters.",
                accounts::MIN_PASSWORD
            ));
        }
        Ok(Err(e)) => return failed(e),
        Err(e) => return failed(e),
    };
    let t = token.clone();
    let opened = app
        .store
        .write(move |tx| {
            let email = accounts::accept_invite(tx, &t, &hashed, now)?;
            accounts::open_session(tx, &email, now)
        })
        .await;
    match opened {
        Ok(s) => {
            let session = cookie(
                SESSION_COOKIE,
                s.token,
                accounts::SESSION_HOURS * 3600,
                over_https(&headers),
            );
            (CookieJar::new().add(session), Redirect::to("/")).into_response()
        }
        Err(AccountError::BadInvite) => bad_invite(),
        Err(AccountError::AlreadyAUser(who)) => again(&format!("{who} already has an account.")),
        Err(e) => failed(e),
    }
}

pub(super) fn form_is_ours(headers: &HeaderMap, session: &Session, csrf: &str) -> bool {
    !cross_site(headers) && csrf == session.csrf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presession_holds_only_as_signed_and_until_it_expires() {
        let key = b"a key of the server's";
        let now = chrono::Utc::now();
        let token = presession(key, now).unwrap();
        assert!(presession_holds(key, &token, now));
        assert!(!presession_holds(b"another key", &token, now));
        let later = now + chrono::Duration::seconds(PRESESSION_SECONDS + 1);
        assert!(!presession_holds(key, &token, later));
        let (body, _) = token.rsplit_once('.').unwrap();
        let (_, nonce) = body.split_once('.').unwrap();
        let extended = format!("{}.{nonce}", now.timestamp() + 86_400);
        assert!(!presession_holds(
            key,
            &format!("{extended}.{}", &token[token.len() - 64..]),
            now
        ));
        for made_up in ["", "x", "1.2", "99999999999.abc.def", "a.b.c"] {
            assert!(!presession_holds(key, made_up, now), "{made_up}");
        }
    }

    #[test]
    fn a_foreign_origin_is_cross_site_and_a_missing_one_is_not() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:7300"));
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:7300"),
        );
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(cross_site(&h));
    }
}
