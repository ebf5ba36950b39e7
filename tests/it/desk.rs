//! The desk core against a real `onsite-server`: two or three desks, each with its own SQLite
//! file, offline and online, killed and reopened.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use onsite_desk_core::{
    CheckInOutcome, CheckInRequest, ConflictAction, PartyCheckInRequest, RosterEntry, SaleRequest,
    SaleTicketRequest,
};
use onsite_shared::check_in::TicketStatus;
use onsite_shared::conflict::ConflictKind;
use onsite_shared::ids::{ConferenceId, SeatTypeId};
use onsite_shared::order::PaymentMethod;
use onsite_shared::walk_in::SaleStatus;
use onsite_tests::desk::LocalDesk;
use onsite_tests::server::{TempDir, TestServer, server_command};
use onsite_tests::workspace;
use reqwest::Method;

/// The demo conference's id (`onsite-server demo`).
pub(crate) const DEMO: ConferenceId =
    ConferenceId::from_u128(0x01930000_0000_7000_8000_000000000001);

pub(crate) fn demo_server(dir: &TempDir, attendees: u32) -> Result<TestServer> {
    server_command(
        dir.path(),
        None,
        &["demo", "--attendees", &attendees.to_string()],
    )?;
    TestServer::start(dir.path())
}

pub(crate) fn scan(code: &str) -> CheckInRequest {
    CheckInRequest {
        code: code.to_owned(),
        gate: None,
        override_reason: None,
    }
}

/// Someone on the roster whose ticket admits them and who is not in yet.
pub(crate) fn admission_ticket(desk: &LocalDesk, query: &str) -> Result<RosterEntry> {
    desk.search(query)?
        .into_iter()
        .find(|e| e.admits && !e.withdrawn && e.admission.is_none())
        .with_context(|| format!("nobody to admit for {query:?}"))
}

pub(crate) fn walk_in(seat_type: SeatTypeId, quantity: u32, who: &str) -> SaleRequest {
    walk_in_at(seat_type, 19_900, quantity, who)
}

/// A cash walk-in sale of `quantity` seats at `price_minor` each.
pub(crate) fn walk_in_at(
    seat_type: SeatTypeId,
    price_minor: i64,
    quantity: u32,
    who: &str,
) -> SaleRequest {
    SaleRequest {
        tickets: (0..quantity)
            .map(|i| SaleTicketRequest {
                seat_type,
                first_name: format!("{who}{i}"),
                last_name: "Walker".into(),
                email: format!("{}{i}@example.com", who.to_lowercase()),
                company: "Door Sales Ltd".into(),
                attendee_types: vec![],
            })
            .collect(),
        payment_method: PaymentMethod::Cash,
        amount_taken_minor: i64::from(quantity) * price_minor,
    }
}

pub(crate) fn server_remaining(
    server: &TestServer,
    conference: ConferenceId,
    seat_type: SeatTypeId,
) -> Result<i64> {
    let c = server.admin(Method::GET, &format!("/v1/conferences/{conference}"), None)?;
    c["remaining"][seat_type.to_string()]
        .as_i64()
        .context("remaining")
}

fn desk_remaining(desk: &LocalDesk, seat_type: SeatTypeId) -> Result<(i64, i64)> {
    let a = desk
        .availability()?
        .into_iter()
        .find(|a| a.seat_type == seat_type)
        .context("seat type at the desk")?;
    Ok((a.authoritative, a.remaining))
}

#[test]
fn an_attendee_admitted_offline_at_two_desks_is_one_admission_with_a_duplicate_flag() -> Result<()>
{
    let dir = TempDir::new("desk-duplicate")?;
    let server = demo_server(&dir, 200)?;
    let north = LocalDesk::enrol(&server, DEMO, "north-1", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "south-1", dir.path())?;
    north.sync()?;
    south.sync()?;
    ensure!(north.roster_size()? >= 200, "the roster reached the desk");
    let person = admission_ticket(&north, "a")?;
    let code = person.code.as_str();

    // Both desks are offline from each other: neither has heard of the other's admission.
    let first = north.check_in(&scan(code))?;
    ensure!(
        matches!(first, CheckInOutcome::Admitted { .. }),
        "{first:?}"
    );
    let second = south.check_in(&scan(code))?;
    ensure!(
        matches!(second, CheckInOutcome::Admitted { .. }),
        "{second:?}"
    );

    north.sync()?;
    south.sync()?;
    north.sync()?;

    let north_device = north.enrolment()?.context("enrolled")?.device;
    for desk in [&north, &south] {
        let entry = desk.attendee(code)?.context("still on the roster")?;
        let admission = entry.admission.context("admitted")?;
        ensure!(
            admission.desk == north_device,
            "the first admission is the one the server saw first"
        );
        ensure!(!admission.pending, "confirmed by the server");
        ensure!(
            entry.duplicates == 1,
            "one duplicate flag, got {}",
            entry.duplicates
        );
        let flags: Vec<_> = desk
            .conflicts()?
            .into_iter()
            .filter(|c| matches!(&c.kind, ConflictKind::DuplicateAdmission { code: c, .. } if c.as_str() == code))
            .collect();
        ensure!(flags.len() == 1 && flags[0].is_open(), "{flags:?}");
        ensure!(desk.local_status()?.pending == 0);
        // A third scan answers "already admitted" and records nothing.
        let before = desk.local_status()?.appended;
        let again = desk.check_in(&scan(code))?;
        ensure!(
            matches!(again, CheckInOutcome::AlreadyAdmitted { ref first, .. } if first.desk == north_device),
            "{again:?}"
        );
        ensure!(desk.local_status()?.appended == before);
    }
    let admissions = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(
        admissions["admitted"] == 1,
        "head office sees one attendee admitted: {admissions}"
    );

    // The desk closes the flag; the server takes it, the other desk sees it closed.
    let flag = south
        .conflicts()?
        .into_iter()
        .find(|c| c.is_open())
        .context("the flag")?;
    south.act_on_conflict(
        flag.conflict,
        &ConflictAction::Close {
            note: "same person, scanned twice".into(),
        },
    )?;
    south.sync()?;
    north.sync()?;
    ensure!(north.open_conflicts()? == 0, "closed everywhere");
    Ok(())
}

#[test]
fn the_last_seats_go_to_whoever_reaches_the_server_first_and_the_losers_see_the_refund()
-> Result<()> {
    let dir = TempDir::new("desk-last-seats")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(3)?;
    let east = LocalDesk::enrol(&server, conf.id, "east", dir.path())?;
    let west = LocalDesk::enrol(&server, conf.id, "west", dir.path())?;
    east.sync()?;
    west.sync()?;
    ensure!(desk_remaining(&east, conf.general)? == (3, 3));

    // Offline, each desk sells two of the three seats; meanwhile an online buyer takes one.
    let east_sale = east.sell(&walk_in(conf.general, 2, "East"))?;
    let west_sale = west.sell(&walk_in(conf.general, 2, "West"))?;
    ensure!(
        desk_remaining(&east, conf.general)? == (3, 1),
        "the desk's own sale counts at once"
    );
    let refused = east.sell(&walk_in(conf.general, 2, "Late"));
    ensure!(
        matches!(&refused, Err(e) if e.code() == "walk_in.no_seats_left"),
        "the desk refuses what its own view does not have: {refused:?}"
    );
    server.place_order(conf.id, conf.general, 1)?;

    east.sync()?;
    west.sync()?;
    east.sync()?;

    let east_sales = east.sales()?;
    ensure!(
        east_sales.len() == 1 && east_sales[0].status == SaleStatus::Confirmed,
        "{east_sales:?}"
    );
    let west_sales = west.sales()?;
    ensure!(
        west_sales[0].status == SaleStatus::Rejected,
        "{west_sales:?}"
    );
    ensure!(
        west_sales[0].refund_due.map(|m| m.amount_minor) == Some(2 * 19_900),
        "the whole amount is due back: {west_sales:?}"
    );
    let refunds: Vec<_> = west
        .conflicts()?
        .into_iter()
        .filter(|c| matches!(&c.kind, ConflictKind::WalkInRejected { order, .. } if *order == west_sale.order))
        .collect();
    ensure!(refunds.len() == 1 && refunds[0].is_open(), "{refunds:?}");
    // The withdrawn tickets no longer admit anyone; the confirmed ones do.
    let withdrawn = &west_sale.tickets[0].code;
    let outcome = west.check_in(&scan(withdrawn.as_str()))?;
    ensure!(
        matches!(
            outcome,
            CheckInOutcome::NotEntitled {
                status: TicketStatus::Withdrawn,
                ..
            }
        ),
        "{outcome:?}"
    );
    let kept = &east_sale.tickets[1].code;
    ensure!(matches!(
        west.check_in(&scan(kept.as_str()))?,
        CheckInOutcome::Admitted { .. }
    ));

    // Everyone agrees on what is left.
    let left = server_remaining(&server, conf.id, conf.general)?;
    ensure!(
        left == 0,
        "the server sold exactly its three seats, {left} left"
    );
    for desk in [&east, &west] {
        ensure!(desk_remaining(desk, conf.general)? == (left, left));
    }

    // The refund is recorded at the door; head office sees the conflict resolved.
    west.act_on_conflict(
        refunds[0].conflict,
        &ConflictAction::RecordRefund {
            amount_minor: 2 * 19_900,
            method: PaymentMethod::Cash,
            note: "cash back".into(),
        },
    )?;
    west.sync()?;
    let conflicts = server.admin(
        Method::GET,
        &format!("/v1/conferences/{}/conflicts", conf.id),
        None,
    )?;
    ensure!(
        conflicts.to_string().contains("refund_recorded"),
        "{conflicts}"
    );
    Ok(())
}

