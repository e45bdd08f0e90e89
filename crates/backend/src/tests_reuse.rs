//! Unit tests of server connections on worlds built from configuration text: what
//! `connect_server` opens or reuses (upstream 2.6's `http-reuse` table, the session's own
//! connections, the `avail` list of HTTP/2 connections, the reuse key, the high FD count),
//! what becomes of a connection when its stream ends (`h1_detach`/`h2_detach` with
//! `srv_add_to_idle_list` and `session_check_idle_conn`), and the purge
//! (`srv_cleanup_idle_conns`, `srv_cleanup_connections`). Reference: `docs/reuse.md`.

use crate::backend::{ConnStatus, SrvStatus};
use crate::server::{
    h2_conn_detached, srv_add_to_idle_list, srv_cleanup_connections, srv_cleanup_idle_conns,
};
use crate::testkit::T;
use hrs_core::{co_fl, h2::h2c_fl, sf, tx, ConnId, Mux, SessId, SiState, StrmId, Target};
use hrs_ev::ticks::tick_add;
use std::sync::atomic::Ordering::Relaxed;

/// Where connection `cid` is kept: `idle`, `safe`, `avail` (server lists), `sess` (its
/// owner session's list), or `-`.
fn place(t: &T, cid: ConnId) -> &'static str {
    let c = &t.w.conns[cid];
    let Target::Server(srv) = c.target else {
        return if c.sess_link.is_linked() { "sess" } else { "-" };
    };
    let p = &t.w.pools[srv];
    let (idle, safe, avail) = (
        p.idle.contains(&t.w.conns, &c.hash, cid),
        p.safe.contains(&t.w.conns, &c.hash, cid),
        p.avail.contains(&t.w.conns, &c.hash, cid),
    );
    let flags = c.flags & co_fl::LIST_MASK;
    match (idle, safe, avail, c.sess_link.is_linked()) {
        (true, false, false, false) if flags == co_fl::IDLE_LIST => "idle",
        (false, true, false, false) if flags == co_fl::SAFE_LIST => "safe",
        (false, false, true, false) if flags == 0 => "avail",
        (false, false, false, true) if flags == 0 => "sess",
        (false, false, false, false) if flags == 0 => "-",
        other => panic!("inconsistent lists {other:?}, flags {flags:#x}"),
    }
}

/// Server `srv`'s `curr_used`, `max_used` and `est_need` gauges.
fn gauges(t: &T, srv: hrs_core::SrvId) -> (u32, u32, u32) {
    let sv = &t.w.sh.servers[srv];
    (
        sv.curr_used.load(Relaxed),
        sv.max_used.load(Relaxed),
        sv.est_need.load(Relaxed),
    )
}

/// The `connect` and `reuse` counters of the backend and of server `name`.
fn counted(t: &T, name: &str) -> [(u64, u64); 2] {
    let (b, s) = (
        t.w.sh.proxies[t.be].counters.snapshot(),
        t.w.sh.servers[t.srv(name)].counters.snapshot(),
    );
    [(b.connect, b.reuse), (s.connect, s.reuse)]
}

/// Whether the server end of connection number `n` (in connect order) saw it closed.
fn closed(t: &T, n: usize) -> bool {
    t.book.borrow().opened[n].1.closed()
}

/// The address connection number `n` went to.
fn addr(t: &T, n: usize) -> String {
    t.book.borrow().opened[n].0.to_string()
}

/// Ends the exchange of `sid` after `req_count` requests in all on its connection.
fn finish_after(t: &mut T, sid: StrmId, req_count: u32) -> bool {
    let cid = t.w.streams[sid].si[1].conn.unwrap();
    if let Mux::H1(h) = &mut t.w.conns[cid].mux {
        h.req_count = req_count - 1;
    }
    t.finish(sid)
}

/// A backend of one server s1 (10.0.0.1:80, no limit) under `http-reuse mode`.
fn one_server(mode: &str, srv_opts: &str) -> T {
    T::backend(&format!(
        "http-reuse {mode}\n    server s1 10.0.0.1:80 {srv_opts}"
    ))
}

#[test]
fn a_new_connection_is_opened_counted_and_attached() {
    let mut t = one_server("safe", "");
    let sess = t.sess;
    let (sid, cid) = t.request(sess, 0);
    assert_eq!((t.opened(), addr(&t, 0).as_str()), (1, "10.0.0.1:80"));
    let s1 = t.srv("s1");
    let c = &t.w.conns[cid];
    assert_eq!(
        (c.target, c.owner, c.strm),
        (Target::Server(s1), Some(sess), Some(sid))
    );
    assert!(matches!(c.mux, Mux::H1(_)));
    assert!(!c.has(co_fl::PRIVATE));
    assert_eq!(place(&t, cid), "-");
    let s = &t.w.streams[sid];
    assert_eq!(s.si[1].state, SiState::Con, "the connect is in progress");
    assert_eq!(s.flags & sf::SRV_REUSED, 0);
    assert_eq!(counted(&t, "s1"), [(1, 0), (1, 0)]);
    assert_eq!(gauges(&t, s1), (1, 1, 1));
    // the exchange ends: the connection waits in the idle list, in use no more
    t.established(cid);
    assert!(t.finish(sid));
    assert_eq!(place(&t, cid), "idle");
    assert_eq!(t.w.conns[cid].owner, None);
    assert_eq!(t.pool("s1"), (1, 0, 0));
    // a later request of another session takes it: connected already, counted as a reuse
    let other = t.session();
    let (sid, again) = t.request(other, tx::NOT_FIRST);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "-");
    assert_eq!(t.pool("s1"), (0, 0, 1));
    let s = &t.w.streams[sid];
    assert_eq!(s.si[1].state, SiState::Est);
    assert_ne!(s.flags & sf::SRV_REUSED, 0);
    assert_eq!(t.w.conns[cid].strm, Some(sid));
    assert_eq!(counted(&t, "s1"), [(1, 1), (1, 1)]);
    assert_eq!(t.opened(), 1);
}

