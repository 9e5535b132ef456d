//! A body as a dataflow graph: an op starts when the ops defining its operands (and the
//! values its regions read) have finished; among ready ops the scheduler's priority order
//! wins (the placement's planned start, then program order). Tool and agent calls, and
//! control ops containing them, also wait for the previous such op: they are effects, and
//! effects keep their program order (docs/language.md §9). Fragments and control ops run on
//! a spare thread when one is free (at most `max_parallel` at once in the whole run), others
//! on the calling thread; with no spare thread a body runs in priority order on one thread.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use super::{CANCELLED, Env, IdMap, Interpreter, error};
use crate::exec::{RunError, Value};
use crate::plan::{Function, Op};
use crate::tools::Cancel;

/// Whether running `op` may have an effect the program can observe (a tool or agent call,
/// or a region that makes one).
fn is_effect(op: &Op) -> bool {
    matches!(op.op.as_str(), "tool" | "call" | "exec" | "http") || op.regions.iter().any(|r| r.body.iter().any(is_effect))
}

/// Whether `op` is worth a thread of its own: a fragment or anything with a body.
fn is_heavy(op: &Op) -> bool {
    op.placement.is_some() || !op.regions.is_empty() || matches!(op.op.as_str(), "tool" | "call" | "exec" | "http")
}

/// Whether `op` is a host op that only computes (no region, call, tool or model/compute
/// fragment): such ops finish in microseconds, so a thread of their own never pays off.
fn is_quick(op: &Op) -> bool {
    op.regions.is_empty() && !matches!(op.op.as_str(), "tool" | "call" | "exec" | "http" | "prefill" | "decode" | "encode" | "compute")
}

/// Every value id `op` reads: its operands and, recursively, its regions' operands.
fn reads(op: &Op, out: &mut Vec<u32>) {
    out.extend(&op.operands);
    for region in &op.regions {
        for inner in &region.body {
            reads(inner, out);
        }
    }
}

/// The priority of a ready op: cheap host ops first (they only unblock others), then the
/// planned start (the scheduler's order), then program order.
fn priority(op: &Op, index: usize) -> (bool, u64, usize) {
    let start = op.placement.as_ref().and_then(|p| p.start).unwrap_or(-1.0);
    // Order-preserving map of an f64 onto u64 (total order; NaN sorts last).
    let bits = start.to_bits();
    let key = if start.is_sign_negative() { !bits } else { bits | (1 << 63) };
    (is_heavy(op), key, index)
}

/// The dependency graph of a body's ops (the terminator excluded).
struct Graph {
    /// For each op, how many ops it still waits for.
    waiting: Vec<usize>,
    /// For each op, the ops that wait for it.
    dependents: Vec<Vec<usize>>,
}

fn graph(ops: &[Op]) -> Graph {
    let mut defined_by: IdMap<usize> = IdMap::default();
    let mut waiting = vec![0; ops.len()];
    let mut dependents = vec![Vec::new(); ops.len()];
    let mut last_effect: Option<usize> = None;
    let mut read = Vec::new();
    for (j, op) in ops.iter().enumerate() {
        read.clear();
        reads(op, &mut read);
        let mut deps: BTreeSet<usize> = read.iter().filter_map(|id| defined_by.get(id).copied()).collect();
        if is_effect(op) {
            deps.extend(last_effect);
            last_effect = Some(j);
        }
        waiting[j] = deps.len();
        for i in deps {
            dependents[i].push(j);
        }
        for result in &op.results {
            defined_by.insert(result.id, j);
        }
    }
    Graph { waiting, dependents }
}

/// The progress of one body.
struct State<'o> {
    ops: &'o [Op],
    dependents: Vec<Vec<usize>>,
    waiting: Vec<usize>,
    ready: BTreeSet<((bool, u64, usize), usize)>,
    first_error: Option<RunError>,
    done: usize,
}

