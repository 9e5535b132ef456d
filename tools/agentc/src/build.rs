//! `agentc check` and `agentc build`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use agentc_compiler::diagnostics::{to_source_diagnostics, DiagnosticCollector};
use agentc_compiler::passes::PassContext;
use agentc_compiler::pipeline::{parse_pipeline, PassRunner, RunOptions, Step};
use agentc_compiler::codegen::{self, Artifact, CodegenOptions, CodegenTrace};
use agentc_compiler::conversion::tensor_to_kernel::extract_tensor_fns;
use agentc_compiler::{
    context, fragment_pipeline, gpu_pipeline, kernel_pipeline, llvm_dialect_pipeline, lower, print_module, workflow_pipeline,
};
use agentc_frontend::diagnostic::{render, Diagnostic};
use agentc_frontend::{check_bytes, parse, CheckMode, CheckOptions};
use clap::Args;
use melior::ir::Module;
use melior::Context;

use crate::output::{write_file, write_output, Mode};
use crate::phases::{Level, PhaseDumps};
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
    /// no --emit, `-o FILE` builds an executable unless FILE ends in .mlir (with an MLIR
    /// input, such a FILE needs an explicit --emit). A symbolic link is followed; /dev/null
    /// and FIFOs are written in place; other files are replaced atomically.
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
    /// Print the IR after the named pass (repeatable; to stderr): a pass of `agentc passes`,
    /// an upstream pass of agentc's pipelines (printed after the segment that runs it) or of
    /// --pass-pipeline; another name is a usage error.
    #[arg(long = "print-ir-after")]
    pub print_ir_after: Vec<String>,
    /// Print the wall time of every pass (to stderr): the MLIR passes, LLVM's stages
    /// (translation, optimisation, code generation) and, for an executable, program.o and the link.
    #[arg(long = "time-passes")]
    pub time_passes: bool,
    /// Write every level the build goes through to DIR, as it is reached (as IREE's
    /// --dump-compilation-phases-to): 1.workflow.mlir, 2.fragment.mlir, 3.tensor.mlir,
    /// 4.kernel.mlir, 5.llvm.ll (CPU code, optimised), 5.llvm-nvptx.ll (GPU code).
    #[arg(long = "dump-phases-to")]
    pub dump_phases_to: Option<PathBuf>,
    /// Print MLIR locations (`loc(...)`) with the IR.
    #[arg(long = "mlir-print-debuginfo")]
    pub debug_info: bool,
    /// The x86-64 CPU to generate code for (default: the host CPU and its features), e.g.
    /// `x86-64-v3`, `znver4`, `skylake-avx512`. It shapes `--emit=kernel` too: the linear
    /// layers' vectors and register tiles follow its vector registers (AVX-512 or AVX2),
    /// and without AVX512-VNNI int8 weights meet int8 activations as signed bytes.
    #[arg(long)]
    pub cpu: Option<String>,
    /// The NVIDIA architecture of the PTX (`sm_80`, `sm_90`, `sm_100`, ...; the PTX version
    /// is the one the architecture needs, at least 8.0): for `--emit=ptx` (default sm_90) and
    /// for executables whose plan places fragments on a GPU, which embed the PTX of their
    /// kernels (default sm_80, which the driver also compiles for newer GPUs).
    #[arg(long)]
    pub gpu: Option<String>,
}

impl CompileArgs {
    /// Checks `--cpu` and `--gpu` against the CPUs and GPU architectures LLVM knows (a usage
    /// error before any work, rather than LLVM's warning or fatal error during code generation).
    fn check_targets(&self) -> Result<(), String> {
        if let Some(cpu) = &self.cpu {
            codegen::target_check::check_cpu(cpu)?;
        }
        if let Some(gpu) = &self.gpu {
            codegen::target_check::check_gpu(gpu)?;
        }
        Ok(())
    }

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
            cpu: None,
        }
    }
}

