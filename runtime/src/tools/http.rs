//! `http` tools: GET/POST to a declared URL template (docs/language.md §9.2), sent with
//! `ureq` (a maintained HTTP/1.1 client) over rustls for `https://`, verified against the
//! system's roots (the platform verifier; `SSL_CERT_FILE` names another bundle).
//!
//! The request carries `User-Agent: agentc-runtime`, `Accept: */*`, the declared headers and,
//! for POST, the body with its `Content-Type` (`text/plain; charset=utf-8` for `body:`,
//! `application/json` for `json:`). Redirects are not followed (a `3xx` is a non-2xx status,
//! so a failure); a failure shows the status line and the start of the body. The timeout
//! bounds the whole attempt (resolve, connect, TLS, send, receive).

use std::io::Read;
use std::time::Duration;

use super::{Attempts, AttemptError, Cancel, ToolError, format_duration, too_much_output, wait_before_attempt, with_retries};

/// The request method of an `http` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `get`: no body.
    Get,
    /// `post`: the `body:` text (empty when absent).
    Post,
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

/// Fills a header's value template: `{NAME}` becomes environment variable `NAME`, read now,
/// and `{{`/`}}` become braces. Errors name the header and the variable, never a value; a
/// variable that is unset, not UTF-8 or holds a control character (CR, LF…) is an error.
/// Returns the value and the variables' values (to be kept out of error messages).
pub fn expand_header(header: &str, template: &str) -> Result<(String, Vec<(String, String)>), String> {
    let mut out = String::with_capacity(template.len());
    let mut secrets = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let close = tail.find('}').filter(|_| tail.starts_with('{'));
        let Some(close) = close else {
            return Err(format!("header `{header}`: bad value template (a lone brace)"));
        };
        let name = &tail[1..close];
        let value = match std::env::var(name) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => return Err(format!("header `{header}`: environment variable `{name}` is not set")),
            Err(std::env::VarError::NotUnicode(_)) => return Err(format!("header `{header}`: environment variable `{name}` is not UTF-8")),
        };
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!("header `{header}`: environment variable `{name}` holds a control character"));
        }
        out.push_str(&value);
        secrets.push((name.to_string(), value));
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Ok((out, secrets))
}

/// A JSON object whose field `keys[i]` is the string `values[i]`, in order (a `json:` body).
pub fn json_object(keys: &[&str], values: &[&str]) -> String {
    let fields: Vec<String> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| format!("{}:{}", serde_json::Value::from(*k), serde_json::Value::from(*v)))
        .collect();
    format!("{{{}}}", fields.join(","))
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

/// The parts of an `http://` or `https://` URL that errors name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address as written (an IPv6 address keeps its brackets).
    pub host: String,
    /// Port (80 for http, 443 for https when absent).
    pub port: u16,
    /// `https://`.
    pub https: bool,
    /// Path and query, starting with `/` (the fragment dropped).
    pub target: String,
}

/// Parses an `http(s)://host[:port][/path][?query][#fragment]` URL; other schemes and user
/// info are errors.
pub fn parse_url(url: &str) -> Result<Url, String> {
    if let Some(c) = url.chars().find(|c| c.is_ascii_whitespace() || c.is_ascii_control()) {
        return Err(format!("URL `{}` contains {}", url.escape_debug(), describe_char(c)));
    }
    let lower = url.to_ascii_lowercase();
    let https = lower.starts_with("https://");
    if !https && !lower.starts_with("http://") {
        return Err(format!("URL `{url}` does not start with http:// or https://"));
    }
    let rest = &url[if https { "https://".len() } else { "http://".len() }..];
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
        None | Some("") if https => 443,
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
    Ok(Url { host: host.to_string(), port, https, target })
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

/// One request as an `http` tool sends it: the method, the filled URL, the body (POST), its
/// `Content-Type` and the declared headers with their values already read.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// GET or POST.
    pub method: Method,
    /// The filled URL (`http://` or `https://`).
    pub url: &'a str,
    /// The body of a POST (`None` is an empty body); ignored for GET.
    pub body: Option<&'a str>,
    /// The body's `Content-Type` (POST only).
    pub content_type: &'a str,
    /// Declared headers (name, value). Values may be secrets read from the environment: they
    /// are sent, never written into an error.
    pub headers: &'a [(String, String)],
    /// The environment variables read for the headers (name, value): a value the server
    /// echoes in a failed response's body is shown as `${NAME}`.
    pub secrets: &'a [(String, String)],
}

