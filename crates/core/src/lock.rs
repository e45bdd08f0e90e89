//! The locks of the shared state (HAProxy's `HA_SPIN_LOCK` with its lock labels), ordered.
//!
//! Owns [`Lock`], a mutex that knows its rank ([`LockRank`]). A thread may only take a lock
//! of a rank higher than every lock it holds: the ranks are the one lock order of the
//! process, so no two threads can wait on each other. Debug builds check the order on every
//! acquisition (a thread-local stack of held ranks) and panic naming both locks; release
//! builds only lock. Locks are never held across I/O or a call into another layer's loop:
//! callers copy what they need and release (`docs/threads.md`).
//!
//! A poisoned mutex (a thread panicked while holding it) is taken anyway: the process is
//! about to die of that panic, and the data under our locks is kept consistent by short
//! critical sections with no early returns.
//!
//! Every build counts, per rank, the contended attempts (the lock was held by another
//! thread: [`Lock::lock`] then waited, [`Lock::try_lock`] gave up) in relaxed static
//! atomics, one cache line per rank; the acquisitions too once [`count_acquisitions`] was
//! called (`HRS_LOCK_STATS=1`), since a counter every thread increments on every
//! acquisition would make threads share a cache line that per-thread locks (`IdleConns`,
//! `Inbox`) otherwise keep apart. [`contention`] reads them (the scaling figures of
//! `docs/performance.md`). The uncontended path costs one read of a flag that never
//! changes after startup.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// The lock order, lowest first (upstream's lock labels for the same data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockRank {
    /// A backend's load-balancing state and its queues (`lbprm.lock`, `px->queue.lock`,
    /// `srv->queue.lock`: one lock here, see `docs/threads.md`).
    Lbprm = 1,
    /// One thread's takeover registry of idle server connections (`idle_conns[tid].idle_conns_lock`).
    IdleConns = 2,
    /// Process-scoped variables (`vars_lock`).
    ProcVars = 3,
    /// One thread's inbox of messages from other threads (the `tasklet_wakeup_on` queue).
    Inbox = 4,
}

impl LockRank {
    /// Every rank, in lock order.
    pub const ALL: [LockRank; 4] = [
        LockRank::Lbprm,
        LockRank::IdleConns,
        LockRank::ProcVars,
        LockRank::Inbox,
    ];
}

/// The counters of one rank, alone on their cache line (the ranks do not bounce each
/// other's line).
#[repr(align(64))]
struct RankCounts {
    acquired: AtomicU64,
    contended: AtomicU64,
}

static COUNTS: [RankCounts; 4] = [const {
    RankCounts {
        acquired: AtomicU64::new(0),
        contended: AtomicU64::new(0),
    }
}; 4];

/// Whether acquisitions are counted (set once at startup).
static COUNT_ACQUIRED: AtomicBool = AtomicBool::new(false);

/// Counts every acquisition from now on, for [`contention`] (the bench's
/// `HRS_LOCK_STATS=1`); call it before the threads start.
pub fn count_acquisitions() {
    COUNT_ACQUIRED.store(true, Relaxed);
}

fn counts(rank: LockRank) -> &'static RankCounts {
    &COUNTS[rank as usize - 1]
}

/// Per rank, in lock order: how many times a lock of that rank was taken since
/// [`count_acquisitions`] (0 without it), and how many attempts found it held by another thread (a `lock` that then
/// waited, or a `try_lock` that gave up). Relaxed reads: a snapshot, exact once the
/// threads have stopped.
pub fn contention() -> [(LockRank, u64, u64); 4] {
    LockRank::ALL.map(|r| {
        let c = counts(r);
        (r, c.acquired.load(Relaxed), c.contended.load(Relaxed))
    })
}

/// A mutex with a place in the lock order.
#[derive(Debug)]
pub struct Lock<T> {
    rank: LockRank,
    m: Mutex<T>,
}

/// Holds a [`Lock`]; releases it (and its rank) when dropped.
pub struct LockGuard<'a, T> {
    g: MutexGuard<'a, T>,
    #[cfg(debug_assertions)]
    rank: LockRank,
}

