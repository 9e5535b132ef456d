//! `program.o`: what agentc generates besides the kernels for an executable
//! (docs/executables.md, ABI version 1). It holds
//!
//! - `agentc_program_desc`, the program descriptor the runtime's `agentc_main` reads: the
//!   plan JSON, the PTX (or null), the kernel table and the folder model paths are relative to
//!   (the PTX is there when the plan places a fragment on a GPU, [`first_gpu_placement`]);
//! - one `agentc_packed_<name>(void **args, int64_t workgroup)` per kernel, which loads the
//!   memref descriptor pointers from `args` and calls `_mlir_ciface_<name>` (defined in the
//!   kernels' object) with them and the workgroup id, so the runtime calls every kernel the
//!   same way whatever its arity;
//! - `main`, which calls `agentc_main(argc, argv, &agentc_program_desc)`.
//!
//! The module is built with inkwell's IR builder (no text to escape) in the program's order:
//! kernels sorted by name, byte strings as private constants, so the same inputs give a
//! byte-identical object.

use inkwell::context::Context as LlvmContext;
use inkwell::module::Linkage;
use inkwell::targets::FileType;
use inkwell::types::{BasicMetadataTypeEnum, BasicTypeEnum};
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, PointerValue};
use inkwell::AddressSpace;

use agentc_runtime::plan::Plan;

use super::{x86_target_machine, Artifact, CodegenOptions};
use crate::ir::{self, Op};

/// The version of the contract between `program.o` and the runtime (`abi_version`).
pub const ABI_VERSION: i64 = 1;

/// One kernel of the program, as its entry in the kernel table describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelInfo {
    /// The kernel's symbol (`cosine`, `writer_prefill`); its C entry point is
    /// `_mlir_ciface_<name>`.
    pub name: String,
    /// Its arguments (inputs, weights, results), the workgroup id not counted.
    pub num_args: usize,
    /// For each argument, `None` when the kernel takes a memref descriptor, or the scalar
    /// type (`f32`, `i32`, …) it takes by value: the runtime passes every argument as a
    /// descriptor, so the packed wrapper loads such a scalar from its 0-d memref.
    pub scalars: Vec<Option<String>>,
    /// Its workgroups: the product of `kernel.grid`.
    pub grid: i64,
    /// Whether the kernels' object defines `<name>__weights` (the kernel binds weights).
    pub has_weights: bool,
}

/// The kernels of a kernel-level module (after the kernel pipeline, before
/// `kernel-lower-workgroup-ids` adds the workgroup argument): every `func.func` with
/// `kernel.grid`, sorted by name.
pub fn kernels_of(module: Op) -> Result<Vec<KernelInfo>, String> {
    let mut kernels = Vec::new();
    for func in ir::module_ops(module) {
        if func.name() != "func.func" || !func.has_attribute("kernel.grid") {
            continue;
        }
        let name = ir::symbol_name(func).unwrap_or_default();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$') {
            return Err(format!("kernel `{name}` does not have a symbol name a C program can call"));
        }
        let grid_text = func.attribute("kernel.grid").map(|a| a.to_string()).unwrap_or_default();
        let grid = parse_grid(&grid_text).ok_or_else(|| format!("kernel `{name}`: cannot read its grid `{grid_text}`"))?;
        let entry = func.region_entry(0).ok_or_else(|| format!("kernel `{name}` has no body"))?;
        let has_weights = func.attribute("kernel.weights").is_some_and(|a| a.to_string() != "[]");
        let arguments = entry.arguments();
        let mut scalars = Vec::with_capacity(arguments.len());
        for arg in &arguments {
            let ty = arg.ty().to_string();
            scalars.push(match ty.as_str() {
                t if t.starts_with("memref<") => None,
                "f32" | "f64" | "f16" | "bf16" | "i32" | "i64" | "index" => Some(ty),
                other => return Err(format!("kernel `{name}` takes an argument of type `{other}`, which executables cannot pass yet")),
            });
        }
        kernels.push(KernelInfo { name, num_args: arguments.len(), grid, has_weights, scalars });
    }
    kernels.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(kernels)
}

