//! Differential tests of backend connection reuse with HTTP/2 clients and `proto h2` servers
//! (reuse-semantics.md §3, §4, §9 and §15 items 2, 6 and 9): upstream HAProxy 2.6 and
//! haproxy-rs run the same proxy configuration, receive the same scripted client traffic,
//! and the *structure* of what happened must be the same: which requests shared a
//! proxy->origin connection, and the server's `show stat` counters (`connect`, `reuse`,
//! `idle_conn_cur`, `safe_conn_cur`, `used_conn_cur`, `need_conn_est`).
//!
//! The origin is a separate upstream `haproxy` process (test infrastructure, the same for both
//! runs) with h2c and HTTP/1 frontends that answer `o=<frontend> port=<src_port>` once the
//! request body is complete (`http-request wait-for-body`): the source port says which proxy
//! connection carried the request, and a request whose body is left open stays in flight,
//! which is how streams are kept concurrent. Its `show sess` tells when the streams reached
//! it. Ports are never compared between runs: each run names its connections `c1`, `c2`...
//! in order of first appearance. The clients are raw ones written here (an h2c client with
//! prior knowledge and a minimal HPACK encoder, and an HTTP/1.1 client): curl 7.88 cannot
//! reuse or multiplex h2c prior-knowledge connections against HAProxy.
//!
//! Cases: A, four concurrent clients per `http-reuse` mode, cold and with a warm pool
//! (§15.9, E6/E7); B, `max-reuse 1` gives two streams per server connection; C, an H2
//! client's first request counts as "later" (§15.2); D, one H2 client whose streams go to
//! 7 backends: session-owned connections under `never` and the `max-session-srv-conns` cap
//! (§15.6, E5), and the same client under `safe`/`always`; E, the server idles the
//! proxy's connection out (GOAWAY then close): the next request opens a new one and none
//! fails; F, the server's SETTINGS_MAX_CONCURRENT_STREAMS bounds streams per connection.
//! Concurrent streams are opened one at a time, each once the previous ones reached the
//! origin, so that no outcome depends on a race.
//!
//! `HRS_H2_UPSTREAM_ONLY=1` runs upstream only and prints its outcomes (the spec). Every
//! process runs in its own process group in a fresh temp directory, listeners are bound here
//! on 127.0.0.1 port 0 and inherited as `fd@N`, and everything is SIGKILLed on drop.

mod common;

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
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a response or a barrier may take before the step is recorded as failed.
const WAIT: Duration = Duration::from_secs(3);
/// Settling time before reading counters once the responses arrived.
const SETTLE: Duration = Duration::from_millis(150);

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// A `haproxy`-like process on a configuration whose `${NAME}` placeholders became inherited
/// listeners and whose `@DIR@` is its temp directory (holding `cli.sock` and `proxy.log`).
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

    /// How many streams of frontend `fe` are in progress (`show sess`).
    fn streams(&self, fe: &str) -> usize {
        let pat = format!(" fe={fe} ");
        self.cli("show sess")
            .lines()
            .filter(|l| l.contains(&pat))
            .count()
    }

    /// Waits until frontend `fe` has at least `n` streams in progress (false on timeout).
    fn wait_streams(&self, fe: &str, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if self.streams(fe) >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(10));
        }
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

/// The origin: h2c frontend `h2o`, HTTP/1 frontend `h1o`, and `h2short`, an h2c frontend
/// whose idle client connections time out after 1 s (GOAWAY then close).
const ORIGIN: &str = r#"global
    nbthread 1
    stats socket @DIR@/cli.sock level admin
defaults
    mode http
    timeout client 10s
    timeout server 10s
    timeout connect 2s
frontend h2o
    bind ${H2} proto h2
    http-request wait-for-body time 5s
    http-request return status 200 content-type text/plain lf-string "o=h2 port=%[src_port] path=%[path]\n"
frontend h1o
    bind ${H1}
    http-request wait-for-body time 5s
    http-request return status 200 content-type text/plain lf-string "o=h1 port=%[src_port] path=%[path]\n"
frontend h2short
    bind ${H2S} proto h2
    timeout client 1s
    http-request wait-for-body time 5s
    http-request return status 200 content-type text/plain lf-string "o=h2short port=%[src_port] path=%[path]\n"
