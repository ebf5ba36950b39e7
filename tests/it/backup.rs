//! Backups and restores that lose nothing a desk holds (issue 29 §3), on real processes: the
//! server, its command line, three desks with their own SQLite files.

use std::process::Command;

use anyhow::{Context, Result, ensure};
use onsite_desk_core::{CheckInOutcome, CheckInRequest, RosterEntry};
use onsite_tests::desk::LocalDesk;
use onsite_tests::server::{TempDir, TestServer, server_command};
use onsite_tests::workspace;
use reqwest::Method;

use crate::desk::DEMO;

/// How many people upstream has admitted to the demo conference.
pub(crate) fn admitted(server: &TestServer) -> Result<u64> {
    let a = server.admin(
        Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    a["admitted"].as_u64().context("admitted")
}

fn check_in(desk: &LocalDesk, who: &RosterEntry) -> Result<()> {
    let o = desk.check_in(&CheckInRequest {
        code: who.code.to_string(),
        gate: None,
        override_reason: None,
    })?;
    ensure!(matches!(o, CheckInOutcome::Admitted { .. }), "{o:?}");
    Ok(())
}

/// A backup taken while a desk checks people in and syncs; 100 more check-ins on three desks
/// after it; the backup restored (the server stopped, a restore while it runs refused). At
/// their next sync the desks notice (their pull cursor is another database's, the server
/// holds less of their sequence than they had pushed), pull again and push again: the server
/// ends with every admission it had before the restore, each once, and every desk agrees.
#[test]
fn a_restore_to_an_older_backup_loses_nothing_any_desk_holds() -> Result<()> {
    let dir = TempDir::new("backup-restore")?;
    server_command(dir.path(), None, &["demo", "--attendees", "200"])?;
    let mut server = TestServer::start(dir.path())?;
    let desks = [
        LocalDesk::enrol(&server, DEMO, "north", dir.path())?,
        LocalDesk::enrol(&server, DEMO, "south", dir.path())?,
        LocalDesk::enrol(&server, DEMO, "east", dir.path())?,
    ];
    for d in &desks {
        d.sync()?;
    }
    let mut people: Vec<RosterEntry> = Vec::new();
    // Search answers a page at a time: two letters at a time find enough people.
    'search: for a in 'a'..='z' {
        for b in 'a'..='z' {
            for e in desks[0].search(&format!("{a}{b}"))? {
                if e.admits && !e.withdrawn && !people.iter().any(|p| p.code == e.code) {
                    people.push(e);
                }
            }
            if people.len() >= 140 {
                break 'search;
            }
        }
    }
    ensure!(people.len() >= 130, "{} people", people.len());
    let mut people = people.into_iter();
    for d in &desks {
        for p in people.by_ref().take(3) {
            check_in(d, &p)?;
        }
        d.sync()?;
    }

    // The backup, while the north desk keeps checking people in and syncing.
    let backup = dir.path().join("before.sqlite3");
    let busy: Vec<RosterEntry> = people.by_ref().take(20).collect();
    std::thread::scope(|s| -> Result<()> {
        let north = &desks[0];
        let load = s.spawn(move || -> Result<()> {
            for p in &busy {
                check_in(north, p)?;
                north.sync()?;
            }
            Ok(())
        });
        let said = server_command(
            dir.path(),
            None,
            &["backup", "--to", &backup.display().to_string()],
        )?;
        ensure!(said.contains("written to"), "{said}");
        load.join().expect("the desk's thread")?;
        Ok(())
    })?;
    let again = server_command(
        dir.path(),
        None,
        &["backup", "--to", &backup.display().to_string()],
    );
    ensure!(again.is_err(), "a backup over an existing file");

    // 100 more, on three desks, all synced: the server has 129.
    for (i, p) in people.by_ref().take(100).enumerate() {
        check_in(&desks[i % 3], &p)?;
    }
    for d in &desks {
        d.sync()?;
    }
    let before_restore = admitted(&server)?;
    ensure!(before_restore == 129, "{before_restore}");

    // A restore while the server runs is refused and changes nothing.
    let refused = Command::new(workspace::binary("onsite-server")?)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["restore", "--from", &backup.display().to_string()])
        .output()?;
    ensure!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("stop it before restoring"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    ensure!(admitted(&server)? == 129);

    server.stop();
    let said = server_command(
        dir.path(),
        None,
        &["restore", "--from", &backup.display().to_string()],
    )?;
    ensure!(said.contains("kept at"), "{said}");
    server.restart_at_same_address()?;
    let restored = admitted(&server)?;
    ensure!(
        (9..129).contains(&restored),
        "the backup holds what it was taken with: {restored}"
    );

    // The desks sync: everything they hold is back, once.
    for d in &desks {
        d.sync()?;
    }
    for d in &desks {
        d.sync()?;
    }
    ensure!(admitted(&server)? == 129, "{}", admitted(&server)?);
    for d in &desks {
        ensure!(d.door_numbers()?.inside_now == 129);
        ensure!(d.local_status()?.pending == 0, "{:?}", d.local_status()?);
    }
    // And the door goes on.
    let next = people.next().context("one more")?;
    check_in(&desks[1], &next)?;
    desks[1].sync()?;
    ensure!(admitted(&server)? == 130);
    Ok(())
}

