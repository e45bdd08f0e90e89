//! Process-level behaviour of `haproxy-rs`, end to end: the running binary, real sockets and
//! real signals.
//!
//! Covers: adopting an inherited listener (`bind "fd@${NAME}"`) and the `-d` accept debug
//! line; SIGINT (immediate stop) and SIGUSR1 (graceful stop, listeners released);
//! master-worker mode (`-W`) with its pid file and exit code 130; `-vv` claiming only
//! features that `-cc 'feature(X)'` agrees with, and listing the muxes that `proto` accepts
//! in upstream's format; `-c` exit codes (0 valid, 1 error, 2 no
//! listener) including a configuration directory.
//!
//! Every child is spawned in its own process group and killed (group-wide, SIGKILL) by a
//! guard when a test fails, so that no worker outlives its test. The inherited listener is
//! made inheritable only in the spawned child (`pre_exec`), never in the test process, so
//! children of tests running in parallel do not pick up each other's sockets.

mod common;

use common::*;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The configuration of the running tests: one frontend on the inherited descriptor `$FE`.
const FD_CFG: &str = "global\n    stats timeout 1s\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind \"fd@${FE}\"\n";

/// A fresh path under the temp dir, unique to this process, test and call.
fn temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("hrs-process-{}-{tag}-{n}", std::process::id()))
}

/// Writes `text` to a fresh temp file and returns its path.
fn temp_file(tag: &str, text: &str) -> PathBuf {
    let p = temp_path(tag);
    std::fs::write(&p, text).unwrap();
    p
}

/// Removes a temp file or directory when dropped.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A spawned `haproxy-rs` with its output readers. Dropping it SIGKILLs its whole process
/// group (master and worker) unless it was seen to exit.
struct Proc {
    child: Child,
    /// stderr, line by line; disconnected at EOF.
    stderr: Receiver<String>,
    /// Disconnected when stdout reaches EOF.
    stdout_eof: Receiver<()>,
    /// Every stderr line received so far, for failure messages.
    seen: Vec<String>,
    exited: bool,
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        if !self.exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Spawns `haproxy-rs args...` with `FE=<fd>` in its environment and `fd` inheritable, in a
/// new process group, stdout and stderr piped.
fn spawn(args: &[&str], fd: RawFd) -> Proc {
    let mut cmd = Command::new(hrs());
    cmd.args(args)
        .env_clear()
        .env("FE", fd.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    let mut child = cmd.spawn().expect("cannot spawn haproxy-rs");
    let (tx, stderr) = channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (tx, stdout_eof) = channel::<()>();
    let mut out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut out, &mut std::io::sink());
        drop(tx);
    });
    Proc {
        child,
        stderr,
        stdout_eof,
        seen: Vec::new(),
        exited: false,
    }
}

impl Proc {
    /// Waits up to `timeout` for a stderr line satisfying `pred` and returns it.
    fn wait_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return l;
                    }
                }
                Err(e) => panic!(
                    "no expected stderr line ({e:?}); stderr so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Sends `sig` to the spawned process only (not to its group).
    fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) to our own child.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// Waits up to `timeout` for the process to exit; panics if it does not.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                self.exited = true;
                return st;
            }
            if Instant::now() >= deadline {
                panic!(
                    "haproxy-rs did not exit within {timeout:?}; stderr: {:#?}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts that stdout and stderr both reach EOF within `timeout`: nothing (a leftover
    /// worker, say) still holds the pipes.
    fn assert_pipes_closed(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stderr still open after exit"),
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.stdout_eof.recv_timeout(left) {
            Err(RecvTimeoutError::Disconnected) => {}
            other => panic!("stdout still open after exit: {other:?}"),
        }
    }
}

/// Connects to `addr` (retrying for up to 2 s), sends one request with `Connection: close`
/// and reads until EOF: the frontend has no backend, so the proxy must answer 503 and close.
/// Returns the client's local port.
fn request_expect_503(addr: SocketAddr) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut s = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("connect to {addr}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot connect to {addr}: {e}"),
        }
    };
    let port = s.local_addr().unwrap().port();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    if let Err(e) = s.read_to_end(&mut buf) {
        panic!("no EOF from {addr} after the response: {e}");
    }
    assert!(
        buf.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"),
        "expected a 503 from a frontend without backend, got {:?}",
        String::from_utf8_lossy(&buf)
    );
    port
}

