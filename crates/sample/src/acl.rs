//! ACLs and conditions (HAProxy's `acl.c`): named ACLs, anonymous `{ }` ACLs, predefined
//! ACLs, and `if`/`unless` conditions with implicit AND, `||`/`or` and `!`.
//!
//! Owns the ACL table of one proxy ([`AclTable`]) and compiled conditions ([`Cond`]). An ACL is
//! a list of expressions (one per `acl` line with that name) ORed together; an expression is a
//! sample expression, a matching method and patterns. Parsing follows `parse_acl_expr()`: ACL
//! keywords with an implied method (`path_beg`, `hdr_sub`...), flags (`-i -m -n -u -f -M --`),
//! integer operators, and HAProxy's messages. A condition term whose fetch cannot work at the
//! place it is used (a request header in a response rule) never matches, as upstream where the
//! data is gone by then; the compiler reports HAProxy's warning for it.

use crate::ctx::{Dir, SampleCtx};
use crate::expr::{is_idchar, SampleExpr};
use crate::fetch::{build_fetch, find_fetch, no_paren_args, parse_args, Class, Fetch, Where};
use crate::pattern::{MatchKind, Op, Patterns};
use crate::smp::SmpType;

/// ACL-only keywords: name, fetch used, implied matching method.
const ACL_KWS: &[(&str, &str, MatchKind)] = {
    use MatchKind::*;
    &[
        ("base", "base", Str),
        ("base_beg", "base", Beg),
        ("base_dir", "base", Dir),
        ("base_dom", "base", Dom),
        ("base_end", "base", End),
        ("base_len", "base", Len),
        ("base_reg", "base", Reg),
        ("base_sub", "base", Sub),
        ("hdr", "req.hdr", Str),
        ("hdr_beg", "req.hdr", Beg),
        ("hdr_dir", "req.hdr", Dir),
        ("hdr_dom", "req.hdr", Dom),
        ("hdr_end", "req.hdr", End),
        ("hdr_len", "req.hdr", Len),
        ("hdr_reg", "req.hdr", Reg),
        ("hdr_sub", "req.hdr", Sub),
        ("method", "method", Meth),
        ("path", "path", Str),
        ("path_beg", "path", Beg),
        ("path_dir", "path", Dir),
        ("path_dom", "path", Dom),
        ("path_end", "path", End),
        ("path_len", "path", Len),
        ("path_reg", "path", Reg),
        ("path_sub", "path", Sub),
        ("req_ver", "req.ver", Str),
        ("resp_ver", "res.ver", Str),
        ("shdr", "res.hdr", Str),
        ("shdr_beg", "res.hdr", Beg),
        ("shdr_dir", "res.hdr", Dir),
        ("shdr_dom", "res.hdr", Dom),
        ("shdr_end", "res.hdr", End),
        ("shdr_len", "res.hdr", Len),
        ("shdr_reg", "res.hdr", Reg),
        ("shdr_sub", "res.hdr", Sub),
        ("url", "url", Str),
        ("url_beg", "url", Beg),
        ("url_dir", "url", Dir),
        ("url_dom", "url", Dom),
        ("url_end", "url", End),
        ("url_len", "url", Len),
        ("url_reg", "url", Reg),
        ("url_sub", "url", Sub),
    ]
};

/// HAProxy's predefined ACLs and their definitions (`default_acl_list`).
const PREDEFINED: &[(&str, &str)] = &[
    ("TRUE", "always_true"),
    ("FALSE", "always_false"),
    ("LOCALHOST", "src 127.0.0.1/8 ::1"),
    ("HTTP", "req.proto_http"),
    ("HTTP_1.0", "req.ver 1.0"),
    ("HTTP_1.1", "req.ver 1.1"),
    ("HTTP_2.0", "req.ver 2.0"),
    ("METH_CONNECT", "method CONNECT"),
    ("METH_DELETE", "method DELETE"),
    ("METH_GET", "method GET HEAD"),
    ("METH_HEAD", "method HEAD"),
    ("METH_OPTIONS", "method OPTIONS"),
    ("METH_POST", "method POST"),
    ("METH_PUT", "method PUT"),
    ("METH_TRACE", "method TRACE"),
    // url_reg ^[^/:]*:// : compiled as a built-in test, no regex engine needed
    ("HTTP_URL_ABS", ""),
    ("HTTP_URL_SLASH", "url_beg /"),
    ("HTTP_URL_STAR", "url *"),
    ("HTTP_CONTENT", "req.hdr_val(content-length) gt 0"),
    ("RDP_COOKIE", "req.rdp_cookie_cnt gt 0"),
    ("REQ_CONTENT", "req.len gt 0"),
    ("WAIT_END", "wait_end"),
];

/// This crate's keyword tables as the configuration parser asks them (the fetch table of
/// `fetch.rs` and the ACL keywords through the ACL expression parser, the predefined ACLs):
/// pass it as `hrs_cfg::ParseCtx::acl_kws`, so that an `acl` line or a condition is accepted
/// while the configuration is read exactly when it compiles and runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct SampleKeywords;

impl hrs_cfg::acl::AclKeywords for SampleKeywords {
    fn check_acl_expr(&self, words: &[String]) -> Result<(), String> {
        parse_acl_expr(words, &mut Vec::new()).map(|_| ())
    }

    fn is_predefined_acl(&self, name: &str) -> bool {
        PREDEFINED.iter().any(|(n, _)| *n == name)
    }
}

/// One ACL expression: sample, method, patterns.
#[derive(Clone, Debug)]
pub(crate) struct AclExpr {
    /// The keyword as HAProxy names it in messages (`hdr_beg`, `req.hdr`).
    kw: String,
    expr: SampleExpr,
    pats: Patterns,
    /// `HTTP_URL_ABS`'s built-in test instead of the patterns.
    url_abs: bool,
}

