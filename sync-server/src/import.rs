//! Importing a conference and its confirmed registrations from another system, as events.
//!
//! Two formats (documented with examples in the README):
//! - **JSON**: the conference, its seat types and attendee types, and its registrations.
//! - **CSV**: registrations only, one row per seat, into a conference that already exists;
//!   rows with the same `source_id` form one order.
//!
//! Idempotent by the source's ids: the conference by id (or slug), a seat type by name, an
//! attendee type by id, a registration by `(source, source_id)` — importing the same file twice
//! changes nothing. Imported registrations were sold elsewhere, so they are facts: they take
//! their seats even beyond the quota, recorded as an explicit overbooking with the reason.

use std::collections::{BTreeMap, HashSet};

use onsite_shared::Timestamp;
use onsite_shared::conference::Conference;
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{AttendeeTypeId, ConferenceId, OrderId, SeatTypeId, TicketCode, TicketId};
use onsite_shared::order::{self, Order, OrderOrigin, OrderStatus, Payment, Registrant};
use onsite_shared::seat_assignments::{self, Attendee, Seat, SeatAssignments};
use onsite_shared::seat_availability::{self, SeatQuantity, SeatsAvailability};
use serde::{Deserialize, Serialize};

use crate::admin::{self, NewAttendeeType, NewConference, NewSeatType};
use crate::event_log;
use crate::params;
use crate::projection;
use crate::recorder::{Recorder, Rejected};
use crate::storage::{SqlValue, Store, StoreError, Tx};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportFile {
    /// Names the system the data comes from; with `source_id` it identifies a registration.
    #[serde(default = "default_source")]
    pub source: String,
    pub conference: ImportConference,
    #[serde(default)]
    pub seat_types: Vec<NewSeatType>,
    #[serde(default)]
    pub attendee_types: Vec<NewAttendeeType>,
    #[serde(default)]
    pub registrations: Vec<ImportRegistration>,
}

fn default_source() -> String {
    "import".into()
}

/// The conference to create (or find), and whether to publish it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportConference {
    #[serde(flatten)]
    pub new: NewConference,
    #[serde(default = "yes")]
    pub published: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportRegistration {
    pub source_id: String,
    #[serde(default)]
    pub registrant: Option<Registrant>,
    pub seats: Vec<ImportSeat>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportSeat {
    /// The seat type's name as in `seat_types`.
    pub seat_type: String,
    /// The code on the source's ticket, kept so printed tickets still scan; made up if absent.
    #[serde(default)]
    pub ticket_code: Option<String>,
    pub attendee: Attendee,
    /// The CSV line it came from, for what an import refuses.
    #[serde(skip)]
    pub line: Option<usize>,
}

/// One CSV row: a seat of a registration.
#[derive(Debug, Clone, Deserialize)]
pub struct CsvRow {
    pub source_id: String,
    pub seat_type: String,
    #[serde(default)]
    pub ticket_code: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub company: String,
    /// Attendee type ids separated by `;` (e.g. `speaker;volunteer`).
    #[serde(default)]
    pub attendee_types: String,
    #[serde(default)]
    pub preferred_name: String,
    #[serde(default)]
    pub pronouns: String,
    /// A note for the door, shown in red on the check-in card.
    #[serde(default)]
    pub note: String,
    /// Every other column, by its header: custom fields the card may show.
    #[serde(skip)]
    pub custom: BTreeMap<String, String>,
}

/// The columns a registrations CSV names; any other column is a custom field.
const KNOWN_COLUMNS: &[&str] = &[
    "source_id",
    "seat_type",
    "ticket_code",
    "first_name",
    "last_name",
    "email",
    "company",
    "attendee_types",
    "preferred_name",
    "pronouns",
    "note",
];

/// A registrations CSV (a header line, then one row per seat) as registrations; a row that
/// does not parse is named by its line.
pub fn parse_csv(text: &str) -> Result<Vec<ImportRegistration>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("line 1: {e}"))?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 2))?;
        let mut row: CsvRow = record
            .deserialize(Some(&headers))
            .map_err(|e| format!("line {}: {e}", i + 2))?;
        for (name, value) in headers.iter().zip(record.iter()) {
            if !KNOWN_COLUMNS.contains(&name.trim()) && !value.trim().is_empty() {
                row.custom
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        rows.push(row);
    }
    registrations_from_csv(rows)
}

