//! Connection retries (`retries`, connect failures and timeouts, `option redispatch`) and
//! layer-7 retries for every `retry-on` class, checked against upstream 2.6's
//! `back_handle_st_cer`/`stream_choose_redispatch` and `http_wait_for_response`/
//! `do_l7_retry`: how many connections are opened, where to, what the client gets, and the
//! log's `%rc` and `%ts`.

use super::http::{get, ok, req, rsp, status};
use super::kit::{Kit, Plan};
use std::sync::atomic::Ordering::Relaxed;

/// One frontend logging `status ts retries server`, one backend with `be` lines and the
/// servers `srvs` (`name addr` pairs).
fn cfg(be: &str, srvs: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %rc %s\"
    default_backend be
backend be
",
    );
    for l in be.lines() {
        s.push_str("    ");
        s.push_str(l.trim());
        s.push('\n');
    }
    for (n, a) in srvs {
        s.push_str(&format!("    server {n} {a}\n"));
    }
    s
}

const S1: (&str, &str) = ("s1", "10.0.0.1:80");
const S2: (&str, &str) = ("s2", "10.0.0.2:80");

/// Sends `GET /` on a new client; returns the client end.
fn go(k: &mut Kit) -> hrs_core::script::ScriptPeer {
    let c = k.client();
    c.send(&get("/"));
    k.run();
    c
}

// ---------------------------------------------------------------- connection failures

#[test]
fn refused_connects_are_retried_up_to_retries_then_503_sc() {
    // `timeout connect` bounds the turn-around delay between attempts (min(connect, 1 s))
    let mut k = Kit::new(&cfg("retries 2\ntimeout connect 20ms", &[S1]));
    k.plan(&[Plan::Refuse, Plan::Refuse, Plan::Refuse, Plan::Refuse]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |_| !c.output().is_empty()));
    assert_eq!(k.attempts().len(), 3, "one attempt and two retries");
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC 2 s1"]);
    for i in 0..3 {
        assert!(k.srv(i).closed(), "failed connection {i} is closed");
    }
}

#[test]
fn a_retry_after_refusals_succeeds() {
    let mut k = Kit::new(&cfg("retries 3\ntimeout connect 20ms", &[S1]));
    k.plan(&[Plan::Refuse, Plan::Fail]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |k| k.nb_srv() == 2 && !k.srv(1).output().is_empty()));
    assert_eq!(
        k.attempts().len(),
        3,
        "refused, failed at once, then accepted"
    );
    assert_eq!(
        k.nb_srv(),
        2,
        "the failed-at-once attempt has no connection"
    );
    let s = k.srv(1);
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.logs(), ["200 -- 2 s1"]);
}

#[test]
fn retry_on_none_never_retries_a_connection() {
    // upstream: `retry-on none` clears PR_RE_CONN_FAILED, so `back_handle_st_cer` gives up
    // at the first failure whatever `retries` says
    let mut k = Kit::new(&cfg(
        "retries 3\nretry-on none\ntimeout connect 20ms",
        &[S1],
    ));
    k.plan(&[Plan::Refuse, Plan::Refuse]);
    let c = go(&mut k);
    k.run_for(100);
    assert_eq!(k.attempts().len(), 1, "no retry");
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC 0 s1"]);
}

#[test]
fn retry_on_none_never_retries_a_response() {
    let mut k = Kit::new(&cfg("retries 3\nretry-on none", &[S1]));
    let c = go(&mut k);
    k.srv(0).send(&status(503));
    k.run();
    assert_eq!(k.nb_srv(), 1);
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 -- 0 s1"]);
}

#[test]
fn retry_on_status_alone_does_not_retry_connection_failures() {
    // upstream: `retry-on 503` replaces the default `conn-failure`
    let mut k = Kit::new(&cfg("retries 3\nretry-on 503\ntimeout connect 20ms", &[S1]));
    k.plan(&[Plan::Refuse, Plan::Refuse]);
    let c = go(&mut k);
    k.run_for(100);
    assert_eq!(k.attempts().len(), 1, "no retry");
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC 0 s1"]);
}

