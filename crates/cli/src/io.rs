//! The stats socket plumbing: listening sockets and client connections of the CLI on the
//! worker's event loop (HAProxy's `GLOBAL` stats frontend with `cli_io_handler`).
//!
//! Owns the CLI listeners (opened by the worker, registered here), the connections and their
//! buffers, the idle timeout (10 s, upstream's default `stats timeout`), the limit of 10
//! connections at once (`stats maxconn`), and the request loop: commands are read up to
//! `\n` or `;`, run, answered (each reply followed by an empty line, or by `\n> ` in
//! interactive mode), and the connection closes once a non-interactive client's input is
//! used up. May touch the [`World`] only through [`crate::exec`].

use crate::exec::{execute, After, Env, Level, Session};
use crate::request::{next_payload_line, next_request, tokenize, wants_payload, Request};
use crate::snapshot::InfoSnap;
use crate::world::CliState;
use crate::CliError;
use hrs_cfg::diag::Loc;
use hrs_cfg::model::CliLevel;
use hrs_core::{Ctx, Ev, World};
use hrs_ev::ticks::{tick_add, tick_is_expired};
use hrs_ev::{FdId, TaskId, WakeReason};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;

/// Inactivity timeout of a CLI connection, ms (`stats timeout` default).
pub const CLI_TIMEOUT_MS: u32 = 10_000;
/// CLI connections served at once (`stats maxconn` default); more wait in the backlog.
pub const CLI_MAXCONN: usize = 10;
/// Replies waiting to be sent beyond this stop the reading of further commands.
const OUT_HIGH: usize = 64 * 1024;
/// Accepts per wakeup of a listener.
const MAX_ACCEPT: usize = 64;

/// A listening stats socket handed over by the worker.
pub enum CliSock {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn register(&mut self, ev: &mut Ev, task: TaskId) -> io::Result<FdId> {
        match self {
            Stream::Tcp(s) => ev.fd_register(s, task),
            Stream::Unix(s) => ev.fd_register(s, task),
        }
    }

    fn deregister(&mut self, ev: &mut Ev, fd: FdId) {
        let _ = match self {
            Stream::Tcp(s) => ev.fd_deregister(fd, s),
            Stream::Unix(s) => ev.fd_deregister(fd, s),
        };
    }
}

struct Listener {
    /// `None` once closed.
    sock: Option<CliSock>,
    fd: FdId,
    task: TaskId,
    level: Level,
    /// A UNIX socket path to remove when closing.
    unlink: Option<String>,
    /// Listener number in the `GLOBAL` frontend (for `unix:N` in debug lines).
    luid: usize,
}

struct Conn {
    stream: Stream,
    fd: FdId,
    task: TaskId,
    session: Session,
    ibuf: Vec<u8>,
    obuf: Vec<u8>,
    /// Bytes of `obuf` already sent.
    sent: usize,
    /// A command ending with `<<` waiting for its payload (ended by an empty line).
    payload: Option<Vec<u8>>,
    /// The client closed its side.
    eof: bool,
    /// No more commands: close once `obuf` is sent.
    closing: bool,
    expire: u32,
}

/// Facts only the binary knows, for `show info`.
#[derive(Clone, Copy, Debug)]
pub struct ProcInfo<'a> {
    pub version: &'a str,
    pub release_date: &'a str,
    /// Client connections accepted by the proxies' listeners so far.
    pub accepted: u64,
    /// Proxy listeners still open (stats sockets not included).
    pub listeners: usize,
}

/// The CLI of one worker: its listeners, its connections, and the state it keeps about the
/// runtime ([`CliState`]).
pub struct Cli {
    listeners: Vec<Listener>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    active: usize,
    /// CLI connections accepted so far.
    accepted: u64,
    /// Bytes the CLI sent.
    bytes_out: u64,
    /// `-d`: print the accept debug line.
    debug: bool,
    pub state: CliState,
}

/// Wall-clock seconds since the epoch.
pub fn now_sec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `nofile` soft limit.
fn nofile() -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 {
        rl.rlim_cur
    } else {
        0
    }
}

impl Cli {
    /// A CLI without listeners for world `w`. `stats_loc` (the first `stats socket` line) is
    /// no longer needed: proxy ids come with the configuration. `debug` prints accept lines
    /// on stderr.
    pub fn new(w: &World, stats_loc: Option<&Loc>, debug: bool) -> Cli {
        let _ = stats_loc;
        Cli {
            listeners: Vec::new(),
            conns: Vec::new(),
            free: Vec::new(),
            active: 0,
            accepted: 0,
            bytes_out: 0,
            debug,
            state: CliState::new(w, now_sec()),
        }
    }

