//! Tools: the `exec` and `http` tools of agent code (docs/language.md §9), with per-attempt
//! timeouts, retries and one-line errors naming the tool, the attempt and the cause.

pub mod exec;
pub mod http;

use std::fmt;
use std::time::Duration;

/// The default of `max_output:`: the most bytes of stdout (`exec`) or response body (`http`)
/// one attempt may produce, 16 MiB.
pub const DEFAULT_MAX_OUTPUT: u64 = 16 << 20;

/// The largest `max_output:` the language accepts, 1 GiB (docs/language.md §9).
pub const MAX_MAX_OUTPUT: u64 = 1 << 30;

/// The largest `retries:` the language accepts (docs/language.md §9).
pub const MAX_RETRIES: u64 = 100;

/// How often a tool is tried and what bounds each attempt (`timeout:` / `retries:` /
/// `max_output:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Limit for **each** attempt; `None` waits indefinitely.
    pub timeout: Option<Duration>,
    /// Extra attempts after a failure: `retries: 2` means at most 3 attempts.
    pub retries: u32,
    /// The most bytes of stdout / response body one attempt may produce; more fails the
    /// attempt (the program is killed, the connection closed).
    pub max_output: u64,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts { timeout: None, retries: 0, max_output: DEFAULT_MAX_OUTPUT }
    }
}

/// The moment `timeout` after now, or `None` without a timeout or when it is too far away to
/// be represented (then no deadline applies: it could never be reached).
pub fn deadline_after(timeout: Option<Duration>) -> Option<std::time::Instant> {
    timeout.and_then(|t| std::time::Instant::now().checked_add(t))
}

/// The cause of an attempt whose output passed `max_output`.
pub fn too_much_output(what: &str, max_output: u64) -> String {
    format!("{what} is larger than max_output ({max_output} bytes)")
}

/// A tool call whose every attempt failed. Its `Display` is one line:
/// ``tool `NAME` failed (attempt 2 of 3): CAUSE``, where the attempt is the last one made and
/// the cause is that attempt's. The executor prefixes the call's source location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    /// The tool's name as declared (`tool NAME(...)`).
    pub tool: String,
    /// The 1-based number of the attempt that failed last.
    pub attempt: u32,
    /// How many attempts were allowed (`retries + 1`).
    pub attempts: u32,
    /// Why that attempt failed, one line.
    pub cause: String,
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tool `{}` failed (attempt {} of {}): {}",
            self.tool, self.attempt, self.attempts, self.cause
        )
    }
}

impl std::error::Error for ToolError {}

/// Runs `attempt` (given the 1-based attempt number) up to `retries + 1` times, immediately
/// one after the other, and returns the first success or the last failure as a [`ToolError`].
/// A failure the retry cannot cure (`Fatal`) ends the loop at once.
pub fn with_retries(
    tool: &str,
    retries: u32,
    mut attempt: impl FnMut(u32) -> Result<String, AttemptError>,
) -> Result<String, ToolError> {
    let attempts = retries.saturating_add(1);
    let mut n = 1;
    loop {
        match attempt(n) {
            Ok(out) => return Ok(out),
            Err(err) => {
                let (fatal, cause) = match err {
                    AttemptError::Retry(c) => (false, c),
                    AttemptError::Fatal(c) => (true, c),
                };
                if fatal || n >= attempts {
                    return Err(ToolError { tool: tool.to_string(), attempt: n, attempts, cause });
                }
            }
        }
        n += 1;
    }
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// A failure worth another attempt (non-zero exit, timeout, connection refused, 5xx…).
    Retry(String),
    /// A failure no attempt can cure (program not on PATH, malformed URL, https): reported
    /// at once, with the attempt number it happened at.
    Fatal(String),
}

/// A duration as the language writes it: `500ms`, `2s`, `1m`, or `1.5s` when not whole.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if d.subsec_nanos() % 1_000_000 != 0 || ms == 0 {
        let us = d.as_micros();
        if us < 1000 {
            return format!("{us}us");
        }
        return format!("{}ms", d.as_secs_f64() * 1000.0);
    }
    if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms > 1000 {
        format!("{}s", ms as f64 / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_literals() {
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_micros(20)), "20us");
    }

    #[test]
    fn retries_count_attempts_and_report_the_last() {
        let mut seen = vec![];
        let err = with_retries("t", 2, |n| {
            seen.push(n);
            Err(AttemptError::Retry(format!("boom {n}")))
        })
        .unwrap_err();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(err.to_string(), "tool `t` failed (attempt 3 of 3): boom 3");
        let ok = with_retries("t", 2, |n| if n < 2 { Err(AttemptError::Retry("x".into())) } else { Ok("y".into()) });
        assert_eq!(ok.unwrap(), "y");
        let fatal = with_retries("t", 5, |_| Err(AttemptError::Fatal("nope".into()))).unwrap_err();
        assert_eq!((fatal.attempt, fatal.attempts), (1, 6));
    }
}
