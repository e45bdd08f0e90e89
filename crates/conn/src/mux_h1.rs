//! The HTTP/1 mux (HAProxy's `mux_h1.c`): parses messages from `ibuf` into the attached
//! stream and formats the stream's messages into `obuf`.
//!
//! One stream at a time per connection. On the front side a stream is created when a request
//! head is complete ([`hrs_core::stream_new`]); pipelined requests wait in `ibuf` until the
//! stream ends. On the back side the stream is attached by `connect_server`. Bodies are moved
//! between `ibuf`/`obuf` and the stream's channels, de-framed on input and re-framed on
//! output, never more than `tune.bufsize` bytes per channel (back-pressure: the mux stops
//! receiving while the channel is full and the consumer wakes it once it drained).
//!
//! What the mux may touch: its connection, the attached stream's channels, transaction and
//! flags; it wakes the stream's task when the stream has something new to look at.
//!
//! Handles: the connection's own `cid` is checked once by [`h1_io_cb`] and stays live for
//! the whole callback (the mux never frees its connection: the caller does, on `Release`),
//! so it is indexed directly. Handles read from objects (`c.strm`, the stream's `si[0]`)
//! go through `live`/`live_mut`: a stale one is a lifecycle bug, returned as [`Stale`] so
//! that the caller ends this connection alone.

use crate::sock::{conn_recv, conn_send, conn_set_linger0, conn_shutw};
use hrs_cfg::model::HttpConnMode;
use hrs_core::{
    cf, co_fl, stream_new, tx, BodyRx, ConnId, Connection, Ev, H1Rx, H1Tx, Mux, Side, StrmId,
    StrmPhase, World,
};
use hrs_ev::WakeReason;
use hrs_http::h1::{
    self, ConnMode, H1Limits, H1Msg, HttpMode, OutPlan, Parsed, RequestOut, ResponseOut,
};
use hrs_http::msg::BodyLen;
use hrs_list::Stale;

/// What happened to the connection during an I/O callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H1Outcome {
    /// Still alive.
    Alive,
    /// The connection must be released by the caller (no stream is attached).
    Release,
}

/// Wakes a stream's task.
fn wake_strm(w: &World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    ev.wakeup(w.streams.live(sid)?.task, WakeReason::IO);
    Ok(())
}

/// Wakes the task of a connection held by the stream (its other side).
fn wake_conn(w: &World, ev: &mut Ev, cid: Option<ConnId>) -> Result<(), Stale> {
    if let Some(cid) = cid {
        ev.wakeup(w.conns.live(cid)?.task, WakeReason::MSG);
    }
    Ok(())
}

/// Limits of a head, from `tune.bufsize` and `tune.maxrewrite`.
pub fn limits(w: &World) -> H1Limits {
    H1Limits::new(
        w.sh.global.bufsize,
        w.sh.global.maxrewrite,
        w.sh.global.maxhdr,
    )
}

/// A proxy's `option http-keep-alive|http-server-close|httpclose` as the H1 layer sees it.
fn http_mode(m: HttpConnMode) -> HttpMode {
    match m {
        HttpConnMode::KeepAlive => HttpMode::KeepAlive,
        HttpConnMode::ServerClose => HttpMode::ServerClose,
        HttpConnMode::Close => HttpMode::Close,
    }
}

/// The receiving state after a head announcing `body`; chunk errors answer `err_status`
/// (400 on requests, 502 on responses) and trailers obey the configured limits.
fn rx_for_body(body: BodyLen, err_status: u16, lim: H1Limits) -> H1Rx {
    match body {
        BodyLen::None | BodyLen::Len(0) => H1Rx::Done,
        BodyLen::Len(n) => H1Rx::Body(BodyRx::Len(n)),
        BodyLen::Chunked => H1Rx::Body(BodyRx::Chunked(Box::new(h1::ChunkDecoder::with_limits(
            err_status, lim,
        )))),
        BodyLen::UntilClose => H1Rx::Body(BodyRx::UntilClose),
    }
}

