//! `hrs-sample`: HAProxy 2.6's sample engine for HTTP proxies — sample fetches, converters,
//! ACLs and conditions, variables, `http-request`/`http-response`/`http-after-response`
//! rules, `use_backend` conditions and log-format strings.
//!
//! Owns compilation (from the configuration model of `hrs-cfg`, with HAProxy's messages and
//! configuration-time checks) and evaluation against a live stream, which the runtime exposes
//! through the [`SampleCtx`] trait. Nothing here does I/O, except reading ACL pattern files
//! (`-f`) at compile time. Evaluation never panics and treats every string as bytes.
//! Compiled rules are per thread (their caches are not shared); shared values (process
//! variables) are reached only through [`SampleCtx`].
//!
//! Entry points: [`compile_proxy`] gives a [`ProxyRules`] per proxy; the runtime calls
//! [`ProxyRules::http_req`] (frontend then backend), [`ProxyRules::switch_backend`],
//! [`http_res_chain`], [`http_after_res_chain`] and renders its log lines with
//! [`LogFormat::render`].

#![warn(missing_docs)]

pub mod acl;
pub mod conv;
pub mod ctx;
pub mod expr;
pub mod fetch;
pub mod logfmt;
pub mod pattern;
pub mod proxy;
pub mod reply;
pub mod rules;
pub mod smp;
pub mod vars;

#[cfg(test)]
mod testctx;

pub use acl::{AclTable, Cond, SampleKeywords};
pub use ctx::{Dir, SampleCtx};
pub use expr::SampleExpr;
pub use logfmt::{
    LogFormat, LogInfo, Tm, CLF_LOG_FORMAT, CONNECT_LOG_FORMAT_HTTP, CONNECT_LOG_FORMAT_TCP,
    HTTP_LOG_FORMAT, TCP_LOG_FORMAT,
};
pub use proxy::{compile_proxy, http_after_res_chain, http_res_chain, ProxyRules, SampleCompiler};
pub use reply::{error_reply, Reply};
pub use rules::{Rule, Verdict};
pub use smp::{Smp, SmpType};
pub use vars::{Scope, SetCond, Vars};

use hrs_cfg::diag::Loc;
use std::fmt;

/// A configuration problem found while compiling, worded as HAProxy's alert or warning.
/// `msg` is complete (it ends with HAProxy's final period when upstream prints one); `loc`,
/// when set, is rendered as the `parsing [file:line] : ` prefix, which is how
/// `hrs_cfg::diag::Diags::alert_at` / `warn_at` print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The configuration line, when the message is about one.
    pub loc: Option<Loc>,
    /// HAProxy's message.
    pub msg: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.loc {
            Some(l) => write!(f, "parsing [{l}] : {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

impl std::error::Error for CompileError {}
