//! Choosing a server and getting a connection to it (HAProxy's `backend.c`: `assign_server`,
//! `connect_server`; `queue.c`: `pendconn_add`, `process_srv_queue`).
//!
//! May touch the stream being served, its session's server connections, this thread's
//! connection pools (through [`crate::server`]), and the shared backend and servers: the LB
//! state, the queues and `served` only under the backend's lock (`lbprm`), counters and
//! gauges as atomics. A stream of another thread is reached only through a
//! [`Msg::Dequeued`]. Connections are created through `hrs-conn`. The reuse rules are in
//! `docs/reuse.md`, the threading model in `docs/threads.md`.

use crate::pool::{reuse_lookup, PoolLookup};
use crate::server::conn_backend_get;
use hrs_cfg::model::{Balance, HttpReuse, Mode, RetryOn};
use hrs_core::{
    co_fl, sf, tx, ConnId, Ev, H1c, LbState, Msg, Mux, Pending, PxId, Shared, SiState, SrvId,
    SrvShared, Stream, StrmId, Target, Tid, World,
};
use hrs_ev::WakeReason;
use hrs_list::Stale;
use std::sync::atomic::Ordering::Relaxed;

/// Outcome of [`assign_server`] (`SRV_STATUS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrvStatus {
    /// A server (or the dispatch address) is assigned.
    Ok,
    /// No server is usable: the caller answers 503.
    NoSrv,
    /// The chosen server is full: the stream was queued (`SRV_STATUS_QUEUED`).
    Queued,
}

/// Outcome of [`connect_server`] (`SF_ERR_*` subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnStatus {
    /// A connection is attached to `si[1]`: in progress (`SI_ST_CON`) or reused and ready.
    Ok,
    /// No connection could be created (resource or address error): counts as a failed
    /// attempt.
    Failed,
}

/// Picks a server for stream `sid` on its backend (`assign_server` + `assign_server_and_queue`).
/// Precondition: no server is assigned yet (`SF_ASSIGNED` unset). On `Queued` the stream is
/// in the server's queue (or the backend's, with no server) and will be woken by
/// [`process_srv_queue`].
///
/// After a redispatch (`SF_REDISP_PENDING`) the previous server is avoided when another one
/// can be picked, and the outcome is counted against it as upstream does: `retries` when
/// the same server is assigned again, else `redispatches` and `SF_REDISP` (also when the
/// stream ends up waiting in the backend's queue or with no server at all).
///
/// # Errors
/// [`Stale`]: `sid` or a connection of its session is not live (a lifecycle bug).
pub fn assign_server(w: &mut World, sid: StrmId) -> Result<SrvStatus, Stale> {
    let s = w.streams.live_mut(sid)?;
    debug_assert!(
        s.flags & sf::ASSIGNED == 0,
        "assign_server on an assigned stream"
    );
    let be = s.be;
    // the server of the attempt before a redispatch (upstream's `prev_srv`)
    let prev = s.srv.filter(|_| s.flags & sf::REDISP_PENDING != 0);
    s.flags &= !sf::REDISP_PENDING;
    let status = assign_server_once(w, sid, prev)?;
    if let Some(prev) = prev {
        let s = w.streams.live_mut(sid)?;
        let same = s.srv == Some(prev);
        if !same {
            s.flags |= sf::REDISP;
        }
        for c in [&w.sh.servers[prev].counters, &w.sh.proxies[be].counters] {
            if same {
                c.retries.inc();
            } else {
                c.redispatches.inc();
            }
        }
    }
    Ok(status)
}

