//! Converters: the `,name` transformations chained after a fetch (HAProxy's `sample.c`
//! converters `lower`, `upper`, `hex`, `base64`).
//!
//! Owns the converter keyword table (input and output types, checked when an expression is
//! compiled) and their evaluation. A converter receives a sample, casts it to its input type
//! as HAProxy does (an integer becomes 8 big-endian bytes before `hex`), and returns a new one;
//! an unchanged borrowed string stays borrowed.

use crate::smp::{Smp, SmpType, HEX_UPPER};
use std::borrow::Cow;

/// A converter of a sample expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// ASCII letters to lower case.
    Lower,
    /// ASCII letters to upper case.
    Upper,
    /// Two uppercase hex digits per input byte.
    Hex,
    /// Standard base64 with padding (RFC 4648 section 4).
    Base64,
}

impl Conv {
    /// Looks a converter keyword up.
    pub fn find(name: &str) -> Option<Conv> {
        Some(match name {
            "lower" => Conv::Lower,
            "upper" => Conv::Upper,
            "hex" => Conv::Hex,
            "base64" => Conv::Base64,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Conv::Lower => "lower",
            Conv::Upper => "upper",
            Conv::Hex => "hex",
            Conv::Base64 => "base64",
        }
    }

    /// The type the input is cast to.
    pub fn in_type(self) -> SmpType {
        match self {
            Conv::Lower | Conv::Upper => SmpType::Str,
            Conv::Hex | Conv::Base64 => SmpType::Bin,
        }
    }

    /// The type produced.
    pub fn out_type(self) -> SmpType {
        SmpType::Str
    }

    /// Applies the converter. Never fails for these converters; `None` is kept for the
    /// general contract (a converter may drop the sample).
    pub fn apply<'c>(self, smp: Smp<'c>) -> Option<Smp<'c>> {
        match self {
            Conv::Lower | Conv::Upper => {
                let Smp::Str(s) = smp.into_str() else {
                    return None;
                };
                let up = self == Conv::Upper;
                let needs = s.iter().any(|c| {
                    if up {
                        c.is_ascii_lowercase()
                    } else {
                        c.is_ascii_uppercase()
                    }
                });
                if !needs {
                    return Some(Smp::Str(s));
                }
                let mut v = s.into_owned();
                if up {
                    v.make_ascii_uppercase();
                } else {
                    v.make_ascii_lowercase();
                }
                Some(Smp::Str(Cow::Owned(v)))
            }
            Conv::Hex => {
                let b = smp.into_bin();
                let s = b.bytes().unwrap_or_default();
                let mut out = Vec::with_capacity(s.len() * 2);
                for &c in s {
                    out.push(HEX_UPPER[(c >> 4) as usize]);
                    out.push(HEX_UPPER[(c & 15) as usize]);
                }
                Some(Smp::Str(Cow::Owned(out)))
            }
            Conv::Base64 => {
                let b = smp.into_bin();
                Some(Smp::Str(Cow::Owned(base64(b.bytes().unwrap_or_default()))))
            }
        }
    }
}

/// Standard base64 encoding with `=` padding.
pub fn base64(input: &[u8]) -> Vec<u8> {
    hrs_http::h1::base64(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(c: Conv, v: Smp<'_>) -> Vec<u8> {
        c.apply(v).unwrap().to_bytes().into_owned()
    }

    #[test]
    fn base64_vectors() {
        // RFC 4648 section 10
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o.as_bytes(), "{i}");
        }
        assert_eq!(base64(&[0xff, 0xfe]), b"//4=");
    }

    #[test]
    fn converters() {
        assert_eq!(
            s(Conv::Lower, Smp::str(b"HeLLo w\xc3\xa9")),
            b"hello w\xc3\xa9"
        );
        assert_eq!(
            s(Conv::Upper, Smp::str(b"HeLLo w\xc3\xa9")),
            b"HELLO W\xc3\xa9"
        );
        assert!(matches!(
            Conv::Lower.apply(Smp::str(b"abc")),
            Some(Smp::Str(Cow::Borrowed(_)))
        ));
        assert_eq!(
            s(Conv::Hex, Smp::str(b"HeLLo w\xc3\xa9")),
            b"48654C4C6F2077C3A9"
        );
        assert_eq!(s(Conv::Hex, Smp::Sint(1)), b"0000000000000001");
        assert_eq!(s(Conv::Hex, Smp::Bool(true)), b"0000000000000001");
        assert_eq!(
            s(Conv::Hex, Smp::Ip("127.0.0.1".parse().unwrap())),
            b"7F000001"
        );
        assert_eq!(
            s(Conv::Base64, Smp::str(b"HeLLo w\xc3\xa9")),
            b"SGVMTG8gd8Op"
        );
        assert_eq!(s(Conv::Base64, Smp::Sint(258)), b"AAAAAAAAAQI=");
        assert_eq!(s(Conv::Base64, Smp::str(b"")), b"");
        assert_eq!(s(Conv::Upper, Smp::Sint(1)), b"1");
        assert_eq!(s(Conv::Lower, Smp::Ip("::1".parse().unwrap())), b"::1");
        for c in [Conv::Lower, Conv::Upper, Conv::Hex, Conv::Base64] {
            assert_eq!(Conv::find(c.name()), Some(c), "{c:?}");
        }
        assert_eq!(Conv::find("frob"), None);
        assert_eq!(Conv::Base64.name(), "base64");
        assert_eq!(Conv::Hex.in_type(), SmpType::Bin);
        assert_eq!(Conv::Hex.out_type(), SmpType::Str);
    }
}
