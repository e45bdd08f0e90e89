//! The reports made from the collected samples: the markdown tables (one per scenario,
//! medians with min–max spread and the ratios to upstream haproxy; then the scaling from
//! one thread to two and haproxy-rs's lock contention), the goals table,
//! the generated section of `docs/performance.md` (and the replacement of that section
//! between its markers, leaving the hand-written rest alone), and the JSON results file.
//! Everything here is pure: text in, text out.

use crate::json::Json;
use crate::machine::Machine;
use crate::model::{cases, fmt_count, fmt_num, twins, Metric, Results, Scenario, Target};
use crate::stats::{ratio, Summary};

/// The line that opens the generated section of the report.
pub const BEGIN: &str = "<!-- bench:begin -->";
/// The line that closes it.
pub const END: &str = "<!-- bench:end -->";

/// How a benchmark was run, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub rounds: u32,
    pub duration: u32,
    pub warmup: f64,
    pub wrk_threads: u32,
    /// Idle connections of S4, and why that many.
    pub idle_conns: usize,
    pub idle_reason: String,
    /// `maxconn` of the proxies in S1-S3 and S5, and in S4.
    pub maxconn: usize,
    pub maxconn_idle: usize,
    /// nginx `worker_connections` (both instances).
    pub worker_connections: usize,
    /// `ab -n` cap of S2 (the run ends at `-t` seconds before reaching it).
    pub ab_cap: u64,
    pub scenarios: Vec<Scenario>,
}

/// A column of a scenario table: a metric, and whether a ratio-to-haproxy column
/// follows it.
struct Column {
    metric: Metric,
    ratio: bool,
}

fn columns(sc: Scenario) -> Vec<Column> {
    let col = |metric, ratio| Column { metric, ratio };
    match sc {
        Scenario::S1 | Scenario::S3 => vec![
            col(Metric::Rps, true),
            col(Metric::ProxyCpu, true),
            col(Metric::BackendCpu, false),
        ],
        Scenario::S2 => vec![
            col(Metric::Rps, true),
            col(Metric::ProxyCpu, true),
            col(Metric::ServerConns, false),
            col(Metric::ServerConnsPer1k, true),
            col(Metric::BackendCpu, false),
        ],
        Scenario::S4 => vec![
            col(Metric::RssBase, false),
            col(Metric::RssLoaded, true),
            col(Metric::BytesPerConn, true),
            col(Metric::BackendConns, false),
        ],
        Scenario::S5 => vec![
            col(Metric::P50, true),
            col(Metric::P99, true),
            col(Metric::Rps, false),
            col(Metric::ProxyCpu, false),
        ],
    }
}

/// "median (min–max)", or the median alone for a single sample.
fn cell(metric: Metric, s: &Summary) -> String {
    if s.n > 1 && s.min != s.max {
        format!(
            "{} ({}–{})",
            metric.format(s.median),
            metric.format_bare(s.min),
            metric.format_bare(s.max)
        )
    } else {
        metric.format(s.median)
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"))
}

/// The markdown table of one scenario: a row per (case, target), each metric as
/// "median (min–max)" over the rounds, "÷ haproxy" columns with the ratio of the medians
/// to upstream haproxy's in the same case, and an errors column.
pub fn scenario_table(results: &Results, sc: Scenario) -> String {
    let cols = columns(sc);
    let mut header = vec!["case".to_string(), "target".to_string()];
    for c in &cols {
        header.push(c.metric.header().to_string());
        if c.ratio {
            header.push("÷ haproxy".to_string());
        }
    }
    header.push("errors".to_string());
    let mut out = table_header(&header, 2);
    for case in cases(sc) {
        for &target in &case.targets {
            let mut row = vec![case.name.clone(), target.label().to_string()];
            let failed = results.failed_runs(sc, &case.name, target);
            let has_samples = results.samples_of(sc, &case.name, target).next().is_some();
            for c in &cols {
                let mine = results.summary(sc, &case.name, target, c.metric);
                row.push(match &mine {
                    Some(s) => cell(c.metric, s),
                    None if !has_samples && failed > 0 => "failed".to_string(),
                    None => "–".to_string(),
                });
                if c.ratio {
                    let theirs = results.summary(sc, &case.name, Target::Haproxy, c.metric);
                    let r = match (mine, theirs) {
                        (Some(m), Some(t)) => ratio(m.median, t.median),
                        _ => None,
                    };
                    row.push(fmt_ratio(r));
                }
            }
            let errors = results.errors(sc, &case.name, target);
            let mut notes = Vec::new();
            if errors > 0 {
                notes.push(format!("⚠ {}", fmt_count(errors)));
            }
            if failed > 0 {
                notes.push(format!("⚠ {failed} run(s) failed"));
            }
            row.push(if notes.is_empty() {
                "0".to_string()
            } else {
                notes.join(", ")
            });
            out.push_str(&table_row(&row));
        }
    }
    out
}

/// The header row and the alignment row: the first `text_cols` columns left-aligned,
/// the others (numbers) right-aligned.
fn table_header(cells: &[String], text_cols: usize) -> String {
    let mut s = table_row(cells);
    s.push('|');
    for (i, _) in cells.iter().enumerate() {
        s.push_str(if i < text_cols { "---|" } else { "---:|" });
    }
    s.push('\n');
    s
}

fn table_row(cells: &[String]) -> String {
    let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", escaped.join(" | "))
}

/// One goal of the issue, evaluated on the medians.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub scenario: Scenario,
    pub case: String,
    pub what: &'static str,
    pub metric: Metric,
    pub hrs: Option<Summary>,
    pub haproxy: Option<Summary>,
}

