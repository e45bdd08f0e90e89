//! HTTP/1 proxying against recorded transcripts: every scenario of `tests/h1/*.scn` runs
//! against `haproxy-rs`, and, when it is installed, against upstream `haproxy`. Each
//! scenario carries upstream's normalized transcript (responses the client got, requests
//! each server got and on which of its connections, and when the scenario asks, CLI replies
//! and log lines) in its `[expect]` section, recorded once and reviewed. haproxy-rs's
//! transcript must equal the scenario's pinned `[differs]` transcript if it has one, else
//! `[expect]`; upstream's must equal `[expect]`, so a change on either side is noticed. The
//! format and the transcript are documented in `tests/h1/README.md`; the machinery is in
//! `tests/common/scenario*`.
//!
//! Environment. The knobs that narrow the run or rewrite the corpus go through
//! [`knob`] (refused under CI's `HRS_REQUIRE_UPSTREAM`):
//! - `HRS_DIFF_FILTER=sub`: only scenarios whose name contains `sub`;
//! - `HRS_DIFF_ONLY=haproxy` (or `haproxy-rs`): run one side only, `HRS_DIFF_REPEAT` times
//!   (default 3), check the transcript is stable and print it (to stderr, uncaptured);
//! - `HRS_DIFF_BLESS=1`: run upstream 3 times (or `HRS_DIFF_REPEAT`, if more) per scenario
//!   and, when the runs agree, write the transcript into the file's `[expect]` section.
//!
//! The others cannot reduce what is checked, so CI may set them (plain variables):
//! - `HRS_DIFF_REPEAT=n`: runs per side (default 1, or 3 with `HRS_DIFF_ONLY`); at least 1,
//!   so it only adds runs (each must give the same transcript);
//! - `HRS_DIFF_JOBS=n`: scenarios run in parallel (default 8); every scenario still runs;
//! - `HRS_DIFF_OUT=dir`: also write each transcript to `dir/NAME.haproxy.txt` / `.haproxy-rs.txt`;
//! - `HRS_DIFF_KEEP=1`: keep each run's temp directory (config, proxy output).
//!
//! Without upstream installed, haproxy-rs is still checked on every scenario against the
//! records, and the test says how many scenarios it checked on our side only.

mod common;

use common::scenario::{diff, run, with_expect, Scenario};
use common::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Scenarios run in parallel unless `HRS_DIFF_JOBS` says otherwise.
const DEFAULT_JOBS: usize = 8;
/// Scenarios in `tests/h1`: update it with the corpus, so that it cannot shrink unseen.
const SCENARIOS: usize = 221;
/// Upstream runs that must agree before a transcript is recorded.
const BLESS_RUNS: usize = 3;
/// The test's name, for the reference's messages.
const TEST: &str = "h1_scenarios_match_upstream";

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
    bless: bool,
    repeat: usize,
    jobs: usize,
    out: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> Settings {
        // not narrowing: plain variables, allowed under CI
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let only = match knob("HRS_DIFF_ONLY").as_deref() {
            None => Only::Both,
            Some("haproxy") | Some("upstream") => Only::Upstream,
            Some("haproxy-rs") | Some("ours") => Only::Ours,
            Some(o) => panic!("HRS_DIFF_ONLY must be 'haproxy' or 'haproxy-rs', not {o:?}"),
        };
        let bless = knob_on("HRS_DIFF_BLESS");
        assert!(
            !(bless && only != Only::Both),
            "HRS_DIFF_BLESS and HRS_DIFF_ONLY do not go together"
        );
        let num = |k: &str, d: usize| {
            var(k).map_or(d, |v| {
                v.parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| panic!("{k} must be a positive number, not {v:?}"))
            })
        };
        Settings {
            filter: knob("HRS_DIFF_FILTER"),
            only,
            bless,
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
    /// One word: ok, recorded, DIFFERS, UPSTREAM-DIFFERS, UNSTABLE, PANIC, BAD-SCENARIO.
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

/// Runs upstream on `sc` and checks its transcript: stable over the runs, the proxy alive,
/// and equal to `[expect]` (unless re-recording, where it becomes `[expect]`: then the file
/// at `path` is rewritten). Returns the transcript `[expect]` holds afterwards, if any.
fn check_upstream(
    sc: &Scenario,
    path: &Path,
    bin: &Path,
    st: &Settings,
    r: &mut Report,
    head: &str,
) -> Option<String> {
    let runs = if st.bless {
        st.repeat.max(BLESS_RUNS)
    } else {
        st.repeat
    };
    let (o, unstable) = run_stable(sc, bin, "haproxy", runs);
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
        return sc.expect.clone();
    }
    if let Some(msg) = unstable {
        let what = if st.bless { ", nothing written" } else { "" };
        r.fail(
            "UNSTABLE",
            format!("{head}upstream is unstable{what}:\n{msg}"),
        );
        return sc.expect.clone();
    }
    if st.only == Only::Upstream {
        print_now(&format!("{head}---- haproxy transcript:\n{}", o.transcript));
    }
    if st.bless {
        if sc.expect.as_deref() == Some(o.transcript.as_str()) {
            return sc.expect.clone();
        }
        let written = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| with_expect(&text, &o.transcript))
            .and_then(|text| std::fs::write(path, text).map_err(|e| e.to_string()));
        if let Err(e) = written {
            r.fail(
                "BAD-SCENARIO",
                format!("{head}cannot record [expect]: {e}\n"),
            );
            return sc.expect.clone();
        }
        r.verdict = "recorded";
        return Some(o.transcript);
    }
    match &sc.expect {
        Some(exp) => {
            if let Some(d) = diff::diff(exp, &o.transcript) {
                r.fail(
                    "UPSTREAM-DIFFERS",
                    format!(
                        "{head}upstream's transcript differs from the recorded [expect] \
                         (- expect, + haproxy); re-record with HRS_DIFF_BLESS=1 if upstream \
                         changed:\n{d}---- haproxy output (last lines):\n{}\n",
                        o.log_tail
                    ),
                );
            }
        }
        None => r.fail(
            "BAD-SCENARIO",
            format!(
                "{head}no [expect] section: record it with HRS_DIFF_BLESS=1; upstream's \
                 transcript:\n{}",
                o.transcript
            ),
        ),
    }
    sc.expect.clone()
}

