//! Replicas for an arrival rate: the throughput-aware half of placement (issue 11, item 2).
//! The schedule places one request; under load each unit it uses is a **pool** that may
//! need copies of itself. A pool's offered load is the unit time the rate asks of it,
//! from the simulator's own cost figures ([`setup`]):
//!
//! - a prefill, encode, compute or other job: `rate × executions per request × its
//!   batch-1 seconds` (the fragment time the engine runs it for);
//! - a decode: `rate × tokens per request × token_seconds`, where `token_seconds` is one
//!   step of the largest batch the unit's KV budget holds (full contexts, in whole blocks,
//!   at most `--max-batch`; models decoding on one unit split the budget evenly), at the
//!   generation's mean context, divided by that batch: the engine's batched roofline,
//!   [`setup::roofline`]. It is the fraction of the unit's decode capacity in use.
//!
//! The greedy choice: while some pool's load per replica is above `max_utilisation`, the
//! most loaded one gets one more replica: the lowest-numbered unit of the same kind
//! (identical devices, same tensor-parallel degree and precision) on devices no used
//! unit holds, on which every fragment of the pool may run (kind, pin, memory) and
//! whose memory holds the pool's models' weights plus one request's KV cache. A pool with
//! no such unit left stops growing; if it is still over the target the fleet cannot carry
//! the rate ([`SimError::FleetTooSmall`]).
//!
//! What the greedy does not do: change a pool's kind, TP degree or precision (a wider
//! group, or another device type, might carry the rate with fewer dollars), move a phase
//! to another pool, count KV recomputation or the links' load, or trade replicas between
//! pools for price: it adds the fewest replicas each pool needs, most loaded first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::cost::Problem;
use crate::graph::Workload;
use crate::schedule::Schedule;
use crate::simulate::SimError;
use crate::simulate::setup::{self, FragSpec, Role};
use crate::target::{Device, Target, fragment_kind_name};

/// The default ceiling on a pool's planned utilisation per replica. At 0.8 an M/D/1
/// prefill queue waits two service times on average (`ρ / (2(1 − ρ))`), at 0.9 four and a
/// half: 0.8 is below the knee of the queueing curve and leaves a fifth of each unit for
/// the bursts of Poisson arrivals, the usual headroom of a serving fleet.
pub const DEFAULT_MAX_UTILISATION: f64 = 0.8;

/// One unit of the schedule and its replicas: the fragments placed on the unit run on
/// any of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pool {
    /// The units (indices into the problem's units): the schedule's first, then the
    /// replicas in the order they were added.
    pub units: Vec<usize>,
    /// The units' names, in the same order.
    pub names: Vec<String>,
    /// What it serves: `prefill of big`, `decode of big`, `encode of emb`, `compute`, in
    /// fragment order.
    pub serves: Vec<String>,
    /// The fragments placed on it that hold a unit (jobs, prefills, decodes).
    pub fragments: Vec<usize>,
    /// Unit-seconds of work one request asks of the pool on the schedule's unit.
    pub seconds_per_request: f64,
    /// The schedule's unit (index into the problem's units) the pool's fragments were
    /// placed on; a fleet ([`crate::simulate::fleet`]) may run them elsewhere only.
    pub placed: usize,
    /// The schedule unit's name.
    pub placed_name: String,
    /// Per unit of `units`, the unit-seconds one request asks of it (each equals
    /// `seconds_per_request` when every unit is of the schedule's kind).
    pub unit_seconds: Vec<f64>,
}

impl Pool {
    /// The planned utilisation of each replica at `rate` requests per second, the rate
    /// split across the units in proportion to their speed (`rate / Σ 1/seconds`).
    pub fn utilisation_at(&self, rate: f64) -> f64 {
        if self.unit_seconds.iter().all(|&s| s == self.seconds_per_request) {
            return rate * self.seconds_per_request / self.units.len() as f64;
        }
        let capacity: f64 = self.unit_seconds.iter().map(|&s| if s > 0.0 { 1.0 / s } else { f64::INFINITY }).sum();
        if capacity > 0.0 { rate / capacity } else { f64::INFINITY }
    }
}

