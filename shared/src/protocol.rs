//! The sync protocol, version 1: JSON over HTTP under `/v1`, Replicache-shaped.
//!
//! - **Push** (`POST /v1/sync/push`): a desk sends its own events in `client_seq` order
//!   (gapless from 1 per `client_id`). The server skips what it has seen (answering with the
//!   stored outcome), refuses a gap (409 with `expected_client_seq`), and re-decides the rest
//!   against its authoritative aggregates, recording each outcome in the same transaction as
//!   the events it produced.
//! - **Pull** (`GET /v1/sync/pull?cursor=…&limit=…`): the authoritative events of the desk's
//!   conference after an opaque cursor, including the desk's own accepted events and every
//!   compensation, plus the `last_client_seq` the server has recorded for this client.
//!
//! Errors are `{code, message}` with stable codes.
//!
//! **Version 2** adds what a venue relay needs, and only that: a push may be answered `held`
//! (stored at the venue, forwarded upstream later, not decided yet), and a pull may carry the
//! final outcomes of items answered `held` before (`decided_from`) and the venue feed (the
//! other desks' held events, `venue`). A desk says which version it speaks in its push; a
//! server answers a version-1 push with version-1 statuses only (a relay that cannot decide
//! yet refuses it with `relay.held` and a `Retry-After`, having stored it: the old desk asks
//! again and gets the decision once it is made). Pull fields a client did not ask for are not
//! sent, and a version-1 client ignores fields it does not know.

use serde::{Deserialize, Serialize};

use crate::event::Envelope;
use crate::ids::{ClientId, EventId};

/// The version this code speaks; servers also take [`OLDEST_PROTOCOL_VERSION`] and on.
pub const PROTOCOL_VERSION: u32 = 2;
/// The oldest version a server still answers.
pub const OLDEST_PROTOCOL_VERSION: u32 = 1;
/// The first version that understands [`OutcomeStatus::Held`].
pub const HELD_SINCE: u32 = 2;

/// The most items one push may carry.
pub const MAX_PUSH_ITEMS: usize = 1_000;
/// A pull response's `next_cursor` and `has_more`, repeated as headers so that a client can
/// request the next page before it has parsed this one.
pub const NEXT_CURSOR_HEADER: &str = "x-onsite-next-cursor";
pub const HAS_MORE_HEADER: &str = "x-onsite-has-more";

/// The most events one pull may return.
pub const MAX_PULL_LIMIT: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub protocol_version: u32,
    pub client_id: ClientId,
    pub app_version: String,
    /// What the desk still has to push after this batch (for head office's desk view).
    #[serde(default)]
    pub pending_after: u64,
    /// The desk's clock when it sent the push; the server records the skew it shows.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub device_time: Option<crate::aggregate::Timestamp>,
    pub items: Vec<PushItem>,
}

/// What [`DeskLog::format`] says: a desk's log written to a file, version 1.
pub const DESK_LOG_FORMAT: &str = "onsite-desk-log/1";