/// The `Content-Type` of a `body:` text.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// The `Content-Type` of a `json:` body.
pub const APPLICATION_JSON: &str = "application/json";

/// How many bytes of a failed (non-2xx) response's body its error shows.
pub const ERROR_BODY_SHOWN: usize = 200;

/// Sends one request and reads the response. A status in 200–299 gives the body; any other
/// status fails the attempt with the status line and the start of the body
/// (`HTTP/1.1 404 Not Found: no such term`).
pub fn request_once(method: Method, url: &str, body: Option<&str>, attempts: &Attempts) -> Result<String, AttemptError> {
    request_once_cancellable(method, url, body, attempts, None)
}

/// The cause of an attempt stopped by `cancel` (a fatal attempt error).
pub const CANCELLED: &str = "cancelled";

/// How often a request in flight looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// [`request_once`] with a `text/plain` body and no declared header, stopped by `cancel`
/// (see [`send`]).
pub fn request_once_cancellable(
    method: Method,
    url: &str,
    body: Option<&str>,
    attempts: &Attempts,
    cancel: Option<&dyn Cancel>,
) -> Result<String, AttemptError> {
    send(&Request { method, url, body, content_type: TEXT_PLAIN, headers: &[], secrets: &[] }, attempts, cancel)
}

/// Sends `request` through `ureq` (rustls, the system's roots) once; the timeout and
/// `max_output` of `attempts` bound it. It stops within about 50 ms of `cancel` becoming true
/// while it connects, sends or waits (the run's first failure cancels its siblings): the
/// attempt then fails with [`AttemptError::Fatal`]`("cancelled")`.
pub fn send(request: &Request<'_>, attempts: &Attempts, cancel: Option<&dyn Cancel>) -> Result<String, AttemptError> {
    let parsed = parse_url(request.url).map_err(AttemptError::Fatal)?;
    let agent = agent(attempts.timeout);
    let result = std::thread::scope(|scope| {
        // Dropped when the exchange ends, which wakes the watcher at once (no 50 ms tail).
        let (done, finished) = std::sync::mpsc::channel::<()>();
        if let Some(cancel) = cancel {
            let agent = agent.clone();
            scope.spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(CANCEL_POLL) {
                    if cancel.is_cancelled() {
                        // Reads and writes blocked on the connection fail at once.
                        agent.shutdown();
                        return;
                    }
                }
            });
        }
        let result = exchange(&agent, request, attempts.max_output);
        drop(done);
        result
    });
    if cancel.is_some_and(|c| c.is_cancelled()) && result.is_err() {
        return Err(AttemptError::Fatal(CANCELLED.into()));
    }
    let failed = |e: Failure| match e {
        Failure::Ureq(e) => AttemptError::Retry(describe(e, &parsed, attempts.timeout)),
        Failure::Cause(cause) => AttemptError::Retry(cause),
    };
    result.map_err(failed)
}

/// An agent for one attempt: no redirects followed (a `3xx` is a failure), statuses returned
/// rather than errors, no proxy, the whole attempt bounded by `timeout`, and rustls with the
/// platform's verifier (the system's roots; `SSL_CERT_FILE` names another bundle).
fn agent(timeout: Option<Duration>) -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
    let tls = TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .timeout_global(timeout)
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .user_agent("agentc-runtime")
        .accept("*/*")
        .tls_config(tls)
        .build()
        .into()
}

/// Why an exchange failed: an error of the client, or a cause already worded.
enum Failure {
    Ureq(ureq::Error),
    Cause(String),
}

impl From<ureq::Error> for Failure {
    fn from(e: ureq::Error) -> Self {
        Failure::Ureq(e)
    }
}

