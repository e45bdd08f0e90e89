//! Sample fetches: keyword table, argument checking and evaluation (HAProxy's
//! `http_fetch.c`, `sample.c` internal fetches, `tcp_sample.c` address fetches).
//!
//! Owns `Fetch`, a fetch compiled with its arguments, and the validity classes that tell
//! where a fetch may be used ([`Where`], [`Class`]), so rules are rejected at configuration time
//! as HAProxy rejects them. Evaluation borrows from the context: a header value is returned as
//! a slice of the message, never copied. Header fetches either return one value (sample
//! expressions: the last occurrence unless one is given) or iterate over every value (ACLs).

use crate::ctx::{Dir, SampleCtx};
use crate::smp::{read_int64, strl2llrc, Smp, SmpType};
use crate::vars::VarName;
use hrs_http::h1::{trim_lws, value_end};
use hrs_http::{HttpHead, Version};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Maximum depth of negative header occurrences (`MAX_HDR_HISTORY`).
pub const MAX_HDR_HISTORY: i64 = 10;

/// The places a sample can be evaluated at, as a bit set (HAProxy's `SMP_VAL_*` check points
/// restricted to the ones haproxy-rs has). Bits are in HAProxy's order so the first bit names
/// a set the way upstream does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Where(pub(crate) u8);

impl Where {
    /// `http-request` rules of a frontend.
    pub const FE_REQ: Where = Where(1);
    /// `use_backend` rules.
    pub const FE_SWITCH: Where = Where(2);
    /// `http-request` rules of a backend.
    pub const BE_REQ: Where = Where(4);
    /// `http-response` / `http-after-response` rules of a backend.
    pub const BE_RES: Where = Where(8);
    /// `http-response` / `http-after-response` rules of a frontend.
    pub const FE_RES: Where = Where(16);
    /// Log lines.
    pub const LOG: Where = Where(32);
    const ALL: u8 = 63;

    /// Union of two sets.
    pub fn or(self, o: Where) -> Where {
        Where(self.0 | o.0)
    }

    /// HAProxy's name of the check point (`sample_ckp_names()`), from the lowest bit set.
    pub fn name(self) -> &'static str {
        match self.0.trailing_zeros() {
            0 => "frontend http-request header rule",
            1 => "frontend use-backend rule",
            2 => "backend http-request header rule",
            3 => "backend http-response header rule",
            4 => "frontend http-response header rule",
            _ => "logs",
        }
    }
}

/// What a fetch depends on (HAProxy's `SMP_USE_*` source), deciding where it is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Internal state, constants, client connection: valid everywhere.
    Any,
    /// Volatile request parts (headers, URI): request rules and backend switching.
    ReqVol,
    /// Permanent request parts (method, first request): everywhere.
    ReqPerm,
    /// Response headers: response rules.
    ResVol,
    /// Permanent response parts (status): response rules and logs.
    ResPerm,
    /// Request and response headers (`hdr()`): request and response rules.
    ReqResVol,
    /// The backend: once selected.
    Backend,
    /// The server: once connected.
    Server,
    /// The server connection's addresses.
    L4Srv,
    /// The request buffer (`req.len`): request rules and backend switching only.
    L6Req,
}

impl Class {
    fn allowed(self) -> u8 {
        let req = Where::FE_REQ.0 | Where::FE_SWITCH.0 | Where::BE_REQ.0;
        let res = Where::BE_RES.0 | Where::FE_RES.0;
        match self {
            Class::Any | Class::ReqPerm => Where::ALL,
            Class::ReqVol | Class::L6Req => req,
            Class::ResVol => res,
            Class::ResPerm => res | Where::LOG.0,
            Class::ReqResVol => req | res,
            Class::Backend => Where::BE_REQ.0 | res | Where::LOG.0,
            Class::Server | Class::L4Srv => res | Where::LOG.0,
        }
    }

    /// True when a fetch of this class can be used at one of the places in `w`.
    pub fn valid_at(self, w: Where) -> bool {
        self.allowed() & w.0 != 0
    }

    /// HAProxy's name of what the fetch needs (`sample_src_names()`).
    pub fn source_name(self) -> &'static str {
        match self {
            Class::Any => "internal",
            Class::ReqVol => "HTTP request headers",
            Class::ReqPerm => "HTTP request",
            Class::ResVol => "HTTP response headers",
            Class::ResPerm => "HTTP response",
            Class::ReqResVol => "HTTP request headers,HTTP response headers",
            Class::Backend => "backend",
            Class::Server => "server",
            Class::L4Srv => "server address",
            Class::L6Req => "request buffer",
        }
    }
}

/// Which message a header fetch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chan {
    Req,
    Res,
    /// The message of the evaluation direction (`hdr()`).
    Dir,
}

/// What a header fetch returns from the values it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HdrOut {
    /// The value as a string.
    Str,
    /// The value parsed as an address (`hdr_ip`).
    Ip,
    /// The value parsed as an integer (`hdr_val`).
    Val,
}

