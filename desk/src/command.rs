//! The one command path: every desk command that records something decides and appends
//! through [`execute`].

use rusqlite::Connection;

use onsite_shared::aggregate::{DomainError, Timestamp};
use onsite_shared::event::{Event, StreamId};

use crate::error::DeskError;
use crate::log;
use crate::projection::{self, Projected};
use crate::store::Identity;

/// Why a command recorded nothing: the domain said no (callers that show some refusals as
/// outcomes match on it), or the desk failed.
#[derive(Debug)]
pub(crate) enum Refused<E> {
    Domain(E),
    Desk(DeskError),
}

impl<E> From<DeskError> for Refused<E> {
    fn from(e: DeskError) -> Self {
        Refused::Desk(e)
    }
}

impl<E> From<rusqlite::Error> for Refused<E> {
    fn from(e: rusqlite::Error) -> Self {
        Refused::Desk(e.into())
    }
}

impl<E: DomainError> From<Refused<E>> for DeskError {
    fn from(r: Refused<E>) -> Self {
        match r {
            Refused::Domain(e) => DeskError::refused(&e),
            Refused::Desk(e) => e,
        }
    }
}

/// Decides a command on `stream` as this desk sees it (the server's events, then the desk's
/// own it has not sent back: [`projection::view`]), appends what was decided to the outbox
/// (the next `client_seq`s, the desk's identity, `now`), and writes the stream's projection
/// rows from the state it decided on, without reading the stream again. All of it in the
/// caller's transaction. `command` sees the state first, for commands that depend on it.
/// Returns the state after the events.
pub(crate) fn execute<A>(
    tx: &Connection,
    id: Identity,
    stream: &StreamId,
    now: Timestamp,
    command: impl FnOnce(&A) -> Result<A::Command, DeskError>,
) -> Result<A, Refused<A::Error>>
where
    A: Projected,
    Event: From<A::Event>,
{
    let (state, _) = projection::view::<A>(tx, stream)?;
    let command = command(&state)?;
    let events = state.decide(&command).map_err(Refused::Domain)?;
    for e in &events {
        log::append(tx, id, &Event::from(e.clone()), now)?;
    }
    let state = events.iter().fold(state, A::evolve);
    if !events.is_empty() {
        // What was just appended is the desk's own and not sent back: pending.
        A::write(tx, stream, &state, true)?;
    }
    Ok(state)
}
