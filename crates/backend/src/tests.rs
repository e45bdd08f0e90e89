//! Unit tests of server assignment on worlds built like production
//! ([`crate::world::build_world`] on a parsed configuration): `option prefer-last-server`
//! over the session's connections and the `max-keep-alive-queue` limit that guards it
//! (upstream 2.6's `assign_server`), NTLM stickiness, and what disqualifies a connection.

use crate::backend::{assign_server, SrvStatus};
use hrs_core::{
    co_fl, ConnId, Connection, Ctx, Ev, H1c, Mux, Session, Side, SrvId, StrmId, Target, World,
};

/// Parses `text` (a temporary file: `hrs-cfg` reads files).
fn parse(text: &str) -> hrs_cfg::Config {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "hrs-backend-test-{}-{}.cfg",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    let ctx = hrs_cfg::ParseCtx {
        features: "",
        version: "2.6.0",
        acl_kws: &hrs_sample::SampleKeywords,
        compiler: &hrs_sample::SampleCompiler::new(),
    };
    let (cfg, d) = hrs_cfg::parse_files(std::slice::from_ref(&path), &ctx);
    let _ = std::fs::remove_file(&path);
    assert!(!d.fatal, "{:?}", d.list);
    cfg
}

/// A world with frontend `fe` and backend `be` (`be_lines`, then servers s1 and s2, each
/// with `maxconn 1`), one client session, and a stream of it ready for `assign_server`.
struct T {
    w: World,
    ev: Ev,
    sess: hrs_core::SessId,
    fe: usize,
    be: usize,
}

impl T {
    fn new(be_lines: &str) -> T {
        let text = format!(
            "
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
    server s1 10.0.0.1:80 maxconn 1
    server s2 10.0.0.2:80 maxconn 1
"
        );
        let w = crate::world::build_world(&parse(&text), false).unwrap();
        let ev = Ev::new().unwrap();
        let fe = w.proxies.iter().position(|p| p.cfg.name == "fe").unwrap();
        let be = w.proxies.iter().position(|p| p.cfg.name == "be").unwrap();
        let mut t = T {
            w,
            ev,
            sess: hrs_list::Handle::from_raw(0, 1).unwrap(),
            fe,
            be,
        };
        t.sess = t.session();
        t
    }

