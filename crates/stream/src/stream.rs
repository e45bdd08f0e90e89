//! `process_stream` (HAProxy's `stream.c` + `http_ana.c`): the analysers of one stream, from
//! a parsed request head to the end of the transaction.
//!
//! Phases ([`StrmPhase`]): request rules and backend switching, optional body buffering,
//! server connection (the stream-interface machine), waiting for the response head, response
//! rules, forwarding, end. A reply produced by the proxy (rules, errors) takes the place of
//! a server response and is forwarded by the same path. The stream never reads or writes a
//! socket: the muxes move the data; the stream wakes them when it has work for them.
//!
//! Handles: every access goes through `live`/`live_mut` and returns [`Stale`] on a handle
//! that is not live (a lifecycle bug: a panic in debug builds). [`process_stream`] is the
//! only place that stops it: the stream concerned ends with an internal error
//! ([`stream_kill_internal`]), the rest of the process goes on.

use crate::rules::{self, RuleResult};
use crate::stream_interface::{back_handle, elapsed, SiOutcome};
use hrs_cfg::model::{HttpConnMode, Mode, RetryOn};
use hrs_conn::mux_h1::{h1_back_detach, h1_front_detach};
use hrs_core::{cf, co_fl, sf, tx, Cause, Ev, Finst, Mux, SiState, StrmId, StrmPhase, World};
use hrs_ev::ticks::{tick_add, tick_first, tick_is_expired};
use hrs_ev::{WakeReason, TICK_ETERNITY};
use hrs_http::msg::{BodyLen, HttpHead, Version};
use hrs_list::Stale;
use std::sync::atomic::Ordering::Relaxed;

/// Runs the analysers of stream `sid`, woken for `why`. A stream that is gone (ended by an
/// earlier task of the same pass) is ignored. A lifecycle bug met on the way ([`Stale`])
/// ends this stream alone with an internal error.
pub fn process_stream(w: &mut World, ev: &mut Ev, sid: StrmId, why: WakeReason) {
    if !w.streams.contains(sid) {
        return;
    }
    let _ = why;
    if analyse(w, ev, sid).is_err() {
        stream_kill_internal(w, ev, sid);
    }
}

/// The analysers' loop: runs phases until one waits, then wakes the connections with work
/// and arms the stream's timer.
fn analyse(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    for _ in 0..32 {
        // a phase may end the stream (`stream_end` frees it): that is the way out
        let Some(phase) = w.streams.get(sid).map(|s| s.phase) else {
            return Ok(());
        };
        match phase {
            StrmPhase::ReqRules => http_process_req(w, ev, sid)?,
            StrmPhase::WaitBody => {
                let bufsize = w.sh.global.bufsize;
                let s = w.streams.live_mut(sid)?;
                if s.req.has(cf::EOM)
                    || s.req.buf.len() >= bufsize.saturating_sub(w.sh.global.maxrewrite)
                {
                    s.phase = StrmPhase::Connect;
                } else if s.req.has(cf::SHUTR) {
                    client_abort(w, ev, sid, Finst::Req)?;
                } else if tick_is_expired(s.exp, ev.now()) {
                    // the body did not arrive in time (`http_wait_for_request_body`)
                    s.term.set(Cause::CliTo, Finst::Req);
                    local_error(w, ev, sid, 408)?;
                }
            }
            StrmPhase::Connect => {
                let s = w.streams.live(sid)?;
                if s.req.has(cf::SHUTR) && !s.req.has(cf::EOM) {
                    client_abort(w, ev, sid, Finst::Conn)?;
                    continue;
                }
                arm_l7_retry(w, sid)?;
                let fe_tcp = w.sh.proxies[w.streams.live(sid)?.fe].cfg.mode == Mode::Tcp;
                match back_handle(w, ev, sid)? {
                    SiOutcome::Wait => break,
                    SiOutcome::Established => {
                        let s = w.streams.live_mut(sid)?;
                        s.phase = if w.sh.proxies[s.be].cfg.mode == Mode::Tcp {
                            StrmPhase::Tunnel
                        } else {
                            StrmPhase::WaitRsp
                        };
                        s.exp = TICK_ETERNITY;
                        if let Some(b) = s.si[1].conn {
                            ev.wakeup(w.conns.live(b)?.task, WakeReason::MSG);
                        }
                    }
                    SiOutcome::Error(_) if fe_tcp => {
                        // no HTTP reply on a TCP connection: it just closes
                        close_back(w, ev, sid)?;
                        stream_end(w, ev, sid)?;
                    }
                    SiOutcome::Error(status) => local_error(w, ev, sid, status)?,
                    SiOutcome::Abort => silent_error(w, ev, sid)?,
                }
            }
            StrmPhase::WaitRsp => wait_response(w, ev, sid)?,
            StrmPhase::RspRules => http_process_res(w, ev, sid)?,
            StrmPhase::Forward => forward(w, ev, sid)?,
            StrmPhase::Tunnel => tunnel(w, ev, sid)?,
            StrmPhase::Closed => return Ok(()),
        }
        if w.streams.get(sid).is_none_or(|s| s.phase == phase) {
            break;
        }
    }
    if w.streams.contains(sid) {
        kick_conns(w, ev, sid)?;
        set_timer(w, ev, sid)?;
    }
    Ok(())
}

