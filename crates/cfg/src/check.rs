//! Post-parse validity checks: the part of HAProxy's `check_config_validity()` that concerns
//! the keywords haproxy-rs supports.
//!
//! Owns cross-section rules only (references between proxies, modes, missing timeouts); each
//! keyword's own syntax is checked by the parser. Adds diagnostics, never removes any.

use crate::diag::Diags;
use crate::model::{Cap, Config, Mode, Proxy};

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Http => "http",
        Mode::Tcp => "tcp",
    }
}

fn loc_of(p: &Proxy) -> String {
    p.loc.as_ref().map(|l| l.to_string()).unwrap_or_default()
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
                while used.contains(&next) && next < u32::MAX {
                    next += 1;
                }
                used.insert(next);
                next
            }
        };
        next = next.saturating_add(1);
    }
}

/// Checks `cfg` as a whole and reports in `d`; assigns the proxy ids first
/// ([`assign_proxy_uuids`]).
pub fn check_config(cfg: &mut Config, d: &mut Diags) {
    assign_proxy_uuids(cfg);
    check_server_addrs(cfg, d);
    if d.fatal {
        return;
    }
    for i in 0..cfg.proxies.len() {
        let p = &cfg.proxies[i];
        if p.disabled {
            continue;
        }
        if p.cap.contains(Cap::FE) {
            if let Some((name, _)) = &p.default_backend {
                match cfg.find_proxy(name, Cap::BE) {
                    None => d.alert(format!(
                        "Proxy '{}': unable to find required default_backend: '{name}'.",
                        p.name
                    )),
                    Some(be) if be.name == p.name && std::ptr::eq(be, p) => d.alert(format!(
                        "Proxy '{}': loop detected for default_backend: '{name}'.",
                        p.name
                    )),
                    Some(be) if be.mode != p.mode => d.alert(format!(
                        "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) as its default backend (see 'mode').",
                        mode_name(p.mode),
                        p.cap.section_name(),
                        p.name,
                        loc_of(p),
                        mode_name(be.mode),
                        be.cap.section_name(),
                        be.name,
                        loc_of(be)
                    )),
                    Some(_) => {}
                }
            }
            for r in &p.switching_rules {
                if r.backend.contains("%[") {
                    continue; // dynamic name, resolved per request
                }
                match cfg.find_proxy(&r.backend, Cap::BE) {
                    None => d.alert(format!(
                        "Proxy '{}': unable to find required use_backend: '{}'.",
                        p.name, r.backend
                    )),
                    Some(be) if be.mode != p.mode => d.alert(format!(
                        "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) in a 'use_backend' rule (see 'mode').",
                        mode_name(p.mode),
                        p.cap.section_name(),
                        p.name,
                        loc_of(p),
                        mode_name(be.mode),
                        be.cap.section_name(),
                        be.name,
                        loc_of(be)
                    )),
                    Some(_) => {}
                }
            }
            if p.binds.is_empty() {
                d.warn(format!(
                    "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    if p.cap.contains(Cap::BE) { "proxy" } else { "frontend" },
                    p.name
                ));
            }
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
                        p.cap.section_name(),
                        p.name
                    ));
                }
            }
        }
        let t = &p.timeouts;
        let fe_missing = p.cap.contains(Cap::FE) && t.client.unwrap_or(0) == 0;
        let be_missing =
            p.cap.contains(Cap::BE) && (t.connect.unwrap_or(0) == 0 || t.server.unwrap_or(0) == 0);
        if fe_missing || be_missing {
            d.warn(format!(
                "missing timeouts for {} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                p.cap.section_name(),
                p.name
            ));
        }
    }
}

/// Reports servers whose address did not resolve (HAProxy's `srv_init_addr()`).
fn check_server_addrs(cfg: &Config, d: &mut Diags) {
    let mut failed = false;
    for p in &cfg.proxies {
        for s in &p.servers {
            if let Some(h) = &s.unresolved {
                d.alert(format!(
                    "[{}] : 'server {}/{}' : could not resolve address '{h}'.",
                    s.loc, p.name, s.name
                ));
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