/// For `http-reuse mode`, a first or `later` request of a new session facing an idle
/// connection (`idle`) and/or a safe one (`safe`): where its connection comes from.
fn reuse_from(mode: &str, retry_on: &str, later: bool, idle: bool, safe: bool) -> &'static str {
    let mut t = if retry_on.is_empty() {
        one_server(mode, "")
    } else {
        T::backend(&format!(
            "http-reuse {mode}\n    retry-on {retry_on}\n    server s1 10.0.0.1:80"
        ))
    };
    // both in use together, so that the need estimate admits both; the safe one ends first
    let mut ends = vec![];
    for (want, reqs) in [(safe, 2), (idle, 1)] {
        if want {
            let sess = t.session();
            let (sid, cid) = t.request(sess, 0);
            t.established(cid);
            ends.push((sid, cid, reqs));
        }
    }
    let mut names = vec![];
    for (sid, cid, reqs) in ends {
        assert!(finish_after(&mut t, sid, reqs));
        names.push((cid, if reqs == 2 { "safe" } else { "idle" }));
    }
    for (cid, name) in &names {
        let want = if mode == "never" { "sess" } else { name };
        assert_eq!(place(&t, *cid), want);
    }
    let sess = t.session();
    let (_, cid) = t.request(sess, if later { tx::NOT_FIRST } else { 0 });
    let from = names
        .iter()
        .find(|(c, _)| *c == cid)
        .map_or("new", |(_, n)| n);
    assert_eq!(
        counted(&t, "s1")[1].1,
        u64::from(from != "new"),
        "a reuse is counted"
    );
    from
}

#[test]
fn reuse_follows_the_http_reuse_table() {
    // (mode, later, [idle only, safe only, both])
    let table = [
        ("never", false, ["new", "new", "new"]),
        ("never", true, ["new", "new", "new"]),
        ("safe", false, ["new", "new", "new"]),
        ("safe", true, ["idle", "safe", "idle"]),
        ("aggressive", false, ["new", "safe", "safe"]),
        ("aggressive", true, ["idle", "safe", "idle"]),
        ("always", false, ["idle", "safe", "safe"]),
        ("always", true, ["idle", "safe", "idle"]),
    ];
    for (mode, later, want) in table {
        let got = [(true, false), (false, true), (true, true)]
            .map(|(idle, safe)| reuse_from(mode, "", later, idle, safe));
        assert_eq!(got, want, "http-reuse {mode}, later {later}");
    }
}

#[test]
fn retry_on_every_connection_failure_makes_a_first_request_a_later_one() {
    let full = "conn-failure empty-response response-timeout";
    assert_eq!(reuse_from("safe", full, false, true, false), "idle");
    assert_eq!(reuse_from("aggressive", full, false, true, true), "idle");
    for partial in [
        "conn-failure empty-response",
        "conn-failure response-timeout",
        "empty-response response-timeout",
    ] {
        assert_eq!(
            reuse_from("safe", partial, false, true, false),
            "new",
            "{partial}"
        );
    }
}

#[test]
fn http_reuse_never_keeps_connections_in_their_session() {
    let mut t = one_server("never", "");
    let sess = t.sess;
    let (sid, cid) = t.request(sess, 0);
    let c = &t.w.conns[cid];
    assert!(c.has(co_fl::PRIVATE));
    assert_eq!((c.owner, place(&t, cid)), (Some(sess), "sess"));
    // private connections are not in the gauges, but the peak and the estimate rose
    assert_eq!(gauges(&t, t.srv("s1")), (0, 1, 1));
    t.established(cid);
    assert!(t.finish(sid));
    assert_ne!(t.w.conns[cid].flags & co_fl::SESS_IDLE, 0);
    assert_eq!(t.w.sessions[sess].idle_conns, 1);
    assert_eq!(t.pool("s1"), (0, 0, 0));
    // another session cannot have it
    let other = t.session();
    let (_, new) = t.request(other, tx::NOT_FIRST);
    assert_ne!(new, cid);
    // its own session takes it back, even for a first request
    let (sid, again) = t.request(sess, 0);
    assert_eq!(again, cid);
    assert_eq!(t.w.conns[cid].flags & co_fl::SESS_IDLE, 0);
    assert_eq!(t.w.sessions[sess].idle_conns, 0);
    assert_ne!(t.w.streams[sid].flags & sf::SRV_REUSED, 0);
    assert_eq!(counted(&t, "s1"), [(2, 1), (2, 1)]);
}

#[test]
fn a_session_keeps_at_most_max_session_srv_conns_idle_connections() {
    let text = "
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind 127.0.0.1:8080
    max-session-srv-conns 2
    default_backend be
backend be
    http-reuse never
    server s1 10.0.0.1:80
";
    let mut t = T::with(text);
    let sess = t.sess;
    let reqs: Vec<_> = (0..3).map(|_| t.request(sess, 0)).collect();
    assert_eq!(
        t.opened(),
        3,
        "each connection is busy when the next one is needed"
    );
    let mut kept = vec![];
    for (sid, cid) in reqs {
        t.established(cid);
        kept.push(t.finish(sid));
        let _ = cid;
    }
    assert_eq!(kept, [true, true, false]);
    assert_eq!(t.w.sessions[sess].idle_conns, 2);
    assert_eq!(t.w.sessions[sess].srv_list.len(), 2);
    assert_eq!(
        [closed(&t, 0), closed(&t, 1), closed(&t, 2)],
        [false, false, true]
    );
}

#[test]
fn a_backend_without_server_connects_to_its_dispatch_address_privately() {
    let mut t = T::backend("dispatch 10.0.0.9:80");
    let sess = t.sess;
    let (sid, cid) = t.request(sess, 0);
    assert_eq!(addr(&t, 0), "10.0.0.9:80");
    let c = &t.w.conns[cid];
    assert_eq!(c.target, Target::Proxy(t.be));
    assert!(c.has(co_fl::PRIVATE));
    assert_eq!(place(&t, cid), "sess");
    let b = t.w.sh.proxies[t.be].counters.snapshot();
    assert_eq!((b.connect, b.reuse), (1, 0));
    t.established(cid);
    assert!(t.finish(sid));
    let (_, again) = t.request(sess, 0);
    assert_eq!(again, cid, "reused from the session");
    let b = t.w.sh.proxies[t.be].counters.snapshot();
    assert_eq!((b.connect, b.reuse), (1, 1));
}

