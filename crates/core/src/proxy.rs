//! Runtime proxies and servers (HAProxy's `proxy-t.h`, `server-t.h`): the configuration of
//! each plus its live counters, load-balancing state and queues, shared by every thread
//! (atomics, and one lock per backend), and the per-thread connection pools ([`SrvPool`]).

use crate::lock::Lock;
use crate::{Connection, PoolList, PxId, SrvId, StrmId, Tid};
use hrs_cfg::model::{Proxy, Server};
use hrs_ev::TaskId;
use hrs_list::KeyedLists;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8};

/// Counters of a proxy or server (`struct fe_counters`/`be_counters`, the part we keep).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub cum_conn: u64,
    pub cum_sess: u64,
    /// Streams given to this proxy as their backend (`be_counters.cum_conn`, counted by
    /// `stream_set_backend`): the BACKEND row's `stot`. Separate from `cum_conn`, the
    /// frontend's, since a `listen` section is both.
    pub be_cum_conn: u64,
    pub cum_req: u64,
    pub failed_req: u64,
    pub failed_conns: u64,
    pub failed_resp: u64,
    pub retries: u64,
    pub redispatches: u64,
    pub denied_req: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Responses by class: 1xx..5xx, other.
    pub rsp: [u64; 6],
    /// New server connections opened (`connect`).
    pub connect: u64,
    /// Server connections reused (`reuse`).
    pub reuse: u64,
    /// Streams ended by an internal error (`internal_errors`, `eint`): a lifecycle bug met
    /// while processing them (a stale handle) in a build that does not panic on it.
    pub internal_errors: u64,
}

/// A counter shared by every thread (HAProxy's `_HA_ATOMIC_INC` on a `uint64_t`): relaxed
/// atomics, as nothing is ordered by a counter.
#[derive(Debug, Default)]
pub struct Ctr(std::sync::atomic::AtomicU64);

impl Ctr {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The live counters of a proxy or server, shared by every thread; [`Counters`] is a
/// snapshot of them.
#[derive(Debug, Default)]
pub struct SharedCounters {
    pub cum_conn: Ctr,
    pub cum_sess: Ctr,
    pub be_cum_conn: Ctr,
    pub cum_req: Ctr,
    pub failed_req: Ctr,
    pub failed_conns: Ctr,
    pub failed_resp: Ctr,
    pub retries: Ctr,
    pub redispatches: Ctr,
    pub denied_req: Ctr,
    pub bytes_in: Ctr,
    pub bytes_out: Ctr,
    pub rsp: [Ctr; 6],
    pub connect: Ctr,
    pub reuse: Ctr,
    pub internal_errors: Ctr,
}

impl SharedCounters {
    /// The values now (each read on its own: a snapshot taken while traffic runs may mix
    /// instants, as upstream's stats do).
    pub fn snapshot(&self) -> Counters {
        Counters {
            cum_conn: self.cum_conn.get(),
            cum_sess: self.cum_sess.get(),
            be_cum_conn: self.be_cum_conn.get(),
            cum_req: self.cum_req.get(),
            failed_req: self.failed_req.get(),
            failed_conns: self.failed_conns.get(),
            failed_resp: self.failed_resp.get(),
            retries: self.retries.get(),
            redispatches: self.redispatches.get(),
            denied_req: self.denied_req.get(),
            bytes_in: self.bytes_in.get(),
            bytes_out: self.bytes_out.get(),
            rsp: std::array::from_fn(|i| self.rsp[i].get()),
            connect: self.connect.get(),
            reuse: self.reuse.get(),
            internal_errors: self.internal_errors.get(),
        }
    }
}

/// One thread's pools of reusable connections to a server (`srv->per_thr[tid]`: the
/// `idle_conns`, `safe_conns` and `avail_conns` lists). The gauges over all threads are in
/// [`SrvShared`]. Lists are keyed by the connection hash and hold backend connections
/// through [`PoolList`]; a connection is in at most one of them, which its
/// `co_fl::IDLE_LIST` / `SAFE_LIST` flags (or neither, for `avail`) say. Behaviour:
/// `hrs-backend::server`.
#[derive(Debug, Default)]
pub struct SrvPool {
    /// Idle connections not yet proven reusable (H1 that served only its first request).
    pub idle: KeyedLists<u64, Connection, PoolList>,
    /// Idle connections proven reusable (`safe_conns`).
    pub safe: KeyedLists<u64, Connection, PoolList>,
    /// In-use connections that can take more streams (`avail_conns`, multiplexed muxes).
    pub avail: KeyedLists<u64, Connection, PoolList>,
    /// The purge task (`srv_cleanup_idle_conns` timer) of thread 0, armed while idle
    /// connections exist on any thread.
    pub purge_task: Option<TaskId>,
}

/// Administrative state of a server, set from the CLI (`SRV_ADMF_MAINT`, `SRV_ADMF_DRAIN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SrvAdmin {
    #[default]
    Ready,
    /// Takes no new traffic from load balancing; existing connections live on.
    Drain,
    /// Maintenance: no traffic, idle connections purged.
    Maint,
}

