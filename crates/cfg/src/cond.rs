//! Configuration conditions: the `.if`/`.elif` and `-cc` expression language (HAProxy's
//! `src/cfgcond.c` with the argument rules of `make_arg_list()` in `src/arg.c`).
//!
//! Owns parsing and evaluation of one expression; it reads the environment, the build's
//! feature list and version through [`CondCtx`] and touches nothing else.
//!
//! Grammar: `expr := and ('||' and)*`, `and := term ('&&' term)*`,
//! `term := '!'* (integer | '(' expr ')' | pred '(' args ')')`. Integers follow `strtol(.., 0)`
//! (decimal, `0x` hex, octal, optional sign and leading blanks). Evaluation short-circuits like
//! upstream. An empty expression is false.

use crate::lexer::{parse_line, Env, LexError, Opts};

/// What conditions may look at.
pub trait CondCtx {
    /// The environment variable `name`, `None` when unset.
    fn env(&self, name: &str) -> Option<String>;
    /// The build feature string, e.g. `"+EPOLL -OPENSSL +THREAD"`.
    fn features(&self) -> &str;
    /// The version string reported by `-v` (e.g. `2.6.12-rs`).
    fn version(&self) -> &str;
}

/// A parse or evaluation error: HAProxy's message and the byte offset it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    pub msg: String,
    pub pos: usize,
}

const MAX_CFG_RECURSION: i32 = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pred {
    Defined,
    Feature,
    Streq,
    Strneq,
    VersionAtleast,
    VersionBefore,
    OsslVersionAtleast,
    OsslVersionBefore,
    SslLibNameStartsWith,
}

const PREDICATES: &[(&str, Pred, usize)] = &[
    ("defined", Pred::Defined, 1),
    ("feature", Pred::Feature, 1),
    ("streq", Pred::Streq, 2),
    ("strneq", Pred::Strneq, 2),
    ("version_atleast", Pred::VersionAtleast, 1),
    ("version_before", Pred::VersionBefore, 1),
    ("openssl_version_atleast", Pred::OsslVersionAtleast, 1),
    ("openssl_version_before", Pred::OsslVersionBefore, 1),
    ("ssllib_name_startswith", Pred::SslLibNameStartsWith, 1),
];

enum Term {
    Bool(bool),
    Paren(Box<Expr>),
    Pred(Pred, Vec<String>),
}

struct NegTerm {
    neg: bool,
    term: Term,
}

/// `and`-chains joined by `||`.
struct Expr(Vec<Vec<NegTerm>>);

struct Parser<'a> {
    s: &'a [u8],
}

/// Outcome of a sub-parser: HAProxy's ">0 parsed / 0 desynchronized / <0 error".
enum P<T> {
    Ok(T, usize),
    Desync,
    Err(CondError),
}

