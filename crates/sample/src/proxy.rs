//! Per-proxy compilation: ACLs, the three HTTP rule sets, `use_backend` conditions and the
//! log format of one [`Proxy`], plus the evaluation entry points the runtime calls.
//!
//! Owns [`ProxyRules`] and the rule-set ordering HAProxy applies across a frontend and its
//! backend: request rules run per proxy (frontend, then backend once selected); response and
//! after-response rules run backend then frontend, an `allow` only ending its own proxy's
//! list ([`http_res_chain`], [`http_after_res_chain`]).

use crate::acl::{AclDiag, AclTable, Cond};
use crate::ctx::{Dir, SampleCtx};
use crate::fetch::Where;
use crate::logfmt::{LogFormat, CLF_LOG_FORMAT, HTTP_LOG_FORMAT, TCP_LOG_FORMAT};
use crate::rules::{compile_rule, run, Rule, RuleCx, RuleSet, Verdict};
use crate::CompileError;
use hrs_cfg::diag::{Diag, Head, Level, Loc};
use hrs_cfg::model::{AclSpec, Cap, HttpRuleSpec, Mode, Proxy, SwitchRule};
use hrs_cfg::parse::Compiler;
use std::cell::RefCell;

/// Everything rule-related of one proxy, compiled.
#[derive(Clone, Debug)]
pub struct ProxyRules {
    name: String,
    acls: AclTable,
    http_req: Vec<Rule>,
    http_res: Vec<Rule>,
    http_after_res: Vec<Rule>,
    switching: Vec<(SwitchTarget, Option<Cond>)>,
    log_format: Option<LogFormat>,
    warnings: Vec<CompileError>,
}

/// HAProxy's name of a proxy in messages (`proxy_type_str()` and id).
fn what(px: &Proxy) -> String {
    let t = if px.cap.contains(Cap::LISTEN) {
        "proxy"
    } else if px.cap.contains(Cap::FE) {
        "frontend"
    } else {
        "backend"
    };
    format!("{t} '{}'", px.name)
}

/// The backend of a `use_backend` rule: a name, or a log-format rendered per request.
#[derive(Clone, Debug)]
enum SwitchTarget {
    Static(String),
    Dynamic(LogFormat),
}

/// The place of a rule set's conditions for the capabilities of `px`.
fn rule_where(px: &Proxy, set: RuleSet) -> Where {
    let (f, b) = match set {
        RuleSet::Req => (Where::FE_REQ, Where::BE_REQ),
        _ => (Where::FE_RES, Where::BE_RES),
    };
    match (px.cap.contains(Cap::FE), px.cap.contains(Cap::BE)) {
        (true, true) => f.or(b),
        (true, false) => f,
        _ => b,
    }
}

/// The warnings of ACL compilation about the line at `loc`, as [`CompileError`]s.
fn acl_warnings(d: Vec<AclDiag>, loc: &Loc, out: &mut Vec<CompileError>) {
    for x in d {
        out.push(match x {
            AclDiag::Bare(m) => CompileError { loc: None, msg: m },
            AclDiag::AtLine(m) => CompileError {
                loc: Some(loc.clone()),
                msg: m,
            },
        });
    }
}

/// Compiles the `acl` lines of `px` (their warnings go to `warnings`).
fn compile_acls(px: &Proxy, warnings: &mut Vec<CompileError>) -> Result<AclTable, CompileError> {
    let mut acls = AclTable::new();
    for a in &px.acls {
        let mut d = Vec::new();
        acls.declare(&a.name, &a.words, &mut d)
            .map_err(|m| CompileError {
                loc: Some(a.loc.clone()),
                msg: format!("error detected while parsing ACL '{}' : {m}.", a.name),
            })?;
        acl_warnings(d, &a.loc, warnings);
    }
    Ok(acls)
}

/// Compiles the `use_backend` rules of `px` (their condition warnings go to `warnings`).
fn compile_switching(
    px: &Proxy,
    acls: &mut AclTable,
    warnings: &mut Vec<CompileError>,
) -> Result<Vec<(SwitchTarget, Option<Cond>)>, CompileError> {
    let mut switching = Vec::new();
    for sr in &px.switching_rules {
        let cond = match &sr.cond {
            None => None,
            Some(c) => {
                let mut d = Vec::new();
                let cond = acls
                    .compile_cond(&c.words, c.unless, Where::FE_SWITCH, &mut d)
                    .map_err(|m| CompileError {
                        loc: Some(sr.loc.clone()),
                        msg: format!("error detected while parsing switching rule : {m}."),
                    })?;
                acl_warnings(d, &sr.loc, warnings);
                Some(cond)
            }
        };
        switching.push((switch_target(px, sr)?, cond));
    }
    Ok(switching)
}

