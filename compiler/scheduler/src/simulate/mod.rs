//! `agentc simulate`: a discrete-event simulation of many requests of one workflow over
//! its placed plan (docs/simulation.md). Requests arrive by a seeded Poisson process or a
//! trace ([`arrivals`]); each takes one path through the `if`s (arms drawn by their
//! probabilities) and runs its fragments where the schedule put them, loops by their trip
//! counts ([`requests`]); every unit is an iteration-level batching engine with a paged
//! KV cache, admission and preemption by recompute ([`engine`], [`kv`]); a prefill and
//! a decode on different units move the KV cache over the modelled link. Each unit of the
//! schedule may have replicas chosen for the rate ([`replicas`]), or each pool a fleet of
//! units of several kinds chosen for the rate and price ([`fleet`]); a fragment then goes
//! to one of them by the rule of [`routing`]. The result is
//! summarised by [`report`] (table, JSON) and a rate sweep is drawn by [`svg`].
//! Deterministic: the same inputs and seed give the same numbers.

pub mod arrivals;
mod engine;
pub mod fleet;
pub mod fleet_solve;
pub mod kv;
pub mod report;
pub mod replicas;
mod requests;
mod routing;
mod setup;
pub mod svg;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::fmt;

use serde::Serialize;

use crate::cost::Problem;
use crate::error::ScheduleError;
use crate::graph::Workload;
use crate::schedule::Schedule;
use crate::target::Target;

pub use arrivals::{Rng, TraceError, parse_trace, poisson};
pub use replicas::{DEFAULT_MAX_UTILISATION, Pool, ReplicaPlan};
pub use report::{SimReport, to_json, to_table};

/// The default cap on sequences decoded together on one unit per model (vLLM's
/// `max_num_seqs` default is 256).
pub const DEFAULT_MAX_BATCH: usize = 256;

/// How to simulate.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Arrival times in seconds, non-decreasing.
    pub arrivals: Vec<f64>,
    /// Seeds the branch and trip-count draws.
    pub seed: u64,
    /// The most sequences of one model decoded in one step on one unit.
    pub max_batch: usize,
    /// The replicas of the schedule's units ([`replicas::choose`] for this workload,
    /// schedule and target); `None`: one unit each, as the schedule placed them.
    pub replicas: Option<ReplicaPlan>,
    /// How a unit runs concurrent calls: batched, or each on its own and sharing it.
    pub batching: Batching,
}

/// How a unit runs the calls it holds at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Batching {
    /// Iteration-level batching, as Orca and vLLM: one decode step of every running
    /// sequence of a model reads the weights once; prefills go first, one at a time.
    #[default]
    Continuous,
    /// No batching, as agentc's CPU runtime runs concurrent model calls (each on its own
    /// thread, every kernel at batch 1, sharing the cores): each round runs every waiting
    /// job and one batch-1 step of every running sequence together, sharing the unit, so
    /// the round takes the sum of their times (processor sharing, one step a quantum); on
    /// a CPU device whose target gives its `cores` and `busy_cores_per_call`, the round
    /// shares the cores instead ([`shared_round_seconds`]).
    Off,
}

/// Seconds a round of `items` takes on a unit of `cores` cores when they run together:
/// each item is `(seconds alone, cores it keeps busy alone)`. Processor sharing of the
/// cores: while items with busy cores summing to U run, each progresses at
/// `min(1, cores / U)` of its speed alone, so they all advance alike and the shortest
/// ends first; the round ends with the last. With every item's busy cores at `cores` this
/// is the sum of their times; with k items of u busy cores and `k·u ≤ cores`, the longest.
/// Items with no time take none; an empty round takes 0.
pub fn shared_round_seconds(items: &[(f64, f64)], cores: f64) -> f64 {
    let mut items: Vec<(f64, f64)> = items.iter().copied().filter(|&(t, _)| t > 0.0).collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut busy: f64 = items.iter().map(|&(_, u)| u).sum();
    let (mut elapsed, mut progress) = (0.0, 0.0);
    for &(t, u) in &items {
        let speed = if busy > cores { cores / busy } else { 1.0 };
        elapsed += (t - progress) / speed;
        progress = t;
        busy -= u;
    }
    elapsed
}

