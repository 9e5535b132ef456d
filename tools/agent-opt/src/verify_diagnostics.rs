//! `--verify-diagnostics`: compares the diagnostics of a chunk with its
//! `// expected-error {{text}}` comments, as mlir-opt does.
//!
//! Forms: `expected-error {{…}}` (this line), `expected-error @+N {{…}}` / `@-N` (N lines
//! below/above), `@below` / `@above` (next/previous line); also `expected-warning`,
//! `expected-note`, `expected-remark`. The text must occur in the message. Every expected
//! diagnostic must be produced, and every error produced must be expected.

use agentc_compiler::diagnostics::MlirDiagnostic;
use agentc_frontend::diagnostic::Severity;

struct Expected {
    line: usize,
    severity: Severity,
    text: String,
    comment_line: usize,
    matched: bool,
}

/// The problems found (empty when the diagnostics are exactly as expected).
pub fn check(chunk: &str, line_offset: usize, file: &str, diagnostics: &[MlirDiagnostic]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected = Vec::new();
    for (index, line) in chunk.lines().enumerate() {
        let line_number = line_offset + index + 1;
        for (marker, severity) in [
            ("expected-error", Severity::Error),
            ("expected-warning", Severity::Warning),
            ("expected-note", Severity::Note),
            ("expected-remark", Severity::Note),
        ] {
            let Some(at) = line.find(marker) else { continue };
            let rest = &line[at + marker.len()..];
            match parse_expectation(rest, line_number) {
                Some((target, text)) => expected.push(Expected { line: target, severity, text, comment_line: line_number, matched: false }),
                None => problems.push(format!("{file}:{line_number}: error: malformed `{marker}` comment")),
            }
        }
    }
    for diagnostic in diagnostics {
        let line = diagnostic.position.as_ref().map(|p| p.line);
        let found = expected.iter_mut().find(|e| {
            !e.matched && Some(e.line) == line && e.severity == diagnostic.severity && diagnostic.message.contains(&e.text)
        });
        match found {
            Some(e) => e.matched = true,
            None if diagnostic.severity == Severity::Error => {
                problems.push(format!("unexpected error: {}", diagnostic.to_plain()));
            }
            None => {}
        }
    }
    for e in expected.iter().filter(|e| !e.matched) {
        problems.push(format!(
            "{file}:{}: error: expected {} \"{}\" on line {} was not produced",
            e.comment_line,
            match e.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            },
            e.text,
            e.line
        ));
    }
    problems
}

/// Parses ` @+1 {{text}}`; returns (target line, text).
fn parse_expectation(rest: &str, line: usize) -> Option<(usize, String)> {
    let rest = rest.trim_start();
    let (target, rest) = if let Some(after) = rest.strip_prefix('@') {
        let end = after.find(|c: char| c.is_whitespace() || c == '{').unwrap_or(after.len());
        let spec = &after[..end];
        let target = match spec {
            "below" => line + 1,
            "above" => line.checked_sub(1)?,
            _ if spec.starts_with('+') => line + spec[1..].parse::<usize>().ok()?,
            _ if spec.starts_with('-') => line.checked_sub(spec[1..].parse::<usize>().ok()?)?,
            _ => return None,
        };
        (target, after[end..].trim_start())
    } else {
        (line, rest)
    };
    let text = rest.strip_prefix("{{")?;
    let end = text.rfind("}}")?;
    Some((target, text[..end].to_string()))
}
