//! The list of conferences, and a conference's overview: admitted against expected by seat
//! type and gate, arrivals per 15 minutes, walk-in sales by payment method, open conflicts.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;

use super::session::SignedIn;
use super::{ConferencePage, Tab, failed, page, respond};
use crate::App;
use crate::head_office;
use crate::params;
use crate::storage::{Store, StoreError};

/// Every conference the server holds.
pub(super) async fn index<S: Store>(
    State(app): State<Arc<App<S>>>,
    SignedIn { session, .. }: SignedIn,
) -> Response {
    let found = app
        .store
        .read(|tx| {
            let rows = tx.query(
                "SELECT DISTINCT stream_id FROM events WHERE stream_type = 'conference' ORDER BY stream_id",
                params![],
            )?;
            let mut out = Vec::new();
            for r in rows {
                let Ok(id) = r.text(0)?.parse::<ConferenceId>() else {
                    continue;
                };
                let (c, _) = crate::event_log::load::<Conference>(tx, &StreamId::conference(id))?;
                if let Some(d) = c.details {
                    out.push((id, d.name, d.venue));
                }
            }
            Ok::<_, StoreError>(out)
        })
        .await;
    let conferences = match found {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let body = html! {
        table #conferences {
            tr { th { "Conference" } th { "Venue" } }
            @for (id, name, venue) in &conferences {
                tr {
                    td { a href={ "/conferences/" (id) } { (name) } }
                    td { (venue) }
                }
            }
        }
        @if session.role.manages() {
            (super::setup::new_conference_form(&session.csrf))
        }
    };
    respond(
        StatusCode::OK,
        page("Conferences", Some(&session), false, &body),
    )
}

/// Admissions per 15 minutes, as SVG bars.
fn arrivals_chart(times: &[chrono::DateTime<chrono::Utc>]) -> Markup {
    let Some(first) = times.iter().min() else {
        return html! { p { "No admissions yet." } };
    };
    let last = times.iter().max().unwrap_or(first);
    let slot = |t: &chrono::DateTime<chrono::Utc>| (t.timestamp() - first.timestamp()) / 900;
    let slots = usize::try_from(slot(last) + 1).unwrap_or(1).min(96);
    let mut counts = vec![0u32; slots];
    for t in times {
        if let Some(c) = usize::try_from(slot(t))
            .ok()
            .and_then(|i| counts.get_mut(i))
        {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1);
    let (w, h, bar) = (40.0 + slots as f32 * 28.0, 180.0, 22.0);
    let start = first.timestamp() - first.timestamp() % 900;
    let tenths = |v: f32| format!("{v:.1}");
    html! {
        svg #arrivals role="img" aria-label="Admissions per 15 minutes"
            viewBox={ "0 0 " (w) " " (h + 30.0) } width=(w) height=(h + 30.0) {
            @for (i, c) in counts.iter().enumerate() {
                @let bh = (*c as f32 / max as f32) * (h - 20.0);
                @let x = 30.0 + i as f32 * 28.0;
                @let label = chrono::DateTime::from_timestamp(start + i as i64 * 900, 0)
                    .map(|t| t.format("%H:%M").to_string())
                    .unwrap_or_default();
                rect.bar data-count=(c) x=(x) y=(tenths(h - bh)) width=(bar) height=(tenths(bh))
                    fill="#2563eb" { title { (label) ": " (c) } }
                text x=(tenths(x + bar / 2.0)) y=(tenths(h - bh - 3.0)) font-size="10"
                    text-anchor="middle" { (c) }
                text x=(tenths(x + bar / 2.0)) y=(h + 14.0) font-size="9"
                    text-anchor="middle" { (label) }
            }
        }
    }
}

fn money(minor: i64, currency: Option<&str>) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:02} {}",
        abs / 100,
        abs % 100,
        currency.unwrap_or("")
    )
}

