//! Runtime proxies and servers (HAProxy's `proxy-t.h`, `server-t.h`): the configuration of
//! each plus its live counters, load-balancing state and queues.

use crate::{Connection, PoolList, PxId, SrvId, StrmId};
use hrs_cfg::model::{Proxy, Server};
use hrs_ev::TaskId;
use hrs_list::KeyedLists;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Counters of a proxy or server (`struct fe_counters`/`be_counters`, the part we keep).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub cum_conn: u64,
    pub cum_sess: u64,
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

/// A server's pools of reusable connections and their gauges (`srv->per_thr[tid]` lists and
/// the `curr_*`/`max_used_conns`/`est_need_conns` counters). One per thread: a `World` is a
/// thread. Lists are keyed by the connection hash and hold backend connections through
/// [`PoolList`]; a connection is in at most one of them, which its `co_fl::IDLE_LIST` /
/// `SAFE_LIST` flags (or neither, for `avail`) say. Behaviour: `hrs-backend::server`.
#[derive(Debug, Default)]
pub struct SrvPool {
    /// Idle connections not yet proven reusable (H1 that served only its first request).
    pub idle: KeyedLists<u64, Connection, PoolList>,
    /// Idle connections proven reusable (`safe_conns`).
    pub safe: KeyedLists<u64, Connection, PoolList>,
    /// In-use connections that can take more streams (`avail_conns`, multiplexed muxes).
    pub avail: KeyedLists<u64, Connection, PoolList>,
    /// Non-private connections not in an idle list (`curr_used_conns`).
    pub curr_used: u32,
    /// Peak of `curr_used` since the last purge (`max_used_conns`).
    pub max_used: u32,
    /// Estimated need of connections (`est_need_conns`), decays at each purge.
    pub est_need: u32,
    /// The purge task (`srv_cleanup_idle_conns` timer), armed while idle connections exist.
    pub purge_task: Option<TaskId>,
}

impl SrvPool {
    /// Idle connections in both lists (`curr_idle_conns`).
    pub fn curr_idle(&self) -> u32 {
        (self.idle.len() + self.safe.len()) as u32
    }
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

/// A live server (`struct server`).
#[derive(Debug)]
pub struct ServerRt {
    pub cfg: Server,
    /// The backend it belongs to.
    pub px: PxId,
    /// Index among its backend's servers (the LB index).
    pub lb_idx: usize,
    /// Usable for load balancing (not disabled, not down).
    pub up: bool,
    /// Streams currently using the server (`served`).
    pub served: u32,
    /// Streams waiting for a slot (`pendconns`), oldest first.
    pub queue: VecDeque<StrmId>,
    pub counters: Counters,
    /// Administrative state (CLI).
    pub admin: SrvAdmin,
    /// Reusable connections and their gauges.
    pub pool: SrvPool,
    /// Peak of `served` (`cur_sess_max`, `smax`).
    pub served_max: u32,
}

impl ServerRt {
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
        self.cfg.maxconn == 0 || self.served < self.cfg.maxconn
    }
}

/// The operations of a load-balancing algorithm over a backend's servers, addressed by their
/// index in [`ProxyRt::servers`] (HAProxy's `struct lbprm` function pointers).
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

/// A live proxy (`struct proxy`).
pub struct ProxyRt {
    pub cfg: Proxy,
    /// Servers of this backend, in declaration order.
    pub servers: Vec<SrvId>,
    /// `default_backend` resolved.
    pub default_be: Option<PxId>,
    /// Compiled ACLs, rules and log-format.
    pub rules: std::rc::Rc<hrs_sample::ProxyRules>,
    /// Load-balancing state over `servers` (implemented in `hrs-backend`).
    pub lb: Box<dyn LbAlgo>,
    /// Streams waiting for any server of the backend (`px->queue`).
    pub queue: VecDeque<StrmId>,
    /// Frontend connections open (`feconn`).
    pub feconn: u32,
    /// Streams using this backend (`beconn`).
    pub beconn: u32,
    pub counters: Counters,
}

impl std::fmt::Debug for ProxyRt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyRt({})", self.cfg.name)
    }
}
