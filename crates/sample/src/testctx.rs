//! A scripted [`SampleCtx`] for unit tests: a request head, an optional response head,
//! addresses, names, variable stores and log values set by the test.

use crate::ctx::SampleCtx;
use crate::logfmt::{LogInfo, Tm};
use crate::vars::{Scope, Vars};
use hrs_http::{HttpHead, Version};
use std::net::SocketAddr;

/// Test context. Fields are public so tests adjust what they need.
#[derive(Clone, Debug)]
pub struct TestCtx {
    pub req: Option<HttpHead>,
    pub res: Option<HttpHead>,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
    pub bc_src: Option<SocketAddr>,
    pub fe: String,
    pub be: Option<String>,
    pub srv: Option<String>,
    pub first: bool,
    pub proc: Vars,
    pub sess: Vars,
    pub txn: Vars,
    pub reqv: Vars,
    pub resv: Vars,
    pub info: Option<LogInfo<'static>>,
    /// Offset added by `local_tm` (seconds east of UTC).
    pub tz: i32,
    /// Set by `disable_l7_retry`.
    pub l7_retry_disabled: bool,
}

impl TestCtx {
    /// A `GET uri HTTP/1.1` request with `hdrs`, from 127.0.0.1:40000 to 127.0.0.1:9100 on
    /// frontend `fe`.
    pub fn get(uri: &str, hdrs: &[(&str, &str)]) -> TestCtx {
        let mut req = HttpHead::request(b"GET", uri.as_bytes(), Version::Http11, 256);
        for (n, v) in hdrs {
            req.add_header(n.as_bytes(), v.as_bytes());
        }
        TestCtx {
            req: Some(req),
            res: None,
            src: Some("127.0.0.1:40000".parse().unwrap()),
            dst: Some("127.0.0.1:9100".parse().unwrap()),
            bc_src: None,
            fe: "fe".into(),
            be: None,
            srv: None,
            first: true,
            proc: Vars::new(),
            sess: Vars::new(),
            txn: Vars::new(),
            reqv: Vars::new(),
            resv: Vars::new(),
            info: None,
            tz: 0,
            l7_retry_disabled: false,
        }
    }
}

impl SampleCtx for TestCtx {
    fn req(&self) -> Option<&HttpHead> {
        self.req.as_ref()
    }
    fn req_mut(&mut self) -> Option<&mut HttpHead> {
        self.req.as_mut()
    }
    fn res(&self) -> Option<&HttpHead> {
        self.res.as_ref()
    }
    fn res_mut(&mut self) -> Option<&mut HttpHead> {
        self.res.as_mut()
    }
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn bc_src(&self) -> Option<SocketAddr> {
        self.bc_src
    }
    fn fe_name(&self) -> &str {
        &self.fe
    }
    fn be_name(&self) -> Option<&str> {
        self.be.as_deref()
    }
    fn srv_name(&self) -> Option<&str> {
        self.srv.as_deref()
    }
    fn http_first_req(&self) -> bool {
        self.first
    }
    fn vars(&self, scope: Scope) -> Option<&Vars> {
        match scope {
            Scope::Proc => Some(&self.proc),
            Scope::Sess => Some(&self.sess),
            Scope::Txn => Some(&self.txn),
            Scope::Req => Some(&self.reqv),
            Scope::Res => Some(&self.resv),
            Scope::Check => None,
        }
    }
    fn vars_mut(&mut self, scope: Scope) -> Option<&mut Vars> {
        match scope {
            Scope::Proc => Some(&mut self.proc),
            Scope::Sess => Some(&mut self.sess),
            Scope::Txn => Some(&mut self.txn),
            Scope::Req => Some(&mut self.reqv),
            Scope::Res => Some(&mut self.resv),
            Scope::Check => None,
        }
    }
    fn log_info(&self) -> LogInfo<'_> {
        match &self.info {
            Some(i) => i.clone(),
            None => LogInfo {
                client: self.src,
                frontend: self.dst,
                backend_src: self.bc_src,
                fe_name: &self.fe,
                be_name: self.be.as_deref().unwrap_or(&self.fe),
                srv_name: self.srv.as_deref(),
                ..LogInfo::default()
            },
        }
    }
    fn disable_l7_retry(&mut self) {
        self.l7_retry_disabled = true;
    }
    fn local_tm(&self, unix_secs: i64) -> Tm {
        let mut t = Tm::gmt(unix_secs.saturating_add(self.tz as i64));
        t.gmtoff = self.tz;
        t
    }
}
