//! The HTTP/2 mux with raw frames: what the mux decides on top of the `h2` crate. Front:
//! a request stream becomes a stream of ours (head conversion, framing, flags), request
//! bodies and trailers flow in, responses go out (forbidden fields dropped, bodyless
//! responses end on HEADERS, flow control), resets and malformed requests, detach, GOAWAY
//! (received, and `h2_shutdown`), and the end of the connection. Back: the request goes out
//! once connected, the response comes back into the stream, the server's stream limit,
//! resets, GOAWAY, failed connects, detach and `h2_usable`.

use super::h2kit::{self as k, io2, Wire};
use super::h2wire as hw;
use super::kit::{CFG, T};
use crate::mux_h2::{h2_back_detach, h2_front_detach, h2_shutdown, h2_usable, H2Outcome};
use hrs_core::h2::{h2c_fl, h2s_fl, H2State};
use hrs_core::script::Connect;
use hrs_core::{cf, co_fl, tx, ConnId, StrmId};
use hrs_http::msg::{BodyLen, Meth};

/// The one stream of ours on front connection `cid`.
fn only(t: &T, cid: ConnId) -> StrmId {
    let s = k::strms(t, cid);
    assert_eq!(s.len(), 1, "one stream attached");
    s[0]
}

/// The fields of our request head, in order.
fn req_fields(t: &T, sid: StrmId) -> Vec<(String, String)> {
    let h = t.w.streams[sid].txn.req.as_ref().expect("a request head");
    h.headers()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn pairs(l: &[(&str, &str)]) -> Vec<(String, String)> {
    l.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Front side.

#[test]
fn a_request_becomes_a_stream_and_its_response_goes_back() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    assert_eq!(k::h2c(&t, cid).nb_created, 0);
    wire.send(&k::request(
        1,
        true,
        "GET",
        "/p?q=1",
        "a.example",
        &[("user-agent", "t"), ("host", "b.example")],
    ));
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    let sid = only(&t, cid);
    assert!(t.strm_woken(sid), "the new stream is woken");
    assert_eq!(k::h2c(&t, cid).nb_created, 1);
    assert_eq!(
        t.w.conns[cid].strm, None,
        "HTTP/2 streams are in the mux's list"
    );
    let s = &t.w.streams[sid];
    let h = s.txn.req.as_ref().unwrap();
    assert_eq!(h.method(), b"GET");
    assert_eq!(h.uri(), b"http://a.example/p?q=1");
    assert_eq!(s.txn.meth, Meth::Get);
    assert_eq!(
        req_fields(&t, sid),
        pairs(&[("host", "a.example"), ("user-agent", "t")])
    );
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::EOM), "END_STREAM on HEADERS: no body");
    assert_eq!(s.txn.req_body, BodyLen::None);
    assert!(
        s.txn.flags & tx::NOT_FIRST != 0,
        "every HTTP/2 request is a later one"
    );
    assert!(!s.txn.http10 && s.txn.req_flags.ver11);
    assert!(s.req.total > 0, "the head counts in the request bytes");
    assert_eq!(s.si[0].conn, Some(cid));
    let e = &k::h2c(&t, cid).streams[0];
    assert_eq!(e.id, 1);
    assert!(e.has(h2s_fl::RX_DONE));
    // no response yet: nothing goes out, and nothing new wakes nobody
    t.w.streams[sid].txn.rsp = None;
    io2(&mut t, cid);
    assert!(k::of_type(&wire.frames(), hw::HEADERS).is_empty());
    assert!(!t.strm_woken(sid));
    // a response whose rules have not run yet does not go out either
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
        b"",
        false,
    );
    t.w.streams[sid].phase = hrs_core::StrmPhase::RspRules;
    io2(&mut t, cid);
    assert!(k::of_type(&wire.frames(), hw::HEADERS).is_empty());
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
        b"hello",
        true,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0].stream, 1);
    assert_eq!(hs[0].flags & hw::END_STREAM, 0);
    assert_eq!(
        k::fields(hs[0]),
        pairs(&[(":status", "200"), ("content-length", "5"), ("x-a", "1")]),
        "connection-specific fields dropped"
    );
    assert_eq!(k::body_of(&fs, 1), (b"hello".to_vec(), true));
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::HEAD_SENT) && s.res.has(cf::DONE));
    assert!(s.res.buf.is_empty());
    assert!(
        s.res.total >= 5 + 20,
        "head and body counted: {}",
        s.res.total
    );
    let e = &k::h2c(&t, cid).streams[0];
    assert!(e.has(h2s_fl::HEAD_SENT | h2s_fl::TX_DONE));
    // the stream ends: its entry goes, the connection stays
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert!(k::h2c(&t, cid).streams.is_empty());
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    assert!(
        k::of_type(&wire.frames(), hw::RST_STREAM).is_empty(),
        "no reset"
    );
}

#[test]
fn a_request_body_flows_in_with_its_trailers() {
    let mut t = T::new(CFG);
    let (cid, wire) = k::front(&mut t, &[]);
    wire.send(&k::request(
        1,
        false,
        "POST",
        "/up",
        "a",
        &[("content-length", "8"), ("expect", "100-continue")],
    ));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.txn.req_body, BodyLen::Len(8));
    assert!(s.txn.req_flags.has_cl && s.txn.req_flags.expect_100);
    assert!(s.txn.flags & tx::EXPECT_100 != 0);
    assert!(!s.req.has(cf::EOM));
    let head_bytes = s.req.total;
    wire.send(&hw::data(1, 0, b"abcd"));
    io2(&mut t, cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"abcd");
    assert_eq!(s.req.total, head_bytes + 4);
    assert!(s.req.has(cf::ACTIVITY) && !s.req.has(cf::EOM));
    wire.send(&hw::data(1, 0, b"efgh"));
    wire.send(&k::headers(1, hw::END_STREAM, &[("x-sum", "7")]));
    io2(&mut t, cid);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"abcdefgh");
    assert!(s.req.has(cf::EOM));
    assert_eq!(
        s.req.trailers,
        Some(vec![(b"x-sum".to_vec(), b"7".to_vec())])
    );
    assert!(k::h2c(&t, cid).streams[0].has(h2s_fl::RX_DONE));
    // a body without content-length has an unknown length (chunked to HTTP/1 servers)
    wire.send(&k::request(3, false, "POST", "/u", "a", &[]));
    io2(&mut t, cid);
    let s2 = k::strms(&t, cid)[1];
    assert_eq!(t.w.streams[s2].txn.req_body, BodyLen::Chunked);
    assert!(!t.w.streams[s2].txn.req_flags.has_cl);
    wire.send(&hw::data(3, hw::END_STREAM, b"z"));
    io2(&mut t, cid);
    let s = &t.w.streams[s2];
    assert_eq!(
        (s.req.buf.as_slice(), s.req.has(cf::EOM)),
        (&b"z"[..], true)
    );
    assert_eq!(s.req.trailers, None);
}

