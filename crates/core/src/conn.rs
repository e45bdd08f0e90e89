//! Connections and their mux contexts (HAProxy's `connection-t.h`, `mux_h1.c` types `h1c`/`h1s`).
//!
//! A [`Connection`] is one socket plus its buffers and its mux: [`H1c`] for HTTP/1 (one stream
//! at a time) or the pass-through mux for `mode tcp`. The I/O and the mux logic are in
//! `hrs-conn`; this module only defines the state.

use crate::{PxId, SessId, SrvId, StrmId};
use hrs_ev::{FdId, TaskId, Tick, TICK_ETERNITY};
use hrs_http::h1::ChunkDecoder;
use hrs_http::msg::Meth;
use hrs_list::Link;
use std::net::SocketAddr;

/// Which side of the proxy a connection faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Accepted from a client.
    Front,
    /// Opened to a server.
    Back,
}

/// What a backend connection leads to (`conn->target`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Target {
    #[default]
    None,
    /// A server of a backend.
    Server(SrvId),
    /// A proxy's `dispatch` address.
    Proxy(PxId),
}

/// Connection flags (`CO_FL_*`).
pub mod co_fl {
    /// The connect() completed (backend) or the socket was accepted (frontend).
    pub const CONNECTED: u32 = 1 << 0;
    /// A connect() is in progress (`CO_FL_WAIT_L4_CONN`).
    pub const WAIT_L4_CONN: u32 = 1 << 1;
    /// The peer closed its side: recv() returned 0 (`CO_FL_SOCK_RD_SH`).
    pub const SOCK_RD_SH: u32 = 1 << 2;
    /// We shut our writing side (`CO_FL_SOCK_WR_SH`).
    pub const SOCK_WR_SH: u32 = 1 << 3;
    /// A fatal socket error happened (`CO_FL_ERROR`).
    pub const ERROR: u32 = 1 << 4;
    /// The connection belongs to its session only (`CO_FL_PRIVATE`).
    pub const PRIVATE: u32 = 1 << 5;
    /// Close once the output buffer is flushed.
    pub const CLOSE_AFTER_SEND: u32 = 1 << 6;
    /// In its server's `idle_conns` list (`CO_FL_IDLE_LIST`).
    pub const IDLE_LIST: u32 = 1 << 7;
    /// In its server's `safe_conns` list (`CO_FL_SAFE_LIST`).
    pub const SAFE_LIST: u32 = 1 << 8;
    /// Either pool list (`CO_FL_LIST_MASK`).
    pub const LIST_MASK: u32 = IDLE_LIST | SAFE_LIST;
    /// Idle while kept by its owning session (`CO_FL_SESS_IDLE`): counted in the session's
    /// `idle_conns`.
    pub const SESS_IDLE: u32 = 1 << 9;
    /// Idle and listed in its thread's takeover registry ([`crate::IdleReg`]): another
    /// thread may take it over, so its owner claims it before any use.
    pub const TAKEOVER: u32 = 1 << 10;
}

hrs_list::list_adapter! {
    /// Membership of a backend connection in one of its server's pools (`hash_node` in
    /// `idle_conns`/`safe_conns`/`avail_conns`). At most one pool at a time.
    pub PoolList = Connection { pool_link };
    /// Membership of a backend connection in its owning session's list (`session_list`).
    pub SessList = Connection { sess_link };
}

/// Receiving progress of an HTTP/1 message body (`H1_MSG_DATA`/`H1_MSG_CHUNK_*`).
#[derive(Debug)]
pub enum BodyRx {
    /// `n` payload bytes still to receive.
    Len(u64),
    /// Chunked: the streaming decoder.
    Chunked(Box<ChunkDecoder>),
    /// Until the peer closes (responses, tunnels, `mode tcp`).
    UntilClose,
}

/// Receiving side of an H1 connection (`h1s->req`/`h1s->res` parser state, `H1_MSG_*`).
#[derive(Debug)]
pub enum H1Rx {
    /// Waiting for the first byte of a message (front: keep-alive idle).
    Idle,
    /// Part of a head was received.
    Head,
    /// Receiving the body.
    Body(BodyRx),
    /// The message was fully received.
    Done,
    /// Nothing more will be read (error or closed).
    Closed,
}

/// Sending side of an H1 connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H1Tx {
    /// No head sent yet for the current message.
    Idle,
    /// The head was sent; the body is framed by content-length (`n` bytes left).
    Len(u64),
    /// The head was sent; the body is sent chunked.
    Chunked,
    /// The head was sent; the body ends when we close.
    UntilClose,
    /// The whole message was sent.
    Done,
}

/// The HTTP/1 mux context of a connection (`struct h1c` + its single `h1s`).
#[derive(Debug)]
pub struct H1c {
    pub rx: H1Rx,
    pub tx: H1Tx,
    /// Requests parsed (front) or sent (back) on this connection.
    pub req_count: u32,
    /// The peer asked to close, or we decided to: no further message after this one.
    pub want_close: bool,
    /// Back side: method of the request in flight (for HEAD responses).
    pub meth: Meth,
    /// Front side: the idle timer was armed while a head was partially received (so it is
    /// the `timeout http-request` deadline, not the keep-alive one).
    pub tmo_head: bool,
    /// Front side: no upgrade to HTTP/2 on the client preface (`bind ... proto h1`,
    /// upstream's `NO_UPG`).
    pub no_upg: bool,
}

impl Default for H1c {
    fn default() -> Self {
        H1c {
            rx: H1Rx::Idle,
            tx: H1Tx::Idle,
            req_count: 0,
            want_close: false,
            meth: Meth::Get,
            tmo_head: false,
            no_upg: false,
        }
    }
}

