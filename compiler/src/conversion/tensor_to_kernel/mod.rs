//! `convert-tensor-to-kernel`: tensor functions (tgraph on builtin tensors) become
//! per-workgroup kernels in upstream linalg on tensors, with the tiling and vectorisation
//! recipe attached as a transform-dialect script.
//!
//! Why: tgraph ops have no tiling interface of their own; upstream linalg does, and the
//! transform dialect tiles and vectorises it (../shared/MLIR-NOTES.md §1, §2).
//!
//! Input invariant: a module whose tensor functions — user `fn`s (`func.func
//! {workflow.fn}`) and the model functions of `convert-fragment-to-tensor` (`func.func
//! {tgraph.entry}`) — hold tgraph ops, `arith.constant` (dense), `tensor.from_elements`/
//! `tensor.extract` and `func.return` (what `--emit=tensor` prints). Other top-level ops
//! (agents, models, tools) are dropped: the kernel level holds kernels only.
//!
//! Output: for every tensor function `@f(args) -> results` a kernel
//! `func.func @f(args..., weights..., %out0: memref<...>, ...) attributes {kernel.grid =
//! array<i64: N>, kernel.target = "cpu", llvm.emit_c_interface}` that computes ONE
//! workgroup, whose id it reads with `kernel.workgroup_id`; results are written in
//! destination-passing style (`bufferization.to_tensor ... restrict writable` +
//! `materialize_in_destination`, or `memref.store` for a scalar). Each `tgraph.weight`
//! becomes an argument (one per safetensors name, in order of first use), listed in the
//! kernel's `kernel.weights` and in a public `memref.global @f__weights` (the names,
//! newline-separated, NUL-terminated) so that a caller can bind them
//! (dialects/tgraph/README.md). A function that is one 2-D matmul is split over a grid
//! of output tiles indexed by the workgroup id (`matmul.rs`: tall × 64 strips that first
//! copy their slice of B into a contiguous buffer when N and K are ≥ 256, else 64 × up to
//! 256 tiles); every other function is one workgroup. Ops: `basic.rs` (the ops of user fns), `model.rs` (weights,
//! gathers, slices, reshapes, reductions over axes), `norm.rs` (norms, activations),
//! `attention.rs` (rope, attention, the KV cache), `quantized.rs` (weight-only int8/int4
//! weights of a GGUF model: their planar arrays as arguments, dequantised in registers by
//! the linear layers and gathers that read them). Ops over dynamic shapes run as scalar
//! loops; static ones are tiled and vectorised. A matmul over dynamic rows, or over one
//! static row, by a transposed static 2-D tensor (every linear layer `x · Wᵀ` of a
//! prefill, encode or decode-step function) reads W in place, its innermost loop along W's
//! contiguous rows, and the transpose is not materialised (`basic.rs`,
//! `matmul_transposed`); it is an `scf.forall` over tiles of 32 rows of W, which the LLVM
//! pipeline runs on the runtime's threads (`async-parallel-for`, runtime/src/async_runtime.rs),
//! so a one-workgroup model function still uses every core. Every linalg op carries `kernel.op = N`, and a
//! `module attributes {transform.with_named_sequence}` holding `@__transform_main` tiles
//! each op (matmul: K cache tile, then a 4×64×1 register tile; others: the innermost
//! dimension by up to 64), vectorises, hoists loop-invariant subsets and lowers
//! contractions to outer products. [`kernel_pipeline`](crate::kernel_pipeline) then runs
//! the interpreter, `kernel-drop-transform-scripts` and one-shot bufferisation.

mod attention;
mod basic;
mod dot_i8;
mod emitter;
mod gemm;
mod matmul;
mod matvec_q;
mod model;
mod norm;
mod quantized;
mod target;
mod threads;
mod transform;

use std::fmt::Write;

