//! The cost model: roofline time of a fragment on a device or tensor-parallel group,
//! transfer time on a link, money, and memory feasibility (see `docs/cost-model.md`).
//! [`Problem`] precomputes all of it once per (workload, target) for the schedulers.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use crate::error::ScheduleError;
use crate::graph::{Dtype, Fragment, FragmentKind, ModelNeeds, Pin, Workload};
use crate::precision::Precision;
use crate::target::{DeviceKind, Network, Target, fragment_kind_name};

/// Seconds to move `bytes` over `link`: `bytes / bandwidth + latency`.
pub fn transfer_time(bytes: f64, link: Network) -> f64 {
    bytes / link.bandwidth + link.latency
}

/// USD for `seconds` of a resource priced `price_per_hour`.
pub fn money(seconds: f64, price_per_hour: f64) -> f64 {
    seconds * price_per_hour / 3600.0
}

/// Seconds of one all-reduce-bearing fragment of `model` on `k` devices joined by `link`:
/// ring all-reduce, `2(k-1)/k · B / bandwidth + passes · 2 · layers · 2(k-1) · latency`, where
/// `B = allreduce_bytes_per_token · tokens` and `passes` is the number of forward passes
/// (decode: one per generated token; otherwise 1). Zero for `k = 1`.
pub fn allreduce_time(
    model: &ModelNeeds,
    kind: FragmentKind,
    tokens: f64,
    k: usize,
    link: Network,
) -> f64 {
    if k < 2 {
        return 0.0;
    }
    let k = k as f64;
    let bytes = model.allreduce_bytes_per_token * tokens;
    let passes = if kind == FragmentKind::Decode {
        tokens.max(1.0)
    } else {
        1.0
    };
    2.0 * (k - 1.0) / k * bytes / link.bandwidth
        + passes * 2.0 * model.layers as f64 * 2.0 * (k - 1.0) * link.latency
}

/// Seconds for one request's executions of `fragment` on `devices` (one device, or a
/// tensor-parallel group of identical devices) of `target`, ignoring feasibility:
///
/// `weight · (max(flops / (k·peak·compute_eff), bytes / (k·bw·memory_eff), dequant)
///            + launch · steps + fixed_seconds + allreduce)`
///
/// with `bytes = bytes_read + bytes_written`, `steps` = generated tokens for decode
/// (one launch per step) and 1 otherwise, and `dequant` the time the device's quantized
/// kernels take to dequantise a decode's weights ([`dequant_time`]).
pub fn fragment_time(
    fragment: &Fragment,
    model: Option<&ModelNeeds>,
    target: &Target,
    devices: &[usize],
) -> f64 {
    fragment_time_at(fragment, model, target, devices, Precision::Native)
}

/// [`fragment_time`] with the model's weights held in `precision`: a quantized format
/// shrinks the weight reads of the fragment (the model's weight bytes once per forward
/// pass, at most its `bytes_read`) by [`Precision::weight_scale`]; flops do not
/// (weight-only quantization computes in the activations' dtype).
pub fn fragment_time_at(
    fragment: &Fragment,
    model: Option<&ModelNeeds>,
    target: &Target,
    devices: &[usize],
    precision: Precision,
) -> f64 {
    let d = &target.devices[devices[0]];
    let k = devices.len() as f64;
    let p = &fragment.profile;
    let peak = k * d.peak_flops.for_dtype(p.dtype) * d.efficiency.compute_eff;
    let bw = k * d.mem_bandwidth * d.efficiency.memory_eff;
    let steps = if fragment.kind == FragmentKind::Decode {
        p.tokens.max(1.0)
    } else {
        1.0
    };
    let weight_scale = if model.is_some() { precision.weight_scale(p.dtype) } else { 1.0 };
    let weight_reads = model.map_or(0.0, |m| (m.weight_bytes * steps).min(p.bytes_read));
    let bytes_read = p.bytes_read - (1.0 - weight_scale) * weight_reads;
    let dequant = model.map_or(0.0, |m| dequant_time(fragment, m, d, precision) / k);
    let roofline = (p.flops / peak).max((bytes_read + p.bytes_written) / bw).max(dequant);
    let mut t = roofline + d.launch_overhead_s * steps + p.fixed_seconds;
    if let (Some(m), true) = (model, devices.len() > 1) {
        t += allreduce_time(
            m,
            fragment.kind,
            p.tokens,
            devices.len(),
            target.link(devices[0], devices[1]),
        );
    }
    t * fragment.weight
}