impl SimOptions {
    /// The most sequences one decode step serves: `max_batch`, or 1 without batching.
    pub fn effective_batch(&self) -> usize {
        match self.batching {
            Batching::Continuous => self.max_batch.max(1),
            Batching::Off => 1,
        }
    }
}

/// Why a simulation cannot run.
#[derive(Clone, Debug, PartialEq)]
pub enum SimError {
    /// The schedule does not fit the workload and target it is given with.
    Plan(String),
    /// The workload could not be set up on the target.
    Schedule(ScheduleError),
    /// One request's KV cache is larger than its unit's free memory.
    KvDoesNotFit {
        /// The fragment.
        fragment: String,
        /// Its unit.
        unit: String,
        /// Bytes one request needs.
        need: f64,
        /// Bytes the unit has for KV.
        capacity: f64,
    },
    /// Even with a replica on every free unit of its kind, a pool would run above the
    /// utilisation target at the rate.
    FleetTooSmall {
        /// Requests per second asked for.
        rate: f64,
        /// The pool's schedule unit.
        unit: String,
        /// What it serves (`decode of big`).
        serves: String,
        /// Units it has (the schedule's and its replicas).
        replicas: usize,
        /// Its planned utilisation per replica at `rate`.
        utilisation: f64,
        /// The target.
        max_utilisation: f64,
        /// The highest rate the chosen replicas carry at the target.
        max_rate: f64,
    },
    /// No fleet of the target's units carries the rate at the utilisation target (and
    /// the SLA): [`fleet::choose`].
    FleetInfeasible {
        /// Requests per second asked for.
        rate: f64,
        /// The utilisation target.
        max_utilisation: f64,
        /// The highest rate some fleet of the target carries at the target.
        max_rate: f64,
        /// What limits it (the pool that runs out of units, or has none).
        reason: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Plan(message) => write!(f, "{message}"),
            SimError::Schedule(error) => write!(f, "{error}"),
            SimError::KvDoesNotFit { fragment, unit, need, capacity } => write!(
                f,
                "the KV cache of one request of `{fragment}` ({} in whole blocks of {} tokens) does not fit the {} `{unit}` has left after its weights",
                crate::report::format_bytes(*need),
                kv::BLOCK_TOKENS,
                crate::report::format_bytes(*capacity)
            ),
            SimError::FleetTooSmall { rate, unit, serves, replicas, utilisation, max_utilisation, max_rate } => write!(
                f,
                "the fleet cannot carry {rate} requests/s: the pool of `{unit}` ({serves}) would run at {utilisation:.3} of each of its {replicas} unit{} (every free unit of its kind), above the utilisation target {max_utilisation}; these replicas carry at most {max_rate:.3} requests/s",
                if *replicas == 1 { "" } else { "s" }
            ),
            SimError::FleetInfeasible { rate, max_utilisation, max_rate, reason } => write!(
                f,
                "no fleet of this target carries {rate} requests/s at utilisation {max_utilisation}: {reason}; the most it carries is {max_rate:.3} requests/s"
            ),
        }
    }
}

/// One finished request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestRecord {
    /// When it arrived, seconds.
    pub arrival: f64,
    /// When its last fragment finished.
    pub finish: f64,
    /// Time to first token: arrival to the end of its first generate call's prefill
    /// (the prefill's logits give the first token); `None` without a generate call.
    pub ttft: Option<f64>,
    /// Time per output token over its generate calls (decode time / tokens decoded).
    pub tpot: Option<f64>,
    /// Tokens it generated.
    pub tokens: f64,
    /// The path it took (index into [`SimResult::paths`]).
    pub path: usize,
}

impl RequestRecord {
    /// End-to-end latency.
    pub fn latency(&self) -> f64 {
        self.finish - self.arrival
    }
}

/// What one unit did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitRecord {
    /// The unit (`h100_0`, `h100_0+h100_1`).
    pub name: String,
    /// Its index among the problem's units (what [`Pool::units`] holds).
    pub index: usize,
    /// Its devices (indices into the target's devices).
    pub devices: Vec<usize>,
    /// Seconds it was running an iteration.
    pub busy: f64,
    /// Decode steps it ran.
    pub steps: u64,
    /// Sequences decoded over all steps (mean batch = this / steps).
    pub step_sequences: u64,
    /// Seconds it ran jobs (prefills, encodes, compute, KV recomputation), each job's time
    /// alone (also when jobs of a round share the cores).
    pub job_busy: f64,
    /// Its decode load: generated tokens × the plan's unit-seconds per token at the
    /// largest batch ([`ReplicaPlan::token_seconds`]).
    pub decode_work: f64,
    /// Sequences it preempted for lack of KV blocks.
    pub preemptions: u64,
    /// Bytes of KV cache it had.
    pub kv_capacity: f64,
    /// The most KV bytes in use at once.
    pub kv_peak: f64,
}

