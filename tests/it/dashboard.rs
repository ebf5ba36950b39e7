//! The head-office dashboard over HTTP: sign-in with a hashed password, the session cookie,
//! CSRF on every form, and an overview whose numbers match what desks pushed.

use anyhow::{Context, Result, ensure};
use onsite_desk_core::CheckInRequest;
use onsite_shared::ids::ConferenceId;
use onsite_tests::dashboard::{client, cookie_value, form, hidden_csrf, login_page, set_cookie};
use onsite_tests::desk::LocalDesk;
use onsite_tests::server::{TempDir, TestServer, server_command};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN};

const DEMO: ConferenceId = ConferenceId::from_u128(0x01930000_0000_7000_8000_000000000001);
const EMAIL: &str = "office@example.com";
const PASSWORD: &str = "a long enough password";

fn login(c: &Client, url: &str, cookie: &str, csrf: &str, password: &str) -> Result<Response> {
    onsite_tests::dashboard::login(c, url, cookie, csrf, EMAIL, password)
}

#[test]
fn head_office_signs_in_sees_what_desks_pushed_and_forged_or_anonymous_requests_are_refused()
-> Result<()> {
    sign_in_read_and_decide(None)
}

#[test]
fn on_postgres_head_office_signs_in_reads_and_decides() -> Result<()> {
    let pg = onsite_tests::postgres::PgCluster::start()?;
    let url = pg.database("onsite")?;
    sign_in_read_and_decide(Some(&url))
}

/// A data directory with the demo conference (`demo` attendees; none: no conference) and the
/// owner `EMAIL`, and a server started on it.
fn office(
    label: &str,
    database_url: Option<&str>,
    demo: Option<u32>,
) -> Result<(TempDir, TestServer)> {
    let dir = TempDir::new(label)?;
    if let Some(n) = demo {
        server_command(
            dir.path(),
            database_url,
            &["demo", "--attendees", &n.to_string()],
        )?;
    }
    server_command(
        dir.path(),
        database_url,
        &["user", "add", "--email", EMAIL, "--password", PASSWORD],
    )?;
    let server = TestServer::start_with(dir.path(), database_url)?;
    Ok((dir, server))
}

/// Everything the dashboard does over plain HTTP, on SQLite (`None`) or PostgreSQL.
fn sign_in_read_and_decide(database_url: Option<&str>) -> Result<()> {
    let (dir, server) = office("dashboard", database_url, Some(40))?;
    let url = server.url.clone();
    let c = client()?;

    // No session: every page sends the browser to the sign-in page.
    for path in ["/", &format!("/conferences/{DEMO}")] {
        let res = c.get(format!("{url}{path}")).send()?;
        ensure!(
            res.status() == StatusCode::SEE_OTHER,
            "{path}: {}",
            res.status()
        );
        ensure!(res.headers()[LOCATION] == "/login");
    }

    // A wrong password: 401, the form again, no session.
    let (cookie, csrf) = login_page(&c, &url)?;
    // The token is a pre-session the server signed: expiry, nonce, signature.
    ensure!(cookie == csrf && cookie.split('.').count() == 3);
    let res = login(&c, &url, &cookie, &csrf, "not the password at all")?;
    ensure!(res.status() == StatusCode::UNAUTHORIZED);
    ensure!(set_cookie(&res, "onsite_session").is_none());
    ensure!(res.text()?.contains("Wrong email or password"));

    // The right password without the sign-in page's token, or from another site: refused.
    let (cookie, csrf) = login_page(&c, &url)?;
    let forged = login(&c, &url, "some-other-token", &csrf, PASSWORD)?;
    ensure!(
        forged.status() == StatusCode::FORBIDDEN && set_cookie(&forged, "onsite_session").is_none()
    );
    let cross = c
        .post(format!("{url}/login"))
        .header(COOKIE, format!("onsite_login_csrf={cookie}"))
        .header(ORIGIN, "http://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ]))
        .send()?;
    ensure!(cross.status() == StatusCode::FORBIDDEN);

    // Signed in: an HttpOnly, SameSite=Strict session cookie.
    let res = login(&c, &url, &cookie, &csrf, PASSWORD)?;
    ensure!(res.status() == StatusCode::SEE_OTHER, "{}", res.status());
    let set = set_cookie(&res, "onsite_session").context("session cookie")?;
    ensure!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = format!("onsite_session={}", cookie_value(&set));

    // A desk checks two people in; another, offline, admits the first of them again. The
    // overview shows what the head-office API shows.
    let desk = LocalDesk::enrol(&server, DEMO, "North", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "South", dir.path())?;
    desk.sync()?;
    south.sync()?;
    let admitted: Vec<_> = desk
        .search("a")?
        .into_iter()
        .filter(|e| e.admits)
        .take(2)
        .collect();
    for (i, e) in admitted.iter().enumerate() {
        desk.check_in(&CheckInRequest {
            code: e.code.to_string(),
            gate: Some("north".into()),
            override_reason: None,
        })?;
        if i == 0 {
            south.check_in(&CheckInRequest {
                code: e.code.to_string(),
                gate: Some("south".into()),
                override_reason: None,
            })?;
        }
    }
    desk.sync()?;
    south.sync()?;
    let lost = last_seat_sold_twice(&server, &desk, &south)?;
    let index = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(index.status() == StatusCode::OK);
    let index = index.text()?;
    ensure!(index.contains(&format!("/conferences/{DEMO}")), "{index}");
    let page = c
        .get(format!("{url}/conferences/{DEMO}"))
        .header(COOKIE, &session)
        .send()?;
    ensure!(page.status() == StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()?
        .to_owned();
    ensure!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let page = page.text()?;
    let api = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(api["admitted"] == 2);
    let expected = format!(
        "data-admitted=\"{}\" data-expected=\"{}\"",
        api["admitted"], api["expected"]
    );
    ensure!(page.contains(&expected), "{expected} not in the overview");
    ensure!(
        page.contains("<td>north</td><td class=\"n\">2</td>"),
        "gate row"
    );
    ensure!(
        page.contains("data-count=\"2\""),
        "the arrivals chart has the two admissions"
    );

    // A registration's history names both desks.
    let code = admitted[0].code.to_string();
    let history = c
        .get(format!("{url}/conferences/{DEMO}/registrations/{code}"))
        .header(COOKIE, &session)
        .send()?
        .text()?;
    ensure!(
        history.contains("desk North") && history.contains("desk South"),
        "{history}"
    );
    ensure!(history.contains("admission.duplicate_flagged"));

    // The duplicate is a conflict. A decision with a forged token, or from another site,
    // changes nothing; the real one closes it, and the desks pull the closing.
    let conflicts = c
        .get(format!("{url}/conferences/{DEMO}/conflicts"))
        .header(COOKIE, &session)
        .send()?
        .text()?;
    let at = conflicts
        .find(&format!("action=\"/conferences/{DEMO}/conflicts/"))
        .context("a decision form")?
        + 8;
    let action = conflicts[at..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    let open = |server: &TestServer| -> Result<usize> {
        let list = server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}/conflicts"),
            None,
        )?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["resolved_at"].is_null())
            .count())
    };
    ensure!(open(&server)? == 2);
    let decide = |csrf: &str, origin: Option<&str>| -> Result<Response> {
        let mut req = c
            .post(format!("{url}{action}"))
            .header(COOKIE, &session)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        Ok(req
            .body(form(&[
                ("csrf", csrf),
                ("decision", "close"),
                ("note", "same person"),
            ]))
            .send()?)
    };
    let token = hidden_csrf(&conflicts)?;
    ensure!(decide("forged", None)?.status() == StatusCode::FORBIDDEN);
    ensure!(decide(&token, Some("http://evil.example"))?.status() == StatusCode::FORBIDDEN);
    ensure!(open(&server)? == 2, "refused requests changed nothing");
    ensure!(decide(&token, None)?.status() == StatusCode::SEE_OTHER);
    ensure!(open(&server)? == 1);
    ensure!(
        decide(&token, None)?.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "a second decision on the same conflict is refused"
    );
    // The rejected sale: head office records the refund in cash.
    let at = conflicts
        .find("data-kind=\"walk_in_rejected\"")
        .context("the rejected sale")?;
    let at = at + conflicts[at..].find("action=\"").context("its form")? + 8;
    let refund_action = conflicts[at..].split('"').next().unwrap_or_default();
    let refunded = c
        .post(format!("{url}{refund_action}"))
        .header(COOKIE, &session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", token.as_str()),
            ("decision", "refund"),
            ("method", "cash"),
            ("note", "receipt 17"),
        ]))
        .send()?;
    ensure!(refunded.status() == StatusCode::SEE_OTHER);
    ensure!(open(&server)? == 0);
    south.sync()?;
    ensure!(
        south.open_conflicts()? == 0,
        "the closing and the refund reached the desk"
    );
    let sales = south.sales()?;
    ensure!(
        sales[0].status == onsite_shared::walk_in::SaleStatus::Rejected,
        "a refund keeps the sale rejected: {sales:?}"
    );

    // The exports are CSV downloads with a row per registration / admission event.
    for (file, rows) in [
        (
            "attendees.csv",
            api["expected"].as_u64().unwrap_or(0) as usize,
        ),
        ("admissions.csv", 4),
        ("walk-ins.csv", 2),
    ] {
        let res = c
            .get(format!("{url}/conferences/{DEMO}/exports/{file}"))
            .header(COOKIE, &session)
            .send()?;
        ensure!(res.status() == StatusCode::OK);
        ensure!(res.headers()[CONTENT_TYPE] == "text/csv; charset=utf-8");
        let text = res.text()?;
        if file == "walk-ins.csv" {
            let row = text
                .lines()
                .find(|l| l.starts_with(&lost.order.to_string()))
                .context("the refunded sale")?;
            ensure!(row.ends_with(",rejected,refund_recorded"), "{row}");
        }
        ensure!(
            text.lines().count() > rows,
            "{file}: {} lines, {rows} rows expected at least",
            text.lines().count()
        );
    }

    // Signing out needs the session's own token.
    let bad = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "forged")]))
        .send()?;
    ensure!(bad.status() == StatusCode::FORBIDDEN);
    let still = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(
        still.status() == StatusCode::OK,
        "a forged sign-out changed nothing"
    );
    let token = hidden_csrf(&page)?;
    let out = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &session)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", token.as_str())]))
        .send()?;
    ensure!(out.status() == StatusCode::SEE_OTHER);
    let after = c.get(format!("{url}/")).header(COOKIE, &session).send()?;
    ensure!(after.status() == StatusCode::SEE_OTHER, "the session ended");
    Ok(())
}