/// Checks and lowers a .agent file (or parses MLIR) into a verified module.
pub fn load_module<'c>(context: &'c Context, collector: &DiagnosticCollector, input: &Input) -> Result<Module<'c>, ExitCode> {
    let module = if input.is_mlir() {
        match agentc_compiler::parse_module(context, &input.source) {
            Some(module) => module,
            None => return Err(fail_mlir_parse(collector, input)),
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
        return Err(if input.is_mlir() { fail_mlir_parse(collector, input) } else { fail_mlir(collector, &input.file, &input.source) });
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
    if let Err(usage) = args.compile.check_targets().and_then(|()| check_print_ir_after(args)) {
        eprintln!("error: {usage}");
        return ExitCode::from(2);
    }
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
    if input.is_mlir() && args.compile_to.or(args.emit).is_none() && args.output.as_deref().is_some_and(names_binary) {
        return refuse_mlir_without_emit(args, &input);
    }
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
    let mut pass_context = input.pass_context(&args.compile.target);
    pass_context.cpu = args.compile.cpu.clone();
    let mut runner = PassRunner::new(&context, args.compile.run_options(), pass_context);
    let mut dumps = PhaseDumps::new(args.compile.dump_phases_to.as_deref());
    let result = match &args.pass_pipeline {
        Some(text) => match parse_pipeline(text) {
            Ok(steps) => runner.run(&mut module, &steps),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
        // A plan names the models' kernels, so it is emitted after convert-fragment-to-tensor
        // (which adds the model functions, printed with the fragment IR only when asked for).
        None => {
            let through = if emit == Emit::Fragment { Through::Fragment { model_functions: plan } } else { Through::Workflow };
            run_default(&mut runner, &mut module, args.compile.opt, through, &mut dumps, args.compile.debug_info)
        }
    };
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
            Ok((plan, _)) => finish_with(&mut dumps, args.output.as_deref(), &plan),
            Err(()) => fail_mlir(&collector, &input.file, &input.source),
        };
    }
    let text = print_module(&module, args.compile.debug_info);
    if args.pass_pipeline.is_some() {
        // A custom pipeline's result is dumped as the level it was asked for.
        dumps.record(if emit == Emit::Fragment { Level::Fragment } else { Level::Workflow }, &text);
    }
    finish_with(&mut dumps, args.output.as_deref(), &text)
}

/// How far the default pipeline runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Through {
    /// The workflow passes.
    Workflow,
    /// Then the planner and the scheduler; with `model_functions`, then
    /// `convert-fragment-to-tensor` when the program declares models (it writes their
    /// prefill / decode-step / encode functions and names them on the fragments).
    Fragment { model_functions: bool },
}

/// Runs the default pipeline on a lowered program (or MLIR) `through` a level, writing each
/// level reached to `dumps`: `1.workflow.mlir` after the workflow passes, `2.fragment.mlir`
/// after the scheduler (before the models' functions are added).
fn run_default<'c>(
    runner: &mut PassRunner<'c>,
    module: &mut Module<'c>,
    opt: u8,
    through: Through,
    dumps: &mut PhaseDumps,
    debug_info: bool,
) -> Result<(), agentc_compiler::pipeline::PipelineFailed> {
    runner.run(module, &workflow_pipeline(opt))?;
    if dumps.wanted() {
        dumps.record(Level::Workflow, &print_module(module, debug_info));
    }
    let Through::Fragment { model_functions } = through else { return Ok(()) };
    runner.run(module, &fragment_pipeline())?;
    if dumps.wanted() {
        dumps.record(Level::Fragment, &print_module(module, debug_info));
    }
    if model_functions && has_models(module) {
        let steps: Vec<Step> = agentc_compiler::passes::lookup("convert-fragment-to-tensor").map(Step::Ours).into_iter().collect();
        runner.run(module, &steps)?;
    }
    Ok(())
}

/// Checks `--print-ir-after` names against the passes agentc can run (its own, the upstream
/// passes of its pipelines, and those of `--pass-pipeline`).
fn check_print_ir_after(args: &BuildArgs) -> Result<(), String> {
    let mut known = agentc_compiler::known_pass_names();
    if let Some(text) = &args.pass_pipeline {
        known.extend(parse_pipeline(text)?.iter().flat_map(agentc_compiler::pipeline::step_pass_names));
    }
    agentc_compiler::pipeline::check_print_ir_after(&args.compile.print_ir_after, &known)
}

/// Whether `-o PATH` names something other than an MLIR file or stdout: with a .agent input
/// and no `--emit`, an executable.
fn names_binary(output: &Path) -> bool {
    output != Path::new("-") && output.extension().is_none_or(|e| e != "mlir")
}

/// `agentc build x.mlir -o app` without `--emit`: `app` would be an executable (as for a
/// .agent input), which is never built from MLIR, so rather than writing IR text into a file
/// named like one, a usage error names the input's level and the `--emit` to use.
fn refuse_mlir_without_emit(args: &BuildArgs, input: &Input) -> ExitCode {
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return code,
    };
    let collector = DiagnosticCollector::attach(&context);
    let module = match load_module(&context, &collector, input) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let level = ir_level(agentc_compiler::ir::Op::of(&module.as_operation()));
    let output = args.output.as_deref().unwrap_or(Path::new("-")).display();
    eprintln!(
        "error: `-o {output}` names an executable, but executables are built from .agent files and `{}` is {level}-level IR: \
         give `--emit={level}` to write the IR to `{output}` (or an -o path ending in .mlir), or `--emit=obj` to compile its code",
        input.file.display()
    );
    ExitCode::from(2)
}

