//! The contract every aggregate implements. An aggregate is a consistency boundary: `decide`
//! checks business rules against state rebuilt from history, `evolve` folds one past event into
//! that state. Both are pure: no I/O, no clock, no randomness. Ids and times arrive in commands.

/// Time as data. Only the shells read a clock; here a timestamp is just a value.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

pub trait Aggregate: Default {
    type Command;
    type Event;
    type Error: std::error::Error;

    /// Which events does `command` produce? A rejection is a domain error, never a technical one.
    /// An empty vector means "nothing to do" (the command is already satisfied: idempotent).
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state. Total: it accepts every event `decide` ever produced,
    /// including ones recorded by another device or an older version of the app.
    fn evolve(self, event: &Self::Event) -> Self;
}

/// Rebuilds state from history.
pub fn replay<'a, A>(history: impl IntoIterator<Item = &'a A::Event>) -> A
where
    A: Aggregate,
    A::Event: 'a,
{
    history.into_iter().fold(A::default(), A::evolve)
}

/// Decides and evolves in one step: the state after `command`, plus the events it produced.
pub fn execute<A: Aggregate>(
    state: A,
    command: &A::Command,
) -> Result<(A, Vec<A::Event>), A::Error> {
    let events = state.decide(command)?;
    let state = events.iter().fold(state, A::evolve);
    Ok((state, events))
}

/// Every domain rejection has a stable machine-readable code for the UI and the wire.
/// Codes are never reused for another meaning.
pub trait DomainError: std::error::Error {
    fn code(&self) -> &'static str;
}
