//! Linking an executable (docs/executables.md): the kernels' object, `program.o` and the
//! runtime's static library, through a C compiler driver (`$AGENTC_CC`, else the first of
//! `clang-22`, `clang`, `cc` on PATH) with lld when it is there. The objects and the linked
//! executable go to a temporary folder; only a successful link is written to the output,
//! by the rules of every output of agentc (`output.rs`: atomically over a regular file,
//! through symbolic links, in place into `/dev/null` or a FIFO), so a failed link leaves
//! no output.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::output::{write_file, Mode};

/// The runtime library's file name.
pub const RUNTIME_LIB: &str = "libagentc_runtime.a";

/// The system libraries the runtime's Rust standard library needs, from
/// `cargo rustc -p agentc-runtime --lib --crate-type staticlib -- --print native-static-libs`
/// (x86_64-unknown-linux-gnu): `-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`.
const NATIVE_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// The C compiler drivers tried in order when `$AGENTC_CC` is not set.
const COMPILERS: &[&str] = &["clang-22", "clang", "cc"];

/// A folder under the system's temporary folder, removed (with what it holds) when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `agentc-<pid>-<n>` under [`std::env::temp_dir`], with a fresh `n`.
    pub fn new() -> Result<TempDir, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        loop {
            let path = base.join(format!("agentc-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("cannot create a temporary folder in `{}`: {e}", base.display())),
            }
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Finds the runtime library: `$AGENTC_RUNTIME_LIB` (which must then be a file), else
/// `libagentc_runtime.a` in the folder of the running agentc (the build tree's
/// `target/<profile>`), else `PREFIX/lib/agentc/` when agentc is `PREFIX/bin/agentc` (an
/// installed agentc, `tools/install.sh`).
pub fn find_runtime_lib() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("AGENTC_RUNTIME_LIB") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(format!(
            "AGENTC_RUNTIME_LIB is `{}`, which is not a file: point it at a {RUNTIME_LIB} (built by `cargo build -p agentc-runtime`) or unset it",
            path.display()
        ));
    }
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.canonicalize().ok()).and_then(|exe| exe.parent().map(Path::to_path_buf));
    let candidates: Vec<PathBuf> = match &exe_dir {
        Some(dir) => {
            let prefix = dir.parent().unwrap_or(dir);
            vec![dir.join(RUNTIME_LIB), prefix.join("lib").join("agentc").join(RUNTIME_LIB)]
        }
        None => Vec::new(),
    };
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|p| format!("`{}`", p.display())).collect();
    let looked = if looked.is_empty() { "nowhere (the agentc executable's folder is unknown)".to_string() } else { looked.join(" and ") };
    Err(format!(
        "the agentc runtime library {RUNTIME_LIB} was not found (AGENTC_RUNTIME_LIB is not set; looked at {looked}): \
         build it with `cargo build -p agentc-runtime`, install agentc with `tools/install.sh PREFIX`, \
         or set AGENTC_RUNTIME_LIB"
    ))
}

/// `name` on PATH (a name with a `/` is taken as a path).
fn on_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// The C compiler driver that links: `$AGENTC_CC`, or the first of [`COMPILERS`] on PATH.
fn find_compiler() -> Result<PathBuf, String> {
    if let Some(cc) = std::env::var_os("AGENTC_CC").filter(|cc| !cc.is_empty()) {
        let name = cc.to_string_lossy().into_owned();
        return on_path(&name).ok_or_else(|| format!("AGENTC_CC is `{name}`, which is not a program on PATH"));
    }
    COMPILERS.iter().find_map(|name| on_path(name)).ok_or_else(|| {
        format!("no C compiler to link with: none of {} is on PATH (install clang-22, or set AGENTC_CC)", COMPILERS.join(", "))
    })
}

/// Whether `-fuse-ld=lld` will work with `compiler`: `ld.lld` on PATH, or beside the
/// compiler's real file (LLVM's `bin` folder, where clang looks first).
fn lld_available(compiler: &Path) -> bool {
    if on_path("ld.lld").is_some() {
        return true;
    }
    compiler.canonicalize().ok().and_then(|real| real.parent().map(|dir| dir.join("ld.lld").is_file())).unwrap_or(false)
}

/// Links `objects` (file name, contents) with the runtime library into the executable
/// `output`. On failure nothing is left at `output` (an existing file there is untouched).
pub fn link_executable(objects: &[(&str, &[u8])], output: &Path) -> Result<(), String> {
    let runtime = find_runtime_lib()?;
    let compiler = find_compiler()?;
    let work = TempDir::new()?;
    let linked = work.path().join("a.out");
    let mut args: Vec<OsString> = vec!["-o".into(), linked.clone().into()];
    for (file, bytes) in objects {
        let path = work.path().join(file);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        args.push(path.into());
    }
    args.push(runtime.into());
    if lld_available(&compiler) {
        args.push("-fuse-ld=lld".into());
    }
    args.push("-Wl,--gc-sections".into());
    args.extend(NATIVE_LIBS.iter().map(OsString::from));
    let shown = std::iter::once(compiler.display().to_string())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let result = Command::new(&compiler).args(&args).output();
    match result {
        Err(e) => Err(format!("cannot run the linker `{}`: {e}", compiler.display())),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            Err(format!("linking `{}` failed ({}):\n  {shown}\n{stdout}{stderr}", output.display(), out.status).trim_end().to_string())
        }
        Ok(out) => {
            // Warnings of a successful link still go to the user.
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            let bytes = std::fs::read(&linked).map_err(|e| format!("cannot read the linked executable `{}`: {e}", linked.display()))?;
            write_file(output, &bytes, Mode::Executable)
        }
    }
}
