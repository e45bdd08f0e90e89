//! The watchdog (HAProxy's `wdt.c`): kills the process when a thread is stuck.
//!
//! Owns one thread that wakes every second and looks at each worker thread's loop
//! ([`hrs_ev::Heartbeat`]) and CPU clock. A thread is stuck when its loop has not gone
//! round since the last tick, it is not waiting in `poll`, and it used at least one second
//! of CPU since its loop last went round: upstream counts the thread's CPU time too, so a
//! thread merely waiting for a CPU on a busy machine is never taken for stuck. The first
//! tick that finds it stuck marks it; the next one, still stuck, prints upstream's report
//! (`Thread N is about to kill the process.` then one block per thread) on stderr and
//! aborts (exit status 134), as `ha_panic()` does. Upstream 2.6 never only warns.
//!
//! May touch from other threads: only their heartbeats (atomics) and CPU clocks.

use hrs_ev::Heartbeat;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One watched thread.
pub struct Watched {
    pub heartbeat: Arc<Heartbeat>,
    /// The thread's CPU-time clock (`pthread_getcpuclockid`).
    pub clock: libc::clockid_t,
}

/// What the watchdog remembers of a thread between ticks.
#[derive(Clone, Copy, Default)]
struct Seen {
    loops: u64,
    /// CPU time when `loops` last changed (or the thread was last seen polling).
    cpu_ns: u64,
    stuck: bool,
}

/// The threads to watch, filled in as they start (index = thread number).
pub type Registry = Arc<Mutex<Vec<Option<Watched>>>>;

/// The calling thread's CPU-time clock.
pub fn current_cpu_clock() -> Option<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: pthread_self() is the calling thread; the call writes `clock`.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    (rc == 0).then_some(clock)
}

fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes `ts`; an invalid clock (thread gone) returns an error.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// What one tick decides for one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Running or sleeping normally.
    Fine,
    /// Stuck for the first time: marked.
    Stuck,
    /// Still stuck at the next tick: the process must die.
    Kill,
}

/// One tick for a thread whose loop counter is `loops`, `polling` or not, with `cpu` ns of
/// CPU time used so far; updates `seen`.
fn judge(seen: &mut Seen, loops: u64, polling: bool, cpu: u64) -> Verdict {
    if polling || loops != seen.loops {
        *seen = Seen {
            loops,
            cpu_ns: cpu,
            stuck: false,
        };
        return Verdict::Fine;
    }
    if cpu.saturating_sub(seen.cpu_ns) < 1_000_000_000 {
        return Verdict::Fine;
    }
    if seen.stuck {
        return Verdict::Kill;
    }
    seen.stuck = true;
    Verdict::Stuck
}

/// Starts the watchdog thread over `reg`.
pub fn start(reg: Registry) {
    let spawned = std::thread::Builder::new()
        .name("hrs-watchdog".into())
        .spawn(move || {
            let mut seen: Vec<Seen> = Vec::new();
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let threads = reg.lock().unwrap_or_else(|e| e.into_inner());
                seen.resize(threads.len(), Seen::default());
                for (i, w) in threads.iter().enumerate() {
                    let Some(w) = w else { continue };
                    let cpu = cpu_ns(w.clock);
                    let v = judge(
                        &mut seen[i],
                        w.heartbeat.loops.load(Relaxed),
                        w.heartbeat.polling.load(Relaxed),
                        cpu,
                    );
                    if v == Verdict::Kill {
                        panic_report(i, &threads, &seen);
                    }
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("Failed to setup watchdog timer, disabling lockup detection: {e}");
    }
}

/// Prints upstream's `ha_panic()` report for stuck thread `stuck` (0-based) and aborts.
fn panic_report(stuck: usize, threads: &[Option<Watched>], seen: &[Seen]) -> ! {
    let mut out = format!("Thread {} is about to kill the process.\n", stuck + 1);
    for (i, w) in threads.iter().enumerate() {
        let Some(w) = w else { continue };
        let s = seen.get(i).copied().unwrap_or_default();
        let now = cpu_ns(w.clock);
        out.push_str(&format!(
            "{}{}Thread {:<2}: act={} stuck={}\n             cpu_ns: poll={} now={} diff={}\n",
            if i == stuck { '*' } else { ' ' },
            if s.stuck { '>' } else { ' ' },
            i + 1,
            u8::from(!w.heartbeat.polling.load(Relaxed)),
            u8::from(s.stuck),
            s.cpu_ns,
            now,
            now.saturating_sub(s.cpu_ns)
        ));
    }
    eprint!("{out}");
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn max_threads_is_the_runtime_s() {
        assert_eq!(crate::version::MAX_THREADS, hrs_core::MAX_THREADS);
    }

    #[test]
    fn a_loop_that_goes_round_or_sleeps_is_fine() {
        let mut s = Seen::default();
        assert_eq!(judge(&mut s, 1, false, 5 * S), Verdict::Fine);
        assert_eq!(judge(&mut s, 2, false, 9 * S), Verdict::Fine);
        // no progress but polling: sleeping
        assert_eq!(judge(&mut s, 2, true, 20 * S), Verdict::Fine);
        assert_eq!(judge(&mut s, 2, true, 40 * S), Verdict::Fine);
    }

    #[test]
    fn no_progress_without_cpu_is_not_stuck() {
        // descheduled on a busy machine: the thread's CPU clock does not move
        let mut s = Seen::default();
        assert_eq!(judge(&mut s, 3, false, S), Verdict::Fine);
        for _ in 0..5 {
            assert_eq!(judge(&mut s, 3, false, S + S / 2), Verdict::Fine);
        }
    }

    #[test]
    fn a_second_of_cpu_in_one_turn_marks_then_kills() {
        let mut s = Seen::default();
        assert_eq!(judge(&mut s, 3, false, S), Verdict::Fine);
        assert_eq!(judge(&mut s, 3, false, 2 * S), Verdict::Stuck);
        assert_eq!(judge(&mut s, 3, false, 3 * S), Verdict::Kill);
        // progress in between clears the mark
        let mut s = Seen::default();
        judge(&mut s, 3, false, S);
        assert_eq!(judge(&mut s, 3, false, 2 * S), Verdict::Stuck);
        assert_eq!(judge(&mut s, 4, false, 3 * S), Verdict::Fine);
        assert_eq!(judge(&mut s, 4, false, 3 * S + S / 2), Verdict::Fine);
    }
}
