//! A randomized stress test of object lifecycles: haproxy-rs (the debug binary, where a stale
//! arena handle still panics) is driven for a bounded time by clients and servers that
//! misbehave at every phase of a connection, and must never panic, never leak a connection
//! or a stream, and keep serving.
//!
//! The proxy runs one configuration ([`CONFIG`]): an HTTP/1 frontend and a `proto h2`
//! frontend with the same rules (`http-request return` and `deny`, `http-response deny`,
//! `http-after-response`), a `mode tcp` listen section and a `mode tcp` frontend/backend
//! pair; HTTP backends with every `http-reuse` mode, `retries`, `option redispatch`,
//! `retry-on all-retryable-errors`, `option http-server-close`, `option
//! http-buffer-request`, `option prefer-last-server`, server `maxconn` and `timeout queue`
//! (queues), a `backup` server, `pool-purge-delay`, `pool-max-conn`, two backends with
//! `proto h2` servers (`max-reuse`); `max-session-srv-conns`, a frontend `maxconn`;
//! timeouts of 150 to 400 ms; a stats socket; `log` to a UDP socket read here. The configuration is checked with `haproxy-rs
//! -c` and with upstream's `haproxy -c` (`common::upstream`).
//!
//! - **Servers** (threads here, on 127.0.0.1 port 0), each choosing per connection from
//!   `(seed, server, connection number)`: three chaotic HTTP/1 servers that close or reset
//!   at once, or serve each request as its path asks (`/<backend>/<behaviour>/<tag>`,
//!   [`BEHAVIOURS`]): correctly (keep-alive, `connection: close`, chunked,
//!   close-delimited, HTTP/1.0, 204), after a `100 Continue` or a `103`, a `101` to a
//!   WebSocket handshake (then an echo), slowly past
//!   `timeout server`, dripping, with a big body, a 503 (retried), a 418 (denied by
//!   `http-response deny`), early (before reading the body), not at all (close, reset),
//!   partially (head only, half a body, then close or reset), or with garbage; two chaotic
//!   HTTP/2 servers (the same in HTTP/2 terms, plus RST_STREAM, GOAWAY, flow control
//!   withheld, small windows and a concurrency limit of 1 or 2 streams); a well-behaved
//!   HTTP server (`be_good`); two chaotic TCP servers (echo, close, reset, garbage, stall,
//!   big output, half-close); a "blackhole" port (a full backlog: connects time out) and a
//!   refused port (bound, not listening).
//! - **Clients** ([`CLIENTS`] threads, each running random scripts one after the other):
//!   HTTP/1 (connect and close or reset at once; requests with and without bodies,
//!   content-length or chunked, `Expect: 100-continue`, sent whole or in pieces with pauses
//!   past `timeout http-request`, pipelined, keep-alive sequences; a request cut at a
//!   random byte of its request line, head or body, then closed, reset, half-closed or left
//!   to stall past the timeouts; a response read partially then abandoned), HTTP/2 (up to
//!   six streams, often to one backend so that they queue; some reset, sometimes followed
//!   by DATA; trailers; PING, PRIORITY, WINDOW_UPDATE, SETTINGS; a GOAWAY; flow control
//!   withheld; bodies cut; the TCP connection closed or reset mid-stream) and TCP (bytes
//!   sent in pieces, closed, reset or half-closed at random points).
//! - **An operator** on the stats socket puts chaotic servers in `maint`, `drain` or
//!   `ready` and reads `show stat`, `show info`, `show servers conn|state` meanwhile.
//! - **Checked** every 50 ms while the storm runs: the proxy is alive and its output has no
//!   `panicked`; every second: `show info` answers, and a request through each HTTP
//!   frontend gets its 200 from the well-behaved server. At the end: once every client is
//!   gone and the timeouts passed, `show info`'s `CurrConns` returns to its idle value and
//!   every `scur`/`qcur` of `show stat` to 0 (nothing leaked); requests through each
//!   frontend still get their answer (200, `return`, `deny`, an echo through the TCP listen
//!   section); the final requests are logged over UDP; and a storm of 10 s or more must
//!   have exercised retries, redispatches, reused server connections, queued streams,
//!   client and server aborts or timeouts, and replies of the proxy (`show stat` counters,
//!   the termination states and `Tw` of the logs). Last, a soft stop under load: SIGUSR1
//!   while clients run again; the proxy must exit with status 0, without a panic, soon
//!   after the last client left.
//!
//! Every randomly chosen action is written to a journal (`+seconds who: what`, where `who`
//! is `c<client>.<script>.<step>`, a server connection `srv c1#12`, `operator` or
//! `monitor`), saved in `target/tmp/stress-journal.txt` (the traffic logs beside it,
//! `stress-logs.txt`). A failure prints the reason, the seed, the proxy's output around its
//! panic (its `-d` trace before it, the message and backtrace) or its last lines, and the
//! journal's last lines before the failure.
//!
//! **Seed and replay.** The default seed varies per run (time-based): the test exists to
//! find what the fixed cases of the other tests miss, and each `make test` then explores new
//! scripts; a fixed seed would not even make two runs identical, since the interleaving of
//! a dozen client threads, the servers and the proxy's timers depends on timing. The seed
//! is printed on the real stderr at the start and in every failure message. Every script
//! is generated up front from `(seed, client, script number)` alone, so it can be
//! replayed: `HRS_STRESS_SEED=<n>` reruns the storm with the same scripts;
//! `HRS_STRESS_ONLY=c3.17,c1.4-9` runs only those scripts, one after the other on one
//! client (to find the shortest reproduction of a failure). Servers draw their
//! per-connection choices from `(seed, server, connection number)`, so in a replay of a few
//! scripts they may choose differently: the journal shows what each server connection did.
//!
//! Knobs (`common::knob`, refused under CI): `HRS_STRESS_SECS` (storm duration, default
//! [`DEFAULT_SECS`]), `HRS_STRESS_SEED`, `HRS_STRESS_ONLY`, `HRS_STRESS_CLIENTS`;
//! `HRS_STRESS_VERBOSE=1` prints the whole journal at the end; `HRS_KEEP=1` keeps the
//! proxy's temp directory (`haproxy.cfg`, `proxy.log`).
//!
//! Besides lifecycles, the storm checks that every 418 of the servers is turned into a 502
//! by `http-response deny if { status 418 }`: a response that reached the client before the
//! response rules ran (it happened after an interim `100 Continue`) fails the run.

mod common;
use common::rng::Rng;

use common::h2wire as h2;
use common::{knob, knob_on, ours_only, print_now, upstream};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Storm duration in seconds when `HRS_STRESS_SECS` is not set: with start-up, draining and
/// the final checks the test takes about 10 s more.
const DEFAULT_SECS: u64 = 30;
/// Client threads when `HRS_STRESS_CLIENTS` is not set.
const CLIENTS: usize = 12;
/// How long the proxy may take to get every connection closed once the clients are gone:
/// the longest timeout chain (queue, connect and retries, server) is about 1.5 s.
const DRAIN_LIMIT: Duration = Duration::from_secs(6);
/// How long a probe (a request that must succeed) may take.
const PROBE_LIMIT: Duration = Duration::from_secs(3);

/// The proxy's configuration. `@DIR@` is the run's temp directory, `@LOG@` the UDP log
/// port, `@FE_*@` inherited listeners, `@RULES@` the request rules of both HTTP frontends,
/// the other `@X@` the addresses of the servers played here.
const CONFIG: &str = r#"global
    maxconn 1000
    stats socket @DIR@/admin.sock level admin
    log 127.0.0.1:@LOG@ local0
defaults
    mode http
    log global
    option httplog
    timeout connect 150ms
    timeout client 300ms
    timeout server 300ms
    timeout http-request 250ms
    timeout http-keep-alive 150ms
    timeout queue 200ms
    retries 2
frontend fe_h1
    bind "fd@@FE_H1@"
    max-session-srv-conns 2
@RULES@
frontend fe_h2
    bind "fd@@FE_H2@" proto h2
@RULES@
listen li_tcp
    mode tcp
    option tcplog
    bind "fd@@LI_TCP@"
    timeout tunnel 400ms
    option redispatch
    server t1 @T1@ maxconn 2
    server t2 @T2@
    server rf @RF@
    server bh @BH@
frontend fe_tcp
    mode tcp
    option tcplog
    bind "fd@@FE_TCP@"
    maxconn 3
    default_backend be_tcp
backend be_never
    http-reuse never
    retries 3
    option redispatch
    retry-on all-retryable-errors
    server c1 @C1@ maxconn 2
    server c2 @C2@
    server bh @BH@
    server rf @RF@
backend be_safe
    http-reuse safe
    balance leastconn
    server c1 @C1@ pool-purge-delay 500ms
    server c2 @C2@ maxconn 3 pool-max-conn 2
    server c3 @C3@
    server c3b @C3@ backup
backend be_aggr
    http-reuse aggressive
    option http-buffer-request
    server c2 @C2@
    server c3 @C3@
    server rf @RF@
backend be_always
    http-reuse always
    balance static-rr
    option redispatch
    option prefer-last-server
    max-keep-alive-queue 1
    server c1 @C1@
    server c3 @C3@ maxconn 1
    server bh @BH@
backend be_close
    option http-server-close
    balance first
    server c3 @C3@ maxconn 2
    server c1 @C1@
backend be_queue
    timeout queue 300ms
    server c1 @C1@ maxconn 1
    server c2 @C2@ maxconn 1
backend be_h2
    http-reuse always
    option redispatch
    retry-on all-retryable-errors
    server a @H2A@ proto h2 maxconn 3
    server b @H2B@ proto h2 max-reuse 4
backend be_h2safe
    http-reuse safe
    server a @H2A@ proto h2
    server b @H2B@ proto h2
backend be_good
    # the probes must not fail for a slow thread on a loaded machine
    timeout server 2s
    server g @G@
backend be_tcp
    mode tcp
    server t1 @T1@
    server t2 @T2@
"#;

/// The request rules of the HTTP frontends: the first path segment picks the backend.
const RULES: &str = "    http-request return status 200 content-type text/plain string returned if { path_beg /ret/ }
    http-request deny if { path_beg /deny/ }
    http-response deny if { status 418 }
    http-after-response set-header x-stress 1
    use_backend be_never if { path_beg /never/ }
    use_backend be_aggr if { path_beg /aggr/ }
    use_backend be_always if { path_beg /always/ }
    use_backend be_close if { path_beg /close/ }
    use_backend be_queue if { path_beg /queue/ }
    use_backend be_h2 if { path_beg /h2/ }
    use_backend be_h2safe if { path_beg /h2safe/ }
    use_backend be_good if { path_beg /good/ }
    default_backend be_safe";

/// First path segments a client picks from (`safe` falls to the default backend).
const BACKENDS: &[&str] = &[
    "never", "safe", "aggr", "always", "close", "queue", "h2", "h2safe", "good", "ret", "deny",
];

/// Server behaviours a request may ask for, with their weights.
const BEHAVIOURS: &[(&str, usize)] = &[
    ("ok", 30),
    ("close", 5),
    ("chunk", 5),
    ("eof", 4),
    ("http10", 2),
    ("nocontent", 2),
    ("cont", 3),
    ("hints", 3),
    ("silent", 4),
    ("rst", 4),
    ("head", 3),
    ("half", 3),
    ("halfrst", 3),
    ("junk", 3),
    ("slow", 4),
    ("drip", 3),
    ("big", 4),
    ("s503", 3),
    ("teapot", 2),
    ("early", 3),
    ("refuse", 2),
    ("goaway", 2),
    ("stingy", 2),
    ("upgrade", 3),
];

// ---------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers: `common::rng`.

/// The seed of one generator, derived from the run's seed and two numbers.
fn derive(seed: u64, a: u64, b: u64) -> u64 {
    let mut r = Rng(seed ^ a.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ b.rotate_left(32));
    r.next()
}

// ---------------------------------------------------------------------------------------
// The journal of every action.

/// Every action taken, in order, with its time since the start.
struct Journal {
    t0: Instant,
    lines: Mutex<Vec<String>>,
}

impl Journal {
    fn new() -> Journal {
        Journal {
            t0: Instant::now(),
            lines: Mutex::new(Vec::new()),
        }
    }

