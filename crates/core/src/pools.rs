//! Bookkeeping of backend connections in server pools and session lists (HAProxy's
//! `srv_release_conn`, `srv_use_conn`, `conn_set_private`, `session_add_conn`,
//! `session_unown_conn`, `session_get_conn`).
//!
//! Only links, flags and gauges are touched here, never sockets: these are the operations
//! every layer needs when a connection changes hands or is freed (`hrs-conn`'s `conn_free`
//! calls [`World::conn_unlink_all`]). The policies (which list, admission, purge) are in
//! `hrs-backend::server`.

use crate::{co_fl, ConnId, SessId, SrvId, Target, World};

impl World {
    /// Counts connection use on `srv` (`srv_use_conn`): one more non-private connection in
    /// use, raising the recent peak and the estimated need with it.
    pub fn srv_use_conn(&mut self, srv: SrvId) {
        let p = &mut self.servers[srv].pool;
        p.curr_used += 1;
        p.max_used = p.max_used.max(p.curr_used);
        p.est_need = p.est_need.max(p.curr_used);
    }

    /// Removes `cid` from its server's gauges and pool list (`srv_release_conn`): an idle
    /// connection leaves its list, a non-private one in use leaves `curr_used`. Called when
    /// the connection is freed or made private.
    pub fn srv_release_conn(&mut self, cid: ConnId) {
        let Some(c) = self.conns.get(cid) else { return };
        let Target::Server(srv) = c.target else {
            return;
        };
        if c.side != crate::Side::Back {
            return;
        }
        let (flags, hash, pooled) = (c.flags, c.hash, c.pool_link.is_linked());
        let pool = &mut self.servers[srv].pool;
        if flags & co_fl::IDLE_LIST != 0 {
            pool.idle.unlink(&mut self.conns, hash, cid);
        } else if flags & co_fl::SAFE_LIST != 0 {
            pool.safe.unlink(&mut self.conns, hash, cid);
        } else {
            if pooled {
                pool.avail.unlink(&mut self.conns, hash, cid);
            }
            if flags & co_fl::PRIVATE == 0 {
                hrs_list::bug_on!(pool.curr_used == 0, "curr_used underflow");
                pool.curr_used = pool.curr_used.saturating_sub(1);
            }
        }
        self.conns[cid].flags &= !co_fl::LIST_MASK;
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
    pub fn conn_unlink_all(&mut self, cid: ConnId) {
        self.srv_release_conn(cid);
        self.session_unown_conn(cid);
    }
}
