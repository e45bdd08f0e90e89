//! The CLI's window on the runtime: snapshots of [`World`] for the replies, server lookups,
//! and the administrative state changes (HAProxy's `srv_adm_set_maint/drain/ready` and the
//! parts of `srv_update_status` that concern them).
//!
//! Owns [`CliState`], what upstream keeps in its proxies and servers but `hrs-core` does
//! not: proxy ids (`uuid`, copied from the configuration), backend `fullconn`,
//! last-change times, backend down transitions and down time, observed peaks. It may read
//! everything in `World`, and it changes only a server's `admin` and `up`, its backend's
//! load-balancing usability (`lb.set_usable`), and, through `hrs-backend`, the server's idle
//! connections (purged on maintenance) and queue (served when the server is usable again).

use crate::snapshot::{Admin, BeSnap, FeSnap, PxSnap, SrvSnap};
use hrs_cfg::model::{Balance, Cap, Mode};
use hrs_core::{Ev, PxId, SrvAdmin, SrvId, World};
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;

/// What the CLI remembers about a proxy.
#[derive(Clone, Debug, Default)]
struct PxState {
    uuid: u32,
    /// `fullconn` (backends).
    fullconn: u32,
    /// Wall-clock second of the last up/down change of the backend.
    last_change: u64,
    down_trans: u64,
    down_time: u64,
    fe_smax: u32,
    be_smax: u32,
    be_qmax: u32,
    /// `(cum_sess, second)` when the CLI last saw the session count move.
    last_sess: Option<(u64, u64)>,
}

/// What the CLI remembers about a server.
#[derive(Clone, Debug, Default)]
struct SrvState {
    last_change: u64,
    /// Maintenance reset the check health (also set for `disabled` servers).
    health_zero: bool,
    last_sess: Option<(u64, u64)>,
}

/// Per-proxy and per-server state the CLI keeps beside the [`World`] (see the module doc).
/// Built once after the world; proxies and servers never change afterwards.
#[derive(Clone, Debug, Default)]
pub struct CliState {
    /// Wall-clock second the process started.
    pub start_sec: u64,
    px: Vec<PxState>,
    srv: Vec<SrvState>,
}

/// Why a `backend/server` argument designates no server (`cli_find_server`'s messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindError {
    NoSlash,
    NoBackend,
    NoServer,
    Disabled,
}

impl FindError {
    /// The CLI message, newline included.
    pub fn message(self) -> &'static str {
        match self {
            FindError::NoSlash => "Require 'backend/server'.\n",
            FindError::NoBackend => "No such backend.\n",
            FindError::NoServer => "No such server.\n",
            FindError::Disabled => "Proxy is disabled.\n",
        }
    }
}

/// `fullconn` from the frontends' `maxconn` (`tot_fe_maxconn`): each frontend adds its
/// `maxconn` to its default backend (to itself for a `listen` without one) and, once per
/// frontend, to each backend of its `use_backend` rules; a tenth of the sum, rounded up, at
/// least 1.
fn fullconns(w: &World) -> Vec<u32> {
    let mut tot = vec![0u64; w.sh.proxies.len()];
    for (i, p) in w.sh.proxies.iter().enumerate() {
        if !p.cfg.cap.contains(Cap::FE) || p.cfg.disabled {
            continue;
        }
        let maxconn = u64::from(fe_maxconn(w, i));
        match p.default_be {
            Some(be) => tot[be] += maxconn,
            None if p.cfg.cap.contains(Cap::BE) => tot[i] += maxconn,
            None => {}
        }
        let mut seen = HashSet::new();
        for r in &p.cfg.switching_rules {
            if let Some(&be) = w.sh.be_index.get(&r.backend) {
                if seen.insert(be) {
                    tot[be] += maxconn;
                }
            }
        }
    }
    tot.iter()
        .map(|&t| (t.div_ceil(10)).clamp(1, u64::from(u32::MAX)) as u32)
        .collect()
}

