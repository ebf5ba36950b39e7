//! The desk app end to end, in its real window (tauri-driver + WebKitWebDriver under Xvfb),
//! against a real `onsite-server` with the demo conference, a second desk core competing for
//! seats, a network partition between the app and the server, and the test CUPS printer.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use onsite_desk_core::{Desk, JobState, SaleRequest, SaleTicketRequest};
use onsite_shared::ids::ConferenceId;
use onsite_shared::order::PaymentMethod;
use onsite_tests::cups::{TestPrinter, pdf_pages};
use onsite_tests::desk::LocalDesk;
use onsite_tests::display::VirtualDisplay;
use onsite_tests::partition::Partition;
use onsite_tests::server::{TempDir, TestServer, server_command};
use onsite_tests::webdriver::{TauriDriver, key, screenshot, wait_for_text};
use onsite_tests::workspace;

const DEMO: ConferenceId = ConferenceId::from_u128(0x01930000_0000_7000_8000_000000000001);
const WAIT: Duration = Duration::from_secs(30);

pub(crate) async fn css(client: &Client, selector: &str) -> Result<fantoccini::elements::Element> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(selector))
        .await
        .with_context(|| format!("waiting for {selector}"))
}

/// Types into the door field (which always has focus) and presses Enter.
pub(crate) async fn scan(client: &Client, text: &str) -> Result<()> {
    let field = css(client, "#scan").await?;
    field.send_keys(text).await?;
    field.send_keys(key::ENTER).await?;
    Ok(())
}

/// Sets the desk's gate in the settings (F4) and comes back to the door.
async fn set_gate(client: &Client, gate: &str) -> Result<()> {
    press(client, key::F4).await?;
    let input = css(client, "#gate-input").await?;
    // Deleted key by key: WebDriver's clear() empties the field without an input event, and
    // the window's state keeps the old value.
    let old = input.prop("value").await?.unwrap_or_default();
    input.send_keys(key::END).await?;
    input
        .send_keys(&key::BACKSPACE.repeat(old.chars().count()))
        .await?;
    input.send_keys(gate).await?;
    input.send_keys(key::ENTER).await?;
    // The header says the gate once the desk saved it ("Saved" may still be on the screen
    // from an earlier change).
    let saved = |text: String| text.trim() == gate;
    for _ in 0..300 {
        if saved(css(client, "#gate").await?.text().await?) {
            press(client, key::ESCAPE).await?;
            css(client, "#scan").await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the gate never became {gate:?}")
}

pub(crate) async fn press(client: &Client, keys: &str) -> Result<()> {
    client.active_element().await?.send_keys(keys).await?;
    Ok(())
}

async fn banner(client: &Client, needle: &str) -> Result<(String, String)> {
    let text = wait_for_text(client, "#banner", needle, WAIT).await?;
    let tone = css(client, "#banner")
        .await?
        .attr("data-tone")
        .await?
        .unwrap_or_default();
    Ok((text, tone))
}

async fn fill_holder(client: &Client, first: &str, last: &str) -> Result<()> {
    // The form for the added seat renders after the click returns.
    css(client, "form.sale input.first-name").await?;
    let pick = |class: &'static str| async move {
        let all = client.find_all(Locator::Css(class)).await?;
        all.last().cloned().context("a holder field")
    };
    pick("input.first-name").await?.send_keys(first).await?;
    pick("input.last-name").await?.send_keys(last).await?;
    pick("input.email")
        .await?
        .send_keys(&format!("{}@example.com", first.to_lowercase()))
        .await?;
    Ok(())
}

#[test]
fn door_staff_enrol_check_in_sell_print_and_see_a_compensation_in_the_real_window() -> Result<()> {
    let dir = TempDir::new("desk-app")?;
    let printer = TestPrinter::pdf("door-app")?;
    server_command(dir.path(), None, &["demo", "--attendees", "80"])?;
    let server = TestServer::start(dir.path())?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/hand-outs"),
        Some(serde_json::json!({"items": [{"id": "t-shirt", "name": "T-shirt", "sizes": ["S", "M", "L"]}]})),
    )?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/gates"),
        Some(serde_json::json!({"gates": [{"name": "north exit", "direction": "out"}]})),
    )?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/rooms"),
        Some(serde_json::json!({"rooms": [{"name": "Lounge", "capacity": 2}]})),
    )?;
    // A second desk that competes with the app for the last workshop seats.
    let rival = LocalDesk::enrol(&server, DEMO, "rival", dir.path())?;
    rival.sync()?;
    let people: Vec<_> = rival
        .search("a")?
        .into_iter()
        .filter(|e| e.admits && e.admission.is_none())
        .collect();
    ensure!(people.len() >= 3, "the demo has attendees");
    let (by_name, by_code) = (&people[0], &people[1]);

    let link = Partition::start(&server.url)?;
    let code = server.enrolment_code(DEMO, "Door app")?;
    let db = dir.path().join("app.sqlite3");
    let display = VirtualDisplay::start()?;
    let driver = TauriDriver::start(
        &display,
        &[("ONSITE_DESK_DB", db.to_str().context("utf-8 path")?)],
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let app = workspace::binary("onsite-desk")?;
    let result = runtime.block_on(async {
        let client = driver.session(&app).await?;
        let outcome = drive(
            &client, &server, &link, &code, &printer, &rival, by_name, by_code,
        )
        .await;
        if outcome.is_err() {
            let _ = screenshot(&client, "desk-app-failure").await;
        }
        let _ = client.close().await;
        outcome
    });
    drop(driver);
    result?;

    // The badge printed at the first check-in reached CUPS at its own page size.
    let desk = Desk::open(&db)?;
    let job = desk
        .print_jobs(10)?
        .into_iter()
        .find(|j| j.state == JobState::Completed)
        .context("a completed print job")?;
    let pdf = printer.output(job.spooler_job.context("spooler job")?, WAIT)?;
    let ((w, h), _) = pdf_pages(&pdf)?;
    ensure!(
        (w - 288.0).abs() < 1.0 && (h - 216.0).abs() < 1.0,
        "{w} × {h}"
    );
    Ok(())
}

