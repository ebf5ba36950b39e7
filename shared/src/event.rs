//! Events as a contract: the closed set of events, the envelope every stored or synced event
//! travels in, stream ids, and the upcasters that read old schema versions.
//!
//! The stored and wire form is JSON: `{"event_type": "order.placed", "schema_version": 1,
//! "payload": {...}, ...envelope metadata}`. Readers ignore fields they do not know. A change
//! that breaks old JSON needs a new `schema_version` and an upcaster here; a change of meaning
//! needs a new event type. `shared/fixtures/events/` holds one JSON file per event type and
//! schema version; a test decodes every one of them, so breaking old JSON fails the build.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aggregate::{Aggregate, Timestamp};
use crate::ids::{ConferenceId, DeviceId, EventId, OrderId, TicketCode, TicketId};
use crate::{
    badge, check_in, conference, conflict, hand_out, order, room, seat_assignments,
    seat_availability, walk_in,
};

fn bad_payload(event_type: &str, e: &serde_json::Error) -> DecodeError {
    DecodeError::BadPayload {
        event_type: event_type.to_owned(),
        message: e.to_string(),
    }
}

/// The one list of aggregates: each with the variant of [`Event`] that carries its events,
/// its state type, the prefix of its event types and its [`StreamType`]. Everything that
/// goes by aggregate (the enum, its tagged JSON form, the stream types, [`StreamAggregate`])
/// is generated from it, so a new aggregate is added here once.
macro_rules! aggregates {
    ($($variant:ident($module:ident::$state:ident) = $prefix:literal, $stream_type:ident;)*) => {
        /// Every event the system can record, by aggregate. Adding a variant is a compatible
        /// change; changing or removing one is not.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $($variant($module::Event),)*
        }

        /// The kind of aggregate a stream belongs to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum StreamType {
            $($stream_type,)*
        }

        impl StreamType {
            /// Also the prefix of its events' types (`admission.admitted`).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(StreamType::$stream_type => $prefix,)*
                }
            }
        }

        /// Deserializes an event's tagged form, `{"event_type": …, "payload": …}`, into the
        /// enum of the aggregate its type names (the prefix before the dot); `None` when no
        /// aggregate has that prefix.
        fn from_tagged<'de, D: serde::Deserializer<'de>>(
            event_type: &str,
            tagged: D,
        ) -> Option<Result<Event, D::Error>> {
            let prefix = event_type.split_once('.').map_or(event_type, |(p, _)| p);
            Some(match prefix {
                $($prefix => $module::Event::deserialize(tagged).map(Event::$variant),)*
                _ => return None,
            })
        }

        impl Serialize for Event {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Event::$variant(e) => e.serialize(serializer),)*
                }
            }
        }

        $(
            impl From<$module::Event> for Event {
                fn from(e: $module::Event) -> Self {
                    Event::$variant(e)
                }
            }

            impl StreamAggregate for $module::$state {
                const STREAM_TYPE: StreamType = StreamType::$stream_type;

                fn pick(event: &Event) -> Option<&Self::Event> {
                    match event {
                        Event::$variant(e) => Some(e),
                        _ => None,
                    }
                }

                fn pick_owned(event: Event) -> Option<Self::Event> {
                    match event {
                        Event::$variant(e) => Some(e),
                        _ => None,
                    }
                }
            }
        )*
    };
}

aggregates! {
    Conference(conference::Conference) = "conference", Conference;
    Seats(seat_availability::SeatsAvailability) = "seats", Seats;
    Order(order::Order) = "order", Order;
    SeatAssignments(seat_assignments::SeatAssignments) = "seat_assignments", SeatAssignments;
    CheckIn(check_in::CheckIn) = "admission", Admission;
    Badge(badge::Badge) = "badge", Badge;
    HandOut(hand_out::HandOuts) = "hand_out", HandOut;
    Room(room::RoomVisits) = "room", Room;
    WalkIn(walk_in::WalkInSale) = "walk_in", WalkIn;
    Conflict(conflict::Conflict) = "conflict", Conflict;
}