#[cfg(debug_assertions)]
thread_local! {
    static HELD: std::cell::RefCell<Vec<LockRank>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<T> Lock<T> {
    pub const fn new(rank: LockRank, v: T) -> Lock<T> {
        Lock {
            rank,
            m: Mutex::new(v),
        }
    }

    /// Takes the lock.
    ///
    /// # Panics
    /// Debug builds: the calling thread holds a lock of the same or a higher rank (a lock
    /// order violation, which could deadlock against another thread).
    pub fn lock(&self) -> LockGuard<'_, T> {
        self.check_order();
        let g = match self.m.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                counts(self.rank).contended.fetch_add(1, Relaxed);
                self.m.lock().unwrap_or_else(|e| e.into_inner())
            }
        };
        self.guard(g)
    }

    /// Takes the lock if it is free (`HA_SPIN_TRYLOCK`); `None` when another thread holds
    /// it. The lock order is checked as for [`Lock::lock`].
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.check_order();
        let g = match self.m.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                counts(self.rank).contended.fetch_add(1, Relaxed);
                return None;
            }
        };
        Some(self.guard(g))
    }

    /// Debug builds: panics if the calling thread holds a lock of the same or a higher
    /// rank (checked before waiting, so that the violation is reported, not deadlocked on).
    fn check_order(&self) {
        #[cfg(debug_assertions)]
        HELD.with(|h| {
            if let Some(&top) = h.borrow().last() {
                assert!(
                    top < self.rank,
                    "lock order: taking {:?} while holding {top:?}",
                    self.rank
                );
            }
        });
    }

    /// Wraps the mutex guard `g` of this lock, counts the acquisition and records (debug
    /// builds) its rank as held.
    fn guard<'a>(&'a self, g: MutexGuard<'a, T>) -> LockGuard<'a, T> {
        if COUNT_ACQUIRED.load(Relaxed) {
            counts(self.rank).acquired.fetch_add(1, Relaxed);
        }
        #[cfg(debug_assertions)]
        HELD.with(|h| h.borrow_mut().push(self.rank));
        LockGuard {
            g,
            #[cfg(debug_assertions)]
            rank: self.rank,
        }
    }

    /// The value, for the single owner (`&mut self`: no other thread can hold the lock).
    pub fn get_mut(&mut self) -> &mut T {
        self.m.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        #[cfg(debug_assertions)]
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            let pos = h.iter().rposition(|&r| r == self.rank);
            debug_assert!(pos.is_some(), "releasing a lock not held");
            if let Some(p) = pos {
                h.remove(p);
            }
        });
    }
}

impl<T> std::ops::Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.g
    }
}

impl<T> std::ops::DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increasing_order_is_allowed_and_released() {
        let a = Lock::new(LockRank::Lbprm, 1);
        let b = Lock::new(LockRank::Inbox, 2);
        {
            let ga = a.lock();
            let gb = b.lock();
            assert_eq!(*ga + *gb, 3);
        }
        // both released: the low rank may be taken again
        let _gb = b.lock();
        drop(_gb);
        let _ga = a.lock();
    }

    /// The counts of `rank` now.
    fn of(rank: LockRank) -> (u64, u64) {
        let (r, a, c) = contention()[rank as usize - 1];
        assert_eq!(r, rank);
        (a, c)
    }

    // The only test of this crate that takes ProcVars locks: its deltas are exact.
    #[test]
    fn contention_is_counted_per_rank() {
        let ranks: Vec<LockRank> = contention().iter().map(|e| e.0).collect();
        assert_eq!(ranks, LockRank::ALL.to_vec());
        count_acquisitions();
        let l = std::sync::Arc::new(Lock::new(LockRank::ProcVars, 0u32));
        let (a0, c0) = of(LockRank::ProcVars);
        // free: counted, not contended
        *l.lock() += 1;
        assert_eq!(of(LockRank::ProcVars), (a0 + 1, c0));
        *l.try_lock().expect("free") += 1;
        assert_eq!(of(LockRank::ProcVars), (a0 + 2, c0));

        let held = l.lock();
        // a try_lock on a held lock gives up: contended, not acquired
        let l2 = std::sync::Arc::clone(&l);
        let gave_up = std::thread::spawn(move || l2.try_lock().is_none())
            .join()
            .unwrap();
        assert!(gave_up);
        assert_eq!(of(LockRank::ProcVars), (a0 + 3, c0 + 1));
        // a lock on a held lock counts one contention, then waits for the release
        let l2 = std::sync::Arc::clone(&l);
        let waiter = std::thread::spawn(move || *l2.lock() += 10);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while of(LockRank::ProcVars).1 < c0 + 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the waiter never tried"
            );
            std::thread::yield_now();
        }
        assert_eq!(*held, 2, "the waiter got in while the lock was held");
        drop(held);
        waiter.join().unwrap();
        assert_eq!(*l.lock(), 12);
        assert_eq!(of(LockRank::ProcVars), (a0 + 5, c0 + 2));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "lock order: taking Lbprm while holding Inbox")]
    fn decreasing_order_panics_in_debug() {
        let a = Lock::new(LockRank::Lbprm, ());
        let b = Lock::new(LockRank::Inbox, ());
        let _gb = b.lock();
        let _ga = a.lock();
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "lock order: taking Lbprm while holding Lbprm")]
    fn same_rank_twice_panics_in_debug() {
        let a = Lock::new(LockRank::Lbprm, ());
        let b = Lock::new(LockRank::Lbprm, ());
        let _ga = a.lock();
        let _gb = b.lock();
    }
}