/// The replicas chosen for a rate: what [`crate::simulate::simulate`] runs when
/// [`crate::simulate::SimOptions::replicas`] holds one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaPlan {
    /// Requests per second the plan is for.
    pub rate: f64,
    /// The utilisation target replicas were added for; `None`: one unit per pool.
    pub max_utilisation: Option<f64>,
    /// The pools, by their schedule unit's index.
    pub pools: Vec<Pool>,
    /// Per fragment, unit-seconds one generated token takes at the largest batch its unit
    /// holds (decodes; 0 for other fragments).
    pub token_seconds: Vec<f64>,
    /// `(fragment, unit, seconds)`: a decode's unit-seconds per token on a unit of
    /// another kind than its schedule unit (a fleet's); `token_seconds` elsewhere.
    pub token_seconds_on: Vec<(usize, usize, f64)>,
    /// Whether its unit indices are those of [`Problem::offering_every_precision`] (a
    /// fleet offered every quantized format) rather than [`Problem::new`].
    pub every_precision: bool,
}

impl ReplicaPlan {
    /// The pool of every fragment that holds a unit (`None` for delays).
    pub fn pool_of(&self, fragments: usize) -> Vec<Option<usize>> {
        let mut of = vec![None; fragments];
        for (i, pool) in self.pools.iter().enumerate() {
            for &f in &pool.fragments {
                if f < fragments {
                    of[f] = Some(i);
                }
            }
        }
        of
    }
}

/// The replicas of `schedule`'s units for `rate` requests per second: with
/// `max_utilisation`, as many as each pool needs to stay at or under it (see the module
/// documentation); without, one unit per pool (the schedule as placed, with its loads).
pub fn choose(
    w: &Workload,
    schedule: &Schedule,
    target: &Target,
    rate: f64,
    max_batch: usize,
    max_utilisation: Option<f64>,
) -> Result<ReplicaPlan, SimError> {
    let p = Problem::new(w, target).map_err(SimError::Schedule)?;
    let specs = setup::fragment_specs(w, schedule, &p)?;
    plan(w, &p, &specs, rate, max_batch, max_utilisation)
}

/// [`choose`] over the problem and fragment specs the simulator has already read.
pub(crate) fn plan(
    w: &Workload,
    p: &Problem,
    specs: &[FragSpec],
    rate: f64,
    max_batch: usize,
    max_utilisation: Option<f64>,
) -> Result<ReplicaPlan, SimError> {
    if !(rate.is_finite() && rate >= 0.0) {
        return Err(SimError::Plan(format!("a rate must be a non-negative number of requests per second, got {rate}")));
    }
    if let Some(t) = max_utilisation
        && !(t > 0.0 && t <= 1.0)
    {
        return Err(SimError::Plan(format!("a utilisation target must be in (0, 1], got {t}")));
    }
    let models_on = setup::models_on_units(specs);
    let capacity = setup::kv_capacities(&models_on, p);
    let token_seconds: Vec<f64> =
        (0..specs.len()).map(|f| token_seconds(w, p, specs, capacity[specs[f].unit], f, specs[f].unit, max_batch)).collect();
    let mut pools = schedule_pools(w, p, specs);
    for pool in &mut pools {
        pool.seconds_per_request = pool
            .fragments
            .iter()
            .map(|&f| w.fragments[f].weight * execution_seconds(&specs[f], specs[f].seconds, token_seconds[f]))
            .sum();
        pool.unit_seconds = vec![pool.seconds_per_request];
    }
    let mut plan = ReplicaPlan { rate, max_utilisation, pools, token_seconds, token_seconds_on: Vec::new(), every_precision: false };
    if let Some(target) = max_utilisation {
        grow(p, specs, &models_on, &mut plan, target)?;
    }
    Ok(plan)
}

