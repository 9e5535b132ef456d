//! The summary of a simulation: latency percentiles (TTFT, TPOT, end to end), per-path
//! latency with the SLA verdict, goodput, throughput, utilisation per device and the cost
//! per million tokens of the fleet, as a table or JSON. Percentiles are nearest-rank.
//!
//! The SLA verdict follows the schedule's ([`crate::paths`]): on the worst path by
//! default, the **p99** latency of the slowest path (paths with requests); with
//! `SlaBasis::Expected`, the p99 over all requests. Never a mean.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::graph::Workload;
use crate::paths::SlaBasis;
use crate::report::{format_seconds, format_usd};
use crate::simulate::SimResult;
use crate::target::Target;

/// Nearest-rank quantile `q` of `sorted` (ascending); 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// p50, p99 and mean of a sample, seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
    /// Sample size.
    pub count: usize,
}

impl Percentiles {
    /// The percentiles of `values`.
    pub fn of(mut values: Vec<f64>) -> Percentiles {
        values.sort_by(f64::total_cmp);
        let count = values.len();
        let mean = if count > 0 { values.iter().sum::<f64>() / count as f64 } else { 0.0 };
        Percentiles { p50: quantile(&values, 0.5), p99: quantile(&values, 0.99), mean, count }
    }
}

/// One path's latency under load.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathReport {
    /// `if (file:line:col) then, ...`; empty without `if`s.
    pub label: String,
    /// The plan's probability of the path.
    pub planned_probability: Option<f64>,
    /// The fraction of requests that took it.
    pub observed_fraction: f64,
    /// The plan's latency of the path (one request, empty fleet).
    pub planned_latency: Option<f64>,
    /// End-to-end latency of its requests.
    pub latency: Percentiles,
}

/// One device's share of the time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceReport {
    /// The device.
    pub name: String,
    /// Fraction of the simulated span it was running an iteration.
    pub utilisation: f64,
}

/// One unit's engine statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitReport {
    /// The unit.
    pub name: String,
    /// Mean sequences per decode step (0 without decode steps).
    pub mean_batch: f64,
    /// Decode steps run.
    pub steps: u64,
    /// Sequences preempted for lack of KV blocks.
    pub preemptions: u64,
    /// KV bytes it had, and the most it used.
    pub kv_capacity: f64,
    /// The most KV bytes in use at once.
    pub kv_peak: f64,
}

/// One pool (a unit of the schedule and its replicas) under load.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolReport {
    /// The schedule's unit.
    pub unit: String,
    /// What it serves (`prefill of big`, `decode of big`).
    pub serves: Vec<String>,
    /// How many units run it (the schedule's and its replicas).
    pub replicas: usize,
    /// Their names, the schedule's first.
    pub units: Vec<String>,
    /// Utilisation per replica the plan expects at its rate.
    pub planned_utilisation: f64,
    /// Utilisation per replica measured: (seconds running jobs + generated tokens ×
    /// the plan's seconds per token at the largest batch) / (span × replicas).
    pub utilisation: f64,
}

/// The replicas run and what they were chosen for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaReport {
    /// Requests per second the replicas were planned for.
    pub rate: f64,
    /// The utilisation target they were chosen for; `None`: one unit per pool.
    pub max_utilisation: Option<f64>,
    /// Per pool, in the order of the schedule's units.
    pub pools: Vec<PoolReport>,
}

/// The SLA and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlaReport {
    /// Seconds.
    pub seconds: f64,
    /// What it is judged on.
    pub basis: SlaBasis,
    /// The latency judged: the worst path's p99 (`worst`) or the p99 of all (`expected`).
    pub judged_latency: f64,
    /// Whether `judged_latency` is within the SLA.
    pub met: bool,
    /// The fraction of requests within the SLA.
    pub attainment: f64,
    /// Requests per second within the SLA.
    pub goodput: f64,
}

/// Everything a simulation reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    /// The target's name.
    pub target: String,
    /// Requests that arrived (and finished: the simulation drains its queues).
    pub requests: usize,
    /// Requests per second offered (arrivals over the arrival window).
    pub offered_rate: f64,
    /// First arrival to last finish, seconds.
    pub span: f64,
    /// Time to first token.
    pub ttft: Percentiles,
    /// Time per output token.
    pub tpot: Percentiles,
    /// End-to-end latency.
    pub latency: Percentiles,
    /// Requests finished per second over the span.
    pub requests_per_second: f64,
    /// Generated tokens per second over the span.
    pub tokens_per_second: f64,
    /// The SLA, when there is one.
    pub sla: Option<SlaReport>,
    /// Per path through the `if`s.
    pub paths: Vec<PathReport>,
    /// Per device the plan uses.
    pub devices: Vec<DeviceReport>,
    /// Per unit the plan uses.
    pub units: Vec<UnitReport>,
    /// The replicas of each unit of the plan.
    pub replicas: ReplicaReport,
    /// With `--replicas fleet`: the kinds each pool could run on and the fleets chosen
    /// ([`crate::simulate::fleet::choose`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<crate::simulate::fleet::FleetChoice>,
    /// Summed price of the devices the plan and its replicas use, USD per hour.
    pub fleet_usd_per_hour: f64,
    /// `fleet_usd_per_hour / tokens per hour × 1e6`; `None` without tokens.
    pub usd_per_million_tokens: Option<f64>,
    /// KV caches moved between units, and their bytes.
    pub kv_transfers: u64,
    /// Bytes of KV cache moved.
    pub kv_transfer_bytes: f64,
    /// Time-averaged requests in the system (Little's law: equals the throughput times
    /// the mean latency).
    pub mean_in_system: f64,
}

