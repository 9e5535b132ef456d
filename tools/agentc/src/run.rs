//! `agentc run FILE.agent [options] -- ARGS`: builds the program into an executable in a
//! temporary folder (as `agentc build -o` would), runs it with ARGS passed through
//! unchanged, in the current folder and with the same standard streams, and exits with its
//! exit code (128 + N when signal N ended it, as shells report it).
//!
//! The temporary folder is removed as soon as the program has started (Linux keeps a
//! running executable's file alive), so it is gone however the run ends, and on every
//! build error.
//!
//! While the program runs, agentc ignores the terminal's SIGINT and SIGQUIT (as `system(3)`
//! does: the terminal sends them to the program too, which cancels its run and chooses its
//! exit code) and forwards SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM sent to agentc
//! alone to the program (which cancels its run and exits 128 + N for each).

use std::ffi::{OsString, c_int};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicI32, Ordering};

use clap::Args;

use crate::build::{self, BuildArgs, CompileArgs};
use crate::link::TempDir;
use crate::Emit;

/// Options of `agentc run`.
#[derive(Args)]
pub struct RunArgs {
    /// The .agent file.
    file: PathBuf,
    #[command(flatten)]
    compile: CompileArgs,
    /// The program's arguments, after `--` (passed unchanged).
    #[arg(last = true, value_parser = clap::value_parser!(OsString))]
    args: Vec<OsString>,
}

/// Runs `agentc run`.
pub fn run(args: &RunArgs) -> ExitCode {
    let temp = match TempDir::new() {
        Ok(temp) => temp,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    let name = args.file.file_stem().filter(|s| !s.is_empty()).map_or_else(|| OsString::from("app"), OsString::from);
    let executable = temp.path().join(name);
    let build_args = BuildArgs {
        file: args.file.clone(),
        output: Some(executable.clone()),
        emit: Some(Emit::Exe),
        compile_to: None,
        pass_pipeline: None,
        compile: args.compile.clone(),
    };
    let built = build::build(&build_args);
    if built != ExitCode::SUCCESS {
        return built;
    }
    let mut child = match Command::new(&executable).args(&args.args).spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("error: cannot run the built program `{}`: {error}", executable.display());
            return ExitCode::from(1);
        }
    };
    // The program is running: its file is no longer needed.
    drop(temp);
    relay_signals_to(child.id());
    match child.wait() {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => ExitCode::from((code & 0xff) as u8),
            (None, Some(signal)) => {
                eprintln!("agentc run: the program was ended by signal {signal}");
                ExitCode::from((128 + signal).clamp(0, 255) as u8)
            }
            (None, None) => ExitCode::from(1),
        },
        Err(error) => {
            eprintln!("error: waiting for the program failed: {error}");
            ExitCode::from(1)
        }
    }
}

/// The process id of the running program, for [`forward`].
static CHILD: AtomicI32 = AtomicI32::new(0);

unsafe extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
    fn kill(pid: i32, signum: c_int) -> c_int;
}

const SIG_IGN: usize = 1;
const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGQUIT: c_int = 3;
/// The signals forwarded to the program: SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM.
const FORWARDED: [c_int; 5] = [SIGHUP, 10, 12, 14, 15];

/// The handler of the [`FORWARDED`] signals: sends the signal on to the program.
extern "C" fn forward(signum: c_int) {
    let pid = CHILD.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { kill(pid, signum) };
    }
}

/// Installs the signal dispositions of the module documentation. Called after the program
/// was started, so it does not inherit them.
fn relay_signals_to(pid: u32) {
    CHILD.store(i32::try_from(pid).unwrap_or(0), Ordering::Relaxed);
    // SAFETY: signal(2) with SIG_IGN or an async-signal-safe handler of the C signature.
    unsafe {
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        for signum in FORWARDED {
            signal(signum, forward as *const () as usize);
        }
    }
}
