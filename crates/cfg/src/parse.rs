//! The configuration reader: HAProxy's `parse_cfg()` loop and its section parsers
//! (`cfg_parse_global`, `cfg_parse_listen`) for the subset haproxy-rs implements.
//!
//! Owns the reading state (current section, current proxy, defaults sections, `.if` stack)
//! and fills a [`Config`]; every problem becomes a [`Diag`](crate::Diag) worded like
//! upstream's. Keywords outside the subset are rejected with an alert naming file, line and
//! keyword; the few pure tuning knobs that are accepted and ignored are listed in
//! [`IGNORED_GLOBAL`] and in `docs/config-subset.md`.

use crate::cond::{eval_condition, CondCtx};
use crate::diag::{io_reason, Diags, Level, Loc};
use crate::lexer::{parse_line, Env, LexError, Line, Opts};
use crate::model::*;
use crate::units::{atoi, atol, parse_time, TimeError, TimeUnit};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Global keywords accepted and ignored: tuning knobs with no behavioural effect here.
pub const IGNORED_GLOBAL: &[&str] = &[
    "tune.runqueue-depth",
    "tune.maxaccept",
    "tune.maxpollevents",
    "tune.recv_enough",
    "spread-checks",
    "quiet",
    "description",
    "node",
    "expose-experimental-directives",
    "set-dumpable",
    "insecure-fork-wanted",
    "busy-polling",
    "ulimit-n",
    "hard-stop-after",
    "zero-warning",
];

const MAX_NESTED_CONDS: usize = 100;

/// What the reader needs from the process: features and version (for `.if` conditions) and
/// the sample layer's keyword tables (for `acl` lines and conditions).
pub struct ParseCtx<'a> {
    /// The feature list `feature()` tests (`+NAME -NAME ...`).
    pub features: &'a str,
    /// The version `version_atleast()`/`version_before()` compare with.
    pub version: &'a str,
    /// Fetches, ACL keywords and predefined ACLs, asked by `acl` lines and conditions.
    pub acl_kws: &'a dyn crate::acl::AclKeywords,
}

struct CondEnv<'a> {
    ctx: &'a ParseCtx<'a>,
}

impl CondCtx for CondEnv<'_> {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
    fn features(&self) -> &str {
        self.ctx.features
    }
    fn version(&self) -> &str {
        self.ctx.version
    }
}

/// The lexer's environment for config lines: the process plus `.FILE`, `.LINE`, `.SECTION`.
struct LineEnv<'a> {
    file: &'a str,
    line: usize,
    section: &'a str,
}