/// A path through the `if`s and what the plan says of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathInfo {
    /// `(branch, arm)` per `if` on it (arm 0: then), as in the schedule's paths.
    pub arms: Vec<(usize, usize)>,
    /// Its probability in the plan.
    pub probability: f64,
    /// Its latency in the plan (one request on an empty fleet).
    pub planned_latency: f64,
}

/// The raw outcome of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimResult {
    /// Finished requests, in arrival order.
    pub requests: Vec<RequestRecord>,
    /// Every unit the plan uses, in unit order.
    pub units: Vec<UnitRecord>,
    /// The plan's paths (more are appended if the plan's enumeration was truncated).
    pub paths: Vec<PathInfo>,
    /// Time-averaged number of requests in the system over `[first arrival, last finish]`.
    pub mean_in_system: f64,
    /// First arrival to last finish, seconds.
    pub span: f64,
    /// KV transfers between units (disaggregated prefill/decode).
    pub kv_transfers: u64,
    /// Bytes of KV cache moved between units.
    pub kv_transfer_bytes: f64,
    /// The replicas run (one unit per pool unless chosen for a rate).
    pub replicas: ReplicaPlan,
}

/// Simulates `options.arrivals` requests of `workload` placed by `schedule` on `target`.
pub fn simulate(workload: &Workload, schedule: &Schedule, target: &Target, options: &SimOptions) -> Result<SimResult, SimError> {
    let p = if options.replicas.as_ref().is_some_and(|r| r.every_precision) {
        Problem::offering_every_precision(workload, target)
    } else {
        Problem::new(workload, target)
    }
    .map_err(SimError::Schedule)?;
    let specs = setup::fragment_specs(workload, schedule, &p)?;
    let plan = match &options.replicas {
        Some(plan) => {
            check_plan(plan, &specs, &p)?;
            plan.clone()
        }
        None => {
            let arrivals = &options.arrivals;
            let window = arrivals.last().copied().unwrap_or(0.0) - arrivals.first().copied().unwrap_or(0.0);
            let rate = if window > 0.0 { arrivals.len() as f64 / window } else { 0.0 };
            replicas::plan(workload, &p, &specs, rate, options.effective_batch(), None)?
        }
    };
    let pool_of = plan.pool_of(specs.len());
    // The units in use: the delays' (they take no memory) and every pool's, each holding
    // the models of its pool.
    let mut models_on: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for s in specs.iter().filter(|s| s.role == setup::Role::Delay) {
        models_on.entry(s.unit).or_default();
    }
    for pool in &plan.pools {
        let models: BTreeSet<usize> = pool.fragments.iter().filter_map(|&f| specs[f].model).collect();
        for &u in &pool.units {
            models_on.entry(u).or_default().extend(models.iter().copied());
        }
    }
    let mut figures = BTreeMap::new();
    for pool in &plan.pools {
        for &u in pool.units.iter().filter(|&&u| u != pool.placed) {
            for &f in &pool.fragments {
                figures.insert((f, u), setup::unit_figures(workload, &p, f, u));
            }
        }
    }
    let capacity = setup::kv_capacities(&models_on, &p);
    let units_of = |f: usize| pool_of[f].map_or_else(|| vec![specs[f].unit], |i| plan.pools[i].units.clone());
    setup::check_kv_fits(workload, &specs, &capacity, &p, &units_of)?;
    let used: Vec<usize> = models_on.keys().copied().collect();
    let mut sim = Sim::new(workload, schedule, &p, specs, capacity, options, used);
    sim.pools = plan.pools.iter().map(|q| q.units.clone()).collect();
    sim.pool_of = pool_of;
    sim.token_seconds = plan.token_seconds.clone();
    sim.token_seconds_on = plan.token_seconds_on.iter().map(|&(f, u, t)| ((f, u), t)).collect();
    sim.figures = figures;
    sim.request_seconds = plan.pools.iter().flat_map(|q| q.units.iter().copied().zip(q.unit_seconds.iter().copied())).collect();
    sim.run();
    Ok(sim.finish(plan))
}

