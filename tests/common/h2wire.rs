//! A small raw HTTP/2 codec for tests (RFC 9113 framing, RFC 7541 HPACK): builders for every
//! frame a client sends (preface, SETTINGS, PING, WINDOW_UPDATE, HEADERS, CONTINUATION, DATA,
//! RST_STREAM, GOAWAY, PRIORITY), a [`Conn`] that writes them and reads the peer's frames
//! with a deadline, and HPACK: an [`encode`] of literal fields without indexing (no Huffman)
//! and a complete [`Decoder`] (static and dynamic tables, size updates, Huffman strings),
//! since servers encode their response headers with Huffman coding and dynamic indexing.
//!
//! Nothing here validates what it is asked to send: the point is to send invalid frames too.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Frame types (RFC 9113 §6).
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

// Flags.
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

// SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441 §3).
pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;
pub const SETTINGS_MAX_HEADER_LIST_SIZE: u16 = 0x6;
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

// Error codes (RFC 9113 §7).
pub const NO_ERROR: u32 = 0x0;
pub const PROTOCOL_ERROR: u32 = 0x1;
pub const INTERNAL_ERROR: u32 = 0x2;
pub const FLOW_CONTROL_ERROR: u32 = 0x3;
pub const SETTINGS_TIMEOUT: u32 = 0x4;
pub const STREAM_CLOSED: u32 = 0x5;
pub const FRAME_SIZE_ERROR: u32 = 0x6;
pub const REFUSED_STREAM: u32 = 0x7;
pub const CANCEL: u32 = 0x8;
pub const COMPRESSION_ERROR: u32 = 0x9;
pub const CONNECT_ERROR: u32 = 0xa;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;
pub const INADEQUATE_SECURITY: u32 = 0xc;
pub const HTTP_1_1_REQUIRED: u32 = 0xd;

/// The name of a frame type, `TYPE_0xNN` for unknown ones.
pub fn type_name(t: u8) -> String {
    let n = match t {
        DATA => "DATA",
        HEADERS => "HEADERS",
        PRIORITY => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        PING => "PING",
        GOAWAY => "GOAWAY",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => return format!("TYPE_{t:#04x}"),
    };
    n.to_string()
}

/// The name of an error code, `ERR_0xN` for unknown ones.
pub fn error_name(code: u32) -> String {
    let n = match code {
        NO_ERROR => "NO_ERROR",
        PROTOCOL_ERROR => "PROTOCOL_ERROR",
        INTERNAL_ERROR => "INTERNAL_ERROR",
        FLOW_CONTROL_ERROR => "FLOW_CONTROL_ERROR",
        SETTINGS_TIMEOUT => "SETTINGS_TIMEOUT",
        STREAM_CLOSED => "STREAM_CLOSED",
        FRAME_SIZE_ERROR => "FRAME_SIZE_ERROR",
        REFUSED_STREAM => "REFUSED_STREAM",
        CANCEL => "CANCEL",
        COMPRESSION_ERROR => "COMPRESSION_ERROR",
        CONNECT_ERROR => "CONNECT_ERROR",
        ENHANCE_YOUR_CALM => "ENHANCE_YOUR_CALM",
        INADEQUATE_SECURITY => "INADEQUATE_SECURITY",
        HTTP_1_1_REQUIRED => "HTTP_1_1_REQUIRED",
        _ => return format!("ERR_{code:#x}"),
    };
    n.to_string()
}

/// The name of a SETTINGS identifier, `SETTING_0xN` for unknown ones.
pub fn setting_name(id: u16) -> String {
    let n = match id {
        SETTINGS_HEADER_TABLE_SIZE => "HEADER_TABLE_SIZE",
        SETTINGS_ENABLE_PUSH => "ENABLE_PUSH",
        SETTINGS_MAX_CONCURRENT_STREAMS => "MAX_CONCURRENT_STREAMS",
        SETTINGS_INITIAL_WINDOW_SIZE => "INITIAL_WINDOW_SIZE",
        SETTINGS_MAX_FRAME_SIZE => "MAX_FRAME_SIZE",
        SETTINGS_MAX_HEADER_LIST_SIZE => "MAX_HEADER_LIST_SIZE",
        SETTINGS_ENABLE_CONNECT_PROTOCOL => "ENABLE_CONNECT_PROTOCOL",
        _ => return format!("SETTING_{id:#x}"),
    };
    n.to_string()
}

// ---------------------------------------------------------------------------------------
// Frames.