#[test]
fn with_the_server_down_every_command_works_and_everything_drains_when_it_returns() -> Result<()> {
    let dir = TempDir::new("desk-offline")?;
    let mut server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let desk = LocalDesk::enrol(&server, conf.id, "door", dir.path())?;
    desk.sync()?;
    server.kill_hard();

    let sale = desk.sell(&walk_in(conf.general, 1, "Offline"))?;
    let code = sale.tickets[0].code.as_str();
    let found = desk.search("offline0 walk")?;
    ensure!(
        found
            .first()
            .is_some_and(|e| e.code.as_str() == code && e.provisional),
        "{found:?}"
    );
    ensure!(matches!(
        desk.check_in(&scan(code))?,
        CheckInOutcome::Admitted { .. }
    ));
    desk.undo_check_in(code, "wrong person")?;
    ensure!(desk.attendee(code)?.context("ticket")?.admission.is_none());
    ensure!(matches!(
        desk.check_in(&scan(code))?,
        CheckInOutcome::Admitted { .. }
    ));
    let unknown = desk.check_in(&scan("NOPE-0000"))?;
    ensure!(
        matches!(unknown, CheckInOutcome::UnknownTicket { .. }),
        "{unknown:?}"
    );

    let failed = desk.try_sync();
    ensure!(
        matches!(
            failed,
            Err(onsite_desk_core::sync::SyncError::Unreachable(_))
        ),
        "{failed:?}"
    );
    let status = desk.sync.status()?;
    ensure!(!status.online && status.pending == 4, "{status:?}");
    ensure!(status.oldest_pending_age_secs.is_some());

    server.restart()?;
    desk.set_server_url(&server.url)?;
    let report = desk.sync()?;
    ensure!(report.pushed == 4, "{report:?}");
    let status = desk.sync.status()?;
    ensure!(
        status.online && status.pending == 0 && status.last_sync.is_some(),
        "{status:?}"
    );
    ensure!(desk.sales()?[0].status == SaleStatus::Confirmed);
    let entry = desk.attendee(code)?.context("ticket")?;
    ensure!(
        !entry.provisional && entry.admission.as_ref().is_some_and(|a| !a.pending),
        "{entry:?}"
    );
    let admissions = server.admin(
        Method::GET,
        &format!("/v1/conferences/{}/admissions", conf.id),
        None,
    )?;
    ensure!(admissions["admitted"] == 1, "{admissions}");
    Ok(())
}

