use super::*;
use crate::money::Currency;
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const ORDER: OrderId = OrderId::from_u128(7);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const WORKSHOP: SeatTypeId = SeatTypeId::from_u128(11);

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn q(seat_type: SeatTypeId, quantity: u32) -> SeatQuantity {
    SeatQuantity {
        seat_type,
        quantity,
    }
}

fn prices() -> Vec<SeatPrice> {
    vec![
        SeatPrice {
            seat_type: GENERAL,
            name: "General admission".into(),
            unit_price: eur(19_900),
        },
        SeatPrice {
            seat_type: WORKSHOP,
            name: "CQRS workshop".into(),
            unit_price: eur(5_000),
        },
    ]
}

fn place(seats: Vec<SeatQuantity>) -> Command {
    Command::Place {
        order: ORDER,
        conference: CONF,
        seats,
        prices: prices(),
        access_code: "K7QF2X".into(),
        reservation_expires_at: at(9, 15),
        origin: OrderOrigin::Online,
        max_seats: None,
    }
}

fn placed_history(seats: Vec<SeatQuantity>) -> Vec<Event> {
    Order::given([]).when(place(seats)).events()
}

fn line(seat_type: SeatTypeId, description: &str, unit: i64, quantity: u32) -> OrderLine {
    OrderLine {
        seat_type,
        description: description.into(),
        unit_price: eur(unit),
        quantity,
        line_total: eur(unit * i64::from(quantity)),
    }
}

/// The book's "$249" two-item order, in euros.
#[test]
fn placing_an_order_computes_its_totals_at_once() {
    Order::given([])
        .when(place(vec![q(GENERAL, 1), q(WORKSHOP, 1)]))
        .then([
            Event::Placed {
                order: ORDER,
                conference: CONF,
                seats: vec![q(GENERAL, 1), q(WORKSHOP, 1)],
                reservation_expires_at: at(9, 15),
                access_code_hash: crate::order::access_code_hash("K7QF2X"),
                origin: OrderOrigin::Online,
            },
            Event::TotalsCalculated {
                order: ORDER,
                lines: vec![
                    line(GENERAL, "General admission", 19_900, 1),
                    line(WORKSHOP, "CQRS workshop", 5_000, 1),
                ],
                total: eur(24_900),
                is_free_of_charge: false,
            },
        ]);
}

#[test]
fn an_order_needs_seats_with_prices() {
    Order::given([])
        .when(place(vec![]))
        .then_err(Error::NoSeats);
    Order::given([])
        .when(place(vec![q(GENERAL, 0)]))
        .then_err(Error::NoSeats);
    let unknown = SeatTypeId::from_u128(99);
    Order::given([])
        .when(place(vec![q(unknown, 1)]))
        .then_err(Error::UnknownSeatType(unknown));
}

#[test]
fn a_full_reservation_completes_the_order() {
    Order::given(placed_history(vec![q(GENERAL, 2)]))
        .when(Command::MarkSeatsAsReserved {
            seats: vec![q(GENERAL, 2)],
            reservation_expires_at: at(9, 15),
        })
        .then([Event::ReservationCompleted {
            order: ORDER,
            reservation_expires_at: at(9, 15),
            seats: vec![q(GENERAL, 2)],
        }]);
}

#[test]
fn a_partial_reservation_reprices_the_order_for_what_was_reserved() {
    Order::given(placed_history(vec![q(GENERAL, 5), q(WORKSHOP, 3)]))
        .when(Command::MarkSeatsAsReserved {
            seats: vec![q(GENERAL, 3), q(WORKSHOP, 1)],
            reservation_expires_at: at(9, 15),
        })
        .then([
            Event::PartiallyReserved {
                order: ORDER,
                reservation_expires_at: at(9, 15),
                seats: vec![q(GENERAL, 3), q(WORKSHOP, 1)],
            },
            Event::TotalsCalculated {
                order: ORDER,
                lines: vec![
                    line(GENERAL, "General admission", 19_900, 3),
                    line(WORKSHOP, "CQRS workshop", 5_000, 1),
                ],
                total: eur(64_700),
                is_free_of_charge: false,
            },
        ]);
}

fn reserved_history() -> Vec<Event> {
    let mut h = placed_history(vec![q(GENERAL, 1)]);
    h.push(Event::ReservationCompleted {
        order: ORDER,
        reservation_expires_at: at(9, 15),
        seats: vec![q(GENERAL, 1)],
    });
    h
}

#[test]
fn a_paid_order_needs_a_payment_that_covers_it() {
    Order::given(reserved_history())
        .when(Command::Confirm {
            payment: Payment::NotRequired,
        })
        .then_err(Error::PaymentRequired(eur(19_900)));
    let short = Payment::Received {
        method: PaymentMethod::Card,
        amount: eur(100),
        reference: "x".into(),
    };
    Order::given(reserved_history())
        .when(Command::Confirm { payment: short })
        .then_err(Error::PaymentShort {
            paid: eur(100),
            total: eur(19_900),
        });
    let paid = Payment::Received {
        method: PaymentMethod::Card,
        amount: eur(19_900),
        reference: "psp-1".into(),
    };
    Order::given(reserved_history())
        .when(Command::Confirm {
            payment: paid.clone(),
        })
        .then([Event::Confirmed {
            order: ORDER,
            payment: paid,
        }]);
}

