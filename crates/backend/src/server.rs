//! Server connection pools at run time (HAProxy's `server.c`: `srv_add_to_idle_list`,
//! `srv_cleanup_idle_conns`, `srv_cleanup_connections`; `backend.c`: `conn_backend_get`;
//! `session.h`: `session_check_idle_conn`; the pooling half of `mux_h1.c:h1_detach`).
//!
//! May touch this thread's pools, the servers' shared gauges (atomics), backend connections
//! that are idle (never one attached to a stream), session lists, and the purge timers
//! (thread 0's). From another thread: only the takeover registry of that thread, under its
//! lock, to take over one of its idle connections (`docs/threads.md`). The decisions themselves are
//! the pure functions of [`crate::pool`]. Lifecycle: `docs/reuse.md`.

use crate::pool::{may_admit, purge_plan, purge_share, AdmitInput};
use hrs_cfg::model::HttpReuse;
use hrs_core::{co_fl, ConnId, Ctx, Ev, IdleEntry, Msg, Mux, SessId, SrvId, Target, Tid, World};
use hrs_ev::ticks::tick_add;
use hrs_list::Stale;
use std::os::fd::FromRawFd;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// Takes an idle connection of `srv` with reuse key `hash` (`conn_backend_get`): from the
/// safe lists only when `is_safe`, else from the idle list then the safe list; the oldest
/// first. This thread's lists first; then, with takeover on (`tune.idle-pool.shared`, more
/// than one thread), the other threads' in turn (`takeover`). The
/// connection leaves its list and counts as used. `None` when no match.
///
/// # Errors
/// [`Stale`]: the list held a connection that is not live (a lifecycle bug).
pub fn conn_backend_get(
    w: &mut World,
    ev: &mut Ev,
    srv: SrvId,
    is_safe: bool,
    hash: u64,
) -> Result<Option<ConnId>, Stale> {
    loop {
        let pool = &mut w.pools[srv];
        let cid = if is_safe {
            pool.safe.pop_front(&mut w.conns, hash)
        } else {
            pool.idle
                .pop_front(&mut w.conns, hash)
                .or_else(|| pool.safe.pop_front(&mut w.conns, hash))
        };
        let Some(cid) = cid else { break };
        let flags = w.conns.live(cid)?.flags;
        hrs_list::bug_on!(
            flags & co_fl::LIST_MASK == 0,
            "pooled conn without list flag"
        );
        // out of the lists already: `conn_free` below must not unlink it again
        let owned = w.idle_claim(srv, hash, cid);
        w.conns.live_mut(cid)?.flags &= !(co_fl::LIST_MASK | co_fl::TAKEOVER);
        if !owned {
            // another thread took it over meanwhile: forget our copy, look further
            forget_taken(w, ev, cid);
            continue;
        }
        w.srv_use_conn(srv);
        let n = w.sh.threads.len();
        w.sh.servers[srv]
            .next_takeover
            .store(((usize::from(w.tid) + 1) % n) as u32, Relaxed);
        return Ok(Some(cid));
    }
    if w.takeover_on() {
        return Ok(takeover(w, ev, srv, is_safe, hash));
    }
    Ok(None)
}

/// Forgets idle connection `cid`, already out of its list, that another thread took over:
/// out of the poller, our descriptor closed, the socket untouched.
fn forget_taken(w: &mut World, ev: &mut Ev, cid: ConnId) {
    if let Some(mut c) = w.conns.remove(cid) {
        c.xprt.deregister(ev);
        if let Some(fd) = c.fd {
            ev.fd_delete(fd);
        }
        ev.task_free(c.task);
    }
}

