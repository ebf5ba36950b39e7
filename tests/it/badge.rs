//! Badges read back with poppler and zbar, and printed through a real CUPS with a virtual PDF
//! printer: the desk's print pipeline end to end.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use onsite_badge::{BadgeData, Paper, TemplateSet, Warning, render_badge, render_sheets};
use onsite_desk_core::printing::Cups;
use onsite_desk_core::{
    AutoPrinted, CheckInOutcome, CheckInRequest, JobState, PrintRequest, SaleRequest,
    SaleTicketRequest,
};
use onsite_shared::badge::AutoPrint;
use onsite_shared::ids::ConferenceId;
use onsite_shared::order::PaymentMethod;
use onsite_tests::cups::{TestPrinter, pdf_pages, pdf_png, pdf_text, qr_codes};
use onsite_tests::desk::LocalDesk;
use onsite_tests::server::{TempDir, TestServer, server_command};

const DEMO: ConferenceId = ConferenceId::from_u128(0x01930000_0000_7000_8000_000000000001);
const SETTLE: Duration = Duration::from_secs(30);

fn zoe(code: &str) -> BadgeData {
    BadgeData {
        conference: "Contoso Developers Summit".into(),
        attendee_type: "Speaker".into(),
        band: [0x1F, 0x3A, 0x93],
        first_name: "Zoë".into(),
        last_name: "Łódź-Ñuñez".into(),
        company: "Zürich Rück AG".into(),
        entitlements: vec!["Workshop: CQRS in practice".into()],
        ticket_code: code.into(),
        ..Default::default()
    }
}

/// The text pdftotext gives back, with its line breaks made spaces.
fn flat_text(path: &std::path::Path) -> Result<String> {
    Ok(pdf_text(path)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" "))
}

#[test]
fn every_default_template_reads_back_at_its_page_size_with_a_scannable_code() -> Result<()> {
    let dir = TempDir::new("badge-render")?;
    for (template, points) in TemplateSet::default_set().templates.iter().zip([
        (288.0, 216.0),
        (297.6, 419.5),
        (255.1, 153.1),
    ]) {
        let rendered = render_badge(template, &zoe("QR7-K2M"))?;
        ensure!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
        let path = dir.path().join(format!("{}.pdf", template.id));
        std::fs::write(&path, &rendered.pdf)?;

        let text = flat_text(&path)?;
        for want in [
            "Zoë Łódź-Ñuñez",
            "Zürich Rück AG",
            "Workshop: CQRS in practice",
            "Speaker",
            "Contoso Developers Summit",
        ] {
            ensure!(
                text.contains(want),
                "{}: {want:?} not in {text:?}",
                template.id
            );
        }
        let ((w, h), pages) = pdf_pages(&path)?;
        ensure!(pages == 1, "{}: {pages} pages", template.id);
        ensure!(
            (w - points.0).abs() < 1.0 && (h - points.1).abs() < 1.0,
            "{}: page {w} × {h} pt, expected {points:?}",
            template.id
        );
        // 144 dpi: 2 pixels per point.
        let (png, (pw, ph)) = pdf_png(&path, 144)?;
        ensure!(
            (pw as f32 - w * 2.0).abs() <= 2.0 && (ph as f32 - h * 2.0).abs() <= 2.0,
            "{}: rendered {pw} × {ph} px",
            template.id
        );
        ensure!(
            qr_codes(&png)? == ["QR7-K2M"],
            "{}: the QR code does not scan as the ticket code",
            template.id
        );
    }
    Ok(())
}

