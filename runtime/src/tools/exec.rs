//! `exec` tools: run a program with argv and stdin, never through a shell (docs/language.md §9.1).
//!
//! The program runs in the current working directory with the inherited environment. Its
//! standard output is the result (one trailing `\n` removed, invalid UTF-8 replaced by
//! U+FFFD); its **standard error is passed through to ours** as it is written, and its last
//! lines are also kept for the error message. Each attempt runs in its own process group: on
//! a timeout the whole group is killed (`SIGKILL`) and the child is reaped, so no zombie and
//! no stray grandchild is left.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Attempts, AttemptError, ToolError, format_duration, with_retries};

/// How many of the last non-empty stderr lines an error quotes.
const STDERR_LINES: usize = 3;
/// How many trailing stderr bytes are kept for the error message.
const STDERR_KEEP: usize = 4096;

/// An `exec` tool as declared: `tool NAME(...) = exec("PROGRAM", [ARGS], stdin:, timeout:, retries:)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTool {
    /// The tool's name, for errors.
    pub name: String,
    /// The program: a name without `/` is looked up on `PATH`; one with `/` is a path
    /// (relative to the working directory).
    pub program: String,
    /// Timeout per attempt and retries.
    pub attempts: Attempts,
}

impl ExecTool {
    /// Calls the tool with its evaluated argv (without the program) and optional stdin text
    /// (`None`: the program reads end-of-file at once). Retries as declared.
    pub fn call(&self, args: &[String], stdin: Option<&str>) -> Result<String, ToolError> {
        with_retries(&self.name, self.attempts.retries, |_| {
            exec_once(&self.program, args, stdin, self.attempts.timeout)
        })
    }

    /// As [`ExecTool::call`], but a running attempt is stopped (its process group killed,
    /// the child reaped) as soon as `cancel` becomes true; the call then fails at once with
    /// the cause `cancelled`. The executor uses it to cancel `map` siblings.
    pub fn call_cancellable(&self, args: &[String], stdin: Option<&str>, cancel: &AtomicBool) -> Result<String, ToolError> {
        with_retries(&self.name, self.attempts.retries, |_| {
            if cancel.load(Ordering::Relaxed) {
                return Err(AttemptError::Fatal("cancelled".into()));
            }
            exec_once_cancellable(&self.program, args, stdin, self.attempts.timeout, Some(cancel))
        })
    }
}

