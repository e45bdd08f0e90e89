//! Scenario files for the differential HTTP/1 tests (`tests/h1/*.scn`): the model and the
//! parser. The format is documented in `tests/h1/README.md`; [`run`] runs a scenario against
//! one proxy binary and returns its transcript, [`diff`] compares two transcripts.
//!
//! A scenario is one behaviour: a proxy configuration with placeholders (`${FE}` for
//! listeners, `${S1}` for scripted servers, `${REFUSED}`, `${BLACKHOLE}`, `${CLI}` for the
//! stats socket, `${SYSLOG}` for a syslog target), a client script, scripted or automatic
//! servers, the transcript recorded from upstream (`[expect]`, what both sides are checked
//! against), and optionally a pinned difference (`[differs]`, what haproxy-rs must give
//! instead). [`with_expect`] rewrites a file's `[expect]` section when re-recording.

pub mod cli;
pub mod diff;
pub mod run;
pub mod syslog;
pub mod wire;

use std::path::Path;
use std::time::Duration;

/// Default wait of the blocking client and server steps (`recv-*`, `accept`), unless a step
/// gives its own.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(2500);
/// Default wait of `expect-close`: shorter than the configs' usual `timeout client 2s`, so
/// that a close on the keep-alive timeout does not pass for an immediate close.
pub const DEFAULT_CLOSE_WAIT: Duration = Duration::from_millis(1000);

/// One parsed scenario file.
#[derive(Debug)]
pub struct Scenario {
    /// File name without `.scn`.
    pub name: String,
    /// First comment line.
    pub title: String,
    /// The `[config]` text, placeholders not yet substituted.
    pub config: String,
    pub client: Vec<Step<ClientCmd>>,
    pub servers: Vec<Server>,
    /// The `[expect]` transcript: upstream's, recorded (`None` when the file has none yet).
    pub expect: Option<String>,
    pub differs: Option<Differs>,
}

/// A `[server Sn]` section.
#[derive(Debug)]
pub struct Server {
    /// `S1`, `S2`...
    pub name: String,
    /// `None`: the automatic mode (`auto`): every request on every connection gets a 200.
    pub script: Option<Vec<Step<ServerCmd>>>,
}

/// A `[differs]` section: what haproxy-rs is expected to produce instead of upstream's
/// transcript, and why.
#[derive(Debug)]
pub struct Differs {
    pub reason: String,
    pub transcript: String,
}

/// A script step with the line it came from (for messages).
#[derive(Debug)]
pub struct Step<C> {
    pub line: usize,
    pub cmd: C,
}

/// A `[client]` command; `conn` names a connection, `wait` bounds a blocking step.
#[derive(Debug)]
pub enum ClientCmd {
    /// `connect NAME [FE...]`
    Connect { conn: String, listener: String },
    /// `send NAME "..."...` and `send-repeat NAME "p" COUNT`
    Send { conn: String, data: Vec<u8> },
    /// `shutdown NAME`: half-close.
    Shutdown { conn: String },
    /// `close NAME`
    Close { conn: String },
    /// `recv-response NAME [HEAD] [MS]`
    RecvResponse {
        conn: String,
        head: bool,
        wait: Duration,
    },
    /// `recv-raw NAME COUNT [MS]`
    RecvRaw {
        conn: String,
        len: usize,
        wait: Duration,
    },
    /// `expect-close NAME [MS]`
    ExpectClose { conn: String, wait: Duration },
    /// `wait MS`
    Wait(Duration),
    /// `cli "COMMAND"`: one command on the stats socket (`${CLI}`), its reply recorded.
    Cli { command: String },
    /// `cli-stat "PROXY" "ROWS" "FIELDS"`: `show stat`, the chosen rows and columns recorded.
    CliStat {
        proxy: String,
        /// `svname`s (`FRONTEND`, `BACKEND`, server names); empty for `*`, every row.
        rows: Vec<String>,
        fields: Vec<String>,
    },
}

