//! The HTTP/1 mux with scripted bytes: heads split across reads, pipelining, bodies framed
//! by content-length, chunks or the close in both directions, interim responses, HEAD/204/
//! 304, the connection close rules, the errors answered 400 (front) or turned into a 502
//! by the stream (back), and back-pressure both ways. The test plays the stream: it reads
//! the request the mux delivered and installs the response the mux must send.

use super::kit::{CFG, T};
use crate::mux_h1::{h1_back_detach, h1_front_detach, H1Outcome};
use hrs_core::{cf, co_fl, tx, ConnId, H1Rx, H1Tx, Mux, StrmId};
use hrs_http::msg::BodyLen;

fn rx(t: &T, cid: ConnId) -> String {
    match &t.w.conns[cid].mux {
        Mux::H1(h) => format!("{:?}", h.rx).split('(').next().unwrap().to_string(),
        _ => "not h1".into(),
    }
}

fn txs(t: &T, cid: ConnId) -> H1Tx {
    match &t.w.conns[cid].mux {
        Mux::H1(h) => h.tx,
        _ => panic!("not h1"),
    }
}

fn want_close(t: &T, cid: ConnId) -> bool {
    match &t.w.conns[cid].mux {
        Mux::H1(h) => h.want_close,
        _ => panic!("not h1"),
    }
}

/// The stream layer's end of a stream on a front connection: detach, free the stream.
fn end_front(t: &mut T, cid: ConnId) -> bool {
    let sid = t.strm(cid);
    let close = h1_front_detach(&mut t.w.conns[cid]);
    let task = t.w.streams[sid].task;
    t.ev.task_free(task);
    t.w.streams.remove(sid);
    close
}

fn path(t: &T, sid: StrmId) -> String {
    let r = t.w.streams[sid].txn.req.as_ref().unwrap();
    String::from_utf8_lossy(r.uri()).into_owned()
}

// ---------------------------------------------------------------- front: requests in

#[test]
fn a_head_split_across_reads() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"GET /a HT");
    assert_eq!(t.io(cid), H1Outcome::Alive);
    assert!(t.w.conns[cid].strm.is_none(), "incomplete: no stream");
    assert_eq!(rx(&t, cid), "Head");
    p.send(b"TP/1.1\r\nhost: t\r\n");
    t.io(cid);
    assert!(t.w.conns[cid].strm.is_none());
    p.send(b"\r\n");
    t.io(cid);
    let sid = t.strm(cid);
    assert_eq!(path(&t, sid), "/a");
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::EOM), "no body: complete");
    assert_eq!(s.req.total, 28, "the head's bytes");
    assert_eq!(s.txn.flags & tx::NOT_FIRST, 0);
    assert_eq!(rx(&t, cid), "Done");
    assert!(t.strm_woken(sid), "the stream is woken");
    assert!(t.w.conns[cid].ibuf.is_empty());
}

#[test]
fn pipelined_requests_wait_for_the_stream_to_end() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"GET /1 HTTP/1.1\r\nhost: t\r\n\r\nGET /2 HTTP/1.1\r\nhost: t\r\n\r\n");
    t.io(cid);
    let s1 = t.strm(cid);
    assert_eq!(path(&t, s1), "/1");
    assert!(
        !t.w.conns[cid].ibuf.is_empty(),
        "the second request waits in the buffer"
    );
    t.respond(
        s1,
        b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n",
        b"1",
        true,
    );
    t.io(cid);
    assert!(t.w.streams[s1].res.has(cf::DONE));
    assert!(!end_front(&mut t, cid), "keep-alive");
    t.io(cid);
    let s2 = t.strm(cid);
    assert_eq!(path(&t, s2), "/2");
    assert_ne!(t.w.streams[s2].txn.flags & tx::NOT_FIRST, 0);
    let out = p.take();
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"\r\n\r\n1"));
}

#[test]
fn a_content_length_body_in_pieces() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc");
    t.io(cid);
    let sid = t.strm(cid);
    assert_eq!(t.w.streams[sid].txn.req_body, BodyLen::Len(10));
    assert_eq!(t.w.streams[sid].req.buf, b"abc");
    assert!(!t.w.streams[sid].req.has(cf::EOM));
    assert_eq!(rx(&t, cid), "Body");
    p.send(b"defghij");
    t.io(cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"abcdefghij");
    assert!(s.req.has(cf::EOM));
    assert_eq!(rx(&t, cid), "Done");
}

#[test]
fn a_chunked_body_is_dechunked_with_its_trailers() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel");
    t.io(cid);
    let sid = t.strm(cid);
    assert_eq!(t.w.streams[sid].txn.req_body, BodyLen::Chunked);
    p.send(b"lo\r\n3;ext=1\r\n wo\r\n0\r\nx-t: 1\r\n\r\n");
    t.io(cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"hello wo");
    assert!(s.req.has(cf::EOM));
    let tr = s.req.trailers.as_ref().expect("trailers");
    assert_eq!(tr.len(), 1);
    assert_eq!((&tr[0].0[..], &tr[0].1[..]), (&b"x-t"[..], &b"1"[..]));
}

#[test]
fn a_bad_chunk_size_is_answered_400_and_closes() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n");
    t.io(cid);
    let sid = t.strm(cid);
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR));
    assert_eq!(s.txn.status, 400);
    assert_ne!(s.txn.flags & tx::CLI_CLOSE, 0);
    assert!(t.closing(cid));
    assert!(p.take().starts_with(b"HTTP/1.1 400 Bad request\r\n"));
}

