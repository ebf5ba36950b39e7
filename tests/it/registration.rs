//! Online registration on the real server: the book's flow, competing with desks for seats,
//! with reservation expiry that survives a crash.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use onsite_shared::check_in::{self, Admission};
use onsite_shared::event::Event;
use onsite_shared::ids::{AdmissionId, OrderId, TicketCode, TicketId};
use onsite_shared::money::{Currency, Money};
use onsite_shared::order::PaymentMethod;
use onsite_shared::protocol::OutcomeStatus;
use onsite_shared::seat_assignments::Attendee;
use onsite_shared::walk_in::{self, Sale, SaleLine, SaleTicket};
use onsite_tests::server::{TempDir, TestConference, TestDesk, TestServer};
use reqwest::Method;
use serde_json::json;

fn walk_in(conf: &TestConference, desk: &TestDesk) -> Event {
    let id = uuid::Uuid::now_v7();
    let price = Money::new(19_900, Currency::EUR);
    Event::WalkIn(walk_in::Event::SaleRecorded {
        sale: Sale {
            conference: conf.id,
            order: OrderId::from_uuid(uuid::Uuid::now_v7()),
            desk: desk.device,
            sold_at: chrono::Utc::now(),
            lines: vec![SaleLine {
                seat_type: conf.general,
                name: "General admission".into(),
                unit_price: price,
                quantity: 1,
            }],
            tickets: vec![SaleTicket {
                ticket: TicketId::from_uuid(id),
                code: TicketCode::from_entropy(id.as_u128() as u64),
                seat_type: conf.general,
                attendee: Attendee {
                    first_name: "Walk".into(),
                    last_name: "In".into(),
                    email: "walk.in@example.com".into(),
                    company: String::new(),
                    attendee_types: vec![],
                },
            }],
            payment_method: PaymentMethod::Cash,
            amount_taken: price,
            total: price,
        },
    })
}

fn remaining(server: &TestServer, conf: &TestConference) -> Result<i64> {
    let view = server.admin(Method::GET, &format!("/v1/conferences/{}", conf.id), None)?;
    view["remaining"][conf.general.to_string()]
        .as_i64()
        .context("remaining")
}

#[test]
fn an_online_order_is_placed_paid_assigned_and_admitted_at_a_desk() -> Result<()> {
    let dir = TempDir::new("reg-flow")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let (order, code) = server.place_order(conf.id, conf.general, 2)?;
    assert_eq!(code.len(), 6);

    let (status, view) =
        server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "reservation_completed");
    assert_eq!(view["total"]["amount_minor"], 39_800);
    assert_eq!(
        remaining(&server, &conf)?,
        98,
        "the reservation holds the seats"
    );

    let (status, _) =
        server.order_call(Method::GET, &format!("/v1/orders/{order}"), "WRONG1", None)?;
    assert_eq!(
        status, 404,
        "a wrong access code looks like no order at all"
    );
    let (status, body) = server.confirm_paid(conf.id, &order, 100)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.payment_not_total"))
    );

    let registrant =
        json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"});
    assert_eq!(
        server
            .order_call(
                Method::PUT,
                &format!("/v1/orders/{order}/registrant"),
                &code,
                Some(registrant)
            )?
            .0,
        204
    );
    assert_eq!(server.confirm_paid(conf.id, &order, 39_800)?.0, 204);
    let (_, view) = server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
    assert_eq!(view["status"], "confirmed");
    let tickets = view["tickets"].as_array().context("tickets")?;
    assert_eq!(tickets.len(), 2);
    let attendee = json!({"first_name": "Łucja", "last_name": "Ñuñez", "email": "lucja@example.com", "company": "Łódź Systems"});
    assert_eq!(
        server
            .order_call(
                Method::PUT,
                &format!("/v1/orders/{order}/seats/1"),
                &code,
                Some(attendee)
            )?
            .0,
        204
    );

    // A desk learns the ticket through pull and admits it as valid.
    let mut desk = server.desk(conf.id, "North 1")?;
    let events = desk.pull_all()?;
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "seat_assignments.assigned"
                && e.payload["attendee"]["last_name"] == "Ñuñez")
    );
    let ticket_code = TicketCode::parse(tickets[0]["code"].as_str().context("code")?)?;
    let admitted = Event::CheckIn(check_in::Event::Admitted {
        conference: conf.id,
        code: ticket_code,
        ticket: None,
        admission: Admission {
            admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
            desk: desk.device,
            gate: "north".into(),
            at: chrono::Utc::now(),
        },
        override_reason: None,
    });
    let r = desk.push_events(&[admitted])?;
    assert_eq!(
        (r.outcomes[0].status, r.outcomes[0].reason.as_deref()),
        (OutcomeStatus::Accepted, None)
    );
    Ok(())
}

