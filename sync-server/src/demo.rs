//! A realistic demo conference: three admission seat types, two workshops and a reception as
//! add-ons with small quotas, seven attendee types with badge colours, and a few thousand
//! attendees with generated names (accents and all: badges must cope), companies, emails and
//! attendee types. Deterministic for a seed, so demos and benchmarks are repeatable.

use chrono::NaiveDate;
use onsite_shared::conference::{OversellPolicy, SeatKind};
use onsite_shared::ids::{AttendeeTypeId, ConferenceId};
use onsite_shared::money::Currency;
use onsite_shared::seat_assignments::Attendee;

use crate::admin::NewAttendeeType;
use onsite_shared::conference::ConferenceDetails;

use crate::admin::{NewConference, NewSeatType};
use crate::import::{ImportConference, ImportFile, ImportRegistration, ImportSeat};

/// The demo conference's id, fixed so that scripts can name it.
pub const DEMO_CONFERENCE: ConferenceId =
    ConferenceId::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Łucja",
    "José",
    "Zoë",
    "Søren",
    "Ngozi",
    "Hiroshi",
    "Amélie",
    "Dmitri",
    "Priya",
    "Mateo",
    "Aoife",
    "Björn",
    "Chiara",
    "Tomás",
    "Fatima",
    "Jörg",
    "Mei",
    "Oluwaseun",
    "Ines",
    "Kalle",
    "Renée",
    "Ștefan",
    "Yusuf",
    "Élodie",
    "Marek",
    "Sigrún",
    "Nuno",
    "Hana",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Ñuñez",
    "Kowalska",
    "Müller",
    "Østergaard",
    "Okafor",
    "Tanaka",
    "Dubois",
    "Ivanov",
    "Sharma",
    "García",
    "Ní Bhriain",
    "Lindqvist",
    "Rossi",
    "Ó Súilleabháin",
    "Haddad",
    "Schröder",
    "Chen",
    "Adeyemi",
    "Gonçalves",
    "Virtanen",
    "Lefèvre",
    "Popescu",
    "Yılmaz",
    "Château-Laurent",
    "Dvořák",
    "Jónsdóttir",
    "Brandão",
    "Nováková",
];
const COMPANIES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Northwind Traders",
    "Adventure Works",
    "Łódź Systems",
    "Zürich Insurance Labs",
    "Tailspin Toys",
    "Wide World Importers",
    "Proseware",
    "Litware",
    "Coho Winery",
    "Fourth Coffee",
    "Margie's Travel",
    "Lucerne Publishing",
    "",
    "",
];

/// A small xorshift generator: deterministic demo data needs no more.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'ł' | 'Ł' => 'l',
                'ø' | 'Ø' => 'o',
                'ß' => 's',
                c => c,
            };
            let base = unicode_base(c);
            base.is_ascii_alphanumeric()
                .then(|| base.to_ascii_lowercase())
        })
        .collect()
}

/// The letter under common Latin diacritics (enough for the demo's names).
fn unicode_base(c: char) -> char {
    const MAP: &[(&str, char)] = &[
        ("àáâãäåāă", 'a'),
        ("ÀÁÂÃÄÅĀĂ", 'A'),
        ("çćč", 'c'),
        ("ÇĆČ", 'C'),
        ("èéêëēě", 'e'),
        ("ÈÉÊËĒĚ", 'E'),
        ("ìíîïī", 'i'),
        ("ÌÍÎÏĪ", 'I'),
        ("ñń", 'n'),
        ("ÑŃ", 'N'),
        ("òóôõöō", 'o'),
        ("ÒÓÔÕÖŌ", 'O'),
        ("ùúûüūů", 'u'),
        ("ÙÚÛÜŪŮ", 'U'),
        ("ýÿ", 'y'),
        ("șş", 's'),
        ("ȘŞŠ", 'S'),
        ("ıį", 'i'),
        ("řŕ", 'r'),
        ("ž", 'z'),
        ("Ž", 'Z'),
        ("ð", 'd'),
    ];
    MAP.iter()
        .find(|(set, _)| set.contains(c))
        .map_or(c, |(_, b)| *b)
}

