//! The doors-open rehearsal, small: a real server, real desks on sockets, one of them offline
//! for the whole rush, badges to a cups-pdf queue. (`cargo xtask rehearse` is the full one.)

use onsite_tests::rehearsal::{self, Plan};

#[test]
fn a_small_rehearsal_converges_and_reports_what_happened() -> anyhow::Result<()> {
    let plan = Plan {
        desks: 3,
        check_ins: 150,
        walk_ins: 6,
        offline: 1,
        // The hour before the start in 6 s.
        speed: 600.0,
        print: true,
        seed: 7,
    };
    let report = rehearsal::run(&std::env::temp_dir(), &plan)?;
    println!("{report}");
    assert!(report.converged, "{report}");
    // Every scan got an answer; second scans at another door never admit twice.
    assert_eq!(report.check_ins, 3 * 150 + report.duplicates_scanned);
    // Each walk-in either bought (and got a badge) or was told at once that it is sold out.
    assert_eq!(report.walk_ins + report.walk_ins_refused, 6);
    assert_eq!(report.badges_printed, report.walk_ins);
    // Each person scanned in once, and each walk-in who went in, is in on the server.
    assert!(report.admitted_on_server >= 3 * 150, "{report}");
    // The offline desk's second scans of people already in elsewhere are flagged.
    if report.duplicates_scanned > 0 {
        assert!(report.conflicts.values().sum::<usize>() > 0, "{report}");
    }
    assert!(report.sync_lag_ms.p50 > 0.0, "{report}");
    Ok(())
}