/// One assignment of stream `sid`, avoiding server `prev` if another one can be picked:
/// `s.srv` is the server assigned or queued on afterwards (`None` in the backend's queue or
/// with no server).
fn assign_server_once(w: &mut World, sid: StrmId, prev: Option<SrvId>) -> Result<SrvStatus, Stale> {
    let be = w.streams.live(sid)?.be;
    if let Some(srv) = prefer_last_server(w, sid)? {
        let s = w.streams.live_mut(sid)?;
        s.srv = Some(srv);
        s.target = Target::Server(srv);
        s.flags |= sf::ASSIGNED;
        return take_or_queue(w, sid, srv);
    }
    let avoid = prev
        .and_then(|srv| w.sh.servers.get(srv))
        .map(|srv| srv.lb_idx);
    let tid = w.tid;
    let px = &w.sh.proxies[be];
    if px.servers.is_empty() {
        let dispatch = px.cfg.dispatch.is_some();
        let s = w.streams.live_mut(sid)?;
        s.srv = None;
        if !dispatch {
            s.target = Target::None;
            return Ok(SrvStatus::NoSrv);
        }
        s.target = Target::Proxy(be);
        s.flags |= sf::ASSIGNED;
        return Ok(SrvStatus::Ok);
    }
    let s = w.streams.live_mut(sid)?;
    let mut lb = px.lb.lock();
    let Some(idx) = lb.algo.get_next(avoid) else {
        let usable = lb.algo.has_usable();
        if usable {
            // every usable server is full: wait in the backend's queue
            lb.queue.push_back(Pending { tid, sid });
            px.nbpend.store(lb.queue.len() as u32, Relaxed);
        }
        drop(lb);
        s.srv = None;
        s.target = Target::None;
        if !usable {
            return Ok(SrvStatus::NoSrv);
        }
        s.flags |= sf::QUEUED;
        return Ok(SrvStatus::Queued);
    };
    let srv_id = px.servers[idx];
    s.srv = Some(srv_id);
    s.target = Target::Server(srv_id);
    s.flags |= sf::ASSIGNED;
    // the slot is taken (or the stream queued) under the lock that picked the server, so
    // that no other thread takes the slot in between
    Ok(take_or_queue_locked(&w.sh, &mut lb, tid, s, sid, srv_id))
}

/// Takes a slot of `srv_id` for stream `sid`, or queues the stream when the server is full
/// or others wait already.
fn take_or_queue(w: &mut World, sid: StrmId, srv_id: SrvId) -> Result<SrvStatus, Stale> {
    let tid = w.tid;
    let s = w.streams.live_mut(sid)?;
    let sv = &w.sh.servers[srv_id];
    let mut lb = w.sh.proxies[sv.px].lb.lock();
    Ok(take_or_queue_locked(&w.sh, &mut lb, tid, s, sid, srv_id))
}

/// [`take_or_queue`] with the backend's lock held (`lb`).
fn take_or_queue_locked(
    sh: &Shared,
    lb: &mut LbState,
    tid: Tid,
    s: &mut Stream,
    sid: StrmId,
    srv_id: SrvId,
) -> SrvStatus {
    let sv = &sh.servers[srv_id];
    let q = &mut lb.srv_queue[sv.lb_idx];
    if !sv.has_slot() || !q.is_empty() {
        q.push_back(Pending { tid, sid });
        let len = q.len() as u32;
        sv.nbpend.store(len, Relaxed);
        lb.algo.set_queue_len(sv.lb_idx, len);
        s.flags |= sf::QUEUED;
        return SrvStatus::Queued;
    }
    if s.flags & sf::CURR_SESS == 0 {
        s.flags |= sf::CURR_SESS;
        slot_taken(lb, sv);
    }
    SrvStatus::Ok
}

