//! Builders and names for the `fragment` dialect (reference: `fragment/README.md`).
//!
//! Builders return unattached operations; profile and placement attributes are set
//! afterwards with the `*_ATTR` names below.

use melior::ir::attribute::{FlatSymbolRefAttribute, IntegerAttribute, StringAttribute};
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::IntegerType;
use melior::ir::{Attribute, Identifier, Location, Operation, Type, Value};
use melior::{Context, Error};

fn named<'c>(context: &'c Context, name: &str, value: Attribute<'c>) -> (Identifier<'c>, Attribute<'c>) {
    (Identifier::new(context, name), value)
}

/// `!fragment.kv`.
pub fn kv_type(context: &Context) -> Type<'_> {
    Type::parse(context, KV_TYPE).expect("the fragment dialect is loaded")
}

/// Builds `fragment.prefill` of `model` over `prompt`, with a device pin (`""` when free).
pub fn prefill<'c>(context: &'c Context, prompt: Value<'c, '_>, model: &str, device: &str, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(PREFILL, location)
        .add_operands(&[prompt])
        .add_attributes(&[
            named(context, "model", FlatSymbolRefAttribute::new(context, model).into()),
            named(context, "device", StringAttribute::new(context, device).into()),
        ])
        .add_results(&[kv_type(context)])
        .build()
}

/// The options of a `fragment.decode` (as on `workflow.generate`).
pub struct DecodeOptions<'a> {
    /// The model's symbol name.
    pub model: &'a str,
    /// `max_tokens`.
    pub max_tokens: Attribute<'a>,
    /// `temperature`.
    pub temperature: Attribute<'a>,
    /// The device pin.
    pub device: &'a str,
}

/// Builds `fragment.decode` from a KV cache and a stop list.
pub fn decode<'c>(
    context: &'c Context,
    kv: Value<'c, '_>,
    stop: Value<'c, '_>,
    options: &DecodeOptions<'c>,
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(DECODE, location)
        .add_operands(&[kv, stop])
        .add_attributes(&[
            named(context, "model", FlatSymbolRefAttribute::new(context, options.model).into()),
            named(context, "max_tokens", options.max_tokens),
            named(context, "temperature", options.temperature),
            named(context, "device", StringAttribute::new(context, options.device).into()),
        ])
        .add_results(&[result])
        .build()
}

/// Builds `fragment.kv_transfer` of `bytes` from device `from` to device `to`.
pub fn kv_transfer<'c>(context: &'c Context, kv: Value<'c, '_>, from: &str, to: &str, bytes: i64, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(KV_TRANSFER, location)
        .add_operands(&[kv])
        .add_attributes(&[
            named(context, "from", StringAttribute::new(context, from).into()),
            named(context, "to", StringAttribute::new(context, to).into()),
            named(context, "bytes", IntegerAttribute::new(IntegerType::new(context, 64).into(), bytes).into()),
        ])
        .add_results(&[kv_type(context)])
        .build()
}

/// Builds `fragment.encode` of `model` over `text`, giving `result` (a tensor type).
pub fn encode<'c>(context: &'c Context, text: Value<'c, '_>, model: &str, device: &str, result: Type<'c>, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(ENCODE, location)
        .add_operands(&[text])
        .add_attributes(&[
            named(context, "model", FlatSymbolRefAttribute::new(context, model).into()),
            named(context, "device", StringAttribute::new(context, device).into()),
        ])
        .add_results(&[result])
        .build()
}

/// Builds `fragment.tool` calling the tool function `callee`.
pub fn tool<'c>(context: &'c Context, callee: &str, args: &[Value<'c, '_>], result: Type<'c>, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(TOOL, location)
        .add_operands(args)
        .add_attributes(&[named(context, "callee", FlatSymbolRefAttribute::new(context, callee).into())])
        .add_results(&[result])
        .build()
}

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
/// Discardable i64 attribute on a `workflow.model` whose weights are stored in 8-bit blocks
/// (GGUF Q8_0, Q6_K): how many; absent when none.
pub const MODEL_INT8_WEIGHTS_ATTR: &str = "fragment.int8_weights";
/// Discardable i64 attribute on a `workflow.model` whose weights are stored in 4-bit blocks
/// (GGUF Q4_0, Q4_1, Q4_K): how many; absent when none.
pub const MODEL_INT4_WEIGHTS_ATTR: &str = "fragment.int4_weights";
/// Discardable string attribute on a `workflow.model`: the weights' arithmetic (`bf16`...).
pub const MODEL_DTYPE_ATTR: &str = "fragment.dtype";
