//! IPv4 and IPv6 networks as HAProxy reads and compares them: the one implementation behind
//! `option forwardfor except` and the IP patterns of ACLs (`src`, `dst`, `-m ip`).
//!
//! Owns [`Net`], its parsers (`str2net()`, `str62net()`, `str2mask()` of upstream's `tools.c`)
//! and the two containment rules upstream has, which differ on purpose:
//!
//! - [`Net::contains`] is `ipcmp2net()` (used by `option forwardfor except`): the address and
//!   the network must be of the same family, so an IPv4-mapped IPv6 client (`::ffff:a.b.c.d`,
//!   what a dual-stack listener sees) is *not* in an IPv4 network;
//! - [`Net::pat_match_ip`] is `pat_match_ip()` (ACL IP patterns): an IPv4 address is also
//!   compared with IPv6 networks as `::ffff:a.b.c.d`, and an IPv6 address that embeds an IPv4
//!   one (`::ffff:a.b.c.d`, `::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) with IPv4 networks.
//!
//! Pure functions; the only I/O is host name resolution when a parser is asked to resolve.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// A network: the address is stored already masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// An IPv4 network; `mask` is any 32-bit mask (a dotted mask need not be contiguous).
    V4 { addr: u32, mask: u32 },
    /// An IPv6 network of prefix length `bits` (0..=128).
    V6 { addr: u128, bits: u8 },
}

/// The IPv6 mask of a prefix length (`len2mask6()`).
fn v6_mask(bits: u8) -> u128 {
    match bits {
        0 => 0,
        b => u128::MAX << (128 - u32::from(b.min(128))),
    }
}

/// The IPv4 mask of a prefix length (`len2mask4()`).
fn v4_mask(bits: u32) -> u32 {
    match bits {
        0 => 0,
        b => u32::MAX << (32 - b.min(32)),
    }
}