#[test]
fn a_desk_killed_while_appending_and_syncing_loses_nothing_and_sends_everything_once() -> Result<()>
{
    let dir = TempDir::new("desk-sigkill")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let db = dir.path().join("killed.sqlite3");
    let device = {
        let desk = LocalDesk::enrol(&server, conf.id, "killed", dir.path())?;
        desk.sync()?;
        desk.enrolment()?.context("enrolled")?.device
    };
    let mut child = Command::new(workspace::binary("onsite-desk-cli")?)
        .arg("--db")
        .arg(&db)
        .args(["hammer", "--count", "1000000", "--prefix", "KILL"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    // `committed N`: the `client_seq` of a check-in whose transaction has committed.
    let mut appended = 0u64;
    while appended < 300 {
        let line = lines.next().context("the child stopped early")??;
        appended = line
            .strip_prefix("committed ")
            .context("progress line")?
            .parse()?;
    }
    child.kill()?;
    child.wait()?;

    let desk = LocalDesk::open(&db)?;
    let log = desk.outbox(0, u32::MAX)?;
    ensure!(
        log.len() as u64 >= appended,
        "every acknowledged append survived"
    );
    for (item, seq) in log.iter().zip(1u64..) {
        ensure!(item.client_seq == seq, "the log is gapless");
    }
    desk.sync()?;
    ensure!(desk.local_status()?.pending == 0);
    desk.sync()?;

    // The server has each of them exactly once.
    let reader = server.desk(conf.id, "reader")?;
    let mine: Vec<_> = reader
        .pull_all()?
        .into_iter()
        .filter(|e| e.device_id == Some(device) && e.event_type == "admission.admitted")
        .collect();
    ensure!(
        mine.len() == log.len(),
        "{} on the server, {} in the log",
        mine.len(),
        log.len()
    );
    let mut ids: Vec<_> = mine.iter().map(|e| e.event_id).collect();
    ids.sort();
    ids.dedup();
    ensure!(ids.len() == log.len(), "no event twice");
    Ok(())
}

/// A small deterministic generator, so a failing session can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn rebuilding_the_projections_gives_exactly_the_incremental_state_after_a_random_session()
-> Result<()> {
    let dir = TempDir::new("desk-rebuild")?;
    let server = demo_server(&dir, 120)?;
    let desks = [
        LocalDesk::enrol(&server, DEMO, "r1", dir.path())?,
        LocalDesk::enrol(&server, DEMO, "r2", dir.path())?,
    ];
    for d in &desks {
        d.sync()?;
    }
    let seat_types: Vec<SeatTypeId> = desks[0]
        .availability()?
        .iter()
        .map(|a| a.seat_type)
        .collect();
    let codes: Vec<String> = desks[0]
        .search("a")?
        .into_iter()
        .chain(desks[0].search("e")?)
        .map(|e| e.code.to_string())
        .collect();
    ensure!(codes.len() > 10 && !seat_types.is_empty());
    let mut rng = Lcg(0x5eed);
    for _ in 0..250 {
        let d = &desks[rng.next(2) as usize];
        match rng.next(10) {
            0..=3 => {
                let code = &codes[rng.next(codes.len() as u64) as usize];
                d.check_in(&scan(code))?;
            }
            4 => {
                let code = &codes[rng.next(codes.len() as u64) as usize];
                let _ = d.undo_check_in(code, "mistake");
            }
            5 => {
                let st = seat_types[rng.next(seat_types.len() as u64) as usize];
                let mut sale = walk_in(st, 1 + rng.next(3) as u32, "Rand");
                sale.payment_method = PaymentMethod::Complimentary;
                sale.amount_taken_minor = 0;
                let _ = d.sell(&sale);
            }
            6 => {
                if let Some(c) = d.conflicts()?.into_iter().find(|c| c.is_open()) {
                    let _ = d.act_on_conflict(
                        c.conflict,
                        &ConflictAction::Acknowledge {
                            note: "seen".into(),
                        },
                    );
                }
            }
            7 => {
                let _ = d.check_in(&CheckInRequest {
                    code: format!("ZZ{}", rng.next(50)),
                    gate: Some("side".into()),
                    override_reason: Some("VIP without ticket".into()),
                });
            }
            _ => {
                d.sync()?;
            }
        }
    }
    // Some state is synced, some pending: both halves of the rebase are exercised.
    desks[0].sync()?;
    ensure!(desks[1].local_status()?.pending > 0 || desks[0].local_status()?.pending == 0);
    for d in &desks {
        d.check_search_index()?;
        let incremental = d.projection_dump()?;
        ensure!(incremental.len() > 100, "a session that did something");
        d.rebuild_projections()?;
        d.check_search_index()?;
        let rebuilt = d.projection_dump()?;
        if incremental != rebuilt {
            let diff: Vec<_> = incremental
                .iter()
                .zip(&rebuilt)
                .filter(|(a, b)| a != b)
                .take(3)
                .collect();
            bail!(
                "rebuild differs ({} vs {} rows): {diff:?}",
                incremental.len(),
                rebuilt.len()
            );
        }
    }
    Ok(())
}

#[test]
fn the_roster_is_searched_accent_and_case_blind_with_a_scanned_code_first() -> Result<()> {
    let dir = TempDir::new("desk-search")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let desk = LocalDesk::enrol(&server, conf.id, "search", dir.path())?;
    desk.sync()?;
    let mut sale = walk_in(conf.general, 2, "X");
    let names = [
        ("Łucja", "Ñuñez", "lucja@example.pl", "Zürich AG"),
        ("Lucas", "Nunes", "lucas@example.pt", "Łódź Software"),
    ];
    for (t, (first, last, email, company)) in sale.tickets.iter_mut().zip(names) {
        t.first_name = first.into();
        t.last_name = last.into();
        t.email = email.into();
        t.company = company.into();
    }
    let receipt = desk.sell(&sale)?;
    let lucja = receipt.tickets[0].code.as_str().to_owned();
    let lucas = receipt.tickets[1].code.as_str().to_owned();

    let found = |q: &str| -> Result<Vec<String>> {
        Ok(desk
            .search(q)?
            .into_iter()
            .map(|e| e.code.as_str().to_owned())
            .collect())
    };
    // From the first character, without the accents, in any case.
    ensure!(found("l")?.len() == 2, "{:?}", found("l")?);
    ensure!(
        found("lucja nun")? == [lucja.as_str()],
        "{:?}",
        found("lucja nun")?
    );
    ensure!(found("ŁUCJA")? == [lucja.as_str()]);
    ensure!(found("ZURICH")? == [lucja.as_str()]);
    ensure!(found("zür")? == [lucja.as_str()]);
    ensure!(found("lodz")? == [lucas.as_str()]);
    ensure!(found("nunez")? == [lucja.as_str()]);
    // By email. Not "example.pt" alone: both emails hold "example", and "pt" is a prefix of
    // one code in a thousand (codes are random base 32, which has no "U").
    ensure!(found("lucas@example.pt")? == [lucas.as_str()]);
    ensure!(found("nobody-by-this-name")?.is_empty());
    // A scanned code is the first result, typed in any case, with or without its dash.
    ensure!(found(&lucas)?.first() == Some(&lucas));
    ensure!(found(&lucas.to_lowercase())?.first() == Some(&lucas));
    // Operators of the search syntax are text, not syntax.
    for q in ["\"", "lucja OR", "*", "NEAR(", "-", "l*", "^"] {
        desk.search(q)
            .with_context(|| format!("searching for {q:?} must not fail"))?;
    }
    Ok(())
}

/// A pull of a few thousand events (a desk back after an hour offline) is stored with the
/// writer's bulk page cache, like a bootstrap; the round must let that cache go, or every
/// later check-in pays for it (SQLite walks the whole cache at each commit).
#[test]
fn a_desk_lets_its_bulk_cache_go_after_a_pull_smaller_than_a_bootstrap() -> Result<()> {
    let dir = TempDir::new("desk-bulk")?;
    let server = demo_server(&dir, 400)?;
    let desk = LocalDesk::enrol(&server, DEMO, "bulk", dir.path())?;
    let usual = desk.writer_cache_size()?;
    let report = desk.sync()?;
    ensure!(
        (1_000..u64::from(onsite_desk_core::sync::PULL_LIMIT)).contains(&report.pulled),
        "the pull must be a large page but less than a full one: {} events",
        report.pulled
    );
    ensure!(
        desk.writer_cache_size()? == usual,
        "the writer kept its bulk cache ({}) after the round; its usual one is {usual}",
        desk.writer_cache_size()?
    );
    // And the desk still works on its fresh writer connection.
    let ticket = admission_ticket(&desk, "a")?;
    ensure!(matches!(
        desk.check_in(&scan(ticket.code.as_str()))?,
        CheckInOutcome::Admitted { .. }
    ));
    Ok(())
}

#[test]
fn an_older_desk_database_opens_and_a_newer_one_is_refused_untouched() -> Result<()> {
    let dir = TempDir::new("desk-migrate")?;
    let server = demo_server(&dir, 50)?;
    let db = {
        let desk = LocalDesk::enrol(&server, DEMO, "older", dir.path())?;
        desk.sync()?;
        let person = admission_ticket(&desk, "e")?;
        desk.check_in(&scan(person.code.as_str()))?;
        desk.db
    };
    let expected = LocalDesk::open(&db)?.projection_dump()?;

    // An older desk wrote projections of an older layout (and lost some rows): the newer desk
    // rebuilds them from the logs on open.
    {
        let conn = rusqlite::Connection::open(&db)?;
        conn.execute_batch(
            "UPDATE settings SET value = '1' WHERE key = 'projection_version';
             DELETE FROM roster; DELETE FROM admissions;",
        )?;
    }
    let reopened = LocalDesk::open(&db)?;
    ensure!(reopened.projection_dump()? == expected, "rebuilt on open");
    ensure!(
        reopened.local_status()?.pending == 1,
        "the log kept its item"
    );
    drop(reopened);

    // A newer desk's log: refused, and the file is left as it was.
    {
        let conn = rusqlite::Connection::open(&db)?;
        conn.pragma_update(None, "user_version", 99)?;
    }
    let refused = onsite_desk_core::Desk::open(&db);
    ensure!(
        matches!(&refused, Err(e) if e.code() == "desk.database_too_new"),
        "{:?}",
        refused.err()
    );
    let conn = rusqlite::Connection::open(&db)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let outbox: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
    ensure!(version == 99 && outbox == 1);
    Ok(())
}

#[test]
fn bad_input_at_the_desk_gets_a_clear_error_and_records_nothing() -> Result<()> {
    let dir = TempDir::new("desk-bad-input")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(5)?;

    // Not enrolled: nothing to check in against, nothing appended.
    let fresh = LocalDesk::open(&dir.path().join("fresh.sqlite3"))?;
    let e = fresh
        .check_in(&scan("ABCD-EFGH"))
        .err()
        .context("refused")?;
    ensure!(e.code() == "desk.not_enrolled", "{e}");
    ensure!(fresh.local_status()?.appended == 0);
    let e = fresh.try_sync().err().context("nothing to sync with")?;
    ensure!(e.to_string().contains("not enrolled"), "{e}");

    let desk = LocalDesk::enrol(&server, conf.id, "careful", dir.path())?;
    desk.sync()?;
    let before = desk.projection_dump()?;
    let refusals: Vec<(&str, Result<(), onsite_desk_core::DeskError>)> = vec![
        ("empty code", desk.check_in(&scan("   ")).map(drop)),
        (
            "no tickets",
            desk.sell(&walk_in(conf.general, 0, "None")).map(drop),
        ),
        (
            "too many seats",
            desk.sell(&walk_in(conf.general, 6, "Many")).map(drop),
        ),
        ("no name", {
            let mut s = walk_in(conf.general, 1, "");
            s.tickets[0].first_name = " ".into();
            s.tickets[0].last_name = String::new();
            desk.sell(&s).map(drop)
        }),
        ("negative amount", {
            let mut s = walk_in(conf.general, 1, "Neg");
            s.amount_taken_minor = -1;
            desk.sell(&s).map(drop)
        }),
        (
            "undo without a reason",
            desk.undo_check_in("ABCD-EFGH", "  ").map(drop),
        ),
        (
            "correct an unknown ticket",
            desk.correct_attendee(
                "ZZZZ-ZZZZ",
                &onsite_desk_core::Correction {
                    first_name: Some("A".into()),
                    last_name: None,
                    company: None,
                },
            )
            .map(drop),
        ),
        (
            "act on no conflict",
            desk.act_on_conflict(
                onsite_shared::ids::ConflictId::from_u128(7),
                &ConflictAction::Acknowledge {
                    note: "seen".into(),
                },
            )
            .map(drop),
        ),
    ];
    for (what, result) in refusals {
        let e = result
            .err()
            .with_context(|| format!("{what} was accepted"))?;
        ensure!(!e.to_string().is_empty() && !e.code().is_empty());
        ensure!(
            e.code() != "desk.database" && e.code() != "desk.corrupt",
            "{what}: {e}"
        );
    }
    ensure!(desk.local_status()?.appended == 0, "nothing appended");
    ensure!(desk.projection_dump()? == before, "nothing changed");
    // An unknown code is an answer, not an error, and records nothing either.
    let unknown = desk.check_in(&scan("NOPE-NOPE"))?;
    ensure!(
        matches!(unknown, CheckInOutcome::UnknownTicket { .. }),
        "{unknown:?}"
    );
    ensure!(desk.local_status()?.appended == 0);
    Ok(())
}

/// A party of four bought at one door. Each door, offline from the other, admits part of it in
/// one action ("2 of 4 arrived"): one admission event per person, the person both doors let in
/// flagged once as a duplicate, the others not. Both doors then see the same party; "this
/// person" undoes one admission, and an undo that cannot be done whole undoes nothing.
#[test]
fn two_doors_admit_one_party_partly_each_and_only_the_overlap_is_flagged() -> Result<()> {
    let dir = TempDir::new("desk-party")?;
    let server = demo_server(&dir, 30)?;
    let north = LocalDesk::enrol(&server, DEMO, "north-party", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "south-party", dir.path())?;
    north.sync()?;
    let seat = north
        .availability()?
        .into_iter()
        .find(|s| s.admits && s.remaining >= 4)
        .context("four seats")?;
    let mut sale = walk_in(seat.seat_type, 4, "Party");
    sale.amount_taken_minor = 4 * seat.price.amount_minor;
    let codes: Vec<String> = north
        .sell(&sale)?
        .tickets
        .iter()
        .map(|t| t.code.to_string())
        .collect();
    north.sync()?;
    south.sync()?;
    for desk in [&north, &south] {
        let party = desk.party(&codes[3])?;
        ensure!(
            party
                .members
                .iter()
                .map(|m| m.code.to_string())
                .collect::<Vec<_>>()
                == codes,
            "{party:?}"
        );
    }

    // North lets in the first two, south (not synced since) the second and third.
    let at_north = north.check_in_party(&PartyCheckInRequest {
        codes: vec![codes[0].clone(), codes[1].clone(), codes[0].clone()],
        gate: Some("north".into()),
    })?;
    ensure!(
        at_north.len() == 2
            && at_north
                .iter()
                .all(|o| matches!(o, CheckInOutcome::Admitted { .. })),
        "{at_north:?}"
    );
    let at_south = south.check_in_party(&PartyCheckInRequest {
        codes: vec![codes[1].clone(), codes[2].clone()],
        gate: Some("south".into()),
    })?;
    ensure!(
        at_south
            .iter()
            .all(|o| matches!(o, CheckInOutcome::Admitted { .. })),
        "{at_south:?}"
    );
    north.sync()?;
    south.sync()?;
    north.sync()?;
    for desk in [&north, &south] {
        let party = desk.party(&codes[0])?;
        let state: Vec<(bool, u32)> = party
            .members
            .iter()
            .map(|m| (m.admission.is_some(), m.duplicates))
            .collect();
        ensure!(
            state == [(true, 0), (true, 1), (true, 0), (false, 0)],
            "{state:?}"
        );
    }
    let admissions = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(admissions["admitted"] == 3, "{admissions}");

    // "This person": one admission taken back. An undo that cannot be done whole (the fourth
    // was never let in) undoes nothing; one without a reason neither.
    north.undo_party(&[codes[0].clone()], "scanned the wrong ticket")?;
    ensure!(
        north
            .undo_party(&[codes[2].clone(), codes[3].clone()], "gone home")
            .is_err()
    );
    ensure!(north.undo_party(&[codes[2].clone()], "  ").is_err());
    let party = north.party(&codes[0])?;
    let inside: Vec<bool> = party
        .members
        .iter()
        .map(|m| m.admission.is_some())
        .collect();
    ensure!(inside == [false, true, true, false], "{inside:?}");

    // Bad requests change nothing.
    let before = north.local_status()?.appended;
    ensure!(
        north
            .check_in_party(&PartyCheckInRequest::default())
            .is_err()
    );
    let too_many: Vec<String> = (0..=onsite_desk_core::MAX_PARTY)
        .map(|i| format!("X{i:04}"))
        .collect();
    ensure!(
        north
            .check_in_party(&PartyCheckInRequest {
                codes: too_many,
                gate: None,
            })
            .is_err()
    );
    ensure!(north.party("NOPE-NOPE").is_err());
    ensure!(north.local_status()?.appended == before);
    Ok(())
}

/// A keyboard-wedge scanner on a French or German keyboard types another string than the code
/// it scanned (`K7QF-3XP9` comes as `KèAF)"XPç` on AZERTY). The door finds the ticket anyway,
/// in the search and at check-in; a typed string that is no code on any layout stays unknown.
#[test]
fn a_code_typed_by_a_scanner_on_azerty_or_qwertz_is_found_and_admitted() -> Result<()> {
    use onsite_shared::scan::Layout;
    let dir = TempDir::new("desk-layouts")?;
    let server = demo_server(&dir, 30)?;
    let desk = LocalDesk::enrol(&server, DEMO, "layouts", dir.path())?;
    desk.sync()?;
    let people: Vec<RosterEntry> = desk
        .search("a")?
        .into_iter()
        .filter(|e| e.admits && !e.withdrawn && e.admission.is_none())
        .take(2)
        .collect();
    ensure!(people.len() == 2, "two people to admit");
    for (person, layout) in people.iter().zip(Layout::ALL) {
        let typed = layout.typed(person.code.as_str());
        ensure!(
            typed != person.code.as_str(),
            "{layout:?} changes {}",
            person.code
        );
        let found = desk.search(&typed)?;
        ensure!(
            found.first().map(|e| &e.code) == Some(&person.code),
            "{layout:?}: {typed} found {:?}",
            found.first().map(|e| e.code.to_string())
        );
        let outcome = desk.check_in(&scan(&typed))?;
        ensure!(
            matches!(&outcome, CheckInOutcome::Admitted { entry: Some(e), .. } if e.code == person.code),
            "{layout:?}: {outcome:?}"
        );
    }
    ensure!(matches!(
        desk.check_in(&scan("§§§§-§§§§"))?,
        CheckInOutcome::UnknownTicket { .. }
    ));
    Ok(())
}

/// `onsite-desk-cli <args>` on `db`, with `stdin`; its standard output, or its error.
fn cli(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Result<String> {
    use std::io::Write as _;
    let mut child = Command::new(workspace::binary("onsite-desk-cli")?)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(text.as_bytes())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "onsite-desk-cli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The desk from a shell does what the window does at the door: enrol, sell a walk-in seat
/// (the sale as JSON), check it in, search, read the inbox, all with JSON answers; and its
/// `status`, each call a new process, says how the last sync went instead of "offline".
#[test]
fn the_command_line_works_the_door_and_says_how_the_last_sync_went() -> Result<()> {
    let dir = TempDir::new("desk-cli-door")?;
    let server = demo_server(&dir, 20)?;
    let db = dir.path().join("cli.sqlite3");
    let code = server.enrolment_code(DEMO, "Shell desk")?;
    let enrolled: serde_json::Value = serde_json::from_str(&cli(
        &db,
        &["--json", "enrol", "--server", &server.url, &code],
        None,
    )?)?;
    ensure!(
        enrolled["name"] == "Shell desk" && enrolled.get("token").is_none(),
        "{enrolled}"
    );
    server.admin(
        Method::PUT,
        &format!("/v1/conferences/{DEMO}/hand-outs"),
        Some(serde_json::json!({"items": [{"id": "t-shirt", "name": "T-shirt", "sizes": ["M"]}]})),
    )?;
    cli(&db, &["sync"], None)?;
    let status = |db: &std::path::Path| -> Result<serde_json::Value> {
        let text = cli(db, &["status"], None)?;
        let first = serde_json::Deserializer::from_str(&text)
            .into_iter::<serde_json::Value>()
            .next()
            .context("a status")??;
        Ok(first)
    };
    let now = status(&db)?;
    ensure!(
        now["online"] == true && now["last_error"].is_null(),
        "{now}"
    );

    let seats: serde_json::Value = serde_json::from_str(&cli(&db, &["availability"], None)?)?;
    let seat = seats
        .as_array()
        .context("seats")?
        .iter()
        .find(|s| s["admits"] == true && s["remaining"].as_i64() > Some(0))
        .context("an admission seat")?;
    let sale = serde_json::json!({
        "tickets": [{
            "seat_type": seat["seat_type"], "first_name": "Shelly", "last_name": "Scripted",
            "email": "shelly@example.com", "company": "", "attendee_types": []
        }],
        "payment_method": "cash",
        "amount_taken_minor": seat["price"]["amount_minor"],
    });
    let receipt: serde_json::Value =
        serde_json::from_str(&cli(&db, &["sell", "-"], Some(&sale.to_string()))?)?;
    let ticket = receipt["tickets"][0]["code"]
        .as_str()
        .context("a ticket")?
        .to_owned();
    let admitted: serde_json::Value =
        serde_json::from_str(&cli(&db, &["check-in-party", &ticket], None)?)?;
    ensure!(admitted[0]["outcome"] == "admitted", "{admitted}");
    ensure!(
        admitted[0]["entry"]["hand_outs"][0]["item"] == "t-shirt",
        "{admitted}"
    );
    let hand_out = |args: &[&str]| -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&cli(&db, args, None)?)?)
    };
    ensure!(cli(&db, &["hand-out", &ticket, "t-shirt", "--size", "XL"], None).is_err());
    let given = hand_out(&["hand-out", &ticket, "t-shirt", "--size", "M"])?;
    ensure!(given["outcome"] == "given", "{given}");
    let again = hand_out(&["hand-out", &ticket, "t-shirt", "--size", "M"])?;
    ensure!(again["outcome"] == "already_given", "{again}");
    cli(
        &db,
        &[
            "undo-hand-out",
            &ticket,
            "t-shirt",
            "--reason",
            "wrong person",
        ],
        None,
    )?;
    let found: serde_json::Value =
        serde_json::from_str(&cli(&db, &["--json", "search", "Scripted"], None)?)?;
    ensure!(found[0]["code"] == ticket.as_str(), "{found}");
    let inbox: serde_json::Value = serde_json::from_str(&cli(&db, &["conflicts"], None)?)?;
    ensure!(inbox.as_array().is_some_and(Vec::is_empty), "{inbox}");
    ensure!(cli(&db, &["sell", "-"], Some("{not json")).is_err());
    ensure!(
        cli(
            &db,
            &[
                "conflict",
                "not-an-id",
                "{\"action\":\"close\",\"note\":\"x\"}"
            ],
            None
        )
        .is_err()
    );
    cli(&db, &["sync"], None)?;
    let sales: serde_json::Value = serde_json::from_str(&cli(&db, &["sales"], None)?)?;
    ensure!(sales[0]["status"] == "confirmed", "{sales}");

    // The server goes away: the next process's status says the last sync failed, and why.
    drop(server);
    ensure!(cli(&db, &["sync"], None).is_err());
    let now = status(&db)?;
    ensure!(
        now["online"] == false && now["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{now}"
    );
    Ok(())
}

/// A walk-in guest buys without giving a name and walks in with the sale: each ticket is
/// "Walk-in guest N" (counted at the desk), admitted in the same transaction at the desk's
/// gate; the server takes both and head office finds the guests by that name.
#[test]
fn a_walk_in_guest_without_a_name_is_sold_and_let_in_at_once() -> Result<()> {
    let dir = TempDir::new("desk-guest")?;
    let server = demo_server(&dir, 20)?;
    let desk = LocalDesk::enrol(&server, DEMO, "guest-door", dir.path())?;
    desk.sync()?;
    desk.set_gate("east")?;
    let seat = desk
        .availability()?
        .into_iter()
        .find(|s| s.admits && s.remaining >= 2)
        .context("two seats")?;
    let mut sale = walk_in(seat.seat_type, 2, "ignored");
    for t in &mut sale.tickets {
        t.first_name.clear();
        t.last_name.clear();
        t.email.clear();
    }
    sale.amount_taken_minor = 2 * seat.price.amount_minor;
    let receipt = desk.sell_and_admit(&sale)?;
    let names: Vec<String> = receipt
        .tickets
        .iter()
        .map(|t| format!("{} {}", t.attendee.first_name, t.attendee.last_name))
        .collect();
    ensure!(names == ["Walk-in guest 1", "Walk-in guest 2"], "{names:?}");
    let codes: Vec<_> = receipt.tickets.iter().map(|t| t.code.clone()).collect();
    ensure!(receipt.admitted == codes, "{:?}", receipt.admitted);
    for code in &codes {
        let e = desk.attendee(code.as_str())?.context("on the roster")?;
        ensure!(
            e.admission.as_ref().is_some_and(|a| a.gate == "east"),
            "{e:?}"
        );
    }
    // The next guest at this desk is the third.
    let mut one = walk_in(seat.seat_type, 1, "x");
    one.tickets[0].first_name.clear();
    one.tickets[0].last_name.clear();
    one.tickets[0].email.clear();
    one.amount_taken_minor = seat.price.amount_minor;
    let third = desk.sell(&one)?;
    ensure!(third.tickets[0].attendee.last_name == "guest 3" && third.admitted.is_empty());

    desk.sync()?;
    ensure!(desk.local_status()?.pending == 0);
    let found = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/registrations?q=walk-in+guest"),
        None,
    )?;
    ensure!(found["total"] == 3, "{found}");
    let admissions = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(admissions["admitted"] == 2, "{admissions}");
    Ok(())
}

/// The door's live numbers: inside now, the last 15 minutes, this desk's pace and who is still
/// to come; an undo takes one out, and another door's admissions count once pulled (but not in
/// this desk's pace).
#[test]
fn the_door_counts_who_is_inside_and_who_is_still_to_come() -> Result<()> {
    let dir = TempDir::new("desk-numbers")?;
    let server = demo_server(&dir, 30)?;
    let here = LocalDesk::enrol(&server, DEMO, "numbers-here", dir.path())?;
    let there = LocalDesk::enrol(&server, DEMO, "numbers-there", dir.path())?;
    here.sync()?;
    there.sync()?;
    let start = here.door_numbers()?;
    ensure!(start.inside_now == 0 && start.expected > 4, "{start:?}");
    let people: Vec<RosterEntry> = here
        .search("a")?
        .into_iter()
        .filter(|e| e.admits && !e.withdrawn && e.admission.is_none())
        .take(4)
        .collect();
    ensure!(people.len() == 4);
    for p in &people[..3] {
        here.check_in(&scan(p.code.as_str()))?;
    }
    let now = here.door_numbers()?;
    ensure!(
        now.inside_now == 3
            && now.last_15_min == 3
            && (now.per_minute_here - 0.6).abs() < 1e-9
            && now.expected == start.expected - 3,
        "{now:?}"
    );
    here.undo_check_in(people[0].code.as_str(), "wrong person")?;
    there.check_in(&scan(people[3].code.as_str()))?;
    there.sync()?;
    here.sync()?;
    let after = here.door_numbers()?;
    ensure!(
        after.inside_now == 3
            && (after.per_minute_here - 0.4).abs() < 1e-9
            && after.expected == start.expected - 3,
        "{after:?}"
    );
    // A walk-in sold here is one more to come (the count of tickets that admit is kept
    // between reads, and counted again when the roster changed).
    let seat = here
        .availability()?
        .into_iter()
        .find(|s| s.admits && s.remaining > 0)
        .context("a seat")?;
    let mut sale = walk_in(seat.seat_type, 1, "Late");
    sale.amount_taken_minor = seat.price.amount_minor;
    here.sell(&sale)?;
    ensure!(here.door_numbers()?.expected == after.expected + 1);
    Ok(())
}

/// Hand-outs: head office lists a T-shirt in sizes for everyone and a kit for a workshop's
/// holders. Two doors, offline from each other, hand the same person a T-shirt: both record
/// it (it happened), the server keeps the first and flags the second with a conflict, and
/// every desk then shows the first with one duplicate. Head office counts it once. A kit for
/// someone without the workshop, a size the item does not come in, and an undo without a
/// reason are refused and record nothing; an undo with one frees the item again.
#[test]
fn an_item_handed_out_at_two_offline_doors_is_flagged_once_and_counted_once() -> Result<()> {
    use onsite_desk_core::{HandOutOutcome, HandOutRequest};
    let dir = TempDir::new("desk-hand-outs")?;
    let server = demo_server(&dir, 30)?;
    let north = LocalDesk::enrol(&server, DEMO, "north-hand-outs", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "south-hand-outs", dir.path())?;
    north.sync()?;
    let workshop = north
        .availability()?
        .into_iter()
        .find(|s| !s.admits)
        .context("an add-on")?;
    let path = format!("/v1/conferences/{DEMO}/hand-outs");
    server.admin(
        Method::PUT,
        &path,
        Some(serde_json::json!({"items": [
            {"id": "t-shirt", "name": "T-shirt", "sizes": ["S", "M", "L"]},
            {"id": "workshop-kit", "name": "Workshop kit", "seat_types": [workshop.seat_type]},
        ]})),
    )?;
    north.sync()?;
    south.sync()?;
    let mut everyone = Vec::new();
    for letter in ['a', 'e', 'i', 'o', 'u'] {
        everyone.extend(north.search(&letter.to_string())?);
    }
    let person = everyone
        .into_iter()
        .find(|e| e.admits && e.entitlements.is_empty())
        .context("someone without add-ons")?;
    let code = person.code.to_string();
    let items: Vec<&str> = person.hand_outs.iter().map(|h| h.item.as_str()).collect();
    ensure!(items == ["t-shirt"], "{items:?}");
    let give = |item: &str, size: Option<&str>| HandOutRequest {
        code: code.clone(),
        item: item.into(),
        size: size.map(str::to_owned),
    };

    // Refusals record nothing.
    let before = north.local_status()?.appended;
    for (req, wanted) in [
        (give("workshop-kit", None), "hand_out.not_for_this_ticket"),
        (give("t-shirt", Some("XXL")), "hand_out.unknown_size"),
        (give("t-shirt", None), "hand_out.size_required"),
        (give("gold-bar", None), "hand_out.not_for_this_ticket"),
    ] {
        let e = north.hand_out(&req).err().context("accepted")?;
        ensure!(e.code() == wanted, "{req:?}: {e}");
    }
    ensure!(north.undo_hand_out(&code, "t-shirt", "oops").is_err());
    ensure!(north.local_status()?.appended == before);

    // Both doors hand one over before hearing of the other.
    let at_north = north.hand_out(&give("t-shirt", Some("m")))?;
    let HandOutOutcome::Given { entry } = &at_north else {
        bail!("{at_north:?}");
    };
    let given = entry.hand_outs[0].given.as_ref().context("given")?;
    ensure!(
        given.size.as_deref() == Some("M") && given.pending,
        "{given:?}"
    );
    let again = north.hand_out(&give("t-shirt", Some("L")))?;
    ensure!(
        matches!(again, HandOutOutcome::AlreadyGiven { .. }),
        "{again:?}"
    );
    ensure!(matches!(
        south.hand_out(&give("t-shirt", Some("L")))?,
        HandOutOutcome::Given { .. }
    ));
    north.sync()?;
    south.sync()?;
    north.sync()?;
    for desk in [&north, &south] {
        let e = desk.attendee(&code)?.context("the attendee")?;
        let h = &e.hand_outs[0];
        let g = h.given.as_ref().context("given")?;
        ensure!(
            g.size.as_deref() == Some("M") && !g.pending && h.duplicates == 1,
            "{h:?}"
        );
        let flagged = desk.conflicts()?.into_iter().any(|c| {
            matches!(&c.kind, ConflictKind::DuplicateHandOut { code: c, item, .. }
                if c.as_str() == code && item == "t-shirt")
        });
        ensure!(flagged, "the duplicate reached every desk");
    }
    let counts = server.admin(Method::GET, &path, None)?;
    ensure!(counts["given"][0]["given"] == 1, "{counts}");
    // Everyone who is let in gets a T-shirt: head office expects as many as the desk does
    // people (nobody is in yet), and the kit only for the workshop's holders.
    let people = north.door_numbers()?.expected;
    ensure!(
        counts["given"][0]["expected"] == people && people > 0,
        "{counts} vs {people}"
    );
    ensure!(
        counts["given"][1]["expected"].as_u64() < Some(people),
        "{counts}"
    );
    ensure!(
        counts["given"][0]["by_size"]
            == serde_json::json!([{"size": "S", "given": 0}, {"size": "M", "given": 1}, {"size": "L", "given": 0}]),
        "{counts}"
    );

    // Taken back with a reason, then handed over again in another size.
    ensure!(north.undo_hand_out(&code, "t-shirt", " ").is_err());
    let undone = north.undo_hand_out(&code, "t-shirt", "swapped for an L")?;
    ensure!(undone.hand_outs[0].given.is_none());
    ensure!(matches!(
        north.hand_out(&give("t-shirt", Some("L")))?,
        HandOutOutcome::Given { .. }
    ));
    north.sync()?;
    let counts = server.admin(Method::GET, &path, None)?;
    ensure!(counts["given"][0]["by_size"][2]["given"] == 1, "{counts}");
    ensure!(counts["given"][0]["given"] == 1, "{counts}");
    Ok(())
}

/// A Monday pass scanned on another day: the desk judges it offline in the conference's
/// time zone and answers amber with the reason, records nothing, and shows "check ID"; staff
/// let the person in with a reason, the server takes it without a flag. Other seat types are
/// untouched.
#[test]
fn a_day_pass_on_another_day_is_amber_at_the_door_and_let_in_only_with_a_reason() -> Result<()> {
    use onsite_shared::admission_rules::RuleBreach;
    let dir = TempDir::new("desk-rules")?;
    let server = demo_server(&dir, 30)?;
    let desk = LocalDesk::enrol(&server, DEMO, "rules-door", dir.path())?;
    desk.sync()?;
    let person = admission_ticket(&desk, "a")?;
    let path = format!(
        "/v1/conferences/{DEMO}/seat-types/{}/admission-rules",
        person.seat_type
    );
    server.admin(
        Method::PUT,
        &path,
        Some(serde_json::json!({"valid_on": ["2026-11-23"], "id_check": true})),
    )?;
    desk.sync()?;
    let before = desk.local_status()?.appended;
    let outcome = desk.check_in(&scan(person.code.as_str()))?;
    let CheckInOutcome::OutsideRules {
        entry: Some(entry),
        breach: RuleBreach::WrongDay { day, valid_on },
    } = &outcome
    else {
        bail!("{outcome:?}");
    };
    ensure!(entry.id_check && !entry.minor, "{entry:?}");
    ensure!(*day == chrono::Utc::now().date_naive(), "{day}");
    ensure!(valid_on.len() == 1, "{valid_on:?}");
    ensure!(desk.local_status()?.appended == before, "nothing recorded");

    let overridden = desk.check_in(&CheckInRequest {
        override_reason: Some("organiser let the Monday pass in".into()),
        ..scan(person.code.as_str())
    })?;
    ensure!(
        matches!(
            overridden,
            CheckInOutcome::Admitted {
                overridden: true,
                ..
            }
        ),
        "{overridden:?}"
    );
    desk.sync()?;
    let conflicts = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/conflicts"),
        None,
    )?;
    ensure!(
        conflicts
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["kind"] != "admission_outside_rules")),
        "{conflicts}"
    );
    // Rules taken away: the next person of that seat type is let in as before.
    server.admin(Method::PUT, &path, Some(serde_json::json!({})))?;
    desk.sync()?;
    let next = admission_ticket(&desk, "e")?;
    ensure!(matches!(
        desk.check_in(&scan(next.code.as_str()))?,
        CheckInOutcome::Admitted {
            overridden: false,
            ..
        }
    ));
    Ok(())
}

