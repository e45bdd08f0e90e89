//! The HTTP/2 mux (HAProxy's `mux_h2.c`), on the `h2` crate driven from our event loop.
//!
//! The connection layer owns the socket: each run of a connection's task receives into the
//! mux's input buffer, polls the `h2` connection object (which reads frames from that buffer
//! and queues frames into the output buffer, see `hrs_core::h2::H2Io`), moves data between
//! the h2 streams and our streams' channels, then sends. One wake re-runs the whole
//! connection, as `h2_io_cb` does upstream; h2's own wakeups (flow-control updates, queued
//! frames) go through the task's waker (`hrs_ev::waker`).
//!
//! Front side (`bind ... proto h2`, or an HTTP/1 bind that received the HTTP/2 preface): every
//! request stream becomes a stream of ours ([`hrs_core::stream_new`]) whose request head is
//! converted from HTTP/2 as upstream 2.6 does (`:authority` wins over `host` and becomes the
//! first header, the URI is kept absolute for logs and sample fetches, cookies are joined, a
//! body of unknown length is marked so that an HTTP/1 server receives it chunked). Back side
//! (`server ... proto h2`): our streams attached to the connection send their request as
//! HTTP/2 and receive the response, converted for the client's mux.
//!
//! What the mux may touch: its connection, the attached streams' channels, transactions and
//! flags; it wakes a stream's task when the stream has something new to look at, and the
//! connection at the other end of a stream when a channel drained. It never calls the stream
//! layer. All timers (idle, `timeout client`, soft stop) are decided by the stream layer's
//! I/O dispatch; the mux only executes the GOAWAY ([`h2_shutdown`]).

use crate::sock::{conn_recv_buf, conn_send_buf};
use bytes::Bytes;
use hrs_core::h2::{h2c_fl, h2s_fl, H2State, H2c, H2s};
use hrs_core::{
    cf, co_fl, stream_new, tx, Channel, ConnId, Connection, Ev, Mux, Side, Stream, StrmId,
    StrmPhase, World,
};
use hrs_ev::WakeReason;
use hrs_http::h1::MsgFlags;
use hrs_http::msg::{BodyLen, HttpHead, Meth, Version};
use hrs_list::Stale;
use std::future::Future;
use std::task::{Context, Poll};

/// What happened to the connection during an I/O callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H2Outcome {
    /// Still alive.
    Alive,
    /// The connection is finished and no stream is attached: the caller releases it.
    Release,
}

/// Most input bytes buffered ahead of h2 (h2 reads them frame by frame).
const RX_LIMIT: usize = 65536;
/// Most output bytes h2 may queue before it must wait for the socket.
const TX_LIMIT: usize = 262144;
/// Bound of the receive/process/send rounds of one run (the rest waits for the next wake).
const MAX_ROUNDS: usize = 16;

/// The preface a client sends first (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Turns the front connection `cid` into an HTTP/2 one: `bind ... proto h2` at accept, or an
/// HTTP/1 connection whose first bytes are the preface (upstream's mux upgrade). Bytes
/// already received are handed to h2.
pub fn h2_init_front(w: &mut World, ev: &mut Ev, cid: ConnId) {
    let t = w.sh.global.tune_h2;
    let bufsize = w.sh.global.bufsize;
    let c = &mut w.conns[cid];
    let io = H2c::new_io(TX_LIMIT);
    io.0.borrow_mut().ibuf = std::mem::take(&mut c.ibuf);
    let mut b = h2::server::Builder::new();
    // as upstream, only the settings that differ from the protocol's defaults are sent
    b.max_concurrent_streams(t.max_concurrent_streams)
        // a header list must fit in a buffer, as upstream's HTX (advertised: h2 enforces
        // only what it announces, and a list up to 16 MB must not be buffered)
        .max_header_list_size(bufsize as u32)
        .max_send_buffer_size(bufsize);
    if t.initial_window_size != 65535 {
        b.initial_window_size(t.initial_window_size);
    }
    if t.header_table_size != 4096 {
        b.header_table_size(t.header_table_size);
    }
    if t.max_frame_size != 16384 {
        b.max_frame_size(t.max_frame_size);
    }
    let hs = b.handshake::<_, Bytes>(io.clone());
    let waker = ev.waker(c.task);
    c.expire = hrs_ev::TICK_ETERNITY;
    c.mux = Mux::H2(Box::new(H2c::new(
        H2State::SrvHandshake(Box::pin(hs)),
        io,
        waker,
    )));
    ev.wakeup(c.task, WakeReason::IO);
}

/// Installs the HTTP/2 client mux on the new backend connection `cid` (`server ... proto
/// h2`); the preface is written once the TCP connection is established. `max_reuse` is the
/// server's `max-reuse` (-1: unlimited).
pub fn h2_init_back(w: &mut World, ev: &mut Ev, cid: ConnId, max_reuse: i64) {
    let peer_max = w.sh.global.tune_h2.max_concurrent_streams;
    let c = &mut w.conns[cid];
    let io = H2c::new_io(TX_LIMIT);
    let mut h2c = H2c::new(H2State::CliConnecting, io, ev.waker(c.task));
    h2c.max_reuse = max_reuse;
    h2c.peer_max_streams = peer_max;
    c.mux = Mux::H2(Box::new(h2c));
}

