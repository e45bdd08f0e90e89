//! The vocabulary of a benchmark: the targets compared (haproxy-rs, upstream haproxy,
//! nginx as a reverse proxy, the backend directly), the scenarios S1-S5 and their cases
//! (one thread, and their two-thread twins in S1-S3), the metrics a run records, and the
//! collected samples and failures with the queries the reports make on them (including
//! the scaling from one thread to two). Plain data, no I/O.

use crate::stats::Summary;

/// One thing the clients talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The proxy under test, `nbthread` of the case.
    HaproxyRs,
    /// Upstream haproxy 2.6, same configuration text.
    Haproxy,
    /// nginx as a reverse proxy: `worker_processes` of the case, upstream keep-alive.
    Nginx,
    /// No proxy: the client talks to the backend itself (the limit).
    Direct,
}

impl Target {
    /// Every target, in the order of the tables.
    pub const ALL: [Target; 4] = [
        Target::HaproxyRs,
        Target::Haproxy,
        Target::Nginx,
        Target::Direct,
    ];

    /// The short name used in JSON and progress lines.
    pub fn key(self) -> &'static str {
        match self {
            Target::HaproxyRs => "haproxy-rs",
            Target::Haproxy => "haproxy",
            Target::Nginx => "nginx",
            Target::Direct => "direct",
        }
    }

    /// The name shown in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Target::HaproxyRs => "haproxy-rs",
            Target::Haproxy => "haproxy 2.6",
            Target::Nginx => "nginx proxy",
            Target::Direct => "direct (limit)",
        }
    }
}

/// The five scenarios of the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    S1,
    S2,
    S3,
    S4,
    S5,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::S1,
        Scenario::S2,
        Scenario::S3,
        Scenario::S4,
        Scenario::S5,
    ];

    /// "S1".."S5".
    pub fn id(self) -> &'static str {
        match self {
            Scenario::S1 => "S1",
            Scenario::S2 => "S2",
            Scenario::S3 => "S3",
            Scenario::S4 => "S4",
            Scenario::S5 => "S5",
        }
    }

    /// A one-line title for the report.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::S1 => "HTTP/1.1 keep-alive clients (wrk)",
            Scenario::S2 => "clients that close after every request (ab, HTTP/1.0)",
            Scenario::S3 => "HTTP/2 clients (h2load, prior knowledge)",
            Scenario::S4 => "memory held by idle keep-alive client connections",
            Scenario::S5 => "latency at a fixed moderate load (wrk -c 10)",
        }
    }

    /// Parses "S1".."S5" (case-insensitive).
    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.id().eq_ignore_ascii_case(s.trim()))
    }
}

/// What the client does in one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// `wrk -c conns`: keep-alive HTTP/1.1 throughput (S1).
    Wrk { conns: u32 },
    /// `ab -c conns` without keep-alive, proxy configured with `http-reuse reuse` (S2).
    Ab {
        conns: u32,
        reuse: Option<&'static str>,
    },
    /// `h2load -c clients -m streams` (S3).
    H2load { clients: u32, streams: u32 },
    /// Open the idle connections and read the resident memory (S4).
    Idle,
    /// `wrk -c conns --latency`, percentiles (S5).
    Latency { conns: u32 },
}

/// One row group of a scenario table: a client workload run against some targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub scenario: Scenario,
    /// The name of the case in the tables ("-c 50", "http-reuse safe", ...).
    pub name: String,
    pub work: Work,
    /// The targets this case runs against, in table order.
    pub targets: Vec<Target>,
    /// `nbthread` of haproxy-rs and haproxy, `worker_processes` of the nginx proxy (the
    /// backend always runs one worker).
    pub threads: u32,
}

/// The thread count of the threaded twins of the cases.
pub const TWIN_THREADS: u32 = 2;

/// The cases of a scenario, in table order: each one-thread case, followed in S1-S3 by
/// its [`TWIN_THREADS`] twin when it has one ([`twin`]).
pub fn cases(scenario: Scenario) -> Vec<Case> {
    let mut out = Vec::new();
    for c in one_thread_cases(scenario) {
        let t = twin(&c);
        out.push(c);
        out.extend(t);
    }
    out
}