/// Takes over an idle connection of `srv` with key `hash` from another thread
/// (`conn_backend_get`'s loop over the other threads, then `conn->mux->takeover`): the
/// threads after this one in turn, skipping those with no idle connection to the server.
/// Under the owner's registry lock the entry is removed and the socket duplicated, so the
/// owner cannot close it in between; the owner is then told to forget its copy
/// ([`Msg::Taken`]) and the connection is adopted here, counted as used. `None` when no
/// thread has a match (or the socket cannot be duplicated or polled).
fn takeover(w: &mut World, ev: &mut Ev, srv: SrvId, is_safe: bool, hash: u64) -> Option<ConnId> {
    let sv = &w.sh.servers[srv];
    // `pool-low-conn`: no stealing while the server has few idle connections, unless file
    // descriptors run short
    if sv.curr_idle() < sv.cfg.pool_low_conn && w.used_fds() < w.sh.global.pool_low_count {
        return None;
    }
    let n = w.sh.threads.len();
    let me = usize::from(w.tid);
    let stop = (sv.next_takeover.load(Relaxed) as usize) % n;
    for i in 0..n {
        let t = (stop + i) % n;
        let sv = &w.sh.servers[srv];
        if t == me || sv.idle_thr[t].load(Relaxed) == 0 {
            continue;
        }
        let (e, fd) = {
            // a thread busy with its registry is skipped, as upstream's try-lock
            let Some(mut reg) = w.sh.threads[t].idle.try_lock() else {
                continue;
            };
            let Some(e) = reg.take(srv, hash, is_safe) else {
                continue;
            };
            // SAFETY: `e.fd` is open: its owner closes it only after failing to find the
            // entry in the registry, whose lock we hold.
            let fd = unsafe { libc::dup(e.fd) };
            (e, fd)
        };
        hrs_core::pools::gauge_dec(if e.safe { &sv.safe_nb } else { &sv.idle_nb });
        hrs_core::pools::gauge_dec(&sv.idle_thr[t]);
        w.sh.send(t as Tid, Msg::Taken(e.cid));
        if fd < 0 {
            log::warn!(target: "hrs::server", "takeover: dup: {}", std::io::Error::last_os_error());
            continue;
        }
        // SAFETY: `fd` was just created by dup() and is owned by nothing else.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        match hrs_conn::conn_adopt_back(w, ev, fd, srv, hash, &e) {
            Ok(cid) => {
                w.srv_use_conn(srv);
                w.sh.servers[srv]
                    .next_takeover
                    .store(((t + 1) % n) as u32, Relaxed);
                return Some(cid);
            }
            Err(err) => {
                log::warn!(target: "hrs::server", "takeover: {err}");
            }
        }
    }
    None
}

/// An idle connection of this thread was taken over by another thread ([`Msg::Taken`]):
/// if this thread still has it (the normal case: it was in a list, untouched), it is
/// forgotten without touching the socket. Already gone: nothing to do.
pub fn conn_taken_over(w: &mut World, ev: &mut Ev, cid: ConnId) {
    let Some(c) = w.conns.get(cid) else { return };
    if !listed_for_takeover(c) {
        return;
    }
    // its registry entry is gone: `conn_free` only unlinks it and forgets it
    let _ = hrs_conn::conn_free(w, ev, cid);
}

/// Whether `c` is listed in its thread's takeover registry (`co_fl::TAKEOVER`, only ever
/// set on a connection in an idle or safe list, and cleared when it leaves).
fn listed_for_takeover(c: &hrs_core::Connection) -> bool {
    let listed = c.flags & co_fl::TAKEOVER != 0;
    debug_assert!(
        !listed || c.flags & co_fl::LIST_MASK != 0,
        "listed for takeover outside the idle lists"
    );
    listed
}