/// A compiled fetch with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    Bool(bool),
    /// `wait_end`: true once evaluation is final (always, for HTTP rules).
    WaitEnd,
    /// `req.hdr`, `req.fhdr`, `res.hdr`, `hdr`, `hdr_ip`... `name` is `None` when the fetch
    /// was written without parentheses (it then finds nothing); an empty name means all
    /// headers. `occ` 0 means "last" for one value, "all" when iterating.
    Hdr {
        chan: Chan,
        name: Option<Box<[u8]>>,
        occ: i64,
        full: bool,
        out: HdrOut,
    },
    /// `req.hdr_cnt` and friends: number of values (lines when `full`).
    HdrCnt {
        chan: Chan,
        name: Box<[u8]>,
        full: bool,
    },
    Path,
    Url,
    Base,
    Query,
    Method,
    Status,
    /// `req.ver`.
    ReqVer,
    /// `res.ver`.
    ResVer,
    /// `req.proto_http`.
    ProtoHttp,
    /// `req.len` (HTTP mode: non-zero while the request is held; request rules only).
    ReqLen,
    /// `req.rdp_cookie_cnt` (never any RDP cookie in HTTP).
    RdpCookieCnt,
    Src,
    SrcPort,
    Dst,
    DstPort,
    BcSrcPort,
    HttpFirstReq,
    Var {
        var: VarName,
        default: Option<Box<[u8]>>,
    },
    Str(Box<[u8]>),
    Int(i64),
    FeName,
    BeName,
    SrvName,
    Thread,
}

/// Argument types of a fetch or converter (`ARGT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgT {
    Str,
    Sint,
}

impl ArgT {
    fn name(self) -> &'static str {
        match self {
            ArgT::Str => "string",
            ArgT::Sint => "integer",
        }
    }
}

/// A parsed argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    Str(Vec<u8>),
    Sint(i64),
}

/// The static description of a fetch keyword.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FetchKw {
    pub name: &'static str,
    /// Argument types, and how many are mandatory.
    pub args: &'static [ArgT],
    pub min_args: usize,
    pub out: SmpType,
    pub class: Class,
}

const HDR_ARGS: &[ArgT] = &[ArgT::Str, ArgT::Sint];
const STR1: &[ArgT] = &[ArgT::Str];
const VAR_ARGS: &[ArgT] = &[ArgT::Str, ArgT::Str];
const SINT1: &[ArgT] = &[ArgT::Sint];

macro_rules! kw {
    ($n:expr, $a:expr, $m:expr, $o:ident, $c:ident) => {
        FetchKw {
            name: $n,
            args: $a,
            min_args: $m,
            out: SmpType::$o,
            class: Class::$c,
        }
    };
}

/// Every fetch keyword haproxy-rs implements.
pub(crate) const FETCH_KWS: &[FetchKw] = &[
    kw!("always_true", &[], 0, Bool, Any),
    kw!("always_false", &[], 0, Bool, Any),
    kw!("wait_end", &[], 0, Bool, Any),
    kw!("req.hdr", HDR_ARGS, 0, Str, ReqVol),
    kw!("hdr", HDR_ARGS, 0, Str, ReqResVol),
    kw!("req.fhdr", HDR_ARGS, 0, Str, ReqVol),
    kw!("res.hdr", HDR_ARGS, 0, Str, ResVol),
    kw!("shdr", HDR_ARGS, 0, Str, ResVol),
    kw!("res.fhdr", HDR_ARGS, 0, Str, ResVol),
    kw!("req.hdr_cnt", STR1, 0, Sint, ReqVol),
    kw!("hdr_cnt", STR1, 0, Sint, ReqVol),
    kw!("req.fhdr_cnt", STR1, 0, Sint, ReqVol),
    kw!("res.hdr_cnt", STR1, 0, Sint, ResVol),
    kw!("shdr_cnt", STR1, 0, Sint, ResVol),
    kw!("res.fhdr_cnt", STR1, 0, Sint, ResVol),
    kw!("req.hdr_ip", HDR_ARGS, 0, Ipv4, ReqVol),
    kw!("hdr_ip", HDR_ARGS, 0, Ipv4, ReqVol),
    kw!("res.hdr_ip", HDR_ARGS, 0, Ipv4, ResVol),
    kw!("shdr_ip", HDR_ARGS, 0, Ipv4, ResVol),
    kw!("req.hdr_val", HDR_ARGS, 0, Sint, ReqVol),
    kw!("hdr_val", HDR_ARGS, 0, Sint, ReqVol),
    kw!("res.hdr_val", HDR_ARGS, 0, Sint, ResVol),
    kw!("shdr_val", HDR_ARGS, 0, Sint, ResVol),
    kw!("path", &[], 0, Str, ReqVol),
    kw!("url", &[], 0, Str, ReqVol),
    kw!("base", &[], 0, Str, ReqVol),
    kw!("query", &[], 0, Str, ReqVol),
    kw!("method", &[], 0, Meth, ReqPerm),
    kw!("status", &[], 0, Sint, ResPerm),
    kw!("req.ver", &[], 0, Str, ReqVol),
    kw!("req_ver", &[], 0, Str, ReqVol),
    kw!("res.ver", &[], 0, Str, ResVol),
    kw!("resp_ver", &[], 0, Str, ResVol),
    kw!("req.proto_http", &[], 0, Bool, ReqPerm),
    kw!("req_proto_http", &[], 0, Bool, ReqPerm),
    kw!("req.len", &[], 0, Sint, L6Req),
    kw!("req.rdp_cookie_cnt", STR1, 0, Sint, L6Req),
    kw!("src", &[], 0, Addr, Any),
    kw!("src_port", &[], 0, Sint, Any),
    kw!("dst", &[], 0, Addr, Any),
    kw!("dst_port", &[], 0, Sint, Any),
    kw!("bc_src_port", &[], 0, Sint, L4Srv),
    kw!("http_first_req", &[], 0, Bool, ReqPerm),
    kw!("var", VAR_ARGS, 1, Any, Any),
    kw!("str", STR1, 1, Str, Any),
    kw!("int", SINT1, 1, Sint, Any),
    kw!("fe_name", &[], 0, Str, Any),
    kw!("be_name", &[], 0, Str, Backend),
    kw!("srv_name", &[], 0, Str, Server),
    kw!("thread", &[], 0, Sint, Any),
];