/// Whether a goal is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    /// Slightly worse, but the two medians read the same at the precision of the tables
    /// (e.g. 1,001 server connections per 1000 requests each): counted as met.
    Equal,
    /// Not met; `overlap` says the two min–max ranges overlap (the difference is within
    /// the spread of the rounds).
    NotMet {
        overlap: bool,
    },
    NoData,
}

impl Goal {
    /// Met when haproxy-rs's median is at least as good as haproxy's, `Equal` when it is
    /// worse but both medians print the same.
    pub fn verdict(&self) -> Verdict {
        match (&self.hrs, &self.haproxy) {
            (Some(h), Some(u)) => {
                let ok = if self.metric.lower_is_better() {
                    h.median <= u.median
                } else {
                    h.median >= u.median
                };
                if ok {
                    Verdict::Met
                } else if self.metric.format(h.median) == self.metric.format(u.median) {
                    Verdict::Equal
                } else {
                    Verdict::NotMet {
                        overlap: h.overlaps(u),
                    }
                }
            }
            _ => Verdict::NoData,
        }
    }

    /// haproxy-rs's median over haproxy's.
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.hrs?.median, self.haproxy?.median)
    }
}

/// The goals of the issue for the scenarios in `scenarios`, in order: req/s and CPU per
/// request at least as good (S1, S2, S3, with one thread and with two), server
/// connections opened per request no more (S2, each http-reuse mode), the scaling of
/// req/s from one thread to two at least as good (S1, S2, S3), memory per idle client
/// connection no more (S4), p99 latency no worse (S5).
pub fn goals(results: &Results, scenarios: &[Scenario]) -> Vec<Goal> {
    let mut out = Vec::new();
    for &sc in scenarios {
        let wanted: &[(Metric, &'static str)] = match sc {
            Scenario::S1 | Scenario::S3 => &[
                (Metric::Rps, "req/s at least haproxy's"),
                (Metric::ProxyCpu, "CPU per request at most haproxy's"),
            ],
            Scenario::S2 => &[
                (Metric::Rps, "req/s at least haproxy's"),
                (Metric::ProxyCpu, "CPU per request at most haproxy's"),
                (
                    Metric::ServerConnsPer1k,
                    "server connections opened at most haproxy's",
                ),
            ],
            Scenario::S4 => &[(
                Metric::BytesPerConn,
                "memory per idle client connection at most haproxy's",
            )],
            Scenario::S5 => &[(Metric::P99, "p99 latency no worse than haproxy's")],
        };
        for case in cases(sc) {
            if !(case.targets.contains(&Target::HaproxyRs)
                && case.targets.contains(&Target::Haproxy))
            {
                continue;
            }
            for &(metric, what) in wanted {
                out.push(Goal {
                    scenario: sc,
                    case: case.name.clone(),
                    what,
                    metric,
                    hrs: results.summary(sc, &case.name, Target::HaproxyRs, metric),
                    haproxy: results.summary(sc, &case.name, Target::Haproxy, metric),
                });
            }
        }
        for (one, two) in twins(sc) {
            if !(two.targets.contains(&Target::HaproxyRs) && two.targets.contains(&Target::Haproxy))
            {
                continue;
            }
            let scaling = |t| results.scaling(sc, &one.name, &two.name, t);
            out.push(Goal {
                scenario: sc,
                case: one.name.clone(),
                what: "scaling 1 → 2 threads at least haproxy's",
                metric: Metric::Scaling,
                hrs: scaling(Target::HaproxyRs),
                haproxy: scaling(Target::Haproxy),
            });
        }
    }
    out
}

/// The scaling table of a scenario with two-thread twins: per case and proxy, req/s and
/// CPU per request with one thread and with two, and the scaling (per round, req/s with
/// two threads over req/s with one; median and min–max over the rounds). Empty when the
/// scenario has no twins.
pub fn scaling_table(results: &Results, sc: Scenario) -> String {
    let pairs = twins(sc);
    if pairs.is_empty() {
        return String::new();
    }
    let header: Vec<String> = [
        "case",
        "target",
        "req/s, 1 thread",
        "req/s, 2 threads",
        "scaling",
        "÷ haproxy's",
        "CPU µs/req, 1 thread",
        "CPU µs/req, 2 threads",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut out = table_header(&header, 2);
    for (one, two) in pairs {
        for &target in &two.targets {
            let get = |case: &str, m| {
                results
                    .summary(sc, case, target, m)
                    .map_or_else(|| "–".to_string(), |s| cell(m, &s))
            };
            let mine = results.scaling(sc, &one.name, &two.name, target);
            let theirs = results.scaling(sc, &one.name, &two.name, Target::Haproxy);
            let r = match (mine, theirs) {
                (Some(m), Some(t)) => ratio(m.median, t.median),
                _ => None,
            };
            out.push_str(&table_row(&[
                one.name.clone(),
                target.label().to_string(),
                get(&one.name, Metric::Rps),
                get(&two.name, Metric::Rps),
                mine.map_or_else(|| "–".to_string(), |s| cell(Metric::Scaling, &s)),
                fmt_ratio(r),
                get(&one.name, Metric::ProxyCpu),
                get(&two.name, Metric::ProxyCpu),
            ]));
        }
    }
    out
}

/// haproxy-rs's lock counters per case of a scenario, summed over the rounds: per rank,
/// "contended / acquired (share)". Empty when no haproxy-rs sample carries counters.
pub fn lock_table(results: &Results, sc: Scenario) -> String {
    let rows: Vec<(String, Vec<crate::model::LockCount>)> = cases(sc)
        .into_iter()
        .filter(|c| c.targets.contains(&Target::HaproxyRs))
        .map(|c| {
            let l = results.locks(sc, &c.name, Target::HaproxyRs);
            (c.name, l)
        })
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let Some((_, first)) = rows.first() else {
        return String::new();
    };
    let ranks: Vec<String> = first.iter().map(|l| l.rank.clone()).collect();
    let mut header = vec!["case".to_string()];
    header.extend(ranks.iter().map(|r| format!("{r}: contended / acquired")));
    let mut out = table_header(&header, 1);
    for (name, locks) in &rows {
        let mut row = vec![name.clone()];
        for r in &ranks {
            row.push(match locks.iter().find(|l| &l.rank == r) {
                Some(l) if l.acquired > 0 => format!(
                    "{} / {} ({})",
                    fmt_count(l.contended),
                    fmt_count(l.acquired),
                    fmt_share(l.contended, l.acquired)
                ),
                Some(l) => format!("{} / 0", fmt_count(l.contended)),
                None => "–".to_string(),
            });
        }
        out.push_str(&table_row(&row));
    }
    out
}

/// `part / whole` as a percentage: one decimal from 1 %, two below, "< 0.01 %" for a
/// share too small to show, "0 %" for none.
fn fmt_share(part: u64, whole: u64) -> String {
    if part == 0 || whole == 0 {
        return "0 %".to_string();
    }
    let pct = part as f64 * 100.0 / whole as f64;
    if pct < 0.005 {
        "< 0.01 %".to_string()
    } else if pct >= 1.0 {
        format!("{pct:.1} %")
    } else {
        format!("{pct:.2} %")
    }
}

/// The goals as a markdown table followed by a one-line count.
pub fn goals_table(goals: &[Goal]) -> String {
    let header: Vec<String> = [
        "scenario",
        "case",
        "goal",
        "haproxy-rs",
        "haproxy 2.6",
        "ratio",
        "result",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut out = table_header(&header, 3);
    let mut met = 0;
    for g in goals {
        let fmt = |s: &Option<Summary>| {
            s.as_ref()
                .map_or_else(|| "–".to_string(), |s| cell(g.metric, s))
        };
        let result = match g.verdict() {
            Verdict::Met => {
                met += 1;
                "met".to_string()
            }
            Verdict::Equal => {
                met += 1;
                "met (equal as shown)".to_string()
            }
            Verdict::NotMet { overlap: true } => "**not met** (within the spread)".to_string(),
            Verdict::NotMet { overlap: false } => "**not met**".to_string(),
            Verdict::NoData => "no data".to_string(),
        };
        out.push_str(&table_row(&[
            g.scenario.id().to_string(),
            g.case.clone(),
            format!("{} ({})", g.what, g.metric.header()),
            fmt(&g.hrs),
            fmt(&g.haproxy),
            fmt_ratio(g.ratio()),
            result,
        ]));
    }
    out.push_str(&format!("\n{met} of {} goals met.\n", goals.len()));
    out
}

/// What each scenario's clients did, for the text above its table.
fn scenario_description(sc: Scenario, p: &Params) -> String {
    let d = p.duration;
    match sc {
        Scenario::S1 => format!(
            "`wrk -t {t} -c 50|500 -d {d}s`: HTTP/1.1 keep-alive clients. Proxy CPU = user + \
             system time of the proxy process (nginx: master and worker) over the measured run \
             divided by the requests; backend CPU = the same for the backend nginx worker.",
            t = p.wrk_threads
        ),
        Scenario::S2 => format!(
            "`ab -r -c 50 -t {d} -n {cap}`: HTTP/1.0 without keep-alive, so the client closes \
             after every response and every request arrives on a new client connection; only \
             the proxy's server-side reuse can save a backend connection. Server conns opened = \
             growth of the backend's `stub_status` `accepts` over the measured run (the status \
             request's own connection subtracted), measured after the warm-up (connections \
             already pooled by then count as reused). haproxy-rs and haproxy run with the \
             `http-reuse` mode of the case; nginx has no such mode (upstream `keepalive 64`), \
             and direct opens one backend connection per request by construction.",
            cap = p.ab_cap
        ),
        Scenario::S3 => format!(
            "`h2load -t 1 -c C -m M -D {d}`: HTTP/2 over cleartext with prior knowledge (the \
             plain bind of haproxy and haproxy-rs detects the preface; nginx and the backend on \
             an `http2` listener). The proxies speak HTTP/1.1 to the backend."
        ),
        Scenario::S4 => format!(
            "{n} idle keep-alive client connections ({reason}), each opened with one `GET /` \
             answered in full, then held. RSS = VmRSS of the process holding them (haproxy-rs, \
             haproxy; nginx: its worker; direct: the backend worker) after one warm-up request \
             and again 1 s after the last connection; bytes/conn = the difference / {n}. \
             Backend conns open = the backend's `Active connections` at that moment, the status \
             request's own left out (for direct: the idle clients themselves). \
             nginx allocates its whole connection table (`worker_connections {wc}`) at start, \
             so its bytes/conn leave that part out.",
            n = fmt_num(p.idle_conns as f64),
            reason = p.idle_reason,
            wc = p.worker_connections,
        ),
        Scenario::S5 => format!(
            "`wrk -t 1 -c 10 -d {d}s --latency`: ten keep-alive connections, each sending its \
             next request when the previous answer arrives (a moderate, closed-loop load). \
             p50/p99 from wrk's latency distribution."
        ),
    }
}

/// The generated part of `docs/performance.md` (what goes between the markers): date,
/// machine, parameters, goals, and one table per scenario run, then failed runs if any.
pub fn render_section(results: &Results, machine: &Machine, params: &Params, date: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "_Generated by `hrs-bench` on {date}; everything between the bench markers is \
         rewritten by the next `make bench`._\n\n"
    ));
    s.push_str("### Machine\n\n");
    s.push_str(&format!(
        "{cpu}, {cores} cores, {mem} GiB RAM, Linux {kernel}; file descriptors: soft \
         {soft}, hard {hard}. Load average when the run began: {load} (other programs \
         running on the machine disturb req/s and latency more than CPU per request).\n\n",
        cpu = machine.cpu_model,
        cores = machine.cores,
        mem = fmt_num(machine.mem_total_bytes as f64 / (1u64 << 30) as f64),
        kernel = machine.kernel,
        soft = machine.fd_limit.0,
        hard = machine.fd_limit.1,
        load = machine.load_avg,
    ));
    s.push_str("| program | version |\n|---|---|\n");
    for (name, version) in &machine.versions {
        s.push_str(&table_row(&[name.clone(), format!("`{version}`")]));
    }
    s.push_str(&table_row(&[
        "haproxy-rs source".to_string(),
        format!(
            "commit `{}` at run time; binary built {}",
            machine.commit, machine.proxy_built
        ),
    ]));
    s.push_str("\n### Parameters\n\n");
    s.push_str(&format!(
        "- {rounds} round{plural}. In each round, for each case, every target runs once, one after \
         the other (A B C D, the first one rotating from round to round), each in a fresh \
         process: {warmup} s warm-up run (not measured), then the measured {d} s run.\n\
         - Backend: nginx, 1 worker, `return 200` of a 17-byte body, `access_log off`, \
         keep-alive without a request limit.\n\
         - haproxy-rs and haproxy 2.6: the same configuration text, `nbthread` written \
         explicitly, `maxconn {mc}` (S4: {mci}), `mode http`, timeouts client/server 30 s, \
         connect 5 s, one `server`; `http-reuse` default (`safe`) except in S2.\n\
         - nginx proxy: a second nginx, as many workers as the case has threads, upstream \
         `keepalive 64`, `proxy_http_version 1.1`, empty `Connection` header; \
         `worker_connections {wc}` for both nginx.\n\
         - Threads: every case without \"(2 threads)\" in its name runs `nbthread 1` (nginx: \
         `worker_processes 1`), as every earlier version of these tables did (the \
         configuration has always said `nbthread 1`; both haproxy 2.6 and haproxy-rs would \
         otherwise start one thread per CPU, {cores} here). The \"(2 threads)\" twins of S1, \
         S2 and S3 run the same clients against `nbthread 2` (nginx: `worker_processes 2`); \
         S3 with a single client connection has no twin (one connection is served by one \
         thread in every proxy). On this {cores}-core machine the clients, the backend and \
         the proxy share the cores, so a second proxy thread mostly takes CPU time from \
         them: the two-thread req/s and scaling are bounded by that, and CPU per request is \
         the robust figure.\n\
         - Clients on the same machine: wrk `-t {t}`, h2load `-t 1`, ab; they share the \
         {cores} cores with the proxy and the backend.\n\n",
        rounds = params.rounds,
        plural = if params.rounds == 1 { "" } else { "s" },
        warmup = params.warmup,
        d = params.duration,
        mc = params.maxconn,
        mci = params.maxconn_idle,
        wc = params.worker_connections,
        t = params.wrk_threads,
        cores = machine.cores,
    ));
    s.push_str(
        "Cells: median over the rounds, (min–max) when they differ. `÷ haproxy`: the \
         target's median over upstream haproxy's in the same case: above 1 is better for \
         req/s, below 1 is better for everything else. ⚠ marks failed requests or runs.\n\n",
    );
    s.push_str(
        "### Goals (haproxy-rs against haproxy 2.6, same thread count, same run)\n\n\
         Scaling: per round, req/s with 2 threads over req/s with 1 thread in the same case; \
         median (min–max) over the rounds.\n\n",
    );
    s.push_str(&goals_table(&goals(results, &params.scenarios)));
    for &sc in &params.scenarios {
        s.push_str(&format!("\n### {} — {}\n\n", sc.id(), sc.title()));
        s.push_str(&scenario_description(sc, params));
        s.push_str("\n\n");
        s.push_str(&scenario_table(results, sc));
        let scaling = scaling_table(results, sc);
        if !scaling.is_empty() {
            s.push_str(&format!(
                "\n{} scaling from 1 to 2 threads (`scaling`: per round, req/s with 2 threads \
                 over req/s with 1; `÷ haproxy's`: over haproxy 2.6's scaling):\n\n",
                sc.id()
            ));
            s.push_str(&scaling);
        }
        let locks = lock_table(results, sc);
        if !locks.is_empty() {
            s.push_str(&format!(
                "\n{} lock counters of haproxy-rs (`HRS_LOCK_STATS=1`, printed at exit; summed \
                 over the rounds, warm-up included; contended = the lock was held by another \
                 thread):\n\n",
                sc.id()
            ));
            s.push_str(&locks);
        }
    }
    if !results.failures.is_empty() {
        s.push_str("\n### Failed runs\n\n");
        for f in &results.failures {
            let first = f.message.lines().next().unwrap_or("");
            s.push_str(&format!(
                "- {} {} {} round {}: {}\n",
                f.scenario.id(),
                f.case,
                f.target.key(),
                f.round,
                first
            ));
        }
    }
    s
}

/// `doc` with the text between [`BEGIN`] and [`END`] replaced by `inner`. When the
/// markers are missing (or out of order), they are appended at the end with `inner`
/// between them. Everything outside the markers is kept byte for byte.
pub fn replace_section(doc: &str, inner: &str) -> String {
    let inner = inner.trim_end();
    if let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) {
        if b < e {
            return format!("{}\n{}\n{}", &doc[..b + BEGIN.len()], inner, &doc[e..]);
        }
    }
    let mut out = doc.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{BEGIN}\n{inner}\n{END}\n"));
    out
}

