//! Sessions (HAProxy's `session.c`): created on accept with the frontend connection, freed
//! with it, together with the server connections the session kept.

use hrs_cfg::model::{BindProto, Mode};
use hrs_core::{co_fl, ConnId, Ev, H1c, Mux, PxId, SessId, Session, StrmPhase, World, Xprt};
use hrs_ev::WakeReason;
use hrs_list::Stale;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::SystemTime;

/// Why an accepted connection was refused.
#[derive(Debug)]
pub enum AcceptError {
    /// Registering the socket failed.
    Io(std::io::Error),
}

/// Creates the frontend connection and the session of an accepted socket on frontend `fe`
/// (`session_accept_fd`). In `mode tcp` the stream is created at once; in `mode http` the
/// mux creates one per request. `proto` is the `bind` line's: `proto h2` starts the HTTP/2
/// mux at once; otherwise HTTP/1 starts, and upgrades itself if the client sends the
/// HTTP/2 preface unless `proto h1` was given.
/// `dst` is the local address when the listener knows it (bound to one address), else
/// `None` and it is read from the transport. `xprt` is the accepted socket
/// ([`Xprt::Raw`]), or a scripted transport in tests.
///
/// # Errors
/// The socket could not be registered; it is closed.
pub fn session_accept(
    w: &mut World,
    ev: &mut Ev,
    xprt: Xprt,
    fe: PxId,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    proto: BindProto,
) -> Result<SessId, AcceptError> {
    w.sh.global.curr_conn.fetch_add(1, Relaxed);
    w.sh.proxies[fe].feconn.fetch_add(1, Relaxed);
    session_accept_counted(w, ev, xprt, fe, src, dst, proto)
}

/// [`session_accept`] for a connection already counted in the process's and the
/// frontend's gauges (`curr_conn`, `feconn`): the listener reserved them when it accepted
/// (`listener_accept`'s `actconn`/`feconn` increments), so that no other thread can take
/// the last slot in between.
///
/// # Errors
/// As [`session_accept`]; the counts are given back.
pub fn session_accept_counted(
    w: &mut World,
    ev: &mut Ev,
    xprt: Xprt,
    fe: PxId,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    proto: BindProto,
) -> Result<SessId, AcceptError> {
    let tcp = w.sh.proxies[fe].cfg.mode == Mode::Tcp;
    let mux = if tcp {
        Mux::Pt
    } else {
        Mux::H1(H1c {
            no_upg: proto == BindProto::H1,
            ..H1c::default()
        })
    };
    let cid = match hrs_conn::conn_new_front(w, ev, xprt, fe, mux, src, dst) {
        Ok(cid) => cid,
        Err(e) => {
            hrs_core::pools::gauge_dec(&w.sh.global.curr_conn);
            hrs_core::pools::gauge_dec(&w.sh.proxies[fe].feconn);
            return Err(AcceptError::Io(e));
        }
    };
    w.sh.threads[usize::from(w.tid)].conns.fetch_add(1, Relaxed);
    let px = &w.sh.proxies[fe];
    px.counters.cum_conn.inc();
    px.counters.cum_sess.inc();
    let dst = w.conns[cid].dst;
    let sess = w.sessions.insert(Session {
        fe,
        conn: cid,
        src,
        dst,
        accept_date: SystemTime::now(),
        accept_tick: ev.now(),
        vars: Default::default(),
        srv_list: Default::default(),
        idle_conns: 0,
        flags: 0,
        req_count: 0,
    });
    w.conns[cid].owner = Some(sess);
    // the client usually sends its request with or right after the handshake: read it in
    // this pass rather than after the next poll (upstream also reads at once); if it is not
    // there yet, one EAGAIN
    if let Some(fd) = w.conns[cid].fd {
        ev.fd_may_recv(fd);
    }
    if tcp {
        if let Some(sid) = hrs_core::stream_new(w, ev, cid) {
            crate::log::sess_log_connect(w, fe, src, dst);
            if crate::stream::tcp_switching(w, sid).is_err() {
                crate::stream::stream_kill_internal(w, ev, sid);
                return Ok(sess);
            }
            let s = &mut w.streams[sid];
            s.phase = StrmPhase::Connect;
            ev.wakeup(s.task, WakeReason::INIT);
        }
    } else if proto == BindProto::H2 {
        hrs_conn::mux_h2::h2_init_front(w, ev, cid);
    } else {
        // arm the http-request timeout for the first request
        let task = w.conns[cid].task;
        ev.wakeup(task, WakeReason::INIT);
    }
    Ok(sess)
}

/// Frees a session and every server connection it kept. The frontend connection is freed
/// by the caller.
///
/// # Errors
/// [`Stale`]: `sess`, or a connection of its list, is not live (a lifecycle bug).
pub fn session_free(w: &mut World, ev: &mut Ev, sess: SessId) -> Result<(), Stale> {
    let se = w.sessions.live(sess)?;
    let owned: Vec<ConnId> = se.srv_list.iter(&w.conns).collect();
    for c in owned {
        w.session_unown_conn(c);
        // a connection still attached belongs to a live stream, which closes it
        if w.conns.live(c)?.used_streams() == 0 {
            hrs_conn::conn_free(w, ev, c)?;
        }
    }
    let se = w.sessions.remove(sess);
    debug_assert!(se.is_some_and(|s| s.srv_list.is_empty()));
    Ok(())
}

/// Releases a connection whose mux is finished: a frontend one takes its session with it; a
/// backend one leaves its session's list. A connection a stream still uses is a lifecycle bug
/// (`bug_on!`, a panic in debug builds): it is left as it is, for its stream to end with.
///
/// # Errors
/// [`Stale`]: `cid` or its session is not live (a lifecycle bug).
pub fn conn_release(w: &mut World, ev: &mut Ev, cid: ConnId) -> Result<(), Stale> {
    let c = w.conns.live(cid)?;
    // a stream still uses it: a lifecycle bug, reported (a panic in debug builds), and the
    // connection stays for the stream to end with
    let attached = c.used_streams() > 0;
    if hrs_list::bug_on!(attached, "conn_release of an attached connection") {
        return Ok(());
    }
    if let (hrs_core::Side::Front, Some(sess)) = (c.side, c.owner) {
        session_free(w, ev, sess)?;
    }
    w.conns.live_mut(cid)?.flags |= co_fl::SOCK_WR_SH;
    hrs_conn::conn_free(w, ev, cid)
}
