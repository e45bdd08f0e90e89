//! The HTTP message head shared by every layer: start line plus header list, protocol neutral
//! (HAProxy's HTX start-line and header blocks, `struct htx_sl` + `HTX_BLK_HDR`).
//!
//! Owns the storage of one head only. Header names are stored lower-cased, as HAProxy's HTX
//! does (an H1 peer therefore sees lower-case names on the wire, like upstream 2.6). Order and
//! duplicates are kept. Strings live in one byte buffer addressed by spans, so a parsed head
//! costs two allocations however many headers it has.

use std::fmt;

/// A byte range in [`HttpHead`]'s buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    off: u32,
    len: u32,
}

/// HTTP version of a message as received or to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Version {
    Http10,
    #[default]
    Http11,
    /// HTTP/2 (the head came from or goes to an h2 mux).
    Http2,
}

impl Version {
    /// The version token as written on an HTTP/1 start line.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::Http2 => "HTTP/2.0",
        }
    }
}

/// The request method, with the common ones recognised (HAProxy's `enum http_meth_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meth {
    Options,
    Get,
    Head,
    Post,
    Put,
    Delete,
    Trace,
    Connect,
    /// Any other token; the text is in the head.
    Other,
}

impl Meth {
    /// Classifies a method token (case-sensitive, as methods are).
    pub fn from_bytes(m: &[u8]) -> Meth {
        match m {
            b"GET" => Meth::Get,
            b"HEAD" => Meth::Head,
            b"POST" => Meth::Post,
            b"PUT" => Meth::Put,
            b"DELETE" => Meth::Delete,
            b"OPTIONS" => Meth::Options,
            b"TRACE" => Meth::Trace,
            b"CONNECT" => Meth::Connect,
            _ => Meth::Other,
        }
    }
}

/// How the body of a message is delimited, decided once the head is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLen {
    /// No body at all (GET without length, HEAD responses, 1xx/204/304).
    None,
    /// `content-length: n` (n may be 0).
    Len(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Response delimited by the server closing (no length, no chunking).
    UntilClose,
}

/// Start line and headers of one request or response.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpHead {
    buf: Vec<u8>,
    /// Request: method, uri, version text as received. Response: version text and status
    /// text as received, reason. Empty spans mean "not recorded".
    sl: [Span; 3],
    hdrs: Vec<(Span, Span)>,
    /// True for a request.
    pub is_req: bool,
    pub version: Version,
    /// Response status (0 for requests).
    pub status: u16,
}

impl HttpHead {
    fn push(&mut self, b: &[u8]) -> Span {
        let off = self.buf.len() as u32;
        self.buf.extend_from_slice(b);
        Span {
            off,
            len: b.len() as u32,
        }
    }

    fn push_lower(&mut self, b: &[u8]) -> Span {
        let off = self.buf.len() as u32;
        self.buf.extend(b.iter().map(u8::to_ascii_lowercase));
        Span {
            off,
            len: b.len() as u32,
        }
    }

    fn get(&self, s: Span) -> &[u8] {
        &self.buf[s.off as usize..(s.off + s.len) as usize]
    }

    /// About the size of the head once formatted: its strings plus separators and line
    /// ends (exact for the header lines, close for the start line).
    pub fn wire_len(&self) -> usize {
        self.buf.len() + 4 * self.hdrs.len() + 16
    }

    /// A request head. `size_hint` is the expected number of bytes of all strings.
    pub fn request(method: &[u8], uri: &[u8], version: Version, size_hint: usize) -> HttpHead {
        let mut h = HttpHead {
            buf: Vec::with_capacity(size_hint.max(method.len() + uri.len())),
            is_req: true,
            version,
            ..Default::default()
        };
        let m = h.push(method);
        let u = h.push(uri);
        h.sl = [m, u, Span::default()];
        h
    }

