//! The request and response analysers end to end: `http-request`/`http-response`/
//! `http-after-response` rules, backend switching (HTTP and TCP), server assignment with
//! queues and `maxconn`, the `dispatch` address, `option http-buffer-request` with
//! `Expect: 100-continue`, connection modes, and the `mode tcp` relay.

use super::http::{get, ok, parse_all, req, rsp, status};
use super::kit::{Kit, Plan};
use std::sync::atomic::Ordering::Relaxed;

fn http(fe: &str, be: &str) -> String {
    format!(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %b/%s\"
{fe}
backend be
{be}
backend other
    server o1 10.0.1.1:80
"
    )
}

#[test]
fn deny_answers_403_without_a_server() {
    let mut k = Kit::new(&http(
        "    http-request deny if { path /forbidden }\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/forbidden"));
    k.run();
    assert_eq!(k.nb_srv(), 0);
    let m = rsp(&c.take());
    assert_eq!(m.status(), 403);
    assert_eq!(k.logs(), ["403 PR fe/<NOSRV>"]);
    assert_eq!(k.w.sh.proxies[k.px("fe")].counters.snapshot().denied_req, 1);
    assert!(!c.closed(), "a complete request keeps the connection");
    c.send(&get("/ok"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "the next request goes through");
}

#[test]
fn return_answers_locally() {
    let mut k = Kit::new(&http(
        "    http-request return status 202 content-type text/plain string done if { path /r }\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/r"));
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 202);
    assert_eq!(m.body, b"done");
    assert_eq!(m.hdr("content-type"), Some("text/plain"));
    assert_eq!(k.logs(), ["202 LR fe/<NOSRV>"]);
}

#[test]
fn request_rules_edit_the_request_in_order_frontend_then_backend() {
    let mut k = Kit::new(&http(
        "    http-request set-header x-a fe\n    http-request add-header x-b fe\n    default_backend be",
        "    http-request set-header x-a be\n    http-request del-header x-drop\n    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-drop: 1\r\nx-a: client\r\n\r\n");
    k.run();
    let m = req(&k.srv(0).take());
    assert_eq!(m.all("x-a"), ["be"]);
    assert_eq!(m.all("x-b"), ["fe"]);
    assert!(m.all("x-drop").is_empty());
}

#[test]
fn response_rules_and_after_response_rules() {
    let mut k = Kit::new(&http(
        "    http-response set-header x-fe 1\n    http-after-response set-header x-after 1\n    default_backend be",
        "    http-response set-header x-be 1\n    http-response deny if { status 418 }\n    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok("x"));
    k.run();
    let m = rsp(&c.take());
    assert_eq!(
        (m.hdr("x-fe"), m.hdr("x-be"), m.hdr("x-after")),
        (Some("1"), Some("1"), Some("1"))
    );
    assert_eq!(k.logs(), ["200 -- be/s1"]);
    // a denied response becomes 502 PH, still through after-response
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.srv(0).send(&status(418));
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 502);
    assert_eq!(m.hdr("x-after"), Some("1"));
    assert_eq!(k.logs(), ["502 PH be/s1"]);
    assert!(
        k.srv(0).closed(),
        "the server connection of a replaced response is closed"
    );
}

#[test]
fn use_backend_then_default_backend_then_the_frontend() {
    let mut k = Kit::new(&http(
        "    use_backend other if { path_beg /o }\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/o/x"));
    k.run();
    assert_eq!(k.srv_addr(0), "10.0.1.1:80".parse().unwrap());
    k.srv(0).send(&ok(""));
    k.run();
    c.take();
    c.send(&get("/x"));
    k.run();
    assert_eq!(k.srv_addr(1), "10.0.0.1:80".parse().unwrap());
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(k.logs(), ["200 -- other/o1", "200 -- be/s1"]);
    // a frontend without backend has no server: 503
    let mut k = Kit::new(&http("", "    server s1 10.0.0.1:80"));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC fe/<NOSRV>"]);
}

#[test]
fn dynamic_use_backend_name() {
    let mut k = Kit::new(&http(
        "    use_backend %[req.hdr(x-be)] if { req.hdr(x-be) -m found }\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nx-be: other\r\n\r\n");
    k.run();
    assert_eq!(k.srv_addr(0), "10.0.1.1:80".parse().unwrap());
}

#[test]
fn round_robin_alternates_servers() {
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    server s1 10.0.0.1:80\n    server s2 10.0.0.2:80",
    ));
    for i in 0..4 {
        let c = k.client();
        c.send(&get("/"));
        k.run();
        k.srv(i).send(&ok(""));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 200);
    }
    let a: Vec<String> = (0..4).map(|i| k.srv_addr(i).ip().to_string()).collect();
    assert_eq!(a, ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"]);
}

#[test]
fn no_usable_server_is_503_sc() {
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    server s1 10.0.0.1:80 disabled",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.attempts().len(), 0);
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC be/<NOSRV>"]);
}

#[test]
fn dispatch_address_without_servers() {
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    dispatch 10.9.9.9:8000",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.srv_addr(0), "10.9.9.9:8000".parse().unwrap());
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
}

#[test]
fn a_full_server_queues_and_serves_in_order() {
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    timeout queue 5s\n    server s1 10.0.0.1:80 maxconn 1",
    ));
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "the second request waits for the slot");
    let srv = k.srv_id("be", "s1");
    let be = k.px("be");
    // every server is full: the stream waits in the backend's queue
    assert_eq!(k.w.sh.proxies[be].nbpend.load(Relaxed), 1);
    assert_eq!(k.w.sh.servers[srv].served.load(Relaxed), 1);
    k.srv(0).take();
    k.srv(0).send(&ok("1"));
    k.run();
    assert_eq!(rsp(&c1.take()).body, b"1");
    // the slot goes to the queued stream
    assert_eq!(k.w.sh.proxies[be].nbpend.load(Relaxed), 0);
    let n = k.nb_srv();
    let s = k.srv(n - 1);
    assert_eq!(req(&s.output()).path(), "/2");
    s.send(&ok("2"));
    k.run();
    assert_eq!(rsp(&c2.take()).body, b"2");
    assert_eq!(k.w.sh.servers[srv].served.load(Relaxed), 0);
}

