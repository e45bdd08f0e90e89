//! The HTTP/1 head parser: start line and header fields in one pass over a contiguous buffer,
//! with HAProxy 2.6's acceptance rules (`h1_headers_to_hdr_list`, `h1_process_*_vsn`,
//! `h1_postparse_*_hdrs`, the checks `mux_h1` adds) and the rewriting it performs while
//! converting a message to its internal form: lower-cased names, trimmed and unfolded values,
//! duplicate `Host`/`Content-Length` merged, `Connection` stripped of `close`/`keep-alive`,
//! `Content-Length` dropped next to `Transfer-Encoding`, default ports normalized away.
//!
//! The same field parser reads chunked trailers (see `chunk.rs`).

use super::chars::{is_crlf, is_digit, is_lws, is_spht, is_token, is_ver, trim_lws};
use super::uri::{check_target, normalize_absolute, TargetCheck};
use super::{for_each_word, H1Error, H1Limits, H1Msg, MsgFlags, Parsed};
use crate::msg::{BodyLen, HttpHead, Meth, Version};

/// Bytes of HAProxy's internal representation not counted by [`htx_cost`] that must still fit
/// in `tune.bufsize - tune.maxrewrite` (block and start-line descriptors, end-of-headers
/// block, buffer header). Measured against haproxy 2.6: a head is accepted iff
/// `htx_cost(head) <= max_head - HTX_FIXED`.
pub(crate) const HTX_FIXED: usize = 85;

/// Per-field overhead of the internal representation (one block descriptor).
const HTX_BLK: usize = 8;

/// Where fields go: the head of a message, or the trailer list of a chunked body.
pub(crate) trait FieldSink {
    fn push_field(&mut self, name: &[u8], value: &[u8]);
    fn value_at(&self, i: usize) -> &[u8];
}

impl FieldSink for HttpHead {
    fn push_field(&mut self, name: &[u8], value: &[u8]) {
        self.add_header(name, value);
    }
    fn value_at(&self, i: usize) -> &[u8] {
        self.header_at(i).map(|(_, v)| v).unwrap_or(&[])
    }
}

impl FieldSink for Vec<(Vec<u8>, Vec<u8>)> {
    fn push_field(&mut self, name: &[u8], value: &[u8]) {
        self.push((name.to_ascii_lowercase(), value.to_vec()));
    }
    fn value_at(&self, i: usize) -> &[u8] {
        self.get(i).map(|(_, v)| v.as_slice()).unwrap_or(&[])
    }
}

/// How a field block is parsed.
pub(crate) struct FieldCtx {
    /// Response semantics: no `Host` checks, a non-chunked coding may follow `chunked`.
    pub is_resp: bool,
    /// Strip `close`/`keep-alive` from `Connection` (HAProxy does it for heads, not trailers).
    pub clean_conn: bool,
    /// Accept non-token bytes in names (what haproxy 2.6 does for trailers).
    pub lenient_names: bool,
    /// `tune.http.maxhdr`: at most `max_hdrs - 1` fields are stored.
    pub max_hdrs: usize,
}

/// What the field parser learnt (HAProxy's `h1m->flags` and friends).
#[derive(Default)]
pub(crate) struct FieldState {
    pub te: bool,
    pub te_chunked: bool,
    pub chnk: bool,
    pub te_other: bool,
    pub clen: bool,
    pub body_len: u64,
    pub conn_clo: bool,
    pub conn_kal: bool,
    pub conn_upg: bool,
    pub upg_ws: bool,
    pub upg_h2c: bool,
    pub host_idx: Option<usize>,
    pub ws_key: Option<[u8; 24]>,
    pub ws_accept: bool,
    pub expect_100: bool,
    pub count: usize,
    /// Sum of name and value lengths of stored fields.
    pub bytes: usize,
    /// Name and value length of the stored `Content-Length` field.
    pub cl_bytes: usize,
}