#[test]
fn garbage_is_answered_400_closed_with_a_reset_and_counted() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"GARBAGE\r\n\r\n");
    let out = t.io(cid);
    assert!(
        t.w.conns.get(cid).is_some_and(|c| c.strm.is_none()),
        "no stream"
    );
    let page = p.take();
    assert!(
        page.starts_with(b"HTTP/1.1 400 Bad request\r\n"),
        "{:?}",
        String::from_utf8_lossy(&page)
    );
    // the raw template, as upstream's mux sends it
    assert!(page.windows(19).any(|w| w == b"Connection: close\r\n"));
    assert_eq!(out, H1Outcome::Release, "sent: the connection is finished");
    assert!(p.shut_by_proxy());
    assert!(p.linger0(), "closed with a reset, unread data dropped");
    assert_eq!(t.w.sh.proxies[0].counters.snapshot().failed_req, 1);
}

#[test]
fn a_head_truncated_by_the_close_is_400() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"GET / HTTP/1.1\r\nhost:");
    p.shutw();
    t.io(cid);
    assert!(p.take().starts_with(b"HTTP/1.1 400 "));
}

#[test]
fn too_many_headers_is_400() {
    let mut t = T::new(&format!("global\n    tune.http.maxhdr 3\n{CFG}"));
    let (cid, p) = t.front();
    p.send(b"GET / HTTP/1.1\r\nhost: t\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n");
    t.io(cid);
    assert!(t.w.conns[cid].strm.is_none());
    assert!(p.take().starts_with(b"HTTP/1.1 400 "));
}

#[test]
fn a_client_leaving_between_requests_releases_the_connection() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.shutw();
    assert_eq!(t.io(cid), H1Outcome::Release);
    assert!(
        p.output().is_empty(),
        "nothing is answered to a silent client"
    );
}

#[test]
fn a_client_closing_mid_body_tells_the_stream() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc");
    t.io(cid);
    let sid = t.strm(cid);
    t.strm_woken(sid);
    p.shutw();
    assert_eq!(t.io(cid), H1Outcome::Alive, "the stream decides");
    assert!(t.w.streams[sid].req.has(cf::SHUTR));
    assert!(t.strm_woken(sid));
}

// ---------------------------------------------------------------- front: responses out

fn front_with_request(t: &mut T, req: &[u8]) -> (ConnId, hrs_core::script::ScriptPeer, StrmId) {
    let (cid, p) = t.front();
    p.send(req);
    t.io(cid);
    let sid = t.strm(cid);
    (cid, p, sid)
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";

#[test]
fn a_response_waits_for_the_response_analysers() {
    // the server's response is in the stream but its rules have not run yet (a wake-up of
    // the client side, e.g. by an interim response, must not send it)
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(
        sid,
        b"HTTP/1.1 418 teapot\r\ncontent-length: 3\r\n\r\n",
        b"tea",
        true,
    );
    t.w.streams[sid].phase = hrs_core::StrmPhase::RspRules;
    t.io(cid);
    assert_eq!(p.take(), b"", "nothing leaves before the rules ran");
    assert!(!t.w.streams[sid].res.has(cf::HEAD_SENT));
    t.w.streams[sid].phase = hrs_core::StrmPhase::Forward;
    t.io(cid);
    assert_eq!(
        p.take(),
        b"HTTP/1.1 418 teapot\r\ncontent-length: 3\r\n\r\ntea"
    );
}

#[test]
fn a_content_length_response_streamed_in_pieces() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n",
        b"abc",
        false,
    );
    t.io(cid);
    assert_eq!(p.take(), b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc");
    assert!(t.w.streams[sid].res.has(cf::HEAD_SENT));
    assert!(!t.w.streams[sid].res.has(cf::DONE));
    assert_eq!(txs(&t, cid), H1Tx::Len(3));
    let s = &mut t.w.streams[sid];
    s.res.buf.extend_from_slice(b"def");
    s.res.flags |= cf::EOM;
    t.io(cid);
    assert_eq!(p.take(), b"def");
    assert!(t.w.streams[sid].res.has(cf::DONE));
    assert_eq!(txs(&t, cid), H1Tx::Done);
}

#[test]
fn a_chunked_response_with_trailers() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        b"hello",
        false,
    );
    t.io(cid);
    assert_eq!(
        p.take(),
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec()
    );
    let s = &mut t.w.streams[sid];
    s.res.trailers = Some(vec![(b"x-t".to_vec(), b"1".to_vec())]);
    s.res.flags |= cf::EOM;
    t.io(cid);
    assert_eq!(p.take(), b"0\r\nx-t: 1\r\n\r\n");
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn a_close_delimited_response_closes_the_client_connection() {
    // upstream 2.6.12: `connection: close` added, the body as is, then the close
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(sid, b"HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\n", b"hello ", false);
    t.io(cid);
    assert_eq!(
        p.take(),
        b"HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\nhello ".to_vec()
    );
    let s = &mut t.w.streams[sid];
    s.res.buf.extend_from_slice(b"world");
    s.res.flags |= cf::EOM;
    t.io(cid);
    assert_eq!(p.take(), b"world");
    assert!(end_front(&mut t, cid), "the connection closes after it");
    assert_eq!(t.io(cid), H1Outcome::Release);
    assert!(p.shut_by_proxy());
}

#[test]
fn head_204_and_304_responses_have_no_body() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n");
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    assert_eq!(p.take(), b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
    assert!(t.w.streams[sid].res.has(cf::DONE));
    assert!(!end_front(&mut t, cid), "keep-alive after a HEAD");
    for status in [&b"204 No Content"[..], b"304 Not Modified"] {
        p.send(GET);
        t.io(cid);
        let sid = t.strm(cid);
        let mut head = b"HTTP/1.1 ".to_vec();
        head.extend_from_slice(status);
        head.extend_from_slice(b"\r\n\r\n");
        t.respond(sid, &head, b"", true);
        t.io(cid);
        assert_eq!(p.take(), head, "no framing added");
        assert!(t.w.streams[sid].res.has(cf::DONE));
        assert!(!end_front(&mut t, cid));
    }
}

