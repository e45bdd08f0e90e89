//! The proxy and server counters `show stat` reports, as the analysers keep them: connections
//! and sessions accepted, requests per frontend and backend (`stream_set_backend` counts a
//! backend once per stream, `beconn` while the stream lives), responses by status class,
//! failed requests, connections and responses, in HTTP and TCP.

use super::http::{get, ok, rsp, status};
use super::kit::{Kit, Plan};
use std::sync::atomic::Ordering::Relaxed;

fn cfg(fe_extra: &str, be_extra: &str) -> String {
    format!(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
{fe_extra}
    default_backend be
backend be
    retries 0
{be_extra}
    server s1 10.0.0.1:80
"
    )
}

#[test]
fn accepted_connections_and_sessions_are_counted() {
    let mut k = Kit::new(&cfg("", ""));
    let fe = k.px("fe");
    let _c1 = k.client();
    let _c2 = k.client();
    k.run();
    let c = k.w.sh.proxies[fe].counters.snapshot();
    assert_eq!((c.cum_conn, c.cum_sess), (2, 2));
    assert_eq!(k.w.sh.proxies[fe].feconn.load(Relaxed), 2);
    assert_eq!(k.w.sh.global.curr_conn.load(Relaxed), 2);
}

#[test]
fn requests_count_on_the_frontend_and_on_a_distinct_backend() {
    let mut k = Kit::new(&cfg("", ""));
    let (fe, be) = (k.px("fe"), k.px("be"));
    let c = k.client();
    for i in 0..3 {
        c.send(&get("/"));
        k.run();
        k.srv(0).take();
        k.srv(0).send(&ok(""));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 200);
        assert_eq!(k.w.sh.proxies[fe].counters.snapshot().cum_req, i + 1);
        assert_eq!(k.w.sh.proxies[be].counters.snapshot().cum_req, i + 1);
    }
    // a listen section is its own backend: one request counts once
    let mut k = Kit::new(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen li
    bind 127.0.0.1:8080
    server s1 10.0.0.1:80
",
    );
    let li = k.px("li");
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.w.sh.proxies[li].counters.snapshot().cum_req, 1);
    // as a backend it counts each stream; as a frontend, the session
    for p in ["/2", "/3"] {
        c.send(&get(p));
        k.run();
        k.srv(0).send(&ok(""));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 200);
    }
    let n = k.w.sh.proxies[li].counters.snapshot();
    assert_eq!((n.cum_sess, n.be_cum_conn), (1, 3));
}

#[test]
fn beconn_counts_the_streams_a_backend_serves() {
    let mut k = Kit::new(&cfg("", ""));
    let be = k.px("be");
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    assert_eq!(k.w.sh.proxies[be].beconn.load(Relaxed), 1);
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(
        k.w.sh.proxies[be].beconn.load(Relaxed),
        2,
        "two streams at once"
    );
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c1.take()).status(), 200);
    assert_eq!(k.w.sh.proxies[be].beconn.load(Relaxed), 1);
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
    assert_eq!(k.w.sh.proxies[be].beconn.load(Relaxed), 0); // the backend's `stot` counts the streams it was given
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().be_cum_conn, 2);
}

#[test]
fn a_denied_request_takes_nothing_from_beconn() {
    // a stream that never reached a backend releases nothing: another stream of the same
    // proxy (here a listen section, where the frontend is the backend) keeps its count
    let mut k = Kit::new(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen li
    bind 127.0.0.1:8080
    http-request deny if { path /deny }
    server s1 10.0.0.1:80
",
    );
    let li = k.px("li");
    let c1 = k.client();
    c1.send(&get("/"));
    k.run();
    assert_eq!(k.w.sh.proxies[li].beconn.load(Relaxed), 1);
    let c2 = k.client();
    c2.send(&get("/deny"));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 403);
    assert_eq!(
        k.w.sh.proxies[li].beconn.load(Relaxed),
        1,
        "the denied stream had no backend"
    );
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c1.take()).status(), 200);
    assert_eq!(k.w.sh.proxies[li].beconn.load(Relaxed), 0);
}

#[test]
fn tcp_streams_count_their_backend() {
    let mut k = Kit::new(
        "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    server s1 10.0.0.1:80
",
    );
    let (fe, be) = (k.px("fe"), k.px("be"));
    let c = k.client();
    c.send(b"ping");
    k.run();
    assert_eq!(k.w.sh.proxies[be].beconn.load(Relaxed), 1);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().cum_req, 1);
    assert_eq!(
        k.w.sh.proxies[fe].counters.snapshot().cum_req,
        0,
        "no request in TCP"
    );
    c.shutw();
    k.run();
    k.srv(0).shutw();
    k.run();
    assert_eq!(k.nb_streams(), 0);
    assert_eq!(
        k.w.sh.proxies[be].beconn.load(Relaxed),
        0,
        "released at the end"
    );
}

