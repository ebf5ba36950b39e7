//! The OS print spooler, spoken to over IPP: the local CUPS on Linux and macOS.
//!
//! Why IPP (the pure-Rust `ipp` crate) and not the `lp`/`lpstat` commands: the answers are
//! structured (job states as enums, the spooler's own reason keywords and messages) instead of
//! localised text to parse, a job's state can be polled by id, nothing needs a C library
//! (`libcups`) at build time, and the same client reaches any IPP Everywhere printer on the
//! network directly, which is the way on Windows (not built here: Windows has no CUPS; the
//! path would be IPP straight to the badge printer, or winspool with the PDF rasterised).

use std::time::Duration;

use ipp::operation::IppOperation;
use ipp::parser::IppParser;
use ipp::prelude::*;
use serde::Serialize;

/// `CUPS_SERVER` as CUPS' own tools read it (`host` or `host:port`), else `localhost:631`.
pub fn default_server() -> String {
    let server = std::env::var("CUPS_SERVER")
        .ok()
        .filter(|s| !s.trim().is_empty() && !s.starts_with('/'))
        .unwrap_or_else(|| "localhost".to_owned());
    let server = server.trim();
    if server.contains(':') {
        format!("http://{server}")
    } else {
        format!("http://{server}:631")
    }
}

/// Why the spooler did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpoolerError {
    #[error("cannot reach the print spooler at {server}: {detail}")]
    Unreachable { server: String, detail: String },
    #[error("the print spooler has no printer {0:?}")]
    NoSuchPrinter(String),
    /// The spooler answered with an IPP error status; the message is its own.
    #[error("the print spooler refused: {0}")]
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    Idle,
    Processing,
    Stopped,
}

/// A printer the OS knows, as the settings screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Printer {
    pub name: String,
    pub info: String,
    pub state: PrinterState,
    pub accepting_jobs: bool,
    /// The spooler's reason keywords (`paused`, `media-empty-error`, …), without `none`.
    pub reasons: Vec<String>,
    pub message: String,
    pub media_supported: Vec<String>,
    pub media_default: Option<String>,
    /// IPP `media-ready`: the paper loaded, where the printer says (often not).
    #[serde(default)]
    pub media_ready: Vec<String>,
}

impl Printer {
    /// Why a job sent now would not print, in the spooler's words; `None` when it would.
    pub fn problem(&self) -> Option<String> {
        let words = || {
            let mut parts = Vec::new();
            if !self.message.is_empty() {
                parts.push(self.message.clone());
            }
            if !self.reasons.is_empty() {
                parts.push(self.reasons.join(", "));
            }
            if parts.is_empty() {
                String::new()
            } else {
                format!(" ({})", parts.join("; "))
            }
        };
        if !self.accepting_jobs {
            Some(format!(
                "printer {} is not accepting jobs{}",
                self.name,
                words()
            ))
        } else if self.state == PrinterState::Stopped {
            Some(format!("printer {} is stopped{}", self.name, words()))
        } else {
            None
        }
    }
}

/// Where a spooler job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Pending, held or processing.
    Active,
    Completed,
    /// Stopped, cancelled or aborted, with the spooler's reasons.
    Failed(String),
}

/// A PDF for the spooler.
pub struct Submission<'a> {
    pub title: &'a str,
    /// IPP `media` (`Custom.4x3in`, `A6`): the page size, so the badge is not scaled onto A4.
    pub media: &'a str,
    pub pdf: &'a [u8],
}

const PRINTER_ATTRIBUTES: &[&str] = &[
    "printer-name",
    "printer-info",
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "media-supported",
    "media-default",
    "media-ready",
];

/// An IPP client of one spooler (CUPS at `server`, e.g. `http://localhost:631`).
#[derive(Debug, Clone)]
pub struct Cups {
    server: String,
    /// One HTTP client for every request: it keeps the connection to cupsd open, and building
    /// a client per request (what `ipp`'s own client does) costs more than the request itself.
    http: reqwest::Client,
}

impl Default for Cups {
    fn default() -> Self {
        Cups::new(&default_server())
    }
}

