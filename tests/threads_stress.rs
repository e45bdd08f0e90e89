//! A stress test of the threading model (`docs/threads.md`): haproxy-rs (the debug binary,
//! where the lock order is checked at every acquisition) runs `nbthread 4` and serves
//! well-behaved traffic for a bounded time while an operator disables and enables servers
//! on the stats socket. Nothing may go wrong: every request is answered once, by a server,
//! without an error; no server ever serves more than its `maxconn` at once; the proxy never
//! panics, never stalls, and stops cleanly.
//!
//! - **Servers** (threads here, on 127.0.0.1 port 0): two backends of roundrobin servers,
//!   `be_safe` (`http-reuse safe`, four servers, `maxconn 3`) and `be_always` (`http-reuse
//!   always`, three servers, `maxconn 4`): fewer slots than the clients of each backend
//!   (about 25 on average), with `retries 3`, `option redispatch` and
//!   timeouts far longer than the run, so queues form and nothing may time out. Each server
//!   answers every request with a 200 whose body names the server and the request's id,
//!   after 0 to 3 ms, keeps the connection until the proxy closes it (or the request says
//!   `connection: close`), records every id it receives and counts the requests it is
//!   serving at once (from the end of the request head to just before the response is
//!   written, so the count never exceeds what the proxy holds as served).
//! - **Clients** ([`DEFAULT_CLIENTS`] threads): the even ones keep-alive (2 to 8 requests per
//!   connection, the last one sometimes with `connection: close`, else the client just
//!   closes), the odd ones one request per connection with `connection: close`. Each
//!   request goes to a random backend (`/<backend>/<id>`) and carries a unique id (in the
//!   path and in `x-req-id`).
//! - **An operator** on the admin stats socket, every 20 to 120 ms: `disable server`,
//!   `enable server`, `set server ... state maint|drain|ready` on a random server (never
//!   leaving a backend without a ready server, so no 503 is legitimate), or a read (`show
//!   stat`, `show info`, `show servers conn|state`). Every state change must be answered
//!   with an empty reply. At the end every server is made ready again.
//! - **A monitor** (the test's thread) checks every 50 ms that the proxy runs and printed
//!   no panic, and that requests keep completing: none for [`STALL_LIMIT`] is a stall (a
//!   deadlock), reported with every thread's backtrace when `gdb` can attach.
//!
//! **Checked** at the end: every request got a 200 whose body names a server of its backend
//! and its own id (a response given to the wrong client would show); every id reached the
//! servers exactly once (none lost, none sent twice, none unknown); no server saw more than
//! its `maxconn` requests at once, and `show stat`'s `smax` says the same; once the clients
//! are gone every `scur`/`qcur` returns to 0 and `show info`'s `CurrConns` to 0; `show
//! stat` agrees with what was sent (the frontend's `req_tot` and `hrsp_2xx`, each backend's
//! `stot`, each server's `stot` against the requests it received, no `econ`/`eresp`/
//! `wretr`/`wredis`); with 20 clients or more for 3 s or more, each backend queued streams
//! (`qmax`) and reused server connections (`reuse`), or the run proved little; `show info`
//! says `Nbthread: 4`; last, SIGUSR1 (soft stop) makes the
//! proxy exit with status 0 within [`STOP_LIMIT`]; its output never has `panicked`, the
//! watchdog's `is about to kill the process` or a `lock order` violation.
//!
//! **Seed and replay.** The default seed varies per run (time-based) and is printed on the
//! real stderr and in every failure; `HRS_TSTRESS_SEED=<n>` reruns the same choices (each
//! client's requests, each server connection's delays, the operator's actions). The
//! interleaving of the threads is not reproducible, so a replay makes a failure likely
//! again, not certain.
//!
//! Knobs (`common::knob`, refused under CI): `HRS_TSTRESS_SECS` (duration of the traffic,
//! default [`DEFAULT_SECS`]), `HRS_TSTRESS_CLIENTS` (default [`DEFAULT_CLIENTS`]),
//! `HRS_TSTRESS_SEED`; `HRS_TSTRESS_TRACE=1` runs the proxy with `-d` (its per-request
//! trace in the log; slower) instead of `-db`; `HRS_TSTRESS_UPSTREAM=1` runs the same
//! storm against upstream haproxy (to check the test's own expectations: upstream's
//! `served` may exceed `maxconn`, `docs/threads.md`); `HRS_KEEP=1` keeps the proxy's temp
//! directory. `make soak` runs it with 200 clients for 30 s.

mod common;
use common::rng::Rng;