/// An aggregate whose events make up the streams of one [`StreamType`]: what the desk and the
/// server both need to load one from a log of [`Event`]s and to keep its state as JSON.
pub trait StreamAggregate:
    Aggregate<Event: Clone + 'static> + Clone + Serialize + serde::de::DeserializeOwned
{
    const STREAM_TYPE: StreamType;

    /// This aggregate's event, if `event` is one.
    fn pick(event: &Event) -> Option<&Self::Event>;

    fn pick_owned(event: Event) -> Option<Self::Event>;

    /// The state after `events`, skipping other aggregates' events.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        events
            .into_iter()
            .filter_map(Self::pick)
            .fold(Self::default(), Self::evolve)
    }
}

/// Every event type with its current schema version. Kept in step with the enums by the
/// golden-corpus test (every type listed has a fixture; every sample event is listed).
pub const EVENT_TYPES: &[(&str, u16)] = &[
    ("conference.created", 1),
    ("conference.updated", 1),
    ("conference.published", 1),
    ("conference.unpublished", 1),
    ("conference.seat_type_created", 1),
    ("conference.seat_type_updated", 1),
    ("conference.seat_quota_changed", 1),
    ("conference.seat_type_policy_changed", 1),
    ("conference.seat_type_removed", 1),
    ("conference.attendee_type_defined", 1),
    ("conference.badge_templates_set", 1),
    ("conference.attendee_type_template_set", 1),
    ("conference.desk_defaults_set", 1),
    ("conference.hand_outs_set", 1),
    ("conference.admission_rules_set", 1),
    ("conference.gates_set", 1),
    ("conference.result_card_set", 1),
    ("conference.rooms_set", 1),
    ("seats.available_seats_changed", 1),
    ("seats.reserved", 1),
    ("seats.reservation_cancelled", 1),
    ("seats.reservation_committed", 1),
    ("seats.overbooked", 1),
    ("seats.lease_granted", 1),
    ("seats.lease_sold", 1),
    ("seats.lease_returned", 1),
    ("order.placed", 2),
    ("order.totals_calculated", 1),
    ("order.updated", 1),
    ("order.partially_reserved", 1),
    ("order.reservation_completed", 1),
    ("order.registrant_assigned", 1),
    ("order.confirmed", 1),
    ("order.expired", 1),
    ("order.cancelled", 1),
    ("seat_assignments.created", 1),
    ("seat_assignments.assigned", 1),
    ("seat_assignments.updated", 1),
    ("seat_assignments.unassigned", 1),
    ("admission.admitted", 2),
    ("admission.undone", 1),
    ("admission.duplicate_flagged", 1),
    ("admission.invalid_ticket_flagged", 1),
    ("admission.outside_rules_flagged", 1),
    ("admission.exited", 1),
    ("admission.reentered", 1),
    ("badge.printed", 1),
    ("badge.reprinted", 1),
    ("badge.name_set", 1),
    ("hand_out.given", 1),
    ("hand_out.undone", 1),
    ("hand_out.duplicate_flagged", 1),
    ("room.entered", 1),
    ("room.left", 1),
    ("room.entry_flagged", 1),
    ("walk_in.sale_recorded", 1),
    ("walk_in.confirmed", 1),
    ("walk_in.partially_confirmed", 1),
    ("walk_in.rejected", 1),
    ("walk_in.honoured", 1),
    ("conflict.opened", 1),
    ("conflict.acknowledged", 1),
    ("conflict.resolved", 1),
];

/// The current schema version of an event type, or `None` for a type this build does not know.
pub fn current_schema_version(event_type: &str) -> Option<u16> {
    EVENT_TYPES
        .iter()
        .find(|(t, _)| *t == event_type)
        .map(|(_, v)| *v)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0:?}")]
    UnknownEventType(String),
    #[error(
        "event type {event_type:?} has no schema version {version} (this build knows up to {current})"
    )]
    UnknownSchemaVersion {
        event_type: String,
        version: u16,
        current: u16,
    },
    #[error("the payload of {event_type:?} does not match its schema: {message}")]
    BadPayload { event_type: String, message: String },
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::UnknownEventType(_) => "event.unknown_type",
            DecodeError::UnknownSchemaVersion { .. } => "event.unknown_schema_version",
            DecodeError::BadPayload { .. } => "event.bad_payload",
        }
    }
}

impl Event {
    /// The stable type name, e.g. `order.placed`.
    pub fn event_type(&self) -> String {
        self.to_parts().0
    }

