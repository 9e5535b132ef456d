//! The exact oracle for small workloads (≤ [`ORACLE_LIMIT`] fragments): branch and bound
//! over unit assignments, each timed by the same list scheduler (priority order and
//! insertion) as HEFT, so "optimal" means the best assignment under that timing. Used by
//! tests and the benchmark to report heuristic / optimal.

use crate::cost::{Problem, Residency};
use crate::error::ScheduleError;
use crate::graph::Workload;
use crate::heft::{Mode, list_schedule};
use crate::improve::{better, score};
use crate::schedule::{Objective, Options, Schedule, schedule, to_schedule};
use crate::target::Target;
use crate::timeline::{Timeline, common_slot};

/// The most fragments the oracle accepts.
pub const ORACLE_LIMIT: usize = 12;
/// Search nodes after which the oracle stops and reports the best found so far.
pub const NODE_LIMIT: u64 = 20_000_000;

/// The oracle's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimum {
    /// The best schedule found.
    pub schedule: Schedule,
    /// False when the search hit [`NODE_LIMIT`] before finishing.
    pub proved_optimal: bool,
    /// Search nodes visited.
    pub nodes: u64,
}

struct Search<'p, 'a> {
    p: &'p Problem<'a>,
    objective: Objective,
    sla: Option<f64>,
    hint: Vec<usize>,
    tail: Vec<f64>,
    rest_cost: Vec<f64>,
    symmetric: Vec<bool>,
    assign: Vec<usize>,
    finish: Vec<f64>,
    timelines: Vec<Timeline>,
    device_use: Vec<u32>,
    best: Option<(Vec<usize>, [f64; 3])>,
    nodes: u64,
}