/// Request analysers: frontend rules, backend switching, backend rules, then on to the
/// server side (`http_process_req_common`, `process_switching_rules`).
fn http_process_req(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live_mut(sid)?;
    let (fe, sess) = (s.fe, s.sess);
    w.sh.proxies[fe].counters.cum_req.inc();
    s.logs.t_request = elapsed(s.logs.start, now);
    // a frontend without log format logs each stream's start (`frontend_accept`)
    let (src, dst) = w
        .sessions
        .get(sess)
        .map_or((None, None), |x| (x.src, x.dst));
    crate::log::sess_log_connect(w, fe, src, dst);
    let s = w.streams.live_mut(sid)?;
    if s.txn
        .req
        .as_ref()
        .is_some_and(|r| r.method().eq_ignore_ascii_case(b"PRI"))
    {
        // PRI is reserved for the HTTP/2 preface: a bad request before any rule
        // (`http_wait_for_request`), e.g. the preface on a `proto h1` listener; the request
        // line is not captured yet there: `%r` logs `<BADREQ>` (the connection closes after
        // the 400: the request is not HTTP/1.1)
        s.txn.req_line.clear();
        w.sh.proxies[fe].counters.failed_req.inc();
        return local_error(w, ev, sid, 400);
    }
    let (res, deny) = rules::req_rules(w, sid)?;
    match res {
        RuleResult::Continue => {}
        RuleResult::Reply { status, head, body } => {
            let s = w.streams.live_mut(sid)?;
            if deny {
                s.term.set(Cause::PrxCond, Finst::Req);
                w.sh.proxies[fe].counters.denied_req.inc();
            } else {
                s.term.set(Cause::Local, Finst::Req);
            }
            return local_reply(w, ev, sid, status, head, body);
        }
        RuleResult::Error(status) => return local_error(w, ev, sid, status),
    }
    let s = w.streams.live_mut(sid)?;
    let be = s.be;
    let fe_opts = w.sh.proxies[fe].cfg.options;
    let be_opts = w.sh.proxies[be].cfg.options;
    // connection mode, the strongest of frontend and backend (`http_adjust_conn_mode`): the
    // muxes read both proxies' options for the server side, and the frontend's for the
    // client side; a backend's `httpclose` closes the client side too
    if be_opts.http_conn_mode == HttpConnMode::Close {
        s.txn.flags |= tx::CLI_CLOSE;
    }
    if fe_opts.forwardfor || be_opts.forwardfor || fe_opts.originalto || be_opts.originalto {
        let sess = w.sessions.live(s.sess)?;
        let (fe, be) = (&w.sh.proxies[fe].cfg, &w.sh.proxies[be].cfg);
        add_addr_header(AddrHeader::ForwardFor, fe, be, s.txn.req.as_mut(), sess.src);
        add_addr_header(AddrHeader::OriginalTo, fe, be, s.txn.req.as_mut(), sess.dst);
    }
    // the backend counts the stream once (`stream_set_backend`)
    if s.flags & sf::BE_ASSIGNED == 0 {
        s.flags |= sf::BE_ASSIGNED;
        w.sh.proxies[be].beconn.fetch_add(1, Relaxed);
        w.sh.proxies[be].counters.be_cum_conn.inc();
        w.sh.proxies[be].counters.cum_req.add(u64::from(be != fe));
    }
    s.phase = if fe_opts.http_buffer_request || be_opts.http_buffer_request {
        // waiting for the body ourselves: answer `100 Continue` to a client that asks
        // for it and do not forward the expectation (`http_handle_expect_hdr`)
        if s.txn.flags & tx::EXPECT_100 != 0 && !s.req.has(cf::EOM) {
            if let Some(req) = s.txn.req.as_mut() {
                req.del_header(b"expect");
            }
            if let Some(front) = s.si[0].conn {
                let c = w.conns.live_mut(front)?;
                // (an HTTP/2 client gets no interim response: the h2 crate sends none)
                if !c.is_mux_h2() {
                    c.obuf.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                ev.wakeup(c.task, WakeReason::MSG);
            }
        }
        StrmPhase::WaitBody
    } else {
        StrmPhase::Connect
    };
    Ok(())
}

/// Backend switching of a `mode tcp` stream, when it starts (`process_switching_rules`
/// without HTTP analysis): the first matching `use_backend`, else `default_backend`, else
/// the frontend itself.
pub(crate) fn tcp_switching(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let fe = w.streams.live(sid)?.fe;
    let fe_rules = std::rc::Rc::clone(&w.rules[fe]);
    let chosen = fe_rules.switch_backend(&rules::StrmCtx::new(w, sid)?);
    let be = chosen
        .and_then(|name| w.sh.be_index.get(&name).copied())
        .or(w.sh.proxies[fe].default_be)
        .unwrap_or(fe);
    let s = w.streams.live_mut(sid)?;
    s.be = be;
    s.flags |= sf::BE_ASSIGNED;
    w.sh.proxies[be].beconn.fetch_add(1, Relaxed);
    w.sh.proxies[be].counters.be_cum_conn.inc();
    w.sh.proxies[be].counters.cum_req.add(u64::from(be != fe));
    Ok(())
}

/// The two headers `http_process_request` adds with an address of the client connection, in
/// this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddrHeader {
    /// `option forwardfor`: the client's (source) address in `x-forwarded-for`.
    ForwardFor,
    /// `option originalto`: the address the client connected to (destination) in
    /// `x-original-to`.
    OriginalTo,
}

impl AddrHeader {
    /// Whether proxy `p` enables the option.
    fn on(self, p: &hrs_cfg::model::Proxy) -> bool {
        match self {
            AddrHeader::ForwardFor => p.options.forwardfor,
            AddrHeader::OriginalTo => p.options.originalto,
        }
    }

    /// The option's arguments in proxy `p` (meaningful when [`Self::on`]).
    fn args(self, p: &hrs_cfg::model::Proxy) -> &hrs_cfg::model::ForwardFor {
        match self {
            AddrHeader::ForwardFor => &p.fwdfor,
            AddrHeader::OriginalTo => &p.orgto,
        }
    }

