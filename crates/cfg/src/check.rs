//! Post-parse validity checks: the part of HAProxy's `check_config_validity()` that concerns
//! the keywords haproxy-rs supports, `srv_init_addr()`'s report of unresolved servers, and
//! the verdict that ends a load ([`verdict`]: exit code and last messages of `-c`).
//!
//! Owns cross-section rules only (references between proxies, modes, missing timeouts,
//! duplicate server names) and the post-parse compilation it asks of the sample layer
//! ([`Compiler`]); each keyword's own syntax is checked by the parser. Messages come proxy by
//! proxy, in configuration order, each proxy's in upstream's order. Adds diagnostics, never
//! removes any.

use crate::diag::{Diag, Diags, Head, Level};
use crate::model::{BindProto, Cap, Config, Mode, Proxy};
use crate::parse::Compiler;
use crate::thread::{resolve_bind_threads, BindThreads};

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Http => "http",
        Mode::Tcp => "tcp",
    }
}

fn loc_of(p: &Proxy) -> String {
    p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default()
}

/// `proxy_type_str()`: `proxy` for a listen section, else `frontend` or `backend`.
fn type_str(p: &Proxy) -> &'static str {
    p.cap.type_str()
}

/// Whether a proxy in mode `from` may use a backend in mode `to`: upstream accepts the same
/// mode, or a TCP frontend handing over to an HTTP backend (which upgrades the stream); with
/// the two modes of haproxy-rs, only HTTP handing over to TCP is refused.
fn modes_compatible(from: Mode, to: Mode) -> bool {
    !matches!((from, to), (Mode::Http, Mode::Tcp))
}

/// The `... tries to use incompatible ...` alert for `p` using backend `be` in `what`.
fn incompatible(p: &Proxy, be: &Proxy, what: &str) -> String {
    format!(
        "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) {what} (see 'mode').",
        mode_name(p.mode),
        type_str(p),
        p.name,
        loc_of(p),
        mode_name(be.mode),
        type_str(be),
        be.name,
        loc_of(be)
    )
}

/// Gives every proxy its id (`uuid`) as `check_config_validity()` does: walking the proxies
/// in configuration order with a counter starting at 1, a proxy with an explicit `id` keeps
/// it, another takes the first id not used (explicitly or already assigned) that is at
/// least the counter; the counter then moves past the proxy whatever its id. The hidden
/// `GLOBAL` stats frontend, where it stands ([`crate::model::Global::cli_fe_at`]), has id 0
/// but moves the counter too. Disabled proxies are numbered like the others.
pub fn assign_proxy_uuids(cfg: &mut Config) {
    let mut used: std::collections::BTreeSet<u32> =
        cfg.proxies.iter().filter_map(|p| p.id).collect();
    let mut next: u32 = 1;
    let global_at = cfg.global.cli_fe_at;
    for (i, p) in cfg.proxies.iter_mut().enumerate() {
        if global_at == Some(i) {
            next = next.saturating_add(1);
        }
        p.uuid = match p.id {
            Some(id) => id,
            None => {
                // ids are below 2^31 and `used` is finite: this ends
                while used.contains(&next) {
                    next += 1;
                }
                used.insert(next);
                next
            }
        };
        next = next.saturating_add(1);
    }
}

/// The alerts about the thread sets of `p`'s `bind` lines with `nbthread` threads, as
/// `check_config_validity()` writes them (`thread_resolve_group_mask()`'s error).
fn bind_thread_alerts(p: &Proxy, nbthread: usize) -> impl Iterator<Item = Diag> + '_ {
    p.binds.iter().filter_map(move |b| {
        let set = BindThreads {
            mask: b.threads.unwrap_or(0),
            group: b.thread_group,
        };
        let err = resolve_bind_threads(set, nbthread).err()?;
        Some(Diag::bare(
            Level::Alert,
            format!(
                "Proxy '{}': {err} in 'bind {}' at [{}].",
                p.name, b.arg, b.loc
            ),
        ))
    })
}

/// The `bind ... thread`/`process` sets that name no thread among the first `nbthread`
/// (1 to 64; the number the process runs, `global.nbthread` once resolved): one alert per
/// such line, `Proxy 'P': 'thread' directive contains threads that belong to no group in
/// 'bind ADDR' at [F:N].` (or `... only references threads not belonging to the group ...`
/// for a `thread 1/<set>`), enabled proxies in configuration order. Empty when every line
/// has a thread to run on.
///
/// [`check_config`] runs it itself, at upstream's place among the messages, when `nbthread`
/// is set in the configuration; when it is not, upstream checks against the number of CPUs
/// the process may run on, which only the binary knows: it calls this function with that
/// number, after a load that [`check_config`] accepted (an alert makes the configuration
/// fatal, followed by `Fatal errors found in configuration.`).
pub fn check_bind_threads(cfg: &Config, nbthread: usize) -> Vec<Diag> {
    cfg.proxies
        .iter()
        .filter(|p| !p.disabled)
        .flat_map(|p| bind_thread_alerts(p, nbthread))
        .collect()
}

