//! The configuration reader: HAProxy's `readcfgfile()` loop and its section parsers
//! (`cfg_parse_global`, `cfg_parse_listen`, the keywords other files register) for the
//! subset haproxy-rs implements.
//!
//! Owns the reading state (current section, current proxy, defaults sections, `.if` stack,
//! error bits) and fills a [`Config`]; every problem becomes a [`Diag`](crate::Diag) worded,
//! placed and ordered as upstream's, with upstream's control flow (which errors stop the
//! line, the file or the whole load, see [`parse_files`]). A keyword, option, action or
//! address form that upstream knows and haproxy-rs does not implement is refused with `...
//! is not supported by haproxy-rs`, after upstream's own checks of the line; an unknown one
//! gets upstream's message and suggestion ([`crate::kw`]). The few pure tuning knobs that
//! are accepted and ignored are listed in [`IGNORED_GLOBAL`] and in `docs/config-subset.md`;
//! their arguments are still checked as upstream checks them.

use crate::addr::{indent_msg, str2ip2, str2sa_range, PaOpts, SaFamily};
use crate::cond::{eval_condition, ProcessCtx};
use crate::diag::{io_reason, show_position, Diag, Diags, Head, Level, Loc};
use crate::kw;
use crate::lexer::{parse_line, Env, LexError, Line, Opts};
use crate::model::*;
use crate::units::{atoi, atol, parse_time, TimeError, TimeUnit};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
/// the sample layer's compiler (for rules and formats).
pub struct ParseCtx<'a> {
    /// The feature list `feature()` tests (`+NAME -NAME ...`).
    pub features: &'a str,
    /// The version `version_atleast()`/`version_before()` compare with.
    pub version: &'a str,
    /// Fetches, ACL keywords and predefined ACLs, asked by `acl` lines and conditions.
    pub acl_kws: &'a dyn crate::acl::AclKeywords,
    /// Compiles rules while they are read and formats after parsing, as upstream does.
    pub compiler: &'a dyn Compiler,
    /// The threads the process runs when `nbthread` is not set (the CPUs it may run on):
    /// `bind ... thread` sets are checked against it.
    pub default_nbthread: usize,
}

/// The sample layer's compilation, called where HAProxy compiles while loading: an HTTP
/// rule when its line is read (its action's arguments and its condition, against the ACLs
/// declared so far), a proxy's log-format and dynamic `use_backend` names in the post-parse
/// checks (`check_config_validity()`). hrs-cfg cannot depend on hrs-sample, which reads its
/// model: the binary passes hrs-sample's implementation in [`ParseCtx`].
pub trait Compiler {
    /// Compiles the rule `spec` of `kw` (`http-request`, `http-response`,
    /// `http-after-response`), just read in `px` (which holds the ACLs declared before it).
    ///
    /// # Errors
    /// The alert upstream prints; reading then stops (`ERR_ABORT`). `Ok` holds warnings.
    fn http_rule(&self, px: &Proxy, kw: &str, spec: &HttpRuleSpec) -> Result<Vec<Diag>, Diag>;

    /// The warnings of the `acl` line `acl` just read in `px` (an ACL without pattern...).
    fn acl(&self, px: &Proxy, acl: &AclSpec) -> Vec<Diag>;

    /// The warnings of the condition of the `use_backend` rule `rule` just read in `px`
    /// (ACLs that can never match there).
    fn switching_rule(&self, px: &Proxy, rule: &SwitchRule) -> Vec<Diag>;

    /// Compiles the name of a `use_backend` rule of `px` as a log-format
    /// (`check_config_validity()`): `Ok(true)` when it is dynamic (rendered per request),
    /// `Ok(false)` when it is a plain name, to be looked up.
    ///
    /// # Errors
    /// The alert upstream prints (the configuration is then invalid).
    fn use_backend(&self, px: &Proxy, rule: &SwitchRule) -> Result<bool, Diag>;

    /// Compiles the log format of the frontend `px` (its `log-format`, or the one of `option
    /// httplog`/`tcplog`): the alert upstream prints when it does not compile, and whether
    /// the frontend is left with a format that is not empty (upstream keeps what was read
    /// before an error).
    fn log_format(&self, px: &Proxy) -> (Option<Diag>, bool);
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

/// A keyword's modifier (`KWM_STD`, `KWM_NO`, `KWM_DEF`): none, `no`, `default`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kwm {
    Std,
    No,
    Def,
}

/// Control flow after a section keyword: go on, stop reading at once (`ERR_ABORT`), or
/// fail as if the file could not be read (a section parser returning -1).
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Abort,
    Fail,
}

/// What `readcfgfile()` does after a line: read the next one, leave the reading loop and run
/// the end-of-file checks (`break`), or leave the file at once (`goto err`).
#[derive(PartialEq, Eq)]
enum Next {
    Line,
    Break,
    Stop,
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
    /// Values of the ignored global keywords seen so far (some refuse a second value).
    ignored_global: std::collections::HashMap<String, i64>,
    /// A section parser failed the whole file (returned -1 upstream).
    failed: bool,
    /// The keyword that started the current section (`global`, `frontend`...), as upstream's
    /// messages name the section.
    cursection: String,
    /// `readcfgfile()`'s `fatal`: lines of the current file counted as fatal (a lexer error,
    /// an unknown directive, a misplaced `no`/`default`, a keyword out of section, a keyword
    /// whose parser failed); reading stops after 50.
    fatal_lines: usize,
    /// The timeouts of the defaults section the current proxy was made from (upstream warns
    /// when a proxy sets a timeout twice).
    def_timeouts: Timeouts,
}

/// Reads `files` in order and checks the result, as HAProxy's `main()` loads a
/// configuration: after each file with errors, `Error(s) found in configuration file : F`,
/// and nothing more once a file set `ERR_ABORT`; after the files, `Fatal errors found in
/// configuration.` if any was fatal; then the post-parse checks (again followed by `Fatal
/// errors found in configuration.` when they fail), then the server addresses (`Failed to
/// initialize server(s) addr.`).
///
/// Returns the configuration (even when invalid, for `-c` reporting) and the diagnostics,
/// closing alerts included; `diags.fatal` tells whether it may start.
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
        ignored_global: std::collections::HashMap::new(),
        failed: false,
        cursection: String::new(),
        fatal_lines: 0,
        def_timeouts: Timeouts::default(),
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
        r.read_file(&name, &content);
        if r.failed {
            // readcfgfile() returned -1, which main() takes for an unreadable file
            r.d.alert(format!(
                "Could not open configuration file {name} : Success"
            ));
            return (r.cfg, r.d);
        }
        if r.d.fatal || r.d.aborted {
            r.d.alert(format!("Error(s) found in configuration file : {name}"));
        }
        r.d.fatal |= before;
        if r.d.aborted {
            return (r.cfg, r.d);
        }
    }
    if r.d.fatal {
        r.d.alert("Fatal errors found in configuration.");
        return (r.cfg, r.d);
    }
    crate::check::check_config(&mut r.cfg, &mut r.d, ctx.compiler, ctx.default_nbthread);
    if r.d.fatal {
        r.d.alert("Fatal errors found in configuration.");
        return (r.cfg, r.d);
    }
    crate::check::check_server_addrs(&r.cfg, &mut r.d);
    (r.cfg, r.d)
}

impl<'a> Reader<'a> {
    /// One file, as `readcfgfile()`: its errors set `self.d.fatal`/`self.d.aborted`.
    fn read_file(&mut self, file: &str, content: &[u8]) {
        let mut conds: Vec<CondState> = Vec::new();
        let mut lines = content.split(|&b| b == b'\n').peekable();
        let mut linenum = 0;
        self.fatal_lines = 0;
        // the previous line ended before its LF (a NUL byte), or the last line has no LF:
        // the position where it ended
        let mut missing_lf: Option<usize> = None;
        let mut next = Next::Line;
        while let Some(mut raw) = lines.next() {
            let last = lines.peek().is_none();
            if last && raw.is_empty() {
                break; // the file ended with a newline
            }
            let loc = Loc {
                file: file.to_string(),
                line: linenum,
            };
            if let Some(p) = missing_lf.take() {
                self.d
                    .alert_tight(&loc, format!("Stray NUL character at position {}.", p + 1));
                next = Next::Break;
                break;
            }
            linenum += 1;
            let loc = Loc {
                file: file.to_string(),
                line: linenum,
            };
            if self.fatal_lines >= 50 {
                self.d.alert_tight(
                    &loc,
                    format!(
                        "too many fatal errors ({}), stopping now.",
                        self.fatal_lines
                    ),
                );
                next = Next::Break;
                break;
            }
            // A line cut by a NUL byte, or the last line without LF, is processed up to there.
            if let Some(p) = raw.iter().position(|&b| b == 0) {
                missing_lf = Some(p);
                raw = &raw[..p];
            } else if last {
                missing_lf = Some(raw.len());
            }
            next = self.one_line(&loc, raw, &mut conds);
            if next != Next::Line {
                break;
            }
        }
        if next == Next::Stop {
            self.finish_section();
            return;
        }
        let loc = Loc {
            file: file.to_string(),
            line: linenum,
        };
        if let Some(p) = missing_lf {
            self.d.alert_tight(
                &loc,
                format!(
                    "Missing LF on last line, file might have been truncated at position {}.",
                    p + 1
                ),
            );
        }
        self.finish_section();
        if !conds.is_empty() {
            self.d.alert_tight(&loc, "non-terminated '.if' block.");
            self.d.aborted = true;
        }
    }

    /// One raw line (without its LF): lexing, conditional blocks, directives, keywords.
    fn one_line(&mut self, loc: &Loc, raw: &[u8], conds: &mut Vec<CondState>) -> Next {
        let start = raw
            .iter()
            .position(|&b| !is_c_space(b))
            .unwrap_or(raw.len());
        let text = &raw[start..];
        if text.first() == Some(&b'[') {
            self.parse_scope(loc, text);
            return Next::Line;
        }
        let env = LineEnv {
            file: &loc.file,
            line: loc.line,
            section: &self.section_name,
        };
        let line = match parse_line(text, Opts::CONFIG, &env) {
            Ok(l) => l,
            Err(e) => {
                // positions are counted from the start of the line, leading blanks included,
                // the line is shown without them
                let msg = match e {
                    LexError::Quote { pos }
                    | LexError::Brace { pos }
                    | LexError::VarName { pos }
                    | LexError::Hex { pos }
                    | LexError::WrongExpand { pos } => {
                        let what = e.describe();
                        let what = what
                            .rsplit_once(" at position ")
                            .map_or(what.as_str(), |(w, _)| w);
                        // an unknown pseudo-variable (`${.NOPE}`): upstream's lexer left a
                        // NUL after the name, so the line it shows ends there
                        let shown = match e {
                            LexError::VarName { .. } if text.get(pos) == Some(&b'.') => {
                                let len = text[pos + 1..]
                                    .iter()
                                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                                    .count();
                                &text[..pos + 1 + len]
                            }
                            _ => text,
                        };
                        format!(
                            "{what} at position {}:{}",
                            pos + start + 1,
                            show_position(shown, pos, 80, "")
                        )
                    }
                    LexError::TooMany { .. } => format!("{}.", e.describe()),
                };
                self.d.alert_tight(loc, msg);
                self.fatal_lines += 1;
                return Next::Line;
            }
        };
        // no word, or an empty first one, makes an empty line, as upstream tests `!**args`
        if line.word_bytes(0).is_empty() {
            return Next::Line;
        }
        let w0 = line.word(0);
        if w0.starts_with('.') {
            if let Some(next) = self.cond_directive(loc, &line, &w0, conds) {
                return next;
            }
        }
        if conds.last().is_some_and(|c| c.masks()) {
            return Next::Line;
        }
        if w0.starts_with('.') {
            return self.directive(loc, &line, &w0);
        }
        match self.line(loc, &line) {
            Flow::Continue => Next::Line,
            Flow::Abort => {
                self.d.aborted = true;
                Next::Stop
            }
            Flow::Fail => {
                self.failed = true;
                Next::Stop
            }
        }
    }

    /// `.if`, `.elif`, `.else`, `.endif` (even in masked blocks); `None` for other words.
    fn cond_directive(
        &mut self,
        loc: &Loc,
        line: &Line,
        w0: &str,
        conds: &mut Vec<CondState>,
    ) -> Option<Next> {
        match w0 {
            ".if" | ".elif" => {
                let is_if = w0 == ".if";
                if is_if {
                    if conds.len() + 1 >= MAX_NESTED_CONDS {
                        self.d.alert_tight(
                            loc,
                            format!("too many nested '.if', max is {MAX_NESTED_CONDS}."),
                        );
                        self.d.aborted = true;
                        return Some(Next::Stop);
                    }
                    if conds.last().is_some_and(|c| c.masks()) {
                        conds.push(CondState::IfSkip);
                        return Some(Next::Line);
                    }
                } else {
                    let Some(top) = conds.last().copied() else {
                        self.d
                            .alert_tight(loc, "lone '.elif' with no matching '.if'.");
                        self.d.aborted = true;
                        return Some(Next::Stop);
                    };
                    if top.is_else() {
                        self.d
                            .alert_tight(loc, "'.elif' after '.else' is not permitted.");
                        self.d.aborted = true;
                        return Some(Next::Stop);
                    }
                    if top.taken() {
                        if let Some(t) = conds.last_mut() {
                            *t = CondState::ElifSkip;
                        }
                        return Some(Next::Line);
                    }
                }
                let expr = line.merged_from(1);
                let cond_ctx = ProcessCtx {
                    features: self.ctx.features,
                    version: self.ctx.version,
                };
                match eval_condition(&expr, &cond_ctx) {
                    Ok(v) => {
                        let st = match (is_if, v) {
                            (true, true) => CondState::IfTake,
                            (true, false) => CondState::IfDrop,
                            (false, true) => CondState::ElifTake,
                            (false, false) => CondState::ElifDrop,
                        };
                        if is_if {
                            conds.push(st);
                        } else if let Some(t) = conds.last_mut() {
                            *t = st;
                        }
                    }
                    Err(e) => {
                        // the expression is shown in 80 columns minus the directive's width
                        let prefix = format!("{w0} ");
                        self.d.alert_tight(
                            loc,
                            format!(
                                "{} in '{w0}' at position {}:{}",
                                e.msg,
                                e.pos + 1,
                                show_position(expr.as_bytes(), e.pos, 80 - prefix.len(), &prefix)
                            ),
                        );
                        self.d.aborted = true;
                        return Some(Next::Stop);
                    }
                }
                Some(Next::Line)
            }
            ".else" | ".endif" => {
                if !line.word(1).is_empty() {
                    self.d.alert_tight(
                        loc,
                        format!("Unexpected argument '{}' for '{w0}'.", line.word(1)),
                    );
                    self.d.aborted = true;
                    return Some(Next::Break);
                }
                let Some(top) = conds.last().copied() else {
                    self.d
                        .alert_tight(loc, format!("lone '{w0}' with no matching '.if'."));
                    self.d.aborted = true;
                    // a lone '.endif' leaves the loop, a lone '.else' the file
                    return Some(if w0 == ".endif" {
                        Next::Break
                    } else {
                        Next::Stop
                    });
                };
                if w0 == ".endif" {
                    conds.pop();
                } else if top.is_else() {
                    self.d
                        .alert_tight(loc, "'.else' after '.else' is not permitted.");
                    self.d.aborted = true;
                    return Some(Next::Stop);
                } else if let Some(t) = conds.last_mut() {
                    // a taken branch, or a block inside a masked one (IfSkip), drops the
                    // `.else` branch
                    *t = if top.taken() {
                        CondState::ElseDrop
                    } else {
                        CondState::ElseTake
                    };
                }
                Some(Next::Line)
            }
            _ => None,
        }
    }

    /// `.alert`, `.warning`, `.notice`, `.diag` and unknown directives, outside masked blocks.
    fn directive(&mut self, loc: &Loc, line: &Line, w0: &str) -> Next {
        if !matches!(w0, ".alert" | ".warning" | ".notice" | ".diag") {
            // upstream also counts a fatal line here, then leaves the loop: that count is never
            // read again
            self.d
                .alert_tight(loc, format!("unknown directive '{w0}'."));
            return Next::Break;
        }
        if !line.word(2).is_empty() {
            self.d.alert_tight(
                loc,
                format!(
                    "Unexpected argument '{}' for '{w0}'. Use quotes if the message should contain spaces.",
                    line.word(2)
                ),
            );
            return Next::Line;
        }
        let msg = format!("'{}'.", line.word(1));
        match w0 {
            ".alert" => {
                self.d.alert_tight(loc, msg);
                self.d.aborted = true;
                return Next::Stop;
            }
            ".warning" => self.d.push(Diag::at(Level::Warning, Head::Tight, loc, msg)),
            ".notice" => self.d.note_at(Level::Notice, loc, msg),
            _ => self.d.note_at(Level::Diag, loc, msg),
        }
        Next::Line
    }

    /// A `[name]` scope line (`cfg_parse_scope()`): a valid one changes nothing here.
    fn parse_scope(&mut self, loc: &Loc, text: &[u8]) {
        let beg = &text[1..];
        let Some(end) = beg.iter().position(|&b| b == b']').filter(|&e| e > 0) else {
            self.d.alert_at(loc, "empty scope name is forbidden.");
            return;
        };
        if let Some(&c) = beg[..end].iter().find(|&&c| !is_name_char(c)) {
            self.d.alert_at(
                loc,
                format!(
                    "character '{}' is not permitted in a scope name.",
                    c as char
                ),
            );
            self.d.aborted = true;
            return;
        }
        let rest = &beg[end + 1..];
        let rest = &rest[rest
            .iter()
            .position(|&b| !is_c_space(b))
            .unwrap_or(rest.len())..];
        if let Some(&c) = rest
            .first()
            .filter(|&&c| !matches!(c, b'#' | b'\n' | b'\r'))
        {
            self.d.alert_at(
                loc,
                format!(
                    "character '{}' is not permitted after scope declaration.",
                    c as char
                ),
            );
            self.d.aborted = true;
        }
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
        let mut kwm = Kwm::Std;
        if words[0] == "no" || words[0] == "default" {
            kwm = if words[0] == "no" { Kwm::No } else { Kwm::Def };
            let kw = words.get(1).cloned().unwrap_or_default();
            if !matches!(
                kw.as_str(),
                "option"
                    | "log"
                    | "busy-polling"
                    | "set-dumpable"
                    | "strict-limits"
                    | "insecure-fork-wanted"
                    | "numa-cpu-mapping"
            ) {
                self.d.alert_tight(
                    loc,
                    "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
                );
                self.fatal_lines += 1;
            }
            // upstream shifts the words left; after `no` the last becomes empty, after
            // `default` it stays, so that the last word appears twice (`default option
            // httpclose` has an extra argument) and `default` alone stays `default`
            if kwm == Kwm::No {
                words.remove(0);
                if words.is_empty() {
                    words.push(String::new());
                }
            } else if words.len() > 1 {
                words.remove(0);
                if let Some(last) = words.last().cloned() {
                    words.push(last);
                }
            }
        }
        let before = self.d.fatal_count;
        let flow = self.section_line(loc, &words, kwm);
        if self.d.fatal_count > before {
            self.fatal_lines += 1;
        }
        flow
    }