#[test]
fn the_request_body_stops_at_bufsize_and_the_window_reopens_as_it_drains() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    let bufsize = t.w.sh.global.bufsize;
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    wire.frames();
    // more than a buffer, in frames of 4 kB
    let chunk = vec![b'x'; 4096];
    let n = bufsize / 4096 + 3;
    for _ in 0..n {
        wire.send(&hw::data(1, 0, &chunk));
    }
    io2(&mut t, cid);
    let got = t.w.streams[sid].req.buf.len();
    assert!(
        got >= bufsize && got < bufsize + 4096,
        "{got} for {bufsize}"
    );
    // the stream drains its channel: the rest comes in, the window is given back
    t.w.streams[sid].req.buf.clear();
    io2(&mut t, cid);
    assert_eq!(t.w.streams[sid].req.buf.len(), n * 4096 - got);
    let fs = wire.frames();
    let credit: u32 = k::of_type(&fs, hw::WINDOW_UPDATE)
        .iter()
        .filter(|f| f.stream == 0)
        .map(|f| f.window_increment().unwrap())
        .sum();
    assert!(
        credit as usize >= got,
        "the client's window reopens: {credit}"
    );
}

#[test]
fn bodyless_responses_end_on_headers() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // HEAD: the server's body is dropped
    wire.send(&k::request(1, true, "HEAD", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    assert_eq!(t.w.streams[sid].txn.meth, Meth::Head);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
        b"abc",
        false,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1);
    assert_ne!(hs[0].flags & hw::END_STREAM, 0, "END_STREAM on HEADERS");
    assert!(k::of_type(&fs, hw::DATA).is_empty());
    let s = &t.w.streams[sid];
    assert!(s.res.buf.is_empty(), "the body is dropped");
    assert!(!s.res.has(cf::DONE), "not done before the server is");
    // the rest of the server's body is dropped too, then the end is taken
    t.w.streams[sid].res.buf.extend_from_slice(b"more");
    t.w.streams[sid].res.flags |= cf::EOM;
    io2(&mut t, cid);
    let s = &t.w.streams[sid];
    assert!(s.res.buf.is_empty() && s.res.has(cf::DONE));
    assert!(k::of_type(&wire.frames(), hw::DATA).is_empty());
    // 204 and 304 too
    for (id, st) in [(3u32, "204 No Content"), (5, "304 Not Modified")] {
        wire.send(&k::request(id, true, "GET", "/", "a", &[]));
        io2(&mut t, cid);
        let sid = *k::strms(&t, cid).last().unwrap();
        let head = format!("HTTP/1.1 {st}\r\n\r\n");
        // the server not done yet: the status alone ends the stream
        t.respond(sid, head.as_bytes(), b"", false);
        io2(&mut t, cid);
        let fs = wire.frames();
        let hs = k::of_type(&fs, hw::HEADERS);
        assert_eq!(hs.len(), 1, "{st}");
        assert_ne!(hs[0].flags & hw::END_STREAM, 0, "{st}");
        assert!(!t.w.streams[sid].res.has(cf::DONE), "{st}");
        t.w.streams[sid].res.flags |= cf::EOM;
        io2(&mut t, cid);
        assert!(t.w.streams[sid].res.has(cf::DONE), "{st}");
        // nothing more is sent for it, and it stays sound
        io2(&mut t, cid);
        assert!(wire.frames().is_empty(), "{st}");
        assert!(!t.w.streams[sid].res.has(cf::SHUTW), "{st}");
    }
    // a complete bodyless response stays sound too
    wire.send(&k::request(9, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = *k::strms(&t, cid).last().unwrap();
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    io2(&mut t, cid);
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::of_type(&fs, hw::HEADERS).len(), 1);
    assert!(k::of_type(&fs, hw::RST_STREAM).is_empty());
    assert!(
        k::of_type(&fs, hw::DATA).is_empty(),
        "nothing after END_STREAM"
    );
    assert!(!t.w.streams[sid].res.has(cf::SHUTW));
    // an empty body ends on HEADERS as well, without a DATA frame
    wire.send(&k::request(11, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = *k::strms(&t, cid).last().unwrap();
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"",
        true,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_ne!(k::of_type(&fs, hw::HEADERS)[0].flags & hw::END_STREAM, 0);
    assert!(k::of_type(&fs, hw::DATA).is_empty());
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn a_response_body_in_pieces_then_trailers() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"ab",
        false,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(k::fields(hs[0]), pairs(&[(":status", "200")]));
    assert_eq!(k::body_of(&fs, 1), (b"ab".to_vec(), false));
    assert!(t.w.streams[sid].res.buf.is_empty());
    assert!(t.w.streams[sid].res.has(cf::ACTIVITY));
    // the end with trailers: a HEADERS frame ends the stream
    let s = &mut t.w.streams[sid];
    s.res.buf.extend_from_slice(b"cd");
    s.res.trailers = Some(vec![(b"x-t".to_vec(), b"1".to_vec())]);
    s.res.flags |= cf::EOM;
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"cd".to_vec(), false));
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1);
    assert_ne!(hs[0].flags & hw::END_STREAM, 0);
    assert_eq!(k::fields(hs[0]), pairs(&[("x-t", "1")]));
    assert!(t.w.streams[sid].res.has(cf::DONE));
    // the end without trailers after the body: an empty END_STREAM DATA
    wire.send(&k::request(3, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = *k::strms(&t, cid).last().unwrap();
    t.respond(sid, b"HTTP/1.1 200 OK\r\n\r\n", b"xy", false);
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 3), (b"xy".to_vec(), false));
    t.w.streams[sid].res.flags |= cf::EOM;
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 3), (Vec::new(), true));
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn the_response_body_waits_for_the_clients_window() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[(hw::SETTINGS_INITIAL_WINDOW_SIZE, 3)]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n",
        b"abcdefgh",
        true,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"abc".to_vec(), false));
    assert_eq!(t.w.streams[sid].res.buf, b"defgh", "the rest waits");
    assert!(!t.w.streams[sid].res.has(cf::DONE));
    wire.send(&hw::window_update(1, 100));
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"defgh".to_vec(), true));
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn a_client_reset_fails_the_stream() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // before the response: the request side is shut
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.strm_woken(sid);
    wire.send(&hw::rst_stream(1, hw::CANCEL));
    io2(&mut t, cid);
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR) && s.res.has(cf::SHUTW));
    assert!(t.strm_woken(sid));
    assert!(k::h2c(&t, cid).streams[0].has(h2s_fl::RST));
    // detaching a reset stream sends nothing more
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert!(k::h2c(&t, cid).streams.is_empty());
    io2(&mut t, cid);
    assert!(k::of_type(&wire.frames(), hw::RST_STREAM).is_empty());
    // while the response body is sent
    wire.send(&k::request(3, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
        b"abc",
        false,
    );
    io2(&mut t, cid);
    wire.frames();
    wire.send(&hw::rst_stream(3, hw::CANCEL));
    io2(&mut t, cid);
    t.w.streams[sid].res.buf.extend_from_slice(b"def");
    io2(&mut t, cid);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTW), "the response side is shut");
    assert!(
        s.req.has(cf::EOM) && !s.req.has(cf::SHUTR),
        "the request was complete"
    );
    assert!(k::of_type(&wire.frames(), hw::DATA).is_empty());
}

