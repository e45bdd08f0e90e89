//! Unit tests of server assignment, slots and queues on worlds built from configuration
//! text: upstream 2.6's `assign_server_and_queue` (a slot taken, or a wait in the server's
//! or the backend's queue), `sess_change_server` (the slot's counters), `pendconn` removal,
//! `process_srv_queue` (who gets a freed slot), the redispatch accounting of
//! `assign_server_and_queue`, and the load-balancing adapter the backend calls.

use crate::backend::{process_srv_queue, srv_release_slot, stream_dequeued, SrvStatus};
use crate::lb::{Algo, Lb, SrvInit};
use crate::testkit::T;
use hrs_core::{co_fl, sf, LbAlgo, Msg, StrmId, Target};
use std::sync::atomic::Ordering::Relaxed;

/// The stream's slot is released (its end, a queue timeout, a redispatch).
fn release(t: &mut T, sid: StrmId) {
    srv_release_slot(&mut t.w, &mut t.ev, sid).unwrap();
}

/// What `stream_choose_redispatch` does before going back to `assign_server`.
fn redispatch(t: &mut T, sid: StrmId) {
    release(t, sid);
    let s = &mut t.w.streams[sid];
    s.flags &= !sf::ASSIGNED;
    s.flags |= sf::REDISP_PENDING;
}

/// The stream's `ASSIGNED`, `CURR_SESS`, `QUEUED` flags, as a string.
fn state(t: &T, sid: StrmId) -> String {
    let f = t.w.streams[sid].flags;
    [(sf::ASSIGNED, "A"), (sf::CURR_SESS, "S"), (sf::QUEUED, "Q")]
        .iter()
        .map(|&(b, n)| if f & b != 0 { n } else { "-" })
        .collect()
}

/// Takes server `name` out of load balancing, as the CLI does for maintenance.
fn down(t: &mut T, name: &str) {
    let srv = t.srv(name);
    let sv = &t.w.sh.servers[srv];
    sv.up.store(false, Relaxed);
    let (px, idx) = (sv.px, sv.lb_idx);
    t.w.sh.proxies[px].lb.lock().algo.set_usable(idx, false);
}

/// Puts server `name` back into load balancing.
fn up(t: &mut T, name: &str) {
    let srv = t.srv(name);
    let sv = &t.w.sh.servers[srv];
    sv.up.store(true, Relaxed);
    let (px, idx) = (sv.px, sv.lb_idx);
    t.w.sh.proxies[px].lb.lock().algo.set_usable(idx, true);
}

#[test]
fn an_assigned_stream_holds_a_slot_of_its_server() {
    let mut t = T::new("balance roundrobin");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    let s1 = t.srv("s1");
    let s = &t.w.streams[a];
    assert_eq!((s.srv, s.target), (Some(s1), Target::Server(s1)));
    assert_eq!(state(&t, a), "AS-");
    let sv = &t.w.sh.servers[s1];
    assert_eq!(
        (
            sv.served.load(Relaxed),
            sv.served_max.load(Relaxed),
            sv.counters.snapshot().cum_sess
        ),
        (1, 1, 1)
    );
    // released once: the slot is free again, and a second release changes nothing
    release(&mut t, a);
    assert_eq!(state(&t, a), "A--");
    assert_eq!(t.w.sh.servers[s1].served.load(Relaxed), 0);
    let b = t.stream();
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    assert_eq!(t.srv_of(b), "s2");
    release(&mut t, a);
    let sv = &t.w.sh.servers[s1];
    assert_eq!(
        (
            sv.served.load(Relaxed),
            sv.served_max.load(Relaxed),
            sv.counters.snapshot().cum_sess
        ),
        (0, 1, 1)
    );
}

#[test]
fn the_balancer_is_told_of_slots_taken_and_released() {
    // leastconn picks the least loaded server: it must see each slot come and go
    let mut t = T::new("balance leastconn");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    let b = t.stream();
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    assert_eq!((t.srv_of(a), t.srv_of(b)), ("s1".into(), "s2".into()));
    release(&mut t, b);
    let c = t.stream();
    assert_eq!(t.assign_sid(c), SrvStatus::Ok);
    assert_eq!(t.srv_of(c), "s2", "s2 is free again, s1 is not");
}

