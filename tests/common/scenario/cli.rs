//! The client's view of the proxy's stats socket (`${CLI}`): the `cli` and `cli-stat`
//! commands of a scenario.
//!
//! One command per connection, as the CLI expects from scripts: connect to the UNIX socket,
//! write the command and a newline, half-close, read until the proxy closes (at most
//! [`CLI_WAIT`]). A reply is recorded line by line, indented, with the ports of the run's
//! sockets (which change from run to run) replaced by their placeholder's name (`S1_PORT`).
//! `cli-stat` parses the `show stat` CSV instead and records only the rows and columns the
//! scenario asks for, so that volatile columns (pid, times, `lastchg`) stay out of the
//! transcript.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a reply may take to end (the proxy closing the connection).
pub const CLI_WAIT: Duration = Duration::from_secs(2);
/// Replies longer than this are cut (a runaway proxy must not fill the memory).
const MAX_REPLY: usize = 4 << 20;
/// Indent of the reply lines under their `cli:` line.
const INDENT: &str = "    ";

/// What one command got back.
pub enum Reply {
    /// The socket could not be connected (no CLI, or not yet).
    ConnectFailed,
    /// The bytes received, and why reading stopped if not by the proxy's close.
    Data { bytes: Vec<u8>, cut: Option<String> },
}

/// Sends `command` on the CLI socket at `path` and reads the reply until EOF, giving up at
/// `deadline`.
pub fn send(path: &Path, command: &str, deadline: Instant) -> Reply {
    let Ok(mut s) = UnixStream::connect(path) else {
        return Reply::ConnectFailed;
    };
    let mut bytes = Vec::new();
    let mut line = command.as_bytes().to_vec();
    line.push(b'\n');
    // A write error means the proxy closed already: what it sent is still worth reading.
    let _ = s.write_all(&line).and_then(|_| s.shutdown(Shutdown::Write));
    let mut buf = [0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            let cut = format!("no end of reply within {} ms", CLI_WAIT.as_millis());
            return Reply::Data {
                bytes,
                cut: Some(cut),
            };
        }
        if let Err(e) = s.set_read_timeout(Some(deadline - now)) {
            return Reply::Data {
                bytes,
                cut: Some(format!("I/O error: {e}")),
            };
        }
        match s.read(&mut buf) {
            Ok(0) => return Reply::Data { bytes, cut: None },
            Ok(n) if bytes.len() + n > MAX_REPLY => {
                let cut = format!("reply longer than {MAX_REPLY} bytes");
                return Reply::Data {
                    bytes,
                    cut: Some(cut),
                };
            }
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return Reply::Data { bytes, cut: None }
            }
            Err(e) => {
                return Reply::Data {
                    bytes,
                    cut: Some(format!("I/O error: {e}")),
                }
            }
        }
    }
}

/// The ports of the run's sockets and the names that replace them in CLI replies.
#[derive(Default)]
pub struct Ports(Vec<(String, String)>);

impl Ports {
    /// Port `port` is shown as `NAME_PORT` (`S1_PORT` for `${S1}`).
    pub fn add(&mut self, placeholder: &str, port: u16) {
        self.0
            .push((port.to_string(), format!("{placeholder}_PORT")));
    }

    /// `line` with every run of digits that is a whole word and one of the ports replaced
    /// by its name (so `127.0.0.1:43512` becomes `127.0.0.1:S1_PORT`).
    pub fn normalize(&self, line: &str) -> String {
        let b = line.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() || (i > 0 && word(b[i - 1])) {
                let ch = line[i..].chars().next().expect("i is a char boundary");
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
            let mut j = i;
            while j < b.len() && word(b[j]) {
                j += 1;
            }
            let tok = &line[i..j];
            match self.0.iter().find(|(p, _)| p == tok) {
                Some((_, name)) => out.push_str(name),
                None => out.push_str(tok),
            }
            i = j;
        }
        out
    }
}

