//! The fleet choice as a covering problem, solved exactly and heuristically
//! (docs/simulation.md, "A fleet for a rate"). Each pool needs units whose summed capacity
//! (requests/s each carries at the utilisation target) covers the rate; a unit is a group
//! of devices, units of all pools use disjoint devices, and the fleet's price per hour is
//! minimised.
//!
//! **Exact**: a MILP through `good_lp` with the pure-Rust `microlp` backend (the crate
//! the exact placement uses, docs/cost-model.md): a binary `y[i,c]` per pool `i` and
//! candidate unit `c`, `Σ_c min(cap[i,c], rate)·y[i,c] ≥ rate` and `Σ_c y[i,c] ≥ 1` per
//! pool, `Σ_{i,c ∋ d} y[i,c] ≤ 1` per device `d`, minimising `Σ price[c]·y[i,c]`. The
//! counts per kind are `n[i,kind] = Σ_{c of kind} y[i,c]`; binaries per unit rather than
//! integers per kind make the device constraint exact when groups of several sizes
//! overlap (a quad holds two pairs' devices). Only a solution proved optimal within the
//! time limit is used, so the output does not depend on the machine's speed.
//!
//! **Heuristic** ([`greedy`]): pools in turn (every order when there are at most
//! [`GREEDY_ORDERS_UP_TO`] pools), each covered by taking, among units on free devices,
//! the cheapest that covers what is left alone when it costs no more than the one of
//! lowest price per capacity, else the latter; then a repair pass drops units a pool does
//! not need and swaps a unit for a cheaper free one while the rate stays covered.

use good_lp::solvers::{Solution, SolutionStatus, SolverModel, WithTimeLimit};
use good_lp::{Expression, ProblemVariables, Variable, constraint, microlp, variable};
use serde::Serialize;

/// The most binaries (pools × candidate units) the exact solver is asked about.
pub const FLEET_MILP_BINARY_LIMIT: usize = 400;
/// Seconds the exact solver may take.
pub const FLEET_MILP_TIME_LIMIT_S: f64 = 10.0;
/// The heuristic tries every order of the pools up to this many pools (else two orders).
pub const GREEDY_ORDERS_UP_TO: usize = 5;

/// A unit one pool may run on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The unit (an index into the problem's units, or any id in a synthetic problem).
    pub unit: usize,
    /// Its devices.
    pub devices: Vec<usize>,
    /// USD per hour.
    pub price: f64,
    /// Requests per second it carries at the utilisation target.
    pub capacity: f64,
}

/// The covering problem: a rate, the pools' candidates, the number of devices.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetProblem {
    /// Requests per second each pool must carry.
    pub rate: f64,
    /// Devices of the target (device ids are below it).
    pub devices: usize,
    /// The target's device entries (a `[[device]]` entry on one node), each its devices
    /// in order; units are formed within one. May be empty (then every model is per unit).
    pub entries: Vec<Vec<usize>>,
    /// Per pool, its candidate units.
    pub pools: Vec<Vec<Candidate>>,
}

/// A fleet: per pool, the indices of its chosen candidates (ascending).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assignment {
    /// Per pool, indices into its candidates.
    pub chosen: Vec<Vec<usize>>,
    /// USD per hour of the chosen units.
    pub usd_per_hour: f64,
}

/// Why the exact solver gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExactSkip {
    /// More binaries than [`FLEET_MILP_BINARY_LIMIT`].
    TooLarge(usize),
    /// No fleet covers the rate.
    Infeasible,
    /// The solver found no proof of optimality within the time limit, or failed.
    NoProof(String),
}

impl FleetProblem {
    /// Binaries of the exact model.
    pub fn binaries(&self) -> usize {
        self.pools.iter().map(Vec::len).sum()
    }

    /// Whether `a` covers the rate in every pool with disjoint devices.
    pub fn feasible(&self, a: &Assignment) -> bool {
        let mut used = vec![false; self.devices];
        for (i, chosen) in a.chosen.iter().enumerate() {
            if chosen.is_empty() || self.capacity_of(i, chosen) < self.rate * (1.0 - 1e-9) {
                return false;
            }
            for &c in chosen {
                for &d in &self.pools[i][c].devices {
                    if d >= self.devices || std::mem::replace(&mut used[d], true) {
                        return false;
                    }
                }
            }
        }
        a.chosen.len() == self.pools.len()
    }