use common::{knob, knob_on, ours_only, print_now, upstream};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds of traffic when `HRS_TSTRESS_SECS` is not set (the test takes about 1 s more).
const DEFAULT_SECS: u64 = 8;
/// Client threads when `HRS_TSTRESS_CLIENTS` is not set.
const DEFAULT_CLIENTS: usize = 50;
/// The proxy's threads.
const NBTHREAD: usize = 4;
/// No request completed for this long while clients run: the proxy is stalled (a deadlock
/// is forever; a busy machine may pause the proxy for a while).
const STALL_LIMIT: Duration = Duration::from_secs(10);
/// How long one response may take (far more than any queue should last).
const RSP_LIMIT: Duration = Duration::from_secs(15);
/// How long the proxy may take to exit after SIGUSR1, or to close everything once the
/// clients are gone.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// One backend and the servers played here for it (name, `maxconn`).
struct Group {
    backend: &'static str,
    reuse: &'static str,
    servers: &'static [(&'static str, usize)],
}

const GROUPS: &[Group] = &[
    Group {
        backend: "be_safe",
        reuse: "safe",
        servers: &[("s1", 3), ("s2", 3), ("s3", 3), ("s4", 3)],
    },
    Group {
        backend: "be_always",
        reuse: "always",
        servers: &[("a1", 4), ("a2", 4), ("a3", 4)],
    },
];

/// The proxy's configuration without its backends; `@DIR@` is the temp directory, `@FE@`
/// the inherited listener.
const CONFIG_HEAD: &str = r#"global
    nbthread 4
    maxconn 4000
    stats socket @DIR@/admin.sock level admin
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout queue 60s
    timeout http-request 60s
    timeout http-keep-alive 60s
    retries 3
    option redispatch
frontend fe
    bind "fd@@FE@"
    use_backend be_always if { path_beg /be_always/ }
    default_backend be_safe
"#;

// ---------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers: `common::rng`.

/// The seed of one generator, derived from the run's seed and two numbers.
fn derive(seed: u64, a: u64, b: u64) -> u64 {
    let mut r = Rng(seed ^ a.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ b.rotate_left(32));
    r.next()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of header `name` in a message head's lines.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

// ---------------------------------------------------------------------------------------
// What happened, for the failure report.

/// Timestamped events (operator actions, failures), the last ones printed on failure.
struct Events {
    t0: Instant,
    lines: Mutex<Vec<String>>,
}

impl Events {
    fn rec(&self, who: &str, what: impl AsRef<str>) {
        let line = format!(
            "+{:.3} {who}: {}",
            self.t0.elapsed().as_secs_f64(),
            what.as_ref()
        );
        self.lines.lock().unwrap().push(line);
    }

    fn tail(&self, n: usize) -> String {
        let l = self.lines.lock().unwrap();
        l[l.len().saturating_sub(n)..].join("\n")
    }
}

// ---------------------------------------------------------------------------------------
// The servers.

/// One server played here.
struct Srv {
    /// `backend/server`.
    name: String,
    maxconn: usize,
    addr: SocketAddr,
    /// Requests being served now, and the most ever served at once.
    inflight: AtomicUsize,
    max_seen: AtomicUsize,
    /// Requests received, and connections accepted.
    requests: AtomicU64,
    conns: AtomicU64,
}

/// What all servers received: each id, with the servers that received it.
#[derive(Default)]
struct Received {
    ids: Mutex<HashMap<String, Vec<String>>>,
    /// Requests whose `x-req-id` was not the id of their path.
    mixed: Mutex<Vec<String>>,
}

/// Starts server `name` with its accept loop; it lives as long as the test process.
fn start_server(name: String, maxconn: usize, seed: u64, n: u64, rcv: Arc<Received>) -> Arc<Srv> {
    let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a server");
    let srv = Arc::new(Srv {
        name,
        maxconn,
        addr: l.local_addr().unwrap(),
        inflight: AtomicUsize::new(0),
        max_seen: AtomicUsize::new(0),
        requests: AtomicU64::new(0),
        conns: AtomicU64::new(0),
    });
    let s2 = srv.clone();
    thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { continue };
            let k = s2.conns.fetch_add(1, Relaxed);
            let (srv, rcv) = (s2.clone(), rcv.clone());
            let rng = Rng(derive(seed, 1000 + n, k));
            thread::spawn(move || serve_conn(c, &srv, &rcv, rng));
        }
    });
    srv
}