    /// A client session with its front connection (no transport: nothing does I/O here).
    fn session(&mut self) -> hrs_core::SessId {
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
    fn stream_of(&mut self, sess: hrs_core::SessId) -> StrmId {
        let cid = self.w.sessions[sess].conn;
        self.w.conns[cid].strm = None;
        let sid = hrs_core::stream_new(&mut self.w, &mut self.ev, cid).unwrap();
        self.w.streams[sid].be = self.be;
        sid
    }

    fn srv(&self, name: &str) -> SrvId {
        self.w.proxies[self.be]
            .servers
            .iter()
            .copied()
            .find(|&i| self.w.servers[i].cfg.name == name)
            .unwrap()
    }

    /// A connection of the session to server `name`, established, idle in the session.
    fn sess_conn(&mut self, name: &str) -> ConnId {
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
    fn fill(&mut self, name: &str, queued: usize) {
        let srv = self.srv(name);
        let other = self.session();
        self.w.servers[srv].served = self.w.servers[srv].cfg.maxconn;
        for _ in 0..queued {
            let q = self.stream_of(other);
            self.w.servers[srv].queue.push_back(q);
        }
    }

    /// `assign_server` for a new stream of the session: the server chosen and the status.
    fn assign(&mut self) -> (String, SrvStatus) {
        let sid = self.stream_of(self.sess);
        let st = assign_server(&mut self.w, sid).expect("live");
        let s = &self.w.streams[sid];
        let name = s
            .srv
            .map(|i| self.w.servers[i].cfg.name.clone())
            .unwrap_or_else(|| "-".into());
        (name, st)
    }
}

#[test]
fn without_prefer_last_server_the_balancer_decides() {
    let mut t = T::new("balance roundrobin");
    t.sess_conn("s2");
    assert_eq!(t.assign(), ("s1".into(), SrvStatus::Ok));
}

#[test]
fn prefer_last_server_takes_the_server_of_a_session_connection() {
    let mut t = T::new("option prefer-last-server");
    let c = t.sess_conn("s2");
    assert_eq!(t.assign(), ("s2".into(), SrvStatus::Ok));
    // the connection found stops counting as idle in the session
    assert_eq!(t.w.conns[c].flags & co_fl::SESS_IDLE, 0);
    assert_eq!(t.w.sessions[t.sess].idle_conns, 0);
}

#[test]
fn prefer_last_server_without_limit_queues_on_the_full_server() {
    let mut t = T::new("option prefer-last-server");
    t.sess_conn("s2");
    t.fill("s2", 3);
    assert_eq!(t.assign(), ("s2".into(), SrvStatus::Queued));
    let s2 = t.srv("s2");
    assert_eq!(t.w.servers[s2].queue.len(), 4);
}

#[test]
fn max_keep_alive_queue_bounds_the_wait_for_the_last_server() {
    // upstream keeps `max-keep-alive-queue N` as N+1 and prefers the last server while it
    // has room or `queue + 1 < N + 1`
    for (limit, queued, stays) in [
        (0, 0, false), // full: never wait
        (1, 0, true),  // nobody waits yet: wait first
        (1, 1, false),
        (2, 1, true),
        (2, 2, false),
        (5, 4, true),
        (5, 5, false),
    ] {
        let mut t = T::new(&format!(
            "option prefer-last-server\n    max-keep-alive-queue {limit}"
        ));
        t.sess_conn("s2");
        t.fill("s2", queued);
        let got = t.assign();
        if stays {
            assert_eq!(
                got,
                ("s2".into(), SrvStatus::Queued),
                "limit {limit}, {queued} queued"
            );
        } else {
            assert_eq!(
                got,
                ("s1".into(), SrvStatus::Ok),
                "limit {limit}, {queued} queued"
            );
        }
    }
}

#[test]
fn max_keep_alive_queue_does_not_matter_while_the_server_has_room() {
    let mut t = T::new("option prefer-last-server\n    max-keep-alive-queue 0");
    t.sess_conn("s2");
    assert_eq!(t.assign(), ("s2".into(), SrvStatus::Ok));
}

#[test]
fn ntlm_sticks_to_the_server_whatever_the_queue() {
    let mut t = T::new("max-keep-alive-queue 0");
    t.sess_conn("s2");
    t.fill("s2", 5);
    t.w.sessions[t.sess].flags |= hrs_core::sess_fl::PREFER_LAST;
    assert_eq!(t.assign(), ("s2".into(), SrvStatus::Queued));
}

#[test]
fn hash_balancing_ignores_the_last_server() {
    let mut t = T::new("option prefer-last-server\n    balance source");
    t.sess_conn("s2");
    let (name, _) = t.assign();
    assert_eq!(
        name, "s1",
        "the balancer's choice, not the session's server"
    );
}

#[test]
fn unusable_candidates_are_skipped() {
    // a server that is down
    let mut t = T::new("option prefer-last-server");
    t.sess_conn("s2");
    let s2 = t.srv("s2");
    t.w.servers[s2].up = false;
    assert_eq!(t.assign().0, "s1");
    // a connection still connecting
    let mut t = T::new("option prefer-last-server");
    let c = t.sess_conn("s2");
    t.w.conns[c].flags = (t.w.conns[c].flags & !co_fl::CONNECTED) | co_fl::WAIT_L4_CONN;
    assert_eq!(t.assign().0, "s1");
    // a connection to another backend's server
    let mut t = T::new("option prefer-last-server");
    t.sess_conn("s2");
    let (s2, fe) = (t.srv("s2"), t.fe);
    t.w.servers[s2].px = fe;
    assert_eq!(t.assign().0, "s1");
}

#[test]
fn the_first_usable_session_connection_wins() {
    let mut t = T::new("option prefer-last-server\n    max-keep-alive-queue 1");
    t.sess_conn("s2");
    t.sess_conn("s1");
    assert_eq!(t.assign().0, "s2", "in session list order");
    // s2 over its queue limit: the next connection's server
    let mut t = T::new("option prefer-last-server\n    max-keep-alive-queue 1");
    t.sess_conn("s2");
    t.sess_conn("s1");
    t.fill("s2", 1);
    assert_eq!(t.assign(), ("s1".into(), SrvStatus::Ok));
}
