//! The worker: one single-threaded event loop that owns the listeners and the runtime
//! objects ([`World`]).
//!
//! Owns the listening sockets (bound here or adopted from inherited `fd@N` descriptors), the
//! signal task and the stop logic; the runtime proxies and servers come from
//! `hrs_backend::world::build_world`. Accepting is HAProxy's `listener_accept()`: each
//! accepted socket becomes a session (`hrs-stream`); the tasks of connections, streams and
//! server purges go to `hrs_stream::dispatch` (the same dispatch the unit tests run). Stats
//! sockets are opened here too and handed to `hrs-cli`, which serves their connections
//! (`Ctx::CliListener`, `Ctx::CliConn`).

use hrs_cfg::diag::io_reason;
use hrs_cfg::model::{Cap, Config, ListenAddr};
use hrs_core::{Ctx, Ev, World};
use hrs_ev::{FdId, TaskHandler, TaskId, WakeReason};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

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

/// One listening socket and what it belongs to.
struct Listener {
    /// `None` once closed (soft or hard stop).
    sock: Option<Sock>,
    fd: FdId,
    task: TaskId,
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
}

/// Why a listener could not be set up; printed as an alert at startup.
#[derive(Debug)]
pub struct BindError(pub String);

/// The running worker.
pub struct Worker {
    listeners: Vec<Listener>,
    debug: bool,
    /// Sessions accepted so far (HAProxy's session uuid counter).
    accepted: u32,
    /// Every runtime object of this thread.
    pub world: World,
    /// Set by SIGINT/SIGTERM: leave the loop now.
    hard_stop: bool,
    /// The stats sockets and their connections (`hrs-cli`).
    cli: hrs_cli::Cli,
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
    /// Opens every listener of `cfg` and registers it in `ev`.
    ///
    /// # Errors
    /// The first listener that cannot be bound or adopted; nothing is left registered that
    /// matters, since the process exits on this error.
    pub fn new(cfg: &Config, ev: &mut Ev, debug: bool) -> Result<Worker, BindError> {
        let world = hrs_backend::world::build_world(cfg, debug).map_err(|e| BindError(e.0))?;
        let stats_loc = cfg.global.stats_sockets.first().map(|s| &s.loc);
        let cli = hrs_cli::Cli::new(&world, stats_loc, debug);
        let mut w = Worker {
            listeners: Vec::new(),
            debug,
            accepted: 0,
            world,
            hard_stop: false,
            cli,
        };
        for s in &cfg.global.stats_sockets {
            let (sock, unlink) = open(&s.addr, s.mode)
                .map_err(|e| BindError(format!("Starting frontend GLOBAL: {e}")))?;
            let sock = match sock {
                Sock::Tcp(l) => hrs_cli::CliSock::Tcp(l),
                Sock::Unix(l) => hrs_cli::CliSock::Unix(l),
            };
            w.cli
                .add_listener(ev, sock, s.level, unlink)
                .map_err(|e| BindError(e.to_string()))?;
        }
        for (i, p) in cfg.proxies.iter().enumerate() {
            if !p.cap.contains(Cap::FE) || p.disabled {
                continue;
            }
            for b in &p.binds {
                let (sock, unlink) = open(&b.addr, None).map_err(|e| {
                    BindError(format!("Starting {} {}: {e}", p.cap.section_name(), p.name))
                })?;
                w.add(ev, sock, &p.name, Some(i), unlink)
                    .map_err(|e| BindError(e.to_string()))?;
                if let Some(l) = w.listeners.last_mut() {
                    l.proto = b.proto;
                }
            }
        }
        let sig = ev.task_new(Ctx::Signals);
        ev.signal_register(&SIGNALS, sig)
            .map_err(|e| BindError(format!("signalfd: {e}")))?;
        Ok(w)
    }