/// A live server (`struct server`), shared by every thread. Its configuration is fixed;
/// what changes is atomic, or under its backend's [`PxShared::lb`] lock (`served` changes
/// only under that lock, so that a slot is never given twice).
#[derive(Debug)]
pub struct SrvShared {
    pub cfg: Server,
    /// The backend it belongs to.
    pub px: PxId,
    /// Index among its backend's servers (the LB index).
    pub lb_idx: usize,
    /// Usable for load balancing (not disabled, not down).
    pub up: AtomicBool,
    /// Administrative state (CLI), a [`SrvAdmin`] as `u8`.
    admin: AtomicU8,
    /// Streams currently using the server (`served`); changed under the backend's lock.
    pub served: AtomicU32,
    /// Peak of `served` (`cur_sess_max`, `smax`).
    pub served_max: AtomicU32,
    /// Streams waiting in the server's own queue (`queue.length`); the queue itself is in
    /// the backend's [`LbState`].
    pub nbpend: AtomicU32,
    pub counters: SharedCounters,
    /// Non-private connections in use, all threads (`curr_used_conns`).
    pub curr_used: AtomicU32,
    /// Peak of `curr_used` since the last purge (`max_used_conns`).
    pub max_used: AtomicU32,
    /// Estimated need of connections (`est_need_conns`), decays at each purge.
    pub est_need: AtomicU32,
    /// Idle connections in the `idle` lists of all threads (`curr_idle_nb`).
    pub idle_nb: AtomicU32,
    /// Idle connections in the `safe` lists of all threads (`curr_safe_nb`).
    pub safe_nb: AtomicU32,
    /// Idle connections (both lists) per thread (`curr_idle_thr[]`).
    pub idle_thr: Box<[AtomicU32]>,
    /// The purge timer is armed (on thread 0).
    pub purge_armed: AtomicBool,
    /// The thread whose idle connections a takeover looks at first (`next_takeover`).
    pub next_takeover: AtomicU32,
}

impl SrvShared {
    /// A server of backend `px` at LB index `lb_idx`, for `nbthread` threads.
    pub fn new(cfg: Server, px: PxId, lb_idx: usize, nbthread: usize) -> SrvShared {
        let admin = if cfg.disabled {
            SrvAdmin::Maint
        } else {
            SrvAdmin::Ready
        };
        SrvShared {
            up: AtomicBool::new(!cfg.disabled),
            cfg,
            px,
            lb_idx,
            admin: AtomicU8::new(admin as u8),
            served: AtomicU32::new(0),
            served_max: AtomicU32::new(0),
            nbpend: AtomicU32::new(0),
            counters: SharedCounters::default(),
            curr_used: AtomicU32::new(0),
            max_used: AtomicU32::new(0),
            est_need: AtomicU32::new(0),
            idle_nb: AtomicU32::new(0),
            safe_nb: AtomicU32::new(0),
            idle_thr: (0..nbthread.max(1)).map(|_| AtomicU32::new(0)).collect(),
            purge_armed: AtomicBool::new(false),
            next_takeover: AtomicU32::new(0),
        }
    }