#[test]
fn connection_close_from_the_client_closes_after_the_response() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    );
    assert!(want_close(&t, cid));
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = p.take();
    assert!(
        out.windows(17).any(|w| w == b"connection: close"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert!(end_front(&mut t, cid));
    assert_eq!(t.io(cid), H1Outcome::Release);
}

#[test]
fn http10_without_keep_alive_closes_and_with_it_stays() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, b"GET / HTTP/1.0\r\n\r\n");
    assert!(t.w.streams[sid].txn.http10);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    assert!(p.take().starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(end_front(&mut t, cid), "HTTP/1.0 closes by default");
    let (cid, p, sid) =
        front_with_request(&mut t, b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = p.take();
    assert!(
        out.windows(22)
            .any(|w| w.eq_ignore_ascii_case(b"connection: keep-alive")),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert!(!end_front(&mut t, cid));
}

#[test]
fn an_unfinished_exchange_closes_at_detach() {
    let mut t = T::new(CFG);
    let (cid, _p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nab",
    );
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    assert!(
        end_front(&mut t, cid),
        "the request body was not all received"
    );
}

#[test]
fn output_back_pressure_stops_taking_from_the_stream() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    let bufsize = t.w.sh.global.bufsize;
    p.set_write_room(Some(0));
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 3 * bufsize);
    t.respond(sid, head.as_bytes(), &vec![b'x'; bufsize], false);
    t.io(cid);
    assert!(
        t.w.streams[sid].res.buf.is_empty(),
        "moved to the connection"
    );
    assert!(t.w.conns[cid].out_pending() >= bufsize);
    t.w.streams[sid]
        .res
        .buf
        .extend_from_slice(&vec![b'y'; bufsize]);
    t.io(cid);
    assert_eq!(
        t.w.streams[sid].res.buf.len(),
        bufsize,
        "blocked: left in the channel"
    );
    assert!(p.output().is_empty());
    p.set_write_room(None);
    t.io(cid);
    assert!(t.w.streams[sid].res.buf.is_empty(), "room again: moved on");
    assert_eq!(p.take().len(), head.len() + 2 * bufsize);
}

#[test]
fn input_back_pressure_stops_reading_while_the_channel_is_full() {
    let mut t = T::new(CFG);
    let bufsize = t.w.sh.global.bufsize;
    let (cid, p) = t.front();
    p.send(
        format!(
            "POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n",
            3 * bufsize
        )
        .as_bytes(),
    );
    t.io(cid);
    let sid = t.strm(cid);
    p.send(&vec![b'z'; 3 * bufsize]);
    t.io(cid);
    assert_eq!(
        t.w.streams[sid].req.buf.len(),
        bufsize,
        "one buffer at most"
    );
    assert!(p.unread() > 0, "the rest stays with the client");
    let reads = p.reads();
    t.io(cid);
    assert_eq!(p.reads(), reads, "no read while the channel is full");
    t.w.streams[sid].req.buf.clear();
    t.io(cid);
    assert_eq!(t.w.streams[sid].req.buf.len(), bufsize);
}

// ---------------------------------------------------------------- back: requests out, responses in

/// A stream with request `req` from a client, and its server connection.
fn with_server(t: &mut T, req: &[u8]) -> (ConnId, StrmId, ConnId, hrs_core::script::ScriptPeer) {
    let (fc, _p, sid) = front_with_request(t, req);
    let (bc, s) = t.back(sid);
    (fc, sid, bc, s)
}

#[test]
fn the_request_goes_out_when_connected() {
    let mut t = T::new(CFG);
    t.plans
        .borrow_mut()
        .push(hrs_core::script::Connect::Pending);
    let (_fc, sid, bc, s) = with_server(&mut t, b"GET /x HTTP/1.1\r\nhost: t\r\n\r\n");
    t.io(bc);
    assert!(s.output().is_empty(), "connecting: nothing sent");
    assert!(t.has(bc, co_fl::WAIT_L4_CONN));
    s.accept();
    t.io(bc);
    assert!(t.has(bc, co_fl::CONNECTED));
    assert_eq!(s.take(), b"GET /x HTTP/1.1\r\nhost: t\r\n\r\n");
    let st = &t.w.streams[sid];
    assert!(st.req.has(cf::HEAD_SENT) && st.req.has(cf::DONE));
    assert_eq!(txs(&t, bc), H1Tx::Done);
}

#[test]
fn a_request_body_follows_its_head() {
    let mut t = T::new(CFG);
    let (fc, sid, bc, s) = with_server(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 6\r\n\r\nabc",
    );
    t.io(bc);
    assert_eq!(
        s.take(),
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 6\r\n\r\nabc"
    );
    assert!(!t.w.streams[sid].req.has(cf::DONE));
    let p = t.w.conns[fc].xprt.local_addr();
    assert!(p.is_some());
    // the rest from the client
    let cp = t.opened.borrow().len();
    assert_eq!(cp, 1);
    t.w.streams[sid].req.buf.extend_from_slice(b"def");
    t.w.streams[sid].req.flags |= cf::EOM;
    t.io(bc);
    assert_eq!(s.take(), b"def");
    assert!(t.w.streams[sid].req.has(cf::DONE));
}

