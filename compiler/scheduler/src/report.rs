//! Human and machine forms of a schedule: a placement table, JSON, a Gantt chart (SVG,
//! one row per device), and the fragment graph annotated with placements (DOT, Mermaid).
//! All output is deterministic: rows and nodes in a fixed order, no hash maps.

use std::fmt::Write as _;

use serde::Serialize;

use crate::graph::{FragmentKind, Workload};
use crate::paths::SlaBasis;
use crate::schedule::{Objective, Schedule};
use crate::target::{Target, fragment_kind_name};

/// Seconds in a readable unit (`12.5 ms`, `3.20 s`, `40.0 µs`).
pub fn format_seconds(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else if a < 600.0 {
        format!("{:.3} s", s)
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// A tick label: [`format_seconds`] without trailing zeros (`5 s`, `2.5 ms`).
fn tick_label(t: f64) -> String {
    let s = format_seconds(t);
    match s.split_once(' ') {
        Some((num, unit)) if num.contains('.') => {
            format!("{} {unit}", num.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s,
    }
}

/// USD with enough digits for sub-cent amounts.
pub fn format_usd(x: f64) -> String {
    if x == 0.0 {
        "$0".into()
    } else if x.abs() >= 1.0 {
        format!("${x:.2}")
    } else {
        format!("${x:.3e}")
    }
}

/// Bytes in a readable unit (`1.50 GB`, `32.8 kB`).
pub fn format_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// `solver: milp, optimal` or `solver: heuristic, bound 1.2 s, gap 3.1% (why no exact
/// answer)`: how the schedule was found and how far from optimal it can be.
pub fn solver_line(s: &Schedule) -> String {
    let r = &s.solver;
    let bound = match s.objective {
        Objective::Latency => format_seconds(r.bound),
        Objective::Cost => format_usd(r.bound),
    };
    let mut line = if r.optimal {
        format!("solver: {}, optimal", r.method)
    } else {
        format!("solver: {}, bound {bound}, gap {:.1}%", r.method, r.gap * 100.0)
    };
    if let Some(note) = &r.note {
        line.push_str(&format!(" ({note})"));
    }
    line
}

/// The placement table, the critical path and the totals, as text.
pub fn to_table(s: &Schedule, w: &Workload) -> String {
    let name_w = w
        .fragments
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 48);
    let unit_label = |p: &crate::schedule::Placement| match p.precision {
        crate::precision::Precision::Native => p.device.clone(),
        q => format!("{} ({})", p.device, q.as_str()),
    };
    let dev_w = s
        .placements
        .iter()
        .map(|p| unit_label(p).len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<4} {:<name_w$} {:<11} {:<dev_w$} {:>10} {:>10} {:>11}",
        "#", "fragment", "kind", "device", "start", "finish", "cost"
    );
    for p in &s.placements {
        let f = &w.fragments[p.fragment];
        let name: String = f.name.chars().take(name_w).collect();
        let _ = writeln!(
            out,
            "{:<4} {:<name_w$} {:<11} {:<dev_w$} {:>10} {:>10} {:>11}",
            p.fragment,
            name,
            fragment_kind_name(f.kind),
            unit_label(p),
            format_seconds(p.start),
            format_seconds(p.finish),
            format_usd(p.cost)
        );
    }
    for t in s.transfers.iter().filter(|t| t.kv_transfer) {
        let _ = writeln!(
            out,
            "kv_transfer {} -> {}: {} from {} to {}, {} .. {}",
            t.from_fragment,
            t.to_fragment,
            format_bytes(t.bytes),
            t.from_device,
            t.to_device,
            format_seconds(t.start),
            format_seconds(t.finish)
        );
    }
    let path: Vec<&str> = s
        .critical_path
        .iter()
        .map(|&i| w.fragments[i].name.as_str())
        .collect();
    let _ = writeln!(out, "critical path: {}", path.join(" -> "));
    let objective = match s.objective {
        Objective::Latency => "latency",
        Objective::Cost => "cost",
    };
    let _ = writeln!(out, "objective: {objective}");
    let _ = writeln!(out, "{}", solver_line(s));
    let _ = writeln!(out, "latency per request: {}", format_seconds(s.makespan));
    let _ = writeln!(out, "cost per request: {}", format_usd(s.total_cost));
    match s.cost_per_million_tokens() {
        Some(c) => {
            let _ = writeln!(
                out,
                "cost per million generated tokens: {} ({} tokens per request)",
                format_usd(c),
                s.generated_tokens
            );
        }
        None => {
            let _ = writeln!(
                out,
                "cost per million generated tokens: n/a (no tokens generated)"
            );
        }
    }
    let branching = s.paths.paths.len() > 1;
    if branching {
        let _ = writeln!(
            out,
            "paths through the ifs: {}{}; worst {} (probability {}), expected {}",
            s.paths.paths.len(),
            if s.paths.truncated { " (more not enumerated)" } else { "" },
            format_seconds(s.paths.worst_latency),
            format_probability(s.paths.worst_probability),
            format_seconds(s.paths.expected_latency)
        );
        for (i, path) in s.paths.paths.iter().enumerate() {
        let if_name = |b: usize| w.branches.get(b).map_or_else(|| format!("if {}", b + 1), |br| br.name.clone());
            let arms: Vec<String> = path
                .arms
                .iter()
                .map(|&(b, arm)| {
                    let name = if_name(b);
                    // A `try` is a branch between its body succeeding and failing (the catch arm).
                    let words = if name.starts_with("try ") { ["succeeds", "fails"] } else { ["then", "else"] };
                    format!("{name} {}", words[arm.min(1)])
                })
                .collect();
            let _ = writeln!(
                out,
                "  path {}: {} with probability {}: {}",
                i + 1,
                format_seconds(path.latency),
                format_probability(path.probability),
                arms.join(", ")
            );
        }
    }
    if let Some(sla) = s.sla_seconds {
        let verdict = if s.sla_met { "met" } else { "NOT met" };
        if branching {
            let basis = match s.sla_basis {
                SlaBasis::Worst => "the worst path",
                SlaBasis::Expected => "the expected latency",
            };
            let _ = writeln!(
                out,
                "SLA {}: {verdict} on {basis} ({}); met with probability {}",
                format_seconds(sla),
                format_seconds(s.sla_latency),
                format_probability(s.paths.probability_within(sla))
            );
        } else {
            let _ = writeln!(out, "SLA {}: {verdict}", format_seconds(sla));
        }
    }
    out
}

/// A probability with up to four decimals (`0.5`, `0.0625`).
fn format_probability(p: f64) -> String {
    let text = format!("{p:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() { "0".to_string() } else { text.to_string() }
}

#[derive(Serialize)]
struct JsonFragment<'a> {
    index: usize,
    name: &'a str,
    kind: &'static str,
    device: &'a str,
    precision: crate::precision::Precision,
    start: f64,
    finish: f64,
    cost: f64,
}

#[derive(Serialize)]
struct JsonSchedule<'a> {
    objective: Objective,
    makespan: f64,
    total_cost: f64,
    generated_tokens: f64,
    cost_per_million_tokens: Option<f64>,
    sla_seconds: Option<f64>,
    sla_met: bool,
    critical_path: &'a [usize],
    placements: Vec<JsonFragment<'a>>,
    transfers: &'a [crate::schedule::Transfer],
    sla_basis: SlaBasis,
    sla_latency: f64,
    paths: &'a crate::paths::PathSummary,
    solver: &'a crate::schedule::SolverReport,
}

/// The schedule as pretty JSON with a fixed field order.
pub fn to_json(s: &Schedule, w: &Workload) -> String {
    let doc = JsonSchedule {
        objective: s.objective,
        makespan: s.makespan,
        total_cost: s.total_cost,
        generated_tokens: s.generated_tokens,
        cost_per_million_tokens: s.cost_per_million_tokens(),
        sla_seconds: s.sla_seconds,
        sla_met: s.sla_met,
        critical_path: &s.critical_path,
        placements: s
            .placements
            .iter()
            .map(|p| JsonFragment {
                index: p.fragment,
                name: &w.fragments[p.fragment].name,
                kind: fragment_kind_name(w.fragments[p.fragment].kind),
                device: &p.device,
                precision: p.precision,
                start: p.start,
                finish: p.finish,
                cost: p.cost,
            })
            .collect(),
        transfers: &s.transfers,
        sla_basis: s.sla_basis,
        sla_latency: s.sla_latency,
        paths: &s.paths,
        solver: &s.solver,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

const KINDS: [FragmentKind; 7] = [
    FragmentKind::Prefill,
    FragmentKind::Decode,
    FragmentKind::KvTransfer,
    FragmentKind::Encode,
    FragmentKind::Host,
    FragmentKind::Tool,
    FragmentKind::Compute,
];

fn kind_colour(k: FragmentKind) -> &'static str {
    match k {
        FragmentKind::Prefill => "#4e79a7",
        FragmentKind::Decode => "#f28e2b",
        FragmentKind::KvTransfer => "#76b7b2",
        FragmentKind::Encode => "#59a14f",
        FragmentKind::Host => "#edc948",
        FragmentKind::Tool => "#b07aa1",
        FragmentKind::Compute => "#e15759",
    }
}

const DEVICE_COLOURS: [&str; 10] = [
    "#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#1f78b4", "#33a02c",
    "#e31a1c", "#ff7f00",
];

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rows of the chart: the units used, in target device order (a group at its first member).
fn rows(s: &Schedule, target: &Target) -> Vec<String> {
    let mut rows: Vec<String> = s.placements.iter().map(|p| p.device.clone()).collect();
    let pos = |name: &str| {
        let first = name.split('+').next().unwrap_or(name);
        target
            .devices
            .iter()
            .position(|d| d.name == first)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by(|a, b| {
        pos(a)
            .cmp(&pos(b))
            .then(a.len().cmp(&b.len()))
            .then(a.cmp(b))
    });
    rows.dedup();
    rows
}

/// A Gantt chart: one row per device used, bars labelled with fragment names and coloured
/// by kind, KV-cache transfers as thin bars under their destination row, a time axis
/// with ticks, and a legend.
pub fn to_gantt_svg(s: &Schedule, w: &Workload, target: &Target) -> String {
    let rows = rows(s, target);
    let (left, width, row_h, top) = (170.0, 900.0, 30.0, 40.0);
    let span = if s.makespan > 0.0 { s.makespan } else { 1.0 };
    let x = |t: f64| left + t / span * width;
    let chart_h = rows.len() as f64 * row_h;
    let height = top + chart_h + 90.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" viewBox="0 0 {} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
        left + width + 30.0,
        left + width + 30.0
    );
    let _ = writeln!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        o,
        r#"<text x="{left}" y="22" font-size="15" font-weight="bold">schedule: latency {}, cost {} per request</text>"#,
        xml(&format_seconds(s.makespan)),
        xml(&format_usd(s.total_cost))
    );
    for (r, name) in rows.iter().enumerate() {
        let y = top + r as f64 * row_h;
        let fill = if r % 2 == 0 { "#f7f7f7" } else { "#ffffff" };
        let _ = writeln!(
            o,
            r#"<rect x="{left}" y="{y}" width="{width}" height="{row_h}" fill="{fill}"/>"#
        );
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + row_h / 2.0 + 4.0,
            xml(name)
        );
    }
    let row_of = |dev: &str| rows.iter().position(|r| r == dev).unwrap_or(0);
    for p in &s.placements {
        let f = &w.fragments[p.fragment];
        let y = top + row_of(&p.device) as f64 * row_h + 4.0;
        let (x0, x1) = (x(p.start), x(p.finish));
        let bw = (x1 - x0).max(1.5);
        let _ = writeln!(
            o,
            r##"<rect x="{x0:.2}" y="{y}" width="{bw:.2}" height="{}" fill="{}" stroke="#333" stroke-width="0.5"><title>{} ({}) on {}: {} .. {}, {}</title></rect>"##,
            row_h - 10.0,
            kind_colour(f.kind),
            xml(&f.name),
            fragment_kind_name(f.kind),
            xml(&p.device),
            xml(&format_seconds(p.start)),
            xml(&format_seconds(p.finish)),
            xml(&format_usd(p.cost))
        );
        let max_chars = (bw / 6.5) as usize;
        if max_chars >= 4 {
            let mut label: String = f.name.chars().take(max_chars).collect();
            if label.chars().count() < f.name.chars().count() {
                label.pop();
                label.push('…');
            }
            let _ = writeln!(
                o,
                r#"<text x="{:.2}" y="{}" fill="black" font-size="11">{}</text>"#,
                x0 + 3.0,
                y + row_h / 2.0,
                xml(&label)
            );
        }
    }
    for t in s.transfers.iter().filter(|t| t.kv_transfer) {
        let y = top + row_of(&t.to_device) as f64 * row_h + row_h - 5.0;
        let (x0, x1) = (x(t.start), x(t.finish));
        let _ = writeln!(
            o,
            r#"<rect x="{x0:.2}" y="{y}" width="{:.2}" height="3" fill="{}"><title>kv_transfer {} -> {}: {} {} -> {}</title></rect>"#,
            (x1 - x0).max(1.5),
            kind_colour(FragmentKind::KvTransfer),
            t.from_fragment,
            t.to_fragment,
            format_bytes(t.bytes),
            xml(&t.from_device),
            xml(&t.to_device)
        );
    }
    // Time axis with "nice" ticks (1, 2 or 5 times a power of ten).
    let axis_y = top + chart_h + 4.0;
    let _ = writeln!(
        o,
        r##"<line x1="{left}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#333"/>"##,
        left + width
    );
    let raw = span / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let mut k = 0;
    loop {
        let t = k as f64 * step;
        if t > span * (1.0 + 1e-9) {
            break;
        }
        let tx = x(t);
        let _ = writeln!(
            o,
            r##"<line x1="{tx:.2}" y1="{}" x2="{tx:.2}" y2="{}" stroke="#ccc"/>"##,
            top,
            axis_y + 5.0
        );
        let _ = writeln!(
            o,
            r#"<text x="{tx:.2}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            axis_y + 18.0,
            xml(&tick_label(t))
        );
        k += 1;
    }
    // Legend by kind (only kinds present).
    let mut lx = left;
    let ly = axis_y + 40.0;
    for kind in KINDS {
        let present = w.fragments.iter().any(|f| f.kind == kind)
            || (kind == FragmentKind::KvTransfer && s.transfers.iter().any(|t| t.kv_transfer));
        if !present {
            continue;
        }
        let _ = writeln!(
            o,
            r##"<rect x="{lx}" y="{}" width="14" height="14" fill="{}" stroke="#333" stroke-width="0.5"/>"##,
            ly - 11.0,
            kind_colour(kind)
        );
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{ly}">{}</text>"#,
            lx + 19.0,
            fragment_kind_name(kind)
        );
        lx += 110.0;
    }
    o.push_str("</svg>\n");
    o
}

