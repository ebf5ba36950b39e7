//! Upgrades keep the data: a server starts on a database an older server wrote, migrates it,
//! and answers as that server did.
//!
//! `tests/fixtures/upgrade/` keeps databases written by released servers, one set per schema
//! the server has had: `<name>.sqlite3` (the SQLite file), `<name>.postgres.sql` (a dump of the
//! same story on PostgreSQL) and `<name>.<backend>.json` (what head office and a desk read from
//! that server, and the credentials to speak as its desk). They were written by
//! [`write_the_upgrade_fixtures`], run with the binaries of the commit named in the JSON.

use std::path::PathBuf;

use anyhow::{Context, Result};
use onsite_shared::ids::{ClientId, ConferenceId, TicketCode};
use onsite_tests::postgres::PgCluster;
use onsite_tests::server::{
    TempDir, TestDesk, TestServer, admission, sale, sale_event, server_command,
};
use onsite_tests::workspace;
use serde_json::{Value, json};

/// The databases written by the server before versioned migrations (commit 92e20ff).
const BEFORE_MIGRATIONS: &str = "before-migrations";

fn fixtures() -> PathBuf {
    workspace::root().join("tests/fixtures/upgrade")
}

/// Everything head office reads about the conference, by path.
/// Whether `now` says everything `before` said, the same way: every field of an object
/// (a newer server may add fields, a compatible change), arrays item by item, values equal.
fn reads_as_before(before: &Value, now: &Value) -> bool {
    match (before, now) {
        (Value::Object(b), Value::Object(n)) => b
            .iter()
            .all(|(k, v)| n.get(k).is_some_and(|m| reads_as_before(v, m))),
        (Value::Array(b), Value::Array(n)) => {
            b.len() == n.len() && b.iter().zip(n).all(|(v, m)| reads_as_before(v, m))
        }
        _ => before == now,
    }
}

fn reads(server: &TestServer, conference: ConferenceId, order: &(String, String)) -> Result<Value> {
    let base = format!("/v1/conferences/{conference}");
    let mut out = serde_json::Map::new();
    for path in [
        base.clone(),
        format!("{base}/registrations"),
        format!("{base}/admissions"),
        format!("{base}/walk-ins"),
        format!("{base}/conflicts"),
        format!("{base}/devices"),
    ] {
        out.insert(
            path.clone(),
            server.admin(reqwest::Method::GET, &path, None)?,
        );
    }
    let (status, body) = server.order_call(
        reqwest::Method::GET,
        &format!("/v1/orders/{}", order.0),
        &order.1,
        None,
    )?;
    anyhow::ensure!(status == 200, "order: {status} {body}");
    out.insert(format!("/v1/orders/{}", order.0), body);
    Ok(Value::Object(out))
}

fn event_ids(desk: &TestDesk) -> Result<Vec<String>> {
    Ok(desk
        .pull_all()?
        .iter()
        .map(|e| e.event_id.to_string())
        .collect())
}

/// The story every fixture holds: a conference with three seat types and an attendee type,
/// registrations imported from a CSV, an online order paid, a walk-in sale at the north desk
/// with two admissions, and the south desk admitting one of them again (a conflict).
fn tell_the_story(server: &TestServer, dir: &std::path::Path) -> Result<Value> {
    let conf = server.conference(20)?;
    let csv = dir.join("registrations.csv");
    std::fs::write(
        &csv,
        "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
         A-1,General admission,PRE-0001,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         A-1,CQRS workshop,,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         A-2,General admission,,Søren,Østergaard,soren@example.com,,\n",
    )?;
    server_command(
        &server.data_dir,
        server.database_url.as_deref(),
        &[
            "import",
            &csv.display().to_string(),
            "--conference",
            &conf.id.to_string(),
            "--source",
            "pretix",
        ],
    )?;
    let order = server.place_order(conf.id, conf.general, 2)?;
    let (status, body) = server.confirm_paid(conf.id, &order.0, 39_800)?;
    anyhow::ensure!(status == 204, "payment: {status} {body}");

    let mut north = server.desk(conf.id, "North 1")?;
    let mut south = server.desk(conf.id, "South 1")?;
    let (s, codes) = sale(&conf, &north, conf.general, 19_900, 2);
    let items = north.items(&[
        sale_event(s),
        admission(&conf, &north, &codes[0]),
        admission(&conf, &north, &codes[1]),
    ]);
    let request = serde_json::to_value(north.request(items.clone()))?;
    let answer = serde_json::to_value(north.push(items)?)?;
    south.push_events(&[admission(&conf, &south, &codes[0])])?;

    Ok(json!({
        "conference": conf.id,
        "seat_types": {"general": conf.general, "workshop": conf.workshop, "standing": conf.standing},
        "order": [order.0, order.1],
        "sold": codes,
        "north": {"token": north.token, "device": north.device, "client": north.client,
                  "next_seq": north.next_seq},
        "first_push": {"request": request, "answer": answer},
        "reads": reads(server, conf.id, &order)?,
        "events": event_ids(&north)?,
    }))
}