/// The I/O callback of an HTTP/2 connection: receive, process, send, until nothing moves.
///
/// `cid` is checked here and never freed during the callback (the caller releases it on
/// `Release`), so the functions below index it directly; the stream handles its entries
/// hold go through `live`.
///
/// # Errors
/// [`Stale`]: `cid`, or a stream handle it holds, is not live (a lifecycle bug): the caller
/// ends the connection.
pub fn h2_io_cb(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H2Outcome, Stale> {
    let c = w.conns.live_mut(cid)?;
    if c.side == Side::Back && c.has(co_fl::WAIT_L4_CONN) {
        match crate::sock::conn_check_connect(c, ev) {
            None => return Ok(H2Outcome::Alive),
            Some(ok) => {
                wake_all(w, ev, cid)?;
                if !ok {
                    return finish(w, ev, cid);
                }
            }
        }
    }
    for _ in 0..MAX_ROUNDS {
        let got = h2_recv(w, ev, cid) > 0;
        // runs until nothing moves, so another round is needed only for new input
        match w.conns[cid].side {
            Side::Front => h2_front_process(w, ev, cid)?,
            Side::Back => h2_back_process(w, ev, cid)?,
        }
        // inside the loop, send only when h2 waits for room: the frames of every stream
        // then leave together in the one send below (upstream's h2_send after h2_process)
        let mut room = false;
        if h2c_of(&mut w.conns[cid]).io.0.borrow().want_tx {
            room = h2_send(w, ev, cid);
        }
        // more input waits when the receive stopped at the buffer's limit
        let c = &w.conns[cid];
        let more_input = got && c.fd.is_some_and(|fd| ev.fd_recv_ready(fd));
        if !room && !more_input {
            break;
        }
    }
    h2_send(w, ev, cid);
    finish(w, ev, cid)
}

/// The H2 context of `c`. Precondition: the mux is HTTP/2.
fn h2c_of(c: &mut Connection) -> &mut H2c {
    match &mut c.mux {
        Mux::H2(h) => h,
        _ => unreachable!("mux_h2 called on a connection without an h2 mux"),
    }
}

/// Receives into the mux's input buffer; socket EOF and errors are reported to h2 through
/// the buffer flags, which the processing pass that follows sees (h2 finds the end once the
/// buffer is drained). Returns the number of bytes received.
fn h2_recv(w: &mut World, ev: &mut Ev, cid: ConnId) -> usize {
    let c = &mut w.conns[cid];
    if !c.has(co_fl::CONNECTED) {
        return 0;
    }
    let io = h2c_of(c).io.clone();
    let mut b = io.0.borrow_mut();
    b.compact_in();
    let n = conn_recv_buf(c, ev, &mut b.ibuf, RX_LIMIT);
    b.eof |= c.has(co_fl::SOCK_RD_SH);
    b.err |= c.has(co_fl::ERROR);
    n
}

/// Sends the mux's output buffer. Returns true when h2 was waiting for room and got some.
fn h2_send(w: &mut World, ev: &mut Ev, cid: ConnId) -> bool {
    let c = &mut w.conns[cid];
    if !c.has(co_fl::CONNECTED) {
        return false;
    }
    let io = h2c_of(c).io.clone();
    let mut b = io.0.borrow_mut();
    let before = b.out_pending();
    let (mut obuf, mut opos) = (std::mem::take(&mut b.obuf), b.opos);
    conn_send_buf(c, ev, &mut obuf, &mut opos);
    b.obuf = obuf;
    b.opos = opos;
    if c.has(co_fl::ERROR) {
        // pitfall 9 of h2-on-mio: a send error must reach h2, or it waits forever; no
        // further round is needed, `finish` fails the connection and its streams
        b.err = true;
        b.obuf.clear();
        b.opos = 0;
        return false;
    }
    if b.shut && b.out_pending() == 0 {
        crate::sock::conn_shutw(c);
    }
    let freed = b.out_pending() < before;
    if freed && b.want_tx {
        b.want_tx = false;
        return true;
    }
    false
}

/// Wakes every stream attached to `cid`.
fn wake_all(w: &World, ev: &mut Ev, cid: ConnId) -> Result<(), Stale> {
    let Mux::H2(h2) = &w.conns.live(cid)?.mux else {
        return Ok(());
    };
    for s in h2.streams.iter().filter_map(|s| s.strm) {
        ev.wakeup(w.streams.live(s)?.task, WakeReason::IO);
    }
    Ok(())
}

/// Ends a run: a failed connection tells its streams; a finished one with no stream left
/// and nothing to send is released.
fn finish(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H2Outcome, Stale> {
    let c = &mut w.conns[cid];
    let side = c.side;
    let failed = c.has(co_fl::ERROR);
    let h2 = h2c_of(c);
    if failed {
        h2.flags |= h2c_fl::ERROR;
    }
    if h2.flags & (h2c_fl::ERROR | h2c_fl::DONE) == 0 {
        return Ok(H2Outcome::Alive);
    }
    // the streams still attached learn it from the connection flags and their channels
    h2.streams.retain(|s| s.strm.is_some());
    let attached: Vec<StrmId> = h2.streams.iter().filter_map(|e| e.strm).collect();
    for &sid in &attached {
        let s = w.streams.live_mut(sid)?;
        mark_stream_failed(s, side);
        ev.wakeup(s.task, WakeReason::IO);
    }
    // a GOAWAY still queued goes out first (on a socket error `h2_send` dropped the output;
    // a peer that never reads is failed by the stream layer's timer, which sets `ERROR`)
    let flushed = h2c_of(&mut w.conns[cid]).io.0.borrow().out_pending() == 0;
    if attached.is_empty() && flushed {
        return Ok(H2Outcome::Release);
    }
    Ok(H2Outcome::Alive)
}

/// Records on stream `s` that its HTTP/2 stream on the `side` connection failed or was reset.
fn mark_stream_failed(s: &mut Stream, side: Side) {
    match side {
        Side::Front => {
            if !s.req.has(cf::EOM) {
                s.req.flags |= cf::SHUTR;
            }
            s.res.flags |= cf::SHUTW;
        }
        Side::Back => {
            if !s.res.has(cf::EOM) {
                s.res.flags |= cf::SHUTR;
            }
            s.txn.flags |= tx::SRV_CLOSE;
        }
    }
}

/// Starts closing the connection with a GOAWAY (`h2c_send_goaway_error` on timeouts and
/// soft stop): at once (`NO_ERROR`, last stream processed) when no stream is attached,
/// else gracefully after the streams in progress. Returns true if something changed.
pub fn h2_shutdown(w: &mut World, ev: &mut Ev, cid: ConnId) -> bool {
    let Some(c) = w.conns.get_mut(cid) else {
        return false;
    };
    let Mux::H2(h2) = &mut c.mux else {
        return false;
    };
    if h2.flags & h2c_fl::GOAWAY_SENT != 0 {
        return false;
    }
    h2.flags |= h2c_fl::GOAWAY_SENT;
    let idle = h2.used_streams() == 0;
    match &mut h2.state {
        H2State::Srv(conn) => {
            if idle && !ev.stopping() {
                // an idle timeout: GOAWAY with the last stream processed, then close
                conn.abrupt_shutdown(h2::Reason::NO_ERROR);
            } else {
                // soft stop or streams in flight: GOAWAY(2^31-1), the streams finish
                conn.graceful_shutdown();
            }
        }
        H2State::SrvHandshake(_) | H2State::CliConnecting | H2State::CliHandshake(_) => {
            h2.state = H2State::Closed;
            h2.flags |= h2c_fl::DONE;
        }
        H2State::Cli { .. } | H2State::Closed => {}
    }
    ev.wakeup(c.task, WakeReason::MSG);
    true
}

// ---------------------------------------------------------------------------------------
// Front side: requests in, responses out.

/// One processing pass of a front connection: handshake, accept new streams, move data,
/// until nothing moves.
fn h2_front_process(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<(), Stale> {
    if ev.stopping() {
        h2_shutdown(w, ev, cid);
    }
    for _ in 0..MAX_ROUNDS {
        let mut accepted = Vec::new();
        let c = &mut w.conns[cid];
        let h2 = h2c_of(c);
        let waker = h2.waker.clone();
        let mut cx = Context::from_waker(&waker);
        if let H2State::SrvHandshake(hs) = &mut h2.state {
            match hs.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(conn)) => h2.state = H2State::Srv(Box::new(conn)),
                Poll::Ready(Err(e)) => {
                    log::debug!(target: "hrs::h2", "handshake failed: {e}");
                    h2.state = H2State::Closed;
                    h2.flags |= h2c_fl::DONE;
                    return Ok(());
                }
                Poll::Pending => return Ok(()),
            }
        }
        let H2State::Srv(conn) = &mut h2.state else {
            return Ok(());
        };
        loop {
            match conn.poll_accept(&mut cx) {
                Poll::Ready(Some(Ok(pair))) => accepted.push(pair),
                Poll::Ready(Some(Err(e))) => {
                    // a GOAWAY (sent or received) or an I/O error: the connection is over
                    log::debug!(target: "hrs::h2", "connection error: {e}");
                    h2.flags |= h2c_fl::DONE;
                    h2.state = H2State::Closed;
                    break;
                }
                Poll::Ready(None) => {
                    h2.flags |= h2c_fl::DONE;
                    h2.state = H2State::Closed;
                    break;
                }
                Poll::Pending => break,
            }
        }
        let got = !accepted.is_empty();
        for (req, respond) in accepted {
            h2_front_new_stream(w, ev, cid, req, respond);
        }
        let moved = h2_front_pump(w, ev, cid)?;
        // frames queued by the pump reach the buffer on the next poll: loop once more
        if !moved && !got {
            break;
        }
    }
    Ok(())
}

/// Converts an HTTP/2 request into a head of ours (`h2_make_htx_request`): method, the URI
/// in absolute form when `:authority` is present (origin form otherwise), `host` from
/// `:authority` placed first and any `host` field dropped, cookie crumbs joined into one
/// field at the end. Returns the head, its framing and flags.
fn h2_to_head(parts: &http::request::Parts, end_stream: bool) -> (HttpHead, BodyLen, MsgFlags) {
    let uri = &parts.uri;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map(|a| a.as_str());
    let full;
    let uri_text: &str = if path == "*" {
        path
    } else if parts.method == http::Method::CONNECT {
        // its `:authority` (a CONNECT without one is refused before, `h2_req_refused`)
        authority.unwrap_or(path)
    } else if let (Some(a), Some(sch)) = (authority, uri.scheme_str()) {
        full = format!("{sch}://{a}{path}");
        &full
    } else {
        path
    };
    let mut head = HttpHead::request(
        parts.method.as_str().as_bytes(),
        uri_text.as_bytes(),
        Version::Http2,
        256,
    );
    head.reserve_headers(parts.headers.len() + 1);
    if let Some(a) = authority {
        head.add_header(b"host", a.as_bytes());
    }
    let mut flags = MsgFlags {
        ver11: true,
        ..Default::default()
    };
    let mut cookie: Option<Vec<u8>> = None;
    let mut clen: Option<u64> = None;
    for (name, value) in &parts.headers {
        let n = name.as_str().as_bytes();
        let v = value.as_bytes();
        match n {
            b"host" if authority.is_some() => continue,
            b"cookie" => {
                let ck = cookie.get_or_insert_with(Vec::new);
                if !ck.is_empty() {
                    ck.extend_from_slice(b"; ");
                }
                ck.extend_from_slice(v);
                continue;
            }
            b"content-length" => {
                clen = std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| t.trim().parse().ok());
                flags.has_cl = clen.is_some();
            }
            b"expect" if v.eq_ignore_ascii_case(b"100-continue") => flags.expect_100 = true,
            _ => {}
        }
        head.add_header(n, v);
    }
    if let Some(ck) = cookie {
        head.add_header(b"cookie", &ck);
    }
    let body = if end_stream {
        BodyLen::None
    } else if let Some(n) = clen {
        BodyLen::Len(n)
    } else {
        // unknown length: an HTTP/1 server gets it chunked
        BodyLen::Chunked
    };
    (head, body, flags)
}

