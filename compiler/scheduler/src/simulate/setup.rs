//! What the simulator needs to know about each fragment and each unit, read once from the
//! placed plan: the unit a fragment was placed on, its time at batch 1 (the cost model's
//! roofline, `cost::fragment_time_at` of one execution at the unit's precision), the per-token figures of a decode
//! (KV bytes per token, context, flops and weight bytes of one step), which prefill feeds
//! which decode (a generate call: the pair runs as one call, repeated together in loops),
//! and each unit's KV budget (its memory minus the weights resident on it).

use std::collections::{BTreeMap, BTreeSet};

use crate::cost::{Problem, allreduce_time, fragment_time_at};
use crate::graph::{Fragment, FragmentKind, Workload};
use crate::schedule::Schedule;
use crate::simulate::SimError;
use crate::simulate::kv::block_bytes;

/// How the simulator runs a fragment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Role {
    /// Takes its time without holding a unit (tool calls wait on the outside world; host
    /// built-ins take microseconds).
    Delay,
    /// Holds its unit alone for its time (encode, compute, kv_transfer).
    Job,
    /// A prompt's prefill; `decode` is the decode it feeds (the same generate call).
    Prefill { decode: Option<usize> },
    /// Token generation, batched per step with the unit's other sequences of its model;
    /// `prefill` is the prefill that made its prompt's KV cache.
    Decode { prefill: Option<usize> },
}

/// One fragment as the simulator sees it.
#[derive(Clone, Debug)]
pub(crate) struct FragSpec {
    pub role: Role,
    /// Index into the problem's units.
    pub unit: usize,
    pub model: Option<usize>,
    /// Seconds of one execution at batch 1 (jobs, delays, prefills).
    pub seconds: f64,
    /// Prefill: prompt tokens; decode: tokens generated per execution.
    pub tokens: f64,
    /// Decode: the context before its first generated token.
    pub prompt: f64,
    /// KV bytes per token of its model (0 without a KV cache).
    pub kv_per_token: f64,
    /// Decode: flops of one step for one sequence.
    pub flops_per_token: f64,
    /// Decode: weight bytes one step reads (once for the whole batch).
    pub weight_bytes_per_step: f64,
    /// Producers (with bytes), including the generate call's folded dependencies.
    pub preds: Vec<(usize, f64)>,
    /// Consumers (with bytes).
    pub succs: Vec<(usize, f64)>,
}

/// Reads the fragments' specs from the placed plan.
pub(crate) fn fragment_specs(w: &Workload, schedule: &Schedule, p: &Problem) -> Result<Vec<FragSpec>, SimError> {
    let n = w.fragments.len();
    if schedule.placements.len() != n {
        return Err(SimError::Plan(format!("the schedule places {} fragments of {n}", schedule.placements.len())));
    }
    let mut specs = Vec::with_capacity(n);
    for (f, fragment) in w.fragments.iter().enumerate() {
        let placement = &schedule.placements[f];
        let unit = p
            .units
            .iter()
            .position(|u| u.name == placement.device && u.precision == placement.precision)
            .ok_or_else(|| SimError::Plan(format!("fragment `{}` is placed on `{}` ({}), which is not a unit of the target", fragment.name, placement.device, placement.precision.as_str())))?;
        let pr = &fragment.profile;
        let role = match fragment.kind {
            FragmentKind::Tool | FragmentKind::Host => Role::Delay,
            FragmentKind::Prefill if fragment.model.is_some() => Role::Prefill { decode: None },
            FragmentKind::Decode if fragment.model.is_some() => Role::Decode { prefill: None },
            _ => Role::Job,
        };
        let tokens = pr.tokens.max(if fragment.kind == FragmentKind::Decode { 1.0 } else { 0.0 });
        let kv_per_token = if pr.tokens > 0.0 && matches!(fragment.kind, FragmentKind::Prefill | FragmentKind::Decode) {
            pr.bytes_written / pr.tokens
        } else {
            0.0
        };
        let (mut prompt, mut flops_per_token) = (0.0, 0.0);
        if fragment.kind == FragmentKind::Decode {
            prompt = if kv_per_token > 0.0 { (pr.working_bytes / kv_per_token - tokens).max(0.0) } else { 0.0 };
            flops_per_token = pr.flops / tokens;
        }
        let UnitFigures { seconds, weight_bytes_per_step } = unit_figures(w, p, f, unit);
        specs.push(FragSpec {
            role,
            unit,
            model: fragment.model,
            seconds,
            tokens,
            prompt,
            kv_per_token,
            flops_per_token,
            weight_bytes_per_step,
            preds: Vec::new(),
            succs: Vec::new(),
        });
    }
    for e in &w.edges {
        specs[e.from].succs.push((e.to, e.bytes));
        specs[e.to].preds.push((e.from, e.bytes));
    }
    pair_generate_calls(w, &mut specs);
    for s in &mut specs {
        s.preds.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        s.succs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    }
    Ok(specs)
}