fn device_id(server: &TestServer, name: &str) -> Result<String> {
    let list = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/devices"),
        None,
    )?;
    list.as_array()
        .into_iter()
        .flatten()
        .find(|d| d["name"] == name)
        .and_then(|d| d["device_id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("desk {name}"))
}

fn read_csv(path: &std::path::Path) -> Result<Vec<std::collections::HashMap<String, String>>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let headers = reader.headers()?.clone();
    reader
        .records()
        .map(|r| {
            let r = r?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect())
        })
        .collect()
}

/// Head office lowers an admission seat type's quota so that one seat is left; `first` and
/// `second` both sell it offline and sync in that order: `second`'s sale is rejected with a
/// refund due. Returns `second`'s receipt.
fn last_seat_sold_twice(
    server: &TestServer,
    first: &LocalDesk,
    second: &LocalDesk,
) -> Result<onsite_desk_core::SaleReceipt> {
    let seat = first
        .availability()?
        .into_iter()
        .find(|s| s.admits && !s.overbook)
        .context("an admission seat type that rejects")?;
    let conf = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    let quota = conf["seat_types"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"] == seat.seat_type.to_string())
        .and_then(|s| s["quota"].as_i64())
        .context("quota")?;
    let remaining = conf["remaining"][seat.seat_type.to_string()]
        .as_i64()
        .context("remaining")?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/seat-types/{}/quota", seat.seat_type),
        Some(serde_json::json!({ "quota": quota - remaining + 1 })),
    )?;
    first.sync()?;
    second.sync()?;
    let sale = |who: &str| onsite_desk_core::SaleRequest {
        tickets: vec![onsite_desk_core::SaleTicketRequest {
            seat_type: seat.seat_type,
            first_name: who.to_owned(),
            last_name: "Walker".into(),
            email: format!("{}@example.com", who.to_lowercase()),
            company: "Door Sales Ltd".into(),
            attendee_types: vec![],
        }],
        payment_method: onsite_shared::order::PaymentMethod::Cash,
        amount_taken_minor: seat.price.amount_minor,
    };
    first.sell(&sale("Nora"))?;
    let lost = second.sell(&sale("Sam"))?;
    first.sync()?;
    second.sync()?;
    ensure!(
        second.sales()?[0].status == onsite_shared::walk_in::SaleStatus::Rejected,
        "the second sale came too late"
    );
    Ok(lost)
}

/// Runs a Playwright script of `ui/browser/` with node against a server: `ONSITE_URL`,
/// `ONSITE_OUT` (where it writes), `ONSITE_EXPECT` (what the Rust side set up); fails with all
/// it said when it fails.
fn browser(
    script: &std::path::Path,
    url: &str,
    out: &std::path::Path,
    expect: &serde_json::Value,
) -> Result<()> {
    ensure!(
        onsite_tests::workspace::root()
            .join("ui/node_modules/playwright-core")
            .is_dir(),
        "playwright-core is missing: `cargo xtask test` installs ui/'s packages (npm ci)"
    );
    let run = std::process::Command::new("node")
        .arg(script)
        .current_dir(onsite_tests::workspace::root().join("ui"))
        .env("ONSITE_URL", url)
        .env("ONSITE_OUT", out)
        .env("ONSITE_EXPECT", expect.to_string())
        .output()
        .context("running node (cargo xtask test installs it)")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{said}");
    ensure!(run.status.success(), "the browser run failed:\n{said}");
    Ok(())
}

/// The API reference at `/docs` renders every operation in Chromium (`ui/browser/docs.mjs`)
/// from the server alone, with no error and nothing refused by its security policy.
#[test]
fn the_api_reference_renders_in_a_real_browser() -> Result<()> {
    let script = onsite_tests::workspace::root().join("ui/browser/docs.mjs");
    let dir = TempDir::new("docs-browser")?;
    let server = TestServer::start(dir.path())?;
    let out = onsite_tests::workspace::artefacts("docs")?;
    browser(&script, &server.url, &out, &serde_json::json!({}))
}

/// Head office sets a conference up from nothing in Chromium (`ui/browser/setup.mjs`): created,
/// two seat types, an attendee type, badges (previews, a template set, the speakers' template,
/// the desk defaults), a seat type edited, a CSV imported (the report read), a quota cut
/// confirmed, published. Then a desk enrolled afterwards pulls it all and checks in an imported ticket,
/// and the public read finds the conference by its slug.
#[test]
fn head_office_sets_a_conference_up_in_a_real_browser() -> Result<()> {
    let script = onsite_tests::workspace::root().join("ui/browser/setup.mjs");
    let (dir, server) = office("setup-browser", None, None)?;
    let csv = dir.path().join("registrations.csv");
    std::fs::write(
        &csv,
        "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
         W-1,General admission,PRE-0001,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         W-1,Modelling workshop,,Łucja,Ñuñez,lucja@example.com,Łódź Systems,speaker\n\
         W-2,General admission,,Søren,Østergaard,soren@example.com,,\n",
    )?;
    let templates = dir.path().join("templates.json");
    let mut set = onsite_badge::TemplateSet::default_set();
    let mut speakers = set.get("badge-a6")?.clone();
    speakers.id = "speakers".into();
    speakers.name = "Speakers".into();
    set.templates.push(speakers);
    std::fs::write(&templates, serde_json::to_vec_pretty(&set)?)?;
    let slug = format!("es-days-{}", uuid::Uuid::now_v7().simple());
    let out = onsite_tests::workspace::artefacts("setup")?;
    let expect = serde_json::json!({
        "email": EMAIL, "password": PASSWORD, "slug": slug, "csv": csv.display().to_string(),
        "templates": templates.display().to_string(),
    });
    browser(&script, &server.url, &out, &expect)?;
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("result.json"))?)?;
    let conference: ConferenceId = result["conference"]
        .as_str()
        .context("the conference")?
        .parse()?;

    // A desk enrolled now has it all, and lets the speaker in.
    let desk = LocalDesk::enrol(&server, conference, "North", dir.path())?;
    desk.sync()?;
    let admitted = desk.check_in(&CheckInRequest {
        code: "PRE-0001".into(),
        gate: Some("north".into()),
        override_reason: None,
    })?;
    ensure!(
        matches!(admitted, onsite_desk_core::CheckInOutcome::Admitted { .. }),
        "{admitted:?}"
    );
    // The badge settings came with it: the speaker's badge uses the speakers' template.
    ensure!(desk.badge_preview("PRE-0001")?.template == "speakers");
    let settings = desk.print_settings()?;
    ensure!(
        settings.default_template == "badge-a6"
            && settings.printer.as_deref() == Some("badges")
            && settings.auto_print == onsite_shared::badge::AutoPrint::Always,
        "{settings:?}"
    );
    let public: serde_json::Value = server
        .http()
        .get(format!("{}/v1/public/conferences/{slug}", server.url))
        .send()?
        .error_for_status()?
        .json()?;
    ensure!(public["name"] == "Event Sourcing Days", "{public}");
    ensure!(public["time_zone"] == "Europe/Lisbon", "{public}");
    ensure!(
        public["seat_types"].as_array().map(Vec::len) == Some(2),
        "{public}"
    );
    Ok(())
}