    /// The address to connect to; a server without port uses the client's destination port.
    pub fn addr(&self, cli_dst: Option<SocketAddr>) -> SocketAddr {
        let mut a = self.cfg.addr;
        if self.cfg.port_unset {
            if let Some(d) = cli_dst {
                a.set_port(d.port());
            }
        }
        a
    }

    /// True when the server may take one more stream (`srv_is_full` negated).
    pub fn has_slot(&self) -> bool {
        self.cfg.maxconn == 0 || self.served.load(Relaxed) < self.cfg.maxconn
    }

    /// Whether the server is up (usable for load balancing, weight aside).
    pub fn is_up(&self) -> bool {
        self.up.load(Relaxed)
    }

    /// The administrative state.
    pub fn admin(&self) -> SrvAdmin {
        match self.admin.load(Relaxed) {
            x if x == SrvAdmin::Drain as u8 => SrvAdmin::Drain,
            x if x == SrvAdmin::Maint as u8 => SrvAdmin::Maint,
            _ => SrvAdmin::Ready,
        }
    }

    /// Sets the administrative state (the CLI, under the backend's lock).
    pub fn set_admin(&self, a: SrvAdmin) {
        self.admin.store(a as u8, Relaxed);
    }

    /// Idle connections on all threads (`curr_idle_conns`).
    pub fn curr_idle(&self) -> u32 {
        self.idle_nb.load(Relaxed) + self.safe_nb.load(Relaxed)
    }

    /// Counts connection use (`srv_use_conn`): one more non-private connection in use,
    /// raising the recent peak and the estimated need with it.
    pub fn use_conn(&self) {
        let now = self.curr_used.fetch_add(1, Relaxed) + 1;
        self.max_used.fetch_max(now, Relaxed);
        self.est_need.fetch_max(now, Relaxed);
    }
}

/// The operations of a load-balancing algorithm over a backend's servers, addressed by their
/// index in [`PxShared::servers`] (HAProxy's `struct lbprm` function pointers).
pub trait LbAlgo {
    /// The next server to use, avoiding `avoid` when another one is usable; `None` when no
    /// server is usable.
    fn get_next(&mut self, avoid: Option<usize>) -> Option<usize>;
    /// A server became usable (`true`) or unusable.
    fn set_usable(&mut self, idx: usize, up: bool);
    /// A server took a connection (stream).
    fn conn_taken(&mut self, idx: usize);
    /// A server released a connection (stream).
    fn conn_released(&mut self, idx: usize);
    /// True when some server is usable even if all are full (a `None` from `get_next` then
    /// means "queue in the backend", not "no server").
    fn has_usable(&self) -> bool;
    /// The number of streams waiting in a server's own queue changed.
    fn set_queue_len(&mut self, idx: usize, len: u32);
}

/// Where a stream waits in a queue (`struct pendconn`): its thread and its handle there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub tid: Tid,
    pub sid: StrmId,
}

/// A backend's load-balancing state and queues, under one lock ([`PxShared::lb`]).
pub struct LbState {
    /// The algorithm's state over the backend's servers (implemented in `hrs-backend`).
    pub algo: Box<dyn LbAlgo + Send>,
    /// Streams waiting for any server of the backend (`px->queue`), oldest first.
    pub queue: VecDeque<Pending>,
    /// Streams waiting for one server (`srv->queue`), by LB index, oldest first.
    pub srv_queue: Vec<VecDeque<Pending>>,
}

impl std::fmt::Debug for LbState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LbState(queue {})", self.queue.len())
    }
}

/// A live proxy (`struct proxy`), shared by every thread.
#[derive(Debug)]
pub struct PxShared {
    pub cfg: Proxy,
    /// Servers of this backend, in declaration order.
    pub servers: Vec<SrvId>,
    /// `default_backend` resolved.
    pub default_be: Option<PxId>,
    /// The load-balancing state and the queues (`lbprm.lock` with the queue locks).
    pub lb: Lock<LbState>,
    /// Streams waiting in the backend's own queue (`queue.length`).
    pub nbpend: AtomicU32,
    /// Frontend connections open (`feconn`).
    pub feconn: AtomicU32,
    /// Streams using this backend (`beconn`).
    pub beconn: AtomicU32,
    pub counters: SharedCounters,
}
