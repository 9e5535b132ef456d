//! The text, list and numeric built-ins of agent code, as plain Rust functions.
//!
//! One definition serves both the compile-time folder (`workflow-canonicalize`) and the
//! executable. Each function documents the language-level behaviour it implements.

/// `lines(t)`: `t` split at `\n`, a trailing `\r` removed from each line, empty lines dropped.
pub fn lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// `split(t, sep)`: every piece between occurrences of `sep` (empty pieces kept); an empty
/// separator splits at runs of whitespace.
pub fn split(text: &str, separator: &str) -> Vec<String> {
    if separator.is_empty() {
        text.split_whitespace().map(str::to_string).collect()
    } else {
        text.split(separator).map(str::to_string).collect()
    }
}

/// `join(items, sep)`.
pub fn join(items: &[String], separator: &str) -> String {
    items.join(separator)
}

/// `len(t)` on text: the number of Unicode scalar values.
pub fn text_len(text: &str) -> i64 {
    text.chars().count() as i64
}

/// `trim(t)`: without leading and trailing whitespace.
pub fn trim(text: &str) -> String {
    text.trim().to_string()
}

/// Error of `format` when the placeholders and arguments disagree.
#[derive(Debug, PartialEq, Eq)]
pub struct FormatError(pub String);

/// `format(fmt, args…)`: each `{}` replaced by the next argument; `{{`/`}}` are literal braces.
pub fn format(template: &str, args: &[String]) -> Result<String, FormatError> {
    let mut out = String::with_capacity(template.len());
    let mut next = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                out.push(c);
                chars.next();
            }
            ('{', Some('}')) => {
                chars.next();
                let arg = next
                    .next()
                    .ok_or_else(|| FormatError(format!("format has more `{{}}` than the {} arguments", args.len())))?;
                out.push_str(arg);
            }
            _ => out.push(c),
        }
    }
    if next.next().is_some() {
        return Err(FormatError(format!("format has fewer `{{}}` than the {} arguments", args.len())));
    }
    Ok(out)
}

/// Number of `{}` placeholders in a format template (`{{` and `}}` are escapes).
pub fn format_placeholders(template: &str) -> usize {
    let mut count = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                chars.next();
            }
            ('{', Some('}')) => {
                chars.next();
                count += 1;
            }
            _ => {}
        }
    }
    count
}

/// `text(x)` of a float: the shortest text that reads back to the same value, with `.0`
/// when integral (`2.0`, `0.1`, `1e300`), `inf`, `-inf`, `NaN`.
pub fn float_to_text(value: f64) -> String {
    if value.is_finite() && value == value.trunc() && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value:?}")
    }
}

/// `int(t)` on text: the trimmed text as a decimal i64.
pub fn parse_int(text: &str) -> Result<i64, String> {
    text.trim().parse::<i64>().map_err(|_| format!("`{}` is not an integer", text.trim()))
}

/// `float(t)` on text: the trimmed text as a number.
pub fn parse_float(text: &str) -> Result<f64, String> {
    text.trim().parse::<f64>().map_err(|_| format!("`{}` is not a number", text.trim()))
}

/// `argmax(xs)`: the index of the first maximum; `None` for an empty list. NaN never wins.
pub fn argmax(values: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (index, &value) in values.iter().enumerate() {
        match best {
            Some((_, max)) if !(value > max) => {}
            _ if value.is_nan() => {}
            _ => best = Some((index, value)),
        }
    }
    best.map(|(index, _)| index).or(if values.is_empty() { None } else { Some(0) })
}

/// Integer `/`: truncating; `None` on a zero divisor or overflow (`i64::MIN / -1`).
pub fn int_div(lhs: i64, rhs: i64) -> Option<i64> {
    lhs.checked_div(rhs)
}

/// Integer `%`: sign of the dividend; `None` on a zero divisor or overflow.
pub fn int_rem(lhs: i64, rhs: i64) -> Option<i64> {
    lhs.checked_rem(rhs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_drop_empty_and_carriage_returns() {
        assert_eq!(lines("a\r\n\nb\n"), vec!["a", "b"]);
    }

    #[test]
    fn split_keeps_empty_pieces_but_whitespace_mode_does_not() {
        assert_eq!(split("a,,b", ","), vec!["a", "", "b"]);
        assert_eq!(split("  a  b ", ""), vec!["a", "b"]);
    }

    #[test]
    fn format_replaces_placeholders_and_escapes() {
        assert_eq!(format("{} of {}", &["1".into(), "2".into()]).unwrap(), "1 of 2");
        assert_eq!(format("{{}} {}", &["x".into()]).unwrap(), "{} x");
        assert!(format("{}", &[]).is_err());
        assert!(format("", &["x".into()]).is_err());
        assert_eq!(format_placeholders("{{}} {} {}"), 2);
    }

    #[test]
    fn float_text_reads_back() {
        assert_eq!(float_to_text(2.0), "2.0");
        assert_eq!(float_to_text(0.1), "0.1");
        assert_eq!(float_to_text(-3.5), "-3.5");
        assert_eq!(float_to_text(1e300), "1e300");
        assert_eq!(float_to_text(f64::INFINITY), "inf");
    }

    #[test]
    fn argmax_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), Some(1));
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[f64::NAN, 1.0]), Some(1));
    }

    #[test]
    fn division_checks_zero_and_overflow() {
        assert_eq!(int_div(7, -2), Some(-3));
        assert_eq!(int_div(1, 0), None);
        assert_eq!(int_div(i64::MIN, -1), None);
        assert_eq!(int_rem(-7, 2), Some(-1));
    }
}