#[test]
fn a_chunked_request_is_sent_chunked() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert!(t.w.streams[sid].req.has(cf::EOM));
    t.io(bc);
    let out = s.take();
    assert!(
        out.ends_with(b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn the_response_head_split_and_its_body() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.take();
    s.send(b"HTTP/1.1 200 OK\r\ncontent-le");
    t.io(bc);
    assert!(t.w.streams[sid].txn.rsp.is_none());
    s.send(b"ngth: 5\r\n\r\nhel");
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.txn.status, 200);
    assert_eq!(st.txn.rsp_body, BodyLen::Len(5));
    assert_eq!(st.res.buf, b"hel");
    assert!(!st.res.has(cf::EOM));
    s.send(b"lo");
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.res.buf, b"hello");
    assert!(st.res.has(cf::EOM));
    assert!(t.strm_woken(sid));
    // a complete exchange: the connection can be kept
    assert!(h1_back_detach(&mut t.w.conns[bc]));
}

#[test]
fn a_close_delimited_response_ends_with_the_servers_close() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\n\r\nabc");
    t.io(bc);
    assert_eq!(t.w.streams[sid].txn.rsp_body, BodyLen::UntilClose);
    assert!(!t.w.streams[sid].res.has(cf::EOM));
    s.send(b"def");
    s.shutw();
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.res.buf, b"abcdef");
    assert!(st.res.has(cf::EOM));
    assert!(
        !h1_back_detach(&mut t.w.conns[bc]),
        "closed by the server: not kept"
    );
}

#[test]
fn a_chunked_response_is_dechunked() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n");
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.res.buf, b"wiki");
    assert!(st.res.has(cf::EOM));
}

#[test]
fn interim_responses_go_to_the_client_and_the_final_one_to_the_stream() {
    let mut t = T::new(CFG);
    let (fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    t.io(bc);
    assert_eq!(t.w.streams[sid].txn.status, 200);
    // all of it in the one run: the final head, then its body
    let st = &t.w.streams[sid];
    assert_eq!(
        (st.res.buf.as_slice(), st.res.has(cf::EOM)),
        (&b"ok"[..], true)
    );
    let interim = t.w.conns[fc].obuf.clone();
    assert_eq!(interim, b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n");
}

#[test]
fn the_response_to_head_has_no_body() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n");
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
    t.io(bc);
    let st = &t.w.streams[sid];
    assert!(st.res.has(cf::EOM), "complete without a body");
    assert!(h1_back_detach(&mut t.w.conns[bc]));
}

#[test]
fn a_bad_response_is_junk() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"garbage\r\n\r\n");
    t.io(bc);
    assert!(t.has(bc, co_fl::ERROR));
    let st = &t.w.streams[sid];
    assert!(st.txn.rsp.is_none());
    assert_ne!(st.txn.flags & tx::RSP_JUNK, 0);
    assert_ne!(st.txn.flags & tx::SRV_CLOSE, 0);
    assert!(t.strm_woken(sid));
}

#[test]
fn a_bad_chunk_in_the_response_is_an_error() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n");
    t.io(bc);
    assert!(t.has(bc, co_fl::ERROR));
    assert_eq!(rx(&t, bc), "Closed");
    assert!(t.strm_woken(sid));
}

#[test]
fn data_before_the_request_is_an_error() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.w.streams[sid].txn.req = None; // nothing to send yet
    s.send(b"HTTP/1.1 200 OK\r\n\r\n");
    t.io(bc);
    assert!(t.has(bc, co_fl::ERROR));
}

#[test]
fn server_close_rules_decide_reuse() {
    // the server asks to close
    let mut t = T::new(CFG);
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    t.io(bc);
    assert!(want_close(&t, bc));
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
    // an HTTP/1.0 server without keep-alive
    let mut t = T::new(CFG);
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
    t.io(bc);
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
    // an unfinished response
    let mut t = T::new(CFG);
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab");
    t.io(bc);
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
    // bytes after the response
    let mut t = T::new(CFG);
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nextra");
    t.io(bc);
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
}

#[test]
fn response_back_pressure_stops_reading_from_the_server() {
    let mut t = T::new(CFG);
    let bufsize = t.w.sh.global.bufsize;
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 3 * bufsize).as_bytes());
    s.send(&vec![b'r'; 3 * bufsize]);
    t.io(bc);
    assert_eq!(t.w.streams[sid].res.buf.len(), bufsize);
    assert!(s.unread() > 0);
    t.w.streams[sid].res.buf.clear();
    t.io(bc);
    assert_eq!(t.w.streams[sid].res.buf.len(), bufsize);
    // exactly full, even with room in the connection's buffer: no read
    t.w.conns[bc].ibuf.clear();
    let reads = s.reads();
    t.io(bc);
    assert_eq!(s.reads(), reads);
}

#[test]
fn an_idle_server_connection_ends_on_any_event() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    t.io(bc);
    assert!(h1_back_detach(&mut t.w.conns[bc]));
    t.w.streams[sid].si[1].conn = None;
    assert_eq!(t.io(bc), H1Outcome::Alive, "idle and quiet");
    s.shutw();
    assert_eq!(t.io(bc), H1Outcome::Release, "the server closed it");
    assert!(matches!(t.w.conns[bc].mux, Mux::H1(ref h) if matches!(h.rx, H1Rx::Idle)));
    // data alone ends it too
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    t.io(bc);
    assert!(h1_back_detach(&mut t.w.conns[bc]));
    t.w.streams[sid].si[1].conn = None;
    s.send(b"junk");
    assert_eq!(t.io(bc), H1Outcome::Release);
}