/// Checks what upstream refuses and the h2 crate does not: CONNECT without `:authority`.
/// (The h2 crate itself refuses invalid or conflicting `content-length` values, with a
/// RST_STREAM where upstream also closes the connection: pinned in tests/h2_conformance.rs.)
fn h2_req_refused(parts: &http::request::Parts) -> bool {
    parts.method == http::Method::CONNECT && parts.uri.authority().is_none()
}

/// A request stream was accepted on front connection `cid`: creates our stream for it.
fn h2_front_new_stream(
    w: &mut World,
    ev: &mut Ev,
    cid: ConnId,
    req: http::Request<h2::RecvStream>,
    respond: h2::server::SendResponse<Bytes>,
) {
    let (parts, body) = req.into_parts();
    let end_stream = body.is_end_stream();
    if h2_req_refused(&parts) {
        // a malformed request the h2 crate let through (`h2c_dec_hdrs` refuses it)
        let mut respond = respond;
        respond.send_reset(h2::Reason::PROTOCOL_ERROR);
        return;
    }
    let (head, blen, flags) = h2_to_head(&parts, end_stream);
    let id = respond.stream_id().as_u32();
    let Some(sid) = stream_new(w, ev, cid) else {
        return;
    };
    let capture = hrs_core::req_line_wanted();
    // created just above
    let s = &mut w.streams[sid];
    s.req.total += head.wire_len() as u64;
    // every HTTP/2 request counts as a later one (`http_first_req` is 0, reuse "later")
    s.txn.flags |= tx::NOT_FIRST;
    if flags.expect_100 {
        s.txn.flags |= tx::EXPECT_100;
    }
    s.txn.http10 = false;
    s.txn.req_flags = flags;
    s.txn.meth = head.meth();
    if capture {
        s.txn.req_line = format!(
            "{} {} HTTP/2.0",
            String::from_utf8_lossy(head.method()),
            String::from_utf8_lossy(head.uri())
        );
    }
    s.txn.req_body = blen;
    s.txn.req = Some(head);
    let mut e = H2s::new(sid);
    e.id = id;
    if end_stream {
        s.req.flags |= cf::EOM;
        e.flags |= h2s_fl::RX_DONE;
    } else {
        e.rx = Some(body);
    }
    e.respond = Some(respond);
    ev.wakeup(s.task, WakeReason::INIT);
    let h2 = h2c_of(&mut w.conns[cid]);
    h2.streams.push(e);
    h2.nb_created += 1;
}