/// Looks a fetch keyword up.
pub(crate) fn find_fetch(name: &str) -> Option<&'static FetchKw> {
    FETCH_KWS.iter().find(|k| k.name == name)
}

/// Builds the fetch of keyword `kw` from its parsed arguments.
///
/// # Errors
/// The argument validation messages of HAProxy (`header occurrence must be >= -10`, variable
/// name errors), without the `invalid args in fetch method` prefix.
pub(crate) fn build_fetch(kw: &FetchKw, args: Vec<Arg>) -> Result<Fetch, String> {
    let mut it = args.into_iter();
    let next_str = |it: &mut std::vec::IntoIter<Arg>| match it.next() {
        Some(Arg::Str(s)) => Some(s),
        _ => None,
    };
    let hdr = |it: &mut std::vec::IntoIter<Arg>, name: Option<Vec<u8>>| -> Result<_, String> {
        let occ = match it.next() {
            Some(Arg::Sint(o)) => o,
            _ => 0,
        };
        if occ < -MAX_HDR_HISTORY {
            return Err(format!("header occurrence must be >= {}", -MAX_HDR_HISTORY));
        }
        Ok((name.map(Vec::into_boxed_slice), occ))
    };
    let n = kw.name;
    let chan = if n.starts_with("req.") {
        Chan::Req
    } else if n.starts_with("res.") || n.starts_with('s') {
        Chan::Res
    } else if n.starts_with("hdr") && n != "hdr" {
        // hdr_cnt / hdr_ip / hdr_val are request-only
        Chan::Req
    } else {
        Chan::Dir
    };
    Ok(match n {
        "always_true" => Fetch::Bool(true),
        "always_false" => Fetch::Bool(false),
        "wait_end" => Fetch::WaitEnd,
        "req.hdr" | "hdr" | "req.fhdr" | "res.hdr" | "shdr" | "res.fhdr" => {
            let name = next_str(&mut it);
            let (name, occ) = hdr(&mut it, name)?;
            Fetch::Hdr {
                chan,
                name,
                occ,
                full: n.contains("fhdr"),
                out: HdrOut::Str,
            }
        }
        "req.hdr_ip" | "hdr_ip" | "res.hdr_ip" | "shdr_ip" | "req.hdr_val" | "hdr_val"
        | "res.hdr_val" | "shdr_val" => {
            let name = next_str(&mut it);
            let (name, occ) = hdr(&mut it, name)?;
            Fetch::Hdr {
                chan,
                name: Some(name.unwrap_or_default()),
                occ,
                full: false,
                out: if n.ends_with("_ip") {
                    HdrOut::Ip
                } else {
                    HdrOut::Val
                },
            }
        }
        "req.hdr_cnt" | "hdr_cnt" | "req.fhdr_cnt" | "res.hdr_cnt" | "shdr_cnt"
        | "res.fhdr_cnt" => Fetch::HdrCnt {
            chan,
            name: next_str(&mut it).unwrap_or_default().into_boxed_slice(),
            full: n.contains("fhdr"),
        },
        "path" => Fetch::Path,
        "url" => Fetch::Url,
        "base" => Fetch::Base,
        "query" => Fetch::Query,
        "method" => Fetch::Method,
        "status" => Fetch::Status,
        "req.ver" | "req_ver" => Fetch::ReqVer,
        "res.ver" | "resp_ver" => Fetch::ResVer,
        "req.proto_http" | "req_proto_http" => Fetch::ProtoHttp,
        "req.len" => Fetch::ReqLen,
        "req.rdp_cookie_cnt" => Fetch::RdpCookieCnt,
        "src" => Fetch::Src,
        "src_port" => Fetch::SrcPort,
        "dst" => Fetch::Dst,
        "dst_port" => Fetch::DstPort,
        "bc_src_port" => Fetch::BcSrcPort,
        "http_first_req" => Fetch::HttpFirstReq,
        "var" => {
            let name = next_str(&mut it).unwrap_or_default();
            let name = String::from_utf8_lossy(&name).into_owned();
            let var = VarName::parse(&name)?;
            Fetch::Var {
                var,
                default: next_str(&mut it).map(Vec::into_boxed_slice),
            }
        }
        "str" => Fetch::Str(next_str(&mut it).unwrap_or_default().into_boxed_slice()),
        "int" => Fetch::Int(match it.next() {
            Some(Arg::Sint(i)) => i,
            _ => 0,
        }),
        "fe_name" => Fetch::FeName,
        "be_name" => Fetch::BeName,
        "srv_name" => Fetch::SrvName,
        "thread" => Fetch::Thread,
        _ => return Err(format!("unknown fetch method '{n}'")),
    })
}

