//! `agentc schedule`: plans and schedules a workflow on a target and reports the
//! placement table, critical path and totals (or JSON), with an optional Gantt chart (SVG)
//! and graph export (DOT or Mermaid).

use std::path::PathBuf;
use std::process::ExitCode;

use agentc_compiler::diagnostics::DiagnosticCollector;
use agentc_compiler::ir::Op;
use agentc_compiler::passes::fragment::schedule::schedule_module;
use agentc_compiler::pipeline::{PassRunner, RunOptions, Step};
use agentc_compiler::{passes, workflow_pipeline};
use agentc_scheduler::report;
use clap::Args;

use crate::build::{fail_mlir, load_module, new_context, Input, TargetArgs};
use crate::output::write_output;

/// Options of `agentc schedule`.
#[derive(Args)]
pub struct ScheduleArgs {
    /// The .agent file (or workflow/fragment MLIR).
    file: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Print the schedule as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write a Gantt chart (one row per device) to this SVG file.
    #[arg(long)]
    gantt: Option<PathBuf>,
    /// Write the fragment graph with placements to this file: `.dot` (Graphviz) or
    /// `.mmd` (Mermaid).
    #[arg(long)]
    graph: Option<PathBuf>,
}

/// Runs `agentc schedule`.
pub fn run(args: &ScheduleArgs) -> ExitCode {
    if let Some(graph) = &args.graph {
        let extension = graph.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension, "dot" | "gv" | "mmd" | "mermaid") {
            eprintln!("error: `--graph {}`: the file must end in .dot (Graphviz) or .mmd (Mermaid)", graph.display());
            return ExitCode::from(2);
        }
    }
    let (workload, schedule, target) = match plan_and_schedule(&args.file, &args.target) {
        Ok(result) => result,
        Err(code) => return code,
    };
    let workload = &workload;
    let mut text = if args.json { report::to_json(&schedule, workload) } else { report::to_table(&schedule, workload) };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if let Some(path) = &args.gantt {
        if let Err(error) = write_output(Some(path), &report::to_gantt_svg(&schedule, workload, &target)) {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    if let Some(path) = &args.graph {
        let mermaid = path.extension().is_some_and(|e| e == "mmd" || e == "mermaid");
        let graph = if mermaid { report::to_mermaid(&schedule, workload) } else { report::to_dot(&schedule, workload) };
        if let Err(error) = write_output(Some(path), &graph) {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    }
    for warning in cpu_fallback_warnings(workload, &schedule, &target) {
        eprintln!("warning: {warning}");
    }
    if !schedule.sla_met {
        eprintln!(
            "warning: the SLA of {} is not met: the best schedule found takes {}",
            report::format_seconds(schedule.sla_seconds.unwrap_or(0.0)),
            report::format_seconds(schedule.sla_latency)
        );
    }
    crate::build::finish(None, &text)
}

/// Plans `file` (unless it is fragment IR already) and schedules it on `target`: the
/// workload, its schedule and the target, or the exit code after the errors are printed.
/// `agentc schedule` and `agentc simulate` share it.
pub(crate) fn plan_and_schedule(
    file: &std::path::Path,
    target: &TargetArgs,
) -> Result<(agentc_scheduler::Workload, agentc_scheduler::Schedule, agentc_scheduler::Target), ExitCode> {
    // Command-line mistakes are reported as such, not at a location in the program (the
    // pass would put them on the module, which renders as a caret at line 1 of the source).
    if let Some(objective) = target.objective.as_deref().filter(|o| !matches!(*o, "latency" | "cost")) {
        eprintln!("error: invalid value `{objective}` for `--objective`: use `latency` or `cost`");
        return Err(ExitCode::from(2));
    }
    if let Err(error) = agentc_scheduler::load(&target.target) {
        eprintln!("error: cannot use target `{}`: {error}", target.target);
        return Err(ExitCode::from(1));
    }
    let Some(input) = Input::read(file) else { return Err(ExitCode::from(1)) };
    let context = match new_context() {
        Ok(context) => context,
        Err(code) => return Err(code),
    };
    let collector = DiagnosticCollector::attach(&context);
    let mut module = match load_module(&context, &collector, &input) {
        Ok(module) => module,
        Err(code) => return Err(code),
    };
    let pass_context = input.pass_context(target);
    // Plan unless the input is already fragment IR.
    let planned = module.as_operation().to_string().contains("fragment.weight");
    let mut steps: Vec<Step> = if planned { Vec::new() } else { workflow_pipeline(2) };
    if !planned {
        steps.extend(passes::lookup("convert-workflow-to-fragment").map(Step::Ours));
    }
    let mut runner = PassRunner::new(&context, RunOptions::default(), pass_context.clone());
    if runner.run(&mut module, &steps).is_err() {
        return Err(fail_mlir(&collector, &input.file, &input.source));
    }
    let (extracted, schedule, target) = match schedule_module(Op::of(&module.as_operation()), &pass_context) {
        Ok(result) => result,
        Err(_) => return Err(fail_mlir(&collector, &input.file, &input.source)),
    };
    if !agentc_compiler::verify_all(&module) {
        return Err(fail_mlir(&collector, &input.file, &input.source));
    }
    Ok((extracted.workload, schedule, target))
}

/// Models whose fragments ended up on a CPU because no accelerator of the target can hold
/// their weights: worth saying, since such a schedule is valid but usually not intended.
pub(crate) fn cpu_fallback_warnings(
    workload: &agentc_scheduler::Workload,
    schedule: &agentc_scheduler::Schedule,
    target: &agentc_scheduler::Target,
) -> Vec<String> {
    use agentc_scheduler::DeviceKind;
    let largest = target.devices.iter().filter(|d| d.kind != DeviceKind::Cpu).map(|d| d.mem_bytes).fold(0.0, f64::max);
    if largest == 0.0 {
        return Vec::new();
    }
    let cpus: std::collections::BTreeSet<&str> =
        target.devices.iter().filter(|d| d.kind == DeviceKind::Cpu).map(|d| d.name.as_str()).collect();
    let mut warned = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for placement in &schedule.placements {
        let fragment = &workload.fragments[placement.fragment];
        let Some(model) = fragment.model.map(|m| &workload.models[m]) else { continue };
        if cpus.contains(placement.device.as_str()) && model.weight_bytes > largest && warned.insert(model.name.clone()) {
            out.push(format!(
                "model `{}` ({:.1} GB of weights) fits on no accelerator of target `{}` (the largest holds {:.1} GB), so its fragments run on the CPU `{}`",
                model.name,
                model.weight_bytes / 1e9,
                target.name,
                largest / 1e9,
                placement.device
            ));
        }
    }
    out
}