#[test]
fn detaching_an_unfinished_stream_cancels_it() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // before the response head
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    h2_front_detach(&mut t.w.conns[cid], sid);
    io2(&mut t, cid);
    let fs = wire.frames();
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1);
    assert_eq!((rs[0].stream, rs[0].error_code()), (1, Some(hw::CANCEL)));
    // during the response body
    wire.send(&k::request(3, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
        b"abc",
        false,
    );
    io2(&mut t, cid);
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert!(k::h2c(&t, cid).streams.is_empty());
    io2(&mut t, cid);
    let fs = wire.frames();
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1);
    assert_eq!((rs[0].stream, rs[0].error_code()), (3, Some(hw::CANCEL)));
    // the connection stays
    assert!(k::of_type(&fs, hw::GOAWAY).is_empty());
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
}

#[test]
fn malformed_requests_are_refused() {
    let mut t = T::new(CFG);
    // two equal values are one
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(
        1,
        false,
        "POST",
        "/",
        "a",
        &[("content-length", "2"), ("content-length", "2")],
    ));
    io2(&mut t, cid);
    assert_eq!(k::strms(&t, cid).len(), 1);
    assert!(k::of_type(&wire.frames(), hw::RST_STREAM).is_empty());
    // CONNECT without :authority: the stream alone is refused
    wire.send(&k::headers(3, 0, &[(":method", "CONNECT")]));
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::strms(&t, cid).len(), 1, "no new stream");
    assert_eq!(t.w.streams.len(), 1);
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1, "{fs:?}");
    assert_eq!(
        (rs[0].stream, rs[0].error_code()),
        (3, Some(hw::PROTOCOL_ERROR))
    );
    assert!(k::of_type(&fs, hw::GOAWAY).is_empty());
    // CONNECT with one is a tunnel request whose URI is the authority
    wire.send(&k::headers(
        5,
        0,
        &[(":method", "CONNECT"), (":authority", "b.example:443")],
    ));
    io2(&mut t, cid);
    let sid = *k::strms(&t, cid).last().unwrap();
    let h = t.w.streams[sid].txn.req.as_ref().unwrap();
    assert_eq!(
        (h.method(), h.uri()),
        (&b"CONNECT"[..], &b"b.example:443"[..])
    );
}

#[test]
fn a_client_goaway_ends_the_connection_once_its_streams_are_gone() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
        b"ok",
        true,
    );
    io2(&mut t, cid);
    wire.frames();
    wire.send(&hw::goaway(1, hw::NO_ERROR, b""));
    wire.peer.shutw();
    assert_eq!(
        io2(&mut t, cid),
        H2Outcome::Alive,
        "a stream is still attached"
    );
    assert!(k::h2c(&t, cid).flags & (h2c_fl::DONE | h2c_fl::ERROR) != 0);
    assert!(t.w.streams[sid].res.has(cf::SHUTW), "the stream learns it");
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
}

#[test]
fn a_client_closing_mid_request_fails_the_stream() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.strm_woken(sid);
    wire.peer.shutw();
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR) && s.res.has(cf::SHUTW));
    assert!(t.strm_woken(sid));
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
    let _ = wire.frames();
}

#[test]
fn shutdown_of_an_idle_connection_sends_goaway_and_releases_it() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(sid, b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    io2(&mut t, cid);
    h2_front_detach(&mut t.w.conns[cid], sid);
    wire.frames();
    assert!(h2_shutdown(&mut t.w, &mut t.ev, cid));
    assert!(!h2_shutdown(&mut t.w, &mut t.ev, cid), "once");
    assert_ne!(k::h2c(&t, cid).flags & h2c_fl::GOAWAY_SENT, 0);
    assert_eq!(k::h2c(&t, cid).avail_streams(), 0);
    let out = io2(&mut t, cid);
    let fs = wire.frames();
    let ga = k::of_type(&fs, hw::GOAWAY);
    assert_eq!(ga.len(), 1);
    assert_eq!(ga[0].error_code(), Some(hw::NO_ERROR));
    assert_eq!(
        ga[0].goaway_last_stream(),
        Some(1),
        "the last stream processed"
    );
    assert_eq!(out, H2Outcome::Release);
    // not an HTTP/2 connection, or gone: nothing to do
    let (h1, _p) = t.front();
    assert!(!h2_shutdown(&mut t.w, &mut t.ev, h1));
    crate::conn_free(&mut t.w, &mut t.ev, cid).unwrap();
    assert!(!h2_shutdown(&mut t.w, &mut t.ev, cid));
}

#[test]
fn shutdown_with_a_stream_in_flight_is_graceful() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    assert!(h2_shutdown(&mut t.w, &mut t.ev, cid));
    io2(&mut t, cid);
    let fs = wire.frames();
    let ga = k::of_type(&fs, hw::GOAWAY);
    assert_eq!(ga.len(), 1);
    assert_eq!(ga[0].error_code(), Some(hw::NO_ERROR));
    assert_eq!(
        ga[0].goaway_last_stream(),
        Some(0x7fff_ffff),
        "streams may finish"
    );
    // the stream in flight finishes
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
        b"ok",
        true,
    );
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"ok".to_vec(), true));
}

#[test]
fn soft_stop_shuts_even_an_idle_connection_gracefully() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    t.ev.soft_stop();
    io2(&mut t, cid);
    assert_ne!(k::h2c(&t, cid).flags & h2c_fl::GOAWAY_SENT, 0);
    let fs = wire.frames();
    let ga = k::of_type(&fs, hw::GOAWAY);
    assert_eq!(ga.len(), 1);
    assert_eq!(ga[0].goaway_last_stream(), Some(0x7fff_ffff));
}

#[test]
fn shutdown_before_the_handshake_closes_at_once() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(crate::mux_h2::H2_PREFACE);
    t.io(cid);
    assert!(matches!(k::h2c(&t, cid).state, H2State::SrvHandshake(_)));
    assert!(h2_shutdown(&mut t.w, &mut t.ev, cid));
    assert!(matches!(k::h2c(&t, cid).state, H2State::Closed));
    assert_ne!(k::h2c(&t, cid).flags & h2c_fl::DONE, 0);
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
}

#[test]
fn on_a_proto_h2_bind_a_bad_preface_ends_the_connection() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    // `bind ... proto h2`: the mux is installed at accept
    crate::mux_h2::h2_init_front(&mut t.w, &mut t.ev, cid);
    assert!(matches!(k::h2c(&t, cid).state, H2State::SrvHandshake(_)));
    assert!(
        t.ev.is_queued(t.w.conns[cid].task),
        "woken to send its SETTINGS"
    );
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive, "waits for the preface");
    p.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
    assert!(matches!(k::h2c(&t, cid).state, H2State::Closed));
    assert_eq!(t.w.streams.len(), 0);
}

#[test]
fn a_client_leaving_after_the_preface_releases_the_connection() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(crate::mux_h2::H2_PREFACE);
    t.io(cid);
    p.shutw();
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
}

#[test]
fn a_protocol_error_is_a_connection_error() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    // DATA on stream 0 is a connection error (PROTOCOL_ERROR)
    wire.send(&hw::data(0, 0, b"x"));
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    assert_ne!(k::h2c(&t, cid).flags & (h2c_fl::ERROR | h2c_fl::DONE), 0);
    assert!(matches!(k::h2c(&t, cid).state, H2State::Closed));
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR) && s.res.has(cf::SHUTW));
    let fs = wire.frames();
    assert_eq!(
        k::of_type(&fs, hw::GOAWAY)[0].error_code(),
        Some(hw::PROTOCOL_ERROR)
    );
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
}

// ---------------------------------------------------------------------------------------
// Back side.

