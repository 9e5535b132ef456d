//! `agent-opt`: mlir-opt for agentc's dialects and passes. Reads MLIR at any level (all of
//! agentc's IRDL dialects and every upstream dialect are loaded), runs passes by name from
//! agentc's registry (other names go to MLIR's own pipeline parser) and prints the result.
//! `--split-input-file` and `--verify-diagnostics` are implemented here, since MLIR's C API
//! has neither.

mod verify_diagnostics;

use std::path::PathBuf;
use std::process::ExitCode;

use agentc_compiler::diagnostics::{DiagnosticCollector, MlirDiagnostic};
use agentc_compiler::passes::PassContext;
use agentc_compiler::pipeline::{parse_pipeline, PassRunner, RunOptions};
use agentc_compiler::{context, print_module};
use clap::Parser;

/// agent-opt: run agentc passes on MLIR.
///
/// Reads IR at any level of agentc (workflow, tgraph, upstream dialects), verifies it
/// (MLIR's structural verifier including IRDL, then agentc's semantic verifier), runs the
/// pass pipeline, and prints the result. `agent-opt --list-passes` lists agentc's passes.
#[derive(Parser)]
#[command(name = "agent-opt", version)]
struct Cli {
    /// Input file (`-` or nothing: stdin).
    input: Option<PathBuf>,
    /// Output file (default: stdout).
    #[arg(short = 'o')]
    output: Option<PathBuf>,
    /// Passes to run, comma-separated: `workflow-canonicalize,workflow-inline-agents`
    /// (also accepted inside `builtin.module(...)`; unknown names are upstream passes).
    #[arg(long = "pass-pipeline", default_value = "")]
    pass_pipeline: String,
    /// Split the input at `// -----` lines and process each chunk on its own.
    #[arg(long = "split-input-file")]
    split_input_file: bool,
    /// Check diagnostics against `// expected-error {{...}}` comments instead of printing them.
    #[arg(long = "verify-diagnostics")]
    verify_diagnostics: bool,
    /// Print the IR after every pass (to stderr).
    #[arg(long = "print-ir-after-all")]
    print_ir_after_all: bool,
    /// Print the IR after the named pass (repeatable; to stderr).
    #[arg(long = "print-ir-after")]
    print_ir_after: Vec<String>,
    /// Print the wall time of every pass (to stderr).
    #[arg(long = "time-passes")]
    time_passes: bool,
    /// Print locations with the IR.
    #[arg(long = "mlir-print-debuginfo")]
    debug_info: bool,
    /// The folder that model paths in the IR (`workflow.model` `path`) are relative to
    /// (default: the input file's folder).
    #[arg(long = "base-dir")]
    base_dir: Option<PathBuf>,
    /// The target for `fragment-schedule`: a preset name (`agentc targets` lists them) or a
    /// TOML file (default: the `host` preset).
    #[arg(long)]
    target: Option<String>,
    /// Optimise for `latency` or `cost` (overrides main's @objective).
    #[arg(long, value_parser = ["latency", "cost"])]
    objective: Option<String>,
    /// A latency bound for the whole request, e.g. `3s`, `500ms`, `1m` (overrides main's @sla).
    #[arg(long, value_parser = agentc_compiler::parse_duration)]
    sla: Option<f64>,
    /// The x86-64 CPU the kernels are for, as `agentc build --cpu` (`convert-tensor-to-kernel`
    /// asks it for AVX-512 to size the linear layers' register tiles and for AVX512-VNNI to
    /// choose how int8 weights meet int8 activations, `kernel-x86-vnni` for AVX512-VNNI,
    /// `kernel-x86-avx2-dot` for AVX2; default: the host CPU), e.g.
    /// `sapphirerapids`, `x86-64-v3`.
    #[arg(long)]
    cpu: Option<String>,
    /// List agentc's passes and exit.
    #[arg(long = "list-passes")]
    list_passes: bool,
    /// Print every agentc dialect definition as one IRDL module (for `mlir-opt --irdl-file`).
    #[arg(long = "print-irdl")]
    print_irdl: bool,
}

