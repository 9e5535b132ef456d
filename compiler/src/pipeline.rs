//! Runs passes one by one inside MLIR's pass manager, verifying, printing and timing
//! between them, and parses agentc's pipeline syntax.
//!
//! Pipeline text: `pass-a,pass-b` or `builtin.module(pass-a,pass-b)`. Names in the
//! project's registry run as external passes; a run of other names is one upstream segment
//! handed to MLIR's `parse_pass_pipeline` (e.g. `cse`, `func.func(canonicalize)`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use melior::ir::operation::OperationLike;
use melior::ir::r#type::TypeId;
use melior::ir::{Module, OperationRef};
use melior::pass::{create_external, ExternalPass, PassManager};
use melior::Context;

use crate::ir::Op;
use crate::passes::{self, PassContext, PassInfo};
use crate::verify;

/// One step of a pipeline.
#[derive(Clone)]
pub enum Step {
    /// A pass of agentc.
    Ours(&'static PassInfo),
    /// A segment of upstream MLIR passes, in MLIR's textual pipeline syntax.
    Upstream(String),
}

impl Step {
    /// The step's name for printing and timing.
    pub fn name(&self) -> &str {
        match self {
            Step::Ours(info) => info.name,
            Step::Upstream(text) => text,
        }
    }
}

/// The names of the passes a step runs: an agentc pass's name; for an upstream segment,
/// every pass named in it (`func.func(canonicalize,cse)` gives `canonicalize`, `cse`; the
/// nesting anchors and `{...}` options are not passes).
pub fn step_pass_names(step: &Step) -> Vec<String> {
    match step {
        Step::Ours(info) => vec![info.name.to_string()],
        Step::Upstream(text) => segment_pass_names(text),
    }
}

fn segment_pass_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in split_top_level(text) {
        let options_at = part.find('{').unwrap_or(part.len());
        match part.find('(') {
            Some(open) if open < options_at => {
                let inner = part[open + 1..].strip_suffix(')').unwrap_or(&part[open + 1..]);
                names.extend(segment_pass_names(inner));
            }
            _ => names.push(part[..options_at].trim().to_string()),
        }
    }
    names
}

/// Checks that every `--print-ir-after` name is one of `known` (the passes the driver can
/// run); the error lists them.
pub fn check_print_ir_after(names: &[String], known: &[String]) -> Result<(), String> {
    let Some(unknown) = names.iter().find(|name| !known.contains(name)) else { return Ok(()) };
    let mut listed: Vec<&str> = known.iter().map(String::as_str).collect();
    listed.sort_unstable();
    listed.dedup();
    Err(format!("`--print-ir-after={unknown}` names no pass that agentc runs: one of {}", listed.join(", ")))
}

/// Splits `text` at top-level commas.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// Parses a pipeline. Unknown names are kept as upstream segments (MLIR reports them
/// when the pipeline runs).
pub fn parse_pipeline(text: &str) -> Result<Vec<Step>, String> {
    let mut text = text.trim();
    if let Some(inner) = text.strip_prefix("builtin.module(") {
        text = inner.strip_suffix(')').ok_or("unbalanced parentheses in the pass pipeline")?;
    }
    let mut steps: Vec<Step> = Vec::new();
    for part in split_top_level(text) {
        match passes::lookup(&part) {
            Some(info) => steps.push(Step::Ours(info)),
            None => match steps.last_mut() {
                Some(Step::Upstream(segment)) => {
                    segment.push(',');
                    segment.push_str(&part);
                }
                _ => steps.push(Step::Upstream(part)),
            },
        }
    }
    Ok(steps)
}

/// What to do between passes.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Print the IR after every pass (to the dump sink).
    pub print_ir_after_all: bool,
    /// Print the IR after the passes with these names (an upstream pass prints after the
    /// segment of upstream passes that runs it).
    pub print_ir_after: Vec<String>,
    /// Record the wall time of each pass.
    pub time_passes: bool,
}

/// Runs pipelines with [`RunOptions`], collecting IR dumps and timings.
pub struct PassRunner<'c> {
    context: &'c Context,
    options: RunOptions,
    pass_context: Arc<PassContext>,
    /// IR dumps written so far (`// -----// IR Dump After X //----- //` blocks).
    pub dumps: String,
    /// (pass, wall time) for every pass run, in order.
    pub timings: Vec<(String, Duration)>,
}