fn device_colour(s: &Schedule, dev: &str) -> &'static str {
    let mut devs: Vec<&str> = s.placements.iter().map(|p| p.device.as_str()).collect();
    devs.sort();
    devs.dedup();
    DEVICE_COLOURS[devs.iter().position(|d| *d == dev).unwrap_or(0) % DEVICE_COLOURS.len()]
}

/// The fragment graph in Graphviz DOT: nodes labelled with kind, device and times and
/// filled by device; cross-device edges labelled with bytes; critical-path edges bold.
pub fn to_dot(s: &Schedule, w: &Workload) -> String {
    let esc = |t: &str| t.replace('\\', "\\\\").replace('"', "\\\"");
    let mut o = String::from(
        "digraph schedule {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n",
    );
    for p in &s.placements {
        let f = &w.fragments[p.fragment];
        let _ = writeln!(
            o,
            "  f{} [label=\"{}\\n{} @ {}\\n{} .. {}\", fillcolor=\"{}\"];",
            p.fragment,
            esc(&f.name),
            fragment_kind_name(f.kind),
            esc(&p.device),
            format_seconds(p.start),
            format_seconds(p.finish),
            device_colour(s, &p.device)
        );
    }
    let on_path = |a: usize, b: usize| s.critical_path.windows(2).any(|x| x[0] == a && x[1] == b);
    for e in &w.edges {
        let moved = s.placements[e.from].device != s.placements[e.to].device;
        let mut attrs = Vec::new();
        if moved {
            attrs.push(format!("label=\"{}\"", format_bytes(e.bytes)));
        }
        if on_path(e.from, e.to) {
            attrs.push("penwidth=2.5, color=\"#c0392b\"".into());
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(o, "  f{} -> f{}{attrs};", e.from, e.to);
    }
    o.push_str("}\n");
    o
}

/// The fragment graph as a Mermaid flowchart, one class (colour) per device.
pub fn to_mermaid(s: &Schedule, w: &Workload) -> String {
    let esc = |t: &str| {
        t.replace('"', "#quot;")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
    };
    let mut o = String::from("flowchart LR\n");
    for p in &s.placements {
        let f = &w.fragments[p.fragment];
        let _ = writeln!(
            o,
            "  f{}[\"{}<br/>{} @ {}<br/>{} .. {}\"]",
            p.fragment,
            esc(&f.name),
            fragment_kind_name(f.kind),
            esc(&p.device),
            format_seconds(p.start),
            format_seconds(p.finish)
        );
    }
    for e in &w.edges {
        if s.placements[e.from].device != s.placements[e.to].device {
            let _ = writeln!(o, "  f{} -->|{}| f{}", e.from, format_bytes(e.bytes), e.to);
        } else {
            let _ = writeln!(o, "  f{} --> f{}", e.from, e.to);
        }
    }
    let mut devs: Vec<&str> = s.placements.iter().map(|p| p.device.as_str()).collect();
    devs.sort();
    devs.dedup();
    for (i, d) in devs.iter().enumerate() {
        let _ = writeln!(o, "  classDef d{i} fill:{}", device_colour(s, d));
        let members: Vec<String> = s
            .placements
            .iter()
            .filter(|p| p.device == *d)
            .map(|p| format!("f{}", p.fragment))
            .collect();
        let _ = writeln!(o, "  class {} d{i}", members.join(","));
    }
    o
}
