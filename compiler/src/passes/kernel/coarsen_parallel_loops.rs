//! `kernel-coarsen-parallel-loops`: each parallel loop of a CPU kernel runs as one
//! contiguous part per worker thread (the count asked at run time), instead of as many
//! tasks as `async-parallel-for` would make of its iterations.
//!
//! Why: `async-parallel-for` (num-workers=-1) splits a loop of T iterations into up to
//! min(T, 8·W) blocks on a machine of W ≤ 4 worker threads (its "oversharding" factor), each
//! block but the first an `async.execute` coroutine: on two threads 16 tasks for a 48-tile
//! FFN layer, 9 for an 18-tile projection. A SmolLM2 decode step runs 271 parallel loops,
//! about 2400 tasks, and each costs a coroutine frame (`aligned_alloc`, often freed by the
//! other thread, so glibc takes its arena locks), a token, the task queue's lock and a
//! group count: `perf` of a Q4_0 decode step on a 2-vCPU EPYC put 19 % of its samples in
//! the async runtime's bookkeeping, the allocator and futex wake-ups, beside 15 % of polling.
//! A tile is small (32 rows of W, microseconds), so that oversharding bought little balance
//! for its price. One part per worker thread: 271 tasks per step; the step's CPU time fell
//! by a fifth and a 60-token prefill of the same model took 7 % less (figures at
//! [`PARTS_PER_WORKER`]); an f32 SmolLM2's prefill did not change.
//!
//! Input: kernel-level IR after `scf-forall-to-parallel` (the CPU pipeline runs the pass
//! just before `async-parallel-for`). Output: every one-dimensional `scf.parallel` with
//! lower bound 0, step 1 and no reductions, not inside another `scf.parallel` and not
//! already split, becomes
//!
//! ```mlir
//! %w = async.runtime.num_worker_threads : index
//! %parts = arith.minsi %ub, (%w * PARTS_PER_WORKER)
//! scf.parallel (%p) = (%c0) to (%parts) step (%c1) {
//!   scf.for %iv = (%p * %ub) / %parts to ((%p + 1) * %ub) / %parts step %c1 {
//!     <the loop's body>
//!   }
//! } {kernel.parts}
//! ```
//!
//! so `async-parallel-for` sees at most `PARTS_PER_WORKER · W` iterations and makes one
//! block of each (its block size is then 1). A part is a contiguous range of the old
//! iterations run in order by one thread, as a block of `async-parallel-for` was: every
//! iteration computes the same values (numerics unchanged), only fewer tasks are made. The
//! worker count is asked at run time (`--threads`), so the IR does not depend on the
//! machine that compiled it. Other loops (several dimensions, other bounds, reductions,
//! nested) are left as they are.

use melior::dialect::arith;
use melior::ir::attribute::IntegerAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Attribute, Block, BlockLike, Identifier, Operation, Region, RegionLike, Type};
use mlir_sys::*;

use crate::ir::{self, Op, Val};
use crate::passes::{PassContext, PassFailed};

/// Parts of a parallel loop per worker thread. One: on SmolLM2's Q4_0 decode step with
/// int8 activations (2-vCPU AVX2 EPYC, `--threads 2`, medians of 9 runs in turns) the step's
/// non-polling CPU time was 12.9 ms with `async-parallel-for`'s own blocks, 11.0 with two
/// parts per worker and 10.4 with one (wall 7.2, 6.4, 6.1 ms); a 60-token prefill 255, 269
/// and 237 ms. Two parts would let a thread that finished early take the rest of a late
/// one's work; on that machine the extra task cost more than the balance gave.
pub const PARTS_PER_WORKER: i64 = 1;

/// The unit attribute on a loop over parts, so that a second run leaves it alone.
const MARK: &str = "kernel.parts";

/// The constant integer value of `value`, if an `arith.constant` defines it.
fn constant_of(value: Val) -> Option<i64> {
    let op = value.defining_op()?;
    if op.name() != "arith.constant" {
        return None;
    }
    IntegerAttribute::try_from(op.attribute("value")?).ok().map(|i| i.value())
}

