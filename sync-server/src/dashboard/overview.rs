//! The list of conferences, and a conference's overview: admitted against expected by seat
//! type and gate, arrivals per 15 minutes, walk-in sales by payment method, open conflicts.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;

use super::session::SignedIn;
use super::{ConferencePage, Tab, esc, failed, html, page};
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
    let mut body =
        String::from("<table id=\"conferences\"><tr><th>Conference</th><th>Venue</th></tr>");
    for (id, name, venue) in &conferences {
        let _ = write!(
            body,
            "<tr><td><a href=\"/conferences/{id}\">{}</a></td><td>{}</td></tr>",
            esc(name),
            esc(venue)
        );
    }
    body.push_str("</table>");
    html(
        StatusCode::OK,
        page("Conferences", Some(&session), false, &body),
    )
}

/// Admissions per 15 minutes, as SVG bars.
fn arrivals_chart(times: &[chrono::DateTime<chrono::Utc>]) -> String {
    let Some(first) = times.iter().min() else {
        return "<p>No admissions yet.</p>".to_owned();
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
    let mut svg = format!(
        "<svg id=\"arrivals\" role=\"img\" aria-label=\"Admissions per 15 minutes\" viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\">",
        h + 30.0,
        h + 30.0
    );
    for (i, c) in counts.iter().enumerate() {
        let bh = (*c as f32 / max as f32) * (h - 20.0);
        let x = 30.0 + i as f32 * 28.0;
        let label = chrono::DateTime::from_timestamp(start + i as i64 * 900, 0)
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default();
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-count=\"{c}\" x=\"{x}\" y=\"{:.1}\" width=\"{bar}\" height=\"{bh:.1}\" fill=\"#2563eb\"><title>{label}: {c}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{c}</text>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{label}</text>",
            h - bh,
            x + bar / 2.0,
            h - bh - 3.0,
            x + bar / 2.0,
            h + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
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
    let mut body = String::new();
    let _ = write!(
        body,
        "<div class=\"grid\"><div class=\"card\">Admitted<div class=\"big\" id=\"admitted\" data-admitted=\"{}\" data-expected=\"{}\">{} of {}</div></div>\
         <div class=\"card\">Open conflicts<div class=\"big\" id=\"open-conflicts\"><a href=\"{}\">{open}</a></div></div></div>",
        adm.admitted,
        adm.expected,
        adm.admitted,
        adm.expected,
        conf.href("/conflicts"),
    );
    body.push_str("<h2>By seat type</h2><table id=\"by-seat-type\"><tr><th>Seat type</th><th>Admitted</th><th>Expected</th></tr>");
    for s in &adm.by_seat_type {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.name),
            s.admitted,
            s.expected
        );
    }
    body.push_str(
        "</table><h2>By gate</h2><table id=\"by-gate\"><tr><th>Gate</th><th>Admitted</th></tr>",
    );
    for g in &adm.by_gate {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&g.gate),
            g.admitted
        );
    }
    body.push_str("</table><h2>Arrivals per 15 minutes</h2>");
    body.push_str("<div class=\"scroll\">");
    body.push_str(&arrivals_chart(&times));
    body.push_str("</div>");
    body.push_str("<h2>Walk-in sales</h2>");
    let walk = match walk {
        Ok(walk) => walk,
        Err(e) => {
            tracing::error!(error = %e, "walk-in figures");
            let _ = write!(
                body,
                "<p class=\"err\" id=\"walk-ins-error\">These figures cannot be shown: {}</p>",
                esc(&e.to_string())
            );
            return conf.render(Tab::Overview, "Overview", true, &body);
        }
    };
    body.push_str("<table id=\"walk-ins\"><tr><th>Payment</th><th>Sales</th><th>Tickets</th><th>Taken</th><th>Refund due</th></tr>");
    for p in &walk.by_payment_method {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.payment_method),
            p.sales,
            p.tickets,
            money(p.taken_minor, walk.currency.as_deref()),
            money(p.refund_due_minor, walk.currency.as_deref())
        );
    }
    body.push_str("</table>");
    conf.render(Tab::Overview, "Overview", true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arrivals_chart_has_a_bar_per_quarter_hour() {
        let t = |m: i64| chrono::DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap();
        let svg = arrivals_chart(&[t(0), t(1), t(20), t(50)]);
        assert_eq!(svg.matches("class=\"bar\"").count(), 4);
        assert!(svg.contains("data-count=\"2\""));
    }
}
