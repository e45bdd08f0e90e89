//! The server-side stream-interface state machine (HAProxy's `back_handle_st_*` in
//! `backend.c`/`stream.c` for the `stream_interface` of the connection era, later `stconn`):
//! INI/REQ -> (QUE) -> ASS -> CON -> EST, with CER -> TAR -> retry on connection failures.
//!
//! Touches only the stream's `si[1]`, its target and counters, and calls `hrs-backend` to get
//! a server and a connection.

use hrs_backend::backend::{
    assign_server, connect_server, srv_release_slot, ConnStatus, SrvStatus,
};
use hrs_cfg::model::{Balance, RetryOn};
use hrs_core::{cf, co_fl, sf, Cause, Ev, Finst, SiState, StrmId, World};
use hrs_ev::ticks::{tick_add, tick_add_ifset, tick_is_expired};
use hrs_ev::TICK_ETERNITY;
use hrs_list::Stale;

/// What the server side needs from the stream after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiOutcome {
    /// Waiting (connect in progress, queue, turn-around); the timer in `si[1].exp` is set.
    Wait,
    /// The connection is established: the request can go.
    Established,
    /// Giving up: answer this status to the client (503 no server / connect failure, queue
    /// timeout), the termination is recorded.
    Error(u16),
    /// Giving up without a response: the client connection is closed so that the client
    /// retries by itself (a failed reused connection, a connect timeout on a later request);
    /// the stream is logged with a 503.
    Abort,
}

