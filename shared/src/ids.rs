//! Identifiers. Every id is minted at the edge (UUIDv7 in the desk and the server) and arrives
//! here as data; this crate cannot create one (the `uuid` dependency has no generator features).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[derive(ts_rs::TS)]
        #[ts(type = "string")]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// For tests and fixtures.
            pub const fn from_u128(v: u128) -> Self {
                Self(uuid::Uuid::from_u128(v))
            }
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A conference (the book's `ConferenceId`; also the id of its `SeatsAvailability`).
    ConferenceId
);
uuid_id!(
    /// A seat type of a conference.
    SeatTypeId
);
uuid_id!(
    /// An order. Also the reservation id on `SeatsAvailability` and the id of the order's
    /// `SeatAssignments` (the book's V3 choice: the reservation id is derived from the order).
    OrderId
);
uuid_id!(
    /// One seat of a confirmed order: a position in `SeatAssignments`, what a badge is printed for.
    TicketId
);
uuid_id!(
    /// An enrolled desk (a laptop at the door).
    DeviceId
);
uuid_id!(
    /// One local event log on a device (a fresh install or a reset database gets a new one).
    /// Scopes the gapless `client_seq` of the sync protocol.
    ClientId
);
uuid_id!(
    /// The global identity of one recorded event.
    EventId
);
uuid_id!(
    /// One admission at a gate (a check-in).
    AdmissionId
);
uuid_id!(
    /// One hand-out of an item to a ticket's holder.
    HandOutId
);
uuid_id!(
    /// Seats of one seat type a desk holds for final offline sales.
    LeaseId
);
uuid_id!(
    /// One scan at a room's desk: an entry, or a leave.
    RoomVisitId
);
uuid_id!(
    /// An item of the conflict inbox: something a person must look at.
    ConflictId
);
uuid_id!(
    /// A print job sent to a spooler.
    PrintJobId
);
uuid_id!(
    /// The id of a command; process managers use it as correlation id and timer id.
    CommandId
);

/// Why a textual identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is too long ({len} characters, at most {max})")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{what} may contain only {allowed}, found {found:?}")]
    BadCharacter {
        what: &'static str,
        allowed: &'static str,
        found: char,
    },
}

/// The code printed on a ticket and in its QR code, typed by a keyboard-wedge scanner.
///
/// Upper-case letters, digits and `-`, at most 32 characters. Input is normalised (trimmed,
/// upper-cased) so that a code typed by hand matches a scanned one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
#[derive(ts_rs::TS)]
#[ts(type = "string")]
pub struct TicketCode(String);

impl TicketCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        const WHAT: &str = "a ticket code";
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(CodeError::Empty { what: WHAT });
        }
        let len = code.chars().count();
        if len > Self::MAX_LEN {
            return Err(CodeError::TooLong {
                what: WHAT,
                len,
                max: Self::MAX_LEN,
            });
        }
        if let Some(found) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(CodeError::BadCharacter {
                what: WHAT,
                allowed: "letters, digits and '-'",
                found,
            });
        }
        Ok(Self(code))
    }

    /// Makes a short human code from random bits supplied by the caller (e.g. the random part
    /// of a UUIDv7): eight Crockford base-32 characters, grouped `XXXX-XXXX`.
    pub fn from_entropy(bits: u64) -> Self {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut out = String::with_capacity(9);
        for i in 0..8 {
            if i == 4 {
                out.push('-');
            }
            let idx = ((bits >> (i * 5)) & 31) as usize;
            out.push(ALPHABET[idx] as char);
        }
        Self(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TicketCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TicketCode {
    type Error = CodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TicketCode> for String {
    fn from(value: TicketCode) -> Self {
        value.0
    }
}

/// An attendee type for badges: `speaker`, `volunteer`, `sponsor`, `staff`, `press`, `student`,
/// `attendee`… A lower-case slug chosen by the organiser; stable because badges and imports
/// refer to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
#[derive(ts_rs::TS)]
#[ts(type = "string")]
pub struct AttendeeTypeId(String);

impl AttendeeTypeId {
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        const WHAT: &str = "an attendee type";
        let slug = raw.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Err(CodeError::Empty { what: WHAT });
        }
        if slug.len() > 40 {
            return Err(CodeError::TooLong {
                what: WHAT,
                len: slug.len(),
                max: 40,
            });
        }
        if let Some(found) = slug
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(CodeError::BadCharacter {
                what: WHAT,
                allowed: "lower-case letters, digits, '-' and '_'",
                found,
            });
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttendeeTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AttendeeTypeId {
    type Error = CodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AttendeeTypeId> for String {
    fn from(value: AttendeeTypeId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_codes_are_normalised_so_typed_and_scanned_codes_match() {
        assert_eq!(
            TicketCode::parse("  ab12-cd34 \n").unwrap().as_str(),
            "AB12-CD34"
        );
    }

    #[test]
    fn ticket_codes_refuse_garbage_with_a_clear_reason() {
        assert_eq!(
            TicketCode::parse(" "),
            Err(CodeError::Empty {
                what: "a ticket code"
            })
        );
        assert!(matches!(
            TicketCode::parse("AB 12"),
            Err(CodeError::BadCharacter { found: ' ', .. })
        ));
        assert!(matches!(
            TicketCode::parse(&"A".repeat(33)),
            Err(CodeError::TooLong { .. })
        ));
    }

    #[test]
    fn codes_from_entropy_are_short_grouped_and_unambiguous() {
        let code = TicketCode::from_entropy(0xDEAD_BEEF_0123_4567);
        assert_eq!(code.as_str().len(), 9);
        assert_eq!(&code.as_str()[4..5], "-");
        assert!(!code.as_str().contains(['I', 'L', 'O', 'U']));
        assert_eq!(TicketCode::parse(code.as_str()).unwrap(), code);
        assert_ne!(TicketCode::from_entropy(1), TicketCode::from_entropy(2));
    }

    #[test]
    fn attendee_types_are_slugs() {
        assert_eq!(
            AttendeeTypeId::parse("Speaker").unwrap().as_str(),
            "speaker"
        );
        assert!(AttendeeTypeId::parse("track chair").is_err());
    }
}