/// The demo data: `attendees` registrations of one or two seats.
pub fn demo_file(attendees: usize, seed: u64) -> ImportFile {
    let mut rng = Rng(seed.max(1));
    let seat = |name: &str, price: i64, quota: u32, kind: SeatKind| NewSeatType {
        id: None,
        name: name.into(),
        description: String::new(),
        price_minor: price,
        quota,
        kind,
        policy: OversellPolicy::Reject,
    };
    let quota = u32::try_from(attendees).unwrap_or(u32::MAX);
    let mut seat_types = vec![
        seat(
            "Conference pass",
            59_900,
            quota / 10 * 8 + 40,
            SeatKind::Admission,
        ),
        seat("Student pass", 9_900, quota / 10 + 20, SeatKind::Admission),
        seat("Day pass", 29_900, quota / 10 + 20, SeatKind::Admission),
        seat("Event sourcing workshop", 25_000, 30, SeatKind::AddOn),
        seat("Rust at the edge workshop", 25_000, 25, SeatKind::AddOn),
        seat("Speakers' reception", 0, 80, SeatKind::AddOn),
    ];
    seat_types.push(NewSeatType {
        id: None,
        name: "Standing room".into(),
        description: "Sold at the door when the hall is full".into(),
        price_minor: 19_900,
        quota: 0,
        kind: SeatKind::Admission,
        policy: OversellPolicy::Overbook,
    });
    let attendee_types = [
        ("attendee", "Attendee", "#1E88E5"),
        ("speaker", "Speaker", "#E53935"),
        ("volunteer", "Volunteer", "#43A047"),
        ("sponsor", "Sponsor", "#8E24AA"),
        ("staff", "Staff", "#212121"),
        ("press", "Press", "#FB8C00"),
        ("student", "Student", "#00ACC1"),
    ]
    .into_iter()
    .map(|(id, name, colour)| NewAttendeeType {
        id: id.into(),
        name: name.into(),
        badge_colour: colour.into(),
    })
    .collect();

    let mut registrations = Vec::with_capacity(attendees);
    let mut workshop_left = [28u32, 23];
    for i in 0..attendees {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let company = rng.pick(COMPANIES);
        let roll = rng.next() % 100;
        let (pass, mut types) = match roll {
            0..=9 => ("Student pass", vec!["student"]),
            10..=17 => ("Day pass", vec!["attendee"]),
            18..=21 => ("Conference pass", vec!["speaker"]),
            22..=24 => ("Conference pass", vec!["volunteer"]),
            25..=27 => ("Conference pass", vec!["sponsor"]),
            28 => ("Conference pass", vec!["press"]),
            29 => ("Conference pass", vec!["staff"]),
            _ => ("Conference pass", vec!["attendee"]),
        };
        if types == ["speaker"] && rng.chance(20) {
            types.push("volunteer");
        }
        let email = format!(
            "{}.{}{}@{}.example",
            ascii_slug(first),
            ascii_slug(last),
            i,
            if company.is_empty() {
                "mail".to_owned()
            } else {
                ascii_slug(company)
            }
        );
        let attendee = Attendee {
            first_name: first.into(),
            last_name: last.into(),
            email,
            company: company.into(),
            attendee_types: types
                .iter()
                .filter_map(|t| AttendeeTypeId::parse(t).ok())
                .collect(),
            ..Default::default()
        };
        let mut seats = vec![ImportSeat {
            line: None,
            seat_type: pass.into(),
            ticket_code: None,
            attendee: attendee.clone(),
        }];
        for (w, name) in ["Event sourcing workshop", "Rust at the edge workshop"]
            .iter()
            .enumerate()
        {
            if workshop_left[w] > 0 && rng.chance(2) {
                workshop_left[w] -= 1;
                seats.push(ImportSeat {
                    line: None,
                    seat_type: (*name).into(),
                    ticket_code: None,
                    attendee: attendee.clone(),
                });
            }
        }
        if types.contains(&"speaker") {
            seats.push(ImportSeat {
                line: None,
                seat_type: "Speakers' reception".into(),
                ticket_code: None,
                attendee: attendee.clone(),
            });
        }
        registrations.push(ImportRegistration {
            source_id: format!("DEMO-{i:05}"),
            registrant: None,
            seats,
        });
    }

    ImportFile {
        source: "demo".into(),
        conference: ImportConference {
            new: NewConference {
                id: Some(DEMO_CONFERENCE),
                details: ConferenceDetails {
                    name: "CQRS Journey Summit 2026".into(),
                    slug: "cqrs-journey-summit-2026".into(),
                    description:
                        "Two days on CQRS, event sourcing and occasionally connected systems".into(),
                    venue: "Kongresshaus Zürich".into(),
                    starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
                    ends_on: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default(),
                    currency: Currency::EUR,
                    max_seats_per_order: None,
                    time_zone: None,
                    owner_name: None,
                },
                owner_email: "events@contoso.example".into(),
            },
            published: true,
        },
        seat_types,
        attendee_types,
        registrations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_deterministic_and_valid() {
        let a = demo_file(200, 42);
        let b = demo_file(200, 42);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(a.registrations.len(), 200);
        for r in &a.registrations {
            for s in &r.seats {
                s.attendee.validate().unwrap();
            }
        }
        assert!(
            a.registrations.iter().any(|r| r.seats.len() > 1),
            "some hold add-ons"
        );
    }

    #[test]
    fn emails_are_plain_ascii() {
        assert_eq!(ascii_slug("Łucja Ñuñez"), "lucjanunez");
        assert_eq!(ascii_slug("Østergaard"), "ostergaard");
    }
}