/// Seconds device `d`'s quantized kernels spend dequantising `model`'s weights in a decode
/// fragment: `steps · (int8 weights / int8 rate + int4 weights / int4 rate)`, counting the
/// weights stored in blocks ([`ModelNeeds::int8_weights`], `int4_weights`) or, on a unit
/// that holds a float model quantized, all of them in that format. Zero for other
/// fragments (a prefill's GEMM dequantises each vector of weights once per tile of prompt
/// rows, hidden under its FMAs: the flops term times it) and for a format the device has
/// no rate for.
pub fn dequant_time(fragment: &Fragment, model: &ModelNeeds, d: &crate::target::Device, precision: Precision) -> f64 {
    if fragment.kind != FragmentKind::Decode {
        return 0.0;
    }
    let steps = fragment.profile.tokens.max(1.0);
    let all = model.weight_bytes / crate::precision::dtype_bytes(fragment.profile.dtype);
    let (int8, int4) = match precision {
        Precision::Native => (model.int8_weights, model.int4_weights),
        Precision::Int8 => (all, 0.0),
        Precision::Int4 => (0.0, all),
    };
    let per = |weights: f64, rate: Option<f64>| rate.map_or(0.0, |r| weights / r);
    steps * (per(int8, d.dequant.int8) + per(int4, d.dequant.int4))
}

/// A place a fragment can run: one device, or a tensor-parallel group of identical
/// devices of one node (created only for models that fit no single device of that kind).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// `h100_0`, or `h100_0+h100_1` for a group.
    pub name: String,
    /// Device indices (one, or the group's members).
    pub devices: Vec<usize>,
    /// The devices' kind.
    pub kind: DeviceKind,
    /// Summed price of the members, USD/hour.
    pub price_per_hour: f64,
    /// For a group: the models it was formed for (only their fragments run on it).
    pub models: Vec<usize>,
    /// Units of one class are interchangeable (same device entry, same size, no
    /// device-specific link); used for symmetry breaking.
    pub class: usize,
    /// The format the unit holds its models' weights in (quantized units are formed only
    /// for the models in `models`).
    pub precision: Precision,
}

impl Unit {
    /// Whether only the fragments of `models` may run here (tensor-parallel groups and
    /// quantized units are formed per model).
    pub fn model_specific(&self) -> bool {
        self.devices.len() > 1 || self.precision != Precision::Native
    }
}

/// A workload against a target with everything the schedulers need precomputed:
/// units, per-(fragment, unit) time and money, feasible sets, unit-to-unit links,
/// predecessors, and the list-scheduling priority order (HEFT upward rank).
pub struct Problem<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The target.
    pub target: &'a Target,
    /// Devices first (unit i = device i), then tensor-parallel groups.
    pub units: Vec<Unit>,
    dur: Vec<f64>,
    cost: Vec<f64>,
    /// Per fragment, the units it may run on (kind, pin and memory allow), ascending.
    pub feasible: Vec<Vec<usize>>,
    link: Vec<Network>,
    /// Per fragment, its producers and the bytes each sends.
    pub preds: Vec<Vec<(usize, f64)>>,
    /// Per fragment, its consumers and the bytes it sends each.
    pub succs: Vec<Vec<(usize, f64)>>,
    /// Per model, the dtype its weights are stored in (its fragments' dtype).
    pub model_dtype: Vec<Dtype>,
    /// HEFT upward rank per fragment.
    pub rank: Vec<f64>,
    /// The list-scheduling order: repeatedly the ready fragment of highest rank (ties:
    /// lowest index). A topological order; the same for every assignment.
    pub order: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq)]
