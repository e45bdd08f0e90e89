//! Plain snapshots of what the CLI reports: proxies, servers and process information, copied
//! out of the runtime (`crate::world`) so that every reply is formatted by pure functions.
//!
//! Owns only data definitions; no behaviour besides small derived values. The field names
//! follow the CSV columns and CLI outputs they feed (`stat`, `info`, `servers`).

use hrs_core::Counters;

/// The administrative state of a server as the CLI sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    Ready,
    Drain,
    Maint,
}

/// One server of a backend.
#[derive(Clone, Debug)]
pub struct SrvSnap {
    pub name: String,
    /// `puid`: position in the backend from 1; 0 in a disabled proxy (upstream numbers
    /// servers only in enabled proxies).
    pub sid: u32,
    /// The address without port (`127.0.0.1`, `::1`).
    pub ip: String,
    pub ipv6: bool,
    /// The port (`svc_port`), 0 when the server has none.
    pub port: u16,
    pub admin: Admin,
    /// Declared `disabled` in the configuration (`SRV_ADMF_CMAINT`, which stays set).
    pub cfg_disabled: bool,
    /// The check health was reset by maintenance (`check.health` = 0).
    pub health_zero: bool,
    pub backup: bool,
    pub weight: u32,
    pub maxconn: u32,
    /// Streams waiting in the server's queue.
    pub qcur: u32,
    pub scur: u32,
    pub smax: u32,
    pub counters: Counters,
    /// Seconds since the last state change.
    pub lastchg: u64,
    /// Seconds since the last session, -1 when none.
    pub lastsess: i64,
    // pool gauges
    pub purge_delay: u32,
    /// `pool-max-conn`, -1 when unlimited.
    pub pool_max: i32,
    pub idle: u32,
    pub safe: u32,
    pub used: u32,
    pub max_used: u32,
    pub need: u32,
    /// Idle connections per thread (`curr_idle_thr[]`).
    pub idle_thr: Vec<u32>,
}

impl SrvSnap {
    /// `SRV_ADMF_*` bits: FMAINT 0x01, CMAINT 0x04, FDRAIN 0x08.
    pub fn admin_flags(&self) -> u32 {
        let mut f = 0;
        if self.admin == Admin::Maint {
            f |= 0x01;
        }
        if self.cfg_disabled {
            f |= 0x04;
        }
        if self.admin == Admin::Drain {
            f |= 0x08;
        }
        f
    }

    /// True when load balancing may use it (`srv_currently_usable`).
    pub fn usable(&self) -> bool {
        self.admin == Admin::Ready && self.weight > 0
    }

    /// True when its operational state is running (only maintenance stops it here).
    pub fn running(&self) -> bool {
        self.admin != Admin::Maint
    }

    /// `check.health`: `rise` (2) unless maintenance reset it.
    pub fn health(&self) -> u32 {
        if self.health_zero {
            0
        } else {
            2
        }
    }

    /// `check.state`: `CHK_ST_PAUSED` (0x08) for servers declared `disabled`.
    pub fn check_state(&self) -> u32 {
        if self.cfg_disabled {
            8
        } else {
            0
        }
    }
}

/// The frontend half of a proxy.
#[derive(Clone, Debug)]
pub struct FeSnap {
    pub scur: u32,
    pub smax: u32,
    /// `maxconn` in force (0: none).
    pub slim: u32,
    pub counters: Counters,
    /// Listeners closed by a soft stop.
    pub stopped: bool,
}

/// The backend half of a proxy.
#[derive(Clone, Debug)]
pub struct BeSnap {
    pub qcur: u32,
    pub qmax: u32,
    pub scur: u32,
    pub smax: u32,
    /// `fullconn`.
    pub slim: u32,
    pub counters: Counters,
    /// `balance` keyword (`roundrobin`, `static-rr`, ...).
    pub algo: &'static str,
    /// Times the backend went down.
    pub down_trans: u64,
    /// Seconds since the last up/down change.
    pub lastchg: u64,
    /// Seconds spent down (`be_downtime`).
    pub downtime: u64,
    pub lastsess: i64,
}

/// A proxy as `show stat` and `show servers` see it.
#[derive(Clone, Debug)]
pub struct PxSnap {
    pub name: String,
    /// `uuid` (`iid`).
    pub iid: u32,
    pub http: bool,
    /// Declared `disabled`: absent from `show stat`, still in `show servers`.
    pub disabled: bool,
    pub fe: Option<FeSnap>,
    pub be: Option<BeSnap>,
    pub servers: Vec<SrvSnap>,
}

/// What a backend's servers add up to (`recount_servers` + `update_backend_weight`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BeWeights {
    /// Usable active servers (`srv_act`).
    pub act: u32,
    /// Usable backup servers (`srv_bck`).
    pub bck: u32,
    /// `tot_weight`: active weights, else the first usable backup's.
    pub weight: u32,
    /// The same over user weights (`tot_uweight`).
    pub uweight: u32,
}

impl PxSnap {
    /// Counts of usable servers and the backend weight.
    pub fn weights(&self) -> BeWeights {
        let mut w = BeWeights::default();
        let mut first_bck = None;
        for s in self.servers.iter().filter(|s| s.usable()) {
            if s.backup {
                w.bck += 1;
                first_bck.get_or_insert(s.weight);
            } else {
                w.act += 1;
                w.weight += s.weight;
            }
        }
        if w.act == 0 {
            w.weight = first_bck.unwrap_or(0);
        }
        w.uweight = w.weight;
        w
    }

    /// `UP` when some server carries weight or there is no server, else `DOWN`.
    pub fn be_up(&self) -> bool {
        self.servers.is_empty() || self.weights().weight > 0
    }
}

/// What `show info` reports about the process.
#[derive(Clone, Debug, Default)]
pub struct InfoSnap {
    pub version: String,
    pub release_date: String,
    pub nbthread: u32,
    pub pid: u32,
    pub uptime_sec: u64,
    pub ulimit_n: u64,
    pub maxsock: u64,
    pub maxconn: u32,
    pub curr_conns: u32,
    pub cum_conns: u64,
    pub cum_req: u64,
    pub tasks: u64,
    pub node: String,
    pub stopping: bool,
    pub jobs: u64,
    pub listeners: u64,
    pub bytes_out: u64,
    pub start_time_sec: u64,
}

/// A ready server snapshot with fresh counters, for the formatting tests.
#[cfg(test)]
pub(crate) fn test_srv(name: &str, sid: u32, port: u16) -> SrvSnap {
    SrvSnap {
        name: name.into(),
        sid,
        ip: "127.0.0.1".into(),
        ipv6: false,
        port,
        admin: Admin::Ready,
        cfg_disabled: false,
        health_zero: false,
        backup: false,
        weight: 1,
        maxconn: 0,
        qcur: 0,
        scur: 0,
        smax: 0,
        counters: Counters::default(),
        lastchg: 34,
        lastsess: -1,
        purge_delay: 5000,
        pool_max: -1,
        idle: 0,
        safe: 0,
        used: 0,
        max_used: 0,
        idle_thr: vec![0],
        need: 0,
    }
}
