//! The workload the scheduler places: fragments with resource profiles, and the data
//! edges between them. The compiler builds it from fragment-level IR; benchmarks and tests
//! build it directly.

/// What kind of unit a fragment is; decides which devices can run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FragmentKind {
    /// LLM prompt processing: compute-bound (matrix-matrix).
    Prefill,
    /// LLM token generation: memory-bandwidth-bound (weights + KV cache per token).
    Decode,
    /// Moving a KV cache between devices (inserted by the scheduler).
    KvTransfer,
    /// Encoder model (embeddings).
    Encode,
    /// A host task (text built-ins): CPU only.
    Host,
    /// A tool call (exec/http): CPU only, mostly waiting.
    Tool,
    /// A compiled tensor function.
    Compute,
}

/// The arithmetic a fragment's flops are done in; picks the device's peak rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dtype {
    /// 32-bit float (the default: every device has an f32 rate).
    #[default]
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16 (LLM weights).
    Bf16,
    /// 8-bit float (E4M3/E5M2).
    Fp8,
}

/// What a fragment costs to run, device-independently.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// Floating-point operations per execution.
    pub flops: f64,
    /// Bytes read from device memory per execution (weights, KV cache, activations).
    pub bytes_read: f64,
    /// Bytes written to device memory per execution.
    pub bytes_written: f64,
    /// Memory the fragment needs resident while it runs, besides model weights
    /// (KV cache, activations).
    pub working_bytes: f64,
    /// Tokens it processes (prefill: prompt tokens) or generates (decode).
    pub tokens: f64,
    /// A device-independent wall time (tools: the expected tool latency), in seconds.
    pub fixed_seconds: f64,
    /// The arithmetic its flops use (selects the device's peak rate; see `cost.rs`).
    pub dtype: Dtype,
}

/// A device pin from `@device(...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pin {
    /// Any device of this kind (`"cpu"`, `"gpu"`).
    Kind(String),
    /// The device with this name in the target (`"h100_0"`).
    Named(String),
}

/// One schedulable unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fragment {
    /// A readable name (`prefill planner @ research.agent:5:16`).
    pub name: String,
    /// What it is.
    pub kind: FragmentKind,
    /// What it costs.
    pub profile: Profile,
    /// The model whose weights it needs resident (index into [`Workload::models`]).
    pub model: Option<usize>,
    /// A placement pin, if any.
    pub pin: Option<Pin>,
    /// Expected executions per request (trip counts × branch probabilities); time and
    /// money scale with it.
    pub weight: f64,
    /// The fragment's own objective (a sub-agent's `@objective`, kept on its inlined
    /// fragments), when it differs from the program's: the improvement phase minimises it
    /// for this fragment before the program's objective, still subject to the SLA
    /// ([`crate::improve::score_with_overrides`]). `None`: the program's objective.
    pub objective: Option<crate::schedule::Objective>,
}

/// A model's memory needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelNeeds {
    /// The model's name in the program.
    pub name: String,
    /// Bytes of weights.
    pub weight_bytes: f64,
    /// Bytes of one all-reduce per token per layer when sharded tensor-parallel
    /// (hidden_size × dtype bytes × 2 per layer, summed over layers).
    pub allreduce_bytes_per_token: f64,
    /// Transformer layers (each costs two all-reduce latencies per forward pass when
    /// sharded); 0 when unknown (then only the bytes term counts).
    pub layers: u32,
    /// Weights stored in 8-bit blocks (GGUF Q8_0, Q6_K) that the kernels dequantise in
    /// registers on every forward pass; 0 for float weights.
    pub int8_weights: f64,
    /// Weights stored in 4-bit blocks (GGUF Q4_0, Q4_1, Q4_K); 0 for float weights.
    pub int4_weights: f64,
}

/// A data dependency: `to` needs `bytes` produced by `from`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Producer (index into [`Workload::fragments`]).
    pub from: usize,
    /// Consumer.
    pub to: usize,
    /// Bytes moved if the two run on different devices.
    pub bytes: f64,
}

/// An `if` of the program: the fragments of each arm and how likely each arm is. Both
/// arms are in the graph (their fragments' weights include the arm's probability); the
/// per-path analysis ([`crate::paths`]) times each combination of arms on its own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Branch {
    /// A readable name (`if (router.agent:12:5)`).
    pub name: String,
    /// The probabilities of the then and else arms (summing to 1).
    pub probabilities: [f64; 2],
    /// The fragments nested anywhere in the then and else arms (nested `if`s included).
    pub arms: [Vec<usize>; 2],
    /// `Some((b, negated))` when this `if` tests the same condition as the earlier branch
    /// `b` (its negation when `negated`), as the guard after an early `return` does: on a
    /// path that reached `b`, this `if`'s arm is decided (`b`'s arm, or the other one).
    pub follows: Option<(usize, bool)>,
}

/// A whole request's fragment graph (a DAG; edges go from lower to higher index is NOT
/// required).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workload {
    /// The fragments.
    pub fragments: Vec<Fragment>,
    /// The edges.
    pub edges: Vec<Edge>,
    /// The models fragments refer to.
    pub models: Vec<ModelNeeds>,
    /// The program's `if`s, outer ones before the ones nested in them.
    pub branches: Vec<Branch>,
}