/// Checks `cfg` as a whole and reports in `d`, compiling what upstream compiles after parsing
/// through `comp`; assigns the proxy ids first ([`assign_proxy_uuids`]). The thread sets of
/// `bind` lines are checked against `nbthread`, else `default_nbthread` (the CPUs the
/// process may run on, as upstream: [`check_bind_threads`]).
pub fn check_config(cfg: &mut Config, d: &mut Diags, comp: &dyn Compiler, default_nbthread: usize) {
    assign_proxy_uuids(cfg);
    let n = cfg.global.nbthread.map_or(default_nbthread, |n| n as usize);
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        // first in upstream's loop over a proxy's bind lines, before its mode's checks
        for a in bind_thread_alerts(p, n) {
            d.push(a);
        }
        if p.mode == Mode::Tcp && p.options.httplog && p.log_format.is_none() {
            // proxy_cfg_ensure_no_http(), citing the line that set the format
            let msg = format!(
                "'option httplog' not usable with {} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
                type_str(p),
                p.name
            );
            match &p.log_format_loc {
                Some(l) => d.warn_at(l, msg),
                None => d.warn(msg),
            }
        }
        if p.cap.contains(Cap::FE) && p.binds.is_empty() {
            d.warn(format!(
                "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                type_str(p),
                p.name
            ));
        }
        // kept even where it only warned (a backend), and checked as upstream does
        if let Some((name, _)) = &p.default_backend {
            match cfg.find_proxy(name, Cap::BE) {
                None => d.alert(format!(
                    "Proxy '{}': unable to find required default_backend: '{name}'.",
                    p.name
                )),
                Some(be) if std::ptr::eq(be, p) => d.alert(format!(
                    "Proxy '{}': loop detected for default_backend: '{name}'.",
                    p.name
                )),
                Some(be) if !modes_compatible(p.mode, be.mode) => {
                    d.alert(incompatible(p, be, "as its default backend"))
                }
                Some(_) => {
                    if !p.servers.is_empty() {
                        d.warn(format!("In proxy '{}', the 'default_backend' rule always has precedence over the servers, which will never be used.", p.name));
                    }
                }
            }
        }
        for r in &p.switching_rules {
            match comp.use_backend(p, r) {
                Err(e) => {
                    d.push(e);
                    continue;
                }
                Ok(true) => continue, // dynamic name, resolved per request
                Ok(false) => {}
            }
            match cfg.find_proxy(&r.backend, Cap::BE) {
                None => d.alert(format!(
                    "Proxy '{}': unable to find required use_backend: '{}'.",
                    p.name, r.backend
                )),
                Some(be) if std::ptr::eq(be, p) => d.alert(format!(
                    "Proxy '{}': loop detected for use_backend: '{}'.",
                    p.name, r.backend
                )),
                Some(be) if !modes_compatible(p.mode, be.mode) => {
                    d.alert(incompatible(p, be, "in a 'use_backend' rule"))
                }
                Some(_) => {}
            }
        }
        // a log format that does not compile keeps what was read before the error
        let (error, has_format) = comp.log_format(p);
        if let Some(e) = error {
            d.push(e);
        }
        // a backend needs them only with servers; in TCP mode 'timeout tunnel' stands for
        // 'timeout server'
        let t = &p.timeouts;
        let unset = |v: Option<u32>| v.unwrap_or(0) == 0;
        let fe_missing = p.cap.contains(Cap::FE) && unset(t.client);
        let be_missing = p.cap.contains(Cap::BE)
            && !p.servers.is_empty()
            && (unset(t.connect) || (unset(t.server) && (p.mode == Mode::Http || unset(t.tunnel))));
        if fe_missing || be_missing {
            d.warn(format!(
                "missing timeouts for {} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                type_str(p),
                p.name
            ));
        }
        // the first earlier server of the same name, once per server
        for (i, s) in p.servers.iter().enumerate() {
            if let Some(prev) = p.servers[..i].iter().find(|o| o.name == s.name) {
                d.alert_at(
                    &s.loc,
                    format!(
                        "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                        type_str(p),
                        p.name,
                        s.name,
                        prev.loc.line
                    ),
                );
            }
        }
        let has_target = !p.logs.is_empty() || (p.log_global && !cfg.global.logs.is_empty());
        if p.cap.contains(Cap::FE) && has_format && !has_target {
            d.warn(format!(
                "log format ignored for {} '{}' since it has no log address.",
                type_str(p),
                p.name
            ));
        }
        if p.mode == Mode::Tcp {
            for (kw, rules) in [
                ("http-request", &p.http_req_rules),
                ("http-response", &p.http_res_rules),
                ("http-after-response", &p.http_after_res_rules),
            ] {
                if !rules.is_empty() {
                    d.warn(format!(
                        "'{kw}' rules ignored for {} '{}' as they require HTTP mode.",
                        type_str(p),
                        p.name
                    ));
                }
            }
            // the options that need HTTP, in upstream's order (forwardfor, then its tables)
            for (name, on) in [
                ("forwardfor", p.options.forwardfor),
                ("originalto", p.options.originalto),
                ("http-buffer-request", p.options.http_buffer_request),
                ("prefer-last-server", p.options.prefer_last_server),
            ] {
                if on {
                    d.warn(format!(
                        "'option {name}' ignored for {} '{}' as it requires HTTP mode.",
                        type_str(p),
                        p.name
                    ));
                }
            }
        }
        // the muxes named by `proto` exist for HTTP only (`h1`, `h2`)
        if p.mode == Mode::Tcp {
            for b in &p.binds {
                let token = match b.proto {
                    BindProto::Default => None,
                    BindProto::H1 => Some("h1"),
                    BindProto::H2 => Some("h2"),
                };
                if let Some(tok) = token {
                    d.alert(format!(
                        "{} '{}' : MUX protocol '{tok}' is not usable for 'bind {}' at [{}].",
                        type_str(p),
                        p.name,
                        b.arg,
                        b.loc
                    ));
                }
            }
            for sv in &p.servers {
                if let Some(tok) = sv.proto {
                    d.alert(format!(
                        "{} '{}' : MUX protocol '{tok}' is not usable for server '{}' at [{}].",
                        type_str(p),
                        p.name,
                        sv.name,
                        sv.loc
                    ));
                }
            }
        }
    }
}