/// The two-thread twin of a one-thread case of S1, S2 or S3: the same client work, named
/// "NAME (2 threads)", against the proxies only (the backend, hence `direct`, does not
/// change). None for S4 and S5 and for S3 with a single client connection (it lives on one
/// thread in every proxy: a second thread would have nothing to do).
pub fn twin(c: &Case) -> Option<Case> {
    let wanted = match c.work {
        Work::Wrk { .. } | Work::Ab { .. } => true,
        Work::H2load { clients, .. } => clients > 1,
        Work::Idle | Work::Latency { .. } => false,
    };
    if !wanted || c.threads != 1 {
        return None;
    }
    Some(Case {
        scenario: c.scenario,
        name: format!("{} ({TWIN_THREADS} threads)", c.name),
        work: c.work,
        targets: c
            .targets
            .iter()
            .copied()
            .filter(|&t| t != Target::Direct)
            .collect(),
        threads: TWIN_THREADS,
    })
}

/// The (one-thread, two-thread) case pairs of a scenario.
pub fn twins(scenario: Scenario) -> Vec<(Case, Case)> {
    one_thread_cases(scenario)
        .into_iter()
        .filter_map(|c| twin(&c).map(|t| (c, t)))
        .collect()
}

fn one_thread_cases(scenario: Scenario) -> Vec<Case> {
    let all = Target::ALL.to_vec();
    let case = |name: &str, work: Work, targets: Vec<Target>| Case {
        scenario,
        name: name.to_string(),
        work,
        targets,
        threads: 1,
    };
    match scenario {
        Scenario::S1 => vec![
            case("-c 50", Work::Wrk { conns: 50 }, all.clone()),
            case("-c 500", Work::Wrk { conns: 500 }, all),
        ],
        Scenario::S2 => {
            let pair = vec![Target::HaproxyRs, Target::Haproxy];
            let ab = |reuse| Work::Ab { conns: 50, reuse };
            vec![
                case("http-reuse never", ab(Some("never")), pair.clone()),
                case("http-reuse safe", ab(Some("safe")), pair.clone()),
                case("http-reuse always", ab(Some("always")), pair),
                case(
                    "no http-reuse",
                    ab(None),
                    vec![Target::Nginx, Target::Direct],
                ),
            ]
        }
        Scenario::S3 => {
            let h2 = |clients, streams| Work::H2load { clients, streams };
            vec![
                case("-c 10 -m 10", h2(10, 10), all.clone()),
                case("-c 100 -m 10", h2(100, 10), all.clone()),
                case("-c 1 -m 100", h2(1, 100), all),
            ]
        }
        Scenario::S4 => vec![case("idle", Work::Idle, all)],
        Scenario::S5 => vec![case("-c 10", Work::Latency { conns: 10 }, all)],
    }
}

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Requests per second.
    Rps,
    /// Requests completed in the measured run.
    Requests,
    /// CPU time (user + system) of the proxy process(es) per request, microseconds.
    ProxyCpu,
    /// CPU time of the backend nginx worker per request, microseconds.
    BackendCpu,
    /// Connections the backend accepted during the run.
    ServerConns,
    /// `ServerConns` per 1000 requests.
    ServerConnsPer1k,
    /// Idle client connections held open (S4).
    IdleConns,
    /// Resident memory before the idle connections, bytes.
    RssBase,
    /// Resident memory with the idle connections open, bytes.
    RssLoaded,
    /// Peak resident memory (VmHWM) at the end, bytes.
    RssPeak,
    /// `(RssLoaded - RssBase) / IdleConns`, bytes.
    BytesPerConn,
    /// Connections the backend had open while the idle clients were held (S4).
    BackendConns,
    /// Median latency, microseconds.
    P50,
    /// 99th percentile latency, microseconds.
    P99,
    /// Req/s with two threads over req/s with one thread, same round (not recorded in a
    /// sample: derived by [`Results::scaling`]).
    Scaling,
}

