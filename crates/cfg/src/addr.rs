//! Addresses as the configuration writes them: HAProxy's `str2sa_range()` and `str2ip2()`
//! (src/tools.c), with their rules and their messages.
//!
//! Owns the syntax only: which prefixes name a family (`ipv4@`, `unix@`, `fd@`...), where
//! the port is (after the last colon not inside brackets), which port forms the caller
//! accepts ([`PaOpts`], upstream's `PA_O_*`), the environment expansion of the whole string
//! (`env_expand()`), and name resolution when the caller asks for it. What a caller does with
//! a family it does not support is the caller's business.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// What the caller accepts (upstream's `PA_O_*` flags).
#[derive(Clone, Copy, Debug, Default)]
pub struct PaOpts {
    /// Host names are resolved now (`PA_O_RESOLVE`).
    pub resolve: bool,
    /// A port may be given (`PA_O_PORT_OK`).
    pub port_ok: bool,
    /// A port must be given (`PA_O_PORT_MAND`).
    pub port_mand: bool,
    /// A port range `a-b` is accepted (`PA_O_PORT_RANGE`).
    pub port_range: bool,
    /// A port offset `+n`/`-n` is accepted (`PA_O_PORT_OFS`).
    pub port_ofs: bool,
    /// `fd@` names an inherited socket, checked now (`PA_O_SOCKET_FD`).
    pub socket_fd: bool,
    /// `fd@` names any file descriptor (`PA_O_RAW_FD`).
    pub raw_fd: bool,
    /// Stream sockets are accepted (`PA_O_STREAM`).
    pub stream: bool,
    /// Datagram sockets are accepted (`PA_O_DGRAM`).
    pub dgram: bool,
    /// Without a prefix, a datagram socket is meant (`PA_O_DEFAULT_DGRAM`).
    pub default_dgram: bool,
    /// A host name that does not parse as an address is kept to be resolved later (the
    /// caller passes `fqdn`), instead of being an error.
    pub fqdn: bool,
}

impl PaOpts {
    /// A listening address (`str2listener()`, for `bind` and `stats socket`).
    pub const LISTENER: PaOpts = PaOpts {
        resolve: true,
        port_ok: true,
        port_mand: true,
        port_range: true,
        port_ofs: false,
        socket_fd: true,
        raw_fd: false,
        stream: true,
        dgram: false,
        default_dgram: false,
        fqdn: false,
    };
    /// A server address (`_srv_parse_init()`): host names are resolved after parsing.
    pub const SERVER: PaOpts = PaOpts {
        resolve: false,
        port_ok: true,
        port_mand: false,
        port_range: false,
        port_ofs: true,
        socket_fd: false,
        raw_fd: false,
        stream: true,
        dgram: false,
        default_dgram: false,
        fqdn: true,
    };
    /// A `dispatch` address.
    pub const DISPATCH: PaOpts = PaOpts {
        resolve: true,
        port_ok: true,
        port_mand: true,
        port_range: false,
        port_ofs: false,
        socket_fd: false,
        raw_fd: false,
        stream: true,
        dgram: false,
        default_dgram: false,
        fqdn: false,
    };
    /// A `log` target (`parse_logsrv()`).
    pub const LOG: PaOpts = PaOpts {
        resolve: true,
        port_ok: true,
        port_mand: false,
        port_range: false,
        port_ofs: false,
        socket_fd: false,
        raw_fd: true,
        stream: true,
        dgram: true,
        default_dgram: true,
        fqdn: false,
    };
}

/// The family an address names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaFamily {
    /// IPv4 or IPv6: [`SaRange::addr`].
    Inet,
    /// A UNIX socket path (`unix@`, `uxst@`, `uxdg@`, or a path starting with `/`).
    Unix(String),
    /// An abstract UNIX socket (`abns@`).
    Abns(String),
    /// An inherited file descriptor (`fd@`).
    Fd(i32),
    /// A socket pair's file descriptor (`sockpair@`).
    SockPair(i32),
}

