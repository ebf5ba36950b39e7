//! The conference: its details, its seat types (priced, with a quota) and the attendee types its
//! badges know. In the book this is the CRUD "Conference Management" context that publishes
//! coarse, state-carrying integration events (B:4963–4993); here it is an event-sourced
//! aggregate so that desks and head office rebuild it from the same log.
//!
//! Decisions where the book is silent:
//! - A seat type is either **admission** (gets you through the door) or an **add-on**
//!   entitlement (workshop, reception) that is printed on the badge but admits nobody.
//! - Every seat type has an oversell policy for offline walk-in sales that arrive after the
//!   seats are gone: `reject` (default: refund due) or `overbook` (standing room: honour it and
//!   record the overbooking as its own event).
//! - Seat types can be removed only while the conference was never published (the book's
//!   "deleted seat type" bug, B:7583–7602); afterwards quotas can still go to zero.
//! - Prices are in the conference's currency; an order never mixes currencies.
//! - Publishing needs at least one admission seat type: there is nothing to sell otherwise.
//! - Repeating a command that is already satisfied (publish twice, same quota) produces no
//!   events: integration messages may be delivered twice.
//! - Badges: the conference carries its badge template set (the built-in set until head office
//!   sets one), a default template per attendee type, and the defaults every desk starts from
//!   ([`DeskDefaults`]). A template that an attendee type or the desk defaults use cannot be
//!   taken out of the set; the choice must change first.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::admission_rules::AdmissionRules;
use crate::aggregate::{Aggregate, DomainError};
use crate::badge::AutoPrint;
use crate::badge_template::{CheckedTemplates, TemplateSet};
use crate::ids::{AttendeeTypeId, ConferenceId, SeatTypeId};
use crate::money::{Currency, Money};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConferenceDetails {
    pub name: String,
    /// The conference site's unique URL part (B:2059–2060).
    pub slug: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub venue: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub currency: Currency,
    /// The most seats one online order may hold ([`DEFAULT_MAX_SEATS_PER_ORDER`] when not
    /// set): nobody holds every remaining seat with one anonymous order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seats_per_order: Option<u32>,
    /// Where the conference's dates and times are local: an IANA name (`Europe/Zurich`) or
    /// `UTC`. Absent in events from before it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Who organises it, by name (the owner's email comes with `conference.created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
}

/// The most seats an online order may hold unless the conference says otherwise.
pub const DEFAULT_MAX_SEATS_PER_ORDER: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    /// Admits the holder to the conference.
    Admission,
    /// An entitlement printed on the badge (workshop, reception); admits nobody at the door.
    AddOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OversellPolicy {
    /// A walk-in sale for seats that are gone is rejected with a refund due.
    #[default]
    Reject,
    /// A walk-in sale for seats that are gone is honoured as an explicit overbooking.
    Overbook,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatType {
    pub id: SeatTypeId,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub quota: u32,
    pub kind: SeatKind,
    pub policy: OversellPolicy,
}

/// A badge colour, `#RRGGBB`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
pub struct Colour(String);

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let s = raw.trim();
        let ok =
            s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !ok {
            return Err(Error::BadColour(raw.to_owned()));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Red, green and blue as fractions of one, for drawing.
    pub fn rgb(&self) -> (f32, f32, f32) {
        let channel =
            |i: usize| u8::from_str_radix(&self.0[i..i + 2], 16).unwrap_or(0) as f32 / 255.0;
        (channel(1), channel(3), channel(5))
    }
}

impl TryFrom<String> for Colour {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Colour> for String {
    fn from(value: Colour) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendeeType {
    pub id: AttendeeTypeId,
    pub name: String,
    pub badge_colour: Colour,
}

/// Which way a gate lets people through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateDirection {
    /// An entrance: a scan lets the holder in (or back in).
    #[default]
    In,
    /// An exit: a scan records that the holder went out.
    Out,
    /// Both: a scan lets in whoever is out and lets out whoever is in.
    Both,
}

/// A gate head office named, with its direction and the zone it leads into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gate {
    pub name: String,
    #[serde(default)]
    pub direction: GateDirection,
    /// The zone behind the gate ([`DEFAULT_ZONE`] when not set).
    #[serde(default = "default_zone")]
    pub zone: String,
}

/// The zone of gates head office did not name: the whole venue.
pub const DEFAULT_ZONE: &str = "venue";
/// The most gates a conference names.
pub const MAX_GATES: usize = 64;

fn default_zone() -> String {
    DEFAULT_ZONE.to_owned()
}

/// The conference's gates and the zones that let nobody back in once they went out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Gates {
    pub gates: Vec<Gate>,
    /// Zones where re-entry after an exit is refused (allowed everywhere else).
    pub no_reentry: Vec<String>,
}

/// Something the check-in card shows after a successful scan (the name always shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    Company,
    SeatType,
    AttendeeType,
    /// The add-ons the person holds (workshops, reception).
    AddOns,
    HandOuts,
    /// The registration's note, in red.
    Note,
    /// Hidden unless listed: the card is read by the queue too.
    Email,
    /// A field the import brought, by its name.
    Custom(String),
}