/// A `[server Sn]` script command; all but `accept` and `conn` act on the current
/// connection.
#[derive(Clone, Debug)]
pub enum ServerCmd {
    /// `accept [MS]`: the next connection becomes current.
    Accept { wait: Duration },
    /// `conn N`: connection N (1-based, accept order) becomes current.
    Conn(usize),
    /// `recv-request [MS]`: head and body.
    RecvRequest { wait: Duration },
    /// `recv-head [MS]`
    RecvHead { wait: Duration },
    /// `recv-body [MS]`: the body of the head read by `recv-head`.
    RecvBody { wait: Duration },
    /// `recv-raw COUNT [MS]`
    RecvRaw { len: usize, wait: Duration },
    /// `send "..."...` and `send-repeat "p" COUNT`
    Send(Vec<u8>),
    /// `respond`: the automatic response (`200`, body = server name) to the last request.
    Respond,
    /// `shutdown`: half-close.
    Shutdown,
    /// `close`
    Close,
    /// `expect-close [MS]`
    ExpectClose { wait: Duration },
    /// `wait MS`
    Wait(Duration),
}

/// What a placeholder `${NAME}` of the configuration stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `FE...`: a listening socket handed to the proxy as `fd@N`.
    Listener,
    /// `S<n>`: a scripted or automatic server's `127.0.0.1:port`.
    Server,
    /// `REFUSED...`: a bound, non-listening port: connecting is refused.
    Refused,
    /// `BLACKHOLE...`: a port whose accept queue is full: connecting hangs.
    Blackhole,
    /// `CLI`: the path of the stats socket (a UNIX socket in the run's directory).
    Cli,
    /// `SYSLOG`: `127.0.0.1:port` of a UDP socket the harness reads syslog messages from.
    Syslog,
}

impl Placeholder {
    pub fn of(name: &str) -> Option<Placeholder> {
        if name.starts_with("FE") {
            Some(Placeholder::Listener)
        } else if name.len() > 1
            && name.starts_with('S')
            && name[1..].bytes().all(|b| b.is_ascii_digit())
        {
            Some(Placeholder::Server)
        } else if name.starts_with("REFUSED") {
            Some(Placeholder::Refused)
        } else if name.starts_with("BLACKHOLE") {
            Some(Placeholder::Blackhole)
        } else if name == "CLI" {
            Some(Placeholder::Cli)
        } else if name == "SYSLOG" {
            Some(Placeholder::Syslog)
        } else {
            None
        }
    }
}

/// Every distinct `${NAME}` of `text`, in order of first appearance.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let Some(j) = rest.find('}') else { break };
        let name = rest[..j].to_string();
        if !v.contains(&name) {
            v.push(name);
        }
        rest = &rest[j + 1..];
    }
    v
}