    /// Registers the listening socket `sock` (bound or adopted by the caller, non-blocking)
    /// whose sessions get `level`; `unlink` is removed when the listener closes.
    ///
    /// # Errors
    /// [`CliError::Register`] when the event loop refuses the socket.
    pub fn add_listener(
        &mut self,
        ev: &mut Ev,
        mut sock: CliSock,
        level: CliLevel,
        unlink: Option<String>,
    ) -> Result<(), CliError> {
        let idx = self.listeners.len();
        let task = ev.task_new(Ctx::CliListener(idx as u32));
        let fd = match &mut sock {
            CliSock::Tcp(l) => ev.fd_register(l, task),
            CliSock::Unix(l) => ev.fd_register(l, task),
        };
        let fd = match fd {
            Ok(fd) => fd,
            Err(e) => {
                ev.task_free(task);
                return Err(CliError::Register(e));
            }
        };
        self.listeners.push(Listener {
            sock: Some(sock),
            fd,
            task,
            level: level.into(),
            unlink,
            luid: idx + 1,
        });
        Ok(())
    }

    /// Stats sockets still listening.
    pub fn open_listeners(&self) -> usize {
        self.listeners.iter().filter(|l| l.sock.is_some()).count()
    }

    /// CLI connections open.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Closes every listener (soft or hard stop) and removes UNIX socket files. Open
    /// connections are served to their end.
    pub fn close_listeners(&mut self, ev: &mut Ev) {
        for l in &mut self.listeners {
            let Some(mut sock) = l.sock.take() else {
                continue;
            };
            let _ = match &mut sock {
                CliSock::Tcp(s) => ev.fd_deregister(l.fd, s),
                CliSock::Unix(s) => ev.fd_deregister(l.fd, s),
            };
            ev.task_free(l.task);
            if let Some(p) = &l.unlink {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    /// The listener task `idx` woke: accepts what is pending, up to the connection limit.
    pub fn listener_io(&mut self, w: &mut World, ev: &mut Ev, idx: u32) {
        for _ in 0..MAX_ACCEPT {
            if self.active >= CLI_MAXCONN {
                // left in the backlog; a closing connection wakes the listeners
                return;
            }
            let Some(l) = self.listeners.get(idx as usize) else {
                return;
            };
            let Some(sock) = &l.sock else { return };
            if !ev.fd_recv_ready(l.fd) {
                return;
            }
            let (level, luid, lfd) = (l.level, l.luid, l.fd);
            let lraw = match sock {
                CliSock::Tcp(s) => s.as_raw_fd(),
                CliSock::Unix(s) => s.as_raw_fd(),
            };
            let res = match sock {
                CliSock::Tcp(s) => s
                    .accept()
                    .map(|(c, a)| (Stream::Tcp(c), format!("{}:{}", a.ip(), a.port()))),
                CliSock::Unix(s) => s
                    .accept()
                    .map(|(c, _)| (Stream::Unix(c), format!("unix:{luid}"))),
            };
            match res {
                Ok((stream, peer)) => {
                    if self.debug {
                        let craw = match &stream {
                            Stream::Tcp(s) => s.as_raw_fd(),
                            Stream::Unix(s) => s.as_raw_fd(),
                        };
                        eprintln!(
                            "{:08x}:GLOBAL.accept({lraw:04x})={craw:04x} from [{peer}] ALPN=<none>",
                            w.sh.global.uuid.load(Relaxed)
                        );
                    }
                    self.add_conn(w, ev, stream, level);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ev.fd_cant_recv(lfd);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!(target: "hrs::cli", "accept() on a stats socket failed: {e}");
                    return;
                }
            }
        }
        if let Some(l) = self.listeners.get(idx as usize) {
            ev.wakeup(l.task, WakeReason::IO);
        }
    }

    fn add_conn(&mut self, w: &mut World, ev: &mut Ev, mut stream: Stream, level: Level) {
        let idx = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let task = ev.task_new(Ctx::CliConn(idx as u32));
        let fd = match stream.register(ev, task) {
            Ok(fd) => fd,
            Err(e) => {
                log::warn!(target: "hrs::cli", "cannot register a CLI connection: {e}");
                ev.task_free(task);
                self.free.push(idx);
                return;
            }
        };
        // the CLI's stream takes a request id, as upstream's applet stream does
        w.sh.global.next_uuid();
        self.accepted += 1;
        self.active += 1;
        let expire = tick_add(ev.now(), CLI_TIMEOUT_MS);
        ev.task_set_expire(task, expire);
        self.conns[idx] = Some(Conn {
            stream,
            fd,
            task,
            session: Session {
                level,
                prompt: false,
            },
            ibuf: Vec::new(),
            obuf: Vec::new(),
            sent: 0,
            payload: None,
            eof: false,
            closing: false,
            expire,
        });
    }

    /// `show info` values at this moment.
    fn info(&self, w: &World, ev: &Ev, proc: &ProcInfo<'_>, now: u64) -> InfoSnap {
        let listeners = (proc.listeners + self.open_listeners()) as u64;
        let ulimit = nofile();
        let maxconn = w.sh.global.maxconn;
        let fe_out: u64 =
            w.sh.proxies
                .iter()
                .map(|p| p.counters.bytes_out.get())
                .sum();
        InfoSnap {
            version: proc.version.to_string(),
            release_date: proc.release_date.to_string(),
            nbthread: w.sh.threads.len() as u32,
            pid: std::process::id(),
            uptime_sec: now.saturating_sub(self.state.start_sec),
            ulimit_n: ulimit,
            maxsock: if maxconn > 0 {
                2 * u64::from(maxconn) + listeners
            } else {
                ulimit
            },
            maxconn,
            curr_conns: w.sh.global.curr_conn.load(Relaxed),
            cum_conns: proc.accepted + self.accepted,
            cum_req: u64::from(w.sh.global.uuid.load(Relaxed)),
            tasks: ev.nb_tasks() as u64,
            node: w.sh.global.hostname.clone(),
            stopping: ev.stopping(),
            jobs: listeners + u64::from(w.sh.global.curr_conn.load(Relaxed)) + self.active as u64,
            listeners,
            bytes_out: self.bytes_out + fe_out,
            start_time_sec: self.state.start_sec,
        }
    }

    /// The connection task `idx` woke (I/O, timer): reads, runs the complete commands,
    /// sends the replies, closes when done, on error, or after 10 s of inactivity.
    pub fn conn_io(
        &mut self,
        w: &mut World,
        ev: &mut Ev,
        idx: u32,
        why: WakeReason,
        proc: &ProcInfo<'_>,
    ) {
        let idx = idx as usize;
        let Some(Some(c)) = self.conns.get(idx) else {
            return;
        };
        if why.contains(WakeReason::TIMER) && tick_is_expired(c.expire, ev.now()) {
            self.close(ev, idx);
            return;
        }
        let limit = if w.sh.global.bufsize > 0 {
            w.sh.global.bufsize
        } else {
            16384
        };
        // a few rounds: read what fits, run it, send; then yield to the loop
        for _ in 0..16 {
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return;
            };
            if recv(c, ev, limit).is_err() {
                self.close(ev, idx);
                return;
            }
            let ran = self.run_commands(w, ev, idx, proc);
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return;
            };
            let all_run = c.obuf.len() - c.sent < OUT_HIGH;
            if (c.eof && all_run) || (c.payload.is_none() && c.ibuf.len() >= limit && !ran) {
                // the client is gone and its last commands ran, or a command is longer
                // than a buffer: nothing more to do
                c.closing = true;
            }
            match send(c, ev) {
                Ok(n) => self.bytes_out += n as u64,
                Err(_) => {
                    self.close(ev, idx);
                    return;
                }
            }
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return;
            };
            if c.closing && c.sent == c.obuf.len() {
                self.close(ev, idx);
                return;
            }
            let more_in = !c.closing && ev.fd_recv_ready(c.fd) && c.ibuf.len() < limit;
            let out_room = c.obuf.len() - c.sent < OUT_HIGH;
            // go on while input may remain, or commands ran and replies have room again
            let progress = more_in || (ran && out_room);
            if !progress {
                break;
            }
        }
        if let Some(Some(c)) = self.conns.get(idx) {
            ev.task_set_expire(c.task, c.expire);
            if !c.closing && ev.fd_recv_ready(c.fd) && c.ibuf.len() < limit {
                ev.wakeup(c.task, WakeReason::IO);
            }
        }
    }

