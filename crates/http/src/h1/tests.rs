//! Scripted cases for the HTTP/1 module; each expectation was observed on haproxy 2.6.12.

use super::*;
use crate::msg::{BodyLen, HttpHead, Meth, Version};

fn lim() -> H1Limits {
    H1Limits::default()
}

fn req(b: &[u8]) -> Result<Parsed, H1Error> {
    parse_request(b, &lim())
}

fn done(b: &[u8]) -> (H1Msg, usize) {
    match req(b) {
        Ok(Parsed::Done { msg, consumed }) => (msg, consumed),
        other => panic!(
            "expected a request from {:?}, got {other:?}",
            String::from_utf8_lossy(b)
        ),
    }
}

fn status(b: &[u8]) -> u16 {
    match req(b) {
        Err(e) => e.status,
        Ok(Parsed::Done { .. }) => 200,
        Ok(Parsed::Incomplete) => 0,
    }
}

/// What the server receives for a request from an HTTP/1.1 keep-alive frontend/backend.
fn to_server(b: &[u8]) -> Vec<u8> {
    let (mut m, _) = done(b);
    prepare_request_out(&mut m, &RequestOut::default());
    let mut out = Vec::new();
    format_request(&m.head, &mut out);
    out
}

fn resp(b: &[u8], meth: Meth) -> Result<Parsed, H1Error> {
    parse_response(b, meth, &lim())
}

fn rdone(b: &[u8], meth: Meth) -> H1Msg {
    match resp(b, meth) {
        Ok(Parsed::Done { msg, .. }) => msg,
        other => panic!("expected a response, got {other:?}"),
    }
}

/// What the client receives for `r` answering `q` (both HTTP/1 bytes).
fn to_client(q: &[u8], r: &[u8]) -> Vec<u8> {
    let (qm, _) = done(q);
    let mut m = rdone(r, qm.head.meth());
    let o = ResponseOut {
        client_mode: client_mode_on_request(&qm, false),
        req_meth: qm.head.meth(),
        req_ver11: qm.flags.ver11,
        req_ws_key: qm.flags.ws_key,
        ..ResponseOut::default()
    };
    prepare_response_out(&mut m, &o);
    let mut out = Vec::new();
    format_response(&m.head, &mut out);
    out
}

const H: &str = "Host: x\r\n";

fn get(extra: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\n{H}{extra}\r\n").into_bytes()
}

#[test]
fn simple_request() {
    let (m, n) = done(b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-Foo-BAR: Val\r\n\r\nrest");
    assert_eq!(n, 46);
    assert_eq!(m.head.method(), b"GET");
    assert_eq!(m.head.uri(), b"/a?b");
    assert_eq!(m.head.version, Version::Http11);
    assert_eq!(m.body, BodyLen::None);
    assert_eq!(
        m.head.headers().collect::<Vec<_>>(),
        vec![(&b"host"[..], &b"x"[..]), (b"x-foo-bar", b"Val")]
    );
    assert_eq!(
        to_server(b"GET / HTTP/1.1\r\nHOST: x\r\n\r\n"),
        b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"
    );
}

#[test]
fn incomplete_at_every_split() {
    let full = b"\r\nPOST /p HTTP/1.1\r\nHost: x\r\nFoo: a\r\n  b\r\nContent-Length: 3\r\n\r\n";
    for i in 0..full.len() {
        assert_eq!(req(&full[..i]), Ok(Parsed::Incomplete), "split {i}");
    }
    let (m, n) = done(full);
    assert_eq!(n, full.len());
    assert_eq!(m.body, BodyLen::Len(3));
    assert_eq!(m.head.first(b"foo"), Some(&b"a    b"[..]));
}

#[test]
fn request_line_rules() {
    let ok: &[&[u8]] = &[
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"G!T / HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\n\r\n",
        b"GET /  HTTP/1.1\r\n\r\n",
        b"GET /a\x7fb HTTP/1.1\r\n\r\n",
        b"GET /a\x80b HTTP/1.1\r\n\r\n",
        b"GET /a\xa3b HTTP/1.1\r\n\r\n",
        b"GET /aaaaaaa\x7fb\x7fcdefgh HTTP/1.1\r\n\r\n",
        b"GET /ab\x7f HTTP/1.1\r\n\r\n",
        b"GET * HTTP/1.1\r\n\r\n",
        b"GET *x HTTP/1.1\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\n\r\n",
        b"GET foo://x/p HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"CONNECT x:443 HTTP/1.1\r\n\r\n",
        b"CONNECT u@x:443 HTTP/1.1\r\n\r\n",
        b"CONNECT x:443/p HTTP/1.1\r\n\r\n",
        b"CONNECT http://x:443/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET x:80 HTTP/1.1\r\n\r\n",
        b"GET abc HTTP/1.1\r\n\r\n",
        b"GET ?a HTTP/1.1\r\nHost: ?a\r\n\r\n",
    ];
    for r in ok {
        assert_eq!(status(r), 200, "{:?}", String::from_utf8_lossy(r));
    }
    let bad: &[&[u8]] = &[
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET /a#b HTTP/1.1\r\n\r\n",
        b"GET /a\x00b HTTP/1.1\r\n\r\n",
        b"GET /a\x01b HTTP/1.1\r\n\r\n",
        b"GET /!\x7fa HTTP/1.1\r\n\r\n",
        b"GET /abc\x7f HTTP/1.1\r\n\r\n",
        b"GET /a\xa4b HTTP/1.1\r\n\r\n",
        b"GET /\x7f\x7f\x7f\x7f HTTP/1.1\r\n\r\n",
        b"GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET abc HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET ?a HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.10\r\n\r\n",
        b"GET / HTTP/11\r\n\r\n",
        b"GET / HTTX/1.1\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET  HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\rX\r\n\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
        b"\x00GET / HTTP/1.1\r\n\r\n",
        b" GET / HTTP/1.1\r\n\r\n",
        b"\rGET / HTTP/1.1\r\n\r\n",
        b"CONNECT /p HTTP/1.1\r\n\r\n",
        b"CONNECT http://x/ HTTP/1.1\r\n\r\n",
        b"CONNECT * HTTP/1.1\r\n\r\n",
        b"CONNECT x HTTP/1.1\r\n\r\n",
        b"CONNECT x: HTTP/1.1\r\n\r\n",
    ];
    for r in bad {
        assert_eq!(status(r), 400, "{:?}", String::from_utf8_lossy(r));
    }
    // HTTP/1.0 and 0.9 are kept, 1.2 and 2.0 become 1.1.
    assert_eq!(
        to_server(b"GET / HTTP/1.2\r\n\r\n"),
        b"GET / HTTP/1.1\r\n\r\n"
    );
    assert_eq!(
        to_server(b"GET / HTTP/0.9\r\n\r\n"),
        b"GET / HTTP/0.9\r\nconnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn header_rules() {
    let bad = [
        "Foo\r\n",
        ": v\r\n",
        "Foo : v\r\n",
        "F(o: v\r\n",
        "F\u{80}o: v\r\n",
        "Foo: a\rb\r\n",
        "X-A\t: v\r\n",
        ":path: /x\r\n",
        "Host: y\r\n",
    ];
    for b in bad {
        assert_eq!(status(&get(b)), 400, "{b:?}");
    }
    assert_eq!(status(b"GET / HTTP/1.1\r\n Foo: a\r\nHost: x\r\n\r\n"), 400);
    assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n"), 400);
    let cases: &[(&str, &str)] = &[
        ("Foo: a\x00b\r\n", "foo: a\x00b\r\n"),
        ("Foo: a\x01\x7f\u{ff}b\r\n", "foo: a\x01\x7f\u{ff}b\r\n"),
        ("Foo: a\r\n  b\r\n", "foo: a    b\r\n"),
        ("Foo: a\r\n\tb\r\n", "foo: a  \tb\r\n"),
        ("Foo:\r\n b\r\n", "foo: b\r\n"),
        ("Foo:\r\n", "foo: \r\n"),
        ("Foo:   \r\n", "foo: \r\n"),
        ("Foo: \t a b \t \r\n", "foo: a b\r\n"),
        ("Foo: v\t\r\n", "foo: v\r\n"),
        ("a:b:c\r\n", "a: b:c\r\n"),
        ("Host: x\r\n", ""),
        ("host: X\r\n", ""),
    ];
    for (inp, want) in cases {
        let got = to_server(&get(inp));
        let want = format!("GET / HTTP/1.1\r\nhost: x\r\n{want}\r\n").into_bytes();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{inp:?}"
        );
    }
    assert_eq!(
        to_server(b"GET / HTTP/1.1\r\nHost: x\r\nX: v\n\r\n"),
        b"GET / HTTP/1.1\r\nhost: x\r\nx: v\r\n\r\n"
    );
}

#[test]
fn limits() {
    // tune.bufsize 16384, maxrewrite 1024: 15275 bytes of start line + fields (8 per field).
    let mk = |n: usize| format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(n)).into_bytes();
    assert_eq!(status(&mk(15263)), 200);
    assert_eq!(status(&mk(15264)), 400);
    let mk = |n: usize| format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(n)).into_bytes();
    assert_eq!(status(&mk(15254)), 200);
    assert_eq!(status(&mk(15255)), 400);
    // Raw bytes: an incomplete head of 16320 bytes is refused, a complete one is fine.
    let mk = |n: usize| format!("GET / HTTP/1.1\r\nX:{}a\r\n\r\n", " ".repeat(n)).into_bytes();
    assert_eq!(status(&mk(16297)), 200);
    assert_eq!(status(&mk(16298)), 400);
    let mut big = mk(16298);
    big.truncate(16320);
    assert_eq!(status(&big), 400);
    big.truncate(16319);
    assert_eq!(status(&big), 0);
    // 100 fields at most.
    let mk = |n: usize| {
        let mut s = String::from("GET / HTTP/1.1\r\n");
        for i in 0..n {
            s.push_str(&format!("X{i}: a\r\n"));
        }
        s.push_str("\r\n");
        s.into_bytes()
    };
    assert_eq!(status(&mk(100)), 200);
    assert_eq!(status(&mk(101)), 400);
    let small = H1Limits::new(8192, 512, 10);
    assert!(matches!(
        parse_request(&mk(9), &small),
        Ok(Parsed::Done { .. })
    ));
    assert!(parse_request(&mk(10), &small).is_err());
    let u = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(7595 - 12));
    assert!(matches!(
        parse_request(u.as_bytes(), &small),
        Ok(Parsed::Done { .. })
    ));
    let u = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(7596 - 12));
    assert!(parse_request(u.as_bytes(), &small).is_err());
}