/// glibc's `strtol`/`strtoul` on a whole string, base 10: leading white space, an optional
/// sign, digits. `None` when no digit is found or something follows them (upstream's
/// `!*str || (err && *err)` refusal). A negative value is returned as is; the callers refuse
/// it as upstream does through its unsigned comparison.
fn strtol_whole(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(b.len());
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i128 = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        // saturated, as strtol does: out of every range the callers accept either way
        v = v.saturating_mul(10).saturating_add(i128::from(d - b'0'));
        i += 1;
    }
    if i == start || i != b.len() {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// `str2mask()`: a dotted mask (any value) or a prefix length 0..=32.
fn str2mask(s: &str) -> Option<u32> {
    if s.contains('.') {
        return s.parse::<Ipv4Addr>().ok().map(u32::from);
    }
    let len = strtol_whole(s)?;
    // `(unsigned)len > 32` refuses negative lengths too
    if !(0..=32).contains(&len) {
        return None;
    }
    Some(v4_mask(len as u32))
}

/// What glibc's `gethostbyname()` answers for a name made of digits and dots (`s` has no
/// other character), which it never sends to DNS: `inet_aton()` with octal parts (`010` is
/// 8) and the short forms (`127.1` is 127.0.0.1, `1.2.3` is 1.2.0.3, a lone number is the
/// whole address); a trailing dot or an empty part is refused.
fn inet_aton_digits(s: &str) -> Option<u32> {
    if s.ends_with('.') {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = match p.strip_prefix('0') {
            Some(rest) if !rest.is_empty() => (rest, 8),
            _ => (*p, 10),
        };
        // an empty part does not parse
        let v = u64::from_str_radix(digits, radix).ok()?;
        if v > u64::from(u32::MAX) {
            return None;
        }
        vals.push(v as u32);
    }
    let (last, head) = vals.split_last()?;
    if head.iter().any(|&v| v > 0xff) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && *last >= 1 << rest_bits {
        return None;
    }
    let mut v = *last;
    for (i, &h) in head.iter().enumerate() {
        v |= h << (24 - 8 * i as u32);
    }
    Some(v)
}

/// True when `host` is one of `inet_aton()`'s forms with a hexadecimal part (`0x7f000001`,
/// `0x7f.1`): `getaddrinfo()` reads it as an address, `gethostbyname()` does not (only digits
/// and dots are numbers to it) and asks DNS, which knows no such name.
fn hex_inet_aton(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    let hex = |p: &str| {
        p.strip_prefix("0x")
            .or_else(|| p.strip_prefix("0X"))
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    parts.len() <= 4
        && parts.iter().any(|p| hex(p))
        && parts
            .iter()
            .all(|p| hex(p) || (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())))
}

/// The IPv4 address of `host` as `gethostbyname()` finds it: the numeric forms of
/// [`inet_aton_digits`] without a lookup, else the first IPv4 address the resolver gives.
fn resolve_v4(host: &str) -> Option<u32> {
    if host.is_empty() || host.contains(':') {
        return None;
    }
    if host.as_bytes()[0].is_ascii_digit() && host.bytes().all(|c| c.is_ascii_digit() || c == b'.')
    {
        return inet_aton_digits(host);
    }
    if hex_inet_aton(host) {
        return None;
    }
    (host, 0)
        .to_socket_addrs()
        .ok()?
        .find_map(|sa| match sa.ip() {
            IpAddr::V4(a) => Some(u32::from(a)),
            IpAddr::V6(_) => None,
        })
}

impl Net {
    /// `str2net()`: `<ipv4>[/<mask>]`, the mask a prefix length or a dotted mask (after the
    /// last `/`). When `resolve` is set, an address that is not a dotted quad is looked up as
    /// a host name (`gethostbyname()`, first IPv4 address). `None` when it cannot be read.
    pub fn parse_v4(text: &str, resolve: bool) -> Option<Net> {
        let (addr, mask) = match text.rsplit_once('/') {
            Some((a, m)) => (a, str2mask(m)?),
            None => (text, u32::MAX),
        };
        let a = match addr.parse::<Ipv4Addr>() {
            Ok(a) => u32::from(a),
            Err(_) if resolve => resolve_v4(addr)?,
            Err(_) => return None,
        };
        Some(Net::V4 {
            addr: a & mask,
            mask,
        })
    }

    /// `str62net()`: `<ipv6>[/<prefix length 0..=128>]`. `None` when it cannot be read (an
    /// empty or non-numeric length, a dotted mask, a length over 128).
    pub fn parse_v6(text: &str) -> Option<Net> {
        let (addr, bits) = match text.rsplit_once('/') {
            Some((a, m)) => {
                let len = strtol_whole(m)?;
                // `(unsigned)len > 128` refuses negative lengths too
                if !(0..=128).contains(&len) {
                    return None;
                }
                (a, len as u8)
            }
            None => (text, 128),
        };
        let a = addr.parse::<Ipv6Addr>().ok()?;
        Some(Net::V6 {
            addr: u128::from(a) & v6_mask(bits),
            bits,
        })
    }

    /// An IPv4 network ([`Net::parse_v4`]), else an IPv6 one ([`Net::parse_v6`]): how both
    /// `option forwardfor except` (always resolving) and `pat_parse_ip()` (resolving unless
    /// `-n`) read a network.
    pub fn parse(text: &str, resolve: bool) -> Option<Net> {
        Net::parse_v4(text, resolve).or_else(|| Net::parse_v6(text))
    }

    /// True when `ip` is in this network under `ipcmp2net()`'s rule: same family only, so an
    /// IPv4-mapped IPv6 address is never in an IPv4 network nor an IPv4 address in an IPv6
    /// one. This is the rule of `option forwardfor except`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Net::V4 { addr, mask }, IpAddr::V4(a)) => u32::from(a) & mask == addr,
            (Net::V6 { addr, bits }, IpAddr::V6(a)) => u128::from(a) & v6_mask(bits) == addr,
            _ => false,
        }
    }

    /// True when `ip` matches this network as an ACL IP pattern (`pat_match_ip()`): an IPv4
    /// address is compared with an IPv6 network as `::ffff:a.b.c.d`; an IPv6 address is
    /// compared with an IPv4 network through the IPv4 address it embeds, if any:
    /// `::ffff:a.b.c.d` (mapped), `::a.b.c.d` (compatible, including `::` and `::1`) or
    /// `2002:AABB:CCDD::/16`-style 6to4 (`AA.BB.CC.DD`); any other IPv6 address never
    /// matches an IPv4 network.
    pub fn pat_match_ip(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Net::V4 { .. }, IpAddr::V4(_)) | (Net::V6 { .. }, IpAddr::V6(_)) => self.contains(ip),
            (Net::V6 { .. }, IpAddr::V4(a)) => self.contains(IpAddr::V6(a.to_ipv6_mapped())),
            (Net::V4 { addr, mask }, IpAddr::V6(a)) => {
                embedded_v4(a).is_some_and(|v4| v4 & mask == addr)
            }
        }
    }
}