#[test]
fn a_refused_connect_sends_nothing_and_tells_the_stream() {
    let mut t = T::new(CFG);
    t.plans
        .borrow_mut()
        .push(hrs_core::script::Connect::Refused);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.strm_woken(sid);
    assert_eq!(t.io(bc), H1Outcome::Alive, "the stream decides");
    assert!(t.has(bc, co_fl::ERROR) && !t.has(bc, co_fl::CONNECTED));
    assert!(t.strm_woken(sid));
    assert!(
        !t.w.streams[sid].req.has(cf::HEAD_SENT),
        "nothing formatted"
    );
    assert!(t.w.conns[bc].obuf.is_empty());
    assert!(s.output().is_empty());
    // without a stream, the connection is released
    t.w.conns[bc].strm = None;
    assert_eq!(t.io(bc), H1Outcome::Release);
}

// ---------------------------------------------------------------- the HTTP/2 preface

fn h1_of(t: &mut T, cid: ConnId) -> &mut hrs_core::H1c {
    match &mut t.w.conns[cid].mux {
        Mux::H1(h) => h,
        _ => panic!("not h1"),
    }
}

#[test]
fn the_preface_upgrades_the_first_request_only() {
    const PREFACE: &[u8] = crate::mux_h2::H2_PREFACE;
    // split after its blank line (where an HTTP/1 head would end): it waits for the rest
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(&PREFACE[..18]);
    t.io(cid);
    assert!(p.output().is_empty(), "no answer to half a preface");
    assert_eq!(rx(&t, cid), "Idle");
    p.send(&PREFACE[18..]);
    t.io(cid);
    assert!(matches!(t.w.conns[cid].mux, Mux::H2(_)), "upgraded");
    // cut by the close: an HTTP/1 head truncated, answered 400
    let (cid, p) = t.front();
    p.send(&PREFACE[..10]);
    p.shutw();
    t.io(cid);
    assert!(p.take().starts_with(b"HTTP/1.1 400 "));
    assert!(matches!(t.w.conns[cid].mux, Mux::H1(_)));
    // `bind ... proto h1`: no upgrade
    let (cid, p) = t.front();
    h1_of(&mut t, cid).no_upg = true;
    p.send(PREFACE);
    t.io(cid);
    assert!(matches!(t.w.conns[cid].mux, Mux::H1(_)));
    assert_eq!(
        pri_request(&t, cid),
        "PRI *",
        "an HTTP/1 request, for the stream to judge"
    );
    // after a first request: an HTTP/1 request like another (refused)
    let (cid, p) = t.front();
    p.send(GET);
    t.io(cid);
    let sid = t.strm(cid);
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    t.io(cid);
    assert!(!end_front(&mut t, cid));
    p.take();
    p.send(PREFACE);
    t.io(cid);
    assert!(matches!(t.w.conns[cid].mux, Mux::H1(_)), "not upgraded");
    assert_eq!(pri_request(&t, cid), "PRI *");
}

/// Method and URI of the request of the stream on `cid`.
fn pri_request(t: &T, cid: ConnId) -> String {
    let sid = t.strm(cid);
    let r = t.w.streams[sid].txn.req.as_ref().unwrap();
    format!(
        "{} {}",
        String::from_utf8_lossy(r.method()),
        String::from_utf8_lossy(r.uri())
    )
}

#[test]
fn a_broken_preface_is_400() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\nmore bytes");
    t.io(cid);
    let page = p.take();
    assert!(
        page.starts_with(b"HTTP/1.1 400 "),
        "{:?}",
        String::from_utf8_lossy(&page)
    );
    assert!(matches!(t.w.conns[cid].mux, Mux::H1(_)));
    assert_eq!(t.w.sh.proxies[0].counters.snapshot().failed_req, 1);
}

// ---------------------------------------------------------------- request flags and bodies

#[test]
fn request_flags_reach_the_transaction() {
    let mut t = T::new(CFG);
    let (_cid, _p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    assert_ne!(
        t.w.streams[sid].txn.flags & tx::NO_REUSE,
        0,
        "CL and TE together"
    );
    assert_eq!(t.w.streams[sid].txn.flags & tx::EXPECT_100, 0);
    let (_cid, _p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n",
    );
    let s = &t.w.streams[sid];
    assert_ne!(s.txn.flags & tx::EXPECT_100, 0);
    assert_eq!(s.txn.flags & tx::NO_REUSE, 0);
}

#[test]
fn body_bytes_count_and_wake_the_stream() {
    let mut t = T::new(CFG);
    let head = b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n";
    let (cid, p, sid) = front_with_request(&mut t, head);
    assert_eq!(t.w.streams[sid].req.total, head.len() as u64);
    t.strm_woken(sid);
    t.w.streams[sid].req.flags &= !cf::ACTIVITY;
    p.send(b"3\r\nabc\r\n");
    t.io(cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"abc");
    assert_eq!(
        s.req.total,
        head.len() as u64 + 3,
        "payload bytes, not the framing"
    );
    assert!(s.req.has(cf::ACTIVITY));
    assert!(t.strm_woken(sid));
    // nothing new: not woken, no activity
    t.w.streams[sid].req.flags &= !cf::ACTIVITY;
    t.io(cid);
    assert!(!t.strm_woken(sid));
    assert!(!t.w.streams[sid].req.has(cf::ACTIVITY));
    // the end alone (no payload) wakes it too
    p.send(b"0\r\n\r\n");
    t.io(cid);
    assert!(t.w.streams[sid].req.has(cf::EOM));
    assert!(t.strm_woken(sid));
}

#[test]
fn a_framing_error_answered_by_the_mux_marks_the_response_sent() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    p.send(b"zz\r\n");
    t.io(cid);
    assert!(
        t.w.streams[sid].res.has(cf::HEAD_SENT),
        "the error page was the response"
    );
    assert!(p.take().starts_with(b"HTTP/1.1 400 "));
    // the stream's own response is not sent after it
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
        b"ok",
        true,
    );
    t.io(cid);
    assert!(!p.take().starts_with(b"HTTP/1.1 200"));
}

