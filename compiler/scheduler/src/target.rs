//! Hardware targets: devices (speed, memory, price) and the links between them, read
//! from TOML. The format and every field's unit are in `docs/cost-model.md`.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::graph::{Dtype, FragmentKind};

/// Default compute efficiency (achievable fraction of peak flops) when a device omits it.
pub const DEFAULT_COMPUTE_EFF: f64 = 0.6;
/// Default memory efficiency (achievable fraction of peak bandwidth) when a device omits it.
pub const DEFAULT_MEMORY_EFF: f64 = 0.8;
/// Default launch overhead of a GPU/accelerator kernel launch, in seconds.
pub const DEFAULT_LAUNCH_OVERHEAD_ACCEL_S: f64 = 10e-6;
/// Default launch overhead of a CPU task, in seconds.
pub const DEFAULT_LAUNCH_OVERHEAD_CPU_S: f64 = 1e-6;
/// Default network between nodes when a target has no `[network]` table: 100 Gb/s Ethernet.
pub const DEFAULT_NETWORK: Network = Network {
    bandwidth: 12.5e9,
    latency: 20e-6,
};

/// A whole machine or cluster the scheduler places fragments on.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The target's name (`h100+a100`).
    pub name: String,
    /// One line saying what it is.
    pub description: String,
    /// Every device, expanded (`count = 8` gives eight entries).
    pub devices: Vec<Device>,
    /// Declared links, in file order.
    pub links: Vec<Link>,
    /// The link used between nodes, and between devices no `[[link]]` covers.
    pub network: Network,
}

/// What sort of processor a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    /// A general-purpose CPU (runs host and tool fragments).
    Cpu,
    /// A GPU.
    Gpu,
    /// Another accelerator (Gaudi, TPU-like).
    Accelerator,
}

impl DeviceKind {
    /// The TOML spelling: `cpu`, `gpu`, `accelerator`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Gpu => "gpu",
            DeviceKind::Accelerator => "accelerator",
        }
    }

    fn parse(s: &str) -> Option<DeviceKind> {
        match s {
            "cpu" => Some(DeviceKind::Cpu),
            "gpu" => Some(DeviceKind::Gpu),
            "accelerator" => Some(DeviceKind::Accelerator),
            _ => None,
        }
    }
}

/// Peak dense floating-point rates, in FLOP/s, per dtype.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeakFlops {
    /// f32 rate (required).
    pub f32: f64,
    /// f16 rate, if the device lists one.
    pub f16: Option<f64>,
    /// bf16 rate, if the device lists one.
    pub bf16: Option<f64>,
    /// fp8 rate, if the device lists one.
    pub fp8: Option<f64>,
}

impl PeakFlops {
    /// The rate for `dtype`. A dtype the device does not list runs at the rate of the
    /// next wider one it does list (fp8 → bf16 → f16 → f32; f16 ↔ bf16 → f32).
    pub fn for_dtype(&self, dtype: Dtype) -> f64 {
        let chain: &[Option<f64>] = match dtype {
            Dtype::Fp8 => &[self.fp8, self.bf16, self.f16],
            Dtype::Bf16 => &[self.bf16, self.f16],
            Dtype::F16 => &[self.f16, self.bf16],
            Dtype::F32 => &[],
        };
        chain.iter().flatten().copied().next().unwrap_or(self.f32)
    }
}

/// Achievable fractions of peak (measured kernels reach 50–80% of peak flops and
/// 80–90% of peak bandwidth; defaults [`DEFAULT_COMPUTE_EFF`], [`DEFAULT_MEMORY_EFF`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Efficiency {
    /// Fraction of peak flops a real kernel reaches, in (0, 1].
    pub compute_eff: f64,
    /// Fraction of peak memory bandwidth a real kernel reaches, in (0, 1].
    pub memory_eff: f64,
}

/// Weights per second a device's weight-only quantized kernels dequantise and multiply in
/// a decode step's matrix-vector products (all its cores together), per stored format.
/// `None`: not known, and the roofline's bytes term alone times such weights (right for a
/// GPU, whose dequantisation hides under the memory reads; a CPU's does not: measured with
/// `agentc calibrate`, docs/cost-model.md "Quantized weights").
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DequantRates {
    /// Weights/s of the int8 kernels (GGUF Q8_0, Q6_K).
    pub int8: Option<f64>,
    /// Weights/s of the int4 kernels (GGUF Q4_0, Q4_1, Q4_K).
    pub int4: Option<f64>,
}