    /// A line of the current section, or the start of a new one (`no`/`default` removed).
    fn section_line(&mut self, loc: &Loc, words: &[String], kwm: Kwm) -> Flow {
        match words[0].as_str() {
            "global" | "defaults" | "frontend" | "backend" | "listen" | "userlist" | "peers"
            | "resolvers" | "mailers" | "http-errors" | "ring" | "cache" | "program"
            | "log-forward" => self.cursection = words[0].clone(),
            _ => {}
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
                return self.start_proxy(loc, words);
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
                self.d.alert_tight(
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
                self.global_kw(loc, words, kwm);
                Flow::Continue
            }
            Section::Proxy => self.proxy_kw(loc, words, kwm),
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
        let word = |i: usize| w.get(i).cloned().unwrap_or_default();
        self.section_name = if word(1).is_empty() {
            w[0].clone()
        } else {
            word(1)
        };
        if !is_def {
            let name = word(1);
            if name.is_empty() {
                self.d
                    .alert_at(loc, format!("'{}' expects an <id> argument", w[0]));
                return Flow::Abort;
            }
            if let Some(&c) = name.as_bytes().iter().find(|&&c| !is_name_char(c)) {
                self.d.alert_at(
                    loc,
                    format!(
                        "character '{}' is not permitted in '{}' name '{name}'.",
                        c as char, w[0]
                    ),
                );
            }
            // proxy_fe_by_name() for a frontend or listen, else proxy_be_by_name()
            let side = if cap.contains(Cap::FE) {
                Cap::FE
            } else {
                Cap::BE
            };
            let clash = self
                .cfg
                .proxies
                .iter()
                .find(|p| p.name == name && p.cap.contains(side));
            if let Some(p) = clash {
                let at = p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default();
                let msg = format!(
                    "{} '{name}' has the same name as {} '{name}' declared at {at}.",
                    cap.type_str(),
                    p.cap.type_str()
                );
                self.d.alert_head(Head::Capital, loc, msg);
            }
            // `<kw> <name> [from <defaults>]` and nothing more; upstream then has no
            // proxy to fill until the next section
            if (w.len() > 2 && (w.len() < 4 || w[2] != "from")) || self.too_many_args(loc, w, 3) {
                if cap.contains(Cap::FE) {
                    self.d.alert_only(
                        Head::Parsing,
                        loc,
                        "please use the 'bind' keyword for listening addresses.",
                    );
                }
                self.section = Section::NoProxy;
                return Flow::Continue;
            }
        }
        // `defaults from <defaults>` has no name
        let (name, arg) =
            if is_def && word(1) == "from" && !word(2).is_empty() && word(3).is_empty() {
                (String::new(), 1)
            } else {
                (word(1), 2)
            };
        let base = if word(arg) == "from" {
            let f = word(arg + 1);
            let found: Vec<&Proxy> = self.defaults.iter().filter(|p| p.name == f).collect();
            match found.as_slice() {
                [] => {
                    self.d.alert_at(
                        loc,
                        format!(
                            "defaults section '{f}' not found for {} '{name}'.",
                            cap.type_str()
                        ),
                    );
                    return Flow::Abort;
                }
                [one] => (*one).clone(),
                [a, b, ..] => {
                    let at = |p: &Proxy| p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default();
                    let msg = format!(
                        "ambiguous defaults section name '{f}' referenced by {} '{name}' exists at least at {} and {}.",
                        cap.type_str(),
                        at(a),
                        at(b)
                    );
                    self.d.alert_at(loc, msg);
                    (*a).clone()
                }
            }
        } else if is_def {
            Proxy::preset("", Cap::DEF)
        } else {
            self.last_def.clone()
        };
        self.def_timeouts = base.timeouts;
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
            self.d
                .alert_tight(loc, "'id' not allowed in 'defaults' section.");
            return;
        }
        if self.too_many_args(loc, w, 1) {
            return;
        }
        let arg = w.get(1).map(String::as_str).unwrap_or("");
        if arg.is_empty() {
            self.d.alert_tight(loc, "'id' expects an integer argument.");
            return;
        }
        let id = atoi(arg);
        if id <= 0 {
            self.d.alert_tight(loc, "custom id has to be > 0.");
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
            self.d.alert_tight(
                loc,
                format!(
                    "{} {} reuses same custom id as {} {name} (declared at {at}).",
                    p.cap.type_str(),
                    p.name,
                    cap.type_str(),
                ),
            );
        }
    }

    /// HAProxy's `alertif_too_many_args()`: alerts when `w` has more than `max` arguments.
    fn too_many_args(&mut self, loc: &Loc, w: &[String], max: usize) -> bool {
        self.too_many_args_idx(loc, w, max, 0)
    }

