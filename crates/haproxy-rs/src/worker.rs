//! The worker of one thread: its event loop's handler, owning this thread's registration of
//! the listeners and its runtime objects ([`World`]).
//!
//! Owns the listening sockets (bound once by [`open_sockets`] or adopted from inherited
//! `fd@N` descriptors, then registered by every thread, as upstream does), the signal task
//! and the stop logic (thread 0, which tells the others), the thread's inbox task.
//! Accepting is HAProxy's `listener_accept()`: whichever thread wakes accepts, then hands
//! the connection to the thread [`pick_thread`] chooses (a [`Msg::Accept`] in that thread's
//! inbox, or at once when it is itself), where it becomes a session (`hrs-stream`). The
//! tasks of connections, streams and server purges go to `hrs_stream::dispatch` (the same
//! dispatch the unit tests run). Stats sockets are served on thread 0 by `hrs-cli`
//! (`Ctx::CliListener`, `Ctx::CliConn`).
//!
//! From another thread it may touch only the shared state (`world.sh`): atomics, locks,
//! and other threads' inboxes through `Shared::send`.

use hrs_cfg::diag::io_reason;
use hrs_cfg::model::{Cap, Config, ListenAddr};
use hrs_core::{Accepted, Ctx, Ev, Msg, Tid, World};
use hrs_ev::{FdId, TaskHandler, TaskId, WakeReason};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Signals the worker handles: SIGINT/SIGTERM stop at once, SIGUSR1 stops gracefully,
/// SIGHUP/SIGQUIT are accepted (HAProxy dumps states on them).
pub const SIGNALS: [i32; 5] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGHUP,
    libc::SIGQUIT,
];