/// The server of one of the session's connections, when `option prefer-last-server` is set
/// or NTLM authentication made the session sticky (`assign_server`'s first step): the
/// first connection whose server is in this backend and usable (up, non-zero weight), and
/// has room or a short enough queue (`max-keep-alive-queue`, ignored for NTLM). Hash-based
/// balancing ignores it. A session-idle connection found here stops counting as idle.
fn prefer_last_server(w: &mut World, sid: StrmId) -> Result<Option<SrvId>, Stale> {
    let s = w.streams.live(sid)?;
    let (be, sess) = (s.be, s.sess);
    let px = &w.sh.proxies[be].cfg;
    let se = w.sessions.live(sess)?;
    let ntlm = se.flags & hrs_core::sess_fl::PREFER_LAST != 0;
    if matches!(px.balance, Balance::Source) || !(ntlm || px.options.prefer_last_server) {
        return Ok(None);
    }
    // stored as N+1 upstream: -1 (unset) means no limit
    let ka_queue = px.max_ka_queue + 1;
    let mut found = None;
    for cid in se.srv_list.iter(&w.conns) {
        let c = w.conns.live(cid)?;
        let Target::Server(srv) = c.target else {
            continue;
        };
        let sv = &w.sh.servers[srv];
        let queued = sv.nbpend.load(Relaxed) as i32;
        let room = ntlm || ka_queue == 0 || sv.has_slot() || (queued + 1) < ka_queue;
        if sv.px == be && room && srv_usable(sv) && c.has(co_fl::CONNECTED) {
            found = Some((cid, srv));
            break;
        }
    }
    let Some((cid, srv)) = found else {
        return Ok(None);
    };
    let c = w.conns.live_mut(cid)?;
    if c.flags & co_fl::SESS_IDLE != 0 {
        c.flags &= !co_fl::SESS_IDLE;
        let se = w.sessions.live_mut(sess)?;
        se.idle_conns = se.idle_conns.saturating_sub(1);
    }
    Ok(Some(srv))
}

/// Counts one more stream served by `sv` (`sess_change_server`), under its backend's lock.
fn slot_taken(lb: &mut LbState, sv: &SrvShared) {
    let n = sv.served.fetch_add(1, Relaxed) + 1;
    sv.served_max.fetch_max(n, Relaxed);
    sv.counters.cum_sess.inc();
    lb.algo.conn_taken(sv.lb_idx);
}

/// Counts one stream less served by `sv`, under its backend's lock.
fn slot_released(lb: &mut LbState, sv: &SrvShared) {
    hrs_core::pools::gauge_dec(&sv.served);
    lb.algo.conn_released(sv.lb_idx);
}

/// Releases the server slot held by `sid`, if any, and lets the next queued stream in.
/// A stream still queued leaves its queue; if it is not found there, another thread has
/// just given it a slot and a [`Msg::Dequeued`] is on its way, which gives the slot back
/// ([`stream_dequeued`]).
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn srv_release_slot(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let tid = w.tid;
    let s = w.streams.live_mut(sid)?;
    let me = Pending { tid, sid };
    if s.flags & sf::QUEUED != 0 {
        s.flags &= !sf::QUEUED;
        let px = &w.sh.proxies[s.be];
        let mut lb = px.lb.lock();
        lb.queue.retain(|&q| q != me);
        px.nbpend.store(lb.queue.len() as u32, Relaxed);
        if let Some(srv) = s.srv {
            let sv = &w.sh.servers[srv];
            let mut lb = if sv.px == s.be {
                lb
            } else {
                drop(lb);
                w.sh.proxies[sv.px].lb.lock()
            };
            let q = &mut lb.srv_queue[sv.lb_idx];
            q.retain(|&q| q != me);
            let len = q.len() as u32;
            sv.nbpend.store(len, Relaxed);
            lb.algo.set_queue_len(sv.lb_idx, len);
        }
    }
    if s.flags & sf::CURR_SESS == 0 {
        return Ok(());
    }
    s.flags &= !sf::CURR_SESS;
    let Some(srv) = s.srv else { return Ok(()) };
    release_and_dequeue(w, ev, srv);
    Ok(())
}

/// Gives back a slot of `srv` and, in the same critical section, hands the free slots to
/// queued streams if any wait ([`process_srv_queue`]): one acquisition of the backend's lock
/// per stream end.
fn release_and_dequeue(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let sv = &w.sh.servers[srv];
    let granted = {
        let mut lb = w.sh.proxies[sv.px].lb.lock();
        slot_released(&mut lb, sv);
        dequeue_locked(w, &mut lb, srv)
    };
    deliver(w, ev, srv, granted);
}

