//! Socket-level life of a connection: creation on accept or connect, `recv`/`send` under the
//! readiness contract of `hrs-ev`, connect completion, release (HAProxy's `raw_sock.c`,
//! `sock.c`, `conn_free`).

use hrs_core::pools::gauge_dec;
use hrs_core::{
    co_fl, ConnId, Connection, Ctx, Ev, H1c, IdleEntry, Mux, PxId, Side, SrvId, Target, World, Xprt,
};
use hrs_ev::WakeReason;
use hrs_list::Stale;
use std::io;
use std::net::SocketAddr;

/// Size of one `recv` at most (the per-thread receive buffer).
const RECV_CHUNK: usize = 16384;

thread_local! {
    /// Where `recv` lands before the bytes are appended to a connection's buffer (HAProxy's
    /// per-thread `trash`): allocated and zeroed once per thread, so a connection's buffer
    /// only grows by what was received (idle connections stay small) and no call pays for
    /// zeroing 16 kB.
    static RECV_TRASH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; RECV_CHUNK].into_boxed_slice());
}

/// Registers transport `xprt` with the loop under a new task and stores the connection that
/// `fill` completes (its transport and fd are set here) in the arena.
///
/// # Errors
/// The poller refused the transport; the task is freed, nothing is stored.
fn conn_insert(
    w: &mut World,
    ev: &mut Ev,
    mut xprt: Xprt,
    side: Side,
    px: PxId,
    mux: Mux,
    fill: impl FnOnce(&mut Connection),
) -> io::Result<ConnId> {
    let task = ev.task_new(Ctx::Signals);
    let fd = match xprt.register(ev, task) {
        Ok(fd) => fd,
        Err(e) => {
            ev.task_free(task);
            return Err(e);
        }
    };
    let mut c = Connection::new(task, side, px, mux);
    c.xprt = xprt;
    c.fd = Some(fd);
    fill(&mut c);
    let id = w.conns.insert(c);
    ev.set_ctx(task, Ctx::Conn(id));
    Ok(id)
}

/// Creates a frontend connection for an accepted transport (a socket, or a scripted one in
/// tests) and registers it. `dst` is the local address when the caller knows it (a listener
/// bound to one address); otherwise it is read from the transport.
///
/// # Errors
/// The poller refused the socket; nothing is left allocated.
pub fn conn_new_front(
    w: &mut World,
    ev: &mut Ev,
    xprt: Xprt,
    px: PxId,
    mux: Mux,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
) -> io::Result<ConnId> {
    // a listener bound to one address gives it to all its connections: no getsockname
    let dst = dst.or_else(|| xprt.local_addr());
    conn_insert(w, ev, xprt, Side::Front, px, mux, |c| {
        c.flags = co_fl::CONNECTED;
        c.src = src;
        c.dst = dst;
    })
}

/// Starts a non-blocking connect to `addr` ([`Xprt::connect`]: in test builds, through the
/// connector the test installed) and registers the new backend connection; the connect
/// completes (or fails) later, reported by [`conn_check_connect`].
///
/// # Errors
/// The socket could not be created or registered (resource shortage): the caller reports a
/// connection failure.
pub fn conn_new_back(
    w: &mut World,
    ev: &mut Ev,
    addr: SocketAddr,
    px: PxId,
    mux: Mux,
) -> io::Result<ConnId> {
    let xprt = Xprt::connect(addr)?;
    conn_insert(w, ev, xprt, Side::Back, px, mux, |c| {
        c.flags = co_fl::WAIT_L4_CONN;
        c.dst = Some(addr);
    })
}

