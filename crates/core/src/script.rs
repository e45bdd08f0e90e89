//! Scripted transports for unit tests (feature `script`): a connection without a socket,
//! whose other end the test holds.
//!
//! [`ScriptSock::pair`] makes the two ends of one transport: the [`ScriptSock`] goes into a
//! [`crate::Connection`] as [`crate::Xprt::Script`], the [`ScriptPeer`] stays with the test,
//! which plays the client or the server through it:
//! - what the proxy will read: bytes ([`ScriptPeer::send`]; bytes sent before the proxy reads
//!   are read together, as from a kernel socket), a pause that makes the next read return
//!   `EAGAIN` ([`ScriptPeer::pause`]: bytes after it are a later arrival, read separately),
//!   the peer's shutdown ([`ScriptPeer::shutw`], read returns 0), a reset
//!   ([`ScriptPeer::reset`]: reads and writes fail);
//! - what the proxy wrote ([`ScriptPeer::take`]), how much a write may take
//!   ([`ScriptPeer::set_write_room`]: short writes, then `EAGAIN`), whether the proxy shut
//!   its side ([`ScriptPeer::shut_by_proxy`]), closed ([`ScriptPeer::closed`]) and whether
//!   with a reset (`SO_LINGER` 0, [`ScriptPeer::linger0`]);
//! - for a server connection, the outcome of the connect: accepted at once, pending until
//!   [`ScriptPeer::accept`] or [`ScriptPeer::refuse`], or never (a connect timeout).
//!
//! Readiness: a scripted connection has a virtual fd in the loop's fd cache. Nothing polls
//! it; [`raise_edges`] plays the poller: for each scripted connection of the world it raises
//! the edges (`Ev::fd_update_events`) of what its peer made available since the proxy last
//! found it not ready, so the proxy sees exactly the readiness contract of a socket
//! (`hrs-ev`'s fd module). A test calls it before each loop iteration.
//!
//! Server connections: `conn_new_back` connects through [`crate::Xprt::connect`], which asks
//! the connector installed with [`set_connector`] (per thread) before the kernel.
//!
//! Test-only code: the shared state is a mutex (the test and the proxy run on one thread;
//! the lock is never contended).

use crate::{Ev, World, Xprt};
use hrs_ev::fd::{FD_EV_ERR_RW, FD_EV_READY_R, FD_EV_READY_W, FD_EV_SHUT_R, FD_EV_SHUT_W};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// One element of what the proxy will read.
#[derive(Debug)]
enum In {
    Data(Vec<u8>),
    /// The next read returns `EAGAIN` (what follows arrives later).
    Pause,
    /// The peer shut its side: reads return 0 from here on.
    Fin,
    /// The peer reset the connection: reads fail from here on.
    Reset,
}

/// Where the connect of a scripted server connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connect {
    /// Connected (an accepted client connection, or a server that accepted).
    Established,
    /// In progress: no event until the test accepts or refuses it (never: a connect timeout).
    Pending,
    /// Refused (`ECONNREFUSED`).
    Refused,
}

#[derive(Debug)]
struct Pipe {
    input: VecDeque<In>,
    output: Vec<u8>,
    /// Bytes writes may still take; `None`: unlimited.
    write_room: Option<usize>,
    connect: Connect,
    reset: bool,
    shut_w: bool,
    closed: bool,
    linger0: bool,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    reads: usize,
    writes: usize,
}

fn lock(p: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    // a test that panicked while holding it already failed; keep the state readable
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The proxy's end of a scripted transport (inside [`Xprt::Script`]). Dropping it is the
/// proxy closing the connection.
pub struct ScriptSock {
    pipe: Arc<Mutex<Pipe>>,
}

/// The test's end of a scripted transport.
#[derive(Clone)]
pub struct ScriptPeer {
    pipe: Arc<Mutex<Pipe>>,
}

impl fmt::Debug for ScriptSock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = lock(&self.pipe);
        write!(
            f,
            "ScriptSock({:?} -> {:?}, {:?})",
            p.local, p.peer, p.connect
        )
    }
}

impl fmt::Debug for ScriptPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = lock(&self.pipe);
        write!(
            f,
            "ScriptPeer({:?} -> {:?}, {:?})",
            p.peer, p.local, p.connect
        )
    }
}