    /// The header without a `header` argument.
    fn default_name(self) -> &'static str {
        match self {
            AddrHeader::ForwardFor => "x-forwarded-for",
            AddrHeader::OriginalTo => "x-original-to",
        }
    }
}

/// `option forwardfor` and `option originalto` (`http_process_request`): the connection's
/// address in the option's header, unless the address is in an `except` network
/// (`ipcmp2net()`: same address family only, so an IPv4-mapped client of a dual-stack
/// listener is not in an IPv4 network) or `if-none` (forwardfor only) finds the header
/// already there. Nothing when neither proxy has the option. The header name is the
/// backend's when the backend enables the option, else the frontend's; the address is
/// written as the socket gives it (`::ffff:127.0.0.1` stays IPv6).
fn add_addr_header(
    which: AddrHeader,
    fe: &hrs_cfg::model::Proxy,
    be: &hrs_cfg::model::Proxy,
    req: Option<&mut HttpHead>,
    addr: Option<std::net::SocketAddr>,
) {
    use hrs_cfg::model::Proxy;
    let (Some(req), Some(addr)) = (req, addr) else {
        return;
    };
    if !which.on(fe) && !which.on(be) {
        return;
    }
    let excluded = |p: &Proxy| {
        which.on(p)
            && which
                .args(p)
                .except
                .is_some_and(|net| net.contains(addr.ip()))
    };
    if excluded(fe) || excluded(be) {
        return;
    }
    let name = which
        .args(if which.on(be) { be } else { fe })
        .header
        .as_deref()
        .unwrap_or(which.default_name());
    let always =
        (which.on(fe) && !which.args(fe).if_none) || (which.on(be) && !which.args(be).if_none);
    if !always && req.has(name.as_bytes()) {
        return;
    }
    req.add_header(name.as_bytes(), addr.ip().to_string().as_bytes());
}

/// Waits for the response head (`http_wait_for_response`). A server that closes, times out or sends garbage before the head gets the
/// request retried at layer 7 when `retry-on` covers it; otherwise a later request of the
/// client connection is aborted silently (the client retries), a first one gets 502/504.
fn wait_response(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live(sid)?;
    let be = s.be;
    let retry_on = w.sh.proxies[be].cfg.retry_on;
    if let Some(rsp) = &s.txn.rsp {
        let status = rsp.status;
        if l7_status_match(retry_on, status) && do_l7_retry(w, ev, sid)? {
            return Ok(());
        }
        check_ntlm(w, sid)?;
        let s = w.streams.live_mut(sid)?;
        s.logs.t_data = elapsed(s.logs.start, now);
        s.phase = StrmPhase::RspRules;
        return Ok(());
    }
    let back = match s.si[1].conn {
        Some(b) => Some(w.conns.live(b)?),
        None => None,
    };
    let failed = back.is_none_or(|c| c.has(co_fl::ERROR) || c.has(co_fl::SOCK_RD_SH))
        || s.res.has(cf::SHUTR);
    if failed && s.txn.flags & tx::RSP_JUNK != 0 {
        // an invalid response (`return_bad_res`): a failed response even when retried, else
        // a 502 of the proxy (`PH`), on a later request too
        count_failed_resp(w, sid)?;
        if retry_on.has(RetryOn::JUNK_REQUEST) && do_l7_retry(w, ev, sid)? {
            return Ok(());
        }
        local_error(w, ev, sid, 502)?;
        return Ok(());
    }
    if failed {
        if retry_on.has(RetryOn::DISCONNECTED) && do_l7_retry(w, ev, sid)? {
            return Ok(());
        }
        if w.streams.live(sid)?.txn.flags & tx::NOT_FIRST != 0 {
            // not a failed response: the client retries
            abort_keep_alive(w, ev, sid)?;
            return Ok(());
        }
        count_failed_resp(w, sid)?;
        w.streams
            .live_mut(sid)?
            .term
            .set(Cause::SrvClose, Finst::Hdrs);
        local_error(w, ev, sid, 502)?;
        return Ok(());
    }
    if s.req.has(cf::SHUTR) && !s.req.has(cf::EOM) {
        client_abort(w, ev, sid, Finst::Data)?;
        return Ok(());
    }
    if tick_is_expired(s.exp, now) {
        if retry_on.has(RetryOn::TIMEOUT) && do_l7_retry(w, ev, sid)? {
            return Ok(());
        }
        count_failed_resp(w, sid)?;
        w.streams.live_mut(sid)?.term.set(Cause::SrvTo, Finst::Hdrs);
        local_error(w, ev, sid, 504)?;
        return Ok(());
    }
    Ok(())
}

/// Counts a failed response (`eresp`) on the backend and the server of stream `sid`.
fn count_failed_resp(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live(sid)?;
    if let Some(srv) = s.srv {
        w.sh.servers[srv].counters.failed_resp.inc();
    }
    w.sh.proxies[s.be].counters.failed_resp.inc();
    Ok(())
}

/// Arms L7 retries for the request about to be sent (`TX_L7_RETRY` in `process_stream`):
/// when `retry-on` names anything beyond connection failures and no
/// `http-request disable-l7-retry` matched. The mux keeps the request at its first send,
/// or disarms the retries when it does not fit in one buffer.
fn arm_l7_retry(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    if s.si[1].state != SiState::Ini || s.txn.flags & tx::D_L7_RETRY != 0 {
        return Ok(());
    }
    let retry_on = w.sh.proxies[s.be].cfg.retry_on;
    if retry_on.0 & !RetryOn::CONN_FAILED != 0 && w.sh.proxies[s.be].cfg.mode == Mode::Http {
        s.txn.flags |= tx::L7_RETRY;
    }
    Ok(())
}

