//! Signing in and out of the dashboard: the session cookie, the sign-in form and its CSRF
//! check, and what makes a form post this dashboard's own.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use onsite_shared::text::escape_markup as esc;
use serde::Deserialize;

use super::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, failed, forbidden, html, page};
use crate::App;
use crate::accounts::{self, AccountError, Session};
use crate::devices::new_token;
use crate::storage::Store;

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(super) fn set_cookie(res: &mut Response, name: &str, value: &str, max_age: i64) {
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
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
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
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

fn login_form(csrf: &str, message: Option<&str>) -> String {
    let mut body = String::new();
    if let Some(m) = message {
        let _ = write!(body, "<p class=\"err\" id=\"login-error\">{}</p>", esc(m));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/login\" class=\"card\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>Email <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required></label>\
         <label>Password <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button id=\"sign-in\">Sign in</button></form>",
        esc(csrf)
    );
    body
}

/// A sign-in page with a fresh CSRF token in its cookie.
fn login_response(status: StatusCode, message: Option<&str>) -> Response {
    let csrf = match new_token("") {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let mut res = html(
        status,
        page("Sign in", None, false, &login_form(&csrf, message)),
    );
    set_cookie(&mut res, LOGIN_CSRF_COOKIE, &csrf, 3600);
    res
}

pub(super) async fn login_page() -> Response {
    login_response(StatusCode::OK, None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

pub(super) async fn login<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    if cross_site(&headers) || expected.is_none() || expected.as_deref() != Some(form.csrf.as_str())
    {
        return forbidden();
    }
    let email = form.email.clone();
    let stored = match app
        .store
        .read(move |tx| accounts::password_hash_of(tx, &email))
        .await
    {
        Ok(h) => h,
        Err(e) => return failed(e),
    };
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || {
        accounts::password_matches(&password, stored.as_deref())
    })
    .await
    .unwrap_or(false);
    if !ok {
        return login_response(StatusCode::UNAUTHORIZED, Some("Wrong email or password."));
    }
    let now = chrono::Utc::now();
    let email = form.email;
    match app
        .store
        .write(move |tx| accounts::open_session(tx, &email, now))
        .await
    {
        Ok(s) => {
            let mut res = Redirect::to("/").into_response();
            set_cookie(
                &mut res,
                SESSION_COOKIE,
                &s.token,
                accounts::SESSION_HOURS * 3600,
            );
            set_cookie(&mut res, LOGIN_CSRF_COOKIE, "", 0);
            res
        }
        Err(e) => failed(e),
    }
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
    let mut res = Redirect::to("/login").into_response();
    set_cookie(&mut res, SESSION_COOKIE, "", 0);
    res
}

/// A form post is this dashboard's own: same origin and the session's CSRF token.
pub(super) fn form_is_ours(headers: &HeaderMap, session: &Session, csrf: &str) -> bool {
    !cross_site(headers) && csrf == session.csrf
}

#[cfg(test)]
mod tests {
    use super::*;

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
