//! `agentc check` and `agentc build`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentc_compiler::diagnostics::{to_source_diagnostics, DiagnosticCollector};
use agentc_compiler::passes::PassContext;
use agentc_compiler::pipeline::{parse_pipeline, PassRunner, RunOptions, Step};
use agentc_compiler::codegen::{self, Artifact, CodegenOptions};
use agentc_compiler::conversion::tensor_to_kernel::extract_tensor_fns;
use agentc_compiler::{
    context, fragment_pipeline, gpu_pipeline, kernel_pipeline, llvm_dialect_pipeline, lower, print_module, workflow_pipeline,
};
use agentc_frontend::diagnostic::{render, Diagnostic};
use agentc_frontend::{check_bytes, parse, CheckMode, CheckOptions};
use clap::Args;
use melior::ir::Module;
use melior::Context;

use crate::output::{write_bytes_atomically, write_output};
use crate::Emit;

/// Where and how to schedule (shared by `build` and `schedule`).
#[derive(Args, Clone, Debug, Default)]
pub struct TargetArgs {
    /// The target: a preset name (`agentc targets` lists them) or a TOML file.
    #[arg(long, default_value = "host")]
    pub target: String,
    /// Optimise for `latency` or `cost` (overrides main's @objective).
    #[arg(long)]
    pub objective: Option<String>,
    /// A latency bound for the whole request, e.g. `3s`, `500ms`, `1m` (overrides main's @sla).
    #[arg(long, value_parser = agentc_compiler::parse_duration)]
    pub sla: Option<f64>,
    /// What the SLA is judged on when the program branches: `worst` (the slowest path
    /// through its ifs, the default) or `expected` (the paths weighted by probability).
    #[arg(long, value_parser = ["worst", "expected"])]
    pub sla_basis: Option<String>,
}


/// Options of `agentc build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The input: a .agent file, or MLIR at the workflow or fragment level (.mlir).
    pub(crate) file: PathBuf,
    /// Where to write the result (default: stdout for text phases). With a .agent input and
    /// no --emit, `-o FILE` builds an executable unless FILE ends in .mlir.
    #[arg(short = 'o', long = "output")]
    pub(crate) output: Option<PathBuf>,
    /// Stop at this phase and write it (phase names are level names; default: `exe` with
    /// `-o FILE` for a .agent input, unless FILE ends in .mlir; else `workflow`).
    #[arg(long, value_enum)]
    pub(crate) emit: Option<Emit>,
    /// Same as --emit, in IREE's spelling: stop after this phase.
    #[arg(long = "compile-to", value_enum)]
    pub(crate) compile_to: Option<Emit>,
    /// Run this pass pipeline instead of the default one
    /// (`agentc passes` lists the names; e.g. `workflow-canonicalize,workflow-inline-agents`).
    #[arg(long = "pass-pipeline")]
    pub(crate) pass_pipeline: Option<String>,
    #[command(flatten)]
    pub(crate) compile: CompileArgs,
}

/// The compilation options shared by `agentc build` and `agentc run`.
#[derive(Args, Clone, Debug)]
pub struct CompileArgs {
    /// Optimisation level: -O0 runs no workflow passes; -O1 and above run the workflow pipeline.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
    pub opt: u8,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the IR after every pass (to stderr).
    #[arg(long = "print-ir-after-all")]
    pub print_ir_after_all: bool,
    /// Print the IR after the named pass (repeatable; to stderr).
    #[arg(long = "print-ir-after")]
    pub print_ir_after: Vec<String>,
    /// Print the wall time of every pass (to stderr).
    #[arg(long = "time-passes")]
    pub time_passes: bool,
    /// Write each phase's output to DIR as N.PHASE.mlir (as IREE's --dump-compilation-phases-to).
    #[arg(long = "dump-phases-to")]
    pub dump_phases_to: Option<PathBuf>,
    /// Print MLIR locations (`loc(...)`) with the IR.
    #[arg(long = "mlir-print-debuginfo")]
    pub debug_info: bool,
    /// The x86-64 CPU to generate code for (`--emit=llvm|asm|obj|exe`; default: the host CPU
    /// and its features), e.g. `x86-64-v3`, `znver4`, `skylake-avx512`.
    #[arg(long)]
    pub cpu: Option<String>,
    /// The NVIDIA architecture of the PTX (`sm_80`, `sm_90`): for `--emit=ptx` (default
    /// sm_90) and for executables whose plan places fragments on a GPU, which embed the PTX
    /// of their kernels (default sm_80, which the driver also compiles for newer GPUs).
    #[arg(long)]
    pub gpu: Option<String>,
}

