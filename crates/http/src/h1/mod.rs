//! HTTP/1 protocol logic of HAProxy 2.6's H1 multiplexer, without I/O: parsing of request and
//! response heads with upstream's acceptance rules and rewrites ([`parse_request`],
//! [`parse_response`]), the chunked transfer coding ([`ChunkDecoder`], [`encode_chunk`],
//! [`encode_last_chunk`]), the preparation of an outgoing head (connection-mode decisions, the
//! `Connection`/`Transfer-Encoding` fields HAProxy removes or adds: [`prepare_request_out`],
//! [`prepare_response_out`]) and its serialization ([`format_request`], [`format_response`]).
//!
//! The behaviours reproduced here were checked one by one against haproxy 2.6.12 (Debian's
//! build); `docs/h1-messages.md` lists them. The runtime's `mux_h1` owns buffers, sockets and
//! timeouts and calls these functions.

mod chars;
mod chunk;
mod out;
mod parse;
mod uri;
mod ws;

pub use chunk::{encode_chunk, encode_last_chunk, ChunkDecoder, ChunkStep};
pub use out::{
    check_response_upgrade, client_mode_on_request, format_request, format_response,
    prepare_request_out, prepare_response_out, server_mode_on_response, ConnMode, HttpMode,
    OutPlan, RequestOut, ResponseOut,
};
pub use ws::{base64, ws_accept_key, ws_request_key};

pub(crate) use chars::for_each_word;
pub use chars::{trim_lws, value_end};

use crate::msg::{BodyLen, HttpHead, Meth};
use std::fmt;

/// Size limits of a head, from the global tuning (`tune.bufsize`, `tune.maxrewrite`,
/// `tune.http.maxhdr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H1Limits {
    /// `tune.bufsize - tune.maxrewrite` (15360 by default). A head is refused when its size in
    /// HAProxy's internal form exceeds this minus 85 bytes, the internal form counting the
    /// start-line strings plus, per stored field, name + value + 8.
    pub max_head: usize,
    /// `tune.bufsize - 64` (16320 by default): raw bytes (leading empty lines included) an
    /// incomplete head may occupy before it is refused.
    pub max_raw: usize,
    /// `tune.http.maxhdr` (101 by default): at most `max_hdrs - 1` fields per head.
    pub max_hdrs: usize,
}

impl H1Limits {
    /// Limits derived from the tuning values the way haproxy 2.6 applies them.
    pub const fn new(bufsize: usize, maxrewrite: usize, maxhdr: usize) -> Self {
        H1Limits {
            max_head: bufsize.saturating_sub(maxrewrite),
            max_raw: bufsize.saturating_sub(64),
            max_hdrs: maxhdr,
        }
    }
}

impl Default for H1Limits {
    /// `tune.bufsize 16384`, `tune.maxrewrite 1024`, `tune.http.maxhdr 101`.
    fn default() -> Self {
        H1Limits::new(16384, 1024, 101)
    }
}

/// What the parser learnt from a head (HAProxy's `h1m->flags`), as seen in the received
/// message before any rewriting by rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsgFlags {
    /// Version 1.1 or above (`HTTP/1.2` and `HTTP/2.0` count; HAProxy then writes `HTTP/1.1`).
    pub ver11: bool,
    /// A `close` token was found in `Connection` (the token itself is removed from the head).
    pub conn_close: bool,
    /// A `keep-alive` token was found in `Connection` (removed from the head as well).
    pub conn_keepalive: bool,
    /// An `upgrade` token was found in `Connection` (kept in the head).
    pub upgrade: bool,
    /// `Upgrade` names `websocket` (the last `Upgrade` field decides).
    pub upgrade_websocket: bool,
    /// `Upgrade` names `h2c` or `h2`.
    pub upgrade_h2c: bool,
    /// `Transfer-Encoding` present.
    pub te: bool,
    /// `chunked` is the last transfer coding: the body is chunked.
    pub te_chunked: bool,
    /// A coding other than `chunked` was listed (refused by the parser: 422 / 502).
    pub te_other: bool,
    /// A valid `Content-Length` is kept in the head (false once removed because of
    /// `Transfer-Encoding`).
    pub has_cl: bool,
    /// Both `Transfer-Encoding` and `Content-Length` were present: `Content-Length` was
    /// removed and [`MsgFlags::force_close`] set. The connection this message came from must
    /// not be reused.
    pub cl_and_te: bool,
    /// HAProxy closes the connection the message came from after this transaction
    /// (`Transfer-Encoding` together with `Content-Length`, or on an HTTP/1.0 message).
    pub force_close: bool,
    /// Request with `Expect: 100-continue`.
    pub expect_100: bool,
    /// Request: the first `Sec-WebSocket-Key` of exactly 24 bytes.
    pub ws_key: Option<[u8; 24]>,
    /// Response: a `Sec-WebSocket-Accept` field is present.
    pub ws_accept: bool,
}

