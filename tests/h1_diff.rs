//! Differential HTTP/1 proxying: every scenario of `tests/h1/*.scn` runs against upstream
//! `haproxy` and against `haproxy-rs`, and the two normalized transcripts (responses the
//! client got, requests each server got and on which of its connections, and when the
//! scenario asks, CLI replies and log lines) must be equal, or
//! equal to the scenario's pinned `[differs]` transcript. The format and the transcript are
//! documented in `tests/h1/README.md`; the machinery is in `tests/common/scenario*`.
//!
//! Environment:
//! - `HRS_DIFF_FILTER=sub`: only scenarios whose name contains `sub`;
//! - `HRS_DIFF_ONLY=haproxy` (or `haproxy-rs`): run one side only, `HRS_DIFF_REPEAT` times
//!   (default 3), check the transcript is stable and print it (to stderr, uncaptured);
//! - `HRS_DIFF_REPEAT=n`: runs per side (default 1, or 3 with `HRS_DIFF_ONLY`);
//! - `HRS_DIFF_JOBS=n`: scenarios run in parallel (default 8);
//! - `HRS_DIFF_OUT=dir`: write each transcript to `dir/NAME.haproxy.txt` / `.haproxy-rs.txt`;
//! - `HRS_DIFF_KEEP=1`: keep each run's temp directory (config, proxy output).
//!
//! Without upstream installed the differential half is skipped: haproxy-rs still runs every
//! scenario, must not panic, and must match the pinned `[differs]` transcripts.

mod common;

use common::scenario::{diff, run, Scenario};
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Scenarios run in parallel unless `HRS_DIFF_JOBS` says otherwise.
const DEFAULT_JOBS: usize = 8;
/// The corpus must not shrink below this.
const MIN_SCENARIOS: usize = 70;

/// Which sides run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Both,
    Upstream,
    Ours,
}

/// Settings read from the environment.
struct Settings {
    filter: Option<String>,
    only: Only,
    repeat: usize,
    jobs: usize,
    out: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let only = match var("HRS_DIFF_ONLY").as_deref() {
            None => Only::Both,
            Some("haproxy") | Some("upstream") => Only::Upstream,
            Some("haproxy-rs") | Some("ours") => Only::Ours,
            Some(o) => panic!("HRS_DIFF_ONLY must be 'haproxy' or 'haproxy-rs', not {o:?}"),
        };
        let num = |k: &str, d: usize| {
            var(k).map_or(d, |v| {
                v.parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| panic!("{k} must be a positive number, not {v:?}"))
            })
        };
        Settings {
            filter: var("HRS_DIFF_FILTER"),
            only,
            repeat: num("HRS_DIFF_REPEAT", if only == Only::Both { 1 } else { 3 }),
            jobs: num("HRS_DIFF_JOBS", DEFAULT_JOBS),
            out: var("HRS_DIFF_OUT").map(PathBuf::from),
        }
    }
}

/// The verdict on one scenario.
struct Report {
    name: String,
    ok: bool,
    /// One word: ok, DIFFERS, UNSTABLE, PANIC, BAD-SCENARIO.
    verdict: &'static str,
    /// What to print: transcripts, diff, proxy output.
    details: String,
}

impl Report {
    fn new(name: &str) -> Report {
        Report {
            name: name.to_string(),
            ok: true,
            verdict: "ok",
            details: String::new(),
        }
    }

    fn fail(&mut self, verdict: &'static str, details: String) {
        if self.ok {
            self.ok = false;
            self.verdict = verdict;
        }
        self.details.push_str(&details);
    }
}

/// Runs `sc` `n` times against `bin`; returns the first outcome and, when a later run
/// differs, a report of the instability.
fn run_stable(sc: &Scenario, bin: &Path, side: &str, n: usize) -> (run::Outcome, Option<String>) {
    let first = run::run(sc, bin, side);
    for k in 2..=n {
        let again = run::run(sc, bin, side);
        if let Some(d) = diff::diff(&first.transcript, &again.transcript) {
            let msg = format!(
                "---- {side}: run {k} differs from run 1 (- run 1, + run {k}):\n{d}\
                 ---- {side}: run 1 transcript:\n{}",
                first.transcript
            );
            return (first, Some(msg));
        }
    }
    (first, None)
}

/// Writes a transcript to `HRS_DIFF_OUT` if set.
fn save(st: &Settings, name: &str, side: &str, transcript: &str) {
    if let Some(dir) = &st.out {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(dir.join(format!("{name}.{side}.txt")), transcript);
    }
}

/// Did haproxy-rs panic (its output says so)?
fn panicked(o: &run::Outcome) -> bool {
    o.log_tail.contains("panicked at")
}

