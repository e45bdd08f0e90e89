//! The thresholds of the server idle pools, end to end on scripted connections: the FD
//! counts that `tune.pool-low-fd-ratio` and `tune.pool-high-fd-ratio` make of `maxsock`,
//! what each of them stops (`srv_add_to_idle_list` keeps nothing from the high count on,
//! and nothing beyond the first idle connection of the thread from the low count on;
//! `connect_server` closes an idle connection above the high count), and how many
//! connections `pool-low-conn` keeps beyond the estimated need.
//!
//! The rules are upstream 2.6's (`server.c:srv_add_to_idle_list`, `backend.c:connect_server`,
//! `haproxy.c` for the counts). What differs by design is the arithmetic's input: our
//! `maxsock` is 2 x `maxconn`, and the FDs in use are the connections (upstream also counts
//! listeners and reserved FDs), so the counts are pinned here for our inputs. The edges
//! (`<` to keep, `>` to close) are upstream's.

use super::http::{get, ok, req, rsp};
use super::kit::Kit;
use hrs_core::script::ScriptPeer;
use std::sync::atomic::Ordering::Relaxed;

/// `maxconn 50` makes `maxsock` 100: each ratio is then a count of FDs.
fn cfg(low: u32, high: u32, srv_opts: &str) -> String {
    format!(
        "
global
    maxconn 50
    tune.pool-low-fd-ratio {low}
    tune.pool-high-fd-ratio {high}
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    http-reuse safe
    server s1 10.0.0.1:80 {srv_opts}
"
    )
}

/// Idle connections in s1's pools.
fn idle(k: &Kit) -> u32 {
    k.w.sh.servers[k.srv_id("be", "s1")].curr_idle()
}

/// A new client's first request, answered by the `n`th server connection (a new one:
/// `http-reuse safe` never gives a pooled connection to a first request). Returns the
/// client and that server connection.
fn exchange(k: &mut Kit, n: usize) -> (ScriptPeer, ScriptPeer) {
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.nb_srv(), n + 1, "a new server connection");
    let s = k.srv(n);
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    (c, s)
}

#[test]
fn the_fd_counts_are_the_ratios_of_maxsock_rounded_up() {
    // maxconn 7: maxsock 14; 20 % is 2.8 -> 3, 50 % is 7, 33 % is 4.62 -> 5, 0 % is 0
    for (low, high, want) in [(20, 50, (3, 7)), (33, 0, (5, 0)), (100, 1, (14, 1))] {
        let text = cfg(low, high, "").replace("maxconn 50", "maxconn 7");
        let k = Kit::new(&text);
        let g = &k.w.sh.global;
        assert_eq!(
            (g.pool_low_count, g.pool_high_count),
            want,
            "ratios {low} {high}"
        );
    }
    // upstream's defaults: 20 % and 25 %
    let text = cfg(0, 0, "")
        .replace("    tune.pool-low-fd-ratio 0\n", "")
        .replace("    tune.pool-high-fd-ratio 0\n", "");
    let k = Kit::new(&text);
    assert_eq!(
        (k.w.sh.global.pool_low_count, k.w.sh.global.pool_high_count),
        (20, 25)
    );
}

#[test]
fn nothing_enters_the_pool_from_the_high_count_on() {
    // when the exchange ends, 2 FDs are in use: the client's and the server's connection
    for (high, kept) in [(2, false), (3, true)] {
        let mut k = Kit::new(&cfg(100, high, ""));
        let (_c, s) = exchange(&mut k, 0);
        assert_eq!(idle(&k), u32::from(kept), "high count {high}");
        assert_eq!(s.closed(), !kept, "high count {high}: closed when refused");
    }
}

#[test]
fn a_connect_above_the_high_count_closes_an_idle_connection() {
    // A's exchange leaves server connection 0 idle (2 FDs in use, high count 3). Then
    // `extra` silent clients connect and B sends a first request: `connect_server` sees
    // A, conn 0, the extra clients and B. At 3 FDs (not above the count) conn 0 stays; at 4
    // it is closed before B's connection opens.
    for (extra, killed) in [(0, false), (1, true)] {
        let mut k = Kit::new(&cfg(100, 3, ""));
        let (_a, s0) = exchange(&mut k, 0);
        assert_eq!(idle(&k), 1);
        let _silent: Vec<ScriptPeer> = (0..extra).map(|_| k.client()).collect();
        let b = k.client();
        b.send(&get("/b"));
        k.run();
        assert_eq!(k.nb_srv(), 2, "B's request opens a connection");
        assert_eq!(s0.closed(), killed, "{extra} extra clients");
        assert_eq!(idle(&k), u32::from(!killed));
    }
}

#[test]
fn from_the_low_count_on_only_the_first_idle_connection_of_the_thread_is_kept() {
    // pool-low-conn 1 would keep a second idle connection (see below); it may only while
    // the FDs in use are below the low count. When B's exchange ends: A, conn 0 (idle), B,
    // conn 1 = 4 FDs.
    for (low, kept) in [(4, false), (5, true)] {
        let mut k = Kit::new(&cfg(low, 100, "pool-low-conn 1"));
        let (_a, s0) = exchange(&mut k, 0);
        let (_b, s1) = exchange(&mut k, 1);
        assert!(!s0.closed(), "the first idle connection is always kept");
        assert_eq!(s1.closed(), !kept, "low count {low}");
        assert_eq!(idle(&k), 1 + u32::from(kept));
    }
    // the first one is kept whatever the low count says
    let mut k = Kit::new(&cfg(0, 100, ""));
    let (_a, s0) = exchange(&mut k, 0);
    assert!(!s0.closed());
    assert_eq!(idle(&k), 1);
}

#[test]
fn pool_low_conn_keeps_that_many_connections_beyond_the_estimated_need() {
    // Three clients one after the other: each first request opens a connection while the
    // others are idle, so the estimated need (the peak of connections in use) stays 1.
    // A connection ending is kept when used + idle <= max(used, need) + pool-low-conn:
    // conn 0 is the thread's first (always kept), conn 1 needs pool-low-conn 1, conn 2
    // needs 2.
    for low_conn in [0u32, 1, 2, 3] {
        let opts = format!("pool-low-conn {low_conn}");
        let mut k = Kit::new(&cfg(100, 100, &opts));
        let mut conns = Vec::new();
        let mut clients = Vec::new();
        for n in 0..3 {
            let (c, s) = exchange(&mut k, n);
            clients.push(c);
            conns.push(s);
        }
        let kept: Vec<bool> = conns.iter().map(|s| !s.closed()).collect();
        let want: Vec<bool> = (0..3).map(|n| n <= low_conn).collect();
        assert_eq!(kept, want, "pool-low-conn {low_conn}");
        assert_eq!(idle(&k), 1 + low_conn.min(2));
        assert_eq!(
            k.w.sh.servers[k.srv_id("be", "s1")].est_need.load(Relaxed),
            1
        );
    }
}
