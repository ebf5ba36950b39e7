//! The head-office dashboard: HTML pages served by the server, behind a sign-in.
//!
//! Server-rendered HTML: the pages are tables, numbers, one SVG chart and forms that post back,
//! all of which the server already has. The only script is `refresh.js` (same origin, a dozen
//! lines): it reloads a page every 15 s while nobody is typing into one of its forms; without
//! it the pages still work, they just stop refreshing. Every form carries a CSRF token (the session's own; for the sign-in form, a short-lived
//! pre-session the server signed, in a `SameSite=Strict` cookie that must match the form), and
//! a cross-site `Origin` is refused. Sign-in attempts are limited per address and per account
//! (with a lockout that doubles), and checked on a fixed pool of hashing threads.
//! Session cookies are `HttpOnly; SameSite=Strict` (and `Secure` behind an HTTPS proxy), set
//! through a typed cookie jar; pages are `maud` templates, which escape every value spliced in.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;

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
        .route("/conferences", post(setup::create::<S>))
        .route("/conferences/{conference}/setup", get(setup::page::<S>))
        .route(
            "/conferences/{conference}/setup/details",
            post(setup::details::<S>),
        )
        .route(
            "/conferences/{conference}/setup/publish",
            post(setup::publish::<S>),
        )
        .route(
            "/conferences/{conference}/setup/seat-types",
            post(setup::add_seat_type::<S>),
        )
        .route(
            "/conferences/{conference}/setup/seat-types/{seat_type}/quota",
            post(setup::quota::<S>),
        )
        .route(
            "/conferences/{conference}/setup/seat-types/{seat_type}",
            post(setup::edit_seat_type_form::<S>),
        )
        .route(
            "/conferences/{conference}/setup/seat-types/{seat_type}/rules",
            post(setup::admission_rules::<S>),
        )
        .route(
            "/conferences/{conference}/setup/attendee-types",
            post(setup::add_attendee_type::<S>),
        )
        .route(
            "/conferences/{conference}/setup/attendee-types/{attendee_type}/template",
            post(badges::attendee_type_template::<S>),
        )
        .route(
            "/conferences/{conference}/setup/badges/{template}/preview.svg",
            get(badges::preview),
        )
        .route(
            "/conferences/{conference}/setup/badges/templates.json",
            get(badges::download),
        )
        .route(
            "/conferences/{conference}/setup/badges/templates",
            post(badges::upload::<S>),
        )
        .route(
            "/conferences/{conference}/setup/badges/reset",
            post(badges::reset::<S>),
        )
        .route(
            "/conferences/{conference}/setup/desk-defaults",
            post(badges::desk_defaults::<S>),
        )
        .route(
            "/conferences/{conference}/setup/gates",
            post(gates::save::<S>),
        )
        .route(
            "/conferences/{conference}/setup/card",
            post(gates::save_card::<S>),
        )
        .route(
            "/conferences/{conference}/setup/gates/remove",
            post(gates::remove::<S>),
        )
        .route(
            "/conferences/{conference}/setup/gates/no-reentry",
            post(gates::no_reentry::<S>),
        )
        .route(
            "/conferences/{conference}/setup/hand-outs",
            post(hand_outs::save::<S>),
        )
        .route(
            "/conferences/{conference}/setup/rooms",
            post(rooms::save::<S>),
        )
        .route(
            "/conferences/{conference}/setup/rooms/remove",
            post(rooms::remove::<S>),
        )
        .route(
            "/conferences/{conference}/setup/hand-outs/{item}/remove",
            post(hand_outs::remove::<S>),
        )
        .route(
            "/conferences/{conference}/history",
            get(setup::history::<S>),
        )
        .route(
            "/conferences/{conference}/imports",
            post(imports::upload::<S>),
        )
        .route(
            "/conferences/{conference}/imports/{job}",
            get(imports::progress::<S>),
        )
        .route("/people", get(people::list::<S>))
        .route("/people/invite", post(people::invite::<S>))
        .route("/people/remove", post(people::remove::<S>))
        .route(
            "/invite/{token}",
            get(session::invite_page::<S>).post(session::accept_invite::<S>),
        )
        .route("/assets/refresh.js", get(refresh_script))
        .route("/conferences/{conference}", get(overview::overview::<S>))
        .merge(registrations::routes())
        .merge(conflicts::routes())
        .merge(desks::routes())
        .route(
            "/conferences/{conference}/exports/{file}",
            get(exports::export::<S>),
        )
}