/// True when `retry-on` lists `status`.
fn l7_status_match(retry_on: RetryOn, status: u16) -> bool {
    RetryOn::STATUSES
        .iter()
        .position(|&st| st == status)
        .is_some_and(|i| retry_on.has(1 << (RetryOn::STATUS_BASE + i as u32)))
}

/// Sends the request again (`do_l7_retry`): closes the server connection, restores the
/// request kept at its first send, forgets the response, and lets the stream-interface
/// connect again, to another server if a redispatch is decided. Returns false (nothing
/// changed) when retries are not armed or none are left.
fn do_l7_retry(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<bool, Stale> {
    let s = w.streams.live(sid)?;
    if s.si[1].conn_retries == 0 {
        return Ok(false);
    }
    // the request was kept at its first send when L7 retries were armed (and it fitted);
    // the copy serves every retry, whatever server took the previous one
    let Some(l7) = s.txn.l7_buffer.as_deref().cloned() else {
        return Ok(false);
    };
    let be = s.be;
    if let Some(srv) = s.srv {
        w.sh.servers[srv].counters.retries.inc();
    }
    w.sh.proxies[be].counters.retries.inc();
    close_back(w, ev, sid)?;
    let s = w.streams.live_mut(sid)?;
    s.si[1].conn_retries -= 1;
    s.si[1].retries_done += 1;
    s.txn.req = Some(l7.head);
    s.req.buf = l7.body;
    s.req.flags &= !(cf::HEAD_SENT | cf::DONE);
    s.txn.rsp = None;
    s.txn.status = 0;
    s.txn.rsp_body = BodyLen::None;
    s.txn.flags &= !(tx::RSP_JUNK | tx::SRV_CLOSE);
    s.res = Default::default();
    s.exp = TICK_ETERNITY;
    s.phase = StrmPhase::Connect;
    crate::stream_interface::stream_choose_redispatch(w, ev, sid)?;
    Ok(true)
}

/// A 401 (or 407) whose `WWW-Authenticate` (`Proxy-Authenticate`) starts with `NTLM` or
/// `Nego` binds the server connection to the session: it becomes private and the session
/// sticks to its server (`http_wait_for_response`).
fn check_ntlm(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live(sid)?;
    let Some(rsp) = &s.txn.rsp else { return Ok(()) };
    let hdr: &[u8] = match rsp.status {
        401 => b"www-authenticate",
        407 => b"proxy-authenticate",
        _ => return Ok(()),
    };
    let ntlm = rsp.values(hdr).any(|v| {
        let v = v.to_ascii_lowercase();
        v.starts_with(b"ntlm") || v.starts_with(b"nego")
    });
    let (Some(cid), sess) = (s.si[1].conn, s.sess) else {
        return Ok(());
    };
    if !ntlm {
        return Ok(());
    }
    w.sessions.live_mut(sess)?.flags |= hrs_core::sess_fl::PREFER_LAST;
    w.conn_set_private(cid);
    w.session_add_conn(sess, cid);
    Ok(())
}

/// Closes the client connection without a response and without a log line
/// (`abort_keep_alive`): a later request on a keep-alive connection failed on the server
/// side in a way the client may safely retry. (The connection closes because its response
/// never started: `stream_end`.)
fn abort_keep_alive(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    s.flags |= sf::NO_LOG;
    s.txn.status = 0;
    close_back(w, ev, sid)?;
    stream_end(w, ev, sid)
}

/// Gives up on the server side without a message (`http_server_error` with none): a failed
/// reused connection, or a connect timeout on a later request. The client connection closes
/// so that the client retries; unlike [`abort_keep_alive`], the stream is logged with its
/// 503 and termination (`SC`, `sC`).
fn silent_error(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    w.streams.live_mut(sid)?.txn.status = 503;
    close_back(w, ev, sid)?;
    stream_end(w, ev, sid)
}

/// Response analysers: backend then frontend `http-response` rules, then
/// `http-after-response` (`http_process_res_common`).
fn http_process_res(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    // request-scoped variables end with the request analysis
    w.streams.live_mut(sid)?.vars_req.clear();
    let (res, deny) = rules::res_rules(w, sid)?;
    match res {
        RuleResult::Continue => {}
        RuleResult::Reply { status, head, body } => {
            w.streams.live_mut(sid)?.term.set(
                if deny { Cause::PrxCond } else { Cause::Local },
                Finst::Hdrs,
            );
            // the server response is replaced: the server connection cannot be reused
            close_back(w, ev, sid)?;
            return local_reply(w, ev, sid, status, head, body);
        }
        RuleResult::Error(status) => {
            close_back(w, ev, sid)?;
            return local_error(w, ev, sid, status);
        }
    }
    rules::after_res_rules(w, sid)?;
    count_status(w, sid)?;
    let s = w.streams.live_mut(sid)?;
    s.phase = StrmPhase::Forward;
    s.exp = TICK_ETERNITY;
    Ok(())
}

fn count_status(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live(sid)?;
    let status = s.txn.status;
    let class = match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        500..=599 => 4,
        _ => 5,
    };
    let fe = s.fe;
    w.sh.proxies[fe].counters.rsp[class].inc();
    Ok(())
}

