//! Given/when/then for aggregates, compiled for tests and the `testing` feature.

use std::fmt;

use chrono::TimeZone;

use crate::aggregate::{Aggregate, Timestamp, replay};

/// A fixed instant for tests: 2026-11-23 08:55 UTC, doors open at nine.
pub fn at(hour: u32, minute: u32) -> Timestamp {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 23, hour, minute, 0)
        .single()
        .expect("a valid test time")
}

pub trait AggregateTestExt: Aggregate + Sized {
    fn given(history: impl IntoIterator<Item = Self::Event>) -> Given<Self> {
        let history: Vec<Self::Event> = history.into_iter().collect();
        Given {
            state: replay(&history),
        }
    }
}

impl<A: Aggregate> AggregateTestExt for A {}

pub struct Given<A> {
    state: A,
}

pub struct Then<A: Aggregate> {
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Given<A> {
    #[expect(
        clippy::needless_pass_by_value,
        reason = "tests read better building the command inline"
    )]
    pub fn when(self, command: A::Command) -> Then<A> {
        Then {
            result: self.state.decide(&command),
        }
    }

    pub fn state(&self) -> &A {
        &self.state
    }
}

impl<A: Aggregate> Then<A>
where
    A::Event: PartialEq + fmt::Debug,
    A::Error: PartialEq + fmt::Debug,
{
    #[track_caller]
    pub fn then(self, expected: impl Into<Vec<A::Event>>) {
        assert_eq!(self.result, Ok(expected.into()));
    }

    #[track_caller]
    pub fn then_nothing(self) {
        assert_eq!(self.result, Ok(vec![]));
    }

    #[track_caller]
    pub fn then_err(self, expected: A::Error) {
        assert_eq!(self.result, Err(expected));
    }

    /// The decision as it came, for tests that match an error by its kind.
    pub fn events_or_error(self) -> Result<Vec<A::Event>, A::Error> {
        self.result
    }

    /// The events, for tests that look at them in parts.
    #[track_caller]
    pub fn events(self) -> Vec<A::Event> {
        match self.result {
            Ok(events) => events,
            Err(e) => panic!("expected events, got the error {e:?}"),
        }
    }
}
