//! Runs one scenario against one proxy binary and returns its normalized transcript.
//!
//! For a run the harness binds every socket itself on 127.0.0.1, port 0: the listeners
//! (`${FE...}`, handed to the proxy as inherited `fd@N` descriptors, made inheritable only in
//! the child between fork and exec), the servers (`${S<n>}`), refused ports (`${REFUSED...}`,
//! bound but not listening) and black holes (`${BLACKHOLE...}`, listening with a full accept
//! queue, so that connecting hangs). `${CLI}` is the path of a UNIX socket in the run's
//! directory (the proxy binds it; the client's `cli` commands talk to it, see [`cli`]) and
//! `${SYSLOG}` a UDP socket the harness binds and reads after the client script (see
//! [`syslog`]). The proxy runs as `BIN -d -f haproxy.cfg` in a fresh temp directory, in its
//! own process group, which is SIGKILLed when the run ends whatever happens. Its stdout and
//! stderr go to `proxy.log` there; the tail is kept for failure reports.
//!
//! The client script starts once the proxy polls every listener (its epoll sets, read from
//! `/proc/PID/fdinfo`, watch the listener descriptors): connections made earlier would wait
//! in the backlog and be accepted together, in any order, by a multi-threaded proxy.
//!
//! The client script runs on the calling thread; each server runs on its own thread(s).
//! When the client script is done, its connections still open are watched for
//! [`END_CHECK`] (closed by the proxy, or still open); scripted servers get up to
//! [`SERVER_GRACE`] to finish their scripts; the syslog socket is read until [`LOG_WAIT`]
//! after the client script; then everything stops. The whole run is bounded by
//! [`SCENARIO_LIMIT`] plus the client script's `wait` steps.

use super::cli::{self, Ports, CLI_WAIT};
use super::syslog::{Syslog, LOG_WAIT};
use super::wire::{self, End, Kind, Read1, Wire};
use super::{ClientCmd, Placeholder, Scenario, ServerCmd, Step};
use std::collections::HashMap;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest a run may take, plus the client script's `wait` steps; steps still pending
/// then are cut short.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(5);
/// How long client connections still open after the client script are watched.
pub const END_CHECK: Duration = Duration::from_millis(300);
/// How long scripted servers may take to finish once the client script is done.
pub const SERVER_GRACE: Duration = Duration::from_millis(1000);
/// How long the proxy may take to start polling its listeners.
pub const READY_LIMIT: Duration = Duration::from_millis(3000);
/// Lines of the proxy's output kept for failure reports.
const LOG_TAIL: usize = 40;
/// Longest `${CLI}` path: a UNIX socket path holds 107 bytes, and HAProxy binds it under a
/// temporary name (`PATH.PID.tmp`) first.
const MAX_CLI_PATH: usize = 90;

/// The result of one run.
pub struct Outcome {
    /// The normalized transcript (what is compared).
    pub transcript: String,
    /// The last lines of the proxy's stdout and stderr.
    pub log_tail: String,
}

