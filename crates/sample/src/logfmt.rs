//! Log-format strings (HAProxy 2.6's `parse_logformat_string()` and `sess_build_logline()`):
//! compiled once, rendered per log line or per rule evaluation.
//!
//! Owns [`LogFormat`] (literal text, `%alias` variables with `%{+Q,-X}` flags, `%[sample]`
//! expressions, `%%`, `%o` default flags), the values aliases print ([`LogInfo`], supplied by
//! the runtime through [`SampleCtx::log_info`]), broken-down dates ([`Tm`]) and the standard
//! formats as constants. Two modes exist as upstream: the `log-format` directive (spaces are
//! separators and merge, absent values print `-`, samples are copied raw) and header values /
//! `lf-string` (spaces are text, absent samples print nothing, control characters in samples
//! are `%XX`-encoded so a header can never be split).

use crate::ctx::{Dir, SampleCtx};
use crate::expr::SampleExpr;
use crate::fetch::{uri_path, Where};
use crate::smp::HEX_UPPER;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

/// `option httplog` (`default_http_log_format`).
pub const HTTP_LOG_FORMAT: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// `option httplog clf` (`clf_http_log_format`).
pub const CLF_LOG_FORMAT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
/// `option tcplog` (`default_tcp_log_format`).
pub const TCP_LOG_FORMAT: &str =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
/// The default log (no `option httplog`/`tcplog`, no `log-format`): one line when a
/// connection is accepted, `Connect from <ci>:<cp> to <fi>:<fp> (<frontend>/HTTP)`. Compile it
/// with [`LogFormat::compile`] and send it at accept time.
pub const CONNECT_LOG_FORMAT_HTTP: &str = "Connect from %ci:%cp to %fi:%fp (%f/HTTP)";
/// Same as [`CONNECT_LOG_FORMAT_HTTP`] for `mode tcp` frontends.
pub const CONNECT_LOG_FORMAT_TCP: &str = "Connect from %ci:%cp to %fi:%fp (%f/TCP)";

/// A broken-down date: calendar fields plus the offset from UTC they were computed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tm {
    /// Full year (e.g. 2026).
    pub year: i32,
    /// 0 = January.
    pub mon: u8,
    /// 1..=31.
    pub mday: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub min: u8,
    /// 0..=60.
    pub sec: u8,
    /// Seconds east of UTC (`tm_gmtoff`).
    pub gmtoff: i32,
}

impl Tm {
    /// The UTC date of a Unix timestamp.
    pub fn gmt(unix_secs: i64) -> Tm {
        let days = unix_secs.div_euclid(86400);
        let rem = unix_secs.rem_euclid(86400);
        // civil_from_days (Howard Hinnant's algorithm)
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + (m <= 2) as i64;
        Tm {
            year: y as i32,
            mon: (m - 1) as u8,
            mday: d as u8,
            hour: (rem / 3600) as u8,
            min: (rem / 60 % 60) as u8,
            sec: (rem % 60) as u8,
            gmtoff: 0,
        }
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let s = v.to_string();
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// `dd/Mon/yyyy:HH:MM:SS`
fn push_date(out: &mut Vec<u8>, t: &Tm) {
    push_num(out, t.mday as u64, 2);
    out.push(b'/');
    out.extend_from_slice(MONTHS[(t.mon % 12) as usize]);
    out.push(b'/');
    push_num(out, t.year.max(0) as u64, 4);
    out.push(b':');
    push_num(out, t.hour as u64, 2);
    out.push(b':');
    push_num(out, t.min as u64, 2);
    out.push(b':');
    push_num(out, t.sec as u64, 2);
}

/// ` +hhmm`
fn push_offset(out: &mut Vec<u8>, gmtoff: i32) {
    out.push(b' ');
    out.push(if gmtoff < 0 { b'-' } else { b'+' });
    let a = gmtoff.unsigned_abs();
    push_num(out, (a / 3600) as u64, 2);
    push_num(out, (a / 60 % 60) as u64, 2);
}

/// What log-format aliases print besides samples: HAProxy's `struct strm_logs`, counters and
/// names, filled by the runtime. Times are milliseconds since the accept date, `-1` when the
/// event did not happen (HAProxy's conventions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInfo<'a> {
    /// `%ci %cp`.
    pub client: Option<SocketAddr>,
    /// `%fi %fp`: the address the client connected to.
    pub frontend: Option<SocketAddr>,
    /// `%bi %bp`: local address of the server connection.
    pub backend_src: Option<SocketAddr>,
    /// `%si %sp`: the server address connected to.
    pub server: Option<SocketAddr>,
    /// `%f`.
    pub fe_name: &'a str,
    /// `%ft` gets a `~` suffix when the frontend connection uses SSL.
    pub fe_ssl: bool,
    /// `%b`: the backend, or the frontend when none was selected.
    pub be_name: &'a str,
    /// `%s`: the server (or applet name); `None` prints `<NOSRV>`.
    pub srv_name: Option<&'a str>,
    /// `%ST`: `-1` when no response status is known.
    pub status: i32,
    /// `%B`: bytes sent to the client.
    pub bytes_out: u64,
    /// `%U`: bytes received from the client.
    pub bytes_in: u64,
    /// `option logasap` logging before the end: `%B %Ta %Tt %Tu` get a `+` prefix.
    pub logasap: bool,
    /// HTTP mode (`%Td` is computed from the response time, else from the connect time).
    pub http_mode: bool,
    /// `%Th`.
    pub t_handshake: i64,
    /// `%Ti`.
    pub t_idle: i64,
    /// `%Tq`: end of request headers.
    pub t_request: i64,
    /// Leaving the queue.
    pub t_queue: i64,
    /// Server connection established.
    pub t_connect: i64,
    /// Response headers received.
    pub t_data: i64,
    /// `%Tt`: end of the stream.
    pub t_close: i64,
    /// Accept date, Unix seconds (`%t %T %Tl %Ts`).
    pub accept_secs: i64,
    /// Accept date, microseconds within the second (`%ms`).
    pub accept_usec: u32,
    /// `%tsc`: termination cause, session state, cookie flags (`%ts` prints the first two).
    pub term_state: [u8; 4],
    /// `%ac`: connections on the process.
    pub actconn: u64,
    /// `%fc`: connections on the frontend.
    pub feconn: u64,
    /// `%bc`: connections on the backend.
    pub beconn: u64,
    /// `%sc`: connections on the server.
    pub srv_conn: u64,
    /// `%rc`, with a `+` prefix when `redispatched`.
    pub retries: i64,
    /// The stream was redispatched to another server.
    pub redispatched: bool,
    /// `%sq`: position in the server queue.
    pub srv_queue: i64,
    /// `%bq`: position in the backend queue.
    pub be_queue: i64,
    /// The request line as captured when received (`txn->uri`), for `%r %HM %HU %HP %HPO %HQ
    /// %HV`; `None` prints `<BADREQ>`.
    pub req_line: Option<&'a [u8]>,
    /// `%CC`: captured request cookie.
    pub req_cookie: Option<&'a [u8]>,
    /// `%CS`: captured response cookie.
    pub res_cookie: Option<&'a [u8]>,
    /// `%rt`: stream (request) counter.
    pub req_counter: u64,
    /// `%lc`: frontend log counter.
    pub log_counter: u64,
    /// `%pid`.
    pub pid: u32,
    /// `%H`.
    pub hostname: &'a str,
    /// `%ID`.
    pub unique_id: Option<&'a [u8]>,
}

impl Default for LogInfo<'_> {
    fn default() -> Self {
        LogInfo {
            client: None,
            frontend: None,
            backend_src: None,
            server: None,
            fe_name: "",
            fe_ssl: false,
            be_name: "",
            srv_name: None,
            status: -1,
            bytes_out: 0,
            bytes_in: 0,
            logasap: false,
            http_mode: true,
            t_handshake: 0,
            t_idle: -1,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_data: -1,
            t_close: 0,
            accept_secs: 0,
            accept_usec: 0,
            term_state: *b"----",
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            be_queue: 0,
            req_line: None,
            req_cookie: None,
            res_cookie: None,
            req_counter: 0,
            log_counter: 0,
            pid: 0,
            hostname: "",
            unique_id: None,
        }
    }
}

