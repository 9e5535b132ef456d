//! Code generation: bufferised kernels (the kernel level) → LLVM dialect (upstream
//! conversions) → LLVM IR (`mlirTranslateModuleToLLVMIR`) → inkwell: the LLVM optimisation
//! pipeline at -O0..3 and a `TargetMachine` per device (x86-64 objects and assembly for the
//! host CPU or `--cpu`; PTX for nvptx64 `sm_XX`).
//!
//! MLIR (mlir-sys) and inkwell (llvm-sys) both link the same static LLVM 22 archives from
//! /usr/lib/llvm-22, so there is one copy of LLVM in the binary and an `LLVMContextRef`
//! made by inkwell can be handed to MLIR's translation (the two crates declare different
//! Rust types for it: the pointer is cast).
//!
//! `program.rs` generates the other object of an executable: the embedded plan, the kernel
//! table and `main` (docs/executables.md).

pub mod device_math;
pub mod gpu;
pub mod program;
pub mod target_check;

use std::time::{Duration, Instant};

use inkwell::OptimizationLevel;
use inkwell::context::Context as LlvmContext;
use inkwell::module::Module as LlvmModule;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple};
use melior::ir::attribute::{IntegerAttribute, TypeAttribute};
use melior::ir::operation::OperationBuilder;
use melior::ir::{Identifier, Type};

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// The upstream conversions from bufferised kernels to parallel loops (`scf.parallel`),
/// before `kernel-coarsen-parallel-loops` sizes them by the worker threads.
pub const PARALLEL_LOOPS_PIPELINE: &str = "convert-linalg-to-loops,scf-forall-to-parallel";

/// The upstream conversions from parallel loops to the LLVM dialect (MLIR-NOTES §1;
/// lower-affine after expand-strided-metadata, which creates affine.apply).
pub const LLVM_DIALECT_PIPELINE: &str = "\
async-parallel-for{async-dispatch=false num-workers=-1 min-task-size=1},async-to-async-runtime,\
async-runtime-ref-counting,async-runtime-ref-counting-opt,arith-expand,convert-async-to-llvm,\
convert-vector-to-scf{full-unroll=true},expand-strided-metadata,lower-affine,\
convert-scf-to-cf,convert-vector-to-llvm,finalize-memref-to-llvm,convert-math-to-llvm,\
convert-to-llvm,reconcile-unrealized-casts";

/// What to write for a CPU module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Artifact {
    /// LLVM IR text, after the optimisation pipeline.
    LlvmIr,
    /// Assembly text.
    Assembly,
    /// An ELF object file.
    Object,
}

/// Code generation options.
#[derive(Clone, Debug, Default)]
pub struct CodegenOptions {
    /// Optimisation level 0..=3 (LLVM's `default<On>` pipeline and codegen level).
    pub opt: u8,
    /// The CPU to generate for (`None`: the host CPU with its features).
    pub cpu: Option<String>,
}

fn opt_level(opt: u8) -> OptimizationLevel {
    match opt {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    }
}

