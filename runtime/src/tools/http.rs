//! `http` tools: GET/POST to a declared URL template (docs/language.md §9.2) with a minimal
//! HTTP/1.1 client over `std::net::TcpStream`.
//!
//! The client sends `Host`, `User-Agent`, `Accept`, `Connection: close` and, for POST,
//! `Content-Type: text/plain; charset=utf-8` and `Content-Length`; it reads `Content-Length`,
//! `chunked` and read-to-close responses and skips `1xx` interim responses. Redirects are not
//! followed (a `3xx` is a non-2xx status, so a failure). There is no TLS: an `https://` URL is
//! the error "https is not supported yet". The timeout bounds the whole attempt (resolve,
//! connect, send, receive).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{Attempts, AttemptError, Cancel, ToolError, deadline_after, format_duration, too_much_output, wait_before_attempt, with_retries};

/// The request method of an `http` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `get`: no body.
    Get,
    /// `post`: the `body:` text (empty when absent).
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// An `http` tool as declared: `tool NAME(...) = http(get|post, "URL", body:, timeout:, retries:)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTool {
    /// The tool's name, for errors.
    pub name: String,
    /// GET or POST.
    pub method: Method,
    /// The URL template with `{param}` placeholders and `{{`/`}}` literal braces.
    pub url_template: String,
    /// Timeout per attempt and retries.
    pub attempts: Attempts,
}

impl HttpTool {
    /// Calls the tool: fills the template with `params` (name, value), percent-encoded, and
    /// sends the request with `body` (POST; `None` is an empty body). Returns the response
    /// body as text (invalid UTF-8 replaced by U+FFFD). A template error or an `https` URL
    /// fails at once (no retry can cure it); every other failure is retried as declared.
    pub fn call(&self, params: &[(&str, &str)], body: Option<&str>) -> Result<String, ToolError> {
        with_retries(&self.name, self.attempts.retries, |n| {
            wait_before_attempt(&self.attempts, n, None)?;
            let url = expand_url(&self.url_template, params).map_err(AttemptError::Fatal)?;
            request_once(self.method, &url, body, &self.attempts)
        })
    }
}

/// Percent-encodes `text` for a URL: each UTF-8 byte that is unreserved (`A–Z a–z 0–9 - . _ ~`)
/// is kept, every other byte is written `%XX` with upper-case hex (`a b/c` → `a%20b%2Fc`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fills a URL template: `{name}` becomes the percent-encoded value of parameter `name`,
/// `{{` and `}}` become `{` and `}`; the rest is copied as it is. An unknown name, an
/// unclosed `{` or a lone `}` is an error, and so is a parameter value that makes a whole
/// path segment `.` or `..` (it would name the current or parent folder: percent-encoding
/// cannot help, `%2E` is the same URL as `.`).
pub fn expand_url(template: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    // Where each parameter's value went in `out`, to tell its dot segments from the template's.
    let mut filled: Vec<(usize, usize, &str)> = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if tail.starts_with('}') {
            return Err(format!("URL template `{template}` has a lone `}}` (write `}}}}`)"));
        } else {
            let Some(close) = tail.find('}') else {
                return Err(format!("URL template `{template}` has an unclosed `{{`"));
            };
            let name = &tail[1..close];
            let Some((_, value)) = params.iter().find(|(n, _)| *n == name) else {
                return Err(format!("URL template `{template}` names `{{{name}}}`, which is not a parameter"));
            };
            let start = out.len();
            out.push_str(&percent_encode(value));
            filled.push((start, out.len(), &tail[1..close]));
            rest = &tail[close + 1..];
        }
    }
    out.push_str(rest);
    check_dot_segments(&out, &filled)?;
    Ok(out)
}