/// How many cores one model call keeps busy on average on a CPU device, when it runs alone
/// at batch 1 (its CPU time over its wall time, measured by `agentc calibrate`), per phase.
/// Concurrent calls without batching share the device's [`Device::cores`] by it
/// (docs/simulation.md, "The runtime under concurrent requests").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BusyCores {
    /// During a prefill, in (0, cores].
    pub prefill: f64,
    /// During a decode, in (0, cores].
    pub decode: f64,
}

/// One device (one GPU, one CPU socket set, one accelerator card).
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Unique name (`h100_0`; `cpu` for an entry without `count`).
    pub name: String,
    /// The `[[device]]` entry it was expanded from (`h100`); links may name it.
    pub group: String,
    /// The node (machine) it sits in; tensor-parallel groups stay within one node.
    pub node: String,
    /// CPU, GPU or accelerator.
    pub kind: DeviceKind,
    /// The product (`H100 SXM`).
    pub model: String,
    /// Peak flops per dtype, FLOP/s.
    pub peak_flops: PeakFlops,
    /// Peak memory bandwidth, bytes/s.
    pub mem_bandwidth: f64,
    /// Memory capacity, bytes.
    pub mem_bytes: f64,
    /// On-demand price, USD per hour.
    pub price_per_hour: f64,
    /// Fixed cost of one launch (one kernel launch, one decode step), seconds.
    pub launch_overhead_s: f64,
    /// Achievable fractions of peak.
    pub efficiency: Efficiency,
    /// How fast its quantized kernels dequantise (`dequant_weights_per_s`).
    pub dequant: DequantRates,
    /// The cores of a CPU device (`cores`); `None` when the target does not say.
    pub cores: Option<u32>,
    /// Cores one model call keeps busy (`busy_cores_per_call`, CPU devices with `cores`
    /// only); `None`: unknown, and concurrent calls without batching take the sum of their
    /// times.
    pub busy_cores_per_call: Option<BusyCores>,
    /// The fragment kinds it can run, sorted.
    pub can_run: Vec<FragmentKind>,
}

impl Device {
    /// Whether this device may run fragments of `kind` (host and tool: CPUs only).
    pub fn runs(&self, kind: FragmentKind) -> bool {
        if matches!(kind, FragmentKind::Host | FragmentKind::Tool) && self.kind != DeviceKind::Cpu {
            return false;
        }
        self.can_run.contains(&kind)
    }
}

/// A declared link between two devices or device groups.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The two ends: a device name (`h100_3`), a group name (`h100`), or `*` (any device).
    pub between: [String; 2],
    /// Bandwidth per direction, bytes/s.
    pub bandwidth: f64,
    /// Latency of one message, seconds.
    pub latency: f64,
    /// Whether the link also joins devices on different nodes (default: same node only).
    pub cross_node: bool,
}

/// The bandwidth and latency between two devices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Network {
    /// Bytes/s per direction.
    pub bandwidth: f64,
    /// Seconds per message.
    pub latency: f64,
}

