//! Every stable error code the system answers with, outside the domain's own
//! ([`crate::DomainError::code`], next to each aggregate's rules) and the push outcomes'
//! reasons ([`crate::protocol::reason`]). A code is a contract with the desk window, head
//! office's scripts and older desks: it is never reused for another meaning.

// The sync protocol.
pub const GAP: &str = "sync.gap";
pub const UNSUPPORTED_PROTOCOL: &str = "sync.unsupported_protocol";
pub const TOO_MANY_ITEMS: &str = "sync.too_many_items";
pub const BAD_CURSOR: &str = "sync.bad_cursor";
/// The pull cursor belongs to another database (a restore, a new file): start again.
pub const CURSOR_RESET: &str = "sync.cursor_reset";
/// The server holds another event at a `client_seq` this desk pushes: a copy of this desk's
/// database (or an older backup of it) pushed first. The desk re-enrols with a fresh code and
/// pushes everything again under a new client id; nothing is lost.
pub const CLIENT_DIVERGED: &str = "sync.client_diverged";
/// A pushed event names another desk than the one the token belongs to.
pub const WRONG_DESK: &str = "sync.wrong_desk";

// The venue relay.
/// A version-1 push a relay stored and cannot decide yet (the uplink is down, or it has not
/// been forwarded): ask again after `Retry-After`; the answer is then the decision.
pub const RELAY_HELD: &str = "relay.held";
/// A relay was asked for something only the upstream server does (enrolment, leases).
pub const RELAY_UPSTREAM_ONLY: &str = "relay.upstream_only";
/// This relay was revoked by head office: it takes nothing from desks (503; a desk goes on to
/// its next server).
pub const RELAY_REVOKED: &str = "relay.revoked";
/// A relay pushed for a desk that is not of its conference (or unknown, or revoked).
pub const RELAY_NOT_ITS_DESK: &str = "relay.not_its_desk";

// Requests and credentials.
pub const UNAUTHENTICATED: &str = "auth.unauthenticated";
pub const REVOKED: &str = "auth.revoked";
pub const FORBIDDEN: &str = "auth.forbidden";
pub const BAD_ENROLMENT_CODE: &str = "auth.bad_code";
pub const MALFORMED: &str = "request.malformed";
pub const TOO_LARGE: &str = "request.too_large";
/// No route has this path.
pub const NO_SUCH_ROUTE: &str = "request.not_found";
/// The path exists, not with this method (the `Allow` header lists those it has).
pub const METHOD_NOT_ALLOWED: &str = "request.method_not_allowed";
/// Too many requests from one address (or for one account): try again after `Retry-After`.
pub const RATE_LIMITED: &str = "request.rate_limited";
/// The server handles as many requests as it can at once: try again after `Retry-After`.
pub const OVERLOADED: &str = "server.overloaded";

// The server.
pub const STORAGE: &str = "server.storage";
pub const SERVER_CURSOR: &str = "server.cursor";
pub const CONFERENCE_NOT_FOUND: &str = "conference.not_found";
pub const CONFERENCE_NOT_PUBLISHED: &str = "conference.not_published";
/// Another conference on this server has the slug already.
pub const CONFERENCE_SLUG_TAKEN: &str = "conference.slug_taken";
/// A quota below the seats sold or held, without the confirmation that overbooks.
pub const QUOTA_BELOW_TAKEN: &str = "seats.quota_below_taken";
pub const BAD_ATTENDEE_TYPE: &str = "conference.bad_attendee_type";
pub const BAD_COLOUR: &str = "conference.bad_colour";
pub const DEVICE_NOT_FOUND: &str = "device.not_found";
pub const DEVICE_NAME_REQUIRED: &str = "device.name_required";
pub const ORDER_NOT_FOUND: &str = "order.not_found";
pub const ORDER_NOT_RESERVED: &str = "order.not_reserved";
pub const ORDER_EXPIRED: &str = "order.expired";
pub const CONFLICT_NOT_FOUND: &str = "conflict.not_found";
pub const CONFLICT_NOT_APPLICABLE: &str = "conflict.not_applicable";
pub const CANNOT_HONOUR: &str = "walk_in.cannot_honour";
pub const IMPORT_INVALID: &str = "import.invalid";
/// A buyer said an order was paid: only head office or a signed provider webhook may.
pub const PAYMENT_NOT_TRUSTED: &str = "payment.not_trusted";
pub const WEBHOOK_DISABLED: &str = "payment.webhook_disabled";
pub const WEBHOOK_SIGNATURE: &str = "payment.bad_signature";
pub const WEBHOOK_REPLAYED: &str = "payment.replayed";

// The desk.
pub const DESK_NOT_ENROLLED: &str = "desk.not_enrolled";
pub const DESK_ALREADY_ENROLLED: &str = "desk.already_enrolled";
pub const DESK_BAD_INPUT: &str = "desk.bad_input";
pub const DESK_NO_SUCH_TICKET: &str = "desk.no_such_ticket";
pub const DESK_NO_SUCH_CONFLICT: &str = "desk.no_such_conflict";
pub const BADGE_LAYOUT_WARNINGS: &str = "badge.layout_warnings";
/// A badge preview asked for a template the conference's set does not have.
pub const BADGE_TEMPLATE_NOT_FOUND: &str = "badge.template_not_found";
/// A badge could not be drawn (its ticket code does not fit a QR code).
pub const BADGE_CANNOT_RENDER: &str = "badge.cannot_render";
pub const DESK_DATABASE_TOO_NEW: &str = "desk.database_too_new";
pub const DESK_DATABASE: &str = "desk.database";
pub const DESK_CORRUPT: &str = "desk.corrupt";
pub const SYNC_NOT_ENROLLED: &str = "sync.not_enrolled";
pub const SYNC_UNREACHABLE: &str = "sync.unreachable";
/// A server answered with an error body the desk could not read.
pub const HTTP_ERROR: &str = "http.error";
pub const PRINTING_SPOOLER: &str = "printing.spooler";
