//! `kernel-guard-argument-copies`: a whole-buffer copy from one function argument into
//! another runs only when the two are different memory.
//!
//! Why: bufferisation updates the Llama decode step's `k_cache`/`v_cache` arguments in
//! place, then copies each whole `[L, C, Hkv, D]` cache into its `k_out`/`v_out` argument
//! (destination-passing style). A caller that passes the same buffers as input and output
//! caches (dialects/tgraph/README.md, "Calling the compiled model functions"; the runtime's
//! `KvCache`) makes that a copy of a buffer onto itself: 2 × L·C·Hkv·D·4 bytes per step for
//! nothing. Input: bufferised kernels (func.func over memrefs). Output: each
//! `memref.copy %a, %b` whose operands are two different arguments of the enclosing
//! function's entry block, both with the identity layout, sits in
//! `scf.if (aligned pointer of %a != aligned pointer of %b)`. Identity layouts have offset 0,
//! so equal aligned pointers mean the same memory and the copy would be a no-op; different
//! pointers copy exactly as before. Copies from or into anything else (allocations,
//! subviews, strided arguments) are left alone. The rewrite does not decide whether aliasing
//! two arguments is safe for the rest of the kernel: the ABI says which arguments may alias.

use melior::dialect::{arith, scf};
use melior::ir::operation::OperationBuilder;
use melior::ir::r#type::TypeLike;
use melior::ir::{Block, BlockLike, Region, RegionLike, Type};
use mlir_sys::*;

use crate::ir::{self, Op, Val};
use crate::passes::{PassContext, PassFailed};

/// Whether `value` is an argument of `entry`.
fn is_argument_of(value: Val, entry: ir::Blk) -> bool {
    unsafe { mlirValueIsABlockArgument(value.0) && mlirBlockArgumentGetOwner(value.0).ptr == entry.0.ptr }
}

/// Whether `value` is a memref with the identity layout (static offset 0, row-major).
fn identity_layout(value: Val) -> bool {
    let ty = value.ty().to_raw();
    unsafe { mlirTypeIsAMemRef(ty) && mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(ty)) }
}

/// Runs the pass on a module.
pub fn guard_argument_copies(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    let context_ref = module.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let index = Type::index(context);
    for func in ir::module_ops(module) {
        if func.name() != "func.func" {
            continue;
        }
        let Some(entry) = func.region_entry(0) else { continue };
        for copy in func.nested_ops() {
            if copy.name() != "memref.copy" || copy.operand_count() != 2 {
                continue;
            }
            let (source, target) = (copy.operand(0), copy.operand(1));
            if source.0.ptr == target.0.ptr
                || !is_argument_of(source, entry)
                || !is_argument_of(target, entry)
                || !identity_layout(source)
                || !identity_layout(target)
            {
                continue;
            }
            let location = copy.location();
            let pointer = |value: Val| {
                OperationBuilder::new("memref.extract_aligned_pointer_as_index", location)
                    .add_operands(&[value.view()])
                    .add_results(&[index])
                    .build()
                    .map_err(|_| PassFailed)
            };
            let insert = |op: melior::ir::Operation| -> Op { copy.insert_before(op) };
            let source_pointer = insert(pointer(source)?).result(0);
            let target_pointer = insert(pointer(target)?).result(0);
            let differ = insert(arith::cmpi(context, arith::CmpiPredicate::Ne, source_pointer.view(), target_pointer.view(), location)).result(0);
            let then_block = Block::new(&[]);
            then_block.append_operation(scf::r#yield(&[], location));
            let then_region = Region::new();
            then_region.append_block(then_block);
            let guard = insert(scf::r#if(differ.view(), &[], then_region, Region::new(), location));
            let Some(yield_op) = guard.region_entry(0).and_then(|b| b.terminator()) else {
                copy.emit_error("internal error: the guard of a copy has no then-block");
                return Err(PassFailed);
            };
            copy.move_before(yield_op);
        }
    }
    Ok(())
}
