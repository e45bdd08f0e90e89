//! The pass-through mux of `mode tcp` (HAProxy's `mux_pt.c`): bytes go from a connection's
//! input to the stream's channel and from the other channel to the output, unchanged.
//!
//! A read shutdown becomes the channel's end of message (`cf::EOM`); once the consumer
//! drained a finished channel it shuts its write side, so half-closes propagate as in
//! HAProxy's `option tcp` default behaviour.

use crate::sock::{conn_recv, conn_send, conn_shutw};
use hrs_core::{cf, co_fl, ConnId, Ev, Side, StrmId, World};
use hrs_ev::WakeReason;
use hrs_list::Stale;

/// The I/O callback of a pass-through connection. Returns true when the connection has no
/// stream and must be released by the caller.
///
/// # Errors
/// [`Stale`]: `cid`, its stream or the stream's other connection is not live (a lifecycle
/// bug): the caller ends the connection.
pub fn pt_io_cb(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<bool, Stale> {
    let bufsize = w.sh.global.bufsize;
    // `cid` is checked here and never freed by this function: indexed directly below
    let c = w.conns.live_mut(cid)?;
    if c.side == Side::Back && c.has(co_fl::WAIT_L4_CONN) {
        match crate::sock::conn_check_connect(c, ev) {
            None => return Ok(false),
            Some(_) => {
                if let Some(sid) = c.strm {
                    ev.wakeup(w.streams.live(sid)?.task, WakeReason::IO);
                }
            }
        }
    }
    let c = &w.conns[cid];
    let Some(sid) = c.strm else {
        return Ok(true);
    };
    if !c.has(co_fl::CONNECTED) {
        return Ok(false);
    }
    let mut wake = false;
    for _ in 0..8 {
        let mut progress = false;
        let c = &mut w.conns[cid];
        let s = w.streams.live_mut(sid)?;
        let (inp, out) = match c.side {
            Side::Front => (&mut s.req, &mut s.res),
            Side::Back => (&mut s.res, &mut s.req),
        };
        // output first: channel -> obuf -> socket
        if !out.buf.is_empty() && c.out_pending() < bufsize {
            c.obuf.append(&mut out.buf);
            progress = true;
        }
        let before = c.out_pending();
        conn_send(c, ev);
        if c.out_pending() != before {
            progress = true;
            wake = true;
        }
        if out.has(cf::EOM) && out.buf.is_empty() && c.out_empty() && !out.has(cf::DONE) {
            conn_shutw(c);
            out.flags |= cf::DONE;
            progress = true;
            wake = true;
        }
        // input: socket -> channel
        if !inp.has(cf::EOM) && inp.buf.len() < bufsize {
            let n = conn_recv(c, ev, bufsize);
            if n > 0 {
                inp.total += n as u64;
                inp.buf.append(&mut c.ibuf);
                inp.flags |= cf::ACTIVITY;
                progress = true;
                wake = true;
            }
            if c.has(co_fl::SOCK_RD_SH) && c.ibuf.is_empty() {
                inp.flags |= cf::EOM;
                progress = true;
                wake = true;
            }
        }
        if c.has(co_fl::ERROR) {
            inp.flags |= cf::SHUTR | cf::EOM;
            out.flags |= cf::SHUTW;
            wake = true;
            break;
        }
        if !progress {
            break;
        }
    }
    if wake {
        let s = w.streams.live(sid)?;
        ev.wakeup(s.task, WakeReason::IO);
        // the other side may have something to send now
        let other = match w.conns[cid].side {
            Side::Front => s.si[1].conn,
            Side::Back => s.si[0].conn,
        };
        if let Some(o) = other {
            ev.wakeup(w.conns.live(o)?.task, WakeReason::MSG);
        }
    }
    Ok(false)
}

/// Which stream a connection serves, for callers that only hold the connection.
pub fn pt_stream(w: &World, cid: ConnId) -> Option<StrmId> {
    w.conns.get(cid).and_then(|c| c.strm)
}