/// Gives free slots of `srv` to the oldest queued streams and wakes them
/// (`process_srv_queue`): the server's own queue first, then its backend's queue when the
/// server may serve it (usable, and active or the first usable backup while no active
/// server is usable). The slots are taken under the backend's lock; a stream of this
/// thread is then assigned and woken here, one of another thread through a
/// [`Msg::Dequeued`] (`task_wakeup` across threads upstream). A queued handle of this
/// thread that is not live (a stream freed without leaving the queue: a lifecycle bug,
/// reported) is dropped from the queue.
pub fn process_srv_queue(w: &mut World, ev: &mut Ev, srv: SrvId) {
    if waiting_for(&w.sh, srv).is_none() {
        // nothing waits: no lock (a stream queued before our caller's last change of the
        // server's state or slots is visible here, having been queued under the lock)
        return;
    }
    let sv = &w.sh.servers[srv];
    let granted = {
        let mut lb = w.sh.proxies[sv.px].lb.lock();
        dequeue_locked(w, &mut lb, srv)
    };
    deliver(w, ev, srv, granted);
}

/// Whether a stream waits that `srv` could take: `None` when none does, else whether the
/// server may take those of its backend's queue (`px_ok`, looked at only when that queue
/// is not empty). The queue lengths are atomics: no lock.
fn waiting_for(sh: &Shared, srv: SrvId) -> Option<bool> {
    let sv = &sh.servers[srv];
    let own = sv.nbpend.load(Relaxed) > 0;
    let px_ok = sh.proxies[sv.px].nbpend.load(Relaxed) > 0 && may_serve_backend_queue(sh, srv);
    (own || px_ok).then_some(px_ok)
}

/// The dequeue loop of [`process_srv_queue`], the backend's lock held (`lb`): the streams
/// given a slot of `srv`, each slot counted.
fn dequeue_locked(w: &World, lb: &mut LbState, srv: SrvId) -> Vec<Pending> {
    let sv = &w.sh.servers[srv];
    let px = &w.sh.proxies[sv.px];
    let mut granted = Vec::new();
    let Some(px_ok) = waiting_for(&w.sh, srv) else {
        return granted;
    };
    while sv.has_slot() {
        let p = match lb.srv_queue[sv.lb_idx].pop_front() {
            Some(p) => {
                let len = lb.srv_queue[sv.lb_idx].len() as u32;
                sv.nbpend.store(len, Relaxed);
                lb.algo.set_queue_len(sv.lb_idx, len);
                p
            }
            None if px_ok => match lb.queue.pop_front() {
                Some(p) => {
                    px.nbpend.store(lb.queue.len() as u32, Relaxed);
                    p
                }
                None => break,
            },
            None => break,
        };
        if p.tid == w.tid && w.streams.live(p.sid).is_err() {
            continue;
        }
        slot_taken(lb, sv);
        granted.push(p);
    }
    granted
}

/// Tells the streams of `granted` they have a slot of `srv`: at once on this thread, by
/// [`Msg::Dequeued`] on another.
fn deliver(w: &mut World, ev: &mut Ev, srv: SrvId, granted: Vec<Pending>) {
    for p in granted {
        if p.tid == w.tid {
            stream_dequeued(w, ev, p.sid, srv);
        } else {
            w.sh.send(p.tid, Msg::Dequeued { sid: p.sid, srv });
        }
    }
}

/// Queued stream `sid` of this thread was given a slot of `srv` (already counted in
/// `served`): it is assigned to the server and woken. A stream that is gone or no longer
/// waits (it left the queue while the grant was on its way) gives the slot back, and the
/// next queued stream gets it.
pub fn stream_dequeued(w: &mut World, ev: &mut Ev, sid: StrmId, srv: SrvId) {
    match w.streams.get_mut(sid) {
        Some(s) if s.flags & sf::QUEUED != 0 => {
            s.srv = Some(srv);
            s.target = Target::Server(srv);
            s.flags |= sf::ASSIGNED | sf::CURR_SESS;
            s.flags &= !sf::QUEUED;
            ev.wakeup(s.task, WakeReason::RES);
        }
        _ => release_and_dequeue(w, ev, srv),
    }
}