/// One conference at a glance: admitted against expected, arrivals, walk-in sales, conflicts.
pub(super) async fn overview<S: Store>(
    State(app): State<Arc<App<S>>>,
    conf: ConferencePage,
) -> Response {
    let id = conf.id;
    let read = app
        .store
        .read(move |tx| {
            let admissions = head_office::admissions(tx, id)?;
            let open = head_office::conflicts(tx, id, true)?.len();
            let times = tx
                .query(
                    "SELECT admitted_at FROM admissions WHERE conference = $1 \
                     AND code IN (SELECT code FROM tickets WHERE conference = $1)",
                    params![id.to_string()],
                )?
                .iter()
                .filter_map(|r| r.text(0).ok())
                .filter_map(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .collect::<Vec<_>>();
            Ok::<_, StoreError>((admissions, open, times))
        })
        .await;
    let (adm, open, times) = match read {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    // A figure of its own (its own read): when it cannot be had, the page says so in its
    // place and shows the rest.
    let walk = app
        .store
        .read(move |tx| head_office::walk_ins(tx, id))
        .await;
    let currency = walk.as_ref().ok().and_then(|w| w.currency.clone());
    let given = app
        .store
        .read(move |tx| head_office::hand_outs(tx, id))
        .await;
    let rooms = app.store.read(move |tx| head_office::rooms(tx, id)).await;
    // Inside now per zone: each gate's people in the zone behind it.
    let mut zones: Vec<(String, i64)> = Vec::new();
    for g in &adm.by_gate {
        let zone = conf.conference.gate(&g.gate).zone;
        match zones
            .iter_mut()
            .find(|(z, _)| z.eq_ignore_ascii_case(&zone))
        {
            Some((_, n)) => *n += g.inside,
            None => zones.push((zone, g.inside)),
        }
    }
    let body = html! {
        div.grid {
            div.card {
                "Admitted"
                div.big #admitted data-admitted=(adm.admitted) data-expected=(adm.expected) {
                    (adm.admitted) " of " (adm.expected)
                }
            }
            div.card {
                "Inside now"
                div.big #inside-now data-inside=(adm.inside_now) { (adm.inside_now) }
            }
            div.card {
                "Open conflicts"
                div.big #open-conflicts { a href=(conf.href("/conflicts")) { (open) } }
            }
        }
        h2 { "By seat type" }
        table #by-seat-type {
            tr { th { "Seat type" } th { "Admitted" } th { "Expected" } }
            @for s in &adm.by_seat_type {
                tr { td { (s.name) } td.n { (s.admitted) } td.n { (s.expected) } }
            }
        }
        h2 { "By gate" }
        table #by-gate {
            tr { th { "Gate" } th { "Admitted" } th { "Inside now" } }
            @for g in &adm.by_gate {
                tr { td { (g.gate) } td.n { (g.admitted) } td.n { (g.inside) } }
            }
        }
        @if zones.len() > 1 {
            h2 { "Inside now by zone" }
            table #by-zone {
                tr { th { "Zone" } th { "Inside now" } }
                @for (z, n) in &zones {
                    tr data-zone=(z) { td { (z) } td.n { (n) } }
                }
            }
        }
        @match &rooms {
            Ok(rooms) if !rooms.is_empty() => { (super::rooms::numbers(rooms)) }
            Ok(_) => {}
            Err(e) => {
                h2 { "Rooms" }
                p.err #rooms-error { "These figures cannot be shown: " (e) }
            }
        }
        h2 { "Arrivals per 15 minutes" }
        div.scroll { (arrivals_chart(&times)) }
        h2 { "Walk-in sales" }
        @match &walk {
            Ok(walk) => {
                table #walk-ins {
                    tr {
                        th { "Payment" } th { "Sales" } th { "Tickets" } th { "Taken" }
                        th { "Refund due" }
                    }
                    @for p in &walk.by_payment_method {
                        tr {
                            td { (p.payment_method) }
                            td.n { (p.sales) }
                            td.n { (p.tickets) }
                            td.n { (money(p.taken_minor, currency.as_deref())) }
                            td.n { (money(p.refund_due_minor, currency.as_deref())) }
                        }
                    }
                }
            }
            Err(e) => {
                p.err #walk-ins-error { "These figures cannot be shown: " (e) }
            }
        }
        @match &given {
            Ok(given) => { (super::hand_outs::counts(&conf, given)) }
            Err(e) => {
                h2 { "Hand-outs" }
                p.err #hand-outs-error { "These figures cannot be shown: " (e) }
            }
        }
    };
    if let Err(e) = &walk {
        tracing::error!(error = %e, "walk-in figures");
    }
    if let Err(e) = &given {
        tracing::error!(error = %e, "hand-out figures");
    }
    conf.render(Tab::Overview, "Overview", true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arrivals_chart_has_a_bar_per_quarter_hour() {
        let t = |m: i64| chrono::DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap();
        let svg = arrivals_chart(&[t(0), t(1), t(20), t(50)]).into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 4);
        assert!(svg.contains("data-count=\"2\""));
    }
}