/// What the check-in card shows: for every gate, or a gate's own list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ResultCard {
    pub fields: Vec<CardField>,
    /// Gates (by name) that show their own list.
    pub gates: BTreeMap<String, Vec<CardField>>,
}

impl Default for ResultCard {
    /// What the card showed before it could be set: the seat type, add-ons, hand-outs and the
    /// note; no email.
    fn default() -> Self {
        Self {
            fields: vec![
                CardField::SeatType,
                CardField::AddOns,
                CardField::HandOuts,
                CardField::Note,
            ],
            gates: BTreeMap::new(),
        }
    }
}

impl ResultCard {
    /// The fields the card shows at `gate`.
    pub fn at(&self, gate: &str) -> &[CardField] {
        self.gates
            .iter()
            .find(|(g, _)| g.eq_ignore_ascii_case(gate.trim()))
            .map_or(&self.fields, |(_, f)| f)
    }
}

/// What every desk of the conference does until its own staff choose otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DeskDefaults {
    /// Print a badge on check-in (`if_never_printed` when not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_print: Option<AutoPrint>,
    /// The badge template for holders whose attendee type names none (the set's first when
    /// not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge_template: Option<String>,
    /// The print queue a desk uses when it has chosen none: venues often give every badge
    /// printer the same queue name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Create {
        conference: ConferenceId,
        details: ConferenceDetails,
        owner_email: String,
    },
    Update {
        details: ConferenceDetails,
    },
    Publish,
    Unpublish,
    AddSeatType(SeatType),
    UpdateSeatType {
        seat_type: SeatTypeId,
        name: String,
        description: String,
        price: Money,
    },
    ChangeQuota {
        seat_type: SeatTypeId,
        quota: u32,
    },
    SetOversellPolicy {
        seat_type: SeatTypeId,
        policy: OversellPolicy,
    },
    RemoveSeatType {
        seat_type: SeatTypeId,
    },
    DefineAttendeeType(AttendeeType),
    /// Replaces the conference's badge templates; `None` goes back to the built-in set.
    SetBadgeTemplates {
        templates: Option<TemplateSet>,
    },
    /// The template an attendee type's badges use; `None` leaves it to the desk defaults.
    SetAttendeeTypeTemplate {
        attendee_type: AttendeeTypeId,
        template: Option<String>,
    },
    SetDeskDefaults(DeskDefaults),
    /// Replaces the items the door hands out (an empty list: none).
    SetHandOuts(Vec<crate::hand_out::Item>),
    /// The conference's gates (direction, zone) and where re-entry is refused.
    SetGates(Gates),
    /// What the check-in card shows, for every gate or per gate.
    SetResultCard(ResultCard),
    /// Replaces the rooms desks scan people into (an empty list: none).
    SetRooms(Vec<crate::room::Room>),
    /// The admission rules of a seat type's tickets (empty rules: none).
    SetAdmissionRules {
        seat_type: SeatTypeId,
        rules: AdmissionRules,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "conference.created")]
    Created {
        conference: ConferenceId,
        details: ConferenceDetails,
        owner_email: String,
    },
    #[serde(rename = "conference.updated")]
    Updated {
        conference: ConferenceId,
        details: ConferenceDetails,
    },
    #[serde(rename = "conference.published")]
    Published { conference: ConferenceId },
    #[serde(rename = "conference.unpublished")]
    Unpublished { conference: ConferenceId },
    /// Carries the whole seat type (state-carrying, like the book's `SeatCreated`).
    #[serde(rename = "conference.seat_type_created")]
    SeatTypeCreated {
        conference: ConferenceId,
        seat_type: SeatType,
    },
    #[serde(rename = "conference.seat_type_updated")]
    SeatTypeUpdated {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        name: String,
        description: String,
        price: Money,
    },
    /// The absolute new quota and the one it replaced: idempotent for readers that keep the
    /// latest value, and a delta (`quota - previous`) for `SeatsAvailability`.
    #[serde(rename = "conference.seat_quota_changed")]
    SeatQuotaChanged {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        previous: u32,
        quota: u32,
    },
    #[serde(rename = "conference.seat_type_policy_changed")]
    SeatTypePolicyChanged {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        policy: OversellPolicy,
    },
    #[serde(rename = "conference.seat_type_removed")]
    SeatTypeRemoved {
        conference: ConferenceId,
        seat_type: SeatTypeId,
    },
    #[serde(rename = "conference.attendee_type_defined")]
    AttendeeTypeDefined {
        conference: ConferenceId,
        attendee_type: AttendeeType,
    },
    /// The whole set (state-carrying); `None`: the built-in set again.
    #[serde(rename = "conference.badge_templates_set")]
    BadgeTemplatesSet {
        conference: ConferenceId,
        templates: Option<CheckedTemplates>,
    },
    #[serde(rename = "conference.attendee_type_template_set")]
    AttendeeTypeTemplateSet {
        conference: ConferenceId,
        attendee_type: AttendeeTypeId,
        template: Option<String>,
    },
    #[serde(rename = "conference.desk_defaults_set")]
    DeskDefaultsSet {
        conference: ConferenceId,
        defaults: DeskDefaults,
    },
    #[serde(rename = "conference.result_card_set")]
    ResultCardSet {
        conference: ConferenceId,
        card: ResultCard,
    },
    #[serde(rename = "conference.gates_set")]
    GatesSet {
        conference: ConferenceId,
        gates: Gates,
    },
    #[serde(rename = "conference.admission_rules_set")]
    AdmissionRulesSet {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        rules: AdmissionRules,
    },
    /// The whole list of rooms (state-carrying).
    #[serde(rename = "conference.rooms_set")]
    RoomsSet {
        conference: ConferenceId,
        rooms: Vec<crate::room::Room>,
    },
    /// The whole list of hand-out items (state-carrying).
    #[serde(rename = "conference.hand_outs_set")]
    HandOutsSet {
        conference: ConferenceId,
        items: Vec<crate::hand_out::Item>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the conference already exists")]
    AlreadyExists,
    #[error("the conference does not exist")]
    NotFound,
    #[error("{field} must not be empty")]
    Required { field: &'static str },
    #[error("the slug may contain only lower-case letters, digits and '-'")]
    BadSlug,
    #[error("the conference cannot end before it starts")]
    EndsBeforeStart,
    #[error("{0:?} is not a time zone name (e.g. Europe/Zurich, or UTC)")]
    BadTimeZone(String),
    #[error("the conference sells in {conference}, a price in {price} is not allowed")]
    WrongCurrency {
        conference: Currency,
        price: Currency,
    },
    #[error("a price cannot be negative")]
    NegativePrice,
    #[error("the conference currency cannot change once seat types have prices")]
    CurrencyLocked,
    #[error("seat type {0} already exists")]
    SeatTypeExists(SeatTypeId),
    #[error("a seat type named {0:?} already exists")]
    DuplicateSeatTypeName(String),
    #[error("seat type {0} does not exist")]
    UnknownSeatType(SeatTypeId),
    #[error("seat types cannot be removed once the conference was published; set the quota to 0")]
    CannotRemoveAfterPublish,
    #[error("a conference needs at least one admission seat type before it is published")]
    NothingToSell,
    #[error("{0:?} is not a colour like #1E88E5")]
    BadColour(String),
    #[error("attendee type {0} does not exist")]
    UnknownAttendeeType(AttendeeTypeId),
    #[error("the badge templates are not valid: {0}")]
    BadTemplates(String),
    #[error("there is no badge template {0:?}")]
    UnknownTemplate(String),
    #[error("badge template {template:?} is used by {by}; choose another there first")]
    TemplateInUse { template: String, by: String },
    #[error("the check-in card is not valid: {0}")]
    BadResultCard(String),
    #[error("the gates are not valid: {0}")]
    BadGates(String),
    #[error("the admission rules are not valid: {0}")]
    BadAdmissionRules(#[from] crate::admission_rules::RulesError),
    #[error("the rooms are not valid: {0}")]
    BadRooms(String),
    #[error("the hand-outs are not valid: {0}")]
    BadHandOuts(#[from] crate::hand_out::ItemError),
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::BadHandOuts(crate::hand_out::ItemError::Text(e)) => e.code(),
            Error::BadHandOuts(_) => "conference.bad_hand_outs",
            Error::BadAdmissionRules(_) => "conference.bad_admission_rules",
            Error::BadGates(_) => "conference.bad_gates",
            Error::BadRooms(_) => "conference.bad_rooms",
            Error::BadResultCard(_) => "conference.bad_result_card",
            Error::AlreadyExists => "conference.already_exists",
            Error::NotFound => "conference.not_found",
            Error::Required { .. } => "conference.required",
            Error::BadSlug => "conference.bad_slug",
            Error::EndsBeforeStart => "conference.ends_before_start",
            Error::BadTimeZone(_) => "conference.bad_time_zone",
            Error::WrongCurrency { .. } => "conference.wrong_currency",
            Error::NegativePrice => "conference.negative_price",
            Error::CurrencyLocked => "conference.currency_locked",
            Error::SeatTypeExists(_) => "conference.seat_type_exists",
            Error::DuplicateSeatTypeName(_) => "conference.duplicate_seat_type_name",
            Error::UnknownSeatType(_) => "conference.unknown_seat_type",
            Error::CannotRemoveAfterPublish => "conference.cannot_remove_after_publish",
            Error::NothingToSell => "conference.nothing_to_sell",
            Error::BadColour(_) => "conference.bad_colour",
            Error::UnknownAttendeeType(_) => "conference.unknown_attendee_type",
            Error::BadTemplates(_) => "conference.bad_badge_templates",
            Error::UnknownTemplate(_) => "conference.unknown_badge_template",
            Error::TemplateInUse { .. } => "conference.badge_template_in_use",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Conference {
    pub id: Option<ConferenceId>,
    pub details: Option<ConferenceDetails>,
    pub owner_email: String,
    pub published: bool,
    pub ever_published: bool,
    pub seat_types: BTreeMap<SeatTypeId, SeatType>,
    pub attendee_types: BTreeMap<AttendeeTypeId, AttendeeType>,
    /// Head office's badge templates; `None`: the built-in set.
    pub badge_templates: Option<CheckedTemplates>,
    /// The template each attendee type's badges use, where head office chose one.
    pub attendee_type_templates: BTreeMap<AttendeeTypeId, String>,
    pub desk_defaults: DeskDefaults,
    /// What the door hands out, and to whom.
    pub hand_outs: Vec<crate::hand_out::Item>,
    /// The admission rules of the seat types that have any.
    pub admission_rules: BTreeMap<SeatTypeId, AdmissionRules>,
    pub gates: Gates,
    pub result_card: ResultCard,
    /// The rooms desks scan people into.
    pub rooms: Vec<crate::room::Room>,
}

impl Conference {
    pub fn seat_type(&self, id: SeatTypeId) -> Option<&SeatType> {
        self.seat_types.get(&id)
    }

    pub fn currency(&self) -> Option<Currency> {
        self.details.as_ref().map(|d| d.currency)
    }

    /// The most seats one online order may hold.
    pub fn max_seats_per_order(&self) -> u32 {
        self.details
            .as_ref()
            .and_then(|d| d.max_seats_per_order)
            .unwrap_or(DEFAULT_MAX_SEATS_PER_ORDER)
    }

    /// Every seat type with its name and price: what an order is priced from.
    pub fn price_list(&self) -> Vec<crate::order::SeatPrice> {
        self.seat_types
            .values()
            .map(|s| crate::order::SeatPrice {
                seat_type: s.id,
                name: s.name.clone(),
                unit_price: s.price,
            })
            .collect()
    }

    /// The badge templates desks print with: head office's, or the built-in set.
    pub fn templates(&self) -> &TemplateSet {
        match &self.badge_templates {
            Some(t) => t.set(),
            None => TemplateSet::built_in(),
        }
    }

    /// The template for a holder of these attendee types: the first of them that names one,
    /// else the desk defaults' template, else the set's first. Always one of [`Self::templates`].
    pub fn template_for<'a>(
        &'a self,
        attendee_types: impl IntoIterator<Item = &'a AttendeeTypeId>,
    ) -> &'a str {
        let set = self.templates();
        attendee_types
            .into_iter()
            .find_map(|a| self.attendee_type_templates.get(a))
            .or(self.desk_defaults.badge_template.as_ref())
            .map(String::as_str)
            .filter(|id| set.get(id).is_ok())
            .unwrap_or(&set.first().id)
    }

    /// The hand-out items a holder of `seat_types` (the ticket's own and the person's
    /// add-ons) and `attendee_types` gets, in the conference's order.
    pub fn hand_outs_for<'a>(
        &'a self,
        seat_types: &'a [SeatTypeId],
        attendee_types: &'a [AttendeeTypeId],
    ) -> impl Iterator<Item = &'a crate::hand_out::Item> + 'a {
        self.hand_outs
            .iter()
            .filter(move |i| i.is_for(seat_types, attendee_types))
    }

    /// The admission rules of a seat type's tickets (none: empty rules).
    pub fn rules_for(&self, seat_type: SeatTypeId) -> &AdmissionRules {
        static NONE: AdmissionRules = AdmissionRules {
            valid_on: Vec::new(),
            earliest_entry: None,
            id_check: false,
            minor: false,
        };
        self.admission_rules.get(&seat_type).unwrap_or(&NONE)
    }

    /// The gate called `name` as head office set it up; an entrance to the whole venue when it
    /// did not.
    pub fn gate(&self, name: &str) -> Gate {
        self.gates
            .gates
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
            .cloned()
            .unwrap_or_else(|| Gate {
                name: name.trim().to_owned(),
                direction: GateDirection::In,
                zone: default_zone(),
            })
    }

    /// Whether someone who went out may come back in through a gate of `zone`.
    pub fn reentry(&self, zone: &str) -> bool {
        !self
            .gates
            .no_reentry
            .iter()
            .any(|z| z.eq_ignore_ascii_case(zone))
    }

    /// Where the conference's days and times are local (UTC when it says nothing).
    pub fn zone(&self) -> chrono_tz::Tz {
        crate::admission_rules::zone(self.details.as_ref().and_then(|d| d.time_zone.as_deref()))
    }

    /// The room called `name` (as people type it), if the conference has one: a desk whose
    /// gate names a room scans people into it.
    pub fn room(&self, name: &str) -> Option<&crate::room::Room> {
        self.rooms
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name.trim()))
    }

    pub fn hand_out(&self, id: &str) -> Option<&crate::hand_out::Item> {
        self.hand_outs.iter().find(|i| i.id == id)
    }

    /// Who uses template `id` (an attendee type, the desk defaults), for a refusal.
    fn template_user(&self, id: &str, set: &TemplateSet) -> Option<String> {
        if set.get(id).is_ok() {
            return None;
        }
        if self.desk_defaults.badge_template.as_deref() == Some(id) {
            return Some("the desk defaults".into());
        }
        self.attendee_type_templates
            .iter()
            .find(|(_, t)| t.as_str() == id)
            .map(|(a, _)| format!("attendee type {a}"))
    }

    fn check_template(&self, id: &Option<String>) -> Result<(), Error> {
        match id {
            Some(id) if self.templates().get(id).is_err() => {
                Err(Error::UnknownTemplate(id.chars().take(64).collect()))
            }
            _ => Ok(()),
        }
    }

    fn existing(&self) -> Result<(ConferenceId, &ConferenceDetails), Error> {
        match (self.id, &self.details) {
            (Some(id), Some(details)) => Ok((id, details)),
            _ => Err(Error::NotFound),
        }
    }

    fn check_seat_type_text(
        &self,
        own: Option<SeatTypeId>,
        name: &str,
        price: Money,
    ) -> Result<(), Error> {
        let (_, details) = self.existing()?;
        crate::text::check("the seat type name", name, crate::text::limit::TITLE, false)?;
        if name.trim().is_empty() {
            return Err(Error::Required {
                field: "the seat type name",
            });
        }
        if price.currency != details.currency {
            return Err(Error::WrongCurrency {
                conference: details.currency,
                price: price.currency,
            });
        }
        if price.amount_minor < 0 {
            return Err(Error::NegativePrice);
        }
        let clash = self
            .seat_types
            .values()
            .any(|s| Some(s.id) != own && s.name.trim().eq_ignore_ascii_case(name.trim()));
        if clash {
            return Err(Error::DuplicateSeatTypeName(name.trim().to_owned()));
        }
        Ok(())
    }
}