/// The sending state that follows a head written with `plan`. The plans of `hrs-http` are
/// chunked exactly when their body is [`BodyLen::Chunked`] (a chunked body of a CONNECT or a
/// bodyless response is `None`).
fn tx_of(plan: &OutPlan) -> H1Tx {
    match plan.body {
        BodyLen::None | BodyLen::Len(0) => H1Tx::Done,
        BodyLen::Len(n) => H1Tx::Len(n),
        BodyLen::UntilClose => H1Tx::UntilClose,
        BodyLen::Chunked => H1Tx::Chunked,
    }
}

/// The I/O callback of an H1 connection (`h1_io_cb`): receive, process, send, in that order.
/// Returns [`H1Outcome::Release`] when the connection is finished and has no stream.
///
/// # Errors
/// [`Stale`]: `cid`, or the stream it is attached to, is not live (a lifecycle bug): the
/// caller ends the connection.
pub fn h1_io_cb(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H1Outcome, Stale> {
    let c = w.conns.live(cid)?;
    match c.side {
        Side::Front => h1_front(w, ev, cid),
        Side::Back => h1_back(w, ev, cid),
    }
}

// ---------------------------------------------------------------------------------------
// Front side: requests in, responses out.

fn h1_front(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H1Outcome, Stale> {
    let bufsize = w.sh.global.bufsize;
    for _ in 0..8 {
        let mut progress = false;
        // receive when a head is expected or the body has room
        let want = {
            let c = &w.conns[cid];
            let h1 = match &c.mux {
                Mux::H1(h) => h,
                Mux::Pt | Mux::H2(_) => return Ok(H1Outcome::Alive),
            };
            match (&h1.rx, c.strm) {
                (H1Rx::Idle | H1Rx::Head, strm) => strm.is_none(),
                (H1Rx::Body(_), Some(sid)) => w.streams.live(sid)?.req.buf.len() < bufsize,
                (H1Rx::Body(_), None) | (H1Rx::Done | H1Rx::Closed, _) => false,
            }
        };
        if want {
            let c = &mut w.conns[cid];
            let n = conn_recv(c, ev, bufsize);
            progress |= n > 0;
        }
        progress |= h1_front_input(w, ev, cid)?;
        progress |= h1_front_output(w, ev, cid)?;
        let c = &mut w.conns[cid];
        let before = c.out_pending();
        conn_send(c, ev);
        progress |= c.out_pending() != before;
        if !progress {
            break;
        }
    }
    h1_front_finish(w, ev, cid)
}

/// Decides whether the front connection is done (closing after an error reply, client gone).
fn h1_front_finish(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H1Outcome, Stale> {
    let c = &mut w.conns[cid];
    if let Some(sid) = c.strm {
        // a stream is attached: tell it about errors and closes, it decides
        if c.has(co_fl::ERROR) || c.has(co_fl::SOCK_RD_SH) {
            let error = c.has(co_fl::ERROR);
            let s = w.streams.live_mut(sid)?;
            let before = s.req.flags;
            if !s.req.has(cf::EOM) {
                s.req.flags |= cf::SHUTR;
            }
            if error {
                s.res.flags |= cf::SHUTW;
            }
            if s.req.flags != before || error {
                wake_strm(w, ev, sid)?;
            }
        }
        return Ok(H1Outcome::Alive);
    }
    if c.has(co_fl::ERROR) {
        return Ok(H1Outcome::Release);
    }
    if c.has(co_fl::CLOSE_AFTER_SEND) {
        if c.out_empty() {
            conn_shutw(c);
            return Ok(H1Outcome::Release);
        }
        return Ok(H1Outcome::Alive);
    }
    let idle = matches!(c.mux, Mux::H1(ref h) if matches!(h.rx, H1Rx::Idle | H1Rx::Head));
    if idle && c.has(co_fl::SOCK_RD_SH) && c.out_empty() {
        // the client left between requests
        return Ok(H1Outcome::Release);
    }
    Ok(H1Outcome::Alive)
}

/// Parses the next request head or moves body bytes into the stream. Returns true on progress.
fn h1_front_input(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<bool, Stale> {
    let lim = limits(w);
    let bufsize = w.sh.global.bufsize;
    let c = &mut w.conns[cid];
    let Mux::H1(h1) = &mut c.mux else {
        return Ok(false);
    };
    match &mut h1.rx {
        H1Rx::Idle | H1Rx::Head => {
            if c.strm.is_some() || c.ibuf.is_empty() || c.flags & co_fl::CLOSE_AFTER_SEND != 0 {
                return Ok(false);
            }
            if h1.req_count == 0 && !h1.no_upg {
                // the HTTP/2 preface on an HTTP/1 listener: the connection upgrades
                let pre = crate::mux_h2::H2_PREFACE;
                let n = c.ibuf.len().min(pre.len());
                if c.ibuf[..n] == pre[..n] {
                    if n == pre.len() {
                        crate::mux_h2::h2_init_front(w, ev, cid);
                        return Ok(true);
                    }
                    if c.flags & co_fl::SOCK_RD_SH == 0 {
                        return Ok(false);
                    }
                } else if c.ibuf.len() >= pre.len() && c.ibuf.starts_with(b"PRI * HTTP/2.0\r\n") {
                    // a broken preface is not an HTTP/1 request
                    return Ok(h1_front_error(w, ev, cid, 400));
                }
            }
            match h1::parse_request(&c.ibuf, &lim) {
                Ok(Parsed::Incomplete) => {
                    h1.rx = H1Rx::Head;
                    if c.flags & co_fl::SOCK_RD_SH != 0 {
                        // truncated head: upstream answers 400 on a partial request
                        return Ok(h1_front_error(w, ev, cid, 400));
                    }
                    Ok(false)
                }
                Ok(Parsed::Done { msg, consumed }) => {
                    c.ibuf.drain(..consumed);
                    h1.req_count += 1;
                    let body = msg.body;
                    let flags = msg.flags;
                    h1.rx = rx_for_body(body, 400, lim);
                    let done = matches!(h1.rx, H1Rx::Done);
                    if h1::client_mode_on_request(&msg, ev.stopping()) != ConnMode::KeepAlive {
                        h1.want_close = true;
                    }
                    let first = h1.req_count == 1;
                    c.expire = hrs_ev::TICK_ETERNITY;
                    h1.tmo_head = false;
                    ev.task_set_expire(c.task, hrs_ev::TICK_ETERNITY);
                    let Some(sid) = stream_new(w, ev, cid) else {
                        // no session (cannot happen for a front connection): drop it
                        w.conns[cid].flags |= co_fl::ERROR;
                        return Ok(true);
                    };
                    let capture = hrs_core::req_line_wanted();
                    // created just above
                    let s = &mut w.streams[sid];
                    s.req.total += consumed as u64;
                    if !first {
                        s.txn.flags |= tx::NOT_FIRST;
                    }
                    if flags.cl_and_te {
                        s.txn.flags |= tx::NO_REUSE;
                    }
                    if flags.expect_100 {
                        s.txn.flags |= tx::EXPECT_100;
                    }
                    s.txn.http10 = !flags.ver11;
                    s.txn.req_flags = flags;
                    s.txn.meth = msg.head.meth();
                    if capture {
                        s.txn.req_line = format!(
                            "{} {} {}",
                            String::from_utf8_lossy(msg.head.method()),
                            String::from_utf8_lossy(msg.head.uri()),
                            msg.head.version.as_str()
                        );
                    }
                    s.txn.req_body = body;
                    s.txn.req = Some(msg.head);
                    if done {
                        s.req.flags |= cf::EOM;
                    }
                    wake_strm(w, ev, sid)?;
                    Ok(true)
                }
                Err(e) => {
                    let status = e.status;
                    Ok(h1_front_error(w, ev, cid, status))
                }
            }
        }
        H1Rx::Body(_) => {
            let Some(sid) = c.strm else { return Ok(false) };
            let s = w.streams.live_mut(sid)?;
            match body_rx(c, &mut s.req.buf, &mut s.req.trailers, bufsize) {
                Ok((moved, done)) => {
                    if moved > 0 {
                        s.req.total += moved as u64;
                        s.req.flags |= cf::ACTIVITY;
                    }
                    if done {
                        s.req.flags |= cf::EOM;
                        if let Mux::H1(h1) = &mut c.mux {
                            h1.rx = H1Rx::Done;
                        }
                    }
                    if moved > 0 || done {
                        wake_strm(w, ev, sid)?;
                        return Ok(true);
                    }
                    Ok(false)
                }
                Err(status) => {
                    // a framing error in the body: like upstream's mux, answer the error
                    // page itself (unless a response already started) and close; the
                    // stream aborts
                    if let Mux::H1(h1) = &mut c.mux {
                        h1.rx = H1Rx::Closed;
                        h1.want_close = true;
                    }
                    c.ibuf.clear();
                    if !s.res.has(cf::HEAD_SENT) {
                        c.obuf
                            .extend_from_slice(hrs_http::errors::error_page(status));
                        s.res.flags |= cf::HEAD_SENT;
                    }
                    c.flags |= co_fl::CLOSE_AFTER_SEND;
                    s.req.flags |= cf::SHUTR;
                    s.txn.status = status;
                    s.txn.flags |= tx::CLI_CLOSE;
                    wake_strm(w, ev, sid)?;
                    Ok(true)
                }
            }
        }
        H1Rx::Done | H1Rx::Closed => Ok(false),
    }
}

/// Answers a parse error on the front connection with upstream's error page and closes.
fn h1_front_error(w: &mut World, _ev: &mut Ev, cid: ConnId, status: u16) -> bool {
    let c = &mut w.conns[cid];
    if let Mux::H1(h1) = &mut c.mux {
        h1.rx = H1Rx::Closed;
    }
    c.ibuf.clear();
    c.obuf
        .extend_from_slice(hrs_http::errors::error_page(status));
    c.flags |= co_fl::CLOSE_AFTER_SEND;
    conn_set_linger0(c);
    let px = c.px;
    if let Some(p) = w.sh.proxies.get(px) {
        p.counters.failed_req.inc();
    }
    true
}

/// Moves body bytes of the message being received from `c.ibuf` into `dst` (at most up to
/// `cap` bytes in `dst`). Returns the payload bytes moved and whether the message is complete,
/// or the status to answer on a framing error.
fn body_rx(
    c: &mut Connection,
    dst: &mut Vec<u8>,
    trailers: &mut Option<Vec<(Vec<u8>, Vec<u8>)>>,
    cap: usize,
) -> Result<(usize, bool), u16> {
    let closed = c.has(co_fl::SOCK_RD_SH);
    let Mux::H1(h1) = &mut c.mux else {
        return Ok((0, false));
    };
    let H1Rx::Body(b) = &mut h1.rx else {
        return Ok((0, false));
    };
    let room = cap.saturating_sub(dst.len());
    match b {
        BodyRx::Len(left) => {
            let n = (*left).min(c.ibuf.len() as u64).min(room as u64) as usize;
            dst.extend_from_slice(&c.ibuf[..n]);
            c.ibuf.drain(..n);
            *left -= n as u64;
            Ok((n, *left == 0))
        }
        BodyRx::UntilClose => {
            let n = c.ibuf.len().min(room);
            dst.extend_from_slice(&c.ibuf[..n]);
            c.ibuf.drain(..n);
            Ok((n, closed && c.ibuf.is_empty()))
        }
        BodyRx::Chunked(dec) => {
            if room == 0 {
                return Ok((0, false));
            }
            let before = dst.len();
            // feed at most what fits; the decoder may emit less than it consumes
            let take = c.ibuf.len().min(room);
            let step = dec.decode(&c.ibuf[..take], dst).map_err(|e| e.status)?;
            c.ibuf.drain(..step.consumed);
            if step.done {
                *trailers = dec.trailers();
            }
            Ok((dst.len() - before, step.done))
        }
    }
}

/// Formats the response head and moves response body bytes from the stream into `obuf`.
fn h1_front_output(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<bool, Stale> {
    let bufsize = w.sh.global.bufsize;
    let c = &mut w.conns[cid];
    let Some(sid) = c.strm else { return Ok(false) };
    let s = w.streams.live_mut(sid)?;
    let Mux::H1(h1) = &mut c.mux else {
        return Ok(false);
    };
    if c.obuf.len().saturating_sub(c.opos) >= bufsize {
        return Ok(false);
    }
    let mut progress = false;
    if h1.tx == H1Tx::Idle {
        // the response leaves once the response analysers let it go (rules run, phase
        // `Forward`), whatever woke the connection earlier (an interim response, room)
        if s.phase != StrmPhase::Forward {
            return Ok(false);
        }
        let Some(rsp) = s.txn.rsp.as_mut() else {
            return Ok(false);
        };
        if !s.res.has(cf::HEAD_SENT) {
            let fe_mode = http_mode(w.sh.proxies[s.fe].cfg.options.http_conn_mode);
            let cli_close = h1.want_close || s.txn.flags & tx::CLI_CLOSE != 0;
            let o = ResponseOut {
                client_mode: if cli_close {
                    ConnMode::Close
                } else {
                    ConnMode::KeepAlive
                },
                fe_mode,
                req_meth: s.txn.meth,
                req_ver11: s.txn.req_flags.ver11,
                proxy_reply_early: s.txn.flags & tx::LOCAL_REPLY != 0 && !s.req.has(cf::EOM),
                fe_stopping: ev.stopping(),
                req_ws_key: None,
            };
            let mut msg = H1Msg {
                head: std::mem::take(rsp),
                body: s.txn.rsp_body,
                flags: s.txn.rsp_flags,
            };
            let plan = h1::prepare_response_out(&mut msg, &o);
            *rsp = msg.head;
            if plan.mode != ConnMode::KeepAlive {
                h1.want_close = true;
            }
            let before = c.obuf.len();
            h1::format_response(rsp, &mut c.obuf);
            s.res.total += (c.obuf.len() - before) as u64;
            s.res.flags |= cf::HEAD_SENT;
            h1.tx = tx_of(&plan);
            if h1.tx == H1Tx::Done {
                // no body is sent: drop whatever the server sends
                s.res.buf.clear();
            }
            progress = true;
        }
    }
    progress |= body_tx(&mut h1.tx, &mut s.res, &mut c.obuf);
    if h1.tx == H1Tx::Done && s.res.has(cf::EOM) && s.res.buf.is_empty() && !s.res.has(cf::DONE) {
        s.res.flags |= cf::DONE;
        progress = true;
    }
    if progress {
        wake_strm(w, ev, sid)?;
    }
    Ok(progress)
}

/// Moves payload from a channel into `out`, framed per `tx`. Returns true on progress.
fn body_tx(txs: &mut H1Tx, ch: &mut hrs_core::Channel, out: &mut Vec<u8>) -> bool {
    let mut progress = false;
    match txs {
        H1Tx::Idle => {}
        // nothing more is sent (a bodyless message): what still arrives is dropped
        H1Tx::Done => ch.buf.clear(),
        H1Tx::Len(left) => {
            let n = (ch.buf.len() as u64).min(*left) as usize;
            if n > 0 {
                out.extend_from_slice(&ch.buf[..n]);
                ch.buf.drain(..n);
                *left -= n as u64;
                progress = true;
            }
            if *left == 0 {
                ch.buf.clear();
                if ch.has(cf::EOM) {
                    *txs = H1Tx::Done;
                    progress = true;
                }
            }
        }
        H1Tx::Chunked => {
            if !ch.buf.is_empty() {
                h1::encode_chunk(&ch.buf, out);
                ch.buf.clear();
                progress = true;
            }
            if ch.has(cf::EOM) {
                h1::encode_last_chunk(ch.trailers.as_deref(), out);
                *txs = H1Tx::Done;
                progress = true;
            }
        }
        H1Tx::UntilClose => {
            if !ch.buf.is_empty() {
                out.append(&mut ch.buf);
                progress = true;
            }
            if ch.has(cf::EOM) {
                *txs = H1Tx::Done;
                progress = true;
            }
        }
    }
    progress
}

// ---------------------------------------------------------------------------------------
// Back side: requests out, responses in.

fn h1_back(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<H1Outcome, Stale> {
    let bufsize = w.sh.global.bufsize;
    {
        let c = &mut w.conns[cid];
        if c.has(co_fl::WAIT_L4_CONN) {
            match crate::sock::conn_check_connect(c, ev) {
                None => return Ok(H1Outcome::Alive),
                Some(_) => {
                    if let Some(sid) = c.strm {
                        wake_strm(w, ev, sid)?;
                    } else {
                        return Ok(H1Outcome::Release);
                    }
                }
            }
        }
    }
    let c = &w.conns[cid];
    if c.has(co_fl::ERROR) && c.strm.is_none() {
        return Ok(H1Outcome::Release);
    }
    let Some(sid) = c.strm else {
        // idle in a session: any event (data, close) ends it
        let c = &mut w.conns[cid];
        let n = conn_recv(c, ev, bufsize);
        if n > 0 || c.has(co_fl::SOCK_RD_SH) || c.has(co_fl::ERROR) {
            return Ok(H1Outcome::Release);
        }
        return Ok(H1Outcome::Alive);
    };
    if c.has(co_fl::WAIT_L4_CONN) || !c.has(co_fl::CONNECTED) {
        return Ok(H1Outcome::Alive);
    }
    for _ in 0..8 {
        let mut progress = h1_back_output(w, ev, cid, sid)?;
        let c = &mut w.conns[cid];
        let before = c.out_pending();
        conn_send(c, ev);
        progress |= c.out_pending() != before;
        let want = match &c.mux {
            Mux::H1(h) => match &h.rx {
                H1Rx::Idle | H1Rx::Head => true,
                H1Rx::Body(_) => w.streams.live(sid)?.res.buf.len() < bufsize,
                _ => false,
            },
            Mux::Pt | Mux::H2(_) => false,
        };
        if want {
            let c = &mut w.conns[cid];
            progress |= conn_recv(c, ev, bufsize) > 0;
        }
        progress |= h1_back_input(w, ev, cid, sid)?;
        if !progress {
            break;
        }
    }
    let c = &w.conns[cid];
    if c.has(co_fl::ERROR) || c.has(co_fl::SOCK_RD_SH) {
        wake_strm(w, ev, sid)?;
    }
    Ok(H1Outcome::Alive)
}

/// Formats the request head and moves request body bytes into `obuf`.
fn h1_back_output(w: &mut World, ev: &mut Ev, cid: ConnId, sid: StrmId) -> Result<bool, Stale> {
    let bufsize = w.sh.global.bufsize;
    let c = &mut w.conns[cid];
    let s = w.streams.live_mut(sid)?;
    let Mux::H1(h1) = &mut c.mux else {
        return Ok(false);
    };
    if c.obuf.len().saturating_sub(c.opos) >= bufsize {
        return Ok(false);
    }
    let mut progress = false;
    if h1.tx == H1Tx::Idle && !s.req.has(cf::HEAD_SENT) {
        let Some(req) = s.txn.req.as_mut() else {
            return Ok(false);
        };
        let o = RequestOut {
            fe_mode: http_mode(w.sh.proxies[s.fe].cfg.options.http_conn_mode),
            be_mode: http_mode(w.sh.proxies[s.be].cfg.options.http_conn_mode),
            be_stopping: ev.stopping(),
            ..Default::default()
        };
        if s.txn.flags & tx::L7_RETRY != 0 && s.txn.l7_buffer.is_none() {
            // L7 retries need the whole request in one buffer at its first send
            let fits = s.req.has(cf::EOM) && req.wire_len() + s.req.buf.len() <= bufsize;
            if fits {
                s.txn.l7_buffer = Some(Box::new(hrs_core::L7Buf {
                    head: req.clone(),
                    body: s.req.buf.clone(),
                }));
            } else {
                s.txn.flags &= !tx::L7_RETRY;
            }
        }
        let mut msg = H1Msg {
            head: std::mem::take(req),
            body: s.txn.req_body,
            flags: s.txn.req_flags,
        };
        let plan = h1::prepare_request_out(&mut msg, &o);
        *req = msg.head;
        h1::format_request(req, &mut c.obuf);
        h1.want_close = plan.mode != ConnMode::KeepAlive;
        h1.meth = s.txn.meth;
        h1.req_count += 1;
        h1.rx = H1Rx::Idle;
        s.req.flags |= cf::HEAD_SENT;
        h1.tx = tx_of(&plan);
        progress = true;
    }
    let before = s.req.buf.len();
    progress |= body_tx(&mut h1.tx, &mut s.req, &mut c.obuf);
    let drained = s.req.buf.len() < before;
    if h1.tx == H1Tx::Done && s.req.has(cf::EOM) && !s.req.has(cf::DONE) {
        s.req.flags |= cf::DONE;
        progress = true;
    }
    if drained {
        // room in the request channel: the client side may receive again
        let front = s.si[0].conn;
        wake_conn(w, ev, front)?;
    }
    Ok(progress)
}

/// Parses the response head or moves response body bytes into the stream.
fn h1_back_input(w: &mut World, ev: &mut Ev, cid: ConnId, sid: StrmId) -> Result<bool, Stale> {
    let lim = limits(w);
    let bufsize = w.sh.global.bufsize;
    let c = &mut w.conns[cid];
    let s = w.streams.live_mut(sid)?;
    let Mux::H1(h1) = &mut c.mux else {
        return Ok(false);
    };
    match &mut h1.rx {
        H1Rx::Idle | H1Rx::Head => {
            if c.ibuf.is_empty() {
                return Ok(false);
            }
            if !s.req.has(cf::HEAD_SENT) {
                // data before we sent anything: the server is talking nonsense
                c.flags |= co_fl::ERROR;
                return Ok(true);
            }
            match h1::parse_response(&c.ibuf, h1.meth, &lim) {
                Ok(Parsed::Incomplete) => {
                    h1.rx = H1Rx::Head;
                    Ok(false)
                }
                Ok(Parsed::Done { msg, consumed }) => {
                    c.ibuf.drain(..consumed);
                    if (100..200).contains(&msg.head.status) && msg.head.status != 101 {
                        // interim response: forward it to the client as is, keep waiting
                        // (below 200 only its framing fields are dropped: the request's
                        // method and version and the connection modes play no part)
                        let mut msg = msg;
                        let _ = h1::prepare_response_out(&mut msg, &ResponseOut::default());
                        h1.rx = H1Rx::Idle;
                        if let Some(front) = s.si[0].conn {
                            let fc = w.conns.live_mut(front)?;
                            h1::format_response(&msg.head, &mut fc.obuf);
                            ev.wakeup(fc.task, WakeReason::MSG);
                        }
                        return Ok(true);
                    }
                    let body = msg.body;
                    let cur = if h1.want_close {
                        ConnMode::Close
                    } else {
                        ConnMode::KeepAlive
                    };
                    if h1::server_mode_on_response(cur, h1.meth, &msg, ev.stopping())
                        != ConnMode::KeepAlive
                    {
                        h1.want_close = true;
                    }
                    h1.rx = rx_for_body(body, 502, lim);
                    s.txn.rsp_flags = msg.flags;
                    if matches!(h1.rx, H1Rx::Done) {
                        s.res.flags |= cf::EOM;
                    }
                    s.txn.rsp_body = body;
                    s.txn.status = msg.head.status;
                    s.txn.rsp = Some(msg.head);
                    wake_strm(w, ev, sid)?;
                    Ok(true)
                }
                Err(_) => {
                    // a bad response: the stream answers 502
                    h1.rx = H1Rx::Closed;
                    h1.want_close = true;
                    c.flags |= co_fl::ERROR;
                    s.txn.flags |= tx::SRV_CLOSE | tx::RSP_JUNK;
                    wake_strm(w, ev, sid)?;
                    Ok(true)
                }
            }
        }
        H1Rx::Body(_) => match body_rx(c, &mut s.res.buf, &mut s.res.trailers, bufsize) {
            Ok((moved, done)) => {
                if moved > 0 {
                    s.res.total += moved as u64;
                    s.res.flags |= cf::ACTIVITY;
                }
                if done {
                    s.res.flags |= cf::EOM;
                    if let Mux::H1(h1) = &mut c.mux {
                        h1.rx = H1Rx::Done;
                    }
                }
                if moved > 0 || done {
                    let front = s.si[0].conn;
                    wake_conn(w, ev, front)?;
                    wake_strm(w, ev, sid)?;
                    return Ok(true);
                }
                Ok(false)
            }
            Err(_) => {
                if let Mux::H1(h1) = &mut c.mux {
                    h1.rx = H1Rx::Closed;
                    h1.want_close = true;
                }
                c.flags |= co_fl::ERROR;
                wake_strm(w, ev, sid)?;
                Ok(true)
            }
        },
        H1Rx::Done | H1Rx::Closed => Ok(false),
    }
}

/// Resets the front mux for the next request after its stream ended (`h1s_destroy` +
/// `h1_set_idle`). Returns true when the connection must close instead.
pub fn h1_front_detach(c: &mut Connection) -> bool {
    c.strm = None;
    let Mux::H1(h1) = &mut c.mux else {
        return true;
    };
    let close = h1.want_close
        || c.flags & (co_fl::ERROR | co_fl::SOCK_RD_SH) != 0
        || !matches!(h1.rx, H1Rx::Done)
        || h1.tx != H1Tx::Done;
    h1.rx = H1Rx::Idle;
    h1.tx = H1Tx::Idle;
    if close {
        c.flags |= co_fl::CLOSE_AFTER_SEND;
    }
    close
}

/// Detaches a back connection from its stream (`h1_detach`). Returns true when the
/// connection may be kept for another request (complete exchange, no close asked, no error).
pub fn h1_back_detach(c: &mut Connection) -> bool {
    c.strm = None;
    let Mux::H1(h1) = &mut c.mux else {
        return false;
    };
    let keep = !h1.want_close
        && c.flags & (co_fl::ERROR | co_fl::SOCK_RD_SH | co_fl::WAIT_L4_CONN) == 0
        && matches!(h1.rx, H1Rx::Done)
        && h1.tx == H1Tx::Done
        && c.ibuf.is_empty()
        && c.opos >= c.obuf.len();
    h1.rx = H1Rx::Idle;
    h1.tx = H1Tx::Idle;
    h1.want_close = false;
    keep
}