use basic::convert_op;
use emitter::*;
use matmul::{matmul_kernel, single_matmul};
use transform::{transform_script, Tiling};
use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// The result of converting one tensor fn: the kernel text and its tilings.
struct Kernel {
    text: String,
    tilings: Vec<(usize, Tiling)>,
    /// The byte dot-product helpers it calls (`dot_i8.rs`).
    helpers: std::collections::BTreeSet<dot_i8::DotHelper>,
}

/// Converts one tensor fn into its kernel for `cpu`.
fn convert_fn(func: Op, cpu: target::CpuTarget) -> Result<Kernel, Unsupported> {
    let name = ir::symbol_name(func).unwrap_or_default();
    if let Some((m, k, n, elem)) = single_matmul(func) {
        return Ok(matmul_kernel(&name, m, k, n, &elem));
    }
    let entry = func.region_entry(0).ok_or_else(|| Unsupported(func, "a tensor fn without a body".into()))?;
    let mut e = Emitter::new(cpu);
    let mut params = Vec::new();
    for (i, arg) in entry.arguments().into_iter().enumerate() {
        let n = format!("%arg{i}");
        params.push(format!("{n}: {}", arg.ty()));
        e.bind(arg, n);
    }
    let mut outs = Vec::new();
    for op in entry.ops() {
        if op.name() == "func.return" {
            for (i, v) in op.operands().into_iter().enumerate() {
                let out = format!("%out{i}");
                let value = e.name(v);
                match Tt::of(v) {
                    Some(t) => {
                        outs.push(format!("{out}: {}", t.memref()));
                        e.line(&format!(
                            "bufferization.materialize_in_destination {value} in restrict writable {out} : ({}, {}) -> ()",
                            t.tensor(),
                            t.memref()
                        ));
                    }
                    None => {
                        let ty = v.ty().to_string();
                        outs.push(format!("{out}: memref<{ty}>"));
                        e.line(&format!("memref.store {value}, {out}[] : memref<{ty}>"));
                    }
                }
            }
            e.line("return");
            break;
        }
        convert_op(&mut e, op)?;
    }
    // Arguments: the function's own, then its weights (in order of first use), then its
    // results (destination-passing style).
    for (i, (_, ty)) in e.weights.iter().enumerate() {
        params.push(format!("%w{i}: {}", ty.tensor()));
    }
    params.extend(outs);
    let mut text = String::new();
    let mut attrs = String::new();
    if !e.weights.is_empty() {
        let names: Vec<String> = e.weights.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        attrs = format!(", kernel.weights = [{}]", names.join(", "));
        // The same list as a symbol of the object, for a harness that binds the weights:
        // `<fn>__weights`, the names separated by newlines, NUL-terminated.
        let mut bytes: Vec<u8> = e.weights.iter().flat_map(|(n, _)| n.bytes().chain([b'\n'])).collect();
        bytes.push(0);
        let list = bytes.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
        let _ = writeln!(text, "  memref.global constant @{name}__weights : memref<{}xi8> = dense<[{list}]>", bytes.len());
    }
    let _ = writeln!(
        text,
        "  func.func @{name}({}) attributes {{kernel.grid = array<i64: 1>, kernel.target = \"cpu\", llvm.emit_c_interface{attrs}}} {{",
        params.join(", ")
    );
    text.push_str(&e.body);
    text.push_str("  }\n");
    Ok(Kernel { text, tilings: e.tilings, helpers: e.helpers })
}

/// Is `op` a tensor function: a user `fn` or a model function of `convert-fragment-to-tensor`?
fn is_tensor_fn(op: Op) -> bool {
    op.name() == "func.func" && (op.has_attribute("workflow.fn") || op.has_attribute("tgraph.entry"))
}

