//! `hrs-core`: the types every runtime layer shares (HAProxy's `*-t.h` headers).
//!
//! Owns the definitions of the runtime objects (connections with their mux contexts,
//! sessions, streams with their channels and stream-interfaces, runtime proxies and servers),
//! the typed handles that address them, the task context of the event loop, and [`World`]: the
//! per-thread set of slabs holding them. Behaviour lives in the crates above (`hrs-conn`,
//! `hrs-backend`, `hrs-stream`); this crate only has constructors, accessors and invariant
//! checks, so that any layer can name any object without crate cycles. The state threads
//! share is in [`shared`] (`Shared`, reached from every `World` as `w.sh`), under the
//! locks of [`lock`]. One exception is the
//! transport under a connection ([`Xprt`]: the socket calls themselves), and, with the
//! `script` feature (unit tests only), its scripted variant (the `script` module).

pub mod conn;
pub mod h2;
pub mod lock;
pub mod pools;
pub mod proxy;
#[cfg(feature = "script")]
pub mod script;
pub mod shared;
pub mod stream;
pub mod term;
pub mod xprt;

pub use conn::*;
/// Whether request lines are captured for the formats that print them.
pub use hrs_sample::logfmt::req_line_wanted;
pub use proxy::*;
pub use shared::*;
pub use stream::*;
pub use term::*;
pub use xprt::Xprt;

use hrs_list::{Arena, Handle};

/// Handle of a connection (frontend or backend).
pub type ConnId = Handle<Connection>;
/// Handle of a session (one accepted client connection).
pub type SessId = Handle<Session>;
/// Handle of a stream (one request/response exchange).
pub type StrmId = Handle<Stream>;
/// Index of a runtime proxy in [`Shared::proxies`].
pub type PxId = usize;
/// Index of a runtime server in [`Shared::servers`].
pub type SrvId = usize;

/// What a task of the worker's event loop stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// The signalfd.
    Signals,
    /// A listening socket (index in the worker's listener table).
    Listener(u32),
    /// A connection's I/O tasklet (mux I/O callback: `h1_io_cb`).
    Conn(ConnId),
    /// A stream's task (`process_stream`).
    Stream(StrmId),
    /// A server's idle-connection purge timer (`srv_cleanup_idle_conns`).
    SrvPurge(SrvId),
    /// A stats socket listener (index in the worker's CLI listener table).
    CliListener(u32),
    /// A stats socket client connection (index in the worker's CLI connection table).
    CliConn(u32),
    /// The thread's inbox of messages from other threads ([`Msg`]).
    Inbox,
}

/// The event loop type of a worker thread.
pub type Ev = hrs_ev::Ev<Ctx>;

impl World {
    /// File descriptors in use by connections (`ha_used_fds`, listeners not counted).
    pub fn used_fds(&self) -> u32 {
        self.conns.len() as u32
    }
}

/// All runtime objects of one thread, and the shared state it works with (`sh`). Every
/// function of the layers above takes the parts it needs. Nothing in a `World` but `sh` is
/// seen by another thread.
pub struct World {
    pub conns: Arena<Connection>,
    pub sessions: Arena<Session>,
    pub streams: Arena<Stream>,
    /// What every thread shares: proxies, servers, global settings, process variables.
    pub sh: std::sync::Arc<Shared>,
    /// This thread's number.
    pub tid: Tid,
    /// Compiled ACLs, rules and log-format of each proxy (by [`PxId`]), compiled per thread
    /// (their pattern caches are not shared).
    pub rules: Vec<std::rc::Rc<hrs_sample::ProxyRules>>,
    /// This thread's connection pools of each server (by [`SrvId`]).
    pub pools: Vec<SrvPool>,
    /// The UDP socket syslog messages leave from (opened on first use).
    pub log_sock: Option<std::net::UdpSocket>,
}

impl Default for World {
    fn default() -> World {
        World::new(std::sync::Arc::new(Shared::default()), 0, Vec::new())
    }
}

impl World {
    /// Thread `tid`'s world over `sh`, with the proxies' compiled `rules`.
    pub fn new(
        sh: std::sync::Arc<Shared>,
        tid: Tid,
        rules: Vec<std::rc::Rc<hrs_sample::ProxyRules>>,
    ) -> World {
        let pools = (0..sh.servers.len()).map(|_| SrvPool::default()).collect();
        World {
            conns: Arena::new(),
            sessions: Arena::new(),
            streams: Arena::new(),
            sh,
            tid,
            rules,
            pools,
            log_sock: None,
        }
    }
}