    /// The same fleet on the lowest-numbered candidates: each chosen unit, largest first
    /// (pools in order), traded for the first candidate of its pool with the same price,
    /// capacity and size on free devices; `None` when that does not place them all.
    fn lowest_numbered(&self, chosen: &[Vec<usize>]) -> Option<Vec<Vec<usize>>> {
        let mut order: Vec<(usize, usize)> = chosen.iter().enumerate().flat_map(|(i, cs)| cs.iter().map(move |&c| (i, c))).collect();
        order.sort_by(|a, b| self.pools[b.0][b.1].devices.len().cmp(&self.pools[a.0][a.1].devices.len()).then(a.cmp(b)));
        let mut used = vec![false; self.devices];
        let mut out = vec![Vec::new(); self.pools.len()];
        for (i, c) in order {
            let want = &self.pools[i][c];
            let pick = self.pools[i].iter().enumerate().position(|(o, cand)| {
                !out[i].contains(&o)
                    && cand.price == want.price
                    && cand.capacity == want.capacity
                    && cand.devices.len() == want.devices.len()
                    && cand.devices.iter().all(|&d| d < self.devices && !used[d])
            })?;
            for &d in &self.pools[i][pick].devices {
                used[d] = true;
            }
            out[i].push(pick);
        }
        Some(out)
    }

    fn capacity_of(&self, pool: usize, chosen: &[usize]) -> f64 {
        chosen.iter().map(|&c| self.pools[pool][c].capacity).sum()
    }

    fn price_of(&self, chosen: &[Vec<usize>]) -> f64 {
        chosen.iter().enumerate().map(|(i, cs)| cs.iter().map(|&c| self.pools[i][c].price).sum::<f64>()).sum()
    }

    fn assignment(&self, mut chosen: Vec<Vec<usize>>) -> Assignment {
        if let Some(canonical) = self.lowest_numbered(&chosen) {
            chosen = canonical;
        }
        for cs in &mut chosen {
            cs.sort_unstable();
        }
        let usd_per_hour = self.price_of(&chosen);
        Assignment { chosen, usd_per_hour }
    }
}

/// One integer column of the model: how many of `members` (interchangeable candidates of
/// one pool, in chunk order) the pool gets.
struct Column {
    pool: usize,
    var: Variable,
    members: Vec<usize>,
    /// Entry and devices per unit, for the per-entry form.
    entry: usize,
    size: usize,
}

/// The model's columns and device constraints. When every candidate is an aligned chunk
/// of a power-of-two number of devices of its entry and each pool's candidates of one
/// (entry, size, price, capacity) are every such chunk, a pool's units of one kind are
/// interchangeable: an integer count per kind and `Σ size·n ≤ entry size` per entry is
/// exact (power-of-two chunks pack, largest first, into aligned places) and has no
/// symmetric solutions. Otherwise a binary per candidate and `Σ ≤ 1` per device.
fn columns(fp: &FleetProblem, vars: &mut ProblemVariables) -> (Vec<Column>, Vec<(Expression, f64)>) {
    if let Some(groups) = kind_groups(fp) {
        let cols: Vec<Column> = groups
            .into_iter()
            .map(|g| {
                let var = vars.add(variable().integer().min(0.0).max(g.members.len() as f64));
                Column { pool: g.pool, var, members: g.members, entry: g.entry, size: g.size }
            })
            .collect();
        let mut limits = Vec::new();
        for (e, devices) in fp.entries.iter().enumerate() {
            let on: Vec<&Column> = cols.iter().filter(|c| c.entry == e).collect();
            if on.len() > 1 || on.iter().any(|c| c.size * c.members.len() > devices.len()) {
                let sum: Expression = on.iter().map(|c| Expression::from(c.var) * c.size as f64).sum();
                limits.push((sum, devices.len() as f64));
            }
        }
        return (cols, limits);
    }
    let mut cols = Vec::new();
    let mut on: Vec<Vec<Variable>> = vec![Vec::new(); fp.devices];
    for (i, cs) in fp.pools.iter().enumerate() {
        for (c, cand) in cs.iter().enumerate() {
            let var = vars.add(variable().binary());
            for &d in &cand.devices {
                if d < fp.devices {
                    on[d].push(var);
                }
            }
            cols.push(Column { pool: i, var, members: vec![c], entry: usize::MAX, size: cand.devices.len() });
        }
    }
    let limits = on.into_iter().filter(|v| v.len() > 1).map(|v| (v.into_iter().map(Expression::from).sum(), 1.0)).collect();
    (cols, limits)
}