/// A listening socket on 127.0.0.1 with an ephemeral port.
fn listener() -> (TcpListener, SocketAddr, RawFd) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let fd = l.as_raw_fd();
    (l, addr, fd)
}

/// Is `l` the `-d` accept line of frontend `fe` for a client on `port`?
fn is_accept_line(l: &str, port: u16) -> bool {
    l.contains("fe.accept(") && l.contains(&format!("from [127.0.0.1:{port}]"))
}

#[test]
fn adopts_inherited_listener() {
    let (_l, addr, fd) = listener();
    let cfg = TempPath(temp_file("adopt.cfg", FD_CFG));
    let mut p = spawn(&["-d", "-f", cfg.0.to_str().unwrap()], fd);

    let port = request_expect_503(addr);
    let line = p.wait_line(Duration::from_secs(3), |l| is_accept_line(l, port));
    assert!(
        line.contains(&format!("fe.accept({fd:04x})=")),
        "the accept line must name the inherited fd {fd} ({fd:04x}): {line}"
    );
    assert!(line.ends_with("ALPN=<none>"), "{line}");
    let uuid = line.split(':').next().unwrap();
    assert!(
        uuid.len() == 8 && uuid.bytes().all(|c| c.is_ascii_hexdigit()),
        "{line}"
    );

    p.signal(libc::SIGINT);
    let st = p.wait_exit(Duration::from_secs(2));
    assert_eq!(st.code(), Some(0), "exit status after SIGINT: {st:?}");
    p.assert_pipes_closed(Duration::from_secs(2));
}

#[test]
fn sigusr1_stops_gracefully() {
    let (l, addr, fd) = listener();
    let cfg = TempPath(temp_file("usr1.cfg", FD_CFG));
    let mut p = spawn(&["-d", "-f", cfg.0.to_str().unwrap()], fd);

    let port = request_expect_503(addr);
    p.wait_line(Duration::from_secs(3), |line| is_accept_line(line, port));
    // From now on only the child holds the listening socket.
    drop(l);
    let port = request_expect_503(addr);
    p.wait_line(Duration::from_secs(3), |line| is_accept_line(line, port));

    p.signal(libc::SIGUSR1);
    let st = p.wait_exit(Duration::from_secs(2));
    assert_eq!(st.code(), Some(0), "exit status after SIGUSR1: {st:?}");
    p.assert_pipes_closed(Duration::from_secs(2));
    match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        other => panic!("{addr} must be released after a graceful stop, got {other:?}"),
    }
}

#[test]
fn master_worker_pidfile_and_exit_130() {
    master_worker_run(false);
}

/// The same with `master-worker` and `pidfile` in the `global` section instead of `-W -p`.
#[test]
fn master_worker_and_pidfile_from_the_configuration() {
    master_worker_run(true);
}

