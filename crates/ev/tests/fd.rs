//! Readiness cache against real loopback sockets (127.0.0.1, port 0).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use hrs_ev::{Ev, EvConfig, TaskId, WakeReason};

#[derive(Default)]
struct Rec {
    runs: Vec<(TaskId, WakeReason)>,
}

impl hrs_ev::TaskHandler<u32> for Rec {
    fn process(&mut self, _ev: &mut Ev<u32>, task: TaskId, _ctx: u32, reason: WakeReason) {
        self.runs.push((task, reason));
    }
}

fn pair() -> (TcpStream, mio::net::TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (srv, _) = l.accept().unwrap();
    srv.set_nonblocking(true).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    (client, mio::net::TcpStream::from_std(srv))
}

fn new_ev() -> Ev<u32> {
    Ev::with_config(EvConfig {
        max_poll_wait: Duration::from_millis(20),
        ..EvConfig::default()
    })
    .unwrap()
}

/// Iterates until `task` is run with IO; panics after 2 s.
fn run_until_io(ev: &mut Ev<u32>, rec: &mut Rec, task: TaskId) {
    let start = Instant::now();
    loop {
        let n = rec.runs.len();
        ev.run_once(rec).unwrap();
        if rec.runs[n..]
            .iter()
            .any(|(t, r)| *t == task && r.contains(WakeReason::IO))
        {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(2), "no IO wakeup");
    }
}

fn drain(s: &mut mio::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn recv_ready_follows_edges_after_cant_recv() {
    let (mut client, mut srv) = pair();
    let mut ev = new_ev();
    let task = ev.task_new(1);
    let fd = ev.fd_register(&mut srv, task).unwrap();
    assert_eq!(ev.fd_owner(fd), Some(task));
    assert!(!ev.fd_recv_ready(fd), "starts not ready");
    assert!(!ev.fd_send_ready(fd), "starts not ready");

    let mut rec = Rec::default();
    // the registration reports the room already there as a first (writable) edge
    run_until_io(&mut ev, &mut rec, task);
    assert!(ev.fd_send_ready(fd));
    assert!(!ev.fd_recv_ready(fd));

    client.write_all(b"hello").unwrap();
    run_until_io(&mut ev, &mut rec, task);
    assert!(ev.fd_recv_ready(fd), "readable edge sets the cache");
    assert_eq!(drain(&mut srv), b"hello");
    // the drain ended with EAGAIN: only now may the caller clear the bit
    ev.fd_cant_recv(fd);
    assert!(!ev.fd_recv_ready(fd));

    // no edge, no wakeup, the bit stays clear
    rec.runs.clear();
    for _ in 0..5 {
        ev.run_once(&mut rec).unwrap();
        assert!(!ev.fd_recv_ready(fd));
    }
    assert!(
        rec.runs.is_empty(),
        "woken without an event: {:?}",
        rec.runs
    );

    client.write_all(b"world").unwrap();
    run_until_io(&mut ev, &mut rec, task);
    assert!(ev.fd_recv_ready(fd));
    assert!(!ev.fd_shut_r(fd));
    assert_eq!(drain(&mut srv), b"world");
    ev.fd_cant_recv(fd);

    // peer close: hang-up is sticky and makes recv ready (read returns 0)
    drop(client);
    run_until_io(&mut ev, &mut rec, task);
    assert!(ev.fd_shut_r(fd));
    assert!(ev.fd_recv_ready(fd));
    assert!(!ev.fd_error(fd));
    assert_eq!(drain(&mut srv), b"");

    ev.fd_deregister(fd, &mut srv).unwrap();
    assert!(!ev.fd_recv_ready(fd), "stale fd reads not ready");
    assert_eq!(ev.fd_owner(fd), None);
    assert_eq!(ev.nb_fds(), 0);
}

#[test]
fn send_ready_comes_back_with_room() {
    let (mut client, mut srv) = pair();
    let mut ev = new_ev();
    let task = ev.task_new(1);
    let fd = ev.fd_register(&mut srv, task).unwrap();
    let mut rec = Rec::default();
    run_until_io(&mut ev, &mut rec, task);
    assert!(ev.fd_send_ready(fd));

    // fill the socket until EAGAIN
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0usize;
    loop {
        match srv.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
        assert!(sent < 256 << 20, "socket never filled");
    }
    ev.fd_cant_send(fd);
    assert!(!ev.fd_send_ready(fd));
    rec.runs.clear();
    ev.run_once(&mut rec).unwrap();
    assert!(!ev.fd_send_ready(fd));

    // the peer reads everything: room comes back as a writable edge
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0;
        while got < sent {
            got += client.read(&mut buf).unwrap();
        }
        client
    });
    run_until_io(&mut ev, &mut rec, task);
    let start = Instant::now();
    while !ev.fd_send_ready(fd) {
        assert!(start.elapsed() < Duration::from_secs(2));
        ev.run_once(&mut rec).unwrap();
    }
    let _client = reader.join().unwrap();
    ev.fd_deregister(fd, &mut srv).unwrap();
}

#[test]
fn owner_handover_and_stale_owner() {
    let (mut client, mut srv) = pair();
    let mut ev = new_ev();
    let a = ev.task_new(1);
    let b = ev.task_new(2);
    let fd = ev.fd_register(&mut srv, a).unwrap();
    let mut rec = Rec::default();
    run_until_io(&mut ev, &mut rec, a);
    assert!(ev.fd_set_owner(fd, b));
    client.write_all(b"x").unwrap();
    rec.runs.clear();
    run_until_io(&mut ev, &mut rec, b);
    assert!(rec.runs.iter().all(|(t, _)| *t == b));
    // events for an fd whose owner is gone are dropped; the cache still updates
    drain(&mut srv);
    ev.fd_cant_recv(fd);
    ev.task_free(b);
    client.write_all(b"y").unwrap();
    rec.runs.clear();
    let start = Instant::now();
    while !ev.fd_recv_ready(fd) {
        assert!(start.elapsed() < Duration::from_secs(2));
        ev.run_once(&mut rec).unwrap();
    }
    assert!(rec.runs.is_empty());
    assert!(ev.fd_delete(fd));
    assert!(!ev.fd_delete(fd));
}