/// Sends the request and reads the response body (at most `max_output` bytes).
fn exchange(agent: &ureq::Agent, request: &Request<'_>, max_output: u64) -> Result<String, Failure> {
    let response = match request.method {
        Method::Get => {
            let mut builder = agent.get(request.url);
            for (name, value) in request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            builder.call()?
        }
        Method::Post => {
            let mut builder = agent.post(request.url).header("Content-Type", request.content_type);
            for (name, value) in request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            builder.send(request.body.unwrap_or(""))?
        }
    };
    let length = check_content_length(response.headers()).map_err(Failure::Cause)?;
    let status = response.status();
    let version = response.version();
    let success = status.is_success();
    let limit = if success { max_output } else { ERROR_BODY_SHOWN as u64 * 4 };
    let mut body = Vec::new();
    let mut reader = response.into_body().into_with_config().limit(u64::MAX).reader();
    let read = (&mut reader).take(limit.saturating_add(1)).read_to_end(&mut body);
    if !success {
        // The status is the failure; the body (what of it could be read) explains it.
        let line = format!("{version:?} {} {}", status.as_u16(), status.canonical_reason().unwrap_or("")).trim_end().to_string();
        let shown = error_body(&body, request.secrets);
        return Err(Failure::Cause(if shown.is_empty() { line } else { format!("{line}: {shown}") }));
    }
    if let Err(e) = read {
        let declared = length.filter(|&n| (body.len() as u64) < n);
        return Err(match (declared, e.into_inner().map(|inner| inner.downcast::<ureq::Error>())) {
            (Some(n), _) => Failure::Cause(format!("the response body ended after {} of {n} bytes", body.len())),
            (None, Some(Ok(e))) => Failure::Ureq(*e),
            (None, Some(Err(e))) => Failure::Cause(format!("reading the response body: {e}")),
            (None, None) => Failure::Cause("the connection failed while reading the response body".into()),
        });
    }
    if body.len() as u64 > max_output {
        return Err(Failure::Cause(too_much_output("the response body", max_output)));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The start of a failed response's body as one line: at most [`ERROR_BODY_SHOWN`] bytes
/// (cut at a character boundary, `…` added when cut), control characters escaped, the value
/// of each of `secrets` replaced by `${NAME}`.
fn error_body(body: &[u8], secrets: &[(String, String)]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for (name, value) in secrets.iter().filter(|(_, v)| !v.is_empty()) {
        text = text.replace(value.as_str(), &format!("${{{name}}}"));
    }
    let text = text.trim();
    let mut end = text.len().min(ERROR_BODY_SHOWN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut shown: String = text[..end].chars().flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] }).collect();
    if end < text.len() {
        shown.push('…');
    }
    shown
}

/// A response whose `Content-Length` headers disagree is refused: a list of equal values
/// (`5, 5`) is one length; a value different from one seen before is an error (RFC 9112
/// §6.3: a response framed two ways cannot be trusted).
fn check_content_length(headers: &ureq::http::HeaderMap) -> Result<Option<u64>, String> {
    let mut length: Option<u64> = None;
    for value in headers.get_all("content-length") {
        let value = String::from_utf8_lossy(value.as_bytes());
        for item in value.split(',') {
            let item = item.trim();
            let n = item
                .parse::<u64>()
                .ok()
                .filter(|_| !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("bad Content-Length `{value}`"))?;
            match length {
                Some(seen) if seen != n => return Err(format!("conflicting Content-Length headers ({seen} and {n})")),
                _ => length = Some(n),
            }
        }
    }
    Ok(length)
}

