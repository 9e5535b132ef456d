//! The plan interpreter: runs `main(args)` of a loaded [`Plan`](crate::plan::Plan).
//!
//! Host fragments call [`builtins`](crate::builtins) (the single definition of their
//! semantics), tool fragments run the tool function's body through [`tools`](crate::tools),
//! `if` / `loop` / `for` / `map` / `call` are interpreted, `map` bodies run in parallel (at
//! most [`Options::max_parallel`] at once, results in input order, the first failure cancels
//! the siblings and kills their running tool processes). Outside `map`, the ops of a body
//! start when their operands are ready, in the scheduler's priority order, tool and agent
//! calls keeping their program order (they are effects). Model and tensor fragments
//! (`prefill`, `decode`, `encode`, `compute`) call the compiled kernels of
//! [`Options::compiled`]; without them (a development runner) they fail with a clear error.
//! Each executed fragment (an op with a placement) is recorded as a slice on its device's
//! track of the optional [`Trace`], each decode step too.

mod interp;
pub mod json;
mod ops;
mod value;

use std::fmt;
use std::sync::atomic::AtomicBool;

use crate::kernels::KernelTable;
use crate::models::Models;
use crate::plan::Plan;
use crate::pool::ThreadPool;
use crate::trace::Trace;

pub use value::{KvValue, Tensor, TensorData, Value};

/// The message of a model or tensor fragment reached without compiled kernels.
pub const NEEDS_KERNELS: &str =
    "model and tensor fragments need compiled kernels, which this runner cannot load (build an executable with `agentc build -o app`)";

/// The compiled side of a program: its kernels, its loaded models, the CPU thread pool
/// their workgroups run on and the GPU, if one was opened for GPU placements.
#[derive(Debug)]
pub struct Compiled {
    /// The kernels, by name.
    pub kernels: KernelTable,
    /// The models, loaded and bound to their kernels.
    pub models: Models,
    /// The pool kernel workgroups are spread over.
    pub pool: ThreadPool,
    /// The CUDA device that runs fragments placed on a GPU of the plan's target (docs/cuda.md);
    /// `None` when the plan has none or `--fallback cpu` runs them on the CPU.
    pub gpu: Option<crate::cuda::Device>,
}

/// How a plan runs.
#[derive(Debug, Default)]
pub struct Options<'t> {
    /// At most this many `map` bodies run at once (per `map`); 0 means the number of cores.
    pub max_parallel: usize,
    /// Where to record one slice per executed fragment.
    pub trace: Option<&'t Trace>,
    /// The compiled kernels and models; `None` in a development runner.
    pub compiled: Option<&'t Compiled>,
    /// The seed of every generate call's random generator (`--seed`).
    pub seed: u64,
    /// Write generated text to stderr as it is produced (`--stream`).
    pub stream: bool,
    /// Set (by a signal handler) to stop the run as the first failure would: running tool
    /// processes are killed and no new op starts.
    pub interrupt: Option<&'t AtomicBool>,
}

/// A failed run: the one-line cause and the source location (`file:line:col`) of the op
/// that failed (for a tool, of the call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// `file:line:col`, empty when the plan carries none.
    pub loc: String,
    /// The cause, one line.
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.loc, self.message) }
    }
}

impl std::error::Error for RunError {}

/// Runs `main` of `plan` (loaded and validated by [`crate::plan::load`]) with `args` as its
/// `list<text>` parameter and returns its result.
pub fn run_main(plan: &Plan, args: &[String], options: &Options<'_>) -> Result<Value, RunError> {
    interp::Interpreter::new(plan, options).run_main(args)
}

#[cfg(test)]
mod tests;
