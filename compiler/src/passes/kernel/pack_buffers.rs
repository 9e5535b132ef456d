//! `kernel-pack-buffers`: a kernel's fixed-size intermediates become views into one
//! allocation per call, packed by lifetime.
//!
//! Why: bufferisation gives every intermediate tensor of a kernel its own `memref.alloc`,
//! freed at the end of the function (`kernel-free-buffers`). A model's decode step has ~23
//! of them per layer: ~700 `malloc`/`free` pairs per generated token on SmolLM2-135M, 6–7 %
//! of a one-thread decode step in `perf` (glibc's aligned allocations split and
//! consolidate chunks), all of it on the thread the other workers wait for. Packed, a call
//! makes one allocation, and intermediates whose lifetimes do not overlap share bytes, so
//! the step reuses a few cache-warm kilobytes instead of touching a new buffer per op.
//!
//! Input: bufferised kernels (func.func over memrefs), before `kernel-free-buffers`.
//! Output: in each function, the `memref.alloc`s of the entry block with a static shape,
//! the identity layout, the default memory space and an element of a whole number of bytes
//! (those that run once per call, their size known at compile time) are replaced by
//! `memref.view`s of one `memref.alloc() : memref<Nxi8>` at the top of the function, each at
//! a 64-byte-aligned offset. An intermediate lives from its `alloc` to the last op of the
//! entry block that uses it or anything derived from it (a use nested in a loop counts as
//! its loop); two that do not live at once may share bytes (first fit, in program order).
//! Allocations that are returned, whose address is taken as an integer, or that ask for an
//! alignment above 64 bytes are left alone;
//! so are dynamic shapes and allocations inside loops and parallel bodies (each iteration
//! needs its own). A function with fewer than two such allocations is unchanged.

use std::collections::HashMap;

use melior::ir::operation::OperationBuilder;
use melior::ir::Type;
use melior::ir::r#type::TypeLike;
use mlir_sys::*;

use crate::ir::{self, Blk, Op, Val};
use crate::passes::{PassContext, PassFailed};

/// The alignment of every packed intermediate (a cache line; what bufferisation asks for).
const ALIGN: u64 = 64;

/// One allocation to pack.
struct Intermediate {
    alloc: Op,
    bytes: u64,
    /// Index in the entry block of the alloc and of its last use.
    start: usize,
    end: usize,
    offset: u64,
}

/// The byte size of a static, identity-layout, default-memory-space memref type whose
/// element is a whole number of bytes; `None` for any other type.
fn static_bytes(ty: MlirType) -> Option<u64> {
    unsafe {
        if !mlirTypeIsAMemRef(ty) || !mlirShapedTypeHasStaticShape(ty) {
            return None;
        }
        if !mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(ty)) || !mlirMemRefTypeGetMemorySpace(ty).ptr.is_null() {
            return None;
        }
        let elem = mlirShapedTypeGetElementType(ty);
        let bits = if mlirTypeIsAInteger(elem) {
            mlirIntegerTypeGetWidth(elem) as u64
        } else if mlirTypeIsAFloat(elem) {
            mlirFloatTypeGetWidth(elem) as u64
        } else {
            return None;
        };
        if bits == 0 || bits % 8 != 0 {
            return None;
        }
        let mut elements: u64 = 1;
        for i in 0..mlirShapedTypeGetRank(ty) {
            elements = elements.checked_mul(u64::try_from(mlirShapedTypeGetDimSize(ty, i as isize)).ok()?)?;
        }
        elements.checked_mul(bits / 8)
    }
}

/// The op of `entry` that is `op` or holds it.
fn ancestor_in(mut op: Op, entry: Blk) -> Option<Op> {
    loop {
        if op.block().is_some_and(|b| b.0.ptr == entry.0.ptr) {
            return Some(op);
        }
        op = op.parent()?;
    }
}

/// Whether values of this type may alias a buffer (memrefs, and tensors made from one).
fn may_alias(value: Val) -> bool {
    let ty = value.ty().to_raw();
    unsafe { mlirTypeIsAMemRef(ty) || mlirTypeIsAUnrankedMemRef(ty) || mlirTypeIsATensor(ty) }
}

/// The index in the entry block of the last op that uses `alloc`'s buffer (through any
/// op whose results may alias it), or `None` when the buffer escapes the function.
fn last_use(alloc: Op, entry: Blk, index: &HashMap<*mut std::ffi::c_void, usize>) -> Option<usize> {
    let mut end = index[&alloc.0.ptr];
    let mut work = vec![alloc.result(0)];
    while let Some(value) = work.pop() {
        for user in value.users() {
            let name = user.name();
            if name == "func.return" || name == "memref.extract_aligned_pointer_as_index" || name == "memref.dealloc" {
                return None;
            }
            let top = ancestor_in(user, entry)?;
            end = end.max(*index.get(&top.0.ptr)?);
            work.extend(user.results().into_iter().filter(|r| may_alias(*r)));
        }
    }
    Some(end)
}