/// The level of MLIR read from a file: `kernel` (functions with `kernel.target`),
/// `fragment` (planned: fragment ops or fragment attributes), `workflow` (workflow ops),
/// else `tensor` (tgraph fns).
fn ir_level(module: agentc_compiler::ir::Op) -> &'static str {
    if agentc_compiler::ir::module_ops(module).iter().any(|op| op.has_attribute("kernel.target")) {
        return "kernel";
    }
    let ops = module.nested_ops();
    let names: Vec<String> = ops.iter().map(|op| op.name()).collect();
    // Planned IR: fragment ops, or workflow ops marked as host fragments, in functions
    // carrying the scheduler's target.
    if names.iter().any(|n| n.starts_with("fragment.")) || ops.iter().any(|op| op.has_attribute("fragment.target") || op.has_attribute("fragment.kind")) {
        "fragment"
    } else if names.iter().any(|n| n.starts_with("workflow.")) {
        "workflow"
    } else {
        "tensor"
    }
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
/// executables (the plan, the kernels' object, program.o, linked with the runtime). The
/// `--time-passes` report covers every stage that ran, LLVM's and the link included, and is
/// printed however the build ends.
fn build_code(args: &BuildArgs, emit: Emit, input: &Input) -> ExitCode {
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return code,
    };
    let collector = DiagnosticCollector::attach(&context);
    let mut pass_context = input.pass_context(&args.compile.target);
    pass_context.cpu = args.compile.cpu.clone();
    let mut runner = PassRunner::new(&context, args.compile.run_options(), pass_context);
    let mut dumps = PhaseDumps::new(args.compile.dump_phases_to.as_deref());
    let code = compile_code(args, emit, input, &context, &collector, &mut runner, &mut dumps);
    if args.compile.time_passes {
        eprint!("{}", runner.timing_report());
    }
    code
}

/// Runs `steps`, printing the IR dumps asked for; a failure is reported (exit 1).
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

