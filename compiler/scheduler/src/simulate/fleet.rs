//! A fleet for an arrival rate (`--replicas fleet`, issue 11 item 2): throughput- and
//! memory-aware placement that chooses, per pool, the **kinds** of unit (device type ×
//! tensor-parallel degree × precision, as [`crate::cost::form_units`] offers them) and
//! how many of each, for the lowest fleet price per hour.
//!
//! A pool is what the schedule put on one unit (a model's prefill, its decode, or both
//! together), as for `--replicas auto` ([`replicas`]). Its candidates are every unit of
//! the target on which all its fragments may run (kind, pin, memory) and whose memory
//! holds the pool's weights at the unit's precision plus one request's KV cache
//! ([`replicas::can_serve`]). On each, the load one request asks is computed as
//! `--replicas auto` computes it on the schedule's unit (one cost model: batch-1 job
//! seconds, decode tokens at `step(B)/B` with `B` the batch the unit's KV budget holds,
//! [`replicas::token_seconds`]), so a unit carries `max_utilisation / seconds` requests
//! per second and its memory holds the weights plus the KV of that batch by
//! construction. Units of one kind (identical devices, degree and precision) are grouped
//! for the report; each kind's one-request latency (the schedule's placement with the
//! pool's fragments moved to a unit of the kind, timed by the list scheduler and judged
//! like the schedule's SLA) rules it out when above the SLA.
//!
//! The choice ([`fleet_solve`]): a MILP over which units each pool gets (exact, when small)
//! and a greedy with repair (always); the exact answer is used when proved optimal, and the
//! report gives both prices and the gap (heuristic / exact). The result is a
//! [`ReplicaPlan`] whose pools may mix kinds, which [`crate::simulate::simulate`] runs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::cost::Problem;
use crate::graph::Workload;
use crate::heft::{Mode, list_schedule};
use crate::paths::Paths;
use crate::precision::Precision;
use crate::schedule::Schedule;
use crate::simulate::fleet_solve::{self, Assignment, Candidate, ExactSkip, FleetProblem};
use crate::simulate::replicas::{self, ReplicaPlan};
use crate::simulate::setup::{self, FragSpec, Role};
use crate::simulate::SimError;
use crate::target::Target;

/// One kind of unit a pool may run on, and what it would cost and carry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetKind {
    /// `2×h100` (devices × the target's device entry), with the precision when quantized
    /// (`1×a100 int8`).
    pub kind: String,
    /// The target's units of this kind that can serve the pool.
    pub units: Vec<String>,
    /// USD per hour of one unit.
    pub usd_per_hour: f64,
    /// Unit-seconds one request asks of one unit (its first).
    pub seconds_per_request: f64,
    /// Requests per second one unit carries at the utilisation target.
    pub capacity: f64,
    /// One request's latency with the pool on this kind (the rest as scheduled), judged
    /// like the SLA; `None` when the list scheduler cannot time it (memory taken by the
    /// schedule's other units).
    pub latency: Option<f64>,
    /// Why it is not offered to the solvers (`None`: it is).
    pub ruled_out: Option<String>,
}

/// A pool's candidates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetPool {
    /// The schedule's unit for the pool.
    pub unit: String,
    /// What it serves.
    pub serves: Vec<String>,
    /// Its kinds, in the target's unit order.
    pub kinds: Vec<FleetKind>,
}

/// One solver's fleet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetSolution {
    /// `milp` or `greedy`.
    pub method: String,
    /// USD per hour of the pools' units (what is minimised).
    pub usd_per_hour: f64,
    /// USD per hour of every device used, the delays' (host) devices included.
    pub fleet_usd_per_hour: f64,
    /// Per pool, `(kind, count)` of the kinds it uses.
    pub counts: Vec<Vec<(String, usize)>>,
    /// Per pool, its units.
    pub units: Vec<Vec<String>>,
}

/// What `--replicas fleet` chose and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetChoice {
    /// Requests per second.
    pub rate: f64,
    /// The utilisation target per unit.
    pub max_utilisation: f64,
    /// The SLA that ruled kinds out, seconds.
    pub sla: Option<f64>,
    /// Per pool, its kinds.
    pub pools: Vec<FleetPool>,
    /// The exact solver's fleet (proved optimal).
    pub exact: Option<FleetSolution>,
    /// Why there is no exact fleet (too large, no proof within the time limit).
    pub exact_note: Option<String>,
    /// The heuristic's fleet.
    pub heuristic: Option<FleetSolution>,
    /// Heuristic price over exact price (1: the heuristic found the optimum).
    pub gap: Option<f64>,
    /// Which fleet is simulated: `milp` or `greedy`.
    pub chosen: String,
    /// The replicas simulated (the chosen fleet).
    #[serde(skip)]
    pub plan: ReplicaPlan,
}

