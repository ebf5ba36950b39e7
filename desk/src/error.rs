use onsite_shared::aggregate::DomainError;
use onsite_shared::error_code;

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
    Database(rusqlite::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl DeskError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::NotEnrolled => error_code::DESK_NOT_ENROLLED,
            DeskError::AlreadyEnrolled(_) => error_code::DESK_ALREADY_ENROLLED,
            DeskError::Refused { code, .. } => code,
            DeskError::BadInput(_) => error_code::DESK_BAD_INPUT,
            DeskError::NoSuchTicket(_) => error_code::DESK_NO_SUCH_TICKET,
            DeskError::NoSuchConflict => error_code::DESK_NO_SUCH_CONFLICT,
            DeskError::BadgeWarnings(_) => error_code::BADGE_LAYOUT_WARNINGS,
            DeskError::TooNew { .. } => error_code::DESK_DATABASE_TOO_NEW,
            DeskError::Database(_) => error_code::DESK_DATABASE,
            DeskError::Corrupt(_) => error_code::DESK_CORRUPT,
        }
    }

    pub(crate) fn refused<E: DomainError>(e: &E) -> Self {
        DeskError::Refused {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for DeskError {
    /// SQLite saying the file is damaged (or no database at all) is a corrupt desk, whatever
    /// statement found out.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                DeskError::Corrupt(format!("the desk's database is damaged: {e}"))
            }
            _ => DeskError::Database(e),
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