/// The optimal schedule of `workload` on `target` for `options` (objective and SLA).
pub fn optimal(
    workload: &Workload,
    target: &Target,
    options: &Options,
) -> Result<Optimum, ScheduleError> {
    let n = workload.fragments.len();
    if n > ORACLE_LIMIT {
        return Err(ScheduleError::TooLargeForOracle {
            fragments: n,
            limit: ORACLE_LIMIT,
        });
    }
    let p = Problem::new(workload, target)?;
    // The heuristic's schedule is the first incumbent.
    let heuristic = schedule(
        workload,
        target,
        &Options {
            heft_only: false,
            solver: crate::schedule::Solver::Heuristic,
            ..options.clone()
        },
    )?;
    let hint: Vec<usize> = heuristic
        .placements
        .iter()
        .map(|pl| {
            p.units
                .iter()
                .position(|u| u.name == pl.device && u.precision == pl.precision)
                .unwrap_or(0)
        })
        .collect();
    let incumbent = list_schedule(&p, Mode::Fixed(&hint)).ok().map(|t| {
        let s = score(&t, options.objective, options.sla_seconds);
        (hint.clone(), s)
    });
    let min_dur: Vec<f64> = (0..n)
        .map(|f| {
            p.feasible[f]
                .iter()
                .map(|&u| p.duration(f, u))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let min_cost: Vec<f64> = (0..n)
        .map(|f| {
            p.feasible[f]
                .iter()
                .map(|&u| p.cost(f, u))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut tail = vec![0.0; n];
    for &f in p.order.iter().rev() {
        tail[f] = p.succs[f]
            .iter()
            .map(|&(s, _)| min_dur[s] + tail[s])
            .fold(0.0, f64::max);
    }
    let mut rest_cost = vec![0.0; n + 1];
    for i in (0..n).rev() {
        rest_cost[i] = rest_cost[i + 1] + min_cost[p.order[i]];
    }
    // Single-device units no group overlaps and no link names are interchangeable within
    // their class: only the first empty one of a class is tried.
    let symmetric: Vec<bool> = p
        .units
        .iter()
        .map(|u| {
            u.devices.len() == 1
                && !p
                    .units
                    .iter()
                    .any(|g| g.devices.len() > 1 && g.devices.contains(&u.devices[0]))
                && p.units.iter().filter(|o| o.class == u.class).count() > 1
        })
        .collect();
    let mut s = Search {
        p: &p,
        objective: options.objective,
        sla: options.sla_seconds,
        hint,
        tail,
        rest_cost,
        symmetric,
        assign: vec![usize::MAX; n],
        finish: vec![0.0; n],
        timelines: vec![Timeline::new(); target.devices.len()],
        device_use: vec![0; target.devices.len()],
        best: incumbent,
        nodes: 0,
    };
    let start_lb = (0..n)
        .filter(|&f| p.preds[f].is_empty())
        .map(|f| min_dur[f] + s.tail[f])
        .fold(0.0, f64::max);
    s.dfs(0, Residency::new(target), 0.0, start_lb, 0.0);
    let proved = s.nodes < NODE_LIMIT;
    let nodes = s.nodes;
    let (assign, _) = s.best.expect("the heuristic's schedule is feasible");
    let t = list_schedule(&p, Mode::Fixed(&assign)).expect("the best assignment is feasible");
    Ok(Optimum {
        schedule: to_schedule(&p, &t, options),
        proved_optimal: proved,
        nodes,
    })
}

impl Search<'_, '_> {
    fn lb_score(&self, makespan_lb: f64, cost_lb: f64) -> [f64; 3] {
        let v = self.sla.map_or(0.0, |s| (makespan_lb - s).max(0.0));
        match self.objective {
            Objective::Latency => [v, makespan_lb, cost_lb],
            Objective::Cost => [v, cost_lb, makespan_lb],
        }
    }

    fn dfs(&mut self, idx: usize, res: Residency, makespan: f64, lb_time: f64, cost: f64) {
        self.nodes += 1;
        if self.nodes >= NODE_LIMIT {
            return;
        }
        let p = self.p;
        if idx == p.len() {
            let sc = self.lb_score(makespan, cost);
            if self.best.as_ref().is_none_or(|(_, b)| better(&sc, b)) {
                self.best = Some((self.assign.clone(), sc));
            }
            return;
        }
        let f = p.order[idx];
        let mut units: Vec<usize> = p.feasible[f].clone();
        units.sort_by(|&a, &b| {
            (a != self.hint[f])
                .cmp(&(b != self.hint[f]))
                .then(p.duration(f, a).total_cmp(&p.duration(f, b)))
                .then(a.cmp(&b))
        });
        let mut tried_empty_class: Vec<usize> = Vec::new();
        for u in units {
            if !res.fits(p, f, u) {
                continue;
            }
            let unit = &p.units[u];
            let empty = unit.devices.iter().all(|&d| self.device_use[d] == 0);
            if self.symmetric[u] && empty {
                if tried_empty_class.contains(&unit.class) {
                    continue;
                }
                tried_empty_class.push(unit.class);
            }
            let d = p.duration(f, u);
            let ready = p.preds[f]
                .iter()
                .map(|&(q, bytes)| self.finish[q] + p.comm(self.assign[q], u, bytes))
                .fold(0.0, f64::max);
            let exclusive = p.exclusive(f);
            let s = if exclusive {
                common_slot(&self.timelines, &unit.devices, ready, d)
            } else {
                ready
            };
            let fin = s + d;
            let new_cost = cost + p.cost(f, u);
            let new_makespan = makespan.max(fin);
            let new_lb_time = lb_time.max(fin + self.tail[f]).max(new_makespan);
            let lb = self.lb_score(new_lb_time, new_cost + self.rest_cost[idx + 1]);
            if self.best.as_ref().is_some_and(|(_, b)| !better(&lb, b)) {
                continue;
            }
            let saved: Vec<Timeline> = if exclusive {
                unit.devices
                    .iter()
                    .map(|&dv| self.timelines[dv].clone())
                    .collect()
            } else {
                Vec::new()
            };
            if exclusive {
                for &dv in &unit.devices {
                    self.timelines[dv].insert(s, fin, f);
                }
            }
            for &dv in &unit.devices {
                self.device_use[dv] += 1;
            }
            let mut r = res.clone();
            r.place(p, f, u);
            self.assign[f] = u;
            self.finish[f] = fin;
            self.dfs(idx + 1, r, new_makespan, new_lb_time, new_cost);
            self.assign[f] = usize::MAX;
            for &dv in &unit.devices {
                self.device_use[dv] -= 1;
            }
            for (k, tl) in saved.into_iter().enumerate() {
                self.timelines[unit.devices[k]] = tl;
            }
        }
    }
}