/// A pool's candidates of one kind in one entry: every aligned group of `size` devices.
struct KindGroup {
    pool: usize,
    entry: usize,
    size: usize,
    /// `(price, capacity)` bits: candidates that differ in either are not one kind.
    figures: (u64, u64),
    /// `(chunk position, candidate)`, then candidates in chunk order.
    chunks: Vec<(usize, usize)>,
    members: Vec<usize>,
}

/// The per-kind groups when the per-entry form is exact (see [`columns`]); `None`
/// otherwise.
fn kind_groups(fp: &FleetProblem) -> Option<Vec<KindGroup>> {
    let mut entry_of = vec![usize::MAX; fp.devices];
    for (e, devices) in fp.entries.iter().enumerate() {
        for &d in devices {
            if d >= fp.devices || entry_of[d] != usize::MAX {
                return None;
            }
            entry_of[d] = e;
        }
    }
    let mut groups: Vec<KindGroup> = Vec::new();
    for (i, cs) in fp.pools.iter().enumerate() {
        for (c, cand) in cs.iter().enumerate() {
            let k = cand.devices.len();
            let e = *entry_of.get(*cand.devices.first()?)?;
            let entry = fp.entries.get(e)?;
            let start = entry.iter().position(|&d| d == cand.devices[0])?;
            if !k.is_power_of_two() || start % k != 0 || entry.get(start..start + k)? != cand.devices.as_slice() {
                return None;
            }
            let figures = (cand.price.to_bits(), cand.capacity.to_bits());
            match groups.iter_mut().find(|g| (g.pool, g.entry, g.size, g.figures) == (i, e, k, figures)) {
                Some(g) => g.chunks.push((start / k, c)),
                None => groups.push(KindGroup { pool: i, entry: e, size: k, figures, chunks: vec![(start / k, c)], members: Vec::new() }),
            }
        }
    }
    let mut out: Vec<KindGroup> = Vec::new();
    for mut g in groups {
        g.chunks.sort_unstable();
        let every = fp.entries[g.entry].len() / g.size;
        if g.chunks.len() != every || g.chunks.iter().enumerate().any(|(j, &(at, _))| at != j) {
            return None;
        }
        // Two groups of one pool, entry and size would compete for the same chunks.
        if out.iter().any(|o| (o.pool, o.entry, o.size) == (g.pool, g.entry, g.size)) {
            return None;
        }
        g.members = g.chunks.iter().map(|&(_, c)| c).collect();
        out.push(g);
    }
    Some(out)
}

/// The candidates each pool gets from the columns' values: a binary column's own, or
/// per entry the counts placed largest first at aligned chunks.
fn decode(fp: &FleetProblem, cols: &[Column], value: &dyn Fn(Variable) -> f64) -> Vec<Vec<usize>> {
    let mut chosen = vec![Vec::new(); fp.pools.len()];
    let mut per_entry: std::collections::BTreeMap<usize, Vec<(usize, usize, usize)>> = std::collections::BTreeMap::new();
    for (k, col) in cols.iter().enumerate() {
        let n = value(col.var).round().max(0.0) as usize;
        if col.entry == usize::MAX {
            if n > 0 {
                chosen[col.pool].push(col.members[0]);
            }
        } else if n > 0 {
            per_entry.entry(col.entry).or_default().push((col.size, k, n));
        }
    }
    for (_, mut demands) in per_entry {
        demands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut offset = 0;
        for (size, k, n) in demands {
            for _ in 0..n {
                if let Some(&c) = cols[k].members.get(offset / size) {
                    chosen[cols[k].pool].push(c);
                }
                offset += size;
            }
        }
    }
    chosen
}