/// Runs `sc` against the proxy binary `bin`; `tag` names the run in temp paths.
pub fn run(sc: &Scenario, bin: &Path, tag: &str) -> Outcome {
    let budget = SCENARIO_LIMIT + sc.client_waits();
    let limit = Instant::now() + budget;
    let dir = TempDir::new(&sc.name, tag);
    let mut socks = match Sockets::bind(sc, &dir.0) {
        Ok(s) => s,
        Err(e) => return Outcome::error(format!("harness: cannot bind sockets: {e}")),
    };
    let cfg = socks.substitute(&sc.config);
    if let Err(e) = std::fs::write(dir.0.join("haproxy.cfg"), &cfg) {
        return Outcome::error(format!("harness: cannot write the config: {e}"));
    }
    let inherited = socks.inherited();
    let mut proxy = match Proxy::spawn(bin, &dir.0, &inherited) {
        Ok(p) => p,
        Err(e) => return Outcome::error(format!("harness: cannot spawn {}: {e}", bin.display())),
    };
    // From now on only the proxy holds the listeners: if it dies, connecting is refused.
    socks.listeners.clear();
    // Connections made before the proxy polls its listeners would wait in the backlog and be
    // accepted in a burst, in any order: the client starts once the proxy is listening.
    let mut out = Vec::new();
    let ready = proxy.wait_listening(&inherited, (Instant::now() + READY_LIMIT).min(limit));
    if !ready && matches!(proxy.child.try_wait(), Ok(None)) {
        out.push(format!(
            "--- proxy: listeners not polled after {} ms",
            READY_LIMIT.as_millis()
        ));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let scripts_done = Arc::new(AtomicUsize::new(0));
    let mut servers = Vec::new();
    for s in &sc.servers {
        let l = socks.servers.remove(&s.name).expect("bound above");
        servers.push((
            s.name.clone(),
            spawn_server(s, l, stop.clone(), scripts_done.clone(), limit),
        ));
    }
    let env = ClientEnv {
        addrs: &socks.addrs,
        cli: socks.cli.as_deref(),
        ports: &socks.ports,
        limit,
        budget,
    };
    let client = run_client(&sc.client, &env);
    let client_end = Instant::now();

    let scripted = sc.servers.iter().filter(|s| s.script.is_some()).count();
    let grace = (Instant::now() + SERVER_GRACE).min(limit);
    while scripts_done.load(Ordering::SeqCst) < scripted && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(5));
    }
    let log = socks
        .syslog
        .as_ref()
        .map(|s| s.collect(client_end + LOG_WAIT));
    stop.store(true, Ordering::SeqCst);

    match proxy.child.try_wait() {
        Ok(Some(st)) => {
            proxy.exited = true;
            out.push(format!("--- proxy exited early: {st}"));
        }
        Ok(None) => {}
        Err(e) => out.push(format!("--- proxy: cannot query its status: {e}")),
    }
    out.push("--- client".to_string());
    out.extend(client);
    for (name, handle) in servers {
        out.push(format!("--- server {name}"));
        match handle.join() {
            Ok(lines) => out.extend(lines),
            Err(_) => out.push("harness: the server thread panicked".to_string()),
        }
    }
    if let Some(log) = log {
        out.push("--- log".to_string());
        out.extend(log);
    }
    drop(proxy);
    Outcome {
        transcript: normalize(&out.join("\n")),
        log_tail: tail(&dir.0.join("proxy.log")),
    }
}

impl Outcome {
    fn error(msg: String) -> Outcome {
        Outcome {
            transcript: msg + "\n",
            log_tail: String::new(),
        }
    }
}

/// Trailing spaces and blank lines removed, one final newline.
pub fn normalize(t: &str) -> String {
    let lines: Vec<&str> = t.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_string() + "\n"
}

/// The last [`LOG_TAIL`] lines of `path`.
fn tail(path: &Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(LOG_TAIL);
    lines[from..].join("\n")
}

/// A fresh directory, removed on drop unless `HRS_DIFF_KEEP` is set.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str, tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("hrs-h1-{}-{name}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("cannot create a temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("HRS_DIFF_KEEP").is_some() {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Every socket of one run.
struct Sockets {
    /// `FE...` listeners, until the proxy is spawned.
    listeners: HashMap<String, TcpListener>,
    /// `S<n>` listeners, until their threads take them.
    servers: HashMap<String, TcpListener>,
    /// Addresses of every placeholder (listeners included, for the client).
    addrs: HashMap<String, SocketAddr>,
    /// What each placeholder becomes in the configuration.
    subst: HashMap<String, String>,
    /// Refused ports and black holes, kept open for the whole run.
    _holders: Vec<OwnedFd>,
    /// The connections that fill the black holes' accept queues.
    _fillers: Vec<TcpStream>,
    /// The stats socket's path (`${CLI}`), bound by the proxy.
    cli: Option<PathBuf>,
    /// The syslog target (`${SYSLOG}`).
    syslog: Option<Syslog>,
    /// The TCP ports of the placeholders, hidden in CLI replies.
    ports: Ports,
}

