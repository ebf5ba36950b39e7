//! `onsite-server import` and `demo`: idempotent by the source's ids; bad input changes nothing.

use anyhow::{Context, Result};
use onsite_shared::ids::ConferenceId;
use onsite_tests::server::{TempDir, TestServer, server_command};

fn seat_count(server: &TestServer, conference: ConferenceId) -> Result<usize> {
    let desk = server.desk(conference, "Counter")?;
    Ok(desk
        .pull_all()?
        .iter()
        .filter(|e| e.event_type == "seat_assignments.assigned")
        .count())
}

#[test]
fn the_demo_imports_once_and_a_desk_can_pull_it() -> Result<()> {
    let dir = TempDir::new("import-demo")?;
    let first = server_command(dir.path(), None, &["demo", "--attendees", "150"])?;
    assert!(first.contains("150 registrations imported"), "{first}");
    assert!(first.contains("enrolment code"), "{first}");
    let again = server_command(dir.path(), None, &["demo", "--attendees", "150"])?;
    assert!(
        again.contains(": 0 registrations imported"),
        "importing twice changes nothing: {again}"
    );

    let server = TestServer::start(dir.path())?;
    let conference: ConferenceId = first
        .split_whitespace()
        .nth(2)
        .context("the conference id")?
        .trim_end_matches(':')
        .parse()?;
    let seats = seat_count(&server, conference)?;
    assert!(
        seats >= 150,
        "every registration's seats are assigned ({seats})"
    );
    Ok(())
}

#[test]
fn a_csv_of_registrations_imports_into_an_existing_conference_once() -> Result<()> {
    let dir = TempDir::new("import-csv")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let csv_path = dir.path().join("registrations.csv");
    std::fs::write(
        &csv_path,
        "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
         A-1,General admission,PRE-0001,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         A-1,CQRS workshop,,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         A-2,General admission,,Søren,Østergaard,soren@example.com,,\n",
    )?;
    let path = csv_path.display().to_string();
    let conference = conf.id.to_string();
    let out = server_command(
        dir.path(),
        None,
        &[
            "import",
            &path,
            "--conference",
            &conference,
            "--source",
            "pretix",
        ],
    )?;
    assert!(out.contains("2 registrations imported"), "{out}");
    let out = server_command(
        dir.path(),
        None,
        &[
            "import",
            &path,
            "--conference",
            &conference,
            "--source",
            "pretix",
        ],
    )?;
    assert!(out.contains(": 0 registrations imported"), "{out}");
    assert_eq!(seat_count(&server, conf.id)?, 3);
    let events = server.desk(conf.id, "Reader")?.pull_all()?;
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "seat_assignments.created"
                && e.payload.to_string().contains("PRE-0001"))
    );
    Ok(())
}

#[test]
fn a_bad_import_file_is_refused_with_a_clear_error_and_changes_nothing() -> Result<()> {
    let dir = TempDir::new("import-bad")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let csv_path = dir.path().join("bad.csv");
    std::fs::write(
        &csv_path,
        "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
         B-1,General admission,,Ada,Lovelace,ada@example.com,,\n\
         B-2,General admission,,Grace,Hopper,not an email,,\n",
    )?;
    let err = server_command(
        dir.path(),
        None,
        &[
            "import",
            &csv_path.display().to_string(),
            "--conference",
            &conf.id.to_string(),
        ],
    )
    .expect_err("an invalid email refuses the import");
    assert!(err.to_string().contains("not an email"), "{err}");
    assert_eq!(seat_count(&server, conf.id)?, 0, "nothing imported");

    let json_path = dir.path().join("bad.json");
    std::fs::write(&json_path, "{\"conference\": {\"name\": \"x\"}}")?;
    let err = server_command(
        dir.path(),
        None,
        &["import", &json_path.display().to_string()],
    )
    .expect_err("refused");
    assert!(err.to_string().contains("not a valid import file"), "{err}");
    Ok(())
}

/// Every row of `table`, each as its columns' values in text, sorted.
fn table(conn: &rusqlite::Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}"))?;
    let columns = stmt.column_count();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            (0..columns)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join(" | "))
        })?
        .collect::<Result<_, _>>()?;
    rows.sort();
    Ok(rows)
}

