//! Diagnostics: alerts, warnings and notices worded and laid out as HAProxy prints them.
//!
//! Owns the message list produced while reading a configuration, HAProxy's error-code bits
//! (`ERR_FATAL`, `ERR_ABORT`) and the closing alerts they lead to. Rendering needs the pid
//! (HAProxy prints `[ALERT]    (pid) : config : ...`); nothing here writes to a stream.
//!
//! How a message cites its line is part of its text upstream, and differs by who prints it
//! ([`Head`]): the keyword parsers of the sections write `parsing [F:N] : `, the file reader
//! itself (`readcfgfile()`: lexer errors, `.if` blocks, directives, keywords out of
//! section...) and a few keyword parsers write `parsing [F:N]: `, the post-parse checks write
//! `Parsing [F:N]: `, and messages printed while a server line is parsed get the line from
//! the message context (`set_usermsgs_ctx()`), which writes `[F:N] : `.

use std::fmt;

/// Severity of a diagnostic, HAProxy's `ha_alert`/`ha_warning`/`ha_notice`/`ha_diag_warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Alert,
    Warning,
    Notice,
    Diag,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Alert => "[ALERT]",
            Level::Warning => "[WARNING]",
            Level::Notice => "[NOTICE]",
            Level::Diag => "[DIAG]",
        }
    }
}

/// Where a diagnostic points: a file and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How a located message writes its location (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Head {
    /// `parsing [F:N] : msg`: the section keyword parsers (`cfg_parse_listen()`...).
    #[default]
    Parsing,
    /// `parsing [F:N]: msg`: `readcfgfile()`'s own messages and a few keyword parsers.
    Tight,
    /// `Parsing [F:N]: msg`: duplicate proxy names, post-parse log-format and `use_backend`
    /// compilation.
    Capital,
    /// `[F:N] : msg`: the message context of a server line (`set_usermsgs_ctx()`).
    Context,
}

/// One message. `loc` is set for messages about a given line, rendered as `head` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub level: Level,
    pub loc: Option<Loc>,
    pub head: Head,
    pub msg: String,
}

impl Diag {
    /// A message about no line in particular.
    pub fn bare(level: Level, msg: impl Into<String>) -> Diag {
        Diag {
            level,
            loc: None,
            head: Head::Parsing,
            msg: msg.into(),
        }
    }

    /// A message about `loc`, written as `head` says.
    pub fn at(level: Level, head: Head, loc: &Loc, msg: impl Into<String>) -> Diag {
        Diag {
            level,
            loc: Some(loc.clone()),
            head,
            msg: msg.into(),
        }
    }

    /// The message text after `config : `, location included, as upstream writes it.
    pub fn text(&self) -> String {
        match &self.loc {
            None => self.msg.clone(),
            Some(loc) => match self.head {
                Head::Parsing => format!("parsing [{loc}] : {}", self.msg),
                Head::Tight => format!("parsing [{loc}]: {}", self.msg),
                Head::Capital => format!("Parsing [{loc}]: {}", self.msg),
                Head::Context => format!("[{loc}] : {}", self.msg),
            },
        }
    }

    /// Renders the message as HAProxy writes it on stderr, multi-line messages included.
    pub fn render(&self, pid: u32) -> String {
        format!(
            "{:<11}({}) : config : {}",
            self.level.label(),
            pid,
            self.text()
        )
    }
}

/// The messages of one configuration load, plus HAProxy's error-code bits.
#[derive(Clone, Debug, Default)]
pub struct Diags {
    pub list: Vec<Diag>,
    /// `ERR_FATAL`: the configuration must not start.
    pub fatal: bool,
    /// Number of fatal alerts so far (the reader compares it before and after a line).
    pub fatal_count: usize,
    /// `ERR_ABORT`: loading stops after the current file, without the final summary alert.
    pub aborted: bool,
    /// `quiet` was read in the global section: from then on nothing is printed while
    /// loading (upstream's `MODE_QUIET` during `MODE_STARTING`), though errors still count.
    pub quiet: bool,
    /// A warning was emitted, printed or not (upstream's `WARN_ANY`).
    pub warned: bool,
}

impl Diags {
    /// Appends `d`; an alert also marks the configuration unusable (`ERR_FATAL`).
    pub fn push(&mut self, d: Diag) {
        match d.level {
            Level::Alert => {
                self.fatal = true;
                self.fatal_count += 1;
            }
            Level::Warning => self.warned = true,
            _ => {}
        }
        if !self.quiet {
            self.list.push(d);
        }
    }

    /// An alert about `loc` (`parsing [F:N] : msg`); marks the configuration unusable.
    pub fn alert_at(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.push(Diag::at(Level::Alert, Head::Parsing, loc, msg));
    }

    /// An alert about `loc` written `parsing [F:N]: msg` (the file reader's messages).
    pub fn alert_tight(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.push(Diag::at(Level::Alert, Head::Tight, loc, msg));
    }

    /// An alert about `loc` that does not make the configuration invalid (upstream's
    /// `ERR_ALERT` without `ERR_FATAL`).
    pub fn alert_only(&mut self, head: Head, loc: &Loc, msg: impl Into<String>) {
        if !self.quiet {
            self.list.push(Diag::at(Level::Alert, head, loc, msg));
        }
    }

    /// An alert about `loc` written as `head` says.
    pub fn alert_head(&mut self, head: Head, loc: &Loc, msg: impl Into<String>) {
        self.push(Diag::at(Level::Alert, head, loc, msg));
    }

