//! Builders and names for the `fragment` dialect (reference: `fragment/README.md`).

/// `fragment.prefill`
pub const PREFILL: &str = "fragment.prefill";
/// `fragment.decode`
pub const DECODE: &str = "fragment.decode";
/// `fragment.kv_transfer`
pub const KV_TRANSFER: &str = "fragment.kv_transfer";
/// `fragment.encode`
pub const ENCODE: &str = "fragment.encode";
/// `fragment.tool`
pub const TOOL: &str = "fragment.tool";

/// `!fragment.kv`
pub const KV_TYPE: &str = "!fragment.kv";

/// Discardable attribute: the fragment kind of a host or compute op (`"host"`, `"compute"`).
pub const KIND_ATTR: &str = "fragment.kind";
/// Discardable f64 attribute: floating-point operations per execution.
pub const FLOPS_ATTR: &str = "fragment.flops";
/// Discardable f64 attribute: bytes read from device memory per execution.
pub const BYTES_READ_ATTR: &str = "fragment.bytes_read";
/// Discardable f64 attribute: bytes written per execution.
pub const BYTES_WRITTEN_ATTR: &str = "fragment.bytes_written";
/// Discardable f64 attribute: working memory besides weights (KV cache, activations).
pub const WORKING_BYTES_ATTR: &str = "fragment.working_bytes";
/// Discardable f64 attribute: tokens processed (prefill, encode) or generated (decode).
pub const TOKENS_ATTR: &str = "fragment.tokens";
/// Discardable f64 attribute: device-independent seconds (expected tool latency).
pub const FIXED_SECONDS_ATTR: &str = "fragment.fixed_seconds";
/// Discardable f64 attribute: expected executions per request.
pub const WEIGHT_ATTR: &str = "fragment.weight";
/// Discardable i64 attribute on loops: expected trip count.
pub const TRIP_COUNT_ATTR: &str = "fragment.trip_count";
/// Discardable array attribute on scf.if: probabilities of the then and else branches.
pub const BRANCH_WEIGHTS_ATTR: &str = "fragment.branch_weights";
/// Discardable string attribute (after scheduling): the device (or TP group) a fragment runs on.
pub const DEVICE_ATTR: &str = "fragment.device";
/// Discardable f64 attribute (after scheduling): estimated start, seconds from request start.
pub const START_ATTR: &str = "fragment.start";
/// Discardable f64 attribute (after scheduling): estimated finish, seconds.
pub const FINISH_ATTR: &str = "fragment.finish";
/// Discardable f64 attribute (after scheduling): money per request, USD.
pub const COST_ATTR: &str = "fragment.cost";
/// Discardable i64 attribute on a `workflow.model`: bytes of weights.
pub const MODEL_WEIGHT_BYTES_ATTR: &str = "fragment.weight_bytes";
/// Discardable i64 attribute on a `workflow.model`: KV-cache bytes per token.
pub const MODEL_KV_BYTES_PER_TOKEN_ATTR: &str = "fragment.kv_bytes_per_token";
/// Discardable i64 attribute on a `workflow.model`: all-reduce bytes per token when sharded.
pub const MODEL_ALLREDUCE_BYTES_PER_TOKEN_ATTR: &str = "fragment.allreduce_bytes_per_token";
/// Discardable i64 attribute on a `workflow.model`: transformer layers.
pub const MODEL_LAYERS_ATTR: &str = "fragment.layers";
/// Discardable string attribute on a `workflow.model`: the weights' arithmetic (`bf16`...).
pub const MODEL_DTYPE_ATTR: &str = "fragment.dtype";