type PErr = (usize, &'static str);

/// Position of the first CR or LF in `b[from..]`, 8 bytes at a time (a word is searched
/// byte by byte only when it holds a byte below 0x0e or above 0x8d).
fn find_eol(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w);
        if x.wrapping_sub(0x0e0e_0e0e_0e0e_0e0e) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| is_crlf(c)).map(|k| k + i)
}

/// Parses header fields from `p` up to and including the empty line. `Ok(None)`: more data
/// needed; `Ok(Some(n))`: the block ends at `n`; `Err`: invalid at the given position.
pub(crate) fn parse_fields<S: FieldSink>(
    buf: &[u8],
    mut p: usize,
    ctx: &FieldCtx,
    st: &mut FieldState,
    sink: &mut S,
    fold: &mut Vec<u8>,
    conn: &mut Vec<u8>,
) -> Result<Option<usize>, PErr> {
    let end = buf.len();
    loop {
        let Some(&c) = buf.get(p) else {
            return Ok(None);
        };
        if c == b'\r' {
            return match buf.get(p + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some(p + 2)),
                Some(_) => Err((p + 1, "CR not followed by LF after the header fields")),
            };
        }
        if c == b'\n' {
            return Ok(Some(p + 1));
        }
        let sol = p;
        loop {
            let Some(&c) = buf.get(p) else {
                return Ok(None);
            };
            if is_token(c) {
                p += 1;
            } else if c == b':' {
                break;
            } else if ctx.lenient_names && c != b'\n' {
                p += 1;
            } else {
                return Err((p, "invalid character in a header name"));
            }
        }
        if p == sol {
            return Err((p, "empty header name"));
        }
        // The value starts after the colon; the search for its line end may start on the
        // colon itself, which is no line end.
        let col = p;
        let mut folded = false;
        let eol;
        loop {
            let Some(e) = find_eol(buf, p) else {
                return Ok(None);
            };
            p = e;
            if buf[p] == b'\r' {
                p += 1;
                match buf.get(p) {
                    None => return Ok(None),
                    Some(b'\n') => {}
                    Some(_) => return Err((p, "CR not followed by LF in a header")),
                }
            }
            p += 1;
            if p >= end {
                return Ok(None);
            }
            if is_spht(buf[p]) {
                folded = true;
                continue;
            }
            eol = e;
            break;
        }
        let raw = &buf[col + 1..eol];
        let value: &[u8] = if folded {
            fold.clear();
            fold.extend(raw.iter().map(|&c| if is_crlf(c) { b' ' } else { c }));
            trim_lws(fold)
        } else {
            trim_lws(raw)
        };
        add_field(&buf[sol..col], value, sol, ctx, st, sink, conn)?;
    }
}