/// Writes the fixtures with the binaries built now. Run on purpose, with the binaries of the
/// commit the fixture is named after:
/// `cargo test -p onsite-tests --test it -- --ignored write_the_upgrade_fixtures`.
#[test]
#[ignore = "writes tests/fixtures/upgrade; run with the server whose databases it keeps"]
fn write_the_upgrade_fixtures() -> Result<()> {
    let out = fixtures();
    std::fs::create_dir_all(&out)?;
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(workspace::root())
        .output()?;
    let written_by = format!(
        "onsite-server at {}",
        String::from_utf8_lossy(&commit.stdout).trim()
    );

    let dir = TempDir::new("fixture-sqlite")?;
    let server = TestServer::start(dir.path())?;
    let mut story = tell_the_story(&server, dir.path())?;
    story["written_by"] = json!(written_by);
    drop(server);
    let file = out.join(format!("{BEFORE_MIGRATIONS}.sqlite3"));
    let _ = std::fs::remove_file(&file);
    rusqlite::Connection::open(dir.path().join("onsite.sqlite3"))?
        .execute("VACUUM INTO ?1", [file.display().to_string()])?;
    std::fs::write(
        out.join(format!("{BEFORE_MIGRATIONS}.sqlite.json")),
        serde_json::to_string_pretty(&story)? + "\n",
    )?;

    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("fixture-postgres")?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    let mut story = tell_the_story(&server, dir.path())?;
    story["written_by"] = json!(written_by);
    drop(server);
    std::fs::write(
        out.join(format!("{BEFORE_MIGRATIONS}.postgres.sql")),
        pg.dump("onsite")?,
    )?;
    std::fs::write(
        out.join(format!("{BEFORE_MIGRATIONS}.postgres.json")),
        serde_json::to_string_pretty(&story)? + "\n",
    )?;
    Ok(())
}

fn story(backend: &str) -> Result<Value> {
    let path = fixtures().join(format!("{BEFORE_MIGRATIONS}.{backend}.json"));
    Ok(serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| path.display().to_string())?,
    )?)
}

/// A server started on the fixture answers every read as the server that wrote it did, gives
/// a desk its stored answer to a push it repeats, takes the desk's next events and serves the
/// whole log.
fn the_upgraded_server_answers_as_before(server: &TestServer, story: &Value) -> Result<()> {
    let conference: ConferenceId = story["conference"]
        .as_str()
        .context("conference")?
        .parse()?;
    let order = (
        story["order"][0].as_str().context("order")?.to_owned(),
        story["order"][1].as_str().context("code")?.to_owned(),
    );
    let reads_now = reads(server, conference, &order)?;
    for (path, before) in story["reads"].as_object().context("reads")? {
        assert!(
            reads_as_before(before, &reads_now[path]),
            "{path} reads as before the upgrade:\nbefore {before}\nnow {}",
            reads_now[path]
        );
    }

    let north = &story["north"];
    let mut desk = TestDesk {
        url: server.url.clone(),
        token: north["token"].as_str().context("token")?.to_owned(),
        device: north["device"].as_str().context("device")?.parse()?,
        conference,
        client: north["client"]
            .as_str()
            .context("client")?
            .parse::<ClientId>()?,
        next_seq: north["next_seq"].as_u64().context("next_seq")?,
    };
    let before: Vec<String> = serde_json::from_value(story["events"].clone())?;
    assert_eq!(event_ids(&desk)?, before, "the log pulls as before");

    let (status, answer) = desk.push_raw(&story["first_push"]["request"])?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, story["first_push"]["answer"], "the stored answer");
    assert_eq!(event_ids(&desk)?, before, "nothing applied twice");

    // The desk goes on where it stopped: an undo of its first admission and a third ticket in.
    let sold: Vec<TicketCode> = serde_json::from_value(story["sold"].clone())?;
    let conf = onsite_tests::server::TestConference {
        id: conference,
        general: story["seat_types"]["general"]
            .as_str()
            .context("general")?
            .parse()?,
        workshop: story["seat_types"]["workshop"]
            .as_str()
            .context("workshop")?
            .parse()?,
        standing: story["seat_types"]["standing"]
            .as_str()
            .context("standing")?
            .parse()?,
    };
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 1);
    let pushed = desk.push_events(&[sale_event(s), admission(&conf, &desk, &codes[0])])?;
    assert!(
        pushed
            .outcomes
            .iter()
            .all(|o| o.status == onsite_shared::protocol::OutcomeStatus::Accepted),
        "{pushed:?}"
    );
    let after = event_ids(&desk)?;
    assert_eq!(after[..before.len()], before[..], "the old log stays first");
    assert!(after.len() >= before.len() + 2);
    let admitted = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{conference}/registrations?admitted=true"),
        None,
    )?;
    let admitted = admitted.to_string();
    for code in sold.iter().chain(&codes) {
        assert!(admitted.contains(code.as_str()), "{code} admitted");
    }
    Ok(())
}