/// Reports servers whose address did not resolve (HAProxy's `srv_init_addr()`, run once the
/// checks passed), then `Failed to initialize server(s) addr.` if any did not.
pub fn check_server_addrs(cfg: &Config, d: &mut Diags) {
    let mut failed = false;
    for p in &cfg.proxies {
        for s in &p.servers {
            if let Some(h) = &s.unresolved {
                d.alert_head(
                    Head::Context,
                    &s.loc,
                    format!(
                        "'server {}/{}' : could not resolve address '{h}'.",
                        p.name, s.name
                    ),
                );
                failed = true;
            }
        }
    }
    if failed {
        d.alert("Failed to initialize server(s) addr.");
    }
}

/// True when the configuration has at least one listener (a `bind` line in an enabled
/// frontend, or a stats socket); HAProxy refuses to start without one.
pub fn has_listener(cfg: &Config) -> bool {
    !cfg.global.stats_sockets.is_empty()
        || cfg
            .proxies
            .iter()
            .any(|p| !p.disabled && p.cap.contains(Cap::FE) && !p.binds.is_empty())
}

/// How the process was asked to end a load (the command line's part of the verdict).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOpts {
    /// `-c`: check the configuration and exit.
    pub check: bool,
    /// `-q`: print nothing.
    pub quiet: bool,
    /// `-dW`: warnings are fatal.
    pub zero_warning: bool,
}

/// What the process does once the configuration is loaded and checked: the end of
/// upstream's `init()` (haproxy.c), before any listener is bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// An alert to print (`None` also when quiet silences it).
    pub alert: Option<&'static str>,
    /// The lines `-c` prints on stdout (none when quiet).
    pub stdout: Vec<&'static str>,
    /// The exit code, or `None`: go on and start.
    pub exit: Option<i32>,
}

