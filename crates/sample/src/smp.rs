//! Sample values and their type casts (HAProxy's `struct sample` data and `sample_casts[][]`).
//!
//! Owns the typed value a fetch or converter produces ([`Smp`]), the type tags used at
//! configuration time ([`SmpType`]) and the conversions between types, with HAProxy 2.6's
//! semantics: an integer becomes 8 big-endian bytes when binary is wanted, a string becomes an
//! integer by reading an optional sign and leading digits, a boolean prints as `0`/`1`, and so
//! on. Strings are byte strings: nothing here assumes UTF-8. Borrowed values ([`Cow`]) let
//! fetches return header slices without copying.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The type of a sample as known at configuration time (`SMP_T_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmpType {
    /// Unknown until run time (`var()`).
    Any,
    /// Boolean.
    Bool,
    /// Signed 64-bit integer.
    Sint,
    /// An IPv4 or IPv6 address.
    Addr,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Byte string meant as text.
    Str,
    /// Byte string.
    Bin,
    /// An HTTP method: a string that also knows its method class.
    Meth,
}

impl SmpType {
    /// True when HAProxy has a cast from `self` to `to` (`sample_casts[self][to] != NULL`).
    pub fn can_cast(self, to: SmpType) -> bool {
        use SmpType::*;
        if self == to || self == Any || to == Any {
            return true;
        }
        match self {
            Bool => matches!(to, Sint | Str | Bin),
            Sint => matches!(to, Bool | Addr | Ipv4 | Ipv6 | Str | Bin),
            Addr => matches!(to, Sint | Ipv4 | Ipv6 | Str | Bin),
            Ipv4 => matches!(to, Sint | Addr | Ipv6 | Str | Bin),
            Ipv6 => matches!(to, Addr | Ipv4 | Str | Bin),
            Str => true,
            Bin => matches!(to, Str | Meth),
            Meth => matches!(to, Str | Bin),
            Any => true,
        }
    }
}

/// One sample value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Smp<'a> {
    /// Boolean.
    Bool(bool),
    /// Signed integer.
    Sint(i64),
    /// IPv4 or IPv6 address.
    Ip(IpAddr),
    /// Text (any bytes).
    Str(Cow<'a, [u8]>),
    /// Binary data.
    Bin(Cow<'a, [u8]>),
    /// The method token of a request.
    Meth(Cow<'a, [u8]>),
}

impl<'a> Smp<'a> {
    /// A borrowed string sample.
    pub fn str(b: &'a [u8]) -> Smp<'a> {
        Smp::Str(Cow::Borrowed(b))
    }

    /// The type tag of this value.
    pub fn smp_type(&self) -> SmpType {
        match self {
            Smp::Bool(_) => SmpType::Bool,
            Smp::Sint(_) => SmpType::Sint,
            Smp::Ip(IpAddr::V4(_)) => SmpType::Ipv4,
            Smp::Ip(IpAddr::V6(_)) => SmpType::Ipv6,
            Smp::Str(_) => SmpType::Str,
            Smp::Bin(_) => SmpType::Bin,
            Smp::Meth(_) => SmpType::Meth,
        }
    }

    /// Detaches the value from any borrowed storage.
    pub fn into_owned(self) -> Smp<'static> {
        match self {
            Smp::Bool(b) => Smp::Bool(b),
            Smp::Sint(i) => Smp::Sint(i),
            Smp::Ip(a) => Smp::Ip(a),
            Smp::Str(s) => Smp::Str(Cow::Owned(s.into_owned())),
            Smp::Bin(s) => Smp::Bin(Cow::Owned(s.into_owned())),
            Smp::Meth(s) => Smp::Meth(Cow::Owned(s.into_owned())),
        }
    }

    /// The value as text, as HAProxy's cast to `SMP_T_STR` produces it (`c_int2str`,
    /// `c_ip2str`, ...). Strings, binaries and methods are returned as they are.
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Smp::Bool(b) => Cow::Borrowed(if *b { b"1" } else { b"0" }),
            Smp::Sint(i) => Cow::Owned(i.to_string().into_bytes()),
            Smp::Ip(a) => Cow::Owned(a.to_string().into_bytes()),
            Smp::Str(s) | Smp::Bin(s) | Smp::Meth(s) => Cow::Borrowed(s),
        }
    }

    /// Casts to a string sample (`SMP_T_STR`).
    pub fn into_str(self) -> Smp<'a> {
        match self {
            Smp::Str(s) | Smp::Bin(s) | Smp::Meth(s) => Smp::Str(s),
            other => Smp::Str(Cow::Owned(other.to_bytes().into_owned())),
        }
    }

    /// Casts to binary (`SMP_T_BIN`): integers and booleans become 8 big-endian bytes,
    /// addresses their 4 or 16 network-order bytes, strings are kept.
    pub fn into_bin(self) -> Smp<'a> {
        match self {
            Smp::Bool(b) => Smp::Bin(Cow::Owned((b as i64).to_be_bytes().to_vec())),
            Smp::Sint(i) => Smp::Bin(Cow::Owned(i.to_be_bytes().to_vec())),
            Smp::Ip(IpAddr::V4(a)) => Smp::Bin(Cow::Owned(a.octets().to_vec())),
            Smp::Ip(IpAddr::V6(a)) => Smp::Bin(Cow::Owned(a.octets().to_vec())),
            Smp::Str(s) | Smp::Bin(s) | Smp::Meth(s) => Smp::Bin(s),
        }
    }

    /// The bytes of a string, binary or method sample (`None` for scalar types).
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Smp::Str(s) | Smp::Bin(s) | Smp::Meth(s) => Some(s),
            _ => None,
        }
    }

    /// Casts to a signed integer (`SMP_T_SINT`). A string is read as HAProxy's `c_str2int`
    /// does: optional sign then digits up to the first non-digit; an empty string fails.
    /// An IPv4 address gives its 32-bit value; IPv6 and methods fail.
    pub fn to_sint(&self) -> Option<i64> {
        match self {
            Smp::Bool(b) => Some(*b as i64),
            Smp::Sint(i) => Some(*i),
            Smp::Ip(IpAddr::V4(a)) => Some(u32::from(*a) as i64),
            Smp::Ip(IpAddr::V6(_)) => None,
            Smp::Str(s) => {
                if s.is_empty() {
                    None
                } else {
                    Some(read_int64(s).0)
                }
            }
            Smp::Bin(_) | Smp::Meth(_) => None,
        }
    }

    /// Casts to an address (`SMP_T_ADDR`): integers become IPv4 addresses, strings are parsed
    /// as an IPv4 then an IPv6 address.
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Smp::Ip(a) => Some(*a),
            Smp::Sint(i) => Some(IpAddr::V4(Ipv4Addr::from(*i as u32))),
            Smp::Str(s) => parse_ip_text(s),
            _ => None,
        }
    }
}