/// Records `cli: COMMAND` and the reply, one indented line per reply line (`<empty>` for an
/// empty one; a last line without its newline is flagged).
pub fn render(command: &str, reply: &Reply, ports: &Ports, out: &mut Vec<String>) {
    out.push(format!("cli: {command}"));
    let (bytes, cut) = match reply {
        Reply::ConnectFailed => {
            out.push(format!("{INDENT}connect failed"));
            return;
        }
        Reply::Data { bytes, cut } => (bytes, cut),
    };
    if bytes.is_empty() {
        out.push(format!("{INDENT}<no reply>"));
    }
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<&str> = text.split('\n').collect();
    let partial = lines.pop().filter(|l| !l.is_empty());
    for l in lines {
        out.push(reply_line(&ports.normalize(l)));
    }
    if let Some(l) = partial {
        out.push(format!(
            "{} [no newline at end]",
            reply_line(&ports.normalize(l))
        ));
    }
    if let Some(c) = cut {
        out.push(format!("{INDENT}{c}"));
    }
}

/// One reply line, indented. Trailing spaces would vanish from the transcript: they are
/// counted instead (`text<2 trailing spaces>`); a CR is shown as `\r`.
fn reply_line(l: &str) -> String {
    if l.is_empty() {
        return format!("{INDENT}<empty>");
    }
    let l = l.replace('\r', "\\r");
    let trimmed = l.trim_end_matches(' ');
    match l.len() - trimmed.len() {
        0 => format!("{INDENT}{l}"),
        n => format!("{INDENT}{trimmed}<{n} trailing spaces>"),
    }
}

/// Records the `show stat` rows `rows` (every row of `proxy` when empty) of `proxy`, as
/// `stat: PROXY/ROW field=value...` with only `fields`; a missing row or column reads
/// `field=<missing>`.
pub fn render_stat(
    proxy: &str,
    rows: &[String],
    fields: &[String],
    reply: &Reply,
    out: &mut Vec<String>,
) {
    let text = match reply {
        Reply::ConnectFailed => {
            out.push(format!("stat: {proxy}: connect failed"));
            return;
        }
        Reply::Data { bytes, .. } => String::from_utf8_lossy(bytes),
    };
    let Some(csv) = Csv::parse(&text) else {
        out.push(format!(
            "stat: {proxy}: no '# pxname,svname' header in the reply ({} bytes)",
            text.len()
        ));
        return;
    };
    let of_proxy: Vec<&Vec<&str>> = csv.rows.iter().filter(|r| r[0] == proxy).collect();
    let chosen: Vec<(String, Option<&Vec<&str>>)> = if rows.is_empty() {
        of_proxy.iter().map(|r| (cell(r, 1), Some(*r))).collect()
    } else {
        rows.iter()
            .map(|name| {
                (
                    name.clone(),
                    of_proxy.iter().find(|r| cell(r, 1) == *name).copied(),
                )
            })
            .collect()
    };
    if chosen.is_empty() {
        out.push(format!("stat: {proxy}: no row"));
    }
    for (name, row) in chosen {
        let mut line = format!("stat: {proxy}/{name}");
        for f in fields {
            let v = row
                .zip(csv.column(f))
                .map_or("<missing>".to_string(), |(r, i)| cell(r, i));
            line.push_str(&format!(" {f}={v}"));
        }
        out.push(line);
    }
}

/// Cell `i` of a CSV row (empty when the row is short).
fn cell(row: &[&str], i: usize) -> String {
    row.get(i).map_or(String::new(), |c| c.to_string())
}

/// The `show stat` CSV: column names from the `# pxname,svname,...` header, then rows.
struct Csv<'a> {
    columns: Vec<&'a str>,
    rows: Vec<Vec<&'a str>>,
}

impl<'a> Csv<'a> {
    fn parse(text: &'a str) -> Option<Csv<'a>> {
        let mut lines = text.lines().skip_while(|l| !l.starts_with("# pxname,"));
        let header = lines.next()?.strip_prefix("# ")?;
        let columns = header.split(',').collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        Some(Csv { columns, rows })
    }

    /// Index of column `name`.
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == name)
    }
}
