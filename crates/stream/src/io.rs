//! Connection I/O dispatch (HAProxy's `conn_fd_handler` -> mux `io_cb`): runs the mux of a
//! connection, handles the frontend idle timers (`timeout http-request` before a request
//! head is complete, `timeout http-keep-alive` between requests) and releases finished
//! connections. [`dispatch`] is the part of the worker's task handler that runs these
//! layers' tasks (connections, streams, server purges), shared by the worker and the tests.

use crate::session::conn_release;
use hrs_conn::mux_h1::{h1_io_cb, H1Outcome};
use hrs_conn::mux_h2::{h2_io_cb, h2_shutdown, H2Outcome};
use hrs_core::{cf, co_fl, ConnId, Ctx, Ev, H1Rx, Msg, Mux, Side, World};
use hrs_ev::ticks::{tick_add_ifset, tick_is_expired};
use hrs_ev::{WakeReason, TICK_ETERNITY};
use hrs_list::Stale;

/// Runs the task standing for `ctx`, woken for `why`, when it belongs to the runtime layers:
/// a connection's I/O callback ([`conn_io_cb`]), a stream's analysers
/// ([`crate::process_stream`]), a server's idle-connection purge. Returns false, having done
/// nothing, for the tasks the worker owns (signals, listeners, stats sockets).
pub fn dispatch(w: &mut World, ev: &mut Ev, ctx: Ctx, why: WakeReason) -> bool {
    match ctx {
        Ctx::Conn(c) => conn_io_cb(w, ev, c, why),
        Ctx::Stream(s) => crate::process_stream(w, ev, s, why),
        Ctx::SrvPurge(srv) => hrs_backend::server::srv_cleanup_idle_conns(w, ev, srv),
        Ctx::Signals | Ctx::Listener(_) | Ctx::CliListener(_) | Ctx::CliConn(_) | Ctx::Inbox => {
            return false
        }
    }
    true
}

/// Handles a message from another thread ([`Msg`]) when it belongs to the runtime layers: a
/// queued stream given a slot, an idle connection taken over, a share of a purge, a
/// server's idle connections to close, a purge timer to arm. Returns the messages the
/// worker owns (accepted connections, stops) untouched.
pub fn handle_msg(w: &mut World, ev: &mut Ev, msg: Msg) -> Option<Msg> {
    use hrs_backend::server;
    match msg {
        Msg::Dequeued { sid, srv } => hrs_backend::backend::stream_dequeued(w, ev, sid, srv),
        Msg::Taken(cid) => server::conn_taken_over(w, ev, cid),
        Msg::Purge { srv, n } => server::srv_purge_own(w, ev, srv, n),
        Msg::Cleanup(srv) => server::srv_cleanup_connections(w, ev, srv),
        Msg::ArmPurge(srv) => {
            let delay = w.sh.servers[srv].cfg.pool_purge_delay;
            server::srv_arm_purge(w, ev, srv, delay);
        }
        Msg::Accept(_) | Msg::Stop { .. } => return Some(msg),
    }
    None
}

/// The I/O callback of connection `cid`, woken for `why`. A connection that is gone is
/// ignored. A lifecycle bug met on the way ([`Stale`]) ends this connection alone
/// ([`conn_kill_internal`]).
pub fn conn_io_cb(w: &mut World, ev: &mut Ev, cid: ConnId, why: WakeReason) {
    if !w.conns.contains(cid) {
        return;
    }
    if conn_io(w, ev, cid, why).is_err() {
        conn_kill_internal(w, ev, cid);
    }
}

fn conn_io(w: &mut World, ev: &mut Ev, cid: ConnId, why: WakeReason) -> Result<(), Stale> {
    let c = w.conns.live(cid)?;
    if c.flags & co_fl::TAKEOVER != 0 && !hrs_backend::server::idle_conn_still_ours(w, cid) {
        // an idle connection another thread took over: its events are that thread's now
        return hrs_conn::conn_free(w, ev, cid);
    }
    let release = match &c.mux {
        Mux::H1(_) => {
            if why.contains(WakeReason::TIMER)
                && c.side == Side::Front
                && c.strm.is_none()
                && tick_is_expired(c.expire, ev.now())
            {
                front_idle_timeout(w, ev, cid)?;
            }
            h1_io_cb(w, ev, cid)? == H1Outcome::Release
        }
        Mux::H2(_) => {
            if why.contains(WakeReason::TIMER)
                && c.side == Side::Front
                && tick_is_expired(c.expire, ev.now())
            {
                // `timeout client` with no stream: GOAWAY and close
                w.conns.live_mut(cid)?.expire = TICK_ETERNITY;
                if !h2_shutdown(w, ev, cid) {
                    // the GOAWAY did not go out in time either: drop the connection
                    w.conns.live_mut(cid)?.flags |= co_fl::ERROR;
                }
            }
            h2_io_cb(w, ev, cid)? == H2Outcome::Release
        }
        Mux::Pt => hrs_conn::mux_pt::pt_io_cb(w, ev, cid)?,
    };
    if release {
        return conn_release(w, ev, cid);
    }
    if matches!(w.conns.live(cid)?.mux, Mux::H2(_)) {
        arm_front_h2_timer(w, ev, cid);
    } else {
        arm_front_idle_timer(w, ev, cid);
    }
    Ok(())
}

