//! The socket layer under `hrs-ev`'s readiness contract (raw_sock.c's rules): a short read
//! drains readiness without an `EAGAIN`, an `EAGAIN` clears it, nothing is tried while not
//! ready, EOF and errors set their flags, a short write keeps the rest, connects complete
//! from the poller's report, and a server connection not closed by the server is closed
//! with a reset.

use super::kit::{CFG, T};
use crate::sock::{
    conn_check_connect, conn_free, conn_recv, conn_send, conn_set_linger0, conn_shutw,
};
use hrs_core::script::{self, Connect};
use hrs_core::{co_fl, H1c, Mux, Side, Xprt};
use std::sync::atomic::Ordering::Relaxed;

/// Raises the scripted edges (the poller's part).
fn poll(t: &mut T) {
    script::raise_edges(&t.w, &mut t.ev);
}

#[test]
fn a_short_read_drains_readiness_without_eagain() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"hello");
    poll(&mut t);
    let fd = t.w.conns[cid].fd.unwrap();
    assert!(t.ev.fd_recv_ready(fd));
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 1000), 5);
    assert_eq!(c.ibuf, b"hello");
    assert_eq!(p.reads(), 1, "no second read for an EAGAIN");
    assert!(!t.ev.fd_recv_ready(fd), "readiness dropped");
    assert_eq!(c.bytes_in, 5);
    // nothing is tried while not ready, even with data waiting
    p.send(b"more");
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 1000), 0);
    assert_eq!(p.reads(), 1);
    // a new edge
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 1000), 4);
    assert_eq!(c.ibuf, b"hellomore");
}

#[test]
fn a_full_read_keeps_readiness() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(&[b'x'; 20]);
    poll(&mut t);
    let fd = t.w.conns[cid].fd.unwrap();
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 10), 10, "up to the limit");
    assert!(
        t.ev.fd_recv_ready(fd),
        "the queue may hold more: still ready"
    );
    assert_eq!(p.unread(), 10);
    let c = &mut t.w.conns[cid];
    assert_eq!(
        conn_recv(c, &mut t.ev, 10),
        0,
        "the buffer is full: no read"
    );
    assert_eq!(p.reads(), 1);
}

#[test]
fn eagain_clears_readiness() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    let fd = t.w.conns[cid].fd.unwrap();
    t.ev.fd_may_recv(fd);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 0);
    assert_eq!(p.reads(), 1);
    assert!(!t.ev.fd_recv_ready(fd));
    assert_eq!(t.flags(cid) & (co_fl::SOCK_RD_SH | co_fl::ERROR), 0);
    // a pause in the script is an EAGAIN between two arrivals
    p.send(b"a");
    p.pause();
    p.send(b"b");
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 1, "short read: stops there");
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 0, "the pause: EAGAIN");
    assert!(!t.ev.fd_recv_ready(fd));
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 1);
    assert_eq!(c.ibuf, b"ab");
}

#[test]
fn eof_sets_sock_rd_sh() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.shutw();
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 0);
    assert!(t.has(cid, co_fl::SOCK_RD_SH));
    assert!(!t.has(cid, co_fl::ERROR));
    // no further read once shut
    let c = &mut t.w.conns[cid];
    conn_recv(c, &mut t.ev, 100);
    assert_eq!(p.reads(), 1);
}

#[test]
fn the_last_short_read_after_shut_r_takes_the_end_at_once() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"bye");
    p.shutw();
    poll(&mut t);
    let fd = t.w.conns[cid].fd.unwrap();
    assert!(t.ev.fd_shut_r(fd), "the poller reported the shutdown");
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 3);
    assert!(t.has(cid, co_fl::SOCK_RD_SH), "no read for the 0");
    assert_eq!(p.reads(), 1);
}

#[test]
fn a_read_error_sets_error() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"x");
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 1);
    p.reset();
    poll(&mut t);
    let fd = t.w.conns[cid].fd.unwrap();
    assert!(t.ev.fd_error(fd), "the poller reported it");
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 0);
    assert!(t.has(cid, co_fl::ERROR));
    assert!(t.has(cid, co_fl::SOCK_RD_SH));
    // as upstream's raw_sock_to_buf, data read in the same call as a hang-up ends with a
    // read shutdown, not an error
    let (cid, p) = t.front();
    p.send(b"y");
    p.reset();
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert_eq!(conn_recv(c, &mut t.ev, 100), 1);
    assert!(t.has(cid, co_fl::SOCK_RD_SH) && !t.has(cid, co_fl::ERROR));
}