/// The backend of a `use_backend` rule, as `check_config_validity()` reads it: the name is a
/// log-format; when it compiles to more than one plain text, it is rendered per request.
///
/// # Errors
/// `Parsing [F:N]: failed to parse use_backend rule '...' : ...`.
fn switch_target(px: &Proxy, sr: &SwitchRule) -> Result<SwitchTarget, CompileError> {
    let _ = px;
    let f = LogFormat::compile_http(&sr.backend, Where::FE_SWITCH).map_err(|m| CompileError {
        loc: None,
        msg: format!(
            "Parsing [{}]: failed to parse use_backend rule '{}' : {m}.",
            sr.loc, sr.backend
        ),
    })?;
    Ok(if f.is_plain_text() {
        SwitchTarget::Static(sr.backend.clone())
    } else {
        SwitchTarget::Dynamic(f)
    })
}

/// The log format of the frontend `px`: its `log-format`, else its `option httplog` or
/// `tcplog` format.
///
/// # Errors
/// `Parsing [F:N]: failed to parse log-format : ...`, citing the `log-format` line.
fn compile_log_format(px: &Proxy) -> Result<Option<LogFormat>, CompileError> {
    if !px.cap.contains(Cap::FE) {
        return Ok(None);
    }
    Ok(if let Some(f) = &px.log_format {
        Some(LogFormat::compile(f).map_err(|m| log_format_error(px, &m))?)
    } else if px.options.httplog && px.mode == Mode::Http {
        let f = if px.options.httplog_clf {
            CLF_LOG_FORMAT
        } else {
            HTTP_LOG_FORMAT
        };
        LogFormat::compile(f).ok()
    } else if px.options.httplog || px.options.tcplog {
        LogFormat::compile(TCP_LOG_FORMAT).ok()
    } else {
        None
    })
}

/// `Parsing [F:N]: failed to parse log-format : ...`, citing the `log-format` line.
fn log_format_error(px: &Proxy, m: &str) -> CompileError {
    CompileError {
        loc: None,
        msg: match px.log_format_loc.as_ref().or(px.loc.as_ref()) {
            Some(l) => format!("Parsing [{l}]: failed to parse log-format : {m}."),
            None => format!("failed to parse log-format : {m}."),
        },
    }
}

/// Compiles the ACLs, rules, switching conditions and log format of `px`.
///
/// Warnings (ACLs that can never match where they are used, ignored reply parameters, ACLs
/// without patterns) are kept in [`ProxyRules::warnings`].
///
/// # Errors
/// The first error, located and worded as HAProxy's alert (without the `[ALERT]` prefix).
pub fn compile_proxy(px: &Proxy) -> Result<ProxyRules, CompileError> {
    let mut warnings = Vec::new();
    let mut acls = compile_acls(px, &mut warnings)?;
    let who = what(px);
    let mut sets: [Vec<Rule>; 3] = Default::default();
    for (i, (set, specs)) in [
        (RuleSet::Req, &px.http_req_rules),
        (RuleSet::Res, &px.http_res_rules),
        (RuleSet::AfterRes, &px.http_after_res_rules),
    ]
    .into_iter()
    .enumerate()
    {
        for spec in specs {
            let mut rx = RuleCx {
                what: &who,
                set,
                w: rule_where(px, set),
                acls: &mut acls,
                warnings: &mut warnings,
            };
            sets[i].push(compile_rule(&mut rx, spec)?);
        }
    }
    let switching = compile_switching(px, &mut acls, &mut warnings)?;
    let log_format = compile_log_format(px)?;
    let [http_req, http_res, http_after_res] = sets;
    Ok(ProxyRules {
        name: px.name.clone(),
        acls,
        http_req,
        http_res,
        http_after_res,
        switching,
        log_format,
        warnings,
    })
}

/// A [`CompileError`] as the configuration reader's diagnostic of level `level`.
fn to_diag(level: Level, e: CompileError) -> Diag {
    match e.loc {
        Some(l) => Diag::at(level, Head::Parsing, &l, e.msg),
        None => Diag::bare(level, e.msg),
    }
}

/// The ACLs of the proxy being read: its name and line, how many of its `acl` lines the
/// table holds, the table.
type AclCache = (String, Option<Loc>, usize, AclTable);