#[test]
fn queue_timeout_is_503_sq() {
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    timeout queue 40ms\n    server s1 10.0.0.1:80 maxconn 1",
    ));
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    let c2 = k.client();
    c2.send(&get("/2"));
    assert!(k.run_until(1000, |_| !c2.output().is_empty()));
    assert_eq!(rsp(&c2.take()).status(), 503);
    // queued in the backend (every server full): no server was assigned
    assert_eq!(k.logs(), ["503 sQ be/<NOSRV>"]);
    let srv = k.srv_id("be", "s1");
    assert_eq!(k.w.sh.proxies[k.px("be")].nbpend.load(Relaxed), 0);
    assert_eq!(
        k.w.sh.servers[srv].served.load(Relaxed),
        1,
        "the first stream still holds its slot"
    );
}

#[test]
fn buffer_request_answers_100_continue_and_waits_for_the_body() {
    let mut k = Kit::new(&http(
        "    option http-buffer-request\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n");
    k.run();
    assert_eq!(c.take(), b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(k.nb_srv(), 0, "no connection before the body");
    c.send(b"body");
    k.run();
    let m = req(&k.srv(0).take());
    assert_eq!(m.body, b"body");
    assert!(
        m.all("expect").is_empty(),
        "the expectation is not forwarded"
    );
}

#[test]
fn without_buffering_the_expectation_goes_to_the_server() {
    let mut k = Kit::new(&http("    default_backend be", "    server s1 10.0.0.1:80"));
    let c = k.client();
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n");
    k.run();
    let m = req(&k.srv(0).take());
    assert_eq!(m.hdr("expect"), Some("100-continue"));
    // the server's interim response reaches the client, then the final one
    k.srv(0).send(b"HTTP/1.1 100 Continue\r\n\r\n");
    k.run();
    c.send(b"body");
    k.run();
    assert_eq!(k.srv(0).take(), b"body");
    k.srv(0).send(&ok("done"));
    k.run();
    let all = parse_all(&c.take(), true);
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].status(), all[1].status()), (100, 200));
}

