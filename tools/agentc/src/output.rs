//! Writing results: to stdout, or to a path. What the path names decides how:
//!
//! - an absent path or a regular file is written atomically (a temporary file in the same
//!   folder, then a rename over it), so a failure never leaves a partial output file;
//! - a symbolic link is followed: its final target is written by these rules, and the
//!   link itself stays a link;
//! - a character device (`/dev/null`, a terminal) or a FIFO is written through, in place:
//!   it is never replaced by a regular file;
//! - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and paths under `/proc` (the kernel's links
//!   to open files, which may be pipes with no path) are written through, appending, so
//!   `-o /dev/stdout` adds to whatever stdout is, as a redirection `>>` would;
//! - a folder (or a socket, a block device) is an error.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The permissions a new output file gets (before the umask).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Text or data: `rw-rw-rw-`.
    Data,
    /// An executable: `rwxrwxrwx`.
    Executable,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::Data => 0o666,
            Mode::Executable => 0o777,
        }
    }
}

/// Writes `text` to `path` (see the module documentation), or to stdout when `path` is
/// `None` or `-`.
pub fn write_output(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        None => write_stdout(text),
        Some(p) if p == Path::new("-") => write_stdout(text),
        Some(path) => write_file(path, text.as_bytes(), Mode::Data),
    }
}

/// Writes `bytes` to `path`: atomically over an absent path or a regular file (through
/// symbolic links), in place into a character device or a FIFO.
pub fn write_file(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), String> {
    let cannot = |error: &dyn std::fmt::Display| format!("cannot write `{}`: {error}", path.display());
    let target = resolve_links(path).map_err(|e| cannot(&e))?;
    if is_descriptor_link(&target) {
        return write_through(&target, bytes).map_err(|e| cannot(&e));
    }
    match std::fs::metadata(&target) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => write_atomically(&target, bytes, mode).map_err(|e| cannot(&e)),
        Err(error) => Err(cannot(&error)),
        Ok(meta) if meta.is_dir() => Err(format!("cannot write `{}`: it is a folder", path.display())),
        Ok(meta) if meta.is_file() => write_atomically(&target, bytes, mode).map_err(|e| cannot(&e)),
        Ok(meta) if meta.file_type().is_char_device() || meta.file_type().is_fifo() => {
            write_through(&target, bytes).map_err(|e| cannot(&e))
        }
        Ok(_) => Err(format!("cannot write `{}`: it is neither a regular file, a character device nor a FIFO", path.display())),
    }
}

/// Whether `path` is one of the kernel's links to an open file (`/dev/stdout`, `/dev/fd/1`,
/// `/proc/self/fd/1`): only opening it follows such a link (its text may be `pipe:[123]`).
fn is_descriptor_link(path: &Path) -> bool {
    path.starts_with("/proc") || path.starts_with("/dev/fd") || ["/dev/stdout", "/dev/stderr"].iter().any(|p| path == Path::new(p))
}

/// The path a chain of symbolic links ends at (which may not exist yet: a dangling link's
/// target is created), stopping at a link to an open file ([`is_descriptor_link`]).
/// Relative link targets are relative to the link's folder.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // The kernel's own limit on links followed in one lookup (Linux MAXSYMLINKS).
    for _ in 0..40 {
        if is_descriptor_link(&current) {
            return Ok(current);
        }
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(folder) => folder.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Writes `bytes` into a temporary file beside `path`, then renames it over `path`; on any
/// failure the temporary file is removed and `path` is untouched.
fn write_atomically(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?;
    let temp = folder.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode.bits())
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `bytes` into the device, FIFO or open file at `path` as it is: no temporary file,
/// no truncation; appending, so an open regular file (stdout redirected with `>` or `>>`) is
/// added to rather than overwritten from its start.
fn write_through(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file: File = OpenOptions::new().append(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(|e| format!("cannot write to stdout: {e}"))
}
