//! `exec` tools: run a program with argv and stdin, never through a shell (docs/language.md §9.1).
//!
//! The program runs in the current working directory with the inherited environment. Its
//! standard output is the result (one trailing `\n` removed, invalid UTF-8 replaced by
//! U+FFFD); its **standard error is passed through to ours** as it is written, and its last
//! lines are also kept for the error message. Each attempt runs in its own process group:
//! when the program exits, and on a timeout, the whole group is killed (`SIGKILL`) and the
//! child is reaped, so no zombie and no stray grandchild is left. A program that exits
//! without reading all of its stdin, or writes more than `max_output` bytes to stdout, fails
//! the attempt.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Attempts, AttemptError, Cancel, ToolError, deadline_after, format_duration, too_much_output, wait_before_attempt, with_retries};

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
        with_retries(&self.name, self.attempts.retries, |n| {
            wait_before_attempt(&self.attempts, n, None)?;
            exec_once(&self.program, args, stdin, &self.attempts)
        })
    }

    /// As [`ExecTool::call`], but a running attempt is stopped (its process group killed,
    /// the child reaped) as soon as `cancel` becomes true; the call then fails at once with
    /// the cause `cancelled`. The executor uses it to cancel `map` siblings.
    pub fn call_cancellable(&self, args: &[String], stdin: Option<&str>, cancel: &dyn Cancel) -> Result<String, ToolError> {
        with_retries(&self.name, self.attempts.retries, |n| {
            wait_before_attempt(&self.attempts, n, Some(cancel))?;
            if cancel.is_cancelled() {
                return Err(AttemptError::Fatal("cancelled".into()));
            }
            exec_once_cancellable(&self.program, args, stdin, &self.attempts, Some(cancel))
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
/// then closed, within `attempts.timeout`, its stdout bounded by `attempts.max_output`.
/// Success is exit status 0 with all of `stdin` read; the result is stdout with one
/// trailing `\n` removed.
pub fn exec_once(program: &str, args: &[String], stdin: Option<&str>, attempts: &Attempts) -> Result<String, AttemptError> {
    exec_once_cancellable(program, args, stdin, attempts, None)
}

/// [`exec_once`] that also stops when `cancel` becomes true (polled every few milliseconds):
/// the process group is killed, the child reaped, and the attempt fails (`Fatal`, `cancelled`).
///
/// The call ends when the program exits: its process group is killed then (`SIGKILL`), so a
/// background grandchild never outlives the call, and what it still holds of the pipes
/// closes.
pub fn exec_once_cancellable(
    program: &str,
    args: &[String],
    stdin: Option<&str>,
    attempts: &Attempts,
    cancel: Option<&dyn Cancel>,
) -> Result<String, AttemptError> {
    let resolved = resolve_program(program)?;
    let timeout = attempts.timeout;
    let max_output = attempts.max_output;
    let deadline = deadline_after(timeout);
    let mut cmd = Command::new(&resolved);
    // The stdin pipe's read end is kept here too: what is left in it when the program has
    // exited is what it did not read.
    let (child_stdin, stdin_writer) = match stdin {
        Some(text) => {
            let (read, write, keep) = stdin_pipe().map_err(|e| AttemptError::Retry(format!("cannot make a pipe for `{program}`: {e}")))?;
            (Stdio::from(read), Some((write, keep, text.to_owned())))
        }
        None => (Stdio::null(), None),
    };
    cmd.args(args)
        .stdin(child_stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0(program).process_group(0);
    }
    let spawned = cmd.spawn();
    // The child has its copy of the read end; ours is `keep`.
    drop(cmd);
    let mut child = spawned.map_err(|e| AttemptError::Retry(format!("cannot start `{program}`: {e}")))?;

    let (tx, rx) = mpsc::channel::<Output>();
    let mut keep = None;
    if let Some((mut pipe, kept, text)) = stdin_writer {
        keep = Some(kept);
        std::thread::spawn(move || {
            // Never a broken pipe while `keep` is open; once the attempt is given up and
            // `keep` closed, EPIPE (the executable ignores SIGPIPE) ends the write.
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let out_pipe = child.stdout.take().expect("stdout is piped");
    let tx_out = tx.clone();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        // One byte more than allowed tells "too much" from "exactly the limit".
        let _ = out_pipe.take(max_output.saturating_add(1)).read_to_end(&mut buf);
        let _ = tx_out.send(if buf.len() as u64 > max_output { Output::TooMuch } else { Output::Stdout(buf) });
    });
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        let _ = tx.send(Output::Stderr(tee_stderr(&mut err_pipe)));
    });

    let cancelled = || cancel.is_some_and(|c| c.is_cancelled());
    let (mut status, mut stdout, mut stderr_tail) = (None, None, None);
    let mut pause = Duration::from_micros(500);
    loop {
        if status.is_none()
            && let Ok(Some(exited)) = child.try_wait()
        {
            status = Some(exited);
            // The call has ended: nothing the program started may outlive it.
            kill_group(&child);
        }
        if status.is_some() && stdout.is_some() && stderr_tail.is_some() {
            break;
        }
        let now = Instant::now();
        if cancelled() {
            kill(&mut child);
            return Err(AttemptError::Fatal("cancelled".into()));
        }
        // The deadline also covers the pipes closing (a grandchild may hold them open).
        if deadline.is_some_and(|d| now >= d) {
            kill(&mut child);
            return Err(AttemptError::Retry(format!("timed out after {}", format_duration(timeout.unwrap_or_default()))));
        }
        let wait = deadline.map_or(pause, |d| pause.min(d - now));
        let received = rx.recv_timeout(wait);
        // Output closing usually means the program is exiting: look again soon.
        pause = if received.is_ok() { Duration::from_micros(500) } else { (pause * 2).min(Duration::from_millis(20)) };
        match received {
            Ok(Output::Stdout(bytes)) => stdout = Some(bytes),
            Ok(Output::Stderr(tail)) => stderr_tail = Some(tail),
            Ok(Output::TooMuch) => {
                kill(&mut child);
                return Err(AttemptError::Retry(too_much_output("stdout", max_output)));
            }
            Err(_) => {}
        }
    }
    let (status, stdout, stderr_tail) = (status.unwrap(), stdout.unwrap(), stderr_tail.unwrap());
    if !status.success() {
        let mut cause = describe_status(status);
        let last = last_lines(&stderr_tail, STDERR_LINES);
        if !last.is_empty() {
            cause.push_str("; stderr: ");
            cause.push_str(&last);
        }
        return Err(AttemptError::Retry(cause));
    }
    // Nothing else reads the pipe now: what is left (and what the writer still has to
    // write) was not read. Reading it to its end also lets the writer finish.
    if let Some(mut keep) = keep {
        let unread = std::io::copy(&mut keep, &mut std::io::sink()).unwrap_or(0);
        if unread > 0 {
            let len = stdin.map_or(0, str::len);
            return Err(AttemptError::Retry(format!("exited without reading all of its stdin ({unread} of {len} bytes unread)")));
        }
    }
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

/// What the helper threads report.
enum Output {
    /// All of stdout, within the limit.
    Stdout(Vec<u8>),
    /// stdout passed `max_output`.
    TooMuch,
    /// The last bytes of stderr, at its end.
    Stderr(Vec<u8>),
}

/// A pipe for a child's stdin: the read end (for the child), the write end, and a second
/// read end the runtime keeps. All are close-on-exec, so no other child inherits them.
#[cfg(unix)]
fn stdin_pipe() -> std::io::Result<(std::os::fd::OwnedFd, std::fs::File, std::fs::File)> {
    use std::os::fd::{FromRawFd, OwnedFd};
    unsafe extern "C" {
        fn pipe2(fds: *mut i32, flags: i32) -> i32;
    }
    const O_CLOEXEC: i32 = 0o2000000;
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2(2) writes.
    if unsafe { pipe2(fds.as_mut_ptr(), O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are open and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let keep = read.try_clone()?;
    Ok((read, std::fs::File::from(write), std::fs::File::from(keep)))
}

#[cfg(not(unix))]
fn stdin_pipe() -> std::io::Result<(std::fs::File, std::fs::File, std::fs::File)> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "stdin pipes are built for Unix only"))
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
            attempts: Attempts { timeout: timeout_ms.map(Duration::from_millis), retries, ..Attempts::default() },
        }
    }

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn retries_wait_out_the_backoff_between_attempts() {
        // `false` fails at once: three attempts with 40 ms then 80 ms of backoff between them.
        let mut t = tool("false", None, 2);
        t.attempts.backoff = Some(Duration::from_millis(40));
        let started = std::time::Instant::now();
        let err = t.call(&[], None).unwrap_err();
        assert_eq!((err.attempt, err.attempts), (3, 3));
        assert!(started.elapsed() >= Duration::from_millis(120), "waited only {:?}", started.elapsed());
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
        // Read to the end, however large.
        let big = "z".repeat(1 << 20);
        assert_eq!(tool("wc", Some(5000), 0).call(&s(&["-c"]), Some(&big)).unwrap().trim(), "1048576");
    }

    #[test]
    fn a_program_that_does_not_read_its_stdin_fails() {
        // More than a pipe holds, never read: a failure (retried), not a hang; the same for an
        // input that fits in the pipe, whether the program exited before it was written or not.
        let big = "z".repeat(200 * 1024);
        let err = tool("true", Some(5000), 1).call(&[], Some(&big)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `t` failed (attempt 2 of 2): exited without reading all of its stdin (204800 of 204800 bytes unread)"
        );
        for _ in 0..20 {
            let err = tool("true", Some(5000), 0).call(&[], Some("x")).unwrap_err();
            assert_eq!(err.cause, "exited without reading all of its stdin (1 of 1 bytes unread)");
        }
        let err = tool("dd", Some(5000), 0).call(&s(&["bs=1", "count=3", "status=none"]), Some(&big)).unwrap_err();
        assert_eq!(err.cause, "exited without reading all of its stdin (204797 of 204800 bytes unread)");
        // A non-zero exit is the cause that matters.
        let err = tool("sh", Some(5000), 0).call(&s(&["-c", "exit 4"]), Some(&big)).unwrap_err();
        assert_eq!(err.cause, "exited with status 4");
    }

    #[test]
    fn stdout_is_bounded_by_max_output() {
        let mut t = tool("head", Some(5000), 0);
        t.attempts.max_output = 10;
        assert_eq!(t.call(&s(&["-c", "10", "/dev/zero"]), None).unwrap().len(), 10);
        // One byte more fails; a program writing forever is killed, not read to the end.
        let err = t.call(&s(&["-c", "11", "/dev/zero"]), None).unwrap_err();
        assert_eq!(err.cause, "stdout is larger than max_output (10 bytes)");
        let err = t.call(&[], Some(&"y\n".repeat(10))).unwrap_err();
        assert_eq!(err.cause, "stdout is larger than max_output (10 bytes)");
        let mut yes = tool("yes", Some(5000), 0);
        yes.attempts.max_output = 1 << 20;
        assert_eq!(yes.call(&[], None).unwrap_err().cause, "stdout is larger than max_output (1048576 bytes)");
    }

    #[test]
    fn background_grandchildren_end_with_the_call() {
        let pid_file = std::env::temp_dir().join(format!("agentc-exec-bg-{}", std::process::id()));
        let script = format!("sleep 30 >/dev/null 2>&1 & echo $! > '{}'; echo done", pid_file.display());
        assert_eq!(tool("sh", Some(5000), 0).call(&s(&["-c", &script]), None).unwrap(), "done");
        let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
        let _ = std::fs::remove_file(&pid_file);
        // The killed grandchild is reaped by init soon after; a zombie has state Z.
        let start = Instant::now();
        while let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            if stat.split_whitespace().nth(2) == Some("Z") || start.elapsed() > Duration::from_secs(10) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"));
        assert!(!alive, "the background `sleep` ({pid}) outlived the call");
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
