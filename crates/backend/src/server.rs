//! Server connection pools at run time (HAProxy's `server.c`: `srv_add_to_idle_list`,
//! `srv_cleanup_idle_conns`, `srv_cleanup_connections`; `backend.c`: `conn_backend_get`;
//! `session.h`: `session_check_idle_conn`; the pooling half of `mux_h1.c:h1_detach`).
//!
//! May touch servers' pools and gauges, backend connections that are idle (never one
//! attached to a stream), session lists, and the purge timers. The decisions themselves are
//! the pure functions of [`crate::pool`]. Lifecycle: `docs/reuse.md`.

use crate::pool::{may_admit, purge_plan, AdmitInput};
use hrs_cfg::model::HttpReuse;
use hrs_core::{co_fl, ConnId, Ctx, Ev, SessId, SrvId, Target, World};
use hrs_ev::ticks::tick_add;
use hrs_list::Stale;

/// Takes an idle connection of `srv` with reuse key `hash` (`conn_backend_get`): from the
/// safe list only when `is_safe`, else from the idle list then the safe list; the oldest
/// first. The connection leaves its list and counts as used. `None` when no match.
///
/// # Errors
/// [`Stale`]: the list held a connection that is not live (a lifecycle bug).
pub fn conn_backend_get(
    w: &mut World,
    srv: SrvId,
    is_safe: bool,
    hash: u64,
) -> Result<Option<ConnId>, Stale> {
    let pool = &mut w.servers[srv].pool;
    let cid = if is_safe {
        pool.safe.pop_front(&mut w.conns, hash)
    } else {
        pool.idle
            .pop_front(&mut w.conns, hash)
            .or_else(|| pool.safe.pop_front(&mut w.conns, hash))
    };
    let Some(cid) = cid else { return Ok(None) };
    let c = w.conns.live_mut(cid)?;
    hrs_list::bug_on!(
        c.flags & co_fl::LIST_MASK == 0,
        "pooled conn without list flag"
    );
    c.flags &= !co_fl::LIST_MASK;
    w.srv_use_conn(srv);
    Ok(Some(cid))
}

/// Offers the idle, non-private connection `cid` to its server's pools
/// (`srv_add_to_idle_list`). `is_safe` says the request just finished was not the
/// connection's first. Returns false when the server refuses it: the caller closes it at
/// once. On success the connection is in the idle or safe list, no longer counted as used,
/// and the server's purge timer runs.
/// Precondition: no stream attached, not private, not in any list, target is a server.
///
/// # Errors
/// [`Stale`]: `cid` is not live.
pub fn srv_add_to_idle_list(
    w: &mut World,
    ev: &mut Ev,
    cid: ConnId,
    is_safe: bool,
) -> Result<bool, Stale> {
    let c = w.conns.live(cid)?;
    debug_assert!(c.used_streams() == 0 && !c.pool_link.is_linked());
    let Target::Server(srv) = c.target else {
        return Ok(false);
    };
    let hash = c.hash;
    let sv = &w.servers[srv];
    let pool = &sv.pool;
    let admit = AdmitInput {
        private: c.has(co_fl::PRIVATE),
        mode_never: w.proxies[sv.px].cfg.http_reuse == HttpReuse::Never,
        purge_delay: sv.cfg.pool_purge_delay,
        max_idle: sv.cfg.pool_max_conn,
        low_idle: sv.cfg.pool_low_conn,
        used_fds: w.used_fds(),
        low_count: w.global.pool_low_count,
        high_count: w.global.pool_high_count,
        curr_idle: pool.curr_idle(),
        thr_idle: pool.idle.len() as u32,
        thr_safe: pool.safe.len() as u32,
        curr_used: pool.curr_used,
        est_need: pool.est_need,
        is_safe,
    };
    if c.avail_streams() == 0 || !may_admit(&admit) {
        return Ok(false);
    }
    let purge_delay = sv.cfg.pool_purge_delay;
    let sv = &mut w.servers[srv];
    sv.pool.curr_used = sv.pool.curr_used.saturating_sub(1);
    let list_flag = if is_safe {
        sv.pool.safe.push_back(&mut w.conns, hash, cid);
        co_fl::SAFE_LIST
    } else {
        sv.pool.idle.push_back(&mut w.conns, hash, cid);
        co_fl::IDLE_LIST
    };
    w.conns.live_mut(cid)?.flags |= list_flag;
    // the server enters the purge schedule if it was not in it
    let task = *sv
        .pool
        .purge_task
        .get_or_insert_with(|| ev.task_new(Ctx::SrvPurge(srv)));
    if ev
        .task_expire(task)
        .is_none_or(|t| t == hrs_ev::TICK_ETERNITY)
    {
        let when = tick_add(ev.now(), purge_delay);
        ev.task_set_expire(task, when);
    }
    Ok(true)
}