/// Parses the argument list of a keyword, starting right after `(` in `text`. Returns the
/// arguments and the byte offset where parsing stopped (on the closing `)` when well formed).
///
/// Quoting as HAProxy 2.6's `make_arg_list()`: `'...'` and `"..."` group, outside single
/// quotes `\\ \' \" \<space>` escape and `\r \n \t` are control characters; an unquoted `,`
/// separates and an unquoted `)` ends; another `\` is kept. At most `types.len()` arguments
/// are read.
///
/// # Errors
/// `expected type 'integer' at position N, but got nothing`, `failed to parse 'x' as type
/// 'integer' at position N`, `failed to parse '\' after 'x' as type 'string' at position N`
/// (a `\` ending the text).
pub(crate) fn parse_args(
    text: &str,
    types: &[ArgT],
    min: usize,
) -> Result<(Vec<Arg>, usize), String> {
    let b = text.as_bytes();
    let mut pos = 0;
    let mut out = Vec::new();
    if types.is_empty() {
        return Ok((out, 0));
    }
    for (i, &t) in types.iter().enumerate() {
        let mut word = Vec::new();
        let (mut sq, mut dq) = (false, false);
        while pos < b.len() {
            let c = b[pos];
            if c == b'"' && !sq {
                dq = !dq;
                pos += 1;
            } else if c == b'\'' && !dq {
                sq = !sq;
                pos += 1;
            } else if c == b'\\' && !sq {
                // an escape needs a character after it
                let Some(&e) = b.get(pos + 1) else {
                    return Err(format!(
                        "failed to parse '\\' after '{}' as type '{}' at position {}",
                        String::from_utf8_lossy(&word),
                        t.name(),
                        i + 1
                    ));
                };
                let unescaped = match e {
                    b'\\' | b' ' | b'"' | b'\'' => Some(e),
                    b'r' => Some(b'\r'),
                    b'n' => Some(b'\n'),
                    b't' => Some(b'\t'),
                    _ => None,
                };
                match unescaped {
                    Some(u) => {
                        word.push(u);
                        pos += 2;
                    }
                    // a lone '\' stays
                    None => {
                        word.push(c);
                        pos += 1;
                    }
                }
            } else if !sq && !dq && (c == b',' || c == b')') {
                break;
            } else {
                word.push(c);
                pos += 1;
            }
        }
        match t {
            ArgT::Str => out.push(Arg::Str(word)),
            ArgT::Sint => {
                if word.is_empty() {
                    if i < min {
                        return Err(format!(
                            "expected type '{}' at position {}, but got nothing",
                            t.name(),
                            i + 1
                        ));
                    }
                } else {
                    let (v, used) = read_int64(&word);
                    if used != word.len() || (used == 1 && !word[0].is_ascii_digit()) {
                        return Err(format!(
                            "failed to parse '{}' as type '{}' at position {}",
                            String::from_utf8_lossy(&word),
                            t.name(),
                            i + 1
                        ));
                    }
                    out.push(Arg::Sint(v));
                }
            }
        }
        if i + 1 == types.len() || pos >= b.len() || b[pos] != b',' {
            break;
        }
        pos += 1; // the comma
    }
    Ok((out, pos))
}

/// The arguments of a keyword written without parentheses: an empty string for a mandatory
/// string argument, an error for a mandatory integer, nothing otherwise.
pub(crate) fn no_paren_args(types: &[ArgT], min: usize) -> Result<Vec<Arg>, String> {
    if min == 0 {
        return Ok(Vec::new());
    }
    match types[0] {
        ArgT::Str => Ok(vec![Arg::Str(Vec::new())]),
        ArgT::Sint => Err("expected type 'integer' at position 1, but got nothing".into()),
    }
}

/// Splits a header value at unquoted commas (HAProxy's `http_find_hdr_value_end()`), trimming
/// blanks, CR and LF around each part (`HTTP_IS_LWS`); calls `f` on each part until it returns
/// true. Both rules are `hrs-http`'s.
fn split_values<'a>(v: &'a [u8], f: &mut dyn FnMut(&'a [u8]) -> bool) -> bool {
    let mut start = 0;
    loop {
        let end = value_end(v, start);
        let part = trim_lws(v.get(start..end).unwrap_or(&[]));
        if end >= v.len() {
            return f(part);
        }
        if f(part) {
            return true;
        }
        start = end + 1;
    }
}

/// Visits the values of `name` (every header when empty) in order, split at commas unless
/// `full`; stops when `f` returns true. Returns whether `f` stopped the walk.
pub(crate) fn each_value<'a>(
    h: &'a HttpHead,
    name: &[u8],
    full: bool,
    f: &mut dyn FnMut(&'a [u8]) -> bool,
) -> bool {
    for (n, v) in h.headers() {
        if !name.is_empty() && !n.eq_ignore_ascii_case(name) {
            continue;
        }
        let stop = if full {
            f(trim_lws(v))
        } else {
            split_values(v, f)
        };
        if stop {
            return true;
        }
    }
    false
}

/// The value at occurrence `occ` (1-based from the first, negative from the last; `build_fetch`
/// refused anything below `-MAX_HDR_HISTORY`).
fn value_at<'a>(h: &'a HttpHead, name: &[u8], full: bool, occ: i64) -> Option<&'a [u8]> {
    let target = if occ > 0 {
        occ
    } else {
        let mut n = 0i64;
        each_value(h, name, full, &mut |_| {
            n += 1;
            false
        });
        // not above 0 when there are fewer values than asked: nothing is found
        n + occ + 1
    };
    let mut i = 0;
    let mut found = None;
    each_value(h, name, full, &mut |v| {
        i += 1;
        if i == target {
            found = Some(v);
            true
        } else {
            false
        }
    });
    found
}

/// HAProxy's `url2ipv4()`: a dotted quad of decimal octets (leading zeros allowed) at the
/// start of `s`, up to the first byte that is neither a digit nor a dot. Returns the address
/// and the number of bytes read.
fn url2ipv4(s: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut oct = [0u8; 4];
    let mut octets = 0;
    let mut saw_digit = false;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c.is_ascii_digit() {
            if !saw_digit {
                octets += 1;
                saw_digit = true;
            }
            let v = oct[octets - 1] as u32 * 10 + (c - b'0') as u32;
            oct[octets - 1] = u8::try_from(v).ok()?;
        } else if c == b'.' {
            if !saw_digit || octets == 4 {
                return None;
            }
            saw_digit = false;
        } else {
            break;
        }
        i += 1;
    }
    (octets == 4).then_some((Ipv4Addr::from(oct), i))
}

