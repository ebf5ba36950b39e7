//! Admission rules a seat type carries, judged offline with the scan time as data: on which
//! days of the conference the ticket admits (a day pass), from what local time (doors open at
//! 8:00), and what staff must look at (an ID check, a minor).
//!
//! Days and times are the conference's: local to its time zone, daylight saving included (the
//! IANA database is compiled in, so desks and the server judge alike without a network).

use chrono::{NaiveDate, NaiveTime};
/// A time zone of the IANA database (re-exported: callers name zones without another
/// dependency).
pub use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::aggregate::Timestamp;

/// The most days one seat type's rules may list.
pub const MAX_DAYS: usize = 31;

/// What a seat type's tickets must satisfy at the door, and what the door must check.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AdmissionRules {
    /// The days (local) the ticket admits on; none: every day.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(type = "Array<string>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, format = Date))]
    pub valid_on: Vec<NaiveDate>,
    /// No entry before this local time (each day).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "08:00:00"))]
    pub earliest_entry: Option<NaiveTime>,
    /// Staff check the holder's ID before letting them in.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub id_check: bool,
    /// The holder is a minor (wristband, no alcohol).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub minor: bool,
}

/// Why a scan is outside a ticket's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleBreach {
    /// Scanned on a day the ticket does not admit on.
    WrongDay {
        #[ts(type = "string")]
        day: NaiveDate,
        #[ts(type = "Array<string>")]
        valid_on: Vec<NaiveDate>,
    },
    /// Scanned before the earliest entry time of the day.
    TooEarly {
        #[ts(type = "string")]
        local: NaiveTime,
        #[ts(type = "string")]
        opens: NaiveTime,
    },
}

impl std::fmt::Display for RuleBreach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleBreach::WrongDay { day, valid_on } => {
                let days: Vec<String> = valid_on
                    .iter()
                    .map(|d| d.format("%a %-d %b").to_string())
                    .collect();
                write!(
                    f,
                    "valid on {}, not on {}",
                    days.join(", "),
                    day.format("%a %-d %b")
                )
            }
            RuleBreach::TooEarly { local, opens } => write!(
                f,
                "entry from {}, it is {}",
                opens.format("%H:%M"),
                local.format("%H:%M")
            ),
        }
    }
}

/// Why a set of rules was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("more than {MAX_DAYS} days")]
    TooManyDays,
    #[error("{0} is not a day of the conference")]
    NotAConferenceDay(NaiveDate),
}

impl AdmissionRules {
    /// Whether there is anything to judge or show.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The rules with their days sorted and each once, checked against the conference's days.
    pub fn checked(&self, starts_on: NaiveDate, ends_on: NaiveDate) -> Result<Self, RulesError> {
        let mut valid_on = self.valid_on.clone();
        valid_on.sort();
        valid_on.dedup();
        if valid_on.len() > MAX_DAYS {
            return Err(RulesError::TooManyDays);
        }
        if let Some(d) = valid_on.iter().find(|d| **d < starts_on || **d > ends_on) {
            return Err(RulesError::NotAConferenceDay(*d));
        }
        Ok(Self {
            valid_on,
            ..self.clone()
        })
    }

    /// Judges a scan at `at` (UTC) where the conference is (`zone`).
    pub fn judge(&self, at: Timestamp, zone: Tz) -> Result<(), RuleBreach> {
        let local = at.with_timezone(&zone);
        let day = local.date_naive();
        if !self.valid_on.is_empty() && !self.valid_on.contains(&day) {
            return Err(RuleBreach::WrongDay {
                day,
                valid_on: self.valid_on.clone(),
            });
        }
        if let Some(opens) = self.earliest_entry
            && local.time() < opens
        {
            return Err(RuleBreach::TooEarly {
                local: local.time(),
                opens,
            });
        }
        Ok(())
    }
}

