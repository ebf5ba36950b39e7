//! Badges on the set-up page: the conference's template set (upload one, go back to the
//! built-in set, download the one in use), a preview of every template for a sample attendee,
//! the template per attendee type, and the defaults every desk starts from. The previews are
//! drawn by the code the desks print with (`crate::badge_preview`).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use onsite_shared::badge::AutoPrint;
use onsite_shared::badge_template::TemplateSet;
use onsite_shared::conference::DeskDefaults;
use onsite_shared::ids::AttendeeTypeId;
use serde::Deserialize;

use super::setup::{change, refusal};
use super::{ConferencePage, refused};
use crate::App;
use crate::admin;
use crate::recorder::Rejected;
use crate::storage::Store;

fn auto_print_text(policy: AutoPrint) -> &'static str {
    match policy {
        AutoPrint::Always => "always",
        AutoPrint::IfNeverPrinted => "if_never_printed",
        AutoPrint::Never => "never",
    }
}

fn preview_src(conf: &ConferencePage, template: &str, attendee_type: Option<&str>) -> String {
    let mut src = conf.href(&format!("/setup/badges/{template}/preview.svg"));
    if let Some(a) = attendee_type {
        src.push_str("?attendee_type=");
        src.push_str(a);
    }
    src
}

/// The template choice per attendee type, as a column of the attendee types table.
pub(super) fn attendee_type_cell(
    conf: &ConferencePage,
    attendee_type: &AttendeeTypeId,
    manages: bool,
) -> Markup {
    let c = &conf.conference;
    let chosen = c.attendee_type_templates.get(attendee_type);
    let used = c.template_for([attendee_type]);
    html! {
        td.template {
            @if manages {
                form.inline method="post"
                    action=(conf.href(&format!("/setup/attendee-types/{attendee_type}/template"))) {
                    input type="hidden" name="csrf" value=(conf.session.csrf);
                    select name="template" aria-label={ "Badge template for " (attendee_type) } {
                        option value="" selected[chosen.is_none()] { "the desk default" }
                        @for t in &c.templates().templates {
                            option value=(t.id) selected[chosen == Some(&t.id)] { (t.name) }
                        }
                    }
                    button.choose-template { "Set" }
                }
            } @else {
                (chosen.map_or("the desk default", String::as_str))
            }
        }
        td {
            img.badge-thumb src=(preview_src(conf, used, Some(attendee_type.as_str())))
                alt={ "Badge of a sample " (attendee_type) } height="90";
        }
    }
}

