//! The nvptx route: bufferised kernels become `gpu.func` kernels in a `gpu.module`
//! (`kernel-outline-gpu`; the workgroup id is the block id, one thread per workgroup in
//! this first slice), upstream lowers the gpu.module to NVVM, and the gpu.module's body is
//! split out into a module of its own, translated to LLVM IR and compiled by inkwell's
//! NVPTX target to PTX (MLIR-NOTES §4 route B, with inkwell in place of opt + llc).

use inkwell::context::Context as LlvmContext;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetTriple};
use melior::Context;
use melior::ir::attribute::{StringAttribute, Attribute};
use melior::ir::{Location, Module};

use crate::ir::{self, Op};
use crate::passes::{PassContext, PassFailed};

/// The upstream lowering of the gpu.module to the NVVM/LLVM dialects.
pub const NVVM_PIPELINE: &str = "gpu.module(convert-linalg-to-loops,scf-forall-to-for,convert-vector-to-scf{full-unroll=true},\
expand-strided-metadata,lower-affine,convert-scf-to-cf,convert-vector-to-llvm,convert-gpu-to-nvvm,\
reconcile-unrealized-casts)";

const NVPTX_DATA_LAYOUT: &str = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64";

/// The pass `kernel-outline-gpu`: wraps every kernel (func.func with kernel.target) into
/// `gpu.module @kernels` as a `gpu.func ... kernel` with `kernel.target = "nvptx"`;
/// `kernel.workgroup_id` becomes `gpu.block_id x`, `kernel.num_workgroups` `gpu.grid_dim x`.
pub fn outline_gpu(module: Op, _: &PassContext) -> Result<(), PassFailed> {
    let text = module.view().to_string();
    let mut out = String::new();
    let mut in_module = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if !in_module && trimmed.starts_with("module") {
            out.push_str("module attributes {gpu.container_module} {\n  gpu.module @kernels {\n");
            in_module = true;
            continue;
        }
        if line == "}" {
            out.push_str("  }\n}\n");
            continue;
        }
        let mut line = line.to_string();
        if trimmed.starts_with("func.func @") && line.contains("kernel.target") {
            line = line.replacen("func.func @", "gpu.func @", 1).replacen(") attributes {", ") kernel attributes {", 1);
            line = line.replace("kernel.target = \"cpu\"", "kernel.target = \"nvptx\"").replace(", llvm.emit_c_interface", "");
        } else if trimmed == "return" {
            line = line.replace("return", "gpu.return");
        } else if let Some(at) = line.find("\"kernel.workgroup_id\"() {dim = 0 : i64} : () -> index") {
            line = format!("{}gpu.block_id x", &line[..at]);
        } else if let Some(at) = line.find("\"kernel.num_workgroups\"() {dim = 0 : i64} : () -> index") {
            line = format!("{}gpu.grid_dim x", &line[..at]);
        } else if let Some(copy) = copy_as_linalg(&line) {
            line = copy;
        }
        out.push_str(&line);
        out.push('\n');
    }
    let context_ref = module.context();
    let context: &melior::Context = unsafe { context_ref.to_ref() };
    let Some(parsed) = Module::parse(context, &out) else {
        module.emit_error("internal error: the gpu.module built from the kernels does not parse");
        return Err(PassFailed);
    };
    for op in ir::module_ops(module) {
        op.erase();
    }
    let body = unsafe { mlir_sys::mlirModuleGetBody(mlir_sys::mlirModuleFromOperation(module.0)) };
    for op in ir::module_ops(Op::of(&parsed.as_operation())) {
        unsafe {
            mlir_sys::mlirOperationRemoveFromParent(op.0);
            mlir_sys::mlirBlockAppendOwnedOperation(body, op.0);
        }
    }
    module.set_attribute("gpu.container_module", Attribute::unit(context));
    Ok(())
}

/// `memref.copy %a, %b : A to B` as `linalg.copy ins(%a : A) outs(%b : B)`: upstream lowers
/// a memref.copy between non-identity layouts (a copy into a subview, as the Llama's KV
/// cache writes are) to a call of the MLIR runtime's `memrefCopy`, which does not exist on
/// the device; convert-linalg-to-loops turns linalg.copy into loads and stores.
fn copy_as_linalg(line: &str) -> Option<String> {
    let at = line.find("memref.copy ")?;
    let (indent, rest) = (&line[..at], &line[at + "memref.copy ".len()..]);
    if !indent.trim().is_empty() {
        return None;
    }
    let (operands, types) = rest.split_once(" : ")?;
    let (source, target) = operands.split_once(", ")?;
    let (source_type, target_type) = types.split_once(" to ")?;
    Some(format!("{indent}linalg.copy ins({source} : {source_type}) outs({target} : {target_type})"))
}

/// PTX text for the gpu.module of `module` (already lowered to NVVM), for `sm` (`sm_90`);
/// the time of each LLVM stage (and the optimised device IR when asked) go to `trace`.
pub fn emit_ptx(context: &Context, module: Op, sm: &str, opt: u8, trace: &mut super::CodegenTrace) -> Result<String, String> {
    let gpu_module = ir::module_ops(module)
        .into_iter()
        .find(|op| op.name() == "gpu.module")
        .ok_or("no gpu.module to compile (no kernels?)")?;
    let device = Module::new(Location::unknown(context));
    let device_op = Op::of(&device.as_operation());
    device_op.set_attribute("llvm.target_triple", StringAttribute::new(context, "nvptx64-nvidia-cuda").into());
    device_op.set_attribute("llvm.data_layout", StringAttribute::new(context, NVPTX_DATA_LAYOUT).into());
    let body = unsafe { mlir_sys::mlirModuleGetBody(mlir_sys::mlirModuleFromOperation(device_op.0)) };
    if let Some(entry) = gpu_module.region_entry(0) {
        for op in entry.ops() {
            unsafe {
                mlir_sys::mlirOperationRemoveFromParent(op.0);
                mlir_sys::mlirBlockAppendOwnedOperation(body, op.0);
            }
        }
    }
    let llvm = LlvmContext::create();
    let translated = trace.time("LLVM: translate the device module to LLVM IR", || super::translate(device_op, &llvm))?;
    trace.time("LLVM: link the device math library", || super::device_math::link(&llvm, &translated))?;
    // Validates `sm` and picks the PTX version it needs (an impossible pair is a fatal
    // error inside LLVM).
    let ptx = super::target_check::ptx_feature(sm)?;
    Target::initialize_nvptx(&InitializationConfig::default());
    let triple = TargetTriple::create(super::target_check::NVPTX_TRIPLE);
    let target = Target::from_triple(&triple).map_err(|e| e.to_string())?;
    let machine = target
        .create_target_machine(&triple, sm, &ptx, super::opt_level(opt), RelocMode::Default, CodeModel::Default)
        .ok_or_else(|| format!("cannot create an NVPTX target machine for `{sm}`"))?;
    let level = opt.max(1).min(3);
    trace.time(&format!("LLVM: default<O{level}> ({sm})"), || super::optimise(&translated, &machine, level))?;
    if trace.keep_llvm_ir {
        trace.llvm_ir = Some(translated.print_to_string().to_string());
    }
    let buffer = trace
        .time(&format!("LLVM: PTX ({sm}, {})", ptx.trim_start_matches('+')), || machine.write_to_memory_buffer(&translated, FileType::Assembly))
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(buffer.as_slice()).into_owned())
}
