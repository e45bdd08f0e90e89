//! A minimal world for the mux and socket tests: proxies from configuration text (compiled
//! rules, no load balancing), an event loop, client sessions on scripted front
//! connections, scripted back connections through `conn_new_back` and a connector, and a
//! helper that installs a response in a stream the way the stream layer would.

use crate::mux_h1::{h1_io_cb, H1Outcome};
use hrs_core::lock::{Lock, LockRank};
use hrs_core::script::{self, Connect, ScriptPeer, ScriptSock};
use hrs_core::{
    cf, co_fl, ConnId, Ctx, Ev, H1c, LbAlgo, LbState, Mux, PxShared, Session, Shared, StrmId,
    World, Xprt,
};
use hrs_http::h1::{self, Parsed};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

/// No load balancing: these tests never assign servers.
struct NoLb;

impl LbAlgo for NoLb {
    fn get_next(&mut self, _: Option<usize>) -> Option<usize> {
        None
    }
    fn set_usable(&mut self, _: usize, _: bool) {}
    fn conn_taken(&mut self, _: usize) {}
    fn conn_released(&mut self, _: usize) {}
    fn has_usable(&self) -> bool {
        false
    }
    fn set_queue_len(&mut self, _: usize, _: u32) {}
}

/// Parses configuration `text` (through a temporary file: `hrs-cfg` reads files).
pub fn parse_cfg(text: &str) -> hrs_cfg::Config {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "hrs-conn-test-{}-{}.cfg",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    let ctx = hrs_cfg::ParseCtx {
        default_nbthread: 1,
        features: "",
        version: "2.6.0",
        acl_kws: &hrs_sample::SampleKeywords,
        compiler: &hrs_sample::SampleCompiler::new(),
    };
    let (cfg, d) = hrs_cfg::parse_files(std::slice::from_ref(&path), &ctx);
    let _ = std::fs::remove_file(&path);
    assert!(!d.fatal, "{:?}\n{text}", d.list);
    cfg
}

/// The default configuration: one HTTP proxy `px` (keep-alive).
pub const CFG: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen px
    bind 127.0.0.1:8080
    server s1 10.0.0.1:80
";

pub struct T {
    pub w: World,
    pub ev: Ev,
    /// Peers of the server connections opened through `conn_new_back`.
    pub opened: Rc<RefCell<Vec<ScriptPeer>>>,
    /// What the next connects do (then: accept).
    pub plans: Rc<RefCell<Vec<Connect>>>,
}

impl T {
    pub fn new(text: &str) -> T {
        let cfg = parse_cfg(text);
        let mut sh = Shared::default();
        sh.global.bufsize = cfg.global.tune_bufsize;
        sh.global.maxrewrite = cfg.global.maxrewrite();
        sh.global.maxhdr = cfg.global.tune_maxhdr;
        let mut rules = Vec::new();
        for p in &cfg.proxies {
            rules.push(Rc::new(hrs_sample::compile_proxy(p).expect("rules")));
            sh.proxies.push(PxShared {
                cfg: p.clone(),
                servers: Vec::new(),
                default_be: None,
                lb: Lock::new(
                    LockRank::Lbprm,
                    LbState {
                        algo: Box::new(NoLb),
                        queue: Default::default(),
                        srv_queue: Vec::new(),
                    },
                ),
                nbpend: Default::default(),
                feconn: Default::default(),
                beconn: Default::default(),
                counters: Default::default(),
            });
        }
        let w = World::new(std::sync::Arc::new(sh), 0, rules);
        let opened = Rc::new(RefCell::new(Vec::new()));
        let plans: Rc<RefCell<Vec<Connect>>> = Rc::new(RefCell::new(Vec::new()));
        let (o, p) = (Rc::clone(&opened), Rc::clone(&plans));
        script::set_connector(move |addr| {
            let state = {
                let mut p = p.borrow_mut();
                if p.is_empty() {
                    Connect::Established
                } else {
                    p.remove(0)
                }
            };
            let (sock, peer) =
                ScriptSock::pair(Some("10.255.0.1:30000".parse().unwrap()), Some(addr), state);
            o.borrow_mut().push(peer);
            Ok(sock)
        });
        T {
            w,
            ev: Ev::new().unwrap(),
            opened,
            plans,
        }
    }

