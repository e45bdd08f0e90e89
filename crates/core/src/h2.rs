//! HTTP/2 mux state (HAProxy's `mux_h2.c` types `h2c`/`h2s`), built on the `h2` crate.
//!
//! A connection speaking HTTP/2 holds an [`H2c`]: the `h2` crate's connection object for its
//! role (server on the front, client on the back), the buffers the crate reads and writes
//! through ([`H2Io`], HAProxy's "mux above the connection layer": the connection layer owns
//! the socket and moves bytes between it and these buffers), and one [`H2s`] per stream of
//! ours attached to it. The protocol work is in `hrs-conn::mux_h2`; this module only defines
//! the state and the I/O adapter, and answers `avail_streams`.
//!
//! The adapter follows the readiness contract of `../shared/reference/h2-on-mio.md`: reads
//! return `Pending` only when the input buffer is empty (the connection task is woken by the
//! next readable edge and receives), EOF is a ready empty read, an error is an error; writes
//! append to the output buffer until it holds `wlimit` bytes, then return `Pending` (the
//! connection task sends and polls again).

use crate::StrmId;
use bytes::Bytes;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes between the socket and the `h2` crate.
#[derive(Debug, Default)]
pub struct H2Bufs {
    /// Received, `ipos` of them already read by h2.
    pub ibuf: Vec<u8>,
    pub ipos: usize,
    /// To send, `opos` of them already sent.
    pub obuf: Vec<u8>,
    pub opos: usize,
    /// The peer closed its side: reads return EOF once `ibuf` is consumed.
    pub eof: bool,
    /// The socket failed: reads and writes return an error.
    pub err: bool,
    /// h2 found `ibuf` empty (`SUB_RETRY_RECV`).
    pub want_rx: bool,
    /// h2 found `obuf` full (`SUB_RETRY_SEND`).
    pub want_tx: bool,
    /// h2 asked to shut the writing side.
    pub shut: bool,
    /// Most pending output bytes accepted from h2.
    pub wlimit: usize,
}

impl H2Bufs {
    /// Unread input bytes.
    pub fn in_pending(&self) -> usize {
        self.ibuf.len() - self.ipos
    }

    /// Unsent output bytes.
    pub fn out_pending(&self) -> usize {
        self.obuf.len() - self.opos
    }

    /// Drops the consumed head of `ibuf` (called by the connection layer before it receives).
    pub fn compact_in(&mut self) {
        if self.ipos > 0 {
            self.ibuf.drain(..self.ipos);
            self.ipos = 0;
        }
    }
}

/// The `AsyncRead + AsyncWrite` the `h2` crate is driven through: a handle on the
/// connection's [`H2Bufs`].
#[derive(Debug, Clone)]
pub struct H2Io(pub Rc<RefCell<H2Bufs>>);

impl AsyncRead for H2Io {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut b = self.0.borrow_mut();
        let avail = b.in_pending();
        if avail > 0 {
            let n = avail.min(buf.remaining());
            let from = b.ipos;
            buf.put_slice(&b.ibuf[from..from + n]);
            b.ipos += n;
            if b.ipos == b.ibuf.len() {
                b.ibuf.clear();
                b.ipos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        if b.err {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if b.eof {
            return Poll::Ready(Ok(()));
        }
        b.want_rx = true;
        Poll::Pending
    }
}

impl AsyncWrite for H2Io {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = self.0.borrow_mut();
        if b.err {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if b.out_pending() >= b.wlimit {
            b.want_tx = true;
            return Poll::Pending;
        }
        b.obuf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut b = self.0.borrow_mut();
        if b.err {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if b.out_pending() >= b.wlimit {
            b.want_tx = true;
            return Poll::Pending;
        }
        let mut n = 0;
        for s in bufs {
            b.obuf.extend_from_slice(s);
            n += s.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // the connection task sends `obuf` after every poll
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().shut = true;
        Poll::Ready(Ok(()))
    }
}

/// The client handshake future (`h2::client::Builder::handshake` is an `async fn`).
pub type ClientHandshake = Pin<
    Box<
        dyn Future<
            Output = Result<
                (
                    h2::client::SendRequest<Bytes>,
                    h2::client::Connection<H2Io, Bytes>,
                ),
                h2::Error,
            >,
        >,
    >,
>;

/// Where an HTTP/2 connection is in its life.
pub enum H2State {
    /// Front: waiting for the client preface and SETTINGS.
    SrvHandshake(Pin<Box<h2::server::Handshake<H2Io, Bytes>>>),
    /// Front: streams are accepted.
    Srv(Box<h2::server::Connection<H2Io, Bytes>>),
    /// Back: the TCP connect is in progress (nothing written yet).
    CliConnecting,
    /// Back: preface and SETTINGS queued, connection object not available yet.
    CliHandshake(ClientHandshake),
    /// Back: requests can be sent.
    Cli {
        send: h2::client::SendRequest<Bytes>,
        conn: Box<h2::client::Connection<H2Io, Bytes>>,
    },
    /// The connection is finished (error, GOAWAY completed, closed): flush and release.
    Closed,
}

impl std::fmt::Debug for H2State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            H2State::SrvHandshake(_) => "SrvHandshake",
            H2State::Srv(_) => "Srv",
            H2State::CliConnecting => "CliConnecting",
            H2State::CliHandshake(_) => "CliHandshake",
            H2State::Cli { .. } => "Cli",
            H2State::Closed => "Closed",
        })
    }
}

