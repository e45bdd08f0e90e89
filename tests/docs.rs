//! `docs/config-subset.md` tells the truth: every keyword it lists as in effect is exercised
//! by a test.
//!
//! The test reads the document and extracts what it lists as working: the `global` and
//! proxy keywords whose "in effect" column says **yes**, the `server` options and
//! `option forwardfor` arguments marked so, the ACL methods, flags, keywords and predefined
//! ACLs, the sample fetches, converters and `set-var` conditions, the arguments of
//! `http-request return`/`deny`, the `log` targets, `len` and formats, the log-format
//! aliases and the CLI commands. It then looks for each one where tests exercise it:
//!
//! - configuration keywords must appear in a configuration that a test *runs*: the
//!   `[config]` of a `tests/h1/*.scn` scenario, a configuration written by an end-to-end
//!   test (`tests/*.rs`, `tests/common/`), by `tools/acceptance.sh` or by a unit test of a
//!   crate other than `hrs-cfg`. The `tests/cfg/` corpus and `hrs-cfg`'s own tests do not
//!   count: they only parse;
//! - fetches, converters, ACL methods and flags, predefined ACLs, `set-var` conditions,
//!   log-format aliases and CLI commands may also be found in the string literals of unit
//!   tests (`#[cfg(test)]` code of `crates/`) and in scenario scripts.
//!
//! A keyword found nowhere fails the test, unless [`ELSEWHERE`] names the test that
//! exercises it another way (checked to exist), [`CANNOT`] says why no test can, or it is
//! in [`UNTESTED`], the debt recorded when this guard was written. The lists must stay
//! true: an entry for a keyword that the document no longer lists, or that is now found in
//! a test, fails too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Keywords exercised by a test that does not spell them in a configuration (it builds the
/// model directly, or checks the effect through another entry point): keyword, file,
/// marker that must occur in that file (the test's name), why.
const ELSEWHERE: &[(&str, &str, &str, &str)] = &[];

/// Keywords no test can exercise, and why.
const CANNOT: &[(&str, &str)] = &[];

/// Keywords that work (checked by hand against haproxy 2.6.12 when this list was made) but
/// that no test exercises yet: debt reported in issue 12, to be paid by adding a test and
/// removing the entry (the test fails while an entry is stale). Nothing may be added here
/// to make a new keyword pass: a new keyword comes with its test.
const UNTESTED: &[&str] = &[];

/// What a keyword is, which decides where it is looked for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A `global` line starting with these words.
    Global(Vec<String>),
    /// A proxy line (`defaults`, `frontend`, `backend`, `listen`) starting with these words.
    Proxy(Vec<String>),
    /// A line starting with `head` whose other words contain `words` in a row (a `server`
    /// option, an `option forwardfor` or `http-request return` argument, a `log` part).
    Arg {
        head: Vec<String>,
        words: Vec<String>,
    },
    /// Text found in a test's string literal or a scenario, delimited so that it is not part
    /// of a longer name.
    Text(String),
}

impl Kind {
    fn name(&self) -> String {
        match self {
            Kind::Global(w) => format!("global: {}", w.join(" ")),
            Kind::Proxy(w) => format!("proxy: {}", w.join(" ")),
            Kind::Arg { head, words } => format!("{} ... {}", head.join(" "), words.join(" ")),
            Kind::Text(t) => t.clone(),
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The document

/// The backticked spans of `text`.
fn ticks(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.replace("\\|", "|"))
        .collect()
}

/// The cells of a table row, `\|` kept inside cells.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'|') {
            out.last_mut().unwrap().push_str("\\|");
            chars.next();
        } else if c == '|' {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(c);
        }
    }
    out.iter().map(|c| c.trim().to_string()).collect()
}

/// A word that stands for a value: `<n>`, `[...]`, `N`, `X`, `T`, `V`, `...`, `cond`.
fn placeholder(w: &str) -> bool {
    w.starts_with('<')
        || w.starts_with('[')
        || w == "..."
        || w == "cond"
        || (w.len() <= 2 && w.chars().all(|c| c.is_ascii_uppercase()))
}