/// The body of [`build_code`], with `runner` and `dumps` owned by the caller.
fn compile_code<'c>(
    args: &BuildArgs,
    emit: Emit,
    input: &Input,
    context: &'c Context,
    collector: &DiagnosticCollector,
    runner: &mut PassRunner<'c>,
    dumps: &mut PhaseDumps,
) -> ExitCode {
    let compile = &args.compile;
    let mut module = match load_module(context, collector, input) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let module_op = agentc_compiler::ir::Op::of(&module.as_operation());
    // Where the input starts: kernel-level MLIR (functions carrying kernel.target) skips
    // the tensor phases; anything else is workflow- or tensor-level IR.
    let at_kernel_level = input.is_mlir()
        && agentc_compiler::ir::module_ops(module_op).iter().any(|op| op.has_attribute("kernel.target"));
    // The text of the last MLIR level reached (the output of --emit=tensor|kernel).
    let mut level_text = None;
    // An executable embeds the plan, emitted from the scheduled fragment IR, and the PTX of
    // its kernels when the plan places a fragment on a GPU.
    let mut plan = None;
    let mut gpu_placement = None;
    // Whether the kernel level has kernels (a program without fns or models has none).
    let mut has_kernels = true;
    if !at_kernel_level {
        match &args.pass_pipeline {
            Some(text) => {
                let steps = match parse_pipeline(text) {
                    Ok(steps) => steps,
                    Err(error) => {
                        eprintln!("error: {error}");
                        return ExitCode::from(2);
                    }
                };
                if let Err(code) = run_steps(runner, &mut module, &steps, collector, input) {
                    return code;
                }
            }
            None if input.is_mlir() => {}
            None => {
                // An executable needs the scheduled fragments (its plan) and the kernels of
                // the models' prefill / decode-step / encode functions; a program whose agents
                // use models compiles those models too: plan the fragments, then
                // convert-fragment-to-tensor writes each model's functions, which become
                // kernels with the fns.
                let plans = emit == Emit::Exe || has_models(&module);
                let through = if plans { Through::Fragment { model_functions: true } } else { Through::Workflow };
                let result = run_default(runner, &mut module, compile.opt, through, dumps, compile.debug_info);
                eprint!("{}", std::mem::take(&mut runner.dumps));
                if result.is_err() {
                    return fail_mlir(collector, &input.file, &input.source);
                }
                if !plans && dumps.wanted() {
                    if let Err(code) = dump_fragment_level(context, runner, &module, dumps, collector, input, compile.debug_info) {
                        return code;
                    }
                }
            }
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
                Err(()) => return fail_mlir(collector, &input.file, &input.source),
            }
        }
        // The tensor-level passes (shape specialisation, fusion groups, dead values) run
        // while the model declarations their weights refer to are still in the module.
        if args.pass_pipeline.is_none() && !input.is_mlir() {
            let tensor_steps: Vec<Step> = agentc_compiler::passes::tensor::pipeline(compile.opt)
                .into_iter()
                .filter_map(|name| agentc_compiler::passes::lookup(name).map(Step::Ours))
                .collect();
            if let Err(code) = run_steps(runner, &mut module, &tensor_steps, collector, input) {
                return code;
            }
        }
        extract_tensor_fns(module_op);
        let text = print_module(&module, compile.debug_info);
        dumps.record(Level::Tensor, &text);
        level_text = Some(text);
        has_kernels = !agentc_compiler::ir::module_ops(module_op).is_empty();
        // A program without fns or models (tools and text only) has no kernels: its kernel
        // level is the empty module, which lowers to an empty LLVM module, object and PTX
        // (the kernel pipeline's transform script would find no functions to apply to).
        if emit != Emit::Tensor {
            if has_kernels {
                if let Err(code) = run_steps(runner, &mut module, &kernel_pipeline(), collector, input) {
                    return code;
                }
            }
            let text = print_module(&module, compile.debug_info);
            dumps.record(Level::Kernel, &text);
            level_text = Some(text);
        }
    }
    let codegen_options = CodegenOptions { opt: compile.opt, cpu: compile.cpu.clone() };
    let mut trace = CodegenTrace { keep_llvm_ir: dumps.wanted(), ..CodegenTrace::default() };
    // For an executable: the kernel table, read at the kernel level, and the PTX.
    let mut kernels = Vec::new();
    let mut ptx = None;
    let result: Result<Vec<u8>, String> = match emit {
        Emit::Tensor | Emit::Kernel => Ok(level_text.take().unwrap_or_else(|| print_module(&module, compile.debug_info)).into_bytes()),
        Emit::Ptx => {
            if let Err(code) = run_steps(runner, &mut module, &gpu_pipeline(), collector, input) {
                return code;
            }
            let sm = compile.gpu.as_deref().unwrap_or("sm_90");
            let ptx = codegen::gpu::emit_ptx(context, module_op, sm, compile.opt, &mut trace).map(String::into_bytes);
            if let Some(ir) = trace.llvm_ir.take() {
                dumps.record(Level::LlvmNvptx, &ir);
            }
            ptx
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
                    match build_ptx(context, runner, &module, compile, collector, input, &mut trace) {
                        Ok(text) => ptx = Some(text),
                        Err(code) => return code,
                    }
                    if let Some(ir) = trace.llvm_ir.take() {
                        dumps.record(Level::LlvmNvptx, &ir);
                    }
                }
            }
            if let Err(code) = run_steps(runner, &mut module, &llvm_dialect_pipeline(), collector, input) {
                return code;
            }
            let artifact = match emit {
                Emit::Llvm => Artifact::LlvmIr,
                Emit::Asm => Artifact::Assembly,
                _ => Artifact::Object,
            };
            let code = codegen::emit_cpu_traced(module_op, &codegen_options, artifact, &mut trace);
            if let Some(ir) = trace.llvm_ir.take() {
                dumps.record(Level::Llvm, &ir);
            }
            code
        }
    };
    runner.timings.append(&mut trace.timings);
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    if let Err(error) = dumps.finish() {
        eprintln!("error: {error}");
        return ExitCode::from(1);
    }
    if emit == Emit::Exe {
        let (Some(output), Some(plan)) = (args.output.as_deref(), plan) else {
            eprintln!("error: building an executable needs `-o FILE` and a .agent input");
            return ExitCode::from(2);
        };
        let kernels_object = has_kernels.then_some(bytes.as_slice());
        let ptx = ptx.as_deref().map(str::as_bytes);
        return match link_program(input, &plan, &kernels, kernels_object, ptx, &codegen_options, output, &mut runner.timings) {
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
        return match write_file(path, &bytes, Mode::Data) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        };
    }
    finish(args.output.as_deref(), &String::from_utf8_lossy(&bytes))
}

