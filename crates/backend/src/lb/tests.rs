//! Pick sequences recorded from the real HAProxy 2.6, replayed against [`Lb`].
//!
//! How the `SCENARIOS` table was obtained: for each entry, `/usr/sbin/haproxy` 2.6.12
//! (Debian 2.6.12-1+deb12u4) ran with `nbthread 1`, `mode http`, `timeout connect 2s`,
//! `timeout queue 60s`, one frontend on 127.0.0.1 and one backend `balance <algo>` whose
//! `server` lines are `servers` (in that order, options verbatim). Each server was a python3
//! listener answering `200` with `X-Srv: <name>` and `Connection: close`; servers in `closed`
//! had no listener (connection refused) and the backend had `option redispatch` +
//! `retries 1`. A driver ran `ops`: `Get(n)`: n requests, each on a fresh client connection,
//! each completed before the next one; `Hold(t)`: one request the server does not answer
//! until `Rel(t)`, which keeps a connection slot taken (the driver waits up to 1 s for the
//! request to reach a server, else records `<queued>`); `At(t)`: where a request first
//! recorded as `<queued>` is now (`t@<server>`); `Maint`/`Ready`/`Weight`:
//! `set server be/<s> state maint|ready` and `set weight be/<s> <w>` on the admin socket
//! (`Refused`: haproxy answered an error). `expect` lists the server names in order
//! (`<tag>=<server>` for held requests, the status line when the response had no `X-Srv`).
//! The driver ran twice with identical results. Scripts (scratch, outside the repository):
//! /tmp/lb-lab/lab.py, scenarios.py, gen.py.
//!
//! The `rr_rw_*` entries (roundrobin under runtime weight and state changes) come from a
//! second driver (scratch: /tmp/lb-lab2/lab.py, gen.py) of the same setup (python3
//! listeners, `nbthread 1`, admin socket, `Get` on fresh connections, `set weight` and
//! `set server ... state` in between):
//! `rr_rw_NN` are random sequences (2 to 4 servers, weights 0 to 256, 5 to 9 changes), and
//! `rr_rw_next_N` are the sequences, among 20000 random ones replayed here, whose picks
//! depend on the position roundrobin keeps for a server waiting for the next window when
//! its weight changes (`fwrr_queue_srv`'s `npos -= curr_weight`, `fwrr_get_srv_next`).
//! Another 120 random sequences recorded the same way (frequent weight changes, a heavy
//! server going light and back) agreed with the replay and are not kept.
//!
//! Replay model of what haproxy does around the LB call: a pick takes a slot
//! (`conn_taken`), a completed request releases it; a pick on a closed server takes and
//! releases the slot, then redispatches with that server to avoid (what 2.6 does for
//! roundrobin/static-rr at once and for the others on the last retry); a hold that gets no
//! server, or a saturated one, waits in the backend's or the server's queue and takes the
//! slot a release frees.
//!
//! Replay model of what haproxy does around the LB call: a pick takes a slot
//! (`conn_taken`), a completed request releases it; a pick on a closed server takes and
//! releases the slot, then redispatches with that server to avoid (what 2.6 does for
//! roundrobin/static-rr at once and for the others on the last retry); a hold that gets no
//! server, or a saturated one, waits in the backend's or the server's queue and takes the
//! slot a release frees.