/// Refuses a replica plan made for another schedule or target: each pool must be a unit
/// the schedule placed work on, its replicas units of the target on devices of their own.
fn check_plan(plan: &ReplicaPlan, specs: &[setup::FragSpec], p: &Problem) -> Result<(), SimError> {
    let bad = |what: String| Err(SimError::Plan(format!("the replica plan does not fit this schedule: {what}")));
    if plan.token_seconds.len() != specs.len() {
        return bad(format!("it is for {} fragments, the schedule has {}", plan.token_seconds.len(), specs.len()));
    }
    let mut devices = std::collections::BTreeSet::new();
    for pool in &plan.pools {
        if pool.units.is_empty() || pool.placed >= p.units.len() || pool.units.iter().any(|&u| u >= p.units.len()) {
            return bad("a pool names no unit, or a unit the target does not have".to_string());
        }
        if pool.unit_seconds.len() != pool.units.len() {
            return bad(format!("the pool of `{}` has {} loads for {} units", p.units[pool.placed].name, pool.unit_seconds.len(), pool.units.len()));
        }
        for &f in &pool.fragments {
            if f >= specs.len() || specs[f].unit != pool.placed || specs[f].role == setup::Role::Delay {
                return bad(format!("fragment {f} is not placed on `{}`", p.units[pool.placed].name));
            }
            if let Some(&u) = pool.units.iter().find(|&&u| !p.feasible[f].contains(&u)) {
                return bad(format!("fragment {f} cannot run on `{}`", p.units[u].name));
            }
        }
        // The schedule's own units may share devices (as placed for one request); every
        // other unit has devices of its own.
        for &u in pool.units.iter().filter(|&&u| u != pool.placed) {
            if !p.units[u].devices.iter().all(|&d| devices.insert(d)) {
                return bad(format!("replica `{}` shares a device with another replica", p.units[u].name));
            }
        }
    }
    if plan.token_seconds_on.iter().any(|&(f, u, _)| f >= specs.len() || u >= p.units.len()) {
        return bad("a decode's seconds per token name a fragment or unit that does not exist".to_string());
    }
    Ok(())
}

/// What happens at an instant.
#[derive(Clone, Copy, Debug)]
enum Ev {
    /// Request `i` of the arrival list arrives.
    Arrive(usize),
    /// A fragment of a request has all its inputs.
    Ready(usize, usize),
    /// A delay fragment (all its repetitions) is over.
    DelayDone(usize, usize),
    /// A unit's iteration is over.
    UnitDone(usize),
    /// A sequence's KV cache has arrived at its decode unit.
    KvArrived(usize),
}

struct Entry {
    t: f64,
    n: u64,
    ev: Ev,
}
impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        // Min-heap on time, then insertion order.
        o.t.total_cmp(&self.t).then(o.n.cmp(&self.n))
    }
}

/// A request in flight.
struct Req {
    arrival: f64,
    on_path: Vec<bool>,
    reps: Vec<u32>,
    done_reps: Vec<u32>,
    pending: Vec<usize>,
    /// When each fragment completed (its consumers' data leaves then).
    done_at: Vec<f64>,
    /// The unit each fragment was sent to (its last execution's, for one that repeats).
    unit_of: Vec<usize>,
    completed: Vec<bool>,
    remaining: usize,
    finish: f64,
    path: usize,
    first_token: Option<f64>,
    decode_time: f64,
    decode_tokens: f64,
}

/// A decode sequence (one execution of a decode fragment for one request).
struct Seq {
    req: usize,
    frag: usize,
    unit: usize,
    model: usize,
    kv: f64,
    /// Tokens in its KV cache (prompt + generated so far).
    ctx: f64,
    generated: f64,
    target: f64,
    /// The unit holding its KV cache before it is admitted (a prefill's unit), if any.
    src: Option<usize>,
    /// Whether it must recompute its KV cache (preempted, or never prefilled here).
    recompute: bool,
    /// When its decoding started to count (its prefill's end, or its creation).
    start: f64,
}

