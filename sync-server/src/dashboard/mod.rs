//! The head-office dashboard: HTML pages served by the server, behind a sign-in.
//!
//! Server-rendered HTML: the pages are tables, numbers, one SVG chart and forms that post back,
//! all of which the server already has. The only script is `refresh.js` (same origin, a dozen
//! lines): it reloads a page every 15 s while nobody is typing into one of its forms; without
//! it the pages still work, they just stop refreshing. Every form carries a CSRF token (the session's own; for the sign-in form, a random token in a
//! `SameSite=Strict` cookie that must match the form), and a cross-site `Origin` is refused.
//! Session cookies are `HttpOnly; SameSite=Strict`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;
use onsite_shared::text::escape_markup as esc;
use serde::Deserialize;

use crate::accounts::{self, AccountError, Session};
use crate::devices::new_token;
use crate::export::Export;
use crate::head_office;
use crate::http::App;
use crate::params;
use crate::storage::{Store, StoreError};

const SESSION_COOKIE: &str = "onsite_session";
const LOGIN_CSRF_COOKIE: &str = "onsite_login_csrf";
/// Seconds between a page's own refreshes.
const REFRESH_SECS: u32 = 15;

pub fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/", get(index::<S>))
        .route("/login", get(login_page).post(login::<S>))
        .route("/logout", post(logout::<S>))
        .route("/assets/refresh.js", get(refresh_script))
        .route("/conferences/{conference}", get(overview::<S>))
        .merge(registrations::routes())
        .merge(conflicts::routes())
        .merge(desks::routes())
        .route("/conferences/{conference}/exports/{file}", get(export::<S>))
}

mod conflicts;
mod desks;
mod registrations;

const REFRESH_SCRIPT: &str = "// Reloads the page every data-refresh seconds, unless someone is typing into a form.\n\
const secs = Number(document.body.dataset.refresh || 0);\n\
let typed = false;\n\
document.addEventListener('input', () => { typed = true; });\n\
if (secs > 0) {\n\
  setInterval(() => {\n\
    const active = document.activeElement;\n\
    const busy = active && active.matches('input, select, textarea');\n\
    if (!typed && !busy) location.reload();\n\
  }, secs * 1000);\n\
}\n";

async fn refresh_script() -> Response {
    let mut res = REFRESH_SCRIPT.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    res
}

const STYLE: &str = "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0;background:#f1f5f9;color:#0f172a}\
header{display:flex;justify-content:space-between;align-items:center;padding:.6em 1.2em;background:#0f172a;color:#f8fafc}\
header a{color:#f8fafc}main{padding:1em 1.2em;max-width:70em}table{border-collapse:collapse;background:#fff;margin:.5em 0}\
td,th{padding:.35em .7em;border-bottom:1px solid #e2e8f0;text-align:left}td.n{text-align:right}\
.big{font-size:2.2em;font-weight:700}.card{background:#fff;padding:.8em 1em;border-radius:8px;margin:.6em 0}\
.err{color:#b91c1c;font-weight:700}form.inline{display:inline}label{display:block;margin:.5em 0}\
input{font:inherit;padding:.3em .5em}button{font:inherit;padding:.3em .8em}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em}\
nav.tabs{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center;margin:-.4em 0 1em}nav.tabs a{padding:.3em .1em}\
nav.tabs a.on{font-weight:700;border-bottom:3px solid #2563eb}nav.tabs .exports{margin-left:auto;font-size:.9em}\
.scroll{overflow-x:auto}.muted{color:#64748b}.ok{color:#15803d}.warn{color:#b45309;font-weight:700}\
textarea,select{font:inherit}form.act{display:inline-block;margin:.3em 1em .3em 0;vertical-align:top}\
label.inline{display:inline-block;margin:.3em 1em .3em 0}.code{font-family:'DejaVu Sans Mono',monospace;font-size:2em;letter-spacing:.08em}";

