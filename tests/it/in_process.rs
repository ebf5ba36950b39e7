//! The sync protocol without a socket (`onsite_tests::in_process`): real desk cores and the
//! server's own functions in one process, the seam the simulated network sits in. What happens
//! must be what happens over HTTP.

use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use onsite_desk_core::sync::{self, SyncClient, SyncError};
use onsite_desk_core::{CheckInOutcome, CheckInRequest, Desk, SaleRequest, SaleTicketRequest};
use onsite_server::Store as _;
use onsite_shared::ids::SeatTypeId;
use onsite_shared::order::PaymentMethod;
use onsite_shared::walk_in::SaleStatus;
use onsite_tests::in_process::{InProcess, Link};
use onsite_tests::server::TempDir;
use onsite_tests::simulation::copy_database;

fn sale(seat_type: SeatTypeId, who: &str) -> SaleRequest {
    SaleRequest {
        tickets: vec![SaleTicketRequest {
            seat_type,
            first_name: who.to_owned(),
            last_name: "Walker".into(),
            email: format!("{}@example.com", who.to_lowercase()),
            company: String::new(),
            attendee_types: vec![],
        }],
        payment_method: PaymentMethod::Cash,
        amount_taken_minor: 19_900,
    }
}

/// Two desks sell the one seat offline and one checks its buyer in: the first to reach the
/// server keeps the seat, the other is compensated and sees it, and the admission reaches the
/// other desk; a revoked desk is told so, as over HTTP.
#[test]
fn desks_sync_with_the_server_in_process_as_they_do_over_http() -> Result<()> {
    let dir = TempDir::new("in-process")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Arc::new(InProcess::open(dir.path()).await?);
        let (conference, seat) = server.conference(1).await?;
        let mut desks: Vec<SyncClient<Link>> = Vec::new();
        for name in ["North", "South"] {
            let desk = Arc::new(Desk::open(dir.path().join(format!("{name}.sqlite3")))?);
            let link = server.transport();
            let code = server.enrolment_code(conference, name).await?;
            sync::enrol_over(&link, &desk, "in-process", &code).await?;
            let client = SyncClient::over(desk, link);
            let first = client.sync_once().await?;
            ensure!(first.pulled > 0, "the conference reaches {name}: {first:?}");
            desks.push(client);
        }
        let (north, south) = (&desks[0], &desks[1]);

        let kept = north.desk().sell(&sale(seat, "Nora"))?;
        let lost = south.desk().sell(&sale(seat, "Sam"))?;
        let code = kept.tickets[0].code.to_string();
        let admitted = north.desk().check_in(&CheckInRequest {
            code: code.clone(),
            gate: Some("north".into()),
            override_reason: None,
        })?;
        ensure!(
            matches!(admitted, CheckInOutcome::Admitted { .. }),
            "{admitted:?}"
        );

        let pushed = north.sync_once().await?;
        ensure!(pushed.pushed == 2 && pushed.compensated == 0, "{pushed:?}");
        let pushed = south.sync_once().await?;
        ensure!(pushed.pushed == 1 && pushed.compensated == 1, "{pushed:?}");
        let sales = south.desk().sales()?;
        let withdrawn = sales
            .iter()
            .find(|s| s.order == lost.order)
            .context("the lost sale")?;
        ensure!(
            withdrawn.status == SaleStatus::Rejected && withdrawn.refund_due.is_some(),
            "{withdrawn:?}"
        );
        // South pulled North's admission: the ticket is already in.
        let again = south.desk().check_in(&CheckInRequest {
            code,
            gate: Some("south".into()),
            override_reason: None,
        })?;
        ensure!(
            matches!(again, CheckInOutcome::AlreadyAdmitted { .. }),
            "{again:?}"
        );
        let status = north.status()?;
        ensure!(status.online && status.skew_ms.is_some(), "{status:?}");

        // A revoked desk is told, and stops.
        let device = north.desk().enrolment()?.context("enrolled")?.device;
        server
            .app
            .store
            .write(move |tx| onsite_server::devices::revoke(tx, device, chrono::Utc::now()))
            .await?;
        let refused = north.sync_once().await;
        ensure!(matches!(refused, Err(SyncError::Revoked)), "{refused:?}");
        Ok(())
    })
}