/// Forwarding until the response was fully sent.
fn forward(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live(sid)?;
    let front = match s.si[0].conn {
        Some(f) => Some(w.conns.live(f)?),
        None => None,
    };
    // a client that failed (a reset seen when the response was written) did not get it,
    // even if the mux formatted all of it
    let front_err = front.is_none_or(|c| c.has(co_fl::ERROR)) || s.res.has(cf::SHUTW);
    if front_err {
        w.streams
            .live_mut(sid)?
            .term
            .set(Cause::CliClose, Finst::Data);
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    if s.res.has(cf::DONE) {
        // the whole response went out; the request may still be arriving (answered early:
        // the connection then closes)
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    let back = match s.si[1].conn {
        Some(b) => Some(w.conns.live(b)?),
        None => None,
    };
    // a server still sending (a local reply is complete: `EOM`)
    let server_side = !s.res.has(cf::EOM);
    let back_failed =
        server_side && (back.is_none_or(|c| c.has(co_fl::ERROR)) || s.res.has(cf::SHUTR));
    let back_closed =
        server_side && back.is_some_and(|c| c.has(co_fl::SOCK_RD_SH) && c.ibuf.is_empty());
    let client_side_pending = front.is_some_and(|c| c.out_pending() > 0);
    let s = w.streams.live_mut(sid)?;
    if back_failed && !s.res.has(cf::HEAD_SENT) {
        // the response turned out invalid before anything reached the client: a 502
        // replaces it
        s.term.set(Cause::SrvClose, Finst::Hdrs);
        local_error(w, ev, sid, 502)?;
        return Ok(());
    }
    if back_failed || (back_closed && s.res.has(cf::HEAD_SENT) && s.res.buf.is_empty()) {
        // the server aborted in the middle of the body: the client gets what was received,
        // then a close
        s.term.set(Cause::SrvClose, Finst::Data);
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    if tick_is_expired(s.exp, now) {
        if client_side_pending {
            s.term.set(Cause::CliTo, Finst::Data);
        } else {
            s.term.set(Cause::SrvTo, Finst::Data);
        }
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    Ok(())
}

/// `mode tcp`: relay until both directions are finished.
fn tunnel(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live_mut(sid)?;
    let both_done = s.req.has(cf::DONE) && s.res.has(cf::DONE);
    let err = s.req.has(cf::SHUTW) || s.res.has(cf::SHUTW);
    if both_done || err {
        if err {
            let cause = if s.res.has(cf::SHUTW) {
                Cause::CliClose
            } else {
                Cause::SrvClose
            };
            s.term.set(cause, Finst::Data);
        }
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    if tick_is_expired(s.exp, now) {
        s.term.set(Cause::CliTo, Finst::Data);
        stream_end(w, ev, sid)?;
        return Ok(());
    }
    Ok(())
}

/// The client went away before the request was complete. Nothing is answered, so the log
/// shows no status (`-1`), as upstream's. (Both connections close: their exchange is
/// incomplete.)
fn client_abort(w: &mut World, ev: &mut Ev, sid: StrmId, finst: Finst) -> Result<(), Stale> {
    w.streams.live_mut(sid)?.term.set(Cause::CliClose, finst);
    stream_end(w, ev, sid)
}

/// Gives up the server side of a stream now (its response is discarded): an HTTP/1 or
/// pass-through connection is closed; an HTTP/2 one only loses this stream, as when the
/// stream ends ([`back_h2_detach`]: haproxy 2.6.12 reuses an HTTP/2 server connection
/// after an `http-response deny`).
fn close_back(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    s.si[1].state = SiState::Clo;
    let sess = s.sess;
    let Some(cid) = s.si[1].conn.take() else {
        return Ok(());
    };
    if w.conns.live(cid)?.is_mux_h2() {
        back_h2_detach(w, ev, sid, cid, sess)
    } else {
        crate::stream_interface::back_conn_drop(w, ev, sid, cid)
    }
}

/// Detaches stream `sid` from its HTTP/2 server connection `cid` (`h2_detach`): the stream
/// is reset when its exchange did not complete; the connection stays for its other
/// streams, or goes to the idle pools (or stays with session `sess` when private) when it
/// can carry more, and is released otherwise.
///
/// # Errors
/// [`Stale`]: `cid` is not live.
fn back_h2_detach(
    w: &mut World,
    ev: &mut Ev,
    sid: StrmId,
    cid: hrs_core::ConnId,
    sess: hrs_core::SessId,
) -> Result<(), Stale> {
    let used = hrs_conn::mux_h2::h2_back_detach(w.conns.live_mut(cid)?, sid);
    if hrs_backend::server::h2_conn_detached(w, ev, cid, sess, used)? {
        // frames of the detach (a reset) go out
        ev.wakeup(w.conns.live(cid)?.task, WakeReason::MSG);
        Ok(())
    } else {
        crate::session::conn_release(w, ev, cid)
    }
}

/// Answers with the proxy's error page for `status` (`http_reply_and_close` with the
/// default error message). As upstream 2.6, the client connection stays open for the next
/// request when the request was complete (403, 502, 503, 504 pages carry no
/// `connection: close`).
pub(crate) fn local_error(
    w: &mut World,
    ev: &mut Ev,
    sid: StrmId,
    status: u16,
) -> Result<(), Stale> {
    let (head, body) = match hrs_sample::error_reply(status) {
        Some(r) => (r.head, r.body),
        None => (
            HttpHead::response(Version::Http11, status, b"", 0),
            Vec::new(),
        ),
    };
    let s = w.streams.live_mut(sid)?;
    s.term.set(Cause::PrxCond, finst_of(s.phase));
    close_back(w, ev, sid)?;
    hrs_backend::backend::srv_release_slot(w, ev, sid)?;
    local_reply(w, ev, sid, status, head, body)
}

fn finst_of(p: StrmPhase) -> Finst {
    match p {
        StrmPhase::ReqRules | StrmPhase::WaitBody => Finst::Req,
        StrmPhase::Connect => Finst::Conn,
        StrmPhase::WaitRsp | StrmPhase::RspRules => Finst::Hdrs,
        _ => Finst::Data,
    }
}

/// Installs a reply produced by the proxy as the stream's response and forwards it:
/// `http-after-response` rules run on it. A reply to a request not received whole closes
/// the client connection after it (the H1 mux's early reply).
pub(crate) fn local_reply(
    w: &mut World,
    ev: &mut Ev,
    sid: StrmId,
    status: u16,
    head: HttpHead,
    body: Vec<u8>,
) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    s.txn.flags |= tx::LOCAL_REPLY;
    s.txn.status = status;
    s.txn.rsp_body = BodyLen::Len(body.len() as u64);
    s.txn.rsp = Some(head);
    s.res.buf = body;
    s.res.total = s.res.buf.len() as u64;
    s.res.flags |= cf::EOM;
    rules::after_res_rules(w, sid)?;
    count_status(w, sid)?;
    let s = w.streams.live_mut(sid)?;
    s.phase = StrmPhase::Forward;
    s.exp = TICK_ETERNITY;
    if let Some(front) = s.si[0].conn {
        ev.wakeup(w.conns.live(front)?.task, WakeReason::MSG);
    }
    Ok(())
}

/// Wakes the connections that have work: the server side when the request has data to
/// send or the response has room again, the client side when the response has data (or
/// in a TCP tunnel). Room in the request channel is not a reason: the server side's mux
/// wakes the client side itself when it drains it, and a client connection in error would
/// otherwise be woken on each pass and wake the stream back, without end.
fn kick_conns(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live(sid)?;
    let bufsize = w.sh.global.bufsize;
    if s.phase == StrmPhase::Closed {
        return Ok(());
    }
    if let Some(back) = s.si[1].conn {
        let c = w.conns.live(back)?;
        if s.si[1].state == SiState::Est
            && (!s.req.buf.is_empty()
                || !s.req.has(cf::HEAD_SENT)
                || (s.req.has(cf::EOM) && !s.req.has(cf::DONE))
                || s.res.buf.len() < bufsize)
        {
            ev.wakeup(c.task, WakeReason::MSG);
        }
    }
    if let Some(front) = s.si[0].conn {
        let c = w.conns.live(front)?;
        let rsp_ready = s.txn.rsp.is_some() && matches!(s.phase, StrmPhase::Forward);
        if (rsp_ready && (!s.res.buf.is_empty() || s.res.has(cf::EOM) || !s.res.has(cf::HEAD_SENT)))
            || s.phase == StrmPhase::Tunnel
        {
            ev.wakeup(c.task, WakeReason::MSG);
        }
    }
    Ok(())
}

/// Computes the stream's timeout for its phase and arms its task.
fn set_timer(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live_mut(sid)?;
    let fe = &w.sh.proxies[s.fe].cfg.timeouts;
    let be = &w.sh.proxies[s.be].cfg.timeouts;
    let active = s.req.has(cf::ACTIVITY) || s.res.has(cf::ACTIVITY);
    s.req.flags &= !cf::ACTIVITY;
    s.res.flags &= !cf::ACTIVITY;
    let tmo = match s.phase {
        StrmPhase::WaitBody => fe.http_request.or(fe.client),
        StrmPhase::WaitRsp => be.server,
        StrmPhase::Forward => {
            if s.txn.flags & tx::LOCAL_REPLY != 0 {
                fe.client
            } else {
                match (fe.client, be.server) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
        StrmPhase::Tunnel => be.tunnel.or(match (fe.client, be.server) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }),
        _ => None,
    };
    if active || s.exp == TICK_ETERNITY {
        s.exp = tmo.map_or(TICK_ETERNITY, |ms| tick_add(now, ms));
    }
    let when = tick_first(s.exp, s.si[1].exp);
    ev.task_set_expire(s.task, when);
    Ok(())
}

/// End of transaction (`http_end_txn` + `stream_free`): log, release the server slot,
/// decide the fate of both connections, free the stream.
pub(crate) fn stream_end(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let now = ev.now();
    let s = w.streams.live_mut(sid)?;
    s.phase = StrmPhase::Closed;
    s.logs.t_close = elapsed(s.logs.start, now);
    // counters are released before logging, as upstream logs after `stream_free` began
    hrs_backend::backend::srv_release_slot(w, ev, sid)?;
    release_beconn(w, sid)?;
    crate::log::stream_log(w, sid)?;
    let s = w.streams.live(sid)?;
    let (front, back, sess, txflags) = (s.si[0].conn, s.si[1].conn, s.sess, s.txn.flags);
    // the server side
    if let Some(b) = back {
        let c = w.conns.live_mut(b)?;
        if c.is_mux_h2() {
            back_h2_detach(w, ev, sid, b, sess)?;
        } else {
            // (a pass-through connection is never kept)
            let keep = h1_back_detach(c) && txflags & (tx::NO_REUSE | tx::SRV_CLOSE) == 0;
            let kept = keep && hrs_backend::server::conn_detach_idle(w, ev, b, sess)?;
            if !kept {
                crate::session::conn_release(w, ev, b)?;
            }
        }
    }
    // the client side
    if let Some(f) = front {
        let c = w.conns.live_mut(f)?;
        if c.is_mux_h2() {
            hrs_conn::mux_h2::h2_front_detach(c, sid);
        } else {
            // the mux closes a connection whose request or response is incomplete (the
            // aborts and early replies rely on it) or that must close (`CLI_CLOSE` made the
            // response say so, the mux's `want_close`); the pass-through mux releases a
            // connection left without stream
            if h1_front_detach(c) {
                if let Mux::H1(h1) = &mut c.mux {
                    h1.rx = hrs_core::H1Rx::Closed;
                }
            }
            c.expire = TICK_ETERNITY;
        }
        ev.wakeup(c.task, WakeReason::MSG);
    }
    stream_free(w, ev, sid);
    Ok(())
}

/// Takes stream `sid` out of its backend's `beconn`, once.
fn release_beconn(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    if s.flags & sf::BE_ASSIGNED != 0 {
        s.flags &= !sf::BE_ASSIGNED;
        hrs_core::pools::gauge_dec(&w.sh.proxies[s.be].beconn);
    }
    Ok(())
}

/// Frees the stream and its task (`stream_free`); its connections were detached.
fn stream_free(w: &mut World, ev: &mut Ev, sid: StrmId) {
    if let Some(s) = w.streams.remove(sid) {
        ev.task_free(s.task);
    }
}

/// Ends stream `sid` after a lifecycle bug met while processing it (a [`Stale`] handle,
/// already reported by `bug_on!`, which panics in debug builds): the stream alone pays.
/// HAProxy's internal errors (`SF_ERR_INTERNAL`): termination `I` in the phase reached,
/// `internal_errors` (`eint`) counted on the frontend, backend and server, a 500 to an
/// HTTP/1 client that got no response head yet, then its connection closes; an HTTP/2
/// client sees this stream reset; the server connection is closed. Every handle is checked
/// here (the state may be half-changed): what is not live is skipped.
pub fn stream_kill_internal(w: &mut World, ev: &mut Ev, sid: StrmId) {
    let Some(s) = w.streams.get_mut(sid) else {
        return;
    };
    let (fe, be, srv) = (s.fe, s.be, s.srv);
    s.term.set(Cause::Internal, finst_of(s.phase));
    s.si[1].state = SiState::Clo;
    let (front, back) = (s.si[0].conn.take(), s.si[1].conn.take());
    let head_sent = s.res.has(cf::HEAD_SENT);
    if s.txn.status == 0 || !head_sent {
        s.txn.status = 500;
    }
    w.sh.proxies[fe].counters.internal_errors.inc();
    if be != fe {
        w.sh.proxies[be].counters.internal_errors.inc();
    }
    if let Some(sv) = srv.and_then(|i| w.sh.servers.get(i)) {
        sv.counters.internal_errors.inc();
    }
    let _ = hrs_backend::backend::srv_release_slot(w, ev, sid);
    let _ = release_beconn(w, sid);
    let _ = crate::log::stream_log(w, sid);
    if let Some((b, c)) = back.and_then(|b| Some((b, w.conns.get_mut(b)?))) {
        let release = if c.is_mux_h2() {
            hrs_conn::mux_h2::h2_back_detach(c, sid) == 0
        } else {
            c.strm = None;
            true
        };
        c.flags |= co_fl::ERROR;
        ev.wakeup(c.task, WakeReason::MSG);
        if release {
            let _ = crate::session::conn_release(w, ev, b);
        }
    }
    if let Some(c) = front.and_then(|f| w.conns.get_mut(f)) {
        if c.is_mux_h2() {
            hrs_conn::mux_h2::h2_front_detach(c, sid);
        } else {
            c.strm = None;
            if let Mux::H1(h1) = &mut c.mux {
                h1.rx = hrs_core::H1Rx::Closed;
                h1.want_close = true;
            }
            if !head_sent {
                c.obuf.extend_from_slice(hrs_http::errors::error_page(500));
            }
            c.flags |= co_fl::CLOSE_AFTER_SEND;
            c.expire = TICK_ETERNITY;
        }
        ev.wakeup(c.task, WakeReason::MSG);
    }
    stream_free(w, ev, sid);
}

#[cfg(test)]
mod add_addr_header_tests {
    //! `add_addr_header` against what haproxy 2.6.12 sends (checked by hand with a
    //! dual-stack `bind :::port` listener and an echo server).
    use super::{add_addr_header, AddrHeader};
    use hrs_cfg::model::{Cap, Proxy};
    use hrs_cfg::net::Net;
    use hrs_http::{HttpHead, Version};

    fn px(cap: Cap, header: Option<&str>, except: Option<&str>, if_none: bool) -> Proxy {
        let mut p = Proxy::preset("p", cap);
        p.options.forwardfor = true;
        p.fwdfor.header = header.map(str::to_string);
        p.fwdfor.except = except.map(|n| Net::parse(n, false).unwrap());
        p.fwdfor.if_none = if_none;
        p
    }

    /// The header lines the request ends with.
    fn run(fe: &Proxy, be: &Proxy, src: &str, pre: &[(&str, &str)]) -> Vec<String> {
        let mut h = HttpHead::request(b"GET", b"/", Version::Http11, 64);
        for (n, v) in pre {
            h.add_header(n.as_bytes(), v.as_bytes());
        }
        add_addr_header(
            AddrHeader::ForwardFor,
            fe,
            be,
            Some(&mut h),
            Some(src.parse().unwrap()),
        );
        headers(&h)
    }

    fn headers(h: &HttpHead) -> Vec<String> {
        h.headers()
            .map(|(n, v)| {
                format!(
                    "{}: {}",
                    String::from_utf8_lossy(n),
                    String::from_utf8_lossy(v)
                )
            })
            .collect()
    }

    #[test]
    fn except_compares_same_family_only() {
        let fe = px(Cap::FE, None, Some("127.0.0.0/8"), false);
        let mut be = Proxy::preset("be", Cap::BE);
        be.options.forwardfor = false;
        assert!(run(&fe, &be, "127.0.0.1:5000", &[]).is_empty());
        assert_eq!(
            run(&fe, &be, "10.0.0.1:5000", &[]),
            ["x-forwarded-for: 10.0.0.1"]
        );
        // a v4 client of a dual-stack listener is not in an IPv4 network, and is written
        // in its IPv6 form
        assert_eq!(
            run(&fe, &be, "[::ffff:127.0.0.1]:5000", &[]),
            ["x-forwarded-for: ::ffff:127.0.0.1"]
        );
        let fe6 = px(Cap::FE, None, Some("::ffff:127.0.0.0/104"), false);
        assert!(run(&fe6, &be, "[::ffff:127.0.0.1]:5000", &[]).is_empty());
        assert_eq!(
            run(&fe6, &be, "127.0.0.1:5000", &[]),
            ["x-forwarded-for: 127.0.0.1"]
        );
        // the backend's except counts too
        let fe = px(Cap::FE, None, None, false);
        let be = px(Cap::BE, None, Some("10.0.0.0/8"), false);
        assert!(run(&fe, &be, "10.1.2.3:1", &[]).is_empty());
    }

    #[test]
    fn header_name_is_the_backends_when_it_enables_the_option() {
        let fe = px(Cap::FE, Some("x-fe"), None, false);
        let be = px(Cap::BE, None, None, false);
        assert_eq!(
            run(&fe, &be, "10.0.0.1:1", &[]),
            ["x-forwarded-for: 10.0.0.1"]
        );
        let be = px(Cap::BE, Some("x-be"), None, false);
        assert_eq!(run(&fe, &be, "10.0.0.1:1", &[]), ["x-be: 10.0.0.1"]);
        let mut off = Proxy::preset("be", Cap::BE);
        off.options.forwardfor = false;
        assert_eq!(run(&fe, &off, "10.0.0.1:1", &[]), ["x-fe: 10.0.0.1"]);
    }

    #[test]
    fn if_none_needs_every_side() {
        let fe = px(Cap::FE, None, None, true);
        let mut be = Proxy::preset("be", Cap::BE);
        be.options.forwardfor = false;
        let pre = [("x-forwarded-for", "1.1.1.1")];
        assert_eq!(
            run(&fe, &be, "10.0.0.1:1", &pre),
            ["x-forwarded-for: 1.1.1.1"]
        );
        assert_eq!(
            run(&fe, &be, "10.0.0.1:1", &[]),
            ["x-forwarded-for: 10.0.0.1"]
        );
        let be = px(Cap::BE, None, None, false);
        assert_eq!(
            run(&fe, &be, "10.0.0.1:1", &pre),
            ["x-forwarded-for: 1.1.1.1", "x-forwarded-for: 10.0.0.1"]
        );
    }

    /// `option originalto`: the destination address in `x-original-to` or the backend's
    /// (else the frontend's) header, unless in an `except` network; no `if-none`, so a header
    /// already there gets another; nothing when neither proxy has the option.
    #[test]
    fn originalto_writes_the_destination() {
        let orgto = |cap, header: Option<&str>, except: Option<&str>| {
            let mut p = Proxy::preset("p", cap);
            p.options.originalto = true;
            p.orgto.header = header.map(str::to_string);
            p.orgto.except = except.map(|n| Net::parse(n, false).unwrap());
            p
        };
        let run = |fe: &Proxy, be: &Proxy, dst: &str, pre: &[(&str, &str)]| {
            let mut h = HttpHead::request(b"GET", b"/", Version::Http11, 64);
            for (n, v) in pre {
                h.add_header(n.as_bytes(), v.as_bytes());
            }
            add_addr_header(
                AddrHeader::OriginalTo,
                fe,
                be,
                Some(&mut h),
                Some(dst.parse().unwrap()),
            );
            headers(&h)
        };
        let none = Proxy::preset("be", Cap::BE);
        let fe = orgto(Cap::FE, None, None);
        assert_eq!(
            run(&fe, &none, "10.1.2.3:80", &[]),
            ["x-original-to: 10.1.2.3"]
        );
        assert_eq!(
            run(&fe, &none, "[2001:db8::1]:80", &[]),
            ["x-original-to: 2001:db8::1"]
        );
        assert!(run(&none, &none.clone(), "10.1.2.3:80", &[]).is_empty());
        // the forwardfor option alone adds no x-original-to, nor the reverse
        let mut ff = Proxy::preset("fe", Cap::FE);
        ff.options.forwardfor = true;
        assert!(run(&ff, &none, "10.1.2.3:80", &[]).is_empty());
        assert_eq!(
            run(&fe, &none, "10.1.2.3:80", &[("x-original-to", "1.1.1.1")]),
            ["x-original-to: 1.1.1.1", "x-original-to: 10.1.2.3"]
        );
        // except: the frontend's and the backend's networks both apply
        let fe_ex = orgto(Cap::FE, None, Some("10.0.0.0/8"));
        assert!(run(&fe_ex, &none, "10.1.2.3:80", &[]).is_empty());
        assert_eq!(
            run(&fe_ex, &none, "192.168.0.1:80", &[]),
            ["x-original-to: 192.168.0.1"]
        );
        let be_ex = orgto(Cap::BE, Some("X-Dst"), Some("192.168.0.0/16"));
        assert!(run(&fe, &be_ex, "192.168.0.1:80", &[]).is_empty());
        // the header is the backend's when it has the option
        assert_eq!(
            run(
                &orgto(Cap::FE, Some("x-fe"), None),
                &be_ex,
                "10.1.2.3:80",
                &[]
            ),
            ["x-dst: 10.1.2.3"]
        );
        assert_eq!(
            run(
                &orgto(Cap::FE, Some("x-fe"), None),
                &none,
                "10.1.2.3:80",
                &[]
            ),
            ["x-fe: 10.1.2.3"]
        );
    }
}