/// The pools of a schedule: one per unit it placed work on that holds a unit (jobs,
/// prefills, decodes), by unit index, with what they serve; no loads yet.
pub(crate) fn schedule_pools(w: &Workload, p: &Problem, specs: &[FragSpec]) -> Vec<Pool> {
    let mut pools: BTreeMap<usize, Pool> = BTreeMap::new();
    for (f, s) in specs.iter().enumerate() {
        if s.role == Role::Delay {
            continue;
        }
        let pool = pools.entry(s.unit).or_insert_with(|| Pool {
            units: vec![s.unit],
            names: vec![p.units[s.unit].name.clone()],
            serves: Vec::new(),
            fragments: Vec::new(),
            seconds_per_request: 0.0,
            placed: s.unit,
            placed_name: p.units[s.unit].name.clone(),
            unit_seconds: Vec::new(),
        });
        let fragment = &w.fragments[f];
        let kind = fragment_kind_name(fragment.kind);
        let label = fragment.model.map_or_else(|| kind.to_string(), |m| format!("{kind} of {}", w.models[m].name));
        if !pool.serves.contains(&label) {
            pool.serves.push(label);
        }
        pool.fragments.push(f);
    }
    pools.into_values().collect()
}

/// Unit-seconds one execution of a fragment asks of a unit: a decode's tokens at
/// `token_seconds` each, another job's `seconds`; 0 for a delay.
pub(crate) fn execution_seconds(s: &FragSpec, seconds: f64, token_seconds: f64) -> f64 {
    match s.role {
        Role::Delay => 0.0,
        Role::Decode { .. } => decode_tokens(s) * token_seconds,
        Role::Job | Role::Prefill { .. } => seconds,
    }
}

/// Tokens one execution of a decode generates (as the engine counts them).
fn decode_tokens(s: &FragSpec) -> f64 {
    s.tokens.round().max(1.0)
}

/// Unit-seconds per generated token of decode `f` on unit `u` (its schedule unit, or a
/// unit a fleet may run its pool on) with `capacity` bytes of KV cache, at the largest
/// batch that holds: `step(B) / B` with `B = min(max_batch, ⌊budget / full context⌋)` (at
/// least 1), every sequence at the generation's mean context; the models decoding in the
/// pool split the budget evenly.
pub(crate) fn token_seconds(w: &Workload, p: &Problem, specs: &[FragSpec], capacity: f64, f: usize, u: usize, max_batch: usize) -> f64 {
    let s = &specs[f];
    if !matches!(s.role, Role::Decode { .. }) {
        return 0.0;
    }
    let models: BTreeSet<Option<usize>> =
        specs.iter().filter(|q| q.unit == s.unit && matches!(q.role, Role::Decode { .. })).map(|q| q.model).collect();
    let budget = capacity / models.len().max(1) as f64;
    let context = setup::context_bytes(s).unwrap_or(0.0);
    let fit = if context > 0.0 { (budget / context).floor() } else { f64::INFINITY };
    let b = (max_batch as f64).min(fit).max(1.0);
    let n = decode_tokens(s);
    // A step reads kv·(c + 1) per sequence; over the generation c + 1 runs from
    // prompt + 1 to prompt + n: its mean is prompt + (n + 1) / 2.
    let mean_context = s.prompt + (n + 1.0) / 2.0;
    let weight_bytes = if u == s.unit { s.weight_bytes_per_step } else { setup::unit_figures(w, p, f, u).weight_bytes_per_step };
    let step = setup::roofline(w, p, u, f, b * s.flops_per_token, weight_bytes + b * s.kv_per_token * mean_context, b);
    step / b
}