#[test]
fn sheets_put_badges_in_name_order_on_a4_and_letter() -> Result<()> {
    let dir = TempDir::new("badge-sheets")?;
    let people = [
        "Zapata",
        "Abadie",
        "Ångström",
        "Müller",
        "Łukasz",
        "Brown",
        "Ćosić",
    ];
    let badges: Vec<BadgeData> = people
        .iter()
        .enumerate()
        .map(|(i, last)| BadgeData {
            last_name: (*last).into(),
            ticket_code: format!("S{i}"),
            ..zoe("X")
        })
        .collect();
    let set = TemplateSet::default_set();
    let a6 = set.get("badge-a6")?;
    let sheets = render_sheets(a6, Paper::A4, &badges)?;
    let path = dir.path().join("a6-on-a4.pdf");
    std::fs::write(&path, &sheets.pdf)?;
    let ((w, h), pages) = pdf_pages(&path)?;
    ensure!(
        (w - 595.3).abs() < 1.0 && (h - 841.9).abs() < 1.0,
        "A4: {w} × {h}"
    );
    ensure!(pages == 2 && sheets.per_page == 4, "{pages} pages");
    // Abadie, Ångström, Brown, Ćosić, Łukasz, Müller, Zapata.
    let text = flat_text(&path)?;
    let order: Vec<usize> = [
        "Abadie",
        "Ångström",
        "Brown",
        "Ćosić",
        "Łukasz",
        "Müller",
        "Zapata",
    ]
    .iter()
    .map(|n| {
        text.find(n)
            .with_context(|| format!("{n} not on the sheets"))
    })
    .collect::<Result<_>>()?;
    ensure!(order.is_sorted(), "sheets not in name order: {text}");

    let letter = render_sheets(set.first(), Paper::Letter, &badges)?;
    let path = dir.path().join("4x3-on-letter.pdf");
    std::fs::write(&path, &letter.pdf)?;
    let ((w, h), pages) = pdf_pages(&path)?;
    ensure!(
        (w - 612.0).abs() < 1.0 && (h - 792.0).abs() < 1.0,
        "Letter: {w} × {h}"
    );
    ensure!(pages == 2 && letter.per_page == 6, "{pages} pages");
    Ok(())
}

fn demo_desk(dir: &TempDir, name: &str) -> Result<(TestServer, LocalDesk)> {
    server_command(dir.path(), None, &["demo", "--attendees", "60"])?;
    let server = TestServer::start(dir.path())?;
    let desk = LocalDesk::enrol(&server, DEMO, name, dir.path())?;
    desk.sync()?;
    Ok((server, desk))
}

/// Sells Zoë an admission and a workshop at the desk: her badge has an entitlement.
fn sell_zoe(desk: &LocalDesk, company: &str) -> Result<(String, String)> {
    let seats = desk.availability()?;
    let admission = seats
        .iter()
        .find(|s| s.admits && s.remaining > 0)
        .context("an admission seat type")?;
    let workshop = seats
        .iter()
        .find(|s| !s.admits && s.remaining > 0)
        .context("a workshop")?;
    let ticket = |seat_type| SaleTicketRequest {
        seat_type,
        first_name: "Zoë".into(),
        last_name: "Łódź-Ñuñez".into(),
        email: "zoe@example.com".into(),
        company: company.into(),
        attendee_types: vec![],
    };
    let receipt = desk.sell(&SaleRequest {
        tickets: vec![ticket(admission.seat_type), ticket(workshop.seat_type)],
        payment_method: PaymentMethod::Card,
        amount_taken_minor: admission.price.amount_minor + workshop.price.amount_minor,
    })?;
    Ok((receipt.tickets[0].code.to_string(), workshop.name.clone()))
}

fn scan(code: &str) -> CheckInRequest {
    CheckInRequest {
        code: code.to_owned(),
        gate: None,
        override_reason: None,
    }
}

fn badge_events(desk: &LocalDesk) -> Result<Vec<String>> {
    Ok(desk
        .outbox(0, 10_000)?
        .into_iter()
        .map(|i| i.event_type)
        .filter(|t| t.starts_with("badge."))
        .collect())
}

