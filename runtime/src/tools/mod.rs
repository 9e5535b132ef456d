//! Tools: the `exec` and `http` tools of agent code (docs/language.md §9), with per-attempt
//! timeouts, retries and one-line errors naming the tool, the attempt and the cause.

pub mod exec;
pub mod http;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The default of `max_output:`: the most bytes of stdout (`exec`) or response body (`http`)
/// one attempt may produce, 16 MiB.
pub const DEFAULT_MAX_OUTPUT: u64 = 16 << 20;

/// The largest `max_output:` the language accepts, 1 GiB (docs/language.md §9).
pub const MAX_MAX_OUTPUT: u64 = 1 << 30;

/// The largest `retries:` the language accepts (docs/language.md §9).
pub const MAX_RETRIES: u64 = 100;

/// The largest `backoff:` the language accepts, in milliseconds (1 minute): also the cap of
/// every wait between two attempts (docs/language.md §9).
pub const MAX_BACKOFF_MS: u64 = 60_000;

/// The wait before attempt `next` (2, 3, …) of a tool whose `backoff:` is `backoff`: the
/// backoff doubled after each failed attempt (`backoff`, 2×, 4×, …), capped at
/// [`MAX_BACKOFF_MS`]; no wait without a backoff.
pub fn backoff_before(backoff: Option<Duration>, next: u32) -> Duration {
    let Some(backoff) = backoff else { return Duration::ZERO };
    let cap = Duration::from_millis(MAX_BACKOFF_MS);
    let doublings = next.saturating_sub(2).min(31);
    backoff.checked_mul(1u32 << doublings).map_or(cap, |d| d.min(cap))
}

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
    /// `backoff:`: the wait before the second attempt, doubled before each later one
    /// ([`backoff_before`]); `None` retries at once.
    pub backoff: Option<Duration>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts { timeout: None, retries: 0, max_output: DEFAULT_MAX_OUTPUT, backoff: None }
    }
}

/// What a running tool call polls to learn that it must stop (the run was cancelled, or a
/// sibling inside the same `try` body failed).
pub trait Cancel: Sync {
    /// Whether the call must stop now.
    fn is_cancelled(&self) -> bool;
}

impl Cancel for AtomicBool {
    fn is_cancelled(&self) -> bool {
        self.load(Ordering::Relaxed)
    }
}

/// How often a backoff wait looks at the cancel flag.
const BACKOFF_POLL: Duration = Duration::from_millis(10);

/// Waits [`backoff_before`] attempt `next` of `attempts`, giving up (a fatal `cancelled`
/// attempt) within about 10 ms of `cancel` becoming true.
pub fn wait_before_attempt(attempts: &Attempts, next: u32, cancel: Option<&dyn Cancel>) -> Result<(), AttemptError> {
    let wait = backoff_before(attempts.backoff, next);
    let Some(until) = Instant::now().checked_add(wait) else { return Ok(()) };
    loop {
        if cancel.is_some_and(|c| c.is_cancelled()) {
            return Err(AttemptError::Fatal("cancelled".into()));
        }
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(BACKOFF_POLL));
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

/// Runs `attempt` (given the 1-based attempt number) up to `retries + 1` times, one after
/// the other (the attempt itself waits out any backoff: [`wait_before_attempt`]), and returns the first success or the last failure as a [`ToolError`].
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
    fn backoff_doubles_and_is_capped() {
        let ms = |n| backoff_before(Some(Duration::from_millis(200)), n).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4), ms(5)], [200, 200, 400, 800, 1600]);
        assert_eq!(backoff_before(Some(Duration::from_millis(200)), 20), Duration::from_millis(MAX_BACKOFF_MS));
        assert_eq!(backoff_before(Some(Duration::from_millis(MAX_BACKOFF_MS)), 101), Duration::from_millis(MAX_BACKOFF_MS));
        assert_eq!(backoff_before(None, 3), Duration::ZERO);
    }

    #[test]
    fn a_backoff_wait_stops_when_cancelled() {
        let attempts = Attempts { backoff: Some(Duration::from_secs(30)), ..Attempts::default() };
        let cancel = AtomicBool::new(true);
        assert_eq!(wait_before_attempt(&attempts, 2, Some(&cancel)), Err(AttemptError::Fatal("cancelled".into())));
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