/// Finds `program` as a process would: a name containing `/` is a path, checked to exist;
/// any other name is searched in the directories of `PATH`, in order, for an executable file.
/// A program that cannot be found is an ordinary failed attempt (retried like any other, as
/// §9 says every failure is).
pub fn resolve_program(program: &str) -> Result<PathBuf, AttemptError> {
    if program.is_empty() {
        return Err(AttemptError::Fatal("the program name is empty".into()));
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(AttemptError::Retry(format!("program `{program}` not found")))
        };
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let candidate = dir.join(program);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(AttemptError::Retry(format!("program `{program}` not found on PATH")))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs one attempt: `program` with `args` (each one argv entry, exactly), `stdin` written
/// then closed, within `timeout`. Success is exit status 0; the result is stdout with one
/// trailing `\n` removed.
pub fn exec_once(
    program: &str,
    args: &[String],
    stdin: Option<&str>,
    timeout: Option<Duration>,
) -> Result<String, AttemptError> {
    exec_once_cancellable(program, args, stdin, timeout, None)
}

/// [`exec_once`] that also stops when `cancel` becomes true (polled every few milliseconds):
/// the process group is killed, the child reaped, and the attempt fails (`Fatal`, `cancelled`).
pub fn exec_once_cancellable(
    program: &str,
    args: &[String],
    stdin: Option<&str>,
    timeout: Option<Duration>,
    cancel: Option<&AtomicBool>,
) -> Result<String, AttemptError> {
    let resolved = resolve_program(program)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut cmd = Command::new(&resolved);
    cmd.args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0(program).process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| AttemptError::Retry(format!("cannot start `{program}`: {e}")))?;

    let (tx, rx) = mpsc::channel::<Output>();
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let text = text.to_owned();
        // A program that exits without reading its input gives a broken pipe: not our failure.
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let tx_out = tx.clone();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        let _ = tx_out.send(Output::Stdout(buf));
    });
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        let _ = tx.send(Output::Stderr(tee_stderr(&mut err_pipe)));
    });

    let timed_out = || {
        AttemptError::Retry(format!("timed out after {}", format_duration(timeout.unwrap_or_default())))
    };
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let status = match wait_until(&mut child, deadline, cancel) {
        Some(status) => status,
        None => {
            kill(&mut child);
            return Err(if cancelled() { AttemptError::Fatal("cancelled".into()) } else { timed_out() });
        }
    };
    // The pipes close when every process holding them exits (a grandchild may keep them
    // open): the deadline covers that too.
    let (mut stdout, mut stderr_tail) = (None, None);
    while stdout.is_none() || stderr_tail.is_none() {
        let msg = match (deadline, cancel) {
            (None, None) => rx.recv().map_err(|_| true),
            (Some(d), None) => rx.recv_timeout(d.saturating_duration_since(Instant::now())).map_err(|_| true),
            (d, Some(_)) => {
                // Poll so that a cancellation is seen while a grandchild holds the pipes.
                let step = Duration::from_millis(10);
                let wait = d.map_or(step, |d| d.saturating_duration_since(Instant::now()).min(step));
                rx.recv_timeout(wait).map_err(|e| {
                    matches!(e, mpsc::RecvTimeoutError::Disconnected)
                        || cancelled()
                        || d.is_some_and(|d| Instant::now() >= d)
                })
            }
        };
        match msg {
            Ok(Output::Stdout(b)) => stdout = Some(b),
            Ok(Output::Stderr(t)) => stderr_tail = Some(t),
            Err(false) => continue,
            Err(true) => {
                kill_group(&child);
                return Err(if cancelled() { AttemptError::Fatal("cancelled".into()) } else { timed_out() });
            }
        }
    }
    let (stdout, stderr_tail) = (stdout.unwrap(), stderr_tail.unwrap());
    if !status.success() {
        let mut cause = describe_status(status);
        let last = last_lines(&stderr_tail, STDERR_LINES);
        if !last.is_empty() {
            cause.push_str("; stderr: ");
            cause.push_str(&last);
        }
        return Err(AttemptError::Retry(cause));
    }
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// Copies the child's stderr to ours as it arrives and returns its last bytes.
fn tee_stderr(pipe: &mut impl Read) -> Vec<u8> {
    let mut tail: VecDeque<u8> = VecDeque::with_capacity(STDERR_KEEP);
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let _ = std::io::stderr().write_all(&buf[..n]);
                for &b in &buf[..n] {
                    if tail.len() == STDERR_KEEP {
                        tail.pop_front();
                    }
                    tail.push_back(b);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    tail.into_iter().collect()
}

/// The last `n` non-empty lines of `bytes`, joined with ` | `, each cut at 200 characters.
fn last_lines(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| if l.chars().count() > 200 { format!("{}…", l.chars().take(200).collect::<String>()) } else { l.to_string() })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    format!("ended with {status}")
}

