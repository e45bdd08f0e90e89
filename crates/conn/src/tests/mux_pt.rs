//! The pass-through mux of `mode tcp` with scripted bytes: bytes go unchanged between the
//! connections and the stream's channels in both directions, a read shutdown becomes the
//! channel's end and the end propagates as a write shutdown once drained, errors shut both
//! ways, buffers stop at `tune.bufsize`, the connect of the server side is awaited, and the
//! stream and the other side are woken when something moved.

use super::kit::{CFG, T};
use crate::mux_pt::{pt_io_cb, pt_stream};
use hrs_core::script::{self, Connect, ScriptPeer};
use hrs_core::{cf, co_fl, stream_new, ConnId, Mux, StrmId};

/// A client connection with the pass-through mux and its stream.
fn front(t: &mut T) -> (ConnId, ScriptPeer, StrmId) {
    let (cid, p) = t.front();
    t.w.conns[cid].mux = Mux::Pt;
    let sid = stream_new(&mut t.w, &mut t.ev, cid).expect("a session");
    assert_eq!(t.w.conns[cid].strm, Some(sid));
    t.strm_woken(sid);
    (cid, p, sid)
}

/// A server connection for `sid` with the pass-through mux.
fn back(t: &mut T, sid: StrmId) -> (ConnId, ScriptPeer) {
    let cid = crate::conn_new_back(
        &mut t.w,
        &mut t.ev,
        "10.0.0.1:80".parse().unwrap(),
        0,
        Mux::Pt,
    )
    .unwrap();
    t.w.conns[cid].attach_strm(sid);
    t.w.streams[sid].si[1].conn = Some(cid);
    let p = t.opened.borrow().last().unwrap().clone();
    (cid, p)
}

fn io(t: &mut T, cid: ConnId) -> bool {
    script::raise_edges(&t.w, &mut t.ev);
    pt_io_cb(&mut t.w, &mut t.ev, cid).expect("no stale handle")
}

/// Whether connection `cid`'s task is queued (left queued: see [`T::strm_woken`], which
/// runs the queue).
fn conn_woken(t: &T, cid: ConnId) -> bool {
    t.ev.is_queued(t.w.conns[cid].task)
}

#[test]
fn bytes_flow_both_ways_unchanged() {
    let mut t = T::new(CFG);
    let (fc, fp, sid) = front(&mut t);
    let (bc, bp) = back(&mut t, sid);
    assert_eq!(pt_stream(&t.w, fc), Some(sid));
    assert_eq!(pt_stream(&t.w, bc), Some(sid));
    t.strm_woken(sid);
    fp.send(b"\x00hello\r\n");
    assert!(!io(&mut t, fc));
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"\x00hello\r\n");
    assert_eq!(s.req.total, 8);
    assert!(s.req.has(cf::ACTIVITY) && !s.req.has(cf::EOM));
    assert!(conn_woken(&t, bc), "the server side may send now");
    assert!(t.strm_woken(sid));
    // the server side sends it and brings the answer
    assert!(!io(&mut t, bc), "connected at once");
    assert!(t.has(bc, co_fl::CONNECTED));
    assert_eq!(bp.take(), b"\x00hello\r\n");
    assert!(t.w.streams[sid].req.buf.is_empty());
    bp.send(b"world");
    io(&mut t, bc);
    let s = &t.w.streams[sid];
    assert_eq!((s.res.buf.as_slice(), s.res.total), (&b"world"[..], 5));
    assert!(conn_woken(&t, fc), "the client side may send now");
    t.strm_woken(sid);
    io(&mut t, fc);
    assert_eq!(fp.take(), b"world");
    assert!(t.w.streams[sid].res.buf.is_empty());
    assert!(t.strm_woken(sid));
    // nothing new: nobody is woken, from either side
    io(&mut t, fc);
    assert!(!conn_woken(&t, bc));
    assert!(!t.strm_woken(sid));
    io(&mut t, bc);
    assert!(!conn_woken(&t, fc));
    assert!(!t.strm_woken(sid), "a connect decided long ago is not news");
}