    /// Runs the complete commands of connection `idx`'s input, appending their replies.
    /// Returns true when at least one input line was consumed.
    fn run_commands(
        &mut self,
        w: &mut World,
        ev: &mut Ev,
        idx: usize,
        proc: &ProcInfo<'_>,
    ) -> bool {
        let mut ran = false;
        loop {
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return ran;
            };
            if c.closing || c.obuf.len() - c.sent >= OUT_HIGH {
                return ran;
            }
            let line = if c.payload.is_some() {
                let Some(r) = next_payload_line(&c.ibuf) else {
                    return ran;
                };
                c.ibuf.drain(..r.used);
                ran = true;
                if !r.line.is_empty() {
                    // the payload itself is not used by any supported command
                    if c.session.prompt {
                        c.obuf.extend_from_slice(b"+ ");
                    }
                    continue;
                }
                c.payload.take().unwrap_or_default()
            } else {
                let r = match next_request(&c.ibuf) {
                    Some(r) => r,
                    // at the client's close, what remains is a line if it ends with a
                    // newline, even an escaped one (upstream's `co_getdelim` on a shut
                    // channel)
                    None if c.eof && c.ibuf.last() == Some(&b'\n') => {
                        let mut line = c.ibuf[..c.ibuf.len() - 1].to_vec();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        Request {
                            line,
                            used: c.ibuf.len(),
                        }
                    }
                    None => return ran,
                };
                c.ibuf.drain(..r.used);
                ran = true;
                if wants_payload(&r.line) {
                    c.payload = Some(r.line);
                    if c.session.prompt {
                        c.obuf.extend_from_slice(b"+ ");
                    }
                    continue;
                }
                r.line
            };
            let args = tokenize(&line);
            let now = now_sec();
            let info = self.info(w, ev, proc, now);
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return ran;
            };
            let mut session = c.session;
            let (reply, after) = {
                let mut env = Env {
                    w: &mut *w,
                    ev: &mut *ev,
                    st: &mut self.state,
                    info: &info,
                    now,
                };
                execute(&args, &mut session, &mut env)
            };
            let Some(Some(c)) = self.conns.get_mut(idx) else {
                return ran;
            };
            c.session = session;
            if after == After::Quit {
                c.closing = true;
                return ran;
            }
            c.obuf.extend_from_slice(reply.as_bytes());
            c.obuf
                .extend_from_slice(if c.session.prompt { b"\n> " } else { b"\n" });
            if !c.session.prompt && c.ibuf.is_empty() && c.payload.is_none() {
                c.closing = true;
            }
        }
    }

    /// Closes connection `idx`: unread input is drained first (no reset for the client),
    /// the descriptor leaves the loop, the slot is freed. A listener held back by the
    /// connection limit is woken.
    fn close(&mut self, ev: &mut Ev, idx: usize) {
        let Some(mut c) = self.conns.get_mut(idx).and_then(Option::take) else {
            return;
        };
        let mut scratch = [0u8; 4096];
        for _ in 0..16 {
            match c.stream.read(&mut scratch) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        c.stream.deregister(ev, c.fd);
        ev.task_free(c.task);
        drop(c);
        self.free.push(idx);
        self.active -= 1;
        if self.active + 1 == CLI_MAXCONN {
            for l in self.listeners.iter().filter(|l| l.sock.is_some()) {
                ev.wakeup(l.task, WakeReason::IO);
            }
        }
    }
}