impl SimReport {
    /// Summarises `result`; `window` is the arrival window (seconds) the offered rate is
    /// counted over; `sla` in seconds, judged on `basis`.
    pub fn new(result: &SimResult, w: &Workload, target: &Target, window: f64, sla: Option<f64>, basis: SlaBasis) -> SimReport {
        let reqs = &result.requests;
        let n = reqs.len();
        let span = result.span;
        let per_second = |x: f64| if span > 0.0 { x / span } else { 0.0 };
        let tokens: f64 = reqs.iter().map(|r| r.tokens).sum();
        let latency = Percentiles::of(reqs.iter().map(|r| r.latency()).collect());
        let paths: Vec<PathReport> = result
            .paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let mine: Vec<f64> = reqs.iter().filter(|r| r.path == i).map(|r| r.latency()).collect();
                PathReport {
                    label: path_label(w, &path.arms),
                    planned_probability: path.probability.is_finite().then_some(path.probability),
                    observed_fraction: if n > 0 { mine.len() as f64 / n as f64 } else { 0.0 },
                    planned_latency: path.planned_latency.is_finite().then_some(path.planned_latency),
                    latency: Percentiles::of(mine),
                }
            })
            .collect();
        let sla = sla.map(|seconds| {
            let judged_latency = match basis {
                SlaBasis::Worst => paths.iter().filter(|p| p.latency.count > 0).map(|p| p.latency.p99).fold(0.0, f64::max),
                SlaBasis::Expected => latency.p99,
            };
            let within = reqs.iter().filter(|r| r.latency() <= seconds * (1.0 + 1e-12)).count();
            SlaReport {
                seconds,
                basis,
                judged_latency,
                met: judged_latency <= seconds * (1.0 + 1e-12),
                attainment: if n > 0 { within as f64 / n as f64 } else { 0.0 },
                goodput: per_second(within as f64),
            }
        });
        let mut used_devices = BTreeSet::new();
        for u in &result.units {
            used_devices.extend(u.devices.iter().copied());
        }
        let devices = used_devices
            .iter()
            .map(|&d| {
                let busy: f64 = result.units.iter().filter(|u| u.devices.contains(&d)).map(|u| u.busy).sum();
                DeviceReport { name: target.devices[d].name.clone(), utilisation: per_second(busy) }
            })
            .collect();
        let fleet_usd_per_hour: f64 = used_devices.iter().map(|&d| target.devices[d].price_per_hour).sum();
        let plan = &result.replicas;
        let replicas = ReplicaReport {
            rate: plan.rate,
            max_utilisation: plan.max_utilisation,
            pools: plan
                .pools
                .iter()
                .map(|pool| {
                    let work: f64 = result.units.iter().filter(|u| pool.units.contains(&u.index)).map(|u| u.job_busy + u.decode_work).sum();
                    PoolReport {
                        unit: pool.placed_name.clone(),
                        serves: pool.serves.clone(),
                        replicas: pool.units.len(),
                        units: pool.names.clone(),
                        planned_utilisation: pool.utilisation_at(plan.rate),
                        utilisation: per_second(work) / pool.units.len() as f64,
                    }
                })
                .collect(),
        };
        let tokens_per_second = per_second(tokens);
        SimReport {
            target: target.name.clone(),
            requests: n,
            offered_rate: if window > 0.0 { n as f64 / window } else { 0.0 },
            span,
            ttft: Percentiles::of(reqs.iter().filter_map(|r| r.ttft).collect()),
            tpot: Percentiles::of(reqs.iter().filter_map(|r| r.tpot).collect()),
            latency,
            requests_per_second: per_second(n as f64),
            tokens_per_second,
            sla,
            paths,
            devices,
            units: result
                .units
                .iter()
                .map(|u| UnitReport {
                    name: u.name.clone(),
                    mean_batch: if u.steps > 0 { u.step_sequences as f64 / u.steps as f64 } else { 0.0 },
                    steps: u.steps,
                    preemptions: u.preemptions,
                    kv_capacity: u.kv_capacity,
                    kv_peak: u.kv_peak,
                })
                .collect(),
            replicas,
            fleet: None,
            fleet_usd_per_hour,
            usd_per_million_tokens: (tokens_per_second > 0.0).then(|| fleet_usd_per_hour / (tokens_per_second * 3600.0) * 1e6),
            kv_transfers: result.kv_transfers,
            kv_transfer_bytes: result.kv_transfer_bytes,
            mean_in_system: result.mean_in_system,
        }
    }
}