#[test]
fn a_check_in_prints_the_badge_through_cups_at_its_page_size_and_records_it_once() -> Result<()> {
    let dir = TempDir::new("badge-cups")?;
    let printer = TestPrinter::pdf("door")?;
    let (server, desk) = demo_desk(&dir, "print-1")?;
    let cups = Cups::default();
    let listed = desk_runtime_printers(&cups)?;
    ensure!(
        listed.iter().any(|p| p.name == printer.name),
        "the test printer is not listed: {listed:?}"
    );
    desk.set_printer(Some(&printer.name))?;
    let (code, workshop) = sell_zoe(&desk, "Zürich Rück AG")?;

    // Given the default policy (print if never printed), when Zoë is checked in...
    let CheckInOutcome::Admitted { print, .. } = desk.check_in(&scan(&code))? else {
        anyhow::bail!("not admitted");
    };
    let AutoPrinted::Queued { job } = print else {
        anyhow::bail!("no badge queued: {print:?}");
    };
    ensure!(
        badge_events(&desk)?.is_empty(),
        "recorded before the spooler had it"
    );
    desk.print_until_settled(&cups, SETTLE)?;
    let done = desk.print_job(job)?.context("job")?;
    ensure!(done.state == JobState::Completed, "{done:?}");
    ensure!(badge_events(&desk)? == ["badge.printed"]);

    // ...the badge came out of the spooler at 4 × 3 in, not scaled onto A4, and scans.
    let out = printer.output(done.spooler_job.context("spooler job")?, SETTLE)?;
    let ((w, h), pages) = pdf_pages(&out)?;
    ensure!(
        pages == 1 && (w - 288.0).abs() < 1.0 && (h - 216.0).abs() < 1.0,
        "{w} × {h}"
    );
    let (png, _) = pdf_png(&out, 200)?;
    ensure!(
        qr_codes(&png)? == [code.clone()],
        "printed QR code does not scan"
    );
    // The desk's own PDF has the text (cups-pdf's re-rendered copy has Type 3 glyphs).
    let sent = dir.path().join("sent.pdf");
    std::fs::write(&sent, desk.print_job_pdf(job)?.context("pdf")?)?;
    let text = flat_text(&sent)?;
    ensure!(
        text.contains("Zoë Łódź-Ñuñez") && text.contains("Zürich Rück AG"),
        "{text}"
    );
    ensure!(
        text.contains(&workshop),
        "no {workshop:?} on the badge: {text}"
    );

    // A duplicate scan prints nothing by itself.
    ensure!(matches!(
        desk.check_in(&scan(&code))?,
        CheckInOutcome::AlreadyAdmitted { .. }
    ));
    ensure!(desk.print_jobs(100)?.len() == 1);

    // A reprint needs a reason, and is recorded as a reprint.
    let refused = desk
        .print_badge(&PrintRequest {
            code: code.clone(),
            ..PrintRequest::default()
        })
        .expect_err("a reprint without a reason");
    ensure!(refused.code() == "badge.reprint_needs_reason", "{refused}");
    desk.print_badge(&PrintRequest {
        code: code.clone(),
        reprint_reason: Some("badge holder lost".into()),
        ..PrintRequest::default()
    })?;
    desk.print_until_settled(&cups, SETTLE)?;
    ensure!(badge_events(&desk)? == ["badge.printed", "badge.reprinted"]);

    // Rebuilding the projections and pulling again print nothing.
    desk.rebuild_projections()?;
    desk.sync()?;
    desk.print_until_settled(&cups, SETTLE)?;
    ensure!(desk.print_jobs(100)?.len() == 2);
    ensure!(desk.attendee(&code)?.context("Zoë")?.prints == 2);
    drop(server);
    Ok(())
}

fn desk_runtime_printers(cups: &Cups) -> Result<Vec<onsite_desk_core::printing::Printer>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(cups.printers())?)
}