/// A candidate unit's load for a pool.
struct Load {
    seconds: f64,
    /// `(decode, seconds per token)` on the unit.
    token_seconds: Vec<(usize, f64)>,
}

/// Chooses the cheapest fleet for `rate` requests per second of `w` as `schedule` groups
/// its fragments, each unit at most `max_utilisation`; kinds slower than the schedule's
/// SLA for one request are ruled out. Errors: no fleet of the target carries the rate
/// ([`SimError::FleetInfeasible`], naming the highest rate one carries). With
/// `every_precision` every model is also offered at every quantized format
/// ([`Problem::offering_every_precision`]), not only as far as it needs to fit.
pub fn choose(
    w: &Workload,
    schedule: &Schedule,
    target: &Target,
    rate: f64,
    max_batch: usize,
    max_utilisation: f64,
    every_precision: bool,
) -> Result<FleetChoice, SimError> {
    if !(max_utilisation > 0.0 && max_utilisation <= 1.0) {
        return Err(SimError::Plan(format!("a utilisation target must be in (0, 1], got {max_utilisation}")));
    }
    let p = if every_precision { Problem::offering_every_precision(w, target) } else { Problem::new(w, target) }
        .map_err(SimError::Schedule)?;
    let specs = setup::fragment_specs(w, schedule, &p)?;
    let mut plan = replicas::plan(w, &p, &specs, rate, max_batch, None)?;
    plan.max_utilisation = Some(max_utilisation);
    plan.every_precision = every_precision;
    let assign: Vec<usize> = specs.iter().map(|s| s.unit).collect();
    let paths = Paths::new(w);
    let sla = schedule.sla_seconds;
    let mut pools = Vec::new();
    let mut loads: Vec<BTreeMap<usize, Load>> = Vec::new();
    let mut offered: Vec<Vec<Candidate>> = Vec::new();
    for pool in &plan.pools {
        let models: BTreeSet<usize> = pool.fragments.iter().filter_map(|&f| specs[f].model).collect();
        let mut here: BTreeMap<usize, Load> = BTreeMap::new();
        // Kinds in unit order: (first unit, members).
        let mut kinds: Vec<(usize, Vec<usize>)> = Vec::new();
        for v in 0..p.units.len() {
            let Some(budget) = replicas::can_serve(&p, &specs, &pool.fragments, &models, v) else { continue };
            here.insert(v, load_on(w, &p, &specs, &pool.fragments, v, budget, max_batch));
            match kinds.iter_mut().find(|(first, _)| same_kind(&p, *first, v)) {
                Some((_, members)) => members.push(v),
                None => kinds.push((v, vec![v])),
            }
        }
        let mut report = Vec::new();
        let mut candidates = Vec::new();
        for (first, members) in &kinds {
            let seconds = here[first].seconds;
            let capacity = if seconds > 0.0 { max_utilisation / seconds } else { f64::INFINITY };
            let latency = members.iter().find_map(|&v| one_request_latency(&p, &paths, schedule, &assign, &pool.fragments, v));
            let ruled_out = match (sla, latency) {
                (Some(limit), Some(l)) if l > limit * (1.0 + 1e-9) => Some(format!(
                    "one request takes {} on it, over the SLA of {}",
                    crate::report::format_seconds(l),
                    crate::report::format_seconds(limit)
                )),
                _ => None,
            };
            if ruled_out.is_none() {
                for &v in members {
                    let s = here[&v].seconds;
                    candidates.push(Candidate {
                        unit: v,
                        devices: p.units[v].devices.clone(),
                        price: p.units[v].price_per_hour,
                        capacity: if s > 0.0 { max_utilisation / s } else { f64::INFINITY },
                    });
                }
            }
            report.push(FleetKind {
                kind: kind_name(&p, *first),
                units: members.iter().map(|&v| p.units[v].name.clone()).collect(),
                usd_per_hour: p.units[*first].price_per_hour,
                seconds_per_request: seconds,
                capacity,
                latency,
                ruled_out,
            });
        }
        pools.push(FleetPool { unit: p.units[pool.placed].name.clone(), serves: pool.serves.clone(), kinds: report });
        loads.push(here);
        offered.push(candidates);
    }
    // Device entries as `form_units` forms groups within them: (entry, node), in order.
    let mut entries: Vec<((&str, &str), Vec<usize>)> = Vec::new();
    for (d, device) in target.devices.iter().enumerate() {
        let key = (device.group.as_str(), device.node.as_str());
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(d),
            None => entries.push((key, vec![d])),
        }
    }
    let fp = FleetProblem {
        rate: rate.max(1e-9),
        devices: target.devices.len(),
        entries: entries.into_iter().map(|(_, members)| members).collect(),
        pools: offered,
    };
    let fixed: BTreeSet<usize> =
        specs.iter().filter(|s| s.role == Role::Delay).flat_map(|s| p.units[s.unit].devices.iter().copied()).collect();
    let solution = |method: &str, a: &Assignment| -> FleetSolution {
        let mut devices = fixed.clone();
        let mut counts = Vec::new();
        let mut units = Vec::new();
        for (i, chosen) in a.chosen.iter().enumerate() {
            let mut per_kind: Vec<(String, usize)> = Vec::new();
            for &c in chosen {
                let v = fp.pools[i][c].unit;
                devices.extend(p.units[v].devices.iter().copied());
                let name = kind_name(&p, v);
                match per_kind.iter_mut().find(|(k, _)| *k == name) {
                    Some((_, n)) => *n += 1,
                    None => per_kind.push((name, 1)),
                }
            }
            counts.push(per_kind);
            units.push(chosen.iter().map(|&c| p.units[fp.pools[i][c].unit].name.clone()).collect());
        }
        FleetSolution {
            method: method.to_string(),
            usd_per_hour: a.usd_per_hour,
            fleet_usd_per_hour: devices.iter().map(|&d| target.devices[d].price_per_hour).sum(),
            counts,
            units,
        }
    };
    let exact = fleet_solve::exact(&fp, fleet_solve::FLEET_MILP_TIME_LIMIT_S);
    let heuristic = fleet_solve::greedy(&fp);
    let exact_note = match &exact {
        Ok(_) => None,
        Err(ExactSkip::TooLarge(n)) => Some(format!("too large for the exact solver ({n} binaries, at most {})", fleet_solve::FLEET_MILP_BINARY_LIMIT)),
        Err(ExactSkip::Infeasible) => Some("no fleet carries the rate".to_string()),
        Err(ExactSkip::NoProof(why)) => Some(format!("the exact solver gave no answer: {why}")),
    };
    let (chosen_name, chosen) = match (&exact, &heuristic) {
        (Ok(a), _) => ("milp", a.clone()),
        (Err(_), Some(a)) => ("greedy", a.clone()),
        (Err(_), None) => {
            let reason = match fp.pools.iter().position(Vec::is_empty) {
                Some(i) => format!(
                    "the pool of `{}` ({}) has no unit that holds it{}",
                    pools[i].unit,
                    pools[i].serves.join(", "),
                    if sla.is_some() { " and meets the SLA" } else { "" }
                ),
                None => "the target's devices cannot hold enough units for every pool at once".to_string(),
            };
            return Err(SimError::FleetInfeasible {
                rate,
                max_utilisation,
                max_rate: fleet_solve::max_rate(&fp, fleet_solve::FLEET_MILP_TIME_LIMIT_S),
                reason,
            });
        }
    };
    for (i, pool) in plan.pools.iter_mut().enumerate() {
        pool.units = chosen.chosen[i].iter().map(|&c| fp.pools[i][c].unit).collect();
        pool.names = pool.units.iter().map(|&v| p.units[v].name.clone()).collect();
        pool.unit_seconds = pool.units.iter().map(|v| loads[i][v].seconds).collect();
        for &v in &pool.units {
            for &(f, t) in &loads[i][&v].token_seconds {
                plan.token_seconds_on.push((f, v, t));
            }
        }
    }
    let exact_solution = exact.as_ref().ok().map(|a| solution("milp", a));
    let heuristic_solution = heuristic.as_ref().map(|a| solution("greedy", a));
    let gap = match (&exact, &heuristic) {
        (Ok(e), Some(h)) if e.usd_per_hour > 0.0 => Some(h.usd_per_hour / e.usd_per_hour),
        _ => None,
    };
    Ok(FleetChoice {
        rate,
        max_utilisation,
        sla,
        pools,
        exact: exact_solution,
        exact_note,
        heuristic: heuristic_solution,
        gap,
        chosen: chosen_name.to_string(),
        plan,
    })
}

