//! HTTP/2 clients (`bind ... proto h2`), with frames written by hand: the connection's
//! `timeout client` while it has no stream (`h2c_update_timeout`: a GOAWAY, then the close;
//! a connection that cannot even send its GOAWAY is dropped at the next expiry), and no
//! connection timeout while a stream runs (the stream's own timeouts apply).

use super::http::{get, ok, req, rsp};
use super::kit::{Kit, Plan};
use hrs_core::script::ScriptPeer;

fn cfg(timeouts: &str) -> String {
    format!(
        "
defaults
    mode http
    {timeouts}
frontend fe
    bind 127.0.0.1:8080 proto h2
    default_backend be
backend be
    server s1 10.0.0.1:80
"
    )
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A frame: type, flags, stream id, payload.
fn frame(ty: u8, flags: u8, sid: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, ty, flags];
    f.extend_from_slice(&sid.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const SETTINGS: u8 = 4;
const HEADERS: u8 = 1;
const GOAWAY: u8 = 7;
const RST_STREAM: u8 = 3;

/// `GET /` on stream `sid`, with `:authority test` (HPACK: indexed `:method GET`,
/// `:scheme http`, `:path /`, a literal `:authority`), END_STREAM and END_HEADERS.
fn get_request(sid: u32) -> Vec<u8> {
    let block = [0x82, 0x86, 0x84, 0x41, 4, b't', b'e', b's', b't'];
    frame(HEADERS, 0x5, sid, &block)
}

/// The types and stream ids of the frames in `bytes`.
fn frames(bytes: &[u8]) -> Vec<(u8, u32)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 9 {
        let n = (usize::from(rest[0]) << 16) | (usize::from(rest[1]) << 8) | usize::from(rest[2]);
        let sid = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        out.push((rest[3], sid));
        rest = &rest[(9 + n).min(rest.len())..];
    }
    out
}

/// A client past the connection preface and the SETTINGS exchange.
fn h2_client(k: &mut Kit) -> ScriptPeer {
    let c = k.client();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    c.send(&hello);
    k.run();
    let got = frames(&c.take());
    assert!(got.contains(&(SETTINGS, 0)), "{got:?}");
    c.send(&frame(SETTINGS, 1, 0, &[]));
    k.run();
    c
}

fn closed(c: &ScriptPeer) -> bool {
    c.closed() || c.shut_by_proxy()
}

#[test]
fn an_idle_connection_gets_a_goaway_at_the_client_timeout() {
    let mut k = Kit::new(&cfg(
        "timeout client 40ms\n    timeout server 5s\n    timeout connect 5s",
    ));
    let c = h2_client(&mut k);
    assert!(!closed(&c));
    assert!(k.run_until(1000, |_| closed(&c)));
    let got = frames(&c.take());
    assert!(got.contains(&(GOAWAY, 0)), "{got:?}");
}

#[test]
fn a_running_stream_holds_off_the_client_timeout() {
    let mut k = Kit::new(&cfg(
        "timeout client 30ms\n    timeout server 5s\n    timeout connect 5s",
    ));
    let c = h2_client(&mut k);
    c.send(&get_request(1));
    k.run();
    let s = k.srv(0);
    assert_eq!(req(&s.take()).path(), "/");
    // the server takes longer than `timeout client`, twice over
    k.run_for(100);
    assert!(!closed(&c), "no connection timeout while the stream runs");
    assert!(!frames(&c.output()).iter().any(|f| f.0 == GOAWAY));
    s.send(&ok("hi"));
    k.run();
    let got = frames(&c.take());
    assert!(got.contains(&(HEADERS, 1)), "the response: {got:?}");
    // idle again: the timeout applies
    assert!(k.run_until(1000, |_| closed(&c)));
    assert!(frames(&c.take()).contains(&(GOAWAY, 0)));
}

#[test]
fn a_connection_that_cannot_send_its_goaway_is_dropped() {
    let mut k = Kit::new(&cfg(
        "timeout client 30ms\n    timeout server 5s\n    timeout connect 5s",
    ));
    let c = h2_client(&mut k);
    c.set_write_room(Some(0));
    assert!(
        k.run_until(1000, |_| c.closed()),
        "dropped at the second expiry"
    );
    assert_eq!(k.w.conns.len(), 0);
}

#[test]
fn a_stream_reset_by_the_client_ends_mid_response() {
    // the client resets its stream while the response body is under way: the stream ends
    // (its connection stays up for the others) and the server connection closes
    let mut k = Kit::new(&cfg(&format!(
        "{H2_CLI}\n    log stdout format raw local0\n    log-format \"%ST %ts\""
    )));
    let c = h2_client(&mut k);
    c.send(&get_request(1));
    k.run();
    let s = k.srv(0);
    s.take();
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    k.run();
    assert!(frames(&c.take()).contains(&(HEADERS, 1)));
    c.send(&frame(RST_STREAM, 0, 1, &8u32.to_be_bytes()));
    k.run();
    assert_eq!(k.nb_streams(), 0);
    assert_eq!(k.logs(), ["200 CD"]);
    assert!(s.closed());
    assert!(!closed(&c), "the connection stays");
}

// ---------------------------------------------------------------- HTTP/2 servers

/// HTTP/1 clients, one HTTP/2 server shared by every stream (`http-reuse always`).
const H2_SRV: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %{+Q}r\"
    http-response deny if { status 418 }
    default_backend be
backend be
    http-reuse always
    server s1 10.0.0.1:80 proto h2
";

/// The stream ids of the requests (HEADERS frames) in what the server received.
fn requests(bytes: &[u8]) -> Vec<u32> {
    let rest = bytes.strip_prefix(PREFACE).unwrap_or(bytes);
    frames(rest)
        .into_iter()
        .filter(|f| f.0 == HEADERS)
        .map(|f| f.1)
        .collect()
}

/// The server's side of the handshake: its SETTINGS and the ACK of the client's.
fn h2_server_hello(s: &ScriptPeer) {
    let mut b = frame(SETTINGS, 0, 0, &[]);
    b.extend(frame(SETTINGS, 1, 0, &[]));
    s.send(&b);
}

/// A response without body on stream `sid`: `:status` 200 (HPACK index 8) or 404 (13),
/// else a literal `:status`.
fn response(sid: u32, status: u16) -> Vec<u8> {
    let block = match status {
        200 => vec![0x88],
        404 => vec![0x8d],
        _ => {
            let mut b = vec![0x08, 3];
            b.extend_from_slice(status.to_string().as_bytes());
            b
        }
    };
    frame(HEADERS, 0x5, sid, &block)
}

/// Two HTTP/1 clients whose requests share one HTTP/2 server connection: the clients and
/// the server's stream ids for each.
fn two_streams(k: &mut Kit) -> (ScriptPeer, ScriptPeer, u32, u32) {
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    let s = k.srv(0);
    h2_server_hello(&s);
    k.run();
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "both streams on one connection");
    let ids = requests(&s.take());
    assert_eq!(ids.len(), 2, "{ids:?}");
    (c1, c2, ids[0], ids[1])
}