/// Exclusive work queued on a unit.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Job {
    /// One execution of a fragment of a request.
    Frag(usize, usize),
    /// Rebuilding a preempted sequence's KV cache.
    Recompute(usize),
}

/// What a unit is doing.
enum Iter {
    Job(Job),
    Step(Vec<usize>),
    /// Without batching: jobs and sequences (one step each) sharing the unit.
    Round(Vec<Job>, Vec<usize>),
}

/// A unit's engine state.
struct UnitState {
    jobs: VecDeque<Job>,
    waiting: VecDeque<usize>,
    running: Vec<usize>,
    /// Per model: sequences admitted but not yet running (KV in transfer, recomputing).
    joining: BTreeMap<usize, usize>,
    busy: Option<Iter>,
    /// When the running iteration ends.
    busy_until: f64,
    /// Seconds of the jobs in `jobs` (the routing's outstanding work).
    queued_work: f64,
    /// Jobs and sequences routed here whose inputs are still on their way, and the
    /// jobs' seconds.
    inbound: usize,
    inbound_work: f64,
    pager: kv::Pager,
    rr: usize,
    record: UnitRecord,
}

struct Sim<'a> {
    w: &'a Workload,
    p: &'a Problem<'a>,
    specs: Vec<setup::FragSpec>,
    max_batch: usize,
    batching: Batching,
    arrivals: Vec<f64>,
    rng: Rng,
    now: f64,
    counter: u64,
    heap: BinaryHeap<Entry>,
    units: Vec<UnitState>,
    used_units: Vec<usize>,
    /// The units of each pool (the schedule's unit first, then its replicas).
    pools: Vec<Vec<usize>>,
    /// Per fragment, its pool (`None` for delays).
    pool_of: Vec<Option<usize>>,
    /// Per fragment, the plan's unit-seconds per generated token (decodes).
    token_seconds: Vec<f64>,
    /// Per (decode, unit) of another kind than its schedule unit, the same.
    token_seconds_on: BTreeMap<(usize, usize), f64>,
    /// Per unit of a pool, the plan's unit-seconds one request asks of it.
    request_seconds: BTreeMap<usize, f64>,
    /// Per (fragment, unit) other than the schedule's, its figures there.
    figures: BTreeMap<(usize, usize), setup::UnitFigures>,
    /// Per device, the unit holding it now.
    owner: Vec<Option<usize>>,
    /// Per unit, the used units sharing a device with it (itself included).
    neighbours: Vec<Vec<usize>>,
    links: BTreeMap<(usize, usize), f64>,
    /// Units to start once the current instant's events are handled.
    dirty: BTreeSet<usize>,
    reqs: Vec<Option<Req>>,
    seqs: Vec<Option<Seq>>,
    paths: Vec<PathInfo>,
    records: Vec<(usize, RequestRecord)>,
    in_system: usize,
    area: f64,
    last_t: f64,
    kv_transfers: u64,
    kv_transfer_bytes: f64,
}