    /// A response head. `reason` may be empty.
    pub fn response(version: Version, status: u16, reason: &[u8], size_hint: usize) -> HttpHead {
        let mut h = HttpHead {
            buf: Vec::with_capacity(size_hint.max(reason.len())),
            is_req: false,
            version,
            status,
            ..Default::default()
        };
        let r = h.push(reason);
        h.sl = [Span::default(), Span::default(), r];
        h
    }

    /// The method token (empty for responses).
    pub fn method(&self) -> &[u8] {
        self.get(self.sl[0])
    }

    /// The method class.
    pub fn meth(&self) -> Meth {
        Meth::from_bytes(self.method())
    }

    /// The request target as received (empty for responses).
    pub fn uri(&self) -> &[u8] {
        self.get(self.sl[1])
    }

    /// The path part of the URI: for an absolute URI the part after the authority, up to `?`
    /// (HAProxy's `http_parse_path`); empty when there is none.
    pub fn path(&self) -> &[u8] {
        let uri = self.uri();
        let mut p = uri;
        if !uri.starts_with(b"/") {
            if let Some(i) = find(uri, b"://") {
                let rest = &uri[i + 3..];
                p = match rest.iter().position(|&c| c == b'/') {
                    Some(j) => &rest[j..],
                    None => &[],
                };
            }
        }
        match p.iter().position(|&c| c == b'?') {
            Some(q) => &p[..q],
            None => p,
        }
    }

    /// Replaces the URI.
    pub fn set_uri(&mut self, uri: &[u8]) {
        self.sl[1] = self.push(uri);
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> &[u8] {
        self.get(self.sl[2])
    }

    /// Replaces the status and reason of a response. The status text becomes the decimal
    /// number (any text recorded by [`HttpHead::set_status_text`] is dropped).
    pub fn set_status(&mut self, status: u16, reason: &[u8]) {
        self.status = status;
        self.sl[1] = Span::default();
        self.sl[2] = self.push(reason);
    }

    /// The version token exactly as received on the start line (`HTTP/1.0`, `HTTP/0.9`,
    /// `HTTP/1.2`...), or empty when the head was built locally. HTTP/1 output only uses it
    /// for versions below 1.1 (HAProxy writes `HTTP/1.1` for anything at or above 1.1).
    pub fn version_text(&self) -> &[u8] {
        if self.is_req {
            self.get(self.sl[2])
        } else {
            self.get(self.sl[0])
        }
    }

    /// Records the version token as received (see [`HttpHead::version_text`]).
    pub fn set_version_text(&mut self, v: &[u8]) {
        let s = self.push(v);
        if self.is_req {
            self.sl[2] = s;
        } else {
            self.sl[0] = s;
        }
    }

    /// The status code text of a response as received (`200`, or `099` kept verbatim), empty
    /// when none was recorded; HTTP/1 output then writes [`HttpHead::status`] in decimal.
    pub fn status_text(&self) -> &[u8] {
        if self.is_req {
            &[]
        } else {
            self.get(self.sl[1])
        }
    }

    /// Records the status code text of a response as received. No effect on a request.
    pub fn set_status_text(&mut self, s: &[u8]) {
        if !self.is_req {
            self.sl[1] = self.push(s);
        }
    }

    /// Number of header fields.
    pub fn hdr_count(&self) -> usize {
        self.hdrs.len()
    }

    /// All header fields in order, names lower-cased.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.hdrs.iter().map(|&(n, v)| (self.get(n), self.get(v)))
    }

    /// The buffer the head's strings live in, and every header field as its name and the
    /// range of its value in that buffer, in order: for a converter that shares the bytes
    /// once instead of copying each value (the HTTP/2 mux).
    pub fn fields_in_buf(
        &self,
    ) -> (
        &[u8],
        impl Iterator<Item = (&[u8], std::ops::Range<usize>)> + '_,
    ) {
        let fields = self.hdrs.iter().map(|&(n, v)| {
            let start = v.off as usize;
            (self.get(n), start..start + v.len as usize)
        });
        (&self.buf, fields)
    }