impl AclExpr {
    fn matches(&self, ctx: &dyn SampleCtx, dir: Dir) -> bool {
        if self.url_abs {
            return ctx.req().is_some_and(|r| is_abs_url(r.uri()));
        }
        self.expr.for_each(ctx, dir, &mut |s| self.pats.matches(&s))
    }
}

/// `^[^/:]*://`
fn is_abs_url(u: &[u8]) -> bool {
    match u.iter().position(|&c| c == b'/' || c == b':') {
        Some(i) => u[i..].starts_with(b"://"),
        None => false,
    }
}

/// A named or anonymous ACL.
#[derive(Clone, Debug)]
pub(crate) struct Acl {
    /// Empty for anonymous ACLs.
    name: String,
    exprs: Vec<AclExpr>,
}

/// The ACLs of one proxy: declared ones, predefined ones instantiated on use, anonymous ones.
#[derive(Clone, Debug, Default)]
pub struct AclTable {
    acls: Vec<Acl>,
}

/// A diagnostic produced while compiling ACLs (location added by the caller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AclDiag {
    /// The warning has its own wording without a location (the "no pattern" warning).
    Bare(String),
    /// A warning about the line being compiled.
    AtLine(String),
}

impl AclTable {
    /// An empty table.
    pub fn new() -> AclTable {
        AclTable::default()
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.acls
            .iter()
            .position(|a| !a.name.is_empty() && a.name == name)
    }

    /// Adds one `acl <name> <words...>` line: a new expression ORed into ACL `name`.
    ///
    /// # Errors
    /// The HAProxy message explaining why the expression is invalid (without the
    /// `error detected while parsing ACL` prefix).
    pub(crate) fn declare(
        &mut self,
        name: &str,
        words: &[String],
        diags: &mut Vec<AclDiag>,
    ) -> Result<(), String> {
        let e = parse_acl_expr(words, diags)?;
        match self.find(name) {
            Some(i) => self.acls[i].exprs.push(e),
            None => self.acls.push(Acl {
                name: name.to_string(),
                exprs: vec![e],
            }),
        }
        Ok(())
    }

    fn predefined(&mut self, name: &str) -> Option<usize> {
        let def = PREDEFINED.iter().find(|(n, _)| *n == name)?.1;
        let expr = if def.is_empty() {
            AclExpr {
                kw: "url_reg".into(),
                expr: builtin_expr(Fetch::Bool(true), "url", Class::ReqVol),
                pats: Patterns::new(MatchKind::Bool, false),
                url_abs: true,
            }
        } else {
            let words: Vec<String> = def.split(' ').map(String::from).collect();
            parse_acl_expr(&words, &mut Vec::new()).ok()?
        };
        self.acls.push(Acl {
            name: name.to_string(),
            exprs: vec![expr],
        });
        Some(self.acls.len() - 1)
    }

    /// Compiles the words of a condition (after `if`/`unless`) used at place `w`.
    ///
    /// # Errors
    /// HAProxy's message (`no such ACL : 'x'`, `missing closing '}' in condition`, or the
    /// anonymous ACL's parse error).
    pub(crate) fn compile_cond(
        &mut self,
        words: &[String],
        unless: bool,
        w: Where,
        diags: &mut Vec<AclDiag>,
    ) -> Result<Cond, String> {
        let mut suites: Vec<Vec<Term>> = Vec::new();
        let mut cur: Option<Vec<Term>> = None;
        let mut neg = false;
        let mut i = 0;
        while i < words.len() {
            let mut word = words[i].as_str();
            while let Some(r) = word.strip_prefix('!') {
                neg = !neg;
                word = r;
            }
            if word.is_empty() {
                i += 1;
                continue;
            }
            if word.eq_ignore_ascii_case("or") || word == "||" {
                if let Some(s) = cur.take() {
                    suites.push(s);
                }
                i += 1;
                continue;
            }
            let idx = if word == "{" {
                let Some(end) = words[i + 1..].iter().position(|x| x == "}") else {
                    return Err("missing closing '}' in condition".into());
                };
                let inner = &words[i + 1..i + 1 + end];
                let e = parse_acl_expr(inner, diags)?;
                self.acls.push(Acl {
                    name: String::new(),
                    exprs: vec![e],
                });
                i += end + 1;
                self.acls.len() - 1
            } else {
                match self.find(word).or_else(|| self.predefined(word)) {
                    Some(x) => x,
                    None => return Err(format!("no such ACL : '{word}'")),
                }
            };
            cur.get_or_insert_with(Vec::new)
                .push(Term { acl: idx, neg });
            neg = false;
            i += 1;
        }
        if let Some(s) = cur {
            suites.push(s);
        }
        let cond = Cond { suites, unless, w };
        if let Some(m) = self.conflicts(&cond) {
            diags.push(AclDiag::AtLine(m));
        }
        Ok(cond)
    }

    /// HAProxy's `warnif_cond_conflicts()` message for the first ACL of `c` that cannot work
    /// at its place, if any.
    fn conflicts(&self, c: &Cond) -> Option<String> {
        let wn = c.w.name();
        let terms = || c.suites.iter().flatten().map(|t| &self.acls[t.acl]);
        for acl in terms() {
            if acl.exprs.iter().all(|e| !e.expr.class().valid_at(c.w)) {
                return Some(if acl.name.is_empty() {
                    format!(
                        "anonymous acl will never match because it uses keyword '{}' which is incompatible with '{wn}'",
                        acl.exprs[0].kw
                    )
                } else {
                    format!(
                        "acl '{}' will never match because it only involves keywords that are incompatible with '{wn}'",
                        acl.name
                    )
                });
            }
        }
        for acl in terms() {
            if let Some(e) = acl.exprs.iter().find(|e| !e.expr.class().valid_at(c.w)) {
                return Some(if acl.name.is_empty() {
                    format!(
                        "anonymous acl involves keyword '{}' which is incompatible with '{wn}'",
                        e.kw
                    )
                } else {
                    format!(
                        "acl '{}' involves keywords '{}' which is incompatible with '{wn}'",
                        acl.name, e.kw
                    )
                });
            }
        }
        None
    }
}

