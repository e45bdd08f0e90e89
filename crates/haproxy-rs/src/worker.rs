//! The worker: one single-threaded event loop that owns the listeners.
//!
//! Owns the listening sockets (bound here or adopted from inherited `fd@N` descriptors), the
//! signal task and the stop logic. Accepting is HAProxy's `listener_accept()`; what happens
//! to an accepted connection (a session, a mux, a stream) is the job of the proxy layers that
//! come next; until they exist an accepted connection is logged (in `-d` mode, with HAProxy's
//! `accept` debug line) and closed.

use hrs_cfg::diag::io_reason;
use hrs_cfg::model::{Cap, Config, ListenAddr};
use hrs_ev::{Ev, FdId, TaskHandler, TaskId, WakeReason};
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

/// Task contexts of the worker loop.
#[derive(Clone, Copy, Debug)]
pub enum Ctx {
    Signals,
    Listener(usize),
}

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
    /// The proxy name (`GLOBAL` for stats sockets).
    proxy: String,
    /// A UNIX socket path to remove when the listener is closed.
    unlink: Option<String>,
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
    /// Set by SIGINT/SIGTERM: leave the loop now.
    hard_stop: bool,
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
    pub fn new(cfg: &Config, ev: &mut Ev<Ctx>, debug: bool) -> Result<Worker, BindError> {
        let mut w = Worker {
            listeners: Vec::new(),
            debug,
            accepted: 0,
            hard_stop: false,
        };
        for s in &cfg.global.stats_sockets {
            let (sock, unlink) = open(&s.addr, s.mode)
                .map_err(|e| BindError(format!("Starting frontend GLOBAL: {e}")))?;
            w.add(ev, sock, "GLOBAL", unlink)
                .map_err(|e| BindError(e.to_string()))?;
        }
        for p in cfg
            .proxies
            .iter()
            .filter(|p| p.cap.contains(Cap::FE) && !p.disabled)
        {
            for b in &p.binds {
                let (sock, unlink) = open(&b.addr, None).map_err(|e| {
                    BindError(format!("Starting {} {}: {e}", p.cap.section_name(), p.name))
                })?;
                w.add(ev, sock, &p.name, unlink)
                    .map_err(|e| BindError(e.to_string()))?;
            }
        }
        let sig = ev.task_new(Ctx::Signals);
        ev.signal_register(&SIGNALS, sig)
            .map_err(|e| BindError(format!("signalfd: {e}")))?;
        Ok(w)
    }

    fn add(
        &mut self,
        ev: &mut Ev<Ctx>,
        mut sock: Sock,
        proxy: &str,
        unlink: Option<String>,
    ) -> io::Result<()> {
        let idx = self.listeners.len();
        let task = ev.task_new(Ctx::Listener(idx));
        let fd = match &mut sock {
            Sock::Tcp(l) => ev.fd_register(l, task)?,
            Sock::Unix(l) => ev.fd_register(l, task)?,
        };
        self.listeners.push(Listener {
            sock: Some(sock),
            fd,
            task,
            proxy: proxy.to_string(),
            unlink,
        });
        Ok(())
    }

    /// True once the loop must end: a hard stop, or a soft stop with nothing left to serve.
    pub fn done(&self, ev: &Ev<Ctx>) -> bool {
        self.hard_stop || (ev.stopping() && self.listeners.iter().all(|l| l.sock.is_none()))
    }

    /// Closes every listener (soft stop: no new connection is accepted).
    fn close_listeners(&mut self, ev: &mut Ev<Ctx>) {
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
    }

    fn accept_all(&mut self, ev: &mut Ev<Ctx>, idx: usize) {
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
                Sock::Tcp(s) => s
                    .accept()
                    .map(|(c, a)| (OwnedFd::from(c), format!("{}:{}", a.ip(), a.port()))),
                Sock::Unix(s) => s
                    .accept()
                    .map(|(c, _)| (OwnedFd::from(c), "unix:1".to_string())),
            };
            match res {
                Ok((conn, peer)) => {
                    self.accepted = self.accepted.wrapping_add(1);
                    if self.debug {
                        eprintln!(
                            "{:08x}:{}.accept({:04x})={:04x} from [{}] ALPN=<none>",
                            self.accepted,
                            l.proxy,
                            lfd,
                            conn.as_raw_fd(),
                            peer
                        );
                    }
                    // No proxying yet: the connection is closed at once.
                    drop(conn);
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
    fn process(&mut self, ev: &mut Ev<Ctx>, _task: TaskId, ctx: Ctx, _why: WakeReason) {
        match ctx {
            Ctx::Signals => {
                for sig in ev.take_signals() {
                    match sig {
                        libc::SIGUSR1 => {
                            ev.soft_stop();
                            self.close_listeners(ev);
                        }
                        libc::SIGINT | libc::SIGTERM => {
                            self.close_listeners(ev);
                            self.hard_stop = true;
                        }
                        _ => {}
                    }
                }
            }
            Ctx::Listener(i) => self.accept_all(ev, i),
        }
    }
}
