//! `show info`: the process information lines of HAProxy 2.6 (`stats_fill_info` +
//! `stats_dump_info_fields`), one `Name: value` line per field in upstream's order.
//!
//! Owns the field list and its formatting; values come from an [`InfoSnap`]. Whatever the
//! runtime does not have (SSL, pipes, compression, peers, rates, memory pools) prints what a
//! fresh upstream process without those features prints, `0`. Pure.

use crate::snapshot::InfoSnap;

/// `Uptime` as upstream formats it: `0d 0h00m33s`.
pub fn uptime(sec: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        sec / 86400,
        (sec % 86400) / 3600,
        (sec % 3600) / 60,
        sec % 60
    )
}

/// The `show info` output (without the CLI's final empty line).
pub fn show_info(i: &InfoSnap) -> String {
    let fields: Vec<(&str, String)> = vec![
        ("Name", "HAProxy".into()),
        ("Version", i.version.clone()),
        ("Release_date", i.release_date.clone()),
        ("Nbthread", i.nbthread.to_string()),
        ("Nbproc", "1".into()),
        ("Process_num", "1".into()),
        ("Pid", i.pid.to_string()),
        ("Uptime", uptime(i.uptime_sec)),
        ("Uptime_sec", i.uptime_sec.to_string()),
        ("Memmax_MB", "0".into()),
        ("PoolAlloc_MB", "0".into()),
        ("PoolUsed_MB", "0".into()),
        ("PoolFailed", "0".into()),
        ("Ulimit-n", i.ulimit_n.to_string()),
        ("Maxsock", i.maxsock.to_string()),
        ("Maxconn", i.maxconn.to_string()),
        ("Hard_maxconn", i.maxconn.to_string()),
        ("CurrConns", i.curr_conns.to_string()),
        ("CumConns", i.cum_conns.to_string()),
        ("CumReq", i.cum_req.to_string()),
        ("MaxSslConns", "0".into()),
        ("CurrSslConns", "0".into()),
        ("CumSslConns", "0".into()),
        ("Maxpipes", "0".into()),
        ("PipesUsed", "0".into()),
        ("PipesFree", "0".into()),
        ("ConnRate", "0".into()),
        ("ConnRateLimit", "0".into()),
        ("MaxConnRate", "0".into()),
        ("SessRate", "0".into()),
        ("SessRateLimit", "0".into()),
        ("MaxSessRate", "0".into()),
        ("SslRate", "0".into()),
        ("SslRateLimit", "0".into()),
        ("MaxSslRate", "0".into()),
        ("SslFrontendKeyRate", "0".into()),
        ("SslFrontendMaxKeyRate", "0".into()),
        ("SslFrontendSessionReuse_pct", "0".into()),
        ("SslBackendKeyRate", "0".into()),
        ("SslBackendMaxKeyRate", "0".into()),
        ("SslCacheLookups", "0".into()),
        ("SslCacheMisses", "0".into()),
        ("CompressBpsIn", "0".into()),
        ("CompressBpsOut", "0".into()),
        ("CompressBpsRateLim", "0".into()),
        ("Tasks", i.tasks.to_string()),
        ("Run_queue", "0".into()),
        ("Idle_pct", "100".into()),
        ("node", i.node.clone()),
        ("Stopping", u8::from(i.stopping).to_string()),
        ("Jobs", i.jobs.to_string()),
        ("Unstoppable Jobs", "0".into()),
        ("Listeners", i.listeners.to_string()),
        ("ActivePeers", "0".into()),
        ("ConnectedPeers", "0".into()),
        ("DroppedLogs", "0".into()),
        ("BusyPolling", "0".into()),
        ("FailedResolutions", "0".into()),
        ("TotalBytesOut", i.bytes_out.to_string()),
        ("TotalSplicdedBytesOut", "0".into()),
        ("BytesOutRate", "0".into()),
        ("DebugCommandsIssued", "0".into()),
        ("CumRecvLogs", "0".into()),
        ("Build info", i.version.clone()),
        ("Memmax_bytes", "0".into()),
        ("PoolAlloc_bytes", "0".into()),
        ("PoolUsed_bytes", "0".into()),
        ("Start_time_sec", i.start_time_sec.to_string()),
        ("Tainted", "0".into()),
    ];
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_format() {
        assert_eq!(uptime(0), "0d 0h00m00s");
        assert_eq!(uptime(33), "0d 0h00m33s");
        assert_eq!(uptime(3 * 86400 + 5 * 3600 + 7 * 60 + 9), "3d 5h07m09s");
    }

    #[test]
    fn field_order_and_names_are_upstreams() {
        // the names of upstream 2.6.12's `show info`, in order
        const NAMES: &str = "Name Version Release_date Nbthread Nbproc Process_num Pid Uptime Uptime_sec Memmax_MB PoolAlloc_MB PoolUsed_MB PoolFailed Ulimit-n Maxsock Maxconn Hard_maxconn CurrConns CumConns CumReq MaxSslConns CurrSslConns CumSslConns Maxpipes PipesUsed PipesFree ConnRate ConnRateLimit MaxConnRate SessRate SessRateLimit MaxSessRate SslRate SslRateLimit MaxSslRate SslFrontendKeyRate SslFrontendMaxKeyRate SslFrontendSessionReuse_pct SslBackendKeyRate SslBackendMaxKeyRate SslCacheLookups SslCacheMisses CompressBpsIn CompressBpsOut CompressBpsRateLim Tasks Run_queue Idle_pct node Stopping Jobs Unstoppable_Jobs Listeners ActivePeers ConnectedPeers DroppedLogs BusyPolling FailedResolutions TotalBytesOut TotalSplicdedBytesOut BytesOutRate DebugCommandsIssued CumRecvLogs Build_info Memmax_bytes PoolAlloc_bytes PoolUsed_bytes Start_time_sec Tainted";
        let out = show_info(&InfoSnap::default());
        let names: Vec<String> = out
            .lines()
            .map(|l| l.split(": ").next().unwrap().replace(' ', "_"))
            .collect();
        assert_eq!(names.join(" "), NAMES);
    }

    #[test]
    fn values() {
        let i = InfoSnap {
            version: "2.6.12-rs".into(),
            nbthread: 1,
            pid: 42,
            uptime_sec: 61,
            maxconn: 1000,
            cum_conns: 2,
            cum_req: 2,
            node: "vm".into(),
            ..InfoSnap::default()
        };
        let out = show_info(&i);
        assert!(out.starts_with("Name: HAProxy\nVersion: 2.6.12-rs\n"));
        assert!(out.contains("\nPid: 42\nUptime: 0d 0h01m01s\nUptime_sec: 61\n"));
        assert!(out.contains(
            "\nMaxconn: 1000\nHard_maxconn: 1000\nCurrConns: 0\nCumConns: 2\nCumReq: 2\n"
        ));
        assert!(out.contains("\nnode: vm\nStopping: 0\n"));
        assert!(out.ends_with("\nBuild info: 2.6.12-rs\nMemmax_bytes: 0\nPoolAlloc_bytes: 0\nPoolUsed_bytes: 0\nStart_time_sec: 0\nTainted: 0\n"));
    }
}