/// Waits until the app's roster has `code` (it pulls in the background): searched by `name`
/// again until the code is among the results; the field is left empty.
async fn on_roster(client: &Client, name: &str, code: &str) -> Result<()> {
    let field = css(client, "#scan").await?;
    field.send_keys(name).await?;
    for _ in 0..60 {
        let shown = client
            .find_all(Locator::Css(&format!(".result[data-code='{code}']")))
            .await?;
        if !shown.is_empty() {
            for _ in 0..name.chars().count() {
                field.send_keys(key::BACKSPACE).await?;
            }
            return Ok(());
        }
        css(client, "#sync-now").await?.click().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Typing again searches again.
        field.send_keys(" ").await?;
        field.send_keys(key::BACKSPACE).await?;
    }
    anyhow::bail!("{code} never reached the app's roster")
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    client: &Client,
    head_office: &TestServer,
    link: &Partition,
    code: &str,
    printer: &TestPrinter,
    rival: &LocalDesk,
    by_name: &onsite_desk_core::RosterEntry,
    by_code: &onsite_desk_core::RosterEntry,
) -> Result<()> {
    // Enrol with the one-time code.
    let server = css(client, "#server-url").await?;
    server.clear().await?;
    server.send_keys(&link.url).await?;
    css(client, "#enrol-code").await?.send_keys(code).await?;
    screenshot(client, "desk-app-setup").await?;
    css(client, "#enrol").await?.click().await?;
    css(client, "#scan").await?;
    wait_for_text(client, "#sync-label", "Online", WAIT).await?;

    // Settings: the badge printer.
    press(client, key::F4).await?;
    // The printers come from the spooler after the screen opened.
    css(
        client,
        &format!("#printer option[value='{}']", printer.name),
    )
    .await?;
    css(client, "#printer")
        .await?
        .select_by_value(&printer.name)
        .await?;
    wait_for_text(client, "#settings-message", "Saved", WAIT).await?;
    // Ready for the doors? The checklist, asked again now that the printer is chosen.
    css(client, "#check-readiness").await?.click().await?;
    css(
        client,
        "#readiness li[data-item='roster'][data-level='green']",
    )
    .await?;
    let printer_item = wait_for_text(
        client,
        "#readiness li[data-item='printer']",
        &printer.name,
        WAIT,
    )
    .await?;
    ensure!(!printer_item.contains("no badge printer"), "{printer_item}");
    let heading = css(client, "#readiness h2").await?.text().await?;
    ensure!(
        heading.starts_with("Ready for the doors") || heading.starts_with("Not ready yet"),
        "{heading}"
    );
    screenshot(client, "desk-app-readiness").await?;
    screenshot(client, "desk-app-settings").await?;
    // Support: the desk's log, shown and saved as a file for head office.
    css(client, "#show-log").await?.click().await?;
    wait_for_text(client, "#desk-log", "desk open", WAIT).await?;
    css(client, "#save-log").await?.click().await?;
    let saved = wait_for_text(client, "#log-saved", "Saved to ", WAIT).await?;
    let path = saved
        .trim()
        .strip_prefix("Saved to ")
        .and_then(|r| r.split(": send").next())
        .context("the saved log's path")?;
    let copy = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    ensure!(copy.contains("desk open"), "{copy}");
    press(client, key::ESCAPE).await?;

    // Door: a typed name, then Enter, admits; the badge prints by itself.
    let name = format!("{} {}", by_name.first_name, by_name.last_name);
    let field = css(client, "#scan").await?;
    field.send_keys(&name).await?;
    css(client, &format!(".result[data-code='{}']", by_name.code)).await?;
    field.send_keys(key::ENTER).await?;
    let (text, tone) = banner(client, "Admitted").await?;
    ensure!(
        tone == "ok" && text.contains(&by_name.last_name),
        "{tone}: {text}"
    );
    screenshot(client, "desk-app-door-admitted").await?;

    // A scanned code + Enter admits; the same scan again is the amber duplicate banner.
    scan(client, by_code.code.as_str()).await?;
    let (text, tone) = banner(client, &by_code.last_name).await?;
    ensure!(tone == "ok" && text.contains("Admitted"), "{tone}: {text}");
    // The card says what to hand over: one click on the size marks the T-shirt given.
    ensure!(text.contains("Hand over: T-shirt"), "{text}");
    css(
        client,
        "#hand-outs .hand-out[data-item='t-shirt'] .give[data-size='M']",
    )
    .await?
    .click()
    .await?;
    wait_for_text(
        client,
        "#hand-outs .hand-out[data-item='t-shirt']",
        "given",
        WAIT,
    )
    .await?;
    screenshot(client, "desk-app-hand-out").await?;
    scan(client, by_code.code.as_str()).await?;
    let (text, tone) = banner(client, "Already admitted").await?;
    ensure!(
        tone == "warn" && text.contains("this desk"),
        "{tone}: {text}"
    );
    screenshot(client, "desk-app-door-duplicate").await?;

    // The attendee screen shows the print job completed by the spooler.
    let field = css(client, "#scan").await?;
    field.send_keys(by_name.code.as_str()).await?;
    css(client, &format!(".result[data-code='{}']", by_name.code)).await?;
    field
        .send_keys(&format!("{}{}", key::SHIFT, key::ENTER))
        .await?;
    css(client, "#print-jobs tr[data-state='completed']").await?;
    // The badge preview: the same layout as the printed PDF, drawn as SVG.
    css(client, "#badge-preview svg").await?;
    let preview = client
        .execute(
            "return document.querySelector('#badge-preview svg').textContent",
            vec![],
        )
        .await?;
    ensure!(
        preview
            .as_str()
            .is_some_and(|t| t.contains(by_name.last_name.as_str())),
        "{preview}"
    );
    screenshot(client, "desk-app-attendee").await?;
    press(client, key::ESCAPE).await?;

    // A walk-in sale, confirmed by the server after sync.
    let seats = rival.availability()?;
    let admission = seats
        .iter()
        .find(|s| s.admits && s.remaining > 0)
        .context("an admission seat type")?;
    press(client, key::F2).await?;
    css(
        client,
        &format!("#seats tr[data-seat='{}'] .add-seat", admission.name),
    )
    .await?
    .click()
    .await?;
    fill_holder(client, "Walter", "Walkin").await?;
    css(client, "#confirm-sale").await?.click().await?;
    wait_for_text(client, "#receipt", "Walter Walkin", WAIT).await?;
    css(client, "#print-receipt").await?.click().await?;
    wait_for_text(client, "#receipt-printed", "1 badge(s) sent", WAIT).await?;
    css(client, "#sales tr[data-status='confirmed']").await?;
    screenshot(client, "desk-app-walkin-confirmed").await?;

    // A party of three bought at the rival desk. One scan admits the first and shows the
    // party; the second is ticked and admitted with one click, the third (not there yet)
    // left out; then the second is taken back as "this person", with a reason.
    let party_seat = rival
        .availability()?
        .into_iter()
        .find(|s| s.admits && s.remaining >= 3)
        .context("three seats for a party")?;
    let guest = |i: i64| SaleTicketRequest {
        seat_type: party_seat.seat_type,
        first_name: format!("Guest{i}"),
        last_name: "Partygoer".into(),
        email: format!("guest{i}@example.com"),
        company: String::new(),
        attendee_types: vec![],
    };
    let party: Vec<String> = rival
        .sell(&SaleRequest {
            tickets: (0..3).map(guest).collect(),
            payment_method: PaymentMethod::Card,
            amount_taken_minor: party_seat.price.amount_minor * 3,
        })?
        .tickets
        .iter()
        .map(|t| t.code.to_string())
        .collect();
    std::thread::scope(|s| s.spawn(|| rival.sync()).join())
        .map_err(|_| anyhow::anyhow!("the rival's sync panicked"))??;
    press(client, key::F1).await?;
    on_roster(client, "Partygoer", &party[0]).await?;
    scan(client, &party[0]).await?;
    let (text, tone) = banner(client, "Admitted").await?;
    ensure!(tone == "ok" && text.contains("Guest0"), "{tone}: {text}");
    let panel = wait_for_text(client, "#party", "3 people, 2 not in yet", WAIT).await?;
    ensure!(panel.contains("Guest2"), "{panel}");
    css(
        client,
        &format!("#party .party-member[data-code='{}'] input", party[2]),
    )
    .await?
    .click()
    .await?;
    wait_for_text(client, "#admit-party", "Admit ticked (1)", WAIT).await?;
    css(client, "#admit-party").await?.click().await?;
    let (text, tone) = banner(client, "Admitted 1 of 1").await?;
    ensure!(tone == "ok", "{tone}: {text}");
    wait_for_text(client, "#party", "3 people, 1 not in yet", WAIT).await?;
    screenshot(client, "desk-app-party").await?;
    css(client, "#party-reason")
        .await?
        .send_keys("came back out for a coat")
        .await?;
    css(
        client,
        &format!("#party .party-member[data-code='{}'] .undo-one", party[1]),
    )
    .await?
    .click()
    .await?;
    banner(client, "Undone: 1").await?;
    wait_for_text(client, "#party", "3 people, 2 not in yet", WAIT).await?;

    // The attendee screen names the others on the same order.
    let field = css(client, "#scan").await?;
    field.send_keys(&party[1]).await?;
    css(client, &format!(".result[data-code='{}']", party[1])).await?;
    field
        .send_keys(&format!("{}{}", key::SHIFT, key::ENTER))
        .await?;
    let same = wait_for_text(client, "#same-order", "Guest0 Partygoer (in at", WAIT).await?;
    ensure!(same.contains("Guest2 Partygoer (not yet in)"), "{same}");
    press(client, key::ESCAPE).await?;

    // A scanner on a French keyboard types the last guest's code as AZERTY gives it.
    let azerty = onsite_shared::scan::Layout::Azerty.typed(&party[2]);
    scan(client, &azerty).await?;
    let (text, tone) = banner(client, "Guest2").await?;
    ensure!(
        tone == "ok" && text.contains("Admitted"),
        "{azerty}: {tone}: {text}"
    );
    let numbers = wait_for_text(client, "#door-numbers", "Inside now", WAIT).await?;
    ensure!(numbers.contains("Still to come"), "{numbers}");
    screenshot(client, "desk-app-azerty").await?;

    // The desk moves to the exit: the same guest's scan records that they went out.
    let inside_before: u64 = css(client, "#inside-now")
        .await?
        .text()
        .await?
        .trim()
        .parse()?;
    set_gate(client, "north exit").await?;
    scan(client, &party[2]).await?;
    let (text, tone) = banner(client, "Out:").await?;
    ensure!(tone == "ok" && text.contains("Guest2"), "{tone}: {text}");
    wait_for_text(
        client,
        "#inside-now",
        &(inside_before - 1).to_string(),
        WAIT,
    )
    .await?;
    screenshot(client, "desk-app-exit").await?;

    // The desk moves to the lounge (two places): full at the second, the third refused with
    // the override offered; a second scan offers "left the room", which frees a place.
    set_gate(client, "Lounge").await?;
    scan(client, &party[0]).await?;
    let (text, tone) = banner(client, "In Lounge:").await?;
    ensure!(
        tone == "ok" && text.contains("1 of 2 in Lounge"),
        "{tone}: {text}"
    );
    scan(client, &party[1]).await?;
    let (text, tone) = banner(client, "2 of 2 in Lounge").await?;
    // The warning is shown large (upper case, as the window renders it).
    ensure!(
        tone == "ok" && text.contains("Guest1") && text.contains("LOUNGE IS FULL NOW"),
        "{tone}: {text}"
    );
    scan(client, &party[2]).await?;
    let (text, tone) = banner(client, "Lounge is full:").await?;
    ensure!(tone == "bad" && text.contains("Guest2"), "{tone}: {text}");
    css(client, "#let-in-anyway").await?;
    screenshot(client, "desk-app-room-full").await?;
    scan(client, &party[0]).await?;
    banner(client, "Already in Lounge").await?;
    css(client, "#left-room").await?.click().await?;
    let (text, _) = banner(client, "Left Lounge").await?;
    ensure!(text.contains("1 of 2 in Lounge"), "{text}");
    wait_for_text(client, "#door-numbers", "Lounge 1/2", WAIT).await?;
    set_gate(client, "main").await?;

    // Head office holds a seat for this desk: the walk-in screen shows it, says before the
    // payment that the sale is final, and the receipt says so.
    std::thread::scope(|s| {
        s.spawn(|| -> Result<()> {
            let devices = head_office.admin(
                reqwest::Method::GET,
                &format!("/v1/conferences/{DEMO}/devices"),
                None,
            )?;
            let app_desk = devices
                .as_array()
                .context("devices")?
                .iter()
                .find(|d| d["name"] == "Door app")
                .context("the app's desk")?["device_id"]
                .clone();
            head_office.admin(
                reqwest::Method::POST,
                &format!("/v1/conferences/{DEMO}/leases"),
                Some(serde_json::json!({
                    "desk": app_desk, "seat_type": party_seat.seat_type, "quantity": 1,
                    "until": chrono::Utc::now() + chrono::Duration::hours(2),
                })),
            )?;
            Ok(())
        })
        .join()
    })
    .map_err(|_| anyhow::anyhow!("granting the lease panicked"))??;
    css(client, "#sync-now").await?.click().await?;
    press(client, key::F2).await?;
    let held = format!("#seats tr[data-seat='{}'] .lease", party_seat.name);
    for _ in 0..40 {
        if !client.find_all(Locator::Css(&held)).await?.is_empty() {
            break;
        }
        press(client, key::F1).await?;
        css(client, "#sync-now").await?.click().await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        press(client, key::F2).await?;
    }
    wait_for_text(client, &held, "1 held for this desk", WAIT).await?;
    wait_for_text(client, "#leases", "1 of 1 left", WAIT).await?;

    // A walk-in guest who gives no name, let in with the sale: final, from the lease.
    css(
        client,
        &format!("#seats tr[data-seat='{}'] .add-seat", party_seat.name),
    )
    .await?
    .click()
    .await?;
    css(client, "form.sale input.guest").await?.click().await?;
    css(client, "#admit-now").await?.click().await?;
    wait_for_text(
        client,
        "#sale-finality",
        "Final: the seat comes from this desk's lease",
        WAIT,
    )
    .await?;
    screenshot(client, "desk-app-walkin-lease").await?;
    css(client, "#confirm-sale").await?.click().await?;
    let receipt = wait_for_text(client, "#receipt", "Walk-in guest", WAIT).await?;
    ensure!(receipt.contains("let in"), "{receipt}");
    ensure!(receipt.contains("Sold — final"), "{receipt}");
    wait_for_text(client, "#leases", "0 of 1 left", WAIT).await?;
    screenshot(client, "desk-app-walkin-guest").await?;
    press(client, key::F1).await?;

    // The app loses the server; the rival sells the workshop's last seats meanwhile; the
    // app, seeing seats as of its last sync, sells one more. After the link heals the server
    // rejects it and the refund due arrives in the inbox.
    link.cut();
    css(client, "#sync-now").await?.click().await?;
    wait_for_text(client, "#sync-label", "Offline", WAIT).await?;
    let workshop = rival
        .availability()?
        .into_iter()
        .find(|s| !s.admits && !s.overbook && s.remaining > 0)
        .context("a workshop with seats left")?;
    let holder = |i: i64| SaleTicketRequest {
        seat_type: workshop.seat_type,
        first_name: format!("Rival{i}"),
        last_name: "Buyer".into(),
        email: format!("rival{i}@example.com"),
        company: String::new(),
        attendee_types: vec![],
    };
    rival.sell(&SaleRequest {
        tickets: (0..workshop.remaining).map(holder).collect(),
        payment_method: PaymentMethod::Card,
        amount_taken_minor: workshop.price.amount_minor * workshop.remaining,
    })?;
    // The rival's client blocks on its own runtime: not on this one's thread.
    std::thread::scope(|s| s.spawn(|| rival.sync()).join())
        .map_err(|_| anyhow::anyhow!("the rival's sync panicked"))??;
    press(client, key::F1).await?;
    press(client, key::F2).await?;
    css(
        client,
        &format!("#seats tr[data-seat='{}'] .add-seat", workshop.name),
    )
    .await?
    .click()
    .await?;
    fill_holder(client, "Stella", "Stale").await?;
    wait_for_text(client, "#sale-finality", "Provisional: refunded if", WAIT).await?;
    css(client, "#confirm-sale").await?.click().await?;
    wait_for_text(client, "#receipt", "Stella Stale", WAIT).await?;
    css(client, "#sales tr[data-status='provisional']").await?;
    screenshot(client, "desk-app-walkin-offline").await?;
    link.heal();
    css(client, "#sync-now").await?.click().await?;
    wait_for_text(client, "#inbox-count", "1", WAIT).await?;
    css(client, "#sales tr[data-status='rejected']").await?;
    press(client, key::F3).await?;
    let refund = wait_for_text(client, ".conflict.open", "Refund due", WAIT).await?;
    ensure!(refund.contains("250"), "{refund}");
    screenshot(client, "desk-app-inbox").await?;
    Ok(())
}

