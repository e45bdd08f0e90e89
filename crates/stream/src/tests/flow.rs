//! Bodies larger than a buffer, in both directions at once, and who wakes whom when a
//! channel fills up or empties (`kick_conns`): the stream wakes the server side when the
//! request has something to send or the response room again, and the client side when the
//! response has something to send. The sockets are edge-triggered (the kit raises an edge
//! only for what is new), so a side that stopped reading on a full channel reads again only
//! when someone wakes it.

use super::http::{parse_all, req, rsp};
use super::kit::Kit;

const CFG: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    server s1 10.0.0.1:80
";

/// Bigger than `tune.bufsize` (16384) several times.
const BIG: usize = 100_000;

fn post_head(len: usize) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nhost: t\r\ncontent-length: {len}\r\n\r\n").into_bytes()
}

fn ok_head(len: usize) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n").into_bytes()
}

#[test]
fn large_bodies_go_through_in_both_directions() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    let mut up = post_head(BIG);
    up.extend(std::iter::repeat_n(b'u', BIG));
    c.send(&up);
    k.run();
    let s = k.srv(0);
    let r = req(&s.take());
    assert_eq!(
        r.body.len(),
        BIG,
        "the whole request body reached the server"
    );
    let mut down = ok_head(BIG);
    down.extend(std::iter::repeat_n(b'd', BIG));
    s.send(&down);
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.body.len(), BIG, "the whole response reached the client");
}

#[test]
fn an_early_response_head_reaches_a_client_still_uploading() {
    // the server takes nothing: the request fills the buffers on the way; the server answers
    // before reading, and the head must still leave
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&post_head(BIG));
    k.run();
    let s = k.srv(0);
    s.set_write_room(Some(0));
    c.send(&vec![b'u'; BIG]);
    k.run();
    assert!(c.unread() > 0, "the request is held back by the server");
    s.send(&ok_head(5));
    k.run();
    let out = c.output();
    assert!(
        out.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    s.send(b"early");
    k.run();
    assert_eq!(rsp(&c.take()).body, b"early");
}

#[test]
fn an_upload_goes_on_while_the_client_does_not_read() {
    // the server answers a large body at once; the client reads none of it, so the
    // response fills the buffers; the rest of the request must still reach the server,
    // the chunked request's last chunk too
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.set_write_room(Some(0));
    c.send(b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    k.run();
    let s = k.srv(0);
    let first = s.take();
    assert!(
        first.ends_with(b"5\r\nfirst\r\n"),
        "{:?}",
        String::from_utf8_lossy(&first)
    );
    let mut down = ok_head(BIG);
    down.extend(std::iter::repeat_n(b'd', BIG));
    s.send(&down);
    k.run();
    assert!(s.unread() > 0, "the response is held back by the client");
    c.send(b"6\r\nsecond\r\n");
    k.run();
    assert_eq!(s.take(), b"6\r\nsecond\r\n");
    c.send(b"0\r\n\r\n");
    k.run();
    assert_eq!(s.take(), b"0\r\n\r\n");
    // once the client reads, everything follows
    c.set_write_room(None);
    k.run();
    let all = parse_all(&c.take(), true);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].body.len(), BIG);
}