/// Reads an address from a header value as `smp_fetch_hdr_ip()` does: an IPv4 address
/// (`url2ipv4()`), optionally followed by `:` and a port (`strl2irc()`, 0 to 65535), or else
/// the whole value as an IPv6 address (`inet_pton()`; no brackets).
fn value_ip(v: &[u8]) -> Option<IpAddr> {
    if let Some((a, len)) = url2ipv4(v) {
        if len == v.len() {
            return Some(IpAddr::V4(a));
        }
        if v[len] == b':'
            && std::str::from_utf8(&v[len + 1..])
                .ok()
                .and_then(strl2llrc)
                .is_some_and(|p| (0..=65535).contains(&p))
        {
            return Some(IpAddr::V4(a));
        }
    }
    std::str::from_utf8(v)
        .ok()?
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// HAProxy's `http_get_path()`: the part of a URI from the first `/` after the authority, or
/// `None` for `*`, authority-form and scheme-only URIs.
pub fn uri_path(uri: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    if uri.is_empty() || uri[0] == b'*' {
        return None;
    }
    if uri[0].is_ascii_alphabetic() {
        i = 1;
        while i < uri.len() && (uri[i].is_ascii_alphanumeric() || b"+-.".contains(&uri[i])) {
            i += 1;
        }
        if uri.get(i..i + 3) != Some(b"://") {
            return None;
        }
        i += 3;
    }
    while i < uri.len() && uri[i] != b'/' {
        i += 1;
    }
    if i == uri.len() {
        return None;
    }
    Some(&uri[i..])
}

fn until_query(p: &[u8]) -> &[u8] {
    match p.iter().position(|&c| c == b'?') {
        Some(q) => &p[..q],
        None => p,
    }
}

fn version_digits(v: Version) -> &'static [u8] {
    match v {
        Version::Http10 => b"1.0",
        Version::Http11 => b"1.1",
        Version::Http2 => b"2.0",
    }
}

impl Fetch {
    fn head(chan: Chan, ctx: &dyn SampleCtx, dir: Dir) -> Option<&HttpHead> {
        match (chan, dir) {
            (Chan::Req, _) | (Chan::Dir, Dir::Req) => ctx.req(),
            (Chan::Res, _) | (Chan::Dir, Dir::Res) => ctx.res(),
        }
    }

