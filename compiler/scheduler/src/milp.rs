//! Exact placement for small workloads: a mixed-integer linear program over unit
//! assignments (which device group, tensor-parallel degree and precision per fragment, as
//! [`crate::cost::form_units`] offers them), start times and device orders, with the
//! memory of every device (resident weights per model and precision, plus the largest
//! working set), solved by `good_lp` with the pure-Rust `microlp` backend
//! (docs/cost-model.md, "Exact placement"). Unlike the oracle ([`crate::oracle`]), which
//! searches assignments under the list scheduler's fixed order, it optimises over all
//! orders too.
//!
//! Variables: `x[f,u]` (fragment `f` on unit `u`, binary), `s[f]` (start), `C`
//! (makespan), `o[f,g]` (f before g, binary, for each pair of exclusive fragments that
//! may share a device and are not ordered by the graph), `R[m,p,d]` (bytes of model `m`
//! at precision `p` resident on device `d`), `W[d]` (working bytes on `d`).
//! Constraints: one unit per fragment; `C ≥ s[f] + D[f]` with `D[f] = Σ d[f,u]·x[f,u]`;
//! per edge `f→g` and pair of units `u ≠ v`: `s[g] ≥ s[f] + D[f] + comm(u,v)·(x[f,u] +
//! x[g,v] − 1)`; per ordered pair and shared device `e`: `s[g] ≥ s[f] + D[f] − M(1 −
//! o) − M(2 − a[f,e] − a[g,e])` and the converse, `a[f,e] = Σ_{u∋e} x[f,u]`, `M` the
//! horizon; `R[m,p,e] ≥ share(m,u)·x[f,u]`, `W[e] ≥ working(f)/k(u)·x[f,u]`,
//! `Σ R + W ≤ memory(e)`. Objective: the makespan (latency) or the money (cost, with
//! `C ≤ SLA`), the other measure as a tie-break with a small weight.

use std::collections::BTreeMap;

use good_lp::solvers::{Solution, SolutionStatus, SolverModel, WithInitialSolution, WithTimeLimit};
use good_lp::{Expression, ProblemVariables, Variable, constraint, microlp, variable};

use crate::cost::Problem;
use crate::heft::{Mode, Timing, list_schedule_in};
use crate::precision::Precision;
use crate::schedule::Objective;

const GB: f64 = 1e9;

/// The most fragments the exact solver is asked about.
pub const MILP_FRAGMENT_LIMIT: usize = 24;
/// The most binary variables the exact solver is asked about (beyond it the heuristic
/// answers alone).
pub const MILP_BINARY_LIMIT: usize = 400;

/// What the exact solver found.
#[derive(Clone, Debug, PartialEq)]
pub struct MilpResult {
    /// The solution, timed by the list scheduler in the solution's start order.
    pub timing: Timing,
    /// Whether the solver proved it optimal (false: it hit its time limit).
    pub proved_optimal: bool,
}

/// Why the exact solver gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MilpSkip {
    /// The model would be larger than the limits ([`MILP_FRAGMENT_LIMIT`],
    /// [`MILP_BINARY_LIMIT`]).
    TooLarge,
    /// The solver found nothing within the time limit, or failed.
    NoSolution(String),
}

