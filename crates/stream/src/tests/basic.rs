//! The plain path: a request through a server and back, keep-alive, the log line.

use super::http::{get, ok, req, rsp};
use super::kit::Kit;

const CFG: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ci %ft %b/%s %ST %B %ts %rc %{+Q}r\"
    default_backend be
backend be
    server s1 10.0.0.1:80
";

#[test]
fn a_request_goes_through_and_is_logged() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    c.send(&get("/a"));
    k.run();
    assert_eq!(k.nb_srv(), 1);
    assert_eq!(k.srv_addr(0), "10.0.0.1:80".parse().unwrap());
    let s = k.srv(0);
    let r = req(&s.take());
    assert_eq!(r.start, "GET /a HTTP/1.1");
    assert_eq!(r.hdr("host"), Some("test"));
    s.send(&ok("hello"));
    k.run();
    let m = rsp(&c.take());
    assert_eq!(m.status(), 200);
    assert_eq!(m.body, b"hello");
    let logs = k.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("192.0.2.10 fe be/s1 200 "), "{logs:?}");
    assert!(logs[0].ends_with(" -- 0 \"GET /a HTTP/1.1\""), "{logs:?}");
    // keep-alive: both connections stay open, a second request reuses the server one
    assert!(!c.closed() && !s.closed());
    c.send(&get("/b"));
    k.run();
    assert_eq!(k.nb_srv(), 1);
    assert_eq!(req(&s.take()).path(), "/b");
    s.send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c.take()).body, b"x");
}
