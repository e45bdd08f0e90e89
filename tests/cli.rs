//! The stats socket CLI end to end, checked against replies recorded from upstream HAProxy
//! 2.6: haproxy-rs and, when installed, upstream `haproxy` run the same configuration
//! (three stats sockets: an admin and a user UNIX socket, an inherited TCP `fd@` socket at
//! operator level), receive the command lines of [`SCRIPT`] in the same order, and each
//! reply, once masked ([`mask`]: `show info`'s pid, version, uptime, limits, task counts,
//! byte counters and start time; `show stat`'s `lastchg`/`downtime`/`lastsess` and `show
//! servers state`'s seconds since the last change; the port of the test's HTTP server; this
//! host's name), is checked against `tests/cli/expected.txt`, one section per line of the
//! script. haproxy-rs is checked always: `Exact` replies byte for byte; `Usage` replies
//! (help and "Unknown command") list only the commands haproxy-rs implements, so every line
//! must be one of the recorded reply's, in the same order, with the same heading and
//! trailer; `Refused` commands (upstream features haproxy-rs refuses) against [`PINNED`].
//! Upstream's masked replies must equal the record (except `Refused` ones, which hold
//! pointers and timings), so a change in upstream is noticed. The views of the pool-purge
//! check ([`maint_purges_idle`]) are recorded and checked the same way.
//!
//! Re-recording: `HRS_DIFF_BLESS=1 cargo test -p haproxy-rs --test cli` (a knob, refused
//! under CI) runs the script on three upstream processes, rewrites the record only if their
//! replies agree, then checks as usual; review the diff of the record before committing it.
//! A script line added or moved needs a new record (sections are keyed by index and line).
//!
//! Also checked, on haproxy-rs alone: literal replies pinned from upstream 2.6.12, the socket
//! file mode, a client that never ends its line is closed after the 10 s CLI timeout while
//! others are served, maintenance purges a server's idle connection (the server sees it
//! close), and the UNIX socket file is removed at exit.
//!
//! Every process runs in its own process group in a fresh temp directory (kept with
//! `HRS_KEEP=1`) and is SIGKILLed (group-wide) when dropped; listeners are bound here on
//! 127.0.0.1 port 0 and inherited only by the spawned child; each process has its own HTTP
//! server for its `pool` backend.

mod common;