impl State<'_> {
    /// Records that op `j` finished: its results become visible and its dependents may be
    /// ready; a failure becomes the body's error (the first real one) and cancels the body's
    /// cancellation scope (the run's, or the enclosing `try` body's).
    fn finish(&mut self, env: &Env<'_>, j: usize, result: Result<Vec<Value>, RunError>) {
        self.done += 1;
        match result {
            Ok(values) => {
                for (value, result) in values.into_iter().zip(&self.ops[j].results) {
                    env.insert(result.id, value);
                }
                for &k in &self.dependents[j] {
                    self.waiting[k] -= 1;
                    if self.waiting[k] == 0 {
                        self.ready.insert((priority(&self.ops[k], k), k));
                    }
                }
            }
            Err(e) => {
                // The first real failure wins; ops it cancelled report `cancelled`.
                if self.first_error.as_ref().is_none_or(|f| f.message == CANCELLED && e.message != CANCELLED) {
                    self.first_error = Some(e);
                }
                env.cancel.cancel();
            }
        }
    }
}

impl Interpreter<'_> {
    /// Runs `body` in `env` and returns the operands of its terminator (`return`, `yield`,
    /// `condition`).
    pub(super) fn run_body(&self, function: &Function, body: &[Op], env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        let Some((terminator, ops)) = body.split_last().filter(|(t, _)| matches!(t.op.as_str(), "return" | "yield" | "condition")) else {
            return Err(RunError { loc: function.loc.clone(), message: format!("internal error: a body of `{}` has no terminator", function.name) });
        };
        if ops.iter().all(is_quick) {
            return self.run_light_body(function, terminator, ops, env);
        }
        let Graph { waiting, dependents } = graph(ops);
        let ready = (0..ops.len()).filter(|&j| waiting[j] == 0).map(|j| (priority(&ops[j], j), j)).collect();
        let mut state = State { ops, dependents, waiting, ready, first_error: None, done: 0 };
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel::<(usize, Result<Vec<Value>, RunError>)>();
            let mut in_flight = 0usize;
            loop {
                while state.first_error.is_none() && !env.cancel.is_cancelled() {
                    let Some((_, j)) = state.ready.pop_first() else { break };
                    let op = &ops[j];
                    // The calling thread counts as one of `max_parallel`: it runs the last
                    // ready op itself rather than wait idle for a thread it started.
                    if is_heavy(op) && !state.ready.is_empty() && self.take_threads(1) == 1 {
                        let sender = sender.clone();
                        in_flight += 1;
                        scope.spawn(move || {
                            // Beside the calling thread: its slices on a trace lane of its own.
                            let _lane = self.trace.map(crate::trace::Trace::lane);
                            let result = self.run_traced(function, op, env);
                            self.spare_threads.fetch_add(1, Ordering::SeqCst);
                            let _ = sender.send((j, result));
                        });
                    } else {
                        let result = self.run_traced(function, op, env);
                        state.finish(env, j, result);
                    }
                }
                if in_flight == 0 {
                    break;
                }
                match receiver.recv() {
                    Ok((j, result)) => {
                        in_flight -= 1;
                        state.finish(env, j, result);
                    }
                    Err(_) => break,
                }
            }
        });
        let State { first_error, done, .. } = state;
        if let Some(e) = first_error {
            return Err(e);
        }
        if env.cancel.is_cancelled() {
            return Err(error(terminator, CANCELLED));
        }
        if done != ops.len() {
            return Err(error(terminator, format!("internal error: {} ops of `{}` never became ready", ops.len() - done, function.name)));
        }
        self.operands(terminator, env)
    }

    /// A body of quick host ops only ([`is_quick`]): they run in program order (a
    /// topological order of the body) on the calling thread, without the dependency graph,
    /// a channel or a thread scope, which would cost more than the ops. Their results do not
    /// depend on the order (they are pure). Most `map` bodies over built-ins are such bodies.
    fn run_light_body(&self, function: &Function, terminator: &Op, ops: &[Op], env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        for op in ops {
            if env.cancel.is_cancelled() {
                return Err(error(terminator, CANCELLED));
            }
            let values = self.run_traced(function, op, env).inspect_err(|_| env.cancel.cancel())?;
            for (value, result) in values.into_iter().zip(&op.results) {
                env.insert(result.id, value);
            }
        }
        self.operands(terminator, env)
    }
}
