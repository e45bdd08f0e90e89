//! The pure rules of server connection pools (HAProxy 2.6 `connect_server`'s reuse table,
//! `srv_add_to_idle_list`'s admission test, `srv_cleanup_idle_conns`'s purge arithmetic).
//!
//! Owns no state and touches nothing: each function maps plain numbers to a decision, so the
//! rules are unit tested here and applied to live pools by [`crate::server`].

use hrs_cfg::model::HttpReuse;

/// Which idle lists a request may take a connection from (the `http-reuse` table of
/// `connect_server`, `docs/reuse.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolLookup {
    /// No idle connection may be used: open a new one.
    None,
    /// Only a connection proven reusable (`conn_backend_get(is_safe=1)`).
    Safe,
    /// A safe connection first, then any idle one (`always` for a first request).
    SafeThenIdle,
    /// The idle list first, then the safe list (`conn_backend_get(is_safe=0)`).
    IdleThenSafe,
}

/// The lookup a request gets under `mode`. `later` is true for a request that is not the
/// first of its client connection (`TX_NOT_FIRST`; every HTTP/2 request), or a first request
/// whose `retry-on` covers connection failures, empty responses and response timeouts
/// (2.6.5+). Precondition: the target is a server (other targets only reuse through the
/// session).
pub fn reuse_lookup(mode: HttpReuse, later: bool) -> PoolLookup {
    match (mode, later) {
        (HttpReuse::Never, _) => PoolLookup::None,
        (_, true) => PoolLookup::IdleThenSafe,
        (HttpReuse::Safe, false) => PoolLookup::None,
        (HttpReuse::Aggressive, false) => PoolLookup::Safe,
        (HttpReuse::Always, false) => PoolLookup::SafeThenIdle,
    }
}

/// What `srv_add_to_idle_list` looks at when a connection becomes idle.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitInput {
    /// The connection is private (never pooled).
    pub private: bool,
    /// `http-reuse never` on the backend.
    pub mode_never: bool,
    /// `pool-purge-delay` in ms (0 keeps nothing).
    pub purge_delay: u32,
    /// `pool-max-conn` (-1 unlimited, 0 keeps nothing).
    pub max_idle: i32,
    /// `pool-low-conn`.
    pub low_idle: u32,
    /// File descriptors in use and the low/high thresholds.
    pub used_fds: u32,
    pub low_count: u32,
    pub high_count: u32,
    /// The server's idle connections (idle + safe) and the part of them in each list, on
    /// this thread (one thread per `World`).
    pub curr_idle: u32,
    pub thr_idle: u32,
    pub thr_safe: u32,
    /// The server's non-private connections in use, this one included.
    pub curr_used: u32,
    /// The estimated need.
    pub est_need: u32,
    /// The request just finished was not the connection's first one.
    pub is_safe: bool,
}

/// True when the connection may enter the server's idle pool; false means it is closed at
/// once (`srv_add_to_idle_list` returning 0). The mux-side conditions (no stream attached,
/// a stream slot free) are the caller's precondition.
pub fn may_admit(a: &AdmitInput) -> bool {
    if a.private || a.purge_delay == 0 || a.mode_never || a.used_fds >= a.high_count {
        return false;
    }
    if a.max_idle != -1 && (a.max_idle <= 0 || a.max_idle as u32 <= a.curr_idle) {
        return false;
    }
    // one connection per thread is always allowed (a safe one, or an idle one when no
    // safe one exists); more only while the estimated need says they will be used
    let first_of_thread = a.thr_safe == 0 && (a.is_safe || a.thr_idle == 0);
    let needed = a.used_fds < a.low_count
        && a.curr_used + a.curr_idle <= a.curr_used.max(a.est_need) + a.low_idle;
    first_of_thread || needed
}

/// The result of one purge round over a server (`srv_cleanup_idle_conns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgePlan {
    /// Idle connections exceeding the need (`exceed_conns`), shared out between threads by
    /// [`purge_share`].
    pub exceed: u32,
    /// New `est_need_conns`.
    pub est_need: u32,
    /// New `max_used_conns`.
    pub max_used: u32,
}

/// One purge round: about half of the connections beyond the larger of the recent peak
/// and the estimate are to be closed ([`purge_share`] splits them between threads), then
/// the estimate moves halfway toward the recent peak (never below it) and the peak restarts
/// from the connections in use.
pub fn purge_plan(curr_used: u32, curr_idle: u32, max_used: u32, est_need: u32) -> PurgePlan {
    let exceed = (curr_used + curr_idle).saturating_sub(max_used.max(est_need));
    let exceed = exceed.div_ceil(2);
    let exceed = if curr_idle == 0 { 0 } else { exceed };
    let est = ((est_need + max_used) / 2).max(max_used);
    PurgePlan {
        exceed,
        est_need: est,
        max_used: curr_used,
    }
}

