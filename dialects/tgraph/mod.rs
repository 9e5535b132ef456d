//! Builders for the `tgraph` dialect (reference: `tgraph/README.md`).

use melior::ir::attribute::{BoolAttribute, DenseI64ArrayAttribute, FlatSymbolRefAttribute, FloatAttribute, IntegerAttribute, StringAttribute};
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::IntegerType;
use melior::ir::{Attribute, Identifier, Location, Operation, Type, Value, ValueLike};
use melior::{Context, Error};

fn named<'c>(context: &'c Context, name: &str, value: Attribute<'c>) -> (Identifier<'c>, Attribute<'c>) {
    (Identifier::new(context, name), value)
}

fn i64_attr(context: &Context, value: i64) -> Attribute<'_> {
    IntegerAttribute::new(IntegerType::new(context, 64).into(), value).into()
}

fn f32_attr(context: &Context, value: f64) -> Attribute<'_> {
    FloatAttribute::new(context, Type::float32(context), value).into()
}

/// `tgraph.add`
pub const ADD: &str = "tgraph.add";
/// `tgraph.sub`
pub const SUB: &str = "tgraph.sub";
/// `tgraph.mul`
pub const MUL: &str = "tgraph.mul";
/// `tgraph.div`
pub const DIV: &str = "tgraph.div";
/// `tgraph.neg`
pub const NEG: &str = "tgraph.neg";
/// `tgraph.exp`
pub const EXP: &str = "tgraph.exp";
/// `tgraph.sqrt`
pub const SQRT: &str = "tgraph.sqrt";
/// `tgraph.matmul`
pub const MATMUL: &str = "tgraph.matmul";
/// `tgraph.reduce_sum`
pub const REDUCE_SUM: &str = "tgraph.reduce_sum";
/// `tgraph.reduce_mean`
pub const REDUCE_MEAN: &str = "tgraph.reduce_mean";
/// `tgraph.reduce_max`
pub const REDUCE_MAX: &str = "tgraph.reduce_max";
/// `tgraph.norm`
pub const NORM: &str = "tgraph.norm";
/// `tgraph.softmax`
pub const SOFTMAX: &str = "tgraph.softmax";
/// `tgraph.transpose`
pub const TRANSPOSE: &str = "tgraph.transpose";
/// `tgraph.reshape`
pub const RESHAPE: &str = "tgraph.reshape";

/// `tgraph.silu`
pub const SILU: &str = "tgraph.silu";
/// `tgraph.gelu`
pub const GELU: &str = "tgraph.gelu";
/// `tgraph.rmsnorm`
pub const RMSNORM: &str = "tgraph.rmsnorm";
/// `tgraph.layernorm`
pub const LAYERNORM: &str = "tgraph.layernorm";
/// `tgraph.rope`
pub const ROPE: &str = "tgraph.rope";
/// `tgraph.attention`
pub const ATTENTION: &str = "tgraph.attention";
/// `tgraph.attention_cached`
pub const ATTENTION_CACHED: &str = "tgraph.attention_cached";
/// `tgraph.kv_write`
pub const KV_WRITE: &str = "tgraph.kv_write";
/// `tgraph.embedding`
pub const EMBEDDING: &str = "tgraph.embedding";
/// `tgraph.concat`
pub const CONCAT: &str = "tgraph.concat";
/// `tgraph.slice`
pub const SLICE: &str = "tgraph.slice";
/// `tgraph.arange`
pub const ARANGE: &str = "tgraph.arange";
/// `tgraph.weight`
pub const WEIGHT: &str = "tgraph.weight";

/// The elementwise ops (one output element from the same-index input elements, with
/// broadcasting): what `tensor-fuse-elementwise` chains.
pub const ELEMENTWISE: &[&str] = &[ADD, SUB, MUL, DIV, NEG, EXP, SQRT, SILU, GELU];
/// The unary activations `tensor-fuse-matmul-bias-activation` takes after a bias add.
pub const ACTIVATIONS: &[&str] = &[SILU, GELU];
/// The normalisations `tensor-fuse-norm-matmul` fuses into a following matmul.
pub const NORMS: &[&str] = &[RMSNORM, LAYERNORM];

/// Discardable i64 attribute set by the tensor fusion passes: the ops of one function that
/// carry the same value form one fusion group, to be generated as one kernel. A group is a
/// contiguous run of ops in one block whose results, except the last op's, are used only
/// inside the group (the last op is the group's root and only output).
pub const FUSION_GROUP_ATTR: &str = "tgraph.fusion_group";
/// Discardable string attribute on a fusion group's root: what the group is
/// (`"elementwise"`, `"norm_matmul"`, `"matmul_bias_activation"`, joined by `+` when a
/// group was extended by a later pass).
pub const FUSION_KIND_ATTR: &str = "tgraph.fusion_kind";
/// Discardable string attribute on the tensor functions convert-fragment-to-tensor emits:
/// `"prefill"`, `"decode_step"` or `"encode"`.
pub const ENTRY_ATTR: &str = "tgraph.entry";
/// Discardable symbol attribute on those functions: the `workflow.model` they run.
pub const MODEL_ATTR: &str = "tgraph.model";

/// Builds a tgraph op without attributes (add, sub, mul, div, neg, exp, sqrt, matmul,
/// reductions, norm, softmax, reshape, silu, gelu, embedding, arange).
pub fn simple<'c>(
    name: &str,
    operands: &[Value<'c, '_>],
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(name, location).add_operands(operands).add_results(&[result]).build()
}

