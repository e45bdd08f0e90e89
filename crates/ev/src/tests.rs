//! Loop-level tests of tasks, timers, the run queue and wakers (real clock, no sockets; the
//! socket and signal tests live in `tests/`).

use std::time::{Duration, Instant};

use crate::ticks::{tick_add, tick_is_expired, tick_is_lt};
use crate::{Ev, EvConfig, TaskId, Tick, WakeReason, TICK_ETERNITY};

fn ev_with(cfg: EvConfig) -> Ev<u32> {
    Ev::with_config(cfg).expect("Ev::new")
}

/// Runs iterations until `done()` or `limit` elapsed; panics on timeout.
fn run_until<H: crate::TaskHandler<u32>>(
    ev: &mut Ev<u32>,
    h: &mut H,
    limit: Duration,
    mut done: impl FnMut(&H) -> bool,
) {
    let start = Instant::now();
    while !done(h) {
        assert!(start.elapsed() < limit, "run_until: timed out");
        ev.run_once(h).expect("run_once");
        ev.check_invariants();
    }
}

#[derive(Default)]
struct Recorder {
    /// (ctx, reason, now at run, expire at run)
    runs: Vec<(u32, WakeReason, Tick, Tick)>,
}

impl crate::TaskHandler<u32> for Recorder {
    fn process(&mut self, ev: &mut Ev<u32>, task: TaskId, ctx: u32, reason: WakeReason) {
        let exp = ev.task_expire(task).unwrap();
        self.runs.push((ctx, reason, ev.now(), exp));
    }
}

#[test]
fn timers_fire_in_order_and_never_early() {
    // start 15 ms before the u32 wrap so the dates cross it
    let mut ev = ev_with(EvConfig {
        initial_tick: u32::MAX - 15,
        ..EvConfig::default()
    });
    let t0 = Instant::now();
    let mut expires = Vec::new();
    // 12 and 14 sit close to 10 so that firing even 1-4 ms early is caught
    for ms in [30u32, 10, 20, 14, 12] {
        let t = ev.task_new(ms);
        let exp = tick_add(ev.now(), ms);
        ev.task_schedule(t, exp);
        assert_eq!(ev.task_expire(t), Some(exp));
        expires.push((ms, exp));
    }
    assert_eq!(ev.next_expiry(), expires[1].1, "the 10 ms one is first");
    let mut rec = Recorder::default();
    let mut fired_at = Vec::new();
    let start = Instant::now();
    while rec.runs.len() < 5 {
        assert!(start.elapsed() < Duration::from_secs(2));
        let n = rec.runs.len();
        ev.run_once(&mut rec).unwrap();
        ev.check_invariants();
        for _ in n..rec.runs.len() {
            fired_at.push(t0.elapsed());
        }
    }
    let order: Vec<u32> = rec.runs.iter().map(|r| r.0).collect();
    assert_eq!(order, vec![10, 12, 14, 20, 30]);
    for (i, (ms, reason, now, exp_in_handler)) in rec.runs.iter().enumerate() {
        let exp = expires.iter().find(|e| e.0 == *ms).unwrap().1;
        assert_eq!(*reason, WakeReason::TIMER);
        assert!(
            tick_is_expired(exp, *now),
            "{ms} ms timer fired early: exp {exp} now {now}"
        );
        assert_eq!(
            *exp_in_handler, TICK_ETERNITY,
            "expire reset when the timer fires"
        );
        assert!(
            fired_at[i] >= Duration::from_millis(*ms as u64),
            "real time early"
        );
    }
    assert!(tick_is_lt(rec.runs[4].2, 100), "the clock wrapped past 0");
    assert_eq!(ev.next_expiry(), TICK_ETERNITY);
}

#[test]
fn cancelled_timers_never_fire() {
    let mut ev = ev_with(EvConfig::default());
    let now = ev.now();
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    let c = ev.task_new(3);
    let sentinel = ev.task_new(99);
    ev.task_schedule(a, tick_add(now, 10));
    ev.task_schedule(b, tick_add(now, 10));
    ev.task_schedule(c, tick_add(now, 10));
    ev.task_schedule(sentinel, tick_add(now, 60));
    assert!(ev.task_set_expire(a, TICK_ETERNITY));
    assert!(ev.task_free(b));
    // c's slot is reused after free: the new occupant must not inherit the timer
    assert!(ev.task_free(c));
    let d = ev.task_new(4);
    assert_eq!(d.index(), c.index());
    assert_eq!(ev.task_expire(d), Some(TICK_ETERNITY));
    assert!(!ev.task_schedule(c, tick_add(now, 5)), "stale id ignored");
    ev.check_invariants();
    let mut rec = Recorder::default();
    run_until(&mut ev, &mut rec, Duration::from_secs(2), |r| {
        r.runs.iter().any(|x| x.0 == 99)
    });
    let ran: Vec<u32> = rec.runs.iter().map(|r| r.0).collect();
    assert_eq!(ran, vec![99]);
}