/// Serves requests on one connection until the proxy closes it or asks for a close.
fn serve_conn(mut s: TcpStream, srv: &Srv, rcv: &Received, mut rng: Rng) {
    let _ = s.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let now = srv.inflight.fetch_add(1, Relaxed) + 1;
        srv.max_seen.fetch_max(now, Relaxed);
        srv.requests.fetch_add(1, Relaxed);
        let path = head.split(' ').nth(1).unwrap_or("");
        let id = path.rsplit('/').next().unwrap_or("").to_string();
        if header(&head, "x-req-id") != Some(id.as_str()) {
            rcv.mixed
                .lock()
                .unwrap()
                .push(format!("{}: {head:?}", srv.name));
        }
        rcv.ids
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_default()
            .push(srv.name.clone());
        let close = header(&head, "connection").is_some_and(|v| v.contains("close"));
        let ms = if rng.chance(40) { 0 } else { rng.range(1, 3) };
        thread::sleep(Duration::from_millis(ms as u64));
        // not serving any more before the proxy can see the response: the proxy frees the
        // slot only after it read it, so this count never exceeds the proxy's `served`
        srv.inflight.fetch_sub(1, Relaxed);
        let body = format!("{} {id}\n", srv.name);
        let rsp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "connection: close\r\n" } else { "" }
        );
        if s.write_all(rsp.as_bytes()).is_err() || close {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The proxy.

/// A running proxy (haproxy-rs or, with `HRS_TSTRESS_UPSTREAM`, upstream). Dropping it
/// kills its process group and removes its directory (kept with `HRS_KEEP`).
struct Proxy {
    child: Mutex<Child>,
    pid: u32,
    dir: PathBuf,
    fe: SocketAddr,
    /// How much of `proxy.log` was searched, and the first bad line found.
    scanned: Mutex<(u64, Option<String>)>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL) };
        let _ = child.kill();
        let _ = child.wait();
        if std::env::var_os("HRS_KEEP").is_some() {
            print_now(&format!("kept {}", self.dir.display()));
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `bin args...` in `dir` with a controlled environment, inheriting the listener `fd`.
fn command(bin: &Path, dir: &Path, args: &[&str], fd: RawFd) -> Command {
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
            if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// What the proxy must never print.
const BAD_OUTPUT: &[&str] = &["panicked", "is about to kill the process", "lock order"];

impl Proxy {
    /// Writes the configuration (the servers of `groups`), checks it with haproxy-rs and
    /// upstream (`-c`), starts `bin` on it and waits for its stats socket.
    fn start(bin: &Path, servers: &[Vec<Arc<Srv>>], trace: bool) -> Proxy {
        let dir = std::env::temp_dir().join(format!("hrs-tstress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
        let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
        let fe = l.local_addr().unwrap();
        let mut cfg = CONFIG_HEAD
            .replace("@DIR@", dir.to_str().unwrap())
            .replace("@FE@", &l.as_raw_fd().to_string());
        for (g, srvs) in GROUPS.iter().zip(servers) {
            cfg.push_str(&format!(
                "backend {}\n    balance roundrobin\n    http-reuse {}\n",
                g.backend, g.reuse
            ));
            for ((name, maxconn), srv) in g.servers.iter().zip(srvs) {
                cfg.push_str(&format!(
                    "    server {name} {} maxconn {maxconn}\n",
                    srv.addr
                ));
            }
        }
        std::fs::write(dir.join("haproxy.cfg"), &cfg).unwrap();
        let fd = l.as_raw_fd();

        let mut checkers = vec![("haproxy-rs", common::hrs())];
        match upstream("threads_stress") {
            Some(up) => checkers.push(("upstream haproxy", up)),
            None => ours_only("threads_stress", "configuration checks (haproxy -c)", 1),
        }
        for (name, b) in checkers {
            let out = command(&b, &dir, &["-c", "-f", "haproxy.cfg"], fd)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", b.display()));
            assert!(
                out.status.success(),
                "{name} -c refuses the configuration ({}):\n{}{}\n{cfg}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let log = File::create(dir.join("proxy.log")).unwrap();
        let mode = if trace { "-d" } else { "-db" };
        let child = command(bin, &dir, &[mode, "-f", "haproxy.cfg"], fd)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        drop(l);
        let p = Proxy {
            pid: child.id(),
            child: Mutex::new(child),
            dir,
            fe,
            scanned: Mutex::new((0, None)),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.cli("show info").is_err() {
            if let Err(e) = p.alive() {
                panic!("the proxy did not start: {e}\n{}", p.log_tail(30));
            }
            assert!(
                Instant::now() < deadline,
                "the proxy did not open its stats socket:\n{}",
                p.log_tail(30)
            );
            thread::sleep(Duration::from_millis(20));
        }
        p
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.join("proxy.log")).unwrap_or_default())
            .into_owned()
    }

    fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The first line of the output with one of [`BAD_OUTPUT`], reading only what is new.
    fn bad_output(&self) -> Option<String> {
        let mut scanned = self.scanned.lock().unwrap_or_else(|e| e.into_inner());
        if scanned.1.is_some() {
            return scanned.1.clone();
        }
        let mut f = File::open(self.dir.join("proxy.log")).ok()?;
        // start at a line boundary already read: a line cut between two reads is read again
        let from = scanned.0;
        let mut new = Vec::new();
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from)).ok()?;
        f.read_to_end(&mut new).ok()?;
        let complete = new.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        scanned.0 = from + complete as u64;
        let text = String::from_utf8_lossy(&new[..complete]);
        scanned.1 = text
            .lines()
            .find(|l| BAD_OUTPUT.iter().any(|b| l.contains(b)))
            .map(str::to_string);
        scanned.1.clone()
    }

    /// Ok while running and nothing bad was printed.
    fn alive(&self) -> Result<(), String> {
        if let Some(l) = self.bad_output() {
            return Err(format!("the proxy printed {l:?}"));
        }
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => Err(format!("the proxy exited ({st})")),
            Err(e) => Err(format!("cannot wait for the proxy: {e}")),
        }
    }

    /// The output around the first bad line (waiting for a panic report to be complete),
    /// else its last lines.
    fn post_mortem(&self) -> String {
        let Some(bad) = self.bad_output() else {
            return format!("the proxy's last output:\n{}", self.log_tail(30));
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.child.lock().unwrap().try_wait(), Ok(None)) {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let i = lines.iter().position(|l| *l == bad).unwrap_or(0);
        let excerpt = lines[i.saturating_sub(15)..(i + 60).min(lines.len())].join("\n");
        format!("the proxy's output around {bad:?}:\n{excerpt}")
    }

    /// Every thread's backtrace, when `gdb` is there and may attach.
    fn backtraces(&self) -> String {
        let out = Command::new("gdb")
            .args([
                "-batch",
                "-p",
                &self.pid.to_string(),
                "-ex",
                "thread apply all bt",
            ])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => format!("(no backtraces: gdb: {e})"),
        }
    }

    /// One command on the admin stats socket; its reply.
    fn cli(&self, cmd: &str) -> Result<String, String> {
        let mut s = UnixStream::connect(self.dir.join("admin.sock"))
            .map_err(|e| format!("stats socket: {e}"))?;
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        s.write_all(format!("{cmd}\n").as_bytes())
            .map_err(|e| format!("stats socket write: {e}"))?;
        let _ = s.shutdown(Shutdown::Write);
        let mut out = String::new();
        s.read_to_string(&mut out)
            .map_err(|e| format!("stats socket read ({cmd}): {e}"))?;
        Ok(out)
    }

    /// `show stat` as `(proxy, service) -> column -> value`.
    fn stat(&self) -> Result<Stat, String> {
        let stat = self.cli("show stat")?;
        let mut lines = stat.lines();
        let head = lines.next().unwrap_or("");
        let cols: Vec<&str> = head.trim_start_matches("# ").split(',').collect();
        if cols.len() < 10 {
            return Err(format!("show stat has no header:\n{stat}"));
        }
        let mut out = BTreeMap::new();
        for l in lines.filter(|l| !l.is_empty()) {
            let f: Vec<&str> = l.split(',').collect();
            let row = cols
                .iter()
                .zip(&f)
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect();
            out.insert((f[0].to_string(), f.get(1).unwrap_or(&"").to_string()), row);
        }
        Ok(out)
    }

    /// `show info`'s field `name`.
    fn info(&self, name: &str) -> Result<String, String> {
        let info = self.cli("show info")?;
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_string)
            .ok_or_else(|| format!("no {name} in show info:\n{info}"))
    }
}

/// `show stat`'s rows by `(pxname, svname)`, each its columns by name.
type Stat = BTreeMap<(String, String), BTreeMap<String, String>>;

/// Column `col` of a `show stat` row as a number (0 when empty or missing).
fn num(row: &BTreeMap<String, String>, col: &str) -> u64 {
    row.get(col).and_then(|v| v.parse().ok()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The clients.

/// What the clients share.
struct Env {
    seed: u64,
    fe: SocketAddr,
    stop: AtomicBool,
    until: Instant,
    /// Requests answered correctly so far (the monitor watches it move).
    done: AtomicU64,
    failures: Mutex<Vec<String>>,
    events: Events,
}

impl Env {
    fn fail(&self, what: String) {
        self.events.rec("FAIL", &what);
        self.failures.lock().unwrap().push(what);
        self.stop.store(true, Relaxed);
    }
}

/// One request written by a client: its id and backend.
struct Sent {
    id: String,
    backend: &'static str,
}

/// Reads one response on `s` (`buf` keeps what was read past it); its status and body.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, String, bool), String> {
    let deadline = Instant::now() + RSP_LIMIT;
    let mut chunk = [0u8; 4096];
    let mut fill = |s: &mut TcpStream, buf: &mut Vec<u8>| -> Result<(), String> {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("no complete response within {RSP_LIMIT:?}"));
        }
        let _ = s.set_read_timeout(Some(deadline - now));
        match s.read(&mut chunk) {
            Ok(0) => Err("closed before a complete response".into()),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(format!("no complete response within {RSP_LIMIT:?}"))
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    };
    let end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p + 4;
        }
        fill(s, buf).map_err(|e| format!("{e} (got {:?})", String::from_utf8_lossy(buf)))?;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("not a response: {head:?}"))?;
    let len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no content-length: {head:?}"))?;
    while buf.len() < end + len {
        fill(s, buf).map_err(|e| format!("{e} (head {head:?})"))?;
    }
    let body = String::from_utf8_lossy(&buf[end..end + len]).into_owned();
    buf.drain(..end + len);
    let close = header(&head, "connection").is_some_and(|v| v.contains("close"));
    Ok((status, body, close))
}