#[test]
fn connect_timeouts_are_retried_then_503_sc_lowercase() {
    let mut k = Kit::new(&cfg("retries 1\ntimeout connect 30ms", &[S1]));
    k.plan(&[Plan::Pending, Plan::Pending]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |_| !c.output().is_empty()));
    assert_eq!(k.attempts().len(), 2);
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 sC 1 s1"]);
}

#[test]
fn a_pending_connect_completes_when_the_server_accepts() {
    let mut k = Kit::new(&cfg("timeout connect 5s", &[S1]));
    k.plan(&[Plan::Pending]);
    let c = go(&mut k);
    let s = k.srv(0);
    assert!(
        s.output().is_empty(),
        "nothing is sent before the connect completes"
    );
    s.accept();
    k.run();
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
}

#[test]
fn without_redispatch_retries_stay_on_the_server() {
    let mut k = Kit::new(&cfg("retries 2\ntimeout connect 20ms", &[S1, S2]));
    k.plan(&[Plan::Refuse, Plan::Refuse]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |k| k.nb_srv() == 3));
    let a = k.attempts();
    assert_eq!(a, [a[0]; 3], "every attempt to the same server");
    k.srv(2).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(
        k.logs()[0],
        format!(
            "200 -- 2 {}",
            if a[0].ip().to_string() == "10.0.0.1" {
                "s1"
            } else {
                "s2"
            }
        )
    );
}

#[test]
fn redispatch_moves_the_retry_to_another_server() {
    let mut k = Kit::new(&cfg(
        "retries 2\noption redispatch\ntimeout connect 20ms",
        &[S1, S2],
    ));
    k.plan(&[Plan::Refuse]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |k| k.nb_srv() == 2));
    let a = k.attempts();
    assert_ne!(a[0], a[1], "the retry went to the other server");
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    let other = if a[1].ip().to_string() == "10.0.0.1" {
        "s1"
    } else {
        "s2"
    };
    // `%rc` of a redispatched stream is prefixed with '+'
    assert_eq!(k.logs(), [format!("200 -- +1 {other}")]);
    let (p1, p2) = (k.srv_id("be", "s1"), k.srv_id("be", "s2"));
    let redisp = k.w.sh.servers[p1].counters.snapshot().redispatches
        + k.w.sh.servers[p2].counters.snapshot().redispatches;
    assert_eq!(redisp, 1);
    assert_eq!(
        k.w.sh.proxies[k.px("be")].counters.snapshot().redispatches,
        1
    );
}

// ---------------------------------------------------------------- layer-7 retries

/// The first response (or event) on server connection 0 and what the client gets after,
/// with `retry-on <on>`; a second connection, if opened, answers 200 "again".
fn l7(on: &str, first: impl FnOnce(&mut Kit)) -> (Kit, u16) {
    let mut k = Kit::new(&cfg(
        &format!("retries 2\nretry-on {on}\ntimeout server 40ms"),
        &[S1],
    ));
    let c = go(&mut k);
    assert_eq!(req(&k.srv(0).take()).path(), "/");
    first(&mut k);
    k.run();
    if k.nb_srv() > 1 {
        let s = k.srv(1);
        assert_eq!(req(&s.take()).path(), "/", "the request is sent again");
        s.send(&ok("again"));
        k.run();
    }
    k.run_until(1000, |_| !c.output().is_empty());
    let st = rsp(&c.take()).status();
    (k, st)
}

#[test]
fn retry_on_status_retries_that_status_only() {
    let (k, st) = l7("503", |k| k.srv(0).send(&status(503)));
    assert_eq!((k.nb_srv(), st), (2, 200), "503 is retried");
    assert!(k.srv(0).closed(), "the first server connection is closed");
    assert_eq!(k.logs(), ["200 -- 1 s1"]);
    // upstream counts an L7 retry twice: in `do_l7_retry`, and again in
    // `stream_choose_redispatch` when the retry stays on the same server
    let be = k.px("be");
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().retries, 2);
    assert_eq!(
        k.w.sh.servers[k.srv_id("be", "s1")]
            .counters
            .snapshot()
            .retries,
        2
    );

    let (k, st) = l7("503", |k| k.srv(0).send(&status(500)));
    assert_eq!((k.nb_srv(), st), (1, 500), "500 is not listed");
    assert_eq!(k.logs(), ["500 -- 0 s1"]);
}