/// A desk restored from a backup taken before events it then pushed: what it pushes again is a
/// prefix of what the server has, which the server cannot tell from a retry. The desk must see
/// that the server holds more of its sequence than its log (diverged: re-enrol) instead of
/// taking the server's sequence as its own, which gave its next events numbers the server had
/// and left them unsent for ever. Found by the simulator (seed 999 of the 10,000).
#[test]
fn a_desk_restored_from_a_backup_older_than_its_pushes_is_told_to_reenrol() -> Result<()> {
    let dir = TempDir::new("in-process-restore")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Arc::new(InProcess::open(dir.path()).await?);
        let (conference, seat) = server.conference(10).await?;
        let path = dir.path().join("North.sqlite3");
        let backup = dir.path().join("North.backup");
        let open = |path: &std::path::Path| -> Result<SyncClient<Link>> {
            Ok(SyncClient::over(
                Arc::new(Desk::open(path)?),
                server.transport(),
            ))
        };
        let desk = open(&path)?;
        let code = server.enrolment_code(conference, "North").await?;
        sync::enrol_over(desk.transport(), desk.desk(), "in-process", &code).await?;
        desk.sync_once().await?;
        let sold = desk.desk().sell(&sale(seat, "Nora"))?;

        // The backup: taken with the desk closed, the sale not yet pushed.
        drop(desk);
        copy_database(&path, &backup)?;
        let desk = open(&path)?;
        desk.desk().check_in(&CheckInRequest {
            code: sold.tickets[0].code.to_string(),
            gate: Some("north".into()),
            override_reason: None,
        })?;
        let pushed = desk.sync_once().await?;
        ensure!(pushed.pushed == 2, "{pushed:?}");

        // Restored: the sale is there again, unsent as far as the desk knows; the admission
        // is gone from its log (the server has it).
        drop(desk);
        copy_database(&backup, &path)?;
        let desk = open(&path)?;
        let diverged = desk.sync_once().await;
        ensure!(
            matches!(diverged, Err(SyncError::Diverged(_))),
            "a restored desk syncing: {diverged:?}"
        );
        // Whatever it records meanwhile is kept, and sent once head office re-enrols it.
        let later = desk.desk().sell(&sale(seat, "Otto"))?;
        let device = desk.desk().enrolment()?.context("enrolled")?.device;
        let code = server.reenrolment_code(device).await?;
        sync::reenrol_over(desk.transport(), desk.desk(), "in-process", &code).await?;
        desk.sync_once().await?;
        let status = desk.desk().local_status()?;
        ensure!(status.pending == 0, "{status:?}");
        let order = later.order.to_string();
        let on_server = server
            .app
            .store
            .read(move |tx| {
                tx.query(
                    "SELECT COUNT(*) FROM walk_ins WHERE order_id = $1",
                    &[onsite_server::storage::SqlValue::from(order)],
                )
            })
            .await?;
        ensure!(
            on_server[0].parse::<i64>(0)? == 1,
            "the sale made after the restore reached the server"
        );
        Ok(())
    })
}

/// A database written before conferences' slugs were indexed gets the index when a server
/// opens it, from the conferences' own events; a slug taken there is then refused.
#[test]
fn a_server_indexes_the_slugs_of_a_database_written_before_the_index() -> Result<()> {
    let dir = TempDir::new("in-process-slugs")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (conference, _) = {
            let server = InProcess::open(dir.path()).await?;
            let created = server.conference(1).await?;
            // What an older server left: the events, and no index.
            server
                .app
                .store
                .write(|tx| tx.execute("DELETE FROM conference_slugs", &[]))
                .await?;
            created
        };
        let server = InProcess::open(dir.path()).await?;
        let slug = format!("in-process-{conference}");
        let found = server
            .app
            .store
            .read(move |tx| onsite_server::admin::conference_by_slug(tx, &slug))
            .await?;
        ensure!(found == Some(conference), "indexed on open: {found:?}");
        Ok(())
    })
}