/// The product of `array<i64: a, b, ...>` (at least one workgroup, no overflow).
fn parse_grid(text: &str) -> Option<i64> {
    let inner = text.strip_prefix("array<i64:")?.strip_suffix('>')?;
    let mut product: i64 = 1;
    for dim in inner.split(',') {
        let dim: i64 = dim.trim().parse().ok()?;
        if dim < 1 {
            return None;
        }
        product = product.checked_mul(dim)?;
    }
    Some(product)
}

/// The device of the first fragment of `plan` placed on a device of kind `gpu` (or on a
/// tensor-parallel group holding one), in program order: an executable of such a plan embeds
/// the PTX of its kernels, which the runtime runs through CUDA (docs/cuda.md).
pub fn first_gpu_placement(plan: &Plan) -> Option<String> {
    plan.first_placed(|kind| kind == "gpu").and_then(|op| op.placement.as_ref()).map(|p| p.device.clone())
}

/// What `program.o` describes.
#[derive(Clone, Debug)]
pub struct Program<'a> {
    /// The plan JSON (docs/plan.md).
    pub plan: &'a [u8],
    /// PTX for the GPU placements (embedded with a terminating NUL that `ptx_len` does not
    /// count, as `cuModuleLoadData` reads a C string), or `None`.
    pub ptx: Option<&'a [u8]>,
    /// The kernels of the kernels' object (as [`kernels_of`] gives them).
    pub kernels: &'a [KernelInfo],
    /// The absolute folder of the `.agent` file (model paths are relative to it).
    pub model_base: &'a [u8],
}