/// The IPv4 address an IPv6 one carries for `pat_match_ip()`: mapped (`::ffff:0:0/96`),
/// compatible (`::/96`) or 6to4 (`2002::/16`, bits 16..48).
fn embedded_v4(a: Ipv6Addr) -> Option<u32> {
    let o = a.octets();
    let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
    if w(0) == 0 && w(4) == 0 && (w(8) == 0 || w(8) == 0xffff) {
        Some(w(12))
    } else if o[0] == 0x20 && o[1] == 0x02 {
        Some(w(2))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn v4(a: &str, mask: &str) -> Net {
        Net::V4 {
            addr: u32::from(a.parse::<Ipv4Addr>().unwrap()),
            mask: u32::from(mask.parse::<Ipv4Addr>().unwrap()),
        }
    }

    #[test]
    fn str2net_and_str62net() {
        assert_eq!(
            Net::parse("10.1.2.3/8", false),
            Some(v4("10.0.0.0", "255.0.0.0"))
        );
        assert_eq!(
            Net::parse("10.1.2.3", false),
            Some(v4("10.1.2.3", "255.255.255.255"))
        );
        // a dotted mask need not be contiguous (str2mask: inet_pton only)
        assert_eq!(
            Net::parse("10.1.2.3/255.0.255.0", false),
            Some(v4("10.0.2.0", "255.0.255.0"))
        );
        assert_eq!(
            Net::parse("10.0.0.0/0", false),
            Some(v4("0.0.0.0", "0.0.0.0"))
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/x",
            "10.0.0.0/-1",
            "/8",
            "",
        ] {
            assert_eq!(Net::parse(bad, false), None, "{bad}");
        }
        assert_eq!(
            Net::parse("2001:db8::1/32", false),
            Some(Net::V6 {
                addr: u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap()),
                bits: 32
            })
        );
        assert_eq!(
            Net::parse("::1", false),
            Some(Net::V6 { addr: 1, bits: 128 })
        );
        // str62net takes no dotted mask, no empty or oversized length
        for bad in ["::1/255.255.0.0", "::1/", "::1/129", "::1/x", "[::1]"] {
            assert_eq!(Net::parse(bad, false), None, "{bad}");
        }
        // strtol's leading blanks and sign are accepted as upstream does: -0 is 0
        assert_eq!(
            Net::parse("10.0.0.0/+8", false),
            Some(v4("10.0.0.0", "255.0.0.0"))
        );
        assert_eq!(
            Net::parse("10.0.0.0/ 8", false),
            Some(v4("10.0.0.0", "255.0.0.0"))
        );
        assert_eq!(
            Net::parse("10.1.0.0/-0", false),
            Some(v4("0.0.0.0", "0.0.0.0"))
        );
        assert_eq!(
            Net::parse("::1/-0", false),
            Some(Net::V6 { addr: 0, bits: 0 })
        );
        let huge = format!("10.0.0.0/{}", "9".repeat(60));
        assert_eq!(Net::parse(&huge, false), None);
        // no address is no host name either
        assert_eq!(Net::parse("/8", true), None);
    }

    /// `gethostbyname()`'s numeric forms (checked with glibc): only when resolving.
    #[test]
    fn numeric_host_names() {
        let r = |s: &str| match Net::parse_v4(s, true) {
            Some(Net::V4 { addr, .. }) => Some(Ipv4Addr::from(addr).to_string()),
            _ => None,
        };
        assert_eq!(r("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(r("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(r("0377.1").as_deref(), Some("255.0.0.1"));
        assert_eq!(r("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(r("4294967295").as_deref(), Some("255.255.255.255"));
        assert_eq!(r("127.0.0.01").as_deref(), Some("127.0.0.1"));
        assert_eq!(r("1.2.256").as_deref(), Some("1.2.1.0"));
        assert_eq!(r("1.65536").as_deref(), Some("1.1.0.0"));
        for bad in [
            "09.0.0.1",
            "127.0.0.1.",
            "1..2",
            "4294967296",
            "1.2.3.256",
            "1.2.3.4.5",
        ] {
            assert_eq!(r(bad), None, "{bad}");
        }
        // inet_aton()'s hexadecimal forms are names to gethostbyname(), unknown to DNS
        // (getaddrinfo() would read them as addresses)
        for hex in ["0x7f000001", "0X7F.1", "0x7f.0.0.0x1"] {
            assert_eq!(r(hex), None, "{hex}");
        }
        assert!(!hex_inet_aton("0x") && !hex_inet_aton("0x.1") && !hex_inet_aton("1.2"));
        assert!(!hex_inet_aton("0x1.2.3.4.5") && !hex_inet_aton("0x1g"));
        // every part must be a number: these are names for DNS
        assert!(!hex_inet_aton("0x1.a") && !hex_inet_aton("0x1.") && hex_inet_aton("0x1.7"));
        // without resolution only inet_pton's dotted quad is read
        assert_eq!(Net::parse_v4("127.1", false), None);
        assert_eq!(Net::parse_v4("127.000.0.1", false), None);
        // a host name with a mask is resolved too (str2net splits the mask first)
        assert_eq!(
            Net::parse_v4("127.1/8", true),
            Some(v4("127.0.0.0", "255.0.0.0"))
        );
    }

    /// ipcmp2net: the family must match (forwardfor except).
    #[test]
    fn contains_is_ipcmp2net() {
        let n4 = Net::parse("127.0.0.0/8", false).unwrap();
        assert!(n4.contains(ip("127.0.0.1")));
        assert!(!n4.contains(ip("128.0.0.1")));
        assert!(!n4.contains(ip("::ffff:127.0.0.1")));
        let mapped = Net::parse("::ffff:127.0.0.0/104", false).unwrap();
        assert!(mapped.contains(ip("::ffff:127.0.0.1")));
        assert!(!mapped.contains(ip("127.0.0.1")));
        let odd = Net::parse("10.0.0.0/255.0.0.255", false).unwrap();
        assert!(odd.contains(ip("10.9.9.0")) && !odd.contains(ip("10.9.9.1")));
        let all6 = Net::parse("::/0", false).unwrap();
        assert!(all6.contains(ip("2001:db8::1")) && !all6.contains(ip("1.2.3.4")));
    }

    /// pat_match_ip: IPv4 addresses embedded in IPv6 ones match IPv4 networks and the
    /// reverse through the mapped form (src ACLs).
    #[test]
    fn pat_match_ip_maps_families() {
        let n4 = Net::parse("127.0.0.0/8", false).unwrap();
        assert!(n4.pat_match_ip(ip("127.0.0.1")));
        assert!(n4.pat_match_ip(ip("::ffff:127.0.0.1")));
        assert!(n4.pat_match_ip(ip("::127.0.0.1")));
        assert!(n4.pat_match_ip(ip("2002:7f00:1::")));
        assert!(!n4.pat_match_ip(ip("2001:7f00:1::")));
        assert!(!n4.pat_match_ip(ip("::1:ffff:127.0.0.1")));
        // `::1` is "compatible" 0.0.0.1
        let one = Net::parse("0.0.0.1", false).unwrap();
        assert!(one.pat_match_ip(ip("::1")));
        let mapped = Net::parse("::ffff:127.0.0.0/104", false).unwrap();
        assert!(mapped.pat_match_ip(ip("127.0.0.1")));
        assert!(!mapped.pat_match_ip(ip("10.0.0.1")));
        let lo6 = Net::parse("::1", false).unwrap();
        assert!(lo6.pat_match_ip(ip("::1")) && !lo6.pat_match_ip(ip("0.0.0.1")));
    }
}