/// What a technician does the evening before: installs the desk app from its `.deb` (into a
/// scratch root here, as `dpkg` would lay it out: the binary, the desktop entry, the icon),
/// starts the installed binary on a machine where it never ran (a fresh home: no database
/// yet, so the enrolment screen), enrols it against a real server and checks someone in. The
/// database lands in the platform's data directory for the app, with its log beside it.
/// The package comes from `cargo xtask bundle --debug` (`cargo xtask test` makes it first).
#[test]
fn the_desk_app_installed_from_its_deb_enrols_and_checks_someone_in() -> Result<()> {
    let bundles = workspace::binary("onsite-desk")?
        .parent()
        .context("the target directory")?
        .join("bundle/deb");
    let deb = std::fs::read_dir(&bundles)
        .with_context(|| {
            format!(
                "{}: run `cargo xtask bundle --debug` first",
                bundles.display()
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .with_context(|| format!("no .deb in {}", bundles.display()))?;
    let dir = TempDir::new("deb-install")?;
    let scratch = dir.path().join("root");
    let out = std::process::Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&scratch)
        .output()?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = std::process::Command::new("dpkg-deb")
        .args([
            "-f",
            &deb.display().to_string(),
            "Package",
            "Version",
            "Depends",
        ])
        .output()?;
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    ensure!(
        info.contains("Package: onsite") && info.contains("libwebkit2gtk-4.1"),
        "{info}"
    );
    let desktop = std::fs::read_to_string(scratch.join("usr/share/applications/Onsite.desktop"))?;
    ensure!(
        desktop.contains("Name=Onsite") && desktop.contains("Exec=onsite-desk"),
        "{desktop}"
    );
    ensure!(
        scratch
            .join("usr/share/icons/hicolor/256x256/apps/onsite-desk.png")
            .is_file()
    );
    let installed = scratch.join("usr/bin/onsite-desk");

    server_command(dir.path(), None, &["demo", "--attendees", "10"])?;
    let server = TestServer::start(dir.path())?;
    let someone = {
        let rival = LocalDesk::enrol(&server, DEMO, "lookup", dir.path())?;
        rival.sync()?;
        rival
            .search("a")?
            .into_iter()
            .find(|e| e.admits)
            .context("someone to admit")?
    };
    let code = server.enrolment_code(DEMO, "Installed desk")?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    let display = VirtualDisplay::start()?;
    let driver = TauriDriver::start(
        &display,
        &[
            ("HOME", home.to_str().context("utf-8 path")?),
            ("XDG_DATA_HOME", ""),
            ("ONSITE_DESK_DB", ""),
        ],
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let client = driver.session(&installed).await?;
        let outcome = async {
            // First run: the enrolment screen.
            let url = css(&client, "#server-url").await?;
            url.clear().await?;
            url.send_keys(&server.url).await?;
            css(&client, "#enrol-code").await?.send_keys(&code).await?;
            screenshot(&client, "desk-installed-enrol").await?;
            css(&client, "#enrol").await?.click().await?;
            wait_for_text(&client, "#sync-label", "Online", WAIT).await?;
            scan(&client, someone.code.as_str()).await?;
            let banner = wait_for_text(&client, "#banner", "Admitted", WAIT).await?;
            ensure!(banner.contains(&someone.first_name), "{banner}");
            screenshot(&client, "desk-installed-admitted").await?;
            Ok(())
        }
        .await;
        if outcome.is_err() {
            let _ = screenshot(&client, "desk-installed-failure").await;
        }
        let _ = client.close().await;
        outcome
    });
    drop(driver);
    result?;
    let data = home.join(".local/share/dev.onsite.desk");
    ensure!(
        data.join("desk.sqlite3").is_file(),
        "no database in {}",
        data.display()
    );
    let logs: Vec<_> = std::fs::read_dir(data.join("logs"))?
        .filter_map(Result::ok)
        .collect();
    ensure!(!logs.is_empty(), "no log in {}", data.display());
    Ok(())
}