#[test]
fn content_length_rules() {
    let p =
        |h: &str, body: &str| format!("POST / HTTP/1.1\r\nHost: x\r\n{h}\r\n{body}").into_bytes();
    for (h, want) in [
        ("Content-Length: 5, 5\r\n", "content-length: 5"),
        ("Content-Length: 5,5 ,5\r\n", "content-length: 5"),
        (
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "content-length: 5",
        ),
        ("Content-Length: 05\r\n", "content-length: 05"),
        ("Content-Length: 0005, 5\r\n", "content-length: 5"),
        ("content-LENGTH: 5\r\n", "content-length: 5"),
    ] {
        let (mut m, _) = done(&p(h, "hello"));
        assert_eq!(m.body, BodyLen::Len(5), "{h:?}");
        prepare_request_out(&mut m, &RequestOut::default());
        let mut out = Vec::new();
        format_request(&m.head, &mut out);
        assert_eq!(
            out,
            format!("POST / HTTP/1.1\r\nhost: x\r\n{want}\r\n\r\n").into_bytes()
        );
    }
    let (m, _) = done(&p("Content-Length: 18446744073709551615\r\n", ""));
    assert_eq!(m.body, BodyLen::Len(u64::MAX));
    for h in [
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 5, 6\r\n",
        "Content-Length: abc\r\n",
        "Content-Length:\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: -5\r\n",
        "Content-Length: 5x\r\n",
        "Content-Length: 5,\r\n",
        "Content-Length: ,5\r\n",
        "Content-Length: 99999999999999999999\r\n",
    ] {
        assert_eq!(status(&p(h, "hello!")), 400, "{h:?}");
    }
    // HTTP/1.0 GET/HEAD/DELETE with a payload: 413.
    assert_eq!(status(b"GET / HTTP/1.0\r\nContent-Length: 5\r\n\r\n"), 413);
    assert_eq!(
        status(b"HEAD / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        413
    );
    assert_eq!(
        status(b"DELETE / HTTP/1.0\r\nContent-Length: 1\r\n\r\n"),
        413
    );
    assert_eq!(status(b"GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), 200);
    assert_eq!(status(b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\n"), 200);
    assert_eq!(status(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"), 200);
}

#[test]
fn transfer_encoding_rules() {
    let p = |h: &str| format!("POST / HTTP/1.1\r\nHost: x\r\n{h}\r\n").into_bytes();
    // Smuggling: both present, CL removed and the client connection closed after.
    for h in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    ] {
        let (m, _) = done(&p(h));
        assert_eq!(m.body, BodyLen::Chunked);
        assert!(m.flags.cl_and_te && m.flags.force_close && !m.flags.has_cl);
        assert!(!m.head.has(b"content-length"));
        assert_eq!(client_mode_on_request(&m, false), ConnMode::Close);
        assert_eq!(
            to_server(&p(h)),
            b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        );
    }
    for h in [
        "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: chunked, chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
        "Transfer-Encoding:\r\n",
    ] {
        assert_eq!(status(&p(h)), 400, "{h:?}");
    }
    assert_eq!(status(&p("Transfer-Encoding: gzip, chunked\r\n")), 422);
    assert_eq!(status(&p("Transfer-Encoding: ,chunked\r\n")), 422);
    let (m, _) = done(&p("Transfer-Encoding: Chunked\r\n"));
    assert_eq!(m.head.first(b"transfer-encoding"), Some(&b"Chunked"[..]));
    let (m, _) = done(&p("Transfer-Encoding: chunked,\r\n"));
    assert_eq!(m.body, BodyLen::Chunked);
    // HTTP/1.0 with chunked: accepted, close forced, no keep-alive announced to the server.
    let q = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (m, _) = done(q);
    assert!(m.flags.force_close);
    assert_eq!(
        to_server(q),
        b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n"
    );
}

#[test]
fn target_and_host() {
    assert_eq!(status(b"GET http://y/p HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert_eq!(
        status(b"GET http://x:8080/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"GET https://x:80/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(status(b"CONNECT x:443 HTTP/1.1\r\nHost: y\r\n\r\n"), 400);
    assert_eq!(status(b"CONNECT x:8443 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    for (q, want) in [
        (
            &b"GET http://X:80/p?q HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            &b"GET http://X/p?q HTTP/1.1\r\nhost: X\r\n\r\n"[..],
        ),
        (
            b"GET http://u@x:80/p HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET http://u@x/p HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET http://x:80 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET http://x HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET http://x:80/ HTTP/1.1\r\nHost: x:80\r\nHost: x:80\r\n\r\n",
            b"GET http://x/ HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET http://x/ HTTP/1.1\r\nHost: x:80\r\n\r\n",
            b"GET http://x/ HTTP/1.1\r\nhost: x:80\r\n\r\n",
        ),
        (
            b"GET HTTP://x:80/ HTTP/1.1\r\nHost: X\r\n\r\n",
            b"GET HTTP://x/ HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET https://x:443/a HTTP/1.1\r\nHost: x:443\r\n\r\n",
            b"GET https://x/a HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET http://x:8080/ HTTP/1.1\r\nHost: x:8080\r\n\r\n",
            b"GET http://x:8080/ HTTP/1.1\r\nhost: x:8080\r\n\r\n",
        ),
        (
            b"GET http://x: HTTP/1.1\r\nHost: x:\r\n\r\n",
            b"GET http://x HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"GET http://x:80/ HTTP/1.1\r\n\r\n",
            b"GET http://x/ HTTP/1.1\r\n\r\n",
        ),
        (
            b"CONNECT x:80 HTTP/1.1\r\nHost: x:80\r\n\r\n",
            b"CONNECT x:80 HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
        (
            b"CONNECT x:443 HTTP/1.1\r\nHost: X:443\r\n\r\n",
            b"CONNECT x:443 HTTP/1.1\r\nhost: X\r\n\r\n",
        ),
        (
            b"CONNECT x:8443 HTTP/1.1\r\nHost: x:8443\r\n\r\n",
            b"CONNECT x:8443 HTTP/1.1\r\nhost: x:8443\r\n\r\n",
        ),
        (
            b"GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET http:///p HTTP/1.1\r\nhost: x\r\n\r\n",
        ),
    ] {
        assert_eq!(
            String::from_utf8_lossy(&to_server(q)),
            String::from_utf8_lossy(want),
            "{:?}",
            String::from_utf8_lossy(q)
        );
    }
    let (m, _) = done(b"CONNECT x:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(m.body, BodyLen::None);
}

#[test]
fn connection_cleaning() {
    for (inp, want) in [
        ("Connection: close, foo\r\n", "connection: foo\r\n"),
        (
            "Connection: foo ,close,  bar \r\n",
            "connection: foo ,bar\r\n",
        ),
        ("Connection: keep-alive, keep-alive\r\n", ""),
        (
            "Connection: foo\r\nConnection: close\r\n",
            "connection: foo\r\n",
        ),
        ("Connection:\r\n", ""),
        ("Connection: CLOSE\r\n", ""),
        (
            "Connection: \"close\", x\r\n",
            "connection: \"close\", x\r\n",
        ),
        ("Connection: ,, a,,b,\r\n", "connection: ,, a,,b\r\n"),
        ("Connection: close,ab,cd\r\n", "connection: ab,cd\r\n"),
        (
            "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n",
            "keep-alive: timeout=5\r\nproxy-connection: keep-alive\r\n",
        ),
        ("TE: gzip, trailers\r\n", "te: trailers\r\n"),
        ("TE: trailers;q=1\r\n", ""),
        ("TE: gzip\r\n", ""),
        ("TE: xtrailers\r\n", "te: trailers\r\n"),
        ("TE: TRAILERS\r\n", ""),
        (
            "TE: trailers\r\nTE: trailers\r\n",
            "te: trailers\r\nte: trailers\r\n",
        ),
        (
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n",
            "connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\n",
        ),
        ("Expect: 100-continue\r\n", "expect: 100-continue\r\n"),
    ] {
        let got = to_server(&get(inp));
        let want = format!("GET / HTTP/1.1\r\nhost: x\r\n{want}\r\n").into_bytes();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{inp:?}"
        );
    }
    let (m, _) = done(&get("Connection: foo ,close\r\n"));
    assert!(m.flags.conn_close && !m.flags.conn_keepalive);
    // The tokens left keep their bytes up to the comma, as h1_parse_connection_header does.
    assert_eq!(
        m.head.values(b"connection").collect::<Vec<_>>(),
        vec![&b"foo "[..]]
    );
    let (m, _) = done(&get("Expect: 100-Continue\r\n"));
    assert!(m.flags.expect_100);
}

#[test]
fn websocket_rules() {
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    assert_eq!(
        status(&get("Connection: Upgrade\r\nUpgrade: websocket\r\n")),
        400
    );
    assert_eq!(
        status(&get("Connection: upgrade\r\nUpgrade: foo, WebSocket\r\n")),
        400
    );
    assert_eq!(
        status(&get(
            "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n"
        )),
        400
    );
    assert_eq!(status(&get("Upgrade: websocket\r\n")), 200);
    let q = get(&format!(
        "Connection: Upgrade\r\nUpgrade: websocket\r\n{key}"
    ));
    assert_eq!(status(&q), 200);
    // 101 without the accept key: 502; with it, tunnel.
    assert_eq!(
        resp(
            b"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            Meth::Get
        )
        .unwrap_err()
        .status,
        502
    );
    let r = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nraw";
    assert_eq!(
        to_client(&q, r),
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
    // A non-101 response announcing a websocket upgrade gets an accept key added.
    assert_eq!(
        to_client(&get(""), b"HTTP/1.1 426 Upgrade Required\r\nconnection: upgrade\r\nupgrade: websocket\r\ncontent-length: 0\r\n\r\n"),
        &b"HTTP/1.1 426 Upgrade Required\r\nconnection: upgrade\r\nupgrade: websocket\r\ncontent-length: 0\r\nSec-Websocket-Accept: X7sdFi1aZDLMcFz+yURsFmFjwvU=\r\n\r\n"[..]
    );
    // 101 needs the upgrade token on both sides.
    let (qf, _) = done(&get("Connection: upgrade\r\nUpgrade: foo\r\n"));
    let r = rdone(b"HTTP/1.1 101 S\r\nConnection: upgrade\r\n\r\n", Meth::Get);
    assert!(check_response_upgrade(&qf.flags, &r).is_ok());
    let r = rdone(b"HTTP/1.1 101 S\r\nUpgrade: foo\r\n\r\n", Meth::Get);
    assert_eq!(
        check_response_upgrade(&qf.flags, &r).unwrap_err().status,
        502
    );
    let (qp, _) = done(&get("Upgrade: foo\r\n"));
    let r = rdone(
        b"HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n",
        Meth::Get,
    );
    assert_eq!(
        check_response_upgrade(&qp.flags, &r).unwrap_err().status,
        502
    );
}

#[test]
fn response_lines() {
    let g = get("");
    for (r, want) in [
        (&b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"[..], &b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n"[..]),
        (b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200   Very  OK  \r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 Very  OK  \r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 20 OK\r\n\r\n"),
        (b"HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 099 OK\r\n\r\n"),
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n"),
        (b"HTTX/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTX/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n"),
        (b"ABCD/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1\t200\tOK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200\nContent-Length: 2\n\n", b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n"),
        (b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200 O\x01K\x7f\xff\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 O\x01K\x7f\xff\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\nx: a   b\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\nhost: a\r\nhost: b\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, foo\r\nKeep-Alive: timeout=5\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: foo\r\nkeep-alive: timeout=5\r\n\r\n"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nProxy-Connection: close\r\nUpgrade: h2\r\nTE: trailers\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nproxy-connection: close\r\nupgrade: h2\r\nte: trailers\r\n\r\n"),
    ] {
        assert_eq!(
            String::from_utf8_lossy(&to_client(&g, r)),
            String::from_utf8_lossy(want),
            "{:?}",
            String::from_utf8_lossy(r)
        );
    }
    for r in [
        &b"HTTP/1.1 2x0 OK\r\n\r\n"[..],
        b"HTTP/1.x 200 OK\r\n\r\n",
        b"HTTP/11.1 200 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX Y: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(
            resp(r, Meth::Get).unwrap_err().status,
            502,
            "{:?}",
            String::from_utf8_lossy(r)
        );
    }
}

#[test]
fn response_bodies() {
    let g = get("");
    let m = rdone(b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", Meth::Get);
    assert_eq!(m.body, BodyLen::UntilClose);
    assert_eq!(
        to_client(&g, b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"),
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: \r\nconnection: close\r\n\r\n"
    );
    let m = rdone(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        Meth::Get,
    );
    assert!(m.flags.cl_and_te && m.body == BodyLen::Chunked);
    assert_eq!(
        server_mode_on_response(ConnMode::KeepAlive, Meth::Get, &m, false),
        ConnMode::Close
    );
    assert_eq!(
        to_client(
            &g,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        ),
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    for (meth, r, body) in [
        (
            Meth::Head,
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"[..],
            BodyLen::None,
        ),
        (
            Meth::Get,
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            BodyLen::None,
        ),
        (
            Meth::Get,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            BodyLen::None,
        ),
        (Meth::Get, b"HTTP/1.1 100 Continue\r\n\r\n", BodyLen::None),
        (
            Meth::Get,
            b"HTTP/1.1 101 S\r\nConnection: upgrade\r\n\r\n",
            BodyLen::None,
        ),
        (
            Meth::Connect,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            BodyLen::None,
        ),
        (Meth::Get, b"HTTP/1.1 200 OK\r\n\r\n", BodyLen::UntilClose),
        (
            Meth::Get,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            BodyLen::Len(0),
        ),
    ] {
        assert_eq!(
            rdone(r, meth).body,
            body,
            "{:?}",
            String::from_utf8_lossy(r)
        );
    }
    let h = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(
        to_client(h, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"
    );
    assert_eq!(
        to_client(h, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    assert_eq!(
        to_client(h, b"HTTP/1.1 200 OK\r\n\r\n"),
        b"HTTP/1.1 200 OK\r\n\r\n"
    );
    assert_eq!(
        to_client(&g, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
        b"HTTP/1.1 204 No Content\r\n\r\n"
    );
    assert_eq!(
        to_client(
            &g,
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
        ),
        b"HTTP/1.1 204 No Content\r\n\r\n"
    );
    assert_eq!(
        to_client(
            &g,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
        ),
        b"HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n"
    );
    assert_eq!(
        to_client(
            &g,
            b"HTTP/1.1 100 Continue\r\nX-A: 1\r\nContent-Length: 5\r\n\r\n"
        ),
        b"HTTP/1.1 100 Continue\r\nx-a: 1\r\n\r\n"
    );
    assert_eq!(
        to_client(&g, b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"),
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"
    );
    assert_eq!(
        to_client(
            b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
            b"HTTP/1.1 200 Connection established\r\n\r\n"
        ),
        b"HTTP/1.1 200 Connection established\r\n\r\n"
    );
    assert_eq!(
        to_client(
            b"CONNECT x:8443 HTTP/1.0\r\n\r\n",
            b"HTTP/1.1 200 Connection established\r\nContent-Length: 0\r\n\r\n"
        ),
        b"HTTP/1.1 200 Connection established\r\ncontent-length: 0\r\n\r\n"
    );
}

#[test]
fn keep_alive_matrix() {
    // (request, response) -> client bytes, default http-keep-alive mode.
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    let ok10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n";
    let cases: &[(&[u8], &[u8], &[u8])] = &[
        (
            b"GET / HTTP/1.1\r\n\r\n",
            ok,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            ok,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\n\r\n",
            ok,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ok,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ok10,
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            ok10,
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            ok10,
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n",
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n",
        ),
    ];
    for (q, r, want) in cases {
        assert_eq!(
            String::from_utf8_lossy(&to_client(q, r)),
            String::from_utf8_lossy(want),
            "{:?} / {:?}",
            String::from_utf8_lossy(q),
            String::from_utf8_lossy(r)
        );
    }
    // Server side: HTTP/1.0 requests get keep-alive, close is never announced by default.
    assert_eq!(
        to_server(b"GET / HTTP/1.0\r\n\r\n"),
        b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"
    );
    assert_eq!(
        to_server(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
        b"GET / HTTP/1.1\r\n\r\n"
    );
    assert_eq!(
        to_server(b"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n"),
        b"GET / HTTP/1.0\r\nconnection: Upgrade\r\nupgrade: foo\r\n\r\n"
    );
}

#[test]
fn option_modes() {
    let send = |q: &[u8], fe: HttpMode, be: HttpMode, pretend: bool| {
        let (mut m, _) = done(q);
        let plan = prepare_request_out(
            &mut m,
            &RequestOut {
                fe_mode: fe,
                be_mode: be,
                pretend_keepalive: pretend,
                ..RequestOut::default()
            },
        );
        let mut out = Vec::new();
        format_request(&m.head, &mut out);
        (out, plan.mode)
    };
    let answer = |q: &[u8], r: &[u8], fe: HttpMode| {
        let (qm, _) = done(q);
        let mut m = rdone(r, qm.head.meth());
        let plan = prepare_response_out(
            &mut m,
            &ResponseOut {
                client_mode: client_mode_on_request(&qm, false),
                fe_mode: fe,
                req_ver11: qm.flags.ver11,
                ..ResponseOut::default()
            },
        );
        let mut out = Vec::new();
        format_response(&m.head, &mut out);
        (out, plan.mode)
    };
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    use HttpMode::*;
    // option httpclose
    assert_eq!(
        send(
            b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
            Close,
            KeepAlive,
            false
        ),
        (
            b"GET / HTTP/1.1\r\nconnection: close\r\n\r\n".to_vec(),
            ConnMode::Close
        )
    );
    assert_eq!(
        send(b"GET / HTTP/1.0\r\n\r\n", KeepAlive, Close, false),
        (b"GET / HTTP/1.0\r\n\r\n".to_vec(), ConnMode::Close)
    );
    assert_eq!(
        answer(b"GET / HTTP/1.1\r\n\r\n", ok, Close),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n".to_vec(),
            ConnMode::Close
        )
    );
    assert_eq!(
        answer(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
            Close
        )
        .0,
        b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n".to_vec()
    );
    // option http-server-close: server side closes, client side stays.
    assert_eq!(
        send(b"GET / HTTP/1.1\r\n\r\n", ServerClose, KeepAlive, false).0,
        b"GET / HTTP/1.1\r\nconnection: close\r\n\r\n".to_vec()
    );
    assert_eq!(
        answer(b"GET / HTTP/1.1\r\n\r\n", ok, ServerClose).1,
        ConnMode::KeepAlive
    );
    assert_eq!(
        answer(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ok,
            ServerClose
        )
        .0,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n".to_vec()
    );
    // option http-pretend-keepalive with httpclose on the backend.
    assert_eq!(
        send(b"GET / HTTP/1.1\r\n\r\n", KeepAlive, Close, true),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), ConnMode::Close)
    );
    assert_eq!(
        send(b"GET / HTTP/1.0\r\n\r\n", KeepAlive, Close, true).0,
        b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n".to_vec()
    );
    // http-send-name-header
    let (mut m, _) = done(b"GET / HTTP/1.0\r\nx-srv-name: a\r\n\r\n");
    prepare_request_out(
        &mut m,
        &RequestOut {
            server_name: Some((b"X-Srv-Name", b"s1")),
            ..RequestOut::default()
        },
    );
    let mut out = Vec::new();
    format_request(&m.head, &mut out);
    assert_eq!(
        out,
        b"GET / HTTP/1.0\r\nconnection: keep-alive\r\nx-srv-name: s1\r\n\r\n"
    );
}

#[test]
fn early_proxy_reply_closes() {
    let (mut m, _) = crate::errors::error_message(403);
    let plan = prepare_response_out(
        &mut m,
        &ResponseOut {
            proxy_reply_early: true,
            ..ResponseOut::default()
        },
    );
    assert_eq!(plan.mode, ConnMode::Close);
    let mut out = Vec::new();
    format_response(&m.head, &mut out);
    assert!(out.ends_with(b"content-type: text/html\r\nconnection: close\r\n\r\n"));
    let (mut m, _) = crate::errors::error_message(503);
    let plan = prepare_response_out(
        &mut m,
        &ResponseOut {
            client_mode: ConnMode::KeepAlive,
            req_ver11: false,
            ..ResponseOut::default()
        },
    );
    assert_eq!(plan.mode, ConnMode::KeepAlive);
    let mut out = Vec::new();
    format_response(&m.head, &mut out);
    assert!(out.ends_with(b"content-type: text/html\r\nconnection: keep-alive\r\n\r\n"));
}

#[test]
fn chunking_added_when_length_unknown() {
    // A response whose length field was removed by a rule gets chunked on HTTP/1.1.
    let mut m = rdone(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", Meth::Get);
    m.head.del_header(b"content-length");
    let plan = prepare_response_out(&mut m, &ResponseOut::default());
    assert!(plan.chunked && plan.body == BodyLen::Chunked);
    let mut out = Vec::new();
    format_response(&m.head, &mut out);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let (mut q, _) = done(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
    q.head.del_header(b"content-length");
    let plan = prepare_request_out(&mut q, &RequestOut::default());
    assert!(plan.chunked);
}

type Trailers = Vec<(Vec<u8>, Vec<u8>)>;

fn decode_all(input: &[u8], step: usize) -> Result<(Vec<u8>, usize, Option<Trailers>), H1Error> {
    let mut d = ChunkDecoder::new();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let end = (pos + step).min(input.len());
        let s = d.decode(&input[pos..end], &mut out)?;
        pos += s.consumed;
        if s.done {
            return Ok((out, pos, d.trailers()));
        }
        if s.consumed < end - (pos - s.consumed) {
            break;
        }
    }
    Ok((out, usize::MAX, None))
}

#[test]
fn chunk_decoder_every_split() {
    let input = b"3;foo=bar\r\nabc\r\nA\r\n0123456789\r\n1 \t;x\"y\r\nZ\n0\r\nX-T: 1\r\nY-T: a\r\n b\r\n\r\nNEXT";
    let total = input.len() - 4;
    for step in 1..=input.len() {
        let (out, used, tr) = decode_all(input, step).unwrap();
        assert_eq!(out, b"abc0123456789Z", "step {step}");
        assert_eq!(used, total, "step {step}");
        assert_eq!(
            tr,
            Some(vec![
                (b"x-t".to_vec(), b"1".to_vec()),
                (b"y-t".to_vec(), b"a   b".to_vec())
            ])
        );
    }
    // Every two-piece split.
    for cut in 0..=input.len() {
        let mut d = ChunkDecoder::new();
        let mut out = Vec::new();
        let s1 = d.decode(&input[..cut], &mut out).unwrap();
        assert_eq!(s1.consumed, cut.min(total));
        let s2 = d.decode(&input[s1.consumed..], &mut out).unwrap();
        assert!(s2.done);
        assert_eq!(s1.consumed + s2.consumed, total);
        assert_eq!(out, b"abc0123456789Z");
    }
}

#[test]
fn chunk_decoder_rules() {
    let ok: &[&[u8]] = &[
        b"0\r\n\r\n",
        b"3\nabc\n0\n\n",
        b"3  \r\nabc\r\n0\r\n\r\n",
        b"00000000000000000003\r\nabc\r\n0\r\n\r\n",
        b"FFFFFFFFFFFFF\r\n",
        b"0\r\nX T: 1\r\n\r\n",
        b"0\r\nContent-Length: 7\r\n\r\n",
        b"0\r\nHost: a\r\nHost: a\r\n\r\n",
        b"0\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"0\r\nConnection: close, foo\r\n\r\n",
    ];
    for i in ok {
        let mut d = ChunkDecoder::new();
        assert!(
            d.decode(i, &mut Vec::new()).is_ok(),
            "{:?}",
            String::from_utf8_lossy(i)
        );
    }
    let bad: &[&[u8]] = &[
        b" 3\r\nabc\r\n",
        b"0x3\r\nabc\r\n",
        b"\r\nabc\r\n",
        b"zz\r\n",
        b"3\r\nabcX\r\n",
        b"3\r\nabc\rX",
        b"3\rX",
        b"3 3\r\n",
        b"FFFFFFFFFFFFFFFF\r\n",
        b"10000000000000\r\n",
        b"0\r\nXA\r\n\r\n",
        b"0\r\n: a\r\n\r\n",
        b"0\r\nHost: a\r\nHost: b\r\n\r\n",
        b"0\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"0\r\nContent-Length: abc\r\n\r\n",
        b"0\r\n\rX",
    ];
    for i in bad {
        let mut d = ChunkDecoder::new();
        let e = d.decode(i, &mut Vec::new()).unwrap_err();
        assert_eq!(e.status, 400, "{:?}", String::from_utf8_lossy(i));
    }
    let mut d = ChunkDecoder::new_response();
    assert_eq!(
        d.decode(b"zz\r\n", &mut Vec::new()).unwrap_err().status,
        502
    );
    let mut d = ChunkDecoder::new();
    let mut out = Vec::new();
    let s = d
        .decode(
            b"0\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n",
            &mut out,
        )
        .unwrap();
    assert!(s.done && d.is_done());
    assert_eq!(
        d.trailers(),
        Some(vec![(b"transfer-encoding".to_vec(), b"chunked".to_vec())])
    );
    assert_eq!(d.trailers(), None);
}

#[test]
fn chunk_encoding() {
    let mut out = Vec::new();
    encode_chunk(b"abcdefghijklmnopqrstuvwxyz", &mut out);
    encode_chunk(b"", &mut out);
    encode_last_chunk(None, &mut out);
    assert_eq!(out, b"1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n");
    let mut out = Vec::new();
    encode_last_chunk(Some(&[(b"x-t".to_vec(), b"1".to_vec())]), &mut out);
    assert_eq!(out, b"0\r\nx-t: 1\r\n\r\n");
    // Round trip.
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let mut enc = Vec::new();
    for c in data.chunks(777) {
        encode_chunk(c, &mut enc);
    }
    encode_last_chunk(Some(&[(b"a".to_vec(), b"b".to_vec())]), &mut enc);
    let (dec, used, tr) = decode_all(&enc, 13).unwrap();
    assert_eq!(dec, data);
    assert_eq!(used, enc.len());
    assert_eq!(tr, Some(vec![(b"a".to_vec(), b"b".to_vec())]));
}

#[test]
fn format_round_trip() {
    let reqs: &[&[u8]] = &[
        b"GET /a HTTP/1.1\r\nhost: x\r\nx-y: z\r\n\r\n",
        b"POST /p?q=1 HTTP/1.0\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\n\r\n",
    ];
    for r in reqs {
        let (m, n) = done(r);
        assert_eq!(n, r.len());
        let mut out = Vec::new();
        format_request(&m.head, &mut out);
        let (m2, _) = done(&out);
        assert_eq!(m2.head.method(), m.head.method());
        assert_eq!(m2.head.uri(), m.head.uri());
        assert_eq!(
            m2.head.headers().collect::<Vec<_>>(),
            m.head.headers().collect::<Vec<_>>()
        );
    }
    let r = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx: y\r\n\r\n";
    let m = rdone(r, Meth::Get);
    let mut out = Vec::new();
    format_response(&m.head, &mut out);
    assert_eq!(out, r);
    // Heads built locally.
    let mut h = HttpHead::response(Version::Http11, 302, b"Found", 0);
    h.add_header(b"Location", b"/x");
    let mut out = Vec::new();
    format_response(&h, &mut out);
    assert_eq!(out, b"HTTP/1.1 302 Found\r\nlocation: /x\r\n\r\n");
    let h = HttpHead::request(b"GET", b"/", Version::Http10, 0);
    let mut out = Vec::new();
    format_request(&h, &mut out);
    assert_eq!(out, b"GET / HTTP/1.0\r\n\r\n");
}

/// xorshift64* generator for the garbage test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn garbage_never_panics() {
    const ALPHA: &[u8] =
        b"GET HTTP/1.0\r\n:; ,\t\"chunked0123456789abcdefABCDEF-_/*?#\x00\x7f\x80\xff";
    let seeds: &[&[u8]] = &[
        b"GET http://x:80/p HTTP/1.1\r\nHost: x\r\nConnection: close, foo\r\nContent-Length: 5\r\n\r\n",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: gzip, chunked\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nTE: trailers\r\n\r\n",
        b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
        b"5;a\r\nhello\r\n0\r\nX: y\r\n\r\n",
    ];
    let small = H1Limits::new(512, 64, 8);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..6000 {
        let mut b: Vec<u8> = seeds[round % seeds.len()].to_vec();
        let edits = 1 + rng.below(6);
        for _ in 0..edits {
            let op = rng.below(4);
            let pos = rng.below(b.len() + 1);
            let c = if rng.below(2) == 0 {
                ALPHA[rng.below(ALPHA.len())]
            } else {
                rng.next() as u8
            };
            match op {
                0 => b.insert(pos, c),
                1 if pos < b.len() => {
                    b.remove(pos);
                }
                2 if pos < b.len() => b[pos] = c,
                _ => {
                    let n = rng.below(40);
                    b.splice(pos..pos, vec![c; n]);
                }
            }
        }
        if round % 7 == 0 {
            b = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        }
        for l in [lim(), small] {
            for cut in [b.len(), b.len() / 2] {
                let part = &b[..cut];
                if let Ok(Parsed::Done { mut msg, consumed }) = parse_request(part, &l) {
                    assert!(consumed <= part.len());
                    prepare_request_out(
                        &mut msg,
                        &RequestOut {
                            server_name: Some((b"x-s", b"s")),
                            ws_random: Some([1; 16]),
                            ..RequestOut::default()
                        },
                    );
                    let mut out = Vec::new();
                    format_request(&msg.head, &mut out);
                    let _ = client_mode_on_request(&msg, false);
                }
                for meth in [Meth::Get, Meth::Head, Meth::Connect] {
                    if let Ok(Parsed::Done { mut msg, consumed }) = parse_response(part, meth, &l) {
                        assert!(consumed <= part.len());
                        let _ = server_mode_on_response(ConnMode::KeepAlive, meth, &msg, false);
                        prepare_response_out(
                            &mut msg,
                            &ResponseOut {
                                req_meth: meth,
                                ..ResponseOut::default()
                            },
                        );
                        let mut out = Vec::new();
                        format_response(&msg.head, &mut out);
                    }
                }
            }
            let mut d = ChunkDecoder::with_limits(400, l);
            let mut out = Vec::new();
            let mut pos = 0;
            while pos < b.len() {
                let step = 1 + rng.below(7);
                let end = (pos + step).min(b.len());
                match d.decode(&b[pos..end], &mut out) {
                    Ok(s) => {
                        assert!(s.consumed <= end - pos);
                        pos += s.consumed;
                        if s.done || s.consumed == 0 {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = d.trailers();
        }
    }
}

#[test]
fn http2_requests_go_out_in_origin_form() {
    use crate::msg::{HttpHead, Version};
    let out = |uri: &[u8], ver| {
        let mut h = HttpHead::request(b"GET", uri, ver, 64);
        h.add_header(b"host", b"a");
        let mut o = Vec::new();
        format_request(&h, &mut o);
        String::from_utf8(o).unwrap()
    };
    assert_eq!(
        out(b"http://a/p?q=1", Version::Http2),
        "GET /p?q=1 HTTP/1.1\r\nhost: a\r\n\r\n"
    );
    assert_eq!(
        out(b"https://a", Version::Http2),
        "GET / HTTP/1.1\r\nhost: a\r\n\r\n"
    );
    // an HTTP/1.1 client's absolute URI is forwarded as received
    assert_eq!(
        out(b"http://a/p", Version::Http11),
        "GET http://a/p HTTP/1.1\r\nhost: a\r\n\r\n"
    );
}

#[test]
fn h2_request_targets_follow_h1_get_uri() {
    let target = |meth: &[u8], uri: &[u8], ver| {
        let h = HttpHead::request(meth, uri, ver, 0);
        let mut o = Vec::new();
        format_request(&h, &mut o);
        let line = o.split(|&c| c == b'\r').next().unwrap().to_vec();
        String::from_utf8(line).unwrap()
    };
    let h2 = Version::Http2;
    for (meth, uri, want) in [
        (&b"GET"[..], &b"https://a/p?q"[..], "GET /p?q HTTP/1.1"),
        // The authority ends at the first '/', not at '?' (http_parse_path).
        (b"GET", b"https://a?q=1", "GET / HTTP/1.1"),
        (b"GET", b"https://a?q=/x", "GET /x HTTP/1.1"),
        (b"GET", b"http://u@a:8080//x", "GET //x HTTP/1.1"),
        // An origin form is kept whole, "://" in its query included.
        (b"GET", b"/r?u=http://x/y", "GET /r?u=http://x/y HTTP/1.1"),
        // No path: '*' for OPTIONS, '/' otherwise.
        (b"OPTIONS", b"https://a", "OPTIONS * HTTP/1.1"),
        (b"OPTIONS", b"*", "OPTIONS * HTTP/1.1"),
        (b"GET", b"*", "GET / HTTP/1.1"),
        (b"GET", b"ftp:/x", "GET / HTTP/1.1"),
        (b"GET", b"1http://a/x", "GET / HTTP/1.1"),
        (b"CONNECT", b"a:443", "CONNECT a:443 HTTP/1.1"),
    ] {
        assert_eq!(
            target(meth, uri, h2),
            want,
            "{:?}",
            String::from_utf8_lossy(uri)
        );
    }
    // HTTP/1 requests go out as received.
    assert_eq!(
        target(b"GET", b"https://a?q", Version::Http11),
        "GET https://a?q HTTP/1.1"
    );
    assert_eq!(target(b"GET", b"*", Version::Http10), "GET * HTTP/1.0");
}

#[test]
fn server_mode_after_response() {
    use ConnMode::*;
    let sm = |meth: Meth, r: &[u8], mode: ConnMode, stopping: bool| {
        server_mode_on_response(mode, meth, &rdone(r, meth), stopping)
    };
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let up = b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n";
    assert_eq!(sm(Meth::Get, ok, KeepAlive, false), KeepAlive);
    // A mode already closing stays so; tunnels are decided by status whatever the mode.
    assert_eq!(sm(Meth::Get, ok, Close, false), Close);
    assert_eq!(sm(Meth::Get, up, KeepAlive, false), Tunnel);
    assert_eq!(sm(Meth::Get, up, Close, false), Tunnel);
    assert_eq!(
        sm(Meth::Connect, b"HTTP/1.1 200 OK\r\n\r\n", KeepAlive, false),
        Tunnel
    );
    assert_eq!(
        sm(Meth::Connect, b"HTTP/1.1 299 X\r\n\r\n", KeepAlive, false),
        Tunnel
    );
    assert_eq!(
        sm(
            Meth::Connect,
            b"HTTP/1.1 407 X\r\nContent-Length: 0\r\n\r\n",
            KeepAlive,
            false
        ),
        KeepAlive
    );
    assert_eq!(
        sm(Meth::Get, b"HTTP/1.1 200 OK\r\n\r\n", KeepAlive, false),
        Close,
        "no length"
    );
    assert_eq!(
        sm(
            Meth::Get,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            KeepAlive,
            false
        ),
        Close
    );
    assert_eq!(
        sm(
            Meth::Get,
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            KeepAlive,
            false
        ),
        Close
    );
    assert_eq!(
        sm(
            Meth::Get,
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
            KeepAlive,
            false
        ),
        KeepAlive
    );
    // T-E on HTTP/1.0 forces the close (H1_MF_CONN_CLO), keep-alive announced or not.
    assert_eq!(
        sm(
            Meth::Get,
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
            KeepAlive,
            false
        ),
        Close
    );
    assert_eq!(
        sm(
            Meth::Get,
            b"HTTP/1.1 100 Continue\r\n\r\n",
            KeepAlive,
            false
        ),
        KeepAlive,
        "interim responses change nothing"
    );
    // A stopping backend does not keep the connection, but a tunnel stays a tunnel.
    assert_eq!(sm(Meth::Get, ok, KeepAlive, true), Close);
    assert_eq!(sm(Meth::Get, up, KeepAlive, true), Tunnel);
}

/// The plan `prepare_response_out` returns: the client connection's mode after this
/// response, whether the payload is chunk-encoded, and the framing the client sees.
#[test]
fn response_plans() {
    use ConnMode::*;
    let plan = |q: &[u8], r: &[u8], tweak: &dyn Fn(&mut ResponseOut)| {
        let (qm, _) = done(q);
        let mut m = rdone(r, qm.head.meth());
        let mut o = ResponseOut {
            client_mode: client_mode_on_request(&qm, false),
            req_meth: qm.head.meth(),
            req_ver11: qm.flags.ver11,
            req_ws_key: qm.flags.ws_key,
            ..ResponseOut::default()
        };
        tweak(&mut o);
        let p = prepare_response_out(&mut m, &o);
        (p.mode, p.chunked, p.body)
    };
    let same = |_: &mut ResponseOut| {};
    let g = get("");
    let head = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
    let connect = b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n";
    let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (q, r, want) in [
        (&g[..], &cl[..], (KeepAlive, false, BodyLen::Len(2))),
        (&g, chunked, (KeepAlive, true, BodyLen::Chunked)),
        (
            &g,
            b"HTTP/1.1 200 OK\r\n\r\n",
            (Close, false, BodyLen::UntilClose),
        ),
        // HTTP/1.0 with T-E: close forced (nothing announced to an HTTP/1.0 response).
        (
            &g,
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            (Close, true, BodyLen::Chunked),
        ),
        (
            head,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            (KeepAlive, false, BodyLen::None),
        ),
        (head, chunked, (KeepAlive, false, BodyLen::None)),
        (
            &g,
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            (KeepAlive, false, BodyLen::None),
        ),
        (
            &g,
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            (KeepAlive, false, BodyLen::None),
        ),
        (
            &g,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            (KeepAlive, false, BodyLen::None),
        ),
        (
            &g,
            b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n",
            (KeepAlive, false, BodyLen::None),
        ),
        (
            &get("Connection: upgrade\r\nUpgrade: foo\r\n"),
            b"HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n",
            (Tunnel, false, BodyLen::None),
        ),
        (
            connect,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            (Tunnel, false, BodyLen::None),
        ),
        (
            connect,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            (Tunnel, false, BodyLen::None),
        ),
    ] {
        assert_eq!(
            plan(q, r, &same),
            want,
            "{:?} / {:?}",
            String::from_utf8_lossy(q),
            String::from_utf8_lossy(r)
        );
    }
    // Interim responses leave the mode as it was, even a closing one.
    let close = get("Connection: close\r\n");
    assert_eq!(
        plan(&close, b"HTTP/1.1 100 Continue\r\n\r\n", &same).0,
        Close
    );
    assert_eq!(plan(&close, cl, &same).0, Close);
    // A stopping frontend closes a kept-alive client, not a tunnel.
    let stopping = |o: &mut ResponseOut| o.fe_stopping = true;
    assert_eq!(plan(&g, cl, &stopping).0, Close);
    assert_eq!(
        plan(
            connect,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            &stopping
        )
        .0,
        Tunnel
    );
}

#[test]
fn request_plans() {
    use ConnMode::*;
    let plan = |q: &[u8]| {
        let (mut m, _) = done(q);
        let p = prepare_request_out(&mut m, &RequestOut::default());
        (p.mode, p.chunked, p.body)
    };
    assert_eq!(plan(&get("")), (KeepAlive, false, BodyLen::None));
    assert_eq!(
        plan(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"),
        (KeepAlive, false, BodyLen::Len(3))
    );
    assert_eq!(
        plan(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (KeepAlive, true, BodyLen::Chunked)
    );
    assert_eq!(
        plan(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"),
        (KeepAlive, false, BodyLen::None)
    );
    // A rule adding Content-Length next to Transfer-Encoding: the server connection closes.
    let (mut m, _) = done(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    m.head.add_header(b"content-length", b"3");
    let p = prepare_request_out(&mut m, &RequestOut::default());
    assert_eq!((p.mode, p.chunked), (Close, true));
}

/// Fields edited or added by rules are cleaned on output like received ones, wherever they
/// stand (the first field included).
#[test]
fn output_cleans_edited_fields() {
    let (mut m, _) = done(b"GET / HTTP/1.1\r\n\r\n");
    m.head.add_header(b"Connection", b"close, foo");
    m.head.add_header(b"TE", b"gzip, trailers");
    m.head.add_header(b"Connection", b"keep-alive");
    m.head.add_header(b"X", b"1");
    let p = prepare_request_out(&mut m, &RequestOut::default());
    assert_eq!(p.mode, ConnMode::Close);
    let mut out = Vec::new();
    format_request(&m.head, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET / HTTP/1.1\r\nconnection: foo\r\nte: trailers\r\nx: 1\r\nconnection: close\r\n\r\n"
    );
}

/// A websocket upgrade request without a key (only possible from HTTP/2 or rules) gets one;
/// the key is generated only for `Connection: upgrade` with `Upgrade: websocket`.
#[test]
fn websocket_key_added_when_missing() {
    let keys = |fields: &[(&[u8], &[u8])]| {
        let mut h = HttpHead::request(b"GET", b"/", Version::Http11, 0);
        for (n, v) in fields {
            h.add_header(n, v);
        }
        let mut m = H1Msg {
            head: h,
            body: BodyLen::None,
            flags: MsgFlags::default(),
        };
        prepare_request_out(
            &mut m,
            &RequestOut {
                ws_random: Some([7; 16]),
                ..RequestOut::default()
            },
        );
        m.head
            .values(b"sec-websocket-key")
            .map(|v| v.to_vec())
            .collect::<Vec<_>>()
    };
    let generated = ws_request_key(&[7; 16]);
    let conn: (&[u8], &[u8]) = (b"connection", b"upgrade");
    let ws: (&[u8], &[u8]) = (b"upgrade", b"websocket");
    assert_eq!(keys(&[conn, ws]), vec![generated.clone()]);
    assert_eq!(
        keys(&[conn, ws, (b"sec-websocket-key", b"abc")]),
        vec![b"abc".to_vec()]
    );
    // The accept key is a response field: it does not count as a key in a request.
    assert_eq!(
        keys(&[conn, ws, (b"sec-websocket-accept", b"abc")]),
        vec![generated]
    );
    assert!(keys(&[ws]).is_empty());
    assert!(keys(&[conn, (b"upgrade", b"h2c")]).is_empty());
}

#[test]
fn chunk_decoder_progress_and_limits() {
    let mut d = ChunkDecoder::new();
    let mut out = Vec::new();
    assert!(!d.is_done());
    assert_eq!(d.body_len(), 0);
    let s = d.decode(b"3\r\nabc\r\nb\r\nde", &mut out).unwrap();
    assert!(!s.done && !d.is_done());
    assert_eq!(d.body_len(), 5);
    let s = d.decode(b"fghijklmn\r\n0\r\n\r\n", &mut out).unwrap();
    assert!(s.done && d.is_done());
    assert_eq!(d.body_len(), 14);
    assert_eq!(out, b"abcdefghijklmn");

    // A size line (extension included) may fill `max_raw` bytes, not more.
    let lim = H1Limits {
        max_raw: 11,
        ..H1Limits::default()
    };
    let run = |input: &[u8], lim: H1Limits| {
        ChunkDecoder::with_limits(400, lim).decode(input, &mut Vec::new())
    };
    assert!(run(b"000000000\r\n\r\n", lim).unwrap().done);
    assert!(run(b"0;a=bcdef\r\n\r\n", lim).unwrap().done);
    assert!(
        run(b"000000001\r\na\r\n00000000\t\r\n\r\n", lim)
            .unwrap()
            .done
    );
    let e = run(b"0000000000\r\n\r\n", lim).unwrap_err();
    assert_eq!((e.status, e.pos), (400, 11));
    assert!(run(b"0;a=bcdefg\r\n\r\n", lim).is_err());

    // The trailer block must fit in `max_raw` bytes: the error points at the first byte that
    // does not.
    let lim = H1Limits {
        max_raw: 16,
        ..H1Limits::default()
    };
    let mut d = ChunkDecoder::with_limits(502, lim);
    let e = d
        .decode(
            b"0\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n",
            &mut Vec::new(),
        )
        .unwrap_err();
    assert_eq!((e.status, e.pos), (502, 3 + 16));

    // At most max_hdrs - 1 trailer fields, as for heads.
    let lim = H1Limits {
        max_hdrs: 3,
        ..H1Limits::default()
    };
    assert!(run(b"0\r\nA: 1\r\nB: 2\r\n\r\n", lim).unwrap().done);
    assert!(run(b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim).is_err());
}

/// A bad trailer field is refused as soon as the byte after its line end shows it is not
/// folded, as HAProxy's parser does, not once the block is complete.
#[test]
fn chunk_trailer_refused_at_the_next_line() {
    for input in [
        &b"0\r\nHost: a\r\nHost: b\r\nY"[..],
        b"0\r\nA: 1\r\nContent-Length: x\r\nY",
        b"0\r\nA: 1\nContent-Length: x\nY",
    ] {
        for step in [1, 2, 3] {
            let mut d = ChunkDecoder::new();
            let mut pos = 0;
            let err_at = loop {
                let end = (pos + step).min(input.len());
                match d.decode(&input[pos..end], &mut Vec::new()) {
                    Ok(s) => {
                        pos += s.consumed;
                        assert!(pos < input.len(), "{input:?} accepted");
                    }
                    Err(_) => break end,
                }
            };
            assert_eq!(err_at, input.len(), "{input:?} step {step}");
        }
    }
}

/// Error offsets where HAProxy records the same position (`h1m->err_pos`): the byte that
/// breaks the grammar (each one read in `show errors` of haproxy 2.6.12).
#[test]
fn error_positions() {
    let pos = |b: &[u8]| req(b).unwrap_err().pos;
    assert_eq!(pos(b"\rX"), 1);
    assert_eq!(pos(b"\r\n\rGET"), 3);
    assert_eq!(pos(b"GET / HTTP/1.1\r\nHost: x\r\n\rX"), 26);
    assert_eq!(pos(b"GET / HTTP/1.1\nHost: x\n\rX"), 24);
    assert_eq!(pos(b"GET /a#b HTTP/1.1\r\n\r\n"), 6);
    let e = H1Error {
        status: 400,
        pos: 7,
        what: "invalid character",
    };
    assert_eq!(e.to_string(), "invalid character at offset 7 (status 400)");
}

#[test]
fn line_ends_and_leading_empty_lines() {
    // Bare LF ends lines and the head; empty lines before the start line are skipped,
    // bare LF ones included, and counted in `consumed`.
    for (input, used) in [
        (&b"GET / HTTP/1.1\nHost: x\n\nrest"[..], 24),
        (b"\nGET / HTTP/1.1\r\n\r\n", 19),
        (b"\n\r\n\nGET / HTTP/1.1\r\nHost: x\n\n", 29),
    ] {
        let (m, n) = done(input);
        assert_eq!(n, used, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(m.head.uri(), b"/");
    }
    // A response head cut anywhere is incomplete, never an error.
    let full = b"\r\nHTTP/1.1  200  Very OK \r\nX: a\r\n  b\r\nContent-Length: 3\r\n\r\n";
    for i in 0..full.len() {
        assert_eq!(
            resp(&full[..i], Meth::Get),
            Ok(Parsed::Incomplete),
            "split {i}"
        );
    }
    let m = rdone(full, Meth::Get);
    assert_eq!(m.head.reason(), b"Very OK ");
    assert_eq!(m.body, BodyLen::Len(3));
}

#[test]
fn field_flags() {
    let flags = |extra: &str| done(&get(extra)).0.flags;
    let rflags = |r: &[u8]| rdone(r, Meth::Get).flags;
    assert!(flags("Expect: 100-continue\r\n").expect_100);
    assert!(!flags("X: 100-continue\r\n").expect_100);
    assert!(!flags("Expect: foo\r\nX: y\r\n").expect_100);
    assert!(
        !rflags(b"HTTP/1.1 200 OK\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n").expect_100
    );
    assert!(flags("Upgrade: h2c\r\n").upgrade_h2c);
    assert!(flags("Upgrade: foo, H2\r\n").upgrade_h2c);
    assert!(!flags("Upgrade: websocket\r\n").upgrade_h2c);
    assert!(!flags("Upgrade: h2c\r\nUpgrade: foo\r\n").upgrade_h2c);
    // Sec-WebSocket-Accept is looked for in responses only.
    assert!(rflags(b"HTTP/1.1 200 OK\r\nSec-WebSocket-Accept: k\r\n\r\n").ws_accept);
    assert!(!rflags(b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n").ws_accept);
    assert!(!flags("Sec-WebSocket-Accept: k\r\nX: 1\r\n").ws_accept);
    assert_eq!(
        resp(
            b"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nX: 1\r\n\r\n",
            Meth::Get
        )
        .unwrap_err()
        .status,
        502
    );
}

/// The size of a head in HAProxy's internal form is what the converted head holds: a
/// `Content-Length` removed next to `Transfer-Encoding` and a CONNECT `Host` reduced to its
/// host part no longer count. Limits checked against haproxy 2.6.12 (default tuning: 15275
/// bytes of strings plus 8 per field).
#[test]
fn converted_size_limits() {
    let te_cl = |n: usize| {
        format!(
            "POST /{} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "a".repeat(n)
        )
        .into_bytes()
    };
    assert_eq!(status(&te_cl(15230)), 200);
    assert_eq!(status(&te_cl(15231)), 400);
    let connect = |n: usize| {
        format!(
            "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\nX: {}\r\n\r\n",
            "a".repeat(n)
        )
        .into_bytes()
    };
    assert_eq!(status(&connect(15233)), 200);
    assert_eq!(status(&connect(15234)), 400);
}

#[test]
fn request_target_word_skip() {
    // A group of four bytes at or above 0x7f is checked byte by byte, and refused.
    assert_eq!(
        status(b"GET /abc\x7f\x7f\x7f\x7f HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"GET /abc\x7f\x7f\x7f HTTP/1.1\r\nHost: x\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"GET /abc\x7f\x7f\x7fd HTTP/1.1\r\nHost: x\r\n\r\n"),
        200
    );
}

#[test]
fn connect_host_without_port() {
    // "x:" names the host with an empty port: fine for a default CONNECT port only.
    assert_eq!(status(b"CONNECT x:443 HTTP/1.1\r\nHost: x:\r\n\r\n"), 200);
    assert_eq!(status(b"CONNECT x:8443 HTTP/1.1\r\nHost: x:\r\n\r\n"), 400);
    assert_eq!(
        status(b"CONNECT x:443 HTTP/1.1\r\nHost: y:443\r\n\r\n"),
        400
    );
    assert_eq!(
        status(b"CONNECT x:8443 HTTP/1.1\r\nHost: x:443\r\n\r\n"),
        400
    );
}
