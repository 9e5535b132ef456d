//! The entry point: HEFT, then the improvement phase, then the output form (placements,
//! kv_transfer and data transfers, critical path, totals). Also the baselines the
//! benchmark compares against.

use serde::Serialize;

use crate::cost::Problem;
use crate::error::ScheduleError;
use crate::graph::{FragmentKind, Workload};
use crate::heft::{Mode, Timing, critical_path, heft, list_schedule};
use crate::improve::{better, improve_judged, score_judged};
use crate::milp::{self, MilpSkip};
use crate::paths::{PathSummary, Paths, SlaBasis};
use crate::target::Target;

/// What the improvement phase minimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Time from request to last fragment (makespan).
    #[default]
    Latency,
    /// Money per request.
    Cost,
}

/// Which solver places the workload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// The exact MILP where the workload is small ([`crate::milp`]'s limits), warm-started
    /// from the heuristic and kept when it is at least as good; the heuristic elsewhere.
    #[default]
    Auto,
    /// HEFT and the improvement phase only.
    Heuristic,
}

/// How a schedule was found and how far from optimal it can be.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SolverReport {
    /// `milp` (good_lp with microlp) or `heuristic` (HEFT + improvement).
    pub method: String,
    /// Whether the schedule is proved optimal for the objective (under the cost model,
    /// judged on the makespan).
    pub optimal: bool,
    /// A lower bound on the objective (seconds for latency, USD for cost): the optimum
    /// when proved, else the critical path of fastest placements (latency) or the sum of
    /// cheapest placements (cost).
    pub bound: f64,
    /// `objective / bound − 1`: 0 when proved optimal.
    pub gap: f64,
    /// Why the exact solver did not answer, when it did not (`too large`, a time limit).
    pub note: Option<String>,
}

/// Seconds the exact solver may spend per schedule.
pub const MILP_TIME_LIMIT_S: f64 = 2.0;

/// Scheduling options.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// The objective.
    pub objective: Objective,
    /// A latency bound (seconds) the schedule should meet; cost is minimised under it.
    pub sla_seconds: Option<f64>,
    /// Stop after HEFT (no improvement phase).
    pub heft_only: bool,
    /// What the SLA is judged on over `if` branches: the worst path (default) or the
    /// expected latency ([`crate::paths`]).
    pub sla_basis: SlaBasis,
    /// Which solver places it.
    pub solver: Solver,
}

/// Where and when one fragment runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Placement {
    /// Index into the workload's fragments.
    pub fragment: usize,
    /// The unit: a device name, or `a+b` for a tensor-parallel group.
    pub device: String,
    /// The format the unit holds the fragment's model in (`native` for fragments without
    /// a model).
    pub precision: crate::precision::Precision,
    /// Start, seconds after the request arrives.
    pub start: f64,
    /// Finish, seconds.
    pub finish: f64,
    /// USD for this fragment (all its expected executions).
    pub cost: f64,
}

/// Data moved between two placements on different units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transfer {
    /// Producer fragment.
    pub from_fragment: usize,
    /// Consumer fragment.
    pub to_fragment: usize,
    /// Producer's unit.
    pub from_device: String,
    /// Consumer's unit.
    pub to_device: String,
    /// Bytes moved.
    pub bytes: f64,
    /// When the transfer starts (the producer's finish).
    pub start: f64,
    /// When the data has arrived.
    pub finish: f64,
    /// Whether this is a KV-cache move from a prefill to a decode: the compiler inserts a
    /// `kv_transfer` fragment for it.
    pub kv_transfer: bool,
}

/// A placed, timed, costed workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    /// The objective it was built for.
    pub objective: Objective,
    /// One per fragment, in fragment order.
    pub placements: Vec<Placement>,
    /// Every edge whose endpoints are on different units, by (from, to).
    pub transfers: Vec<Transfer>,
    /// Seconds from the request's arrival to the last finish.
    pub makespan: f64,
    /// USD per request.
    pub total_cost: f64,
    /// The chain of fragments (and device waits) that sets the makespan, in order.
    pub critical_path: Vec<usize>,
    /// The SLA asked for, if any.
    pub sla_seconds: Option<f64>,
    /// Whether [`Schedule::sla_latency`] meets the SLA (true without one).
    pub sla_met: bool,
    /// What the SLA is judged on.
    pub sla_basis: SlaBasis,
    /// The latency the SLA is judged on: the worst path's (the makespan when the program
    /// has no `if`) or the expected latency.
    pub sla_latency: f64,
    /// The latency of each path through the `if`s with this placement.
    pub paths: PathSummary,
    /// Tokens generated per request (decode tokens × weight).
    pub generated_tokens: f64,
    /// How it was found: solver, optimum or bound, gap.
    pub solver: SolverReport,
}