/// `H2S_F_*`: progress of one stream.
pub mod h2s_fl {
    /// Front: the response HEADERS were queued. Back: the request HEADERS were queued.
    pub const HEAD_SENT: u8 = 1 << 0;
    /// Everything we send on this stream was queued (END_STREAM or trailers).
    pub const TX_DONE: u8 = 1 << 1;
    /// The peer's message is complete (END_STREAM received).
    pub const RX_DONE: u8 = 1 << 2;
    /// The stream was reset (by either side) or failed.
    pub const RST: u8 = 1 << 3;
    /// Back: the response head arrived.
    pub const RSP_HEAD: u8 = 1 << 4;
}

/// One HTTP/2 stream bound to a stream of ours (`struct h2s`).
#[derive(Debug)]
pub struct H2s {
    /// Our stream; `None` once it detached while the h2 stream finishes (reset pending).
    pub strm: Option<StrmId>,
    /// The HTTP/2 stream id (0 until known, on the back before the request is sent).
    pub id: u32,
    /// `h2s_fl::*`.
    pub flags: u8,
    /// The body of the peer's message (request on the front, response on the back).
    pub rx: Option<h2::RecvStream>,
    /// Front: where the response HEADERS go.
    pub respond: Option<h2::server::SendResponse<Bytes>>,
    /// Our message's body (response on the front, request on the back).
    pub tx: Option<h2::SendStream<Bytes>>,
    /// Back: the response HEADERS to come.
    pub rsp: Option<h2::client::ResponseFuture>,
}

impl H2s {
    /// A stream entry for our stream `strm`.
    pub fn new(strm: StrmId) -> H2s {
        H2s {
            strm: Some(strm),
            id: 0,
            flags: 0,
            rx: None,
            respond: None,
            tx: None,
            rsp: None,
        }
    }

    /// True when a flag of `mask` is set.
    pub fn has(&self, mask: u8) -> bool {
        self.flags & mask != 0
    }
}

/// `H2_CF_*`: connection flags.
pub mod h2c_fl {
    /// A GOAWAY was received: no new stream may be opened.
    pub const GOAWAY_RCVD: u32 = 1 << 0;
    /// We started closing (GOAWAY sent or about to be).
    pub const GOAWAY_SENT: u32 = 1 << 1;
    /// A connection-level error happened.
    pub const ERROR: u32 = 1 << 2;
    /// The `h2` connection object finished (`poll_accept` gave `None`, `Connection` ready).
    pub const DONE: u32 = 1 << 3;
}

/// The HTTP/2 mux context of a connection (`struct h2c`).
pub struct H2c {
    pub io: H2Io,
    pub state: H2State,
    /// Streams attached (ours) or finishing.
    pub streams: Vec<H2s>,
    /// Wakes the connection's task (h2's internal wakeups, flow-control updates).
    pub waker: Waker,
    /// `h2c_fl::*`.
    pub flags: u32,
    /// Streams opened so far (front: requests accepted; back: requests sent).
    pub nb_created: u32,
    /// Back: the peer's SETTINGS_MAX_CONCURRENT_STREAMS (our own setting until it is known).
    pub peer_max_streams: u32,
    /// Back: `max-reuse` of the server (-1: unlimited).
    pub max_reuse: i64,
}