/// Gates with names and zones as people type them (trimmed, within their limits), each name
/// once, at most [`MAX_GATES`].
fn checked_gates(gates: &Gates) -> Result<Gates, Error> {
    use crate::text::{check, limit};
    if gates.gates.len() > MAX_GATES {
        return Err(Error::BadGates(format!("more than {MAX_GATES} gates")));
    }
    let mut out = Gates::default();
    for g in &gates.gates {
        check("the gate", &g.name, limit::LABEL, false)?;
        check("the zone", &g.zone, limit::LABEL, false)?;
        let name = g.name.trim();
        let zone = g.zone.trim();
        if name.is_empty() {
            return Err(Error::BadGates("a gate needs a name".into()));
        }
        if out.gates.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
            return Err(Error::BadGates(format!("gate {name:?} is named twice")));
        }
        out.gates.push(Gate {
            name: name.to_owned(),
            direction: g.direction,
            zone: if zone.is_empty() {
                default_zone()
            } else {
                zone.to_owned()
            },
        });
    }
    if gates.no_reentry.len() > MAX_GATES {
        return Err(Error::BadGates(format!("more than {MAX_GATES} zones")));
    }
    for z in &gates.no_reentry {
        check("the zone", z, limit::LABEL, false)?;
        let z = z.trim();
        if !z.is_empty() && !out.no_reentry.iter().any(|o| o.eq_ignore_ascii_case(z)) {
            out.no_reentry.push(z.to_owned());
        }
    }
    Ok(out)
}