/// A parsed address (upstream's `sockaddr_storage` and the ports `str2sa_range()` returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaRange {
    pub family: SaFamily,
    /// The IP address and port (the port is 0 with an offset, or without port) for
    /// [`SaFamily::Inet`]; unspecified otherwise.
    pub addr: SocketAddr,
    /// The first and last port of the range (both the port for a single port, 0 when none
    /// or an offset was given).
    pub low: u32,
    pub high: u32,
    /// The port, or the offset (negative for `-n`), `porta` upstream.
    pub porta: i32,
    /// A host name to resolve later ([`PaOpts::fqdn`]).
    pub fqdn: Option<String>,
    /// A datagram address (`udp@`, `uxdg@`...).
    pub dgram: bool,
}

/// HAProxy's `env_expand()`: every `$NAME` or `${NAME}` (NAME made of letters, digits and
/// `_`) replaced by the variable's value, nothing when unset.
pub fn env_expand(s: &str) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let mut beg = i + 1;
        if b.get(beg) == Some(&b'{') {
            beg += 1;
        }
        let mut end = beg;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        let mut next = end;
        if b.get(end) == Some(&b'}') && beg > i + 1 {
            next += 1;
        }
        let name = String::from_utf8_lossy(&b[beg..end]);
        if !name.is_empty() {
            if let Some(v) = std::env::var_os(name.as_ref()) {
                out.extend_from_slice(v.to_string_lossy().as_bytes());
            }
        }
        i = next;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// C's `atoi()` on what follows: optional blanks and sign, digits (saturating like glibc's
/// `strtol` then truncated to `int`).
fn c_atoi(s: &str) -> i32 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in d.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    let v = if neg { -v } else { v };
    v as i32
}

/// Reads a file descriptor number as `strtol(s, &end, 10)` with nothing after it, >= 0.
fn fd_number(s: &str) -> Option<i32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if s.is_empty() || d.is_empty() || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i64 = d.parse().unwrap_or(i64::MAX);
    let v = if neg { -v } else { v };
    // strtol's long truncated to int, as upstream stores it
    let v = v as i32;
    (v >= 0).then_some(v)
}