/// The pass `kernel-lower-workgroup-ids` (cpu calling convention): every cpu kernel gets a
/// trailing `index` argument, the workgroup id; `kernel.workgroup_id` (dim 0) becomes that
/// argument and `kernel.num_workgroups` the constant from `kernel.grid`.
pub fn lower_workgroup_ids(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    for func in ir::module_ops(module) {
        if func.name() != "func.func" || !func.attribute("kernel.target").is_some_and(|a| a.to_string() == "\"cpu\"") {
            continue;
        }
        let grid: Vec<i64> = func
            .attribute("kernel.grid")
            .map(|a| a.to_string())
            .and_then(|t| t.strip_prefix("array<i64:").and_then(|s| s.strip_suffix('>')).map(str::to_string))
            .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_default();
        if grid.len() > 1 {
            func.emit_error("cpu kernels with a grid of more than one dimension are not supported yet");
            return Err(PassFailed);
        }
        let Some(entry) = func.region_entry(0) else { continue };
        let context_ref = func.context();
        let context: &melior::Context = unsafe { context_ref.to_ref() };
        let index = Type::index(context);
        let location = func.location();
        let wg = unsafe { mlir_sys::mlirBlockAddArgument(entry.0, melior::ir::TypeLike::to_raw(&index), location.to_raw()) };
        // Rewrite the function type: append `index` to the inputs.
        let ty = func.attribute("function_type").map(|a| a.to_string()).unwrap_or_default();
        let Some(new_ty) = append_input(&ty, "index") else {
            func.emit_error(&format!("internal error: cannot read function type `{ty}`"));
            return Err(PassFailed);
        };
        let Some(parsed) = Type::parse(context, &new_ty) else {
            func.emit_error(&format!("internal error: cannot parse function type `{new_ty}`"));
            return Err(PassFailed);
        };
        func.set_attribute("function_type", TypeAttribute::new(parsed).into());
        for op in func.nested_ops() {
            match op.name().as_str() {
                "kernel.workgroup_id" => {
                    unsafe { mlir_sys::mlirValueReplaceAllUsesOfWith(op.result(0).0, wg) };
                    op.erase();
                }
                "kernel.num_workgroups" => {
                    let n = grid.first().copied().unwrap_or(1);
                    let constant = OperationBuilder::new("arith.constant", op.location())
                        .add_attributes(&[(Identifier::new(context, "value"), IntegerAttribute::new(index, n).into())])
                        .add_results(&[index])
                        .build()
                        .map_err(|_| PassFailed)?;
                    let raw = constant.into_raw();
                    unsafe {
                        let block = mlir_sys::mlirOperationGetBlock(op.0);
                        mlir_sys::mlirBlockInsertOwnedOperationBefore(block, op.0, raw);
                        mlir_sys::mlirValueReplaceAllUsesOfWith(op.result(0).0, mlir_sys::mlirOperationGetResult(raw, 0));
                    }
                    op.erase();
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// `(a, b) -> (c)` with `extra` appended to the inputs.
fn append_input(ty: &str, extra: &str) -> Option<String> {
    let mut depth = 0;
    for (i, c) in ty.char_indices() {
        match c {
            '(' | '<' | '[' | '{' => depth += 1,
            ')' | '>' | ']' | '}' => {
                depth -= 1;
                if depth == 0 && c == ')' {
                    let inner = ty[1..i].trim();
                    let sep = if inner.is_empty() { "" } else { ", " };
                    return Some(format!("({inner}{sep}{extra}){}", &ty[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// Translates an LLVM-dialect module to LLVM IR in `llvm` (inkwell's context).
pub fn translate<'l>(module: Op, llvm: &'l LlvmContext) -> Result<LlvmModule<'l>, String> {
    unsafe {
        mlir_sys::mlirRegisterAllLLVMTranslations(mlir_sys::mlirOperationGetContext(module.0));
        let raw = mlir_sys::mlirTranslateModuleToLLVMIR(module.0, llvm.raw() as mlir_sys::LLVMContextRef);
        if raw.is_null() {
            return Err("the LLVM-dialect module could not be translated to LLVM IR".into());
        }
        Ok(LlvmModule::new(raw as inkwell::llvm_sys::prelude::LLVMModuleRef))
    }
}

/// The x86-64 target machine for `options` (host CPU and features unless `--cpu`).
pub fn x86_target_machine(options: &CodegenOptions) -> Result<TargetMachine, String> {
    Target::initialize_x86(&InitializationConfig::default());
    let triple = TargetTriple::create(target_check::X86_TRIPLE);
    let target = Target::from_triple(&triple).map_err(|e| e.to_string())?;
    let (cpu, features) = match &options.cpu {
        Some(cpu) => {
            target_check::check_cpu(cpu)?;
            (cpu.clone(), String::new())
        }
        None => (TargetMachine::get_host_cpu_name().to_string(), TargetMachine::get_host_cpu_features().to_string()),
    };
    target
        .create_target_machine(&triple, &cpu, &features, opt_level(options.opt), RelocMode::PIC, CodeModel::Default)
        .ok_or_else(|| format!("cannot create an x86-64 target machine for CPU `{cpu}`"))
}

/// Marks every function defined in `module` with `"min-legal-vector-width"="512"`: the
/// vectors the kernels write explicitly (the int8/int4 GEMM's `vector<16xf32>`,
/// tensor_to_kernel/gemm.rs) then stay one 512-bit register on a CPU with AVX-512, where
/// LLVM's tuning for Intel server CPUs (`prefer-vector-width` 256) would otherwise split
/// them in two. What LLVM's vectorisers choose is unchanged (they follow the preferred
/// width), and on a CPU without AVX-512 the attribute changes nothing.
pub fn allow_wide_vectors(module: &LlvmModule, llvm: &LlvmContext) {
    for f in module.get_functions() {
        if f.count_basic_blocks() > 0 {
            f.add_attribute(inkwell::attributes::AttributeLoc::Function, llvm.create_string_attribute("min-legal-vector-width", "512"));
        }
    }
}

/// Optimises `module` for `machine` with LLVM's `default<On>` pipeline.
pub fn optimise(module: &LlvmModule, machine: &TargetMachine, opt: u8) -> Result<(), String> {
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    module.run_passes(&format!("default<O{}>", opt.min(3)), machine, PassBuilderOptions::create()).map_err(|e| e.to_string())
}

/// What code generation reports besides its result, for `--time-passes` and
/// `--dump-phases-to`.
#[derive(Clone, Debug, Default)]
pub struct CodegenTrace {
    /// Whether to keep the optimised LLVM IR text in [`CodegenTrace::llvm_ir`].
    pub keep_llvm_ir: bool,
    /// The LLVM IR after the optimisation pipeline (when `keep_llvm_ir`).
    pub llvm_ir: Option<String>,
    /// (stage, wall time) of each LLVM stage run: translation from the LLVM dialect, the
    /// optimisation pipeline, machine code generation.
    pub timings: Vec<(String, Duration)>,
}

impl CodegenTrace {
    /// Runs `stage`, recording its wall time under `name`.
    pub fn time<T>(&mut self, name: &str, stage: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = stage();
        self.timings.push((name.to_string(), start.elapsed()));
        result
    }
}

/// Generates code for the CPU from an LLVM-dialect module: LLVM IR text, assembly or an
/// object file.
pub fn emit_cpu(module: Op, options: &CodegenOptions, artifact: Artifact) -> Result<Vec<u8>, String> {
    emit_cpu_traced(module, options, artifact, &mut CodegenTrace::default())
}

/// [`emit_cpu`], reporting the time of each LLVM stage (and the optimised IR when asked)
/// in `trace`.
pub fn emit_cpu_traced(module: Op, options: &CodegenOptions, artifact: Artifact, trace: &mut CodegenTrace) -> Result<Vec<u8>, String> {
    let llvm = LlvmContext::create();
    let translated = trace.time("LLVM: translate the LLVM dialect to LLVM IR", || translate(module, &llvm))?;
    let machine = x86_target_machine(options)?;
    allow_wide_vectors(&translated, &llvm);
    trace.time(&format!("LLVM: default<O{}> (x86-64)", options.opt.min(3)), || optimise(&translated, &machine, options.opt))?;
    translated.verify().map_err(|e| format!("generated LLVM IR does not verify: {e}"))?;
    let text = (trace.keep_llvm_ir || artifact == Artifact::LlvmIr).then(|| translated.print_to_string().to_string());
    if trace.keep_llvm_ir {
        trace.llvm_ir = text.clone();
    }
    match artifact {
        Artifact::LlvmIr => Ok(text.unwrap_or_default().into_bytes()),
        Artifact::Assembly | Artifact::Object => {
            let kind = if artifact == Artifact::Object { FileType::Object } else { FileType::Assembly };
            let stage = if artifact == Artifact::Object { "LLVM: x86-64 object code" } else { "LLVM: x86-64 assembly" };
            let buffer = trace.time(stage, || machine.write_to_memory_buffer(&translated, kind)).map_err(|e| e.to_string())?;
            Ok(buffer.as_slice().to_vec())
        }
    }
}