#[test]
fn an_online_order_and_a_walk_in_race_for_the_last_seat_and_the_loser_is_compensated() -> Result<()>
{
    let dir = TempDir::new("reg-race")?;
    let server = TestServer::start(dir.path())?;

    // Online first: it holds the last seat; the desk's offline sale is compensated.
    let conf = server.conference(1)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (order, _code) = server.place_order(conf.id, conf.general, 1)?;
    let r = desk.push_events(&[walk_in(&conf, &desk)])?;
    assert_eq!(
        (r.outcomes[0].status, r.outcomes[0].reason.as_deref()),
        (OutcomeStatus::Compensated, Some("walk_in.rejected"))
    );
    assert_eq!(server.confirm_paid(conf.id, &order, 19_900)?.0, 204);
    let events = desk.pull_all()?;
    assert!(events.iter().any(|e| e.event_type == "order.confirmed"));
    assert!(events.iter().any(|e| e.event_type == "walk_in.rejected"));
    // A door desk's scope leaves the order streams out and keeps everything else.
    let door = desk.pull_page_in("door", None, 5_000)?.events;
    assert!(!door.iter().any(|e| e.event_type.starts_with("order.")));
    assert_eq!(
        door.len(),
        events
            .iter()
            .filter(|e| !e.event_type.starts_with("order."))
            .count()
    );
    assert_eq!(remaining(&server, &conf)?, 0);

    // The desk first: the online order gets nothing and cannot be paid.
    let conf = server.conference(1)?;
    let mut desk = server.desk(conf.id, "South 1")?;
    let r = desk.push_events(&[walk_in(&conf, &desk)])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted);
    let (order, code) = server.place_order(conf.id, conf.general, 1)?;
    let (_, view) = server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
    assert_eq!(view["status"], "partially_reserved");
    assert_eq!(view["seats"], json!([]));
    let (status, body) = server.confirm_paid(conf.id, &order, 19_900)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.not_reserved"))
    );
    let events = desk.pull_all()?;
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "order.partially_reserved")
    );
    assert!(events.iter().any(|e| e.event_type == "walk_in.confirmed"));
    assert_eq!(
        remaining(&server, &conf)?,
        0,
        "never more sold than the quota"
    );
    Ok(())
}

#[test]
fn a_reservation_expires_on_time_even_across_a_crash_and_only_once() -> Result<()> {
    let dir = TempDir::new("reg-expiry")?;
    let mut server =
        TestServer::start(dir.path())?.with_serve_args(&["--reservation-hold-seconds", "2"])?;
    let conf = server.conference(1)?;
    let (order, code) = server.place_order(conf.id, conf.general, 1)?;
    assert_eq!(remaining(&server, &conf)?, 0);

    server.kill_hard();
    server.restart()?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, view) =
            server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
        if view["status"] == "expired" {
            break;
        }
        assert!(Instant::now() < deadline, "the order never expired: {view}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(remaining(&server, &conf)?, 1, "the seat is back");
    // Give the timer loop a few more rounds: nothing fires twice.
    std::thread::sleep(Duration::from_millis(1_500));
    server.kill_hard();
    server.restart()?;
    std::thread::sleep(Duration::from_millis(1_200));
    let desk = server.desk(conf.id, "Reader")?;
    let events = desk.pull_all()?;
    let for_order = |t: &str| {
        events
            .iter()
            .filter(|e| e.event_type == t && e.stream.id == order)
            .count()
    };
    assert_eq!(for_order("order.expired"), 1);
    let cancelled = events
        .iter()
        .filter(|e| e.event_type == "seats.reservation_cancelled")
        .count();
    assert_eq!(cancelled, 1);
    let (status, body) = server.confirm_paid(conf.id, &order, 19_900)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order.expired")),
        "F8: the payment is not silently kept"
    );
    let events = desk.pull_all()?;
    assert!(events.iter().any(|e| e.event_type == "conflict.opened"
        && e.payload["kind"]["kind"] == "payment_after_expiry"));
    Ok(())
}
