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