use super::*;
use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
enum Op {
    Get(usize),
    Hold(&'static str),
    Rel(&'static str),
    At(&'static str),
    Maint(&'static str),
    Ready(&'static str),
    Weight(&'static str, u32),
    Refused(&'static str, u32),
}
use Op::*;

struct Scenario {
    name: &'static str,
    algo: Algo,
    servers: &'static [(&'static str, &'static str)],
    closed: &'static [&'static str],
    ops: &'static [Op],
    expect: &'static str,
}

/// Reads the options of a haproxy `server` line (the subset the scenarios use).
fn parse_srv(opts: &str) -> SrvInit {
    let mut s = SrvInit::default();
    let mut it = opts.split_whitespace();
    while let Some(k) = it.next() {
        let mut num = || {
            it.next()
                .and_then(|v| v.parse::<u32>().ok())
                .expect("numeric argument")
        };
        match k {
            "weight" => s.weight = num(),
            "maxconn" => s.maxconn = num(),
            "maxqueue" => s.maxqueue = num(),
            "id" => s.id = num(),
            "backup" => s.backup = true,
            "disabled" => s.disabled = true,
            _ => panic!("unknown server option {k}"),
        }
    }
    s
}

struct Replay<'a> {
    sc: &'a Scenario,
    lb: Lb,
    held: HashMap<&'static str, usize>,
    srv_queue: HashMap<usize, VecDeque<&'static str>>,
    px_queue: VecDeque<&'static str>,
    out: Vec<String>,
}

impl Replay<'_> {
    fn idx(&self, name: &str) -> usize {
        self.sc
            .servers
            .iter()
            .position(|(n, _)| *n == name)
            .expect("server name")
    }

    fn name(&self, i: usize) -> &'static str {
        self.sc.servers[i].0
    }

    /// One LB decision, redispatching once when the pick has no listener. `Err(())` when
    /// the redispatch lands on a closed server too (haproxy then answers 503).
    fn pick(&mut self) -> Result<Option<usize>, ()> {
        let Some(i) = self.lb.get_next(None) else {
            return Ok(None);
        };
        if !self.sc.closed.contains(&self.name(i)) {
            return Ok(Some(i));
        }
        self.lb.conn_taken(i);
        self.lb.conn_released(i);
        let j = self.lb.get_next(Some(i));
        match j {
            Some(j) if self.sc.closed.contains(&self.name(j)) => {
                self.lb.conn_taken(j);
                self.lb.conn_released(j);
                Err(())
            }
            _ => Ok(j),
        }
    }

    fn saturated(&self, i: usize) -> bool {
        let s = &self.lb.srvs[i];
        s.maxconn != 0 && (s.served >= s.maxconn || s.queued != 0)
    }

    /// `process_srv_queue`: fills server `i`'s free slots from its own queue first, then
    /// from the backend's queue if the server may serve it (usable, and active or the
    /// first backup while no active server is usable).
    fn process_srv_queue(&mut self, i: usize) {
        loop {
            let s = &self.lb.srvs[i];
            if s.maxconn != 0 && s.served >= s.maxconn {
                return;
            }
            let c = Counts::recount(&self.lb.srvs);
            let px_ok =
                s.currently_usable() && (!s.backup || (c.srv_act == 0 && c.fbck == Some(i)));
            let next = match self.srv_queue.get_mut(&i).and_then(|q| q.pop_front()) {
                Some(t) => {
                    let len = self.srv_queue[&i].len() as u32;
                    self.lb.set_queue_len(i, len);
                    t
                }
                None if px_ok => match self.px_queue.pop_front() {
                    Some(t) => t,
                    None => return,
                },
                None => return,
            };
            self.lb.conn_taken(i);
            self.held.insert(next, i);
        }
    }

    fn run(&mut self) {
        for op in self.sc.ops {
            match *op {
                Get(n) => {
                    for _ in 0..n {
                        match self.pick() {
                            Ok(Some(i)) => {
                                self.lb.conn_taken(i);
                                self.lb.conn_released(i);
                                self.out.push(self.name(i).to_string());
                            }
                            Ok(None) => panic!("{}: no server for a Get", self.sc.name),
                            Err(()) => self
                                .out
                                .push("<HTTP/1.1 503 Service Unavailable>".to_string()),
                        }
                    }
                }
                Hold(t) => match self
                    .pick()
                    .unwrap_or_else(|()| panic!("{}: 503 on a Hold", self.sc.name))
                {
                    None => {
                        self.px_queue.push_back(t);
                        self.out.push(format!("{t}=<queued>"));
                    }
                    Some(i) if self.saturated(i) => {
                        let q = self.srv_queue.entry(i).or_default();
                        q.push_back(t);
                        let len = q.len() as u32;
                        self.lb.set_queue_len(i, len);
                        self.out.push(format!("{t}=<queued>"));
                    }
                    Some(i) => {
                        self.lb.conn_taken(i);
                        self.held.insert(t, i);
                        self.out.push(format!("{t}={}", self.name(i)));
                    }
                },
                Rel(t) => {
                    let i = self.held.remove(t).expect("held tag");
                    self.lb.conn_released(i);
                    self.process_srv_queue(i);
                }
                At(t) => {
                    let at = self.held.get(t).map_or("<queued>", |&i| self.name(i));
                    self.out.push(format!("{t}@{at}"));
                }
                Maint(s) => self.lb.set_usable(self.idx(s), false),
                Ready(s) => self.lb.set_usable(self.idx(s), true),
                Weight(s, w) => assert!(
                    self.lb.set_weight(self.idx(s), w),
                    "{}: weight refused",
                    self.sc.name
                ),
                Refused(s, w) => assert!(
                    !self.lb.set_weight(self.idx(s), w),
                    "{}: weight accepted",
                    self.sc.name
                ),
            }
        }
    }
}

fn replay(sc: &Scenario) -> String {
    let inits: Vec<SrvInit> = sc.servers.iter().map(|(_, o)| parse_srv(o)).collect();
    let mut r = Replay {
        sc,
        lb: Lb::new(sc.algo, &inits),
        held: HashMap::new(),
        srv_queue: HashMap::new(),
        px_queue: VecDeque::new(),
        out: Vec::new(),
    };
    r.run();
    r.out.join(" ")
}

// ---------------------------------------------------------------------------------------
// Properties and edge cases derived from the 2.6 source (not observable from outside, or
// not worth a lab run).

const ALGOS: [Algo; 4] = [
    Algo::RoundRobin,
    Algo::StaticRr,
    Algo::LeastConn,
    Algo::First,
];

/// Deterministic xorshift generator for the randomized tests (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn actives(weights: &[u32]) -> Vec<SrvInit> {
    weights.iter().map(|&w| SrvInit::active(w)).collect()
}

#[test]
fn odd_inputs_never_panic() {
    for algo in ALGOS {
        let mut lb = Lb::new(algo, &[]);
        assert!(lb.is_empty() && !lb.has_usable());
        assert_eq!(lb.get_next(None), None);
        assert_eq!(lb.get_next(Some(7)), None);
        lb.set_usable(3, true);
        assert!(!lb.set_weight(3, 1));
        lb.conn_taken(3);
        lb.conn_released(3);
        lb.set_queue_len(3, 2);
        assert_eq!(
            (lb.weight(3), lb.served(3), lb.eweight(3), lb.id(3)),
            (None, None, None, None)
        );
        assert!(!lb.is_usable(3));

        let mut lb = Lb::new(algo, &[SrvInit::active(1000), SrvInit::active(0)]);
        assert_eq!((lb.len(), lb.is_empty(), lb.algo()), (2, false, algo));
        assert_eq!(lb.weight(0), Some(MAX_WEIGHT), "clamped");
        assert!(!lb.set_weight(0, 257));
        lb.conn_released(0); // none held: ignored
        assert_eq!(lb.served(0), Some(0));
        assert_eq!(lb.get_next(Some(usize::MAX)), Some(0));
        lb.check_invariants();
    }
}

#[test]
fn leastconn_keeps_a_server_in_place_when_its_load_does_not_change() {
    // 2.6 skips a reposition that keeps the key: a stream queued on s1 while one of its
    // slots is released leaves its load (served + queued) as it was, and its turn too
    let mut lb = Lb::new(Algo::LeastConn, &actives(&[1, 1]));
    lb.conn_taken(0);
    lb.conn_taken(1);
    // both at load 1, s1 first (it got there first)
    assert_eq!(lb.get_next(None), Some(0));
    lb.set_queue_len(0, 1);
    lb.conn_released(0);
    assert_eq!(lb.get_next(None), Some(0), "s1 kept its place before s2");
    lb.check_invariants();
}

#[test]
fn effective_weights_and_ids() {
    let lb = Lb::new(Algo::RoundRobin, &actives(&[1, 256, 0]));
    assert_eq!(
        (lb.eweight(0), lb.eweight(1), lb.eweight(2)),
        (Some(16), Some(4096), Some(0))
    );
    // static-rr divides by the GCD of the non-zero weights, backups included.
    let mut srvs = actives(&[4, 6, 0]);
    srvs.push(SrvInit::backup(10));
    let lb = Lb::new(Algo::StaticRr, &srvs);
    assert_eq!(
        (0..4).map(|i| lb.eweight(i).unwrap()).collect::<Vec<_>>(),
        vec![2, 3, 0, 5]
    );
    // Ids: the counter advances past explicit ids too (`check_config_validity`).
    let srvs = [
        SrvInit {
            id: 3,
            ..SrvInit::default()
        },
        SrvInit::default(),
        SrvInit::default(),
        SrvInit {
            id: 1,
            ..SrvInit::default()
        },
        SrvInit::default(),
    ];
    let lb = Lb::new(Algo::First, &srvs);
    assert_eq!(
        (0..5).map(|i| lb.id(i).unwrap()).collect::<Vec<_>>(),
        vec![3, 2, 4, 1, 6]
    );
}

#[test]
fn static_rr_only_accepts_zero_or_initial_weight() {
    let mut lb = Lb::new(Algo::StaticRr, &actives(&[1, 2]));
    assert!(!lb.set_weight(1, 3));
    assert!(lb.set_weight(1, 0));
    assert!(!lb.is_usable(1));
    assert!(lb.set_weight(1, 2));
    assert!(lb.is_usable(1));
    let mut lb = Lb::new(Algo::RoundRobin, &actives(&[1, 2]));
    assert!(lb.set_weight(1, 3));
    assert_eq!(lb.eweight(1), Some(48));
}

#[test]
fn avoided_server_is_returned_when_alone() {
    for algo in ALGOS {
        let mut lb = Lb::new(algo, &actives(&[1]));
        assert_eq!(lb.get_next(Some(0)), Some(0), "{algo:?}");
        // Another one, but saturated: still the avoided one.
        let mut srvs = actives(&[1, 1]);
        srvs[1].maxconn = 1;
        let mut lb = Lb::new(algo, &srvs);
        lb.conn_taken(1);
        assert_eq!(lb.get_next(Some(0)), Some(0), "{algo:?}");
        lb.check_invariants();
    }
}

#[test]
fn static_rr_restarts_after_avoided_slot() {
    // Map [s1, s2, s2]; s1 saturated; avoiding s2 from slot 1 falls back to the last s2
    // seen, and the walk resumes after it (`rr_idx = avoididx`).
    let mut srvs = actives(&[1, 2]);
    srvs[0].maxconn = 1;
    let mut lb = Lb::new(Algo::StaticRr, &srvs);
    assert_eq!(lb.get_next(None), Some(0));
    lb.conn_taken(0);
    assert_eq!(lb.get_next(Some(1)), Some(1));
    lb.conn_released(0);
    assert_eq!(
        lb.get_next(None),
        Some(0),
        "walk resumed at slot 0, after the last s2"
    );
}

#[test]
fn backups_only_without_usable_active() {
    for algo in ALGOS {
        let srvs = [
            SrvInit {
                disabled: true,
                ..SrvInit::default()
            },
            SrvInit::backup(1),
            SrvInit::backup(1),
        ];
        let mut lb = Lb::new(algo, &srvs);
        for _ in 0..4 {
            assert_eq!(lb.get_next(None), Some(1), "{algo:?}: first backup only");
        }
        lb.set_usable(1, false);
        assert_eq!(lb.get_next(None), Some(2));
        lb.set_usable(0, true);
        assert_eq!(lb.get_next(None), Some(0));
        lb.set_usable(0, false);
        lb.set_usable(2, false);
        assert_eq!(lb.get_next(None), None);
        assert!(!lb.has_usable());
        lb.check_invariants();
    }
}

#[test]
fn first_backup_is_returned_even_when_full() {
    for algo in [Algo::RoundRobin, Algo::LeastConn, Algo::First] {
        let srvs = [
            SrvInit {
                disabled: true,
                ..SrvInit::default()
            },
            SrvInit {
                maxconn: 1,
                ..SrvInit::backup(1)
            },
        ];
        let mut lb = Lb::new(algo, &srvs);
        lb.conn_taken(1);
        assert_eq!(lb.get_next(None), Some(1), "{algo:?}");
    }
}

#[test]
fn all_saturated_gives_none_but_usable() {
    for algo in ALGOS {
        let srvs = [
            SrvInit {
                maxconn: 1,
                ..SrvInit::default()
            },
            SrvInit {
                maxconn: 2,
                ..SrvInit::default()
            },
        ];
        let mut lb = Lb::new(algo, &srvs);
        for _ in 0..3 {
            let s = lb.get_next(None).unwrap();
            lb.conn_taken(s);
        }
        assert_eq!(lb.get_next(None), None, "{algo:?}");
        assert!(lb.has_usable());
        lb.conn_released(1);
        assert_eq!(lb.get_next(None), Some(1), "{algo:?}");
        // A queue on the server keeps it saturated for every algorithm but leastconn with
        // a maxqueue.
        lb.set_queue_len(1, 1);
        assert_eq!(lb.get_next(None), None, "{algo:?}");
    }
}

#[test]
fn roundrobin_and_static_rr_are_proportional() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20 {
        let n = 1 + rng.below(8) as usize;
        let weights: Vec<u32> = (0..n).map(|_| rng.below(40) as u32).collect();
        let total: u32 = weights.iter().sum();
        if total == 0 {
            continue;
        }
        // static-rr: every map turn serves each server exactly its reduced weight.
        let mut lb = Lb::new(Algo::StaticRr, &actives(&weights));
        let g = weights_gcd(weights.iter().copied());
        let mut count = vec![0u32; n];
        for _ in 0..3 * total / g {
            count[lb.get_next(None).unwrap()] += 1;
        }
        let want: Vec<u32> = weights.iter().map(|w| 3 * w / g).collect();
        assert_eq!(count, want, "static-rr {weights:?}");
        // roundrobin: within one pick per weight unit per window of 16 * total picks.
        let mut lb = Lb::new(Algo::RoundRobin, &actives(&weights));
        let mut count = vec![0i64; n];
        let picks = 16 * i64::from(total) * 3;
        for _ in 0..picks {
            count[lb.get_next(None).unwrap()] += 1;
        }
        for (i, &w) in weights.iter().enumerate() {
            let want = picks * i64::from(w) / i64::from(total);
            assert!(
                (count[i] - want).abs() <= 3,
                "roundrobin {weights:?}: {count:?}"
            );
        }
        lb.check_invariants();
    }
}

/// Random operations on every algorithm: invariants hold after each, picks obey each
/// algorithm's rule.
#[test]
fn random_operations_keep_invariants() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..400 {
        let algo = ALGOS[round % 4];
        let n = 1 + rng.below(7) as usize;
        let srvs: Vec<SrvInit> = (0..n)
            .map(|_| SrvInit {
                weight: [0, 1, 1, 2, 3, 7, 256][rng.below(7) as usize],
                backup: rng.below(4) == 0,
                maxconn: [0, 0, 1, 2][rng.below(4) as usize],
                maxqueue: [0, 0, 1][rng.below(3) as usize],
                id: 0,
                disabled: rng.below(6) == 0,
            })
            .collect();
        let initial: Vec<u32> = srvs.iter().map(|s| s.weight).collect();
        let mut lb = Lb::new(algo, &srvs);
        lb.check_invariants();
        let mut queues_used = false;
        for _ in 0..300 {
            let i = rng.below(n as u64 + 1) as usize; // sometimes out of range
            match rng.below(10) {
                0 => lb.set_usable(i, rng.below(3) != 0),
                1 => {
                    let w = if algo == Algo::StaticRr && i < n {
                        [0, initial[i]][rng.below(2) as usize]
                    } else {
                        rng.below(20) as u32
                    };
                    lb.set_weight(i, w);
                }
                2 | 3 => lb.conn_released(i),
                4 => {
                    queues_used = true;
                    lb.set_queue_len(i, rng.below(2) as u32);
                }
                _ => {
                    let avoid = if rng.below(4) == 0 {
                        Some(rng.below(n as u64 + 1) as usize)
                    } else {
                        None
                    };
                    let pick = lb.get_next(avoid);
                    check_pick(&lb, algo, avoid, pick, !queues_used);
                    if let Some(p) = pick {
                        lb.conn_taken(p);
                    }
                }
            }
            lb.check_invariants();
        }
    }
}

