//! Latency per path through the program's `if`s, for the SLA verdict.
//!
//! The schedule places both arms of every `if` (each fragment at its expected weight, the
//! arm's probability included), so its makespan is neither the latency of a request that
//! takes one arm nor a bound on it: two arms at half weight run side by side. A request
//! takes one **path**, one arm of each `if` it reaches. For each path this module keeps the
//! fragments on it (dropping the other arms; dependencies through dropped fragments are
//! kept transitively), divides each fragment's weight by the probabilities of the arms it
//! sits in (so the taken arm runs at full weight), and re-times the schedule's assignment
//! with the list scheduler. The SLA is judged on the worst path (default) or on the
//! expected latency (the paths' latencies weighted by their probabilities), never on the
//! makespan of the averaged graph.
//!
//! An `if` inside a loop is one choice for all its iterations: the worst path takes its
//! worst arm every time (the conservative bound); its probability is the arm's.
//! An `if` that tests an earlier `if`'s condition or its negation ([`crate::graph::Branch::follows`],
//! e.g. the "not returned" guard lowering puts after an early `return`) is not a choice of
//! its own: on a path through the earlier `if` its arm is decided, with probability 1.
//! At most [`MAX_PATHS`] paths are enumerated; beyond that the analysis is marked
//! `truncated` and the remaining `if`s keep their expected weights.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cost::Problem;
use crate::graph::{Edge, Workload};
use crate::heft::{Mode, Timing, list_schedule};

/// The most paths enumerated (2^10: ten independent `if`s).
pub const MAX_PATHS: usize = 1024;

/// What the SLA is judged on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaBasis {
    /// The latency of the slowest path through the `if`s (the default).
    #[default]
    Worst,
    /// The expected latency: each path's latency weighted by its probability.
    Expected,
}

/// One path: the arm taken at each `if` it reaches, its probability and latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathLatency {
    /// `(branch, arm)` per `if` on the path (arm 0: then, 1: else), outer `if`s first.
    pub arms: Vec<(usize, usize)>,
    /// The probability a request takes this path.
    pub probability: f64,
    /// Seconds from request to the path's last fragment with the schedule's placement.
    pub latency: f64,
}

/// The latency over all paths of a schedule.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PathSummary {
    /// Every path, in enumeration order (then arm before else arm, outer `if`s first).
    pub paths: Vec<PathLatency>,
    /// The slowest path's latency.
    pub worst_latency: f64,
    /// The probability of the slowest path.
    pub worst_probability: f64,
    /// The probability-weighted mean latency.
    pub expected_latency: f64,
    /// Whether more than [`MAX_PATHS`] paths exist (some `if`s were left averaged).
    pub truncated: bool,
}

impl PathSummary {
    /// The latency the SLA is judged on under `basis`.
    pub fn judged(&self, basis: SlaBasis) -> f64 {
        match basis {
            SlaBasis::Worst => self.worst_latency,
            SlaBasis::Expected => self.expected_latency,
        }
    }

    /// The probability that a request meets `sla` seconds (the paths within it).
    pub fn probability_within(&self, sla: f64) -> f64 {
        self.paths.iter().filter(|p| p.latency <= sla * (1.0 + 1e-12)).map(|p| p.probability).sum()
    }
}

/// One path's workload: the kept fragments (renumbered) and their original indices.
struct SubPath {
    arms: Vec<(usize, usize)>,
    probability: f64,
    kept: Vec<usize>,
    workload: Workload,
}

/// The paths of a workload, prepared once and timed for any assignment.
pub struct Paths {
    subs: Vec<SubPath>,
    truncated: bool,
}

impl Paths {
    /// Enumerates the paths of `w` (one, the whole graph, when it has no `if`).
    pub fn new(w: &Workload) -> Paths {
        let n = w.fragments.len();
        let mut paths: Vec<(f64, Vec<bool>, Vec<(usize, usize)>)> = vec![(1.0, vec![false; n], Vec::new())];
        let mut truncated = false;
        for (b, branch) in w.branches.iter().enumerate() {
            let mut next = Vec::new();
            for (probability, excluded, arms) in &paths {
                let reached = branch.arms.iter().flatten().any(|&f| f < n && !excluded[f]);
                if !reached {
                    next.push((*probability, excluded.clone(), arms.clone()));
                    continue;
                }
                // An `if` on the condition of a branch this path already took: one arm, certain.
                let decided = branch.follows.and_then(|(earlier, negated)| {
                    arms.iter().find(|&&(taken, _)| taken == earlier).map(|&(_, arm)| if negated { 1 - arm } else { arm })
                });
                for arm in 0..2 {
                    if decided.is_some_and(|d| d != arm) {
                        continue;
                    }
                    let p = if decided.is_some() { *probability } else { probability * branch.probabilities[arm] };
                    if p <= 0.0 {
                        continue;
                    }
                    let mut excluded = excluded.clone();
                    for &f in &branch.arms[1 - arm] {
                        if f < n {
                            excluded[f] = true;
                        }
                    }
                    let mut arms = arms.clone();
                    arms.push((b, arm));
                    next.push((p, excluded, arms));
                }
            }
            if next.len() > MAX_PATHS {
                truncated = true;
                break;
            }
            paths = next;
        }
        if paths.len() == 1 {
            // One path, the whole graph: its latency is the makespan, nothing to re-time.
            let (probability, _, arms) = paths.remove(0);
            return Paths { subs: vec![SubPath { arms, probability, kept: Vec::new(), workload: Workload::default() }], truncated };
        }
        let subs = paths.into_iter().map(|(probability, excluded, arms)| sub_path(w, probability, &excluded, arms)).collect();
        Paths { subs, truncated }
    }

