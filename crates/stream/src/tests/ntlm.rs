//! Connection-based authentication (`http_wait_for_response`): a 401 whose
//! `WWW-Authenticate`, or a 407 whose `Proxy-Authenticate`, starts with `NTLM` or `Nego`
//! binds the server connection to the client's session (private: no other client gets it)
//! and makes the session stick to its server; any other challenge leaves the connection
//! shareable.

use super::http::{get, ok, rsp};
use super::kit::Kit;
use hrs_core::script::ScriptPeer;

/// `http-reuse always` would give an idle connection to any client; with `servers` 2,
/// round-robin would move a client's next request to the other server.
fn cfg(servers: usize) -> String {
    let mut s = String::from(
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
    http-reuse always
",
    );
    for i in 1..=servers {
        s.push_str(&format!("    server s{i} 10.0.0.{i}:80\n"));
    }
    s
}

/// A client whose first request was answered by server connection 0 with `head`.
fn challenged(k: &mut Kit, head: &str) -> ScriptPeer {
    let c = k.client();
    c.send(&get("/"));
    k.run();
    let s = k.srv(0);
    s.take();
    s.send(format!("{head}\r\ncontent-length: 0\r\n\r\n").as_bytes());
    k.run();
    rsp(&c.take());
    c
}

/// Whether a second client's request reuses server connection 0.
fn shared(k: &mut Kit) -> bool {
    let c2 = k.client();
    c2.send(&get("/other"));
    k.run();
    let n = k.nb_srv();
    k.srv(n - 1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
    n == 1
}

#[test]
fn an_ntlm_or_negotiate_challenge_makes_the_connection_private() {
    for head in [
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: NTLM",
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Negotiate abc",
        "HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: ntlm",
        "HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Negotiate",
    ] {
        let mut k = Kit::new(&cfg(1));
        let _c = challenged(&mut k, head);
        assert!(
            !shared(&mut k),
            "{head}: another client gets another connection"
        );
        // the challenged client's next request goes back to its server and connection,
        // where round-robin would pick the other server
        let mut k = Kit::new(&cfg(2));
        let c = challenged(&mut k, head);
        c.send(&get("/again"));
        k.run();
        assert_eq!(k.nb_srv(), 1, "{head}: no new connection");
        k.srv(0).take();
        k.srv(0).send(&ok(""));
        k.run();
        assert_eq!(rsp(&c.take()).status(), 200, "{head}");
    }
}

#[test]
fn other_challenges_leave_the_connection_shared() {
    for head in [
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=x",
        "HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic",
        // the header of the other status does not count
        "HTTP/1.1 401 Unauthorized\r\nproxy-authenticate: NTLM",
        "HTTP/1.1 407 Proxy Authentication Required\r\nwww-authenticate: NTLM",
        "HTTP/1.1 403 Forbidden\r\nwww-authenticate: NTLM",
    ] {
        let mut k = Kit::new(&cfg(1));
        let _c = challenged(&mut k, head);
        assert!(
            shared(&mut k),
            "{head}: the idle connection serves another client"
        );
    }
}
