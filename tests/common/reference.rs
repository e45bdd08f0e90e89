//! The reference of the differential tests: upstream `haproxy` 2.6, found in `PATH` (or named
//! by `HRS_UPSTREAM_BIN`), and what happens when it is missing.
//!
//! Every differential case carries its expected outcome, recorded from upstream once and
//! reviewed (`tests/cfg/expected.txt`, the `[expect]` sections of `tests/h1/*.scn`...), so
//! haproxy-rs is always checked, with or without upstream; when upstream is there, its
//! outcome is checked against the same record, so a change on either side is noticed.
//!
//! - Under CI, `HRS_REQUIRE_UPSTREAM=1` (set by `.ci/run`): a missing upstream, or one that is
//!   not 2.6, fails every differential test with a message naming it, and the knobs that
//!   narrow a run ([`knob`]: filters, one side only, re-recording) are refused.
//! - Otherwise a missing upstream is reported once per test binary on the real stderr, and
//!   each test records how many cases ran on our side only ([`ours_only`]); `make test`
//!   prints those records at the end of its output (`tools/test-summary.sh`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The variable CI sets to make the reference mandatory.
pub const REQUIRE_VAR: &str = "HRS_REQUIRE_UPSTREAM";
/// The variable naming the upstream binary explicitly (otherwise `haproxy` in `PATH`).
pub const BIN_VAR: &str = "HRS_UPSTREAM_BIN";
/// The branch the expected outcomes were recorded from.
pub const BRANCH: &str = "2.6";

/// Is the reference mandatory (`HRS_REQUIRE_UPSTREAM` set to anything but empty or `0`)?
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Where upstream is looked for, or why it cannot be used.
fn locate() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(BIN_VAR).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{BIN_VAR}={} is not a file", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`haproxy` is not in PATH (and {BIN_VAR} is not set)"))
}