    /// An alert with no line (post-parse checks); marks the configuration unusable.
    pub fn alert(&mut self, msg: impl Into<String>) {
        self.push(Diag::bare(Level::Alert, msg));
    }

    /// A warning about `loc`; does not affect validity.
    pub fn warn_at(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.push(Diag::at(Level::Warning, Head::Parsing, loc, msg));
    }

    /// A warning with no line.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.push(Diag::bare(Level::Warning, msg));
    }

    /// A notice or a diagnostic-mode message about `loc`, written `parsing [F:N]: msg`.
    pub fn note_at(&mut self, level: Level, loc: &Loc, msg: impl Into<String>) {
        self.push(Diag::at(level, Head::Tight, loc, msg));
    }

    /// The messages printed at the end of a load, in order: every one kept, except those
    /// shown only in diagnostic mode (`-dD`, not implemented).
    pub fn printed(&self) -> impl Iterator<Item = &Diag> {
        self.list.iter().filter(|d| d.level != Level::Diag)
    }

    /// True when a warning was emitted, even silenced by `quiet` (HAProxy then prints
    /// `Warnings were found.` with `-c`, unless quiet).
    pub fn has_warnings(&self) -> bool {
        self.warned
    }
}

/// An I/O error worded as `strerror()` does, without Rust's ` (os error N)` suffix, as
/// HAProxy's messages show it.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// HAProxy's `sanitize_for_printing()`: the part of `line` to show around byte `pos` in at
/// most `width` characters (`width` >= 7), blanks shown as spaces and other unprintable
/// bytes as `?`, with `...` where the line is cut on the left (then also on the right);
/// without a cut on the left the line is simply cut at `width`. Returns the text and the
/// position of `pos` in it.
pub fn sanitize_for_printing(line: &[u8], pos: usize, width: usize) -> (String, usize) {
    let mut out = String::new();
    let mut shift = 0;
    let mut i = 0;
    let mut end = width;
    if pos >= width {
        shift = pos - width / 2;
        i = shift + 3;
        end = width - 3;
        out.push_str("...");
    }
    while out.len() < end {
        let Some(&c) = line.get(i).filter(|&&c| c != 0) else {
            break;
        };
        out.push(if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            ' '
        } else if (0x20..0x7f).contains(&c) {
            c as char
        } else {
            '?'
        });
        i += 1;
    }
    if end < width {
        out.push_str("...");
    }
    (out, pos - shift)
}

/// The two lines upstream prints under a message about a position in a line: the line
/// (sanitized to `width` characters, after `prefix`), and a `^` under the position, each
/// indented by two spaces: `"\n  PREFIXLINE\n  ....^"`.
pub fn show_position(line: &[u8], pos: usize, width: usize, prefix: &str) -> String {
    let (text, at) = sanitize_for_printing(line, pos, width);
    format!(
        "\n  {prefix}{text}\n  {:>w$}",
        "^",
        w = at + prefix.len() + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Loc {
        Loc {
            file: "f.cfg".into(),
            line: 11,
        }
    }

    #[test]
    fn heads_as_upstream_writes_them() {
        let d = |h| Diag::at(Level::Alert, h, &loc(), "m.").render(7);
        assert_eq!(
            d(Head::Parsing),
            "[ALERT]    (7) : config : parsing [f.cfg:11] : m."
        );
        assert_eq!(
            d(Head::Tight),
            "[ALERT]    (7) : config : parsing [f.cfg:11]: m."
        );
        assert_eq!(
            d(Head::Capital),
            "[ALERT]    (7) : config : Parsing [f.cfg:11]: m."
        );
        assert_eq!(
            d(Head::Context),
            "[ALERT]    (7) : config : [f.cfg:11] : m."
        );
        assert_eq!(
            Diag::bare(Level::Warning, "w.").render(7),
            "[WARNING]  (7) : config : w."
        );
    }

    #[test]
    fn alerts_are_fatal_warnings_are_not() {
        let mut d = Diags::default();
        d.warn_at(&loc(), "w");
        d.note_at(Level::Notice, &loc(), "n");
        assert!(!d.fatal && d.has_warnings());
        d.alert_tight(&loc(), "a");
        assert!(d.fatal);
        assert_eq!(d.fatal_count, 1);
    }

    #[test]
    fn sanitize_like_upstream() {
        // short line: kept, blanks become spaces, unprintables '?'
        assert_eq!(
            sanitize_for_printing(b"a\tb\x01c", 2, 80),
            ("a b?c".to_string(), 2)
        );
        // long line, position within the width: cut at the width, no dots
        let long = vec![b'x'; 100];
        let (t, p) = sanitize_for_printing(&long, 10, 80);
        assert_eq!((t.len(), p), (80, 10));
        // position past the width: centred, dots on both sides
        let line: Vec<u8> = (0..200).map(|i| b'a' + (i % 26) as u8).collect();
        let (t, p) = sanitize_for_printing(&line, 150, 80);
        assert_eq!(p, 40);
        assert!(t.starts_with("...") && t.ends_with("..."));
        assert_eq!(t.len(), 80);
        // the character shown at the returned position is the one at `pos`
        assert_eq!(t.as_bytes()[p], line[150]);
        assert_eq!(show_position(b"abc \"d", 4, 80, ""), "\n  abc \"d\n      ^");
        assert_eq!(show_position(b"(1", 0, 76, ".if "), "\n  .if (1\n      ^");
    }
}
