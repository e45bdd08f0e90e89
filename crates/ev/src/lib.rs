//! `hrs-ev`: the per-thread event loop of haproxy-rs (HAProxy's `run_poll_loop`: src/ev_epoll.c,
//! src/fd.c, src/task.c, include/haproxy/ticks.h).
//!
//! One [`Ev`] per thread (`nbthread N` = N loops); another thread only wakes its tasks
//! through wakers ([`Ev::waker`]) and reads its [`Heartbeat`] (the watchdog). It owns the mio `Poll`, the
//! task table, the run queue, the timer tree, the fd readiness cache, the waker inbox and the
//! optional signalfd; it knows nothing of connections: each task carries an opaque `C: Copy`
//! context (e.g. an enum naming a connection or a listener) that the caller's
//! [`TaskHandler`] dispatches on. Structure, as in HAProxy:
//!
//! ```text
//! poll(timeout) ──► fd events ──► readiness cache (fd_update_events) + wakeup(owner, IO)
//! Waker::wake ────► inbox ───────► wakeup(task, OTHER)          (drained once per iteration)
//! timer tree ─────► expired ─────► wakeup(task, TIMER)          (wake_expired_tasks)
//! run queue ──────► one bounded pass: at most runqueue_depth tasks, those it wakes included
//! ```
//!
//! Rules the caller relies on:
//! * A task woken many times before it runs runs once, with the union of the reasons.
//! * A pass runs the queued tasks and those they wake (wakers' wake-ups included), at most
//!   `runqueue_depth` runs: a chain of wake-ups (socket -> stream -> socket -> stream)
//!   completes in one pass, as upstream's tasklets do. A task that wakes itself (directly,
//!   or through a waker after it ran in the pass) waits for the next pass.
//! * The task's queued flag is cleared *before* [`TaskHandler::process`] is called, so a wakeup
//!   during its own run (including an h2 self-wake through its [`std::task::Waker`]) makes it
//!   run again in a later pass, never lost and never in the same pass.
//! * Timers fire in expiry order and never early in tick terms (`tick_is_expired(expire,
//!   ev.now())` holds in the handler). When a timer fires, the task's `expire` is reset to
//!   [`TICK_ETERNITY`] before the task runs; the handler re-arms it if needed. (HAProxy keeps
//!   `t->expire` and requeues the task after `process` returns; with exact removal here, reset
//!   avoids re-firing a stale date in a loop.) [`Ev::task_schedule`] and [`Ev::task_set_expire`]
//!   take effect immediately even while the task is queued (HAProxy's `task_schedule` ignores
//!   queued tasks because it requeues them after they run; we do not requeue).
//! * The fd readiness contract is in the [`fd`] module doc: no recv/send while not ready; mark
//!   not-ready only after a real `EAGAIN`.
//! * Freeing a task does not touch its fds: deregister them first (events for an fd whose owner
//!   is gone are dropped).
//!
//! Main loop sketch:
//! ```
//! use hrs_ev::{ticks::tick_add, Ev, TaskId, WakeReason};
//!
//! #[derive(Clone, Copy)]
//! enum Ctx { Housekeeping }
//!
//! struct App { fired: bool }
//! impl hrs_ev::TaskHandler<Ctx> for App {
//!     fn process(&mut self, ev: &mut Ev<Ctx>, task: TaskId, ctx: Ctx, why: WakeReason) {
//!         match ctx {
//!             Ctx::Housekeeping if why.contains(WakeReason::TIMER) => {
//!                 self.fired = true;
//!                 ev.task_free(task);
//!             }
//!             Ctx::Housekeeping => {}
//!         }
//!     }
//! }
//!
//! let mut ev = Ev::new().unwrap();
//! let t = ev.task_new(Ctx::Housekeeping);
//! ev.task_schedule(t, tick_add(ev.now(), 5));
//! let mut app = App { fired: false };
//! while !app.fired {
//!     ev.run_once(&mut app).unwrap();
//! }
//! ```

