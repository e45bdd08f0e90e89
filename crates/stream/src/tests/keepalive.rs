//! What a later request of a keep-alive connection, or a request on a reused server
//! connection, gets when the server side fails (`http_wait_for_response`'s
//! `abort_keep_alive`, `http_return_srv_error` without a message), as upstream 2.6.12 does:
//! the client connection closes without a response so that the client retries; a server
//! that closed a kept connection is not a failed response and leaves no log line, a connect
//! that failed is logged with its 503; an invalid response is always a 502.

use super::http::{get, ok, rsp};
use super::kit::{Kit, Plan};
use hrs_core::script::ScriptPeer;

fn cfg(be: &str) -> String {
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
    log-format \"%ST %ts %rc %{{+Q}}r\"
    default_backend be
backend be
{be}
    server s1 10.0.0.1:80
"
    )
}

/// A client whose first request `/1` was answered 200 on server connection `n - 1`.
fn first_exchange(k: &mut Kit) -> ScriptPeer {
    let c = k.client();
    c.send(&get("/1"));
    k.run();
    let s = k.srv(k.nb_srv() - 1);
    s.take();
    s.send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.logs(), ["200 -- 0 \"GET /1 HTTP/1.1\""]);
    c
}

#[test]
fn a_kept_server_connection_closed_before_the_response_aborts_a_later_request() {
    let mut k = Kit::new(&cfg(""));
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    let c = first_exchange(&mut k);
    c.send(&get("/2"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "the kept server connection serves /2");
    k.srv(0).shutw();
    k.run();
    assert!(c.output().is_empty(), "no response");
    assert!(c.closed(), "the client closes and retries");
    assert!(k.logs().is_empty(), "and no log line");
    assert_eq!(k.nb_streams(), 0);
    // not a failed response (upstream's eresp stays 0)
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, 0);
    assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_resp, 0);
}

#[test]
fn a_first_request_gets_502_and_counts_a_failed_response() {
    let mut k = Kit::new(&cfg(""));
    let be = k.px("be");
    let c = k.client();
    c.send(&get("/1"));
    k.run();
    k.srv(0).shutw();
    k.run();
    assert_eq!(rsp(&c.take()).status(), 502);
    assert_eq!(k.logs(), ["502 SH 0 \"GET /1 HTTP/1.1\""]);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, 1);
}

#[test]
fn an_invalid_response_is_a_502_ph_even_on_a_later_request() {
    // observed on haproxy 2.6.12: `502 PH`, eresp 1
    let mut k = Kit::new(&cfg(""));
    let be = k.px("be");
    let c = first_exchange(&mut k);
    c.send(&get("/2"));
    k.run();
    k.srv(0).send(b"garbage\r\n\r\n");
    k.run();
    assert_eq!(rsp(&c.take()).status(), 502);
    assert_eq!(k.logs(), ["502 PH 0 \"GET /2 HTTP/1.1\""]);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, 1);
}

#[test]
fn a_retried_invalid_response_is_still_a_failed_response() {
    // observed on haproxy 2.6.12 with `retry-on junk-response`: eresp 1 and the retry's 200
    let mut k = Kit::new(&cfg("    retries 1\n    retry-on junk-response"));
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    let c = k.client();
    c.send(&get("/1"));
    k.run();
    k.srv(0).send(b"garbage\r\n\r\n");
    k.run();
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.logs(), ["200 -- 1 \"GET /1 HTTP/1.1\""]);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, 1);
    assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_resp, 1);
}

#[test]
fn a_response_timeout_is_a_failed_response() {
    let mut k = Kit::new(&cfg("    timeout server 30ms"));
    let (be, s1) = (k.px("be"), k.srv_id("be", "s1"));
    let c = k.client();
    c.send(&get("/1"));
    assert!(k.run_until(1000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 504);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_resp, 1);
    assert_eq!(k.w.sh.servers[s1].counters.snapshot().failed_resp, 1);
}

#[test]
fn a_connect_timeout_on_a_later_request_closes_silently_but_is_logged() {
    // observed on haproxy 2.6.12: nothing is sent to the client, the log says `503 sC`
    let mut k = Kit::new(&cfg(
        "    option http-server-close\n    retries 0\n    timeout connect 30ms",
    ));
    let be = k.px("be");
    let c = first_exchange(&mut k);
    k.plan(&[Plan::Pending]);
    c.send(&get("/2"));
    assert!(k.run_until(1000, |_| c.closed()));
    assert!(c.output().is_empty(), "no response");
    assert_eq!(k.logs(), ["503 sC 0 \"GET /2 HTTP/1.1\""]);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().failed_conns, 1);
    // a first request gets the 503 page
    let c = k.client();
    k.plan(&[Plan::Pending]);
    c.send(&get("/3"));
    assert!(k.run_until(1000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 sC 0 \"GET /3 HTTP/1.1\""]);
}

/// A second client whose request `/2` reused the first client's idle server connection,
/// which the server then closes: an empty response, retried by `retry-on`; the next connects
/// follow `plan`.
fn reused_then_closed(k: &mut Kit, plan: &[Plan]) -> ScriptPeer {
    let _c1 = first_exchange(k);
    k.plan(plan);
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "the idle connection was reused");
    k.srv(0).shutw();
    k.run();
    c2
}

#[test]
fn a_failed_retry_after_a_reused_connection_closes_silently_and_is_logged() {
    let mut k = Kit::new(&cfg(
        "    http-reuse always\n    retries 1\n    retry-on empty-response conn-failure",
    ));
    let c2 = reused_then_closed(&mut k, &[Plan::Refuse]);
    assert_eq!(k.attempts().len(), 2, "the L7 retry tried a new connection");
    assert!(c2.closed());
    assert!(c2.output().is_empty(), "no response: the client retries");
    assert_eq!(k.logs(), ["503 SC 1 \"GET /2 HTTP/1.1\""]);
}

#[test]
fn after_a_reused_connection_retries_skip_the_turn_around() {
    // with retries left, a refused connect after a reused connection is retried at once
    let mut k = Kit::new(&cfg(
        "    http-reuse always\n    retries 2\n    retry-on empty-response conn-failure",
    ));
    let c2 = reused_then_closed(&mut k, &[Plan::Refuse]);
    assert_eq!(
        k.attempts().len(),
        3,
        "refused, then retried without waiting"
    );
    k.srv(2).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
}