fn builtin_expr(fetch: Fetch, kw: &'static str, class: Class) -> SampleExpr {
    SampleExpr {
        fetch,
        kw,
        class,
        convs: Vec::new(),
        out: SmpType::Bool,
    }
}

/// Parses `<criterion> [flags] [operator] [patterns]` (HAProxy's `parse_acl_expr()`).
fn parse_acl_expr(words: &[String], diags: &mut Vec<AclDiag>) -> Result<AclExpr, String> {
    let Some(crit) = words.first() else {
        return Err("missing fetch method in ACL expression ''".into());
    };
    let klen = crit
        .bytes()
        .position(|c| !is_idchar(c))
        .unwrap_or(crit.len());
    let aclkw = ACL_KWS.iter().find(|(n, _, _)| *n == &crit[..klen]);
    let (expr, kw, mut kind, rest) = match aclkw {
        Some(&(name, fname, kind)) => {
            let (e, has_conv) = parse_aclkw_expr(crit, name, fname)?;
            let kind = if has_conv {
                MatchKind::default_for(e.out)
            } else {
                Some(kind)
            };
            (e, name.to_string(), kind, &words[1..])
        }
        None => {
            let (e, end) = SampleExpr::parse(words, false)
                .map_err(|m| format!("{m} in ACL expression '{crit}'"))?;
            let kind = MatchKind::default_for(e.out);
            let kw = e.kw.to_string();
            let consumed = end.word + 1;
            (e, kw, kind, &words[consumed.min(words.len())..])
        }
    };
    if kind.is_some() && expr.out != SmpType::Bool && rest.first().is_none_or(|s| s.is_empty()) {
        diags.push(AclDiag::Bare(format!(
            "parsing acl keyword '{crit}' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n"
        )));
    }
    let mut icase = false;
    let mut no_dns = false;
    let mut files: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rest.len() && rest[i].starts_with('-') {
        match rest[i].as_str() {
            "-i" => icase = true,
            "-n" => no_dns = true,
            "-M" => {}
            "-u" => {
                if let Some(v) = rest.get(i + 1) {
                    if !strtol_consumes_all(v) {
                        return Err("the argument of -u must be an integer".into());
                    }
                    i += 1;
                }
            }
            "-f" => {
                if kind.is_none() {
                    return Err(format!("matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"));
                }
                files.push(rest.get(i + 1).cloned().unwrap_or_default());
                i += 1;
            }
            "-m" => {
                if !files.is_empty() {
                    return Err("'-m' must only be specified before patterns and files in parsing ACL expression".into());
                }
                let m = rest.get(i + 1).map(String::as_str).unwrap_or("");
                let k = MatchKind::from_name(m).ok_or_else(|| {
                    format!("unknown matching method '{m}' when parsing ACL expression")
                })?;
                if k != MatchKind::Found && !expr.out.can_cast(k.expect_type()) {
                    return Err(format!(
                        "matching method '{m}' cannot be used with fetch keyword '{kw}'"
                    ));
                }
                kind = Some(k);
                i += 1;
            }
            "--" => {
                i += 1;
                break;
            }
            o => {
                return Err(format!("'{o}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"))
            }
        }
        i += 1;
    }
    let Some(kind) = kind else {
        return Err(format!("matching method must be specified first (using '-m') when using a sample fetch of this type ('{kw}')"));
    };
    let mut pats = Patterns::new(kind, icase);
    for f in &files {
        let text = std::fs::read(f).map_err(|_| format!("failed to open pattern file <{f}>"))?;
        for line in text.split(|&c| c == b'\n') {
            if line.first() == Some(&b'#') {
                continue;
            }
            let mut l = line;
            while let [b' ' | b'\t', r @ ..] = l {
                l = r;
            }
            let end = l
                .iter()
                .position(|&c| c == b'\r' || c == 0)
                .unwrap_or(l.len());
            let l = &l[..end];
            if l.is_empty() {
                continue;
            }
            pats.add(&String::from_utf8_lossy(l), Op::Eq, no_dns)?;
        }
    }
    let mut op = Op::Eq;
    for w in &rest[i..] {
        if kind.int_patterns() {
            if let Some(o) = Op::from_word(w) {
                op = o;
                continue;
            }
        }
        pats.add(w, op, no_dns)?;
    }
    Ok(AclExpr {
        kw,
        expr,
        pats,
        url_abs: false,
    })
}