impl Sockets {
    /// Binds every socket of `sc`'s config; `dir` is the run's directory (for `${CLI}`).
    fn bind(sc: &Scenario, dir: &Path) -> std::io::Result<Sockets> {
        let mut s = Sockets {
            listeners: HashMap::new(),
            servers: HashMap::new(),
            addrs: HashMap::new(),
            subst: HashMap::new(),
            _holders: Vec::new(),
            _fillers: Vec::new(),
            cli: None,
            syslog: None,
            ports: Ports::default(),
        };
        for name in super::placeholders(&sc.config) {
            if Placeholder::of(&name) == Some(Placeholder::Cli) {
                let path = dir.join("cli.sock");
                if path.as_os_str().len() > MAX_CLI_PATH {
                    return Err(std::io::Error::other(format!(
                        "{} is too long for a UNIX socket: use a shorter TMPDIR",
                        path.display()
                    )));
                }
                s.subst.insert(name, path.to_string_lossy().into_owned());
                s.cli = Some(path);
                continue;
            }
            let (addr, text) = match Placeholder::of(&name) {
                Some(Placeholder::Listener) => {
                    let l = TcpListener::bind("127.0.0.1:0")?;
                    let addr = l.local_addr()?;
                    let text = format!("fd@{}", l.as_raw_fd());
                    s.listeners.insert(name.clone(), l);
                    (addr, text)
                }
                Some(Placeholder::Server) => {
                    let l = TcpListener::bind("127.0.0.1:0")?;
                    let addr = l.local_addr()?;
                    s.servers.insert(name.clone(), l);
                    (addr, addr.to_string())
                }
                Some(Placeholder::Refused) => {
                    let (fd, addr) = raw_socket(None)?;
                    s._holders.push(fd);
                    (addr, addr.to_string())
                }
                Some(Placeholder::Blackhole) => {
                    // backlog 0 admits one connection; with it queued, SYNs are dropped
                    let (fd, addr) = raw_socket(Some(0))?;
                    s._holders.push(fd);
                    s._fillers.push(TcpStream::connect(addr)?);
                    (addr, addr.to_string())
                }
                Some(Placeholder::Syslog) => {
                    let l = Syslog::bind()?;
                    let addr = SocketAddr::from(([127, 0, 0, 1], l.port()?));
                    s.syslog = Some(l);
                    (addr, addr.to_string())
                }
                Some(Placeholder::Cli) | None => unreachable!("handled above / by the parser"),
            };
            if Placeholder::of(&name) != Some(Placeholder::Listener) {
                s.ports.add(&name, addr.port());
            }
            s.addrs.insert(name.clone(), addr);
            s.subst.insert(name, text);
        }
        Ok(s)
    }

    fn substitute(&self, cfg: &str) -> String {
        let mut cfg = cfg.to_string();
        for (name, text) in &self.subst {
            cfg = cfg.replace(&format!("${{{name}}}"), text);
        }
        cfg
    }

    /// The descriptors the proxy inherits.
    fn inherited(&self) -> Vec<RawFd> {
        self.listeners.values().map(|l| l.as_raw_fd()).collect()
    }
}