/// The keyword forms of a signature such as `timeout connect|client <t>` or
/// `http-request return|set-var(<scope>.<name>)`: the leading words up to the first value,
/// each `a|b` alternative expanded, a word cut before `(`.
fn forms(sig: &str) -> Vec<Vec<String>> {
    let mut acc: Vec<Vec<String>> = vec![Vec::new()];
    for w in sig.split_whitespace() {
        if placeholder(w) {
            break;
        }
        let alts: Vec<String> = w
            .split('|')
            .map(|a| a.split('(').next().unwrap_or("").to_string())
            .collect();
        let mut next = Vec::new();
        let mut stop = false;
        for prefix in &acc {
            for a in &alts {
                if a.is_empty() || placeholder(a) {
                    next.push(prefix.clone());
                    stop = true;
                } else {
                    let mut p = prefix.clone();
                    p.push(a.clone());
                    next.push(p);
                }
            }
        }
        acc = next;
        if stop || w.contains('(') {
            break;
        }
    }
    let mut seen = BTreeSet::new();
    acc.retain(|f| !f.is_empty() && seen.insert(f.clone()));
    acc
}

/// The sections of the document: heading -> body.
fn sections(doc: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in doc.lines() {
        if line.starts_with('#') {
            out.push((
                line.trim_start_matches('#').trim().to_string(),
                String::new(),
            ));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

fn section<'a>(secs: &'a [(String, String)], name: &str) -> &'a str {
    secs.iter()
        .find(|(h, _)| h == name)
        .map(|(_, b)| b.as_str())
        .unwrap_or_else(|| panic!("docs/config-subset.md has no section '{name}'"))
}

/// The data rows of the tables of a section.
fn rows(body: &str) -> Vec<Vec<String>> {
    body.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(cells)
        .filter(|c| !matches!(c[0].as_str(), "keyword" | "part" | "command" | "fetch"))
        .collect()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The paragraph (or bullet) of `body` that starts with `start`, on one line.
fn para(body: &str, start: &str) -> String {
    let i = body
        .find(start)
        .unwrap_or_else(|| panic!("no paragraph starting with '{start}'"));
    let rest = &body[i..];
    let end = rest[1..]
        .find("\n- ")
        .map(|e| e + 1)
        .into_iter()
        .chain(rest.find("\n\n"))
        .min()
        .unwrap_or(rest.len());
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Everything the document lists as working.
fn listed(doc: &str) -> BTreeSet<Kind> {
    let secs = sections(doc);
    let mut out = BTreeSet::new();
    let yes = |c: &str| c.starts_with("yes");
    for r in rows(section(&secs, "global")) {
        if r.len() >= 3 && yes(&r[2]) {
            for t in ticks(&r[0]) {
                out.extend(forms(&t).into_iter().map(Kind::Global));
            }
        }
    }
    for r in rows(section(&secs, "frontend / backend / listen / defaults")) {
        if r.len() >= 3 && yes(&r[2]) {
            for t in ticks(&r[0]) {
                out.extend(forms(&t).into_iter().map(Kind::Proxy));
            }
        }
    }
    let server = words("server");
    for r in rows(section(&secs, "server")) {
        if r.len() >= 2 && yes(&r[1]) {
            for t in ticks(&r[0]) {
                for f in forms(&t) {
                    out.insert(Kind::Arg {
                        head: server.clone(),
                        words: f,
                    });
                }
            }
        }
    }
    // `option forwardfor [except <network>] [header <name>] [if-none]`
    let ff = section(&secs, "option forwardfor").replace('\n', " ");
    for t in ticks(&ff)
        .iter()
        .filter(|t| t.starts_with("option forwardfor "))
    {
        for opt in t.split('[').skip(1) {
            let w = opt.split([' ', ']']).next().unwrap_or("");
            out.insert(Kind::Arg {
                head: words("option forwardfor"),
                words: vec![w.to_string()],
            });
        }
    }
    // ACLs: methods, flags (not those accepted and ignored), keywords, predefined ACLs
    let acl = section(&secs, "ACLs and conditions");
    let methods = para(acl, "- Methods");
    let (list, rest) = methods.split_once('.').unwrap();
    for m in ticks(list).iter().filter(|m| *m != "-m") {
        out.insert(Kind::Text(format!("-m {m}")));
    }
    for sentence in rest
        .split(';')
        .filter(|s| !s.contains("accepted and ignored"))
    {
        for f in ticks(sentence).iter().filter(|t| t.starts_with('-')) {
            out.insert(Kind::Text(f.clone()));
        }
    }
    let kws = para(acl, "- ACL keywords");
    let (bases, rest) = kws.split_once("with the suffixes").unwrap();
    let (suffixes, rest) = rest.split_once('(').unwrap();
    for b in ticks(bases).iter().filter(|b| !b.contains(' ')) {
        for s in ticks(suffixes)[0].split_whitespace() {
            out.insert(Kind::Text(format!("{b}{s}")));
        }
    }
    let plus = rest.split_once("plus").map_or("", |x| x.1);
    for k in ticks(plus) {
        out.insert(Kind::Text(k));
    }
    for a in ticks(&para(acl, "- Predefined ACLs")) {
        out.insert(Kind::Text(a));
    }
    // fetches (the first column), converters, set-var conditions
    for r in rows(section(&secs, "Sample fetches")) {
        for t in ticks(&r[0]) {
            out.insert(Kind::Text(t.split('(').next().unwrap().to_string()));
        }
    }
    let fetches = section(&secs, "Sample fetches");
    let conv = para(fetches, "Converters");
    for c in ticks(conv.split_once(':').unwrap().1)
        .into_iter()
        .filter(|c| !c.contains(' '))
    {
        out.insert(Kind::Text(format!(",{c}")));
    }
    let vars = para(fetches, "Variables");
    let conds = vars.split_once("with the conditions").unwrap().1;
    for c in ticks(conds.split(';').next().unwrap()) {
        out.insert(Kind::Text(c));
    }
    // replies
    let replies = section(&secs, "Replies: `http-request return` and `deny`");
    let sig = ticks(&para(replies, "`http-request return"))[0].clone();
    for part in sig.split('[').skip(1) {
        for alt in part.split('|') {
            let w = alt.trim().split([' ', ']']).next().unwrap_or("");
            // `if`/`unless` start the condition, not a reply argument
            if !w.is_empty() && !placeholder(w) && w != "if" && w != "unless" {
                out.insert(Kind::Arg {
                    head: words("http-request return"),
                    words: vec![w.to_string()],
                });
            }
        }
    }
    out.insert(Kind::Arg {
        head: words("http-request deny"),
        words: words("deny_status"),
    });
    // logs: targets stdout/stderr, len, formats; aliases
    let logs = section(&secs, "Logs");
    let log = words("log");
    for r in rows(logs) {
        let ts = ticks(&r[0]);
        match r[0].as_str() {
            "target" => {
                for t in ticks(&r[1]).iter().filter(|t| t.starts_with("std")) {
                    out.insert(Kind::Arg {
                        head: log.clone(),
                        words: vec![t.clone()],
                    });
                }
            }
            _ if ts.first().is_some_and(|t| t.starts_with("format ")) => {
                for t in &ts {
                    let f = t.trim_start_matches("format ");
                    out.insert(Kind::Arg {
                        head: log.clone(),
                        words: words(&format!("format {f}")),
                    });
                }
            }
            _ if ts == ["len"] => {
                out.insert(Kind::Arg {
                    head: log.clone(),
                    words: words("len"),
                });
            }
            _ => {}
        }
    }
    let aliases = para(logs, "`log-format` strings");
    let list = aliases.split_once("Aliases:").unwrap().1;
    let list = list.split_once(". ").unwrap().0;
    for a in ticks(list).iter().flat_map(|t| t.split_whitespace()) {
        out.insert(Kind::Text(a.to_string()));
    }
    // CLI commands
    for r in rows(section(&secs, "Stats socket CLI")) {
        if r.len() >= 2 && matches!(r[1].as_str(), "any" | "admin") {
            for t in ticks(&r[0]) {
                for f in forms(&t) {
                    out.insert(Kind::Text(f.join(" ")));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The tests

/// String literals of Rust source `text` with their byte offsets; code braces with theirs.
struct Lexed {
    literals: Vec<(usize, String)>,
    /// (offset, +1 for `{`, -1 for `}`) outside literals and comments.
    braces: Vec<(usize, i32)>,
    /// Offsets of `#[cfg(test)]` outside literals and comments.
    test_attrs: Vec<usize>,
    /// Offsets of `;` outside literals and comments.
    semis: Vec<usize>,
}

fn lex(text: &str) -> Lexed {
    let b = text.as_bytes();
    let mut l = Lexed {
        literals: Vec::new(),
        braces: Vec::new(),
        test_attrs: Vec::new(),
        semis: Vec::new(),
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if b[i..].starts_with(b"//") {
            i += b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .unwrap_or(b.len() - i);
        } else if b[i..].starts_with(b"/*") {
            i += b[i..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(b.len() - i, |p| p + 2);
        } else if b[i..].starts_with(b"#[cfg(test)]") {
            l.test_attrs.push(i);
            i += 12;
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'"' | b'#'))
            && (!ident(b, i) || (b[i - 1] == b'b' && !ident(b, i - 1)))
        {
            let hashes = b[i + 1..].iter().take_while(|&&x| x == b'#').count();
            let start = i + 2 + hashes;
            let close: Vec<u8> = std::iter::once(b'"').chain(vec![b'#'; hashes]).collect();
            let end = b[start..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| start + p);
            l.literals.push((i, text[start..end].to_string()));
            i = end + close.len();
        } else if c == b'"' {
            let (s, end) = string_at(text, i + 1);
            l.literals.push((i, s));
            i = end;
        } else if c == b'\'' {
            // a char literal ('x', '\n', '\'') or a lifetime
            if b.get(i + 1) == Some(&b'\\') {
                // the escaped character, then the closing quote
                let from = (i + 3).min(b.len());
                i = from + b[from..].iter().position(|&x| x == b'\'').unwrap_or(0) + 1;
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else {
            match c {
                b'{' => l.braces.push((i, 1)),
                b'}' => l.braces.push((i, -1)),
                b';' => l.semis.push(i),
                _ => {}
            }
            i += 1;
        }
    }
    l
}

fn ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// Reads a normal string literal whose contents start at `i`; returns them unescaped and
/// the offset after the closing quote.
fn string_at(text: &str, mut i: usize) -> (String, usize) {
    let b = text.as_bytes();
    let mut out = String::new();
    while i < b.len() {
        match b[i] {
            b'"' => return (out, i + 1),
            b'\\' => {
                match b.get(i + 1) {
                    Some(b'n') => out.push('\n'),
                    Some(b'r') => out.push('\r'),
                    Some(b't') => out.push('\t'),
                    Some(b'0') => out.push('\0'),
                    Some(b'\n') => {
                        i += 2;
                        while i < b.len() && b[i].is_ascii_whitespace() {
                            i += 1;
                        }
                        continue;
                    }
                    Some(&c) => out.push(c as char),
                    None => {}
                }
                i += 2;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap();
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    (out, i)
}

/// The string literals of the test code of a crate source file: `#[cfg(test)]` items and
/// the files they name (`mod tests;`), or the whole file when it is one of those. A string
/// constant of the file (`const NAME: &str = "..."`) that the test code names counts too:
/// the tests render it (the log formats of `option httplog`...).
fn test_literals(path: &Path, whole: bool, out: &mut Vec<String>) {
    let text = read(path);
    let l = lex(&text);
    let mut regions: Vec<(usize, usize)> = Vec::new();
    if whole {
        regions.push((0, text.len()));
    }
    for &a in l.test_attrs.iter().filter(|_| !whole) {
        let brace = l
            .braces
            .iter()
            .find(|&&(o, d)| o > a && d == 1)
            .map(|x| x.0);
        let semi = l.semis.iter().find(|&&o| o > a).copied();
        match (brace, semi) {
            (_, Some(s)) if brace.is_none_or(|b| s < b) => {
                // `#[cfg(test)] mod name;`
                let item = &text[a + 12..s];
                if let Some(name) = item.trim().strip_prefix("mod ") {
                    let dir = path.parent().unwrap();
                    for p in [
                        dir.join(format!("{name}.rs")),
                        dir.join(name).join("mod.rs"),
                    ] {
                        if p.is_file() {
                            test_literals(&p, true, out);
                        }
                    }
                }
            }
            (Some(open), _) => {
                let mut depth = 0;
                let mut close = text.len();
                for &(o, d) in l.braces.iter().filter(|x| x.0 >= open) {
                    depth += d;
                    if depth == 0 {
                        close = o;
                        break;
                    }
                }
                regions.push((a, close));
            }
            _ => {}
        }
    }
    let inside = |o: usize| regions.iter().any(|&(a, b)| o >= a && o < b);
    out.extend(
        l.literals
            .iter()
            .filter(|x| inside(x.0))
            .map(|x| x.1.clone()),
    );
    for (o, lit) in l.literals.iter().filter(|x| !inside(x.0)) {
        let head = &text[text[..*o].rfind('\n').map_or(0, |n| n + 1)..*o];
        let Some(decl) = head.trim().split("const ").nth(1) else {
            continue;
        };
        let Some(name) = decl
            .strip_suffix('=')
            .map(str::trim)
            .and_then(|d| d.strip_suffix(": &str"))
        else {
            continue;
        };
        if regions.iter().any(|&(a, b)| delimited(&text[a..b], name)) {
            out.push(lit.clone());
        }
    }
}

/// A line of a configuration a test runs, with the section it is in when known.
#[derive(Debug)]
struct CfgLine {
    /// `Some(true)` in `global`, `Some(false)` in a proxy section, `None` when the text
    /// does not say (a configuration fragment).
    global: Option<bool>,
    words: Vec<String>,
}

fn cfg_lines(text: &str, out: &mut Vec<CfgLine>) {
    let mut global = None;
    for line in text.lines() {
        let w: Vec<String> = line
            .split_whitespace()
            .map(|w| w.split('(').next().unwrap_or("").to_string())
            .collect();
        let Some(first) = w.first() else { continue };
        match first.as_str() {
            "global" => global = Some(true),
            "defaults" | "frontend" | "backend" | "listen" => global = Some(false),
            _ => {}
        }
        out.push(CfgLine { global, words: w });
    }
}

/// Where tests exercise keywords.
struct Corpus {
    /// Configurations tests run.
    cfg: Vec<CfgLine>,
    /// Every string literal of test code, and every scenario file.
    text: Vec<String>,
}

fn corpus() -> Corpus {
    let root = root();
    let mut cfg = Vec::new();
    let mut text = Vec::new();
    let mut scn = Vec::new();
    files(&root.join("tests"), "scn", &mut scn);
    for p in &scn {
        let t = read(p);
        let mut in_cfg = false;
        let mut conf = String::new();
        for line in t.lines() {
            if line.starts_with('[') {
                in_cfg = line.trim() == "[config]";
                conf.push_str("\n#section\n");
                continue;
            }
            if in_cfg {
                conf.push_str(line);
                conf.push('\n');
            }
        }
        for part in conf.split("\n#section\n") {
            cfg_lines(part, &mut cfg);
        }
        text.push(t);
    }
    // end-to-end tests: every literal may hold (part of) a configuration they run
    let mut rs = Vec::new();
    files(&root.join("tests"), "rs", &mut rs);
    for p in &rs {
        if p.ends_with("docs.rs") {
            continue;
        }
        for (_, s) in lex(&read(p)).literals {
            cfg_lines(&s, &mut cfg);
            text.push(s);
        }
    }
    let acc = read(&root.join("tools/acceptance.sh"));
    for (i, block) in acc.split("<<EOF").enumerate().skip(1) {
        let _ = i;
        cfg_lines(block.split("\nEOF").next().unwrap_or(""), &mut cfg);
    }
    // unit tests: a file named `tests.rs` or under a `tests/` directory of `src/` is test
    // code as a whole. Their configurations count as run, except those of `hrs-cfg`, whose
    // tests only parse.
    let mut src = Vec::new();
    files(&root.join("crates"), "rs", &mut src);
    for p in src
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "src"))
    {
        let rel = p.strip_prefix(&root).unwrap_or(p);
        let in_src: Vec<&std::ffi::OsStr> = rel
            .components()
            .map(|c| c.as_os_str())
            .skip_while(|c| *c != "src")
            .collect();
        let whole = p.file_stem().is_some_and(|s| s == "tests")
            || in_src.iter().rev().skip(1).any(|c| *c == "tests");
        let mut lits = Vec::new();
        test_literals(p, whole, &mut lits);
        if !rel.starts_with("crates/cfg") {
            for l in &lits {
                cfg_lines(l, &mut cfg);
            }
        }
        text.extend(lits);
    }
    Corpus { cfg, text }
}

/// Is `needle` in `hay` with no name character right before or after it?
fn delimited(hay: &str, needle: &str) -> bool {
    let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut from = 0;
    while let Some(p) = hay[from..].find(needle) {
        let s = from + p;
        let e = s + needle.len();
        let before_ok = !needle.starts_with(name) || !hay[..s].ends_with(name);
        let after_ok = !needle.ends_with(name) || !hay[e..].starts_with(name);
        if before_ok && after_ok {
            return true;
        }
        from = s + 1;
    }
    false
}

fn exercised(k: &Kind, c: &Corpus) -> bool {
    let starts = |l: &CfgLine, w: &[String]| l.words.len() >= w.len() && l.words[..w.len()] == *w;
    match k {
        Kind::Global(w) => c
            .cfg
            .iter()
            .any(|l| l.global != Some(false) && starts(l, w)),
        Kind::Proxy(w) => c.cfg.iter().any(|l| l.global != Some(true) && starts(l, w)),
        Kind::Arg { head, words } => c.cfg.iter().any(|l| {
            starts(l, head)
                && l.words[head.len()..]
                    .windows(words.len())
                    .any(|x| x == words.as_slice())
        }),
        Kind::Text(t) => c.text.iter().any(|s| delimited(s, t)),
    }
}

#[test]
fn every_listed_keyword_is_exercised() {
    let doc = read(&root().join("docs/config-subset.md"));
    let listed = listed(&doc);
    // the extraction itself: a few entries of each kind must be there
    for probe in [
        Kind::Global(words("tune.bufsize")),
        Kind::Proxy(words("timeout http-keep-alive")),
        Kind::Proxy(words("http-request set-var")),
        Kind::Arg {
            head: words("server"),
            words: words("proto h2"),
        },
        Kind::Arg {
            head: words("option forwardfor"),
            words: words("if-none"),
        },
        Kind::Text("-m beg".into()),
        Kind::Text("path_beg".into()),
        Kind::Text("METH_GET".into()),
        Kind::Text("req.hdr_cnt".into()),
        Kind::Text(",lower".into()),
        Kind::Text("ifnotexists".into()),
        Kind::Text("%Tw".into()),
        Kind::Text("show servers state".into()),
    ] {
        assert!(listed.contains(&probe), "not extracted: {probe:?}");
    }
    assert!(
        !listed.contains(&Kind::Text("-u".into())),
        "-u is accepted and ignored"
    );

    let names: BTreeSet<String> = listed.iter().map(Kind::name).collect();
    let root = root();
    for (kw, file, marker, why) in ELSEWHERE {
        assert!(
            names.contains(*kw),
            "ELSEWHERE names '{kw}', which the document does not list ({why})"
        );
        assert!(
            read(&root.join(file)).contains(marker),
            "ELSEWHERE: '{marker}' is not in {file} (for '{kw}')"
        );
    }
    for (kw, why) in CANNOT {
        assert!(
            names.contains(*kw),
            "CANNOT names '{kw}', which the document does not list ({why})"
        );
    }
    let c = corpus();
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    for k in &listed {
        let n = k.name();
        let excused = ELSEWHERE.iter().any(|e| e.0 == n)
            || CANNOT.iter().any(|e| e.0 == n)
            || UNTESTED.contains(&n.as_str());
        match (exercised(k, &c), excused) {
            (false, false) => missing.push(n),
            (true, true) => stale.push(n),
            _ => {}
        }
    }
    assert!(
        stale.is_empty(),
        "now exercised by a test, remove from ELSEWHERE/CANNOT/UNTESTED: {stale:#?}"
    );
    assert!(
        missing.is_empty(),
        "{} keywords listed as working in docs/config-subset.md are exercised by no test \
         (add a test, or correct the document):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The extraction rules on small inputs, so that a change of the document's layout that
/// silently drops keywords is noticed.
#[test]
fn extraction_rules() {
    assert_eq!(
        forms("timeout connect|client <t>"),
        [words("timeout connect"), words("timeout client")]
    );
    assert_eq!(
        forms("http-request return|set-var(<scope>.<name>[,<cond>...])"),
        [words("http-request return"), words("http-request set-var")]
    );
    assert_eq!(
        forms("log global|<target> ..."),
        [words("log global"), words("log")]
    );
    assert_eq!(forms("maxconn N"), [words("maxconn")]);
    assert_eq!(cells("| `a\\|b` | c |"), ["`a\\|b`", "c"]);
    assert_eq!(ticks("x `a\\|b` y `c`"), ["a|b", "c"]);
    assert!(delimited("if { path_beg /x }", "path_beg"));
    assert!(!delimited("req.hdr_cnt(x)", "hdr_cnt"));
    assert!(!delimited("base64", "base"));
    assert!(delimited("x,lower", ",lower"));
    assert!(delimited("%[x] %Tw", "%Tw"));
    let src = "fn a() { \"no\" }\n#[cfg(test)]\nmod t {\n    fn b() { let s = \"yes{\"; let c = '}'; }\n}\nfn c() { \"after\" }\n";
    let dir = std::env::temp_dir().join(format!("hrs-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("x.rs");
    std::fs::write(&p, src).unwrap();
    let mut out = Vec::new();
    test_literals(&p, false, &mut out);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out, ["yes{"]);
    let mut lines = Vec::new();
    cfg_lines(
        "global\n  maxconn 5\nbackend b\n  http-request set-var(txn.x) str(a)\n",
        &mut lines,
    );
    assert_eq!(lines[1].global, Some(true));
    assert_eq!(lines[3].words[..2], words("http-request set-var"));
}
