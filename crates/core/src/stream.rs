//! Sessions, streams, channels and stream-interfaces (HAProxy's `session-t.h`, `stream-t.h`,
//! `channel-t.h`, `stream_interface-t.h`, `http_ana-t.h`).
//!
//! A [`Session`] is one accepted client connection; a [`Stream`] is one request/response
//! exchange on it, with a request and a response [`Channel`] and two [`StreamInterface`]s:
//! `si[0]` faces the client, `si[1]` the server. Behaviour is in `hrs-stream`.

use crate::{ConnId, Connection, PxId, SessId, SessList, SrvId, Target, Termination};
use hrs_ev::{TaskId, Tick, TICK_ETERNITY};
use hrs_http::h1::MsgFlags;
use hrs_http::msg::{BodyLen, HttpHead, Meth};
use hrs_list::ListHead;
use hrs_sample::Vars;
use std::net::SocketAddr;
use std::time::SystemTime;

/// One accepted client connection (`struct session`).
#[derive(Debug)]
pub struct Session {
    /// The frontend.
    pub fe: PxId,
    /// The frontend connection.
    pub conn: ConnId,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
    pub accept_date: SystemTime,
    pub accept_tick: Tick,
    /// Session-scoped variables (`sess.*`).
    pub vars: Vars,
    /// Server connections owned by the session (`srv_list`): its private connections, in
    /// use or idle. Only the session may use them; they close with it.
    pub srv_list: ListHead<Connection, SessList>,
    /// How many of them are idle (`idle_conns`), bounded by `max-session-srv-conns`.
    pub idle_conns: u32,
    /// `SESS_FL_*`.
    pub flags: u32,
    /// Streams created so far on this session.
    pub req_count: u32,
}

/// Session flags (`SESS_FL_*`).
pub mod sess_fl {
    /// Stick to the server of the session's connections (set by NTLM/Negotiate
    /// authentication, `SESS_FL_PREFER_LAST`).
    pub const PREFER_LAST: u32 = 1 << 0;
}

/// Stream-interface states (`enum si_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SiState {
    /// Initial.
    #[default]
    Ini,
    /// A connection is requested.
    Req,
    /// Queued for a server.
    Que,
    /// Turn-around before a retry.
    Tar,
    /// A server is assigned.
    Ass,
    /// Connecting.
    Con,
    /// Connection error, retry decision pending.
    Cer,
    /// Connected, ready.
    Rdy,
    /// Established.
    Est,
    /// Disconnecting.
    Dis,
    /// Closed.
    Clo,
}

/// One side of a stream (`struct stream_interface`).
#[derive(Debug, Default)]
pub struct StreamInterface {
    pub state: SiState,
    /// The connection this side is attached to.
    pub conn: Option<ConnId>,
    /// Timer of the current state (connect, turn-around, queue).
    pub exp: Tick,
    /// Connection attempts left (`si->conn_retries`).
    pub conn_retries: u32,
    /// Retries done so far (`%rc`).
    pub retries_done: u32,
}

/// Channel flags (`CF_*`).
pub mod cf {
    /// The producer delivered the whole message into the channel (after the buffer drains,
    /// the message is complete).
    pub const EOM: u32 = 1 << 0;
    /// The producer closed without completing the message.
    pub const SHUTR: u32 = 1 << 1;
    /// The consumer will not take more (closed).
    pub const SHUTW: u32 = 1 << 2;
    /// The message head was sent by the consumer.
    pub const HEAD_SENT: u32 = 1 << 3;
    /// The consumer finished sending the whole message.
    pub const DONE: u32 = 1 << 4;
    /// Data moved since the last look (activity, for timeouts).
    pub const ACTIVITY: u32 = 1 << 5;
}