/// [`back_with`] for a stream that asked for L7 retries.
fn back_with_l7(
    t: &mut T,
    req: &[u8],
    settings: &[(u16, u32)],
) -> (StrmId, ConnId, Wire, Vec<hw::Frame>) {
    let (_fc, _fp, sid) = k::h1_stream(t, req);
    t.w.streams[sid].txn.flags |= tx::L7_RETRY;
    let (bc, mut wire) = k::back(t, -1);
    k::attach(t, bc, sid);
    wire.send(&hw::settings(settings));
    wire.send(&hw::settings_ack());
    io2(t, bc);
    wire.expect_preface();
    let fs = wire.frames();
    io2(t, bc);
    (sid, bc, wire, fs)
}

/// A stream from an HTTP/1 client with request `req`, attached to a new HTTP/2 server
/// connection whose handshake is done (the server's SETTINGS `settings` sent and ours
/// acknowledged). Returns the stream, the server connection and the server's end, with the
/// frames the proxy sent after its preface.
fn back_with(
    t: &mut T,
    req: &[u8],
    settings: &[(u16, u32)],
) -> (StrmId, ConnId, Wire, Vec<hw::Frame>) {
    let (_fc, _fp, sid) = k::h1_stream(t, req);
    let (bc, mut wire) = k::back(t, -1);
    k::attach(t, bc, sid);
    wire.send(&hw::settings(settings));
    wire.send(&hw::settings_ack());
    io2(t, bc);
    wire.expect_preface();
    let fs = wire.frames();
    io2(t, bc);
    (sid, bc, wire, fs)
}

#[test]
fn the_request_goes_out_as_http2_and_the_response_comes_back() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, fs) = back_with_l7(
        &mut t,
        b"POST /p?x HTTP/1.1\r\nHost: srv.example\r\nConnection: keep-alive\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody",
        &[],
    );
    assert!(t.has(bc, co_fl::CONNECTED));
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1, "{fs:?}");
    assert_eq!(hs[0].stream, 1);
    let f = k::fields(hs[0]);
    assert_eq!(
        f,
        pairs(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "srv.example"),
            (":path", "/p?x"),
            ("x-a", "1"),
            ("content-length", "4"),
        ])
    );
    assert_eq!(k::body_of(&fs, 1), (b"body".to_vec(), true));
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::HEAD_SENT) && s.req.has(cf::DONE));
    assert!(s.req.buf.is_empty());
    assert_eq!(
        s.txn.flags & tx::L7_RETRY,
        0,
        "no L7 retry towards HTTP/2 servers"
    );
    assert!(
        !s.res.has(cf::SHUTR) && s.txn.flags & tx::SRV_CLOSE == 0,
        "all went well"
    );
    let e = &k::h2c(&t, bc).streams[0];
    assert_eq!(e.id, 1);
    assert!(e.has(h2s_fl::HEAD_SENT | h2s_fl::TX_DONE));
    assert_eq!(k::h2c(&t, bc).nb_created, 1);
    t.strm_woken(sid);
    // the response
    wire.send(&k::headers(
        1,
        0,
        &[(":status", "200"), ("content-length", "5")],
    ));
    wire.send(&hw::data(1, 0, b"hel"));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!(s.txn.status, 200);
    assert_eq!(s.txn.rsp_body, BodyLen::Len(5));
    assert!(s.txn.rsp_flags.has_cl);
    let rsp = s.txn.rsp.as_ref().expect("the response head");
    assert_eq!(rsp.first(b"content-length"), Some(&b"5"[..]));
    assert_eq!(s.res.buf, b"hel");
    assert!(!s.res.has(cf::EOM));
    assert!(s.res.has(cf::ACTIVITY));
    assert_eq!(s.res.total, 3, "payload bytes");
    assert!(t.strm_woken(sid));
    wire.send(&hw::data(1, hw::END_STREAM, b"lo"));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!(s.res.buf, b"hello");
    assert!(s.res.has(cf::EOM));
    assert_eq!(s.res.total, 5);
    let e = &k::h2c(&t, bc).streams[0];
    assert!(e.has(h2s_fl::RSP_HEAD | h2s_fl::RX_DONE));
    // a complete exchange detaches without a reset and the connection stays usable
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 0);
    io2(&mut t, bc);
    assert!(k::of_type(&wire.frames(), hw::RST_STREAM).is_empty());
    assert!(h2_usable(&t.w.conns[bc]));
    assert_eq!(
        t.w.conns[bc].avail_streams(),
        100,
        "our own limit: it announced none"
    );
}

#[test]
fn a_response_without_length_then_trailers() {
    let mut t = T::new(CFG);
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    wire.send(&k::headers(1, 0, &[(":status", "404")]));
    wire.send(&hw::data(1, 0, b"nf"));
    wire.send(&k::headers(1, hw::END_STREAM, &[("x-t", "2")]));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!(s.txn.status, 404);
    assert_eq!(s.txn.rsp_body, BodyLen::Chunked);
    assert_eq!(s.res.buf, b"nf");
    assert!(s.res.has(cf::EOM));
    assert_eq!(s.res.trailers, Some(vec![(b"x-t".to_vec(), b"2".to_vec())]));
    // a response ending on HEADERS has no body
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    wire.send(&k::headers(1, hw::END_STREAM, &[(":status", "204")]));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!((s.txn.status, s.txn.rsp_body), (204, BodyLen::None));
    assert!(s.res.has(cf::EOM));
    assert!(k::h2c(&t, bc).streams[0].has(h2s_fl::RX_DONE));
}

#[test]
fn a_request_body_follows_as_it_arrives() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, fs) = back_with(
        &mut t,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab",
        &[],
    );
    assert_eq!(k::body_of(&fs, 1), (b"ab".to_vec(), false));
    assert!(!t.w.streams[sid].req.has(cf::DONE));
    let s = &mut t.w.streams[sid];
    s.req.buf.extend_from_slice(b"cdef");
    s.req.flags |= cf::EOM;
    io2(&mut t, bc);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"cdef".to_vec(), true));
    assert!(t.w.streams[sid].req.has(cf::DONE));
    // trailers end the request when it has some
    let (sid, bc, mut wire, _) = back_with(
        &mut t,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
        &[],
    );
    let s = &mut t.w.streams[sid];
    s.req.trailers = Some(vec![(b"x-r".to_vec(), b"3".to_vec())]);
    s.req.flags |= cf::EOM;
    io2(&mut t, bc);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1);
    assert_ne!(hs[0].flags & hw::END_STREAM, 0);
    assert_eq!(k::fields(hs[0]), pairs(&[("x-r", "3")]));
    assert!(t.w.streams[sid].req.has(cf::DONE));
}