/// Playwright driving Debian's Chromium (`ui/browser/dashboard.mjs`) against a real server
/// holding demo data and what three desks pushed; this side sets the scene and checks what
/// the browser's actions did: events reaching desks through pull, a revoked desk, a working
/// enrolment code, the rows of each CSV.
#[test]
fn head_office_works_the_dashboard_in_a_real_browser() -> Result<()> {
    let script = onsite_tests::workspace::root().join("ui/browser/dashboard.mjs");
    let (dir, server) = office("dashboard-browser", None, Some(60))?;
    let north = LocalDesk::enrol(&server, DEMO, "North", dir.path())?;
    let south = LocalDesk::enrol(&server, DEMO, "South", dir.path())?;
    let west = LocalDesk::enrol(&server, DEMO, "West", dir.path())?;
    for d in [&north, &south, &west] {
        d.sync()?;
    }

    // Offline, North admits three people and South admits the first of them again.
    let people: Vec<_> = north
        .search("e")?
        .into_iter()
        .filter(|e| e.admits)
        .take(3)
        .collect();
    ensure!(people.len() == 3);
    let scan = |code: &str, gate: &str| CheckInRequest {
        code: code.to_owned(),
        gate: Some(gate.to_owned()),
        override_reason: None,
    };
    for p in &people {
        north.check_in(&scan(p.code.as_str(), "north"))?;
    }
    south.check_in(&scan(people[0].code.as_str(), "south"))?;
    north.sync()?;
    south.sync()?;

    // Both desks sell the last seat; North reaches the server first.
    let lost = last_seat_sold_twice(&server, &north, &south)?;

    let admissions = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/admissions"),
        None,
    )?;
    ensure!(admissions["admitted"] == 3);
    let conference = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    let lease_seat_type = conference["seat_types"]
        .as_array()
        .context("seat types")?
        .iter()
        .filter_map(|t| t["id"].as_str())
        .find(|id| conference["remaining"][*id].as_i64() >= Some(3))
        .context("a seat type with 3 seats left")?
        .to_owned();
    let out = onsite_tests::workspace::artefacts("dashboard")?;
    let expect = serde_json::json!({
        "lease_seat_type": lease_seat_type,
        "conference": DEMO.to_string(),
        "email": EMAIL,
        "password": PASSWORD,
        "admitted": admissions["admitted"],
        "expected": admissions["expected"],
        "open_conflicts": 2,
        "walk_in_tickets": 2,
        "duplicate_code": people[0].code.as_str(),
        "revoke_device": device_id(&server, "West")?,
        "forged_device": device_id(&server, "North")?,
    });
    browser(&script, &server.url, &out, &expect)?;
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("result.json"))?)?;

    // The relay enrolled and revoked in the browser: its code no longer buys a token.
    let relay_code = result["relay_code"].as_str().context("relay code")?;
    let redeemed = server
        .http()
        .post(format!("{}/v1/relay/enrol", server.url))
        .json(&serde_json::json!({"code": relay_code}))
        .send()?;
    ensure!(
        redeemed.status() == 401,
        "a revoked relay's code: {}",
        redeemed.status()
    );

    // The honoured sale reaches South through pull: confirmed, the refund no longer due,
    // the inbox item resolved, the ticket admits again.
    south.sync()?;
    let sales = south.sales()?;
    ensure!(
        sales[0].status == onsite_shared::walk_in::SaleStatus::Confirmed
            && sales[0].refund_due.is_none(),
        "{sales:?}"
    );
    ensure!(south.open_conflicts()? == 0, "South's inbox is clear");
    let admitted = south.check_in(&scan(lost.tickets[0].code.as_str(), "south"))?;
    ensure!(
        matches!(admitted, onsite_desk_core::CheckInOutcome::Admitted { .. }),
        "{admitted:?}"
    );
    // The closed duplicate reaches North.
    north.sync()?;
    ensure!(north.open_conflicts()? == 0, "North's inbox is clear");
    // West was revoked in the browser; the forged request did not revoke North.
    let revoked = west.try_sync();
    ensure!(
        matches!(&revoked, Err(onsite_desk_core::sync::SyncError::Revoked)),
        "{revoked:?}"
    );
    // The lease granted and revoked in the browser reaches North, ended, its seats back.
    north.sync()?;
    let leases = north.leases()?;
    ensure!(
        leases.len() == 1
            && leases[0].granted == 3
            && leases[0].ended == Some(onsite_shared::seat_availability::LeaseEnd::Revoked),
        "{leases:?}"
    );
    // The code shown in the browser enrols a real desk.
    let code = result["enrolment_code"].as_str().context("a code")?;
    let gate_c = LocalDesk::enrol_with_code(&server.url, code, &dir.path().join("gate-c.sqlite3"))?;
    gate_c.sync()?;

    // The CSVs have the rows the server holds.
    let registrations = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/registrations?limit=1"),
        None,
    )?;
    let attendees = read_csv(&out.join("attendees.csv"))?;
    ensure!(
        Some(attendees.len() as i64) == registrations["total"].as_i64(),
        "one row per registration"
    );
    ensure!(
        attendees.iter().filter(|r| r["admitted"] == "yes").count() == 3,
        "three admitted when the CSV was taken"
    );
    let first = attendees
        .iter()
        .find(|r| r["ticket_code"] == people[0].code.as_str())
        .context("the duplicate's row")?;
    ensure!(
        first["gate"] == "north" && first["desk"] == "North",
        "{first:?}"
    );
    let log = read_csv(&out.join("admissions.csv"))?;
    let what = |w: &str| log.iter().filter(|r| r["what"] == w).count();
    // Every scan that let someone in is in the log (North's three, South's second one), and
    // the server's flag on the second.
    ensure!(
        what("admitted") == 4 && what("duplicate_flagged") == 1,
        "{log:?}"
    );
    let walk_ins = read_csv(&out.join("walk-ins.csv"))?;
    ensure!(walk_ins.len() == 2, "{walk_ins:?}");
    let honoured = walk_ins
        .iter()
        .find(|r| r["order_id"] == lost.order.to_string())
        .context("South's sale")?;
    ensure!(
        honoured["status"] == "honoured"
            && honoured["conflict_resolution"] == "sale_honoured"
            && honoured["desk"] == "South"
            && honoured["refund_due"] == "0.00",
        "{honoured:?}"
    );
    for shot in [
        "dashboard-overview",
        "dashboard-registration",
        "dashboard-conflicts-resolved",
        "dashboard-desks",
        "dashboard-tablet-overview",
    ] {
        ensure!(out.join(format!("{shot}.png")).is_file(), "{shot} saved");
    }
    Ok(())
}