/// The `maxconn` of frontend `i`: its own, else the global one (0: no limit).
fn fe_maxconn(w: &World, i: PxId) -> u32 {
    match w.sh.proxies[i].cfg.maxconn {
        0 => w.sh.global.maxconn,
        m => m,
    }
}

fn algo(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
    }
}

/// Seconds since the last observed session: the count is compared with the one seen last
/// time, a change dates the session to now (-1 before any session).
fn last_sess(slot: &mut Option<(u64, u64)>, cum_sess: u64, now: u64) -> i64 {
    if cum_sess == 0 {
        return -1;
    }
    let at = match *slot {
        Some((n, at)) if n == cum_sess => at,
        _ => now,
    };
    *slot = Some((cum_sess, at));
    now.saturating_sub(at) as i64
}

fn admin_of(a: SrvAdmin) -> Admin {
    match a {
        SrvAdmin::Ready => Admin::Ready,
        SrvAdmin::Drain => Admin::Drain,
        SrvAdmin::Maint => Admin::Maint,
    }
}

/// Servers of backend `px` that load balancing may use (`srv_act + srv_bck`).
fn usable_servers(w: &World, px: PxId) -> usize {
    w.sh.proxies[px]
        .servers
        .iter()
        .filter(|&&s| {
            let sv = &w.sh.servers[s];
            sv.admin() == SrvAdmin::Ready && sv.is_up() && sv.cfg.weight > 0
        })
        .count()
}

impl CliState {
    /// The state of a fresh process started at `now_sec`, for `w`. The proxy ids are the
    /// configuration's (`hrs_cfg::check::assign_proxy_uuids`).
    pub fn new(w: &World, now_sec: u64) -> CliState {
        let full = fullconns(w);
        let px = (0..w.sh.proxies.len())
            .map(|i| PxState {
                uuid: w.sh.proxies[i].cfg.uuid,
                fullconn: full[i],
                last_change: now_sec,
                ..PxState::default()
            })
            .collect();
        let srv =
            w.sh.servers
                .iter()
                .map(|s| SrvState {
                    last_change: now_sec,
                    health_zero: s.cfg.disabled,
                    last_sess: None,
                })
                .collect();
        CliState {
            start_sec: now_sec,
            px,
            srv,
        }
    }

    /// Extends the tables if the world has more proxies or servers than when they were
    /// built (it does not today: no dynamic servers), so that no lookup can fail.
    fn sync(&mut self, w: &World) {
        while self.px.len() < w.sh.proxies.len() {
            let uuid = self.px.last().map_or(1, |p| p.uuid + 1);
            self.px.push(PxState {
                uuid,
                fullconn: 1,
                last_change: self.start_sec,
                ..PxState::default()
            });
        }
        while self.srv.len() < w.sh.servers.len() {
            self.srv.push(SrvState {
                last_change: self.start_sec,
                ..SrvState::default()
            });
        }
    }

    /// The id (`uuid`) of proxy `px`.
    pub fn uuid(&self, px: PxId) -> u32 {
        self.px.get(px).map_or(0, |p| p.uuid)
    }

    /// The proxy called `name`, or `#<id>`, having all capabilities of `cap`
    /// (`proxy_find_by_name`); the first one in configuration order.
    pub fn find_proxy(&self, w: &World, name: &[u8], cap: Cap) -> Option<PxId> {
        let ok = |i: usize| w.sh.proxies[i].cfg.cap.contains(cap);
        if let Some(id) = name.strip_prefix(b"#") {
            let id = i64::from(hrs_cfg::units::atoi(id));
            if let Some(i) =
                (0..w.sh.proxies.len()).find(|&i| i64::from(self.uuid(i)) == id && ok(i))
            {
                return Some(i);
            }
        }
        (0..w.sh.proxies.len()).find(|&i| w.sh.proxies[i].cfg.name.as_bytes() == name && ok(i))
    }

