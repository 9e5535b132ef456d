//! Names and builders for the `kernel` dialect (reference: `kernel/README.md`).
//!
//! A kernel is an upstream `func.func` (cpu) or `gpu.func` (nvptx) carrying the
//! discardable attributes [`GRID`] and [`TARGET`]; it computes one workgroup.

use melior::ir::attribute::IntegerAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Identifier, Location, Operation, Type};
use melior::{Context, Error};

/// `kernel.workgroup_id`
pub const WORKGROUP_ID: &str = "kernel.workgroup_id";
/// `kernel.num_workgroups`
pub const NUM_WORKGROUPS: &str = "kernel.num_workgroups";
/// `kernel.launch`
pub const LAUNCH: &str = "kernel.launch";
/// The kernel attribute holding the grid (`array<i64: ...>`, workgroups per dimension).
pub const GRID: &str = "kernel.grid";
/// The kernel attribute naming the target (`"cpu"` or `"nvptx"`).
pub const TARGET: &str = "kernel.target";

fn index_query<'c>(name: &str, context: &'c Context, dim: i64, location: Location<'c>) -> Result<Operation<'c>, Error> {
    let i64_type = Type::parse(context, "i64").expect("i64 parses");
    OperationBuilder::new(name, location)
        .add_attributes(&[(Identifier::new(context, "dim"), IntegerAttribute::new(i64_type, dim).into())])
        .add_results(&[Type::index(context)])
        .build()
}

/// Builds `kernel.workgroup_id {dim}`.
pub fn workgroup_id<'c>(context: &'c Context, dim: i64, location: Location<'c>) -> Result<Operation<'c>, Error> {
    index_query(WORKGROUP_ID, context, dim, location)
}

/// Builds `kernel.num_workgroups {dim}`.
pub fn num_workgroups<'c>(context: &'c Context, dim: i64, location: Location<'c>) -> Result<Operation<'c>, Error> {
    index_query(NUM_WORKGROUPS, context, dim, location)
}