/// A browser without script: a cookie jar of one session, forms posted as a browser posts them.
struct Visitor {
    c: Client,
    url: String,
    session: Option<String>,
}

impl Visitor {
    fn new(url: &str) -> Result<Self> {
        Ok(Self {
            c: client()?,
            url: url.to_owned(),
            session: None,
        })
    }

    fn signed_in(url: &str, email: &str, password: &str) -> Result<Self> {
        let mut v = Self::new(url)?;
        let (cookie, csrf) = login_page(&v.c, url)?;
        let res = onsite_tests::dashboard::login(&v.c, url, &cookie, &csrf, email, password)?;
        ensure!(
            res.status() == StatusCode::SEE_OTHER,
            "sign-in: {}",
            res.status()
        );
        v.session = Some(cookie_value(
            &set_cookie(&res, "onsite_session").context("a session")?,
        ));
        Ok(v)
    }

    fn cookie(&self) -> String {
        format!(
            "onsite_session={}",
            self.session.clone().unwrap_or_default()
        )
    }

    fn get(&self, path: &str) -> Result<(StatusCode, String)> {
        let res = self
            .c
            .get(format!("{}{path}", self.url))
            .header(COOKIE, self.cookie())
            .send()?;
        Ok((res.status(), res.text()?))
    }

    /// Posts a form (the page's CSRF token added when the visitor has a session).
    fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Result<(StatusCode, String)> {
        let mut pairs = pairs.to_vec();
        let csrf;
        if self.session.is_some() {
            csrf = hidden_csrf(&self.get("/")?.1)?;
            pairs.push(("csrf", &csrf));
        }
        let res = self
            .c
            .post(format!("{}{path}", self.url))
            .header(COOKIE, self.cookie())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&pairs))
            .send()?;
        if let Some(set) = set_cookie(&res, "onsite_session") {
            self.session = Some(cookie_value(&set));
        }
        Ok((res.status(), res.text()?))
    }
}

fn invite_link(page: &str) -> Result<String> {
    let at = page
        .find("id=\"invite-link\">")
        .context("an invitation link")?
        + 17;
    Ok(page[at..].split('<').next().unwrap_or_default().to_owned())
}

/// Head office's people: an owner invites a viewer and a staff member by one-time links (no
/// mail server: the link is shown to pass on), each sets a password through it; a viewer reads
/// but may not decide, enrol or manage people, staff may enrol desks but not manage people;
/// a used, unknown or forged link does nothing; a removed person's session ends; the last
/// owner cannot be removed.
#[test]
fn head_office_people_are_invited_with_roles_and_held_to_them() -> Result<()> {
    let (_dir, server) = office("dashboard-people", None, Some(20))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let (status, page) = owner.get("/people")?;
    ensure!(status == StatusCode::OK && page.contains(EMAIL), "{status}");

    let mut links = Vec::new();
    for (email, role) in [
        ("viola@example.com", "viewer"),
        ("stan@example.com", "staff"),
    ] {
        let (status, page) = owner.post("/people/invite", &[("email", email), ("role", role)])?;
        ensure!(status == StatusCode::OK, "invite: {status}");
        links.push(invite_link(&page)?);
    }
    let (status, _) = owner.post("/people/invite", &[("email", EMAIL), ("role", "viewer")])?;
    ensure!(
        status == StatusCode::UNPROCESSABLE_ENTITY,
        "an existing person is not invited"
    );

    // The viewer opens the link, mistypes, then sets a password: signed in at once.
    let path = |link: &str| {
        link.split_once("/invite/")
            .map(|(_, t)| format!("/invite/{t}"))
    };
    let viewer_path = path(&links[0]).context("a path")?;
    let mut viewer = Visitor::new(&server.url)?;
    let (status, page) = viewer.get(&viewer_path)?;
    ensure!(status == StatusCode::OK && page.contains("viola@example.com"));
    for (password, again) in [
        ("a long enough secret", "another long secret"),
        ("short", "short"),
    ] {
        let (status, _) = viewer.post(&viewer_path, &[("password", password), ("again", again)])?;
        ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    }
    let (status, _) = viewer.post(
        &viewer_path,
        &[
            ("password", "a long enough secret"),
            ("again", "a long enough secret"),
        ],
    )?;
    ensure!(
        status == StatusCode::SEE_OTHER && viewer.session.is_some(),
        "{status}"
    );
    let (status, _) = Visitor::new(&server.url)?.get(&viewer_path)?;
    ensure!(status == StatusCode::NOT_FOUND, "a used link works no more");
    let (status, _) = Visitor::new(&server.url)?.get("/invite/osi_madeup")?;
    ensure!(status == StatusCode::NOT_FOUND);

    // The viewer reads, but every action is refused and changes nothing.
    let conference = format!("/conferences/{DEMO}");
    let (status, page) = viewer.get(&format!("{conference}/desks"))?;
    ensure!(
        status == StatusCode::OK && !page.contains("id=\"enrol\""),
        "no enrol form"
    );
    let desks_before = server.admin(
        reqwest::Method::GET,
        &format!("/v1{conference}/devices"),
        None,
    )?;
    let (status, page) = viewer.post(&format!("{conference}/desks"), &[("name", "Sneaky")])?;
    ensure!(
        status == StatusCode::FORBIDDEN && page.contains("not-allowed"),
        "{status}"
    );
    let desks_after = server.admin(
        reqwest::Method::GET,
        &format!("/v1{conference}/devices"),
        None,
    )?;
    ensure!(desks_before == desks_after, "no desk enrolled");
    let (status, _) = viewer.get("/people")?;
    ensure!(status == StatusCode::FORBIDDEN);
    let (status, _) = viewer.post(
        "/people/invite",
        &[("email", "x@example.com"), ("role", "owner")],
    )?;
    ensure!(status == StatusCode::FORBIDDEN, "a viewer invites nobody");

    // Staff enrol desks, but manage no people.
    let staff_path = path(&links[1]).context("a path")?;
    let mut staff = Visitor::new(&server.url)?;
    staff.post(
        &staff_path,
        &[
            ("password", "staff password 12"),
            ("again", "staff password 12"),
        ],
    )?;
    let (status, page) = staff.post(&format!("{conference}/desks"), &[("name", "Staff desk")])?;
    ensure!(
        status == StatusCode::OK && page.contains("Staff desk"),
        "{status}"
    );
    // Enrolled in bulk: one code each, all in one go; too many at once is refused.
    let (status, page) = staff.post(
        &format!("{conference}/desks"),
        &[("name", "Gate"), ("count", "3")],
    )?;
    ensure!(status == StatusCode::OK, "{status}");
    ensure!(
        page.matches("class=\"card enrolment\"").count() == 3,
        "three codes"
    );
    let desks = server.admin(
        reqwest::Method::GET,
        &format!("/v1{conference}/devices"),
        None,
    )?;
    for n in 1..=3 {
        ensure!(desks.to_string().contains(&format!("Gate {n}")), "{desks}");
    }
    let (status, _) = staff.post(
        &format!("{conference}/desks"),
        &[("name", "Gate"), ("count", "51")],
    )?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY);
    // Leases take seats from sale: the owner's to grant, not staff's; and a form that does not
    // name a desk, a seat type, seats and hours is refused by the owner's page too.
    let gate_1 = desks
        .as_array()
        .context("desks")?
        .iter()
        .find(|d| d["name"] == "Gate 1")
        .context("Gate 1")?["device_id"]
        .as_str()
        .context("its id")?
        .to_owned();
    let seat_type = server.admin(reqwest::Method::GET, &format!("/v1{conference}"), None)?
        ["seat_types"][0]["id"]
        .as_str()
        .context("a seat type")?
        .to_owned();
    let grant = [
        ("desk", gate_1.as_str()),
        ("seat_type", seat_type.as_str()),
        ("quantity", "2"),
        ("hours", "4"),
    ];
    let (status, page) = staff.post(&format!("{conference}/desks/leases"), &grant)?;
    ensure!(
        status == StatusCode::FORBIDDEN && page.contains("not-allowed"),
        "{status}"
    );
    let leases = || {
        server.admin(
            reqwest::Method::GET,
            &format!("/v1{conference}/leases"),
            None,
        )
    };
    ensure!(leases()? == serde_json::json!([]), "no lease granted");
    for bad in [
        [
            ("desk", "nobody"),
            ("seat_type", seat_type.as_str()),
            ("quantity", "2"),
            ("hours", "4"),
        ],
        [
            ("desk", gate_1.as_str()),
            ("seat_type", seat_type.as_str()),
            ("quantity", "-2"),
            ("hours", "4"),
        ],
        [
            ("desk", gate_1.as_str()),
            ("seat_type", seat_type.as_str()),
            ("quantity", "2"),
            ("hours", "999999"),
        ],
        [
            ("desk", gate_1.as_str()),
            ("seat_type", seat_type.as_str()),
            ("quantity", "100000"),
            ("hours", "4"),
        ],
    ] {
        let (status, page) = owner.post(&format!("{conference}/desks/leases"), &bad)?;
        ensure!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad:?}: {status} {page}"
        );
    }
    ensure!(leases()? == serde_json::json!([]), "no lease granted");
    let (status, _) = owner.post(&format!("{conference}/desks/leases"), &grant)?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(leases()?[0]["held"] == 2, "{}", leases()?);
    // The lease policy from the same page: the owner sets it (every desk is given its seat at
    // once); a policy giving more than a desk may hold is refused, changing nothing; staff may
    // not.
    let policy_path = format!("{conference}/desks/lease-policy");
    let policy = || {
        server.admin(
            reqwest::Method::GET,
            &format!("/v1{conference}/lease-policy"),
            None,
        )
    };
    let max = format!("max_{seat_type}");
    let auto = format!("auto_{seat_type}");
    let hours = format!("hours_{seat_type}");
    let (status, page) = owner.post(
        &policy_path,
        &[
            (max.as_str(), "3"),
            (auto.as_str(), "5"),
            (hours.as_str(), "6"),
        ],
    )?;
    ensure!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("more given without asking"),
        "{status} {page}"
    );
    ensure!(
        policy()?["seat_types"] == serde_json::json!([]),
        "nothing set"
    );
    let (status, _) = staff.post(&policy_path, &[(max.as_str(), "3")])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    let (status, _) = owner.post(
        &policy_path,
        &[
            (max.as_str(), "3"),
            (auto.as_str(), "1"),
            (hours.as_str(), "6"),
        ],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(
        policy()?["seat_types"][0]
            == serde_json::json!({"seat_type": seat_type, "max_per_desk": 3, "auto_per_desk": 1, "hours": 6}),
        "{}",
        policy()?
    );
    let (_, page) = owner.get(&format!("{conference}/desks"))?;
    ensure!(
        page.contains(r#"id="lease-policy""#),
        "the form is on the desks page"
    );
    let (status, _) = staff.get("/people")?;
    ensure!(status == StatusCode::FORBIDDEN);

    // A forged invitation form (no CSRF token of the session) is refused.
    let forged = owner
        .c
        .post(format!("{}/people/invite", server.url))
        .header(COOKIE, owner.cookie())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", "eve@example.com"),
            ("role", "owner"),
            ("csrf", "guess"),
        ]))
        .send()?;
    ensure!(forged.status() == StatusCode::FORBIDDEN);

    // Removed: the viewer's session ends. The last owner stays.
    let (status, _) = owner.post("/people/remove", &[("email", "viola@example.com")])?;
    ensure!(status == StatusCode::OK);
    let (status, _) = viewer.get("/")?;
    ensure!(status == StatusCode::SEE_OTHER, "signed out: {status}");
    let (status, page) = staff.post("/people/remove", &[("email", EMAIL)])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status} {page}");
    let (status, page) = owner.post("/people/remove", &[("email", "stan@example.com")])?;
    ensure!(status == StatusCode::OK, "{page}");
    ensure!(!page.contains("stan@example.com"));
    // The demo made an owner too; once that one is gone, this owner is the last.
    let (status, _) = owner.post("/people/remove", &[("email", "office@demo.example")])?;
    ensure!(status == StatusCode::OK);
    let (status, page) = owner.post("/people/remove", &[("email", EMAIL)])?;
    ensure!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("last owner"),
        "{status}"
    );
    Ok(())
}

