//! The evaluation context: what samples, rules and log-format read from a live stream.
//!
//! Owns only the interface. The runtime's stream implements [`SampleCtx`] and passes itself to
//! the rule engine; everything here is synchronous and allocation-free on the caller's side.
//! [`Dir`] tells direction-dependent fetches (`hdr()`) which message they look at.

use crate::logfmt::{LogInfo, Tm};
use crate::smp::Smp;
use crate::vars::{Scope, SetCond, Vars};
use hrs_http::HttpHead;
use std::net::SocketAddr;

/// The direction a sample is evaluated in (`SMP_OPT_DIR_REQ` / `SMP_OPT_DIR_RES`): decides
/// which message `hdr()` reads and which rule set is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Request processing (`http-request`, `use_backend`, logs).
    Req,
    /// Response processing (`http-response`, `http-after-response`).
    Res,
}

/// What the rule engine needs from a stream. Implemented by the runtime.
///
/// Addresses are those of the client connection (`src`, `dst`) and of the server connection
/// (`bc_src`, the local address HAProxy connected from). Every method must be cheap: fetches
/// call them on each evaluation.
pub trait SampleCtx {
    /// The request head, once parsed (also during response processing).
    fn req(&self) -> Option<&HttpHead>;
    /// The request head, for rewriting rules.
    fn req_mut(&mut self) -> Option<&mut HttpHead>;
    /// The response head, once received (or generated).
    fn res(&self) -> Option<&HttpHead>;
    /// The response head, for rewriting rules.
    fn res_mut(&mut self) -> Option<&mut HttpHead>;
    /// Client address (`src`, `%ci`).
    fn src(&self) -> Option<SocketAddr>;
    /// Address the client connected to (`dst`, `%fi`).
    fn dst(&self) -> Option<SocketAddr>;
    /// Local address of the server-side connection (`bc_src_port`, `%bi`).
    fn bc_src(&self) -> Option<SocketAddr>;
    /// Name of the frontend that accepted the stream.
    fn fe_name(&self) -> &str;
    /// Name of the backend in charge, `None` before one is selected (the `be_name` fetch then
    /// reports the frontend, as HAProxy's stream starts with `be = fe`).
    fn be_name(&self) -> Option<&str>;
    /// Name of the server the stream was assigned to.
    fn srv_name(&self) -> Option<&str>;
    /// The number of the thread running the stream, from 0 (`thread`, upstream's `tid`).
    fn thread(&self) -> u32 {
        0
    }
    /// True while processing the first request of the client connection.
    fn http_first_req(&self) -> bool;
    /// The variable store of `scope`, `None` when the scope does not exist here.
    fn vars(&self, scope: Scope) -> Option<&Vars>;
    /// The variable store of `scope` for writing, `None` when the scope does not exist here.
    fn vars_mut(&mut self, scope: Scope) -> Option<&mut Vars>;

    /// The value of variable `name` of `scope` (`var()`), a copy: a store shared between
    /// threads (`proc`) cannot lend a reference. The default reads [`SampleCtx::vars`].
    fn var_get(&self, scope: Scope, name: &str) -> Option<Smp<'static>> {
        self.vars(scope)?.get(name).cloned()
    }

    /// Sets variable `name` of `scope` to `v` if `conds` allow it (`set-var`); false when
    /// the scope does not exist here. The default writes [`SampleCtx::vars_mut`].
    fn var_set(&mut self, scope: Scope, name: &str, v: Smp<'static>, conds: SetCond) -> bool {
        let Some(store) = self.vars_mut(scope) else {
            return false;
        };
        if conds.is_empty() || conds.allows(scope, store.get(name), &v) {
            store.set(name, v);
        }
        true
    }

    /// The non-sample values log-format aliases print (`%T*`, `%ST`, counters...), as the
    /// stream knows them.
    fn log_info(&self) -> LogInfo<'_>;

    /// `http-request disable-l7-retry`: the current request must not be retried at layer 7
    /// (`TX_D_L7_RETRY`). Contexts without a transaction ignore it.
    fn disable_l7_retry(&mut self) {}

    /// Local broken-down time of a Unix timestamp (the runtime uses `localtime_r`).
    fn local_tm(&self, unix_secs: i64) -> Tm;
}