/// Offsets by first fit in program order: each intermediate takes the lowest aligned
/// offset that overlaps no intermediate still alive at its start. Returns the total size.
fn assign_offsets(items: &mut [Intermediate]) -> u64 {
    let mut total = 0;
    for i in 0..items.len() {
        let mut live: Vec<(u64, u64)> = items[..i].iter().filter(|p| p.end >= items[i].start).map(|p| (p.offset, p.offset + p.bytes)).collect();
        live.sort_unstable();
        let mut offset = 0;
        for (lo, hi) in live {
            if offset + items[i].bytes <= lo {
                break;
            }
            offset = offset.max(hi.div_ceil(ALIGN) * ALIGN);
        }
        items[i].offset = offset;
        total = total.max(offset + items[i].bytes);
    }
    total
}

/// Runs the pass on a module.
pub fn pack_buffers(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    let context_ref = module.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let index_ty = Type::index(context);
    for func in ir::module_ops(module) {
        if func.name() != "func.func" {
            continue;
        }
        let Some(entry) = func.region_entry(0) else { continue };
        let ops = entry.ops();
        let index: HashMap<_, _> = ops.iter().enumerate().map(|(i, op)| (op.0.ptr, i)).collect();
        let mut items = Vec::new();
        for (start, &op) in ops.iter().enumerate() {
            if op.name() != "memref.alloc" || op.operand_count() != 0 || op.result_count() != 1 {
                continue;
            }
            // The views sit at multiples of 64 bytes: an alloc asking for more stays one.
            if op.attribute("alignment").and_then(|a| a.to_string().split(':').next()?.trim().parse::<u64>().ok()).is_some_and(|a| a > ALIGN) {
                continue;
            }
            let Some(bytes) = static_bytes(op.result(0).ty().to_raw()) else { continue };
            let Some(end) = last_use(op, entry, &index) else { continue };
            items.push(Intermediate { alloc: op, bytes: bytes.max(1), start, end, offset: 0 });
        }
        if items.len() < 2 {
            continue;
        }
        let total = assign_offsets(&mut items);
        let Some(&first) = ops.first() else { continue };
        let location = first.location();
        let arena_ty = Type::parse(context, &format!("memref<{total}xi8>")).ok_or(PassFailed)?;
        let alignment = melior::ir::Attribute::parse(context, &format!("{ALIGN} : i64")).ok_or(PassFailed)?;
        let arena = OperationBuilder::new("memref.alloc", location)
            .add_results(&[arena_ty])
            .add_attributes(&[(melior::ir::Identifier::new(context, "alignment"), alignment)])
            .add_attributes(&[(melior::ir::Identifier::new(context, "operandSegmentSizes"), melior::ir::Attribute::parse(context, "array<i32: 0, 0>").ok_or(PassFailed)?)])
            .build()
            .map_err(|_| PassFailed)?;
        let arena = first.insert_before(arena).result(0);
        for item in &items {
            let location = item.alloc.location();
            let offset_attr = melior::ir::Attribute::parse(context, &format!("{} : index", item.offset)).ok_or(PassFailed)?;
            let offset = OperationBuilder::new("arith.constant", location)
                .add_results(&[index_ty])
                .add_attributes(&[(melior::ir::Identifier::new(context, "value"), offset_attr)])
                .build()
                .map_err(|_| PassFailed)?;
            let offset = item.alloc.insert_before(offset).result(0);
            let view = OperationBuilder::new("memref.view", location)
                .add_operands(&[arena.view(), offset.view()])
                .add_results(&[item.alloc.result(0).ty()])
                .build()
                .map_err(|_| PassFailed)?;
            let view = item.alloc.insert_before(view).result(0);
            item.alloc.result(0).replace_all_uses_with(view);
            item.alloc.erase();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bytes: u64, start: usize, end: usize) -> Intermediate {
        Intermediate { alloc: Op(MlirOperation { ptr: std::ptr::null_mut() }), bytes, start, end, offset: 0 }
    }

    #[test]
    fn dead_intermediates_share_bytes_and_live_ones_do_not() {
        // a [0, 2], b [1, 3] overlap; c [4, 5] starts after both ended; d [5, 6] overlaps c.
        let mut items = vec![item(100, 0, 2), item(10, 1, 3), item(256, 4, 5), item(64, 5, 6)];
        let total = assign_offsets(&mut items);
        let offsets: Vec<u64> = items.iter().map(|i| i.offset).collect();
        assert_eq!(offsets, vec![0, 128, 0, 256]);
        assert_eq!(total, 320);
    }

    #[test]
    fn a_hole_between_live_intermediates_is_reused_when_it_fits() {
        // a and c stay alive; b dies, leaving [64, 128) free: too small for d (65 bytes),
        // which goes past c, then taken by e (64).
        let mut items = vec![item(64, 0, 9), item(64, 1, 2), item(64, 1, 9), item(65, 3, 9), item(64, 4, 9)];
        assign_offsets(&mut items);
        let offsets: Vec<u64> = items.iter().map(|i| i.offset).collect();
        assert_eq!(offsets, vec![0, 64, 128, 192, 64]);
    }
}