impl Visitor {
    /// Posts a file as a browser's upload form does (`multipart/form-data`), with the page's
    /// CSRF token unless `csrf` says which.
    fn upload(
        &self,
        path: &str,
        file: &str,
        bytes: &[u8],
        csrf: Option<&str>,
    ) -> Result<(StatusCode, String, Option<String>)> {
        let csrf = match csrf {
            Some(c) => c.to_owned(),
            None => hidden_csrf(&self.get("/")?.1)?,
        };
        let boundary = "----onsite-test-boundary";
        let mut body = Vec::new();
        for (name, value) in [("csrf", csrf.as_str()), ("source", "upload-test")] {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .bytes(),
            );
        }
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        let res = self
            .c
            .post(format!("{}{path}", self.url))
            .header(COOKIE, self.cookie())
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()?;
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((res.status(), res.text()?, location))
    }
}

/// Uploads that cannot be imported import nothing and say why: bytes that are not text, a CSV
/// that does not parse (its line named), a forged form; a file whose rows the conference
/// cannot take is refused whole, each row's reason on the report; an import's page is not
/// found under another conference or by a made-up id.
#[test]
fn a_bad_upload_imports_nothing_and_says_why() -> Result<()> {
    let (_dir, server) = office("dashboard-upload", None, Some(20))?;
    let owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let count = || -> Result<u64> {
        let r = server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}/registrations?limit=1"),
            None,
        )?;
        r["total"].as_u64().context("total")
    };
    let before = count()?;
    let imports = format!("/conferences/{DEMO}/imports");

    let (status, page, _) = owner.upload(&imports, "regs.csv", &[0xff, 0xfe, 0x00, 0x9c], None)?;
    ensure!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("not UTF-8"),
        "{status}"
    );
    let (status, page, _) = owner.upload(
        &imports,
        "regs.csv",
        b"source_id,seat_type\nX-1,Conference pass\n",
        None,
    )?;
    ensure!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("line 2"),
        "{status} {page}"
    );
    let (status, _, _) = owner.upload(
        &imports,
        "regs.csv",
        b"source_id,seat_type,first_name,last_name,email\nX-1,Conference pass,A,B,a@example.com\n",
        Some("forged"),
    )?;
    ensure!(status == StatusCode::FORBIDDEN);

    let (status, _, location) = owner.upload(
        &imports,
        "regs.csv",
        "source_id,seat_type,first_name,last_name,email\n\
         X-1,Conference pass,Ada,Lovelace,ada@example.com\n\
         X-2,No such pass,Grace,Hopper,grace@example.com\n"
            .as_bytes(),
        None,
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    let job = location.context("the import's page")?;
    let report = (0..100)
        .find_map(|_| {
            let page = owner.get(&job).ok()?.1;
            if page.contains("import-report") {
                return Some(page);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            None
        })
        .context("the import never finished")?;
    ensure!(
        report.contains("nothing was imported") && report.contains("line 3: no seat type named"),
        "{report}"
    );
    ensure!(count()? == before, "nothing imported");

    let job_id = job.rsplit('/').next().unwrap_or_default();
    let other = format!(
        "/conferences/{}/imports/{job_id}",
        ConferenceId::from_u128(7)
    );
    ensure!(owner.get(&other)?.0 == StatusCode::NOT_FOUND);
    let made_up = format!("/conferences/{DEMO}/imports/{}", uuid::Uuid::now_v7());
    ensure!(owner.get(&made_up)?.0 == StatusCode::NOT_FOUND);
    Ok(())
}

/// Badges from the set-up page: previews of every template drawn for a sample attendee, a
/// template set uploaded, a template chosen for an attendee type and the desk defaults saved,
/// each a change in the history. A file that is not a template set, a forged form and a
/// viewer change nothing.
#[test]
fn badges_are_set_up_from_the_dashboard_and_bad_files_change_nothing() -> Result<()> {
    let (dir, server) = office("dashboard-badges", None, Some(10))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let setup = format!("/conferences/{DEMO}/setup");
    let badges = || -> Result<serde_json::Value> {
        server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}/badges"),
            None,
        )
    };
    let (status, page) = owner.get(&setup)?;
    ensure!(status == StatusCode::OK && page.contains("The built-in templates (3)"));
    for template in ["badge-4x3in", "badge-a6", "label-54x90mm"] {
        let src = format!("{setup}/badges/{template}/preview.svg");
        ensure!(page.contains(&src), "no preview of {template}");
        let (status, svg) = owner.get(&src)?;
        ensure!(
            status == StatusCode::OK && svg.starts_with("<svg") && svg.contains("Lovelace"),
            "{template}: {status}"
        );
    }
    let (status, svg) = owner.get(&format!(
        "{setup}/badges/badge-a6/preview.svg?attendee_type=speaker"
    ))?;
    ensure!(
        status == StatusCode::OK && svg.contains("Speaker"),
        "{status}"
    );
    let (status, _) = owner.get(&format!("{setup}/badges/nope/preview.svg"))?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");

    // Bad files and forged forms change nothing.
    let upload = format!("{setup}/badges/templates");
    let mut set = onsite_badge::TemplateSet::default_set();
    let mut speakers = set.get("badge-a6")?.clone();
    speakers.id = "speakers".into();
    speakers.name = "Speakers".into();
    set.templates.push(speakers);
    let good = serde_json::to_vec(&set)?;
    let outside = String::from_utf8(good.clone())?.replacen("\"w\":", "\"w\":9000,\"x_\":", 1);
    for (bytes, says) in [
        (b"{not json".to_vec(), "not read"),
        (
            br#"{"format": 2, "templates": []}"#.to_vec(),
            "format 2 is not known",
        ),
        (outside.into_bytes(), "not read"),
        (vec![0xff, 0xfe, 0x00], "not UTF-8"),
    ] {
        let (status, page, _) = owner.upload(&upload, "t.json", &bytes, None)?;
        ensure!(
            status == StatusCode::UNPROCESSABLE_ENTITY && page.contains(says),
            "{status} {says}: {page}"
        );
    }
    let (status, _, _) = owner.upload(&upload, "t.json", &good, Some("forged"))?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    ensure!(
        badges()?["built_in"] == true,
        "a refused upload changed the set"
    );

    // The owner uploads, chooses, and saves the defaults.
    let (status, _, location) = owner.upload(&upload, "t.json", &good, None)?;
    ensure!(
        status == StatusCode::SEE_OTHER && location.as_deref() == Some(setup.as_str()),
        "{status}"
    );
    let (status, page) = owner.post(
        &format!("{setup}/attendee-types/speaker/template"),
        &[("template", "speakers")],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status} {page}");
    let (status, _) = owner.post(
        &format!("/conferences/{DEMO}/setup/desk-defaults"),
        &[
            ("auto_print", "never"),
            ("badge_template", "badge-a6"),
            ("printer", "badges"),
        ],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    let (status, _) = owner.post(
        &format!("/conferences/{DEMO}/setup/desk-defaults"),
        &[("auto_print", "sometimes")],
    )?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    let now = badges()?;
    ensure!(
        now["built_in"] == false
            && now["attendee_types"]["speaker"] == "speakers"
            && now["desk_defaults"]
                == serde_json::json!({"auto_print": "never", "badge_template": "badge-a6", "printer": "badges"}),
        "{now}"
    );
    let (_, page) = owner.get(&setup)?;
    ensure!(
        page.contains("Head office&#39;s templates (4)")
            || page.contains("Head office's templates (4)")
    );
    let (_, page) = owner.get(&format!("/conferences/{DEMO}/history"))?;
    for change in [
        "badge templates set",
        "attendee type template set",
        "desk defaults set",
        "registrations imported",
        "file: the demo",
    ] {
        ensure!(page.contains(change), "history lacks {change:?}");
    }

    // A viewer sees the badges but may not change them.
    server_command(
        dir.path(),
        None,
        &[
            "user",
            "add",
            "--email",
            "vera@example.com",
            "--password",
            PASSWORD,
            "--role",
            "viewer",
        ],
    )?;
    let mut viewer = Visitor::signed_in(&server.url, "vera@example.com", PASSWORD)?;
    let (status, page) = viewer.get(&setup)?;
    ensure!(status == StatusCode::OK && !page.contains("upload-templates"));
    let (status, _) = viewer.post(&format!("{setup}/badges/reset"), &[])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    ensure!(badges()?["built_in"] == false);
    Ok(())
}

