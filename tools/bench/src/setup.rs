//! The configurations the driver writes (backend nginx, nginx as a reverse proxy, the
//! haproxy-style file shared by haproxy-rs and upstream haproxy) and the small raw-socket
//! HTTP/1.1 client it uses to wait for readiness, read nginx's `stub_status` and hold
//! idle keep-alive connections. Config text and response parsing are pure and tested.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::procs::{self, Guard};

/// `n` distinct free TCP ports on 127.0.0.1 (all bound at once, read and released: a
/// tiny race with other programs is possible).
pub fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// The `user` line nginx needs when started as root (otherwise its workers switch to
/// `nobody`, who cannot read the temp dir); empty for other users.
pub fn nginx_user_line() -> &'static str {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        "user root root;"
    } else {
        ""
    }
}

/// The lines every nginx instance shares: foreground, `workers` worker processes, files
/// under `dir`.
fn nginx_preamble(dir: &Path, workers: u32, worker_connections: usize) -> String {
    let d = dir.display();
    format!(
        "{user}
daemon off;
master_process on;
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
",
        user = nginx_user_line()
    )
}

/// The backend: one worker, `return 200` of [`BODY`] on `port` (HTTP/1.1) and `h2_port`
/// (h2c with prior knowledge), `stub_status` at `/nginx_status` for the accepted
/// connections counter. `keepalive_requests` is high so that nginx never closes (or sends
/// GOAWAY on) a busy connection during a run.
pub fn nginx_backend_conf(
    dir: &Path,
    port: u16,
    h2_port: u16,
    worker_connections: usize,
) -> String {
    let mut s = nginx_preamble(dir, 1, worker_connections);
    s.push_str(&format!(
        "    server {{
        listen 127.0.0.1:{port} backlog=4096;
        listen 127.0.0.1:{h2_port} http2 backlog=4096;
        location / {{ return 200 \"hello from nginx\\n\"; }}
        location = /nginx_status {{ stub_status; }}
    }}
}}
"
    ));
    s
}

/// nginx as a reverse proxy in front of the backend: `workers` worker processes, an
/// upstream with `keepalive 64` (per worker; HTTP/1.1 and an empty `Connection` header so
/// the server connections are kept), on `port` (HTTP/1.1) and `h2_port` (h2c with prior
/// knowledge).
pub fn nginx_proxy_conf(
    dir: &Path,
    workers: u32,
    (port, h2_port, backend_port): (u16, u16, u16),
    worker_connections: usize,
) -> String {
    let mut s = nginx_preamble(dir, workers, worker_connections);
    s.push_str(&format!(
        "    upstream be {{
        server 127.0.0.1:{backend_port};
        keepalive 64;
        keepalive_requests 10000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        listen 127.0.0.1:{h2_port} http2 backlog=4096;
        location / {{
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }}
    }}
}}
"
    ));
    s
}

/// The haproxy-style configuration, the same text for haproxy-rs and upstream haproxy:
/// `nbthread` always written (both default to the CPU count otherwise), `maxconn`, HTTP
/// mode, one frontend on `port` (HTTP/1.1, and h2c prior knowledge which both detect on a
/// plain bind), one server, and `http-reuse reuse` when given (otherwise the default,
/// `safe`).
pub fn haproxy_cfg(
    nbthread: u32,
    port: u16,
    backend_port: u16,
    maxconn: usize,
    reuse: Option<&str>,
) -> String {
    let reuse_line = match reuse {
        Some(mode) => format!("    http-reuse {mode}\n"),
        None => String::new(),
    };
    format!(
        "global
    nbthread {nbthread}
    maxconn {maxconn}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
{reuse_line}    server s1 127.0.0.1:{backend_port}
"
    )
}