/// A desk's unsynced events written to a file (`onsite-desk-cli export-log`), for a laptop
/// that never gets network again: head office imports it (`onsite-server import-desk-log`)
/// and the server decides it exactly as the push the desk would have made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskLog {
    pub format: String,
    pub conference: crate::ids::ConferenceId,
    pub device: crate::ids::DeviceId,
    pub exported_at: crate::aggregate::Timestamp,
    /// Every event the desk had not had acknowledged, in `client_seq` order (any number: the
    /// importer pushes them in batches of at most [`MAX_PUSH_ITEMS`]).
    pub push: PushRequest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushItem {
    pub client_seq: u64,
    pub event: Envelope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum OutcomeStatus {
    /// Recorded as it was.
    Accepted,
    /// Seen before; this is the outcome recorded then.
    Duplicate,
    /// Recorded, and compensating events were recorded with it (see `reason`).
    Compensated,
    /// Not recorded (e.g. an event a desk may not push, or a sale that does not add up); a
    /// conflict may have been opened for head office (see `result_event_ids`).
    Rejected,
    /// Stored durably by a venue relay and shared with the venue's desks, not decided yet:
    /// the relay forwards it upstream on the desk's behalf, and the final outcome comes back
    /// in a later pull (`decided_from`). Protocol version 2 and on.
    Held,
}

impl OutcomeStatus {
    /// Whether this is the authority's last word on the item.
    pub fn is_final(self) -> bool {
        !matches!(self, OutcomeStatus::Held)
    }
}

/// Stable reason codes for outcomes.
pub mod reason {
    pub const DUPLICATE_ADMISSION: &str = "admission.duplicate";
    pub const INVALID_TICKET_ADMISSION: &str = "admission.invalid_ticket";
    /// Admitted outside the ticket's rules without a reason (or by a desk's clock).
    pub const OUTSIDE_RULES_ADMISSION: &str = "admission.outside_rules";
    pub const WALK_IN_PARTIAL: &str = "walk_in.partially_confirmed";
    pub const WALK_IN_REJECTED: &str = "walk_in.rejected";
    pub const WALK_IN_OVERBOOKED: &str = "walk_in.overbooked";
    pub const NOT_A_DESK_EVENT: &str = "event.not_a_desk_event";
    pub const NOT_ADMITTED: &str = "admission.not_admitted";
    pub const UNKNOWN_TICKET: &str = "seat_assignments.unknown_ticket";
    pub const REASSIGNED: &str = "seat_assignments.reassigned";
    pub const CONFLICT_NOT_FOR_DESKS: &str = "conflict.not_for_desks";
    /// The event names a stream of another conference than the desk's.
    pub const OTHER_CONFERENCE: &str = "event.other_conference";
    /// A walk-in sale named a ticket that exists already (by id anywhere, or by code in the
    /// conference): the sale is not recorded and a conflict is opened.
    pub const TICKET_EXISTS: &str = "walk_in.ticket_exists";
    pub const DUPLICATE_HAND_OUT: &str = "hand_out.duplicate";
    /// A hand-out of an item the conference does not hand out, or in a size it does not
    /// come in.
    pub const UNKNOWN_HAND_OUT: &str = "hand_out.unknown_item";
    pub const NOT_HANDED_OUT: &str = "hand_out.not_given";
    /// A hand-out to a ticket code the conference does not have.
    pub const HAND_OUT_UNKNOWN_TICKET: &str = "hand_out.unknown_ticket";
    /// A room entry by someone not entitled, or over the room's capacity, without a reason:
    /// recorded, and a conflict is opened.
    pub const ROOM_ENTRY_FLAGGED: &str = "room.entry_flagged";
    /// A room entry into a room the conference does not have.
    pub const UNKNOWN_ROOM: &str = "room.unknown_room";
    /// A room entry or leave of a ticket code the conference does not have.
    pub const ROOM_UNKNOWN_TICKET: &str = "room.unknown_ticket";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushOutcome {
    pub client_seq: u64,
    pub event_id: EventId,
    pub status: OutcomeStatus,
    #[serde(default)]
    pub reason: Option<String>,
    /// The events the item produced on the server (the item itself first, when recorded).
    #[serde(default)]
    pub result_event_ids: Vec<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub last_client_seq: u64,
    pub outcomes: Vec<PushOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Opaque; `None` (or empty) for the beginning.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    1_000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub events: Vec<Envelope>,
    pub next_cursor: String,
    pub has_more: bool,
    pub last_client_seq: u64,
    /// With `decided_from`: the final outcomes this server holds for the client's items from
    /// that sequence on, in order (at most [`MAX_DECIDED`]). Version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<PushOutcome>>,
    /// With `venue` (from a relay only): the other desks' events held at the venue after the
    /// venue cursor, and the ones upstream refused since. Version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Vec<VenueEntry>>,
    /// Where the venue feed goes on from (a relay only); absent: this server has no venue
    /// feed, and what a desk holds from one is no longer vouched for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_cursor: Option<String>,
    /// The venue cursor asked with was another relay's (or another life of this one's): the
    /// feed starts again, and the desk forgets what it had from it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub venue_reset: bool,
    /// With `venue` (a relay holding venue leases): what each seat type has left to hand out
    /// from them, so the desk says before the payment which tickets will be final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_seats: Option<Vec<VenueSeatsLeft>>,
}

/// Seats of one seat type a relay's open venue leases have left to hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueSeatsLeft {
    pub seat_type: crate::ids::SeatTypeId,
    pub left: u64,
}

/// The most outcomes one pull carries for `decided_from`.
pub const MAX_DECIDED: usize = 1_000;
/// The most venue entries one pull carries.
pub const MAX_VENUE: usize = 1_000;

/// One entry of a relay's venue feed: another desk's event, held at the venue and not decided
/// yet (`event`), or the id of one upstream refused (`rejected`): it will never be in the
/// log, so desks stop showing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueEntry {
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Envelope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<EventId>,
}

/// A desk trades its one-time enrolment code for credentials (`POST /v1/devices/enrol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    pub code: String,
}

/// What an enrolled desk keeps: its identity, its conference and its bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskCredentials {
    pub device_id: crate::ids::DeviceId,
    pub conference_id: crate::ids::ConferenceId,
    pub name: String,
    pub token: String,
}

/// What a relay forwards upstream on a desk's behalf (`POST /v1/relay/push`): the desk's
/// push as the desk made it, and the desk it is from. Upstream decides it as that desk's.
/// `allocations`: the seats the relay handed this desk from its venue leases for the sales in
/// the push; upstream honours a sale's claim on a venue lease only as far as the relay that
/// holds the lease vouches for it here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayPush {
    pub device_id: crate::ids::DeviceId,
    pub push: PushRequest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<VenueAllocation>,
}

