//! `std::task::Waker`s that wake loop tasks (the `tasklet_wakeup` of futures-based code, e.g.
//! the `h2` crate).
//!
//! This module owns the [`Inbox`] shared between one [`crate::Ev`] and the wakers it built, and
//! the per-task [`TaskWaker`]. A wake only pushes the waker into the inbox (deduplicated by its
//! `queued` flag, so N wakes between two loop iterations cost one push); the loop drains the
//! inbox into its run queue once per iteration, clearing each waker's flag *before* the task
//! runs, so a wake during the task's own run (h2 wakes itself) is never lost. A non-empty inbox
//! makes the next poll timeout 0.
//!
//! Wakers are `Send + Sync` (required by `Waker`), hence the `Mutex`; from the loop thread the
//! lock is uncontended and the wake makes no syscall. From another thread, the wake also kicks
//! the poller through a `mio::Waker`, but only while the loop is (about to be) sleeping in
//! `poll`; see [`Inbox::push`] for the ordering argument.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use log::trace;

use crate::task::{TaskId, WakeReason};

/// Shared between an `Ev` and its wakers.
pub(crate) struct Inbox {
    q: Mutex<Vec<Arc<TaskWaker>>>,
    /// Set by the loop around `poll()`; a waker that sees it kicks `poller`.
    sleeping: AtomicBool,
    poller: mio::Waker,
}

impl Inbox {
    pub(crate) fn new(poller: mio::Waker) -> Self {
        Inbox {
            q: Mutex::new(Vec::new()),
            sleeping: AtomicBool::new(false),
            poller,
        }
    }

    /// Queues `w`. Ordering: the pusher does `lock; push; unlock; load(sleeping)`, the loop does
    /// `store(sleeping, true); lock; is_empty?; unlock; poll`. Either the loop's lock comes after
    /// our unlock (it sees the entry and polls with timeout 0) or before it, in which case our
    /// `SeqCst` load happens after its `SeqCst` store and we kick the poller.
    fn push(&self, w: Arc<TaskWaker>) {
        self.q.lock().unwrap_or_else(|e| e.into_inner()).push(w);
        if self.sleeping.load(Ordering::SeqCst) {
            if let Err(e) = self.poller.wake() {
                log::warn!(target: "hrs::ev", "cannot kick the poller: {e}");
            }
        }
    }

    pub(crate) fn set_sleeping(&self, v: bool) {
        self.sleeping.store(v, Ordering::SeqCst);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.q.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// Takes every pending waker, clearing their `queued` flags; returns `(task, reason)` pairs.
    pub(crate) fn drain(&self) -> Vec<(TaskId, WakeReason)> {
        let v = std::mem::take(&mut *self.q.lock().unwrap_or_else(|e| e.into_inner()));
        v.into_iter()
            .map(|w| {
                w.queued.store(false, Ordering::SeqCst);
                (w.task, w.reason)
            })
            .collect()
    }

    /// Drops pending wakers (breaks the `Inbox -> TaskWaker -> Inbox` cycle on `Ev` drop).
    pub(crate) fn clear(&self) {
        self.q.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The `Wake` implementation behind [`crate::Ev::waker`].
pub(crate) struct TaskWaker {
    pub(crate) task: TaskId,
    pub(crate) reason: WakeReason,
    queued: AtomicBool,
    inbox: Arc<Inbox>,
}

impl TaskWaker {
    pub(crate) fn new(task: TaskId, reason: WakeReason, inbox: Arc<Inbox>) -> Self {
        TaskWaker {
            task,
            reason,
            queued: AtomicBool::new(false),
            inbox,
        }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst) {
            trace!(target: "hrs::ev", "waker {:?}", self.task);
            self.inbox.push(self.clone());
        }
    }
}