enum Sock {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl Sock {
    fn raw_fd(&self) -> RawFd {
        match self {
            Sock::Tcp(s) => s.as_raw_fd(),
            Sock::Unix(s) => s.as_raw_fd(),
        }
    }
}

/// One listening socket, shared by every thread (upstream registers a listener's fd in
/// the poller of each thread it is bound to). The socket closes, and a UNIX socket's path
/// is removed, when the last thread lets it go.
pub struct ListenSock {
    sock: Sock,
    /// The proxy name.
    proxy: String,
    /// The frontend that accepts on it (stats sockets are not here but in `hrs-cli`).
    fe: Option<usize>,
    /// A UNIX socket path to remove when the listener is closed.
    unlink: Option<String>,
    /// The `bind` line's `proto`: the mux its connections start with.
    proto: hrs_cfg::model::BindProto,
    /// The address a TCP listener is bound to when it is one address (not a wildcard): the
    /// local address of every connection it accepts, known without `getsockname`.
    local: Option<std::net::SocketAddr>,
    /// The accept balancing state (`l->thr_idx`): see [`pick_thread`].
    thr_idx: AtomicU32,
    /// The threads that poll it and serve its connections (bit `t` for thread `t`: the
    /// `bind` line's `thread`, else all).
    threads: u64,
}

impl Drop for ListenSock {
    fn drop(&mut self) {
        if let Some(p) = &self.unlink {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// This thread's registration of one listening socket.
struct Listener {
    /// `None` once closed (soft or hard stop).
    sock: Option<Arc<ListenSock>>,
    fd: FdId,
    task: TaskId,
}

/// Why a listener could not be set up; printed as an alert at startup.
#[derive(Debug)]
pub struct BindError(pub String);

/// A stats socket opened at startup, for thread 0's CLI.
pub struct StatsSock {
    sock: hrs_cli::CliSock,
    level: hrs_cfg::model::CliLevel,
    unlink: Option<String>,
}

/// The sockets every thread listens on, opened once before the threads start.
pub struct Sockets {
    pub listeners: Vec<Arc<ListenSock>>,
    /// Taken by thread 0.
    pub stats: Vec<StatsSock>,
}

/// Opens every listener and stats socket of `cfg`.
///
/// # Errors
/// The first socket that cannot be bound or adopted (the process exits on it).
pub fn open_sockets(cfg: &Config, nbthread: usize) -> Result<Sockets, BindError> {
    let all = if nbthread >= 64 {
        u64::MAX
    } else {
        (1u64 << nbthread) - 1
    };
    let mut out = Sockets {
        listeners: Vec::new(),
        stats: Vec::new(),
    };
    for s in &cfg.global.stats_sockets {
        let (sock, unlink) = open(&s.addr, s.mode)
            .map_err(|e| BindError(format!("Starting frontend GLOBAL: {e}")))?;
        let sock = match sock {
            Sock::Tcp(l) => hrs_cli::CliSock::Tcp(l),
            Sock::Unix(l) => hrs_cli::CliSock::Unix(l),
        };
        out.stats.push(StatsSock {
            sock,
            level: s.level,
            unlink,
        });
    }
    for (i, p) in cfg.proxies.iter().enumerate() {
        if !p.cap.contains(Cap::FE) || p.disabled {
            continue;
        }
        for b in &p.binds {
            let (sock, unlink) = open(&b.addr, None).map_err(|e| {
                BindError(format!("Starting {} {}: {e}", p.cap.section_name(), p.name))
            })?;
            let local = match &sock {
                Sock::Tcp(l) => l.local_addr().ok().filter(|a| !a.ip().is_unspecified()),
                Sock::Unix(_) => None,
            };
            out.listeners.push(Arc::new(ListenSock {
                sock,
                proxy: p.name.clone(),
                fe: Some(i),
                unlink,
                proto: b.proto,
                local,
                thr_idx: AtomicU32::new(0),
                // `bind ... thread`: bit t-1 for thread t is our bit t-1 for thread t-1
                threads: b.threads.map_or(all, |m| m & all),
            }));
        }
    }
    Ok(out)
}

/// The running worker of one thread.
pub struct Worker {
    listeners: Vec<Listener>,
    debug: bool,
    /// Every runtime object of this thread.
    pub world: World,
    /// Set by SIGINT/SIGTERM: leave the loop now.
    hard_stop: bool,
    /// The stats sockets and their connections (`hrs-cli`), on thread 0.
    cli: Option<hrs_cli::Cli>,
}

fn cloexec_nonblock(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own; no memory is passed.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl < 0 || libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fdfl = libc::fcntl(fd, libc::F_GETFD);
        if fdfl < 0 || libc::fcntl(fd, libc::F_SETFD, fdfl | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Adopts an inherited, already listening socket: checks it listens, makes it non-blocking.
/// The socket is never bound again.
fn adopt_fd(n: RawFd) -> Result<Sock, String> {
    let mut val: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `val`.
    let rc = unsafe {
        libc::getsockopt(
            n,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            &mut val as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot use file descriptor {n}: {}",
            io::Error::last_os_error()
        ));
    }
    if val == 0 {
        return Err(format!("file descriptor {n} is not a listening socket"));
    }
    let mut dom: libc::c_int = 0;
    // SAFETY: as above.
    unsafe {
        libc::getsockopt(
            n,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            &mut dom as *mut _ as *mut libc::c_void,
            &mut len,
        );
    }
    cloexec_nonblock(n).map_err(|e| format!("file descriptor {n}: {e}"))?;
    // SAFETY: the descriptor was inherited for us to own (fd@N) and is a listening socket.
    Ok(unsafe {
        if dom == libc::AF_UNIX {
            Sock::Unix(mio::net::UnixListener::from_raw_fd(n))
        } else {
            Sock::Tcp(mio::net::TcpListener::from_raw_fd(n))
        }
    })
}

fn open(addr: &ListenAddr, mode: Option<u32>) -> Result<(Sock, Option<String>), String> {
    match addr {
        ListenAddr::Fd(n) => adopt_fd(*n).map(|s| (s, None)),
        ListenAddr::Inet(a) => mio::net::TcpListener::bind(*a)
            .map(|l| (Sock::Tcp(l), None))
            .map_err(|e| format!("cannot bind socket ({}) for [{a}]", io_reason(&e))),
        ListenAddr::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let l = mio::net::UnixListener::bind(path)
                .map_err(|e| format!("cannot bind UNIX socket ({}) [{path}]", io_reason(&e)))?;
            if let Some(m) = mode {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(m));
            }
            Ok((Sock::Unix(l), Some(path.clone())))
        }
    }
}

impl Worker {
    /// Thread `world.tid`'s worker: registers every listener of `listeners` in `ev` (the
    /// worker holds them: a socket closes when every thread let it go), its inbox
    /// task (whose waker other threads use), and on thread 0 the stats sockets (`stats`) and
    /// the signals.
    ///
    /// # Errors
    /// A socket the poller refuses, or the signalfd.
    pub fn new(
        world: World,
        ev: &mut Ev,
        listeners: Vec<Arc<ListenSock>>,
        stats: Vec<StatsSock>,
        debug: bool,
    ) -> Result<Worker, BindError> {
        let tid = world.tid;
        let cli = (tid == 0).then(|| {
            let stats_loc = None;
            hrs_cli::Cli::new(&world, stats_loc, debug)
        });
        let mut w = Worker {
            listeners: Vec::new(),
            debug,
            world,
            hard_stop: false,
            cli,
        };
        if let Some(cli) = &mut w.cli {
            for s in stats {
                cli.add_listener(ev, s.sock, s.level, s.unlink)
                    .map_err(|e| BindError(e.to_string()))?;
            }
        }
        for l in listeners {
            if l.threads & (1u64 << tid) == 0 {
                continue;
            }
            let idx = w.listeners.len();
            let task = ev.task_new(Ctx::Listener(idx as u32));
            let raw = l.sock.raw_fd();
            let fd = ev
                .fd_register(&mut mio::unix::SourceFd(&raw), task)
                .map_err(|e| BindError(e.to_string()))?;
            w.listeners.push(Listener {
                sock: Some(l),
                fd,
                task,
            });
        }
        let inbox = ev.task_new(Ctx::Inbox);
        let waker = ev.waker_with(inbox, WakeReason::MSG);
        let _ = w.world.sh.threads[usize::from(tid)].waker.set(waker);
        // messages sent before the waker was set
        ev.wakeup(inbox, WakeReason::MSG);
        if tid == 0 {
            let sig = ev.task_new(Ctx::Signals);
            ev.signal_register(&SIGNALS, sig)
                .map_err(|e| BindError(format!("signalfd: {e}")))?;
        }
        Ok(w)
    }

    /// True once the loop must end: a hard stop, or a soft stop with nothing left to serve.
    pub fn done(&self, ev: &Ev) -> bool {
        self.hard_stop
            || (ev.stopping()
                && self.listeners.iter().all(|l| l.sock.is_none())
                && self.world.streams.is_empty()
                && self.world.conns.iter().all(|(_, c)| c.out_empty()))
    }

    /// Soft stop: frontend connections waiting for a request are closed; the others close
    /// after their current transaction.
    fn close_idle_conns(&mut self, ev: &mut Ev) {
        let idle: Vec<_> = self
            .world
            .conns
            .iter()
            .filter(|(_, c)| c.side == hrs_core::Side::Front && c.strm.is_none())
            .map(|(id, _)| id)
            .collect();
        for id in idle {
            // (freeing a front connection frees only server connections with it)
            let Some(c) = self.world.conns.get_mut(id) else {
                continue;
            };
            if c.is_mux_h2() {
                // HTTP/2: a GOAWAY, then the connection closes once its streams are done
                hrs_conn::mux_h2::h2_shutdown(&mut self.world, ev, id);
                continue;
            }
            // unsent bytes (the end of a response) go out first, then the connection closes
            if c.out_empty() {
                if hrs_stream::session::conn_release(&mut self.world, ev, id).is_err() {
                    hrs_stream::io::conn_kill_internal(&mut self.world, ev, id);
                }
            } else {
                c.flags |= hrs_core::co_fl::CLOSE_AFTER_SEND;
                ev.wakeup(c.task, WakeReason::MSG);
            }
        }
    }

    /// Closes this thread's registration of every listener (soft stop: no new connection
    /// is accepted; the socket closes once every thread let it go).
    fn close_listeners(&mut self, ev: &mut Ev) {
        for l in &mut self.listeners {
            let Some(sock) = l.sock.take() else {
                continue;
            };
            let raw = sock.sock.raw_fd();
            let _ = ev.fd_deregister(l.fd, &mut mio::unix::SourceFd(&raw));
            ev.task_free(l.task);
        }
        if let Some(cli) = &mut self.cli {
            cli.close_listeners(ev);
        }
    }

    /// Stops this thread: soft (listeners closed, idle connections closed, the rest after
    /// their transaction) or hard (the loop ends now).
    fn stop(&mut self, ev: &mut Ev, hard: bool) {
        self.close_listeners(ev);
        if hard {
            self.hard_stop = true;
        } else {
            ev.soft_stop();
            self.close_idle_conns(ev);
        }
    }

    /// Thread 0 took a stop signal: every other thread is told, then this one stops.
    fn stop_all(&mut self, ev: &mut Ev, hard: bool) {
        let sh = Arc::clone(&self.world.sh);
        for t in 1..sh.threads.len() {
            sh.send(t as Tid, Msg::Stop { hard });
        }
        self.stop(ev, hard);
    }

    fn accept_all(&mut self, ev: &mut Ev, idx: usize) {
        let Some(l) = self.listeners.get(idx) else {
            return;
        };
        let Some(ls) = l.sock.clone() else { return };
        let (lfd, task) = (l.fd, l.task);
        // accept until the queue is empty (HAProxy bounds this by tune.maxaccept)
        for _ in 0..64 {
            if !ev.fd_recv_ready(lfd) {
                return;
            }
            let res = match &ls.sock {
                Sock::Tcp(s) => s.accept().map(|(c, a)| (OwnedFd::from(c), Some(a))),
                Sock::Unix(s) => s.accept().map(|(c, _)| (OwnedFd::from(c), None)),
            };
            match res {
                Ok((conn, addr)) => {
                    let (Some(fe), Some(addr)) = (ls.fe, addr) else {
                        // no frontend to serve it (stats sockets are `hrs-cli`'s): closed
                        drop(conn);
                        continue;
                    };
                    let sh = &self.world.sh;
                    // the connection takes its place in the process's and the frontend's
                    // counts now, so that no other thread takes the last one meanwhile
                    if !reserve(&sh.global.curr_conn, sh.global.maxconn) {
                        // over the limit: HAProxy stops accepting; we refuse by closing
                        drop(conn);
                        continue;
                    }
                    let px = &sh.proxies[fe];
                    if !reserve(&px.feconn, px.cfg.maxconn) {
                        hrs_core::pools::gauge_dec(&sh.global.curr_conn);
                        drop(conn);
                        continue;
                    }
                    let a = Accepted {
                        sock: conn,
                        fe,
                        addr,
                        local: ls.local,
                        proto: ls.proto,
                        lfd: ls.sock.raw_fd(),
                    };
                    let t =
                        if ls.threads.count_ones() > 1 && sh.global.multi_queue && !ev.stopping() {
                            pick_thread(&ls.thr_idx, ls.threads, |t| {
                                let th = &sh.threads[t];
                                i64::from(th.accq.load(Relaxed)) + i64::from(th.conns.load(Relaxed))
                            })
                        } else {
                            self.world.tid
                        };
                    if t == self.world.tid {
                        self.serve(ev, a);
                    } else {
                        sh.threads[usize::from(t)].accq.fetch_add(1, Relaxed);
                        sh.send(t, Msg::Accept(a));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ev.fd_cant_recv(lfd);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!(target: "hrs::listener", "accept() on {} failed: {e}", ls.proxy);
                    return;
                }
            }
        }
        // more may be pending: come back in the next pass
        ev.wakeup(task, WakeReason::IO);
    }

    /// Serves accepted connection `a` on this thread (`session_accept_fd`), `proxy` being
    /// its frontend's name and `lfd` the listening socket (for the `-d` line).
    fn serve(&mut self, ev: &mut Ev, a: Accepted) {
        let n = self
            .world
            .sh
            .global
            .accepted
            .fetch_add(1, Relaxed)
            .wrapping_add(1);
        let proxy = &self.world.sh.proxies[a.fe].cfg.name;
        if self.debug {
            eprintln!(
                "{:08x}:{}.accept({:04x})={:04x} from [{}:{}] ALPN=<none>",
                n,
                proxy,
                a.lfd,
                a.sock.as_raw_fd(),
                a.addr.ip(),
                a.addr.port()
            );
        }
        let (fe, addr, local, proto) = (a.fe, a.addr, a.local, a.proto);
        let sock = mio::net::TcpStream::from(a.sock);
        if let Err(e) = hrs_stream::session::session_accept_counted(
            &mut self.world,
            ev,
            hrs_core::Xprt::Raw(sock),
            fe,
            Some(addr),
            local,
            proto,
        ) {
            let proxy = &self.world.sh.proxies[fe].cfg.name;
            log::warn!(target: "hrs::listener", "session_accept on {proxy}: {e:?}");
        }
    }

    /// Drains this thread's inbox: messages of the runtime layers go to `hrs-stream`,
    /// accepted connections are served, stops applied.
    fn inbox(&mut self, ev: &mut Ev) {
        let sh = Arc::clone(&self.world.sh);
        let msgs = std::mem::take(&mut *sh.threads[usize::from(self.world.tid)].inbox.lock());
        for m in msgs {
            match hrs_stream::io::handle_msg(&mut self.world, ev, m) {
                Some(Msg::Accept(a)) => {
                    sh.threads[usize::from(self.world.tid)]
                        .accq
                        .fetch_sub(1, Relaxed);
                    self.serve(ev, a);
                }
                Some(Msg::Stop { hard }) => self.stop(ev, hard),
                _ => {}
            }
        }
    }
}

/// Takes one unit of `gauge` if it stays within `max` (0: no limit): false when the limit
/// is reached. A compare-and-swap, so that threads accepting at once never overshoot.
fn reserve(gauge: &AtomicU32, max: u32) -> bool {
    if max == 0 {
        gauge.fetch_add(1, Relaxed);
        return true;
    }
    gauge
        .fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1))
        .is_ok()
}

/// The thread an accepted connection goes to (`listener_accept`'s multi-queue choice):
/// two indexes, kept in `thr_idx` as `(t2 << 16) | t1`, walk the threads of `mask` (bit
/// `t` for thread `t`, at least two of them), `t1`
/// upward and `t2` downward; the less loaded of the two (by `load`: queued accepts plus
/// connections served) is picked, `t1` on a tie, and the index picked moves on (the other
/// on a strict win). Sequential short connections thus go round robin from thread 0, long
/// ones to the least loaded thread.
pub fn pick_thread(thr_idx: &AtomicU32, mask: u64, load: impl Fn(usize) -> i64) -> Tid {
    // LONGBITS upstream: the index space the walks wrap in
    const BITS: u32 = 64;
    debug_assert!(
        mask.count_ones() >= 2,
        "one thread has nothing to pick from"
    );
    let nbits = |k: u32| if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    let mut t0 = thr_idx.load(Relaxed);
    loop {
        let mut t1 = t0 & 0xFFFF;
        let mut t2 = t0 >> 16;
        let mut m1 = if t1 >= 64 { 0 } else { mask >> t1 };
        let mut m2 = mask & if t2 != 0 { nbits(t2 + 1) } else { u64::MAX };
        if m1 & 1 == 0 {
            m1 &= !1;
            if m1 == 0 {
                m1 = mask;
                t1 = 0;
            }
            t1 += m1.trailing_zeros();
        }
        if t2 >= 64 || m2 & (1u64 << t2) == 0 || t1 == t2 {
            if m2 == 0 {
                m2 = mask;
            }
            t2 = 63 - m2.leading_zeros();
        }
        let (q1, q2) = (load(t1 as usize), load(t2 as usize));
        let t = if q1 < q2 {
            t2 = if t2 > 0 { t2 - 1 } else { BITS - 1 };
            t1
        } else {
            // t2 on a strict win, else t1; either way t1 moves on
            let t = if q1 > q2 { t2 } else { t1 };
            t1 = if t1 + 1 >= BITS { 0 } else { t1 + 1 };
            t
        };
        match thr_idx.compare_exchange_weak(t0, t1 | (t2 << 16), Relaxed, Relaxed) {
            Ok(_) => return t as Tid,
            Err(cur) => t0 = cur,
        }
    }
}

impl TaskHandler<Ctx> for Worker {
    fn process(&mut self, ev: &mut Ev, _task: TaskId, ctx: Ctx, why: WakeReason) {
        match ctx {
            Ctx::Signals => {
                for sig in ev.take_signals() {
                    match sig {
                        libc::SIGUSR1 => self.stop_all(ev, false),
                        libc::SIGINT | libc::SIGTERM => self.stop_all(ev, true),
                        _ => {}
                    }
                }
            }
            Ctx::Inbox => self.inbox(ev),
            Ctx::Listener(i) => self.accept_all(ev, i as usize),
            Ctx::Conn(_) | Ctx::Stream(_) | Ctx::SrvPurge(_) => {
                hrs_stream::dispatch(&mut self.world, ev, ctx, why);
            }
            Ctx::CliListener(i) => {
                if let Some(cli) = &mut self.cli {
                    cli.listener_io(&mut self.world, ev, i);
                }
            }
            Ctx::CliConn(i) => {
                let proc = hrs_cli::ProcInfo {
                    version: crate::version::VERSION,
                    release_date: crate::version::DATE,
                    accepted: u64::from(self.world.sh.global.accepted.load(Relaxed)),
                    listeners: self.listeners.iter().filter(|l| l.sock.is_some()).count(),
                };
                if let Some(cli) = &mut self.cli {
                    cli.conn_io(&mut self.world, ev, i, why, &proc)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_short_connections_go_round_robin() {
        for n in [2usize, 3, 4] {
            let idx = AtomicU32::new(0);
            let mask = (1u64 << n) - 1;
            let picks: Vec<_> = (0..2 * n).map(|_| pick_thread(&idx, mask, |_| 0)).collect();
            let want: Vec<Tid> = (0..2 * n).map(|i| (i % n) as Tid).collect();
            assert_eq!(picks, want, "nbthread {n}");
        }
    }

    #[test]
    fn reserve_never_goes_over_the_limit() {
        let g = AtomicU32::new(0);
        assert!(reserve(&g, 2) && reserve(&g, 2));
        assert!(!reserve(&g, 2), "full");
        assert_eq!(g.load(Relaxed), 2);
        let free = AtomicU32::new(7);
        assert!(reserve(&free, 0), "no limit");
        assert_eq!(free.load(Relaxed), 8);
    }

    #[test]
    fn a_loaded_thread_is_avoided() {
        let idx = AtomicU32::new(0);
        // thread 0 holds 5 connections, 1 none: every pick is 1 until they even out
        let picks: Vec<_> = (0..3)
            .map(|_| pick_thread(&idx, 0b11, |t| if t == 0 { 5 } else { 0 }))
            .collect();
        assert_eq!(picks, vec![1, 1, 1]);
    }
}