#[test]
fn streams_wait_in_the_backend_while_every_server_is_full() {
    let mut t = T::new("balance roundrobin");
    let (a, b, c, d) = (t.stream(), t.stream(), t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    assert_eq!(t.assign_sid(c), SrvStatus::Queued);
    assert_eq!(t.assign_sid(d), SrvStatus::Queued);
    let s = &t.w.streams[c];
    assert_eq!((s.srv, s.target), (None, Target::None));
    assert_eq!(state(&t, c), "--Q");
    assert_eq!(t.px_queue(t.be), [c, d]);
    // a's end gives its slot to the oldest waiting stream, which is woken
    let s1 = t.srv("s1");
    release(&mut t, a);
    let s = &t.w.streams[c];
    assert_eq!((s.srv, s.target), (Some(s1), Target::Server(s1)));
    assert_eq!(state(&t, c), "AS-");
    assert!(t.ev.is_queued(t.w.streams[c].task));
    assert!(!t.ev.is_queued(t.w.streams[d].task));
    assert_eq!(t.px_queue(t.be), [d]);
    let sv = &t.w.sh.servers[s1];
    assert_eq!(
        (
            sv.served.load(Relaxed),
            sv.served_max.load(Relaxed),
            sv.counters.snapshot().cum_sess
        ),
        (1, 1, 2)
    );
    // a queue timeout takes d out of the queue; no slot changes hands
    release(&mut t, d);
    assert_eq!(state(&t, d), "---");
    assert!(t.px_queue(t.be).is_empty());
    assert_eq!(t.w.sh.servers[s1].served.load(Relaxed), 1);
    assert_eq!(t.w.sh.servers[t.srv("s2")].served.load(Relaxed), 1);
}

#[test]
fn no_usable_server_is_no_server() {
    let mut t = T::new("balance roundrobin");
    down(&mut t, "s1");
    down(&mut t, "s2");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::NoSrv);
    assert_eq!(state(&t, a), "---");
    assert!(t.px_queue(t.be).is_empty());
}

#[test]
fn a_backend_without_server_uses_its_dispatch_address() {
    let mut t = T::backend("dispatch 10.0.0.9:80");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    let s = &t.w.streams[a];
    assert_eq!((s.srv, s.target), (None, Target::Proxy(t.be)));
    assert_eq!(state(&t, a), "A--");
    // without one there is no server
    let mut t = T::backend("");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::NoSrv);
    assert_eq!(t.w.streams[a].target, Target::None);
}

#[test]
fn a_stream_waits_on_its_server_when_it_is_full() {
    // the first backup gets every stream while no active server is usable, full or not
    let mut t = T::backend("server b1 10.0.0.3:80 maxconn 1 backup");
    let b1 = t.srv("b1");
    let (a, b, c) = (t.stream(), t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.assign_sid(b), SrvStatus::Queued);
    assert_eq!(t.assign_sid(c), SrvStatus::Queued);
    let s = &t.w.streams[b];
    assert_eq!((s.srv, s.target), (Some(b1), Target::Server(b1)));
    assert_eq!(state(&t, b), "A-Q");
    assert_eq!(t.srv_queue(b1), [b, c]);
    // b gives up (queue timeout): it leaves the server's queue
    release(&mut t, b);
    assert_eq!(state(&t, b), "A--");
    assert_eq!(t.srv_queue(b1), [c]);
    assert_eq!(t.w.sh.servers[b1].served.load(Relaxed), 1);
    // a's end gives the slot to c
    release(&mut t, a);
    assert_eq!(state(&t, c), "AS-");
    assert!(t.ev.is_queued(t.w.streams[c].task));
    assert!(t.srv_queue(b1).is_empty());
    assert_eq!(t.w.sh.servers[b1].served.load(Relaxed), 1);
}