/// The cheapest fleet, exactly (see the module documentation).
pub fn exact(fp: &FleetProblem, time_limit: f64) -> Result<Assignment, ExactSkip> {
    let n = fp.binaries();
    if n > FLEET_MILP_BINARY_LIMIT {
        return Err(ExactSkip::TooLarge(n));
    }
    if fp.pools.iter().any(Vec::is_empty) {
        return Err(ExactSkip::Infeasible);
    }
    let mut vars = ProblemVariables::new();
    let (cols, limits) = columns(fp, &mut vars);
    let price_scale = fp.pools.iter().flatten().map(|c| c.price).fold(0.0, f64::max).max(1e-12);
    let first = |col: &Column| &fp.pools[col.pool][col.members[0]];
    let objective: Expression = cols.iter().map(|col| Expression::from(col.var) * (first(col).price / price_scale)).sum();
    let mut model = vars.minimise(objective).using(microlp);
    for i in 0..fp.pools.len() {
        let mut covered = Expression::from(0.0);
        let mut count = Expression::from(0.0);
        for col in cols.iter().filter(|c| c.pool == i) {
            // Capped at the rate (one unit that carries it is enough): keeps the model's
            // numbers near 1 when a unit's capacity is huge.
            covered += Expression::from(col.var) * (first(col).capacity.min(fp.rate) / fp.rate);
            count += col.var;
        }
        model.add_constraint(constraint!(covered >= 1.0 - 1e-9));
        model.add_constraint(constraint!(count >= 1.0));
    }
    for (sum, limit) in limits {
        model.add_constraint(constraint!(sum <= limit));
    }
    let solution = match model.with_time_limit(time_limit).solve() {
        Ok(s) => s,
        Err(good_lp::ResolutionError::Infeasible) => return Err(ExactSkip::Infeasible),
        Err(e) => return Err(ExactSkip::NoProof(e.to_string())),
    };
    if !matches!(solution.status(), SolutionStatus::Optimal) {
        return Err(ExactSkip::NoProof(format!("no proof of optimality within {time_limit} s")));
    }
    let a = fp.assignment(decode(fp, &cols, &|v| solution.value(v)));
    if !fp.feasible(&a) {
        return Err(ExactSkip::NoProof("the solver's answer does not cover the rate".to_string()));
    }
    Ok(a)
}

/// The highest rate some fleet carries (every pool's capacity at least it), exactly when
/// the model is small enough (a MILP maximising the rate), else by bisection with
/// [`greedy`]; 0 when a pool has no candidate.
pub fn max_rate(fp: &FleetProblem, time_limit: f64) -> f64 {
    if fp.pools.iter().any(Vec::is_empty) {
        return 0.0;
    }
    let upper: f64 = fp.pools.iter().map(|cs| cs.iter().map(|c| c.capacity).sum::<f64>()).fold(f64::INFINITY, f64::min);
    if !upper.is_finite() || upper <= 0.0 {
        return upper.max(0.0);
    }
    if fp.binaries() <= FLEET_MILP_BINARY_LIMIT {
        let mut vars = ProblemVariables::new();
        let (cols, limits) = columns(fp, &mut vars);
        let t = vars.add(variable().min(0.0).max(1.0));
        let mut model = vars.maximise(Expression::from(t)).using(microlp);
        for i in 0..fp.pools.len() {
            let covered: Expression =
                cols.iter().filter(|c| c.pool == i).map(|c| Expression::from(c.var) * (fp.pools[i][c.members[0]].capacity / upper)).sum();
            model.add_constraint(constraint!(covered >= t));
        }
        for (sum, limit) in limits {
            model.add_constraint(constraint!(sum <= limit));
        }
        if let Ok(solution) = model.with_time_limit(time_limit).solve()
            && matches!(solution.status(), SolutionStatus::Optimal)
        {
            // The carried rate of the chosen units, not the LP's rounded t.
            let chosen = decode(fp, &cols, &|v| solution.value(v));
            return chosen.iter().enumerate().map(|(i, cs)| fp.capacity_of(i, cs)).fold(f64::INFINITY, f64::min);
        }
    }
    let (mut lo, mut hi) = (0.0, upper);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if greedy(&FleetProblem { rate: mid, ..fp.clone() }).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A cheap fleet by the greedy and repair of the module documentation; `None` when it
/// finds none (a fleet may still exist).
pub fn greedy(fp: &FleetProblem) -> Option<Assignment> {
    let n = fp.pools.len();
    let orders: Vec<Vec<usize>> = if n <= GREEDY_ORDERS_UP_TO {
        permutations(n)
    } else {
        // The pools whose cheapest cover is dearest first, then the given order.
        let mut by_need: Vec<usize> = (0..n).collect();
        let need = |i: usize| fp.pools[i].iter().map(|c| c.price / c.capacity.max(1e-300)).fold(f64::INFINITY, f64::min) * fp.rate;
        by_need.sort_by(|&a, &b| need(b).total_cmp(&need(a)).then(a.cmp(&b)));
        vec![by_need, (0..n).collect()]
    };
    let mut best: Option<Assignment> = None;
    for order in orders {
        let Some(chosen) = cover_in(fp, &order) else { continue };
        let a = fp.assignment(repair(fp, chosen));
        if best.as_ref().is_none_or(|b| a.usd_per_hour < b.usd_per_hour - 1e-12) {
            best = Some(a);
        }
    }
    best
}

/// Every order of `0..n`, in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..n).collect();
    loop {
        out.push(current.clone());
        // The next permutation (lexicographic), or stop.
        let Some(i) = (1..n).rev().find(|&i| current[i - 1] < current[i]) else { break };
        let j = (i..n).rev().find(|&j| current[j] > current[i - 1]).unwrap_or(i);
        current.swap(i - 1, j);
        current[i..].reverse();
    }
    out
}