    /// `(event_type, payload)`, the stored form.
    pub fn to_parts(&self) -> (String, Value) {
        // Serializing our own plain-data enums to a `Value` cannot fail (no maps with
        // non-string keys, no custom serializers that error).
        let tagged = serde_json::to_value(self).unwrap_or(Value::Null);
        let Value::Object(mut map) = tagged else {
            return (String::new(), Value::Null);
        };
        let event_type = match map.remove("event_type") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let payload = map
            .remove("payload")
            .unwrap_or(Value::Object(Default::default()));
        (event_type, payload)
    }

    /// Decodes a payload of the *current* schema version.
    pub fn from_parts(event_type: &str, payload: Value) -> Result<Event, DecodeError> {
        if current_schema_version(event_type).is_none() {
            return Err(DecodeError::UnknownEventType(event_type.to_owned()));
        }
        let mut tagged = serde_json::Map::with_capacity(2);
        tagged.insert(
            "event_type".to_owned(),
            Value::String(event_type.to_owned()),
        );
        tagged.insert("payload".to_owned(), payload);
        from_tagged(event_type, Value::Object(tagged))
            .ok_or_else(|| DecodeError::UnknownEventType(event_type.to_owned()))?
            .map_err(|e| bad_payload(event_type, &e))
    }

    /// Decodes a payload given as JSON text: straight into the typed event when it is of the
    /// current schema (no JSON tree in between), through [`Event::decode`] otherwise.
    pub fn decode_json(
        event_type: &str,
        schema_version: u16,
        payload: &str,
    ) -> Result<Event, DecodeError> {
        let bad = |e: serde_json::Error| bad_payload(event_type, &e);
        if current_schema_version(event_type) != Some(schema_version) {
            return Event::decode(
                event_type,
                schema_version,
                payload::payload_from_str(payload).map_err(bad)?,
            );
        }
        // One JSON value and nothing else, before it is spliced into the tagged form.
        let payload = serde_json::from_str::<&serde_json::value::RawValue>(payload)
            .map_err(bad)?
            .get();
        // Tag first: serde reads the tag, then the payload straight into the variant.
        let tagged = format!(
            "{{\"event_type\":{},\"payload\":{payload}}}",
            serde_json::to_string(event_type).map_err(bad)?
        );
        let mut de = serde_json::Deserializer::from_str(&tagged);
        let event = from_tagged(event_type, &mut de)
            .ok_or_else(|| DecodeError::UnknownEventType(event_type.to_owned()))?
            .map_err(bad)?;
        de.end().map_err(bad)?;
        Ok(event)
    }

    /// Decodes a payload of any known schema version, upcasting old ones.
    pub fn decode(
        event_type: &str,
        schema_version: u16,
        payload: Value,
    ) -> Result<Event, DecodeError> {
        let payload = upcast(event_type, schema_version, payload)?;
        Event::from_parts(event_type, payload)
    }

