//! Building the runtime proxies and servers of one thread from the configuration
//! (HAProxy's `check_config_validity` + `init_proxies` for the parts we keep): compiled
//! rules, resolved default backends, servers with their load-balancing state, and the
//! global runtime settings.
//!
//! The worker builds its [`World`] here, and so do the unit tests of the crates above, so
//! that a test runs on the same objects a configuration gives in production.

use hrs_cfg::model::{Balance, Cap, Config};
use hrs_core::{LbAlgo, ProxyRt, ServerRt, World};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

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

/// Builds the runtime objects of `cfg` for one thread: global settings (`debug` is `-d`),
/// every proxy with its compiled rules and resolved `default_backend`, every server of
/// every backend with its load-balancing state, the backend name index. Touches no socket
/// and starts no task. Without a global `maxconn`, the `nofile` limit is raised to its
/// hard value to size the idle-connection thresholds, as upstream sizes itself.
///
/// # Errors
/// A rule, ACL or log-format that does not compile, reported like upstream's alert.
pub fn build_world(cfg: &Config, debug: bool) -> Result<World, BuildError> {
    let mut w = World::default();
    let maxconn = cfg.global.maxconn.unwrap_or(0);
    w.global = hrs_core::GlobalRt {
        maxconn,
        curr_conn: 0,
        bufsize: cfg.global.tune_bufsize,
        maxrewrite: cfg.global.maxrewrite(),
        maxhdr: cfg.global.tune_maxhdr,
        tune_h2: cfg.global.tune_h2,
        debug,
        uuid: 0,
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
        log_sock: None,
        pool_low_count: fd_ratio(maxsock(maxconn), cfg.global.tune_pool_low_fd_ratio),
        pool_high_count: fd_ratio(maxsock(maxconn), cfg.global.tune_pool_high_fd_ratio),
    };
    let by_name: HashMap<&str, usize> = cfg
        .proxies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.cap.contains(Cap::BE))
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for (&name, &i) in &by_name {
        w.be_index.insert(name.to_string(), i);
    }
    for (i, p) in cfg.proxies.iter().enumerate() {
        let rules = hrs_sample::compile_proxy(p).map_err(|e| BuildError(e.to_string()))?;
        let mut servers = Vec::new();
        let mut inits = Vec::new();
        if p.cap.contains(Cap::BE) {
            for sv in &p.servers {
                let id = w.servers.len();
                servers.push(id);
                inits.push(crate::lb::SrvInit {
                    weight: sv.weight,
                    backup: sv.backup,
                    maxconn: sv.maxconn,
                    disabled: sv.disabled,
                    ..Default::default()
                });
                w.servers.push(ServerRt {
                    cfg: sv.clone(),
                    px: i,
                    lb_idx: inits.len() - 1,
                    up: !sv.disabled,
                    served: 0,
                    queue: Default::default(),
                    counters: Default::default(),
                    admin: if sv.disabled {
                        hrs_core::SrvAdmin::Maint
                    } else {
                        hrs_core::SrvAdmin::Ready
                    },
                    pool: Default::default(),
                    served_max: 0,
                });
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
        w.proxies.push(ProxyRt {
            cfg: p.clone(),
            servers,
            default_be,
            rules: Rc::new(rules),
            lb: Box::new(lb) as Box<dyn LbAlgo>,
            queue: Default::default(),
            feconn: 0,
            beconn: 0,
            counters: Default::default(),
        });
    }
    Ok(w)
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
    if rl.rlim_cur < rl.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: rl.rlim_max,
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            rl.rlim_cur = rl.rlim_max;
        }
    }
    rl.rlim_cur.min(u32::MAX as u64) as u32
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
