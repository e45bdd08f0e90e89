//! The records of the config-check corpus, read and judged the same way by the test of the
//! binary (`tests/cfg_diff.rs`: `haproxy-rs -c -f F`, `haproxy-rs -cc E`) and by the test of
//! the library (`crates/cfg/tests/corpus.rs`: the same load through `hrs_cfg`, so that the
//! corpus counts for hrs-cfg's mutation testing), which includes this file by `#[path]`.
//!
//! Owns the format of `tests/cfg/expected.txt` (an [`Outcome`] per file, its line encoding),
//! of `tests/cfg/pinned.txt` and of `tests/cc-exprs.txt` (format in `tests/cfg/README.md`),
//! the corpus counts, and [`judge`], the comparison of an outcome with its record. It uses
//! nothing of `common` (the library's test has no `common`): every function that reads a
//! file takes the workspace's `tests/` directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Files in `tests/cfg/*.cfg`: update it with the corpus, so that it cannot shrink unseen.
pub const CONFIGS: usize = 248;
/// Expressions in `tests/cc-exprs.txt`, those differing by design included.
pub const EXPRESSIONS: usize = 214;
/// `HOME` of every run: a config prints `${HOME}` in a message, so the value is fixed.
pub const HOME: &str = "/hrs";

/// Line numbers of `file` cited as `[file:N]` in ALERT lines of `stderr`.
pub fn alert_lines(stderr: &str, file: &str) -> BTreeSet<u32> {
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

/// Every `*.cfg` of `dir`, sorted.
pub fn corpus(dir: &Path) -> Vec<String> {
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
pub struct Outcome {
    /// `None`: killed by a signal.
    pub exit: Option<i32>,
    pub err: Vec<String>,
    pub out: Vec<String>,
}

/// One output line as the record holds it: `TAG TEXT` when the line is printable ASCII
/// without trailing blanks, else `TAG-esc TEXT` with `\\`, `\t`, `\r` and `\xHH` escapes;
/// an empty line is `TAG` alone.
pub fn encode(tag: &str, line: &[u8]) -> String {
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
pub fn decode(tag: &str, rec: &str) -> Option<Vec<u8>> {
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
pub fn is_banner(line: &[u8]) -> bool {
    let l = String::from_utf8_lossy(line);
    l.starts_with("[NOTICE]")
        && (l.contains(": haproxy version is ") || l.contains(": path to executable is "))
}

/// `[ALERT]    (1234) : ...` becomes `[ALERT]    : ...`.
pub fn strip_pid(line: &[u8]) -> Vec<u8> {
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
pub fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

impl Outcome {
    /// The outcome of a run, normalized.
    pub fn of(o: &Output) -> Outcome {
        Outcome::from_streams(o.status.code(), &o.stdout, &o.stderr)
    }

    /// The outcome of a run that exited with `exit` after printing `stdout` and `stderr`,
    /// normalized.
    pub fn from_streams(exit: Option<i32>, stdout: &[u8], stderr: &[u8]) -> Outcome {
        Outcome {
            exit,
            err: lines_of(stderr)
                .into_iter()
                .filter(|l| !is_banner(l))
                .map(|l| encode("err", &strip_pid(l)))
                .collect(),
            out: lines_of(stdout)
                .into_iter()
                .map(|l| encode("out", l))
                .collect(),
        }
    }

    /// The stderr text (decoded), for [`alert_lines`] and messages.
    pub fn err_text(&self) -> String {
        let mut s = String::new();
        for l in &self.err {
            let b = decode("err", l).unwrap_or_else(|| l.as_bytes().to_vec());
            s.push_str(&String::from_utf8_lossy(&b));
            s.push('\n');
        }
        s
    }

    /// The record's lines: `exit N`, then the `err` and `out` lines.
    pub fn render(&self) -> String {
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

/// Where the expected outcomes of the configs are, under the workspace's `tests/`.
pub fn record_path(tests: &Path) -> PathBuf {
    tests.join("cfg").join("expected.txt")
}

/// Reads `tests/cfg/expected.txt`: `== FILE` then that file's record, for every file.
pub fn load_record(tests: &Path) -> Result<BTreeMap<String, Outcome>, String> {
    let path = record_path(tests);
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
pub fn write_record(tests: &Path, rec: &BTreeMap<String, Outcome>) {
    let mut s = String::from(
        "# Expected outcome of `haproxy -c -f FILE` for every tests/cfg/*.cfg, recorded from\n\
         # upstream HAProxy 2.6 by `HRS_DIFF_BLESS=1 cargo test -p haproxy-rs --test cfg_diff`.\n\
         # Format: tests/cfg/README.md. Do not edit by hand; review what a re-recording changes.\n",
    );
    for (name, o) in rec {
        let _ = write!(s, "\n== {name}\n{}", o.render());
    }
    let path = record_path(tests);
    std::fs::write(&path, s).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Reads `tests/cfg/pinned.txt`: `FILE REASON...` per line, `#` comments.
pub fn load_pins(tests: &Path) -> Result<BTreeMap<String, String>, String> {
    let path = tests.join("cfg").join("pinned.txt");
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
pub fn exit_by_name(file: &str) -> Option<i32> {
    [("ok-", 0), ("bad-", 1), ("nolisten-", 2)]
        .into_iter()
        .find(|(p, _)| file.starts_with(p))
        .map(|(_, c)| c)
}

/// How `ours`, the outcome of config `file`, differs from its record `exp`: the exit code,
/// the set of line numbers its `[ALERT]` lines cite, stdout, and the messages word for word
/// unless the file is pinned (`pin`: its reason in `tests/cfg/pinned.txt`); a pinned file
/// whose messages equal the record's again is a difference too (the pin must go). Empty
/// when `ours` passes.
pub fn judge(file: &str, exp: &Outcome, ours: &Outcome, pin: Option<&str>) -> Vec<String> {
    let (exp_err, our_err) = (exp.err_text(), ours.err_text());
    let mut what = Vec::new();
    if ours.exit != exp.exit {
        what.push(format!("exit {:?}, expected {:?}", ours.exit, exp.exit));
    }
    let (ol, el) = (alert_lines(&our_err, file), alert_lines(&exp_err, file));
    if ol != el {
        what.push(format!("ALERT lines {ol:?}, expected {el:?}"));
    }
    if ours.out != exp.out {
        what.push("stdout differs".to_string());
    }
    match pin {
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
    what
}

// ---------------------------------------------------------------------------------------
// `-cc` expressions

/// One line `CODE: EXPRESSION` of `tests/cc-exprs.txt`.
#[derive(Debug)]
pub struct Expr {
    /// Line number in the file.
    pub line: usize,
    /// The expected exit code: upstream's, or for `by_design` cases haproxy-rs's own.
    pub exit: i32,
    /// The argument of `-cc`, verbatim.
    pub text: String,
    /// Below the `# differs-by-design` line: checked on haproxy-rs only.
    pub by_design: bool,
}

/// Where the `-cc` expressions are, under the workspace's `tests/`.
pub fn exprs_path(tests: &Path) -> PathBuf {
    tests.join("cc-exprs.txt")
}

/// Parses `tests/cc-exprs.txt` (format in `tests/cfg/README.md`).
pub fn expressions(text: &str) -> Result<Vec<Expr>, String> {
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
