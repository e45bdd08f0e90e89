//! The bridge between a stream and the compiled rules of `hrs-sample`: the stream seen as a
//! [`SampleCtx`] (what fetches read and actions change), and the rule sets run in
//! HAProxy's order (frontend then backend for requests, with the switching rules in
//! between; backend then frontend for responses).

use hrs_core::{Connection, Session, Shared, Stream, StrmId, World};
use hrs_http::msg::HttpHead;
use hrs_list::{Arena, Stale};
use hrs_sample::logfmt::{LogInfo, Tm};
use hrs_sample::{ProxyRules, SampleCtx, Scope, SetCond, Smp, Vars, Verdict};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

/// What the request or response rules decided.
#[derive(Debug)]
pub enum RuleResult {
    /// Go on with the transaction.
    Continue,
    /// Answer this reply instead (`return`).
    Reply {
        status: u16,
        head: HttpHead,
        body: Vec<u8>,
    },
    /// Answer the proxy's error page for this status.
    Error(u16),
}

/// A stream as seen by fetches and actions: the live stream itself and the parts of the
/// world its samples read, borrowed apart ([`StrmCtx::new`] is where the stream's handle is
/// checked; nothing here indexes by handle afterwards).
pub struct StrmCtx<'a> {
    pub s: &'a mut Stream,
    sessions: &'a mut Arena<Session>,
    conns: &'a Arena<Connection>,
    /// This thread's compiled rules of every proxy.
    pub rules: &'a [Rc<ProxyRules>],
    /// Proxies, servers, global settings, process variables (under their lock).
    sh: &'a Shared,
    /// The thread running the stream.
    tid: hrs_core::Tid,
}

impl<'a> StrmCtx<'a> {
    /// The context of stream `sid`.
    ///
    /// # Errors
    /// [`Stale`] when `sid` is not live (a lifecycle bug, already reported).
    pub fn new(w: &'a mut World, sid: StrmId) -> Result<StrmCtx<'a>, Stale> {
        Ok(StrmCtx {
            s: w.streams.live_mut(sid)?,
            sessions: &mut w.sessions,
            conns: &w.conns,
            rules: &w.rules,
            sh: &w.sh,
            tid: w.tid,
        })
    }
}

impl SampleCtx for StrmCtx<'_> {
    fn disable_l7_retry(&mut self) {
        self.s.txn.flags |= hrs_core::tx::D_L7_RETRY;
    }
    fn req(&self) -> Option<&HttpHead> {
        self.s.txn.req.as_ref()
    }
    fn req_mut(&mut self) -> Option<&mut HttpHead> {
        self.s.txn.req.as_mut()
    }
    fn res(&self) -> Option<&HttpHead> {
        self.s.txn.rsp.as_ref()
    }
    fn res_mut(&mut self) -> Option<&mut HttpHead> {
        self.s.txn.rsp.as_mut()
    }
    fn src(&self) -> Option<SocketAddr> {
        self.sessions.get(self.s.sess).and_then(|x| x.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.sessions.get(self.s.sess).and_then(|x| x.dst)
    }
    fn bc_src(&self) -> Option<SocketAddr> {
        self.s.si[1]
            .conn
            .and_then(|c| self.conns.get(c))
            .and_then(|c| c.src_addr())
    }
    fn fe_name(&self) -> &str {
        &self.sh.proxies[self.s.fe].cfg.name
    }
    fn be_name(&self) -> Option<&str> {
        Some(&self.sh.proxies[self.s.be].cfg.name)
    }
    fn srv_name(&self) -> Option<&str> {
        self.s.srv.map(|i| self.sh.servers[i].cfg.name.as_str())
    }
    fn thread(&self) -> u32 {
        u32::from(self.tid)
    }
    fn http_first_req(&self) -> bool {
        self.s.txn.flags & hrs_core::tx::NOT_FIRST == 0
    }
    fn vars(&self, scope: Scope) -> Option<&Vars> {
        let s = &*self.s;
        match scope {
            // shared between threads: read through `var_get`
            Scope::Proc => None,
            Scope::Sess => self.sessions.get(s.sess).map(|x| &x.vars),
            Scope::Txn => Some(&s.vars_txn),
            Scope::Req => Some(&s.vars_req),
            Scope::Res => Some(&s.vars_res),
            Scope::Check => None,
        }
    }
    fn vars_mut(&mut self, scope: Scope) -> Option<&mut Vars> {
        let s = &mut *self.s;
        match scope {
            // shared between threads: written through `var_set`
            Scope::Proc => None,
            Scope::Sess => self.sessions.get_mut(s.sess).map(|x| &mut x.vars),
            Scope::Txn => Some(&mut s.vars_txn),
            Scope::Req => Some(&mut s.vars_req),
            Scope::Res => Some(&mut s.vars_res),
            Scope::Check => None,
        }
    }

    fn var_get(&self, scope: Scope, name: &str) -> Option<Smp<'static>> {
        if scope == Scope::Proc {
            return self.sh.proc_vars.lock().get(name).cloned();
        }
        self.vars(scope)?.get(name).cloned()
    }

