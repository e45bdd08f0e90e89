//! Pattern matching: the `-m` methods, pattern parsing and matching (HAProxy's `pattern.c`).
//!
//! Owns [`MatchKind`] and the compiled pattern list of one ACL expression ([`Patterns`]).
//! Patterns are parsed once at configuration time with HAProxy's rules and messages (integer
//! ranges with `:` or `-` separators and the `eq/ge/gt/le/lt` operators, IPv4/IPv6 networks,
//! hex blocks, method names); matching casts the sample to the type the method expects, as
//! `pattern_exec_match()` does, and never allocates for string methods on string samples.

use crate::smp::{strl2llrc, Smp, SmpType};
use hrs_cfg::net::Net;
use hrs_http::Meth;

/// A pattern matching method (`PAT_MATCH_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The sample exists.
    Found,
    /// The sample, as an integer, is not zero.
    Bool,
    /// Integer values and ranges.
    Int,
    /// Addresses and networks.
    Ip,
    /// Hex-encoded byte strings, exact.
    Bin,
    /// Length of the sample, against integer patterns.
    Len,
    /// Exact string.
    Str,
    /// Substring.
    Sub,
    /// Regular expression (refused: no regex engine yet).
    Reg,
    /// Prefix.
    Beg,
    /// Suffix.
    End,
    /// Slash-delimited component(s).
    Dir,
    /// Dot/colon/slash/question-mark-delimited component(s).
    Dom,
    /// The `method` ACL: method class, or exact text for unknown methods.
    Meth,
}

impl MatchKind {
    /// The method named by `-m <name>`.
    pub fn from_name(s: &str) -> Option<MatchKind> {
        Some(match s {
            "found" => MatchKind::Found,
            "bool" => MatchKind::Bool,
            "int" => MatchKind::Int,
            "ip" => MatchKind::Ip,
            "bin" => MatchKind::Bin,
            "len" => MatchKind::Len,
            "str" => MatchKind::Str,
            "sub" => MatchKind::Sub,
            // `regm` (regex with captures, for maps) matches as `reg` in an ACL
            "reg" | "regm" => MatchKind::Reg,
            "beg" => MatchKind::Beg,
            "end" => MatchKind::End,
            "dir" => MatchKind::Dir,
            "dom" => MatchKind::Dom,
            _ => return None,
        })
    }

    /// The default method for a sample type (`None`: `-m` is mandatory).
    pub fn default_for(t: SmpType) -> Option<MatchKind> {
        match t {
            SmpType::Bool => Some(MatchKind::Bool),
            SmpType::Sint => Some(MatchKind::Int),
            SmpType::Addr | SmpType::Ipv4 | SmpType::Ipv6 => Some(MatchKind::Ip),
            SmpType::Str => Some(MatchKind::Str),
            SmpType::Meth => Some(MatchKind::Meth),
            SmpType::Bin | SmpType::Any => None,
        }
    }

    /// The type a sample is cast to before matching (`pat_match_types[]`).
    pub fn expect_type(self) -> SmpType {
        match self {
            MatchKind::Found | MatchKind::Bool | MatchKind::Int => SmpType::Sint,
            MatchKind::Ip => SmpType::Addr,
            MatchKind::Bin => SmpType::Bin,
            MatchKind::Meth => SmpType::Meth,
            _ => SmpType::Str,
        }
    }

    /// True when patterns are integers (so `eq/ge/gt/le/lt` operators apply).
    pub fn int_patterns(self) -> bool {
        matches!(self, MatchKind::Int | MatchKind::Len)
    }
}

/// One parsed pattern.
#[derive(Clone, Debug)]
enum Pat {
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Bytes(Box<[u8]>),
    Ip(Net),
    Meth(Meth, Box<[u8]>),
    /// A compiled regular expression (`-m reg`).
    Reg(Re),
    /// Methods that take no pattern (`found`, `bool`).
    Nothing,
}

/// A compiled regular expression.
#[derive(Clone, Debug)]
struct Re(regex::bytes::Regex);