/// The share of a purge of `exceed` connections that falls to a thread holding `thr_idle`
/// of the server's `curr_idle` idle connections: in proportion, plus one (upstream's
/// rounding, which makes a purge close at least one connection per thread that has any).
/// 0 when nothing exceeds. The thread closes at most what its lists hold.
pub fn purge_share(exceed: u32, thr_idle: u32, curr_idle: u32) -> u32 {
    if exceed == 0 || curr_idle == 0 {
        return 0;
    }
    (exceed * thr_idle / curr_idle + 1).min(thr_idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_upstream() {
        use HttpReuse::*;
        use PoolLookup as L;
        assert_eq!(reuse_lookup(Never, false), L::None);
        assert_eq!(reuse_lookup(Never, true), L::None);
        assert_eq!(reuse_lookup(Safe, false), L::None);
        assert_eq!(reuse_lookup(Safe, true), L::IdleThenSafe);
        assert_eq!(reuse_lookup(Aggressive, false), L::Safe);
        assert_eq!(reuse_lookup(Aggressive, true), L::IdleThenSafe);
        assert_eq!(reuse_lookup(Always, false), L::SafeThenIdle);
        assert_eq!(reuse_lookup(Always, true), L::IdleThenSafe);
    }

    fn base() -> AdmitInput {
        AdmitInput {
            purge_delay: 5000,
            max_idle: -1,
            low_count: 200,
            high_count: 250,
            used_fds: 4,
            curr_used: 1,
            est_need: 1,
            ..Default::default()
        }
    }

    #[test]
    fn first_idle_connection_of_a_thread_is_admitted() {
        assert!(may_admit(&base()));
    }

    #[test]
    fn second_connection_refused_when_need_is_one() {
        // one idle already; the one finishing now was the only one in use
        let a = AdmitInput {
            curr_idle: 1,
            thr_idle: 1,
            ..base()
        };
        assert!(!may_admit(&a));
        // a safe one is admitted while only an unsafe one is pooled
        assert!(may_admit(&AdmitInput { is_safe: true, ..a }));
        // but not beside an existing safe one
        let b = AdmitInput {
            curr_idle: 1,
            thr_safe: 1,
            is_safe: true,
            ..base()
        };
        assert!(!may_admit(&b));
    }

    #[test]
    fn estimated_need_admits_more() {
        // 4 were in use together: the 2nd..4th may become idle too
        let a = AdmitInput {
            curr_idle: 1,
            thr_idle: 1,
            curr_used: 3,
            est_need: 4,
            ..base()
        };
        assert!(may_admit(&a));
        // pool-low-conn loosens the need test
        let b = AdmitInput {
            curr_idle: 1,
            thr_idle: 1,
            low_idle: 1,
            ..base()
        };
        assert!(may_admit(&b));
        // ... unless FDs are above the low ratio
        assert!(!may_admit(&AdmitInput { used_fds: 200, ..b }));
    }

    #[test]
    fn refusals() {
        assert!(!may_admit(&AdmitInput {
            private: true,
            ..base()
        }));
        assert!(!may_admit(&AdmitInput {
            purge_delay: 0,
            ..base()
        }));
        assert!(!may_admit(&AdmitInput {
            mode_never: true,
            ..base()
        }));
        assert!(!may_admit(&AdmitInput {
            max_idle: 0,
            ..base()
        }));
        assert!(!may_admit(&AdmitInput {
            used_fds: 250,
            ..base()
        }));
        let full = AdmitInput {
            max_idle: 1,
            curr_idle: 1,
            is_safe: true,
            ..base()
        };
        assert!(!may_admit(&full));
        // below pool-max-conn the other rules decide
        assert!(may_admit(&AdmitInput {
            max_idle: 2,
            ..full
        }));
    }

    /// E9: four idle connections go 4, 4, 2, 0 while the estimate goes 4, 2, 1, 0.
    #[test]
    fn purge_four_idle() {
        let (mut idle, mut max_used, mut est) = (4, 4, 4);
        let mut seen = vec![];
        for _ in 0..4 {
            let p = purge_plan(0, idle, max_used, est);
            idle -= purge_share(p.exceed, idle, idle);
            max_used = p.max_used;
            est = p.est_need;
            seen.push((idle, est));
        }
        assert_eq!(seen, vec![(4, 4), (4, 2), (2, 1), (0, 0)]);
    }

    /// E9: a lone idle connection survives two rounds and goes at the third.
    #[test]
    fn purge_lone_idle() {
        let (mut idle, mut max_used, mut est) = (1, 1, 1);
        let mut rounds = 0;
        while idle > 0 {
            let p = purge_plan(0, idle, max_used, est);
            idle -= purge_share(p.exceed, idle, idle);
            max_used = p.max_used;
            est = p.est_need;
            rounds += 1;
        }
        assert_eq!(rounds, 3);
    }

    #[test]
    fn the_estimate_moves_halfway_to_the_recent_peak() {
        // upstream: est = (est + max_used) / 2, never below max_used
        assert_eq!(purge_plan(2, 0, 2, 4).est_need, 3);
        assert_eq!(purge_plan(2, 0, 3, 2).est_need, 3);
        assert_eq!(purge_plan(0, 0, 0, 5).est_need, 2);
    }

    #[test]
    fn purge_keeps_what_is_in_use() {
        let p = purge_plan(3, 0, 3, 3);
        assert_eq!(p.exceed, 0);
        assert_eq!(p.max_used, 3);
    }

    #[test]
    fn a_purge_is_shared_between_threads_in_proportion_plus_one() {
        // 6 idle connections exceed the need by 4 (ceil of half of 7), held 4 / 2 / 0
        let p = purge_plan(0, 6, 0, 0);
        assert_eq!(p.exceed, 3);
        assert_eq!(purge_share(4, 4, 6), 3, "4 * 4 / 6 + 1");
        assert_eq!(purge_share(4, 2, 6), 2, "4 * 2 / 6 + 1");
        assert_eq!(purge_share(4, 0, 6), 0, "a thread holding none closes none");
        // never more than the thread holds; nothing when nothing exceeds
        assert_eq!(purge_share(10, 1, 2), 1);
        assert_eq!(purge_share(0, 3, 3), 0);
        assert_eq!(purge_share(2, 3, 0), 0);
        // a plan with no idle connection closes nothing
        assert_eq!(purge_plan(5, 0, 1, 1).exceed, 0);
    }
}