/// Applies HAProxy's per-field rules and stores the field unless it is merged away.
fn add_field<S: FieldSink>(
    name: &[u8],
    value: &[u8],
    pos: usize,
    ctx: &FieldCtx,
    st: &mut FieldState,
    sink: &mut S,
    scratch: &mut Vec<u8>,
) -> Result<(), PErr> {
    if st.count >= ctx.max_hdrs {
        return Err((pos, "too many header fields"));
    }
    let mut store: &[u8] = value;
    if name.eq_ignore_ascii_case(b"transfer-encoding") {
        if !parse_te(value, st, ctx.is_resp) {
            return Err((pos, "invalid Transfer-Encoding"));
        }
    } else if name.eq_ignore_ascii_case(b"content-length") {
        match parse_cl(value, st) {
            Err(()) => return Err((pos, "invalid Content-Length")),
            Ok(None) => return Ok(()),
            Ok(Some((s, e))) => {
                store = &value[s..e];
                st.cl_bytes = name.len() + store.len();
            }
        }
    } else if name.eq_ignore_ascii_case(b"connection") {
        let n = parse_connection(value, st, ctx.clean_conn, scratch);
        if n == 0 {
            return Ok(());
        }
        if ctx.clean_conn {
            push(sink, st, name, &scratch[..n]);
            return Ok(());
        }
    } else if name.eq_ignore_ascii_case(b"upgrade") {
        st.upg_ws = false;
        st.upg_h2c = false;
        for_each_word(value, |_, _, w| {
            if w.eq_ignore_ascii_case(b"websocket") {
                st.upg_ws = true;
            } else if w.eq_ignore_ascii_case(b"h2c") || w.eq_ignore_ascii_case(b"h2") {
                st.upg_h2c = true;
            }
        });
    } else if !ctx.is_resp && name.eq_ignore_ascii_case(b"host") {
        if let Some(i) = st.host_idx {
            if !value.eq_ignore_ascii_case(sink.value_at(i)) {
                return Err((pos, "several different Host fields"));
            }
            return Ok(());
        }
        st.host_idx = Some(st.count);
    } else if !ctx.is_resp && name.eq_ignore_ascii_case(b"sec-websocket-key") {
        if st.ws_key.is_none() && value.len() == 24 {
            let mut k = [0u8; 24];
            k.copy_from_slice(value);
            st.ws_key = Some(k);
        }
    } else if ctx.is_resp && name.eq_ignore_ascii_case(b"sec-websocket-accept") {
        st.ws_accept = true;
    } else if !ctx.is_resp
        && name.eq_ignore_ascii_case(b"expect")
        && value.eq_ignore_ascii_case(b"100-continue")
    {
        st.expect_100 = true;
    }
    push(sink, st, name, store);
    Ok(())
}

fn push<S: FieldSink>(sink: &mut S, st: &mut FieldState, name: &[u8], value: &[u8]) {
    sink.push_field(name, value);
    st.count += 1;
    st.bytes += name.len() + value.len();
}

/// `Transfer-Encoding` as haproxy 2.6 reads it: remembers whether `chunked` is the last coding
/// and whether another coding was seen. `false` when `chunked` appears twice, or (requests)
/// when a coding follows `chunked`.
pub(crate) fn parse_te(v: &[u8], st: &mut FieldState, is_resp: bool) -> bool {
    st.te = true;
    let mut ok = true;
    for_each_word(v, |_, _, w| {
        if !ok {
            return;
        }
        st.chnk = false;
        if w.eq_ignore_ascii_case(b"chunked") {
            if st.te_chunked {
                ok = false;
                return;
            }
            st.te_chunked = true;
            st.chnk = true;
        } else {
            if !is_resp && st.te_chunked {
                ok = false;
                return;
            }
            st.te_other = true;
        }
    });
    ok
}

/// `Content-Length` (`h1_parse_cont_len_header`): a comma-separated list of identical decimal
/// values, also identical to any earlier field. `Ok(Some(span))`: store the field with the
/// last value only; `Ok(None)`: a duplicate, drop it; `Err`: invalid.
pub(crate) fn parse_cl(v: &[u8], st: &mut FieldState) -> Result<Option<(usize, usize)>, ()> {
    let not_first = st.clen;
    let e = v.len();
    let mut w = 0;
    loop {
        if w >= e {
            return Err(());
        }
        if is_lws(v[w]) {
            w += 1;
            continue;
        }
        let mut cl: u64 = 0;
        let mut n = w;
        while n < e {
            let c = v[n].wrapping_sub(b'0');
            if c > 9 {
                if n == w {
                    return Err(());
                }
                break;
            }
            cl = cl
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(c)))
                .ok_or(())?;
            n += 1;
        }
        let wend = n;
        while n < e {
            if !is_lws(v[n]) {
                if v[n] != b',' {
                    return Err(());
                }
                break;
            }
            n += 1;
        }
        if st.clen && cl != st.body_len {
            return Err(());
        }
        st.clen = true;
        st.body_len = cl;
        if n == e {
            return Ok(if not_first { None } else { Some((w, wend)) });
        }
        n += 1;
        w = n;
    }
}

