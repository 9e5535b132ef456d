//! Builders for the `tgraph` dialect (reference: `tgraph/README.md`).

use melior::ir::attribute::DenseI64ArrayAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Identifier, Location, Operation, Type, Value};
use melior::{Context, Error};

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

/// Builds a tgraph op without attributes (every op but transpose).
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
