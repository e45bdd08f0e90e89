//! The client connection between requests (`io.rs`): `timeout http-request` on a head that
//! does not come or does not complete (408), `timeout http-keep-alive` between requests
//! (silent close), the fallbacks between those timeouts, and the logs upstream emits for
//! errors that happen before a stream exists (`sess_log` in upstream's H1 mux).

use super::http::{get, ok, rsp};
use super::kit::Kit;

fn cfg(timeouts: &str, extra: &str) -> String {
    format!(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
    {timeouts}
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %{{+Q}}r\"
    {extra}
    default_backend be
backend be
    server s1 10.0.0.1:80
"
    )
}

#[test]
fn an_incomplete_head_gets_408_then_the_connection_closes() {
    let mut k = Kit::new(&cfg("timeout http-request 40ms", ""));
    let c = k.client();
    c.send(b"GET / HT");
    assert!(k.run_until(1000, |_| c.closed()));
    let m = rsp(&c.take());
    assert_eq!(m.status(), 408);
    assert_eq!(k.nb_srv(), 0);
    assert_eq!(k.w.sh.proxies[k.px("fe")].counters.snapshot().failed_req, 1);
}

#[test]
fn a_silent_new_connection_gets_408() {
    let mut k = Kit::new(&cfg("timeout http-request 40ms", ""));
    let c = k.client();
    assert!(k.run_until(1000, |_| c.closed()));
    assert_eq!(rsp(&c.take()).status(), 408);
}

#[test]
fn without_http_request_timeout_the_client_timeout_applies() {
    let mut k = Kit::new(&cfg("timeout client 40ms", "").replace("    timeout client 5s\n", ""));
    let c = k.client();
    c.send(b"GET / HT");
    assert!(k.run_until(1000, |_| c.closed()));
    assert_eq!(rsp(&c.take()).status(), 408);
}

#[test]
fn keep_alive_timeout_closes_silently_between_requests() {
    let mut k = Kit::new(&cfg(
        "timeout http-request 2s\n    timeout http-keep-alive 40ms",
        "",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert!(k.run_until(1000, |_| c.closed()));
    assert!(c.output().is_empty(), "no 408 between requests");
    assert_eq!(k.logs().len(), 1, "only the request's line");
}

#[test]
fn keep_alive_wait_falls_back_to_http_request_timeout() {
    let mut k = Kit::new(&cfg("timeout http-request 40ms", ""));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).send(&ok(""));
    k.run();
    c.take();
    assert!(k.run_until(1000, |_| c.closed()));
    assert!(c.output().is_empty());
}

#[test]
fn a_second_request_started_but_unfinished_gets_408() {
    let mut k = Kit::new(&cfg(
        "timeout http-request 40ms\n    timeout http-keep-alive 5s",
        "",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).send(&ok(""));
    k.run();
    c.take();
    c.send(b"GET /2 HTT");
    assert!(k.run_until(1000, |_| c.closed()));
    assert_eq!(
        rsp(&c.take()).status(),
        408,
        "a started head is timed by http-request"
    );
}

// Upstream logs the errors its H1 mux answers before a stream exists (`sess_log` in
// `h1_handle_parsing_error`/`h1_handle_req_tout`, and a connection closed before its first
// request); haproxy-rs emits no line for them. Observed on haproxy 2.6.12 with this format:
// `400 PR "<BADREQ>"` for garbage, `408 cR "<BADREQ>"` for `timeout http-request`,
// `400 CR "<BADREQ>"` for a connection closed without a request; with `option dontlognull`
// the last two are not logged when nothing was received.

#[test]
#[ignore = "haproxy-rs bug: no log line for errors answered before a stream exists (upstream's sess_log)"]
fn a_bad_request_is_logged_400_pr() {
    let mut k = Kit::new(&cfg("", ""));
    let c = k.client();
    c.send(b"GARBAGE\r\n\r\n");
    k.run();
    assert_eq!(rsp(&c.take()).status(), 400);
    assert_eq!(k.logs(), ["400 PR \"<BADREQ>\""]);
}

#[test]
#[ignore = "haproxy-rs bug: no log line for errors answered before a stream exists (upstream's sess_log)"]
fn a_request_timeout_is_logged_408_cr() {
    let mut k = Kit::new(&cfg("timeout http-request 40ms", ""));
    let c = k.client();
    c.send(b"GET / HT");
    assert!(k.run_until(1000, |_| c.closed()));
    assert_eq!(k.logs(), ["408 cR \"<BADREQ>\""]);
    // dontlognull: a connection that sent nothing is not logged
    let mut k = Kit::new(&cfg("timeout http-request 40ms", "option dontlognull"));
    let c = k.client();
    assert!(k.run_until(1000, |_| c.closed()));
    assert!(k.logs().is_empty());
}

#[test]
#[ignore = "haproxy-rs bug: no log line for errors answered before a stream exists (upstream's sess_log)"]
fn a_connection_closed_before_its_first_request_is_logged_400_cr() {
    let mut k = Kit::new(&cfg("", ""));
    let c = k.client();
    c.shutw();
    k.run();
    assert_eq!(k.logs(), ["400 CR \"<BADREQ>\""]);
    let mut k = Kit::new(&cfg("", "option dontlognull"));
    let c = k.client();
    c.shutw();
    k.run();
    assert!(k.logs().is_empty());
}

#[test]
fn the_first_request_is_timed_from_the_accept() {
    // `timeout http-request` of a first request runs from the accept: the first bytes of
    // the head do not restart it (a later request's head restarts it, see above)
    let mut k = Kit::new(&cfg("timeout http-request 5s", ""));
    let c = k.client();
    k.run();
    let front =
        k.w.conns
            .iter()
            .map(|(h, _)| h)
            .next()
            .expect("the connection");
    let deadline = k.w.conns[front].expire;
    assert_ne!(deadline, hrs_ev::TICK_ETERNITY);
    k.run_for(5);
    c.send(b"GET / HT");
    k.run();
    assert_eq!(k.w.conns[front].expire, deadline, "the same deadline");
}
