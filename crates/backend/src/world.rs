//! Building the runtime proxies and servers from the configuration (HAProxy's
//! `check_config_validity` + `init_proxies` for the parts we keep): the shared half once
//! ([`build_shared`]: resolved default backends, servers with their load-balancing state,
//! the global runtime settings) and each thread's [`World`] over it
//! ([`build_thread_world`]: compiled rules, empty pools).
//!
//! The worker builds its threads' worlds here, and so do the unit tests of the crates
//! above ([`build_world`]), so that a test runs on the same objects a configuration gives
//! in production.

use hrs_cfg::model::{Balance, Cap, Config};
use hrs_core::lock::{Lock, LockRank};
use hrs_core::{LbAlgo, LbState, PxShared, Shared, SrvShared, Tid, World};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// A configuration part that does not compile (a rule, an ACL, a log-format), with
/// upstream's alert text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Builds the runtime objects of `cfg` for a single-threaded process (the unit tests' world):
/// [`build_shared`] with `nbthread` as configured (1 when unset), then thread 0's [`World`].
///
/// # Errors
/// A rule, ACL or log-format that does not compile, reported like upstream's alert.
pub fn build_world(cfg: &Config, debug: bool) -> Result<World, BuildError> {
    let sh = build_shared(cfg, debug, cfg.global.nbthread.unwrap_or(1) as usize)?;
    build_thread_world(cfg, sh, 0)
}

/// Builds what the `nbthread` threads share: global settings (`debug` is `-d`), every proxy
/// with its resolved `default_backend`, every server of every backend with its
/// load-balancing state, the backend name index, one [`hrs_core::ThreadShared`] per
/// thread. Touches no socket and starts no task. Without a global `maxconn`, the `nofile`
/// limit is raised to its hard value to size the idle-connection thresholds, as upstream
/// sizes itself. Rules are compiled once here to report errors; each thread compiles its
/// own copy ([`build_thread_world`]).
///
/// # Errors
/// A rule, ACL or log-format that does not compile, reported like upstream's alert.
pub fn build_shared(cfg: &Config, debug: bool, nbthread: usize) -> Result<Arc<Shared>, BuildError> {
    let maxconn = cfg.global.maxconn.unwrap_or(0);
    let global = hrs_core::GlobalRt {
        maxconn,
        bufsize: cfg.global.tune_bufsize,
        maxrewrite: cfg.global.maxrewrite(),
        maxhdr: cfg.global.tune_maxhdr,
        tune_h2: hrs_cfg::model::TuneH2 {
            max_frame_size: h2_max_frame_size(
                cfg.global.tune_h2.max_frame_size,
                cfg.global.tune_bufsize,
            ),
            ..cfg.global.tune_h2
        },
        debug,
        hostname: hostname(),
        logs: cfg.global.logs.clone(),
        max_syslog_len: cfg
            .global
            .logs
            .iter()
            .chain(cfg.proxies.iter().flat_map(|p| p.logs.iter()))
            .map(|l| l.maxlen)
            .max()
            .unwrap_or(0),
        pool_low_count: fd_ratio(maxsock(maxconn), cfg.global.tune_pool_low_fd_ratio),
        pool_high_count: fd_ratio(maxsock(maxconn), cfg.global.tune_pool_high_fd_ratio),
        nbthread,
        idle_pool_shared: cfg.global.tune_idle_pool_shared,
        multi_queue: cfg.global.tune_listener_multi_queue,
        ..Default::default()
    };
    let mut sh = Shared::new(global);
    let nbthread = sh.nbthread();
    let by_name: HashMap<&str, usize> = cfg
        .proxies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.cap.contains(Cap::BE))
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for (&name, &i) in &by_name {
        sh.be_index.insert(name.to_string(), i);
    }
    for (i, p) in cfg.proxies.iter().enumerate() {
        hrs_sample::compile_proxy(p).map_err(|e| BuildError(e.to_string()))?;
        let mut servers = Vec::new();
        let mut inits = Vec::new();
        if p.cap.contains(Cap::BE) {
            for sv in &p.servers {
                let id = sh.servers.len();
                servers.push(id);
                inits.push(crate::lb::SrvInit {
                    weight: sv.weight,
                    backup: sv.backup,
                    maxconn: sv.maxconn,
                    disabled: sv.disabled,
                    ..Default::default()
                });
                sh.servers
                    .push(SrvShared::new(sv.clone(), i, inits.len() - 1, nbthread));
            }
        }
        let algo = match p.balance {
            Balance::RoundRobin | Balance::Source => crate::lb::Algo::RoundRobin,
            Balance::StaticRr => crate::lb::Algo::StaticRr,
            Balance::LeastConn => crate::lb::Algo::LeastConn,
            Balance::First => crate::lb::Algo::First,
        };
        let lb = crate::lb::Lb::new(algo, &inits);
        let default_be = p
            .default_backend
            .as_ref()
            .and_then(|(n, _)| by_name.get(n.as_str()).copied());
        let nsrv = servers.len();
        sh.proxies.push(PxShared {
            cfg: p.clone(),
            servers,
            default_be,
            lb: Lock::new(
                LockRank::Lbprm,
                LbState {
                    algo: Box::new(lb) as Box<dyn LbAlgo + Send>,
                    queue: Default::default(),
                    srv_queue: vec![Default::default(); nsrv],
                },
            ),
            nbpend: Default::default(),
            feconn: Default::default(),
            beconn: Default::default(),
            counters: Default::default(),
        });
    }
    Ok(Arc::new(sh))
}