#[test]
fn a_half_close_propagates_once_drained() {
    let mut t = T::new(CFG);
    let (fc, fp, sid) = front(&mut t);
    let (bc, bp) = back(&mut t, sid);
    fp.send(b"last");
    fp.shutw();
    io(&mut t, fc);
    let s = &t.w.streams[sid];
    assert_eq!(s.req.buf, b"last");
    assert!(
        s.req.has(cf::EOM),
        "the client's FIN ends the request channel"
    );
    assert!(!s.req.has(cf::SHUTR));
    // no more reads once the channel ended
    let reads = fp.reads();
    fp.send(b"late");
    io(&mut t, fc);
    assert_eq!(fp.reads(), reads);
    // the server side sends the rest, then shuts its writing side
    bp.set_write_room(Some(2));
    io(&mut t, bc);
    assert_eq!(bp.take(), b"la");
    assert!(!bp.shut_by_proxy(), "not before everything left");
    assert!(!t.w.streams[sid].req.has(cf::DONE));
    bp.set_write_room(None);
    io(&mut t, bc);
    assert_eq!(bp.take(), b"st");
    assert!(bp.shut_by_proxy());
    assert!(t.has(bc, co_fl::SOCK_WR_SH));
    assert!(t.w.streams[sid].req.has(cf::DONE));
    assert!(t.strm_woken(sid));
    // the other direction stays open
    bp.send(b"answer");
    io(&mut t, bc);
    assert_eq!(t.w.streams[sid].res.buf, b"answer");
}

#[test]
fn buffers_stop_at_bufsize() {
    let mut t = T::new(CFG);
    let (fc, fp, sid) = front(&mut t);
    let bufsize = t.w.sh.global.bufsize;
    // input: the channel full, nothing more is read
    t.w.streams[sid].req.buf = vec![b'a'; bufsize];
    fp.send(b"more");
    io(&mut t, fc);
    assert_eq!(t.w.streams[sid].req.buf.len(), bufsize);
    assert_eq!(fp.reads(), 0);
    t.w.streams[sid].req.buf.clear();
    io(&mut t, fc);
    assert_eq!(t.w.streams[sid].req.buf, b"more");
    // output: the connection's buffer full, the channel keeps its bytes
    fp.set_write_room(Some(0));
    t.w.conns[fc].obuf = vec![b'b'; bufsize];
    t.w.streams[sid].res.buf.extend_from_slice(b"wait");
    io(&mut t, fc);
    assert_eq!(t.w.streams[sid].res.buf, b"wait");
    assert_eq!(t.w.conns[fc].out_pending(), bufsize);
    fp.set_write_room(None);
    io(&mut t, fc);
    let out = fp.take();
    assert_eq!(out.len(), bufsize + 4);
    assert!(out.ends_with(b"wait"));
}

#[test]
fn an_error_shuts_both_ways() {
    let mut t = T::new(CFG);
    let (fc, fp, sid) = front(&mut t);
    fp.reset();
    io(&mut t, fc);
    let s = &t.w.streams[sid];
    assert!(s.req.has(cf::SHUTR) && s.req.has(cf::EOM));
    assert!(s.res.has(cf::SHUTW));
    assert!(!s.res.has(cf::SHUTR) && !s.req.has(cf::SHUTW));
    assert!(t.strm_woken(sid));
    // on the server side: the response channel is the input
    let (_fc2, _fp2, sid) = front(&mut t);
    let (bc, bp) = back(&mut t, sid);
    io(&mut t, bc);
    bp.reset();
    io(&mut t, bc);
    let s = &t.w.streams[sid];
    assert!(s.res.has(cf::SHUTR) && s.res.has(cf::EOM));
    assert!(s.req.has(cf::SHUTW));
}

#[test]
fn the_server_connect_is_awaited() {
    let mut t = T::new(CFG);
    t.plans
        .borrow_mut()
        .extend([Connect::Pending, Connect::Pending]);
    let (_fc, _fp, sid) = front(&mut t);
    t.w.streams[sid].req.buf.extend_from_slice(b"early");
    let (bc, bp) = back(&mut t, sid);
    assert!(!io(&mut t, bc));
    assert!(!t.strm_woken(sid), "nothing happened");
    assert!(t.has(bc, co_fl::WAIT_L4_CONN));
    bp.accept();
    assert!(!io(&mut t, bc));
    assert!(t.has(bc, co_fl::CONNECTED));
    assert!(t.strm_woken(sid), "the stream learns the connect's outcome");
    assert_eq!(bp.take(), b"early");
    // refused: the stream is told, nothing is sent
    let (_fc, _fp, sid) = front(&mut t);
    t.w.streams[sid].req.buf.extend_from_slice(b"never");
    let (bc, bp) = back(&mut t, sid);
    io(&mut t, bc);
    bp.refuse();
    assert!(!io(&mut t, bc));
    assert!(t.has(bc, co_fl::ERROR) && !t.has(bc, co_fl::CONNECTED));
    assert!(t.strm_woken(sid));
    assert_eq!(t.w.streams[sid].req.buf, b"never");
}

#[test]
fn without_a_stream_the_connection_is_released() {
    let mut t = T::new(CFG);
    let (cid, _p) = t.front();
    t.w.conns[cid].mux = Mux::Pt;
    assert!(io(&mut t, cid));
    assert_eq!(pt_stream(&t.w, cid), None);
    crate::conn_free(&mut t.w, &mut t.ev, cid).unwrap();
    assert_eq!(pt_stream(&t.w, cid), None);
}
