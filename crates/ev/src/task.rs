//! Tasks, the run queue, the timer tree and the loop clock (HAProxy src/task.c, task.h, clock.c).
//!
//! This module owns `Sched`, the part of [`crate::Ev`] that knows nothing about fds: the task
//! table (an [`hrs_list::Arena`] of `Task<C>`), the run queue (a FIFO of [`TaskId`]s, at most
//! one live entry per task, deduplicated by the task's `queued` flag as `TASK_QUEUED` /
//! `tasklet_wakeup` do), the timer tree (exact ordered map keyed by absolute ms + sequence, i.e.
//! HAProxy's wait queue without lazy requeueing) and the clock (`now_ms`). It touches no fd and
//! makes no syscall besides reading `Instant::now()` in `Clock::update`.
//!
//! HAProxy has both tasks and tasklets; here they are one kind: every task may have a timer and
//! may be woken; a task that never gets a timer is a tasklet.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::time::{Duration, Instant};

use hrs_list::{Arena, Handle};
use log::trace;

use crate::ticks::{tick_diff, tick_first, tick_is_expired, tick_isset, Tick, TICK_ETERNITY};

/// Generation-checked handle to a task of an [`crate::Ev`]. Handles to freed tasks are stale:
/// every API taking a `TaskId` ignores them (or returns `None`/`false`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) Handle<TaskTag>);

/// Type tag of [`TaskId`]'s handle: `TaskId` is not generic over the context type `C`, so it
/// holds a `Handle<TaskTag>`, retyped to `Handle<Task<C>>` by [`TaskId::key`].
pub(crate) enum TaskTag {}

impl TaskId {
    /// Slot index, stable while the task lives (for logs and per-task side tables).
    pub fn index(self) -> u32 {
        self.0.idx()
    }

    fn new<C>(h: Handle<Task<C>>) -> TaskId {
        TaskId(Handle::from_raw(h.idx(), h.gen()).expect("handle gen is never 0"))
    }

    /// The handle into a `Sched<C>`'s task arena.
    fn key<C>(self) -> Handle<Task<C>> {
        Handle::from_raw(self.0.idx(), self.0.gen()).expect("handle gen is never 0")
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}.{}", self.0.idx(), self.0.gen())
    }
}

/// Why a task was woken (HAProxy's `TASK_WOKEN_*` bits, same values). Reasons accumulate while
/// the task waits in the run queue and are handed to the handler, then cleared, when it runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WakeReason(pub u32);

impl WakeReason {
    /// No reason (never passed to a handler by the loop).
    pub const NONE: WakeReason = WakeReason(0);
    /// `TASK_WOKEN_INIT`: first wakeup after creation (set by the caller if it wants).
    pub const INIT: WakeReason = WakeReason(0x0100);
    /// `TASK_WOKEN_TIMER`: the task's `expire` date was reached.
    pub const TIMER: WakeReason = WakeReason(0x0200);
    /// `TASK_WOKEN_IO`: an event arrived on an fd owned by the task.
    pub const IO: WakeReason = WakeReason(0x0400);
    /// `TASK_WOKEN_SIGNAL`: a signal is pending (see [`crate::Ev::take_signals`]).
    pub const SIGNAL: WakeReason = WakeReason(0x0800);
    /// `TASK_WOKEN_MSG`: another task sent it something.
    pub const MSG: WakeReason = WakeReason(0x1000);
    /// `TASK_WOKEN_RES`: a resource became available.
    pub const RES: WakeReason = WakeReason(0x2000);
    /// `TASK_WOKEN_OTHER`: anything else; also what a [`std::task::Waker`] from
    /// [`crate::Ev::waker`] uses.
    pub const OTHER: WakeReason = WakeReason(0x4000);