/// Log-format variables (`%ci`, `%Tt`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alias {
    Global,
    Ci,
    Cp,
    Fi,
    Fp,
    Bi,
    Bp,
    Si,
    Sp,
    Ft,
    F,
    B,
    S,
    St,
    BytesOut,
    BytesIn,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Td,
    Ta,
    Tt,
    Tu,
    Date,
    DateGmt,
    DateLocal,
    Ts,
    Ms,
    ReqDate,
    ReqDateGmt,
    ReqDateLocal,
    TermState,
    TermStateCk,
    Ac,
    Fc,
    Bc,
    Sc,
    Rc,
    Sq,
    Bq,
    Hr,
    Hrl,
    Hs,
    Hsl,
    Req,
    HM,
    HU,
    HP,
    Hpo,
    HQ,
    HV,
    CC,
    CS,
    Hostname,
    Id,
    Pid,
    Rt,
    Lc,
    SslC,
    SslV,
}

const ALIASES: &[(&str, Alias)] = &[
    ("o", Alias::Global),
    ("B", Alias::BytesOut),
    ("CC", Alias::CC),
    ("CS", Alias::CS),
    ("H", Alias::Hostname),
    ("HM", Alias::HM),
    ("HP", Alias::HP),
    ("HPO", Alias::Hpo),
    ("HQ", Alias::HQ),
    ("HU", Alias::HU),
    ("HV", Alias::HV),
    ("ID", Alias::Id),
    ("ST", Alias::St),
    ("T", Alias::DateGmt),
    ("Ta", Alias::Ta),
    ("Tc", Alias::Tc),
    ("Td", Alias::Td),
    ("Th", Alias::Th),
    ("Ti", Alias::Ti),
    ("Tl", Alias::DateLocal),
    ("Tq", Alias::Tq),
    ("TR", Alias::TR),
    ("Tr", Alias::Tr),
    ("Ts", Alias::Ts),
    ("Tt", Alias::Tt),
    ("Tu", Alias::Tu),
    ("Tw", Alias::Tw),
    ("U", Alias::BytesIn),
    ("ac", Alias::Ac),
    ("b", Alias::B),
    ("bc", Alias::Bc),
    ("bi", Alias::Bi),
    ("bp", Alias::Bp),
    ("bq", Alias::Bq),
    ("ci", Alias::Ci),
    ("cp", Alias::Cp),
    ("f", Alias::F),
    ("fc", Alias::Fc),
    ("fi", Alias::Fi),
    ("fp", Alias::Fp),
    ("ft", Alias::Ft),
    ("hr", Alias::Hr),
    ("hrl", Alias::Hrl),
    ("hs", Alias::Hs),
    ("hsl", Alias::Hsl),
    ("lc", Alias::Lc),
    ("ms", Alias::Ms),
    ("pid", Alias::Pid),
    ("r", Alias::Req),
    ("rc", Alias::Rc),
    ("rt", Alias::Rt),
    ("s", Alias::S),
    ("sc", Alias::Sc),
    ("si", Alias::Si),
    ("sp", Alias::Sp),
    ("sq", Alias::Sq),
    ("sslc", Alias::SslC),
    ("sslv", Alias::SslV),
    ("t", Alias::Date),
    ("tr", Alias::ReqDate),
    ("trg", Alias::ReqDateGmt),
    ("trl", Alias::ReqDateLocal),
    ("ts", Alias::TermState),
    ("tsc", Alias::TermStateCk),
];

/// Node flags (`LOG_OPT_*`).
const OPT_MANDATORY: u8 = 1;
const OPT_QUOTE: u8 = 2;
const OPT_HEXA: u8 = 4;
const OPT_ESC: u8 = 8;

#[derive(Clone, Debug)]
enum Node {
    Text(Box<[u8]>),
    /// A space in `log-format` mode: printed once between fields.
    Sep,
    Alias(Alias, u8),
    Expr(SampleExpr, u8),
}

/// Set once a compiled format prints the request line or a part of it (`%r %HM %HU %HP
/// %HPO %HQ %HV`): upstream's `LW_REQ` in a proxy's `to_log`, kept here for the whole
/// configuration. The muxes capture each request line as received only when this is set,
/// since formats may print it after rules have rewritten the request.
static REQ_LINE_WANTED: AtomicBool = AtomicBool::new(false);

/// True when some compiled format prints the request line (see [`REQ_LINE_WANTED`]); it
/// stays true for the life of the process.
pub fn req_line_wanted() -> bool {
    REQ_LINE_WANTED.load(Ordering::Relaxed)
}

/// A compiled log-format string.
#[derive(Clone, Debug)]
pub struct LogFormat {
    nodes: Vec<Node>,
    /// Header / `lf-string` mode.
    http: bool,
    /// True when an alias needs [`LogInfo`].
    needs_info: bool,
}

fn apply_flags(arg: &str, mut opts: u8) -> u8 {
    for item in arg.split(',') {
        let (add, name) = match item.as_bytes().first() {
            Some(b'+') => (true, &item[1..]),
            Some(b'-') => (false, &item[1..]),
            _ => continue,
        };
        let bit = match name {
            "M" => OPT_MANDATORY,
            "Q" => OPT_QUOTE,
            "X" => OPT_HEXA,
            "E" => OPT_ESC,
            _ => continue,
        };
        if add {
            opts |= bit;
        } else {
            opts &= !bit;
        }
    }
    opts
}