impl Schedule {
    /// USD per million generated tokens (`total_cost / generated_tokens × 1e6`); `None`
    /// when the workload generates no tokens.
    pub fn cost_per_million_tokens(&self) -> Option<f64> {
        (self.generated_tokens > 0.0).then(|| self.total_cost / self.generated_tokens * 1e6)
    }
}

/// Places every fragment of `workload` on `target`: HEFT, then (unless `heft_only`) the
/// improvement phase for `options.objective` under `options.sla_seconds`.
pub fn schedule(
    workload: &Workload,
    target: &Target,
    options: &Options,
) -> Result<Schedule, ScheduleError> {
    let p = Problem::new(workload, target)?;
    let paths = Paths::new(workload);
    let mut t = heft(&p)?;
    let judge = |t: &Timing| if paths.branching() { paths.summarize(&p, t).judged(options.sla_basis) } else { t.makespan };
    let mut method = "heuristic";
    let mut optimal = false;
    let mut note = None;
    if !options.heft_only {
        t = improve_judged(&p, t, options.objective, options.sla_seconds, &judge).0;
        let own_objectives = workload.fragments.iter().any(|f| f.objective.is_some_and(|o| o != options.objective));
        if options.solver == Solver::Auto && own_objectives {
            note = Some("fragments with their own objective are placed by the heuristic".into());
        } else if options.solver == Solver::Auto {
            match milp::solve(&p, options.objective, options.sla_seconds, Some(&t), MILP_TIME_LIMIT_S) {
                // An answer cut short by the time limit depends on the machine's speed: it is
                // not used, so that output stays deterministic.
                Ok(r) if !r.proved_optimal => {
                    note = Some(format!("the exact solver found no proof of optimality within {MILP_TIME_LIMIT_S} s"));
                }
                Ok(r) => {
                    let exact = score_judged(&r.timing, options.objective, options.sla_seconds, judge(&r.timing));
                    let heuristic = score_judged(&t, options.objective, options.sla_seconds, judge(&t));
                    if !better(&heuristic, &exact) {
                        t = r.timing;
                    }
                    method = "milp";
                    optimal = true;
                }
                Err(MilpSkip::TooLarge) => note = Some("too large for the exact solver".into()),
                Err(MilpSkip::NoSolution(why)) => note = Some(format!("the exact solver gave no answer: {why}")),
            }
        }
    }
    let mut s = to_schedule(&p, &t, options);
    let value = match options.objective {
        Objective::Latency => s.makespan,
        Objective::Cost => s.total_cost,
    };
    let bound = if optimal { value } else { lower_bound(&p, options.objective).min(value) };
    s.solver = SolverReport {
        method: method.into(),
        optimal,
        bound,
        gap: if bound > 0.0 { value / bound - 1.0 } else { 0.0 },
        note,
    };
    Ok(s)
}

/// A lower bound on the objective of any schedule of `p`: the longest chain of fastest
/// placements (latency; transfers and device contention ignored) or the sum of the
/// cheapest placements (cost).
pub fn lower_bound(p: &Problem, objective: Objective) -> f64 {
    let n = p.len();
    let fastest = |f: usize| p.feasible[f].iter().map(|&u| p.duration(f, u)).fold(f64::INFINITY, f64::min);
    match objective {
        Objective::Latency => {
            let mut finish = vec![0.0; n];
            for &f in &p.order {
                let ready = p.preds[f].iter().map(|&(q, _)| finish[q]).fold(0.0, f64::max);
                finish[f] = ready + fastest(f);
            }
            finish.into_iter().fold(0.0, f64::max)
        }
        Objective::Cost => (0..n)
            .map(|f| p.feasible[f].iter().map(|&u| p.cost(f, u)).fold(f64::INFINITY, f64::min))
            .sum(),
    }
}