/// hrs-sample's side of [`Compiler`]: what upstream compiles while loading a configuration,
/// with its messages. Rules are compiled when read, against the ACLs declared so far in
/// their proxy (kept from one rule to the next of the same proxy, so that each `acl` line is
/// compiled once).
#[derive(Default)]
pub struct SampleCompiler {
    /// The ACL table of the proxy being read: its name and line, and how many of its `acl`
    /// lines the table holds.
    acls: RefCell<Option<AclCache>>,
}

impl SampleCompiler {
    /// A compiler with nothing cached.
    pub fn new() -> SampleCompiler {
        SampleCompiler::default()
    }

    /// The ACLs of `px` declared so far, compiled (ACL errors were reported when read).
    fn acls_of(&self, px: &Proxy) -> AclTable {
        let mut cache = self.acls.borrow_mut();
        let same = matches!(&*cache, Some((n, l, k, _)) if *n == px.name && *l == px.loc && *k <= px.acls.len());
        if !same {
            *cache = Some((px.name.clone(), px.loc.clone(), 0, AclTable::new()));
        }
        let Some((_, _, done, table)) = cache.as_mut() else {
            return AclTable::new();
        };
        for a in &px.acls[*done..] {
            // an invalid line was refused when read: it is not in `px.acls`
            let _ = table.declare(&a.name, &a.words, &mut Vec::new());
        }
        *done = px.acls.len();
        table.clone()
    }
}

impl Compiler for SampleCompiler {
    fn http_rule(&self, px: &Proxy, kw: &str, spec: &HttpRuleSpec) -> Result<Vec<Diag>, Diag> {
        let set = match kw {
            "http-request" => RuleSet::Req,
            "http-response" => RuleSet::Res,
            _ => RuleSet::AfterRes,
        };
        let mut acls = self.acls_of(px);
        let mut warnings = Vec::new();
        let mut rx = RuleCx {
            what: &what(px),
            set,
            w: rule_where(px, set),
            acls: &mut acls,
            warnings: &mut warnings,
        };
        compile_rule(&mut rx, spec).map_err(|e| to_diag(Level::Alert, e))?;
        Ok(warnings
            .into_iter()
            .map(|w| to_diag(Level::Warning, w))
            .collect())
    }

    fn acl(&self, _: &Proxy, acl: &AclSpec) -> Vec<Diag> {
        let mut d = Vec::new();
        let _ = AclTable::new().declare(&acl.name, &acl.words, &mut d);
        let mut warnings = Vec::new();
        acl_warnings(d, &acl.loc, &mut warnings);
        warnings
            .into_iter()
            .map(|w| to_diag(Level::Warning, w))
            .collect()
    }

    fn switching_rule(&self, px: &Proxy, rule: &SwitchRule) -> Vec<Diag> {
        let Some(c) = &rule.cond else {
            return Vec::new();
        };
        let mut acls = self.acls_of(px);
        let mut d = Vec::new();
        let _ = acls.compile_cond(&c.words, c.unless, Where::FE_SWITCH, &mut d);
        let mut warnings = Vec::new();
        acl_warnings(d, &rule.loc, &mut warnings);
        warnings
            .into_iter()
            .map(|w| to_diag(Level::Warning, w))
            .collect()
    }

    fn use_backend(&self, px: &Proxy, rule: &SwitchRule) -> Result<bool, Diag> {
        match switch_target(px, rule) {
            Ok(SwitchTarget::Static(_)) => Ok(false),
            Ok(SwitchTarget::Dynamic(_)) => Ok(true),
            Err(e) => Err(to_diag(Level::Alert, e)),
        }
    }

    fn log_format(&self, px: &Proxy) -> (Option<Diag>, bool) {
        if !px.cap.contains(Cap::FE) {
            return (None, false);
        }
        match &px.log_format {
            Some(f) => match LogFormat::compile_partial(f) {
                Ok(lf) => (None, !lf.is_empty()),
                Err((m, partial)) => (
                    Some(to_diag(Level::Alert, log_format_error(px, &m))),
                    partial,
                ),
            },
            None => (None, px.options.httplog || px.options.tcplog),
        }
    }
}

impl ProxyRules {
    /// The proxy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Warnings produced while compiling, in configuration order.
    pub fn warnings(&self) -> &[CompileError] {
        &self.warnings
    }

    /// The log format of a frontend: its `log-format`, else the `option httplog`/`tcplog`
    /// format; `None` when it logs with the default connect line (or is not a frontend).
    pub fn log_format(&self) -> Option<&LogFormat> {
        self.log_format.as_ref()
    }