    /// The values of every field named `name` (compared case-insensitively), in order.
    pub fn values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value of `name`, if present.
    pub fn first(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True when a field named `name` is present.
    pub fn has(&self, name: &[u8]) -> bool {
        self.first(name).is_some()
    }

    /// Appends a field; the name is lower-cased.
    pub fn add_header(&mut self, name: &[u8], value: &[u8]) {
        let n = self.push_lower(name);
        let v = self.push(value);
        self.hdrs.push((n, v));
    }

    /// Appends a field keeping the case of `name` (HAProxy writes a few fields it generates
    /// itself with capitals, e.g. `Sec-Websocket-Accept`).
    pub fn add_header_raw(&mut self, name: &[u8], value: &[u8]) {
        let n = self.push(name);
        let v = self.push(value);
        self.hdrs.push((n, v));
    }

    /// The field at position `i` (0-based, in order), if any.
    pub fn header_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.hdrs.get(i).map(|&(n, v)| (self.get(n), self.get(v)))
    }

    /// Replaces the value of the field at position `i`, keeping its place; no effect when `i`
    /// is out of range.
    pub fn set_value_at(&mut self, i: usize, value: &[u8]) {
        if i < self.hdrs.len() {
            let v = self.push(value);
            self.hdrs[i].1 = v;
        }
    }

    /// Removes the field at position `i`; no effect when `i` is out of range.
    pub fn remove_at(&mut self, i: usize) {
        if i < self.hdrs.len() {
            self.hdrs.remove(i);
        }
    }