/// Builds the kernel-level module text for the tensor fns of `module`, for `cpu`.
fn kernel_module_text(module: Op, cpu: target::CpuTarget) -> Result<String, Unsupported> {
    let mut kernels = Vec::new();
    for op in ir::module_ops(module) {
        if is_tensor_fn(op) {
            let name = ir::symbol_name(op).unwrap_or_default();
            kernels.push((name, convert_fn(op, cpu)?));
        }
    }
    let mut text = String::from("module {\n");
    for (_, k) in &kernels {
        text.push_str(&k.text);
    }
    let helpers: std::collections::BTreeSet<dot_i8::DotHelper> = kernels.iter().flat_map(|(_, k)| k.helpers.iter().copied()).collect();
    for helper in helpers {
        text.push_str(&dot_i8::helper_definition(helper));
    }
    if !kernels.is_empty() {
        text.push_str(&transform_script(&kernels));
    }
    text.push_str("}\n");
    Ok(text)
}

/// Replaces the body of `module` with the top-level ops of a module parsed from `text`.
pub(crate) fn replace_module_body(module: Op, text: &str) -> Result<(), PassFailed> {
    let context_ref = module.context();
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let Some(parsed) = melior::ir::Module::parse(context, text) else {
        module.emit_error(&format!("internal error: generated IR does not parse:\n{text}"));
        return Err(PassFailed);
    };
    for op in ir::module_ops(module) {
        op.erase();
    }
    let target = unsafe { mlir_sys::mlirModuleGetBody(mlir_sys::mlirModuleFromOperation(module.0)) };
    for op in ir::module_ops(Op::of(&parsed.as_operation())) {
        unsafe {
            mlir_sys::mlirOperationRemoveFromParent(op.0);
            mlir_sys::mlirBlockAppendOwnedOperation(target, op.0);
        }
    }
    Ok(())
}

/// The pass `convert-tensor-to-kernel`.
pub fn convert_tensor_to_kernel(module: Op, ctx: &PassContext) -> Result<(), PassFailed> {
    match kernel_module_text(module, target::CpuTarget::for_cpu(ctx.cpu.as_deref())) {
        Ok(text) => replace_module_body(module, &text),
        Err(Unsupported(op, message)) => {
            op.emit_error(&format!("cannot lower to kernels: {message}"));
            Err(PassFailed)
        }
    }
}

/// The pass `kernel-drop-transform-scripts`: erases the transform-script modules
/// (`module attributes {transform.with_named_sequence}`) once the interpreter has run.
pub fn drop_transform_scripts(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    for op in ir::module_ops(module) {
        if op.name() == "builtin.module" && op.has_attribute("transform.with_named_sequence") {
            op.erase();
        }
    }
    Ok(())
}

/// The tensor level: keeps the tensor fns (`func.func {workflow.fn}`) and model functions
/// (`func.func {tgraph.entry}`) of a workflow
/// module, made public (they are kernels' sources now), and drops everything else.
pub fn extract_tensor_fns(module: Op) {
    for op in ir::module_ops(module) {
        if is_tensor_fn(op) {
            unsafe {
                let name = mlir_sys::mlirStringRefCreateFromCString(c"sym_visibility".as_ptr());
                mlir_sys::mlirOperationRemoveAttributeByName(op.0, name);
            }
        } else {
            op.erase();
        }
    }
}

/// The pass `kernel-free-buffers`: every `memref.alloc` left by bufferisation (the
/// intermediates of a kernel) gets a `memref.dealloc` before the terminator of its block.
/// Kernels write their results in place (destination-passing style), so no allocation
/// escapes its block. (Upstream's buffer-deallocation-pipeline rejects ops with unknown
/// memory effects, which every IRDL op has.)
pub fn free_buffers(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    for func in ir::module_ops(module) {
        for op in func.nested_ops() {
            if op.name() != "memref.alloc" {
                continue;
            }
            let Some(block) = op.block() else { continue };
            let Some(terminator) = block.terminator() else { continue };
            let location = op.location();
            let dealloc = melior::ir::operation::OperationBuilder::new("memref.dealloc", location)
                .add_operands(&[op.result(0).view()])
                .build()
                .map_err(|_| PassFailed)?;
            unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(block.0, terminator.0, dealloc.into_raw()) };
        }
    }
    Ok(())
}
