//! The state every thread shares (HAProxy's globals: `struct global`, the proxy list, the
//! per-thread arrays other threads read: `ha_thread_ctx[]`, `idle_conns[]`).
//!
//! Owns [`Shared`]: the runtime proxies and servers ([`PxShared`], [`SrvShared`]), the
//! global settings and gauges ([`GlobalRt`]), the process variables, and one
//! [`ThreadShared`] per thread: its inbox of messages ([`Msg`]), its load, its takeover
//! registry of idle server connections ([`IdleReg`]) (its loop's heartbeat, for the
//! watchdog, is `hrs_ev::Heartbeat`). Every thread
//! holds the same `Arc<Shared>` in its [`crate::World`].
//!
//! May be touched from any thread: everything here is immutable configuration, an atomic,
//! or under a [`Lock`] (ranks in [`crate::lock::LockRank`]). What a thread owns alone (its
//! connections, sessions, streams, pools, timers) stays in its `World`; another thread
//! reaches it only by sending a [`Msg`], which the owner's loop handles (upstream's
//! `tasklet_wakeup_on`). The model: `docs/threads.md`.

use crate::lock::{Lock, LockRank};
use crate::{ConnId, PxId, PxShared, SrvId, SrvShared, StrmId};
use hrs_cfg::model::BindProto;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::OnceLock;

/// A thread number, 0-based (upstream's `tid`).
pub type Tid = u16;

/// The most threads a process runs (upstream's `MAX_THREADS` on 64-bit builds).
pub const MAX_THREADS: usize = 64;

/// Process-wide settings and gauges (HAProxy's `struct global`, runtime half). Settings
/// are fixed once the process runs; gauges are atomics.
#[derive(Debug, Default)]
pub struct GlobalRt {
    /// Global `maxconn` (frontend connections).
    pub maxconn: u32,
    /// Frontend connections currently open, all threads (`actconn`).
    pub curr_conn: AtomicU32,
    /// `tune.bufsize`.
    pub bufsize: usize,
    /// `tune.maxrewrite`.
    pub maxrewrite: usize,
    /// `tune.http.maxhdr`.
    pub maxhdr: usize,
    /// `tune.h2.*`: the HTTP/2 settings advertised.
    pub tune_h2: hrs_cfg::model::TuneH2,
    /// `-d`: print accept/request debug lines on stderr.
    pub debug: bool,
    /// Streams created so far, all threads (`global.req_count`, the uuid source).
    pub uuid: AtomicU32,
    /// Sessions accepted so far, all threads (the `-d` accept lines' counter).
    pub accepted: AtomicU32,
    /// Host name for `%H` and syslog headers.
    pub hostname: String,
    /// Global `log` targets (used by proxies with `log global`).
    pub logs: Vec<hrs_cfg::model::LogSpec>,
    /// The longest `len` of all `log` lines of the configuration (`global.max_syslog_len`):
    /// a rendered log message keeps at most this minus one bytes; 0 when nothing logs.
    pub max_syslog_len: usize,
    /// Idle-pool admission and killing thresholds in file descriptors
    /// (`tune.pool-low-fd-ratio`/`pool-high-fd-ratio` of `maxsock`).
    pub pool_low_count: u32,
    pub pool_high_count: u32,
    /// `nbthread`: the number of threads running.
    pub nbthread: usize,
    /// `tune.idle-pool.shared`: threads may take over each other's idle connections.
    pub idle_pool_shared: bool,
    /// `tune.listener.multi-queue`: an accepted connection goes to the least loaded thread.
    pub multi_queue: bool,
}

impl GlobalRt {
    /// Adds one to the stream counter and returns the stream's unique id.
    pub fn next_uuid(&self) -> u32 {
        self.uuid.fetch_add(1, Relaxed).wrapping_add(1)
    }
}

/// A client connection accepted on one thread and handed to another (`accept_queue_ring`
/// entry).
#[derive(Debug)]
pub struct Accepted {
    pub sock: OwnedFd,
    /// The frontend.
    pub fe: PxId,
    pub addr: SocketAddr,
    /// The listener's own address when it is not a wildcard.
    pub local: Option<SocketAddr>,
    pub proto: BindProto,
    /// The listening socket it came from (for the `-d` accept line).
    pub lfd: RawFd,
}