#[test]
fn rescheduling_earlier_and_later() {
    let mut ev = ev_with(EvConfig::default());
    let now = ev.now();
    let early = ev.task_new(1);
    let late = ev.task_new(2);
    let sentinel = ev.task_new(99);
    // earlier: 300 -> schedule(20) moves it; schedule(400) does not delay it
    ev.task_set_expire(early, tick_add(now, 300));
    ev.task_schedule(early, tick_add(now, 20));
    ev.task_schedule(early, tick_add(now, 400));
    assert_eq!(ev.task_expire(early), Some(tick_add(now, 20)));
    // later: 20 -> set_expire(80) replaces it
    ev.task_set_expire(late, tick_add(now, 20));
    ev.task_set_expire(late, tick_add(now, 80));
    ev.task_schedule(sentinel, tick_add(now, 120));
    let mut rec = Recorder::default();
    run_until(&mut ev, &mut rec, Duration::from_secs(2), |r| {
        r.runs.iter().any(|x| x.0 == 99)
    });
    let ran: Vec<u32> = rec.runs.iter().map(|r| r.0).collect();
    assert_eq!(ran, vec![1, 2, 99], "each fires once, in order");
    assert!(tick_is_expired(tick_add(now, 20), rec.runs[0].2));
    assert!(
        tick_is_expired(tick_add(now, 80), rec.runs[1].2),
        "rescheduled later, must not fire at the old date"
    );
}

#[test]
fn many_wakeups_run_once_per_pass_and_self_wake_runs_later() {
    let mut ev = ev_with(EvConfig::default());
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    for _ in 0..10 {
        ev.wakeup(a, WakeReason::IO);
    }
    ev.wakeup(a, WakeReason::MSG);
    ev.wakeup(b, WakeReason::MSG);
    assert_eq!(ev.nb_queued(), 2);
    let mut runs: Vec<(u32, WakeReason)> = Vec::new();
    let mut h = |ev: &mut Ev<u32>, t: TaskId, c: u32, r: WakeReason| {
        assert!(!ev.is_queued(t), "queued flag cleared before process");
        runs.push((c, r));
        if c == 1 && runs.len() == 1 {
            ev.wakeup(t, WakeReason::OTHER); // self-wake during own run
        }
    };
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!(st.timeout, Duration::ZERO);
    assert_eq!(st.ran, 2);
    assert_eq!(st.left, 1, "the self-woken task waits for the next pass");
    assert!(ev.is_queued(a));
    assert_eq!(ev.next_timeout(), Duration::ZERO);
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!(st.ran, 1);
    assert_eq!(st.left, 0);
    assert_eq!(
        runs,
        vec![
            (1, WakeReason::IO | WakeReason::MSG),
            (2, WakeReason::MSG),
            (1, WakeReason::OTHER)
        ]
    );
}

#[test]
fn a_chain_of_wakeups_completes_in_one_pass() {
    let mut ev = ev_with(EvConfig::default());
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    let c = ev.task_new(3);
    ev.wakeup(a, WakeReason::IO);
    let mut runs = Vec::new();
    let mut h = |ev: &mut Ev<u32>, t: TaskId, ctx: u32, r: WakeReason| {
        runs.push((ctx, r));
        let next = match (ctx, runs.len()) {
            (1, 1) => b, // socket -> stream
            (2, _) => c, // stream -> other socket
            (3, _) => a, // back to the first, which runs again in this pass
            _ => t,      // the first wakes itself: next pass
        };
        ev.wakeup(next, WakeReason::MSG);
    };
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!((st.ran, st.left), (4, 1));
    assert!(ev.is_queued(a), "a task that woke itself waits, queued");
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!((st.ran, st.left), (1, 1));
    assert_eq!(
        runs,
        [
            (1, WakeReason::IO),
            (2, WakeReason::MSG),
            (3, WakeReason::MSG),
            (1, WakeReason::MSG),
            (1, WakeReason::MSG)
        ]
    );
}

