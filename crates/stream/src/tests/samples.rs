//! The stream as the rules see it (`rules.rs`, `StrmCtx` as a `SampleCtx`): the names of the
//! frontend, backend and server, the addresses of both connections, `http_first_req`, the
//! variables of every scope with their lifetimes, and the dates of log lines.

use super::http::{get, ok, req, rsp, Msg};
use super::kit::Kit;

const CFG: &str = "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    http-request set-var(txn.t) str(t1)
    http-request set-var(sess.s) str(s1) if { http_first_req }
    http-request set-var(sess.s) str(s2) if ! { http_first_req }
    http-request set-var(proc.p) str(p1) if { path /p }
    http-request set-var(req.r) str(r1)
    http-request set-header x-first %[http_first_req]
    http-request set-header x-names %[fe_name]
    http-request set-header x-dst %[dst]:%[dst_port]
    http-request set-header x-req-var %[var(req.r)]
    http-response set-var(res.x) str(x1)
    http-response set-header x-vars %[var(txn.t)],%[var(sess.s)],%[var(proc.p)],%[var(res.x)],%[var(req.r)]
    http-response set-header x-names %[fe_name]/%[be_name]/%[srv_name]
    http-response set-header x-bc %[bc_src_port]
    default_backend be
backend be
    http-request set-header x-be-names %[fe_name]/%[be_name]
    server s1 10.0.0.1:80
";

/// Sends `GET path` on `c`, answers 200 from the last server connection; returns what the
/// server and the client received.
fn exchange(k: &mut Kit, c: &hrs_core::script::ScriptPeer, path: &str) -> (Msg, Msg) {
    c.send(&get(path));
    k.run();
    let s = k.srv(k.nb_srv() - 1);
    let r = req(&s.take());
    s.send(&ok(""));
    k.run();
    (r, rsp(&c.take()))
}

#[test]
fn names_addresses_and_first_request() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    let (r, m) = exchange(&mut k, &c, "/");
    assert_eq!(r.hdr("x-first"), Some("1"));
    assert_eq!(r.hdr("x-names"), Some("fe"));
    assert_eq!(r.hdr("x-be-names"), Some("fe/be"));
    assert_eq!(r.hdr("x-dst"), Some("127.0.0.1:8080"));
    assert_eq!(m.hdr("x-names"), Some("fe/be/s1"));
    // the local port of the server connection (the kit numbers them from 30001)
    assert_eq!(m.hdr("x-bc"), Some("30001"));
    let (r, _) = exchange(&mut k, &c, "/");
    assert_eq!(
        r.hdr("x-first"),
        Some("0"),
        "a second request of the connection"
    );
    let c2 = k.client();
    let (r, _) = exchange(&mut k, &c2, "/");
    assert_eq!(r.hdr("x-first"), Some("1"), "a new connection");
}

#[test]
fn variables_live_as_long_as_their_scope() {
    let mut k = Kit::new(CFG);
    let c = k.client();
    let (r, m) = exchange(&mut k, &c, "/p");
    assert_eq!(r.hdr("x-req-var"), Some("r1"));
    // txn, sess, proc and res are seen by the response rules; req ended with the request
    assert_eq!(m.hdr("x-vars"), Some("t1,s1,p1,x1,"));
    // the session's variable is the same connection's; the process's is everyone's
    let (_, m) = exchange(&mut k, &c, "/");
    assert_eq!(m.hdr("x-vars"), Some("t1,s2,p1,x1,"));
    let c2 = k.client();
    let (_, m) = exchange(&mut k, &c2, "/");
    assert_eq!(m.hdr("x-vars"), Some("t1,s1,p1,x1,"));
}