/// What any pick must satisfy, whatever the history.
/// `fresh_keys`: no queue length was ever set, so leastconn keys reflect current loads.
fn check_pick(lb: &Lb, algo: Algo, avoid: Option<usize>, pick: Option<usize>, fresh_keys: bool) {
    let c = Counts::recount(&lb.srvs);
    let Some(p) = pick else {
        // None: nothing usable, or nothing eligible in the group in use (static-rr checks
        // the first backup's maxconn like any map slot).
        if let Source::FirstBackup(_) = c.source() {
            assert_eq!(algo, Algo::StaticRr, "first backup not returned");
        }
        return;
    };
    let s = &lb.srvs[p];
    assert!(s.currently_usable());
    if c.srv_act > 0 {
        assert!(!s.backup, "backup picked while an active server is usable");
    } else {
        if algo != Algo::StaticRr {
            assert_eq!(Some(p), c.fbck, "not the first backup");
        }
        return;
    }
    let room = |s: &Srv| match algo {
        Algo::LeastConn => s.maxconn == 0 || s.served + s.queued < s.maxconn + s.maxqueue,
        _ => s.has_free_slot(),
    };
    assert!(room(s), "{algo:?} picked a saturated server");
    let others = lb
        .srvs
        .iter()
        .enumerate()
        .filter(|&(i, o)| i != p && !o.backup && o.currently_usable() && room(o));
    let mut others = others.peekable();
    if Some(p) == avoid {
        assert!(
            others.peek().is_none(),
            "{algo:?} returned the avoided server though another was eligible"
        );
    }
    match algo {
        Algo::First => {
            for (i, o) in others {
                assert!(
                    Some(i) == avoid || o.puid > s.puid,
                    "first: lower id {i} had room"
                );
            }
        }
        Algo::LeastConn => {
            let load = |o: &Srv| {
                let n = u64::from(o.served + o.queued);
                if n == 0 {
                    0
                } else {
                    (n + 1) * u64::from(EWEIGHT_MAX) / u64::from(o.cur_eweight)
                }
            };
            // Keys are refreshed lazily after queue changes (as upstream), so compare only
            // when no queue was ever involved.
            if fresh_keys {
                for (i, o) in others {
                    assert!(
                        Some(i) == avoid || load(o) >= load(s),
                        "leastconn: {i} less loaded"
                    );
                }
            }
        }
        Algo::RoundRobin | Algo::StaticRr => {}
    }
}

/// Picks stay cheap with many servers (trees, not scans).
#[test]
fn many_servers() {
    let weights: Vec<u32> = (0..3000).map(|i| 1 + i % 200).collect();
    for algo in [Algo::RoundRobin, Algo::LeastConn, Algo::First] {
        let mut lb = Lb::new(algo, &actives(&weights));
        for k in 0..20_000usize {
            let p = lb.get_next(None).unwrap();
            lb.conn_taken(p);
            if k % 2 == 0 {
                lb.conn_released(p);
            }
        }
        lb.check_invariants();
    }
}