#[test]
fn no_target_or_no_socket_is_a_failed_connect() {
    // not assigned: nothing to connect to
    let mut t = one_server("safe", "");
    let sid = t.stream();
    assert_eq!(t.connect(sid), (ConnStatus::Failed, None));
    assert_eq!(t.opened(), 0);
    // the socket cannot be created
    let sid = t.stream();
    assert_eq!(t.assign_sid(sid), SrvStatus::Ok);
    t.book.borrow_mut().fail = true;
    let conns = t.w.conns.len();
    assert_eq!(t.connect(sid), (ConnStatus::Failed, None));
    assert_eq!(t.w.conns.len(), conns);
    assert_eq!(counted(&t, "s1"), [(0, 0), (0, 0)]);
    assert_eq!(t.pool("s1"), (0, 0, 0));
}

#[test]
fn a_new_connection_after_a_reused_one_is_counted_as_a_reuse() {
    // upstream 2.6 keeps SF_SRV_REUSED over a retry
    let mut t = one_server("safe", "");
    let sid = t.stream();
    assert_eq!(t.assign_sid(sid), SrvStatus::Ok);
    t.w.streams[sid].flags |= sf::SRV_REUSED;
    let (st, _) = t.connect(sid);
    assert_eq!(st, ConnStatus::Ok);
    assert_eq!(t.opened(), 1);
    assert_eq!(counted(&t, "s1"), [(0, 1), (0, 1)]);
}

#[test]
fn tcp_backends_never_share_connections() {
    let text = "
defaults
    mode tcp
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    server s1 10.0.0.1:80
";
    let mut t = T::with(text);
    let sess = t.sess;
    let (_, cid) = t.request(sess, 0);
    let c = &t.w.conns[cid];
    assert!(matches!(c.mux, Mux::Pt));
    assert!(c.has(co_fl::PRIVATE));
    assert_eq!(place(&t, cid), "sess");
    assert_eq!(t.pool("s1"), (0, 0, 0));
}

#[test]
fn the_reuse_key_has_the_destination_of_servers_without_a_port() {
    for (server, c_takes) in [("10.0.0.3", "b"), ("10.0.0.3:80", "a")] {
        let mut t = T::backend(&format!("http-reuse always\n    server s1 {server}"));
        let on_port = |t: &mut T, port: u16| {
            let sess = t.session();
            t.w.sessions[sess].dst = Some(format!("127.0.0.1:{port}").parse().unwrap());
            let (sid, cid) = t.request(sess, 0);
            t.established(cid);
            (sid, cid)
        };
        // a on port 8080 and b on port 8081 in use together, then idle (a first)
        let (sa, a) = on_port(&mut t, 8080);
        let (sb, b) = on_port(&mut t, 8081);
        assert!(t.finish(sa));
        assert!(t.finish(sb));
        // c comes on port 8081: the oldest idle connection with its key
        let (_, c) = on_port(&mut t, 8081);
        let got = if c == a {
            "a"
        } else if c == b {
            "b"
        } else {
            "new"
        };
        assert_eq!(got, c_takes, "server {server}");
        if server == "10.0.0.3" {
            assert_eq!(addr(&t, 0), "10.0.0.3:8080");
            assert_eq!(addr(&t, 1), "10.0.0.3:8081");
        }
    }
}

#[test]
fn a_connect_above_the_high_fd_count_kills_one_idle_connection() {
    let mut t = one_server("safe", "");
    // a safe and an idle connection, then three clients
    let (sa, sb) = (t.session(), t.session());
    let (s_safe, c_safe) = t.request(sa, 0);
    let (s_idle, c_idle) = t.request(sb, 0);
    t.established(c_safe);
    t.established(c_idle);
    assert!(finish_after(&mut t, s_safe, 2));
    assert!(finish_after(&mut t, s_idle, 1));
    assert_eq!(t.pool("s1"), (1, 1, 0));
    let clients = [t.session(), t.session(), t.session()];
    let high = t.w.used_fds();
    t.sh_mut().global.pool_high_count = high;
    // at the limit: nothing is killed (a first request under `safe` opens a new one)
    t.request(clients[0], 0);
    assert_eq!(t.pool("s1"), (1, 1, 1));
    // above it: the idle connection goes, the safe one stays
    t.request(clients[1], 0);
    assert_eq!(t.pool("s1"), (0, 1, 2));
    assert!(!t.w.conns.contains(c_idle));
    assert!(closed(&t, 1));
    // above it with no idle connection: proven ones are kept
    t.request(clients[2], 0);
    assert_eq!(t.pool("s1"), (0, 1, 3));
    assert!(t.w.conns.contains(c_safe));
}

#[test]
fn the_pools_refuse_what_they_cannot_keep() {
    // pool-purge-delay 0 keeps nothing: the connection is closed at once
    let mut t = one_server("always", "pool-purge-delay 0");
    let sess = t.sess;
    let (sid, cid) = t.request(sess, 0);
    t.established(cid);
    assert!(!t.finish(sid));
    assert!(closed(&t, 0));
    assert_eq!(t.pool("s1"), (0, 0, 0));
    // a connection that will close cannot be offered
    let mut t = one_server("always", "");
    let (sid, cid) = t.request(sess, 0);
    t.established(cid);
    crate::backend::srv_release_slot(&mut t.w, &mut t.ev, sid).unwrap();
    let c = &mut t.w.conns[cid];
    c.strm = None;
    if let Mux::H1(h) = &mut c.mux {
        h.want_close = true;
    }
    assert!(!srv_add_to_idle_list(&mut t.w, &mut t.ev, cid, false).unwrap());
    assert_eq!(place(&t, cid), "-");
    assert_eq!(t.pool("s1"), (0, 0, 1), "still counted in use");
    // a connection to no server is not for the server pools
    t.w.conns[cid].target = Target::None;
    if let Mux::H1(h) = &mut t.w.conns[cid].mux {
        h.want_close = false;
    }
    assert!(!srv_add_to_idle_list(&mut t.w, &mut t.ev, cid, false).unwrap());
}

#[test]
fn the_first_idle_connection_starts_the_purge_timer() {
    let mut t = one_server("always", "pool-purge-delay 3000");
    let s1 = t.srv("s1");
    assert_eq!(t.w.pools[s1].purge_task, None);
    let sess = t.sess;
    let (a, ca) = t.request(sess, 0);
    let (b, cb) = t.request(sess, 0);
    t.established(ca);
    t.established(cb);
    let now = t.ev.now();
    assert!(t.finish(a));
    let task = t.w.pools[s1].purge_task.expect("purge task");
    assert_eq!(t.ev.task_expire(task), Some(tick_add(now, 3000)));
    // armed already: a second idle connection leaves the date alone
    let later = tick_add(now, 7);
    t.ev.task_set_expire(task, later);
    assert!(t.finish(b));
    assert_eq!(t.ev.task_expire(task), Some(later));
    assert_eq!(t.w.pools[s1].purge_task, Some(task));
}

