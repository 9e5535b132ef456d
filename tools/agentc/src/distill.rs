//! `agentc distill ARGS`: runs `agentc-distill` (compiler/distill, docs/distillation.md),
//! the binary beside `agentc`, with ARGS and its exit code, so this MLIR-linked driver does
//! not also link the distillation engine's tensor library.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use clap::Args;

/// Everything after `agentc distill`, handed to `agentc-distill` unchanged.
#[derive(Args)]
pub struct DistillArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// Runs `agentc-distill` beside the current executable.
pub fn run(args: &DistillArgs) -> ExitCode {
    let engine = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("agentc-distill")));
    let Some(engine) = engine.filter(|p| p.is_file()) else {
        eprintln!("error: `agentc-distill` is not installed beside agentc (cargo build -p agentc-distill)");
        return ExitCode::from(2);
    };
    match Command::new(&engine).args(&args.args).status() {
        Ok(status) => ExitCode::from(status.code().map_or(1, |c| c.clamp(0, 255) as u8)),
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", engine.display());
            ExitCode::from(1)
        }
    }
}