struct Key(f64, usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        // Max-heap on rank; lower index first among equal ranks.
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// The pin as written in the source: `gpu`, or `"h100_0"` (quoted) for a device name.
fn pin_text(pin: &Pin) -> String {
    match pin {
        Pin::Kind(k) => k.clone(),
        Pin::Named(name) => format!("\"{name}\""),
    }
}

impl<'a> Problem<'a> {
    /// Validates the workload, forms tensor-parallel groups, checks pins and memory, and
    /// precomputes costs and the priority order.
    pub fn new(workload: &'a Workload, target: &'a Target) -> Result<Problem<'a>, ScheduleError> {
        Problem::build(workload, target, false)
    }

    /// [`Problem::new`] with units at every quantized precision for every model that has
    /// a smaller one than its dtype (int8 and int4, single devices and groups alike), not
    /// only as far as a model needs to fit: the offer of `agentc simulate --replicas fleet
    /// --quantize` (docs/simulation.md), which asks for quantized weights by name.
    pub fn offering_every_precision(workload: &'a Workload, target: &'a Target) -> Result<Problem<'a>, ScheduleError> {
        Problem::build(workload, target, true)
    }

    fn build(workload: &'a Workload, target: &'a Target, every_precision: bool) -> Result<Problem<'a>, ScheduleError> {
        let n = workload.fragments.len();
        for (i, e) in workload.edges.iter().enumerate() {
            if e.from >= n || e.to >= n || e.from == e.to || e.bytes.is_nan() || e.bytes < 0.0 {
                return Err(ScheduleError::InvalidWorkload {
                    message: format!(
                        "edge {i} ({} -> {}, {} bytes) is not between two distinct fragments of {n}",
                        e.from, e.to, e.bytes
                    ),
                });
            }
        }
        for (i, f) in workload.fragments.iter().enumerate() {
            if f.model.is_some_and(|m| m >= workload.models.len()) {
                return Err(ScheduleError::InvalidWorkload {
                    message: format!(
                        "fragment `{}` refers to model {} of {}",
                        f.name,
                        f.model.unwrap_or(0),
                        workload.models.len()
                    ),
                });
            }
            if !(f.weight >= 0.0 && f.weight.is_finite()) {
                return Err(ScheduleError::InvalidWorkload {
                    message: format!("fragment {i} `{}` has weight {}", f.name, f.weight),
                });
            }
        }
        let model_dtype = model_dtypes(workload);
        let units = form_units(workload, target, &model_dtype, every_precision)?;
        let nu = units.len();
        let mut link = vec![
            Network {
                bandwidth: f64::INFINITY,
                latency: 0.0
            };
            nu * nu
        ];
        for a in 0..nu {
            for b in 0..nu {
                if a != b {
                    link[a * nu + b] = best_link(target, &units[a].devices, &units[b].devices);
                }
            }
        }
        let mut dur = vec![f64::INFINITY; n * nu];
        let mut cost = vec![f64::INFINITY; n * nu];
        let mut feasible = Vec::with_capacity(n);
        for (i, f) in workload.fragments.iter().enumerate() {
            let model = f.model.map(|m| &workload.models[m]);
            let mut ok = Vec::new();
            let mut reason: Option<String> = None;
            let mut pin_matched = false;
            for (u, unit) in units.iter().enumerate() {
                if let Some(m) = f.model {
                    if unit.model_specific() && !unit.models.contains(&m) {
                        continue;
                    }
                } else if unit.model_specific() {
                    continue;
                }
                if let Some(pin) = &f.pin {
                    if !pin_matches(pin, unit, target) {
                        continue;
                    }
                    pin_matched = true;
                }
                let d = &target.devices[unit.devices[0]];
                if !d.runs(f.kind) {
                    reason.get_or_insert_with(|| {
                        format!(
                            "`{}` ({}) cannot run {} fragments{}",
                            unit.name,
                            d.kind.as_str(),
                            fragment_kind_name(f.kind),
                            if matches!(f.kind, FragmentKind::Host | FragmentKind::Tool) {
                                " (they run on cpu devices)"
                            } else {
                                ""
                            }
                        )
                    });
                    continue;
                }
                let k = unit.devices.len() as f64;
                let scale = f.model.map_or(1.0, |m| unit.precision.weight_scale(model_dtype[m]));
                let need = model.map_or(0.0, |m| m.weight_bytes * scale) + f.profile.working_bytes;
                if need / k > d.mem_bytes {
                    let what = model.map_or_else(
                        || "its working memory".to_string(),
                        |m| format!("model `{}` and its working memory", m.name),
                    );
                    reason = Some(format!(
                        "{what} need {:.1} GB but `{}` has {:.1} GB",
                        need / 1e9,
                        unit.name,
                        k * d.mem_bytes / 1e9
                    ));
                    continue;
                }
                let t = fragment_time_at(f, model, target, &unit.devices, unit.precision);
                dur[i * nu + u] = t;
                cost[i * nu + u] = money(t, unit.price_per_hour);
                ok.push(u);
            }
            if ok.is_empty() {
                if let Some(pin) = &f.pin {
                    let reason = if !pin_matched {
                        unmatched_pin_reason(pin, target)
                    } else {
                        reason.unwrap_or_default()
                    };
                    return Err(ScheduleError::PinUnsatisfiable {
                        fragment: i,
                        name: f.name.clone(),
                        pin: pin_text(pin),
                        reason,
                    });
                }
                return Err(ScheduleError::NoDevice {
                    fragment: i,
                    name: f.name.clone(),
                    reason: reason.unwrap_or_else(|| {
                        format!("no device runs {} fragments", fragment_kind_name(f.kind))
                    }),
                });
            }
            feasible.push(ok);
        }
        let mut preds = vec![Vec::new(); n];
        let mut succs = vec![Vec::new(); n];
        for e in &workload.edges {
            preds[e.to].push((e.from, e.bytes));
            succs[e.from].push((e.to, e.bytes));
        }
        for v in preds.iter_mut().chain(succs.iter_mut()) {
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        }
        let mut p = Problem {
            workload,
            target,
            units,
            dur,
            cost,
            feasible,
            link,
            preds,
            succs,
            model_dtype,
            rank: vec![0.0; n],
            order: Vec::new(),
        };
        let topo = p.topological_order()?;
        p.rank = p.upward_ranks(&topo);
        p.order = p.priority_order();
        Ok(p)
    }

    /// Bytes of model `m`'s weights each member of unit `u` holds (its precision, split
    /// over the group).
    pub fn weight_share(&self, m: usize, u: usize) -> f64 {
        let unit = &self.units[u];
        self.workload.models[m].weight_bytes * unit.precision.weight_scale(self.model_dtype[m])
            / unit.devices.len() as f64
    }

    /// Fragments in the workload.
    pub fn len(&self) -> usize {
        self.workload.fragments.len()
    }

    /// Whether the workload has no fragments.
    pub fn is_empty(&self) -> bool {
        self.workload.fragments.is_empty()
    }

    /// Seconds of fragment `f` on unit `u` (infinite when infeasible).
    pub fn duration(&self, f: usize, u: usize) -> f64 {
        self.dur[f * self.units.len() + u]
    }

    /// USD of fragment `f` on unit `u` (infinite when infeasible).
    pub fn cost(&self, f: usize, u: usize) -> f64 {
        self.cost[f * self.units.len() + u]
    }

    /// Seconds to move `bytes` from unit `a` to unit `b` (0 when `a == b`).
    pub fn comm(&self, a: usize, b: usize, bytes: f64) -> f64 {
        if a == b {
            0.0
        } else {
            transfer_time(bytes, self.link[a * self.units.len() + b])
        }
    }

    /// Whether fragment `f` holds its device exclusively (tool calls wait on the outside
    /// world and do not).
    pub fn exclusive(&self, f: usize) -> bool {
        self.workload.fragments[f].kind != FragmentKind::Tool
    }

    fn topological_order(&self) -> Result<Vec<usize>, ScheduleError> {
        let n = self.len();
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(i);
            for &(s, _) in &self.succs[i] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        if out.len() < n {
            let i = (0..n).find(|&i| indeg[i] > 0).unwrap_or(0);
            return Err(ScheduleError::Cycle {
                fragment: i,
                name: self.workload.fragments[i].name.clone(),
            });
        }
        Ok(out)
    }

    /// HEFT upward rank: mean time over feasible units plus the largest (mean transfer
    /// time + successor rank) over successors; mean transfer over ordered pairs of
    /// distinct devices.
    fn upward_ranks(&self, topo: &[usize]) -> Vec<f64> {
        let nd = self.target.devices.len();
        let (mut inv_bw, mut lat, mut pairs) = (0.0, 0.0, 0.0);
        for a in 0..nd {
            for b in 0..nd {
                if a != b {
                    let l = self.link[a * self.units.len() + b];
                    inv_bw += 1.0 / l.bandwidth;
                    lat += l.latency;
                    pairs += 1.0;
                }
            }
        }
        if pairs > 0.0 {
            inv_bw /= pairs;
            lat /= pairs;
        }
        let mut rank = vec![0.0; self.len()];
        for &i in topo.iter().rev() {
            let mean = self.feasible[i]
                .iter()
                .map(|&u| self.duration(i, u))
                .sum::<f64>()
                / self.feasible[i].len() as f64;
            let tail = self.succs[i]
                .iter()
                .map(|&(s, bytes)| bytes * inv_bw + lat + rank[s])
                .fold(0.0, f64::max);
            rank[i] = mean + tail;
        }
        rank
    }

    fn priority_order(&self) -> Vec<usize> {
        let n = self.len();
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut heap: BinaryHeap<Key> = (0..n)
            .filter(|&i| indeg[i] == 0)
            .map(|i| Key(self.rank[i], i))
            .collect();
        let mut out = Vec::with_capacity(n);
        while let Some(Key(_, i)) = heap.pop() {
            out.push(i);
            for &(s, _) in &self.succs[i] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    heap.push(Key(self.rank[s], s));
                }
            }
        }
        out
    }
}