    /// A client connection on proxy 0 with its session; returns it and the client's end.
    pub fn front(&mut self) -> (ConnId, ScriptPeer) {
        let src: SocketAddr = "192.0.2.10:40000".parse().unwrap();
        let dst: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let (sock, peer) = ScriptSock::pair(Some(dst), Some(src), Connect::Established);
        let cid = crate::conn_new_front(
            &mut self.w,
            &mut self.ev,
            Xprt::Script(sock),
            0,
            Mux::H1(H1c::default()),
            Some(src),
            None,
        )
        .unwrap();
        let sh = &self.w.sh;
        sh.global.curr_conn.fetch_add(1, Relaxed);
        sh.threads[0].conns.fetch_add(1, Relaxed);
        sh.proxies[0].feconn.fetch_add(1, Relaxed);
        let sess = self.w.sessions.insert(Session {
            fe: 0,
            conn: cid,
            src: Some(src),
            dst: Some(dst),
            accept_date: std::time::SystemTime::now(),
            accept_tick: self.ev.now(),
            vars: Default::default(),
            srv_list: Default::default(),
            idle_conns: 0,
            flags: 0,
            req_count: 0,
        });
        self.w.conns[cid].owner = Some(sess);
        (cid, peer)
    }

    /// Plays the poller then runs the mux of `cid` once.
    pub fn io(&mut self, cid: ConnId) -> H1Outcome {
        script::raise_edges(&self.w, &mut self.ev);
        h1_io_cb(&mut self.w, &mut self.ev, cid).expect("no stale handle")
    }

    /// The stream attached to `cid`.
    pub fn strm(&self, cid: ConnId) -> StrmId {
        self.w.conns[cid].strm.expect("a stream is attached")
    }

    /// Installs the response head `head` (parsed from bytes) and `body` in stream `sid`, as
    /// the stream layer does once it has the server's response and ran the response rules
    /// (phase `Forward`: the mux sends nothing before); `eom`: the body is complete.
    pub fn respond(&mut self, sid: StrmId, head: &[u8], body: &[u8], eom: bool) {
        let meth = self.w.streams[sid].txn.meth;
        let lim = crate::mux_h1::limits(&self.w);
        let Ok(Parsed::Done { msg, consumed }) = h1::parse_response(head, meth, &lim) else {
            panic!("bad test response head");
        };
        assert_eq!(consumed, head.len());
        let s = &mut self.w.streams[sid];
        s.txn.status = msg.head.status;
        s.txn.rsp_flags = msg.flags;
        s.txn.rsp_body = msg.body;
        s.txn.rsp = Some(msg.head);
        s.phase = hrs_core::StrmPhase::Forward;
        s.res.buf.extend_from_slice(body);
        if eom {
            s.res.flags |= cf::EOM;
        }
    }

    /// A server connection for stream `sid` (through `conn_new_back` and the connector),
    /// attached like `connect_server` does; returns it and the server's end.
    pub fn back(&mut self, sid: StrmId) -> (ConnId, ScriptPeer) {
        let cid = crate::conn_new_back(
            &mut self.w,
            &mut self.ev,
            "10.0.0.1:80".parse().unwrap(),
            0,
            Mux::H1(H1c::default()),
        )
        .unwrap();
        self.w.conns[cid].attach_strm(sid);
        self.w.streams[sid].si[1].conn = Some(cid);
        let peer = self.opened.borrow().last().unwrap().clone();
        (cid, peer)
    }

    pub fn flags(&self, cid: ConnId) -> u32 {
        self.w.conns[cid].flags
    }

    pub fn has(&self, cid: ConnId, f: u32) -> bool {
        self.w.conns[cid].flags & f != 0
    }

    /// Whether the stream's task was woken since the last call (and clears the queue).
    pub fn strm_woken(&mut self, sid: StrmId) -> bool {
        let task = self.w.streams[sid].task;
        let q = self.ev.is_queued(task);
        if q {
            // consume the wakeup: run one pass with a handler that does nothing
            let mut nop = |_: &mut Ev, _: hrs_ev::TaskId, _: Ctx, _: hrs_ev::WakeReason| {};
            self.ev.run_once(&mut nop).unwrap();
        }
        q
    }

    pub fn closing(&self, cid: ConnId) -> bool {
        self.has(cid, co_fl::CLOSE_AFTER_SEND)
    }
}

impl Drop for T {
    fn drop(&mut self) {
        script::clear_connector();
    }
}