    /// The server named by `arg` = `backend/server` (`cli_find_server`); either part may be
    /// `#<id>`.
    pub fn find_server(&self, w: &World, arg: &[u8]) -> Result<SrvId, FindError> {
        let (bk, sv) = match arg.iter().position(|&b| b == b'/') {
            Some(i) => (&arg[..i], &arg[i + 1..]),
            None => (arg, &b""[..]),
        };
        if bk.is_empty() || sv.is_empty() {
            return Err(FindError::NoSlash);
        }
        let px = self
            .find_proxy(w, bk, Cap::BE)
            .ok_or(FindError::NoBackend)?;
        let servers = &w.sh.proxies[px].servers;
        let found = match sv.strip_prefix(b"#") {
            Some(id) => {
                let id = i64::from(hrs_cfg::units::atoi(id));
                usize::try_from(id)
                    .ok()
                    .filter(|&id| id > 0)
                    .and_then(|id| servers.get(id - 1).copied())
            }
            None => servers
                .iter()
                .copied()
                .find(|&s| w.sh.servers[s].cfg.name.as_bytes() == sv),
        };
        let srv = found.ok_or(FindError::NoServer)?;
        if w.sh.proxies[px].cfg.disabled {
            return Err(FindError::Disabled);
        }
        Ok(srv)
    }