#[test]
fn the_purge_closes_half_the_excess_idle_list_first() {
    // four connections in use together, then idle: the rounds close 0, 0, 2, 2 (the
    // estimate decays from 4), the idle list before the safe one
    let mut t = one_server("always", "pool-purge-delay 3000");
    let s1 = t.srv("s1");
    let sess = t.sess;
    let reqs: Vec<_> = (0..4).map(|_| t.request(sess, 0)).collect();
    for (i, &(sid, cid)) in reqs.iter().enumerate() {
        t.established(cid);
        // the first two are proven (safe), the last two not
        assert!(finish_after(&mut t, sid, if i < 2 { 2 } else { 1 }));
    }
    assert_eq!(t.pool("s1"), (2, 2, 0));
    let task = t.w.pools[s1].purge_task.unwrap();
    let mut seen = vec![];
    for _ in 0..4 {
        srv_cleanup_idle_conns(&mut t.w, &mut t.ev, s1);
        let (p, sv) = (&t.w.pools[s1], &t.w.sh.servers[s1]);
        let (used, max_used, est_need) = gauges(&t, s1);
        let _ = used;
        seen.push((p.idle.len(), p.safe.len(), est_need, max_used));
        let next = if sv.curr_idle() > 0 {
            tick_add(t.ev.now(), 3000)
        } else {
            hrs_ev::TICK_ETERNITY
        };
        assert_eq!(t.ev.task_expire(task), Some(next));
    }
    assert_eq!(
        seen,
        [(2, 2, 4, 0), (2, 2, 2, 0), (0, 2, 1, 0), (0, 0, 0, 0)]
    );
    assert_eq!((0..4).map(|n| closed(&t, n)).collect::<Vec<_>>(), [true; 4]);
}

#[test]
fn maintenance_closes_every_idle_connection_but_not_those_in_use() {
    let mut t = one_server("always", "");
    let s1 = t.srv("s1");
    let sess = t.sess;
    let reqs: Vec<_> = (0..3).map(|_| t.request(sess, 0)).collect();
    for (i, &(sid, cid)) in reqs.iter().enumerate().take(2) {
        t.established(cid);
        assert!(finish_after(&mut t, sid, if i == 0 { 2 } else { 1 }));
    }
    assert_eq!(t.pool("s1"), (1, 1, 1));
    srv_cleanup_connections(&mut t.w, &mut t.ev, s1);
    assert_eq!(t.pool("s1"), (0, 0, 1));
    assert_eq!(
        [closed(&t, 0), closed(&t, 1), closed(&t, 2)],
        [true, true, false]
    );
    // a purge with nothing ever pooled does nothing
    let mut t = one_server("always", "");
    let s1 = t.srv("s1");
    srv_cleanup_idle_conns(&mut t.w, &mut t.ev, s1);
    assert_eq!(t.w.pools[t.srv("s1")].purge_task, None);
}

// ---------------------------------------------------------------------------------------
// HTTP/2 server connections (`proto h2`)

/// A request on an HTTP/2 backend: a new stream of session `sess`, its connection.
fn h2_request(t: &mut T, sess: SessId, tx_flags: u32) -> (StrmId, ConnId) {
    let (sid, cid) = t.request(sess, tx_flags);
    assert!(t.w.conns[cid].is_mux_h2());
    (sid, cid)
}

/// Stream `sid` ends on its HTTP/2 connection (`stream_end`): the slot is released, the
/// stream detached, then `h2_conn_detached` decides; the connection is freed when it says so.
/// Returns its answer.
fn h2_end(t: &mut T, sid: StrmId) -> bool {
    let cid = t.w.streams[sid].si[1].conn.unwrap();
    let sess = t.w.streams[sid].sess;
    crate::backend::srv_release_slot(&mut t.w, &mut t.ev, sid).unwrap();
    let used = hrs_conn::mux_h2::h2_back_detach(&mut t.w.conns[cid], sid);
    t.w.streams[sid].si[1].conn = None;
    let kept = h2_conn_detached(&mut t.w, &mut t.ev, cid, sess, used).unwrap();
    if !kept {
        hrs_conn::conn_free(&mut t.w, &mut t.ev, cid).unwrap();
    }
    t.free_stream(sid);
    kept
}

fn h2c(t: &mut T, cid: ConnId) -> &mut hrs_core::h2::H2c {
    match &mut t.w.conns[cid].mux {
        Mux::H2(h) => h,
        _ => panic!("not an HTTP/2 connection"),
    }
}

