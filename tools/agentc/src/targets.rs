//! `agentc targets`: the built-in hardware presets.

use std::process::ExitCode;

use clap::Args;

/// Options of `agentc targets`.
#[derive(Args)]
pub struct TargetsArgs {
    /// Print this preset as TOML (a starting point for a target file of your own).
    #[arg(long)]
    show: Option<String>,
}

/// Runs `agentc targets`.
pub fn run(args: &TargetsArgs) -> ExitCode {
    match &args.show {
        Some(name) => match agentc_scheduler::preset_toml(name) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "error: no preset named `{name}`; the presets are: {}",
                    agentc_scheduler::preset_names().join(", ")
                );
                ExitCode::from(2)
            }
        },
        None => {
            for (name, description) in agentc_scheduler::presets::PRESETS {
                let devices = agentc_scheduler::preset(name)
                    .map(|t| t.devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default();
                println!("{name:<14} {description}\n{:<14} devices: {devices}", "");
            }
            ExitCode::SUCCESS
        }
    }
}
