//! Unit tests of server assignment on worlds built like production
//! ([`crate::world::build_world`] on a parsed configuration): `option prefer-last-server`
//! over the session's connections and the `max-keep-alive-queue` limit that guards it
//! (upstream 2.6's `assign_server`), NTLM stickiness, and what disqualifies a connection.

use crate::backend::SrvStatus;
use crate::testkit::T;
use hrs_core::co_fl;
use std::sync::atomic::Ordering::Relaxed;

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
    let sid = t.stream();
    assert_eq!(t.assign_sid(sid), SrvStatus::Ok);
    assert_eq!(t.srv_of(sid), "s2");
    let s2 = t.srv("s2");
    let s = &t.w.streams[sid];
    assert_eq!(s.target, hrs_core::Target::Server(s2));
    let held = hrs_core::sf::ASSIGNED | hrs_core::sf::CURR_SESS;
    assert_eq!(s.flags & held, held);
    assert_eq!(t.w.sh.servers[s2].served.load(Relaxed), 1);
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
    assert_eq!(t.w.sh.servers[s2].nbpend.load(Relaxed), 4);
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
    t.w.sh.servers[s2].up.store(false, Relaxed);
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
    t.sh_mut().servers[s2].px = fe;
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

#[test]
fn a_busy_connection_found_leaves_the_idle_count_alone() {
    // the session's first connection (to s2) is not idle, its second one (to s1) is
    let mut t = T::new("option prefer-last-server");
    let busy = t.sess_conn("s2");
    t.w.conns[busy].flags &= !co_fl::SESS_IDLE;
    t.w.sessions[t.sess].idle_conns -= 1;
    let idle = t.sess_conn("s1");
    assert_eq!(t.assign().0, "s2");
    assert_eq!(t.w.sessions[t.sess].idle_conns, 1);
    assert_ne!(t.w.conns[idle].flags & co_fl::SESS_IDLE, 0);
}

#[test]
fn a_server_of_weight_zero_is_not_preferred() {
    // usable means up with a non-zero weight (`srv_currently_usable`)
    let mut t = T::backend(
        "option prefer-last-server
    server s1 10.0.0.1:80 maxconn 1
    server s2 10.0.0.2:80 maxconn 1 weight 0",
    );
    t.sess_conn("s2");
    assert_eq!(t.assign().0, "s1");
}