#[test]
fn a_new_h2_connection_is_shared_as_http_reuse_says() {
    // always: in `avail` at once, any session's first request takes a stream on it
    let mut t = one_server("always", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (_, cid) = h2_request(&mut t, a, 0);
    assert_eq!(place(&t, cid), "avail");
    t.established(cid);
    let (sid, again) = h2_request(&mut t, b, 0);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "avail", "slots are left");
    assert_eq!(t.w.conns[cid].used_streams(), 2);
    assert_ne!(t.w.streams[sid].flags & sf::SRV_REUSED, 0);
    assert_eq!(counted(&t, "s1"), [(1, 1), (1, 1)]);
    assert_eq!(t.pool("s1"), (0, 0, 1), "one connection in use");
    // safe: reserved to its session (head-of-line blocking stays within the client)
    let mut t = one_server("safe", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (_, cid) = h2_request(&mut t, a, 0);
    assert_eq!(place(&t, cid), "sess");
    assert_eq!(t.w.conns[cid].owner, Some(a));
    t.established(cid);
    let (_, other) = h2_request(&mut t, b, tx::NOT_FIRST);
    assert_ne!(other, cid);
    let (_, again) = h2_request(&mut t, a, 0);
    assert_eq!(again, cid);
    // aggressive: in no list until a stream ends
    let mut t = one_server("aggressive", "proto h2");
    let a = t.session();
    let (_, cid) = h2_request(&mut t, a, 0);
    assert_eq!(place(&t, cid), "-");
    // never: private
    let mut t = one_server("never", "proto h2");
    let a = t.sess;
    let (_, cid) = h2_request(&mut t, a, 0);
    assert!(t.w.conns[cid].has(co_fl::PRIVATE));
    assert_eq!(place(&t, cid), "sess");
}

#[test]
fn max_reuse_bounds_the_streams_of_a_shared_h2_connection() {
    // max-reuse 0: one stream, never shared
    let mut t = one_server("always", "proto h2 max-reuse 0");
    let a = t.session();
    let (_, cid) = h2_request(&mut t, a, 0);
    assert_eq!(place(&t, cid), "-");
    // max-reuse 1: the second stream takes the last slot and the connection leaves `avail`
    let mut t = one_server("always", "proto h2 max-reuse 1");
    let (a, b, c) = (t.session(), t.session(), t.session());
    let (_, cid) = h2_request(&mut t, a, 0);
    assert_eq!(place(&t, cid), "avail");
    t.established(cid);
    let (_, again) = h2_request(&mut t, b, 0);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "-");
    let (_, third) = h2_request(&mut t, c, 0);
    assert_ne!(third, cid);
    // max-reuse 1 again: a pooled connection whose last slot is taken stays out of `avail`
    let mut t = one_server("always", "proto h2 max-reuse 1");
    let (a, b) = (t.session(), t.session());
    let (sid, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    assert!(h2_end(&mut t, sid));
    assert_eq!(place(&t, cid), "safe");
    let (_, again) = h2_request(&mut t, b, 0);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "-");
}