/// A naive placement the benchmark compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Every fragment on the unit with the highest peak flops for its dtype that can run
    /// it and has memory left (ties: lowest unit), CPUs for host and tool fragments.
    AllOnFastest,
    /// Every fragment on the cheapest unit (lowest price per hour) that can run it and has
    /// memory left (ties: faster, then lowest unit).
    AllOnCheapest,
}

/// Times `baseline`'s assignment with the same list scheduler.
pub fn schedule_baseline(
    workload: &Workload,
    target: &Target,
    baseline: Baseline,
    options: &Options,
) -> Result<Schedule, ScheduleError> {
    let p = Problem::new(workload, target)?;
    let prefs: Vec<Vec<usize>> = (0..p.len())
        .map(|f| {
            let mut feas = p.feasible[f].clone();
            match baseline {
                Baseline::AllOnFastest => {
                    let speed = |u: usize| {
                        let d = &target.devices[p.units[u].devices[0]];
                        d.peak_flops.for_dtype(workload.fragments[f].profile.dtype)
                            * p.units[u].devices.len() as f64
                    };
                    feas.sort_by(|&a, &b| speed(b).total_cmp(&speed(a)).then(a.cmp(&b)));
                }
                Baseline::AllOnCheapest => feas.sort_by(|&a, &b| {
                    p.units[a]
                        .price_per_hour
                        .total_cmp(&p.units[b].price_per_hour)
                        .then(p.duration(f, a).total_cmp(&p.duration(f, b)))
                        .then(a.cmp(&b))
                }),
            }
            feas
        })
        .collect();
    let t = list_schedule(&p, Mode::Ranked(&prefs)).map_err(|f| ScheduleError::NoDevice {
        fragment: f,
        name: workload.fragments[f].name.clone(),
        reason: "every device the baseline allows is out of memory".into(),
    })?;
    Ok(to_schedule(&p, &t, options))
}

/// Turns a timing into the output form.
pub(crate) fn to_schedule(p: &Problem, t: &Timing, options: &Options) -> Schedule {
    let w = p.workload;
    let paths = Paths::new(w).summarize(p, t);
    let sla_latency = paths.judged(options.sla_basis);
    let placements = (0..p.len())
        .map(|f| Placement {
            fragment: f,
            device: p.units[t.unit[f]].name.clone(),
            precision: p.units[t.unit[f]].precision,
            start: t.start[f],
            finish: t.finish[f],
            cost: p.cost(f, t.unit[f]),
        })
        .collect();
    let mut transfers: Vec<Transfer> = w
        .edges
        .iter()
        // Units over the same devices (one model at two precisions) share memory: nothing
        // moves between them.
        .filter(|e| p.units[t.unit[e.from]].devices != p.units[t.unit[e.to]].devices)
        .map(|e| {
            let (a, b) = (t.unit[e.from], t.unit[e.to]);
            Transfer {
                from_fragment: e.from,
                to_fragment: e.to,
                from_device: p.units[a].name.clone(),
                to_device: p.units[b].name.clone(),
                bytes: e.bytes,
                start: t.finish[e.from],
                finish: t.finish[e.from] + p.comm(a, b, e.bytes),
                kv_transfer: w.fragments[e.from].kind == FragmentKind::Prefill
                    && w.fragments[e.to].kind == FragmentKind::Decode,
            }
        })
        .collect();
    transfers.sort_by(|x, y| {
        (x.from_fragment, x.to_fragment)
            .cmp(&(y.from_fragment, y.to_fragment))
            .then(x.bytes.total_cmp(&y.bytes))
    });
    let generated_tokens = w
        .fragments
        .iter()
        .filter(|f| f.kind == FragmentKind::Decode)
        .map(|f| f.profile.tokens * f.weight)
        .sum();
    Schedule {
        objective: options.objective,
        placements,
        transfers,
        makespan: t.makespan,
        total_cost: t.cost,
        critical_path: critical_path(t),
        sla_seconds: options.sla_seconds,
        sla_met: options
            .sla_seconds
            .is_none_or(|s| sla_latency <= s * (1.0 + 1e-12)),
        sla_basis: options.sla_basis,
        sla_latency,
        paths,
        generated_tokens,
        solver: SolverReport {
            method: "heuristic".into(),
            optimal: false,
            bound: 0.0,
            gap: 0.0,
            note: None,
        },
    }
}
