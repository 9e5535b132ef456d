//! `agentc-distill`: the command `agentc distill` runs (docs/distillation.md). Exit codes: 0
//! a student written, 1 bad input or no plan meeting the budget, 2 usage errors.

use clap::Parser;

fn main() -> std::process::ExitCode {
    agentc_distill::cli::run(&agentc_distill::cli::DistillArgs::parse())
}