#[test]
fn a_free_order_confirms_without_payment() {
    let free = vec![SeatPrice {
        seat_type: GENERAL,
        name: "Speaker".into(),
        unit_price: eur(0),
    }];
    let mut history = Order::given([])
        .when(Command::Place {
            order: ORDER,
            conference: CONF,
            seats: vec![q(GENERAL, 1)],
            prices: free,
            access_code: String::new(),
            reservation_expires_at: at(9, 15),
            origin: OrderOrigin::Online,
            max_seats: None,
        })
        .events();
    assert!(matches!(
        history[1],
        Event::TotalsCalculated {
            is_free_of_charge: true,
            ..
        }
    ));
    history.push(Event::ReservationCompleted {
        order: ORDER,
        reservation_expires_at: at(9, 15),
        seats: vec![q(GENERAL, 1)],
    });
    Order::given(history)
        .when(Command::Confirm {
            payment: Payment::NotRequired,
        })
        .then([Event::Confirmed {
            order: ORDER,
            payment: Payment::NotRequired,
        }]);
}

#[test]
fn an_order_is_confirmed_only_once_its_seats_are_reserved() {
    Order::given(placed_history(vec![q(GENERAL, 1)]))
        .when(Command::Confirm {
            payment: Payment::NotRequired,
        })
        .then_err(Error::NotReserved);
}

fn confirmed_history() -> Vec<Event> {
    let mut h = reserved_history();
    h.push(Event::Confirmed {
        order: ORDER,
        payment: Payment::Invoiced {
            reference: "PO-1".into(),
        },
    });
    h
}

#[test]
fn a_confirmed_order_cannot_change_or_expire() {
    Order::given(confirmed_history())
        .when(Command::UpdateSeats {
            seats: vec![q(GENERAL, 2)],
            prices: vec![],
            max_seats: None,
            at: at(9, 0),
        })
        .then_err(Error::AlreadyConfirmed);
    Order::given(confirmed_history())
        .when(Command::Reject)
        .then_err(Error::AlreadyConfirmed);
    Order::given(confirmed_history())
        .when(Command::MarkSeatsAsReserved {
            seats: vec![],
            reservation_expires_at: at(9, 30),
        })
        .then_err(Error::AlreadyConfirmed);
    Order::given(confirmed_history())
        .when(Command::Cancel {
            reason: "no".into(),
        })
        .then_err(Error::AlreadyConfirmed);
    // Confirming again is harmless.
    Order::given(confirmed_history())
        .when(Command::Confirm {
            payment: Payment::NotRequired,
        })
        .then_nothing();
}

#[test]
fn rejecting_expires_the_order_and_is_idempotent() {
    Order::given(reserved_history())
        .when(Command::Reject)
        .then([Event::Expired { order: ORDER }]);
    let mut expired = reserved_history();
    expired.push(Event::Expired { order: ORDER });
    Order::given(expired.clone())
        .when(Command::Reject)
        .then_nothing();
    // The book: RejectOrder for an order that does not exist does nothing.
    Order::given([]).when(Command::Reject).then_nothing();
    // F6: a reservation answer after expiry cannot revive the order.
    Order::given(expired)
        .when(Command::MarkSeatsAsReserved {
            seats: vec![q(GENERAL, 1)],
            reservation_expires_at: at(9, 30),
        })
        .then_err(Error::Expired);
}

#[test]
fn updating_seats_re_prices_and_restarts_the_reservation() {
    Order::given(reserved_history())
        .when(Command::UpdateSeats {
            seats: vec![q(GENERAL, 2)],
            prices: vec![],
            max_seats: Some(20),
            at: at(9, 10),
        })
        .then([
            Event::Updated {
                order: ORDER,
                seats: vec![q(GENERAL, 2)],
            },
            Event::TotalsCalculated {
                order: ORDER,
                lines: vec![line(GENERAL, "General admission", 19_900, 2)],
                total: eur(39_800),
                is_free_of_charge: false,
            },
        ]);
}

#[test]
fn seats_change_only_within_the_window_and_the_online_bound() {
    let update = |quantity, when| Command::UpdateSeats {
        seats: vec![q(GENERAL, quantity)],
        prices: vec![],
        max_seats: Some(4),
        at: when,
    };
    Order::given(reserved_history())
        .when(update(2, at(9, 15)))
        .then_err(Error::Expired);
    Order::given(reserved_history())
        .when(update(5, at(9, 10)))
        .then_err(Error::TooManySeats { max: 4, asked: 5 });
    Order::given(reserved_history())
        .when(update(0, at(9, 10)))
        .then_err(Error::NoSeats);
}

