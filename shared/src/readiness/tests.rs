use super::*;

/// A desk that is ready: synced a minute ago to the end of a 500-ticket roster, nothing
/// waiting, its clock a second off, its printer ready with badge paper and used today, five
/// workshop seats held, plenty of disk.
fn ready() -> Facts {
    Facts {
        pulled_to_head: true,
        desk_tickets: 500,
        server_tickets: Some(500),
        last_sync_age_secs: Some(60),
        pending: 0,
        oldest_pending_age_secs: None,
        clock_skew_ms: Some(1_200),
        printer: PrinterFacts {
            chosen: Some("Badges".into()),
            reachable: Some(true),
            problem: None,
            media_wanted: Some("Custom.4x3in".into()),
            media_ready: vec!["Custom.4x3in".into()],
            media_supported: vec!["Custom.4x3in".into(), "A4".into()],
            printed_today: true,
        },
        scarce_seats: vec![ScarceSeat {
            name: "Workshop".into(),
            remaining: 2,
            lease_left: 5,
        }],
        free_disk_bytes: Some(50 * 1024 * 1024 * 1024),
    }
}

/// A change to the facts, the item it is about, and the level it must give.
type Case = (fn(&mut Facts), Item, Level);
/// A change to the printer's facts, the level and the reason it must give.
type PrinterCase = (fn(&mut PrinterFacts), Level, &'static str);

fn level_of(f: &Facts, item: Item) -> (Level, String) {
    let r = assess(f, &Bounds::default());
    let c = r
        .checks
        .iter()
        .find(|c| c.item == item)
        .expect("every item is judged");
    (c.level, c.reason.clone())
}

#[test]
fn a_desk_with_everything_in_order_is_ready() {
    let r = assess(&ready(), &Bounds::default());
    assert!(r.ready, "{r:?}");
    assert_eq!(r.level, Level::Green);
    assert_eq!(r.checks.len(), 7);
    assert_eq!(r.checks[0].reason, "all 500 tickets");
    assert_eq!(r.checks[5].reason, "held here: Workshop 5");
}

#[test]
fn the_roster_is_complete_only_when_pulled_to_the_end_and_counted_alike() {
    let mut f = ready();
    f.server_tickets = None;
    assert_eq!(level_of(&f, Item::Roster).0, Level::Red);
    let mut f = ready();
    f.pulled_to_head = false;
    assert_eq!(level_of(&f, Item::Roster).0, Level::Amber);
    let mut f = ready();
    f.desk_tickets = 480;
    assert_eq!(
        level_of(&f, Item::Roster),
        (
            Level::Red,
            "20 of the server's 500 tickets are missing here".into()
        )
    );
    let mut f = ready();
    f.desk_tickets = 502;
    assert_eq!(level_of(&f, Item::Roster).0, Level::Amber);
    let r = assess(&f, &Bounds::default());
    assert!(!r.ready);
    assert_eq!(r.level, Level::Amber);
}

#[test]
fn sync_age_pending_and_clock_turn_amber_then_red() {
    let cases: [Case; 9] = [
        (|f| f.last_sync_age_secs = None, Item::LastSync, Level::Red),
        (
            |f| f.last_sync_age_secs = Some(600),
            Item::LastSync,
            Level::Amber,
        ),
        (
            |f| f.last_sync_age_secs = Some(3_600),
            Item::LastSync,
            Level::Red,
        ),
        (
            |f| {
                f.pending = 3;
                f.oldest_pending_age_secs = Some(5);
            },
            Item::Pending,
            Level::Green,
        ),
        (
            |f| {
                f.pending = 3;
                f.oldest_pending_age_secs = Some(300);
            },
            Item::Pending,
            Level::Amber,
        ),
        (
            |f| {
                f.pending = 3;
                f.oldest_pending_age_secs = Some(3_600);
            },
            Item::Pending,
            Level::Red,
        ),
        (|f| f.clock_skew_ms = None, Item::Clock, Level::Amber),
        (
            |f| f.clock_skew_ms = Some(-90_000),
            Item::Clock,
            Level::Amber,
        ),
        (|f| f.clock_skew_ms = Some(600_000), Item::Clock, Level::Red),
    ];
    for (change, item, level) in cases {
        let mut f = ready();
        change(&mut f);
        let (got, reason) = level_of(&f, item);
        assert_eq!(got, level, "{item:?}: {reason}");
    }
}

#[test]
fn the_printer_must_be_chosen_answer_accept_hold_badge_paper_and_have_printed_today() {
    let cases: [PrinterCase; 7] = [
        (|p| p.chosen = None, Level::Red, "no badge printer chosen"),
        (
            |p| p.reachable = Some(false),
            Level::Red,
            "Badges: the spooler does not answer",
        ),
        (
            |p| p.reachable = None,
            Level::Amber,
            "Badges: not asked yet",
        ),
        (
            |p| p.problem = Some("printer Badges is not accepting jobs".into()),
            Level::Red,
            "printer Badges is not accepting jobs",
        ),
        (
            |p| p.media_ready = vec!["iso_a4_210x297mm".into()],
            Level::Amber,
            "Badges says iso_a4_210x297mm is loaded; badges need Custom.4x3in: check the paper",
        ),
        (
            |p| {
                p.media_ready = vec![];
                p.media_supported = vec!["A4".into()];
            },
            Level::Red,
            "Badges cannot print on Custom.4x3in",
        ),
        (
            |p| p.printed_today = false,
            Level::Amber,
            "Badges is ready; nothing printed on it today yet",
        ),
    ];
    for (change, level, reason) in cases {
        let mut f = ready();
        change(&mut f.printer);
        assert_eq!(level_of(&f, Item::Printer), (level, reason.to_owned()));
    }
    // A printer that does not say what is loaded but can print on badge paper is fine.
    let mut f = ready();
    f.printer.media_ready = vec![];
    assert_eq!(level_of(&f, Item::Printer).0, Level::Green);
    // So is one that takes any custom size.
    f.printer.media_supported = vec!["iso_a4_210x297mm".into(), "custom_min_25.4x25.4mm".into()];
    assert_eq!(level_of(&f, Item::Printer).0, Level::Green);
}

#[test]
fn paper_is_the_same_by_its_size_whatever_the_name_or_the_way_round() {
    for loaded in [
        "Custom.4x3in",
        "custom_101.6x76.2mm_101.6x76.2mm",
        "oe_badge_3x4in",
        "custom_76.2x101.6mm_76.2x101.6mm",
    ] {
        let mut f = ready();
        f.printer.media_ready = vec!["iso_a4_210x297mm".into(), loaded.into()];
        assert_eq!(level_of(&f, Item::Printer).0, Level::Green, "{loaded}");
    }
    let mut f = ready();
    f.printer.media_ready = vec!["na_index-4x6_4x6in".into()];
    assert_eq!(level_of(&f, Item::Printer).0, Level::Amber);
}

#[test]
fn a_scarce_seat_type_almost_gone_with_nothing_held_here_is_amber() {
    let mut f = ready();
    f.scarce_seats.push(ScarceSeat {
        name: "Reception".into(),
        remaining: 3,
        lease_left: 0,
    });
    f.scarce_seats.push(ScarceSeat {
        name: "Conference pass".into(),
        remaining: 400,
        lease_left: 0,
    });
    assert_eq!(
        level_of(&f, Item::Leases),
        (
            Level::Amber,
            "almost gone and none held here (sales are provisional): Reception".into()
        )
    );
}

#[test]
fn the_disk_must_hold_the_days_events_with_room_to_spare() {
    let mut f = ready();
    f.free_disk_bytes = None;
    assert_eq!(level_of(&f, Item::Disk).0, Level::Amber);
    let wanted = Bounds::default().disk_floor + 500 * Bounds::default().disk_per_ticket;
    f.free_disk_bytes = Some(wanted - 1);
    assert_eq!(level_of(&f, Item::Disk).0, Level::Red);
    f.free_disk_bytes = Some(wanted * 2);
    assert_eq!(level_of(&f, Item::Disk).0, Level::Amber);
    f.free_disk_bytes = Some(wanted * 4);
    assert_eq!(level_of(&f, Item::Disk).0, Level::Green);
}
