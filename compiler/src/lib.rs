//! The agentc compiler library: lowering from the checked program to the workflow level,
//! agentc's own verifier, the passes by level with their registry, and the pipeline
//! driver. The front end (`agentc-frontend`) never links MLIR; this crate is where MLIR
//! enters.
#![deny(missing_docs)]

pub mod codegen;
pub mod context;
pub mod conversion;
pub mod diagnostics;
pub mod ir;
pub mod lower;
pub mod mlir_input;
pub mod plan;
pub mod planner;
pub mod passes;
pub mod pipeline;
pub mod verify;
pub mod weights;

use melior::ir::operation::{OperationLike, OperationPrintingFlags};
use melior::ir::Module;
use melior::Context;

/// The compilation phases, in order; their names are the level names (`--emit=PHASE`,
/// `--compile-to=PHASE`). Only the phases this build of agentc can produce are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The untyped syntax tree.
    Ast,
    /// The workflow dialect, after the workflow passes.
    Workflow,
    /// The fragment dialect, planned and scheduled.
    Fragment,
    /// The tensor level: the program's tensor fns (tgraph on builtin tensors).
    Tensor,
    /// The kernel level: bufferised per-workgroup kernels.
    Kernel,
    /// LLVM IR (after the LLVM optimisation pipeline).
    Llvm,
    /// Assembly for the target (x86-64, or PTX for nvptx64).
    Asm,
    /// An object file.
    Obj,
}

/// The workflow-level pass pipeline at optimisation level `opt` (0 runs nothing).
///
/// Canonicalize first so inlining copies folded bodies, inline sub-agents, canonicalize
/// again (arguments of inlined calls may now be literals), then drop dead nodes.
pub fn workflow_pipeline(opt: u8) -> Vec<pipeline::Step> {
    if opt == 0 {
        return Vec::new();
    }
    ["workflow-canonicalize", "workflow-inline-agents", "workflow-canonicalize", "workflow-eliminate-dead-nodes"]
        .iter()
        .filter_map(|name| passes::lookup(name))
        .map(pipeline::Step::Ours)
        .collect()
}

/// The planning pipeline from workflow IR (after the workflow passes) to scheduled
/// fragment IR: the planner, then the scheduler.
pub fn fragment_pipeline() -> Vec<pipeline::Step> {
    ["convert-workflow-to-fragment", "fragment-schedule"].iter().filter_map(|name| passes::lookup(name)).map(pipeline::Step::Ours).collect()
}

/// The kernel-level pipeline from the tensor level: convert-tensor-to-kernel, the
/// transform script (tiling, vectorisation), then one-shot bufferisation with identity
/// layouts at function boundaries; `cse` before `canonicalize` so self-copies fold
/// (MLIR-NOTES §1); then the fixed-size intermediates are packed into one allocation per
/// call (`kernel-pack-buffers`), intermediate buffers are freed, and copies between arguments are
/// skipped when both are the same memory (`kernel-guard-argument-copies`).
pub fn kernel_pipeline() -> Vec<pipeline::Step> {
    let ours = |name: &str| pipeline::Step::Ours(passes::lookup(name).expect("registered pass"));
    vec![
        ours("convert-tensor-to-kernel"),
        pipeline::Step::Upstream("transform-interpreter,canonicalize,cse".into()),
        ours("kernel-drop-transform-scripts"),
        pipeline::Step::Upstream(
            "eliminate-empty-tensors,one-shot-bufferize{bufferize-function-boundaries \
             function-boundary-type-conversion=identity-layout-map},cse,canonicalize"
                .into(),
        ),
        ours("kernel-pack-buffers"),
        ours("kernel-free-buffers"),
        ours("kernel-guard-argument-copies"),
    ]
}

