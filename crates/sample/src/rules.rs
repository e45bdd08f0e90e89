//! HTTP rules (`http-request`, `http-response`, `http-after-response`): compilation from the
//! configuration's [`HttpRuleSpec`] and evaluation (HAProxy's `http_act.c`, `http_ana.c`
//! rule loops, `http_htx.c` replies).
//!
//! Owns [`Rule`], [`Verdict`] and the action semantics: rules run in order, a rule whose
//! condition fails is skipped, the first `allow`, `deny` or `return` stops the list.
//! `set-header` evaluates its value before removing the old fields; header values are
//! log-format strings. Replies are built exactly as HAProxy sends them (see [`crate::reply`]).

use crate::acl::{AclDiag, AclTable, Cond};
use crate::ctx::{Dir, SampleCtx};
use crate::expr::SampleExpr;
use crate::fetch::{uri_path, Where};
use crate::logfmt::LogFormat;
use crate::reply::{build_reply, error_reply, has_error_page, Reply};
use crate::vars::{SetCond, VarName};
use crate::CompileError;
use hrs_cfg::diag::Loc;
use hrs_cfg::model::HttpRuleSpec;
use hrs_cfg::units::atol;

/// The outcome of a rule list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No final rule matched: go on with the next rule set / processing step.
    Continue,
    /// `allow`: stop evaluating this list (and, for `http-response`, the frontend's list).
    Allow,
    /// `deny`: answer `reply` (HAProxy logs the stream with termination state `PR`, or
    /// `PH` for a response).
    Deny(Reply),
    /// `http-request return`: answer `reply` (termination state `LR`).
    Return(Reply),
}

/// Which rule set a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleSet {
    Req,
    Res,
    AfterRes,
}

impl RuleSet {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            RuleSet::Req => "http-request",
            RuleSet::Res => "http-response",
            RuleSet::AfterRes => "http-after-response",
        }
    }

    fn dir(self) -> Dir {
        match self {
            RuleSet::Req => Dir::Req,
            _ => Dir::Res,
        }
    }
}

#[derive(Clone, Debug)]
enum Body {
    None,
    Raw(Box<[u8]>),
    Fmt(LogFormat),
}

/// How a `return`/`deny` answers.
#[derive(Clone, Debug)]
enum ReplySpec {
    /// A default error page (`default-errorfiles`, or `deny [deny_status N]`).
    ErrorPage(u16),
    Custom {
        status: u16,
        hdrs: Vec<(Box<[u8]>, LogFormat)>,
        ctype: Option<Box<[u8]>>,
        body: Body,
    },
}

