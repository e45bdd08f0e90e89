//! Choosing a server and getting a connection to it (HAProxy's `backend.c`: `assign_server`,
//! `connect_server`; `queue.c`: `pendconn_add`, `process_srv_queue`).
//!
//! May touch the stream being served, its session's server connections, the backend's
//! servers (LB state, queues, connection pools through [`crate::server`]). Connections are
//! created through `hrs-conn`. The reuse rules are in `docs/reuse.md`.

use crate::pool::{reuse_lookup, PoolLookup};
use crate::server::conn_backend_get;
use hrs_cfg::model::{Balance, HttpReuse, Mode, RetryOn};
use hrs_core::{co_fl, sf, tx, ConnId, Ev, H1c, Mux, PxId, SiState, SrvId, StrmId, Target, World};
use hrs_ev::WakeReason;
use hrs_list::Stale;

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
        for c in [&mut w.servers[prev].counters, &mut w.proxies[be].counters] {
            if same {
                c.retries += 1;
            } else {
                c.redispatches += 1;
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
        .and_then(|srv| w.servers.get(srv))
        .map(|srv| srv.lb_idx);
    let px = &mut w.proxies[be];
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
    let Some(idx) = px.lb.get_next(avoid) else {
        let usable = px.lb.has_usable();
        if usable {
            // every usable server is full: wait in the backend's queue
            px.queue.push_back(sid);
        }
        let s = w.streams.live_mut(sid)?;
        s.srv = None;
        s.target = Target::None;
        if !usable {
            return Ok(SrvStatus::NoSrv);
        }
        s.flags |= sf::QUEUED;
        return Ok(SrvStatus::Queued);
    };
    let srv_id = px.servers[idx];
    let s = w.streams.live_mut(sid)?;
    s.srv = Some(srv_id);
    s.target = Target::Server(srv_id);
    s.flags |= sf::ASSIGNED;
    take_or_queue(w, sid, srv_id)
}

/// Takes a slot of `srv_id` for stream `sid`, or queues the stream when the server is full
/// or others wait already.
fn take_or_queue(w: &mut World, sid: StrmId, srv_id: SrvId) -> Result<SrvStatus, Stale> {
    let s = w.streams.live_mut(sid)?;
    let be = s.be;
    let srv = &mut w.servers[srv_id];
    if !srv.has_slot() || !srv.queue.is_empty() {
        srv.queue.push_back(sid);
        s.flags |= sf::QUEUED;
        let (len, lb_idx) = (srv.queue.len() as u32, srv.lb_idx);
        w.proxies[be].lb.set_queue_len(lb_idx, len);
        return Ok(SrvStatus::Queued);
    }
    srv_take_slot(w, sid, srv_id)?;
    Ok(SrvStatus::Ok)
}

/// The server of one of the session's connections, when `option prefer-last-server` is set
/// or NTLM authentication made the session sticky (`assign_server`'s first step): the
/// first connection whose server is in this backend and usable (up, non-zero weight), and
/// has room or a short enough queue (`max-keep-alive-queue`, ignored for NTLM). Hash-based
/// balancing ignores it. A session-idle connection found here stops counting as idle.
fn prefer_last_server(w: &mut World, sid: StrmId) -> Result<Option<SrvId>, Stale> {
    let s = w.streams.live(sid)?;
    let (be, sess) = (s.be, s.sess);
    let px = &w.proxies[be].cfg;
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
        let sv = &w.servers[srv];
        let room = ntlm || ka_queue == 0 || sv.has_slot() || (sv.queue.len() as i32 + 1) < ka_queue;
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

/// Counts stream `sid` as served by `srv` (`sess_change_server`).
fn srv_take_slot(w: &mut World, sid: StrmId, srv: SrvId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    if s.flags & sf::CURR_SESS != 0 {
        return Ok(());
    }
    s.flags |= sf::CURR_SESS;
    let sv = &mut w.servers[srv];
    sv.served += 1;
    sv.served_max = sv.served_max.max(sv.served);
    sv.counters.cum_sess += 1;
    let (px, idx) = (sv.px, sv.lb_idx);
    w.proxies[px].lb.conn_taken(idx);
    Ok(())
}

/// Releases the server slot held by `sid`, if any, and lets the next queued stream in.
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn srv_release_slot(w: &mut World, ev: &mut Ev, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    if s.flags & sf::QUEUED != 0 {
        s.flags &= !sf::QUEUED;
        let be = s.be;
        w.proxies[be].queue.retain(|&q| q != sid);
        if let Some(srv) = s.srv {
            let sv = &mut w.servers[srv];
            sv.queue.retain(|&q| q != sid);
            let (px, idx, len) = (sv.px, sv.lb_idx, sv.queue.len() as u32);
            w.proxies[px].lb.set_queue_len(idx, len);
        }
    }
    let s = w.streams.live_mut(sid)?;
    if s.flags & sf::CURR_SESS == 0 {
        return Ok(());
    }
    s.flags &= !sf::CURR_SESS;
    let Some(srv) = s.srv else { return Ok(()) };
    let sv = &mut w.servers[srv];
    sv.served = sv.served.saturating_sub(1);
    let (px, idx) = (sv.px, sv.lb_idx);
    w.proxies[px].lb.conn_released(idx);
    process_srv_queue(w, ev, srv);
    Ok(())
}

/// Gives free slots of `srv` to the oldest queued streams and wakes them
/// (`process_srv_queue`): the server's own queue first, then its backend's queue when the
/// server may serve it (usable, and active or the first usable backup while no active
/// server is usable). A queued handle that is not live (a stream freed without leaving the
/// queue: a lifecycle bug, reported) is dropped from the queue.
pub fn process_srv_queue(w: &mut World, ev: &mut Ev, srv: SrvId) {
    let px = w.servers[srv].px;
    let px_ok = may_serve_backend_queue(w, srv);
    while w.servers[srv].has_slot() {
        let sid = match w.servers[srv].queue.pop_front() {
            Some(sid) => {
                let sv = &w.servers[srv];
                let (idx, len) = (sv.lb_idx, sv.queue.len() as u32);
                w.proxies[px].lb.set_queue_len(idx, len);
                sid
            }
            None if px_ok => match w.proxies[px].queue.pop_front() {
                Some(sid) => sid,
                None => return,
            },
            None => return,
        };
        let Ok(s) = w.streams.live_mut(sid) else {
            continue;
        };
        s.srv = Some(srv);
        s.target = Target::Server(srv);
        s.flags |= sf::ASSIGNED;
        s.flags &= !sf::QUEUED;
        let task = s.task;
        // `sid` was just found live
        if srv_take_slot(w, sid, srv).is_ok() {
            ev.wakeup(task, WakeReason::RES);
        }
    }
}

/// Whether server `sv` takes part in load balancing (`srv_currently_usable`): up (not
/// disabled, down or in maintenance) with a non-zero weight.
fn srv_usable(sv: &hrs_core::ServerRt) -> bool {
    sv.up && sv.cfg.weight > 0
}

/// Whether `srv` may take streams waiting in its backend's queue (`process_srv_queue`'s
/// `px_ok`): it is usable (up, non-zero weight) and active, or it is the first usable
/// backup server while no active server is usable (no `option allbackups`).
fn may_serve_backend_queue(w: &World, srv: SrvId) -> bool {
    let usable = srv_usable;
    let sv = &w.servers[srv];
    if !usable(sv) {
        return false;
    }
    if !sv.cfg.backup {
        return true;
    }
    let mut others = w.proxies[sv.px].servers.iter().map(|&i| (i, &w.servers[i]));
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
    let cfg = &w.proxies[be].cfg;
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
        Target::Server(srv) => w.servers[srv].addr(cli_dst),
        Target::Proxy(px) => match w.proxies[px].cfg.dispatch {
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
            reused = pool_get(w, srv, mode, not_first || full_l7, hash)?;
        }
    }
    if let Target::Server(srv) = target {
        if w.used_fds() > w.global.pool_high_count {
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
        Target::Server(srv) if !tcp && w.servers[srv].cfg.proto_h2 => {
            Some(i64::from(w.servers[srv].cfg.max_reuse))
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
                    w.servers[srv].pool.avail.push_back(&mut w.conns, hash, cid);
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
                w.servers[srv].pool.avail.push_back(&mut w.conns, hash, cid);
            }
        }
        Taken::Avail | Taken::Session => {
            if slots == 0 && pooled {
                w.servers[srv].pool.avail.unlink(&mut w.conns, hash, cid);
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
    srv: SrvId,
    mode: HttpReuse,
    later: bool,
    hash: u64,
) -> Result<Option<(ConnId, Taken)>, Stale> {
    if let Some(cid) = w.servers[srv].pool.avail.first(&hash) {
        return Ok(Some((cid, Taken::Avail)));
    }
    let got = match reuse_lookup(mode, later) {
        PoolLookup::None => None,
        PoolLookup::Safe => conn_backend_get(w, srv, true, hash)?,
        PoolLookup::SafeThenIdle => match conn_backend_get(w, srv, true, hash)? {
            None => conn_backend_get(w, srv, false, hash)?,
            got => got,
        },
        PoolLookup::IdleThenSafe => conn_backend_get(w, srv, false, hash)?,
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
        let cfg = &w.servers[srv].cfg;
        if cfg.port_unset || cfg.addr.ip().is_unspecified() {
            addr.hash(&mut h);
        }
    }
    h.finish()
}

/// Counts a connection use in the `connect` or `reuse` counters of the server and backend.
fn count_conn(w: &mut World, target: Target, be: PxId, reused: bool) {
    let bump = |c: &mut hrs_core::Counters| {
        if reused {
            c.reuse += 1;
        } else {
            c.connect += 1;
        }
    };
    bump(&mut w.proxies[be].counters);
    if let Target::Server(srv) = target {
        bump(&mut w.servers[srv].counters);
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