/// `if (file:12:5) then, if (file:20:3) else`, as the schedule's report names paths.
fn path_label(w: &Workload, arms: &[(usize, usize)]) -> String {
    arms.iter()
        .map(|&(b, arm)| {
            let name = w.branches.get(b).map_or_else(|| format!("if {}", b + 1), |br| br.name.clone());
            let words = if name.starts_with("try ") { ["succeeds", "fails"] } else { ["then", "else"] };
            format!("{name} {}", words[arm.min(1)])
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(out: &mut String, name: &str, p: &Percentiles) {
    if p.count == 0 {
        let _ = writeln!(out, "  {name:<22} -");
    } else {
        let _ = writeln!(out, "  {name:<22} p50 {:>10}   p99 {:>10}   mean {:>10}", format_seconds(p.p50), format_seconds(p.p99), format_seconds(p.mean));
    }
}

/// The report as text.
pub fn to_table(r: &SimReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "simulated {} requests on `{}` (offered {:.3} req/s; first arrival to last finish {})",
        r.requests,
        r.target,
        r.offered_rate,
        format_seconds(r.span)
    );
    row(&mut out, "time to first token", &r.ttft);
    row(&mut out, "time per output token", &r.tpot);
    row(&mut out, "end-to-end latency", &r.latency);
    let _ = writeln!(out, "throughput: {:.3} req/s, {:.1} tokens/s", r.requests_per_second, r.tokens_per_second);
    if r.paths.len() > 1 {
        let _ = writeln!(out, "paths through the ifs: {}", r.paths.len());
        for (i, p) in r.paths.iter().enumerate() {
            let planned = match (p.planned_probability, p.planned_latency) {
                (Some(prob), Some(lat)) => format!("planned {} at probability {prob:.4}", format_seconds(lat)),
                _ => "not in the plan's enumeration".to_string(),
            };
            let _ = writeln!(
                out,
                "  path {}: {:.4} of requests, p50 {}, p99 {} ({planned}): {}",
                i + 1,
                p.observed_fraction,
                format_seconds(p.latency.p50),
                format_seconds(p.latency.p99),
                p.label
            );
        }
    }
    if let Some(s) = &r.sla {
        let basis = match s.basis {
            SlaBasis::Worst => "the worst path's p99",
            SlaBasis::Expected => "the p99 of all requests",
        };
        let verdict = if s.met { "met" } else { "NOT met" };
        let _ = writeln!(
            out,
            "SLA {}: {verdict} on {basis} ({}); attainment {:.4}, goodput {:.3} req/s",
            format_seconds(s.seconds),
            format_seconds(s.judged_latency),
            s.attainment,
            s.goodput
        );
    }
    let _ = writeln!(out, "utilisation:");
    for d in &r.devices {
        let _ = writeln!(out, "  {:<16} {:>6.1} %", d.name, d.utilisation * 100.0);
    }
    for u in &r.units {
        if u.steps > 0 || u.kv_peak > 0.0 {
            let _ = writeln!(
                out,
                "unit {}: mean decode batch {:.2} over {} steps, {} preemptions, KV peak {:.2} of {:.2} GB",
                u.name,
                u.mean_batch,
                u.steps,
                u.preemptions,
                u.kv_peak / 1e9,
                u.kv_capacity / 1e9
            );
        }
    }
    if r.kv_transfers > 0 {
        let _ = writeln!(out, "KV transfers: {} ({:.3} GB)", r.kv_transfers, r.kv_transfer_bytes / 1e9);
    }
    if let Some(target) = r.replicas.max_utilisation {
        let _ = writeln!(out, "replicas for {:.3} req/s (utilisation target {target} per replica):", r.replicas.rate);
        for pool in &r.replicas.pools {
            let _ = write!(
                out,
                "  {} x{} ({}): planned {:.3}, measured {:.3} per replica",
                pool.unit,
                pool.replicas,
                pool.serves.join(", "),
                pool.planned_utilisation,
                pool.utilisation
            );
            let elsewhere = pool.replicas > 1 || pool.units.first() != Some(&pool.unit);
            let _ = writeln!(out, "{}", if elsewhere { format!("; on {}", pool.units.join(", ")) } else { String::new() });
        }
    }
    if let Some(fleet) = &r.fleet {
        out.push_str(&fleet.to_table());
    }
    let cost = r.usd_per_million_tokens.map_or_else(|| "- (no tokens generated)".to_string(), format_usd);
    let _ = writeln!(out, "fleet: {}/h; cost per million generated tokens: {cost}", format_usd(r.fleet_usd_per_hour));
    out
}

/// The report as pretty JSON.
pub fn to_json(r: &SimReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// One rate of a sweep, for its JSON form.
#[derive(Serialize)]
struct SweepPoint<'a> {
    rate: f64,
    report: &'a SimReport,
}

/// A sweep as pretty JSON: a list of `{"rate": R, "report": {...}}` in rate order.
pub fn sweep_to_json(points: &[(f64, SimReport)]) -> String {
    let list: Vec<SweepPoint> = points.iter().map(|(rate, report)| SweepPoint { rate: *rate, report }).collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