impl std::fmt::Debug for H2c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2c")
            .field("state", &self.state)
            .field("streams", &self.streams)
            .field("flags", &self.flags)
            .field("nb_created", &self.nb_created)
            .finish()
    }
}

impl H2c {
    /// A mux context in state `state` whose buffers accept `wlimit` pending output bytes.
    pub fn new(state: H2State, io: H2Io, waker: Waker) -> H2c {
        H2c {
            io,
            state,
            streams: Vec::new(),
            waker,
            flags: 0,
            nb_created: 0,
            peer_max_streams: 100,
            max_reuse: -1,
        }
    }

    /// Fresh buffers for a new connection.
    pub fn new_io(wlimit: usize) -> H2Io {
        H2Io(Rc::new(RefCell::new(H2Bufs {
            wlimit,
            ..Default::default()
        })))
    }

    /// Streams of ours attached (`used_streams`).
    pub fn used_streams(&self) -> u32 {
        self.streams.iter().filter(|s| s.strm.is_some()).count() as u32
    }

    /// The entry of our stream `sid`.
    pub fn find(&mut self, sid: StrmId) -> Option<&mut H2s> {
        self.streams.iter_mut().find(|s| s.strm == Some(sid))
    }

    /// How many more streams can be attached (`h2_avail_streams`): none after a GOAWAY or
    /// an error; else the least of the peer's concurrency limit minus the open streams, the
    /// stream ids left, and `max-reuse + 1` minus the streams created so far.
    pub fn avail_streams(&self) -> u32 {
        if self.flags & (h2c_fl::GOAWAY_RCVD | h2c_fl::GOAWAY_SENT | h2c_fl::ERROR | h2c_fl::DONE)
            != 0
            || matches!(self.state, H2State::Closed)
        {
            return 0;
        }
        let open = self.streams.len() as i64;
        let mut n = i64::from(self.peer_max_streams) - open;
        // client stream ids are odd, from 1 to 2^31-1
        let ids_left = (1i64 << 30) - i64::from(self.nb_created);
        n = n.min(ids_left);
        if self.max_reuse >= 0 {
            n = n.min(self.max_reuse + 1 - i64::from(self.nb_created));
        }
        n.max(0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h2c() -> H2c {
        let waker = std::task::Waker::noop().clone();
        H2c::new(H2State::CliConnecting, H2c::new_io(1024), waker)
    }

    fn handle() -> StrmId {
        StrmId::from_raw(0, 1).expect("a valid handle")
    }

    #[test]
    fn avail_streams_follows_peer_limit_and_max_reuse() {
        let mut h = h2c();
        h.peer_max_streams = 3;
        assert_eq!(h.avail_streams(), 3);
        h.streams.push(H2s::new(handle()));
        h.nb_created = 1;
        assert_eq!(h.avail_streams(), 2);
        // max-reuse 1: two streams per connection in all
        h.max_reuse = 1;
        assert_eq!(h.avail_streams(), 1);
        h.nb_created = 2;
        assert_eq!(h.avail_streams(), 0);
        h.max_reuse = -1;
        assert_eq!(h.avail_streams(), 2);
        h.flags |= h2c_fl::GOAWAY_RCVD;
        assert_eq!(h.avail_streams(), 0, "no new stream after a GOAWAY");
    }

    #[test]
    fn io_reads_pend_only_when_empty() {
        let io = H2c::new_io(4);
        let mut r = io.clone();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut storage = [0u8; 8];
        let mut buf = ReadBuf::new(&mut storage);
        assert!(Pin::new(&mut r).poll_read(&mut cx, &mut buf).is_pending());
        assert!(io.0.borrow().want_rx);
        io.0.borrow_mut().ibuf.extend_from_slice(b"abc");
        assert!(Pin::new(&mut r).poll_read(&mut cx, &mut buf).is_ready());
        assert_eq!(buf.filled(), b"abc");
        io.0.borrow_mut().eof = true;
        let mut buf = ReadBuf::new(&mut storage);
        match Pin::new(&mut r).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) => assert!(buf.filled().is_empty(), "EOF is an empty read"),
            other => panic!("{other:?}"),
        }
        // writes stop at the limit
        assert!(matches!(
            Pin::new(&mut r).poll_write(&mut cx, b"12345"),
            Poll::Ready(Ok(5))
        ));
        assert!(Pin::new(&mut r).poll_write(&mut cx, b"6").is_pending());
        assert!(io.0.borrow().want_tx);
    }
}
