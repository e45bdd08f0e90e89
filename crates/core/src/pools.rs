//! Bookkeeping of backend connections in server pools and session lists (HAProxy's
//! `srv_release_conn`, `srv_use_conn`, `conn_set_private`, `session_add_conn`,
//! `session_unown_conn`, `session_get_conn`), and the claim of an idle connection against
//! other threads' takeover (`idle_conns_lock`).
//!
//! Only links, flags and gauges are touched here, never sockets: these are the operations
//! every layer needs when a connection changes hands or is freed (`hrs-conn`'s `conn_free`
//! calls [`World::conn_unlink_all`]). The policies (which list, admission, purge) are in
//! `hrs-backend::server`.

use crate::{co_fl, ConnId, SessId, SrvId, Target, World};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;

/// Subtracts one from a gauge, never below 0 (a gauge at 0 here is a bookkeeping bug).
pub fn gauge_dec(g: &AtomicU32) {
    let r = g.fetch_update(Relaxed, Relaxed, |v| v.checked_sub(1));
    hrs_list::bug_on!(r.is_err(), "gauge underflow");
}

impl World {
    /// Counts connection use on `srv` (`srv_use_conn`): one more non-private connection in
    /// use, raising the recent peak and the estimated need with it.
    pub fn srv_use_conn(&mut self, srv: SrvId) {
        self.sh.servers[srv].use_conn();
    }

    /// True when other threads may take over this thread's idle connections: more than one
    /// thread and `tune.idle-pool.shared on`. Idle connections are then also listed in the
    /// thread's takeover registry ([`crate::IdleReg`]).
    pub fn takeover_on(&self) -> bool {
        self.sh.threads.len() > 1 && self.sh.global.idle_pool_shared
    }

    /// Claims idle connection `cid` (server `srv`, key `hash`) for this thread as it leaves
    /// the idle pools: out of the takeover registry if it is listed there (`co_fl::TAKEOVER`),
    /// and out of the idle gauges. False when another thread took it over meanwhile (that
    /// thread owns the socket and updated the gauges; this one must forget the connection
    /// without touching the socket).
    pub fn idle_claim(&self, srv: SrvId, hash: u64, cid: ConnId) -> bool {
        let flags = self.conns.get(cid).map_or(0, |c| c.flags);
        let won = flags & co_fl::TAKEOVER == 0
            || self.sh.threads[usize::from(self.tid)]
                .idle
                .lock()
                .remove(srv, hash, cid);
        if won {
            self.idle_gauges_dec(srv, Some(flags));
        }
        won
    }

    /// One idle connection of `srv` left an idle (`flags` with `IDLE_LIST`) or safe list of
    /// thread `self.tid`: the gauges over all threads follow.
    fn idle_gauges_dec(&self, srv: SrvId, flags: Option<u32>) {
        let sv = &self.sh.servers[srv];
        let safe = flags.is_some_and(|f| f & co_fl::SAFE_LIST != 0);
        gauge_dec(if safe { &sv.safe_nb } else { &sv.idle_nb });
        gauge_dec(&sv.idle_thr[usize::from(self.tid)]);
    }

    /// Removes `cid` from its server's gauges and pool list (`srv_release_conn`): an idle
    /// connection leaves its list, a non-private one in use leaves `curr_used`. Called when
    /// the connection is freed or made private. Returns false when the connection was idle
    /// and another thread took it over meanwhile: the caller must not touch its socket.
    pub fn srv_release_conn(&mut self, cid: ConnId) -> bool {
        let Some(c) = self.conns.get(cid) else {
            return true;
        };
        let Target::Server(srv) = c.target else {
            return true;
        };
        if c.side != crate::Side::Back {
            return true;
        }
        let (flags, hash, pooled) = (c.flags, c.hash, c.pool_link.is_linked());
        let mut owned = true;
        if flags & co_fl::LIST_MASK != 0 {
            owned = self.idle_claim(srv, hash, cid);
            let pool = &mut self.pools[srv];
            if flags & co_fl::IDLE_LIST != 0 {
                pool.idle.unlink(&mut self.conns, hash, cid);
            } else {
                pool.safe.unlink(&mut self.conns, hash, cid);
            }
        } else {
            if pooled {
                self.pools[srv].avail.unlink(&mut self.conns, hash, cid);
            }
            if flags & co_fl::PRIVATE == 0 {
                gauge_dec(&self.sh.servers[srv].curr_used);
            }
        }
        self.conns[cid].flags &= !(co_fl::LIST_MASK | co_fl::TAKEOVER);
        owned
    }