#[test]
fn a_stream_leaving_a_shared_server_connection_keeps_it_for_the_others() {
    // the first response is replaced (http-response deny): its stream drops the connection,
    // which the second stream still uses
    let mut k = Kit::new(H2_SRV);
    let (c1, c2, id1, id2) = two_streams(&mut k);
    let s = k.srv(0);
    s.send(&response(id1, 418));
    k.run();
    assert_eq!(rsp(&c1.take()).status(), 502);
    assert!(!s.closed(), "the connection serves the other stream");
    s.send(&response(id2, 200));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
    assert_eq!(
        k.logs(),
        ["502 PH \"GET /1 HTTP/1.1\"", "200 -- \"GET /2 HTTP/1.1\""]
    );
}

#[test]
fn an_internal_error_closes_a_shared_server_connection() {
    // the stream alone pays for a stale handle, but the server connection it used is closed
    // (its state is not trusted): the other stream sees it fail
    let mut k = Kit::new(H2_SRV);
    let (c1, c2, _, _) = two_streams(&mut k);
    let sid =
        k.w.streams
            .iter()
            .find(|(_, s)| s.txn.req_line.contains("/1"))
            .map(|(h, _)| h)
            .expect("the first stream");
    let front = k.w.streams[sid].si[0].conn.expect("its client connection");
    k.w.conns.remove(front).expect("live");
    let task = k.w.streams[sid].task;
    hrs_list::with_bugs_counted(|| {
        k.ev.wakeup(task, hrs_ev::WakeReason::OTHER);
        k.run();
    });
    assert!(k.srv(0).closed(), "the server connection was closed");
    assert_eq!(
        rsp(&c2.take()).status(),
        502,
        "the other stream failed with it"
    );
    drop(c1);
}