/// `haproxy -v`'s version, checked to be of [`BRANCH`].
fn check_version(bin: &Path) -> Result<String, String> {
    let out = std::process::Command::new(bin)
        .arg("-v")
        .output()
        .map_err(|e| format!("{} -v cannot run: {e}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("");
    let version = first
        .strip_prefix("HAProxy version ")
        .and_then(|r| r.split_whitespace().next())
        .ok_or_else(|| format!("{} -v printed {first:?}, not a version", bin.display()))?;
    if version.starts_with(&format!("{BRANCH}.")) {
        Ok(version.to_string())
    } else {
        Err(format!(
            "{} is HAProxy {version}, the expected outcomes were recorded from {BRANCH}",
            bin.display()
        ))
    }
}

/// The reference binary, or why there is none (looked up once per test binary).
fn reference() -> &'static Result<PathBuf, String> {
    static REF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    REF.get_or_init(|| {
        let bin = locate()?;
        check_version(&bin)?;
        Ok(bin)
    })
}

/// Upstream `haproxy` 2.6 for the differential half of test `test`.
///
/// Returns `None` when it is missing and the reference is not [`required`]: the caller runs
/// our side alone against the recorded expectations, and says how many cases it ran with
/// [`ours_only`]. The first call in a test binary prints a notice on the real stderr.
///
/// # Panics
/// When the reference is required and missing or not 2.6: the message names what is
/// missing, so CI fails rather than skips.
pub fn upstream(test: &str) -> Option<PathBuf> {
    match reference() {
        Ok(p) => Some(p.clone()),
        Err(why) if required() => panic!(
            "{test}: {REQUIRE_VAR} is set and the reference is unusable: {why}; install \
             Debian's haproxy {BRANCH} (apt-get install haproxy) or unset {REQUIRE_VAR}"
        ),
        Err(why) => {
            static SAID: OnceLock<()> = OnceLock::new();
            SAID.get_or_init(|| {
                print_now(&format!(
                    "NOTE: no upstream reference ({why}): differential tests run on our side \
                     only, against their recorded expected outcomes"
                ))
            });
            None
        }
    }
}

/// Records that `cases` cases of `test` (described by `what`, e.g. "configs") ran on our
/// side only. `make test` prints every record at the end (`tools/test-summary.sh`).
pub fn ours_only(test: &str, what: &str, cases: usize) {
    let line = format!("{test}: {cases} {what} checked on haproxy-rs only\n");
    print_now(line.trim_end());
    let dir = notes_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let file = dir.join(format!("{}.txt", test.replace(['/', ' '], "_")));
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Where [`ours_only`] records go: `$HRS_TEST_NOTES`, else `<target>/tmp/hrs-test-notes`.
pub fn notes_dir() -> PathBuf {
    match std::env::var_os("HRS_TEST_NOTES").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("hrs-test-notes"),
    }
}

/// The value of a knob (an environment variable that narrows or changes a run: a filter,
/// one side only, re-recording expectations), `None` when unset or empty.
///
/// # Panics
/// When the knob is set while the reference is [`required`]: nothing may reduce what CI
/// runs.
pub fn knob(name: &str) -> Option<String> {
    let v = std::env::var(name).ok().filter(|v| !v.is_empty())?;
    assert!(
        !required(),
        "{name}={v:?} narrows the run and {REQUIRE_VAR} is set: CI runs every case; unset one \
         of them"
    );
    Some(v)
}

/// Is a boolean knob on (set, not empty, not `0`)? See [`knob`].
pub fn knob_on(name: &str) -> bool {
    knob(name).is_some_and(|v| v != "0")
}

/// Prints to the real stderr, past the test harness's capture.
pub fn print_now(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.write_all(b"\n");
}

/// A file of expected outcomes under `tests/`: a head of `#` comment lines, then sections
/// `== NAME`, each followed by its lines written `| TEXT` (`|` alone for an empty one), so
/// that any text round-trips, leading spaces and empty lines included. Blank lines and `#`
/// lines between sections are ignored.
pub struct Record {
    /// The comment lines before the first section, each with its newline.
    pub head: String,
    /// The sections by name, each its lines in order.
    pub sections: std::collections::BTreeMap<String, Vec<String>>,
}

impl Record {
    /// Reads `tests/REL` (an empty record when the file does not exist).
    ///
    /// # Panics
    /// When a line is neither a comment, a section head, a `|` line nor blank.
    pub fn read(rel: &str) -> Record {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests")
            .join(rel);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        Record::parse(&text).unwrap_or_else(|e| panic!("tests/{rel}: {e}"))
    }

    /// Parses a record's text.
    pub fn parse(text: &str) -> Result<Record, String> {
        let mut rec = Record {
            head: String::new(),
            sections: Default::default(),
        };
        let mut cur: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            if let Some(name) = line.strip_prefix("== ") {
                rec.sections.entry(name.to_string()).or_default();
                cur = Some(name.to_string());
            } else if let Some(rest) = line.strip_prefix('|') {
                let name = cur
                    .as_ref()
                    .ok_or_else(|| format!("line {}: a `|` line before any section", i + 1))?;
                let text = rest.strip_prefix(' ').unwrap_or(rest);
                let lines = rec.sections.get_mut(name).expect("section exists");
                lines.push(text.to_string());
            } else if line.starts_with('#') || line.trim().is_empty() {
                if cur.is_none() {
                    rec.head.push_str(line);
                    rec.head.push('\n');
                }
            } else {
                return Err(format!(
                    "line {}: not `== NAME`, `| TEXT` or `#`: {line:?}",
                    i + 1
                ));
            }
        }
        Ok(rec)
    }

    /// The record's text: the head, then the sections in name order.
    pub fn render(&self) -> String {
        let mut out = self.head.clone();
        for (name, lines) in &self.sections {
            out.push_str(&format!("== {name}\n"));
            for l in lines {
                if l.is_empty() {
                    out.push_str("|\n");
                } else {
                    out.push_str(&format!("| {l}\n"));
                }
            }
        }
        out
    }

    /// Replaces (or adds) section `name` of `tests/REL` with `lines`, giving a new file the
    /// head `head`. Safe between the tests of one binary (they run in parallel threads).
    pub fn write_section(rel: &str, head: &str, name: &str, lines: &[String]) {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut rec = Record::read(rel);
        if rec.head.trim().is_empty() {
            rec.head = head.to_string();
        }
        rec.sections.insert(name.to_string(), lines.to_vec());
        rec.write(rel);
    }

    /// Writes the record as `tests/REL` (whole, creating its directory).
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, rel: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests")
            .join(rel);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, self.render())
            .unwrap_or_else(|e| panic!("cannot write tests/{rel}: {e}"));
    }
}
