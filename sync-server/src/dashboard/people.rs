//! The people of head office (owners only): who may sign in with which role, invitations
//! still open, invite someone (the one-time link is shown here to pass on: no mail server),
//! remove someone.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::session::{SignedIn, capitalised, form_is_ours};
use super::{failed, forbidden, not_allowed, page, refused, respond};
use crate::App;
use crate::accounts::{self, AccountError, PendingInvite, Person, Role, Session};
use crate::storage::{Store, StoreError};

async fn read<S: Store>(app: &App<S>) -> Result<(Vec<Person>, Vec<PendingInvite>), Response> {
    let now = chrono::Utc::now();
    app.store
        .read(move |tx| {
            Ok::<_, StoreError>((accounts::people(tx)?, accounts::pending_invites(tx, now)?))
        })
        .await
        .map_err(failed)
}

fn body(
    session: &Session,
    people: &[Person],
    invites: &[PendingInvite],
    link: Option<&str>,
) -> Markup {
    html! {
        @if let Some(link) = link {
            section.card #invited {
                p { "Pass this link on; it works once, for " (accounts::INVITE_DAYS) " days:" }
                p { code #invite-link { (link) } }
            }
        }
        table #people {
            tr { th { "Email" } th { "Role" } th { "Since" } th {} }
            @for p in people {
                tr data-email=(p.email) {
                    td { (p.email) }
                    td { (p.role.as_str()) }
                    td { (p.created_at.get(..10).unwrap_or(&p.created_at)) }
                    td {
                        @if p.email != session.email {
                            form.inline method="post" action="/people/remove" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="hidden" name="email" value=(p.email);
                                button.remove { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        @if !invites.is_empty() {
            h2 { "Invitations not used yet" }
            table #invites {
                tr { th { "Email" } th { "Role" } th { "Invited by" } th { "Until" } }
                @for i in invites {
                    tr {
                        td { (i.email) }
                        td { (i.role.as_str()) }
                        td { (i.invited_by) }
                        td { (i.expires_at.get(..16).unwrap_or(&i.expires_at)) }
                    }
                }
            }
        }
        h2 { "Invite someone" }
        form.card method="post" action="/people/invite" #invite {
            input type="hidden" name="csrf" value=(session.csrf);
            label.inline { "Email " input #invite-email name="email" type="email" required; }
            label.inline {
                "Role "
                select #invite-role name="role" {
                    @for r in Role::ALL {
                        option value=(r.as_str()) selected[r == Role::Staff] { (r.as_str()) }
                    }
                }
            }
            button #send-invite { "Make an invitation link" }
            p.muted {
                "owner: everything; staff: read, decide conflicts, enrol desks; viewer: read only."
            }
        }
    }
}

async fn show<S: Store>(app: &App<S>, session: &Session, link: Option<&str>) -> Response {
    match read(app).await {
        Ok((people, invites)) => respond(
            StatusCode::OK,
            page(
                "People",
                Some(session),
                false,
                &body(session, &people, &invites, link),
            ),
        ),
        Err(res) => res,
    }
}

pub(super) async fn list<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
) -> Response {
    if !session.role.manages() {
        return not_allowed(&session, "managing people");
    }
    show(&app, &session, None).await
}

#[derive(Deserialize)]
pub(super) struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

/// The address the link is on: this server as the browser reached it.
pub(super) fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

pub(super) async fn invite<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Response {
    if !form_is_ours(&headers, &session, &form.csrf) {
        return forbidden();
    }
    if !session.role.manages() {
        return not_allowed(&session, "inviting people");
    }
    let Some(role) = Role::parse(&form.role) else {
        return refused(&session, "There is no such role.", "/people");
    };
    let (email, by, now) = (
        form.email.clone(),
        session.email.clone(),
        chrono::Utc::now(),
    );
    match app
        .store
        .write(move |tx| accounts::invite(tx, &email, role, &by, now))
        .await
    {
        Ok(token) => {
            let link = format!("{}/invite/{token}", origin(&headers));
            show(&app, &session, Some(&link)).await
        }
        Err(e @ (AccountError::BadEmail | AccountError::AlreadyAUser(_))) => refused(
            &session,
            &format!("{}.", capitalised(&e.to_string())),
            "/people",
        ),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    csrf: String,
    email: String,
}

pub(super) async fn remove<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    if !form_is_ours(&headers, &session, &form.csrf) {
        return forbidden();
    }
    if !session.role.manages() {
        return not_allowed(&session, "removing people");
    }
    let email = form.email.clone();
    match app
        .store
        .write(move |tx| accounts::remove(tx, &email))
        .await
    {
        Ok(()) => show(&app, &session, None).await,
        Err(e @ (AccountError::LastOwner | AccountError::NoSuchUser | AccountError::BadEmail)) => {
            refused(
                &session,
                &format!("{}.", capitalised(&e.to_string())),
                "/people",
            )
        }
        Err(e) => failed(e),
    }
}