/// Hand-outs from the set-up page: an item added (sizes, for a seat type and an attendee type),
/// changed, refused when it names what the conference does not have, taken away; a viewer
/// and a forged form change nothing. A desk hands one over: the overview counts it by size and
/// the export lists who got it.
#[test]
fn hand_outs_are_set_up_from_the_dashboard_and_counted_on_the_overview() -> Result<()> {
    let (dir, server) = office("dashboard-hand-outs", None, Some(10))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let setup = format!("/conferences/{DEMO}/setup");
    let items = || -> Result<serde_json::Value> {
        Ok(server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}/hand-outs"),
            None,
        )?["items"]
            .clone())
    };
    let conference = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    let seat = conference["seat_types"][0]["id"]
        .as_str()
        .context("a seat type")?
        .to_owned();
    let for_seat = format!("seat:{seat}");
    let save = format!("{setup}/hand-outs");
    let (status, page) = owner.post(
        &save,
        &[
            ("id", "t-shirt"),
            ("name", "T-shirt"),
            ("sizes", "S, M ,L"),
            ("for", &for_seat),
            ("for", "type:speaker"),
        ],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status} {page}");
    let (status, _) = owner.post(&save, &[("id", "voucher"), ("name", "Meal voucher")])?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(
        items()?
            == serde_json::json!([
                {"id": "t-shirt", "name": "T-shirt", "sizes": ["S", "M", "L"], "seat_types": [seat], "attendee_types": ["speaker"]},
                {"id": "voucher", "name": "Meal voucher"},
            ]),
        "{}",
        items()?
    );
    // The same id again changes that item, in its place.
    let (status, _) = owner.post(
        &save,
        &[("id", "t-shirt"), ("name", "Shirt"), ("sizes", "M")],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(items()?[0]["name"] == "Shirt" && items()?[0]["sizes"] == serde_json::json!(["M"]));
    let before = items()?;
    for (pairs, says) in [
        (vec![("id", "Bad Id"), ("name", "x")], "not an item id"),
        (
            vec![("id", "kit"), ("name", "Kit"), ("for", "seat:nope")],
            "not a seat type",
        ),
        (
            vec![("id", "kit"), ("name", "Kit"), ("for", "type:ghost")],
            "does not exist",
        ),
        (
            vec![("id", "kit"), ("name", "Kit"), ("sizes", "M, m")],
            "must be different",
        ),
        (
            vec![("id", "kit"), ("name", "<b>Kit</b>\u{7}")],
            "control character",
        ),
    ] {
        let (status, page) = owner.post(&save, &pairs)?;
        ensure!(
            status == StatusCode::UNPROCESSABLE_ENTITY && page.contains(says),
            "{pairs:?}: {status} {page}"
        );
    }
    ensure!(items()? == before, "a refusal changed the items");
    let (_, page) = owner.get(&setup)?;
    ensure!(page.contains("hand-out-items") && page.contains("Meal voucher"));

    // A desk hands a shirt over; the overview and the export say so.
    let registrations = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/registrations?limit=1"),
        None,
    )?;
    let code = registrations["registrations"][0]["code"]
        .as_str()
        .context("a ticket")?
        .to_owned();
    let mut desk = server.desk(DEMO, "Shirts")?;
    let r = desk.push_events(&[onsite_shared::event::Event::HandOut(
        onsite_shared::hand_out::Event::Given {
            conference: DEMO,
            code: onsite_shared::ids::TicketCode::parse(&code)?,
            item: "t-shirt".into(),
            given: onsite_shared::hand_out::Given {
                hand_out: onsite_shared::ids::HandOutId::from_uuid(uuid::Uuid::now_v7()),
                desk: desk.device,
                at: chrono::Utc::now(),
                size: Some("M".into()),
            },
        },
    )])?;
    ensure!(
        r.outcomes[0].status == onsite_shared::protocol::OutcomeStatus::Accepted,
        "{r:?}"
    );
    let (_, page) = owner.get(&format!("/conferences/{DEMO}"))?;
    ensure!(
        page.contains(r#"data-item="t-shirt" data-given="1""#) && page.contains("M 1"),
        "{page}"
    );
    let (status, csv) = owner.get(&format!("/conferences/{DEMO}/exports/hand-outs.csv"))?;
    ensure!(status == StatusCode::OK, "{status}");
    let lines: Vec<&str> = csv.lines().collect();
    ensure!(
        lines.len() == 2
            && lines[0] == "ticket_code,first_name,last_name,item,size,given_at,desk"
            && lines[1].starts_with(&code)
            && lines[1].contains(",t-shirt,M,")
            && lines[1].ends_with(",Shirts"),
        "{csv}"
    );

    // Taken away; a viewer and a forged form change nothing.
    let (status, _) = owner.post(&format!("{setup}/hand-outs/voucher/remove"), &[])?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(items()?.as_array().map(Vec::len) == Some(1));
    let forged = owner
        .c
        .post(format!("{}{save}", server.url))
        .header(COOKIE, owner.cookie())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("csrf=forged&id=kit&name=Kit")
        .send()?;
    ensure!(
        forged.status() == StatusCode::FORBIDDEN,
        "{}",
        forged.status()
    );
    server_command(
        dir.path(),
        None,
        &[
            "user",
            "add",
            "--email",
            "vic@example.com",
            "--password",
            PASSWORD,
            "--role",
            "viewer",
        ],
    )?;
    let mut viewer = Visitor::signed_in(&server.url, "vic@example.com", PASSWORD)?;
    let (status, page) = viewer.get(&setup)?;
    ensure!(status == StatusCode::OK && !page.contains("hand-out-form"));
    let (status, _) = viewer.post(&format!("{setup}/hand-outs/t-shirt/remove"), &[])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    ensure!(items()?.as_array().map(Vec::len) == Some(1));
    Ok(())
}