/// Closes and frees a connection: takes it out of its server pool and session list,
/// drops its fd entry and closes the socket (closing removes it from epoll: no
/// `epoll_ctl(DEL)`), frees its task. The caller must have detached it from its stream
/// first (checked in debug builds).
///
/// A server connection the server did not close first is closed with a reset, as upstream
/// does (`FD_LINGER_RISK`): the proxy keeps no `TIME_WAIT` per server connection, which
/// under connection churn would exhaust the source ports.
///
/// # Errors
/// [`Stale`]: `id` is not live (freed twice, or a list held it after it was freed).
///
/// An idle connection another thread took over meanwhile is only forgotten: taken out of
/// this thread's poller and closed here without a reset, the socket living on in the
/// other thread (its duplicate).
pub fn conn_free(w: &mut World, ev: &mut Ev, id: ConnId) -> Result<(), Stale> {
    w.conns.live(id)?;
    let owned = w.conn_unlink_all(id);
    let Some(mut c) = w.conns.remove(id) else {
        return Err(Stale::report(id));
    };
    debug_assert!(c.used_streams() == 0, "conn_free of an attached connection");
    if !owned {
        c.xprt.deregister(ev);
    } else if c.side == Side::Back && !c.has(co_fl::SOCK_RD_SH) && c.has(co_fl::CONNECTED) {
        conn_set_linger0(&mut c);
    }
    if let Some(fd) = c.fd {
        // the socket is never duplicated, so its close (when `c` drops) leaves epoll
        ev.fd_delete(fd);
    }
    // the transport closes here, when `c` drops
    ev.task_free(c.task);
    if c.side == Side::Front {
        gauge_dec(&w.sh.global.curr_conn);
        gauge_dec(&w.sh.threads[usize::from(w.tid)].conns);
        if let Some(p) = w.sh.proxies.get(c.px) {
            gauge_dec(&p.feconn);
        }
    }
    Ok(())
}

/// Adopts an idle server connection taken over from another thread (the `takeover` of
/// upstream's muxes): `fd` is this thread's duplicate of its socket, `e` what the other
/// thread's registry said of it. The connection is registered with this thread's loop,
/// connected, HTTP/1 with its request count, and in no list.
///
/// # Errors
/// The poller refused the socket; `fd` is closed.
pub fn conn_adopt_back(
    w: &mut World,
    ev: &mut Ev,
    fd: std::os::fd::OwnedFd,
    srv: SrvId,
    hash: u64,
    e: &IdleEntry,
) -> io::Result<ConnId> {
    let xprt = Xprt::Raw(mio::net::TcpStream::from(fd));
    let h1 = H1c {
        req_count: e.req_count,
        ..H1c::default()
    };
    conn_insert(w, ev, xprt, Side::Back, e.px, Mux::H1(h1), |c| {
        c.flags = co_fl::CONNECTED;
        c.target = Target::Server(srv);
        c.hash = hash;
        c.src = e.src;
        c.dst = e.dst;
    })
}

/// Checks the outcome of a pending connect (`sock_conn_check`). Returns `Some(true)` once
/// connected, `Some(false)` on failure (flag `ERROR` set), `None` while still in progress.
///
/// As upstream with a poller that reports errors and hang-ups (epoll), a writable edge
/// without error or hang-up means the connect succeeded: no syscall. Only the other cases
/// ask the socket. Precondition: only the poller marks a connecting fd writable (nothing
/// calls `fd_may_send` on it).
pub fn conn_check_connect(c: &mut Connection, ev: &mut Ev) -> Option<bool> {
    if !c.has(co_fl::WAIT_L4_CONN) {
        return Some(!c.has(co_fl::ERROR));
    }
    let fd = c.fd?;
    if c.xprt.is_none() {
        return None;
    }
    if !ev.fd_error(fd) && !ev.fd_shut_r(fd) {
        if !ev.fd_send_ready(fd) {
            return None;
        }
        c.flags = (c.flags & !co_fl::WAIT_L4_CONN) | co_fl::CONNECTED;
        return Some(true);
    }
    // an error or a hang-up: the socket tells whether the connect itself failed (a server
    // that accepted and closed at once still counts as connected)
    let ok = c.xprt.connect_succeeded();
    c.flags &= !co_fl::WAIT_L4_CONN;
    c.flags |= if ok { co_fl::CONNECTED } else { co_fl::ERROR };
    Some(ok)
}

/// Receives into `c.ibuf` until it holds `limit` bytes, the socket has nothing more, or the
/// peer closed (`SOCK_RD_SH`) or failed (`ERROR`). Returns the number of bytes received.
pub fn conn_recv(c: &mut Connection, ev: &mut Ev, limit: usize) -> usize {
    let mut ibuf = std::mem::take(&mut c.ibuf);
    let n = conn_recv_buf(c, ev, &mut ibuf, limit);
    c.ibuf = ibuf;
    n
}