/// Client `c`: connections one after the other until the end of the run, keep-alive
/// (even `c`) or one request each (odd `c`). Returns every request it wrote.
fn client(env: &Env, c: usize) -> Vec<Sent> {
    let mut rng = Rng(derive(env.seed, c as u64, 0));
    let keep_alive = c.is_multiple_of(2);
    let mut sent = Vec::new();
    let mut n = 0;
    'conns: while !env.stop.load(Relaxed) && Instant::now() < env.until {
        let mut s = match TcpStream::connect_timeout(&env.fe, Duration::from_secs(10)) {
            Ok(s) => s,
            Err(e) => {
                env.fail(format!("c{c}: connect: {e}"));
                break;
            }
        };
        let _ = s.set_nodelay(true);
        let _ = s.set_write_timeout(Some(RSP_LIMIT));
        let k = if keep_alive { rng.range(2, 8) } else { 1 };
        let mut buf = Vec::new();
        for j in 0..k {
            n += 1;
            let id = format!("c{c}n{n}");
            let g = &GROUPS[rng.below(GROUPS.len())];
            let close = !keep_alive || (j + 1 == k && rng.chance(50));
            let req = format!(
                "GET /{}/{id} HTTP/1.1\r\nhost: t\r\nx-req-id: {id}\r\n{}\r\n",
                g.backend,
                if close { "connection: close\r\n" } else { "" }
            );
            sent.push(Sent {
                id: id.clone(),
                backend: g.backend,
            });
            if let Err(e) = s.write_all(req.as_bytes()) {
                env.fail(format!("c{c}: {id}: write: {e}"));
                break 'conns;
            }
            match read_response(&mut s, &mut buf) {
                Ok((200, body, rsp_close)) => {
                    let ok = body
                        .strip_suffix(&format!(" {id}\n"))
                        .and_then(|sv| sv.strip_prefix(&format!("{}/", g.backend)))
                        .is_some_and(|sv| g.servers.iter().any(|(name, _)| *name == sv));
                    if !ok {
                        env.fail(format!("c{c}: {id} to {}: body {body:?}", g.backend));
                        break 'conns;
                    }
                    if rsp_close && !close {
                        env.fail(format!(
                            "c{c}: {id}: the proxy closed a keep-alive exchange"
                        ));
                        break 'conns;
                    }
                    env.done.fetch_add(1, Relaxed);
                }
                Ok((status, body, _)) => {
                    env.fail(format!("c{c}: {id} to {}: {status} {body:?}", g.backend));
                    break 'conns;
                }
                Err(e) => {
                    env.fail(format!("c{c}: {id} to {}: {e}", g.backend));
                    break 'conns;
                }
            }
            if close {
                // the proxy closes after the response
                let _ = s.set_read_timeout(Some(STOP_LIMIT));
                let mut rest = [0u8; 64];
                match s.read(&mut rest) {
                    Ok(0) => {}
                    Ok(_) => env.fail(format!("c{c}: {id}: bytes after a last response")),
                    Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                    Err(e) => env.fail(format!("c{c}: {id}: no close after the response: {e}")),
                }
                continue 'conns;
            }
        }
    }
    sent
}