/// Covers the pools in `order`, each from the units on devices still free.
fn cover_in(fp: &FleetProblem, order: &[usize]) -> Option<Vec<Vec<usize>>> {
    let mut used = vec![false; fp.devices];
    let mut chosen = vec![Vec::new(); fp.pools.len()];
    let free = |used: &[bool], c: &Candidate| c.devices.iter().all(|&d| d < used.len() && !used[d]);
    for &i in order {
        let mut left = fp.rate;
        while left > fp.rate * 1e-9 || chosen[i].is_empty() {
            let open: Vec<usize> = (0..fp.pools[i].len()).filter(|&c| free(&used, &fp.pools[i][c])).collect();
            let cand = |c: usize| &fp.pools[i][c];
            let ratio = open.iter().copied().min_by(|&a, &b| {
                (cand(a).price / cand(a).capacity.max(1e-300)).total_cmp(&(cand(b).price / cand(b).capacity.max(1e-300))).then(a.cmp(&b))
            })?;
            let cover = open
                .iter()
                .copied()
                .filter(|&c| cand(c).capacity >= left * (1.0 - 1e-9))
                .min_by(|&a, &b| cand(a).price.total_cmp(&cand(b).price).then(a.cmp(&b)));
            let pick = match cover {
                Some(c) if cand(c).price <= cand(ratio).price => c,
                _ => ratio,
            };
            for &d in &cand(pick).devices {
                used[d] = true;
            }
            chosen[i].push(pick);
            left -= cand(pick).capacity;
        }
    }
    Some(chosen)
}

