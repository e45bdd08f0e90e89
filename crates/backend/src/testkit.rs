//! The test world of this crate's unit tests: a configuration parsed by `hrs-cfg`, the
//! [`World`] built by [`crate::world::build_world`] (what the worker runs on), an event
//! loop that is never run, client sessions without sockets, and server connections opened
//! by [`crate::backend::connect_server`] through a scripted connector (`hrs-core`'s
//! `script` feature): nothing here does I/O.
//!
//! A test drives the backend functions as the stream layer does: [`T::stream`] creates a
//! stream of the test session on backend `be`, [`T::assign`]/[`T::connect`] run
//! `assign_server` and `connect_server`, [`T::established`] plays the completed connect,
//! [`T::finish`] ends an HTTP/1 exchange the way `stream_end` does (slot released, then the
//! connection offered to the session or the pools, freed when refused).

use crate::backend::{assign_server, connect_server, srv_release_slot, ConnStatus, SrvStatus};
use hrs_core::script::{self, Connect, ScriptPeer, ScriptSock};
use hrs_core::{
    co_fl, ConnId, Connection, Ctx, Ev, H1c, Mux, SessId, Session, Side, SrvId, StrmId, Target,
    World,
};
use hrs_core::{Pending, PxId};
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

/// Parses `text` (a temporary file: `hrs-cfg` reads files); panics on a fatal diagnostic.
pub(crate) fn parse(text: &str) -> hrs_cfg::Config {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "hrs-backend-test-{}-{}.cfg",
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

/// What the scripted connector does with the next connects.
#[derive(Default)]
pub(crate) struct Book {
    /// The addresses connected to, in order, with the test's end of each connection.
    pub(crate) opened: Vec<(SocketAddr, ScriptPeer)>,
    /// When set, `connect()` fails at once (no socket).
    pub(crate) fail: bool,
}

/// A configuration with `global_lines`, frontend `fe` on 127.0.0.1:8080 and backend `be` of
/// `be_lines` (servers included), `mode http`.
pub(crate) fn config(global_lines: &str, be_lines: &str) -> String {
    format!(
        "
global
    {global_lines}
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    {be_lines}
"
    )
}

/// A world with frontend `fe` and backend `be`, one client session and the connector.
pub(crate) struct T {
    pub(crate) w: World,
    pub(crate) ev: Ev,
    pub(crate) sess: SessId,
    pub(crate) fe: usize,
    pub(crate) be: usize,
    pub(crate) book: Rc<RefCell<Book>>,
}

impl T {
    /// Backend `be` is `be_lines` followed by servers s1 (10.0.0.1:80) and s2 (10.0.0.2:80),
    /// each with `maxconn 1`.
    pub(crate) fn new(be_lines: &str) -> T {
        T::backend(&format!(
            "{be_lines}
    server s1 10.0.0.1:80 maxconn 1
    server s2 10.0.0.2:80 maxconn 1"
        ))
    }

    /// Backend `be` is exactly `be_lines` (servers included); `mode http`, frontend `fe`
    /// on 127.0.0.1:8080 with `be` as its default backend.
    pub(crate) fn backend(be_lines: &str) -> T {
        T::with(&config("", be_lines))
    }

    /// The world of configuration `text`, which has a frontend `fe` and a backend `be`.
    pub(crate) fn with(text: &str) -> T {
        let w = crate::world::build_world(&parse(text), false).unwrap();
        T::over(w)
    }

    /// The worlds of `n` threads sharing the state of configuration `text` (a frontend
    /// `fe`, a backend `be`), thread 0 first. One OS thread runs them all, in turn, as the
    /// test says; messages wait in the inboxes until the test handles them.
    pub(crate) fn threads(text: &str, n: usize) -> Vec<T> {
        let cfg = parse(text);
        let sh = crate::world::build_shared(&cfg, false, n).unwrap();
        (0..n)
            .map(|tid| {
                let w =
                    crate::world::build_thread_world(&cfg, std::sync::Arc::clone(&sh), tid as u16)
                        .unwrap();
                T::over(w)
            })
            .collect()
    }

    /// Threads 0 and 1 over [`config`]`(global_lines, be_lines)`.
    pub(crate) fn two_threads(global_lines: &str, be_lines: &str) -> (T, T) {
        let mut ts = T::threads(&config(global_lines, be_lines), 2);
        let t1 = ts.pop().expect("two threads");
        (ts.pop().expect("two threads"), t1)
    }

    /// Takes the messages waiting in this thread's inbox.
    pub(crate) fn inbox(&self) -> Vec<hrs_core::Msg> {
        std::mem::take(&mut *self.w.sh.threads[usize::from(self.w.tid)].inbox.lock())
    }

    fn over(w: World) -> T {
        let ev = Ev::new().unwrap();
        let fe =
            w.sh.proxies
                .iter()
                .position(|p| p.cfg.name == "fe")
                .unwrap();
        let be =
            w.sh.proxies
                .iter()
                .position(|p| p.cfg.name == "be")
                .unwrap();
        let book = Rc::new(RefCell::new(Book::default()));
        let b = Rc::clone(&book);
        script::set_connector(move |addr| {
            let mut b = b.borrow_mut();
            if b.fail {
                return Err(io::ErrorKind::AddrNotAvailable.into());
            }
            let (sock, peer) = ScriptSock::pair(None, Some(addr), Connect::Established);
            b.opened.push((addr, peer));
            Ok(sock)
        });
        let mut t = T {
            w,
            ev,
            sess: hrs_list::Handle::from_raw(0, 1).unwrap(),
            fe,
            be,
            book,
        };
        t.sess = t.session();
        t
    }

    /// A client session with its front connection (no transport: nothing does I/O here).
    pub(crate) fn session(&mut self) -> SessId {
        let task = self.ev.task_new(Ctx::Signals);
        let mut c = Connection::new(task, Side::Front, self.fe, Mux::H1(H1c::default()));
        c.flags = co_fl::CONNECTED;
        let cid = self.w.conns.insert(c);
        let sess = self.w.sessions.insert(Session {
            fe: self.fe,
            conn: cid,
            src: None,
            dst: None,
            accept_date: std::time::SystemTime::now(),
            accept_tick: self.ev.now(),
            vars: Default::default(),
            srv_list: Default::default(),
            idle_conns: 0,
            flags: 0,
            req_count: 0,
        });
        self.w.conns[cid].owner = Some(sess);
        sess
    }

    /// A new stream of session `sess`, switched to the backend.
    pub(crate) fn stream_of(&mut self, sess: SessId) -> StrmId {
        let cid = self.w.sessions[sess].conn;
        self.w.conns[cid].strm = None;
        let sid = hrs_core::stream_new(&mut self.w, &mut self.ev, cid).unwrap();
        self.w.streams[sid].be = self.be;
        sid
    }

    /// A new stream of the test session.
    pub(crate) fn stream(&mut self) -> StrmId {
        self.stream_of(self.sess)
    }

    /// Server `name` of the backend.
    pub(crate) fn srv(&self, name: &str) -> SrvId {
        self.w.sh.proxies[self.be]
            .servers
            .iter()
            .copied()
            .find(|&i| self.w.sh.servers[i].cfg.name == name)
            .unwrap()
    }

    /// The name of the server stream `sid` is assigned to, `-` for none.
    pub(crate) fn srv_of(&self, sid: StrmId) -> String {
        self.w.streams[sid]
            .srv
            .map(|i| self.w.sh.servers[i].cfg.name.clone())
            .unwrap_or_else(|| "-".into())
    }

    /// A connection of the session to server `name`, established, idle in the session.
    pub(crate) fn sess_conn(&mut self, name: &str) -> ConnId {
        let srv = self.srv(name);
        let task = self.ev.task_new(Ctx::Signals);
        let mut c = Connection::new(task, Side::Back, self.be, Mux::H1(H1c::default()));
        c.flags = co_fl::CONNECTED | co_fl::PRIVATE | co_fl::SESS_IDLE;
        c.target = Target::Server(srv);
        let cid = self.w.conns.insert(c);
        assert!(self.w.session_add_conn(self.sess, cid));
        self.w.sessions[self.sess].idle_conns += 1;
        cid
    }

    /// Makes server `name` full (a stream of another session holds its only slot) with
    /// `queued` streams waiting in its queue.
    pub(crate) fn fill(&mut self, name: &str, queued: usize) {
        let srv = self.srv(name);
        let other = self.session();
        let sv = &self.w.sh.servers[srv];
        sv.served.store(sv.cfg.maxconn, Relaxed);
        for _ in 0..queued {
            let q = self.stream_of(other);
            self.srv_queue_push(srv, q);
        }
    }

    /// The shared state, to change what a configuration fixed (the test's world is its only
    /// holder).
    pub(crate) fn sh_mut(&mut self) -> &mut hrs_core::Shared {
        std::sync::Arc::get_mut(&mut self.w.sh).expect("the world is the only holder")
    }

    /// The streams of this thread waiting in backend `px`'s own queue, oldest first.
    pub(crate) fn px_queue(&self, px: PxId) -> Vec<StrmId> {
        let lb = self.w.sh.proxies[px].lb.lock();
        lb.queue.iter().map(|p| p.sid).collect()
    }

    /// The streams waiting in server `srv`'s queue, oldest first.
    pub(crate) fn srv_queue(&self, srv: SrvId) -> Vec<StrmId> {
        let sv = &self.w.sh.servers[srv];
        let lb = self.w.sh.proxies[sv.px].lb.lock();
        lb.srv_queue[sv.lb_idx].iter().map(|p| p.sid).collect()
    }

    /// Queues stream `sid` of this thread in backend `px`'s own queue.
    pub(crate) fn px_queue_push(&self, px: PxId, sid: StrmId) {
        let p = &self.w.sh.proxies[px];
        let mut lb = p.lb.lock();
        lb.queue.push_back(Pending {
            tid: self.w.tid,
            sid,
        });
        p.nbpend.store(lb.queue.len() as u32, Relaxed);
    }

    /// Queues stream `sid` of this thread in server `srv`'s queue.
    pub(crate) fn srv_queue_push(&self, srv: SrvId, sid: StrmId) {
        let sv = &self.w.sh.servers[srv];
        let mut lb = self.w.sh.proxies[sv.px].lb.lock();
        let q = &mut lb.srv_queue[sv.lb_idx];
        q.push_back(Pending {
            tid: self.w.tid,
            sid,
        });
        sv.nbpend.store(q.len() as u32, Relaxed);
    }

    /// `assign_server` for a new stream of the session: the server chosen and the status.
    pub(crate) fn assign(&mut self) -> (String, SrvStatus) {
        let sid = self.stream();
        let st = self.assign_sid(sid);
        (self.srv_of(sid), st)
    }

    /// `assign_server` for stream `sid`.
    pub(crate) fn assign_sid(&mut self, sid: StrmId) -> SrvStatus {
        assign_server(&mut self.w, sid).expect("live")
    }

    /// `connect_server` for stream `sid` (assigned): the status and the connection of
    /// `si[1]`.
    pub(crate) fn connect(&mut self, sid: StrmId) -> (ConnStatus, Option<ConnId>) {
        let st = connect_server(&mut self.w, &mut self.ev, sid).expect("live");
        (st, self.w.streams[sid].si[1].conn)
    }

    /// A new stream of session `sess` with `tx_flags`, assigned (it must get a server) and
    /// connected: its server connection.
    pub(crate) fn request(&mut self, sess: SessId, tx_flags: u32) -> (StrmId, ConnId) {
        let sid = self.stream_of(sess);
        self.w.streams[sid].txn.flags |= tx_flags;
        assert_eq!(self.assign_sid(sid), SrvStatus::Ok);
        let (st, cid) = self.connect(sid);
        assert_eq!(st, ConnStatus::Ok);
        (sid, cid.expect("si[1] attached"))
    }

    /// The connect of `cid` completed.
    pub(crate) fn established(&mut self, cid: ConnId) {
        let c = &mut self.w.conns[cid];
        c.flags = (c.flags & !co_fl::WAIT_L4_CONN) | co_fl::CONNECTED;
    }

    /// Ends the HTTP/1 exchange of stream `sid` on its server connection the way
    /// `stream_end` does for a reusable exchange: one more request counted on the
    /// connection, the server slot released, the connection detached and offered to the
    /// session or the pools (`conn_detach_idle`), freed when refused. Returns whether the
    /// connection was kept; the stream is freed.
    pub(crate) fn finish(&mut self, sid: StrmId) -> bool {
        let cid = self.w.streams[sid].si[1].conn.expect("si[1] attached");
        let sess = self.w.streams[sid].sess;
        srv_release_slot(&mut self.w, &mut self.ev, sid).unwrap();
        let c = &mut self.w.conns[cid];
        c.strm = None;
        if let Mux::H1(h) = &mut c.mux {
            h.req_count += 1;
        }
        self.w.streams[sid].si[1].conn = None;
        let kept = crate::server::conn_detach_idle(&mut self.w, &mut self.ev, cid, sess).unwrap();
        if !kept {
            hrs_conn::conn_free(&mut self.w, &mut self.ev, cid).unwrap();
        }
        self.free_stream(sid);
        kept
    }

    /// Frees stream `sid` (its task too), as `stream_free` does once it left every list.
    pub(crate) fn free_stream(&mut self, sid: StrmId) {
        let s = self.w.streams.remove(sid).expect("live stream");
        self.ev.task_free(s.task);
    }

    /// Server `name`'s idle and safe lists' sizes and its `curr_used`.
    pub(crate) fn pool(&self, name: &str) -> (usize, usize, u32) {
        let srv = self.srv(name);
        let p = &self.w.pools[srv];
        let used = self.w.sh.servers[srv].curr_used.load(Relaxed);
        (p.idle.len(), p.safe.len(), used)
    }

    /// How many connects the connector answered.
    pub(crate) fn opened(&self) -> usize {
        self.book.borrow().opened.len()
    }
}