impl Env for LineEnv<'_> {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            ".FILE" => Some(self.file.to_string()),
            ".LINE" => Some(self.line.to_string()),
            ".SECTION" => Some(self.section.to_string()),
            n if n.starts_with('.') => None,
            n => std::env::var_os(n).map(|v| v.to_string_lossy().into_owned()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CondState {
    IfTake,
    IfDrop,
    IfSkip,
    ElifTake,
    ElifDrop,
    ElifSkip,
    ElseTake,
    ElseDrop,
}

impl CondState {
    fn masks(self) -> bool {
        matches!(
            self,
            CondState::IfDrop
                | CondState::IfSkip
                | CondState::ElifDrop
                | CondState::ElifSkip
                | CondState::ElseDrop
        )
    }
    fn is_else(self) -> bool {
        matches!(self, CondState::ElseTake | CondState::ElseDrop)
    }
    fn taken(self) -> bool {
        matches!(
            self,
            CondState::IfTake | CondState::IfSkip | CondState::ElifTake | CondState::ElifSkip
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    None,
    Global,
    Proxy,
    /// A section HAProxy knows but haproxy-rs does not implement; its lines are skipped.
    Unsupported,
    /// A proxy section whose header was refused: no proxy exists to hold its keywords.
    NoProxy,
}

/// Outcome of one file: stop reading everything (`ERR_ABORT`) or go on.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Abort,
}

struct Reader<'a> {
    ctx: &'a ParseCtx<'a>,
    d: Diags,
    cfg: Config,
    section: Section,
    section_name: String,
    /// The proxy being filled (a frontend/backend/listen or a defaults section).
    cur: Option<Proxy>,
    /// Every defaults section seen, named or not, in order.
    defaults: Vec<Proxy>,
    /// The defaults in force for the next proxies (the last defaults section).
    last_def: Proxy,
}

/// Reads `files` in order and checks the result.
///
/// Returns the configuration (even when invalid, for `-c` reporting) and the diagnostics;
/// `diags.fatal` tells whether it may start.
pub fn parse_files(files: &[PathBuf], ctx: &ParseCtx) -> (Config, Diags) {
    let mut r = Reader {
        ctx,
        d: Diags::default(),
        cfg: Config::default(),
        section: Section::None,
        section_name: String::new(),
        cur: None,
        defaults: Vec::new(),
        last_def: Proxy::preset("", Cap::DEF),
    };
    for f in files {
        let name = f.to_string_lossy().into_owned();
        let content = match std::fs::read(f) {
            Ok(c) => c,
            Err(e) => {
                r.d.alert(format!(
                    "Could not open configuration file {name} : {}",
                    io_reason(&e)
                ));
                return (r.cfg, r.d);
            }
        };
        let before = r.d.fatal;
        r.d.fatal = false;
        let flow = r.read_file(&name, &content);
        if r.d.fatal {
            r.d.alert(format!("Error(s) found in configuration file : {name}"));
        }
        r.d.fatal |= before;
        if flow == Flow::Abort {
            r.d.aborted = true;
            return (r.cfg, r.d);
        }
    }
    if !r.d.fatal {
        crate::check::check_config(&mut r.cfg, &mut r.d);
    }
    (r.cfg, r.d)
}

impl<'a> Reader<'a> {
    fn read_file(&mut self, file: &str, content: &[u8]) -> Flow {
        let mut conds: Vec<CondState> = Vec::new();
        let mut lines = content.split(|&b| b == b'\n').peekable();
        let mut linenum = 0;
        let mut fatal_here = 0usize;
        while let Some(mut raw) = lines.next() {
            let last = lines.peek().is_none();
            if last && raw.is_empty() {
                break; // the file ended with a newline
            }
            linenum += 1;
            // A line cut by a NUL byte, or the last line without LF, is processed up to there;
            // then HAProxy reports it (and stops reading after a stray NUL).
            let mut truncated_at = None;
            if let Some(p) = raw.iter().position(|&b| b == 0) {
                truncated_at = Some(p);
                raw = &raw[..p];
            } else if last {
                truncated_at = Some(raw.len());
            }
            if let Some(p) = truncated_at {
                let loc = Loc {
                    file: file.to_string(),
                    line: linenum,
                };
                let flow = self.one_line(file, linenum, raw, &mut conds, &mut fatal_here);
                if flow == Flow::Abort {
                    return Flow::Abort;
                }
                if last {
                    self.d.alert_at(&loc, format!("Missing LF on last line, file might have been truncated at position {}.", p + 1));
                } else {
                    self.d
                        .alert_at(&loc, format!("Stray NUL character at position {}.", p + 1));
                }
                break;
            }
            if self.one_line(file, linenum, raw, &mut conds, &mut fatal_here) == Flow::Abort {
                return Flow::Abort;
            }
        }
        self.finish_section();
        if !conds.is_empty() {
            let loc = Loc {
                file: file.to_string(),
                line: linenum,
            };
            self.d.alert_at(&loc, "non-terminated '.if' block.");
            return Flow::Abort;
        }
        Flow::Continue
    }

    /// One raw line (without its LF): lexing, conditional blocks, directives, keywords.
    fn one_line(
        &mut self,
        file: &str,
        linenum: usize,
        raw: &[u8],
        conds: &mut Vec<CondState>,
        fatal_here: &mut usize,
    ) -> Flow {
        let loc = Loc {
            file: file.to_string(),
            line: linenum,
        };
        if *fatal_here >= 50 {
            self.d.alert_at(
                &loc,
                format!("too many fatal errors ({fatal_here}), stopping now."),
            );
            return Flow::Abort;
        }
        let start = raw
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(raw.len());
        let text = &raw[start..];
        if text.first() == Some(&b'[') {
            self.d
                .alert_at(&loc, "config scopes ('[...]') are not supported.");
            *fatal_here += 1;
            return Flow::Continue;
        }
        let env = LineEnv {
            file,
            line: linenum,
            section: &self.section_name,
        };
        let line = match parse_line(text, Opts::CONFIG, &env) {
            Ok(l) => l,
            Err(e) => {
                let pos = match e {
                    LexError::Quote { pos }
                    | LexError::Brace { pos }
                    | LexError::VarName { pos }
                    | LexError::Hex { pos }
                    | LexError::WrongExpand { pos } => Some(pos + start),
                    LexError::TooMany => None,
                };
                let msg = match pos {
                    Some(p) => e.describe().replace(
                        &format!("position {}", p - start + 1),
                        &format!("position {}", p + 1),
                    ),
                    None => e.describe(),
                };
                self.d
                    .alert_at(&loc, format!("{msg}:\n  {}", String::from_utf8_lossy(text)));
                *fatal_here += 1;
                return Flow::Continue;
            }
        };
        if line.is_empty() {
            return Flow::Continue;
        }
        if let Some(i) = line.first_empty() {
            self.d.warn_at(
                &loc,
                format!(
                    "argument number {i} is empty and marks the end of the argument list; all subsequent arguments will be ignored"
                ),
            );
        }
        let w0 = line.word(0);
        // conditional blocks
        if w0.starts_with('.') {
            match w0.as_str() {
                ".if" | ".elif" => {
                    let is_if = w0 == ".if";
                    if is_if {
                        if conds.len() + 1 >= MAX_NESTED_CONDS {
                            self.d.alert_at(
                                &loc,
                                format!("too many nested '.if', max is {MAX_NESTED_CONDS}."),
                            );
                            return Flow::Abort;
                        }
                        if conds.last().is_some_and(|c| c.masks()) {
                            conds.push(CondState::IfSkip);
                            return Flow::Continue;
                        }
                    } else {
                        let Some(top) = conds.last().copied() else {
                            self.d
                                .alert_at(&loc, "lone '.elif' with no matching '.if'.");
                            return Flow::Abort;
                        };
                        if top.is_else() {
                            self.d
                                .alert_at(&loc, "'.elif' after '.else' is not permitted.");
                            return Flow::Abort;
                        }
                        if top.taken() {
                            *conds.last_mut().unwrap() = CondState::ElifSkip;
                            return Flow::Continue;
                        }
                    }
                    let expr = line.merged_from(1);
                    match eval_condition(&expr, &CondEnv { ctx: self.ctx }) {
                        Ok(v) => {
                            let st = match (is_if, v) {
                                (true, true) => CondState::IfTake,
                                (true, false) => CondState::IfDrop,
                                (false, true) => CondState::ElifTake,
                                (false, false) => CondState::ElifDrop,
                            };
                            if is_if {
                                conds.push(st);
                            } else {
                                *conds.last_mut().unwrap() = st;
                            }
                        }
                        Err(e) => {
                            self.d.alert_at(
                                &loc,
                                format!(
                                    "{} in '{w0}' at position {}:\n  {w0} {expr}",
                                    e.msg,
                                    e.pos + 1
                                ),
                            );
                            return Flow::Abort;
                        }
                    }
                    return Flow::Continue;
                }
                ".else" | ".endif" => {
                    if !line.word(1).is_empty() {
                        self.d.alert_at(
                            &loc,
                            format!("Unexpected argument '{}' for '{w0}'.", line.word(1)),
                        );
                        return Flow::Abort;
                    }
                    let Some(top) = conds.last().copied() else {
                        self.d
                            .alert_at(&loc, format!("lone '{w0}' with no matching '.if'."));
                        return Flow::Abort;
                    };
                    if w0 == ".endif" {
                        conds.pop();
                    } else if top.is_else() {
                        self.d
                            .alert_at(&loc, "'.else' after '.else' is not permitted.");
                        return Flow::Abort;
                    } else {
                        *conds.last_mut().unwrap() = if top.taken() || top == CondState::IfSkip {
                            CondState::ElseDrop
                        } else {
                            CondState::ElseTake
                        };
                    }
                    return Flow::Continue;
                }
                _ => {}
            }
        }
        if conds.last().is_some_and(|c| c.masks()) {
            return Flow::Continue;
        }
        if w0.starts_with('.') {
            match w0.as_str() {
                ".alert" | ".warning" | ".notice" | ".diag" => {
                    if !line.word(2).is_empty() {
                        self.d.alert_at(
                            &loc,
                            format!(
                                "Unexpected argument '{}' for '{w0}'. Use quotes if the message should contain spaces.",
                                line.word(2)
                            ),
                        );
                        *fatal_here += 1;
                        return Flow::Continue;
                    }
                    let msg = format!("'{}'.", line.word(1));
                    match w0.as_str() {
                        ".alert" => {
                            self.d.alert_at(&loc, msg);
                            return Flow::Abort;
                        }
                        ".warning" => self.d.warn_at(&loc, msg),
                        ".notice" => self.d.note_at(Level::Notice, &loc, msg),
                        _ => self.d.note_at(Level::Diag, &loc, msg),
                    }
                }
                _ => {
                    self.d.alert_at(&loc, format!("unknown directive '{w0}'."));
                    *fatal_here += 1;
                }
            }
            return Flow::Continue;
        }
        let before = self.d.fatal_count;
        if self.line(&loc, &line) == Flow::Abort {
            self.finish_section();
            return Flow::Abort;
        }
        *fatal_here += self.d.fatal_count - before;
        Flow::Continue
    }

    /// Closes the current proxy section and files it.
    fn finish_section(&mut self) {
        if let Some(p) = self.cur.take() {
            if p.cap.is_defaults() {
                self.last_def = p.clone();
                self.defaults.push(p);
            } else {
                self.cfg.proxies.push(p);
            }
        }
    }

    /// One meaningful line: a section start or a keyword of the current section.
    fn line(&mut self, loc: &Loc, line: &Line) -> Flow {
        let mut words = line.words();
        if let Some(i) = line.first_empty() {
            words.truncate(i);
        }
        let mut negate = false;
        if words[0] == "no" || words[0] == "default" {
            negate = words[0] == "no";
            let kw = words.get(1).cloned().unwrap_or_default();
            if !matches!(kw.as_str(), "option" | "log") {
                self.d.alert_at(
                    loc,
                    "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
                );
            }
            words.remove(0);
            if words.is_empty() {
                return Flow::Continue;
            }
        }
        match words[0].as_str() {
            "global" => {
                self.finish_section();
                self.section = Section::Global;
                self.section_name = "global".into();
                if words.len() > 1 {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'{}' cannot handle unexpected argument '{}'.",
                            words[0], words[1]
                        ),
                    );
                }
                return Flow::Continue;
            }
            "defaults" | "frontend" | "backend" | "listen" => {
                self.finish_section();
                return self.start_proxy(loc, &words);
            }
            "userlist" | "peers" | "resolvers" | "mailers" | "http-errors" | "ring" | "cache"
            | "program" | "log-forward" => {
                self.finish_section();
                self.section = Section::Unsupported;
                self.section_name = words.get(1).cloned().unwrap_or_else(|| words[0].clone());
                self.d.alert_at(
                    loc,
                    format!("section '{}' is not supported by haproxy-rs.", words[0]),
                );
                return Flow::Continue;
            }
            _ => {}
        }
        match self.section {
            Section::None => {
                self.d.alert_at(
                    loc,
                    format!("unknown keyword '{}' out of section.", words[0]),
                );
                Flow::Continue
            }
            Section::Unsupported => Flow::Continue,
            Section::NoProxy => {
                self.d.alert_at(loc, "'listen' or 'defaults' expected.");
                Flow::Continue
            }
            Section::Global => {
                self.global_kw(loc, &words);
                Flow::Continue
            }
            Section::Proxy => self.proxy_kw(loc, &words, negate),
        }
    }

    fn start_proxy(&mut self, loc: &Loc, w: &[String]) -> Flow {
        let cap = match w[0].as_str() {
            "frontend" => Cap::FE,
            "backend" => Cap::BE,
            "listen" => Cap::LISTEN,
            _ => Cap::DEF,
        };
        self.section = Section::Proxy;
        let is_def = cap.is_defaults();
        // `<kw> <name> [from <defaults>]`; a defaults section may omit its name
        // (`defaults from <defaults>`). `used` counts the words these forms take.
        let word = |i: usize| w.get(i).cloned().unwrap_or_default();
        let (name, from, used) = if is_def && word(1) == "from" && w.len() >= 3 {
            (String::new(), Some(word(2)), 3)
        } else if word(2) == "from" && w.len() >= 4 {
            (word(1), Some(word(3)), 4)
        } else {
            (word(1), None, 2)
        };
        self.section_name = if name.is_empty() {
            w[0].clone()
        } else {
            name.clone()
        };
        if !is_def && name.is_empty() {
            self.d
                .alert_at(loc, format!("'{}' expects an <id> argument", w[0]));
            return Flow::Abort;
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
        {
            self.d.alert_at(
                loc,
                format!(
                    "character '{c}' is not permitted in '{}' name '{name}'.",
                    w[0]
                ),
            );
        }
        if !is_def {
            let clash = self.cfg.proxies.iter().find(|p| {
                p.name == name
                    && ((cap.contains(Cap::FE) && p.cap.contains(Cap::FE))
                        || (cap.contains(Cap::BE) && p.cap.contains(Cap::BE)))
            });
            if let Some(p) = clash {
                let at = p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default();
                let msg = format!(
                    "{} '{name}' has the same name as {} '{name}' declared at {at}.",
                    w[0],
                    p.cap.section_name()
                );
                self.d.alert_at(loc, msg);
            }
        }
        if w.len() > used {
            // Upstream creates no proxy then: every keyword up to the next section is refused.
            if w.len() > 4 {
                self.too_many_args(loc, w, 3);
            }
            if cap.contains(Cap::FE) && !is_def {
                self.d.alert_at(
                    loc,
                    "please use the 'bind' keyword for listening addresses.",
                );
            }
            self.d.fatal = true;
            self.section = Section::NoProxy;
            return Flow::Continue;
        }
        let base = match &from {
            Some(f) => {
                let found: Vec<&Proxy> = self.defaults.iter().filter(|p| &p.name == f).collect();
                match found.as_slice() {
                    [] => {
                        self.d.alert_at(
                            loc,
                            format!("defaults section '{f}' not found for {} '{name}'.", w[0]),
                        );
                        self.last_def.clone()
                    }
                    [one] => (*one).clone(),
                    [a, b, ..] => {
                        let at =
                            |p: &Proxy| p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default();
                        let msg = format!(
                            "ambiguous defaults section name '{f}' referenced by {} '{name}' exists at least at {} and {}.",
                            w[0],
                            at(a),
                            at(b)
                        );
                        self.d.alert_at(loc, msg);
                        self.last_def.clone()
                    }
                }
            }
            None if is_def => Proxy::preset("", Cap::DEF),
            None => self.last_def.clone(),
        };
        let mut p = Proxy::from_defaults(&name, cap, &base);
        p.loc = Some(loc.clone());
        if is_def {
            // a defaults section keeps its own rules from its parent
            p.http_req_rules = base.http_req_rules.clone();
        }
        self.cur = Some(p);
        Flow::Continue
    }

    /// `id <n>` in a proxy (`cfg_parse_listen()`): a positive `int` (read by `atol()`), not
    /// used by another proxy declared so far.
    fn parse_proxy_id(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        if p.cap.is_defaults() {
            self.d.alert(format!(
                "parsing [{loc}]: 'id' not allowed in 'defaults' section."
            ));
            return;
        }
        if self.too_many_args(loc, w, 1) {
            return;
        }
        let arg = w.get(1).map(String::as_str).unwrap_or("");
        if arg.is_empty() {
            self.d.alert(format!(
                "parsing [{loc}]: 'id' expects an integer argument."
            ));
            return;
        }
        let id = atoi(arg);
        if id <= 0 {
            self.d
                .alert(format!("parsing [{loc}]: custom id has to be > 0."));
            return;
        }
        let id = id as u32;
        let other = if p.id == Some(id) {
            Some((p.cap, p.name.clone(), p.loc.clone()))
        } else {
            self.cfg
                .proxies
                .iter()
                .find(|q| q.id == Some(id))
                .map(|q| (q.cap, q.name.clone(), q.loc.clone()))
        };
        p.id = Some(id);
        if let Some((cap, name, at)) = other {
            let at = at.map(|l| l.to_string()).unwrap_or_default();
            self.d.alert(format!(
                "parsing [{loc}]: {} {} reuses same custom id as {} {name} (declared at {at}).",
                p.cap.type_str(),
                p.name,
                cap.type_str(),
            ));
        }
    }

    /// HAProxy's `alertif_too_many_args()`: alerts when `w` has more than `max` arguments.
    fn too_many_args(&mut self, loc: &Loc, w: &[String], max: usize) -> bool {
        if w.len() > max + 1 {
            self.d.alert_at(
                loc,
                format!(
                    "'{}' cannot handle unexpected argument '{}'.",
                    w[0],
                    w[max + 1]
                ),
            );
            return true;
        }
        false
    }

    /// `tune.h2.*` (`mux_h2.c`'s keyword parsers, with their messages).
    fn global_tune_h2(&mut self, loc: &Loc, w: &[String]) {
        if self.too_many_args(loc, w, 1) {
            return;
        }
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        let n = atol(arg1);
        let g = &mut self.cfg.global;
        match kw {
            "tune.h2.header-table-size" => {
                if !(4096..=65536).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects a numeric value between 4096 and 65536."),
                    );
                    return;
                }
                g.tune_h2.header_table_size = n as u32;
            }
            "tune.h2.max-frame-size" => {
                if !(16384..=16777215).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects a numeric value between 16384 and 16777215."),
                    );
                    return;
                }
                g.tune_h2.max_frame_size = n as u32;
            }
            _ => {
                if n < 0 {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a positive numeric value."));
                    return;
                }
                if kw == "tune.h2.initial-window-size" {
                    g.tune_h2.initial_window_size = n as u32;
                } else {
                    g.tune_h2.max_concurrent_streams = n as u32;
                }
            }
        }
    }

    fn global_kw(&mut self, loc: &Loc, w: &[String]) {
        let max = match w[0].as_str() {
            "daemon" => Some(0),
            "maxconn"
            | "nbthread"
            | "pidfile"
            | "tune.bufsize"
            | "tune.maxrewrite"
            | "master-worker"
            | "tune.idle-pool.shared"
            | "tune.pool-low-fd-ratio"
            | "tune.pool-high-fd-ratio" => Some(1),
            _ => None,
        };
        if let Some(m) = max {
            if self.too_many_args(loc, w, m) {
                return;
            }
        }
        let g = &mut self.cfg.global;
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        match kw {
            "maxconn" => {
                if g.maxconn.is_some() {
                    self.d
                        .warn_at(loc, format!("'{kw}' already specified. Continuing."));
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                g.maxconn = Some(atol(arg1).max(0) as u32);
            }
            "nbthread" => {
                let n = atol(arg1);
                if arg1.is_empty()
                    || !arg1.bytes().all(|c| c.is_ascii_digit())
                    || !(1..=64).contains(&n)
                {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'{kw}' expects an integer argument between 1 and 64 (got '{arg1}')."
                        ),
                    );
                    return;
                }
                g.nbthread = Some(n as u32);
            }
            "daemon" => g.daemon = true,
            "master-worker" => g.master_worker = true,
            "pidfile" => {
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a file name as an argument."));
                } else if g.pidfile.is_some() {
                    self.d
                        .alert_at(loc, format!("'{kw}' already specified. Continuing."));
                } else {
                    g.pidfile = Some(arg1.to_string());
                }
            }
            "tune.bufsize" => {
                let n = atol(arg1);
                if n <= 0 {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a positive integer argument."));
                    return;
                }
                g.tune_bufsize = n as usize;
            }
            "tune.maxrewrite" => {
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                let n = atol(arg1);
                if n < 0 {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a positive integer argument."));
                    return;
                }
                g.tune_maxrewrite = Some(n as usize);
            }
            "tune.idle-pool.shared" => match arg1 {
                "on" => g.tune_idle_pool_shared = true,
                "off" => g.tune_idle_pool_shared = false,
                _ => self.d.alert_at(
                    loc,
                    format!("'{kw}' expects either 'on' or 'off' but got '{arg1}'."),
                ),
            },
            "tune.pool-low-fd-ratio" | "tune.pool-high-fd-ratio" => {
                let n = atol(arg1);
                if arg1.is_empty() || !(0..=100).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects an integer argument between 0 and 100."),
                    );
                    return;
                }
                if kw == "tune.pool-low-fd-ratio" {
                    g.tune_pool_low_fd_ratio = n as u32;
                } else {
                    g.tune_pool_high_fd_ratio = n as u32;
                }
            }
            "stats" => self.global_stats(loc, w),
            "log" => {
                if let Some(l) = self.parse_log(loc, w) {
                    self.cfg.global.logs.push(l);
                }
            }
            "tune.h2.header-table-size"
            | "tune.h2.initial-window-size"
            | "tune.h2.max-concurrent-streams"
            | "tune.h2.max-frame-size" => self.global_tune_h2(loc, w),
            "tune.http.maxhdr" => {
                let n = atol(arg1);
                if arg1.is_empty() || !(1..=32767).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects a numeric value between 1 and 32767"),
                    );
                    return;
                }
                g.tune_maxhdr = n as usize;
            }
            k if IGNORED_GLOBAL.contains(&k) => {}
            _ => self
                .d
                .alert_at(loc, format!("unknown keyword '{kw}' in 'global' section")),
        }
    }

    /// Notes where upstream creates its `GLOBAL` stats frontend (`cli_alloc_fe()`, on the
    /// first `stats` line that needs it): after the proxies declared so far.
    fn cli_alloc_fe(&mut self) {
        if self.cfg.global.cli_fe_at.is_none() {
            self.cfg.global.cli_fe_at = Some(self.cfg.proxies.len());
        }
    }

    fn global_stats(&mut self, loc: &Loc, w: &[String]) {
        let sub = w.get(1).map(String::as_str).unwrap_or("");
        match sub {
            "socket" => {
                let Some(addr) = w.get(2).filter(|s| !s.is_empty()) else {
                    self.d
                        .alert_at(loc, "'stats socket' requires a path or an address.");
                    return;
                };
                self.cli_alloc_fe();
                let addr = if let Some(fd) = addr.strip_prefix("fd@") {
                    match parse_fd(fd) {
                        Some(n) => ListenAddr::Fd(n),
                        None => {
                            self.d.alert_at(
                                loc,
                                format!("'stats socket' : invalid file descriptor '{fd}'"),
                            );
                            return;
                        }
                    }
                } else if addr.starts_with('/') || addr.starts_with("unix@") || !addr.contains(':')
                {
                    ListenAddr::Unix(addr.trim_start_matches("unix@").to_string())
                } else {
                    match parse_inet(addr) {
                        Ok((a, _)) => ListenAddr::Inet(a),
                        Err(e) => {
                            self.d.alert_at(loc, format!("'stats socket' : {e}"));
                            return;
                        }
                    }
                };
                let mut s = StatsSocket {
                    addr,
                    level: CliLevel::Operator,
                    mode: None,
                    loc: loc.clone(),
                };
                let mut i = 3;
                while i < w.len() {
                    let v = w.get(i + 1).map(String::as_str).unwrap_or("");
                    match w[i].as_str() {
                        "level" => {
                            s.level = match v {
                                "user" => CliLevel::User,
                                "operator" => CliLevel::Operator,
                                "admin" => CliLevel::Admin,
                                _ => {
                                    self.d.alert_at(
                                        loc,
                                        "'stats socket' : 'level' only supports 'user', 'operator', and 'admin'.",
                                    );
                                    return;
                                }
                            };
                            i += 2;
                        }
                        "mode" => {
                            match u32::from_str_radix(v, 8) {
                                Ok(m) => s.mode = Some(m),
                                Err(_) => {
                                    self.d.alert_at(
                                        loc,
                                        "'stats socket' : 'mode' expects an octal value.",
                                    );
                                    return;
                                }
                            }
                            i += 2;
                        }
                        "expose-fd" | "user" | "group" | "uid" | "gid" | "name" => i += 2,
                        other => {
                            self.d.alert_at(
                                loc,
                                format!("'stats socket' : unknown keyword '{other}'."),
                            );
                            return;
                        }
                    }
                }
                self.cfg.global.stats_sockets.push(s);
            }
            "timeout" => {
                if parse_time(w.get(2).map(String::as_str).unwrap_or(""), TimeUnit::Ms).is_err() {
                    self.d.alert_at(
                        loc,
                        "'stats timeout' expects a positive delay in milliseconds.",
                    );
                } else {
                    self.cli_alloc_fe();
                }
            }
            "maxconn" => {
                if atol(w.get(2).map(String::as_str).unwrap_or("")) <= 0 {
                    self.d
                        .alert_at(loc, "'stats maxconn' expects a positive value.");
                } else {
                    self.cli_alloc_fe();
                }
            }
            _ => self.d.alert_at(
                loc,
                "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '"
                    .to_string()
                    + sub
                    + "').",
            ),
        }
    }

    /// `log <target> [len N] [format F] <facility> [level [minlevel]]` or `log global`.
    fn parse_log(&mut self, loc: &Loc, w: &[String]) -> Option<LogSpec> {
        let target = w.get(1).map(String::as_str).unwrap_or("");
        if target.is_empty() {
            self.d.alert_at(
                loc,
                "'log' expects either <address[:port]> and <facility> or 'global' as arguments.",
            );
            return None;
        }
        let target = match target {
            "stdout" => LogTarget::Stdout,
            "stderr" => LogTarget::Stderr,
            t => {
                let t = t
                    .strip_prefix("udp@")
                    .or_else(|| t.strip_prefix("ipv4@"))
                    .unwrap_or(t);
                // without a port, syslog's 514 is used
                match parse_inet(t) {
                    Ok((a, unset)) => LogTarget::Udp(if unset {
                        SocketAddr::new(a.ip(), 514)
                    } else {
                        a
                    }),
                    Err(e) => {
                        self.d.alert_at(loc, format!("log : {e}"));
                        return None;
                    }
                }
            }
        };
        let mut spec = LogSpec {
            target,
            format: LogFormat::Local,
            maxlen: 1024,
            facility: 16,
            level: 7,
            minlevel: 0,
        };
        let mut i = 2;
        loop {
            match w.get(i).map(String::as_str) {
                Some("len") => {
                    let n = atol(w.get(i + 1).map(String::as_str).unwrap_or(""));
                    if n <= 0 {
                        self.d
                            .alert_at(loc, "'log len' expects a positive integer argument.");
                        return None;
                    }
                    spec.maxlen = n as usize;
                    i += 2;
                }
                Some("format") => {
                    spec.format = match w.get(i + 1).map(String::as_str).unwrap_or("") {
                        "local" => LogFormat::Local,
                        "rfc3164" => LogFormat::Rfc3164,
                        "rfc5424" => LogFormat::Rfc5424,
                        "priority" => LogFormat::Priority,
                        "short" => LogFormat::Short,
                        "timed" => LogFormat::Timed,
                        "iso" => LogFormat::Iso,
                        "raw" => LogFormat::Raw,
                        f => {
                            self.d.alert_at(loc, format!("unknown log format '{f}'"));
                            return None;
                        }
                    };
                    i += 2;
                }
                Some("sample") => {
                    self.d
                        .alert_at(loc, "'log ... sample' is not supported by haproxy-rs.");
                    return None;
                }
                _ => break,
            }
        }
        let fac = w.get(i).map(String::as_str).unwrap_or("");
        let Some(f) = FACILITIES.iter().position(|&n| n == fac) else {
            if fac.is_empty() {
                self.d
                    .alert_at(loc, "'log' expects <facility> as argument.");
            } else {
                self.d
                    .alert_at(loc, format!("unknown log facility '{fac}'"));
            }
            return None;
        };
        spec.facility = f as u8;
        if let Some(lv) = w.get(i + 1) {
            match LEVELS.iter().position(|&n| n == lv) {
                Some(l) => spec.level = l as u8,
                None => {
                    self.d
                        .alert_at(loc, format!("unknown optional log level '{lv}'"));
                    return None;
                }
            }
            if let Some(mlv) = w.get(i + 2) {
                match LEVELS.iter().position(|&n| n == mlv) {
                    Some(l) => spec.minlevel = l as u8,
                    None => {
                        self.d
                            .alert_at(loc, format!("unknown optional minimum log level '{mlv}'"));
                        return None;
                    }
                }
                if w.len() > i + 3 {
                    self.d.alert_at(
                        loc,
                        format!("'log' cannot handle unexpected argument '{}'.", w[i + 3]),
                    );
                    return None;
                }
            }
        }
        Some(spec)
    }

    fn proxy_kw(&mut self, loc: &Loc, w: &[String], negate: bool) -> Flow {
        let mut p = self.cur.take().expect("proxy section without proxy");
        let flow = self.proxy_kw_inner(&mut p, loc, w, negate);
        self.cur = Some(p);
        flow
    }

    /// Warns like `warnifnotcap()` when the proxy lacks `need`; returns true in that case.
    fn warn_not_cap(&mut self, p: &Proxy, loc: &Loc, kw: &str, need: Cap) -> bool {
        if p.cap.contains(need) {
            return false;
        }
        let what = if need == Cap::FE {
            "frontend"
        } else {
            "backend"
        };
        self.d.warn_at(
            loc,
            format!(
                "'{kw}' ignored because {} '{}' has no {what} capability.",
                p.cap.section_name(),
                p.name
            ),
        );
        true
    }

    fn not_in_defaults(&mut self, p: &Proxy, loc: &Loc, kw: &str) -> bool {
        if p.cap.is_defaults() {
            self.d
                .alert_at(loc, format!("'{kw}' not allowed in 'defaults' section."));
            return true;
        }
        false
    }

    fn proxy_kw_inner(&mut self, p: &mut Proxy, loc: &Loc, w: &[String], negate: bool) -> Flow {
        let kw = w[0].as_str();
        if matches!(
            kw,
            "mode"
                | "maxconn"
                | "retries"
                | "default_backend"
                | "max-keep-alive-queue"
                | "max-session-srv-conns"
                | "dispatch"
        ) && self.too_many_args(loc, w, 1)
        {
            return Flow::Continue;
        }
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        match kw {
            "mode" => match arg1 {
                "http" => p.mode = Mode::Http,
                "tcp" => p.mode = Mode::Tcp,
                "health" => self.d.alert_at(loc, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."),
                _ => self.d.alert_at(loc, format!("unknown proxy mode '{arg1}'.")),
            },
            "bind" => {
                if self.not_in_defaults(p, loc, kw) || self.warn_not_cap(p, loc, kw, Cap::FE) {
                    return Flow::Continue;
                }
                self.parse_bind(p, loc, w);
            }
            "server" => {
                if self.not_in_defaults(p, loc, kw) {
                    return Flow::Continue;
                }
                if !p.cap.contains(Cap::BE) {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'{kw}' not allowed because {} '{}' has no backend capability.",
                            p.cap.section_name(),
                            p.name
                        ),
                    );
                    return Flow::Continue;
                }
                return self.parse_server(p, loc, w);
            }
            "default_backend" => {
                if self.warn_not_cap(p, loc, kw, Cap::FE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' requires a backend name."));
                    return Flow::Continue;
                }
                p.default_backend = Some((arg1.to_string(), loc.clone()));
            }
            "use_backend" => {
                if self.not_in_defaults(p, loc, kw) || self.warn_not_cap(p, loc, kw, Cap::FE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' requires a backend name."));
                    return Flow::Continue;
                }
                let cond = match self.parse_cond(loc, kw, &w[2..]) {
                    Ok(c) => c,
                    Err(()) => return Flow::Continue,
                };
                if let Some(c) = &cond {
                    if let Err(e) = crate::acl::check_cond(&c.words, &acl_names(p), self.ctx.acl_kws) {
                        self.d.alert_at(loc, format!("error detected while parsing switching rule : {e}."));
                        return Flow::Continue;
                    }
                }
                p.switching_rules.push(SwitchRule { backend: arg1.to_string(), cond, loc: loc.clone() });
            }
            "dispatch" => {
                if self.not_in_defaults(p, loc, kw) || self.warn_not_cap(p, loc, kw, Cap::BE) {
                    return Flow::Continue;
                }
                match parse_inet(arg1) {
                    Ok((a, false)) => p.dispatch = Some(a),
                    Ok((_, true)) => self.d.alert_at(loc, format!("'{kw}' : missing port number in '{arg1}', <addr:port> expected.")),
                    Err(e) => self.d.alert_at(loc, format!("'{kw}' : {e}")),
                }
            }
            "balance" => {
                self.warn_not_cap(p, loc, kw, Cap::BE);
                p.balance = match arg1 {
                    "roundrobin" => Balance::RoundRobin,
                    "static-rr" => Balance::StaticRr,
                    "leastconn" => Balance::LeastConn,
                    "first" => Balance::First,
                    "source" => Balance::Source,
                    _ => {
                        self.d.alert_at(loc, "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.");
                        return Flow::Continue;
                    }
                };
            }
            "http-reuse" => {
                self.warn_not_cap(p, loc, kw, Cap::BE);
                p.http_reuse = match arg1 {
                    "never" => HttpReuse::Never,
                    "safe" => HttpReuse::Safe,
                    "aggressive" => HttpReuse::Aggressive,
                    "always" => HttpReuse::Always,
                    _ => {
                        self.d.alert_at(loc, "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.");
                        return Flow::Continue;
                    }
                };
                if w.len() > 2 {
                    self.d.alert_at(loc, format!("'{kw} {arg1}' cannot handle unexpected argument '{}'.", w[2]));
                }
            }
            "timeout" => self.parse_timeout(p, loc, w),
            "retries" => {
                if self.warn_not_cap(p, loc, kw, Cap::BE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' expects an integer value."));
                    return Flow::Continue;
                }
                p.retries = atol(arg1).max(0) as u32;
            }
            "retry-on" => {
                if self.warn_not_cap(p, loc, kw, Cap::BE) {
                    return Flow::Continue;
                }
                self.parse_retry_on(p, loc, w);
            }
            "max-keep-alive-queue" => {
                if self.warn_not_cap(p, loc, kw, Cap::BE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' expects an integer value."));
                    return Flow::Continue;
                }
                p.max_ka_queue = atol(arg1) as i32;
            }
            "max-session-srv-conns" => {
                if self.warn_not_cap(p, loc, kw, Cap::FE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return Flow::Continue;
                }
                p.max_session_srv_conns = atol(arg1).max(0) as u32;
            }
            "maxconn" => {
                if self.warn_not_cap(p, loc, kw, Cap::FE) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return Flow::Continue;
                }
                p.maxconn = atol(arg1).max(0) as u32;
            }
            "option" => self.parse_option(p, loc, w, negate),
            "log" => {
                if negate {
                    p.logs.clear();
                    p.log_global = false;
                } else if arg1 == "global" {
                    p.log_global = true;
                } else if let Some(l) = self.parse_log(loc, w) {
                    p.logs.push(l);
                }
            }
            "log-format" => {
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("{kw} expects an argument."));
                } else if w.len() > 2 {
                    self.d.alert_at(loc, format!("{kw} expects only one argument, don't forget to escape spaces!"));
                } else {
                    p.log_format = Some(arg1.to_string());
                }
            }
            "acl" => {
                if p.cap.is_defaults() {
                    self.d.alert_at(loc, format!("'{kw}' not allowed in 'defaults' section."));
                    return Flow::Continue;
                }
                if arg1.is_empty() || w.len() < 3 {
                    self.d.alert_at(loc, format!("'{kw}' expects an ACL name and a criterion."));
                    return Flow::Continue;
                }
                if let Some(c) = arg1.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
                    self.d.alert_at(loc, format!("character '{c}' is not permitted in acl name '{arg1}'."));
                    return Flow::Continue;
                }
                if let Err(e) = crate::acl::check_acl_def(&w[2..], self.ctx.acl_kws) {
                    self.d.alert_at(loc, format!("error detected while parsing ACL '{arg1}' : {e}."));
                    return Flow::Continue;
                }
                p.acls.push(AclSpec { name: arg1.to_string(), words: w[2..].to_vec(), loc: loc.clone() });
            }
            "http-request" | "http-response" | "http-after-response" => {
                if p.cap.is_defaults() && p.name.is_empty() {
                    self.d.alert_at(loc, format!("'{kw}' not allowed in anonymous 'defaults' section."));
                    return Flow::Continue;
                }
                return self.parse_http_rule(p, loc, w);
            }
            "id" => self.parse_proxy_id(p, loc, w),
            "description" | "enabled" => {}
            "disabled" => p.disabled = true,
            _ => self.d.alert_at(
                loc,
                format!("unknown keyword '{kw}' in '{}' section", p.cap.section_name()),
            ),
        }
        Flow::Continue
    }

    fn parse_bind(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        let addr = w.get(1).map(String::as_str).unwrap_or("");
        if addr.is_empty() {
            self.d.alert_at(
                loc,
                "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
            );
            return;
        }
        let la = if let Some(fd) = addr.strip_prefix("fd@") {
            match parse_fd(fd) {
                Some(n) => ListenAddr::Fd(n),
                None => {
                    self.d.alert_at(
                        loc,
                        format!("'bind' : invalid file descriptor '{fd}' in '{addr}'"),
                    );
                    return;
                }
            }
        } else {
            match parse_inet(addr) {
                Ok((_, true)) => {
                    self.d.alert_at(
                        loc,
                        format!("'bind' : missing port specification in '{addr}'"),
                    );
                    return;
                }
                Ok((a, false)) if a.port() == 0 => {
                    self.d.alert_at(loc, "'bind' : invalid port '0'");
                    return;
                }
                Ok((a, false)) => ListenAddr::Inet(a),
                Err(e) => {
                    self.d.alert_at(loc, format!("'bind' : {e}"));
                    return;
                }
            }
        };
        let mut b = Bind {
            addr: la,
            name: None,
            proto: BindProto::Default,
            loc: loc.clone(),
        };
        let mut i = 2;
        while i < w.len() {
            let v = w.get(i + 1).map(String::as_str).unwrap_or("");
            match w[i].as_str() {
                "name" => {
                    if v.is_empty() {
                        self.d
                            .alert_at(loc, format!("'bind {addr}' : missing name."));
                        return;
                    }
                    b.name = Some(v.to_string());
                    i += 2;
                }
                "proto" => {
                    match find_mux_proto(v) {
                        Some(m) => {
                            b.proto = if m.mux == "H2" {
                                BindProto::H2
                            } else {
                                BindProto::H1
                            }
                        }
                        None => {
                            self.d.alert_at(
                                loc,
                                format!("'bind {addr}' : 'proto' :  unknown MUX protocol '{v}'"),
                            );
                            return;
                        }
                    }
                    i += 2;
                }
                "accept-proxy" | "transparent" | "v4v6" | "v6only" | "tfo" => {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'bind {addr}' : '{}' option is not supported by haproxy-rs.",
                            w[i]
                        ),
                    );
                    return;
                }
                other => {
                    self.d
                        .alert_at(loc, format!("'bind {addr}' unknown keyword '{other}'."));
                    return;
                }
            }
        }
        p.binds.push(b);
    }

    fn parse_server(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) -> Flow {
        let name = w.get(1).map(String::as_str).unwrap_or("");
        let addr = w.get(2).map(String::as_str).unwrap_or("");
        if name.is_empty() || addr.is_empty() {
            self.d.alert_at(
                loc,
                "'server' expects <name> and <addr>[:<port>] as arguments.",
            );
            return Flow::Continue;
        }
        let full = format!("{}/{name}", p.name);
        let mut unresolved = None;
        let sa = match parse_inet(addr) {
            Ok(a) => a,
            Err(AddrError::Unresolved(h)) => {
                unresolved = Some(h);
                (SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), true)
            }
            Err(e) => {
                self.d.alert(format!("[{loc}] : 'server {full}' : {e}"));
                self.d.fatal_count += 1;
                return Flow::Continue;
            }
        };
        let mut s = Server {
            name: name.to_string(),
            addr: sa.0,
            port_unset: sa.1,
            weight: 1,
            maxconn: 0,
            check: false,
            disabled: false,
            backup: false,
            proto_h2: false,
            pool_max_conn: -1,
            pool_low_conn: 0,
            pool_purge_delay: 5000,
            max_reuse: -1,
            unresolved,
            loc: loc.clone(),
        };
        let mut i = 3;
        while i < w.len() {
            let kw = w[i].as_str();
            let v = w.get(i + 1).map(String::as_str).unwrap_or("");
            let need_arg = |r: &mut Self| -> bool {
                if v.is_empty() {
                    r.d.alert(format!(
                        "[{loc}] : 'server {full}' : '{kw}' expects an argument."
                    ));
                    r.d.fatal_count += 1;
                    return false;
                }
                true
            };
            match kw {
                "check" => s.check = true,
                "disabled" => s.disabled = true,
                "enabled" => s.disabled = false,
                "backup" => s.backup = true,
                "weight" => {
                    let n = atol(v);
                    if !(0..=256).contains(&n) {
                        self.d.alert(format!("[{loc}] : 'server {full}' : weight of server {name} is not within 0 and 256 ({n})."));
                        self.d.fatal_count += 1;
                        return Flow::Continue;
                    }
                    s.weight = n as u32;
                    i += 1;
                }
                "maxconn" => {
                    s.maxconn = atol(v).max(0) as u32;
                    i += 1;
                }
                "proto" => {
                    match find_mux_proto(v) {
                        Some(m) => s.proto_h2 = m.mux == "H2",
                        None => {
                            self.d.alert(format!(
                                "[{loc}] : 'server {full}' : 'proto' :  unknown MUX protocol '{v}'"
                            ));
                            self.d.fatal_count += 1;
                            return Flow::Continue;
                        }
                    }
                    i += 1;
                }
                "pool-max-conn" | "pool-low-conn" | "max-reuse" => {
                    if !need_arg(self) {
                        return Flow::Continue;
                    }
                    let n = atol(v);
                    if n < -1 || (kw == "pool-low-conn" && n < 0) {
                        self.d.alert(format!(
                            "[{loc}] : 'server {full}' : '{kw}' expects -1 or a positive integer."
                        ));
                        self.d.fatal_count += 1;
                        return Flow::Continue;
                    }
                    match kw {
                        "pool-max-conn" => s.pool_max_conn = n as i32,
                        "pool-low-conn" => s.pool_low_conn = n as u32,
                        _ => s.max_reuse = n as i32,
                    }
                    i += 1;
                }
                "pool-purge-delay" => {
                    if !need_arg(self) {
                        return Flow::Continue;
                    }
                    match parse_time(v, TimeUnit::Ms) {
                        Ok(ms) => s.pool_purge_delay = ms,
                        Err(_) => {
                            self.d.alert(format!(
                                "[{loc}] : 'server {full}' : invalid value '{v}' for '{kw}'."
                            ));
                            self.d.fatal_count += 1;
                            return Flow::Continue;
                        }
                    }
                    i += 1;
                }
                "inter" | "fall" | "rise" | "fastinter" | "downinter" => {
                    if !need_arg(self) {
                        return Flow::Continue;
                    }
                    i += 1;
                }
                _ => {
                    self.d
                        .alert(format!("[{loc}] : 'server {full}' unknown keyword '{kw}'."));
                    self.d.fatal_count += 1;
                    return Flow::Continue;
                }
            }
            i += 1;
        }
        if let Some(prev) = p.servers.iter().find(|x| x.name == name) {
            self.d.alert_at(
                loc,
                format!(
                    "'server' : the server name '{name}' is already used at {}",
                    prev.loc
                ),
            );
        }
        p.servers.push(s);
        Flow::Continue
    }

    fn parse_timeout(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        let name = w.get(1).map(String::as_str).unwrap_or("");
        let val = w.get(2).map(String::as_str).unwrap_or("");
        let need = match name {
            "client" | "client-fin" | "http-request" => Cap::FE,
            "server" | "server-fin" | "connect" | "queue" | "tunnel" | "check" => Cap::BE,
            "http-keep-alive" => Cap::NONE,
            _ => {
                self.d.alert_at(loc, "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'handshake', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '".to_string() + name + "')");
                return;
            }
        };
        if val.is_empty() {
            self.d.alert_at(
                loc,
                format!("'timeout {name}' expects an integer value (in milliseconds)"),
            );
            return;
        }
        let ms = match parse_time(val, TimeUnit::Ms) {
            Ok(v) => v,
            Err(TimeError::Overflow) => {
                self.d.alert_at(loc, format!("timer overflow in argument '{val}' to 'timeout {name}' (maximum value is 2147483647 ms or ~24.8 days)"));
                return;
            }
            Err(TimeError::BadChar(i)) => {
                let c = val[i..].chars().next().unwrap_or(' ');
                self.d.alert_at(
                    loc,
                    format!("unexpected character '{c}' in 'timeout {name}'"),
                );
                return;
            }
        };
        if w.len() > 3 {
            self.d.alert_at(
                loc,
                format!(
                    "'timeout {name}' : unexpected extra argument '{}' after value '{val}'.",
                    w[3]
                ),
            );
            return;
        }
        if need != Cap::NONE && !p.cap.contains(need) {
            let what = if need == Cap::FE {
                "frontend"
            } else {
                "backend"
            };
            self.d.warn_at(
                loc,
                format!(
                    "'timeout {name}' will be ignored because {} '{}' has no {what} capability",
                    p.cap.section_name(),
                    p.name
                ),
            );
            return;
        }
        let t = &mut p.timeouts;
        let slot = match name {
            "client" => &mut t.client,
            "server" => &mut t.server,
            "connect" => &mut t.connect,
            "http-request" => &mut t.http_request,
            "http-keep-alive" => &mut t.http_keep_alive,
            "queue" => &mut t.queue,
            "tunnel" => &mut t.tunnel,
            "client-fin" => &mut t.client_fin,
            "server-fin" => &mut t.server_fin,
            _ => &mut t.check,
        };
        *slot = Some(ms);
    }

    fn parse_retry_on(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        if w.len() < 2 {
            self.d
                .alert_at(loc, "'retry-on' expects at least one keyword.");
            return;
        }
        let mut v = 0u32;
        for kw in &w[1..] {
            let bit = match kw.as_str() {
                "none" => {
                    if w.len() != 2 {
                        self.d
                            .alert_at(loc, "'none' cannot be used with any other keywords.");
                        return;
                    }
                    0
                }
                "conn-failure" => RetryOn::CONN_FAILED,
                "empty-response" => RetryOn::DISCONNECTED,
                "response-timeout" => RetryOn::TIMEOUT,
                "0rtt-rejected" => RetryOn::RTT_REJECTED,
                "junk-response" => RetryOn::JUNK_REQUEST,
                "all-retryable-errors" => {
                    RetryOn::CONN_FAILED
                        | RetryOn::DISCONNECTED
                        | RetryOn::TIMEOUT
                        | RetryOn::RTT_REJECTED
                        | RetryOn::JUNK_REQUEST
                        | status_bit(500)
                        | status_bit(502)
                        | status_bit(503)
                        | status_bit(504)
                }
                s => match s
                    .parse::<u16>()
                    .ok()
                    .filter(|c| RetryOn::STATUSES.contains(c))
                {
                    Some(c) => status_bit(c),
                    None => {
                        self.d
                            .alert_at(loc, format!("'retry-on' : unknown keyword '{s}'."));
                        return;
                    }
                },
            };
            v |= bit;
        }
        // as upstream, the list replaces the default: `conn-failure` only when named
        p.retry_on = RetryOn(v);
    }

    fn parse_option(&mut self, p: &mut Proxy, loc: &Loc, w: &[String], negate: bool) {
        let name = w.get(1).map(String::as_str).unwrap_or("");
        let o = &mut p.options;
        // (option, required capability)
        let need = match name {
            "http-keep-alive"
            | "http-server-close"
            | "httpclose"
            | "forwardfor"
            | "http-buffer-request" => Cap::NONE,
            "prefer-last-server" | "redispatch" | "abortonclose" => Cap::BE,
            "httplog" | "tcplog" | "dontlognull" => Cap::FE,
            "" => {
                self.d.alert_at(loc, "'option' expects an option name.");
                return;
            }
            _ => {
                self.d.alert_at(loc, format!("unknown option '{name}'."));
                return;
            }
        };
        if negate && matches!(name, "httplog" | "forwardfor") {
            self.d.alert_at(
                loc,
                format!("negation/default is not supported for option '{name}'."),
            );
            return;
        }
        let extra_ok = matches!(name, "forwardfor" | "httplog");
        if w.len() > 2 && !extra_ok {
            self.d.alert_at(
                loc,
                format!(
                    "'option {name}' cannot handle unexpected argument '{}'.",
                    w[2]
                ),
            );
            return;
        }
        if need != Cap::NONE && !p.cap.contains(need) {
            let what = if need == Cap::FE {
                "frontend"
            } else {
                "backend"
            };
            self.d.warn_at(
                loc,
                format!(
                    "'option {name}' ignored because {} '{}' has no {what} capability.",
                    p.cap.section_name(),
                    p.name
                ),
            );
            return;
        }
        let on = !negate;
        match name {
            "http-keep-alive" | "http-server-close" | "httpclose" => {
                let mode = match name {
                    "http-keep-alive" => HttpConnMode::KeepAlive,
                    "http-server-close" => HttpConnMode::ServerClose,
                    _ => HttpConnMode::Close,
                };
                if on {
                    o.http_conn_mode = mode;
                } else if o.http_conn_mode == mode {
                    o.http_conn_mode = HttpConnMode::KeepAlive;
                }
            }
            "prefer-last-server" => o.prefer_last_server = on,
            "redispatch" => o.redispatch = on,
            "abortonclose" => o.abortonclose = on,
            "httplog" => {
                if w.len() > 2 && w[2] != "clf" {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'option httplog' cannot handle unexpected argument '{}'.",
                            w[2]
                        ),
                    );
                    return;
                }
                o.httplog = on;
            }
            "tcplog" => o.tcplog = on,
            "dontlognull" => o.dontlognull = on,
            "forwardfor" => {
                if negate {
                    self.d
                        .alert_at(loc, "negation is not supported for option forwardfor.");
                    return;
                }
                o.forwardfor = true;
                p.fwdfor = ForwardFor::default();
                let mut i = 2;
                while i < w.len() {
                    match w[i].as_str() {
                        "except" => {
                            let Some(net) =
                                w.get(i + 1).and_then(|n| crate::net::Net::parse(n, true))
                            else {
                                self.d.alert_at(
                                    loc,
                                    "'option forwardfor except' expects <address>[/mask] as argument.",
                                );
                                return;
                            };
                            p.fwdfor.except = Some(net);
                            i += 2;
                        }
                        "header" => {
                            let Some(h) = w.get(i + 1).filter(|h| !h.is_empty()) else {
                                self.d.alert_at(
                                    loc,
                                    "'option forwardfor header' requires a header name.",
                                );
                                return;
                            };
                            p.fwdfor.header = Some(h.to_ascii_lowercase());
                            i += 2;
                        }
                        "if-none" => {
                            p.fwdfor.if_none = true;
                            i += 1;
                        }
                        _ => {
                            self.d.alert_at(
                                loc,
                                "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
                            );
                            return;
                        }
                    }
                }
            }
            _ => o.http_buffer_request = on,
        }
    }

    /// `if|unless <words>` after a rule, or nothing.
    fn parse_cond(&mut self, loc: &Loc, kw: &str, rest: &[String]) -> Result<Option<CondSpec>, ()> {
        match rest.first().map(String::as_str) {
            None => Ok(None),
            Some(k @ ("if" | "unless")) => {
                if rest.len() < 2 {
                    self.d
                        .alert_at(loc, format!("'{kw}': missing condition after '{k}'."));
                    return Err(());
                }
                Ok(Some(CondSpec {
                    unless: k == "unless",
                    words: rest[1..].to_vec(),
                }))
            }
            Some(other) => {
                self.d.alert_at(
                    loc,
                    format!("'{kw}': expects 'if', 'unless' or nothing, but got '{other}'."),
                );
                Err(())
            }
        }
    }

    /// `http-request|http-response|http-after-response <action> [args] [if|unless cond]`.
    /// Any error stops reading the configuration, as upstream's rule parsers return
    /// `ERR_ABORT`.
    fn parse_http_rule(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) -> Flow {
        let kw = w[0].as_str();
        let action = w.get(1).map(String::as_str).unwrap_or("");
        // (action, exact number of arguments; None = free-form like `return`/`deny`)
        let known: &[(&str, Option<usize>)] = match kw {
            "http-request" => &[
                ("return", None),
                ("deny", None),
                ("allow", Some(0)),
                ("set-header", Some(2)),
                ("add-header", Some(2)),
                ("del-header", Some(1)),
                ("set-path", Some(1)),
                ("set-var", Some(1)),
                ("disable-l7-retry", Some(0)),
            ],
            "http-response" => &[
                ("deny", None),
                ("allow", Some(0)),
                ("set-header", Some(2)),
                ("add-header", Some(2)),
                ("del-header", Some(1)),
                ("set-var", Some(1)),
            ],
            _ => &[
                ("allow", Some(0)),
                ("set-header", Some(2)),
                ("add-header", Some(2)),
                ("del-header", Some(1)),
                ("set-var", Some(1)),
            ],
        };
        let base = action.split('(').next().unwrap_or("");
        let what = format!("{} '{}'", p.cap.section_name(), p.name);
        let Some(&(_, nargs)) = known.iter().find(|(a, _)| *a == base) else {
            let list: Vec<&str> = known.iter().map(|(a, _)| *a).collect();
            self.d.alert_at(
                loc,
                format!("'{kw}' expects {}, but got '{action}'.", list.join(", ")),
            );
            return Flow::Abort;
        };
        let fail = |r: &mut Self, msg: String| {
            r.d.alert_at(
                loc,
                format!("error detected in {what} while parsing '{kw} {action}' rule : {msg}."),
            );
            Flow::Abort
        };
        if base == "set-var" {
            let var = action
                .strip_prefix("set-var(")
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or("");
            let scope = var.split('.').next().unwrap_or("");
            if !matches!(scope, "proc" | "sess" | "txn" | "req" | "res" | "check")
                || !var.contains('.')
            {
                return fail(self, format!("invalid variable name '{var}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"));
            }
        }
        // the action's own arguments run until `if`/`unless`
        let end = w[2..]
            .iter()
            .position(|x| x == "if" || x == "unless")
            .map_or(w.len(), |i| i + 2);
        let args = w[2..end].to_vec();
        if let Some(n) = nargs {
            if args.len() != n {
                return fail(
                    self,
                    format!(
                        "expects exactly {n} argument{}",
                        if n > 1 { "s" } else { "" }
                    ),
                );
            }
        }
        let cond = match w.get(end).map(String::as_str) {
            None => None,
            Some(k) => {
                let words = w[end + 1..].to_vec();
                if let Err(e) = crate::acl::check_cond(&words, &acl_names(p), self.ctx.acl_kws) {
                    self.d.alert_at(
                        loc,
                        format!("error detected while parsing an '{kw} {action}' condition : {e}."),
                    );
                    return Flow::Abort;
                }
                Some(CondSpec {
                    unless: k == "unless",
                    words,
                })
            }
        };
        let rule = HttpRuleSpec {
            action: action.to_string(),
            args,
            cond,
            loc: loc.clone(),
        };
        match kw {
            "http-request" => p.http_req_rules.push(rule),
            "http-response" => p.http_res_rules.push(rule),
            _ => p.http_after_res_rules.push(rule),
        }
        Flow::Continue
    }
}