/// What one execution of a fragment costs on one unit: its batch-1 seconds and, for a
/// decode, the weight bytes one step reads at the unit's precision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct UnitFigures {
    /// Seconds of one execution at batch 1 (the cost model's `fragment_time_at`).
    pub seconds: f64,
    /// Decode: weight bytes one step reads (once for the whole batch); 0 otherwise.
    pub weight_bytes_per_step: f64,
}

/// [`UnitFigures`] of fragment `f` on unit `u` (any unit of the problem, not only the
/// one the schedule chose: a fleet may run a pool's fragments on other kinds).
pub(crate) fn unit_figures(w: &Workload, p: &Problem, f: usize, u: usize) -> UnitFigures {
    let fragment = &w.fragments[f];
    let one = Fragment { weight: 1.0, ..fragment.clone() };
    let model = fragment.model.map(|m| &w.models[m]);
    let unit = &p.units[u];
    let seconds = fragment_time_at(&one, model, p.target, &unit.devices, unit.precision);
    let pr = &fragment.profile;
    let mut weight_bytes_per_step = 0.0;
    if fragment.kind == FragmentKind::Decode {
        // The unit's precision shrinks the weight reads as the scheduler's own timing does.
        let scale = fragment.model.map_or(1.0, |m| unit.precision.weight_scale(p.model_dtype[m]));
        let tokens = pr.tokens.max(1.0);
        let kv_per_token = if pr.tokens > 0.0 { pr.bytes_written / pr.tokens } else { 0.0 };
        let prompt = if kv_per_token > 0.0 { (pr.working_bytes / kv_per_token - tokens).max(0.0) } else { 0.0 };
        // decode bytes read = N · weights + KV/token · Σ_{s=1..N} (prompt + s)
        let kv_reads = kv_per_token * (tokens * prompt + tokens * (tokens + 1.0) / 2.0);
        weight_bytes_per_step = scale * ((pr.bytes_read - kv_reads) / tokens).max(0.0);
    }
    UnitFigures { seconds, weight_bytes_per_step }
}

/// Pairs each decode with the prefill of the same model that feeds it, when they sit in
/// the same `if` arms at the same weight (one generate call, repeated together in a
/// loop). The decode's other producers are folded into the prefill's (the call starts
/// when all of them are done), unless one of them depends on the prefill.
fn pair_generate_calls(w: &Workload, specs: &mut [FragSpec]) {
    let n = specs.len();
    let arms_of = |f: usize| -> BTreeSet<(usize, usize)> {
        let mut set = BTreeSet::new();
        for (b, branch) in w.branches.iter().enumerate() {
            for (arm, members) in branch.arms.iter().enumerate() {
                if members.contains(&f) {
                    set.insert((b, arm));
                }
            }
        }
        set
    };
    for d in 0..n {
        if specs[d].role != (Role::Decode { prefill: None }) {
            continue;
        }
        let Some(p) = specs[d].preds.iter().map(|&(q, _)| q).find(|&q| {
            specs[q].role == (Role::Prefill { decode: None })
                && specs[q].model == specs[d].model
                && (w.fragments[q].weight - w.fragments[d].weight).abs() <= 1e-9 * w.fragments[d].weight.max(1.0)
        }) else {
            continue;
        };
        if arms_of(p) != arms_of(d) {
            continue;
        }
        // The decode's other producers must not depend on the prefill (no cycle).
        let mut below = vec![false; n];
        let mut stack = vec![p];
        while let Some(g) = stack.pop() {
            for &(s, _) in &specs[g].succs {
                if s != d && !std::mem::replace(&mut below[s], true) {
                    stack.push(s);
                }
            }
        }
        let others: Vec<(usize, f64)> = specs[d].preds.iter().copied().filter(|&(q, _)| q != p).collect();
        if others.iter().any(|&(q, _)| below[q]) {
            continue;
        }
        for (q, bytes) in others {
            if !specs[p].preds.iter().any(|&(r, _)| r == q) {
                specs[p].preds.push((q, bytes));
                specs[q].succs.push((p, bytes));
            }
        }
        specs[p].role = Role::Prefill { decode: Some(d) };
        specs[d].role = Role::Decode { prefill: Some(p) };
        // The pair's prompt is the prefill's.
        specs[d].prompt = specs[p].tokens;
    }
}