/// The mux in use on a connection.
#[derive(Debug)]
pub enum Mux {
    /// HTTP/1.
    H1(H1c),
    /// `mode tcp`: bytes are relayed as they are (`mux_pt`).
    Pt,
    /// HTTP/2: many streams (`mux_h2`).
    H2(Box<crate::h2::H2c>),
}

/// One socket (`struct connection`).
#[derive(Debug)]
pub struct Connection {
    /// The transport (`conn->xprt` + its socket): a TCP socket, or a scripted one in tests.
    pub xprt: crate::Xprt,
    /// The fd entry in the loop's readiness cache (registered with the poller for a
    /// socket, virtual for a scripted transport).
    pub fd: Option<FdId>,
    /// The I/O tasklet (`Ctx::Conn`).
    pub task: TaskId,
    pub side: Side,
    /// `co_fl::*`.
    pub flags: u32,
    pub target: Target,
    /// The owning session (front: the session it created; back: the session that owns it
    /// while it is attached or private).
    pub owner: Option<SessId>,
    /// Frontend (front) or backend (back) proxy.
    pub px: PxId,
    /// The source address: the client's (front, from `accept`); unset on the back side,
    /// where [`Connection::src_addr`] reads it from the socket when asked.
    pub src: Option<SocketAddr>,
    /// The destination address: ours (front) or the server's (back).
    pub dst: Option<SocketAddr>,
    /// The stream attached to the mux (one for H1).
    pub strm: Option<StrmId>,
    /// Bytes received and not yet parsed.
    pub ibuf: Vec<u8>,
    /// Bytes to send; `opos` of them were sent already.
    pub obuf: Vec<u8>,
    pub opos: usize,
    pub mux: Mux,
    /// Connection-level timer (keep-alive and http-request idle timeouts on the front).
    pub expire: Tick,
    /// Total bytes received and sent (for logs).
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Backend: the reuse key (`hash_node->hash`, `conn_calculate_hash`).
    pub hash: u64,
    /// Backend: link in a server pool (see [`PoolList`]).
    pub pool_link: Link<Connection>,
    /// Backend: link in the owning session's list (see [`SessList`]).
    pub sess_link: Link<Connection>,
}

impl Connection {
    /// The source address (`conn_get_src`): `src` if known, else the socket's local address
    /// (a server connection's, read only when a log or a fetch needs it: one `getsockname`).
    pub fn src_addr(&self) -> Option<SocketAddr> {
        self.src.or_else(|| self.xprt.local_addr())
    }

    /// A fresh connection object with no transport yet.
    pub fn new(task: TaskId, side: Side, px: PxId, mux: Mux) -> Connection {
        Connection {
            xprt: crate::Xprt::None,
            fd: None,
            task,
            side,
            flags: 0,
            target: Target::None,
            owner: None,
            px,
            src: None,
            dst: None,
            strm: None,
            ibuf: Vec::new(),
            obuf: Vec::new(),
            opos: 0,
            mux,
            expire: TICK_ETERNITY,
            bytes_in: 0,
            bytes_out: 0,
            hash: 0,
            pool_link: Link::new(),
            sess_link: Link::new(),
        }
    }

    /// True when every byte of `obuf` (the mux's buffers for HTTP/2) was sent.
    pub fn out_empty(&self) -> bool {
        self.out_pending() == 0
    }

    /// Bytes waiting in `obuf` (the mux's buffers for HTTP/2).
    pub fn out_pending(&self) -> usize {
        match &self.mux {
            Mux::H2(h2) => h2.io.0.borrow().out_pending(),
            _ => self.obuf.len().saturating_sub(self.opos),
        }
    }

    /// The H1 context. Precondition: the mux is H1 (checked in debug builds).
    pub fn h1(&mut self) -> Option<&mut H1c> {
        match &mut self.mux {
            Mux::H1(h) => Some(h),
            Mux::Pt | Mux::H2(_) => None,
        }
    }

    /// True when a flag of `mask` is set.
    pub fn has(&self, mask: u32) -> bool {
        self.flags & mask != 0
    }

    /// How many more streams the mux can take (`mux->avail_streams`): HTTP/1 takes one
    /// when no stream is attached and the connection may carry another message; the
    /// pass-through mux never takes a second one; HTTP/2 as [`crate::h2::H2c::avail_streams`].
    pub fn avail_streams(&self) -> u32 {
        match &self.mux {
            Mux::H1(h) => u32::from(self.strm.is_none() && !h.want_close),
            Mux::Pt => 0,
            Mux::H2(h2) => h2.avail_streams(),
        }
    }

    /// Streams of ours attached to the mux (`used_streams`).
    pub fn used_streams(&self) -> u32 {
        match &self.mux {
            Mux::H2(h2) => h2.used_streams(),
            _ => u32::from(self.strm.is_some()),
        }
    }

    /// True when the mux multiplexes streams (HTTP/2: `MX_FL_HOL_RISK`).
    pub fn is_mux_h2(&self) -> bool {
        matches!(self.mux, Mux::H2(_))
    }

    /// Attaches our stream `sid` to the mux (`mux->attach`): the single slot of HTTP/1 and
    /// the pass-through mux, a new stream entry for HTTP/2.
    pub fn attach_strm(&mut self, sid: crate::StrmId) {
        match &mut self.mux {
            Mux::H2(h2) => {
                h2.streams.push(crate::h2::H2s::new(sid));
                h2.nb_created += 1;
            }
            _ => self.strm = Some(sid),
        }
    }
}