impl ReplySpec {
    fn build(&self, ctx: &dyn SampleCtx, dir: Dir) -> Reply {
        match self {
            ReplySpec::ErrorPage(st) => {
                error_reply(*st).unwrap_or_else(|| build_reply(*st, &[], None, Vec::new()))
            }
            ReplySpec::Custom {
                status,
                hdrs,
                ctype,
                body,
            } => {
                let mut values: Vec<Vec<u8>> = Vec::with_capacity(hdrs.len());
                for (_, f) in hdrs {
                    let mut v = Vec::new();
                    f.render_dir(ctx, dir, &mut v);
                    values.push(v);
                }
                let pairs: Vec<(&[u8], &[u8])> = hdrs
                    .iter()
                    .zip(&values)
                    .map(|((n, _), v)| (&**n, v.as_slice()))
                    .collect();
                let body = match body {
                    Body::None => Vec::new(),
                    Body::Raw(b) => b.to_vec(),
                    Body::Fmt(f) => {
                        let mut v = Vec::new();
                        f.render_dir(ctx, dir, &mut v);
                        v
                    }
                };
                build_reply(*status, &pairs, ctype.as_deref(), body)
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Action {
    Allow,
    Deny(ReplySpec),
    Return(ReplySpec),
    SetHeader(Box<[u8]>, LogFormat),
    AddHeader(Box<[u8]>, LogFormat),
    DelHeader(Box<[u8]>),
    SetPath(LogFormat),
    SetVar(VarName, SetCond, SampleExpr),
    /// `http-request disable-l7-retry`.
    DisableL7Retry,
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    action: Action,
    cond: Option<Cond>,
}

/// Context for compiling the rules of one proxy.
pub(crate) struct RuleCx<'a> {
    /// `frontend 'fe'`, `backend 'be'`, `proxy 'li'`.
    pub what: &'a str,
    pub set: RuleSet,
    pub w: Where,
    pub acls: &'a mut AclTable,
    pub warnings: &'a mut Vec<CompileError>,
}

fn push_diags(warnings: &mut Vec<CompileError>, loc: &Loc, d: Vec<AclDiag>) {
    for x in d {
        warnings.push(match x {
            AclDiag::Bare(m) => CompileError { loc: None, msg: m },
            AclDiag::AtLine(m) => CompileError {
                loc: Some(loc.clone()),
                msg: m,
            },
        });
    }
}

/// Arguments as HAProxy sees them: an empty word ends the list.
fn live_args(args: &[String]) -> &[String] {
    let n = args.iter().position(|a| a.is_empty()).unwrap_or(args.len());
    &args[..n]
}

/// Parses the `return`/`deny` arguments (HAProxy's `http_parse_http_reply()`).
fn parse_reply(
    args: &[String],
    default_status: u16,
    w: Where,
    loc: &Loc,
    warnings: &mut Vec<CompileError>,
) -> Result<(ReplySpec, usize), String> {
    let mut status = default_status;
    let mut ctype: Option<String> = None;
    let mut kind: Option<&str> = None; // the payload keyword
    let mut body = Body::None;
    let mut hdrs: Vec<(Box<[u8]>, LogFormat)> = Vec::new();
    let mut i = 0;
    let already = |kind: Option<&str>, a: &str| match kind {
        Some(k) => Err(format!("unexpected '{a}' argument, '{k}' already defined")),
        None => Ok(()),
    };
    while i < args.len() {
        let a = args[i].as_str();
        let next = args.get(i + 1).map(String::as_str).unwrap_or("");
        match a {
            "status" => {
                if next.is_empty() {
                    return Err(format!("'{a}' expects <status_code> as argument"));
                }
                // `reply->status = atol(...)`: an int, so the long is truncated as C does
                let v = atol(next) as i32;
                if !(200..=599).contains(&v) {
                    return Err(format!("Unexpected status code '{v}'"));
                }
                status = v as u16;
                i += 2;
            }
            "content-type" => {
                if next.is_empty() {
                    return Err(format!("'{a}' expects <ctype> as argument"));
                }
                ctype = Some(next.to_string());
                i += 2;
            }
            "default-errorfiles" => {
                already(kind, a)?;
                kind = Some("default-errorfiles");
                i += 1;
            }
            "string" | "lf-string" => {
                already(kind, a)?;
                if next.is_empty() {
                    return Err(format!(
                        "'{a}' expects <{}> as argument",
                        if a == "string" { "str" } else { "fmt" }
                    ));
                }
                kind = Some(if a == "string" { "string" } else { "lf-string" });
                body = if a == "string" {
                    Body::Raw(next.as_bytes().into())
                } else {
                    Body::Fmt(LogFormat::compile_http(next, w)?)
                };
                i += 2;
            }
            "errorfile" | "errorfiles" | "file" | "lf-file" => {
                return Err(format!(
                    "'{a}' is not supported by haproxy-rs (use 'string', 'lf-string' or 'default-errorfiles')"
                ))
            }
            "hdr" => {
                let value = args.get(i + 2).map(String::as_str).unwrap_or("");
                if next.is_empty() || value.is_empty() {
                    return Err(format!("'{a}' expects <name> and <value> as arguments"));
                }
                if ["content-length", "transfer-encoding", "content-type"]
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(next))
                {
                    warnings.push(CompileError {
                        loc: Some(loc.clone()),
                        msg: format!("header '{next}' always ignored by the http reply."),
                    });
                } else {
                    hdrs.push((next.as_bytes().into(), LogFormat::compile_http(value, w)?));
                }
                i += 3;
            }
            _ => break,
        }
    }
    let spec = match kind {
        None => {
            if let Some(ct) = &ctype {
                warnings.push(CompileError {
                    loc: Some(loc.clone()),
                    msg: format!("content-type '{ct}' ignored by the http reply because neither errorfile nor payload defined."),
                });
            }
            ReplySpec::Custom {
                status,
                hdrs,
                ctype: None,
                body: Body::None,
            }
        }
        Some("default-errorfiles") => {
            if !has_error_page(status) {
                return Err(format!("status code '{status}' not handled by default with 'default-errorfiles' argument."));
            }
            if let Some(ct) = &ctype {
                warnings.push(CompileError {
                    loc: Some(loc.clone()),
                    msg: format!(
                        "content-type '{ct}' ignored by the http reply when used with an erorrfile."
                    ),
                });
            }
            if !hdrs.is_empty() {
                warnings.push(CompileError {
                    loc: Some(loc.clone()),
                    msg: "hdr parameters ignored by the http reply when used with an erorrfile."
                        .into(),
                });
            }
            ReplySpec::ErrorPage(status)
        }
        Some(_) => {
            // upstream tests the payload's length here; a `string` or `lf-string` payload
            // is never empty (an empty argument was refused above)
            if status == 204 || status == 304 {
                return Err(format!("No body expected for {status} responses"));
            }
            if ctype.is_none() {
                return Err(
                    "a content type must be defined when non-empty payload is configured".into(),
                );
            }
            ReplySpec::Custom {
                status,
                hdrs,
                ctype: ctype.map(|c| c.into_bytes().into()),
                body,
            }
        }
    };
    Ok((spec, i))
}

/// Compiles one rule.
pub(crate) fn compile_rule(rx: &mut RuleCx<'_>, spec: &HttpRuleSpec) -> Result<Rule, CompileError> {
    let kw = rx.set.keyword();
    let act = spec.action.as_str();
    let loc = &spec.loc;
    let rule_err = |msg: String| CompileError {
        loc: Some(loc.clone()),
        msg: format!(
            "error detected in {} while parsing '{kw} {act}' rule : {msg}.",
            rx.what
        ),
    };
    let args = live_args(&spec.args);
    let w = rx.w;
    // the variable actions match by prefix, as upstream's (`set-vars(x)` is a `set-var`)
    let base = ["set-var-fmt", "set-var", "unset-var"]
        .into_iter()
        .find(|p| act.starts_with(p))
        .unwrap_or_else(|| act.split('(').next().unwrap_or(""));
    let action = match (rx.set, base) {
        (_, "allow") => {
            extra_arg(args, 0, kw, act, loc)?;
            Action::Allow
        }
        (RuleSet::Req, "disable-l7-retry") => {
            extra_arg(args, 0, kw, act, loc)?;
            Action::DisableL7Retry
        }
        (RuleSet::Req, "return") => {
            let (r, used) = parse_reply(args, 200, w, loc, rx.warnings).map_err(rule_err)?;
            extra_arg(args, used, kw, act, loc)?;
            Action::Return(r)
        }
        (RuleSet::Req | RuleSet::Res, "deny") => {
            let default = if rx.set == RuleSet::Req { 403 } else { 502 };
            let (r, used) = match args.first().map(String::as_str) {
                None => (ReplySpec::ErrorPage(default), 0),
                Some("deny_status") if args.len() <= 2 => {
                    let st = args.get(1).map(String::as_str).unwrap_or("");
                    let v: Vec<String> =
                        vec!["status".into(), st.into(), "default-errorfiles".into()];
                    let (r, _) = parse_reply(&v, default, w, loc, rx.warnings).map_err(rule_err)?;
                    (r, args.len())
                }
                Some(_) => {
                    let mut v = args.to_vec();
                    if v[0] == "deny_status" {
                        v[0] = "status".into();
                    }
                    parse_reply(&v, default, w, loc, rx.warnings).map_err(rule_err)?
                }
            };
            extra_arg(args, used, kw, act, loc)?;
            Action::Deny(r)
        }
        (_, "set-header" | "add-header") => {
            if args.len() < 2 {
                return Err(rule_err("expects exactly 2 arguments".into()));
            }
            let f = LogFormat::compile_http(&args[1], w).map_err(rule_err)?;
            extra_arg(args, 2, kw, act, loc)?;
            let name = args[0].as_bytes().into();
            if base == "set-header" {
                Action::SetHeader(name, f)
            } else {
                Action::AddHeader(name, f)
            }
        }
        (_, "del-header") => {
            if args.is_empty() {
                return Err(rule_err("expects at least 1 argument".into()));
            }
            // `-m str` is the default exact match; the other methods are not implemented
            let used = if args.get(1).is_some_and(|a| a == "-m") {
                match args.get(2).map(String::as_str) {
                    None => return Err(rule_err("-m flag expects exactly 1 argument".into())),
                    Some("str") => 3,
                    Some(m @ ("beg" | "end" | "sub" | "reg")) => {
                        return Err(rule_err(format!("-m {m} is not supported by haproxy-rs")))
                    }
                    Some(m) => {
                        return Err(rule_err(format!(
                            "-m with unsupported matching method '{m}'"
                        )))
                    }
                }
            } else {
                1
            };
            extra_arg(args, used, kw, act, loc)?;
            Action::DelHeader(args[0].as_bytes().into())
        }
        (RuleSet::Req, "set-path") => {
            if args.len() != 1 {
                return Err(rule_err("expects exactly 1 argument <format>".into()));
            }
            Action::SetPath(LogFormat::compile_http(&args[0], w).map_err(rule_err)?)
        }
        (_, "set-var") => {
            let expects = "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";
            let Some(inner) = act.strip_prefix("set-var(") else {
                return Err(rule_err(format!(
                    "invalid or incomplete action '{act}'. {expects}"
                )));
            };
            let inner = inner.strip_suffix(')').ok_or_else(|| {
                rule_err(format!(
                    "incomplete argument after action '{act}'. {expects}"
                ))
            })?;
            let (name, conds) = match inner.split_once(',') {
                Some((n, c)) => (n, c),
                None => (inner, ""),
            };
            // parse_store(): the conditions first, then the name
            let conds = SetCond::parse(conds).map_err(rule_err)?;
            let var = VarName::parse_in(name, &act["set-var(".len()..]).map_err(rule_err)?;
            let (expr, _) = SampleExpr::parse(args, false).map_err(rule_err)?;
            if !expr.class().valid_at(w) {
                return Err(rule_err(format!(
                    "fetch method '{act}' extracts information from '{}', none of which is available here",
                    expr.class().source_name()
                )));
            }
            extra_arg(args, 1, kw, act, loc)?;
            Action::SetVar(var, conds, expr)
        }
        _ => {
            return Err(CompileError {
                loc: Some(loc.clone()),
                msg: format!("'{kw}' does not support action '{act}' in haproxy-rs"),
            })
        }
    };
    let cond = match &spec.cond {
        None => None,
        Some(c) => {
            let mut d = Vec::new();
            let cond = rx
                .acls
                .compile_cond(&c.words, c.unless, w, &mut d)
                .map_err(|m| CompileError {
                    loc: Some(loc.clone()),
                    msg: format!("error detected while parsing an '{kw} {act}' condition : {m}."),
                })?;
            push_diags(rx.warnings, loc, d);
            Some(cond)
        }
    };
    Ok(Rule { action, cond })
}

fn extra_arg(
    args: &[String],
    used: usize,
    kw: &str,
    act: &str,
    loc: &Loc,
) -> Result<(), CompileError> {
    match args.get(used) {
        None => Ok(()),
        Some(x) => Err(CompileError {
            loc: None,
            msg: format!("parsing [{loc}]: '{kw} {act}' expects either 'if' or 'unless' followed by a condition but found '{x}'."),
        }),
    }
}

/// HAProxy's `http_replace_req_path()` without query string: keeps scheme and authority and
/// the query string, replaces the path (the whole URI when it has no path).
fn replace_path(uri: &[u8], path: &[u8]) -> Vec<u8> {
    let (pre, p) = match uri_path(uri) {
        Some(p) => (&uri[..uri.len() - p.len()], p),
        None => (&b""[..], uri),
    };
    let q = p.iter().position(|&c| c == b'?').unwrap_or(p.len());
    let mut out = Vec::with_capacity(pre.len() + path.len() + p.len() - q);
    out.extend_from_slice(pre);
    out.extend_from_slice(path);
    out.extend_from_slice(&p[q..]);
    out
}

/// Runs a rule list of set `set` against `ctx`.
pub(crate) fn run(
    rules: &[Rule],
    set: RuleSet,
    acls: &AclTable,
    ctx: &mut dyn SampleCtx,
) -> Verdict {
    let dir = set.dir();
    let mut buf: Vec<u8> = Vec::new();
    for r in rules {
        if let Some(c) = &r.cond {
            if !c.eval(acls, &*ctx, dir) {
                continue;
            }
        }
        match &r.action {
            Action::Allow => return Verdict::Allow,
            Action::DisableL7Retry => ctx.disable_l7_retry(),
            Action::Deny(spec) => return Verdict::Deny(spec.build(&*ctx, dir)),
            Action::Return(spec) => return Verdict::Return(spec.build(&*ctx, dir)),
            Action::SetHeader(name, fmt) | Action::AddHeader(name, fmt) => {
                buf.clear();
                fmt.render_dir(&*ctx, dir, &mut buf);
                let msg = match set {
                    RuleSet::Req => ctx.req_mut(),
                    _ => ctx.res_mut(),
                };
                if let Some(m) = msg {
                    if matches!(r.action, Action::SetHeader(..)) {
                        m.del_header(name);
                    }
                    m.add_header(name, &buf);
                }
            }
            Action::DelHeader(name) => {
                let msg = match set {
                    RuleSet::Req => ctx.req_mut(),
                    _ => ctx.res_mut(),
                };
                if let Some(m) = msg {
                    m.del_header(name);
                }
            }
            Action::SetPath(fmt) => {
                buf.clear();
                fmt.render_dir(&*ctx, dir, &mut buf);
                if let Some(m) = ctx.req_mut() {
                    let uri = replace_path(m.uri(), &buf);
                    m.set_uri(&uri);
                }
            }
            Action::SetVar(var, conds, expr) => {
                let Some(v) = expr.eval(&*ctx, dir).map(|s| s.into_owned()) else {
                    continue;
                };
                ctx.var_set(var.scope, &var.name, v, *conds);
            }
        }
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smp::Smp;
    use crate::testctx::TestCtx;
    use hrs_cfg::model::CondSpec;
    use hrs_http::{HttpHead, Version};

    /// Splits at spaces; `\\ ` is an escaped space, as in the configuration.
    fn ws(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\\' && it.peek() == Some(&' ') {
                cur.push(' ');
                it.next();
            } else if c == ' ' {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    fn spec(line: &str) -> HttpRuleSpec {
        let w = ws(line);
        let end = w
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(w.len());
        HttpRuleSpec {
            action: w[0].clone(),
            args: w[1..end].to_vec(),
            cond: w.get(end).map(|k| CondSpec {
                unless: k == "unless",
                words: w[end + 1..].to_vec(),
            }),
            loc: Loc {
                file: "t.cfg".into(),
                line: 9,
            },
        }
    }

    fn compile(
        set: RuleSet,
        lines: &[&str],
    ) -> Result<(Vec<Rule>, AclTable, Vec<CompileError>), CompileError> {
        let mut acls = AclTable::new();
        let mut warnings = Vec::new();
        let w = match set {
            RuleSet::Req => Where::FE_REQ,
            _ => Where::FE_RES,
        };
        let mut rules = Vec::new();
        for l in lines {
            let mut rx = RuleCx {
                what: "frontend 'fe'",
                set,
                w,
                acls: &mut acls,
                warnings: &mut warnings,
            };
            rules.push(compile_rule(&mut rx, &spec(l))?);
        }
        Ok((rules, acls, warnings))
    }

    fn req(lines: &[&str], c: &mut TestCtx) -> Verdict {
        let (rules, acls, _) = compile(RuleSet::Req, lines).unwrap();
        run(&rules, RuleSet::Req, &acls, c)
    }

    fn err(set: RuleSet, line: &str) -> String {
        compile(set, &[line]).unwrap_err().to_string()
    }

    fn wire(r: &Reply) -> String {
        let mut s = format!(
            "{} {}\n",
            r.status,
            String::from_utf8_lossy(r.head.reason())
        );
        for (n, v) in r.head.headers() {
            s += &format!(
                "{}: {}\n",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            );
        }
        s + "\n" + &String::from_utf8_lossy(&r.body)
    }

    #[test]
    fn returns_and_denies() {
        let mut c = TestCtx::get("/d", &[("host", "h")]);
        let v = req(
            &["return status 200 content-type text/plain string ok"],
            &mut c,
        );
        let Verdict::Return(r) = v else { panic!() };
        assert_eq!(
            wire(&r),
            "200 OK\ncontent-length: 2\ncontent-type: text/plain\n\nok"
        );
        let v = req(&["return"], &mut c);
        let Verdict::Return(r) = v else { panic!() };
        assert_eq!(wire(&r), "200 OK\ncontent-length: 0\n\n");
        let v = req(&["return status 404 content-type text/html lf-string x=%[path]\\ m=%[method] hdr X-Foo bar\\ %[req.hdr(host)] hdr x-two 2"], &mut c);
        let Verdict::Return(r) = v else { panic!() };
        assert_eq!(
            wire(&r),
            "404 Not Found\nx-foo: bar h\nx-two: 2\ncontent-length: 10\ncontent-type: text/html\n\nx=/d m=GET"
        );
        let Verdict::Deny(r) = req(&["deny"], &mut c) else {
            panic!()
        };
        assert_eq!(r.status, 403);
        assert_eq!(r.body.len(), 93);
        let Verdict::Deny(r) = req(&["deny deny_status 500"], &mut c) else {
            panic!()
        };
        assert_eq!((r.status, r.body.len()), (500, 97));
        let Verdict::Deny(r) = req(&["deny status 429"], &mut c) else {
            panic!()
        };
        assert_eq!(wire(&r), "429 Too Many Requests\ncontent-length: 0\n\n");
        let Verdict::Deny(r) = req(&["deny deny_status 404 status 401"], &mut c) else {
            panic!()
        };
        assert_eq!(wire(&r), "401 Unauthorized\ncontent-length: 0\n\n");
        let Verdict::Deny(r) = req(
            &["deny status 404 content-type text/plain string nope hdr x-d 1"],
            &mut c,
        ) else {
            panic!()
        };
        assert_eq!(
            wire(&r),
            "404 Not Found\nx-d: 1\ncontent-length: 4\ncontent-type: text/plain\n\nnope"
        );
        let Verdict::Return(r) = req(&["return status 503 default-errorfiles"], &mut c) else {
            panic!()
        };
        assert_eq!((r.status, r.body.len()), (503, 107));
        let Verdict::Return(r) = req(&["return default-errorfiles"], &mut c) else {
            panic!()
        };
        assert_eq!((r.status, r.body.len()), (200, 58));
        let Verdict::Return(r) = req(&["return status 204"], &mut c) else {
            panic!()
        };
        assert_eq!(wire(&r), "204 No Content\n\n");
        let Verdict::Return(r) = req(
            &["return status 200 content-type text/plain lf-string %[req.fhdr(nope)]"],
            &mut c,
        ) else {
            panic!()
        };
        assert_eq!(wire(&r), "200 OK\ncontent-length: 0\n\n");
        let (_, _, w) = compile(
            RuleSet::Req,
            &["return hdr content-type x/y hdr x-a b hdr content-length 99"],
        )
        .unwrap();
        assert_eq!(
            w[0].to_string(),
            "parsing [t.cfg:9] : header 'content-type' always ignored by the http reply."
        );
        let (_, _, w) = compile(
            RuleSet::Req,
            &[
                "return content-type text/plain",
                "return status 503 default-errorfiles hdr x-a b",
            ],
        )
        .unwrap();
        assert_eq!(w[0].msg, "content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined.");
        assert_eq!(
            w[1].msg,
            "hdr parameters ignored by the http reply when used with an erorrfile."
        );
    }

    #[test]
    fn reply_errors() {
        let e = |l: &str| err(RuleSet::Req, l);
        let pre =
            "parsing [t.cfg:9] : error detected in frontend 'fe' while parsing 'http-request ";
        assert_eq!(
            e("return status 204 string x"),
            format!("{pre}return' rule : No body expected for 204 responses.")
        );
        assert_eq!(
            e("return status 199"),
            format!("{pre}return' rule : Unexpected status code '199'.")
        );
        assert_eq!(
            e("return status abc"),
            format!("{pre}return' rule : Unexpected status code '0'.")
        );
        // atol() saturates to LONG_MAX, which the int status truncates to -1 (haproxy 2.6.12)
        assert_eq!(
            e("return status 9999999999999999999999"),
            format!("{pre}return' rule : Unexpected status code '-1'.")
        );
        assert_eq!(e("return string x"), format!("{pre}return' rule : a content type must be defined when non-empty payload is configured."));
        assert_eq!(
            e("return status 200 content-type t string"),
            format!("{pre}return' rule : 'string' expects <str> as argument.")
        );
        assert_eq!(
            e("return status 200 hdr x"),
            format!("{pre}return' rule : 'hdr' expects <name> and <value> as arguments.")
        );
        assert_eq!(
            e("return status 200 string a string b content-type t"),
            format!("{pre}return' rule : unexpected 'string' argument, 'string' already defined.")
        );
        assert_eq!(
            e("return status 304 content-type t lf-string x"),
            format!("{pre}return' rule : No body expected for 304 responses.")
        );
        assert_eq!(
            e("return status 200 content-type t errorfile /x"),
            format!("{pre}return' rule : 'errorfile' is not supported by haproxy-rs (use 'string', 'lf-string' or 'default-errorfiles').")
        );
        assert_eq!(e("return status 200 frob x"), "parsing [t.cfg:9]: 'http-request return' expects either 'if' or 'unless' followed by a condition but found 'frob'.");
        assert_eq!(e("deny deny_status 418"), format!("{pre}deny' rule : status code '418' not handled by default with 'default-errorfiles' argument.."));
        assert_eq!(
            e("deny deny_status"),
            format!("{pre}deny' rule : 'status' expects <status_code> as argument.")
        );
        assert_eq!(
            e("deny deny_status 100"),
            format!("{pre}deny' rule : Unexpected status code '100'.")
        );
        assert_eq!(e("return status 200 content-type t lf-string %[frob]"), format!("{pre}return' rule : failed to parse sample expression <frob]> : unknown fetch method 'frob'."));
        assert!(compile(
            RuleSet::Req,
            &[
                "return status 200 content-type a content-type b string x",
                "return status 200 status 201",
                // 2^32 + 200 truncated to an int is 200, accepted by haproxy 2.6.12
                "return status 4294967496",
                "deny content-type t string x",
                "return status 418"
            ]
        )
        .is_ok());
    }

    #[test]
    fn header_rules() {
        let mut c = TestCtx::get("/p", &[("host", "h"), ("x", "1"), ("X", "2"), ("y", "k")]);
        let v = req(
            &[
                "set-header x %[req.hdr(x,1)]-%[req.hdr(x)]",
                "add-header Y v2",
                "add-header y %[req.fhdr(nope)]",
                "del-header HOST -m str",
                "set-header z \\x01",
                // hdr() reads the request in request rules
                "add-header h %[hdr(x,1)] if { hdr(y) k }",
            ],
            &mut c,
        );
        assert_eq!(v, Verdict::Continue);
        let h: Vec<(String, String)> = c
            .req
            .as_ref()
            .unwrap()
            .headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into(),
                    String::from_utf8_lossy(v).into(),
                )
            })
            .collect();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            h,
            vec![
                s("y", "k"),
                s("x", "1-2"),
                s("y", "v2"),
                s("y", ""),
                s("z", "\\x01"),
                s("h", "1-2"),
            ]
        );
    }