impl Conference {
    /// Rooms as people type them (each checked, each name once and never a gate's), naming
    /// seat types the conference has, at most [`crate::room::MAX_ROOMS`].
    fn checked_rooms(&self, rooms: &[crate::room::Room]) -> Result<Vec<crate::room::Room>, Error> {
        use crate::room::MAX_ROOMS;
        if rooms.len() > MAX_ROOMS {
            return Err(Error::BadRooms(format!("more than {MAX_ROOMS} rooms")));
        }
        let mut out: Vec<crate::room::Room> = Vec::with_capacity(rooms.len());
        for r in rooms {
            let r = r.checked().map_err(|e| match e {
                crate::room::RoomError::Text(t) => Error::Text(t),
                other => Error::BadRooms(other.to_string()),
            })?;
            if out.iter().any(|o| o.name.eq_ignore_ascii_case(&r.name)) {
                return Err(Error::BadRooms(format!("room {:?} is named twice", r.name)));
            }
            if self
                .gates
                .gates
                .iter()
                .any(|g| g.name.eq_ignore_ascii_case(&r.name))
            {
                return Err(Error::BadRooms(format!(
                    "{:?} is the name of a gate; a desk is set to one or the other",
                    r.name
                )));
            }
            if let Some(s) = r
                .seat_types
                .iter()
                .find(|s| !self.seat_types.contains_key(s))
            {
                return Err(Error::UnknownSeatType(*s));
            }
            out.push(r);
        }
        Ok(out)
    }
}