/// An order that got no seats owes nothing (it kept the total it asked for), and there is
/// nothing to confirm, with or without money.
#[test]
fn an_order_that_got_no_seats_owes_nothing() {
    let nothing = [
        Event::PartiallyReserved {
            order: ORDER,
            reservation_expires_at: at(9, 15),
            seats: vec![],
        },
        Event::TotalsCalculated {
            order: ORDER,
            lines: vec![],
            total: eur(0),
            is_free_of_charge: false,
        },
    ];
    Order::given(placed_history(vec![q(GENERAL, 2)]))
        .when(Command::MarkSeatsAsReserved {
            seats: vec![],
            reservation_expires_at: at(9, 15),
        })
        .then(nothing.clone());
    let mut history = placed_history(vec![q(GENERAL, 2)]);
    history.extend(nothing);
    let given = Order::given(history);
    assert_eq!(given.state().total, Some(eur(0)));
    assert!(given.state().lines.is_empty());
    given
        .when(Command::Confirm {
            payment: Payment::NotRequired,
        })
        .then_err(Error::NotReserved);
}

#[test]
fn the_registrant_needs_names_and_an_email() {
    let r = |first: &str, last: &str, email: &str| {
        Command::AssignRegistrant(Registrant {
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
        })
    };
    Order::given(reserved_history())
        .when(r("", "Lovelace", "ada@example.com"))
        .then_err(Error::Required {
            field: "the first name",
        });
    Order::given(reserved_history())
        .when(r("Ada", "Lovelace", "ada@"))
        .then_err(Error::BadEmail("ada@".into()));
    Order::given(reserved_history())
        .when(r(" Ada ", "Lovelace", "ada@example.com"))
        .then([Event::RegistrantAssigned {
            order: ORDER,
            registrant: Registrant {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                email: "ada@example.com".into(),
            },
        }]);
}

#[test]
fn the_origin_of_a_walk_in_order_is_recorded() {
    let origin = OrderOrigin::WalkIn {
        desk: DeviceId::from_u128(3),
        payment_method: PaymentMethod::Cash,
        amount_taken: eur(20_000),
    };
    let events = Order::given([])
        .when(Command::Place {
            order: ORDER,
            conference: CONF,
            seats: vec![q(GENERAL, 1)],
            prices: prices(),
            access_code: String::new(),
            reservation_expires_at: at(9, 0),
            origin: origin.clone(),
            max_seats: None,
        })
        .events();
    assert!(matches!(&events[0], Event::Placed { origin: o, .. } if *o == origin));
}

#[test]
fn an_online_order_over_its_bound_is_refused_whatever_the_quantities_add_up_to() {
    let bounded = |seats| match place(seats) {
        Command::Place {
            order,
            conference,
            seats,
            prices,
            access_code,
            reservation_expires_at,
            origin,
            ..
        } => Command::Place {
            order,
            conference,
            seats,
            prices,
            access_code,
            reservation_expires_at,
            origin,
            max_seats: Some(20),
        },
        other => other,
    };
    Order::given([])
        .when(bounded(vec![q(GENERAL, 21)]))
        .then_err(Error::TooManySeats { max: 20, asked: 21 });
    Order::given([])
        .when(bounded(vec![q(GENERAL, u32::MAX), q(WORKSHOP, u32::MAX)]))
        .then_err(Error::TooManySeats {
            max: 20,
            asked: 2 * u64::from(u32::MAX),
        });
    assert_eq!(
        Order::given([])
            .when(bounded(vec![q(GENERAL, 10), q(WORKSHOP, 10)]))
            .events()
            .len(),
        2
    );
}

#[test]
fn only_the_exact_total_settles_an_order() {
    let order: Order = crate::aggregate::replay(&reserved_history());
    let total = order.total.unwrap();
    let received = |amount_minor: i64, currency: &str| Payment::Received {
        method: PaymentMethod::Card,
        amount: Money::new(amount_minor, Currency::parse(currency).unwrap()),
        reference: "psp-1".into(),
    };
    assert_eq!(
        order.settled_by(&received(total.amount_minor, "EUR")),
        Ok(())
    );
    for wrong in [
        received(total.amount_minor + 1, "EUR"),
        received(total.amount_minor - 1, "EUR"),
        received(1_000_000_000_000_000, "EUR"),
        received(total.amount_minor, "USD"),
    ] {
        assert!(
            matches!(order.settled_by(&wrong), Err(Error::PaymentNotTotal { .. })),
            "{wrong:?}"
        );
    }
    assert_eq!(
        order.settled_by(&Payment::NotRequired),
        Err(Error::PaymentRequired(total))
    );
    assert_eq!(
        order.settled_by(&Payment::Invoiced {
            reference: "PO-1".into()
        }),
        Ok(())
    );
}
