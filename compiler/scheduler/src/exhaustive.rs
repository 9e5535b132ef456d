//! Exhaustive search over every unit assignment and every topological order, each timed
//! by the list scheduler in that order: the true optimum under the cost model (any
//! schedule is reproduced or bettered by timing its assignment in its start order). Only
//! for tiny workloads; the tests check the exact MILP ([`crate::milp`]) against it.

use crate::cost::Problem;
use crate::heft::{Mode, Timing, list_schedule_in};
use crate::schedule::Objective;

/// The most assignment × order combinations it will time.
pub const EXHAUSTIVE_LIMIT: u64 = 200_000;

/// The best schedule of `p` for `objective` (makespan, or money with the makespan as a
/// tie-break), or `None` when the search space exceeds [`EXHAUSTIVE_LIMIT`] or nothing
/// fits in memory.
pub fn exhaustive(p: &Problem, objective: Objective) -> Option<Timing> {
    let n = p.len();
    let orders = topological_orders(p);
    let assignments: u64 = p.feasible.iter().map(|u| u.len() as u64).product();
    if assignments.saturating_mul(orders.len() as u64) > EXHAUSTIVE_LIMIT {
        return None;
    }
    let mut best: Option<Timing> = None;
    let mut assign = vec![0usize; n];
    let key = |t: &Timing| match objective {
        Objective::Latency => (t.makespan, t.cost),
        Objective::Cost => (t.cost, t.makespan),
    };
    let mut digits = vec![0usize; n];
    loop {
        for f in 0..n {
            assign[f] = p.feasible[f][digits[f]];
        }
        for order in &orders {
            if let Ok(t) = list_schedule_in(p, Mode::Fixed(&assign), order) {
                let better = best.as_ref().is_none_or(|b| {
                    let (a, b) = (key(&t), key(b));
                    a.0 < b.0 * (1.0 - 1e-12) || (a.0 <= b.0 * (1.0 + 1e-12) && a.1 < b.1)
                });
                if better {
                    best = Some(t);
                }
            }
        }
        // Next assignment (odometer).
        let mut f = 0;
        loop {
            if f == n {
                return best;
            }
            digits[f] += 1;
            if digits[f] < p.feasible[f].len() {
                break;
            }
            digits[f] = 0;
            f += 1;
        }
    }
}

/// Every topological order of the fragment graph.
fn topological_orders(p: &Problem) -> Vec<Vec<usize>> {
    fn walk(p: &Problem, indeg: &mut Vec<usize>, done: &mut Vec<bool>, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if prefix.len() == p.len() {
            out.push(prefix.clone());
            return;
        }
        for f in 0..p.len() {
            if done[f] || indeg[f] > 0 {
                continue;
            }
            done[f] = true;
            prefix.push(f);
            for &(g, _) in &p.succs[f] {
                indeg[g] -= 1;
            }
            walk(p, indeg, done, prefix, out);
            for &(g, _) in &p.succs[f] {
                indeg[g] += 1;
            }
            prefix.pop();
            done[f] = false;
        }
    }
    let mut indeg: Vec<usize> = p.preds.iter().map(Vec::len).collect();
    let mut out = Vec::new();
    walk(p, &mut indeg, &mut vec![false; p.len()], &mut Vec::new(), &mut out);
    out
}