/// A message to one thread, handled by its loop (`Ctx::Inbox`).
#[derive(Debug)]
pub enum Msg {
    /// Serve this accepted connection (upstream's `accept_queue_process`).
    Accept(Accepted),
    /// Queued stream `sid` of this thread got a slot of server `srv` (`served` already
    /// counts it): assign and wake it, or give the slot back if it no longer waits.
    Dequeued { sid: StrmId, srv: SrvId },
    /// Stop: soft (close listeners, finish what runs) or hard (leave now).
    Stop { hard: bool },
    /// Idle connection `cid` of this thread was taken over: forget it without touching its
    /// socket (the other thread owns a duplicate of it).
    Taken(ConnId),
    /// Close up to `n` idle connections of `srv` (this thread's share of a purge).
    Purge { srv: SrvId, n: u32 },
    /// Close every idle connection of `srv` (it entered maintenance).
    Cleanup(SrvId),
    /// Arm the purge timer of `srv` (sent to thread 0, which runs the purges).
    ArmPurge(SrvId),
}

/// One idle server connection another thread may take over.
#[derive(Clone, Copy, Debug)]
pub struct IdleEntry {
    /// The connection in its owner's arena.
    pub cid: ConnId,
    /// Its socket in the owner (duplicated by the taker, under the registry lock).
    pub fd: RawFd,
    /// In the safe list (else the idle list).
    pub safe: bool,
    /// Requests it carried (`h1c` request count: whether it is proven reusable).
    pub req_count: u32,
    pub px: PxId,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
}

/// One thread's idle server connections, as other threads see them for takeover
/// (`idle_conns[tid]` under `idle_conns_lock`): by server and reuse key, oldest first.
/// An entry leaves the registry exactly once: taken over by another thread, or removed by
/// its owner when it reuses or closes the connection. Whoever removes it owns the socket.
/// A key's queue stays when it empties (no allocation per pooled connection); there are
/// as many keys as (server, reuse key) pairs ever pooled.
#[derive(Debug, Default)]
pub struct IdleReg {
    pub conns: HashMap<(SrvId, u64), VecDeque<IdleEntry>>,
}

impl IdleReg {
    /// Adds `e` for server `srv`, key `hash`.
    pub fn insert(&mut self, srv: SrvId, hash: u64, e: IdleEntry) {
        self.conns.entry((srv, hash)).or_default().push_back(e);
    }

    /// Removes connection `cid` if it is still here; false when it was taken over.
    pub fn remove(&mut self, srv: SrvId, hash: u64, cid: ConnId) -> bool {
        let Some(q) = self.conns.get_mut(&(srv, hash)) else {
            return false;
        };
        let Some(pos) = q.iter().position(|e| e.cid == cid) else {
            return false;
        };
        q.remove(pos);
        true
    }

    /// True when connection `cid` is still listed (not taken over).
    pub fn contains(&self, srv: SrvId, hash: u64, cid: ConnId) -> bool {
        self.conns
            .get(&(srv, hash))
            .is_some_and(|q| q.iter().any(|e| e.cid == cid))
    }

    /// Takes the oldest entry of `srv`/`hash`: from the safe list only when `safe_only`,
    /// else the idle list first, then the safe list (`conn_backend_get`'s order).
    pub fn take(&mut self, srv: SrvId, hash: u64, safe_only: bool) -> Option<IdleEntry> {
        let q = self.conns.get_mut(&(srv, hash))?;
        let pos = if safe_only {
            q.iter().position(|e| e.safe)?
        } else {
            q.iter()
                .position(|e| !e.safe)
                .or_else(|| q.iter().position(|e| e.safe))?
        };
        q.remove(pos)
    }
}

/// What other threads may see of one thread.
#[derive(Debug)]
pub struct ThreadShared {
    /// Messages for this thread, drained by its loop.
    pub inbox: Lock<Vec<Msg>>,
    /// Wakes this thread's inbox task (set when its loop starts).
    pub waker: OnceLock<std::task::Waker>,
    /// Frontend connections this thread serves (`thr_conn`, the accept balancing load).
    pub conns: AtomicU32,
    /// Accepted connections handed to this thread and not served yet (the accept ring's
    /// length).
    pub accq: AtomicU32,
    /// Its idle server connections open to takeover.
    pub idle: Lock<IdleReg>,
}

