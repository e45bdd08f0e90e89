//! The wire side of the scenario runner: a buffered TCP reader with deadlines, an HTTP/1
//! message reader that follows the framing rules (content-length, chunked, close-delimited,
//! HEAD/1xx/204/304 without body), and the rendering of messages and bytes into transcript
//! lines.
//!
//! The reader is deliberately lenient: it never panics on what a proxy sends. Anything it
//! cannot parse becomes a `problem` line in the transcript, so that a broken response shows
//! up as a readable difference rather than as a harness error.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest line (start line, header, chunk size) accepted before giving up.
const MAX_LINE: usize = 128 * 1024;
/// Largest message head (all header lines) accepted.
const MAX_HEAD: usize = 512 * 1024;
/// Largest body collected; more is a problem.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Bodies up to this size are shown in full in transcripts; longer ones are summarized.
const SHOW_BODY: usize = 256;

/// Why a read stopped without data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The peer closed its side (FIN), or reset the connection: both read as "closed".
    Closed,
    /// Nothing arrived before the deadline.
    Timeout,
    /// The scenario ended (servers only).
    Stopped,
    /// Another I/O error.
    Error(String),
}

impl End {
    /// How this end reads in a transcript, after "...".
    pub fn describe(&self, waited: Duration) -> String {
        match self {
            End::Closed => "connection closed".to_string(),
            End::Timeout => format!("nothing within {} ms", waited.as_millis()),
            End::Stopped => "scenario ended".to_string(),
            End::Error(e) => format!("I/O error: {e}"),
        }
    }
}

/// A TCP stream with an input buffer, read with deadlines (and, for servers, a stop flag).
pub struct Wire {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    /// Set once EOF or a reset was seen: every later read ends the same way.
    end: Option<End>,
    /// Set when the scenario is over: blocked reads give up.
    stop: Option<Arc<AtomicBool>>,
    /// Set after an unparseable message: the stream has no known message boundaries left.
    pub desync: bool,
}

impl Wire {
    pub fn new(stream: TcpStream, stop: Option<Arc<AtomicBool>>) -> Wire {
        Wire {
            stream,
            buf: Vec::new(),
            pos: 0,
            end: None,
            stop,
            desync: false,
        }
    }

    /// Has the peer closed (EOF seen)? Only what was already read is considered.
    pub fn closed(&self) -> bool {
        self.end == Some(End::Closed)
    }

    /// Bytes received but not consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Consumes and returns everything buffered.
    pub fn take_pending(&mut self) -> Vec<u8> {
        let v = self.buf[self.pos..].to_vec();
        self.buf.clear();
        self.pos = 0;
        v
    }