/// The one-line cause of a client error, in the words the old client used.
fn describe(e: ureq::Error, url: &Url, timeout: Option<Duration>) -> String {
    let at = format!("{}:{}", url.host, url.port);
    match e {
        ureq::Error::Timeout(_) => format!("timed out after {}", format_duration(timeout.unwrap_or_default())),
        ureq::Error::Io(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) && timeout.is_some() => {
            format!("timed out after {}", format_duration(timeout.unwrap_or_default()))
        }
        ureq::Error::HostNotFound => format!("cannot resolve {}", url.host),
        ureq::Error::ConnectionFailed => format!("cannot connect to {at}"),
        ureq::Error::Io(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable) => {
            format!("cannot connect to {at}: {e}")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => format!("bad response from {at}: the connection closed early ({e})"),
        // rustls reports a refused certificate or handshake as invalid data.
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData && url.https => format!("TLS with {at}: {e}"),
        ureq::Error::Io(e) => format!("talking to {at}: {e}"),
        ureq::Error::BodyExceedsLimit(_) => "the response body is too large".into(),
        e @ (ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_)) => format!("TLS with {at}: {e}"),
        ureq::Error::Protocol(e) => format!("bad response from {at}: {e}"),
        e => format!("{at}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread::JoinHandle;
    use std::sync::atomic::{AtomicBool, Ordering};

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
        assert_eq!(u, Url { host: "127.0.0.1".into(), port: 8080, https: false, target: "/lookup?q=1".into() });
        let u = parse_url("https://api.example.test/v1").unwrap();
        assert_eq!((u.port, u.https, u.target.as_str()), (443, true, "/v1"));
        let u = parse_url("http://example.test").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/"));
        let u = parse_url("http://[::1]:9/a").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 9));
        assert_eq!(parse_url("http://h?x=1").unwrap().target, "/?x=1");
        assert!(parse_url("ftp://h/").is_err());
        assert!(parse_url("http://h:99999/").is_err());
    }

    #[test]
    fn get_sends_encoded_parameters_and_reads_content_length() {
        let server = Server::start(vec![ok("found it")]);
        let t = tool(Method::Get, &server.url("/lookup?term={term}&lang={lang}"), Some(5000), 0);
        assert_eq!(t.call(&[("term", "a b/c"), ("lang", "en")], None).unwrap(), "found it");
        let requests = server.join();
        let req = &requests[0];
        assert!(req.starts_with("GET /lookup?term=a%20b%2Fc&lang=en HTTP/1.1\r\n"), "{req}");
        assert!(req.to_ascii_lowercase().contains("host: 127.0.0.1:"), "{req}");
        assert!(!req.to_ascii_lowercase().contains("content-length"), "{req}");
    }

    #[test]
    fn post_sends_the_body() {
        let server = Server::start(vec![ok("noted")]);
        let t = tool(Method::Post, &server.url("/notes"), Some(5000), 0);
        assert_eq!(t.call(&[], Some("searched: é")).unwrap(), "noted");
        let req = &server.join()[0];
        assert!(req.starts_with("POST /notes HTTP/1.1\r\n"), "{req}");
        assert!(req.to_ascii_lowercase().contains("content-length: 12\r\n"), "{req}");
        assert!(req.to_ascii_lowercase().contains("content-type: text/plain; charset=utf-8\r\n"), "{req}");
        assert!(req.ends_with("\r\n\r\nsearched: é"), "{req}");
        // An absent body is empty.
        let server = Server::start(vec![ok("")]);
        tool(Method::Post, &server.url("/n"), Some(5000), 0).call(&[], None).unwrap();
        assert!(server.join()[0].to_ascii_lowercase().contains("content-length: 0\r\n"));
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
    fn a_failed_status_shows_the_start_of_the_body() {
        let long = format!("{}é{}", "x".repeat(ERROR_BODY_SHOWN - 1), "y".repeat(5000));
        let responses = [
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 27\r\n\r\n{\"error\": \"bad token\"}\nnext".to_string(),
            format!("HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n{long}", long.len()),
        ];
        let server = Server::start(responses.iter().map(|r| r.clone().into_bytes()).collect());
        let t = tool(Method::Get, &server.url("/"), Some(5000), 0);
        assert_eq!(t.call(&[], None).unwrap_err().cause, "HTTP/1.1 401 Unauthorized: {\"error\": \"bad token\"}\\nnext");
        // Capped at a character boundary, the cut marked.
        assert_eq!(t.call(&[], None).unwrap_err().cause, format!("HTTP/1.1 500 Internal Server Error: {}…", "x".repeat(ERROR_BODY_SHOWN - 1)));
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
            // Found by the client's parser (two headers) or by `check_content_length` (a list).
            assert!(err.cause.to_ascii_lowercase().contains("conflicting content-length headers"), "{err}");
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
        assert_eq!(err.cause, "the response body ended after 3 of 10 bytes");
        server.join();
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
