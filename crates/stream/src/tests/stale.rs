//! What a lifecycle bug costs (docs/handles.md): an object freed while another still names
//! it. Debug builds panic at the stale handle; these tests run the release behaviour
//! (`hrs_list::with_bugs_counted`) and check that only the stream or connection concerned
//! ends, with an internal error, and that the rest of the process goes on.

use super::http::{get, ok, rsp};
use super::kit::{Kit, Plan};
use hrs_core::{co_fl, Mux};
use std::sync::atomic::Ordering::Relaxed;

const CFG: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %s\"
    default_backend be
backend be
    server s1 10.0.0.1:80
";

/// The one stream alive.
fn only_stream(k: &Kit) -> hrs_core::StrmId {
    let v: Vec<_> = k.w.streams.iter().map(|(h, _)| h).collect();
    assert_eq!(v.len(), 1, "one stream alive");
    v[0]
}

#[test]
fn a_stale_server_connection_ends_its_stream_with_an_internal_error() {
    let mut k = Kit::new(CFG);
    // the connect stays pending: the stream waits with its server connection attached
    k.plan(&[Plan::Pending]);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let sid = only_stream(&k);
    let back = k.w.streams[sid].si[1].conn.expect("a server connection");
    // the bug: the server connection is freed behind the stream's back
    k.w.conns.remove(back).expect("the connection was live");
    let task = k.w.streams[sid].task;
    let bugs = hrs_list::bug_count();
    hrs_list::with_bugs_counted(|| {
        k.ev.wakeup(task, hrs_ev::WakeReason::OTHER);
        k.run();
    });
    assert!(
        hrs_list::bug_count() > bugs,
        "the stale handle was reported"
    );
    assert_eq!(k.nb_streams(), 0, "the stream was freed");
    let out = c.take();
    assert_eq!(rsp(&out).status(), 500, "{}", String::from_utf8_lossy(&out));
    assert!(
        c.shut_by_proxy(),
        "the client connection closes after the 500"
    );
    assert_eq!(k.logs(), vec!["500 IC s1".to_string()]);
    let (fe, be, srv) = (k.px("fe"), k.px("be"), k.srv_id("be", "s1"));
    assert_eq!(k.w.sh.proxies[fe].counters.snapshot().internal_errors, 1);
    assert_eq!(k.w.sh.proxies[be].counters.snapshot().internal_errors, 1);
    assert_eq!(k.w.sh.servers[srv].counters.snapshot().internal_errors, 1);
    assert_eq!(
        k.w.sh.servers[srv].served.load(Relaxed),
        0,
        "the server slot was released"
    );
    // the process goes on: a new client is served normally
    let c2 = k.client();
    c2.send(&get("/again"));
    k.run();
    k.srv(1).send(&ok("fine"));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
}

#[test]
fn a_connection_whose_stream_is_gone_is_released_alone() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let sid = only_stream(&k);
    let front = k.w.streams[sid].si[0].conn.expect("the client connection");
    let back = k.w.streams[sid].si[1].conn.expect("the server connection");
    // the bug: the stream is freed while both connections still name it
    let s = k.w.streams.remove(sid).expect("the stream was live");
    k.ev.task_free(s.task);
    let fe = k.px("fe");
    let bugs = hrs_list::bug_count();
    hrs_list::with_bugs_counted(|| {
        // the server answers: its connection meets the stale stream first
        k.srv(0).send(&ok("late"));
        k.run();
        // the client sends more: its connection meets it too
        c.send(b"x");
        k.run();
    });
    assert!(
        hrs_list::bug_count() > bugs,
        "the stale handles were reported"
    );
    assert!(
        !k.w.conns.contains(back),
        "the server connection was released"
    );
    assert!(k.srv(0).closed(), "its socket was closed");
    assert!(
        !k.w.conns.contains(front),
        "the client connection was released"
    );
    assert!(c.closed(), "its socket was closed");
    // each connection counts on its own proxy: the client's on the frontend, the server's
    // on the backend
    assert_eq!(k.w.sh.proxies[fe].counters.snapshot().internal_errors, 1);
    assert_eq!(
        k.w.sh.proxies[k.px("be")]
            .counters
            .snapshot()
            .internal_errors,
        1
    );
    // another client is not affected
    let c2 = k.client();
    c2.send(&get("/"));
    k.run();
    k.srv(1).send(&ok("fine"));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
}

