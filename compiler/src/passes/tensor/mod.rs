//! Passes at the tensor level (`tgraph`), and the fusion-group helpers they share.
//!
//! Fusion is recorded, not materialised: the ops of a group keep their own semantics and
//! carry `tgraph.fusion_group = N` (the root, the group's last op and only output, also
//! `tgraph.fusion_kind`); the passes make each group a contiguous run of ops in one block
//! whose inner results are used only inside it, so the kernel lowering can generate the
//! group as one kernel without materialising the inner tensors. Why not a fused op: IRDL
//! ops cannot hold regions sensibly (see DESIGN.md, "IRDL facts"), and an IRDL variadic
//! operand binds one type for all its values, so a `tgraph.fused(inputs...)` could not take
//! inputs of different shapes; an expression string would be a second IR to parse and
//! verify. With marks, a lowering that ignores them is still correct.

pub mod eliminate_dead_values;
pub mod fuse_elementwise;
pub mod fuse_matmul_bias_activation;
pub mod fuse_norm_matmul;
pub mod specialize_shapes;

use agentc_dialects::{tgraph as tg, workflow as wf};
use melior::ir::attribute::{IntegerAttribute, StringAttribute};
use melior::ir::r#type::IntegerType;

use crate::ir::{self, Op, Val};

/// The tensor-level pipeline at optimisation level `opt`, by flag (after
/// `convert-fragment-to-tensor`): specialise shapes, fuse (norm+matmul, then
/// matmul+bias+activation, then elementwise chains into what they extend), drop dead values.
pub fn pipeline(opt: u8) -> Vec<&'static str> {
    if opt == 0 {
        return vec!["tensor-eliminate-dead-values"];
    }
    vec![
        "tensor-specialize-shapes",
        "tensor-fuse-norm-matmul",
        "tensor-fuse-matmul-bias-activation",
        "tensor-fuse-elementwise",
        "tensor-eliminate-dead-values",
    ]
}

/// The `func.func` ops of a module.
pub fn functions(module: Op) -> Vec<Op> {
    ir::module_ops(module).into_iter().filter(|op| op.name() == "func.func").collect()
}

/// The op using `value`, when it has exactly one use.
pub fn single_user(value: Val) -> Option<Op> {
    match value.users().as_slice() {
        [user] => Some(*user),
        _ => None,
    }
}

/// The fusion group of `op`, if it is in one.
pub fn group_of(op: Op) -> Option<i64> {
    wf::int_attr(&op.view(), tg::FUSION_GROUP_ATTR)
}

/// Whether `op` is the root (carries the kind) of its group.
pub fn is_root(op: Op) -> bool {
    op.has_attribute(tg::FUSION_KIND_ATTR)
}

/// The members of group `group` in `function`, in program order.
pub fn members(function: Op, group: i64) -> Vec<Op> {
    function.nested_ops().into_iter().filter(|op| group_of(*op) == Some(group)).collect()
}

/// A group number not used in `function`.
pub fn fresh_group(function: Op) -> i64 {
    function.nested_ops().into_iter().filter_map(group_of).max().map_or(0, |g| g + 1)
}

/// The kind of `op`'s group (on its root).
pub fn kind_of(op: Op) -> String {
    wf::string_attr(&op.view(), tg::FUSION_KIND_ATTR).unwrap_or_default()
}

fn set_group(op: Op, group: i64) {
    let context_ref = op.context();
    // SAFETY: `context_ref` outlives `context`'s uses.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    op.set_attribute(tg::FUSION_GROUP_ATTR, IntegerAttribute::new(IntegerType::new(context, 64).into(), group).into());
}

fn set_kind(op: Op, kind: &str) {
    let context_ref = op.context();
    // SAFETY: as above.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    op.set_attribute(tg::FUSION_KIND_ATTR, StringAttribute::new(context, kind).into());
}

/// Makes `ops` (in program order, one block; the last is the root; every other op's results
/// used only by later ops of the list) a fusion group `group` of `kind`: marks them and moves
/// them, in order, right before the root so the group is contiguous. Moving an op later is
/// legal here: its operands are defined before its old place, its users are later members.
pub fn form_group(ops: &[Op], group: i64, kind: &str) {
    let Some(&root) = ops.last() else { return };
    for &op in ops {
        set_group(op, group);
        if op != root {
            unsafe { mlir_sys::mlirOperationRemoveAttributeByName(op.0, melior::StringRef::new(tg::FUSION_KIND_ATTR).to_raw()) };
            op.move_before(root);
        }
    }
    set_kind(root, kind);
}

/// Extends the group whose root is `root` with `consumer` (its single user) as the new
/// root; `suffix` is appended to the kind.
pub fn extend_group(function: Op, root: Op, consumer: Op, suffix: &str) {
    let Some(group) = group_of(root) else { return };
    let kind = format!("{}+{suffix}", kind_of(root));
    let mut ops = members(function, group);
    ops.push(consumer);
    form_group(&ops, group, &kind);
}

/// Whether every result of `op` is used by `user` only.
pub fn feeds_only(op: Op, user: Op) -> bool {
    op.results().into_iter().all(|r| r.users().iter().all(|u| *u == user)) && op.results().iter().any(|r| r.has_uses())
}

/// Same block.
pub fn same_block(a: Op, b: Op) -> bool {
    a.block().map(|x| x.0.ptr) == b.block().map(|x| x.0.ptr)
}