/// True when `strtol(s, &end, 10)` leaves `*end == '\0'`: blanks, a sign and digits, or
/// nothing at all (no digit leaves `end` at the start of `s`).
fn strtol_consumes_all(s: &str) -> bool {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    s.is_empty() || (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
}

/// Parses an ACL keyword with its arguments and directly attached converters. Returns the
/// expression and whether converters were found.
fn parse_aclkw_expr(
    crit: &str,
    name: &'static str,
    fname: &str,
) -> Result<(SampleExpr, bool), String> {
    let fkw = find_fetch(fname).ok_or_else(|| format!("unknown fetch method '{fname}'"))?;
    let b = crit.as_bytes();
    let n = name.len();
    let pre = |m: String| format!("ACL keyword '{name}' : {m}");
    let (args, mut pos) = if b.get(n) == Some(&b'(') {
        let (args, used) = parse_args(&crit[n + 1..], fkw.args, fkw.min_args).map_err(pre)?;
        let p = n + 1 + used;
        match b.get(p) {
            Some(b')') => (args, p + 1),
            Some(_) => return Err(pre(format!("expected ')' before '{}'", &crit[p..]))),
            None => return Err(pre("expected ')'".into())),
        }
    } else {
        (no_paren_args(fkw.args, fkw.min_args).map_err(pre)?, n)
    };
    let fetch = build_fetch(fkw, args).map_err(|m| format!("in argument to '{name}', {m}"))?;
    let mut expr = SampleExpr {
        fetch,
        kw: fkw.name,
        class: fkw.class,
        convs: Vec::new(),
        out: fkw.out,
    };
    let mut ckw: Option<&str> = None;
    while pos < b.len() {
        if b[pos] != b',' {
            return Err(match ckw {
                Some(c) => format!("ACL keyword '{name}' : missing comma after converter '{c}'."),
                None => format!("ACL keyword '{name}' : missing comma after fetch keyword."),
            });
        }
        while pos < b.len() && b[pos] == b',' {
            pos += 1;
        }
        if pos >= b.len() {
            break;
        }
        let cl = b[pos..]
            .iter()
            .position(|&c| !is_idchar(c))
            .unwrap_or(b.len() - pos);
        let cname = &crit[pos..pos + cl];
        let conv = crate::conv::Conv::find(cname)
            .ok_or_else(|| format!("ACL keyword '{name}' : unknown converter '{cname}'."))?;
        if !expr.out.can_cast(conv.in_type()) {
            return Err(format!(
                "ACL keyword '{name}' : converter '{cname}' cannot be applied."
            ));
        }
        pos += cl;
        if b.get(pos) == Some(&b'(') {
            if b.get(pos + 1) == Some(&b')') {
                pos += 2;
            } else if pos + 1 >= b.len() {
                return Err(format!(
                    "ACL keyword '{name}' : invalid arg 1 in converter '{cname}' : expected ')'."
                ));
            } else {
                return Err(format!(
                    "ACL keyword '{name}' : invalid arg 1 in converter '{cname}' : expected ')' before '{}'.",
                    &crit[pos + 1..]
                ));
            }
        }
        expr.convs.push(conv);
        expr.out = conv.out_type();
        ckw = Some(cname);
    }
    let has = !expr.convs.is_empty();
    Ok((expr, has))
}

/// One term of a condition: an ACL, possibly negated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Term {
    acl: usize,
    neg: bool,
}

/// A compiled `if`/`unless` condition: OR of suites, each an AND of terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    suites: Vec<Vec<Term>>,
    unless: bool,
    w: Where,
}

impl Cond {
    /// Evaluates the condition against the ACLs of `table` (the table it was compiled with).
    /// An empty `if` is false and an empty `unless` true, as upstream.
    pub fn eval(&self, table: &AclTable, ctx: &dyn SampleCtx, dir: Dir) -> bool {
        let pass = self.suites.iter().any(|suite| {
            suite.iter().all(|t| {
                let acl = &table.acls[t.acl];
                let r = acl
                    .exprs
                    .iter()
                    .any(|e| live(e.expr.class(), self.w) && e.matches(ctx, dir));
                r != t.neg
            })
        });
        pass != self.unless
    }
}