fn check(sc: &Scenario, up: Option<&Path>, st: &Settings) -> Report {
    let mut r = Report::new(&sc.name);
    let head = format!("==== {}.scn: {}\n", sc.name, sc.title);

    let upstream = match (up, st.only) {
        (Some(bin), Only::Both | Only::Upstream) => {
            let (o, unstable) = run_stable(sc, bin, "haproxy", st.repeat);
            save(st, &sc.name, "haproxy", &o.transcript);
            if o.transcript.starts_with("--- proxy exited early") {
                r.fail(
                    "BAD-SCENARIO",
                    format!(
                        "{head}haproxy does not run this config (config checks belong to \
                         tests/cfg/); its output:\n{}\n",
                        o.log_tail
                    ),
                );
                return r;
            }
            if let Some(msg) = unstable {
                r.fail("UNSTABLE", format!("{head}{msg}"));
            }
            if st.only == Only::Upstream {
                print_now(&format!("{head}---- haproxy transcript:\n{}", o.transcript));
                return r;
            }
            Some(o)
        }
        _ => None,
    };
    if r.verdict == "UNSTABLE" {
        return r;
    }

    let (ours, unstable) = run_stable(sc, &hrs(), "haproxy-rs", st.repeat);
    save(st, &sc.name, "haproxy-rs", &ours.transcript);
    if let Some(msg) = unstable {
        r.fail("UNSTABLE", format!("{head}{msg}"));
    }
    if st.only == Only::Ours {
        print_now(&format!(
            "{head}---- haproxy-rs transcript:\n{}",
            ours.transcript
        ));
    }
    if panicked(&ours) {
        r.fail(
            "PANIC",
            format!(
                "{head}---- haproxy-rs panicked; its output (last lines):\n{}\n",
                ours.log_tail
            ),
        );
    }
    let (expected, label) = match (&sc.differs, &upstream) {
        (Some(d), _) => (&d.transcript, format!("pinned difference: {}", d.reason)),
        (None, Some(u)) => (&u.transcript, "haproxy".to_string()),
        (None, None) => return r,
    };
    if let (Some(d), Some(u)) = (&sc.differs, &upstream) {
        if d.transcript == u.transcript {
            r.fail(
                "BAD-SCENARIO",
                format!("{head}the [differs] transcript equals upstream's: drop the section\n"),
            );
        }
    }
    if let Some(d) = diff::diff(expected, &ours.transcript) {
        r.fail(
            "DIFFERS",
            format!(
                "{head}---- expected ({label}):\n{expected}\
                 ---- haproxy-rs:\n{}\
                 ---- diff (- expected, + haproxy-rs):\n{d}\
                 ---- haproxy-rs output (last lines):\n{}\n",
                ours.transcript, ours.log_tail
            ),
        );
    }
    r
}

/// Prints to the real stderr, past the test harness's capture (for `HRS_DIFF_ONLY`).
fn print_now(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.write_all(b"\n");
}

/// Every `*.scn` of `tests/h1`, sorted, with its name.
fn scenario_files() -> Vec<(String, PathBuf)> {
    let dir = tests_dir().join("h1");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    v.sort();
    v
}

#[test]
fn h1_scenarios_match_upstream() {
    let st = Settings::from_env();
    let files = scenario_files();
    if st.filter.is_none() {
        assert!(
            files.len() >= MIN_SCENARIOS,
            "the corpus must hold at least {MIN_SCENARIOS} scenarios, found {}",
            files.len()
        );
    }
    let selected: Vec<&(String, PathBuf)> = files
        .iter()
        .filter(|(n, _)| match &st.filter {
            Some(f) => n.contains(f.as_str()),
            None => true,
        })
        .collect();
    assert!(!selected.is_empty(), "no scenario matches HRS_DIFF_FILTER");

    let up = upstream("h1_scenarios_match_upstream");
    if up.is_none() {
        assert!(
            st.only != Only::Upstream,
            "HRS_DIFF_ONLY=haproxy needs haproxy installed"
        );
    }

    let next = Mutex::new(0usize);
    let reports: Mutex<Vec<(usize, Report)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..st.jobs.min(selected.len()) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some((name, path)) = selected.get(i) else {
                    break;
                };
                let rep = match Scenario::load(path) {
                    Ok(sc) => check(&sc, up.as_deref(), &st),
                    Err(e) => {
                        let mut r = Report::new(name);
                        r.fail("BAD-SCENARIO", format!("==== {name}.scn: {e}\n"));
                        r
                    }
                };
                reports.lock().unwrap().push((i, rep));
            });
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by_key(|(i, _)| *i);

    let failed: Vec<&Report> = reports.iter().map(|(_, r)| r).filter(|r| !r.ok).collect();
    let mut summary = String::new();
    for (_, r) in &reports {
        summary.push_str(&format!("{:>12}  {}\n", r.verdict, r.name));
    }
    for r in &failed {
        eprintln!("{}", r.details);
    }
    eprintln!("{summary}");
    if st.only != Only::Both {
        print_now(&summary);
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed: {}",
        failed.len(),
        reports.len(),
        failed
            .iter()
            .map(|r| format!("{} ({})", r.name, r.verdict))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