#[test]
fn releasing_a_connection_a_stream_still_uses_is_a_reported_bug_that_frees_nothing() {
    for back_side in [false, true] {
        let mut k = Kit::new(CFG);
        let c = k.client();
        c.send(&get("/"));
        k.run();
        let sid = only_stream(&k);
        let conn = k.w.streams[sid].si[usize::from(back_side)]
            .conn
            .expect("the connection");
        let nb_sessions = k.w.sessions.len();
        let bugs = hrs_list::bug_count();
        let r =
            hrs_list::with_bugs_counted(|| crate::session::conn_release(&mut k.w, &mut k.ev, conn));
        assert!(r.is_ok(), "back side {back_side}");
        // (the count is shared by the tests running in parallel: only its growth is ours)
        assert!(
            hrs_list::bug_count() > bugs,
            "back side {back_side}: reported"
        );
        assert!(
            k.w.conns.contains(conn),
            "back side {back_side}: still live"
        );
        assert_eq!(k.w.sessions.len(), nb_sessions, "back side {back_side}");
        // the stream goes on with both connections
        k.srv(0).send(&ok("fine"));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 200, "back side {back_side}");
    }
}

#[test]
fn a_connection_marked_failed_tells_its_live_stream() {
    // containment of a connection keeps a live stream informed: it ends by itself
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let sid = only_stream(&k);
    let back = k.w.streams[sid].si[1].conn.expect("the server connection");
    crate::io::conn_kill_internal(&mut k.w, &mut k.ev, back);
    assert!(k.w.conns[back].has(co_fl::ERROR));
    assert!(matches!(k.w.conns[back].mux, Mux::H1(_)));
    k.run();
    assert_eq!(k.nb_streams(), 0, "the stream saw the error and ended");
    assert_eq!(rsp(&c.take()).status(), 502);
    assert!(!k.w.conns.contains(back), "and released the connection");
}

const TCP_CFG: &str = "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ts %B %U\"
    default_backend be
backend be
    server s1 10.0.0.1:80
";

#[test]
fn a_tcp_connection_marked_failed_ends_its_stream() {
    for back_side in [true, false] {
        let mut k = Kit::new(TCP_CFG);
        let c = k.client();
        c.send(b"ping");
        k.run();
        assert_eq!(k.srv(0).take(), b"ping");
        let sid = only_stream(&k);
        let conn = k.w.streams[sid].si[usize::from(back_side)]
            .conn
            .expect("the connection");
        crate::io::conn_kill_internal(&mut k.w, &mut k.ev, conn);
        k.run();
        assert_eq!(k.nb_streams(), 0, "back side {back_side}: the stream ended");
        let l = k.logs();
        let want = if back_side { "SD" } else { "CD" };
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(l[0].starts_with(want), "back side {back_side}: {l:?}");
        assert!(c.closed() && k.srv(0).closed(), "back side {back_side}");
    }
}

/// A stream forwarding a response of 10 bytes whose head and first 3 bytes reached the
/// client; returns the client.
fn mid_response(k: &mut Kit) -> hrs_core::script::ScriptPeer {
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.srv(0)
        .send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    c
}