impl ScriptSock {
    /// The two ends of a new transport: `local` is the proxy's address on it, `peer` the
    /// other side's; `connect` where its connect stands.
    pub fn pair(
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
        connect: Connect,
    ) -> (ScriptSock, ScriptPeer) {
        let pipe = Arc::new(Mutex::new(Pipe {
            input: VecDeque::new(),
            output: Vec::new(),
            write_room: None,
            connect,
            reset: false,
            shut_w: false,
            closed: false,
            linger0: false,
            local,
            peer,
            reads: 0,
            writes: 0,
        }));
        (
            ScriptSock {
                pipe: Arc::clone(&pipe),
            },
            ScriptPeer { pipe },
        )
    }

    /// `recv`: the data before the next pause, shutdown or reset, at most `buf.len()` bytes;
    /// 0 at the peer's shutdown; `WouldBlock` when nothing arrived (a pause is consumed);
    /// `ConnectionReset` after a reset.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut p = lock(&self.pipe);
        p.reads += 1;
        match p.connect {
            Connect::Established => {}
            Connect::Pending => return Err(io::ErrorKind::WouldBlock.into()),
            Connect::Refused => return Err(io::ErrorKind::ConnectionRefused.into()),
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(In::Data(d)) = p.input.front_mut() else {
                break;
            };
            let k = d.len().min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&d[..k]);
            d.drain(..k);
            n += k;
            if d.is_empty() {
                p.input.pop_front();
            }
        }
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        match p.input.front() {
            None => Err(io::ErrorKind::WouldBlock.into()),
            Some(In::Pause) => {
                p.input.pop_front();
                Err(io::ErrorKind::WouldBlock.into())
            }
            Some(In::Fin) => Ok(0),
            Some(In::Reset) => Err(io::ErrorKind::ConnectionReset.into()),
            Some(In::Data(_)) => Ok(0), // empty data pieces are never queued
        }
    }

    /// `send`: takes as much of `buf` as the room allows; `WouldBlock` when there is none;
    /// an error after a reset or our own shutdown, or while the connect did not succeed.
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut p = lock(&self.pipe);
        p.writes += 1;
        match p.connect {
            Connect::Established => {}
            Connect::Pending => return Err(io::ErrorKind::WouldBlock.into()),
            Connect::Refused => return Err(io::ErrorKind::ConnectionRefused.into()),
        }
        if p.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if p.shut_w {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let k = p.write_room.map_or(buf.len(), |r| r.min(buf.len()));
        if k == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        p.output.extend_from_slice(&buf[..k]);
        if let Some(r) = &mut p.write_room {
            *r -= k;
        }
        Ok(k)
    }

    pub(crate) fn shutw(&self) {
        lock(&self.pipe).shut_w = true;
    }

    pub(crate) fn set_linger0(&self) {
        lock(&self.pipe).linger0 = true;
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        lock(&self.pipe).local
    }

    pub(crate) fn connect_succeeded(&self) -> bool {
        lock(&self.pipe).connect == Connect::Established
    }

    /// The `FD_EV_*` bits a poller would report for this transport now: readable when
    /// something arrived before the next pause (or a pause waits to be read), shut and in
    /// error after the peer's shutdown or reset, writable when a write may take bytes.
    pub fn events(&self) -> u8 {
        let p = lock(&self.pipe);
        const HUP_ERR: u8 =
            FD_EV_ERR_RW | FD_EV_SHUT_R | FD_EV_SHUT_W | FD_EV_READY_R | FD_EV_READY_W;
        match p.connect {
            Connect::Pending => return 0,
            Connect::Refused => return HUP_ERR,
            Connect::Established => {}
        }
        if p.reset {
            return HUP_ERR;
        }
        let mut bits = 0;
        if matches!(p.input.front(), Some(In::Pause)) {
            bits |= FD_EV_READY_R;
        } else {
            for i in &p.input {
                match i {
                    In::Data(_) => bits |= FD_EV_READY_R,
                    In::Fin => bits |= FD_EV_READY_R | FD_EV_SHUT_R,
                    In::Reset => bits |= HUP_ERR,
                    In::Pause => break,
                }
            }
        }
        if p.write_room != Some(0) && !p.shut_w {
            bits |= FD_EV_READY_W;
        }
        bits
    }
}

impl Drop for ScriptSock {
    fn drop(&mut self) {
        lock(&self.pipe).closed = true;
    }
}

impl ScriptPeer {
    /// Queues `data` for the proxy to read (nothing for empty `data`).
    pub fn send(&self, data: &[u8]) {
        if !data.is_empty() {
            lock(&self.pipe).input.push_back(In::Data(data.to_vec()));
        }
    }

    /// Makes the proxy's next read return `EAGAIN`; what is sent afterwards arrives later
    /// (a separate read, after a new edge).
    pub fn pause(&self) {
        lock(&self.pipe).input.push_back(In::Pause);
    }