impl Scenario {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Scenario::parse(&name, &text)
    }

    /// Parses a scenario's text; errors name the line.
    pub fn parse(name: &str, text: &str) -> Result<Scenario, String> {
        let mut sc = Scenario {
            name: name.to_string(),
            title: String::new(),
            config: String::new(),
            client: Vec::new(),
            servers: Vec::new(),
            expect: None,
            differs: None,
        };
        let mut have_config = false;
        let mut have_client = false;
        let mut sections: Vec<Section> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if is_section_head(line) {
                let head = line.trim_end();
                sections.push(Section {
                    head: head[1..head.len() - 1].trim().to_string(),
                    line: n,
                    body: Vec::new(),
                });
                continue;
            }
            match sections.last_mut() {
                Some(sec) => sec.body.push((n, line)),
                None => {
                    let t = line.trim();
                    if let Some(c) = t.strip_prefix('#') {
                        if sc.title.is_empty() {
                            sc.title = c.trim().to_string();
                        }
                    } else if !t.is_empty() {
                        return Err(format!("line {n}: text before the first [section]"));
                    }
                }
            }
        }
        if sc.title.is_empty() {
            return Err("no title: the file must start with a '# title' comment".into());
        }
        for Section {
            head,
            line: n,
            body,
        } in sections
        {
            let mut words = head.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("config"), None, _) => {
                    if have_config {
                        return Err(format!("line {n}: second [config]"));
                    }
                    have_config = true;
                    let lines: Vec<&str> = body.iter().map(|(_, l)| *l).collect();
                    sc.config = lines.join("\n").trim_end().to_string() + "\n";
                }
                (Some("client"), None, _) => {
                    if have_client {
                        return Err(format!("line {n}: second [client]"));
                    }
                    have_client = true;
                    for (ln, l) in body {
                        if let Some(cmd) = parse_client(ln, l)? {
                            sc.client.push(Step { line: ln, cmd });
                        }
                    }
                }
                (Some("server"), Some(s), None) => {
                    if Placeholder::of(s) != Some(Placeholder::Server) {
                        return Err(format!("line {n}: server names are S1, S2...: {s:?}"));
                    }
                    if sc.servers.iter().any(|x| x.name == s) {
                        return Err(format!("line {n}: second [server {s}]"));
                    }
                    sc.servers.push(Server {
                        name: s.to_string(),
                        script: parse_server(&body)?,
                    });
                }
                (Some("differs"), None, _) => {
                    if sc.differs.is_some() {
                        return Err(format!("line {n}: second [differs]"));
                    }
                    sc.differs = Some(parse_differs(n, &body)?)
                }
                (Some("expect"), None, _) => {
                    if sc.expect.is_some() {
                        return Err(format!("line {n}: second [expect]"));
                    }
                    let lines: Vec<&str> = body.iter().map(|(_, l)| *l).collect();
                    let t = transcript_text(&lines);
                    if t.trim().is_empty() {
                        return Err(format!("line {n}: empty [expect]"));
                    }
                    sc.expect = Some(t);
                }
                _ => return Err(format!("line {n}: unknown section [{head}]")),
            }
        }
        if !have_config {
            return Err("no [config] section".into());
        }
        if !have_client {
            return Err("no [client] section".into());
        }
        sc.check()?;
        Ok(sc)
    }

    /// The client script's `wait` steps added up: the run's time limit grows by that much.
    pub fn client_waits(&self) -> Duration {
        self.client
            .iter()
            .map(|st| match st.cmd {
                ClientCmd::Wait(d) => d,
                _ => Duration::ZERO,
            })
            .sum()
    }

    /// Cross-checks: every placeholder is known, every `S<n>` has a section and the reverse,
    /// every client connection is opened before use on a known listener, `cli` commands
    /// have a `${CLI}`.
    fn check(&self) -> Result<(), String> {
        let names = placeholders(&self.config);
        for p in &names {
            match Placeholder::of(p) {
                None => return Err(format!("[config]: unknown placeholder ${{{p}}}")),
                Some(Placeholder::Server) if !self.servers.iter().any(|s| &s.name == p) => {
                    return Err(format!(
                        "[config] uses ${{{p}}} but there is no [server {p}]"
                    ))
                }
                _ => {}
            }
        }
        for s in &self.servers {
            if !names.contains(&s.name) {
                return Err(format!("[server {}] is not used in [config]", s.name));
            }
        }
        let mut open: Vec<&str> = Vec::new();
        for st in &self.client {
            let conn = match &st.cmd {
                ClientCmd::Connect { conn, listener } => {
                    if Placeholder::of(listener) != Some(Placeholder::Listener)
                        || !names.contains(listener)
                    {
                        return Err(format!(
                            "line {}: {listener} is not a listener (${{FE...}}) of [config]",
                            st.line
                        ));
                    }
                    open.push(conn);
                    continue;
                }
                ClientCmd::Wait(_) => continue,
                ClientCmd::Cli { .. } | ClientCmd::CliStat { .. } => {
                    if !names.iter().any(|n| n == "CLI") {
                        return Err(format!(
                            "line {}: cli commands need a 'stats socket ${{CLI}}' in [config]",
                            st.line
                        ));
                    }
                    continue;
                }
                ClientCmd::Send { conn, .. }
                | ClientCmd::Shutdown { conn }
                | ClientCmd::Close { conn }
                | ClientCmd::RecvResponse { conn, .. }
                | ClientCmd::RecvRaw { conn, .. }
                | ClientCmd::ExpectClose { conn, .. } => conn,
            };
            if !open.contains(&conn.as_str()) {
                return Err(format!(
                    "line {}: connection {conn} is used before 'connect {conn}'",
                    st.line
                ));
            }
        }
        Ok(())
    }
}

/// A `[section]` of a scenario file while parsing.
struct Section<'a> {
    /// Between the brackets.
    head: String,
    /// Line number of the header.
    line: usize,
    /// Lines of the section with their numbers.
    body: Vec<(usize, &'a str)>,
}

/// A token of a script line.
#[derive(Debug)]
enum Tok {
    Word(String),
    Str(Vec<u8>),
}