/// True when idle connection `cid` of this thread is still its own: not listed for
/// takeover, or still in the registry. A connection that polled readable or timed out
/// while idle is checked first: if another thread took it, its events are not ours.
pub fn idle_conn_still_ours(w: &World, cid: ConnId) -> bool {
    let Some(c) = w.conns.get(cid) else {
        return false;
    };
    if !listed_for_takeover(c) {
        return true;
    }
    let Target::Server(srv) = c.target else {
        return true;
    };
    w.sh.threads[usize::from(w.tid)]
        .idle
        .lock()
        .contains(srv, c.hash, cid)
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
    let sv = &w.sh.servers[srv];
    let pool = &w.pools[srv];
    let admit = AdmitInput {
        private: c.has(co_fl::PRIVATE),
        mode_never: w.sh.proxies[sv.px].cfg.http_reuse == HttpReuse::Never,
        purge_delay: sv.cfg.pool_purge_delay,
        max_idle: sv.cfg.pool_max_conn,
        low_idle: sv.cfg.pool_low_conn,
        used_fds: w.used_fds(),
        low_count: w.sh.global.pool_low_count,
        high_count: w.sh.global.pool_high_count,
        curr_idle: sv.curr_idle(),
        thr_idle: pool.idle.len() as u32,
        thr_safe: pool.safe.len() as u32,
        curr_used: sv.curr_used.load(Relaxed),
        est_need: sv.est_need.load(Relaxed),
        is_safe,
    };
    if c.avail_streams() == 0 || !may_admit(&admit) {
        return Ok(false);
    }
    let purge_delay = sv.cfg.pool_purge_delay;
    hrs_core::pools::gauge_dec(&sv.curr_used);
    let tid = usize::from(w.tid);
    let pool = &mut w.pools[srv];
    let list_flag = if is_safe {
        pool.safe.push_back(&mut w.conns, hash, cid);
        sv.safe_nb.fetch_add(1, Relaxed);
        co_fl::SAFE_LIST
    } else {
        pool.idle.push_back(&mut w.conns, hash, cid);
        sv.idle_nb.fetch_add(1, Relaxed);
        co_fl::IDLE_LIST
    };
    sv.idle_thr[tid].fetch_add(1, Relaxed);
    let takeover = w.takeover_on();
    let c = w.conns.live_mut(cid)?;
    c.flags |= list_flag;
    // an HTTP/1 connection is open to takeover by other threads (HTTP/2 ones stay here)
    if takeover && matches!(c.mux, Mux::H1(_)) {
        c.flags |= co_fl::TAKEOVER;
        let e = IdleEntry {
            cid,
            fd: c.xprt.raw_fd().unwrap_or(-1),
            safe: is_safe,
            req_count: c.h1().map_or(0, |h| h.req_count),
            px: c.px,
            src: c.src,
            dst: c.dst,
        };
        w.sh.threads[tid].idle.lock().insert(srv, hash, e);
    } else {
        c.flags &= !co_fl::TAKEOVER;
    }
    // the server enters the purge schedule if it was not in it (thread 0 runs the purges);
    // the gauges were raised before the flag is read: see `srv_cleanup_idle_conns`
    std::sync::atomic::fence(SeqCst);
    if !sv.purge_armed.swap(true, SeqCst) {
        if w.tid == 0 {
            srv_arm_purge(w, ev, srv, purge_delay);
        } else {
            w.sh.send(0, Msg::ArmPurge(srv));
        }
    }
    Ok(true)
}

/// Arms the purge timer of `srv` on this thread (thread 0), `delay` from now, unless it
/// runs already.
pub fn srv_arm_purge(w: &mut World, ev: &mut Ev, srv: SrvId, delay: u32) {
    let task = *w.pools[srv]
        .purge_task
        .get_or_insert_with(|| ev.task_new(Ctx::SrvPurge(srv)));
    if ev
        .task_expire(task)
        .is_none_or(|t| t == hrs_ev::TICK_ETERNITY)
    {
        let when = tick_add(ev.now(), delay);
        ev.task_set_expire(task, when);
    }
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
            || (w.sh.proxies[c.px].cfg.http_reuse != HttpReuse::Never
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
                w.pools[srv].avail.unlink(&mut w.conns, hash, cid);
            }
        }
        return Ok(used > 0);
    }
    debug_assert!(
        c.has(co_fl::PRIVATE)
            || (w.sh.proxies[c.px].cfg.http_reuse != HttpReuse::Never
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
            w.pools[srv].avail.unlink(&mut w.conns, hash, cid);
        }
        return srv_add_to_idle_list(w, ev, cid, true);
    }
    if !c.pool_link.is_linked() && !c.sess_link.is_linked() {
        let hash = c.hash;
        w.pools[srv].avail.push_back(&mut w.conns, hash, cid);
    }
    Ok(true)
}

/// Counts private connection `cid` as idle in session `sess`, unless the session already
/// keeps `max-session-srv-conns` idle connections (`session_check_idle_conn`). Returns false
/// when over the cap: the connection left the session and the caller frees it.
fn session_check_idle_conn(w: &mut World, sess: SessId, cid: ConnId) -> Result<bool, Stale> {
    let se = w.sessions.live_mut(sess)?;
    let c = w.conns.live_mut(cid)?;
    let cap = w.sh.proxies[se.fe].cfg.max_session_srv_conns;
    if se.idle_conns >= cap {
        w.session_unown_conn(cid);
        return Ok(false);
    }
    se.idle_conns += 1;
    c.flags |= co_fl::SESS_IDLE;
    Ok(true)
}