    fn var_set(&mut self, scope: Scope, name: &str, v: Smp<'static>, conds: SetCond) -> bool {
        let set = |store: &mut Vars| {
            if conds.is_empty() || conds.allows(scope, store.get(name), &v) {
                store.set(name, v.clone());
            }
        };
        if scope == Scope::Proc {
            set(&mut self.sh.proc_vars.lock());
            return true;
        }
        match self.vars_mut(scope) {
            Some(store) => {
                set(store);
                true
            }
            None => false,
        }
    }

    fn log_info(&self) -> LogInfo<'_> {
        let s = &*self.s;
        let sess = self.sessions.get(s.sess);
        let fe = &self.sh.proxies[s.fe];
        let be = &self.sh.proxies[s.be];
        let srv = s.srv.map(|i| &self.sh.servers[i]);
        let date = s
            .logs
            .start_date
            .or(sess.map(|x| x.accept_date))
            .and_then(|d| d.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        let ts = s.term.ts();
        let retries = i64::from(s.si[1].retries_done);
        LogInfo {
            client: sess.and_then(|x| x.src),
            frontend: sess.and_then(|x| x.dst),
            backend_src: self.bc_src(),
            server: s.si[1]
                .conn
                .and_then(|c| self.conns.get(c))
                .and_then(|c| c.dst),
            fe_name: &fe.cfg.name,
            fe_ssl: false,
            be_name: &be.cfg.name,
            srv_name: srv.map(|x| x.cfg.name.as_str()),
            status: if s.txn.status == 0 {
                -1
            } else {
                i32::from(s.txn.status)
            },
            bytes_out: s.res.total,
            bytes_in: s.req.total,
            logasap: false,
            http_mode: fe.cfg.mode == hrs_cfg::model::Mode::Http,
            t_handshake: 0,
            t_idle: s.logs.t_idle.max(0),
            t_request: s.logs.t_request,
            t_queue: s.logs.t_queue,
            t_connect: s.logs.t_connect,
            t_data: s.logs.t_data,
            t_close: s.logs.t_close.max(0),
            accept_secs: date.as_secs() as i64,
            accept_usec: date.subsec_micros(),
            term_state: [ts[0] as u8, ts[1] as u8, b'-', b'-'],
            actconn: u64::from(self.sh.global.curr_conn.load(Relaxed)),
            feconn: u64::from(fe.feconn.load(Relaxed)),
            beconn: u64::from(be.beconn.load(Relaxed)),
            srv_conn: srv.map_or(0, |x| u64::from(x.served.load(Relaxed))),
            retries: retries.max(0),
            redispatched: s.flags & hrs_core::sf::REDISP != 0,
            srv_queue: 0,
            be_queue: 0,
            req_line: if s.txn.req_line.is_empty() {
                None
            } else {
                Some(s.txn.req_line.as_bytes())
            },
            req_cookie: None,
            res_cookie: None,
            req_counter: u64::from(s.uniq_id),
            log_counter: fe.counters.cum_req.get(),
            pid: std::process::id(),
            hostname: &self.sh.global.hostname,
            unique_id: None,
        }
    }

