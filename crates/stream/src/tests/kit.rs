//! The test world of `hrs-stream`'s unit tests: a configuration parsed by `hrs-cfg`, the
//! [`World`] built by `hrs_backend::world::build_world` (the worker's own function), an
//! event loop, scripted client and server connections, and the loop run through
//! [`crate::dispatch`] (the worker's dispatch). Nothing here opens a socket.
//!
//! A test reads as a scenario: `let mut k = Kit::new(CFG); let c = k.client();
//! c.send(b"GET / ..."); k.run(); let s = k.srv(0); assert_eq!(req(&s.take()).path, ...);
//! s.send(b"HTTP/1.1 200 OK..."); k.run(); assert_eq!(rsp(&c.take()).status, 200);
//! assert_eq!(k.logs(), [...]);`
//!
//! - Server connections: every connect goes through the connector installed here, which
//!   follows the plan of [`Kit::plan`] (accept, leave pending, refuse, fail at once;
//!   accepted at once by default) and records each connection's test end ([`Kit::srv`]).
//! - The loop: [`Kit::run`] plays the poller ([`hrs_core::script::raise_edges`]) and runs
//!   iterations until nothing is runnable; [`Kit::run_for`] and [`Kit::run_until`] also let
//!   real time pass, for timers (tests configure timeouts of tens of milliseconds).
//! - Logs: the lines `send_log` emits are captured instead of delivered ([`Kit::logs`]).

use hrs_core::script::{self, Connect, ScriptPeer, ScriptSock};
use hrs_core::{Ctx, Ev, World, Xprt};
use hrs_ev::{EvConfig, TaskHandler, TaskId, WakeReason};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What the next connect to a server does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The server accepts at once.
    Accept,
    /// No answer until the test calls `accept`/`refuse` on the peer (never: a timeout).
    Pending,
    /// Refused (`ECONNREFUSED`, reported by the poller).
    Refuse,
    /// `connect()` itself fails (no socket).
    Fail,
}

#[derive(Default)]
struct Book {
    plans: VecDeque<Plan>,
    opened: Vec<(SocketAddr, ScriptPeer)>,
    attempts: Vec<SocketAddr>,
    next_port: u16,
}

/// One captured log line: its target and the bytes as they would leave.
pub type LogLine = (hrs_cfg::model::LogTarget, Vec<u8>);

thread_local! {
    /// Log lines captured instead of delivered (see `log::emit`).
    static LOGS: RefCell<Option<Vec<LogLine>>> = const { RefCell::new(None) };
}

/// Records a log line that `send_log` would deliver to `target` (`bytes` exactly as they
/// would leave: a UDP datagram, or a line written to stdout/stderr). Returns false when no
/// kit captures logs on this thread (the line is then delivered).
pub(crate) fn capture_log(target: &hrs_cfg::model::LogTarget, bytes: &[u8]) -> bool {
    LOGS.with(|l| match l.borrow_mut().as_mut() {
        Some(v) => {
            v.push((target.clone(), bytes.to_vec()));
            true
        }
        None => false,
    })
}

/// The default client address.
pub const CLIENT: &str = "192.0.2.10:40000";

/// The test world.
pub struct Kit {
    pub w: World,
    pub ev: Ev,
    book: Rc<RefCell<Book>>,
    next_client_port: u16,
}

struct Handler<'a> {
    w: &'a mut World,
}

impl TaskHandler<Ctx> for Handler<'_> {
    fn process(&mut self, ev: &mut Ev, _task: TaskId, ctx: Ctx, why: WakeReason) {
        let handled = crate::dispatch(self.w, ev, ctx, why);
        assert!(handled, "a task the worker would own ran: {ctx:?}");
    }
}

/// Parses `text` as a configuration file; panics with the diagnostics when it is invalid.
pub fn parse_cfg(text: &str) -> hrs_cfg::Config {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "hrs-stream-test-{}-{}.cfg",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).expect("write the test configuration");
    let ctx = hrs_cfg::ParseCtx {
        default_nbthread: 1,
        features: "",
        version: "2.6.0",
        acl_kws: &hrs_sample::SampleKeywords,
        compiler: &hrs_sample::SampleCompiler::new(),
    };
    let (cfg, diags) = hrs_cfg::parse_files(std::slice::from_ref(&path), &ctx);
    let _ = std::fs::remove_file(&path);
    assert!(
        !diags.fatal,
        "invalid test configuration: {:?}\n{text}",
        diags.list
    );
    cfg
}

impl Kit {
    /// A world built from configuration `text`, its loop, and the connector.
    pub fn new(text: &str) -> Kit {
        let cfg = parse_cfg(text);
        let w = hrs_backend::world::build_world(&cfg, false).expect("build_world");
        let ev = Ev::with_config(EvConfig {
            max_poll_wait: Duration::from_millis(2),
            ..EvConfig::default()
        })
        .expect("Ev");
        let book = Rc::new(RefCell::new(Book {
            next_port: 30000,
            ..Book::default()
        }));
        let b = Rc::clone(&book);
        script::set_connector(move |addr| {
            let mut b = b.borrow_mut();
            b.attempts.push(addr);
            let plan = b.plans.pop_front().unwrap_or(Plan::Accept);
            let state = match plan {
                Plan::Accept => Connect::Established,
                Plan::Pending => Connect::Pending,
                Plan::Refuse => Connect::Refused,
                Plan::Fail => return Err(io::ErrorKind::AddrNotAvailable.into()),
            };
            b.next_port += 1;
            let local: SocketAddr = format!("10.255.0.1:{}", b.next_port).parse().unwrap();
            let (sock, peer) = ScriptSock::pair(Some(local), Some(addr), state);
            b.opened.push((addr, peer));
            Ok(sock)
        });
        LOGS.with(|l| *l.borrow_mut() = Some(Vec::new()));
        Kit {
            w,
            ev,
            book,
            next_client_port: 40000,
        }
    }