    fn rec(&self, who: &str, what: impl AsRef<str>) {
        let t = self.t0.elapsed().as_secs_f64();
        let line = format!("+{t:8.3} {who}: {}", what.as_ref());
        self.lines.lock().unwrap().push(line);
    }

    fn len(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// The last `n` lines before line `upto`.
    fn tail_before(&self, upto: usize, n: usize) -> String {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let upto = upto.min(lines.len());
        lines[upto.saturating_sub(n)..upto].join("\n")
    }

    fn all(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

/// What the clients saw, for the summary.
#[derive(Default)]
struct Tally {
    scripts: BTreeMap<&'static str, usize>,
    outcomes: BTreeMap<String, usize>,
}

fn tally(t: &Mutex<Tally>, outcome: &str) {
    *t.lock()
        .unwrap()
        .outcomes
        .entry(outcome.to_string())
        .or_default() += 1;
}

/// Bytes shown in the journal: the first 70, escaped, and the length.
fn show(b: &[u8]) -> String {
    let cut = &b[..b.len().min(70)];
    let mut s = String::new();
    for &c in cut {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    if b.len() > cut.len() {
        s.push_str("...");
    }
    format!("{}B \"{s}\"", b.len())
}

// ---------------------------------------------------------------------------------------
// Sockets.

/// Closes `s` with `SO_LINGER` 0: the peer gets a reset instead of a FIN.
fn reset(s: TcpStream) {
    let lg = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt(2) on a descriptor we own, with a valid `linger` of the given size.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &lg as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(s);
}

/// A TCP socket bound to 127.0.0.1 port 0 with `listen(backlog)`, or not listening at all
/// (`None`: connecting to it is refused; binding keeps the port ours).
fn raw_socket(backlog: Option<i32>) -> (OwnedFd, SocketAddr) {
    // SAFETY: plain socket(2), bind(2), listen(2), getsockname(2) calls on a descriptor we
    // create and own, with correctly sized address structures.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(
            fd.as_raw_fd(),
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        );
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        if let Some(b) = backlog {
            let rc = libc::listen(fd.as_raw_fd(), b);
            assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
        }
        let rc = libc::getsockname(
            fd.as_raw_fd(),
            &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut len,
        );
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        let port = u16::from_be(sa.sin_port);
        (fd, SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

/// A port whose backlog is full: a connect to it neither succeeds nor fails, it times out.
/// Returns the listening socket and the connections that fill its queue (keep them all).
fn blackhole() -> (OwnedFd, SocketAddr, Vec<TcpStream>) {
    let (fd, addr) = raw_socket(Some(0));
    let mut fill = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => fill.push(s),
            Err(_) => return (fd, addr, fill),
        }
    }
    panic!("the blackhole port {addr} still accepts connections after 8");
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        .map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    Ok(s)
}

/// Reads what is there until `deadline`, at most `max` bytes; `Ok` with the bytes read (and
/// whether EOF was seen), `Err` on a reset.
fn read_until(s: &mut TcpStream, deadline: Instant, max: usize) -> (Vec<u8>, &'static str) {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return (out, "timeout");
        }
        if out.len() >= max {
            return (out, "enough");
        }
        let _ = s.set_read_timeout(Some(deadline - now));
        let want = chunk.len().min(max - out.len());
        match s.read(&mut chunk[..want]) {
            Ok(0) => return (out, "eof"),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, "timeout")
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (out, "reset"),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// HTTP/1 parsing (both sides).

/// What `parse_rsp` found at the start of a buffer.
#[derive(Debug, PartialEq)]
enum Parsed {
    /// Not complete yet.
    More,
    /// Not HTTP.
    Bad(String),
    /// A complete response (interim or final) of `used` bytes.
    Rsp { status: u16, used: usize },
    /// A final response whose body ends with the connection.
    UntilEof { status: u16 },
}

/// Header value (case-insensitive name) in a head's lines.
fn header<'a>(lines: &[&'a str], name: &str) -> Option<&'a str> {
    lines.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Where a chunked body starting at `buf[0]` ends (after its trailers), if it is complete.
fn chunked_end(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut p = 0;
    loop {
        let Some(e) = find(&buf[p..], b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&buf[p..p + e]).into_owned();
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("chunk size {line:?}"))?;
        p += e + 2;
        if size == 0 {
            if buf[p..].starts_with(b"\r\n") {
                return Ok(Some(p + 2));
            }
            return Ok(find(&buf[p..], b"\r\n\r\n").map(|e| p + e + 4));
        }
        if buf.len() < p + size + 2 {
            return Ok(None);
        }
        p += size + 2;
    }
}

