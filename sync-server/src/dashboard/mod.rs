//! The head-office dashboard: HTML pages served by the server, behind a sign-in.
//!
//! Server-rendered HTML: the pages are tables, numbers, one SVG chart and forms that post back,
//! all of which the server already has. The only script is `refresh.js` (same origin, a dozen
//! lines): it reloads a page every 15 s while nobody is typing into one of its forms; without
//! it the pages still work, they just stop refreshing. Every form carries a CSRF token (the session's own; for the sign-in form, a short-lived
//! pre-session the server signed, in a `SameSite=Strict` cookie that must match the form), and
//! a cross-site `Origin` is refused. Sign-in attempts are limited per address and per account
//! (with a lockout that doubles), and checked on a fixed pool of hashing threads.
//! Session cookies are `HttpOnly; SameSite=Strict`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;
use onsite_shared::text::escape_markup as esc;

use crate::App;
use crate::accounts::Session;
use crate::export::Export;
use crate::storage::Store;

const SESSION_COOKIE: &str = "onsite_session";
const LOGIN_CSRF_COOKIE: &str = "onsite_login_csrf";
/// Seconds between a page's own refreshes.
const REFRESH_SECS: u32 = 15;

pub fn routes<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/", get(overview::index::<S>))
        .route(
            "/login",
            get(session::login_page::<S>).post(session::login::<S>),
        )
        .route("/logout", post(session::logout::<S>))
        .route("/assets/refresh.js", get(refresh_script))
        .route("/conferences/{conference}", get(overview::overview::<S>))
        .merge(registrations::routes())
        .merge(conflicts::routes())
        .merge(desks::routes())
        .route(
            "/conferences/{conference}/exports/{file}",
            get(exports::export::<S>),
        )
        .layer(axum::middleware::from_fn(session::secure_cookies))
}

mod conflicts;
mod desks;
mod exports;
mod overview;
mod registrations;
mod session;

use session::{SignedIn, form_is_ours};

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
                crate::event_log::load::<Conference>(tx, &StreamId::conference(id)).map(|(c, _)| c)
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
}