/// The purge timer of `srv` fired on thread 0 (`srv_cleanup_idle_conns`): computes how
/// many idle connections exceed the need over all threads, updates the estimate, and has
/// each thread close its share (in proportion to its idle connections, plus one, as
/// upstream rounds), idle list first, then safe: this thread at once, the others through
/// [`Msg::Purge`]. Re-arms the timer while idle connections remain.
pub fn srv_cleanup_idle_conns(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let Some(task) = w.pools[srv].purge_task else {
        return;
    };
    let sh = std::sync::Arc::clone(&w.sh);
    let sv = &sh.servers[srv];
    let curr_idle = sv.curr_idle();
    if curr_idle > 0 {
        let plan = purge_plan(
            sv.curr_used.load(Relaxed),
            curr_idle,
            sv.max_used.load(Relaxed),
            sv.est_need.load(Relaxed),
        );
        sv.est_need.store(plan.est_need, Relaxed);
        sv.max_used.store(plan.max_used, Relaxed);
        if plan.exceed > 0 {
            let n = sh.threads.len();
            let me = usize::from(w.tid);
            for i in 0..n {
                let t = (me + i) % n;
                let share = purge_share(plan.exceed, sv.idle_thr[t].load(Relaxed), curr_idle);
                if t == me {
                    srv_purge_own(w, ev, srv, share);
                } else if share > 0 {
                    sh.send(t as Tid, Msg::Purge { srv, n: share });
                }
            }
        }
    }
    let sv = &w.sh.servers[srv];
    let mut rearm = sv.curr_idle() > 0;
    if !rearm {
        // out of the schedule; a connection pooled meanwhile by a thread that still saw the
        // flag set is seen here (both sides: gauge, fence, flag), and the timer stays
        sv.purge_armed.store(false, SeqCst);
        std::sync::atomic::fence(SeqCst);
        rearm = sv.curr_idle() > 0 && !sv.purge_armed.swap(true, SeqCst);
    }
    let next = if rearm {
        tick_add(ev.now(), sv.cfg.pool_purge_delay)
    } else {
        hrs_ev::TICK_ETERNITY
    };
    ev.task_set_expire(task, next);
}

/// Closes up to `n` idle connections of `srv` from this thread's lists (its share of a
/// purge), idle list first, then safe.
pub fn srv_purge_own(w: &mut World, ev: &mut Ev, srv: SrvId, n: u32) {
    // freeing takes each one out of its list and gauges (`srv_release_conn`)
    free_all(w, ev, pooled_conns(w, srv, n as usize));
}

/// Closes every idle connection of `srv` (`srv_cleanup_connections`), when it enters
/// maintenance. Connections in use finish normally.
pub fn srv_cleanup_connections(w: &mut World, ev: &mut Ev, srv: SrvId) {
    free_all(w, ev, pooled_conns(w, srv, usize::MAX));
}

/// Closes one idle connection of `srv` when file descriptors run short (`connect_server`
/// above `tune.pool-high-fd-ratio`): the first of this thread's idle list (not its safe
/// list); when that is empty, one of the next thread that has idle connections to the
/// server (its idle list first, then its safe list: a [`Msg::Purge`] of one), as upstream
/// looks at the other threads' lists.
pub fn srv_kill_one_idle(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let idle = &w.pools[srv].idle;
    let first = idle.keys().find_map(|k| idle.first(&k));
    if let Some(first) = first {
        free_all(w, ev, vec![first]);
        return;
    }
    let n = w.sh.threads.len();
    let me = usize::from(w.tid);
    let sv = &w.sh.servers[srv];
    if let Some(t) = (1..n)
        .map(|i| (me + i) % n)
        .find(|&t| sv.idle_thr[t].load(Relaxed) > 0)
    {
        w.sh.send(t as Tid, Msg::Purge { srv, n: 1 });
    }
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
    let pool = &w.pools[srv];
    let mut out = Vec::new();
    for list in [&pool.idle, &pool.safe] {
        for key in list.keys() {
            out.extend(list.iter_of(&w.conns, &key));
        }
    }
    out.truncate(max);
    out
}