fn check_details(details: &ConferenceDetails) -> Result<(), Error> {
    use crate::text::{check, limit};
    check("the conference name", &details.name, limit::TITLE, false)?;
    check("the slug", &details.slug, limit::SLUG, false)?;
    check(
        "the description",
        &details.description,
        limit::DESCRIPTION,
        true,
    )?;
    check("the venue", &details.venue, limit::TITLE, false)?;
    if let Some(owner) = &details.owner_name {
        check("the owner's name", owner, limit::TITLE, false)?;
    }
    if details.name.trim().is_empty() {
        return Err(Error::Required {
            field: "the conference name",
        });
    }
    if details.slug.is_empty() {
        return Err(Error::Required { field: "the slug" });
    }
    if !details
        .slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(Error::BadSlug);
    }
    if details.ends_on < details.starts_on {
        return Err(Error::EndsBeforeStart);
    }
    // The shape first (a clear refusal for `Zurich`), then the database: a name it does not
    // have would judge every admission rule in UTC.
    if let Some(zone) = &details.time_zone
        && (!is_time_zone_name(zone) || zone.parse::<chrono_tz::Tz>().is_err())
    {
        return Err(Error::BadTimeZone(zone.clone()));
    }
    Ok(())
}

/// The shape of an IANA time zone name: `UTC`, or `Area/Location[/More]` in letters, digits,
/// `_`, `-` and `+` (`Europe/Zurich`, `America/Argentina/Buenos_Aires`, `Etc/GMT+1`). Whether
/// the zone exists is for whoever converts times with it; this keeps typos like `Zurich` or
/// `Europe Zurich` out.
fn is_time_zone_name(zone: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    };
    zone == "UTC"
        || (zone.len() <= 64
            && zone.contains('/')
            && zone.split('/').all(part)
            && zone.starts_with(|c: char| c.is_ascii_uppercase()))
}