/// The idle-connection count S4 can use under the fd hard limit `hard`: 10,000 if
/// upstream haproxy (which needs `2 * maxconn + 150` descriptors, with maxconn = conns +
/// 50) fits, else the largest multiple of 100 that does. Returns `(conns, maxconn)`.
pub fn idle_conns_for_limit(hard: u64) -> (usize, usize) {
    let fits = |conns: usize| 2 * (conns as u64 + 50) + 150 <= hard;
    let mut conns = 10_000;
    while conns > 100 && !fits(conns) {
        conns -= 100;
    }
    (conns, conns + 50)
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// One `GET path` with `Connection: close` to 127.0.0.1:`port`; returns the status and
/// the body. Fails on connection or I/O errors (2 s timeouts) and unparsable answers.
pub fn http_get(port: u16, path: &str) -> io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&local(port), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let status = parse_status_line(&text).ok_or_else(|| bad_answer(&text))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Sends `GET / HTTP/1.1` (keep-alive) on `s` and reads the complete answer, which must
/// carry a Content-Length. Returns the status; the connection stays usable.
pub fn keepalive_get(s: &mut TcpStream) -> io::Result<u16> {
    s.write_all(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status = parse_status_line(&head).ok_or_else(|| bad_answer(&head))?;
    let len = parse_content_length(&head).ok_or_else(|| bad_answer(&head))?;
    let mut have = buf.len() - head_end;
    while have < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the response body",
            ));
        }
        have += n;
    }
    Ok(status)
}

fn bad_answer(text: &str) -> io::Error {
    let first = text.lines().next().unwrap_or("");
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected answer: {first:?}"),
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The status code of "HTTP/1.1 200 OK...".
pub fn parse_status_line(text: &str) -> Option<u16> {
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The Content-Length of a response head (case-insensitive name).
pub fn parse_content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            value.trim().parse().ok()
        } else {
            None
        }
    })
}

/// The `accepts` counter of an nginx `stub_status` page:
/// "server accepts handled requests\n 17 17 42".
pub fn parse_stub_accepts(body: &str) -> Option<u64> {
    let mut lines = body.lines();
    lines.find(|l| l.trim_start().starts_with("server accepts"))?;
    lines.next()?.split_whitespace().next()?.parse().ok()
}

/// The "Active connections" figure of an nginx `stub_status` page.
pub fn parse_stub_active(body: &str) -> Option<u64> {
    body.lines()
        .find_map(|l| l.trim().strip_prefix("Active connections:"))?
        .trim()
        .parse()
        .ok()
}

/// The backend's connections open now, the status request's own included.
pub fn backend_active(port: u16) -> io::Result<u64> {
    let (status, body) = http_get(port, "/nginx_status")?;
    if status != 200 {
        return Err(io::Error::other(format!("stub_status answered {status}")));
    }
    parse_stub_active(&body).ok_or_else(|| io::Error::other("unparsable stub_status page"))
}

/// The backend's accepted-connections counter. The status request's own connection is
/// included (it is accepted before the page is written).
pub fn backend_accepts(port: u16) -> io::Result<u64> {
    let (status, body) = http_get(port, "/nginx_status")?;
    if status != 200 {
        return Err(io::Error::other(format!("stub_status answered {status}")));
    }
    parse_stub_accepts(&body).ok_or_else(|| io::Error::other("unparsable stub_status page"))
}