/// `Connection` (`h1_parse_connection_header`): sets the close/keep-alive/upgrade flags and,
/// when `clean`, rewrites the value into `out` without `close` and `keep-alive` the way
/// HAProxy edits it in place. Returns the length of the value to keep (0: drop the field);
/// when `clean` is false the value is copied unchanged.
pub(crate) fn parse_connection(
    v: &[u8],
    st: &mut FieldState,
    clean: bool,
    out: &mut Vec<u8>,
) -> usize {
    out.clear();
    out.extend_from_slice(v);
    let mut vlen = 0usize;
    let mut p = 0usize;
    for_each_word(v, |i, n, w| {
        let ka = w.eq_ignore_ascii_case(b"keep-alive");
        let clo = w.eq_ignore_ascii_case(b"close");
        if ka {
            st.conn_kal = true;
        } else if clo {
            st.conn_clo = true;
        } else if w.eq_ignore_ascii_case(b"upgrade") {
            st.conn_upg = true;
        }
        if clean && !ka && !clo {
            if vlen == p {
                vlen = n;
            } else {
                if vlen > 0 {
                    out[vlen] = b',';
                    vlen += 1;
                }
                out[vlen..vlen + w.len()].copy_from_slice(&v[i..i + w.len()]);
                vlen += w.len();
            }
        }
        p = n;
    });
    if clean {
        vlen
    } else {
        v.len()
    }
}

/// HAProxy's word-at-a-time skip over request-target bytes (2.6 as shipped by Debian): a
/// group of four bytes is skipped unchecked when it passes this test, which lets bytes
/// 0x7f..=0xa3 through in the middle of ordinary characters. Reproduced because the
/// acceptance of such targets depends on it.
fn uri_group_skippable(g: [u8; 4]) -> bool {
    let x = u32::from_le_bytes(g).wrapping_sub(0x2424_2424);
    if x & 0x8080_8080 != 0 {
        return false;
    }
    x.wrapping_sub(0x5b5b_5b5b) & 0x8080_8080 != 0
}

/// HTTP/1 version token: `H1_MF_VER_11` when the token has 8 bytes and its major.minor is at
/// least 1.1.
pub(crate) fn ver_is_11(v: &[u8]) -> bool {
    v.len() == 8 && (v[5] > b'1' || (v[5] == b'1' && v[7] >= b'1'))
}

/// The parse of a start line.
struct StartLine {
    /// Request: method, target, version. Response: version, status text, reason.
    p: [(usize, usize); 3],
    status: u16,
    /// Offset just after the start line.
    next: usize,
}

/// Skips empty lines before a start line; the first byte of the line must be a token byte.
fn skip_empty_lines(buf: &[u8]) -> Result<Option<usize>, PErr> {
    let mut p = 0;
    loop {
        let Some(&c) = buf.get(p) else {
            return Ok(None);
        };
        if is_token(c) {
            return Ok(Some(p));
        }
        match c {
            b'\n' => p += 1,
            b'\r' => match buf.get(p + 1) {
                None => return Ok(None),
                Some(b'\n') => p += 2,
                Some(_) => return Err((p + 1, "CR not followed by LF before the start line")),
            },
            _ => return Err((p, "invalid character before the start line")),
        }
    }
}

/// Reads a line end at `p` (CR LF or LF) and returns the offset after it.
fn line_end(buf: &[u8], mut p: usize) -> Result<Option<usize>, PErr> {
    if buf.get(p) == Some(&b'\r') {
        p += 1;
    }
    match buf.get(p) {
        None => Ok(None),
        Some(b'\n') => Ok(Some(p + 1)),
        Some(_) => Err((p, "CR not followed by LF at the end of the start line")),
    }
}