impl<'a> Sim<'a> {
    fn new(
        w: &'a Workload,
        schedule: &Schedule,
        p: &'a Problem<'a>,
        specs: Vec<setup::FragSpec>,
        capacity: Vec<f64>,
        options: &SimOptions,
        used: Vec<usize>,
    ) -> Sim<'a> {
        let nu = p.units.len();
        let units = (0..nu)
            .map(|u| UnitState {
                jobs: VecDeque::new(),
                waiting: VecDeque::new(),
                running: Vec::new(),
                joining: BTreeMap::new(),
                busy: None,
                busy_until: 0.0,
                queued_work: 0.0,
                inbound: 0,
                inbound_work: 0.0,
                pager: kv::Pager::new(capacity[u]),
                rr: 0,
                record: UnitRecord {
                    name: p.units[u].name.clone(),
                    index: u,
                    devices: p.units[u].devices.clone(),
                    busy: 0.0,
                    steps: 0,
                    step_sequences: 0,
                    job_busy: 0.0,
                    decode_work: 0.0,
                    preemptions: 0,
                    kv_capacity: capacity[u],
                    kv_peak: 0.0,
                },
            })
            .collect();
        let neighbours = (0..nu)
            .map(|u| {
                used.iter()
                    .copied()
                    .filter(|&v| p.units[v].devices.iter().any(|d| p.units[u].devices.contains(d)))
                    .collect()
            })
            .collect();
        let paths = schedule
            .paths
            .paths
            .iter()
            .map(|q| PathInfo { arms: q.arms.clone(), probability: q.probability, planned_latency: q.latency })
            .collect();
        Sim {
            w,
            p,
            specs,
            max_batch: options.max_batch.max(1),
            batching: options.batching,
            arrivals: options.arrivals.clone(),
            rng: Rng::new(options.seed ^ 0x005e_ed0f_b4a2_c4e5),
            now: 0.0,
            counter: 0,
            heap: BinaryHeap::new(),
            units,
            used_units: used,
            pools: Vec::new(),
            pool_of: Vec::new(),
            token_seconds: Vec::new(),
            token_seconds_on: BTreeMap::new(),
            request_seconds: BTreeMap::new(),
            figures: BTreeMap::new(),
            owner: vec![None; p.target.devices.len()],
            neighbours,
            links: BTreeMap::new(),
            dirty: BTreeSet::new(),
            reqs: Vec::new(),
            seqs: Vec::new(),
            paths,
            records: Vec::new(),
            in_system: 0,
            area: 0.0,
            last_t: 0.0,
            kv_transfers: 0,
            kv_transfer_bytes: 0.0,
        }
    }

    /// Seconds of one execution of fragment `f` at batch 1 on unit `u`.
    fn seconds_on(&self, f: usize, u: usize) -> f64 {
        self.figures.get(&(f, u)).map_or(self.specs[f].seconds, |x| x.seconds)
    }

    /// Weight bytes one decode step of `f` reads on unit `u` (its precision).
    fn weight_bytes_on(&self, f: usize, u: usize) -> f64 {
        self.figures.get(&(f, u)).map_or(self.specs[f].weight_bytes_per_step, |x| x.weight_bytes_per_step)
    }

    /// The plan's unit-seconds per generated token of decode `f` on unit `u`.
    fn token_seconds_at(&self, f: usize, u: usize) -> f64 {
        self.token_seconds_on.get(&(f, u)).copied().unwrap_or_else(|| self.token_seconds.get(f).copied().unwrap_or(0.0))
    }

    fn push(&mut self, t: f64, ev: Ev) {
        self.counter += 1;
        self.heap.push(Entry { t, n: self.counter, ev });
    }

    fn run(&mut self) {
        if let Some(&t) = self.arrivals.first() {
            self.push(t, Ev::Arrive(0));
            self.last_t = t;
        }
        while let Some(Entry { t, ev, .. }) = self.heap.pop() {
            self.area += self.in_system as f64 * (t - self.last_t);
            self.last_t = t;
            self.now = t;
            match ev {
                Ev::Arrive(i) => {
                    if i + 1 < self.arrivals.len() {
                        self.push(self.arrivals[i + 1], Ev::Arrive(i + 1));
                    }
                    self.arrive();
                }
                Ev::Ready(r, f) => self.ready(r, f),
                Ev::DelayDone(r, f) => self.complete(r, f),
                Ev::UnitDone(u) => self.unit_done(u),
                Ev::KvArrived(s) => self.kv_arrived(s),
            }
            if self.heap.peek().is_none_or(|next| next.t > self.now) {
                while let Some(u) = self.dirty.pop_first() {
                    self.start_unit(u);
                }
            }
        }
    }

    fn finish(self, replicas: ReplicaPlan) -> SimResult {
        let mut records = self.records;
        records.sort_by_key(|&(i, _)| i);
        let requests: Vec<RequestRecord> = records.into_iter().map(|(_, r)| r).collect();
        let first = self.arrivals.first().copied().unwrap_or(0.0);
        let last = requests.iter().map(|r| r.finish).fold(first, f64::max);
        let span = last - first;
        let units = self
            .used_units
            .iter()
            .map(|&u| {
                let mut record = self.units[u].record.clone();
                record.kv_peak = self.units[u].pager.peak;
                record
            })
            .collect();
        SimResult {
            requests,
            units,
            paths: self.paths,
            mean_in_system: if span > 0.0 { self.area / span } else { 0.0 },
            span,
            kv_transfers: self.kv_transfers,
            kv_transfer_bytes: self.kv_transfer_bytes,
            replicas,
        }
    }
}