#[test]
fn the_request_channel_full_stops_reading_exactly_at_bufsize() {
    let mut t = T::new(CFG);
    let bufsize = t.w.sh.global.bufsize;
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 100000\r\n\r\n",
    );
    t.w.streams[sid].req.buf = vec![b'a'; bufsize];
    let reads = p.reads();
    p.send(b"more");
    t.io(cid);
    assert_eq!(p.reads(), reads, "no read while the channel is full");
    t.w.streams[sid].req.buf.truncate(bufsize - 1);
    t.io(cid);
    assert!(p.reads() > reads);
}

#[test]
fn a_client_error_shuts_the_response_side_of_the_stream() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
    );
    t.strm_woken(sid);
    p.reset();
    assert_eq!(t.io(cid), H1Outcome::Alive, "the stream decides");
    assert!(t.has(cid, co_fl::ERROR));
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTW) && s.req.has(cf::SHUTR));
    assert!(t.strm_woken(sid));
}

#[test]
fn a_front_connection_without_session_is_dropped() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    let sess = t.w.conns[cid].owner.unwrap();
    t.w.sessions.remove(sess);
    p.send(GET);
    assert_eq!(t.io(cid), H1Outcome::Release);
    assert!(t.has(cid, co_fl::ERROR));
    assert!(t.w.conns[cid].strm.is_none());
}

// ---------------------------------------------------------------- responses out

#[test]
fn the_response_bytes_are_counted_and_each_step_wakes_the_stream() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n",
        b"ab",
        false,
    );
    t.strm_woken(sid);
    t.io(cid);
    let out = p.take();
    let head_len = out.len() - 2;
    assert!(out.ends_with(b"\r\n\r\nab"));
    let s = &t.w.streams[sid];
    assert_eq!(s.res.total, head_len as u64, "the head as sent");
    assert!(!s.res.has(cf::DONE));
    assert!(t.strm_woken(sid));
    // body only
    t.w.streams[sid].res.buf.extend_from_slice(b"cd");
    t.io(cid);
    assert_eq!(p.take(), b"cd");
    assert!(t.strm_woken(sid), "room in the response channel");
    assert!(!t.w.streams[sid].res.has(cf::DONE));
    t.io(cid);
    assert!(!t.strm_woken(sid), "nothing moved");
    let s = &mut t.w.streams[sid];
    s.res.buf.extend_from_slice(b"ef");
    s.res.flags |= cf::EOM;
    t.io(cid);
    assert_eq!(p.take(), b"ef");
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn a_bodyless_response_is_done_when_the_server_is() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, b"HEAD / HTTP/1.1\r\nhost: t\r\n\r\n");
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n",
        b"",
        false,
    );
    t.io(cid);
    assert_eq!(txs(&t, cid), H1Tx::Done);
    assert!(p.take().ends_with(b"\r\n\r\n"));
    assert!(
        !t.w.streams[sid].res.has(cf::DONE),
        "the server still sends"
    );
    t.w.streams[sid].res.flags |= cf::EOM;
    t.io(cid);
    assert!(t.w.streams[sid].res.has(cf::DONE));
    assert!(p.take().is_empty());
}