    /// The stream this event belongs to (every payload names its aggregate).
    pub fn stream(&self) -> StreamId {
        match self {
            Event::Conference(e) => StreamId::conference(conference_of(e)),
            Event::Seats(e) => StreamId::seats(match e {
                seat_availability::Event::AvailableSeatsChanged { conference, .. }
                | seat_availability::Event::SeatsReserved { conference, .. }
                | seat_availability::Event::ReservationCancelled { conference, .. }
                | seat_availability::Event::ReservationCommitted { conference, .. }
                | seat_availability::Event::SeatsOverbooked { conference, .. }
                | seat_availability::Event::LeaseGranted { conference, .. }
                | seat_availability::Event::LeaseSold { conference, .. }
                | seat_availability::Event::LeaseReturned { conference, .. } => *conference,
            }),
            Event::Order(e) => StreamId::order(match e {
                order::Event::Placed { order, .. }
                | order::Event::TotalsCalculated { order, .. }
                | order::Event::Updated { order, .. }
                | order::Event::PartiallyReserved { order, .. }
                | order::Event::ReservationCompleted { order, .. }
                | order::Event::RegistrantAssigned { order, .. }
                | order::Event::Confirmed { order, .. }
                | order::Event::Expired { order }
                | order::Event::Cancelled { order, .. } => *order,
            }),
            Event::SeatAssignments(e) => StreamId::seat_assignments(match e {
                seat_assignments::Event::Created { order, .. }
                | seat_assignments::Event::Assigned { order, .. }
                | seat_assignments::Event::Updated { order, .. }
                | seat_assignments::Event::Unassigned { order, .. } => *order,
            }),
            Event::CheckIn(e) => {
                let (conference, code) = match e {
                    check_in::Event::Admitted {
                        conference, code, ..
                    }
                    | check_in::Event::Undone {
                        conference, code, ..
                    }
                    | check_in::Event::DuplicateFlagged {
                        conference, code, ..
                    }
                    | check_in::Event::InvalidTicketFlagged {
                        conference, code, ..
                    }
                    | check_in::Event::OutsideRulesFlagged {
                        conference, code, ..
                    }
                    | check_in::Event::Exited {
                        conference, code, ..
                    }
                    | check_in::Event::Reentered {
                        conference, code, ..
                    } => (conference, code),
                };
                StreamId::admission(*conference, code)
            }
            Event::Badge(e) => StreamId::badge(e.ticket()),
            Event::HandOut(e) => StreamId::hand_out(e.conference(), e.code()),
            Event::Room(e) => StreamId::room(e.conference(), e.code()),
            Event::WalkIn(e) => StreamId::walk_in(e.order()),
            Event::Conflict(e) => StreamId::conflict(match e {
                conflict::Event::Opened { conflict, .. }
                | conflict::Event::Acknowledged { conflict, .. }
                | conflict::Event::Resolved { conflict, .. } => *conflict,
            }),
        }
    }
    /// Whether a desk may push this event: what staff do at the door (admissions and undos,
    /// badge prints, hand-outs and their undos, room entries and leaves, attendee corrections, walk-in sales,
    /// acknowledging and resolving conflicts). Everything else is the server's to record.
    pub fn is_desk_event(&self) -> bool {
        matches!(
            self,
            Event::CheckIn(
                check_in::Event::Admitted { .. }
                    | check_in::Event::Undone { .. }
                    | check_in::Event::Exited { .. }
                    | check_in::Event::Reentered { .. }
            ) | Event::Badge(_)
                | Event::HandOut(hand_out::Event::Given { .. } | hand_out::Event::Undone { .. })
                | Event::Room(room::Event::Entered { .. } | room::Event::Left { .. })
                | Event::SeatAssignments(seat_assignments::Event::Updated { .. })
                | Event::WalkIn(walk_in::Event::SaleRecorded { .. })
                | Event::Conflict(
                    conflict::Event::Acknowledged { .. } | conflict::Event::Resolved { .. }
                )
        )
    }

    /// The desk a desk event says acted (the admitting, undoing or printing desk, the desk
    /// that sold, the desk acting on a conflict); `None` when it names none. The server takes
    /// the desk from the token, and refuses an event that names another.
    pub fn acting_desk(&self) -> Option<DeviceId> {
        match self {
            Event::CheckIn(check_in::Event::Admitted { admission, .. }) => Some(admission.desk),
            Event::CheckIn(check_in::Event::Undone { desk, .. }) => Some(*desk),
            Event::CheckIn(
                check_in::Event::Exited { exit: movement, .. }
                | check_in::Event::Reentered {
                    entry: movement, ..
                },
            ) => Some(movement.desk),
            Event::Badge(e) => Some(e.desk()),
            Event::HandOut(hand_out::Event::Given { given, .. }) => Some(given.desk),
            Event::HandOut(hand_out::Event::Undone { desk, .. }) => Some(*desk),
            Event::Room(room::Event::Entered { visit, .. } | room::Event::Left { visit, .. }) => {
                Some(visit.desk)
            }
            Event::WalkIn(walk_in::Event::SaleRecorded { sale }) => Some(sale.desk),
            Event::Conflict(
                conflict::Event::Acknowledged { by, .. } | conflict::Event::Resolved { by, .. },
            ) => match by {
                conflict::Actor::Desk { device } => Some(*device),
                conflict::Actor::HeadOffice { .. } | conflict::Actor::Server => None,
            },
            _ => None,
        }
    }

    /// The conference a door event names in its payload (admissions, badge prints, hand-outs, rooms,
    /// walk-in sales); `None` for the others.
    pub fn door_conference(&self) -> Option<ConferenceId> {
        match self {
            Event::CheckIn(
                check_in::Event::Admitted { conference, .. }
                | check_in::Event::Undone { conference, .. }
                | check_in::Event::DuplicateFlagged { conference, .. }
                | check_in::Event::InvalidTicketFlagged { conference, .. }
                | check_in::Event::OutsideRulesFlagged { conference, .. }
                | check_in::Event::Exited { conference, .. }
                | check_in::Event::Reentered { conference, .. },
            ) => Some(*conference),
            Event::Badge(e) => Some(e.conference()),
            Event::HandOut(e) => Some(e.conference()),
            Event::Room(e) => Some(e.conference()),
            Event::WalkIn(walk_in::Event::SaleRecorded { sale }) => Some(sale.conference),
            _ => None,
        }
    }
}

