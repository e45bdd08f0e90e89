//! Byte classes of the HTTP/1 grammar as HAProxy's parser sees them (`http_char_classes`):
//! token characters, version-token characters, blanks, line ends, digits.
//!
//! One table lookup per byte; bytes 128..=255 belong to no class.

const TOK: u8 = 1;
const VER: u8 = 2;
const SPHT: u8 = 4;
const CRLF: u8 = 8;
const LWS: u8 = 16;
const DIG: u8 = 32;

const fn build() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut f = 0u8;
        let tok_punct = matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        );
        if b.is_ascii_alphanumeric() || tok_punct {
            f |= TOK;
        }
        if b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.' || b == b'/' {
            f |= VER;
        }
        if b == b' ' || b == b'\t' {
            f |= SPHT | LWS;
        }
        if b == b'\r' || b == b'\n' {
            f |= CRLF | LWS;
        }
        if b.is_ascii_digit() {
            f |= DIG;
        }
        t[c] = f;
        c += 1;
    }
    t
}

static CLASS: [u8; 256] = build();

/// RFC 7230 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``.
#[inline]
pub(crate) fn is_token(c: u8) -> bool {
    CLASS[c as usize] & TOK != 0
}

/// Characters allowed in an HTTP version token: upper-case letters, digits, `.` and `/`.
#[inline]
pub(crate) fn is_ver(c: u8) -> bool {
    CLASS[c as usize] & VER != 0
}

/// Space or horizontal tab.
#[inline]
pub(crate) fn is_spht(c: u8) -> bool {
    CLASS[c as usize] & SPHT != 0
}

/// CR or LF.
#[inline]
pub(crate) fn is_crlf(c: u8) -> bool {
    CLASS[c as usize] & CRLF != 0
}

/// Space, tab, CR or LF (HAProxy's `HTTP_IS_LWS`).
#[inline]
pub(crate) fn is_lws(c: u8) -> bool {
    CLASS[c as usize] & LWS != 0
}

/// ASCII digit.
#[inline]
pub(crate) fn is_digit(c: u8) -> bool {
    CLASS[c as usize] & DIG != 0
}

/// Value of a hexadecimal digit (either case), `None` for anything else.
#[inline]
pub(crate) fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Strips blanks, CR and LF (`HTTP_IS_LWS`) from both ends: how HAProxy trims each value it
/// finds in a header (`http_find_header()`).
pub fn trim_lws(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if is_lws(*first) {
            v = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = v {
        if is_lws(*last) {
            v = rest;
        } else {
            break;
        }
    }
    v
}

/// Position of the comma ending the list element starting at `from` (or `v.len()`), skipping
/// commas inside double quotes and backslash-escaped characters (`http_find_hdr_value_end`).
/// The one implementation of that rule: header fetches split values with it too.
pub fn value_end(v: &[u8], from: usize) -> usize {
    let mut quoted = false;
    let mut qdpair = false;
    let mut i = from;
    while let Some(&c) = v.get(i) {
        if qdpair {
            qdpair = false;
        } else if quoted {
            if c == b'\\' {
                qdpair = true;
            } else if c == b'"' {
                quoted = false;
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            return i;
        }
        i += 1;
    }
    v.len()
}

/// Calls `f(start, end, word)` for every comma-separated element of a header value the way
/// HAProxy walks lists: blanks before an element are skipped, trailing blanks are trimmed,
/// an element may be empty (`a,,b`), a trailing comma does not produce an empty element.
/// `end` is the position of the comma ending the element (or `v.len()`).
pub(crate) fn for_each_word(v: &[u8], mut f: impl FnMut(usize, usize, &[u8])) {
    let mut i = 0;
    while i < v.len() {
        if is_lws(v[i]) {
            i += 1;
            continue;
        }
        let n = value_end(v, i);
        let mut w = &v[i..n];
        while let [rest @ .., last] = w {
            if is_lws(*last) {
                w = rest;
            } else {
                break;
            }
        }
        f(i, n, w);
        i = n + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_token(b'!') && is_token(b'~') && is_token(b'z') && is_token(b'#'));
        assert!(!is_token(b'(') && !is_token(b':') && !is_token(b' ') && !is_token(0x80));
        assert!(is_ver(b'H') && is_ver(b'/') && is_ver(b'1') && !is_ver(b'h'));
        assert!(is_lws(b'\r') && is_lws(b'\t') && !is_spht(b'\n'));
        assert_eq!(trim_lws(b" \t a b \r\n"), b"a b");
        assert_eq!(trim_lws(b"   "), b"");
        let digits: Vec<Option<u8>> = b"09afAFgG/:@`".iter().map(|&c| hex_val(c)).collect();
        assert_eq!(
            digits,
            [
                Some(0),
                Some(9),
                Some(10),
                Some(15),
                Some(10),
                Some(15),
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn words() {
        let mut out = Vec::new();
        for_each_word(b",, a,,b\" ,x\",", |_, _, w| out.push(w.to_vec()));
        assert_eq!(
            out,
            vec![
                b"".to_vec(),
                b"".to_vec(),
                b"a".to_vec(),
                b"".to_vec(),
                b"b\" ,x\"".to_vec()
            ]
        );
    }
}