/// Device memory in use while scheduling: model weights count once per (device, model)
/// (a tensor-parallel group holds a 1/k share on each member); working memory (KV cache,
/// activations) counts as the largest working set placed on the device, since a device
/// runs one fragment at a time.
#[derive(Clone, Debug, Default)]
pub struct Residency {
    weights: Vec<f64>,
    working: Vec<f64>,
    resident: BTreeMap<(usize, usize, Precision), f64>,
}

impl Residency {
    /// Empty devices.
    pub fn new(target: &Target) -> Residency {
        Residency {
            weights: vec![0.0; target.devices.len()],
            working: vec![0.0; target.devices.len()],
            resident: BTreeMap::new(),
        }
    }

    /// Whether fragment `f` fits on unit `u` given what is already resident.
    pub fn fits(&self, p: &Problem, f: usize, u: usize) -> bool {
        let frag = &p.workload.fragments[f];
        let unit = &p.units[u];
        let k = unit.devices.len() as f64;
        unit.devices.iter().all(|&d| {
            let extra = frag.model.map_or(0.0, |m| {
                let share = p.weight_share(m, u);
                (share - self.resident.get(&(d, m, unit.precision)).copied().unwrap_or(0.0)).max(0.0)
            });
            self.weights[d] + extra + self.working[d].max(frag.profile.working_bytes / k)
                <= p.target.devices[d].mem_bytes
        })
    }