    /// Makes `cid` private (`conn_set_private`): it leaves the server's gauges, since only
    /// shareable connections are counted there.
    pub fn conn_set_private(&mut self, cid: ConnId) {
        let Some(c) = self.conns.get(cid) else { return };
        if c.flags & co_fl::PRIVATE != 0 {
            return;
        }
        self.srv_release_conn(cid);
        self.conns[cid].flags |= co_fl::PRIVATE;
    }

    /// Puts `cid` in the list of session `sess` and makes the session its owner
    /// (`session_add_conn`). A connection already in a session list stays where it is.
    pub fn session_add_conn(&mut self, sess: SessId, cid: ConnId) -> bool {
        let Some(c) = self.conns.get(cid) else {
            return false;
        };
        if c.sess_link.is_linked() {
            return c.owner == Some(sess);
        }
        let Some(se) = self.sessions.get_mut(sess) else {
            return false;
        };
        se.srv_list.push_back(&mut self.conns, cid);
        self.conns[cid].owner = Some(sess);
        true
    }

    /// Takes `cid` out of its owner's list and idle count (`session_unown_conn`); the
    /// connection has no owner afterwards.
    pub fn session_unown_conn(&mut self, cid: ConnId) {
        let Some(c) = self.conns.get(cid) else { return };
        let owner = c.owner;
        let (linked, idle) = (c.sess_link.is_linked(), c.flags & co_fl::SESS_IDLE != 0);
        if let Some(se) = owner.and_then(|o| self.sessions.get_mut(o)) {
            if linked {
                se.srv_list.unlink(&mut self.conns, cid);
            }
            if idle {
                se.idle_conns = se.idle_conns.saturating_sub(1);
            }
        }
        let c = &mut self.conns[cid];
        debug_assert!(!c.sess_link.is_linked(), "session link of a freed session");
        c.flags &= !co_fl::SESS_IDLE;
        c.owner = None;
    }

    /// The first connection of session `sess` usable for `target` with reuse key `hash`
    /// (`session_get_conn`): same target and hash, a stream slot free, connected. A
    /// session-idle connection stops being counted idle. The connection stays in the
    /// session's list.
    pub fn session_get_conn(&mut self, sess: SessId, target: Target, hash: u64) -> Option<ConnId> {
        let se = self.sessions.get(sess)?;
        let conns = &self.conns;
        let found = se.srv_list.iter(conns).find(|&id| {
            let c = &conns[id];
            c.target == target
                && c.hash == hash
                && c.avail_streams() > 0
                && c.has(co_fl::CONNECTED)
                && !c.has(co_fl::ERROR | co_fl::SOCK_RD_SH)
        })?;
        let c = &mut self.conns[found];
        if c.flags & co_fl::SESS_IDLE != 0 {
            c.flags &= !co_fl::SESS_IDLE;
            let se = &mut self.sessions[sess];
            se.idle_conns = se.idle_conns.saturating_sub(1);
        }
        Some(found)
    }

    /// Takes `cid` out of every list it is in (server pool, session) before it is freed.
    /// Returns false when it was an idle connection taken over by another thread: the
    /// caller forgets it without touching the socket.
    pub fn conn_unlink_all(&mut self, cid: ConnId) -> bool {
        let owned = self.srv_release_conn(cid);
        self.session_unown_conn(cid);
        owned
    }
}
