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
                    ..Default::default()
                },
            }],
            payment_method: PaymentMethod::Cash,
            amount_taken: price,
            total: price,
            from_leases: vec![],
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
    let mut server = TestServer::start(dir.path())?.with_serve_args(&[
        "--reservation-hold-seconds",
        "2",
        "--reservation-grace-seconds",
        "2",
    ])?;
    let conf = server.conference(1)?;
    let placed = Instant::now();
    let (order, code) = server.place_order(conf.id, conf.general, 1)?;
    assert_eq!(remaining(&server, &conf)?, 0);
    // Past the window, within the grace: the seat is still held.
    std::thread::sleep(Duration::from_millis(2_500).saturating_sub(placed.elapsed()));
    let (_, view) = server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
    assert_eq!(view["status"], "reservation_completed", "{view}");
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

// ---- the registration API a public front end uses ----

fn public(server: &TestServer, slug: &str) -> Result<(u16, serde_json::Value)> {
    let res = server
        .http()
        .get(format!("{}/v1/public/conferences/{slug}", server.url))
        .send()?;
    let status = res.status().as_u16();
    Ok((status, res.json()?))
}

fn slug_of(server: &TestServer, conf: &TestConference) -> Result<String> {
    let view = server.admin(Method::GET, &format!("/v1/conferences/{}", conf.id), None)?;
    Ok(view["details"]["slug"].as_str().context("slug")?.to_owned())
}

fn availability(
    conference: &serde_json::Value,
    seat_type: onsite_shared::ids::SeatTypeId,
) -> String {
    conference["seat_types"]
        .as_array()
        .and_then(|types| {
            types
                .iter()
                .find(|t| t["id"] == seat_type.to_string())
                .and_then(|t| t["availability"].as_str())
        })
        .unwrap_or("missing")
        .to_owned()
}

/// A front end's whole flow, as an anonymous buyer: the published conference by its slug (a
/// draft is not there), an order placed, its seats changed, found again by email and access
/// code, cancelled (the seats back at once), and another one left with no seat owing nothing.
fn the_registration_api_end_to_end(server: &TestServer) -> Result<()> {
    let conf = server.conference(12)?;
    let slug = slug_of(server, &conf)?;
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{}/unpublish", conf.id),
        None,
    )?;
    let (status, body) = public(server, &slug)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("conference.not_found")),
        "a draft"
    );
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{}/publish", conf.id),
        None,
    )?;
    let (status, page) = public(server, &slug)?;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["id"], conf.id.to_string());
    assert_eq!(page["name"], "CQRS Summit");
    assert_eq!(availability(&page, conf.general), "available");
    assert_eq!(availability(&page, conf.workshop), "few_left", "quota 5");
    assert!(
        page["seat_types"][0].get("remaining").is_none(),
        "no exact counts: {page}"
    );
    let (status, _) = public(server, "no-such-conference")?;
    assert_eq!(status, 404);

    // Place two general seats, then change to three general and a workshop.
    let (order, code) = server.place_order(conf.id, conf.general, 2)?;
    let path = format!("/v1/orders/{order}");
    let (status, view) = server.order_call(
        Method::PUT,
        &format!("{path}/seats"),
        &code,
        Some(json!({"seats": [
            {"seat_type": conf.general, "quantity": 3},
            {"seat_type": conf.workshop, "quantity": 1}]})),
    )?;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "reservation_completed");
    assert_eq!(view["total"]["amount_minor"], 3 * 19_900 + 5_000);
    assert_eq!(remaining(server, &conf)?, 9, "the order holds three now");
    // Changes the domain refuses, with their codes; nothing changes.
    for (seats, code_expected) in [
        (
            json!([{"seat_type": conf.general, "quantity": 21}]),
            "order.too_many_seats",
        ),
        (
            json!([{"seat_type": conf.general, "quantity": 0}]),
            "order.no_seats",
        ),
        (
            json!([{"seat_type": onsite_tests::server::new_id(), "quantity": 1}]),
            "order.unknown_seat_type",
        ),
    ] {
        let (status, body) = server.order_call(
            Method::PUT,
            &format!("{path}/seats"),
            &code,
            Some(json!({ "seats": seats })),
        )?;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some(code_expected)),
            "{body}"
        );
    }
    let (status, body) = server.order_call(
        Method::PUT,
        &format!("{path}/seats"),
        "WRONG1",
        Some(json!({"seats": []})),
    )?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("order.not_found"))
    );
    assert_eq!(remaining(server, &conf)?, 9);

    // Found again by the registrant's email (in another case) and the code.
    server.order_call(
        Method::PUT,
        &format!("{path}/registrant"),
        &code,
        Some(json!({"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"})),
    )?;
    let find = |conference: onsite_shared::ids::ConferenceId,
                email: &str,
                code: &str|
     -> Result<(u16, serde_json::Value)> {
        let res = server
            .http()
            .post(format!(
                "{}/v1/conferences/{conference}/orders/find",
                server.url
            ))
            .json(&json!({"email": email, "access_code": code}))
            .send()?;
        let status = res.status().as_u16();
        Ok((status, res.json()?))
    };
    let (status, found) = find(conf.id, "ada@example.COM", &code)?;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["order_id"], order);
    for (email, code) in [
        ("ada@example.com", "WRONG1"),
        ("eve@example.com", code.as_str()),
    ] {
        let (status, body) = find(conf.id, email, code)?;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("order.not_found")),
            "{email}"
        );
    }
    let other = server.conference(5)?;
    let (status, _) = find(other.id, "ada@example.com", &code)?;
    assert_eq!(status, 404, "another conference's order is not found there");

    // Cancelled: the seats are back at once, and a second cancel changes nothing.
    let (status, view) = server.order_call(
        Method::POST,
        &format!("{path}/cancel"),
        &code,
        Some(json!({"reason": "plans changed"})),
    )?;
    assert_eq!(
        (status, view["status"].as_str()),
        (200, Some("cancelled")),
        "{view}"
    );
    assert_eq!(remaining(server, &conf)?, 12);
    let (status, view) = server.order_call(Method::POST, &format!("{path}/cancel"), &code, None)?;
    assert_eq!((status, view["status"].as_str()), (200, Some("cancelled")));
    let (status, body) = server.order_call(
        Method::PUT,
        &format!("{path}/seats"),
        &code,
        Some(json!({"seats": [{"seat_type": conf.general, "quantity": 1}]})),
    )?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.cancelled"))
    );

    // A paid order is not the registrant's to cancel.
    let (paid, paid_code) = server.place_order(conf.id, conf.general, 1)?;
    let (status, _) = server.confirm_paid(conf.id, &paid, 19_900)?;
    assert_eq!(status, 204);
    let (status, body) = server.order_call(
        Method::POST,
        &format!("/v1/orders/{paid}/cancel"),
        &paid_code,
        None,
    )?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.already_confirmed"))
    );

    // Sold out: the page says so, and an order that got no seat owes nothing.
    let (_, _) = server.place_order(conf.id, conf.general, 11)?;
    let (_, page) = public(server, &slug)?;
    assert_eq!(availability(&page, conf.general), "sold_out", "{page}");
    let (empty, empty_code) = server.place_order(conf.id, conf.general, 2)?;
    let (_, view) = server.order_call(
        Method::GET,
        &format!("/v1/orders/{empty}"),
        &empty_code,
        None,
    )?;
    assert_eq!(view["status"], "partially_reserved", "{view}");
    assert_eq!(view["total"]["amount_minor"], 0, "{view}");
    assert_eq!(view["lines"], json!([]));
    Ok(())
}

