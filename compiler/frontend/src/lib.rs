//! The `.agent` front end: source text → untyped AST → checked HIR, with diagnostics.
//!
//! Pure: no MLIR, no LLVM, no process-wide state. The only IO is reading a model folder's
//! `config.json` during checking (through [`CheckOptions::base_dir`]), and [`source`], the
//! size-capped reader the tools read their input with.
#![deny(missing_docs)]

pub mod ast;
pub mod diagnostic;
pub mod hir;
pub mod json_schema;
pub mod lexer;
pub mod parser;
mod sema;
pub mod source;
pub mod span;
pub mod token;
pub mod types;

pub use parser::parse;


/// How strictly [`check`] treats facts that only the build needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckMode {
    /// `agentc check`: a missing model folder is a warning; `main` is optional.
    Check,
    /// `agentc build`: model folders must exist and a `main` agent is required.
    Build,
}

/// Options of [`check`].
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Check or build strictness.
    pub mode: CheckMode,
    /// The directory model folders are resolved against (the `.agent` file's directory).
    pub base_dir: std::path::PathBuf,
}

/// The result of checking: the module when there is no error, and every diagnostic.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The checked module; `None` if and only if some diagnostic is an error.
    pub module: Option<hir::Module>,
    /// Errors, warnings and notes, sorted by position.
    pub diagnostics: Vec<diagnostic::Diagnostic>,
}

/// Checks a parsed program: name resolution, types, annotations, model folders, recursion.
pub fn check(program: &ast::Program, options: &CheckOptions) -> Checked {
    sema::check(program, options)
}

/// Parses and checks source text.
pub fn check_source(source: &str, options: &CheckOptions) -> Checked {
    match parse(source) {
        Ok(program) => check(&program, options),
        Err(diagnostics) => Checked { module: None, diagnostics },
    }
}

/// Checks raw bytes: invalid UTF-8 is an error at the offending byte.
pub fn check_bytes(bytes: &[u8], options: &CheckOptions) -> Checked {
    match std::str::from_utf8(bytes) {
        Ok(source) => check_source(source, options),
        Err(error) => {
            let start = error.valid_up_to();
            let end = start + error.error_len().unwrap_or(bytes.len() - start).max(1);
            let end = end.min(bytes.len());
            let diagnostic = diagnostic::Diagnostic::error("invalid UTF-8 in the source", span::Span::new(start, end))
                .with_help("`.agent` files are UTF-8 text");
            Checked { module: None, diagnostics: vec![diagnostic] }
        }
    }
}
