//! Signal delivery through signalfd. Alone in its own test binary (own process) because it
//! changes the signal mask; it blocks SIGUSR1 only in the test's thread and raises it with
//! `raise()` (thread-directed), so no other thread can take the default action.

use std::time::{Duration, Instant};

use hrs_ev::{block_signals, unblock_signals, Ev, EvConfig, TaskId, WakeReason};

struct SigRec {
    task: TaskId,
    got: Vec<i32>,
    reasons: Vec<WakeReason>,
}

impl hrs_ev::TaskHandler<u32> for SigRec {
    fn process(&mut self, ev: &mut Ev<u32>, t: TaskId, _c: u32, r: WakeReason) {
        assert_eq!(t, self.task);
        self.reasons.push(r);
        self.got.extend(ev.take_signals());
    }
}

#[test]
fn raised_signal_wakes_the_signal_task() {
    block_signals(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap();
    let mut ev: Ev<u32> = Ev::with_config(EvConfig {
        max_poll_wait: Duration::from_millis(20),
        ..EvConfig::default()
    })
    .unwrap();
    let task = ev.task_new(1);
    ev.signal_register(&[libc::SIGUSR1, libc::SIGUSR2], task)
        .unwrap();
    assert!(ev.take_signals().is_empty());

    // SAFETY: raise() with a valid signal number; SIGUSR1 is blocked in this thread, so it
    // stays pending for the signalfd instead of killing the process.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR1) }, 0);

    let mut h = SigRec {
        task,
        got: Vec::new(),
        reasons: Vec::new(),
    };
    let start = Instant::now();
    while h.got.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "signal not delivered"
        );
        ev.run_once(&mut h).unwrap();
    }
    assert_eq!(h.got, vec![libc::SIGUSR1]);
    assert!(h.reasons.iter().all(|r| *r == WakeReason::SIGNAL));

    // a second, different signal comes as a new edge
    // SAFETY: as above, SIGUSR2 is blocked in this thread.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
    h.got.clear();
    let start = Instant::now();
    while h.got.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "second signal not delivered"
        );
        ev.run_once(&mut h).unwrap();
    }
    assert_eq!(h.got, vec![libc::SIGUSR2]);
    assert!(ev.take_signals().is_empty());
    unblock_signals(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap();
}