/// The compiled patterns of one ACL expression.
#[derive(Clone, Debug)]
pub struct Patterns {
    kind: MatchKind,
    icase: bool,
    pats: Vec<Pat>,
}

/// Comparison operators of integer patterns (`get_std_op()`): they apply to the integer
/// patterns that follow them on the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Equal (the default).
    Eq,
    /// Greater than or equal.
    Ge,
    /// Greater than.
    Gt,
    /// Less than or equal.
    Le,
    /// Less than.
    Lt,
}

impl Op {
    /// The operator a word names (`eq ge gt le lt`).
    pub fn from_word(w: &str) -> Option<Op> {
        Some(match w {
            "eq" => Op::Eq,
            "ge" => Op::Ge,
            "gt" => Op::Gt,
            "le" => Op::Le,
            "lt" => Op::Lt,
            _ => return None,
        })
    }
}

/// `pat_parse_int()`: `n`, `a:b`, `:b`, `a:` (the separator may also be `-`).
fn parse_int_pat(text: &str) -> Result<Pat, String> {
    let range_err = || format!("'{text}' is not a valid number range");
    if text.is_empty() {
        return Err(range_err());
    }
    let Some(sep) = text.find([':', '-']) else {
        let v = strl2llrc(text).ok_or_else(|| format!("'{text}' is not a number"))?;
        return Ok(Pat::Int {
            min: Some(v),
            max: Some(v),
        });
    };
    let (a, b) = (&text[..sep], &text[sep + 1..]);
    if sep == 0 && !b.is_empty() {
        let max = strl2llrc(b).ok_or_else(range_err)?;
        return Ok(Pat::Int {
            min: None,
            max: Some(max),
        });
    }
    if b.is_empty() {
        let min = strl2llrc(a).ok_or_else(range_err)?;
        return Ok(Pat::Int {
            min: Some(min),
            max: None,
        });
    }
    let min = strl2llrc(a).ok_or_else(range_err)?;
    let max = strl2llrc(b).ok_or_else(range_err)?;
    if min > max {
        return Err(range_err());
    }
    Ok(Pat::Int {
        min: Some(min),
        max: Some(max),
    })
}

/// `pat_parse_ip()`: an IPv4 address or network (`/bits` or dotted mask), a host name that
/// resolves to IPv4 (unless `-n`), or an IPv6 address or network (`/bits`); read by
/// `hrs_cfg::net`, the parser `option forwardfor except` uses too.
fn parse_ip_pat(text: &str, no_dns: bool) -> Result<Pat, String> {
    Net::parse(text, !no_dns)
        .map(Pat::Ip)
        .ok_or_else(|| format!("'{text}' is not a valid IPv4 or IPv6 address"))
}

fn parse_hex(text: &str) -> Result<Pat, String> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err("an even number of hex digit is expected".into());
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        let h = (pair[0] as char).to_digit(16);
        let l = (pair[1] as char).to_digit(16);
        match (h, l) {
            (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
            _ => return Err(format!("'{text}' is not a valid hex string")),
        }
    }
    Ok(Pat::Bytes(out.into()))
}

