use onsite_shared::aggregate::DomainError;

/// Why a desk command or query did not happen. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("this desk is not enrolled yet")]
    NotEnrolled,
    #[error("this desk is already enrolled as {0}")]
    AlreadyEnrolled(String),
    /// The domain said no (e.g. no seats left as of the last sync, a reprint without reason).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("{0}")]
    BadInput(String),
    #[error("no ticket has the code {0}")]
    NoSuchTicket(String),
    #[error("no such conflict")]
    NoSuchConflict,
    /// The badge's layout has warnings (a name that does not fit); printing needs a person's
    /// yes.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    BadgeWarnings(Vec<onsite_badge::Warning>),
    #[error(
        "this database was written by a newer Onsite (log schema {found}, this build knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl DeskError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::NotEnrolled => "desk.not_enrolled",
            DeskError::AlreadyEnrolled(_) => "desk.already_enrolled",
            DeskError::Refused { code, .. } => code,
            DeskError::BadInput(_) => "desk.bad_input",
            DeskError::NoSuchTicket(_) => "desk.no_such_ticket",
            DeskError::NoSuchConflict => "desk.no_such_conflict",
            DeskError::BadgeWarnings(_) => "badge.layout_warnings",
            DeskError::TooNew { .. } => "desk.database_too_new",
            DeskError::Database(_) => "desk.database",
            DeskError::Corrupt(_) => "desk.corrupt",
        }
    }

    pub(crate) fn refused<E: DomainError>(e: &E) -> Self {
        DeskError::Refused {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<serde_json::Error> for DeskError {
    fn from(e: serde_json::Error) -> Self {
        DeskError::Corrupt(e.to_string())
    }
}

impl From<onsite_shared::event::DecodeError> for DeskError {
    fn from(e: onsite_shared::event::DecodeError) -> Self {
        DeskError::Corrupt(e.to_string())
    }
}
