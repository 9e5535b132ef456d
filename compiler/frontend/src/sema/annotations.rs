//! Annotation validation: each annotation has one place, and its arguments a fixed form.
//! The places themselves (agent signature, loop header, map list, if condition, model and
//! fn calls) are handled where those constructs are checked; this module reads the
//! arguments and words the "wrong place" diagnostics.

use crate::ast::{Annotation, ExprKind};
use crate::diagnostic::Diagnostic;
use crate::hir::{DevicePin, Objective};

/// Every annotation name the language knows.
const KNOWN: &[&str] = &["sla", "objective", "device", "expect", "max_parallel", "likely", "unlikely"];

/// Where an annotation goes, for help lines.
fn place_of(name: &str) -> &'static str {
    match name {
        "sla" => "`@sla(latency: 3s)` goes after an agent's signature: `agent a() -> text @sla(latency: 3s) { … }`",
        "objective" => "`@objective(cost)` goes after an agent's signature: `agent a() -> text @objective(cost) { … }`",
        "device" => "`@device` goes right after a model call or a fn call: `m.generate(p) @device(gpu)`; inside a larger expression, put the call and its annotation in parentheses",
        "expect" => "`@expect(iterations: N)` goes after a loop header or a map's list: `loop (max: 3) @expect(iterations: 2) { … }`",
        "max_parallel" => "`@max_parallel(N)` goes after a map's list: `map x in xs @max_parallel(16) { … }`",
        _ => "`@likely` and `@unlikely` go after an if condition: `if c @likely { … }`",
    }
}

/// The diagnostic for an annotation found where it does not belong (or unknown).
pub(crate) fn misplaced(annotation: &Annotation) -> Diagnostic {
    let name = annotation.name.name.as_str();
    if KNOWN.contains(&name) {
        Diagnostic::error(format!("annotation `@{name}` is not allowed here"), annotation.span)
            .with_help(place_of(name))
    } else {
        Diagnostic::error(format!("unknown annotation `@{name}`"), annotation.name.span).with_help(
            "the annotations are `@sla`, `@objective`, `@device`, `@expect`, `@max_parallel`, `@likely` and `@unlikely`",
        )
    }
}

fn malformed(annotation: &Annotation, form: &str) -> Diagnostic {
    Diagnostic::error(
        format!("malformed annotation `@{}`", annotation.name.name),
        annotation.span,
    )
    .with_help(format!("write it as `{form}`"))
}

/// `@sla(latency: DURATION)` → milliseconds.
pub(crate) fn sla(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    if let [arg] = annotation.args.as_slice()
        && arg.name.as_ref().is_some_and(|n| n.name == "latency")
        && let ExprKind::Duration(ms) = arg.value.kind
    {
        return Some(ms);
    }
    diags.push(malformed(annotation, "@sla(latency: 3s)"));
    None
}

/// `@objective(cost|latency)`.
pub(crate) fn objective(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<Objective> {
    if let [arg] = annotation.args.as_slice()
        && arg.name.is_none()
        && let ExprKind::Name(name) = &arg.value.kind
    {
        match name.as_str() {
            "cost" => return Some(Objective::Cost),
            "latency" => return Some(Objective::Latency),
            _ => {}
        }
    }
    diags.push(malformed(annotation, "@objective(cost)` or `@objective(latency)"));
    None
}

/// `@device(gpu|cpu)` or `@device("name")`.
pub(crate) fn device(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<DevicePin> {
    if let [arg] = annotation.args.as_slice()
        && arg.name.is_none()
    {
        match &arg.value.kind {
            ExprKind::Name(kind) if kind == "gpu" || kind == "cpu" => {
                return Some(DevicePin::Kind(kind.clone()));
            }
            ExprKind::Str(name) if !name.is_empty() => return Some(DevicePin::Named(name.clone())),
            _ => {}
        }
    }
    diags.push(malformed(annotation, "@device(gpu)`, `@device(cpu)` or `@device(\"h100_0\")"));
    None
}

/// `@expect(iterations: N)`.
pub(crate) fn expect(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    if let [arg] = annotation.args.as_slice()
        && arg.name.as_ref().is_some_and(|n| n.name == "iterations")
        && let ExprKind::Int(n) = arg.value.kind
        && n >= 0
    {
        return Some(n as u64);
    }
    diags.push(malformed(annotation, "@expect(iterations: 2)"));
    None
}

/// The largest `@max_parallel(N)`: each body beyond the first runs on a thread of its own,
/// so the bound keeps a typo from asking for millions of threads (the plan loader keeps it
/// too).
pub(crate) const MAX_PARALLEL_LIMIT: u64 = 1024;

/// `@max_parallel(N)` on a map's list, `N` an integer literal in `1..=1024`: how many bodies
/// of that map may run at once.
pub(crate) fn max_parallel(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    if let [arg] = annotation.args.as_slice()
        && arg.name.is_none()
        && let ExprKind::Int(n) = arg.value.kind
        && (1..=MAX_PARALLEL_LIMIT as i64).contains(&n)
    {
        return Some(n as u64);
    }
    diags.push(malformed(annotation, "@max_parallel(16)").with_note(format!("N is an integer literal from 1 to {MAX_PARALLEL_LIMIT}")));
    None
}

/// `@likely` / `@unlikely` (no arguments) → the branch hint.
pub(crate) fn likely(annotation: &Annotation, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    let value = annotation.name.name == "likely";
    if !annotation.args.is_empty() {
        diags.push(malformed(annotation, if value { "@likely" } else { "@unlikely" }));
        return None;
    }
    Some(value)
}

/// Reports `@likely` and `@unlikely` on the same condition.
pub(crate) fn conflicting_likely(annotation: &Annotation) -> Diagnostic {
    Diagnostic::error("conflicting annotations `@likely` and `@unlikely`", annotation.span)
        .with_help("an if condition takes one of them")
}

/// Reports a second annotation of the same name.
pub(crate) fn duplicate(annotation: &Annotation) -> Diagnostic {
    Diagnostic::error(
        format!("duplicate annotation `@{}`", annotation.name.name),
        annotation.span,
    )
}
