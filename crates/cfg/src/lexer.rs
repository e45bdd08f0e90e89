//! The word lexer: HAProxy's `parse_line()` (src/tools.c) for one configuration line.
//!
//! Owns nothing but the rules for turning one line of text into words: quoting, escapes,
//! comments and environment expansion. It touches no global state except reading the process
//! environment through the [`Env`] callback, so it is usable for config lines, for `-cc`
//! arguments and for the CLI.
//!
//! Rules (HAProxy 2.6):
//! - a run of unquoted blanks separates words; `#` outside quotes starts a comment
//!   (only with [`Opts::sharp`]);
//! - `"..."` groups and enables `$VAR` / `${VAR}` / `${VAR-default}` / `${VAR[*]}` expansion;
//!   `'...'` groups and disables every interpretation;
//! - outside single quotes `\\`, `\<space>`, `\t`, `\n`, `\r`, `\#`, `\'`, `\"`, `\$` (in double
//!   quotes) and `\xHH` are escapes; any other backslash is kept verbatim (regexes, `\1`);
//! - an unset variable expands to nothing; `${.LINE}`, `${.FILE}`, `${.SECTION}` are
//!   pseudo-variables provided by the caller.
//!
//! The output keeps HAProxy's buffer shape (words separated by NUL) because `.if` and `-cc`
//! re-merge the words with single spaces, which is observable in conditions.

/// Which interpretations [`parse_line`] performs (HAProxy's `PARSE_OPT_*`).
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    /// `#` starts a comment (`PARSE_OPT_SHARP`).
    pub sharp: bool,
    /// `$VAR` expansion inside double quotes (`PARSE_OPT_ENV`).
    pub env: bool,
    /// `${VAR[*]}` splits the value into words (`PARSE_OPT_WORD_EXPAND`).
    pub word_expand: bool,
}

impl Opts {
    /// The options used for configuration lines.
    pub const CONFIG: Opts = Opts {
        sharp: true,
        env: true,
        word_expand: true,
    };
    /// The options used for the `-cc` argument (no comments, no word expansion).
    pub const COND: Opts = Opts {
        sharp: false,
        env: true,
        word_expand: false,
    };
}

/// Maximum number of words on a line (`MAX_LINE_ARGS`).
pub const MAX_LINE_ARGS: usize = 64;

/// Why a line could not be split; `pos` is the byte offset of the offending character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexError {
    /// A quote is never closed (`PARSE_ERR_QUOTE`).
    Quote { pos: usize },
    /// `${` without its closing brace (`PARSE_ERR_BRACE`).
    Brace { pos: usize },
    /// `$` followed by a character that cannot start a variable name (`PARSE_ERR_VARNAME`).
    VarName { pos: usize },
    /// `\x` not followed by two hex digits (`PARSE_ERR_HEX`).
    Hex { pos: usize },
    /// `${VAR[` not followed by `*]` (`PARSE_ERR_WRONG_EXPAND`).
    WrongExpand { pos: usize },
    /// More than [`MAX_LINE_ARGS`] words (`PARSE_ERR_TOOMANY`): `pos` is the offset of the
    /// last word kept (the [`MAX_LINE_ARGS`]-th) in the output (words separated by one NUL
    /// each), `word` that word.
    TooMany { pos: usize, word: Vec<u8> },
}

impl LexError {
    /// The HAProxy alert text for this error (without the `parsing [file:line]: ` prefix).
    pub fn describe(&self) -> String {
        match self {
            LexError::Quote { pos } => format!("unmatched quote at position {}", pos + 1),
            LexError::Brace { pos } => {
                format!(
                    "unmatched brace in environment variable name at position {}",
                    pos + 1
                )
            }
            LexError::VarName { pos } => {
                format!(
                    "forbidden first char in environment variable name at position {}",
                    pos + 1
                )
            }
            LexError::Hex { pos } => {
                format!(
                    "truncated or invalid hexadecimal sequence at position {}",
                    pos + 1
                )
            }
            LexError::WrongExpand { pos } => {
                format!(
                    "truncated or invalid word expansion sequence at position {}",
                    pos + 1
                )
            }
            LexError::TooMany { pos, word } => format!(
                "too many words, truncating after word {MAX_LINE_ARGS}, position {}: <{}>",
                pos + 1,
                String::from_utf8_lossy(word)
            ),
        }
    }
}