/// [`conn_recv`] into `dst` instead of `c.ibuf` (the HTTP/2 mux's buffers).
///
/// A read shorter than asked drains the socket (`raw_sock_to_buf`): the receive queue was
/// emptied, so readiness is dropped without the `EAGAIN` a further `recv` would cost; new
/// data raises a new edge. If the poller already reported the peer's shutdown, that short
/// read was the last data and the end is taken at once.
pub fn conn_recv_buf(c: &mut Connection, ev: &mut Ev, dst: &mut Vec<u8>, limit: usize) -> usize {
    let Some(fd) = c.fd.filter(|_| !c.xprt.is_none()) else {
        return 0;
    };
    RECV_TRASH.with(|trash| {
        let mut trash = trash.borrow_mut();
        let mut total = 0;
        while dst.len() < limit
            && ev.fd_recv_ready(fd)
            && c.flags & (co_fl::SOCK_RD_SH | co_fl::ERROR) == 0
        {
            let room = (limit - dst.len()).min(RECV_CHUNK);
            match c.xprt.read(&mut trash[..room]) {
                Ok(0) => {
                    c.flags |= co_fl::SOCK_RD_SH;
                }
                Ok(n) => {
                    dst.extend_from_slice(&trash[..n]);
                    total += n;
                    c.bytes_in += n as u64;
                    if n < room {
                        if ev.fd_shut_r(fd) {
                            c.flags |= co_fl::SOCK_RD_SH;
                        } else {
                            ev.fd_drained_recv(fd);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ev.fd_cant_recv(fd),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => c.flags |= co_fl::ERROR | co_fl::SOCK_RD_SH,
            }
        }
        total
    })
}

/// Sends what `c.obuf` holds as far as the socket takes it. Returns true when the buffer is
/// empty afterwards. A write error sets `ERROR`.
pub fn conn_send(c: &mut Connection, ev: &mut Ev) -> bool {
    let mut obuf = std::mem::take(&mut c.obuf);
    let mut opos = c.opos;
    let empty = conn_send_buf(c, ev, &mut obuf, &mut opos);
    c.obuf = obuf;
    c.opos = opos;
    empty
}

/// [`conn_send`] from `buf`, `pos` bytes of which were sent already (the HTTP/2 mux's
/// buffers). The buffer is cleared once fully sent.
pub fn conn_send_buf(c: &mut Connection, ev: &mut Ev, buf: &mut Vec<u8>, pos: &mut usize) -> bool {
    let Some(fd) = c.fd.filter(|_| !c.xprt.is_none()) else {
        return *pos >= buf.len();
    };
    while *pos < buf.len() && ev.fd_send_ready(fd) && c.flags & co_fl::ERROR == 0 {
        match c.xprt.write(&buf[*pos..]) {
            Ok(0) => {
                c.flags |= co_fl::ERROR;
            }
            Ok(n) => {
                *pos += n;
                c.bytes_out += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ev.fd_cant_send(fd),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => c.flags |= co_fl::ERROR,
        }
    }
    if *pos >= buf.len() {
        buf.clear();
        *pos = 0;
        true
    } else {
        false
    }
}

/// Shuts the writing side (`conn_sock_shutw`), once.
pub fn conn_shutw(c: &mut Connection) {
    if c.has(co_fl::SOCK_WR_SH) {
        return;
    }
    c.flags |= co_fl::SOCK_WR_SH;
    c.xprt.shutw();
}

/// Discards pending input and makes the next close send a reset rather than leave unread
/// data (HAProxy closes with `SO_LINGER 0` on errors).
pub fn conn_set_linger0(c: &mut Connection) {
    c.xprt.set_linger0();
}

/// Wakes the task of connection `id` (if it still exists) for I/O work.
pub fn conn_wake(w: &World, ev: &mut Ev, id: ConnId) {
    if let Some(c) = w.conns.get(id) {
        ev.wakeup(c.task, WakeReason::MSG);
    }
}
