//! `agentc check` and `agentc build`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentc_compiler::diagnostics::{to_source_diagnostics, DiagnosticCollector};
use agentc_compiler::passes::PassContext;
use agentc_compiler::pipeline::{parse_pipeline, PassRunner, RunOptions};
use agentc_compiler::{context, lower, print_module, workflow_pipeline};
use agentc_frontend::diagnostic::{render, Diagnostic};
use agentc_frontend::{check_bytes, parse, CheckMode, CheckOptions};
use clap::Args;

use crate::output::write_output;
use crate::Emit;

/// Options of `agentc build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The input: a .agent file, or MLIR at the workflow level (.mlir).
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
    /// Optimisation level: -O0 runs no passes; -O1 and above run the workflow pipeline.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
    opt: u8,
    /// Run this pass pipeline at the workflow level instead of the default one
    /// (`agentc passes` lists the names; e.g. `workflow-canonicalize,workflow-inline-agents`).
    #[arg(long = "pass-pipeline")]
    pass_pipeline: Option<String>,
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

/// `agentc build FILE ...`.
pub fn build(args: &BuildArgs) -> ExitCode {
    let emit = args.compile_to.unwrap_or(args.emit);
    let planned = match emit {
        Emit::Ast | Emit::Workflow => None,
        other => Some(format!("{other:?}").to_lowercase()),
    };
    if let Some(phase) = planned {
        eprintln!(
            "error: `--emit={phase}` is not available yet: this agentc builds the levels up to `workflow`; \
             the planner (convert-workflow-to-fragment) and the levels after it are not implemented"
        );
        return ExitCode::from(2);
    }
    let Some(bytes) = read(&args.file) else { return ExitCode::from(1) };
    let display = args.file.display().to_string();
    let is_mlir = args.file.extension().is_some_and(|e| e == "mlir");
    if emit == Emit::Ast {
        if is_mlir {
            eprintln!("error: `--emit=ast` needs a .agent input, not MLIR");
            return ExitCode::from(2);
        }
        let source = String::from_utf8_lossy(&bytes).into_owned();
        let checked = check_bytes(&bytes, &CheckOptions { mode: CheckMode::Check, base_dir: base_dir(&args.file) });
        if checked.diagnostics.iter().any(Diagnostic::is_error) {
            report(&checked.diagnostics, &args.file, &source);
            return ExitCode::from(1);
        }
        return match parse(&source) {
            Ok(program) => finish(args, &format!("{program:#?}\n")),
            Err(diagnostics) => {
                report(&diagnostics, &args.file, &source);
                ExitCode::from(1)
            }
        };
    }
    let context = match context::create_context() {
        Ok(context) => context,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    let collector = DiagnosticCollector::attach(&context);
    let source = String::from_utf8_lossy(&bytes).into_owned();
    let mut module = if is_mlir {
        match agentc_compiler::parse_module(&context, &source) {
            Some(module) => module,
            None => return fail_mlir(&collector, &args.file, &source),
        }
    } else {
        let options = CheckOptions { mode: CheckMode::Build, base_dir: base_dir(&args.file) };
        let checked = check_bytes(&bytes, &options);
        report(&checked.diagnostics, &args.file, &source);
        let Some(hir) = checked.module else { return ExitCode::from(1) };
        let builder = lower::Builder::new(&context, &display, &source);
        match lower::lower_module(&builder, &hir) {
            Ok(module) => module,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(1);
            }
        }
    };
    if !agentc_compiler::verify_all(&module) {
        return fail_mlir(&collector, &args.file, &source);
    }
    let steps = match &args.pass_pipeline {
        Some(text) => match parse_pipeline(text) {
            Ok(steps) => steps,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
        None => workflow_pipeline(args.opt),
    };
    let options = RunOptions {
        print_ir_after_all: args.print_ir_after_all,
        print_ir_after: args.print_ir_after.clone(),
        time_passes: args.time_passes,
    };
    let pass_context = PassContext { base_dir: base_dir(&args.file), ..PassContext::default() };
    let mut runner = PassRunner::new(&context, options, pass_context);
    let result = runner.run(&mut module, &steps);
    eprint!("{}", runner.dumps);
    if args.time_passes {
        eprint!("{}", runner.timing_report());
    }
    if result.is_err() {
        return fail_mlir(&collector, &args.file, &source);
    }
    let text = print_module(&module, args.debug_info);
    if let Some(folder) = &args.dump_phases_to {
        if let Err(error) = std::fs::create_dir_all(folder).map_err(|e| e.to_string()).and_then(|()| {
            write_output(Some(&folder.join("1.workflow.mlir")), &text)
        }) {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    finish(args, &text)
}

fn finish(args: &BuildArgs, text: &str) -> ExitCode {
    match write_output(args.output.as_deref(), text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

/// Renders the diagnostics MLIR reported, on the .agent source where they point into it.
fn fail_mlir(collector: &DiagnosticCollector, file: &Path, source: &str) -> ExitCode {
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