use common::*;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The configuration, with `@DIR@` (the run's temp dir), `@FE@`-style inherited listeners
/// and `@POOL@` (the address of the test's HTTP server) filled in per process.
const CONFIG: &str = r#"global
    nbthread 1
    maxconn 1000
    stats socket @DIR@/cli.sock level admin mode 600
    stats socket @DIR@/user.sock level user
    stats socket "fd@@CLI@" level operator
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind "fd@@FE@"
    use_backend bk if { path_beg /k }
    default_backend be
backend be
    server s1 127.0.0.1:9001
    server s2 127.0.0.1:9002 weight 5 maxconn 7 pool-max-conn 10
    server s3 127.0.0.1:9003 disabled
    server s4 127.0.0.1:9004 backup
    server s6 [::1]:9006
    server s7 127.0.0.1
backend bk
    balance static-rr
    server k1 127.0.0.1:9011 weight 7 pool-purge-delay 2s
backend bt
    mode tcp
    balance first
    server t1 127.0.0.1:9021
backend empty
backend alldis
    server a1 127.0.0.1:9031 disabled
    server a2 127.0.0.1:9032 disabled backup
frontend ft
    mode tcp
    bind "fd@@FT@"
    maxconn 50
    default_backend bt
listen li
    bind "fd@@FL@"
    balance leastconn
    server x 127.0.0.1:9041 weight 200
frontend fp
    bind "fd@@FP@"
    default_backend pool
backend pool
    server p1 @POOL@
backend dis
    disabled
    server d1 127.0.0.1:9051
"#;

/// How long a reply may take.
const REPLY_WAIT: Duration = Duration::from_secs(5);

/// A running proxy. Dropping it kills its process group and removes its directory.
struct Proxy {
    name: &'static str,
    child: Child,
    dir: PathBuf,
    /// The inherited operator-level stats socket.
    tcp_cli: std::net::SocketAddr,
    /// The `fp` frontend (toward the `pool` backend).
    fp: std::net::SocketAddr,
    /// The HTTP server of the `pool` backend, this proxy's own.
    pool: std::net::SocketAddr,
    /// One message per connection of `pool` that ended.
    pool_ends: mpsc::Receiver<()>,
}

impl Drop for Proxy {
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

impl Proxy {
    /// Starts `bin -d -f haproxy.cfg` on [`CONFIG`] with fresh listeners and its own HTTP
    /// server for the `pool` backend, and waits until its admin socket answers (one `show
    /// cli level`, so that every process counts the same connections). `name` names the
    /// temp directory.
    fn start(name: &'static str, bin: &Path) -> Proxy {
        let (pool, pool_ends) = http_server();
        let dir = std::env::temp_dir().join(format!("hrs-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
        let mut listeners = Vec::new();
        let mut cfg = CONFIG
            .replace("@DIR@", dir.to_str().unwrap())
            .replace("@POOL@", &pool.to_string());
        let mut addrs = Vec::new();
        for tag in ["@CLI@", "@FE@", "@FT@", "@FL@", "@FP@"] {
            let l = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
            cfg = cfg.replace(tag, &l.as_raw_fd().to_string());
            addrs.push(l.local_addr().unwrap());
            listeners.push(l);
        }
        std::fs::write(dir.join("haproxy.cfg"), cfg).unwrap();
        let log = File::create(dir.join("proxy.log")).unwrap();
        let fds: Vec<RawFd> = listeners.iter().map(|l| l.as_raw_fd()).collect();
        let mut cmd = Command::new(bin);
        cmd.args(["-d", "-f", "haproxy.cfg"])
            .current_dir(&dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
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
        let p = Proxy {
            name,
            child,
            dir,
            tcp_cli: addrs[0],
            fp: addrs[4],
            pool,
            pool_ends,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(mut s) = UnixStream::connect(p.sock("cli.sock")) {
                let _ = s.write_all(b"show cli level\n");
                let _ = s.shutdown(Shutdown::Write);
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                assert_eq!(out, b"admin\n\n", "{name}: first reply");
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not open its stats socket; log:\n{}",
                p.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn sock(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("proxy.log")).unwrap_or_default()
    }

    /// Sends `input` on stats socket `file`, half-closes, reads until the proxy closes.
    fn cli(&self, file: &str, input: &[u8]) -> Vec<u8> {
        let s = UnixStream::connect(self.sock(file))
            .unwrap_or_else(|e| panic!("{}: connect {file}: {e}", self.name));
        s.set_read_timeout(Some(REPLY_WAIT)).unwrap();
        exchange(s, input)
    }
}

/// Writes `input`, half-closes, reads to EOF (at most [`REPLY_WAIT`]).
fn exchange<S: Read + Write + HalfClose>(mut s: S, input: &[u8]) -> Vec<u8> {
    // a write error means the proxy closed first: what it sent is still worth reading
    let _ = s.write_all(input).and_then(|_| s.half_close());
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                out.extend_from_slice(format!("<<read error: {e}>>").as_bytes());
                return out;
            }
        }
    }
}

trait HalfClose {
    fn half_close(&mut self) -> std::io::Result<()>;
}

impl HalfClose for UnixStream {
    fn half_close(&mut self) -> std::io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl HalfClose for TcpStream {
    fn half_close(&mut self) -> std::io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// `show info` fields whose values differ between processes or runs.
const INFO_VOLATILE: &[&str] = &[
    "Version",
    "Release_date",
    "Pid",
    "Uptime",
    "Uptime_sec",
    "Ulimit-n",
    "Maxsock",
    "Tasks",
    "Run_queue",
    "Idle_pct",
    "TotalBytesOut",
    "BytesOutRate",
    "Build info",
    "PoolAlloc_bytes",
    "PoolUsed_bytes",
    "Start_time_sec",
];

/// `show stat` columns counted in seconds of the process's own clock.
const STAT_VOLATILE: &[&str] = &["lastchg", "downtime", "lastsess"];

/// Replaces volatile values in a reply: `show info` lines, `show stat` columns (located by
/// the `# pxname,` header), `show servers state` column 10; then what depends on the run or
/// the machine: the port of the test's HTTP server (`pool_port`, on the lines naming the
/// `pool` backend) becomes `PORT`, and `show info`'s `node: <this host's name>` becomes
/// `node: HOSTNAME`.
fn mask(reply: &[u8], pool_port: u16) -> String {
    let masked = mask_volatile(reply);
    let host = hostname();
    let port = pool_port.to_string();
    let mut out = String::new();
    for line in masked.split_inclusive('\n') {
        if line.contains("pool") {
            out.push_str(&replace_number(line, &port, "PORT"));
        } else if !host.is_empty() && line.trim_end_matches('\n') == format!("node: {host}") {
            out.push_str(&line.replace(&host, "HOSTNAME"));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// This machine's host name ("" if unknown).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname(2) writes at most `len` bytes into the buffer.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return String::new();
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Replaces each occurrence of the number `num` in `s` that is not part of a longer number.
fn replace_number(s: &str, num: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(num) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + num.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit()) {
            out.push_str(num);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + num.len()..];
    }
    out.push_str(rest);
    out
}

/// The masking of [`mask`] that does not depend on the run: `show info`'s volatile fields,
/// `show stat`'s clock columns, `show servers state`'s seconds since the last change.
fn mask_volatile(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply);
    let mut out = String::new();
    let mut stat_cols: Vec<usize> = Vec::new();
    let mut in_state = false;
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if let Some(h) = body.strip_prefix("# pxname,") {
            let cols: Vec<&str> = std::iter::once("pxname").chain(h.split(',')).collect();
            stat_cols = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| STAT_VOLATILE.contains(c))
                .map(|(i, _)| i)
                .collect();
            in_state = false;
            out.push_str(line);
            continue;
        }
        if body.starts_with("# be_id ") {
            in_state = true;
            stat_cols.clear();
            out.push_str(line);
            continue;
        }
        if body.is_empty() {
            stat_cols.clear();
            in_state = false;
            out.push_str(line);
            continue;
        }
        if !stat_cols.is_empty() {
            let cells: Vec<String> = body
                .split(',')
                .enumerate()
                .map(|(i, c)| {
                    if stat_cols.contains(&i) && !c.is_empty() {
                        "X".into()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str(nl);
            continue;
        }
        if in_state {
            let cells: Vec<&str> = body
                .split(' ')
                .enumerate()
                .map(|(i, c)| if i == 9 { "X" } else { c })
                .collect();
            out.push_str(&cells.join(" "));
            out.push_str(nl);
            continue;
        }
        if let Some((k, _)) = body.split_once(": ") {
            if INFO_VOLATILE.contains(&k) {
                out.push_str(&format!("{k}: X{nl}"));
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// How two replies are compared.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    /// Equal after [`mask`].
    Exact,
    /// A usage message: same first line and trailer; our command lines are some of
    /// upstream's, in the same order.
    Usage,
    /// Sent to both (the connection counts stay equal), not compared: an upstream feature
    /// haproxy-rs refuses (its reply is pinned instead).
    Refused,
}

/// Upstream's usage trailer (help/prompt/quit) and the end-of-reply empty line.
const TRAILER: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n\n";

/// Compares usage messages: same heading and trailer, and our command lines are exactly
/// upstream's lines for the commands we implement (`supported`: the lines of our `help`).
fn check_usage(cmd: &str, up: &str, ours: &str, supported: &[String]) -> Result<(), String> {
    let first = |s: &str| s.lines().next().unwrap_or("").to_string();
    if first(up) != first(ours) {
        return Err(format!(
            "{cmd}: heading {:?} vs {:?}",
            first(up),
            first(ours)
        ));
    }
    if !up.ends_with(TRAILER) || !ours.ends_with(TRAILER) {
        return Err(format!("{cmd}: trailer differs:\n{up}\n---\n{ours}"));
    }
    let body = |s: &str| -> Vec<String> {
        let s = &s[..s.len() - TRAILER.len()];
        s.lines().skip(1).map(str::to_string).collect()
    };
    let want: Vec<String> = body(up)
        .into_iter()
        .filter(|l| supported.contains(l))
        .collect();
    if want != body(ours) {
        return Err(format!(
            "{cmd}: listed commands differ\nupstream (ours only) {want:#?}\nours {:#?}",
            body(ours)
        ));
    }
    Ok(())
}

/// Commands sent to both proxies, in order, on the admin socket unless prefixed by a
/// socket file name and `|`.
const SCRIPT: &[(&str, Cmp)] = &[
    ("show info\n", Cmp::Exact),
    ("show stat\n", Cmp::Exact),
    ("show servers conn\n", Cmp::Exact),
    ("show servers state\n", Cmp::Exact),
    ("show servers conn be\n", Cmp::Exact),
    ("show servers state bt\n", Cmp::Exact),
    ("show servers state empty\n", Cmp::Exact),
    ("show servers conn nobe\n", Cmp::Exact),
    ("show servers conn #4\n", Cmp::Exact),
    ("show servers state dis\n", Cmp::Exact),
    ("help\n", Cmp::Usage),
    ("help show servers\n", Cmp::Usage),
    ("help user\n", Cmp::Usage),
    ("\n", Cmp::Usage),
    ("foo\n", Cmp::Usage),
    ("show\n", Cmp::Usage),
    ("show servers\n", Cmp::Exact),
    ("show servers foo\n", Cmp::Exact),
    ("shwo stat\n", Cmp::Exact),
    ("SHOW stat\n", Cmp::Usage),
    ("show\\ servers conn bt\n", Cmp::Exact),
    ("set server\n", Cmp::Exact),
    ("set server be/s1\n", Cmp::Exact),
    ("set server be/zz state ready\n", Cmp::Exact),
    ("set server zz/s1 state ready\n", Cmp::Exact),
    ("set server be/s1 state\n", Cmp::Exact),
    ("set server be/s1 state bogus\n", Cmp::Exact),
    ("disable server\n", Cmp::Exact),
    ("disable server be\n", Cmp::Exact),
    ("disable server be/zz\n", Cmp::Exact),
    ("enable server nobe/x\n", Cmp::Exact),
    ("disable server dis/d1\n", Cmp::Exact),
    ("show servers conn bk\r\n", Cmp::Exact),
    ("show   servers \t conn    bt   \n", Cmp::Exact),
    ("show servers conn bt\nshow servers conn bk\n", Cmp::Exact),
    ("show servers conn bt;show servers conn bk\n", Cmp::Exact),
    ("show serv\\ers conn b\\t\n", Cmp::Exact),
    ("show servers conn b\\;t\n", Cmp::Exact),
    ("show servers conn bt <<\nsome payload\n\n", Cmp::Exact),
    ("show servers conn bt", Cmp::Exact),
    ("show servers conn bt\\\n", Cmp::Exact),
    ("\\\n", Cmp::Usage),
    ("show sess\n", Cmp::Refused),
    ("set server be/s1 weight 1\n", Cmp::Refused),
    ("show info json\n", Cmp::Refused),
    ("prompt\nshow servers conn bt\nquit\n", Cmp::Exact),
    ("prompt;prompt\nshow servers conn bt\n", Cmp::Exact),
    (
        "prompt\nshow servers conn bt <<\nfoo\nbar\n\nquit\n",
        Cmp::Exact,
    ),
    ("quit\n", Cmp::Exact),
    ("quit;show servers conn bt\n", Cmp::Exact),
    ("show servers conn bt;quit\n", Cmp::Exact),
    (
        "show cli level;operator;show cli level;user;show cli level;operator\n",
        Cmp::Exact,
    ),
    ("user;set server be/s1 state maint\n", Cmp::Exact),
    ("user.sock|show cli level\n", Cmp::Exact),
    ("user.sock|operator\n", Cmp::Exact),
    ("user.sock|set server be/s1 state drain\n", Cmp::Exact),
    ("user.sock|disable server be/s1\n", Cmp::Exact),
    ("user.sock|enable server be/s1\n", Cmp::Exact),
    ("user.sock|show servers state be\n", Cmp::Exact),
    ("user.sock|show stat\n", Cmp::Exact),
    ("tcp|show cli level\n", Cmp::Exact),
    ("tcp|set server be/s1 state drain\n", Cmp::Exact),
    ("show stat be 4 -1\n", Cmp::Exact),
    ("show stat bt 2 -1\n", Cmp::Exact),
    ("show stat -1 3 2\n", Cmp::Exact),
    ("show stat zz 3 2\n", Cmp::Exact),
    ("show stat 0 3 2\n", Cmp::Exact),
    ("show stat 99 3 2\n", Cmp::Exact),
    ("show stat domain foo\n", Cmp::Exact),
    ("show stat be 1\n", Cmp::Exact),
    ("show stat up\n", Cmp::Exact),
    ("show stat no-maint\n", Cmp::Exact),
    // state changes, each followed by the views they change
    ("set server be/#2 state drain\n", Cmp::Exact),
    ("set server #3/s1 state maint\n", Cmp::Exact),
    ("show stat up\n", Cmp::Exact),
    ("show servers state be\n", Cmp::Exact),
    ("set server be/s6 state drain\n", Cmp::Exact),
    ("set server be/s7 state maint\n", Cmp::Exact),
    ("disable server be/s4\n", Cmp::Exact),
    ("disable server bt/t1\n", Cmp::Exact),
    ("set server li/x state maint\n", Cmp::Exact),
    ("show stat\n", Cmp::Exact),
    ("show servers state\n", Cmp::Exact),
    ("set server be/s2 state ready\n", Cmp::Exact),
    ("enable server be/s1\n", Cmp::Exact),
    ("enable server be/s1\n", Cmp::Exact),
    ("set server be/s3 state ready\n", Cmp::Exact),
    ("set server be/s3 state drain\n", Cmp::Exact),
    ("enable server bt/t1\n", Cmp::Exact),
    ("enable server alldis/a2\n", Cmp::Exact),
    ("set server li/x state drain\n", Cmp::Exact),
    ("show stat\n", Cmp::Exact),
    ("show servers state\n", Cmp::Exact),
    ("show servers conn\n", Cmp::Exact),
    ("show info\n", Cmp::Exact),
];

/// Sends one script line to `p`.
fn send(p: &Proxy, line: &str) -> Vec<u8> {
    let (target, cmd) = line.split_once('|').unwrap_or(("cli.sock", line));
    if target == "tcp" {
        let s = TcpStream::connect(p.tcp_cli).expect("connect to the tcp stats socket");
        s.set_read_timeout(Some(REPLY_WAIT)).unwrap();
        exchange(s, cmd.as_bytes())
    } else {
        p.cli(target, cmd.as_bytes())
    }
}

/// Replies haproxy-rs must give whatever upstream's presence (pinned from 2.6.12).
const PINNED: &[(&str, &str)] = &[
    ("set server be/zz state ready\n", "No such server.\n\n"),
    ("set server zz/s1 state ready\n", "No such backend.\n\n"),
    ("disable server be\n", "Require 'backend/server'.\n\n"),
    ("disable server dis/d1\n", "Proxy is disabled.\n\n"),
    ("show servers conn nobe\n", "Can't find backend.\n\n"),
    ("user.sock|set server be/s1 state drain\n", "Permission denied\n\n"),
    ("tcp|show cli level\n", "operator\n\n"),
    ("show servers conn bt", ""),
    (
        "show sess\n",
        "Command 'show sess' is not supported by haproxy-rs.\n\n",
    ),
    (
        "set server be/s1 weight 1\n",
        "'set server <srv> weight' is not supported by haproxy-rs.\n\n",
    ),
    (
        "show info json\n",
        "This output format is not supported by haproxy-rs.\n\n",
    ),
    ("quit\n", ""),
    (
        "show servers conn bt;show servers conn bk\n",
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\nbt/t1 5/1 127.0.0.1 9021 - 5000 0 0 0 0 0 -1 0 0\n\n# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\nbk/k1 4/1 127.0.0.1 9011 - 2000 0 0 0 0 0 -1 0 0\n\n",
    ),
    (
        "set server be/s1 state bogus\n",
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
    ),
];

/// A tiny HTTP/1.1 server: answers every request `200 ok` on a kept-alive connection and
/// reports each connection's end (EOF) on the returned channel.
fn http_server() -> (std::net::SocketAddr, mpsc::Receiver<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let tx = tx.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                    }
                }
                let _ = tx.send(());
            });
        }
    });
    (addr, rx)
}

/// One request through the `fp` frontend; returns the status line once the whole response
/// (head and `content-length` body) arrived. The client connection is then closed.
fn request(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(REPLY_WAIT)).unwrap();
    s.write_all(b"GET /p HTTP/1.1\r\nhost: t\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                break;
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// The idle server connection of `pool/p1` is closed when the server enters maintenance:
/// the pool shows one idle connection, `disable server` empties it and the server sees the
/// connection end; meanwhile requests get a 503, and work again after `enable server`.
fn maint_purges_idle(p: &Proxy) -> Vec<String> {
    let (ends, pool) = (&p.pool_ends, p.pool);
    let mut seen = Vec::new();
    assert_eq!(
        request(p.fp),
        "HTTP/1.1 200 OK",
        "{}: request through fp",
        p.name
    );
    // the connection reaches the pool once the response is complete
    thread::sleep(Duration::from_millis(200));
    let norm = |b: Vec<u8>| mask(&b, pool.port());
    seen.push(norm(p.cli("cli.sock", b"show servers conn pool\n")));
    assert!(
        seen[0].ends_with("\npool/p1 11/1 127.0.0.1 PORT - 5000 0 1 1 1 0 -1 1 1\n\n"),
        "{}: one idle connection expected in the pool: {}",
        p.name,
        seen[0]
    );
    assert!(
        ends.try_recv().is_err(),
        "{}: the server connection closed before maintenance",
        p.name
    );
    seen.push(norm(p.cli("cli.sock", b"disable server pool/p1\n")));
    assert!(
        ends.recv_timeout(Duration::from_secs(2)).is_ok(),
        "{}: the idle server connection was not closed by maintenance",
        p.name
    );
    // out of load balancing: no server for the next request, until it is enabled again
    assert_eq!(
        request(p.fp),
        "HTTP/1.1 503 Service Unavailable",
        "{}: request to a server in maintenance",
        p.name
    );
    seen.push(norm(p.cli("cli.sock", b"show servers conn pool\n")));
    seen.push(norm(p.cli("cli.sock", b"enable server pool/p1\n")));
    assert_eq!(
        request(p.fp),
        "HTTP/1.1 200 OK",
        "{}: request once the server is ready",
        p.name
    );
    assert!(
        seen[2].ends_with("\npool/p1 11/1 127.0.0.1 PORT - 5000 0 1 1 0 0 -1 0 0\n\n"),
        "{}: the pool must be empty after maintenance: {}",
        p.name,
        seen[2]
    );
    seen
}

/// The recorded replies, under `tests/`.
const RECORD: &str = "cli/expected.txt";
/// The knob that re-records the replies from upstream.
const BLESS: &str = "HRS_DIFF_BLESS";
/// How many upstream processes must agree before their replies are recorded.
const BLESS_RUNS: usize = 3;
/// The head of a new record file.
const RECORD_HEAD: &str = "\
# Expected replies of tests/cli.rs, recorded from upstream HAProxy 2.6 (three agreeing
# processes, `HRS_DIFF_BLESS=1`) and reviewed: one section per command line of SCRIPT (its
# index and the line, escaped), holding upstream's reply masked by the test's mask(); then
# the views of the pool-purge check. haproxy-rs is checked against them always, upstream
# whenever it is installed.
";

/// The record's section of `SCRIPT[idx]`.
fn script_key(idx: usize, line: &str) -> String {
    format!("{idx:03} {line:?}")
}

/// The record's section of the `n`th view of [`maint_purges_idle`].
fn pool_key(n: usize) -> String {
    format!("pool purge {n}")
}

/// A reply as the record's lines (split at each newline: joining with `\n` gives it back).
fn to_lines(reply: &str) -> Vec<String> {
    reply.split('\n').map(str::to_string).collect()
}

/// Starts a client that never ends its line on `p`'s admin socket; the thread returns
/// whether it saw a clean close, what it read, and when.
fn stuck_client(p: &Proxy) -> thread::JoinHandle<(bool, Vec<u8>, Instant)> {
    let mut s = UnixStream::connect(p.sock("cli.sock")).unwrap();
    s.write_all(b"show info").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    thread::spawn(move || {
        let mut out = Vec::new();
        let r = s.read_to_end(&mut out);
        (r.is_ok(), out, Instant::now())
    })
}

/// Every command line of [`SCRIPT`] goes to haproxy-rs and, when installed, to upstream;
/// each masked reply is checked against the record `tests/cli/expected.txt` (by [`Cmp`]
/// mode: `Exact` equal, `Usage` by [`check_usage`] for haproxy-rs and equal for upstream,
/// `Refused` against [`PINNED`] for haproxy-rs and not at all for upstream, whose reply
/// holds pointers and timings), and so are the views of [`maint_purges_idle`]. With
/// `HRS_DIFF_BLESS` (a knob, refused under CI) the record is rewritten first from three
/// upstream processes that must agree.
#[test]
fn cli_matches_upstream() {
    const TEST: &str = "cli_matches_upstream";
    let bless = knob_on(BLESS);
    let ours = Proxy::start("haproxy-rs", &hrs());
    let up_bin = upstream(TEST);
    assert!(
        !bless || up_bin.is_some(),
        "{BLESS} records upstream's replies: no upstream"
    );
    // Upstream processes: the reference, plus two more when recording.
    let ups: Vec<Proxy> = match &up_bin {
        Some(b) => {
            let names = ["haproxy", "haproxy-2", "haproxy-3"];
            let n = if bless { BLESS_RUNS } else { 1 };
            names[..n]
                .iter()
                .map(|name| Proxy::start(name, b))
                .collect()
        }
        None => Vec::new(),
    };

    // a client that never ends its line: it must not hold anything up, and haproxy-rs
    // closes it after the CLI timeout (upstream keeps it open: not compared)
    let started = Instant::now();
    let stuck = stuck_client(&ours);
    // the same connection count on every side
    let _up_stuck: Vec<UnixStream> = ups
        .iter()
        .map(|u| {
            let mut s = UnixStream::connect(u.sock("cli.sock")).unwrap();
            s.write_all(b"show info").unwrap();
            s
        })
        .collect();

    let mode = std::fs::metadata(ours.sock("cli.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "stats socket mode");

    // the usage lines of the commands haproxy-rs implements
    let help = String::from_utf8(ours.cli("cli.sock", b"help\n")).unwrap();
    let supported: Vec<String> = help
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("  "))
        .map(str::to_string)
        .collect();
    for up in &ups {
        up.cli("cli.sock", b"help\n");
    }

    // every reply: ours masked, and upstream's (one per upstream process)
    let mut failures = Vec::new();
    let mut replies: Vec<(String, String, Vec<String>)> = Vec::new();
    for (idx, &(line, cmp)) in SCRIPT.iter().enumerate() {
        let o = send(&ours, line);
        assert!(
            o.is_empty() || o.ends_with(b"\n") || o.ends_with(b"> "),
            "{line:?}: reply does not end with a newline: {:?}",
            String::from_utf8_lossy(&o)
        );
        let pinned = PINNED.iter().find(|(l, _)| *l == line);
        assert!(
            cmp != Cmp::Refused || pinned.is_some(),
            "{line:?}: a refused command needs its reply in PINNED"
        );
        if let Some((_, want)) = pinned {
            if String::from_utf8_lossy(&o) != *want {
                failures.push(format!(
                    "{line:?}: pinned reply differs:\n  want {want:?}\n  got  {:?}",
                    String::from_utf8_lossy(&o)
                ));
            }
        }
        let u: Vec<String> = ups
            .iter()
            .map(|up| mask(&send(up, line), up.pool.port()))
            .collect();
        replies.push((script_key(idx, line), mask(&o, ours.pool.port()), u));
    }
    let ours_pool = maint_purges_idle(&ours);
    let ups_pool: Vec<Vec<String>> = ups.iter().map(maint_purges_idle).collect();
    for (n, view) in ours_pool.iter().enumerate() {
        let u = ups_pool.iter().map(|v| v[n].clone()).collect();
        replies.push((pool_key(n + 1), view.clone(), u));
    }

    // the mode of a reply's line (pool views are compared exactly)
    let cmp_of = |key: &str| {
        SCRIPT
            .iter()
            .enumerate()
            .find(|(i, (l, _))| script_key(*i, l) == key)
            .map_or(Cmp::Exact, |(_, (_, c))| *c)
    };
    if bless {
        let old = reference::Record::read(RECORD);
        let mut rec = reference::Record {
            head: if old.head.trim().is_empty() {
                RECORD_HEAD.to_string()
            } else {
                old.head
            },
            sections: Default::default(),
        };
        for (key, _, u) in &replies {
            if cmp_of(key) == Cmp::Refused {
                continue;
            }
            for (k, other) in u.iter().enumerate().skip(1) {
                assert!(
                    *other == u[0],
                    "not recorded: upstream processes 1 and {} differ on {}",
                    k + 1,
                    diff(key, ("upstream 1", &u[0]), ("upstream", other))
                );
            }
            rec.sections.insert(key.clone(), to_lines(&u[0]));
        }
        rec.write(RECORD);
        print_now(&format!(
            "{TEST}: recorded {} replies from {BLESS_RUNS} agreeing upstream processes in \
             tests/{RECORD}: review its diff",
            rec.sections.len()
        ));
    }

    // each reply against the record
    let record = reference::Record::read(RECORD);
    let mut checked = 0;
    for (key, om, u) in &replies {
        let cmp = cmp_of(key);
        if cmp == Cmp::Refused {
            // checked against PINNED above
            checked += 1;
            continue;
        }
        let Some(lines) = record.sections.get(key) else {
            failures.push(format!(
                "{key}: no recorded reply in tests/{RECORD}: record it from upstream with \
                 {BLESS}=1, then review it"
            ));
            continue;
        };
        let want = lines.join("\n");
        let res = match cmp {
            Cmp::Exact if want == *om => Ok(()),
            Cmp::Exact => Err(diff(key, ("recorded", &want), ("haproxy-rs", om))),
            Cmp::Usage => check_usage(key, &want, om, &supported),
            Cmp::Refused => Ok(()),
        };
        if let Err(e) = res {
            failures.push(format!("haproxy-rs differs from the record: {e}"));
        }
        checked += 1;
        if let Some(u) = u.first() {
            if *u != want {
                failures.push(format!(
                    "upstream differs from the record (if upstream changed, re-record with \
                     {BLESS}=1 and review): {}",
                    diff(key, ("recorded", &want), ("upstream", u))
                ));
            }
        }
    }
    for key in record.sections.keys() {
        if !replies.iter().any(|(k, _, _)| k == key) {
            failures.push(format!(
                "tests/{RECORD}: section `== {key}` is no line of SCRIPT (re-record)"
            ));
        }
    }
    if ups.is_empty() {
        ours_only(TEST, "CLI command lines and pool-purge views", checked);
    }

    let (closed, got, at) = stuck.join().unwrap();
    let after = at.duration_since(started);
    assert!(closed && got.is_empty(), "unterminated command: {got:?}");
    assert!(
        after >= Duration::from_secs(9) && after < Duration::from_secs(13),
        "unterminated command closed after {after:?}, not the 10 s CLI timeout"
    );

    // the UNIX socket files go away when haproxy-rs stops
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(ours.child.id() as libc::pid_t, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(3);
    while ours.sock("cli.sock").exists() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(!ours.sock("cli.sock").exists(), "cli.sock left after exit");
    assert!(
        !ours.log().contains("panicked"),
        "haproxy-rs panicked:\n{}",
        ours.log()
    );

    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A line diff of two masked replies `(label, text)`, for failure messages.
fn diff(cmd: &str, (la, a): (&str, &str), (lb, b): (&str, &str)) -> String {
    let mut out = format!("{cmd}: replies differ\n");
    let (u, o): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    for i in 0..u.len().max(o.len()) {
        let (x, y) = (u.get(i).copied(), o.get(i).copied());
        if x != y {
            out.push_str(&format!(
                "  line {i}:\n    {la:<10} {x:?}\n    {lb:<10} {y:?}\n"
            ));
        }
    }
    out
}

/// The run-dependent masking: the pool port only as a whole number on `pool` lines, the
/// host name only as `show info`'s `node`.
#[test]
fn mask_normalises_pool_port_and_host() {
    assert_eq!(
        replace_number("a 4242 14242 42421 x4242,4242:", "4242", "PORT"),
        "a PORT 14242 42421 xPORT,PORT:"
    );
    let host = hostname();
    let reply = format!(
        "pool/p1 11/1 127.0.0.1 4242 - 5000\nbe/s1 3/1 127.0.0.1 4242 - 5000\nnode: {host}\n\
         description: {host}\n"
    );
    let want = format!(
        "pool/p1 11/1 127.0.0.1 PORT - 5000\nbe/s1 3/1 127.0.0.1 4242 - 5000\nnode: HOSTNAME\n\
         description: {host}\n"
    );
    assert!(!host.is_empty());
    assert_eq!(mask(reply.as_bytes(), 4242), want);
}