    /// HAProxy's `alertif_too_many_args_idx()`: alerts when the keyword made of the words
    /// up to `index` has more than `max` arguments (the extra word found lies after them, so
    /// the keyword's words are all there).
    fn too_many_args_idx(&mut self, loc: &Loc, w: &[String], max: usize, index: usize) -> bool {
        let Some(extra) = w.get(index + max + 1) else {
            return false;
        };
        self.d.alert_at(
            loc,
            format!(
                "'{}' cannot handle unexpected argument '{extra}'.",
                w[..=index].join(" ")
            ),
        );
        true
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

    fn global_kw(&mut self, loc: &Loc, w: &[String], kwm: Kwm) {
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        match kw {
            "maxconn" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if self.cfg.global.maxconn.is_some() {
                    self.d.alert_only(
                        Head::Parsing,
                        loc,
                        format!("'{kw}' already specified. Continuing."),
                    );
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                self.cfg.global.maxconn = Some(atol(arg1).clamp(0, i64::from(u32::MAX)) as u32);
            }
            "nbthread" | "thread-groups" => {
                // cfg_parse_nbthread() and cfg_parse_thread_groups(), registered keywords:
                // their messages after `parsing [F:N] : `
                let max = if kw == "nbthread" {
                    64
                } else {
                    crate::thread::MAX_TGROUPS
                };
                if let Some(n) = self.global_count(loc, w, max) {
                    if kw == "nbthread" {
                        self.cfg.global.nbthread = Some(n);
                    } else {
                        self.cfg.global.thread_groups = Some(n);
                    }
                }
            }
            "cpu-map" => self.global_cpu_map(loc, w),
            "daemon" => {
                if !self.too_many_args(loc, w, 0) {
                    self.cfg.global.daemon = true;
                }
            }
            "master-worker" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if !arg1.is_empty() && arg1 != "no-exit-on-failure" {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' only supports 'no-exit-on-failure' option."),
                    );
                    return;
                }
                self.cfg.global.master_worker = true;
            }
            "pidfile" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if self.cfg.global.pidfile.is_some() {
                    self.d.alert_only(
                        Head::Parsing,
                        loc,
                        format!("'{kw}' already specified. Continuing."),
                    );
                } else if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a file name as an argument."));
                } else {
                    self.cfg.global.pidfile = Some(arg1.to_string());
                }
            }
            "tune.bufsize" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                // rounded up to two pointers, in an int
                let n = (atol(arg1) as i32).wrapping_add(15) & -16;
                if n <= 0 {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a positive integer argument."));
                    return;
                }
                self.cfg.global.tune_bufsize = n as usize;
            }
            "tune.maxrewrite" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                let n = atol(arg1) as i32;
                if n < 0 {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a positive integer argument."));
                    return;
                }
                self.cfg.global.tune_maxrewrite = Some(n as usize);
            }
            "tune.idle-pool.shared" | "tune.listener.multi-queue" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                let set = if kw == "tune.idle-pool.shared" {
                    &mut self.cfg.global.tune_idle_pool_shared
                } else {
                    &mut self.cfg.global.tune_listener_multi_queue
                };
                match arg1 {
                    "on" => *set = true,
                    "off" => *set = false,
                    _ => self.d.alert_at(
                        loc,
                        format!("'{kw}' expects either 'on' or 'off' but got '{arg1}'."),
                    ),
                }
            }
            "tune.pool-low-fd-ratio" | "tune.pool-high-fd-ratio" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                let n = atol(arg1);
                if arg1.is_empty() || !(0..=100).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects an integer argument between 0 and 100."),
                    );
                    return;
                }
                if kw == "tune.pool-low-fd-ratio" {
                    self.cfg.global.tune_pool_low_fd_ratio = n as u32;
                } else {
                    self.cfg.global.tune_pool_high_fd_ratio = n as u32;
                }
            }
            "stats" => self.global_stats(loc, w),
            "log" => {
                if let Some(l) = self.parse_log(loc, w, kwm, true) {
                    self.cfg.global.logs.push(l);
                }
            }
            "tune.h2.header-table-size"
            | "tune.h2.initial-window-size"
            | "tune.h2.max-concurrent-streams"
            | "tune.h2.max-frame-size" => self.global_tune_h2(loc, w),
            "tune.http.maxhdr" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                let n = atol(arg1) as i32;
                if !(1..=32767).contains(&n) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects a numeric value between 1 and 32767"),
                    );
                    return;
                }
                self.cfg.global.tune_maxhdr = n as usize;
            }
            k if IGNORED_GLOBAL.contains(&k) => self.global_ignored(loc, w),
            k if kw::is_keyword(k, kw::Section::Global) => self.d.alert_at(
                loc,
                format!("keyword '{k}' is not supported by haproxy-rs."),
            ),
            _ => {
                let msg = match kw::suggest_keyword(kw, kw::Section::Global) {
                    Some(best) => format!(
                        "unknown keyword '{kw}' in '{}' section; did you mean '{best}' maybe ?",
                        self.cursection
                    ),
                    None => format!("unknown keyword '{kw}' in 'global' section"),
                };
                self.d.alert_at(loc, msg);
            }
        }
    }

    /// `cpu-map [auto:]<proc>[/<thread-set>] <cpu-set>...` (`cfg_parse_global()`): the sets
    /// are kept in [`Global::cpu_map`], the errors worded as upstream's (a message of
    /// [`crate::thread::parse_process_number`] that ends with a line feed leaves an empty
    /// line, as upstream prints it).
    /// The one argument of `nbthread`/`thread-groups`, a whole integer from 1 to `max`, or
    /// `None` with upstream's alert.
    fn global_count(&mut self, loc: &Loc, w: &[String], max: i64) -> Option<u32> {
        let (kw, arg1) = (w[0].as_str(), w.get(1).map_or("", String::as_str));
        if self.too_many_args(loc, w, 1) {
            return None;
        }
        let Some(n) = strtol_whole(arg1) else {
            self.d.alert_at(
                loc,
                format!("'{kw}' passed a missing or unparsable integer value in '{arg1}'"),
            );
            return None;
        };
        if !(1..=max).contains(&n) {
            self.d.alert_at(
                loc,
                format!("'{kw}' value must be between 1 and {max} (was {n})"),
            );
            return None;
        }
        Some(n as u32)
    }

    fn global_cpu_map(&mut self, loc: &Loc, w: &[String]) {
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        if arg1.is_empty() || w.get(2).is_none_or(|a| a.is_empty()) {
            self.d.alert_at(
                loc,
                format!(
                    "{kw} expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63."
                ),
            );
            return;
        }
        let (procs, threads) = match arg1.split_once('/') {
            Some((p, t)) => (p, Some(t)),
            None => (arg1, None),
        };
        let max = crate::thread::MAX_THREADS;
        let parsed = crate::thread::parse_process_number(procs, max, true).and_then(|(p, auto)| {
            let t = match threads {
                Some(t) => Some(crate::thread::parse_process_number(t, max, false)?.0),
                None => None,
            };
            let cpus = crate::thread::parse_cpu_set(&w[2..])?;
            Ok((p, auto, t, cpus))
        });
        let (procs, auto, threads, cpus) = match parsed {
            Ok(v) => v,
            Err(e) => {
                self.d.alert_at(loc, format!("{kw} : {e}"));
                return;
            }
        };
        let n = cpus.count();
        if auto
            && procs.count_ones() as usize != n
            && threads.unwrap_or(0).count_ones() as usize != n
        {
            self.d.alert_at(
                loc,
                format!("{kw} : PROC/THREAD range and CPU sets must have the same size to be automatically bound"),
            );
            return;
        }
        self.cfg.global.cpu_map.push(CpuMap {
            auto,
            procs,
            threads,
            cpus,
            loc: loc.clone(),
        });
    }

    /// The global keywords accepted and otherwise ignored ([`IGNORED_GLOBAL`]), checked as
    /// upstream checks them.
    fn global_ignored(&mut self, loc: &Loc, w: &[String]) {
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        // a second value of some of them is refused, though not fatally
        match kw {
            "quiet" | "zero-warning" | "busy-polling" | "set-dumpable" | "insecure-fork-wanted"
                if !self.too_many_args(loc, w, 0) =>
            {
                match kw {
                    "zero-warning" => self.cfg.global.zero_warning = true,
                    // nothing is printed from now on
                    "quiet" => self.d.quiet = true,
                    _ => {}
                }
            }
            "tune.runqueue-depth" | "tune.maxpollevents" | "tune.maxaccept" | "ulimit-n" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if self.ignored_global.get(kw).is_some_and(|&v| v != 0) {
                    self.d.alert_only(
                        Head::Parsing,
                        loc,
                        format!("'{kw}' already specified. Continuing."),
                    );
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return;
                }
                let v = atol(arg1);
                if kw == "tune.maxaccept" && v > i64::from(i32::MAX) {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects -1 or an integer from 0 to INT_MAX."),
                    );
                    return;
                }
                self.ignored_global.insert(kw.to_string(), v);
            }
            "tune.recv_enough" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                }
            }
            "spread-checks" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                if self.ignored_global.get(kw).is_some_and(|&v| v != 0) {
                    self.d.alert_only(
                        Head::Tight,
                        loc,
                        "spread-checks already specified. Continuing.",
                    );
                    return;
                }
                if arg1.is_empty() {
                    self.d
                        .alert_tight(loc, format!("'{kw}' expects an integer argument (0..50)."));
                    return;
                }
                let v = atol(arg1);
                self.ignored_global.insert(kw.to_string(), v);
                if !(0..=50).contains(&v) {
                    self.d.alert_tight(
                        loc,
                        "'spread-checks' needs a positive value in range 0..50.",
                    );
                }
            }
            "description" if arg1.is_empty() => {
                self.d
                    .alert_tight(loc, format!("'{kw}' expects a string argument."));
            }
            "node" => {
                if self.too_many_args(loc, w, 1) {
                    return;
                }
                let valid = !arg1.is_empty()
                    && arg1
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
                if !valid {
                    self.d.alert_tight(loc, format!("'{kw}' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."));
                }
            }
            "hard-stop-after" => {
                // a registered keyword: its message after `parsing [F:N] : `, a trailing line
                // feed included
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects <time> as argument.\n"));
                    return;
                }
                let (parsed, warning) = parse_time_warn(arg1, TimeUnit::Ms);
                if let Some(m) = warning {
                    self.d.warn(m);
                }
                match parsed {
                    Err(TimeError::Overflow) => self.d.alert_at(
                        loc,
                        format!("timer overflow in argument '{arg1}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"),
                    ),
                    Err(TimeError::BadChar(i)) => self.d.alert_at(
                        loc,
                        format!(
                            "unexpected character '{}' in argument to <{kw}>.\n",
                            arg1[i..].chars().next().unwrap_or(' ')
                        ),
                    ),
                    Ok(_) => {}
                }
            }
            _ => {}
        }
    }

    /// [`parse_time_warn`], its warning (if any) emitted without location.
    fn parse_time_warned(&mut self, text: &str) -> Result<u32, TimeError> {
        let (parsed, warning) = parse_time_warn(text, TimeUnit::Ms);
        if let Some(w) = warning {
            self.d.warn(w);
        }
        parsed
    }

    /// Notes where upstream creates its `GLOBAL` stats frontend (`cli_alloc_fe()`, on the
    /// first `stats` line that needs it): after the proxies declared so far.
    fn cli_alloc_fe(&mut self) {
        if self.cfg.global.cli_fe_at.is_none() {
            self.cfg.global.cli_fe_at = Some(self.cfg.proxies.len());
        }
    }

    /// `stats ...` in the global section (`cli_parse_global()`, a registered keyword: its
    /// messages follow `parsing [F:N] : `).
    /// A `bind` option haproxy-rs does not take, met on a `bind` line or a `stats socket`
    /// line (`bind_find_kw()`): one upstream knows is skipped with its arguments, the first
    /// of them remembered in `unsupported` (refused once the line is read, after upstream's
    /// own checks of the line); an unknown one is alerted at once, with upstream's suggestion
    /// (`bind_find_best_kw()`) in the wording of that line's parser. Returns the number of
    /// words to skip, or `None` after the alert.
    fn other_bind_option(
        &mut self,
        loc: &Loc,
        k: &str,
        head: &str,
        line: BindLine,
        unsupported: &mut Option<String>,
    ) -> Option<usize> {
        if let Some(n) = kw::bind_keyword_args(k) {
            unsupported.get_or_insert_with(|| {
                format!("{head} : '{k}' option is not supported by haproxy-rs.")
            });
            return Some(1 + n.max(0) as usize);
        }
        let best = kw::suggest_bind_keyword(k);
        let msg = match (line, best) {
            (BindLine::StatsSocket, Some(best)) => {
                format!("{head} : unknown keyword '{k}'. Did you mean '{best}' maybe ?")
            }
            (BindLine::StatsSocket, None) => format!("{head} : unknown keyword '{k}'."),
            (BindLine::Bind, Some(best)) => {
                format!("{head}: unknown keyword '{k}'; did you mean '{best}' maybe ?")
            }
            (BindLine::Bind, None) => format!("{head}: unknown keyword '{k}'."),
        };
        self.d.alert_at(loc, msg);
        None
    }

    fn global_stats(&mut self, loc: &Loc, w: &[String]) {
        let sub = w.get(1).map(String::as_str).unwrap_or("");
        let arg = w.get(2).map(String::as_str).unwrap_or("");
        match sub {
            "socket" => {
                if arg.is_empty() {
                    self.d.alert_at(
                        loc,
                        "'stats socket' in global section expects an address or a path to a UNIX socket",
                    );
                    return;
                }
                self.cli_alloc_fe();
                let sa = match str2sa_range(arg, PaOpts::LISTENER) {
                    Ok(sa) => sa,
                    Err(e) => {
                        // the error is not indented, and cited inside a second `parsing`
                        self.d.alert_at(
                            loc,
                            format!("parsing [{loc}] : 'stats socket' : {e}\n"),
                        );
                        return;
                    }
                };
                let mut unsupported = None;
                let addr = match sa.family {
                    SaFamily::Inet if sa.low == sa.high => Some(ListenAddr::Inet(sa.addr)),
                    SaFamily::Fd(n) => Some(ListenAddr::Fd(n)),
                    SaFamily::Unix(path) => Some(ListenAddr::Unix(path)),
                    _ => {
                        unsupported = Some(format!(
                            "'stats socket' : address '{arg}' is not supported by haproxy-rs."
                        ));
                        None
                    }
                };
                let (mut level, mut mode) = (CliLevel::Operator, None);
                let mut i = 3;
                while i < w.len() {
                    let k = w[i].as_str();
                    let v = w.get(i + 1).map(String::as_str).unwrap_or("");
                    let err = match k {
                        "level" => match v {
                            "" => Some(format!("'{k}' : missing level")),
                            "user" => {
                                level = CliLevel::User;
                                None
                            }
                            "operator" => {
                                level = CliLevel::Operator;
                                None
                            }
                            "admin" => {
                                level = CliLevel::Admin;
                                None
                            }
                            _ => Some(format!(
                                "'{k}' only supports 'user', 'operator', and 'admin' (got '{v}')"
                            )),
                        },
                        "mode" => match strtol_whole_radix(v, 8) {
                            Some(m) => {
                                mode = Some(m as u32);
                                None
                            }
                            _ => Some(format!(
                                "'{k}' : missing or invalid mode '{v}' (octal integer expected)"
                            )),
                        },
                        "expose-fd" => match v {
                            "" => Some(format!("'{k}' : missing fd type")),
                            "listeners" => None,
                            _ => Some(format!("'{k}' only supports 'listeners' (got '{v}')")),
                        },
                        "name" if v.is_empty() => Some(format!("'{k}' : missing name")),
                        "user" | "group" | "uid" | "gid" | "name" => None,
                        _ => match self.other_bind_option(loc, k, "'stats socket'", BindLine::StatsSocket, &mut unsupported) {
                            Some(n) => {
                                i += n;
                                continue;
                            }
                            None => return,
                        },
                    };
                    if let Some(e) = err {
                        self.d.alert_at(loc, format!("'stats socket' : '{e}'"));
                        return;
                    }
                    i += 2;
                }
                if let Some(m) = unsupported {
                    self.d.alert_at(loc, m);
                    return;
                }
                if let Some(addr) = addr {
                    self.cfg.global.stats_sockets.push(StatsSocket {
                        addr,
                        level,
                        mode,
                        loc: loc.clone(),
                    });
                }
            }
            "timeout" => match self.parse_time_warned(arg) {
                Err(TimeError::Overflow) => self.d.alert_at(
                    loc,
                    format!("timer overflow in argument '{arg}' to 'stats timeout' (maximum value is 2147483647 ms or ~24.8 days)"),
                ),
                Err(TimeError::BadChar(i)) => {
                    // upstream's `%c` of the terminating NUL (no value) ends its message there
                    let msg = match arg[i..].chars().next() {
                        Some(c) => format!("'stats timeout' : unexpected character '{c}'"),
                        None => "'stats timeout' : unexpected character '".to_string(),
                    };
                    self.d.alert_at(loc, msg);
                }
                Ok(0) => self
                    .d
                    .alert_at(loc, "'stats timeout' expects a positive value"),
                Ok(_) => self.cli_alloc_fe(),
            },
            "maxconn" => {
                if atoi(arg) <= 0 {
                    self.d
                        .alert_at(loc, "'stats maxconn' expects a positive value");
                } else {
                    self.cli_alloc_fe();
                }
            }
            _ => self.d.alert_at(
                loc,
                format!(
                    "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{sub}')"
                ),
            ),
        }
    }

    /// `log <target> [len N] [format F] [sample R:S] <facility> [level [minlevel]]`, `log
    /// global` (not in the global section) and `no log` (`parse_logsrv()`). `None` when the
    /// line adds no target (an error, `no log`, `log global`: the caller handles the last two).
    fn parse_log(&mut self, loc: &Loc, w: &[String], kwm: Kwm, global: bool) -> Option<LogSpec> {
        let arg = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
        let fail = |r: &mut Self, msg: String| {
            r.d.alert_at(loc, format!("{} : {msg}", w[0]));
            None
        };
        if kwm == Kwm::No {
            if !arg(1).is_empty() {
                return fail(self, "'no log' does not expect arguments".into());
            }
            return None;
        }
        if !arg(1).is_empty() && arg(2).is_empty() && arg(1) == "global" {
            if global {
                return fail(
                    self,
                    "'global' is not supported for a global syslog server".into(),
                );
            }
            return None;
        }
        if arg(1).is_empty() || arg(2).is_empty() {
            return fail(
                self,
                format!(
                    "expects <address> and <facility> {} as arguments",
                    if global { "" } else { "or global" }
                ),
            );
        }
        let mut spec = LogSpec {
            target: LogTarget::Stderr,
            format: LogFormat::Local,
            maxlen: 1024,
            facility: 16,
            level: 7,
            minlevel: 0,
        };
        // the word read next: `len N` can only come right after the target
        let mut i = 2;
        if arg(2) == "len" {
            let n = atol(arg(3)) as i32;
            if !(80..=65535).contains(&n) {
                return fail(
                    self,
                    format!(
                        "invalid log length '{}', must be between 80 and 65535",
                        arg(3)
                    ),
                );
            }
            spec.maxlen = n as usize;
            i = 4;
        }
        if arg(i) == "format" {
            spec.format = match arg(i + 1) {
                "local" => LogFormat::Local,
                "rfc3164" => LogFormat::Rfc3164,
                "rfc5424" => LogFormat::Rfc5424,
                "priority" => LogFormat::Priority,
                "short" => LogFormat::Short,
                "timed" => LogFormat::Timed,
                "iso" => LogFormat::Iso,
                "raw" => LogFormat::Raw,
                f => return fail(self, format!("unknown log format '{f}'")),
            };
            i += 2;
        }
        if arg(i) == "sample" {
            self.d
                .alert_at(loc, "'log ... sample' is not supported by haproxy-rs.");
            return None;
        }
        let fac = arg(i);
        let Some(f) = FACILITIES.iter().position(|&n| n == fac) else {
            return fail(self, format!("unknown log facility '{fac}'"));
        };
        spec.facility = f as u8;
        i += 1;
        if !arg(i).is_empty() {
            let Some(l) = LEVELS.iter().position(|&n| n == arg(i)) else {
                return fail(self, format!("unknown optional log level '{}'", arg(i)));
            };
            spec.level = l as u8;
            i += 1;
        }
        if !arg(i).is_empty() {
            let Some(l) = LEVELS.iter().position(|&n| n == arg(i)) else {
                return fail(
                    self,
                    format!("unknown optional minimum log level '{}'", arg(i)),
                );
            };
            spec.minlevel = l as u8;
            i += 1;
        }
        if !arg(i).is_empty() {
            return fail(
                self,
                format!("cannot handle unexpected argument '{}'", arg(i)),
            );
        }
        let target = match arg(1) {
            "stdout" => "fd@1",
            "stderr" => "fd@2",
            t => t,
        };
        if target.starts_with("ring@") {
            self.d
                .alert_at(loc, "'log ring@...' is not supported by haproxy-rs.");
            return None;
        }
        let sa = match str2sa_range(target, PaOpts::LOG) {
            Ok(sa) => sa,
            // not indented: a message ending with a line feed leaves an empty line
            Err(e) => return fail(self, e),
        };
        spec.target = match sa.family {
            SaFamily::Fd(1) => LogTarget::Stdout,
            SaFamily::Fd(2) => LogTarget::Stderr,
            SaFamily::Inet if sa.dgram => {
                // without a port, syslog's 514
                let port = if sa.low == 0 { 514 } else { sa.addr.port() };
                LogTarget::Udp(SocketAddr::new(sa.addr.ip(), port))
            }
            _ => {
                self.d.alert_at(
                    loc,
                    format!("log : target '{}' is not supported by haproxy-rs.", arg(1)),
                );
                return None;
            }
        };
        Some(spec)
    }

    fn proxy_kw(&mut self, loc: &Loc, w: &[String], kwm: Kwm) -> Flow {
        let Some(mut p) = self.cur.take() else {
            return Flow::Continue;
        };
        let flow = self.proxy_kw_inner(&mut p, loc, w, kwm);
        self.cur = Some(p);
        flow
    }

    /// `warnifnotcap()`: warns when the proxy lacks `need` (followed by `hint`); true then.
    fn warn_not_cap(&mut self, p: &Proxy, loc: &Loc, kw: &str, need: Cap, hint: &str) -> bool {
        if p.cap.intersects(need) {
            return false;
        }
        self.d.warn_at(
            loc,
            format!(
                "'{kw}' ignored because {} '{}' has {} capability.{hint}",
                p.cap.type_str(),
                p.name,
                cap_words(need)
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

    /// A keyword of a proxy section (`cfg_parse_listen()` and the keywords registered for
    /// proxies), with upstream's order of checks: a missing capability only warns, and the
    /// keyword is still read (it is then unused).
    fn proxy_kw_inner(&mut self, p: &mut Proxy, loc: &Loc, w: &[String], kwm: Kwm) -> Flow {
        let kw = w[0].as_str();
        let arg1 = w.get(1).map(String::as_str).unwrap_or("");
        match kw {
            "server" => return self.parse_server(p, loc, w),
            "bind" => {
                if self.not_in_defaults(p, loc, kw) {
                    return Flow::Continue;
                }
                self.warn_not_cap(p, loc, kw, Cap::FE, "");
                self.parse_bind(p, loc, w);
            }
            "mode" => {
                if self.too_many_args(loc, w, 1) {
                    return Flow::Continue;
                }
                match arg1 {
                    "http" => p.mode = Mode::Http,
                    "tcp" => p.mode = Mode::Tcp,
                    "health" => self.d.alert_at(loc, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."),
                    _ => self.d.alert_at(loc, format!("unknown proxy mode '{arg1}'.")),
                }
            }
            "description" => {
                if p.cap.is_defaults() {
                    self.d
                        .alert_tight(loc, format!("'{kw}' not allowed in 'defaults' section."));
                } else if arg1.is_empty() {
                    // upstream returns -1 here: the file's result then reads as "could not
                    // open the file", with errno unchanged
                    self.d
                        .alert_tight(loc, format!("'{kw}' expects a string argument."));
                    return Flow::Fail;
                }
            }
            "disabled" | "enabled" => {
                if !self.too_many_args(loc, w, 0) {
                    p.disabled = kw == "disabled";
                }
            }
            "acl" => {
                if p.cap.is_defaults() && p.name.is_empty() {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' not allowed in anonymous 'defaults' section."),
                    );
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    // invalid_char("") points at the terminating NUL: upstream's `%c` ends
                    // its message there, line feed included (the next message then follows
                    // on the same line, which is not reproduced)
                    self.d.alert_at(loc, "character '");
                    return Flow::Continue;
                }
                if let Some(&c) = arg1.as_bytes().iter().find(|&&c| !is_name_char(c)) {
                    self.d.alert_at(
                        loc,
                        format!(
                            "character '{}' is not permitted in acl name '{arg1}'.",
                            c as char
                        ),
                    );
                    return Flow::Continue;
                }
                if arg1.eq_ignore_ascii_case("or") {
                    self.d.alert_at(loc, format!("acl name '{arg1}' will never match. 'or' is used to express a logical disjunction within a condition."));
                    return Flow::Continue;
                }
                if let Err(e) = crate::acl::check_acl_def(&w[2..], self.ctx.acl_kws) {
                    self.d.alert_at(
                        loc,
                        format!("error detected while parsing ACL '{arg1}' : {e}."),
                    );
                    return Flow::Continue;
                }
                let spec = AclSpec {
                    name: arg1.to_string(),
                    words: w[2..].to_vec(),
                    loc: loc.clone(),
                };
                for d in self.ctx.compiler.acl(p, &spec) {
                    self.d.push(d);
                }
                p.acls.push(spec);
            }
            "http-request" | "http-response" | "http-after-response" => {
                if p.cap.is_defaults() && p.name.is_empty() {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' not allowed in anonymous 'defaults' section."),
                    );
                    return Flow::Continue;
                }
                return self.parse_http_rule(p, loc, w);
            }
            "use_backend" => {
                if self.not_in_defaults(p, loc, kw) {
                    return Flow::Continue;
                }
                self.warn_not_cap(p, loc, kw, Cap::FE, "");
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a backend name."));
                    return Flow::Continue;
                }
                let cond = match w.get(2).map(String::as_str) {
                    Some(k @ ("if" | "unless")) => {
                        let words = w[3..].to_vec();
                        if let Err(e) =
                            crate::acl::check_cond(&words, &acl_names(p), self.ctx.acl_kws)
                        {
                            self.d.alert_at(
                                loc,
                                format!("error detected while parsing switching rule : {e}."),
                            );
                            return Flow::Continue;
                        }
                        Some(CondSpec {
                            unless: k == "unless",
                            words,
                        })
                    }
                    Some(other) => {
                        self.d.alert_at(loc, format!("unexpected keyword '{other}' after switching rule, only 'if' and 'unless' are allowed."));
                        return Flow::Continue;
                    }
                    None => None,
                };
                let rule = SwitchRule {
                    backend: arg1.to_string(),
                    cond,
                    loc: loc.clone(),
                };
                if rule.cond.is_some() {
                    for d in self.ctx.compiler.switching_rule(p, &rule) {
                        self.d.push(d);
                    }
                }
                p.switching_rules.push(rule);
            }
            "default_backend" => {
                self.warn_not_cap(p, loc, kw, Cap::FE, "");
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects a backend name."));
                    return Flow::Continue;
                }
                p.default_backend = Some((arg1.to_string(), loc.clone()));
                self.too_many_args(loc, w, 1);
            }
            "dispatch" => {
                if self.not_in_defaults(p, loc, kw) {
                    return Flow::Continue;
                }
                self.warn_not_cap(p, loc, kw, Cap::BE, "");
                let sa = match str2sa_range(arg1, PaOpts::DISPATCH) {
                    Ok(sa) => sa,
                    Err(e) => {
                        self.d.alert_at(loc, format!("'{kw}' : {e}"));
                        return Flow::Continue;
                    }
                };
                if self.too_many_args(loc, w, 1) {
                    return Flow::Continue;
                }
                match sa.family {
                    SaFamily::Inet => p.dispatch = Some(sa.addr),
                    _ => self.d.alert_at(
                        loc,
                        format!("'{kw}' : address '{arg1}' is not supported by haproxy-rs."),
                    ),
                }
            }
            "balance" => {
                self.warn_not_cap(p, loc, kw, Cap::BE, "");
                // the algorithms of backend_parse_balance() haproxy-rs does not have
                let upstream_only = matches!(arg1, "uri" | "url_param" | "hash")
                    || ["random", "hdr(", "rdp-cookie"]
                        .iter()
                        .any(|a| arg1.starts_with(a));
                if upstream_only {
                    self.d.alert_at(
                        loc,
                        format!("balance '{arg1}' is not supported by haproxy-rs."),
                    );
                    return Flow::Continue;
                }
                p.balance = match arg1 {
                    // no algorithm means round robin
                    "" | "roundrobin" => Balance::RoundRobin,
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
                self.warn_not_cap(p, loc, kw, Cap::BE, "");
                p.http_reuse = match arg1 {
                    "never" => HttpReuse::Never,
                    "safe" => HttpReuse::Safe,
                    "aggressive" => HttpReuse::Aggressive,
                    "always" => HttpReuse::Always,
                    _ => {
                        self.d.alert_at(
                            loc,
                            format!(
                                "'{kw}' only supports 'never', 'safe', 'aggressive', 'always'."
                            ),
                        );
                        return Flow::Continue;
                    }
                };
                if w.len() > 2 {
                    self.d.alert_at(
                        loc,
                        format!(
                            "'{kw} {arg1}' cannot handle unexpected argument '{}'.",
                            w[2]
                        ),
                    );
                }
            }
            "timeout" => self.parse_timeout(p, loc, w),
            "retries" => {
                self.warn_not_cap(p, loc, kw, Cap::BE, "");
                if self.too_many_args(loc, w, 1) {
                    return Flow::Continue;
                }
                if arg1.is_empty() {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects an integer argument (dispatch counts for one)."),
                    );
                    return Flow::Continue;
                }
                p.retries = (atol(arg1) as i32).max(0) as u32;
            }
            "retry-on" => self.parse_retry_on(p, loc, w),
            "max-keep-alive-queue" => {
                // proxy_parse_max_ka_queue(), a registered keyword
                if arg1.is_empty() {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' expects expects an integer value (or -1 to disable)"),
                    );
                    return Flow::Continue;
                }
                let (v, end) = strtol0(arg1);
                if let Some(c) = arg1[end..].chars().next() {
                    self.d.alert_at(
                        loc,
                        format!("'{kw}' : unexpected character '{c}' in integer value '{arg1}'"),
                    );
                    return Flow::Continue;
                }
                if !p.cap.contains(Cap::BE) {
                    self.d.warn_at(
                        loc,
                        format!(
                            "{kw} will be ignored because {} '{}' has no backend capability",
                            p.cap.type_str(),
                            p.name
                        ),
                    );
                }
                p.max_ka_queue = v as i32;
            }
            "max-session-srv-conns" => {
                self.warn_not_cap(p, loc, kw, Cap::FE, "");
                if arg1.is_empty() {
                    // sic: upstream writes "parsine"
                    self.d.alert(format!(
                        "parsine [{loc}] : '{kw}' expects a number. Got no argument"
                    ));
                    return Flow::Continue;
                }
                p.max_session_srv_conns = (atol(arg1) as i32).max(0) as u32;
            }
            "maxconn" => {
                self.warn_not_cap(p, loc, kw, Cap::FE, " Maybe you want 'fullconn' instead ?");
                if arg1.is_empty() {
                    self.d
                        .alert_at(loc, format!("'{kw}' expects an integer argument."));
                    return Flow::Continue;
                }
                p.maxconn = (atol(arg1) as i32).max(0) as u32;
                self.too_many_args(loc, w, 1);
            }
            "option" => self.parse_option(p, loc, w, kwm),
            "log" => {
                if kwm == Kwm::No && arg1.is_empty() {
                    p.logs.clear();
                    p.log_global = false;
                } else if let Some(l) = self.parse_log(loc, w, kwm, false) {
                    p.logs.push(l);
                } else if kwm == Kwm::Std && arg1 == "global" && w.len() == 2 {
                    p.log_global = true;
                }
            }
            "log-format" => {
                if arg1.is_empty() {
                    self.d.alert_at(loc, format!("{kw} expects an argument."));
                    return Flow::Continue;
                }
                if w.len() > 2 {
                    self.d.alert_at(
                        loc,
                        format!("{kw} expects only one argument, don't forget to escape spaces!"),
                    );
                    return Flow::Continue;
                }
                if p.cap.is_defaults() {
                    if let Some(old) = log_format_name(p) {
                        self.d.push(Diag::at(
                            Level::Warning,
                            Head::Tight,
                            loc,
                            format!(
                                "'log-format' overrides previous '{old}' in 'defaults' section."
                            ),
                        ));
                    }
                }
                p.log_format = Some(arg1.to_string());
                p.log_format_loc = Some(loc.clone());
                if !p.cap.is_defaults() && !p.cap.contains(Cap::FE) {
                    self.d.warn_at(
                        loc,
                        format!(
                            "backend '{}' : 'log-format' directive is ignored in backends.",
                            p.name
                        ),
                    );
                }
            }
            "id" => self.parse_proxy_id(p, loc, w),
            k if kw::legacy_listen(k, arg1).is_some() => {
                if let Some((tight, msg)) = kw::legacy_listen(k, arg1) {
                    let head = if tight { Head::Tight } else { Head::Parsing };
                    self.d.alert_head(head, loc, msg);
                }
            }
            k if kw::is_keyword(k, kw::Section::Listen) => self.d.alert_at(
                loc,
                format!("keyword '{k}' is not supported by haproxy-rs."),
            ),
            _ => {
                let msg = match kw::suggest_keyword(kw, kw::Section::Listen) {
                    Some(best) => format!(
                        "unknown keyword '{kw}' in '{}' section; did you mean '{best}' maybe ?",
                        self.cursection
                    ),
                    None => format!("unknown keyword '{kw}' in '{}' section", self.cursection),
                };
                self.d.alert_at(loc, msg);
            }
        }
        Flow::Continue
    }

    /// `bind <addr> [keywords]`: upstream's messages for the address and the keywords; an
    /// address form or keyword upstream has and haproxy-rs does not is refused once the
    /// whole line was read (so that upstream's own errors come first).
    fn parse_bind(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        let addr = w.get(1).map(String::as_str).unwrap_or("");
        if addr.is_empty() {
            self.d.alert_at(
                loc,
                "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
            );
            return;
        }
        let sa = match str2sa_range(addr, PaOpts::LISTENER) {
            Ok(sa) => sa,
            Err(e) => {
                self.d
                    .alert_at(loc, format!("'bind' : {}", indent_msg(&e, 2)));
                return;
            }
        };
        let mut unsupported = None;
        let la = match sa.family {
            SaFamily::Inet if sa.low == sa.high => Some(ListenAddr::Inet(sa.addr)),
            SaFamily::Fd(n) => Some(ListenAddr::Fd(n)),
            _ => {
                unsupported = Some(format!(
                    "'bind' : address '{addr}' is not supported by haproxy-rs."
                ));
                None
            }
        };
        let (mut name, mut proto) = (None, BindProto::Default);
        let mut threads = crate::thread::BindThreads::default();
        // bind_parse_args_list(): each keyword's error after `'bind ADDR' in section 'S' : `
        let head = format!("'bind {addr}' in section '{}'", self.cursection);
        let mut i = 2;
        while i < w.len() {
            let k = w[i].as_str();
            let v = w.get(i + 1).map(String::as_str).unwrap_or("");
            let err = match k {
                "name" if v.is_empty() => Some(format!("'{k}' : missing name")),
                "name" => {
                    name = Some(v.to_string());
                    None
                }
                "proto" if v.is_empty() => Some(format!("'{k}' : missing value")),
                "proto" => match find_mux_proto(v) {
                    Some(m) => {
                        proto = if m.mux == "H2" {
                            BindProto::H2
                        } else {
                            BindProto::H1
                        };
                        None
                    }
                    None => Some(format!("'{k}' :  unknown MUX protocol '{v}'")),
                },
                "thread" => threads.parse_thread(v).err(),
                "process" => match threads.parse_process(v) {
                    Ok(warning) => {
                        self.d.warn_at(loc, format!("{head} : {warning}"));
                        None
                    }
                    Err(e) => Some(e),
                },
                _ => {
                    match self.other_bind_option(loc, k, &head, BindLine::Bind, &mut unsupported) {
                        Some(n) => {
                            i += n;
                            continue;
                        }
                        None => return,
                    }
                }
            };
            if let Some(e) = err {
                self.d
                    .alert_at(loc, format!("{head} : {}", indent_msg(&e, 2)));
                return;
            }
            i += 2;
        }
        if let Some(m) = unsupported {
            self.d.alert_at(loc, m);
            return;
        }
        if let Some(addr_) = la {
            p.binds.push(Bind {
                addr: addr_,
                arg: addr.to_string(),
                name,
                proto,
                threads: (threads.mask != 0).then_some(threads.mask),
                thread_group: threads.group,
                loc: loc.clone(),
            });
        }
    }

    /// `server <name> <addr> [keywords]` (`parse_server()`): its messages carry the line in
    /// the message context (`[F:N] : `), and once the server exists its name
    /// (`'server be/s1' : `); only the first message of the line gets the context.
    fn parse_server(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) -> Flow {
        let kw = w[0].as_str();
        if p.cap.is_defaults() {
            self.d.alert_head(
                Head::Context,
                loc,
                format!("'{kw}' not allowed in 'defaults' section."),
            );
            return Flow::Continue;
        }
        if !p.cap.contains(Cap::BE) {
            self.d.alert_head(
                Head::Context,
                loc,
                format!(
                    "parsing [{loc}] : '{kw}' not allowed because {} '{}' has {} capability.",
                    p.cap.type_str(),
                    p.name,
                    cap_words(Cap::BE)
                ),
            );
            return Flow::Continue;
        }
        let name = w.get(1).map(String::as_str).unwrap_or("");
        let addr = w.get(2).map(String::as_str).unwrap_or("");
        if addr.is_empty() {
            self.d.alert_head(
                Head::Context,
                loc,
                format!("'{kw}' expects <name> and <addr>[:<port>] as arguments."),
            );
            return Flow::Continue;
        }
        if let Some(&c) = name.as_bytes().iter().find(|&&c| !is_name_char(c)) {
            self.d.alert_head(
                Head::Context,
                loc,
                format!(
                    "character '{}' is not permitted in {kw} name '{name}'.",
                    c as char
                ),
            );
            return Flow::Continue;
        }
        let obj = format!("'server {}/{name}' : ", p.name);
        // the first message of the line has the context, later ones have none
        let mut first = true;
        let mut say = |r: &mut Self, level: Level, msg: String| {
            let d = if first {
                Diag::at(level, Head::Context, loc, format!("{obj}{msg}"))
            } else {
                Diag::bare(level, msg)
            };
            first = false;
            r.d.push(d);
        };
        let sa = match str2sa_range(addr, PaOpts::SERVER) {
            Ok(sa) => sa,
            Err(e) => {
                // printed as is: a message ending with a line feed leaves an empty line
                say(self, Level::Alert, e);
                return Flow::Continue;
            }
        };
        if sa
            .fqdn
            .as_deref()
            .is_some_and(|h| !h.starts_with('_') && !valid_dn_labels(h))
        {
            say(
                self,
                Level::Alert,
                format!("Can't create DNS resolution for server '{name}'"),
            );
            return Flow::Continue;
        }
        // what upstream has and haproxy-rs does not is refused once the line is read, so
        // that upstream's own errors come first
        let mut unsupported = None;
        let (ip, unresolved) = match (&sa.family, sa.fqdn) {
            (SaFamily::Inet, None) => (sa.addr.ip(), None),
            (SaFamily::Inet, Some(host)) => match str2ip2(&host, None, true) {
                Some(ip) => (ip, None),
                None => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), Some(host)),
            },
            _ => {
                unsupported = Some(format!("address '{addr}' is not supported by haproxy-rs."));
                (IpAddr::V4(Ipv4Addr::UNSPECIFIED), None)
            }
        };
        if sa.porta < 0 || (sa.porta > 0 && sa.low == 0) {
            unsupported.get_or_insert_with(|| {
                format!("port offsets ('{addr}') are not supported by haproxy-rs.")
            });
        }
        let mut s = Server {
            name: name.to_string(),
            addr: SocketAddr::new(ip, sa.porta as u16),
            port_unset: sa.low == 0,
            weight: 1,
            maxconn: 0,
            check: false,
            disabled: false,
            backup: false,
            proto_h2: false,
            proto: None,
            pool_max_conn: -1,
            pool_low_conn: 0,
            pool_purge_delay: 5000,
            max_reuse: -1,
            unresolved,
            loc: loc.clone(),
        };
        let mut i = 3;
        while i < w.len() {
            let k = w[i].as_str();
            let v = w.get(i + 1).map(String::as_str).unwrap_or("");
            // the time of the keywords taking one, read first: its warning comes first
            let time_value =
                if matches!(k, "pool-purge-delay" | "inter" | "fastinter" | "downinter")
                    && !v.is_empty()
                {
                    let (parsed, warning) = parse_time_warn(v, TimeUnit::Ms);
                    if let Some(w) = warning {
                        say(self, Level::Warning, w);
                    }
                    parsed
                } else {
                    Ok(0)
                };
            // (error, number of arguments the keyword takes)
            let (err, skip): (Option<String>, usize) = match k {
                "check" => {
                    s.check = true;
                    (None, 0)
                }
                "disabled" => {
                    s.disabled = true;
                    (None, 0)
                }
                "enabled" => {
                    s.disabled = false;
                    (None, 0)
                }
                "backup" => {
                    s.backup = true;
                    (None, 0)
                }
                "weight" => {
                    let n = atol(v) as i32;
                    if (0..=256).contains(&n) {
                        s.weight = n as u32;
                        (None, 1)
                    } else {
                        (
                            Some(format!(
                                "weight of server {name} is not within 0 and 256 ({n})."
                            )),
                            1,
                        )
                    }
                }
                "maxconn" => {
                    s.maxconn = (atol(v) as i32).max(0) as u32;
                    (None, 1)
                }
                "proto" if v.is_empty() => (Some(format!("'{k}' : missing value")), 1),
                "proto" => match find_mux_proto(v) {
                    Some(m) => {
                        s.proto_h2 = m.mux == "H2";
                        s.proto = Some(m.token);
                        (None, 1)
                    }
                    None => (Some(format!("'{k}' :  unknown MUX protocol '{v}'")), 1),
                },
                "pool-max-conn" | "pool-low-conn" | "max-reuse" if v.is_empty() => {
                    (Some(format!("'{k}' expects <value> as argument.\n")), 1)
                }
                "pool-max-conn" => {
                    let n = atol(v) as i32;
                    if n < -1 {
                        (Some(format!("'{k}' must be >= -1")), 1)
                    } else {
                        s.pool_max_conn = n;
                        (None, 1)
                    }
                }
                "pool-low-conn" => {
                    s.pool_low_conn = (atol(v) as i32).max(0) as u32;
                    (None, 1)
                }
                "max-reuse" => {
                    s.max_reuse = atol(v) as i32;
                    (None, 1)
                }
                "pool-purge-delay" if v.is_empty() => {
                    (Some(format!("'{k}' expects <value> as argument.\n")), 1)
                }
                "pool-purge-delay" => match time_value {
                    Ok(ms) => {
                        s.pool_purge_delay = ms;
                        (None, 1)
                    }
                    Err(TimeError::Overflow) => (
                        Some(format!("timer overflow in argument '{v}' to '{k}' (maximum value is 2147483647 ms or ~24.8 days)")),
                        1,
                    ),
                    Err(TimeError::BadChar(j)) => (
                        Some(format!(
                            "unexpected character '{}' in argument to <{k}>.\n",
                            v[j..].chars().next().unwrap_or(' ')
                        )),
                        1,
                    ),
                },
                "fall" | "rise" if v.is_empty() => {
                    (Some(format!("'{k}' expects an integer argument.")), 1)
                }
                "fall" | "rise" if atol(v) as i32 <= 0 => {
                    (Some(format!("'{k}' has to be > 0.")), 1)
                }
                "fall" | "rise" => (None, 1),
                "inter" | "fastinter" | "downinter" if v.is_empty() => {
                    (Some(format!("'{k}' expects a delay as argument.")), 1)
                }
                "inter" | "fastinter" | "downinter" => match time_value {
                    Ok(0) => (
                        Some(format!(
                            "invalid value 0 for argument '{k}' of server {name}."
                        )),
                        1,
                    ),
                    Ok(_) => (None, 1),
                    Err(TimeError::Overflow) => (
                        Some(format!("timer overflow in argument <{v}> to <{k}> of server {name}, maximum value is 2147483647 ms (~24.8 days).")),
                        1,
                    ),
                    // sic: upstream names 'agent-inter' whatever the keyword
                    Err(TimeError::BadChar(j)) => (
                        Some(format!(
                            "unexpected character '{}' in 'agent-inter' argument of server {name}.",
                            v[j..].chars().next().unwrap_or(' ')
                        )),
                        1,
                    ),
                },
                _ if kw::server_keyword_args(k).is_some() => {
                    unsupported.get_or_insert_with(|| {
                        format!("'{k}' option is not supported by haproxy-rs.")
                    });
                    match kw::server_keyword_args(k) {
                        // the keyword reads the rest of the line its own way
                        Some(-1) => break,
                        Some(n) => (None, n.max(0) as usize),
                        None => (None, 0),
                    }
                }
                _ => {
                    let msg = match kw::suggest_server_keyword(k) {
                        Some(best) => format!("unknown keyword '{k}'; did you mean '{best}' maybe ?"),
                        None => format!("unknown keyword '{k}'."),
                    };
                    say(self, Level::Alert, msg);
                    return Flow::Continue;
                }
            };
            if let Some(e) = err {
                // display_parser_err(): the message, indented, then a final period
                say(self, Level::Alert, format!("{}.", indent_msg(&e, 2)));
                return Flow::Continue;
            }
            i += 1 + skip;
        }
        if let Some(m) = unsupported {
            say(self, Level::Alert, m);
            return Flow::Continue;
        }
        p.servers.push(s);
        Flow::Continue
    }

    /// `timeout <name> <value>` (`proxy_parse_timeout()`, a registered keyword).
    fn parse_timeout(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        let name = w.get(1).map(String::as_str).unwrap_or("");
        let val = w.get(2).map(String::as_str).unwrap_or("");
        let need = match name {
            "client" | "client-fin" => Cap::FE,
            "tarpit" | "http-keep-alive" | "http-request" => Cap::LISTEN,
            "server" | "server-fin" | "connect" | "queue" | "tunnel" | "check" => Cap::BE,
            _ => {
                self.d.alert_at(loc, format!("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"));
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
        let (parsed, warning) = parse_time_warn(val, TimeUnit::Ms);
        if let Some(w) = warning {
            self.d.warn(w);
        }
        let ms = match parsed {
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
        let t = &mut p.timeouts;
        let d = &self.def_timeouts;
        let (slot, def) = match name {
            "client" => (&mut t.client, d.client),
            "server" => (&mut t.server, d.server),
            "connect" => (&mut t.connect, d.connect),
            "http-request" => (&mut t.http_request, d.http_request),
            "http-keep-alive" => (&mut t.http_keep_alive, d.http_keep_alive),
            "queue" => (&mut t.queue, d.queue),
            "tunnel" => (&mut t.tunnel, d.tunnel),
            "client-fin" => (&mut t.client_fin, d.client_fin),
            "server-fin" => (&mut t.server_fin, d.server_fin),
            "check" => (&mut t.check, d.check),
            _ => (&mut t.tarpit, d.tarpit),
        };
        let warning = if !p.cap.intersects(need) {
            Some(format!(
                "'timeout {name}' will be ignored because {} '{}' has no {} capability",
                p.cap.type_str(),
                p.name,
                if need.contains(Cap::BE) {
                    "backend"
                } else {
                    "frontend"
                }
            ))
        } else if !p.cap.is_defaults() && slot.unwrap_or(0) != def.unwrap_or(0) {
            Some(format!(
                "overwriting 'timeout {name}' which was already specified"
            ))
        } else {
            None
        };
        *slot = Some(ms);
        if w.len() > 3 {
            self.d.alert_at(
                loc,
                format!(
                    "'timeout {name}' : unexpected extra argument '{}' after value '{val}'.",
                    w[3]
                ),
            );
        } else if let Some(m) = warning {
            self.d.warn_at(loc, m);
        }
    }

    /// `retry-on <keywords>` (`proxy_parse_retry_on()`, a registered keyword).
    fn parse_retry_on(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) {
        let kw = w[0].as_str();
        if w.len() < 2 {
            self.d.alert_at(
                loc,
                format!("'{kw}' needs at least one keyword to specify when to retry"),
            );
            return;
        }
        if !p.cap.contains(Cap::BE) {
            self.d.alert_at(
                loc,
                format!("'{kw}' only available in backend or listen section"),
            );
            return;
        }
        let mut v = 0u32;
        for (i, k) in w.iter().enumerate().skip(1) {
            let bit = match k.as_str() {
                "none" => {
                    if i != 1 || w.len() > 2 {
                        self.d
                            .alert_at(loc, format!("'{kw}' 'none' keyworld only usable alone"));
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
                s => match RetryOn::STATUSES.iter().find(|c| c.to_string() == s) {
                    Some(&c) => status_bit(c),
                    None => {
                        self.d
                            .alert_at(loc, format!("'{kw}': unknown keyword '{s}'"));
                        return;
                    }
                },
            };
            v |= bit;
        }
        // as upstream, the list replaces the default: `conn-failure` only when named
        p.retry_on = RetryOn(v);
    }

    /// `option <name> [args]` and its `no`/`default` forms, in upstream's order: the options
    /// kept in tables first, then the others one by one.
    fn parse_option(&mut self, p: &mut Proxy, loc: &Loc, w: &[String], kwm: Kwm) {
        let name = w.get(1).map(String::as_str).unwrap_or("");
        if name.is_empty() {
            self.d.alert_tight(loc, "'option' expects an option name.");
            return;
        }
        let on = kwm == Kwm::Std;
        let o = &mut p.options;
        if let Some(&(_, cap)) = kw::CFG_OPTS.iter().find(|(n, _)| *n == name) {
            if self.too_many_args_idx(loc, w, 0, 1) {
                return;
            }
            let need = Cap::from_bits(cap);
            if self.warn_not_cap(p, loc, name, need, "") {
                return;
            }
            let o = &mut p.options;
            let slot = match name {
                "abortonclose" => &mut o.abortonclose,
                "dontlognull" => &mut o.dontlognull,
                "http-buffer-request" => &mut o.http_buffer_request,
                "prefer-last-server" => &mut o.prefer_last_server,
                _ => {
                    if kwm == Kwm::Std {
                        self.d.alert_at(
                            loc,
                            format!("option '{name}' is not supported by haproxy-rs."),
                        );
                    }
                    return;
                }
            };
            *slot = on;
            return;
        }
        match name {
            "httpclose" | "http-server-close" | "http-keep-alive" => {
                if self.too_many_args_idx(loc, w, 0, 1) {
                    return;
                }
                let mode = match name {
                    "http-keep-alive" => HttpConnMode::KeepAlive,
                    "http-server-close" => HttpConnMode::ServerClose,
                    _ => HttpConnMode::Close,
                };
                match kwm {
                    Kwm::Std => o.http_conn_mode = mode,
                    Kwm::No if o.http_conn_mode == mode => {
                        o.http_conn_mode = HttpConnMode::KeepAlive
                    }
                    Kwm::No => {}
                    // upstream falls through to the negation check below
                    Kwm::Def => self.d.alert_tight(
                        loc,
                        format!("negation/default is not supported for option '{name}'."),
                    ),
                }
                return;
            }
            "forceclose" => {
                self.d.alert_tight(loc, format!("option '{name}' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed."));
                return;
            }
            "http-tunnel" => {
                self.d.alert_tight(loc, format!("option '{name}' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed."));
                return;
            }
            "redispatch" => {
                if self.warn_not_cap(p, loc, name, Cap::BE, "") {
                    return;
                }
                p.options.redispatch = on;
                return;
            }
            "http_proxy" => {
                self.d.alert_tight(loc, format!("option '{name}' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired."));
                return;
            }
            _ => {}
        }
        if kwm != Kwm::Std {
            self.d.alert_tight(
                loc,
                format!("negation/default is not supported for option '{name}'."),
            );
            return;
        }
        let arg2 = w.get(2).map(String::as_str).unwrap_or("");
        match name {
            "httplog" | "tcplog" => {
                if name == "httplog" && !arg2.is_empty() {
                    if arg2 != "clf" {
                        self.d
                            .alert_at(loc, format!("keyword '{name}' only supports option 'clf'."));
                        return;
                    }
                    if self.too_many_args_idx(loc, w, 1, 1) {
                        return;
                    }
                }
                if p.cap.is_defaults() {
                    if let Some(old) = log_format_name(p) {
                        let this = if arg2 == "clf" { "httplog clf" } else { name };
                        self.d.push(Diag::at(
                            Level::Warning,
                            Head::Tight,
                            loc,
                            format!(
                                "'option {this}' overrides previous '{old}' in 'defaults' section."
                            ),
                        ));
                    }
                }
                if name == "tcplog" && self.too_many_args_idx(loc, w, 0, 1) {
                    return;
                }
                let o = &mut p.options;
                o.httplog = name == "httplog";
                o.httplog_clf = arg2 == "clf";
                o.tcplog = name == "tcplog";
                p.log_format = None;
                p.log_format_loc = Some(loc.clone());
                if !p.cap.is_defaults() && !p.cap.contains(Cap::FE) {
                    self.d.warn_at(
                        loc,
                        format!(
                            "backend '{}' : 'option {name}' directive is ignored in backends.",
                            p.name
                        ),
                    );
                }
            }
            "forwardfor" | "originalto" => {
                let orgto = name == "originalto";
                let args = if orgto {
                    p.options.originalto = true;
                    p.orgto = ForwardFor::default();
                    &mut p.orgto
                } else {
                    p.options.forwardfor = true;
                    p.fwdfor = ForwardFor::default();
                    &mut p.fwdfor
                };
                let mut i = 2;
                while i < w.len() {
                    let sub = w[i].as_str();
                    let val = w.get(i + 1).map(String::as_str).unwrap_or("");
                    match sub {
                        "except" => {
                            let Some(net) = Some(val)
                                .filter(|v| !v.is_empty())
                                .and_then(|n| crate::net::Net::parse(n, true))
                            else {
                                self.d.alert_at(
                                    loc,
                                    format!("'option {name} {sub}' expects <address>[/mask] as argument."),
                                );
                                return;
                            };
                            args.except = Some(net);
                            i += 2;
                        }
                        "header" => {
                            if val.is_empty() {
                                self.d.alert_at(
                                    loc,
                                    format!(
                                        "'option {name} {sub}' expects <header_name> as argument."
                                    ),
                                );
                                return;
                            }
                            args.header = Some(val.to_ascii_lowercase());
                            i += 2;
                        }
                        "if-none" if !orgto => {
                            args.if_none = true;
                            i += 1;
                        }
                        _ => {
                            let values = if orgto {
                                "'except' and 'header'"
                            } else {
                                "'except', 'header' and 'if-none'"
                            };
                            self.d.alert_at(
                                loc,
                                format!("'option {name}' only supports optional values: {values}."),
                            );
                            return;
                        }
                    }
                }
            }
            _ if kw::OTHER_OPTIONS.contains(&name) => {
                self.d.alert_at(
                    loc,
                    format!("option '{name}' is not supported by haproxy-rs."),
                );
            }
            _ => {
                let msg = match kw::suggest_option(name) {
                    Some(best) => format!("unknown option '{name}'; did you mean '{best}' maybe ?"),
                    None => format!("unknown option '{name}'."),
                };
                self.d.alert_at(loc, msg);
            }
        }
    }

    /// `http-request|http-response|http-after-response <action> [args] [if|unless cond]`
    /// (`parse_http_req_cond()`...): an unknown action is refused with the list of upstream's
    /// actions, a known one is compiled by the sample layer. Any error stops reading the
    /// configuration, as upstream's rule parsers return `ERR_ABORT`.
    fn parse_http_rule(&mut self, p: &mut Proxy, loc: &Loc, w: &[String]) -> Flow {
        let kw = w[0].as_str();
        let action = w.get(1).map(String::as_str).unwrap_or("");
        let previous = match kw {
            "http-request" => p.http_req_rules.last(),
            "http-response" => p.http_res_rules.last(),
            _ => p.http_after_res_rules.last(),
        };
        // a final action without condition ends the list: what follows never runs
        if previous.is_some_and(|r| {
            r.cond.is_none()
                && matches!(
                    r.action.as_str(),
                    "allow" | "deny" | "return" | "tarpit" | "auth" | "redirect" | "reject"
                )
        }) {
            self.d.push(Diag::at(
                Level::Warning,
                Head::Tight,
                loc,
                format!("previous '{kw}' action is final and has no condition attached, further entries are NOOP."),
            ));
        }
        let actions = kw::actions_of(kw);
        if kw::find_action(actions, action).is_none() {
            let best = kw::suggest_action(actions, action);
            self.d.alert_tight(
                loc,
                format!(
                    "'{kw}' expects {}, but got '{action}'{}.{}",
                    kw::action_list(actions),
                    if action.is_empty() {
                        " (missing argument)"
                    } else {
                        ""
                    },
                    best.map(|b| format!(" Did you mean '{b}' maybe ?"))
                        .unwrap_or_default()
                ),
            );
            return Flow::Abort;
        }
        // the action's own arguments run until `if`/`unless`
        let end = w[2..]
            .iter()
            .position(|x| x == "if" || x == "unless")
            .map_or(w.len(), |i| i + 2);
        let cond = w.get(end).map(|k| CondSpec {
            unless: k == "unless",
            words: w[end + 1..].to_vec(),
        });
        let rule = HttpRuleSpec {
            action: action.to_string(),
            args: w[2..end].to_vec(),
            cond,
            loc: loc.clone(),
        };
        match self.ctx.compiler.http_rule(p, kw, &rule) {
            Ok(warnings) => {
                for w in warnings {
                    self.d.push(w);
                }
            }
            Err(e) => {
                self.d.push(e);
                return Flow::Abort;
            }
        }
        if kw == "http-request" && !p.switching_rules.is_empty() {
            // warnif_misplaced_http_req()
            self.d.warn_at(
                loc,
                "a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
            );
        }
        match kw {
            "http-request" => p.http_req_rules.push(rule),
            "http-response" => p.http_res_rules.push(rule),
            _ => p.http_after_res_rules.push(rule),
        }
        Flow::Continue
    }
}

/// `parse_time_err()` as in 2.6.12: a valid time followed by other characters is accepted
/// with a warning (the second value). The first value is [`parse_time`]'s.
fn parse_time_warn(text: &str, unit: TimeUnit) -> (Result<u32, TimeError>, Option<String>) {
    match parse_time(text, unit) {
        Err(TimeError::BadChar(i))
            if i > 0 && matches!(text.as_bytes()[i - 1], b's' | b'm' | b'h' | b'd') =>
        {
            let c = text[i..].chars().next().unwrap_or(' ');
            (
                parse_time(&text[..i], unit),
                Some(format!(
                    "unexpected character '{c}' after the timer value '{text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."
                )),
            )
        }
        r => (r, None),
    }
}

/// `resolv_str_to_dn_label()` accepts `host`: no empty label (a trailing dot is allowed).
fn valid_dn_labels(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    !h.is_empty() && h.split('.').all(|l| !l.is_empty())
}

/// What `warnifnotcap()` says a proxy lacks.
fn cap_words(need: Cap) -> &'static str {
    if need == Cap::LISTEN {
        "neither frontend nor backend"
    } else if need == Cap::FE {
        "no frontend"
    } else if need == Cap::BE {
        "no backend"
    } else {
        "not enough"
    }
}

/// The log format a proxy has so far, as upstream names it in its override warning.
fn log_format_name(p: &Proxy) -> Option<&'static str> {
    if p.log_format.is_some() {
        Some("log-format")
    } else if p.options.httplog_clf {
        Some("option httplog clf")
    } else if p.options.httplog {
        Some("option httplog")
    } else if p.options.tcplog {
        Some("option tcplog")
    } else {
        None
    }
}

/// `strtol(s, &end, 10)` when it reads the whole of `s` (not empty): leading blanks and a
/// sign allowed, saturating like glibc.
fn strtol_whole(s: &str) -> Option<i64> {
    strtol_whole_radix(s, 10)
}

/// `strtol(s, &end, radix)` when it reads the whole of `s` (not empty).
fn strtol_whole_radix(s: &str, radix: u32) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if d.is_empty() || !d.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // accumulated negatively when `neg`, so that it saturates at LONG_MIN as strtol does
    let mut v: i64 = 0;
    for c in d.chars() {
        let digit = i64::from(c.to_digit(radix).unwrap_or(0));
        v = v.saturating_mul(i64::from(radix));
        v = if neg {
            v.saturating_sub(digit)
        } else {
            v.saturating_add(digit)
        };
    }
    Some(v)
}

/// `strtol(s, &end, 0)`: the value (saturated) and where reading stopped (0 when no digit
/// was read). The base follows the prefix: `0x` hexadecimal, `0` octal, else decimal.
fn strtol0(s: &str) -> (i64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let neg = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut radix = 10;
    if b.get(i) == Some(&b'0') {
        if matches!(b.get(i + 1), Some(b'x' | b'X'))
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            radix = 16;
            i += 2;
        } else {
            radix = 8;
        }
    }
    let start = i;
    let mut v: i64 = 0;
    while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        v = v
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    (if neg { -v } else { v }, i)
}

