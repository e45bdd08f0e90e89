//! Termination states (`%ts`) and statuses of streams that end early, for client and server
//! aborts and timeouts in each phase. Expected values were observed on haproxy 2.6.12 with
//! the same exchanges over sockets (`-1`: no status, nothing was answered).

use super::http::{get, ok, rsp};
use super::kit::{Kit, Plan};

fn cfg(fe: &str, be: &str, tmo: &str) -> String {
    format!(
        "
defaults
    mode http
    {tmo}
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %rc\"
{fe}
    default_backend be
backend be
{be}
    server s1 10.0.0.1:80
"
    )
}

const TMO: &str = "timeout client 5s\n    timeout server 5s\n    timeout connect 5s";

const POST10: &[u8] = b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc";

#[test]
fn client_closes_while_the_body_is_buffered_cr() {
    let mut k = Kit::new(&cfg("    option http-buffer-request", "", TMO));
    let c = k.client();
    c.send(POST10);
    k.run();
    c.shutw();
    k.run();
    assert_eq!(k.nb_srv(), 0);
    assert!(c.output().is_empty());
    assert!(c.closed());
    assert_eq!(k.logs(), ["-1 CR 0"]);
}

#[test]
fn body_timeout_while_buffering_is_408_cr_lowercase() {
    let mut k = Kit::new(&cfg(
        "    option http-buffer-request\n    timeout http-request 40ms",
        "",
        TMO,
    ));
    let c = k.client();
    c.send(POST10);
    assert!(k.run_until(1000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 408);
    assert_eq!(k.logs(), ["408 cR 0"]);
}

#[test]
fn client_closes_mid_body_while_the_server_waits_cd() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(POST10);
    k.run();
    assert_eq!(k.srv(0).take().len(), POST10.len() - 3 + 3);
    c.shutw();
    k.run();
    assert_eq!(k.logs(), ["-1 CD 0"]);
    assert!(c.closed());
    assert!(k.srv(0).closed());
}

#[test]
fn client_closes_mid_body_while_connecting_cc() {
    let mut k = Kit::new(&cfg("", "", TMO));
    k.plan(&[Plan::Pending]);
    let c = k.client();
    c.send(POST10);
    k.run();
    c.shutw();
    k.run();
    // (not compared with upstream: no pending connect could be produced there)
    let l = k.logs();
    assert_eq!(l.len(), 1);
    assert!(l[0].starts_with("-1 C"), "{l:?}");
}

#[test]
fn client_half_close_after_a_full_request_is_not_an_abort() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    c.shutw();
    k.run();
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.logs(), ["200 -- 0"]);
}

#[test]
fn client_reset_while_waiting_for_the_response_cd() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    c.reset();
    k.run();
    k.srv(0).send(&ok("abc"));
    k.run();
    assert_eq!(k.logs(), ["200 CD 0"]);
}

#[test]
fn server_timeout_before_the_head_is_504_sh() {
    let mut k = Kit::new(&cfg(
        "",
        "",
        "timeout client 5s\n    timeout server 40ms\n    timeout connect 5s",
    ));
    let c = k.client();
    c.send(&get("/"));
    assert!(k.run_until(1000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 504);
    assert_eq!(k.logs(), ["504 sH 0"]);
    assert!(k.srv(0).closed());
}

#[test]
fn server_close_before_the_head_is_502_sh() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).shutw();
    k.run();
    assert_eq!(rsp(&c.take()).status(), 502);
    assert_eq!(k.logs(), ["502 SH 0"]);
}

#[test]
fn server_close_mid_body_sd() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0)
        .send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    k.srv(0).shutw();
    k.run();
    let out = c.take();
    assert!(out.ends_with(b"\r\n\r\nabc"), "what arrived is forwarded");
    assert!(c.closed(), "then the client connection closes");
    assert_eq!(k.logs(), ["200 SD 0"]);
}

#[test]
fn server_stalls_mid_body_sd_lowercase() {
    let mut k = Kit::new(&cfg(
        "",
        "",
        "timeout client 5s\n    timeout server 40ms\n    timeout connect 5s",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0)
        .send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    assert!(k.run_until(1000, |k| !k.logs_peek().is_empty()));
    assert_eq!(k.logs(), ["200 sD 0"]);
    assert!(c.closed());
}

#[test]
fn client_reset_mid_response_body_cd() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0)
        .send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    c.reset();
    k.srv(0).send(b"def");
    k.run();
    assert_eq!(k.logs(), ["200 CD 0"]);
    assert!(k.srv(0).closed());
}

#[test]
fn client_not_reading_times_out_cd_lowercase() {
    let mut k = Kit::new(&cfg(
        "",
        "",
        "timeout client 40ms\n    timeout server 5s\n    timeout connect 5s",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    // the client reads nothing: the mux's buffer then the response channel fill up
    c.set_write_room(Some(0));
    let body = "x".repeat(200_000);
    k.srv(0).send(&ok(&body));
    assert!(k.run_until(1000, |k| !k.logs_peek().is_empty()));
    assert_eq!(k.logs(), ["200 cD 0"]);
}

#[test]
fn connect_refused_sc_and_timeout_sc_lowercase() {
    let mut k = Kit::new(&cfg("", "    retries 0", TMO));
    k.plan(&[Plan::Refuse]);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC 0"]);
    let mut k = Kit::new(&cfg(
        "",
        "    retries 0",
        "timeout client 5s\n    timeout server 5s\n    timeout connect 30ms",
    ));
    k.plan(&[Plan::Pending]);
    let c = k.client();
    c.send(&get("/"));
    assert!(k.run_until(1000, |_| !c.output().is_empty()));
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 sC 0"]);
}

#[test]
fn a_complete_exchange_is_dashes() {
    let mut k = Kit::new(&cfg("", "", TMO));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).send(&ok("abc"));
    k.run();
    assert_eq!(rsp(&c.take()).body, b"abc");
    assert_eq!(k.logs(), ["200 -- 0"]);
}