#[test]
fn a_stream_ended_by_an_internal_error_leaves_a_shared_server_connection_to_the_others() {
    // `stream_kill_internal` on one of two streams: the connection is marked failed (its
    // state is not trusted), the other stream learns it and ends, which releases it; the
    // killed stream itself must not release a connection the other still uses (a
    // lifecycle bug, which panics in this debug build)
    let mut k = Kit::new(H2_SRV);
    let (c1, c2, _, _) = two_streams(&mut k);
    let sid =
        k.w.streams
            .iter()
            .find(|(_, s)| s.txn.req_line.contains("/1"))
            .map(|(h, _)| h)
            .expect("the first stream");
    let back = k.w.streams[sid].si[1].conn.expect("its server connection");
    crate::stream::stream_kill_internal(&mut k.w, &mut k.ev, sid);
    assert!(
        k.w.conns.contains(back),
        "still attached to the other stream"
    );
    k.run();
    assert_eq!(rsp(&c1.take()).status(), 500);
    assert_eq!(rsp(&c2.take()).status(), 502);
    assert!(k.srv(0).closed(), "the server connection was closed");
    assert_eq!(k.nb_streams(), 0);
}

// ---------------------------------------------------------------- lifecycle bugs

/// An HTTP/2 client whose `GET /` waits for the server's response; the stream's handle.
fn waiting_h2_stream(k: &mut Kit) -> (ScriptPeer, hrs_core::StrmId) {
    let c = h2_client(k);
    c.send(&get_request(1));
    k.run();
    assert_eq!(req(&k.srv(0).take()).path(), "/");
    let sid =
        k.w.streams
            .iter()
            .map(|(h, _)| h)
            .next()
            .expect("the stream");
    (c, sid)
}

const H2_CLI: &str = "timeout client 5s\n    timeout server 5s\n    timeout connect 5s";

#[test]
fn an_h2_client_connection_marked_failed_ends_its_live_streams() {
    // a stream does not give up its server for a client gone after a complete request
    // (as with HTTP/1): it ends when the response comes, which the client cannot take
    let mut k = Kit::new(&cfg(H2_CLI));
    let (_c, sid) = waiting_h2_stream(&mut k);
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
    assert_eq!(k.nb_streams(), 0, "the stream ended by itself");
    // one internal error: the connection's; the stream ended as a client abort
    assert_eq!(
        k.w.sh.proxies[k.px("fe")]
            .counters
            .snapshot()
            .internal_errors,
        1
    );
    assert!(
        !k.w.conns.contains(front),
        "the stream released the connection"
    );
}

#[test]
fn an_h2_client_connection_whose_stream_is_gone_is_released() {
    let mut k = Kit::new(&cfg(H2_CLI));
    let (c, sid) = waiting_h2_stream(&mut k);
    let s = k.w.streams.remove(sid).expect("live");
    k.ev.task_free(s.task);
    let back =
        k.w.conns
            .iter()
            .find(|(_, c)| c.side == hrs_core::Side::Back);
    let back = back.map(|(h, _)| h).expect("the server connection");
    hrs_list::with_bugs_counted(|| {
        // the server answers: its connection meets the stale stream, then the client's
        k.srv(0).send(&ok("late"));
        k.run();
        let front =
            k.w.conns
                .iter()
                .find(|(_, c)| c.side == hrs_core::Side::Front);
        let front = front.map(|(h, _)| h).expect("the client connection");
        let task = k.w.conns[front].task;
        k.ev.wakeup(task, hrs_ev::WakeReason::OTHER);
        k.run();
    });
    assert!(!k.w.conns.contains(back));
    assert!(c.closed(), "the client connection was released");
    assert_eq!(
        k.w.sh.proxies[k.px("fe")]
            .counters
            .snapshot()
            .internal_errors,
        1
    );
}

#[test]
fn an_l7_retry_after_an_http2_server_sends_the_kept_request_again() {
    // the request kept at its first send (by the HTTP/1 mux) serves every retry, also after
    // a retry went to an HTTP/2 server, as upstream's `txn->l7_buffer`
    let mut k = Kit::new(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    retries 3
    retry-on 503
    option redispatch
    server s1 10.0.0.1:80
    server s2 10.0.0.2:80 proto h2
",
    );
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.srv_addr(0), "10.0.0.1:80".parse().unwrap());
    k.srv(0).take();
    k.srv(0)
        .send(b"HTTP/1.1 503 X\r\ncontent-length: 0\r\n\r\n");
    k.run();
    assert_eq!(k.nb_srv(), 2, "retried on the other server");
    let s = k.srv(1);
    h2_server_hello(&s);
    k.run();
    let ids = requests(&s.take());
    assert_eq!(ids.len(), 1);
    s.send(&response(ids[0], 503));
    k.run();
    assert_eq!(k.nb_srv(), 3, "retried again");
    let s = k.srv(2);
    assert_eq!(k.srv_addr(2), "10.0.0.1:80".parse().unwrap());
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok("third"));
    k.run();
    assert_eq!(rsp(&c.take()).body, b"third");
}