#[test]
fn a_stopped_printer_fails_the_job_with_the_spoolers_reason_and_records_no_print() -> Result<()> {
    let dir = TempDir::new("badge-stopped")?;
    let stopped = TestPrinter::pdf("stopped")?;
    let spare = TestPrinter::pdf("spare")?;
    stopped.stop("out of badge stock")?;
    let (_server, desk) = demo_desk(&dir, "print-2")?;
    let cups = Cups::default();
    desk.set_printer(Some(&stopped.name))?;
    desk.set_auto_print(AutoPrint::Never)?;
    let (code, _) = sell_zoe(&desk, "Fabrikam")?;
    ensure!(matches!(
        desk.check_in(&scan(&code))?,
        CheckInOutcome::Admitted {
            print: AutoPrinted::NotPrinted,
            ..
        }
    ));

    let job = desk.print_badge(&PrintRequest {
        code: code.clone(),
        ..PrintRequest::default()
    })?;
    desk.print_until_settled(&cups, SETTLE)?;
    let failed = desk.print_job(job.job)?.context("job")?;
    ensure!(failed.state == JobState::Failed, "{failed:?}");
    let reason = failed.reason.unwrap_or_default();
    ensure!(reason.contains("out of badge stock"), "reason: {reason}");
    ensure!(
        badge_events(&desk)?.is_empty(),
        "a print was recorded for a failed job"
    );

    // The failed job stays in the log; a retry to another printer prints it, as a first print.
    let retry = desk.retry_print(job.job, Some(&spare.name))?;
    desk.print_until_settled(&cups, SETTLE)?;
    ensure!(desk.print_job(retry.job)?.context("retry")?.state == JobState::Completed);
    ensure!(desk.print_job(job.job)?.context("job")?.state == JobState::Failed);
    ensure!(badge_events(&desk)? == ["badge.printed"]);

    // A spooler that cannot be reached is a failure with its reason too.
    let nowhere = Cups::new("http://127.0.0.1:9");
    let job = desk.print_badge(&PrintRequest {
        code,
        reprint_reason: Some("test".into()),
        ..PrintRequest::default()
    })?;
    desk.print_until_settled(&nowhere, SETTLE)?;
    let unreachable = desk.print_job(job.job)?.context("job")?;
    ensure!(
        unreachable.state == JobState::Failed
            && unreachable
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("cannot reach")),
        "{unreachable:?}"
    );
    Ok(())
}

#[test]
fn auto_print_follows_the_policy_and_holds_a_badge_whose_name_does_not_fit() -> Result<()> {
    let dir = TempDir::new("badge-policy")?;
    let (_server, desk) = demo_desk(&dir, "print-3")?;

    // No printer chosen: the check-in says so and queues nothing.
    let (code, _) = sell_zoe(&desk, "Contoso")?;
    let CheckInOutcome::Admitted { print, .. } = desk.check_in(&scan(&code))? else {
        anyhow::bail!("not admitted");
    };
    ensure!(print == AutoPrinted::NoPrinter, "{print:?}");

    desk.set_printer(Some("Onsite_never_used"))?;
    desk.set_auto_print(AutoPrint::Always)?;
    let seats = desk.availability()?;
    let admission = seats
        .iter()
        .find(|s| s.admits && s.remaining > 0)
        .context("seats")?;
    let long = desk.sell(&SaleRequest {
        tickets: vec![SaleTicketRequest {
            seat_type: admission.seat_type,
            first_name: "Wolfeschlegelsteinhausenbergerdorff".into(),
            last_name: "Hubertus Wolfeschlegelsteinhausenbergerdorff-Ortega y Gasset".into(),
            email: "long@example.com".into(),
            company: String::new(),
            attendee_types: vec![],
        }],
        payment_method: PaymentMethod::Cash,
        amount_taken_minor: admission.price.amount_minor,
    })?;
    let long_code = long.tickets[0].code.to_string();
    let preview = desk.badge_preview(&long_code)?;
    ensure!(
        matches!(preview.warnings.as_slice(), [Warning::Overflow { .. }]),
        "{:?}",
        preview.warnings
    );
    let CheckInOutcome::Admitted { print, .. } = desk.check_in(&scan(&long_code))? else {
        anyhow::bail!("not admitted");
    };
    ensure!(
        matches!(&print, AutoPrinted::Held { warnings } if warnings == &preview.warnings),
        "{print:?}"
    );
    let refused = desk
        .print_badge(&PrintRequest {
            code: long_code.clone(),
            ..PrintRequest::default()
        })
        .expect_err("printing over a warning needs a yes");
    ensure!(refused.code() == "badge.layout_warnings", "{refused}");
    ensure!(refused.to_string().contains("does not fit"), "{refused}");
    desk.print_badge(&PrintRequest {
        code: long_code,
        accept_warnings: true,
        ..PrintRequest::default()
    })?;
    ensure!(desk.print_jobs(10)?.len() == 1);
    Ok(())
}