    /// True when the proxy has `http-request` rules.
    pub fn has_http_req(&self) -> bool {
        !self.http_req.is_empty()
    }

    /// Runs this proxy's `http-request` rules on the request (`ctx.req_mut()`); call it for the
    /// frontend, then for the backend once selected (unless it is the same proxy). `Allow`
    /// ends this proxy's list only. Rewrites are applied to the request in place.
    pub fn http_req(&self, ctx: &mut dyn SampleCtx) -> Verdict {
        run(&self.http_req, RuleSet::Req, &self.acls, ctx)
    }

    /// Runs this proxy's `http-response` rules on the response (`ctx.res_mut()`). See
    /// [`http_res_chain`] for the backend-then-frontend order.
    pub fn http_res(&self, ctx: &mut dyn SampleCtx) -> Verdict {
        run(&self.http_res, RuleSet::Res, &self.acls, ctx)
    }

    /// Runs this proxy's `http-after-response` rules on the response about to be sent
    /// (including HAProxy's own replies). Only `Continue` or `Allow` can come out.
    pub fn http_after_res(&self, ctx: &mut dyn SampleCtx) -> Verdict {
        run(&self.http_after_res, RuleSet::AfterRes, &self.acls, ctx)
    }

    /// The backend named by the first `use_backend` rule whose condition holds (rules without
    /// a condition always hold), a dynamic name (`use_backend be_%[...]`) rendered for this
    /// request; `None` to fall back to `default_backend` (the caller also falls back when
    /// no backend has the rendered name, as upstream).
    pub fn switch_backend(&self, ctx: &dyn SampleCtx) -> Option<String> {
        let (t, _) = self
            .switching
            .iter()
            .find(|(_, c)| c.as_ref().is_none_or(|c| c.eval(&self.acls, ctx, Dir::Req)))?;
        Some(match t {
            SwitchTarget::Static(name) => name.clone(),
            SwitchTarget::Dynamic(f) => {
                let mut out = Vec::new();
                f.render(ctx, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
        })
    }
}

/// Runs `http-response` rules as HAProxy does for a stream (`http_process_res_common`): the
/// backend's first, then the frontend's unless the backend's ended with a deny or a return.
/// An `allow` ends only its own proxy's list (`HTTP_RULE_RES_STOP`): the frontend's rules
/// still run, and their verdict is the result. Pass the same object twice (or a `listen`)
/// and the list runs once.
pub fn http_res_chain(be: &ProxyRules, fe: &ProxyRules, ctx: &mut dyn SampleCtx) -> Verdict {
    let v = be.http_res(ctx);
    if !matches!(v, Verdict::Continue | Verdict::Allow) || std::ptr::eq(be, fe) {
        return v;
    }
    fe.http_res(ctx)
}

/// Runs `http-after-response` rules: the backend's then the frontend's; an `allow` only ends
/// the list of its own proxy, as upstream.
pub fn http_after_res_chain(be: &ProxyRules, fe: &ProxyRules, ctx: &mut dyn SampleCtx) -> Verdict {
    let v = be.http_after_res(ctx);
    if std::ptr::eq(be, fe) {
        return v;
    }
    fe.http_after_res(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testctx::TestCtx;
    use hrs_cfg::diag::Loc;
    use hrs_cfg::model::{AclSpec, CondSpec, HttpRuleSpec, SwitchRule};
    use hrs_http::{HttpHead, Version};

    fn loc(line: usize) -> Loc {
        Loc {
            file: "t.cfg".into(),
            line,
        }
    }

    fn ws(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    }

    fn rule(line: &str) -> HttpRuleSpec {
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
            loc: loc(20),
        }
    }

    fn fe() -> Proxy {
        let mut p = Proxy::preset("fe", Cap::FE);
        p.mode = Mode::Http;
        p.loc = Some(loc(7));
        p
    }

    #[test]
    fn switching_rules() {
        let mut p = fe();
        p.acls.push(AclSpec {
            name: "is_api".into(),
            words: ws("path_beg /api"),
            loc: loc(8),
        });
        p.switching_rules = vec![
            SwitchRule {
                backend: "api".into(),
                cond: Some(CondSpec {
                    unless: false,
                    words: ws("is_api"),
                }),
                loc: loc(9),
            },
            SwitchRule {
                backend: "static".into(),
                cond: Some(CondSpec {
                    unless: false,
                    words: ws("{ hdr_beg(host) -i img. } || { path_end .png }"),
                }),
                loc: loc(10),
            },
            SwitchRule {
                backend: "other".into(),
                cond: Some(CondSpec {
                    unless: true,
                    words: ws("METH_GET"),
                }),
                loc: loc(11),
            },
        ];
        let r = compile_proxy(&p).unwrap();
        assert_eq!(r.name(), "fe");
        let sw = |uri: &str, host: &str| {
            let c = TestCtx::get(uri, &[("host", host)]);
            r.switch_backend(&c)
        };
        assert_eq!(sw("/api/x", "h").as_deref(), Some("api"));
        assert_eq!(sw("/x", "IMG.example").as_deref(), Some("static"));
        assert_eq!(sw("/a.png", "h").as_deref(), Some("static"));
        assert_eq!(sw("/x", "h"), None);
        let mut c = TestCtx::get("/x", &[]);
        c.req = Some(HttpHead::request(b"POST", b"/x", Version::Http11, 0));
        assert_eq!(r.switch_backend(&c).as_deref(), Some("other"));
        // a dynamic name is rendered per request
        let mut d = p.clone();
        d.switching_rules = vec![SwitchRule {
            backend: "be_%[req.hdr(x-be)]".into(),
            cond: None,
            loc: loc(9),
        }];
        let rd = compile_proxy(&d).unwrap();
        let c = TestCtx::get("/x", &[("x-be", "b3")]);
        assert_eq!(rd.switch_backend(&c).as_deref(), Some("be_b3"));
        p.switching_rules.push(SwitchRule {
            backend: "x".into(),
            cond: Some(CondSpec {
                unless: false,
                words: ws("{ path -m int x }"),
            }),
            loc: loc(12),
        });
        assert_eq!(
            compile_proxy(&p).unwrap_err().to_string(),
            "parsing [t.cfg:12] : error detected while parsing switching rule : 'x' is not a number."
        );
    }

    #[test]
    fn errors_and_warnings() {
        let mut p = fe();
        p.acls.push(AclSpec {
            name: "a".into(),
            words: ws("path -m int x"),
            loc: loc(8),
        });
        assert_eq!(
            compile_proxy(&p).unwrap_err().to_string(),
            "parsing [t.cfg:8] : error detected while parsing ACL 'a' : 'x' is not a number."
        );
        let mut p = fe();
        p.acls.push(AclSpec {
            name: "a".into(),
            words: ws("req.hdr(x)"),
            loc: loc(8),
        });
        p.http_res_rules.push(rule("deny if a"));
        let r = compile_proxy(&p).unwrap();
        assert!(r.warnings()[0].loc.is_none());
        assert!(r.warnings()[0]
            .msg
            .starts_with("parsing acl keyword 'req.hdr(x)'"));
        assert_eq!(r.warnings()[1].to_string(), "parsing [t.cfg:20] : acl 'a' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'");
        let mut li = Proxy::preset("li", Cap::LISTEN);
        li.mode = Mode::Http;
        li.http_req_rules.push(rule("set-header x %[srv_name]"));
        assert_eq!(
            compile_proxy(&li).unwrap_err().to_string(),
            "parsing [t.cfg:20] : error detected in proxy 'li' while parsing 'http-request set-header' rule : sample fetch <srv_name]> may not be reliably used here because it needs 'server' which is not available here."
        );
        let mut li = Proxy::preset("li", Cap::LISTEN);
        li.http_req_rules.push(rule("set-header x %[be_name]"));
        assert!(compile_proxy(&li).is_ok());
        // a listen's rules are both the frontend's and the backend's: the lowest place
        // names the warnings (haproxy 2.6.12)
        let mut li = Proxy::preset("li", Cap::LISTEN);
        li.mode = Mode::Http;
        li.http_req_rules.push(rule("deny if { status 200 }"));
        li.http_res_rules.push(rule("deny if { path /x }"));
        let w: Vec<String> = compile_proxy(&li)
            .unwrap()
            .warnings()
            .iter()
            .map(|w| w.msg.clone())
            .collect();
        assert_eq!(
            w,
            [
                "anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'",
                "anonymous acl will never match because it uses keyword 'path' which is incompatible with 'backend http-response header rule'",
            ]
        );
        let mut f = fe();
        f.http_req_rules.push(rule("set-header x %[be_name]"));
        assert!(compile_proxy(&f).is_err());
        let mut b = Proxy::preset("be", Cap::BE);
        b.http_req_rules.push(rule("set-header x %[be_name]"));
        assert!(compile_proxy(&b).is_ok());
        let mut f = fe();
        f.log_format = Some("%[req.hdr(a)]".into());
        assert_eq!(
            compile_proxy(&f).unwrap_err().to_string(),
            "Parsing [t.cfg:7]: failed to parse log-format : sample fetch <req.hdr(a)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here."
        );
    }

    /// What `SampleCompiler` reports, where and when upstream does (haproxy 2.6.12's
    /// messages): a rule as it is read, against the ACLs declared before it; a log-format
    /// citing its own line; a `use_backend` name compiled as a log-format.
    #[test]
    fn compiler_reports_as_upstream() {
        let c = SampleCompiler::new();
        let mut f = fe();
        let mut r = rule("set-header x-a %[nope_fetch]");
        r.loc = loc(11);
        assert_eq!(
            c.http_rule(&f, "http-request", &r).unwrap_err().render(1),
            "[ALERT]    (1) : config : parsing [t.cfg:11] : error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <nope_fetch]> : unknown fetch method 'nope_fetch'."
        );
        // an ACL declared later is unknown to an earlier rule
        let r = rule("allow if is_api");
        assert!(c
            .http_rule(&f, "http-request", &r)
            .unwrap_err()
            .msg
            .contains("no such ACL : 'is_api'"));
        f.acls.push(AclSpec {
            name: "is_api".into(),
            words: ws("path_beg /api"),
            loc: loc(8),
        });
        assert_eq!(c.http_rule(&f, "http-request", &r), Ok(Vec::new()));
        f.log_format = Some("%[nope_fetch]".into());
        f.log_format_loc = Some(loc(11));
        let (e, kept) = c.log_format(&f);
        assert_eq!(
            e.unwrap().render(1),
            "[ALERT]    (1) : config : Parsing [t.cfg:11]: failed to parse log-format : failed to parse sample expression <nope_fetch]> : unknown fetch method 'nope_fetch'."
        );
        // nothing was read before the error; text before it stays in the format
        assert!(!kept);
        f.log_format = Some("%ci %[nope_fetch]".into());
        assert!(c.log_format(&f).1);
        f.log_format = Some("%ci".into());
        assert_eq!(c.log_format(&f), (None, true));
        let sr = |b: &str| SwitchRule {
            backend: b.into(),
            cond: None,
            loc: loc(3),
        };
        // http-response takes `deny`, http-after-response does not
        let deny = rule("deny");
        assert_eq!(c.http_rule(&f, "http-response", &deny), Ok(Vec::new()));
        assert!(c.http_rule(&f, "http-after-response", &deny).is_err());
        // the warnings of an acl line and of a switching rule's condition, at their line
        let acl = AclSpec {
            name: "nopat".into(),
            words: ws("req.hdr(x)"),
            loc: loc(4),
        };
        let d = c.acl(&f, &acl);
        assert_eq!(d.len(), 1);
        assert!(d[0].msg.starts_with("parsing acl keyword 'req.hdr(x)' :"));
        let sw = SwitchRule {
            backend: "b".into(),
            cond: Some(CondSpec {
                unless: false,
                words: ws("{ status 200 }"),
            }),
            loc: loc(5),
        };
        assert_eq!(
            c.switching_rule(&f, &sw)
                .iter()
                .map(|d| d.render(1))
                .collect::<Vec<_>>(),
            ["[WARNING]  (1) : config : parsing [t.cfg:5] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend use-backend rule'"]
        );
        assert_eq!(c.use_backend(&f, &sr("be")), Ok(false));
        assert_eq!(c.use_backend(&f, &sr("be_%[req.hdr(host)]")), Ok(true));
        assert_eq!(
            c.use_backend(&f, &sr("%[nope]")).unwrap_err().render(1),
            "[ALERT]    (1) : config : Parsing [t.cfg:3]: failed to parse use_backend rule '%[nope]' : failed to parse sample expression <nope]> : unknown fetch method 'nope'."
        );
    }

    #[test]
    fn log_formats() {
        let line = |f: &LogFormat| {
            let mut out = Vec::new();
            f.render(&TestCtx::get("/", &[]), &mut out);
            out
        };
        let http = line(&LogFormat::compile(HTTP_LOG_FORMAT).unwrap());
        let tcp = line(&LogFormat::compile(TCP_LOG_FORMAT).unwrap());
        assert_ne!(http, tcp);
        let format_of = |p: &Proxy| compile_proxy(p).unwrap().log_format().map(line);
        let c = SampleCompiler::new();
        let mut f = fe();
        assert!(compile_proxy(&f).unwrap().log_format().is_none());
        assert_eq!(c.log_format(&f), (None, false));
        // option httplog: HTTP's format in HTTP mode, TCP's otherwise; option tcplog: TCP's;
        // option httplog clf: the common log format in HTTP mode, TCP's otherwise (upstream's
        // proxy_cfg_ensure_no_http() falls back from both)
        f.options.httplog = true;
        assert_eq!(format_of(&f), Some(http.clone()));
        assert_eq!(c.log_format(&f), (None, true));
        f.options.httplog_clf = true;
        let clf = line(&LogFormat::compile(CLF_LOG_FORMAT).unwrap());
        assert_ne!(clf, http);
        assert_eq!(format_of(&f), Some(clf));
        f.mode = Mode::Tcp;
        assert_eq!(format_of(&f), Some(tcp.clone()));
        f.options.httplog_clf = false;
        assert_eq!(format_of(&f), Some(tcp.clone()));
        f.options.httplog = false;
        f.options.tcplog = true;
        assert_eq!(format_of(&f), Some(tcp.clone()));
        assert_eq!(c.log_format(&f), (None, true));
        f.mode = Mode::Http;
        assert_eq!(format_of(&f), Some(tcp));
        f.options.tcplog = false;
        f.options.httplog = true;
        f.log_format = Some("%ci %[method]".into());
        let r = compile_proxy(&f).unwrap();
        let mut out = Vec::new();
        r.log_format()
            .unwrap()
            .render(&TestCtx::get("/", &[]), &mut out);
        assert_eq!(out, b"127.0.0.1 GET");
        let mut b = Proxy::preset("be", Cap::BE);
        b.options.httplog = true;
        assert!(compile_proxy(&b).unwrap().log_format().is_none());
    }

    #[test]
    fn chains() {
        let mut f = fe();
        f.http_res_rules.push(rule("add-header x-order fe"));
        f.http_after_res_rules
            .push(rule("add-header x-order after-fe"));
        let mut b = Proxy::preset("be", Cap::BE);
        b.mode = Mode::Http;
        b.http_res_rules.push(rule("add-header x-order be"));
        b.http_res_rules.push(rule("allow if { status 204 }"));
        b.http_res_rules.push(rule("add-header x-order be2"));
        b.http_after_res_rules
            .push(rule("add-header x-order after-be"));
        b.http_after_res_rules.push(rule("allow"));
        b.http_req_rules
            .push(rule("set-var(txn.d) str(1) if { path /rdeny }"));
        b.http_res_rules
            .push(rule("deny if { var(txn.d) -m found }"));
        let fr = compile_proxy(&f).unwrap();
        let br = compile_proxy(&b).unwrap();
        let run = |uri: &str, status: u16| {
            let mut c = TestCtx::get(uri, &[]);
            assert_eq!(fr.http_req(&mut c), Verdict::Continue);
            assert_eq!(br.http_req(&mut c), Verdict::Continue);
            c.res = Some(HttpHead::response(Version::Http11, status, b"", 0));
            let v = http_res_chain(&br, &fr, &mut c);
            let v2 = http_after_res_chain(&br, &fr, &mut c);
            let order: Vec<String> = c
                .res
                .as_ref()
                .unwrap()
                .values(b"x-order")
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            (v, v2, order.join(","))
        };
        let (v, v2, o) = run("/p", 200);
        assert_eq!((v, v2), (Verdict::Continue, Verdict::Continue));
        assert_eq!(o, "be,be2,fe,after-be,after-fe");
        // `allow` skips the rest of the backend's list only: the frontend's rules still run
        // (upstream's HTTP_RULE_RES_STOP), and the verdict is theirs
        let (v, _, o) = run("/p", 204);
        assert_eq!(v, Verdict::Continue);
        assert_eq!(o, "be,fe,after-be,after-fe");
        let (v, _, _) = run("/rdeny", 200);
        assert!(matches!(v, Verdict::Deny(ref r) if r.status == 502));
        assert!(!fr.has_http_req() && br.has_http_req());
        let mut c = TestCtx::get("/", &[]);
        c.res = Some(HttpHead::response(Version::Http11, 200, b"", 0));
        assert_eq!(http_res_chain(&fr, &fr, &mut c), Verdict::Continue);
        assert_eq!(c.res.as_ref().unwrap().values(b"x-order").count(), 1);
    }
}

#[cfg(test)]
mod robustness {
    //! Random configuration words and header bytes must never panic, whatever they contain.
    use super::*;
    use crate::acl::AclTable;
    use crate::expr::SampleExpr;
    use crate::logfmt::LogFormat;
    use crate::testctx::TestCtx;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
            v[(self.next() % v.len() as u64) as usize]
        }
    }