/// The report as written when `docs/performance.md` does not exist yet: the hand-written
/// frame around an empty generated section.
pub fn doc_template() -> String {
    format!(
        "# Performance

haproxy-rs side by side with upstream haproxy 2.6 and nginx, all in front of the same
nginx backend, on the same machine and in the same run. The numbers are produced by
`tools/bench` (`hrs-bench`); only the part between the bench markers below is generated,
the rest of this file is written by hand and kept as is.

## How to reproduce

```sh
make bench                                   # installs wrk, h2load, ab, nginx, haproxy if missing
make bench BENCH_ARGS='--only S2 --rounds 5' # one scenario, more rounds (does not touch this file)
```

`make bench` builds haproxy-rs in release mode, runs every scenario (3 alternated rounds
by default), prints the tables, writes `target/bench/results.json` (every sample, the
medians, the machine) and rewrites the generated section of this file. Everything it
starts is stopped at the end, also on Ctrl-C. `cargo run --release -p hrs-bench -- --help`
lists the options.

## Reading the tables

Each target runs once per case and round, in turn, in a fresh process, after an unmeasured
warm-up. Cells give the median over the rounds and, in parentheses, the smallest and largest
value. On a small or shared machine req/s moves a lot from run to run; CPU time per request
(user + system of the proxy process divided by the requests it served) is the figure least
disturbed by that noise, since the clients, the backend and the proxy compete for the same
cores. `direct` is the client talking to the backend itself: the limit no proxy can exceed.

## Results

{BEGIN}
{END}
"
    )
}

