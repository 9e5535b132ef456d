//! When requests arrive: a seeded Poisson process or a trace file, and the simulator's
//! random numbers (SplitMix64: small, fast, and the same stream on every platform, so a
//! seed gives the same simulation everywhere).

use std::fmt;

/// A deterministic pseudo-random stream (SplitMix64, Steele, Lea and Flood 2014).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A stream started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An exponentially distributed number of mean `1 / rate`.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -(1.0 - self.uniform()).ln() / rate
    }
}

/// Arrival times of a Poisson process of `rate` requests per second over `[0, duration)`:
/// exponential gaps from `rng`.
pub fn poisson(rate: f64, duration: f64, rng: &mut Rng) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = rng.exponential(rate);
    while t < duration {
        out.push(t);
        t += rng.exponential(rate);
    }
    out
}

/// Why a trace file was refused: the line (1-based) and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a trace of arrival times: one request per line, its arrival in seconds as the
/// line's first comma-separated field (further fields are ignored, so a CSV export with
/// more columns works); blank lines and lines starting with `#` are skipped. Times must be
/// finite, non-negative and non-decreasing, and there must be at least one.
pub fn parse_trace(text: &str) -> Result<Vec<f64>, TraceError> {
    let mut out: Vec<f64> = Vec::new();
    let mut last_line = 0;
    for (i, line) in text.lines().enumerate() {
        last_line = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let field = line.split(',').next().unwrap_or("").trim();
        let error = |message: String| TraceError { line: i + 1, message };
        let t: f64 = field
            .parse()
            .map_err(|_| error(format!("`{}` is not an arrival time in seconds", field.escape_debug())))?;
        if !t.is_finite() || t < 0.0 {
            return Err(error(format!("arrival time {field} must be a finite number of seconds >= 0")));
        }
        if let Some(&prev) = out.last()
            && t < prev
        {
            return Err(error(format!("arrival time {field} is earlier than the line before ({prev}): times must not decrease")));
        }
        out.push(t);
    }
    if out.is_empty() {
        return Err(TraceError { line: last_line.max(1), message: "no arrival times in the file".into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_is_seeded_and_has_its_rate() {
        let a = poisson(50.0, 2000.0, &mut Rng::new(7));
        let b = poisson(50.0, 2000.0, &mut Rng::new(7));
        assert_eq!(a, b);
        let rate = a.len() as f64 / 2000.0;
        // 100k arrivals: the count's standard deviation is 0.3 %.
        assert!((rate - 50.0).abs() / 50.0 < 0.015, "{rate}");
        assert_ne!(a, poisson(50.0, 2000.0, &mut Rng::new(8)));
    }

    #[test]
    fn trace_errors_carry_their_line() {
        assert_eq!(parse_trace("# t\n0\n0.5,extra\n\n1.5\n").unwrap(), vec![0.0, 0.5, 1.5]);
        assert_eq!(parse_trace("0\nabc\n").unwrap_err().line, 2);
        assert_eq!(parse_trace("1\n0.5\n").unwrap_err().line, 2);
        assert_eq!(parse_trace("-1\n").unwrap_err().line, 1);
        assert_eq!(parse_trace("inf\n").unwrap_err().line, 1);
        assert!(parse_trace("# only a comment\n").is_err());
    }
}