    const ATOMS: &[&str] = &[
        "%",
        "%%",
        "%[",
        "]",
        "{",
        "}",
        "%{+Q}",
        "%{-Q,+X,+E,+M}",
        "(",
        ")",
        ",",
        "'",
        "\"",
        "\\",
        " ",
        "req.hdr",
        "hdr",
        "req.fhdr",
        "res.hdr",
        "path",
        "url",
        "base",
        "query",
        "method",
        "status",
        "src",
        "var",
        "txn.a",
        "str",
        "int",
        "lower",
        "upper",
        "hex",
        "base64",
        "-1",
        "-11",
        "0",
        "1",
        "x",
        "é",
        "ci",
        "r",
        "HM",
        "Tt",
        "o",
        "tr",
        "-m",
        "-i",
        "--",
        "beg",
        "dom",
        "dir",
        "len",
        "int",
        "ip",
        "bin",
        "found",
        "bool",
        "lt",
        "gt",
        "127.0.0.1/8",
        "::1",
        ":",
        "path_beg",
        "hdr_dom",
        "method",
        "GET",
        "{",
        "!",
        "||",
        "or",
        "TRUE",
        "METH_GET",
        "HTTP_URL_ABS",
        "LOCALHOST",
        "\u{1}",
    ];

    fn word(r: &mut Rng) -> String {
        let n = 1 + r.next() % 6;
        (0..n).map(|_| r.pick(ATOMS)).collect()
    }

