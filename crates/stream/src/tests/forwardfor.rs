//! `option forwardfor` (`http_process_request` in upstream 2.6's `http_ana.c`): the header
//! name (the backend's when it has the option, else the frontend's), `except` networks of
//! either proxy, `if-none` (the header is added unless both proxies say `if-none` and the
//! request has it), IPv4 and IPv6 clients. Each case was checked against haproxy 2.6.12.

use super::http::{get, ok, req, Msg};
use super::kit::Kit;
use std::net::SocketAddr;

fn cfg(fe: &str, be: &str) -> String {
    format!(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    {fe}
    default_backend be
backend be
    {be}
    server s1 10.0.0.1:80
"
    )
}

/// The request the server receives for a `GET /` with `extra` header lines, from `src`.
fn through(fe: &str, be: &str, src: &str, extra: &str) -> Msg {
    let mut k = Kit::new(&cfg(fe, be));
    let src: SocketAddr = src.parse().unwrap();
    let c = k.client_on(k.px("fe"), src);
    let mut r = get("/");
    r.truncate(r.len() - 2);
    r.extend_from_slice(extra.as_bytes());
    r.extend_from_slice(b"\r\n");
    c.send(&r);
    k.run();
    let s = k.srv(0);
    let m = req(&s.take());
    s.send(&ok(""));
    k.run();
    m
}

const V4: &str = "192.0.2.10:40000";

#[test]
fn frontend_option_adds_x_forwarded_for() {
    let m = through("option forwardfor", "", V4, "");
    assert_eq!(m.all("x-forwarded-for"), ["192.0.2.10"]);
    let m = through("", "option forwardfor", V4, "");
    assert_eq!(m.all("x-forwarded-for"), ["192.0.2.10"], "backend option");
    let m = through("", "", V4, "");
    assert!(m.all("x-forwarded-for").is_empty(), "no option");
}

#[test]
fn an_existing_header_is_kept_and_ours_appended() {
    let m = through("option forwardfor", "", V4, "x-forwarded-for: 1.2.3.4\r\n");
    assert_eq!(m.all("x-forwarded-for"), ["1.2.3.4", "192.0.2.10"]);
}

#[test]
fn except_skips_clients_of_the_network_only() {
    for (net, added) in [
        ("192.0.2.0/24", false),
        ("192.0.2.10", false),
        ("192.0.0.0/8", false),
        ("10.0.0.0/8", true),
        ("192.0.3.0/24", true),
        ("192.0.2.11", true),
    ] {
        let m = through(&format!("option forwardfor except {net}"), "", V4, "");
        assert_eq!(
            !m.all("x-forwarded-for").is_empty(),
            added,
            "frontend except {net}"
        );
        let m = through("", &format!("option forwardfor except {net}"), V4, "");
        assert_eq!(
            !m.all("x-forwarded-for").is_empty(),
            added,
            "backend except {net}"
        );
    }
}

#[test]
fn either_proxys_except_applies() {
    let m = through(
        "option forwardfor",
        "option forwardfor except 192.0.2.0/24",
        V4,
        "",
    );
    assert!(m.all("x-forwarded-for").is_empty());
    let m = through(
        "option forwardfor except 192.0.2.0/24",
        "option forwardfor",
        V4,
        "",
    );
    assert!(m.all("x-forwarded-for").is_empty());
}

#[test]
fn header_name_is_the_backends_when_it_has_the_option() {
    let m = through("option forwardfor header X-Fe", "", V4, "");
    assert_eq!(m.all("x-fe"), ["192.0.2.10"]);
    let m = through("", "option forwardfor header X-Be", V4, "");
    assert_eq!(m.all("x-be"), ["192.0.2.10"]);
    let m = through(
        "option forwardfor header X-Fe",
        "option forwardfor header X-Be",
        V4,
        "",
    );
    assert_eq!(m.all("x-be"), ["192.0.2.10"]);
    assert!(m.all("x-fe").is_empty());
    // the backend's option without `header` means x-forwarded-for, not the frontend's name
    let m = through("option forwardfor header X-Fe", "option forwardfor", V4, "");
    assert_eq!(m.all("x-forwarded-for"), ["192.0.2.10"]);
    assert!(m.all("x-fe").is_empty());
}

#[test]
fn if_none_adds_only_when_absent_unless_the_other_proxy_always_adds() {
    let m = through(
        "option forwardfor if-none",
        "",
        V4,
        "x-forwarded-for: 1.2.3.4\r\n",
    );
    assert_eq!(m.all("x-forwarded-for"), ["1.2.3.4"]);
    let m = through("option forwardfor if-none", "", V4, "");
    assert_eq!(m.all("x-forwarded-for"), ["192.0.2.10"]);
    let m = through(
        "option forwardfor if-none",
        "option forwardfor",
        V4,
        "x-forwarded-for: 1.2.3.4\r\n",
    );
    assert_eq!(m.all("x-forwarded-for"), ["1.2.3.4", "192.0.2.10"]);
    let m = through(
        "option forwardfor if-none header X-Real",
        "",
        V4,
        "x-real: 5.6.7.8\r\nx-forwarded-for: 1.2.3.4\r\n",
    );
    assert_eq!(
        m.all("x-real"),
        ["5.6.7.8"],
        "if-none looks at the configured name"
    );
}

#[test]
fn ipv6_clients() {
    let m = through("option forwardfor", "", "[2001:db8::7]:40000", "");
    assert_eq!(m.all("x-forwarded-for"), ["2001:db8::7"]);
    let m = through(
        "option forwardfor except 2001:db8::/32",
        "",
        "[2001:db8::7]:40000",
        "",
    );
    assert!(m.all("x-forwarded-for").is_empty());
    // an IPv4 network never matches an IPv6 client
    let m = through(
        "option forwardfor except 0.0.0.0/0",
        "",
        "[2001:db8::7]:40000",
        "",
    );
    assert_eq!(m.all("x-forwarded-for"), ["2001:db8::7"]);
    // an IPv4 client of a dual-stack listener is an IPv6 address, printed as such
    let m = through("option forwardfor", "", "[::ffff:192.0.2.10]:40000", "");
    assert_eq!(m.all("x-forwarded-for"), ["::ffff:192.0.2.10"]);
    let m = through(
        "option forwardfor except 192.0.2.0/24",
        "",
        "[::ffff:192.0.2.10]:40000",
        "",
    );
    assert_eq!(m.all("x-forwarded-for"), ["::ffff:192.0.2.10"]);
}