/// `--dump-phases-to` for a program whose code levels do not go through the fragment level
/// (no models, not an executable): its workflow IR is planned and scheduled on a copy, so
/// `2.fragment.mlir` is written and the kernels stay those of a build without the dumps.
fn dump_fragment_level<'c>(
    context: &'c Context,
    runner: &mut PassRunner<'c>,
    module: &Module<'c>,
    dumps: &mut PhaseDumps,
    collector: &DiagnosticCollector,
    input: &Input,
    debug_info: bool,
) -> Result<(), ExitCode> {
    let Some(mut copy) = agentc_compiler::parse_module(context, &print_module(module, true)) else {
        return Err(fail_mlir(collector, &input.file, &input.source));
    };
    run_steps(runner, &mut copy, &fragment_pipeline(), collector, input)?;
    dumps.record(Level::Fragment, &print_module(&copy, debug_info));
    Ok(())
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
    trace: &mut CodegenTrace,
) -> Result<String, ExitCode> {
    let Some(mut device) = agentc_compiler::parse_module(context, &print_module(module, true)) else {
        return Err(fail_mlir(collector, &input.file, &input.source));
    };
    run_steps(runner, &mut device, &gpu_pipeline(), collector, input)?;
    let sm = compile.gpu.as_deref().unwrap_or("sm_80");
    codegen::gpu::emit_ptx(context, agentc_compiler::ir::Op::of(&device.as_operation()), sm, compile.opt, trace).map_err(|error| {
        eprintln!("error: the PTX of the GPU placements: {error}");
        ExitCode::from(1)
    })
}

/// Generates program.o for `plan`, `kernels` and `ptx` (when the plan places fragments on a
/// GPU) and links it with the kernels' object (when the program has kernels) and the runtime
/// into `output` (docs/executables.md); the wall time of each of the two goes to `timings`.
#[allow(clippy::too_many_arguments)]
fn link_program(
    input: &Input,
    plan: &str,
    kernels: &[codegen::program::KernelInfo],
    kernels_object: Option<&[u8]>,
    ptx: Option<&[u8]>,
    options: &CodegenOptions,
    output: &Path,
    timings: &mut Vec<(String, Duration)>,
) -> Result<(), String> {
    let folder = base_dir(&input.file);
    let model_base = folder.canonicalize().map_err(|e| format!("cannot resolve the folder `{}` of the program: {e}", folder.display()))?;
    let program = codegen::program::Program {
        plan: plan.as_bytes(),
        ptx,
        kernels,
        model_base: model_base.as_os_str().as_encoded_bytes(),
    };
    let start = Instant::now();
    let program_object = codegen::program::emit_program(&program, options, Artifact::Object)?;
    timings.push(("program.o (plan, kernel table, main)".to_string(), start.elapsed()));
    let mut objects: Vec<(&str, &[u8])> = Vec::new();
    if let Some(kernels_object) = kernels_object {
        objects.push(("kernels.o", kernels_object));
    }
    objects.push(("program.o", &program_object));
    let start = Instant::now();
    let linked = crate::link::link_executable(&objects, output);
    timings.push(("link (the objects and the runtime library)".to_string(), start.elapsed()));
    linked
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

/// Reports a failed `--dump-phases-to` write (exit 1), else writes `text` as [`finish`].
fn finish_with(dumps: &mut PhaseDumps, output: Option<&Path>, text: &str) -> ExitCode {
    if let Err(error) = dumps.finish() {
        eprintln!("error: {error}");
        return ExitCode::from(1);
    }
    finish(output, text)
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

/// Renders the errors of parsing an .mlir input: MLIR names the parsed text `-`, which is
/// this input, so they point into it.
fn fail_mlir_parse(collector: &DiagnosticCollector, input: &Input) -> ExitCode {
    let name = input.file.display().to_string();
    let mut diagnostics = collector.take();
    for position in diagnostics.iter_mut().filter_map(|d| d.position.as_mut()) {
        if position.file == "-" {
            position.file = name.clone();
        }
    }
    let converted = to_source_diagnostics(&diagnostics, &name, &input.source);
    report(&converted, &input.file, &input.source);
    ExitCode::from(1)
}

fn report(diagnostics: &[Diagnostic], file: &Path, source: &str) {
    if !diagnostics.is_empty() {
        eprint!("{}", render(diagnostics, &file.display().to_string(), source));
    }
}

/// Reads an input file, at most `agentc_frontend::source::MAX_INPUT_BYTES` of it.
fn read(file: &Path) -> Option<Vec<u8>> {
    match agentc_frontend::source::read_input(Some(file)) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            eprintln!("error: {error}");
            None
        }
    }
}

fn base_dir(file: &Path) -> PathBuf {
    file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