impl CompileArgs {
    fn run_options(&self) -> RunOptions {
        RunOptions {
            print_ir_after_all: self.print_ir_after_all,
            print_ir_after: self.print_ir_after.clone(),
            time_passes: self.time_passes,
        }
    }
}

impl BuildArgs {
    /// The phase to stop at: --compile-to, else --emit, else an executable for `-o FILE`
    /// (a .agent input, FILE not ending in .mlir), else the workflow level.
    fn phase(&self) -> Emit {
        if let Some(emit) = self.compile_to.or(self.emit) {
            return emit;
        }
        let agent_input = self.file.extension().is_some_and(|e| e == "agent");
        match &self.output {
            Some(output) if agent_input && output != Path::new("-") && output.extension().is_none_or(|e| e != "mlir") => Emit::Exe,
            _ => Emit::Workflow,
        }
    }
}

/// `agentc check FILE`.
pub fn check(file: &Path) -> ExitCode {
    let Some(bytes) = read(file) else { return ExitCode::from(1) };
    let options = CheckOptions { mode: CheckMode::Check, base_dir: base_dir(file) };
    let checked = check_bytes(&bytes, &options);
    let source = String::from_utf8_lossy(&bytes);
    report(&checked.diagnostics, file, &source);
    if checked.module.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// An input file read and ready for the pipeline.
pub struct Input {
    /// The path as given.
    pub file: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its text (lossy for invalid UTF-8, which the front end reports).
    pub source: String,
}

impl Input {
    /// Reads `file`, or reports why it cannot.
    pub fn read(file: &Path) -> Option<Input> {
        let bytes = read(file)?;
        let source = String::from_utf8_lossy(&bytes).into_owned();
        Some(Input { file: file.to_path_buf(), bytes, source })
    }

    fn is_mlir(&self) -> bool {
        self.file.extension().is_some_and(|e| e == "mlir")
    }

    /// The pass context for this input and target options.
    pub fn pass_context(&self, target: &TargetArgs) -> PassContext {
        PassContext {
            base_dir: base_dir(&self.file),
            target: Some(target.target.clone()),
            objective: target.objective.clone(),
            sla_seconds: target.sla,
            sla_basis: match target.sla_basis.as_deref() {
                Some("expected") => agentc_scheduler::SlaBasis::Expected,
                _ => agentc_scheduler::SlaBasis::Worst,
            },
        }
    }
}

/// Checks and lowers a .agent file (or parses MLIR) into a verified module.
pub fn load_module<'c>(context: &'c Context, collector: &DiagnosticCollector, input: &Input) -> Result<Module<'c>, ExitCode> {
    let module = if input.is_mlir() {
        match agentc_compiler::parse_module(context, &input.source) {
            Some(module) => module,
            None => return Err(fail_mlir(collector, &input.file, &input.source)),
        }
    } else {
        let options = CheckOptions { mode: CheckMode::Build, base_dir: base_dir(&input.file) };
        let checked = check_bytes(&input.bytes, &options);
        report(&checked.diagnostics, &input.file, &input.source);
        let Some(hir) = checked.module else { return Err(ExitCode::from(1)) };
        let builder = lower::Builder::new(context, &input.file.display().to_string(), &input.source);
        match lower::lower_module(&builder, &hir) {
            Ok(module) => module,
            Err(error) => {
                eprintln!("error: {error}");
                return Err(ExitCode::from(1));
            }
        }
    };
    if !agentc_compiler::verify_all(&module) {
        return Err(fail_mlir(collector, &input.file, &input.source));
    }
    Ok(module)
}