fn request_line(buf: &[u8], start: usize) -> Result<Option<StartLine>, PErr> {
    let end = buf.len();
    let mut p = start;
    while p < end && is_token(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    let meth = (start, p);
    if is_crlf(c) {
        return http09(buf, p);
    }
    if !is_spht(c) {
        return Err((p, "invalid character in the method"));
    }
    while p < end && is_spht(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if is_crlf(c) {
        return http09(buf, p);
    }
    let us = p;
    while p + 4 <= end {
        let g = [buf[p], buf[p + 1], buf[p + 2], buf[p + 3]];
        if !uri_group_skippable(g) {
            break;
        }
        p += 4;
    }
    let ue = loop {
        let Some(&c) = buf.get(p) else {
            return Ok(None);
        };
        if (33..=126).contains(&c) {
            if c == b'#' {
                return Err((p, "'#' in the request target"));
            }
            p += 1;
        } else if is_spht(c) {
            break p;
        } else if is_crlf(c) {
            return http09(buf, p);
        } else {
            return Err((p, "invalid character in the request target"));
        }
    };
    while p < end && is_spht(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if is_crlf(c) {
        return http09(buf, p);
    }
    let vs = p;
    while p < end && is_ver(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if !is_crlf(c) {
        return Err((p, "invalid character in the version"));
    }
    let ve = p;
    let Some(next) = line_end(buf, p)? else {
        return Ok(None);
    };
    Ok(Some(StartLine {
        p: [meth, (us, ue), (vs, ve)],
        status: 0,
        next,
    }))
}

/// A request line without a version (HTTP/0.9): HAProxy 2.6 rejects it once the line ends.
fn http09(buf: &[u8], p: usize) -> Result<Option<StartLine>, PErr> {
    match line_end(buf, p)? {
        None => Ok(None),
        Some(_) => Err((p, "request line without an HTTP version")),
    }
}

fn status_line(buf: &[u8], start: usize) -> Result<Option<StartLine>, PErr> {
    let end = buf.len();
    let mut p = start;
    while p < end && is_ver(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if !is_spht(c) {
        return Err((p, "invalid character in the version"));
    }
    let ver = (start, p);
    while p < end && is_spht(buf[p]) {
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if is_crlf(c) {
        return Err((p, "status line without a status code"));
    }
    let cs = p;
    let mut status: u16 = 0;
    while p < end && is_digit(buf[p]) {
        status = status
            .wrapping_mul(10)
            .wrapping_add(u16::from(buf[p] - b'0'));
        p += 1;
    }
    let Some(&c) = buf.get(p) else {
        return Ok(None);
    };
    if !is_lws(c) {
        return Err((p, "invalid character in the status code"));
    }
    let code = (cs, p);
    let mut reason = (p, p);
    if is_spht(c) {
        while p < end && is_spht(buf[p]) {
            p += 1;
        }
        let rs = p;
        while p < end && !is_crlf(buf[p]) {
            p += 1;
        }
        if p >= end {
            return Ok(None);
        }
        reason = (rs, p);
    }
    let Some(next) = line_end(buf, p)? else {
        return Ok(None);
    };
    Ok(Some(StartLine {
        p: [ver, code, reason],
        status,
        next,
    }))
}

/// Size of a head in HAProxy's internal representation, minus the fixed part (see
/// [`HTX_FIXED`]): start-line strings plus, per field, name, value and a block descriptor.
pub(crate) fn htx_cost(sl_len: usize, st: &FieldState) -> usize {
    sl_len + st.bytes + st.count * HTX_BLK
}

fn err(status: u16, (pos, what): PErr) -> H1Error {
    H1Error { status, pos, what }
}

/// Shared driver of [`super::parse_request`] and [`super::parse_response`]: parses within
/// the first `lim.max_raw` bytes (what HAProxy's buffer can hold), then applies the checks
/// done after the conversion.
pub(crate) fn parse_head(
    buf: &[u8],
    lim: &H1Limits,
    req_meth: Option<Meth>,
) -> Result<Parsed, H1Error> {
    let status = if req_meth.is_some() { 502 } else { 400 };
    let view = &buf[..buf.len().min(lim.max_raw)];
    match parse_view(view, lim, req_meth).map_err(|e| err(status, e))? {
        Some((msg, consumed)) => match req_meth {
            None => post_request(msg, consumed),
            Some(_) => post_response(msg, consumed, req_meth),
        },
        None if buf.len() >= lim.max_raw => Err(H1Error {
            status,
            pos: view.len(),
            what: "head larger than the buffer",
        }),
        None => Ok(Parsed::Incomplete),
    }
}

fn parse_view(
    buf: &[u8],
    lim: &H1Limits,
    req_meth: Option<Meth>,
) -> Result<Option<(H1Msg, usize)>, PErr> {
    let is_resp = req_meth.is_some();
    let Some(start) = skip_empty_lines(buf)? else {
        return Ok(None);
    };
    let sl = if is_resp {
        status_line(buf, start)?
    } else {
        request_line(buf, start)?
    };
    let Some(sl) = sl else {
        return Ok(None);
    };
    let [a, b, c] = sl.p;
    let (s0, s1, s2) = (&buf[a.0..a.1], &buf[b.0..b.1], &buf[c.0..c.1]);
    let size_hint = buf.len().saturating_sub(start).min(2048);
    let (mut head, ver) = if is_resp {
        let ver11 = ver_is_11(s0);
        let v = if ver11 {
            Version::Http11
        } else {
            Version::Http10
        };
        let mut h = HttpHead::response(v, sl.status, s2, size_hint);
        h.set_version_text(s0);
        h.set_status_text(s1);
        (h, s0)
    } else {
        let ver11 = ver_is_11(s2);
        let v = if ver11 {
            Version::Http11
        } else {
            Version::Http10
        };
        let mut h = HttpHead::request(s0, s1, v, size_hint);
        h.set_version_text(s2);
        (h, s2)
    };
    head.reserve_headers(16);
    let ctx = FieldCtx {
        is_resp,
        clean_conn: true,
        lenient_names: false,
        max_hdrs: lim.max_hdrs,
    };
    let mut st = FieldState::default();
    let (mut fold, mut conn) = (Vec::new(), Vec::new());
    let Some(end) = parse_fields(buf, sl.next, &ctx, &mut st, &mut head, &mut fold, &mut conn)?
    else {
        return Ok(None);
    };
    if st.count >= lim.max_hdrs {
        return Err((end, "too many header fields"));
    }
    let ver11 = ver_is_11(ver);
    let meth = head.meth();

    // Request target against method and Host (before Content-Length removal, like HAProxy).
    if !is_resp {
        let host = st.host_idx.map(|i| head.value_at(i).to_vec());
        match check_target(head.uri(), meth == Meth::Connect, host.as_deref()) {
            TargetCheck::Ok => {}
            TargetCheck::NormalizeHost(h) => {
                if let Some(i) = st.host_idx {
                    st.bytes = st.bytes.saturating_sub(head.value_at(i).len()) + h.len();
                    head.set_value_at(i, &h);
                }
            }
            TargetCheck::Bad(what) => return Err((b.0, what)),
        }
    }

    let mut flags = MsgFlags {
        ver11,
        ..MsgFlags::default()
    };
    if st.te {
        if st.clen {
            flags.cl_and_te = true;
            flags.force_close = true;
            st.clen = false;
            st.body_len = 0;
            let before = head.hdr_count();
            head.del_header(b"content-length");
            st.count -= before - head.hdr_count();
            st.bytes = st.bytes.saturating_sub(st.cl_bytes);
        } else if !ver11 {
            flags.force_close = true;
        }
        if !st.chnk && !is_resp {
            return Err((end, "Transfer-Encoding without chunked as last coding"));
        }
    }

    // Version syntax.
    let vok = if is_resp {
        ver.len() == 8 && ver[4] == b'/' && is_digit(ver[5]) && ver[6] == b'.' && is_digit(ver[7])
    } else {
        ver.len() == 8
            && ver.starts_with(b"HTTP/")
            && is_digit(ver[5])
            && ver[6] == b'.'
            && is_digit(ver[7])
    };
    if !vok {
        return Err((if is_resp { a.0 } else { c.0 }, "invalid HTTP version"));
    }

    // Size of the head once converted.
    let sl_len = s0.len() + s1.len() + s2.len();
    if htx_cost(sl_len, &st) > lim.max_head.saturating_sub(HTX_FIXED) {
        return Err((end, "head too large once converted"));
    }

    flags.conn_close = st.conn_clo;
    flags.conn_keepalive = st.conn_kal;
    flags.upgrade = st.conn_upg;
    flags.upgrade_websocket = st.upg_ws;
    flags.upgrade_h2c = st.upg_h2c;
    flags.te = st.te;
    flags.te_chunked = st.chnk;
    flags.te_other = st.te_other;
    flags.has_cl = st.clen;
    flags.expect_100 = st.expect_100;
    flags.ws_key = st.ws_key;
    flags.ws_accept = st.ws_accept;

    let body = if st.chnk {
        BodyLen::Chunked
    } else if st.clen {
        BodyLen::Len(st.body_len)
    } else if is_resp {
        BodyLen::UntilClose
    } else {
        BodyLen::None
    };
    Ok(Some((H1Msg { head, body, flags }, end)))
}

/// Request checks done after the conversion (`h1_handle_headers`, then the normalization).
fn post_request(mut msg: H1Msg, consumed: usize) -> Result<Parsed, H1Error> {
    let meth = msg.head.meth();
    let f = &msg.flags;
    let payload = matches!(msg.body, BodyLen::Len(n) if n > 0) || msg.body == BodyLen::Chunked;
    if !f.ver11 && payload && matches!(meth, Meth::Get | Meth::Head | Meth::Delete) {
        return Err(H1Error {
            status: 413,
            pos: consumed,
            what: "HTTP/1.0 GET/HEAD/DELETE request with a payload",
        });
    }
    if f.te_other {
        return Err(H1Error {
            status: 422,
            pos: consumed,
            what: "unsupported transfer coding",
        });
    }
    if f.upgrade && f.upgrade_websocket && f.ws_key.is_none() {
        return Err(H1Error {
            status: 400,
            pos: consumed,
            what: "websocket upgrade without a valid Sec-WebSocket-Key",
        });
    }
    if meth == Meth::Connect {
        msg.body = BodyLen::None;
    } else if let Some((uri, host)) = normalize_absolute(msg.head.uri()) {
        msg.head.set_uri(&uri);
        for i in 0..msg.head.hdr_count() {
            if matches!(msg.head.header_at(i), Some((n, _)) if n == b"host") {
                msg.head.set_value_at(i, &host);
            }
        }
    }
    Ok(Parsed::Done { msg, consumed })
}

/// Response checks done after the conversion, and the body length rules of
/// `h1_postparse_res_hdrs` (HEAD, 1xx, 204, 304 have none; 101 and a 200 to CONNECT tunnel).
fn post_response(
    mut msg: H1Msg,
    consumed: usize,
    req_meth: Option<Meth>,
) -> Result<Parsed, H1Error> {
    let f = &msg.flags;
    if f.te_other {
        return Err(H1Error {
            status: 502,
            pos: consumed,
            what: "unsupported transfer coding",
        });
    }
    let status = msg.head.status;
    if status == 101 && f.upgrade && f.upgrade_websocket && !f.ws_accept {
        return Err(H1Error {
            status: 502,
            pos: consumed,
            what: "websocket 101 without Sec-WebSocket-Accept",
        });
    }
    let meth = req_meth.unwrap_or(Meth::Get);
    if (meth == Meth::Connect && status == 200)
        || status == 101
        || meth == Meth::Head
        || (100..200).contains(&status)
        || status == 204
        || status == 304
    {
        msg.body = BodyLen::None;
    }
    Ok(Parsed::Done { msg, consumed })
}