    /// Shuts our side (FIN): once the data before it is read, reads return 0.
    pub fn shutw(&self) {
        lock(&self.pipe).input.push_back(In::Fin);
    }

    /// Resets the connection (RST): once the data before it is read, reads fail, and
    /// writes fail at once.
    pub fn reset(&self) {
        let mut p = lock(&self.pipe);
        p.input.push_back(In::Reset);
        p.reset = true;
    }

    /// Takes what the proxy wrote so far.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut lock(&self.pipe).output)
    }

    /// What the proxy wrote so far, left in place.
    pub fn output(&self) -> Vec<u8> {
        lock(&self.pipe).output.clone()
    }

    /// How many more bytes the proxy's writes may take (`None`: no limit). A write larger
    /// than the room is short; a write with no room returns `EAGAIN`.
    pub fn set_write_room(&self, room: Option<usize>) {
        lock(&self.pipe).write_room = room;
    }

    /// The connect succeeds (the server accepted).
    pub fn accept(&self) {
        lock(&self.pipe).connect = Connect::Established;
    }

    /// The connect fails (`ECONNREFUSED`).
    pub fn refuse(&self) {
        lock(&self.pipe).connect = Connect::Refused;
    }

    /// Where the connect stands.
    pub fn connect_state(&self) -> Connect {
        lock(&self.pipe).connect
    }

    /// The proxy shut its writing side (we would read the end of the stream).
    pub fn shut_by_proxy(&self) -> bool {
        lock(&self.pipe).shut_w
    }

    /// The proxy closed the connection (its end was dropped).
    pub fn closed(&self) -> bool {
        lock(&self.pipe).closed
    }

    /// The proxy asked for a reset on close (`SO_LINGER` 0); with [`ScriptPeer::closed`]:
    /// the connection was closed with a reset.
    pub fn linger0(&self) -> bool {
        lock(&self.pipe).linger0
    }

    /// Bytes sent by us that the proxy did not read yet.
    pub fn unread(&self) -> usize {
        lock(&self.pipe)
            .input
            .iter()
            .map(|i| match i {
                In::Data(d) => d.len(),
                _ => 0,
            })
            .sum()
    }

    /// Read calls the proxy made (`EAGAIN`s included).
    pub fn reads(&self) -> usize {
        lock(&self.pipe).reads
    }

    /// Write calls the proxy made (`EAGAIN`s included).
    pub fn writes(&self) -> usize {
        lock(&self.pipe).writes
    }

    /// Our address (the proxy's peer).
    pub fn addr(&self) -> Option<SocketAddr> {
        lock(&self.pipe).peer
    }
}

type ConnectFn = Box<dyn FnMut(SocketAddr) -> io::Result<ScriptSock>>;

thread_local! {
    static CONNECTOR: RefCell<Option<ConnectFn>> = const { RefCell::new(None) };
}

/// Installs, for this thread, what answers the connects of server connections
/// ([`Xprt::connect`]): `f` gets the server's address and returns the proxy's end of the
/// new connection (see [`Connect`] for success, refusal, or no answer at all), or an error
/// for a connect that fails at once. Replaces a previous connector.
pub fn set_connector(f: impl FnMut(SocketAddr) -> io::Result<ScriptSock> + 'static) {
    CONNECTOR.with(|c| *c.borrow_mut() = Some(Box::new(f)));
}

/// Removes this thread's connector: connects go to the kernel again.
pub fn clear_connector() {
    CONNECTOR.with(|c| *c.borrow_mut() = None);
}

/// The installed connector's answer for `addr`, `None` without a connector.
pub(crate) fn connect_hook(addr: SocketAddr) -> Option<io::Result<ScriptSock>> {
    CONNECTOR.with(|c| c.borrow_mut().as_mut().map(|f| f(addr)))
}

/// Plays the poller for the scripted connections of `w`: raises on each one's fd the edges
/// of what its peer made available and the cache does not show yet (new bits only, as an
/// edge-triggered poller reports a change). Returns how many fds got an edge (their owners
/// are woken with IO).
pub fn raise_edges(w: &World, ev: &mut Ev) -> usize {
    let mut n = 0;
    for (_, c) in w.conns.iter() {
        let (Xprt::Script(s), Some(fd)) = (&c.xprt, c.fd) else {
            continue;
        };
        let new = s.events() & !ev.fd_state(fd);
        if new != 0 && ev.fd_update_events(fd, new) {
            n += 1;
        }
    }
    n
}