#[test]
fn the_registration_api_works_end_to_end_on_sqlite() -> Result<()> {
    let dir = TempDir::new("reg-api")?;
    the_registration_api_end_to_end(&TestServer::start(dir.path())?)
}

#[test]
fn the_registration_api_works_end_to_end_on_postgres() -> Result<()> {
    let pg = onsite_tests::postgres::PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("reg-api-pg")?;
    the_registration_api_end_to_end(&TestServer::start_with(dir.path(), Some(&url))?)
}

/// The book's buffer: after the buyer's window, the seats stay held for the grace period; the
/// order can no longer change, but a payment confirms it. A server set to give exact counts
/// gives them on the public page.
#[test]
fn a_payment_in_the_grace_after_the_window_confirms_the_order() -> Result<()> {
    let dir = TempDir::new("reg-grace")?;
    let server = TestServer::start(dir.path())?.with_serve_args(&[
        "--reservation-hold-seconds",
        "1",
        "--reservation-grace-seconds",
        "60",
        "--public-exact-availability",
    ])?;
    let conf = server.conference(10)?;
    let placed = Instant::now();
    let (order, code) = server.place_order(conf.id, conf.general, 2)?;
    std::thread::sleep(Duration::from_millis(1_500).saturating_sub(placed.elapsed()));
    let (status, body) = server.order_call(
        Method::PUT,
        &format!("/v1/orders/{order}/seats"),
        &code,
        Some(json!({"seats": [{"seat_type": conf.general, "quantity": 1}]})),
    )?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("order.expired")),
        "{body}"
    );
    assert_eq!(remaining(&server, &conf)?, 8, "still held");
    let (status, body) = server.confirm_paid(conf.id, &order, 2 * 19_900)?;
    assert_eq!(status, 204, "{body}");
    let (_, view) = server.order_call(Method::GET, &format!("/v1/orders/{order}"), &code, None)?;
    assert_eq!(view["status"], "confirmed");
    let (_, page) = public(&server, &slug_of(&server, &conf)?)?;
    let general = page["seat_types"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == conf.general.to_string()))
        .context("general")?;
    assert_eq!(general["remaining"], 8, "{page}");
    Ok(())
}
