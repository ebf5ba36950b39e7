//! The desk core: everything a door desk does, with the network cable pulled.
//!
//! A desk keeps two logs in one SQLite file (WAL, `synchronous=FULL`):
//! - the **outbox**: the desk's own events, appended with a gapless `client_seq` in the same
//!   transaction as the projections they change. Acknowledged items stay as history; the
//!   pending ones are what a push sends.
//! - the **remote log**: the authoritative events pulled from the server, unique by event id,
//!   with the pull cursor, stored in the same transaction as the projections they change.
//!
//! Projections are the authoritative state with the desk's pending events replayed on top
//! (a rebase, per stream), so a compensation from the server shows as soon as it is pulled.
//! They can always be rebuilt from the two logs, and rebuilding never prints anything.
//!
//! Commands ([`Desk::check_in`], [`Desk::sell`], …) decide with the pure deciders of
//! `onsite-shared` against that view, all through one path (`command::execute`); queries read
//! the projections. [`sync::SyncClient`] moves
//! the logs over HTTP. Nothing here knows about windows: the Tauri app calls this crate.

mod attendee;
pub use attendee::{BadgeName, Correction};
mod check_in;
mod command;
mod conflict;
pub mod discovery;
mod error;
mod hand_out;
pub mod http;
mod log;
pub mod printing;
mod projection;
pub mod readiness;
mod room;
mod roster;
mod schema;
mod status;
mod store;
pub mod sync;
mod walk_in;

pub use check_in::{
    CardLine, CheckInOutcome, CheckInRequest, DoorNumbers, MAX_PARTY, Party, PartyCheckInRequest,
    ZoneCount,
};
pub use conflict::{ConflictAction, ConflictItem};
pub use error::DeskError;
pub use hand_out::{HandOutOutcome, HandOutRequest};
pub use printing::{
    AutoPrinted, BadgePreview, BadgeSvg, JobState, PrintJob, PrintPass, PrintRequest,
    PrintSettings, Trigger, print_pending, run_printing,
};
pub use room::RoomNumbers;
pub use roster::{
    AdmissionView, AttendeeTypeView, ConferenceView, GivenView, HandOutView, RosterEntry,
    SEARCH_LIMIT,
};
pub use status::{LocalStatus, OutboxItem};
pub use store::{Clock, Desk, Enrolment, MAX_RELAYS, server_address, wall_clock};
pub use walk_in::{
    LeaseView, SaleReceipt, SaleRequest, SaleTicketRequest, SaleView, SeatAvailability,
};

impl Desk {
    /// Opens (or creates) the desk database at `path`: the file and its logs (migrated
    /// forward), the search index's queue flushed before every commit, print jobs a crash left
    /// half sent marked failed, and the projections rebuilt when their layout changed.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self, DeskError> {
        Desk::open_with_clock(path, store::wall_clock())
    }

    /// [`Desk::open`] on another clock than the wall clock (the simulator's).
    pub fn open_with_clock(
        path: impl AsRef<std::path::Path>,
        clock: store::Clock,
    ) -> Result<Self, DeskError> {
        let (desk, rebuild) = Desk::open_file(path.as_ref(), projection::flush_search, clock)?;
        desk.write(|tx| printing::recover(tx))?;
        if rebuild {
            desk.rebuild_projections()?;
        }
        Ok(desk)
    }
}