fn conference_of(e: &conference::Event) -> ConferenceId {
    match e {
        conference::Event::Created { conference, .. }
        | conference::Event::Updated { conference, .. }
        | conference::Event::Published { conference }
        | conference::Event::Unpublished { conference }
        | conference::Event::SeatTypeCreated { conference, .. }
        | conference::Event::SeatTypeUpdated { conference, .. }
        | conference::Event::SeatQuotaChanged { conference, .. }
        | conference::Event::SeatTypePolicyChanged { conference, .. }
        | conference::Event::SeatTypeRemoved { conference, .. }
        | conference::Event::AttendeeTypeDefined { conference, .. }
        | conference::Event::BadgeTemplatesSet { conference, .. }
        | conference::Event::AttendeeTypeTemplateSet { conference, .. }
        | conference::Event::DeskDefaultsSet { conference, .. }
        | conference::Event::HandOutsSet { conference, .. }
        | conference::Event::AdmissionRulesSet { conference, .. }
        | conference::Event::GatesSet { conference, .. }
        | conference::Event::ResultCardSet { conference, .. }
        | conference::Event::RoomsSet { conference, .. } => *conference,
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Tagged {
            event_type: String,
            #[serde(default)]
            payload: Value,
        }
        let tagged = Tagged::deserialize(deserializer)?;
        Event::from_parts(&tagged.event_type, tagged.payload).map_err(serde::de::Error::custom)
    }
}

/// Turns an old payload into the current schema version of its type.
///
/// History:
/// - `order.placed` v1 carried the order's access code; v2 carries its hash
///   ([`crate::order::access_code_hash`]), so that pulled events hand out no secret.
/// - `admission.admitted` v1 was the single-door shape: `{conference, code, ticket,
///   admission_id, desk, at}`. v2 nests the admission with the gate it happened at; a v1
///   admission happened at the only gate there was, `main`.
pub fn upcast(event_type: &str, schema_version: u16, payload: Value) -> Result<Value, DecodeError> {
    let current = current_schema_version(event_type)
        .ok_or_else(|| DecodeError::UnknownEventType(event_type.to_owned()))?;
    if schema_version == current {
        return Ok(payload);
    }
    let unknown = || DecodeError::UnknownSchemaVersion {
        event_type: event_type.to_owned(),
        version: schema_version,
        current,
    };
    match (event_type, schema_version) {
        ("order.placed", 1) => {
            let Value::Object(mut old) = payload else {
                return Err(DecodeError::BadPayload {
                    event_type: event_type.to_owned(),
                    message: "not an object".into(),
                });
            };
            let code = match old.remove("access_code") {
                Some(Value::String(code)) => code,
                _ => String::new(),
            };
            old.insert(
                "access_code_hash".into(),
                Value::String(crate::order::access_code_hash(&code)),
            );
            Ok(Value::Object(old))
        }
        ("admission.admitted", 1) => {
            let Value::Object(mut old) = payload else {
                return Err(DecodeError::BadPayload {
                    event_type: event_type.to_owned(),
                    message: "not an object".into(),
                });
            };
            let mut admission = serde_json::Map::new();
            admission.insert(
                "admission".into(),
                old.remove("admission_id").unwrap_or(Value::Null),
            );
            admission.insert("desk".into(), old.remove("desk").unwrap_or(Value::Null));
            admission.insert("gate".into(), Value::String("main".into()));
            admission.insert("at".into(), old.remove("at").unwrap_or(Value::Null));
            old.insert("admission".into(), Value::Object(admission));
            Ok(Value::Object(old))
        }
        _ => Err(unknown()),
    }
}

/// A stream: the events of one aggregate instance, versioned from 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamId {
    #[serde(rename = "type")]
    pub stream_type: StreamType,
    pub id: String,
}