/// Creates the MLIR context or reports why it cannot.
pub fn new_context() -> Result<Context, ExitCode> {
    context::create_context().map_err(|error| {
        eprintln!("error: {error}");
        ExitCode::from(1)
    })
}

/// `agentc build FILE ...`.
pub fn build(args: &BuildArgs) -> ExitCode {
    let emit = args.phase();
    // `--emit=plan` runs to the fragment level, then serialises the plan (below).
    let (emit, plan) = if emit == Emit::Plan { (Emit::Fragment, true) } else { (emit, false) };
    if emit == Emit::Exe {
        let usage = if args.output.as_deref().is_none_or(|o| o == Path::new("-")) {
            Some("an executable is a binary file: give it a path with `-o FILE`")
        } else if args.file.extension().is_none_or(|e| e != "agent") {
            Some("an executable is built from a .agent file, not from MLIR")
        } else if args.pass_pipeline.is_some() {
            Some("`--pass-pipeline` cannot be combined with building an executable, which runs the default pipeline")
        } else {
            None
        };
        if let Some(usage) = usage {
            eprintln!("error: {usage}");
            return ExitCode::from(2);
        }
    }
    let Some(input) = Input::read(&args.file) else { return ExitCode::from(1) };
    if emit == Emit::Ast {
        return emit_ast(args, &input);
    }
    if !matches!(emit, Emit::Workflow | Emit::Fragment) {
        return build_code(args, emit, &input);
    }
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return code,
    };
    let collector = DiagnosticCollector::attach(&context);
    let mut module = match load_module(&context, &collector, &input) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let steps: Vec<Step> = match &args.pass_pipeline {
        Some(text) => match parse_pipeline(text) {
            Ok(steps) => steps,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
        // A plan names the models' kernels, so it is emitted after convert-fragment-to-tensor
        // (which adds the model functions, printed with the fragment IR only when asked for).
        None if plan => planning_steps(args.compile.opt, &module, true),
        None if emit == Emit::Fragment => planning_steps(args.compile.opt, &module, false),
        None => workflow_pipeline(args.compile.opt),
    };
    let mut runner = PassRunner::new(&context, args.compile.run_options(), input.pass_context(&args.compile.target));
    let result = runner.run(&mut module, &steps);
    eprint!("{}", runner.dumps);
    if args.compile.time_passes {
        eprint!("{}", runner.timing_report());
    }
    if result.is_err() {
        return fail_mlir(&collector, &input.file, &input.source);
    }
    if let Some(warning) = agentc_compiler::passes::fragment::schedule::sla_warning(agentc_compiler::ir::Op::of(&module.as_operation())) {
        eprintln!("warning: {warning}");
    }
    if plan {
        return match emit_plan(&module, &args.compile.target) {
            Ok((plan, _)) => finish(args.output.as_deref(), &plan),
            Err(()) => fail_mlir(&collector, &input.file, &input.source),
        };
    }
    let text = print_module(&module, args.compile.debug_info);
    if let Some(folder) = &args.compile.dump_phases_to {
        let name = if emit == Emit::Fragment { "2.fragment.mlir" } else { "1.workflow.mlir" };
        if let Err(error) =
            std::fs::create_dir_all(folder).map_err(|e| e.to_string()).and_then(|()| write_output(Some(&folder.join(name)), &text))
        {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    finish(args.output.as_deref(), &text)
}

/// The default pipeline from a lowered .agent program to scheduled fragment IR: the
/// workflow passes, the planner and the scheduler; with `model_functions`, then
/// `convert-fragment-to-tensor` when the program declares models (it writes their prefill /
/// decode-step / encode functions and names them on the fragments).
fn planning_steps(opt: u8, module: &Module, model_functions: bool) -> Vec<Step> {
    let mut steps = workflow_pipeline(opt);
    steps.extend(fragment_pipeline());
    if model_functions && has_models(module) {
        steps.extend(agentc_compiler::passes::lookup("convert-fragment-to-tensor").map(Step::Ours));
    }
    steps
}

fn has_models(module: &Module) -> bool {
    agentc_compiler::ir::module_ops(agentc_compiler::ir::Op::of(&module.as_operation())).iter().any(|op| op.name() == "workflow.model")
}

/// The plan JSON of scheduled (or planned) fragment IR, for the target `--target` names,
/// with the device of its first GPU placement (an executable then embeds PTX). On failure
/// the diagnostics are in the context's collector.
fn emit_plan(module: &Module, target: &TargetArgs) -> Result<(String, Option<String>), ()> {
    // The scheduler pass loaded the same target; if it cannot be loaded, the IR was not
    // scheduled by this run and the emitter reports a mismatch when it was scheduled at all.
    let scheduled_on = agentc_scheduler::load(&target.target).ok();
    agentc_compiler::plan::emit_plan(agentc_compiler::ir::Op::of(&module.as_operation()), scheduled_on.as_ref())
        .map(|plan| (plan.to_json(), codegen::program::first_gpu_placement(&plan)))
}

/// The phases after the workflow level: tensor fns → kernels → LLVM → asm/obj/PTX, and
/// executables (the plan, the kernels' object, program.o, linked with the runtime).
fn build_code(args: &BuildArgs, emit: Emit, input: &Input) -> ExitCode {
    let compile = &args.compile;
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return code,
    };
    let collector = DiagnosticCollector::attach(&context);
    let mut module = match load_module(&context, &collector, input) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let mut runner = PassRunner::new(&context, compile.run_options(), input.pass_context(&compile.target));
    let module_op = agentc_compiler::ir::Op::of(&module.as_operation());
    // Where the input starts: kernel-level MLIR (functions carrying kernel.target) skips
    // the tensor phases; anything else is workflow- or tensor-level IR.
    let at_kernel_level = input.is_mlir()
        && agentc_compiler::ir::module_ops(module_op).iter().any(|op| op.has_attribute("kernel.target"));
    let mut phases: Vec<(&str, String)> = Vec::new();
    fn run_steps<'c>(
        runner: &mut PassRunner<'c>,
        module: &mut Module<'c>,
        steps: &[Step],
        collector: &DiagnosticCollector,
        input: &Input,
    ) -> Result<(), ExitCode> {
        let result = runner.run(module, steps);
        eprint!("{}", std::mem::take(&mut runner.dumps));
        result.map_err(|_| fail_mlir(collector, &input.file, &input.source))
    }
    // An executable embeds the plan, emitted from the scheduled fragment IR, and the PTX of
    // its kernels when the plan places a fragment on a GPU.
    let mut plan = None;
    let mut gpu_placement = None;
    // Whether the kernel level has kernels (a program without fns or models has none).
    let mut has_kernels = true;
    if !at_kernel_level {
        let steps = match &args.pass_pipeline {
            Some(text) => match parse_pipeline(text) {
                Ok(steps) => steps,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            },
            None if input.is_mlir() => Vec::new(),
            // An executable needs the scheduled fragments (its plan) and the kernels of the
            // models' prefill / decode-step / encode functions.
            None if emit == Emit::Exe => planning_steps(compile.opt, &module, true),
            // Otherwise, a program whose agents use models compiles those models too: plan
            // the fragments, then convert-fragment-to-tensor writes each model's functions,
            // which become kernels with the fns.
            None if has_models(&module) => planning_steps(compile.opt, &module, true),
            None => workflow_pipeline(compile.opt),
        };
        if let Err(code) = run_steps(&mut runner, &mut module, &steps, &collector, input) {
            return code;
        }
        if emit == Emit::Exe {
            if let Some(warning) = agentc_compiler::passes::fragment::schedule::sla_warning(module_op) {
                eprintln!("warning: {warning}");
            }
            match emit_plan(&module, &compile.target) {
                Ok((json, gpu)) => {
                    plan = Some(json);
                    gpu_placement = gpu;
                }
                Err(()) => return fail_mlir(&collector, &input.file, &input.source),
            }
        }
        // The tensor-level passes (shape specialisation, fusion groups, dead values) run
        // while the model declarations their weights refer to are still in the module.
        if args.pass_pipeline.is_none() && !input.is_mlir() {
            let tensor_steps: Vec<Step> = agentc_compiler::passes::tensor::pipeline(compile.opt)
                .into_iter()
                .filter_map(|name| agentc_compiler::passes::lookup(name).map(Step::Ours))
                .collect();
            if let Err(code) = run_steps(&mut runner, &mut module, &tensor_steps, &collector, input) {
                return code;
            }
        }
        extract_tensor_fns(module_op);
        phases.push(("tensor", print_module(&module, compile.debug_info)));
        has_kernels = !agentc_compiler::ir::module_ops(module_op).is_empty();
        if emit != Emit::Tensor && (has_kernels || emit != Emit::Exe) {
            if let Err(code) = run_steps(&mut runner, &mut module, &kernel_pipeline(), &collector, input) {
                return code;
            }
            phases.push(("kernel", print_module(&module, compile.debug_info)));
        }
    }
    let codegen_options = CodegenOptions { opt: compile.opt, cpu: compile.cpu.clone() };
    // For an executable: the kernel table, read at the kernel level, and the PTX.
    let mut kernels = Vec::new();
    let mut ptx = None;
    let result: Result<Vec<u8>, String> = match emit {
        Emit::Tensor | Emit::Kernel => Ok(phases.last().map(|(_, t)| t.clone()).unwrap_or_else(|| print_module(&module, compile.debug_info)).into_bytes()),
        Emit::Ptx => {
            if let Err(code) = run_steps(&mut runner, &mut module, &gpu_pipeline(), &collector, input) {
                return code;
            }
            codegen::gpu::emit_ptx(&context, module_op, compile.gpu.as_deref().unwrap_or("sm_90"), compile.opt).map(String::into_bytes)
        }
        Emit::Exe if !has_kernels => Ok(Vec::new()),
        _ => {
            if emit == Emit::Exe {
                match codegen::program::kernels_of(module_op) {
                    Ok(found) => kernels = found,
                    Err(error) => {
                        eprintln!("error: {error}");
                        return ExitCode::from(1);
                    }
                }
                if gpu_placement.is_some() {
                    match build_ptx(&context, &mut runner, &module, compile, &collector, input) {
                        Ok(text) => ptx = Some(text),
                        Err(code) => return code,
                    }
                }
            }
            if let Err(code) = run_steps(&mut runner, &mut module, &llvm_dialect_pipeline(), &collector, input) {
                return code;
            }
            let artifact = match emit {
                Emit::Llvm => Artifact::LlvmIr,
                Emit::Asm => Artifact::Assembly,
                _ => Artifact::Object,
            };
            codegen::emit_cpu(module_op, &codegen_options, artifact)
        }
    };
    if compile.time_passes {
        eprint!("{}", runner.timing_report());
    }
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    if let Some(folder) = &compile.dump_phases_to {
        let written = std::fs::create_dir_all(folder).map_err(|e| e.to_string()).and_then(|()| {
            phases.iter().enumerate().try_for_each(|(i, (name, text))| write_output(Some(&folder.join(format!("{}.{name}.mlir", i + 3))), text))
        });
        if let Err(error) = written {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    if emit == Emit::Exe {
        let (Some(output), Some(plan)) = (args.output.as_deref(), plan) else {
            eprintln!("error: building an executable needs `-o FILE` and a .agent input");
            return ExitCode::from(2);
        };
        let kernels_object = has_kernels.then_some(bytes.as_slice());
        let ptx = ptx.as_deref().map(str::as_bytes);
        return match link_program(input, &plan, &kernels, kernels_object, ptx, &codegen_options, output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        };
    }
    if emit == Emit::Obj {
        let Some(path) = args.output.as_deref() else {
            eprintln!("error: `--emit=obj` writes a binary file: give it a path with `-o FILE.o`");
            return ExitCode::from(2);
        };
        return match write_bytes_atomically(path, &bytes) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        };
    }
    finish(args.output.as_deref(), &String::from_utf8_lossy(&bytes))
}

/// The PTX of the kernel-level `module`'s kernels for an executable (`--gpu`, default sm_80):
/// a copy of the module goes through the nvptx route of `--emit=ptx`, leaving `module` to the
/// CPU code generation.
fn build_ptx<'c>(
    context: &'c Context,
    runner: &mut PassRunner<'c>,
    module: &Module<'c>,
    compile: &CompileArgs,
    collector: &DiagnosticCollector,
    input: &Input,
) -> Result<String, ExitCode> {
    let Some(mut device) = agentc_compiler::parse_module(context, &print_module(module, true)) else {
        return Err(fail_mlir(collector, &input.file, &input.source));
    };
    let result = runner.run(&mut device, &gpu_pipeline());
    eprint!("{}", std::mem::take(&mut runner.dumps));
    if result.is_err() {
        return Err(fail_mlir(collector, &input.file, &input.source));
    }
    let sm = compile.gpu.as_deref().unwrap_or("sm_80");
    codegen::gpu::emit_ptx(context, agentc_compiler::ir::Op::of(&device.as_operation()), sm, compile.opt).map_err(|error| {
        eprintln!("error: the PTX of the GPU placements: {error}");
        ExitCode::from(1)
    })
}