#[test]
fn an_h2_connection_left_without_streams_is_pooled_as_safe() {
    // always: it leaves `avail` for the safe list; a first request takes it back to `avail`
    let mut t = one_server("always", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (sid, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    assert!(h2_end(&mut t, sid));
    assert_eq!(place(&t, cid), "safe");
    assert_eq!(t.w.conns[cid].owner, None);
    assert_eq!(t.pool("s1"), (0, 1, 0));
    let (_, again) = h2_request(&mut t, b, 0);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "avail");
    assert_eq!(t.pool("s1"), (0, 0, 1));
    // safe: it leaves its session for the safe list; a later request of another session
    // takes it and keeps it to itself
    let mut t = one_server("safe", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (sid, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    assert!(h2_end(&mut t, sid));
    assert_eq!(place(&t, cid), "safe");
    assert_eq!(t.w.sessions[a].srv_list.len(), 0);
    let (_, again) = h2_request(&mut t, b, tx::NOT_FIRST);
    assert_eq!(again, cid);
    assert_eq!(place(&t, cid), "sess");
    assert_eq!(t.w.conns[cid].owner, Some(b));
    // refused by the pools: released
    let mut t = one_server("always", "proto h2 pool-purge-delay 0");
    let a = t.sess;
    let (sid, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    assert!(!h2_end(&mut t, sid));
    assert!(!t.w.conns.contains(cid));
}

#[test]
fn an_h2_connection_with_streams_left_becomes_shareable() {
    // aggressive: in no list while its only stream runs; once a stream ends with another
    // still running, it enters `avail`
    let mut t = one_server("aggressive", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (s1, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    let s2 = t.stream_of(b);
    assert_eq!(t.assign_sid(s2), SrvStatus::Ok);
    t.w.conns[cid].attach_strm(s2);
    t.w.streams[s2].si[1].conn = Some(cid);
    assert!(h2_end(&mut t, s1));
    assert_eq!(place(&t, cid), "avail");
    // safe: held by its session, it stays there
    let mut t = one_server("safe", "proto h2");
    let a = t.sess;
    let (s1, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    let (s2, again) = h2_request(&mut t, a, 0);
    assert_eq!(again, cid);
    assert!(h2_end(&mut t, s1));
    assert_eq!(place(&t, cid), "sess");
    assert!(h2_end(&mut t, s2));
    assert_eq!(place(&t, cid), "safe");
}

#[test]
fn an_h2_connection_that_takes_no_more_streams_is_released_once_unused() {
    let mut t = one_server("always", "proto h2");
    let (a, b) = (t.session(), t.session());
    let (s1, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    let (s2, _) = h2_request(&mut t, b, 0);
    assert_eq!(place(&t, cid), "avail");
    // a GOAWAY arrives: no new stream; it leaves `avail` but lives while a stream runs
    h2c(&mut t, cid).flags |= h2c_fl::GOAWAY_RCVD;
    assert!(h2_end(&mut t, s1));
    assert_eq!(place(&t, cid), "-");
    assert_eq!(t.pool("s1"), (0, 0, 1));
    assert!(!h2_end(&mut t, s2));
    assert!(!t.w.conns.contains(cid));
    assert_eq!(t.pool("s1"), (0, 0, 0));
}

#[test]
fn a_private_h2_connection_stays_with_its_session() {
    let mut t = one_server("never", "proto h2");
    let a = t.sess;
    let (s1, cid) = h2_request(&mut t, a, 0);
    t.established(cid);
    let (s2, again) = h2_request(&mut t, a, 0);
    assert_eq!(again, cid);
    assert!(h2_end(&mut t, s1));
    assert_eq!(
        t.w.conns[cid].flags & co_fl::SESS_IDLE,
        0,
        "a stream still runs"
    );
    assert_eq!(t.w.sessions[a].idle_conns, 0);
    assert!(h2_end(&mut t, s2));
    assert_ne!(t.w.conns[cid].flags & co_fl::SESS_IDLE, 0);
    assert_eq!(t.w.sessions[a].idle_conns, 1);
    assert_eq!(place(&t, cid), "sess");
    // another session's connection is not taken into this one: released once unused
    let b = t.session();
    let (s3, cid3) = h2_request(&mut t, b, 0);
    t.established(cid3);
    let (s4, _) = h2_request(&mut t, b, 0);
    t.w.streams[s3].sess = a;
    t.w.streams[s4].sess = a;
    assert!(h2_end(&mut t, s3), "a stream still runs");
    assert!(!h2_end(&mut t, s4));
    assert!(!t.w.conns.contains(cid3));
}

/// Two threads over backend `be` (`http-reuse always`, one server s1).
fn two_threads(global_lines: &str) -> (T, T) {
    T::two_threads(global_lines, "http-reuse always\n    server s1 10.0.0.1:80")
}

/// A first request of thread `t`'s session on a new connection, which then waits idle:
/// the connection.
fn pooled(t: &mut T) -> ConnId {
    let (sid, cid) = t.request(t.sess, 0);
    t.established(cid);
    assert!(t.finish(sid));
    cid
}

/// Server s1's idle gauges: idle list, safe list, per thread.
fn idle_gauges(t: &T) -> (u32, u32, Vec<u32>) {
    let sv = &t.w.sh.servers[t.srv("s1")];
    (
        sv.idle_nb.load(Relaxed),
        sv.safe_nb.load(Relaxed),
        sv.idle_thr.iter().map(|n| n.load(Relaxed)).collect(),
    )
}

#[test]
fn an_idle_connection_is_listed_for_takeover_and_claimed_by_its_owner_first() {
    let (mut t0, mut t1) = two_threads("");
    let s1 = t0.srv("s1");
    let cid = pooled(&mut t0);
    let hash = t0.w.conns[cid].hash;
    assert_ne!(t0.w.conns[cid].flags & co_fl::TAKEOVER, 0);
    assert!(t0.w.sh.threads[0].idle.lock().contains(s1, hash, cid));
    assert_eq!(idle_gauges(&t0), (1, 0, vec![1, 0]));
    // its owner reuses it: out of the registry, nothing left for thread 1
    let sess = t0.sess;
    let (_, again) = t0.request(sess, tx::NOT_FIRST);
    assert_eq!(again, cid);
    assert_eq!(t0.w.conns[cid].flags & co_fl::TAKEOVER, 0);
    assert!(!t0.w.sh.threads[0].idle.lock().contains(s1, hash, cid));
    assert_eq!(idle_gauges(&t1), (0, 0, vec![0, 0]));
    let sess1 = t1.sess;
    let (_, other) = t1.request(sess1, tx::NOT_FIRST);
    assert!(
        t1.w.conns[other].has(co_fl::WAIT_L4_CONN),
        "a new connection"
    );
    assert!(t0.inbox().is_empty(), "nothing was taken");
}

#[test]
fn a_connection_taken_over_leaves_its_owner_which_forgets_it() {
    let (mut t0, mut t1) = two_threads("");
    let s1 = t0.srv("s1");
    let cid = pooled(&mut t0);
    let hash = t0.w.conns[cid].hash;
    // thread 1 has none of its own: it takes thread 0's entry (the scripted connection
    // has no socket to duplicate, so thread 1 then opens its own)
    let sess1 = t1.sess;
    let (_, opened) = t1.request(sess1, tx::NOT_FIRST);
    assert!(t1.w.conns[opened].has(co_fl::WAIT_L4_CONN), "its own, new");
    assert!(!t0.w.sh.threads[0].idle.lock().contains(s1, hash, cid));
    assert_eq!(
        idle_gauges(&t0),
        (0, 0, vec![0, 0]),
        "the taker counts it out"
    );
    let taken: Vec<_> = t0.inbox();
    assert!(
        matches!(taken.as_slice(), [hrs_core::Msg::Taken(c)] if *c == cid),
        "{taken:?}"
    );
    assert_eq!(
        t0.w.sh.servers[s1].next_takeover.load(Relaxed),
        0,
        "moved by a takeover that succeeds only (this one could not adopt the socket)"
    );
    // the owner meets it again (its message, or an event): forgotten, gauges untouched
    crate::server::conn_taken_over(&mut t0.w, &mut t0.ev, cid);
    assert!(!t0.w.conns.contains(cid));
    assert_eq!(
        t0.pool("s1"),
        (0, 0, 1),
        "none on thread 0; thread 1's own in use"
    );
    assert_eq!(idle_gauges(&t0), (0, 0, vec![0, 0]));
}

#[test]
fn without_shared_pools_no_thread_takes_another_s_connection() {
    let (mut t0, mut t1) = two_threads("tune.idle-pool.shared off");
    let s1 = t0.srv("s1");
    let cid = pooled(&mut t0);
    assert_eq!(t0.w.conns[cid].flags & co_fl::TAKEOVER, 0, "not listed");
    assert!(!t0.w.sh.threads[0]
        .idle
        .lock()
        .contains(s1, t0.w.conns[cid].hash, cid));
    let sess1 = t1.sess;
    let _ = t1.request(sess1, tx::NOT_FIRST);
    assert!(t0.inbox().is_empty());
    assert_eq!(
        t0.pool("s1"),
        (1, 0, 1),
        "still thread 0's, and thread 1's in use"
    );
    assert_eq!(idle_gauges(&t0), (1, 0, vec![1, 0]));
}

/// Gives the registry entry of idle connection `cid` of thread `t` a real socket (the
/// scripted connections have none), so that a takeover can duplicate and adopt it. The
/// returned pair (that socket and its peer) must outlive the test's use of the connection.
fn with_socket(
    t: &T,
    cid: ConnId,
) -> (
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
) {
    use std::os::fd::AsRawFd;
    let (ours, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let c = &t.w.conns[cid];
    let Target::Server(srv) = c.target else {
        panic!("not a server connection")
    };
    let mut reg = t.w.sh.threads[usize::from(t.w.tid)].idle.lock();
    let q = reg.conns.get_mut(&(srv, c.hash)).expect("listed");
    let e = q.iter_mut().find(|e| e.cid == cid).expect("listed");
    e.fd = ours.as_raw_fd();
    (ours, peer)
}

#[test]
fn a_takeover_adopts_the_idle_connection_of_another_thread() {
    let (mut t0, mut t1) = two_threads("");
    let s1 = t0.srv("s1");
    let cid = pooled(&mut t0);
    let _peer = with_socket(&t0, cid);
    let opened = t1.opened();
    let sess1 = t1.sess;
    let (sid, got) = t1.request(sess1, tx::NOT_FIRST);
    // reused, not opened: thread 1 adopted thread 0's connection
    assert_eq!(t1.opened(), opened, "no new connect");
    assert_ne!(t1.w.streams[sid].flags & sf::SRV_REUSED, 0);
    let c = &t1.w.conns[got];
    assert!(c.has(co_fl::CONNECTED) && !c.has(co_fl::WAIT_L4_CONN));
    assert_eq!(
        (c.target, c.hash),
        (Target::Server(s1), t0.w.conns[cid].hash)
    );
    let req_count = match &c.mux {
        hrs_core::Mux::H1(h) => h.req_count,
        _ => panic!("an HTTP/1 connection"),
    };
    assert_eq!(req_count, 1, "its request count came along");
    let sv = &t1.w.sh.servers[s1];
    assert_eq!(sv.next_takeover.load(Relaxed), 1);
    assert_eq!(idle_gauges(&t1), (0, 0, vec![0, 0]));
    assert_eq!(t1.pool("s1"), (0, 0, 1), "in use on thread 1");
    // thread 0 is told, and forgets its copy
    assert!(matches!(t0.inbox().as_slice(), [hrs_core::Msg::Taken(c)] if *c == cid));
    assert!(!crate::server::idle_conn_still_ours(&t0.w, cid));
    crate::server::conn_taken_over(&mut t0.w, &mut t0.ev, cid);
    assert!(!t0.w.conns.contains(cid));
    // the adopted connection goes idle on thread 1, listed there for takeover
    t1.established(got);
    assert!(t1.finish(sid));
    assert_ne!(t1.w.conns[got].flags & co_fl::TAKEOVER, 0);
    assert_eq!(idle_gauges(&t1), (0, 1, vec![0, 1]), "proven: safe");
}

#[test]
fn a_takeover_starts_at_next_takeover_and_skips_threads_without_idle_connections() {
    // `safe`: first requests open their own connection, later ones reuse
    let cfg = crate::testkit::config("", "http-reuse safe\n    server s1 10.0.0.1:80");
    let mut ts = T::threads(&cfg, 3);
    let s1 = ts[0].srv("s1");
    let a = pooled(&mut ts[1]);
    let b = pooled(&mut ts[2]);
    let _pa = with_socket(&ts[1], a);
    let _pb = with_socket(&ts[2], b);
    let sv = &ts[0].w.sh.servers[s1];
    // from thread 2 on: its connection, then the next takeover starts at 0
    sv.next_takeover.store(2, Relaxed);
    let sess = ts[0].sess;
    let _ = ts[0].request(sess, tx::NOT_FIRST);
    assert!(ts[1].inbox().is_empty(), "thread 1 not visited first");
    assert!(matches!(ts[2].inbox().as_slice(), [hrs_core::Msg::Taken(c)] if *c == b));
    assert_eq!(ts[0].w.sh.servers[s1].next_takeover.load(Relaxed), 0);
    // next: thread 0 itself is skipped, thread 1 has one
    let sess = ts[0].session();
    let _ = ts[0].request(sess, tx::NOT_FIRST);
    assert!(matches!(ts[1].inbox().as_slice(), [hrs_core::Msg::Taken(c)] if *c == a));
    assert_eq!(idle_gauges(&ts[0]), (0, 0, vec![0, 0, 0]));
}

#[test]
fn pool_low_conn_keeps_few_idle_connections_from_other_threads() {
    let (mut t0, mut t1) = T::two_threads(
        "",
        "http-reuse safe\n    server s1 10.0.0.1:80 pool-low-conn 2",
    );
    let a = pooled(&mut t0);
    let _pa = with_socket(&t0, a);
    let sess1 = t1.sess;
    let _ = t1.request(sess1, tx::NOT_FIRST);
    assert!(
        t0.inbox().is_empty(),
        "one idle connection, fewer than pool-low-conn"
    );
    assert!(crate::server::idle_conn_still_ours(&t0.w, a));
    // with a second one on thread 0 the server has pool-low-conn: it may be taken
    let sess0 = t0.session();
    let (sid, b) = t0.request(sess0, 0);
    t0.established(b);
    assert!(t0.finish(sid));
    let _pb = with_socket(&t0, b);
    let sess1 = t1.session();
    let _ = t1.request(sess1, tx::NOT_FIRST);
    assert_eq!(t0.inbox().len(), 1, "taken over");
}

/// The `Purge` shares waiting in `t`'s inbox, as `(server, n)`.
fn purges(t: &T) -> Vec<(usize, u32)> {
    t.inbox()
        .into_iter()
        .map(|m| match m {
            hrs_core::Msg::Purge { srv, n } => (srv, n),
            other => panic!("unexpected message {other:?}"),
        })
        .collect()
}

#[test]
fn thread_0_runs_the_purge_and_each_thread_closes_its_share() {
    let (mut t0, mut t1) = T::two_threads(
        "",
        "http-reuse safe\n    server s1 10.0.0.1:80 pool-purge-delay 3s",
    );
    let s1 = t0.srv("s1");
    // two exchanges at once on thread 1 (the need is 2), then both idle there; thread 1
    // pools first: it asks thread 0 to arm the purge timer
    let (sa, sb) = (t1.sess, t1.session());
    let (x1, b1) = t1.request(sa, 0);
    let (x2, b2) = t1.request(sb, 0);
    for (sid, c) in [(x1, b1), (x2, b2)] {
        t1.established(c);
        assert!(t1.finish(sid));
    }
    let arm: Vec<_> = t0.inbox();
    assert!(
        matches!(arm.as_slice(), [hrs_core::Msg::ArmPurge(s)] if *s == s1),
        "{arm:?}"
    );
    crate::server::srv_arm_purge(&mut t0.w, &mut t0.ev, s1, 3000);
    let a = pooled(&mut t0);
    assert!(t0.inbox().is_empty(), "armed already: no second request");
    assert_eq!(idle_gauges(&t0), (3, 0, vec![1, 2]));
    // none in use, a peak of 2: 1 exceeds, ceil(1/2) = 1 to close; thread 0's share
    // 1 * 1 / 3 + 1 = 1 (closed here), thread 1's 1 * 2 / 3 + 1 = 1 (by message)
    crate::server::srv_cleanup_idle_conns(&mut t0.w, &mut t0.ev, s1);
    assert!(!t0.w.conns.contains(a), "thread 0 closed its own");
    assert_eq!(purges(&t1), [(s1, 1)]);
    assert!(t1.w.conns.contains(b1), "not before its message");
    crate::server::srv_purge_own(&mut t1.w, &mut t1.ev, s1, 1);
    assert!(
        !t1.w.conns.contains(b1) && t1.w.conns.contains(b2),
        "the oldest"
    );
    assert_eq!(idle_gauges(&t0), (1, 0, vec![0, 1]));
    // idle connections remained: re-armed
    let task = t0.w.pools[s1].purge_task.expect("armed");
    assert_eq!(t0.ev.task_expire(task), Some(tick_add(t0.ev.now(), 3000)));
    // once none is left anywhere the purge leaves the schedule, and the next pooled
    // connection arms it again
    crate::server::srv_purge_own(&mut t1.w, &mut t1.ev, s1, 1);
    crate::server::srv_cleanup_idle_conns(&mut t0.w, &mut t0.ev, s1);
    assert_eq!(t0.ev.task_expire(task), Some(hrs_ev::TICK_ETERNITY));
    let sess = t1.session();
    let (sid, c) = t1.request(sess, 0);
    t1.established(c);
    assert!(t1.finish(sid));
    assert!(matches!(
        t0.inbox().as_slice(),
        [hrs_core::Msg::ArmPurge(_)]
    ));
}

#[test]
fn short_of_fds_a_thread_without_idle_connections_has_another_close_one() {
    let (mut t0, mut t1) = T::two_threads("", "http-reuse safe\n    server s1 10.0.0.1:80");
    let s1 = t0.srv("s1");
    let _ = pooled(&mut t1);
    let _ = t0.inbox();
    crate::server::srv_kill_one_idle(&mut t0.w, &mut t0.ev, s1);
    assert_eq!(purges(&t1), [(s1, 1)], "thread 1 has the one to close");
    // with one of its own, thread 0 closes that one and tells nobody
    let a = pooled(&mut t0);
    crate::server::srv_kill_one_idle(&mut t0.w, &mut t0.ev, s1);
    assert!(!t0.w.conns.contains(a));
    assert!(t1.inbox().is_empty());
}

#[test]
fn an_own_reuse_moves_next_takeover_past_this_thread() {
    let (mut t0, mut t1) = two_threads("");
    let s1 = t1.srv("s1");
    let next = |t: &T| t.w.sh.servers[s1].next_takeover.load(Relaxed);
    // thread 0 reuses its own: the next takeover starts at thread 1
    let _ = pooled(&mut t0);
    let sess = t0.session();
    let _ = t0.request(sess, tx::NOT_FIRST);
    assert_eq!(next(&t0), 1);
    // thread 1 reuses its own: thread 1 + 1, wrapped
    let _ = pooled(&mut t1);
    let sess = t1.session();
    let _ = t1.request(sess, tx::NOT_FIRST);
    assert_eq!(next(&t1), 0);
}

#[test]
fn a_connection_in_use_is_never_forgotten_for_a_takeover() {
    let (mut t0, _t1) = two_threads("");
    let cid = pooled(&mut t0);
    // reused by its owner: no longer idle, not listed
    let sess = t0.sess;
    let (_, again) = t0.request(sess, tx::NOT_FIRST);
    assert_eq!(again, cid);
    assert!(crate::server::idle_conn_still_ours(&t0.w, cid));
    // a stale message about it (it cannot be taken now) leaves it alone
    crate::server::conn_taken_over(&mut t0.w, &mut t0.ev, cid);
    assert!(t0.w.conns.contains(cid));
    // a private connection is never listed either
    let p = t0.sess_conn("s1");
    assert!(crate::server::idle_conn_still_ours(&t0.w, p));
    crate::server::conn_taken_over(&mut t0.w, &mut t0.ev, p);
    assert!(t0.w.conns.contains(p));
}

#[test]
fn an_owner_meeting_a_connection_taken_meanwhile_forgets_it_and_looks_further() {
    let (mut t0, mut t1) = two_threads("");
    let cid = pooled(&mut t0);
    let _pa = with_socket(&t0, cid);
    let sess1 = t1.sess;
    let (_, got) = t1.request(sess1, tx::NOT_FIRST);
    assert!(t1.w.conns[got].has(co_fl::CONNECTED), "taken over");
    // before its message, thread 0 wants a connection: its list still holds the taken one,
    // whose claim fails: forgotten there and then, and a new one is opened
    let sess0 = t0.sess;
    let (sid, c) = t0.request(sess0, tx::NOT_FIRST);
    assert!(!t0.w.conns.contains(cid), "forgotten");
    assert!(t0.w.conns[c].has(co_fl::WAIT_L4_CONN), "a new connection");
    assert_eq!(t0.w.streams[sid].flags & sf::SRV_REUSED, 0);
    assert_eq!(t0.pool("s1"), (0, 0, 2), "both threads' connections in use");
}

#[test]
fn one_thread_lists_nothing_for_takeover() {
    let mut t = T::backend("http-reuse always\n    server s1 10.0.0.1:80");
    let cid = pooled(&mut t);
    assert_eq!(t.w.conns[cid].flags & co_fl::TAKEOVER, 0);
    assert_eq!(t.w.sh.threads.len(), 1);
}

#[test]
fn a_purge_with_no_idle_connection_changes_no_estimate() {
    let mut t = T::backend("http-reuse safe\n    server s1 10.0.0.1:80");
    let s1 = t.srv("s1");
    let cid = pooled(&mut t);
    let sv = &t.w.sh.servers[s1];
    let (need, peak) = (sv.est_need.load(Relaxed), sv.max_used.load(Relaxed));
    assert_eq!((need, peak), (1, 1));
    hrs_conn::conn_free(&mut t.w, &mut t.ev, cid).unwrap();
    srv_cleanup_idle_conns(&mut t.w, &mut t.ev, s1);
    let sv = &t.w.sh.servers[s1];
    assert_eq!(
        (sv.est_need.load(Relaxed), sv.max_used.load(Relaxed)),
        (need, peak),
        "upstream skips the server when it has no idle connection"
    );
}

#[test]
fn short_of_fds_the_next_thread_with_idle_connections_is_asked() {
    let cfg = crate::testkit::config("", "http-reuse safe\n    server s1 10.0.0.1:80");
    let mut ts = T::threads(&cfg, 3);
    let s1 = ts[0].srv("s1");
    let _ = pooled(&mut ts[2]);
    let _ = ts[0].inbox();
    let t0 = &mut ts[0];
    crate::server::srv_kill_one_idle(&mut t0.w, &mut t0.ev, s1);
    assert!(ts[1].inbox().is_empty(), "thread 1 has none");
    assert_eq!(purges(&ts[2]), [(s1, 1)]);
}
