//! HTTP/2 peers for the mux tests, as raw frames on a scripted transport: the test writes
//! the client's (front) or the server's (back) frames with the builders of the workspace's
//! test codec (`tests/common/h2wire.rs`, compiled into this module tree as `h2wire`) and
//! reads what the proxy wrote as frames, header blocks decoded with one HPACK decoder per
//! connection. Header blocks we send are literal fields without indexing (no Huffman), which
//! any decoder takes; the `h2` crate's blocks use Huffman and the dynamic table, which the
//! codec's decoder handles.

use super::h2wire::{self as hw, Decoder, Frame};
use super::kit::T;
use crate::mux_h2::{h2_init_back, h2_io_cb, H2Outcome, H2_PREFACE};
use hrs_core::h2::H2c;
use hrs_core::script::{self, ScriptPeer};
use hrs_core::{ConnId, Mux, StrmId};

/// The test's end of an HTTP/2 connection.
pub struct Wire {
    pub peer: ScriptPeer,
    /// Output of the proxy not parsed yet (an incomplete frame).
    buf: Vec<u8>,
    dec: Decoder,
    /// The header block gathered across CONTINUATION frames.
    block: Option<Vec<u8>>,
}

impl Wire {
    pub fn new(peer: ScriptPeer) -> Wire {
        Wire {
            peer,
            buf: Vec::new(),
            dec: Decoder::new(4096),
            block: None,
        }
    }

    /// Queues `bytes` for the proxy to read.
    pub fn send(&self, bytes: &[u8]) {
        self.peer.send(bytes);
    }

