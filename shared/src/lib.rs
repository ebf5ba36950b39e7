//! The pure Onsite domain, shared by the desk app and the sync server.
//!
//! Nothing here does I/O, reads a clock or draws a random number: ids and times arrive as data.
//! `cargo check -p onsite-shared` on its own proves it (the crate's dependencies cannot do any
//! of that), and `cargo tree -p onsite-shared` shows no database, runtime, HTTP or UI crate.
//!
//! # Layout
//! - [`aggregate`]: the `decide`/`evolve` contract and `replay`.
//! - Aggregates, one module per domain noun: [`conference`], [`seat_availability`], [`order`],
//!   [`seat_assignments`], [`check_in`], [`hand_out`], [`room`], [`badge`], [`walk_in`], [`conflict`].
//! - [`admission_rules`]: day passes, earliest entry, ID and minor flags, judged in the
//!   conference's time zone.
//! - [`badge_template`]: the badge layout format (data, checked) a conference carries.
//! - [`registration`]: the registration process manager (a pure state machine).
//! - [`scan`]: a scanned code read back through the keyboard layouts scanners type on.
//! - [`reconciliation`]: the server's pure re-decision of every event a desk pushes, and of
//!   walk-in sales against the authoritative seats.
//! - [`event`]: the envelope, the closed set of events, stream ids, upcasters.
//! - [`protocol`]: the sync protocol (version 1) between desks and the server;
//!   [`error_code`]: every stable error code outside the domain's own.
//! - [`ids`], [`money`]: value types; [`text`]: folding for accent- and case-insensitive search.
//! - `testing` (tests and the `testing` feature): given/when/then for aggregates.

pub mod admission_rules;
pub mod aggregate;
pub mod badge;
pub mod badge_template;
pub mod check_in;
pub mod conference;
pub mod conflict;
pub mod error_code;
pub mod event;
pub mod hand_out;
pub mod ids;
pub mod money;
pub mod order;
pub mod protocol;
pub mod readiness;
pub mod reconciliation;
pub mod registration;
pub mod room;
pub mod scan;
pub mod seat_assignments;
pub mod seat_availability;
pub mod text;
pub mod walk_in;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use aggregate::{Aggregate, DomainError, Timestamp, execute, replay};
pub use event::{Envelope, Event};