    /// Raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }
    /// True if no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// True if every bit of `other` is set in `self`.
    pub fn contains(self, other: WakeReason) -> bool {
        self.0 & other.0 == other.0
    }
    /// True if any bit of `other` is set in `self`.
    pub fn intersects(self, other: WakeReason) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for WakeReason {
    type Output = WakeReason;
    fn bitor(self, rhs: WakeReason) -> WakeReason {
        WakeReason(self.0 | rhs.0)
    }
}

impl BitOrAssign for WakeReason {
    fn bitor_assign(&mut self, rhs: WakeReason) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for WakeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(WakeReason, &str); 7] = [
            (WakeReason::INIT, "INIT"),
            (WakeReason::TIMER, "TIMER"),
            (WakeReason::IO, "IO"),
            (WakeReason::SIGNAL, "SIGNAL"),
            (WakeReason::MSG, "MSG"),
            (WakeReason::RES, "RES"),
            (WakeReason::OTHER, "OTHER"),
        ];
        let mut rest = self.0;
        let mut first = true;
        for (r, n) in NAMES {
            if self.contains(r) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(n)?;
                first = false;
                rest &= !r.0;
            }
        }
        if rest != 0 || first {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// The loop clock: `now_ms` (wrapping [`Tick`]) plus a non-wrapping absolute ms count used to
/// key the timer tree. Both advance only in `Clock::update`, once per loop iteration.
pub(crate) struct Clock {
    start: Instant,
    /// `now_ms` at `start`.
    base: Tick,
    /// ms elapsed since `start`, floored.
    pub(crate) now_abs: u64,
    pub(crate) now_ms: Tick,
}

impl Clock {
    pub(crate) fn new(base: Tick) -> Self {
        Clock {
            start: Instant::now(),
            base,
            now_abs: 0,
            now_ms: base,
        }
    }

    /// Reads the monotonic clock (HAProxy's `clock_update_date`).
    pub(crate) fn update(&mut self) {
        let abs = self.start.elapsed().as_millis() as u64;
        debug_assert!(abs >= self.now_abs, "monotonic clock went back");
        self.now_abs = abs;
        self.now_ms = self.base.wrapping_add(abs as u32);
    }

    /// Absolute ms of tick `t` (set), relative to the current `now_ms`; a date in the past maps
    /// to `now_abs` (it is already expired).
    pub(crate) fn tick_to_abs(&self, t: Tick) -> u64 {
        debug_assert!(tick_isset(t));
        let d = tick_diff(t, self.now_ms);
        if d <= 0 {
            self.now_abs
        } else {
            self.now_abs + d as u64
        }
    }

    pub(crate) fn abs_to_instant(&self, abs: u64) -> Instant {
        self.start + Duration::from_millis(abs)
    }
}

/// Key in the timer tree: (absolute expiry ms, insertion sequence).
type TimerKey = (u64, u64);

struct Task<C> {
    ctx: C,
    /// The task's timer date, [`TICK_ETERNITY`] when none. Mirrors `timer` below.
    expire: Tick,
    /// Accumulated wake reasons while queued (HAProxy's `state & TASK_WOKEN_ANY`).
    state: WakeReason,
    /// In the run queue (`TASK_QUEUED`).
    queued: bool,
    /// Key in the timer tree when armed (`task_in_wq`).
    timer: Option<TimerKey>,
    /// The last pass ([`Sched::pass`]) that ran the task.
    ran_pass: u32,
    /// The pass in which the task woke itself (directly or through its waker): it runs
    /// again only in the next pass, so a task that yields cannot spin.
    defer_pass: u32,
}

/// Tasks, run queue, timers and clock. See the module doc.
pub(crate) struct Sched<C> {
    tasks: Arena<Task<C>>,
    pub(crate) rq: VecDeque<TaskId>,
    /// Number of live tasks with `queued` set (stale rq entries excluded).
    nr_queued: usize,
    timers: BTreeMap<TimerKey, TaskId>,
    timer_seq: u64,
    pub(crate) clock: Clock,
    /// Number of the current run pass (wraps; pass 0 is never current).
    pub(crate) pass: u32,
    /// The task being run, if any (to tell a self-wake from another task's).
    pub(crate) current: Option<TaskId>,
}

impl<C: Copy> Sched<C> {
    pub(crate) fn new(base: Tick) -> Self {
        Sched {
            tasks: Arena::new(),
            rq: VecDeque::new(),
            nr_queued: 0,
            timers: BTreeMap::new(),
            timer_seq: 0,
            clock: Clock::new(base),
            pass: 0,
            current: None,
        }
    }

    pub(crate) fn task_new(&mut self, ctx: C) -> TaskId {
        let h = self.tasks.insert(Task {
            ctx,
            expire: TICK_ETERNITY,
            state: WakeReason::NONE,
            queued: false,
            timer: None,
            ran_pass: 0,
            defer_pass: 0,
        });
        let id = TaskId::new(h);
        trace!(target: "hrs::ev", "task_new {id:?}");
        id
    }

    pub(crate) fn task_free(&mut self, id: TaskId) -> bool {
        let Some(t) = self.tasks.remove(id.key()) else {
            return false;
        };
        if let Some(k) = t.timer {
            let r = self.timers.remove(&k);
            debug_assert_eq!(r, Some(id));
        }
        if t.queued {
            // its rq entry is now stale (slot freed) and will be skipped
            self.nr_queued -= 1;
        }
        trace!(target: "hrs::ev", "task_free {id:?}");
        true
    }

    pub(crate) fn exists(&self, id: TaskId) -> bool {
        self.tasks.get(id.key()).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn ctx(&self, id: TaskId) -> Option<C> {
        self.tasks.get(id.key()).map(|t| t.ctx)
    }

    pub(crate) fn set_ctx(&mut self, id: TaskId, ctx: C) -> bool {
        match self.tasks.get_mut(id.key()) {
            Some(t) => {
                t.ctx = ctx;
                true
            }
            None => false,
        }
    }

    pub(crate) fn is_queued(&self, id: TaskId) -> bool {
        self.tasks.get(id.key()).is_some_and(|t| t.queued)
    }

    pub(crate) fn nr_queued(&self) -> usize {
        self.nr_queued
    }

    pub(crate) fn wakeup(&mut self, id: TaskId, reason: WakeReason) -> bool {
        debug_assert!(!reason.is_empty(), "wakeup without a reason");
        let Some(t) = self.tasks.get_mut(id.key()) else {
            return false;
        };
        t.state |= reason;
        if self.current == Some(id) {
            t.defer_pass = self.pass;
        }
        if !t.queued {
            t.queued = true;
            self.nr_queued += 1;
            self.rq.push_back(id);
            trace!(target: "hrs::ev", "wakeup {id:?} {reason:?}");
        }
        true
    }

    /// Pops-side of a run-queue entry: if `id` is live and queued, clears `queued` and the
    /// accumulated reasons and returns them with the context.
    pub(crate) fn take_queued(&mut self, id: TaskId) -> Option<(C, WakeReason)> {
        let t = self.tasks.get_mut(id.key())?;
        debug_assert!(t.queued, "live task {id:?} in rq without queued flag");
        if !t.queued {
            return None;
        }
        t.ran_pass = self.pass;
        t.queued = false;
        self.nr_queued -= 1;
        let reason = std::mem::take(&mut t.state);
        Some((t.ctx, reason))
    }

    /// Starts a new run pass (see [`Sched::deferred`]).
    pub(crate) fn new_pass(&mut self) {
        self.pass = self.pass.wrapping_add(1).max(1);
    }

    /// Marks live task `id` as waiting for the next pass if it already ran in this one
    /// (used for wakers' wake-ups, which cannot tell who woke).
    pub(crate) fn defer_if_ran(&mut self, id: TaskId) {
        let pass = self.pass;
        if let Some(t) = self.tasks.get_mut(id.key()) {
            if t.ran_pass == pass {
                t.defer_pass = pass;
            }
        }
    }

    /// True if live task `id` must wait for the next pass (it woke itself in this one).
    pub(crate) fn deferred(&self, id: TaskId) -> bool {
        self.tasks
            .get(id.key())
            .is_some_and(|t| t.defer_pass == self.pass)
    }

    pub(crate) fn task_expire(&self, id: TaskId) -> Option<Tick> {
        self.tasks.get(id.key()).map(|t| t.expire)
    }

    /// Replaces the task's timer with `expire` (eternity disarms it).
    pub(crate) fn task_set_expire(&mut self, id: TaskId, expire: Tick) -> bool {
        let abs = if tick_isset(expire) {
            Some(self.clock.tick_to_abs(expire))
        } else {
            None
        };
        let Some(t) = self.tasks.get_mut(id.key()) else {
            return false;
        };
        if t.expire == expire && t.timer.is_some() == abs.is_some() {
            return true; // unchanged (same date against the same clock origin)
        }
        if let Some(k) = t.timer.take() {
            let r = self.timers.remove(&k);
            debug_assert_eq!(r, Some(id));
        }
        t.expire = expire;
        if let Some(abs) = abs {
            let key = (abs, self.timer_seq);
            self.timer_seq += 1;
            t.timer = Some(key);
            self.timers.insert(key, id);
        }
        trace!(target: "hrs::ev", "task_set_expire {id:?} {expire}");
        true
    }

    /// `task_schedule`: moves the timer to `tick_first(current, when)`.
    pub(crate) fn task_schedule(&mut self, id: TaskId, when: Tick) -> bool {
        let Some(cur) = self.task_expire(id) else {
            return false;
        };
        let new = tick_first(cur, when);
        if new != cur {
            self.task_set_expire(id, new);
        }
        true
    }

    /// Absolute ms of the first armed timer.
    pub(crate) fn next_timer_abs(&self) -> Option<u64> {
        self.timers.first_key_value().map(|(k, _)| k.0)
    }

    /// `next_timer_expiry`: the tick of the first armed timer, or eternity.
    pub(crate) fn next_expiry(&self) -> Tick {
        match self.timers.first_key_value() {
            Some((_, id)) => self.task_expire(*id).unwrap_or(TICK_ETERNITY),
            None => TICK_ETERNITY,
        }
    }

    /// `wake_expired_tasks`: every timer whose date is reached (`now_abs >= key`) is disarmed,
    /// its task's `expire` reset to eternity, and the task woken with TIMER. Returns how many.
    pub(crate) fn wake_expired(&mut self) -> usize {
        let now = self.clock.now_abs;
        let mut n = 0;
        while let Some((&key, &id)) = self.timers.first_key_value() {
            if key.0 > now {
                break;
            }
            self.timers.pop_first();
            let now_ms = self.clock.now_ms;
            let t = self
                .tasks
                .get_mut(id.key())
                .expect("timer tree holds a freed task");
            debug_assert_eq!(t.timer, Some(key));
            debug_assert!(
                tick_is_expired(t.expire, now_ms),
                "timer {id:?} fires early: expire {} now {}",
                t.expire,
                now_ms
            );
            t.timer = None;
            t.expire = TICK_ETERNITY;
            trace!(target: "hrs::ev", "timer {id:?} expired at {now_ms}");
            self.wakeup(id, WakeReason::TIMER);
            n += 1;
        }
        n
    }

    /// Debug check of the bookkeeping (O(n)).
    pub(crate) fn check_invariants(&self) {
        let mut queued = 0;
        let mut armed = 0;
        for (h, t) in self.tasks.iter() {
            let id = TaskId::new(h);
            if t.queued {
                queued += 1;
                assert!(self.rq.contains(&id), "queued {id:?} missing from rq");
            }
            match t.timer {
                Some(k) => {
                    armed += 1;
                    assert!(tick_isset(t.expire));
                    assert_eq!(self.timers.get(&k), Some(&id));
                }
                None => assert!(!tick_isset(t.expire), "{id:?} has expire but no timer"),
            }
        }
        assert_eq!(queued, self.nr_queued);
        assert_eq!(armed, self.timers.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_fmt_and_bits() {
        let r = WakeReason::IO | WakeReason::TIMER;
        assert_eq!(format!("{r:?}"), "TIMER|IO");
        assert!(r.contains(WakeReason::IO));
        assert!(!r.contains(WakeReason::MSG));
        assert!(r.intersects(WakeReason::MSG | WakeReason::IO));
        assert_eq!(format!("{:?}", WakeReason::NONE), "0x0");
        assert_eq!(format!("{:?}", WakeReason(0x1_0200)), "TIMER|0x10000");
    }

    #[test]
    fn wakeups_dedup_and_free_cancels() {
        let mut s: Sched<u8> = Sched::new(100);
        let a = s.task_new(1);
        let b = s.task_new(2);
        assert!(s.wakeup(a, WakeReason::IO));
        assert!(s.wakeup(a, WakeReason::MSG));
        assert!(s.wakeup(b, WakeReason::IO));
        assert_eq!(s.rq.len(), 2);
        assert_eq!(s.nr_queued(), 2);
        s.task_set_expire(b, 200);
        s.check_invariants();
        assert!(s.task_free(b));
        assert!(!s.task_free(b));
        assert!(!s.wakeup(b, WakeReason::IO), "stale id ignored");
        assert_eq!(s.nr_queued(), 1);
        assert_eq!(s.next_expiry(), TICK_ETERNITY);
        s.check_invariants();
        let c = s.task_new(3); // reuses b's slot
        assert_eq!(c.index(), b.index());
        assert_eq!(s.ctx(b), None);
        assert_eq!(s.ctx(c), Some(3));
        // pop: a runs with both reasons, b's stale entry yields nothing
        let e = s.rq.pop_front().unwrap();
        assert_eq!(
            s.take_queued(e),
            Some((1, WakeReason::IO | WakeReason::MSG))
        );
        let e = s.rq.pop_front().unwrap();
        assert_eq!(s.take_queued(e), None);
        assert_eq!(s.nr_queued(), 0);
        s.check_invariants();
    }

    #[test]
    fn schedule_takes_earliest_and_set_expire_replaces() {
        let mut s: Sched<()> = Sched::new(u32::MAX - 10);
        let t = s.task_new(());
        let now = s.clock.now_ms;
        let t20 = crate::ticks::tick_add(now, 20);
        let t50 = crate::ticks::tick_add(now, 50);
        s.task_schedule(t, t50);
        assert_eq!(s.task_expire(t), Some(t50));
        s.task_schedule(t, t20);
        assert_eq!(s.task_expire(t), Some(t20));
        s.task_schedule(t, t50);
        assert_eq!(s.task_expire(t), Some(t20), "schedule never delays");
        assert_eq!(s.next_timer_abs(), Some(20));
        s.task_set_expire(t, t50);
        assert_eq!(s.task_expire(t), Some(t50));
        assert_eq!(s.next_timer_abs(), Some(50));
        assert_eq!(s.next_expiry(), t50);
        s.check_invariants();
        s.task_set_expire(t, TICK_ETERNITY);
        assert_eq!(s.next_timer_abs(), None);
        s.check_invariants();
        // a date already in the past fires at the next wake_expired
        s.task_set_expire(t, now.wrapping_sub(5));
        assert_eq!(s.wake_expired(), 1);
        assert!(s.is_queued(t));
        assert_eq!(s.task_expire(t), Some(TICK_ETERNITY));
        s.check_invariants();
    }
}