#[test]
fn an_early_local_reply_closes_the_client_connection() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
    );
    t.w.streams[sid].txn.flags |= tx::LOCAL_REPLY;
    t.respond(
        sid,
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = String::from_utf8(p.take()).unwrap();
    assert!(
        out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
    assert!(want_close(&t, cid));
    // the same reply once the request is complete keeps the connection
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabc",
    );
    t.w.streams[sid].txn.flags |= tx::LOCAL_REPLY;
    t.respond(
        sid,
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = String::from_utf8(p.take()).unwrap();
    assert!(
        !out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
    assert!(!want_close(&t, cid));
    // a server's early response is not the proxy's: no close announced for it
    let (cid, p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
    );
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = String::from_utf8(p.take()).unwrap();
    assert!(
        !out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
}

#[test]
fn option_httpclose_closes_after_the_response() {
    let mut t = T::new(&CFG.replace("listen px\n", "listen px\n    option httpclose\n"));
    let (cid, p, sid) = front_with_request(&mut t, GET);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    t.io(cid);
    let out = String::from_utf8(p.take()).unwrap();
    assert!(
        out.to_ascii_lowercase().contains("connection: close"),
        "{out}"
    );
    assert!(want_close(&t, cid));
    assert!(end_front(&mut t, cid), "the connection closes");
}

#[test]
fn the_server_closing_or_failing_wakes_the_stream() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    t.strm_woken(sid);
    s.shutw();
    assert_eq!(t.io(bc), H1Outcome::Alive);
    assert!(t.has(bc, co_fl::SOCK_RD_SH));
    assert!(t.strm_woken(sid), "closed before the response");
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    t.strm_woken(sid);
    s.reset();
    t.io(bc);
    assert!(t.has(bc, co_fl::ERROR));
    assert!(t.strm_woken(sid), "failed before the response");
}

// ---------------------------------------------------------------- request out: modes, retries

/// The request head the server received for `req` from a client, with the stream's backend
/// set to proxy `be` of configuration `cfg` (soft-stopping if `stopping`).
fn request_out(cfg: &str, be: usize, stopping: bool, req: &[u8]) -> String {
    let mut t = T::new(cfg);
    let (_fc, _p, sid) = front_with_request(&mut t, req);
    t.w.streams[sid].be = be;
    let (bc, s) = t.back(sid);
    if stopping {
        t.ev.soft_stop();
    }
    t.io(bc);
    String::from_utf8(s.take()).unwrap().to_ascii_lowercase()
}

#[test]
fn the_close_modes_of_frontend_and_backend_reach_the_request() {
    let two = |fe_opt: &str, be_opt: &str| {
        format!(
            "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    \
             timeout connect 5s\nfrontend fe\n    bind 127.0.0.1:8080\n{fe_opt}    \
             default_backend be\nbackend be\n{be_opt}    server s1 10.0.0.1:80\n"
        )
    };
    let none = two("", "");
    assert!(!request_out(&none, 1, false, GET).contains("connection: close"));
    let fe = two("    option http-server-close\n", "");
    assert!(
        request_out(&fe, 1, false, GET).contains("connection: close"),
        "frontend"
    );
    let be = two("", "    option httpclose\n");
    assert!(
        request_out(&be, 1, false, GET).contains("connection: close"),
        "backend"
    );
    assert!(
        request_out(&none, 1, true, GET).contains("connection: close"),
        "soft stop"
    );
}

#[test]
fn an_l7_retry_keeps_the_request_when_it_fits_one_buffer() {
    let mut t = T::new(CFG);
    let bufsize = t.w.sh.global.bufsize;
    let req = b"POST /r HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabc";
    // without L7 retries nothing is kept
    let (_fc, _p, sid) = front_with_request(&mut t, req);
    let (bc, _s) = t.back(sid);
    t.io(bc);
    assert!(t.w.streams[sid].txn.l7_buffer.is_none());
    let (_fc, _p, sid) = front_with_request(&mut t, req);
    t.w.streams[sid].txn.flags |= tx::L7_RETRY;
    let (bc, _s) = t.back(sid);
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_ne!(st.txn.flags & tx::L7_RETRY, 0);
    let kept = st.txn.l7_buffer.as_ref().expect("kept for a retry");
    assert_eq!(kept.head.uri(), b"/r");
    assert_eq!(kept.body, b"abc");
    // not complete at its first send: no retry
    let (_fc, _p, sid) = front_with_request(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 10\r\n\r\nabc",
    );
    t.w.streams[sid].txn.flags |= tx::L7_RETRY;
    let (bc, _s) = t.back(sid);
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.txn.flags & tx::L7_RETRY, 0);
    assert!(st.txn.l7_buffer.is_none());
    // complete but larger than a buffer with its head: no retry
    let head = format!("POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {bufsize}\r\n\r\n");
    let (fc, p) = t.front();
    p.send(head.as_bytes());
    t.io(fc);
    let sid = t.strm(fc);
    let st = &mut t.w.streams[sid];
    st.req.buf = vec![b'x'; bufsize];
    st.req.flags |= cf::EOM;
    st.txn.flags |= tx::L7_RETRY;
    let (bc, _s) = t.back(sid);
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.txn.flags & tx::L7_RETRY, 0);
    assert!(st.txn.l7_buffer.is_none());
    // exactly one buffer: kept
    let body_len = bufsize - 60;
    let head = format!("POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {body_len}\r\n\r\n");
    let (fc, p) = t.front();
    p.send(head.as_bytes());
    t.io(fc);
    let sid = t.strm(fc);
    let wire = t.w.streams[sid].txn.req.as_ref().unwrap().wire_len();
    let st = &mut t.w.streams[sid];
    st.req.buf = vec![b'x'; bufsize - wire];
    st.req.flags |= cf::EOM;
    st.txn.flags |= tx::L7_RETRY;
    let (bc, _s) = t.back(sid);
    t.io(bc);
    assert!(
        t.w.streams[sid].txn.l7_buffer.is_some(),
        "head + body == bufsize fits"
    );
}

#[test]
fn response_body_bytes_count_and_wake_both_sides() {
    let mut t = T::new(CFG);
    let (fc, sid, bc, s) = with_server(
        &mut t,
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\n\r\nab",
    );
    t.strm_woken(sid);
    assert!(!t.ev.is_queued(t.w.conns[fc].task));
    t.io(bc);
    assert_eq!(
        s.take(),
        b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\n\r\nab"
    );
    assert!(
        t.ev.is_queued(t.w.conns[fc].task),
        "the request channel drained"
    );
    t.strm_woken(sid);
    // nothing drained: the client side is not woken
    t.io(bc);
    assert!(!t.ev.is_queued(t.w.conns[fc].task));
    t.w.streams[sid].req.buf.extend_from_slice(b"cd");
    t.w.streams[sid].req.flags |= cf::EOM;
    t.io(bc);
    assert_eq!(s.take(), b"cd");
    assert!(t.w.streams[sid].req.has(cf::DONE));
    t.strm_woken(sid);
    let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    s.send(head);
    t.io(bc);
    let total = t.w.streams[sid].res.total;
    t.strm_woken(sid);
    t.w.streams[sid].res.flags &= !cf::ACTIVITY;
    s.send(b"3\r\nxyz\r\n");
    t.io(bc);
    let st = &t.w.streams[sid];
    assert_eq!(st.res.buf, b"xyz");
    assert_eq!(st.res.total, total + 3, "payload bytes");
    assert!(st.res.has(cf::ACTIVITY));
    assert!(
        t.ev.is_queued(t.w.conns[fc].task),
        "the client side may send"
    );
    assert!(t.strm_woken(sid));
    t.w.streams[sid].res.flags &= !cf::ACTIVITY;
    t.io(bc);
    assert!(!t.ev.is_queued(t.w.conns[fc].task), "nothing new");
    assert!(!t.strm_woken(sid));
    assert!(!t.w.streams[sid].res.has(cf::ACTIVITY));
    s.send(b"0\r\n\r\n");
    t.io(bc);
    assert!(t.w.streams[sid].res.has(cf::EOM));
    assert!(t.strm_woken(sid), "the end alone");
}

