//! Backend connection reuse with HTTP/2 clients and `proto h2` servers (reuse-semantics.md
//! §3, §4, §9 and §15 items 2, 6 and 9), checked against outcomes recorded from upstream
//! HAProxy 2.6: a proxy runs a configuration, receives scripted client traffic, and the
//! *structure* of what happened is its outcome: which requests shared a proxy->origin
//! connection, and the server's `show stat` counters (`connect`, `reuse`, `idle_conn_cur`,
//! `safe_conn_cur`, `used_conn_cur`, `need_conn_est`).
//!
//! The expected outcomes are in `tests/h2/reuse-expected.txt`, one section per case, one
//! outcome per variant. haproxy-rs is always checked against them; upstream `haproxy` too
//! when it is installed (tests/common/reference.rs), so that a change on either side is
//! noticed. Without upstream, each test says how many variants ran on our side only.
//! `HRS_DIFF_BLESS=1` re-records a case from upstream: it runs upstream three times, records
//! the outcomes only if the three agree (and none hit a barrier timeout), then checks as
//! usual; review the diff of the record before committing it. `HRS_H2_UPSTREAM_ONLY=1`
//! runs upstream alone (against the record). Both are knobs, refused under CI.
//!
//! The origin is written here ([`Origin`]), in this process, the same for every run: an h2c
//! listener (prior knowledge), an HTTP/1.1 one, and an h2c one whose idle connections it
//! closes after 1 s (GOAWAY, then close); each answers a request once its body is complete
//! with `o=<listener> conn=<n>`, `n` numbering the origin's connections, and counts the
//! requests whose head reached it, which is how the test knows that a stream is in flight
//! (a request whose body is left open stays in flight: that is how streams are kept
//! concurrent). Outcomes never contain ports or the origin's numbers: each run names its
//! connections `c1`, `c2`... in order of first appearance. The clients are raw ones written
//! here (an h2c client with prior knowledge, codec from tests/common/h2wire.rs, and an
//! HTTP/1.1 client): curl 7.88 cannot reuse or multiplex h2c prior-knowledge connections
//! against HAProxy.
//!
//! Cases: A, four concurrent clients per `http-reuse` mode, cold and with a warm pool
//! (§15.9, E6/E7); B, `max-reuse 1` gives two streams per server connection; C, an H2
//! client's first request counts as "later" (§15.2); D, one H2 client whose streams go to
//! 7 backends: session-owned connections under `never` and the `max-session-srv-conns` cap
//! (§15.6, E5), and the same client under `safe`/`always`; E, the server idles the
//! proxy's connection out (GOAWAY then close): the next request opens a new one and none
//! fails; F, the server's SETTINGS_MAX_CONCURRENT_STREAMS (2 here) bounds streams per
//! connection. Concurrent streams are opened one at a time, each once the previous ones
//! reached the origin, so that no outcome depends on a race.
//!
//! Every proxy runs in its own process group in a fresh temp directory (kept with
//! `HRS_KEEP=1`), listeners are bound here on 127.0.0.1 port 0 and inherited as `fd@N`, and
//! everything is SIGKILLed on drop.

mod common;

use common::h2wire as w;
use common::*;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a response or a barrier may take before the step is recorded as failed.
const WAIT: Duration = Duration::from_secs(3);
/// Settling time before reading counters once the responses arrived.
const SETTLE: Duration = Duration::from_millis(150);

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// A proxy under test (`haproxy` or `haproxy-rs`) on a configuration whose `${NAME}`
/// placeholders became inherited listeners and whose `@DIR@` is its temp directory (holding
/// `cli.sock` and `proxy.log`).
struct Proc {
    child: Child,
    dir: PathBuf,
    addrs: HashMap<String, SocketAddr>,
}