mod badges;
mod conflicts;
mod desks;
mod exports;
mod gates;
mod hand_outs;
pub(crate) mod imports;
mod overview;
mod people;
mod registrations;
mod rooms;
mod session;
mod setup;

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
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em;align-items:start}\
nav.tabs{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center;margin:-.4em 0 1em}nav.tabs a{padding:.3em .1em}\
nav.tabs a.on{font-weight:700;border-bottom:3px solid #2563eb}nav.tabs .exports{margin-left:auto;font-size:.9em}\
.scroll{overflow-x:auto}.muted{color:#64748b}.ok{color:#15803d}.warn{color:#b45309;font-weight:700}\
textarea,select{font:inherit}form.act{display:inline-block;margin:.3em 1em .3em 0;vertical-align:top}\
label.inline{display:inline-block;margin:.3em 1em .3em 0}.code{font-family:'DejaVu Sans Mono',monospace;font-size:2em;letter-spacing:.08em}";

/// A whole page: head, the header with who is signed in, the title, and `body`.
fn page(title: &str, session: Option<&Session>, refresh: bool, body: &Markup) -> Markup {
    let refresh = if refresh { REFRESH_SECS } else { 0 };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Onsite head office" }
                style { (PreEscaped(STYLE)) }
                script src="/assets/refresh.js" defer {}
            }
            body data-refresh=(refresh) {
                header {
                    a href="/" { strong { "Onsite" } " head office" }
                    @if let Some(s) = session {
                        span {
                            @if s.role.manages() {
                                a #people-link href="/people" { "People" } " · "
                            }
                            (s.email) " (" (s.role.as_str()) ") "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button #logout { "Sign out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn respond(status: StatusCode, body: Markup) -> Response {
    let mut res = (status, body.into_string()).into_response();
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
    let body = html! {
        p.err {
            "This form did not come from this dashboard (missing or wrong CSRF token). \
             Nothing was changed. "
            a href="/" { "Start again" } "."
        }
    };
    respond(StatusCode::FORBIDDEN, page("Refused", None, false, &body))
}

/// A form the signed-in person's role does not allow: nothing changes.
fn not_allowed(session: &Session, what: &str) -> Response {
    let body = html! {
        p.err #not-allowed {
            "Your role (" (session.role.as_str()) ") does not allow " (what) ". Nothing was changed."
        }
        p { a href="/" { "Back" } }
    };
    respond(
        StatusCode::FORBIDDEN,
        page("Not allowed", Some(session), false, &body),
    )
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard");
    let body = html! { p.err { "The server could not answer; try again." } };
    respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        page("Something went wrong", None, false, &body),
    )
}

/// A request the domain refused: say why, change nothing, offer the way back.
fn refused(session: &Session, message: &str, back: &str) -> Response {
    let body = html! {
        p.err #refused { (message) }
        p { "Nothing was changed. " a href=(back) { "Back" } }
    };
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        page("Not done", Some(session), false, &body),
    )
}

fn no_such_conference(session: &Session) -> Response {
    not_found("No such conference", session)
}

/// A page for something that is not there.
fn not_found(title: &str, session: &Session) -> Response {
    respond(
        StatusCode::NOT_FOUND,
        page(title, Some(session), false, &html! {}),
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
    Setup,
    History,
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
    fn render(&self, tab: Tab, title: &str, refresh: bool, body: &Markup) -> Response {
        let tabs = [
            (Tab::Overview, "Overview", ""),
            (Tab::Registrations, "Registrations", "/registrations"),
            (Tab::Conflicts, "Conflicts", "/conflicts"),
            (Tab::Desks, "Desks", "/desks"),
            (Tab::Setup, "Set-up", "/setup"),
            (Tab::History, "History", "/history"),
        ];
        let exports = [Export::Attendees, Export::Admissions, Export::WalkIns];
        let body = html! {
            nav.tabs {
                @for (t, label, rest) in tabs {
                    @let on = t == tab;
                    a href=(self.href(rest))
                        class=[on.then_some("on")]
                        aria-current=[on.then_some("page")] { (label) }
                }
                span.exports {
                    "CSV:"
                    @for e in exports {
                        " "
                        a download href=(self.href(&format!("/exports/{}", e.file_name()))) {
                            (e.file_name())
                        }
                    }
                }
            }
            (body)
        };
        let heading = if tab == Tab::Overview {
            self.name.clone()
        } else {
            format!("{title} · {}", self.name)
        };
        respond(
            StatusCode::OK,
            page(&heading, Some(&self.session), refresh, &body),
        )
    }
}

/// A `multipart/form-data` form with one file (field `file`): its other fields as text.
struct Upload {
    fields: std::collections::HashMap<String, String>,
    file: String,
    bytes: Vec<u8>,
}

impl Upload {
    /// Reads the whole form, or says in a sentence why it could not.
    async fn read(mut multipart: axum::extract::Multipart) -> Result<Upload, String> {
        let mut upload = Upload {
            fields: std::collections::HashMap::new(),
            file: String::new(),
            bytes: Vec::new(),
        };
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => return Ok(upload),
                Err(e) => return Err(format!("The upload is not a form: {e}")),
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                upload.file = field.file_name().unwrap_or("upload").to_owned();
            }
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("The upload broke off: {e}"))?;
            if name == "file" {
                upload.bytes = bytes.to_vec();
            } else {
                upload
                    .fields
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }

    /// A text field, empty when the form did not have it.
    fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_in_content_and_attributes() {
        let hostile = "<a href=\"x\">O'Neil & co</a>";
        let markup = html! { p title=(hostile) { (hostile) } }.into_string();
        assert!(!markup.contains("<a "), "{markup}");
        assert!(markup.contains("&lt;a href=&quot;x&quot;&gt;O'Neil &amp; co&lt;/a&gt;"));
    }
}