/// The command line in a process of its own (no sync has run in it, so nothing else has set up
/// its HTTP stack): lists the printer, renders a badge to a file and prints it through CUPS.
#[test]
fn the_desk_command_line_lists_printers_renders_and_prints_a_badge() -> Result<()> {
    let dir = TempDir::new("badge-cli")?;
    let printer = TestPrinter::pdf("cli")?;
    let (_server, desk) = demo_desk(&dir, "print-cli")?;
    let (code, _) = sell_zoe(&desk, "Zürich AG")?;
    let cli = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(onsite_tests::workspace::binary("onsite-desk-cli")?)
            .arg("--db")
            .arg(&desk.db)
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .output()?;
        ensure!(
            out.status.success(),
            "onsite-desk-cli {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    };
    let printers: serde_json::Value = serde_json::from_str(&cli(&["printers"])?)?;
    let ours = printers
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == printer.name.as_str()))
        .context("the test printer is listed")?;
    ensure!(
        ours["media_supported"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{ours}"
    );
    cli(&["print-settings", "--printer", &printer.name])?;
    let file = dir.path().join("cli-badge.pdf");
    cli(&[
        "badge",
        &code,
        "--out",
        file.to_str().context("utf-8 path")?,
    ])?;
    ensure!(pdf_text(&file)?.contains("Zürich AG"));
    let job: serde_json::Value = serde_json::from_str(&cli(&["print", &code])?)?;
    ensure!(job["state"] == "completed", "{job}");
    let spooled = printer.output(
        i32::try_from(job["spooler_job"].as_i64().context("spooler job")?)?,
        SETTLE,
    )?;
    let ((w, h), _) = pdf_pages(&spooled)?;
    ensure!(
        (w - 288.0).abs() < 1.0 && (h - 216.0).abs() < 1.0,
        "{w} × {h}"
    );
    let (png, _) = pdf_png(&spooled, 200)?;
    ensure!(qr_codes(&png)? == [code], "printed QR code does not scan");
    ensure!(
        badge_events(&desk)? == ["badge.printed"],
        "{:?}",
        badge_events(&desk)?
    );
    Ok(())
}