/// The models whose fragments the schedule placed on each unit it uses (delay-only units
/// with an empty set): the units that take a share of their devices' memory.
pub(crate) fn models_on_units(specs: &[FragSpec]) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut on: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for s in specs {
        let models = on.entry(s.unit).or_default();
        if let Some(m) = s.model {
            models.insert(m);
        }
    }
    on
}

/// Bytes of KV cache each unit can hand out: for each of its devices, the device's memory
/// minus its share of the weights of every model placed on a unit containing it, divided
/// among the used units that contain the device (a model's share at the unit's
/// precision: a group member holds `1/k` of it, an int8 unit the int8 bytes). `models_on`
/// maps each used unit (the schedule's and any replicas) to the models resident on it;
/// other units get 0.
pub(crate) fn kv_capacities(models_on: &BTreeMap<usize, BTreeSet<usize>>, p: &Problem) -> Vec<f64> {
    let nu = p.units.len();
    let nd = p.target.devices.len();
    let mut free: Vec<f64> = p.target.devices.iter().map(|d| d.mem_bytes).collect();
    let mut share = vec![0usize; nd];
    for (&u, models) in models_on {
        for &d in &p.units[u].devices {
            share[d] += 1;
            for &m in models {
                free[d] -= p.weight_share(m, u);
            }
        }
    }
    (0..nu)
        .map(|u| {
            if !models_on.contains_key(&u) {
                return 0.0;
            }
            p.units[u].devices.iter().map(|&d| free[d].max(0.0) / share[d].max(1) as f64).sum()
        })
        .collect()
}

/// KV bytes one execution of a prefill or decode holds at its largest (a decode: its
/// prompt and every token it generates, in whole blocks); `None` for other fragments.
pub(crate) fn context_bytes(s: &FragSpec) -> Option<f64> {
    let tokens = match s.role {
        Role::Decode { .. } => s.prompt + s.tokens,
        Role::Prefill { .. } => s.tokens,
        _ => return None,
    };
    Some(block_bytes(tokens, s.kv_per_token))
}

/// `max(flops / peak, bytes / bandwidth) + launch + all-reduce of `tokens` tokens in one
/// forward pass` for fragment `f`'s dtype and model on unit `u`: the cost model's roofline
/// with a batch dimension, for decode steps and KV recomputation (and the replica
/// choice's load, which must agree with what the engine runs).
pub(crate) fn roofline(w: &Workload, p: &Problem, u: usize, f: usize, flops: f64, bytes: f64, tokens: f64) -> f64 {
    let devices = &p.units[u].devices;
    let d = &p.target.devices[devices[0]];
    let k = devices.len() as f64;
    let fragment = &w.fragments[f];
    let peak = k * d.peak_flops.for_dtype(fragment.profile.dtype) * d.efficiency.compute_eff;
    let bw = k * d.mem_bandwidth * d.efficiency.memory_eff;
    let mut t = (flops / peak).max(bytes / bw) + d.launch_overhead_s;
    if let (Some(m), true) = (fragment.model, devices.len() > 1) {
        let link = p.target.link(devices[0], devices[1]);
        t += allreduce_time(&w.models[m], FragmentKind::Prefill, tokens, devices.len(), link);
    }
    t
}

/// Refuses a plan in which one request's KV cache cannot fit its unit even when empty
/// (the simulation would wait for memory forever). `units_of(f)` lists the units
/// fragment `f` may run on (its unit and its replicas).
pub(crate) fn check_kv_fits(
    w: &Workload,
    specs: &[FragSpec],
    capacity: &[f64],
    p: &Problem,
    units_of: &dyn Fn(usize) -> Vec<usize>,
) -> Result<(), SimError> {
    for (f, s) in specs.iter().enumerate() {
        let Some(need) = context_bytes(s) else { continue };
        for u in units_of(f) {
            if need > capacity[u] {
                return Err(SimError::KvDoesNotFit {
                    fragment: w.fragments[f].name.clone(),
                    unit: p.units[u].name.clone(),
                    need,
                    capacity: capacity[u],
                });
            }
        }
    }
    Ok(())
}