/// `match_word()`: `pat` (without its leading/trailing delimiters) found in `s` bounded by
/// delimiters or the ends of `s`.
fn match_word(s: &[u8], pat: &[u8], icase: bool, delim: fn(u8) -> bool) -> bool {
    let mut p = pat;
    while let [c, rest @ ..] = p {
        if !delim(*c) {
            break;
        }
        p = rest;
    }
    while let [rest @ .., c] = p {
        if !delim(*c) {
            break;
        }
        p = rest;
    }
    if p.len() > s.len() {
        return false;
    }
    if p.is_empty() {
        return s.is_empty();
    }
    let eq = |a: &[u8], b: &[u8]| {
        if icase {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let end = s.len() - p.len();
    let mut may_match = true;
    for i in 0..=end {
        if delim(s[i]) {
            may_match = true;
            continue;
        }
        if !may_match {
            continue;
        }
        if eq(&s[i..i + p.len()], p) && (i == end || delim(s[i + p.len()])) {
            return true;
        }
        may_match = false;
    }
    false
}

/// `-m dir` delimiters (`make_4delim('/', '?', '?', '?')`): a query string ends a segment.
fn is_slash(c: u8) -> bool {
    matches!(c, b'/' | b'?')
}

fn is_dom_delim(c: u8) -> bool {
    matches!(c, b'/' | b'?' | b'.' | b':')
}

fn find_sub(hay: &[u8], needle: &[u8], icase: bool) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.len() > hay.len() {
        return false;
    }
    hay.windows(needle.len()).any(|w| {
        if icase {
            w.eq_ignore_ascii_case(needle)
        } else {
            w == needle
        }
    })
}

impl Patterns {
    /// An empty pattern list for method `kind`; `icase` is the `-i` flag.
    pub fn new(kind: MatchKind, icase: bool) -> Patterns {
        Patterns {
            kind,
            icase,
            pats: Vec::new(),
        }
    }

    /// Parses and adds one pattern word. `op` is the integer operator in force (integer
    /// methods only); `no_dns` is the `-n` flag.
    ///
    /// # Errors
    /// HAProxy's messages: `'x' is not a number`, `'x' is not a valid number range`, `'x' is
    /// neither a number nor a supported operator`, `'x' is not a valid IPv4 or IPv6 address`,
    /// `an even number of hex digit is expected`, or the regex refusal.
    pub fn add(&mut self, word: &str, op: Op, no_dns: bool) -> Result<(), String> {
        let p = match self.kind {
            MatchKind::Found | MatchKind::Bool => Pat::Nothing,
            MatchKind::Int | MatchKind::Len => {
                if op == Op::Eq || word.contains([':', '-']) {
                    parse_int_pat(word)?
                } else {
                    // acl.c's compatibility layer: the value (up to a '.') and the operator
                    // are rewritten as a range, then parsed as one
                    let v = strl2llrc(&word[..word.find('.').unwrap_or(word.len())]).ok_or_else(
                        || format!("'{word}' is neither a number nor a supported operator"),
                    )?;
                    let range = match op {
                        Op::Gt => format!("{}:", v.wrapping_add(1)),
                        Op::Ge => format!("{v}:"),
                        Op::Lt => format!(":{}", v.wrapping_sub(1)),
                        Op::Le | Op::Eq => format!(":{v}"),
                    };
                    parse_int_pat(&range)?
                }
            }
            MatchKind::Ip => parse_ip_pat(word, no_dns)?,
            MatchKind::Bin => parse_hex(word)?,
            MatchKind::Reg => {
                let re = regex::bytes::RegexBuilder::new(word)
                    .case_insensitive(self.icase)
                    .unicode(false)
                    .build()
                    .map_err(|e| format!("regex '{word}' is invalid: {e}"))?;
                Pat::Reg(Re(re))
            }
            MatchKind::Meth => Pat::Meth(Meth::from_bytes(word.as_bytes()), word.as_bytes().into()),
            _ => Pat::Bytes(word.as_bytes().into()),
        };
        self.pats.push(p);
        Ok(())
    }

    /// Matches one sample: true when any pattern matches (methods without patterns look at
    /// the sample alone). A sample that cannot be cast to the method's type never matches.
    pub fn matches(&self, smp: &Smp<'_>) -> bool {
        let icase = self.icase;
        match self.kind {
            MatchKind::Found => true,
            MatchKind::Bool => smp.to_sint().is_some_and(|v| v != 0),
            MatchKind::Int => {
                let Some(v) = smp.to_sint() else { return false };
                self.int_match(v)
            }
            MatchKind::Len => {
                let s = smp.to_bytes();
                self.int_match(s.len() as i64)
            }
            MatchKind::Ip => {
                let Some(a) = smp.to_ip() else { return false };
                self.pats
                    .iter()
                    .any(|p| matches!(p, Pat::Ip(n) if n.pat_match_ip(a)))
            }
            MatchKind::Bin => {
                let bin;
                let s: &[u8] = match smp {
                    Smp::Str(s) | Smp::Bin(s) => s,
                    _ => {
                        bin = smp.clone().into_bin();
                        bin.bytes().unwrap_or_default()
                    }
                };
                self.pats
                    .iter()
                    .any(|p| matches!(p, Pat::Bytes(b) if **b == *s))
            }
            MatchKind::Meth => {
                let Some(s) = smp.bytes() else { return false };
                let m = Meth::from_bytes(s);
                self.pats.iter().any(|p| match p {
                    Pat::Meth(pm, _) if *pm != Meth::Other => *pm == m,
                    Pat::Meth(_, txt) => {
                        m == Meth::Other
                            && if icase {
                                txt.eq_ignore_ascii_case(s)
                            } else {
                                **txt == *s
                            }
                    }
                    _ => false,
                })
            }
            MatchKind::Reg => {
                let s = smp.to_bytes();
                self.pats
                    .iter()
                    .any(|p| matches!(p, Pat::Reg(r) if r.0.is_match(&s)))
            }
            kind => {
                let s = smp.to_bytes();
                let s: &[u8] = &s;
                self.pats.iter().any(|p| {
                    let Pat::Bytes(b) = p else { return false };
                    let b: &[u8] = b;
                    let eq = |x: &[u8], y: &[u8]| {
                        if icase {
                            x.eq_ignore_ascii_case(y)
                        } else {
                            x == y
                        }
                    };
                    match kind {
                        MatchKind::Str => eq(s, b),
                        MatchKind::Beg => s.len() >= b.len() && eq(&s[..b.len()], b),
                        MatchKind::End => s.len() >= b.len() && eq(&s[s.len() - b.len()..], b),
                        MatchKind::Sub => find_sub(s, b, icase),
                        MatchKind::Dir => match_word(s, b, icase, is_slash),
                        MatchKind::Dom => match_word(s, b, icase, is_dom_delim),
                        _ => false,
                    }
                })
            }
        }
    }

    fn int_match(&self, v: i64) -> bool {
        self.pats.iter().any(|p| match p {
            Pat::Int { min, max } => min.is_none_or(|m| m <= v) && max.is_none_or(|m| v <= m),
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(kind: MatchKind, icase: bool, words: &[&str]) -> Patterns {
        let mut p = Patterns::new(kind, icase);
        let mut op = Op::Eq;
        for w in words {
            if kind.int_patterns() {
                if let Some(o) = Op::from_word(w) {
                    op = o;
                    continue;
                }
            }
            p.add(w, op, true).unwrap();
        }
        p
    }

    fn m(p: &Patterns, s: &str) -> bool {
        p.matches(&Smp::str(s.as_bytes()))
    }

    #[test]
    fn strings() {
        let p = pats(MatchKind::Str, false, &["a", "B"]);
        assert!(m(&p, "a") && m(&p, "B") && !m(&p, "b") && !m(&p, "ab"));
        let p = pats(MatchKind::Str, true, &["A"]);
        assert!(m(&p, "a"));
        let p = pats(MatchKind::Beg, false, &["/st"]);
        assert!(m(&p, "/static") && !m(&p, "/s"));
        let p = pats(MatchKind::End, true, &[".JPG"]);
        assert!(m(&p, "x.jpg") && !m(&p, "jpg"));
        let p = pats(MatchKind::Sub, false, &[","]);
        assert!(m(&p, "a,b") && !m(&p, "ab"));
        assert!(m(&pats(MatchKind::Sub, false, &[""]), "x"));
    }

    #[test]
    fn dir_and_dom() {
        let p = pats(MatchKind::Dir, false, &["/images/png"]);
        assert!(m(&p, "/images/png/logo/32x32.png"));
        for (pat, ok) in [
            ("/images", true),
            ("images/png", true),
            ("/png/logo", true),
            ("logo/32x32.png", true),
            ("32x32.png", true),
            // the documentation says "png" does not match; haproxy 2.6 matches it
            ("png", true),
            ("32x32", false),
            ("/", false),
        ] {
            let p = pats(MatchKind::Dir, false, &[pat]);
            assert_eq!(m(&p, "/images/png/logo/32x32.png"), ok, "{pat}");
        }
        let url = "http://www1.dc-eu.example.com:80/blah";
        for (pat, ok) in [
            ("http", true),
            ("www1", true),
            (".www1", true),
            ("dc-eu", true),
            ("example", true),
            ("com", true),
            ("80", true),
            ("dc-eu.example", true),
            ("blah", true),
            (":www1:", true),
            // documented as matching; haproxy 2.6 does not match it (verified)
            ("dc-eu.example:80", false),
            ("eu", false),
            ("dc", false),
        ] {
            let p = pats(MatchKind::Dom, false, &[pat]);
            assert_eq!(m(&p, url), ok, "{pat}");
        }
        assert!(m(&pats(MatchKind::Dom, true, &["EXAMPLE"]), url));
    }

    #[test]
    fn integers() {
        let p = pats(MatchKind::Int, false, &["5:7"]);
        assert!(p.matches(&Smp::Sint(6)) && !p.matches(&Smp::Sint(8)));
        let p = pats(MatchKind::Int, false, &["lt", "3", "10"]);
        assert!(p.matches(&Smp::Sint(6)) && !p.matches(&Smp::Sint(10)));
        let p = pats(MatchKind::Int, false, &["ge", "7"]);
        assert!(!p.matches(&Smp::Sint(6)) && p.matches(&Smp::Sint(7)));
        let p = pats(MatchKind::Int, false, &["gt", "7"]);
        assert!(!p.matches(&Smp::Sint(7)) && p.matches(&Smp::Sint(8)));
        let p = pats(MatchKind::Int, false, &["le", "7"]);
        assert!(p.matches(&Smp::Sint(7)) && !p.matches(&Smp::Sint(8)));
        let p = pats(MatchKind::Int, false, &[":6"]);
        assert!(p.matches(&Smp::Sint(-100)) && !p.matches(&Smp::Sint(7)));
        let p = pats(MatchKind::Int, false, &["1:"]);
        assert!(p.matches(&Smp::Sint(100)) && !p.matches(&Smp::Sint(0)));
        // a leading '-' is a range separator, as upstream: "-5" is ":5"
        let p = pats(MatchKind::Int, false, &["-5"]);
        assert!(p.matches(&Smp::Sint(4)) && !p.matches(&Smp::Sint(6)));
        let p = pats(MatchKind::Int, false, &["lt", "0"]);
        assert!(p.matches(&Smp::str(b"-5")) && !p.matches(&Smp::str(b"0")));
        assert!(pats(MatchKind::Int, false, &["0"]).matches(&Smp::str(b"abc")));
        assert!(!pats(MatchKind::Int, false, &["0"]).matches(&Smp::str(b"")));
        let p = pats(MatchKind::Len, false, &["gt", "3"]);
        assert!(m(&p, "abcd") && !m(&p, "abc"));
        assert!(pats(MatchKind::Len, false, &["1"]).matches(&Smp::Sint(5)));
        let e = |w: &str, op: Op| {
            Patterns::new(MatchKind::Int, false)
                .add(w, op, true)
                .unwrap_err()
        };
        assert_eq!(e("x", Op::Eq), "'x' is not a number");
        assert_eq!(e("12a", Op::Eq), "'12a' is not a number");
        assert_eq!(e("1:2:3", Op::Eq), "'1:2:3' is not a valid number range");
        assert_eq!(e("5:2", Op::Eq), "'5:2' is not a valid number range");
        assert_eq!(e(":", Op::Eq), "':' is not a valid number range");
        assert_eq!(e("-3:20", Op::Eq), "'-3:20' is not a valid number range");
        assert_eq!(
            e("abc", Op::Lt),
            "'abc' is neither a number nor a supported operator"
        );
        // strl2llrc(): no '+', no overflow, '-' alone is 0 (haproxy 2.6.12)
        assert_eq!(e("+5", Op::Eq), "'+5' is not a number");
        assert_eq!(
            e("99999999999999999999", Op::Eq),
            "'99999999999999999999' is not a number"
        );
        assert_eq!(
            e("+6", Op::Lt),
            "'+6' is neither a number nor a supported operator"
        );
        assert_eq!(e("1:-", Op::Eq), "'1:-' is not a valid number range");
        let p = pats(MatchKind::Int, false, &[":-"]);
        assert!(p.matches(&Smp::Sint(0)) && !p.matches(&Smp::Sint(1)));
        let p = pats(MatchKind::Int, false, &[":-5"]);
        assert!(p.matches(&Smp::Sint(-5)) && !p.matches(&Smp::Sint(-4)));
        let p = pats(MatchKind::Int, false, &["9223372036854775807"]);
        assert!(p.matches(&Smp::Sint(i64::MAX)));
        let p = pats(MatchKind::Int, false, &["5:5"]);
        assert!(p.matches(&Smp::Sint(5)) && !p.matches(&Smp::Sint(4)));
        // with an operator the value stops at a '.'; the operator makes a range
        let p = pats(MatchKind::Int, false, &["lt", "5.9"]);
        assert!(p.matches(&Smp::Sint(4)) && !p.matches(&Smp::Sint(5)));
        let p = pats(MatchKind::Len, false, &["lt", "3.x"]);
        assert!(m(&p, "ab") && !m(&p, "abc"));
        assert_eq!(
            e(".5", Op::Lt),
            "'.5' is neither a number nor a supported operator"
        );
        // "gt" on the largest value overflows into a range upstream refuses
        assert_eq!(
            e("9223372036854775807", Op::Gt),
            "'-9223372036854775808:' is not a valid number range"
        );
        let p = pats(MatchKind::Int, false, &["gt", "9223372036854775806"]);
        assert!(p.matches(&Smp::Sint(i64::MAX)) && !p.matches(&Smp::Sint(0)));
    }

    #[test]
    fn bools_and_found() {
        let p = pats(MatchKind::Bool, false, &["ignored"]);
        assert!(p.matches(&Smp::Bool(true)) && !p.matches(&Smp::Bool(false)));
        assert!(p.matches(&Smp::Sint(3)) && !p.matches(&Smp::Sint(0)));
        let p = pats(MatchKind::Found, false, &[]);
        assert!(p.matches(&Smp::str(b"")));
    }

    #[test]
    fn addresses() {
        let ip = |s: &str| Smp::Ip(s.parse().unwrap());
        let p = pats(MatchKind::Ip, false, &["127.0.0.0/8"]);
        assert!(p.matches(&ip("127.5.0.1")) && !p.matches(&ip("10.0.0.1")));
        assert!(p.matches(&ip("::ffff:127.0.0.1")));
        assert!(p.matches(&ip("::127.0.0.1")));
        assert!(p.matches(&ip("2002:7f00:1::")));
        assert!(!p.matches(&ip("::1")));
        // short and octal forms are gethostbyname()'s, so only without `-n` (haproxy 2.6.12)
        let dns = |w: &str| {
            let mut p = Patterns::new(MatchKind::Ip, false);
            p.add(w, Op::Eq, false).unwrap();
            p
        };
        assert!(dns("127.1").matches(&ip("127.0.0.1")));
        assert!(dns("192.168.1/22").matches(&ip("192.168.0.9")));
        assert!(dns("010.0.0.1").matches(&ip("8.0.0.1")));
        let p = pats(MatchKind::Ip, false, &["10.0.0.0/255.0.0.0"]);
        assert!(p.matches(&ip("10.9.9.9")));
        let p = pats(MatchKind::Ip, false, &["::ffff:127.0.0.1/120"]);
        assert!(p.matches(&ip("127.0.0.9")));
        let p = pats(MatchKind::Ip, false, &["::1"]);
        assert!(p.matches(&ip("::1")) && !p.matches(&ip("127.0.0.1")));
        assert!(pats(MatchKind::Ip, false, &["0.0.0.0/0"]).matches(&ip("1.2.3.4")));
        assert!(pats(MatchKind::Ip, false, &["1.2.3.4"]).matches(&Smp::str(b"1.2.3.4")));
        let e = |w: &str| {
            Patterns::new(MatchKind::Ip, false)
                .add(w, Op::Eq, true)
                .unwrap_err()
        };
        for bad in [
            "127.1",
            "192.168.1/22",
            "1.2.3.4/",
            "0.0.0.0/33",
            "1.2.3.400",
            "/8",
            "foo.invalid",
            "::1/129",
        ] {
            assert_eq!(
                e(bad),
                format!("'{bad}' is not a valid IPv4 or IPv6 address")
            );
        }
    }

    #[test]
    fn binary_and_methods() {
        let p = pats(MatchKind::Bin, false, &["4142"]);
        assert!(m(&p, "AB") && !m(&p, "ABC"));
        assert!(pats(MatchKind::Bin, false, &["0000000000000001"]).matches(&Smp::Sint(1)));
        assert_eq!(
            Patterns::new(MatchKind::Bin, false)
                .add("414", Op::Eq, true)
                .unwrap_err(),
            "an even number of hex digit is expected"
        );
        let meth = |s: &str| Smp::Meth(std::borrow::Cow::Owned(s.as_bytes().to_vec()));
        let p = pats(MatchKind::Meth, false, &["GET", "HEAD"]);
        assert!(p.matches(&meth("GET")) && p.matches(&meth("HEAD")) && !p.matches(&meth("get")));
        let p = pats(MatchKind::Meth, true, &["get"]);
        assert!(!p.matches(&meth("GET")) && p.matches(&meth("gEt")));
        let p = pats(MatchKind::Meth, false, &["FOO"]);
        assert!(p.matches(&meth("FOO")) && !p.matches(&meth("foo")));
        assert!(Patterns::new(MatchKind::Reg, false)
            .add("(", Op::Eq, true)
            .is_err());
        let p = pats(MatchKind::Reg, false, &[r"^/\d+$"]);
        assert!(p.matches(&Smp::Str(b"/123".as_slice().into())));
        assert!(!p.matches(&Smp::Str(b"/12a".as_slice().into())));
        let p = pats(MatchKind::Reg, true, &["^abc"]);
        assert!(p.matches(&Smp::Str(b"ABCd".as_slice().into())));
    }

    /// `-m` names (`pat_match_names[]`), the type each method casts the sample to
    /// (`pat_match_types[]`) and which methods read integer patterns (`pat_parse_int`).
    #[test]
    fn kinds() {
        use MatchKind as K;
        for (name, kind, expect, int) in [
            ("found", K::Found, SmpType::Sint, false),
            ("bool", K::Bool, SmpType::Sint, false),
            ("int", K::Int, SmpType::Sint, true),
            ("ip", K::Ip, SmpType::Addr, false),
            ("bin", K::Bin, SmpType::Bin, false),
            ("len", K::Len, SmpType::Str, true),
            ("str", K::Str, SmpType::Str, false),
            ("sub", K::Sub, SmpType::Str, false),
            ("reg", K::Reg, SmpType::Str, false),
            ("regm", K::Reg, SmpType::Str, false),
            ("beg", K::Beg, SmpType::Str, false),
            ("end", K::End, SmpType::Str, false),
            ("dir", K::Dir, SmpType::Str, false),
            ("dom", K::Dom, SmpType::Str, false),
        ] {
            assert_eq!(MatchKind::from_name(name), Some(kind), "{name}");
            assert_eq!(kind.expect_type(), expect, "{name}");
            assert_eq!(kind.int_patterns(), int, "{name}");
        }
        // the `method` ACL's own matching, not a `-m` name
        assert_eq!(MatchKind::from_name("meth"), None);
        assert_eq!(K::Meth.expect_type(), SmpType::Meth);
        assert!(!K::Meth.int_patterns());
        assert_eq!(MatchKind::from_name(""), None);
        assert_eq!(MatchKind::default_for(SmpType::Any), None);
        assert_eq!(MatchKind::default_for(SmpType::Ipv4), Some(MatchKind::Ip));
    }
}