/// The importer writes its read models whole, many rows per statement, instead of moving them
/// event by event: its `orders` and `tickets` rows are exactly what the event-by-event
/// projection leaves after the same events (replayed here into an empty database), for
/// registrations from a file (registrants, several seats, attendee types) and from a CSV (the
/// source's own ticket codes), and a second import of the CSV adds nothing.
#[test]
fn an_import_writes_the_rows_its_events_project_to() -> Result<()> {
    let dir = TempDir::new("import-rows")?;
    let out = server_command(dir.path(), None, &["demo", "--attendees", "700"])?;
    let conference: ConferenceId = out
        .split_whitespace()
        .nth(2)
        .context("the conference id")?
        .trim_end_matches(':')
        .parse()?;
    let csv_path = dir.path().join("more.csv");
    std::fs::write(
        &csv_path,
        "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
         B-1,Conference pass,PRE-0001,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         B-1,Event sourcing workshop,,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         B-2,Student pass,,Søren,Østergaard,soren@example.com,,\n",
    )?;
    let csv = csv_path.display().to_string();
    let id = conference.to_string();
    let args = [
        "import",
        csv.as_str(),
        "--conference",
        id.as_str(),
        "--source",
        "other",
    ];
    assert!(server_command(dir.path(), None, &args)?.contains("2 registrations imported"));
    assert!(server_command(dir.path(), None, &args)?.contains(": 0 registrations imported"));

    let imported = rusqlite::Connection::open(dir.path().join("onsite.sqlite3"))?;
    let events: Vec<(String, String, u16, String)> = imported
        .prepare(
            "SELECT conference, event_type, schema_version, payload FROM events ORDER BY position",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let replayed_dir = TempDir::new("import-rows-replayed")?;
    let replayed_file = replayed_dir.path().join("onsite.sqlite3");
    tokio::runtime::Runtime::new()?.block_on(async {
        use onsite_server::storage::Store as _;
        let store = onsite_server::storage::sqlite::SqliteStore::open(&replayed_file)?;
        store
            .write(move |tx| {
                for (conference, event_type, schema, payload) in &events {
                    let event =
                        onsite_shared::event::Event::decode_json(event_type, *schema, payload)
                            .map_err(|e| {
                                onsite_server::storage::StoreError::Corrupt(e.to_string())
                            })?;
                    let conference: ConferenceId = conference.parse().map_err(|_| {
                        onsite_server::storage::StoreError::Corrupt(conference.clone())
                    })?;
                    onsite_server::projection::apply(tx, conference, &event)?;
                }
                Ok::<_, onsite_server::storage::StoreError>(())
            })
            .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    let replayed = rusqlite::Connection::open(&replayed_file)?;
    for name in ["orders", "tickets"] {
        let (mine, projected) = (table(&imported, name)?, table(&replayed, name)?);
        assert_eq!(mine.len(), projected.len(), "{name}: as many rows");
        for (a, b) in mine.iter().zip(&projected) {
            assert_eq!(a, b, "{name}");
        }
    }
    assert!(
        table(&imported, "tickets")?
            .iter()
            .any(|t| t.contains("PRE-0001"))
    );
    Ok(())
}

fn registration(i: usize) -> onsite_server::import::ImportRegistration {
    onsite_server::import::ImportRegistration {
        source_id: format!("R-{i}"),
        registrant: None,
        seats: vec![onsite_server::import::ImportSeat {
            seat_type: "General admission".into(),
            ticket_code: None,
            attendee: onsite_shared::seat_assignments::Attendee {
                first_name: format!("Reg{i}"),
                last_name: "O'Brien \\ Back".into(),
                email: format!("r{i}@example.com"),
                company: "\\N".into(),
                attendee_types: vec![],
                ..Default::default()
            },
            line: None,
        }],
    }
}

/// An online buyer's order of one seat, held (not paid): `false` when the seats are gone.
async fn order_one<S: onsite_server::storage::Store>(
    store: &S,
    conference: ConferenceId,
    seat: onsite_shared::ids::SeatTypeId,
) -> Result<bool> {
    use onsite_server::recorder::{Recorder, Rejected};
    let hold = onsite_server::registration::Hold {
        window: chrono::Duration::minutes(15),
        grace: chrono::Duration::minutes(5),
    };
    let seats = vec![onsite_shared::seat_availability::SeatQuantity {
        seat_type: seat,
        quantity: 1,
    }];
    let order = onsite_shared::ids::OrderId::from_uuid(uuid::Uuid::now_v7());
    let placed = store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, conference, chrono::Utc::now());
            onsite_server::registration::place_order(
                &mut rec,
                order,
                seats.clone(),
                hold,
                onsite_shared::order::OrderOrigin::Online,
            )
        })
        .await;
    match placed {
        Ok(_) => Ok(true),
        Err(Rejected::Domain { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The importer decides each batch while the one before is written, from the seats as that
/// one leaves them. Online orders reserving seats all the while move the seats under those
/// decisions: such a batch is refused unwritten and decided again on what was committed. In
/// the end every registration is in once, every seat is counted once, and the rows keep text
/// that `COPY` must escape (a backslash, the two characters `\N`).
async fn import_interleaved<S: onsite_server::storage::Store>(
    store: std::sync::Arc<S>,
) -> Result<()> {
    use onsite_server::import::{self, ImportRun};
    use onsite_shared::event::StreamId;
    use onsite_shared::seat_availability::SeatsAvailability;

    let (conference, seat) =
        onsite_tests::in_process::published_conference(&*store, 10_000, chrono::Utc::now()).await?;
    let registrations: Vec<_> = (0..3 * import::IMPORT_BATCH + 17)
        .map(registration)
        .collect();
    let total = registrations.len();

    // A decided batch whose seats moved before it was written is refused, writing nothing.
    let first = registrations[..5].to_vec();
    let now = chrono::Utc::now();
    let decided = store
        .read(move |tx| import::decide_batch(tx, conference, now, "test", &first, None))
        .await?;
    anyhow::ensure!(order_one(&*store, conference, seat).await?);
    let mut decided = Some(decided);
    let refused = store
        .write(move |tx| {
            // PostgreSQL's store tries a job that lost a race again: it finds nothing to write.
            let decided = decided
                .take()
                .context("the seats moved: tried again with nothing")?;
            import::write_decided(tx, conference, "test", decided, None)
                .map_err(anyhow::Error::from)
        })
        .await;
    anyhow::ensure!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("seats moved")),
        "{:?}",
        refused.map(drop)
    );

    // The whole import, with orders placed throughout.
    let orders = {
        let store = std::sync::Arc::clone(&store);
        tokio::spawn(async move {
            let mut placed = 0u32;
            for _ in 0..200 {
                if order_one(&*store, conference, seat).await? {
                    placed += 1;
                }
                tokio::task::yield_now().await;
            }
            anyhow::Ok(placed)
        })
    };
    let run = ImportRun {
        conference,
        source: "test".into(),
        file: "interleaved.csv".into(),
        actor: None,
    };
    let new = import::import_registrations(&*store, run, registrations, chrono::Utc::now(), |_| {})
        .await?;
    let placed = orders.await??;
    anyhow::ensure!(new == total, "{new} of {total} imported");

    let (seats, _) = store
        .read(move |tx| {
            onsite_server::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(conference))
        })
        .await?;
    let held: u32 = seats.pending.values().filter_map(|p| p.get(&seat)).sum();
    let sold = seats.committed.get(&seat).copied().unwrap_or(0);
    let remaining = seats.remaining(seat).unwrap_or(0);
    // The first order and the ones placed during the import are held; every import is sold.
    anyhow::ensure!(
        held == placed + 1 && sold as usize == total,
        "held {held} (placed {placed} + 1), sold {sold} (imported {total})"
    );
    anyhow::ensure!(
        remaining == 10_000 - i64::from(held) - sold,
        "remaining {remaining}"
    );
    let tickets = store
        .read(move |tx| {
            let rows = tx.query(
                "SELECT COUNT(*) FROM tickets WHERE conference = $1 AND last_name = $2 \
                 AND company = $3",
                onsite_server::params![conference.to_string(), "O'Brien \\ Back", "\\N"],
            )?;
            rows[0].int(0)
        })
        .await?;
    anyhow::ensure!(tickets as usize == total, "{tickets} tickets");
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

#[test]
fn an_import_interleaved_with_online_orders_counts_every_seat_once() -> Result<()> {
    let dir = TempDir::new("import-interleaved")?;
    let store =
        onsite_server::storage::sqlite::SqliteStore::open(&dir.path().join("onsite.sqlite3"))?;
    runtime()?.block_on(import_interleaved(std::sync::Arc::new(store)))
}

#[test]
fn on_postgres_an_import_interleaved_with_online_orders_counts_every_seat_once() -> Result<()> {
    let pg = onsite_tests::postgres::PgCluster::start()?;
    let url = pg.database("interleaved")?;
    let store = onsite_server::storage::postgres::PgStore::open(&url)?;
    runtime()?.block_on(import_interleaved(std::sync::Arc::new(store)))
}