#[test]
fn a_request_is_done_only_with_its_end() {
    let mut t = T::new(CFG);
    // an empty body whose end has not arrived (an HTTP/2 client announcing content-length 0
    // before its END_STREAM)
    let (fc, p) = t.front();
    p.send(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n");
    t.io(fc);
    let sid = t.strm(fc);
    t.w.streams[sid].req.flags &= !cf::EOM;
    let (bc, _s) = t.back(sid);
    t.io(bc);
    assert_eq!(txs(&t, bc), H1Tx::Done);
    assert!(!t.w.streams[sid].req.has(cf::DONE));
    t.w.streams[sid].req.flags |= cf::EOM;
    t.io(bc);
    assert!(t.w.streams[sid].req.has(cf::DONE));
}

#[test]
fn requests_sent_on_a_server_connection_are_counted() {
    let mut t = T::new(CFG);
    let (_fc, sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    assert_eq!(h1_of(&mut t, bc).req_count, 1);
    s.send(b"HTTP/1.1 204 No Content\r\n\r\n");
    t.io(bc);
    assert!(h1_back_detach(&mut t.w.conns[bc]));
    t.w.streams[sid].si[1].conn = None;
    let (_fc2, _p2, sid2) = front_with_request(&mut t, GET);
    t.w.conns[bc].attach_strm(sid2);
    t.w.streams[sid2].si[1].conn = Some(bc);
    t.io(bc);
    assert_eq!(h1_of(&mut t, bc).req_count, 2, "a reused connection");
}

#[test]
fn a_client_that_shut_its_side_is_closed_after_the_exchange() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(GET);
    p.shutw();
    t.io(cid);
    let sid = t.strm(cid);
    assert!(t.has(cid, co_fl::SOCK_RD_SH) && !t.has(cid, co_fl::ERROR));
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    t.io(cid);
    assert!(end_front(&mut t, cid), "nothing more can come");
    assert!(t.closing(cid));
}

#[test]
fn a_server_connection_closed_or_failed_is_not_kept() {
    let mut t = T::new(CFG);
    // the response complete, with the server's close in the same read
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    s.shutw();
    t.io(bc);
    assert!(t.has(bc, co_fl::SOCK_RD_SH));
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
    // complete, then a failure
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    t.io(bc);
    t.w.conns[bc].flags |= co_fl::ERROR;
    assert!(!h1_back_detach(&mut t.w.conns[bc]));
    // the same exchange without either is kept
    let (_fc, _sid, bc, s) = with_server(&mut t, GET);
    t.io(bc);
    s.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    t.io(bc);
    assert!(h1_back_detach(&mut t.w.conns[bc]));
}

#[test]
fn the_response_head_is_counted_alone_behind_pending_output() {
    let mut t = T::new(CFG);
    let (cid, p, sid) = front_with_request(&mut t, GET);
    // an interim response still waiting for the client to read
    let interim = b"HTTP/1.1 103 Early Hints\r\n\r\n";
    t.w.conns[cid].obuf.extend_from_slice(interim);
    p.set_write_room(Some(0));
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    t.io(cid);
    let head_len = t.w.conns[cid].obuf.len() - interim.len();
    assert_eq!(t.w.streams[sid].res.total, head_len as u64);
    p.set_write_room(None);
    t.io(cid);
    let out = p.take();
    assert!(out.starts_with(interim));
    assert_eq!(out.len(), interim.len() + head_len);
}

#[test]
fn room_found_by_a_send_is_filled_in_the_same_run() {
    let mut t = T::new(CFG);
    let bufsize = t.w.sh.global.bufsize;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n",
        3 * bufsize
    );
    let (_fc, sid, bc, s) = with_server(&mut t, head.as_bytes());
    t.io(bc);
    assert_eq!(s.take(), head.as_bytes());
    // the server stops reading: a buffer of body waits in the connection
    s.set_write_room(Some(0));
    t.w.streams[sid].req.buf = vec![b'a'; bufsize];
    t.io(bc);
    assert_eq!(t.w.conns[bc].out_pending(), bufsize);
    // the client side fills the channel again, then the server reads
    t.w.streams[sid].req.buf = vec![b'b'; bufsize];
    s.set_write_room(None);
    t.io(bc);
    let out = s.take();
    assert_eq!(out.len(), 2 * bufsize, "both buffers in one run");
    assert!(t.w.streams[sid].req.buf.is_empty());
}

#[test]
fn a_pipelined_request_and_its_body_are_taken_in_one_run() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"GET /1 HTTP/1.1\r\nhost: t\r\n\r\nPOST /2 HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabc");
    t.io(cid);
    let sid = t.strm(cid);
    assert_eq!(path(&t, sid), "/1");
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    t.io(cid);
    assert!(!end_front(&mut t, cid));
    // no new bytes: the waiting request, then its body, in the same run
    t.io(cid);
    let sid = t.strm(cid);
    assert_eq!(path(&t, sid), "/2");
    let s = &t.w.streams[sid];
    assert_eq!(
        (s.req.buf.as_slice(), s.req.has(cf::EOM)),
        (&b"abc"[..], true)
    );
}