/// Head office's badge settings, as a desk that chose nothing follows them: the conference's
/// own template set, a template for speakers, and desk defaults (printer, auto-print, the
/// template for everyone else), all pulled; the desk's own choice wins; printed through CUPS.
#[test]
fn head_office_templates_and_desk_defaults_choose_what_a_desk_prints() -> Result<()> {
    let dir = TempDir::new("badge-head-office")?;
    let printer = TestPrinter::pdf("hq-defaults")?;
    let (server, desk) = demo_desk(&dir, "print-hq")?;
    let badges = format!("/v1/conferences/{DEMO}/badges");
    let view = server.admin(reqwest::Method::GET, &badges, None)?;
    ensure!(view["built_in"] == true, "{view}");
    ensure!(view["templates"]["templates"].as_array().map(Vec::len) == Some(3));

    // The built-in set plus a speakers' template on A6.
    let mut set = TemplateSet::default_set();
    let mut speakers = set.get("badge-a6")?.clone();
    speakers.id = "speaker-a6".into();
    speakers.name = "Speakers (A6)".into();
    set.templates.push(speakers);
    server.admin(
        reqwest::Method::PUT,
        &format!("{badges}/templates"),
        Some(serde_json::to_value(&set)?),
    )?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/attendee-types/speaker/badge-template"),
        Some(serde_json::json!({ "template": "speaker-a6" })),
    )?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/desk-defaults"),
        Some(serde_json::json!({
            "auto_print": "always",
            "badge_template": "label-54x90mm",
            "printer": printer.name,
        })),
    )?;
    let preview = server
        .http()
        .get(format!(
            "{}{badges}/templates/speaker-a6/preview?attendee_type=speaker",
            server.url
        ))
        .bearer_auth(&server.admin_token)
        .send()?;
    ensure!(
        preview.headers()["content-type"] == "image/svg+xml",
        "{preview:?}"
    );
    let svg = preview.text()?;
    ensure!(
        svg.contains("<svg") && svg.contains("Lovelace") && svg.contains("Speaker"),
        "{svg}"
    );

    // The desk pulls it all; it chose nothing, so head office's defaults are its settings.
    desk.sync()?;
    let settings = desk.print_settings()?;
    ensure!(
        settings.printer.as_deref() == Some(printer.name.as_str())
            && settings.auto_print == AutoPrint::Always
            && settings.template.is_none()
            && settings.default_template == "label-54x90mm",
        "{settings:?}"
    );
    ensure!(desk.badge_templates()?.templates.len() == 4);

    // A speaker's badge is A6, anyone else's the label; both auto-printed on the default queue.
    let seats = desk.availability()?;
    let admission = seats
        .iter()
        .find(|s| s.admits && s.remaining > 1)
        .context("seats")?;
    let person = |first: &str, types: Vec<onsite_shared::ids::AttendeeTypeId>| SaleTicketRequest {
        seat_type: admission.seat_type,
        first_name: first.into(),
        last_name: "Okafor".into(),
        email: format!("{}@example.com", first.to_lowercase()),
        company: "Contoso".into(),
        attendee_types: types,
    };
    let sold = desk.sell(&SaleRequest {
        tickets: vec![
            person(
                "Chidi",
                vec![onsite_shared::ids::AttendeeTypeId::parse("speaker")?],
            ),
            person("Ngozi", vec![]),
        ],
        payment_method: PaymentMethod::Card,
        amount_taken_minor: admission.price.amount_minor * 2,
    })?;
    let (speaker, other) = (
        sold.tickets[0].code.to_string(),
        sold.tickets[1].code.to_string(),
    );
    let mut pages = Vec::new();
    for (code, template) in [(&speaker, "speaker-a6"), (&other, "label-54x90mm")] {
        let CheckInOutcome::Admitted { print, .. } = desk.check_in(&scan(code))? else {
            anyhow::bail!("not admitted");
        };
        let AutoPrinted::Queued { job } = print else {
            anyhow::bail!("no badge queued: {print:?}");
        };
        desk.print_until_settled(&Cups::default(), SETTLE)?;
        let done = desk.print_job(job)?.context("job")?;
        ensure!(
            done.state == JobState::Completed
                && done.template == template
                && done.printer == printer.name,
            "{done:?}"
        );
        let out = printer.output(done.spooler_job.context("spooler job")?, SETTLE)?;
        pages.push(pdf_pages(&out)?.0);
    }
    let near =
        |(w, h): (f32, f32), (ww, hh): (f32, f32)| (w - ww).abs() < 1.0 && (h - hh).abs() < 1.0;
    ensure!(
        near(pages[0], (297.6, 419.5)) && near(pages[1], (255.1, 153.1)),
        "page sizes {pages:?}"
    );

    // The desk's own choice wins for every badge; clearing it gives head office's back.
    desk.set_badge_template("badge-4x3in")?;
    ensure!(desk.badge_preview(&speaker)?.template == "badge-4x3in");
    desk.set_badge_template("")?;
    ensure!(desk.badge_preview(&speaker)?.template == "speaker-a6");
    ensure!(desk.set_badge_template("nope").is_err());

    // A template in use cannot leave the set; going back needs the choice changed first.
    let (status, body) = server.admin_raw(
        reqwest::Method::DELETE,
        &format!("{badges}/templates"),
        None,
    )?;
    ensure!(
        status == 422 && body["code"] == "conference.badge_template_in_use",
        "{status} {body}"
    );
    Ok(())
}