/// One frame as read from the wire. For a HEADERS (or CONTINUATION) frame that ends a header
/// block, [`Frame::fields`] holds the decoded header list of the whole block.
#[derive(Clone, Debug)]
pub struct Frame {
    pub typ: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
    /// The decoded header block, on the frame carrying END_HEADERS; `Err` when it does not
    /// decode.
    pub fields: Option<Result<Vec<(String, String)>, String>>,
}

impl Frame {
    /// SETTINGS parameters in the order sent.
    pub fn settings(&self) -> Vec<(u16, u32)> {
        self.payload
            .chunks_exact(6)
            .map(|c| (be16(&c[..2]), be32(&c[2..6])))
            .collect()
    }

    /// The error code of an RST_STREAM or GOAWAY frame.
    pub fn error_code(&self) -> Option<u32> {
        match self.typ {
            RST_STREAM if self.payload.len() >= 4 => Some(be32(&self.payload[..4])),
            GOAWAY if self.payload.len() >= 8 => Some(be32(&self.payload[4..8])),
            _ => None,
        }
    }

    /// The last-stream-id of a GOAWAY frame.
    pub fn goaway_last_stream(&self) -> Option<u32> {
        (self.typ == GOAWAY && self.payload.len() >= 8)
            .then(|| be32(&self.payload[..4]) & 0x7fff_ffff)
    }

    /// The additional debug data of a GOAWAY frame.
    pub fn goaway_debug(&self) -> &[u8] {
        if self.typ == GOAWAY && self.payload.len() > 8 {
            &self.payload[8..]
        } else {
            &[]
        }
    }

    /// The increment of a WINDOW_UPDATE frame.
    pub fn window_increment(&self) -> Option<u32> {
        (self.typ == WINDOW_UPDATE && self.payload.len() >= 4)
            .then(|| be32(&self.payload[..4]) & 0x7fff_ffff)
    }

    /// The payload of a DATA frame without its padding.
    pub fn data(&self) -> &[u8] {
        if self.typ != DATA {
            return &[];
        }
        strip_padding(self.flags, &self.payload).unwrap_or(&[])
    }

    /// Looks up a decoded header field (first occurrence).
    pub fn field(&self, name: &str) -> Option<&str> {
        match &self.fields {
            Some(Ok(f)) => f.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn strip_padding(flags: u8, p: &[u8]) -> Option<&[u8]> {
    if flags & PADDED == 0 {
        return Some(p);
    }
    let pad = *p.first()? as usize;
    if pad + 1 > p.len() {
        return None;
    }
    Some(&p[1..p.len() - pad])
}

/// Any frame: the 9-byte header then `payload`.
pub fn frame(typ: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    frame_with_len(payload.len() as u32, typ, flags, stream, payload)
}

/// A frame whose header announces `len` whatever the payload (to send lying lengths).
pub fn frame_with_len(len: u32, typ: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(typ);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A SETTINGS frame with these parameters.
pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in params {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &p)
}

/// A SETTINGS acknowledgement.
pub fn settings_ack() -> Vec<u8> {
    frame(SETTINGS, ACK, 0, &[])
}

/// A PING (or its ACK).
pub fn ping(ack: bool, payload: [u8; 8]) -> Vec<u8> {
    frame(PING, if ack { ACK } else { 0 }, 0, &payload)
}

/// A WINDOW_UPDATE.
pub fn window_update(stream: u32, increment: u32) -> Vec<u8> {
    frame(WINDOW_UPDATE, 0, stream, &increment.to_be_bytes())
}

/// A HEADERS frame carrying `block` (see [`encode`]).
pub fn headers(stream: u32, flags: u8, block: &[u8]) -> Vec<u8> {
    frame(HEADERS, flags, stream, block)
}

/// A CONTINUATION frame.
pub fn continuation(stream: u32, flags: u8, block: &[u8]) -> Vec<u8> {
    frame(CONTINUATION, flags, stream, block)
}

/// A DATA frame.
pub fn data(stream: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    frame(DATA, flags, stream, payload)
}

/// An RST_STREAM.
pub fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(RST_STREAM, 0, stream, &code.to_be_bytes())
}

/// A GOAWAY.
pub fn goaway(last_stream: u32, code: u32, debug: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&last_stream.to_be_bytes());
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(debug);
    frame(GOAWAY, 0, 0, &p)
}

/// A PRIORITY frame (`weight` is the wire value, 0..=255).
pub fn priority(stream: u32, dependency: u32, exclusive: bool, weight: u8) -> Vec<u8> {
    let dep = dependency | if exclusive { 0x8000_0000 } else { 0 };
    let mut p = dep.to_be_bytes().to_vec();
    p.push(weight);
    frame(PRIORITY, 0, stream, &p)
}

/// A header list for a request: pseudo-header fields then the others, in this order.
pub fn request_fields<'a>(
    method: &'a str,
    path: &'a str,
    authority: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        (":method", method),
        (":scheme", "http"),
        (":path", path),
        (":authority", authority),
    ];
    f.extend_from_slice(extra);
    f
}