#[test]
fn retry_on_each_listed_status() {
    for code in [401u16, 403, 404, 408, 425, 500, 501, 502, 503, 504] {
        let (k, st) = l7(&code.to_string(), |k| k.srv(0).send(&status(code)));
        assert_eq!((k.nb_srv(), st), (2, 200), "{code} is retried");
        let (k, st) = l7("404 503", |k| k.srv(0).send(&status(code)));
        let listed = code == 404 || code == 503;
        assert_eq!(k.nb_srv() == 2, listed, "{code} with retry-on 404 503");
        assert_eq!(st, if listed { 200 } else { code });
    }
}

#[test]
fn retried_statuses_until_retries_run_out_give_the_last_response() {
    let mut k = Kit::new(&cfg("retries 2\nretry-on 503", &[S1]));
    let c = go(&mut k);
    for i in 0..3 {
        let s = k.srv(i);
        assert_eq!(req(&s.take()).path(), "/");
        s.send(&status(503));
        k.run();
    }
    assert_eq!(k.nb_srv(), 3, "one try and two retries");
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 -- 2 s1"]);
}

#[test]
fn empty_response_retries_a_server_close_before_the_response() {
    let (k, st) = l7("empty-response", |k| k.srv(0).shutw());
    assert_eq!((k.nb_srv(), st), (2, 200));
    assert_eq!(k.logs(), ["200 -- 1 s1"]);
    let (k, st) = l7("empty-response", |k| k.srv(0).reset());
    assert_eq!((k.nb_srv(), st), (2, 200), "a reset too");
    drop(k);
    // not listed: a first request gets 502 SH
    let (k, st) = l7("conn-failure", |k| k.srv(0).shutw());
    assert_eq!((k.nb_srv(), st), (1, 502));
    assert_eq!(k.logs(), ["502 SH 0 s1"]);
    // junk is not an empty response
    let (k, st) = l7("empty-response", |k| k.srv(0).send(b"garbage\r\n\r\n"));
    assert_eq!(
        (k.nb_srv(), st),
        (1, 502),
        "junk is not retried by empty-response"
    );
    drop(k);
}

#[test]
fn junk_response_retries_an_invalid_response_only() {
    let (k, st) = l7("junk-response", |k| k.srv(0).send(b"garbage\r\n\r\n"));
    assert_eq!((k.nb_srv(), st), (2, 200));
    assert_eq!(k.logs(), ["200 -- 1 s1"]);
    // a close without response is an empty response, not junk
    let (k, st) = l7("junk-response", |k| k.srv(0).shutw());
    assert_eq!(
        (k.nb_srv(), st),
        (1, 502),
        "a close is not retried by junk-response"
    );
    drop(k);
}

#[test]
fn response_timeout_retries_a_silent_server() {
    let (k, st) = l7("response-timeout", |k| {
        k.run_until(1000, |k| k.nb_srv() == 2);
    });
    assert_eq!((k.nb_srv(), st), (2, 200));
    assert_eq!(k.logs(), ["200 -- 1 s1"]);
    // not listed: 504 sH
    let (k, st) = l7("empty-response", |k| {
        k.run_for(80);
    });
    assert_eq!((k.nb_srv(), st), (1, 504));
    assert_eq!(k.logs(), ["504 sH 0 s1"]);
}

#[test]
fn all_retryable_errors_covers_its_classes_and_statuses() {
    for code in [500u16, 502, 503, 504] {
        let (k, st) = l7("all-retryable-errors", |k| k.srv(0).send(&status(code)));
        assert_eq!((k.nb_srv(), st), (2, 200), "{code}");
    }
    for code in [401u16, 403, 404, 408, 425, 501] {
        let (k, st) = l7("all-retryable-errors", |k| k.srv(0).send(&status(code)));
        assert_eq!((k.nb_srv(), st), (1, code), "{code} is not in the set");
    }
    let (k, st) = l7("all-retryable-errors", |k| k.srv(0).shutw());
    assert_eq!((k.nb_srv(), st), (2, 200), "empty response");
    let (k, st) = l7("all-retryable-errors", |k| k.srv(0).send(b"junk\r\n\r\n"));
    assert_eq!((k.nb_srv(), st), (2, 200), "junk response");
    let (k, st) = l7("all-retryable-errors", |k| {
        k.run_until(1000, |k| k.nb_srv() == 2);
    });
    assert_eq!((k.nb_srv(), st), (2, 200), "response timeout");
    drop(k);
    // and connection failures
    let mut k = Kit::new(&cfg(
        "retries 1\nretry-on all-retryable-errors\ntimeout connect 20ms",
        &[S1],
    ));
    k.plan(&[Plan::Refuse]);
    let c = go(&mut k);
    assert!(k.run_until(2000, |k| k.nb_srv() == 2));
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
}