// ---------------------------------------------------------------------------------------
// The operator.

#[derive(Clone, Copy, PartialEq, Debug)]
enum Admin {
    Ready,
    Drain,
    Maint,
}

/// Changes server states and reads the runtime state until `env.stop` or the end of the
/// run, never leaving a backend without a ready server; then makes them all ready.
/// Returns how many state changes it made.
fn operator(env: &Env, proxy: &Proxy) -> usize {
    let mut rng = Rng(derive(env.seed, 9999, 0));
    let mut state: Vec<Vec<Admin>> = GROUPS
        .iter()
        .map(|g| vec![Admin::Ready; g.servers.len()])
        .collect();
    let mut changes = 0;
    let run = |cmd: &str, must_be_empty: bool| {
        let r = proxy.cli(cmd);
        let shown = match &r {
            Ok(r) if r.len() > 80 => format!("{} bytes", r.len()),
            other => format!("{other:?}"),
        };
        env.events.rec("operator", format!("{cmd}: {shown}"));
        match r {
            Ok(r) if must_be_empty && !r.trim().is_empty() => {
                env.fail(format!("operator: {cmd:?} answered {r:?}"))
            }
            Ok(r) if r.is_empty() => env.fail(format!("operator: {cmd:?}: empty reply")),
            Ok(_) => {}
            Err(e) => env.fail(format!("operator: {cmd:?}: {e}")),
        }
    };
    while !env.stop.load(Relaxed) && Instant::now() < env.until {
        thread::sleep(Duration::from_millis(rng.range(20, 120) as u64));
        if rng.chance(15) {
            let cmds = [
                "show stat",
                "show info",
                "show servers conn",
                "show servers state",
            ];
            run(cmds[rng.below(cmds.len())], false);
            continue;
        }
        let gi = rng.below(GROUPS.len());
        let g = &GROUPS[gi];
        let si = rng.below(g.servers.len());
        let to = match rng.below(100) {
            0..=44 => Admin::Ready,
            45..=79 => Admin::Maint,
            _ => Admin::Drain,
        };
        let ready_left = state[gi]
            .iter()
            .enumerate()
            .filter(|&(i, a)| *a == Admin::Ready && i != si)
            .count();
        if to != Admin::Ready && ready_left == 0 {
            continue;
        }
        let sv = format!("{}/{}", g.backend, g.servers[si].0);
        let cmd = match (to, rng.chance(50)) {
            (Admin::Ready, true) => format!("enable server {sv}"),
            (Admin::Maint, true) => format!("disable server {sv}"),
            (Admin::Ready, false) => format!("set server {sv} state ready"),
            (Admin::Maint, false) => format!("set server {sv} state maint"),
            (Admin::Drain, _) => format!("set server {sv} state drain"),
        };
        run(&cmd, true);
        state[gi][si] = to;
        changes += 1;
    }
    for g in GROUPS {
        for (name, _) in g.servers {
            run(
                &format!("set server {}/{name} state ready", g.backend),
                true,
            );
        }
    }
    changes
}