// ---------------------------------------------------------------------------------------
// A client connection.

/// What [`Conn::recv`] got.
#[derive(Debug)]
pub enum Recv {
    Frame(Frame),
    /// The peer closed (EOF); `partial` bytes of an incomplete frame were pending.
    Closed {
        partial: usize,
    },
    /// The connection was reset (after every complete frame read before it).
    Reset,
    /// Nothing complete before the deadline.
    Timeout,
}

/// A client connection: writes raw bytes, reads frames, and decodes header blocks with one
/// HPACK [`Decoder`] for the whole connection (as the dynamic table requires).
pub struct Conn {
    pub sock: TcpStream,
    buf: Vec<u8>,
    pub decoder: Decoder,
    /// The header block being gathered across CONTINUATION frames.
    block: Option<Vec<u8>>,
    /// Set once EOF or a reset was seen.
    pub eof: bool,
    /// Set once a read failed (a reset).
    pub reset: bool,
}

impl Conn {
    /// Connects (with a 2 s timeout).
    pub fn connect(addr: SocketAddr) -> Conn {
        let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        sock.set_nodelay(true).unwrap();
        Conn {
            sock,
            buf: Vec::new(),
            decoder: Decoder::new(4096),
            block: None,
            eof: false,
            reset: false,
        }
    }

    /// Writes all of `bytes`; false if the peer is gone (or the write stalled for 5 s).
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        let _ = self.sock.set_write_timeout(Some(Duration::from_secs(5)));
        self.sock.write_all(bytes).is_ok()
    }

    /// Bytes read but not yet consumed as frames.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Puts bytes back in front of the unread input (after a raw peek).
    pub fn unread(&mut self, bytes: &[u8]) {
        self.buf.splice(0..0, bytes.iter().copied());
    }

    /// Reads raw bytes until EOF or the deadline (for a peer that does not speak HTTP/2).
    pub fn read_raw_until(&mut self, deadline: Instant) -> Vec<u8> {
        while !self.eof && self.fill(deadline) {}
        std::mem::take(&mut self.buf)
    }

    /// Reads more bytes into the buffer; false on timeout, EOF or error.
    fn fill(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let wait = (deadline - now).max(Duration::from_millis(1));
        let _ = self.sock.set_read_timeout(Some(wait));
        let mut chunk = [0u8; 65536];
        match self.sock.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(e) if e.kind() == ErrorKind::Interrupted => true,
            Err(_) => {
                self.eof = true;
                self.reset = true;
                false
            }
        }
    }

    /// The next frame, or what ended the wait.
    pub fn recv(&mut self, deadline: Instant) -> Recv {
        loop {
            if self.buf.len() >= 9 {
                let len = (self.buf[0] as usize) << 16
                    | (self.buf[1] as usize) << 8
                    | self.buf[2] as usize;
                if self.buf.len() >= 9 + len {
                    let mut f = Frame {
                        typ: self.buf[3],
                        flags: self.buf[4],
                        stream: be32(&self.buf[5..9]) & 0x7fff_ffff,
                        payload: self.buf[9..9 + len].to_vec(),
                        fields: None,
                    };
                    self.buf.drain(..9 + len);
                    self.gather_headers(&mut f);
                    return Recv::Frame(f);
                }
            }
            if self.eof {
                let partial = self.buf.len();
                return if self.reset {
                    Recv::Reset
                } else {
                    Recv::Closed { partial }
                };
            }
            if !self.fill(deadline) && !self.eof {
                return Recv::Timeout;
            }
        }
    }

    fn gather_headers(&mut self, f: &mut Frame) {
        let fragment = match f.typ {
            HEADERS => {
                let Some(mut p) = strip_padding(f.flags, &f.payload) else {
                    f.fields = Some(Err("bad padding".into()));
                    return;
                };
                if f.flags & PRIORITY_FLAG != 0 {
                    p = p.get(5..).unwrap_or(&[]);
                }
                self.block = Some(Vec::new());
                p.to_vec()
            }
            CONTINUATION if self.block.is_some() => f.payload.clone(),
            _ => return,
        };
        let block = self.block.as_mut().unwrap();
        block.extend_from_slice(&fragment);
        if f.flags & END_HEADERS != 0 {
            let block = self.block.take().unwrap();
            f.fields = Some(self.decoder.decode(&block).map(|list| {
                list.into_iter()
                    .map(|(n, v)| {
                        (
                            String::from_utf8_lossy(&n).into_owned(),
                            String::from_utf8_lossy(&v).into_owned(),
                        )
                    })
                    .collect()
            }));
        }
    }
}