/// Drops units a pool does not need and swaps a unit for a cheaper one on free devices
/// (or on its own), while every pool stays covered, until nothing improves.
fn repair(fp: &FleetProblem, mut chosen: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    loop {
        let mut used = vec![false; fp.devices];
        for (i, cs) in chosen.iter().enumerate() {
            for &c in cs {
                for &d in &fp.pools[i][c].devices {
                    used[d] = true;
                }
            }
        }
        // The best single move: (saving, pool, position, replacement).
        let mut best: Option<(f64, usize, usize, Option<usize>)> = None;
        for (i, cs) in chosen.iter().enumerate() {
            let capacity = fp.capacity_of(i, cs);
            for (k, &c) in cs.iter().enumerate() {
                let here = &fp.pools[i][c];
                let rest = capacity - here.capacity;
                let mut consider = |saving: f64, with: Option<usize>| {
                    if saving > 1e-12 && best.is_none_or(|b| saving > b.0 + 1e-12) {
                        best = Some((saving, i, k, with));
                    }
                };
                if cs.len() > 1 && rest >= fp.rate * (1.0 - 1e-9) {
                    consider(here.price, None);
                }
                for (o, other) in fp.pools[i].iter().enumerate() {
                    if cs.contains(&o) || rest + other.capacity < fp.rate * (1.0 - 1e-9) {
                        continue;
                    }
                    if other.devices.iter().all(|&d| d < fp.devices && (!used[d] || here.devices.contains(&d))) {
                        consider(here.price - other.price, Some(o));
                    }
                }
            }
        }
        let Some((_, i, k, with)) = best else { return chosen };
        match with {
            Some(o) => chosen[i][k] = o,
            None => {
                chosen[i].remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(unit: usize, devices: Vec<usize>, price: f64, capacity: f64) -> Candidate {
        Candidate { unit, devices, price, capacity }
    }

    #[test]
    fn the_cheaper_kind_per_capacity_is_chosen() {
        // Kind A: $2/h carrying 1 req/s; kind B: $3/h carrying 2 req/s. At 4 req/s two B
        // ($6) beat four A ($8) and any mix (1 B + 2 A: $7).
        let mut pool = Vec::new();
        for d in 0..4 {
            pool.push(cand(d, vec![d], 2.0, 1.0));
        }
        for d in 4..8 {
            pool.push(cand(d, vec![d], 3.0, 2.0));
        }
        let fp = FleetProblem { rate: 4.0, devices: 8, entries: Vec::new(), pools: vec![pool] };
        let e = exact(&fp, 10.0).expect("an optimum");
        assert_eq!(e.chosen, vec![vec![4, 5]]);
        assert!((e.usd_per_hour - 6.0).abs() < 1e-9);
        let g = greedy(&fp).expect("a fleet");
        assert!((g.usd_per_hour - 6.0).abs() < 1e-9, "{g:?}");
    }

    #[test]
    fn a_device_limit_forces_a_mix() {
        // Only two of the cheap kind exist (1 req/s each, $1/h) and the rate is 3: the
        // third request per second needs the dear kind ($5/h, 1 req/s).
        let pool = vec![cand(0, vec![0], 1.0, 1.0), cand(1, vec![1], 1.0, 1.0), cand(2, vec![2], 5.0, 1.0), cand(3, vec![3], 5.0, 1.0)];
        let fp = FleetProblem { rate: 3.0, devices: 4, entries: Vec::new(), pools: vec![pool] };
        let e = exact(&fp, 10.0).expect("an optimum");
        assert_eq!(e.chosen, vec![vec![0, 1, 2]]);
        assert!((e.usd_per_hour - 7.0).abs() < 1e-9);
        assert_eq!(greedy(&fp).expect("a fleet").usd_per_hour, 7.0);
        // Two pools wanting the same cheap devices: the optimum gives them to the pool
        // whose alternative is dearer.
        let a = vec![cand(0, vec![0], 1.0, 1.0), cand(1, vec![1], 2.0, 1.0)];
        let b = vec![cand(0, vec![0], 1.0, 1.0), cand(2, vec![2], 9.0, 1.0)];
        let fp = FleetProblem { rate: 1.0, devices: 3, entries: Vec::new(), pools: vec![a, b] };
        let e = exact(&fp, 10.0).expect("an optimum");
        assert_eq!(e.chosen, vec![vec![1], vec![0]]);
        assert_eq!(e.usd_per_hour, 3.0);
        assert_eq!(greedy(&fp).expect("a fleet").usd_per_hour, 3.0);
    }

    #[test]
    fn overlapping_groups_share_devices_exactly() {
        // A quad over devices 0..4 and two pairs over the same devices: two pools can
        // have the two pairs, never a pair and the quad.
        let pool = vec![cand(0, vec![0, 1], 2.0, 1.0), cand(1, vec![2, 3], 2.0, 1.0), cand(2, vec![0, 1, 2, 3], 3.0, 3.0)];
        let fp = FleetProblem { rate: 1.0, devices: 4, entries: vec![vec![0, 1, 2, 3]], pools: vec![pool.clone(), pool.clone()] };
        let e = exact(&fp, 10.0).expect("an optimum");
        assert!(fp.feasible(&e));
        assert_eq!(e.usd_per_hour, 4.0);
        // At 2 req/s one pool needs the quad or both pairs: no fleet for both.
        let fp = FleetProblem { rate: 2.0, devices: 4, entries: vec![vec![0, 1, 2, 3]], pools: vec![pool.clone(), pool] };
        assert_eq!(exact(&fp, 10.0), Err(ExactSkip::Infeasible));
        assert!(greedy(&fp).is_none());
        assert!((max_rate(&fp, 10.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn too_large_is_left_to_the_heuristic() {
        let pool: Vec<Candidate> = (0..FLEET_MILP_BINARY_LIMIT + 1).map(|d| cand(d, vec![d], 1.0, 1.0)).collect();
        let fp = FleetProblem { rate: 1.0, devices: FLEET_MILP_BINARY_LIMIT + 1, entries: Vec::new(), pools: vec![pool] };
        assert_eq!(exact(&fp, 1.0), Err(ExactSkip::TooLarge(FLEET_MILP_BINARY_LIMIT + 1)));
        assert_eq!(greedy(&fp).expect("a fleet").chosen, vec![vec![0]]);
    }

    #[test]
    fn permutations_are_all_orders() {
        assert_eq!(permutations(3), vec![vec![0, 1, 2], vec![0, 2, 1], vec![1, 0, 2], vec![1, 2, 0], vec![2, 0, 1], vec![2, 1, 0]]);
        assert_eq!(permutations(0), vec![Vec::<usize>::new()]);
    }
}