/// A parsed head, with its body framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H1Msg {
    /// Start line and fields after HAProxy's input rewriting (see [`parse_request`]).
    pub head: HttpHead,
    /// How the body that follows the head is delimited: `None` for no body and for the two
    /// tunnel cases (CONNECT request, 101 and 200-to-CONNECT responses), whose payload is
    /// tunneled once the exchange is over.
    pub body: BodyLen,
    pub flags: MsgFlags,
}

/// Outcome of a successful parse call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head is not complete yet: call again with more bytes (from the same start).
    Incomplete,
    /// A whole head: `consumed` bytes of the input (leading empty lines included).
    Done { msg: H1Msg, consumed: usize },
}

/// A message HAProxy refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H1Error {
    /// What HAProxy answers: 400 for an invalid request, 413 for an HTTP/1.0 GET/HEAD/DELETE
    /// with a payload, 422 for a request with an unsupported transfer coding; 502 for any
    /// invalid response. (haproxy 2.6 never answers 414 or 431: oversized requests get 400.)
    pub status: u16,
    /// Offset in the input where the problem was found (for error captures).
    pub pos: usize,
    /// Short description.
    pub what: &'static str,
}

impl fmt::Display for H1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} (status {})",
            self.what, self.pos, self.status
        )
    }
}

impl std::error::Error for H1Error {}

/// Parses a request head at the start of `buf`.
///
/// Preconditions: `buf` holds the bytes received so far for this message, starting where the
/// previous message ended. Outcomes: [`Parsed::Incomplete`] until the empty line ending the
/// head is in `buf` (an incomplete head that already fills `lim.max_raw` bytes is an error);
/// [`Parsed::Done`] with the head rewritten as HAProxy does (names lower-cased, values
/// trimmed and unfolded, identical duplicate `Host`/`Content-Length` fields merged,
/// `Content-Length` reduced to one value and dropped next to `Transfer-Encoding`, `close` and
/// `keep-alive` removed from `Connection`, default port removed from an absolute target and
/// `Host`); or an [`H1Error`] with the status HAProxy answers. Never panics.
pub fn parse_request(buf: &[u8], lim: &H1Limits) -> Result<Parsed, H1Error> {
    parse::parse_head(buf, lim, None)
}

/// Parses a response head at the start of `buf`; `req_meth` is the method of the request it
/// answers (HEAD and CONNECT change the body rules).
///
/// Outcomes as for [`parse_request`], errors always carrying status 502. Interim responses
/// (1xx but 101) are returned as messages with `BodyLen::None`: forward them and parse the
/// next response from `consumed`. Bodies: none for HEAD, 1xx, 204 and 304 (whatever the
/// fields say); none either for 101 and for a 200 to CONNECT (tunnel follows); chunked,
/// `Content-Length`, or until the server closes otherwise.
pub fn parse_response(buf: &[u8], req_meth: Meth, lim: &H1Limits) -> Result<Parsed, H1Error> {
    parse::parse_head(buf, lim, Some(req_meth))
}

#[cfg(test)]
mod tests;
