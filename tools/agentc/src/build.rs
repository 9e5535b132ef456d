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

use crate::output::write_output;
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
}


/// Options of `agentc build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The input: a .agent file, or MLIR at the workflow or fragment level (.mlir).
    file: PathBuf,
    /// Where to write the result (default: stdout for text phases).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Stop at this phase and print it (phase names are level names).
    #[arg(long, value_enum, default_value = "workflow")]
    emit: Emit,
    /// Same as --emit, in IREE's spelling: stop after this phase.
    #[arg(long = "compile-to", value_enum)]
    compile_to: Option<Emit>,
    /// Optimisation level: -O0 runs no workflow passes; -O1 and above run the workflow pipeline.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
    opt: u8,
    /// Run this pass pipeline instead of the default one
    /// (`agentc passes` lists the names; e.g. `workflow-canonicalize,workflow-inline-agents`).
    #[arg(long = "pass-pipeline")]
    pass_pipeline: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    /// Print the IR after every pass (to stderr).
    #[arg(long = "print-ir-after-all")]
    print_ir_after_all: bool,
    /// Print the IR after the named pass (repeatable; to stderr).
    #[arg(long = "print-ir-after")]
    print_ir_after: Vec<String>,
    /// Print the wall time of every pass (to stderr).
    #[arg(long = "time-passes")]
    time_passes: bool,
    /// Write each phase's output to DIR as N.PHASE.mlir (as IREE's --dump-compilation-phases-to).
    #[arg(long = "dump-phases-to")]
    dump_phases_to: Option<PathBuf>,
    /// Print MLIR locations (`loc(...)`) with the IR.
    #[arg(long = "mlir-print-debuginfo")]
    debug_info: bool,
    /// The x86-64 CPU to generate code for (`--emit=llvm|asm|obj`; default: the host CPU
    /// and its features), e.g. `x86-64-v3`, `znver4`, `skylake-avx512`.
    #[arg(long)]
    cpu: Option<String>,
    /// Generate PTX for this NVIDIA architecture (`sm_80`, `sm_90`) with `--emit=ptx`.
    #[arg(long, default_value = "sm_90")]
    gpu: String,
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
    let emit = args.compile_to.unwrap_or(args.emit);
    // `--emit=plan` runs to the fragment level, then serialises the plan (below).
    let (emit, plan) = if emit == Emit::Plan { (Emit::Fragment, true) } else { (emit, false) };
    if emit == Emit::Exe {
        eprintln!(
            "error: `--emit=exe` is not available yet: agentc compiles the program's tensor fns and its models \
             to kernels (`--emit=tensor|kernel|llvm|asm|obj|ptx`), but the runtime that runs a scheduled \
             workflow and the linking of executables are not implemented"
        );
        return ExitCode::from(2);
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
        None if emit == Emit::Fragment => {
            let mut steps = workflow_pipeline(args.opt);
            steps.extend(fragment_pipeline());
            // A plan names the models' kernels, so it is emitted after
            // convert-fragment-to-tensor (which adds the model functions).
            let has_models = agentc_compiler::ir::module_ops(agentc_compiler::ir::Op::of(&module.as_operation()))
                .iter()
                .any(|op| op.name() == "workflow.model");
            if plan && has_models {
                steps.extend(agentc_compiler::passes::lookup("convert-fragment-to-tensor").map(Step::Ours));
            }
            steps
        }
        None => workflow_pipeline(args.opt),
    };
    let options = RunOptions {
        print_ir_after_all: args.print_ir_after_all,
        print_ir_after: args.print_ir_after.clone(),
        time_passes: args.time_passes,
    };
    let mut runner = PassRunner::new(&context, options, input.pass_context(&args.target));
    let result = runner.run(&mut module, &steps);
    eprint!("{}", runner.dumps);
    if args.time_passes {
        eprint!("{}", runner.timing_report());
    }
    if result.is_err() {
        return fail_mlir(&collector, &input.file, &input.source);
    }
    if let Some(warning) = agentc_compiler::passes::fragment::schedule::sla_warning(agentc_compiler::ir::Op::of(&module.as_operation())) {
        eprintln!("warning: {warning}");
    }
    if plan {
        // The target fragment-schedule loaded (its devices are the plan's); if it cannot be
        // loaded, the IR was not scheduled by this run and the emitter reports a mismatch
        // when it was scheduled at all.
        let scheduled_on = agentc_scheduler::load(&args.target.target).ok();
        return match agentc_compiler::plan::emit_plan(agentc_compiler::ir::Op::of(&module.as_operation()), scheduled_on.as_ref()) {
            Ok(plan) => finish(args.output.as_deref(), &plan.to_json()),
            Err(()) => fail_mlir(&collector, &input.file, &input.source),
        };
    }
    let text = print_module(&module, args.debug_info);
    if let Some(folder) = &args.dump_phases_to {
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

/// The phases after the workflow level: tensor fns → kernels → LLVM → asm/obj/PTX.
fn build_code(args: &BuildArgs, emit: Emit, input: &Input) -> ExitCode {
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return code,
    };
    let collector = DiagnosticCollector::attach(&context);
    let mut module = match load_module(&context, &collector, input) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let options = RunOptions {
        print_ir_after_all: args.print_ir_after_all,
        print_ir_after: args.print_ir_after.clone(),
        time_passes: args.time_passes,
    };
    let mut runner = PassRunner::new(&context, options, input.pass_context(&args.target));
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
            None => {
                // A program whose agents use models compiles those models too: plan the
                // fragments, then convert-fragment-to-tensor writes each model's prefill /
                // decode-step / encode tensor functions, which become kernels with the fns.
                let mut steps = workflow_pipeline(args.opt);
                let has_models = agentc_compiler::ir::module_ops(module_op).iter().any(|op| op.name() == "workflow.model");
                if has_models {
                    steps.extend(fragment_pipeline());
                    steps.extend(agentc_compiler::passes::lookup("convert-fragment-to-tensor").map(Step::Ours));
                }
                steps
            }
        };
        if let Err(code) = run_steps(&mut runner, &mut module, &steps, &collector, input) {
            return code;
        }
        // The tensor-level passes (shape specialisation, fusion groups, dead values) run
        // while the model declarations their weights refer to are still in the module.
        if args.pass_pipeline.is_none() && !input.is_mlir() {
            let tensor_steps: Vec<Step> = agentc_compiler::passes::tensor::pipeline(args.opt)
                .into_iter()
                .filter_map(|name| agentc_compiler::passes::lookup(name).map(Step::Ours))
                .collect();
            if let Err(code) = run_steps(&mut runner, &mut module, &tensor_steps, &collector, input) {
                return code;
            }
        }
        extract_tensor_fns(module_op);
        phases.push(("tensor", print_module(&module, args.debug_info)));
        if emit != Emit::Tensor {
            if let Err(code) = run_steps(&mut runner, &mut module, &kernel_pipeline(), &collector, input) {
                return code;
            }
            phases.push(("kernel", print_module(&module, args.debug_info)));
        }
    }
    let result: Result<Vec<u8>, String> = match emit {
        Emit::Tensor | Emit::Kernel => Ok(phases.last().map(|(_, t)| t.clone()).unwrap_or_else(|| print_module(&module, args.debug_info)).into_bytes()),
        Emit::Ptx => {
            if let Err(code) = run_steps(&mut runner, &mut module, &gpu_pipeline(), &collector, input) {
                return code;
            }
            codegen::gpu::emit_ptx(&context, module_op, &args.gpu, args.opt).map(String::into_bytes)
        }
        _ => {
            if let Err(code) = run_steps(&mut runner, &mut module, &llvm_dialect_pipeline(), &collector, input) {
                return code;
            }
            let artifact = match emit {
                Emit::Llvm => Artifact::LlvmIr,
                Emit::Asm => Artifact::Assembly,
                _ => Artifact::Object,
            };
            codegen::emit_cpu(module_op, &CodegenOptions { opt: args.opt, cpu: args.cpu.clone() }, artifact)
        }
    };
    if args.time_passes {
        eprint!("{}", runner.timing_report());
    }
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    if let Some(folder) = &args.dump_phases_to {
        let written = std::fs::create_dir_all(folder).map_err(|e| e.to_string()).and_then(|()| {
            phases.iter().enumerate().try_for_each(|(i, (name, text))| write_output(Some(&folder.join(format!("{}.{name}.mlir", i + 3))), text))
        });
        if let Err(error) = written {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
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

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| format!("`{}` is not a file name", path.display()))?;
    let temp = folder.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write `{}`: {error}", path.display()));
    }
    Ok(())
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