impl Cli {
    /// Model folders in the IR are relative to the input file's folder.
    fn base_dir(&self) -> PathBuf {
        if let Some(dir) = &self.base_dir {
            return dir.clone();
        }
        self.input
            .as_ref()
            .and_then(|p| p.parent())
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), |p| p.to_path_buf())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list_passes {
        for pass in agentc_compiler::passes::REGISTRY {
            println!("{:<32} {}", pass.name, pass.summary.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        return ExitCode::SUCCESS;
    }
    if cli.print_irdl {
        print!("{}", agentc_dialects::all_irdl());
        return ExitCode::SUCCESS;
    }
    let (name, text) = match read_input(cli.input.as_ref()) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    if let Some(cpu) = &cli.cpu
        && let Err(error) = agentc_compiler::codegen::target_check::check_cpu(cpu)
    {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    let steps = match parse_pipeline(&cli.pass_pipeline) {
        Ok(steps) => steps,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let context = match context::create_context() {
        Ok(context) => context,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    let chunks = if cli.split_input_file { split_chunks(&text) } else { vec![(0, text.clone())] };
    let mut outputs = Vec::new();
    let mut failed = false;
    for (line_offset, chunk) in &chunks {
        let collector = DiagnosticCollector::attach(&context);
        let result = process_chunk(&cli, &context, &steps, chunk);
        let diagnostics: Vec<MlirDiagnostic> = collector.take().into_iter().map(|d| shift(d, *line_offset, &name)).collect();
        if cli.verify_diagnostics {
            let problems = verify_diagnostics::check(chunk, *line_offset, &name, &diagnostics);
            for problem in &problems {
                eprintln!("{}", agentc_frontend::diagnostic::escape_controls(&problem.to_string()));
            }
            failed |= !problems.is_empty();
            if let Ok(printed) = result {
                outputs.push(printed);
            }
        } else {
            for diagnostic in &diagnostics {
                // Never echo a control character of the input to the terminal.
                eprintln!("{}", agentc_frontend::diagnostic::escape_controls(&diagnostic.to_plain()));
            }
            match result {
                Ok(printed) => outputs.push(printed),
                Err(()) => failed = true,
            }
        }
    }
    let text = outputs.join("// -----\n");
    let written = match &cli.output {
        Some(path) => std::fs::write(path, &text).map_err(|e| format!("cannot write `{}`: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    };
    if let Err(error) = written {
        eprintln!("error: {error}");
        return ExitCode::from(1);
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Parses, verifies and transforms one chunk; returns the printed result.
fn process_chunk(cli: &Cli, context: &melior::Context, steps: &[agentc_compiler::pipeline::Step], chunk: &str) -> Result<String, ()> {
    let mut module = agentc_compiler::parse_module(context, chunk).ok_or(())?;
    if !agentc_compiler::verify_all(&module) {
        return Err(());
    }
    let options = RunOptions {
        print_ir_after_all: cli.print_ir_after_all,
        print_ir_after: cli.print_ir_after.clone(),
        time_passes: cli.time_passes,
    };
    let pass_context = PassContext {
        base_dir: cli.base_dir(),
        target: cli.target.clone(),
        objective: cli.objective.clone(),
        sla_seconds: cli.sla,
        cpu: cli.cpu.clone(),
        ..PassContext::default()
    };
    let mut runner = PassRunner::new(context, options, pass_context);
    let result = runner.run(&mut module, steps);
    eprint!("{}", runner.dumps);
    if cli.time_passes {
        eprint!("{}", runner.timing_report());
    }
    result.map_err(|_| ())?;
    Ok(print_module(&module, cli.debug_info))
}


/// Diagnostics of a chunk name the chunk's lines; make them name the file's.
fn shift(mut diagnostic: MlirDiagnostic, line_offset: usize, name: &str) -> MlirDiagnostic {
    let fix = |position: &mut Option<agentc_compiler::diagnostics::Position>| {
        if let Some(p) = position {
            if p.file.is_empty() || p.file == "-" || p.file == "<stdin>" {
                p.file = name.to_string();
                p.line += line_offset;
            }
        }
    };
    fix(&mut diagnostic.position);
    for (_, position) in &mut diagnostic.notes {
        fix(position);
    }
    diagnostic
}

/// Splits at lines that are exactly `// -----`; returns (first line's offset, text).
fn split_chunks(text: &str) -> Vec<(usize, String)> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end() == "// -----" {
            chunks.push((start, std::mem::take(&mut current)));
            start = index + 1;
        } else {
            current.push_str(line);
        }
    }
    chunks.push((start, current));
    chunks
}

/// Reads the input (at most `agentc_frontend::source::MAX_INPUT_BYTES`); returns its name
/// for diagnostics and its text.
fn read_input(path: Option<&PathBuf>) -> Result<(String, String), String> {
    let bytes = agentc_frontend::source::read_input(path.map(PathBuf::as_path))?;
    let name = match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => path.display().to_string(),
        None => "<stdin>".to_string(),
    };
    let text = String::from_utf8(bytes).map_err(|e| format!("`{}` is not UTF-8: {e}", agentc_frontend::diagnostic::escape_controls(&name)))?;
    Ok((name, text))
}