/// Builds `tgraph.transpose` with the given permutation.
pub fn transpose<'c>(
    context: &'c Context,
    input: Value<'c, '_>,
    permutation: &[i64],
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(TRANSPOSE, location)
        .add_operands(&[input])
        .add_attributes(&[(
            Identifier::new(context, "permutation"),
            DenseI64ArrayAttribute::new(context, permutation).into(),
        )])
        .add_results(&[result])
        .build()
}

/// Builds `tgraph.rmsnorm` (or, with `bias`, `tgraph.layernorm`) with `epsilon`.
pub fn norm<'c>(
    context: &'c Context,
    input: Value<'c, '_>,
    weight: Value<'c, '_>,
    bias: Option<Value<'c, '_>>,
    epsilon: f64,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let (name, operands) = match bias {
        Some(bias) => (LAYERNORM, vec![input, weight, bias]),
        None => (RMSNORM, vec![input, weight]),
    };
    OperationBuilder::new(name, location)
        .add_operands(&operands)
        .add_attributes(&[named(context, "epsilon", f32_attr(context, epsilon))])
        .add_results(&[input.r#type()])
        .build()
}

/// Builds `tgraph.rope` of `input` [T, heads, D] at `positions` [T] with base `theta`.
pub fn rope<'c>(context: &'c Context, input: Value<'c, '_>, positions: Value<'c, '_>, theta: f64, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(ROPE, location)
        .add_operands(&[input, positions])
        .add_attributes(&[named(context, "theta", FloatAttribute::new(context, Type::float64(context), theta).into())])
        .add_results(&[input.r#type()])
        .build()
}

/// Builds `tgraph.attention` (result type: q's).
#[allow(clippy::too_many_arguments)]
pub fn attention<'c>(
    context: &'c Context,
    q: Value<'c, '_>,
    k: Value<'c, '_>,
    v: Value<'c, '_>,
    key_mask: Option<Value<'c, '_>>,
    causal: bool,
    scale: f64,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    let mut operands = vec![q, k, v];
    operands.extend(key_mask);
    OperationBuilder::new(ATTENTION, location)
        .add_operands(&operands)
        .add_attributes(&[
            named(context, "causal", BoolAttribute::new(context, causal).into()),
            named(context, "scale", f32_attr(context, scale)),
        ])
        .add_results(&[q.r#type()])
        .build()
}

/// Builds `tgraph.attention_cached` over layer `layer` of the caches (result type: q's).
#[allow(clippy::too_many_arguments)]
pub fn attention_cached<'c>(
    context: &'c Context,
    q: Value<'c, '_>,
    k_cache: Value<'c, '_>,
    v_cache: Value<'c, '_>,
    position: Value<'c, '_>,
    layer: i64,
    scale: f64,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(ATTENTION_CACHED, location)
        .add_operands(&[q, k_cache, v_cache, position])
        .add_attributes(&[named(context, "layer", i64_attr(context, layer)), named(context, "scale", f32_attr(context, scale))])
        .add_results(&[q.r#type()])
        .build()
}

/// Builds `tgraph.kv_write` of `new` into layer `layer` of `cache` at `position`.
pub fn kv_write<'c>(
    context: &'c Context,
    cache: Value<'c, '_>,
    new: Value<'c, '_>,
    position: Value<'c, '_>,
    layer: i64,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(KV_WRITE, location)
        .add_operands(&[cache, new, position])
        .add_attributes(&[named(context, "layer", i64_attr(context, layer))])
        .add_results(&[cache.r#type()])
        .build()
}

/// Builds `tgraph.concat` of `lhs` and `rhs` along `axis`.
pub fn concat<'c>(
    context: &'c Context,
    lhs: Value<'c, '_>,
    rhs: Value<'c, '_>,
    axis: i64,
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(CONCAT, location)
        .add_operands(&[lhs, rhs])
        .add_attributes(&[named(context, "axis", i64_attr(context, axis))])
        .add_results(&[result])
        .build()
}

/// Builds `tgraph.slice`: `size` entries of dimension `axis` from `start` (negative: from
/// the end).
pub fn slice<'c>(
    context: &'c Context,
    input: Value<'c, '_>,
    axis: i64,
    start: i64,
    size: i64,
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(SLICE, location)
        .add_operands(&[input])
        .add_attributes(&[
            named(context, "axis", i64_attr(context, axis)),
            named(context, "start", i64_attr(context, start)),
            named(context, "size", i64_attr(context, size)),
        ])
        .add_results(&[result])
        .build()
}

/// Builds a reduction (`reduce_sum`, `reduce_mean`, `reduce_max`) over `axes` only.
pub fn reduce_axes<'c>(
    context: &'c Context,
    name: &str,
    input: Value<'c, '_>,
    axes: &[i64],
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(name, location)
        .add_operands(&[input])
        .add_attributes(&[named(context, "axes", DenseI64ArrayAttribute::new(context, axes).into())])
        .add_results(&[result])
        .build()
}

/// Builds `tgraph.weight`: the parameter `name` of the `workflow.model` `model`.
pub fn weight<'c>(context: &'c Context, name: &str, model: &str, result: Type<'c>, location: Location<'c>) -> Result<Operation<'c>, Error> {
    OperationBuilder::new(WEIGHT, location)
        .add_attributes(&[
            named(context, "name", StringAttribute::new(context, name).into()),
            named(context, "model", FlatSymbolRefAttribute::new(context, model).into()),
        ])
        .add_results(&[result])
        .build()
}