/// Whether server `sv` takes part in load balancing (`srv_currently_usable`): up (not
/// disabled, down or in maintenance) with a non-zero weight.
fn srv_usable(sv: &SrvShared) -> bool {
    sv.is_up() && sv.cfg.weight > 0
}

/// Whether `srv` may take streams waiting in its backend's queue (`process_srv_queue`'s
/// `px_ok`): it is usable (up, non-zero weight) and active, or it is the first usable
/// backup server while no active server is usable (no `option allbackups`).
fn may_serve_backend_queue(sh: &Shared, srv: SrvId) -> bool {
    let usable = srv_usable;
    let sv = &sh.servers[srv];
    if !usable(sv) {
        return false;
    }
    if !sv.cfg.backup {
        return true;
    }
    let mut others = sh.proxies[sv.px]
        .servers
        .iter()
        .map(|&i| (i, &sh.servers[i]));
    let active = others.clone().any(|(_, o)| !o.cfg.backup && usable(o));
    let first_backup = others
        .find(|(_, o)| o.cfg.backup && usable(o))
        .map(|(i, _)| i);
    !active && first_backup == Some(srv)
}

/// Gets a connection for stream `sid` toward its assigned target (`connect_server`), in
/// upstream's order: a connection of the session for this target and key, then (server
/// targets, `http-reuse` not `never`) the server's `avail` list, then its idle and safe lists
/// as [`reuse_lookup`] allows for this request, else a new connection, private under
/// `never` or for a non-server target. A reuse sets `SF_SRV_REUSED` and counts in `reuse`,
/// a new connection in `connect`.
/// Precondition: a target is assigned. On `Ok`, `si[1]` is attached and in `Con` (new
/// connection) or `Est` (reused, already connected).
///
/// # Errors
/// [`Stale`]: `sid`, or a connection found in the session or the pools, is not live.
pub fn connect_server(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<ConnStatus, Stale> {
    let s = w.streams.live(sid)?;
    let (target, sess_id, be) = (s.target, s.sess, s.be);
    let not_first = s.txn.flags & tx::NOT_FIRST != 0;
    let cfg = &w.sh.proxies[be].cfg;
    let tcp = cfg.mode == Mode::Tcp;
    // non-HTTP backends never reuse (forced at config check upstream)
    let mode = if tcp {
        HttpReuse::Never
    } else {
        cfg.http_reuse
    };
    // `retry-on` covers connection failures, empty responses and response timeouts
    let full_l7 = [
        RetryOn::CONN_FAILED,
        RetryOn::DISCONNECTED,
        RetryOn::TIMEOUT,
    ]
    .into_iter()
    .all(|class| cfg.retry_on.has(class));
    let cli_dst = w.sessions.get(sess_id).and_then(|s| s.dst);
    let addr = match target {
        Target::Server(srv) => w.sh.servers[srv].addr(cli_dst),
        Target::Proxy(px) => match w.sh.proxies[px].cfg.dispatch {
            Some(a) => a,
            None => return Ok(ConnStatus::Failed),
        },
        Target::None => return Ok(ConnStatus::Failed),
    };
    let hash = conn_hash(w, target, addr);

    let mut reused = if tcp {
        None
    } else {
        w.session_get_conn(sess_id, target, hash)
            .map(|c| (c, Taken::Session))
    };
    if let (None, Target::Server(srv)) = (reused, target) {
        if mode != HttpReuse::Never {
            reused = pool_get(w, ev, srv, mode, not_first || full_l7, hash)?;
        }
    }
    if let Target::Server(srv) = target {
        if w.used_fds() > w.sh.global.pool_high_count {
            // too many FDs in use: give one idle connection of this server back
            crate::server::srv_kill_one_idle(w, ev, srv);
        }
    }
    if let Some((cid, taken)) = reused {
        count_conn(w, target, be, true);
        w.streams.live_mut(sid)?.flags |= sf::SRV_REUSED;
        attach(w, sid, cid)?;
        if w.conns.live(cid)?.is_mux_h2() {
            h2_after_reuse(w, cid, sess_id, mode, taken)?;
        }
        return Ok(ConnStatus::Ok);
    }

    let mux = if tcp {
        Mux::Pt
    } else {
        Mux::H1(H1c::default())
    };
    let h2_srv = match target {
        Target::Server(srv) if !tcp && w.sh.servers[srv].cfg.proto_h2 => {
            Some(i64::from(w.sh.servers[srv].cfg.max_reuse))
        }
        _ => None,
    };
    match hrs_conn::conn_new_back(w, ev, addr, be, mux) {
        Ok(cid) => {
            if let Some(max_reuse) = h2_srv {
                hrs_conn::mux_h2::h2_init_back(w, ev, cid, max_reuse);
            }
            // `cid` was created just above and nothing frees it in between
            let c = w.conns.live_mut(cid)?;
            c.target = target;
            c.hash = hash;
            c.owner = Some(sess_id);
            // every new server connection is counted in use first; making it private then
            // takes it out of the gauges again, leaving the peak and the estimate raised,
            // as upstream does
            if let Target::Server(srv) = target {
                w.srv_use_conn(srv);
            }
            if mode == HttpReuse::Never || !matches!(target, Target::Server(_)) {
                w.conn_set_private(cid);
                w.session_add_conn(sess_id, cid);
            }
            // as upstream 2.6, `SF_SRV_REUSED` survives a retry: the new connection of a
            // retry after a reused one is counted as a reuse
            let was_reused = w.streams.live(sid)?.flags & sf::SRV_REUSED != 0;
            count_conn(w, target, be, was_reused);
            attach(w, sid, cid)?;
            let c = w.conns.live(cid)?;
            if h2_srv.is_some() && !c.has(co_fl::PRIVATE) {
                // a multiplexed connection: shared at once under `always`, reserved to
                // the session under `safe` (head-of-line risk), unlisted under `aggressive`
                if mode == HttpReuse::Always && c.avail_streams() > 0 {
                    let Target::Server(srv) = target else {
                        unreachable!()
                    };
                    w.pools[srv].avail.push_back(&mut w.conns, hash, cid);
                } else if mode == HttpReuse::Safe {
                    w.session_add_conn(sess_id, cid);
                }
            }
            Ok(ConnStatus::Ok)
        }
        Err(e) => {
            log::debug!(target: "hrs::backend", "connect to {addr} failed: {e}");
            Ok(ConnStatus::Failed)
        }
    }
}

/// Where a reused connection came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Taken {
    /// The session's own list.
    Session,
    /// The server's `avail` list (a multiplexed connection with free slots, in use).
    Avail,
    /// The server's idle or safe list.
    Idle,
}