    /// Records fragment `f` on unit `u`.
    pub fn place(&mut self, p: &Problem, f: usize, u: usize) {
        let frag = &p.workload.fragments[f];
        let unit = &p.units[u];
        let k = unit.devices.len() as f64;
        for &d in &unit.devices {
            if let Some(m) = frag.model {
                let share = p.weight_share(m, u);
                let have = self.resident.entry((d, m, unit.precision)).or_insert(0.0);
                if share > *have {
                    self.weights[d] += share - *have;
                    *have = share;
                }
            }
            self.working[d] = self.working[d].max(frag.profile.working_bytes / k);
        }
    }
}

fn pin_matches(pin: &Pin, unit: &Unit, target: &Target) -> bool {
    match pin {
        Pin::Kind(k) => unit.kind.as_str().eq_ignore_ascii_case(k),
        Pin::Named(n) => {
            unit.name == *n
                || unit
                    .devices
                    .iter()
                    .any(|&d| target.devices[d].name == *n || target.devices[d].group == *n)
        }
    }
}

fn unmatched_pin_reason(pin: &Pin, target: &Target) -> String {
    match pin {
        Pin::Kind(k)
            if !["cpu", "gpu", "accelerator"].contains(&k.to_ascii_lowercase().as_str()) =>
        {
            format!("`{k}` is not a device kind (cpu, gpu, accelerator)")
        }
        Pin::Kind(k)
            if target
                .devices
                .iter()
                .any(|d| d.kind.as_str().eq_ignore_ascii_case(k)) =>
        {
            format!(
                "every `{k}` device of target `{}` is unusable for it (a sharded model runs only on its tensor-parallel groups)",
                target.name
            )
        }
        Pin::Kind(k) => format!("target `{}` has no {k} device", target.name),
        Pin::Named(n) => {
            let names: Vec<&str> = target.devices.iter().map(|d| d.name.as_str()).collect();
            if target.devices.iter().any(|d| d.name == *n || d.group == *n) {
                format!(
                    "`{n}` cannot hold the fragment's model alone and is in no tensor-parallel group for it"
                )
            } else {
                format!(
                    "target `{}` has no device named `{n}` (devices: {})",
                    target.name,
                    names.join(", ")
                )
            }
        }
    }
}

