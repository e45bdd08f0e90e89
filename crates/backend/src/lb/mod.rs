//! Load-balancing algorithms: which server of a backend gets the next connection.
//!
//! Pure logic, no I/O and no runtime types: servers are indices `0..n` in declaration order
//! (HAProxy's `px->srv` list order). The caller (the stream / queue code) reports what
//! happens to each server: state changes ([`Lb::set_usable`]), runtime weight changes
//! ([`Lb::set_weight`]), connection slots taken and released ([`Lb::conn_taken`],
//! [`Lb::conn_released`]) and the length of its pending queue ([`Lb::set_queue_len`]); it
//! asks [`Lb::get_next`] for a server.
//!
//! This is HAProxy 2.6's `lb_fwrr.c` (`balance roundrobin`), `lb_map.c` (`static-rr`),
//! `lb_fwlc.c` (`leastconn`) and `lb_fas.c` (`first`), with the pieces of `backend.c`
//! (`recount_servers`, `update_backend_weight`, `assign_server`'s calls) and `server.c`
//! (`srv_lb_commit_status`, effective weights) they rely on. Pick sequences match upstream
//! exactly; `tests.rs` pins sequences recorded from `/usr/sbin/haproxy` 2.6.12.
//!
//! # Shared rules
//!
//! * **Usable.** A server takes part in load balancing iff it is up (not down, not in
//!   maintenance) *and* its effective weight is not 0 (`srv_willbe_usable`). A weight-0
//!   server is never picked, and counts as not usable for the backup rule below.
//! * **Effective weight** (`eweight`). Roundrobin, leastconn and first scale the user weight
//!   (0..=256) by 16 (`BE_WEIGHT_SCALE`): `eweight = weight * 16`. Static-rr divides the
//!   user weights by their greatest common divisor computed once at creation
//!   (`eweight = ceil(weight / gcd)`), so its map is as small as possible.
//! * **Backup servers.** While at least one active server is usable, only active servers are
//!   considered. Otherwise the *first* usable backup server in declaration order gets every
//!   connection (upstream without `option allbackups`); for the tree-based algorithms it is
//!   returned without looking at its `maxconn` (the caller then queues on it, as upstream).
//!   Static-rr is the exception (module `map`): it builds its map from all usable backups
//!   but sized by the first backup's weight, which can select a later backup, and it checks
//!   `maxconn` on backups like on any map slot.
//! * **Full servers.** A server with `maxconn` is skipped while it is saturated. Roundrobin,
//!   static-rr and first: saturated when `served >= maxconn` or its queue is non-empty.
//!   Leastconn: saturated when `served + queued >= maxconn + maxqueue` (so with a `maxqueue`
//!   leastconn keeps choosing a full server to queue on it). `minconn`/`fullconn` dynamic
//!   limits are not modelled: `maxconn` is the limit.
//! * **Avoid.** `get_next(Some(i))` (used on redispatch) returns another server when one is
//!   eligible, and `i` itself only when it is the only eligible one.
//!
//! Out-of-range indices are ignored by every method (nothing changes, getters answer
//! `None`/`false`); no input makes this module panic.

mod fas;
mod fwlc;
mod fwrr;
mod map;
mod tree;

#[cfg(test)]
mod tests;

/// Largest user weight (`SRV_UWGHT_MAX`).
pub const MAX_WEIGHT: u32 = 256;
/// Scale between user and effective weights for the dynamic algorithms (`BE_WEIGHT_SCALE`).
pub(crate) const WEIGHT_SCALE: u32 = 16;
/// Largest effective weight (`SRV_EWGHT_MAX`).
pub(crate) const EWEIGHT_MAX: u32 = MAX_WEIGHT * WEIGHT_SCALE;

/// Index of the active group in two-group structures.
pub(crate) const ACT: usize = 0;
/// Index of the backup group in two-group structures.
pub(crate) const BCK: usize = 1;

/// A `balance` algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    /// `balance roundrobin`: dynamic weighted round robin (`lb_fwrr.c`). Weights may change
    /// at runtime and take effect progressively.
    RoundRobin,
    /// `balance static-rr`: a precomputed weighted map walked in order (`lb_map.c`). Runtime
    /// weights may only be 0 or the initial weight.
    StaticRr,
    /// `balance leastconn`: fewest connections relative to weight (`lb_fwlc.c`).
    LeastConn,
    /// `balance first`: the first server, by id, with a free connection slot (`lb_fas.c`).
    First,
}