/// Whether `op` sits inside an `scf.parallel`.
fn nested_in_parallel(op: Op) -> bool {
    let mut at = op.parent();
    while let Some(p) = at {
        if p.name() == "scf.parallel" {
            return true;
        }
        at = p.parent();
    }
    false
}

/// Builds an operation; a builder MLIR refuses fails the pass.
fn build(builder: OperationBuilder) -> Result<Operation, PassFailed> {
    builder.build().map_err(|_| PassFailed)
}

/// Runs the pass on a module.
pub fn coarsen_parallel_loops(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    let context_ref = module.context();
    // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let index = Type::index(context);
    let loops: Vec<Op> = ir::module_ops(module)
        .into_iter()
        .filter(|f| f.name() == "func.func")
        .flat_map(|f| f.nested_ops())
        .filter(|op| op.name() == "scf.parallel")
        .collect();
    for par in loops {
        // Operands: lower bounds, upper bounds, steps, inits (one dimension: 3, no inits).
        if par.operand_count() != 3 || par.result_count() != 0 || par.has_attribute(MARK) || nested_in_parallel(par) {
            continue;
        }
        let (lb, ub, step) = (par.operand(0), par.operand(1), par.operand(2));
        if constant_of(lb) != Some(0) || constant_of(step) != Some(1) {
            continue;
        }
        let Some(body) = par.region_entry(0) else { continue };
        let Some(reduce) = body.terminator() else { continue };
        if body.arguments().len() != 1 || reduce.name() != "scf.reduce" || reduce.operand_count() != 0 {
            continue;
        }
        let location = par.location();
        let constant = |v: i64| arith::constant(context, IntegerAttribute::new(index, v).into(), location);

        // The part count, from the worker threads at run time.
        let workers = par.insert_before(build(OperationBuilder::new("async.runtime.num_worker_threads", location).add_results(&[index]))?).result(0);
        let per = par.insert_before(constant(PARTS_PER_WORKER)).result(0);
        let (c0, c1) = (par.insert_before(constant(0)).result(0), par.insert_before(constant(1)).result(0));
        let want = par.insert_before(arith::muli(workers.view(), per.view(), location)).result(0);
        let parts = par.insert_before(arith::minsi(ub.view(), want.view(), location)).result(0);

        // The loop over parts; part p runs iterations [p·ub/parts, (p+1)·ub/parts).
        let part_region = Region::new();
        let part_block = ir::Blk(part_region.append_block(Block::new(&[(index, location)])).to_raw());
        let p = part_block.arguments()[0];
        let start_of = |at: Val| -> Val {
            let scaled = part_block.append(arith::muli(at.view(), ub.view(), location)).result(0);
            part_block.append(arith::divui(scaled.view(), parts.view(), location)).result(0)
        };
        let begin = start_of(p);
        let next = part_block.append(arith::addi(p.view(), c1.view(), location)).result(0);
        let end = start_of(next);

        // The old body becomes the body of an scf.for over the part's iterations: the same
        // block (its one argument is the induction variable), ending in scf.yield.
        reduce.erase();
        let for_region = Region::new();
        // SAFETY: the block leaves the old loop's region and is owned by the new one.
        unsafe {
            mlirBlockDetach(body.0);
            mlirRegionAppendOwnedBlock(for_region.to_raw(), body.0);
        }
        body.append(build(OperationBuilder::new("scf.yield", location))?);
        part_block.append(build(OperationBuilder::new("scf.for", location).add_operands(&[begin.view(), end.view(), c1.view()]).add_regions([for_region]))?);
        part_block.append(build(OperationBuilder::new("scf.reduce", location))?);

        let segments = Attribute::parse(context, "array<i32: 1, 1, 1, 0>").ok_or(PassFailed)?;
        let coarse = OperationBuilder::new("scf.parallel", location)
            .add_operands(&[c0.view(), parts.view(), c1.view()])
            .add_attributes(&[(Identifier::new(context, "operandSegmentSizes"), segments), (Identifier::new(context, MARK), Attribute::unit(context))])
            .add_regions([part_region]);
        par.insert_before(build(coarse)?);
        par.erase();
    }
    Ok(())
}