/// HAProxy's `str2ip2()`: an IPv4 or IPv6 address (IPv6 possibly in brackets), `*` or
/// nothing for "any" (IPv4 unless the family says otherwise), `::` for IPv6 "any"; with
/// `resolve`, a host name resolved now. `v6` constrains the family (`Some(false)` IPv4 only).
pub fn str2ip2(s: &str, v6: Option<bool>, resolve: bool) -> Option<IpAddr> {
    let mut s = s;
    if let Some(rest) = s.strip_prefix('[') {
        if s.len() < 4 || s.len() >= 48 || !rest.ends_with(']') {
            return None;
        }
        s = &rest[..rest.len() - 1];
    }
    if s == "::" {
        return match v6 {
            None | Some(true) => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            Some(false) => None,
        };
    }
    if s.is_empty() || s == "*" {
        return Some(match v6 {
            Some(true) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if v6 != Some(false) {
        if let Ok(a) = s.parse::<Ipv6Addr>() {
            return Some(IpAddr::V6(a));
        }
    }
    if v6 != Some(true) {
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(a));
        }
    }
    if !resolve || !valid_hostname(s) {
        return None;
    }
    let found = (s, 0u16).to_socket_addrs().ok()?;
    let mut all: Vec<IpAddr> = found.map(|a| a.ip()).collect();
    // gethostbyname() answers IPv4 first
    all.sort_by_key(|a| a.is_ipv6());
    all.into_iter().find(|a| match v6 {
        None => true,
        Some(true) => a.is_ipv6(),
        Some(false) => a.is_ipv4(),
    })
}

/// `resolv_hostname_validation()`: at most 255 bytes, labels of letters, digits, `-` and
/// `_` separated by dots, each at most 63 bytes (empty labels pass, as upstream's).
fn valid_hostname(s: &str) -> bool {
    s.len() <= 255
        && s.split('.').all(|l| {
            l.len() <= 63
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

/// HAProxy's `str2sa_range()`: reads `text` (environment variables expanded) as an address
/// with the forms `o` accepts.
///
/// # Errors
/// Upstream's message, which may end with a newline as upstream's does (callers pass it
/// through [`indent_msg`] as upstream's do).
pub fn str2sa_range(text: &str, o: PaOpts) -> Result<SaRange, String> {
    let expanded = env_expand(text);
    if expanded.is_empty() {
        return Err(format!(
            "'{text}' resolves to an empty address (environment variable missing?)\n"
        ));
    }
    let mut dgram = o.dgram && (!o.stream || o.default_dgram);
    let mut s = expanded.as_str();
    if let Some(r) = s.strip_prefix("stream+") {
        s = r;
        dgram = false;
    } else if let Some(r) = s.strip_prefix("dgram+") {
        s = r;
        dgram = true;
    }
    enum Fam {
        Unix,
        Abns,
        Unspec,
        V4,
        V6,
        Fd,
        SockPair,
    }
    let prefixes: &[(&str, Fam, Option<bool>)] = &[
        ("unix@", Fam::Unix, None),
        ("uxdg@", Fam::Unix, Some(true)),
        ("uxst@", Fam::Unix, Some(false)),
        ("abns@", Fam::Abns, None),
        ("ip@", Fam::Unspec, None),
        ("ipv4@", Fam::V4, None),
        ("ipv6@", Fam::V6, None),
        ("tcp4@", Fam::V4, Some(false)),
        ("udp4@", Fam::V4, Some(true)),
        ("tcp6@", Fam::V6, Some(false)),
        ("udp6@", Fam::V6, Some(true)),
        ("tcp@", Fam::Unspec, Some(false)),
        ("udp@", Fam::Unspec, Some(true)),
        ("quic4@", Fam::V4, Some(false)),
        ("quic6@", Fam::V6, Some(false)),
        ("fd@", Fam::Fd, None),
        ("sockpair@", Fam::SockPair, None),
    ];
    let mut fam = Fam::Unspec;
    let mut matched = false;
    for (p, f, dg) in prefixes {
        if let Some(r) = s.strip_prefix(p) {
            s = r;
            fam = match f {
                Fam::Unix => Fam::Unix,
                Fam::Abns => Fam::Abns,
                Fam::Unspec => Fam::Unspec,
                Fam::V4 => Fam::V4,
                Fam::V6 => Fam::V6,
                Fam::Fd => Fam::Fd,
                Fam::SockPair => Fam::SockPair,
            };
            if let Some(d) = dg {
                dgram = *d;
            }
            matched = true;
            break;
        }
    }
    if !matched && s.starts_with('/') {
        fam = Fam::Unix;
    }
    let unspec = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let mut r = SaRange {
        family: SaFamily::Inet,
        addr: unspec,
        low: 0,
        high: 0,
        porta: 0,
        fqdn: None,
        dgram,
    };
    match fam {
        Fam::SockPair | Fam::Fd => {
            let Some(fd) = fd_number(s) else {
                return Err(format!(
                    "file descriptor '{s}' is not a valid integer in '{text}'\n"
                ));
            };
            if matches!(fam, Fam::SockPair) {
                r.family = SaFamily::SockPair(fd);
            } else if o.socket_fd {
                // an inherited listening socket: it must exist and be of the right type
                check_socket_fd(fd, r.dgram)?;
                r.family = SaFamily::Fd(fd);
            } else if o.raw_fd {
                r.family = SaFamily::Fd(fd);
            } else {
                return Err(format!(
                    "a file descriptor is not acceptable here in '{text}'\n"
                ));
            }
        }
        Fam::Unix | Fam::Abns => {
            let abns = matches!(fam, Fam::Abns);
            // sun_path is 108 bytes; a file path also needs room for ".<pid>.<tmp>"
            let max = 107 - if abns { 0 } else { 1 + 5 + 1 + 3 };
            if s.len() > max {
                return Err(format!("socket path '{text}' too long (max {max})\n"));
            }
            r.family = if abns {
                SaFamily::Abns(s.to_string())
            } else {
                SaFamily::Unix(s.to_string())
            };
        }
        Fam::Unspec | Fam::V4 | Fam::V6 => {
            let v6 = match fam {
                Fam::V4 => Some(false),
                Fam::V6 => Some(true),
                _ => None,
            };
            // the port follows the last ':' unless a ']' comes after it
            let b = s.as_bytes();
            let mut chr = b.len().saturating_sub(1);
            while chr > 0 && b[chr] != b']' && b[chr] != b':' {
                chr -= 1;
            }
            let (host, port1) = if b.get(chr) == Some(&b':') {
                if !o.port_ok {
                    return Err(format!("port specification not permitted here in '{text}'"));
                }
                (&s[..chr], &s[chr + 1..])
            } else {
                if o.port_mand {
                    return Err(format!("missing port specification in '{text}'"));
                }
                (s, "")
            };
            let first = port1.as_bytes().first().copied();
            if first.is_some_and(|c| c.is_ascii_digit()) {
                let (p1, p2) = match port1.split_once('-') {
                    Some((a, b)) => {
                        if !o.port_range {
                            return Err(format!("port range not permitted here in '{text}'"));
                        }
                        (a, b)
                    }
                    None => (port1, port1),
                };
                let (lo, hi) = (c_atoi(p1), c_atoi(p2));
                let min = i32::from(o.port_mand);
                if lo < min || lo > 65535 {
                    return Err(format!("invalid port '{p1}'"));
                }
                if hi < min || hi > 65535 {
                    return Err(format!("invalid port '{p2}'"));
                }
                if lo > hi {
                    return Err(format!("invalid port range '{lo}-{hi}'"));
                }
                r.low = lo as u32;
                r.high = hi as u32;
                r.porta = lo;
            } else if first == Some(b'-') {
                if !o.port_ofs {
                    return Err(format!("port offset not permitted here in '{text}'"));
                }
                r.low = c_atoi(&port1[1..]) as u32;
                r.porta = -(r.low as i32);
            } else if first == Some(b'+') {
                if !o.port_ofs {
                    return Err(format!("port offset not permitted here in '{text}'"));
                }
                r.high = c_atoi(&port1[1..]) as u32;
                r.porta = r.high as i32;
            } else if let Some(c) = first {
                return Err(format!(
                    "invalid character '{}' in port number '{port1}' in '{text}'\n",
                    c as char
                ));
            } else if o.port_mand {
                return Err(format!("missing port specification in '{text}'"));
            }
            let port = u16::try_from(r.porta).unwrap_or(0);
            match str2ip2(host, v6, false) {
                Some(ip) => r.addr = SocketAddr::new(ip, port),
                None => {
                    let resolved = if o.resolve {
                        str2ip2(host, v6, true)
                    } else {
                        None
                    };
                    match resolved {
                        Some(ip) => r.addr = SocketAddr::new(ip, port),
                        None if o.fqdn && !o.resolve => {
                            r.fqdn = Some(host.to_string());
                            r.addr = SocketAddr::new(r.addr.ip(), port);
                        }
                        None => {
                            return Err(format!("invalid address: '{host}' in '{text}'\n"));
                        }
                    }
                }
            }
        }
    }
    if !r.dgram && !o.stream {
        return Err(format!("stream-type address not acceptable in '{text}'\n"));
    }
    if r.dgram && !o.dgram {
        return Err(format!("dgram-type address not acceptable in '{text}'\n"));
    }
    Ok(r)
}

/// The checks `str2sa_range()` makes of an inherited socket (`fd@N` where a socket is
/// expected): `getsockname()` must succeed and the type (stream or datagram) must match.
fn check_socket_fd(fd: i32, dgram: bool) -> Result<(), String> {
    // SAFETY: getsockname and getsockopt only write into the buffers passed with their
    // lengths; an fd that is not open or not a socket makes them fail with errno.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) == -1 {
            let e = std::io::Error::last_os_error();
            return Err(format!(
                "cannot use file descriptor '{fd}' : {}.\n",
                crate::diag::io_reason(&e)
            ));
        }
        let mut ty: libc::c_int = 0;
        let mut tlen = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let ok = libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            &mut ty as *mut _ as *mut libc::c_void,
            &mut tlen,
        ) == 0;
        if !ok || (ty == libc::SOCK_STREAM) == dgram {
            return Err(format!(
                "socket on file descriptor '{fd}' is of the wrong type.\n"
            ));
        }
    }
    Ok(())
}

/// HAProxy's `indent_msg()`: a message without line feed is kept, a single trailing one is
/// removed; a message of several lines gets each line on its own line, indented by `level`
/// spaces (so it starts with a line feed).
pub fn indent_msg(msg: &str, level: usize) -> String {
    let lf = msg.matches('\n').count();
    if lf == 0 {
        return msg.to_string();
    }
    if lf == 1 && msg.ends_with('\n') {
        return msg[..msg.len() - 1].to_string();
    }
    let mut out = String::new();
    for line in msg.trim_start_matches('\n').split_inclusive('\n') {
        out.push('\n');
        out.push_str(&" ".repeat(level));
        out.push_str(line.strip_suffix('\n').unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind() -> PaOpts {
        PaOpts {
            resolve: true,
            port_ok: true,
            port_mand: true,
            port_range: true,
            socket_fd: true,
            stream: true,
            ..PaOpts::default()
        }
    }

    fn server() -> PaOpts {
        PaOpts {
            port_ok: true,
            port_ofs: true,
            stream: true,
            fqdn: true,
            ..PaOpts::default()
        }
    }

    #[test]
    fn forms() {
        let r = str2sa_range("127.0.0.1:80", bind()).unwrap();
        assert_eq!(
            (r.addr, r.low, r.high),
            ("127.0.0.1:80".parse().unwrap(), 80, 80)
        );
        let r = str2sa_range("[::1]:8080-8081", bind()).unwrap();
        assert_eq!((r.addr.port(), r.low, r.high), (8080, 8080, 8081));
        assert_eq!(
            str2sa_range(":80", bind()).unwrap().addr,
            "0.0.0.0:80".parse().unwrap()
        );
        assert_eq!(
            str2sa_range("*:80", bind()).unwrap().addr,
            "0.0.0.0:80".parse().unwrap()
        );
        assert_eq!(
            str2sa_range("ipv6@:80", bind()).unwrap().addr,
            "[::]:80".parse().unwrap()
        );
        // unbracketed IPv6: the last colon separates the port
        assert_eq!(
            str2sa_range(":::80", bind()).unwrap().addr,
            "[::]:80".parse().unwrap()
        );
        let r = str2sa_range("::1", server()).unwrap();
        assert_eq!((r.fqdn.as_deref(), r.porta), (Some(":"), 1));
        let r = str2sa_range("10.0.0.1", server()).unwrap();
        assert_eq!((r.fqdn, r.porta, r.low), (None, 0, 0));
        assert_eq!(str2sa_range("10.0.0.1:+5", server()).unwrap().porta, 5);
        assert_eq!(str2sa_range("10.0.0.1:-5", server()).unwrap().porta, -5);
        // an inherited listening socket must be one, of the right type
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = l.as_raw_fd();
        assert_eq!(
            str2sa_range(&format!("fd@{fd}"), bind()).unwrap().family,
            SaFamily::Fd(fd)
        );
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(
            str2sa_range(&format!("fd@{}", u.as_raw_fd()), bind()).unwrap_err(),
            format!(
                "socket on file descriptor '{}' is of the wrong type.\n",
                u.as_raw_fd()
            )
        );
        let f = std::fs::File::open("/").unwrap();
        assert_eq!(
            str2sa_range(&format!("fd@{}", f.as_raw_fd()), bind()).unwrap_err(),
            format!(
                "cannot use file descriptor '{}' : Socket operation on non-socket.\n",
                f.as_raw_fd()
            )
        );
        assert_eq!(
            str2sa_range("fd@99999", bind()).unwrap_err(),
            "cannot use file descriptor '99999' : Bad file descriptor.\n"
        );
        assert_eq!(
            str2sa_range("/run/x.sock", bind()).unwrap().family,
            SaFamily::Unix("/run/x.sock".into())
        );
    }

    /// The messages of haproxy 2.6.12 for the same strings.
    #[test]
    fn messages() {
        let e = |s: &str, o: PaOpts| indent_msg(&str2sa_range(s, o).unwrap_err(), 2);
        assert_eq!(
            e("999.1.2.3:18080", bind()),
            "invalid address: '999.1.2.3' in '999.1.2.3:18080'"
        );
        assert_eq!(
            e("127.0.0.1", bind()),
            "missing port specification in '127.0.0.1'"
        );
        assert_eq!(e("127.0.0.1:99999", bind()), "invalid port '99999'");
        assert_eq!(e("127.0.0.1:0", bind()), "invalid port '0'");
        // atoi(): the port is 8, the rest ignored
        assert_eq!(str2sa_range("127.0.0.1:8x", bind()).unwrap().addr.port(), 8);
        assert_eq!(
            e("127.0.0.1:x", bind()),
            "invalid character 'x' in port number 'x' in '127.0.0.1:x'"
        );
        assert_eq!(e("127.0.0.1:90-80", bind()), "invalid port range '90-80'");
        assert_eq!(
            e("127.0.0.1:+1", bind()),
            "port offset not permitted here in '127.0.0.1:+1'"
        );
        assert_eq!(
            e("fd@abc", bind()),
            "file descriptor 'abc' is not a valid integer in 'fd@abc'"
        );
        assert_eq!(
            e("fd@1", server()),
            "a file descriptor is not acceptable here in 'fd@1'"
        );
        assert_eq!(
            e("udp@:80", bind()),
            "dgram-type address not acceptable in 'udp@:80'"
        );
        assert_eq!(
            e("${NOPE_UNSET_ADDR_X}", bind()),
            "'${NOPE_UNSET_ADDR_X}' resolves to an empty address (environment variable missing?)"
        );
        assert_eq!(
            e("1.2.3.4:80-81", server()),
            "port range not permitted here in '1.2.3.4:80-81'"
        );
    }

    /// `str2ip2()`'s rules: brackets, "any" forms, the family constraint, resolution only
    /// when asked and only of a valid host name.
    #[test]
    fn str2ip2_like_upstream() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(str2ip2("[::1]", None, false), Some(ip("::1")));
        assert_eq!(str2ip2("[::]", None, false), Some(ip("::")));
        // brackets need 4 bytes at least and the closing one
        assert_eq!(str2ip2("[*]", None, false), None);
        assert_eq!(str2ip2("[]", None, false), None);
        assert_eq!(str2ip2("[::1", None, false), None);
        assert_eq!(str2ip2("[::1]x", None, false), None);
        assert_eq!(str2ip2("*", Some(true), false), Some(ip("::")));
        assert_eq!(str2ip2("", None, false), Some(ip("0.0.0.0")));
        assert_eq!(str2ip2("::", Some(false), false), None);
        assert_eq!(str2ip2("1.2.3.4", Some(true), false), None);
        assert_eq!(str2ip2("::1", Some(false), false), None);
        // a host name is resolved only when asked (`localhost` must resolve, as for the
        // corpus), and only when it is a valid host name: a scoped IPv6 address, which
        // getaddrinfo() would take, is not
        assert_eq!(str2ip2("localhost", None, false), None);
        assert_eq!(
            str2ip2("localhost", Some(false), true),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(str2ip2("::1%lo", None, true), None);
        assert!(valid_hostname("a-b_c.D9.") && valid_hostname("a..b"));
        assert!(!valid_hostname("a b") && !valid_hostname("::1%lo"));
        let a63 = "a".repeat(63);
        assert!(valid_hostname(&a63) && valid_hostname(&format!("{a63}.{a63}")));
        assert!(!valid_hostname(&format!("{a63}a")) && !valid_hostname(&format!("{a63}a.b")));
        let n255 = format!("{}a", "a.".repeat(127));
        assert!(valid_hostname(&n255) && !valid_hostname(&format!("{n255}a")));
    }

    /// `str2sa_range()`'s port rules (upstream's `atoi()` included), socket types, family
    /// prefixes, path lengths and file descriptors.
    #[test]
    fn str2sa_range_like_upstream() {
        let e = |s: &str, o: PaOpts| indent_msg(&str2sa_range(s, o).unwrap_err(), 2);
        // each end of a range is checked, in order, then their order
        assert_eq!(e("127.0.0.1:0-80", bind()), "invalid port '0'");
        assert_eq!(e("127.0.0.1:80-0", bind()), "invalid port '0'");
        assert_eq!(e("127.0.0.1:65536-1", bind()), "invalid port '65536'");
        assert_eq!(e("127.0.0.1:1-65536", bind()), "invalid port '65536'");
        let r = str2sa_range("127.0.0.1:1-65535", bind()).unwrap();
        assert_eq!((r.low, r.high, r.porta), (1, 65535, 1));
        assert_eq!(str2sa_range("127.0.0.1:1-1", bind()).unwrap().high, 1);
        // without a mandatory port, 0 is a port
        assert_eq!(str2sa_range("1.2.3.4:0", server()).unwrap().porta, 0);
        // offsets read by atoi(): sign and blanks, so "--5" is +5
        let ofs = |s: &str| str2sa_range(s, server()).unwrap().porta;
        assert_eq!(ofs("1.2.3.4:--5"), 5);
        assert_eq!(ofs("1.2.3.4:-+5"), -5);
        assert_eq!(ofs("1.2.3.4:+-5"), -5);
        assert_eq!(ofs("1.2.3.4:+ 7"), 7);
        assert_eq!(ofs("1.2.3.4:+x"), 0);
        // socket types: the caller's default, then the prefix
        let o = |stream, dgram, default_dgram| PaOpts {
            port_ok: true,
            stream,
            dgram,
            default_dgram,
            ..PaOpts::default()
        };
        let dg = |s: &str, o: PaOpts| str2sa_range(s, o).map(|r| r.dgram);
        assert_eq!(dg("1.2.3.4:5", o(true, false, false)), Ok(false));
        assert_eq!(dg("1.2.3.4:5", o(false, true, false)), Ok(true));
        assert_eq!(dg("1.2.3.4:5", o(true, true, false)), Ok(false));
        assert_eq!(dg("1.2.3.4:5", o(true, true, true)), Ok(true));
        assert_eq!(dg("tcp@1.2.3.4:5", PaOpts::LOG), Ok(false));
        assert_eq!(dg("udp@1.2.3.4:5", PaOpts::LOG), Ok(true));
        assert_eq!(dg("stream+udp@1.2.3.4:5", PaOpts::LOG), Ok(true));
        assert_eq!(dg("dgram+1.2.3.4:5", o(false, true, false)), Ok(true));
        assert_eq!(
            e("1.2.3.4:5", o(false, false, false)),
            "stream-type address not acceptable in '1.2.3.4:5'"
        );
        assert_eq!(
            e("1.2.3.4:5", o(false, false, true)),
            "stream-type address not acceptable in '1.2.3.4:5'"
        );
        assert_eq!(
            e("tcp@1.2.3.4:5", o(false, true, false)),
            "stream-type address not acceptable in 'tcp@1.2.3.4:5'"
        );
        // a family prefix constrains the address
        assert_eq!(
            e("ipv4@[::1]:80", bind()),
            "invalid address: '[::1]' in 'ipv4@[::1]:80'"
        );
        assert_eq!(
            e("ipv6@127.0.0.1:80", bind()),
            "invalid address: '127.0.0.1' in 'ipv6@127.0.0.1:80'"
        );
        assert_eq!(
            str2sa_range("ipv4@127.0.0.1:80", bind()).unwrap().addr,
            "127.0.0.1:80".parse().unwrap()
        );
        // a name that does not parse: kept for later (server), resolved now (bind), or
        // refused when neither is asked
        assert_eq!(
            str2sa_range("localhost:80", server())
                .unwrap()
                .fqdn
                .as_deref(),
            Some("localhost")
        );
        assert_eq!(
            str2sa_range("localhost:80", bind()).unwrap().addr,
            "127.0.0.1:80".parse().unwrap()
        );
        assert_eq!(
            e("localhost:80", o(true, false, false)),
            "invalid address: 'localhost' in 'localhost:80'"
        );
        // sun_path holds 107 bytes, minus ".<pid>.<tmp>" for a file
        let path = |n: usize| format!("/{}", "p".repeat(n - 1));
        assert!(str2sa_range(&path(97), bind()).is_ok());
        assert_eq!(
            e(&path(98), bind()),
            format!("socket path '{}' too long (max 97)", path(98))
        );
        let abns = |n: usize| format!("abns@{}", "p".repeat(n));
        assert_eq!(
            str2sa_range(&abns(107), bind()).unwrap().family,
            SaFamily::Abns("p".repeat(107))
        );
        assert_eq!(
            e(&abns(108), bind()),
            format!("socket path '{}' too long (max 107)", abns(108))
        );
        // fd@: strtol() with nothing after the number, not negative
        let fd = |s: &str| str2sa_range(s, PaOpts::LOG).map(|r| r.family);
        assert_eq!(fd("fd@+3"), Ok(SaFamily::Fd(3)));
        assert_eq!(fd("fd@ 3"), Ok(SaFamily::Fd(3)));
        assert_eq!(fd("fd@-0"), Ok(SaFamily::Fd(0)));
        for bad in [
            "fd@",
            "fd@-",
            "fd@+",
            "fd@-1",
            "fd@3x",
            "fd@-3x",
            "fd@99999999999999999999",
        ] {
            assert_eq!(
                e(bad, PaOpts::LOG),
                format!(
                    "file descriptor '{}' is not a valid integer in '{bad}'",
                    &bad[3..]
                )
            );
        }
        assert_eq!(fd("sockpair@4"), Ok(SaFamily::SockPair(4)));
    }

    #[test]
    fn env_expand_like_upstream() {
        std::env::set_var("HRS_ADDR_T", "x");
        assert_eq!(env_expand("a$HRS_ADDR_T-${HRS_ADDR_T}b"), "ax-xb");
        assert_eq!(env_expand("a$-b"), "a-b");
        // a name may end the text; `}` closes only a `${`
        assert_eq!(env_expand("a$HRS_ADDR_T"), "ax");
        assert_eq!(env_expand("a$HRS_ADDR_T}b"), "ax}b");
        assert_eq!(env_expand("a${HRS_ADDR_T"), "ax");
        assert_eq!(env_expand("${NOPE_UNSET_Q}c"), "c");
    }

    #[test]
    fn indent_like_upstream() {
        assert_eq!(indent_msg("a", 2), "a");
        assert_eq!(indent_msg("a\n", 2), "a");
        assert_eq!(indent_msg("a\nb\n", 2), "\n  a\n  b");
    }
}