/// False for expressions whose data is gone (or not there yet) where they are evaluated.
/// `be_name` still answers before a backend is chosen (HAProxy reports the frontend).
fn live(c: Class, w: Where) -> bool {
    c.valid_at(w) || c == Class::Backend
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testctx::TestCtx;

    fn ws(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    }

    fn table(acls: &[(&str, &str)]) -> AclTable {
        let mut t = AclTable::new();
        for (n, d) in acls {
            t.declare(n, &ws(d), &mut Vec::new()).unwrap();
        }
        t
    }

    fn check(t: &mut AclTable, c: &TestCtx, cond: &str) -> bool {
        let mut words = ws(cond);
        let unless = words[0] == "unless";
        words.remove(0);
        let mut d = Vec::new();
        let cond = t
            .compile_cond(&words, unless, Where::FE_REQ, &mut d)
            .unwrap();
        cond.eval(t, c, Dir::Req)
    }

    fn acl_err(def: &str) -> String {
        AclTable::new()
            .declare("a", &ws(def), &mut Vec::new())
            .unwrap_err()
    }

    /// The configuration parser's view (`SampleKeywords`) and the compiler's are one: every
    /// fetch and ACL keyword of the tables is accepted by the check the parser runs and
    /// compiles; a name in neither is refused by both with upstream's message; every
    /// predefined ACL is known to the parser and compiles. (Before, `hrs-cfg` kept its own
    /// list: it accepted `status_len` or `src_beg`, which failed at compile time, and refused
    /// `req_proto_http` and `req.rdp_cookie_cnt`, which work.)
    #[test]
    fn parser_and_compiler_share_one_table() {
        use crate::fetch::FETCH_KWS;
        use hrs_cfg::acl::AclKeywords;
        let kws = SampleKeywords;
        let args = |name: &str| match name {
            "var" => "var(txn.x)".to_string(),
            "str" => "str(x)".to_string(),
            "int" => "int(1)".to_string(),
            n => n.to_string(),
        };
        let names = FETCH_KWS.iter().map(|k| k.name);
        for name in names.chain(ACL_KWS.iter().map(|k| k.0)) {
            let def = ws(&format!("{} -m found", args(name)));
            assert_eq!(kws.check_acl_expr(&def), Ok(()), "{name}");
            assert!(
                AclTable::new().declare("a", &def, &mut Vec::new()).is_ok(),
                "{name}"
            );
        }
        for name in ["status_len", "src_beg", "resp.ver", "req_ver_beg", "frob"] {
            let want = format!("unknown fetch method '{name}' in ACL expression '{name}'");
            assert_eq!(
                kws.check_acl_expr(&ws(&format!("{name} x"))),
                Err(want.clone())
            );
            assert_eq!(acl_err(&format!("{name} x")), want);
        }
        for (name, _) in PREDEFINED {
            assert!(kws.is_predefined_acl(name), "{name}");
            let cond =
                AclTable::new().compile_cond(&ws(name), false, Where::FE_REQ, &mut Vec::new());
            assert!(cond.is_ok(), "{name}");
        }
        assert!(!kws.is_predefined_acl("HTTP_3.0") && !kws.is_predefined_acl("true"));
    }

    fn ctx() -> TestCtx {
        TestCtx::get(
            "/p/a?x",
            &[
                ("host", "www.example.com"),
                ("x", "a, b ,c"),
                ("X", "\"d,e\", f"),
                ("x", ""),
                ("n", "12"),
                ("n2", "abc"),
                ("neg", "-5"),
            ],
        )
    }

    #[test]
    fn matchers_like_haproxy() {
        // the same ACLs and results as the empirical run against haproxy 2.6
        let c = ctx();
        let cases: &[(&str, bool)] = &[
            ("req.hdr(x) a", true),
            ("req.hdr(x) -i A", true),
            ("req.hdr(x) -m beg b", true),
            ("hdr_beg(x) d,", false),
            ("hdr_sub(x) ,", true),
            ("hdr_end(x) c", true),
            ("hdr_len(x) 0", true),
            ("hdr_len(x) gt 3", true),
            ("req.hdr(x) -m found", true),
            ("req.hdr(nope) -m found", false),
            ("req.hdr_cnt(x) 5:7", true),
            ("req.hdr_cnt(x) lt 3 10", true),
            ("req.hdr_cnt(x) ge 7", false),
            ("req.hdr_cnt(x) :6", true),
            ("req.hdr(x)", false),
            ("always_true", true),
            ("always_false", false),
            ("path -m dir p", true),
            ("path -m dom a", true),
            ("path_dir /p/a", true),
            ("method GET", true),
            ("method get", false),
            ("method -i get", false),
            ("req.hdr(x,1) b", false),
            ("req.fhdr(x) d,e", false),
            ("req.fhdr(x) f", false),
            ("req.hdr(x) -i -m sub A", true),
            ("path_len 4", true),
            ("req.hdr_cnt(x) eq 6", true),
            ("req.hdr_cnt(x) -m bool", true),
            ("req.hdr_cnt(nope) -m bool", false),
            ("req.hdr(n) -m int 12", true),
            ("req.hdr(n) -m int gt 5", true),
            ("req.hdr(n2) -m int 0", true),
            ("src 127.0.0.0/8", true),
            ("src 10.0.0.1 127.0.0.1", true),
            ("src -m str 127.0.0.1", true),
            ("dst_port 9100", true),
            ("req.hdr(n) -m len 2", true),
            ("int(5) -m str 5", true),
            ("always_true -m int 1", true),
            ("str(abc) -m beg ab", true),
            ("req.hdr(x),upper A", true),
            ("req.hdr(n) -m int 3:20", true),
            ("req.hdr(neg) -m int lt 0", true),
            ("req.hdr(neg) -m int -- -5", true),
            ("req.hdr(x) -m len 0", true),
            ("req.hdr(x) -m found -i", true),
            ("src ::ffff:127.0.0.1", true),
            ("path -m dom p.a", false),
            ("hdr_dom(host) example", true),
            ("hdr_dom(host) www.example.com", true),
            ("hdr_dom(host) ex", false),
            ("query -m found", true),
            ("req.hdr(n) 12", true),
            ("req.hdr(n) -m int 1:", true),
            ("status 200", false),
            ("str(ABC) lower abc", true),
            ("str(ABC) lower", false),
            ("str(lower) lower", false),
            ("path_beg,upper /P", false),
            ("path_beg,upper /P/A", true),
            // operators are words of integer methods only: elsewhere they are patterns
            ("str(lt) lt", true),
            ("str(gt) -m beg ge gt", true),
            ("str(3) -m len gt 1", false),
            ("str(3) -m len ge 1", true),
            ("method -m found", true),
            ("method -m len 3", true),
            ("method -m bin 474554", true),
            // converters attached to an ACL keyword: empty parentheses, repeated and
            // trailing commas; the match is then the converter's type's (exact string)
            ("path_beg, /p", true),
            ("path_beg,,upper /P/A", true),
            ("path_beg,upper,lower /p/a", true),
            ("path_beg,upper() /P/A", true),
            ("path_beg,upper(),lower /p/a", true),
            // "--" ends the options and is not a pattern itself
            ("str(--) -- x", false),
            ("str(-x) -- -x", true),
            ("path -m regm ^/p/", true),
            ("path -m regm ^/x", false),
        ];
        for (def, want) in cases {
            let mut t = table(&[("a", def)]);
            assert_eq!(check(&mut t, &c, "if a"), *want, "{def}");
        }
    }

    /// Every ACL keyword with an implied method (`http_acl.c`'s table) on one request and
    /// its response, one case that matches and one that does not per keyword. The base is
    /// `www.example.com/p/a`, the URL `/p/a?x`.
    #[test]
    fn acl_keywords_with_implied_methods() {
        let mut c = TestCtx::get(
            "/p/a?x",
            &[
                ("host", "www.example.com"),
                ("x-ip", "10.1.2.3"),
                ("n", "12"),
            ],
        );
        let mut res = hrs_http::HttpHead::response(hrs_http::Version::Http11, 200, b"OK", 0);
        for (n, v) in [
            ("server", "web01.example.com"),
            ("x-ip", "192.168.0.7"),
            ("n", "7"),
            ("v", "a, b"),
            ("path", "/srv/web"),
        ] {
            res.add_header(n.as_bytes(), v.as_bytes());
        }
        c.res = Some(res);
        let req_cases: &[(&str, bool)] = &[
            ("base www.example.com/p/a", true),
            ("base www.example.com/p", false),
            ("base_beg www.ex", true),
            ("base_beg /p", false),
            ("base_dir p", true),
            ("base_dir www", false),
            ("base_dom example", true),
            ("base_dom exam", false),
            ("base_end /p/a", true),
            ("base_end www", false),
            ("base_len 19", true),
            ("base_len 18", false),
            ("base_reg ^www\\.[a-z]+\\.com/", true),
            ("base_reg ^/p", false),
            ("base_sub ample.com/p", true),
            ("base_sub ?x", false),
            ("url /p/a?x", true),
            ("url_beg /p/", true),
            ("url_beg p", false),
            ("url_dir a", true),
            ("url_dir b", false),
            ("url_dom p", true),
            ("url_dom q", false),
            ("url_end ?x", true),
            ("url_end /a", false),
            ("url_len 6", true),
            ("url_len 4", false),
            ("url_reg a\\?x$", true),
            ("url_reg ^x", false),
            ("url_sub /a?", true),
            ("url_sub //", false),
            ("path_dom a", true),
            ("path_dom x", false),
            ("path_sub p/a", true),
            ("path_sub a?x", false),
            ("hdr_dir(host) www.example.com", true),
            ("hdr_dir(host) example", false),
            ("hdr_reg(host) ^www\\.", true),
            ("hdr_reg(host) ^example", false),
            ("hdr_ip(x-ip) 10.0.0.0/8", true),
            ("hdr_ip(x-ip) 192.168.0.0/16", false),
            ("hdr_val(n) gt 5", true),
            ("hdr_val(n) lt 5", false),
            ("req_ver 1.1", true),
            ("req_ver 1.0", false),
            ("req.len gt 0", true),
            ("req.proto_http", true),
            ("wait_end", true),
        ];
        for (def, want) in req_cases {
            let mut t = table(&[("a", def)]);
            assert_eq!(check(&mut t, &c, "if a"), *want, "{def}");
        }
        let res_cases: &[(&str, bool)] = &[
            ("shdr(server) web01.example.com", true),
            ("shdr_beg(server) web", true),
            ("shdr_beg(server) example", false),
            ("shdr_dir(path) web", true),
            ("shdr_dir(path) we", false),
            ("shdr_dom(server) example", true),
            ("shdr_dom(server) exam", false),
            ("shdr_end(server) .com", true),
            ("shdr_end(server) web", false),
            ("shdr_len(server) 17", true),
            ("shdr_len(server) 3", false),
            ("shdr_reg(server) ^web[0-9]+", true),
            ("shdr_reg(server) ^[0-9]", false),
            ("shdr_sub(server) 01.ex", true),
            ("shdr_sub(server) xx", false),
            ("shdr_cnt(v) eq 2", true),
            ("shdr_ip(x-ip) 192.168.0.0/16", true),
            ("shdr_val(n) eq 7", true),
            ("res.hdr_cnt(v) eq 2", true),
            ("res.fhdr_cnt(v) eq 1", true),
            ("res.fhdr(v) -m beg a,", true),
            ("res.fhdr(v) b", false),
            ("res.hdr_ip(x-ip) 10.0.0.0/8", false),
            ("res.hdr_val(n) ge 7", true),
            ("res.ver 1.1", true),
            ("resp_ver 1.0", false),
            ("resp_ver 1.1", true),
        ];
        for (def, want) in res_cases {
            let mut t = table(&[("a", def)]);
            let mut d = Vec::new();
            let cond = t
                .compile_cond(&ws("a"), false, Where::FE_RES, &mut d)
                .unwrap();
            assert_eq!(cond.eval(&t, &c, Dir::Res), *want, "{def}");
        }
    }

    #[test]
    fn predefined() {
        let c = ctx();
        let mut t = AclTable::new();
        for (n, want) in [
            ("TRUE", true),
            ("FALSE", false),
            ("HTTP", true),
            ("HTTP_1.0", false),
            ("HTTP_1.1", true),
            ("METH_GET", true),
            ("METH_POST", false),
            ("LOCALHOST", true),
            ("HTTP_URL_SLASH", true),
            ("HTTP_URL_ABS", false),
            ("HTTP_URL_STAR", false),
            ("HTTP_CONTENT", false),
            ("REQ_CONTENT", true),
            ("WAIT_END", true),
            ("RDP_COOKIE", false),
        ] {
            assert_eq!(check(&mut t, &c, &format!("if {n}")), want, "{n}");
        }
        let c = TestCtx::get("http://foo/", &[("host", "foo"), ("content-length", "3")]);
        assert!(check(&mut t, &c, "if HTTP_URL_ABS HTTP_CONTENT"));
        let mut c = TestCtx::get("/", &[]);
        c.req = Some(hrs_http::HttpHead::request(
            b"HEAD",
            b"/",
            hrs_http::Version::Http10,
            0,
        ));
        assert!(check(&mut t, &c, "if METH_GET HTTP_1.0 !METH_POST"));
        assert!(check(&mut t, &c, "if METH_HEAD !HTTP_2.0"));
        for (meth, acl) in [
            ("CONNECT", "METH_CONNECT"),
            ("DELETE", "METH_DELETE"),
            ("OPTIONS", "METH_OPTIONS"),
            ("PUT", "METH_PUT"),
            ("TRACE", "METH_TRACE"),
        ] {
            c.req = Some(hrs_http::HttpHead::request(
                meth.as_bytes(),
                b"/",
                hrs_http::Version::Http11,
                0,
            ));
            assert!(check(&mut t, &c, &format!("if {acl} !METH_GET")), "{acl}");
            assert!(!check(&mut t, &c, "if METH_HEAD"), "{acl}");
        }
        c.req = Some(hrs_http::HttpHead::request(
            b"GET",
            b"/",
            hrs_http::Version::Http2,
            0,
        ));
        assert!(check(&mut t, &c, "if HTTP_2.0 !HTTP_1.1"));
        // user-defined names take precedence over predefined ones
        let mut t = table(&[("TRUE", "always_false")]);
        assert!(!check(&mut t, &c, "if TRUE"));
    }

    #[test]
    fn logic() {
        let c = ctx();
        let mut t = table(&[
            ("t", "always_true"),
            ("f", "always_false"),
            ("x", "req.hdr(x) zz"),
            ("x", "req.hdr(x) a"),
        ]);
        assert!(check(&mut t, &c, "if t"));
        assert!(check(&mut t, &c, "if x"), "lines of one name OR together");
        assert!(!check(&mut t, &c, "if t f"));
        assert!(check(&mut t, &c, "if f || t"));
        assert!(check(&mut t, &c, "if f or f OR t"));
        assert!(check(&mut t, &c, "if !f"));
        assert!(check(&mut t, &c, "if ! f"));
        assert!(check(&mut t, &c, "if !!t"));
        assert!(!check(&mut t, &c, "if !t || !f !t"));
        assert!(check(&mut t, &c, "unless f"));
        assert!(!check(&mut t, &c, "unless t"));
        assert!(check(&mut t, &c, "if { req.hdr(x) a } { always_true }"));
        assert!(!check(&mut t, &c, "if !{ always_true }"));
        assert!(!check(&mut t, &c, "if"));
        assert!(check(&mut t, &c, "unless"));
        assert!(check(&mut t, &c, "if || t"));
        assert!(check(&mut t, &c, "if t ||"));
        let mut d = Vec::new();
        assert_eq!(
            t.compile_cond(&ws("nope"), false, Where::FE_REQ, &mut d)
                .unwrap_err(),
            "no such ACL : 'nope'"
        );
        assert_eq!(
            t.compile_cond(&ws("{ path /x"), false, Where::FE_REQ, &mut d)
                .unwrap_err(),
            "missing closing '}' in condition"
        );
        assert_eq!(
            t.compile_cond(&ws("{ }"), false, Where::FE_REQ, &mut d)
                .unwrap_err(),
            "missing fetch method in ACL expression ''"
        );
        assert_eq!(
            t.compile_cond(&ws("{ path -m int x }"), false, Where::FE_REQ, &mut d)
                .unwrap_err(),
            "'x' is not a number"
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            acl_err("path -m frob x"),
            "unknown matching method 'frob' when parsing ACL expression"
        );
        assert_eq!(
            acl_err("path -m"),
            "unknown matching method '' when parsing ACL expression"
        );
        assert_eq!(
            acl_err("path -f /nonexistent"),
            "failed to open pattern file </nonexistent>"
        );
        assert!(acl_err("path -m reg x(").contains("invalid"));
        assert!(acl_err("path_reg (").contains("invalid"));
        assert_eq!(
            acl_err("req.hdr(n) -m int -3:20"),
            "'-3:20' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
        );
        assert_eq!(
            acl_err("var(txn.a) 5"),
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('var')"
        );
        assert_eq!(
            acl_err("var(txn.a)"),
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('var')"
        );
        assert_eq!(
            acl_err("always_true -m ip 1.2.3.4"),
            "matching method 'ip' cannot be used with fetch keyword 'always_true'"
        );
        // `method` is a method sample: no cast to an integer (`sample_casts[METH][SINT]`)
        for m in ["int", "bool"] {
            assert_eq!(
                acl_err(&format!("method -m {m} 1")),
                format!("matching method '{m}' cannot be used with fetch keyword 'method'")
            );
        }
        assert_eq!(
            acl_err("path,frob x"),
            "ACL keyword 'path' : unknown converter 'frob'."
        );
        for (def, msg) in [
            (
                "path_beg,upper()x /P",
                "missing comma after converter 'upper'.",
            ),
            (
                "path_beg,upper) /P",
                "missing comma after converter 'upper'.",
            ),
            (
                "path_beg,upper( /P",
                "invalid arg 1 in converter 'upper' : expected ')'.",
            ),
            (
                "path_beg,upper(x) /P",
                "invalid arg 1 in converter 'upper' : expected ')' before 'x)'.",
            ),
            (
                "path_beg,upper(a,b) /P",
                "invalid arg 1 in converter 'upper' : expected ')' before 'a,b)'.",
            ),
        ] {
            assert_eq!(
                acl_err(def),
                format!("ACL keyword 'path_beg' : {msg}"),
                "{def}"
            );
        }
        // a '\\' ending an argument list (haproxy 2.6.12)
        assert_eq!(
            acl_err("str(a\\ -m found"),
            "fetch method 'str' : failed to parse '\\' after 'a' as type 'string' at position 1 in ACL expression 'str(a\\'"
        );
        assert_eq!(
            acl_err("hdr_beg(a\\"),
            "ACL keyword 'hdr_beg' : failed to parse '\\' after 'a' as type 'string' at position 1"
        );
        assert_eq!(
            acl_err("path(x) x"),
            "ACL keyword 'path' : expected ')' before 'x)'"
        );
        assert_eq!(
            acl_err("path_frob x"),
            "unknown fetch method 'path_frob' in ACL expression 'path_frob'"
        );
        assert_eq!(
            acl_err("req.hdr_beg(x) x"),
            "unknown fetch method 'req.hdr_beg' in ACL expression 'req.hdr_beg(x)'"
        );
        assert_eq!(
            acl_err("req.hdr(x),frob y"),
            "unknown converter 'frob' in ACL expression 'req.hdr(x),frob'"
        );
        assert_eq!(
            acl_err("hdr_beg(x,-11) y"),
            "in argument to 'hdr_beg', header occurrence must be >= -10"
        );
        assert_eq!(
            acl_err("hdr_beg(x,1x) y"),
            "ACL keyword 'hdr_beg' : failed to parse '1x' as type 'integer' at position 2"
        );
        assert_eq!(
            acl_err("var(txn.a-b) -m found"),
            "invalid args in fetch method 'var' : invalid syntax at char '-b' in ACL expression 'var(txn.a-b)'"
        );
        assert_eq!(
            acl_err("req.hdr(x -m found"),
            "fetch method 'req.hdr' : expected ')' in ACL expression 'req.hdr(x'"
        );
        // `strtol()` must read the whole word (leading blanks and a sign are its syntax)
        let u = |v: &str| {
            let w: Vec<String> = ["path", "-u", v, "x"].map(String::from).to_vec();
            AclTable::new().declare("a", &w, &mut Vec::new())
        };
        for bad in ["x", "1x", "-", " ", "5 ", "0x5"] {
            assert_eq!(
                u(bad).unwrap_err(),
                "the argument of -u must be an integer",
                "{bad:?}"
            );
        }
        for ok in ["", "7", "-5", "+5", " \t5"] {
            assert!(u(ok).is_ok(), "{ok:?}");
        }
        assert_eq!(
            acl_err("status lt abc"),
            "'abc' is neither a number nor a supported operator"
        );
        assert_eq!(
            acl_err("path -m bin 414"),
            "an even number of hex digit is expected"
        );
        for ok in [
            "path -m found x",
            "path -m bool",
            "path -m int 1",
            "req.hdr(a,) -m found",
            "path -i -n -M --",
            "path -u 3 x",
            "status lt",
            "method FOO",
            "method -m beg G",
            "hdr_cnt(x),lower 1",
        ] {
            AclTable::new()
                .declare("a", &ws(ok), &mut Vec::new())
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn pattern_files() {
        let p = std::env::temp_dir().join(format!("hrs-sample-acl-{}.lst", std::process::id()));
        std::fs::write(&p, "# comment\n  /a\n\n/b\r\n#/c\n").unwrap();
        let mut t = table(&[("a", &format!("path -f {}", p.display()))]);
        assert!(check(&mut t, &TestCtx::get("/a", &[]), "if a"));
        assert!(check(&mut t, &TestCtx::get("/b", &[]), "if a"));
        assert!(!check(&mut t, &TestCtx::get("/c", &[]), "if a"));
        // the file name is not a pattern
        let name = p.display().to_string();
        assert!(!check(&mut t, &TestCtx::get(&name, &[]), "if a"));
        std::fs::remove_file(&p).ok();
    }

    #[test]
    fn warnings() {
        let mut d = Vec::new();
        let mut t = AclTable::new();
        t.declare("x", &ws("req.hdr(x)"), &mut d).unwrap();
        assert!(
            matches!(&d[0], AclDiag::Bare(m) if m.starts_with("parsing acl keyword 'req.hdr(x)' :\n  no pattern"))
        );
        d.clear();
        t.declare("p", &ws("path /x"), &mut d).unwrap();
        t.declare("p", &ws("status 200"), &mut d).unwrap();
        t.declare("r", &ws("res.hdr(a) -m found"), &mut d).unwrap();
        assert!(d.is_empty());
        t.compile_cond(&ws("p"), false, Where::FE_RES, &mut d)
            .unwrap();
        t.compile_cond(&ws("r"), false, Where::FE_SWITCH, &mut d)
            .unwrap();
        t.compile_cond(&ws("{ path /x }"), false, Where::FE_RES, &mut d)
            .unwrap();
        t.compile_cond(&ws("METH_GET HTTP_URL_SLASH"), false, Where::FE_RES, &mut d)
            .unwrap();
        assert_eq!(
            d,
            vec![
                AclDiag::AtLine("acl 'p' involves keywords 'path' which is incompatible with 'frontend http-response header rule'".into()),
                AclDiag::AtLine("acl 'r' will never match because it only involves keywords that are incompatible with 'frontend use-backend rule'".into()),
                AclDiag::AtLine("anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'".into()),
                AclDiag::AtLine("acl 'HTTP_URL_SLASH' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'".into()),
            ]
        );
    }

    #[test]
    fn dead_terms_in_responses() {
        let mut c = ctx();
        c.res = Some(hrs_http::HttpHead::response(
            hrs_http::Version::Http11,
            200,
            b"OK",
            0,
        ));
        let mut t = table(&[
            ("p", "path /p/a"),
            ("s", "status 200"),
            ("h", "hdr(host) -m found"),
        ]);
        let mut d = Vec::new();
        let cond = t
            .compile_cond(&ws("!p s !h"), false, Where::FE_RES, &mut d)
            .unwrap();
        assert!(cond.eval(&t, &c, Dir::Res));
        let cond = t
            .compile_cond(&ws("p"), false, Where::FE_REQ, &mut d)
            .unwrap();
        assert!(cond.eval(&t, &c, Dir::Req));
    }
}
