//! `agentc`: the driver. Checks `.agent` files and compiles them down the levels
//! (`--emit=PHASE` stops at a level and prints it), builds executables (`-o app`) and runs
//! them (`agentc run`). Exit codes: 0 success, 1 errors in the input, 2 usage errors
//! (`agentc run`: the program's own exit code).

mod build;
mod calibrate;
mod distill;
mod link;
mod output;
mod phases;
mod run;
mod schedule;
mod simulate;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// agentc: a multi-level compiler for agent workflows (.agent files).
///
/// A workflow is parsed and checked, lowered to the `workflow` MLIR dialect, optimised by
/// agentc's workflow passes, split into fragments by the planner and placed on a hardware
/// target by the scheduler; tensor functions and the models (Llama, BERT) compile through
/// the tensor and kernel levels to LLVM IR, assembly, objects and PTX, and `--emit=plan`
/// writes the scheduled workflow for the runtime. `agentc build FILE.agent -o app` links
/// the plan, the kernels and the runtime into a native executable; `agentc run FILE.agent
/// -- ARGS` builds one in a temporary folder and runs it.
#[derive(Parser)]
#[command(name = "agentc", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a .agent file and print its diagnostics (model folders may be absent: warning).
    Check {
        /// The .agent file.
        file: PathBuf,
    },
    /// Compile a .agent file (or MLIR at a later level) and emit a phase, or build an
    /// executable (`-o app`).
    Build(build::BuildArgs),
    /// Build a .agent file into a temporary executable and run it with ARGS (after `--`);
    /// exits with the program's exit code.
    Run(run::RunArgs),
    /// Plan and schedule a workflow on a target: placement table, critical path, cost.
    Schedule(schedule::ScheduleArgs),
    /// Simulate many requests over the placed plan: arrivals, continuous batching, paged
    /// KV cache; latency percentiles, goodput under the SLA, utilisation, $/1M tokens.
    Simulate(simulate::SimulateArgs),
    /// List the built-in hardware targets (`--show NAME` prints one as TOML).
    Targets(targets::TargetsArgs),
    /// Measure this machine with agentc's compiled kernels (prefill, decode, tool calls) and
    /// write a target TOML whose constants make the planner's host estimates match.
    Calibrate(calibrate::CalibrateArgs),
    /// Shrink a model the program declares to a measured accuracy budget (weight-only int4 /
    /// int8, RTN or GPTQ) and write the student GGUF, a report and the rewritten program.
    #[command(disable_help_flag = true)]
    Distill(distill::DistillArgs),
    /// List agentc's passes with their summaries.
    Passes,
}

/// What `--emit` can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The untyped syntax tree (Rust debug form).
    Ast,
    /// The workflow dialect after the workflow passes.
    Workflow,
    /// The fragment dialect, planned and scheduled on --target.
    Fragment,
    /// The plan (JSON, docs/plan.md): the scheduled workflow as executables embed it and the
    /// runtime interprets it.
    Plan,
    /// The program's tensor functions in the tgraph dialect.
    Tensor,
    /// Bufferised, vectorised per-workgroup kernels.
    Kernel,
    /// LLVM IR after the LLVM optimisation pipeline.
    Llvm,
    /// Assembly for the host CPU (or --cpu).
    Asm,
    /// PTX for NVIDIA GPUs (--gpu sm_80, sm_90, sm_100, ...).
    Ptx,
    /// An x86-64 object file (needs -o).
    Obj,
    /// A native executable (needs -o): the plan, the kernels and the runtime, linked.
    Exe,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file } => build::check(&file),
        Command::Build(args) => build::build(&args),
        Command::Run(args) => run::run(&args),
        Command::Schedule(args) => schedule::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Targets(args) => targets::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Distill(args) => distill::run(&args),
        Command::Passes => {
            for pass in agentc_compiler::passes::REGISTRY {
                println!("{:<32} {}", pass.name, pass.summary.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            ExitCode::SUCCESS
        }
    }
}