/// The zone a conference's time zone name stands for: UTC when none is set or the name is
/// not in the database (names are checked when they are set).
pub fn zone(name: Option<&str>) -> Tz {
    name.and_then(|n| n.parse::<Tz>().ok()).unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn friday_pass() -> AdmissionRules {
        AdmissionRules {
            valid_on: vec![day(27)],
            ..AdmissionRules::default()
        }
    }

    #[test]
    fn a_friday_pass_admits_on_friday_and_is_outside_its_rules_on_saturday() {
        let zurich: Tz = "Europe/Zurich".parse().unwrap();
        assert_eq!(friday_pass().judge(utc(2026, 11, 27, 8, 0), zurich), Ok(()));
        assert_eq!(
            friday_pass().judge(utc(2026, 11, 28, 8, 0), zurich),
            Err(RuleBreach::WrongDay {
                day: day(28),
                valid_on: vec![day(27)]
            })
        );
    }

    /// The day is the conference's, not UTC's: 23:30 UTC on Thursday is already Friday in
    /// Zurich, and 05:00 UTC on Saturday is still Friday in Los Angeles.
    #[test]
    fn the_day_is_local_to_the_conference() {
        let zurich: Tz = "Europe/Zurich".parse().unwrap();
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            friday_pass().judge(utc(2026, 11, 26, 23, 30), zurich),
            Ok(())
        );
        assert!(
            friday_pass()
                .judge(utc(2026, 11, 26, 23, 30), Tz::UTC)
                .is_err()
        );
        assert_eq!(friday_pass().judge(utc(2026, 11, 28, 5, 0), la), Ok(()));
        assert!(
            friday_pass()
                .judge(utc(2026, 11, 28, 5, 0), zurich)
                .is_err()
        );
    }

    /// Doors at 08:00 local: on the day Europe moves to summer time, 08:00 is 06:00 UTC, the
    /// day before it was 07:00 UTC.
    #[test]
    fn the_earliest_entry_follows_daylight_saving_time() {
        let zurich: Tz = "Europe/Zurich".parse().unwrap();
        let doors = AdmissionRules {
            earliest_entry: NaiveTime::from_hms_opt(8, 0, 0),
            ..AdmissionRules::default()
        };
        // Saturday 28 March 2026, winter time (UTC+1).
        assert!(doors.judge(utc(2026, 3, 28, 6, 30), zurich).is_err());
        assert_eq!(doors.judge(utc(2026, 3, 28, 7, 0), zurich), Ok(()));
        // Sunday 29 March 2026, summer time from 01:00 UTC (UTC+2).
        assert_eq!(doors.judge(utc(2026, 3, 29, 6, 0), zurich), Ok(()));
        assert_eq!(
            doors.judge(utc(2026, 3, 29, 5, 59), zurich),
            Err(RuleBreach::TooEarly {
                local: NaiveTime::from_hms_opt(7, 59, 0).unwrap(),
                opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            })
        );
    }

    #[test]
    fn rules_are_checked_against_the_conference_days_and_sorted() {
        let rules = AdmissionRules {
            valid_on: vec![day(25), day(24), day(25)],
            ..AdmissionRules::default()
        };
        assert_eq!(
            rules.checked(day(23), day(25)).map(|r| r.valid_on),
            Ok(vec![day(24), day(25)])
        );
        assert_eq!(
            rules.checked(day(23), day(24)),
            Err(RulesError::NotAConferenceDay(day(25)))
        );
        let many = AdmissionRules {
            valid_on: (1..=30)
                .map(day)
                .chain([
                    day(30) + chrono::Days::new(1),
                    day(30) + chrono::Days::new(2),
                ])
                .collect(),
            ..AdmissionRules::default()
        };
        assert_eq!(
            many.checked(day(1), day(30) + chrono::Days::new(5)),
            Err(RulesError::TooManyDays)
        );
    }

    #[test]
    fn an_unknown_or_missing_zone_is_utc() {
        assert_eq!(zone(None), Tz::UTC);
        assert_eq!(zone(Some("Mars/Olympus_Mons")), Tz::UTC);
        assert_eq!(zone(Some("Europe/Zurich")), Tz::Europe__Zurich);
    }
}
