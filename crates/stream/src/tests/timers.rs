//! The timers of log lines (`%Tw %Tc %Tr %Td %Ta`) as upstream 2.6 takes them: `%Tw` ends when
//! a server is assigned (at each assignment, when a queued stream gets its slot, or when the
//! queue timeout strikes), `%Tc` at the last establishment of a server connection
//! (`back_establish`: an L7 retry's), `%Tr` at the response head, `%Td` is the data transfer
//! after it. Real time passes in these tests: delays are `D` milliseconds and checked as
//! lower bounds; a time that should be about zero is only compared with such a delay of the
//! same exchange.

use super::http::{get, ok, rsp, status};
use super::kit::{Kit, Plan};

/// The delay the peers take, in milliseconds.
const D: i64 = 80;
/// A delay as the stream's millisecond ticks may see it.
const D_MIN: i64 = D - 2;

fn cfg(be: &str) -> String {
    format!(
        "
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%ST %ts %Tw %Tc %Tr %Td %Ta\"
    default_backend be
backend be
{be}
"
    )
}

/// A log line `status ts Tw Tc Tr Td Ta`.
#[derive(Debug)]
struct Line {
    head: String,
    tw: i64,
    tc: i64,
    tr: i64,
    td: i64,
    ta: i64,
}

fn parse(l: &str) -> Line {
    let f: Vec<&str> = l.split(' ').collect();
    assert_eq!(f.len(), 7, "{l:?}");
    let n = |i: usize| -> i64 { f[i].parse().unwrap_or_else(|_| panic!("{l:?}")) };
    Line {
        head: format!("{} {}", f[0], f[1]),
        tw: n(2),
        tc: n(3),
        tr: n(4),
        td: n(5),
        ta: n(6),
    }
}

fn one_line(k: &Kit) -> Line {
    let l = k.logs();
    assert_eq!(l.len(), 1, "{l:?}");
    parse(&l[0])
}

#[test]
fn queue_connect_and_response_times() {
    let mut k = Kit::new(&cfg(
        "    timeout queue 5s\n    server s1 10.0.0.1:80 maxconn 1",
    ));
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    // the second stream waits for the slot, then for its connect, then for the response
    k.plan(&[Plan::Pending]);
    let c2 = k.client();
    c2.send(&get("/2"));
    k.run();
    k.run_for(D as u64);
    k.srv(0).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c1.take()).status(), 200);
    let l1 = one_line(&k);
    assert_eq!(l1.head, "200 --");
    // the first stream waited for the response
    assert!(l1.tr >= D_MIN, "{l1:?}");
    k.run_for(D as u64);
    let s = k.srv(1);
    s.accept();
    k.run();
    s.take();
    k.run_for(D as u64);
    s.send(&ok("x"));
    k.run();
    assert_eq!(rsp(&c2.take()).status(), 200);
    let l = one_line(&k);
    assert_eq!(l.head, "200 --");
    assert!(l.tw >= D_MIN, "queued: {l:?}");
    assert!(l.tc >= D_MIN, "connecting: {l:?}");
    assert!(l.tr >= D_MIN, "waiting for the response: {l:?}");
    // HTTP: the data phase starts at the response head
    assert!(l.td < l.tr, "{l:?}");
    assert!(l.ta >= l.tw + l.tc + l.tr, "{l:?}");
}

#[test]
fn a_queue_timeout_logs_the_time_queued() {
    let mut k = Kit::new(&cfg(&format!(
        "    timeout queue {D}ms\n    server s1 10.0.0.1:80 maxconn 1"
    )));
    let c1 = k.client();
    c1.send(&get("/1"));
    k.run();
    let c2 = k.client();
    c2.send(&get("/2"));
    assert!(k.run_until(1000, |_| !c2.output().is_empty()));
    assert_eq!(rsp(&c2.take()).status(), 503);
    let l = one_line(&k);
    assert_eq!(l.head, "503 sQ");
    assert!(l.tw >= D_MIN, "{l:?}");
    assert_eq!((l.tc, l.tr, l.td), (-1, -1, -1), "{l:?}");
    // the backend counts a failed connection (every server was full: none is assigned)
    assert_eq!(
        k.w.sh.proxies[k.px("be")].counters.snapshot().failed_conns,
        1
    );
    assert_eq!(
        k.w.sh.servers[k.srv_id("be", "s1")]
            .counters
            .snapshot()
            .failed_conns,
        0
    );
}

#[test]
fn a_turn_around_counts_in_the_connect_time_not_the_queue_time() {
    // a refused connect is retried on the same server after min(timeout connect, 1 s):
    // the server stays assigned, `%Tw` does not move
    let mut k = Kit::new(&cfg(&format!(
        "    retries 1\n    timeout connect {D}ms\n    server s1 10.0.0.1:80"
    )));
    k.plan(&[Plan::Refuse]);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.attempts().len(), 1, "the retry waits for the turn-around");
    assert!(k.run_until(1000, |k| k.nb_srv() == 2));
    k.srv(1).send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    let l = one_line(&k);
    assert_eq!(l.head, "200 --");
    assert!(l.tc >= D_MIN, "{l:?}");
    assert!(l.tw < l.tc, "{l:?}");
}

#[test]
fn an_l7_retry_times_the_last_connection() {
    let mut k = Kit::new(&cfg(
        "    retries 1\n    retry-on 503\n    server s1 10.0.0.1:80",
    ));
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.run_for(D as u64);
    // the retry's connect takes time too
    k.plan(&[Plan::Pending]);
    k.srv(0).send(&status(503));
    k.run();
    k.run_for(D as u64);
    let s = k.srv(1);
    s.accept();
    k.run();
    s.send(&ok(""));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    let l = one_line(&k);
    assert_eq!(l.head, "200 --");
    assert!(l.tc >= 2 * D_MIN, "up to the second connection: {l:?}");
}