#[test]
fn an_http2_server_connection_is_kept_after_a_denied_response() {
    // the response is replaced (http-response deny): the stream gives up its server side,
    // but the HTTP/2 connection only loses that stream (`h2_detach`): left without stream
    // it goes to the idle pools (out of `avail`) and serves the next request, as with
    // haproxy 2.6.12
    let mut k = Kit::new(H2_SRV);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let s = k.srv(0);
    h2_server_hello(&s);
    k.run();
    let ids = requests(&s.take());
    assert_eq!(ids.len(), 1, "{ids:?}");
    let srv = k.srv_id("be", "s1");
    assert_eq!(k.w.pools[srv].avail.len(), 1, "shared: in avail");
    s.send(&response(ids[0], 418));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 502);
    let pool = &k.w.pools[srv];
    assert!(
        pool.avail.is_empty(),
        "no connection without stream in avail"
    );
    assert_eq!(k.w.sh.servers[srv].curr_idle(), 1, "the connection is idle");
    assert!(!s.closed());
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(k.nb_srv(), 1, "the next request reuses it");
    let ids = requests(&s.take());
    assert_eq!(ids.len(), 1, "{ids:?}");
    s.send(&response(ids[0], 200));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
    assert_eq!(
        k.logs(),
        ["502 PH \"GET / HTTP/1.1\"", "200 -- \"GET /2 HTTP/1.1\""]
    );
}

/// Answers 200 to every request on each server connection from the `from`-th on.
fn answer_all(k: &mut Kit, from: usize) {
    for i in from..k.nb_srv() {
        let s = k.srv(i);
        h2_server_hello(&s);
        k.run();
        for id in requests(&s.take()) {
            s.send(&response(id, 200));
        }
        k.run();
    }
}

#[test]
fn a_refused_http2_server_connect_is_retried_on_a_new_connection() {
    // the failed connection also failed its stream (response shut, server close); the
    // retry starts clean and is served (it ended 502 SH at once on the new connection)
    let mut k = Kit::new(H2_SRV);
    k.plan(&[Plan::Refuse, Plan::Accept]);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.run_for(1100);
    assert_eq!(k.attempts().len(), 2, "retried");
    assert!(k.srv(0).closed());
    answer_all(&mut k, 1);
    assert_eq!(rsp(&c.take()).status(), 200);
    assert_eq!(k.logs(), ["200 -- \"GET / HTTP/1.1\""]);
    assert_eq!(k.w.sh.proxies[k.px("be")].counters.snapshot().retries, 1);
}

#[test]
fn a_refused_http2_server_connection_shared_by_two_streams_fails_both_connects() {
    // http-reuse always: a second stream takes the connection still connecting. The
    // refusal is a failed connect for both: the first to see it leaves the connection to
    // the other (releasing it then would be a lifecycle bug), the last closes it; both
    // retry and are served
    let mut k = Kit::new(H2_SRV);
    k.plan(&[Plan::Pending, Plan::Accept, Plan::Accept]);
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    assert_eq!(k.attempts().len(), 1, "both streams wait on one connection");
    let first = k.srv(0);
    first.refuse();
    k.run();
    assert!(first.closed(), "the refused connection is closed");
    k.run_for(1100);
    answer_all(&mut k, 1);
    assert_eq!(rsp(&c1.take()).status(), 200);
    assert_eq!(rsp(&c2.take()).status(), 200);
    assert_eq!(k.w.sh.proxies[k.px("be")].counters.snapshot().retries, 2);
}

#[test]
fn a_retry_after_a_refused_http2_server_keeps_its_http1_server_connection() {
    // the failed HTTP/2 connection marked a server close on the stream; the retry, sent to
    // an HTTP/1 server by the redispatch, ends with a keep-alive exchange whose server
    // connection stays open
    let mut k = Kit::new(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    retries 1
    option redispatch
    server s1 10.0.0.1:80 proto h2
    server s2 10.0.0.2:80
",
    );
    k.plan(&[Plan::Refuse, Plan::Accept]);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.run_for(1100);
    assert_eq!(k.attempts().len(), 2, "retried");
    assert_eq!(k.srv_addr(1), "10.0.0.2:80".parse().unwrap());
    let s = k.srv(1);
    assert_eq!(req(&s.take()).path(), "/");
    s.send(&ok("fine"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    assert!(
        !s.closed() && !s.shut_by_proxy(),
        "the server connection is kept"
    );
}