impl StreamId {
    pub fn conference(id: ConferenceId) -> Self {
        Self {
            stream_type: StreamType::Conference,
            id: id.to_string(),
        }
    }
    pub fn seats(conference: ConferenceId) -> Self {
        Self {
            stream_type: StreamType::Seats,
            id: conference.to_string(),
        }
    }
    pub fn order(id: OrderId) -> Self {
        Self {
            stream_type: StreamType::Order,
            id: id.to_string(),
        }
    }
    pub fn seat_assignments(order: OrderId) -> Self {
        Self {
            stream_type: StreamType::SeatAssignments,
            id: order.to_string(),
        }
    }
    /// Admissions are keyed by the code on the ticket: an unknown code has no ticket id, and
    /// a scan is what the door sees.
    pub fn admission(conference: ConferenceId, code: &TicketCode) -> Self {
        Self {
            stream_type: StreamType::Admission,
            id: format!("{conference}/{code}"),
        }
    }
    /// A ticket's hand-outs: like its admissions, by conference and code.
    pub fn hand_out(conference: ConferenceId, code: &TicketCode) -> Self {
        Self {
            stream_type: StreamType::HandOut,
            id: format!("{conference}/{code}"),
        }
    }
    /// Where a ticket's holder is among the rooms: like its admissions, by conference and code.
    pub fn room(conference: ConferenceId, code: &TicketCode) -> Self {
        Self {
            stream_type: StreamType::Room,
            id: format!("{conference}/{code}"),
        }
    }
    pub fn badge(ticket: TicketId) -> Self {
        Self {
            stream_type: StreamType::Badge,
            id: ticket.to_string(),
        }
    }
    pub fn walk_in(order: OrderId) -> Self {
        Self {
            stream_type: StreamType::WalkIn,
            id: order.to_string(),
        }
    }
    pub fn conflict(id: crate::ids::ConflictId) -> Self {
        Self {
            stream_type: StreamType::Conflict,
            id: id.to_string(),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.stream_type.as_str(), self.id)
    }
}

/// Metadata the recorder supplies when it wraps an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metadata {
    pub device_id: Option<DeviceId>,
    pub client_seq: Option<u64>,
    pub causation_id: Option<EventId>,
    pub correlation_id: Option<EventId>,
}

/// What the stores keep and the wire carries for every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope {
    /// UUIDv7 minted by whoever recorded the event first.
    pub event_id: EventId,
    pub stream: StreamId,
    /// Position in its stream, from 1. A desk's own events carry the desk's local version; the
    /// server stamps its own when it records them.
    pub version: u64,
    pub event_type: String,
    pub schema_version: u16,
    /// The recording device's clock: data, never used to decide an expiry (F20).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub occurred_at: Timestamp,
    // The optional metadata is left out of the JSON when absent (a reader takes a missing
    // field as `None`): most events carry none of it, and a fresh desk pulls hundreds of
    // thousands of them.
    /// The server's clock when it recorded the event; `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub recorded_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<EventId>,
    /// Read strictly: a payload that names a key twice is refused ([`payload::strict`]).
    #[serde(deserialize_with = "payload::strict")]
    pub payload: Value,
}

impl Envelope {
    /// Wraps an event of the current schema.
    pub fn new(
        event_id: EventId,
        event: &Event,
        version: u64,
        occurred_at: Timestamp,
        meta: Metadata,
    ) -> Self {
        let (event_type, payload) = event.to_parts();
        let schema_version = current_schema_version(&event_type).unwrap_or(1);
        Self {
            event_id,
            stream: event.stream(),
            version,
            event_type,
            schema_version,
            occurred_at,
            recorded_at: None,
            device_id: meta.device_id,
            client_seq: meta.client_seq,
            causation_id: meta.causation_id,
            correlation_id: meta.correlation_id,
            payload,
        }
    }

    /// The typed event, upcast to the current schema.
    pub fn decode(&self) -> Result<Event, DecodeError> {
        Event::decode(&self.event_type, self.schema_version, self.payload.clone())
    }

    /// The typed event, moving the payload out (it is left `null`): for a reader that keeps
    /// only the envelope's header and the event, without copying the JSON tree.
    pub fn take_event(&mut self) -> Result<Event, DecodeError> {
        let payload = std::mem::take(&mut self.payload);
        Event::decode(&self.event_type, self.schema_version, payload)
    }
}

pub mod payload;

#[cfg(test)]
mod tests;