/// Splits a script line into words and quoted strings (with escapes `\r \n \t \0 \\ \"
/// \xHH`); `#` outside quotes starts a comment.
fn tokenize(ln: usize, line: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut it = line.chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == '#' {
            break;
        } else if c == '"' {
            it.next();
            let mut s = Vec::new();
            loop {
                match it.next() {
                    None => return Err(format!("line {ln}: unterminated string")),
                    Some('"') => break,
                    Some('\\') => match it.next() {
                        Some('r') => s.push(b'\r'),
                        Some('n') => s.push(b'\n'),
                        Some('t') => s.push(b'\t'),
                        Some('0') => s.push(0),
                        Some('\\') => s.push(b'\\'),
                        Some('"') => s.push(b'"'),
                        Some('x') => {
                            let h: String = it.by_ref().take(2).collect();
                            let b = u8::from_str_radix(&h, 16)
                                .map_err(|_| format!("line {ln}: bad escape \\x{h}"))?;
                            s.push(b);
                        }
                        other => return Err(format!("line {ln}: unknown escape \\{other:?}")),
                    },
                    Some(ch) => {
                        let mut b = [0; 4];
                        s.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
            toks.push(Tok::Str(s));
        } else {
            let mut w = String::new();
            while let Some(&ch) = it.peek() {
                if ch.is_whitespace() || ch == '"' {
                    break;
                }
                w.push(ch);
                it.next();
            }
            toks.push(Tok::Word(w));
        }
    }
    Ok(toks)
}

/// Arguments of one script line, consumed left to right.
struct Args {
    ln: usize,
    cmd: String,
    toks: std::vec::IntoIter<Tok>,
}

impl Args {
    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.toks.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err(format!("line {}: {}: expected {what}", self.ln, self.cmd)),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        match self.toks.next() {
            Some(Tok::Str(s)) => Ok(s),
            _ => Err(format!(
                "line {}: {}: expected a \"string\"",
                self.ln, self.cmd
            )),
        }
    }

    /// One or more quoted strings, concatenated.
    fn strings(&mut self) -> Result<Vec<u8>, String> {
        let mut data = self.string()?;
        for t in self.toks.by_ref() {
            match t {
                Tok::Str(s) => data.extend_from_slice(&s),
                Tok::Word(w) => {
                    return Err(format!(
                        "line {}: {}: unexpected {w:?} (only strings)",
                        self.ln, self.cmd
                    ))
                }
            }
        }
        Ok(data)
    }

    /// `"pattern" COUNT`: the pattern repeated COUNT times.
    fn repeat(&mut self) -> Result<Vec<u8>, String> {
        let pat = self.string()?;
        let n: usize = self.number("a repeat count")?;
        Ok(pat.repeat(n))
    }

    /// A quoted string that is one line of text (CLI commands and their arguments).
    fn text(&mut self) -> Result<String, String> {
        let s = self.string()?;
        let s = String::from_utf8(s)
            .map_err(|_| format!("line {}: {}: the string is not UTF-8", self.ln, self.cmd))?;
        if s.contains(['\n', '\r']) || s.trim().is_empty() {
            return Err(format!(
                "line {}: {}: {s:?} must be one non-empty line",
                self.ln, self.cmd
            ));
        }
        Ok(s)
    }

    /// A quoted comma list (`"a,b"`), each item trimmed, none empty.
    fn list(&mut self) -> Result<Vec<String>, String> {
        let s = self.text()?;
        let v: Vec<String> = s.split(',').map(|x| x.trim().to_string()).collect();
        if v.iter().any(String::is_empty) {
            return Err(format!(
                "line {}: {}: empty item in the list {s:?}",
                self.ln, self.cmd
            ));
        }
        Ok(v)
    }

    fn number(&mut self, what: &str) -> Result<usize, String> {
        let w = self.word(what)?;
        w.parse()
            .map_err(|_| format!("line {}: {}: {w:?} is not {what}", self.ln, self.cmd))
    }

    /// An optional trailing duration (`500`, `500ms`, `2s`).
    fn opt_ms(&mut self) -> Result<Option<Duration>, String> {
        match self.toks.next() {
            None => Ok(None),
            Some(Tok::Word(w)) => parse_ms(&w)
                .map(Some)
                .ok_or_else(|| format!("line {}: {}: bad duration {w:?}", self.ln, self.cmd)),
            Some(Tok::Str(_)) => Err(format!("line {}: {}: unexpected string", self.ln, self.cmd)),
        }
    }

    fn ms(&mut self) -> Result<Duration, String> {
        self.opt_ms()?
            .ok_or_else(|| format!("line {}: {}: expected a duration", self.ln, self.cmd))
    }

    fn end(mut self) -> Result<(), String> {
        match self.toks.next() {
            None => Ok(()),
            Some(t) => Err(format!(
                "line {}: {}: extra argument {t:?}",
                self.ln, self.cmd
            )),
        }
    }
}

/// `500` and `500ms` are milliseconds, `2s` seconds.
fn parse_ms(w: &str) -> Option<Duration> {
    if let Some(s) = w.strip_suffix("ms") {
        s.parse().ok().map(Duration::from_millis)
    } else if let Some(s) = w.strip_suffix('s') {
        s.parse().ok().map(Duration::from_secs)
    } else {
        w.parse().ok().map(Duration::from_millis)
    }
}

/// Tokenizes a script line; `None` for blank and comment lines.
fn args(ln: usize, line: &str) -> Result<Option<Args>, String> {
    let toks = tokenize(ln, line)?;
    let mut toks = toks.into_iter();
    let cmd = match toks.next() {
        None => return Ok(None),
        Some(Tok::Word(w)) => w,
        Some(Tok::Str(_)) => return Err(format!("line {ln}: a line starts with a command")),
    };
    Ok(Some(Args { ln, cmd, toks }))
}

fn parse_client(ln: usize, line: &str) -> Result<Option<ClientCmd>, String> {
    let Some(mut a) = args(ln, line)? else {
        return Ok(None);
    };
    let cmd = match a.cmd.as_str() {
        "connect" => {
            let conn = a.word("a connection name")?;
            let listener = match a.toks.next() {
                None => "FE".to_string(),
                Some(Tok::Word(w)) => w,
                Some(Tok::Str(_)) => return Err(format!("line {ln}: connect: bad listener")),
            };
            ClientCmd::Connect { conn, listener }
        }
        "send" => {
            let conn = a.word("a connection name")?;
            let data = a.strings()?;
            ClientCmd::Send { conn, data }
        }
        "send-repeat" => {
            let conn = a.word("a connection name")?;
            let data = a.repeat()?;
            ClientCmd::Send { conn, data }
        }
        "shutdown" => ClientCmd::Shutdown {
            conn: a.word("a connection name")?,
        },
        "close" => ClientCmd::Close {
            conn: a.word("a connection name")?,
        },
        "recv-response" => {
            let conn = a.word("a connection name")?;
            let mut head = false;
            let mut wait = DEFAULT_WAIT;
            for t in a.toks.by_ref() {
                match t {
                    Tok::Word(w) if w == "HEAD" => head = true,
                    Tok::Word(w) => {
                        wait = parse_ms(&w)
                            .ok_or_else(|| format!("line {ln}: recv-response: bad {w:?}"))?
                    }
                    Tok::Str(_) => return Err(format!("line {ln}: recv-response: bad string")),
                }
            }
            ClientCmd::RecvResponse { conn, head, wait }
        }
        "recv-raw" => {
            let conn = a.word("a connection name")?;
            let len = a.number("a byte count")?;
            let wait = a.opt_ms()?.unwrap_or(DEFAULT_WAIT);
            ClientCmd::RecvRaw { conn, len, wait }
        }
        "expect-close" => {
            let conn = a.word("a connection name")?;
            let wait = a.opt_ms()?.unwrap_or(DEFAULT_CLOSE_WAIT);
            ClientCmd::ExpectClose { conn, wait }
        }
        "wait" => ClientCmd::Wait(a.ms()?),
        "cli" => ClientCmd::Cli { command: a.text()? },
        "cli-stat" => {
            let proxy = a.text()?;
            let rows = a.list()?;
            let rows = if rows == ["*"] { Vec::new() } else { rows };
            let fields = a.list()?;
            ClientCmd::CliStat {
                proxy,
                rows,
                fields,
            }
        }
        other => return Err(format!("line {ln}: unknown client command {other:?}")),
    };
    a.end()?;
    Ok(Some(cmd))
}

/// A server section's body: `auto` alone, or a script.
fn parse_server(body: &[(usize, &str)]) -> Result<Option<Vec<Step<ServerCmd>>>, String> {
    let mut steps = Vec::new();
    let mut auto = None;
    for &(ln, line) in body {
        let Some(mut a) = args(ln, line)? else {
            continue;
        };
        let cmd = match a.cmd.as_str() {
            "auto" => {
                auto = Some(ln);
                continue;
            }
            "accept" => ServerCmd::Accept {
                wait: a.opt_ms()?.unwrap_or(DEFAULT_WAIT),
            },
            "conn" => ServerCmd::Conn(a.number("a connection number")?),
            "recv-request" => ServerCmd::RecvRequest {
                wait: a.opt_ms()?.unwrap_or(DEFAULT_WAIT),
            },
            "recv-head" => ServerCmd::RecvHead {
                wait: a.opt_ms()?.unwrap_or(DEFAULT_WAIT),
            },
            "recv-body" => ServerCmd::RecvBody {
                wait: a.opt_ms()?.unwrap_or(DEFAULT_WAIT),
            },
            "recv-raw" => {
                let len = a.number("a byte count")?;
                let wait = a.opt_ms()?.unwrap_or(DEFAULT_WAIT);
                ServerCmd::RecvRaw { len, wait }
            }
            "send" => ServerCmd::Send(a.strings()?),
            "send-repeat" => ServerCmd::Send(a.repeat()?),
            "respond" => ServerCmd::Respond,
            "shutdown" => ServerCmd::Shutdown,
            "close" => ServerCmd::Close,
            "expect-close" => ServerCmd::ExpectClose {
                wait: a.opt_ms()?.unwrap_or(DEFAULT_CLOSE_WAIT),
            },
            "wait" => ServerCmd::Wait(a.ms()?),
            other => return Err(format!("line {ln}: unknown server command {other:?}")),
        };
        a.end()?;
        steps.push(Step { line: ln, cmd });
    }
    match auto {
        Some(ln) if !steps.is_empty() => Err(format!(
            "line {ln}: 'auto' is a server's whole script, not a step"
        )),
        Some(_) => Ok(None),
        None if steps.is_empty() => Err("a [server] section needs 'auto' or a script".into()),
        None => Ok(Some(steps)),
    }
}

/// A transcript from a section's lines: trailing blanks and blank lines at both ends removed,
/// one final newline (the form of `run::normalize`).
fn transcript_text(lines: &[&str]) -> String {
    let lines: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
    lines.join("\n").trim().to_string() + "\n"
}

/// Would `line` be read as a section header (`[name]` in column 0)?
fn is_section_head(line: &str) -> bool {
    line.starts_with('[') && line.trim_end().ends_with(']')
}

/// The text of a scenario file with its `[expect]` section holding `transcript`: an existing
/// `[expect]` section is removed, and the new one is appended at the end of the file.
///
/// Fails, leaving the caller to write nothing, when a transcript line would read as a
/// section header, or when the file has two `[expect]` sections.
pub fn with_expect(text: &str, transcript: &str) -> Result<String, String> {
    if let Some(l) = transcript.lines().find(|l| is_section_head(l)) {
        return Err(format!(
            "the transcript line {l:?} would read as a section header: change the scenario"
        ));
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut in_expect = false;
    let mut seen = false;
    for line in text.lines() {
        if is_section_head(line) {
            in_expect = line.trim_end()[1..line.trim_end().len() - 1].trim() == "expect";
            if in_expect {
                if seen {
                    return Err("two [expect] sections".into());
                }
                seen = true;
            }
        }
        if !in_expect {
            kept.push(line);
        }
    }
    let head = kept.join("\n");
    Ok(format!(
        "{}\n\n[expect]\n{}",
        head.trim_end(),
        transcript_text(&transcript.lines().collect::<Vec<_>>())
    ))
}

fn parse_differs(n: usize, body: &[(usize, &str)]) -> Result<Differs, String> {
    let mut lines = body
        .iter()
        .map(|(_, l)| *l)
        .skip_while(|l| l.trim().is_empty());
    let reason = lines
        .next()
        .and_then(|l| l.strip_prefix("reason:"))
        .map(|r| r.trim().to_string())
        .ok_or_else(|| format!("line {n}: [differs] starts with 'reason: ...'"))?;
    if !reason.contains("docs/differences.md") {
        return Err(format!(
            "line {n}: the [differs] reason must point at docs/differences.md"
        ));
    }
    let rest: Vec<&str> = lines.collect();
    Ok(Differs {
        reason,
        transcript: transcript_text(&rest),
    })
}