impl LogFormat {
    /// Compiles a `log-format` directive's string for a frontend: spaces separate fields,
    /// absent values print `-`, samples are evaluated when the log is emitted (only fetches
    /// valid there are accepted, as upstream).
    ///
    /// # Errors
    /// HAProxy's message, e.g. `no such format variable 'zz'. If you wanted to emit the '%'
    /// character verbatim, you need to use '%%'`.
    pub fn compile(s: &str) -> Result<LogFormat, String> {
        Self::compile_with(s, false, Where::LOG)
    }

    /// Compiles a header value or `lf-string` format evaluated at place `w` (a rule).
    pub(crate) fn compile_http(s: &str, w: Where) -> Result<LogFormat, String> {
        Self::compile_with(s, true, w)
    }

    fn compile_with(fmt: &str, http: bool, w: Where) -> Result<LogFormat, String> {
        let mut nodes = Vec::new();
        Self::compile_into(fmt, http, w, &mut nodes)
    }

    /// [`LogFormat::compile`], telling on failure whether the part read before the error
    /// produced any node: upstream keeps those in the proxy's format (and then warns when
    /// the frontend has no log target).
    ///
    /// # Errors
    /// HAProxy's message and whether nodes were produced before the error.
    pub fn compile_partial(s: &str) -> Result<LogFormat, (String, bool)> {
        let mut nodes = Vec::new();
        Self::compile_into(s, false, Where::LOG, &mut nodes).map_err(|e| (e, !nodes.is_empty()))
    }

    fn compile_into(
        fmt: &str,
        http: bool,
        w: Where,
        nodes: &mut Vec<Node>,
    ) -> Result<LogFormat, String> {
        let b = fmt.as_bytes();
        let mut text: Vec<u8> = Vec::new();
        let mut defopts: u8 = if http { 0 } else { OPT_MANDATORY };
        let flush = |text: &mut Vec<u8>, nodes: &mut Vec<Node>| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text).into()));
            }
        };
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b' ' && !http {
                flush(&mut text, nodes);
                nodes.push(Node::Sep);
                i += 1;
                continue;
            }
            if c != b'%' {
                text.push(c);
                i += 1;
                continue;
            }
            let mut j = i + 1;
            let Some(&n) = b.get(j) else {
                return Err("truncated line after '%'".into());
            };
            let mut arg: Option<&str> = None;
            if n == b'%' {
                text.push(b'%');
                i = j + 1;
                continue;
            }
            if n == b'{' {
                let Some(k) = fmt[j + 1..].find('}') else {
                    return Err(format!("truncated line after '{}'", &fmt[j + 1..]));
                };
                let a = &fmt[j + 1..j + 1 + k];
                arg = Some(a);
                j = j + 1 + k + 1;
                match b.get(j) {
                    Some(&x) if x == b'[' || x.is_ascii_alphanumeric() => {}
                    _ => {
                        return Err(format!(
                            "parse argument modifier without variable name near '%{{{a}}}'"
                        ))
                    }
                }
            } else if n.is_ascii_digit() || n == b' ' || n == b'\t' {
                return Err(format!("unexpected variable name near '{}' at position {} line : '{fmt}'. Maybe you want to write a single '%', use the syntax '%%'", n as char, j));
            } else if n != b'[' && !n.is_ascii_alphabetic() {
                // a lone '%' before another character is dropped
                i = j;
                continue;
            }
            flush(&mut text, nodes);
            let opts = match arg {
                Some(a) => apply_flags(a, defopts),
                None => defopts,
            };
            if b[j] == b'[' {
                let rest = &fmt[j + 1..];
                let words = [rest.to_string()];
                let (expr, end) = SampleExpr::parse(&words, true)
                    .map_err(|e| format!("failed to parse sample expression <{rest}> : {e}"))?;
                if !expr.class().valid_at(w) {
                    return Err(format!("sample fetch <{rest}> may not be reliably used here because it needs '{}' which is not available here", expr.class().source_name()));
                }
                let stop = j + 1 + end.off;
                match b.get(stop) {
                    Some(b']') => {}
                    Some(&x) if x.is_ascii_graphic() || x == b' ' => {
                        return Err(format!(
                            "expected ']' after '{}', but found '{}'",
                            &fmt[j + 1..stop],
                            x as char
                        ))
                    }
                    _ => return Err(format!("missing ']' after '{}'", &fmt[j + 1..stop])),
                }
                nodes.push(Node::Expr(expr, opts));
                i = stop + 1;
            } else {
                let len = b[j..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .unwrap_or(b.len() - j);
                let name = &fmt[j..j + len];
                let Some(&(_, alias)) = ALIASES.iter().find(|(n, _)| *n == name) else {
                    return Err(format!("no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"));
                };
                if alias == Alias::Global {
                    defopts = opts;
                } else {
                    nodes.push(Node::Alias(alias, opts));
                }
                i = j + len;
            }
        }
        flush(&mut text, nodes);
        let needs_info = nodes.iter().any(|n| matches!(n, Node::Alias(..)));
        let f = LogFormat {
            nodes: std::mem::take(nodes),
            http,
            needs_info,
        };
        if f.prints_request_line() {
            REQ_LINE_WANTED.store(true, Ordering::Relaxed);
        }
        Ok(f)
    }

    /// True when the format prints the request line or a part of it (`%r %HM %HU %HP %HPO
    /// %HQ %HV`), which must then be captured as received.
    pub fn prints_request_line(&self) -> bool {
        self.nodes.iter().any(|n| {
            matches!(
                n,
                Node::Alias(
                    Alias::Req
                        | Alias::HM
                        | Alias::HU
                        | Alias::HP
                        | Alias::Hpo
                        | Alias::HQ
                        | Alias::HV,
                    _
                )
            )
        })
    }

    /// True when the format has no node at all (an empty string).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// True when the format is no more than one plain text (upstream then takes the
    /// original string as a name, e.g. in `use_backend`).
    pub fn is_plain_text(&self) -> bool {
        matches!(self.nodes.as_slice(), [] | [Node::Text(_)])
    }

    /// Renders a log line into `out` (appending). Samples are evaluated in the request
    /// direction. Never fails: absent values print `-` (or nothing, per flags).
    pub fn render(&self, ctx: &dyn SampleCtx, out: &mut Vec<u8>) {
        self.render_dir(ctx, Dir::Req, out)
    }

    /// Renders with samples evaluated in direction `dir` (rules).
    pub(crate) fn render_dir(&self, ctx: &dyn SampleCtx, dir: Dir, out: &mut Vec<u8>) {
        let info = if self.needs_info {
            Some(ctx.log_info())
        } else {
            None
        };
        let mut last_isspace = true;
        for node in &self.nodes {
            match node {
                Node::Text(t) => {
                    out.extend_from_slice(t);
                    last_isspace = false;
                }
                Node::Sep => {
                    if !last_isspace {
                        out.push(b' ');
                        last_isspace = true;
                    }
                }
                Node::Expr(e, opts) => {
                    let smp = e.eval(ctx, dir);
                    let bytes = smp.as_ref().map(|s| s.to_bytes());
                    if self.http {
                        encode_http(out, bytes.as_deref().unwrap_or_default(), *opts);
                    } else {
                        lf_text(out, bytes.as_deref(), *opts);
                    }
                    last_isspace = false;
                }
                Node::Alias(a, opts) => {
                    if let Some(info) = &info {
                        if render_alias(ctx, info, *a, *opts, out) {
                            last_isspace = false;
                        }
                    }
                }
            }
        }
    }
}