/// How a server is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvInit {
    /// User weight, 0..=256 (`weight`, default 1). Larger values are clamped to 256.
    pub weight: u32,
    /// Declared with `backup`.
    pub backup: bool,
    /// `maxconn`; 0 = no limit.
    pub maxconn: u32,
    /// `maxqueue`; 0 = no limit. Only leastconn's saturation test reads it.
    pub maxqueue: u32,
    /// `id`; 0 = automatic. Only `first` orders by id. Automatic ids are assigned like
    /// upstream: walking the servers in declaration order with a counter starting at 1 and
    /// incremented after every server, a server without id gets the first id not explicitly
    /// used that is >= the counter.
    pub id: u32,
    /// Declared with `disabled`: starts in maintenance, so it is not usable until
    /// [`Lb::set_usable`]`(i, true)`. This differs from creating it usable and disabling it
    /// right away: roundrobin's initial cycle does not include its weight.
    pub disabled: bool,
}

impl Default for SrvInit {
    /// Weight 1, active, no limits, automatic id, enabled: a plain `server` line.
    fn default() -> Self {
        SrvInit {
            weight: 1,
            backup: false,
            maxconn: 0,
            maxqueue: 0,
            id: 0,
            disabled: false,
        }
    }
}

impl SrvInit {
    /// An active server of user weight `weight`, otherwise [`SrvInit::default`].
    pub fn active(weight: u32) -> Self {
        SrvInit {
            weight,
            ..SrvInit::default()
        }
    }

    /// A backup server of user weight `weight`, otherwise [`SrvInit::default`].
    pub fn backup(weight: u32) -> Self {
        SrvInit {
            weight,
            backup: true,
            ..SrvInit::default()
        }
    }
}

/// One server's LB-relevant state. `cur_*` is what the algorithm structures reflect,
/// `next_*` what was just requested; an update brings the structures from one to the other
/// then commits (`srv_lb_commit_status`). Outside an update both are equal.
#[derive(Clone, Debug)]
pub(crate) struct Srv {
    pub(crate) backup: bool,
    pub(crate) maxconn: u32,
    pub(crate) maxqueue: u32,
    pub(crate) puid: u32,
    /// Initial user weight (`iweight`).
    pub(crate) iweight: u32,
    /// Current user weight (`uweight`).
    pub(crate) uweight: u32,
    pub(crate) cur_eweight: u32,
    pub(crate) next_eweight: u32,
    pub(crate) cur_up: bool,
    pub(crate) next_up: bool,
    /// Connections holding a slot on this server (`served`).
    pub(crate) served: u32,
    /// Streams waiting in this server's queue (`queue.length`).
    pub(crate) queued: u32,
}

impl Srv {
    /// `srv_currently_usable`.
    pub(crate) fn currently_usable(&self) -> bool {
        self.cur_up && self.cur_eweight != 0
    }

    /// `srv_willbe_usable`.
    pub(crate) fn willbe_usable(&self) -> bool {
        self.next_up && self.next_eweight != 0
    }

    /// `srv_lb_status_changed`.
    fn status_changed(&self) -> bool {
        self.cur_up != self.next_up || self.cur_eweight != self.next_eweight
    }

    /// `srv_lb_commit_status`.
    fn commit(&mut self) {
        self.cur_up = self.next_up;
        self.cur_eweight = self.next_eweight;
    }

    /// The saturation test of roundrobin, static-rr and first:
    /// `!maxconn || (!queue.length && served < maxconn)`.
    pub(crate) fn has_free_slot(&self) -> bool {
        self.maxconn == 0 || (self.queued == 0 && self.served < self.maxconn)
    }
}

/// Backend-wide counters (`srv_act`, `srv_bck`, `lbprm.tot_w*`, `fbck`, `tot_weight`,
/// `tot_used`), as `recount_servers()` + `update_backend_weight()` compute them from the
/// servers' `next_*` state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) srv_act: u32,
    pub(crate) srv_bck: u32,
    pub(crate) tot_wact: u32,
    pub(crate) tot_wbck: u32,
    /// First usable backup server in declaration order.
    pub(crate) fbck: Option<usize>,
    pub(crate) tot_weight: u32,
    pub(crate) tot_used: u32,
}

