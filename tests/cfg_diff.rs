//! Differential config checking: `haproxy-rs -c -f F` against `haproxy -c -f F` for every
//! file of `tests/cfg/`, and `-cc E` for every expression of `tests/cc-exprs.txt`.
//!
//! For configs the exit codes and the sets of line numbers named in `[ALERT]` lines must be
//! equal; for conditions the exit codes. Without upstream installed, only our side runs and
//! must never crash (exit 0, 1 or 2, no panic).

mod common;

use common::*;
use std::collections::BTreeSet;

/// Line numbers of `file` cited as `[file:N]` in ALERT lines of `stderr`.
fn alert_lines(stderr: &str, file: &str) -> BTreeSet<u32> {
    let pat = format!("[{file}:");
    let mut set = BTreeSet::new();
    for l in stderr.lines().filter(|l| l.starts_with("[ALERT]")) {
        let mut rest = l;
        while let Some(i) = rest.find(&pat) {
            rest = &rest[i + pat.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if rest[digits.len()..].starts_with(']') {
                if let Ok(n) = digits.parse() {
                    set.insert(n);
                }
            }
        }
    }
    set
}

fn check_sane(out: &std::process::Output, what: &str) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        return Err(format!("{what}: haproxy-rs panicked:\n{err}"));
    }
    match out.status.code() {
        Some(0..=2) => Ok(()),
        c => Err(format!("{what}: haproxy-rs exited with {c:?}:\n{err}")),
    }
}

#[test]
fn config_check_matches_upstream() {
    let dir = tests_dir().join("cfg");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus must hold at least 40 configs"
    );
    let up = upstream("config_check_matches_upstream");
    let mut failures = Vec::new();
    for f in &files {
        let ours = run_in(&hrs(), &dir, &["-c", "-f", f]);
        if let Err(e) = check_sane(&ours, f) {
            failures.push(e);
            continue;
        }
        let Some(up) = &up else { continue };
        let theirs = run_in(up, &dir, &["-c", "-f", f]);
        let (oe, te) = (
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr),
        );
        let (ol, tl) = (alert_lines(&oe, f), alert_lines(&te, f));
        if ours.status.code() != theirs.status.code() || ol != tl {
            failures.push(format!(
                "{f}: exit {:?} vs upstream {:?}; alert lines {ol:?} vs upstream {tl:?}\n--- ours:\n{oe}--- upstream:\n{te}",
                ours.status.code(),
                theirs.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} configs differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

fn expressions() -> Vec<String> {
    let text = std::fs::read_to_string(tests_dir().join("cc-exprs.txt")).unwrap();
    let mut v = Vec::new();
    for l in text.lines() {
        if l.starts_with("# differs-by-design") {
            break;
        }
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        v.push(l.to_string());
    }
    v
}

#[test]
fn conditions_match_upstream() {
    let exprs = expressions();
    assert!(exprs.len() >= 60, "at least 60 expressions are required");
    let dir = tests_dir();
    let up = upstream("conditions_match_upstream");
    let mut failures = Vec::new();
    for e in &exprs {
        let ours = run_in(&hrs(), &dir, &["-cc", e]);
        if let Err(msg) = check_sane(&ours, e) {
            failures.push(msg);
            continue;
        }
        let Some(up) = &up else { continue };
        let theirs = run_in(up, &dir, &["-cc", e]);
        if ours.status.code() != theirs.status.code() {
            failures.push(format!(
                "-cc {e:?}: exit {:?} vs upstream {:?}\n--- ours: {}--- upstream: {}",
                ours.status.code(),
                theirs.status.code(),
                String::from_utf8_lossy(&ours.stderr),
                String::from_utf8_lossy(&theirs.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions differ:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );
}

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
    for e in std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".cfg") {
            continue;
        }
        let orig = std::fs::read(e.path()).unwrap();
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
    assert!(n > 100);
}
