//! `hrs-core`: the types every runtime layer shares (HAProxy's `*-t.h` headers).
//!
//! Owns the definitions of the runtime objects (connections with their mux contexts,
//! sessions, streams with their channels and stream-interfaces, runtime proxies and servers),
//! the typed handles that address them, the task context of the event loop, and [`World`]: the
//! per-thread set of slabs holding them. Behaviour lives in the crates above (`hrs-conn`,
//! `hrs-backend`, `hrs-stream`); this crate only has constructors, accessors and invariant
//! checks, so that any layer can name any object without crate cycles. One exception is the
//! transport under a connection ([`Xprt`]: the socket calls themselves), and, with the
//! `script` feature (unit tests only), its scripted variant (the `script` module).

pub mod conn;
pub mod h2;
pub mod pools;
pub mod proxy;
#[cfg(feature = "script")]
pub mod script;
pub mod stream;
pub mod term;
pub mod xprt;

pub use conn::*;
/// Whether request lines are captured for the formats that print them.
pub use hrs_sample::logfmt::req_line_wanted;
pub use proxy::*;
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
/// Index of a runtime proxy in [`World::proxies`].
pub type PxId = usize;
/// Index of a runtime server in [`World::servers`].
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
}

/// The event loop type of a worker thread.
pub type Ev = hrs_ev::Ev<Ctx>;

/// Process-wide settings and counters of one worker thread (HAProxy's `struct global`
/// runtime half).
#[derive(Debug, Default)]
pub struct GlobalRt {
    /// Global `maxconn` (frontend connections).
    pub maxconn: u32,
    /// Frontend connections currently open.
    pub curr_conn: u32,
    /// `tune.bufsize`.
    pub bufsize: usize,
    /// `tune.maxrewrite`.
    pub maxrewrite: usize,
    /// `tune.http.maxhdr`.
    pub maxhdr: usize,
    /// `tune.h2.*`: the HTTP/2 settings advertised.
    pub tune_h2: hrs_cfg::model::TuneH2,
    /// `-d`: print accept/request debug lines on stderr.
    pub debug: bool,
    /// Sessions accepted so far (`global.req_count`/uuid source).
    pub uuid: u32,
    /// Host name for `%H` and syslog headers.
    pub hostname: String,
    /// Global `log` targets (used by proxies with `log global`).
    pub logs: Vec<hrs_cfg::model::LogSpec>,
    /// The longest `len` of all `log` lines of the configuration (`global.max_syslog_len`):
    /// a rendered log message keeps at most this minus one bytes; 0 when nothing logs.
    pub max_syslog_len: usize,
    /// The UDP socket syslog messages leave from (opened on first use).
    pub log_sock: Option<std::net::UdpSocket>,
    /// Idle-pool admission and killing thresholds in file descriptors
    /// (`tune.pool-low-fd-ratio`/`pool-high-fd-ratio` of `maxsock`).
    pub pool_low_count: u32,
    pub pool_high_count: u32,
}

impl World {
    /// File descriptors in use by connections (`ha_used_fds`, listeners not counted).
    pub fn used_fds(&self) -> u32 {
        self.conns.len() as u32
    }
}

/// All runtime objects of one thread. Every function of the layers above takes the parts it
/// needs; nothing here is shared between threads.
#[derive(Default)]
pub struct World {
    pub conns: Arena<Connection>,
    pub sessions: Arena<Session>,
    pub streams: Arena<Stream>,
    pub proxies: Vec<ProxyRt>,
    pub servers: Vec<ServerRt>,
    pub global: GlobalRt,
    /// Process-scoped variables (`proc.*`).
    pub proc_vars: hrs_sample::Vars,
    /// Backends (and listens) by name, for `use_backend`.
    pub be_index: std::collections::HashMap<String, PxId>,
}