/// Ends connection `cid` after a lifecycle bug met while running its I/O callback (a
/// [`Stale`] handle, already reported by `bug_on!`, which panics in debug builds): counted
/// in its proxy's `internal_errors`; the streams it serves that are still live learn it as a
/// connection error and end by themselves (and release it); stream handles that are not
/// live are dropped, and a connection left without stream is released at once.
pub fn conn_kill_internal(w: &mut World, ev: &mut Ev, cid: ConnId) {
    let World {
        conns, streams, sh, ..
    } = &mut *w;
    let Some(c) = conns.get_mut(cid) else {
        return;
    };
    if let Some(p) = sh.proxies.get(c.px) {
        p.counters.internal_errors.inc();
    }
    c.flags |= co_fl::ERROR;
    let side = c.side;
    let mut attached = Vec::new();
    match &mut c.mux {
        Mux::H2(h2) => {
            for e in h2.streams.iter_mut() {
                match e.strm {
                    Some(sid) if streams.contains(sid) => attached.push(sid),
                    _ => e.strm = None,
                }
            }
        }
        Mux::H1(_) | Mux::Pt => match c.strm {
            Some(sid) if streams.contains(sid) => attached.push(sid),
            _ => c.strm = None,
        },
    }
    for &sid in &attached {
        let s = &mut streams[sid];
        // the analysers see the connection's error; a request that will not complete is
        // also an abort of the client (`h1_front_finish` says the same)
        if side == Side::Front && !s.req.has(cf::EOM) {
            s.req.flags |= cf::SHUTR;
        }
        ev.wakeup(s.task, WakeReason::IO);
    }
    if attached.is_empty() && conn_release(w, ev, cid).is_err() {
        // its session could not be freed: at least the socket goes
        let _ = hrs_conn::conn_free(w, ev, cid);
    }
}

/// Arms `timeout client` on a frontend HTTP/2 connection without streams (`h2c_update_timeout`),
/// and disarms it while streams run (theirs apply).
fn arm_front_h2_timer(w: &mut World, ev: &mut Ev, cid: ConnId) {
    let Some(c) = w.conns.get_mut(cid) else {
        return;
    };
    if c.side != Side::Front {
        return;
    }
    if c.used_streams() > 0 {
        if c.expire != TICK_ETERNITY {
            c.expire = TICK_ETERNITY;
            ev.task_set_expire(c.task, TICK_ETERNITY);
        }
        return;
    }
    if c.expire == TICK_ETERNITY {
        let t = &w.sh.proxies[c.px].cfg.timeouts;
        if let Some(ms) = t.client {
            c.expire = tick_add_ifset(ev.now(), ms);
        }
    }
    ev.task_set_expire(c.task, c.expire);
}

/// The request did not arrive in time: 408 when the client sent something or this is the
/// first request, a silent close between keep-alive requests.
fn front_idle_timeout(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<(), Stale> {
    let c = w.conns.live_mut(cid)?;
    let Mux::H1(h1) = &mut c.mux else {
        return Ok(());
    };
    let silent = h1.req_count > 0 && c.ibuf.is_empty();
    h1.rx = H1Rx::Closed;
    c.expire = TICK_ETERNITY;
    if silent || c.has(co_fl::CLOSE_AFTER_SEND) {
        c.flags |= co_fl::ERROR;
        return Ok(());
    }
    c.ibuf.clear();
    c.obuf.extend_from_slice(hrs_http::errors::error_page(408));
    c.flags |= co_fl::CLOSE_AFTER_SEND;
    w.sh.proxies[c.px].counters.failed_req.inc();
    let _ = ev;
    Ok(())
}

/// Arms the idle timer of a frontend H1 connection waiting for a request.
fn arm_front_idle_timer(w: &mut World, ev: &mut Ev, cid: ConnId) {
    let Some(c) = w.conns.get_mut(cid) else {
        return;
    };
    if c.side != Side::Front {
        return;
    }
    let Mux::H1(h1) = &c.mux else { return };
    // waiting for a request head: the receive state also says that no stream is attached
    // and that the connection is not closing
    if !matches!(h1.rx, H1Rx::Idle | H1Rx::Head) {
        return;
    }
    // the keep-alive delay covers the wait for the first byte of the next request; once a
    // head started, `timeout http-request` applies from there
    let head = matches!(h1.rx, H1Rx::Head);
    if c.expire != TICK_ETERNITY && head == h1.tmo_head {
        ev.task_set_expire(c.task, c.expire);
        return;
    }
    let t = &w.sh.proxies[c.px].cfg.timeouts;
    let tmo = if h1.req_count == 0 || head {
        t.http_request.or(t.client)
    } else {
        t.http_keep_alive.or(t.http_request).or(t.client)
    };
    let rearm = c.expire == TICK_ETERNITY || h1.req_count > 0;
    if let (Some(ms), true) = (tmo, rearm) {
        c.expire = tick_add_ifset(ev.now(), ms);
    }
    if let Mux::H1(h1) = &mut c.mux {
        h1.tmo_head = head;
    }
    ev.task_set_expire(c.task, c.expire);
}