#[test]
fn recorded_sequences() {
    let mut failed = Vec::new();
    for sc in SCENARIOS {
        let got = replay(sc);
        if got != sc.expect {
            failed.push(format!(
                "{}:\n  expected {}\n  got      {}",
                sc.name, sc.expect, got
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios differ:\n{}",
        failed.len(),
        SCENARIOS.len(),
        failed.join("\n")
    );
}

#[rustfmt::skip]
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "rr_123",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(30)],
        expect: "s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2",
    },
    Scenario {
        name: "rr_equal4",
        algo: Algo::RoundRobin,
        servers: &[("s1", ""), ("s2", ""), ("s3", ""), ("s4", "")],
        closed: &[],
        ops: &[Get(12)],
        expect: "s1 s2 s3 s4 s1 s2 s3 s4 s1 s2 s3 s4",
    },
    Scenario {
        name: "rr_10_0_256_3",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 10"), ("s2", "weight 0"), ("s3", "weight 256"), ("s4", "weight 3")],
        closed: &[],
        ops: &[Get(90)],
        expect: "s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s4 s3 s3 s3 s3 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3",
    },
    Scenario {
        name: "rr_256_255_128_7",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 256"), ("s2", "weight 255"), ("s3", "weight 128"), ("s4", "weight 7")],
        closed: &[],
        ops: &[Get(80)],
        expect: "s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s4 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2 s3 s1 s2 s1 s2",
    },
    Scenario {
        name: "rr_5_3_2",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 5"), ("s2", "weight 3"), ("s3", "weight 2")],
        closed: &[],
        ops: &[Get(40)],
        expect: "s1 s2 s1 s3 s1 s2 s1 s2 s1 s3 s1 s2 s1 s3 s1 s2 s1 s2 s1 s3 s1 s2 s1 s3 s1 s2 s1 s2 s1 s3 s1 s2 s1 s3 s1 s2 s1 s2 s1 s3",
    },
    Scenario {
        name: "rr_backup",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 2"), ("s2", "weight 1"), ("b1", "backup weight 1"), ("b2", "backup weight 3")],
        closed: &[],
        ops: &[Get(6), Maint("s1"), Maint("s2"), Get(4), Maint("b1"), Get(4), Ready("b1"), Get(2), Ready("s2"), Get(4)],
        expect: "s1 s1 s2 s1 s1 s2 b1 b1 b1 b1 b2 b2 b2 b2 b1 b1 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_down_up",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(5), Maint("s3"), Get(6), Ready("s3"), Get(12), Maint("s1"), Get(5), Ready("s1"), Get(12)],
        expect: "s3 s2 s3 s1 s3 s2 s2 s2 s2 s1 s2 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s3 s2 s1 s3 s2 s3 s3 s2 s1 s3",
    },
    Scenario {
        name: "rr_weight_change",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(4), Weight("s1", 5), Get(10), Weight("s3", 0), Get(6), Weight("s3", 2), Get(10), Weight("s2", 256), Get(10)],
        expect: "s3 s2 s3 s1 s3 s2 s1 s3 s1 s2 s1 s3 s1 s1 s2 s1 s1 s2 s1 s1 s2 s1 s1 s3 s1 s2 s1 s3 s1 s2 s1 s2 s2 s3 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_avoid_111",
        algo: Algo::RoundRobin,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &["s2"],
        ops: &[Get(9)],
        expect: "s1 s3 s1 s3 s1 s3 s1 s3 s1",
    },
    Scenario {
        name: "rr_avoid_321",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 2"), ("s3", "weight 1")],
        closed: &["s1"],
        ops: &[Get(12)],
        expect: "s2 s3 s2 s2 s3 s2 s2 s3 s2 s2 s3 s2",
    },
    Scenario {
        name: "rr_maxconn",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1 maxconn 1"), ("s2", "weight 1"), ("s3", "weight 2")],
        closed: &[],
        ops: &[Hold("A"), Get(8), Rel("A"), Get(8)],
        expect: "A=s3 s1 s3 s2 s3 s1 s3 s2 s3 s1 s3 s2 s3 s1 s3 s2 s3",
    },
    Scenario {
        name: "rr_all_zero_backup",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 0"), ("s2", "weight 0"), ("b1", "backup")],
        closed: &[],
        ops: &[Get(3), Weight("s2", 1), Get(3)],
        expect: "b1 b1 b1 s2 s2 s2",
    },
    Scenario {
        name: "rr_disabled_init",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1 disabled"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(12), Ready("s1"), Get(12)],
        expect: "s3 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s3 s1 s2 s3 s2 s3 s3 s1",
    },
    Scenario {
        name: "srr_123",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(18)],
        expect: "s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3",
    },
    Scenario {
        name: "srr_4_6_0_9",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 4"), ("s2", "weight 6"), ("s3", "weight 0"), ("s4", "weight 9")],
        closed: &[],
        ops: &[Get(25)],
        expect: "s1 s2 s4 s2 s4 s1 s4 s2 s4 s1 s4 s2 s4 s2 s4 s1 s4 s2 s4 s1 s2 s4 s2 s4 s1",
    },
    Scenario {
        name: "srr_2_4_6",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 2"), ("s2", "weight 4"), ("s3", "weight 6")],
        closed: &[],
        ops: &[Get(12)],
        expect: "s1 s3 s2 s3 s2 s3 s1 s3 s2 s3 s2 s3",
    },
    Scenario {
        name: "srr_256_1_17",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 256"), ("s2", "weight 1"), ("s3", "weight 17")],
        closed: &[],
        ops: &[Get(60)],
        expect: "s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s3 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s3 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s3 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "srr_backup",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1"), ("b1", "backup weight 2"), ("b2", "backup weight 7")],
        closed: &[],
        ops: &[Get(2), Maint("s1"), Get(4), Ready("s1"), Get(2)],
        expect: "s1 s1 b2 b2 b2 b2 s1 s1",
    },
    Scenario {
        name: "srr_down_up",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(4), Maint("s2"), Get(5), Ready("s2"), Get(8)],
        expect: "s1 s3 s2 s3 s1 s3 s3 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2",
    },
    Scenario {
        name: "srr_weight",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(2), Weight("s2", 0), Get(5), Refused("s2", 5), Get(2), Weight("s2", 2), Get(7)],
        expect: "s1 s3 s3 s3 s1 s3 s3 s3 s1 s3 s2 s3 s2 s3 s1 s3",
    },
    Scenario {
        name: "srr_avoid",
        algo: Algo::StaticRr,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &["s2"],
        ops: &[Get(9)],
        expect: "s1 s3 s1 s3 s1 s3 s1 s3 s1",
    },
    Scenario {
        name: "srr_maxconn",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1 maxconn 1"), ("s2", "weight 1"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Hold("A"), Get(4), Rel("A"), Get(3)],
        expect: "A=s1 s2 s3 s2 s3 s1 s2 s3",
    },
    Scenario {
        name: "lc_seq",
        algo: Algo::LeastConn,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Get(9)],
        expect: "s1 s2 s3 s1 s2 s3 s1 s2 s3",
    },
    Scenario {
        name: "lc_hold_123",
        algo: Algo::LeastConn,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 3")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Hold("E"), Hold("F"), Hold("G"), Hold("H"), Hold("I"), Hold("J"), Hold("K"), Hold("L"), Rel("B"), Rel("C"), Hold("M"), Hold("N"), Hold("O"), Rel("A"), Rel("D"), Rel("E"), Hold("P"), Hold("Q"), Hold("R"), Hold("S"), Get(4)],
        expect: "A=s1 B=s2 C=s3 D=s3 E=s2 F=s3 G=s3 H=s2 I=s3 J=s1 K=s2 L=s3 M=s2 N=s3 O=s3 P=s1 Q=s2 R=s3 S=s2 s3 s3 s3 s3",
    },
    Scenario {
        name: "lc_hold_equal",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Rel("B"), Hold("E"), Rel("A"), Rel("C"), Get(4), Hold("F"), Hold("G"), Hold("H")],
        expect: "A=s1 B=s2 C=s3 D=s1 E=s2 s3 s3 s3 s3 F=s3 G=s2 H=s1",
    },
    Scenario {
        name: "lc_weight0",
        algo: Algo::LeastConn,
        servers: &[("s1", "weight 0"), ("s2", "weight 2"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Hold("E")],
        expect: "A=s2 B=s3 C=s2 D=s2 E=s3",
    },
    Scenario {
        name: "lc_backup",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("b1", "backup"), ("b2", "backup")],
        closed: &[],
        ops: &[Hold("A"), Maint("s1"), Hold("B"), Hold("C"), Maint("b1"), Hold("D"), Ready("s1"), Hold("E")],
        expect: "A=s1 B=b1 C=b1 D=b2 E=s1",
    },
    Scenario {
        name: "lc_maxconn",
        algo: Algo::LeastConn,
        servers: &[("s1", "maxconn 1"), ("s2", "maxconn 2"), ("s3", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Hold("E"), Hold("F"), Rel("A"), Hold("G"), Hold("H")],
        expect: "A=s1 B=s2 C=s3 D=s2 E=s3 F=s3 G=s1 H=s3",
    },
    Scenario {
        name: "lc_avoid",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &["s1"],
        ops: &[Get(6), Hold("A"), Hold("B"), Hold("C")],
        expect: "s2 s3 s2 s3 s2 s3 A=s2 B=s3 C=s2",
    },
    Scenario {
        name: "lc_weight_change",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Weight("s2", 3), Hold("D"), Hold("E"), Hold("F"), Hold("G"), Weight("s1", 0), Hold("H"), Hold("I"), Weight("s1", 2), Hold("J"), Hold("K")],
        expect: "A=s1 B=s2 C=s3 D=s2 E=s2 F=s2 G=s2 H=s3 I=s2 J=s1 K=s1",
    },
    Scenario {
        name: "lc_down_up",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("s2", "weight 2"), ("s3", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Maint("s1"), Hold("C"), Hold("D"), Ready("s1"), Hold("E"), Hold("F"), Hold("G")],
        expect: "A=s1 B=s2 C=s3 D=s2 E=s2 F=s3 G=s1",
    },
    Scenario {
        name: "fas_nomax",
        algo: Algo::First,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &[],
        ops: &[Get(4), Hold("A"), Hold("B"), Hold("C")],
        expect: "s1 s1 s1 s1 A=s1 B=s1 C=s1",
    },
    Scenario {
        name: "fas_max",
        algo: Algo::First,
        servers: &[("s1", "maxconn 2"), ("s2", "maxconn 1"), ("s3", "maxconn 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Rel("B"), Hold("E"), Rel("C"), Get(2)],
        expect: "A=s1 B=s1 C=s2 D=s3 E=s1 s2 s2",
    },
    Scenario {
        name: "fas_id",
        algo: Algo::First,
        servers: &[("s1", "id 3 maxconn 1"), ("s2", "maxconn 1"), ("s3", "maxconn 1"), ("s4", "maxconn 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D")],
        expect: "A=s2 B=s1 C=s3 D=s4",
    },
    Scenario {
        name: "fas_weight0_maint",
        algo: Algo::First,
        servers: &[("s1", "weight 0 maxconn 1"), ("s2", "maxconn 1"), ("s3", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Maint("s2"), Rel("A"), Hold("C"), Weight("s1", 1), Hold("D"), Hold("E")],
        expect: "A=s2 B=s3 C=s3 D=s1 E=s3",
    },
    Scenario {
        name: "fas_backup",
        algo: Algo::First,
        servers: &[("s1", "maxconn 1"), ("b1", "backup maxconn 1"), ("b2", "backup")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Rel("A"), Maint("s1"), Hold("C"), Hold("D"), Rel("C")],
        expect: "A=s1 B=<queued> C=b1 D=<queued>",
    },
    Scenario {
        name: "fas_avoid",
        algo: Algo::First,
        servers: &[("s1", ""), ("s2", ""), ("s3", "")],
        closed: &["s1"],
        ops: &[Get(3)],
        expect: "s2 s2 s2",
    },
    Scenario {
        name: "rr_maxconn2",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3 maxconn 1"), ("s2", "weight 1"), ("s3", "weight 2")],
        closed: &[],
        ops: &[Hold("A"), Get(8), Rel("A"), Get(8)],
        expect: "A=s1 s3 s2 s3 s3 s2 s3 s3 s2 s1 s3 s1 s3 s1 s2 s1 s3",
    },
    Scenario {
        name: "rr_many",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 7"), ("s3", "weight 0"), ("s4", "weight 13"), ("s5", "weight 2"), ("s6", "weight 100"), ("s7", "weight 45")],
        closed: &[],
        ops: &[Get(100)],
        expect: "s6 s6 s7 s6 s4 s6 s7 s6 s6 s7 s6 s6 s2 s6 s7 s6 s6 s7 s4 s6 s6 s7 s6 s6 s7 s6 s6 s5 s6 s7 s4 s6 s6 s7 s6 s6 s7 s2 s6 s6 s7 s6 s6 s4 s7 s6 s6 s7 s6 s6 s6 s7 s6 s6 s7 s6 s4 s6 s7 s6 s6 s2 s7 s6 s6 s6 s7 s6 s6 s4 s7 s6 s6 s7 s6 s6 s7 s6 s6 s1 s6 s7 s4 s6 s6 s7 s2 s6 s6 s7 s6 s6 s7 s6 s6 s4 s7 s6 s6 s6",
    },
    Scenario {
        name: "rr_from0",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 0"), ("s2", "weight 1"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Get(3), Weight("s1", 2), Get(8), Weight("s1", 1), Get(6)],
        expect: "s2 s3 s2 s3 s1 s2 s1 s3 s1 s2 s1 s3 s2 s1 s3 s2 s1",
    },
    Scenario {
        name: "rr_mix",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 1")],
        closed: &[],
        ops: &[Get(2), Maint("s1"), Get(2), Ready("s1"), Get(6), Weight("s2", 4), Get(8), Maint("s2"), Weight("s2", 2), Get(2), Ready("s2"), Get(8)],
        expect: "s1 s1 s2 s2 s2 s1 s1 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s2 s1 s1 s1 s1 s2 s1 s2 s1 s1 s2",
    },
    Scenario {
        name: "lc_avoid_held",
        algo: Algo::LeastConn,
        servers: &[("s1", "weight 2"), ("s2", ""), ("s3", "")],
        closed: &["s2"],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Hold("E")],
        expect: "A=s1 B=s3 C=s1 D=s1 E=s3",
    },
    Scenario {
        name: "srr_bck_rr",
        algo: Algo::StaticRr,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("b1", "backup weight 3"), ("b2", "backup weight 1")],
        closed: &[],
        ops: &[Get(2), Maint("s1"), Maint("s2"), Get(3), Maint("b1"), Get(2), Ready("s2"), Get(3)],
        expect: "s1 s2 b1 b1 b1 b2 b2 s2 s2 s2",
    },
    Scenario {
        name: "fas_avoid_held",
        algo: Algo::First,
        servers: &[("s1", "maxconn 1"), ("s2", "maxconn 2"), ("s3", "")],
        closed: &["s2"],
        ops: &[Hold("A"), Hold("B"), Hold("C")],
        expect: "A=s1 B=s3 C=s3",
    },
    Scenario {
        name: "rr_full_switch",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1 maxconn 1"), ("s2", "weight 1"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Hold("A"), Get(60), Rel("A"), Get(10)],
        expect: "A=s1 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s1 s3 s2 s1 s3 s2 s1 s3 s2",
    },
    Scenario {
        name: "rr_full_switch2",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 2 maxconn 1"), ("s2", "weight 1")],
        closed: &[],
        ops: &[Hold("A"), Get(40), Rel("A"), Get(10), Hold("B"), Get(20)],
        expect: "A=s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 B=s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_all_full",
        algo: Algo::RoundRobin,
        servers: &[("s1", "maxconn 1"), ("s2", "maxconn 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Rel("A"), At("C"), Hold("D"), Maint("s2"), Rel("B"), At("D"), Rel("C"), At("D"), Rel("D"), Get(2)],
        expect: "A=s1 B=s2 C=<queued> C@s1 D=<queued> D@<queued> D@s1 s1 s1",
    },
    Scenario {
        name: "lc_maxqueue",
        algo: Algo::LeastConn,
        servers: &[("s1", "maxconn 1 maxqueue 2"), ("s2", "maxconn 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Hold("E"), Rel("A"), At("C"), Hold("F"), Rel("B"), At("E"), Rel("C"), At("D")],
        expect: "A=s1 B=s2 C=<queued> D=<queued> E=<queued> C@s1 F=<queued> E@s2 D@s1",
    },
    Scenario {
        name: "fas_maxqueue",
        algo: Algo::First,
        servers: &[("s1", "maxconn 1 maxqueue 5"), ("s2", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C")],
        expect: "A=s1 B=s2 C=s2",
    },
    Scenario {
        name: "rr_weights_mix",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 4"), ("s2", "weight 3"), ("s3", "weight 2"), ("s4", "weight 1")],
        closed: &[],
        ops: &[Get(3), Weight("s4", 8), Get(5), Weight("s1", 1), Get(7), Weight("s2", 0), Get(3), Weight("s2", 6), Get(9), Maint("s3"), Get(4), Weight("s3", 5), Ready("s3"), Get(40)],
        expect: "s1 s2 s1 s4 s2 s4 s1 s4 s3 s4 s2 s4 s4 s4 s2 s3 s4 s4 s4 s2 s3 s4 s1 s2 s4 s4 s2 s4 s2 s4 s2 s4 s2 s4 s3 s4 s2 s3 s4 s1 s2 s4 s3 s2 s4 s3 s4 s2 s4 s3 s2 s4 s2 s4 s3 s4 s2 s3 s4 s1 s2 s4 s3 s2 s4 s3 s4 s2 s4 s3 s2",
    },
    Scenario {
        name: "rr_backup2",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("b1", "backup weight 0"), ("b2", "backup weight 2"), ("b3", "backup weight 1")],
        closed: &[],
        ops: &[Maint("s1"), Get(3), Weight("b1", 3), Get(3), Maint("b1"), Get(2), Weight("b2", 0), Get(2), Ready("s1"), Get(2)],
        expect: "b2 b2 b2 b1 b1 b1 b2 b2 b3 b3 s1 s1",
    },
    Scenario {
        name: "lc_backup_weights",
        algo: Algo::LeastConn,
        servers: &[("s1", "weight 0"), ("b1", "backup weight 0"), ("b2", "backup weight 2"), ("b3", "backup")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Weight("b1", 1), Hold("C"), Weight("s1", 1), Hold("D"), Hold("E")],
        expect: "A=b2 B=b2 C=b1 D=s1 E=s1",
    },
    Scenario {
        name: "srr_all_full",
        algo: Algo::StaticRr,
        servers: &[("s1", "maxconn 1"), ("s2", "weight 2 maxconn 2")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Hold("C"), Hold("D"), Rel("B"), At("D"), Rel("A"), Get(4)],
        expect: "A=s1 B=s2 C=s2 D=<queued> D@s2 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_full_two",
        algo: Algo::RoundRobin,
        servers: &[("s1", "maxconn 1"), ("s2", "maxconn 1"), ("s3", ""), ("s4", "")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Get(12), Rel("A"), Rel("B"), Get(8)],
        expect: "A=s1 B=s2 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s1 s2 s3 s4 s1 s2 s3 s4",
    },
    Scenario {
        name: "rr_full_two_w",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3 maxconn 1"), ("s2", "weight 5 maxconn 1"), ("s3", "weight 2"), ("s4", "weight 1")],
        closed: &[],
        ops: &[Hold("A"), Hold("B"), Get(20), Rel("A"), Rel("B"), Get(12)],
        expect: "A=s2 B=s1 s3 s4 s3 s3 s4 s3 s3 s4 s3 s3 s4 s3 s3 s4 s3 s3 s4 s3 s3 s4 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_avoid_heavy",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 10"), ("s2", "weight 1"), ("s3", "weight 1")],
        closed: &["s1"],
        ops: &[Get(12)],
        expect: "s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3",
    },
    Scenario {
        name: "srr_avoid_only",
        algo: Algo::StaticRr,
        servers: &[("s1", "maxconn 1"), ("s2", "")],
        closed: &["s2"],
        ops: &[Hold("A"), Get(2), Rel("A"), Get(3)],
        expect: "A=s1 <HTTP/1.1 503 Service Unavailable> <HTTP/1.1 503 Service Unavailable> s1 s1 s1",
    },
    Scenario {
        name: "lc_avoid_only",
        algo: Algo::LeastConn,
        servers: &[("s1", ""), ("s2", "maxconn 1")],
        closed: &["s1"],
        ops: &[Hold("A"), Get(2), Rel("A"), Get(2)],
        expect: "A=s2 <HTTP/1.1 503 Service Unavailable> <HTTP/1.1 503 Service Unavailable> s2 s2",
    },
    Scenario {
        name: "rr_avoid_only",
        algo: Algo::RoundRobin,
        servers: &[("s1", "maxconn 1"), ("s2", "weight 2")],
        closed: &["s2"],
        ops: &[Hold("A"), Get(2), Rel("A"), Get(4)],
        expect: "A=s1 <HTTP/1.1 503 Service Unavailable> <HTTP/1.1 503 Service Unavailable> s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_00",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 7")],
        closed: &[],
        ops: &[Get(4), Weight("s2", 5), Get(4), Weight("s1", 4), Get(6), Weight("s1", 3), Get(10), Weight("s2", 5), Get(3), Weight("s2", 1), Get(8)],
        expect: "s1 s1 s1 s1 s1 s1 s1 s1 s2 s2 s1 s2 s1 s2 s2 s1 s2 s2 s1 s2 s1 s2 s2 s1 s2 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1",
    },
    Scenario {
        name: "rr_rw_03",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 10"), ("s2", "weight 7"), ("s3", "weight 3"), ("s4", "weight 256")],
        closed: &[],
        ops: &[Get(5), Weight("s3", 5), Get(10), Weight("s2", 0), Get(6), Weight("s3", 10), Get(9), Weight("s4", 100), Get(13), Weight("s4", 16), Get(8), Weight("s4", 100), Get(4), Maint("s4"), Get(12), Weight("s1", 4), Get(20)],
        expect: "s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s1 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s3 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s1 s4 s4 s4 s4 s4 s4 s4 s1 s4 s3 s4 s1 s4 s4 s4 s3 s3 s3 s3 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s3 s3 s1 s3 s3 s1 s3 s3 s3 s1 s3 s3 s1 s3 s3 s3 s1",
    },
    Scenario {
        name: "rr_rw_04",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 10"), ("s2", "weight 7")],
        closed: &[],
        ops: &[Get(10), Weight("s2", 10), Get(13), Weight("s1", 17), Get(2), Maint("s2"), Get(4), Ready("s2"), Get(4), Weight("s1", 256), Get(5), Weight("s1", 33), Get(6), Weight("s2", 5), Get(3), Ready("s1"), Get(9), Ready("s1"), Get(13)],
        expect: "s1 s1 s2 s1 s2 s1 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_05",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 5"), ("s3", "weight 4"), ("s4", "weight 16")],
        closed: &[],
        ops: &[Get(4), Weight("s4", 4), Get(11), Maint("s4"), Get(12), Weight("s3", 10), Get(13), Weight("s2", 100), Get(3), Ready("s1"), Get(3), Ready("s3"), Get(2), Weight("s4", 4), Get(16)],
        expect: "s4 s4 s2 s4 s3 s1 s2 s4 s3 s1 s2 s4 s3 s2 s1 s3 s2 s3 s2 s1 s2 s3 s2 s3 s1 s2 s3 s3 s2 s1 s3 s3 s2 s3 s1 s3 s2 s3 s3 s2 s2 s3 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_06",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 256")],
        closed: &[],
        ops: &[Get(13), Weight("s1", 4), Get(1), Weight("s2", 100), Get(3), Weight("s1", 23), Get(6), Weight("s2", 16), Get(1), Weight("s1", 16), Get(14)],
        expect: "s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s1 s2 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1",
    },
    Scenario {
        name: "rr_rw_07",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 4"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Get(13), Weight("s2", 9), Get(8), Maint("s2"), Get(3), Maint("s2"), Get(2), Weight("s3", 3), Get(4), Maint("s3"), Get(8), Ready("s1"), Get(5), Weight("s2", 33), Get(11), Weight("s2", 16), Get(17)],
        expect: "s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_08",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 10")],
        closed: &[],
        ops: &[Get(8), Weight("s2", 10), Get(10), Weight("s1", 3), Get(8), Weight("s1", 2), Get(3), Weight("s2", 1), Get(7), Weight("s2", 1), Get(6), Weight("s2", 5), Get(13)],
        expect: "s2 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s1 s1 s2 s1 s1 s2 s1 s1 s2 s1 s1 s2 s1 s2 s1 s2 s2 s2 s1 s2 s2 s1 s2 s2 s2 s1",
    },
    Scenario {
        name: "rr_rw_09",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 7"), ("s2", "weight 5"), ("s3", "weight 5")],
        closed: &[],
        ops: &[Get(7), Weight("s2", 0), Get(12), Weight("s3", 10), Get(6), Maint("s1"), Get(14), Ready("s3"), Get(6), Weight("s1", 10), Get(7), Ready("s1"), Get(3), Weight("s1", 256), Get(3), Maint("s3"), Get(14)],
        expect: "s1 s2 s1 s3 s2 s1 s3 s1 s1 s3 s1 s3 s1 s1 s3 s1 s3 s1 s1 s3 s1 s3 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s1 s3 s1 s3 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_10",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 4")],
        closed: &[],
        ops: &[Get(4), Weight("s1", 33), Get(13), Maint("s1"), Get(3), Weight("s2", 10), Get(6), Weight("s1", 1), Get(9), Weight("s2", 4), Get(11), Weight("s2", 5), Get(12)],
        expect: "s2 s2 s2 s2 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_11",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 1")],
        closed: &[],
        ops: &[Get(12), Weight("s2", 100), Get(10), Weight("s1", 1), Get(10), Maint("s2"), Get(12), Weight("s2", 7), Get(11), Weight("s1", 1), Get(3), Ready("s1"), Get(5), Weight("s1", 33), Get(14), Weight("s1", 10), Get(18)],
        expect: "s1 s1 s1 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_12",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 16"), ("s2", "weight 2"), ("s3", "weight 5"), ("s4", "weight 1")],
        closed: &[],
        ops: &[Get(7), Weight("s3", 20), Get(7), Ready("s1"), Get(14), Weight("s1", 1), Get(11), Weight("s3", 0), Get(11), Maint("s1"), Get(13), Weight("s3", 2), Get(10), Weight("s1", 33), Get(11), Weight("s2", 4), Get(13)],
        expect: "s1 s1 s3 s1 s1 s2 s1 s1 s3 s1 s3 s3 s1 s3 s1 s3 s4 s1 s3 s2 s3 s1 s3 s1 s3 s1 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s2 s3 s3 s2 s2 s1 s2 s2 s4 s1 s2 s2 s4 s1 s2 s4 s2 s2 s4 s2 s2 s4 s2 s2 s4 s2 s2 s4 s2 s3 s2 s4 s3 s2 s2 s3 s4 s2 s3 s2 s3 s4 s2 s3 s2 s4 s3 s2 s2 s2 s3 s2 s4 s2 s3 s2 s2 s3 s2 s4 s2",
    },
    Scenario {
        name: "rr_rw_13",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 7"), ("s2", "weight 16"), ("s3", "weight 2")],
        closed: &[],
        ops: &[Get(13), Ready("s1"), Get(9), Ready("s3"), Get(6), Weight("s2", 10), Get(11), Weight("s2", 2), Get(7), Weight("s2", 33), Get(10), Ready("s1"), Get(11)],
        expect: "s2 s2 s1 s2 s2 s1 s2 s2 s3 s2 s1 s2 s2 s1 s2 s2 s1 s2 s2 s1 s2 s3 s2 s2 s1 s2 s2 s1 s2 s1 s2 s2 s1 s3 s2 s1 s2 s2 s1 s1 s3 s1 s1 s2 s1 s1 s2 s2 s3 s2 s1 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_14",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 16"), ("s3", "weight 3"), ("s4", "weight 10")],
        closed: &[],
        ops: &[Get(9), Weight("s1", 7), Get(6), Maint("s1"), Get(10), Ready("s3"), Get(1), Maint("s3"), Get(10), Ready("s3"), Get(3), Weight("s1", 4), Get(1), Weight("s3", 4), Get(20)],
        expect: "s1 s1 s1 s1 s2 s1 s1 s1 s4 s3 s2 s2 s1 s2 s2 s4 s2 s3 s2 s4 s2 s2 s4 s2 s4 s2 s2 s4 s2 s2 s4 s2 s4 s2 s2 s4 s2 s4 s2 s3 s2 s4 s2 s4 s2 s2 s3 s4 s2 s2 s4 s2 s4 s2 s3 s2 s4 s2 s4 s2",
    },
    Scenario {
        name: "rr_rw_15",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 10"), ("s2", "weight 33"), ("s3", "weight 4")],
        closed: &[],
        ops: &[Get(11), Weight("s1", 33), Get(2), Weight("s1", 33), Get(12), Maint("s1"), Get(5), Weight("s2", 3), Get(8), Weight("s3", 0), Get(11), Ready("s2"), Get(16)],
        expect: "s2 s2 s2 s1 s2 s2 s3 s2 s1 s2 s2 s2 s1 s2 s1 s2 s1 s2 s3 s1 s2 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s3 s2 s3 s3 s2 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_16",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 5"), ("s3", "weight 2"), ("s4", "weight 1")],
        closed: &[],
        ops: &[Get(5), Weight("s2", 4), Get(2), Maint("s1"), Get(8), Maint("s3"), Get(7), Weight("s1", 7), Get(12), Weight("s4", 13), Get(3), Weight("s1", 2), Get(12), Ready("s1"), Get(11), Weight("s1", 10), Get(16)],
        expect: "s2 s2 s3 s2 s1 s4 s3 s2 s2 s2 s3 s2 s4 s2 s3 s2 s2 s2 s2 s4 s2 s2 s2 s2 s4 s2 s2 s2 s2 s4 s2 s2 s2 s2 s4 s2 s4 s4 s4 s4 s2 s4 s4 s4 s2 s4 s4 s4 s2 s4 s4 s4 s2 s4 s4 s4 s1 s2 s4 s4 s4 s1 s2 s4 s1 s4 s4 s1 s4 s2 s1 s4 s1 s4 s1 s4",
    },
    Scenario {
        name: "rr_rw_17",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 16"), ("s2", "weight 256")],
        closed: &[],
        ops: &[Get(14), Weight("s1", 4), Get(12), Weight("s1", 1), Get(12), Weight("s2", 3), Get(5), Weight("s2", 10), Get(9), Maint("s1"), Get(20)],
        expect: "s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_18",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 16"), ("s2", "weight 1")],
        closed: &[],
        ops: &[Get(6), Maint("s1"), Get(14), Weight("s2", 1), Get(8), Weight("s1", 10), Get(14), Weight("s2", 1), Get(9), Maint("s1"), Get(6), Weight("s1", 1), Get(8), Weight("s2", 256), Get(9), Weight("s1", 2), Get(17)],
        expect: "s1 s1 s1 s1 s1 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_19",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 1"), ("s2", "weight 2"), ("s3", "weight 4"), ("s4", "weight 4")],
        closed: &[],
        ops: &[Get(1), Weight("s2", 10), Get(6), Weight("s4", 7), Get(13), Weight("s2", 16), Get(12), Weight("s1", 4), Get(6), Weight("s4", 0), Get(9), Weight("s4", 100), Get(4), Weight("s4", 2), Get(4), Weight("s4", 10), Get(10), Weight("s4", 100), Get(18)],
        expect: "s3 s2 s3 s2 s2 s4 s2 s3 s2 s1 s4 s2 s2 s4 s3 s2 s4 s2 s3 s4 s2 s2 s4 s2 s3 s2 s4 s2 s2 s4 s2 s3 s2 s4 s2 s2 s3 s2 s1 s2 s2 s2 s2 s1 s3 s2 s2 s4 s4 s4 s2 s1 s3 s2 s1 s4 s3 s2 s2 s4 s2 s1 s4 s2 s3 s4 s4 s2 s4 s4 s4 s4 s1 s4 s4 s4 s2 s3 s4 s4 s4 s4 s4",
    },
    Scenario {
        name: "rr_rw_20",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 7"), ("s2", "weight 256"), ("s3", "weight 100")],
        closed: &[],
        ops: &[Get(6), Weight("s3", 7), Get(13), Weight("s1", 33), Get(3), Weight("s3", 2), Get(3), Weight("s3", 1), Get(4), Maint("s1"), Get(6), Maint("s1"), Get(1), Weight("s3", 33), Get(8), Weight("s2", 1), Get(10)],
        expect: "s2 s2 s2 s3 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3",
    },
    Scenario {
        name: "rr_rw_21",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 4"), ("s2", "weight 16"), ("s3", "weight 10")],
        closed: &[],
        ops: &[Get(14), Ready("s1"), Get(7), Weight("s2", 16), Get(5), Weight("s3", 27), Get(13), Maint("s3"), Get(1), Maint("s3"), Get(2), Weight("s2", 256), Get(1), Weight("s3", 4), Get(14), Weight("s2", 100), Get(12), Weight("s1", 3), Get(9)],
        expect: "s2 s2 s3 s2 s1 s3 s2 s2 s3 s2 s2 s3 s1 s2 s3 s2 s2 s3 s2 s1 s3 s2 s2 s3 s2 s2 s1 s3 s2 s3 s3 s2 s3 s3 s2 s3 s2 s3 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_22",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 5"), ("s2", "weight 100"), ("s3", "weight 5")],
        closed: &[],
        ops: &[Get(7), Weight("s1", 2), Get(6), Weight("s1", 5), Get(11), Weight("s2", 32), Get(3), Weight("s2", 5), Get(4), Weight("s1", 16), Get(14), Weight("s2", 16), Get(13), Weight("s1", 1), Get(17)],
        expect: "s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s3 s2 s1 s1 s1 s3 s1 s1 s2 s1 s1 s3 s1 s2 s1 s1 s3 s2 s1 s2 s1 s2 s1 s2 s3 s1 s2 s1 s2 s2 s3 s2 s2 s2 s2 s3 s2 s2 s2 s3 s2 s2 s2 s3 s2 s2",
    },
    Scenario {
        name: "rr_rw_23",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 7"), ("s2", "weight 1"), ("s3", "weight 10")],
        closed: &[],
        ops: &[Get(7), Weight("s1", 10), Get(11), Ready("s3"), Get(3), Weight("s2", 4), Get(5), Weight("s2", 1), Get(4), Weight("s1", 10), Get(8), Ready("s3"), Get(18)],
        expect: "s3 s3 s1 s3 s1 s3 s2 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s2 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1",
    },
    Scenario {
        name: "rr_rw_24",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 16"), ("s2", "weight 3"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Get(7), Weight("s3", 4), Get(11), Weight("s3", 7), Get(8), Weight("s2", 256), Get(4), Ready("s1"), Get(8), Ready("s1"), Get(12), Weight("s2", 5), Get(13), Weight("s1", 4), Get(19)],
        expect: "s1 s1 s1 s1 s2 s1 s1 s1 s1 s3 s1 s2 s1 s1 s1 s3 s1 s1 s2 s1 s1 s3 s1 s1 s3 s1 s2 s1 s2 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s1 s1 s1 s2 s1 s3 s1 s1 s2 s1 s3 s1 s3 s2 s1 s3 s2 s3 s1 s3 s2 s3 s1 s2 s3 s3 s1 s2 s3 s2",
    },
    Scenario {
        name: "rr_rw_25",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 100"), ("s3", "weight 100")],
        closed: &[],
        ops: &[Get(9), Maint("s3"), Get(10), Weight("s1", 3), Get(7), Weight("s3", 256), Get(6), Weight("s1", 15), Get(11), Weight("s3", 33), Get(1), Maint("s3"), Get(12), Weight("s3", 5), Get(11), Weight("s3", 100), Get(11)],
        expect: "s1 s2 s3 s1 s2 s3 s1 s2 s3 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s1 s2",
    },
    Scenario {
        name: "rr_rw_26",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 5")],
        closed: &[],
        ops: &[Get(14), Ready("s1"), Get(6), Weight("s1", 256), Get(2), Weight("s1", 100), Get(11), Ready("s2"), Get(13), Weight("s1", 16), Get(13), Ready("s1"), Get(6), Maint("s1"), Get(3), Weight("s1", 16), Get(13)],
        expect: "s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_28",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 3"), ("s2", "weight 2")],
        closed: &[],
        ops: &[Get(9), Ready("s2"), Get(4), Weight("s1", 100), Get(12), Ready("s1"), Get(12), Weight("s1", 33), Get(1), Weight("s1", 10), Get(9)],
        expect: "s1 s1 s2 s1 s2 s1 s1 s2 s1 s2 s1 s1 s2 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_29",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 256"), ("s2", "weight 256"), ("s3", "weight 4"), ("s4", "weight 7")],
        closed: &[],
        ops: &[Get(6), Weight("s4", 0), Get(3), Ready("s1"), Get(9), Ready("s3"), Get(13), Weight("s4", 10), Get(1), Weight("s1", 100), Get(13), Weight("s1", 5), Get(19)],
        expect: "s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s3 s2 s2 s1 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_30",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 4"), ("s2", "weight 1"), ("s3", "weight 10")],
        closed: &[],
        ops: &[Get(9), Weight("s2", 10), Get(10), Weight("s3", 7), Get(5), Weight("s1", 256), Get(8), Weight("s3", 21), Get(1), Weight("s2", 32), Get(8), Weight("s3", 1), Get(13), Weight("s2", 256), Get(13), Maint("s2"), Get(9)],
        expect: "s3 s3 s1 s3 s3 s1 s3 s3 s2 s3 s1 s2 s3 s2 s3 s1 s2 s3 s2 s2 s1 s3 s2 s2 s1 s3 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s3 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s3 s1 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_31",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 256"), ("s2", "weight 2"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Get(7), Weight("s2", 2), Get(2), Ready("s2"), Get(14), Weight("s3", 1), Get(2), Weight("s3", 10), Get(6), Weight("s3", 2), Get(11), Ready("s3"), Get(11), Weight("s3", 2), Get(5), Weight("s1", 10), Get(14)],
        expect: "s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s3 s1 s1 s2 s1 s1 s1 s3 s1 s1",
    },
    Scenario {
        name: "rr_rw_32",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 5"), ("s2", "weight 100")],
        closed: &[],
        ops: &[Get(14), Weight("s1", 2), Get(3), Weight("s2", 5), Get(5), Maint("s1"), Get(13), Weight("s2", 10), Get(10), Weight("s2", 5), Get(15)],
        expect: "s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2",
    },
    Scenario {
        name: "rr_rw_33",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 33"), ("s2", "weight 1"), ("s3", "weight 5")],
        closed: &[],
        ops: &[Get(13), Weight("s1", 1), Get(4), Weight("s3", 1), Get(10), Weight("s2", 5), Get(5), Weight("s2", 7), Get(2), Weight("s3", 1), Get(8), Maint("s1"), Get(10)],
        expect: "s1 s1 s1 s1 s1 s1 s3 s1 s1 s1 s1 s1 s2 s3 s3 s3 s3 s3 s1 s3 s1 s3 s1 s3 s1 s3 s1 s2 s2 s2 s2 s2 s2 s3 s2 s1 s2 s2 s2 s2 s2 s2 s3 s2 s2 s2 s2 s2 s2 s2 s3 s2",
    },
    Scenario {
        name: "rr_rw_34",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 16"), ("s2", "weight 1"), ("s3", "weight 33")],
        closed: &[],
        ops: &[Get(9), Weight("s2", 0), Get(6), Weight("s1", 33), Get(3), Weight("s1", 256), Get(3), Maint("s1"), Get(10), Weight("s2", 100), Get(5), Weight("s3", 16), Get(3), Weight("s1", 5), Get(3), Maint("s2"), Get(5), Weight("s1", 1), Get(13)],
        expect: "s3 s3 s1 s3 s3 s1 s3 s3 s1 s3 s3 s1 s3 s3 s1 s3 s1 s3 s1 s3 s1 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3 s3",
    },
    Scenario {
        name: "rr_rw_35",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 5"), ("s2", "weight 5"), ("s3", "weight 4"), ("s4", "weight 4")],
        closed: &[],
        ops: &[Get(4), Weight("s1", 33), Get(14), Maint("s2"), Get(8), Weight("s1", 5), Get(2), Maint("s1"), Get(7), Weight("s1", 1), Get(13)],
        expect: "s1 s2 s3 s1 s2 s1 s1 s3 s1 s1 s1 s1 s4 s1 s2 s1 s1 s1 s3 s1 s1 s1 s1 s1 s4 s1 s1 s3 s3 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3 s4 s3",
    },
    Scenario {
        name: "rr_rw_36",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 5"), ("s2", "weight 1"), ("s3", "weight 1")],
        closed: &[],
        ops: &[Get(8), Weight("s2", 33), Get(14), Weight("s1", 100), Get(6), Weight("s3", 4), Get(10), Weight("s2", 33), Get(10), Weight("s1", 100), Get(6), Weight("s1", 5), Get(6), Weight("s3", 33), Get(17)],
        expect: "s1 s1 s1 s2 s1 s1 s3 s1 s1 s2 s2 s2 s2 s2 s3 s2 s2 s1 s2 s2 s2 s2 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s1 s1 s2 s1 s3 s1 s1 s2 s1 s1 s2 s2 s2 s2 s2 s2 s3 s2 s1 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s3 s2 s1 s3",
    },
    Scenario {
        name: "rr_rw_37",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 2"), ("s2", "weight 10"), ("s3", "weight 10"), ("s4", "weight 2")],
        closed: &[],
        ops: &[Get(2), Ready("s4"), Get(2), Weight("s2", 7), Get(8), Ready("s1"), Get(5), Maint("s4"), Get(7), Weight("s1", 1), Get(2), Weight("s4", 10), Get(14)],
        expect: "s2 s3 s2 s3 s1 s3 s4 s2 s3 s3 s2 s3 s2 s3 s1 s2 s3 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s2 s3 s3 s2 s3 s2 s3 s3",
    },
    Scenario {
        name: "rr_rw_38",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 256"), ("s2", "weight 1"), ("s3", "weight 16"), ("s4", "weight 256")],
        closed: &[],
        ops: &[Get(7), Maint("s2"), Get(5), Weight("s4", 9), Get(4), Weight("s3", 1), Get(3), Weight("s4", 1), Get(11), Weight("s3", 33), Get(9), Weight("s1", 7), Get(10), Weight("s1", 16), Get(8)],
        expect: "s1 s4 s1 s4 s1 s4 s1 s4 s1 s4 s1 s4 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s3 s1 s1 s1 s1 s1 s1 s1 s3 s3 s3 s3 s4 s3 s1 s3 s3 s3 s3 s3 s1 s3 s3 s1 s3 s3",
    },
    Scenario {
        name: "rr_rw_39",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 2"), ("s2", "weight 5")],
        closed: &[],
        ops: &[Get(13), Weight("s1", 7), Get(3), Weight("s2", 4), Get(14), Weight("s2", 16), Get(3), Weight("s1", 3), Get(4), Weight("s1", 7), Get(11)],
        expect: "s2 s2 s2 s1 s2 s2 s1 s2 s2 s2 s1 s2 s2 s1 s2 s1 s1 s2 s1 s1 s2 s1 s2 s1 s1 s2 s1 s1 s2 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s1 s2 s2 s1 s2 s2",
    },
    Scenario {
        name: "rr_rw_next_14271",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 40"), ("s2", "weight 5"), ("s3", "weight 10")],
        closed: &[],
        ops: &[Get(5), Weight("s1", 0), Get(5), Ready("s3"), Get(2), Weight("s2", 1), Get(5), Weight("s3", 0), Get(1), Weight("s1", 256), Get(5), Weight("s2", 2), Get(5), Maint("s3"), Get(5), Maint("s2"), Get(12)],
        expect: "s1 s1 s1 s3 s1 s2 s3 s2 s3 s2 s3 s3 s3 s2 s3 s3 s3 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s2 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1",
    },
    Scenario {
        name: "rr_rw_next_3849",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 256"), ("s2", "weight 100"), ("s3", "weight 40"), ("s4", "weight 2")],
        closed: &[],
        ops: &[Get(3), Weight("s1", 5), Get(4), Maint("s3"), Get(6), Weight("s1", 1), Get(4), Maint("s2"), Get(1), Weight("s3", 10), Get(5), Weight("s4", 100), Get(6), Weight("s1", 10), Get(5), Weight("s3", 0), Get(1), Weight("s1", 2), Get(1), Weight("s3", 2), Get(3), Weight("s2", 10), Get(12)],
        expect: "s1 s1 s2 s3 s4 s2 s3 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s1 s1 s1 s1 s1 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s4 s1",
    },
    Scenario {
        name: "rr_rw_next_4050",
        algo: Algo::RoundRobin,
        servers: &[("s1", "weight 100"), ("s2", "weight 100"), ("s3", "weight 256")],
        closed: &[],
        ops: &[Get(4), Maint("s3"), Get(6), Weight("s3", 5), Get(5), Weight("s1", 3), Get(6), Weight("s3", 256), Get(4), Weight("s1", 2), Get(5), Weight("s2", 0), Get(1), Weight("s2", 256), Get(1), Weight("s2", 256), Get(5), Weight("s2", 10), Get(6), Weight("s3", 0), Get(5), Weight("s1", 3), Get(12)],
        expect: "s3 s3 s1 s3 s2 s2 s1 s2 s1 s2 s1 s2 s1 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2 s1 s2 s2 s2",
    },
];