#[test]
fn httpclose_closes_both_sides_after_the_response() {
    let mut k = Kit::new(&http(
        "    option httpclose\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let m = req(&k.srv(0).take());
    assert_eq!(m.hdr("connection"), Some("close"));
    k.srv(0).send(&ok("x"));
    k.run();
    let r = rsp(&c.take());
    assert_eq!(r.hdr("connection"), Some("close"));
    assert!(c.closed() && k.srv(0).closed());
}

#[test]
fn server_close_keeps_the_client_connection() {
    let mut k = Kit::new(&http(
        "    option http-server-close\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert!(!c.closed());
    assert!(k.srv(0).closed());
    c.send(&get("/"));
    k.run();
    assert_eq!(k.nb_srv(), 2, "a new server connection per request");
}

fn tcp_cfg(fe: &str) -> String {
    format!(
        "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ts %b/%s %B %U\"
{fe}
backend be
    retries 0
    server s1 10.0.0.1:80
backend other
    server o1 10.0.1.1:80
"
    )
}

#[test]
fn tcp_frontend_switches_to_its_default_backend() {
    let mut k = Kit::new(&tcp_cfg("    default_backend be"));
    let c = k.client();
    c.send(b"ping");
    k.run();
    assert_eq!(k.srv_addr(0), "10.0.0.1:80".parse().unwrap());
    assert_eq!(k.srv(0).take(), b"ping");
    k.srv(0).send(b"pong");
    k.run();
    assert_eq!(c.take(), b"pong");
    // half-closes propagate: the client's end goes to the server, then the server's back
    c.shutw();
    k.run();
    assert!(k.srv(0).shut_by_proxy());
    k.srv(0).shutw();
    k.run();
    assert!(c.shut_by_proxy() || c.closed());
    assert_eq!(k.logs(), ["-- be/s1 4 4"]);
}

#[test]
fn tcp_use_backend() {
    let mut k = Kit::new(&tcp_cfg(
        "    use_backend other if { src 192.0.2.0/24 }\n    default_backend be",
    ));
    let c = k.client();
    c.send(b"x");
    k.run();
    assert_eq!(k.srv_addr(0), "10.0.1.1:80".parse().unwrap());
    drop(c);
}

#[test]
fn tcp_connect_failure_closes_without_a_reply() {
    let mut k = Kit::new(&tcp_cfg("    default_backend be"));
    k.plan(&[Plan::Refuse]);
    let c = k.client();
    c.send(b"ping");
    k.run();
    assert!(c.closed(), "the client connection is closed");
    assert!(
        c.output().is_empty(),
        "no HTTP error page on a TCP connection"
    );
    assert_eq!(k.logs(), ["SC be/s1 0 4"]);
}

#[test]
fn a_backend_httpclose_closes_the_client_side_too() {
    // the connection mode is the strongest of both proxies (`http_adjust_conn_mode`)
    let mut k = Kit::new(&http(
        "    default_backend be",
        "    option httpclose\n    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(req(&k.srv(0).take()).hdr("connection"), Some("close"));
    k.srv(0).send(&ok("x"));
    k.run();
    let r = rsp(&c.take());
    assert_eq!(r.hdr("connection"), Some("close"));
    assert!(c.closed() && k.srv(0).closed());
}

#[test]
fn server_close_closes_the_server_side_even_when_the_client_asks_keep_alive() {
    for (fe, be) in [
        ("    option http-server-close\n", ""),
        ("", "    option http-server-close\n"),
    ] {
        let mut k = Kit::new(&http(
            &format!("{fe}    default_backend be"),
            &format!("{be}    server s1 10.0.0.1:80"),
        ));
        let c = k.client();
        for i in 0..2 {
            c.send(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: keep-alive\r\n\r\n");
            k.run();
            assert_eq!(k.nb_srv(), i + 1, "{fe}{be}: a new server connection");
            k.srv(i).take();
            k.srv(i).send(&ok("x"));
            k.run();
            assert_eq!(rsp(&c.take()).status(), 200);
            assert!(k.srv(i).closed(), "{fe}{be}");
            assert!(!c.closed(), "{fe}{be}");
        }
    }
}

#[test]
fn a_request_with_length_and_chunked_framing_does_not_reuse_its_server_connection() {
    let mut k = Kit::new(&http("    default_backend be", "    server s1 10.0.0.1:80"));
    let c = k.client();
    c.send(
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert!(k.srv(0).closed(), "the server connection is not kept");
}

#[test]
fn connection_close_from_the_client_or_a_soft_stop_closes_after_the_response() {
    let mut k = Kit::new(&http("    default_backend be", "    server s1 10.0.0.1:80"));
    let c = k.client();
    c.send(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).hdr("connection"), Some("close"));
    assert!(c.closed());
    k.ev.soft_stop();
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let s = k.srv(k.nb_srv() - 1);
    s.take();
    s.send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).hdr("connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn an_early_reply_closes_the_connection() {
    // a reply to a request whose body is still arriving closes the connection after it
    let mut k = Kit::new(&http(
        "    http-request deny\n    default_backend be",
        "    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 403);
    assert_eq!(m.hdr("connection"), Some("close"));
    assert!(c.closed());
    assert_eq!(k.logs(), ["403 PR fe/<NOSRV>"]);
}

#[test]
fn the_h2_preface_on_a_proto_h1_listener_is_a_400_pr() {
    let text = http("    default_backend be", "    server s1 10.0.0.1:80")
        .replace("bind 127.0.0.1:8080", "bind 127.0.0.1:8080 proto h1");
    let mut k = Kit::new(&text);
    let c = k.client();
    c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 400);
    assert!(c.closed());
    assert_eq!(k.logs(), ["400 PR fe/<NOSRV>"]);
}

#[test]
fn a_tcp_half_close_lets_the_other_direction_go_on() {
    let mut k = Kit::new(&tcp_cfg("    default_backend be"));
    let c = k.client();
    c.send(b"ping");
    k.run();
    assert_eq!(k.srv(0).take(), b"ping");
    c.shutw();
    k.run();
    assert!(k.srv(0).shut_by_proxy());
    // the server still answers after the client's end
    k.srv(0).send(b"late");
    k.run();
    assert_eq!(c.take(), b"late");
    assert_eq!(k.nb_streams(), 1);
    k.srv(0).shutw();
    k.run();
    assert_eq!(k.nb_streams(), 0);
    assert_eq!(k.logs(), ["-- be/s1 4 4"]);
}

#[test]
fn an_idle_tcp_stream_times_out() {
    let text = tcp_cfg("    default_backend be")
        .replace("timeout client 5s", "timeout client 30ms")
        .replace("timeout server 5s", "timeout server 30ms");
    let mut k = Kit::new(&text);
    let c = k.client();
    c.send(b"ping");
    k.run();
    assert!(k.run_until(1000, |k| k.nb_streams() == 0));
    assert_eq!(k.logs(), ["cD be/s1 0 4"]);
    assert!(c.closed());
}

#[test]
fn httpclose_closes_the_client_side_whatever_the_server_says() {
    for (fe, be) in [
        ("    option httpclose\n", ""),
        ("", "    option httpclose\n"),
    ] {
        let mut k = Kit::new(&http(
            &format!("{fe}    default_backend be"),
            &format!("{be}    server s1 10.0.0.1:80"),
        ));
        let c = k.client();
        c.send(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: keep-alive\r\n\r\n");
        k.run();
        k.srv(0).take();
        k.srv(0)
            .send(b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\nx");
        k.run();
        let r = rsp(&c.take());
        assert_eq!(r.hdr("connection"), Some("close"), "{fe}{be}");
        assert!(c.closed() && k.srv(0).closed(), "{fe}{be}");
    }
}