#[test]
fn a_short_write_keeps_the_rest_then_eagain_clears_readiness() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.set_write_room(Some(5));
    poll(&mut t);
    let fd = t.w.conns[cid].fd.unwrap();
    assert!(t.ev.fd_send_ready(fd));
    let c = &mut t.w.conns[cid];
    c.obuf.extend_from_slice(b"hello world!");
    assert!(!conn_send(c, &mut t.ev), "not all sent");
    assert_eq!(c.opos, 5);
    assert_eq!(c.out_pending(), 7);
    assert_eq!(p.take(), b"hello");
    assert_eq!(p.writes(), 2, "the short write, then the EAGAIN");
    assert!(!t.ev.fd_send_ready(fd));
    // no write while not ready
    let c = &mut t.w.conns[cid];
    assert!(!conn_send(c, &mut t.ev));
    assert_eq!(p.writes(), 2);
    // room again: a new edge
    p.set_write_room(None);
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    assert!(conn_send(c, &mut t.ev));
    assert_eq!(p.take(), b" world!");
    assert!(c.obuf.is_empty() && c.opos == 0, "cleared once sent");
    assert_eq!(c.bytes_out, 12);
}

#[test]
fn a_write_error_sets_error() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.reset();
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    c.obuf.extend_from_slice(b"x");
    assert!(!conn_send(c, &mut t.ev));
    assert!(t.has(cid, co_fl::ERROR));
}

#[test]
fn shutw_once_and_the_peer_sees_it() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    let c = &mut t.w.conns[cid];
    conn_shutw(c);
    conn_shutw(c);
    assert!(t.has(cid, co_fl::SOCK_WR_SH));
    assert!(p.shut_by_proxy());
}

#[test]
fn connect_outcomes_come_from_the_poller() {
    let mut t = T::new(CFG);
    t.plans
        .borrow_mut()
        .extend([Connect::Pending, Connect::Pending, Connect::Refused]);
    let addr = "10.0.0.1:80".parse().unwrap();
    let mk = |t: &mut T| {
        crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap()
    };
    // pending, then accepted
    let a = mk(&mut t);
    assert!(t.has(a, co_fl::WAIT_L4_CONN));
    assert_eq!(t.w.conns[a].dst, Some(addr));
    poll(&mut t);
    let c = &mut t.w.conns[a];
    assert_eq!(conn_check_connect(c, &mut t.ev), None, "no event yet");
    t.opened.borrow()[0].accept();
    poll(&mut t);
    let c = &mut t.w.conns[a];
    assert_eq!(conn_check_connect(c, &mut t.ev), Some(true));
    assert!(t.has(a, co_fl::CONNECTED) && !t.has(a, co_fl::WAIT_L4_CONN));
    // pending, then refused
    let b = mk(&mut t);
    t.opened.borrow()[1].refuse();
    poll(&mut t);
    let c = &mut t.w.conns[b];
    assert_eq!(conn_check_connect(c, &mut t.ev), Some(false));
    assert!(t.has(b, co_fl::ERROR) && !t.has(b, co_fl::CONNECTED));
    assert!(!t.has(b, co_fl::WAIT_L4_CONN), "decided");
    // refused at once
    let d = mk(&mut t);
    poll(&mut t);
    let c = &mut t.w.conns[d];
    assert_eq!(conn_check_connect(c, &mut t.ev), Some(false));
    // a connect that fails at once gives no connection
    script::set_connector(|_| Err(std::io::ErrorKind::AddrNotAvailable.into()));
    let n = t.w.conns.len();
    let tasks = t.ev.nb_tasks();
    assert!(crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::Pt).is_err());
    assert_eq!(
        (t.w.conns.len(), t.ev.nb_tasks()),
        (n, tasks),
        "nothing left allocated"
    );
}

#[test]
fn a_server_connection_not_closed_by_the_server_closes_with_a_reset() {
    let mut t = T::new(CFG);
    let addr = "10.0.0.1:80".parse().unwrap();
    let a = crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap();
    poll(&mut t);
    conn_check_connect(&mut t.w.conns[a], &mut t.ev);
    let pa = t.opened.borrow()[0].clone();
    let fds = t.ev.nb_fds();
    conn_free(&mut t.w, &mut t.ev, a).expect("live");
    assert!(pa.closed() && pa.linger0(), "closed with a reset");
    assert_eq!(t.ev.nb_fds(), fds - 1, "its fd entry is gone");
    // the server closed first: a normal close
    let b = crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap();
    poll(&mut t);
    conn_check_connect(&mut t.w.conns[b], &mut t.ev);
    let pb = t.opened.borrow()[1].clone();
    pb.shutw();
    poll(&mut t);
    conn_recv(&mut t.w.conns[b], &mut t.ev, 100);
    assert!(t.has(b, co_fl::SOCK_RD_SH));
    conn_free(&mut t.w, &mut t.ev, b).expect("live");
    assert!(pb.closed() && !pb.linger0());
    // never connected: nothing to reset
    t.plans.borrow_mut().push(Connect::Pending);
    let d = crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap();
    let pd = t.opened.borrow()[2].clone();
    conn_free(&mut t.w, &mut t.ev, d).expect("live");
    assert!(pd.closed() && !pd.linger0());
}