/// The results file: parameters, machine, every sample, failures, and the summaries
/// (median, min, max, spread, ratio to haproxy) per scenario, case, target and metric,
/// plus the goals.
pub fn to_json(results: &Results, machine: &Machine, params: &Params, date: &str) -> Json {
    let machine_json = Json::obj()
        .set("cpu_model", machine.cpu_model.as_str())
        .set("cores", machine.cores)
        .set("mem_total_bytes", machine.mem_total_bytes)
        .set("kernel", machine.kernel.as_str())
        .set("fd_limit_soft", machine.fd_limit.0)
        .set("fd_limit_hard", machine.fd_limit.1)
        .set("load_avg_at_start", machine.load_avg.as_str())
        .set("commit", machine.commit.as_str())
        .set("proxy_built", machine.proxy_built.as_str())
        .set(
            "versions",
            machine
                .versions
                .iter()
                .fold(Json::obj(), |o, (k, v)| o.set(k, v.as_str())),
        );
    let params_json = Json::obj()
        .set("rounds", params.rounds)
        .set("duration_s", params.duration)
        .set("warmup_s", params.warmup)
        .set("wrk_threads", params.wrk_threads)
        .set("idle_conns", params.idle_conns)
        .set("idle_conns_reason", params.idle_reason.as_str())
        .set("maxconn", params.maxconn)
        .set("maxconn_idle", params.maxconn_idle)
        .set("nginx_worker_connections", params.worker_connections)
        .set("ab_cap", params.ab_cap)
        .set(
            "scenarios",
            params
                .scenarios
                .iter()
                .map(|s| Json::from(s.id()))
                .collect::<Vec<_>>(),
        );
    let samples: Vec<Json> = results
        .samples
        .iter()
        .map(|s| {
            Json::obj()
                .set("scenario", s.scenario.id())
                .set("case", s.case.as_str())
                .set("target", s.target.key())
                .set("round", s.round)
                .set(
                    "metrics",
                    s.metrics
                        .iter()
                        .fold(Json::obj(), |o, (m, v)| o.set(m.key(), *v)),
                )
                .set("errors", s.errors)
                .set("error_detail", s.error_detail.as_str())
                .set(
                    "locks",
                    s.locks
                        .iter()
                        .map(|l| {
                            Json::obj()
                                .set("rank", l.rank.as_str())
                                .set("acquired", l.acquired)
                                .set("contended", l.contended)
                        })
                        .collect::<Vec<_>>(),
                )
        })
        .collect();
    let failures: Vec<Json> = results
        .failures
        .iter()
        .map(|f| {
            Json::obj()
                .set("scenario", f.scenario.id())
                .set("case", f.case.as_str())
                .set("target", f.target.key())
                .set("round", f.round)
                .set("message", f.message.as_str())
        })
        .collect();
    let mut summaries = Vec::new();
    for &sc in &params.scenarios {
        for case in cases(sc) {
            for &target in &case.targets {
                for col in columns(sc) {
                    let Some(s) = results.summary(sc, &case.name, target, col.metric) else {
                        continue;
                    };
                    let theirs = results.summary(sc, &case.name, Target::Haproxy, col.metric);
                    summaries.push(
                        Json::obj()
                            .set("scenario", sc.id())
                            .set("case", case.name.as_str())
                            .set("target", target.key())
                            .set("metric", col.metric.key())
                            .set("n", s.n)
                            .set("median", s.median)
                            .set("min", s.min)
                            .set("max", s.max)
                            .set("spread_pct", s.spread_pct())
                            .set(
                                "ratio_to_haproxy",
                                theirs.and_then(|t| ratio(s.median, t.median)),
                            )
                            .set("errors", results.errors(sc, &case.name, target)),
                    );
                }
            }
        }
    }
    let mut scaling = Vec::new();
    for &sc in &params.scenarios {
        for (one, two) in twins(sc) {
            for &target in &two.targets {
                let Some(s) = results.scaling(sc, &one.name, &two.name, target) else {
                    continue;
                };
                scaling.push(
                    Json::obj()
                        .set("scenario", sc.id())
                        .set("case_1_thread", one.name.as_str())
                        .set("case_2_threads", two.name.as_str())
                        .set("target", target.key())
                        .set("n", s.n)
                        .set("median", s.median)
                        .set("min", s.min)
                        .set("max", s.max),
                );
            }
        }
    }
    let goals_json: Vec<Json> = goals(results, &params.scenarios)
        .iter()
        .map(|g| {
            let verdict = match g.verdict() {
                Verdict::Met => "met",
                Verdict::Equal => "met (equal as shown)",
                Verdict::NotMet { overlap: true } => "not met (within the spread)",
                Verdict::NotMet { overlap: false } => "not met",
                Verdict::NoData => "no data",
            };
            Json::obj()
                .set("scenario", g.scenario.id())
                .set("case", g.case.as_str())
                .set("goal", g.what)
                .set("metric", g.metric.key())
                .set("haproxy_rs_median", g.hrs.map(|s| s.median))
                .set("haproxy_median", g.haproxy.map(|s| s.median))
                .set("ratio", g.ratio())
                .set("result", verdict)
        })
        .collect();
    Json::obj()
        .set("tool", "hrs-bench")
        .set("date", date)
        .set("machine", machine_json)
        .set("parameters", params_json)
        .set("goals", goals_json)
        .set("summaries", summaries)
        .set("scaling", scaling)
        .set("samples", samples)
        .set("failures", failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Failure, Sample};

    fn sample(sc: Scenario, case: &str, target: Target, round: u32, m: &[(Metric, f64)]) -> Sample {
        Sample {
            scenario: sc,
            case: case.into(),
            target,
            round,
            metrics: m.to_vec(),
            errors: 0,
            error_detail: String::new(),
            locks: vec![],
        }
    }

    fn s1_results() -> Results {
        let mut r = Results::default();
        for (round, (h, u)) in [(100.0, 80.0), (120.0, 90.0), (110.0, 85.0)]
            .into_iter()
            .enumerate()
        {
            let round = round as u32 + 1;
            r.samples.push(sample(
                Scenario::S1,
                "-c 50",
                Target::HaproxyRs,
                round,
                &[(Metric::Rps, h), (Metric::ProxyCpu, 10.0)],
            ));
            r.samples.push(sample(
                Scenario::S1,
                "-c 50",
                Target::Haproxy,
                round,
                &[(Metric::Rps, u), (Metric::ProxyCpu, 8.0)],
            ));
        }
        r
    }

    #[test]
    fn table_cells_ratios_and_failures() {
        let mut r = s1_results();
        r.samples[0].errors = 3;
        r.failures.push(Failure {
            scenario: Scenario::S1,
            case: "-c 50".into(),
            target: Target::Nginx,
            round: 1,
            message: "nginx exited".into(),
        });
        let t = scenario_table(&r, Scenario::S1);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| case | target | req/s | ÷ haproxy | proxy CPU µs/req | ÷ haproxy | backend CPU µs/req | errors |"
        );
        assert_eq!(lines[1], "|---|---|---:|---:|---:|---:|---:|---:|");
        assert_eq!(
            lines[2],
            "| -c 50 | haproxy-rs | 110 (100–120) | 1.29 | 10.0 | 1.25 | – | ⚠ 3 |"
        );
        assert_eq!(
            lines[3],
            "| -c 50 | haproxy 2.6 | 85.0 (80.0–90.0) | 1.00 | 8.00 | 1.00 | – | 0 |"
        );
        assert_eq!(
            lines[4],
            "| -c 50 | nginx proxy | failed | – | failed | – | failed | ⚠ 1 run(s) failed |"
        );
        assert_eq!(
            lines[5],
            "| -c 50 | direct (limit) | – | – | – | – | – | 0 |"
        );
        // two cases of four targets and their twins of three, plus the header lines
        assert_eq!(lines.len(), 16);
        assert_eq!(
            lines[6],
            "| -c 50 (2 threads) | haproxy-rs | – | – | – | – | – | 0 |"
        );
    }

    #[test]
    fn goal_verdicts() {
        let r = s1_results();
        let g = goals(&r, &[Scenario::S1]);
        // four cases (two and their twins) of two goals, and two scaling goals
        assert_eq!(g.len(), 10);
        assert_eq!(g[0].verdict(), Verdict::Met); // req/s 110 >= 85
        assert_eq!(g[1].verdict(), Verdict::NotMet { overlap: false }); // CPU 10 > 8
        assert_eq!(g[2].case, "-c 50 (2 threads)");
        assert_eq!(g[2].verdict(), Verdict::NoData); // the twin not measured
        assert_eq!(g[4].verdict(), Verdict::NoData); // -c 500 not measured
        assert_eq!(
            (g[8].case.as_str(), g[8].metric),
            ("-c 50", Metric::Scaling)
        );
        let t = goals_table(&g);
        assert!(t.starts_with("| scenario | case | goal | haproxy-rs | haproxy 2.6 | ratio | result |\n|---|---|---|---:|---:|---:|---:|\n"));
        assert!(t.contains("| S1 | -c 50 | req/s at least haproxy's (req/s) | 110 (100–120) | 85.0 (80.0–90.0) | 1.29 | met |"));
        assert!(t.contains("| **not met** |"));
        assert!(t.ends_with("\n1 of 10 goals met.\n"));
        // S2: three http-reuse modes and their twins with three goals each, a scaling goal
        // per mode; the nginx/direct case and its twin none
        assert_eq!(goals(&r, &[Scenario::S2]).len(), 21);
        assert_eq!(goals(&r, &[Scenario::S4, Scenario::S5]).len(), 2);
    }

    #[test]
    fn overlapping_ranges_are_said() {
        let g = Goal {
            scenario: Scenario::S5,
            case: "-c 10".into(),
            what: "p99",
            metric: Metric::P99,
            hrs: Summary::of(&[110.0, 100.0, 130.0]),
            haproxy: Summary::of(&[95.0, 105.0, 100.0]),
        };
        assert_eq!(g.verdict(), Verdict::NotMet { overlap: true });
        assert!(goals_table(&[g]).contains("**not met** (within the spread)"));
    }

    #[test]
    fn equal_as_shown_counts_as_met() {
        let g = Goal {
            scenario: Scenario::S2,
            case: "http-reuse never".into(),
            what: "server connections",
            metric: Metric::ServerConnsPer1k,
            hrs: Summary::of(&[1000.85]),
            haproxy: Summary::of(&[1000.78]),
        };
        assert_eq!(g.verdict(), Verdict::Equal);
        assert!(goals_table(&[g]).contains("| met (equal as shown) |\n\n1 of 1 goals met."));
    }

    #[test]
    fn section_replacement_keeps_the_rest() {
        let doc =
            format!("# Title\n\nhand written\n\n{BEGIN}\nold\nlines\n{END}\n\n## After\nkept\n");
        let new = replace_section(&doc, "new table\n\n");
        assert_eq!(
            new,
            format!("# Title\n\nhand written\n\n{BEGIN}\nnew table\n{END}\n\n## After\nkept\n")
        );
        // idempotent
        assert_eq!(replace_section(&new, "new table"), new);
    }

    #[test]
    fn section_appended_without_markers() {
        assert_eq!(
            replace_section("# T\nno markers", "x"),
            format!("# T\nno markers\n\n{BEGIN}\nx\n{END}\n")
        );
        assert_eq!(replace_section("", "x"), format!("{BEGIN}\nx\n{END}\n"));
        // markers in the wrong order are not trusted
        let odd = format!("{END}\n{BEGIN}\n");
        assert!(replace_section(&odd, "x").ends_with(&format!("{BEGIN}\nx\n{END}\n")));
        // the template has exactly one, empty, section
        let t = doc_template();
        assert_eq!(t.matches(BEGIN).count(), 1);
        assert!(t.contains(&format!("{BEGIN}\n{END}\n")));
        assert!(replace_section(&t, "x").contains("## Results\n\n<!-- bench:begin -->\nx\n"));
    }

    fn machine() -> Machine {
        Machine {
            cpu_model: "Test CPU".into(),
            cores: 2,
            mem_total_bytes: 4 << 30,
            kernel: "6.1".into(),
            fd_limit: (20000, 20000),
            load_avg: "0.10 0.20 0.30".into(),
            versions: vec![("haproxy".into(), "HAProxy version 2.6.12".into())],
            commit: "abc1234".into(),
            proxy_built: "2026-01-01 00:00 UTC".into(),
        }
    }

    fn params(scenarios: Vec<Scenario>) -> Params {
        Params {
            rounds: 3,
            duration: 5,
            warmup: 1.0,
            wrk_threads: 1,
            idle_conns: 9800,
            idle_reason: "fd hard limit 20000".into(),
            maxconn: 4000,
            maxconn_idle: 9850,
            worker_connections: 10800,
            ab_cap: 1_000_000,
            scenarios,
        }
    }

    #[test]
    fn section_mentions_everything() {
        let r = s1_results();
        let s = render_section(
            &r,
            &machine(),
            &params(vec![Scenario::S1, Scenario::S4]),
            "2026-01-01 00:00 UTC",
        );
        assert!(s.contains("2026-01-01 00:00 UTC"));
        assert!(s.contains("Test CPU, 2 cores, 4.00 GiB RAM, Linux 6.1"));
        assert!(s.contains("| haproxy | `HAProxy version 2.6.12` |"));
        assert!(s.contains(
            "| haproxy-rs source | commit `abc1234` at run time; binary built 2026-01-01 00:00 UTC |"
        ));
        assert!(s.contains("### S1 — HTTP/1.1 keep-alive clients (wrk)"));
        assert!(s.contains("### S4 —"));
        assert!(s.contains("9,800 idle keep-alive client connections (fd hard limit 20000)"));
        assert!(!s.contains("### S2"));
        assert!(s.contains("1 of 11 goals met."));
        assert!(s.contains("`nbthread 1`"));
        assert!(s.contains("S1 scaling from 1 to 2 threads"));
        assert!(!s.contains("lock counters"));
    }

    /// S1 with twins: haproxy-rs 100 -> 150 and 120 -> 240 req/s (scaling 1.5, 2.0),
    /// haproxy 100 -> 200 twice (2.0); lock counters on haproxy-rs's twin.
    fn twin_results() -> Results {
        let mut r = Results::default();
        for (round, (h1, h2)) in [(100.0, 150.0), (120.0, 240.0)].into_iter().enumerate() {
            let round = round as u32 + 1;
            let m = |rps| [(Metric::Rps, rps), (Metric::ProxyCpu, 10.0)];
            r.samples.push(sample(
                Scenario::S1,
                "-c 50",
                Target::HaproxyRs,
                round,
                &m(h1),
            ));
            let mut t = sample(
                Scenario::S1,
                "-c 50 (2 threads)",
                Target::HaproxyRs,
                round,
                &m(h2),
            );
            t.locks = vec![
                crate::model::LockCount {
                    rank: "Lbprm".into(),
                    acquired: 500_000,
                    contended: 1_000,
                },
                crate::model::LockCount {
                    rank: "Inbox".into(),
                    acquired: 10,
                    contended: 0,
                },
            ];
            r.samples.push(t);
            r.samples.push(sample(
                Scenario::S1,
                "-c 50",
                Target::Haproxy,
                round,
                &m(100.0),
            ));
            r.samples.push(sample(
                Scenario::S1,
                "-c 50 (2 threads)",
                Target::Haproxy,
                round,
                &m(200.0),
            ));
        }
        r
    }

    #[test]
    fn scaling_table_and_goal() {
        let r = twin_results();
        let t = scaling_table(&r, Scenario::S1);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| case | target | req/s, 1 thread | req/s, 2 threads | scaling | ÷ haproxy's | CPU µs/req, 1 thread | CPU µs/req, 2 threads |"
        );
        assert_eq!(
            lines[2],
            "| -c 50 | haproxy-rs | 110 (100–120) | 195 (150–240) | 1.75 (1.50–2.00) | 0.88 | 10.0 | 10.0 |"
        );
        assert_eq!(
            lines[3],
            "| -c 50 | haproxy 2.6 | 100 | 200 | 2.00 | 1.00 | 10.0 | 10.0 |"
        );
        assert_eq!(lines[4], "| -c 50 | nginx proxy | – | – | – | – | – | – |");
        // -c 50 and -c 500, three proxies each, plus the header lines
        assert_eq!(lines.len(), 8);
        assert_eq!(scaling_table(&r, Scenario::S5), "");
        let g = goals(&r, &[Scenario::S1]);
        let sg = g.iter().find(|g| g.metric == Metric::Scaling).unwrap();
        assert_eq!(sg.case, "-c 50");
        assert_eq!(sg.verdict(), Verdict::NotMet { overlap: true }); // 1.75 < 2.00
        assert!(goals_table(&g).contains(
            "| S1 | -c 50 | scaling 1 → 2 threads at least haproxy's (req/s 2 threads ÷ 1 thread) | 1.75 (1.50–2.00) | 2.00 | 0.88 | **not met** (within the spread) |"
        ));
    }

    #[test]
    fn lock_table_sums_rounds() {
        let r = twin_results();
        let t = lock_table(&r, Scenario::S1);
        assert_eq!(
            t,
            "| case | Lbprm: contended / acquired | Inbox: contended / acquired |\n\
             |---|---:|---:|\n\
             | -c 50 (2 threads) | 2,000 / 1,000,000 (0.20 %) | 0 / 20 (0 %) |\n"
        );
        assert_eq!(lock_table(&s1_results(), Scenario::S1), "");
        assert_eq!(fmt_share(3, 200), "1.5 %");
        assert_eq!(fmt_share(0, 0), "0 %");
        assert_eq!(fmt_share(3, 118_682), "< 0.01 %");
        assert_eq!(fmt_share(6, 74_178), "0.01 %");
    }

    #[test]
    fn json_has_samples_summaries_goals() {
        let r = s1_results();
        let text = to_json(&r, &machine(), &params(vec![Scenario::S1]), "d").to_pretty();
        assert!(text.contains("\"tool\": \"hrs-bench\""));
        assert_eq!(text.matches("\"round\":").count(), 6);
        assert!(text.contains("\"metric\": \"req_per_s\""));
        assert!(text.contains("\"median\": 110"));
        assert!(text.contains("\"result\": \"met\""));
        assert!(text.contains("\"failures\": []"));
    }
}