impl Metric {
    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Rps => "req_per_s",
            Metric::Requests => "requests",
            Metric::ProxyCpu => "proxy_cpu_us_per_req",
            Metric::BackendCpu => "backend_cpu_us_per_req",
            Metric::ServerConns => "server_conns_opened",
            Metric::ServerConnsPer1k => "server_conns_per_1000_req",
            Metric::IdleConns => "idle_conns",
            Metric::RssBase => "rss_base_bytes",
            Metric::RssLoaded => "rss_loaded_bytes",
            Metric::RssPeak => "rss_peak_bytes",
            Metric::BytesPerConn => "bytes_per_conn",
            Metric::BackendConns => "backend_conns_open",
            Metric::P50 => "latency_p50_us",
            Metric::P99 => "latency_p99_us",
            Metric::Scaling => "req_per_s_2_threads_over_1",
        }
    }

    /// The column header in the tables.
    pub fn header(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::Requests => "requests",
            Metric::ProxyCpu => "proxy CPU µs/req",
            Metric::BackendCpu => "backend CPU µs/req",
            Metric::ServerConns => "server conns opened",
            Metric::ServerConnsPer1k => "server conns /1000 req",
            Metric::IdleConns => "idle conns",
            Metric::RssBase => "RSS before",
            Metric::RssLoaded => "RSS with conns",
            Metric::RssPeak => "peak RSS",
            Metric::BytesPerConn => "bytes/conn",
            Metric::BackendConns => "backend conns open",
            Metric::P50 => "p50 µs",
            Metric::P99 => "p99 µs",
            Metric::Scaling => "req/s 2 threads ÷ 1 thread",
        }
    }

    /// Whether a smaller value is the better one (everything but req/s and its scaling).
    pub fn lower_is_better(self) -> bool {
        !matches!(self, Metric::Rps | Metric::Scaling)
    }

    /// The value formatted for a table cell, with its unit if it has one.
    pub fn format(self, v: f64) -> String {
        match self {
            Metric::RssBase | Metric::RssLoaded | Metric::RssPeak => {
                format!("{} MiB", self.format_bare(v))
            }
            _ => self.format_bare(v),
        }
    }

    /// The value formatted without its unit (for the min–max part of a cell).
    pub fn format_bare(self, v: f64) -> String {
        match self {
            Metric::RssBase | Metric::RssLoaded | Metric::RssPeak => fmt_num(v / (1024.0 * 1024.0)),
            Metric::Requests | Metric::ServerConns | Metric::IdleConns | Metric::BackendConns
                if v.is_finite() && v >= 0.0 =>
            {
                fmt_count(v.round() as u64)
            }
            _ => fmt_num(v),
        }
    }
}

/// Formats a number with a precision that suits its size: thousands separators from
/// 1000 on, whole numbers from 100, one decimal from 10, two below.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let rounded = v.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if rounded < 0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Formats a count: thousands separators, no decimals.
pub fn fmt_count(n: u64) -> String {
    if n >= 1000 {
        fmt_num(n as f64)
    } else {
        n.to_string()
    }
}

/// One measured run of one target in one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub scenario: Scenario,
    pub case: String,
    pub target: Target,
    pub round: u32,
    pub metrics: Vec<(Metric, f64)>,
    /// Failed requests, non-2xx answers, socket errors, idle connections lost: 0 when
    /// the run was clean.
    pub errors: u64,
    /// What `errors` were, when there were any.
    pub error_detail: String,
    /// haproxy-rs only: its lock counters at exit (warm-up and readiness probes included).
    pub locks: Vec<LockCount>,
}

/// One lock rank's counters as haproxy-rs printed them at exit (`HRS_LOCK_STATS=1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockCount {
    /// The rank's name ("Lbprm", "IdleConns", "ProcVars", "Inbox").
    pub rank: String,
    /// Acquisitions over the process's life.
    pub acquired: u64,
    /// Attempts that found the lock held by another thread.
    pub contended: u64,
}

impl Sample {
    /// The value of `metric`, if recorded.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
    }
}

/// A run that produced no sample: a proxy that did not start, a client that printed
/// nothing usable.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub scenario: Scenario,
    pub case: String,
    pub target: Target,
    pub round: u32,
    pub message: String,
}

/// Everything a benchmark collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub samples: Vec<Sample>,
    pub failures: Vec<Failure>,
}