#[test]
fn the_servers_stream_limit_holds_new_requests_back() {
    let mut t = T::new(CFG);
    let (s1, bc, mut wire, fs) = back_with(
        &mut t,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n",
        &[(hw::SETTINGS_MAX_CONCURRENT_STREAMS, 1)],
    );
    assert_eq!(k::of_type(&fs, hw::HEADERS).len(), 1);
    assert_eq!(
        k::h2c(&t, bc).peer_max_streams,
        1,
        "taken from its SETTINGS"
    );
    assert_eq!(t.w.conns[bc].avail_streams(), 0);
    // two more streams anyway: h2 queues the first, the other waits in our list
    let (_fc, _fp, s2) = k::h1_stream(&mut t, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    k::attach(&mut t, bc, s2);
    let (_fc, _fp, s3) = k::h1_stream(&mut t, b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    k::attach(&mut t, bc, s3);
    io2(&mut t, bc);
    assert!(
        k::of_type(&wire.frames(), hw::HEADERS).is_empty(),
        "s2 waits"
    );
    assert!(t.w.streams[s2].req.has(cf::HEAD_SENT), "queued in h2");
    assert!(
        !t.w.streams[s3].req.has(cf::HEAD_SENT),
        "not opened while s2 waits"
    );
    // the first exchange completes: the second request goes
    wire.send(&k::headers(1, hw::END_STREAM, &[(":status", "200")]));
    io2(&mut t, bc);
    assert!(t.w.streams[s1].res.has(cf::EOM));
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], s1), 2);
    io2(&mut t, bc);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0].stream, 3);
    assert_eq!(hs[0].field(":path"), Some("/2"));
    assert!(t.w.streams[s3].req.has(cf::HEAD_SENT), "queued in its turn");
}

#[test]
fn a_server_reset_fails_the_stream() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    t.strm_woken(sid);
    wire.send(&hw::rst_stream(1, hw::REFUSED_STREAM));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR) && !s.res.has(cf::EOM));
    assert_ne!(s.txn.flags & tx::SRV_CLOSE, 0);
    assert!(s.txn.rsp.is_none());
    assert!(t.strm_woken(sid));
    assert!(k::h2c(&t, bc).streams[0].has(h2s_fl::RST));
    // the connection is still good for others
    assert!(h2_usable(&t.w.conns[bc]));
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 0);
    io2(&mut t, bc);
    assert!(k::of_type(&wire.frames(), hw::RST_STREAM).is_empty());
    // reset after the response head: the body side is shut
    let (sid, bc, mut wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    wire.send(&k::headers(1, 0, &[(":status", "200")]));
    wire.send(&hw::data(1, 0, b"par"));
    io2(&mut t, bc);
    assert_eq!(t.w.streams[sid].res.buf, b"par");
    wire.frames();
    wire.send(&hw::rst_stream(1, hw::INTERNAL_ERROR));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR) && !s.res.has(cf::EOM));
    assert_ne!(s.txn.flags & tx::SRV_CLOSE, 0);
    // and that is all: the request is not sent again
    io2(&mut t, bc);
    let fs = wire.frames();
    assert!(fs.iter().all(|f| f.stream == 0), "{fs:?}");
}

#[test]
fn detaching_an_unfinished_exchange_cancels_it() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    let (_fc, _fp, s2) = k::h1_stream(&mut t, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    k::attach(&mut t, bc, s2);
    io2(&mut t, bc);
    wire.frames();
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 1, "one left");
    io2(&mut t, bc);
    let fs = wire.frames();
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1);
    assert_eq!((rs[0].stream, rs[0].error_code()), (1, Some(hw::CANCEL)));
    assert_eq!(k::strms(&t, bc), vec![s2]);
    // a stream not attached changes nothing; not an HTTP/2 connection: none
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 1);
    let (h1c, _p) = t.front();
    assert_eq!(h2_back_detach(&mut t.w.conns[h1c], s2), 0);
    assert!(!h2_usable(&t.w.conns[h1c]));
}

#[test]
fn a_server_goaway_stops_new_streams_at_once() {
    let mut t = T::new(CFG);
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    assert_eq!(t.w.conns[bc].avail_streams(), 99);
    wire.send(&hw::goaway(1, hw::NO_ERROR, b""));
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive);
    let h = k::h2c(&t, bc);
    assert_ne!(h.flags & h2c_fl::GOAWAY_RCVD, 0, "{:?}", h.flags);
    assert_eq!(h.avail_streams(), 0, "no new stream after a GOAWAY");
    // the stream in flight still completes
    wire.send(&k::headers(1, 0, &[(":status", "200")]));
    wire.send(&hw::data(1, hw::END_STREAM, b"ok"));
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!(s.txn.status, 200);
    assert_eq!(
        (s.res.buf.as_slice(), s.res.has(cf::EOM)),
        (&b"ok"[..], true)
    );
    assert!(!s.res.has(cf::SHUTR));
    // with the stream gone, the connection ends
    h2_back_detach(&mut t.w.conns[bc], sid);
    assert_eq!(io2(&mut t, bc), H2Outcome::Release);
    assert!(!h2_usable(&t.w.conns[bc]));
}

#[test]
fn the_last_response_arriving_with_the_close_is_not_lost() {
    let mut t = T::new(CFG);
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    // response, GOAWAY and FIN in one read (a server closing after its last request)
    wire.send(&k::headers(
        1,
        0,
        &[(":status", "200"), ("content-length", "4")],
    ));
    wire.send(&hw::data(1, hw::END_STREAM, b"last"));
    wire.send(&hw::goaway(1, hw::NO_ERROR, b""));
    wire.peer.shutw();
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive, "the stream is attached");
    let s = &t.w.streams[sid];
    assert_eq!(s.txn.status, 200);
    assert_eq!(
        (s.res.buf.as_slice(), s.res.has(cf::EOM)),
        (&b"last"[..], true)
    );
    assert!(!s.res.has(cf::SHUTR), "a complete response is not an abort");
    assert!(!h2_usable(&t.w.conns[bc]));
    h2_back_detach(&mut t.w.conns[bc], sid);
    assert_eq!(io2(&mut t, bc), H2Outcome::Release);
}

#[test]
fn an_error_goaway_fails_the_streams() {
    let mut t = T::new(CFG);
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    t.strm_woken(sid);
    wire.send(&hw::goaway(0, hw::PROTOCOL_ERROR, b""));
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive);
    assert_ne!(k::h2c(&t, bc).flags & (h2c_fl::ERROR | h2c_fl::DONE), 0);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR));
    assert_ne!(s.txn.flags & tx::SRV_CLOSE, 0);
    assert!(t.strm_woken(sid));
    assert!(!h2_usable(&t.w.conns[bc]));
    assert_eq!(t.w.conns[bc].avail_streams(), 0);
    h2_back_detach(&mut t.w.conns[bc], sid);
    assert_eq!(io2(&mut t, bc), H2Outcome::Release);
}

#[test]
fn a_refused_connect_fails_the_streams() {
    let mut t = T::new(CFG);
    t.plans.borrow_mut().push(Connect::Pending);
    let (_fc, _fp, sid) = k::h1_stream(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let (bc, wire) = k::back(&mut t, -1);
    k::attach(&mut t, bc, sid);
    t.strm_woken(sid);
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive, "connect in progress");
    assert!(
        wire.peer.output().is_empty(),
        "nothing written before connected"
    );
    assert!(matches!(k::h2c(&t, bc).state, H2State::CliConnecting));
    assert!(!t.strm_woken(sid));
    wire.peer.refuse();
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive, "a stream is attached");
    assert!(t.has(bc, co_fl::ERROR));
    assert!(t.strm_woken(sid));
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR));
    assert_ne!(s.txn.flags & tx::SRV_CLOSE, 0);
    assert!(!h2_usable(&t.w.conns[bc]));
    assert_eq!(t.w.conns[bc].avail_streams(), 0);
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 0);
    assert_eq!(io2(&mut t, bc), H2Outcome::Release);
}