/// Waits for the child to exit, polling until `deadline`; `None` when the deadline passed.
/// With `cancel`, also `None` as soon as it becomes true.
fn wait_until(child: &mut Child, deadline: Option<Instant>, cancel: Option<&AtomicBool>) -> Option<ExitStatus> {
    if deadline.is_none() && cancel.is_none() {
        return child.wait().ok();
    }
    let mut pause = Duration::from_micros(500);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return None;
        }
        let left = deadline.map_or(Duration::from_millis(20), |d| d - now);
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Kills the child's process group and reaps the child.
fn kill(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(unix)]
fn kill_group(child: &Child) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGKILL: i32 = 9;
    // The child leads its own process group (process_group(0)), so -pid names the group.
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        kill(-(child.id() as i32), SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &Child) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(program: &str, timeout_ms: Option<u64>, retries: u32) -> ExecTool {
        ExecTool {
            name: "t".into(),
            program: program.into(),
            attempts: Attempts { timeout: timeout_ms.map(Duration::from_millis), retries },
        }
    }

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn stdout_with_one_trailing_newline_removed() {
        assert_eq!(tool("printf", None, 0).call(&s(&["a\\n\\n"]), None).unwrap(), "a\n");
        assert_eq!(tool("printf", None, 0).call(&s(&["a"]), None).unwrap(), "a");
        assert_eq!(tool("echo", None, 0).call(&s(&["hi"]), None).unwrap(), "hi");
    }

    #[test]
    fn args_are_passed_exactly_without_a_shell() {
        let out = tool("printf", None, 0).call(&s(&["%s|", "a b", "*", "$HOME", "'q'"]), None).unwrap();
        assert_eq!(out, "a b|*|$HOME|'q'|");
    }

    #[test]
    fn stdin_is_written_then_closed() {
        assert_eq!(tool("cat", Some(5000), 0).call(&[], Some("x\ny\n")).unwrap(), "x\ny");
        assert_eq!(tool("wc", Some(5000), 0).call(&s(&["-c"]), None).unwrap().trim(), "0");
        // A large input that the program never reads does not hang us.
        let big = "z".repeat(1 << 20);
        assert_eq!(tool("true", Some(5000), 0).call(&[], Some(&big)).unwrap(), "");
    }

    #[test]
    fn runs_in_the_working_directory_with_the_environment() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(tool("pwd", None, 0).call(&[], None).unwrap(), cwd.to_str().unwrap());
        let path = std::env::var("PATH").unwrap();
        assert_eq!(tool("printenv", None, 0).call(&s(&["PATH"]), None).unwrap(), path);
    }

    #[test]
    fn non_zero_exit_names_status_and_stderr_tail() {
        let err = tool("sh", None, 2)
            .call(&s(&["-c", "echo one >&2; echo two >&2; echo three >&2; echo four >&2; exit 3"]), None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `t` failed (attempt 3 of 3): exited with status 3; stderr: two | three | four"
        );
    }

    #[test]
    fn retries_until_success() {
        let dir = std::env::temp_dir().join(format!("agentc-exec-retry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("count");
        // Fails on the first two attempts, succeeds on the third.
        let script = format!(
            "n=$(cat '{m}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{m}'; [ $n -ge 3 ] && echo ok$n",
            m = marker.display()
        );
        assert_eq!(tool("sh", Some(5000), 2).call(&s(&["-c", &script]), None).unwrap(), "ok3");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn timeout_kills_the_child_and_its_group() {
        let start = Instant::now();
        // The grandchild `sleep` holds stdout open: killing the group is what ends it.
        let err = tool("sh", Some(200), 1).call(&s(&["-c", "sleep 30 | cat; echo never"]), None).unwrap_err();
        assert_eq!(err.to_string(), "tool `t` failed (attempt 2 of 2): timed out after 200ms");
        // Without the group kill, `cat` would wait for `sleep 30`: a generous bound (not a
        // speed check) tells the two apart.
        assert!(start.elapsed() < Duration::from_secs(20), "the sleeping grandchild was not killed: took {:?}", start.elapsed());
    }

    #[test]
    fn timed_out_child_is_reaped() {
        let pid_file = std::env::temp_dir().join(format!("agentc-exec-pid-{}", std::process::id()));
        let script = format!("echo $$ > '{}'; exec sleep 30", pid_file.display());
        let err = tool("sh", Some(300), 0).call(&s(&["-c", &script]), None).unwrap_err();
        assert!(err.cause.starts_with("timed out"), "{err}");
        let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
        let _ = std::fs::remove_file(&pid_file);
        // No such process any more (a zombie would still have /proc/PID).
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "process {pid} still exists");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let err = tool("agentc-no-such-program", None, 3).call(&[], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `t` failed (attempt 4 of 4): program `agentc-no-such-program` not found on PATH"
        );
        let err = tool("./no/such/prog", None, 0).call(&[], None).unwrap_err();
        assert_eq!(err.cause, "program `./no/such/prog` not found");
    }

    #[test]
    fn killed_by_a_signal_is_a_failure() {
        let err = tool("sh", None, 0).call(&s(&["-c", "kill -9 $$"]), None).unwrap_err();
        assert_eq!(err.cause, "killed by signal 9");
    }
}
