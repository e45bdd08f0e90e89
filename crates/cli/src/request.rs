//! Reading CLI requests out of a connection's input (the `CLI_ST_GETREQ` half of HAProxy's
//! `cli_io_handler` and the word splitting of `cli_parse_request`).
//!
//! Owns only byte handling, no I/O and no runtime state: finding where the next command
//! ends ([`next_request`]: a `\n`, or a `;` not escaped by a backslash, with a `\r` before
//! it dropped), the payload mode of a line ending with `<<` (lines gathered until an empty
//! one, [`next_payload_line`]), and cutting a command into words ([`tokenize`]: blanks
//! separate words, a backslash keeps the next character in the word and is itself removed,
//! `\\` gives one backslash). Inputs are arbitrary bytes; nothing here panics.

/// At most this many words of a command are looked at (`MAX_CLI_ARGS`).
pub const MAX_ARGS: usize = 64;

/// The pattern that, at the end of a command line, announces a payload (`PAYLOAD_PATTERN`).
pub const PAYLOAD_PATTERN: &[u8] = b"<<";

/// One command line found at the start of an input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The command text, without its terminator (and without a `\r` before it).
    pub line: Vec<u8>,
    /// Bytes of the input it took, terminator included.
    pub used: usize,
}

/// The next command at the start of `buf` (`co_getdelim(.., "\n;", '\\')`): everything up to
/// the first `\n` or unescaped `;`. A backslash protects the character after it (also a
/// `\n`). `None` while no terminator has arrived.
pub fn next_request(buf: &[u8]) -> Option<Request> {
    let mut i = 0;
    while i < buf.len() {
        match buf[i] {
            b'\\' => i += 2,
            b'\n' | b';' => {
                let mut line = buf[..i].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(Request { line, used: i + 1 });
            }
            _ => i += 1,
        }
    }
    None
}

/// The next payload line at the start of `buf` (`co_getline`: only `\n` ends it, no escape),
/// without its `\n` and a `\r` before it. `None` while incomplete.
pub fn next_payload_line(buf: &[u8]) -> Option<Request> {
    let i = buf.iter().position(|&b| b == b'\n')?;
    let mut line = buf[..i].to_vec();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(Request { line, used: i + 1 })
}

/// True when `line` asks for a payload: it ends with `<<`.
pub fn wants_payload(line: &[u8]) -> bool {
    line.ends_with(PAYLOAD_PATTERN)
}

/// The words of command `line` (`cli_parse_request`): blanks (space, tab) separate words; a
/// backslash keeps the following character inside the word; then each backslash is
/// dropped except that `\\` yields one. A word that is exactly the rest of the line and
/// equals `<<` ends the words (it marks the payload). A NUL byte ends the line, as the C
/// string did. At most [`MAX_ARGS`] words.
pub fn tokenize(line: &[u8]) -> Vec<Vec<u8>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut words = Vec::new();
    let mut p = 0;
    while words.len() < MAX_ARGS && p < line.len() {
        while p < line.len() && blank(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            break;
        }
        if &line[p..] == PAYLOAD_PATTERN {
            break;
        }
        let start = p;
        loop {
            while p < line.len() && !blank(line[p]) && line[p] != b'\\' {
                p += 1;
            }
            if p < line.len() && line[p] == b'\\' {
                p += 2;
                if p >= line.len() {
                    p = line.len();
                    break;
                }
            } else {
                break;
            }
        }
        words.push(unescape(&line[start..p]));
        p += 1;
    }
    words
}

/// Drops each backslash of `w`, except that `\\` gives one backslash.
fn unescape(w: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(w.len());
    let mut k = 0;
    while k < w.len() {
        if w[k] == b'\\' {
            if w.get(k + 1) == Some(&b'\\') {
                k += 1;
            } else {
                k += 1;
                continue;
            }
        }
        out.push(w[k]);
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s.as_bytes())
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn requests_end_at_newline_or_semicolon() {
        assert_eq!(next_request(b"show info"), None);
        let r = next_request(b"show info\nrest").unwrap();
        assert_eq!((r.line.as_slice(), r.used), (&b"show info"[..], 10));
        let r = next_request(b"a;b\n").unwrap();
        assert_eq!((r.line.as_slice(), r.used), (&b"a"[..], 2));
        let r = next_request(b"a\r\n").unwrap();
        assert_eq!(r.line, b"a");
        let r = next_request(b";\n").unwrap();
        assert_eq!((r.line.as_slice(), r.used), (&b""[..], 1));
    }

    #[test]
    fn escaped_terminators_stay_in_the_line() {
        let r = next_request(b"set a\\;b\n").unwrap();
        assert_eq!(r.line, b"set a\\;b");
        let r = next_request(b"x\\\ny\n").unwrap();
        assert_eq!(r.line, b"x\\\ny");
        // a trailing backslash protects nothing yet
        assert_eq!(next_request(b"x\\"), None);
    }

    #[test]
    fn words_split_on_blanks_and_unescape() {
        assert_eq!(
            words("  show \t servers   conn  "),
            ["show", "servers", "conn"]
        );
        assert_eq!(words("show\\ servers conn"), ["show servers", "conn"]);
        assert_eq!(words("b\\;k"), ["b;k"]);
        assert_eq!(words("serv\\ers"), ["servers"]);
        assert_eq!(words("a\\\\b"), ["a\\b"]);
        assert_eq!(words("a\\"), ["a"]);
        assert_eq!(words("\\"), [""]);
        assert!(words("").is_empty());
        assert!(words(" \t ").is_empty());
    }

    #[test]
    fn payload_marker_ends_the_words() {
        assert_eq!(words("add map m <<"), ["add", "map", "m"]);
        assert_eq!(words("a b<<"), ["a", "b<<"]);
        assert!(wants_payload(b"a b<<"));
        assert!(!wants_payload(b"a <"));
        let r = next_payload_line(b"k v\r\nnext").unwrap();
        assert_eq!((r.line.as_slice(), r.used), (&b"k v"[..], 5));
        assert_eq!(next_payload_line(b"partial"), None);
    }

    #[test]
    fn nul_ends_the_line_and_words_are_capped() {
        assert_eq!(words("a\0b c"), ["a"]);
        let many = "w ".repeat(100);
        assert_eq!(tokenize(many.as_bytes()).len(), MAX_ARGS);
    }
}