#[test]
fn a_server_closing_makes_the_connection_unusable() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    wire.send(&k::headers(1, hw::END_STREAM, &[(":status", "200")]));
    io2(&mut t, bc);
    h2_back_detach(&mut t.w.conns[bc], sid);
    assert!(h2_usable(&t.w.conns[bc]));
    wire.peer.shutw();
    let out = io2(&mut t, bc);
    assert!(!h2_usable(&t.w.conns[bc]));
    assert_eq!(out, H2Outcome::Release);
    let _ = wire.frames();
}

#[test]
fn max_reuse_limits_the_streams_of_a_connection() {
    let mut t = T::new(CFG);
    let (_fc, _fp, sid) = k::h1_stream(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let (bc, _wire) = k::back(&mut t, 1);
    assert_eq!(k::h2c(&t, bc).max_reuse, 1);
    assert_eq!(
        k::h2c(&t, bc).peer_max_streams,
        t.w.sh.global.tune_h2.max_concurrent_streams,
        "our own limit until the server's SETTINGS"
    );
    assert_eq!(t.w.conns[bc].avail_streams(), 2);
    k::attach(&mut t, bc, sid);
    assert_eq!(t.w.conns[bc].avail_streams(), 1);
    k::h2c_mut(&mut t, bc).flags |= h2c_fl::DONE;
    assert!(!h2_usable(&t.w.conns[bc]));
}

/// The server's SETTINGS on a new front connection with `tune` (`tune.h2.*`).
fn front_settings(tune: hrs_cfg::model::TuneH2) -> Vec<(u16, u32)> {
    let mut t = T::new(CFG);
    std::sync::Arc::get_mut(&mut t.w.sh)
        .expect("the world is the only holder")
        .global
        .tune_h2 = tune;
    let (cid, p) = t.front();
    let mut wire = Wire::new(p);
    wire.send(crate::mux_h2::H2_PREFACE);
    t.io(cid);
    io2(&mut t, cid);
    let fs = wire.frames();
    let s = k::of_type(&fs, hw::SETTINGS);
    assert_eq!(s[0].flags & hw::ACK, 0);
    s[0].settings()
}

#[test]
fn only_settings_that_differ_from_the_defaults_are_sent() {
    let bufsize = T::new(CFG).w.sh.global.bufsize as u32;
    let d = hrs_cfg::model::TuneH2::default();
    let got = front_settings(d);
    assert!(got.contains(&(
        hw::SETTINGS_MAX_CONCURRENT_STREAMS,
        d.max_concurrent_streams
    )));
    assert!(got.contains(&(hw::SETTINGS_MAX_HEADER_LIST_SIZE, bufsize)));
    for id in [
        hw::SETTINGS_INITIAL_WINDOW_SIZE,
        hw::SETTINGS_HEADER_TABLE_SIZE,
        hw::SETTINGS_MAX_FRAME_SIZE,
    ] {
        assert!(got.iter().all(|(i, _)| *i != id), "{id} sent: {got:?}");
    }
    let tuned = hrs_cfg::model::TuneH2 {
        header_table_size: 8192,
        initial_window_size: 32768,
        max_concurrent_streams: 7,
        max_frame_size: 32768,
    };
    let got = front_settings(tuned);
    for want in [
        (hw::SETTINGS_MAX_CONCURRENT_STREAMS, 7),
        (hw::SETTINGS_INITIAL_WINDOW_SIZE, 32768),
        (hw::SETTINGS_HEADER_TABLE_SIZE, 8192),
        (hw::SETTINGS_MAX_FRAME_SIZE, 32768),
    ] {
        assert!(got.contains(&want), "{want:?} in {got:?}");
    }
}

#[test]
fn request_heads_special_forms() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // OPTIONS * keeps its asterisk
    wire.send(&k::request(
        1,
        true,
        "OPTIONS",
        "*",
        "a.example",
        &[("expect", "later")],
    ));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    let s = &t.w.streams[sid];
    let h = s.txn.req.as_ref().unwrap();
    assert_eq!((h.method(), h.uri()), (&b"OPTIONS"[..], &b"*"[..]));
    assert_eq!(
        req_fields(&t, sid),
        pairs(&[("host", "a.example"), ("expect", "later")])
    );
    let s = &t.w.streams[sid];
    assert!(!s.txn.req_flags.expect_100 && s.txn.flags & tx::EXPECT_100 == 0);
    let _ = wire.frames();
}

#[test]
fn a_connection_closed_or_failed_under_h2_is_not_usable() {
    let mut t = T::new(CFG);
    let (sid, bc, _wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    assert!(h2_usable(&t.w.conns[bc]));
    for f in [co_fl::SOCK_RD_SH, co_fl::ERROR] {
        let c = &mut t.w.conns[bc];
        c.flags |= f;
        assert!(!h2_usable(c), "{f:#x}");
        c.flags &= !f;
        assert!(h2_usable(c));
    }
    for f in [h2c_fl::DONE, h2c_fl::ERROR] {
        k::h2c_mut(&mut t, bc).flags |= f;
        assert!(!h2_usable(&t.w.conns[bc]), "{f:#x}");
        k::h2c_mut(&mut t, bc).flags &= !f;
    }
    k::h2c_mut(&mut t, bc).state = H2State::Closed;
    assert!(!h2_usable(&t.w.conns[bc]));
    let _ = sid;
}

#[test]
fn input_beyond_the_receive_buffer_is_read_in_the_same_run() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // ten requests of 8 kB each: more than the 64 kB read ahead at once
    let big = "v".repeat(8000);
    let mut all = Vec::new();
    for i in 0..10u32 {
        all.extend(k::request(
            2 * i + 1,
            true,
            "GET",
            "/",
            "a",
            &[("x-big", &big)],
        ));
    }
    assert!(all.len() > 65536);
    wire.send(&all);
    io2(&mut t, cid);
    assert_eq!(k::strms(&t, cid).len(), 10, "every request in one run");
    assert_eq!(wire.peer.unread(), 0);
    let _ = wire.frames();
}

#[test]
fn output_held_by_the_socket_all_leaves_in_the_run_that_finds_room() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[(hw::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20)]);
    wire.send(&hw::window_update(0, 1 << 24));
    let n = 20u32;
    for i in 0..n {
        wire.send(&k::request(2 * i + 1, true, "GET", "/", "a", &[]));
    }
    io2(&mut t, cid);
    assert_eq!(k::strms(&t, cid).len(), n as usize);
    // the client stops reading: more than the mux's output limit waits
    wire.peer.set_write_room(Some(0));
    let body = vec![b'b'; 16000];
    for sid in k::strms(&t, cid) {
        t.respond(
            sid,
            b"HTTP/1.1 200 OK\r\ncontent-length: 16000\r\n\r\n",
            &body,
            true,
        );
    }
    io2(&mut t, cid);
    io2(&mut t, cid);
    assert!(wire.frames().is_empty());
    let queued = k::h2c(&t, cid).io.0.borrow().out_pending();
    assert!(queued >= 262144, "{queued}");
    // it reads again: everything goes in one run
    wire.peer.set_write_room(None);
    io2(&mut t, cid);
    let fs = wire.frames();
    for i in 0..n {
        assert_eq!(
            k::body_of(&fs, 2 * i + 1),
            (body.clone(), true),
            "stream {}",
            2 * i + 1
        );
    }
    assert!(k::strms(&t, cid)
        .iter()
        .all(|&s| t.w.streams[s].res.has(cf::DONE)));
}