/// The verdict on a load that produced `cfg` and `diags`, as `opts` asks.
///
/// In order: a fatal error exits 1 (its alerts are in `diags`); a warning with
/// `zero-warning` (global keyword or `-dW`) exits 1 with `Some warnings were found and
/// 'zero-warning' is set. Aborting.`; then `-c` prints `Warnings were found.` if a warning
/// was emitted, and exits 0 with `Configuration file is valid` when there is a listener
/// ([`has_listener`]), else 2 with `Configuration file has no error but will not start (no
/// listener) => exit(2).`. Otherwise the configuration may start (`exit` is `None`).
/// `quiet` (`-q`, or the global keyword) silences the alert and stdout, not the exit code.
pub fn verdict(cfg: &Config, diags: &Diags, opts: LoadOpts) -> Verdict {
    let mut v = Verdict {
        alert: None,
        stdout: Vec::new(),
        exit: None,
    };
    if diags.fatal {
        v.exit = Some(1);
        return v;
    }
    let quiet = opts.quiet || diags.quiet;
    let warned = diags.has_warnings();
    if (opts.zero_warning || cfg.global.zero_warning) && warned {
        if !quiet {
            v.alert = Some("Some warnings were found and 'zero-warning' is set. Aborting.");
        }
        v.exit = Some(1);
        return v;
    }
    if !opts.check {
        return v;
    }
    // qfprintf(): nothing on stdout either when quiet
    if warned {
        v.stdout.push("Warnings were found.");
    }
    if has_listener(cfg) {
        v.stdout.push("Configuration file is valid");
        v.exit = Some(0);
    } else {
        v.stdout
            .push("Configuration file has no error but will not start (no listener) => exit(2).");
        v.exit = Some(2);
    }
    if quiet {
        v.stdout.clear();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(explicit: &[Option<u32>], global_at: Option<usize>) -> Vec<u32> {
        let mut cfg = Config::default();
        cfg.global.cli_fe_at = global_at;
        for (i, &id) in explicit.iter().enumerate() {
            let mut p = Proxy::preset(&format!("p{i}"), Cap::BE);
            p.id = id;
            cfg.proxies.push(p);
        }
        assign_proxy_uuids(&mut cfg);
        cfg.proxies.iter().map(|p| p.uuid).collect()
    }

    /// A frontend `name` with one `bind` line per `(threads, thread_group)`, at lines 1, 2...
    fn fe_threads(name: &str, binds: &[(Option<u64>, u32)]) -> Proxy {
        let mut fe = Proxy::preset(name, Cap::FE);
        for (i, &(threads, thread_group)) in binds.iter().enumerate() {
            fe.binds.push(crate::model::Bind {
                addr: crate::model::ListenAddr::Fd(3),
                arg: format!(":{}", 8000 + i),
                name: None,
                proto: BindProto::Default,
                threads,
                thread_group,
                loc: crate::diag::Loc {
                    file: "t.cfg".into(),
                    line: i + 1,
                },
            });
        }
        fe
    }

    #[test]
    fn bind_threads_checked_against_nbthread() {
        let mut cfg = Config::default();
        cfg.proxies.push(fe_threads(
            "fe",
            &[
                (None, 0),
                (Some(1 << 4), 0),
                (Some(0b110), 0),
                (Some(1 << 2), 1),
            ],
        ));
        let mut off = fe_threads("off", &[(Some(1 << 9), 0)]);
        off.disabled = true;
        cfg.proxies.push(off);
        cfg.proxies.push(fe_threads("fe2", &[(Some(u64::MAX), 0)]));
        let texts = |n| -> Vec<String> {
            check_bind_threads(&cfg, n)
                .iter()
                .map(|d| {
                    assert_eq!((d.level, d.loc.is_none()), (Level::Alert, true));
                    d.text()
                })
                .collect()
        };
        assert_eq!(
            texts(2),
            [
                "Proxy 'fe': 'thread' directive contains threads that belong to no group in 'bind :8001' at [t.cfg:2].",
                "Proxy 'fe': 'thread' directive only references threads not belonging to the group in 'bind :8003' at [t.cfg:4].",
            ]
        );
        // thread 3 exists with 3 threads, thread 5 with 5
        assert_eq!(texts(3).len(), 1);
        assert!(texts(5).is_empty());
        assert_eq!(
            texts(1).len(),
            3,
            "thread 2-3 has no thread either with nbthread 1"
        );
    }

    /// A configuration with a listening frontend or not, and the messages of its load.
    fn load(listening: bool, warned: bool, fatal: bool) -> (Config, Diags) {
        let mut cfg = Config::default();
        let mut fe = Proxy::preset("fe", Cap::FE);
        if listening {
            fe.binds.push(crate::model::Bind {
                addr: crate::model::ListenAddr::Fd(3),
                arg: "fd@3".into(),
                name: None,
                proto: BindProto::Default,
                threads: None,
                thread_group: 0,
                loc: crate::diag::Loc {
                    file: "f.cfg".into(),
                    line: 2,
                },
            });
        }
        cfg.proxies.push(fe);
        let mut d = Diags::default();
        if warned {
            d.warn("w.");
        }
        if fatal {
            d.alert("a.");
        }
        (cfg, d)
    }

    const CHECK: LoadOpts = LoadOpts {
        check: true,
        quiet: false,
        zero_warning: false,
    };
    const VALID: &str = "Configuration file is valid";
    const NO_LISTENER: &str =
        "Configuration file has no error but will not start (no listener) => exit(2).";
    const WARNED: &str = "Warnings were found.";
    const ZERO: &str = "Some warnings were found and 'zero-warning' is set. Aborting.";

    fn v(alert: Option<&'static str>, stdout: &[&'static str], exit: Option<i32>) -> Verdict {
        Verdict {
            alert,
            stdout: stdout.to_vec(),
            exit,
        }
    }

    /// The end of haproxy 2.6.12's `-c` and start, for each case of `init()`.
    #[test]
    fn verdict_as_upstream_init() {
        let run = LoadOpts {
            check: false,
            ..CHECK
        };
        let quiet = LoadOpts {
            quiet: true,
            ..CHECK
        };
        let zero = LoadOpts {
            zero_warning: true,
            ..CHECK
        };
        let (cfg, d) = load(true, false, false);
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[VALID], Some(0)));
        assert_eq!(verdict(&cfg, &d, run), v(None, &[], None));
        assert_eq!(verdict(&cfg, &d, quiet), v(None, &[], Some(0)));
        assert_eq!(verdict(&cfg, &d, zero), v(None, &[VALID], Some(0)));
        let (cfg, d) = load(false, false, false);
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[NO_LISTENER], Some(2)));
        assert_eq!(verdict(&cfg, &d, quiet), v(None, &[], Some(2)));
        // the listener test is the binary's (after binding) when starting
        assert_eq!(verdict(&cfg, &d, run), v(None, &[], None));
        // a fatal error ends it all, silently (its alerts are in the messages)
        let (cfg, d) = load(true, true, true);
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[], Some(1)));
        assert_eq!(verdict(&cfg, &d, run), v(None, &[], Some(1)));
        assert_eq!(verdict(&cfg, &d, zero), v(None, &[], Some(1)));
        // warnings
        let (mut cfg, mut d) = load(true, true, false);
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[WARNED, VALID], Some(0)));
        assert_eq!(verdict(&cfg, &d, run), v(None, &[], None));
        assert_eq!(verdict(&cfg, &d, zero), v(Some(ZERO), &[], Some(1)));
        assert_eq!(
            verdict(
                &cfg,
                &d,
                LoadOpts {
                    check: false,
                    ..zero
                }
            ),
            v(Some(ZERO), &[], Some(1))
        );
        let (cfg2, d2) = load(false, true, false);
        assert_eq!(
            verdict(&cfg2, &d2, CHECK),
            v(None, &[WARNED, NO_LISTENER], Some(2))
        );
        // `zero-warning` in the configuration is `-dW`; `quiet` there is `-q`
        cfg.global.zero_warning = true;
        assert_eq!(verdict(&cfg, &d, CHECK), v(Some(ZERO), &[], Some(1)));
        assert_eq!(verdict(&cfg, &d, quiet), v(None, &[], Some(1)));
        d.quiet = true;
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[], Some(1)));
        cfg.global.zero_warning = false;
        assert_eq!(verdict(&cfg, &d, CHECK), v(None, &[], Some(0)));
    }

    /// Checked against haproxy 2.6.12's `show servers state` / `show stat`.
    #[test]
    fn proxy_uuids_as_upstream() {
        // no GLOBAL: 1, 2, 3
        assert_eq!(ids(&[None, None, None], None), [1, 2, 3]);
        // GLOBAL first (a `stats` line in a leading global section) takes a place
        assert_eq!(ids(&[None, None, None], Some(0)), [2, 3, 4]);
        // GLOBAL after the first proxy
        assert_eq!(ids(&[None, None, None], Some(1)), [1, 3, 4]);
        // fe, be id 42, be2, li id 2, be3 with GLOBAL first: the counter moves past every
        // proxy, and skips ids given explicitly, even to proxies declared later
        assert_eq!(
            ids(&[None, Some(42), None, Some(2), None], Some(0)),
            [3, 42, 5, 2, 7]
        );
        assert_eq!(ids(&[Some(1), None, Some(3), None], None), [1, 2, 3, 4]);
        assert_eq!(ids(&[None, Some(1)], None), [2, 1]);
    }
}