/// A TCP socket bound on 127.0.0.1:0, listening with `backlog` if given.
fn raw_socket(backlog: Option<i32>) -> std::io::Result<(OwnedFd, SocketAddr)> {
    let err = std::io::Error::last_os_error;
    // SAFETY: plain socket(2); the descriptor is owned by the OwnedFd right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(err());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `sa` is a valid sockaddr_in of `len` bytes.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    } < 0
    {
        return Err(err());
    }
    if let Some(b) = backlog {
        // SAFETY: plain listen(2) on our socket.
        if unsafe { libc::listen(fd.as_raw_fd(), b) } < 0 {
            return Err(err());
        }
    }
    let mut len = len;
    // SAFETY: getsockname writes at most `len` bytes into `sa`.
    if unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            &mut sa as *mut _ as *mut libc::sockaddr,
            &mut len,
        )
    } < 0
    {
        return Err(err());
    }
    let port = u16::from_be(sa.sin_port);
    Ok((fd, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// The running proxy. Dropping it SIGKILLs its process group and reaps it.
struct Proxy {
    child: Child,
    exited: bool,
}

impl Proxy {
    fn spawn(bin: &Path, dir: &Path, fds: &[RawFd]) -> std::io::Result<Proxy> {
        let log = File::create(dir.join("proxy.log"))?;
        let mut cmd = Command::new(bin);
        cmd.args(["-d", "-f", "haproxy.cfg"])
            .current_dir(dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env(
                "HOME",
                std::env::var_os("HOME").unwrap_or_else(|| "/root".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let fds = fds.to_vec();
        // SAFETY: only fcntl(2), async-signal-safe, between fork and exec; `fds` was
        // allocated before the fork.
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
        Ok(Proxy {
            child: cmd.spawn()?,
            exited: false,
        })
    }
}

impl Proxy {
    /// Waits until every descriptor of `fds` is in an epoll set of the proxy (read from
    /// `/proc/PID/fdinfo`), i.e. it accepts connections. False if it exited or `until` came.
    fn wait_listening(&mut self, fds: &[RawFd], until: Instant) -> bool {
        loop {
            let watched = epoll_watched(self.child.id());
            if fds.iter().all(|fd| watched.contains(fd)) {
                return true;
            }
            if Instant::now() >= until || !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Every descriptor that some epoll instance of process `pid` watches.
fn epoll_watched(pid: u32) -> Vec<RawFd> {
    let mut v = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return v;
    };
    for e in dir.flatten() {
        let is_epoll = std::fs::read_link(e.path())
            .map(|t| t.to_string_lossy() == "anon_inode:[eventpoll]")
            .unwrap_or(false);
        if !is_epoll {
            continue;
        }
        let info = format!("/proc/{pid}/fdinfo/{}", e.file_name().to_string_lossy());
        let text = std::fs::read_to_string(info).unwrap_or_default();
        // lines like "tfd:        5 events:       19 data: ..."
        v.extend(text.lines().filter_map(|l| {
            l.strip_prefix("tfd:")?
                .split_whitespace()
                .next()?
                .parse::<RawFd>()
                .ok()
        }));
    }
    v
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        if !self.exited {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `now + wait`, but never past the run's limit.
fn deadline(wait: Duration, limit: Instant) -> Instant {
    (Instant::now() + wait).min(limit)
}

/// A client connection of the script.
struct ClientConn {
    wire: Wire,
    /// `c1: closed by proxy` was written.
    close_reported: bool,
    /// The script closed it: no end check.
    closed_by_client: bool,
}

/// What the client script needs from the run.
struct ClientEnv<'a> {
    /// Every placeholder's address (listeners for `connect`).
    addrs: &'a HashMap<String, SocketAddr>,
    /// The stats socket, if the config has `${CLI}`.
    cli: Option<&'a Path>,
    /// Ports hidden in CLI replies.
    ports: &'a Ports,
    /// When the run is cut short, and the time that gives.
    limit: Instant,
    budget: Duration,
}

/// Runs the client script; returns its transcript lines.
fn run_client(steps: &[Step<ClientCmd>], env: &ClientEnv) -> Vec<String> {
    let (addrs, limit) = (env.addrs, env.limit);
    let mut out = Vec::new();
    // in order of creation, for the end checks
    let mut conns: Vec<(String, Option<ClientConn>)> = Vec::new();
    let find = |conns: &[(String, Option<ClientConn>)], name: &str| -> usize {
        conns
            .iter()
            .position(|(n, _)| n == name)
            .expect("connections are checked by the parser")
    };
    for st in steps {
        if Instant::now() >= limit {
            out.push(format!(
                "client: scenario time limit ({} ms) reached at line {}",
                env.budget.as_millis(),
                st.line
            ));
            break;
        }
        let name = match &st.cmd {
            ClientCmd::Wait(d) => {
                std::thread::sleep(*d);
                continue;
            }
            ClientCmd::Cli { .. } | ClientCmd::CliStat { .. } => {
                cli_step(&st.cmd, env, &mut out);
                continue;
            }
            ClientCmd::Connect { conn, listener } => {
                let c = match TcpStream::connect_timeout(&addrs[listener], Duration::from_secs(1)) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        Some(ClientConn {
                            wire: Wire::new(s, None),
                            close_reported: false,
                            closed_by_client: false,
                        })
                    }
                    Err(e) => {
                        out.push(format!("{conn}: connect failed: {}", io_kind(&e)));
                        None
                    }
                };
                conns.retain(|(n, _)| n != conn);
                conns.push((conn.clone(), c));
                continue;
            }
            ClientCmd::Send { conn, .. }
            | ClientCmd::Shutdown { conn }
            | ClientCmd::Close { conn }
            | ClientCmd::RecvResponse { conn, .. }
            | ClientCmd::RecvRaw { conn, .. }
            | ClientCmd::ExpectClose { conn, .. } => conn,
        };
        let i = find(&conns, name);
        let Some(c) = conns[i].1.as_mut() else {
            // connect failed: reading steps say so, writing ones are no-ops
            if matches!(
                st.cmd,
                ClientCmd::RecvResponse { .. } | ClientCmd::RecvRaw { .. }
            ) {
                out.push(format!("{name}: not connected"));
            }
            continue;
        };
        client_step(name, c, &st.cmd, limit, &mut out);
        if c.wire.closed() && !c.close_reported {
            c.close_reported = true;
            out.push(format!("{name}: closed by proxy"));
        }
    }
    // End checks: each connection still open is watched until a shared deadline.
    let end = Instant::now() + END_CHECK;
    for (name, c) in conns.iter_mut() {
        let Some(c) = c else { continue };
        if c.closed_by_client || c.close_reported {
            continue;
        }
        let (extra, e) = c.wire.until_close(end, 1 << 20);
        if !extra.is_empty() {
            out.push(format!(
                "{name}: unexpected data: {}",
                wire::render_bytes(&extra)
            ));
        }
        out.push(match e {
            End::Closed => format!("{name}: closed by proxy"),
            End::Timeout => format!("{name}: still open at end"),
            other => format!("{name}: end check: {}", other.describe(END_CHECK)),
        });
    }
    out
}

/// A `cli` or `cli-stat` step.
fn cli_step(cmd: &ClientCmd, env: &ClientEnv, out: &mut Vec<String>) {
    let Some(path) = env.cli else {
        unreachable!("the parser checks that cli commands have a ${{CLI}}")
    };
    let dl = deadline(CLI_WAIT, env.limit);
    match cmd {
        ClientCmd::Cli { command } => {
            let reply = cli::send(path, command, dl);
            cli::render(command, &reply, env.ports, out);
        }
        ClientCmd::CliStat {
            proxy,
            rows,
            fields,
        } => {
            let reply = cli::send(path, "show stat", dl);
            cli::render_stat(proxy, rows, fields, &reply, out);
        }
        _ => unreachable!("only cli steps"),
    }
}

/// One client step on connection `name`.
fn client_step(
    name: &str,
    c: &mut ClientConn,
    cmd: &ClientCmd,
    limit: Instant,
    out: &mut Vec<String>,
) {
    match cmd {
        ClientCmd::Send { data, .. } => {
            // Errors (the proxy closed first) show up on the next read; not recorded here.
            let _ = c.wire.stream.write_all(data);
        }
        ClientCmd::Shutdown { .. } => {
            let _ = c.wire.stream.shutdown(Shutdown::Write);
        }
        ClientCmd::Close { .. } => {
            let _ = c.wire.stream.shutdown(Shutdown::Both);
            c.closed_by_client = true;
        }
        ClientCmd::RecvResponse { head, wait, .. } => {
            if c.wire.desync {
                out.push(format!(
                    "{name}: recv-response skipped: the stream is not parseable since a problem"
                ));
                return;
            }
            let dl = deadline(*wait, limit);
            match wire::read_message(&mut c.wire, Kind::Response { head: *head }, dl, *wait) {
                Read1::Nothing(End::Closed) => out.push(format!("{name}: no response")),
                Read1::Nothing(e) => {
                    out.push(format!("{name}: no response: {}", e.describe(*wait)))
                }
                Read1::Msg(m) => {
                    out.push(format!("{name}: response"));
                    wire::render_message(&m, "    ", out);
                }
            }
        }
        ClientCmd::RecvRaw { len, wait, .. } => match c.wire.exact(*len, deadline(*wait, limit)) {
            Ok(b) => out.push(format!("{name}: raw {}", wire::render_bytes(&b))),
            Err((b, e)) => out.push(format!(
                "{name}: raw, incomplete: {}; {}",
                wire::render_bytes(&b),
                e.describe(*wait)
            )),
        },
        ClientCmd::ExpectClose { wait, .. } => {
            if c.close_reported {
                return;
            }
            let (extra, e) = c.wire.until_close(deadline(*wait, limit), 1 << 20);
            if !extra.is_empty() {
                out.push(format!(
                    "{name}: unexpected data: {}",
                    wire::render_bytes(&extra)
                ));
            }
            if e != End::Closed {
                out.push(format!("{name}: not closed: {}", e.describe(*wait)));
            }
        }
        ClientCmd::Connect { .. }
        | ClientCmd::Wait(_)
        | ClientCmd::Cli { .. }
        | ClientCmd::CliStat { .. } => unreachable!("handled by the caller"),
    }
}

/// A short, stable name for a connect error.
fn io_kind(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out".into(),
        k => format!("{k:?}"),
    }
}

/// Starts the thread(s) of server `s` on listener `l`; the handle yields its transcript.
fn spawn_server(
    s: &super::Server,
    l: TcpListener,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    limit: Instant,
) -> JoinHandle<Vec<String>> {
    let name = s.name.clone();
    l.set_nonblocking(true).expect("nonblocking listener");
    match &s.script {
        None => std::thread::spawn(move || auto_server(&name, l, stop)),
        Some(script) => {
            let script: Vec<(usize, ServerCmd)> =
                script.iter().map(|st| (st.line, st.cmd.clone())).collect();
            std::thread::spawn(move || {
                let mut sv = Scripted {
                    name,
                    listener: l,
                    stop,
                    conns: Vec::new(),
                    cur: None,
                    last_method: String::new(),
                    pending_head: None,
                    out: Vec::new(),
                };
                sv.run(&script, limit);
                done.fetch_add(1, Ordering::SeqCst);
                sv.finish();
                sv.out
            })
        }
    }
}

/// Accepts one connection from the nonblocking `l` before `dl`, unless stopped.
fn accept(l: &TcpListener, dl: Instant, stop: &AtomicBool) -> Result<TcpStream, End> {
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking stream");
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(End::Error(e.to_string())),
        }
        if stop.load(Ordering::Relaxed) {
            return Err(End::Stopped);
        }
        if Instant::now() >= dl {
            return Err(End::Timeout);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The automatic response of server `name` to a request with `method`.
fn auto_response(name: &str, method: &str) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", name.len()).into_bytes();
    if method != "HEAD" {
        r.extend_from_slice(name.as_bytes());
    }
    r
}

/// Does the request head ask for `100-continue`?
fn expects_continue(m: &wire::Message) -> bool {
    m.headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("expect") && v.trim().eq_ignore_ascii_case("100-continue")
        })
    })
}

/// The `auto` server: every request on every connection gets [`auto_response`] (after a
/// `100 Continue` if asked). Requests are reported sorted by (connection, order).
fn auto_server(name: &str, l: TcpListener, stop: Arc<AtomicBool>) -> Vec<String> {
    type Entries = Arc<Mutex<Vec<((usize, usize), Vec<String>)>>>;
    let entries: Entries = Arc::new(Mutex::new(Vec::new()));
    let mut handlers = Vec::new();
    let mut n = 0;
    let far = Instant::now() + Duration::from_secs(3600);
    while let Ok(s) = accept(&l, far, &stop) {
        n += 1;
        let (entries, stop, name) = (entries.clone(), stop.clone(), name.to_string());
        handlers.push(std::thread::spawn(move || {
            let mut w = Wire::new(s, Some(stop));
            for seq in 0.. {
                let wait = Duration::from_secs(3600);
                let mut m = match wire::read_head(&mut w, Kind::Request, far, wait) {
                    Read1::Nothing(_) => return,
                    Read1::Msg(m) => m,
                };
                if m.problem.is_none() && expects_continue(&m) {
                    let _ = w.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                wire::read_body(&mut w, &mut m, far, wait);
                let mut lines = vec![format!("conn {n}: request")];
                wire::render_message(&m, "    ", &mut lines);
                entries.lock().unwrap().push(((n, seq), lines));
                if m.problem.is_some() {
                    return;
                }
                let _ = w.stream.write_all(&auto_response(&name, &m.method));
            }
        }));
    }
    for h in handlers {
        let _ = h.join();
    }
    let mut v = std::mem::take(&mut *entries.lock().unwrap());
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().flat_map(|(_, l)| l).collect()
}

/// A scripted server's state.
struct Scripted {
    name: String,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    /// Accepted connections, in order (connection N is `conns[N - 1]`).
    conns: Vec<(Wire, bool)>,
    /// Index of the current connection.
    cur: Option<usize>,
    /// Method of the last request read (for `respond`).
    last_method: String,
    /// The head read by `recv-head`, whose body `recv-body` reads.
    pending_head: Option<Box<wire::Message>>,
    out: Vec<String>,
}

impl Scripted {
    fn run(&mut self, script: &[(usize, ServerCmd)], limit: Instant) {
        for (line, cmd) in script {
            if let Err(why) = self.step(cmd, limit) {
                self.out
                    .push(format!("script stopped at line {line}: {why}"));
                return;
            }
            if let Some(i) = self.cur {
                let (w, reported) = &mut self.conns[i];
                if w.closed() && !*reported {
                    *reported = true;
                    self.out.push(format!("conn {}: closed by proxy", i + 1));
                }
            }
        }
    }

    /// The current connection, or why there is none.
    fn conn(&mut self) -> Result<(usize, &mut Wire), String> {
        let i = self.cur.ok_or("no connection accepted yet")?;
        Ok((i + 1, &mut self.conns[i].0))
    }

    fn step(&mut self, cmd: &ServerCmd, limit: Instant) -> Result<(), String> {
        match cmd {
            ServerCmd::Accept { wait } => {
                match accept(&self.listener, deadline(*wait, limit), &self.stop) {
                    Ok(s) => {
                        self.conns
                            .push((Wire::new(s, Some(self.stop.clone())), false));
                        self.cur = Some(self.conns.len() - 1);
                    }
                    Err(End::Timeout) => {
                        return Err(format!(
                            "accept: no connection within {} ms",
                            wait.as_millis()
                        ))
                    }
                    Err(e) => return Err(format!("accept: {}", e.describe(*wait))),
                }
            }
            ServerCmd::Conn(n) => {
                if *n == 0 || *n > self.conns.len() {
                    return Err(format!("conn {n}: no such connection"));
                }
                self.cur = Some(n - 1);
            }
            ServerCmd::RecvRequest { wait } | ServerCmd::RecvHead { wait } => {
                let head_only = matches!(cmd, ServerCmd::RecvHead { .. });
                let (n, w) = self.conn()?;
                if w.desync {
                    return Err("the stream is not parseable since a problem".into());
                }
                let dl = deadline(*wait, limit);
                let r = if head_only {
                    wire::read_head(w, Kind::Request, dl, *wait)
                } else {
                    wire::read_message(w, Kind::Request, dl, *wait)
                };
                match r {
                    Read1::Nothing(End::Closed) => self.out.push(format!("conn {n}: no request")),
                    Read1::Nothing(End::Stopped) => return Err("scenario ended".into()),
                    Read1::Nothing(e) => self
                        .out
                        .push(format!("conn {n}: no request: {}", e.describe(*wait))),
                    Read1::Msg(m) => {
                        let what = if head_only { "request head" } else { "request" };
                        self.out.push(format!("conn {n}: {what}"));
                        wire::render_message(&m, "    ", &mut self.out);
                        self.last_method = m.method.clone();
                        if head_only {
                            self.pending_head = Some(m);
                        }
                    }
                }
            }
            ServerCmd::RecvBody { wait } => {
                let Some(mut m) = self.pending_head.take() else {
                    return Err("recv-body without a recv-head before".into());
                };
                let (n, w) = self.conn()?;
                wire::read_body(w, &mut m, deadline(*wait, limit), *wait);
                self.out.push(format!("conn {n}: request body"));
                // only the body part of the rendering
                let mut lines = Vec::new();
                m.start.clear();
                m.headers.clear();
                wire::render_message(&m, "    ", &mut lines);
                self.out.extend(lines);
            }
            ServerCmd::RecvRaw { len, wait } => {
                let (n, w) = self.conn()?;
                let line = match w.exact(*len, deadline(*wait, limit)) {
                    Ok(b) => format!("conn {n}: raw {}", wire::render_bytes(&b)),
                    Err((b, e)) => format!(
                        "conn {n}: raw, incomplete: {}; {}",
                        wire::render_bytes(&b),
                        e.describe(*wait)
                    ),
                };
                self.out.push(line);
            }
            ServerCmd::Send(data) => {
                let (_, w) = self.conn()?;
                let _ = w.stream.write_all(data);
            }
            ServerCmd::Respond => {
                let r = auto_response(&self.name, &self.last_method);
                let (_, w) = self.conn()?;
                let _ = w.stream.write_all(&r);
            }
            ServerCmd::Shutdown => {
                let (_, w) = self.conn()?;
                let _ = w.stream.shutdown(Shutdown::Write);
            }
            ServerCmd::Close => {
                let (_, w) = self.conn()?;
                let _ = w.stream.shutdown(Shutdown::Both);
            }
            ServerCmd::ExpectClose { wait } => {
                let i = self.cur.ok_or("no connection accepted yet")?;
                let (w, reported) = &mut self.conns[i];
                if *reported {
                    return Ok(());
                }
                let (extra, e) = w.until_close(deadline(*wait, limit), 1 << 20);
                if !extra.is_empty() {
                    self.out.push(format!(
                        "conn {}: unexpected data: {}",
                        i + 1,
                        wire::render_bytes(&extra)
                    ));
                }
                match e {
                    End::Closed => {}
                    End::Stopped => return Err("scenario ended".into()),
                    e => {
                        self.out
                            .push(format!("conn {}: not closed: {}", i + 1, e.describe(*wait)))
                    }
                }
            }
            ServerCmd::Wait(d) => std::thread::sleep(*d),
        }
        Ok(())
    }

    /// After the run: reports connections nobody expected and data nobody read.
    fn finish(&mut self) {
        while !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for (i, (w, reported)) in self.conns.iter_mut().enumerate() {
            if *reported {
                continue;
            }
            let extra = drain_now(w);
            if !extra.is_empty() {
                self.out.push(format!(
                    "conn {}: unexpected data after the script: {}",
                    i + 1,
                    wire::render_bytes(&extra)
                ));
            }
        }
        let mut n = self.conns.len();
        while let Ok((s, _)) = self.listener.accept() {
            n += 1;
            let _ = s.set_nonblocking(false);
            let mut w = Wire::new(s, None);
            let extra = drain_now(&mut w);
            self.out.push(format!(
                "conn {n}: unexpected connection, data: {}",
                wire::render_bytes(&extra)
            ));
        }
    }
}

/// What is buffered in `w` plus what the socket has right now, without waiting.
fn drain_now(w: &mut Wire) -> Vec<u8> {
    let mut v = w.take_pending();
    if w.stream.set_nonblocking(true).is_ok() {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = w.stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            v.extend_from_slice(&buf[..n]);
        }
    }
    v
}
