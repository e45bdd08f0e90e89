//! Config checking against recorded outcomes: `haproxy-rs -c -f F` for every file of
//! `tests/cfg/`, and `haproxy-rs -cc E` for every expression of `tests/cc-exprs.txt`.
//!
//! Every case carries its expected outcome, recorded from upstream haproxy 2.6 once and
//! reviewed: `tests/cfg/expected.txt` (exit code, normalized messages and stdout of each
//! config, format in `tests/cfg/README.md`) and the exit code written before each expression
//! of `tests/cc-exprs.txt`. haproxy-rs is checked against the record always; when upstream is
//! installed, its own outcome is checked against the same record, so a change on either side
//! is noticed. `HRS_DIFF_BLESS=1` re-records from upstream (refused under CI).
//!
//! For a config, haproxy-rs must give the recorded exit code, cite the same set of line
//! numbers in its `[ALERT]` lines, print the same stdout, and print the recorded messages
//! word for word unless the file is pinned in `tests/cfg/pinned.txt` (a known wording
//! difference; a pinned file whose text matches again fails, so the list only shrinks). The
//! file names say the exit code too: `ok-*` 0, `bad-*` 1, `nolisten-*` 2.

//!
//! The records are read and judged by `common::cfg_record`, which the library's own test
//! (`crates/cfg/tests/corpus.rs`) shares.

mod common;

use common::cfg_record::*;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

/// The knob that re-records the expected outcomes from upstream.
const BLESS: &str = "HRS_DIFF_BLESS";

/// Runs `bin args...` in `dir` with only `HOME` (fixed) and `PATH` (inherited) set.
fn run_check(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", HOME)
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// A crash of haproxy-rs (a panic, or an exit code other than 0, 1, 2), or `Ok`.
fn check_sane(out: &Output, what: &str) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        return Err(format!("{what}: haproxy-rs panicked:\n{err}"));
    }
    match out.status.code() {
        Some(0..=2) => Ok(()),
        c => Err(format!("{what}: haproxy-rs exited with {c:?}:\n{err}")),
    }
}

// ---------------------------------------------------------------------------------------
// `-c` runs

/// A line diff of two records (for failure messages).
fn show_diff(expected: &str, actual: &str) -> String {
    common::scenario::diff::diff(expected, actual).unwrap_or_default()
}

/// Runs upstream on every file twice and writes the record (the knob [`BLESS`]).
fn bless_configs(up: &Path, dir: &Path, files: &[String]) {
    let mut rec = BTreeMap::new();
    let mut unstable = Vec::new();
    for f in files {
        let a = Outcome::of(&run_check(up, dir, &["-c", "-f", f]));
        let b = Outcome::of(&run_check(up, dir, &["-c", "-f", f]));
        if a != b {
            unstable.push(format!(
                "{f}: UNSTABLE, two upstream runs differ:\n{}",
                show_diff(&a.render(), &b.render())
            ));
        }
        rec.insert(f.clone(), a);
    }
    assert!(
        unstable.is_empty(),
        "nothing written:\n{}",
        unstable.join("\n")
    );
    write_record(&tests_dir(), &rec);
    print_now(&format!(
        "{BLESS}: {} wrote {} records; review them with git diff",
        record_path(&tests_dir()).display(),
        rec.len()
    ));
}