    /// Reads more bytes into the buffer, waiting until `deadline` at most.
    pub fn fill(&mut self, deadline: Instant) -> Result<(), End> {
        if let Some(e) = &self.end {
            return Err(e.clone());
        }
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
            {
                return Err(End::Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(End::Timeout);
            }
            // Short slices so that the stop flag is noticed quickly.
            let slice = (deadline - now).clamp(Duration::from_millis(1), Duration::from_millis(50));
            if let Err(e) = self.stream.set_read_timeout(Some(slice)) {
                return Err(End::Error(e.to_string()));
            }
            match self.stream.read(&mut tmp) {
                Ok(0) => {
                    self.end = Some(End::Closed);
                    return Err(End::Closed);
                }
                Ok(n) => {
                    if self.pos > 0 && self.pos == self.buf.len() {
                        self.buf.clear();
                        self.pos = 0;
                    }
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                    ) =>
                {
                    self.end = Some(End::Closed);
                    return Err(End::Closed);
                }
                Err(e) => {
                    let e = End::Error(e.to_string());
                    self.end = Some(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// Reads one line ending in LF; returns it without the LF (a CR before it is kept, so
    /// that callers can tell CRLF from a bare LF).
    fn line(&mut self, deadline: Instant) -> Result<Vec<u8>, LineErr> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[self.pos + scanned..]
                .iter()
                .position(|&b| b == b'\n')
            {
                let end = self.pos + scanned + i;
                let line = self.buf[self.pos..end].to_vec();
                self.pos = end + 1;
                return Ok(line);
            }
            scanned = self.buf.len() - self.pos;
            if scanned > MAX_LINE {
                return Err(LineErr::TooLong);
            }
            if let Err(e) = self.fill(deadline) {
                return Err(LineErr::End(e, self.take_pending()));
            }
        }
    }

    /// Reads exactly `n` bytes. On failure returns what was read and why it stopped.
    pub fn exact(&mut self, n: usize, deadline: Instant) -> Result<Vec<u8>, (Vec<u8>, End)> {
        while self.buf.len() - self.pos < n {
            if let Err(e) = self.fill(deadline) {
                return Err((self.take_pending(), e));
            }
        }
        let v = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(v)
    }

    /// Reads until the peer closes; returns the bytes and how it ended (`End::Closed` is
    /// the normal end).
    pub fn until_close(&mut self, deadline: Instant, max: usize) -> (Vec<u8>, End) {
        loop {
            if self.buf.len() - self.pos > max {
                return (self.take_pending(), End::Error("too much data".into()));
            }
            if let Err(e) = self.fill(deadline) {
                return (self.take_pending(), e);
            }
        }
    }

    /// Waits until something is buffered or the stream ends.
    pub fn wait_data(&mut self, deadline: Instant) -> Result<(), End> {
        while self.pending().is_empty() {
            self.fill(deadline)?;
        }
        Ok(())
    }
}

enum LineErr {
    TooLong,
    /// The stream ended; carries the partial line.
    End(End, Vec<u8>),
}

/// Which side of the exchange a message is read on.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A request, read by a server.
    Request,
    /// A response, read by the client; `head` when it answers a HEAD request.
    Response { head: bool },
}

/// How a message's body is delimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body by rule (HEAD, 1xx, 204, 304, request without length).
    None,
    Length(usize),
    Chunked,
    /// Response without length: the body runs until the server closes.
    UntilClose,
}

/// One parsed HTTP/1 message, possibly incomplete (then `problem` says why).
#[derive(Debug, Default)]
pub struct Message {
    /// Request or status line, rendered.
    pub start: String,
    /// Header lines in order, rendered as received.
    pub headers: Vec<String>,
    /// `None` until the head was parsed.
    pub framing: Option<Framing>,
    pub body: Vec<u8>,
    /// Chunk extensions seen (`;...`), rendered.
    pub exts: Vec<String>,
    /// Trailer lines of a chunked body, rendered.
    pub trailers: Vec<String>,
    /// What went wrong, if anything; the message is then incomplete.
    pub problem: Option<String>,
    /// Set when the body has been read (or there is none).
    pub body_done: bool,
    /// Response status (0 for requests).
    pub status: u16,
    /// Request method (empty for responses).
    pub method: String,
}

/// The outcome of reading a message.
pub enum Read1 {
    /// Nothing at all arrived.
    Nothing(End),
    /// At least a byte arrived; the message may carry a problem.
    Msg(Box<Message>),
}

/// Reads a message head (start line and headers) and determines its framing.
pub fn read_head(w: &mut Wire, kind: Kind, deadline: Instant, waited: Duration) -> Read1 {
    let mut m = Message::default();
    if let Err(e) = w.wait_data(deadline) {
        return Read1::Nothing(e);
    }
    let mut size = 0;
    let mut first = true;
    loop {
        let line = match w.line(deadline) {
            Ok(l) => l,
            Err(LineErr::TooLong) => {
                m.problem = Some(format!("line longer than {MAX_LINE} bytes"));
                w.desync = true;
                return Read1::Msg(Box::new(m));
            }
            Err(LineErr::End(e, partial)) => {
                let what = if first { "start line" } else { "headers" };
                let mut p = format!("incomplete {what}: {}", e.describe(waited));
                if !partial.is_empty() {
                    p.push_str(&format!(", partial line \"{}\"", escape(&partial)));
                }
                m.problem = Some(p);
                w.desync = true;
                return Read1::Msg(Box::new(m));
            }
        };
        size += line.len() + 1;
        if size > MAX_HEAD {
            m.problem = Some(format!("head longer than {MAX_HEAD} bytes"));
            w.desync = true;
            return Read1::Msg(Box::new(m));
        }
        let text = render_line(&line);
        if first {
            first = false;
            m.start = text;
            let ok = match kind {
                Kind::Response { .. } => parse_status(&line).map(|s| m.status = s).is_some(),
                Kind::Request => parse_method(&line).map(|me| m.method = me).is_some(),
            };
            if !ok {
                m.problem = Some("invalid start line".into());
                w.desync = true;
                return Read1::Msg(Box::new(m));
            }
            continue;
        }
        if line.is_empty() || line == b"\r" {
            break;
        }
        m.headers.push(text);
    }
    match framing(&m, kind) {
        Ok(f) => {
            m.body_done = f == Framing::None;
            m.framing = Some(f);
        }
        Err(p) => {
            m.problem = Some(p);
            w.desync = true;
        }
    }
    Read1::Msg(Box::new(m))
}

/// Reads the body of `m` (whose head was read by [`read_head`]) per its framing.
pub fn read_body(w: &mut Wire, m: &mut Message, deadline: Instant, waited: Duration) {
    if m.body_done || m.problem.is_some() {
        return;
    }
    match m.framing.clone() {
        None | Some(Framing::None) => {}
        Some(Framing::Length(n)) => match w.exact(n, deadline) {
            Ok(b) => m.body = b,
            Err((b, e)) => {
                m.problem = Some(format!(
                    "body incomplete, {} of {n} bytes: {}",
                    b.len(),
                    e.describe(waited)
                ));
                m.body = b;
                w.desync = true;
            }
        },
        Some(Framing::UntilClose) => {
            let (b, e) = w.until_close(deadline, MAX_BODY);
            m.body = b;
            if e != End::Closed {
                m.problem = Some(format!(
                    "close-delimited body not closed after {} bytes: {}",
                    m.body.len(),
                    e.describe(waited)
                ));
                w.desync = true;
            }
        }
        Some(Framing::Chunked) => {
            if let Err(p) = read_chunked(w, m, deadline, waited) {
                m.problem = Some(p);
                w.desync = true;
            }
        }
    }
    m.body_done = true;
}

/// Reads a whole message: head, then body.
pub fn read_message(w: &mut Wire, kind: Kind, deadline: Instant, waited: Duration) -> Read1 {
    match read_head(w, kind, deadline, waited) {
        Read1::Msg(mut m) => {
            read_body(w, &mut m, deadline, waited);
            Read1::Msg(m)
        }
        nothing => nothing,
    }
}

fn read_chunked(
    w: &mut Wire,
    m: &mut Message,
    deadline: Instant,
    waited: Duration,
) -> Result<(), String> {
    let line_err = |e: LineErr, what: &str, got: usize| match e {
        LineErr::TooLong => format!("{what} longer than {MAX_LINE} bytes"),
        LineErr::End(e, partial) => format!(
            "chunked body incomplete after {got} bytes, in {what} \"{}\": {}",
            escape(&partial),
            e.describe(waited)
        ),
    };
    loop {
        let line = w
            .line(deadline)
            .map_err(|e| line_err(e, "chunk size line", m.body.len()))?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        let (size, ext) = match line.iter().position(|&b| b == b';') {
            Some(i) => (&line[..i], &line[i..]),
            None => (line, &line[line.len()..]),
        };
        if !ext.is_empty() {
            m.exts.push(render_line(ext));
        }
        let size = std::str::from_utf8(size)
            .unwrap_or("")
            .trim_matches([' ', '\t']);
        let n = if !size.is_empty() && size.len() <= 16 {
            u64::from_str_radix(size, 16).ok()
        } else {
            None
        };
        let Some(n) = n else {
            return Err(format!(
                "invalid chunk size line \"{}\" after {} body bytes",
                escape(line),
                m.body.len()
            ));
        };
        if n == 0 {
            loop {
                let t = w
                    .line(deadline)
                    .map_err(|e| line_err(e, "trailers", m.body.len()))?;
                if t.is_empty() || t == b"\r" {
                    return Ok(());
                }
                m.trailers.push(render_line(&t));
            }
        }
        if m.body.len() as u64 + n > MAX_BODY as u64 {
            return Err(format!("chunked body larger than {MAX_BODY} bytes"));
        }
        match w.exact(n as usize, deadline) {
            Ok(b) => m.body.extend_from_slice(&b),
            Err((b, e)) => {
                m.body.extend_from_slice(&b);
                return Err(format!(
                    "chunked body incomplete after {} bytes, inside a chunk of {n}: {}",
                    m.body.len(),
                    e.describe(waited)
                ));
            }
        }
        let crlf = w
            .line(deadline)
            .map_err(|e| line_err(e, "chunk end", m.body.len()))?;
        if !(crlf.is_empty() || crlf == b"\r") {
            return Err(format!(
                "chunk of {n} bytes not followed by CRLF but by \"{}\"",
                escape(&crlf)
            ));
        }
    }
}

/// `HTTP/x.y NNN ...` -> NNN.
fn parse_status(line: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(line).ok()?;
    let mut it = s.split(' ');
    if !it.next()?.starts_with("HTTP/") {
        return None;
    }
    let code = it.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// `METHOD URI HTTP/x.y` -> METHOD.
fn parse_method(line: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(line).ok()?;
    let s = s.strip_suffix('\r').unwrap_or(s);
    let parts: Vec<&str> = s.split(' ').collect();
    if parts.len() != 3 || parts[0].is_empty() || !parts[2].starts_with("HTTP/") {
        return None;
    }
    Some(parts[0].to_string())
}

/// Values of header `name` (lower-case) in `m`, split on commas, trimmed.
fn values(m: &Message, name: &str) -> Vec<String> {
    let mut v = Vec::new();
    for h in &m.headers {
        let Some((n, val)) = h.split_once(':') else {
            continue;
        };
        if n.trim().eq_ignore_ascii_case(name) {
            v.extend(val.split(',').map(|x| x.trim().to_ascii_lowercase()));
        }
    }
    v
}

/// The framing of `m` per RFC 9112 section 6.3, or why it has none.
fn framing(m: &Message, kind: Kind) -> Result<Framing, String> {
    if let Kind::Response { head } = kind {
        if head || m.status < 200 || m.status == 204 || m.status == 304 {
            return Ok(Framing::None);
        }
    }
    let te = values(m, "transfer-encoding");
    if !te.is_empty() {
        return match (te.last().map(String::as_str), kind) {
            (Some("chunked"), _) => Ok(Framing::Chunked),
            (_, Kind::Response { .. }) => Ok(Framing::UntilClose),
            (_, Kind::Request) => Err("transfer-encoding does not end in chunked".into()),
        };
    }
    let cl = values(m, "content-length");
    if let Some(first) = cl.first() {
        if cl.iter().any(|v| v != first) {
            return Err("conflicting content-length values".into());
        }
        return match first.parse::<usize>() {
            Ok(n) if first.bytes().all(|b| b.is_ascii_digit()) && n <= MAX_BODY => {
                Ok(Framing::Length(n))
            }
            _ => Err(format!("invalid content-length \"{first}\"")),
        };
    }
    Ok(match kind {
        Kind::Request => Framing::None,
        Kind::Response { .. } => Framing::UntilClose,
    })
}

/// Renders `m` as indented transcript lines: start line, headers in order (a `date` header's
/// value replaced by `<date>`, as it changes from run to run), body summary when the body was
/// read, chunk extensions, trailers, problem.
pub fn render_message(m: &Message, indent: &str, out: &mut Vec<String>) {
    if !m.start.is_empty() {
        out.push(format!("{indent}{}", shorten(&m.start)));
    }
    for h in &m.headers {
        match h.split_once(':') {
            Some((n, _)) if n.eq_ignore_ascii_case("date") => {
                out.push(format!("{indent}{n}: <date>"))
            }
            Some((n, v)) if h.len() > SHOW_BODY => out.push(format!(
                "{indent}{n}: <{}>",
                render_bytes(v.trim().as_bytes())
            )),
            _ => out.push(format!("{indent}{h}")),
        }
    }
    if m.body_done && m.problem.is_none() {
        out.push(format!("{indent}{}", render_body(m)));
    } else if m.body_done {
        // incomplete body: show what came
        if !m.body.is_empty() {
            out.push(format!("{indent}partial {}", render_body(m)));
        }
    }
    for e in &m.exts {
        out.push(format!("{indent}chunk extension: {e}"));
    }
    for t in &m.trailers {
        out.push(format!("{indent}trailer: {t}"));
    }
    if let Some(p) = &m.problem {
        out.push(format!("{indent}PROBLEM: {p}"));
    }
}

/// A rendered line, summarized as `<N bytes: ...>` when longer than [`SHOW_BODY`].
fn shorten(line: &str) -> String {
    if line.len() > SHOW_BODY {
        format!("<{}>", render_bytes(line.as_bytes()))
    } else {
        line.to_string()
    }
}

/// `body: <framing>, N bytes: "..."` or `body: none`.
pub fn render_body(m: &Message) -> String {
    let how = match &m.framing {
        None => return "body: ?".into(),
        Some(Framing::None) => return "body: none".into(),
        Some(Framing::Length(_)) => "content-length",
        Some(Framing::Chunked) => "chunked",
        Some(Framing::UntilClose) => "until close",
    };
    format!("body: {how}, {}", render_bytes(&m.body))
}

/// `N bytes: "..."`, summarized when long.
pub fn render_bytes(b: &[u8]) -> String {
    if b.len() <= SHOW_BODY {
        return format!("{} bytes: \"{}\"", b.len(), escape(b));
    }
    // a run of one repeated byte is the common generated payload
    if b.iter().all(|&c| c == b[0]) {
        return format!("{} bytes: \"{}\" x {}", b.len(), escape(&b[..1]), b.len());
    }
    format!(
        "{} bytes: \"{}\" ... \"{}\" (fnv1a64 {:016x})",
        b.len(),
        escape(&b[..48]),
        escape(&b[b.len() - 24..]),
        fnv1a(b)
    )
}

fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &c in b {
        h ^= c as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// A header or start line for a transcript: the CR of CRLF dropped, a bare LF flagged,
/// non-printable bytes escaped.
fn render_line(line: &[u8]) -> String {
    match line.strip_suffix(b"\r") {
        Some(l) => escape_plain(l),
        None => format!("{}  [bare LF]", escape_plain(line)),
    }
}

/// Escapes bytes for a transcript line outside quotes: printable ASCII as is.
fn escape_plain(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Escapes bytes for a quoted transcript string (the scenario files' escapes).
pub fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}