/// From the kernel level to the LLVM dialect (cpu kernels): workgroup ids become
/// arguments, the byte dot products get `vpdpbusd` where the CPU has it
/// (`kernel-x86-vnni`), else `vpmaddubsw` where it has AVX2 (`kernel-x86-avx2-dot`), then
/// the upstream conversions, with each parallel loop cut into one part per worker
/// thread (`kernel-coarsen-parallel-loops`) before `async-parallel-for` makes its tasks;
/// the outlined parallel loop bodies are kept out of the async coroutines (`no_inline`).
pub fn llvm_dialect_pipeline() -> Vec<pipeline::Step> {
    vec![
        pipeline::Step::Ours(passes::lookup("kernel-lower-workgroup-ids").expect("registered pass")),
        pipeline::Step::Ours(passes::lookup("kernel-x86-vnni").expect("registered pass")),
        pipeline::Step::Ours(passes::lookup("kernel-x86-avx2-dot").expect("registered pass")),
        pipeline::Step::Upstream(codegen::PARALLEL_LOOPS_PIPELINE.into()),
        pipeline::Step::Ours(passes::lookup("kernel-coarsen-parallel-loops").expect("registered pass")),
        pipeline::Step::Upstream(codegen::LLVM_DIALECT_PIPELINE.into()),
        pipeline::Step::Ours(passes::lookup("kernel-noinline-parallel-bodies").expect("registered pass")),
    ]
}

/// From the kernel level to NVVM (nvptx kernels): kernels move into a gpu.module as
/// gpu.func, then upstream lowers the gpu.module (`codegen::gpu`).
pub fn gpu_pipeline() -> Vec<pipeline::Step> {
    vec![
        pipeline::Step::Ours(passes::lookup("kernel-outline-gpu").expect("registered pass")),
        pipeline::Step::Upstream(codegen::gpu::NVVM_PIPELINE.into()),
    ]
}

/// The names of every pass the driver's pipelines can run: agentc's registry and the
/// upstream passes of the default pipelines (what `--print-ir-after` may name, with the
/// passes of a `--pass-pipeline`).
pub fn known_pass_names() -> Vec<String> {
    let mut names: Vec<String> = passes::REGISTRY.iter().map(|pass| pass.name.to_string()).collect();
    let pipelines = [workflow_pipeline(3), fragment_pipeline(), kernel_pipeline(), llvm_dialect_pipeline(), gpu_pipeline()];
    for step in pipelines.iter().flatten() {
        names.extend(pipeline::step_pass_names(step));
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// Prints a module as MLIR text; with `debug_info`, every op carries its `loc(...)`.
pub fn print_module(module: &Module, debug_info: bool) -> String {
    let flags = OperationPrintingFlags::new().enable_debug_info(debug_info, false);
    let mut text = module.as_operation().to_string_with_flags(flags).unwrap_or_else(|_| module.as_operation().to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Parses MLIR text (any level); `None` when it does not parse or verify structurally
/// (the reasons went to the context's diagnostic handlers).
///
/// Text MLIR's parser cannot take safely (a NUL byte, nesting past
/// [`mlir_input::MAX_MLIR_NESTING`]) is refused first with an error at its position in `-`,
/// the name MLIR gives the parsed buffer.
pub fn parse_module<'c>(context: &'c Context, text: &str) -> Option<Module<'c>> {
    if let Err(problem) = mlir_input::check_text(text) {
        let location = melior::ir::Location::new(context, "-", problem.line, problem.column);
        ir::emit_error(location, &problem.message);
        return None;
    }
    Module::parse(context, text)
}

/// Verifies a module structurally (MLIR, including IRDL) and semantically (agentc).
pub fn verify_all(module: &Module) -> bool {
    module.as_operation().verify() && verify::verify_module(ir::Op::of(&module.as_operation())).is_ok()
}

/// Parses a command-line duration (`250ms`, `2s`, `1m`, or plain seconds) into seconds, as
/// `--sla` takes it in `agentc` and `agent-opt`.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    match number.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value * scale),
        _ => Err(format!("`{text}` is not a duration: write e.g. `3s`, `500ms` or `1m`")),
    }
}