/// Generates program.o for `plan`, `kernels` and `ptx` (when the plan places fragments on a
/// GPU) and links it with the kernels' object (when the program has kernels) and the runtime
/// into `output` (docs/executables.md).
fn link_program(
    input: &Input,
    plan: &str,
    kernels: &[codegen::program::KernelInfo],
    kernels_object: Option<&[u8]>,
    ptx: Option<&[u8]>,
    options: &CodegenOptions,
    output: &Path,
) -> Result<(), String> {
    let folder = base_dir(&input.file);
    let model_base = folder.canonicalize().map_err(|e| format!("cannot resolve the folder `{}` of the program: {e}", folder.display()))?;
    let program = codegen::program::Program {
        plan: plan.as_bytes(),
        ptx,
        kernels,
        model_base: model_base.as_os_str().as_encoded_bytes(),
    };
    let program_object = codegen::program::emit_program(&program, options, Artifact::Object)?;
    let mut objects: Vec<(&str, &[u8])> = Vec::new();
    if let Some(kernels_object) = kernels_object {
        objects.push(("kernels.o", kernels_object));
    }
    objects.push(("program.o", &program_object));
    crate::link::link_executable(&objects, output)
}

fn emit_ast(args: &BuildArgs, input: &Input) -> ExitCode {
    if input.is_mlir() {
        eprintln!("error: `--emit=ast` needs a .agent input, not MLIR");
        return ExitCode::from(2);
    }
    let checked = check_bytes(&input.bytes, &CheckOptions { mode: CheckMode::Check, base_dir: base_dir(&input.file) });
    if checked.diagnostics.iter().any(Diagnostic::is_error) {
        report(&checked.diagnostics, &input.file, &input.source);
        return ExitCode::from(1);
    }
    match parse(&input.source) {
        Ok(program) => finish(args.output.as_deref(), &format!("{program:#?}\n")),
        Err(diagnostics) => {
            report(&diagnostics, &input.file, &input.source);
            ExitCode::from(1)
        }
    }
}

/// Writes `text` to `output` (or stdout).
pub fn finish(output: Option<&Path>, text: &str) -> ExitCode {
    match write_output(output, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

/// Renders the diagnostics MLIR reported, on the .agent source where they point into it.
pub fn fail_mlir(collector: &DiagnosticCollector, file: &Path, source: &str) -> ExitCode {
    let diagnostics = collector.take();
    let converted = to_source_diagnostics(&diagnostics, &file.display().to_string(), source);
    if converted.is_empty() {
        eprintln!("error: compilation failed without a diagnostic (this is a bug in agentc)");
    }
    report(&converted, file, source);
    ExitCode::from(1)
}

fn report(diagnostics: &[Diagnostic], file: &Path, source: &str) {
    if !diagnostics.is_empty() {
        eprint!("{}", render(diagnostics, &file.display().to_string(), source));
    }
}

fn read(file: &Path) -> Option<Vec<u8>> {
    match std::fs::read(file) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            eprintln!("error: cannot read `{}`: {error}", file.display());
            None
        }
    }
}

fn base_dir(file: &Path) -> PathBuf {
    file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