#[test]
fn a_sqlite_database_written_before_migrations_upgrades_and_keeps_its_data() -> Result<()> {
    let story = story("sqlite")?;
    let dir = TempDir::new("upgrade-sqlite")?;
    std::fs::copy(
        fixtures().join(format!("{BEFORE_MIGRATIONS}.sqlite3")),
        dir.path().join("onsite.sqlite3"),
    )?;
    let mut server = TestServer::start(dir.path())?;
    the_upgraded_server_answers_as_before(&server, &story)?;
    // Started again on the migrated file: nothing migrates twice.
    server.kill_hard();
    server.restart()?;
    let conference = story["conference"].as_str().context("conference")?;
    server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{conference}/registrations"),
        None,
    )?;
    let stamped: String = rusqlite::Connection::open(dir.path().join("onsite.sqlite3"))?
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
    assert_eq!(stamped, known_schema(&server)?.to_string());
    Ok(())
}

#[test]
fn a_postgres_database_written_before_migrations_upgrades_and_keeps_its_data() -> Result<()> {
    let story = story("postgres")?;
    let pg = PgCluster::start()?;
    let dump =
        std::fs::read_to_string(fixtures().join(format!("{BEFORE_MIGRATIONS}.postgres.sql")))?;
    let url = pg.load("onsite", &dump)?;
    let dir = TempDir::new("upgrade-postgres")?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    the_upgraded_server_answers_as_before(&server, &story)?;
    Ok(())
}

/// The schema version the server binary knows, from its health answer.
fn known_schema(server: &TestServer) -> Result<u64> {
    let health: Value = server
        .http()
        .get(format!("{}/v1/health", server.url))
        .send()?
        .json()?;
    health["schema_version"]
        .as_u64()
        .context("schema_version in /v1/health")
}

fn stamp_sql(version: u64, floor: u64) -> String {
    format!(
        "UPDATE meta SET value = '{version}' WHERE key = 'schema_version'; \
         UPDATE meta SET value = '{floor}' WHERE key = 'schema_floor';"
    )
}

/// A database a newer server migrated: the binary starts on it while the newer steps only
/// added (a rolling upgrade), and refuses, saying which versions, once a step it does not know
/// breaks older servers; the refusal changes nothing in the file.
#[test]
fn a_server_runs_on_a_newer_database_only_as_far_as_its_floor_allows() -> Result<()> {
    let dir = TempDir::new("upgrade-newer")?;
    let mut server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let known = known_schema(&server)?;
    server.kill_hard();
    let file = dir.path().join("onsite.sqlite3");
    let stamp = |version, floor| -> Result<()> {
        rusqlite::Connection::open(&file)?.execute_batch(&stamp_sql(version, floor))?;
        Ok(())
    };

    stamp(known + 1, known)?;
    server.restart()?;
    server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{}", conf.id),
        None,
    )?;
    server.kill_hard();

    stamp(known + 1, known + 1)?;
    let before = std::fs::read(&file)?;
    let refused = server_command(dir.path(), None, &["admin-token", "create", "--name", "x"])
        .expect_err("a database this server cannot run on");
    let message = refused.to_string();
    assert!(
        message.contains(&format!(
            "schema version {} and needs a server that knows version {} or later; this server knows up to {known}",
            known + 1,
            known + 1
        )),
        "{message}"
    );
    assert!(server.restart().is_err(), "serve refuses too");
    assert_eq!(std::fs::read(&file)?, before, "the refusal wrote nothing");
    Ok(())
}

/// Several servers on one PostgreSQL database while one of them is upgraded: a server that
/// does not know the newest (additive) step starts beside the upgraded ones and both serve;
/// after a step that breaks older servers, an older one is refused at start.
#[test]
fn on_postgres_a_rolling_upgrade_runs_old_and_new_servers_side_by_side() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("upgrade-rolling")?;
    let first = TestServer::start_with(dir.path(), Some(&url))?;
    let conf = first.conference(10)?;
    let known = known_schema(&first)?;
    let db = |sql: &str| -> Result<()> {
        postgres::Client::connect(&url, postgres::NoTls)?.batch_execute(sql)?;
        Ok(())
    };
    // What a newer server leaves after an additive step.
    db(&stamp_sql(known + 1, known))?;
    let second = first.another()?;
    let mut desk = second.desk(conf.id, "North 1")?;
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 1);
    desk.push_events(&[sale_event(s), admission(&conf, &desk, &codes[0])])?;
    let read = first.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{}/registrations?admitted=true", conf.id),
        None,
    )?;
    assert!(read.to_string().contains(codes[0].as_str()), "{read}");

    // A step that breaks older servers.
    db(&stamp_sql(known + 1, known + 1))?;
    assert!(first.another().is_err(), "an older server must not start");
    let refused = server_command(
        dir.path(),
        Some(&url),
        &["admin-token", "create", "--name", "x"],
    )
    .expect_err("refused")
    .to_string();
    assert!(
        refused.contains("needs a server that knows version"),
        "{refused}"
    );
    Ok(())
}