/// A seat type's admission rules from the set-up page: days ticked among the conference's,
/// an entry time, the ID check; a day that is not a date or not the conference's and a
/// viewer change nothing.
#[test]
fn admission_rules_are_set_from_the_seat_types_edit_form() -> Result<()> {
    let (dir, server) = office("dashboard-rules", None, Some(10))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let setup = format!("/conferences/{DEMO}/setup");
    let conference = || {
        server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}"),
            None,
        )
    };
    let seat = conference()?["seat_types"][0]["id"]
        .as_str()
        .context("a seat type")?
        .to_owned();
    let (_, page) = owner.get(&setup)?;
    ensure!(
        page.contains(&format!("/setup/seat-types/{seat}/rules")) && page.contains("Mon 23 Nov"),
        "the form lists the conference's days"
    );
    let rules = format!("{setup}/seat-types/{seat}/rules");
    let (status, page) = owner.post(
        &rules,
        &[
            ("valid_on", "2026-11-23"),
            ("valid_on", "2026-11-24"),
            ("earliest_entry", "08:30"),
            ("id_check", "on"),
        ],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status} {page}");
    ensure!(
        conference()?["admission_rules"][&seat]
            == serde_json::json!({"valid_on": ["2026-11-23", "2026-11-24"], "earliest_entry": "08:30:00", "id_check": true}),
        "{}",
        conference()?
    );
    for (pairs, says) in [
        (
            vec![("valid_on", "2026-12-25")],
            "not a day of the conference",
        ),
        (vec![("valid_on", "Monday")], "not a date"),
        (vec![("earliest_entry", "half past eight")], "not a time"),
    ] {
        let (status, page) = owner.post(&rules, &pairs)?;
        ensure!(
            status == StatusCode::UNPROCESSABLE_ENTITY && page.contains(says),
            "{pairs:?}: {status} {page}"
        );
    }
    server_command(
        dir.path(),
        None,
        &[
            "user",
            "add",
            "--email",
            "val@example.com",
            "--password",
            PASSWORD,
            "--role",
            "viewer",
        ],
    )?;
    let mut viewer = Visitor::signed_in(&server.url, "val@example.com", PASSWORD)?;
    let (status, _) = viewer.post(&rules, &[])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    // Nothing ticked: the rules go away.
    let (status, _) = owner.post(&rules, &[])?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(conference()?.get("admission_rules").is_none());
    Ok(())
}