/// Fails when a path segment of `url` is `.` or `..` and holds (part of) a parameter's value.
fn check_dot_segments(url: &str, filled: &[(usize, usize, &str)]) -> Result<(), String> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(path_start) = url[after_scheme..].find(['/', '?', '#']).map(|i| i + after_scheme) else { return Ok(()) };
    let path_end = url[path_start..].find(['?', '#']).map_or(url.len(), |i| i + path_start);
    let mut start = path_start;
    for segment in url[path_start..path_end].split('/') {
        let end = start + segment.len();
        if matches!(segment, "." | "..")
            && let Some((_, _, name)) = filled.iter().find(|(s, e, _)| *s < end && *e > start && s != e)
        {
            return Err(format!(
                "parameter `{name}` makes the URL path segment `{segment}` (in `{url}`): a parameter cannot name the current or parent folder"
            ));
        }
        start = end + 1;
    }
    Ok(())
}

/// The parts of an `http://` URL the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address as written (an IPv6 address keeps its brackets).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// Path and query, starting with `/` (the fragment dropped).
    pub target: String,
}

/// Parses an `http://host[:port][/path][?query][#fragment]` URL. `https://` is the error
/// "https is not supported yet"; other schemes and user info are errors too.
pub fn parse_url(url: &str) -> Result<Url, String> {
    if let Some(c) = url.chars().find(|c| c.is_ascii_whitespace() || c.is_ascii_control()) {
        return Err(format!("URL `{}` contains {}", url.escape_debug(), describe_char(c)));
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(format!("https is not supported yet (URL `{url}`)"));
    }
    if !lower.starts_with("http://") {
        return Err(format!("URL `{url}` does not start with http://"));
    }
    let rest = &url["http://".len()..];
    let rest = rest.split('#').next().unwrap_or("");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    if authority.contains('@') {
        return Err(format!("URL `{url}`: user info is not supported"));
    }
    let (host, port) = if let Some(end) = authority.strip_prefix('[').and_then(|a| a.find(']')) {
        let host = &authority[..end + 2];
        match &authority[end + 2..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or_else(|| format!("URL `{url}`: bad port"))?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("URL `{url}` has no host"));
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => p.parse::<u16>().map_err(|_| format!("URL `{url}`: bad port `{p}`"))?,
    };
    let target = if target.is_empty() {
        "/".to_string()
    } else if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    Ok(Url { host: host.to_string(), port, target })
}