/// The load one request of the pool's `fragments` asks of unit `v` with `budget` bytes
/// of KV cache (the simulator's own figures, as [`replicas::plan`] computes them).
fn load_on(w: &Workload, p: &Problem, specs: &[FragSpec], fragments: &[usize], v: usize, budget: f64, max_batch: usize) -> Load {
    let mut seconds = 0.0;
    let mut token_seconds = Vec::new();
    for &f in fragments {
        let t = replicas::token_seconds(w, p, specs, budget, f, v, max_batch);
        if matches!(specs[f].role, Role::Decode { .. }) {
            token_seconds.push((f, t));
        }
        let one = if v == specs[f].unit { specs[f].seconds } else { setup::unit_figures(w, p, f, v).seconds };
        seconds += w.fragments[f].weight * replicas::execution_seconds(&specs[f], one, t);
    }
    Load { seconds, token_seconds }
}

/// Whether units `a` and `b` are of one kind: identical devices, as many, one precision.
fn same_kind(p: &Problem, a: usize, b: usize) -> bool {
    let (ua, ub) = (&p.units[a], &p.units[b]);
    ua.precision == ub.precision
        && ua.devices.len() == ub.devices.len()
        && replicas::same_device(&p.target.devices[ua.devices[0]], &p.target.devices[ub.devices[0]])
}