    /// Whether the workload has more than one path.
    pub fn branching(&self) -> bool {
        self.subs.len() > 1
    }

    /// The latency of every path with `t`'s assignment on `p` (the full workload's
    /// problem). A path that cannot be re-timed (a unit missing from its problem) counts
    /// with the whole schedule's makespan.
    pub fn summarize(&self, p: &Problem, t: &Timing) -> PathSummary {
        let paths: Vec<PathLatency> = self
            .subs
            .iter()
            .map(|sub| {
                let latency = if self.subs.len() == 1 { t.makespan } else { time_path(p, t, sub).unwrap_or(t.makespan) };
                PathLatency { arms: sub.arms.clone(), probability: sub.probability, latency }
            })
            .collect();
        let worst = paths.iter().fold(None::<&PathLatency>, |w, q| match w {
            Some(w) if w.latency >= q.latency => Some(w),
            _ => Some(q),
        });
        let (worst_latency, worst_probability) = worst.map_or((t.makespan, 1.0), |w| (w.latency, w.probability));
        let total: f64 = paths.iter().map(|q| q.probability).sum();
        let expected_latency = if total > 0.0 { paths.iter().map(|q| q.probability * q.latency).sum::<f64>() / total } else { t.makespan };
        PathSummary { paths, worst_latency, worst_probability, expected_latency, truncated: self.truncated }
    }
}

/// The workload of one path: kept fragments at their on-path weight, edges between them
/// (through dropped fragments too).
fn sub_path(w: &Workload, probability: f64, excluded: &[bool], arms: Vec<(usize, usize)>) -> SubPath {
    let n = w.fragments.len();
    let kept: Vec<usize> = (0..n).filter(|&f| !excluded[f]).collect();
    let mut index = vec![usize::MAX; n];
    for (i, &f) in kept.iter().enumerate() {
        index[f] = i;
    }
    // The taken arms' probabilities are certain on this path.
    let mut scale = vec![1.0; n];
    for &(b, arm) in &arms {
        let branch = &w.branches[b];
        for &f in &branch.arms[arm] {
            if f < n && branch.probabilities[arm] > 0.0 {
                scale[f] /= branch.probabilities[arm];
            }
        }
    }
    let mut preds: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for e in &w.edges {
        preds[e.to].push((e.from, e.bytes));
    }
    let mut edges: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for &to in &kept {
        for &(from, bytes) in &preds[to] {
            // Kept producers directly; dropped ones stand for their own producers.
            let mut stack = vec![from];
            let mut seen = vec![false; n];
            while let Some(g) = stack.pop() {
                if std::mem::replace(&mut seen[g], true) {
                    continue;
                }
                if excluded[g] {
                    stack.extend(preds[g].iter().map(|&(q, _)| q));
                } else if g != to {
                    let entry = edges.entry((index[g], index[to])).or_insert(bytes);
                    *entry = entry.max(bytes);
                }
            }
        }
    }
    let fragments = kept
        .iter()
        .map(|&f| {
            let mut fragment = w.fragments[f].clone();
            fragment.weight *= scale[f];
            fragment
        })
        .collect();
    let workload = Workload {
        fragments,
        edges: edges.into_iter().map(|((from, to), bytes)| Edge { from, to, bytes }).collect(),
        models: w.models.clone(),
        branches: Vec::new(),
    };
    SubPath { arms, probability, kept, workload }
}

/// Re-times `t`'s assignment restricted to `sub`.
fn time_path(p: &Problem, t: &Timing, sub: &SubPath) -> Option<f64> {
    let q = Problem::new(&sub.workload, p.target).ok()?;
    let assign: Option<Vec<usize>> = sub
        .kept
        .iter()
        .map(|&f| {
            let unit = &p.units[t.unit[f]];
            q.units.iter().position(|u| u.name == unit.name && u.precision == unit.precision)
        })
        .collect();
    list_schedule(&q, Mode::Fixed(&assign?)).ok().map(|timing| timing.makespan)
}