/// Parses the response at the start of `buf`, the answer to a HEAD request when
/// `head_req`.
fn parse_rsp(buf: &[u8], head_req: bool) -> Parsed {
    if buf.len() >= 7 && !buf.starts_with(b"HTTP/1.") {
        return Parsed::Bad(show(buf));
    }
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > 100_000 {
            Parsed::Bad("head too long".into())
        } else {
            Parsed::More
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let lines: Vec<&str> = head.split("\r\n").collect();
    let Some(status) = lines[0]
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
    else {
        return Parsed::Bad(format!("status line {:?}", lines[0]));
    };
    let body = end + 4;
    // 400 and 408 are answered before the request (HEAD or not) was parsed: with a body
    let head_req = head_req && status != 400 && status != 408;
    if (100..200).contains(&status) || head_req || status == 204 || status == 304 {
        // (101: the head only, a tunnel follows)
        return Parsed::Rsp { status, used: body };
    }
    if header(&lines, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return match chunked_end(&buf[body..]) {
            Ok(Some(n)) => Parsed::Rsp {
                status,
                used: body + n,
            },
            Ok(None) => Parsed::More,
            Err(e) => Parsed::Bad(e),
        };
    }
    if let Some(cl) = header(&lines, "content-length") {
        let Ok(cl) = cl.parse::<usize>() else {
            return Parsed::Bad(format!("content-length {cl:?}"));
        };
        return if buf.len() >= body + cl {
            Parsed::Rsp {
                status,
                used: body + cl,
            }
        } else {
            Parsed::More
        };
    }
    Parsed::UntilEof { status }
}

/// Reads `heads.len()` final responses (to HEAD requests where `heads[i]`) from `s` until
/// `deadline`. Returns a description of what came (`200 502`, `200 eof`, `reset`...) and
/// whether the connection is still usable.
fn read_responses(
    s: &mut TcpStream,
    heads: &[bool],
    deadline: Instant,
    tally_to: &Mutex<Tally>,
) -> (String, bool) {
    let mut buf = Vec::new();
    let mut got = Vec::new();
    let mut finals = 0;
    let mut chunk = [0u8; 16384];
    let mut eof = None;
    while finals < heads.len() {
        match parse_rsp(&buf, heads[finals]) {
            Parsed::Rsp { status, used } => {
                let raw = buf.drain(..used).collect::<Vec<u8>>();
                if status == 101 {
                    // not HTTP any more
                    tally(tally_to, "h1 101");
                    got.push("101".into());
                    return (got.join(" "), false);
                } else if (100..200).contains(&status) {
                    got.push(format!("({status})"));
                } else if status == 418 {
                    // `http-response deny` in both HTTP frontends turns every 418 into a 502
                    tally(tally_to, "h1 418 (past http-response deny)");
                    got.push(format!("418 {}", show(&raw)));
                    finals += 1;
                } else {
                    tally(tally_to, &format!("h1 {status}"));
                    got.push(status.to_string());
                    finals += 1;
                }
                continue;
            }
            Parsed::Bad(why) => {
                tally(tally_to, "h1 malformed response");
                got.push(format!("malformed: {why}"));
                return (got.join(" "), false);
            }
            Parsed::UntilEof { status } if eof.is_some() => {
                tally(tally_to, &format!("h1 {status}"));
                got.push(format!("{status}(eof-delimited)"));
                return (got.join(" "), false);
            }
            _ => {}
        }
        if let Some(why) = eof {
            got.push(format!("{why} with {}B pending", buf.len()));
            return (got.join(" "), false);
        }
        let now = Instant::now();
        if now >= deadline {
            got.push(format!("timeout with {}B pending", buf.len()));
            return (got.join(" "), false);
        }
        let _ = s.set_read_timeout(Some(deadline - now));
        match s.read(&mut chunk) {
            Ok(0) => eof = Some("eof"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => eof = Some("reset"),
        }
    }
    if !buf.is_empty() {
        got.push(format!("+{}B extra", buf.len()));
    }
    (got.join(" "), true)
}

/// A request as a server read it.
struct SrvReq {
    method: String,
    path: String,
    expect100: bool,
    close: bool,
    /// `Connection: upgrade`.
    upgrade: bool,
    /// `Some(n)`: content-length; `None` with `chunked`: chunked; else no body.
    cl: Option<usize>,
    chunked: bool,
}

/// A buffered reader over a server-side socket.
struct Rd {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Rd {
    fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16384];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return Err("eof".into()),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Reads a request head.
    fn head(&mut self) -> Result<SrvReq, String> {
        let end = loop {
            if let Some(e) = find(&self.buf, b"\r\n\r\n") {
                break e;
            }
            if self.buf.len() > 100_000 {
                return Err("request head too long".into());
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let lines: Vec<&str> = head.split("\r\n").collect();
        let mut first = lines[0].split(' ');
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        Ok(SrvReq {
            method,
            path,
            expect100: header(&lines, "expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue")),
            close: header(&lines, "connection")
                .is_some_and(|v| v.to_ascii_lowercase().contains("close")),
            upgrade: header(&lines, "connection")
                .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade")),
            cl: header(&lines, "content-length").and_then(|v| v.parse().ok()),
            chunked: header(&lines, "transfer-encoding").is_some_and(|v| v.contains("chunked")),
        })
    }

    /// Reads the body of `r`.
    fn body(&mut self, r: &SrvReq) -> Result<usize, String> {
        if r.chunked {
            loop {
                if let Some(n) = chunked_end(&self.buf)? {
                    self.buf.drain(..n);
                    return Ok(n);
                }
                self.fill()?;
            }
        }
        let n = r.cl.unwrap_or(0);
        while self.buf.len() < n {
            self.fill()?;
        }
        self.buf.drain(..n);
        Ok(n)
    }
}

fn response(status: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// `n` bytes of a recognizable pattern.
fn pattern(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| b"0123456789abcdefghijklmnopqrstuvwxyz"[(i + i / 36) % 36])
        .collect()
}

// ---------------------------------------------------------------------------------------
// The servers.

/// What the servers share: the journal, the run's seed, and whether they must behave
/// (once the storm is over).
struct SrvCtx {
    journal: Arc<Journal>,
    seed: u64,
    calm: AtomicBool,
}

/// Starts an accept loop on `l`; each connection runs `conn` on its own thread with a
/// generator seeded from `(seed, id, connection number)`.
fn serve(
    l: TcpListener,
    id: u64,
    name: &'static str,
    ctx: Arc<SrvCtx>,
    conn: fn(TcpStream, String, Rng, &SrvCtx),
) {
    thread::spawn(move || {
        let mut n = 0u64;
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            n += 1;
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = s.set_write_timeout(Some(Duration::from_secs(3)));
            let _ = s.set_nodelay(true);
            let who = format!("{name}#{n}");
            let rng = Rng(derive(ctx.seed, 1000 + id, n));
            let ctx = ctx.clone();
            thread::spawn(move || conn(s, who, rng, &ctx));
        }
    });
}

/// A chaotic HTTP server connection: closes or resets at once, or serves requests as
/// their paths ask.
fn chaos_http(s: TcpStream, who: String, mut rng: Rng, ctx: &SrvCtx) {
    let j = &ctx.journal;
    if !ctx.calm.load(Ordering::Relaxed) {
        match rng.below(100) {
            0..=5 => {
                j.rec(&who, "accept, close at once");
                return;
            }
            6..=10 => {
                j.rec(&who, "accept, reset at once");
                reset(s);
                return;
            }
            _ => {}
        }
    }
    let mut rd = Rd { s, buf: Vec::new() };
    loop {
        let req = match rd.head() {
            Ok(r) => r,
            Err(e) => {
                j.rec(&who, format!("end ({e})"));
                return;
            }
        };
        let beh = if ctx.calm.load(Ordering::Relaxed) {
            "ok"
        } else {
            req.path.split('/').nth(2).unwrap_or("ok")
        };
        j.rec(&who, format!("{} {} -> {beh}", req.method, req.path));
        if beh == "upgrade" && req.upgrade {
            // 101, then the connection is a tunnel: echo until the proxy closes it
            let r = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\n\
                     upgrade: websocket\r\n\
                     sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
            if rd.s.write_all(r.as_bytes()).is_ok() {
                let mut pending = std::mem::take(&mut rd.buf);
                loop {
                    if !pending.is_empty() && rd.s.write_all(&pending).is_err() {
                        break;
                    }
                    pending.clear();
                    let mut chunk = [0u8; 16384];
                    match rd.s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => pending.extend_from_slice(&chunk[..n]),
                    }
                }
            }
            j.rec(&who, "switched protocols, echoed until the end");
            return;
        }
        if beh == "early" {
            let _ =
                rd.s.write_all(&response("200 OK", "connection: close\r\n", b"early"));
            j.rec(&who, "answered early, close");
            return;
        }
        if req.expect100 && (req.cl.unwrap_or(0) > 0 || req.chunked) {
            let _ = rd.s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        if let Err(e) = rd.body(&req) {
            j.rec(&who, format!("body: {e}"));
            return;
        }
        let head_req = req.method == "HEAD";
        let ok_body: &[u8] = if head_req { b"" } else { b"ok" };
        let keep = !req.close;
        let mut then_close = !keep;
        let out = match beh {
            "close" => {
                then_close = true;
                response("200 OK", "connection: close\r\n", ok_body)
            }
            "chunk" => {
                let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
                if !head_req {
                    out.extend_from_slice(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
                }
                out
            }
            "eof" => {
                let mut out = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
                if !head_req {
                    out.extend_from_slice(&pattern(rng.range(0, 3000)));
                }
                then_close = true;
                out
            }
            "http10" => {
                let mut out = b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n".to_vec();
                if !head_req {
                    out.extend_from_slice(b"ok");
                }
                then_close = true;
                out
            }
            "nocontent" => b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
            "cont" => {
                let mut out = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
                out.extend_from_slice(&response("200 OK", "", ok_body));
                out
            }
            "hints" => {
                let mut out =
                    b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n".to_vec();
                out.extend_from_slice(&response("200 OK", "", ok_body));
                out
            }
            "silent" => {
                j.rec(&who, "close without answer");
                return;
            }
            "rst" => {
                j.rec(&who, "reset without answer");
                reset(rd.s);
                return;
            }
            "head" => {
                let _ =
                    rd.s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
                j.rec(&who, "head only, close");
                return;
            }
            "half" | "halfrst" => {
                let mut r = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec();
                r.extend_from_slice(&pattern(500));
                let _ = rd.s.write_all(&r);
                thread::sleep(Duration::from_millis(rng.range(0, 50) as u64));
                j.rec(
                    &who,
                    format!(
                        "half a body, then {}",
                        if beh == "half" { "close" } else { "reset" }
                    ),
                );
                if beh == "halfrst" {
                    reset(rd.s);
                }
                return;
            }
            "junk" => {
                let n = rng.range(1, 2000);
                let mut g = rng.bytes(n);
                if rng.chance(30) {
                    g.splice(0..0, b"HTTP/1.1 200 OK\r\n".iter().copied());
                }
                let _ = rd.s.write_all(&g);
                j.rec(&who, format!("garbage {}", show(&g)));
                return;
            }
            "slow" => {
                let ms = rng.range(350, 700) as u64;
                j.rec(&who, format!("sleep {ms} ms before answering"));
                thread::sleep(Duration::from_millis(ms));
                response("200 OK", "", ok_body)
            }
            "drip" => {
                let n = rng.range(2, 5);
                let r = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", n * 100);
                if rd.s.write_all(r.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..n {
                    let ms = rng.range(50, 400) as u64;
                    thread::sleep(Duration::from_millis(ms));
                    if head_req || rd.s.write_all(&pattern(100)).is_err() {
                        j.rec(&who, "drip: write failed");
                        return;
                    }
                }
                j.rec(&who, "dripped");
                continue;
            }
            "big" => {
                let n = rng.range(100_000, 400_000);
                let mut out =
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n").into_bytes();
                if !head_req {
                    out.extend_from_slice(&pattern(n));
                }
                out
            }
            "s503" => response("503 Service Unavailable", "", b""),
            "teapot" => response("418 I'm a teapot", "", b"tea"),
            _ => response("200 OK", "", ok_body),
        };
        if let Err(e) = rd.s.write_all(&out) {
            j.rec(&who, format!("write failed: {e}"));
            return;
        }
        if then_close {
            j.rec(&who, "answered, close");
            return;
        }
    }
}

/// The well-behaved HTTP server: a 200 with a body for every request, keep-alive.
fn good_http(s: TcpStream, who: String, _rng: Rng, ctx: &SrvCtx) {
    let mut rd = Rd { s, buf: Vec::new() };
    loop {
        let Ok(req) = rd.head() else { return };
        ctx.journal
            .rec(&who, format!("{} {}", req.method, req.path));
        if req.expect100 && (req.cl.unwrap_or(0) > 0 || req.chunked) {
            let _ = rd.s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        if rd.body(&req).is_err() {
            return;
        }
        let body: &[u8] = if req.method == "HEAD" { b"" } else { b"good" };
        let mut r = response("200 OK", "", body);
        if req.method == "HEAD" {
            r = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n".to_vec();
        }
        if rd.s.write_all(&r).is_err() || req.close {
            return;
        }
    }
}

/// A chaotic TCP server connection: closes or resets at once, or reads a first chunk and
/// obeys its first word (`echo`, `close`, `reset`, `junk`, `stall`, `big`, `half`). Once
/// calm, it echoes.
fn chaos_tcp(mut s: TcpStream, who: String, mut rng: Rng, ctx: &SrvCtx) {
    let j = &ctx.journal;
    let calm = ctx.calm.load(Ordering::Relaxed);
    if !calm {
        match rng.below(100) {
            0..=7 => {
                j.rec(&who, "accept, close at once");
                return;
            }
            8..=13 => {
                j.rec(&who, "accept, reset at once");
                reset(s);
                return;
            }
            _ => {}
        }
    }
    let mut first = [0u8; 4096];
    let n = match s.read(&mut first) {
        Ok(0) | Err(_) => {
            j.rec(&who, "nothing received");
            return;
        }
        Ok(n) => n,
    };
    let word = if calm {
        "echo".to_string()
    } else {
        String::from_utf8_lossy(&first[..n.min(5)])
            .trim()
            .to_string()
    };
    j.rec(
        &who,
        format!("first {}, acting {word:?}", show(&first[..n])),
    );
    match word.as_str() {
        "close" => {}
        "reset" => reset(s),
        "junk" => {
            let n = rng.range(1, 4000);
            let _ = s.write_all(&rng.bytes(n));
        }
        "stall" => thread::sleep(Duration::from_millis(rng.range(300, 800) as u64)),
        "big" => {
            let n = rng.range(100_000, 500_000);
            let _ = s.write_all(&pattern(n));
        }
        "half" => {
            let _ = s.write_all(&first[..n]);
            let _ = s.shutdown(Shutdown::Write);
            let mut sink = [0u8; 16384];
            while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        }
        _ => {
            // echo until EOF
            if s.write_all(&first[..n]).is_err() {
                return;
            }
            let mut buf = [0u8; 16384];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
    j.rec(&who, "end");
}

/// A HEADERS frame carrying a response head.
fn h2_response(id: u32, status: &str, extra: &[(&str, &str)], end: bool) -> Vec<u8> {
    let mut fields = vec![(":status", status)];
    fields.extend_from_slice(extra);
    let flags = h2::END_HEADERS | if end { h2::END_STREAM } else { 0 };
    h2::headers(id, flags, &h2::encode(&fields))
}

/// A chaotic HTTP/2 server connection (`proto h2` servers): closes or resets at once, or
/// reads the preface and frames, grants flow control, and answers each request when it is
/// complete, as its path asks (as [`chaos_http`] does, in HTTP/2 terms, plus `refuse`: a
/// RST_STREAM, and `goaway`).
fn chaos_h2(s: TcpStream, who: String, mut rng: Rng, ctx: &SrvCtx) {
    let j = &ctx.journal;
    let calm = || ctx.calm.load(Ordering::Relaxed);
    if !calm() {
        match rng.below(100) {
            0..=4 => {
                j.rec(&who, "accept, close at once");
                return;
            }
            5..=8 => {
                j.rec(&who, "accept, reset at once");
                reset(s);
                return;
            }
            _ => {}
        }
    }
    let mut c = H2c {
        s,
        buf: Vec::new(),
        dec: h2::Decoder::new(4096),
        block: None,
    };
    // the client preface, then frames
    let deadline = Instant::now() + Duration::from_secs(3);
    while c.buf.len() < h2::PREFACE.len() {
        let (b, why) = read_until(&mut c.s, deadline, h2::PREFACE.len() - c.buf.len());
        c.buf.extend_from_slice(&b);
        if b.is_empty() {
            j.rec(&who, format!("no preface ({why})"));
            return;
        }
    }
    if !c.buf.starts_with(h2::PREFACE) {
        j.rec(&who, format!("bad preface {}", show(&c.buf)));
        return;
    }
    c.buf.drain(..h2::PREFACE.len());
    // small windows make the proxy wait for flow control; a concurrency limit makes its
    // streams wait to open on this connection
    let settings = match rng.below(100) {
        _ if calm() => vec![],
        0..=19 => vec![(
            h2::SETTINGS_INITIAL_WINDOW_SIZE,
            rng.range(100, 2000) as u32,
        )],
        20..=39 => vec![(h2::SETTINGS_MAX_CONCURRENT_STREAMS, rng.range(1, 2) as u32)],
        _ => vec![],
    };
    j.rec(&who, format!("settings {settings:?}"));
    if !c.send(&h2::settings(&settings)) {
        return;
    }
    // requests in progress: stream -> (method, path)
    let mut reqs: BTreeMap<u32, (String, String)> = BTreeMap::new();
    loop {
        let f = match c.next(Instant::now() + Duration::from_secs(3)) {
            Ok(Some(f)) => f,
            Ok(None) => {
                j.rec(&who, "idle 3 s, close");
                return;
            }
            Err(e) => {
                j.rec(&who, format!("end ({e})"));
                return;
            }
        };
        let mut complete = None;
        match f.typ {
            h2::SETTINGS if f.flags & h2::ACK == 0 => {
                c.send(&h2::settings_ack());
            }
            h2::PING if f.flags & h2::ACK == 0 => {
                let mut p = [0u8; 8];
                let n = f.payload.len().min(8);
                p[..n].copy_from_slice(&f.payload[..n]);
                c.send(&h2::ping(true, p));
            }
            h2::GOAWAY => {
                j.rec(&who, "GOAWAY received, close");
                return;
            }
            h2::RST_STREAM => {
                reqs.remove(&f.stream);
            }
            h2::DATA => {
                // `stingy` requests get no flow control back: the proxy's sender stalls
                let stingy = reqs
                    .get(&f.stream)
                    .is_some_and(|(_, path)| path.split('/').nth(2) == Some("stingy"));
                if !f.payload.is_empty() && (!stingy || calm()) {
                    let n = f.payload.len() as u32;
                    let mut wu = h2::window_update(0, n);
                    if !f.end_stream {
                        wu.extend_from_slice(&h2::window_update(f.stream, n));
                    }
                    c.send(&wu);
                }
                if f.end_stream {
                    complete = reqs.remove(&f.stream).map(|r| (f.stream, r));
                }
            }
            _ => {}
        }
        if let Some(fields) = &f.fields {
            let method = field(fields, ":method").unwrap_or_default();
            let path = field(fields, ":path").unwrap_or_default();
            let beh = path.split('/').nth(2).unwrap_or("ok");
            if f.end_stream || (beh == "early" && !calm()) {
                complete = Some((f.stream, (method, path)));
            } else {
                reqs.insert(f.stream, (method, path));
            }
        }
        let Some((id, (method, path))) = complete else {
            continue;
        };
        let beh = if calm() {
            "ok"
        } else {
            path.split('/').nth(2).unwrap_or("ok")
        };
        j.rec(&who, format!("stream {id}: {method} {path} -> {beh}"));
        let head_req = method == "HEAD";
        let ok = |c: &mut H2c, status: &str| {
            if head_req {
                c.send(&h2_response(id, status, &[("content-length", "2")], true))
            } else {
                let mut out = h2_response(id, status, &[("content-length", "2")], false);
                out.extend_from_slice(&h2::data(id, h2::END_STREAM, b"ok"));
                c.send(&out)
            }
        };
        let sent = match beh {
            "silent" => {
                j.rec(&who, "close without answer");
                return;
            }
            "rst" => {
                j.rec(&who, "reset without answer");
                reset(c.s);
                return;
            }
            "refuse" => c.send(&h2::rst_stream(id, h2::REFUSED_STREAM)),
            "goaway" => {
                c.send(&h2::goaway(id, h2::NO_ERROR, b""));
                j.rec(&who, "GOAWAY sent, close");
                return;
            }
            "head" | "half" | "halfrst" => {
                let mut out = h2_response(id, "200", &[("content-length", "1000")], false);
                if beh != "head" {
                    out.extend_from_slice(&h2::data(id, 0, &pattern(500)));
                }
                c.send(&out);
                j.rec(&who, format!("{beh}: partial answer, then close"));
                if beh == "halfrst" {
                    reset(c.s);
                }
                return;
            }
            "junk" => {
                let n = rng.range(1, 2000);
                let g = rng.bytes(n);
                c.send(&g);
                j.rec(&who, format!("garbage {}", show(&g)));
                return;
            }
            "slow" => {
                let ms = rng.range(350, 700) as u64;
                thread::sleep(Duration::from_millis(ms));
                ok(&mut c, "200")
            }
            "drip" if head_req => ok(&mut c, "200"),
            "drip" => {
                let mut out = h2_response(id, "200", &[], false);
                for k in 0..3 {
                    if !c.send(&out) {
                        break;
                    }
                    thread::sleep(Duration::from_millis(rng.range(50, 400) as u64));
                    let last = if k == 2 { h2::END_STREAM } else { 0 };
                    out = h2::data(id, last, &pattern(100));
                }
                true
            }
            "big" => {
                // within the proxy's initial windows only when it is alone on the connection
                let n = rng.range(10_000, 40_000);
                let cl = n.to_string();
                let mut out = h2_response(id, "200", &[("content-length", &cl)], head_req);
                if !head_req {
                    let body = pattern(n);
                    let pieces: Vec<&[u8]> = body.chunks(16384).collect();
                    for (k, p) in pieces.iter().enumerate() {
                        let last = if k == pieces.len() - 1 {
                            h2::END_STREAM
                        } else {
                            0
                        };
                        out.extend_from_slice(&h2::data(id, last, p));
                    }
                }
                c.send(&out)
            }
            "nocontent" => c.send(&h2_response(id, "204", &[], true)),
            "cont" | "hints" => {
                let interim = if beh == "cont" { "100" } else { "103" };
                c.send(&h2_response(id, interim, &[], false)) && ok(&mut c, "200")
            }
            "s503" => c.send(&h2_response(id, "503", &[("content-length", "0")], true)),
            "teapot" => ok(&mut c, "418"),
            _ => ok(&mut c, "200"),
        };
        if !sent {
            j.rec(&who, "write failed");
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The proxy.

/// A running haproxy-rs. Dropping it kills its process group and removes its directory
/// (kept with `HRS_KEEP`).
struct Proxy {
    child: Mutex<Child>,
    dir: PathBuf,
    /// How much of `proxy.log` was searched for a panic, and whether one was found.
    scanned: Mutex<(u64, bool)>,
    fe_h1: SocketAddr,
    fe_h2: SocketAddr,
    fe_tcp: SocketAddr,
    li_tcp: SocketAddr,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = child.kill();
        let _ = child.wait();
        if std::env::var_os("HRS_KEEP").is_some() {
            print_now(&format!("kept {}", self.dir.display()));
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `bin args...` in `dir` with a controlled environment, inheriting the listeners `fds`.
fn command(bin: &Path, dir: &Path, args: &[&str], fds: Vec<RawFd>) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .process_group(0);
    // SAFETY: only fcntl(2), async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd
}

impl Proxy {
    /// Checks the configuration with haproxy-rs and upstream (`-c`), then starts `haproxy-rs
    /// -d` on it and waits for its stats socket. `servers` fills the `@X@` placeholders.
    fn start(servers: &[(&str, SocketAddr)], log_port: u16) -> Proxy {
        let dir = std::env::temp_dir().join(format!("hrs-stress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
        let mut cfg = CONFIG
            .replace("@RULES@", RULES)
            .replace("@DIR@", dir.to_str().unwrap())
            .replace("@LOG@", &log_port.to_string());
        for (tag, addr) in servers {
            cfg = cfg.replace(&format!("@{tag}@"), &addr.to_string());
        }
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for tag in ["@FE_H1@", "@FE_H2@", "@FE_TCP@", "@LI_TCP@"] {
            let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
            cfg = cfg.replace(tag, &l.as_raw_fd().to_string());
            addrs.push(l.local_addr().unwrap());
            listeners.push(l);
        }
        assert!(
            !cfg.split('@')
                .skip(1)
                .any(|w| w.starts_with(|c: char| c.is_ascii_uppercase())),
            "unfilled placeholder in:\n{cfg}"
        );
        std::fs::write(dir.join("haproxy.cfg"), &cfg).unwrap();
        let fds: Vec<RawFd> = listeners.iter().map(|l| l.as_raw_fd()).collect();

        // the configuration must be valid for both (upstream checks the fd@ listeners too)
        let mut checkers = vec![("haproxy-rs", common::hrs())];
        match upstream("stress") {
            Some(up) => checkers.push(("upstream haproxy", up)),
            None => ours_only("stress", "configuration checks (haproxy -c)", 1),
        }
        for (name, bin) in checkers {
            let out = command(&bin, &dir, &["-c", "-f", "haproxy.cfg"], fds.clone())
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            assert!(
                out.status.success(),
                "{name} -c refuses the stress configuration ({}):\n{}{}\n{cfg}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        // stdout and stderr (the -d trace and any panic) in one file, in their order
        let log = File::create(dir.join("proxy.log")).unwrap();
        let child = command(&common::hrs(), &dir, &["-d", "-f", "haproxy.cfg"], fds)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot spawn haproxy-rs");
        drop(listeners);
        let p = Proxy {
            child: Mutex::new(child),
            dir,
            scanned: Mutex::new((0, false)),
            fe_h1: addrs[0],
            fe_h2: addrs[1],
            fe_tcp: addrs[2],
            li_tcp: addrs[3],
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.cli("show info").is_err() {
            if let Err(e) = p.alive() {
                panic!("haproxy-rs did not start: {e}");
            }
            assert!(
                Instant::now() < deadline,
                "haproxy-rs did not open its stats socket:\n{}",
                p.log_tail(40)
            );
            thread::sleep(Duration::from_millis(20));
        }
        p
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.join("proxy.log")).unwrap_or_default())
            .into_owned()
    }

    /// The last `n` lines of the proxy's output (its `-d` trace).
    fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Whether the output has `panicked` past what was already scanned (only the new part
    /// is read: the `-d` trace grows by megabytes).
    fn printed_panic(&self) -> bool {
        let mut scanned = self.scanned.lock().unwrap_or_else(|e| e.into_inner());
        if scanned.1 {
            return true;
        }
        let Ok(mut f) = File::open(self.dir.join("proxy.log")) else {
            return false;
        };
        // a little overlap for a word cut between two reads
        let from = scanned.0.saturating_sub(16);
        let mut new = Vec::new();
        if std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from)).is_err()
            || f.read_to_end(&mut new).is_err()
        {
            return false;
        }
        scanned.0 = from + new.len() as u64;
        scanned.1 = find(&new, b"panicked").is_some();
        scanned.1
    }

    /// Ok while running and no panic was printed; else why not (quick: see
    /// [`Proxy::post_mortem`] for the details).
    fn alive(&self) -> Result<(), String> {
        if self.printed_panic() {
            return Err("haproxy-rs panicked".into());
        }
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => Err(format!("haproxy-rs exited ({st})")),
            Err(e) => Err(format!("cannot wait for haproxy-rs: {e}")),
        }
    }

    /// The proxy's output that explains a failure: around the panic when there was one
    /// (the trace before it, the message and backtrace after it, waiting for the panic
    /// hook to finish), else its last lines.
    fn post_mortem(&self) -> String {
        if !self.printed_panic() {
            let state = match self.alive() {
                Ok(()) => "still running".to_string(),
                Err(e) => e,
            };
            return format!(
                "haproxy-rs {state}; its last output:\n{}",
                self.log_tail(30)
            );
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            drop(child);
            thread::sleep(Duration::from_millis(50));
        }
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains("panicked"))
            .unwrap_or(0);
        let excerpt = lines[i.saturating_sub(15)..(i + 40).min(lines.len())].join("\n");
        format!("haproxy-rs output around the panic:\n{excerpt}")
    }

    /// One command on the admin stats socket; its reply.
    fn cli(&self, cmd: &str) -> Result<String, String> {
        let mut s = UnixStream::connect(self.dir.join("admin.sock"))
            .map_err(|e| format!("stats socket: {e}"))?;
        let _ = s.set_read_timeout(Some(PROBE_LIMIT));
        let _ = s.set_write_timeout(Some(PROBE_LIMIT));
        s.write_all(format!("{cmd}\n").as_bytes())
            .map_err(|e| format!("stats socket write: {e}"))?;
        let _ = s.shutdown(Shutdown::Write);
        let mut out = String::new();
        s.read_to_string(&mut out)
            .map_err(|e| format!("stats socket read ({cmd}): {e}"))?;
        if out.is_empty() {
            return Err(format!("empty reply to {cmd:?}"));
        }
        Ok(out)
    }

    /// `CurrConns` of `show info`.
    fn curr_conns(&self) -> Result<u64, String> {
        let info = self.cli("show info")?;
        info.lines()
            .find_map(|l| l.strip_prefix("CurrConns: "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("no CurrConns in show info:\n{info}"))
    }

    /// The `show stat` rows whose `qcur` or `scur` is not 0, as `px/sv qcur=N scur=N`.
    fn busy_rows(&self) -> Result<Vec<String>, String> {
        let stat = self.cli("show stat")?;
        let mut lines = stat.lines();
        let head = lines.next().unwrap_or("");
        let cols: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
        let qcur = cols.iter().position(|c| *c == "qcur");
        let scur = cols.iter().position(|c| *c == "scur");
        let (Some(qcur), Some(scur)) = (qcur, scur) else {
            return Err(format!("show stat without qcur/scur:\n{stat}"));
        };
        let mut busy = Vec::new();
        let mut rows = 0;
        for l in lines.filter(|l| !l.is_empty()) {
            rows += 1;
            let f: Vec<&str> = l.split(',').collect();
            let (q, s) = (f.get(qcur).copied(), f.get(scur).copied());
            if !matches!(q, Some("0" | "")) || !matches!(s, Some("0" | "")) {
                busy.push(format!(
                    "{}/{} qcur={} scur={}",
                    f[0],
                    f.get(1).unwrap_or(&""),
                    q.unwrap_or("?"),
                    s.unwrap_or("?")
                ));
            }
        }
        if rows < 10 {
            return Err(format!("show stat lists {rows} rows:\n{stat}"));
        }
        Ok(busy)
    }
}

// ---------------------------------------------------------------------------------------
// HTTP/2 client side.

/// A raw HTTP/2 client connection: frames out, frames in (header blocks decoded).
struct H2c {
    s: TcpStream,
    buf: Vec<u8>,
    dec: h2::Decoder,
    /// The header block being gathered (stream, fragments, flags of the HEADERS frame).
    block: Option<(u32, Vec<u8>, u8)>,
}

/// One frame read by [`H2c::next`]; `status` is set on the frame ending a header block
/// that carries `:status`.
struct In {
    typ: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
    status: Option<u16>,
    /// The decoded header list, on the frame that ends a header block.
    fields: Option<h2::FieldList>,
    end_stream: bool,
}

/// A field of a decoded header list, as text.
fn field(fields: &h2::FieldList, name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(n, _)| n == name.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

impl H2c {
    fn send(&mut self, b: &[u8]) -> bool {
        self.s.write_all(b).is_ok()
    }

    /// The next frame; `Ok(None)` at the deadline, `Err` at EOF or on a reset.
    fn next(&mut self, deadline: Instant) -> Result<Option<In>, String> {
        loop {
            if self.buf.len() >= 9 {
                let len = (self.buf[0] as usize) << 16
                    | (self.buf[1] as usize) << 8
                    | self.buf[2] as usize;
                if self.buf.len() >= 9 + len {
                    let typ = self.buf[3];
                    let flags = self.buf[4];
                    let stream =
                        u32::from_be_bytes([self.buf[5], self.buf[6], self.buf[7], self.buf[8]])
                            & 0x7fff_ffff;
                    let payload = self.buf[9..9 + len].to_vec();
                    self.buf.drain(..9 + len);
                    let mut f = In {
                        typ,
                        flags,
                        stream,
                        payload,
                        status: None,
                        fields: None,
                        end_stream: false,
                    };
                    self.gather(&mut f)?;
                    return Ok(Some(f));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let _ = self.s.set_read_timeout(Some(deadline - now));
            let mut chunk = [0u8; 16384];
            match self.s.read(&mut chunk) {
                Ok(0) => return Err("eof".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(None)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err("reset".into()),
            }
        }
    }

    fn gather(&mut self, f: &mut In) -> Result<(), String> {
        match f.typ {
            h2::DATA => f.end_stream = f.flags & h2::END_STREAM != 0,
            h2::HEADERS => {
                let mut p = f.payload.as_slice();
                if f.flags & h2::PADDED != 0 {
                    let pad = *p.first().ok_or("empty padded HEADERS")? as usize;
                    p = p
                        .get(1..p.len().saturating_sub(pad))
                        .ok_or("bad HEADERS padding")?;
                }
                if f.flags & h2::PRIORITY_FLAG != 0 {
                    p = p.get(5..).unwrap_or(&[]);
                }
                self.block = Some((f.stream, p.to_vec(), f.flags));
            }
            h2::CONTINUATION => {
                if let Some((_, b, _)) = self.block.as_mut() {
                    b.extend_from_slice(&f.payload);
                }
            }
            _ => return Ok(()),
        }
        if matches!(f.typ, h2::HEADERS | h2::CONTINUATION) && f.flags & h2::END_HEADERS != 0 {
            let Some((stream, block, flags)) = self.block.take() else {
                return Ok(());
            };
            let fields = self.dec.decode(&block).map_err(|e| format!("hpack: {e}"))?;
            f.stream = stream;
            f.end_stream = flags & h2::END_STREAM != 0;
            f.status = field(&fields, ":status").and_then(|v| v.parse().ok());
            f.fields = Some(fields);
        }
        Ok(())
    }
}

/// A HEADERS frame for a request.
fn h2_request(id: u32, method: &str, path: &str, extra: &[(&str, &str)], end: bool) -> Vec<u8> {
    let fields = h2::request_fields(method, path, "stress", extra);
    let flags = h2::END_HEADERS | if end { h2::END_STREAM } else { 0 };
    h2::headers(id, flags, &h2::encode(&fields))
}

// ---------------------------------------------------------------------------------------
// Client scripts.

/// One step of an HTTP/1 or TCP client script.
#[derive(Debug)]
enum Step {
    Send(Vec<u8>),
    Pause(u64),
    /// Read this many final responses (to HEAD requests where true) within `ms`.
    Read(Vec<bool>, u64),
    /// Read at most `n` bytes within `ms`.
    ReadSome(usize, u64),
    HalfClose,
    Close,
    Reset,
}

/// One step of an HTTP/2 client script.
#[derive(Debug)]
enum H2Step {
    Send(Vec<u8>, String),
    Pause(u64),
    /// Read frames for `ms` (or until every stream opened and not reset ended), granting
    /// flow control unless `stingy`.
    Read {
        ms: u64,
        stingy: bool,
    },
    Close,
    Reset,
}

/// A request path: a backend (`be`, or a random one), a server behaviour, and the tag
/// naming the request.
fn gen_path(rng: &mut Rng, be: Option<&str>, tag: &str) -> String {
    let be = be.unwrap_or_else(|| *rng.pick(BACKENDS));
    let beh = rng.weighted(BEHAVIOURS);
    format!("/{be}/{beh}/{tag}")
}

/// A random HTTP/1 request; returns its bytes, whether it is a HEAD, the end of its head.
fn gen_request(rng: &mut Rng, tag: &str) -> (Vec<u8>, bool, usize) {
    let method = *rng.pick(&["GET", "GET", "GET", "POST", "POST", "PUT", "HEAD"]);
    let path = gen_path(rng, None, tag);
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: stress\r\n");
    if method == "GET" && path.split('/').nth(2) == Some("upgrade") {
        // a WebSocket handshake (RFC 6455 §1.3's sample key)
        head.push_str(
            "connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        );
    } else if rng.chance(10) {
        head.push_str("connection: close\r\n");
    }
    let body_len = if method == "POST" || method == "PUT" || rng.chance(5) {
        if rng.chance(10) {
            rng.range(20_000, 120_000)
        } else {
            rng.range(0, 3000)
        }
    } else {
        0
    };
    let chunked = body_len > 0 && rng.chance(40);
    if body_len > 0 && rng.chance(15) {
        head.push_str("expect: 100-continue\r\n");
    }
    let mut body = Vec::new();
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n");
        let data = pattern(body_len);
        for piece in data.chunks(rng.range(1, 4000)) {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
    } else if body_len > 0 || method == "POST" {
        head.push_str(&format!("content-length: {body_len}\r\n"));
        body = pattern(body_len);
    }
    head.push_str("\r\n");
    let head_len = head.len();
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    (out, method == "HEAD", head_len)
}

/// Sends `b`, whole or in pieces with pauses.
fn push_send(rng: &mut Rng, steps: &mut Vec<Step>, b: &[u8]) {
    if b.len() > 1 && rng.chance(20) {
        let pieces = rng.range(2, 4);
        let mut cuts: Vec<usize> = (0..pieces - 1).map(|_| rng.range(1, b.len() - 1)).collect();
        cuts.sort_unstable();
        let mut from = 0;
        for c in cuts.into_iter().chain([b.len()]) {
            if c > from {
                steps.push(Step::Send(b[from..c].to_vec()));
                steps.push(Step::Pause(if rng.chance(10) {
                    rng.range(200, 500) as u64
                } else {
                    rng.range(1, 40) as u64
                }));
                from = c;
            }
        }
    } else {
        steps.push(Step::Send(b.to_vec()));
    }
}

/// How a script ends once it stops following the protocol.
fn push_abort(rng: &mut Rng, steps: &mut Vec<Step>) {
    match rng.below(5) {
        0 => steps.push(Step::Close),
        1 => steps.push(Step::Reset),
        2 => {
            steps.push(Step::HalfClose);
            steps.push(Step::ReadSome(1 << 20, rng.range(100, 800) as u64));
            steps.push(Step::Close);
        }
        3 => {
            steps.push(Step::Pause(rng.range(200, 700) as u64));
            steps.push(Step::ReadSome(1 << 20, 50));
            steps.push(if rng.chance(50) {
                Step::Close
            } else {
                Step::Reset
            });
        }
        _ => {
            steps.push(Step::ReadSome(rng.range(0, 300), rng.range(1, 300) as u64));
            steps.push(Step::Reset);
        }
    }
}

/// An HTTP/1 client script.
fn gen_h1(rng: &mut Rng, tag: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    if rng.chance(6) {
        if rng.chance(30) {
            steps.push(Step::Pause(rng.range(100, 600) as u64));
        }
        steps.push(if rng.chance(50) {
            Step::Close
        } else {
            Step::Reset
        });
        return steps;
    }
    let n = rng.range(1, 4);
    let pipelined = n > 1 && rng.chance(25);
    let abort_at = rng.chance(40).then(|| rng.below(n));
    let mut pending = Vec::new();
    for i in 0..n {
        let (req, head_req, head_len) = gen_request(rng, &format!("{tag}.{i}"));
        if abort_at == Some(i) {
            // cut in the request line, the head, the body, or after the whole request
            let line_end = find(&req, b"\r\n").unwrap_or(1);
            let cut = match rng.below(4) {
                0 => rng.range(1, line_end),
                1 => rng.range(line_end, head_len - 1),
                2 if req.len() > head_len + 1 => rng.range(head_len, req.len() - 1),
                _ => req.len(),
            };
            push_send(rng, &mut steps, &req[..cut]);
            if cut == req.len() && rng.chance(50) {
                pending.push(head_req);
                steps.push(Step::Read(
                    std::mem::take(&mut pending),
                    rng.range(1, 400) as u64,
                ));
            }
            push_abort(rng, &mut steps);
            return steps;
        }
        push_send(rng, &mut steps, &req);
        pending.push(head_req);
        if !pipelined || i == n - 1 {
            steps.push(Step::Read(std::mem::take(&mut pending), 2000));
        }
    }
    match rng.below(10) {
        0 => steps.push(Step::Reset),
        1 => {
            // idle keep-alive past the timeout: the proxy closes
            steps.push(Step::ReadSome(1 << 20, rng.range(100, 600) as u64));
            steps.push(Step::Close);
        }
        2 => {
            steps.push(Step::HalfClose);
            steps.push(Step::ReadSome(1 << 20, 500));
            steps.push(Step::Close);
        }
        _ => steps.push(Step::Close),
    }
    steps
}

/// A TCP client script: the first word asks the TCP server for a behaviour.
fn gen_tcp(rng: &mut Rng) -> Vec<Step> {
    let mut steps = Vec::new();
    if rng.chance(10) {
        steps.push(if rng.chance(50) {
            Step::Close
        } else {
            Step::Reset
        });
        return steps;
    }
    let word = *rng.pick(&[
        "echo ", "echo ", "echo ", "close", "reset", "junk ", "stall", "big  ", "half ",
    ]);
    let mut data = word.as_bytes().to_vec();
    let n = rng.range(0, 5000);
    data.extend_from_slice(&pattern(n));
    if rng.chance(10) {
        steps.push(Step::Pause(rng.range(100, 500) as u64));
    }
    push_send(rng, &mut steps, &data);
    steps.push(Step::ReadSome(
        rng.range(0, 1 << 20),
        rng.range(1, 600) as u64,
    ));
    if rng.chance(40) {
        let more = rng.range(1, 3000);
        push_send(rng, &mut steps, &pattern(more));
        steps.push(Step::ReadSome(1 << 20, rng.range(1, 300) as u64));
    }
    push_abort(rng, &mut steps);
    steps
}

/// An HTTP/2 client script.
fn gen_h2(rng: &mut Rng, tag: &str) -> Vec<H2Step> {
    let mut steps = Vec::new();
    let end = |rng: &mut Rng| {
        if rng.chance(50) {
            H2Step::Close
        } else {
            H2Step::Reset
        }
    };
    if rng.chance(5) {
        let cut = rng.range(0, h2::PREFACE.len() - 1);
        steps.push(H2Step::Send(
            h2::PREFACE[..cut].to_vec(),
            format!("{cut}B of the preface"),
        ));
        if rng.chance(30) {
            steps.push(H2Step::Pause(rng.range(100, 600) as u64));
        }
        steps.push(end(rng));
        return steps;
    }
    let mut pre = h2::PREFACE.to_vec();
    let stingy = rng.chance(15);
    let settings = if stingy {
        vec![(h2::SETTINGS_INITIAL_WINDOW_SIZE, rng.range(0, 1000) as u32)]
    } else {
        vec![]
    };
    pre.extend_from_slice(&h2::settings(&settings));
    steps.push(H2Step::Send(pre, format!("preface, settings {settings:?}")));
    let n = rng.range(1, 6);
    // concurrent streams to one backend fill its servers' slots: queues
    let one_be = rng.chance(50).then(|| *rng.pick(BACKENDS));
    for i in 0..n {
        let id = 1 + 2 * i as u32;
        let method = *rng.pick(&["GET", "GET", "POST", "HEAD"]);
        let path = gen_path(rng, one_be, &format!("{tag}.{i}"));
        if method == "POST" {
            let len = rng.range(0, 20_000);
            let cl = len.to_string();
            let extra: Vec<(&str, &str)> = if rng.chance(50) {
                vec![("content-length", cl.as_str())]
            } else {
                vec![]
            };
            steps.push(H2Step::Send(
                h2_request(id, method, &path, &extra, false),
                format!("HEADERS {id} {method} {path} {extra:?}"),
            ));
            let cut = rng.chance(15);
            let trailers = !cut && rng.chance(15);
            let sent = if cut { rng.range(0, len) } else { len };
            let data = pattern(sent);
            let pieces: Vec<&[u8]> = data.chunks(16384).collect();
            for (k, piece) in pieces.iter().enumerate() {
                let last = k == pieces.len() - 1 && !cut && !trailers;
                let flags = if last { h2::END_STREAM } else { 0 };
                steps.push(H2Step::Send(
                    h2::data(id, flags, piece),
                    format!(
                        "DATA {id} {}B{}",
                        piece.len(),
                        if last { " END_STREAM" } else { "" }
                    ),
                ));
            }
            if trailers {
                let block = h2::encode(&[("x-trailer", "t")]);
                steps.push(H2Step::Send(
                    h2::headers(id, h2::END_HEADERS | h2::END_STREAM, &block),
                    format!("HEADERS {id} trailers END_STREAM"),
                ));
            } else if pieces.is_empty() && !cut {
                steps.push(H2Step::Send(
                    h2::data(id, h2::END_STREAM, b""),
                    format!("DATA {id} 0B END_STREAM"),
                ));
            }
        } else {
            steps.push(H2Step::Send(
                h2_request(id, method, &path, &[], true),
                format!("HEADERS {id} {method} {path} END_STREAM"),
            ));
        }
        if rng.chance(20) {
            steps.push(H2Step::Read {
                ms: rng.range(0, 300) as u64,
                stingy,
            });
        }
        if rng.chance(20) {
            let code = *rng.pick(&[h2::CANCEL, h2::NO_ERROR, h2::INTERNAL_ERROR]);
            steps.push(H2Step::Send(
                h2::rst_stream(id, code),
                format!("RST_STREAM {id} {}", h2::error_name(code)),
            ));
            if rng.chance(20) {
                // frames on the stream just reset (allowed for a while, or STREAM_CLOSED)
                steps.push(H2Step::Send(
                    h2::data(id, h2::END_STREAM, b"late"),
                    format!("DATA {id} after RST_STREAM"),
                ));
            }
        }
        if rng.chance(10) {
            let (frame, what) = match rng.below(4) {
                0 => (h2::ping(false, [7; 8]), "PING".to_string()),
                1 => (h2::window_update(id, 1000), format!("WINDOW_UPDATE {id}")),
                2 => (
                    h2::priority(id + 2, id, false, 16),
                    format!("PRIORITY {}", id + 2),
                ),
                _ => (
                    h2::settings(&[(h2::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20)]),
                    "SETTINGS window 1 MB".to_string(),
                ),
            };
            steps.push(H2Step::Send(frame, what));
        }
    }
    if rng.chance(10) {
        let last = 1 + 2 * rng.below(n) as u32;
        steps.push(H2Step::Send(
            h2::goaway(last, h2::NO_ERROR, b""),
            format!("GOAWAY last={last}"),
        ));
    }
    match rng.below(10) {
        0..=5 => {
            steps.push(H2Step::Read { ms: 2000, stingy });
            if rng.chance(20) {
                // idle past the timeouts
                steps.push(H2Step::Read {
                    ms: rng.range(200, 600) as u64,
                    stingy,
                });
            }
            steps.push(H2Step::Close);
        }
        6 => {
            steps.push(H2Step::Pause(rng.range(200, 700) as u64));
            steps.push(end(rng));
        }
        _ => {
            steps.push(H2Step::Read {
                ms: rng.range(0, 300) as u64,
                stingy,
            });
            steps.push(end(rng));
        }
    }
    steps
}

// ---------------------------------------------------------------------------------------
// Running scripts.

/// Everything a client needs.
struct Env {
    journal: Arc<Journal>,
    tally: Arc<Mutex<Tally>>,
    seed: u64,
    fe_h1: SocketAddr,
    fe_h2: SocketAddr,
    fe_tcp: SocketAddr,
    li_tcp: SocketAddr,
}

fn step_name(s: &Step) -> String {
    match s {
        Step::Send(b) => format!("send {}", show(b)),
        Step::Pause(ms) => format!("pause {ms} ms"),
        Step::Read(heads, ms) => format!("read {} response(s) within {ms} ms", heads.len()),
        Step::ReadSome(n, ms) => format!("read up to {n}B within {ms} ms"),
        Step::HalfClose => "half-close".into(),
        Step::Close => "close".into(),
        Step::Reset => "reset".into(),
    }
}

/// Runs an HTTP/1 or TCP script on a new connection to `addr`.
fn run_steps(env: &Env, who: &str, addr: SocketAddr, steps: Vec<Step>) {
    let j = &env.journal;
    let mut s = match connect(addr) {
        Ok(s) => s,
        Err(e) => {
            j.rec(who, format!("connect failed: {e}"));
            tally(&env.tally, "connect failed");
            // (refused at once after a soft stop: do not spin)
            thread::sleep(Duration::from_millis(20));
            return;
        }
    };
    for (k, step) in steps.into_iter().enumerate() {
        let name = step_name(&step);
        let what = match step {
            Step::Send(b) => match s.write_all(&b) {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("failed: {e}"),
            },
            Step::Pause(ms) => {
                thread::sleep(Duration::from_millis(ms));
                String::new()
            }
            Step::Read(heads, ms) => {
                let deadline = Instant::now() + Duration::from_millis(ms);
                read_responses(&mut s, &heads, deadline, &env.tally).0
            }
            Step::ReadSome(n, ms) => {
                let deadline = Instant::now() + Duration::from_millis(ms);
                let (b, why) = read_until(&mut s, deadline, n);
                format!("{}B then {why}", b.len())
            }
            Step::HalfClose => match s.shutdown(Shutdown::Write) {
                Ok(()) => String::new(),
                Err(e) => format!("failed: {e}"),
            },
            Step::Close => {
                j.rec(&format!("{who}.{k}"), name);
                return;
            }
            Step::Reset => {
                j.rec(&format!("{who}.{k}"), name);
                reset(s);
                return;
            }
        };
        j.rec(&format!("{who}.{k}"), format!("{name}: {what}"));
    }
}

/// Runs an HTTP/2 script.
fn run_h2(env: &Env, who: &str, steps: Vec<H2Step>) {
    let j = &env.journal;
    let s = match connect(env.fe_h2) {
        Ok(s) => s,
        Err(e) => {
            j.rec(who, format!("connect failed: {e}"));
            tally(&env.tally, "connect failed");
            // (refused at once after a soft stop: do not spin)
            thread::sleep(Duration::from_millis(20));
            return;
        }
    };
    let mut c = H2c {
        s,
        buf: Vec::new(),
        dec: h2::Decoder::new(4096),
        block: None,
    };
    // streams opened and not yet ended or reset
    let mut open: Vec<u32> = Vec::new();
    for (k, step) in steps.into_iter().enumerate() {
        let at = format!("{who}.{k}");
        match step {
            H2Step::Send(b, what) => {
                if b.len() >= 9 && b[3] == h2::HEADERS {
                    open.push(u32::from_be_bytes([b[5], b[6], b[7], b[8]]));
                }
                if b.len() >= 9 && b[3] == h2::RST_STREAM {
                    let id = u32::from_be_bytes([b[5], b[6], b[7], b[8]]);
                    open.retain(|&s| s != id);
                }
                let ok = c.send(&b);
                j.rec(
                    &at,
                    format!("{what}{}", if ok { "" } else { ": send failed" }),
                );
            }
            H2Step::Pause(ms) => {
                j.rec(&at, format!("pause {ms} ms"));
                thread::sleep(Duration::from_millis(ms));
            }
            H2Step::Read { ms, stingy } => {
                let deadline = Instant::now() + Duration::from_millis(ms);
                let mut seen = Vec::new();
                let end = loop {
                    if open.is_empty() && ms >= 1000 {
                        break "all streams ended".to_string();
                    }
                    let f = match c.next(deadline) {
                        Ok(Some(f)) => f,
                        Ok(None) => break "deadline".to_string(),
                        Err(e) => break e,
                    };
                    match f.typ {
                        h2::SETTINGS if f.flags & h2::ACK == 0 => {
                            c.send(&h2::settings_ack());
                        }
                        h2::PING if f.flags & h2::ACK == 0 => {
                            let mut p = [0u8; 8];
                            p.copy_from_slice(&f.payload[..8.min(f.payload.len())]);
                            c.send(&h2::ping(true, p));
                        }
                        h2::DATA if !stingy && !f.payload.is_empty() => {
                            let n = f.payload.len() as u32;
                            let mut wu = h2::window_update(0, n);
                            if !f.end_stream {
                                wu.extend_from_slice(&h2::window_update(f.stream, n));
                            }
                            c.send(&wu);
                        }
                        h2::GOAWAY => {
                            seen.push(format!(
                                "GOAWAY({})",
                                h2::error_name(u32::from_be_bytes(
                                    f.payload
                                        .get(4..8)
                                        .and_then(|b| b.try_into().ok())
                                        .unwrap_or([0; 4])
                                ))
                            ));
                        }
                        h2::RST_STREAM => {
                            open.retain(|&s| s != f.stream);
                            seen.push(format!("RST({})", f.stream));
                            tally(&env.tally, "h2 RST_STREAM");
                        }
                        _ => {}
                    }
                    if let Some(st) = f.status {
                        if st == 418 {
                            tally(&env.tally, "h2 418 (past http-response deny)");
                        } else if st >= 200 {
                            tally(&env.tally, &format!("h2 {st}"));
                        }
                        seen.push(format!("{}:{st}", f.stream));
                    }
                    if f.end_stream {
                        open.retain(|&s| s != f.stream);
                    }
                };
                j.rec(
                    &at,
                    format!(
                        "read {ms} ms{}: {} ({end})",
                        if stingy { " (stingy)" } else { "" },
                        seen.join(" ")
                    ),
                );
                if end == "eof" || end == "reset" {
                    return;
                }
            }
            H2Step::Close => {
                j.rec(&at, "close");
                return;
            }
            H2Step::Reset => {
                j.rec(&at, "reset");
                reset(c.s);
                return;
            }
        }
    }
}

/// Generates and runs script `n` of client `t`: everything random in it comes from
/// `(seed, t, n)`.
fn run_script(env: &Env, t: usize, n: u64) {
    let mut rng = Rng(derive(env.seed, t as u64, n));
    let who = format!("c{t}.{n}");
    let kind = match rng.below(100) {
        0..=54 => "h1",
        55..=79 => "h2",
        _ => "tcp",
    };
    *env.tally.lock().unwrap().scripts.entry(kind).or_default() += 1;
    env.journal.rec(&who, format!("{kind} script"));
    match kind {
        "h1" => {
            let steps = gen_h1(&mut rng, &who);
            run_steps(env, &who, env.fe_h1, steps);
        }
        "h2" => {
            let steps = gen_h2(&mut rng, &who);
            run_h2(env, &who, steps);
        }
        _ => {
            // most through the listen section; fe_tcp/be_tcp answers nothing useful today
            // (see the module documentation)
            let addr = if rng.chance(75) {
                env.li_tcp
            } else {
                env.fe_tcp
            };
            let steps = gen_tcp(&mut rng);
            run_steps(env, &who, addr, steps);
        }
    }
}

/// `HRS_STRESS_ONLY`: `c3.17,c1.4-9` -> [(3, 17), (1, 4), ..., (1, 9)].
fn parse_only(v: &str) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || panic!("HRS_STRESS_ONLY: {item:?} is not c<client>.<n>[-<m>]");
        let Some((t, ns)) = item.strip_prefix('c').and_then(|r| r.split_once('.')) else {
            bad()
        };
        let t: usize = t.parse().unwrap_or_else(|_| bad());
        let (a, b) = ns.split_once('-').unwrap_or((ns, ns));
        let (a, b): (u64, u64) = (
            a.parse().unwrap_or_else(|_| bad()),
            b.parse().unwrap_or_else(|_| bad()),
        );
        out.extend((a..=b).map(|n| (t, n)));
    }
    out
}

/// The chaotic servers, as `backend/server` for `set server`.
const OPERATED: &[&str] = &[
    "be_never/c1",
    "be_never/c2",
    "be_safe/c1",
    "be_safe/c2",
    "be_safe/c3",
    "be_safe/c3b",
    "be_aggr/c2",
    "be_aggr/c3",
    "be_always/c1",
    "be_always/c3",
    "be_close/c3",
    "be_close/c1",
    "be_queue/c1",
    "be_queue/c2",
    "be_h2/a",
    "be_h2/b",
    "be_h2safe/a",
    "be_h2safe/b",
    "li_tcp/t1",
    "li_tcp/t2",
    "be_tcp/t1",
    "be_tcp/t2",
];

/// An operator on the stats socket: every 100 to 400 ms, puts a chaotic server in
/// `maint` (its idle connections are closed), `drain` or `ready` (it takes queued
/// streams), or reads `show stat`, `show servers conn|state`, `show info`, until `stop`;
/// then makes every server `ready` again.
fn operator(
    proxy: Arc<Proxy>,
    journal: Arc<Journal>,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = Rng(derive(seed, 9999, 0));
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(rng.range(100, 400) as u64));
            if rng.chance(30) {
                // the read-only commands walk the runtime objects while they come and go
                let cmd = *rng.pick(&[
                    "show stat",
                    "show info",
                    "show servers conn",
                    "show servers state",
                    "show servers conn be_h2",
                    "show servers state be_safe",
                ]);
                let r = proxy.cli(cmd);
                journal.rec("operator", format!("{cmd}: {:?}", r.map(|r| r.len())));
                continue;
            }
            let sv = *rng.pick(OPERATED);
            let state = rng.weighted(&[("ready", 5), ("drain", 2), ("maint", 3)]);
            let cmd = format!("set server {sv} state {state}");
            let r = proxy.cli(&cmd);
            journal.rec(
                "operator",
                format!("{cmd}: {:?}", r.map(|r| r.trim().to_string())),
            );
        }
        for sv in OPERATED {
            let cmd = format!("set server {sv} state ready");
            let r = proxy.cli(&cmd);
            journal.rec(
                "operator",
                format!("{cmd}: {:?}", r.map(|r| r.trim().to_string())),
            );
        }
    })
}

// ---------------------------------------------------------------------------------------
// Probes: requests that must succeed.

/// A GET through the HTTP/1 frontend; its status.
fn probe_h1(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let mut s = connect(addr)?;
    let req = format!("GET {path} HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + PROBE_LIMIT;
    let (b, why) = read_until(&mut s, deadline, 1 << 20);
    match parse_rsp(&b, false) {
        Parsed::Rsp { status, .. } | Parsed::UntilEof { status } => Ok(status),
        other => Err(format!("{other:?} ({why}) after {}", show(&b))),
    }
}

/// A GET through the HTTP/2 frontend; its status.
fn probe_h2(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let s = connect(addr)?;
    let mut c = H2c {
        s,
        buf: Vec::new(),
        dec: h2::Decoder::new(4096),
        block: None,
    };
    let mut out = h2::PREFACE.to_vec();
    out.extend_from_slice(&h2::settings(&[]));
    out.extend_from_slice(&h2_request(1, "GET", path, &[], true));
    if !c.send(&out) {
        return Err("send failed".into());
    }
    let deadline = Instant::now() + PROBE_LIMIT;
    let mut status = None;
    loop {
        match c.next(deadline)? {
            None => return Err(format!("no complete response (status {status:?})")),
            Some(f) => {
                if f.typ == h2::SETTINGS && f.flags & h2::ACK == 0 {
                    c.send(&h2::settings_ack());
                }
                if f.typ == h2::RST_STREAM || f.typ == h2::GOAWAY {
                    return Err(format!("{} received", h2::type_name(f.typ)));
                }
                if f.stream == 1 {
                    status = f.status.or(status);
                    if f.end_stream {
                        let _ = c.send(&h2::goaway(0, h2::NO_ERROR, b""));
                        return status.ok_or_else(|| "no :status".into());
                    }
                }
            }
        }
    }
}

/// An echo through the TCP frontend once the TCP servers are calm; attempts may fail on
/// the refused and blackhole servers of `be_tcp` (retries and redispatch should save most).
fn probe_tcp(addr: SocketAddr, tag: &str) -> Result<(), String> {
    let mut s = connect(addr)?;
    let msg = format!("probe {tag}\n");
    s.write_all(msg.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + PROBE_LIMIT;
    let (b, why) = read_until(&mut s, deadline, msg.len());
    if b == msg.as_bytes() {
        Ok(())
    } else {
        Err(format!("got {} ({why})", show(&b)))
    }
}

/// Sums of a few `show stat` columns over the rows of each kind (frontends, backends,
/// servers), as `column=total` words: how much of the lifecycle the storm exercised.
fn coverage(stat: &str) -> String {
    let mut lines = stat.lines();
    let head = lines.next().unwrap_or("");
    let cols: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
    let wanted = [
        ("BACKEND", "wretr"),
        ("BACKEND", "wredis"),
        ("BACKEND", "econ"),
        ("BACKEND", "eresp"),
        ("BACKEND", "reuse"),
        ("BACKEND", "connect"),
        ("BACKEND", "qmax"),
        ("FRONTEND", "ereq"),
        ("FRONTEND", "dreq"),
    ];
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut out = Vec::new();
    for (kind, col) in wanted {
        let Some(i) = cols.iter().position(|c| *c == col) else {
            continue;
        };
        let sum: u64 = rows
            .iter()
            .filter(|r| match kind {
                "server" => r
                    .get(1)
                    .is_some_and(|s| *s != "BACKEND" && *s != "FRONTEND"),
                k => r.get(1) == Some(&k),
            })
            .filter_map(|r| r.get(i)?.parse::<u64>().ok())
            .sum();
        out.push(format!("{col}={sum}"));
    }
    out.join(" ")
}

/// What the traffic logs say about the storm: the termination states (their first two
/// characters: who ended the stream and in which phase) and how many streams waited in a
/// queue (`Tw` > 0).
#[derive(Default)]
struct LogStats {
    states: BTreeMap<String, usize>,
    queued: usize,
}

/// Reads `httplog` and `tcplog` lines: the fields before the request line; the counters
/// `actconn/feconn/beconn/srv_conn/retries` are the last field with four slashes, the
/// termination state the field just before them, and in HTTP logs the timers
/// `Tq/Tw/Tc/Tr/Ta` the first field with four slashes.
fn log_stats(lines: &[String]) -> LogStats {
    let mut st = LogStats::default();
    for l in lines {
        let fields: Vec<&str> = l
            .split_whitespace()
            .take_while(|f| !f.starts_with('"'))
            .collect();
        let slashed: Vec<usize> = (0..fields.len())
            .filter(|&i| fields[i].matches('/').count() == 4)
            .collect();
        let Some(&counts) = slashed.last() else {
            continue;
        };
        if let Some(state) = counts.checked_sub(1).map(|i| fields[i]) {
            let key: String = state.chars().take(2).collect();
            *st.states.entry(key).or_default() += 1;
        }
        if slashed.len() >= 2 {
            let tw = fields[slashed[0]]
                .split('/')
                .nth(1)
                .and_then(|v| v.parse::<i64>().ok());
            if tw.is_some_and(|v| v > 0) {
                st.queued += 1;
            }
        }
    }
    st
}

/// A `show stat` column summed over the backends.
fn backend_sum(stat: &str, col: &str) -> u64 {
    let mut lines = stat.lines();
    let head = lines.next().unwrap_or("");
    let cols: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
    let Some(i) = cols.iter().position(|c| *c == col) else {
        return 0;
    };
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r.get(1) == Some(&"BACKEND"))
        .filter_map(|r| r.get(i)?.parse::<u64>().ok())
        .sum()
}

// ---------------------------------------------------------------------------------------
// The test.

/// Everything the final report needs when something fails.
struct Failure<'a> {
    seed: u64,
    /// Set to stop the clients and the operator.
    stop: Arc<AtomicBool>,
    journal: &'a Journal,
    proxy: &'a Proxy,
    logs: &'a Mutex<Vec<String>>,
}

/// Where the whole journal of the last run is written (and its traffic logs, beside it).
fn journal_file() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("stress-journal.txt")
}

impl Failure<'_> {
    /// Writes the journal and the traffic logs of the run to files.
    fn save(&self) {
        let _ = std::fs::write(journal_file(), self.journal.all());
        let logs = self
            .logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n");
        let _ = std::fs::write(journal_file().with_file_name("stress-logs.txt"), logs);
    }

    /// Stops the clients, saves the journal and logs, and fails the test with `what`, the
    /// seed, the proxy's output and the journal's last lines before the failure.
    fn fail(&self, what: &str) -> ! {
        self.stop.store(true, Ordering::Relaxed);
        let upto = self.journal.len();
        self.save();
        panic!(
            "stress: {what}\n\nseed {seed} (replay: HRS_STRESS_SEED={seed}; one script: \
             HRS_STRESS_SEED={seed} HRS_STRESS_ONLY=c<client>.<n>)\n\n{}\n\n\
             --- journal, last lines before the failure (all of it: {}) ---\n{}",
            self.proxy.post_mortem(),
            journal_file().display(),
            self.journal.tail_before(upto, 120),
            seed = self.seed,
        );
    }
}

/// The run's parameters, from the knobs.
struct Params {
    seed: u64,
    secs: u64,
    clients: usize,
    /// `HRS_STRESS_ONLY`: the scripts to replay, one after the other.
    only: Option<Vec<(usize, u64)>>,
}

fn params() -> Params {
    let num = |name: &str| {
        knob(name).map(|v| {
            v.parse::<u64>()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
    };
    let seed = num("HRS_STRESS_SEED").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        derive(t.as_nanos() as u64, u64::from(std::process::id()), 0) % 1_000_000_000
    });
    Params {
        seed,
        secs: num("HRS_STRESS_SECS").unwrap_or(DEFAULT_SECS),
        clients: num("HRS_STRESS_CLIENTS").map_or(CLIENTS, |n| n as usize),
        only: knob("HRS_STRESS_ONLY").map(|v| parse_only(&v)),
    }
}

/// The servers played here: their addresses by configuration placeholder, and the
/// sockets of the blackhole and refused ports, which must stay open.
struct Servers {
    addrs: Vec<(&'static str, SocketAddr)>,
    _keep: (OwnedFd, OwnedFd, Vec<TcpStream>),
}

fn start_servers(ctx: &Arc<SrvCtx>) -> Servers {
    type Conn = fn(TcpStream, String, Rng, &SrvCtx);
    let servers: [(&'static str, &'static str, Conn); 8] = [
        ("C1", "srv c1", chaos_http),
        ("C2", "srv c2", chaos_http),
        ("C3", "srv c3", chaos_http),
        ("G", "srv g", good_http),
        ("T1", "srv t1", chaos_tcp),
        ("T2", "srv t2", chaos_tcp),
        ("H2A", "srv h2a", chaos_h2),
        ("H2B", "srv h2b", chaos_h2),
    ];
    let mut addrs = Vec::new();
    for (i, (tag, name, conn)) in servers.into_iter().enumerate() {
        let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a server");
        addrs.push((tag, l.local_addr().unwrap()));
        serve(l, i as u64, name, ctx.clone(), conn);
    }
    let (bh_fd, bh_addr, bh_fill) = blackhole();
    let (rf_fd, rf_addr) = raw_socket(None);
    addrs.push(("BH", bh_addr));
    addrs.push(("RF", rf_addr));
    Servers {
        addrs,
        _keep: (bh_fd, rf_fd, bh_fill),
    }
}

/// A UDP socket on 127.0.0.1 receiving the proxy's traffic logs: its port and the lines
/// received (the reader ends when nobody else holds the lines).
fn log_reader() -> (u16, Arc<Mutex<Vec<String>>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("cannot bind the log socket");
    let port = sock.local_addr().unwrap().port();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let mine = lines.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match sock.recv(&mut buf) {
                Ok(n) => mine
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Arc::strong_count(&mine) == 1 {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    (port, lines)
}

/// The storm: the clients (or the replayed scripts) and the operator run while the proxy
/// is checked every 50 ms (alive, no panic) and probed every second (`show info`, a
/// request through each HTTP frontend). Returns how long it lasted and how many probe
/// rounds ran.
fn storm(p: &Params, env: &Arc<Env>, proxy: &Arc<Proxy>, f: &Failure) -> (Duration, u64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(p.secs);
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    match &p.only {
        Some(list) => {
            let env = env.clone();
            let list = list.clone();
            workers.push(thread::spawn(move || {
                for (t, n) in list {
                    run_script(&env, t, n);
                }
            }));
        }
        None => {
            for t in 0..p.clients {
                let env = env.clone();
                let stop = f.stop.clone();
                workers.push(thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        n += 1;
                        run_script(&env, t, n);
                    }
                }));
            }
        }
    }
    let op = operator(proxy.clone(), env.journal.clone(), p.seed, f.stop.clone());

    let mut probes = 0;
    let mut next_probe = Instant::now();
    while workers.iter().any(|w| !w.is_finished()) {
        thread::sleep(Duration::from_millis(50));
        if let Err(e) = proxy.alive() {
            f.fail(&e);
        }
        if Instant::now() < next_probe {
            continue;
        }
        next_probe = Instant::now() + Duration::from_secs(1);
        probes += 1;
        let checks = [
            ("show info", proxy.cli("show info").map(|_| 200)),
            (
                "HTTP/1 probe",
                probe_h1(proxy.fe_h1, &format!("/good/probe-{probes}")),
            ),
            (
                "HTTP/2 probe",
                probe_h2(proxy.fe_h2, &format!("/good/probe2-{probes}")),
            ),
        ];
        for (what, r) in checks {
            env.journal
                .rec("monitor", format!("{what} {probes}: {r:?}"));
            if r != Ok(200) {
                if let Err(e) = proxy.alive() {
                    f.fail(&e);
                }
                f.fail(&format!("{what} during the storm failed: {r:?}"));
            }
        }
    }
    for w in workers {
        if w.join().is_err() {
            f.fail("a client thread panicked");
        }
    }
    let lasted = started.elapsed();
    f.stop.store(true, Ordering::Relaxed);
    if op.join().is_err() {
        f.fail("the operator thread panicked");
    }
    (lasted, probes)
}

/// Nothing leaked: with every client gone, once the timeouts passed, `CurrConns` is back
/// to what an idle proxy reports and no `show stat` row has a current session or a queued
/// stream.
fn check_drained(proxy: &Proxy, f: &Failure, idle_conns: u64) {
    let drained = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(100));
        if let Err(e) = proxy.alive() {
            f.fail(&e);
        }
        let cur = proxy.curr_conns().unwrap_or_else(|e| f.fail(&e));
        let busy = proxy.busy_rows().unwrap_or_else(|e| f.fail(&e));
        if cur <= idle_conns && busy.is_empty() {
            f.journal
                .rec("monitor", format!("drained in {:?}", drained.elapsed()));
            return;
        }
        if drained.elapsed() > DRAIN_LIMIT {
            f.fail(&format!(
                "connections leaked: {DRAIN_LIMIT:?} after the last client left, CurrConns is \
                 {cur} (idle: {idle_conns}); busy rows of show stat: {}",
                busy.join(", ")
            ));
        }
    }
}

/// Still serving: a request through each frontend gets its answer (200 from the
/// well-behaved server, the `return` and `deny` replies, an echo through `li_tcp`), and the
/// final HTTP requests are logged. Returns the number of log lines received.
fn check_serving(proxy: &Proxy, f: &Failure, seed: u64) -> usize {
    let h1_path = format!("/good/final-h1-{seed}");
    let h2_path = format!("/good/final-h2-{seed}");
    let finals = [
        ("fe_h1", probe_h1(proxy.fe_h1, &h1_path), 200),
        ("fe_h2", probe_h2(proxy.fe_h2, &h2_path), 200),
        ("fe_h1 return", probe_h1(proxy.fe_h1, "/ret/final"), 200),
        ("fe_h1 deny", probe_h1(proxy.fe_h1, "/deny/final"), 403),
    ];
    for (what, r, want) in finals {
        f.journal.rec("monitor", format!("final {what}: {r:?}"));
        if r != Ok(want) {
            f.fail(&format!("final request through {what}: {r:?}, not {want}"));
        }
    }
    // li_tcp has a refused and a blackhole server among four: retries and redispatch
    // should reach an echo server, at least in one of three attempts
    let tcp: Vec<Result<(), String>> = (0..3)
        .map(|i| probe_tcp(proxy.li_tcp, &i.to_string()))
        .collect();
    f.journal.rec("monitor", format!("final li_tcp: {tcp:?}"));
    if !tcp.iter().any(Result::is_ok) {
        f.fail(&format!("no echo through li_tcp: {tcp:?}"));
    }

    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let lines = f.logs.lock().unwrap();
        let logged = |fe: &str, path: &str| {
            let fe = format!("{fe} be_good/g");
            lines.iter().any(|l| l.contains(&fe) && l.contains(path))
        };
        let both = logged("fe_h1", &h1_path) && logged("fe_h2", &h2_path);
        let n = lines.len();
        if both {
            return n;
        }
        if Instant::now() > deadline {
            let tail = lines[n.saturating_sub(10)..].join("\n");
            drop(lines);
            f.fail(&format!(
                "the final requests were not logged ({n} log lines in all); last ones:\n{tail}"
            ));
        }
        drop(lines);
        thread::sleep(Duration::from_millis(50));
    }
}

/// What the storm exercised, from the proxy's counters and logs, printed; with a storm of
/// 10 s or more (not a replay), each path below must have been taken at least once: a
/// storm that no longer reaches them (a configuration or script change) tests little.
fn check_exercised(proxy: &Proxy, f: &Failure, p: &Params) {
    let stat = proxy.cli("show stat").unwrap_or_else(|e| f.fail(&e));
    let ls = log_stats(&f.logs.lock().unwrap());
    print_now(&format!(
        "stress: proxy counters: {}; streams queued: {}; termination states: {:?}",
        coverage(&stat),
        ls.queued,
        ls.states
    ));
    if p.only.is_some() || p.secs < 10 {
        return;
    }
    let by = |first: &[char]| -> usize {
        ls.states
            .iter()
            .filter(|(k, _)| k.starts_with(first))
            .map(|(_, v)| v)
            .sum()
    };
    let exercised = [
        ("a retry", backend_sum(&stat, "wretr") as usize),
        ("a redispatch", backend_sum(&stat, "wredis") as usize),
        (
            "a reused server connection",
            backend_sum(&stat, "reuse") as usize,
        ),
        ("a queued stream", ls.queued),
        ("a client abort or timeout (C, c)", by(&['C', 'c'])),
        ("a server abort or timeout (S, s)", by(&['S', 's'])),
        ("a reply or denial by the proxy (L, P)", by(&['L', 'P'])),
        ("a stream ended normally (--)", by(&['-'])),
    ];
    for (what, n) in exercised {
        if n == 0 {
            f.fail(&format!("the storm did not exercise {what}"));
        }
    }
}

/// Soft stop under load: clients run again for 3 s (scripts numbered from 100001, the
/// servers chaotic again); after 1 s the proxy gets SIGUSR1 (it closes its listeners and
/// idle connections, and stops once no stream is left). Once the clients are gone it must
/// have exited with status 0, without a panic, within [`DRAIN_LIMIT`].
fn check_soft_stop(p: &Params, env: &Arc<Env>, proxy: &Proxy, f: &Failure, ctx: &SrvCtx) {
    ctx.calm.store(false, Ordering::Relaxed);
    f.stop.store(false, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(3);
    let workers: Vec<JoinHandle<()>> = (0..p.clients)
        .map(|t| {
            let env = env.clone();
            let stop = f.stop.clone();
            thread::spawn(move || {
                let mut n = 100_000;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    n += 1;
                    run_script(&env, t, n);
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(1));
    let pid = proxy.child.lock().unwrap().id();
    f.journal.rec("monitor", "SIGUSR1 (soft stop)");
    // SAFETY: plain kill(2) to our child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR1) };
    while workers.iter().any(|w| !w.is_finished()) {
        thread::sleep(Duration::from_millis(50));
        if proxy.printed_panic() {
            f.fail("haproxy-rs panicked");
        }
    }
    for w in workers {
        if w.join().is_err() {
            f.fail("a client thread panicked");
        }
    }
    let gone = Instant::now();
    loop {
        if proxy.printed_panic() {
            f.fail("haproxy-rs panicked");
        }
        let status = proxy.child.lock().unwrap().try_wait();
        match status {
            Ok(Some(st)) if st.success() => {
                let what = format!("soft stop: {st} {:?} after the clients", gone.elapsed());
                f.journal.rec("monitor", &what);
                print_now(&format!("stress: {what}"));
                return;
            }
            Ok(Some(st)) => f.fail(&format!("after SIGUSR1 haproxy-rs exited with {st}")),
            Ok(None) if gone.elapsed() > DRAIN_LIMIT => f.fail(&format!(
                "after SIGUSR1 haproxy-rs still runs {DRAIN_LIMIT:?} after the last client left"
            )),
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => f.fail(&format!("cannot wait for haproxy-rs: {e}")),
        }
    }
}

#[test]
fn stress() {
    let p = params();
    let what = match &p.only {
        Some(list) => format!("replaying {} script(s)", list.len()),
        None => format!("{} s, {} clients", p.secs, p.clients),
    };
    print_now(&format!(
        "stress: seed {seed} (replay with HRS_STRESS_SEED={seed}), {what}",
        seed = p.seed
    ));
    let journal = Arc::new(Journal::new());
    let ctx = Arc::new(SrvCtx {
        journal: journal.clone(),
        seed: p.seed,
        calm: AtomicBool::new(false),
    });
    let servers = start_servers(&ctx);
    let (log_port, log_lines) = log_reader();
    let proxy = Arc::new(Proxy::start(&servers.addrs, log_port));
    // what an idle proxy reports (a stats socket connection is not counted, by upstream
    // either; should that change, the drain check still compares with this)
    let idle_conns = proxy.curr_conns().unwrap_or_else(|e| panic!("{e}"));
    let f = Failure {
        seed: p.seed,
        stop: Arc::new(AtomicBool::new(false)),
        journal: &journal,
        proxy: &proxy,
        logs: &log_lines,
    };
    let env = Arc::new(Env {
        journal: journal.clone(),
        tally: Arc::default(),
        seed: p.seed,
        fe_h1: proxy.fe_h1,
        fe_h2: proxy.fe_h2,
        fe_tcp: proxy.fe_tcp,
        li_tcp: proxy.li_tcp,
    });

    let (lasted, probes) = storm(&p, &env, &proxy, &f);
    journal.rec("monitor", "storm over, servers calm");
    ctx.calm.store(true, Ordering::Relaxed);
    check_drained(&proxy, &f, idle_conns);
    let n_logs = check_serving(&proxy, &f, p.seed);
    if let Err(e) = proxy.alive() {
        f.fail(&e);
    }
    check_exercised(&proxy, &f, &p);

    let t = env.tally.lock().unwrap();
    let mut summary = format!(
        "stress: seed {}: {:.1} s of storm, scripts {:?}, {} journal lines, {n_logs} log \
         lines, {probes} probe rounds; outcomes:",
        p.seed,
        lasted.as_secs_f64(),
        t.scripts,
        journal.len(),
    );
    for (k, v) in &t.outcomes {
        let _ = write!(summary, " [{k}] {v}");
    }
    print_now(&summary);
    f.save();
    let bypass: usize = t
        .outcomes
        .iter()
        .filter(|(k, _)| k.contains("418"))
        .map(|(_, v)| v)
        .sum();
    if bypass > 0 {
        f.fail(&format!(
            "{bypass} response(s) 418 reached a client past `http-response deny if {{ status \
             418 }}` (journal: {})",
            journal_file().display()
        ));
    }
    drop(t);
    if p.only.is_none() {
        check_soft_stop(&p, &env, &proxy, &f, &ctx);
        f.save();
    }
    if knob_on("HRS_STRESS_VERBOSE") {
        print_now(&journal.all());
    }
}