#[test]
fn zero_rtt_rejected_alone_retries_nothing_without_early_data() {
    // accepted, but nothing is sent as early data (no TLS): no event matches
    let (k, st) = l7("0rtt-rejected", |k| k.srv(0).send(&status(425)));
    assert_eq!((k.nb_srv(), st), (1, 425));
    let (k, st) = l7("0rtt-rejected", |k| k.srv(0).shutw());
    assert_eq!((k.nb_srv(), st), (1, 502));
    drop(k);
}

#[test]
fn a_retried_request_carries_its_body_again() {
    let mut k = Kit::new(&cfg("retries 1\nretry-on 503", &[S1]));
    let c = k.client();
    c.send(b"POST /p HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello");
    k.run();
    let first = req(&k.srv(0).take());
    assert_eq!(first.body, b"hello");
    k.srv(0).send(&status(503));
    k.run();
    let again = req(&k.srv(1).take());
    assert_eq!(again.start, "POST /p HTTP/1.1");
    assert_eq!(again.body, b"hello");
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
}

#[test]
fn disable_l7_retry_turns_l7_retries_off_for_the_request() {
    let mut k = Kit::new(&cfg(
        "retries 2\nretry-on 503\nhttp-request disable-l7-retry if { path /no }",
        &[S1],
    ));
    let c = k.client();
    c.send(&get("/no"));
    k.run();
    k.srv(0).send(&status(503));
    k.run();
    assert_eq!(k.nb_srv(), 1);
    assert_eq!(rsp(&c.take()).status(), 503);
    // another path is still retried
    c.send(&get("/yes"));
    k.run();
    let n = k.nb_srv();
    k.srv(n - 1).send(&status(503));
    k.run();
    assert_eq!(k.nb_srv(), n + 1);
}

#[test]
fn l7_retry_with_redispatch_goes_to_another_server() {
    let mut k = Kit::new(&cfg(
        "retries 2\nretry-on 503\noption redispatch",
        &[S1, S2],
    ));
    let c = go(&mut k);
    k.srv(0).send(&status(503));
    k.run();
    assert_eq!(k.nb_srv(), 2);
    assert_ne!(k.srv_addr(0), k.srv_addr(1));
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
}

#[test]
fn redispatch_on_every_retry_only_for_round_robin_kinds() {
    // `stream_choose_redispatch`: with several active servers a round-robin backend
    // redispatches at once; leastconn and first (connection-based) only on the last retry
    for (balance, first_retry_moves) in [
        ("roundrobin", true),
        ("static-rr", true),
        ("leastconn", false),
        ("first", false),
    ] {
        let mut k = Kit::new(&cfg(
            &format!("balance {balance}\nretries 2\noption redispatch\ntimeout connect 10ms"),
            &[S1, S2],
        ));
        k.plan(&[Plan::Refuse, Plan::Refuse, Plan::Refuse]);
        let c = go(&mut k);
        assert!(k.run_until(2000, |_| !c.output().is_empty()), "{balance}");
        let a = k.attempts();
        assert_eq!(a.len(), 3, "{balance}");
        assert_eq!(
            a[0] != a[1],
            first_retry_moves,
            "{balance}: first retry {a:?}"
        );
        assert_ne!(
            a[1], a[2],
            "{balance}: the last retry is redispatched {a:?}"
        );
        assert_eq!(rsp(&c.take()).status(), 503);
    }
}

// ---------------------------------------------------------------- the turn-around

