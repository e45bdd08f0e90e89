//! What a lifecycle bug costs (docs/handles.md): an object freed while another still names
//! it. Debug builds panic at the stale handle; these tests run the release behaviour
//! (`hrs_list::with_bugs_counted`) and check that only the stream or connection concerned
//! ends, with an internal error, and that the rest of the process goes on.

use super::http::{get, ok, rsp};
use super::kit::{Kit, Plan};
use hrs_core::{co_fl, Mux};

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
    assert_eq!(k.w.proxies[fe].counters.internal_errors, 1);
    assert_eq!(k.w.proxies[be].counters.internal_errors, 1);
    assert_eq!(k.w.servers[srv].counters.internal_errors, 1);
    assert_eq!(k.w.servers[srv].served, 0, "the server slot was released");
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
    assert_eq!(k.w.proxies[fe].counters.internal_errors, 1);
    assert_eq!(k.w.proxies[k.px("be")].counters.internal_errors, 1);
    // another client is not affected
    let c2 = k.client();
    c2.send(&get("/"));
    k.run();
    k.srv(1).send(&ok("fine"));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
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