/// `2×h100`, `1×a100 int8`: the unit's size, device entry and (quantized) precision.
fn kind_name(p: &Problem, v: usize) -> String {
    let unit = &p.units[v];
    let device = &p.target.devices[unit.devices[0]];
    let precision = if unit.precision == Precision::Native { String::new() } else { format!(" {}", unit.precision.as_str()) };
    format!("{}×{}{precision}", unit.devices.len(), device.group)
}

/// One request's latency, judged as the schedule's SLA is, with `fragments` on unit `v`
/// and every other fragment where `assign` has it; `None` if that breaks a memory limit.
fn one_request_latency(p: &Problem, paths: &Paths, schedule: &Schedule, assign: &[usize], fragments: &[usize], v: usize) -> Option<f64> {
    let mut moved = assign.to_vec();
    for &f in fragments {
        moved[f] = v;
    }
    let t = list_schedule(p, Mode::Fixed(&moved)).ok()?;
    Some(if paths.branching() { paths.summarize(p, &t).judged(schedule.sla_basis) } else { t.makespan })
}

impl FleetChoice {
    /// The choice as lines of the simulation table: each pool's kinds, both solvers'
    /// fleets and the gap.
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        use crate::report::{format_seconds, format_usd};
        let mut out = String::new();
        let sla = self.sla.map_or_else(String::new, |s| format!("; kinds over the SLA of {} for one request ruled out", format_seconds(s)));
        let _ = writeln!(out, "fleet for {:.3} req/s, each unit at most {} utilised{sla}:", self.rate, self.max_utilisation);
        for pool in &self.pools {
            let _ = writeln!(out, "  pool {} ({}):", pool.unit, pool.serves.join(", "));
            for k in &pool.kinds {
                let latency = k.latency.map_or_else(|| "-".to_string(), format_seconds);
                let _ = write!(
                    out,
                    "    {:<12} {:>9}/h  {:>10}/request  carries {:>9.3} req/s  one request {:>9}  ({} unit{})",
                    k.kind,
                    format_usd(k.usd_per_hour),
                    format_seconds(k.seconds_per_request),
                    k.capacity,
                    latency,
                    k.units.len(),
                    if k.units.len() == 1 { "" } else { "s" }
                );
                let _ = writeln!(out, "{}", k.ruled_out.as_ref().map_or_else(String::new, |why| format!("; ruled out: {why}")));
            }
        }
        let line = |name: &str, s: &Option<FleetSolution>, note: &Option<String>| -> String {
            match s {
                Some(s) => {
                    let pools: Vec<String> = s
                        .counts
                        .iter()
                        .map(|kinds| kinds.iter().map(|(k, n)| format!("{n} × {k}")).collect::<Vec<_>>().join(" + "))
                        .collect();
                    format!("  {name} ({}): {}/h of units, fleet {}/h: {}", s.method, format_usd(s.usd_per_hour), format_usd(s.fleet_usd_per_hour), pools.join("; "))
                }
                None => format!("  {name}: none ({})", note.as_deref().unwrap_or("no fleet found")),
            }
        };
        let _ = writeln!(out, "{}", line("exact", &self.exact, &self.exact_note));
        let _ = writeln!(out, "{}", line("heuristic", &self.heuristic, &None));
        let gap = self.gap.map_or_else(|| "-".to_string(), |g| format!("{g:.4}"));
        let _ = writeln!(out, "  gap (heuristic / exact): {gap}; simulated: the {} fleet", self.chosen);
        out
    }
}