/// Builds thread `tid`'s [`World`] over the shared state `sh`: its own compiled rules of
/// every proxy (pattern caches are per thread) and empty pools.
///
/// # Errors
/// A rule, ACL or log-format that does not compile (already reported by [`build_shared`]
/// for the same configuration, so not expected here).
pub fn build_thread_world(cfg: &Config, sh: Arc<Shared>, tid: Tid) -> Result<World, BuildError> {
    let rules = cfg
        .proxies
        .iter()
        .map(|p| {
            hrs_sample::compile_proxy(p)
                .map(Rc::new)
                .map_err(|e| BuildError(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(World::new(sh, tid, rules))
}

/// The number of file descriptors the process may use (`global.maxsock`): two per
/// connection allowed by `maxconn`, else the `nofile` limit, which is raised to its hard
/// value first as upstream does when it sizes itself.
fn maxsock(maxconn: u32) -> u32 {
    if maxconn > 0 {
        return maxconn.saturating_mul(2);
    }
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return 1024;
    }
    // (a soft limit already at the hard one is set again to the same value)
    let raised = libc::rlimit {
        rlim_cur: rl.rlim_max,
        rlim_max: rl.rlim_max,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        rl.rlim_cur = rl.rlim_max;
    }
    rl.rlim_cur.min(u32::MAX as u64) as u32
}

/// The SETTINGS_MAX_FRAME_SIZE advertised (and so the largest frame received) for
/// `tune.h2.max-frame-size` `configured`: at most `tune.bufsize`, as upstream's
/// `h2c_send_settings` caps it (a frame must fit in a buffer), and never below the
/// protocol's minimum of 16384 (upstream would advertise a smaller `bufsize` as it is,
/// which RFC 9113 forbids). Upstream's default is `bufsize` itself; the configuration model
/// gives 16384 for an absent setting, so a `tune.bufsize` above 16384 alone advertises
/// nothing here (`docs/config-subset.md`).
pub fn h2_max_frame_size(configured: u32, bufsize: usize) -> u32 {
    let bufsize = u32::try_from(bufsize).unwrap_or(u32::MAX);
    configured.min(bufsize).max(16384)
}

/// `ratio` percent of `maxsock`, rounded up (`pool_low_count`/`pool_high_count`).
fn fd_ratio(maxsock: u32, ratio: u32) -> u32 {
    ((maxsock as u64 * ratio as u64).div_ceil(100)) as u32
}

/// The host name (`gethostname`), for `%H` and syslog headers.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{build_world, h2_max_frame_size};
    use crate::testkit::parse;
    use hrs_core::SrvAdmin;

    /// A configuration with `global_lines`, a frontend and backend `be` of `be_lines`.
    fn cfg(global_lines: &str, be_lines: &str) -> hrs_cfg::Config {
        parse(&crate::testkit::config(global_lines, be_lines))
    }

    #[test]
    fn servers_get_their_load_balancing_state_from_their_lines() {
        let c = cfg(
            "",
            "balance roundrobin
    server a 10.0.0.1:80 weight 3
    server b 10.0.0.2:80
    server c 10.0.0.3:80 disabled
    server d 10.0.0.4:80 backup
    server e 10.0.0.5:80 maxconn 1",
        );
        let w = build_world(&c, false).unwrap();
        let be =
            w.sh.proxies
                .iter()
                .position(|p| p.cfg.name == "be")
                .unwrap();
        let fe =
            w.sh.proxies
                .iter()
                .position(|p| p.cfg.name == "fe")
                .unwrap();
        assert_eq!(w.sh.proxies[fe].default_be, Some(be));
        assert_eq!(w.sh.be_index.get("be"), Some(&be));
        assert!(!w.sh.be_index.contains_key("fe"));
        let ids = w.sh.proxies[be].servers.clone();
        assert_eq!(ids.len(), 5);
        for (i, &id) in ids.iter().enumerate() {
            let sv = &w.sh.servers[id];
            assert_eq!((sv.lb_idx, sv.px), (i, be), "{}", sv.cfg.name);
            let disabled = sv.cfg.name == "c";
            assert_eq!(sv.is_up(), !disabled);
            let admin = if disabled {
                SrvAdmin::Maint
            } else {
                SrvAdmin::Ready
            };
            assert_eq!(sv.admin(), admin);
        }
        // e holds a stream: full; the sequence shows a's weight, no c (disabled) and no d
        // (a backup while active servers are usable)
        w.sh.proxies[be].lb.lock().algo.conn_taken(4);
        let mut guard = w.sh.proxies[be].lb.lock();
        let lb = &mut guard.algo;
        let picks: Vec<_> = (0..8).map(|_| lb.get_next(None).unwrap()).collect();
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 6);
        assert_eq!(picks.iter().filter(|&&i| i == 1).count(), 2);
        // the backup takes over once no active server is usable
        for i in [0, 1, 4] {
            lb.set_usable(i, false);
        }
        assert_eq!(lb.get_next(None), Some(3));
    }

    #[test]
    fn the_fd_thresholds_are_ratios_of_maxsock() {
        // maxconn 7: maxsock 14; 20 % is 2.8 -> 3, 50 % is 7, 33 % is 4.62 -> 5
        for (low, high, want) in [(20, 50, (3, 7)), (33, 0, (5, 0)), (100, 1, (14, 1))] {
            let c = cfg(
                &format!("maxconn 7\n    tune.pool-low-fd-ratio {low}\n    tune.pool-high-fd-ratio {high}"),
                "server s1 10.0.0.1:80",
            );
            let w = build_world(&c, false).unwrap();
            assert_eq!(
                (w.sh.global.pool_low_count, w.sh.global.pool_high_count),
                want,
                "{low} {high}"
            );
            assert_eq!(w.sh.global.maxconn, 7);
        }
    }

    #[test]
    fn without_maxconn_the_fd_limit_is_raised_and_sizes_the_thresholds() {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only access the struct we pass.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
            // a lower soft limit, as a shell may leave it (high enough for the other tests)
            let lowered = libc::rlimit {
                rlim_cur: rl.rlim_max.min(1 << 20) / 2,
                rlim_max: rl.rlim_max,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lowered), 0);
        }
        let w = build_world(&cfg("", "server s1 10.0.0.1:80"), false).unwrap();
        let mut now = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut now) };
        assert_eq!(now.rlim_cur, rl.rlim_max, "raised to the hard limit");
        let maxsock = rl.rlim_max.min(u64::from(u32::MAX));
        // upstream's defaults: 20 % and 25 %, rounded up
        assert_eq!(
            (
                u64::from(w.sh.global.pool_low_count),
                u64::from(w.sh.global.pool_high_count)
            ),
            ((maxsock * 20).div_ceil(100), (maxsock * 25).div_ceil(100))
        );
        assert_eq!(w.sh.global.maxconn, 0);
    }

    #[test]
    fn the_global_settings_are_copied() {
        let c = cfg(
            "tune.bufsize 16384\n    tune.h2.max-frame-size 32768",
            "server s1 10.0.0.1:80",
        );
        let w = build_world(&c, true).unwrap();
        assert!(w.sh.global.debug);
        assert_eq!(w.sh.global.bufsize, 16384);
        assert_eq!(
            w.sh.global.tune_h2.max_frame_size, 16384,
            "capped by the buffer"
        );
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(w.sh.global.hostname, name.trim_end());
    }

    #[test]
    fn a_part_that_does_not_compile_fails_with_its_alert() {
        let mut c = cfg("", "server s1 10.0.0.1:80");
        let be = c.proxies.iter().position(|p| p.name == "be").unwrap();
        c.proxies[be].acls.push(hrs_cfg::model::AclSpec {
            name: "bad".into(),
            words: vec!["no_such_fetch".into()],
            loc: hrs_cfg::diag::Loc {
                file: "t.cfg".into(),
                line: 9,
            },
        });
        let Err(e) = build_world(&c, false) else {
            panic!("built")
        };
        assert!(!e.0.is_empty());
        assert_eq!(e.to_string(), e.0);
    }

    #[test]
    fn h2_max_frame_size_is_capped_by_bufsize_within_the_protocol_range() {
        // (tune.h2.max-frame-size, tune.bufsize) -> advertised
        for (configured, bufsize, want) in [
            (16384, 16384, 16384),
            (32768, 16384, 16384), // capped: a frame must fit in a buffer
            (32768, 65536, 32768),
            (1 << 20, 65536, 65536),
            (16384, 8192, 16384), // never below the RFC 9113 minimum (h2 would panic)
        ] {
            assert_eq!(
                h2_max_frame_size(configured, bufsize),
                want,
                "{configured} {bufsize}"
            );
        }
    }
}