impl Aggregate for Conference {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Create {
                conference,
                details,
                owner_email,
            } => {
                if self.id.is_some() {
                    return Err(Error::AlreadyExists);
                }
                check_details(details)?;
                Ok(vec![Event::Created {
                    conference: *conference,
                    details: details.clone(),
                    owner_email: owner_email.trim().to_owned(),
                }])
            }
            Command::Update { details } => {
                let (id, current) = self.existing()?;
                check_details(details)?;
                if details.currency != current.currency && !self.seat_types.is_empty() {
                    return Err(Error::CurrencyLocked);
                }
                if details == current {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Updated {
                    conference: id,
                    details: details.clone(),
                }])
            }
            Command::Publish => {
                let (id, _) = self.existing()?;
                if self.published {
                    return Ok(vec![]);
                }
                if !self
                    .seat_types
                    .values()
                    .any(|s| s.kind == SeatKind::Admission)
                {
                    return Err(Error::NothingToSell);
                }
                Ok(vec![Event::Published { conference: id }])
            }
            Command::Unpublish => {
                let (id, _) = self.existing()?;
                if !self.published {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Unpublished { conference: id }])
            }
            Command::AddSeatType(seat_type) => {
                let (id, _) = self.existing()?;
                if self.seat_types.contains_key(&seat_type.id) {
                    return Err(Error::SeatTypeExists(seat_type.id));
                }
                self.check_seat_type_text(None, &seat_type.name, seat_type.price)?;
                crate::text::check(
                    "the description",
                    &seat_type.description,
                    crate::text::limit::DESCRIPTION,
                    true,
                )?;
                let mut seat_type = seat_type.clone();
                seat_type.name = seat_type.name.trim().to_owned();
                Ok(vec![Event::SeatTypeCreated {
                    conference: id,
                    seat_type,
                }])
            }
            Command::UpdateSeatType {
                seat_type,
                name,
                description,
                price,
            } => {
                let (id, _) = self.existing()?;
                let current = self
                    .seat_types
                    .get(seat_type)
                    .ok_or(Error::UnknownSeatType(*seat_type))?;
                self.check_seat_type_text(Some(*seat_type), name, *price)?;
                crate::text::check(
                    "the description",
                    description,
                    crate::text::limit::DESCRIPTION,
                    true,
                )?;
                if current.name == name.trim()
                    && current.description == *description
                    && current.price == *price
                {
                    return Ok(vec![]);
                }
                Ok(vec![Event::SeatTypeUpdated {
                    conference: id,
                    seat_type: *seat_type,
                    name: name.trim().to_owned(),
                    description: description.clone(),
                    price: *price,
                }])
            }
            Command::ChangeQuota { seat_type, quota } => {
                let (id, _) = self.existing()?;
                let current = self
                    .seat_types
                    .get(seat_type)
                    .ok_or(Error::UnknownSeatType(*seat_type))?;
                if current.quota == *quota {
                    return Ok(vec![]);
                }
                Ok(vec![Event::SeatQuotaChanged {
                    conference: id,
                    seat_type: *seat_type,
                    previous: current.quota,
                    quota: *quota,
                }])
            }
            Command::SetOversellPolicy { seat_type, policy } => {
                let (id, _) = self.existing()?;
                let current = self
                    .seat_types
                    .get(seat_type)
                    .ok_or(Error::UnknownSeatType(*seat_type))?;
                if current.policy == *policy {
                    return Ok(vec![]);
                }
                Ok(vec![Event::SeatTypePolicyChanged {
                    conference: id,
                    seat_type: *seat_type,
                    policy: *policy,
                }])
            }
            Command::RemoveSeatType { seat_type } => {
                let (id, _) = self.existing()?;
                if !self.seat_types.contains_key(seat_type) {
                    return Err(Error::UnknownSeatType(*seat_type));
                }
                if self.ever_published {
                    return Err(Error::CannotRemoveAfterPublish);
                }
                Ok(vec![Event::SeatTypeRemoved {
                    conference: id,
                    seat_type: *seat_type,
                }])
            }
            Command::DefineAttendeeType(attendee_type) => {
                let (id, _) = self.existing()?;
                crate::text::check(
                    "the attendee type name",
                    &attendee_type.name,
                    crate::text::limit::NAME,
                    false,
                )?;
                if attendee_type.name.trim().is_empty() {
                    return Err(Error::Required {
                        field: "the attendee type name",
                    });
                }
                if self.attendee_types.get(&attendee_type.id) == Some(attendee_type) {
                    return Ok(vec![]);
                }
                Ok(vec![Event::AttendeeTypeDefined {
                    conference: id,
                    attendee_type: attendee_type.clone(),
                }])
            }
            Command::SetBadgeTemplates { templates } => {
                let (id, _) = self.existing()?;
                let templates = templates
                    .clone()
                    .map(CheckedTemplates::new)
                    .transpose()
                    .map_err(|e| Error::BadTemplates(e.to_string()))?;
                let next = match &templates {
                    Some(t) => t.set(),
                    None => TemplateSet::built_in(),
                };
                let used = self
                    .attendee_type_templates
                    .values()
                    .chain(self.desk_defaults.badge_template.as_ref());
                for template in used {
                    if let Some(by) = self.template_user(template, next) {
                        return Err(Error::TemplateInUse {
                            template: template.clone(),
                            by,
                        });
                    }
                }
                if templates == self.badge_templates {
                    return Ok(vec![]);
                }
                Ok(vec![Event::BadgeTemplatesSet {
                    conference: id,
                    templates,
                }])
            }
            Command::SetAttendeeTypeTemplate {
                attendee_type,
                template,
            } => {
                let (id, _) = self.existing()?;
                if !self.attendee_types.contains_key(attendee_type) {
                    return Err(Error::UnknownAttendeeType(attendee_type.clone()));
                }
                self.check_template(template)?;
                if self.attendee_type_templates.get(attendee_type) == template.as_ref() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::AttendeeTypeTemplateSet {
                    conference: id,
                    attendee_type: attendee_type.clone(),
                    template: template.clone(),
                }])
            }
            Command::SetDeskDefaults(defaults) => {
                let (id, _) = self.existing()?;
                self.check_template(&defaults.badge_template)?;
                let mut defaults = defaults.clone();
                defaults.printer = defaults
                    .printer
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty());
                if let Some(printer) = &defaults.printer {
                    crate::text::check("the printer", printer, crate::text::limit::NAME, false)?;
                }
                if defaults == self.desk_defaults {
                    return Ok(vec![]);
                }
                Ok(vec![Event::DeskDefaultsSet {
                    conference: id,
                    defaults,
                }])
            }
            Command::SetResultCard(card) => {
                let (id, _) = self.existing()?;
                let mut checked = ResultCard {
                    fields: vec![],
                    gates: BTreeMap::new(),
                };
                let check_fields = |fields: &[CardField]| -> Result<Vec<CardField>, Error> {
                    if fields.len() > 16 {
                        return Err(Error::BadResultCard("more than 16 fields".into()));
                    }
                    let mut out: Vec<CardField> = Vec::new();
                    for f in fields {
                        if let CardField::Custom(name) = f {
                            crate::text::check(
                                "a custom field's name",
                                name,
                                crate::text::limit::LABEL,
                                false,
                            )?;
                            if name.trim().is_empty() {
                                return Err(Error::BadResultCard(
                                    "a custom field needs its name".into(),
                                ));
                            }
                        }
                        let f = match f {
                            CardField::Custom(n) => CardField::Custom(n.trim().to_owned()),
                            other => other.clone(),
                        };
                        if !out.contains(&f) {
                            out.push(f);
                        }
                    }
                    Ok(out)
                };
                checked.fields = check_fields(&card.fields)?;
                if card.gates.len() > MAX_GATES {
                    return Err(Error::BadResultCard(format!("more than {MAX_GATES} gates")));
                }
                for (gate, fields) in &card.gates {
                    crate::text::check("the gate", gate, crate::text::limit::LABEL, false)?;
                    checked
                        .gates
                        .insert(gate.trim().to_owned(), check_fields(fields)?);
                }
                if checked == self.result_card {
                    return Ok(vec![]);
                }
                Ok(vec![Event::ResultCardSet {
                    conference: id,
                    card: checked,
                }])
            }
            Command::SetRooms(rooms) => {
                let (id, _) = self.existing()?;
                let rooms = self.checked_rooms(rooms)?;
                if rooms == self.rooms {
                    return Ok(vec![]);
                }
                Ok(vec![Event::RoomsSet {
                    conference: id,
                    rooms,
                }])
            }
            Command::SetGates(gates) => {
                let (id, _) = self.existing()?;
                let gates = checked_gates(gates)?;
                if let Some(g) = gates.gates.iter().find(|g| self.room(&g.name).is_some()) {
                    return Err(Error::BadGates(format!(
                        "{:?} is the name of a room; a desk is set to one or the other",
                        g.name
                    )));
                }
                if gates == self.gates {
                    return Ok(vec![]);
                }
                Ok(vec![Event::GatesSet {
                    conference: id,
                    gates,
                }])
            }
            Command::SetAdmissionRules { seat_type, rules } => {
                let (id, details) = self.existing()?;
                if !self.seat_types.contains_key(seat_type) {
                    return Err(Error::UnknownSeatType(*seat_type));
                }
                let rules = rules.checked(details.starts_on, details.ends_on)?;
                if &rules == self.rules_for(*seat_type) {
                    return Ok(vec![]);
                }
                Ok(vec![Event::AdmissionRulesSet {
                    conference: id,
                    seat_type: *seat_type,
                    rules,
                }])
            }
            Command::SetHandOuts(items) => {
                let (id, _) = self.existing()?;
                use crate::hand_out::{ItemError, MAX_ITEMS};
                if items.len() > MAX_ITEMS {
                    return Err(ItemError::TooMany.into());
                }
                let mut checked: Vec<crate::hand_out::Item> = Vec::with_capacity(items.len());
                for item in items {
                    let item = item.checked()?;
                    if checked.iter().any(|c| c.id == item.id) {
                        return Err(ItemError::Duplicate(item.id).into());
                    }
                    if let Some(s) = item
                        .seat_types
                        .iter()
                        .find(|s| !self.seat_types.contains_key(s))
                    {
                        return Err(Error::UnknownSeatType(*s));
                    }
                    if let Some(a) = item
                        .attendee_types
                        .iter()
                        .find(|a| !self.attendee_types.contains_key(a))
                    {
                        return Err(Error::UnknownAttendeeType(a.clone()));
                    }
                    checked.push(item);
                }
                if checked == self.hand_outs {
                    return Ok(vec![]);
                }
                Ok(vec![Event::HandOutsSet {
                    conference: id,
                    items: checked,
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Created {
                conference,
                details,
                owner_email,
            } => {
                self.id = Some(*conference);
                self.details = Some(details.clone());
                self.owner_email = owner_email.clone();
            }
            Event::Updated { details, .. } => self.details = Some(details.clone()),
            Event::Published { .. } => {
                self.published = true;
                self.ever_published = true;
            }
            Event::Unpublished { .. } => self.published = false,
            Event::SeatTypeCreated { seat_type, .. } => {
                self.seat_types.insert(seat_type.id, seat_type.clone());
            }
            Event::SeatTypeUpdated {
                seat_type,
                name,
                description,
                price,
                ..
            } => {
                if let Some(s) = self.seat_types.get_mut(seat_type) {
                    s.name = name.clone();
                    s.description = description.clone();
                    s.price = *price;
                }
            }
            Event::SeatQuotaChanged {
                seat_type, quota, ..
            } => {
                if let Some(s) = self.seat_types.get_mut(seat_type) {
                    s.quota = *quota;
                }
            }
            Event::SeatTypePolicyChanged {
                seat_type, policy, ..
            } => {
                if let Some(s) = self.seat_types.get_mut(seat_type) {
                    s.policy = *policy;
                }
            }
            Event::SeatTypeRemoved { seat_type, .. } => {
                self.seat_types.remove(seat_type);
            }
            Event::AttendeeTypeDefined { attendee_type, .. } => {
                self.attendee_types
                    .insert(attendee_type.id.clone(), attendee_type.clone());
            }
            Event::BadgeTemplatesSet { templates, .. } => {
                self.badge_templates.clone_from(templates);
            }
            Event::AttendeeTypeTemplateSet {
                attendee_type,
                template,
                ..
            } => match template {
                Some(t) => {
                    self.attendee_type_templates
                        .insert(attendee_type.clone(), t.clone());
                }
                None => {
                    self.attendee_type_templates.remove(attendee_type);
                }
            },
            Event::DeskDefaultsSet { defaults, .. } => self.desk_defaults = defaults.clone(),
            Event::HandOutsSet { items, .. } => self.hand_outs = items.clone(),
            Event::GatesSet { gates, .. } => self.gates = gates.clone(),
            Event::RoomsSet { rooms, .. } => self.rooms = rooms.clone(),
            Event::ResultCardSet { card, .. } => self.result_card = card.clone(),
            Event::AdmissionRulesSet {
                seat_type, rules, ..
            } => {
                if rules.is_empty() {
                    self.admission_rules.remove(seat_type);
                } else {
                    self.admission_rules.insert(*seat_type, rules.clone());
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests;