// ---------------------------------------------------------------------------------------
// HPACK (RFC 7541).

/// Encodes an HPACK integer with an `n`-bit prefix; `first` holds the bits above the prefix.
pub fn encode_int(out: &mut Vec<u8>, first: u8, n: u32, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

/// Encodes a string literal without Huffman coding.
pub fn encode_str(out: &mut Vec<u8>, s: &[u8]) {
    encode_int(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

/// Encodes a header list as literal fields without indexing and with literal names (§6.2.2),
/// bytes as given (no lowercasing, no checks).
pub fn encode(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        encode_literal(&mut out, n.as_bytes(), v.as_bytes());
    }
    out
}

/// Appends one literal field without indexing, with a literal name.
pub fn encode_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    encode_str(out, name);
    encode_str(out, value);
}

/// The static table (RFC 7541 Appendix A), index 1 first.
pub const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// A decoded header list: (name, value) pairs as bytes, in order.
pub type FieldList = Vec<(Vec<u8>, Vec<u8>)>;

/// An HPACK decoder: the dynamic table of one direction of one connection.
pub struct Decoder {
    /// Newest first.
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// Sum of the entries' sizes (name + value + 32).
    size: usize,
    /// The current maximum size, as last set by a size update.
    max_size: usize,
    /// The limit a size update may not exceed (our SETTINGS_HEADER_TABLE_SIZE).
    limit: usize,
}

impl Decoder {
    /// A decoder whose table may grow to `limit` bytes.
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max_size: limit,
            limit,
        }
    }

    /// The dynamic table's current size in bytes.
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// The dynamic table, newest entry first.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.table
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    fn evict(&mut self) {
        while self.size > self.max_size {
            let (n, v) = self.table.pop_back().expect("size accounting");
            self.size -= n.len() + v.len() + 32;
        }
    }

    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let sz = name.len() + value.len() + 32;
        self.size += sz;
        self.table.push_front((name, value));
        // An entry larger than the table empties it (§4.4).
        self.evict();
    }

    fn lookup(&self, index: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
        if index == 0 {
            return Err("index 0".into());
        }
        if index <= STATIC_TABLE.len() {
            let (n, v) = STATIC_TABLE[index - 1];
            return Ok((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
        }
        self.table
            .get(index - STATIC_TABLE.len() - 1)
            .cloned()
            .ok_or_else(|| format!("index {index} beyond the dynamic table"))
    }

    /// Decodes one complete header block.
    pub fn decode(&mut self, block: &[u8]) -> Result<FieldList, String> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut fields_seen = false;
        while pos < block.len() {
            let b = block[pos];
            if b & 0x80 != 0 {
                let idx = decode_int(block, &mut pos, 7)?;
                out.push(self.lookup(idx)?);
                fields_seen = true;
            } else if b & 0xc0 == 0x40 {
                let (n, v) = self.literal(block, &mut pos, 6)?;
                self.insert(n.clone(), v.clone());
                out.push((n, v));
                fields_seen = true;
            } else if b & 0xe0 == 0x20 {
                if fields_seen {
                    return Err("dynamic table size update after a field".into());
                }
                let sz = decode_int(block, &mut pos, 5)?;
                if sz > self.limit {
                    return Err(format!("table size update {sz} > {}", self.limit));
                }
                self.max_size = sz;
                self.evict();
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed.
                out.push(self.literal(block, &mut pos, 4)?);
                fields_seen = true;
            }
        }
        Ok(out)
    }

    fn literal(
        &self,
        block: &[u8],
        pos: &mut usize,
        prefix: u32,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        let idx = decode_int(block, pos, prefix)?;
        let name = if idx == 0 {
            decode_str(block, pos)?
        } else {
            self.lookup(idx)?.0
        };
        let value = decode_str(block, pos)?;
        Ok((name, value))
    }
}