    /// Reserves room for `n` more fields (parsers know the count in advance).
    pub fn reserve_headers(&mut self, n: usize) {
        self.hdrs.reserve(n);
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn del_header(&mut self, name: &[u8]) -> usize {
        let before = self.hdrs.len();
        let buf = &self.buf;
        self.hdrs.retain(|&(n, _)| {
            !buf[n.off as usize..(n.off + n.len) as usize].eq_ignore_ascii_case(name)
        });
        before - self.hdrs.len()
    }

    /// Replaces every field named `name` by one field with `value`, placed last (HAProxy's
    /// `set-header`: delete then add).
    pub fn set_header(&mut self, name: &[u8], value: &[u8]) {
        self.del_header(name);
        self.add_header(name, value);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl fmt::Debug for HttpHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_req {
            write!(
                f,
                "{} {} {}",
                String::from_utf8_lossy(self.method()),
                String::from_utf8_lossy(self.uri()),
                self.version.as_str()
            )?;
        } else {
            write!(
                f,
                "{} {} {}",
                self.version.as_str(),
                self.status,
                String::from_utf8_lossy(self.reason())
            )?;
        }
        for (n, v) in self.headers() {
            write!(
                f,
                "\n{}: {}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_buf_point_at_the_values() {
        let mut h = HttpHead::request(b"GET", b"/", Version::Http11, 64);
        h.add_header(b"Host", b"a.example");
        h.add_header(b"X-Y", b"");
        h.set_uri(b"/longer/path");
        let (raw, fields) = h.fields_in_buf();
        let got: Vec<(&[u8], &[u8])> = fields.map(|(n, r)| (n, &raw[r])).collect();
        let want: Vec<(&[u8], &[u8])> = h.headers().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn headers_are_lowercased_and_ordered() {
        let mut h = HttpHead::request(b"GET", b"/a?b=1", Version::Http11, 64);
        h.add_header(b"Host", b"x");
        h.add_header(b"X-A", b"1");
        h.add_header(b"x-a", b"2");
        assert_eq!(h.path(), b"/a");
        assert_eq!(h.values(b"X-a").collect::<Vec<_>>(), vec![&b"1"[..], b"2"]);
        h.set_header(b"host", b"y");
        let names: Vec<_> = h.headers().map(|(n, _)| n.to_vec()).collect();
        assert_eq!(
            names,
            vec![b"x-a".to_vec(), b"x-a".to_vec(), b"host".to_vec()]
        );
        assert_eq!(h.del_header(b"X-A"), 2);
        assert_eq!(h.hdr_count(), 1);
    }

    #[test]
    fn absolute_uri_path() {
        let h = HttpHead::request(b"GET", b"http://h:80/p/q?x", Version::Http11, 0);
        assert_eq!(h.path(), b"/p/q");
        let h = HttpHead::request(b"GET", b"http://h", Version::Http11, 0);
        assert_eq!(h.path(), b"");
        let h = HttpHead::request(b"OPTIONS", b"*", Version::Http11, 0);
        assert_eq!(h.path(), b"*");
    }

    #[test]
    fn version_tokens_and_methods() {
        assert_eq!(Version::Http10.as_str(), "HTTP/1.0");
        assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
        assert_eq!(Version::Http2.as_str(), "HTTP/2.0");
        for (tok, m) in [
            (&b"GET"[..], Meth::Get),
            (b"HEAD", Meth::Head),
            (b"POST", Meth::Post),
            (b"PUT", Meth::Put),
            (b"DELETE", Meth::Delete),
            (b"OPTIONS", Meth::Options),
            (b"TRACE", Meth::Trace),
            (b"CONNECT", Meth::Connect),
            // Methods are case-sensitive: these are "other" methods, as in HAProxy.
            (b"get", Meth::Other),
            (b"Post", Meth::Other),
            (b"PATCH", Meth::Other),
            (b"", Meth::Other),
        ] {
            assert_eq!(
                Meth::from_bytes(tok),
                m,
                "{:?}",
                String::from_utf8_lossy(tok)
            );
            let h = HttpHead::request(tok, b"/", Version::Http11, 0);
            assert_eq!(h.meth(), m);
        }
    }

    /// `wire_len` is exact for each header line (`name: value CRLF`) and counts the start
    /// line's strings plus 16 bytes (separators, version, line end).
    #[test]
    fn wire_len_counts_formatted_fields() {
        let mut h = HttpHead::request(b"GET", b"/abc", Version::Http11, 0);
        assert_eq!(h.wire_len(), 3 + 4 + 16);
        let before = h.wire_len();
        h.add_header(b"Host", b"example");
        assert_eq!(h.wire_len() - before, "host: example\r\n".len());
        let before = h.wire_len();
        h.add_header(b"X", b"");
        assert_eq!(h.wire_len() - before, "x: \r\n".len());
        let r = HttpHead::response(Version::Http11, 200, b"OK", 0);
        assert_eq!(r.wire_len(), 2 + 16);
    }

    #[test]
    fn status_and_field_edits() {
        let mut h = HttpHead::response(Version::Http11, 200, b"OK", 0);
        assert!(!h.is_req);
        h.set_status_text(b"200");
        h.set_status(503, b"Service Unavailable");
        assert_eq!(h.status, 503);
        assert_eq!(h.reason(), b"Service Unavailable");
        assert_eq!(h.status_text(), b"", "the text received is dropped");

        assert_eq!(h.hdr_count(), 0);
        assert!(!h.has(b"x-a"));
        h.add_header(b"X-A", b"1");
        h.add_header(b"X-B", b"2");
        assert_eq!(h.hdr_count(), 2);
        assert!(h.has(b"x-a") && h.has(b"X-B") && !h.has(b"x-c"));

        // Out of range: no effect (and no panic), at the last index included.
        h.set_value_at(2, b"z");
        h.remove_at(2);
        assert_eq!(
            h.headers().collect::<Vec<_>>(),
            vec![(&b"x-a"[..], &b"1"[..]), (b"x-b", b"2")]
        );
        h.set_value_at(1, b"3");
        h.remove_at(0);
        assert_eq!(
            h.headers().collect::<Vec<_>>(),
            vec![(&b"x-b"[..], &b"3"[..])]
        );
    }
}