pub mod fd;
pub mod signal;
pub mod task;
pub mod ticks;
mod waker;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::trace;
use mio::event::Source;
use mio::{Events, Interest, Poll, Token};

pub use fd::FdId;
use fd::{FdTab, FD_EV_ERR_RW, FD_EV_READY_R, FD_EV_READY_W, FD_EV_SHUT_R, FD_EV_SHUT_W};
pub use signal::{block_signals, unblock_signals, SignalFd};
use task::Sched;
pub use task::{TaskId, WakeReason};
pub use ticks::{Tick, TICK_ETERNITY};
use waker::{Inbox, TaskWaker};

/// Token of the inbox's `mio::Waker` (cross-thread kicks); reserved, so no fd token equals it.
const WAKER_TOKEN: Token = fd::reserved_token(u32::MAX);
/// Token of the signalfd; reserved, so no fd token equals it.
const SIGNAL_TOKEN: Token = fd::reserved_token(u32::MAX - 1);

/// `now_ms` at loop creation: like HAProxy's boot offset, the clock wraps 20 s after start so
/// that wrapping bugs show up early.
pub const BOOT_TICK: Tick = 0u32.wrapping_sub(20_000);

/// Loop tunables.
#[derive(Clone, Debug)]
pub struct EvConfig {
    /// Max tasks run per pass (`tune.runqueue-depth`, default 200). Must be > 0.
    pub runqueue_depth: usize,
    /// Upper bound of one poll wait, also when nothing is scheduled (default 1 s).
    pub max_poll_wait: Duration,
    /// Events fetched per poll (`tune.maxpollevents`, default 200). Must be > 0.
    pub max_poll_events: usize,
    /// `now_ms` at creation (default [`BOOT_TICK`]).
    pub initial_tick: Tick,
}

impl Default for EvConfig {
    fn default() -> Self {
        EvConfig {
            runqueue_depth: 200,
            max_poll_wait: Duration::from_millis(1000),
            max_poll_events: 200,
            initial_tick: BOOT_TICK,
        }
    }
}

/// What the caller implements: runs one task. Called by [`Ev::run_once`] with the task's
/// context and the union of the reasons it was woken for since it last ran (never empty).
/// The task is no longer queued during the call; it may be freed, rescheduled or re-woken.
pub trait TaskHandler<C: Copy> {
    /// HAProxy's `t->process(t, ctx, state)`.
    fn process(&mut self, ev: &mut Ev<C>, task: TaskId, ctx: C, reason: WakeReason);
}

impl<C: Copy, F: FnMut(&mut Ev<C>, TaskId, C, WakeReason)> TaskHandler<C> for F {
    fn process(&mut self, ev: &mut Ev<C>, task: TaskId, ctx: C, reason: WakeReason) {
        self(ev, task, ctx, reason)
    }
}

/// Counters of one [`Ev::run_once`] iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// The poll timeout used.
    pub timeout: Duration,
    /// Events returned by the poller (fd, signal and kick events).
    pub events: usize,
    /// Timers that fired.
    pub expired: usize,
    /// Tasks run in the pass.
    pub ran: usize,
    /// Tasks still queued after the pass (they run in the next one; next timeout is 0).
    pub left: usize,
}

/// One event loop. See the crate doc.
pub struct Ev<C: Copy> {
    poll: Poll,
    events: Events,
    sched: Sched<C>,
    fdtab: FdTab,
    inbox: Arc<Inbox>,
    cfg: EvConfig,
    signals: Option<(SignalFd, TaskId)>,
    stopping: bool,
    loops: u64,
    /// Run-queue entries put back for the next pass (their task woke itself in this one);
    /// kept to reuse its allocation.
    later: Vec<TaskId>,
    /// What a watchdog on another thread sees of this loop.
    heartbeat: Arc<Heartbeat>,
}