    fn hdr_out<'c>(out: HdrOut, v: &'c [u8]) -> Option<Smp<'c>> {
        match out {
            HdrOut::Str => Some(Smp::str(v)),
            HdrOut::Ip => value_ip(v).map(Smp::Ip),
            HdrOut::Val => Some(Smp::Sint(read_int64(v).0)),
        }
    }

    /// Evaluates the fetch for one value (sample expressions, log-format, `set-var`).
    /// Returns `None` when the sample is absent.
    pub fn fetch<'c>(&'c self, ctx: &'c dyn SampleCtx, dir: Dir) -> Option<Smp<'c>> {
        match self {
            Fetch::Hdr {
                chan,
                name,
                occ,
                full,
                out,
            } => {
                let h = Self::head(*chan, ctx, dir)?;
                let name = name.as_deref()?;
                let occ = if *occ == 0 { -1 } else { *occ };
                // one value: a non-address value makes hdr_ip fail (only ACLs skip it)
                value_at(h, name, *full, occ).and_then(|v| Self::hdr_out(*out, v))
            }
            _ => self.fetch_scalar(ctx, dir),
        }
    }

    /// Evaluates the fetch for ACL matching: `f` receives every value in turn (all header
    /// occurrences when no occurrence was given) until it returns true. Returns whether `f`
    /// returned true.
    pub fn for_each<'c>(
        &'c self,
        ctx: &'c dyn SampleCtx,
        dir: Dir,
        f: &mut dyn FnMut(Smp<'c>) -> bool,
    ) -> bool {
        match self {
            Fetch::Hdr {
                chan,
                name,
                occ,
                full,
                out,
            } if *occ == 0 => {
                let Some(h) = Self::head(*chan, ctx, dir) else {
                    return false;
                };
                let Some(name) = name.as_deref() else {
                    return false;
                };
                each_value(h, name, *full, &mut |v| match Self::hdr_out(*out, v) {
                    Some(s) => f(s),
                    None => false,
                })
            }
            _ => match self.fetch(ctx, dir) {
                Some(s) => f(s),
                None => false,
            },
        }
    }

    fn fetch_scalar<'c>(&'c self, ctx: &'c dyn SampleCtx, dir: Dir) -> Option<Smp<'c>> {
        Some(match self {
            Fetch::Bool(b) => Smp::Bool(*b),
            Fetch::WaitEnd => Smp::Bool(true),
            Fetch::Hdr { .. } => return None,
            Fetch::HdrCnt { chan, name, full } => {
                let h = Self::head(*chan, ctx, dir)?;
                let mut n = 0i64;
                each_value(h, name, *full, &mut |_| {
                    n += 1;
                    false
                });
                Smp::Sint(n)
            }
            Fetch::Path => Smp::str(until_query(uri_path(ctx.req()?.uri())?)),
            Fetch::Url => Smp::str(ctx.req()?.uri()),
            Fetch::Base => {
                let req = ctx.req()?;
                let mut host = None;
                each_value(req, b"host", false, &mut |v| {
                    host = Some(v);
                    true
                });
                let path = uri_path(req.uri()).map(until_query);
                match host {
                    None => Smp::str(path?),
                    Some(h) => {
                        let mut s = h.to_vec();
                        if let Some(p) = path.filter(|p| p.first() == Some(&b'/')) {
                            s.extend_from_slice(p);
                        }
                        Smp::Str(Cow::Owned(s))
                    }
                }
            }
            Fetch::Query => {
                let uri = ctx.req()?.uri();
                let q = uri.iter().position(|&c| c == b'?')?;
                Smp::str(&uri[q + 1..])
            }
            Fetch::Method => Smp::Meth(Cow::Borrowed(ctx.req()?.method())),
            Fetch::Status => Smp::Sint(ctx.res()?.status as i64),
            Fetch::ReqVer => Smp::str(version_digits(ctx.req()?.version)),
            Fetch::ResVer => Smp::str(version_digits(ctx.res()?.version)),
            Fetch::ProtoHttp => Smp::Bool(ctx.req().is_some()),
            Fetch::ReqLen => Smp::Sint(ctx.req().is_some() as i64),
            Fetch::RdpCookieCnt => Smp::Sint(0),
            Fetch::Src => Smp::Ip(ctx.src()?.ip()),
            Fetch::SrcPort => Smp::Sint(ctx.src()?.port() as i64),
            Fetch::Dst => Smp::Ip(ctx.dst()?.ip()),
            Fetch::DstPort => Smp::Sint(ctx.dst()?.port() as i64),
            Fetch::BcSrcPort => Smp::Sint(ctx.bc_src()?.port() as i64),
            Fetch::HttpFirstReq => Smp::Bool(ctx.http_first_req()),
            Fetch::Var { var, default } => match ctx.var_get(var.scope, &var.name) {
                Some(v) => v,
                None => Smp::str(default.as_deref()?),
            },
            Fetch::Str(s) => Smp::str(s),
            Fetch::Int(i) => Smp::Sint(*i),
            Fetch::FeName => Smp::str(ctx.fe_name().as_bytes()),
            Fetch::BeName => Smp::str(ctx.be_name().unwrap_or(ctx.fe_name()).as_bytes()),
            Fetch::SrvName => Smp::str(ctx.srv_name()?.as_bytes()),
            Fetch::Thread => Smp::Sint(i64::from(ctx.thread())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testctx::TestCtx;

    fn kw(n: &str) -> &'static FetchKw {
        find_fetch(n).unwrap()
    }

    fn hdr(n: &str, args: &str) -> Fetch {
        let k = kw(n);
        let (a, _) = parse_args(args, k.args, k.min_args).unwrap();
        build_fetch(k, a).unwrap()
    }

    fn one(f: &Fetch, c: &TestCtx) -> Option<Vec<u8>> {
        f.fetch(c, Dir::Req).map(|s| s.to_bytes().into_owned())
    }

    fn all(f: &Fetch, c: &TestCtx) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        f.for_each(c, Dir::Req, &mut |s| {
            v.push(s.to_bytes().into_owned());
            false
        });
        v
    }

    fn ctx() -> TestCtx {
        TestCtx::get(
            "/p/a?x=1&y",
            &[
                ("host", "h"),
                ("x", "a, b ,c"),
                ("X", "\"d,e\", f"),
                ("x", ""),
                ("empty", ""),
                ("y", "HeLLo w\u{e9}"),
            ],
        )
    }

    /// `http_find_header()`'s split: unquoted commas, quoted pairs, LWS (CR and LF too)
    /// trimmed, empty parts kept.
    #[test]
    fn values_split_like_http_find_header() {
        let split = |v: &[u8]| {
            let mut out: Vec<Vec<u8>> = Vec::new();
            split_values(v, &mut |p| {
                out.push(p.to_vec());
                false
            });
            out
        };
        let s = |v: &[&str]| v.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(split(b"a, \"b,\\\"c\" ,d\r"), s(&["a", "\"b,\\\"c\"", "d"]));
        assert_eq!(split(b"a,,b,"), s(&["a", "", "b", ""]));
        assert_eq!(split(b""), s(&[""]));
        let mut n = 0;
        assert!(split_values(b"x,y,z", &mut |_| {
            n += 1;
            n == 2
        }));
        assert_eq!(n, 2);
    }

    #[test]
    fn header_occurrences() {
        let c = ctx();
        let b = |s: &str| Some(s.as_bytes().to_vec());
        assert_eq!(one(&hdr("req.hdr", "x)"), &c), b(""));
        assert_eq!(one(&hdr("req.hdr", "x,1)"), &c), b("a"));
        assert_eq!(one(&hdr("req.hdr", "x,2)"), &c), b("b"));
        assert_eq!(one(&hdr("req.hdr", "x,-2)"), &c), b("f"));
        assert_eq!(one(&hdr("req.hdr", "x,-6)"), &c), b("a"));
        assert_eq!(one(&hdr("req.hdr", "x,-7)"), &c), None);
        assert_eq!(one(&hdr("req.hdr", "x,7)"), &c), None);
        assert_eq!(one(&hdr("req.fhdr", "x,1)"), &c), b("a, b ,c"));
        assert_eq!(one(&hdr("req.fhdr", "x,2)"), &c), b("\"d,e\", f"));
        assert_eq!(one(&hdr("req.hdr", "nope)"), &c), None);
        // no parentheses: nothing; empty name: every header
        assert_eq!(one(&build_fetch(kw("req.hdr"), vec![]).unwrap(), &c), None);
        assert_eq!(one(&hdr("req.hdr", ")"), &c), b("HeLLo w\u{e9}"));
        assert_eq!(
            all(&hdr("req.hdr", "x)"), &c),
            vec![
                b"a".to_vec(),
                b"b".to_vec(),
                b"c".to_vec(),
                b"\"d,e\"".to_vec(),
                b"f".to_vec(),
                b"".to_vec()
            ]
        );
        assert_eq!(all(&hdr("req.fhdr", "x)"), &c).len(), 3);
        assert_eq!(all(&hdr("req.hdr", "x,1)"), &c), vec![b"a".to_vec()]);
        assert_eq!(one(&hdr("req.hdr_cnt", "x)"), &c), b("6"));
        assert_eq!(one(&hdr("req.fhdr_cnt", "x)"), &c), b("3"));
        assert_eq!(
            one(&build_fetch(kw("req.hdr_cnt"), vec![]).unwrap(), &c),
            b("9")
        );
        assert_eq!(one(&hdr("req.fhdr_cnt", ")"), &c), b("6"));
        // hdr() follows the direction
        assert_eq!(one(&hdr("hdr", "host)"), &c), b("h"));
        assert_eq!(hdr("hdr", "host)").fetch(&c, Dir::Res), None);
        assert!(hdr("res.hdr", "host)").fetch(&c, Dir::Req).is_none());
    }

    #[test]
    fn quoted_commas_and_empty_values() {
        let c = TestCtx::get("/", &[("x", " \"a\\\",b\" , c"), ("z", ",,z,")]);
        assert_eq!(
            all(&hdr("req.hdr", "x)"), &c),
            vec![b"\"a\\\",b\"".to_vec(), b"c".to_vec()]
        );
        assert_eq!(all(&hdr("req.hdr", "z)"), &c).len(), 4);
        assert_eq!(one(&hdr("req.hdr", "z,-2)"), &c), Some(b"z".to_vec()));
    }

    /// `smp_fetch_hdr_ip()` as haproxy 2.6.12 reads values: one value (the last, or the
    /// one asked for) fails when it is no address; ACLs skip such values.
    #[test]
    fn hdr_ip_and_val() {
        let c = TestCtx::get(
            "/",
            &[("xff", "junk, 10.0.0.1:80, [::1]:8"), ("cl", "12abc")],
        );
        let f = hdr("req.hdr_ip", "xff)");
        assert_eq!(one(&f, &c), None);
        assert_eq!(all(&f, &c), vec![b"10.0.0.1".to_vec()]);
        assert_eq!(one(&hdr("req.hdr_ip", "xff,1)"), &c), None);
        assert_eq!(
            one(&hdr("req.hdr_ip", "xff,2)"), &c),
            Some(b"10.0.0.1".to_vec())
        );
        assert_eq!(one(&hdr("req.hdr_val", "cl)"), &c), Some(b"12".to_vec()));
        for (v, want) in [
            ("010.0.0.1", Some("10.0.0.1")),
            ("1.2.3.4:-", Some("1.2.3.4")),
            ("1.2.3.4:65536", None),
            ("1.2.3.4:99999", None),
            ("1.2.3.4:0", Some("1.2.3.4")),
            ("1.2.3.4:65535", Some("1.2.3.4")),
            ("1.2.3.4:-0", Some("1.2.3.4")),
            ("1.2.3.4:+80", None),
            ("1.2.3.4:", None),
            ("1.2.3.4/8", None),
            ("1.2.3", None),
            ("1.2.3.4.5", None),
            ("1..2.3", None),
            (".1.2.3", None),
            ("1.2.3.256", None),
            ("::ffff:1.2.3.4", Some("::ffff:1.2.3.4")),
            ("::2", Some("::2")),
            ("[::1]", None),
            ("[::1]:8", None),
        ] {
            let got = value_ip(v.as_bytes()).map(|a| a.to_string());
            assert_eq!(got.as_deref(), want, "{v}");
        }
    }

    #[test]
    fn uri_parts() {
        let mk = |u: &str| TestCtx::get(u, &[("host", "h")]);
        let f = |n: &str, c: &TestCtx| one(&build_fetch(kw(n), vec![]).unwrap(), c);
        let c = mk("/p/a?x=1&y");
        assert_eq!(f("path", &c), Some(b"/p/a".to_vec()));
        assert_eq!(f("query", &c), Some(b"x=1&y".to_vec()));
        assert_eq!(f("url", &c), Some(b"/p/a?x=1&y".to_vec()));
        assert_eq!(f("base", &c), Some(b"h/p/a".to_vec()));
        let c = mk("http://foo/p?q");
        assert_eq!(f("path", &c), Some(b"/p".to_vec()));
        assert_eq!(f("base", &c), Some(b"h/p".to_vec()));
        let c = mk("http://foo");
        assert_eq!(f("path", &c), None);
        assert_eq!(f("base", &c), Some(b"h".to_vec()));
        assert_eq!(f("query", &c), None);
        let c = mk("*");
        assert_eq!(f("path", &c), None);
        let c = TestCtx::get("/x?", &[]);
        assert_eq!(f("query", &c), Some(b"".to_vec()));
        assert_eq!(f("base", &c), Some(b"/x".to_vec()));
        assert_eq!(uri_path(b"host:443"), None);
        assert_eq!(uri_path(b"example.com"), None);
        assert_eq!(uri_path(b""), None);
        assert_eq!(uri_path(b"*/x"), None);
        assert_eq!(uri_path(b"/"), Some(&b"/"[..]));
        assert_eq!(uri_path(b"a+b://h/x"), Some(&b"/x"[..]));
    }

    #[test]
    fn scalars() {
        let mut c = ctx();
        let f = |n: &str, c: &TestCtx| one(&build_fetch(kw(n), vec![]).unwrap(), c);
        assert_eq!(f("method", &c), Some(b"GET".to_vec()));
        assert_eq!(f("req.ver", &c), Some(b"1.1".to_vec()));
        assert_eq!(f("src", &c), Some(b"127.0.0.1".to_vec()));
        assert_eq!(f("src_port", &c), Some(b"40000".to_vec()));
        assert_eq!(f("dst", &c), Some(b"127.0.0.1".to_vec()));
        assert_eq!(f("dst_port", &c), Some(b"9100".to_vec()));
        assert_eq!(f("bc_src_port", &c), None);
        assert_eq!(f("status", &c), None);
        assert_eq!(f("fe_name", &c), Some(b"fe".to_vec()));
        assert_eq!(f("be_name", &c), Some(b"fe".to_vec()));
        assert_eq!(f("srv_name", &c), None);
        assert_eq!(f("http_first_req", &c), Some(b"1".to_vec()));
        assert_eq!(f("always_false", &c), Some(b"0".to_vec()));
        assert_eq!(f("str", &c), Some(b"".to_vec()));
        c.be = Some("be".into());
        c.srv = Some("s1".into());
        c.bc_src = Some("127.0.0.1:5555".parse().unwrap());
        c.res = Some(HttpHead::response(Version::Http11, 302, b"Found", 0));
        assert_eq!(f("be_name", &c), Some(b"be".to_vec()));
        assert_eq!(f("srv_name", &c), Some(b"s1".to_vec()));
        assert_eq!(f("bc_src_port", &c), Some(b"5555".to_vec()));
        assert_eq!(f("status", &c), Some(b"302".to_vec()));
        assert_eq!(one(&hdr("int", "-5)"), &c), Some(b"-5".to_vec()));
        assert_eq!(one(&hdr("str", "'a,b')"), &c), Some(b"a,b".to_vec()));
    }

    #[test]
    fn variables() {
        let mut c = ctx();
        let v = hdr("var", "txn.a)");
        assert_eq!(one(&v, &c), None);
        assert_eq!(one(&hdr("var", "txn.a,dflt)"), &c), Some(b"dflt".to_vec()));
        c.txn.set("a", Smp::Sint(7));
        assert_eq!(v.fetch(&c, Dir::Req), Some(Smp::Sint(7)));
        let e = build_fetch(kw("var"), vec![Arg::Str(b"a".to_vec())]).unwrap_err();
        assert!(e.starts_with("invalid variable name 'a'"));
    }

    #[test]
    fn args() {
        let k = kw("req.hdr");
        assert_eq!(
            parse_args("a,1x)", k.args, 0).unwrap_err(),
            "failed to parse '1x' as type 'integer' at position 2"
        );
        assert_eq!(parse_args("a,)", k.args, 0).unwrap().0.len(), 1);
        let (a, end) = parse_args("a,1,2)", k.args, 0).unwrap();
        assert_eq!((a.len(), end), (2, 3));
        assert_eq!(
            parse_args(")", &[ArgT::Sint], 1).unwrap_err(),
            "expected type 'integer' at position 1, but got nothing"
        );
        // escapes: \r \n \t are control characters, a lone '\' stays, a final one fails
        let (a, _) = parse_args("a\\rb\\nc\\td\\xe\\\"\\ )", STR1, 1).unwrap();
        assert_eq!(a, vec![Arg::Str(b"a\rb\nc\td\\xe\" ".to_vec())]);
        assert_eq!(
            parse_args("a\\", STR1, 1).unwrap_err(),
            "failed to parse '\\' after 'a' as type 'string' at position 1"
        );
        assert_eq!(
            parse_args("1,\\", HDR_ARGS, 0).unwrap_err(),
            "failed to parse '\\' after '' as type 'integer' at position 2"
        );
        let (a, _) = parse_args("a\\\\b\\)x", STR1, 1).unwrap();
        assert_eq!(a, vec![Arg::Str(b"a\\b\\".to_vec())]);
        let (a, _) = parse_args("\"a b\",'c\\'", VAR_ARGS, 0).unwrap();
        assert_eq!(
            a,
            vec![Arg::Str(b"a b".to_vec()), Arg::Str(b"c\\".to_vec())]
        );
        assert_eq!(
            build_fetch(k, vec![Arg::Str(b"x".to_vec()), Arg::Sint(-11)]).unwrap_err(),
            "header occurrence must be >= -10"
        );
        assert!(build_fetch(k, vec![Arg::Str(b"x".to_vec()), Arg::Sint(-10)]).is_ok());
        // an optional integer left empty is no argument
        assert_eq!(parse_args(")", &[ArgT::Sint], 0).unwrap(), (vec![], 0));
        assert_eq!(no_paren_args(STR1, 1).unwrap(), vec![Arg::Str(vec![])]);
        assert!(no_paren_args(SINT1, 1).is_err());
        assert!(no_paren_args(HDR_ARGS, 0).unwrap().is_empty());
    }

    #[test]
    fn where_names() {
        assert!(Class::ReqVol.valid_at(Where::FE_REQ));
        assert!(!Class::ReqVol.valid_at(Where::FE_RES));
        assert!(Class::ResPerm.valid_at(Where::LOG));
        assert!(!Class::Backend.valid_at(Where::FE_REQ));
        assert!(Class::Backend.valid_at(Where::FE_REQ.or(Where::BE_REQ)));
        // sample_ckp_names(): the lowest place of the set names it
        for (w, name) in [
            (Where::FE_REQ, "frontend http-request header rule"),
            (Where::FE_SWITCH, "frontend use-backend rule"),
            (Where::BE_REQ, "backend http-request header rule"),
            (Where::BE_RES, "backend http-response header rule"),
            (Where::FE_RES, "frontend http-response header rule"),
            (Where::LOG, "logs"),
        ] {
            assert_eq!(w.name(), name);
            assert_eq!(w.or(Where::LOG).name(), name);
        }
        assert_eq!(Where::FE_REQ.or(Where::FE_REQ), Where::FE_REQ);
        assert_eq!(
            Where::BE_RES.or(Where::FE_RES).name(),
            "backend http-response header rule"
        );
    }
}