/// Ready for the doors: a desk that has synced but has no printer is red on the printer, and
/// head office sees the same; with its printer chosen, a badge printed today, seats held for
/// its scarce seat types and its sale synced, every item is green but the paper the queue
/// says is loaded (amber: look), at the desk and at head office alike. A stopped printer
/// turns it red with the spooler's reason.
#[test]
fn a_desks_readiness_checklist_is_judged_alike_at_the_desk_and_at_head_office() -> Result<()> {
    use onsite_shared::readiness::{Item, Level};

    let dir = TempDir::new("badge-ready")?;
    let printer = TestPrinter::pdf("ready")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(20)?;
    let desk = LocalDesk::enrol(&server, conf.id, "North door", dir.path())?;
    let device = desk.enrolment()?.context("enrolled")?.device;
    for (seat_type, quantity) in [(conf.general, 2), (conf.workshop, 1)] {
        server.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{}/leases", conf.id),
            Some(serde_json::json!({
                "desk": device, "seat_type": seat_type, "quantity": quantity,
                "until": chrono::Utc::now() + chrono::Duration::hours(4),
            })),
        )?;
    }
    desk.sync()?;
    let item = |r: &onsite_shared::readiness::Readiness, item: Item| {
        r.checks
            .iter()
            .find(|c| c.item == item)
            .map(|c| (c.level, c.reason.clone()))
    };
    let r = desk.sync.readiness()?;
    ensure!(!r.ready, "{r:?}");
    ensure!(
        item(&r, Item::Printer) == Some((Level::Red, "no badge printer chosen".into())),
        "{r:?}"
    );
    ensure!(
        item(&r, Item::Roster).map(|i| i.0) == Some(Level::Green),
        "{r:?}"
    );
    let at_head_office = || -> Result<serde_json::Value> {
        let all = server.admin(
            reqwest::Method::GET,
            &format!("/v1/conferences/{}/readiness", conf.id),
            None,
        )?;
        all.as_array()
            .context("desks")?
            .iter()
            .find(|d| d["name"] == "North door")
            .cloned()
            .context("North door")
    };
    let seen = at_head_office()?;
    ensure!(
        seen["readiness"]["ready"] == false && seen["readiness"]["level"] == "red",
        "{seen}"
    );

    // The printer chosen, a walk-in's badge printed, the sale synced.
    desk.set_printer(Some(&printer.name))?;
    let cups = Cups::default();
    let sold = desk.sell(&SaleRequest {
        tickets: vec![SaleTicketRequest {
            seat_type: conf.general,
            first_name: "Ready".into(),
            last_name: "Reader".into(),
            email: "ready@example.com".into(),
            company: String::new(),
            attendee_types: vec![],
        }],
        payment_method: PaymentMethod::Cash,
        amount_taken_minor: 19_900,
    })?;
    desk.print_badge(&PrintRequest {
        code: sold.tickets[0].code.to_string(),
        ..PrintRequest::default()
    })?;
    desk.print_until_settled(&cups, SETTLE)?;
    desk.runtime()
        .block_on(onsite_desk_core::readiness::probe_printer(&desk, &cups))?;
    desk.sync()?;
    // Every item green but the paper: cups-pdf's queue names its driver's sizes as loaded,
    // not the badge size, so the desk asks a person to look.
    let r = desk.sync.readiness()?;
    let not_green: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.level != Level::Green)
        .collect();
    ensure!(
        not_green.len() == 1
            && not_green[0].item == Item::Printer
            && not_green[0].level == Level::Amber
            && not_green[0]
                .reason
                .contains("badges need Custom.4x3in: check the paper"),
        "{r:#?}"
    );
    // Head office judges the same facts alike (ages move on by the second, and the clock's
    // skew by a tenth with each round: their words are not compared, their levels are).
    let seen = at_head_office()?;
    let theirs: Vec<onsite_shared::readiness::Check> =
        serde_json::from_value(seen["readiness"]["checks"].clone())?;
    let timeless = |c: &[onsite_shared::readiness::Check]| -> Vec<(Item, Level, String)> {
        c.iter()
            .map(|c| {
                let reason = if matches!(c.item, Item::LastSync | Item::Clock) {
                    String::new()
                } else {
                    c.reason.clone()
                };
                (c.item, c.level, reason)
            })
            .collect()
    };
    ensure!(
        seen["readiness"]["level"] == "amber" && timeless(&theirs) == timeless(&r.checks),
        "{seen}"
    );

    // The printer stops: red, in the spooler's words.
    printer.stop("out of badge stock")?;
    desk.runtime()
        .block_on(onsite_desk_core::readiness::probe_printer(&desk, &cups))?;
    let r = desk.sync.readiness()?;
    let (level, reason) = item(&r, Item::Printer).context("printer")?;
    ensure!(
        level == Level::Red && reason.contains("out of badge stock"),
        "{reason}"
    );
    Ok(())
}