/// The Badges section of the set-up page.
pub(super) fn section(conf: &ConferencePage, manages: bool) -> Markup {
    let c = &conf.conference;
    let set = c.templates();
    let d = &c.desk_defaults;
    html! {
        h2 { "Badges" }
        p #template-source {
            @if c.badge_templates.is_some() { "Head office's templates" } @else { "The built-in templates" }
            " (" (set.templates.len()) "). "
            a href=(conf.href("/setup/badges/templates.json")) download="templates.json" { "Download them" }
            " to edit; the format is in the README."
        }
        div.grid #templates {
            @for t in &set.templates {
                @let (w, h) = t.page.mm();
                figure.card data-template=(t.id) {
                    img src=(preview_src(conf, &t.id, None)) alt={ "Sample badge: " (t.name) } style="max-width:100%;border:1px solid #cbd5e1";
                    figcaption { b { (t.name) } " " code { (t.id) } span.muted { " " (w) " × " (h) " mm" } }
                }
            }
        }
        @if manages {
            form.card method="post" enctype="multipart/form-data" action=(conf.href("/setup/badges/templates")) #upload-templates {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline { "Template set (JSON) " input #templates-file type="file" name="file" accept=".json,application/json" required; }
                button #upload-templates-button { "Upload the templates" }
            }
            @if c.badge_templates.is_some() {
                form.act method="post" action=(conf.href("/setup/badges/reset")) {
                    input type="hidden" name="csrf" value=(conf.session.csrf);
                    button #reset-templates { "Go back to the built-in templates" }
                }
            }
        }
        h3 { "Desk defaults" }
        p.muted { "What every desk does until its staff choose otherwise at the desk." }
        @if manages {
            form.card method="post" action=(conf.href("/setup/desk-defaults")) #desk-defaults {
                input type="hidden" name="csrf" value=(conf.session.csrf);
                label.inline {
                    "Print a badge at check-in "
                    select name="auto_print" #default-auto-print {
                        option value="" selected[d.auto_print.is_none()] { "not set (only if never printed)" }
                        @for (value, text) in [(AutoPrint::Always, "always"), (AutoPrint::IfNeverPrinted, "only if never printed"), (AutoPrint::Never, "never")] {
                            option value=(auto_print_text(value)) selected[d.auto_print == Some(value)] { (text) }
                        }
                    }
                }
                label.inline {
                    "Badge template "
                    select name="badge_template" #default-template {
                        option value="" selected[d.badge_template.is_none()] { "not set (the first)" }
                        @for t in &set.templates {
                            option value=(t.id) selected[d.badge_template.as_ref() == Some(&t.id)] { (t.name) }
                        }
                    }
                }
                label.inline { "Print queue " input #default-printer name="printer" value=(d.printer.as_deref().unwrap_or_default()) placeholder="badges" size="16"; }
                button #save-desk-defaults { "Save the desk defaults" }
            }
        } @else {
            p {
                "Print at check-in: " (d.auto_print.map_or("not set", auto_print_text))
                "; template: " (d.badge_template.as_deref().unwrap_or("not set"))
                "; print queue: " (d.printer.as_deref().unwrap_or("not set")) "."
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct PreviewQuery {
    #[serde(default)]
    attendee_type: Option<String>,
}

/// A template drawn for the sample attendee (an `<img>` on the set-up page).
pub(super) async fn preview(
    conf: ConferencePage,
    Path((_, template)): Path<(String, String)>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    let back = conf.href("/setup");
    let attendee_type = match query.attendee_type.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match AttendeeTypeId::parse(a) {
            Ok(a) => Some(a),
            Err(e) => return refused(&conf.session, &e.to_string(), &back),
        },
    };
    match crate::badge_preview::svg(&conf.conference, &template, attendee_type.as_ref()) {
        Ok((svg, warnings)) => crate::http::svg_response(svg, &warnings),
        Err(Rejected::Domain { message, .. }) => refused(&conf.session, &message, &back),
        Err(e) => super::failed(e),
    }
}

/// The template set in use, to edit and upload again.
pub(super) async fn download(conf: ConferencePage) -> Response {
    match serde_json::to_string_pretty(conf.conference.templates()) {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"templates.json\"",
                ),
            ],
            json,
        )
            .into_response(),
        Err(e) => super::failed(e),
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
    let csrf = upload.field("csrf");
    // Who may change is settled before the file is read: a forged form learns nothing.
    if let Some(no) = refusal(&conf, &headers, &csrf) {
        return no;
    }
    let set = std::str::from_utf8(&upload.bytes)
        .map_err(|_| "the file is not UTF-8 text".to_owned())
        .and_then(|text| TemplateSet::from_json(text).map_err(|e| e.to_string()));
    match set {
        Ok(set) => {
            change(&app, &conf, &headers, &csrf, move |rec| {
                admin::set_badge_templates(rec, Some(set.clone()))
            })
            .await
        }
        Err(e) => refused(
            &conf.session,
            &format!("The templates were not read: {e}."),
            &back,
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn reset<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    change(&app, &conf, &headers, &form.csrf, |rec| {
        admin::set_badge_templates(rec, None)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct TemplateForm {
    csrf: String,
    #[serde(default)]
    template: String,
}

pub(super) async fn attendee_type_template<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Path((_, attendee_type)): Path<(String, String)>,
    Form(form): Form<TemplateForm>,
) -> Response {
    let template = Some(form.template.trim().to_owned()).filter(|t| !t.is_empty());
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::set_attendee_type_template(rec, &attendee_type, template.clone())
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct DeskDefaultsForm {
    csrf: String,
    #[serde(default)]
    auto_print: String,
    #[serde(default)]
    badge_template: String,
    #[serde(default)]
    printer: String,
}

pub(super) async fn desk_defaults<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
    headers: HeaderMap,
    Form(form): Form<DeskDefaultsForm>,
) -> Response {
    let auto_print = match form.auto_print.as_str() {
        "" => None,
        "always" => Some(AutoPrint::Always),
        "if_never_printed" => Some(AutoPrint::IfNeverPrinted),
        "never" => Some(AutoPrint::Never),
        _ => {
            return refused(
                &conf.session,
                "Print at check-in: always, only if never printed, or never.",
                &conf.href("/setup"),
            );
        }
    };
    let optional = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    let defaults = DeskDefaults {
        auto_print,
        badge_template: optional(&form.badge_template),
        printer: optional(&form.printer),
    };
    change(&app, &conf, &headers, &form.csrf, move |rec| {
        admin::set_desk_defaults(rec, &defaults)
    })
    .await
}