impl Counts {
    pub(crate) fn recount(srvs: &[Srv]) -> Counts {
        let mut c = Counts::default();
        for (i, s) in srvs.iter().enumerate() {
            if !s.willbe_usable() {
                continue;
            }
            if s.backup {
                if c.srv_bck == 0 {
                    c.fbck = Some(i);
                }
                c.srv_bck += 1;
                c.tot_wbck += s.next_eweight;
            } else {
                c.srv_act += 1;
                c.tot_wact += s.next_eweight;
            }
        }
        if c.srv_act > 0 {
            c.tot_weight = c.tot_wact;
            c.tot_used = c.srv_act;
        } else if let Some(f) = c.fbck {
            c.tot_weight = srvs[f].next_eweight;
            c.tot_used = 1;
        } else {
            c.tot_weight = c.tot_wbck;
            c.tot_used = c.srv_bck;
        }
        c
    }
}

/// Which group the tree algorithms pick from (the head of every `*_get_next_server`).
pub(crate) enum Source {
    /// Pick in this group (`ACT` or `BCK`).
    Group(usize),
    /// No usable active server: this first backup gets the connection unconditionally.
    FirstBackup(usize),
    /// Nothing usable.
    Nothing,
}

impl Counts {
    pub(crate) fn source(&self) -> Source {
        // upstream picks in the backup group with `option allbackups` (not supported):
        // without it, a usable backup is always the first one, `fbck`
        if self.srv_act > 0 {
            Source::Group(ACT)
        } else if let Some(f) = self.fbck {
            Source::FirstBackup(f)
        } else {
            Source::Nothing
        }
    }
}

#[derive(Debug)]
enum Imp {
    Rr(fwrr::Fwrr),
    Map(map::Map),
    Lc(fwlc::Fwlc),
    Fas(fas::Fas),
}

/// One backend's load-balancing state.
///
/// Invariants (debug-asserted by the algorithms): every usable server is in exactly one of
/// its algorithm's structures, every unusable one in none; the counters equal a fresh
/// recount of the servers.
#[derive(Debug)]
pub struct Lb {
    algo: Algo,
    srvs: Vec<Srv>,
    counts: Counts,
    /// Effective weight = ceil(user weight * wdiv / wmult) (`lbprm.wdiv`, `lbprm.wmult`).
    wdiv: u32,
    wmult: u32,
    imp: Imp,
}

/// Greatest common divisor of the non-zero weights, 1 when there is none (`init_server_map`).
fn weights_gcd(weights: impl Iterator<Item = u32>) -> u32 {
    let mut g = 0u32;
    for w in weights.filter(|&w| w != 0) {
        let (mut a, mut b) = (g, w);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        g = a;
    }
    g.max(1)
}

/// Server ids: explicit ones kept, the others assigned like upstream's
/// `check_config_validity()` (see [`SrvInit::id`]).
fn assign_ids(servers: &[SrvInit]) -> Vec<u32> {
    let used: std::collections::BTreeSet<u32> =
        servers.iter().map(|s| s.id).filter(|&id| id != 0).collect();
    let mut taken = used;
    let mut next_id: u32 = 1;
    let mut ids = Vec::with_capacity(servers.len());
    for s in servers {
        if s.id != 0 {
            ids.push(s.id);
        } else {
            while taken.contains(&next_id) && next_id != u32::MAX {
                next_id += 1;
            }
            taken.insert(next_id);
            ids.push(next_id);
        }
        next_id = next_id.saturating_add(1);
    }
    ids
}