fn skip_blanks(s: &[u8], mut i: usize) -> usize {
    while matches!(s.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// `strtol(s + i, &end, 0) != 0`: whether the integer at `i` is non-zero, and the end
/// offset; `None` when no digit was consumed. A condition only tests an integer against 0,
/// so its value (sign, saturation) is not computed.
fn strtol0(s: &[u8], i: usize) -> Option<(bool, usize)> {
    let mut j = i;
    while matches!(s.get(j), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
        j += 1;
    }
    if matches!(s.get(j), Some(b'+' | b'-')) {
        j += 1;
    }
    let (radix, start) = if s.get(j) == Some(&b'0') && matches!(s.get(j + 1), Some(b'x' | b'X')) {
        if s.get(j + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            (16, j + 2)
        } else {
            // "0x" alone parses as 0 and stops before the 'x'
            return Some((false, j + 1));
        }
    } else if s.get(j) == Some(&b'0') {
        (8, j)
    } else {
        (10, j)
    };
    let digits = s[start..]
        .iter()
        .take_while(|&&c| (c as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let end = start + digits;
    Some((s[start..end].iter().any(|&c| c != b'0'), end))
}

impl<'a> Parser<'a> {
    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.s[from.min(self.s.len())..]).into_owned()
    }

    fn err(&self, msg: String, pos: usize) -> P<Expr> {
        P::Err(CondError { msg, pos })
    }

    /// `cfg_parse_cond_expr()`, which recurses for what follows each `||`: here a loop, one
    /// level deeper for each `||`.
    fn expr(&self, at: usize, mut depth: i32) -> P<Expr> {
        if at >= self.s.len() {
            return P::Desync;
        }
        let mut ors = Vec::new();
        let mut i = at;
        loop {
            if depth <= 0 {
                return self.err(
                    format!("unparsable conditional expression '{}'", self.text(i)),
                    i,
                );
            }
            match self.and(i, depth - 1) {
                P::Ok(a, end) => {
                    ors.push(a);
                    i = skip_blanks(self.s, end);
                }
                P::Desync => {
                    return self.err(
                        format!("unparsable conditional expression '{}'", self.text(i)),
                        i,
                    )
                }
                P::Err(e) => return P::Err(e),
            }
            if self.s.get(i..i + 2) != Some(b"||") {
                return P::Ok(Expr(ors), i);
            }
            let op = i;
            i = skip_blanks(self.s, i + 2);
            if i >= self.s.len() {
                // "a ||": nothing parses on the right side.
                return self.err(
                    format!("unparsable conditional expression '{}'", self.text(op)),
                    op,
                );
            }
            depth -= 1;
        }
    }

    /// `cfg_parse_cond_and()`, which recurses for what follows each `&&`: here a loop, one
    /// level deeper for each `&&`.
    fn and(&self, at: usize, mut depth: i32) -> P<Vec<NegTerm>> {
        let mut terms = Vec::new();
        let mut i = at;
        loop {
            if depth <= 0 {
                return P::Err(CondError {
                    msg: format!("unparsable conditional sub-expression '{}'", self.text(i)),
                    pos: i,
                });
            }
            match self.term(i, depth - 1) {
                P::Ok(t, end) => {
                    terms.push(t);
                    i = skip_blanks(self.s, end);
                }
                P::Desync => {
                    return P::Err(CondError {
                        msg: format!("unparsable conditional sub-expression '{}'", self.text(i)),
                        pos: i,
                    })
                }
                P::Err(e) => return P::Err(e),
            }
            if self.s.get(i..i + 2) != Some(b"&&") {
                return P::Ok(terms, i);
            }
            let next = skip_blanks(self.s, i + 2);
            if next >= self.s.len() {
                return P::Err(CondError {
                    msg: format!("unparsable conditional expression '{}'", self.text(i)),
                    pos: i,
                });
            }
            i = next;
            depth -= 1;
        }
    }

    fn term(&self, at: usize, depth: i32) -> P<NegTerm> {
        let mut i = skip_blanks(self.s, at);
        if i >= self.s.len() {
            return P::Desync;
        }
        let unparsable = |pos: usize| {
            P::Err(CondError {
                msg: format!("unparsable conditional expression '{}'", self.text(at)),
                pos,
            })
        };
        if depth <= 0 {
            return unparsable(at);
        }
        let mut neg = false;
        while self.s.get(i) == Some(&b'!') {
            neg = !neg;
            i = skip_blanks(self.s, i + 1);
        }
        if let Some((v, end)) = strtol0(self.s, i) {
            return P::Ok(
                NegTerm {
                    neg,
                    term: Term::Bool(v),
                },
                end,
            );
        }
        if self.s.get(i) == Some(&b'(') {
            let j = skip_blanks(self.s, i + 1);
            return match self.expr(j, depth - 1) {
                P::Err(e) => P::Err(e),
                P::Desync => unparsable(at),
                P::Ok(e, end) => {
                    let k = skip_blanks(self.s, end);
                    if self.s.get(k) != Some(&b')') {
                        return P::Err(CondError {
                            msg: format!(
                                "expected ')' after conditional expression '{}'",
                                self.text(at)
                            ),
                            pos: at,
                        });
                    }
                    P::Ok(
                        NegTerm {
                            neg,
                            term: Term::Paren(Box::new(e)),
                        },
                        skip_blanks(self.s, k + 1),
                    )
                }
            };
        }
        let word_len = self.s[i..]
            .iter()
            .position(|&c| c == b' ' || c == b'(')
            .unwrap_or(self.s.len() - i);
        let word = &self.s[i..i + word_len];
        let Some(&(name, pred, nargs)) = PREDICATES.iter().find(|p| p.0.as_bytes() == word) else {
            return unparsable(at);
        };
        match make_arg_list(self.s, i + name.len(), nargs) {
            Ok((args, end)) => P::Ok(
                NegTerm {
                    neg,
                    term: Term::Pred(pred, args),
                },
                end,
            ),
            Err((msg, arg, pos)) => P::Err(CondError {
                msg: format!(
                    "{msg} in argument {arg} of predicate '{name}' used in conditional expression"
                ),
                pos,
            }),
        }
    }
}

/// Parses the arguments at `at` of a predicate taking exactly `n` string arguments, as
/// `make_arg_list()` (src/arg.c) does: `(a,b)`, blanks kept, quotes group and are removed (an
/// unclosed quote runs to the end), `\` escapes `\\ \' \" \<space>` and makes `\r \n \t`,
/// and is kept before anything else; a `\` ending the text is an error. Without `(` there is
/// one empty argument and nothing is consumed.
///
/// Returns the arguments and the offset after them, or (message, upstream's `err_arg`: the
/// argument the message is about, error offset).
fn make_arg_list(
    s: &[u8],
    at: usize,
    n: usize,
) -> Result<(Vec<String>, usize), (String, usize, usize)> {
    let text = |from: usize| String::from_utf8_lossy(&s[from.min(s.len())..]).into_owned();
    let mut i = at;
    let empty = s.get(i) != Some(&b'(');
    if !empty {
        i += 1;
    }
    let mut args = Vec::new();
    // one argument per turn; the turn that reaches `n` (every predicate takes one or more)
    // ends the loop
    loop {
        let mut word = Vec::new();
        let (mut sq, mut dq) = (false, false);
        while let Some(&c) = s.get(i).filter(|_| !empty) {
            if c == b'"' && !sq {
                dq = !dq;
            } else if c == b'\'' && !dq {
                sq = !sq;
            } else if c == b'\\' && !sq {
                let Some(&e) = s.get(i + 1) else {
                    let msg = format!(
                        "failed to parse '{}' after '{}' as type 'string' at position {}",
                        text(i),
                        String::from_utf8_lossy(&word),
                        args.len() + 1
                    );
                    return Err((msg, args.len(), i));
                };
                match e {
                    b'\\' | b' ' | b'"' | b'\'' => {
                        word.push(e);
                        i += 1;
                    }
                    b'r' | b'n' | b't' => {
                        word.push(match e {
                            b'r' => b'\r',
                            b'n' => b'\n',
                            _ => b'\t',
                        });
                        i += 1;
                    }
                    _ => word.push(c),
                }
            } else if !sq && !dq && (c == b',' || c == b')') {
                break;
            } else {
                word.push(c);
            }
            i += 1;
        }
        args.push(String::from_utf8_lossy(&word).into_owned());
        if empty || i >= s.len() || s[i] == b')' || args.len() >= n {
            break;
        }
        i += 1; // the comma
    }
    if args.len() < n {
        let msg = format!(
            "missing arguments (got {}/{n}), type 'string' expected",
            args.len()
        );
        return Err((msg, args.len(), i));
    }
    if empty {
        return Ok((args, i));
    }
    if s.get(i) == Some(&b')') {
        return Ok((args, i + 1));
    }
    let rest = text(i);
    let msg = if rest.is_empty() {
        "expected ')'".to_string()
    } else {
        format!("expected ')' before '{rest}'")
    };
    // upstream's correction: the empty part before the missing ')' counted as an argument
    let pos = if args.len() > 1 {
        args.len() - 1
    } else {
        args.len()
    };
    Err((msg, pos, i))
}

/// HAProxy's `split_version()`: `a[.b[.c[.d]]][-{dev,rc,pre}f][-*][-g]` into 7 numbers.
/// Returns `None` when the string is not a version.
pub fn split_version(v: &str) -> Option<[u64; 7]> {
    let b = v.as_bytes();
    let mut val = [0u64, 0, 0, 0, 3, 0, 0];
    if b.is_empty() {
        return None;
    }
    // strtol(p, &end, 10) returning (value, end offset); no digits means value 0, end = p.
    let num = |p: usize| -> (u64, usize) {
        let mut k = p;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        (
            std::str::from_utf8(&b[p..k])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            k,
        )
    };
    let mut p = 0;
    let mut tag = false;
    for slot in val.iter_mut().take(4) {
        let (n, e) = num(p);
        *slot = n;
        match b.get(e) {
            None => return Some(val),
            Some(b'-') => {
                p = e + 1;
                tag = true;
                break;
            }
            Some(b'.') => p = e + 1,
            Some(_) => return None,
        }
    }
    if !tag {
        return None; // four numbers followed by a '.'
    }
    let commit = |p: usize, val: &mut [u64; 7]| -> Option<[u64; 7]> {
        let rest = &v[p.min(v.len())..];
        let tail = match rest.rfind('-') {
            Some(k) => {
                if k + 1 == rest.len() {
                    return None;
                }
                &rest[k + 1..]
            }
            None => rest,
        };
        // strtol() that must read the whole tail, else 0
        val[6] = tail.parse().unwrap_or(0);
        Some(*val)
    };
    if b.get(p).is_some_and(|c| c.is_ascii_digit()) {
        return commit(p, &mut val);
    }
    let rest = &b[p.min(b.len())..];
    if rest.starts_with(b"dev") {
        val[4] = 1;
        p += 3;
    } else if rest.starts_with(b"rc") {
        val[4] = 2;
        p += 2;
    } else if rest.starts_with(b"pre") {
        val[4] = 2;
        p += 3;
    } else {
        return commit(p, &mut val);
    }
    let (n, e) = num(p);
    val[5] = n;
    match b.get(e) {
        None => Some(val),
        Some(b'-') => commit(e + 1, &mut val),
        Some(_) => None,
    }
}

fn eval_expr(e: &Expr, ctx: &dyn CondCtx) -> Result<bool, CondError> {
    for and in &e.0 {
        let mut all = true;
        for t in and {
            if !eval_term(t, ctx)? {
                all = false;
                break;
            }
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

fn eval_term(t: &NegTerm, ctx: &dyn CondCtx) -> Result<bool, CondError> {
    let v = match &t.term {
        Term::Bool(b) => *b,
        Term::Paren(e) => eval_expr(e, ctx)?,
        Term::Pred(p, args) => match p {
            Pred::Defined => ctx.env(&args[0]).is_some(),
            Pred::Feature => feature_enabled(ctx.features(), &args[0]),
            Pred::Streq => args[0] == args[1],
            Pred::Strneq => args[0] != args[1],
            Pred::VersionAtleast | Pred::VersionBefore => {
                // compare_current_version(): -1/0/1, or -2/-3 when a side does not parse,
                // which upstream then reads as "at least" and not "before".
                let cmp = match (split_version(ctx.version()), split_version(&args[0])) {
                    (None, _) => -2,
                    (_, None) => -3,
                    (Some(cur), Some(arg)) => arg.cmp(&cur) as i32,
                };
                if *p == Pred::VersionAtleast {
                    cmp <= 0
                } else {
                    cmp > 0
                }
            }
            Pred::OsslVersionAtleast | Pred::OsslVersionBefore => {
                return Err(CondError {
                    msg: "no SSL library available to compare versions".into(),
                    pos: 0,
                })
            }
            Pred::SslLibNameStartsWith => false,
        },
    };
    Ok(v != t.neg)
}

/// `feature(NAME)`: true when `+NAME` appears as a whole word in the feature string.
fn feature_enabled(features: &str, name: &str) -> bool {
    features
        .split_whitespace()
        .any(|w| w.strip_prefix('+') == Some(name))
}

/// Evaluates `text` (already re-merged by the lexer) as HAProxy's `cfg_eval_condition()`.
///
/// Returns `Ok(true/false)`, or the parse/evaluation error; an empty text is `Ok(false)`.
pub fn eval_condition(text: &str, ctx: &dyn CondCtx) -> Result<bool, CondError> {
    let s = text.as_bytes();
    if s.is_empty() {
        return Ok(false);
    }
    let p = Parser { s };
    match p.expr(0, MAX_CFG_RECURSION) {
        P::Err(e) => Err(e),
        P::Desync => Err(CondError {
            msg: format!("unparsable conditional expression '{text}'"),
            pos: 0,
        }),
        P::Ok(e, end) => {
            let end = skip_blanks(s, end);
            if end < s.len() {
                return Err(CondError {
                    msg: format!(
                        "unexpected character '{}' at the end of conditional expression '{text}'",
                        s[end] as char
                    ),
                    pos: end,
                });
            }
            eval_expr(&e, ctx)
        }
    }
}

/// What `.if` and `-cc` see in a running process: its environment, and the build's feature
/// list and version as the binary states them.
pub struct ProcessCtx<'a> {
    /// The feature list `feature()` tests (`+NAME -NAME ...`).
    pub features: &'a str,
    /// The version `version_atleast()`/`version_before()` compare with.
    pub version: &'a str,
}

impl CondCtx for ProcessCtx<'_> {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
    fn features(&self) -> &str {
        self.features
    }
    fn version(&self) -> &str {
        self.version
    }
}

/// The lexer's view of a [`CondCtx`]: its environment, without pseudo-variables.
struct CondEnv<'a>(&'a dyn CondCtx);

impl Env for CondEnv<'_> {
    fn get(&self, name: &str) -> Option<String> {
        if name.starts_with('.') {
            return None;
        }
        self.0.env(name)
    }
}

/// `haproxy -cc EXPR` (the `MODE_CHECK_CONDITION` branch of upstream's `init()`): `expr` is
/// split into words as a configuration line is (double and single quotes, backslashes,
/// variables; no comment, no word expansion), the words are merged again with one space
/// each, and the result is evaluated.
///
/// Returns the value of the condition (upstream exits 0 when true, 1 when false).
///
/// # Errors
/// The alert upstream prints before exiting 2: its fixed texts for a line that cannot be
/// split, or `Failed to evaluate condition: ...` with the evaluator's message.
pub fn check_condition(expr: &str, ctx: &dyn CondCtx) -> Result<bool, String> {
    let line = parse_line(expr.as_bytes(), Opts::COND, &CondEnv(ctx)).map_err(|e| {
        match e {
            LexError::Quote { .. } => "Syntax Error in condition: Unmatched quote.",
            LexError::Hex { .. } => {
                "Syntax Error in condition: Truncated or invalid hexadecimal sequence."
            }
            LexError::TooMany { .. } => "Error in condition: Too many words.",
            // upstream has no text of its own for the other errors of parse_line()
            LexError::Brace { .. } | LexError::VarName { .. } | LexError::WrongExpand { .. } => {
                "Unhandled error in condition, please report this to the developers."
            }
        }
        .to_string()
    })?;
    eval_condition(&line.merged_from(0), ctx)
        .map_err(|e| format!("Failed to evaluate condition: {}", e.msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ctx;
    impl CondCtx for Ctx {
        fn env(&self, name: &str) -> Option<String> {
            (name == "HOME").then(|| "/root".to_string())
        }
        fn features(&self) -> &str {
            "+EPOLL -OPENSSL +POLL"
        }
        fn version(&self) -> &str {
            "2.6.12-rs"
        }
    }

    fn ev(s: &str) -> Result<bool, String> {
        eval_condition(s, &Ctx).map_err(|e| e.msg)
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(ev(""), Ok(false));
        assert_eq!(ev("1"), Ok(true));
        assert_eq!(ev("0"), Ok(false));
        assert_eq!(ev(" -1"), Ok(true));
        assert_eq!(ev("0x10"), Ok(true));
        assert_eq!(ev("!1"), Ok(false));
        assert_eq!(ev("! ! 1"), Ok(true));
        assert_eq!(ev("0 || 1 && 0"), Ok(false));
        assert_eq!(ev("1 || 0 && 0"), Ok(true));
        assert_eq!(ev("!(0 || 0)"), Ok(true));
        assert!(ev("0x").unwrap_err().contains("unexpected character 'x'"));
        assert!(ev("1 2").is_err());
        assert!(ev("(1").unwrap_err().starts_with("expected ')' after"));
        assert!(ev("1)").is_err());
        assert!(ev("!").is_err());
        assert!(ev(" ").unwrap_err().contains("sub-expression"));
        assert!(ev("1 &&").is_err());
        assert!(ev("1 ||").is_err());
    }

    #[test]
    fn predicates() {
        assert_eq!(ev("defined(HOME)"), Ok(true));
        assert_eq!(ev("defined(NOPE)"), Ok(false));
        assert_eq!(ev("defined()"), Ok(false));
        assert_eq!(ev("streq(a,a)"), Ok(true));
        assert_eq!(ev("streq(a, a)"), Ok(false));
        assert_eq!(ev("strneq(a,b)"), Ok(true));
        assert_eq!(ev("feature(EPOLL)"), Ok(true));
        assert_eq!(ev("feature(OPENSSL)"), Ok(false));
        assert_eq!(ev("feature(POL)"), Ok(false));
        assert_eq!(ev("version_atleast(2.6)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6.13)"), Ok(false));
        assert_eq!(ev("version_before(2.7-dev0)"), Ok(true));
        assert_eq!(ev("version_before(2.6.12-2)"), Ok(true));
        assert_eq!(ev("version_atleast(abc)"), Ok(true));
        assert_eq!(ev("version_before()"), Ok(false));
        assert_eq!(
            ev("defined(HOME,PATH)").unwrap_err(),
            "expected ')' before ',PATH)' in argument 1 of predicate 'defined' used in conditional expression"
        );
        assert_eq!(
            ev("streq(a)").unwrap_err(),
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression"
        );
        assert!(ev("streq(a,a")
            .unwrap_err()
            .starts_with("expected ')' in argument 1"));
        assert!(ev(r"streq(a\,b,a\,b)").unwrap_err().contains("argument 1"));
        assert!(ev("nope(1)").unwrap_err().starts_with("unparsable"));
    }

    /// `make_arg_list()`'s rules, with haproxy 2.6.12's answers and messages.
    #[test]
    fn arguments_as_upstream() {
        let tail = |p: &str| format!(" of predicate '{p}' used in conditional expression");
        // without parentheses: one empty argument, nothing consumed
        assert_eq!(ev("defined"), Ok(false));
        assert_eq!(
            ev("streq").unwrap_err(),
            format!(
                "missing arguments (got 1/2), type 'string' expected in argument 1{}",
                tail("streq")
            )
        );
        assert_eq!(
            ev("defined x").unwrap_err(),
            "unexpected character 'x' at the end of conditional expression 'defined x'"
        );
        assert_eq!(ev("streq(,)"), Ok(true));
        assert_eq!(ev("defined()"), Ok(false));
        // quotes group and go; an unclosed one runs to the end
        assert_eq!(ev(r#"streq("a,b",'a,b')"#), Ok(true));
        assert_eq!(ev(r#"streq(a"b"c,'abc')"#), Ok(true));
        assert_eq!(ev(r#"streq('"',"'")"#), Ok(false));
        assert_eq!(ev(r#"streq('"','"')"#), Ok(true));
        assert_eq!(
            ev(r#"streq("a,b)"#).unwrap_err(),
            format!(
                "missing arguments (got 1/2), type 'string' expected in argument 1{}",
                tail("streq")
            )
        );
        assert_eq!(
            ev(r#"defined("HOME)"#).unwrap_err(),
            format!("expected ')' in argument 1{}", tail("defined"))
        );
        assert_eq!(
            ev(r#"streq("a)",a))"#).unwrap_err(),
            r#"unexpected character ')' at the end of conditional expression 'streq("a)",a))'"#
        );
        // escapes: \\ \' \" and backslash-space give the character, \r \n \t the control
        // character, a backslash before anything else stays; none inside single quotes
        assert_eq!(ev(r#"streq(\\\'\"\ ,"\\'\" ")"#), Ok(true));
        assert_eq!(ev(r#"streq('\\',"\\")"#), Ok(false));
        assert_eq!(ev(r"streq(\q\,\\q\\)"), Ok(true));
        assert_eq!(ev(r"streq(\q,\\\\q)"), Ok(false));
        assert_eq!(ev("streq(\\r\\n\\t,'\r\n\t')"), Ok(true));
        assert_eq!(ev(r"streq('\n',\\n)"), Ok(true));
        assert_eq!(ev(r"streq(a\,a\)"), Ok(true));
        // a backslash ending the text
        assert_eq!(
            ev(r"streq(a,b\").unwrap_err(),
            format!(
                "failed to parse '\\' after 'b' as type 'string' at position 2 in argument 1{}",
                tail("streq")
            )
        );
        assert_eq!(
            ev(r#"defined("a"\"#).unwrap_err(),
            format!(
                "failed to parse '\\' after 'a' as type 'string' at position 1 in argument 0{}",
                tail("defined")
            )
        );
        // too many
        assert_eq!(
            ev("streq(a,b,c)").unwrap_err(),
            format!("expected ')' before ',c)' in argument 1{}", tail("streq"))
        );
        assert_eq!(
            ev("defined(HOME,").unwrap_err(),
            format!("expected ')' before ',' in argument 1{}", tail("defined"))
        );
    }

    /// Integers as `strtol(.., 0)` reads them (haproxy 2.6.12's answers): any blank first,
    /// one sign, octal with a leading 0 (so `08` stops before the 8), hex with `0x`.
    #[test]
    fn integers_as_upstream() {
        assert_eq!(ev("\x0b1"), Ok(true));
        assert_eq!(ev("\x0c0"), Ok(false));
        assert_eq!(ev("!\x0b0"), Ok(true));
        assert_eq!(ev("\x0b-0x0"), Ok(false));
        assert_eq!(ev("-0"), Ok(false));
        assert_eq!(ev("+1"), Ok(true));
        assert_eq!(ev("0x1f"), Ok(true));
        assert_eq!(ev("0X0"), Ok(false));
        assert_eq!(ev("00"), Ok(false));
        assert_eq!(ev("99999999999999999999999"), Ok(true));
        assert!(ev("08").unwrap_err().contains("unexpected character '8'"));
        assert!(ev("0xg").unwrap_err().contains("unexpected character 'x'"));
        assert!(ev("+\x0b1").unwrap_err().starts_with("unparsable"));
        assert!(ev("- 1").unwrap_err().starts_with("unparsable"));
        assert!(ev("--1").unwrap_err().starts_with("unparsable"));
    }

    /// The recursion limit (haproxy 2.6.12's answers): 340 nested parentheses parse, 341 do
    /// not; each `&&` and `||` nests one level too (upstream recurses for the right side),
    /// so a chain of 1021 operators parses and one of 1022 does not.
    #[test]
    fn nesting_limit_as_upstream() {
        let nested = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(ev(&nested(340)), Ok(true));
        let e = ev(&nested(341)).unwrap_err();
        assert!(
            e.starts_with("unparsable conditional sub-expression '1)))"),
            "{e}"
        );
        let chain = |op: &str, v: &str, n: usize| format!("{}{v}", format!("{v}{op}").repeat(n));
        assert_eq!(ev(&chain("&&", "1", 1021)), Ok(true));
        assert_eq!(
            ev(&chain("&&", "1", 1022)),
            Err("unparsable conditional expression '1'".into())
        );
        assert_eq!(ev(&chain(" || ", "0", 1021)), Ok(false));
        assert_eq!(
            ev(&chain(" || ", "0", 1022)),
            Err("unparsable conditional expression '0'".into())
        );
        assert_eq!(ev(&format!("{}1", "0||1&&".repeat(1020))), Ok(true));
        assert!(ev(&format!("{}1", "0||1&&".repeat(1021))).is_err());
    }

    /// haproxy 2.6.12's `-cc` answers and alerts.
    #[test]
    fn check_condition_as_upstream_cc() {
        let cc = |s: &str| check_condition(s, &Ctx);
        assert_eq!(cc("1"), Ok(true));
        assert_eq!(cc(""), Ok(false));
        // words are split as on a configuration line, then merged with one space
        assert_eq!(cc("streq(a,  'a')"), Ok(false));
        assert_eq!(cc("streq(\x61,'a')"), Ok(true));
        assert_eq!(cc("streq(\"${HOME}\",/root) && !defined(.LINE)"), Ok(true));
        assert_eq!(
            cc("# 1"),
            Err("Failed to evaluate condition: unparsable conditional expression '# 1'".into())
        );
        assert_eq!(
            cc("\"a"),
            Err("Syntax Error in condition: Unmatched quote.".into())
        );
        assert_eq!(
            cc("a\\x4"),
            Err("Syntax Error in condition: Truncated or invalid hexadecimal sequence.".into())
        );
        assert_eq!(
            cc(&"a ".repeat(70)),
            Err("Error in condition: Too many words.".into())
        );
        let unhandled =
            Err("Unhandled error in condition, please report this to the developers.".to_string());
        assert_eq!(cc("\"${X\""), unhandled);
        assert_eq!(cc("\"$1\""), unhandled);
    }

    #[test]
    fn versions() {
        assert_eq!(
            split_version("2.6.12-1+deb12u4"),
            Some([2, 6, 12, 0, 3, 0, 0])
        );
        assert_eq!(split_version("2.6.12-rs"), Some([2, 6, 12, 0, 3, 0, 0]));
        assert_eq!(split_version("1.5-dev18-43"), Some([1, 5, 0, 0, 1, 18, 43]));
        assert_eq!(
            split_version("2.4-dev18-f6818d-20"),
            Some([2, 4, 0, 0, 1, 18, 20])
        );
        assert_eq!(split_version("1.3.16-rc1"), Some([1, 3, 16, 0, 2, 1, 0]));
        // the commit number follows the last '-', which must not end the text
        assert_eq!(split_version("2.6.12-"), Some([2, 6, 12, 0, 3, 0, 0]));
        assert_eq!(split_version("2.6.12-1-"), None);
        assert_eq!(split_version("2.6-dev1-"), Some([2, 6, 0, 0, 1, 1, 0]));
        assert_eq!(split_version("2.6-dev1-x-7"), Some([2, 6, 0, 0, 1, 1, 7]));
        assert_eq!(split_version("2.6-dev1-7x"), Some([2, 6, 0, 0, 1, 1, 0]));
        assert_eq!(split_version("2.6-+7"), Some([2, 6, 0, 0, 3, 0, 7]));
        assert_eq!(split_version("a"), None);
        assert_eq!(split_version(""), None);
        // each pre-release word is skipped whole before its number
        assert_eq!(split_version("2.7-dev4"), Some([2, 7, 0, 0, 1, 4, 0]));
        assert_eq!(split_version("2.7-rc3"), Some([2, 7, 0, 0, 2, 3, 0]));
        assert_eq!(split_version("2.7-pre1"), Some([2, 7, 0, 0, 2, 1, 0]));
        assert_eq!(split_version("2.7-pre12-5"), Some([2, 7, 0, 0, 2, 12, 5]));
    }

    /// `compare_current_version()` answers -2 when the running version does not parse,
    /// which `version_atleast()` reads as true and `version_before()` as false, whatever
    /// the argument; an argument that does not parse (-3) reads the same way.
    #[test]
    fn unparsable_versions() {
        struct Odd;
        impl CondCtx for Odd {
            fn env(&self, _: &str) -> Option<String> {
                None
            }
            fn features(&self) -> &str {
                ""
            }
            fn version(&self) -> &str {
                "odd"
            }
        }
        for arg in ["1.0", "99.0", "x"] {
            let ev = |e: String| eval_condition(&e, &Odd).map_err(|e| e.msg);
            assert_eq!(ev(format!("version_atleast({arg})")), Ok(true), "{arg}");
            assert_eq!(ev(format!("version_before({arg})")), Ok(false), "{arg}");
        }
        assert_eq!(ev("version_atleast(x)"), Ok(true));
        assert_eq!(ev("version_before(x)"), Ok(false));
    }
}