/// Environment lookups for the lexer: real variables and `.LINE`/`.FILE`/`.SECTION`.
pub trait Env {
    /// The value of `name`, `None` when unset. `name` may start with `.` for pseudo-variables.
    fn get(&self, name: &str) -> Option<String>;
}

/// One line split into words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// All words as HAProxy lays them out: each followed by a NUL byte.
    out: Vec<u8>,
    /// Start offsets of each word in `out`.
    starts: Vec<usize>,
}

impl Line {
    /// Number of words.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the line holds no word (blank or comment).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Word `i` as raw bytes; an index past the end gives an empty word, as HAProxy's
    /// trailing `args[]` all point to the final NUL.
    pub fn word_bytes(&self, i: usize) -> &[u8] {
        match self.starts.get(i) {
            Some(&s) => {
                let e = self.out[s..]
                    .iter()
                    .position(|&b| b == 0)
                    .map_or(self.out.len(), |p| s + p);
                &self.out[s..e]
            }
            None => &[],
        }
    }

    /// Word `i` as text (invalid UTF-8 replaced); empty past the end.
    pub fn word(&self, i: usize) -> String {
        String::from_utf8_lossy(self.word_bytes(i)).into_owned()
    }

    /// All words as text, in order.
    pub fn words(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.word(i)).collect()
    }

    /// Index of the first empty word, if any. HAProxy warns that an empty word ends the
    /// argument list, and its keyword parsers stop there.
    pub fn first_empty(&self) -> Option<usize> {
        (0..self.len()).find(|&i| self.word_bytes(i).is_empty())
    }

    /// The words from `from` on, re-merged with one space each, exactly as `.if` and `-cc`
    /// rebuild their expression (every separator but the final one becomes a space).
    pub fn merged_from(&self, from: usize) -> String {
        let Some(&start) = self.starts.get(from) else {
            return String::new();
        };
        let end = self.out.len().saturating_sub(1);
        let bytes: Vec<u8> = self.out[start..end.max(start)]
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits `input` into words following HAProxy's `parse_line()`.
///
/// `input` is one line without its trailing newline (a `\n` or `\r` also ends it). Leading
/// blanks are *not* skipped: the config reader skips them itself, while `-cc` keeps them (a
/// leading blank yields an empty first word, which matters for condition parsing).
///
/// # Errors
/// The first [`LexError`] met; the caller reports it as an alert for this line.
pub fn parse_line(input: &[u8], opts: Opts, env: &dyn Env) -> Result<Line, LexError> {
    let mut out: Vec<u8> = Vec::with_capacity(input.len() + 8);
    let mut starts = vec![0usize];
    let mut squote = false;
    let mut dquote = false;
    let mut quote_pos = 0usize;
    let mut i = 0usize;
    let at = |i: usize| -> u8 { input.get(i).copied().unwrap_or(0) };

    loop {
        let c = at(i);
        let comment = c == b'#' && opts.sharp && !squote && !dquote;
        if c == 0 || c == b'\n' || c == b'\r' || comment {
            break;
        } else if c == b'"' && !squote {
            dquote = !dquote;
            quote_pos = i;
            i += 1;
        } else if c == b'\'' && !dquote {
            squote = !squote;
            quote_pos = i;
            i += 1;
        } else if c == b'\\' && !squote {
            let mut send = c;
            match at(i + 1) {
                b' ' | b'\\' => {
                    send = at(i + 1);
                    i += 1;
                }
                b't' => {
                    send = b'\t';
                    i += 1;
                }
                b'n' => {
                    send = b'\n';
                    i += 1;
                }
                b'r' => {
                    send = b'\r';
                    i += 1;
                }
                b'#' => {
                    if opts.sharp {
                        i += 1;
                    }
                    send = at(i);
                }
                b'\'' | b'"' => {
                    i += 1;
                    send = at(i);
                }
                b'$' => {
                    if opts.env && dquote {
                        i += 1;
                    }
                    send = at(i);
                }
                b'x' => match (hex_val(at(i + 2)), hex_val(at(i + 3))) {
                    (Some(h), Some(l)) => {
                        send = h * 16 + l;
                        i += 3;
                    }
                    _ => return Err(LexError::Hex { pos: i }),
                },
                _ => {}
            }
            i += 1;
            out.push(send);
        } else if is_space(c) && !squote && !dquote {
            while is_space(at(i)) {
                i += 1;
            }
            out.push(0);
            starts.push(out.len());
        } else if c == b'$' && opts.env && dquote {
            i += 1;
            let mut brace = None;
            if at(i) == b'{' {
                brace = Some(i);
                i += 1;
            }
            let first = at(i);
            if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
                return Err(LexError::VarName { pos: i });
            }
            let name_start = i;
            if first == b'.' {
                i += 1;
            }
            while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
                i += 1;
            }
            let name = String::from_utf8_lossy(&input[name_start..i]).into_owned();
            let mut value = env.get(&name);
            if name.starts_with('.') && value.is_none() {
                return Err(LexError::VarName { pos: name_start });
            }
            let mut expand = false;
            if at(i) == b'[' && brace.is_some() && opts.word_expand {
                let p = i;
                if at(i + 1) != b'*' || at(i + 2) != b']' {
                    return Err(LexError::WrongExpand { pos: p });
                }
                i += 3;
                expand = true;
            }
            if let Some(bpos) = brace {
                if at(i) == b'-' {
                    let dstart = i + 1;
                    while at(i) != 0 && at(i) != b'}' {
                        i += 1;
                    }
                    if at(i) == 0 {
                        return Err(LexError::Brace { pos: bpos });
                    }
                    if value.is_none() {
                        value = Some(String::from_utf8_lossy(&input[dstart..i]).into_owned());
                    }
                } else if at(i) != b'}' {
                    return Err(LexError::Brace { pos: bpos });
                }
                i += 1;
            }
            if let Some(v) = value {
                let vb = v.as_bytes();
                let mut k = 0;
                while k < vb.len() {
                    if expand && is_space(vb[k]) {
                        out.push(0);
                        starts.push(out.len());
                        while k < vb.len() && is_space(vb[k]) {
                            k += 1;
                        }
                    } else {
                        out.push(vb[k]);
                        k += 1;
                    }
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.push(0);
    if starts.len() > MAX_LINE_ARGS {
        let pos = starts[MAX_LINE_ARGS - 1];
        let end = out[pos..]
            .iter()
            .position(|&b| b == 0)
            .map_or(out.len(), |e| pos + e);
        return Err(LexError::TooMany {
            pos,
            word: out[pos..end].to_vec(),
        });
    }
    // The last word is counted only when it is not empty (blanks or an empty quoted string
    // at the end of the line add no word).
    if starts.last() == Some(&(out.len() - 1)) {
        starts.pop();
    }
    if squote || dquote {
        return Err(LexError::Quote { pos: quote_pos });
    }
    Ok(Line { out, starts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|s| s.to_string())
        }
    }

    fn env() -> MapEnv {
        MapEnv(HashMap::from([
            ("A", "alpha"),
            ("L", "x  y z"),
            ("T", "a "),
            (".LINE", "7"),
        ]))
    }

    fn words(s: &str) -> Vec<String> {
        parse_line(s.as_bytes(), Opts::CONFIG, &env())
            .unwrap()
            .words()
    }

    #[test]
    fn splits_and_collapses_blanks() {
        assert_eq!(words("bind  :80\t name  x  "), ["bind", ":80", "name", "x"]);
        assert!(words("").is_empty());
        assert!(words("# only a comment").is_empty());
        assert_eq!(words("a # b"), ["a"]);
    }

    /// haproxy 2.6.12's answers for the same lines (through `-cc`).
    #[test]
    fn escapes_expansion_and_word_limit_as_upstream() {
        // `\$` escapes only inside double quotes
        assert_eq!(words(r"a\$A"), [r"a\$A"]);
        assert_eq!(words(r#""a\$A""#), ["a$A"]);
        // a blank ending an expanded value ends the word
        assert_eq!(words(r#""${T[*]}b""#), ["a", "b"]);
        assert_eq!(words(r#""${L[*]}""#), ["x", "y", "z"]);
        // 64 words at most; a trailing blank counts as the start of one more
        let line = |s: &str| parse_line(s.as_bytes(), Opts::COND, &env());
        let w64 = vec!["w"; MAX_LINE_ARGS].join(" ");
        assert_eq!(line(&w64).map(|l| l.len()), Ok(MAX_LINE_ARGS));
        assert!(matches!(
            line(&format!("{w64} ")),
            Err(LexError::TooMany { .. })
        ));
        assert!(matches!(
            line(&format!("{w64} w")),
            Err(LexError::TooMany { .. })
        ));
    }

    #[test]
    fn empty_lines_and_empty_words() {
        let line = |s: &str| parse_line(s.as_bytes(), Opts::CONFIG, &env()).unwrap();
        assert!(line("").is_empty() && line("# c").is_empty());
        // a leading blank makes an empty first word (the reader skips blanks itself)
        assert!(!line(" a").is_empty() && line(" a").word(0).is_empty());
        assert!(!line("a").is_empty());
        // an empty word (quoted, or an unset variable) ends the keyword's arguments
        assert_eq!(line("a '' b").first_empty(), Some(1));
        assert_eq!(line("a \"$NOPE\" b").first_empty(), Some(1));
        assert_eq!(line("'' a").first_empty(), Some(0));
        assert_eq!(line("a b").first_empty(), None);
        assert_eq!(line("a '' b").word(2), "b");
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            words(r#"a "b c" 'd $A' "$A" "${A}x""#),
            ["a", "b c", "d $A", "alpha", "alphax"]
        );
        assert_eq!(words(r#"x\ y \# \"q\" \\"#), ["x y", "#", "\"q\"", "\\"]);
        assert_eq!(words(r"re ^/a\d+\1$"), ["re", r"^/a\d+\1$"]);
        assert_eq!(words(r"h \x41\x62"), ["h", "Ab"]);
        assert_eq!(words(r#""a#b" 'c#d'"#), ["a#b", "c#d"]);
        assert_eq!(words(r#""\$A""#), ["$A"]);
        assert_eq!(words("$A"), ["$A"]);
    }

    #[test]
    fn env_forms() {
        assert_eq!(
            words(r#""${NOPE}" "${NOPE-def}" "${A-def}""#),
            ["", "def", "alpha"]
        );
        assert_eq!(words(r#"k "${L[*]}" end"#), ["k", "x", "y", "z", "end"]);
        assert_eq!(words(r#"k "${.LINE}""#), ["k", "7"]);
    }

    #[test]
    fn errors() {
        let e = |s: &str| parse_line(s.as_bytes(), Opts::CONFIG, &env()).unwrap_err();
        assert_eq!(e(r#"a "b"#), LexError::Quote { pos: 2 });
        assert_eq!(e("a 'b"), LexError::Quote { pos: 2 });
        assert_eq!(e(r#""${A""#), LexError::Brace { pos: 2 });
        assert_eq!(e(r#""$1""#), LexError::VarName { pos: 2 });
        assert_eq!(e(r"\xZ1"), LexError::Hex { pos: 0 });
        assert_eq!(e(r#""${L[x]}""#), LexError::WrongExpand { pos: 4 });
        assert_eq!(e(r#""${.NOPE}""#), LexError::VarName { pos: 3 });
        let many: Vec<String> = (1..=65).map(|i| format!("w{i}")).collect();
        let err = e(&many.join(" "));
        // the 64th word, "w64", starts after 9 words of 2 bytes and 54 of 3, each + NUL
        assert_eq!(
            err,
            LexError::TooMany {
                pos: 9 * 3 + 54 * 4,
                word: b"w64".to_vec()
            }
        );
        assert_eq!(
            err.describe(),
            "too many words, truncating after word 64, position 244: <w64>"
        );
    }

    #[test]
    fn merge_like_haproxy() {
        let l = parse_line(b".if  streq(a,  b)  ", Opts::CONFIG, &env()).unwrap();
        assert_eq!(l.merged_from(1), "streq(a, b) ");
        let l = parse_line(b"   ", Opts::COND, &env()).unwrap();
        assert_eq!(l.merged_from(0), " ");
        let l = parse_line(b"1", Opts::COND, &env()).unwrap();
        assert_eq!(l.merged_from(0), "1");
        let l = parse_line(b"", Opts::COND, &env()).unwrap();
        assert_eq!(l.merged_from(0), "");
    }
}