impl Lb {
    /// Builds the state for `servers` (index = declaration order) under `algo`. Every server
    /// starts up, except those with [`SrvInit::disabled`]; weights above 256 are clamped.
    /// An empty list is allowed: `get_next` then always answers `None`.
    pub fn new(algo: Algo, servers: &[SrvInit]) -> Lb {
        let ids = assign_ids(servers);
        let (wdiv, wmult) = match algo {
            Algo::StaticRr => (
                1,
                weights_gcd(servers.iter().map(|s| s.weight.min(MAX_WEIGHT))),
            ),
            _ => (WEIGHT_SCALE, 1),
        };
        let srvs: Vec<Srv> = servers
            .iter()
            .zip(ids)
            .map(|(s, puid)| {
                let w = s.weight.min(MAX_WEIGHT);
                let ew = eweight(w, wdiv, wmult);
                Srv {
                    backup: s.backup,
                    maxconn: s.maxconn,
                    maxqueue: s.maxqueue,
                    puid,
                    iweight: w,
                    uweight: w,
                    cur_eweight: ew,
                    next_eweight: ew,
                    cur_up: !s.disabled,
                    next_up: !s.disabled,
                    served: 0,
                    queued: 0,
                }
            })
            .collect();
        let counts = Counts::recount(&srvs);
        let imp = match algo {
            Algo::RoundRobin => Imp::Rr(fwrr::Fwrr::new(&srvs, &counts)),
            Algo::StaticRr => Imp::Map(map::Map::new(&srvs, &counts)),
            Algo::LeastConn => Imp::Lc(fwlc::Fwlc::new(&srvs)),
            Algo::First => Imp::Fas(fas::Fas::new(&srvs)),
        };
        Lb {
            algo,
            srvs,
            counts,
            wdiv,
            wmult,
            imp,
        }
    }

    /// The algorithm this state implements.
    pub fn algo(&self) -> Algo {
        self.algo
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.srvs.len()
    }

    /// Whether there are no servers.
    pub fn is_empty(&self) -> bool {
        self.srvs.is_empty()
    }

    /// Picks the server for a new connection, avoiding `avoid` if another server is eligible
    /// (pass the previous server on redispatch, `None` otherwise).
    ///
    /// Returns `None` when no server is usable, or when every eligible server is saturated
    /// (see the module docs; [`Lb::has_usable`] tells the two apart: upstream answers 503 in
    /// the first case and queues in the backend in the second). A returned server may have
    /// reached its `maxconn` only when it is the first backup server, or under leastconn when
    /// its `maxqueue` leaves room; upstream then queues the stream on that server.
    ///
    /// Picking moves roundrobin and static-rr forward; it does not count a connection: call
    /// [`Lb::conn_taken`] once the stream holds a slot on the server.
    pub fn get_next(&mut self, avoid: Option<usize>) -> Option<usize> {
        // an out-of-range `avoid` matches no server: the algorithms ignore it
        let pick = match &mut self.imp {
            Imp::Rr(r) => r.get_next(&self.srvs, &self.counts, avoid),
            Imp::Map(m) => m.get_next(&self.srvs, &self.counts, avoid),
            Imp::Lc(l) => l.get_next(&self.srvs, &self.counts, avoid),
            Imp::Fas(f) => f.get_next(&self.srvs, &self.counts, avoid),
        };
        if let Some(s) = pick {
            debug_assert!(self.srvs[s].currently_usable());
        }
        pick
    }

    /// Whether at least one server can be picked when not saturated (upstream's
    /// `lbprm.tot_weight != 0`, checked by `assign_server` before calling the algorithm).
    pub fn has_usable(&self) -> bool {
        self.counts.tot_weight != 0
    }

    /// Reports that server `idx` went up (`true`: health check succeeded, left maintenance)
    /// or down (`false`: failed check, maintenance, drain). Idempotent. A server coming up
    /// with weight 0 stays unusable. Roundrobin reinserts it at a position computed from the
    /// current cycle; leastconn and first queue it by its load or id.
    pub fn set_usable(&mut self, idx: usize, up: bool) {
        let Some(s) = self.srvs.get_mut(idx) else {
            return;
        };
        s.next_up = up;
        self.propagate(idx);
    }

    /// Changes server `idx`'s user weight at runtime (`set weight`). Returns `false` and
    /// changes nothing when `idx` is out of range, `weight > 256`, or the algorithm is
    /// static-rr and `weight` is neither 0 nor the initial weight (upstream answers "Backend
    /// is using a static LB algorithm and only accepts weights '0%' and '100%'."). Weight 0
    /// makes the server unusable without marking it down; a non-zero weight makes an up
    /// server usable again.
    pub fn set_weight(&mut self, idx: usize, weight: u32) -> bool {
        if weight > MAX_WEIGHT {
            return false;
        }
        let (wdiv, wmult, algo) = (self.wdiv, self.wmult, self.algo);
        let Some(s) = self.srvs.get_mut(idx) else {
            return false;
        };
        if algo == Algo::StaticRr && weight != 0 && weight != s.iweight {
            return false;
        }
        s.uweight = weight;
        s.next_eweight = eweight(weight, wdiv, wmult);
        self.propagate(idx);
        true
    }