/// On PostgreSQL: a dump (`pg_dump`) taken while the server serves, ten more check-ins, the
/// dump loaded into a new database, `restore --new-epoch`, and the server on it: the desk
/// pulls again, pushes what the dump lacks, and the server has all fifteen.
#[test]
fn on_postgres_a_dump_restored_loses_nothing_the_desk_holds() -> Result<()> {
    let pg = onsite_tests::postgres::PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("backup-restore-pg")?;
    server_command(dir.path(), Some(&url), &["demo", "--attendees", "60"])?;
    let mut server = TestServer::start_with(dir.path(), Some(&url))?;
    let desk = LocalDesk::enrol(&server, DEMO, "pg-north", dir.path())?;
    desk.sync()?;
    let people: Vec<RosterEntry> = ["a", "e", "i", "o", "u"]
        .iter()
        .map(|q| desk.search(q))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .filter(|e| e.admits && !e.withdrawn)
        .fold(Vec::new(), |mut all, e| {
            if !all.iter().any(|p: &RosterEntry| p.code == e.code) {
                all.push(e);
            }
            all
        });
    ensure!(people.len() >= 16, "{} people", people.len());
    for p in &people[..5] {
        check_in(&desk, p)?;
    }
    desk.sync()?;
    let dump = pg.dump("onsite")?;
    for p in &people[5..15] {
        check_in(&desk, p)?;
    }
    desk.sync()?;
    ensure!(admitted(&server)? == 15);

    server.stop();
    let restored = pg.load("onsite_restored", &dump)?;
    server_command(dir.path(), Some(&restored), &["restore", "--new-epoch"])?;
    server.database_url = Some(restored);
    server.restart_at_same_address()?;
    ensure!(admitted(&server)? == 5, "{}", admitted(&server)?);
    desk.sync()?;
    ensure!(admitted(&server)? == 15, "{}", admitted(&server)?);
    check_in(&desk, &people[15])?;
    desk.sync()?;
    ensure!(admitted(&server)? == 16);
    ensure!(desk.door_numbers()?.inside_now == 16);
    Ok(())
}

/// A laptop that never gets network again: its unsynced check-ins written to a file by the
/// desk's command line, imported by head office's: the server has them, decided as pushes.
/// Importing the file again, and then the desk syncing after all, count each once. Files that
/// are not an honest desk log (garbage, another format, a desk the server does not have,
/// another conference, another desk's events) are refused and change nothing.
#[test]
fn a_desk_log_exported_to_a_file_is_imported_once_and_forgeries_change_nothing() -> Result<()> {
    let dir = TempDir::new("desk-log")?;
    server_command(dir.path(), None, &["demo", "--attendees", "40"])?;
    let server = TestServer::start(dir.path())?;
    let desk = LocalDesk::enrol(&server, DEMO, "lost-laptop", dir.path())?;
    desk.sync()?;
    let people: Vec<RosterEntry> = desk
        .search("a")?
        .into_iter()
        .filter(|e| e.admits && !e.withdrawn)
        .take(5)
        .collect();
    ensure!(people.len() == 5);
    for p in &people {
        check_in(&desk, p)?;
    }
    let file = dir.path().join("lost-laptop.json");
    let cli = |args: &[&str]| -> Result<std::process::Output> {
        Ok(Command::new(workspace::binary("onsite-desk-cli")?)
            .arg("--db")
            .arg(&desk.db)
            .args(args)
            .output()?)
    };
    let out = cli(&["export-log", "--to", &file.display().to_string()])?;
    ensure!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("5 events"),
        "{out:?}"
    );
    ensure!(
        !cli(&["export-log", "--to", &file.display().to_string()])?
            .status
            .success()
    );
    let text = std::fs::read_to_string(&file)?;

    // Forgeries first: each refused, nothing recorded.
    let log: serde_json::Value = serde_json::from_str(&text)?;
    let other = server.conference(5)?;
    let mut forged = Vec::new();
    forged.push(("garbage".to_owned(), "not a desk's log"));
    let mut v = log.clone();
    v["format"] = "onsite-desk-log/9".into();
    forged.push((v.to_string(), "not a desk's log"));
    let mut v = log.clone();
    v["device"] = serde_json::json!(uuid::Uuid::now_v7());
    forged.push((v.to_string(), "has no desk"));
    let mut v = log.clone();
    v["conference"] = serde_json::json!(other.id);
    forged.push((v.to_string(), "is enrolled for conference"));
    let south = LocalDesk::enrol(&server, DEMO, "south", dir.path())?;
    let mut v = log;
    v["device"] = serde_json::json!(south.enrolment()?.context("enrolled")?.device);
    forged.push((v.to_string(), "did it"));
    for (i, (body, says)) in forged.iter().enumerate() {
        let f = dir.path().join(format!("forged-{i}.json"));
        std::fs::write(&f, body)?;
        let out = Command::new(workspace::binary("onsite-server")?)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["import-desk-log", &f.display().to_string()])
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        ensure!(!out.status.success() && err.contains(says), "{i}: {err}");
    }
    ensure!(admitted(&server)? == 0, "a forgery was recorded");

    let said = server_command(
        dir.path(),
        None,
        &["import-desk-log", &file.display().to_string()],
    )?;
    ensure!(said.contains("5 accepted"), "{said}");
    ensure!(admitted(&server)? == 5);
    let again = server_command(
        dir.path(),
        None,
        &["import-desk-log", &file.display().to_string()],
    )?;
    ensure!(
        again.contains("0 accepted") && again.contains("5 on the server already"),
        "{again}"
    );
    // The laptop gets network after all: nothing twice.
    desk.sync()?;
    ensure!(admitted(&server)? == 5);
    ensure!(desk.local_status()?.pending == 0);
    Ok(())
}