fn check(sc: &Scenario, path: &Path, up: Option<&Path>, st: &Settings) -> Report {
    let mut r = Report::new(&sc.name);
    let head = format!("==== {}.scn: {}\n", sc.name, sc.title);

    let mut expect = sc.expect.clone();
    match up {
        Some(bin) if st.only != Only::Ours => {
            expect = check_upstream(sc, path, bin, st, &mut r, &head);
        }
        _ if expect.is_none() => r.fail(
            "BAD-SCENARIO",
            format!("{head}no [expect] section: record it with HRS_DIFF_BLESS=1\n"),
        ),
        _ => {}
    }
    if let (Some(d), Some(e)) = (&sc.differs, &expect) {
        if &d.transcript == e {
            r.fail(
                "BAD-SCENARIO",
                format!("{head}the [differs] transcript equals [expect]: drop the section\n"),
            );
        }
    }
    if st.only == Only::Upstream {
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
    let (expected, label) = match (&sc.differs, &expect) {
        (Some(d), _) => (&d.transcript, format!("pinned difference: {}", d.reason)),
        (None, Some(e)) => (e, "[expect], upstream's".to_string()),
        (None, None) => return r,
    };
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
    // first: under CI a missing reference fails here, before anything else can
    let up = upstream(TEST);
    let st = Settings::from_env();
    let files = scenario_files();
    if st.filter.is_none() {
        assert_eq!(
            files.len(),
            SCENARIOS,
            "tests/h1 holds {} scenarios, SCENARIOS says {SCENARIOS}: update SCENARIOS with \
             the corpus",
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
    if up.is_none() {
        assert!(
            st.only != Only::Upstream,
            "HRS_DIFF_ONLY=haproxy needs haproxy installed"
        );
        assert!(!st.bless, "HRS_DIFF_BLESS records from haproxy, not found");
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
                    Ok(sc) => check(&sc, path, up.as_deref(), &st),
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
    if up.is_none() {
        ours_only(TEST, "scenarios", reports.len());
    }

    let failed: Vec<&Report> = reports.iter().map(|(_, r)| r).filter(|r| !r.ok).collect();
    let mut summary = String::new();
    for (_, r) in &reports {
        summary.push_str(&format!("{:>16}  {}\n", r.verdict, r.name));
    }
    for r in &failed {
        eprintln!("{}", r.details);
    }
    eprintln!("{summary}");
    if st.only != Only::Both || st.bless {
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

/// The `[expect]` section: parsed verbatim, rewritten in place of the old one, refused when
/// a transcript line would read as a section header.
#[test]
fn expect_section_is_rewritten() {
    let base = "# t\n\n[config]\nfrontend fe\n    bind ${FE}\n\n[client]\nconnect c1\n";
    let one = with_expect(base, "--- client\nc1: still open at end\n").unwrap();
    let sc = Scenario::parse("x", &one).unwrap();
    assert_eq!(
        sc.expect.as_deref(),
        Some("--- client\nc1: still open at end\n")
    );
    // a second recording replaces the first, before or after a [differs] section
    let differs = "\n[differs]\nreason: docs/differences.md, x\n--- client\nc1: closed by proxy\n";
    let two = with_expect(&(one.clone() + differs), "--- client\nc1: no response\n").unwrap();
    assert_eq!(two.matches("[expect]").count(), 1, "{two}");
    let sc = Scenario::parse("x", &two).unwrap();
    assert_eq!(sc.expect.as_deref(), Some("--- client\nc1: no response\n"));
    assert_eq!(
        sc.differs.map(|d| d.transcript).as_deref(),
        Some("--- client\nc1: closed by proxy\n")
    );
    assert_eq!(
        with_expect(&two, "--- client\nc1: no response\n").unwrap(),
        two
    );
    assert!(with_expect(base, "--- log\n[fe] x]\n").is_err());
    assert!(Scenario::parse("x", &(one.clone() + "\n[expect]\n--- client\n")).is_err());
}