impl Results {
    /// The samples of one target in one case.
    pub fn samples_of<'a>(
        &'a self,
        scenario: Scenario,
        case: &'a str,
        target: Target,
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |s| s.scenario == scenario && s.case == case && s.target == target)
    }

    /// The summary of `metric` over the samples of one target in one case, if any.
    pub fn summary(
        &self,
        scenario: Scenario,
        case: &str,
        target: Target,
        metric: Metric,
    ) -> Option<Summary> {
        let values: Vec<f64> = self
            .samples_of(scenario, case, target)
            .filter_map(|s| s.get(metric))
            .collect();
        Summary::of(&values)
    }

    /// Total errors over the samples of one target in one case.
    pub fn errors(&self, scenario: Scenario, case: &str, target: Target) -> u64 {
        self.samples_of(scenario, case, target)
            .map(|s| s.errors)
            .sum()
    }

    /// The scaling of `target` from the one-thread case `one` to its twin `two`: for each
    /// round with a req/s sample in both, the two-thread req/s over the one-thread req/s;
    /// summarised over the rounds.
    pub fn scaling(
        &self,
        scenario: Scenario,
        one: &str,
        two: &str,
        target: Target,
    ) -> Option<Summary> {
        let ratios: Vec<f64> = self
            .samples_of(scenario, one, target)
            .filter_map(|a| {
                let b = self
                    .samples_of(scenario, two, target)
                    .find(|b| b.round == a.round)?;
                crate::stats::ratio(b.get(Metric::Rps)?, a.get(Metric::Rps)?)
            })
            .collect();
        Summary::of(&ratios)
    }

    /// The lock counters of one target in one case, summed over the rounds, per rank in
    /// the order haproxy-rs printed them.
    pub fn locks(&self, scenario: Scenario, case: &str, target: Target) -> Vec<LockCount> {
        let mut out: Vec<LockCount> = Vec::new();
        for s in self.samples_of(scenario, case, target) {
            for l in &s.locks {
                match out.iter_mut().find(|o| o.rank == l.rank) {
                    Some(o) => {
                        o.acquired += l.acquired;
                        o.contended += l.contended;
                    }
                    None => out.push(l.clone()),
                }
            }
        }
        out
    }

    /// Number of failed runs of one target in one case.
    pub fn failed_runs(&self, scenario: Scenario, case: &str, target: Target) -> usize {
        self.failures
            .iter()
            .filter(|f| f.scenario == scenario && f.case == case && f.target == target)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(fmt_num(1234567.4), "1,234,567");
        assert_eq!(fmt_num(-1234.0), "-1,234");
        assert_eq!(fmt_num(999.6), "1000");
        assert_eq!(fmt_num(123.4), "123");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(f64::NAN), "–");
        assert_eq!(fmt_count(3), "3");
        assert_eq!(fmt_count(12345), "12,345");
        assert_eq!(Metric::ServerConns.format(0.0), "0");
        assert_eq!(Metric::BackendConns.format(9800.0), "9,800");
        assert_eq!(Metric::RssBase.format(3.0 * 1024.0 * 1024.0), "3.00 MiB");
        assert_eq!(Metric::RssBase.format_bare(3.0 * 1024.0 * 1024.0), "3.00");
    }

    #[test]
    fn scenario_parse_and_cases() {
        assert_eq!(Scenario::parse("s3"), Some(Scenario::S3));
        assert_eq!(Scenario::parse("S6"), None);
        let s2 = cases(Scenario::S2);
        assert_eq!(s2.len(), 8);
        assert_eq!(s2[0].targets, vec![Target::HaproxyRs, Target::Haproxy]);
        assert_eq!(
            (s2[0].name.as_str(), s2[0].threads),
            ("http-reuse never", 1)
        );
        // each twin right after its one-thread case
        assert_eq!(s2[1].name, "http-reuse never (2 threads)");
        assert_eq!((s2[1].work, s2[1].threads), (s2[0].work, 2));
        assert_eq!(s2[6].targets, vec![Target::Nginx, Target::Direct]);
        assert_eq!(s2[7].targets, vec![Target::Nginx]);
        let s1 = cases(Scenario::S1);
        let names: Vec<&str> = s1.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["-c 50", "-c 50 (2 threads)", "-c 500", "-c 500 (2 threads)"]
        );
        assert_eq!(
            s1[1].targets,
            vec![Target::HaproxyRs, Target::Haproxy, Target::Nginx]
        );
        // S3: no twin for the single client connection; S4, S5: none
        let s3: Vec<String> = cases(Scenario::S3).into_iter().map(|c| c.name).collect();
        assert_eq!(
            s3,
            [
                "-c 10 -m 10",
                "-c 10 -m 10 (2 threads)",
                "-c 100 -m 10",
                "-c 100 -m 10 (2 threads)",
                "-c 1 -m 100"
            ]
        );
        assert_eq!(twins(Scenario::S3).len(), 2);
        assert!(twins(Scenario::S4).is_empty() && twins(Scenario::S5).is_empty());
        assert!(cases(Scenario::S5).iter().all(|c| c.threads == 1));
        for sc in Scenario::ALL {
            assert!(cases(sc).iter().all(|c| c.scenario == sc));
            for (one, two) in twins(sc) {
                assert_eq!((one.threads, two.threads, one.work), (1, 2, two.work));
                assert!(twin(&two).is_none());
            }
        }
    }

    #[test]
    fn scaling_pairs_rounds_and_locks_sum() {
        let sample = |case: &str, round, rps, locks: Vec<LockCount>| Sample {
            scenario: Scenario::S1,
            case: case.into(),
            target: Target::HaproxyRs,
            round,
            metrics: vec![(Metric::Rps, rps)],
            errors: 0,
            error_detail: String::new(),
            locks,
        };
        let lk = |rank: &str, acquired, contended| LockCount {
            rank: rank.into(),
            acquired,
            contended,
        };
        let r = Results {
            samples: vec![
                sample("one", 1, 100.0, vec![lk("Lbprm", 10, 0)]),
                sample("one", 2, 200.0, vec![]),
                sample("one", 3, 50.0, vec![]),
                sample("two", 1, 150.0, vec![lk("Lbprm", 20, 2), lk("Inbox", 5, 1)]),
                sample("two", 2, 180.0, vec![lk("Lbprm", 30, 3)]),
                // round 3 of the twin missing: not paired
            ],
            failures: vec![],
        };
        let s = r
            .scaling(Scenario::S1, "one", "two", Target::HaproxyRs)
            .unwrap();
        assert_eq!((s.n, s.min, s.max), (2, 0.9, 1.5));
        assert!((s.median - 1.2).abs() < 1e-9);
        assert_eq!(r.scaling(Scenario::S1, "one", "two", Target::Haproxy), None);
        assert_eq!(
            r.locks(Scenario::S1, "two", Target::HaproxyRs),
            vec![lk("Lbprm", 50, 5), lk("Inbox", 5, 1)]
        );
        assert!(r.locks(Scenario::S1, "two", Target::Nginx).is_empty());
    }

    #[test]
    fn results_queries() {
        let sample = |target, round, rps, errors| Sample {
            scenario: Scenario::S1,
            case: "-c 50".into(),
            target,
            round,
            metrics: vec![(Metric::Rps, rps)],
            errors,
            error_detail: String::new(),
            locks: vec![],
        };
        let r = Results {
            samples: vec![
                sample(Target::HaproxyRs, 1, 10.0, 0),
                sample(Target::HaproxyRs, 2, 30.0, 2),
                sample(Target::HaproxyRs, 3, 20.0, 0),
                sample(Target::Haproxy, 1, 5.0, 0),
            ],
            failures: vec![],
        };
        let s = r
            .summary(Scenario::S1, "-c 50", Target::HaproxyRs, Metric::Rps)
            .unwrap();
        assert_eq!((s.n, s.median, s.min, s.max), (3, 20.0, 10.0, 30.0));
        assert_eq!(r.errors(Scenario::S1, "-c 50", Target::HaproxyRs), 2);
        assert_eq!(
            r.summary(Scenario::S1, "-c 50", Target::Nginx, Metric::Rps),
            None
        );
        assert_eq!(
            r.summary(Scenario::S1, "-c 50", Target::Haproxy, Metric::P99),
            None
        );
    }
}