    #[test]
    fn never_panics() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let mut c = TestCtx::get(
            "/a,b?\u{ff}",
            &[
                ("x", "\"unterminated, a\\"),
                ("x", ",,,"),
                ("host", "h\u{e9}"),
                ("content-length", "-99999999999999999999999"),
            ],
        );
        c.req
            .as_mut()
            .unwrap()
            .add_header(b"bin", b"\xff\xfe\x00,\"");
        c.res = Some(hrs_http::HttpHead::response(
            hrs_http::Version::Http2,
            599,
            b"",
            0,
        ));
        c.info = Some(crate::logfmt::LogInfo {
            accept_secs: i64::MAX / 2,
            t_close: i64::MIN,
            t_idle: i64::MAX,
            t_handshake: i64::MAX,
            t_request: i64::MAX,
            req_line: Some(b" \t"),
            ..Default::default()
        });
        for _ in 0..4000 {
            let s = word(&mut r);
            for w in [Where::FE_REQ, Where::FE_RES, Where::LOG] {
                if let Ok(f) = LogFormat::compile_http(&s, w) {
                    let mut out = Vec::new();
                    f.render_dir(&c, Dir::Req, &mut out);
                    f.render_dir(&c, Dir::Res, &mut out);
                }
            }
            if let Ok(f) = LogFormat::compile(&s) {
                f.render(&c, &mut Vec::new());
            }
            let words: Vec<String> = (0..1 + r.next() % 4).map(|_| word(&mut r)).collect();
            if let Ok((e, _)) = SampleExpr::parse(&words, false) {
                e.eval(&c, Dir::Req);
                e.for_each(&c, Dir::Res, &mut |_| false);
            }
            let mut px = Proxy::preset("p", Cap::LISTEN);
            let act = r.pick(&[
                "return",
                "deny",
                "allow",
                "set-header",
                "add-header",
                "del-header",
                "set-path",
                "set-var(txn.a)",
                "set-var(txn.a,ifgt)",
            ]);
            let spec = hrs_cfg::model::HttpRuleSpec {
                action: act.into(),
                args: words.clone(),
                cond: None,
                loc: hrs_cfg::diag::Loc {
                    file: "f".into(),
                    line: 1,
                },
            };
            px.http_req_rules.push(spec.clone());
            px.http_res_rules.push(spec);
            if let Ok(pr) = compile_proxy(&px) {
                let mut c2 = c.clone();
                pr.http_req(&mut c2);
                pr.http_res(&mut c2);
                pr.http_after_res(&mut c2);
            }
            let mut t = AclTable::new();
            let _ = t.declare("a", &words, &mut Vec::new());
            if let Ok(cond) = t.compile_cond(&words, false, Where::FE_REQ, &mut Vec::new()) {
                cond.eval(&t, &c, Dir::Req);
            }
        }
    }
}