/// An HTTP/2 connection was reused for a new stream (`connect_server` after
/// `conn_backend_get`): one taken from the idle pools is reserved to the session under
/// `safe`, else shared through `avail`; a connection left with no free slot leaves `avail`.
fn h2_after_reuse(
    w: &mut World,
    cid: ConnId,
    sess: hrs_core::SessId,
    mode: HttpReuse,
    taken: Taken,
) -> Result<(), Stale> {
    let c = w.conns.live(cid)?;
    let Target::Server(srv) = c.target else {
        return Ok(());
    };
    let (hash, slots, private, pooled) = (
        c.hash,
        c.avail_streams(),
        c.has(co_fl::PRIVATE),
        c.pool_link.is_linked(),
    );
    if private {
        return Ok(());
    }
    match taken {
        Taken::Idle => {
            if mode == HttpReuse::Safe {
                w.session_add_conn(sess, cid);
            } else if slots > 0 {
                w.pools[srv].avail.push_back(&mut w.conns, hash, cid);
            }
        }
        Taken::Avail | Taken::Session => {
            if slots == 0 && pooled {
                w.pools[srv].avail.unlink(&mut w.conns, hash, cid);
            }
        }
    }
    Ok(())
}

/// An idle connection of `srv` this request may reuse: `avail` first, then the idle/safe
/// lists per the `http-reuse` table. `later` is the "not first request" column.
/// Upstream first checks that the server keeps idle connections at all (`max_idle_conns`,
/// `curr_idle_conns`, `curr_safe_nb`, `curr_idle_nb`): shortcuts for lists that are empty
/// anyway, left out here.
fn pool_get(
    w: &mut World,
    ev: &mut Ev,
    srv: SrvId,
    mode: HttpReuse,
    later: bool,
    hash: u64,
) -> Result<Option<(ConnId, Taken)>, Stale> {
    if let Some(cid) = w.pools[srv].avail.first(&hash) {
        return Ok(Some((cid, Taken::Avail)));
    }
    let got = match reuse_lookup(mode, later) {
        PoolLookup::None => None,
        PoolLookup::Safe => conn_backend_get(w, ev, srv, true, hash)?,
        PoolLookup::SafeThenIdle => match conn_backend_get(w, ev, srv, true, hash)? {
            None => conn_backend_get(w, ev, srv, false, hash)?,
            got => got,
        },
        PoolLookup::IdleThenSafe => conn_backend_get(w, ev, srv, false, hash)?,
    };
    Ok(got.map(|c| (c, Taken::Idle)))
}