// ---------------------------------------------------------------------------------------
// The test.

struct Params {
    seed: u64,
    secs: u64,
    clients: usize,
}

fn params() -> Params {
    let num = |name: &str| {
        knob(name).map(|v| {
            v.parse::<u64>()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
    };
    let seed = num("HRS_TSTRESS_SEED").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        derive(t.as_nanos() as u64, u64::from(std::process::id()), 0) % 1_000_000_000
    });
    Params {
        seed,
        secs: num("HRS_TSTRESS_SECS").unwrap_or(DEFAULT_SECS),
        clients: num("HRS_TSTRESS_CLIENTS").map_or(DEFAULT_CLIENTS, |n| n as usize),
    }
}

/// Fails the test with everything that explains it.
fn fail(seed: u64, env: &Env, proxy: &Proxy, why: &str) -> ! {
    env.stop.store(true, Relaxed);
    let failures = env.failures.lock().unwrap().clone();
    let report = format!(
        "threads_stress (seed {seed}, replay with HRS_TSTRESS_SEED={seed}): {why}\n\
         first failures: {:#?}\n{}\nlast events:\n{}",
        &failures[..failures.len().min(10)],
        proxy.post_mortem(),
        env.events.tail(30)
    );
    // other threads may still hold the proxy: kill it now, not when the last one drops it
    // SAFETY: plain kill(2); the child leads its own process group.
    unsafe { libc::kill(-(proxy.pid as libc::pid_t), libc::SIGKILL) };
    panic!("{report}");
}

