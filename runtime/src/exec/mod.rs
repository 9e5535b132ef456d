//! The plan interpreter: runs `main(args)` of a loaded [`Plan`](crate::plan::Plan).
//!
//! Host fragments call [`builtins`](crate::builtins) (the single definition of their
//! semantics), tool fragments run the tool function's body through [`tools`](crate::tools),
//! `if` / `loop` / `for` / `map` / `call` are interpreted, `map` bodies run in parallel (at
//! most [`Options::max_parallel`] at once, results in input order, the first failure cancels
//! the siblings and kills their running tool processes). Model and tensor fragments
//! (`prefill`, `decode`, `encode`, `compute`) need compiled kernels, which this interpreter
//! cannot load yet: they fail with a clear error. Each executed fragment (an op with a
//! placement) is recorded as a slice on its device's track of the optional [`Trace`].

mod interp;
mod ops;
mod value;

use std::fmt;

use crate::plan::Plan;
use crate::trace::Trace;

pub use value::Value;

/// The message of a model or tensor fragment reached at run time.
pub const NEEDS_KERNELS: &str =
    "model and tensor fragments need compiled kernels, which this runner cannot load yet";

/// How a plan runs.
#[derive(Debug, Default)]
pub struct Options<'t> {
    /// At most this many `map` bodies run at once (per `map`); 0 means the number of cores.
    pub max_parallel: usize,
    /// Where to record one slice per executed fragment.
    pub trace: Option<&'t Trace>,
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