    /// Takes the client preface the proxy wrote first (back side); panics without it.
    pub fn expect_preface(&mut self) {
        self.buf.extend(self.peer.take());
        assert!(
            self.buf.starts_with(H2_PREFACE),
            "no preface: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.drain(..H2_PREFACE.len());
    }

    /// The complete frames the proxy wrote since the last call.
    pub fn frames(&mut self) -> Vec<Frame> {
        self.buf.extend(self.peer.take());
        let mut out = Vec::new();
        while self.buf.len() >= 9 {
            let len = usize::from(self.buf[0]) << 16
                | usize::from(self.buf[1]) << 8
                | usize::from(self.buf[2]);
            if self.buf.len() < 9 + len {
                break;
            }
            let stream = u32::from_be_bytes([self.buf[5], self.buf[6], self.buf[7], self.buf[8]])
                & 0x7fff_ffff;
            let mut f = Frame {
                typ: self.buf[3],
                flags: self.buf[4],
                stream,
                payload: self.buf[9..9 + len].to_vec(),
                fields: None,
            };
            self.buf.drain(..9 + len);
            self.gather(&mut f);
            out.push(f);
        }
        out
    }

    fn gather(&mut self, f: &mut Frame) {
        let frag = match f.typ {
            hw::HEADERS => {
                // the h2 crate sends neither padding nor priority
                assert_eq!(f.flags & (hw::PADDED | hw::PRIORITY_FLAG), 0);
                self.block = Some(Vec::new());
                f.payload.clone()
            }
            hw::CONTINUATION => f.payload.clone(),
            _ => return,
        };
        let block = self.block.get_or_insert_with(Vec::new);
        block.extend_from_slice(&frag);
        if f.flags & hw::END_HEADERS != 0 {
            let block = self.block.take().unwrap_or_default();
            let list = self.dec.decode(&block).expect("a valid header block");
            f.fields = Some(Ok(list
                .into_iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(&n).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect()));
        }
    }
}

/// HEADERS with the fields `fields` (literal, not indexed), END_HEADERS plus `flags`.
pub fn headers(stream: u32, flags: u8, fields: &[(&str, &str)]) -> Vec<u8> {
    hw::headers(stream, hw::END_HEADERS | flags, &hw::encode(fields))
}

/// A request HEADERS frame (`:scheme http`) with the fields `extra` after the pseudo-fields.
pub fn request(
    stream: u32,
    end_stream: bool,
    method: &str,
    path: &str,
    authority: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let flags = if end_stream { hw::END_STREAM } else { 0 };
    headers(
        stream,
        flags,
        &hw::request_fields(method, path, authority, extra),
    )
}

/// The frames of `fs` of type `typ`.
pub fn of_type(fs: &[Frame], typ: u8) -> Vec<&Frame> {
    fs.iter().filter(|f| f.typ == typ).collect()
}

/// The decoded fields of a header frame.
pub fn fields(f: &Frame) -> Vec<(String, String)> {
    match &f.fields {
        Some(Ok(l)) => l.clone(),
        _ => panic!("not a complete header block: {f:?}"),
    }
}

/// The DATA payload of stream `id` in `fs`, and whether one of them ended the stream.
pub fn body_of(fs: &[Frame], id: u32) -> (Vec<u8>, bool) {
    let mut b = Vec::new();
    let mut end = false;
    for f in fs.iter().filter(|f| f.typ == hw::DATA && f.stream == id) {
        b.extend_from_slice(f.data());
        end |= f.flags & hw::END_STREAM != 0;
    }
    (b, end)
}

/// The mux state of `cid`.
pub fn h2c(t: &T, cid: ConnId) -> &H2c {
    match &t.w.conns[cid].mux {
        Mux::H2(h) => h,
        m => panic!("not an HTTP/2 connection: {m:?}"),
    }
}

/// Mutable mux state of `cid`.
pub fn h2c_mut(t: &mut T, cid: ConnId) -> &mut H2c {
    match &mut t.w.conns[cid].mux {
        Mux::H2(h) => h,
        m => panic!("not an HTTP/2 connection: {m:?}"),
    }
}

/// Our streams attached to `cid`, in order.
pub fn strms(t: &T, cid: ConnId) -> Vec<StrmId> {
    h2c(t, cid).streams.iter().filter_map(|e| e.strm).collect()
}

/// Plays the poller then runs the HTTP/2 mux of `cid` once.
pub fn io2(t: &mut T, cid: ConnId) -> H2Outcome {
    script::raise_edges(&t.w, &mut t.ev);
    h2_io_cb(&mut t.w, &mut t.ev, cid).expect("no stale handle")
}

/// A client connection upgraded to HTTP/2 by its preface (on an HTTP/1 bind, as `mux_h1`
/// does), with the client's SETTINGS (`settings`) sent and the handshake done; the server's
/// SETTINGS were read (and acknowledged by the client).
pub fn front(t: &mut T, settings: &[(u16, u32)]) -> (ConnId, Wire) {
    let (cid, peer) = t.front();
    let mut wire = Wire::new(peer);
    wire.send(H2_PREFACE);
    wire.send(&hw::settings(settings));
    t.io(cid);
    assert!(matches!(t.w.conns[cid].mux, Mux::H2(_)), "upgraded");
    io2(t, cid);
    let fs = wire.frames();
    assert!(
        fs.iter()
            .any(|f| f.typ == hw::SETTINGS && f.flags & hw::ACK == 0),
        "the server's SETTINGS: {fs:?}"
    );
    wire.send(&hw::settings_ack());
    io2(t, cid);
    wire.frames();
    (cid, wire)
}

/// A stream of ours from an HTTP/1 client request `req` (the front connection's stream).
pub fn h1_stream(t: &mut T, req: &[u8]) -> (ConnId, ScriptPeer, StrmId) {
    let (cid, p) = t.front();
    p.send(req);
    t.io(cid);
    let sid = t.strm(cid);
    (cid, p, sid)
}

/// A new HTTP/2 server connection (`server ... proto h2`, `max-reuse` `max_reuse`), connect
/// pending or not as the test planned; returns it and the server's end.
pub fn back(t: &mut T, max_reuse: i64) -> (ConnId, Wire) {
    let cid = crate::conn_new_back(
        &mut t.w,
        &mut t.ev,
        "10.0.0.1:80".parse().unwrap(),
        0,
        Mux::Pt,
    )
    .unwrap();
    h2_init_back(&mut t.w, &mut t.ev, cid, max_reuse);
    let peer = t.opened.borrow().last().unwrap().clone();
    (cid, Wire::new(peer))
}

/// Attaches stream `sid` to HTTP/2 server connection `cid` as `connect_server` does.
pub fn attach(t: &mut T, cid: ConnId, sid: StrmId) {
    t.w.conns[cid].attach_strm(sid);
    t.w.streams[sid].si[1].conn = Some(cid);
}