#[test]
fn freeing_a_client_connection_counts_it_out_without_reset() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    assert_eq!(t.w.conns[cid].side, Side::Front);
    assert_eq!(
        t.w.conns[cid].dst,
        Some("127.0.0.1:8080".parse().unwrap()),
        "read from the transport when the listener does not tell"
    );
    assert_eq!(
        (
            t.w.sh.global.curr_conn.load(Relaxed),
            t.w.sh.proxies[0].feconn.load(Relaxed)
        ),
        (1, 1)
    );
    let task = t.w.conns[cid].task;
    conn_free(&mut t.w, &mut t.ev, cid).expect("live");
    assert_eq!(
        (
            t.w.sh.global.curr_conn.load(Relaxed),
            t.w.sh.proxies[0].feconn.load(Relaxed)
        ),
        (0, 0)
    );
    assert!(p.closed() && !p.linger0());
    assert!(!t.ev.task_exists(task));
    assert!(t.w.conns.get(cid).is_none());
}

#[test]
fn linger0_is_asked_to_the_transport() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    conn_set_linger0(&mut t.w.conns[cid]);
    assert!(p.linger0() && !p.closed());
}

#[test]
fn a_connect_already_decided_is_not_asked_again() {
    let mut t = T::new(CFG);
    t.plans.borrow_mut().push(Connect::Refused);
    let addr = "10.0.0.1:80".parse().unwrap();
    let mk = |t: &mut T| {
        crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap()
    };
    let bad = mk(&mut t);
    let good = mk(&mut t);
    poll(&mut t);
    assert_eq!(
        conn_check_connect(&mut t.w.conns[bad], &mut t.ev),
        Some(false)
    );
    assert_eq!(
        conn_check_connect(&mut t.w.conns[good], &mut t.ev),
        Some(true)
    );
    // later calls give the outcome from the flags
    assert_eq!(
        conn_check_connect(&mut t.w.conns[bad], &mut t.ev),
        Some(false)
    );
    assert_eq!(
        conn_check_connect(&mut t.w.conns[good], &mut t.ev),
        Some(true)
    );
}

#[test]
fn a_server_that_accepts_and_closes_at_once_counts_as_connected() {
    let mut t = T::new(CFG);
    t.plans.borrow_mut().push(Connect::Pending);
    let addr = "10.0.0.1:80".parse().unwrap();
    let a = crate::conn_new_back(&mut t.w, &mut t.ev, addr, 0, Mux::H1(H1c::default())).unwrap();
    let p = t.opened.borrow()[0].clone();
    // accepted, closed, and no room to write: the poller reports a hang-up, not writability
    p.accept();
    p.shutw();
    p.set_write_room(Some(0));
    poll(&mut t);
    let fd = t.w.conns[a].fd.unwrap();
    assert!(t.ev.fd_shut_r(fd) && !t.ev.fd_send_ready(fd) && !t.ev.fd_error(fd));
    assert_eq!(conn_check_connect(&mut t.w.conns[a], &mut t.ev), Some(true));
    assert!(t.has(a, co_fl::CONNECTED) && !t.has(a, co_fl::WAIT_L4_CONN));
}

#[test]
fn a_read_takes_only_the_room_left_under_the_limit() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(&[b'x'; 20]);
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    c.ibuf.extend_from_slice(b"12345");
    assert_eq!(conn_recv(c, &mut t.ev, 10), 5);
    assert_eq!(c.ibuf.len(), 10);
    assert_eq!(p.unread(), 15);
}

#[test]
fn without_a_transport_nothing_moves() {
    let mut t = T::new(CFG);
    let (cid, p) = t.front();
    p.send(b"data");
    poll(&mut t);
    let c = &mut t.w.conns[cid];
    c.xprt = Xprt::None;
    assert_eq!(conn_recv(c, &mut t.ev, 100), 0);
    assert!(conn_send(c, &mut t.ev), "nothing to send: done");
    c.obuf.extend_from_slice(b"x");
    assert!(!conn_send(c, &mut t.ev), "bytes left");
    assert_eq!(c.obuf, b"x");
    assert_eq!(
        conn_check_connect(c, &mut t.ev),
        Some(true),
        "decided before"
    );
}

#[test]
fn conn_wake_wakes_a_live_connection_only() {
    let mut t = T::new(CFG);
    let (cid, _p) = t.front();
    let task = t.w.conns[cid].task;
    // drain the wakeups of the creation
    let mut nop =
        |_: &mut hrs_core::Ev, _: hrs_ev::TaskId, _: hrs_core::Ctx, _: hrs_ev::WakeReason| {};
    while t.ev.is_queued(task) {
        t.ev.run_once(&mut nop).unwrap();
    }
    crate::sock::conn_wake(&t.w, &mut t.ev, cid);
    assert!(t.ev.is_queued(task));
    conn_free(&mut t.w, &mut t.ev, cid).unwrap();
    crate::sock::conn_wake(&t.w, &mut t.ev, cid);
}