/// A unidirectional payload pipe between two muxes (`struct channel`), holding message body
/// bytes (de-framed) or raw bytes in `mode tcp`.
#[derive(Debug, Default)]
pub struct Channel {
    pub buf: Vec<u8>,
    /// `cf::*`.
    pub flags: u32,
    /// Payload bytes that went through (`%B`/`%U`).
    pub total: u64,
    /// Trailers of a chunked message, delivered with EOM.
    pub trailers: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl Channel {
    /// True when a flag of `mask` is set.
    pub fn has(&self, mask: u32) -> bool {
        self.flags & mask != 0
    }
}

/// Transaction flags (`TX_*`).
pub mod tx {
    /// Not the first request of the session (`TX_NOT_FIRST`).
    pub const NOT_FIRST: u32 = 1 << 0;
    /// The request carried both transfer-encoding and content-length: the server connection
    /// must not be reused.
    pub const NO_REUSE: u32 = 1 << 1;
    /// The client side closes after this transaction.
    pub const CLI_CLOSE: u32 = 1 << 2;
    /// The server side closes after this transaction.
    pub const SRV_CLOSE: u32 = 1 << 3;
    /// The response was produced by the proxy itself.
    pub const LOCAL_REPLY: u32 = 1 << 4;
    /// The request waits for a `100 Continue`.
    pub const EXPECT_100: u32 = 1 << 5;
    /// L7 retries are armed for this request (`TX_L7_RETRY`): the whole request was kept
    /// in `l7_buffer` and may be sent again.
    pub const L7_RETRY: u32 = 1 << 6;
    /// `http-request disable-l7-retry` matched (`TX_D_L7_RETRY`).
    pub const D_L7_RETRY: u32 = 1 << 7;
    /// The server's response could not be parsed (`junk-response`).
    pub const RSP_JUNK: u32 = 1 << 8;
}

/// The request as first sent, kept for L7 retries (`txn->l7_buffer`).
#[derive(Debug, Clone)]
pub struct L7Buf {
    /// The head as analysed, before the server-side mux adapted it.
    pub head: HttpHead,
    /// The whole body (de-framed).
    pub body: Vec<u8>,
}

/// The HTTP transaction of a stream (`struct http_txn`).
#[derive(Debug)]
pub struct HttpTxn {
    pub req: Option<HttpHead>,
    pub req_body: BodyLen,
    /// What the parser learnt from the request head (connection tokens, framing).
    pub req_flags: MsgFlags,
    pub rsp: Option<HttpHead>,
    pub rsp_body: BodyLen,
    pub rsp_flags: MsgFlags,
    pub meth: Meth,
    /// Status sent to the client (0 until known).
    pub status: u16,
    /// `tx::*`.
    pub flags: u32,
    /// The request line as received, for `%r`.
    pub req_line: String,
    /// Client HTTP version was 1.0.
    pub http10: bool,
    /// The request kept for L7 retries, when `tx::L7_RETRY` is set.
    pub l7_buffer: Option<Box<L7Buf>>,
}

impl Default for HttpTxn {
    fn default() -> Self {
        HttpTxn {
            req: None,
            req_body: BodyLen::None,
            req_flags: MsgFlags::default(),
            rsp: None,
            rsp_body: BodyLen::None,
            rsp_flags: MsgFlags::default(),
            meth: Meth::Get,
            status: 0,
            flags: 0,
            req_line: String::new(),
            http10: false,
            l7_buffer: None,
        }
    }
}

/// Progress of a stream's analysers (the `AN_REQ_*`/`AN_RES_*` bits as one state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StrmPhase {
    /// The request head is there; rules not run yet.
    #[default]
    ReqRules,
    /// `option http-buffer-request`: waiting for the body.
    WaitBody,
    /// Getting a server connection (si[1] state machine).
    Connect,
    /// Forwarding the request, waiting for the response head.
    WaitRsp,
    /// The response head is there; rules not run yet.
    RspRules,
    /// Forwarding the response to the client.
    Forward,
    /// A `mode tcp` relay.
    Tunnel,
    /// Finished: logs written, resources released; the stream is being freed.
    Closed,
}

/// Stream flags (`SF_*`).
pub mod sf {
    /// A server is assigned (`SF_ASSIGNED`).
    pub const ASSIGNED: u32 = 1 << 0;
    /// The server connection counts in the server's `served` (`SF_CURR_SESS`).
    pub const CURR_SESS: u32 = 1 << 1;
    /// Redispatch happened (`SF_REDISP`).
    pub const REDISP: u32 = 1 << 2;
    /// The stream is in a server's queue.
    pub const QUEUED: u32 = 1 << 3;
    /// The backend was counted in `beconn`.
    pub const BE_ASSIGNED: u32 = 1 << 4;
    /// The server connection in use was reused, not opened for this stream
    /// (`SF_SRV_REUSED`). Survives an L7 retry, as upstream.
    pub const SRV_REUSED: u32 = 1 << 5;
    /// A redispatch was decided: the next `assign_server` avoids the previous server and
    /// counts a redispatch if it picks another one (`SF_REDISP` is set then).
    pub const REDISP_PENDING: u32 = 1 << 6;
    /// Nothing is logged for this stream (`logs.logwait = 0`: keep-alive abort).
    pub const NO_LOG: u32 = 1 << 7;
    /// The stream's log line was emitted (it is emitted once, at the end).
    pub const LOGGED: u32 = 1 << 8;
}