#[test]
fn config_check_matches_upstream() {
    const TEST: &str = "config_check_matches_upstream";
    let up = upstream(TEST);
    let dir = tests_dir().join("cfg");
    let files = corpus(&dir);
    assert_eq!(
        files.len(),
        CONFIGS,
        "tests/cfg holds {} configs, CONFIGS says {CONFIGS}: update CONFIGS with the corpus",
        files.len()
    );
    if knob_on(BLESS) {
        let up = up
            .as_deref()
            .unwrap_or_else(|| panic!("{BLESS} records from upstream haproxy, not found"));
        bless_configs(up, &dir, &files);
    }
    let record = load_record(&tests_dir()).unwrap_or_else(|e| panic!("{e}"));
    let pins = load_pins(&tests_dir()).unwrap_or_else(|e| panic!("{e}"));

    let mut failures = Vec::new();
    let names: BTreeSet<&String> = files.iter().collect();
    for k in record.keys().filter(|k| !names.contains(k)) {
        failures.push(format!(
            "expected.txt has a record of {k}, which is not in tests/cfg"
        ));
    }
    for k in pins.keys().filter(|k| !names.contains(k)) {
        failures.push(format!("pinned.txt pins {k}, which is not in tests/cfg"));
    }
    for f in &files {
        let Some(exp) = record.get(f) else {
            failures.push(format!(
                "{f}: no record in tests/cfg/expected.txt (record it with {BLESS}=1)"
            ));
            continue;
        };
        match exit_by_name(f) {
            None => failures.push(format!(
                "{f}: name starts with none of ok-, bad-, nolisten-"
            )),
            Some(c) if exp.exit != Some(c) => failures.push(format!(
                "{f}: the record says exit {:?}, the name promises {c}: rename the file",
                exp.exit
            )),
            Some(_) => {}
        }
        let raw = run_check(&hrs(), &dir, &["-c", "-f", f]);
        if let Err(e) = check_sane(&raw, f) {
            failures.push(e);
            continue;
        }
        let ours = Outcome::of(&raw);
        let what = judge(f, exp, &ours, pins.get(f).map(String::as_str));
        if !what.is_empty() {
            failures.push(format!(
                "{f}: haproxy-rs: {}\n{}",
                what.join("; "),
                show_diff(&exp.render(), &ours.render())
            ));
        }
        if let Some(up) = &up {
            let theirs = Outcome::of(&run_check(up, &dir, &["-c", "-f", f]));
            if theirs != *exp {
                failures.push(format!(
                    "{f}: upstream's outcome differs from the record (- record, + upstream):\n{}",
                    show_diff(&exp.render(), &theirs.render())
                ));
            }
        }
    }
    if up.is_none() {
        ours_only(TEST, "configs", files.len());
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} configs:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// `-cc` expressions

/// Re-records the exit codes of the compared expressions from upstream (twice each),
/// keeping every other line of the file as it is.
fn bless_expressions(up: &Path, text: &str, exprs: &[Expr]) {
    let dir = tests_dir();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut unstable = Vec::new();
    for e in exprs.iter().filter(|e| !e.by_design) {
        let a = run_check(up, &dir, &["-cc", &e.text]).status.code();
        let b = run_check(up, &dir, &["-cc", &e.text]).status.code();
        match (a, b) {
            (Some(a), Some(b)) if a == b => lines[e.line - 1] = format!("{a}: {}", e.text),
            _ => unstable.push(format!("-cc {:?}: upstream exits {a:?} then {b:?}", e.text)),
        }
    }
    assert!(
        unstable.is_empty(),
        "nothing written:\n{}",
        unstable.join("\n")
    );
    let path = exprs_path(&tests_dir());
    std::fs::write(&path, lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    print_now(&format!(
        "{BLESS}: rewrote the exit codes of {}; review them with git diff",
        path.display()
    ));
}

#[test]
fn conditions_match_upstream() {
    const TEST: &str = "conditions_match_upstream";
    let up = upstream(TEST);
    let read = || {
        std::fs::read_to_string(exprs_path(&tests_dir())).expect("cannot read tests/cc-exprs.txt")
    };
    let mut exprs = expressions(&read()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        exprs.len(),
        EXPRESSIONS,
        "tests/cc-exprs.txt holds {} expressions, EXPRESSIONS says {EXPRESSIONS}: update it \
         with the file",
        exprs.len()
    );
    if knob_on(BLESS) {
        let up = up
            .as_deref()
            .unwrap_or_else(|| panic!("{BLESS} records from upstream haproxy, not found"));
        bless_expressions(up, &read(), &exprs);
        exprs = expressions(&read()).unwrap_or_else(|e| panic!("{e}"));
    }
    let dir = tests_dir();
    let mut failures = Vec::new();
    for e in &exprs {
        let ours = run_check(&hrs(), &dir, &["-cc", &e.text]);
        let what = format!("cc-exprs.txt:{}: -cc {:?}", e.line, e.text);
        if let Err(msg) = check_sane(&ours, &what) {
            failures.push(msg);
            continue;
        }
        if ours.status.code() != Some(e.exit) {
            failures.push(format!(
                "{what}: haproxy-rs exits {:?}, expected {}\n{}",
                ours.status.code(),
                e.exit,
                String::from_utf8_lossy(&ours.stderr)
            ));
        }
        let Some(up) = up.as_deref().filter(|_| !e.by_design) else {
            continue;
        };
        let theirs = run_check(up, &dir, &["-cc", &e.text]);
        if theirs.status.code() != Some(e.exit) {
            failures.push(format!(
                "{what}: upstream exits {:?}, the record says {}\n{}",
                theirs.status.code(),
                e.exit,
                String::from_utf8_lossy(&theirs.stderr)
            ));
        }
    }
    if up.is_none() {
        ours_only(TEST, "expressions", exprs.len());
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} expressions:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The record's own encoding

#[test]
fn record_encoding_round_trips() {
    let cases: &[&[u8]] = &[
        b"",
        b"plain [ALERT]    : text",
        b"mode 'h\\x74tp'",
        b"tab\there",
        b"cr\r",
        b"trailing ",
        b" ",
        b"\x00\xff\x7f",
    ];
    let mut seen = BTreeSet::new();
    for c in cases {
        let e = encode("err", c);
        assert_eq!(decode("err", &e).as_deref(), Some(*c), "{e:?}");
        assert!(!e.ends_with(" "), "{e:?} ends with a blank");
        assert!(seen.insert(e), "two lines encode alike");
    }
    assert_eq!(decode("out", "err x"), None);
    assert_eq!(
        strip_pid(b"[ALERT]    (1234) : config : x"),
        b"[ALERT]    : config : x"
    );
    assert_eq!(strip_pid(b"   | (12) : x"), b"   | (12) : x");
}

// ---------------------------------------------------------------------------------------
// Robustness

/// Deterministic xorshift for the mutation test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_configs_never_crash() {
    // Byte-level mutations of every corpus file: each must end in a verdict, never a panic.
    let dir = tests_dir().join("cfg");
    let tmp = std::env::temp_dir().join(format!("hrs-mut-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let junk: &[&[u8]] = &[
        b"\"", b"'", b"\\", b"\\x", b"${", b"$", b"#", b"\n", b" ", b"\0", b".if", b"(", b"\xff",
        b":", b"@",
    ];
    let mut n = 0;
    for name in corpus(&dir) {
        let orig = std::fs::read(dir.join(&name)).unwrap();
        for k in 0..3 {
            let mut data = orig.clone();
            for _ in 0..(1 + rng.next() % 4) {
                let pos = (rng.next() as usize) % (data.len() + 1);
                match rng.next() % 3 {
                    0 if !data.is_empty() => {
                        let end = (pos + 1 + (rng.next() as usize % 8)).min(data.len());
                        data.drain(pos.min(data.len() - 1)..end);
                    }
                    _ => {
                        let j = junk[(rng.next() as usize) % junk.len()];
                        data.splice(pos..pos, j.iter().copied());
                    }
                }
            }
            let p = tmp.join(format!("{k}-{name}"));
            std::fs::write(&p, &data).unwrap();
            let out = run_in(
                &hrs(),
                &tmp,
                &["-c", "-f", p.file_name().unwrap().to_str().unwrap()],
            );
            if let Err(msg) = check_sane(&out, &p.display().to_string()) {
                panic!("{msg}\ninput: {:?}", String::from_utf8_lossy(&data));
            }
            n += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(n, 3 * CONFIGS, "every corpus file is mutated 3 times");
}