/// Reads `[+-]digits` at the start of `s` like HAProxy's `read_int64()`, with the same
/// wrap-around on overflow. Returns the value and the number of bytes consumed.
pub fn read_int64(s: &[u8]) -> (i64, usize) {
    let mut i = 0;
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' {
            neg = true;
            i = 1;
        } else if c == b'+' {
            i = 1;
        }
    }
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add((s[i] - b'0') as u64);
        i += 1;
    }
    let v = v as i64;
    (if neg { v.wrapping_neg() } else { v }, i)
}

/// HAProxy's `strl2llrc()`: digits, or `-` then digits (`-` alone reads 0); refuses an empty
/// string, any other character (a `+` too) and a value out of the 64-bit range.
pub(crate) fn strl2llrc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = (d - b'0') as i64;
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses a textual IPv4 (dotted quad) or IPv6 address, as `inet_pton()` does.
pub fn parse_ip_text(s: &[u8]) -> Option<IpAddr> {
    let t = std::str::from_utf8(s).ok()?;
    if let Ok(a) = t.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(a));
    }
    t.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Uppercase hexadecimal digits, as HAProxy's `hextab`.
pub(crate) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_to_text() {
        assert_eq!(&*Smp::Bool(true).to_bytes(), b"1");
        assert_eq!(&*Smp::Sint(-42).to_bytes(), b"-42");
        assert_eq!(
            &*Smp::Ip("127.0.0.1".parse().unwrap()).to_bytes(),
            b"127.0.0.1"
        );
        assert_eq!(&*Smp::Ip("::1".parse().unwrap()).to_bytes(), b"::1");
        assert_eq!(&*Smp::str(b"\xff").to_bytes(), b"\xff");
    }

    #[test]
    fn casts_to_int() {
        assert_eq!(Smp::str(b"12a").to_sint(), Some(12));
        assert_eq!(Smp::str(b"abc").to_sint(), Some(0));
        assert_eq!(Smp::str(b"-5").to_sint(), Some(-5));
        assert_eq!(Smp::str(b"+5").to_sint(), Some(5));
        assert_eq!(Smp::str(b"").to_sint(), None);
        assert_eq!(Smp::Bool(true).to_sint(), Some(1));
        assert_eq!(
            Smp::Ip("1.0.0.2".parse().unwrap()).to_sint(),
            Some(0x0100_0002)
        );
        assert_eq!(read_int64(b"99999999999999999999").1, 20);
    }

    #[test]
    fn casts_to_bin_and_ip() {
        assert_eq!(
            Smp::Sint(1).into_bin(),
            Smp::Bin(Cow::Owned(vec![0, 0, 0, 0, 0, 0, 0, 1]))
        );
        assert_eq!(
            Smp::Ip("127.0.0.1".parse().unwrap()).into_bin(),
            Smp::Bin(Cow::Owned(vec![127, 0, 0, 1]))
        );
        assert_eq!(
            Smp::str(b"10.0.0.1").to_ip(),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(Smp::str(b"::2").to_ip(), Some("::2".parse().unwrap()));
        assert_eq!(Smp::str(b"x").to_ip(), None);
        assert_eq!(Smp::Sint(1).to_ip(), Some("0.0.0.1".parse().unwrap()));
    }

    /// `sample_casts[from][to]` of sample.c: which casts exist. The `Addr` row is upstream's
    /// IPv4 row: here `src` and `dst` are typed `Addr` (an IPv4 or IPv6 address) where
    /// upstream types them IPv4 and returns IPv6 when it has to.
    #[test]
    fn cast_table() {
        use SmpType::*;
        let types = [Any, Bool, Sint, Addr, Ipv4, Ipv6, Str, Bin, Meth];
        //   to: ANY BOOL SINT ADDR IPV4 IPV6 STR BIN METH
        let table = [
            "111111111", // ANY
            "111000110", // BOOL
            "111111110", // SINT
            "101111110", // ADDR
            "101111110", // IPV4
            "100111110", // IPV6
            "111111111", // STR
            "100000111", // BIN
            "100000111", // METH
        ];
        for (from, row) in types.iter().zip(table) {
            for (to, cell) in types.iter().zip(row.bytes()) {
                assert_eq!(from.can_cast(*to), cell == b'1', "{from:?} -> {to:?}");
            }
        }
    }
}
