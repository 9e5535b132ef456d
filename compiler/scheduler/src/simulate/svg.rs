//! The latency-vs-rate plot of a sweep (`agentc simulate --sweep R1,R2,... --svg F`):
//! p50 and p99 end-to-end latency (and p99 TTFT) against the offered rate, with the SLA
//! as a horizontal line. Plain SVG text with fixed number formatting: deterministic.

use std::fmt::Write as _;

use crate::report::format_seconds;
use crate::simulate::SimReport;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The plot of `points` (rate, report), in ascending rate order as given.
pub fn sweep_svg(title: &str, points: &[(f64, SimReport)], sla: Option<f64>) -> String {
    let max_rate = points.iter().map(|p| p.0).fold(0.0, f64::max).max(1e-12);
    let max_lat = points
        .iter()
        .map(|p| p.1.latency.p99.max(p.1.ttft.p99))
        .chain(sla)
        .fold(0.0, f64::max)
        .max(1e-12)
        * 1.1;
    let x = |r: f64| LEFT + r / max_rate * (W - LEFT - RIGHT);
    let y = |t: f64| H - BOTTOM - t / max_lat * (H - TOP - BOTTOM);
    let mut out = String::new();
    let _ = writeln!(out, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(out, r#"<text x="{:.1}" y="24" text-anchor="middle" font-size="14">{}</text>"#, W / 2.0, escape(title));
    let _ = writeln!(
        out,
        r#"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/>"#,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    for i in 0..=4 {
        let t = max_lat * i as f64 / 4.0;
        let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 6.0, y(t) + 4.0, format_seconds(t));
        let r = max_rate * i as f64 / 4.0;
        let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{r:.3}</text>"#, x(r), H - BOTTOM + 18.0);
    }
    let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">offered rate (requests/s)</text>"#, (LEFT + W - RIGHT) / 2.0, H - 10.0);
    if let Some(s) = sla {
        let _ = writeln!(
            out,
            r#"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="gray" stroke-dasharray="4 4"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="gray">SLA {}</text>"#,
            y(s),
            W - RIGHT,
            y(s),
            W - RIGHT,
            y(s) - 4.0,
            format_seconds(s)
        );
    }
    type Series = (&'static str, &'static str, fn(&SimReport) -> f64);
    let series: [Series; 3] = [
        ("p50 latency", "#1f77b4", |r| r.latency.p50),
        ("p99 latency", "#d62728", |r| r.latency.p99),
        ("p99 TTFT", "#2ca02c", |r| r.ttft.p99),
    ];
    for (i, (name, colour, value)) in series.iter().enumerate() {
        let pts: Vec<String> = points.iter().map(|(rate, r)| format!("{:.1},{:.1}", x(*rate), y(value(r)))).collect();
        let _ = writeln!(out, r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#, pts.join(" "));
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(out, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
        }
        let ly = TOP + 14.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
            LEFT + 10.0,
            LEFT + 30.0,
            LEFT + 36.0,
            ly + 4.0
        );
    }
    out.push_str("</svg>\n");
    out
}
