//! Checks on MLIR text before MLIR's parser sees it.
//!
//! MLIR's parser recurses once per nested region, attribute or type, on the caller's
//! stack: a few thousand levels overflow it (an abort, not an error), and a NUL byte makes
//! melior's `Module::parse` panic. [`check_text`] refuses both first, with a position, so
//! `agentc` and `agent-opt` report bad input as an error (docs/language.md, "Limits").

/// The deepest bracket nesting (`(` `[` `{` `<`, outside strings and comments) accepted in
/// MLIR input: 4× the front end's 256 levels, so all IR agentc writes fits, and far below
/// the depth that exhausts an 8 MiB main-thread stack (measured: 3,000 nested regions
/// parse, verify and print; 10,000 overflow).
pub const MAX_MLIR_NESTING: usize = 1024;

/// A problem found in MLIR text: a 1-based line and column (in characters) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Refuses text with a NUL byte or bracket nesting deeper than [`MAX_MLIR_NESTING`].
pub fn check_text(text: &str) -> Result<(), InputProblem> {
    let bytes = text.as_bytes();
    let problem = |offset: usize, message: String| {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        InputProblem { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1, message }
    };
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(problem(offset, "NUL byte in MLIR input".into()));
    }
    let mut depth = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                // A string: skip to its closing quote (escapes included) or the line's end.
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                while index < bytes.len() && bytes[index] != b'\n' {
                    index += 1;
                }
            }
            b'(' | b'[' | b'{' | b'<' => {
                depth += 1;
                if depth > MAX_MLIR_NESTING {
                    return Err(problem(index, format!("MLIR nested deeper than {MAX_MLIR_NESTING} levels")));
                }
            }
            // `->` is an arrow, not a closing bracket.
            b'>' if index > 0 && bytes[index - 1] == b'-' => {}
            b')' | b']' | b'}' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        index += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_and_nul_are_refused_with_a_position() {
        assert_eq!(check_text("func.func @f(%a: tensor<4xf32>) -> () { return }"), Ok(()));
        let deep = format!("x\n  {}{}", "(".repeat(MAX_MLIR_NESTING + 1), ")".repeat(MAX_MLIR_NESTING + 1));
        let problem = check_text(&deep).unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 3 + MAX_MLIR_NESTING));
        let just = format!("{}{}", "{".repeat(MAX_MLIR_NESTING), "}".repeat(MAX_MLIR_NESTING));
        assert_eq!(check_text(&just), Ok(()));
        // Brackets in strings and comments, and arrows, do not count.
        let noise = format!("\"{}\" // {}\n{}", "(".repeat(2000), "[".repeat(2000), "() -> ".repeat(2000));
        assert_eq!(check_text(&noise), Ok(()));
        let nul = check_text("a\né\0").unwrap_err();
        assert_eq!((nul.line, nul.column, nul.message.as_str()), (2, 2, "NUL byte in MLIR input"));
    }
}