/// HAProxy's `lf_text_len()`: optional quotes, `\`-escaping of `"\]` with `E`, `-` for an
/// absent or empty value when mandatory and unquoted. Stops at a NUL byte like `strlcpy`.
fn lf_text(out: &mut Vec<u8>, v: Option<&[u8]>, opts: u8) {
    let q = opts & OPT_QUOTE != 0;
    if q {
        out.push(b'"');
    }
    match v.filter(|v| !v.is_empty()) {
        Some(v) => {
            let v = match v.iter().position(|&c| c == 0) {
                Some(z) => &v[..z],
                None => v,
            };
            if opts & OPT_ESC != 0 {
                for &c in v {
                    if matches!(c, b'"' | b'\\' | b']') {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
            } else {
                out.extend_from_slice(v);
            }
        }
        None => {
            if !q && opts & OPT_MANDATORY != 0 {
                out.push(b'-');
            }
        }
    }
    if q {
        out.push(b'"');
    }
}

fn push_escaped(out: &mut Vec<u8>, esc: u8, c: u8) {
    out.push(esc);
    out.push(HEX_UPPER[(c >> 4) as usize]);
    out.push(HEX_UPPER[(c & 15) as usize]);
}

/// `lf_encode_chunk()` with `http_encode_map`: control characters except TAB, and DEL, become
/// `%XX`; with `E`, `"\]` are `\`-escaped.
fn encode_http(out: &mut Vec<u8>, v: &[u8], opts: u8) {
    for &c in v {
        if c <= 0x08 || (0x0a..=0x1f).contains(&c) || c == 0x7f {
            push_escaped(out, b'%', c);
        } else if opts & OPT_ESC != 0 && matches!(c, b'"' | b'\\' | b']') {
            out.push(b'\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
}

/// `lf_encode_chunk()` with `url_encode_map` and `#`: non-printable bytes, `"` and `#` become
/// `#XX`; with `E`, `\` and `]` are `\`-escaped.
fn encode_url(out: &mut Vec<u8>, v: &[u8], opts: u8) {
    for &c in v {
        if !(32..127).contains(&c) || c == b'"' || c == b'#' {
            push_escaped(out, b'#', c);
        } else if opts & OPT_ESC != 0 && matches!(c, b'\\' | b']') {
            out.push(b'\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
}

fn lf_ip(out: &mut Vec<u8>, a: Option<SocketAddr>, opts: u8) {
    match a {
        Some(a) if opts & OPT_HEXA != 0 => match a.ip() {
            IpAddr::V4(v) => v.octets().iter().for_each(|&c| hex2(out, c)),
            IpAddr::V6(v) => v.octets().iter().for_each(|&c| hex2(out, c)),
        },
        Some(a) => lf_text(out, Some(a.ip().to_string().as_bytes()), opts),
        None => lf_text(out, None, opts),
    }
}

fn hex2(out: &mut Vec<u8>, c: u8) {
    out.push(HEX_UPPER[(c >> 4) as usize]);
    out.push(HEX_UPPER[(c & 15) as usize]);
}

fn lf_port(out: &mut Vec<u8>, a: Option<SocketAddr>, opts: u8) {
    match a {
        Some(a) if opts & OPT_HEXA != 0 => {
            out.extend_from_slice(format!("{:04X}", a.port()).as_bytes())
        }
        Some(a) => out.extend_from_slice(a.port().to_string().as_bytes()),
        None => lf_text(out, None, opts),
    }
}

fn num(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(v.to_string().as_bytes());
}

fn is_spht(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Splits a captured request line: (method, uri, version, number of blanks after the method).
fn split_req_line(l: &[u8]) -> (&[u8], &[u8], &[u8], usize) {
    let m_end = l.iter().position(|&c| is_spht(c)).unwrap_or(l.len());
    let mut u = m_end;
    while u < l.len() && is_spht(l[u]) {
        u += 1;
    }
    let nspaces = u - m_end;
    let u_end = u + l[u..]
        .iter()
        .position(|&c| is_spht(c))
        .unwrap_or(l.len() - u);
    let mut v = u_end;
    while v < l.len() && is_spht(l[v]) {
        v += 1;
    }
    (&l[..m_end], &l[u..u_end], &l[v..], nspaces)
}

/// Renders one alias; returns false when it printed nothing on purpose (captures, `%o`).
fn render_alias(ctx: &dyn SampleCtx, i: &LogInfo<'_>, a: Alias, o: u8, out: &mut Vec<u8>) -> bool {
    let hexa = o & OPT_HEXA != 0;
    let plus = |out: &mut Vec<u8>| {
        if i.logasap {
            out.push(b'+');
        }
    };
    let t_request = i.t_request;
    match a {
        Alias::Global | Alias::Hr | Alias::Hrl | Alias::Hs | Alias::Hsl => return false,
        Alias::Ci => lf_ip(out, i.client, o),
        Alias::Cp => lf_port(out, i.client, o),
        Alias::Fi => lf_ip(out, i.frontend, o),
        Alias::Fp => lf_port(out, i.frontend, o),
        Alias::Bi => lf_ip(out, i.backend_src, o),
        Alias::Bp => lf_port(out, i.backend_src, o),
        Alias::Si => lf_ip(out, i.server, o),
        Alias::Sp => lf_port(out, i.server, o),
        Alias::Ft => {
            if i.fe_ssl {
                let mut s = i.fe_name.as_bytes().to_vec();
                s.push(b'~');
                lf_text(out, Some(&s), o)
            } else {
                lf_text(out, Some(i.fe_name.as_bytes()), o)
            }
        }
        Alias::F => lf_text(out, Some(i.fe_name.as_bytes()), o),
        Alias::B => lf_text(out, Some(i.be_name.as_bytes()), o),
        Alias::S => lf_text(out, Some(i.srv_name.unwrap_or("<NOSRV>").as_bytes()), o),
        Alias::St => num(out, i.status as i64),
        Alias::BytesOut => {
            plus(out);
            num(out, i.bytes_out as i64)
        }
        Alias::BytesIn => num(out, i.bytes_in as i64),
        Alias::Th => num(out, i.t_handshake),
        Alias::Ti => num(out, i.t_idle),
        Alias::Tq => num(out, t_request),
        Alias::TR => num(
            out,
            if t_request >= 0 {
                t_request.wrapping_sub(i.t_idle).wrapping_sub(i.t_handshake)
            } else {
                -1
            },
        ),
        Alias::Tw => num(
            out,
            if i.t_queue >= 0 {
                i.t_queue.wrapping_sub(t_request)
            } else {
                -1
            },
        ),
        Alias::Tc => num(
            out,
            if i.t_connect >= 0 {
                i.t_connect.wrapping_sub(i.t_queue)
            } else {
                -1
            },
        ),
        Alias::Tr => num(
            out,
            if i.t_data >= 0 {
                i.t_data.wrapping_sub(i.t_connect)
            } else {
                -1
            },
        ),
        Alias::Td => num(
            out,
            if i.http_mode {
                if i.t_data >= 0 {
                    i.t_close.wrapping_sub(i.t_data)
                } else {
                    -1
                }
            } else if i.t_connect >= 0 {
                i.t_close.wrapping_sub(i.t_connect)
            } else {
                -1
            },
        ),
        Alias::Ta => {
            plus(out);
            num(
                out,
                i.t_close.wrapping_sub(if i.t_idle >= 0 {
                    i.t_idle.wrapping_add(i.t_handshake)
                } else {
                    0
                }),
            )
        }
        Alias::Tt => {
            plus(out);
            num(out, i.t_close)
        }
        Alias::Tu => {
            plus(out);
            num(out, i.t_close.wrapping_sub(i.t_idle.max(0)))
        }
        Alias::Date | Alias::DateGmt | Alias::DateLocal | Alias::Ts | Alias::Ms => {
            let secs = i.accept_secs;
            let ms = i.accept_usec / 1000;
            match a {
                Alias::Date => {
                    push_date(out, &ctx.local_tm(secs));
                    out.push(b'.');
                    push_num(out, ms as u64, 3);
                }
                Alias::DateGmt => {
                    push_date(out, &Tm::gmt(secs));
                    out.extend_from_slice(b" +0000");
                }
                Alias::DateLocal => {
                    let t = ctx.local_tm(secs);
                    push_date(out, &t);
                    push_offset(out, t.gmtoff);
                }
                Alias::Ts if hexa => out.extend_from_slice(format!("{:08X}", secs).as_bytes()),
                Alias::Ts => num(out, secs),
                _ if hexa => out.extend_from_slice(format!("{:02X}", ms).as_bytes()),
                _ => push_num(out, ms as u64, 3),
            }
        }
        Alias::ReqDate | Alias::ReqDateGmt | Alias::ReqDateLocal => {
            let add = if i.t_idle >= 0 {
                i.t_idle.wrapping_add(i.t_handshake)
            } else {
                0
            };
            let total_ms = i
                .accept_secs
                .saturating_mul(1000)
                .saturating_add((i.accept_usec / 1000) as i64)
                .saturating_add(add);
            let secs = total_ms.div_euclid(1000);
            let ms = total_ms.rem_euclid(1000);
            match a {
                Alias::ReqDate => {
                    push_date(out, &ctx.local_tm(secs));
                    out.push(b'.');
                    push_num(out, ms as u64, 3);
                }
                Alias::ReqDateGmt => {
                    push_date(out, &Tm::gmt(secs));
                    out.extend_from_slice(b" +0000");
                }
                _ => {
                    let t = ctx.local_tm(secs);
                    push_date(out, &t);
                    push_offset(out, t.gmtoff);
                }
            }
        }
        Alias::TermState => out.extend_from_slice(&i.term_state[..2]),
        Alias::TermStateCk => out.extend_from_slice(&i.term_state),
        Alias::Ac => num(out, i.actconn as i64),
        Alias::Fc => num(out, i.feconn as i64),
        Alias::Bc => num(out, i.beconn as i64),
        Alias::Sc => num(out, i.srv_conn as i64),
        Alias::Rc => {
            if i.redispatched {
                out.push(b'+');
            }
            num(out, i.retries)
        }
        Alias::Sq => num(out, i.srv_queue),
        Alias::Bq => num(out, i.be_queue),
        Alias::Req | Alias::HM | Alias::HU | Alias::HP | Alias::Hpo | Alias::HQ | Alias::HV => {
            let q = o & OPT_QUOTE != 0;
            if q {
                out.push(b'"');
            }
            let bad: &[u8] = b"<BADREQ>";
            let chunk: &[u8] = match i.req_line {
                None => bad,
                Some(l) => {
                    let (m, u, v, nsp) = split_req_line(l);
                    match a {
                        Alias::Req => l,
                        Alias::HM if m.len() == l.len() => bad,
                        Alias::HM => m,
                        Alias::HQ => {
                            let qm = l.iter().position(|&c| c == b'?').unwrap_or(l.len());
                            let e = qm
                                + l[qm..]
                                    .iter()
                                    .position(|&c| is_spht(c))
                                    .unwrap_or(l.len() - qm);
                            &l[qm..e]
                        }
                        _ if nsp == 0 => bad,
                        Alias::HU => u,
                        Alias::HP => match u.iter().position(|&c| c == b'?') {
                            Some(p) => &u[..p],
                            None => u,
                        },
                        Alias::Hpo => uri_path(u)
                            .map(|p| match p.iter().position(|&c| c == b'?') {
                                Some(x) => &p[..x],
                                None => p,
                            })
                            .unwrap_or_default(),
                        _ if v.is_empty() => b"HTTP/0.9",
                        _ => v,
                    }
                }
            };
            encode_url(out, chunk, o);
            if q {
                out.push(b'"');
            }
        }
        Alias::CC => lf_text(out, i.req_cookie, o),
        Alias::CS => lf_text(out, i.res_cookie, o),
        Alias::Hostname => lf_text(out, Some(i.hostname.as_bytes()), o),
        Alias::Id => lf_text(out, i.unique_id, o),
        Alias::Pid | Alias::Rt | Alias::Lc => {
            let v = match a {
                Alias::Pid => i.pid as u64,
                Alias::Rt => i.req_counter,
                _ => i.log_counter,
            };
            if hexa {
                out.extend_from_slice(format!("{:04X}", v).as_bytes())
            } else {
                num(out, v as i64)
            }
        }
        Alias::SslC | Alias::SslV => lf_text(out, None, o),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smp::Smp;
    use crate::testctx::TestCtx;
    use crate::vars::Scope;

    #[test]
    fn a_format_printing_the_request_line_asks_for_its_capture() {
        let no = LogFormat::compile("%ci %ST %{+Q}b %Tr").unwrap();
        assert!(!no.prints_request_line());
        for f in ["%r", "%{+Q}r", "x %HM", "%HU", "%HP", "%HPO", "%HQ", "%HV"] {
            assert!(LogFormat::compile(f).unwrap().prints_request_line(), "{f}");
        }
        assert!(LogFormat::compile_http("%[path] %HM", Where::FE_REQ)
            .unwrap()
            .prints_request_line());
        // the process-wide switch (one-way: only its turning on can be checked here)
        assert!(req_line_wanted());
    }

    fn render(fmt: &str, c: &TestCtx) -> String {
        let f = LogFormat::compile(fmt).unwrap();
        let mut out = Vec::new();
        f.render(c, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn render_http(fmt: &str, c: &TestCtx) -> Vec<u8> {
        let f = LogFormat::compile_http(fmt, Where::FE_REQ).unwrap();
        let mut out = Vec::new();
        f.render_dir(c, Dir::Req, &mut out);
        out
    }

    fn info() -> LogInfo<'static> {
        LogInfo {
            client: Some("127.0.0.1:57226".parse().unwrap()),
            frontend: Some("127.0.0.1:9100".parse().unwrap()),
            backend_src: Some("127.0.0.1:44800".parse().unwrap()),
            server: Some("127.0.0.1:9101".parse().unwrap()),
            fe_name: "fe",
            be_name: "be",
            srv_name: Some("s1"),
            status: 200,
            bytes_out: 55,
            bytes_in: 43,
            t_handshake: 0,
            t_idle: 0,
            t_request: 0,
            t_queue: 0,
            t_connect: 0,
            t_data: 0,
            t_close: 4,
            // 21/Nov/2026:08:33:26.828 UTC
            accept_secs: 1_795_250_006,
            accept_usec: 828_000,
            term_state: *b"----",
            actconn: 1,
            feconn: 1,
            req_line: Some(b"GET /p?q=1 HTTP/1.1"),
            pid: 12421,
            hostname: "vm",
            req_counter: 1,
            log_counter: 1,
            ..LogInfo::default()
        }
    }

    fn ctx() -> TestCtx {
        let mut c = TestCtx::get("/p?q=1", &[("host", "h")]);
        c.info = Some(info());
        c
    }

    #[test]
    fn httplog_line() {
        let c = ctx();
        assert_eq!(
            render(HTTP_LOG_FORMAT, &c),
            "127.0.0.1:57226 [21/Nov/2026:08:33:26.828] fe be/s1 0/0/0/0/4 200 55 - - ---- 1/1/0/0/0 0/0 \"GET /p?q=1 HTTP/1.1\""
        );
        // a denied request (as haproxy logged it)
        let mut c = ctx();
        let i = c.info.as_mut().unwrap();
        i.be_name = "fe";
        i.srv_name = None;
        i.server = None;
        i.backend_src = None;
        i.status = 403;
        i.bytes_out = 192;
        i.t_queue = -1;
        i.t_connect = -1;
        i.t_data = -1;
        i.t_close = 0;
        i.term_state = *b"PR--";
        i.req_line = Some(b"GET /deny HTTP/1.1");
        assert_eq!(
            render(HTTP_LOG_FORMAT, &c),
            "127.0.0.1:57226 [21/Nov/2026:08:33:26.828] fe fe/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 \"GET /deny HTTP/1.1\""
        );
        assert_eq!(
            render(TCP_LOG_FORMAT, &c),
            "127.0.0.1:57226 [21/Nov/2026:08:33:26.828] fe fe/<NOSRV> -1/-1/0 192 PR 1/1/0/0/0 0/0"
        );
        let i = c.info.as_mut().unwrap();
        i.req_line = None;
        i.t_request = -1;
        i.status = 400;
        assert!(render(HTTP_LOG_FORMAT, &c)
            .ends_with(" -1/-1/-1/-1/0 400 192 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""));
        assert_eq!(
            render(CONNECT_LOG_FORMAT_HTTP, &c),
            "Connect from 127.0.0.1:57226 to 127.0.0.1:9100 (fe/HTTP)"
        );
        assert!(render(CLF_LOG_FORMAT, &c).starts_with("127.0.0.1 - - [21/Nov/2026:08:33:26 +0000] \"<BADREQ>\" 400 192 \"\" \"\" 57226 828 \"fe\" \"fe\" \"<NOSRV>\""));
    }

    #[test]
    fn each_alias_with_flags() {
        let c = ctx();
        let r = |v: &str| render(&format!("%{v}|%{{+Q}}{v}|%{{+X}}{v}|%{{+E}}{v}"), &c);
        for (v, want) in [
            ("ci", "127.0.0.1|\"127.0.0.1\"|7F000001|127.0.0.1"),
            ("cp", "57226|57226|DF8A|57226"),
            ("fi", "127.0.0.1|\"127.0.0.1\"|7F000001|127.0.0.1"),
            ("fp", "9100|9100|238C|9100"),
            ("bi", "127.0.0.1|\"127.0.0.1\"|7F000001|127.0.0.1"),
            ("bp", "44800|44800|AF00|44800"),
            ("si", "127.0.0.1|\"127.0.0.1\"|7F000001|127.0.0.1"),
            ("sp", "9101|9101|238D|9101"),
            ("ft", "fe|\"fe\"|fe|fe"),
            ("f", "fe|\"fe\"|fe|fe"),
            ("b", "be|\"be\"|be|be"),
            ("s", "s1|\"s1\"|s1|s1"),
            ("ST", "200|200|200|200"),
            ("B", "55|55|55|55"),
            ("U", "43|43|43|43"),
            ("Tq", "0|0|0|0"),
            ("TR", "0|0|0|0"),
            ("Tw", "0|0|0|0"),
            ("Tc", "0|0|0|0"),
            ("Tr", "0|0|0|0"),
            ("Ta", "4|4|4|4"),
            ("Tt", "4|4|4|4"),
            ("Th", "0|0|0|0"),
            ("Ti", "0|0|0|0"),
            ("Td", "4|4|4|4"),
            ("Tu", "4|4|4|4"),
            ("tr", "21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828"),
            ("t", "21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828|21/Nov/2026:08:33:26.828"),
            ("Ts", "1795250006|1795250006|6B015756|1795250006"),
            ("ms", "828|828|33C|828"),
            ("ts", "--|--|--|--"),
            ("tsc", "----|----|----|----"),
            ("ac", "1|1|1|1"),
            ("fc", "1|1|1|1"),
            ("bc", "0|0|0|0"),
            ("sc", "0|0|0|0"),
            ("rc", "0|0|0|0"),
            ("sq", "0|0|0|0"),
            ("bq", "0|0|0|0"),
            ("r", "GET /p?q=1 HTTP/1.1|\"GET /p?q=1 HTTP/1.1\"|GET /p?q=1 HTTP/1.1|GET /p?q=1 HTTP/1.1"),
            ("HM", "GET|\"GET\"|GET|GET"),
            ("HU", "/p?q=1|\"/p?q=1\"|/p?q=1|/p?q=1"),
            ("HP", "/p|\"/p\"|/p|/p"),
            ("HPO", "/p|\"/p\"|/p|/p"),
            ("HQ", "?q=1|\"?q=1\"|?q=1|?q=1"),
            ("HV", "HTTP/1.1|\"HTTP/1.1\"|HTTP/1.1|HTTP/1.1"),
            ("CC", "-|\"\"|-|-"),
            ("CS", "-|\"\"|-|-"),
            ("rt", "1|1|0001|1"),
            ("lc", "1|1|0001|1"),
            ("ID", "-|\"\"|-|-"),
            ("pid", "12421|12421|3085|12421"),
            ("H", "vm|\"vm\"|vm|vm"),
            ("hr", "|||"),
            ("sslv", "-|\"\"|-|-"),
        ] {
            assert_eq!(r(v), want, "%{v}");
        }
        assert_eq!(
            render("%trg|%T|%trl|%Tl", &c),
            "21/Nov/2026:08:33:26 +0000|21/Nov/2026:08:33:26 +0000|21/Nov/2026:08:33:26 +0000|21/Nov/2026:08:33:26 +0000"
        );
        let mut c2 = ctx();
        c2.tz = 5 * 3600 + 1800;
        assert_eq!(
            render("%t %Tl %trl", &c2),
            "21/Nov/2026:14:03:26.828 21/Nov/2026:14:03:26 +0530 21/Nov/2026:14:03:26 +0530"
        );
        c2.tz = -3600;
        assert_eq!(render("%Tl", &c2), "21/Nov/2026:07:33:26 -0100");
        // %trg and %T stay in GMT whatever the local zone
        assert_eq!(
            render("%trg|%T", &c2),
            "21/Nov/2026:08:33:26 +0000|21/Nov/2026:08:33:26 +0000"
        );
    }

    /// The timers from their definitions (`%Tq` = idle + handshake + `%TR`; `%Td` is what
    /// is left after the response head, or after the connect in TCP), the accept date in
    /// seconds, the counters, the backend's source address and the server port, the
    /// two-letter termination state and the aliases without data (`%ID` unset, no SSL).
    #[test]
    fn timers_counters_and_addresses() {
        let mut c = ctx();
        let i = c.info.as_mut().unwrap();
        i.t_handshake = 2;
        i.t_idle = 5;
        i.t_request = 10;
        i.t_queue = 12;
        i.t_connect = 15;
        i.t_data = 20;
        i.t_close = 30;
        i.term_state = *b"SD--";
        i.log_counter = 7;
        i.req_counter = 9;
        assert_eq!(
            render(
                "%Th|%Ti|%Tq|%TR|%Tw|%Tc|%Tr|%Td|%Ta|%Tt|%Ts|%U|%bi:%bp|%sp|%lc|%rt|%ts|%ID|%sslc|%sslv",
                &c
            ),
            "2|5|10|3|2|3|5|10|23|30|1795250006|43|127.0.0.1:44800|9101|7|9|SD|-|-|-"
        );
        let i = c.info.as_mut().unwrap();
        i.unique_id = Some(b"abc");
        i.http_mode = false;
        assert_eq!(render("%ID %Td", &c), "abc 15");
        // %Td is -1 without a response head (HTTP) or a connection (TCP)
        let i = c.info.as_mut().unwrap();
        i.t_connect = -1;
        assert_eq!(render("%Td", &c), "-1");
        let i = c.info.as_mut().unwrap();
        i.http_mode = true;
        i.t_connect = 15;
        i.t_data = -1;
        assert_eq!(render("%Td", &c), "-1");
    }

    #[test]
    fn absent_and_special_values() {
        let mut c = ctx();
        let i = c.info.as_mut().unwrap();
        i.server = None;
        i.srv_name = None;
        i.logasap = true;
        i.redispatched = true;
        i.retries = 1;
        i.fe_ssl = true;
        i.t_idle = 5;
        i.t_handshake = 2;
        i.t_request = 10;
        assert_eq!(
            render("%si|%{+Q}sp|%s|%B|%Tt|%Ta|%Tu|%rc|%ft|%TR|%tr", &c),
            "-|\"\"|<NOSRV>|+55|+4|+-3|+-1|+1|fe~|3|21/Nov/2026:08:33:26.835"
        );
        let i = c.info.as_mut().unwrap();
        i.req_line = Some(b"GET /p\"a{]\\ HTTP/1.0");
        assert_eq!(
            render("%r|%{+E}r|%HU|%HQ", &c),
            "GET /p#22a{]\\ HTTP/1.0|GET /p#22a{\\]\\\\ HTTP/1.0|/p#22a{]\\|"
        );
        let i = c.info.as_mut().unwrap();
        i.req_line = Some(b"GET http://h/x/y?a HTTP/1.1");
        assert_eq!(
            render("%HU|%HP|%HPO|%HQ|%HV", &c),
            "http://h/x/y?a|http://h/x/y|/x/y|?a|HTTP/1.1"
        );
        let i = c.info.as_mut().unwrap();
        i.req_line = Some(b"GET /x");
        assert_eq!(render("%HV", &c), "HTTP/0.9");
        let i = c.info.as_mut().unwrap();
        i.req_line = Some(b"GET");
        assert_eq!(render("%HM|%HU", &c), "<BADREQ>|<BADREQ>");
    }

    #[test]
    fn samples_in_logs() {
        let mut c = ctx();
        c.txn.set("y", Smp::Str(b"\x01\x7f\x1fq%".to_vec().into()));
        let _ = Scope::Txn;
        assert_eq!(
            render("a  b %[var(txn.nope)] %{+Q}[method] %{+Q}[str()] %[int(5)] %{+X}[int(255)] %{+E}[str(a]b)] %{+Q}o %[method] %{-Q}[method] %ci %% %H %pid %hr %hs %hrl %hsl|%[always_true] %[var(txn.x)] %[var(txn.y)] %{+Q}[var(txn.y)] %[src,hex]", &c),
            "a b - \"GET\" \"\" 5 255 a\\]b \"GET\" GET \"127.0.0.1\" % \"vm\" 12421 |\"1\" \"\" \"\x01\x7f\x1fq%\" \"\x01\x7f\x1fq%\" \"7F000001\""
        );
        assert_eq!(render(" a ", &c), "a ");
        assert_eq!(render("%[str()]", &c), "-");
        // -M: an absent value prints nothing; without +E nothing is escaped (haproxy 2.6.12)
        assert_eq!(
            render(
                "%{-M}[str()]|%{-M}ci|%[str(a]b)]|%[str(a\\\\b)]|%[str(a\\\"b)]",
                &c
            ),
            "|127.0.0.1|a]b|a\\b|a\"b"
        );
        assert_eq!(
            render(
                "%{+Q,+X}ci %{+Q}o%{-Q}o %ci  %{+Q}o %{+X}o %ci %cp %{-X}ci",
                &c
            ),
            "7F000001 127.0.0.1 7F000001 DF8A \"127.0.0.1\""
        );
        assert_eq!(render("x%-y%!", &c), "x-y!");
    }

    #[test]
    fn http_mode() {
        let mut c = ctx();
        c.txn
            .set("y", Smp::Str(b"\x01\x7f\x1fq%\t\"".to_vec().into()));
        assert_eq!(
            render_http("  a  b %[req.fhdr(nope)]|%{+Q}[req.fhdr(nope)]|%{+Q}[method] %[var(txn.y)] x%%y %{+Q}ci %ci %{+X}ci %fi %{+Q}pid  ", &c),
            b"  a  b ||GET %01%7F%1Fq%\t\" x%y \"127.0.0.1\" 127.0.0.1 7F000001 127.0.0.1 12421  "
        );
        assert_eq!(
            render_http("%{+E}[var(txn.y)]|%{+M}[str()]|%{+M}ci", &c),
            b"%01%7F%1Fq%\t\\\"||127.0.0.1"
        );
        assert_eq!(render_http("%[req.hdr(host)]", &c), b"h");
        assert!(LogFormat::compile_http("", Where::FE_REQ)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn compile_errors() {
        let e = |s: &str| LogFormat::compile_http(s, Where::FE_REQ).unwrap_err();
        assert_eq!(
            e("%[frob]"),
            "failed to parse sample expression <frob]> : unknown fetch method 'frob'"
        );
        assert_eq!(e("%[path"), "missing ']' after 'path'");
        assert_eq!(
            e("%[str(a) ]"),
            "expected ']' after 'str(a)', but found ' '"
        );
        assert_eq!(
            e("%[str(a)x]"),
            "expected ']' after 'str(a)', but found 'x'"
        );
        assert_eq!(
            e("%{+Q}"),
            "parse argument modifier without variable name near '%{+Q}'"
        );
        assert_eq!(
            e("%{+Q} ci"),
            "parse argument modifier without variable name near '%{+Q}'"
        );
        assert_eq!(e("50% off"), "unexpected variable name near ' ' at position 3 line : '50% off'. Maybe you want to write a single '%', use the syntax '%%'");
        assert_eq!(e("a%\tb"), "unexpected variable name near '\t' at position 2 line : 'a%\tb'. Maybe you want to write a single '%', use the syntax '%%'");
        assert_eq!(e("%[str(a)\t]"), "missing ']' after 'str(a)'");
        assert_eq!(e("%[str(a)\u{e9}]"), "missing ']' after 'str(a)'");
        assert_eq!(e("%zz"), "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'");
        assert_eq!(e("a%"), "truncated line after '%'");
        assert_eq!(e("50%% %1"), "unexpected variable name near '1' at position 6 line : '50%% %1'. Maybe you want to write a single '%', use the syntax '%%'");
        assert_eq!(e("%[status]"), "sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here");
        assert_eq!(e("%[res.hdr(a)]"), "sample fetch <res.hdr(a)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here");
        assert_eq!(e("%[srv_name]"), "sample fetch <srv_name]> may not be reliably used here because it needs 'server' which is not available here");
        assert_eq!(e("%[bc_src_port]"), "sample fetch <bc_src_port]> may not be reliably used here because it needs 'server address' which is not available here");
        assert_eq!(LogFormat::compile("%[req.hdr(a)]").unwrap_err(), "sample fetch <req.hdr(a)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here");
        assert_eq!(LogFormat::compile("%[hdr(a)]").unwrap_err(), "sample fetch <hdr(a)]> may not be reliably used here because it needs 'HTTP request headers,HTTP response headers' which is not available here");
        // the request buffer is gone by the time of the log (haproxy 2.6.12)
        for f in ["req.len", "req.rdp_cookie_cnt"] {
            assert_eq!(LogFormat::compile(&format!("%[{f}]")).unwrap_err(), format!("sample fetch <{f}]> may not be reliably used here because it needs 'request buffer' which is not available here"));
        }
        assert!(LogFormat::compile_http("%[req.len]", Where::FE_SWITCH).is_ok());
        assert!(LogFormat::compile("%[method] %[status] %[be_name] %[srv_name]").is_ok());
        assert!(LogFormat::compile_http("%[hdr(a)]", Where::FE_RES).is_ok());
    }

    #[test]
    fn gmt_dates() {
        assert_eq!(
            Tm::gmt(0),
            Tm {
                year: 1970,
                mon: 0,
                mday: 1,
                hour: 0,
                min: 0,
                sec: 0,
                gmtoff: 0
            }
        );
        let t = Tm::gmt(951_782_400); // 2000-02-29
        assert_eq!((t.year, t.mon, t.mday), (2000, 1, 29));
        // the century and 400-year rules of the Gregorian calendar
        for (secs, date) in [
            (4_107_542_399, (2100, 1, 28, 23, 59, 59)),
            (4_107_542_400, (2100, 2, 1, 0, 0, 0)),
            (978_264_000, (2000, 11, 31, 12, 0, 0)),
            (978_307_200, (2001, 0, 1, 0, 0, 0)),
            (13_574_563_200, (2400, 1, 29, 0, 0, 0)),
            (13_569_465_599, (2399, 11, 31, 23, 59, 59)),
            (13_601_001_600, (2400, 11, 31, 0, 0, 0)),
            (-2_203_891_200, (1900, 2, 1, 0, 0, 0)),
            (-11_670_998_400, (1600, 1, 29, 0, 0, 0)),
            (3_981_312_000, (2096, 1, 29, 0, 0, 0)),
            (4_233_686_400, (2104, 1, 29, 0, 0, 0)),
        ] {
            let t = Tm::gmt(secs);
            assert_eq!(
                (t.year, t.mon, t.mday, t.hour, t.min, t.sec),
                date,
                "{secs}"
            );
        }
        let t = Tm::gmt(-1);
        assert_eq!(
            (t.year, t.mon, t.mday, t.hour, t.min, t.sec),
            (1969, 11, 31, 23, 59, 59)
        );
    }
}