#[test]
fn an_internal_error_after_the_response_head_keeps_its_status() {
    let mut k = Kit::new(CFG);
    let c = mid_response(&mut k);
    let sid = only_stream(&k);
    let back = k.w.streams[sid].si[1].conn.expect("the server connection");
    k.w.conns.remove(back).expect("the connection was live");
    let task = k.w.streams[sid].task;
    hrs_list::with_bugs_counted(|| {
        k.ev.wakeup(task, hrs_ev::WakeReason::OTHER);
        k.run();
    });
    assert_eq!(k.nb_streams(), 0);
    // the client got the head and what was forwarded, then the close: no 500 page
    let out = c.take();
    assert!(
        out.ends_with(b"\r\n\r\nabc"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(c.closed());
    assert_eq!(k.logs(), ["200 ID s1"]);
}

#[test]
fn an_internal_error_before_the_response_head_is_a_500() {
    // the response arrived (status 200) but the stream fails before its head leaves
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let sid = only_stream(&k);
    let front = k.w.streams[sid].si[0].conn.expect("the client connection");
    k.w.conns.remove(front).expect("the connection was live");
    hrs_list::with_bugs_counted(|| {
        k.srv(0).send(&ok("late"));
        k.run();
    });
    assert_eq!(k.nb_streams(), 0);
    assert!(c.output().is_empty(), "the client connection was gone");
    assert_eq!(k.logs(), ["500 ID s1"]);
    assert!(k.srv(0).closed(), "the server connection was closed");
}

#[test]
fn a_stream_failing_after_its_log_line_is_logged_once() {
    // `stream_end` logs, then meets the stale server connection: the containment does not
    // log the stream again
    let mut k = Kit::new(CFG);
    let c = mid_response(&mut k);
    let sid = only_stream(&k);
    let back = k.w.streams[sid].si[1].conn.expect("the server connection");
    k.w.conns.remove(back).expect("the connection was live");
    // the response is complete as far as the stream knows: it ends at once
    k.w.streams[sid].res.flags |= hrs_core::cf::DONE;
    let task = k.w.streams[sid].task;
    hrs_list::with_bugs_counted(|| {
        k.ev.wakeup(task, hrs_ev::WakeReason::OTHER);
        k.run();
    });
    assert_eq!(k.nb_streams(), 0);
    assert_eq!(k.logs(), ["200 -- s1"], "one line, from stream_end");
    assert_eq!(
        k.w.sh.proxies[k.px("fe")]
            .counters
            .snapshot()
            .internal_errors,
        1
    );
    drop(c);
}

#[test]
fn a_client_connection_marked_failed_does_not_spin_while_its_stream_waits() {
    // the stream waits for its server (the request was complete); the loop settles, and the
    // stream ends when the response comes and cannot be delivered
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let sid = only_stream(&k);
    let front = k.w.streams[sid].si[0].conn.expect("the client connection");
    crate::io::conn_kill_internal(&mut k.w, &mut k.ev, front);
    k.run();
    assert_eq!(
        k.nb_streams(),
        1,
        "the loop settled with the stream waiting"
    );
    k.srv(0).send(&ok("late"));
    k.run();
    assert_eq!(k.nb_streams(), 0);
    assert_eq!(k.logs(), ["200 CD s1"]);
    assert!(c.closed());
}

#[test]
fn a_client_connection_marked_failed_mid_request_aborts_its_stream() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    let sid = only_stream(&k);
    let front = k.w.streams[sid].si[0].conn.expect("the client connection");
    crate::io::conn_kill_internal(&mut k.w, &mut k.ev, front);
    k.run();
    assert_eq!(
        k.nb_streams(),
        0,
        "the request will not complete: aborted at once"
    );
    assert_eq!(k.logs(), ["-1 CD s1"]);
    assert!(k.srv(0).closed());
    drop(c);
}

#[test]
fn a_connecting_server_connection_marked_failed_is_a_failed_connect() {
    // the client is still sending its body: the stream retries the connect, it does not
    // take the server's failure for a client abort
    let mut k = Kit::new(&CFG.replace("timeout connect 5s", "timeout connect 20ms"));
    k.plan(&[Plan::Pending]);
    let c = k.client();
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    let sid = only_stream(&k);
    let back = k.w.streams[sid].si[1].conn.expect("the server connection");
    crate::io::conn_kill_internal(&mut k.w, &mut k.ev, back);
    k.run();
    assert_eq!(k.nb_streams(), 1, "not aborted");
    assert!(k.logs().is_empty());
    assert!(
        k.run_until(1000, |k| k.nb_srv() == 2),
        "a new connect after the turn-around"
    );
    drop(c);
}
