//! The config-check corpus through the library: every `tests/cfg/*.cfg` loaded as `haproxy-rs
//! -c -f F` loads it (`hrs_cfg::parse_files` with the binary's `ParseCtx`, then
//! `check::verdict`), and every expression of `tests/cc-exprs.txt` evaluated as `haproxy-rs
//! -cc E` evaluates it (`cond::check_condition`), each compared with its record.
//!
//! `tests/cfg_diff.rs` checks the binary against the same records (and upstream against
//! them); this test exists so that the corpus counts for hrs-cfg's own tests, which are the
//! only ones cargo-mutants runs for this crate. Both read and judge the records with the same
//! code (`tests/common/cfg_record.rs`) and take the feature list and version from the
//! binary's `version.rs`; the rendering here is the binary's: each printed diagnostic by
//! `Diag::render`, then the verdict's alert and stdout lines. As the binary's runs do, the
//! loads run in `tests/cfg/` (the bare file name appears in messages) with `HOME=/hrs`; both
//! are set once for the whole test process, before any load.

#[allow(dead_code)]
#[path = "../../../tests/common/cfg_record.rs"]
mod cfg_record;
#[allow(dead_code)]
#[path = "../../../tests/common/scenario/diff.rs"]
mod diff;
#[allow(dead_code)]
#[path = "../../haproxy-rs/src/version.rs"]
mod version;

use cfg_record::*;
use hrs_cfg::check::{verdict, LoadOpts};
use hrs_cfg::cond::{check_condition, ProcessCtx};
use hrs_cfg::{parse_files, Diag, Level, ParseCtx};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The workspace's `tests/` directory.
fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests")
        .canonicalize()
        .expect("the workspace's tests/ directory")
}

/// Puts the process where the binary's runs are: in `tests/cfg/`, with `HOME` set to
/// [`HOME`]. Every test calls it before anything reads the environment.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_current_dir(tests_dir().join("cfg")).expect("cannot enter tests/cfg");
        std::env::set_var("HOME", HOME);
    });
}

/// What `haproxy-rs -c -f file` prints and returns, run in `tests/cfg/`, normalized.
fn check_file(file: &str) -> Outcome {
    let compiler = hrs_sample::SampleCompiler::new();
    let ctx = ParseCtx {
        features: version::FEATURES,
        version: version::VERSION,
        compiler: &compiler,
        acl_kws: &hrs_sample::SampleKeywords,
        default_nbthread: version::default_nbthread(),
    };
    let (cfg, diags) = parse_files(&[PathBuf::from(file)], &ctx);
    let pid = std::process::id();
    let mut err = String::new();
    for d in diags.printed() {
        err.push_str(&d.render(pid));
        err.push('\n');
    }
    let opts = LoadOpts {
        check: true,
        ..LoadOpts::default()
    };
    let v = verdict(&cfg, &diags, opts);
    if let Some(alert) = v.alert {
        err.push_str(&Diag::bare(Level::Alert, alert).render(pid));
        err.push('\n');
    }
    let out: String = v.stdout.iter().map(|l| format!("{l}\n")).collect();
    assert!(v.exit.is_some(), "{file}: -c always ends with an exit code");
    Outcome::from_streams(v.exit, out.as_bytes(), err.as_bytes())
}

#[test]
fn corpus_configs_match_their_record() {
    setup();
    let tests = tests_dir();
    let files = corpus(&tests.join("cfg"));
    assert_eq!(
        files.len(),
        CONFIGS,
        "tests/cfg holds {} configs",
        files.len()
    );
    let record = load_record(&tests).unwrap_or_else(|e| panic!("{e}"));
    let pins = load_pins(&tests).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for f in &files {
        let Some(exp) = record.get(f) else {
            failures.push(format!("{f}: no record in tests/cfg/expected.txt"));
            continue;
        };
        let ours = check_file(f);
        let what = judge(f, exp, &ours, pins.get(f).map(String::as_str));
        if !what.is_empty() {
            failures.push(format!(
                "{f}: {}\n{}",
                what.join("; "),
                diff::diff(&exp.render(), &ours.render()).unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} configs:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_conditions_match_their_record() {
    setup();
    let path = exprs_path(&tests_dir());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let exprs = expressions(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        exprs.len(),
        EXPRESSIONS,
        "tests/cc-exprs.txt holds {} expressions",
        exprs.len()
    );
    let ctx = ProcessCtx {
        features: version::FEATURES,
        version: version::VERSION,
    };
    let mut failures = Vec::new();
    for e in &exprs {
        let (code, alert) = match check_condition(&e.text, &ctx) {
            Ok(true) => (0, None),
            Ok(false) => (1, None),
            Err(a) => (2, Some(a)),
        };
        if code != e.exit {
            failures.push(format!(
                "cc-exprs.txt:{}: -cc {:?} gives {code}, expected {} ({alert:?})",
                e.line, e.text, e.exit
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} expressions:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );
}