/// The reuse key of a connection to `target` at `addr` (`conn_calculate_hash`): the target,
/// plus the destination when the server's address is not fixed (no port, or 0.0.0.0).
fn conn_hash(w: &World, target: Target, addr: std::net::SocketAddr) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    target.hash(&mut h);
    if let Target::Server(srv) = target {
        let cfg = &w.sh.servers[srv].cfg;
        if cfg.port_unset || cfg.addr.ip().is_unspecified() {
            addr.hash(&mut h);
        }
    }
    h.finish()
}

/// Counts a connection use in the `connect` or `reuse` counters of the server and backend.
fn count_conn(w: &mut World, target: Target, be: PxId, reused: bool) {
    let bump = |c: &hrs_core::SharedCounters| {
        if reused {
            c.reuse.inc();
        } else {
            c.connect.inc();
        }
    };
    bump(&w.sh.proxies[be].counters);
    if let Target::Server(srv) = target {
        bump(&w.sh.servers[srv].counters);
    }
}

/// Attaches connection `cid` to `si[1]` of stream `sid` (`si_attach_conn`).
fn attach(w: &mut World, sid: StrmId, cid: ConnId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    let c = w.conns.live_mut(cid)?;
    c.attach_strm(sid);
    s.si[1].conn = Some(cid);
    s.si[1].state = if c.has(co_fl::CONNECTED) {
        SiState::Est
    } else {
        SiState::Con
    };
    Ok(())
}

impl hrs_core::LbAlgo for crate::lb::Lb {
    fn get_next(&mut self, avoid: Option<usize>) -> Option<usize> {
        crate::lb::Lb::get_next(self, avoid)
    }
    fn set_usable(&mut self, idx: usize, up: bool) {
        crate::lb::Lb::set_usable(self, idx, up)
    }
    fn conn_taken(&mut self, idx: usize) {
        crate::lb::Lb::conn_taken(self, idx)
    }
    fn conn_released(&mut self, idx: usize) {
        crate::lb::Lb::conn_released(self, idx)
    }
    fn has_usable(&self) -> bool {
        crate::lb::Lb::has_usable(self)
    }
    fn set_queue_len(&mut self, idx: usize, len: u32) {
        crate::lb::Lb::set_queue_len(self, idx, len)
    }
}