/// Reads what is available into `c.ibuf`, up to `limit` bytes held. Sets `eof` on the
/// client's close; refreshes the timeout on data. Errors: a socket error.
fn recv(c: &mut Conn, ev: &mut Ev, limit: usize) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    while !c.eof && !c.closing && c.ibuf.len() < limit && ev.fd_recv_ready(c.fd) {
        let room = (limit - c.ibuf.len()).min(buf.len());
        match c.stream.read(&mut buf[..room]) {
            Ok(0) => c.eof = true,
            Ok(n) => {
                c.ibuf.extend_from_slice(&buf[..n]);
                c.expire = tick_add(ev.now(), CLI_TIMEOUT_MS);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ev.fd_cant_recv(c.fd),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends what `c.obuf` holds beyond `c.sent`; returns the bytes sent. Errors: a socket
/// error (the peer is gone).
fn send(c: &mut Conn, ev: &mut Ev) -> io::Result<usize> {
    let mut total = 0;
    while c.sent < c.obuf.len() && ev.fd_send_ready(c.fd) {
        match c.stream.write(&c.obuf[c.sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                c.sent += n;
                total += n;
                c.expire = tick_add(ev.now(), CLI_TIMEOUT_MS);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ev.fd_cant_send(c.fd),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if c.sent == c.obuf.len() {
        c.obuf.clear();
        c.sent = 0;
    }
    Ok(total)
}
