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

/// Checks `cfg` as a whole and reports in `d`.
pub fn check_config(cfg: &mut Config, d: &mut Diags) {
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