#[test]
fn responses_are_counted_by_status_class() {
    let mut k = Kit::new(&cfg("", ""));
    let fe = k.px("fe");
    let c = k.client();
    for code in [200u16, 204, 301, 404, 503] {
        c.send(&get("/"));
        k.run();
        k.srv(0).take();
        k.srv(0).send(&status(code));
        k.run();
        assert_eq!(rsp(&c.take()).status(), code);
    }
    // 1xx..5xx, other
    assert_eq!(
        k.w.sh.proxies[fe].counters.snapshot().rsp,
        [0, 2, 1, 1, 1, 0]
    );
    // a reply of the proxy counts too
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n");
    k.run();
    k.srv(0).take();
    k.srv(0).send(b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
    k.run();
    assert_eq!(
        k.w.sh.proxies[fe].counters.snapshot().rsp[0],
        1,
        "101 is 1xx"
    );
}

#[test]
fn a_proxy_reply_is_counted_in_its_class() {
    let mut k = Kit::new(&cfg(
        "    http-request deny if { path /d }\n    http-request return status 302 if { path /r }",
        "",
    ));
    let fe = k.px("fe");
    let c = k.client();
    c.send(&get("/d"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 403);
    c.send(&get("/r"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 302);
    assert_eq!(
        k.w.sh.proxies[fe].counters.snapshot().rsp,
        [0, 0, 1, 1, 0, 0]
    );
}

#[test]
fn failed_responses_count_on_the_backend_and_the_server() {
    let mut k = Kit::new(&cfg("", ""));
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    for i in 1..=2 {
        let c = k.client();
        c.send(&get("/"));
        k.run();
        let n = k.nb_srv();
        k.srv(n - 1).shutw();
        k.run();
        assert_eq!(rsp(&c.take()).status(), 502);
        assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, i);
        assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_resp, i);
    }
}

#[test]
fn failed_connections_count_on_the_backend_and_the_server() {
    let mut k = Kit::new(&cfg("", ""));
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    k.plan(&[Plan::Refuse, Plan::Refuse]);
    for i in 1..=2 {
        let c = k.client();
        c.send(&get("/"));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 503);
        assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_conns, i);
        assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_conns, i);
    }
    // no usable server: counted on the backend
    let mut k = Kit::new(&cfg("", "").replace("10.0.0.1:80", "10.0.0.1:80 disabled"));
    let be = k.px("be");
    for i in 1..=2 {
        let c = k.client();
        c.send(&get("/"));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 503);
        assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_conns, i);
    }
}

#[test]
fn an_h2_preface_on_a_proto_h1_listener_is_a_failed_request() {
    // PRI is the HTTP/2 preface: without the upgrade it is a bad request (400)
    let text = cfg("", "").replace("bind 127.0.0.1:8080", "bind 127.0.0.1:8080 proto h1");
    let mut k = Kit::new(&text);
    let fe = k.px("fe");
    for i in 1..=2 {
        let c = k.client();
        c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        k.run();
        assert_eq!(rsp(&c.take()).status(), 400);
        assert!(c.closed(), "the connection closes after the 400");
        assert_eq!(k.w.sh.proxies[fe].counters.snapshot().failed_req, i);
    }
    assert_eq!(k.nb_srv(), 0);
}

#[test]
fn a_failed_connection_counts_once_whatever_the_retries() {
    // upstream 2.6.12 after three refused connects with `retries 2`: econ 1, wretr 2
    let text = cfg("", "    timeout connect 10ms").replace("retries 0", "retries 2");
    let mut k = Kit::new(&text);
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    k.plan(&[Plan::Refuse, Plan::Refuse, Plan::Refuse]);
    let c = k.client();
    c.send(&get("/"));
    assert!(k.run_until(2000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.attempts().len(), 3);
    let (b, s) = (
        k.w.sh.proxies[be].counters.snapshot(),
        k.w.sh.servers[s1].counters.snapshot(),
    );
    assert_eq!((b.failed_conns, b.retries), (1, 2));
    assert_eq!((s.failed_conns, s.retries), (1, 2));
}

#[test]
fn a_queue_timeout_on_a_server_counts_on_it_too() {
    // the client's kept connection makes its next request prefer its server, which is full:
    // the stream waits in that server's queue, times out there
    let mut k = Kit::new(
        &cfg(
            "",
            "    option prefer-last-server\n    http-reuse never\n    timeout queue 30ms",
        )
        .replace("10.0.0.1:80", "10.0.0.1:80 maxconn 1"),
    );
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    let a = k.client();
    a.send(&get("/a1"));
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&a.take()).status(), 200);
    let b = k.client();
    b.send(&get("/b"));
    k.run();
    assert_eq!(
        k.w.sh.servers[s1].served.load(Relaxed),
        1,
        "b holds the only slot"
    );
    a.send(&get("/a2"));
    k.run();
    assert_eq!(
        k.w.sh.servers[s1].nbpend.load(Relaxed),
        1,
        "queued on its server"
    );
    assert!(k.run_until(1000, |_| !a.output().is_empty()));
    assert_eq!(rsp(&a.take()).status(), 503);
    assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_conns, 1);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_conns, 1);
    drop(b);
}