/// Decodes an integer with an `n`-bit prefix at `*pos`.
pub fn decode_int(b: &[u8], pos: &mut usize, n: u32) -> Result<usize, String> {
    let max = (1usize << n) - 1;
    let first = *b.get(*pos).ok_or("truncated integer")? as usize & max;
    *pos += 1;
    if first < max {
        return Ok(first);
    }
    let mut v = max;
    let mut shift = 0u32;
    loop {
        let c = *b.get(*pos).ok_or("truncated integer")?;
        *pos += 1;
        if shift > 28 {
            return Err("integer overflow".into());
        }
        v += ((c & 0x7f) as usize) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// Decodes a string literal (raw or Huffman) at `*pos`.
pub fn decode_str(b: &[u8], pos: &mut usize) -> Result<Vec<u8>, String> {
    let huff = *b.get(*pos).ok_or("truncated string")? & 0x80 != 0;
    let len = decode_int(b, pos, 7)?;
    let s = b
        .get(*pos..*pos + len)
        .ok_or_else(|| format!("string of {len} bytes truncated"))?;
    *pos += len;
    if huff {
        huffman_decode(s)
    } else {
        Ok(s.to_vec())
    }
}

/// The Huffman code lengths of symbols 0..=256 (256 is EOS), RFC 7541 Appendix B. The code
/// is canonical: codes of one length are consecutive in symbol order, and each length's
/// first code follows the last code of the shorter lengths, shifted ([`huffman_codes`]).
pub const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..16
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..32
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // ' '..'/'
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // '0'..'?'
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // '@'..'O'
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 'P'..'_'
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // '`'..'o'
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 'p'..127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..144
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..160
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..176
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..192
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..208
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..224
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..240
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..256
    30, // EOS
];

/// The canonical codes of [`HUFFMAN_LENGTHS`]: `(code, length)` per symbol.
pub fn huffman_codes() -> &'static [(u32, u8); 257] {
    static CODES: OnceLock<[(u32, u8); 257]> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut order: Vec<usize> = (0..257).collect();
        order.sort_by_key(|&s| (HUFFMAN_LENGTHS[s], s));
        let mut codes = [(0u32, 0u8); 257];
        let mut code: u32 = 0;
        let mut prev_len = HUFFMAN_LENGTHS[order[0]];
        for (i, &s) in order.iter().enumerate() {
            let len = HUFFMAN_LENGTHS[s];
            if i > 0 {
                code = (code + 1) << (len - prev_len);
            }
            prev_len = len;
            codes[s] = (code, len);
        }
        codes
    })
}

/// The decoding tree: nodes of `[child0, child1]`, a child being `-(sym + 1)` for a leaf,
/// the node index for an inner node, 0 for none (the root is never a child).
fn huffman_tree() -> &'static Vec<[i32; 2]> {
    static TREE: OnceLock<Vec<[i32; 2]>> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut nodes = vec![[0i32; 2]];
        for (sym, &(code, len)) in huffman_codes().iter().enumerate() {
            let mut node = 0usize;
            for i in (0..len).rev() {
                let bit = ((code >> i) & 1) as usize;
                if i == 0 {
                    assert_eq!(nodes[node][bit], 0, "Huffman code is not prefix-free");
                    nodes[node][bit] = -(sym as i32 + 1);
                } else {
                    let next = nodes[node][bit];
                    assert!(next >= 0, "Huffman code is not prefix-free");
                    if next == 0 {
                        nodes.push([0, 0]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = n as i32;
                        node = n;
                    } else {
                        node = next as usize;
                    }
                }
            }
        }
        nodes
    })
}

/// Decodes a Huffman-coded string (§5.2): padding must be at most 7 bits, all ones, and EOS
/// must not appear.
pub fn huffman_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let tree = huffman_tree();
    let mut out = Vec::with_capacity(s.len() * 8 / 5);
    let mut node = 0usize;
    let mut depth = 0u32;
    let mut all_ones = true;
    for &byte in s {
        for i in (0..8).rev() {
            let bit = ((byte >> i) & 1) as usize;
            all_ones &= bit == 1;
            depth += 1;
            let next = tree[node][bit];
            if next < 0 {
                let sym = (-next - 1) as usize;
                if sym == 256 {
                    return Err("EOS in a Huffman string".into());
                }
                out.push(sym as u8);
                node = 0;
                depth = 0;
                all_ones = true;
            } else if next == 0 {
                return Err("invalid Huffman code".into());
            } else {
                node = next as usize;
            }
        }
    }
    if depth > 7 || !all_ones {
        return Err("invalid Huffman padding".into());
    }
    Ok(out)
}

/// Huffman-encodes `s` (used by the self-tests, and by cases that want compact blocks).
pub fn huffman_encode(s: &[u8]) -> Vec<u8> {
    let codes = huffman_codes();
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &c in s {
        let (code, len) = codes[c as usize];
        acc = (acc << len) | code as u64;
        bits += len as u32;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
    out
}
