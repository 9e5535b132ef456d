//! Captures MLIR's diagnostics (from parsing, IRDL verification, our verifier and passes)
//! as data, and turns them into front-end diagnostics with spans on the `.agent` source.

use std::cell::RefCell;
use std::rc::Rc;

use agentc_frontend::diagnostic::{self, Diagnostic, Severity};
use agentc_frontend::span::Span;
use melior::diagnostic::DiagnosticSeverity;
use melior::ir::Location;
use melior::Context;

/// A resolved source position: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file name as recorded in the location.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One diagnostic MLIR reported.
#[derive(Clone, Debug)]
pub struct MlirDiagnostic {
    /// Error, warning or remark/note.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// Where, when the location resolves to a file position.
    pub position: Option<Position>,
    /// Attached notes (`see current operation: …`), with their positions.
    pub notes: Vec<(String, Option<Position>)>,
}

impl MlirDiagnostic {
    /// `file:line:col: error: message` (the mlir-opt style), plus notes.
    pub fn to_plain(&self) -> String {
        let mut out = format!("{}{}: {}", position_prefix(&self.position), word(self.severity), self.message);
        for (note, position) in &self.notes {
            out.push_str(&format!("\n{}note: {}", position_prefix(position), note));
        }
        out
    }
}

fn position_prefix(position: &Option<Position>) -> String {
    match position {
        Some(p) => format!("{}:{}:{}: ", p.file, p.line, p.column),
        None => String::new(),
    }
}

fn word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Collects every diagnostic of a context while alive.
pub struct DiagnosticCollector<'c> {
    context: &'c Context,
    id: Option<melior::diagnostic::DiagnosticHandlerId>,
    collected: Rc<RefCell<Vec<MlirDiagnostic>>>,
}

impl<'c> DiagnosticCollector<'c> {
    /// Attaches a handler to `context` that records (and swallows) every diagnostic.
    pub fn attach(context: &'c Context) -> Self {
        let collected: Rc<RefCell<Vec<MlirDiagnostic>>> = Rc::default();
        let sink = collected.clone();
        let id = context.attach_diagnostic_handler(move |diagnostic| {
            let severity = match diagnostic.severity() {
                DiagnosticSeverity::Error => Severity::Error,
                DiagnosticSeverity::Warning => Severity::Warning,
                _ => Severity::Note,
            };
            let notes = (0..diagnostic.note_count())
                .filter_map(|i| diagnostic.note(i).ok())
                .map(|note| (note.to_string(), position_of(note.location())))
                .collect();
            sink.borrow_mut().push(MlirDiagnostic {
                severity,
                message: diagnostic.to_string(),
                position: position_of(diagnostic.location()),
                notes,
            });
            true
        });
        DiagnosticCollector { context, id: Some(id), collected }
    }

    /// Takes the diagnostics collected so far.
    pub fn take(&self) -> Vec<MlirDiagnostic> {
        std::mem::take(&mut *self.collected.borrow_mut())
    }

    /// Whether an error has been collected and not yet taken.
    pub fn has_errors(&self) -> bool {
        self.collected.borrow().iter().any(|d| d.severity == Severity::Error)
    }
}

impl Drop for DiagnosticCollector<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.context.detach_diagnostic_handler(id);
        }
    }
}

/// The first file position inside a location (looking through call-site, name and fused
/// locations).
pub fn position_of(location: Location) -> Option<Position> {
    use mlir_sys::*;
    unsafe {
        let raw = location.to_raw();
        if mlirLocationIsAFileLineColRange(raw) {
            let file = melior::ir::Identifier::from_raw(mlirLocationFileLineColRangeGetFilename(raw));
            return Some(Position {
                file: file.as_string_ref().as_str().unwrap_or("").to_string(),
                line: mlirLocationFileLineColRangeGetStartLine(raw).max(0) as usize,
                column: mlirLocationFileLineColRangeGetStartColumn(raw).max(0) as usize,
            });
        }
        if mlirLocationIsACallSite(raw) {
            return position_of(Location::from_raw(mlirLocationCallSiteGetCallee(raw)));
        }
        if mlirLocationIsAName(raw) {
            return position_of(Location::from_raw(mlirLocationNameGetChildLoc(raw)));
        }
        if mlirLocationIsAFused(raw) {
            let count = mlirLocationFusedGetNumLocations(raw);
            let mut locations = vec![mlirLocationUnknownGet(mlirLocationGetContext(raw)); count as usize];
            mlirLocationFusedGetLocations(raw, locations.as_mut_ptr());
            return locations.into_iter().find_map(|l| position_of(Location::from_raw(l)));
        }
        None
    }
}

/// Converts MLIR diagnostics into front-end diagnostics on `source` (named `file_name`):
/// a position in that file becomes a one-character span there; others keep their
/// position in the message.
pub fn to_source_diagnostics(diagnostics: &[MlirDiagnostic], file_name: &str, source: &str) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let (span, message) = match &d.position {
                Some(p) if p.file == file_name => {
                    let start = diagnostic::offset_of(source, p.line, p.column);
                    let end = source[start..].chars().next().map_or(start, |c| start + c.len_utf8());
                    (Span::new(start, end), d.message.clone())
                }
                _ => (Span::new(0, 0), d.to_plain()),
            };
            let mut out = Diagnostic::error(message, span);
            out.severity = d.severity;
            out
        })
        .collect()
}