    fn add(
        &mut self,
        ev: &mut Ev,
        mut sock: Sock,
        proxy: &str,
        fe: Option<usize>,
        unlink: Option<String>,
    ) -> io::Result<()> {
        let idx = self.listeners.len();
        let task = ev.task_new(Ctx::Listener(idx as u32));
        let fd = match &mut sock {
            Sock::Tcp(l) => ev.fd_register(l, task)?,
            Sock::Unix(l) => ev.fd_register(l, task)?,
        };
        let local = match &sock {
            Sock::Tcp(l) => l.local_addr().ok().filter(|a| !a.ip().is_unspecified()),
            Sock::Unix(_) => None,
        };
        self.listeners.push(Listener {
            sock: Some(sock),
            fd,
            task,
            proxy: proxy.to_string(),
            fe,
            unlink,
            proto: Default::default(),
            local,
        });
        Ok(())
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

    /// Closes every listener (soft stop: no new connection is accepted).
    fn close_listeners(&mut self, ev: &mut Ev) {
        for l in &mut self.listeners {
            // dropping the socket releases the port at once
            let Some(mut sock) = l.sock.take() else {
                continue;
            };
            let _ = match &mut sock {
                Sock::Tcp(s) => ev.fd_deregister(l.fd, s),
                Sock::Unix(s) => ev.fd_deregister(l.fd, s),
            };
            ev.task_free(l.task);
            if let Some(p) = &l.unlink {
                let _ = std::fs::remove_file(p);
            }
        }
        self.cli.close_listeners(ev);
    }

    fn accept_all(&mut self, ev: &mut Ev, idx: usize) {
        let Some(l) = self.listeners.get_mut(idx) else {
            return;
        };
        let Some(sock) = &l.sock else { return };
        let lfd = match sock {
            Sock::Tcp(s) => s.as_raw_fd(),
            Sock::Unix(s) => s.as_raw_fd(),
        };
        // accept until the queue is empty (HAProxy bounds this by tune.maxaccept)
        for _ in 0..64 {
            if !ev.fd_recv_ready(l.fd) {
                return;
            }
            let res = match sock {
                Sock::Tcp(s) => s.accept().map(|(c, a)| (OwnedFd::from(c), Some(a))),
                Sock::Unix(s) => s.accept().map(|(c, _)| (OwnedFd::from(c), None)),
            };
            match res {
                Ok((conn, addr)) => {
                    self.accepted = self.accepted.wrapping_add(1);
                    if self.debug {
                        let peer = match addr {
                            Some(a) => format!("{}:{}", a.ip(), a.port()),
                            None => "unix:1".to_string(),
                        };
                        eprintln!(
                            "{:08x}:{}.accept({:04x})={:04x} from [{}] ALPN=<none>",
                            self.accepted,
                            l.proxy,
                            lfd,
                            conn.as_raw_fd(),
                            peer
                        );
                    }
                    let (Some(fe), Some(addr)) = (l.fe, addr) else {
                        // no frontend to serve it (stats sockets are `hrs-cli`'s): closed
                        drop(conn);
                        continue;
                    };
                    let maxconn = self.world.global.maxconn;
                    let fe_max = self.world.proxies[fe].cfg.maxconn;
                    if (maxconn > 0 && self.world.global.curr_conn >= maxconn)
                        || (fe_max > 0 && self.world.proxies[fe].feconn >= fe_max)
                    {
                        // over the limit: HAProxy stops accepting; we refuse by closing
                        drop(conn);
                        continue;
                    }
                    let sock = mio::net::TcpStream::from(conn);
                    if let Err(e) = hrs_stream::session_accept(
                        &mut self.world,
                        ev,
                        hrs_core::Xprt::Raw(sock),
                        fe,
                        Some(addr),
                        l.local,
                        l.proto,
                    ) {
                        log::warn!(target: "hrs::listener", "session_accept on {}: {e:?}", l.proxy);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ev.fd_cant_recv(l.fd);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!(target: "hrs::listener", "accept() on {} failed: {e}", l.proxy);
                    return;
                }
            }
        }
        // more may be pending: come back in the next pass
        ev.wakeup(l.task, WakeReason::IO);
    }
}

impl TaskHandler<Ctx> for Worker {
    fn process(&mut self, ev: &mut Ev, _task: TaskId, ctx: Ctx, why: WakeReason) {
        match ctx {
            Ctx::Signals => {
                for sig in ev.take_signals() {
                    match sig {
                        libc::SIGUSR1 => {
                            ev.soft_stop();
                            self.close_listeners(ev);
                            self.close_idle_conns(ev);
                        }
                        libc::SIGINT | libc::SIGTERM => {
                            self.close_listeners(ev);
                            self.hard_stop = true;
                        }
                        _ => {}
                    }
                }
            }
            Ctx::Listener(i) => self.accept_all(ev, i as usize),
            Ctx::Conn(_) | Ctx::Stream(_) | Ctx::SrvPurge(_) => {
                hrs_stream::dispatch(&mut self.world, ev, ctx, why);
            }
            Ctx::CliListener(i) => self.cli.listener_io(&mut self.world, ev, i),
            Ctx::CliConn(i) => {
                let proc = hrs_cli::ProcInfo {
                    version: crate::version::VERSION,
                    release_date: crate::version::DATE,
                    accepted: u64::from(self.accepted),
                    listeners: self.listeners.iter().filter(|l| l.sock.is_some()).count(),
                };
                self.cli.conn_io(&mut self.world, ev, i, why, &proc)
            }
        }
    }
}