    /// `disable-l7-retry` tells the stream, when its condition holds.
    #[test]
    fn disable_l7_retry() {
        let mut c = TestCtx::get("/p", &[]);
        req(&["disable-l7-retry if { path /q }"], &mut c);
        assert!(!c.l7_retry_disabled);
        assert_eq!(req(&["disable-l7-retry"], &mut c), Verdict::Continue);
        assert!(c.l7_retry_disabled);
    }

    #[test]
    fn order_and_stops() {
        let mut c = TestCtx::get("/p", &[]);
        let v = req(
            &["add-header a 1", "allow if { path /p }", "add-header a 2"],
            &mut c,
        );
        assert_eq!(v, Verdict::Allow);
        assert_eq!(c.req.as_ref().unwrap().values(b"a").count(), 1);
        let mut c = TestCtx::get("/q", &[]);
        let v = req(
            &[
                "add-header a 1",
                "allow if { path /p }",
                "add-header a 2",
                "deny unless { path /q }",
            ],
            &mut c,
        );
        assert_eq!(v, Verdict::Continue);
        assert_eq!(c.req.as_ref().unwrap().values(b"a").count(), 2);
    }

    #[test]
    fn set_var_rules() {
        let mut c = TestCtx::get("/p", &[("a", "1")]);
        let v = req(&[
            "set-var(txn.b) always_true",
            "set-var(txn.i) int(-42)",
            "set-var(txn.ip) src",
            "set-var(txn.s) str(abc)",
            "set-var(txn.e) str()",
            "set-var(txn.s) req.hdr(nope)",
            "set-var(req.r) str(r)",
            "set-var(sess.ss) str(ss)",
            "set-var(proc.p) str(p)",
            "set-var(txn.c1,ifexists) str(c1)",
            "set-var(txn.s,ifexists) str(s2)",
            "set-var(txn.c2,ifnotexists) str(c2)",
            "set-var(txn.s,ifnotexists) str(s3)",
            "set-var(txn.e,ifnotempty) str(e2)",
            "set-var(txn.e,ifempty) str(e3)",
            "set-var(txn.i,ifgt) int(5)",
            "set-var(txn.i,iflt) int(5)",
            "set-var(txn.x.y) str(dotted)",
            "set-var(check.z) str(z)",
            "return status 200 content-type t lf-string b=%[var(txn.b)]\\ i=%[var(txn.i)]\\ ip=%[var(txn.ip)]\\ s=%[var(txn.s)]\\ e=[%[var(txn.e)]]\\ r=%[var(req.r)]\\ ss=%[var(sess.ss)]\\ p=%[var(proc.p)]\\ c1=%[var(txn.c1)]\\ c2=%[var(txn.c2)]\\ d=%[var(txn.nope,dflt)]\\ xy=%[var(txn.x.y)]\\ ihex=%[var(txn.i),hex]",
        ], &mut c);
        let Verdict::Return(r) = v else { panic!() };
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "b=1 i=5 ip=127.0.0.1 s=s2 e=[e2] r=r ss=ss p=p c1= c2=c2 d=dflt xy=dotted ihex=0000000000000005"
        );
        assert_eq!(c.txn.get("b"), Some(&Smp::Bool(true)));
        let e = |l: &str| err(RuleSet::Req, l);
        let pre = "parsing [t.cfg:9] : error detected in frontend 'fe' while parsing 'http-request";
        assert_eq!(e("set-var(txn.a) status"), format!("{pre} set-var(txn.a)' rule : fetch method 'set-var(txn.a)' extracts information from 'HTTP response', none of which is available here."));
        assert_eq!(
            e("set-var(txn.a-b) int(1)"),
            format!("{pre} set-var(txn.a-b)' rule : invalid syntax at char '-b)'.")
        );
        assert_eq!(e("set-var(txn.a str(1)"), format!("{pre} set-var(txn.a' rule : incomplete argument after action 'set-var(txn.a'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."));
        assert!(e("set-var(tx.a) str(1)")
            .contains("invalid variable name 'tx.a'. A variable name must be start by its scope."));
        assert_eq!(
            e("set-var(txn.a) str(1),frob"),
            format!("{pre} set-var(txn.a)' rule : unknown converter 'frob'.")
        );
        assert_eq!(
            e("set-var(txn.a,frob) int(1)"),
            format!("{pre} set-var(txn.a,frob)' rule : unknown condition \"frob\".")
        );
        // upstream's order: conditions, then the scope, then the characters of the name
        assert_eq!(
            e("set-var(tx.a-b,frob) int(1)"),
            format!("{pre} set-var(tx.a-b,frob)' rule : unknown condition \"frob\".")
        );
        assert!(e("set-var(tx.a-b) int(1)").ends_with(
            "rule : invalid variable name 'tx.a-b'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."
        ));
        assert_eq!(
            e("set-var(txn.a-b,ifset) int(1)"),
            format!("{pre} set-var(txn.a-b,ifset)' rule : invalid syntax at char '-b,ifset)'.")
        );
        // any number of conditions; an empty one ends the list (haproxy 2.6.12)
        assert!(compile(
            RuleSet::Req,
            &[
                "set-var(txn.a,ifset,ifnotset,ifgt,iflt,ifempty) int(1)",
                "set-var(txn.b,,frob) int(1)",
            ]
        )
        .is_ok());
        assert_eq!(e("set-var(txn.a) int(x)"), format!("{pre} set-var(txn.a)' rule : fetch method 'int' : failed to parse 'x' as type 'integer' at position 1."));
        assert!(compile(RuleSet::Req, &["set-var(txn.a) hdr(x)"]).is_ok());
        assert!(err(RuleSet::Res, "set-var(txn.a) path")
            .contains("extracts information from 'HTTP request headers'"));
    }

    #[test]
    fn header_and_cond_errors() {
        let e = |l: &str| err(RuleSet::Req, l);
        let pre = "parsing [t.cfg:9] : error detected in frontend 'fe' while parsing 'http-request";
        assert_eq!(e("set-header x %[status]"), format!("{pre} set-header' rule : sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here."));
        assert_eq!(
            e("set-header x"),
            format!("{pre} set-header' rule : expects exactly 2 arguments.")
        );
        assert_eq!(
            e("del-header"),
            format!("{pre} del-header' rule : expects at least 1 argument.")
        );
        assert_eq!(e("del-header x y"), "parsing [t.cfg:9]: 'http-request del-header' expects either 'if' or 'unless' followed by a condition but found 'y'.");
        assert_eq!(
            e("del-header x -m"),
            format!("{pre} del-header' rule : -m flag expects exactly 1 argument.")
        );
        assert_eq!(
            e("del-header x -m frob"),
            format!("{pre} del-header' rule : -m with unsupported matching method 'frob'.")
        );
        assert_eq!(
            e("del-header x -m beg"),
            format!("{pre} del-header' rule : -m beg is not supported by haproxy-rs.")
        );
        assert_eq!(e("del-header x -m str y"), "parsing [t.cfg:9]: 'http-request del-header' expects either 'if' or 'unless' followed by a condition but found 'y'.");
        assert_eq!(e("disable-l7-retry x"), "parsing [t.cfg:9]: 'http-request disable-l7-retry' expects either 'if' or 'unless' followed by a condition but found 'x'.");
        assert_eq!(
            err(RuleSet::Res, "disable-l7-retry"),
            "parsing [t.cfg:9] : 'http-response' does not support action 'disable-l7-retry' in haproxy-rs"
        );
        assert_eq!(e("deny if nope"), "parsing [t.cfg:9] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nope'.");
        assert_eq!(e("deny if { path -m int x }"), "parsing [t.cfg:9] : error detected while parsing an 'http-request deny' condition : 'x' is not a number.");
        assert!(err(RuleSet::Res, "set-header x %[path]").contains("needs 'HTTP request headers'"));
        assert!(err(RuleSet::Res, "set-header x %[req.len]").contains("needs 'request buffer'"));
        assert!(compile(RuleSet::Req, &["set-header x %[req.len]"]).is_ok());
        assert!(compile(RuleSet::Res, &["set-header x %[hdr(a)]"]).is_ok());
        let (_, _, w) = compile(RuleSet::Res, &["deny if { path /x }"]).unwrap();
        assert_eq!(w[0].to_string(), "parsing [t.cfg:9] : anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'");
    }

    #[test]
    fn response_rules() {
        let (rules, acls, _) = compile(
            RuleSet::Res,
            &[
                "set-header x-fe-res %[res.hdr(x-b)]-%[hdr(x-b)]-%[status]-%[method]",
                "add-header x-hb hdrbeg if { hdr_beg(x-b) 1 }",
                "add-header x-hb shdr if { shdr(x-b) 1 }",
                "add-header x-hb hdr if { hdr(x-b) 1 }",
                "deny if { status 500 }",
            ],
        )
        .unwrap();
        let mut c = TestCtx::get("/p", &[("x-b", "1")]);
        let mut res = HttpHead::response(Version::Http11, 200, b"OK", 64);
        res.add_header(b"x-b", b"1");
        c.res = Some(res);
        assert_eq!(run(&rules, RuleSet::Res, &acls, &mut c), Verdict::Continue);
        let res = c.res.as_ref().unwrap();
        assert_eq!(res.first(b"x-fe-res"), Some(&b"1-1-200-GET"[..]));
        assert_eq!(res.values(b"x-hb").collect::<Vec<_>>(), vec![&b"shdr"[..]]);
        c.res
            .as_mut()
            .unwrap()
            .set_status(500, b"Internal Server Error");
        let Verdict::Deny(r) = run(&rules, RuleSet::Res, &acls, &mut c) else {
            panic!()
        };
        assert_eq!((r.status, r.body.len()), (502, 107));
    }

    #[test]
    fn set_path() {
        assert_eq!(replace_path(b"/a/b?x=1", b"/c"), b"/c?x=1");
        assert_eq!(replace_path(b"http://h:8/a?q", b"/z"), b"http://h:8/z?q");
        assert_eq!(replace_path(b"*", b"/z"), b"/z");
        let mut c = TestCtx::get("/old?k=v", &[]);
        req(&["set-path /new%[path]"], &mut c);
        assert_eq!(c.req.as_ref().unwrap().uri(), b"/new/old?k=v");
    }
}