/// The fastest link between any member of `a` and any distinct member of `b`.
fn best_link(target: &Target, a: &[usize], b: &[usize]) -> Network {
    let mut best: Option<Network> = None;
    for &x in a {
        for &y in b {
            if x == y {
                continue;
            }
            let l = target.link(x, y);
            if best.is_none_or(|c| {
                l.bandwidth > c.bandwidth || (l.bandwidth == c.bandwidth && l.latency < c.latency)
            }) {
                best = Some(l);
            }
        }
    }
    best.unwrap_or(Network {
        bandwidth: f64::INFINITY,
        latency: 0.0,
    })
}

/// Per model, the dtype of its weights: its fragments' dtype (bf16 when it has none).
fn model_dtypes(workload: &Workload) -> Vec<Dtype> {
    (0..workload.models.len())
        .map(|m| {
            workload
                .fragments
                .iter()
                .find(|f| f.model == Some(m))
                .map_or(Dtype::Bf16, |f| f.profile.dtype)
        })
        .collect()
}

/// The tensor-parallel degrees formed for a model on an entry of `members` devices whose
/// smallest holding group has `kmin` devices: `kmin` itself and every larger power of two,
/// up to the entry's size (1 is the single device, not a group).
fn degrees(kmin: usize, members: usize) -> Vec<usize> {
    let mut out = Vec::new();
    if kmin >= 2 && kmin <= members {
        out.push(kmin);
    }
    let mut k = 2;
    while k <= members {
        if k > kmin {
            out.push(k);
        }
        k *= 2;
    }
    out
}

/// Devices as units (at the models' own precision); then per model and per accelerator
/// entry (group name, node), tensor-parallel groups of every degree from the fewest
/// devices that hold the model up through the powers of two the entry has; and, for a
/// model no accelerator holds at its own dtype, the same units at the first quantized
/// precision ([`Precision::QUANTIZED`]: int8, then int4) some accelerator holds it in
/// (all of them when none does), single devices of every kind included.
fn form_units(
    workload: &Workload,
    target: &Target,
    model_dtype: &[Dtype],
    every_precision: bool,
) -> Result<Vec<Unit>, ScheduleError> {
    let specific: BTreeSet<&str> = target
        .links
        .iter()
        .flat_map(|l| l.between.iter().map(String::as_str))
        .collect();
    let mut class_of: BTreeMap<(String, usize, Precision), usize> = BTreeMap::new();
    let mut classes = 0;
    let mut class_for = |key: (String, usize, Precision), devices: &[usize]| {
        if devices
            .iter()
            .any(|&i| specific.contains(target.devices[i].name.as_str()))
        {
            classes += 1;
            return classes - 1;
        }
        *class_of.entry(key).or_insert_with(|| {
            classes += 1;
            classes - 1
        })
    };
    let mut units: Vec<Unit> = Vec::new();
    for (i, d) in target.devices.iter().enumerate() {
        let class = class_for((format!("{}@{}", d.group, d.node), 1, Precision::Native), &[i]);
        units.push(Unit {
            name: d.name.clone(),
            devices: vec![i],
            kind: d.kind,
            price_per_hour: d.price_per_hour,
            models: Vec::new(),
            class,
            precision: Precision::Native,
        });
    }
    // Entries (group name, node) in first-appearance order, with their members.
    let mut entries: Vec<((String, String), Vec<usize>)> = Vec::new();
    for (i, d) in target.devices.iter().enumerate() {
        let key = (d.group.clone(), d.node.clone());
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => entries.push((key, vec![i])),
        }
    }
    let largest = target
        .devices
        .iter()
        .map(|d| d.mem_bytes)
        .fold(0.0, f64::max);
    for (m, model) in workload.models.iter().enumerate() {
        let frags: Vec<&Fragment> = workload
            .fragments
            .iter()
            .filter(|f| f.model == Some(m))
            .collect();
        if frags.is_empty() {
            continue;
        }
        let working = frags
            .iter()
            .map(|f| f.profile.working_bytes)
            .fold(0.0, f64::max);
        let need_at = |p: Precision| model.weight_bytes * p.weight_scale(model_dtype[m]) + working;
        let holds = |members: &[usize], p: Precision| {
            let mem = target.devices[members[0]].mem_bytes;
            (need_at(p) / mem).ceil().max(1.0) as usize
        };
        let accelerator_holds_native = entries.iter().any(|(_, members)| {
            target.devices[members[0]].kind != DeviceKind::Cpu
                && holds(members, Precision::Native) <= members.len()
        });
        // Quantize only as far as needed: the first format some accelerator holds it in,
        // or every format when none does (then the CPU may hold one).
        let accelerator_holds = |p: Precision| {
            entries.iter().any(|(_, members)| {
                target.devices[members[0]].kind != DeviceKind::Cpu && holds(members, p) <= members.len()
            })
        };
        // On a target without accelerators, a model the CPU holds at its own dtype stays
        // there: quantizing would trade accuracy for speed unasked.
        let has_accelerator = entries.iter().any(|(_, members)| target.devices[members[0]].kind != DeviceKind::Cpu);
        let cpu_holds_native = entries
            .iter()
            .any(|(_, members)| target.devices[members[0]].kind == DeviceKind::Cpu && holds(members, Precision::Native) == 1);
        let mut precisions = vec![Precision::Native];
        if every_precision {
            precisions.extend(Precision::QUANTIZED.into_iter().filter(|p| p.weight_scale(model_dtype[m]) < 1.0));
        } else if !accelerator_holds_native && (has_accelerator || !cpu_holds_native) {
            let offered: Vec<Precision> = Precision::QUANTIZED
                .into_iter()
                .filter(|p| p.weight_scale(model_dtype[m]) < 1.0)
                .collect();
            match offered.iter().position(|&p| accelerator_holds(p)) {
                Some(i) => precisions.push(offered[i]),
                None => precisions.extend(offered),
            }
        }
        let mut fits_somewhere = false;
        for &precision in &precisions {
            for ((group, node), members) in &entries {
                let d = &target.devices[members[0]];
                let kmin = holds(members, precision);
                if kmin == 1 {
                    fits_somewhere = true;
                }
                if precision != Precision::Native && kmin == 1 {
                    for &i in members {
                        add_unit(&mut units, target, &[i], m, precision, &mut || {
                            class_for((format!("{group}@{node}"), 1, precision), &[i])
                        });
                    }
                }
                if d.kind == DeviceKind::Cpu {
                    continue;
                }
                for k in degrees(kmin, members.len()) {
                    fits_somewhere = true;
                    for chunk in members.chunks_exact(k) {
                        add_unit(&mut units, target, chunk, m, precision, &mut || {
                            class_for((format!("{group}@{node}"), k, precision), chunk)
                        });
                    }
                }
            }
        }
        if !fits_somewhere {
            let smallest = *precisions.last().unwrap_or(&Precision::Native);
            return Err(ScheduleError::ModelFitsNowhere {
                model: model.name.clone(),
                bytes: need_at(Precision::Native),
                smallest_bytes: need_at(smallest),
                smallest_precision: smallest.as_str().to_string(),
                largest_device_bytes: largest,
            });
        }
    }
    Ok(units)
}