fn page(title: &str, session: Option<&Session>, refresh: bool, body: &str) -> String {
    let mut out = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let refresh = if refresh { REFRESH_SECS } else { 0 };
    let _ = write!(
        out,
        "<title>{} · Onsite head office</title><style>{STYLE}</style>\
         <script src=\"/assets/refresh.js\" defer></script></head><body data-refresh=\"{refresh}\"><header>\
         <a href=\"/\"><strong>Onsite</strong> head office</a>",
        esc(title)
    );
    if let Some(s) = session {
        let _ = write!(
            out,
            "<span>{} <form class=\"inline\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button id=\"logout\">Sign out</button></form></span>",
            esc(&s.email),
            esc(&s.csrf)
        );
    }
    let _ = write!(
        out,
        "</header><main><h1>{}</h1>{body}</main></body></html>",
        esc(title)
    );
    out
}

fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(res: &mut Response, name: &str, value: &str, max_age: i64) {
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A request from another site: its `Origin` (when the browser sends one) is not this host.
fn cross_site(headers: &HeaderMap) -> bool {
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

fn forbidden() -> Response {
    html(
        StatusCode::FORBIDDEN,
        page(
            "Refused",
            None,
            false,
            "<p class=\"err\">This form did not come from this dashboard (missing or wrong CSRF token). \
             Nothing was changed. <a href=\"/\">Start again</a>.</p>",
        ),
    )
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page(
            "Something went wrong",
            None,
            false,
            "<p class=\"err\">The server could not answer; try again.</p>",
        ),
    )
}

/// The signed-in person (and the session id from the cookie); without a live session the
/// request is answered with the way to the sign-in page.
struct SignedIn {
    token: String,
    session: Session,
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

async fn login_page() -> Response {
    login_response(StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

async fn login<S: Store>(
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
struct CsrfForm {
    csrf: String,
}

async fn logout<S: Store>(
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
fn form_is_ours(headers: &HeaderMap, session: &Session, csrf: &str) -> bool {
    !cross_site(headers) && csrf == session.csrf
}

/// A request the domain refused: say why, change nothing, offer the way back.
fn refused(session: &Session, message: &str, back: &str) -> Response {
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        page(
            "Not done",
            Some(session),
            false,
            &format!(
                "<p class=\"err\" id=\"refused\">{}</p><p>Nothing was changed. <a href=\"{}\">Back</a></p>",
                esc(message),
                esc(back)
            ),
        ),
    )
}

fn no_such_conference(session: &Session) -> Response {
    html(
        StatusCode::NOT_FOUND,
        page("No such conference", Some(session), false, ""),
    )
}

/// The conference a page is about (the `{conference}` in its path), and who is signed in.
/// Without a session the request goes to the sign-in page; an unknown conference is a 404.
struct ConferencePage {
    session: Session,
    id: ConferenceId,
    conference: Conference,
    name: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Registrations,
    Conflicts,
    Desks,
}

impl<S: Store> FromRequestParts<Arc<App<S>>> for ConferencePage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App<S>>) -> Result<Self, Response> {
        let SignedIn { session, .. } = SignedIn::from_request_parts(parts, app).await?;
        let params =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, app)
                .await
                .map_err(IntoResponse::into_response)?;
        let Some(id) = params
            .get("conference")
            .and_then(|raw| raw.parse::<ConferenceId>().ok())
        else {
            return Err(no_such_conference(&session));
        };
        let conference = app
            .store
            .read(move |tx| {
                crate::storage::load::<Conference>(tx, &StreamId::conference(id)).map(|(c, _)| c)
            })
            .await
            .map_err(failed)?;
        let Some(name) = conference.details.as_ref().map(|d| d.name.clone()) else {
            return Err(no_such_conference(&session));
        };
        Ok(Self {
            session,
            id,
            conference,
            name,
        })
    }
}

impl ConferencePage {
    fn href(&self, rest: &str) -> String {
        format!("/conferences/{}{rest}", self.id)
    }

    /// A page of this conference, with its tabs.
    fn render(&self, tab: Tab, title: &str, refresh: bool, body: &str) -> Response {
        let mut nav = String::from("<nav class=\"tabs\">");
        for (t, label, rest) in [
            (Tab::Overview, "Overview", ""),
            (Tab::Registrations, "Registrations", "/registrations"),
            (Tab::Conflicts, "Conflicts", "/conflicts"),
            (Tab::Desks, "Desks", "/desks"),
        ] {
            let _ = write!(
                nav,
                "<a href=\"{}\"{}>{label}</a>",
                self.href(rest),
                if t == tab {
                    " class=\"on\" aria-current=\"page\""
                } else {
                    ""
                }
            );
        }
        nav.push_str("<span class=\"exports\">CSV:");
        for e in [Export::Attendees, Export::Admissions, Export::WalkIns] {
            let _ = write!(
                nav,
                " <a download href=\"{}\">{}</a>",
                self.href(&format!("/exports/{}", e.file_name())),
                e.file_name()
            );
        }
        nav.push_str("</span></nav>");
        let heading = if tab == Tab::Overview {
            self.name.clone()
        } else {
            format!("{title} · {}", self.name)
        };
        html(
            StatusCode::OK,
            page(
                &heading,
                Some(&self.session),
                refresh,
                &format!("{nav}{body}"),
            ),
        )
    }
}

/// A CSV export, as a download.
async fn export<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    Path((_, file)): Path<(String, String)>,
) -> Response {
    let Some(which) = Export::from_file_name(&file) else {
        return html(
            StatusCode::NOT_FOUND,
            page("No such export", Some(&conf.session), false, ""),
        );
    };
    let id = conf.id;
    match app
        .store
        .read(move |tx| crate::export::write(tx, id, which))
        .await
    {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", which.file_name()))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => failed(e),
    }
}

/// Every conference the server holds.
async fn index<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
) -> Response {
    let found = app
        .store
        .read(|tx| {
            let rows = tx.query(
                "SELECT DISTINCT stream_id FROM events WHERE stream_type = 'conference' ORDER BY stream_id",
                params![],
            )?;
            let mut out = Vec::new();
            for r in rows {
                let Ok(id) = r.text(0)?.parse::<ConferenceId>() else {
                    continue;
                };
                let (c, _) = crate::storage::load::<Conference>(tx, &StreamId::conference(id))?;
                if let Some(d) = c.details {
                    out.push((id, d.name, d.venue));
                }
            }
            Ok::<_, StoreError>(out)
        })
        .await;
    let conferences = match found {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let mut body =
        String::from("<table id=\"conferences\"><tr><th>Conference</th><th>Venue</th></tr>");
    for (id, name, venue) in &conferences {
        let _ = write!(
            body,
            "<tr><td><a href=\"/conferences/{id}\">{}</a></td><td>{}</td></tr>",
            esc(name),
            esc(venue)
        );
    }
    body.push_str("</table>");
    html(
        StatusCode::OK,
        page("Conferences", Some(&session), false, &body),
    )
}

/// Admissions per 15 minutes, as SVG bars.
fn arrivals_chart(times: &[chrono::DateTime<chrono::Utc>]) -> String {
    let Some(first) = times.iter().min() else {
        return "<p>No admissions yet.</p>".to_owned();
    };
    let last = times.iter().max().unwrap_or(first);
    let slot = |t: &chrono::DateTime<chrono::Utc>| (t.timestamp() - first.timestamp()) / 900;
    let slots = usize::try_from(slot(last) + 1).unwrap_or(1).min(96);
    let mut counts = vec![0u32; slots];
    for t in times {
        if let Some(c) = usize::try_from(slot(t))
            .ok()
            .and_then(|i| counts.get_mut(i))
        {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1);
    let (w, h, bar) = (40.0 + slots as f32 * 28.0, 180.0, 22.0);
    let start = first.timestamp() - first.timestamp() % 900;
    let mut svg = format!(
        "<svg id=\"arrivals\" role=\"img\" aria-label=\"Admissions per 15 minutes\" viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\">",
        h + 30.0,
        h + 30.0
    );
    for (i, c) in counts.iter().enumerate() {
        let bh = (*c as f32 / max as f32) * (h - 20.0);
        let x = 30.0 + i as f32 * 28.0;
        let label = chrono::DateTime::from_timestamp(start + i as i64 * 900, 0)
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default();
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-count=\"{c}\" x=\"{x}\" y=\"{:.1}\" width=\"{bar}\" height=\"{bh:.1}\" fill=\"#2563eb\"><title>{label}: {c}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{c}</text>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{label}</text>",
            h - bh,
            x + bar / 2.0,
            h - bh - 3.0,
            x + bar / 2.0,
            h + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn money(minor: i64, currency: Option<&str>) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:02} {}",
        abs / 100,
        abs % 100,
        currency.unwrap_or("")
    )
}

/// One conference at a glance: admitted against expected, arrivals, walk-in sales, conflicts.
async fn overview<S: Store>(State(app): State<Arc<App<S>>>, conf: ConferencePage) -> Response {
    let id = conf.id;
    let read = app
        .store
        .read(move |tx| {
            let admissions = head_office::admissions(tx, id)?;
            let walk_ins = head_office::walk_ins(tx, id)?;
            let open = head_office::conflicts(tx, id, true)?.len();
            let times = tx
                .query(
                    "SELECT admitted_at FROM admissions WHERE conference = $1 \
                     AND code IN (SELECT code FROM tickets WHERE conference = $1)",
                    params![id.to_string()],
                )?
                .iter()
                .filter_map(|r| r.text(0).ok())
                .filter_map(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .collect::<Vec<_>>();
            Ok::<_, StoreError>((admissions, walk_ins, open, times))
        })
        .await;
    let (adm, walk, open, times) = match read {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<div class=\"grid\"><div class=\"card\">Admitted<div class=\"big\" id=\"admitted\" data-admitted=\"{}\" data-expected=\"{}\">{} of {}</div></div>\
         <div class=\"card\">Open conflicts<div class=\"big\" id=\"open-conflicts\"><a href=\"{}\">{open}</a></div></div></div>",
        adm.admitted,
        adm.expected,
        adm.admitted,
        adm.expected,
        conf.href("/conflicts"),
    );
    body.push_str("<h2>By seat type</h2><table id=\"by-seat-type\"><tr><th>Seat type</th><th>Admitted</th><th>Expected</th></tr>");
    for s in &adm.by_seat_type {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.name),
            s.admitted,
            s.expected
        );
    }
    body.push_str(
        "</table><h2>By gate</h2><table id=\"by-gate\"><tr><th>Gate</th><th>Admitted</th></tr>",
    );
    for g in &adm.by_gate {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&g.gate),
            g.admitted
        );
    }
    body.push_str("</table><h2>Arrivals per 15 minutes</h2>");
    body.push_str("<div class=\"scroll\">");
    body.push_str(&arrivals_chart(&times));
    body.push_str("</div>");
    body.push_str("<h2>Walk-in sales</h2><table id=\"walk-ins\"><tr><th>Payment</th><th>Sales</th><th>Tickets</th><th>Taken</th><th>Refund due</th></tr>");
    for p in &walk.by_payment_method {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.payment_method),
            p.sales,
            p.tickets,
            money(p.taken_minor, walk.currency.as_deref()),
            money(p.refund_due_minor, walk.currency.as_deref())
        );
    }
    body.push_str("</table>");
    conf.render(Tab::Overview, "Overview", true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
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

    #[test]
    fn the_arrivals_chart_has_a_bar_per_quarter_hour() {
        let t = |m: i64| chrono::DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap();
        let svg = arrivals_chart(&[t(0), t(1), t(20), t(50)]);
        assert_eq!(svg.matches("class=\"bar\"").count(), 4);
        assert!(svg.contains("data-count=\"2\""));
    }
}