#[test]
fn runqueue_depth_bounds_a_pass() {
    let mut ev = ev_with(EvConfig {
        runqueue_depth: 200,
        ..EvConfig::default()
    });
    let ids: Vec<TaskId> = (0..500).map(|i| ev.task_new(i)).collect();
    for &t in &ids {
        ev.wakeup(t, WakeReason::MSG);
    }
    let mut order = Vec::new();
    let mut h = |ev: &mut Ev<u32>, _t: TaskId, c: u32, _r: WakeReason| {
        order.push(c);
        // a task woken during the pass runs in it while the budget lasts
        if c == 450 {
            let extra = ev.task_new(1000);
            ev.wakeup(extra, WakeReason::MSG);
        }
    };
    let mut ran = Vec::new();
    for _ in 0..4 {
        let st = ev.run_once(&mut h).unwrap();
        ran.push((st.ran, st.left));
    }
    assert_eq!(ran, vec![(200, 300), (200, 100), (101, 0), (0, 0)]);
    let mut expect: Vec<u32> = (0..500).collect();
    expect.push(1000);
    assert_eq!(order, expect, "FIFO");
}

#[test]
fn poll_timeout_follows_work_and_timers() {
    let mut ev = ev_with(EvConfig {
        max_poll_wait: Duration::from_millis(1000),
        ..EvConfig::default()
    });
    assert_eq!(
        ev.next_timeout(),
        Duration::from_millis(1000),
        "capped when idle"
    );
    let t = ev.task_new(1);
    ev.task_schedule(t, tick_add(ev.now(), 500));
    let to = ev.next_timeout();
    assert!(
        to <= Duration::from_millis(500) && to >= Duration::from_millis(400),
        "{to:?}"
    );
    ev.task_set_expire(t, tick_add(ev.now(), 5000));
    assert_eq!(ev.next_timeout(), Duration::from_millis(1000), "capped");
    ev.wakeup(t, WakeReason::MSG);
    assert_eq!(ev.next_timeout(), Duration::ZERO, "queued work");
    let mut rec = Recorder::default();
    ev.run_once(&mut rec).unwrap();
    assert!(ev.next_timeout() > Duration::from_millis(900));

    // an idle iteration sleeps about max_poll_wait, not forever
    let mut ev = ev_with(EvConfig {
        max_poll_wait: Duration::from_millis(50),
        ..EvConfig::default()
    });
    let start = Instant::now();
    let st = ev.run_once(&mut rec).unwrap();
    let el = start.elapsed();
    assert_eq!(st.timeout, Duration::from_millis(50));
    assert!(
        el >= Duration::from_millis(45) && el < Duration::from_millis(900),
        "{el:?}"
    );
}

#[test]
fn waker_queues_the_task() {
    let mut ev = ev_with(EvConfig::default());
    let t = ev.task_new(7);
    let w = ev.waker(t);
    assert_eq!(ev.next_timeout(), Duration::from_millis(1000));
    w.wake_by_ref();
    w.wake_by_ref();
    let w3 = w.clone();
    w3.wake(); // by-value wake
    assert_eq!(
        ev.next_timeout(),
        Duration::ZERO,
        "inbox content means no sleep"
    );
    let mut rec = Recorder::default();
    let st = ev.run_once(&mut rec).unwrap();
    assert_eq!(st.ran, 1);
    assert_eq!(rec.runs.len(), 1, "deduplicated");
    assert_eq!(rec.runs[0].0, 7);
    assert_eq!(rec.runs[0].1, WakeReason::OTHER);
    // a wake during the task's own run (h2 self-wake) is not lost
    let w2 = w.clone();
    let mut n = 0;
    let mut h = |_: &mut Ev<u32>, _: TaskId, _: u32, _: WakeReason| {
        n += 1;
        if n == 1 {
            w2.wake_by_ref();
        }
    };
    w.wake_by_ref();
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!(
        (st.ran, st.left),
        (1, 1),
        "a self-wake waits for the next pass"
    );
    ev.run_once(&mut h).unwrap();
    assert_eq!(n, 2);
    // waking a freed task is harmless
    ev.task_free(t);
    w.wake_by_ref();
    let st = ev.run_once(&mut rec).unwrap();
    assert_eq!(st.ran, 0);
}