/// Exits, re-entry and inside-now: head office names an exit and a workshop door (both ways,
/// into a zone without re-entry). People go in at the main gate, out at the exit, back in;
/// inside now is the same on both desks and at head office after sync, each person once
/// whatever gates they used. The workshop door lets out whoever is in and refuses re-entry
/// to whoever went out; an exit scan of someone not inside says so and records nothing.
#[test]
fn exits_and_re_entries_keep_inside_now_equal_on_every_desk_and_at_head_office() -> Result<()> {
    let dir = TempDir::new("desk-exits")?;
    exits_and_re_entries(&dir, &demo_server(&dir, 30)?)
}

/// The same on PostgreSQL, with hand-outs counted there too.
#[test]
fn on_postgres_exits_re_entries_and_hand_outs_are_counted_alike() -> Result<()> {
    let pg = onsite_tests::postgres::PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("desk-exits-pg")?;
    server_command(dir.path(), Some(&url), &["demo", "--attendees", "30"])?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    let path = format!("/v1/conferences/{DEMO}/hand-outs");
    server.admin(
        Method::PUT,
        &path,
        Some(serde_json::json!({"items": [{"id": "voucher", "name": "Meal voucher"}]})),
    )?;
    let desk = LocalDesk::enrol(&server, DEMO, "pg-voucher", dir.path())?;
    desk.sync()?;
    let person = admission_ticket(&desk, "a")?;
    desk.hand_out(&onsite_desk_core::HandOutRequest {
        code: person.code.to_string(),
        item: "voucher".into(),
        size: None,
    })?;
    desk.sync()?;
    let counts = server.admin(Method::GET, &path, None)?;
    ensure!(counts["given"][0]["given"] == 1, "{counts}");
    ensure!(
        counts["given"][0]["expected"].as_u64() > Some(1),
        "{counts}"
    );
    // A lounge for one: two desks that do not hear of each other let one person in each;
    // the second is flagged over capacity, and the lounge counts both, then one.
    let rooms = format!("/v1/conferences/{DEMO}/rooms");
    server.admin(
        Method::PUT,
        &rooms,
        Some(serde_json::json!({"rooms": [{"name": "Lounge", "capacity": 1}]})),
    )?;
    let other = LocalDesk::enrol(&server, DEMO, "pg-lounge", dir.path())?;
    desk.sync()?;
    other.sync()?;
    desk.set_gate("Lounge")?;
    other.set_gate("Lounge")?;
    let second = desk
        .search("e")?
        .into_iter()
        .find(|e| e.admits && e.code != person.code)
        .context("a second person")?;
    for (d, p) in [(&desk, &person), (&other, &second)] {
        let o = d.check_in(&scan(p.code.as_str()))?;
        ensure!(matches!(o, CheckInOutcome::EnteredRoom { .. }), "{o:?}");
    }
    desk.sync()?;
    other.sync()?;
    let numbers = server.admin(Method::GET, &rooms, None)?;
    ensure!(numbers["numbers"][0]["inside_now"] == 2, "{numbers}");
    ensure!(
        other
            .conflicts()?
            .iter()
            .any(|c| matches!(c.kind, ConflictKind::RoomEntry { .. })),
        "the lounge over capacity is flagged"
    );
    desk.leave_room(person.code.as_str(), None)?;
    desk.sync()?;
    let numbers = server.admin(Method::GET, &rooms, None)?;
    ensure!(
        numbers["numbers"][0]["inside_now"] == 1 && numbers["numbers"][0]["attended"] == 2,
        "{numbers}"
    );
    exits_and_re_entries(&dir, &server)
}