/// Generates `program.o` (or its LLVM IR / assembly) for the x86-64 CPU of `options`.
pub fn emit_program(program: &Program, options: &CodegenOptions, artifact: Artifact) -> Result<Vec<u8>, String> {
    if program.model_base.contains(&0) {
        return Err("the model folder's path contains a NUL byte".into());
    }
    let llvm = LlvmContext::create();
    let module = llvm.create_module("agentc_program");
    // program.o is data and trivial glue: it needs no optimisation.
    let machine = x86_target_machine(&CodegenOptions { opt: 0, cpu: options.cpu.clone() })?;
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());

    let ptr = llvm.ptr_type(AddressSpace::default());
    let i64t = llvm.i64_type();
    let i32t = llvm.i32_type();
    let kernel_ty = llvm.opaque_struct_type("agentc_kernel");
    kernel_ty.set_body(&[ptr.into(), ptr.into(), ptr.into(), i64t.into(), i64t.into()], false);
    let program_ty = llvm.opaque_struct_type("agentc_program");
    program_ty.set_body(
        &[i64t.into(), ptr.into(), i64t.into(), ptr.into(), i64t.into(), ptr.into(), i64t.into(), ptr.into()],
        false,
    );

    // A private constant byte string (NUL-terminated when `nul`), as a pointer.
    let bytes = |name: &str, data: &[u8], nul: bool| -> PointerValue {
        let value = llvm.const_string(data, nul);
        let global = module.add_global(value.get_type(), None, name);
        global.set_linkage(Linkage::Private);
        global.set_constant(true);
        global.set_unnamed_addr(true);
        global.set_alignment(1);
        global.set_initializer(&value);
        global.as_pointer_value()
    };
    let i64c = |v: i64| i64t.const_int(v as u64, true);
    let len = |data: &[u8]| i64::try_from(data.len()).map_err(|_| "the plan or PTX is too large".to_string());

    let builder = llvm.create_builder();
    let build = |e: inkwell::builder::BuilderError| format!("cannot build program.o: {e}");
    let mut entries = Vec::new();
    for kernel in program.kernels {
        let name = bytes(&format!("agentc.name.{}", kernel.name), kernel.name.as_bytes(), true);
        // _mlir_ciface_<name>(memref descriptor pointers and scalars by value, i64 workgroup)
        let scalar_type = |ty: &str| -> BasicTypeEnum {
            match ty {
                "f32" => llvm.f32_type().into(),
                "f64" => llvm.f64_type().into(),
                "f16" => llvm.f16_type().into(),
                "bf16" => llvm.bf16_type().into(),
                "i32" => llvm.i32_type().into(),
                _ => i64t.into(),
            }
        };
        let arg_type = |i: usize| -> BasicTypeEnum {
            match kernel.scalars.get(i).and_then(|s| s.as_deref()) {
                Some(ty) => scalar_type(ty),
                None => ptr.into(),
            }
        };
        let mut params: Vec<BasicMetadataTypeEnum> = (0..kernel.num_args).map(|i| arg_type(i).into()).collect();
        params.push(i64t.into());
        let callee = module.add_function(&format!("_mlir_ciface_{}", kernel.name), llvm.void_type().fn_type(&params, false), None);
        let packed_ty = llvm.void_type().fn_type(&[ptr.into(), i64t.into()], false);
        let packed = module.add_function(&format!("agentc_packed_{}", kernel.name), packed_ty, Some(Linkage::Internal));
        builder.position_at_end(llvm.append_basic_block(packed, "entry"));
        let (Some(args), Some(workgroup)) = (packed.get_nth_param(0), packed.get_nth_param(1)) else {
            return Err("cannot build program.o: the packed wrapper has no parameters".into());
        };
        let mut call_args: Vec<BasicMetadataValueEnum> = Vec::new();
        for i in 0..kernel.num_args {
            // SAFETY: an in-bounds GEP over the caller's `void *args[num_args]`.
            let slot = unsafe { builder.build_in_bounds_gep(ptr, args.into_pointer_value(), &[i64c(i as i64)], "") }.map_err(build)?;
            let descriptor = builder.build_load(ptr, slot, "").map_err(build)?.into_pointer_value();
            match kernel.scalars.get(i).and_then(|s| s.as_deref()) {
                None => call_args.push(descriptor.into()),
                Some(ty) => {
                    // A 0-d memref {allocated, aligned, offset}: the value is at aligned[offset].
                    // SAFETY: in-bounds GEPs into the descriptor's words.
                    let aligned_slot = unsafe { builder.build_in_bounds_gep(ptr, descriptor, &[i64c(1)], "") }.map_err(build)?;
                    let aligned = builder.build_load(ptr, aligned_slot, "").map_err(build)?.into_pointer_value();
                    let offset_slot = unsafe { builder.build_in_bounds_gep(i64t, descriptor, &[i64c(2)], "") }.map_err(build)?;
                    let offset = builder.build_load(i64t, offset_slot, "").map_err(build)?.into_int_value();
                    let element = scalar_type(ty);
                    let at = unsafe { builder.build_in_bounds_gep(element, aligned, &[offset], "") }.map_err(build)?;
                    call_args.push(builder.build_load(element, at, "").map_err(build)?.into());
                }
            }
        }
        call_args.push(workgroup.into());
        builder.build_call(callee, &call_args, "").map_err(build)?;
        builder.build_return(None).map_err(build)?;
        let weights = if kernel.has_weights {
            let global = module.add_global(llvm.i8_type(), None, &format!("{}__weights", kernel.name));
            global.set_linkage(Linkage::External);
            global.set_constant(true);
            global.as_pointer_value()
        } else {
            ptr.const_null()
        };
        let fields: [BasicValueEnum; 5] = [
            name.into(),
            packed.as_global_value().as_pointer_value().into(),
            weights.into(),
            i64c(kernel.num_args as i64).into(),
            i64c(kernel.grid).into(),
        ];
        entries.push(kernel_ty.const_named_struct(&fields));
    }
    let kernels = if entries.is_empty() {
        ptr.const_null()
    } else {
        let table = kernel_ty.const_array(&entries);
        let global = module.add_global(table.get_type(), None, "agentc.kernels");
        global.set_linkage(Linkage::Private);
        global.set_constant(true);
        global.set_initializer(&table);
        global.as_pointer_value()
    };
    let plan = bytes("agentc.plan", program.plan, false);
    let (ptx, ptx_len) = match program.ptx {
        Some(ptx) => (bytes("agentc.ptx", ptx, true), len(ptx)?),
        None => (ptr.const_null(), 0),
    };
    let model_base = bytes("agentc.model_base", program.model_base, true);
    let fields: [BasicValueEnum; 8] = [
        i64c(ABI_VERSION).into(),
        plan.into(),
        i64c(len(program.plan)?).into(),
        ptx.into(),
        i64c(ptx_len).into(),
        kernels.into(),
        i64c(entries.len() as i64).into(),
        model_base.into(),
    ];
    let desc = module.add_global(program_ty, None, "agentc_program_desc");
    desc.set_constant(true);
    desc.set_initializer(&program_ty.const_named_struct(&fields));

    // int main(int argc, char **argv) { return agentc_main(argc, argv, &agentc_program_desc); }
    let agentc_main = module.add_function("agentc_main", i32t.fn_type(&[i32t.into(), ptr.into(), ptr.into()], false), None);
    let main = module.add_function("main", i32t.fn_type(&[i32t.into(), ptr.into()], false), None);
    builder.position_at_end(llvm.append_basic_block(main, "entry"));
    let (Some(argc), Some(argv)) = (main.get_nth_param(0), main.get_nth_param(1)) else {
        return Err("cannot build program.o: main has no parameters".into());
    };
    let status = builder
        .build_call(agentc_main, &[argc.into(), argv.into(), desc.as_pointer_value().into()], "status")
        .map_err(build)?
        .try_as_basic_value()
        .basic()
        .ok_or("cannot build program.o: agentc_main returns nothing")?;
    builder.build_return(Some(&status)).map_err(build)?;

    module.verify().map_err(|e| format!("program.o's LLVM IR does not verify (a bug in agentc): {e}"))?;
    match artifact {
        Artifact::LlvmIr => Ok(module.print_to_string().to_bytes().to_vec()),
        Artifact::Assembly | Artifact::Object => {
            let kind = if artifact == Artifact::Object { FileType::Object } else { FileType::Assembly };
            machine.write_to_memory_buffer(&module, kind).map(|b| b.as_slice().to_vec()).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_multiply_and_reject_nonsense() {
        assert_eq!(parse_grid("array<i64: 1>"), Some(1));
        assert_eq!(parse_grid("array<i64: 4, 8>"), Some(32));
        assert_eq!(parse_grid("array<i64: 0>"), None);
        assert_eq!(parse_grid("array<i64: x>"), None);
        assert_eq!(parse_grid("[1]"), None);
        assert_eq!(parse_grid("array<i64: 9223372036854775807, 2>"), None);
    }

    #[test]
    fn program_ir_holds_the_descriptor_wrappers_and_main() {
        let kernels = [
            KernelInfo { name: "cosine".into(), num_args: 3, grid: 1, has_weights: false, scalars: vec![None; 3] },
            KernelInfo { name: "m_prefill".into(), num_args: 5, grid: 4, has_weights: true, scalars: vec![None; 5] },
        ];
        let program = Program { plan: b"{\"plan\": 1}\n", ptx: None, kernels: &kernels, model_base: b"/models" };
        let options = CodegenOptions { opt: 2, cpu: Some("x86-64".into()) };
        let ir = String::from_utf8(emit_program(&program, &options, Artifact::LlvmIr).unwrap()).unwrap();
        for expected in [
            "@agentc_program_desc = constant %agentc_program { i64 1, ptr @agentc.plan, i64 12, ptr null, i64 0, ptr @agentc.kernels, i64 2, ptr @agentc.model_base }",
            "%agentc_kernel { ptr @agentc.name.cosine, ptr @agentc_packed_cosine, ptr null, i64 3, i64 1 }",
            "%agentc_kernel { ptr @agentc.name.m_prefill, ptr @agentc_packed_m_prefill, ptr @m_prefill__weights, i64 5, i64 4 }",
            "@m_prefill__weights = external constant i8",
            "declare void @_mlir_ciface_cosine(ptr, ptr, ptr, i64)",
            "define internal void @agentc_packed_cosine(ptr %0, i64 %1)",
            "call void @_mlir_ciface_m_prefill(ptr %3, ptr %5, ptr %7, ptr %9, ptr %11, i64 %1)",
            "define i32 @main(i32 %0, ptr %1)",
            "call i32 @agentc_main(i32 %0, ptr %1, ptr @agentc_program_desc)",
            "@agentc.model_base = private unnamed_addr constant [8 x i8] c\"/models\\00\", align 1",
        ] {
            assert!(ir.contains(expected), "missing `{expected}` in\n{ir}");
        }
        let object = emit_program(&program, &options, Artifact::Object).unwrap();
        assert_eq!(object, emit_program(&program, &options, Artifact::Object).unwrap(), "program.o is deterministic");
    }

    #[test]
    fn a_program_without_kernels_has_an_empty_table() {
        let program = Program { plan: b"{}", ptx: Some(b"//ptx"), kernels: &[], model_base: b"/" };
        let ir = emit_program(&program, &CodegenOptions::default(), Artifact::LlvmIr).unwrap();
        let ir = String::from_utf8(ir).unwrap();
        assert!(ir.contains("ptr @agentc.ptx, i64 5, ptr null, i64 0, ptr @agentc.model_base"), "{ir}");
        assert!(ir.contains("@agentc.ptx = private unnamed_addr constant [6 x i8] c\"//ptx\\00\""), "the PTX is NUL-terminated: {ir}");
        assert!(!ir.contains("agentc_packed"), "{ir}");
    }

    /// A plan with one `compute` fragment placed on `device` of a target with a CPU and a GPU,
    /// inside an `if` when `nested`.
    fn plan_placing_on(device: &str, nested: bool) -> Plan {
        let compute = serde_json::json!({"op": "compute", "attrs": {"callee": "f"}, "placement": {"device": device}});
        let body = if nested {
            serde_json::json!([{"op": "if", "regions": [{"body": [compute]}, {"body": []}]}])
        } else {
            serde_json::json!([compute])
        };
        serde_json::from_value(serde_json::json!({
            "format": "agentc-plan", "format_version": agentc_runtime::plan::FORMAT_VERSION,
            "target": {"name": "t", "objective": "latency", "devices": [{"name": "cpu", "kind": "cpu"}, {"name": "h100_0", "kind": "gpu"}, {"name": "g", "kind": "accelerator"}]},
            "functions": [{"name": "main", "kind": "agent", "params": [], "results": [], "body": body}]
        }))
        .unwrap()
    }

    #[test]
    fn only_plans_placing_fragments_on_a_gpu_need_ptx() {
        assert_eq!(first_gpu_placement(&plan_placing_on("h100_0", false)).as_deref(), Some("h100_0"));
        assert_eq!(first_gpu_placement(&plan_placing_on("h100_0", true)).as_deref(), Some("h100_0"));
        assert_eq!(first_gpu_placement(&plan_placing_on("cpu+h100_0", false)).as_deref(), Some("cpu+h100_0"));
        assert_eq!(first_gpu_placement(&plan_placing_on("cpu", true)), None);
        assert_eq!(first_gpu_placement(&plan_placing_on("g", false)), None, "an accelerator is not a CUDA GPU");
        assert_eq!(first_gpu_placement(&plan_placing_on("none", false)), None);
    }

    #[test]
    fn a_nul_in_the_model_folder_is_an_error() {
        let program = Program { plan: b"{}", ptx: None, kernels: &[], model_base: b"/a\0b" };
        assert!(emit_program(&program, &CodegenOptions::default(), Artifact::Object).unwrap_err().contains("NUL"));
    }
}