impl ThreadShared {
    fn new() -> ThreadShared {
        ThreadShared {
            inbox: Lock::new(LockRank::Inbox, Vec::new()),
            waker: OnceLock::new(),
            conns: AtomicU32::new(0),
            accq: AtomicU32::new(0),
            idle: Lock::new(LockRank::IdleConns, IdleReg::default()),
        }
    }
}

/// Everything the threads share.
#[derive(Debug)]
pub struct Shared {
    pub global: GlobalRt,
    pub proxies: Vec<PxShared>,
    pub servers: Vec<SrvShared>,
    /// Backends (and listens) by name, for `use_backend`.
    pub be_index: HashMap<String, PxId>,
    /// Process-scoped variables (`proc.*`).
    pub proc_vars: Lock<hrs_sample::Vars>,
    /// One entry per thread.
    pub threads: Vec<ThreadShared>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::new(GlobalRt {
            nbthread: 1,
            idle_pool_shared: true,
            multi_queue: true,
            ..GlobalRt::default()
        })
    }
}

impl Shared {
    /// Shared state with `global.nbthread` threads and no proxy yet.
    pub fn new(global: GlobalRt) -> Shared {
        let n = global.nbthread.clamp(1, MAX_THREADS);
        Shared {
            global,
            proxies: Vec::new(),
            servers: Vec::new(),
            be_index: HashMap::new(),
            proc_vars: Lock::new(LockRank::ProcVars, hrs_sample::Vars::new()),
            threads: (0..n).map(|_| ThreadShared::new()).collect(),
        }
    }

    /// The number of threads.
    pub fn nbthread(&self) -> usize {
        self.threads.len()
    }

    /// Sends `msg` to thread `tid` and wakes its loop. A message to a thread whose loop has
    /// not started yet waits in its inbox.
    pub fn send(&self, tid: Tid, msg: Msg) {
        let Some(t) = self.threads.get(usize::from(tid)) else {
            return;
        };
        t.inbox.lock().push(msg);
        if let Some(w) = t.waker.get() {
            w.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hrs_list::Arena;

    fn entry(cid: ConnId, safe: bool) -> IdleEntry {
        IdleEntry {
            cid,
            fd: -1,
            safe,
            req_count: 1,
            px: 0,
            src: None,
            dst: None,
        }
    }

    #[test]
    fn registry_takes_idle_before_safe_oldest_first_and_each_entry_once() {
        let mut a: Arena<crate::Connection> = Arena::new();
        let mut ev = crate::Ev::new().unwrap();
        let mut mk = |a: &mut Arena<crate::Connection>| {
            let task = ev.task_new(crate::Ctx::Inbox);
            a.insert(crate::Connection::new(
                task,
                crate::Side::Back,
                0,
                crate::Mux::Pt,
            ))
        };
        let (s1, i1, i2, other) = (mk(&mut a), mk(&mut a), mk(&mut a), mk(&mut a));
        let mut r = IdleReg::default();
        r.insert(3, 7, entry(s1, true));
        r.insert(3, 7, entry(i1, false));
        r.insert(3, 7, entry(i2, false));
        r.insert(3, 8, entry(other, false));
        // safe only: the safe one, though it is not the oldest idle
        assert_eq!(r.take(3, 7, true).map(|e| e.cid), Some(s1));
        assert_eq!(r.take(3, 7, true).map(|e| e.cid), None);
        // the owner claims i1 first: the taker gets i2, then nothing of this key
        assert!(r.contains(3, 7, i1));
        assert!(r.remove(3, 7, i1));
        assert!(!r.remove(3, 7, i1), "an entry leaves once");
        assert_eq!(r.take(3, 7, false).map(|e| e.cid), Some(i2));
        assert_eq!(r.take(3, 7, false).map(|e| e.cid), None);
        // another key, another server: untouched
        assert_eq!(r.take(4, 8, false).map(|e| e.cid), None);
        assert!(r.contains(3, 8, other));
    }

    #[test]
    fn messages_wait_in_the_inbox_until_drained() {
        let sh = Shared::new(GlobalRt {
            nbthread: 2,
            ..GlobalRt::default()
        });
        assert_eq!(sh.nbthread(), 2);
        sh.send(1, Msg::Stop { hard: false });
        sh.send(5, Msg::Stop { hard: true });
        assert!(sh.threads[0].inbox.lock().is_empty());
        let got = std::mem::take(&mut *sh.threads[1].inbox.lock());
        assert!(matches!(got.as_slice(), [Msg::Stop { hard: false }]));
    }
}