/// The pipeline failed; diagnostics went to the context's handlers.
#[derive(Debug)]
pub struct PipelineFailed {
    /// The step that failed (or the verifier after it).
    pub step: String,
}

impl<'c> PassRunner<'c> {
    /// A runner for `context`.
    pub fn new(context: &'c Context, options: RunOptions, pass_context: PassContext) -> Self {
        PassRunner { context, options, pass_context: Arc::new(pass_context), dumps: String::new(), timings: Vec::new() }
    }

    /// Runs `steps` on `module` in order: each in its own pass manager with MLIR's verifier
    /// on, then agentc's semantic verifier, then printing if asked.
    pub fn run(&mut self, module: &mut Module<'c>, steps: &[Step]) -> Result<(), PipelineFailed> {
        for step in steps {
            let manager = PassManager::new(self.context);
            manager.enable_verifier(true);
            match step {
                Step::Ours(info) => manager.add_pass(external(info, self.pass_context.clone())),
                Step::Upstream(text) => {
                    let nested = format!("builtin.module({text})");
                    if let Err(error) = melior::utility::parse_pass_pipeline(manager.as_operation_pass_manager(), &nested) {
                        crate::ir::emit_error(module.as_operation().location(), &format!("bad pass pipeline `{text}`: {error}"));
                        return Err(PipelineFailed { step: text.clone() });
                    }
                }
            }
            let start = Instant::now();
            let result = manager.run(module);
            let elapsed = start.elapsed();
            if self.options.time_passes {
                self.timings.push((step.name().to_string(), elapsed));
            }
            if result.is_err() || verify::verify_module(Op::of(&module.as_operation())).is_err() {
                return Err(PipelineFailed { step: step.name().to_string() });
            }
            let named = !self.options.print_ir_after.is_empty()
                && step_pass_names(step).iter().any(|name| self.options.print_ir_after.contains(name));
            if self.options.print_ir_after_all || named {
                self.dumps.push_str(&format!("// -----// IR Dump After {} //----- //\n", step.name()));
                self.dumps.push_str(&module.as_operation().to_string());
                self.dumps.push('\n');
            }
        }
        Ok(())
    }

    /// The `--time-passes` report.
    pub fn timing_report(&self) -> String {
        let total: Duration = self.timings.iter().map(|(_, t)| *t).sum();
        let mut out = String::new();
        out.push_str("===-------------------------------------------------------------------------===\n");
        out.push_str("                        ... Pass execution timing report ...\n");
        out.push_str("===-------------------------------------------------------------------------===\n");
        out.push_str(&format!("  Total Execution Time: {:.4} seconds\n\n", total.as_secs_f64()));
        out.push_str("  ----Wall Time----  ----Name----\n");
        for (name, time) in &self.timings {
            let share = if total.is_zero() { 0.0 } else { 100.0 * time.as_secs_f64() / total.as_secs_f64() };
            out.push_str(&format!("  {:>8.4} ({:>5.1}%)  {}\n", time.as_secs_f64(), share, name));
        }
        out.push_str(&format!("  {:>8.4} (100.0%)  Total\n", total.as_secs_f64()));
        out
    }
}

/// Wraps a registered pass as an MLIR external pass on `builtin.module`.
fn external(info: &'static PassInfo, context: Arc<PassContext>) -> melior::pass::Pass {
    create_external(
        move |operation: OperationRef, pass: ExternalPass| {
            if (info.run)(Op::of(&operation), &context).is_err() {
                pass.signal_failure();
            }
        },
        TypeId::create(info),
        info.name,
        info.name,
        info.summary,
        "builtin.module",
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_segments_name_their_passes_not_anchors_or_options() {
        let step = Step::Upstream("func.func(canonicalize,cse),one-shot-bufferize{bufferize-function-boundaries},gpu.module(lower-affine)".into());
        assert_eq!(step_pass_names(&step), ["canonicalize", "cse", "one-shot-bufferize", "lower-affine"]);
    }

    #[test]
    fn unknown_print_ir_after_names_are_refused() {
        let known = vec!["cse".to_string(), "workflow-canonicalize".to_string()];
        assert!(check_print_ir_after(&["cse".into()], &known).is_ok());
        let error = check_print_ir_after(&["cse".into(), "cse-typo".into()], &known).unwrap_err();
        assert!(error.contains("`--print-ir-after=cse-typo`") && error.contains("cse, workflow-canonicalize"), "{error}");
    }
}