#[test]
fn a_waker_fired_by_another_task_runs_its_task_in_the_same_pass() {
    let mut ev = ev_with(EvConfig::default());
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    let wb = ev.waker(b);
    ev.wakeup(a, WakeReason::IO);
    let mut runs = Vec::new();
    let mut h = |_: &mut Ev<u32>, _: TaskId, ctx: u32, _: WakeReason| {
        runs.push(ctx);
        if ctx == 1 {
            wb.wake_by_ref(); // say, a stream releasing h2 flow-control credit
        }
    };
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!((st.ran, st.left), (2, 0));
    assert_eq!(runs, [1, 2]);
}

#[test]
fn waker_from_another_thread_interrupts_poll() {
    let mut ev = ev_with(EvConfig {
        max_poll_wait: Duration::from_millis(3000),
        ..EvConfig::default()
    });
    let t = ev.task_new(7);
    let w = ev.waker_with(t, WakeReason::MSG);
    let start = Instant::now();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        w.wake();
    });
    let mut rec = Recorder::default();
    while rec.runs.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "cross-thread wake lost"
        );
        ev.run_once(&mut rec).unwrap();
    }
    th.join().unwrap();
    assert_eq!(rec.runs[0].1, WakeReason::MSG);
    assert!(start.elapsed() < Duration::from_millis(1500));
}

#[test]
fn task_freed_while_queued_does_not_run() {
    let mut ev = ev_with(EvConfig::default());
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    ev.wakeup(a, WakeReason::MSG);
    ev.wakeup(b, WakeReason::MSG);
    // a frees b from its own run; b's queued run is cancelled
    let mut ran = Vec::new();
    let mut h = |ev: &mut Ev<u32>, t: TaskId, c: u32, _: WakeReason| {
        ran.push(c);
        if c == 1 {
            assert!(ev.task_free(b));
            assert!(ev.task_free(t), "a task may free itself");
        }
    };
    let st = ev.run_once(&mut h).unwrap();
    assert_eq!(ran, vec![1]);
    assert_eq!(st.ran, 1);
    assert_eq!(st.left, 0);
    assert_eq!(ev.nb_tasks(), 0);
    assert!(!ev.wakeup(a, WakeReason::MSG));
    assert_eq!(ev.ctx(a), None);
}

#[test]
fn a_virtual_fd_follows_the_readiness_contract_and_wakes_its_owner() {
    use crate::fd::{FD_EV_ERR_RW, FD_EV_READY_R, FD_EV_READY_W, FD_EV_SHUT_R};
    let mut ev = ev_with(EvConfig::default());
    let owner = ev.task_new(7);
    let fd = ev.fd_insert_virtual(owner);
    assert_eq!(ev.nb_fds(), 1);
    assert!(
        !ev.fd_recv_ready(fd) && !ev.fd_send_ready(fd),
        "starts not ready"
    );
    assert!(!ev.is_queued(owner));
    assert!(!ev.fd_update_events(fd, 0), "no event, no wakeup");
    assert!(!ev.is_queued(owner));

    assert!(ev.fd_update_events(fd, FD_EV_READY_R));
    assert!(ev.fd_recv_ready(fd) && !ev.fd_send_ready(fd));
    let mut rec = Recorder::default();
    ev.run_once(&mut rec).unwrap();
    assert_eq!(rec.runs.len(), 1);
    assert_eq!((rec.runs[0].0, rec.runs[0].1), (7, WakeReason::IO));

    // the owner's EAGAIN clears readiness until the next edge
    ev.fd_cant_recv(fd);
    assert!(!ev.fd_recv_ready(fd));
    assert!(ev.fd_update_events(fd, FD_EV_READY_W));
    assert!(!ev.fd_recv_ready(fd) && ev.fd_send_ready(fd));
    // shutdowns and errors are sticky
    assert!(ev.fd_update_events(fd, FD_EV_SHUT_R | FD_EV_READY_R));
    ev.fd_cant_recv(fd);
    assert!(ev.fd_shut_r(fd) && !ev.fd_error(fd));
    assert!(ev.fd_update_events(fd, FD_EV_ERR_RW));
    assert!(ev.fd_error(fd) && ev.fd_shut_r(fd));

    assert!(ev.fd_delete(fd));
    assert_eq!(ev.nb_fds(), 0);
    assert!(!ev.fd_update_events(fd, FD_EV_READY_R), "stale fd");
    assert_eq!(ev.fd_state(fd), 0);
}