    fn local_tm(&self, unix_secs: i64) -> Tm {
        local_tm(unix_secs)
    }
}

/// Local broken-down time of a Unix timestamp (`localtime_r`).
pub fn local_tm(unix_secs: i64) -> Tm {
    let t: libc::time_t = unix_secs as libc::time_t;
    // SAFETY: `tm` is plain data; localtime_r writes it and reads `t` only.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call's duration.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return Tm::gmt(unix_secs);
    }
    let mut out = Tm::gmt(unix_secs);
    out.year = tm.tm_year + 1900;
    out.mon = tm.tm_mon as u8;
    out.mday = tm.tm_mday as u8;
    out.hour = tm.tm_hour as u8;
    out.min = tm.tm_min as u8;
    out.sec = tm.tm_sec as u8;
    out.gmtoff = tm.tm_gmtoff as i32;
    out
}

fn verdict(v: Verdict) -> Option<RuleResult> {
    match v {
        Verdict::Continue | Verdict::Allow => None,
        Verdict::Deny(r) | Verdict::Return(r) => Some(RuleResult::Reply {
            status: r.status,
            head: r.head,
            body: r.body,
        }),
    }
}

/// Whether a verdict is a `deny` (termination `PR`/`PH`) rather than a `return` (`LR`).
pub fn is_deny(v: &Verdict) -> bool {
    matches!(v, Verdict::Deny(_))
}

/// Runs the frontend's `http-request` rules, the switching rules, then the backend's
/// `http-request` rules (when the backend differs), setting the stream's backend. The
/// second value is true for a `deny`.
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn req_rules(w: &mut World, sid: StrmId) -> Result<(RuleResult, bool), Stale> {
    let mut ctx = StrmCtx::new(w, sid)?;
    let fe = ctx.s.fe;
    let fe_rules = Rc::clone(&ctx.rules[fe]);
    let v = fe_rules.http_req(&mut ctx);
    let deny = is_deny(&v);
    if let Some(r) = verdict(v) {
        return Ok((r, deny));
    }
    // backend switching (`process_switching_rules`): use_backend, else default_backend,
    // else the frontend itself (a listen section, or no backend: 503)
    let chosen = fe_rules.switch_backend(&ctx);
    let be = chosen
        .and_then(|name| ctx.sh.be_index.get(&name).copied())
        .or(ctx.sh.proxies[fe].default_be)
        .unwrap_or(fe);
    ctx.s.be = be;
    if be != fe {
        let be_rules = Rc::clone(&ctx.rules[be]);
        let v = be_rules.http_req(&mut ctx);
        let deny = is_deny(&v);
        if let Some(r) = verdict(v) {
            return Ok((r, deny));
        }
    }
    Ok((RuleResult::Continue, false))
}

/// Runs the backend's then the frontend's `http-response` rules.
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn res_rules(w: &mut World, sid: StrmId) -> Result<(RuleResult, bool), Stale> {
    let mut ctx = StrmCtx::new(w, sid)?;
    let (fe, be) = (ctx.s.fe, ctx.s.be);
    let be_rules = Rc::clone(&ctx.rules[be]);
    let fe_rules = Rc::clone(&ctx.rules[fe]);
    let v = if fe == be {
        be_rules.http_res(&mut ctx)
    } else {
        hrs_sample::http_res_chain(&be_rules, &fe_rules, &mut ctx)
    };
    let deny = is_deny(&v);
    Ok((verdict(v).unwrap_or(RuleResult::Continue), deny))
}

/// Runs the backend's then the frontend's `http-after-response` rules (also on replies the
/// proxy produced).
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn after_res_rules(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let mut ctx = StrmCtx::new(w, sid)?;
    let (fe, be) = (ctx.s.fe, ctx.s.be);
    let be_rules = Rc::clone(&ctx.rules[be]);
    let fe_rules = Rc::clone(&ctx.rules[fe]);
    if fe == be {
        be_rules.http_after_res(&mut ctx);
    } else {
        hrs_sample::http_after_res_chain(&be_rules, &fe_rules, &mut ctx);
    }
    Ok(())
}