fn acl_names(p: &Proxy) -> Vec<String> {
    p.acls.iter().map(|a| a.name.clone()).collect()
}

fn status_bit(code: u16) -> u32 {
    let i = RetryOn::STATUSES
        .iter()
        .position(|&c| c == code)
        .unwrap_or(0);
    1 << (RetryOn::STATUS_BASE as usize + i)
}

/// Syslog facilities in numeric order.
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog levels in numeric order.
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn parse_fd(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Why an address could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// Malformed (the message is HAProxy's wording).
    Invalid(String),
    /// A host name that does not resolve.
    Unresolved(String),
}

impl std::fmt::Display for AddrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddrError::Invalid(m) => f.write_str(m),
            AddrError::Unresolved(h) => write!(f, "could not resolve address '{h}'."),
        }
    }
}

/// Reads `[ipv4@|ipv6@]addr[:port]`, `[v6]:port`, `:port`, `*:port` or a host name, as
/// `str2sa_range()` does for the forms haproxy-rs supports (an unbracketed address takes its
/// port after the last colon). Environment variables are expanded again here, even unquoted,
/// as upstream does for addresses. Returns the address and whether the port was absent.
///
/// # Errors
/// [`AddrError::Invalid`] for a malformed address or port, [`AddrError::Unresolved`] for a
/// host name that does not resolve.
pub fn parse_inet(text: &str) -> Result<(SocketAddr, bool), AddrError> {
    let expanded;
    let text = if text.contains('$') {
        let quoted = format!("\"{text}\"");
        expanded = parse_line(quoted.as_bytes(), Opts::COND, &crate::lexer::ProcessEnv)
            .map(|l| l.word(0))
            .map_err(|e| {
                AddrError::Invalid(format!("invalid address '{text}': {}", e.describe()))
            })?;
        expanded.as_str()
    } else {
        text
    };
    let t = text
        .strip_prefix("ipv4@")
        .or_else(|| text.strip_prefix("ipv6@"))
        .or_else(|| text.strip_prefix("tcp@"))
        .unwrap_or(text);
    if t.contains('@') {
        return Err(AddrError::Invalid(format!(
            "unsupported address family in '{text}'"
        )));
    }
    if t.starts_with('/') || t.starts_with("unix@") {
        return Err(AddrError::Invalid(format!(
            "unsupported address family in '{text}'"
        )));
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(AddrError::Invalid(format!("invalid address: '{text}'")));
        };
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(AddrError::Invalid(format!("invalid address: '{text}'"))),
        };
        (&rest[..end], port)
    } else {
        // unbracketed: the port follows the last colon, as str2sa_range() reads it
        match t.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (t, None),
        }
    };
    let port_num = match port {
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|c| c.is_ascii_digit()) || p.len() > 5 {
                return Err(AddrError::Invalid(format!("invalid port '{p}'")));
            }
            let n: u32 = p
                .parse()
                .map_err(|_| AddrError::Invalid(format!("invalid port '{p}'")))?;
            if n > 65535 {
                return Err(AddrError::Invalid(format!("invalid port '{p}'")));
            }
            Some(n as u16)
        }
    };
    let ip: IpAddr = if host.is_empty() || host == "*" {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        ip
    } else {
        match (host, 0u16).to_socket_addrs() {
            Ok(mut it) => match it.find(|a| a.is_ipv4()).or_else(|| {
                (host, 0u16)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut i| i.next())
            }) {
                Some(a) => a.ip(),
                None => return Err(AddrError::Unresolved(host.to_string())),
            },
            Err(_) => return Err(AddrError::Unresolved(host.to_string())),
        }
    };
    Ok((
        SocketAddr::new(ip, port_num.unwrap_or(0)),
        port_num.is_none(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoAcls;

    impl crate::acl::AclKeywords for NoAcls {
        fn check_acl_expr(&self, _: &[String]) -> Result<(), String> {
            Ok(())
        }
        fn is_predefined_acl(&self, _: &str) -> bool {
            false
        }
    }

    /// Parses `text` as file `name` (written under the temp dir) and renders the alerts.
    fn parse_text(name: &str, text: &str) -> (Config, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("hrs-cfg-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let ctx = ParseCtx {
            features: "",
            version: "2.6.12",
            acl_kws: &NoAcls,
        };
        let (cfg, d) = parse_files(std::slice::from_ref(&path), &ctx);
        let _ = std::fs::remove_file(&path);
        let alerts = d
            .list
            .iter()
            .filter(|x| x.level == Level::Alert)
            .map(|x| x.render(1).replace(&format!("{}/", dir.display()), ""))
            .collect();
        (cfg, alerts)
    }

    /// `id` in proxies: the alerts of haproxy 2.6.12 for the same file, word for word.
    #[test]
    fn proxy_ids_are_checked_as_upstream() {
        let (_, alerts) = parse_text(
            "id.cfg",
            "defaults\n  mode http\n  id 1\nfrontend fe\n  bind 127.0.0.1:18080\n  id 2\n  default_backend be\nlisten li\n  bind 127.0.0.1:18082\n  id 2\n  id 7 8\nbackend be\n  id 0\nbackend be2\n  id\n  id 4294967298\n",
        );
        let want = [
            "parsing [id.cfg:3]: 'id' not allowed in 'defaults' section.",
            "parsing [id.cfg:10]: proxy li reuses same custom id as frontend fe (declared at id.cfg:4).",
            "parsing [id.cfg:11] : 'id' cannot handle unexpected argument '8'.",
            "parsing [id.cfg:13]: custom id has to be > 0.",
            "parsing [id.cfg:15]: 'id' expects an integer argument.",
            // atoi truncates 2^32 + 2 to 2
            "parsing [id.cfg:16]: backend be2 reuses same custom id as frontend fe (declared at id.cfg:4).",
        ];
        let got: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a.split_once("config : ").map(|x| x.1))
            .take(want.len())
            .collect();
        assert_eq!(got, want, "{alerts:#?}");
    }

    #[test]
    fn proxy_ids_assigned() {
        let (cfg, alerts) = parse_text(
            "ids.cfg",
            "global\n  stats timeout 5s\ndefaults\n  mode http\nfrontend fe\n  bind 127.0.0.1:18080\n  default_backend be\nbackend be\n  id 42\nbackend be2\nlisten li\n  id 2\n  bind 127.0.0.1:18082\nbackend be3\n",
        );
        assert!(alerts.is_empty(), "{alerts:?}");
        let got: Vec<(&str, u32)> = cfg
            .proxies
            .iter()
            .map(|p| (p.name.as_str(), p.uuid))
            .collect();
        assert_eq!(
            got,
            [("fe", 3), ("be", 42), ("be2", 5), ("li", 2), ("be3", 7)]
        );
    }

    #[test]
    fn inet_forms() {
        assert_eq!(
            parse_inet("127.0.0.1:80").unwrap(),
            ("127.0.0.1:80".parse().unwrap(), false)
        );
        assert_eq!(
            parse_inet(":8080").unwrap(),
            ("0.0.0.0:8080".parse().unwrap(), false)
        );
        assert_eq!(
            parse_inet("*:8080").unwrap(),
            ("0.0.0.0:8080".parse().unwrap(), false)
        );
        assert_eq!(
            parse_inet("[::1]:80").unwrap(),
            ("[::1]:80".parse().unwrap(), false)
        );
        // unbracketed IPv6: the last colon separates the port, as upstream reads it
        assert_eq!(
            parse_inet(":::80").unwrap(),
            ("[::]:80".parse().unwrap(), false)
        );
        assert!(matches!(parse_inet("::1"), Err(AddrError::Unresolved(_))));
        assert!(parse_inet("127.0.0.1").unwrap().1);
        assert!(parse_inet("127.0.0.1:99999").is_err());
        assert!(parse_inet("127.0.0.1:8x").is_err());
        assert!(parse_inet("unix@/x").is_err());
        std::env::set_var("HRS_TEST_PORT", "8443");
        assert_eq!(
            parse_inet("127.0.0.1:${HRS_TEST_PORT}").unwrap().0.port(),
            8443
        );
    }

    /// The `retry_on` of backend `be` declared with `line` (empty: none).
    fn retry_on_of(line: &str) -> RetryOn {
        let text =
            format!("defaults\n    mode http\nbackend be\n    {line}\n    server s 127.0.0.1:80\n");
        let (cfg, alerts) = parse_text("retry-on.cfg", &text);
        assert!(alerts.is_empty(), "{line}: {alerts:?}");
        cfg.find_proxy("be", Cap::BE).unwrap().retry_on
    }

    #[test]
    fn retry_on_replaces_the_default() {
        let st = |c: u16| status_bit(c);
        assert_eq!(
            retry_on_of(""),
            RetryOn(RetryOn::CONN_FAILED),
            "the default"
        );
        assert_eq!(retry_on_of("retry-on none"), RetryOn(0));
        // upstream's `proxy_parse_retry_on` starts from 0: a list without `conn-failure`
        // does not retry connection failures
        assert_eq!(retry_on_of("retry-on 503"), RetryOn(st(503)));
        assert_eq!(
            retry_on_of("retry-on empty-response junk-response"),
            RetryOn(RetryOn::DISCONNECTED | RetryOn::JUNK_REQUEST)
        );
        assert_eq!(
            retry_on_of("retry-on conn-failure response-timeout 404"),
            RetryOn(RetryOn::CONN_FAILED | RetryOn::TIMEOUT | st(404))
        );
        assert_eq!(
            retry_on_of("retry-on all-retryable-errors"),
            RetryOn(
                RetryOn::CONN_FAILED
                    | RetryOn::DISCONNECTED
                    | RetryOn::TIMEOUT
                    | RetryOn::RTT_REJECTED
                    | RetryOn::JUNK_REQUEST
                    | st(500)
                    | st(502)
                    | st(503)
                    | st(504)
            )
        );
    }
}