    /// The index of proxy `name`.
    pub fn px(&self, name: &str) -> usize {
        self.w
            .sh
            .proxies
            .iter()
            .position(|p| p.cfg.name == name)
            .unwrap_or_else(|| panic!("no proxy {name}"))
    }

    /// The index of server `name` of backend `be`.
    pub fn srv_id(&self, be: &str, name: &str) -> usize {
        let px = self.px(be);
        self.w.sh.proxies[px]
            .servers
            .iter()
            .copied()
            .find(|&i| self.w.sh.servers[i].cfg.name == name)
            .unwrap_or_else(|| panic!("no server {be}/{name}"))
    }

    /// A new client connection to the first frontend, from a new port of the test client.
    pub fn client(&mut self) -> ScriptPeer {
        let fe = self
            .w
            .sh
            .proxies
            .iter()
            .position(|p| !p.cfg.binds.is_empty())
            .expect("a frontend with a bind line");
        self.next_client_port += 1;
        let src = SocketAddr::new(
            CLIENT.parse::<SocketAddr>().unwrap().ip(),
            self.next_client_port,
        );
        self.client_on(fe, src)
    }

    /// A new client connection from `src` to frontend `fe` (accepted like the worker
    /// does: `session_accept` on the listener's address, with its `proto`).
    pub fn client_on(&mut self, fe: usize, src: SocketAddr) -> ScriptPeer {
        let (dst, proto) = self.w.sh.proxies[fe]
            .cfg
            .binds
            .iter()
            .find_map(|b| match b.addr {
                hrs_cfg::model::ListenAddr::Inet(a) => Some((Some(a), b.proto)),
                _ => None,
            })
            .unwrap_or_default();
        let (sock, peer) = ScriptSock::pair(dst, Some(src), Connect::Established);
        crate::session_accept(
            &mut self.w,
            &mut self.ev,
            Xprt::Script(sock),
            fe,
            Some(src),
            dst,
            proto,
        )
        .expect("session_accept");
        peer
    }

    /// Sets what the next connects do, in order (then: accept).
    pub fn plan(&self, plans: &[Plan]) {
        self.book.borrow_mut().plans.extend(plans.iter().copied());
    }

    /// The test end of the `i`th server connection opened (0 first).
    pub fn srv(&self, i: usize) -> ScriptPeer {
        let b = self.book.borrow();
        match b.opened.get(i) {
            Some((_, p)) => p.clone(),
            None => panic!(
                "server connection {i} was not opened ({} were)",
                b.opened.len()
            ),
        }
    }

    /// The address the `i`th server connection went to.
    pub fn srv_addr(&self, i: usize) -> SocketAddr {
        self.book.borrow().opened[i].0
    }

    /// Server connections opened so far.
    pub fn nb_srv(&self) -> usize {
        self.book.borrow().opened.len()
    }

    /// Connect attempts so far (failed at once included), with their addresses.
    pub fn attempts(&self) -> Vec<SocketAddr> {
        self.book.borrow().attempts.clone()
    }

    /// One loop iteration (after raising the scripted edges).
    fn step(&mut self) {
        script::raise_edges(&self.w, &mut self.ev);
        let mut h = Handler { w: &mut self.w };
        self.ev.run_once(&mut h).expect("run_once");
    }

    /// Runs the loop until nothing is runnable (no timer waited for).
    pub fn run(&mut self) {
        for _ in 0..10_000 {
            script::raise_edges(&self.w, &mut self.ev);
            if self.ev.nb_queued() == 0 {
                return;
            }
            self.step();
        }
        panic!("the loop does not settle");
    }

    /// Runs the loop for `ms` milliseconds of real time (timers fire): the last iteration
    /// starts after the deadline, so every timer due by then has fired.
    pub fn run_for(&mut self, ms: u64) {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            let late = Instant::now() >= end;
            self.step();
            if late {
                break;
            }
        }
        self.run();
    }

    /// Runs the loop until `cond` holds, at most `ms` milliseconds; returns whether it held.
    pub fn run_until(&mut self, ms: u64, mut cond: impl FnMut(&Kit) -> bool) -> bool {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            self.run();
            if cond(self) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            self.step();
        }
    }

    /// The log lines emitted so far, as text, with their target; taken.
    pub fn take_logs_raw(&self) -> Vec<LogLine> {
        LOGS.with(|l| {
            l.borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        })
    }

    /// The messages of the log lines emitted so far (raw format assumed: each line as
    /// emitted, trailing newline removed); taken.
    pub fn logs(&self) -> Vec<String> {
        self.take_logs_raw()
            .into_iter()
            .map(|(_, b)| {
                let s = String::from_utf8_lossy(&b).into_owned();
                s.strip_suffix('\n').map(str::to_string).unwrap_or(s)
            })
            .collect()
    }

    /// The messages of the log lines emitted so far, left in place (see [`Kit::logs`]).
    pub fn logs_peek(&self) -> Vec<String> {
        LOGS.with(|l| {
            l.borrow()
                .as_ref()
                .map(|v| {
                    v.iter()
                        .map(|(_, b)| {
                            String::from_utf8_lossy(b)
                                .trim_end_matches('\n')
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Streams alive.
    pub fn nb_streams(&self) -> usize {
        self.w.streams.len()
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        script::clear_connector();
        LOGS.with(|l| *l.borrow_mut() = None);
    }
}