fn exits_and_re_entries(dir: &TempDir, server: &TestServer) -> Result<()> {
    server.admin(
        Method::PUT,
        &format!("/v1/conferences/{DEMO}/gates"),
        Some(serde_json::json!({
            "gates": [
                {"name": "north exit", "direction": "out"},
                {"name": "workshop door", "direction": "both", "zone": "workshop"},
                {"name": "terrace", "direction": "in", "zone": "terrace"},
            ],
            "no_reentry": ["workshop"],
        })),
    )?;
    let main = LocalDesk::enrol(server, DEMO, "main-gate", dir.path())?;
    let exit = LocalDesk::enrol(server, DEMO, "exit-gate", dir.path())?;
    let workshop = LocalDesk::enrol(server, DEMO, "workshop-gate", dir.path())?;
    exit.set_gate("north exit")?;
    workshop.set_gate("workshop door")?;
    let sync_all = || -> Result<()> {
        for d in [&main, &exit, &workshop, &main] {
            d.sync()?;
        }
        Ok(())
    };
    sync_all()?;
    let ada = admission_ticket(&main, "a")?;
    let bob = main
        .search("e")?
        .into_iter()
        .find(|e| e.admits && !e.withdrawn && e.admission.is_none() && e.code != ada.code)
        .context("a second person")?;
    let never = main
        .search("o")?
        .into_iter()
        .find(|e| e.admits && e.admission.is_none() && e.code != ada.code && e.code != bob.code)
        .context("a third person")?;
    for p in [&ada, &bob] {
        ensure!(matches!(
            main.check_in(&scan(p.code.as_str()))?,
            CheckInOutcome::Admitted { .. }
        ));
    }
    sync_all()?;
    let inside = |want: u64| -> Result<()> {
        sync_all()?;
        for d in [&main, &exit, &workshop] {
            let n = d.door_numbers()?.inside_now;
            ensure!(n == want, "a desk says {n} inside, not {want}");
        }
        let office = server.admin(
            Method::GET,
            &format!("/v1/conferences/{DEMO}/admissions"),
            None,
        )?;
        ensure!(office["inside_now"] == want, "{office}");
        ensure!(office["admitted"] == 2, "{office}");
        Ok(())
    };
    inside(2)?;

    // Ada goes out at the exit, and out again: the second is "not inside".
    let out = exit.check_in(&scan(ada.code.as_str()))?;
    ensure!(matches!(out, CheckInOutcome::Exited { .. }), "{out:?}");
    let again = exit.check_in(&scan(ada.code.as_str()))?;
    ensure!(
        matches!(again, CheckInOutcome::NotInside { since: Some(_), .. }),
        "{again:?}"
    );
    let nobody = exit.check_in(&scan(never.code.as_str()))?;
    ensure!(
        matches!(nobody, CheckInOutcome::NotInside { since: None, .. }),
        "{nobody:?}"
    );
    inside(1)?;
    // Back in, through the terrace: she is on the terrace, Bob in the venue.
    let back = main.check_in(&CheckInRequest {
        gate: Some("terrace".into()),
        ..scan(ada.code.as_str())
    })?;
    ensure!(matches!(back, CheckInOutcome::Reentered { .. }), "{back:?}");
    inside(2)?;
    for d in [&main, &exit, &workshop] {
        let zones: Vec<(String, u64)> = d
            .door_numbers()?
            .zones
            .into_iter()
            .map(|z| (z.zone, z.inside_now))
            .collect();
        ensure!(
            zones
                == [
                    ("venue".to_owned(), 1),
                    ("workshop".to_owned(), 0),
                    ("terrace".to_owned(), 1)
                ],
            "{zones:?}"
        );
    }
    // The workshop door lets Bob out (he is in); Ada goes out at the exit, and the workshop
    // door does not let her back in.
    let bob_out = workshop.check_in(&scan(bob.code.as_str()))?;
    ensure!(
        matches!(bob_out, CheckInOutcome::Exited { .. }),
        "{bob_out:?}"
    );
    ensure!(matches!(
        exit.check_in(&scan(ada.code.as_str()))?,
        CheckInOutcome::Exited { .. }
    ));
    sync_all()?;
    let refused = workshop.check_in(&scan(ada.code.as_str()))?;
    ensure!(
        matches!(refused, CheckInOutcome::ReentryRefused { .. }),
        "{refused:?}"
    );
    inside(0)?;
    let office = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    let gates: Vec<(String, i64)> = office["by_gate"]
        .as_array()
        .context("by gate")?
        .iter()
        .map(|g| {
            (
                g["gate"].as_str().unwrap_or_default().to_owned(),
                g["inside"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    ensure!(gates.iter().all(|(_, n)| *n == 0), "{gates:?}");
    Ok(())
}

/// The check-in card as head office sets it: an imported note shows in red, an imported
/// custom field when chosen, the email only at a gate that lists it; the preferred name and
/// pronouns an import brought reach the roster.
#[test]
fn the_card_shows_what_head_office_chose_with_the_note_in_red_and_no_email_unless_asked()
-> Result<()> {
    use onsite_desk_core::CardLine;
    let dir = TempDir::new("desk-card")?;
    let server = demo_server(&dir, 10)?;
    let csv = dir.path().join("regs.csv");
    std::fs::write(
        &csv,
        "source_id,seat_type,first_name,last_name,email,preferred_name,pronouns,note,dietary\n\
         C-1,Conference pass,William,Gates,bill@example.com,Bill,he/him,Wheelchair user: aisle seat,vegan\n\
         C-2,Conference pass,Grace,Hopper,grace@example.com,,,,\n",
    )?;
    server_command(
        dir.path(),
        None,
        &[
            "import",
            &csv.display().to_string(),
            "--conference",
            &DEMO.to_string(),
        ],
    )?;
    server.admin(
        Method::PUT,
        &format!("/v1/conferences/{DEMO}/result-card"),
        Some(serde_json::json!({
            "fields": ["seat_type", "note", {"custom": "dietary"}],
            "gates": {"press": ["email"]},
        })),
    )?;
    let door = LocalDesk::enrol(&server, DEMO, "card-door", dir.path())?;
    let press = LocalDesk::enrol(&server, DEMO, "press-door", dir.path())?;
    press.set_gate("press")?;
    door.sync()?;
    press.sync()?;
    let bill = door.search("gates")?.into_iter().next().context("Bill")?;
    ensure!(
        bill.preferred_name.as_deref() == Some("Bill")
            && bill.pronouns.as_deref() == Some("he/him"),
        "{bill:?}"
    );
    // The badge says the name he goes by, and his pronouns.
    let badge = door.badge_svg(bill.code.as_str())?;
    ensure!(
        badge.svg.contains("Bill Gates")
            && badge.svg.contains("he/him")
            && !badge.svg.contains("William"),
        "{}",
        badge.svg
    );
    let line = |label: &str, text: &str, attention: bool| CardLine {
        label: label.into(),
        text: text.into(),
        attention,
    };
    let CheckInOutcome::Admitted { card, .. } = door.check_in(&scan(bill.code.as_str()))? else {
        bail!("Bill was not admitted");
    };
    ensure!(
        card == [
            line("Ticket", "Conference pass", false),
            line("Note", "Wheelchair user: aisle seat", true),
            line("dietary", "vegan", false),
        ],
        "{card:?}"
    );
    let grace = door.search("hopper")?.into_iter().next().context("Grace")?;
    let CheckInOutcome::Admitted { card, .. } = press.check_in(&scan(grace.code.as_str()))? else {
        bail!("Grace was not admitted");
    };
    ensure!(
        card == [line("Email", "grace@example.com", false)],
        "{card:?}"
    );

    // A name for Grace's badge only, set at the press desk: both desks print it after sync,
    // and her registration stays as it is.
    press.set_badge_name(
        grace.code.as_str(),
        &onsite_desk_core::BadgeName {
            preferred_name: Some("Amazing Grace".into()),
            pronouns: Some("she/her".into()),
        },
    )?;
    press.sync()?;
    door.sync()?;
    let badge = door.badge_svg(grace.code.as_str())?;
    ensure!(
        badge.svg.contains("Amazing Grace Hopper") && badge.svg.contains("she/her"),
        "{}",
        badge.svg
    );
    let registrations = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/registrations?q=hopper"),
        None,
    )?;
    ensure!(
        registrations["registrations"][0]["first_name"] == "Grace",
        "{registrations}"
    );
    ensure!(
        door.set_badge_name("NOPE-NOPE", &onsite_desk_core::BadgeName::default())
            .is_err()
    );
    Ok(())
}

/// Rooms: head office sets a reception for everyone (5 places) and a workshop room for the
/// workshop's holders. Two desks set to the reception, offline from each other: the north
/// desk warns at 80 %, is full at 5 and refuses the sixth unless staff give a reason; a
/// second scan says since when, and "left" frees a place. The south desk lets two more in
/// before it hears of the north's: the server records both (they happened) and flags them
/// over capacity with conflicts, and afterwards every desk and head office count the same
/// people in the room. The workshop room lets only holders in; entering it leaves the
/// reception. A party cannot be checked in at a room. Bad room lists change nothing.
#[test]
fn a_room_warns_fills_and_refuses_and_every_desk_counts_it_alike_after_sync() -> Result<()> {
    use onsite_shared::room::{Fill, RoomBreach};
    let dir = TempDir::new("desk-rooms")?;
    let server = demo_server(&dir, 40)?;
    let north = LocalDesk::enrol(&server, DEMO, "north-rooms", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "south-rooms", dir.path())?;
    north.sync()?;
    let workshop = north
        .availability()?
        .into_iter()
        .find(|s| !s.admits)
        .context("an add-on")?;
    let path = format!("/v1/conferences/{DEMO}/rooms");
    // Refused lists change nothing.
    for bad in [
        serde_json::json!({"rooms": [{"name": "Reception", "capacity": 0}]}),
        serde_json::json!({"rooms": [{"name": "A"}, {"name": " a "}]}),
        serde_json::json!({"rooms": [{"name": "A", "seat_types": [SeatTypeId::from_u128(7)]}]}),
        serde_json::json!({"rooms": [{"name": "x".repeat(500)}]}),
    ] {
        let (status, body) = server.admin_raw(Method::PUT, &path, Some(bad.clone()))?;
        ensure!(status == 422, "{bad}: {status} {body}");
    }
    ensure!(server.admin(Method::GET, &path, None)?["rooms"] == serde_json::json!([]));
    server.admin(
        Method::PUT,
        &path,
        Some(serde_json::json!({"rooms": [
            {"name": "Reception", "capacity": 5},
            {"name": "Workshop room", "seat_types": [workshop.seat_type]},
        ]})),
    )?;
    north.sync()?;
    south.sync()?;
    north.set_gate("reception")?;
    south.set_gate("Reception")?;

    let mut everyone = Vec::new();
    for letter in ['a', 'e', 'i', 'o', 'u'] {
        for e in north.search(&letter.to_string())? {
            if e.admits && !everyone.iter().any(|o: &RosterEntry| o.code == e.code) {
                everyone.push(e);
            }
        }
    }
    ensure!(everyone.len() >= 10, "{} people", everyone.len());
    let room_of = |o: &CheckInOutcome| match o {
        CheckInOutcome::EnteredRoom { room, .. } => Ok(room.clone()),
        other => bail!("{other:?}"),
    };
    let mut fills = Vec::new();
    for e in &everyone[..5] {
        let r = room_of(&north.check_in(&scan(e.code.as_str()))?)?;
        ensure!(r.name == "Reception" && r.capacity == Some(5), "{r:?}");
        fills.push((r.occupancy, r.fill));
    }
    ensure!(
        fills
            == [
                (1, Fill::Room),
                (2, Fill::Room),
                (3, Fill::Room),
                (4, Fill::Filling),
                (5, Fill::Full)
            ],
        "{fills:?}"
    );
    // The sixth is refused, and records nothing; with a reason, let in.
    let before = north.local_status()?.appended;
    let sixth = everyone[5].code.to_string();
    let full = north.check_in(&scan(&sixth))?;
    ensure!(
        matches!(&full, CheckInOutcome::RoomFull { room, .. } if room.occupancy == 5),
        "{full:?}"
    );
    ensure!(north.local_status()?.appended == before);
    let anyway = north.check_in(&CheckInRequest {
        override_reason: Some("the speaker's partner".into()),
        ..scan(&sixth)
    })?;
    ensure!(
        matches!(&anyway, CheckInOutcome::EnteredRoom { room, overridden: true, .. }
            if room.occupancy == 6 && room.fill == Fill::Over),
        "{anyway:?}"
    );
    // Scanned again: since when; then marked as left.
    let first = everyone[0].code.to_string();
    ensure!(matches!(
        north.check_in(&scan(&first))?,
        CheckInOutcome::AlreadyInRoom { .. }
    ));
    let left = north.leave_room(&first, None)?;
    ensure!(
        matches!(&left, CheckInOutcome::LeftRoom { room, .. } if room.occupancy == 5),
        "{left:?}"
    );
    ensure!(north.leave_room(&first, None).is_err(), "left twice");
    // A party is not checked in at a room.
    let party = north.check_in_party(&PartyCheckInRequest {
        codes: vec![everyone[8].code.to_string()],
        gate: None,
    });
    ensure!(party.is_err(), "{party:?}");

    // South, not having heard of the north's, lets two more in: to it, the room has room.
    for e in &everyone[6..8] {
        let r = room_of(&south.check_in(&scan(e.code.as_str()))?)?;
        ensure!(r.occupancy <= 2, "{r:?}");
    }
    north.sync()?;
    south.sync()?;
    north.sync()?;
    for desk in [&north, &south] {
        let rooms = desk.rooms()?;
        ensure!(
            rooms[0].name == "Reception" && rooms[0].occupancy == 7,
            "{rooms:?}"
        );
        let flagged = desk
            .conflicts()?
            .into_iter()
            .filter(|c| {
                matches!(
                    &c.kind,
                    ConflictKind::RoomEntry {
                        breach: RoomBreach::OverCapacity { capacity: 5, .. },
                        ..
                    }
                )
            })
            .count();
        ensure!(flagged == 2, "{flagged} over-capacity conflicts");
        ensure!(desk.door_numbers()?.rooms[0].occupancy == 7);
    }
    let numbers = server.admin(Method::GET, &path, None)?;
    ensure!(
        numbers["numbers"][0]["inside_now"] == 7 && numbers["numbers"][0]["attended"] == 8,
        "{numbers}"
    );

    // The workshop room: holders only; entering it leaves the reception.
    north.set_gate("Workshop room")?;
    let not_holder = everyone[1].code.to_string();
    let refused = north.check_in(&scan(&not_holder))?;
    if everyone[1].holds.contains(&workshop.seat_type) {
        ensure!(matches!(refused, CheckInOutcome::EnteredRoom { .. }));
    } else {
        ensure!(
            matches!(refused, CheckInOutcome::NotEntitledToRoom { .. }),
            "{refused:?}"
        );
        ensure!(matches!(
            north.check_in(&CheckInRequest {
                override_reason: Some("helps the trainer".into()),
                ..scan(&not_holder)
            })?,
            CheckInOutcome::EnteredRoom {
                overridden: true,
                ..
            }
        ));
    }
    let rooms = north.rooms()?;
    ensure!(
        rooms[0].occupancy == 6 && rooms[1].occupancy == 1,
        "{rooms:?}"
    );
    let e = north.attendee(&not_holder)?.context("the attendee")?;
    ensure!(e.in_room.as_deref() == Some("Workshop room"), "{e:?}");
    north.sync()?;
    let numbers = server.admin(Method::GET, &path, None)?;
    ensure!(
        numbers["numbers"][0]["inside_now"] == 6 && numbers["numbers"][1]["inside_now"] == 1,
        "{numbers}"
    );
    Ok(())
}

fn grant_lease(
    server: &TestServer,
    conference: ConferenceId,
    desk: &LocalDesk,
    seat_type: SeatTypeId,
    quantity: u32,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let device = desk.enrolment()?.context("enrolled")?.device;
    let granted = server.admin(
        Method::POST,
        &format!("/v1/conferences/{conference}/leases"),
        Some(serde_json::json!({
            "desk": device, "seat_type": seat_type, "quantity": quantity, "until": until,
        })),
    )?;
    Ok(granted["id"].as_str().context("lease id")?.to_owned())
}

pub(crate) fn lease_row(
    server: &TestServer,
    conference: ConferenceId,
    lease: &str,
) -> Result<serde_json::Value> {
    let rows = server.admin(
        Method::GET,
        &format!("/v1/conferences/{conference}/leases"),
        None,
    )?;
    rows.as_array()
        .context("leases")?
        .iter()
        .find(|r| r["lease"] == lease)
        .cloned()
        .with_context(|| format!("lease {lease} in {rows}"))
}

#[test]
fn a_desk_cut_off_sells_its_leased_seats_for_good_while_online_buyers_take_the_rest() -> Result<()>
{
    let dir = TempDir::new("desk-lease")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let link = onsite_tests::partition::Partition::start(&server.url)?;
    let code = server.enrolment_code(conf.id, "North door")?;
    let north = LocalDesk::enrol_with_code(&link.url, &code, &dir.path().join("north.sqlite3"))?;
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    let lease = grant_lease(&server, conf.id, &north, conf.general, 5, until)?;
    ensure!(
        server_remaining(&server, conf.id, conf.general)? == 5,
        "the leased seats left what everyone else can have"
    );
    let view = server.admin(Method::GET, &format!("/v1/conferences/{}", conf.id), None)?;
    ensure!(
        view["held_for_desks"][conf.general.to_string()] == 5,
        "every count says they are held: {view}"
    );
    north.sync()?;
    let held = north.leases()?;
    ensure!(held.len() == 1 && held[0].left == 5, "{held:?}");
    let general = north
        .availability()?
        .into_iter()
        .find(|a| a.seat_type == conf.general)
        .context("general")?;
    ensure!(
        (general.authoritative, general.lease_left, general.remaining) == (5, 5, 10),
        "{general:?}"
    );

    // Cut off: the desk sells its five leased seats, then a sixth beyond the lease.
    link.cut();
    let first = north.sell(&walk_in(conf.general, 3, "Lease"))?;
    let second = north.sell(&walk_in(conf.general, 2, "Lease"))?;
    ensure!(first.final_tickets.len() == 3 && second.final_tickets.len() == 2);
    ensure!(north.leases()?[0].left == 0);
    let sixth = north.sell(&walk_in(conf.general, 1, "Beyond"))?;
    ensure!(
        sixth.final_tickets.is_empty(),
        "beyond the lease the sale is provisional"
    );
    ensure!(north.try_sync().is_err(), "the desk is cut off");

    // Meanwhile online buyers take every seat that is not leased.
    for _ in 0..5 {
        server.place_order(conf.id, conf.general, 1)?;
    }
    ensure!(server_remaining(&server, conf.id, conf.general)? == 0);

    // Healed: the five leased seats are confirmed, the sixth is compensated.
    link.heal();
    north.sync()?;
    north.sync()?;
    let sales = north.sales()?;
    let status_of = |order| {
        sales
            .iter()
            .find(|s| s.order == order)
            .map(|s| (s.status, s.refund_due.map(|m| m.amount_minor)))
    };
    ensure!(
        status_of(first.order) == Some((SaleStatus::Confirmed, None))
            && status_of(second.order) == Some((SaleStatus::Confirmed, None)),
        "{sales:?}"
    );
    ensure!(
        status_of(sixth.order) == Some((SaleStatus::Rejected, Some(19_900))),
        "{sales:?}"
    );
    ensure!(
        server_remaining(&server, conf.id, conf.general)? == 0,
        "never oversold"
    );
    let row = lease_row(&server, conf.id, &lease)?;
    ensure!(
        row["granted"] == 5
            && row["sold"] == 5
            && row["held"] == 0
            && row["desk_name"] == "North door",
        "{row}"
    );
    let refunds = north
        .conflicts()?
        .into_iter()
        .filter(|c| matches!(&c.kind, ConflictKind::WalkInRejected { order, .. } if *order == sixth.order))
        .count();
    ensure!(refunds == 1, "only the sixth sale needs a person");
    Ok(())
}

#[test]
fn a_revoked_lease_keeps_what_the_desk_sold_before_it_heard_and_an_expired_one_gives_seats_back()
-> Result<()> {
    let dir = TempDir::new("desk-lease-end")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(6)?;
    let door = LocalDesk::enrol(&server, conf.id, "South door", dir.path())?;
    let lease = grant_lease(
        &server,
        conf.id,
        &door,
        conf.general,
        3,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )?;
    door.sync()?;

    // Head office revokes while the desk, not syncing, sells two from it.
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{}/leases/{lease}/revoke", conf.id),
        None,
    )?;
    ensure!(server_remaining(&server, conf.id, conf.general)? == 6);
    let sold = door.sell(&walk_in(conf.general, 2, "Unaware"))?;
    ensure!(
        sold.final_tickets.len() == 2,
        "the desk still holds it, as far as it knows"
    );
    server.place_order(conf.id, conf.general, 6)?;
    door.sync()?;
    door.sync()?;
    let sales = door.sales()?;
    ensure!(sales[0].status == SaleStatus::Confirmed, "{sales:?}");
    ensure!(
        server_remaining(&server, conf.id, conf.general)? == -2,
        "the sale is the physical fact; head office sees the overbooking"
    );
    let row = lease_row(&server, conf.id, &lease)?;
    ensure!(
        row["ended"] == "revoked" && row["sold_after_end"] == 2,
        "{row}"
    );
    let held = door.leases()?;
    ensure!(held[0].left == 0 && held[0].ended.is_some(), "{held:?}");

    // A lease that runs out gives its unsold seats back by the server's timer.
    let conf = server.conference(4)?;
    let door = LocalDesk::enrol(&server, conf.id, "East door", dir.path())?;
    let lease = grant_lease(
        &server,
        conf.id,
        &door,
        conf.general,
        4,
        chrono::Utc::now() + chrono::Duration::seconds(2),
    )?;
    ensure!(server_remaining(&server, conf.id, conf.general)? == 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while lease_row(&server, conf.id, &lease)?["ended"] != "expired" {
        ensure!(
            std::time::Instant::now() < deadline,
            "the lease never expired"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    ensure!(server_remaining(&server, conf.id, conf.general)? == 4);
    door.sync()?;
    ensure!(door.leases()?[0].left == 0);
    Ok(())
}

#[test]
fn a_lease_policy_gives_every_desk_its_seats_and_lets_a_desk_ask_for_more_up_to_a_maximum()
-> Result<()> {
    let dir = TempDir::new("desk-lease-policy")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let north = LocalDesk::enrol(&server, conf.id, "North door", dir.path())?;
    let policy = format!("/v1/conferences/{}/lease-policy", conf.id);
    let rule = |max: u32, auto: u32| {
        serde_json::json!({"seat_types": [
            {"seat_type": conf.general, "max_per_desk": max, "auto_per_desk": auto, "hours": 8}
        ]})
    };
    server.admin(Method::PUT, &policy, Some(rule(4, 2)))?;
    ensure!(
        server_remaining(&server, conf.id, conf.general)? == 8,
        "North holds 2 at once"
    );
    // A desk enrolled later is given its seats when it enrols.
    let south = LocalDesk::enrol(&server, conf.id, "South door", dir.path())?;
    ensure!(server_remaining(&server, conf.id, conf.general)? == 6);
    south.sync()?;
    ensure!(south.leases()?.iter().map(|l| l.left).sum::<u32>() == 2);

    // North asks for two more (it then holds its maximum of 4), then one more: refused.
    let report = north
        .runtime()
        .block_on(north.sync.ask_lease(conf.general, 2))?;
    ensure!(report.pulled > 0, "{report:?}");
    ensure!(north.leases()?.iter().map(|l| l.left).sum::<u32>() == 4);
    let refused = north
        .runtime()
        .block_on(north.sync.ask_lease(conf.general, 1));
    ensure!(
        matches!(&refused, Err(e) if e.code() == "lease.over_desk_maximum"),
        "{refused:?}"
    );
    // North gives the lease it asked for back: its seats go to everyone; South cannot give
    // North's first lease back.
    let asked = north
        .leases()?
        .into_iter()
        .max_by_key(|l| l.lease)
        .context("the lease North asked for")?;
    let before = server_remaining(&server, conf.id, conf.general)?;
    north
        .runtime()
        .block_on(north.sync.return_lease(asked.lease))?;
    ensure!(server_remaining(&server, conf.id, conf.general)? == before + 2);
    let ended = north.leases()?;
    ensure!(
        ended.iter().any(|l| l.lease == asked.lease
            && l.ended == Some(onsite_shared::seat_availability::LeaseEnd::Returned)
            && l.left == 0),
        "{ended:?}"
    );
    let first = ended
        .iter()
        .find(|l| l.ended.is_none())
        .context("North's first lease")?;
    let stolen = south
        .runtime()
        .block_on(south.sync.return_lease(first.lease));
    ensure!(
        matches!(&stolen, Err(e) if e.code() == "lease.not_this_desk"),
        "{stolen:?}"
    );
    north
        .runtime()
        .block_on(north.sync.ask_lease(conf.general, 2))?;
    // A policy the seats cannot cover for every desk changes nothing.
    let (status, body) = server.admin_raw(Method::PUT, &policy, Some(rule(10, 10)))?;
    ensure!(
        (status, body["code"].as_str()) == (422, Some("seats.not_enough_to_lease")),
        "{status} {body}"
    );
    ensure!(server.admin(Method::GET, &policy, None)? == rule(4, 2));
    ensure!(server_remaining(&server, conf.id, conf.general)? == 4);
    Ok(())
}