/// Decides the fate of a backend connection whose stream ended with a reusable exchange
/// (the pooling part of `h1_detach`): a private one stays with session `sess` unless the
/// session holds `max-session-srv-conns` idle ones already; any other is offered to the
/// server pools. Returns false when the connection was refused: the caller frees it.
/// Precondition: `cid` is detached from its stream and can carry another request; it was
/// made private by `connect_server` if its backend says `http-reuse never` or its target is
/// not a server.
///
/// # Errors
/// [`Stale`]: `cid` is not live.
pub fn conn_detach_idle(
    w: &mut World,
    ev: &mut Ev,
    cid: ConnId,
    sess: SessId,
) -> Result<bool, Stale> {
    let c = w.conns.live(cid)?;
    let is_safe = match &c.mux {
        hrs_core::Mux::H1(h) => h.req_count > 1,
        hrs_core::Mux::Pt => return Ok(false),
        // an HTTP/2 connection with no stream left is always offered as safe
        hrs_core::Mux::H2(_) => true,
    };
    debug_assert!(
        c.has(co_fl::PRIVATE)
            || (w.proxies[c.px].cfg.http_reuse != HttpReuse::Never
                && matches!(c.target, Target::Server(_))),
        "a shareable connection under http-reuse never or to a non-server target"
    );
    if c.has(co_fl::PRIVATE) {
        if !w.session_add_conn(sess, cid) {
            return Ok(false);
        }
        return session_check_idle_conn(w, sess, cid);
    }
    w.session_unown_conn(cid);
    srv_add_to_idle_list(w, ev, cid, is_safe)
}

/// Decides the fate of HTTP/2 backend connection `cid` after one of its streams detached
/// (the pooling half of `h2_detach`), with `used` streams still attached:
/// - private (made so by `connect_server` under `http-reuse never` or for a non-server
///   target): it stays with session `sess`; once no stream is left the session cap applies;
/// - not private, no stream left: it leaves the session and the `avail` list and is offered
///   to the idle pools as safe;
/// - not private, streams still running: it enters `avail` if it is in no list, has free
///   stream slots and is not held by a session (how an `aggressive` connection becomes
///   shareable).
///
/// Returns false when the connection must be released by the caller: it cannot carry
/// another stream (GOAWAY, error, `max-reuse` reached) and none is attached, or it was
/// refused by the pools or the session cap.
///
/// # Errors
/// [`Stale`]: `cid` is not live.
pub fn h2_conn_detached(
    w: &mut World,
    ev: &mut Ev,
    cid: ConnId,
    sess: SessId,
    used: u32,
) -> Result<bool, Stale> {
    let c = w.conns.live(cid)?;
    let usable = hrs_conn::mux_h2::h2_usable(c) && c.avail_streams() > 0;
    if !usable {
        // a connection that had a stream is in no idle list: linked, it is in `avail`
        if c.pool_link.is_linked() {
            // no more slots: out of `avail` (it stays counted as used while streams run)
            if let Target::Server(srv) = c.target {
                let hash = c.hash;
                w.servers[srv].pool.avail.unlink(&mut w.conns, hash, cid);
            }
        }
        return Ok(used > 0);
    }
    debug_assert!(
        c.has(co_fl::PRIVATE)
            || (w.proxies[c.px].cfg.http_reuse != HttpReuse::Never
                && matches!(c.target, Target::Server(_))),
        "a shareable connection under http-reuse never or to a non-server target"
    );
    let srv = match c.target {
        Target::Server(srv) if !c.has(co_fl::PRIVATE) => srv,
        // private: it stays with its session (so would, defensively, a connection to no
        // server, which the assertion above rules out)
        _ => {
            if !w.session_add_conn(sess, cid) {
                return Ok(used > 0);
            }
            return Ok(used > 0 || session_check_idle_conn(w, sess, cid)?);
        }
    };
    if used == 0 {
        w.session_unown_conn(cid);
        let c = w.conns.live(cid)?;
        if c.pool_link.is_linked() {
            let hash = c.hash;
            w.servers[srv].pool.avail.unlink(&mut w.conns, hash, cid);
        }
        return srv_add_to_idle_list(w, ev, cid, true);
    }
    if !c.pool_link.is_linked() && !c.sess_link.is_linked() {
        let hash = c.hash;
        w.servers[srv].pool.avail.push_back(&mut w.conns, hash, cid);
    }
    Ok(true)
}

