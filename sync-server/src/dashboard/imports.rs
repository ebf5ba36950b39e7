//! Importing registrations from the dashboard (owners): a CSV (or a JSON list of
//! registrations) uploaded into a conference, checked whole first (a file with a problem
//! imports nothing and the report names each problem with its line), then imported in the
//! background with the importer the command line uses, while a page shows its progress and,
//! at the end, the report: registrations imported, and skipped as imported before.
//!
//! A job lives in this process's memory: after a restart its page is gone, and uploading the
//! same file again imports what is missing and skips the rest.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::session::form_is_ours;
use super::{ConferencePage, Tab, failed, forbidden, not_allowed, refused};
use crate::App;
use crate::import::{self, ImportError, ImportRegistration};
use crate::storage::Store;

/// The imports this process has run or runs, by id.
#[derive(Default)]
pub(crate) struct Jobs(Mutex<HashMap<uuid::Uuid, Arc<Job>>>);

pub(crate) struct Job {
    conference: onsite_shared::ids::ConferenceId,
    file: String,
    total: usize,
    done: AtomicUsize,
    outcome: Mutex<Option<Outcome>>,
}

enum Outcome {
    Imported { new: usize },
    Refused(Vec<String>),
    Failed(String),
}

pub(super) fn form(conf: &ConferencePage) -> Markup {
    html! {
        form.card method="post" enctype="multipart/form-data" action=(conf.href("/imports")) #import {
            input type="hidden" name="csrf" value=(conf.session.csrf);
            label.inline { "File " input #import-file type="file" name="file" accept=".csv,.json,text/csv,application/json" required; }
            label.inline { "Source " input #import-source name="source" value="csv" size="10"; }
            button #start-import { "Import" }
            p.muted {
                "A CSV with the columns source_id, seat_type, ticket_code, first_name, last_name, \
                 email, company, attendee_types (one row per seat; rows with one source_id are one \
                 order), or a JSON list of registrations. Registrations imported before from the \
                 same source are skipped."
            }
        }
    }
}

fn parse(file: &str, bytes: &[u8]) -> Result<Vec<ImportRegistration>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    if file.to_lowercase().ends_with(".json") || text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| format!("not a JSON list of registrations: {e}"))
    } else {
        import::parse_csv(text)
    }
}

pub(super) async fn upload<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let back = conf.href("/setup");
    let upload = match super::Upload::read(multipart).await {
        Ok(u) => u,
        Err(e) => return refused(&conf.session, &e, &back),
    };
    let (csrf, mut source) = (
        upload.field("csrf"),
        upload.field("source").trim().to_owned(),
    );
    let (file, bytes) = (upload.file, upload.bytes);
    if !form_is_ours(&headers, &conf.session, &csrf) {
        return forbidden();
    }
    if !conf.session.role.manages() {
        return not_allowed(&conf.session, "importing registrations");
    }
    if source.is_empty() {
        source = "csv".to_owned();
    }
    let registrations = match parse(&file, &bytes) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => return refused(&conf.session, "The file has no registrations.", &back),
        Err(e) => {
            return refused(
                &conf.session,
                &format!("The file was not read: {e}."),
                &back,
            );
        }
    };
    let job = Arc::new(Job {
        conference: conf.id,
        file,
        total: registrations.len(),
        done: AtomicUsize::new(0),
        outcome: Mutex::new(None),
    });
    let id = uuid::Uuid::now_v7();
    if let Ok(mut jobs) = app.imports.0.lock() {
        jobs.insert(id, Arc::clone(&job));
    }
    let run = import::ImportRun {
        conference: conf.id,
        source,
        file: job.file.clone(),
        actor: Some(conf.session.email.clone()),
    };
    let (now, running) = (chrono::Utc::now(), Arc::clone(&job));
    let worker = Arc::clone(&app);
    tokio::spawn(async move {
        let progress = Arc::clone(&running);
        let result =
            import::import_registrations(&worker.store, run, registrations, now, move |n| {
                progress.done.fetch_add(n, Ordering::Relaxed);
            })
            .await;
        let outcome = match result {
            Ok(new) => Outcome::Imported { new },
            Err(ImportError::Problems(problems)) => Outcome::Refused(problems),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        if let Ok(mut o) = running.outcome.lock() {
            *o = Some(outcome);
        }
    });
    Redirect::to(&conf.href(&format!("/imports/{id}"))).into_response()
}

pub(super) async fn progress<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    Path((_, job)): Path<(String, String)>,
) -> Response {
    let found = job
        .parse::<uuid::Uuid>()
        .ok()
        .and_then(|id| app.imports.0.lock().ok()?.get(&id).cloned())
        .filter(|j| j.conference == conf.id);
    let Some(job) = found else {
        return super::not_found(
            "No such import (this server restarted since?)",
            &conf.session,
        );
    };
    let done = job.done.load(Ordering::Relaxed).min(job.total);
    let outcome = match job.outcome.lock() {
        Ok(o) => o.as_ref().map(|o| match o {
            Outcome::Imported { new } => Ok(*new),
            Outcome::Refused(p) => Err(Some(p.clone())),
            Outcome::Failed(e) => {
                tracing::error!(error = %e, "a dashboard import failed");
                Err(None)
            }
        }),
        Err(e) => return failed(e),
    };
    let running = outcome.is_none();
    let body = html! {
        p { "File " strong { (job.file) } ": " (job.total) " registration(s)." }
        @match &outcome {
            None => {
                p #import-running { "Importing: " (done) " of " (job.total) "…" }
                progress #import-progress max=(job.total) value=(done) {}
            }
            Some(Ok(new)) => {
                section.card #import-report {
                    p.ok { "Done." }
                    table {
                        tr { td { "Imported" } td.n #imported { (new) } }
                        tr { td { "Skipped, imported before" } td.n #skipped { (job.total - new) } }
                    }
                }
            }
            Some(Err(Some(problems))) => {
                section.card #import-report {
                    p.err { "Refused: nothing was imported. " (problems.len()) " problem(s):" }
                    ul #import-problems { @for p in problems { li { (p) } } }
                }
            }
            Some(Err(None)) => {
                p.err #import-report { "The import stopped: the server could not store it. What was imported stays; import the file again to finish it." }
            }
        }
        p { a href=(conf.href("/setup")) { "Back to the set-up" } }
    };
    let mut res = conf.render(Tab::Setup, "Import", false, &body);
    if running {
        res.headers_mut()
            .insert("refresh", axum::http::HeaderValue::from_static("1"));
    }
    res
}
