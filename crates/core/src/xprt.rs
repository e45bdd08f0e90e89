//! The transport under a connection (HAProxy's `xprt`: `raw_sock.c` for TCP).
//!
//! [`Xprt`] is what a [`crate::Connection`] reads from and writes to: a kernel TCP socket
//! ([`Xprt::Raw`]), or, in builds with the `script` feature (the unit tests of the crates
//! above), a scripted transport whose other end is held by the test (`Xprt::Script`, see
//! the `script` module). Every operation is one `match` and then the plain socket call: the
//! raw path allocates nothing and takes no lock. Readiness is not tracked here but in the
//! event loop's fd cache (`hrs-ev`), for both kinds: a raw socket is registered with the
//! poller, a scripted one gets a virtual fd whose edges the test raises.

use hrs_ev::{FdId, TaskId};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// The transport of a connection.
#[derive(Debug, Default)]
pub enum Xprt {
    /// None yet (a connection object being built) or none any more.
    #[default]
    None,
    /// A TCP socket.
    Raw(mio::net::TcpStream),
    /// A scripted transport (unit tests only).
    #[cfg(feature = "script")]
    Script(crate::script::ScriptSock),
}

impl Xprt {
    /// Starts a non-blocking connect to `addr` (`raw_sock`'s `connect`): the connect
    /// completes later, reported by the poller. In builds with the `script` feature, a
    /// connector installed by the test (`script::set_connector`) answers instead
    /// of the kernel.
    ///
    /// # Errors
    /// The socket could not be created or the connect failed at once.
    pub fn connect(addr: SocketAddr) -> io::Result<Xprt> {
        #[cfg(feature = "script")]
        if let Some(r) = crate::script::connect_hook(addr) {
            return r.map(Xprt::Script);
        }
        mio::net::TcpStream::connect(addr).map(Xprt::Raw)
    }

    /// Registers the transport with the event loop for `task`: a socket with the poller
    /// (`fd_register`, which sets nothing ready: the first poll reports what is there), a
    /// scripted transport as a virtual fd. Also sets `TCP_NODELAY` on a socket.
    ///
    /// # Errors
    /// The poller refused the socket, or there is no transport.
    pub fn register(&mut self, ev: &mut crate::Ev, task: TaskId) -> io::Result<FdId> {
        match self {
            Xprt::None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            Xprt::Raw(s) => {
                let fd = ev.fd_register(s, task)?;
                let _ = s.set_nodelay(true);
                Ok(fd)
            }
            #[cfg(feature = "script")]
            Xprt::Script(_) => Ok(ev.fd_insert_virtual(task)),
        }
    }

    /// Takes the transport out of the poller (`epoll_ctl(DEL)`) without closing it: needed
    /// before closing a socket another thread holds a duplicate of, since epoll forgets a
    /// socket only when its last descriptor closes.
    pub fn deregister(&mut self, ev: &crate::Ev) {
        if let Xprt::Raw(s) = self {
            let _ = ev.registry().deregister(s);
        }
    }

    /// The socket descriptor, when there is one.
    pub fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        match self {
            Xprt::Raw(s) => Some(std::os::fd::AsRawFd::as_raw_fd(s)),
            _ => None,
        }
    }

    /// True when there is no transport.
    pub fn is_none(&self) -> bool {
        matches!(self, Xprt::None)
    }

    /// One `recv` into `buf`: the number of bytes read, 0 at the end of the stream.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is there, or the socket's error.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Xprt::None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            Xprt::Raw(s) => s.read(buf),
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.read(buf),
        }
    }

    /// One `send` of `buf`: the number of bytes the transport took (maybe fewer than asked).
    ///
    /// # Errors
    /// `WouldBlock` when there is no room, or the socket's error.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Xprt::None => Err(io::Error::from(io::ErrorKind::NotConnected)),
            Xprt::Raw(s) => s.write(buf),
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.write(buf),
        }
    }

    /// Shuts the writing side (`shutdown(SHUT_WR)`): the peer sees the end of the stream.
    pub fn shutw(&self) {
        match self {
            Xprt::None => {}
            Xprt::Raw(s) => {
                let _ = s.shutdown(std::net::Shutdown::Write);
            }
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.shutw(),
        }
    }

    /// Makes the coming close send a reset and drop unread data (`SO_LINGER` 0).
    pub fn set_linger0(&self) {
        match self {
            Xprt::None => {}
            Xprt::Raw(s) => {
                use std::os::fd::AsRawFd;
                let l = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: setsockopt reads `size_of::<linger>()` bytes from a valid local
                // struct.
                unsafe {
                    libc::setsockopt(
                        s.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        &l as *const _ as *const libc::c_void,
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
            }
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.set_linger0(),
        }
    }

    /// The local address (`getsockname`), `None` when unknown.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Xprt::None => None,
            Xprt::Raw(s) => s.local_addr().ok(),
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.local_addr(),
        }
    }

    /// After the poller reported an error or a hang-up on a connecting transport: true when
    /// the connect itself succeeded (no pending socket error and a peer address: a server
    /// that accepted and closed at once still counts as connected).
    pub fn connect_succeeded(&self) -> bool {
        match self {
            Xprt::None => false,
            Xprt::Raw(s) => matches!(s.take_error(), Ok(None)) && s.peer_addr().is_ok(),
            #[cfg(feature = "script")]
            Xprt::Script(s) => s.connect_succeeded(),
        }
    }
}