#[test]
fn the_connect_wakes_the_streams_waiting_for_it() {
    let mut t = T::new(CFG);
    t.plans.borrow_mut().push(Connect::Pending);
    let (_fc, _fp, sid) = k::h1_stream(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let (bc, mut wire) = k::back(&mut t, -1);
    k::attach(&mut t, bc, sid);
    io2(&mut t, bc);
    t.strm_woken(sid);
    wire.peer.accept();
    // a stream with nothing to send yet learns of the connect too
    let req = t.w.streams[sid].txn.req.take();
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive);
    assert!(t.has(bc, co_fl::CONNECTED));
    assert!(t.strm_woken(sid));
    t.w.streams[sid].txn.req = req;
    io2(&mut t, bc);
    wire.expect_preface();
    assert_eq!(k::of_type(&wire.frames(), hw::HEADERS).len(), 1);
}

#[test]
fn the_goaway_goes_out_before_the_connection_is_released() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    // the client does not read: the GOAWAY waits in the mux's output
    wire.peer.set_write_room(Some(0));
    assert!(h2_shutdown(&mut t.w, &mut t.ev, cid));
    assert_eq!(
        io2(&mut t, cid),
        H2Outcome::Alive,
        "the GOAWAY is still queued"
    );
    assert!(k::h2c(&t, cid).io.0.borrow().out_pending() > 0);
    assert!(wire.frames().is_empty());
    // it reads again: the GOAWAY leaves, then the connection goes
    wire.peer.set_write_room(None);
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
    assert_eq!(k::of_type(&wire.frames(), hw::GOAWAY).len(), 1);
    // a client that never reads is dropped by the timer (`ERROR`): released at once
    let (cid, wire) = k::front(&mut t, &[]);
    wire.peer.set_write_room(Some(0));
    h2_shutdown(&mut t.w, &mut t.ev, cid);
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive);
    t.w.conns[cid].flags |= co_fl::ERROR;
    assert_eq!(io2(&mut t, cid), H2Outcome::Release);
}

#[test]
fn nothing_is_taken_from_a_stream_after_its_reset() {
    let mut t = T::new(CFG);
    let (cid, wire) = k::front(&mut t, &[]);
    let bufsize = t.w.sh.global.bufsize;
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    // a full channel, one more frame waiting in h2, then the client's reset
    let chunk = vec![b'x'; 4096];
    for _ in 0..bufsize / 4096 + 1 {
        wire.send(&hw::data(1, 0, &chunk));
    }
    io2(&mut t, cid);
    assert_eq!(t.w.streams[sid].req.buf.len(), bufsize);
    wire.send(&hw::rst_stream(1, hw::CANCEL));
    io2(&mut t, cid);
    assert!(t.w.streams[sid].req.has(cf::SHUTR));
    t.w.streams[sid].req.buf.clear();
    io2(&mut t, cid);
    assert!(
        t.w.streams[sid].req.buf.is_empty(),
        "the stream failed: nothing more"
    );
}

#[test]
fn an_empty_body_not_ended_yet_ends_with_an_empty_data_frame() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        false,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    let hs = k::of_type(&fs, hw::HEADERS);
    assert_eq!(hs[0].flags & hw::END_STREAM, 0, "the server is not done");
    t.w.streams[sid].res.flags |= cf::EOM;
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (Vec::new(), true));
    assert!(t.w.streams[sid].res.has(cf::DONE));
}

#[test]
fn detaching_one_stream_leaves_the_others() {
    let mut t = T::new(CFG);
    let (cid, wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, true, "GET", "/", "a", &[]));
    wire.send(&k::request(3, true, "GET", "/", "a", &[]));
    io2(&mut t, cid);
    let s = k::strms(&t, cid);
    assert_eq!(s.len(), 2);
    // the first one's response is complete, the second one leaves unfinished
    t.respond(s[0], b"HTTP/1.1 204 No Content\r\n\r\n", b"", true);
    io2(&mut t, cid);
    h2_front_detach(&mut t.w.conns[cid], s[1]);
    assert_eq!(k::strms(&t, cid), vec![s[0]]);
    h2_front_detach(&mut t.w.conns[cid], s[0]);
    assert!(k::h2c(&t, cid).streams.is_empty());
}

#[test]
fn streams_not_opened_before_a_goaway_fail() {
    let mut t = T::new(CFG);
    let (s1, bc, wire, _) = back_with(
        &mut t,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n",
        &[(hw::SETTINGS_MAX_CONCURRENT_STREAMS, 1)],
    );
    let (_fc, _fp, s2) = k::h1_stream(&mut t, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    k::attach(&mut t, bc, s2);
    let (_fc, _fp, s3) = k::h1_stream(&mut t, b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    k::attach(&mut t, bc, s3);
    io2(&mut t, bc);
    assert!(!t.w.streams[s3].req.has(cf::HEAD_SENT));
    // the server processes stream 1 only
    wire.send(&hw::goaway(1, hw::NO_ERROR, b""));
    io2(&mut t, bc);
    for s in [s2, s3] {
        let st = &t.w.streams[s];
        assert!(st.res.has(cf::SHUTR), "refused: the stream fails");
        assert_ne!(st.txn.flags & tx::SRV_CLOSE, 0);
    }
    let h = k::h2c(&t, bc);
    let e3 = h.streams.iter().find(|e| e.strm == Some(s3)).unwrap();
    assert!(e3.has(h2s_fl::RST) && !e3.has(h2s_fl::HEAD_SENT));
    // told once: a later run does not try it again
    assert!(t.strm_woken(s3));
    io2(&mut t, bc);
    assert!(!t.ev.is_queued(t.w.streams[s3].task));
    // stream 1 goes on
    assert!(!t.w.streams[s1].res.has(cf::SHUTR));
    wire.send(&k::headers(1, hw::END_STREAM, &[(":status", "200")]));
    io2(&mut t, bc);
    assert_eq!(t.w.streams[s1].txn.status, 200);
}

#[test]
fn the_request_body_leaving_wakes_the_client_side() {
    let mut t = T::new(CFG);
    let (fc, _fp, sid) = k::h1_stream(
        &mut t,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab",
    );
    let (bc, mut wire) = k::back(&mut t, -1);
    k::attach(&mut t, bc, sid);
    wire.send(&hw::settings(&[]));
    io2(&mut t, bc);
    wire.expect_preface();
    assert_eq!(k::body_of(&wire.frames(), 1), (b"ab".to_vec(), false));
    t.strm_woken(sid);
    io2(&mut t, bc);
    assert!(!t.ev.is_queued(t.w.conns[fc].task), "nothing drained");
    t.w.streams[sid].req.buf.extend_from_slice(b"cd");
    io2(&mut t, bc);
    assert_eq!(k::body_of(&wire.frames(), 1), (b"cd".to_vec(), false));
    assert!(
        t.ev.is_queued(t.w.conns[fc].task),
        "room in the request channel"
    );
    let s = &t.w.streams[sid];
    assert!(!s.res.has(cf::SHUTR) && s.txn.flags & tx::SRV_CLOSE == 0);
}

#[test]
fn the_response_body_stops_at_bufsize() {
    let mut t = T::new(CFG);
    let (sid, bc, wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    let bufsize = t.w.sh.global.bufsize;
    wire.send(&k::headers(1, 0, &[(":status", "200")]));
    let chunk = vec![b'r'; 4096];
    let n = bufsize / 4096 + 2;
    for _ in 0..n {
        wire.send(&hw::data(1, 0, &chunk));
    }
    io2(&mut t, bc);
    assert_eq!(t.w.streams[sid].res.buf.len(), bufsize, "full, not more");
    t.w.streams[sid].res.buf.clear();
    io2(&mut t, bc);
    assert_eq!(t.w.streams[sid].res.buf.len(), n * 4096 - bufsize);
}

#[test]
fn a_run_of_an_established_server_connection_with_nothing_new_wakes_nobody() {
    let mut t = T::new(CFG);
    let (sid, bc, _wire, _) = back_with(&mut t, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
    t.strm_woken(sid);
    assert_eq!(io2(&mut t, bc), H2Outcome::Alive);
    assert!(!t.strm_woken(sid), "the connect was decided long ago");
}

#[test]
fn a_request_body_beyond_its_content_length_fails_the_stream_for_good() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(
        1,
        false,
        "POST",
        "/",
        "a",
        &[("content-length", "3")],
    ));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    wire.frames();
    t.strm_woken(sid);
    // more bytes than announced, then the end: the h2 crate resets the stream
    wire.send(&hw::data(1, hw::END_STREAM, b"abcdef"));
    io2(&mut t, cid);
    let fs = wire.frames();
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1, "{fs:?}");
    assert_eq!(rs[0].error_code(), Some(hw::PROTOCOL_ERROR));
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR) && s.res.has(cf::SHUTW));
    assert!(t.strm_woken(sid));
    // later runs take nothing more from it, a response is not sent, the detach is silent
    io2(&mut t, cid);
    assert!(!t.w.streams[sid].req.has(cf::EOM), "the request never ends");
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"",
        true,
    );
    io2(&mut t, cid);
    h2_front_detach(&mut t.w.conns[cid], sid);
    io2(&mut t, cid);
    let fs = wire.frames();
    assert!(fs.iter().all(|f| f.stream != 1), "{fs:?}");
    assert_eq!(io2(&mut t, cid), H2Outcome::Alive, "the connection stays");
}