/// Adds model `m` to the unit over `devices` at `precision`, creating the unit (with the
/// class `class` gives) when there is none.
fn add_unit(
    units: &mut Vec<Unit>,
    target: &Target,
    devices: &[usize],
    m: usize,
    precision: Precision,
    class: &mut dyn FnMut() -> usize,
) {
    if let Some(u) = units
        .iter_mut()
        .find(|u| u.devices == devices && u.precision == precision && u.model_specific())
    {
        if !u.models.contains(&m) {
            u.models.push(m);
        }
        return;
    }
    let d = &target.devices[devices[0]];
    units.push(Unit {
        name: devices
            .iter()
            .map(|&i| target.devices[i].name.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        devices: devices.to_vec(),
        kind: d.kind,
        price_per_hour: devices.iter().map(|&i| target.devices[i].price_per_hour).sum(),
        models: vec![m],
        class: class(),
        precision,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Profile;
    use crate::presets::preset;

    fn frag(kind: FragmentKind, flops: f64, bytes: f64) -> Fragment {
        Fragment {
            name: "f".into(),
            kind,
            profile: Profile {
                flops,
                bytes_read: bytes,
                dtype: Dtype::Bf16,
                ..Default::default()
            },
            model: None,
            pin: None,
            weight: 1.0,
            objective: None,
        }
    }

    #[test]
    fn roofline_on_an_h100_by_hand() {
        let t = preset("h100").unwrap();
        let h = t.devices.iter().position(|d| d.name == "h100_0").unwrap();
        // Compute-bound: 1e15 flops / (989.4e12 * 0.6) + 10 us launch.
        let f = frag(FragmentKind::Compute, 1e15, 1e9);
        let want = 1e15 / (989.4e12 * 0.6) + 10e-6;
        assert!((fragment_time(&f, None, &t, &[h]) - want).abs() < 1e-12);
        // Memory-bound: 1e12 bytes / (3.35e12 * 0.8) + launch.
        let f = frag(FragmentKind::Compute, 1e9, 1e12);
        let want = 1e12 / (3.35e12 * 0.8) + 10e-6;
        assert!((fragment_time(&f, None, &t, &[h]) - want).abs() < 1e-12);
        // Weight scales, fixed seconds add.
        let mut f = frag(FragmentKind::Compute, 1e9, 1e12);
        f.weight = 3.0;
        f.profile.fixed_seconds = 0.5;
        assert!((fragment_time(&f, None, &t, &[h]) - 3.0 * (want + 0.5)).abs() < 1e-12);
        // Money: seconds x price / 3600.
        assert!((money(3600.0, 2.99) - 2.99).abs() < 1e-12);
    }

    #[test]
    fn decode_pays_one_launch_per_token_and_tp_pays_allreduce() {
        let t = preset("h100x8").unwrap();
        let mut f = frag(FragmentKind::Decode, 0.0, 0.0);
        f.profile.tokens = 100.0;
        let m = ModelNeeds {
            name: "m".into(),
            weight_bytes: 1e9,
            allreduce_bytes_per_token: 1e6,
            layers: 10,
            ..ModelNeeds::default()
        };
        let one = fragment_time(&f, Some(&m), &t, &[1]);
        assert!((one - 100.0 * 10e-6).abs() < 1e-12);
        let two = fragment_time(&f, Some(&m), &t, &[1, 2]);
        // ring k=2: 2(1)/2 * 1e8 B / 450e9 + 100 passes * 2 * 10 layers * 2 * 2e-6
        let ar = 1e8 / 450e9 + 100.0 * 2.0 * 10.0 * 2.0 * 2e-6;
        assert!((two - one - ar).abs() < 1e-12, "{two} {one} {ar}");
        assert!((transfer_time(1e9, t.link(0, 1)) - (1e9 / 64e9 + 5e-6)).abs() < 1e-15);
    }

    #[test]
    fn quantized_decode_is_bound_by_the_dequantisation_rate() {
        let mut t = preset("host").unwrap();
        t.devices[0].dequant = crate::target::DequantRates { int8: Some(2e10), int4: Some(1e10) };
        let bw = t.devices[0].mem_bandwidth * t.devices[0].efficiency.memory_eff;
        let launch = t.devices[0].launch_overhead_s;
        let mut f = frag(FragmentKind::Decode, 0.0, 0.0);
        f.profile.dtype = Dtype::F32;
        f.profile.tokens = 10.0;
        // 1e8 weights in int4 blocks and 2e7 in int8: 0.6e8 bytes read per step.
        let m = ModelNeeds { name: "m".into(), weight_bytes: 6e7, int4_weights: 1e8, int8_weights: 2e7, ..ModelNeeds::default() };
        f.profile.bytes_read = 10.0 * m.weight_bytes;
        let dequant = 10.0 * (2e7 / 2e10 + 1e8 / 1e10);
        assert!(dequant > f.profile.bytes_read / bw, "the test wants the dequantisation to bind");
        let got = fragment_time(&f, Some(&m), &t, &[0]);
        assert!((got - (dequant + 10.0 * launch)).abs() < 1e-12, "{got}");
        // Without rates, the bytes alone.
        t.devices[0].dequant = Default::default();
        let got = fragment_time(&f, Some(&m), &t, &[0]);
        assert!((got - (f.profile.bytes_read / bw + 10.0 * launch)).abs() < 1e-12, "{got}");
        // A prefill is not charged (its GEMM hides the dequantisation under the FMAs).
        t.devices[0].dequant.int4 = Some(1.0);
        f.kind = FragmentKind::Prefill;
        assert_eq!(dequant_time(&f, &m, &t.devices[0], Precision::Native), 0.0);
        // A float model held at int4 by a unit: every weight at the int4 rate.
        f.kind = FragmentKind::Decode;
        let float = ModelNeeds { name: "f".into(), weight_bytes: 4e8, ..ModelNeeds::default() };
        assert_eq!(dequant_time(&f, &float, &t.devices[0], Precision::Int4), 10.0 * 1e8 / 1.0);
        assert_eq!(dequant_time(&f, &float, &t.devices[0], Precision::Native), 0.0);
    }
}