/// Master-worker mode with a pid file (from the command line, or from the configuration
/// when `keywords`): the pid file holds the master's pid, the worker serves, SIGINT ends
/// the master with 130 and closes its pipes.
fn master_worker_run(keywords: bool) {
    let (_l, addr, fd) = listener();
    let pidfile = TempPath(temp_path("mw.pid"));
    let pid_path = pidfile.0.to_str().unwrap();
    let text = if keywords {
        FD_CFG.replacen(
            "global\n",
            &format!("global\n    master-worker\n    pidfile {pid_path}\n"),
            1,
        )
    } else {
        FD_CFG.to_string()
    };
    let cfg = TempPath(temp_file("mw.cfg", &text));
    let cfg_path = cfg.0.to_str().unwrap();
    let args: Vec<&str> = if keywords {
        vec!["-d", "-f", cfg_path]
    } else {
        vec!["-W", "-d", "-f", cfg_path, "-p", pid_path]
    };
    let mut p = spawn(&args, fd);

    let want = format!("{}\n", p.child.id());
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match std::fs::read_to_string(&pidfile.0) {
            Ok(s) if s == want => break,
            got if Instant::now() >= deadline => {
                panic!("pid file: expected {want:?}, got {got:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }

    let port = request_expect_503(addr);
    p.wait_line(Duration::from_secs(3), |l| is_accept_line(l, port));

    p.signal(libc::SIGINT);
    let st = p.wait_exit(Duration::from_secs(3));
    assert_eq!(
        st.code(),
        Some(130),
        "master exit status after SIGINT: {st:?} (signal {:?})",
        st.signal()
    );
    p.assert_pipes_closed(Duration::from_secs(2));
}

#[test]
fn vv_reports_only_real_features() {
    let tmp = std::env::temp_dir();
    let out = run_in(&hrs(), &tmp, &["-vv"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("HAProxy version "), "{text}");
    assert!(lines.contains(&"  TARGET  = linux-glibc"), "{text}");
    assert!(lines.contains(&"Available services : none"), "{text}");
    // as upstream: the build's limit and the CPUs this process may run on
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size.
    let cpus = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
            0
        );
        (libc::CPU_COUNT(&set) as usize).clamp(1, 64)
    };
    assert!(
        lines.contains(
            &format!("Built with multi-threading support (MAX_THREADS=64, default={cpus}).")
                .as_str()
        ),
        "{text}"
    );
    let feats = lines
        .iter()
        .find_map(|l| l.strip_prefix("Feature list : "))
        .unwrap_or_else(|| panic!("no feature list:\n{text}"));
    assert!(feats.starts_with("+EPOLL -KQUEUE "), "{feats}");

    let toks: Vec<&str> = feats.split_whitespace().collect();
    assert!(toks.len() >= 5, "{feats}");
    for t in toks {
        let (want, name) = match t.split_at(1) {
            ("+", n) => (0, n),
            ("-", n) => (1, n),
            _ => panic!("feature token without +/-: {t:?}"),
        };
        assert!(!name.is_empty(), "{feats}");
        let expr = format!("feature({name})");
        let r = run_in(&hrs(), &tmp, &["-cc", &expr]);
        assert_eq!(
            r.status.code(),
            Some(want),
            "-cc '{expr}' for '{t}': stderr {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
}

/// The lines of the `Available multiplexer protocols :` block of a `-vv` output.
fn mux_block(vv: &str) -> Vec<String> {
    vv.lines()
        .skip_while(|l| *l != "Available multiplexer protocols :")
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `-vv` lists the muxes haproxy-rs has, in upstream's format: exactly these lines; each
/// `proto` token listed is accepted on `bind` and `server`, the ones upstream has and we do
/// not (`fcgi`, `none`) are refused; with upstream present, each line is upstream's own line
/// for that mux.
#[test]
fn vv_lists_the_muxes() {
    let tmp = std::env::temp_dir();
    let out = run_in(&hrs(), &tmp, &["-vv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "Available multiplexer protocols :\n(protocols marked as <default> cannot be specified using 'proto' keyword)\n"
        ),
        "{text}"
    );
    let ours = mux_block(&text);
    assert_eq!(
        ours,
        [
            "         h2 : mode=HTTP  side=FE|BE  mux=H2    flags=HTX|HOL_RISK|NO_UPG",
            "  <default> : mode=HTTP  side=FE|BE  mux=H1    flags=HTX",
            "         h1 : mode=HTTP  side=FE|BE  mux=H1    flags=HTX|NO_UPG",
            "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=",
        ],
        "{text}"
    );
    let dir = TempPath(temp_path("mux.d"));
    std::fs::create_dir(&dir.0).unwrap();
    let check = |token: &str| {
        let cfg = format!(
            "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:18099 proto {token}\n    default_backend be\nbackend be\n    server s 127.0.0.1:18098 proto {token}\n"
        );
        std::fs::write(dir.0.join("m.cfg"), cfg).unwrap();
        run_in(&hrs(), &dir.0, &["-c", "-f", "m.cfg"]).status.code()
    };
    for token in ["h2", "h1"] {
        assert_eq!(check(token), Some(0), "proto {token}");
    }
    for token in ["none", "fcgi", "h3"] {
        assert_eq!(check(token), Some(1), "proto {token}");
    }
    let Some(up) = upstream("process/vv_lists_the_muxes") else {
        ours_only("process/vv_lists_the_muxes", "-vv mux lines", ours.len());
        return;
    };
    let theirs = mux_block(&String::from_utf8_lossy(
        &run_in(&up, &tmp, &["-vv"]).stdout,
    ));
    for line in &ours {
        assert!(
            theirs.contains(line),
            "{line:?} is not among upstream's {theirs:?}"
        );
    }
}

/// Runs `bin` on `cfg` (which has `stats socket @SOCK@`) and returns the replies to
/// `commands`, one connection each. The process is killed (its whole group) on return.
fn cli_replies(bin: &std::path::Path, tag: &str, cfg: &str, commands: &[&str]) -> Vec<String> {
    let sock = TempPath(temp_path(&format!("{tag}.sock")));
    let file = TempPath(temp_file(
        tag,
        &cfg.replace("@SOCK@", &sock.0.to_string_lossy()),
    ));
    let mut child = Command::new(bin)
        .args(["-f", &file.0.to_string_lossy()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cannot spawn");
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: plain kill(2) of the child's own process group.
            unsafe { libc::kill(-(self.0 as libc::pid_t), libc::SIGKILL) };
        }
    }
    let _kill = Kill(child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    let connect = || std::os::unix::net::UnixStream::connect(&sock.0);
    while connect().is_err() {
        assert!(
            Instant::now() < deadline,
            "{}: no stats socket",
            bin.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = commands
        .iter()
        .map(|c| {
            let mut s = connect().unwrap();
            s.write_all(format!("{c}\n").as_bytes()).unwrap();
            let mut r = String::new();
            s.read_to_string(&mut r).unwrap();
            r
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    out
}

/// Proxy `id`: the explicit ids and the automatic ones (next free id in configuration
/// order, the hidden GLOBAL stats frontend taking a place) are what `show servers state`
/// (`be_id`) and `show stat` (`iid`) print, as upstream prints them.
#[test]
fn proxy_ids_reach_the_cli() {
    let cfg = "global\n    stats socket @SOCK@ level admin\ndefaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\nbackend be\n    id 42\n    description the first backend\n    enabled\n    server s1 127.0.0.1:9\nbackend be2\n    server s2 127.0.0.1:9\nbackend be3\n    id 3\n    server s3 127.0.0.1:9\nbackend be4\n    server s4 127.0.0.1:9\n";
    let ids = |bin: &std::path::Path, tag: &str| -> (Vec<String>, Vec<String>) {
        let r = cli_replies(bin, tag, cfg, &["show servers state", "show stat"]);
        let state = r[0]
            .lines()
            .skip(1) // the format version
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        let stat = r[1]
            .lines()
            .filter(|l| l.contains(",BACKEND,"))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{} {}", f[0], f[27])
            })
            .collect();
        (state, stat)
    };
    let (state, stat) = ids(&hrs(), "ids-ours");
    // GLOBAL moves the counter to 2, be (42) to 3; be2 finds 3 taken by be3, so 4, and
    // moves the counter to 5; be3 (3) to 6; be4 takes 6
    assert_eq!(state, ["42 be", "4 be2", "3 be3", "6 be4"]);
    assert_eq!(stat, ["be 42", "be2 4", "be3 3", "be4 6"]);
    let Some(up) = upstream("process/proxy_ids_reach_the_cli") else {
        ours_only("process/proxy_ids_reach_the_cli", "id listings", 2);
        return;
    };
    assert_eq!(ids(&up, "ids-upstream"), (state, stat));
}

#[test]
fn check_mode_exit_codes() {
    let dir = TempPath(temp_path("check.d"));
    std::fs::create_dir(&dir.0).unwrap();
    let d = &dir.0;
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    let check = |target: &str| {
        let o = run_in(&hrs(), d, &["-c", "-f", target]);
        let (so, se) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        (o.status.code(), so, se)
    };

    write(
        "valid.cfg",
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:18099\n",
    );
    let (code, so, se) = check("valid.cfg");
    assert_eq!(code, Some(0), "valid.cfg: {so}{se}");
    assert!(so.contains("Configuration file is valid"), "{so}");

    write(
        "bad.cfg",
        "global\n    maxconn 100\n    no-such-keyword 1\nfrontend fe\n    bind 127.0.0.1:18099\n",
    );
    let (code, so, se) = check("bad.cfg");
    assert_eq!(code, Some(1), "bad.cfg: {so}{se}");
    assert!(
        se.lines()
            .any(|l| l.starts_with("[ALERT]") && l.contains("bad.cfg:3]")),
        "bad.cfg: no ALERT naming line 3:\n{se}"
    );

    write("empty.cfg", "");
    let (code, so, se) = check("empty.cfg");
    assert_eq!(code, Some(2), "empty.cfg: {so}{se}");

    let (code, so, se) = check("does-not-exist.cfg");
    assert_eq!(code, Some(1), "missing file: {so}{se}");
    assert!(se.contains("[ALERT]"), "{se}");

    // A directory: its *.cfg files in lexical order, dot-files skipped. `b.cfg` uses the
    // named defaults of `a.cfg`, which only works if `a.cfg` was read first.
    std::fs::create_dir(d.join("conf")).unwrap();
    write(
        "conf/a.cfg",
        "global\n    maxconn 100\ndefaults base\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n",
    );
    write(
        "conf/b.cfg",
        "frontend fe from base\n    bind 127.0.0.1:18099\n",
    );
    write("conf/.hidden.cfg", "this is not a configuration\n");
    write("conf/notes.txt", "nor is this\n");
    let (code, so, se) = check("conf");
    assert_eq!(code, Some(0), "conf/: {so}{se}");
    assert!(so.contains("Configuration file is valid"), "{so}");
    // ... and the order matters: b.cfg alone does not find its defaults.
    let (code, so, se) = check("conf/b.cfg");
    assert_eq!(code, Some(1), "conf/b.cfg alone: {so}{se}");
    // the dot-file really is invalid, so skipping it is what made the directory pass
    let (code, so, se) = check("conf/.hidden.cfg");
    assert_eq!(code, Some(1), "conf/.hidden.cfg: {so}{se}");
}

/// A frontend `maxconn` holds across threads: of connections opened at once, as many as the
/// limit stay open (waiting for a request), the others are closed at once, whichever
/// thread accepted them (each reserves its place when it accepts).
#[test]
fn frontend_maxconn_holds_across_threads() {
    let (_l, addr, fd) = listener();
    let cfg = TempPath(temp_file(
        "maxconn-threads.cfg",
        "global\n    nbthread 2\ndefaults\n    mode http\n    timeout client 5s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind \"fd@${FE}\"\n    maxconn 3\n    http-request return status 200\n",
    ));
    let mut p = spawn(&["-db", "-f", cfg.0.to_str().unwrap()], fd);
    let conns: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let open = conns
        .iter()
        .filter(|c| {
            c.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut b = [0u8; 1];
            match (&**c).read(&mut b) {
                Ok(0) => false,
                Ok(_) => panic!("unexpected data before any request"),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => true,
                Err(_) => false,
            }
        })
        .count();
    assert_eq!(open, 3, "frontend maxconn 3 with 8 connections at once");
    // once they leave, new connections are served
    drop(conns);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        request_status(addr),
        200,
        "a place is free again once the first ones closed"
    );
    p.signal(libc::SIGINT);
    let st = p.wait_exit(Duration::from_secs(2));
    assert_eq!(st.code(), Some(0), "exit status after SIGINT: {st:?}");
}

/// The status of one `GET /` on a new connection.
fn request_status(addr: SocketAddr) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}