#[test]
fn a_server_reset_during_the_request_body_sends_nothing_more() {
    let mut t = T::new(CFG);
    let (sid, bc, mut wire, fs) = back_with(
        &mut t,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab",
        &[],
    );
    assert_eq!(k::of_type(&fs, hw::HEADERS).len(), 1);
    assert_eq!(k::body_of(&fs, 1), (b"ab".to_vec(), false));
    t.strm_woken(sid);
    wire.send(&hw::rst_stream(1, hw::CANCEL));
    t.w.streams[sid].req.buf.extend_from_slice(b"cd");
    io2(&mut t, bc);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR) && s.txn.flags & tx::SRV_CLOSE != 0);
    assert!(t.strm_woken(sid));
    let e = &k::h2c(&t, bc).streams[0];
    assert!(
        e.has(h2s_fl::RST) && e.has(h2s_fl::HEAD_SENT),
        "{:x}",
        e.flags
    );
    // the rest of the body arrives: it is not sent, nor is the request again
    t.w.streams[sid].req.buf.extend_from_slice(b"ef");
    t.w.streams[sid].req.flags |= cf::EOM;
    io2(&mut t, bc);
    let fs = wire.frames();
    assert!(
        fs.iter().all(|f| f.typ != hw::HEADERS && f.typ != hw::DATA),
        "{fs:?}"
    );
    assert_eq!(h2_back_detach(&mut t.w.conns[bc], sid), 0);
    io2(&mut t, bc);
    assert!(
        wire.frames().iter().all(|f| f.stream == 0),
        "no frame for a stream"
    );
}

#[test]
fn a_response_complete_before_the_request_body_is_not_cancelled_by_the_detach() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[]);
    wire.send(&k::request(1, false, "POST", "/", "a", &[]));
    io2(&mut t, cid);
    let sid = only(&t, cid);
    t.respond(
        sid,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
        b"ok",
        true,
    );
    io2(&mut t, cid);
    let fs = wire.frames();
    assert_eq!(k::body_of(&fs, 1), (b"ok".to_vec(), true));
    assert!(t.w.streams[sid].res.has(cf::DONE));
    h2_front_detach(&mut t.w.conns[cid], sid);
    assert!(k::h2c(&t, cid).streams.is_empty());
    io2(&mut t, cid);
    let fs = wire.frames();
    // the h2 crate ends the client's upload with NO_ERROR (RFC 9113 §8.1), no CANCEL
    let rs = k::of_type(&fs, hw::RST_STREAM);
    assert_eq!(rs.len(), 1, "{fs:?}");
    assert_eq!(rs[0].error_code(), Some(hw::NO_ERROR));
}

#[test]
fn responses_queued_behind_a_full_socket_survive_their_streams_detach() {
    let mut t = T::new(CFG);
    let (cid, mut wire) = k::front(&mut t, &[(hw::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20)]);
    wire.send(&hw::window_update(0, 1 << 24));
    let n = 20u32;
    for i in 0..=n {
        wire.send(&k::request(2 * i + 1, true, "GET", "/", "a", &[]));
    }
    io2(&mut t, cid);
    let sids = k::strms(&t, cid);
    assert_eq!(sids.len(), n as usize + 1);
    // the client stops reading; every response is complete, the last one bodyless and
    // given once the mux's output is full
    wire.peer.set_write_room(Some(0));
    let body = vec![b'b'; 16000];
    for &sid in &sids[..n as usize] {
        t.respond(
            sid,
            b"HTTP/1.1 200 OK\r\ncontent-length: 16000\r\n\r\n",
            &body,
            true,
        );
    }
    io2(&mut t, cid);
    io2(&mut t, cid);
    assert!(k::h2c(&t, cid).io.0.borrow().out_pending() >= 262144);
    t.respond(
        sids[n as usize],
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"",
        true,
    );
    io2(&mut t, cid);
    assert!(wire.frames().is_empty());
    // every stream is done and leaves, as the stream layer does; what h2 still holds
    // for them is not cancelled
    for &sid in &sids {
        assert!(t.w.streams[sid].res.has(cf::DONE));
        h2_front_detach(&mut t.w.conns[cid], sid);
    }
    assert!(k::h2c(&t, cid).streams.is_empty());
    wire.peer.set_write_room(None);
    io2(&mut t, cid);
    io2(&mut t, cid);
    let fs = wire.frames();
    assert!(k::of_type(&fs, hw::RST_STREAM).is_empty(), "no reset");
    for i in 0..n {
        assert_eq!(k::body_of(&fs, 2 * i + 1), (body.clone(), true), "{i}");
    }
    let last = 2 * n + 1;
    let hs: Vec<_> = k::of_type(&fs, hw::HEADERS)
        .into_iter()
        .filter(|f| f.stream == last)
        .collect();
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0].field(":status"), Some("204"));
    assert_ne!(hs[0].flags & hw::END_STREAM, 0);
}