/// Solves `p` exactly for `objective` under `sla` (seconds, judged on the makespan),
/// warm-started from `incumbent`, within `time_limit` seconds.
pub fn solve(
    p: &Problem,
    objective: Objective,
    sla: Option<f64>,
    incumbent: Option<&Timing>,
    time_limit: f64,
) -> Result<MilpResult, MilpSkip> {
    let n = p.len();
    if n > MILP_FRAGMENT_LIMIT {
        return Err(MilpSkip::TooLarge);
    }
    let reach = reachability(p);
    let devices_of = |f: usize| -> Vec<usize> {
        let mut d: Vec<usize> = p.feasible[f]
            .iter()
            .flat_map(|&u| p.units[u].devices.iter().copied())
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    let devs: Vec<Vec<usize>> = (0..n).map(devices_of).collect();
    let mut pairs: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for f in 0..n {
        for g in f + 1..n {
            if !p.exclusive(f) || !p.exclusive(g) || reach[f][g] || reach[g][f] {
                continue;
            }
            let shared: Vec<usize> = devs[f].iter().copied().filter(|d| devs[g].contains(d)).collect();
            if !shared.is_empty() {
                pairs.push((f, g, shared));
            }
        }
    }
    let assignment_binaries: usize = p.feasible.iter().filter(|u| u.len() > 1).map(Vec::len).sum();
    if assignment_binaries + pairs.len() > MILP_BINARY_LIMIT {
        return Err(MilpSkip::TooLarge);
    }

    let mut vars = ProblemVariables::new();
    // x[f][i] for the i-th feasible unit of f (a constant 1 when there is only one).
    let xv: Vec<Vec<Option<Variable>>> = (0..n)
        .map(|f| {
            let k = p.feasible[f].len();
            (0..k).map(|_| (k > 1).then(|| vars.add(variable().binary()))).collect()
        })
        .collect();
    let x = |f: usize, i: usize| -> Expression { xv[f][i].map_or(Expression::from(1.0), Expression::from) };
    let horizon: f64 = (0..n)
        .map(|f| p.feasible[f].iter().map(|&u| p.duration(f, u)).fold(0.0, f64::max))
        .sum::<f64>()
        + p.workload
            .edges
            .iter()
            .map(|e| max_comm(p, e.from, e.to, e.bytes))
            .sum::<f64>();
    let big_m = horizon.max(1e-9) * 1.01;
    let s: Vec<Variable> = (0..n).map(|_| vars.add(variable().min(0.0).max(big_m))).collect();
    let c = vars.add(variable().min(0.0).max(big_m));
    let o: Vec<Variable> = pairs.iter().map(|_| vars.add(variable().binary())).collect();
    let dur = |f: usize| -> Expression {
        let mut e = Expression::from(0.0);
        for (i, &u) in p.feasible[f].iter().enumerate() {
            e += x(f, i) * p.duration(f, u);
        }
        e
    };
    let money: Expression = {
        let mut e = Expression::from(0.0);
        for f in 0..n {
            for (i, &u) in p.feasible[f].iter().enumerate() {
                e += x(f, i) * p.cost(f, u);
            }
        }
        e
    };
    let max_money: f64 = (0..n)
        .map(|f| p.feasible[f].iter().map(|&u| p.cost(f, u)).fold(0.0, f64::max))
        .sum::<f64>()
        .max(1e-300);
    // Memory, in GB (bytes would put coefficients of 1e10 next to microseconds): resident
    // GB per (model, precision, device) and working GB per device, only for the devices
    // whose memory everything offered to them could overflow.
    let mut demand: BTreeMap<usize, f64> = BTreeMap::new();
    for f in 0..n {
        let frag = &p.workload.fragments[f];
        for &u in &p.feasible[f] {
            let unit = &p.units[u];
            let k = unit.devices.len() as f64;
            for &d in &unit.devices {
                *demand.entry(d).or_insert(0.0) +=
                    frag.model.map_or(0.0, |m| p.weight_share(m, u)) + frag.profile.working_bytes / k;
            }
        }
    }
    let tight: Vec<usize> = demand
        .iter()
        .filter(|&(&d, &total)| total > p.target.devices[d].mem_bytes)
        .map(|(&d, _)| d)
        .collect();
    let mut resident: BTreeMap<(usize, Precision, usize), Variable> = BTreeMap::new();
    let mut working: BTreeMap<usize, Variable> = BTreeMap::new();
    let mut mem_terms: Vec<(Variable, f64, Expression)> = Vec::new(); // var ≥ coefficient · x
    for f in 0..n {
        let frag = &p.workload.fragments[f];
        for (i, &u) in p.feasible[f].iter().enumerate() {
            let unit = &p.units[u];
            let k = unit.devices.len() as f64;
            for &d in unit.devices.iter().filter(|d| tight.contains(d)) {
                if let Some(m) = frag.model {
                    let r = *resident
                        .entry((m, unit.precision, d))
                        .or_insert_with(|| vars.add(variable().min(0.0)));
                    mem_terms.push((r, p.weight_share(m, u) / GB, x(f, i)));
                }
                let w = frag.profile.working_bytes / k / GB;
                if w > 0.0 {
                    let wv = *working.entry(d).or_insert_with(|| vars.add(variable().min(0.0)));
                    mem_terms.push((wv, w, x(f, i)));
                }
            }
        }
    }

    let sla_bound = sla.filter(|_| objective == Objective::Cost);
    let objective_expr = match objective {
        Objective::Latency => Expression::from(c) + money.clone() * (1e-6 * big_m / max_money),
        Objective::Cost => money.clone() + Expression::from(c) * (1e-6 * max_money / big_m),
    };
    let mut model = vars.minimise(objective_expr.clone()).using(microlp);
    for f in 0..n {
        if p.feasible[f].len() > 1 {
            let mut sum = Expression::from(0.0);
            for i in 0..p.feasible[f].len() {
                sum += x(f, i);
            }
            model.add_constraint(constraint!(sum == 1.0));
        }
        model.add_constraint(constraint!(Expression::from(c) >= Expression::from(s[f]) + dur(f)));
    }
    if let Some(limit) = sla_bound {
        model.add_constraint(constraint!(Expression::from(c) <= limit));
    }
    for e in &p.workload.edges {
        let (f, g) = (e.from, e.to);
        model.add_constraint(constraint!(Expression::from(s[g]) >= Expression::from(s[f]) + dur(f)));
        for (i, &u) in p.feasible[f].iter().enumerate() {
            for (j, &v) in p.feasible[g].iter().enumerate() {
                if u == v {
                    continue;
                }
                let comm = p.comm(u, v, e.bytes);
                if comm > 0.0 {
                    model.add_constraint(constraint!(
                        Expression::from(s[g]) >= Expression::from(s[f]) + dur(f) + (x(f, i) + x(g, j) - 1.0) * comm
                    ));
                }
            }
        }
    }
    let on = |f: usize, d: usize| -> Expression {
        let mut e = Expression::from(0.0);
        for (i, &u) in p.feasible[f].iter().enumerate() {
            if p.units[u].devices.contains(&d) {
                e += x(f, i);
            }
        }
        e
    };
    for (k, (f, g, shared)) in pairs.iter().enumerate() {
        for &d in shared {
            let both = on(*f, d) + on(*g, d);
            model.add_constraint(constraint!(
                Expression::from(s[*g]) >= Expression::from(s[*f]) + dur(*f) - (1.0 - Expression::from(o[k])) * big_m - (2.0 - both.clone()) * big_m
            ));
            model.add_constraint(constraint!(
                Expression::from(s[*f]) >= Expression::from(s[*g]) + dur(*g) - Expression::from(o[k]) * big_m - (2.0 - both) * big_m
            ));
        }
    }
    for (var, coefficient, xe) in &mem_terms {
        model.add_constraint(constraint!(Expression::from(*var) >= xe.clone() * *coefficient));
    }
    for d in &tight {
        let mem = p.target.devices[*d].mem_bytes / GB;
        let mut sum = Expression::from(0.0);
        for ((_, _, rd), v) in &resident {
            if rd == d {
                sum += *v;
            }
        }
        if let Some(w) = working.get(d) {
            sum += *w;
        }
        model.add_constraint(constraint!(sum <= mem));
    }
    if let Some(t) = incumbent.filter(|t| sla_bound.is_none_or(|l| t.makespan <= l)) {
        let mut init: Vec<(Variable, f64)> = Vec::new();
        for f in 0..n {
            for (i, &u) in p.feasible[f].iter().enumerate() {
                if let Some(v) = xv[f][i] {
                    init.push((v, (t.unit[f] == u) as u8 as f64));
                }
            }
            init.push((s[f], t.start[f]));
        }
        init.push((c, t.makespan));
        for (k, (f, g, _)) in pairs.iter().enumerate() {
            init.push((o[k], (t.start[*f] <= t.start[*g]) as u8 as f64));
        }
        let mut r_init: std::collections::HashMap<Variable, f64> = std::collections::HashMap::new();
        for f in 0..n {
            let u = t.unit[f];
            let unit = &p.units[u];
            let frag = &p.workload.fragments[f];
            for &d in &unit.devices {
                if let Some((m, &v)) = frag.model.and_then(|m| resident.get(&(m, unit.precision, d)).map(|v| (m, v))) {
                    let e = r_init.entry(v).or_insert(0.0);
                    *e = e.max(p.weight_share(m, u) / GB);
                }
                if let Some(&w) = working.get(&d) {
                    let e = r_init.entry(w).or_insert(0.0);
                    *e = e.max(frag.profile.working_bytes / unit.devices.len() as f64 / GB);
                }
            }
        }
        for v in resident.values().chain(working.values()) {
            init.push((*v, r_init.get(v).copied().unwrap_or(0.0)));
        }
        model = model.with_initial_solution(init);
    }
    let solution = model
        .with_time_limit(time_limit)
        .solve()
        .map_err(|e| MilpSkip::NoSolution(e.to_string()))?;
    let proved_optimal = matches!(solution.status(), SolutionStatus::Optimal);
    let assign: Vec<usize> = (0..n)
        .map(|f| {
            let mut best = (f64::NEG_INFINITY, p.feasible[f][0]);
            for (i, &u) in p.feasible[f].iter().enumerate() {
                let v = xv[f][i].map_or(1.0, |v| solution.value(v));
                if v > best.0 {
                    best = (v, u);
                }
            }
            best.1
        })
        .collect();
    let starts: Vec<f64> = (0..n).map(|f| solution.value(s[f])).collect();
    let order = start_order(p, &starts);
    let timing = list_schedule_in(p, Mode::Fixed(&assign), &order)
        .map_err(|f| MilpSkip::NoSolution(format!("the solution breaks a memory limit at fragment {f}")))?;
    Ok(MilpResult { timing, proved_optimal })
}

/// The largest transfer time of `bytes` between a unit of `f` and a different unit of `g`.
fn max_comm(p: &Problem, f: usize, g: usize, bytes: f64) -> f64 {
    let mut worst: f64 = 0.0;
    for &u in &p.feasible[f] {
        for &v in &p.feasible[g] {
            worst = worst.max(p.comm(u, v, bytes));
        }
    }
    worst
}

/// `reach[f][g]`: whether `g` depends on `f` through the graph.
fn reachability(p: &Problem) -> Vec<Vec<bool>> {
    let n = p.len();
    let mut reach = vec![vec![false; n]; n];
    for &f in p.order.iter().rev() {
        for &(g, _) in &p.succs[f] {
            reach[f][g] = true;
            let row = reach[g].clone();
            for (h, r) in row.into_iter().enumerate() {
                if r {
                    reach[f][h] = true;
                }
            }
        }
    }
    reach
}

/// A topological order by start time (ties: the priority order's position).
pub(crate) fn start_order(p: &Problem, starts: &[f64]) -> Vec<usize> {
    let n = p.len();
    let mut pos = vec![0; n];
    for (i, &f) in p.order.iter().enumerate() {
        pos[f] = i;
    }
    let mut indeg: Vec<usize> = p.preds.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&f| indeg[f] == 0).collect();
    let mut out = Vec::with_capacity(n);
    while !ready.is_empty() {
        let (k, _) = ready
            .iter()
            .enumerate()
            .min_by(|a, b| starts[*a.1].total_cmp(&starts[*b.1]).then(pos[*a.1].cmp(&pos[*b.1])))
            .expect("non-empty");
        let f = ready.swap_remove(k);
        out.push(f);
        for &(g, _) in &p.succs[f] {
            indeg[g] -= 1;
            if indeg[g] == 0 {
                ready.push(g);
            }
        }
    }
    out
}