/// How a character the URL may not hold is named in errors.
fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        '\0' => "a NUL character".into(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

/// Sends one request and reads the response. A status in 200–299 gives the body; any other
/// status fails the attempt with the status line (`HTTP/1.1 404 Not Found`).
pub fn request_once(method: Method, url: &str, body: Option<&str>, attempts: &Attempts) -> Result<String, AttemptError> {
    request_once_cancellable(method, url, body, attempts, None)
}

/// The cause of an attempt stopped by `cancel` (a fatal attempt error).
pub const CANCELLED: &str = "cancelled";

/// How often a read or write waiting on the server looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// [`request_once`] (the timeout and `max_output` of `attempts` bound it), stopped within about 50 ms of `cancel` becoming true while it sends or
/// waits for the response (the run's first failure cancels its siblings): the attempt then
/// fails with [`AttemptError::Fatal`]`("cancelled")`. Connecting is bounded by the timeout
/// only.
pub fn request_once_cancellable(
    method: Method,
    url: &str,
    body: Option<&str>,
    attempts: &Attempts,
    cancel: Option<&dyn Cancel>,
) -> Result<String, AttemptError> {
    let parsed = parse_url(url).map_err(AttemptError::Fatal)?;
    let timeout = attempts.timeout;
    let deadline = deadline_after(timeout);
    let timed_out = || AttemptError::Retry(format!("timed out after {}", format_duration(timeout.unwrap_or_default())));
    let io_err = |what: &str, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::Other && e.to_string() == CANCELLED {
            return AttemptError::Fatal(CANCELLED.into());
        }
        if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            && deadline.is_some()
        {
            timed_out()
        } else {
            AttemptError::Retry(format!("{what} {}:{}: {e}", parsed.host, parsed.port))
        }
    };
    let stream = connect(&parsed, deadline).map_err(|e| match e {
        ConnectError::Timeout => timed_out(),
        ConnectError::Io(e) => io_err("cannot connect to", e),
        ConnectError::Resolve(e) => AttemptError::Retry(format!("cannot resolve {}: {e}", parsed.host)),
    })?;
    let body = match method {
        Method::Get => None,
        Method::Post => Some(body.unwrap_or("")),
    };
    let host_header = if parsed.port == 80 { parsed.host.clone() } else { format!("{}:{}", parsed.host, parsed.port) };
    let mut request = format!(
        "{} {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: agentc-runtime\r\nAccept: */*\r\nConnection: close\r\n",
        method.as_str(),
        parsed.target
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut reader = DeadlineStream { stream, deadline, cancel };
    let send = |r: &mut DeadlineStream| -> std::io::Result<()> {
        r.write_all(request.as_bytes())?;
        if let Some(body) = body {
            r.write_all(body.as_bytes())?;
        }
        r.flush()
    };
    send(&mut reader).map_err(|e| io_err("cannot send to", e))?;
    let mut reader = BufReader::new(reader);
    let response = read_response(&mut reader, attempts.max_output).map_err(|e| match e {
        ReadError::Io(e) => io_err("reading the response from", e),
        ReadError::TooMuch => AttemptError::Retry(too_much_output("the response body", attempts.max_output)),
        ReadError::Bad(m) => AttemptError::Retry(format!("bad response from {}:{}: {m}", parsed.host, parsed.port)),
    })?;
    if !(200..300).contains(&response.status) {
        return Err(AttemptError::Retry(response.status_line));
    }
    Ok(String::from_utf8_lossy(&response.body).into_owned())
}

enum ConnectError {
    Timeout,
    Resolve(std::io::Error),
    Io(std::io::Error),
}

fn connect(url: &Url, deadline: Option<Instant>) -> Result<TcpStream, ConnectError> {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = (host, url.port).to_socket_addrs().map_err(ConnectError::Resolve)?.collect();
    let mut last = None;
    for addr in addrs {
        let result = match deadline {
            None => TcpStream::connect(addr),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ConnectError::Timeout);
                }
                TcpStream::connect_timeout(&addr, left)
            }
        };
        match result {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && deadline.is_some() => {
                last = Some(ConnectError::Timeout)
            }
            Err(e) => last = Some(ConnectError::Io(e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        ConnectError::Resolve(std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
    }))
}

/// A stream whose every read and write is bounded by one overall deadline, and which gives
/// up (an error "cancelled") soon after the cancel flag is set.
struct DeadlineStream<'c> {
    stream: TcpStream,
    deadline: Option<Instant>,
    cancel: Option<&'c dyn Cancel>,
}

impl DeadlineStream<'_> {
    /// Runs one blocking socket call with a timeout of what is left of the deadline, in
    /// slices of [`CANCEL_POLL`] when a cancel flag is watched.
    fn waiting<T>(&mut self, mut call: impl FnMut(&mut TcpStream, Option<Duration>) -> std::io::Result<T>) -> std::io::Result<T> {
        loop {
            if self.cancel.is_some_and(|c| c.is_cancelled()) {
                // Not `Interrupted`: std's readers retry those.
                return Err(std::io::Error::other(CANCELLED));
            }
            let left = self.left()?;
            let slice = match (left, self.cancel) {
                (_, None) => left,
                (Some(l), Some(_)) => Some(l.min(CANCEL_POLL)),
                (None, Some(_)) => Some(CANCEL_POLL),
            };
            match call(&mut self.stream, slice) {
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) && slice != left => continue,
                other => return other,
            }
        }
    }

    fn left(&self) -> std::io::Result<Option<Duration>> {
        match self.deadline {
            None => Ok(None),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline passed"))
                } else {
                    Ok(Some(left))
                }
            }
        }
    }
}