    /// Server `idx` got one more connection holding a slot (`served++`, then
    /// `lbprm.server_take_conn`). Leastconn moves the server to its new place (after the
    /// servers with the same load); the others only count it, for `maxconn`.
    pub fn conn_taken(&mut self, idx: usize) {
        let Some(s) = self.srvs.get_mut(idx) else {
            return;
        };
        s.served = s.served.saturating_add(1);
        self.reposition(idx);
    }

    /// Server `idx` released a connection slot (`served--`, then
    /// `lbprm.server_drop_conn`). Ignored (with a warning) when it has none.
    pub fn conn_released(&mut self, idx: usize) {
        let Some(s) = self.srvs.get_mut(idx) else {
            return;
        };
        if s.served == 0 {
            log::warn!("lb: connection released on server #{idx} which holds none");
            return;
        }
        s.served -= 1;
        self.reposition(idx);
    }

    /// Sets the number of streams waiting in server `idx`'s own queue. It makes the server
    /// saturated for roundrobin, static-rr and first while non-zero, and counts in
    /// leastconn's load. As upstream (`pendconn_add` does not reposition), leastconn takes
    /// the new value into account at the server's next [`Lb::conn_taken`] /
    /// [`Lb::conn_released`].
    pub fn set_queue_len(&mut self, idx: usize, len: u32) {
        if let Some(s) = self.srvs.get_mut(idx) {
            s.queued = len;
        }
    }

    /// Whether server `idx` can currently be picked (up and non-zero weight); `false` when
    /// out of range.
    pub fn is_usable(&self, idx: usize) -> bool {
        self.srvs.get(idx).is_some_and(Srv::currently_usable)
    }

    /// Server `idx`'s current user weight.
    pub fn weight(&self, idx: usize) -> Option<u32> {
        self.srvs.get(idx).map(|s| s.uweight)
    }

    /// Server `idx`'s effective weight (see the module docs).
    pub fn eweight(&self, idx: usize) -> Option<u32> {
        self.srvs.get(idx).map(|s| s.cur_eweight)
    }

    /// Server `idx`'s count of connections holding a slot.
    pub fn served(&self, idx: usize) -> Option<u32> {
        self.srvs.get(idx).map(|s| s.served)
    }

    /// Server `idx`'s id (explicit or automatic, see [`SrvInit::id`]).
    pub fn id(&self, idx: usize) -> Option<u32> {
        self.srvs.get(idx).map(|s| s.puid)
    }

    /// Brings the algorithm structures from server `idx`'s current to its next state, then
    /// commits (upstream `update_server_eweight` / `set_server_status_{up,down}`).
    fn propagate(&mut self, idx: usize) {
        if !self.srvs[idx].status_changed() {
            return;
        }
        let counts = Counts::recount(&self.srvs);
        match &mut self.imp {
            Imp::Rr(r) => r.update(idx, &self.srvs),
            Imp::Map(m) => m.update(&self.srvs, &counts),
            Imp::Lc(l) => l.update(idx, &self.srvs),
            Imp::Fas(f) => f.update(idx, &self.srvs),
        }
        self.srvs[idx].commit();
        self.counts = counts;
        debug_assert_eq!(self.counts, Counts::recount(&self.srvs));
    }

    /// Checks every invariant of the state (tests only, O(n)).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        assert_eq!(self.counts, Counts::recount(&self.srvs));
        for s in &self.srvs {
            assert!(!s.status_changed(), "uncommitted server state");
        }
        match &self.imp {
            Imp::Rr(r) => r.check(&self.srvs),
            Imp::Map(m) => m.check(&self.srvs, &self.counts),
            Imp::Lc(l) => l.check(&self.srvs),
            Imp::Fas(f) => f.check(&self.srvs),
        }
    }

    /// `lbprm.server_take_conn` / `server_drop_conn`: only leastconn's order depends on
    /// the connection count (`first` re-inserts the server under its unique id upstream,
    /// which changes nothing).
    fn reposition(&mut self, idx: usize) {
        if let Imp::Lc(l) = &mut self.imp {
            l.reposition(idx, &self.srvs);
        }
    }
}

/// `(uweight * wdiv + wmult - 1) / wmult` (`server_recalc_eweight` without slowstart).
fn eweight(uweight: u32, wdiv: u32, wmult: u32) -> u32 {
    (uweight * wdiv + wmult - 1) / wmult.max(1)
}