impl Cups {
    pub fn new(server: &str) -> Self {
        let http = crate::http::client(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Cups {
            server: server.trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    fn uri(&self, path: &str) -> Result<Uri, SpoolerError> {
        format!("{}{path}", self.server)
            .parse()
            .map_err(|e| SpoolerError::Unreachable {
                server: self.server.clone(),
                detail: format!("bad address: {e}"),
            })
    }

    fn printer_uri(&self, printer: &str) -> Result<Uri, SpoolerError> {
        let safe = printer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if printer.is_empty() || !safe {
            return Err(SpoolerError::NoSuchPrinter(printer.to_owned()));
        }
        self.uri(&format!("/printers/{printer}"))
    }

    async fn send(
        &self,
        uri: Uri,
        request: IppRequestResponse,
    ) -> Result<IppRequestResponse, SpoolerError> {
        let unreachable = |detail: String| SpoolerError::Unreachable {
            server: self.server.clone(),
            detail,
        };
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut request.into_read(), &mut body)
            .map_err(|e| unreachable(e.to_string()))?;
        let reply = self
            .http
            .post(uri.to_string())
            .header(reqwest::header::CONTENT_TYPE, "application/ipp")
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| unreachable(crate::http::failure(&e)))?
            .bytes()
            .await
            .map_err(|e| unreachable(crate::http::failure(&e)))?;
        let response = IppParser::new(std::io::Cursor::new(reply))
            .parse()
            .map_err(|e| unreachable(format!("unreadable answer: {e}")))?;
        let status = response.header().status_code();
        if status.is_success() {
            Ok(response)
        } else {
            let message = operation_text(&response, "status-message")
                .unwrap_or_else(|| format!("{status:?}"));
            if status == StatusCode::ClientErrorNotFound {
                Err(SpoolerError::Refused(format!("not found: {message}")))
            } else {
                Err(SpoolerError::Refused(message))
            }
        }
    }

    /// Every printer the spooler knows.
    pub async fn printers(&self) -> Result<Vec<Printer>, SpoolerError> {
        let mut request: IppRequestResponse = IppOperationBuilder::cups()
            .get_printers()
            .into_ipp_request();
        if let Ok(attribute) = requested(PRINTER_ATTRIBUTES) {
            request
                .attributes_mut()
                .add(DelimiterTag::OperationAttributes, attribute);
        }
        let response = self.send(self.uri("/")?, request).await?;
        let mut printers: Vec<Printer> = response
            .attributes()
            .groups_of(DelimiterTag::PrinterAttributes)
            .map(printer)
            .collect();
        printers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(printers)
    }

    /// One printer's state and media.
    pub async fn printer(&self, name: &str) -> Result<Printer, SpoolerError> {
        let uri = self.printer_uri(name)?;
        let op = IppOperationBuilder::get_printer_attributes(uri.clone())
            .attributes(PRINTER_ATTRIBUTES)
            .build()
            .map_err(|e| SpoolerError::Refused(e.to_string()))?;
        let response = match self.send(uri, op.into_ipp_request()).await {
            Err(SpoolerError::Refused(m)) if m.starts_with("not found") => {
                return Err(SpoolerError::NoSuchPrinter(name.to_owned()));
            }
            other => other?,
        };
        response
            .attributes()
            .groups_of(DelimiterTag::PrinterAttributes)
            .next()
            .map(printer)
            .ok_or_else(|| SpoolerError::NoSuchPrinter(name.to_owned()))
    }

    /// Hands a PDF to the spooler; the spooler's job id once it accepted it.
    pub async fn submit(&self, printer: &str, job: &Submission<'_>) -> Result<i32, SpoolerError> {
        let uri = self.printer_uri(printer)?;
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "onsite".to_owned());
        let media = IppValue::Keyword(
            job.media
                .try_into()
                .map_err(|e: ipp::parser::IppParseError| SpoolerError::Refused(e.to_string()))?,
        );
        let op = IppOperationBuilder::print_job(
            uri.clone(),
            IppPayload::new(std::io::Cursor::new(job.pdf.to_vec())),
        )
        .user_name(user)
        .job_title(job.title)
        .document_format("application/pdf")
        .attribute(
            IppAttribute::with_name("media", media)
                .map_err(|e| SpoolerError::Refused(e.to_string()))?,
        )
        .build()
        .map_err(|e| SpoolerError::Refused(e.to_string()))?;
        let response = match self.send(uri, op.into_ipp_request()).await {
            Err(SpoolerError::Refused(m)) if m.starts_with("not found") => {
                return Err(SpoolerError::NoSuchPrinter(printer.to_owned()));
            }
            other => other?,
        };
        response
            .attributes()
            .groups_of(DelimiterTag::JobAttributes)
            .find_map(|g| g.get("job-id"))
            .and_then(|a| match a.value() {
                IppValue::Integer(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| SpoolerError::Refused("the spooler gave no job id".into()))
    }

    /// Where a job the spooler accepted is now.
    pub async fn job(&self, printer: &str, job: i32) -> Result<JobState, SpoolerError> {
        let uri = self.printer_uri(printer)?;
        let op = IppOperationBuilder::get_job_attributes(uri.clone(), job)
            .build()
            .map_err(|e| SpoolerError::Refused(e.to_string()))?;
        let response = self.send(uri, op.into_ipp_request()).await?;
        let group = response
            .attributes()
            .groups_of(DelimiterTag::JobAttributes)
            .next()
            .ok_or_else(|| SpoolerError::Refused(format!("job {job} is unknown")))?;
        let state = match group.get("job-state").map(IppAttribute::value) {
            Some(IppValue::Enum(s)) => *s,
            _ => return Err(SpoolerError::Refused(format!("job {job} has no state"))),
        };
        let reasons = strings(group.get("job-state-reasons"))
            .into_iter()
            .chain(strings(group.get("job-printer-state-message")))
            .filter(|r| r != "none" && !r.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(match state {
            9 => JobState::Completed,
            6 => JobState::Failed(format!("the job stopped ({reasons})")),
            7 => JobState::Failed(format!("the job was cancelled ({reasons})")),
            8 => JobState::Failed(format!("the job was aborted ({reasons})")),
            _ => JobState::Active,
        })
    }

    /// Cancels a job, so that it does not come out later by surprise.
    pub async fn cancel(&self, printer: &str, job: i32) -> Result<(), SpoolerError> {
        let uri = self.printer_uri(printer)?;
        let op = IppOperationBuilder::cancel_job(uri.clone(), job)
            .build()
            .map_err(|e| SpoolerError::Refused(e.to_string()))?;
        self.send(uri, op.into_ipp_request()).await.map(drop)
    }
}

fn requested(names: &[&str]) -> Result<IppAttribute, ipp::parser::IppParseError> {
    IppAttribute::with_name(
        "requested-attributes",
        IppValue::Array(
            names
                .iter()
                .filter_map(|n| (*n).try_into().ok().map(IppValue::Keyword))
                .collect(),
        ),
    )
}

fn strings(attribute: Option<&IppAttribute>) -> Vec<String> {
    fn flat(v: &IppValue, out: &mut Vec<String>) {
        match v {
            IppValue::Array(items) => items.iter().for_each(|i| flat(i, out)),
            IppValue::NoValue => {}
            other => out.push(other.to_string()),
        }
    }
    let mut out = Vec::new();
    if let Some(a) = attribute {
        flat(a.value(), &mut out);
    }
    out
}

fn operation_text(response: &IppRequestResponse, name: &str) -> Option<String> {
    response
        .attributes()
        .groups_of(DelimiterTag::OperationAttributes)
        .find_map(|g| g.get(name))
        .map(|a| a.value().to_string())
        .filter(|s| !s.is_empty())
}

fn printer(group: &IppAttributeGroup) -> Printer {
    let one = |name: &str| strings(group.get(name)).into_iter().next();
    Printer {
        name: one("printer-name").unwrap_or_default(),
        info: one("printer-info").unwrap_or_default(),
        state: match group.get("printer-state").map(IppAttribute::value) {
            Some(IppValue::Enum(4)) => PrinterState::Processing,
            Some(IppValue::Enum(5)) => PrinterState::Stopped,
            _ => PrinterState::Idle,
        },
        accepting_jobs: !matches!(
            group
                .get("printer-is-accepting-jobs")
                .map(IppAttribute::value),
            Some(IppValue::Boolean(false))
        ),
        reasons: strings(group.get("printer-state-reasons"))
            .into_iter()
            .filter(|r| r != "none")
            .collect(),
        message: one("printer-state-message").unwrap_or_default(),
        media_supported: strings(group.get("media-supported")),
        media_default: one("media-default"),
        media_ready: strings(group.get("media-ready")),
    }
}