impl Proc {
    fn spawn(bin: &Path, tag: &str, template: &str, names: &[&str]) -> Proc {
        let dir = std::env::temp_dir().join(format!("hrs-h2reuse-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
        let mut config = template.replace("@DIR@", dir.to_str().unwrap());
        let mut listeners = Vec::new();
        let mut addrs = HashMap::new();
        for name in names {
            let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
            addrs.insert(name.to_string(), l.local_addr().unwrap());
            config = config.replace(&format!("${{{name}}}"), &format!("fd@{}", l.as_raw_fd()));
            listeners.push(l);
        }
        std::fs::write(dir.join("haproxy.cfg"), config).expect("cannot write the config");
        let log = File::create(dir.join("proxy.log")).expect("cannot create proxy.log");
        let fds: Vec<i32> = listeners.iter().map(|l| l.as_raw_fd()).collect();
        let mut cmd = Command::new(bin);
        cmd.args(["-d", "-f", "haproxy.cfg"])
            .current_dir(&dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
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
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        drop(listeners);
        let p = Proc { child, dir, addrs };
        // Ready once the stats socket answers (or give up quietly: the outcome will show it).
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline && UnixStream::connect(p.sock()).is_err() {
            sleep(Duration::from_millis(10));
        }
        p
    }

    fn addr(&self, name: &str) -> SocketAddr {
        self.addrs[name]
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("cli.sock")
    }

    /// One CLI command, its whole reply ("" if the socket is not there).
    fn cli(&self, command: &str) -> String {
        let Ok(mut s) = UnixStream::connect(self.sock()) else {
            return String::new();
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s
            .write_all(format!("{command}\n").as_bytes())
            .and_then(|_| s.shutdown(Shutdown::Write));
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The `show stat` counters of server `be/sv`.
    fn stat(&self, be: &str, sv: &str) -> Stat {
        let csv = self.cli("show stat");
        let mut lines = csv.lines();
        let Some(head) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
            return Stat(None);
        };
        let cols: Vec<&str> = head.split(',').collect();
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.first() == Some(&be) && cells.get(1) == Some(&sv) {
                let get = |name: &str| {
                    cols.iter()
                        .position(|c| *c == name)
                        .and_then(|i| cells.get(i))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(-1)
                };
                return Stat(Some([
                    get("connect"),
                    get("reuse"),
                    get("idle_conn_cur"),
                    get("safe_conn_cur"),
                    get("used_conn_cur"),
                    get("need_conn_est"),
                ]));
            }
        }
        Stat(None)
    }

    fn log_tail(&mut self, n: usize) -> String {
        let log = std::fs::read(self.dir.join("proxy.log")).unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = log.lines().collect();
        let mut tail = lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| l.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n");
        if let Ok(Some(st)) = self.child.try_wait() {
            tail.push_str(&format!("\n[exited: {st}]"));
        }
        tail
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("HRS_KEEP").is_some() {
            eprintln!("kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Server counters: connect, reuse, idle_conn_cur, safe_conn_cur, used_conn_cur,
/// need_conn_est (`None`: no stats).
#[derive(Clone, Copy)]
struct Stat(Option<[i64; 6]>);

impl Stat {
    fn connect(&self) -> i64 {
        self.0.map_or(-1, |s| s[0])
    }
    fn reuse(&self) -> i64 {
        self.0.map_or(-1, |s| s[1])
    }
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => write!(f, "stat=unavailable"),
            Some([c, r, i, s, u, n]) => write!(
                f,
                "connect={c} reuse={r} idle={i} safe={s} used={u} need={n}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The origin
// ---------------------------------------------------------------------------------------

/// The origin's listeners. Each answers a request once its body is complete with
/// `o=<name> conn=<n> path=<path>`, `n` numbering the origin's accepted connections from 1.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Listener {
    /// h2c with prior knowledge.
    H2,
    /// HTTP/1.1, keep-alive.
    H1,
    /// h2c whose idle connections time out after 1 s: GOAWAY(last stream, NO_ERROR), close.
    H2Short,
}

impl Listener {
    const ALL: [Listener; 3] = [Listener::H2, Listener::H1, Listener::H2Short];

    /// The name in response bodies.
    fn name(self) -> &'static str {
        match self {
            Listener::H2 => "h2",
            Listener::H1 => "h1",
            Listener::H2Short => "h2short",
        }
    }

    /// How long a connection may stay without a request in progress before the origin
    /// closes it (10 s, the `timeout client` of the former haproxy origin, 1 s for
    /// [`Listener::H2Short`]).
    fn idle(self) -> Duration {
        match self {
            Listener::H2Short => Duration::from_secs(1),
            _ => Duration::from_secs(10),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the origin's threads share with the test.
struct OriginShared {
    /// Requests whose head arrived, per listener (in [`Listener::ALL`] order).
    arrivals: Mutex<[usize; 3]>,
    arrived: Condvar,
    /// The last connection number given.
    conns: AtomicU64,
    /// SETTINGS_MAX_CONCURRENT_STREAMS announced by the h2c listeners.
    max_concurrent_streams: u32,
    stop: AtomicBool,
}

impl OriginShared {
    fn arrival(&self, l: Listener) {
        let mut a = self.arrivals.lock().unwrap();
        a[l.index()] += 1;
        self.arrived.notify_all();
    }
}

/// The origin server the proxies under test forward to, in this process: an h2c listener,
/// an HTTP/1 one and an h2c one with a short idle timeout, bound on 127.0.0.1 port 0, one
/// thread per connection. It is the same for both binaries, and tells the test how many
/// requests reached each listener ([`Origin::arrived`]). Its threads end once it is dropped
/// and the proxies closed their connections.
struct Origin {
    addrs: [SocketAddr; 3],
    shared: Arc<OriginShared>,
}

impl Origin {
    /// Starts the origin; its h2c listeners announce SETTINGS_MAX_CONCURRENT_STREAMS
    /// `max_concurrent_streams` (100 is upstream's default, which the former haproxy
    /// origin announced).
    fn start(max_concurrent_streams: u32) -> Origin {
        let shared = Arc::new(OriginShared {
            arrivals: Mutex::new([0; 3]),
            arrived: Condvar::new(),
            conns: AtomicU64::new(0),
            max_concurrent_streams,
            stop: AtomicBool::new(false),
        });
        let mut addrs = Vec::new();
        for l in Listener::ALL {
            let sock = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
            sock.set_nonblocking(true)
                .expect("cannot make the listener non-blocking");
            addrs.push(sock.local_addr().expect("listener address"));
            let sh = shared.clone();
            std::thread::spawn(move || accept_loop(sock, l, sh));
        }
        Origin {
            addrs: [addrs[0], addrs[1], addrs[2]],
            shared,
        }
    }

    fn addr(&self, l: Listener) -> SocketAddr {
        self.addrs[l.index()]
    }

    /// How many requests reached listener `l` so far (their head arrived).
    fn arrived(&self, l: Listener) -> usize {
        self.shared.arrivals.lock().unwrap()[l.index()]
    }

    /// Waits until at least `n` requests reached listener `l` (false after 2 s).
    fn wait_arrived(&self, l: Listener, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut a = self.shared.arrivals.lock().unwrap();
        while a[l.index()] < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            a = self
                .shared
                .arrived
                .wait_timeout(a, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn accept_loop(sock: TcpListener, l: Listener, sh: Arc<OriginShared>) {
    while !sh.stop.load(Ordering::Relaxed) {
        match sock.accept() {
            Ok((s, _)) => {
                let id = sh.conns.fetch_add(1, Ordering::Relaxed) + 1;
                let sh = sh.clone();
                std::thread::spawn(move || {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_nodelay(true);
                    let mut c = OriginConn {
                        s,
                        buf: Vec::new(),
                        sh,
                        l,
                        id,
                    };
                    match l {
                        Listener::H1 => c.serve_h1(),
                        Listener::H2 | Listener::H2Short => c.serve_h2(),
                    }
                });
            }
            Err(_) => sleep(Duration::from_millis(2)),
        }
    }
}

/// Why an origin connection stops reading.
enum Stop {
    /// The peer closed, an I/O error, or the origin is dropped.
    Gone,
    /// Nothing arrived before the deadline.
    Idle,
}

/// One connection accepted by the origin.
struct OriginConn {
    s: TcpStream,
    buf: Vec<u8>,
    sh: Arc<OriginShared>,
    l: Listener,
    id: u64,
}

impl OriginConn {
    /// Reads more bytes into the buffer, waiting until `deadline` at most.
    fn fill(&mut self, deadline: Instant) -> Result<(), Stop> {
        let mut chunk = [0u8; 16384];
        loop {
            if self.sh.stop.load(Ordering::Relaxed) {
                return Err(Stop::Gone);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Stop::Idle);
            }
            // Short slices, so that a dropped origin is noticed.
            let wait = (deadline - now).min(Duration::from_millis(200));
            let _ = self.s.set_read_timeout(Some(wait));
            match self.s.read(&mut chunk) {
                Ok(0) => return Err(Stop::Gone),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Err(Stop::Gone),
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> bool {
        let _ = self.s.set_write_timeout(Some(Duration::from_secs(5)));
        self.s.write_all(bytes).is_ok()
    }

    /// The body of the answer to `path`.
    fn body(&self, path: &str) -> String {
        format!("o={} conn={} path={path}\n", self.l.name(), self.id)
    }

    // -- HTTP/1.1 --------------------------------------------------------------------

    /// One line without its CRLF (or LF), once complete.
    fn line(&mut self, deadline: Instant) -> Result<String, Stop> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            self.fill(deadline)?;
        }
    }

    /// Skips `n` bytes of body.
    fn skip(&mut self, mut n: usize, deadline: Instant) -> Result<(), Stop> {
        loop {
            let k = n.min(self.buf.len());
            self.buf.drain(..k);
            n -= k;
            if n == 0 {
                return Ok(());
            }
            self.fill(deadline)?;
        }
    }

    /// Keep-alive HTTP/1.1: each request is answered once its body (content-length or
    /// chunked) is complete; the connection closes after `connection: close`, on EOF, or
    /// after [`Listener::idle`] without a request.
    fn serve_h1(&mut self) {
        loop {
            let idle_end = Instant::now() + self.l.idle();
            let Ok(first) = self.line(idle_end) else {
                return;
            };
            if first.is_empty() {
                continue;
            }
            // Within a request, the same 10 s as the former origin's `timeout client`.
            let deadline = Instant::now() + Duration::from_secs(10);
            let path = first.split(' ').nth(1).unwrap_or("").to_string();
            let (mut clen, mut chunked, mut close) = (0usize, false, false);
            loop {
                let Ok(h) = self.line(deadline) else { return };
                if h.is_empty() {
                    break;
                }
                let Some((n, v)) = h.split_once(':') else {
                    continue;
                };
                let (n, v) = (n.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
                match n.as_str() {
                    "content-length" => clen = v.parse().unwrap_or(0),
                    "transfer-encoding" => chunked = v.contains("chunked"),
                    "connection" => close = v.contains("close"),
                    _ => {}
                }
            }
            self.sh.arrival(self.l);
            if chunked {
                loop {
                    let Ok(size) = self.line(deadline) else {
                        return;
                    };
                    let hex = size.split(';').next().unwrap_or("").trim();
                    let n = usize::from_str_radix(hex, 16).unwrap_or(0);
                    if n == 0 {
                        // Trailers, up to the empty line.
                        loop {
                            match self.line(deadline) {
                                Ok(t) if t.is_empty() => break,
                                Ok(_) => {}
                                Err(_) => return,
                            }
                        }
                        break;
                    }
                    if self.skip(n, deadline).is_err() || self.line(deadline).is_err() {
                        return;
                    }
                }
            } else if self.skip(clen, deadline).is_err() {
                return;
            }
            let body = self.body(&path);
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{body}",
                body.len()
            );
            if !self.write(resp.as_bytes()) || close {
                return;
            }
        }
    }

    // -- h2c -------------------------------------------------------------------------

    /// The next complete frame `(type, flags, stream, payload)`, or why there is none
    /// before `deadline`.
    fn frame(&mut self, deadline: Instant) -> Result<(u8, u8, u32, Vec<u8>), Stop> {
        loop {
            if self.buf.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
                if self.buf.len() >= 9 + len {
                    let (ty, flags) = (self.buf[3], self.buf[4]);
                    let sid =
                        u32::from_be_bytes([self.buf[5], self.buf[6], self.buf[7], self.buf[8]])
                            & 0x7fff_ffff;
                    let payload = self.buf[9..9 + len].to_vec();
                    self.buf.drain(..9 + len);
                    return Ok((ty, flags, sid, payload));
                }
            }
            self.fill(deadline)?;
        }
    }

    /// Answers stream `sid`: HEADERS (200, content-type, content-length), then the body
    /// in one DATA frame with END_STREAM.
    fn answer_h2(&mut self, sid: u32, path: &str) -> bool {
        let body = self.body(path);
        let len = body.len().to_string();
        let block = w::encode(&[
            (":status", "200"),
            ("content-type", "text/plain"),
            ("content-length", &len),
        ]);
        let mut out = w::headers(sid, w::END_HEADERS, &block);
        out.extend(w::data(sid, w::END_STREAM, body.as_bytes()));
        self.write(&out)
    }

    /// h2c with prior knowledge: the preface, our SETTINGS (MAX_CONCURRENT_STREAMS only),
    /// ACKs of SETTINGS and PINGs, WINDOW_UPDATEs for every DATA byte, and each stream
    /// answered once it is half-closed by the peer. After [`Listener::idle`] with no stream
    /// open: GOAWAY(last stream, NO_ERROR), then close. Nothing else is checked.
    fn serve_h2(&mut self) {
        let mut deadline = Instant::now() + self.l.idle();
        while self.buf.len() < w::PREFACE.len() {
            if self.fill(deadline).is_err() {
                return;
            }
        }
        if !self.buf.starts_with(w::PREFACE) {
            return;
        }
        self.buf.drain(..w::PREFACE.len());
        let mcs = self.sh.max_concurrent_streams;
        if !self.write(&w::settings(&[(w::SETTINGS_MAX_CONCURRENT_STREAMS, mcs)])) {
            return;
        }
        let mut dec = w::Decoder::new(4096);
        // Open streams (their request head arrived) and their paths.
        let mut streams: HashMap<u32, String> = HashMap::new();
        // A header block being gathered: stream, END_STREAM, fragments.
        let mut block: Option<(u32, bool, Vec<u8>)> = None;
        let mut last_sid = 0u32;
        loop {
            let (ty, flags, sid, payload) = match self.frame(deadline) {
                Ok(f) => f,
                Err(Stop::Idle) if streams.is_empty() => {
                    self.write(&w::goaway(last_sid, w::NO_ERROR, b""));
                    let _ = self.s.shutdown(Shutdown::Both);
                    return;
                }
                // A stream open for 10 s: the former origin's `timeout client` too.
                Err(_) => return,
            };
            let mut done: Option<(u32, bool, Vec<u8>)> = None;
            let mut ok = true;
            match ty {
                w::SETTINGS if flags & w::ACK == 0 => ok = self.write(&w::settings_ack()),
                w::PING if flags & w::ACK == 0 && payload.len() == 8 => {
                    let mut p = [0u8; 8];
                    p.copy_from_slice(&payload);
                    ok = self.write(&w::ping(true, p));
                }
                w::HEADERS => {
                    let mut p: &[u8] = &payload;
                    if flags & w::PADDED != 0 {
                        let pad = p.first().copied().unwrap_or(0) as usize;
                        p = p.get(1..p.len().saturating_sub(pad)).unwrap_or(&[]);
                    }
                    if flags & w::PRIORITY_FLAG != 0 {
                        p = p.get(5..).unwrap_or(&[]);
                    }
                    last_sid = last_sid.max(sid);
                    let b = (sid, flags & w::END_STREAM != 0, p.to_vec());
                    if flags & w::END_HEADERS != 0 {
                        done = Some(b);
                    } else {
                        block = Some(b);
                    }
                }
                w::CONTINUATION => {
                    if let Some(b) = &mut block {
                        b.2.extend_from_slice(&payload);
                    }
                    if flags & w::END_HEADERS != 0 {
                        done = block.take();
                    }
                }
                w::DATA => {
                    if !payload.is_empty() {
                        let n = payload.len() as u32;
                        let mut wu = w::window_update(0, n);
                        if flags & w::END_STREAM == 0 {
                            wu.extend(w::window_update(sid, n));
                        }
                        ok = self.write(&wu);
                    }
                    if flags & w::END_STREAM != 0 {
                        if let Some(path) = streams.remove(&sid) {
                            ok = ok && self.answer_h2(sid, &path);
                        }
                    }
                }
                w::RST_STREAM => {
                    streams.remove(&sid);
                }
                _ => {}
            }
            if let Some((sid, es, frag)) = done {
                // Every block goes through the decoder: its dynamic table must follow.
                let Ok(fields) = dec.decode(&frag) else {
                    self.write(&w::goaway(last_sid, w::COMPRESSION_ERROR, b""));
                    return;
                };
                if let Some(path) = streams.get(&sid).cloned() {
                    // Trailers of an open stream.
                    if es {
                        streams.remove(&sid);
                        ok = ok && self.answer_h2(sid, &path);
                    }
                } else {
                    let path = fields
                        .iter()
                        .find(|(n, _)| n == b":path")
                        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default();
                    self.sh.arrival(self.l);
                    if es {
                        ok = ok && self.answer_h2(sid, &path);
                    } else {
                        streams.insert(sid, path);
                    }
                }
            }
            if !ok {
                return;
            }
            deadline = Instant::now()
                + if streams.is_empty() {
                    self.l.idle()
                } else {
                    Duration::from_secs(10)
                };
        }
    }
}

/// The global and defaults sections of every proxy under test.
const HEAD: &str = r#"global
    nbthread 1
    stats socket @DIR@/cli.sock level admin
defaults
    mode http
    timeout client 10s
    timeout server 10s
    timeout connect 2s
"#;

/// Starts the proxy under test: `HEAD` + `body`, where `${FE}` is an h2c listener, `${FE1}`
/// an HTTP/1 one, and `@H2@`, `@H1@`, `@H2S@` the origin's addresses.
fn proxy(bin: &Path, tag: &str, origin: &Origin, body: &str) -> Proc {
    let cfg = format!("{HEAD}{body}")
        .replace("@H2@", &origin.addr(Listener::H2).to_string())
        .replace("@H1@", &origin.addr(Listener::H1).to_string())
        .replace("@H2S@", &origin.addr(Listener::H2Short).to_string());
    Proc::spawn(bin, tag, &cfg, &["FE", "FE1"])
}

// ---------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------

/// What one request got.
#[derive(Default, Clone, Debug)]
struct Resp {
    status: Option<u16>,
    body: Vec<u8>,
    done: bool,
    error: Option<String>,
}

impl Resp {
    /// The origin's number of the connection that carried the request, if it succeeded
    /// through the origin.
    fn conn(&self) -> Result<u64, String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.done {
            return Err("no-response".into());
        }
        let body = String::from_utf8_lossy(&self.body);
        if self.status == Some(200) {
            if let Some(n) = body
                .split_whitespace()
                .find_map(|w| w.strip_prefix("conn="))
                .and_then(|n| n.parse().ok())
            {
                return Ok(n);
            }
        }
        match self.status {
            Some(s) => Err(format!("status={s}")),
            None => Err("status=?".into()),
        }
    }
}

/// A raw h2c client (prior knowledge) on one connection.
struct H2Conn {
    s: Option<TcpStream>,
    rbuf: Vec<u8>,
    next_id: u32,
    streams: BTreeMap<u32, Resp>,
    /// Why the connection stopped (EOF, GOAWAY, I/O error).
    gone: Option<String>,
    /// A wait timed out already: later ones are short (a hung proxy must not stall the run).
    timed_out: bool,
    /// The proxy's header compression context.
    dec: w::Decoder,
    /// A response header block being gathered across CONTINUATION frames.
    block: Option<(u32, u8, Vec<u8>)>,
}

impl H2Conn {
    fn connect(addr: SocketAddr) -> H2Conn {
        let mut c = H2Conn {
            s: TcpStream::connect(addr).ok(),
            rbuf: Vec::new(),
            next_id: 1,
            streams: BTreeMap::new(),
            gone: None,
            timed_out: false,
            dec: w::Decoder::new(4096),
            block: None,
        };
        if c.s.is_none() {
            c.gone = Some("connect-failed".into());
        }
        c.write(&[w::PREFACE, &w::settings(&[])].concat());
        c
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(s) = &mut self.s {
            if let Err(e) = s.write_all(bytes) {
                self.gone.get_or_insert(format!("write: {e}"));
            }
        }
    }

    /// Opens a stream: `POST path`, its body left open unless `end`.
    fn open(&mut self, path: &str, end: bool) -> u32 {
        let id = self.next_id;
        self.next_id += 2;
        let block = w::encode(&w::request_fields("POST", path, "127.0.0.1", &[]));
        let flags = w::END_HEADERS | if end { w::END_STREAM } else { 0 };
        self.write(&w::headers(id, flags, &block));
        self.streams.insert(id, Resp::default());
        id
    }

    /// Ends the body of stream `id` (an empty DATA frame with END_STREAM).
    fn end(&mut self, id: u32) {
        self.write(&w::data(id, w::END_STREAM, &[]));
    }

    /// Reads and handles frames until the streams `ids` are complete or `deadline`.
    fn wait(&mut self, ids: &[u32], deadline: Instant) {
        let deadline = if self.timed_out {
            deadline.min(Instant::now() + Duration::from_millis(300))
        } else {
            deadline
        };
        let mut buf = [0u8; 16384];
        loop {
            while self.handle_frame() {}
            if ids.iter().all(|id| self.streams[id].done) || self.gone.is_some() {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let Some(s) = &mut self.s else { break };
            let _ = s.set_read_timeout(Some(deadline - now));
            match s.read(&mut buf) {
                Ok(0) => self.gone = Some("closed".into()),
                Ok(n) => self.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => self.gone = Some(format!("read: {}", e.kind())),
            }
        }
        while self.handle_frame() {}
        let gone = self.gone.clone();
        for id in ids {
            let r = self.streams.get_mut(id).unwrap();
            if !r.done && r.error.is_none() {
                r.error = Some(match &gone {
                    Some(g) => format!("conn-{g}"),
                    None => "timeout".into(),
                });
                self.timed_out |= gone.is_none();
            }
        }
    }

    /// Opens `path` with its body complete and waits for the response.
    fn request(&mut self, path: &str) -> Resp {
        let id = self.open(path, true);
        self.wait(&[id], Instant::now() + WAIT);
        self.streams[&id].clone()
    }

    /// Handles one complete frame from the read buffer; false if there is none.
    fn handle_frame(&mut self) -> bool {
        if self.rbuf.len() < 9 {
            return false;
        }
        let len = u32::from_be_bytes([0, self.rbuf[0], self.rbuf[1], self.rbuf[2]]) as usize;
        if self.rbuf.len() < 9 + len {
            return false;
        }
        let (ty, flags) = (self.rbuf[3], self.rbuf[4]);
        let id = u32::from_be_bytes([self.rbuf[5], self.rbuf[6], self.rbuf[7], self.rbuf[8]])
            & 0x7fff_ffff;
        let payload: Vec<u8> = self.rbuf[9..9 + len].to_vec();
        self.rbuf.drain(..9 + len);
        // Strips padding (PADDED) and, for HEADERS, the priority fields (PRIORITY).
        let unpad = |p: &[u8], prio: bool| -> Vec<u8> {
            let (mut p, mut pad) = (p, 0usize);
            if flags & w::PADDED != 0 && !p.is_empty() {
                pad = p[0] as usize;
                p = &p[1..];
            }
            if prio && flags & w::PRIORITY_FLAG != 0 && p.len() >= 5 {
                p = &p[5..];
            }
            p[..p.len().saturating_sub(pad)].to_vec()
        };
        let be32 = |b: &[u8]| {
            b.get(..4)
                .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        };
        match ty {
            w::DATA => {
                let data = unpad(&payload, false);
                if !payload.is_empty() {
                    let wu = w::window_update(0, payload.len() as u32);
                    self.write(&wu);
                }
                if let Some(r) = self.streams.get_mut(&id) {
                    r.body.extend_from_slice(&data);
                    if flags & w::END_STREAM != 0 {
                        r.done = true;
                    }
                }
            }
            w::HEADERS => {
                let frag = unpad(&payload, true);
                self.block = Some((id, flags, frag));
                if flags & w::END_HEADERS != 0 {
                    self.end_block();
                }
            }
            w::CONTINUATION => {
                if let Some(b) = &mut self.block {
                    b.2.extend_from_slice(&payload);
                }
                if flags & w::END_HEADERS != 0 {
                    self.end_block();
                }
            }
            w::RST_STREAM => {
                if let Some(r) = self.streams.get_mut(&id) {
                    if !r.done {
                        r.error = Some(format!("rst={}", be32(&payload)));
                        r.done = true;
                    }
                }
            }
            w::SETTINGS if flags & w::ACK == 0 => self.write(&w::settings_ack()),
            w::PING if flags & w::ACK == 0 && payload.len() == 8 => {
                let mut p = [0u8; 8];
                p.copy_from_slice(&payload);
                self.write(&w::ping(true, p));
            }
            w::GOAWAY => {
                let last = be32(&payload) & 0x7fff_ffff;
                for (sid, r) in self.streams.iter_mut() {
                    if *sid > last && !r.done {
                        r.error = Some("goaway".into());
                        r.done = true;
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Decodes a complete response header block: the `:status` of its stream (the first
    /// block, not trailers), and the end of the stream if the HEADERS carried END_STREAM.
    fn end_block(&mut self) {
        let Some((id, flags, block)) = self.block.take() else {
            return;
        };
        let fields = self.dec.decode(&block);
        if let Some(r) = self.streams.get_mut(&id) {
            match fields {
                Ok(f) => {
                    if r.status.is_none() {
                        r.status = f
                            .iter()
                            .find(|(n, _)| n == b":status")
                            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok());
                    }
                }
                Err(e) => r.error = Some(format!("hpack: {e}")),
            }
            if flags & w::END_STREAM != 0 {
                r.done = true;
            }
        }
    }
}

/// A raw HTTP/1.1 client on one keep-alive connection.
struct H1Conn {
    s: Option<TcpStream>,
    rbuf: Vec<u8>,
}

impl H1Conn {
    fn connect(addr: SocketAddr) -> H1Conn {
        H1Conn {
            s: TcpStream::connect(addr).ok(),
            rbuf: Vec::new(),
        }
    }

    /// Sends a `POST path` whose chunked body is left open unless `end`.
    fn open(&mut self, path: &str, end: bool) {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        if end {
            req.push_str("0\r\n\r\n");
        }
        if let Some(s) = &mut self.s {
            let _ = s.write_all(req.as_bytes());
        }
    }

    /// Ends the chunked body.
    fn end(&mut self) {
        if let Some(s) = &mut self.s {
            let _ = s.write_all(b"0\r\n\r\n");
        }
    }

    /// Reads one response (with a content-length, as all of this file's are).
    fn response(&mut self) -> Resp {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 16384];
        let mut r = Resp::default();
        loop {
            if let Some(h) = self.rbuf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.rbuf[..h]).into_owned();
                let clen = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if self.rbuf.len() >= h + 4 + clen {
                    r.status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
                    r.body = self.rbuf[h + 4..h + 4 + clen].to_vec();
                    r.done = true;
                    self.rbuf.drain(..h + 4 + clen);
                    return r;
                }
            }
            let now = Instant::now();
            let Some(s) = &mut self.s else {
                r.error = Some("connect-failed".into());
                return r;
            };
            if now >= deadline {
                r.error = Some("timeout".into());
                return r;
            }
            let _ = s.set_read_timeout(Some(deadline - now));
            match s.read(&mut buf) {
                Ok(0) => {
                    r.error = Some("conn-closed".into());
                    return r;
                }
                Ok(n) => self.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    r.error = Some(format!("read: {}", e.kind()));
                    return r;
                }
            }
        }
    }

    fn request(&mut self, path: &str) -> Resp {
        self.open(path, true);
        self.response()
    }
}

/// Names the origin's connections `c1`, `c2`... in order of first appearance in a run
/// (the origin's own numbers depend on what connected before).
#[derive(Default)]
struct Labels(HashMap<u64, usize>);

impl Labels {
    fn of(&mut self, r: &Resp) -> String {
        match r.conn() {
            Ok(p) => {
                let n = self.0.len() + 1;
                format!("c{}", self.0.entry(p).or_insert(n))
            }
            Err(e) => format!("ERR({e})"),
        }
    }

    fn list(&mut self, rs: &[Resp]) -> String {
        let v: Vec<String> = rs.iter().map(|r| self.of(r)).collect();
        format!("[{}]", v.join(","))
    }

    /// How many distinct connections a `list` names.
    fn count_in(&self, list: &str) -> usize {
        let mut v: Vec<&str> = list
            .trim_matches(['[', ']'])
            .split(',')
            .filter(|l| l.starts_with('c'))
            .collect();
        v.sort();
        v.dedup();
        v.len()
    }

    /// How many distinct connections were seen so far.
    fn count(&self) -> usize {
        self.0.len()
    }
}

/// How many requests each connection carried, in label order: `[2,2,1]`.
fn per_conn(labels: &str) -> String {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for l in labels.trim_matches(['[', ']']).split(',') {
        if let Some(n) = l.strip_prefix('c').and_then(|n| n.parse().ok()) {
            *counts.entry(n).or_default() += 1;
        }
    }
    let v: Vec<String> = counts.values().map(|c| c.to_string()).collect();
    format!("[{}]", v.join(","))
}

// ---------------------------------------------------------------------------------------
// The record and the driver
// ---------------------------------------------------------------------------------------

/// The expected outcomes, under `tests/`.
const RECORD: &str = "h2/reuse-expected.txt";
/// The knob that re-records a case from upstream.
const BLESS: &str = "HRS_DIFF_BLESS";
/// How many upstream runs must agree before their outcomes are recorded.
const BLESS_RUNS: usize = 3;
/// The head of a new record file.
const RECORD_HEAD: &str = "\
# Expected outcomes of tests/h2_reuse.rs, recorded from upstream HAProxy 2.6 (three
# agreeing runs, `HRS_DIFF_BLESS=1`) and reviewed. One section per case (`== A`), then per
# variant its name and, indented, its outcome (each line after `| `). haproxy-rs is
# checked against it always, upstream whenever it is installed.
";

/// One variant's outcome, and the proxy's log tail for diagnostics.
struct Outcome {
    name: String,
    text: String,
    log: String,
}

/// Builds an outcome, grabbing the proxy's log tail.
fn outcome(name: &str, text: String, p: &mut Proc) -> Outcome {
    Outcome {
        name: name.to_string(),
        text,
        log: p.log_tail(15),
    }
}

/// The recorded outcomes of `case`, `None` if the record has no section for it. In a
/// section, each variant is its name, then its outcome indented by two spaces.
fn recorded(case: &str) -> Option<Vec<(String, String)>> {
    let lines = reference::Record::read(RECORD).sections.remove(case)?;
    Some(variants_of(&lines))
}

/// Pairs a section's lines into (variant, outcome).
fn variants_of(lines: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in lines {
        match (l.strip_prefix("  "), out.last_mut()) {
            (Some(t), Some((_, text))) if text.is_empty() => *text = t.to_string(),
            (Some(t), _) => out.push((String::new(), t.to_string())),
            (None, _) => out.push((l.clone(), String::new())),
        }
    }
    out
}

/// Replaces (or adds) `case`'s section of the record with `outcomes`.
fn write_record(case: &str, outcomes: &[(String, String)]) {
    let lines: Vec<String> = outcomes
        .iter()
        .flat_map(|(n, t)| [n.clone(), format!("  {t}")])
        .collect();
    reference::Record::write_section(RECORD, RECORD_HEAD, case, &lines);
}

fn pairs(outcomes: &[Outcome]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .map(|o| (o.name.clone(), o.text.clone()))
        .collect()
}

/// Prints a run's outcomes (shown with `--nocapture`, or when the test fails).
fn show(case: &str, label: &str, outcomes: &[Outcome]) {
    let mut s = format!("== {case}: {label}\n");
    for o in outcomes {
        s.push_str(&format!("  {}: {}\n", o.name, o.text));
    }
    eprint!("{s}");
}

/// What differs between the record and a run of `label`: one paragraph per variant.
fn compare(label: &str, want: &[(String, String)], got: &[Outcome], with_log: bool) -> String {
    let mut report = String::new();
    for (i, (name, text)) in want.iter().enumerate() {
        match got.get(i) {
            Some(g) if g.name == *name && g.text == *text => {}
            Some(g) if g.name == *name => {
                report.push_str(&format!(
                    "{name}:\n  recorded:   {text}\n  {label}: {}\n",
                    g.text
                ));
                if with_log {
                    report.push_str(&format!("  {label} log tail:\n{}\n", g.log));
                }
            }
            Some(g) => report.push_str(&format!(
                "variant {} is {:?} in the record, {:?} in the run of {label}\n",
                i + 1,
                name,
                g.name
            )),
            None => report.push_str(&format!("{name}: not run by {label}\n")),
        }
    }
    for g in got.iter().skip(want.len()) {
        report.push_str(&format!("{}: run by {label}, not in the record\n", g.name));
    }
    report
}

/// Checks `case` (a list of variants, each on a fresh proxy) against its recorded
/// outcomes: haproxy-rs always (unless `HRS_H2_UPSTREAM_ONLY`), upstream when installed.
/// With `HRS_DIFF_BLESS`, upstream's outcomes are recorded first (three agreeing runs).
///
/// # Panics
/// On any difference from the record, a missing record, or a knob that cannot be honoured
/// (bless or upstream-only without upstream).
fn differential(case: &str, run: fn(&Path, &str) -> Vec<Outcome>) {
    let test = format!("h2_reuse {case}");
    let up = upstream(&test);
    let upstream_only = knob_on("HRS_H2_UPSTREAM_ONLY");
    let mut report = String::new();
    let mut upstream_checked = false;
    if knob_on(BLESS) {
        let up = up
            .as_ref()
            .unwrap_or_else(|| panic!("{test}: {BLESS} records upstream's outcomes: no upstream"));
        let runs: Vec<Vec<Outcome>> = (0..BLESS_RUNS)
            .map(|k| run(up, &format!("{case}-bless{k}")))
            .collect();
        for (k, r) in runs.iter().enumerate() {
            show(case, &format!("upstream run {}", k + 1), r);
        }
        let first = pairs(&runs[0]);
        for (k, r) in runs.iter().enumerate().skip(1) {
            let d = compare(&format!("upstream run {}", k + 1), &first, r, false);
            assert!(
                d.is_empty(),
                "{test}: not recorded, upstream runs 1 and {} differ:\n{d}",
                k + 1
            );
        }
        assert!(
            !first.iter().any(|(_, t)| t.contains("BARRIER-TIMEOUT")),
            "{test}: not recorded, a barrier timed out (the origin did not see a stream in time)"
        );
        write_record(case, &first);
        print_now(&format!(
            "{test}: recorded {} outcomes from {BLESS_RUNS} agreeing upstream runs in \
             tests/{RECORD}: review its diff",
            first.len()
        ));
        upstream_checked = true;
    }
    let want = recorded(case).unwrap_or_else(|| {
        panic!(
            "{test}: tests/{RECORD} has no section `== {case}`: record it from upstream with \
             {BLESS}=1, then review it"
        )
    });
    match &up {
        Some(up) if !upstream_checked => {
            let got = run(up, &format!("{case}-up"));
            show(case, "upstream HAProxy 2.6", &got);
            let d = compare("upstream  ", &want, &got, false);
            if !d.is_empty() {
                report.push_str(&format!(
                    "upstream no longer gives the recorded outcomes (if upstream changed, \
                     re-record with {BLESS}=1 and review):\n{d}"
                ));
            }
        }
        None if upstream_only => {
            panic!("{test}: HRS_H2_UPSTREAM_ONLY is set and there is no upstream: nothing runs")
        }
        _ => {}
    }
    if !upstream_only {
        let got = run(&hrs(), &format!("{case}-hrs"));
        show(case, "haproxy-rs", &got);
        let d = compare("haproxy-rs", &want, &got, true);
        if !d.is_empty() {
            report.push_str(&format!(
                "haproxy-rs differs from the recorded outcomes:\n{d}"
            ));
        }
        if up.is_none() {
            ours_only(&test, "reuse variants", want.len());
        }
    }
    assert!(report.is_empty(), "{test}:\n{report}");
}

/// The record parses back to what was written: names and outcomes in order, sections by
/// name, any text (empty lines, leading spaces) intact; a stray line is refused.
#[test]
fn record_format_round_trips() {
    let mut rec = reference::Record::parse(RECORD_HEAD).unwrap();
    let a = vec![
        "first variant: x, y".to_string(),
        "  conns=[c1] a{b}".to_string(),
        "second".to_string(),
        "  z".to_string(),
    ];
    let b = vec![String::new(), " lead".into(), "| bar".into(), String::new()];
    rec.sections.insert("B".into(), b.clone());
    rec.sections.insert("A".into(), a.clone());
    let text = rec.render();
    assert!(text.starts_with(RECORD_HEAD) && text.contains("== A\n| first variant: x, y\n"));
    let back = reference::Record::parse(&text).unwrap();
    assert_eq!(back.head, RECORD_HEAD);
    assert_eq!(back.sections.len(), 2);
    assert_eq!(back.sections["A"], a);
    assert_eq!(back.sections["B"], b);
    assert_eq!(
        variants_of(&a),
        vec![
            (
                "first variant: x, y".to_string(),
                "conns=[c1] a{b}".to_string()
            ),
            ("second".to_string(), "z".to_string()),
        ]
    );
    assert!(reference::Record::parse("== A\nstray\n").is_err());
    assert!(reference::Record::parse("| before any section\n").is_err());
}

// ---------------------------------------------------------------------------------------
// A. Concurrent clients against one `proto h2` server, per mode, cold and warm pool
// ---------------------------------------------------------------------------------------

/// `n` client connections (H2 unless `h1`), each with one request held open; each one is
/// opened only once the previous ones reached the origin (its h2c listener); then all are
/// released. Returns the labels, the stats while in flight and the stats after.
fn concurrent_clients(
    p: &Proc,
    origin: &Origin,
    labels: &mut Labels,
    n: usize,
    h1: bool,
) -> String {
    let before = origin.arrived(Listener::H2);
    let mut h2s = Vec::new();
    let mut h1s = Vec::new();
    let mut barrier = true;
    for i in 0..n {
        if h1 {
            let mut c = H1Conn::connect(p.addr("FE1"));
            c.open(&format!("/c{i}"), false);
            h1s.push(c);
        } else {
            let mut c = H2Conn::connect(p.addr("FE"));
            let id = c.open(&format!("/c{i}"), false);
            h2s.push((c, id));
        }
        barrier = barrier && origin.wait_arrived(Listener::H2, before + i + 1);
    }
    let during = p.stat("be", "s1");
    let mut rs = Vec::new();
    for c in &mut h1s {
        c.end();
    }
    for (c, id) in &mut h2s {
        c.end(*id);
    }
    for c in &mut h1s {
        rs.push(c.response());
    }
    for (c, id) in &mut h2s {
        c.wait(&[*id], Instant::now() + WAIT);
        rs.push(c.streams[id].clone());
    }
    sleep(SETTLE);
    let after = p.stat("be", "s1");
    let l = labels.list(&rs);
    format!(
        "{}conns={l} per_conn={} during{{{during}}} after{{{after}}}",
        if barrier { "" } else { "BARRIER-TIMEOUT " },
        per_conn(&l)
    )
}

fn case_a(bin: &Path, tag: &str) -> Vec<Outcome> {
    let origin = &Origin::start(100);
    let mut out = Vec::new();
    for mode in ["always", "aggressive", "safe"] {
        let body = format!(
            "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n    default_backend be\n\
             backend be\n    http-reuse {mode}\n    server s1 @H2@ proto h2\n"
        );
        // Cold start: four concurrent H2 clients.
        let mut p = proxy(bin, &format!("{tag}-cold-{mode}"), origin, &body);
        let mut labels = Labels::default();
        let text = concurrent_clients(&p, origin, &mut labels, 4, false);
        out.push(outcome(&format!("cold {mode} 4xH2"), text, &mut p));
        drop(p);
        // Cold start: four concurrent H1 clients (isolates the backend H2 mux).
        let mut p = proxy(bin, &format!("{tag}-coldh1-{mode}"), origin, &body);
        let mut labels = Labels::default();
        let text = concurrent_clients(&p, origin, &mut labels, 4, true);
        out.push(outcome(&format!("cold {mode} 4xH1"), text, &mut p));
        drop(p);
        // Warm pool: one complete H2 request (its client then closes), then three
        // concurrent H2 clients.
        let mut p = proxy(bin, &format!("{tag}-warm-{mode}"), origin, &body);
        let mut labels = Labels::default();
        let first = H2Conn::connect(p.addr("FE")).request("/warm");
        let w = labels.of(&first);
        sleep(SETTLE);
        let pool = p.stat("be", "s1");
        let text = concurrent_clients(&p, origin, &mut labels, 3, false);
        let text = format!(
            "warm={w} pool{{{pool}}} then {text} total_conns={}",
            labels.count()
        );
        out.push(outcome(&format!("warm {mode} 1+3xH2"), text, &mut p));
    }
    out
}

#[test]
fn a_concurrent_clients_per_mode() {
    differential("A", case_a);
}

// ---------------------------------------------------------------------------------------
// B. `max-reuse 1`: at most two streams per server connection
// ---------------------------------------------------------------------------------------

fn case_b(bin: &Path, tag: &str) -> Vec<Outcome> {
    let origin = &Origin::start(100);
    let body = "frontend fe\n    bind ${FE} proto h2\n    bind ${FE1}\n    default_backend be\n\
                backend be\n    http-reuse always\n    server s1 @H2@ proto h2 max-reuse 1\n";
    let mut out = Vec::new();
    // Five sequential H2 clients, one request each.
    let mut p = proxy(bin, &format!("{tag}-seq"), origin, body);
    let mut labels = Labels::default();
    let rs: Vec<Resp> = (0..5)
        .map(|i| H2Conn::connect(p.addr("FE")).request(&format!("/s{i}")))
        .collect();
    sleep(SETTLE);
    let l = labels.list(&rs);
    let text = format!("conns={l} per_conn={} {}", per_conn(&l), p.stat("be", "s1"));
    out.push(outcome(
        "always max-reuse 1, 5 sequential H2 clients",
        text,
        &mut p,
    ));
    drop(p);
    // One H2 client, five sequential streams on its connection.
    let mut p = proxy(bin, &format!("{tag}-onec"), origin, body);
    let mut labels = Labels::default();
    let mut c = H2Conn::connect(p.addr("FE"));
    let rs: Vec<Resp> = (0..5).map(|i| c.request(&format!("/o{i}"))).collect();
    sleep(SETTLE);
    let l = labels.list(&rs);
    let text = format!("conns={l} per_conn={} {}", per_conn(&l), p.stat("be", "s1"));
    out.push(outcome(
        "always max-reuse 1, 1 H2 client x5 sequential",
        text,
        &mut p,
    ));
    drop(p);
    // Five concurrent H2 clients.
    let mut p = proxy(bin, &format!("{tag}-conc"), origin, body);
    let mut labels = Labels::default();
    let text = concurrent_clients(&p, origin, &mut labels, 5, false);
    out.push(outcome(
        "always max-reuse 1, 5 concurrent H2 clients",
        text,
        &mut p,
    ));
    drop(p);
    // One H2 client with five concurrent streams.
    let mut p = proxy(bin, &format!("{tag}-mux"), origin, body);
    let mut labels = Labels::default();
    let mut c = H2Conn::connect(p.addr("FE"));
    let before = origin.arrived(Listener::H2);
    let mut ids = Vec::new();
    let mut barrier = true;
    for i in 0..5 {
        ids.push(c.open(&format!("/m{i}"), false));
        barrier = barrier && origin.wait_arrived(Listener::H2, before + i + 1);
    }
    let during = p.stat("be", "s1");
    for id in &ids {
        c.end(*id);
    }
    c.wait(&ids, Instant::now() + WAIT);
    let rs: Vec<Resp> = ids.iter().map(|id| c.streams[id].clone()).collect();
    sleep(SETTLE);
    let l = labels.list(&rs);
    let text = format!(
        "{}conns={l} per_conn={} during{{{during}}} after{{{}}}",
        if barrier { "" } else { "BARRIER-TIMEOUT " },
        per_conn(&l),
        p.stat("be", "s1")
    );
    out.push(outcome(
        "always max-reuse 1, 1 H2 client x5 concurrent",
        text,
        &mut p,
    ));
    out
}

#[test]
fn b_max_reuse_one() {
    differential("B", case_b);
}

// ---------------------------------------------------------------------------------------
// C. An H2 client's first request counts as "later"
// ---------------------------------------------------------------------------------------

fn case_c(bin: &Path, tag: &str) -> Vec<Outcome> {
    let origin = &Origin::start(100);
    let mut out = Vec::new();
    for mode in ["safe", "aggressive"] {
        for (srv, server) in [("h1-server", "@H1@"), ("h2-server", "@H2@ proto h2")] {
            for second in ["H1", "H2"] {
                let body = format!(
                    "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n    \
                     default_backend be\nbackend be\n    http-reuse {mode}\n    \
                     server s1 {server}\n"
                );
                let tg = format!("{tag}-{mode}-{srv}-{second}");
                let mut p = proxy(bin, &tg, origin, &body);
                let mut labels = Labels::default();
                // One H1 client, one request, then it closes.
                let first = H1Conn::connect(p.addr("FE1")).request("/first");
                let a = labels.of(&first);
                sleep(SETTLE);
                let s0 = p.stat("be", "s1");
                // A new client's first request.
                let r = if second == "H1" {
                    H1Conn::connect(p.addr("FE1")).request("/second")
                } else {
                    H2Conn::connect(p.addr("FE")).request("/second")
                };
                let b = labels.of(&r);
                sleep(SETTLE);
                let s1 = p.stat("be", "s1");
                let text = format!(
                    "first={a} pool{{{s0}}} second={b} after{{{s1}}} delta connect=+{} reuse=+{}",
                    s1.connect() - s0.connect(),
                    s1.reuse() - s0.reuse()
                );
                let name = format!("{mode} {srv}: H1 request, then {second} client's first");
                out.push(outcome(&name, text, &mut p));
            }
        }
    }
    out
}

#[test]
fn c_h2_first_request_is_later() {
    differential("C", case_c);
}

// ---------------------------------------------------------------------------------------
// D. One H2 client, streams routed to 7 backends: session-owned connections and the cap
// ---------------------------------------------------------------------------------------

/// A frontend routing `/bN` to backend `bN` (N = 1..7), each with one server `s1`.
fn seven_backends(mode: &str, server: &str, fe_extra: &str) -> String {
    let mut cfg = format!("frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n{fe_extra}");
    for i in 1..=7 {
        cfg.push_str(&format!("    use_backend b{i} if {{ path_beg /b{i} }}\n"));
    }
    cfg.push_str("    default_backend b1\n");
    for i in 1..=7 {
        cfg.push_str(&format!(
            "backend b{i}\n    http-reuse {mode}\n    server s1 {server}\n"
        ));
    }
    cfg
}

/// The connect/reuse counters of the seven backends' servers: `connect=[..] reuse=[..]`.
fn seven_stats(p: &Proc) -> String {
    let s: Vec<Stat> = (1..=7).map(|i| p.stat(&format!("b{i}"), "s1")).collect();
    let c: Vec<String> = s.iter().map(|s| s.connect().to_string()).collect();
    let r: Vec<String> = s.iter().map(|s| s.reuse().to_string()).collect();
    format!("connect=[{}] reuse=[{}]", c.join(","), r.join(","))
}

fn case_d(bin: &Path, tag: &str) -> Vec<Outcome> {
    let origin = &Origin::start(100);
    let mut out = Vec::new();
    let variants: &[(&str, &str, &str, &str)] = &[
        ("never", "h2", "@H2@ proto h2", ""),
        (
            "never",
            "h2",
            "@H2@ proto h2",
            "    max-session-srv-conns 2\n",
        ),
        ("never", "h1", "@H1@", ""),
        ("never", "h1", "@H1@", "    max-session-srv-conns 2\n"),
        ("safe", "h2", "@H2@ proto h2", ""),
        ("always", "h2", "@H2@ proto h2", ""),
        ("safe", "h1", "@H1@", ""),
    ];
    for (k, &(mode, srv, server, extra)) in variants.iter().enumerate() {
        let body = seven_backends(mode, server, extra);
        let mut p = proxy(bin, &format!("{tag}-seq{k}"), origin, &body);
        let mut labels = Labels::default();
        let mut c = H2Conn::connect(p.addr("FE"));
        let r1: Vec<Resp> = (1..=7).map(|i| c.request(&format!("/b{i}"))).collect();
        sleep(SETTLE);
        let r2: Vec<Resp> = (1..=7).map(|i| c.request(&format!("/b{i}"))).collect();
        sleep(SETTLE);
        let text = format!(
            "round1={} round2={} {}",
            labels.list(&r1),
            labels.list(&r2),
            seven_stats(&p)
        );
        let cap = if extra.is_empty() { "" } else { " cap=2" };
        let name = format!("{mode}{cap} {srv}-servers, 1 H2 client, 7 backends x2 rounds");
        out.push(outcome(&name, text, &mut p));
    }
    // One backend, one server, 7 concurrent streams of one H2 client, twice.
    let conc: &[(&str, &str, &str, Listener, &str)] = &[
        ("never", "h1", "@H1@", Listener::H1, ""),
        (
            "never",
            "h1",
            "@H1@",
            Listener::H1,
            "    max-session-srv-conns 2\n",
        ),
        ("never", "h2", "@H2@ proto h2", Listener::H2, ""),
        ("safe", "h1", "@H1@", Listener::H1, ""),
    ];
    for (k, &(mode, srv, server, fe, extra)) in conc.iter().enumerate() {
        let body = format!(
            "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n{extra}    \
             default_backend be\nbackend be\n    http-reuse {mode}\n    server s1 {server}\n"
        );
        let mut p = proxy(bin, &format!("{tag}-conc{k}"), origin, &body);
        let mut labels = Labels::default();
        let mut c = H2Conn::connect(p.addr("FE"));
        let mut rounds = Vec::new();
        let mut barrier = true;
        for round in 0..2 {
            // Each stream is opened once the previous ones reached the origin: streams
            // arriving together before the first connection is established would each open
            // their own (a timing race).
            let before = origin.arrived(fe);
            let mut ids = Vec::new();
            for i in 0..7 {
                ids.push(c.open(&format!("/r{round}-{i}"), false));
                barrier = barrier && origin.wait_arrived(fe, before + i + 1);
            }
            let during = p.stat("be", "s1");
            for id in &ids {
                c.end(*id);
            }
            c.wait(&ids, Instant::now() + WAIT);
            let rs: Vec<Resp> = ids.iter().map(|id| c.streams[id].clone()).collect();
            sleep(SETTLE);
            // Which stream got which connection depends on timing: only the counts are
            // compared.
            let known = labels.count();
            let l = labels.list(&rs);
            let fresh = labels.count() - known;
            let errors = rs.iter().filter(|r| r.conn().is_err()).count();
            rounds.push(format!(
                "round{}: per_conn={} new_conns={fresh} reused_conns={} errors={errors} \
                 during{{{during}}} after{{{}}}",
                round + 1,
                per_conn(&l),
                labels.count_in(&l) - fresh,
                p.stat("be", "s1")
            ));
        }
        let text = format!(
            "{}{} total_conns={}",
            if barrier { "" } else { "BARRIER-TIMEOUT " },
            rounds.join(" "),
            labels.count()
        );
        let cap = if extra.is_empty() { "" } else { " cap=2" };
        let name = format!("{mode}{cap} {srv}-server, 1 H2 client, 7 concurrent streams x2");
        out.push(outcome(&name, text, &mut p));
    }
    out
}

#[test]
fn d_session_connections_seven_backends() {
    differential("D", case_d);
}

// ---------------------------------------------------------------------------------------
// E. The server idles out the proxy's connection (GOAWAY, close)
// ---------------------------------------------------------------------------------------

fn case_e(bin: &Path, tag: &str) -> Vec<Outcome> {
    let origin = &Origin::start(100);
    let mut ps = Vec::new();
    // The variants run side by side: each waits 1.5 s for the origin's idle timeout.
    for mode in ["always", "safe", "never"] {
        for client in ["H2", "H1"] {
            let body = format!(
                "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n    \
                 default_backend be\nbackend be\n    http-reuse {mode}\n    \
                 server s1 @H2S@ proto h2\n"
            );
            let p = proxy(bin, &format!("{tag}-{mode}-{client}"), origin, &body);
            ps.push((mode, client, p));
        }
    }
    enum Client {
        H2(H2Conn),
        H1(H1Conn),
    }
    let mut state = Vec::new();
    for (_, client, p) in &ps {
        let mut labels = Labels::default();
        // The client keeps its connection across the wait (private connections under
        // `never` live with it).
        let (c, r) = if *client == "H2" {
            let mut c = H2Conn::connect(p.addr("FE"));
            let r = c.request("/e1");
            (Client::H2(c), r)
        } else {
            let mut c = H1Conn::connect(p.addr("FE1"));
            let r = c.request("/e1");
            (Client::H1(c), r)
        };
        let a = labels.of(&r);
        state.push((c, labels, a, Stat(None)));
    }
    sleep(SETTLE);
    for ((_, _, p), st) in ps.iter().zip(&mut state) {
        st.3 = p.stat("be", "s1");
    }
    sleep(Duration::from_millis(1500));
    let mut out = Vec::new();
    for ((mode, client, mut p), (mut c, mut labels, a, s0)) in ps.into_iter().zip(state) {
        let s1 = p.stat("be", "s1");
        let r = match &mut c {
            Client::H2(c) => c.request("/e2"),
            Client::H1(c) => c.request("/e2"),
        };
        let b = labels.of(&r);
        sleep(SETTLE);
        let s2 = p.stat("be", "s1");
        let text =
            format!("first={a} pool{{{s0}}} after-idle-timeout{{{s1}}} second={b} after{{{s2}}}");
        let name = format!("{mode} {client} client, origin idle timeout 1s");
        out.push(outcome(&name, text, &mut p));
    }
    out
}

#[test]
fn e_server_goaway_on_idle() {
    differential("E", case_e);
}

// ---------------------------------------------------------------------------------------
// F. The server's SETTINGS_MAX_CONCURRENT_STREAMS bounds the streams per connection
// ---------------------------------------------------------------------------------------

fn case_f(bin: &Path, tag: &str) -> Vec<Outcome> {
    // An origin announcing SETTINGS_MAX_CONCURRENT_STREAMS 2.
    let origin = &Origin::start(2);
    let mut out = Vec::new();
    for mode in ["always", "aggressive"] {
        let body = format!(
            "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n    default_backend be\n\
             backend be\n    http-reuse {mode}\n    server s1 @H2@ proto h2\n"
        );
        let mut p = proxy(bin, &format!("{tag}-{mode}"), origin, &body);
        let mut labels = Labels::default();
        // A warm-up request, so that the server's SETTINGS are known before the concurrent
        // streams arrive.
        let w = labels.of(&H2Conn::connect(p.addr("FE")).request("/warm"));
        sleep(SETTLE);
        let text = concurrent_clients(&p, origin, &mut labels, 5, false);
        let name = format!("{mode}, server max-concurrent-streams 2, 1 + 5 concurrent H2 clients");
        out.push(outcome(&name, format!("warm={w} then {text}"), &mut p));
    }
    out
}

#[test]
fn f_server_max_concurrent_streams() {
    differential("F", case_f);
}
