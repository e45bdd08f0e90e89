//! Diagnostics: alerts, warnings and notices worded and laid out as HAProxy prints them.
//!
//! Owns the message list produced while reading a configuration. Rendering needs the pid
//! (HAProxy prints `[ALERT]    (pid) : config : ...`); nothing here writes to a stream.

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

/// One message. `loc` is set for messages about a given line (rendered as
/// `parsing [file:line] : msg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub level: Level,
    pub loc: Option<Loc>,
    pub msg: String,
}

impl Diag {
    /// Renders the message as HAProxy writes it on stderr, multi-line messages included.
    pub fn render(&self, pid: u32) -> String {
        let head = format!("{:<11}({}) : config : ", self.level.label(), pid);
        match &self.loc {
            Some(loc) => format!("{head}parsing [{loc}] : {}", self.msg),
            None => format!("{head}{}", self.msg),
        }
    }
}

/// The messages of one configuration load, plus HAProxy's error-code bits.
#[derive(Clone, Debug, Default)]
pub struct Diags {
    pub list: Vec<Diag>,
    /// `ERR_FATAL`: the configuration must not start.
    pub fatal: bool,
    /// Number of fatal errors met while reading (HAProxy stops reading a file after 50).
    pub fatal_count: usize,
    /// `ERR_ABORT`: reading stopped at once; HAProxy then skips its final summary alert.
    pub aborted: bool,
}

impl Diags {
    /// An alert about `loc`; `fatal` also marks the configuration unusable.
    pub fn alert_at(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            loc: Some(loc.clone()),
            msg: msg.into(),
        });
        self.fatal = true;
        self.fatal_count += 1;
    }

    /// An alert with no line (post-parse checks); marks the configuration unusable.
    pub fn alert(&mut self, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Alert,
            loc: None,
            msg: msg.into(),
        });
        self.fatal = true;
    }

    /// A warning about `loc`; does not affect validity.
    pub fn warn_at(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Warning,
            loc: Some(loc.clone()),
            msg: msg.into(),
        });
    }

    /// A warning with no line.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.list.push(Diag {
            level: Level::Warning,
            loc: None,
            msg: msg.into(),
        });
    }

    /// A notice or a diagnostic-mode message about `loc`.
    pub fn note_at(&mut self, level: Level, loc: &Loc, msg: impl Into<String>) {
        self.list.push(Diag {
            level,
            loc: Some(loc.clone()),
            msg: msg.into(),
        });
    }

    /// True when a warning was emitted (HAProxy then prints `Warnings were found.` with `-c`).
    pub fn has_warnings(&self) -> bool {
        self.list.iter().any(|d| d.level == Level::Warning)
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