/// Counts private connection `cid` as idle in session `sess`, unless the session already
/// keeps `max-session-srv-conns` idle connections (`session_check_idle_conn`). Returns false
/// when over the cap: the connection left the session and the caller frees it.
fn session_check_idle_conn(w: &mut World, sess: SessId, cid: ConnId) -> Result<bool, Stale> {
    let se = w.sessions.live_mut(sess)?;
    let c = w.conns.live_mut(cid)?;
    let cap = w.proxies[se.fe].cfg.max_session_srv_conns;
    if se.idle_conns >= cap {
        w.session_unown_conn(cid);
        return Ok(false);
    }
    se.idle_conns += 1;
    c.flags |= co_fl::SESS_IDLE;
    Ok(true)
}

/// The purge timer of `srv` fired (`srv_cleanup_idle_conns`): closes part of the idle
/// connections beyond the estimated need (idle list first, then safe), updates the estimate,
/// and re-arms the timer while idle connections remain.
pub fn srv_cleanup_idle_conns(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let sv = &w.servers[srv];
    let Some(task) = sv.pool.purge_task else {
        return;
    };
    let p = &sv.pool;
    let plan = purge_plan(p.curr_used, p.curr_idle(), p.max_used, p.est_need);
    let delay = sv.cfg.pool_purge_delay;
    let pool = &mut w.servers[srv].pool;
    pool.est_need = plan.est_need;
    pool.max_used = plan.max_used;
    // freeing takes each one out of its list and gauges (`srv_release_conn`)
    free_all(w, ev, pooled_conns(w, srv, plan.close as usize));
    let pool = &w.servers[srv].pool;
    let next = if pool.curr_idle() > 0 {
        tick_add(ev.now(), delay)
    } else {
        hrs_ev::TICK_ETERNITY
    };
    ev.task_set_expire(task, next);
}

/// Closes every idle connection of `srv` (`srv_cleanup_connections`), when it enters
/// maintenance. Connections in use finish normally.
pub fn srv_cleanup_connections(w: &mut World, ev: &mut Ev, srv: SrvId) {
    free_all(w, ev, pooled_conns(w, srv, usize::MAX));
}

/// Closes one connection of the idle list of `srv` (not the safe list) when file
/// descriptors run short (`connect_server` above `tune.pool-high-fd-ratio`); nothing when
/// that list is empty. Upstream looks at the safe lists of other threads only: with one
/// thread's pools, proven connections are never killed here.
pub fn srv_kill_one_idle(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let idle = &w.servers[srv].pool.idle;
    let first = idle.keys().find_map(|k| idle.first(&k));
    free_all(w, ev, first.into_iter().collect());
}

/// Frees idle connections taken from the pools. They are live (the list walk stops at a
/// stale member, reporting it), so `conn_free` cannot fail but on a connection listed
/// twice: that one was reported by `bug_on!` and is skipped.
fn free_all(w: &mut World, ev: &mut Ev, conns: Vec<ConnId>) {
    for cid in conns {
        let _ = hrs_conn::conn_free(w, ev, cid);
    }
}

/// Up to `max` idle connections of `srv`: the idle list first, then the safe list, each
/// oldest first within a key.
fn pooled_conns(w: &World, srv: SrvId, max: usize) -> Vec<ConnId> {
    let pool = &w.servers[srv].pool;
    let mut out = Vec::new();
    for list in [&pool.idle, &pool.safe] {
        for key in list.keys() {
            out.extend(list.iter_of(&w.conns, &key));
        }
    }
    out.truncate(max);
    out
}