/// Log timers in milliseconds since accept, -1 when not reached (`struct strm_logs`).
#[derive(Clone, Copy, Debug)]
pub struct StrmLogs {
    /// Idle time before the request (`%Ti`).
    pub t_idle: i64,
    /// Request received (`%TR` relative to t_idle).
    pub t_request: i64,
    pub t_queue: i64,
    pub t_connect: i64,
    /// Response headers received (`%Tr`).
    pub t_data: i64,
    pub t_close: i64,
    /// Stream start (tick), for the timers above.
    pub start: Tick,
    pub start_date: Option<SystemTime>,
}

impl Default for StrmLogs {
    fn default() -> Self {
        StrmLogs {
            t_idle: -1,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_data: -1,
            t_close: -1,
            start: 0,
            start_date: None,
        }
    }
}

/// One request/response exchange (`struct stream`).
#[derive(Debug)]
pub struct Stream {
    /// `process_stream`'s task (`Ctx::Stream`).
    pub task: TaskId,
    pub sess: SessId,
    pub fe: PxId,
    /// The backend (the frontend itself until switching rules run, for listen sections).
    pub be: PxId,
    pub srv: Option<SrvId>,
    pub target: Target,
    pub si: [StreamInterface; 2],
    pub req: Channel,
    pub res: Channel,
    pub txn: HttpTxn,
    pub phase: StrmPhase,
    /// `sf::*`.
    pub flags: u32,
    pub term: Termination,
    pub vars_txn: Vars,
    pub vars_req: Vars,
    pub vars_res: Vars,
    pub logs: StrmLogs,
    /// Stream-level timeout (client/server/http-request/tunnel depending on the phase).
    pub exp: Tick,
    pub uniq_id: u32,
}

impl Stream {
    /// A new stream of `sess` on frontend `fe`; the caller attaches `si[0]`.
    pub fn new(task: TaskId, sess: SessId, fe: PxId, uniq_id: u32) -> Stream {
        Stream {
            task,
            sess,
            fe,
            be: fe,
            srv: None,
            target: Target::None,
            si: Default::default(),
            req: Channel::default(),
            res: Channel::default(),
            txn: HttpTxn::default(),
            phase: StrmPhase::ReqRules,
            flags: 0,
            term: Termination::default(),
            vars_txn: Vars::default(),
            vars_req: Vars::default(),
            vars_res: Vars::default(),
            logs: StrmLogs::default(),
            exp: TICK_ETERNITY,
            uniq_id,
        }
    }
}

/// Creates a stream on the front connection `cid` and attaches `si[0]` to it
/// (`stream_new` called from the mux's `h1s_new_cs`). The stream's task is created but not
/// woken: the caller fills the transaction and wakes it. Returns `None` when the
/// connection has no session (a bug, reported in debug builds).
pub fn stream_new(w: &mut crate::World, ev: &mut crate::Ev, cid: ConnId) -> Option<crate::StrmId> {
    let c = w.conns.get(cid)?;
    let sess_id = c.owner;
    debug_assert!(sess_id.is_some(), "front connection without a session");
    let sess_id = sess_id?;
    let sess = w.sessions.get_mut(sess_id)?;
    sess.req_count += 1;
    let fe = sess.fe;
    let uuid = w.sh.global.next_uuid();
    let task = ev.task_new(crate::Ctx::Signals);
    let mut s = Stream::new(task, sess_id, fe, uuid);
    s.si[0].conn = Some(cid);
    s.si[0].state = SiState::Est;
    s.logs.start = ev.now();
    s.logs.start_date = Some(SystemTime::now());
    let sid = w.streams.insert(s);
    ev.set_ctx(task, crate::Ctx::Stream(sid));
    // HTTP/2 keeps its streams in its own list
    if !w.conns[cid].is_mux_h2() {
        w.conns[cid].strm = Some(sid);
    }
    Some(sid)
}