/// Gates from the set-up page: added with a direction and a zone, changed, taken away; the
/// zones without re-entry saved; a bad direction and a viewer change nothing. The overview
/// shows inside now.
#[test]
fn gates_are_set_up_from_the_dashboard_and_the_overview_says_who_is_inside() -> Result<()> {
    let (dir, server) = office("dashboard-gates", None, Some(10))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let setup = format!("/conferences/{DEMO}/setup");
    let gates = || -> Result<serde_json::Value> {
        Ok(server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}"),
            None,
        )?["gates"]
            .clone())
    };
    let save = format!("{setup}/gates");
    for (name, direction, zone) in [
        ("north exit", "out", ""),
        ("workshop door", "both", "workshop"),
        ("North Exit", "both", "hall"),
    ] {
        let (status, page) = owner.post(
            &save,
            &[("name", name), ("direction", direction), ("zone", zone)],
        )?;
        ensure!(status == StatusCode::SEE_OTHER, "{status} {page}");
    }
    let (status, _) = owner.post(
        &format!("{setup}/gates/no-reentry"),
        &[("zones", "workshop, , Workshop")],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(
        gates()?
            == serde_json::json!({"gates": [
                {"name": "North Exit", "direction": "both", "zone": "hall"},
                {"name": "workshop door", "direction": "both", "zone": "workshop"},
            ], "no_reentry": ["workshop"]}),
        "{}",
        gates()?
    );
    let (status, _) = owner.post(&save, &[("name", "x"), ("direction", "sideways")])?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    let (status, _) = owner.post(&format!("{setup}/gates/remove"), &[("name", "north exit")])?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(gates()?["gates"].as_array().map(Vec::len) == Some(1));
    server_command(
        dir.path(),
        None,
        &[
            "user",
            "add",
            "--email",
            "gil@example.com",
            "--password",
            PASSWORD,
            "--role",
            "viewer",
        ],
    )?;
    let mut viewer = Visitor::signed_in(&server.url, "gil@example.com", PASSWORD)?;
    let (status, page) = viewer.get(&setup)?;
    ensure!(
        status == StatusCode::OK && page.contains("workshop door") && !page.contains("gate-form")
    );
    let (status, _) = viewer.post(&save, &[("name", "sneaky")])?;
    ensure!(status == StatusCode::FORBIDDEN, "{status}");
    // The card: the fields ticked and the custom ones typed, in that order.
    let (status, page) = owner.post(
        &format!("{setup}/card"),
        &[
            ("field", "seat_type"),
            ("field", "email"),
            ("custom", "dietary, shirt"),
        ],
    )?;
    ensure!(status == StatusCode::SEE_OTHER, "{status} {page}");
    let view = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    ensure!(
        view["result_card"]["fields"]
            == serde_json::json!(["seat_type", "email", {"custom": "dietary"}, {"custom": "shirt"}]),
        "{view}"
    );
    let (status, _) = owner.post(&format!("{setup}/card"), &[("field", "password")])?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    let (_, page) = owner.get(&format!("/conferences/{DEMO}"))?;
    ensure!(
        page.contains(r#"id="inside-now" data-inside="0""#),
        "the overview says inside now"
    );
    Ok(())
}

/// Rooms from the set-up page: added (who may enter, a capacity), changed in place, refused
/// with the reason (no capacity, a gate's name, not a number) without changing anything,
/// removed; the overview shows each room's people now and how many came, once a desk's
/// entry arrived.
#[test]
fn rooms_are_set_up_from_the_dashboard_and_counted_on_the_overview() -> Result<()> {
    let (_dir, server) = office("dashboard-rooms", None, Some(10))?;
    let mut owner = Visitor::signed_in(&server.url, EMAIL, PASSWORD)?;
    let setup = format!("/conferences/{DEMO}/setup");
    let rooms = || -> Result<serde_json::Value> {
        server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{DEMO}/rooms"),
            None,
        )
    };
    let conference = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    let seat = conference["seat_types"][0]["id"]
        .as_str()
        .context("a seat type")?
        .to_owned();
    let save = format!("{setup}/rooms");
    for pairs in [
        vec![
            ("name", "Workshop A"),
            ("capacity", "30"),
            ("for", seat.as_str()),
        ],
        vec![("name", "Reception"), ("capacity", "")],
        vec![
            ("name", "workshop a"),
            ("capacity", "25"),
            ("for", seat.as_str()),
        ],
    ] {
        let (status, page) = owner.post(&save, &pairs)?;
        ensure!(
            status == StatusCode::SEE_OTHER,
            "{pairs:?}: {status} {page}"
        );
    }
    ensure!(
        rooms()?["rooms"]
            == serde_json::json!([
                {"name": "workshop a", "seat_types": [seat], "capacity": 25},
                {"name": "Reception"},
            ]),
        "{}",
        rooms()?
    );
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/gates"),
        Some(serde_json::json!({"gates": [{"name": "North"}]})),
    )?;
    let before = rooms()?["rooms"].clone();
    for (pairs, says) in [
        (vec![("name", "Lab"), ("capacity", "0")], "capacity of 0"),
        (vec![("name", "north")], "name of a gate"),
        (
            vec![("name", "Lab"), ("capacity", "many")],
            "not a capacity",
        ),
        (vec![("name", "Lab"), ("for", "nope")], "not a seat type"),
    ] {
        let (status, page) = owner.post(&save, &pairs)?;
        ensure!(
            (status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST)
                && page.contains(says),
            "{pairs:?}: {status} {page}"
        );
    }
    ensure!(rooms()?["rooms"] == before, "a refusal changed the rooms");
    let (_, page) = owner.get(&setup)?;
    ensure!(page.contains(r#"id="room-form""#) && page.contains(r#"data-room="Reception""#));

    // A desk lets someone into the reception; the overview says so.
    let registrations = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}/registrations?limit=1"),
        None,
    )?;
    let code = registrations["registrations"][0]["code"]
        .as_str()
        .context("a ticket")?
        .to_owned();
    let mut desk = server.desk(DEMO, "Reception desk")?;
    let r = desk.push_events(&[onsite_shared::event::Event::Room(
        onsite_shared::room::Event::Entered {
            conference: DEMO,
            code: onsite_shared::ids::TicketCode::parse(&code)?,
            room: "Reception".into(),
            visit: onsite_shared::room::Visit {
                visit: onsite_shared::ids::RoomVisitId::from_uuid(uuid::Uuid::now_v7()),
                desk: desk.device,
                at: chrono::Utc::now(),
            },
            override_reason: None,
        },
    )])?;
    ensure!(
        r.outcomes[0].status == onsite_shared::protocol::OutcomeStatus::Accepted,
        "{r:?}"
    );
    let (_, page) = owner.get(&format!("/conferences/{DEMO}"))?;
    ensure!(
        page.contains(r#"data-room="Reception" data-inside="1" data-attended="1""#),
        "{page}"
    );
    let (status, _) = owner.post(&format!("{setup}/rooms/remove"), &[("name", "WORKSHOP A")])?;
    ensure!(status == StatusCode::SEE_OTHER, "{status}");
    ensure!(rooms()?["rooms"] == serde_json::json!([{"name": "Reception"}]));
    Ok(())
}

/// `/metrics`: off without a token, refused without the right one; with it, what a person on
/// call needs once a desk has synced and a sign-in was refused (push and pull latency, events
/// ingested, the writer's queue and groups, open conflicts, each desk's backlog and the age of
/// its last sync, refused sign-ins). Every answer carries a request id of its own, never the
/// one a client sent.
#[test]
fn metrics_show_what_on_call_needs_and_every_answer_has_its_own_request_id() -> Result<()> {
    let (dir, server) = office("metrics", None, Some(20))?;
    let scrape = |server: &TestServer, token: Option<&str>| -> Result<(StatusCode, String)> {
        let mut req = server.http().get(format!("{}/metrics", server.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send()?;
        Ok((res.status(), res.text()?))
    };
    ensure!(scrape(&server, Some("anything"))?.0 == StatusCode::NOT_FOUND);
    let server = server.with_serve_args(&["--metrics-token", "s3cret-metrics"])?;
    for token in [None, Some("wrong"), Some("")] {
        ensure!(
            scrape(&server, token)?.0 == StatusCode::UNAUTHORIZED,
            "{token:?}"
        );
    }

    let desk = LocalDesk::enrol(&server, DEMO, "metrics-desk", dir.path())?;
    desk.sync()?;
    for e in desk.search("a")?.into_iter().filter(|e| e.admits).take(2) {
        desk.check_in(&CheckInRequest {
            code: e.code.to_string(),
            gate: None,
            override_reason: None,
        })?;
    }
    desk.sync()?;
    let c = client()?;
    let (cookie, csrf) = login_page(&c, &server.url)?;
    let res =
        onsite_tests::dashboard::login(&c, &server.url, &cookie, &csrf, EMAIL, "not the password")?;
    ensure!(res.status() == StatusCode::UNAUTHORIZED, "{}", res.status());

    let (status, text) = scrape(&server, Some("s3cret-metrics"))?;
    ensure!(status == StatusCode::OK, "{status}");
    let mut missing = Vec::new();
    for needle in [
        "onsite_push_seconds_bucket{",
        "onsite_pull_seconds_bucket{",
        "onsite_events_ingested_total{status=\"accepted\"}",
        "onsite_writer_group_size_bucket{",
        "onsite_writer_queue_depth",
        "onsite_open_conflicts 0",
        "onsite_desk_pending_events{",
        "name=\"metrics-desk\"",
        "onsite_desk_last_sync_age_seconds{",
        "onsite_sign_in_refused_total{reason=\"wrong_password\"}",
    ] {
        if !text.contains(needle) {
            missing.push(needle);
        }
    }
    ensure!(missing.is_empty(), "{missing:?} in:\n{text}");

    // Request ids: fresh on every answer, whatever the client said.
    let id_of = |res: &reqwest::blocking::Response| {
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let a = server
        .http()
        .get(format!("{}/v1/health", server.url))
        .header("x-request-id", "forged-id")
        .send()?;
    let b = server
        .http()
        .get(format!("{}/nowhere", server.url))
        .send()?;
    let (a, b) = (id_of(&a), id_of(&b));
    ensure!(
        a.len() == 32 && a.chars().all(|c| c.is_ascii_hexdigit()) && a != b && b.len() == 32,
        "{a:?} {b:?}"
    );
    Ok(())
}

/// `--log-format json`: one JSON object a line, and a request's lines carry its id (the one
/// its answer says).
#[test]
fn json_logs_carry_the_request_id_of_the_request() -> Result<()> {
    use std::io::{BufRead, BufReader};
    let dir = TempDir::new("json-logs")?;
    server_command(dir.path(), None, &["demo", "--attendees", "5"])?;
    let log = dir.path().join("server.log");
    let mut child = std::process::Command::new(onsite_tests::workspace::binary("onsite-server")?)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "onsite_server=info,tower_http=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .context("the address")?
        .to_owned();
    let res = onsite_tests::server::http_client()
        .build()?
        .get(format!("{url}/v1/health"))
        .send()?;
    let id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .context("a request id")?
        .to_owned();
    onsite_tests::display::terminate(&mut child);
    let text = std::fs::read_to_string(&log)?;
    let mut lines = 0;
    let mut of_request = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(l).with_context(|| format!("not JSON: {l}"))?;
        lines += 1;
        if v["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["request_id"] == id.as_str()))
        {
            of_request += 1;
        }
    }
    ensure!(
        lines > 0 && of_request >= 1,
        "{of_request} of {lines} lines:\n{text}"
    );
    Ok(())
}