/// Adds replicas, most loaded pool first, until every pool is at or under `target` per
/// replica or has no unit of its kind left.
fn grow(
    p: &Problem,
    specs: &[FragSpec],
    models_on: &BTreeMap<usize, BTreeSet<usize>>,
    plan: &mut ReplicaPlan,
    target: f64,
) -> Result<(), SimError> {
    let mut taken: BTreeSet<usize> = models_on.keys().flat_map(|&u| p.units[u].devices.iter().copied()).collect();
    let mut stuck = vec![false; plan.pools.len()];
    let rate = plan.rate;
    loop {
        let load = |i: usize| plan.pools[i].utilisation_at(rate);
        let Some(i) = (0..plan.pools.len())
            .filter(|&i| !stuck[i] && load(i) > target)
            .max_by(|&a, &b| load(a).total_cmp(&load(b)).then(b.cmp(&a)))
        else {
            break;
        };
        let pool = &plan.pools[i];
        let models = &models_on[&pool.units[0]];
        match (0..p.units.len()).find(|&v| can_replicate(p, specs, pool, models, v, &taken)) {
            Some(v) => {
                taken.extend(p.units[v].devices.iter().copied());
                let pool = &mut plan.pools[i];
                pool.units.push(v);
                pool.names.push(p.units[v].name.clone());
                pool.unit_seconds.push(pool.seconds_per_request);
            }
            None => stuck[i] = true,
        }
    }
    match (0..plan.pools.len())
        .filter(|&i| plan.pools[i].utilisation_at(rate) > target)
        .max_by(|&a, &b| plan.pools[a].utilisation_at(rate).total_cmp(&plan.pools[b].utilisation_at(rate)).then(b.cmp(&a)))
    {
        None => Ok(()),
        Some(i) => {
            let pool = &plan.pools[i];
            let carried = plan
                .pools
                .iter()
                .filter(|q| q.seconds_per_request > 0.0)
                .map(|q| target * q.units.len() as f64 / q.seconds_per_request)
                .fold(f64::INFINITY, f64::min);
            Err(SimError::FleetTooSmall {
                rate,
                unit: pool.names[0].clone(),
                serves: pool.serves.join(", "),
                replicas: pool.units.len(),
                utilisation: pool.utilisation_at(rate),
                max_utilisation: target,
                max_rate: carried,
            })
        }
    }
}

/// Whether unit `v` can be one more replica of `pool` (holding `models`): the same kind
/// as the pool's unit, on devices no used unit holds, running every fragment of the pool,
/// with memory for the weights and one request's KV cache (as the simulator budgets it).
fn can_replicate(
    p: &Problem,
    specs: &[FragSpec],
    pool: &Pool,
    models: &BTreeSet<usize>,
    v: usize,
    taken: &BTreeSet<usize>,
) -> bool {
    let (first, unit) = (&p.units[pool.units[0]], &p.units[v]);
    unit.precision == first.precision
        && unit.devices.len() == first.devices.len()
        && !unit.devices.iter().any(|d| taken.contains(d))
        && unit.devices.iter().all(|&d| same_device(&p.target.devices[d], &p.target.devices[first.devices[0]]))
        && can_serve(p, specs, &pool.fragments, models, v).is_some()
}

/// Whether unit `v` alone can serve the fragments `fragments` of a pool holding `models`:
/// every fragment may run there (kind, pin, memory) and its memory holds the models'
/// weights (at the unit's precision) plus one request's largest KV cache. `Some(KV
/// budget)`: the bytes left for KV cache when it holds nothing else.
pub(crate) fn can_serve(p: &Problem, specs: &[FragSpec], fragments: &[usize], models: &BTreeSet<usize>, v: usize) -> Option<f64> {
    let unit = &p.units[v];
    if fragments.iter().any(|&f| !p.feasible[f].contains(&v)) {
        return None;
    }
    let weights: f64 = models.iter().map(|&m| p.weight_share(m, v)).sum();
    let free: f64 = unit.devices.iter().map(|&d| (p.target.devices[d].mem_bytes - weights).max(0.0)).sum();
    let context = fragments.iter().filter_map(|&f| setup::context_bytes(&specs[f])).fold(0.0, f64::max);
    (unit.devices.iter().all(|&d| weights <= p.target.devices[d].mem_bytes) && context <= free).then_some(free)
}

/// Whether two devices are the same product with the same figures (their names, entries
/// and nodes aside).
pub(crate) fn same_device(a: &Device, b: &Device) -> bool {
    let anonymous = |d: &Device| Device { name: String::new(), group: String::new(), node: String::new(), ..d.clone() };
    anonymous(a) == anonymous(b)
}