impl Target {
    /// The device called `name`.
    pub fn device(&self, name: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// The link between devices `a` and `b` (indices into [`Target::devices`]): the
    /// most specific matching `[[link]]` (device name 2 points, group 1, `*` 0, summed
    /// over both ends; first declared wins a tie); links join devices of one node unless
    /// `cross_node = true`; without a match, the target's network.
    pub fn link(&self, a: usize, b: usize) -> Network {
        let (da, db) = (&self.devices[a], &self.devices[b]);
        let same_node = da.node == db.node;
        let score = |pat: &str, d: &Device| -> Option<u32> {
            if pat == d.name {
                Some(2)
            } else if pat == d.group {
                Some(1)
            } else if pat == "*" {
                Some(0)
            } else {
                None
            }
        };
        let mut best: Option<(u32, &Link)> = None;
        for link in &self.links {
            if !same_node && !link.cross_node {
                continue;
            }
            let [x, y] = [&link.between[0], &link.between[1]];
            let forward = score(x, da).zip(score(y, db)).map(|(p, q)| p + q);
            let backward = score(x, db).zip(score(y, da)).map(|(p, q)| p + q);
            if let Some(s) = forward.max(backward)
                && best.is_none_or(|(b, _)| s > b)
            {
                best = Some((s, link));
            }
        }
        best.map_or(self.network, |(_, l)| Network {
            bandwidth: l.bandwidth,
            latency: l.latency,
        })
    }

    /// Parses a target from TOML text; `source` names it in errors (a path or a preset).
    pub fn from_toml_str(text: &str, source: &str) -> Result<Target, TargetError> {
        let raw: RawTarget = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            TargetError::Parse {
                source: source.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        build(raw, text, source)
    }
}

/// Why a target could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetError {
    /// The file could not be read.
    Io {
        /// The path.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The TOML is malformed or has a field of the wrong type or name.
    Parse {
        /// File or preset name.
        source: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The TOML is well-formed but a value is out of range or inconsistent.
    Invalid {
        /// File or preset name.
        source: String,
        /// 1-based line of the entry at fault (0 when unknown).
        line: usize,
        /// The field at fault (`device[2].mem_bytes`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Neither a preset nor a readable file has this name.
    Unknown {
        /// The name given.
        name: String,
        /// The preset names.
        presets: Vec<String>,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Io { path, message } => {
                write!(f, "cannot read target file `{path}`: {message}")
            }
            TargetError::Parse {
                source,
                line,
                column,
                message,
            } => {
                write!(
                    f,
                    "{source}:{line}:{column}: invalid target TOML: {message}"
                )
            }
            TargetError::Invalid {
                source,
                line,
                field,
                message,
            } => {
                write!(f, "{source}:{line}: `{field}`: {message}")
            }
            TargetError::Unknown { name, presets } => write!(
                f,
                "no target preset or file named `{name}` (presets: {})",
                presets.join(", ")
            ),
        }
    }
}

impl std::error::Error for TargetError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: String,
    #[serde(default)]
    description: String,
    network: Option<RawNetwork>,
    #[serde(default, rename = "device")]
    devices: Vec<Spanned<RawDevice>>,
    #[serde(default, rename = "link")]
    links: Vec<Spanned<RawLink>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    bandwidth: f64,
    latency: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlops {
    f32: f64,
    f16: Option<f64>,
    bf16: Option<f64>,
    fp8: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDequant {
    int8: Option<f64>,
    int4: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBusy {
    prefill: f64,
    decode: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: String,
    kind: String,
    #[serde(default)]
    model: String,
    count: Option<i64>,
    node: Option<String>,
    peak_flops: RawFlops,
    mem_bandwidth: f64,
    mem_bytes: f64,
    price_per_hour: f64,
    launch_overhead_s: Option<f64>,
    compute_eff: Option<f64>,
    memory_eff: Option<f64>,
    dequant_weights_per_s: Option<RawDequant>,
    cores: Option<i64>,
    busy_cores_per_call: Option<RawBusy>,
    can_run: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    between: [String; 2],
    bandwidth: f64,
    latency: f64,
    #[serde(default)]
    cross_node: bool,
}

/// Parses a fragment kind's TOML spelling (`prefill`, `kv_transfer`, ...).
pub fn parse_fragment_kind(s: &str) -> Option<FragmentKind> {
    Some(match s {
        "prefill" => FragmentKind::Prefill,
        "decode" => FragmentKind::Decode,
        "kv_transfer" => FragmentKind::KvTransfer,
        "encode" => FragmentKind::Encode,
        "host" => FragmentKind::Host,
        "tool" => FragmentKind::Tool,
        "compute" => FragmentKind::Compute,
        _ => return None,
    })
}

/// A fragment kind's TOML and report spelling.
pub fn fragment_kind_name(kind: FragmentKind) -> &'static str {
    match kind {
        FragmentKind::Prefill => "prefill",
        FragmentKind::Decode => "decode",
        FragmentKind::KvTransfer => "kv_transfer",
        FragmentKind::Encode => "encode",
        FragmentKind::Host => "host",
        FragmentKind::Tool => "tool",
        FragmentKind::Compute => "compute",
    }
}

fn build(raw: RawTarget, text: &str, source: &str) -> Result<Target, TargetError> {
    let invalid = |line: usize, field: String, message: String| TargetError::Invalid {
        source: source.to_string(),
        line,
        field,
        message,
    };
    if raw.name.trim().is_empty() {
        return Err(invalid(
            1,
            "name".into(),
            "the target needs a non-empty name".into(),
        ));
    }
    let network = match raw.network {
        Some(n) => {
            if !(n.bandwidth > 0.0
                && n.bandwidth.is_finite()
                && n.latency >= 0.0
                && n.latency.is_finite())
            {
                return Err(invalid(
                    0,
                    "network".into(),
                    "bandwidth must be > 0 and latency >= 0".into(),
                ));
            }
            Network {
                bandwidth: n.bandwidth,
                latency: n.latency,
            }
        }
        None => DEFAULT_NETWORK,
    };
    let mut devices: Vec<Device> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for (i, spanned) in raw.devices.iter().enumerate() {
        let line = line_col(text, spanned.span().start).0;
        let d = spanned.get_ref();
        let field = |f: &str| format!("device[{i}].{f}");
        let positive = |v: f64, f: &str| -> Result<f64, TargetError> {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(invalid(
                    line,
                    field(f),
                    format!("must be a positive number, got {v}"),
                ))
            }
        };
        if d.name.is_empty()
            || !d
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                line,
                field("name"),
                format!(
                    "`{}` is not a valid device name (letters, digits, `_`, `-`)",
                    d.name
                ),
            ));
        }
        if groups.contains(&d.name) {
            return Err(invalid(
                line,
                field("name"),
                format!("device entry `{}` is declared twice", d.name),
            ));
        }
        let kind = DeviceKind::parse(&d.kind).ok_or_else(|| {
            invalid(
                line,
                field("kind"),
                format!("`{}` is not one of cpu, gpu, accelerator", d.kind),
            )
        })?;
        let peak = PeakFlops {
            f32: positive(d.peak_flops.f32, "peak_flops.f32")?,
            f16: d
                .peak_flops
                .f16
                .map(|v| positive(v, "peak_flops.f16"))
                .transpose()?,
            bf16: d
                .peak_flops
                .bf16
                .map(|v| positive(v, "peak_flops.bf16"))
                .transpose()?,
            fp8: d
                .peak_flops
                .fp8
                .map(|v| positive(v, "peak_flops.fp8"))
                .transpose()?,
        };
        let mem_bandwidth = positive(d.mem_bandwidth, "mem_bandwidth")?;
        let mem_bytes = positive(d.mem_bytes, "mem_bytes")?;
        if !(d.price_per_hour >= 0.0 && d.price_per_hour.is_finite()) {
            return Err(invalid(
                line,
                field("price_per_hour"),
                "must be >= 0".into(),
            ));
        }
        let launch = d.launch_overhead_s.unwrap_or(if kind == DeviceKind::Cpu {
            DEFAULT_LAUNCH_OVERHEAD_CPU_S
        } else {
            DEFAULT_LAUNCH_OVERHEAD_ACCEL_S
        });
        if !(launch >= 0.0 && launch.is_finite()) {
            return Err(invalid(
                line,
                field("launch_overhead_s"),
                "must be >= 0".into(),
            ));
        }
        let eff = |v: Option<f64>, default: f64, f: &str| -> Result<f64, TargetError> {
            let v = v.unwrap_or(default);
            if v > 0.0 && v <= 1.0 {
                Ok(v)
            } else {
                Err(invalid(
                    line,
                    field(f),
                    format!("must be in (0, 1], got {v}"),
                ))
            }
        };
        let efficiency = Efficiency {
            compute_eff: eff(d.compute_eff, DEFAULT_COMPUTE_EFF, "compute_eff")?,
            memory_eff: eff(d.memory_eff, DEFAULT_MEMORY_EFF, "memory_eff")?,
        };
        let dequant = match &d.dequant_weights_per_s {
            None => DequantRates::default(),
            Some(r) => DequantRates {
                int8: r.int8.map(|v| positive(v, "dequant_weights_per_s.int8")).transpose()?,
                int4: r.int4.map(|v| positive(v, "dequant_weights_per_s.int4")).transpose()?,
            },
        };
        let cores = match d.cores {
            None => None,
            Some(_) if kind != DeviceKind::Cpu => {
                return Err(invalid(line, field("cores"), format!("only cpu devices take `cores` (this one is {})", kind.as_str())));
            }
            Some(c) if (1..=65536).contains(&c) => Some(c as u32),
            Some(c) => return Err(invalid(line, field("cores"), format!("must be a whole number between 1 and 65536, got {c}"))),
        };
        let busy_cores_per_call = match (&d.busy_cores_per_call, cores) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(invalid(
                    line,
                    field("busy_cores_per_call"),
                    "needs the device's `cores` (only cpu devices take it), which it is a share of".into(),
                ));
            }
            (Some(b), Some(c)) => {
                let share = |v: f64, phase: &str| -> Result<f64, TargetError> {
                    if v > 0.0 && v <= f64::from(c) {
                        Ok(v)
                    } else {
                        Err(invalid(
                            line,
                            field(&format!("busy_cores_per_call.{phase}")),
                            format!("must be in (0, cores] = (0, {c}], got {v}"),
                        ))
                    }
                };
                Some(BusyCores { prefill: share(b.prefill, "prefill")?, decode: share(b.decode, "decode")? })
            }
        };
        let mut can_run = match &d.can_run {
            Some(list) => {
                let mut kinds = Vec::new();
                for k in list {
                    let fk = parse_fragment_kind(k).ok_or_else(|| {
                        invalid(
                            line,
                            field("can_run"),
                            format!("`{k}` is not a fragment kind (prefill, decode, kv_transfer, encode, host, tool, compute)"),
                        )
                    })?;
                    if matches!(fk, FragmentKind::Host | FragmentKind::Tool)
                        && kind != DeviceKind::Cpu
                    {
                        return Err(invalid(
                            line,
                            field("can_run"),
                            format!("only cpu devices run `{k}` fragments"),
                        ));
                    }
                    kinds.push(fk);
                }
                kinds
            }
            None => {
                let mut kinds = vec![
                    FragmentKind::Prefill,
                    FragmentKind::Decode,
                    FragmentKind::KvTransfer,
                    FragmentKind::Encode,
                    FragmentKind::Compute,
                ];
                if kind == DeviceKind::Cpu {
                    kinds.extend([FragmentKind::Host, FragmentKind::Tool]);
                }
                kinds
            }
        };
        can_run.sort();
        can_run.dedup();
        let names: Vec<String> = match d.count {
            None => vec![d.name.clone()],
            Some(c) if (1..=4096).contains(&c) => {
                (0..c).map(|k| format!("{}_{k}", d.name)).collect()
            }
            Some(c) => {
                return Err(invalid(
                    line,
                    field("count"),
                    format!("must be between 1 and 4096, got {c}"),
                ));
            }
        };
        for name in names {
            if devices.iter().any(|x| x.name == name) || groups.contains(&name) {
                return Err(invalid(
                    line,
                    field("name"),
                    format!("device name `{name}` is used twice"),
                ));
            }
            devices.push(Device {
                name,
                group: d.name.clone(),
                node: d.node.clone().unwrap_or_else(|| "node0".to_string()),
                kind,
                model: if d.model.is_empty() {
                    d.name.clone()
                } else {
                    d.model.clone()
                },
                peak_flops: peak.clone(),
                mem_bandwidth,
                mem_bytes,
                price_per_hour: d.price_per_hour,
                launch_overhead_s: launch,
                efficiency,
                dequant,
                cores,
                busy_cores_per_call,
                can_run: can_run.clone(),
            });
        }
        groups.push(d.name.clone());
    }
    if devices.is_empty() {
        return Err(invalid(
            1,
            "device".into(),
            "the target declares no [[device]]".into(),
        ));
    }
    if !devices.iter().any(|d| d.kind == DeviceKind::Cpu) {
        return Err(invalid(
            1,
            "device".into(),
            "the target has no cpu device; host and tool fragments need one".into(),
        ));
    }
    let mut links = Vec::new();
    for (i, spanned) in raw.links.iter().enumerate() {
        let line = line_col(text, spanned.span().start).0;
        let l = spanned.get_ref();
        for end in &l.between {
            let known = end == "*" || devices.iter().any(|d| &d.name == end || &d.group == end);
            if !known {
                return Err(invalid(
                    line,
                    format!("link[{i}].between"),
                    format!("`{end}` names no device or device group"),
                ));
            }
        }
        if !(l.bandwidth > 0.0 && l.bandwidth.is_finite()) {
            return Err(invalid(
                line,
                format!("link[{i}].bandwidth"),
                "must be a positive number".into(),
            ));
        }
        if !(l.latency >= 0.0 && l.latency.is_finite()) {
            return Err(invalid(
                line,
                format!("link[{i}].latency"),
                "must be >= 0".into(),
            ));
        }
        links.push(Link {
            between: l.between.clone(),
            bandwidth: l.bandwidth,
            latency: l.latency,
            cross_node: l.cross_node,
        });
    }
    Ok(Target {
        name: raw.name,
        description: raw.description,
        devices,
        links,
        network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
name = "small"
[[device]]
name = "cpu"
kind = "cpu"
peak_flops = { f32 = 1e12 }
mem_bandwidth = 100e9
mem_bytes = 64e9
price_per_hour = 1.0

[[device]]
name = "gpu"
kind = "gpu"
count = 3
peak_flops = { f32 = 50e12, bf16 = 500e12 }
mem_bandwidth = 2e12
mem_bytes = 80e9
price_per_hour = 3.0

[[link]]
between = ["gpu", "gpu"]
bandwidth = 300e9
latency = 2e-6

[[link]]
between = ["cpu", "gpu_2"]
bandwidth = 10e9
latency = 9e-6

[[link]]
between = ["*", "*"]
bandwidth = 32e9
latency = 5e-6
"#;

    #[test]
    fn parses_and_expands_count() {
        let t = Target::from_toml_str(SMALL, "small.toml").unwrap();
        let names: Vec<_> = t.devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["cpu", "gpu_0", "gpu_1", "gpu_2"]);
        assert_eq!(t.devices[1].group, "gpu");
        assert_eq!(t.devices[1].efficiency.compute_eff, DEFAULT_COMPUTE_EFF);
        assert!(t.devices[0].runs(FragmentKind::Host));
        assert!(!t.devices[1].runs(FragmentKind::Tool));
        assert_eq!(t.devices[1].peak_flops.for_dtype(Dtype::Fp8), 500e12);
        assert_eq!(t.devices[1].peak_flops.for_dtype(Dtype::F16), 500e12);
        assert_eq!(t.devices[0].peak_flops.for_dtype(Dtype::Bf16), 1e12);
    }

    #[test]
    fn dequant_rates_parse_and_must_be_positive() {
        let t = Target::from_toml_str(SMALL, "small.toml").unwrap();
        assert_eq!(t.devices[0].dequant, DequantRates::default());
        let with = SMALL.replacen("price_per_hour = 1.0", "price_per_hour = 1.0\ndequant_weights_per_s = { int4 = 3e10 }", 1);
        let t = Target::from_toml_str(&with, "small.toml").unwrap();
        assert_eq!(t.devices[0].dequant, DequantRates { int8: None, int4: Some(3e10) });
        let bad = SMALL.replacen("price_per_hour = 1.0", "price_per_hour = 1.0\ndequant_weights_per_s = { int4 = 0 }", 1);
        let err = Target::from_toml_str(&bad, "small.toml").unwrap_err().to_string();
        assert!(err.contains("dequant_weights_per_s.int4") && err.contains("positive"), "{err}");
        let unknown = SMALL.replacen("price_per_hour = 1.0", "price_per_hour = 1.0\ndequant_weights_per_s = { int2 = 1e9 }", 1);
        assert!(Target::from_toml_str(&unknown, "small.toml").is_err());
    }

    #[test]
    fn busy_cores_parse_and_are_checked() {
        let t = Target::from_toml_str(SMALL, "small.toml").unwrap();
        assert_eq!((t.devices[0].cores, t.devices[0].busy_cores_per_call), (None, None));
        let with = |extra: &str| SMALL.replacen("price_per_hour = 1.0", &format!("price_per_hour = 1.0\n{extra}"), 1);
        let t = Target::from_toml_str(&with("cores = 2\nbusy_cores_per_call = { prefill = 1.5, decode = 2 }"), "s").unwrap();
        assert_eq!(t.devices[0].cores, Some(2));
        assert_eq!(t.devices[0].busy_cores_per_call, Some(BusyCores { prefill: 1.5, decode: 2.0 }));
        let err = |extra: &str| Target::from_toml_str(&with(extra), "s.toml").unwrap_err().to_string();
        assert_eq!(
            err("cores = 2\nbusy_cores_per_call = { prefill = 1.5, decode = 2.5 }"),
            "s.toml:3: `device[0].busy_cores_per_call.decode`: must be in (0, cores] = (0, 2], got 2.5"
        );
        assert!(err("cores = 2\nbusy_cores_per_call = { prefill = 0, decode = 1 }").contains("busy_cores_per_call.prefill"));
        assert!(err("cores = 2\nbusy_cores_per_call = { prefill = nan, decode = 1 }").contains("got NaN"));
        assert!(err("busy_cores_per_call = { prefill = 1, decode = 1 }").contains("needs the device's `cores`"));
        assert!(err("cores = 0").contains("between 1 and 65536, got 0"));
        assert!(err("cores = 2\nbusy_cores_per_call = { prefill = 1 }").contains("decode"));
        let gpu = SMALL.replacen("price_per_hour = 3.0", "price_per_hour = 3.0\ncores = 4", 1);
        let e = Target::from_toml_str(&gpu, "s.toml").unwrap_err().to_string();
        assert!(e.contains("`device[1].cores`: only cpu devices take `cores` (this one is gpu)"), "{e}");
    }

    #[test]
    fn link_resolution_prefers_specific() {
        let t = Target::from_toml_str(SMALL, "small.toml").unwrap();
        assert_eq!(t.link(1, 2).bandwidth, 300e9);
        assert_eq!(t.link(0, 3).bandwidth, 10e9);
        assert_eq!(t.link(3, 0).latency, 9e-6);
        assert_eq!(t.link(0, 1).bandwidth, 32e9);
    }

    #[test]
    fn syntax_error_has_line() {
        let err = Target::from_toml_str("name = \"x\"\n[[device]\n", "bad.toml").unwrap_err();
        match &err {
            TargetError::Parse { line, .. } => assert_eq!(*line, 2),
            e => panic!("unexpected {e:?}"),
        }
        assert!(err.to_string().starts_with("bad.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_field_is_reported() {
        let text = SMALL.replace("price_per_hour = 3.0", "price_per_hour = 3.0\nprize = 1");
        let err = Target::from_toml_str(&text, "t.toml").unwrap_err();
        assert!(err.to_string().contains("prize"), "{err}");
        assert!(matches!(err, TargetError::Parse { line, .. } if line > 10));
    }

    #[test]
    fn wrong_type_is_reported() {
        let text = SMALL.replace("mem_bytes = 80e9", "mem_bytes = \"lots\"");
        let err = Target::from_toml_str(&text, "t.toml").unwrap_err();
        assert!(matches!(err, TargetError::Parse { line: 17, .. }), "{err}");
    }

    #[test]
    fn invalid_values_name_the_field_and_line() {
        let text = SMALL.replace("mem_bandwidth = 2e12", "mem_bandwidth = -2e12");
        let err = Target::from_toml_str(&text, "t.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.toml:11: `device[1].mem_bandwidth`: must be a positive number, got -2000000000000"
        );
        let text = SMALL.replace("kind = \"gpu\"", "kind = \"tpu\"");
        assert!(
            Target::from_toml_str(&text, "t")
                .unwrap_err()
                .to_string()
                .contains("not one of cpu")
        );
        let text = SMALL.replace(
            "between = [\"cpu\", \"gpu_2\"]",
            "between = [\"cpu\", \"gpu_9\"]",
        );
        let err = Target::from_toml_str(&text, "t").unwrap_err();
        assert!(err.to_string().contains("`gpu_9` names no device"), "{err}");
        let text = SMALL.replace("kind = \"cpu\"", "kind = \"gpu\"");
        assert!(
            Target::from_toml_str(&text, "t")
                .unwrap_err()
                .to_string()
                .contains("no cpu device")
        );
        let text = SMALL.replace("count = 3", "count = 3\ncan_run = [\"tool\"]");
        assert!(
            Target::from_toml_str(&text, "t")
                .unwrap_err()
                .to_string()
                .contains("only cpu devices")
        );
        let text = SMALL.replace("count = 3", "count = 0");
        assert!(
            Target::from_toml_str(&text, "t")
                .unwrap_err()
                .to_string()
                .contains("count")
        );
    }
}