/// Seats a venue relay handed a desk from its venue lease for one sale (the sale's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueAllocation {
    pub order: crate::ids::OrderId,
    pub lease: crate::ids::LeaseId,
    pub seat_type: crate::ids::SeatTypeId,
    pub quantity: u32,
    /// When the lease ends: a sale after it is not from the lease.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: crate::aggregate::Timestamp,
}

/// What a desk asks its venue relay for before it takes a walk-in sale's payment
/// (`PUT /v1/sync/venue-seats/{order}` at the relay): seats per seat type from the relay's
/// venue leases. Asking again for the same order replaces what it was given (nothing: gives
/// it all back) until the sale reached the relay; after that the answer stays what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueSeatsRequest {
    pub seats: Vec<crate::seat_availability::SeatQuantity>,
}

/// The relay's answer: what it handed out for the order (maybe less than asked, maybe none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueSeats {
    pub allocations: Vec<VenueAllocation>,
}

/// A desk of the relay's conference as upstream tells the relay (`GET /v1/relay/desks`): what
/// the relay needs to know the desk's token while the uplink is down, and where each of its
/// sync clients stands upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayDesk {
    pub device_id: crate::ids::DeviceId,
    pub name: String,
    /// SHA-256 of the desk's token, hex; absent before the desk enrolled.
    #[serde(default)]
    pub token_hash: Option<String>,
    pub revoked: bool,
    #[serde(default)]
    pub clients: Vec<RelayClient>,
}

/// A sync client of a desk, and the last sequence upstream holds from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayClient {
    pub client_id: ClientId,
    pub last_client_seq: u64,
}

/// What a relay tells upstream about itself (`POST /v1/relay/status`), for head office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayStatus {
    /// Desk events held at the venue, not yet forwarded.
    pub held: u64,
    /// The desks that synced through the relay in the last minutes.
    pub desks: Vec<crate::ids::DeviceId>,
    /// Seats the relay handed desks from its venue leases since it last said: upstream
    /// honours a sale's claim on them even when the desk pushes the sale itself (the relay
    /// gone meanwhile). At most [`MAX_STATUS_ALLOCATIONS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<VenueAllocation>,
}

/// The most allocations one relay status carries (the rest go with the next).
pub const MAX_STATUS_ALLOCATIONS: usize = 1_000;

/// Every error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// With `sync.gap` (409): the `client_seq` the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_client_seq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code;

    #[test]
    fn error_bodies_omit_the_expected_sequence_unless_it_is_a_gap() {
        let body = ErrorBody {
            code: error_code::MALFORMED.into(),
            message: "bad".into(),
            expected_client_seq: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"request.malformed","message":"bad"}"#
        );
    }

    #[test]
    fn held_is_a_status_of_its_own_and_not_final() {
        assert_eq!(
            serde_json::to_string(&OutcomeStatus::Held).unwrap(),
            r#""held""#
        );
        assert!(!OutcomeStatus::Held.is_final());
        for s in [
            OutcomeStatus::Accepted,
            OutcomeStatus::Duplicate,
            OutcomeStatus::Compensated,
            OutcomeStatus::Rejected,
        ] {
            assert!(s.is_final(), "{s:?}");
        }
    }

    #[test]
    fn a_version_1_pull_reads_as_version_2_and_version_2_fields_are_left_out_unless_set() {
        let v1 = r#"{"events":[],"next_cursor":"e.1","has_more":false,"last_client_seq":3}"#;
        let page: PullResponse = serde_json::from_str(v1).unwrap();
        assert_eq!(
            (
                page.outcomes,
                page.venue,
                page.venue_cursor,
                page.venue_reset
            ),
            (None, None, None, false)
        );
        let plain = PullResponse {
            events: vec![],
            next_cursor: "e.1".into(),
            has_more: false,
            last_client_seq: 3,
            outcomes: None,
            venue: None,
            venue_cursor: None,
            venue_reset: false,
            venue_seats: None,
        };
        assert_eq!(serde_json::to_string(&plain).unwrap(), v1);
    }

    #[test]
    fn a_venue_entry_is_an_event_or_a_refusal() {
        let refused = VenueEntry {
            seq: 7,
            event: None,
            rejected: Some(EventId::from_u128(1)),
        };
        assert_eq!(
            serde_json::to_string(&refused).unwrap(),
            r#"{"seq":7,"rejected":"00000000-0000-0000-0000-000000000001"}"#
        );
    }

    #[test]
    fn a_pull_request_without_a_limit_uses_the_default() {
        let req: PullRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(
            req,
            PullRequest {
                cursor: None,
                limit: 1_000
            }
        );
    }
}