#[test]
fn threads_stress() {
    let p = params();
    let on_upstream = knob_on("HRS_TSTRESS_UPSTREAM");
    let bin = if on_upstream {
        upstream("threads_stress").expect("HRS_TSTRESS_UPSTREAM=1 needs upstream haproxy")
    } else {
        common::hrs()
    };
    print_now(&format!(
        "threads_stress: seed {seed} (replay with HRS_TSTRESS_SEED={seed}), {} s, {} clients, \
         nbthread {NBTHREAD}, {}",
        p.secs,
        p.clients,
        bin.display(),
        seed = p.seed
    ));
    let rcv = Arc::new(Received::default());
    let mut n = 0;
    let servers: Vec<Vec<Arc<Srv>>> = GROUPS
        .iter()
        .map(|g| {
            g.servers
                .iter()
                .map(|(name, maxconn)| {
                    n += 1;
                    let name = format!("{}/{name}", g.backend);
                    start_server(name, *maxconn, p.seed, n, rcv.clone())
                })
                .collect()
        })
        .collect();
    let proxy = Proxy::start(&bin, &servers, knob_on("HRS_TSTRESS_TRACE"));
    let t0 = Instant::now();
    let env = Arc::new(Env {
        seed: p.seed,
        fe: proxy.fe,
        stop: AtomicBool::new(false),
        until: t0 + Duration::from_secs(p.secs),
        done: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
        events: Events {
            t0,
            lines: Mutex::new(Vec::new()),
        },
    });
    let proxy = Arc::new(proxy);

    // the storm
    let clients: Vec<JoinHandle<Vec<Sent>>> = (0..p.clients)
        .map(|c| {
            let env = env.clone();
            thread::spawn(move || client(&env, c))
        })
        .collect();
    let op = {
        let (env, proxy) = (env.clone(), proxy.clone());
        thread::spawn(move || operator(&env, &proxy))
    };
    let (mut last, mut moved) = (0, Instant::now());
    while clients.iter().any(|c| !c.is_finished()) || !op.is_finished() {
        thread::sleep(Duration::from_millis(50));
        if let Err(e) = proxy.alive() {
            env.stop.store(true, Relaxed);
            fail(p.seed, &env, &proxy, &e);
        }
        let done = env.done.load(Relaxed);
        if done != last {
            (last, moved) = (done, Instant::now());
        } else if moved.elapsed() > STALL_LIMIT && clients.iter().any(|c| !c.is_finished()) {
            env.stop.store(true, Relaxed);
            let why = format!(
                "no request completed for {STALL_LIMIT:?} ({done} so far): the proxy is \
                 stalled; its threads:\n{}",
                proxy.backtraces()
            );
            fail(p.seed, &env, &proxy, &why);
        }
    }
    let mut sent = Vec::new();
    for c in clients {
        sent.extend(
            c.join()
                .unwrap_or_else(|_| panic!("a client thread panicked")),
        );
    }
    let changes = op
        .join()
        .unwrap_or_else(|_| panic!("the operator panicked"));
    let lasted = t0.elapsed();
    if !env.failures.lock().unwrap().is_empty() {
        fail(p.seed, &env, &proxy, "requests failed");
    }

    // every id exactly once, at a server of its backend
    let ids = std::mem::take(&mut *rcv.ids.lock().unwrap());
    let mut wrong = Vec::new();
    for s in &sent {
        match ids.get(&s.id).map(Vec::as_slice) {
            None => wrong.push(format!("{} never reached a server", s.id)),
            Some([one]) if one.starts_with(&format!("{}/", s.backend)) => {}
            Some(seen) => wrong.push(format!("{} ({}) reached {seen:?}", s.id, s.backend)),
        }
    }
    let sent_ids: std::collections::HashSet<&str> = sent.iter().map(|s| s.id.as_str()).collect();
    for (id, seen) in &ids {
        if !sent_ids.contains(id.as_str()) {
            wrong.push(format!("{id}, never sent, reached {seen:?}"));
        }
    }
    let mixed = rcv.mixed.lock().unwrap().clone();
    wrong.extend(
        mixed
            .into_iter()
            .map(|m| format!("path and x-req-id differ: {m}")),
    );
    if !wrong.is_empty() {
        fail(
            p.seed,
            &env,
            &proxy,
            &format!(
                "{} of {} requests not received exactly once: {:#?}",
                wrong.len(),
                sent.len(),
                &wrong[..wrong.len().min(20)]
            ),
        );
    }

    // never more than maxconn at once, as the servers saw it
    let all: Vec<&Arc<Srv>> = servers.iter().flatten().collect();
    for s in &all {
        let m = s.max_seen.load(Relaxed);
        if m > s.maxconn && !on_upstream {
            fail(
                p.seed,
                &env,
                &proxy,
                &format!(
                    "{} served {m} requests at once, maxconn {}",
                    s.name, s.maxconn
                ),
            );
        }
    }

    // once the clients are gone, nothing is left in use
    let deadline = Instant::now() + STOP_LIMIT;
    let stat = loop {
        let stat = proxy
            .stat()
            .unwrap_or_else(|e| fail(p.seed, &env, &proxy, &e));
        let busy: Vec<String> = stat
            .iter()
            .filter(|(_, r)| num(r, "scur") != 0 || num(r, "qcur") != 0)
            .map(|((px, sv), r)| format!("{px}/{sv} scur={} qcur={}", r["scur"], r["qcur"]))
            .collect();
        let conns = proxy.info("CurrConns");
        if busy.is_empty() && conns.as_deref() == Ok("0") {
            break stat;
        }
        if Instant::now() > deadline {
            fail(
                p.seed,
                &env,
                &proxy,
                &format!(
                    "{STOP_LIMIT:?} after the clients left: busy {busy:?}, CurrConns {conns:?}"
                ),
            );
        }
        thread::sleep(Duration::from_millis(100));
    };

    // show stat agrees with what was sent and received
    let mut bad = Vec::new();
    let check = |bad: &mut Vec<String>, what: String, got: u64, want: u64| {
        if got != want {
            bad.push(format!("{what} is {got}, expected {want}"));
        }
    };
    let fe = &stat[&("fe".to_string(), "FRONTEND".to_string())];
    check(
        &mut bad,
        "fe req_tot".into(),
        num(fe, "req_tot"),
        sent.len() as u64,
    );
    check(
        &mut bad,
        "fe hrsp_2xx".into(),
        num(fe, "hrsp_2xx"),
        sent.len() as u64,
    );
    let mut table = String::new();
    for (g, srvs) in GROUPS.iter().zip(&servers) {
        let to_be = sent.iter().filter(|s| s.backend == g.backend).count() as u64;
        let be = &stat[&(g.backend.to_string(), "BACKEND".to_string())];
        check(
            &mut bad,
            format!("{} stot", g.backend),
            num(be, "stot"),
            to_be,
        );
        for col in ["econ", "eresp", "wretr", "wredis"] {
            check(&mut bad, format!("{} {col}", g.backend), num(be, col), 0);
        }
        // with enough clients for the time, streams queued and connections were reused
        if p.clients >= 20 && p.secs >= 3 {
            for col in ["qmax", "reuse"] {
                if num(be, col) == 0 {
                    bad.push(format!(
                        "{} {col} is 0: the run did not exercise it",
                        g.backend
                    ));
                }
            }
        }
        for ((name, maxconn), s) in g.servers.iter().zip(srvs) {
            let row = &stat[&(g.backend.to_string(), name.to_string())];
            let got = s.requests.load(Relaxed);
            check(&mut bad, format!("{} stot", s.name), num(row, "stot"), got);
            if !on_upstream && num(row, "smax") > *maxconn as u64 {
                bad.push(format!(
                    "{} smax {} > maxconn {maxconn}",
                    s.name, row["smax"]
                ));
            }
            table.push_str(&format!(
                " {}: {got} req, {} conns, {} at most (smax {}, qmax {});",
                s.name,
                s.conns.load(Relaxed),
                s.max_seen.load(Relaxed),
                row["smax"],
                row["qmax"],
            ));
        }
    }
    if !bad.is_empty() {
        fail(
            p.seed,
            &env,
            &proxy,
            &format!("show stat disagrees: {bad:#?}"),
        );
    }
    match proxy.info("Nbthread") {
        Ok(n) if n == NBTHREAD.to_string() => {}
        other => fail(
            p.seed,
            &env,
            &proxy,
            &format!("show info Nbthread: {other:?}"),
        ),
    }

    // a soft stop ends every thread
    // SAFETY: plain kill(2) to our child.
    unsafe { libc::kill(proxy.pid as libc::pid_t, libc::SIGUSR1) };
    let sig = Instant::now();
    loop {
        let st = proxy.child.lock().unwrap().try_wait();
        match st {
            Ok(Some(st)) if st.success() => break,
            Ok(Some(st)) => fail(p.seed, &env, &proxy, &format!("after SIGUSR1: {st}")),
            Ok(None) if sig.elapsed() > STOP_LIMIT => {
                let why = format!(
                    "still running {STOP_LIMIT:?} after SIGUSR1; its threads:\n{}",
                    proxy.backtraces()
                );
                fail(p.seed, &env, &proxy, &why);
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => fail(p.seed, &env, &proxy, &format!("cannot wait: {e}")),
        }
    }
    if let Some(l) = proxy.bad_output() {
        fail(p.seed, &env, &proxy, &format!("the proxy printed {l:?}"));
    }
    print_now(&format!(
        "threads_stress: seed {}: {:.1} s, {} requests ({:.0}/s), {changes} state changes, \
         stopped {:?} after SIGUSR1;{table}",
        p.seed,
        lasted.as_secs_f64(),
        sent.len(),
        sent.len() as f64 / lasted.as_secs_f64(),
        sig.elapsed(),
    ));
}
