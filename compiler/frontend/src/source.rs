//! Reading a program's input (a `.agent` or `.mlir` file, or stdin) with a size cap.
//!
//! Inputs are read through [`read_input`] only, which never reads more than
//! [`MAX_INPUT_BYTES`] + 1 bytes: `agentc check /dev/zero` fails at once with a clear error
//! instead of growing without bound. The cap is documented in docs/language.md ("Limits").

use std::io::Read;
use std::path::Path;

use crate::diagnostic::escape_controls;

/// The largest input agentc and agent-opt accept, in bytes (16 MiB: far above any program
/// written or generated in practice, far below what would exhaust memory). Byte offsets in
/// spans are `u32`, so this also keeps every offset representable.
pub const MAX_INPUT_BYTES: usize = 16 << 20;

/// Reads the file at `path` (`None` or `-`: stdin), refusing inputs over
/// [`MAX_INPUT_BYTES`]; the error is one line naming the input.
pub fn read_input(path: Option<&Path>) -> Result<Vec<u8>, String> {
    match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let name = escape_controls(&path.display().to_string());
            let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
            read_capped(file, &format!("`{name}`"))
        }
        None => read_capped(std::io::stdin().lock(), "stdin"),
    }
}

/// Reads at most [`MAX_INPUT_BYTES`] + 1 bytes from `reader`; more is an error naming `what`.
pub fn read_capped(reader: impl Read, what: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(format!("{what} is larger than {} MiB, the input size limit", MAX_INPUT_BYTES >> 20));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_cap() {
        assert_eq!(read_capped(&b"agent"[..], "x").unwrap(), b"agent");
        let exact = std::io::repeat(b' ').take(MAX_INPUT_BYTES as u64);
        assert_eq!(read_capped(exact, "x").unwrap().len(), MAX_INPUT_BYTES);
        let endless = std::io::repeat(0);
        assert_eq!(read_capped(endless, "`/dev/zero`").unwrap_err(), "`/dev/zero` is larger than 16 MiB, the input size limit");
    }
}