/// A loop's progress as another thread (a watchdog) sees it: iterations so far, and
/// whether it is waiting in `poll` (a loop that sleeps is not stuck).
#[derive(Debug, Default)]
pub struct Heartbeat {
    pub loops: std::sync::atomic::AtomicU64,
    pub polling: std::sync::atomic::AtomicBool,
}

impl<C: Copy> Ev<C> {
    /// The loop's heartbeat, for a watchdog running on another thread.
    pub fn heartbeat(&self) -> Arc<Heartbeat> {
        Arc::clone(&self.heartbeat)
    }

    /// A loop with [`EvConfig::default`]. Errors: creating the epoll fd or the eventfd.
    pub fn new() -> io::Result<Self> {
        Self::with_config(EvConfig::default())
    }

    /// A loop with `cfg`. Precondition: `runqueue_depth > 0`, `max_poll_events > 0`.
    /// Errors: creating the epoll fd or the eventfd.
    pub fn with_config(cfg: EvConfig) -> io::Result<Self> {
        assert!(
            cfg.runqueue_depth > 0 && cfg.max_poll_events > 0,
            "bad EvConfig {cfg:?}"
        );
        let poll = Poll::new()?;
        let kick = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let mut sched = Sched::new(cfg.initial_tick);
        sched.clock.update();
        Ok(Ev {
            poll,
            events: Events::with_capacity(cfg.max_poll_events),
            sched,
            fdtab: FdTab::new(),
            inbox: Arc::new(Inbox::new(kick)),
            cfg,
            signals: None,
            stopping: false,
            loops: 0,
            later: Vec::new(),
            heartbeat: Arc::default(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &EvConfig {
        &self.cfg
    }

    /// `now_ms`: the loop clock, updated once per iteration right after the poll returns.
    pub fn now(&self) -> Tick {
        self.sched.clock.now_ms
    }

    /// Number of completed [`Ev::run_once`] iterations.
    pub fn loops(&self) -> u64 {
        self.loops
    }

    /// Marks the loop as stopping (HAProxy's `stopping`, soft-stop). The loop itself does not
    /// act on it: the caller checks [`Ev::stopping`] and decides when to leave its loop.
    pub fn soft_stop(&mut self) {
        self.stopping = true;
    }

    /// True once [`Ev::soft_stop`] was called.
    pub fn stopping(&self) -> bool {
        self.stopping
    }

    /// The mio registry, for sources that need a non-standard registration. Sources
    /// registered through it directly get no readiness cache nor wakeups from this loop.
    pub fn registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    // ---------------------------------------------------------------- tasks

    /// `task_new`: creates a task (not queued, no timer) carrying `ctx`.
    pub fn task_new(&mut self, ctx: C) -> TaskId {
        self.sched.task_new(ctx)
    }

    /// `task_destroy`: frees the task, cancelling its timer and any queued run (its pending
    /// waker entries become no-ops). Returns false for a stale id. Its fds are not touched:
    /// deregister them first. May be called from the task's own `process`.
    pub fn task_free(&mut self, id: TaskId) -> bool {
        self.sched.task_free(id)
    }

    /// True if `id` names a live task.
    pub fn task_exists(&self, id: TaskId) -> bool {
        self.sched.exists(id)
    }

    /// Number of live tasks.
    pub fn nb_tasks(&self) -> usize {
        self.sched.len()
    }

    /// The task's context, `None` for a stale id.
    pub fn ctx(&self, id: TaskId) -> Option<C> {
        self.sched.ctx(id)
    }

    /// Replaces the task's context; false for a stale id. A run already queued will see the
    /// new context.
    pub fn set_ctx(&mut self, id: TaskId, ctx: C) -> bool {
        self.sched.set_ctx(id, ctx)
    }

    /// `tasklet_wakeup`/`task_wakeup`: ORs `reason` (non-empty) into the task's pending reasons
    /// and queues it at the tail of the run queue if not queued yet. Returns false (and does
    /// nothing) for a stale id.
    pub fn wakeup(&mut self, id: TaskId, reason: WakeReason) -> bool {
        self.sched.wakeup(id, reason)
    }

    /// True if the task is in the run queue (`task_in_rq`).
    pub fn is_queued(&self, id: TaskId) -> bool {
        self.sched.is_queued(id)
    }

    /// Number of tasks waiting in the run queue.
    pub fn nb_queued(&self) -> usize {
        self.sched.nr_queued()
    }

    /// `task_schedule`: sets the task's expiry to the earliest of its current one and `when`
    /// (eternity in `when` changes nothing). Returns false for a stale id.
    pub fn task_schedule(&mut self, id: TaskId, when: Tick) -> bool {
        self.sched.task_schedule(id, when)
    }

    /// Replaces the task's expiry with `expire` (`t->expire = x; task_queue(t)`);
    /// [`TICK_ETERNITY`] cancels the timer. A date already reached fires at the next
    /// iteration. Returns false for a stale id.
    pub fn task_set_expire(&mut self, id: TaskId, expire: Tick) -> bool {
        self.sched.task_set_expire(id, expire)
    }

    /// The task's expiry ([`TICK_ETERNITY`] if no timer), `None` for a stale id.
    pub fn task_expire(&self, id: TaskId) -> Option<Tick> {
        self.sched.task_expire(id)
    }

    /// `next_timer_expiry`: the earliest armed expiry, [`TICK_ETERNITY`] if none.
    pub fn next_expiry(&self) -> Tick {
        self.sched.next_expiry()
    }

    /// The timeout the next poll would use: zero if a task is queued or a waker fired, else
    /// the time until the first timer, capped at `max_poll_wait` (also when nothing is armed).
    pub fn next_timeout(&self) -> Duration {
        if self.sched.nr_queued() > 0 || !self.inbox.is_empty() {
            return Duration::ZERO;
        }
        match self.sched.next_timer_abs() {
            Some(abs) => self
                .sched
                .clock
                .abs_to_instant(abs)
                .saturating_duration_since(Instant::now())
                .min(self.cfg.max_poll_wait),
            None => self.cfg.max_poll_wait,
        }
    }

    /// A `std::task::Waker` whose wake queues `task` with [`WakeReason::OTHER`]. Build it once
    /// per task and store it (each call allocates). Waking is cheap and deduplicated; it works
    /// from any thread (kicking the poller if the loop sleeps). Waking a freed task is a no-op.
    pub fn waker(&self, task: TaskId) -> std::task::Waker {
        self.waker_with(task, WakeReason::OTHER)
    }

    /// Like [`Ev::waker`] with a chosen (non-empty) reason.
    pub fn waker_with(&self, task: TaskId, reason: WakeReason) -> std::task::Waker {
        debug_assert!(!reason.is_empty());
        std::task::Waker::from(Arc::new(TaskWaker::new(task, reason, self.inbox.clone())))
    }

    // ---------------------------------------------------------------- fds

    /// Registers `src` once, READABLE|WRITABLE edge-triggered, owned by `task` (woken with IO
    /// on each event). The entry starts not ready; data or room already present at registration
    /// is reported by the first poll. Errors: those of `epoll_ctl(ADD)`; nothing is kept then.
    pub fn fd_register<S: Source + ?Sized>(
        &mut self,
        src: &mut S,
        task: TaskId,
    ) -> io::Result<FdId> {
        debug_assert!(
            self.sched.exists(task),
            "fd_register for stale task {task:?}"
        );
        let fd = self.fdtab.insert(task);
        if let Err(e) =
            self.poll
                .registry()
                .register(src, fd.token(), Interest::READABLE | Interest::WRITABLE)
        {
            self.fdtab.remove(fd);
            return Err(e);
        }
        trace!(target: "hrs::ev", "fd_register {fd:?} owner {task:?}");
        Ok(fd)
    }

    /// Deregisters `src` (registered as `fd`) from the poller and drops its cache entry. The
    /// entry is dropped even if the poller fails (error returned); a stale `fd` only
    /// deregisters `src`. Events already fetched for it are ignored.
    pub fn fd_deregister<S: Source + ?Sized>(&mut self, fd: FdId, src: &mut S) -> io::Result<()> {
        self.fdtab.remove(fd);
        trace!(target: "hrs::ev", "fd_deregister {fd:?}");
        self.poll.registry().deregister(src)
    }

    /// Drops the cache entry of a source that was already closed (closing the last descriptor
    /// of a socket removes it from epoll). Returns false for a stale `fd`.
    pub fn fd_delete(&mut self, fd: FdId) -> bool {
        self.fdtab.remove(fd)
    }

    /// Creates an fd entry owned by `task` that no poller watches (a virtual fd, see the
    /// [`fd`] module doc): for a transport that is not a kernel socket, such as the
    /// scripted connections of unit tests. It starts not ready, like a registered one;
    /// its edges come only from [`Ev::fd_update_events`]. Drop it with [`Ev::fd_delete`].
    pub fn fd_insert_virtual(&mut self, task: TaskId) -> FdId {
        debug_assert!(
            self.sched.exists(task),
            "fd_insert_virtual for stale task {task:?}"
        );
        let fd = self.fdtab.insert(task);
        trace!(target: "hrs::ev", "fd_insert_virtual {fd:?} owner {task:?}");
        fd
    }

    /// `fd_update_events` without a poller: merges the state bits `events` (`FD_EV_*` of
    /// [`fd`]) into the cache of `fd` and wakes its owner with [`WakeReason::IO`], exactly
    /// what [`Ev::run_once`] does for a poller event. Meant for virtual fds, whose peer
    /// raises an edge when something new arrived (data, room, a shutdown, an error); the
    /// caller passes the bits the poller would report (an error or hang-up also sets the
    /// READY bits). Returns false (nothing done) for a stale `fd` or empty `events`.
    pub fn fd_update_events(&mut self, fd: FdId, events: u8) -> bool {
        if events == 0 {
            return false;
        }
        match self.fdtab.merge(fd, events) {
            Some(owner) => {
                self.sched.wakeup(owner, WakeReason::IO);
                true
            }
            None => false,
        }
    }

    /// The task woken by `fd`'s events, `None` for a stale fd.
    pub fn fd_owner(&self, fd: FdId) -> Option<TaskId> {
        self.fdtab.get(fd).map(|e| e.owner)
    }

    /// Hands `fd` over to `task` (future events wake it). False for a stale fd.
    pub fn fd_set_owner(&mut self, fd: FdId, task: TaskId) -> bool {
        match self.fdtab.get_mut(fd) {
            Some(e) => {
                e.owner = task;
                true
            }
            None => false,
        }
    }

    /// Raw cache state (`FD_EV_*` bits of [`fd`]); 0 for a stale fd.
    pub fn fd_state(&self, fd: FdId) -> u8 {
        self.fdtab.state(fd)
    }

    /// `fd_recv_ready`: a `recv` may be attempted (an edge or an error/hang-up was seen and no
    /// `EAGAIN` since). False for a stale fd.
    pub fn fd_recv_ready(&self, fd: FdId) -> bool {
        self.fdtab.state(fd) & FD_EV_READY_R != 0
    }

    /// `fd_send_ready`: a `send` may be attempted. False for a stale fd.
    pub fn fd_send_ready(&self, fd: FdId) -> bool {
        self.fdtab.state(fd) & FD_EV_READY_W != 0
    }

    /// `fd_cant_recv`: the caller's `recv` just returned `EAGAIN`; readiness comes back with
    /// the next edge. Must not be called otherwise (see the [`fd`] module doc).
    pub fn fd_cant_recv(&mut self, fd: FdId) {
        self.fdtab.clr(fd, FD_EV_READY_R);
    }

    /// The caller's `recv` on a stream socket returned fewer bytes than it asked for: the
    /// receive queue is empty, and data arriving later raises a new edge, so readiness is
    /// dropped as after `EAGAIN` without paying for that `EAGAIN` (upstream's short-read
    /// rule in `raw_sock_to_buf`). Not for datagram sockets or pipes.
    pub fn fd_drained_recv(&mut self, fd: FdId) {
        self.fdtab.clr(fd, FD_EV_READY_R);
    }

    /// `fd_cant_send`: the caller's `send` just returned `EAGAIN`.
    pub fn fd_cant_send(&mut self, fd: FdId) {
        self.fdtab.clr(fd, FD_EV_READY_W);
    }

    /// `fd_may_recv`: marks `fd` readable without an event (e.g. the caller knows data is
    /// there). An unnecessary call costs one `EAGAIN`.
    pub fn fd_may_recv(&mut self, fd: FdId) {
        self.fdtab.set(fd, FD_EV_READY_R);
    }

    /// `fd_may_send`: marks `fd` writable without an event (e.g. right after `connect`).
    pub fn fd_may_send(&mut self, fd: FdId) {
        self.fdtab.set(fd, FD_EV_READY_W);
    }

    /// The poller reported an error on `fd` (EPOLLERR; sticky). Fetch it with
    /// `take_error()`/`SO_ERROR` or the next `recv`/`send`.
    pub fn fd_error(&self, fd: FdId) -> bool {
        self.fdtab.state(fd) & FD_EV_ERR_RW != 0
    }

    /// The peer closed its side: reads will return 0 once drained (EPOLLRDHUP/EPOLLHUP;
    /// sticky).
    pub fn fd_shut_r(&self, fd: FdId) -> bool {
        self.fdtab.state(fd) & FD_EV_SHUT_R != 0
    }

    /// Writes can no longer succeed (EPOLLHUP, or EPOLLERR with EPOLLOUT; sticky).
    pub fn fd_shut_w(&self, fd: FdId) -> bool {
        self.fdtab.state(fd) & FD_EV_SHUT_W != 0
    }

    /// Number of registered fds.
    pub fn nb_fds(&self) -> usize {
        self.fdtab.fds.len()
    }

    // ---------------------------------------------------------------- signals

    /// Creates a signalfd for `sigs`, registers it, and makes `task` the one woken with
    /// [`WakeReason::SIGNAL`] when any arrives (replacing a previous registration). The task
    /// must then call [`Ev::take_signals`], which reads them all (edge-triggered: unread
    /// signals give no further wakeup until a new one arrives).
    ///
    /// Precondition: `sigs` are blocked in every thread ([`block_signals`] before spawning
    /// threads), otherwise they are acted upon instead of read. Errors: signalfd/epoll errors.
    pub fn signal_register(&mut self, sigs: &[i32], task: TaskId) -> io::Result<()> {
        let mut sfd = SignalFd::new(sigs)?;
        if let Some((mut old, _)) = self.signals.take() {
            let _ = self.poll.registry().deregister(&mut old);
        }
        self.poll
            .registry()
            .register(&mut sfd, SIGNAL_TOKEN, Interest::READABLE)?;
        self.signals = Some((sfd, task));
        Ok(())
    }

    /// Reads every pending signal number from the registered signalfd (empty if none or if
    /// no signalfd is registered). A read error is logged and yields what was read so far.
    pub fn take_signals(&mut self) -> Vec<i32> {
        let Some((sfd, _)) = self.signals.as_mut() else {
            return Vec::new();
        };
        match sfd.read_pending() {
            Ok(v) => v,
            Err(e) => {
                log::warn!(target: "hrs::ev", "signalfd read: {e}");
                Vec::new()
            }
        }
    }

    // ---------------------------------------------------------------- the loop

    /// One loop iteration:
    /// 1. timeout = [`Ev::next_timeout`] (0 if work is queued);
    /// 2. poll, then update `now_ms`;
    /// 3. dispatch events: update the fd readiness cache and wake owners with IO (signal events
    ///    wake the signal task with SIGNAL); no syscall here;
    /// 4. drain the waker inbox into the run queue;
    /// 5. wake expired timers with TIMER, in expiry order (their `expire` reset to eternity);
    /// 6. run one pass, FIFO, at most `runqueue_depth` runs: the queued tasks, then those
    ///    the pass wakes (a chain of wake-ups, say socket -> stream -> other socket,
    ///    completes in one pass as upstream's tasklets do) except a task that woke itself,
    ///    which waits for the next pass; each task's queued flag and reasons are cleared
    ///    before `h.process` is called.
    ///
    /// Errors: a poll failure other than `EINTR` (an interrupted poll counts as no event and
    /// the iteration goes on).
    pub fn run_once<H: TaskHandler<C> + ?Sized>(&mut self, h: &mut H) -> io::Result<RunStats> {
        let mut st = RunStats::default();

        // 1-2: announce we may sleep before computing the timeout (see Inbox::push)
        self.inbox.set_sleeping(true);
        st.timeout = self.next_timeout();
        self.heartbeat
            .polling
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let r = self.poll.poll(&mut self.events, Some(st.timeout));
        self.heartbeat
            .polling
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.heartbeat
            .loops
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inbox.set_sleeping(false);
        self.sched.clock.update();
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => return Err(e),
        }

        // 3: fd_update_events
        for event in self.events.iter() {
            st.events += 1;
            match event.token() {
                WAKER_TOKEN => {}
                SIGNAL_TOKEN => {
                    if let Some((_, t)) = &self.signals {
                        self.sched.wakeup(*t, WakeReason::SIGNAL);
                    }
                }
                _ => {
                    if let Some(owner) = self.fdtab.update_events(event) {
                        self.sched.wakeup(owner, WakeReason::IO);
                    }
                }
            }
        }

        // 4: wakers
        for (t, reason) in self.inbox.drain() {
            self.sched.wakeup(t, reason);
        }

        // 5: wake_expired_tasks
        st.expired = self.sched.wake_expired();

        // 6: process_runnable_tasks, one pass bounded by the budget; what the pass wakes
        // runs in it too (upstream's tasklets), wakers' wake-ups included, but a task that
        // woke itself waits, still queued, for the next pass
        self.sched.new_pass();
        let mut later = std::mem::take(&mut self.later);
        while st.ran < self.cfg.runqueue_depth {
            let id = match self.sched.rq.pop_front() {
                Some(id) => id,
                None => {
                    let mut woke = false;
                    for (t, reason) in self.inbox.drain() {
                        self.sched.defer_if_ran(t);
                        self.sched.wakeup(t, reason);
                        woke = true;
                    }
                    if !woke {
                        break;
                    }
                    continue;
                }
            };
            if self.sched.deferred(id) {
                later.push(id);
                continue;
            }
            let Some((ctx, reason)) = self.sched.take_queued(id) else {
                continue; // freed while queued
            };
            self.sched.current = Some(id);
            h.process(self, id, ctx, reason);
            self.sched.current = None;
            st.ran += 1;
        }
        for id in later.drain(..).rev() {
            self.sched.rq.push_front(id);
        }
        self.later = later;
        st.left = self.sched.nr_queued();
        self.loops += 1;
        trace!(target: "hrs::ev", "loop {} {:?} now {}", self.loops, st, self.now());
        Ok(st)
    }

    /// Checks the internal bookkeeping (O(tasks)); panics on inconsistency. For tests and
    /// debugging: never called by the loop itself.
    pub fn check_invariants(&self) {
        self.sched.check_invariants();
    }
}

impl<C: Copy> Drop for Ev<C> {
    fn drop(&mut self) {
        // pending wakers hold the inbox: break the cycle
        self.inbox.clear();
    }
}

#[cfg(test)]
mod tests;