/// Moves data of every front stream: request body in, response head and body out. Returns
/// true when something moved.
fn h2_front_pump(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<bool, Stale> {
    let bufsize = w.sh.global.bufsize;
    let World { conns, streams, .. } = w;
    let c = &mut conns[cid];
    let h2 = h2c_of(c);
    let waker = h2.waker.clone();
    let mut cx = Context::from_waker(&waker);
    let mut progress = false;
    let mut wake = Vec::new();
    for e in &mut h2.streams {
        let Some(sid) = e.strm else { continue };
        let s = streams.live_mut(sid)?;
        let before = (s.req.flags, s.res.flags, s.req.buf.len(), s.res.buf.len());
        front_rx(e, s, &mut cx, bufsize);
        front_tx(e, s, &mut cx, bufsize);
        if (s.req.flags, s.res.flags, s.req.buf.len(), s.res.buf.len()) != before {
            progress = true;
            wake.push((s.task, s.si[1].conn));
        }
    }
    // (entries leave with their stream: `h2_front_detach`)
    for (task, back) in wake {
        ev.wakeup(task, WakeReason::IO);
        if let Some(b) = back {
            ev.wakeup(conns.live(b)?.task, WakeReason::MSG);
        }
    }
    Ok(progress)
}

/// Moves request body bytes of front stream `e` into `s.req` (at most `bufsize` buffered),
/// giving the window back to the client as bytes are taken.
fn front_rx(e: &mut H2s, s: &mut Stream, cx: &mut Context<'_>, bufsize: usize) {
    if e.has(h2s_fl::RX_DONE | h2s_fl::RST) {
        return;
    }
    let Some(rx) = e.rx.as_mut() else { return };
    while s.req.buf.len() < bufsize {
        match rx.poll_data(cx) {
            Poll::Ready(Some(Ok(data))) => {
                let n = data.len();
                s.req.buf.extend_from_slice(&data);
                let _ = rx.flow_control().release_capacity(n);
                s.req.total += n as u64;
                s.req.flags |= cf::ACTIVITY;
            }
            Poll::Ready(Some(Err(err))) => {
                log::debug!(target: "hrs::h2", "stream {} request error: {err}", e.id);
                e.flags |= h2s_fl::RST | h2s_fl::RX_DONE;
                mark_stream_failed(s, Side::Front);
                return;
            }
            Poll::Ready(None) => {
                match rx.poll_trailers(cx) {
                    Poll::Ready(Ok(Some(t))) => s.req.trailers = Some(trailers_of(&t)),
                    Poll::Ready(Ok(None)) => {}
                    Poll::Ready(Err(_)) => {
                        e.flags |= h2s_fl::RST | h2s_fl::RX_DONE;
                        mark_stream_failed(s, Side::Front);
                        return;
                    }
                    Poll::Pending => return,
                }
                e.flags |= h2s_fl::RX_DONE;
                s.req.flags |= cf::EOM;
                e.rx = None;
                return;
            }
            Poll::Pending => return,
        }
    }
}

/// Trailers as a list of (name, value).
fn trailers_of(t: &http::HeaderMap) -> Vec<(Vec<u8>, Vec<u8>)> {
    t.iter()
        .map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2), dropped from messages converted from HTTP/1.
fn h2_forbidden(name: &[u8], value: &[u8]) -> bool {
    match name.len() {
        2 => name.eq_ignore_ascii_case(b"te") && !value.eq_ignore_ascii_case(b"trailers"),
        4 => name.eq_ignore_ascii_case(b"host"),
        7 => name.eq_ignore_ascii_case(b"upgrade"),
        10 => name.eq_ignore_ascii_case(b"connection") || name.eq_ignore_ascii_case(b"keep-alive"),
        16 => name.eq_ignore_ascii_case(b"proxy-connection"),
        17 => name.eq_ignore_ascii_case(b"transfer-encoding"),
        _ => false,
    }
}

/// The fields of `head` as an h2 header map (names lowercased, forbidden ones dropped,
/// invalid ones skipped). The values share one copy of the head's bytes.
fn header_map(head: &HttpHead, keep_host: bool) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(head.hdr_count());
    let (raw, fields) = head.fields_in_buf();
    let shared = Bytes::copy_from_slice(raw);
    for (n, r) in fields {
        let v = &raw[r.clone()];
        if h2_forbidden(n, v) && !(keep_host && n.eq_ignore_ascii_case(b"host")) {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(n),
            http::HeaderValue::from_maybe_shared(shared.slice(r)),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    map
}

/// True when the response to `meth` with `status` carries no body on the wire.
fn bodyless(meth: Meth, status: u16) -> bool {
    meth == Meth::Head || status == 204 || status == 304 || (100..200).contains(&status)
}

/// Sends the response head and body of front stream `e` from `s` as flow control allows.
fn front_tx(e: &mut H2s, s: &mut Stream, cx: &mut Context<'_>, bufsize: usize) {
    if e.has(h2s_fl::RST) {
        return;
    }
    if e.has(h2s_fl::TX_DONE) {
        // a bodyless response ended on HEADERS: what the server still sends is dropped
        s.res.buf.clear();
        if s.res.has(cf::EOM) && !s.res.has(cf::DONE) {
            s.res.flags |= cf::DONE;
        }
        return;
    }
    if !e.has(h2s_fl::HEAD_SENT) {
        if let Some(r) = e.respond.as_mut() {
            if let Poll::Ready(reason) = r.poll_reset(cx) {
                log::debug!(target: "hrs::h2", "stream {} reset by client: {reason:?}", e.id);
                e.flags |= h2s_fl::RST;
                mark_stream_failed(s, Side::Front);
                return;
            }
        }
        if s.phase != StrmPhase::Forward || s.res.has(cf::HEAD_SENT) {
            return;
        }
        let Some(rsp) = s.txn.rsp.as_ref() else {
            return;
        };
        let Some(respond) = e.respond.as_mut() else {
            return;
        };
        let no_body = bodyless(s.txn.meth, rsp.status);
        let mut r = http::Response::new(());
        *r.status_mut() =
            http::StatusCode::from_u16(rsp.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        *r.headers_mut() = header_map(rsp, false);
        let eos = no_body
            || (s.res.has(cf::EOM)
                && s.res.buf.is_empty()
                && s.res.trailers.is_none()
                && matches!(s.txn.rsp_body, BodyLen::None | BodyLen::Len(0)));
        s.res.total += rsp.wire_len() as u64;
        match respond.send_response(r, eos) {
            Ok(stream) => {
                e.tx = Some(stream);
                e.flags |= h2s_fl::HEAD_SENT;
                s.res.flags |= cf::HEAD_SENT;
            }
            Err(err) => {
                log::debug!(target: "hrs::h2", "stream {} response refused: {err}", e.id);
                e.flags |= h2s_fl::RST;
                mark_stream_failed(s, Side::Front);
                return;
            }
        }
        if eos {
            if no_body {
                s.res.buf.clear();
            }
            if s.res.has(cf::EOM) {
                e.flags |= h2s_fl::TX_DONE;
                s.res.flags |= cf::DONE;
                s.res.buf.clear();
            } else {
                // the body is dropped until the server is done
                e.flags |= h2s_fl::TX_DONE;
            }
            return;
        }
    }
    let Some(tx) = e.tx.as_mut() else { return };
    if !send_body(tx, &mut s.res, cx, bufsize, &mut e.flags) {
        mark_stream_failed(s, Side::Front);
        return;
    }
    if e.has(h2s_fl::TX_DONE) {
        s.res.flags |= cf::DONE;
    }
}

/// Sends the payload of `ch` on `tx` within the capacity h2 grants, then the end of the
/// message (trailers or an empty END_STREAM DATA) once the channel holds its end. Returns
/// false when the stream failed (reset by the peer).
fn send_body(
    tx: &mut h2::SendStream<Bytes>,
    ch: &mut Channel,
    cx: &mut Context<'_>,
    bufsize: usize,
    flags: &mut u8,
) -> bool {
    if let Poll::Ready(reason) = tx.poll_reset(cx) {
        log::debug!(target: "hrs::h2", "stream reset by peer: {reason:?}");
        *flags |= h2s_fl::RST;
        return false;
    }
    while !ch.buf.is_empty() {
        let mut cap = tx.capacity();
        if cap == 0 {
            tx.reserve_capacity(ch.buf.len().min(bufsize));
            match tx.poll_capacity(cx) {
                Poll::Ready(Some(Ok(n))) if n > 0 => cap = n,
                Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    *flags |= h2s_fl::RST;
                    return false;
                }
                _ => return true,
            }
        }
        let n = cap.min(ch.buf.len());
        let last = ch.has(cf::EOM) && n == ch.buf.len() && ch.trailers.is_none();
        let chunk = Bytes::copy_from_slice(&ch.buf[..n]);
        if tx.send_data(chunk, last).is_err() {
            *flags |= h2s_fl::RST;
            return false;
        }
        ch.buf.drain(..n);
        ch.flags |= cf::ACTIVITY;
        if last {
            *flags |= h2s_fl::TX_DONE;
            return true;
        }
    }
    if ch.has(cf::EOM) && ch.buf.is_empty() {
        let r = match ch.trailers.take() {
            Some(t) => {
                let mut map = http::HeaderMap::new();
                for (n, v) in t {
                    if let (Ok(n), Ok(v)) = (
                        http::HeaderName::from_bytes(&n),
                        http::HeaderValue::from_bytes(&v),
                    ) {
                        map.append(n, v);
                    }
                }
                tx.send_trailers(map)
            }
            None => tx.send_data(Bytes::new(), true),
        };
        if r.is_err() {
            *flags |= h2s_fl::RST;
            return false;
        }
        *flags |= h2s_fl::TX_DONE;
    }
    true
}

/// Detaches our stream `sid` from front connection `cid` (`h2_detach`): an HTTP/2 stream
/// whose response was not completely queued is reset (`CANCEL`), the rest finishes on its
/// own. The connection stays for the other streams.
pub fn h2_front_detach(c: &mut Connection, sid: StrmId) {
    let Mux::H2(h2) = &mut c.mux else { return };
    let Some(e) = h2.find(sid) else { return };
    e.strm = None;
    if !e.has(h2s_fl::TX_DONE | h2s_fl::RST) {
        if let Some(tx) = e.tx.as_mut() {
            tx.send_reset(h2::Reason::CANCEL);
        } else if let Some(r) = e.respond.as_mut() {
            r.send_reset(h2::Reason::CANCEL);
        }
        e.flags |= h2s_fl::RST;
    }
    h2.streams
        .retain(|e| e.strm.is_some() || !(e.has(h2s_fl::TX_DONE) || e.has(h2s_fl::RST)));
}

// ---------------------------------------------------------------------------------------
// Back side: requests out, responses in.

/// One processing pass of a back connection: handshake, send the requests of newly
/// attached streams, move bodies, read responses, until nothing moves.
fn h2_back_process(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<(), Stale> {
    let c = &mut w.conns[cid];
    if !c.has(co_fl::CONNECTED) {
        return Ok(());
    }
    let h2 = h2c_of(c);
    let waker = h2.waker.clone();
    let mut cx = Context::from_waker(&waker);
    if matches!(h2.state, H2State::CliConnecting) {
        let mut b = h2::client::Builder::new();
        let t = w.sh.global.tune_h2;
        b.initial_window_size(t.initial_window_size)
            .header_table_size(t.header_table_size)
            .max_frame_size(t.max_frame_size)
            .max_concurrent_streams(t.max_concurrent_streams)
            .max_header_list_size(w.sh.global.bufsize as u32)
            .max_send_buffer_size(w.sh.global.bufsize)
            .enable_push(false);
        let io = h2.io.clone();
        h2.state = H2State::CliHandshake(Box::pin(async move { b.handshake(io).await }));
    }
    if let H2State::CliHandshake(hs) = &mut h2.state {
        match hs.as_mut().poll(&mut cx) {
            Poll::Ready(Ok((send, conn))) => {
                h2.state = H2State::Cli {
                    send,
                    conn: Box::new(conn),
                };
            }
            Poll::Ready(Err(e)) => {
                log::debug!(target: "hrs::h2", "server handshake failed: {e}");
                h2.state = H2State::Closed;
                h2.flags |= h2c_fl::ERROR;
                return Ok(());
            }
            Poll::Pending => return Ok(()),
        }
    }
    // poll (frames in and out), then move the streams' data; until a pump moves nothing,
    // so that what a poll received is always handed over before returning
    for _ in 0..MAX_ROUNDS {
        let c = &mut w.conns[cid];
        let h2 = h2c_of(c);
        let H2State::Cli { conn, send } = &mut h2.state else {
            h2_back_pump(w, ev, cid)?;
            return Ok(());
        };
        match Future::poll(std::pin::Pin::new(&mut **conn), &mut cx) {
            Poll::Ready(Ok(())) => {
                h2.flags |= h2c_fl::DONE;
                h2.state = H2State::Closed;
            }
            Poll::Ready(Err(e)) => {
                // a GOAWAY (the server's, or ours after its GOAWAY once idle) or an I/O
                // error: the connection is over, the streams still attached fail (`finish`)
                log::debug!(target: "hrs::h2", "server connection error: {e}");
                h2.flags |= h2c_fl::DONE;
                h2.state = H2State::Closed;
            }
            Poll::Pending => {
                // the server's SETTINGS_MAX_CONCURRENT_STREAMS once it announced one (h2
                // reports "unlimited" before); until then our own limit, as upstream
                let limit = conn.max_concurrent_send_streams();
                if limit != usize::MAX {
                    h2.peer_max_streams = u32::try_from(limit).unwrap_or(u32::MAX);
                }
                // a GOAWAY from the server forbids new streams at once (RFC 9113 §6.8,
                // upstream's `last_sid`), while the streams in flight finish: h2 tells it
                // by refusing to open one
                if h2.flags & h2c_fl::GOAWAY_RCVD == 0
                    && matches!(send.poll_ready(&mut cx), Poll::Ready(Err(_)))
                {
                    h2.flags |= h2c_fl::GOAWAY_RCVD;
                }
            }
        }
        if !h2_back_pump(w, ev, cid)? {
            break;
        }
    }
    Ok(())
}

/// Converts our request head into an HTTP/2 request (`h2s_bck_make_req_headers`): the
/// authority from the absolute URI or else the `host` field (then dropped), scheme `http`,
/// forbidden fields dropped.
fn head_to_h2(head: &HttpHead) -> http::Request<()> {
    let uri = head.uri();
    let (authority, path): (Option<&[u8]>, &[u8]) = match uri.windows(3).position(|w| w == b"://") {
        Some(i) if !uri.starts_with(b"/") => {
            let rest = &uri[i + 3..];
            let j = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
            (Some(&rest[..j]), &rest[j..])
        }
        _ => (head.first(b"host"), uri),
    };
    let path = if path.is_empty() {
        b"/".as_slice()
    } else {
        path
    };
    let mut b = http::Uri::builder().scheme("http");
    if let Some(a) = authority {
        b = b.authority(a);
    }
    let uri = b
        .path_and_query(path)
        .build()
        .or_else(|_| http::Uri::builder().path_and_query(path).build())
        .unwrap_or_default();
    let mut r = http::Request::new(());
    *r.method_mut() = http::Method::from_bytes(head.method()).unwrap_or(http::Method::GET);
    *r.uri_mut() = uri;
    *r.headers_mut() = header_map(head, false);
    r
}

/// Converts an HTTP/2 response head into ours (`h2_make_htx_response`); framing from
/// `content-length` or END_STREAM, else a body of unknown length (chunked to HTTP/1.1
/// clients).
fn h2_rsp_to_head(
    parts: &http::response::Parts,
    end_stream: bool,
) -> (HttpHead, BodyLen, MsgFlags) {
    let status = parts.status.as_u16();
    let mut head = HttpHead::response(Version::Http2, status, b"", 128);
    head.reserve_headers(parts.headers.len());
    let mut flags = MsgFlags {
        ver11: true,
        ..Default::default()
    };
    let mut clen = None;
    for (n, v) in &parts.headers {
        if n == http::header::CONTENT_LENGTH {
            clen = v.to_str().ok().and_then(|t| t.trim().parse::<u64>().ok());
            flags.has_cl = clen.is_some();
        }
        head.add_header(n.as_str().as_bytes(), v.as_bytes());
    }
    let body = if end_stream {
        BodyLen::None
    } else if let Some(n) = clen {
        BodyLen::Len(n)
    } else {
        BodyLen::Chunked
    };
    (head, body, flags)
}

/// Moves data of every back stream: request head and body out, response head and body in.
fn h2_back_pump(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<bool, Stale> {
    let bufsize = w.sh.global.bufsize;
    let World { conns, streams, .. } = w;
    let c = &mut conns[cid];
    let h2 = h2c_of(c);
    let waker = h2.waker.clone();
    let mut cx = Context::from_waker(&waker);
    // once the connection object finished (GOAWAY, close), no stream opens, but what it
    // received before is still handed over: the last response often comes with the close
    let mut send = match &mut h2.state {
        H2State::Cli { send, .. } => Some(send),
        _ => None,
    };
    let mut progress = false;
    let mut wake = Vec::new();
    // new streams open while the server's concurrency limit allows; the others still move
    let mut can_open = true;
    for e in &mut h2.streams {
        let Some(sid) = e.strm else { continue };
        let s = streams.live_mut(sid)?;
        let before = (
            s.req.flags,
            s.res.flags,
            s.req.buf.len(),
            s.res.buf.len(),
            s.txn.rsp.is_some(),
        );
        // (an entry is new with each attach: a retried request is sent again; one that
        // could not open is not tried again on this connection)
        if !e.has(h2s_fl::HEAD_SENT | h2s_fl::RST) {
            let Some(req) = s.txn.req.as_ref() else {
                continue;
            };
            let Some(send) = send.as_mut().filter(|_| can_open) else {
                continue;
            };
            match send.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    log::debug!(target: "hrs::h2", "cannot open a stream: {err}");
                    e.flags |= h2s_fl::RST;
                    mark_stream_failed(s, Side::Back);
                    wake.push((s.task, None));
                    continue;
                }
                Poll::Pending => {
                    can_open = false;
                    continue;
                }
            }
            let r = head_to_h2(req);
            let eos = s.req.has(cf::EOM) && s.req.buf.is_empty() && s.req.trailers.is_none();
            s.txn.flags &= !tx::L7_RETRY;
            match send.send_request(r, eos) {
                Ok((rsp, stream)) => {
                    e.id = stream.stream_id().as_u32();
                    e.rsp = Some(rsp);
                    e.tx = Some(stream);
                    e.flags |= h2s_fl::HEAD_SENT;
                    s.req.flags |= cf::HEAD_SENT;
                    if eos {
                        e.flags |= h2s_fl::TX_DONE;
                        s.req.flags |= cf::DONE;
                    }
                }
                Err(err) => {
                    log::debug!(target: "hrs::h2", "request refused: {err}");
                    e.flags |= h2s_fl::RST;
                    mark_stream_failed(s, Side::Back);
                    wake.push((s.task, None));
                    continue;
                }
            }
        }
        // request body
        if !e.has(h2s_fl::TX_DONE | h2s_fl::RST) {
            if let Some(txs) = e.tx.as_mut() {
                if !send_body(txs, &mut s.req, &mut cx, bufsize, &mut e.flags) {
                    mark_stream_failed(s, Side::Back);
                }
                if e.has(h2s_fl::TX_DONE) {
                    s.req.flags |= cf::DONE;
                }
            }
        }
        // response head
        if !e.has(h2s_fl::RSP_HEAD | h2s_fl::RST) {
            if let Some(rf) = e.rsp.as_mut() {
                match Future::poll(std::pin::Pin::new(rf), &mut cx) {
                    Poll::Ready(Ok(rsp)) => {
                        let (parts, body) = rsp.into_parts();
                        let end = body.is_end_stream();
                        let (head, blen, flags) = h2_rsp_to_head(&parts, end);
                        s.txn.status = head.status;
                        s.txn.rsp_flags = flags;
                        s.txn.rsp_body = blen;
                        s.txn.rsp = Some(head);
                        e.flags |= h2s_fl::RSP_HEAD;
                        e.rsp = None;
                        if end {
                            e.flags |= h2s_fl::RX_DONE;
                            s.res.flags |= cf::EOM;
                        } else {
                            e.rx = Some(body);
                        }
                    }
                    Poll::Ready(Err(err)) => {
                        log::debug!(target: "hrs::h2", "stream {} failed: {err}", e.id);
                        e.flags |= h2s_fl::RST;
                        e.rsp = None;
                        mark_stream_failed(s, Side::Back);
                    }
                    Poll::Pending => {}
                }
            }
        }
        // response body
        if e.has(h2s_fl::RSP_HEAD) && !e.has(h2s_fl::RX_DONE | h2s_fl::RST) {
            if let Some(rx) = e.rx.as_mut() {
                while s.res.buf.len() < bufsize {
                    match rx.poll_data(&mut cx) {
                        Poll::Ready(Some(Ok(data))) => {
                            let n = data.len();
                            s.res.buf.extend_from_slice(&data);
                            let _ = rx.flow_control().release_capacity(n);
                            s.res.total += n as u64;
                            s.res.flags |= cf::ACTIVITY;
                        }
                        Poll::Ready(Some(Err(_))) => {
                            e.flags |= h2s_fl::RST;
                            mark_stream_failed(s, Side::Back);
                            break;
                        }
                        Poll::Ready(None) => {
                            if let Poll::Ready(Ok(Some(t))) = rx.poll_trailers(&mut cx) {
                                s.res.trailers = Some(trailers_of(&t));
                            }
                            e.flags |= h2s_fl::RX_DONE;
                            s.res.flags |= cf::EOM;
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
            }
            if e.has(h2s_fl::RX_DONE) {
                e.rx = None;
            }
        }
        let after = (
            s.req.flags,
            s.res.flags,
            s.req.buf.len(),
            s.res.buf.len(),
            s.txn.rsp.is_some(),
        );
        if after != before {
            // (room made in the request channel: the client side may receive again)
            progress = true;
            wake.push((s.task, s.si[0].conn));
        }
    }
    for (task, other) in wake {
        ev.wakeup(task, WakeReason::IO);
        if let Some(o) = other {
            ev.wakeup(conns.live(o)?.task, WakeReason::MSG);
        }
    }
    Ok(progress)
}

/// Detaches our stream `sid` from back connection `cid` (`h2_detach`): a stream whose
/// exchange did not complete is reset (`CANCEL`): dropping our handles of an HTTP/2 stream
/// that is not closed yet makes the h2 crate reset it (its implicit reset), a complete one
/// is left alone. Returns the number of our streams still attached.
pub fn h2_back_detach(c: &mut Connection, sid: StrmId) -> u32 {
    let Mux::H2(h2) = &mut c.mux else { return 0 };
    h2.streams.retain(|e| e.strm != Some(sid));
    h2.used_streams()
}

/// True when the mux of `c` is HTTP/2 and still accepts requests (used by the stream layer
/// to keep a shared connection when one of its streams ends).
pub fn h2_usable(c: &Connection) -> bool {
    match &c.mux {
        Mux::H2(h2) => {
            h2.flags & (h2c_fl::ERROR | h2c_fl::DONE) == 0
                && !matches!(h2.state, H2State::Closed)
                && !c.has(co_fl::ERROR | co_fl::SOCK_RD_SH)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str, hdrs: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (n, v) in hdrs {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn fields(h: &HttpHead) -> Vec<(String, String)> {
        h.headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn authority_wins_over_host_and_comes_first() {
        let p = req(
            "GET",
            "http://a.example/p?q=1",
            &[("user-agent", "t"), ("host", "b.example")],
        );
        let (h, body, flags) = h2_to_head(&p, true);
        assert_eq!(h.uri(), b"http://a.example/p?q=1");
        assert_eq!(h.path(), b"/p");
        assert_eq!(
            fields(&h),
            vec![
                ("host".into(), "a.example".into()),
                ("user-agent".into(), "t".into())
            ]
        );
        assert_eq!(body, BodyLen::None);
        assert!(flags.ver11 && !flags.has_cl);
        assert_eq!(h.version, Version::Http2);
    }

    #[test]
    fn no_authority_keeps_host_and_origin_form() {
        let p = req("GET", "/x", &[("host", "h")]);
        let (h, _, _) = h2_to_head(&p, true);
        assert_eq!(h.uri(), b"/x");
        assert_eq!(fields(&h), vec![("host".into(), "h".into())]);
    }

    #[test]
    fn body_framing_from_content_length_or_unknown() {
        let p = req("POST", "http://a/", &[("content-length", "12")]);
        let (_, body, flags) = h2_to_head(&p, false);
        assert_eq!(body, BodyLen::Len(12));
        assert!(flags.has_cl);
        let p = req("POST", "http://a/", &[]);
        let (_, body, _) = h2_to_head(&p, false);
        assert_eq!(body, BodyLen::Chunked, "unknown length goes out chunked");
    }

    #[test]
    fn cookie_crumbs_are_joined_at_the_end() {
        let p = req(
            "GET",
            "http://a/",
            &[("cookie", "a=1"), ("x", "y"), ("cookie", "b=2")],
        );
        let (h, _, _) = h2_to_head(&p, true);
        assert_eq!(
            fields(&h),
            vec![
                ("host".into(), "a".into()),
                ("x".into(), "y".into()),
                ("cookie".into(), "a=1; b=2".into())
            ]
        );
    }

    #[test]
    fn request_to_h2_takes_authority_and_drops_forbidden_fields() {
        let mut h = HttpHead::request(b"GET", b"/p?x", Version::Http11, 64);
        h.add_header(b"Host", b"srv.example");
        h.add_header(b"Connection", b"keep-alive");
        h.add_header(b"TE", b"gzip");
        h.add_header(b"X-A", b"1");
        let r = head_to_h2(&h);
        assert_eq!(r.uri().to_string(), "http://srv.example/p?x");
        let names: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["x-a"]);
        // an absolute URI gives the authority
        let h = HttpHead::request(b"GET", b"http://a.example/z", Version::Http2, 64);
        assert_eq!(head_to_h2(&h).uri().to_string(), "http://a.example/z");
        // an origin form that contains "://" stays one
        let mut h = HttpHead::request(b"GET", b"/r?u=http://x/y", Version::Http11, 64);
        h.add_header(b"host", b"h.example");
        assert_eq!(
            head_to_h2(&h).uri().to_string(),
            "http://h.example/r?u=http://x/y"
        );
    }

    #[test]
    fn response_framing_from_h2() {
        let p = http::Response::builder()
            .status(200)
            .header("content-length", "5")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let (h, body, flags) = h2_rsp_to_head(&p, false);
        assert_eq!((h.status, body, flags.has_cl), (200, BodyLen::Len(5), true));
        let (_, body, _) = h2_rsp_to_head(&p, true);
        assert_eq!(body, BodyLen::None);
        let p = http::Response::builder()
            .status(404)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert_eq!(h2_rsp_to_head(&p, false).1, BodyLen::Chunked);
    }

    #[test]
    fn forbidden_fields() {
        for n in [
            "connection",
            "Keep-Alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
            "host",
        ] {
            assert!(h2_forbidden(n.as_bytes(), b"x"), "{n}");
        }
        assert!(h2_forbidden(b"te", b"gzip"));
        assert!(!h2_forbidden(b"te", b"trailers"));
        assert!(!h2_forbidden(b"x-connection", b"x"));
    }
}