/// Waits until 127.0.0.1:`port` answers `GET /` with 200 (or, with `http` false, just
/// accepts a TCP connection). Fails after `timeout`, when `proc` has exited (with the tail
/// of its log), or when the driver is interrupted.
pub fn wait_ready(
    port: u16,
    http: bool,
    mut proc: Option<&mut Guard>,
    timeout: Duration,
) -> Result<(), String> {
    let end = Instant::now() + timeout;
    let mut last_err;
    loop {
        if let Some(p) = proc.as_deref_mut() {
            if let Some(st) = p.exited() {
                return Err(format!(
                    "{} exited ({st}) before answering:\n{}",
                    p.name(),
                    p.log_tail(15)
                ));
            }
        }
        let attempt = if http {
            match http_get(port, "/") {
                Ok((200, _)) => Ok(()),
                Ok((st, _)) => Err(format!("answered {st}")),
                Err(e) => Err(e.to_string()),
            }
        } else {
            TcpStream::connect_timeout(&local(port), Duration::from_secs(1))
                .map(drop)
                .map_err(|e| e.to_string())
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => last_err = e,
        }
        if procs::interrupted() {
            return Err("interrupted".to_string());
        }
        if Instant::now() >= end {
            let name = proc.as_deref().map_or("backend", |p| p.name());
            let tail = proc.as_deref().map(|p| p.log_tail(15)).unwrap_or_default();
            return Err(format!(
                "{name} does not answer on 127.0.0.1:{port} after {timeout:?} ({last_err}):\n{tail}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_cfg_text() {
        let cfg = haproxy_cfg(1, 8000, 9000, 4000, Some("always"));
        assert!(cfg.contains("global\n    nbthread 1\n    maxconn 4000\n"));
        assert!(cfg.contains("bind 127.0.0.1:8000\n"));
        assert!(cfg.contains("backend be\n    http-reuse always\n    server s1 127.0.0.1:9000\n"));
        let cfg = haproxy_cfg(2, 8000, 9000, 4000, None);
        assert!(cfg.contains("global\n    nbthread 2\n"));
        assert!(!cfg.contains("http-reuse"));
        assert!(cfg.contains("backend be\n    server s1 127.0.0.1:9000\n"));
    }

    #[test]
    fn nginx_conf_texts() {
        let dir = Path::new("/tmp/x");
        let b = nginx_backend_conf(dir, 1, 2, 5000);
        assert!(b.contains("worker_processes 1;"));
        assert!(b.contains("worker_connections 5000;"));
        assert!(b.contains("listen 127.0.0.1:2 http2"));
        assert!(b.contains("return 200 \"hello from nginx\\n\";"));
        assert!(b.contains("stub_status;"));
        assert!(b.contains("pid /tmp/x/nginx.pid;"));
        assert_eq!(b.matches('{').count(), b.matches('}').count());
        let p = nginx_proxy_conf(dir, 1, (3, 4, 1), 5000);
        assert!(p.contains("worker_processes 1;"));
        assert!(p.contains("server 127.0.0.1:1;\n        keepalive 64;"));
        assert!(p.contains("proxy_set_header Connection \"\";"));
        assert!(p.contains("listen 127.0.0.1:4 http2"));
        assert_eq!(p.matches('{').count(), p.matches('}').count());
        let p2 = nginx_proxy_conf(dir, 2, (3, 4, 1), 5000);
        assert!(p2.contains("worker_processes 2;"));
        assert_eq!(p2.replace("worker_processes 2;", "worker_processes 1;"), p);
    }

    #[test]
    fn idle_conns_limits() {
        assert_eq!(idle_conns_for_limit(1_048_576), (10_000, 10_050));
        assert_eq!(idle_conns_for_limit(20_250), (10_000, 10_050));
        assert_eq!(idle_conns_for_limit(20_000), (9_800, 9_850));
        assert_eq!(idle_conns_for_limit(1024), (300, 350));
    }

    #[test]
    fn ports_are_distinct() {
        let mut p = free_ports(5).unwrap();
        p.sort_unstable();
        p.dedup();
        assert_eq!(p.len(), 5);
    }

    #[test]
    fn response_parsing() {
        let head = "HTTP/1.1 200 OK\r\nServer: nginx\r\ncontent-length: 17\r\n\r\n";
        assert_eq!(parse_status_line(head), Some(200));
        assert_eq!(parse_content_length(head), Some(17));
        assert_eq!(parse_status_line("SSH-2.0"), None);
        assert_eq!(
            parse_content_length("HTTP/1.1 204 No Content\r\n\r\n"),
            None
        );
        let page = "Active connections: 1 \nserver accepts handled requests\n 17 17 42 \nReading: 0 Writing: 1 Waiting: 0 \n";
        assert_eq!(parse_stub_accepts(page), Some(17));
        assert_eq!(parse_stub_accepts("nothing"), None);
        assert_eq!(parse_stub_active(page), Some(1));
    }

    #[test]
    fn keepalive_get_reads_whole_answers() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 256];
            for _ in 0..2 {
                let _ = c.read(&mut buf).unwrap();
                // the head and the body in separate writes
                c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
                    .unwrap();
                std::thread::sleep(Duration::from_millis(20));
                c.write_all(b"hello").unwrap();
            }
        });
        let mut s = TcpStream::connect(local(port)).unwrap();
        assert_eq!(keepalive_get(&mut s).unwrap(), 200);
        assert_eq!(keepalive_get(&mut s).unwrap(), 200);
        server.join().unwrap();
    }
}