/// Groups CSV rows into registrations (rows with one `source_id` are one order).
pub fn registrations_from_csv(rows: Vec<CsvRow>) -> Result<Vec<ImportRegistration>, String> {
    let mut by_source: BTreeMap<String, ImportRegistration> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let mut types = Vec::new();
        for t in row
            .attendee_types
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            types.push(AttendeeTypeId::parse(t).map_err(|e| format!("row {}: {e}", i + 2))?);
        }
        let seat = ImportSeat {
            line: Some(i + 2),
            seat_type: row.seat_type,
            ticket_code: row.ticket_code.filter(|c| !c.trim().is_empty()),
            attendee: Attendee {
                first_name: row.first_name,
                last_name: row.last_name,
                email: row.email,
                company: row.company,
                attendee_types: types,
                preferred_name: Some(row.preferred_name).filter(|t| !t.trim().is_empty()),
                pronouns: Some(row.pronouns).filter(|t| !t.trim().is_empty()),
                note: Some(row.note).filter(|t| !t.trim().is_empty()),
                custom: row.custom,
            },
        };
        let entry = by_source.entry(row.source_id.clone()).or_insert_with(|| {
            order.push(row.source_id.clone());
            ImportRegistration {
                source_id: row.source_id.clone(),
                registrant: None,
                seats: vec![],
            }
        });
        entry.seats.push(seat);
    }
    Ok(order
        .into_iter()
        .filter_map(|s| by_source.remove(&s))
        .collect())
}

fn invalid(message: impl Into<String>) -> Rejected {
    Rejected::Domain {
        code: error_code::IMPORT_INVALID,
        message: message.into(),
    }
}

/// Creates or completes the conference, its seat types and attendee types. Returns the
/// conference id and the seat types by name.
pub fn ensure_conference(
    rec: &mut Recorder<'_>,
    file: &ImportFile,
) -> Result<BTreeMap<String, SeatTypeId>, Rejected> {
    let stream = StreamId::conference(rec.conference);
    let (existing, _) = rec.load::<Conference>(&stream)?;
    if existing.id.is_none() {
        admin::create_conference(rec, &file.conference.new)?;
    }
    let (mut conference, _) = rec.load::<Conference>(&stream)?;
    for s in &file.seat_types {
        if conference
            .seat_types
            .values()
            .any(|t| t.name.eq_ignore_ascii_case(s.name.trim()))
        {
            continue;
        }
        admin::add_seat_type(rec, s)?;
    }
    for a in &file.attendee_types {
        admin::define_attendee_type(rec, a)?;
    }
    if file.conference.published {
        admin::publish(rec, true)?;
    }
    (conference, _) = rec.load::<Conference>(&stream)?;
    Ok(seat_types_by_name(&conference))
}

pub fn seat_types_by_name(conference: &Conference) -> BTreeMap<String, SeatTypeId> {
    conference
        .seat_types
        .values()
        .map(|s| (s.name.to_lowercase(), s.id))
        .collect()
}

fn random_u64() -> Result<u64, StoreError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    Ok(u64::from_le_bytes(b))
}