"#;

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
fn proxy(bin: &Path, tag: &str, origin: &Proc, body: &str) -> Proc {
    let cfg = format!("{HEAD}{body}")
        .replace("@H2@", &origin.addr("H2").to_string())
        .replace("@H1@", &origin.addr("H1").to_string())
        .replace("@H2S@", &origin.addr("H2S").to_string());
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
    /// The origin's source port, if the request succeeded through it.
    fn port(&self) -> Result<u16, String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.done {
            return Err("no-response".into());
        }
        let body = String::from_utf8_lossy(&self.body);
        if self.status == Some(200) {
            if let Some(p) = body
                .split_whitespace()
                .find_map(|w| w.strip_prefix("port="))
                .and_then(|p| p.parse().ok())
            {
                return Ok(p);
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
        };
        if c.s.is_none() {
            c.gone = Some("connect-failed".into());
        }
        let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        preface.extend(frame(4, 0, 0, &[]));
        c.write(&preface);
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
        let mut block = vec![0x83, 0x86]; // :method POST, :scheme http
        hpack_lit(&mut block, 4, path); // :path
        hpack_lit(&mut block, 1, "127.0.0.1"); // :authority
        let flags = 0x4 | if end { 0x1 } else { 0 };
        let f = frame(1, flags, id, &block);
        self.write(&f);
        self.streams.insert(id, Resp::default());
        id
    }

    /// Ends the body of stream `id` (an empty DATA frame with END_STREAM).
    fn end(&mut self, id: u32) {
        let f = frame(0, 0x1, id, &[]);
        self.write(&f);
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
        let id = u32::from_be_bytes(self.rbuf[5..9].try_into().unwrap()) & 0x7fff_ffff;
        let payload: Vec<u8> = self.rbuf[9..9 + len].to_vec();
        self.rbuf.drain(..9 + len);
        // Strips padding (PADDED) and, for HEADERS, the priority fields (PRIORITY).
        let unpad = |p: &[u8], prio: bool| -> Vec<u8> {
            let (mut p, mut pad) = (p, 0usize);
            if flags & 0x8 != 0 && !p.is_empty() {
                pad = p[0] as usize;
                p = &p[1..];
            }
            if prio && flags & 0x20 != 0 && p.len() >= 5 {
                p = &p[5..];
            }
            p[..p.len().saturating_sub(pad)].to_vec()
        };
        match ty {
            0 => {
                let data = unpad(&payload, false);
                if !data.is_empty() {
                    let n = (payload.len() as u32).to_be_bytes();
                    let wu = frame(8, 0, 0, &n);
                    self.write(&wu);
                }
                if let Some(r) = self.streams.get_mut(&id) {
                    r.body.extend_from_slice(&data);
                    if flags & 0x1 != 0 {
                        r.done = true;
                    }
                }
            }
            1 => {
                let block = unpad(&payload, true);
                if let Some(r) = self.streams.get_mut(&id) {
                    if r.status.is_none() {
                        r.status = hpack_status(&block);
                    }
                    if flags & 0x1 != 0 {
                        r.done = true;
                    }
                }
            }
            3 => {
                if let Some(r) = self.streams.get_mut(&id) {
                    if !r.done {
                        let code = payload
                            .get(..4)
                            .map_or(0, |c| u32::from_be_bytes(c.try_into().unwrap()));
                        r.error = Some(format!("rst={code}"));
                        r.done = true;
                    }
                }
            }
            4 if flags & 0x1 == 0 => {
                let ack = frame(4, 0x1, 0, &[]);
                self.write(&ack);
            }
            6 if flags & 0x1 == 0 => {
                let pong = frame(6, 0x1, 0, &payload);
                self.write(&pong);
            }
            7 => {
                let last = payload.get(..4).map_or(0, |c| {
                    u32::from_be_bytes(c.try_into().unwrap()) & 0x7fff_ffff
                });
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
}

/// One HTTP/2 frame.
fn frame(ty: u8, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], ty, flags];
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// HPACK "literal without indexing, indexed name" (`idx` < 15), raw value (< 127 bytes).
fn hpack_lit(block: &mut Vec<u8>, idx: u8, value: &str) {
    block.push(idx);
    block.push(value.len() as u8);
    block.extend_from_slice(value.as_bytes());
}

/// The `:status` of a response header block: the first field, indexed from the static table
/// or a literal with the static `:status` name (raw or Huffman-coded digits).
fn hpack_status(block: &[u8]) -> Option<u16> {
    let mut i = 0;
    // Skips dynamic table size updates (001xxxxx, possibly multi-byte).
    while i < block.len() && block[i] & 0xe0 == 0x20 {
        let more = block[i] & 0x1f == 0x1f;
        i += 1;
        while more && i < block.len() && block[i] & 0x80 != 0 {
            i += 1;
        }
        if more {
            i += 1;
        }
    }
    let b = *block.get(i)?;
    if b & 0x80 != 0 {
        return match b & 0x7f {
            8 => Some(200),
            9 => Some(204),
            10 => Some(206),
            11 => Some(304),
            12 => Some(400),
            13 => Some(404),
            14 => Some(500),
            _ => None,
        };
    }
    let idx = if b & 0xc0 == 0x40 { b & 0x3f } else { b & 0x0f };
    if !(8..=14).contains(&idx) {
        return None;
    }
    let lb = *block.get(i + 1)?;
    let len = (lb & 0x7f) as usize;
    let val = block.get(i + 2..i + 2 + len)?;
    let digits = if lb & 0x80 == 0 {
        String::from_utf8_lossy(val).into_owned()
    } else {
        huffman_digits(val)
    };
    digits.parse().ok()
}

/// Decodes a Huffman-coded string made of digits only ('0'-'2': 5 bits, '3'-'9': 6 bits).
fn huffman_digits(bytes: &[u8]) -> String {
    let bits: Vec<u8> = bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |k| (b >> k) & 1))
        .collect();
    let take = |at: usize, n: usize| -> Option<u8> {
        let s = bits.get(at..at + n)?;
        Some(s.iter().fold(0, |v, b| (v << 1) | b))
    };
    let (mut at, mut out) = (0, String::new());
    while let Some(v5) = take(at, 5) {
        if v5 <= 2 {
            out.push((b'0' + v5) as char);
            at += 5;
        } else if let Some(v6 @ 0x19..=0x1f) = take(at, 6) {
            out.push((b'3' + v6 - 0x19) as char);
            at += 6;
        } else {
            break;
        }
    }
    out
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

/// Names the origin's source ports `c1`, `c2`... in order of first appearance.
#[derive(Default)]
struct Labels(HashMap<u16, usize>);

impl Labels {
    fn of(&mut self, r: &Resp) -> String {
        match r.port() {
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
// The differential driver
// ---------------------------------------------------------------------------------------

/// One variant's outcome, and the proxy's log tail for diagnostics.
struct Outcome {
    name: String,
    text: String,
    log: String,
}

/// Runs `case` (a list of variants against one origin) with upstream, then (unless
/// `HRS_H2_UPSTREAM_ONLY` is set) with haproxy-rs, and compares the outcomes.
fn differential(case: &str, run: fn(&Path, &Proc, &str) -> Vec<Outcome>) {
    let Some(up) = upstream(case) else {
        return;
    };
    let origin = Proc::spawn(&up, &format!("{case}-origin"), ORIGIN, &["H2", "H1", "H2S"]);
    let expected = run(&up, &origin, &format!("{case}-up"));
    let mut spec = format!("== {case}: upstream HAProxy 2.6\n");
    for o in &expected {
        spec.push_str(&format!("  {}: {}\n", o.name, o.text));
    }
    eprint!("{spec}");
    if std::env::var_os("HRS_H2_UPSTREAM_ONLY").is_some_and(|v| v != "0") {
        return;
    }
    let got = run(&hrs(), &origin, &format!("{case}-hrs"));
    let mut ours = format!("== {case}: haproxy-rs\n");
    for o in &got {
        ours.push_str(&format!("  {}: {}\n", o.name, o.text));
    }
    eprint!("{ours}");
    let mut report = String::new();
    for (e, g) in expected.iter().zip(&got) {
        if e.text != g.text {
            report.push_str(&format!(
                "{}:\n  upstream:   {}\n  haproxy-rs: {}\n  haproxy-rs log tail:\n{}\n",
                e.name, e.text, g.text, g.log
            ));
        }
    }
    if expected.len() != got.len() {
        report.push_str("different numbers of variants\n");
    }
    assert!(
        report.is_empty(),
        "{case}: haproxy-rs differs from upstream\n{report}"
    );
}

/// Builds an outcome, grabbing the proxy's log tail.
fn outcome(name: &str, text: String, p: &mut Proc) -> Outcome {
    Outcome {
        name: name.to_string(),
        text,
        log: p.log_tail(15),
    }
}

// ---------------------------------------------------------------------------------------
// A. Concurrent clients against one `proto h2` server, per mode, cold and warm pool
// ---------------------------------------------------------------------------------------

/// `n` client connections (H2 unless `h1`), each with one request held open; each one is
/// opened only once the previous ones reached the origin (its frontend `h2o`); then all are
/// released. Returns the labels, the stats while in flight and the stats after.
fn concurrent_clients(p: &Proc, origin: &Proc, labels: &mut Labels, n: usize, h1: bool) -> String {
    let fe = "h2o";
    let before = origin.streams(fe);
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
        barrier = barrier && origin.wait_streams(fe, before + i + 1);
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

fn case_a(bin: &Path, origin: &Proc, tag: &str) -> Vec<Outcome> {
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

fn case_b(bin: &Path, origin: &Proc, tag: &str) -> Vec<Outcome> {
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
    let before = origin.streams("h2o");
    let mut ids = Vec::new();
    let mut barrier = true;
    for i in 0..5 {
        ids.push(c.open(&format!("/m{i}"), false));
        barrier = barrier && origin.wait_streams("h2o", before + i + 1);
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

fn case_c(bin: &Path, origin: &Proc, tag: &str) -> Vec<Outcome> {
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

fn case_d(bin: &Path, origin: &Proc, tag: &str) -> Vec<Outcome> {
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
    let conc: &[(&str, &str, &str, &str, &str)] = &[
        ("never", "h1", "@H1@", "h1o", ""),
        (
            "never",
            "h1",
            "@H1@",
            "h1o",
            "    max-session-srv-conns 2\n",
        ),
        ("never", "h2", "@H2@ proto h2", "h2o", ""),
        ("safe", "h1", "@H1@", "h1o", ""),
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
            let before = origin.streams(fe);
            let mut ids = Vec::new();
            for i in 0..7 {
                ids.push(c.open(&format!("/r{round}-{i}"), false));
                barrier = barrier && origin.wait_streams(fe, before + i + 1);
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
            let errors = rs.iter().filter(|r| r.port().is_err()).count();
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

fn case_e(bin: &Path, origin: &Proc, tag: &str) -> Vec<Outcome> {
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

fn case_f(bin: &Path, _: &Proc, tag: &str) -> Vec<Outcome> {
    // Its own origin, announcing SETTINGS_MAX_CONCURRENT_STREAMS 2 (always upstream).
    let up = upstream("h2_reuse case F").unwrap();
    let cfg = ORIGIN.replace(
        "nbthread 1",
        "nbthread 1\n    tune.h2.max-concurrent-streams 2",
    );
    let origin = Proc::spawn(&up, &format!("{tag}-origin2"), &cfg, &["H2", "H1", "H2S"]);
    let mut out = Vec::new();
    for mode in ["always", "aggressive"] {
        let body = format!(
            "frontend fe\n    bind ${{FE}} proto h2\n    bind ${{FE1}}\n    default_backend be\n\
             backend be\n    http-reuse {mode}\n    server s1 @H2@ proto h2\n"
        );
        let mut p = proxy(bin, &format!("{tag}-{mode}"), &origin, &body);
        let mut labels = Labels::default();
        // A warm-up request, so that the server's SETTINGS are known before the concurrent
        // streams arrive.
        let w = labels.of(&H2Conn::connect(p.addr("FE")).request("/warm"));
        sleep(SETTLE);
        let text = concurrent_clients(&p, &origin, &mut labels, 5, false);
        let name = format!("{mode}, server max-concurrent-streams 2, 1 + 5 concurrent H2 clients");
        out.push(outcome(&name, format!("warm={w} then {text}"), &mut p));
    }
    out
}

#[test]
fn f_server_max_concurrent_streams() {
    differential("F", case_f);
}
