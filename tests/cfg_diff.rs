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

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

/// Files in `tests/cfg/*.cfg`: update it with the corpus, so that it cannot shrink unseen.
const CONFIGS: usize = 191;
/// Expressions in `tests/cc-exprs.txt`, those differing by design included.
const EXPRESSIONS: usize = 208;
/// The knob that re-records the expected outcomes from upstream.
const BLESS: &str = "HRS_DIFF_BLESS";
/// `HOME` of every run: a config prints `${HOME}` in a message, so the value is fixed.
const HOME: &str = "/hrs";

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

/// Every `*.cfg` of `dir`, sorted.
fn corpus(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    files.sort();
    files
}

// ---------------------------------------------------------------------------------------
// The record of one `-c` run

/// The outcome of `-c -f F` in the form it is recorded: the exit code, the stderr lines
/// (minus the `[NOTICE]` lines naming the version and the executable, pids removed) and the
/// stdout lines, each line encoded by [`encode`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    /// `None`: killed by a signal.
    exit: Option<i32>,
    err: Vec<String>,
    out: Vec<String>,
}

/// One output line as the record holds it: `TAG TEXT` when the line is printable ASCII
/// without trailing blanks, else `TAG-esc TEXT` with `\\`, `\t`, `\r` and `\xHH` escapes;
/// an empty line is `TAG` alone.
fn encode(tag: &str, line: &[u8]) -> String {
    if line.is_empty() {
        return tag.to_string();
    }
    let plain = line.iter().all(|b| (0x20..0x7f).contains(b)) && !line.ends_with(b" ");
    if plain {
        return format!("{tag} {}", String::from_utf8_lossy(line));
    }
    let mut s = format!("{tag}-esc ");
    for (i, &b) in line.iter().enumerate() {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b' ' if i + 1 == line.len() => s.push_str("\\x20"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// The text of a line encoded by [`encode`] with tag `tag` (`None` if it is not one).
fn decode(tag: &str, rec: &str) -> Option<Vec<u8>> {
    let rest = rec.strip_prefix(tag)?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    if let Some(t) = rest.strip_prefix(' ') {
        return Some(t.as_bytes().to_vec());
    }
    let t = rest.strip_prefix("-esc ")?;
    let mut v = Vec::new();
    let mut it = t.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            v.push(b);
            continue;
        }
        match it.next()? {
            b'\\' => v.push(b'\\'),
            b't' => v.push(b'\t'),
            b'r' => v.push(b'\r'),
            b'x' => {
                let h = [it.next()?, it.next()?];
                v.push(u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok()?);
            }
            _ => return None,
        }
    }
    Some(v)
}

/// Is `line` one of the notices every run prints first (version, executable path)?
fn is_banner(line: &[u8]) -> bool {
    let l = String::from_utf8_lossy(line);
    l.starts_with("[NOTICE]")
        && (l.contains(": haproxy version is ") || l.contains(": path to executable is "))
}

/// `[ALERT]    (1234) : ...` becomes `[ALERT]    : ...`.
fn strip_pid(line: &[u8]) -> Vec<u8> {
    let Some(close) = line.iter().position(|&b| b == b']') else {
        return line.to_vec();
    };
    if line[0] != b'[' {
        return line.to_vec();
    }
    let mut i = close + 1;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    if line.get(i) != Some(&b'(') {
        return line.to_vec();
    }
    let digits = line[i + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || line[i + 1 + digits..].get(..2) != Some(b") ") {
        return line.to_vec();
    }
    let mut v = line[..i].to_vec();
    v.extend_from_slice(&line[i + 1 + digits + 2..]);
    v
}

/// The lines of `bytes` (split on `\n`; a last line without newline is kept).
fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

impl Outcome {
    /// The outcome of a run, normalized.
    fn of(o: &Output) -> Outcome {
        Outcome {
            exit: o.status.code(),
            err: lines_of(&o.stderr)
                .into_iter()
                .filter(|l| !is_banner(l))
                .map(|l| encode("err", &strip_pid(l)))
                .collect(),
            out: lines_of(&o.stdout)
                .into_iter()
                .map(|l| encode("out", l))
                .collect(),
        }
    }

    /// The stderr text (decoded), for [`alert_lines`] and messages.
    fn err_text(&self) -> String {
        let mut s = String::new();
        for l in &self.err {
            let b = decode("err", l).unwrap_or_else(|| l.as_bytes().to_vec());
            s.push_str(&String::from_utf8_lossy(&b));
            s.push('\n');
        }
        s
    }

    /// The record's lines: `exit N`, then the `err` and `out` lines.
    fn render(&self) -> String {
        let mut s = match self.exit {
            Some(c) => format!("exit {c}\n"),
            None => "exit signal\n".to_string(),
        };
        for l in self.err.iter().chain(&self.out) {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// Where the expected outcomes of the configs are.
fn record_path() -> std::path::PathBuf {
    tests_dir().join("cfg").join("expected.txt")
}

/// Reads `tests/cfg/expected.txt`: `== FILE` then that file's record, for every file.
fn load_record() -> Result<BTreeMap<String, Outcome>, String> {
    let path = record_path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = BTreeMap::new();
    let mut cur: Option<(String, Outcome)> = None;
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(name) = l.strip_prefix("== ") {
            if let Some((k, v)) = cur.take() {
                map.insert(k, v);
            }
            if map.contains_key(name) {
                return Err(format!("expected.txt:{n}: second record of {name}"));
            }
            cur = Some((
                name.to_string(),
                Outcome {
                    exit: None,
                    err: Vec::new(),
                    out: Vec::new(),
                },
            ));
            continue;
        }
        let Some((name, o)) = cur.as_mut() else {
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            return Err(format!("expected.txt:{n}: text before the first '== FILE'"));
        };
        if l.is_empty() {
            continue;
        }
        if let Some(c) = l.strip_prefix("exit ") {
            if !o.err.is_empty() || !o.out.is_empty() || o.exit.is_some() {
                return Err(format!(
                    "expected.txt:{n}: 'exit' comes first, once ({name})"
                ));
            }
            o.exit = Some(
                c.parse()
                    .map_err(|_| format!("expected.txt:{n}: bad exit code {c:?}"))?,
            );
        } else if decode("err", l).is_some() {
            o.err.push(l.to_string());
        } else if decode("out", l).is_some() {
            o.out.push(l.to_string());
        } else {
            return Err(format!("expected.txt:{n}: not an exit/err/out line: {l:?}"));
        }
    }
    if let Some((k, v)) = cur.take() {
        map.insert(k, v);
    }
    if let Some((k, _)) = map.iter().find(|(_, o)| o.exit.is_none()) {
        return Err(format!(
            "expected.txt: the record of {k} has no 'exit' line"
        ));
    }
    Ok(map)
}

/// Writes `tests/cfg/expected.txt` from `rec`.
fn write_record(rec: &BTreeMap<String, Outcome>) {
    let mut s = String::from(
        "# Expected outcome of `haproxy -c -f FILE` for every tests/cfg/*.cfg, recorded from\n\
         # upstream HAProxy 2.6 by `HRS_DIFF_BLESS=1 cargo test -p haproxy-rs --test cfg_diff`.\n\
         # Format: tests/cfg/README.md. Do not edit by hand; review what a re-recording changes.\n",
    );
    for (name, o) in rec {
        let _ = write!(s, "\n== {name}\n{}", o.render());
    }
    let path = record_path();
    std::fs::write(&path, s).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Reads `tests/cfg/pinned.txt`: `FILE REASON...` per line, `#` comments.
fn load_pins() -> Result<BTreeMap<String, String>, String> {
    let path = tests_dir().join("cfg").join("pinned.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (file, reason) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        if reason.trim().is_empty() {
            return Err(format!("pinned.txt:{}: {file} needs a reason", i + 1));
        }
        if map
            .insert(file.to_string(), reason.trim().to_string())
            .is_some()
        {
            return Err(format!("pinned.txt:{}: {file} pinned twice", i + 1));
        }
    }
    Ok(map)
}

/// The exit code a config's name promises: `ok-` 0, `bad-` 1, `nolisten-` 2.
fn exit_by_name(file: &str) -> Option<i32> {
    [("ok-", 0), ("bad-", 1), ("nolisten-", 2)]
        .into_iter()
        .find(|(p, _)| file.starts_with(p))
        .map(|(_, c)| c)
}

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
    write_record(&rec);
    print_now(&format!(
        "{BLESS}: {} wrote {} records; review them with git diff",
        record_path().display(),
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
    let record = load_record().unwrap_or_else(|e| panic!("{e}"));
    let pins = load_pins().unwrap_or_else(|e| panic!("{e}"));

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
        let (exp_err, our_err) = (exp.err_text(), ours.err_text());
        let mut what = Vec::new();
        if ours.exit != exp.exit {
            what.push(format!("exit {:?}, expected {:?}", ours.exit, exp.exit));
        }
        let (ol, el) = (alert_lines(&our_err, f), alert_lines(&exp_err, f));
        if ol != el {
            what.push(format!("ALERT lines {ol:?}, expected {el:?}"));
        }
        if ours.out != exp.out {
            what.push("stdout differs".to_string());
        }
        match pins.get(f) {
            Some(reason) if ours.err == exp.err => what.push(format!(
                "messages now equal upstream's: drop the pin ({reason}) from tests/cfg/pinned.txt"
            )),
            Some(_) => {}
            None if ours.err != exp.err => what.push(
                "messages differ from the record (a deliberate difference goes to \
                 tests/cfg/pinned.txt, with its reason)"
                    .to_string(),
            ),
            None => {}
        }
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

/// One line `CODE: EXPRESSION` of `tests/cc-exprs.txt`.
#[derive(Debug)]
struct Expr {
    /// Line number in the file.
    line: usize,
    /// The expected exit code: upstream's, or for `by_design` cases haproxy-rs's own.
    exit: i32,
    /// The argument of `-cc`, verbatim.
    text: String,
    /// Below the `# differs-by-design` line: checked on haproxy-rs only.
    by_design: bool,
}

fn exprs_path() -> std::path::PathBuf {
    tests_dir().join("cc-exprs.txt")
}

/// Parses `tests/cc-exprs.txt` (format in `tests/cfg/README.md`).
fn expressions(text: &str) -> Result<Vec<Expr>, String> {
    let mut v = Vec::new();
    let mut by_design = false;
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("# differs-by-design") {
            by_design = true;
            continue;
        }
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (code, text) = l
            .split_once(": ")
            .ok_or_else(|| format!("cc-exprs.txt:{}: not 'CODE: EXPRESSION': {l:?}", i + 1))?;
        let exit = code
            .parse()
            .ok()
            .filter(|c| (0..=2).contains(c))
            .ok_or_else(|| format!("cc-exprs.txt:{}: bad exit code {code:?}", i + 1))?;
        v.push(Expr {
            line: i + 1,
            exit,
            text: text.to_string(),
            by_design,
        });
    }
    Ok(v)
}

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
    let path = exprs_path();
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
    let read = || std::fs::read_to_string(exprs_path()).expect("cannot read tests/cc-exprs.txt");
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