    /// Snapshots of every proxy at wall-clock second `now`; `stopping` says listeners are
    /// closed by a soft stop. Updates the observed peaks and session dates.
    pub fn snapshot(&mut self, w: &World, now: u64, stopping: bool) -> Vec<PxSnap> {
        self.sync(w);
        let mut out = Vec::with_capacity(w.sh.proxies.len());
        for (i, p) in w.sh.proxies.iter().enumerate() {
            let ps = &mut self.px[i];
            let fe = p.cfg.cap.contains(Cap::FE).then(|| {
                let feconn = p.feconn.load(Relaxed);
                ps.fe_smax = ps.fe_smax.max(feconn);
                FeSnap {
                    scur: feconn,
                    smax: ps.fe_smax,
                    slim: fe_maxconn(w, i),
                    counters: p.counters.snapshot(),
                    stopped: stopping,
                }
            });
            let servers: Vec<SrvSnap> = if p.cfg.cap.contains(Cap::BE) {
                p.servers
                    .iter()
                    .enumerate()
                    .map(|(k, &s)| {
                        let sv = &w.sh.servers[s];
                        let ss = &mut self.srv[s];
                        let counters = sv.counters.snapshot();
                        let served = sv.served.load(Relaxed);
                        SrvSnap {
                            name: sv.cfg.name.clone(),
                            sid: if p.cfg.disabled { 0 } else { k as u32 + 1 },
                            ip: sv.cfg.addr.ip().to_string(),
                            ipv6: sv.cfg.addr.is_ipv6(),
                            port: if sv.cfg.port_unset {
                                0
                            } else {
                                sv.cfg.addr.port()
                            },
                            admin: admin_of(sv.admin()),
                            cfg_disabled: sv.cfg.disabled,
                            health_zero: ss.health_zero,
                            backup: sv.cfg.backup,
                            weight: sv.cfg.weight,
                            maxconn: sv.cfg.maxconn,
                            qcur: sv.nbpend.load(Relaxed),
                            scur: served,
                            smax: sv.served_max.load(Relaxed).max(served),
                            counters,
                            lastchg: now.saturating_sub(ss.last_change),
                            lastsess: last_sess(&mut ss.last_sess, counters.cum_sess, now),
                            purge_delay: sv.cfg.pool_purge_delay,
                            pool_max: sv.cfg.pool_max_conn,
                            idle: sv.idle_nb.load(Relaxed),
                            safe: sv.safe_nb.load(Relaxed),
                            used: sv.curr_used.load(Relaxed),
                            max_used: sv.max_used.load(Relaxed),
                            need: sv.est_need.load(Relaxed),
                            idle_thr: sv.idle_thr.iter().map(|n| n.load(Relaxed)).collect(),
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let ps = &mut self.px[i];
            let be = p.cfg.cap.contains(Cap::BE).then(|| {
                let qcur = p.nbpend.load(Relaxed);
                let beconn = p.beconn.load(Relaxed);
                let counters = p.counters.snapshot();
                ps.be_qmax = ps.be_qmax.max(qcur);
                ps.be_smax = ps.be_smax.max(beconn);
                let up = servers.is_empty() || servers.iter().any(|s| s.usable());
                let down_for = if up {
                    0
                } else {
                    now.saturating_sub(ps.last_change)
                };
                BeSnap {
                    qcur,
                    qmax: ps.be_qmax,
                    scur: beconn,
                    smax: ps.be_smax,
                    slim: ps.fullconn,
                    counters,
                    algo: algo(&p.cfg.balance),
                    down_trans: ps.down_trans,
                    lastchg: now.saturating_sub(ps.last_change),
                    downtime: ps.down_time + down_for,
                    lastsess: last_sess(&mut ps.last_sess, counters.cum_sess, now),
                }
            });
            out.push(PxSnap {
                name: p.cfg.name.clone(),
                iid: self.px[i].uuid,
                http: p.cfg.mode == Mode::Http,
                disabled: p.cfg.disabled,
                fe,
                be,
                servers,
            });
        }
        out
    }

    /// Puts server `srv` in administrative state `to` at wall-clock second `now`
    /// (`srv_adm_set_maint`/`_drain`/`_ready`). Nothing happens when it is already there.
    /// Maintenance and drain take it out of load balancing; maintenance also closes its idle
    /// connections at once (connections in use finish). Back to ready, it is usable again
    /// and takes queued streams. The backend's down transitions and times follow.
    pub fn set_admin(&mut self, w: &mut World, ev: &mut Ev, srv: SrvId, to: SrvAdmin, now: u64) {
        self.sync(w);
        let Some(old) = w.sh.servers.get(srv).map(|s| s.admin()) else {
            return;
        };
        if old == to {
            return;
        }
        let px = w.sh.servers[srv].px;
        let had = usable_servers(w, px);
        let usable = to == SrvAdmin::Ready;
        let sv = &w.sh.servers[srv];
        {
            // state and LB change together, under the backend's lock
            let mut lb = w.sh.proxies[px].lb.lock();
            sv.set_admin(to);
            if sv.is_up() != usable {
                sv.up.store(usable, Relaxed);
                lb.algo.set_usable(sv.lb_idx, usable);
            }
        }
        let ss = &mut self.srv[srv];
        ss.last_change = now;
        if to == SrvAdmin::Maint {
            ss.health_zero = true;
            // every thread closes its own idle connections to it
            hrs_backend::server::srv_cleanup_connections(w, ev, srv);
            for t in 0..w.sh.threads.len() {
                if t != usize::from(w.tid) {
                    w.sh.send(t as hrs_core::Tid, hrs_core::Msg::Cleanup(srv));
                }
            }
        }
        let has = usable_servers(w, px);
        let ps = &mut self.px[px];
        if had > 0 && has == 0 {
            ps.down_trans += 1;
            ps.last_change = now;
        } else if had == 0 && has > 0 {
            // leaving drain counts the down time; leaving maintenance does not (2.6.12)
            if old == SrvAdmin::Drain && ps.last_change < now {
                ps.down_time += now - ps.last_change;
            }
            ps.last_change = now;
        }
        if usable {
            hrs_backend::backend::process_srv_queue(w, ev, srv);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_sess_dates_changes() {
        let mut slot = None;
        assert_eq!(last_sess(&mut slot, 0, 100), -1);
        assert_eq!(last_sess(&mut slot, 3, 100), 0);
        assert_eq!(last_sess(&mut slot, 3, 107), 7);
        assert_eq!(last_sess(&mut slot, 4, 110), 0);
    }

    #[test]
    fn find_errors_have_upstream_messages() {
        assert_eq!(FindError::NoSlash.message(), "Require 'backend/server'.\n");
        assert_eq!(FindError::NoBackend.message(), "No such backend.\n");
        assert_eq!(FindError::NoServer.message(), "No such server.\n");
        assert_eq!(FindError::Disabled.message(), "Proxy is disabled.\n");
    }
}