/// Advances `si[1]` of stream `sid` as far as possible.
///
/// # Errors
/// [`Stale`]: the stream or a connection it holds is not live (a lifecycle bug).
pub fn back_handle(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<SiOutcome, Stale> {
    for _ in 0..16 {
        let now = ev.now();
        let s = w.streams.live_mut(sid)?;
        let be = s.be;
        match s.si[1].state {
            SiState::Ini => {
                s.si[1].state = SiState::Req;
                s.si[1].conn_retries = w.sh.proxies[be].cfg.retries;
            }
            SiState::Req => {
                // `%Tw` ends when a server is assigned (`back_handle_st_req`), each time
                if s.flags & sf::ASSIGNED != 0 {
                    s.si[1].state = SiState::Ass;
                    s.logs.t_queue = elapsed(s.logs.start, now);
                    continue;
                }
                match assign_server(w, sid)? {
                    SrvStatus::Ok => {
                        let s = w.streams.live_mut(sid)?;
                        s.si[1].state = SiState::Ass;
                        s.logs.t_queue = elapsed(s.logs.start, now);
                    }
                    SrvStatus::NoSrv => {
                        let s = w.streams.live_mut(sid)?;
                        s.term.set(Cause::SrvClose, Finst::Conn);
                        s.si[1].state = SiState::Clo;
                        w.sh.proxies[be].counters.failed_conns.inc();
                        return Ok(SiOutcome::Error(503));
                    }
                    SrvStatus::Queued => {
                        let t = &w.sh.proxies[be].cfg.timeouts;
                        let tmo = t.queue.or(t.connect);
                        let s = w.streams.live_mut(sid)?;
                        s.si[1].state = SiState::Que;
                        s.si[1].exp = tmo.map_or(TICK_ETERNITY, |ms| tick_add_ifset(now, ms));
                    }
                }
            }
            SiState::Que => {
                if s.flags & sf::QUEUED == 0 {
                    // dequeued: a slot was given to us
                    s.si[1].state = SiState::Ass;
                    s.si[1].exp = TICK_ETERNITY;
                    s.logs.t_queue = elapsed(s.logs.start, now);
                    continue;
                }
                if tick_is_expired(s.si[1].exp, now) {
                    // `%Tw` is the time spent queued; a failed connection for the backend,
                    // and for the server when queued on it
                    s.si[1].state = SiState::Clo;
                    s.term.set(Cause::SrvTo, Finst::Queue);
                    s.logs.t_queue = elapsed(s.logs.start, now);
                    if let Some(srv) = s.srv {
                        w.sh.servers[srv].counters.failed_conns.inc();
                    }
                    w.sh.proxies[be].counters.failed_conns.inc();
                    srv_release_slot(w, ev, sid)?;
                    return Ok(SiOutcome::Error(503));
                }
                return Ok(SiOutcome::Wait);
            }
            SiState::Ass => match connect_server(w, ev, sid)? {
                ConnStatus::Ok => {
                    let s = w.streams.live_mut(sid)?;
                    if s.si[1].state == SiState::Con {
                        let tmo = w.sh.proxies[be].cfg.timeouts.connect;
                        s.si[1].exp = tmo.map_or(TICK_ETERNITY, |ms| tick_add(now, ms));
                    }
                }
                ConnStatus::Failed => {
                    w.streams.live_mut(sid)?.si[1].state = SiState::Cer;
                }
            },
            SiState::Con => {
                let Some(cid) = s.si[1].conn else {
                    s.si[1].state = SiState::Cer;
                    continue;
                };
                let c = w.conns.live(cid)?;
                if c.has(co_fl::ERROR) {
                    s.si[1].state = SiState::Cer;
                    continue;
                }
                if c.has(co_fl::CONNECTED) {
                    s.si[1].state = SiState::Est;
                    s.si[1].exp = TICK_ETERNITY;
                    continue;
                }
                if tick_is_expired(s.si[1].exp, now) {
                    s.si[1].state = SiState::Cer;
                    s.flags |= FL_CONN_TIMEOUT;
                    continue;
                }
                return Ok(SiOutcome::Wait);
            }
            SiState::Cer => {
                // close the failed connection, count, decide to retry
                if let Some(cid) = s.si[1].conn.take() {
                    back_conn_drop(w, ev, sid, cid)?;
                }
                let s = w.streams.live_mut(sid)?;
                let timed_out = s.flags & FL_CONN_TIMEOUT != 0;
                s.flags &= !FL_CONN_TIMEOUT;
                let conn_failure_retried = w.sh.proxies[be].cfg.retry_on.has(RetryOn::CONN_FAILED);
                if s.si[1].conn_retries == 0 || !conn_failure_retried {
                    // a failed connection is counted once, when no retry is left (the
                    // retries are counted apart)
                    if let Some(srv) = s.srv {
                        w.sh.servers[srv].counters.failed_conns.inc();
                    }
                    w.sh.proxies[be].counters.failed_conns.inc();
                    // a failed reused connection, or a timeout on a later request, closes
                    // the client connection without a response so that it retries
                    let reused = s.flags & sf::SRV_REUSED != 0;
                    let not_first = s.txn.flags & hrs_core::tx::NOT_FIRST != 0;
                    let silent = reused || (timed_out && not_first);
                    s.term.set(
                        if timed_out {
                            Cause::SrvTo
                        } else {
                            Cause::SrvClose
                        },
                        Finst::Conn,
                    );
                    s.si[1].state = SiState::Clo;
                    srv_release_slot(w, ev, sid)?;
                    return Ok(if silent {
                        SiOutcome::Abort
                    } else {
                        SiOutcome::Error(503)
                    });
                }
                s.si[1].conn_retries -= 1;
                s.si[1].retries_done += 1;
                // an HTTP/2 connection that failed also failed the streams it carried
                // (response shut, server close): nothing came from it, and the retry
                // starts clean, as upstream's CER leaves the response channel untouched
                s.res.flags &= !cf::SHUTR;
                s.txn.flags &= !hrs_core::tx::SRV_CLOSE;
                let reused = s.flags & sf::SRV_REUSED != 0;
                stream_choose_redispatch(w, ev, sid)?;
                // turn-around delay when retrying the same server (or when a new pick could
                // well be the same one), never after a reused connection failed
                let px = &w.sh.proxies[be];
                let rr = matches!(px.cfg.balance, Balance::RoundRobin | Balance::StaticRr);
                let few = active_servers(w, be) <= 1;
                let s = w.streams.live_mut(sid)?;
                let wait = !timed_out && !reused && (s.si[1].state == SiState::Ass || !rr || few);
                if wait {
                    let delay = px.cfg.timeouts.connect.map_or(1000, |c| c.min(1000));
                    s.si[1].exp = tick_add(now, delay);
                    s.si[1].state = SiState::Tar;
                }
            }
            SiState::Tar => {
                if !tick_is_expired(s.si[1].exp, now) {
                    return Ok(SiOutcome::Wait);
                }
                s.si[1].exp = TICK_ETERNITY;
                // the same server as long as the stream keeps it assigned (no redispatch)
                s.si[1].state = if s.flags & sf::ASSIGNED != 0 {
                    SiState::Ass
                } else {
                    SiState::Req
                };
            }
            SiState::Rdy | SiState::Est => {
                // `%Tc` ends at the last establishment (`back_establish`): an L7 retry's
                s.logs.t_connect = elapsed(s.logs.start, now);
                return Ok(SiOutcome::Established);
            }
            SiState::Dis | SiState::Clo => return Ok(SiOutcome::Wait),
        }
    }
    Ok(SiOutcome::Wait)
}

/// Decides whether a retry goes to another server (`stream_choose_redispatch`): with
/// `option redispatch`, when the server is not usable, on the last retry, or when a
/// round-robin balancer (`roundrobin`, `static-rr`: upstream's `BE_LB_KIND_RR`) has several
/// active servers. A redispatch releases the server slot
/// and goes back to `REQ` (counted by `assign_server`); otherwise the retry on the same
/// server is counted and `si[1]` goes back to `ASS`.
pub(crate) fn stream_choose_redispatch(
    w: &mut World,
    ev: &mut Ev,
    sid: StrmId,
) -> Result<(), Stale> {
    let s = w.streams.live(sid)?;
    let be = s.be;
    let px = &w.sh.proxies[be];
    let srv_down = s.srv.is_some_and(|i| !w.sh.servers[i].is_up());
    let rr_kind = matches!(px.cfg.balance, Balance::RoundRobin | Balance::StaticRr);
    let redispatch = s.srv.is_some()
        && px.cfg.options.redispatch
        && (srv_down || s.si[1].conn_retries == 0 || (rr_kind && active_servers(w, be) > 1));
    if redispatch {
        srv_release_slot(w, ev, sid)?;
        let s = w.streams.live_mut(sid)?;
        s.flags &= !sf::ASSIGNED;
        s.flags |= sf::REDISP_PENDING;
        s.si[1].state = SiState::Req;
    } else {
        let s = w.streams.live_mut(sid)?;
        s.si[1].state = SiState::Ass;
        if let Some(srv) = s.srv {
            w.sh.servers[srv].counters.retries.inc();
        }
        w.sh.proxies[be].counters.retries.inc();
    }
    Ok(())
}

/// Usable, non-backup servers of backend `be` with a weight (`srv_act`).
fn active_servers(w: &World, be: hrs_core::PxId) -> usize {
    w.sh.proxies[be]
        .servers
        .iter()
        .filter(|&&i| {
            let sv = &w.sh.servers[i];
            sv.is_up() && !sv.cfg.backup && sv.cfg.weight > 0
        })
        .count()
}

/// Private stream flag: the last connect attempt timed out.
const FL_CONN_TIMEOUT: u32 = 1 << 16;

/// Milliseconds from `start` to `now`.
pub(crate) fn elapsed(start: hrs_ev::Tick, now: hrs_ev::Tick) -> i64 {
    now.wrapping_sub(start) as i32 as i64
}

/// Detaches stream `sid` from its server connection `cid` and closes the connection (a
/// failed connect; an HTTP/1 response discarded), unless it is a multiplexed connection
/// other streams still use: then only this stream is reset.
///
/// # Errors
/// [`Stale`]: `cid` is not live.
pub(crate) fn back_conn_drop(
    w: &mut World,
    ev: &mut Ev,
    sid: StrmId,
    cid: hrs_core::ConnId,
) -> Result<(), Stale> {
    let c = w.conns.live_mut(cid)?;
    if c.is_mux_h2() {
        let used = hrs_conn::mux_h2::h2_back_detach(c, sid);
        if used > 0 {
            ev.wakeup(c.task, hrs_ev::WakeReason::MSG);
            return Ok(());
        }
    } else {
        c.strm = None;
    }
    crate::session::conn_release(w, ev, cid)
}