#[test]
fn a_server_queue_forms_behind_waiting_streams() {
    // while streams wait for a server, a newcomer waits behind them even if a slot is free
    let mut t = T::backend("server b1 10.0.0.3:80 maxconn 2 backup");
    let b1 = t.srv("b1");
    let (a, b) = (t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    let c = t.stream();
    assert_eq!(t.assign_sid(c), SrvStatus::Queued);
    // a slot frees without `process_srv_queue` running yet
    t.w.sh.servers[b1].served.store(1, Relaxed);
    let d = t.stream();
    assert_eq!(t.assign_sid(d), SrvStatus::Queued);
    assert_eq!(t.srv_queue(b1), [c, d]);
    process_srv_queue(&mut t.w, &mut t.ev, b1);
    assert_eq!(state(&t, c), "AS-");
    assert_eq!(state(&t, d), "A-Q");
}

#[test]
fn a_server_out_of_load_balancing_takes_nothing_from_the_backend_queue() {
    let mut t = T::new("balance roundrobin");
    let (a, b, c) = (t.stream(), t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    assert_eq!(t.assign_sid(c), SrvStatus::Queued);
    // s1 goes into maintenance while a uses it: its slot is not for c
    down(&mut t, "s1");
    release(&mut t, a);
    assert_eq!(state(&t, c), "--Q");
    assert_eq!(t.px_queue(t.be), [c]);
    release(&mut t, b);
    assert_eq!(t.srv_of(c), "s2");
    assert_eq!(state(&t, c), "AS-");
}

#[test]
fn a_backup_server_takes_from_the_backend_queue_only_as_the_first_backup_in_use() {
    let text = "balance roundrobin
    server s1 10.0.0.1:80 maxconn 1
    server b1 10.0.0.3:80 maxconn 1 backup
    server b2 10.0.0.4:80 maxconn 1 backup";
    // s1 is down: a goes to the first backup; s1 comes back and takes b; c waits
    let mut t = T::backend(text);
    down(&mut t, "s1");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "b1");
    up(&mut t, "s1");
    let (b, c) = (t.stream(), t.stream());
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    assert_eq!(t.assign_sid(c), SrvStatus::Queued);
    assert_eq!(t.srv_of(b), "s1");
    // b1's slot is not for the backend's queue while an active server is usable
    release(&mut t, a);
    assert_eq!(state(&t, c), "--Q");
    release(&mut t, b);
    assert_eq!(t.srv_of(c), "s1");
    // a backup that is not the first one in use never serves the backend's queue
    let mut t = T::backend(text);
    down(&mut t, "s1");
    let (b1, b2) = (t.srv("b1"), t.srv("b2"));
    let c = t.stream();
    t.px_queue_push(t.be, c);
    t.w.streams[c].flags |= sf::QUEUED;
    process_srv_queue(&mut t.w, &mut t.ev, b2);
    assert_eq!(state(&t, c), "--Q", "b2 is not the first backup");
    process_srv_queue(&mut t.w, &mut t.ev, b1);
    assert_eq!(state(&t, c), "AS-");
    assert_eq!(t.srv_of(c), "b1");
    // the first backup in use is the first usable one
    let mut t = T::backend(text);
    down(&mut t, "s1");
    down(&mut t, "b1");
    let c = t.stream();
    t.px_queue_push(t.be, c);
    t.w.streams[c].flags |= sf::QUEUED;
    let b2 = t.srv("b2");
    process_srv_queue(&mut t.w, &mut t.ev, b2);
    assert_eq!(t.srv_of(c), "b2");
}

#[test]
fn a_server_of_weight_zero_takes_nothing_from_the_backend_queue() {
    // a stream holds a slot of s0 (weight 0: never picked by the balancer)
    let mut t = T::backend(
        "server s0 10.0.0.1:80 maxconn 1 weight 0
    server s1 10.0.0.2:80 maxconn 1",
    );
    let s0 = t.srv("s0");
    let (a, b, c) = (t.stream(), t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s1");
    assert_eq!(t.assign_sid(b), SrvStatus::Queued);
    let s = &mut t.w.streams[c];
    s.srv = Some(s0);
    s.flags |= sf::ASSIGNED | sf::CURR_SESS;
    t.w.sh.servers[s0].served.store(1, Relaxed);
    release(&mut t, c);
    assert_eq!(state(&t, b), "--Q");
}

#[test]
fn a_redispatch_avoids_the_previous_server_and_counts_against_it() {
    let mut t = T::new("balance first");
    let (s1, s2) = (t.srv("s1"), t.srv("s2"));
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s1");
    redispatch(&mut t, a);
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s2", "s1 is avoided though `first` prefers it");
    let s = &t.w.streams[a];
    assert_eq!(s.flags & (sf::REDISP | sf::REDISP_PENDING), sf::REDISP);
    assert_eq!(s.target, Target::Server(s2));
    assert_eq!(state(&t, a), "AS-");
    let (c1, cb) = (
        t.w.sh.servers[s1].counters.snapshot(),
        t.w.sh.proxies[t.be].counters.snapshot(),
    );
    assert_eq!((c1.redispatches, c1.retries), (1, 0));
    assert_eq!((cb.redispatches, cb.retries), (1, 0));
    assert_eq!(t.w.sh.servers[s2].counters.snapshot().redispatches, 0);
}

#[test]
fn a_redispatch_to_the_same_server_counts_a_retry() {
    let mut t = T::new("balance first");
    let s1 = t.srv("s1");
    down(&mut t, "s2");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    redispatch(&mut t, a);
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s1", "the only usable server, avoided or not");
    assert_eq!(t.w.streams[a].flags & (sf::REDISP | sf::REDISP_PENDING), 0);
    let (c1, cb) = (
        t.w.sh.servers[s1].counters.snapshot(),
        t.w.sh.proxies[t.be].counters.snapshot(),
    );
    assert_eq!((c1.redispatches, c1.retries), (0, 1));
    assert_eq!((cb.redispatches, cb.retries), (0, 1));
}

#[test]
fn a_redispatch_that_finds_no_slot_or_no_server_is_still_a_redispatch() {
    // every server full: the stream waits in the backend, counted as redispatched
    let mut t = T::new("balance first");
    let s1 = t.srv("s1");
    let (a, b) = (t.stream(), t.stream());
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.assign_sid(b), SrvStatus::Ok);
    redispatch(&mut t, a);
    let c = t.stream();
    assert_eq!(t.assign_sid(c), SrvStatus::Ok, "c takes a's slot on s1");
    assert_eq!(t.assign_sid(a), SrvStatus::Queued);
    let s = &t.w.streams[a];
    assert_eq!((s.srv, s.target), (None, Target::None));
    assert_ne!(s.flags & sf::REDISP, 0);
    assert_eq!(t.w.sh.servers[s1].counters.snapshot().redispatches, 1);
    assert_eq!(t.w.sh.proxies[t.be].counters.snapshot().redispatches, 1);
    // no usable server left: no server, logged as such (`<NOSRV>`), still a redispatch
    let mut t = T::new("balance first");
    let s1 = t.srv("s1");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    redispatch(&mut t, a);
    down(&mut t, "s1");
    down(&mut t, "s2");
    assert_eq!(t.assign_sid(a), SrvStatus::NoSrv);
    let s = &t.w.streams[a];
    assert_eq!((s.srv, s.target), (None, Target::None));
    assert_ne!(s.flags & sf::REDISP, 0);
    assert_eq!(t.w.sh.servers[s1].counters.snapshot().redispatches, 1);
    assert_eq!(t.w.sh.proxies[t.be].counters.snapshot().redispatches, 1);
}

#[test]
fn a_redispatch_to_the_last_server_is_counted_too() {
    // `prefer-last-server` does not avoid the previous server: the same one is a retry
    let mut t = T::new("balance first\n    option prefer-last-server");
    let s2 = t.srv("s2");
    t.sess_conn("s2");
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s2");
    redispatch(&mut t, a);
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s2");
    assert_eq!(t.w.streams[a].flags & (sf::REDISP | sf::REDISP_PENDING), 0);
    assert_eq!(t.w.sh.servers[s2].counters.snapshot().retries, 1);
    assert_eq!(t.w.sh.proxies[t.be].counters.snapshot().retries, 1);
    // the session's connection is usable only after the first attempt: a redispatch
    let mut t = T::new("balance first\n    option prefer-last-server");
    let s1 = t.srv("s1");
    let c = t.sess_conn("s2");
    t.w.conns[c].flags &= !co_fl::CONNECTED;
    let a = t.stream();
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s1");
    t.w.conns[c].flags |= co_fl::CONNECTED;
    redispatch(&mut t, a);
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s2");
    assert_ne!(t.w.streams[a].flags & sf::REDISP, 0);
    assert_eq!(t.w.sh.servers[s1].counters.snapshot().redispatches, 1);
    assert_eq!(t.w.sh.servers[s1].served.load(Relaxed), 0);
}

#[test]
fn without_a_redispatch_decision_the_previous_server_is_neither_avoided_nor_counted() {
    let mut t = T::new("balance first");
    let s1 = t.srv("s1");
    let a = t.stream();
    t.w.streams[a].srv = Some(s1);
    assert_eq!(t.assign_sid(a), SrvStatus::Ok);
    assert_eq!(t.srv_of(a), "s1");
    assert_eq!(t.w.streams[a].flags & sf::REDISP, 0);
    let c = t.w.sh.servers[s1].counters.snapshot();
    assert_eq!((c.redispatches, c.retries), (0, 0));
}

#[test]
fn the_backend_drives_the_balancer_through_its_trait() {
    let init = SrvInit {
        maxconn: 1,
        ..SrvInit::default()
    };
    let mut lb: Box<dyn LbAlgo> = Box::new(Lb::new(Algo::First, &[init.clone(), init]));
    assert!(lb.has_usable());
    assert_eq!(lb.get_next(None), Some(0));
    assert_eq!(lb.get_next(Some(0)), Some(1));
    lb.conn_taken(0);
    assert_eq!(lb.get_next(None), Some(1), "server 0 is full");
    lb.conn_released(0);
    assert_eq!(lb.get_next(None), Some(0));
    lb.set_queue_len(0, 1);
    assert_eq!(lb.get_next(None), Some(1), "streams wait for server 0");
    lb.set_queue_len(0, 0);
    lb.set_usable(0, false);
    assert_eq!(lb.get_next(None), Some(1));
    lb.set_usable(1, false);
    assert_eq!(lb.get_next(None), None);
    assert!(!lb.has_usable());
}

/// Two threads over one backend whose only server takes one stream at a time.
fn two_threads() -> (T, T) {
    T::two_threads("", "server s1 10.0.0.1:80 maxconn 1")
}

/// The `Dequeued` grants waiting in `t`'s inbox, as `(stream, server)`.
fn grants(t: &T) -> Vec<(StrmId, usize)> {
    t.inbox()
        .into_iter()
        .map(|m| match m {
            Msg::Dequeued { sid, srv } => (sid, srv),
            other => panic!("unexpected message {other:?}"),
        })
        .collect()
}

#[test]
fn a_slot_freed_on_one_thread_goes_to_the_stream_queued_on_another() {
    let (mut t0, mut t1) = two_threads();
    let s1 = t0.srv("s1");
    let a = t0.stream();
    assert_eq!(t0.assign_sid(a), SrvStatus::Ok);
    // the slot is shared: the other thread's stream waits (in the backend's queue: the
    // balancer finds no server with a free slot)
    let b = t1.stream();
    assert_eq!(t1.assign_sid(b), SrvStatus::Queued);
    assert_eq!(t1.px_queue(t1.be), [b]);
    // freed on thread 0: the slot is counted for b at once, b learns it by message
    release(&mut t0, a);
    let sv = &t0.w.sh.servers[s1];
    assert_eq!(sv.served.load(Relaxed), 1, "taken for b");
    assert!(t0.inbox().is_empty());
    assert_eq!(grants(&t1), [(b, s1)]);
    assert_eq!(state(&t1, b), "--Q", "not yet told");
    stream_dequeued(&mut t1.w, &mut t1.ev, b, s1);
    assert_eq!(state(&t1, b), "AS-");
    assert_eq!(t1.w.streams[b].target, Target::Server(s1));
    assert_eq!(t1.px_queue(t1.be), Vec::<StrmId>::new());
    // b ends on its thread: the slot is free, nobody waits
    release(&mut t1, b);
    assert_eq!(t1.w.sh.servers[s1].served.load(Relaxed), 0);
}

#[test]
fn a_grant_to_a_stream_that_stopped_waiting_goes_to_the_next_one() {
    let (mut t0, mut t1) = two_threads();
    let s1 = t0.srv("s1");
    let a = t0.stream();
    assert_eq!(t0.assign_sid(a), SrvStatus::Ok);
    let b = t1.stream();
    assert_eq!(t1.assign_sid(b), SrvStatus::Queued);
    let c = t0.stream();
    assert_eq!(t0.assign_sid(c), SrvStatus::Queued);
    release(&mut t0, a);
    let granted = grants(&t1);
    assert_eq!(granted, [(b, s1)]);
    // b's queue timeout fires before the grant is handled: it leaves a queue it is no
    // longer in, holding nothing
    release(&mut t1, b);
    assert_eq!(state(&t1, b), "---");
    // the grant finds b not waiting: the slot goes back, and on to c (thread 0)
    stream_dequeued(&mut t1.w, &mut t1.ev, b, s1);
    assert_eq!(state(&t1, b), "---");
    assert_eq!(
        grants(&t0),
        [(c, s1)],
        "c is on thread 0: told by message too"
    );
    assert_eq!(t0.w.sh.servers[s1].served.load(Relaxed), 1);
    stream_dequeued(&mut t0.w, &mut t0.ev, c, s1);
    assert_eq!(state(&t0, c), "AS-");
    // a grant to a stream that is gone gives the slot back as well
    release(&mut t0, c);
    assert_eq!(t0.w.sh.servers[s1].served.load(Relaxed), 0);
    let d = t1.stream();
    assert_eq!(t1.assign_sid(d), SrvStatus::Ok);
    let e = t0.stream();
    assert_eq!(t0.assign_sid(e), SrvStatus::Queued);
    release(&mut t1, d);
    assert_eq!(grants(&t0), [(e, s1)]);
    t0.free_stream(e);
    stream_dequeued(&mut t0.w, &mut t0.ev, e, s1);
    assert_eq!(t0.w.sh.servers[s1].served.load(Relaxed), 0);
}

#[test]
fn a_server_out_of_balancing_serves_its_own_queue_but_not_its_backend_s() {
    let mut t = T::backend("server s1 10.0.0.1:80 maxconn 2\n    server s2 10.0.0.2:80");
    let s1 = t.srv("s1");
    // s1 full with b waiting for it; c waits for any server of the backend
    t.fill("s1", 1);
    let b = t.srv_queue(s1)[0];
    let c = t.stream();
    t.w.streams[c].flags |= sf::QUEUED;
    t.px_queue_push(t.be, c);
    // s1 leaves load balancing, then both its slots free up
    down(&mut t, "s1");
    t.w.sh.servers[s1].served.store(0, Relaxed);
    t.w.streams[b].flags |= sf::QUEUED;
    process_srv_queue(&mut t.w, &mut t.ev, s1);
    assert_eq!(state(&t, b), "AS-", "its own queued stream is served");
    assert_eq!(
        t.px_queue(t.be),
        [c],
        "the backend's stays for usable servers"
    );
    assert_eq!(t.w.sh.servers[s1].served.load(Relaxed), 1);
}