/// Checks every registration of an import before any of it is written, so that a file is
/// imported whole or not at all: what would refuse one halfway is found first — a registration
/// without seats or with a source id used twice, a seat type the conference does not have, an
/// attendee or registrant that does not validate, a ticket code that does not parse, is used
/// twice in the file, or is taken in the conference. Registrations imported before (by their
/// source id in this conference) are skipped as the import will skip them. Returns every
/// problem found, each naming its registration (and its row, for a CSV's `row_of`).
pub fn check_registrations(
    tx: &mut dyn Tx,
    conference: &Conference,
    source: &str,
    registrations: &[ImportRegistration],
) -> Result<Vec<String>, StoreError> {
    let Some(id) = conference.id else {
        return Ok(vec!["the conference does not exist".to_owned()]);
    };
    let seat_types = seat_types_by_name(conference);
    let imported: std::collections::HashSet<String> = tx
        .query(
            "SELECT source_id FROM imports WHERE conference = $1 AND source = $2",
            params![id.to_string(), source],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let mut problems = Vec::new();
    let mut sources = std::collections::HashSet::new();
    let mut codes: BTreeMap<TicketCode, &str> = BTreeMap::new();
    for r in registrations {
        let mut problem =
            |what: String| problems.push(format!("registration {}: {what}", r.source_id));
        if !sources.insert(r.source_id.as_str()) {
            problem("its source id is used twice in the file".into());
            continue;
        }
        if imported.contains(&r.source_id) {
            continue;
        }
        if r.source_id.trim().is_empty() {
            problem("it has no source id".into());
        }
        if r.seats.is_empty() {
            problem("it has no seats".into());
        }
        if let Some(registrant) = &r.registrant
            && let Err(e) = registrant.validate()
        {
            problem(format!("the registrant: {e}"));
        }
        for s in &r.seats {
            let at = s.line.map(|l| format!("line {l}: ")).unwrap_or_default();
            if !seat_types.contains_key(&s.seat_type.trim().to_lowercase()) {
                problem(format!("{at}no seat type named {:?}", s.seat_type));
            }
            if let Err(e) = s.attendee.validate() {
                problem(format!("{at}{e}"));
            }
            if let Some(raw) = &s.ticket_code {
                match TicketCode::parse(raw) {
                    Ok(code) => {
                        if let Some(other) = codes.insert(code.clone(), &r.source_id) {
                            problem(format!(
                                "{at}ticket code {code} is also registration {other}'s"
                            ));
                        }
                    }
                    Err(e) => problem(format!("{at}{e}")),
                }
            }
        }
    }
    // Codes the conference has already, in lists of a few hundred.
    let wanted: Vec<&TicketCode> = codes.keys().collect();
    for chunk in wanted.chunks(500) {
        let list = crate::storage::in_list(2, chunk.len());
        let mut values = vec![crate::storage::SqlValue::from(id.to_string())];
        values.extend(
            chunk
                .iter()
                .map(|c| crate::storage::SqlValue::from(c.as_str())),
        );
        for row in tx.query(
            &format!("SELECT code FROM tickets WHERE conference = $1 AND code IN ({list})"),
            &values,
        )? {
            let code = row.text(0)?;
            let owner = TicketCode::parse(&code)
                .ok()
                .and_then(|c| codes.get(&c).copied());
            problems.push(format!(
                "registration {}: ticket code {code} is already in use",
                owner.unwrap_or("?")
            ));
        }
    }
    Ok(problems)
}

/// Imports registrations as confirmed orders with assigned seats, skipping the ones imported
/// before (by their source id in this conference), in the transaction `tx`: decided
/// ([`decide_batch`]), then written ([`write_decided`]). Returns how many were new.
pub fn import_batch(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    now: Timestamp,
    source: &str,
    registrations: &[ImportRegistration],
) -> Result<usize, Rejected> {
    let decided = decide_batch(tx, conference, now, source, registrations, None)?;
    write_decided(tx, conference, source, decided, None)
}

/// The seats stream as a decided batch left it, for the next batch to decide on before the
/// first is written; and the ticket codes it drew, which the next may not draw again.
#[derive(Clone)]
pub struct Carry {
    seats: SeatsAvailability,
    version: u64,
    codes: HashSet<TicketCode>,
}

/// A batch of registrations decided but not written: its events, the rows they project to,
/// and the `imports` rows.
pub struct Decided {
    appends: Vec<event_log::Append>,
    rows: Vec<projection::Imported>,
    imports: Vec<(String, Option<OrderId>)>,
    /// The seats stream's version the batch decided on: still its head when it is written,
    /// or the batch is decided again.
    seats_before: u64,
    carry: Carry,
}

/// Decides a batch without writing anything: each registration's order and tickets are new
/// streams read from nowhere ([`Recorder::fresh`]), the conference and its seats are read
/// once (or the seats taken from `carry`, what the batch before decided), and every event is
/// kept ([`Recorder::deferred`]) for [`write_decided`], which writes them many per statement
/// and the read models whole ([`projection::imported`]) instead of event by event. Runs on a
/// read transaction as well as on a write one.
pub fn decide_batch(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    now: Timestamp,
    source: &str,
    registrations: &[ImportRegistration],
    carry: Option<&Carry>,
) -> Result<Decided, Rejected> {
    let done = imported_before(tx, conference, source, registrations)?;
    let todo: Vec<&ImportRegistration> = registrations
        .iter()
        .filter(|r| !done.contains(&r.source_id))
        .collect();
    let avoid = carry.map(|c| c.codes.clone()).unwrap_or_default();
    let codes = ticket_codes(tx, conference, &todo, &avoid)?;
    let mut rec = Recorder::new(tx, conference, now).deferred().unprojected();
    let (conf, _) = rec.load::<Conference>(&StreamId::conference(conference))?;
    if conf.id.is_none() {
        return Err(Rejected::Domain {
            code: error_code::CONFERENCE_NOT_FOUND,
            message: format!("no conference {conference}"),
        });
    }
    let seats_stream = StreamId::seats(conference);
    let (seats, seats_before) = match carry {
        Some(c) => (c.seats.clone(), c.version),
        None => rec.load::<SeatsAvailability>(&seats_stream)?,
    };
    rec.seed(&seats_stream, seats, seats_before);
    let seat_types = seat_types_by_name(&conf);
    let prices = conf.price_list();
    let mut rows = Vec::with_capacity(todo.len());
    let mut drawn: HashSet<TicketCode> = HashSet::new();
    for (r, codes) in todo.iter().zip(codes) {
        drawn.extend(codes.iter().cloned());
        rows.push(import_registration(
            &mut rec,
            source,
            r,
            &seat_types,
            &prices,
            codes,
        )?);
    }
    let (seats, _) = rec.load::<SeatsAvailability>(&seats_stream)?;
    let version = rec.version(&seats_stream).unwrap_or(seats_before);
    let imports = todo
        .iter()
        .zip(&rows)
        .map(|(r, row)| (r.source_id.clone(), row.order.id))
        .collect();
    Ok(Decided {
        appends: rec.into_appends(),
        rows,
        imports,
        seats_before,
        carry: Carry {
            seats,
            version,
            codes: drawn,
        },
    })
}

/// Writes a [`decide_batch`]'s batch in `tx`: its events, read models and `imports` rows; with
/// `record`, the import run too (the last batch's). Refused with [`StoreError::Conflict`],
/// writing nothing, when the seats stream moved since the batch was decided (another writer
/// reserved seats meanwhile): the batch must be decided again (the transaction is marked as
/// having lost a race, so a backend that retries does).
pub fn write_decided(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    source: &str,
    decided: Decided,
    record: Option<(&ImportRun, Timestamp, usize, usize)>,
) -> Result<usize, Rejected> {
    let new = decided.rows.len();
    if new > 0 {
        let head = event_log::stream_version(tx, &StreamId::seats(conference))?;
        if head != decided.seats_before {
            // On PostgreSQL another writer may commit between a decision and this check even
            // in one transaction: the backend then decides the whole job again.
            tx.lost_race();
            return Err(StoreError::Conflict(format!(
                "the seats moved from version {} to {head} while the import decided a batch",
                decided.seats_before
            ))
            .into());
        }
        event_log::insert_events(tx, conference, decided.appends)?;
        projection::imported(tx, conference, &decided.rows)?;
        let c = conference.to_string();
        let per_statement = tx.dialect().rows_per_insert();
        projection::insert_rows(
            tx,
            "INSERT INTO imports (conference, source, source_id, order_id) VALUES",
            decided
                .imports
                .into_iter()
                .map(|(source_id, order)| {
                    vec![
                        SqlValue::from(c.as_str()),
                        SqlValue::from(source),
                        SqlValue::from(source_id),
                        SqlValue::from(order.map(|o| o.to_string())),
                    ]
                })
                .collect(),
            per_statement,
        )?;
    }
    if let Some((run, now, total, before)) = record
        && before + new > 0
    {
        record_run(tx, run, now, total, before + new)?;
    }
    Ok(new)
}

/// The source ids of `registrations` imported into the conference before.
fn imported_before(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    source: &str,
    registrations: &[ImportRegistration],
) -> Result<HashSet<String>, StoreError> {
    let mut done = HashSet::new();
    for chunk in registrations.chunks(500) {
        let list = crate::storage::in_list(3, chunk.len());
        let mut values = vec![
            SqlValue::from(conference.to_string()),
            SqlValue::from(source),
        ];
        values.extend(chunk.iter().map(|r| SqlValue::from(r.source_id.as_str())));
        for row in tx.query(
            &format!(
                "SELECT source_id FROM imports WHERE conference = $1 AND source = $2 \
                 AND source_id IN ({list})"
            ),
            &values,
        )? {
            done.insert(row.text(0)?);
        }
    }
    Ok(done)
}

/// Each registration's ticket codes, seat by seat: the source's own (checked before the import
/// by [`check_registrations`]), or new ones that no ticket of the conference, and no other
/// ticket of this batch, has. Codes are 40 random bits: among 50,000 tickets two draws meet
/// about once in a thousand imports, so a draw that meets one is drawn again.
fn ticket_codes(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    registrations: &[&ImportRegistration],
    avoid: &HashSet<TicketCode>,
) -> Result<Vec<Vec<TicketCode>>, Rejected> {
    let mut codes = Vec::with_capacity(registrations.len());
    let mut drawn: Vec<(usize, usize)> = Vec::new();
    for (i, r) in registrations.iter().enumerate() {
        let mut mine = Vec::with_capacity(r.seats.len());
        for (j, s) in r.seats.iter().enumerate() {
            mine.push(match &s.ticket_code {
                Some(c) => TicketCode::parse(c)
                    .map_err(|e| invalid(format!("registration {}: {e}", r.source_id)))?,
                None => {
                    drawn.push((i, j));
                    TicketCode::from_entropy(random_u64()?)
                }
            });
        }
        codes.push(mine);
    }
    for _ in 0..8 {
        // Codes drawn for the batch before, not written yet, count as taken.
        let mut seen: HashSet<TicketCode> = avoid.clone();
        let mut again: Vec<(usize, usize)> = Vec::new();
        // Given codes first: a drawn code gives way to them.
        for (i, mine) in codes.iter().enumerate() {
            for (j, c) in mine.iter().enumerate() {
                if registrations[i].seats[j].ticket_code.is_some() {
                    seen.insert(c.clone());
                }
            }
        }
        for &(i, j) in &drawn {
            if !seen.insert(codes[i][j].clone()) {
                again.push((i, j));
            }
        }
        for chunk in drawn.chunks(500) {
            let list = crate::storage::in_list(2, chunk.len());
            let mut values = vec![SqlValue::from(conference.to_string())];
            values.extend(
                chunk
                    .iter()
                    .map(|&(i, j)| SqlValue::from(codes[i][j].as_str())),
            );
            let taken: HashSet<String> = tx
                .query(
                    &format!("SELECT code FROM tickets WHERE conference = $1 AND code IN ({list})"),
                    &values,
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_, _>>()?;
            again.extend(
                chunk
                    .iter()
                    .filter(|&&(i, j)| taken.contains(codes[i][j].as_str())),
            );
        }
        if again.is_empty() {
            return Ok(codes);
        }
        for &(i, j) in &again {
            codes[i][j] = TicketCode::from_entropy(random_u64()?);
        }
        drawn = again;
    }
    Err(invalid("could not draw ticket codes that no ticket has"))
}

/// Records one registration as a confirmed order with assigned seats; returns its rows.
fn import_registration(
    rec: &mut Recorder<'_>,
    source: &str,
    registration: &ImportRegistration,
    seat_types: &BTreeMap<String, SeatTypeId>,
    prices: &[onsite_shared::order::SeatPrice],
    codes: Vec<TicketCode>,
) -> Result<projection::Imported, Rejected> {
    if registration.seats.is_empty() {
        return Err(invalid(format!(
            "registration {} has no seats",
            registration.source_id
        )));
    }
    let conference = rec.conference;
    let order = OrderId::from_uuid(uuid::Uuid::now_v7());
    let order_stream = StreamId::order(order);
    let assignments = StreamId::seat_assignments(order);
    rec.fresh::<Order>(&order_stream);
    rec.fresh::<SeatAssignments>(&assignments);

    let mut seats: Vec<(SeatTypeId, &ImportSeat)> = Vec::new();
    for s in &registration.seats {
        let id = seat_types
            .get(&s.seat_type.trim().to_lowercase())
            .copied()
            .ok_or_else(|| {
                invalid(format!(
                    "registration {}: no seat type named {:?}",
                    registration.source_id, s.seat_type
                ))
            })?;
        seats.push((id, s));
    }
    let mut wanted: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for (id, _) in &seats {
        *wanted.entry(*id).or_default() += 1;
    }
    let quantities: Vec<SeatQuantity> = wanted
        .iter()
        .map(|(t, q)| SeatQuantity {
            seat_type: *t,
            quantity: *q,
        })
        .collect();

    // The order, as it was in the source system: placed, reserved, confirmed.
    rec.execute::<Order>(
        &order_stream,
        &order::Command::Place {
            order,
            conference,
            seats: quantities.clone(),
            prices: prices.to_vec(),
            access_code: crate::registration::random_code(6)?,
            reservation_expires_at: rec.now,
            origin: OrderOrigin::Imported {
                source: source.to_owned(),
                source_id: registration.source_id.clone(),
            },
            max_seats: None,
        },
    )?;
    // Its seats: what is left is reserved; the rest was sold anyway and is overbooked, visibly.
    let seats_stream = StreamId::seats(conference);
    let (availability, _) = rec.load::<SeatsAvailability>(&seats_stream)?;
    let mut fits = Vec::new();
    let mut beyond = Vec::new();
    for q in &quantities {
        let left = u32::try_from(availability.remaining(q.seat_type).unwrap_or(0).max(0))
            .unwrap_or(u32::MAX);
        let get = q.quantity.min(left);
        if get > 0 {
            fits.push(SeatQuantity {
                seat_type: q.seat_type,
                quantity: get,
            });
        }
        if q.quantity > get {
            beyond.push(SeatQuantity {
                seat_type: q.seat_type,
                quantity: q.quantity - get,
            });
        }
    }
    if !fits.is_empty() {
        rec.execute::<SeatsAvailability>(
            &seats_stream,
            &seat_availability::Command::MakeReservation {
                conference,
                reservation: order,
                seats: fits,
            },
        )?;
    }
    if !beyond.is_empty() {
        rec.execute::<SeatsAvailability>(
            &seats_stream,
            &seat_availability::Command::Overbook {
                conference,
                reservation: order,
                seats: beyond,
                reason: format!("imported from {source}: sold there already"),
            },
        )?;
    }
    rec.execute::<SeatsAvailability>(
        &seats_stream,
        &seat_availability::Command::CommitReservation {
            conference,
            reservation: order,
        },
    )?;
    rec.execute::<Order>(
        &order_stream,
        &order::Command::MarkSeatsAsReserved {
            seats: quantities,
            reservation_expires_at: rec.now,
        },
    )?;
    if let Some(registrant) = &registration.registrant {
        rec.execute::<Order>(
            &order_stream,
            &order::Command::AssignRegistrant(registrant.clone()),
        )?;
    }
    let (placed, _) = rec.load::<Order>(&order_stream)?;
    let payment = if placed.is_free_of_charge() {
        Payment::NotRequired
    } else {
        Payment::Invoiced {
            reference: format!("settled in {source} ({})", registration.source_id),
        }
    };
    rec.execute::<Order>(&order_stream, &order::Command::Confirm { payment })?;

    // Its tickets, with the source's codes where it had them.
    let ticket_seats: Vec<Seat> = (1u32..)
        .zip(&seats)
        .zip(codes)
        .map(|((position, (seat_type, _)), code)| Seat {
            position,
            ticket: TicketId::from_uuid(uuid::Uuid::now_v7()),
            code,
            seat_type: *seat_type,
        })
        .collect();
    rec.execute::<SeatAssignments>(
        &assignments,
        &seat_assignments::Command::Create {
            order,
            conference,
            order_status: OrderStatus::Confirmed,
            seats: ticket_seats,
        },
    )?;
    for (position, (_, s)) in (1u32..).zip(&seats) {
        rec.execute::<SeatAssignments>(
            &assignments,
            &seat_assignments::Command::Assign {
                position,
                attendee: s.attendee.clone(),
            },
        )
        .map_err(|e| match e {
            Rejected::Domain { code, message } => Rejected::Domain {
                code,
                message: format!("registration {}: {message}", registration.source_id),
            },
            other @ Rejected::Store(_) => other,
        })?;
    }
    Ok(projection::Imported {
        order: rec
            .state::<Order>(&order_stream)
            .cloned()
            .unwrap_or_default(),
        tickets: rec
            .state::<SeatAssignments>(&assignments)
            .cloned()
            .unwrap_or_default(),
    })
}

/// Registrations per transaction: big enough that a batch's statements carry hundreds of rows,
/// small enough that desks' pushes, which wait for the one writer, wait a fraction of a second.
pub const IMPORT_BATCH: usize = 500;

/// Why [`import_registrations`] imported nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// What [`check_registrations`] found; nothing was imported.
    #[error("the import was refused and nothing was imported; {} problem(s)", .0.len())]
    Problems(Vec<String>),
    /// A batch was refused after the check had passed it (the whole-or-nothing promise broken).
    #[error(transparent)]
    Refused(#[from] Rejected),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An import as the conference's history shows it: what, from where, by whom.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub conference: ConferenceId,
    /// Where the registrations come from (`website`, `csv`): ids are unique per source.
    pub source: String,
    /// The file's name, as uploaded or given on the command line.
    pub file: String,
    /// A person's email; `None`: the command line.
    pub actor: Option<String>,
}

/// Registrations imported in one go: everything that could refuse one halfway is checked first
/// ([`check_registrations`]), so a file is imported whole or not at all; then transactions of
/// [`IMPORT_BATCH`], `imported(n)` after each. Returns how many were new (not imported before).
/// An import that imported something is listed in the conference's history, in the same
/// transaction as its last batch.
///
/// The batches are pipelined: while one batch is written (the database's work), the next is
/// decided on a read transaction (the server's work), from the seats as the batch being
/// written leaves them. If another writer reserved seats in between, the batch is refused
/// unwritten and decided again on what was committed.
pub async fn import_registrations<S: Store>(
    store: &S,
    run: ImportRun,
    registrations: Vec<ImportRegistration>,
    now: onsite_shared::Timestamp,
    mut imported: impl FnMut(usize),
) -> Result<usize, ImportError> {
    let conference = run.conference;
    let (checked_source, checked) = (run.source.clone(), registrations.clone());
    let problems = store
        .read(move |tx| {
            let (conf, _) = event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
            check_registrations(tx, &conf, &checked_source, &checked)
        })
        .await?;
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    let total = registrations.len();
    let batches: Vec<Vec<ImportRegistration>> = registrations
        .chunks(IMPORT_BATCH)
        .map(<[ImportRegistration]>::to_vec)
        .collect();
    let decide = |batch: usize, carry: Option<Carry>| {
        let (source, chunk) = (run.source.clone(), batches.get(batch).cloned());
        async move {
            match chunk {
                None => Ok(None),
                Some(chunk) => {
                    store
                        .read(move |tx| {
                            decide_batch(tx, conference, now, &source, &chunk, carry.as_ref())
                                .map(Some)
                        })
                        .await
                }
            }
        }
    };
    let mut new = 0;
    let mut next = decide(0, None).await?;
    for (i, chunk) in batches.iter().enumerate() {
        let Some(decided) = next.take() else { break };
        let last = i + 1 == batches.len();
        let carry = decided.carry.clone();
        let (w_run, w_chunk, before) = (run.clone(), chunk.clone(), new);
        let mut decided = Some(decided);
        let write = store.write(move |tx| {
            let record = last.then_some((&w_run, now, total, before));
            if let Some(d) = decided.take() {
                match write_decided(tx, conference, &w_run.source, d, record) {
                    Err(Rejected::Store(StoreError::Conflict(_))) => {}
                    other => return other.map(|n| (n, false)),
                }
            }
            // The seats moved under the decision (or the write was tried again after losing a
            // race): this batch decided again, on what is committed.
            let again = decide_batch(tx, conference, now, &w_run.source, &w_chunk, None)?;
            write_decided(tx, conference, &w_run.source, again, record).map(|n| (n, true))
        });
        let (written, decided_next) = tokio::join!(write, decide(i + 1, Some(carry)));
        let (n, redone) = written?;
        new += n;
        // A batch decided again leaves the seats elsewhere than the next batch assumed.
        next = if redone {
            decide(i + 1, None).await?
        } else {
            decided_next?
        };
        imported(chunk.len());
        // The tables grow under the import faster than PostgreSQL's statistics follow: with
        // statistics of near-empty tables, a batch's lookups (the seats' stream, ticket codes)
        // plan as scans of whole tables, and the import slows as it goes (50,000
        // registrations: 584/s). Once the statistics know the tables are not tiny, the planner
        // scales them by the tables' size as they grow: refreshed after the first, second and
        // fourth batch (each ANALYZE costs more as the tables grow), and at the end.
        if matches!(i, 0 | 1 | 3) {
            store
                .write(|tx| crate::storage::refresh_statistics(tx))
                .await?;
        }
    }
    store
        .write(|tx| crate::storage::refresh_statistics(tx))
        .await?;
    Ok(new)
}

fn record_run(
    tx: &mut dyn crate::storage::Tx,
    run: &ImportRun,
    now: onsite_shared::Timestamp,
    total: usize,
    new: usize,
) -> Result<(), StoreError> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO import_runs (id, conference, at, actor, source, file, registrations, imported) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        crate::params![
            uuid::Uuid::now_v7().to_string(),
            run.conference.to_string(),
            crate::storage::time_text(&now),
            run.actor.clone(),
            run.source.clone(),
            run.file.clone(),
            count(total),
            count(new)
        ],
    )?;
    Ok(())
}