impl Read for DeadlineStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.waiting(|stream, timeout| {
            stream.set_read_timeout(timeout)?;
            stream.read(buf)
        })
    }
}

impl Write for DeadlineStream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.waiting(|stream, timeout| {
            stream.set_write_timeout(timeout)?;
            stream.write(buf)
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

struct Response {
    status: u16,
    status_line: String,
    body: Vec<u8>,
}

enum ReadError {
    Io(std::io::Error),
    Bad(String),
    /// The body is longer than `max_output`.
    TooMuch,
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn read_line(r: &mut impl BufRead) -> Result<String, ReadError> {
    let mut line = Vec::new();
    r.by_ref().take(64 * 1024).read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\n") {
        return Err(ReadError::Bad("connection closed in the middle of the header".into()));
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads a `Content-Length` header's value into `length`: a list of equal values (`5, 5`) is
/// one length; a value different from one seen before is an error (RFC 9112 §6.3: a
/// response framed two ways cannot be trusted).
fn read_content_length(value: &str, length: &mut Option<u64>) -> Result<(), ReadError> {
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::Bad(format!("bad Content-Length `{value}`")));
        }
        let n = item.parse::<u64>().map_err(|_| ReadError::Bad(format!("bad Content-Length `{value}`")))?;
        match *length {
            Some(seen) if seen != n => {
                return Err(ReadError::Bad(format!("conflicting Content-Length headers ({seen} and {n})")));
            }
            _ => *length = Some(n),
        }
    }
    Ok(())
}

/// Reads the rest of `r` into `body`, failing once it holds more than `max` bytes.
fn read_bounded(r: &mut impl Read, body: &mut Vec<u8>, max: u64) -> Result<(), ReadError> {
    let room = max.saturating_sub(body.len() as u64);
    r.take(room.saturating_add(1)).read_to_end(body)?;
    if body.len() as u64 > max {
        return Err(ReadError::TooMuch);
    }
    Ok(())
}

fn read_response(r: &mut impl BufRead, max_output: u64) -> Result<Response, ReadError> {
    loop {
        let status_line = read_line(r)?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(ReadError::Bad(format!("not an HTTP/1.x status line: `{status_line}`")));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ReadError::Bad(format!("bad status line `{status_line}`")))?;
        let mut content_length = None;
        let mut chunked = false;
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(ReadError::Bad(format!("bad header line `{line}`")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                read_content_length(value, &mut content_length)?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.split(',').any(|v| v.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        if (100..200).contains(&status) {
            continue; // interim response (100 Continue): the real one follows
        }
        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if chunked {
            read_chunked(r, max_output)?
        } else if let Some(n) = content_length {
            if n > max_output {
                return Err(ReadError::TooMuch);
            }
            let mut body = Vec::with_capacity(n.min(1 << 20) as usize);
            r.by_ref().take(n).read_to_end(&mut body)?;
            if (body.len() as u64) < n {
                return Err(ReadError::Bad(format!("body ended after {} of {n} bytes", body.len())));
            }
            body
        } else {
            let mut body = Vec::new();
            read_bounded(r, &mut body, max_output)?;
            body
        };
        return Ok(Response { status, status_line, body });
    }
}

fn read_chunked(r: &mut impl BufRead, max_output: u64) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(format!("bad chunk size `{line}`")))?;
        if size == 0 {
            // Trailers, up to the blank line.
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        if (body.len() as u64).saturating_add(size) > max_output {
            return Err(ReadError::TooMuch);
        }
        let before = body.len();
        r.by_ref().take(size).read_to_end(&mut body)?;
        if ((body.len() - before) as u64) < size {
            return Err(ReadError::Bad("connection closed in the middle of a chunk".into()));
        }
        if !read_line(r)?.is_empty() {
            return Err(ReadError::Bad("chunk not followed by CRLF".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread::JoinHandle;

    /// A test server on 127.0.0.1:0 that answers `responses.len()` connections, one response
    /// each, and sends back each raw request it read.
    struct Server {
        port: u16,
        requests: mpsc::Receiver<String>,
        handle: Option<JoinHandle<()>>,
    }

    impl Server {
        fn start(responses: Vec<Vec<u8>>) -> Server {
            Self::start_with_delay(responses, Duration::ZERO)
        }

        fn start_with_delay(responses: Vec<Vec<u8>>, delay: Duration) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let (tx, requests) = mpsc::channel();
            let handle = std::thread::spawn(move || {
                for response in responses {
                    let (mut conn, _) = listener.accept().unwrap();
                    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let request = read_request(&mut conn);
                    let _ = tx.send(request);
                    std::thread::sleep(delay);
                    let _ = conn.write_all(&response);
                }
            });
            Server { port, requests, handle: Some(handle) }
        }

        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        fn join(mut self) -> Vec<String> {
            self.handle.take().unwrap().join().unwrap();
            self.requests.try_iter().collect()
        }
    }

    fn read_request(conn: &mut TcpStream) -> String {
        let mut r = BufReader::new(conn);
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body).unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    fn ok(body: &str) -> Vec<u8> {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    fn tool(method: Method, url: &str, timeout_ms: Option<u64>, retries: u32) -> HttpTool {
        HttpTool {
            name: "lookup".into(),
            method,
            url_template: url.into(),
            attempts: Attempts { timeout: timeout_ms.map(Duration::from_millis), retries, ..Attempts::default() },
        }
    }

    #[test]
    fn retries_wait_out_the_backoff_between_attempts() {
        // Two 503s, then a 200: the second attempt starts 40 ms after the first failed, the
        // third 80 ms after the second.
        let unavailable = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec();
        let server = Server::start(vec![unavailable.clone(), unavailable, ok("up")]);
        let mut t = tool(Method::Get, &server.url("/"), Some(5000), 2);
        t.attempts.backoff = Some(Duration::from_millis(40));
        let started = std::time::Instant::now();
        assert_eq!(t.call(&[], None).unwrap(), "up");
        assert!(started.elapsed() >= Duration::from_millis(120), "waited only {:?}", started.elapsed());
        assert_eq!(server.join().len(), 3);
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode("é&=?+%{"), "%C3%A9%26%3D%3F%2B%25%7B");
    }

    #[test]
    fn templates_fill_parameters_and_literal_braces() {
        let p = [("term", "a b"), ("lang", "en")];
        assert_eq!(expand_url("http://h/x?t={term}&l={lang}", &p).unwrap(), "http://h/x?t=a%20b&l=en");
        assert_eq!(expand_url("http://h/{{x}}/{lang}", &p).unwrap(), "http://h/{x}/en");
        assert!(expand_url("http://h/{nope}", &p).unwrap_err().contains("`{nope}`"));
        assert!(expand_url("http://h/{term", &p).unwrap_err().contains("unclosed"));
        assert!(expand_url("http://h/}", &p).unwrap_err().contains("lone"));
    }

    #[test]
    fn parameters_cannot_make_dot_segments() {
        for value in [".", ".."] {
            let err = expand_url("http://h/a/{p}/b?q={p}", &[("p", value)]).unwrap_err();
            assert_eq!(
                err,
                format!("parameter `p` makes the URL path segment `{value}` (in `http://h/a/{value}/b?q={value}`): a parameter cannot name the current or parent folder")
            );
            assert!(expand_url("http://h/{p}", &[("p", value)]).is_err());
        }
        // Not a whole segment, in the query, or the template's own: allowed.
        assert_eq!(expand_url("http://h/a/{p}.json", &[("p", ".")]).unwrap(), "http://h/a/..json");
        assert_eq!(expand_url("http://h/a?q={p}", &[("p", "..")]).unwrap(), "http://h/a?q=..");
        assert_eq!(expand_url("http://h/a/../{p}", &[("p", "...")]).unwrap(), "http://h/a/../...");
        assert_eq!(expand_url("http://h/{p}", &[("p", "../x")]).unwrap(), "http://h/..%2Fx");
    }

    #[test]
    fn urls_with_whitespace_or_control_characters_are_rejected() {
        assert_eq!(parse_url("http://h/a b").unwrap_err(), "URL `http://h/a b` contains a space");
        assert_eq!(parse_url("http://h/a\tb").unwrap_err(), "URL `http://h/a\\tb` contains a tab");
        assert_eq!(parse_url("http://h/\0").unwrap_err(), "URL `http://h/\\0` contains a NUL character");
        assert!(parse_url("http://h/\r\nX: y").is_err());
    }

    #[test]
    fn urls_parse() {
        let u = parse_url("http://127.0.0.1:8080/lookup?q=1#frag").unwrap();
        assert_eq!(u, Url { host: "127.0.0.1".into(), port: 8080, target: "/lookup?q=1".into() });
        let u = parse_url("http://example.test").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/"));
        let u = parse_url("http://[::1]:9/a").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 9));
        assert_eq!(parse_url("http://h?x=1").unwrap().target, "/?x=1");
        assert!(parse_url("ftp://h/").is_err());
        assert!(parse_url("http://h:99999/").is_err());
    }

    #[test]
    fn https_is_a_clear_error_without_retries() {
        let err = tool(Method::Get, "https://example.test/{q}", None, 3).call(&[("q", "x")], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `lookup` failed (attempt 1 of 4): https is not supported yet (URL `https://example.test/x`)"
        );
    }

    #[test]
    fn get_sends_encoded_parameters_and_reads_content_length() {
        let server = Server::start(vec![ok("found it")]);
        let t = tool(Method::Get, &server.url("/lookup?term={term}&lang={lang}"), Some(5000), 0);
        assert_eq!(t.call(&[("term", "a b/c"), ("lang", "en")], None).unwrap(), "found it");
        let requests = server.join();
        let req = &requests[0];
        assert!(req.starts_with("GET /lookup?term=a%20b%2Fc&lang=en HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Host: 127.0.0.1:"), "{req}");
        assert!(req.contains("Connection: close\r\n"), "{req}");
        assert!(!req.to_ascii_lowercase().contains("content-length"), "{req}");
    }

    #[test]
    fn post_sends_the_body() {
        let server = Server::start(vec![ok("noted")]);
        let t = tool(Method::Post, &server.url("/notes"), Some(5000), 0);
        assert_eq!(t.call(&[], Some("searched: é")).unwrap(), "noted");
        let req = &server.join()[0];
        assert!(req.starts_with("POST /notes HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Content-Length: 12\r\n"), "{req}");
        assert!(req.ends_with("\r\n\r\nsearched: é"), "{req}");
        // An absent body is empty.
        let server = Server::start(vec![ok("")]);
        tool(Method::Post, &server.url("/n"), Some(5000), 0).call(&[], None).unwrap();
        assert!(server.join()[0].contains("Content-Length: 0\r\n"));
    }

    #[test]
    fn chunked_and_read_to_close_bodies() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: 1\r\n\r\n".to_vec();
        let close = b"HTTP/1.0 200 OK\r\n\r\nuntil close".to_vec();
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok".to_vec();
        let server = Server::start(vec![chunked, close, interim]);
        let t = tool(Method::Get, &server.url("/"), Some(5000), 0);
        assert_eq!(t.call(&[], None).unwrap(), "hello, world");
        assert_eq!(t.call(&[], None).unwrap(), "until close");
        assert_eq!(t.call(&[], None).unwrap(), "ok");
        server.join();
    }

    #[test]
    fn non_2xx_fails_with_the_status_line_and_is_retried() {
        let bad = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy".to_vec();
        let server = Server::start(vec![bad.clone(), bad.clone(), ok("third time")]);
        let t = tool(Method::Get, &server.url("/"), Some(5000), 2);
        assert_eq!(t.call(&[], None).unwrap(), "third time");
        server.join();

        let server = Server::start(vec![b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(); 2]);
        let err = tool(Method::Get, &server.url("/"), Some(5000), 1).call(&[], None).unwrap_err();
        assert_eq!(err.to_string(), "tool `lookup` failed (attempt 2 of 2): HTTP/1.1 404 Not Found");
        server.join();
    }

    #[test]
    fn a_slow_server_times_out() {
        let server = Server::start_with_delay(vec![ok("late")], Duration::from_millis(600));
        let err = tool(Method::Get, &server.url("/"), Some(150), 0).call(&[], None).unwrap_err();
        assert_eq!(err.to_string(), "tool `lookup` failed (attempt 1 of 1): timed out after 150ms");
        server.join();
    }

    #[test]
    fn no_connection_is_a_failure() {
        // Bind then drop a listener: its port refuses connections.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let err = tool(Method::Get, &format!("http://127.0.0.1:{port}/"), Some(2000), 1).call(&[], None).unwrap_err();
        assert!(err.to_string().starts_with(&format!("tool `lookup` failed (attempt 2 of 2): cannot connect to 127.0.0.1:{port}")), "{err}");
    }

    #[test]
    fn conflicting_content_lengths_are_a_failure() {
        let twice = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde".to_vec();
        let listed = b"HTTP/1.1 200 OK\r\nContent-Length: 3, 5\r\n\r\nabcde".to_vec();
        let same = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc".to_vec();
        let server = Server::start(vec![twice, listed, same]);
        let t = tool(Method::Get, &server.url("/"), Some(5000), 0);
        for _ in 0..2 {
            let err = t.call(&[], None).unwrap_err();
            assert!(err.cause.ends_with("conflicting Content-Length headers (3 and 5)"), "{err}");
        }
        assert_eq!(t.call(&[], None).unwrap(), "abc");
        server.join();
    }

    #[test]
    fn bodies_are_bounded_by_max_output() {
        let exact = ok("0123456789");
        let long = ok("0123456789A");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n".to_vec();
        let to_close = b"HTTP/1.0 200 OK\r\n\r\n0123456789ABCDEF".to_vec();
        let server = Server::start(vec![exact, long, chunked, to_close]);
        let mut t = tool(Method::Get, &server.url("/"), Some(5000), 0);
        t.attempts.max_output = 10;
        assert_eq!(t.call(&[], None).unwrap(), "0123456789");
        for _ in 0..3 {
            let err = t.call(&[], None).unwrap_err();
            assert_eq!(err.cause, "the response body is larger than max_output (10 bytes)");
        }
        server.join();
    }

    #[test]
    fn a_truncated_body_is_a_failure() {
        let server = Server::start(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec()]);
        let err = tool(Method::Get, &server.url("/"), Some(5000), 0).call(&[], None).unwrap_err();
        assert!(err.cause.contains("body ended after 3 of 10 bytes"), "{err}");
        server.join();
    }

    #[test]
    fn a_waiting_request_stops_soon_after_cancel() {
        // The server answers after 3 s; the cancel flag is set after 100 ms; no timeout.
        let server = Server::start_with_delay(vec![ok("late")], Duration::from_millis(3000));
        let cancel = AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                cancel.store(true, Ordering::Relaxed);
            });
            request_once_cancellable(Method::Get, &server.url("/"), None, &Attempts::default(), Some(&cancel))
        });
        // Not `Ok("late")`: the attempt stopped before the server answered.
        assert!(matches!(result, Err(AttemptError::Fatal(ref m)) if m == CANCELLED), "{result:?}");
        server.join();
    }
}