/// C's `isspace()` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A character `invalid_char()` accepts in names: letters, digits, `.`, `_`, `-`, `:`.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':')
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

/// Which line a `bind` option is read on: `stats socket` (`cli.c`) and `bind`
/// (`cfgparse-listen.c`) word their unknown-keyword alerts differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BindLine {
    StatsSocket,
    Bind,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A [`Compiler`] that accepts everything: the configuration read without the sample
    /// layer (`crates/cfg/tests/corpus.rs` reads it with the real one).
    struct NoCompiler;

    impl Compiler for NoCompiler {
        fn http_rule(&self, _: &Proxy, _: &str, _: &HttpRuleSpec) -> Result<Vec<Diag>, Diag> {
            Ok(Vec::new())
        }
        fn acl(&self, _: &Proxy, _: &AclSpec) -> Vec<Diag> {
            Vec::new()
        }
        fn switching_rule(&self, _: &Proxy, _: &SwitchRule) -> Vec<Diag> {
            Vec::new()
        }
        fn use_backend(&self, _: &Proxy, rule: &SwitchRule) -> Result<bool, Diag> {
            Ok(rule.backend.contains('%'))
        }
        fn log_format(&self, px: &Proxy) -> (Option<Diag>, bool) {
            let has = px
                .log_format
                .as_ref()
                .map_or(px.options.httplog || px.options.tcplog, |f| !f.is_empty());
            (None, px.cap.contains(Cap::FE) && has)
        }
    }

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
    /// The first alerts and warnings, from after their `config : ` head, are `want`.
    fn assert_first_alerts(alerts: &[String], want: &[&str]) {
        let got: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a.split_once("config : ").map(|x| x.1))
            .take(want.len())
            .collect();
        assert_eq!(got, want, "{alerts:#?}");
    }

    fn parse_text(name: &str, text: &str) -> (Config, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("hrs-cfg-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let ctx = ParseCtx {
            default_nbthread: 1,
            features: "",
            version: "2.6.12",
            acl_kws: &NoAcls,
            compiler: &NoCompiler,
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
        assert_first_alerts(&alerts, &want);
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

    /// The `retry_on` of backend `be` declared with `line` (empty: none).
    fn retry_on_of(line: &str) -> RetryOn {
        let text =
            format!("defaults\n    mode http\nbackend be\n    {line}\n    server s 127.0.0.1:80\n");
        let (cfg, alerts) = parse_text("retry-on.cfg", &text);
        assert!(alerts.is_empty(), "{line}: {alerts:?}");
        cfg.find_proxy("be", Cap::BE).unwrap().retry_on
    }

    /// The status codes of `retry-on` take the bits from `STATUS_BASE` on, in
    /// `RetryOn::STATUSES` order.
    #[test]
    fn status_bits() {
        for (i, code) in RetryOn::STATUSES.iter().enumerate() {
            assert_eq!(
                status_bit(*code),
                1 << (RetryOn::STATUS_BASE as usize + i),
                "{code}"
            );
        }
        assert_eq!(
            retry_on_of("retry-on 401 504"),
            RetryOn((1 << 8) | (1 << 17))
        );
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
        // a keyword named twice, or inside all-retryable-errors too, is still set
        assert_eq!(
            retry_on_of("retry-on conn-failure conn-failure 0rtt-rejected"),
            RetryOn(RetryOn::CONN_FAILED | RetryOn::RTT_REJECTED)
        );
        assert_eq!(
            retry_on_of("retry-on 503 all-retryable-errors 401"),
            retry_on_of("retry-on all-retryable-errors 401")
        );
        assert!(retry_on_of("retry-on all-retryable-errors 503").has(st(503)));
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

    /// Every message of `text` parsed as file `name`, rendered as upstream prints them on
    /// stderr (pid removed), lines of multi-line messages apart, empty lines dropped.
    fn messages(name: &str, text: &str) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("hrs-cfg-msg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let ctx = ParseCtx {
            default_nbthread: 1,
            features: "",
            version: "2.6.12",
            acl_kws: &NoAcls,
            compiler: &NoCompiler,
        };
        let (_, d) = parse_files(std::slice::from_ref(&path), &ctx);
        let _ = std::fs::remove_file(&path);
        d.list
            .iter()
            .flat_map(|x| {
                x.render(1)
                    .replace(&format!("{}/", dir.display()), "")
                    .replace(" (1) : ", " : ")
                    .split('\n')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// the reader's own messages write `parsing [F:N]:`, keyword parsers `parsing [F:N] :` (haproxy 2.6.12's messages for the same file).
    #[test]
    fn reader_messages_and_keyword_messages_have_their_heads() {
        let got = messages(
            "t1.cfg",
            "maxconn 10\nglobal\n  no maxconn\n  .frobnicate\n  frob\n",
        );
        let want = [
            "[ALERT]    : config : parsing [t1.cfg:1]: unknown keyword 'maxconn' out of section.",
            "[ALERT]    : config : parsing [t1.cfg:3]: negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
            "[ALERT]    : config : parsing [t1.cfg:3] : 'maxconn' expects an integer argument.",
            "[ALERT]    : config : parsing [t1.cfg:4]: unknown directive '.frobnicate'.",
            "[ALERT]    : config : Error(s) found in configuration file : t1.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// a lexer error cites the position from the start of the line and shows the line without its indentation, with a `^` under the character (haproxy 2.6.12's messages for the same file).
    #[test]
    fn lexer_errors_show_the_line_and_a_caret() {
        let got = messages(
            "t2.cfg",
            "frontend fe\n  bind :8080\n    http-request set-header x \"a\n",
        );
        let want = [
            "[ALERT]    : config : parsing [t2.cfg:3]: unmatched quote at position 31:",
            "  http-request set-header x \"a",
            "                            ^",
            "[ALERT]    : config : Error(s) found in configuration file : t2.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// duplicate names: `Parsing [F:N]:`, a listen is a `proxy` (haproxy 2.6.12's messages for the same file).
    #[test]
    fn duplicate_proxy_names() {
        let got = messages("t3.cfg", "frontend fe\n  bind :8080\n  http-request deny\nfrontend fe\n  bind :8081\nlisten be\n  bind :8082\nbackend be\n");
        let want = [
            "[ALERT]    : config : Parsing [t3.cfg:4]: frontend 'fe' has the same name as frontend 'fe' declared at t3.cfg:1.",
            "[ALERT]    : config : Parsing [t3.cfg:8]: backend 'be' has the same name as proxy 'be' declared at t3.cfg:6.",
            "[ALERT]    : config : Error(s) found in configuration file : t3.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// a server line's first message has `[F:N] : 'server be/sN' : `; a keyword parser's message gets a final period after its own (haproxy 2.6.12's messages for the same file).
    #[test]
    fn server_lines_carry_the_message_context() {
        let got = messages("t4.cfg", "defaults\n  mode http\nbackend be\n  server s1 1.2.3.4:80 weight 300\n  server s2 1.2.3.4:80:\n  server s3\n  server s1 1.2.3.4:80\n");
        let want = [
            "[ALERT]    : config : [t4.cfg:4] : 'server be/s1' : weight of server s1 is not within 0 and 256 (300)..",
            "[ALERT]    : config : [t4.cfg:6] : 'server' expects <name> and <addr>[:<port>] as arguments.",
            "[ALERT]    : config : Error(s) found in configuration file : t4.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// options: suggestions, negation, table options' capability warnings, forwardfor (haproxy 2.6.12's messages for the same file).
    #[test]
    fn options_as_upstream() {
        let got = messages("t5.cfg", "defaults\n  mode http\nbackend be\n  option httplg\n  no option httplog\n  option dontlognull\n  default option redispatch\n  option forwardfor bogus\n");
        let want = [
            "[ALERT]    : config : parsing [t5.cfg:4] : unknown option 'httplg'; did you mean 'httplog' maybe ?",
            "[ALERT]    : config : parsing [t5.cfg:5]: negation/default is not supported for option 'httplog'.",
            "[WARNING]  : config : parsing [t5.cfg:6] : 'dontlognull' ignored because backend 'be' has no frontend capability.",
            "[ALERT]    : config : parsing [t5.cfg:8] : 'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
            "[ALERT]    : config : Error(s) found in configuration file : t5.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// timeouts: a missing capability and a second value warn, an extra argument is fatal (haproxy 2.6.12's messages for the same file).
    #[test]
    fn timeouts_as_upstream() {
        let got = messages("t6.cfg", "defaults\n  mode http\n  timeout client 1s\nbackend be\n  timeout client 2s\n  timeout server 1s\n  timeout server 2s\n  timeout connect 1s 2s\n");
        let want = [
            "[WARNING]  : config : parsing [t6.cfg:5] : 'timeout client' will be ignored because backend 'be' has no frontend capability",
            "[WARNING]  : config : parsing [t6.cfg:7] : overwriting 'timeout server' which was already specified",
            "[ALERT]    : config : parsing [t6.cfg:8] : 'timeout connect' : unexpected extra argument '2s' after value '1s'.",
            "[ALERT]    : config : Error(s) found in configuration file : t6.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// unknown keywords and actions: upstream's suggestion, or the list of actions (haproxy 2.6.12's messages for the same file).
    #[test]
    fn unknown_keywords_get_suggestions() {
        let got = messages("t7.cfg", "global\n  nbthreads 2\n  server x\nfrontend fe\n  bind :8080\n  mod http\n  timout client 1s\n  http-request\n");
        let want = [
            "[ALERT]    : config : parsing [t7.cfg:2] : unknown keyword 'nbthreads' in 'global' section; did you mean 'nbthread' maybe ?",
            "[ALERT]    : config : parsing [t7.cfg:3] : unknown keyword 'server' in 'global' section; did you mean 'user' maybe ?",
            "[ALERT]    : config : parsing [t7.cfg:6] : unknown keyword 'mod' in 'frontend' section; did you mean 'mode' maybe ?",
            "[ALERT]    : config : parsing [t7.cfg:7] : unknown keyword 'timout' in 'frontend' section; did you mean 'timeout' maybe ?",
            "[ALERT]    : config : parsing [t7.cfg:8]: 'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', but got '' (missing argument).",
            "[ALERT]    : config : Error(s) found in configuration file : t7.cfg",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// an `ERR_ABORT` (unknown defaults section) ends loading after the file's summary (haproxy 2.6.12's messages for the same file).
    #[test]
    fn abort_skips_the_final_summary() {
        let got = messages(
            "t8.cfg",
            "defaults\n  mode http\nfrontend fe from nope\n  bind :8080\n",
        );
        let want = [
            "[ALERT]    : config : parsing [t8.cfg:3] : defaults section 'nope' not found for frontend 'fe'.",
            "[ALERT]    : config : Error(s) found in configuration file : t8.cfg",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// `.endif` with an argument leaves the loop, then the end-of-file checks run (haproxy 2.6.12's messages for the same file).
    #[test]
    fn break_runs_the_end_of_file_checks() {
        let got = messages("t9.cfg", ".if 1\n.endif 2\n");
        let want = [
            "[ALERT]    : config : parsing [t9.cfg:2]: Unexpected argument '2' for '.endif'.",
            "[ALERT]    : config : parsing [t9.cfg:2]: non-terminated '.if' block.",
            "[ALERT]    : config : Error(s) found in configuration file : t9.cfg",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// `description` without argument returns -1 upstream: the file is then reported unreadable (haproxy 2.6.12's messages for the same file).
    #[test]
    fn a_parser_returning_minus_one_reads_as_unreadable() {
        let got = messages("t10.cfg", "frontend fe\n  description\n  bind :8080\n");
        let want = [
            "[ALERT]    : config : parsing [t10.cfg:2]: 'description' expects a string argument.",
            "[ALERT]    : config : Could not open configuration file t10.cfg : Success",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// an unresolved server is reported after the checks, with its own closing alert (haproxy 2.6.12's messages for the same file).
    #[test]
    fn unresolved_servers_are_reported_last() {
        let got = messages("t11.cfg", "backend be\n  server s1 nope.invalid:80\n");
        let want = [
            "[WARNING]  : config : missing timeouts for backend 'be'.",
            "   | While not properly invalid, you will certainly encounter various problems",
            "   | with such a configuration. To fix this, please ensure that all following",
            "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
            "[ALERT]    : config : [t11.cfg:2] : 'server be/s1' : could not resolve address 'nope.invalid'.",
            "[ALERT]    : config : Failed to initialize server(s) addr.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// the global keywords haproxy-rs ignores are still checked as upstream does; 2.6.12's warning for text after a time unit; removed proxy keywords (haproxy 2.6.12's messages for the same file).
    #[test]
    fn ignored_global_keywords_legacy_keywords_and_timer_warnings() {
        let got = messages("t12.cfg", "global\n  quiet x\n  spread-checks 60\n  node a!b\n  hard-stop-after 5q\n  tune.maxaccept 1\n  tune.maxaccept 2\nfrontend fe\n  bind :18080\n  timeout client 3sx\n  redispatch\n  reqadd x\n");
        let want = [
            "[ALERT]    : config : parsing [t12.cfg:2] : 'quiet' cannot handle unexpected argument 'x'.",
            "[ALERT]    : config : parsing [t12.cfg:3]: 'spread-checks' needs a positive value in range 0..50.",
            "[ALERT]    : config : parsing [t12.cfg:4]: 'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).",
            "[ALERT]    : config : parsing [t12.cfg:5] : unexpected character 'q' in argument to <hard-stop-after>.",
            "[ALERT]    : config : parsing [t12.cfg:7] : 'tune.maxaccept' already specified. Continuing.",
            "[WARNING]  : config : unexpected character 'x' after the timer value '3sx', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.",
            "[ALERT]    : config : parsing [t12.cfg:11] : keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
            "[ALERT]    : config : parsing [t12.cfg:12] : The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
            "[ALERT]    : config : Error(s) found in configuration file : t12.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// `quiet` silences every later message, closing alerts included (haproxy 2.6.12's messages for the same file).
    #[test]
    fn quiet_silences_what_follows() {
        let got = messages(
            "t13.cfg",
            "global\n  frob\n  quiet\nfrontend fe\n  bind :18080\n  frob2\n",
        );
        let want = [
            "[ALERT]    : config : parsing [t13.cfg:2] : unknown keyword 'frob' in 'global' section",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// TCP-mode checks; a server keyword upstream has and haproxy-rs does not is refused only once the line had no upstream error (haproxy 2.6.12's messages for the same file).
    #[test]
    fn upstream_errors_come_before_unsupported_features() {
        let got = messages("t14.cfg", "defaults\n  mode tcp\n  option httplog\nfrontend fe\n  bind :18080 proto h2\n  option forwardfor\n  http-request deny\nbackend be\n  option prefer-last-server\n  server s1 1.2.3.4:80 ssl weight 300\n");
        let want = [
            "[ALERT]    : config : [t14.cfg:10] : 'server be/s1' : weight of server s1 is not within 0 and 256 (300)..",
            "[ALERT]    : config : Error(s) found in configuration file : t14.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// What upstream knows and haproxy-rs does not is refused with a message of ours, once
    /// the line had no upstream error: keywords of global and proxy sections, options of
    /// `stats socket`, `bind` and `server` lines (skipped with their arguments). `source`
    /// reads the rest of the server line (upstream would go on after its own arguments).
    #[test]
    fn unsupported_keywords_and_options_are_ours_to_refuse() {
        let got = messages("t16.cfg", "global\n  lua-load x.lua\n  stats socket /tmp/x.sock level admin accept-proxy\ndefaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind 127.0.0.1:18080 defer-accept tfo\n  stick-table type ip size 1m\n  default_backend be\nbackend be\n  server s1 127.0.0.1:80 source 1.2.3.4 usesrc client frob\n  server s2 127.0.0.1:80 slowstart 10s weight 2\n");
        let want = [
            "[ALERT]    : config : parsing [t16.cfg:2] : keyword 'lua-load' is not supported by haproxy-rs.",
            "[ALERT]    : config : parsing [t16.cfg:3] : 'stats socket' : 'accept-proxy' option is not supported by haproxy-rs.",
            "[ALERT]    : config : parsing [t16.cfg:10] : 'bind 127.0.0.1:18080' in section 'frontend' : 'defer-accept' option is not supported by haproxy-rs.",
            "[ALERT]    : config : parsing [t16.cfg:11] : keyword 'stick-table' is not supported by haproxy-rs.",
            "[ALERT]    : config : [t16.cfg:14] : 'server be/s1' : 'source' option is not supported by haproxy-rs.",
            "[ALERT]    : config : [t16.cfg:15] : 'server be/s2' : 'slowstart' option is not supported by haproxy-rs.",
            "[ALERT]    : config : Error(s) found in configuration file : t16.cfg",
            "[ALERT]    : config : Fatal errors found in configuration.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// a rule after a final action without condition, and an `http-request` rule after `use_backend`, warn as upstream (haproxy 2.6.12's messages for the same file).
    #[test]
    fn rules_after_final_or_switching_rules_warn() {
        let got = messages("t15.cfg", "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend fe\n  bind :18080\n  acl a path /\n  http-request deny if a\n  http-request deny\n  http-request allow\n  use_backend be if a\n  http-request set-header x y\nbackend be\n");
        let want = [
            "[WARNING]  : config : parsing [t15.cfg:11]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
            "[WARNING]  : config : parsing [t15.cfg:13]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
            "[WARNING]  : config : parsing [t15.cfg:13] : a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
        ];
        assert_eq!(got, want, "{got:#?}");
    }

    /// What a `server` line leaves in the model: each keyword's value, upstream's defaults
    /// (weight 1, no maxconn, `pool-max-conn -1`, `pool-purge-delay 5s`, `max-reuse -1`), a
    /// later `enabled` undoing `disabled`, negative counts read as 0; a line in error adds
    /// no server.
    #[test]
    fn server_settings_as_read() {
        let (cfg, alerts) = parse_text(
            "srv.cfg",
            "defaults\n  mode http\nbackend be\n  server s1 127.0.0.1:80 check disabled backup weight 7 maxconn 9 proto h2 pool-max-conn 4 pool-low-conn 2 pool-purge-delay 2s max-reuse 8\n  server s2 127.0.0.2 disabled enabled weight 0 maxconn -3 pool-max-conn -1 pool-low-conn -5 proto h1 inter 2s fall 2 rise 3\n  server s3 127.0.0.3:81 weight 256\n  server s4 127.0.0.4:80 pool-max-conn -2\n  server s5 127.0.0.5:80 fall 0\n",
        );
        let got: Vec<_> = cfg.proxies[0]
            .servers
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.addr.to_string(),
                    s.port_unset,
                    (s.check, s.disabled, s.backup),
                    (s.weight, s.maxconn),
                    (s.proto, s.proto_h2),
                    (s.pool_max_conn, s.pool_low_conn, s.pool_purge_delay),
                    s.max_reuse,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "s1",
                    "127.0.0.1:80".to_string(),
                    false,
                    (true, true, true),
                    (7, 9),
                    (Some("h2"), true),
                    (4, 2, 2000),
                    8
                ),
                (
                    "s2",
                    "127.0.0.2:0".to_string(),
                    true,
                    (false, false, false),
                    (0, 0),
                    (Some("h1"), false),
                    (-1, 0, 5000),
                    -1
                ),
                (
                    "s3",
                    "127.0.0.3:81".to_string(),
                    false,
                    (false, false, false),
                    (256, 0),
                    (None, false),
                    (-1, 0, 5000),
                    -1
                ),
            ]
        );
        let want = [
            "[srv.cfg:7] : 'server be/s4' : 'pool-max-conn' must be >= -1.",
            "[srv.cfg:8] : 'server be/s5' : 'fall' has to be > 0..",
        ];
        assert_first_alerts(&alerts, &want);
    }

    /// Port offsets (`+N`, `-N`) are upstream's and not ours: refused once the line is read;
    /// `+0` maps the client's port as no port does, and a plain port is not an offset.
    #[test]
    fn server_port_offsets_are_refused() {
        let (cfg, alerts) = parse_text(
            "off.cfg",
            "defaults\n  mode http\nbackend be\n  server s1 127.0.0.1:+1\n  server s2 127.0.0.1:-1\n  server s3 127.0.0.1:+0\n  server s4 127.0.0.1:1\n",
        );
        let want = [
            "[off.cfg:4] : 'server be/s1' : port offsets ('127.0.0.1:+1') are not supported by haproxy-rs.",
            "[off.cfg:5] : 'server be/s2' : port offsets ('127.0.0.1:-1') are not supported by haproxy-rs.",
            "Error(s) found in configuration file : off.cfg",
        ];
        let got: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a.split_once("config : ").map(|x| x.1))
            .take(3)
            .collect();
        assert_eq!(got, want, "{alerts:#?}");
        let names: Vec<&str> = cfg.proxies[0]
            .servers
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["s3", "s4"]);
    }

    /// What the global keywords haproxy-rs uses leave in the model: each value as written,
    /// `tune.bufsize` rounded up to 16, the ends of every accepted range, and the stats
    /// sockets (`operator` level unless told, the octal `mode`).
    #[test]
    fn global_settings_as_read() {
        let (cfg, alerts) = parse_text(
            "glob.cfg",
            "global\n  maxconn 1000\n  nbthread 64\n  daemon\n  master-worker no-exit-on-failure\n  pidfile /tmp/x.pid\n  tune.bufsize 100\n  tune.maxrewrite 0\n  tune.idle-pool.shared off\n  tune.pool-low-fd-ratio 0\n  tune.pool-high-fd-ratio 100\n  tune.http.maxhdr 32767\n  tune.h2.header-table-size 65536\n  tune.h2.initial-window-size 0\n  tune.h2.max-concurrent-streams 7\n  tune.h2.max-frame-size 16777215\n  stats socket 127.0.0.1:9999 level admin\n  stats socket /tmp/s.sock mode 600 level user\n  stats socket ipv6@[::1]:9998 level operator\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let g = &cfg.global;
        assert_eq!((g.maxconn, g.nbthread), (Some(1000), Some(64)));
        assert!(g.daemon && g.master_worker);
        assert_eq!(g.pidfile.as_deref(), Some("/tmp/x.pid"));
        assert_eq!((g.tune_bufsize, g.tune_maxrewrite), (112, Some(0)));
        assert!(!g.tune_idle_pool_shared);
        assert_eq!(
            (g.tune_pool_low_fd_ratio, g.tune_pool_high_fd_ratio),
            (0, 100)
        );
        assert_eq!(g.tune_maxhdr, 32767);
        assert_eq!(
            g.tune_h2,
            TuneH2 {
                header_table_size: 65536,
                initial_window_size: 0,
                max_concurrent_streams: 7,
                max_frame_size: 16777215,
            }
        );
        let socks: Vec<_> = g
            .stats_sockets
            .iter()
            .map(|s| (s.addr.clone(), s.level, s.mode))
            .collect();
        assert_eq!(
            socks,
            [
                (
                    ListenAddr::Inet("127.0.0.1:9999".parse().unwrap()),
                    CliLevel::Admin,
                    None
                ),
                (
                    ListenAddr::Unix("/tmp/s.sock".into()),
                    CliLevel::User,
                    Some(0o600)
                ),
                (
                    ListenAddr::Inet("[::1]:9998".parse().unwrap()),
                    CliLevel::Operator,
                    None
                ),
            ]
        );
        assert_eq!(g.cli_fe_at, Some(0));

        let (cfg, alerts) = parse_text(
            "glob2.cfg",
            "global\n  master-worker\n  maxconn -5\n  nbthread 1\n  tune.bufsize 16\n  tune.idle-pool.shared off\n  tune.idle-pool.shared on\n  tune.http.maxhdr 1\n  tune.h2.header-table-size 4096\n  tune.h2.max-frame-size 16384\n  tune.pool-low-fd-ratio 100\n  tune.pool-high-fd-ratio 0\n  stats socket /tmp/t.sock\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let g = &cfg.global;
        assert_eq!(
            (g.maxconn, g.nbthread, g.tune_bufsize),
            (Some(0), Some(1), 16)
        );
        assert!(g.tune_idle_pool_shared && !g.daemon && g.master_worker);
        assert_eq!(g.tune_maxhdr, 1);
        assert_eq!(
            (g.tune_pool_low_fd_ratio, g.tune_pool_high_fd_ratio),
            (100, 0)
        );
        assert_eq!(
            (g.tune_h2.header_table_size, g.tune_h2.max_frame_size),
            (4096, 16384)
        );
        assert_eq!(
            g.tune_h2.initial_window_size,
            TuneH2::default().initial_window_size
        );
        assert_eq!(g.stats_sockets[0].level, CliLevel::Operator);
        assert_eq!(g.stats_sockets[0].mode, None);
    }

    /// What the proxy keywords leave in the model: mode, capacities, the switching rules
    /// with their conditions, dispatch, every balance algorithm and `http-reuse` mode, counts
    /// read by atol (a negative count is 0) and `max-keep-alive-queue` by strtol base 0,
    /// `disabled` undone by `enabled`, `log global`, a defaults section's values inherited.
    #[test]
    fn proxy_settings_as_read() {
        let (cfg, alerts) = parse_text(
            "px.cfg",
            "defaults\n  mode http\n  retries 5\n  maxconn 7\nfrontend fe\n  mode tcp\n  mode http\n  bind 127.0.0.1:18080\n  maxconn 50\n  max-session-srv-conns 9\n  default_backend be\n  log global\n  log 127.0.0.1 local0\n  acl a path /\n  use_backend be2 unless a\n  use_backend be3 if a\n  use_backend be4\n  disabled\n  enabled\nbackend be\n  balance static-rr\n  http-reuse always\n  retries -2\n  max-keep-alive-queue 0x10\n  dispatch 127.0.0.1:81\n  disabled\nbackend be2\n  balance leastconn\n  http-reuse never\n  max-keep-alive-queue -1\n  max-session-srv-conns -4\nbackend be3\n  balance first\n  http-reuse aggressive\n  max-keep-alive-queue 010\nbackend be4\n  balance source\n  http-reuse safe\n  balance\n  retries 0\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let px = |n: &str| cfg.proxies.iter().find(|p| p.name == n).unwrap();
        let fe = px("fe");
        assert_eq!(
            (fe.mode, fe.maxconn, fe.max_session_srv_conns),
            (Mode::Http, 50, 9)
        );
        assert_eq!((fe.retries, fe.disabled, fe.log_global), (5, false, true));
        assert_eq!(fe.logs.len(), 1);
        assert_eq!(
            fe.default_backend.as_ref().map(|b| b.0.as_str()),
            Some("be")
        );
        let rules: Vec<_> = fe
            .switching_rules
            .iter()
            .map(|r| {
                (
                    r.backend.as_str(),
                    r.cond.as_ref().map(|c| (c.unless, c.words.join(" "))),
                )
            })
            .collect();
        assert_eq!(
            rules,
            [
                ("be2", Some((true, "a".to_string()))),
                ("be3", Some((false, "a".to_string()))),
                ("be4", None),
            ]
        );
        assert_eq!(fe.acls.len(), 1);
        assert_eq!(
            (fe.acls[0].name.as_str(), fe.acls[0].words.join(" ")),
            ("a", "path /".to_string())
        );
        let be = px("be");
        assert_eq!((be.mode, be.maxconn), (Mode::Http, 7));
        assert_eq!(
            (
                be.balance.clone(),
                be.http_reuse,
                be.retries,
                be.max_ka_queue,
                be.disabled
            ),
            (Balance::StaticRr, HttpReuse::Always, 0, 16, true)
        );
        assert_eq!(be.dispatch, Some("127.0.0.1:81".parse().unwrap()));
        let be2 = px("be2");
        assert_eq!(
            (
                be2.balance.clone(),
                be2.http_reuse,
                be2.max_ka_queue,
                be2.max_session_srv_conns
            ),
            (Balance::LeastConn, HttpReuse::Never, -1, 0)
        );
        assert_eq!(
            (be2.dispatch, be2.disabled, be2.log_global),
            (None, false, false)
        );
        let be3 = px("be3");
        assert_eq!(
            (be3.balance.clone(), be3.http_reuse, be3.max_ka_queue),
            (Balance::First, HttpReuse::Aggressive, 8)
        );
        let be4 = px("be4");
        assert_eq!(
            (be4.balance.clone(), be4.http_reuse, be4.retries),
            (Balance::RoundRobin, HttpReuse::Safe, 0)
        );
    }

    /// Each `timeout` name fills its own slot, in milliseconds (units applied), and a value
    /// given in `defaults` is inherited.
    #[test]
    fn timeouts_fill_their_slots() {
        let (cfg, alerts) = parse_text(
            "tmo.cfg",
            "defaults\n  mode http\n  timeout check 11\nlisten li\n  bind 127.0.0.1:18080\n  timeout client 1\n  timeout server 2s\n  timeout connect 3\n  timeout http-request 4\n  timeout http-keep-alive 5\n  timeout queue 6\n  timeout tunnel 7m\n  timeout client-fin 8\n  timeout server-fin 9\n  timeout tarpit 10\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        assert_eq!(
            cfg.proxies[0].timeouts,
            Timeouts {
                client: Some(1),
                server: Some(2000),
                connect: Some(3),
                http_request: Some(4),
                http_keep_alive: Some(5),
                queue: Some(6),
                tunnel: Some(420_000),
                client_fin: Some(8),
                server_fin: Some(9),
                check: Some(11),
                tarpit: Some(10),
            }
        );
    }

    /// What `option` lines leave in the model: the table options, `no option` clearing what
    /// `defaults` set, the connection mode (`no option X` only undoes X), `redispatch`, the
    /// log formats and `forwardfor`'s arguments (header name lower-cased).
    #[test]
    fn options_as_read() {
        let (cfg, alerts) = parse_text(
            "opt.cfg",
            "defaults\n  mode http\n  option abortonclose\n  option dontlognull\n  option redispatch\n  option http-server-close\nfrontend fe\n  bind 127.0.0.1:18080\n  option http-buffer-request\n  no option dontlognull\n  option httplog\n  option forwardfor except 10.0.0.0/8 header X-Client if-none\n  no option httpclose\nbackend be\n  option prefer-last-server\n  no option abortonclose\n  no option redispatch\n  no option http-server-close\nbackend be2\n  option httpclose\n  option tcplog\n  option forwardfor\nbackend be3\n  option httplog clf\n  option forwardfor header X-F except 127.0.0.0/8 if-none\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let o = |n: &str| cfg.proxies.iter().find(|p| p.name == n).unwrap();
        let fe = o("fe");
        let f = fe.options;
        assert_eq!(
            (
                f.abortonclose,
                f.dontlognull,
                f.redispatch,
                f.http_buffer_request
            ),
            (true, false, true, true)
        );
        assert_eq!(f.http_conn_mode, HttpConnMode::ServerClose);
        assert_eq!(
            (f.httplog, f.tcplog, f.forwardfor, f.prefer_last_server),
            (true, false, true, false)
        );
        assert_eq!(
            fe.fwdfor,
            ForwardFor {
                except: crate::net::Net::parse("10.0.0.0/8", false),
                header: Some("x-client".into()),
                if_none: true,
            }
        );
        let b = o("be").options;
        assert_eq!(
            (
                b.abortonclose,
                b.dontlognull,
                b.redispatch,
                b.prefer_last_server
            ),
            (false, true, false, true)
        );
        assert_eq!(
            (b.http_conn_mode, b.forwardfor),
            (HttpConnMode::KeepAlive, false)
        );
        let be2 = o("be2");
        let b2 = be2.options;
        assert_eq!(b2.http_conn_mode, HttpConnMode::Close);
        assert_eq!((b2.httplog, b2.tcplog, b2.forwardfor), (false, true, true));
        assert_eq!(be2.fwdfor, ForwardFor::default());
        assert!(!b2.httplog_clf && !f.httplog_clf);
        let b3 = o("be3").options;
        assert_eq!((b3.httplog, b3.httplog_clf, b3.tcplog), (true, true, false));
        // the arguments in another order
        assert_eq!(
            o("be3").fwdfor,
            ForwardFor {
                except: crate::net::Net::parse("127.0.0.0/8", false),
                header: Some("x-f".into()),
                if_none: true,
            }
        );
    }

    /// What `log` lines leave in the model: target (UDP port 514 when none, stdout, stderr),
    /// length, header format, facility, level and minimum level, with upstream's defaults
    /// (1024 bytes, `local`, levels 7 and 0); `no log` in a proxy drops the inherited ones.
    #[test]
    fn log_specs_as_read() {
        let (cfg, alerts) = parse_text(
            "logs.cfg",
            "global\n  log stdout format raw local1 info notice\n  log 127.0.0.1 len 80 format rfc5424 daemon\n  log 127.0.0.1:600 len 65535 local7 debug\n  log stderr format iso kern\n  log stderr format timed kern emerg\n  log stderr format short kern\n  log stderr format priority kern\n  log stderr format rfc3164 kern\n  log stderr format local kern\ndefaults\n  mode http\n  log stdout local0\nfrontend fe\n  bind 127.0.0.1:18080\n  no log\nfrontend fe2\n  bind 127.0.0.1:18081\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let spec = |target, format, maxlen, facility, level, minlevel| LogSpec {
            target,
            format,
            maxlen,
            facility,
            level,
            minlevel,
        };
        let udp = |a: &str| LogTarget::Udp(a.parse().unwrap());
        assert_eq!(
            cfg.global.logs,
            [
                spec(LogTarget::Stdout, LogFormat::Raw, 1024, 17, 6, 5),
                spec(udp("127.0.0.1:514"), LogFormat::Rfc5424, 80, 3, 7, 0),
                spec(udp("127.0.0.1:600"), LogFormat::Local, 65535, 23, 7, 0),
                spec(LogTarget::Stderr, LogFormat::Iso, 1024, 0, 7, 0),
                spec(LogTarget::Stderr, LogFormat::Timed, 1024, 0, 0, 0),
                spec(LogTarget::Stderr, LogFormat::Short, 1024, 0, 7, 0),
                spec(LogTarget::Stderr, LogFormat::Priority, 1024, 0, 7, 0),
                spec(LogTarget::Stderr, LogFormat::Rfc3164, 1024, 0, 7, 0),
                spec(LogTarget::Stderr, LogFormat::Local, 1024, 0, 7, 0),
            ]
        );
        assert!(cfg.proxies[0].logs.is_empty());
        assert_eq!(
            cfg.proxies[1].logs,
            [spec(LogTarget::Stdout, LogFormat::Local, 1024, 16, 7, 0)]
        );
    }

    /// What `bind` lines leave in the model (address, the text as written, `name`, the mux
    /// `proto` selects), and the port ranges upstream has and haproxy-rs refuses.
    #[test]
    fn thread_keywords_as_read() {
        let (cfg, alerts) = parse_text(
            "thr-read.cfg",
            "global\n  nbthread 4\n  thread-groups 1\n  cpu-map 1 0-1\n  cpu-map auto:1/1-2 3 2\n  cpu-map 1/odd 5 1023\n  cpu-map even/1 1-\ndefaults\n  mode http\n  timeout client 1s\nfrontend fe\n  bind :18080\n  bind :18081 thread 1-2\n  bind :18082 thread 1/3 process 1/4\n  bind :18083 process all\n  bind :18084 process 1/all\n  bind :18085 thread 1 thread 3 name x\n",
        );
        assert_eq!(alerts, Vec::<String>::new());
        let g = &cfg.global;
        assert_eq!((g.nbthread, g.thread_groups), (Some(4), Some(1)));
        let maps: Vec<_> = g
            .cpu_map
            .iter()
            .map(|m| {
                (
                    m.auto,
                    m.procs,
                    m.threads,
                    m.cpus.iter().collect::<Vec<_>>(),
                    m.loc.line,
                )
            })
            .collect();
        assert_eq!(
            maps,
            [
                (false, 1, None, vec![0, 1], 4),
                (true, 1, Some(0b11), vec![2, 3], 5),
                (false, 1, Some(0x5555_5555_5555_5555), vec![5, 1023], 6),
                (
                    false,
                    0xaaaa_aaaa_aaaa_aaaa,
                    Some(1),
                    (1..1024).collect(),
                    7
                ),
            ]
        );
        let binds: Vec<_> = cfg.proxies[0]
            .binds
            .iter()
            .map(|b| (b.threads, b.thread_group))
            .collect();
        assert_eq!(
            binds,
            [
                (None, 0),
                (Some(0b11), 0),
                (Some(0b1100), 1),
                (None, 0),
                (Some(u64::MAX), 0),
                (Some(0b101), 0),
            ]
        );
    }

    /// The messages of haproxy 2.6.12 for the same file, word for word.
    #[test]
    fn thread_keywords_checked_as_upstream() {
        let (_, alerts) = parse_text(
            "thr.cfg",
            "global\n  thread-groups 2\n  thread-groups x\n  thread-group 1\n  cpu-map 1/1\n  cpu-map 1/0 0\n  cpu-map 1/1 x\n  cpu-map auto:1/1 0-1\n  cpu-map 1/1 1024\nfrontend fe\n  bind :18080 thread 0\n  bind :18081 thread 2/1\n  bind :18082 process 2\n  bind :18083 thread 1/1 thread 2\n",
        );
        let want = [
            "parsing [thr.cfg:2] : 'thread-groups' value must be between 1 and 1 (was 2)",
            "parsing [thr.cfg:3] : 'thread-groups' passed a missing or unparsable integer value in 'x'",
            "parsing [thr.cfg:4] : keyword 'thread-group' is not supported by haproxy-rs.",
            "parsing [thr.cfg:5] : cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63.",
            "parsing [thr.cfg:6] : cpu-map : '0' is not a valid number/range. It supports numbers from 1 to 64.\n",
            "parsing [thr.cfg:7] : cpu-map : 'x' is not a CPU range.",
            "parsing [thr.cfg:8] : cpu-map : PROC/THREAD range and CPU sets must have the same size to be automatically bound",
            "parsing [thr.cfg:9] : cpu-map : supports CPU numbers from 0 to 1023.",
            "parsing [thr.cfg:11] : 'bind :18080' in section 'frontend' : '0' : '0' is not a valid number/range. It supports numbers from 1 to 64.",
            "parsing [thr.cfg:12] : 'bind :18081' in section 'frontend' : '2/1' thread-group number must be between 1 and 1 (was 2)",
            "parsing [thr.cfg:13] : 'bind :18082' in section 'frontend' : 'process' : '2' is not a valid number/range. It supports numbers from 1 to 1.",
            "parsing [thr.cfg:14] : 'bind :18083' in section 'frontend' : '2' multiple thread-groups are not supported",
        ];
        assert_first_alerts(&alerts, &want);
        assert_eq!(alerts.len(), want.len() + 2, "then the two closing alerts");

        // with nbthread set, the sets are checked after parsing, proxy by proxy
        let (cfg, alerts) = parse_text(
            "thr.cfg",
            "global\n  nbthread 2\nfrontend fe\n  bind :18080 thread 5\n  bind :18081 thread 1/3\n  bind :18082 process 1/2\n  bind :18083 thread 2-3\n",
        );
        assert_first_alerts(
            &alerts,
            &[
                "Proxy 'fe': 'thread' directive contains threads that belong to no group in 'bind :18080' at [thr.cfg:4].",
                "Proxy 'fe': 'thread' directive only references threads not belonging to the group in 'bind :18081' at [thr.cfg:5].",
                "Fatal errors found in configuration.",
            ],
        );
        assert_eq!(alerts.len(), 3);
        assert_eq!(cfg.proxies[0].binds[2].threads, Some(2));
        // without nbthread, against the CPUs the process may run on (`default_nbthread`,
        // 1 in these tests)
        let (cfg, alerts) = parse_text("thr.cfg", "frontend fe\n  bind :18080 thread 5\n");
        assert_first_alerts(
            &alerts,
            &[
                "Proxy 'fe': 'thread' directive contains threads that belong to no group in 'bind :18080' at [thr.cfg:2].",
                "Fatal errors found in configuration.",
            ],
        );
        assert_eq!(crate::check::check_bind_threads(&cfg, 4).len(), 1);
        assert!(crate::check::check_bind_threads(&cfg, 5).is_empty());
    }

    #[test]
    fn binds_as_read() {
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = l.as_raw_fd();
        let (cfg, alerts) = parse_text(
            "bind.cfg",
            &format!("defaults\n  mode http\nfrontend fe\n  bind 127.0.0.1:18080 name a proto h2\n  bind [::1]:18081 proto h1\n  bind :18082 name b\n  bind 127.0.0.1:18083-18084\n  bind fd@{fd} maxconn 5 name c\n  bind fd@{fd}\n  bind 127.0.0.1:18085 name x proto h1 name y\n"),
        );
        let got: Vec<_> = cfg.proxies[0]
            .binds
            .iter()
            .map(|b| {
                (
                    b.addr.clone(),
                    b.arg.as_str(),
                    b.name.as_deref(),
                    b.proto,
                    b.loc.line,
                )
            })
            .collect();
        let inet = |a: &str| ListenAddr::Inet(a.parse().unwrap());
        let fd_arg = format!("fd@{fd}");
        assert_eq!(
            got,
            [
                (
                    inet("127.0.0.1:18080"),
                    "127.0.0.1:18080",
                    Some("a"),
                    BindProto::H2,
                    4
                ),
                (inet("[::1]:18081"), "[::1]:18081", None, BindProto::H1, 5),
                (
                    inet("0.0.0.0:18082"),
                    ":18082",
                    Some("b"),
                    BindProto::Default,
                    6
                ),
                (
                    ListenAddr::Fd(fd),
                    fd_arg.as_str(),
                    None,
                    BindProto::Default,
                    9
                ),
                // each option is read in turn, the last name wins
                (
                    inet("127.0.0.1:18085"),
                    "127.0.0.1:18085",
                    Some("y"),
                    BindProto::H1,
                    10
                ),
            ]
        );
        assert_eq!(
            alerts.first().and_then(|a| a.split_once("config : ")).map(|x| x.1),
            Some("parsing [bind.cfg:7] : 'bind' : address '127.0.0.1:18083-18084' is not supported by haproxy-rs."),
            "{alerts:#?}"
        );
        // an option of ours to refuse is skipped with its argument, the line read to its end
        assert_eq!(
            alerts.get(1).and_then(|a| a.split_once("config : ")).map(|x| x.1),
            Some(format!("parsing [bind.cfg:8] : 'bind fd@{fd}' in section 'frontend' : 'maxconn' option is not supported by haproxy-rs.").as_str()),
            "{alerts:#?}"
        );
    }

    /// What a proxy takes from defaults sections: the last one by default, a named one with
    /// `from` (for a defaults section too, named or not); rules and listeners never, log
    /// formats and `default_backend` only in frontends; a defaults section keeps the
    /// `http-request` rules of the one it comes from.
    #[test]
    fn defaults_are_inherited() {
        let (cfg, alerts) = parse_text(
            "inh.cfg",
            "defaults d1\n  mode tcp\n  timeout client 1s\n  retries 7\n  option httplog\n  default_backend be\n  http-request deny\ndefaults d2\n  mode http\n  retries 2\nfrontend fe from d1\n  bind 127.0.0.1:18080\nbackend be\nbackend be1 from d1\ndefaults from d1\nbackend be2\ndefaults d3 from d1\n  retries 4\nlisten li\n  bind 127.0.0.1:18081\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        let px = |n: &str| cfg.proxies.iter().find(|p| p.name == n).unwrap();
        let fe = px("fe");
        assert_eq!(
            (fe.mode, fe.retries, fe.timeouts.client),
            (Mode::Tcp, 7, Some(1000))
        );
        assert!(fe.options.httplog);
        assert_eq!(
            fe.default_backend.as_ref().map(|b| b.0.as_str()),
            Some("be")
        );
        assert!(fe.http_req_rules.is_empty());
        let be = px("be");
        assert_eq!(
            (be.mode, be.retries, be.timeouts.client),
            (Mode::Http, 2, None)
        );
        let be1 = px("be1");
        assert_eq!((be1.mode, be1.retries), (Mode::Tcp, 7));
        assert!(!be1.options.httplog && be1.default_backend.is_none());
        assert!(be1.http_req_rules.is_empty());
        assert_eq!((px("be2").mode, px("be2").retries), (Mode::Tcp, 7));
        let li = px("li");
        assert_eq!(
            (li.mode, li.retries, li.name.as_str()),
            (Mode::Tcp, 4, "li")
        );
        assert_eq!(li.cap, Cap::LISTEN);
        assert_eq!(li.binds.len(), 1);
        assert_eq!(li.http_req_rules.len(), 0);
    }

    /// `strtol(s, &end, 0)`: blanks and a sign first, the base from the prefix (`0x` with a
    /// hexadecimal digit after it, else `0` octal), reading up to the first other character.
    #[test]
    fn strtol0_as_glibc() {
        for (text, want) in [
            ("16", (16, 2)),
            (" \t+16", (16, 5)),
            ("-16", (-16, 3)),
            ("0x1f", (31, 4)),
            ("0X1F", (31, 4)),
            ("010", (8, 3)),
            ("018", (1, 2)),
            ("0x", (0, 1)),
            ("0xg", (0, 1)),
            ("0", (0, 1)),
            ("12x", (12, 2)),
            ("-0x10", (-16, 5)),
            ("99999999999999999999", (i64::MAX, 20)),
            ("", (0, 0)),
            ("-", (0, 0)),
            ("x1", (0, 0)),
        ] {
            assert_eq!(strtol0(text), want, "{text:?}");
        }
    }

    /// `strtol()` reading a whole string in base 10 or 8: blanks and a sign first, at least
    /// one digit of the base, nothing after, saturated.
    #[test]
    fn strtol_whole_as_glibc() {
        assert_eq!(strtol_whole("42"), Some(42));
        assert_eq!(strtol_whole(" \t-42"), Some(-42));
        assert_eq!(strtol_whole("+7"), Some(7));
        assert_eq!(strtol_whole("99999999999999999999"), Some(i64::MAX));
        assert_eq!(strtol_whole("-99999999999999999999"), Some(i64::MIN));
        assert_eq!(strtol_whole("-9223372036854775808"), Some(i64::MIN));
        for bad in ["", " ", "-", "+", "4x", "x4", "4 "] {
            assert_eq!(strtol_whole(bad), None, "{bad:?}");
        }
        assert_eq!(strtol_whole_radix("777", 8), Some(511));
        assert_eq!(strtol_whole_radix("-10", 8), Some(-8));
        assert_eq!(strtol_whole_radix("8", 8), None);
    }

    /// Text after a time unit (`s`, `m`, `h`, `d`, `ms`, `us`) is only warned about, the
    /// value before it is kept; after a digit, or with no digit at all, it is an error.
    #[test]
    fn time_warnings_after_a_unit_only() {
        for (text, ms) in [
            ("3sx", 3000),
            ("2mx", 120_000),
            ("1hx", 3_600_000),
            ("1dx", 86_400_000),
            ("5msx", 5),
            ("7usy", 1),
        ] {
            let (v, w) = parse_time_warn(text, TimeUnit::Ms);
            assert_eq!(v, Ok(ms), "{text}");
            let c = text.chars().last().unwrap();
            assert!(
                w.as_deref().is_some_and(|w| w.starts_with(&format!(
                    "unexpected character '{c}' after the timer value '{text}'"
                ))),
                "{text}: {w:?}"
            );
        }
        assert_eq!(
            parse_time_warn("5x", TimeUnit::Ms),
            (Err(TimeError::BadChar(1)), None)
        );
        assert_eq!(
            parse_time_warn("x", TimeUnit::Ms),
            (Err(TimeError::BadChar(0)), None)
        );
        assert_eq!(parse_time_warn("5", TimeUnit::Ms), (Ok(5), None));
    }

    /// What `http-request`, `http-response` and `http-after-response` lines leave in the
    /// model: each in its own list, the action, its arguments up to `if`/`unless`, and the
    /// condition's words.
    #[test]
    fn http_rules_as_read() {
        let (cfg, alerts) = parse_text(
            "rules.cfg",
            "defaults\n  mode http\nfrontend fe\n  bind 127.0.0.1:18080\n  acl a path /\n  http-request set-header X-A b if a\n  http-request deny unless a !a\n  http-request return status 200\n  http-response add-header X y\n  http-after-response set-header Z w unless a\n",
        );
        assert!(alerts.is_empty(), "{alerts:#?}");
        // (action, arguments, (unless, condition), line)
        type Shown = (String, String, Option<(bool, String)>, usize);
        let show = |rules: &[HttpRuleSpec]| -> Vec<Shown> {
            rules
                .iter()
                .map(|r| {
                    (
                        r.action.clone(),
                        r.args.join(" "),
                        r.cond.as_ref().map(|c| (c.unless, c.words.join(" "))),
                        r.loc.line,
                    )
                })
                .collect()
        };
        let fe = &cfg.proxies[0];
        let s = |x: &str| x.to_string();
        assert_eq!(
            show(&fe.http_req_rules),
            [
                (s("set-header"), s("X-A b"), Some((false, s("a"))), 6),
                (s("deny"), s(""), Some((true, s("a !a"))), 7),
                (s("return"), s("status 200"), None, 8),
            ]
        );
        assert_eq!(
            show(&fe.http_res_rules),
            [(s("add-header"), s("X y"), None, 9)]
        );
        assert_eq!(
            show(&fe.http_after_res_rules),
            [(s("set-header"), s("Z w"), Some((true, s("a"))), 10)]
        );
    }

    /// `stats socket` addresses and options: an inherited listening fd (`fd@N`), the options
    /// read and ignored (`user`, `group`, `uid`, `gid`, `name`, `expose-fd listeners`), and a
    /// port range, which upstream has and haproxy-rs refuses.
    #[test]
    fn stats_sockets_as_read() {
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = l.as_raw_fd();
        let (cfg, alerts) = parse_text(
            "stats.cfg",
            &format!("global\n  stats socket fd@{fd} level user\n  stats socket /tmp/hrs-x.sock user root group root uid 0 gid 0 name x expose-fd listeners mode 0\n  stats socket 127.0.0.1:9000-9001\n  stats socket /tmp/hrs-y.sock maxconn 10 level admin\n"),
        );
        let got: Vec<_> = cfg
            .global
            .stats_sockets
            .iter()
            .map(|s| (s.addr.clone(), s.level, s.mode, s.loc.line))
            .collect();
        assert_eq!(
            got,
            [
                (ListenAddr::Fd(fd), CliLevel::User, None, 2),
                (
                    ListenAddr::Unix("/tmp/hrs-x.sock".into()),
                    CliLevel::Operator,
                    Some(0),
                    3
                ),
            ]
        );
        assert_eq!(
            alerts.first().and_then(|a| a.split_once("config : ")).map(|x| x.1),
            Some("parsing [stats.cfg:4] : 'stats socket' : address '127.0.0.1:9000-9001' is not supported by haproxy-rs."),
            "{alerts:#?}"
        );
        // a bind option of ours to refuse is skipped with its argument
        assert_eq!(
            alerts.get(1).and_then(|a| a.split_once("config : ")).map(|x| x.1),
            Some("parsing [stats.cfg:5] : 'stats socket' : 'maxconn' option is not supported by haproxy-rs."),
            "{alerts:#?}"
        );
    }

    /// A name starting with a dot is a pseudo-variable or nothing: it is never looked up in
    /// the environment, even when the environment has it (upstream's `parse_line()`).
    #[test]
    fn dotted_names_are_never_environment_variables() {
        std::env::set_var(".HRS_DOTTED", "x");
        let (_, alerts) = parse_text(
            "dot.cfg",
            "global\n  .notice \"${.HRS_DOTTED}\"\n  .notice \"${.LINE}\"\n",
        );
        assert_eq!(
            alerts.first().and_then(|a| a.split_once("config : ")).map(|x| x.1),
            Some("parsing [dot.cfg:2]: forbidden first char in environment variable name at position 14:\n  .notice \"${.HRS_DOTTED\n             ^"),
            "{alerts:#?}"
        );
    }

    /// The sections upstream has and haproxy-rs does not: refused once, their lines skipped
    /// (even unknown keywords), their name (or keyword) still the current section's.
    #[test]
    fn unsupported_sections_are_refused_once() {
        let got = messages(
            "sec.cfg",
            "userlist L1\n  user bob password x\n  frob\n  .notice \"${.SECTION}\"\npeers\n  .notice \"${.SECTION}\"\nresolvers r\nmailers m\nhttp-errors h\nring rg\ncache c\nprogram p\nlog-forward lf\n  .notice \"${.SECTION}\"\nfrontend fe\n  bind 127.0.0.1:18080\n",
        );
        let want: Vec<String> = [
            (1, "userlist"),
            (5, "peers"),
            (7, "resolvers"),
            (8, "mailers"),
            (9, "http-errors"),
            (10, "ring"),
            (11, "cache"),
            (12, "program"),
            (13, "log-forward"),
        ]
        .iter()
        .map(|(n, s)| format!("[ALERT]    : config : parsing [sec.cfg:{n}] : section '{s}' is not supported by haproxy-rs."))
        .collect();
        let alerts: Vec<&String> = got
            .iter()
            .filter(|l| l.starts_with("[ALERT]"))
            .take(want.len())
            .collect();
        assert_eq!(alerts, want.iter().collect::<Vec<_>>(), "{got:#?}");
        let notices: Vec<&String> = got.iter().filter(|l| l.starts_with("[NOTICE]")).collect();
        assert_eq!(
            notices,
            [
                "[NOTICE]   : config : parsing [sec.cfg:4]: 'L1'.",
                "[NOTICE]   : config : parsing [sec.cfg:6]: 'peers'.",
                "[NOTICE]   : config : parsing [sec.cfg:14]: 'lf'.",
            ],
            "{got:#?}"
        );
    }

    /// Log targets upstream has and haproxy-rs does not (a stream socket, a UNIX socket, a
    /// ring, sampling) are refused with a message of ours.
    #[test]
    fn unsupported_log_targets_are_refused() {
        let (cfg, alerts) = parse_text(
            "lt.cfg",
            "global\n  log tcp@127.0.0.1:514 local0\n  log /dev/log local0\n  log ring@r local0\n  log 127.0.0.1 sample 1:2 local0\n  log udp@127.0.0.1:515 local0\n",
        );
        let got: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a.split_once("config : ").map(|x| x.1))
            .take(4)
            .collect();
        assert_eq!(
            got,
            [
                "parsing [lt.cfg:2] : log : target 'tcp@127.0.0.1:514' is not supported by haproxy-rs.",
                "parsing [lt.cfg:3] : log : target '/dev/log' is not supported by haproxy-rs.",
                "parsing [lt.cfg:4] : 'log ring@...' is not supported by haproxy-rs.",
                "parsing [lt.cfg:5] : 'log ... sample' is not supported by haproxy-rs.",
            ],
            "{alerts:#?}"
        );
        assert_eq!(
            cfg.global
                .logs
                .iter()
                .map(|l| l.target.clone())
                .collect::<Vec<_>>(),
            [LogTarget::Udp("127.0.0.1:515".parse().unwrap())]
        );
    }

    /// The balance algorithms upstream has and haproxy-rs does not are refused with a
    /// message of ours (not upstream's list of algorithms); `log global` with an extra word,
    /// or a lone word, is an error and sets nothing.
    #[test]
    fn upstream_only_balance_algorithms_and_log_global() {
        let (cfg, alerts) = parse_text(
            "bal.cfg",
            "defaults\n  mode http\nbackend be\n  balance uri\n  balance url_param x\n  balance hash req.hdr(a)\n  balance random\n  balance hdr(host)\n  balance rdp-cookie\n  balance bogus\nfrontend fe\n  bind 127.0.0.1:18080\n  log global x\n  log x\n",
        );
        let got: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a.split_once("config : ").map(|x| x.1))
            .take(9)
            .collect();
        let mut want: Vec<String> = [
            (4, "uri"),
            (5, "url_param"),
            (6, "hash"),
            (7, "random"),
            (8, "hdr(host)"),
            (9, "rdp-cookie"),
        ]
        .iter()
        .map(|(n, a)| {
            format!("parsing [bal.cfg:{n}] : balance '{a}' is not supported by haproxy-rs.")
        })
        .collect();
        want.push("parsing [bal.cfg:10] : balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.".into());
        want.push("parsing [bal.cfg:13] : log : unknown log facility 'x'".into());
        want.push(
            "parsing [bal.cfg:14] : log : expects <address> and <facility> or global as arguments"
                .into(),
        );
        assert_eq!(got, want, "{alerts:#?}");
        assert!(!cfg.proxies[1].log_global);
    }

    /// A table option upstream has and haproxy-rs does not is refused when set, and its
    /// `no` or `default` form (turning it off) is accepted; `option http-keep-alive` sets
    /// keep-alive again after another mode.
    #[test]
    fn unsupported_table_options_and_keep_alive() {
        let (cfg, alerts) = parse_text(
            "topt.cfg",
            "defaults\n  mode http\n  no option nolinger\n  option httpclose\n  option http-keep-alive\nfrontend fe\n  bind 127.0.0.1:18080\n  option nolinger\n  option httpchk\n",
        );
        assert_eq!(
            alerts
                .first()
                .and_then(|a| a.split_once("config : "))
                .map(|x| x.1),
            Some("parsing [topt.cfg:8] : option 'nolinger' is not supported by haproxy-rs."),
            "{alerts:#?}"
        );
        // another option upstream has: ours too, not upstream's unknown option
        assert_eq!(
            alerts
                .get(1)
                .and_then(|a| a.split_once("config : "))
                .map(|x| x.1),
            Some("parsing [topt.cfg:9] : option 'httpchk' is not supported by haproxy-rs."),
            "{alerts:#?}"
        );
        assert_eq!(
            cfg.proxies[0].options.http_conn_mode,
            HttpConnMode::KeepAlive
        );
    }

    /// `acl` without a name: upstream's message is cut at the empty name's NUL (it used to
    /// panic here).
    #[test]
    fn acl_without_a_name() {
        let (_, alerts) = parse_text("acl.cfg", "frontend fe\n  bind 127.0.0.1:18080\n  acl\n");
        assert_eq!(
            alerts
                .first()
                .and_then(|a| a.split_once("config : "))
                .map(|x| x.1),
            Some("parsing [acl.cfg:3] : character '"),
            "{alerts:#?}"
        );
    }
}
