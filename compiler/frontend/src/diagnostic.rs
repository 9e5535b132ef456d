//! Diagnostics as data, rendered in one place with codespan-reporting.
//!
//! Every layer (lexer, parser, checker, and the MLIR passes in the compiler crate) reports
//! problems as [`Diagnostic`] values carrying spans; only [`render`] turns them into text.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

use crate::span::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A remark (printed with `--print-remarks`-like options only).
    Note,
    /// Something that does not stop compilation.
    Warning,
    /// Something that stops compilation (exit code 1).
    Error,
}

/// A label pointing at part of the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// What it points at.
    pub span: Span,
    /// What it says there (may be empty).
    pub message: String,
    /// Whether this is the primary location (rendered with `^`) or secondary (`-`).
    pub primary: bool,
}

/// One diagnostic: a message, labelled spans, and help or note lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// The headline, lower case, no trailing period (`unknown name `foo``).
    pub message: String,
    /// Labelled spans; the first primary one is the diagnostic's location.
    pub labels: Vec<Label>,
    /// Trailing lines such as `help: ...` or `note: ...`, written with their prefix.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span` with `message` as both headline and label text.
    pub fn error(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label { span, message: String::new(), primary: true }],
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: Span) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message, span) }
    }

    /// Sets the primary label's text.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        if let Some(label) = self.labels.iter_mut().find(|l| l.primary) {
            label.message = message.into();
        }
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    /// Adds a `help: ...` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.notes.push(format!("help: {}", help.into()));
        self
    }

    /// Adds a `note: ...` line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(format!("note: {}", note.into()));
        self
    }

    /// The primary span, if the diagnostic has one.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    /// Whether this diagnostic stops compilation.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Renders diagnostics for one file as codespan-reporting does (file:line:col, the source
/// line, a caret under the span, notes), without colour. Spans past the end of the file are
/// clamped to it, so rendering never fails. Control characters never reach the terminal
/// raw: in source lines they are shown as their Unicode control pictures (`␀`, `␛`, one
/// column each, so carets stay aligned), in messages and the file name as `\u{1b}` escapes.
pub fn render(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> String {
    let shown = ShownSource::new(source);
    let file = SimpleFile::new(escape_controls(file_name), shown.text.as_str());
    let config = Config::default();
    let mut out = term::termcolor::NoColor::new(Vec::new());
    for diagnostic in diagnostics {
        let converted = to_codespan(diagnostic, &shown);
        // Writing into a Vec cannot fail; a rendering failure falls back to the headline.
        if term::emit(&mut out, &config, &file, &converted).is_err() {
            let _ = std::io::Write::write_fmt(
                &mut out,
                format_args!("{}: {}\n", severity_word(diagnostic.severity), escape_controls(&diagnostic.message)),
            );
        }
    }
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// Whether `c` would act on a terminal rather than print: C0 controls other than newline
/// and tab, DEL, and the C1 controls (U+009B is a CSI on some terminals).
fn is_hostile_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{80}'..='\u{9f}')
}

/// `text` with every control character but newline and tab written as a `\u{..}` escape.
pub fn escape_controls(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hostile_control(c) {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// The source as diagnostics show it: each control character replaced by one printable
/// character (its control picture, or U+FFFD), and the byte shifts that replacement makes,
/// so spans on the original text can be moved onto the shown one. A `\r` before `\n` is a
/// line ending and stays.
struct ShownSource {
    text: String,
    /// (end offset of a replaced character in the original, bytes added up to there).
    shifts: Vec<(usize, usize)>,
}

impl ShownSource {
    fn new(source: &str) -> Self {
        let mut text = String::new();
        let mut shifts = Vec::new();
        let mut added = 0;
        let mut chars = source.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            let crlf = c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n');
            if !is_hostile_control(c) || crlf {
                text.push(c);
                continue;
            }
            let picture = match c {
                '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
                '\u{7f}' => '\u{2421}',
                _ => '\u{fffd}',
            };
            text.push(picture);
            added += picture.len_utf8() - c.len_utf8();
            shifts.push((offset + c.len_utf8(), added));
        }
        if shifts.is_empty() {
            text = source.to_string();
        }
        ShownSource { text, shifts }
    }

    /// Where byte `offset` of the original source is in the shown text.
    fn map(&self, offset: usize) -> usize {
        let replaced_before = self.shifts.partition_point(|&(end, _)| end <= offset);
        offset + replaced_before.checked_sub(1).map_or(0, |i| self.shifts[i].1)
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn to_codespan(diagnostic: &Diagnostic, shown: &ShownSource) -> cs::Diagnostic<()> {
    let severity = match diagnostic.severity {
        Severity::Note => cs::Severity::Note,
        Severity::Warning => cs::Severity::Warning,
        Severity::Error => cs::Severity::Error,
    };
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let span = Span::new(shown.map(label.span.start as usize), shown.map(label.span.end as usize));
            let range = clamp(span, &shown.text);
            let style = if label.primary { cs::LabelStyle::Primary } else { cs::LabelStyle::Secondary };
            cs::Label::new(style, (), range).with_message(escape_controls(&label.message))
        })
        .collect();
    cs::Diagnostic::new(severity)
        .with_message(escape_controls(&diagnostic.message))
        .with_labels(labels)
        .with_notes(diagnostic.notes.iter().map(|note| escape_controls(note)).collect())
}

/// Clamps a span into the source and onto character boundaries.
fn clamp(span: Span, source: &str) -> std::ops::Range<usize> {
    let mut start = (span.start as usize).min(source.len());
    let mut end = (span.end as usize).clamp(start, source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Converts a byte offset into 1-based (line, column), columns counted in characters.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Converts 1-based (line, column) back into a byte offset (clamped to the source).
pub fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, text) in source.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let chars = text.char_indices().nth(column.saturating_sub(1));
            return offset + chars.map_or(text.len(), |(i, _)| i);
        }
        offset += text.len();
    }
    source.len()
}

fn floor_char_boundary(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        let source = "a\u{1b}[31m \u{0} b\r\nc\u{9b}d x\n";
        let x = source.find('x').unwrap();
        let rendered = render(&[Diagnostic::error("bad `\u{1b}`", Span::new(x, x + 1))], "f\u{7}.agent", source);
        assert!(!rendered.chars().any(is_hostile_control), "{rendered:?}");
        assert!(rendered.contains("bad `\\u{1b}`"), "{rendered}");
        assert!(rendered.contains("f\\u{7}.agent:2:5"), "{rendered}");
        assert!(rendered.contains("c\u{fffd}d x"), "{rendered}");
        // The caret is under `x`, which follows one replaced character on its line.
        let lines: Vec<&str> = rendered.lines().collect();
        let line = lines.iter().position(|l| l.ends_with("c\u{fffd}d x")).unwrap();
        assert_eq!(lines[line].chars().position(|c| c == 'x'), lines[line + 1].chars().position(|c| c == '^'));
        let first = render(&[Diagnostic::error("e", Span::new(6, 7))], "f", source);
        assert!(first.contains("a\u{241b}[31m \u{2400} b"), "{first}");
    }
}