/// What the stream does right after its first connect was refused, with backend lines `be`
/// and servers `srvs` (`timeout connect 5s`: a turn-around would last 1 s): how many
/// connects were tried without waiting, and, when it waits in the turn-around, whether it
/// keeps its server (`SF_ASSIGNED`, no redispatch).
fn after_a_refusal(be: &str, srvs: &[(&str, &str)]) -> (usize, Option<bool>) {
    let mut k = Kit::new(&cfg(be, srvs));
    k.plan(&[Plan::Refuse]);
    let _c = go(&mut k);
    let s =
        k.w.streams
            .iter()
            .map(|(_, s)| s)
            .next()
            .expect("the stream");
    let tar =
        (s.si[1].state == hrs_core::SiState::Tar).then_some(s.flags & hrs_core::sf::ASSIGNED != 0);
    (k.attempts().len(), tar)
}

#[test]
fn the_turn_around_is_for_a_retry_that_may_meet_the_same_server() {
    // `back_handle_st_cer`: wait before retrying the same server, or when the new pick is
    // not round-robin, or with at most one active server; not when round-robin has others
    let both = [S1, S2];
    let redisp = "option redispatch\nretries 2";
    assert_eq!(
        after_a_refusal(redisp, &both),
        (2, None),
        "redispatched at once"
    );
    assert_eq!(
        after_a_refusal("retries 2", &both),
        (1, Some(true)),
        "same server"
    );
    assert_eq!(
        after_a_refusal(&format!("balance leastconn\n{redisp}"), &both),
        (1, Some(true)),
        "leastconn redispatches on the last retry only"
    );
    assert_eq!(
        after_a_refusal("balance leastconn\noption redispatch\nretries 1", &both),
        (1, Some(false)),
        "redispatched, but leastconn may pick the same server"
    );
    // one active server: no redispatch before the last retry, and a wait either way
    for other in ["weight 0", "backup", "disabled"] {
        let s2 = ("s2", &*format!("10.0.0.2:80 {other}"));
        assert_eq!(
            after_a_refusal(redisp, &[S1, s2]),
            (1, Some(true)),
            "s2 {other}"
        );
        assert_eq!(
            after_a_refusal("option redispatch\nretries 1", &[S1, s2]),
            (1, Some(false)),
            "s2 {other}: the last retry"
        );
    }
}

#[test]
fn a_connect_timeout_is_retried_without_turn_around() {
    // the retry's connect is refused at once: the stream ends as soon as it retried
    let mut k = Kit::new(&cfg("retries 1\ntimeout connect 30ms", &[S1]));
    k.plan(&[Plan::Pending, Plan::Refuse]);
    let c = go(&mut k);
    let tar = |k: &Kit| {
        k.w.streams
            .iter()
            .any(|(_, s)| s.si[1].state == hrs_core::SiState::Tar)
    };
    assert!(k.run_until(1000, |k| k.attempts().len() == 2 || tar(k)));
    assert_eq!(k.attempts().len(), 2, "retried when the timeout struck");
    k.run();
    // a refusal after a timeout is a refusal: `SC`, not `sC`
    assert_eq!(rsp(&c.take()).status(), 503);
    assert_eq!(k.logs(), ["503 SC 1 s1"]);
    assert_eq!(k.w.sh.proxies[k.px("be")].beconn.load(Relaxed), 0);
}

#[test]
fn after_a_retried_invalid_response_both_connections_are_kept() {
    // the junk and the close it implied belong to the first server connection: the
    // retried exchange keeps its connections alive for the next request
    let mut k = Kit::new(&cfg("retries 2\nretry-on junk-response", &[S1]));
    let c = go(&mut k);
    k.srv(0).send(b"garbage\r\n\r\n");
    k.run();
    assert!(k.srv(0).closed());
    let s = k.srv(1);
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok("x"));
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 200);
    assert_eq!(m.hdr("connection"), None, "kept alive");
    assert!(!c.closed() && !s.closed());
    c.send(&get("/next"));
    k.run();
    assert_eq!(
        k.nb_srv(),
        2,
        "the retry's server connection serves the next request"
    );
    assert_eq!(req(&s.take()).path(), "/next");
}
