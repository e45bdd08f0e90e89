//! `show stat`: the CSV statistics of every proxy, HAProxy 2.6's 129 columns in their order
//! (`stats_dump_fields_csv` over `stat_fields`, then the `ssl`, `h2` and `h1` module
//! columns after the `-` separator), with the filters of `cli_parse_show_stat`.
//!
//! Owns the column list, what each row type (frontend, backend, server; HTTP or TCP mode)
//! prints in each column, and the row selection. Values the runtime does not measure print
//! what upstream prints for a fresh process (`0` or empty). Pure: works on
//! [`crate::snapshot`] structs.

use crate::snapshot::{Admin, PxSnap, SrvSnap};

/// The CSV columns, in upstream's order (the header line is `# ` + these joined by `,` + `,`).
pub const COLUMNS: &[&str] = &[
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];

/// Row types of the `type` filter (`1 << STATS_TYPE_*`).
pub const TYPE_FE: i64 = 1;
pub const TYPE_BE: i64 = 2;
pub const TYPE_SV: i64 = 4;

/// Which rows `show stat` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatFilter {
    /// `<iid> <type> <sid>` given (`STAT_BOUND`): proxy uuid (-1: all), row types, server id
    /// (-1: all).
    pub bound: Option<(i64, i64, i64)>,
    /// `no-maint`: servers in maintenance are hidden.
    pub hide_maint: bool,
    /// `up`: only servers that are up are shown.
    pub hide_down: bool,
    /// Server addresses and backend algorithms are shown (`STAT_SHLGNDS`: sessions of
    /// level operator or admin).
    pub legends: bool,
}

impl StatFilter {
    /// Every row.
    pub fn all() -> StatFilter {
        StatFilter {
            bound: None,
            hide_maint: false,
            hide_down: false,
            legends: true,
        }
    }

    fn px_ok(&self, iid: u32) -> bool {
        match self.bound {
            Some((id, _, _)) => id == -1 || id == i64::from(iid),
            None => true,
        }
    }

    fn type_ok(&self, t: i64) -> bool {
        self.bound.is_none_or(|(_, types, _)| types & t != 0)
    }
}

/// The CSV header line.
pub fn header() -> String {
    let mut h = String::from("# ");
    for c in COLUMNS {
        h.push_str(c);
        h.push(',');
    }
    h.push('\n');
    h
}

/// The whole `show stat` output (without the CLI's final empty line): the header, then for
/// each enabled proxy its FRONTEND row, server rows and BACKEND row as they exist and pass
/// `filter`.
pub fn show_stat(proxies: &[PxSnap], filter: &StatFilter) -> String {
    let mut out = header();
    for px in proxies
        .iter()
        .filter(|p| !p.disabled && filter.px_ok(p.iid))
    {
        if px.fe.is_some() && filter.type_ok(TYPE_FE) {
            push_row(&mut out, |c| fe_field(px, c));
        }
        if px.be.is_some() {
            if filter.type_ok(TYPE_SV) {
                for sv in &px.servers {
                    if let Some((_, _, sid)) = filter.bound {
                        if sid != -1 && sid != i64::from(sv.sid) {
                            continue;
                        }
                    }
                    if (filter.hide_maint || filter.hide_down) && sv.admin == Admin::Maint {
                        continue;
                    }
                    push_row(&mut out, |c| match c {
                        "addr" if !filter.legends => String::new(),
                        _ => sv_field(px, sv, c),
                    });
                }
            }
            if filter.type_ok(TYPE_BE) {
                let updown = (filter.hide_maint || filter.hide_down).then(|| {
                    let up = px.servers.iter().filter(|s| s.running()).count();
                    (up, px.servers.len())
                });
                push_row(&mut out, |c| match c {
                    "algo" if !filter.legends => String::new(),
                    _ => be_field(px, updown, c),
                });
            }
        }
    }
    out
}

/// Appends one CSV row: every column's value followed by a comma, then a newline.
fn push_row(out: &mut String, field: impl Fn(&str) -> String) {
    for c in COLUMNS {
        out.push_str(&field(c));
        out.push(',');
    }
    out.push('\n');
}

/// Columns every row type prints the same way.
fn common(c: &str) -> Option<String> {
    Some(
        match c {
            "pid" => "1",
            "-" => "-",
            "ssl_sess" | "ssl_reused_sess" | "ssl_failed_handshake" => "0",
            _ => return None,
        }
        .to_string(),
    )
}

fn n(v: impl std::fmt::Display) -> String {
    v.to_string()
}

/// The HTTP response class counters.
fn hrsp(c: &str, counters: &hrs_core::Counters) -> Option<u64> {
    let i = match c {
        "hrsp_1xx" => 0,
        "hrsp_2xx" => 1,
        "hrsp_3xx" => 2,
        "hrsp_4xx" => 3,
        "hrsp_5xx" => 4,
        "hrsp_other" => 5,
        _ => return None,
    };
    Some(counters.rsp[i])
}

/// A FRONTEND row's column `c` (`stats_fill_fe_stats`).
fn fe_field(px: &PxSnap, c: &str) -> String {
    let Some(fe) = &px.fe else {
        return String::new();
    };
    if let Some(v) = common(c) {
        return v;
    }
    if let Some(v) = hrsp(c, &fe.counters) {
        return if px.http { n(v) } else { String::new() };
    }
    let k = &fe.counters;
    match c {
        "pxname" => px.name.clone(),
        "svname" => "FRONTEND".into(),
        "scur" => n(fe.scur),
        "smax" => n(fe.smax),
        "slim" => n(fe.slim),
        "stot" => n(k.cum_sess),
        "bin" => n(k.bytes_in),
        "bout" => n(k.bytes_out),
        "dreq" => n(k.denied_req),
        "ereq" => n(k.failed_req),
        "status" => if fe.stopped { "STOP" } else { "OPEN" }.into(),
        "iid" => n(px.iid),
        "req_tot" => n(k.cum_req),
        "conn_tot" => n(k.cum_conn),
        "mode" => mode(px).into(),
        "intercepted" | "cache_lookups" | "cache_hits" if !px.http => String::new(),
        "dresp" | "sid" | "type" | "rate" | "rate_lim" | "rate_max" | "req_rate"
        | "req_rate_max" | "comp_in" | "comp_out" | "comp_byp" | "comp_rsp" | "conn_rate"
        | "conn_rate_max" | "intercepted" | "dcon" | "dses" | "wrew" | "cache_lookups"
        | "cache_hits" => "0".into(),
        "eint" => n(k.internal_errors),
        _ if c.starts_with("h2_") || c.starts_with("h1_") => "0".into(),
        _ => String::new(),
    }
}

/// A BACKEND row's column `c` (`stats_fill_be_stats`). `updown` is `(up, total)` servers
/// when `up`/`no-maint` was asked: the status then says ` (up/total)`.
fn be_field(px: &PxSnap, updown: Option<(usize, usize)>, c: &str) -> String {
    let Some(be) = &px.be else {
        return String::new();
    };
    if let Some(v) = common(c) {
        return v;
    }
    if let Some(v) = hrsp(c, &be.counters) {
        return if px.http { n(v) } else { String::new() };
    }
    let k = &be.counters;
    let w = px.weights();
    match c {
        "pxname" => px.name.clone(),
        "svname" => "BACKEND".into(),
        "qcur" => n(be.qcur),
        "qmax" => n(be.qmax),
        "scur" => n(be.scur),
        "smax" => n(be.smax),
        "slim" => n(be.slim),
        "stot" => n(k.be_cum_conn),
        "bin" => n(k.bytes_in),
        "bout" => n(k.bytes_out),
        "dreq" => n(k.denied_req),
        "econ" => n(k.failed_conns),
        "eresp" => n(k.failed_resp),
        "wretr" => n(k.retries),
        "wredis" => n(k.redispatches),
        "status" => {
            let mut s = String::from(if px.be_up() { "UP" } else { "DOWN" });
            if let Some((up, total)) = updown {
                s.push_str(&format!(" ({up}/{total})"));
            }
            s
        }
        "weight" | "uweight" => n(w.weight),
        "act" => n(w.act),
        "bck" => n(w.bck),
        "chkdown" => n(be.down_trans),
        "lastchg" => n(be.lastchg),
        "downtime" if !px.servers.is_empty() => n(be.downtime),
        "iid" => n(px.iid),
        "type" => "1".into(),
        "req_tot" if px.http => n(k.cum_req),
        "lastsess" => n(be.lastsess),
        "mode" => mode(px).into(),
        "algo" => be.algo.into(),
        "connect" => n(k.connect),
        "reuse" => n(k.reuse),
        "eint" => n(k.internal_errors),
        "cache_lookups" | "cache_hits" if px.http => "0".into(),
        "dresp"
        | "sid"
        | "lbtot"
        | "rate"
        | "rate_max"
        | "cli_abrt"
        | "srv_abrt"
        | "comp_in"
        | "comp_out"
        | "comp_byp"
        | "comp_rsp"
        | "qtime"
        | "ctime"
        | "rtime"
        | "ttime"
        | "wrew"
        | "qtime_max"
        | "ctime_max"
        | "rtime_max"
        | "ttime_max"
        | "agg_server_status"
        | "agg_server_check_status"
        | "agg_check_status" => "0".into(),
        _ if c.starts_with("h2_") || c.starts_with("h1_") => "0".into(),
        _ => String::new(),
    }
}

/// A server row's column `c` (`stats_fill_sv_stats`).
fn sv_field(px: &PxSnap, sv: &SrvSnap, c: &str) -> String {
    if let Some(v) = common(c) {
        return v;
    }
    if let Some(v) = hrsp(c, &sv.counters) {
        return if px.http { n(v) } else { String::new() };
    }
    let k = &sv.counters;
    match c {
        "pxname" => px.name.clone(),
        "svname" => sv.name.clone(),
        "qcur" => n(sv.qcur),
        "qmax" => n(sv.qcur),
        "scur" => n(sv.scur),
        "smax" => n(sv.smax),
        "slim" if sv.maxconn > 0 => n(sv.maxconn),
        "stot" => n(k.cum_sess),
        "bin" => n(k.bytes_in),
        "bout" => n(k.bytes_out),
        "econ" => n(k.failed_conns),
        "eresp" => n(k.failed_resp),
        "wretr" => n(k.retries),
        "wredis" => n(k.redispatches),
        "status" => match sv.admin {
            Admin::Maint => "MAINT",
            Admin::Drain => "DRAIN",
            Admin::Ready => "no check",
        }
        .into(),
        "weight" | "uweight" => n(sv.weight),
        "act" => n(u8::from(!sv.backup)),
        "bck" => n(u8::from(sv.backup)),
        "lastchg" => n(sv.lastchg),
        "iid" => n(px.iid),
        "sid" => n(sv.sid),
        "type" => "2".into(),
        "req_tot" if px.http => n(k.cum_req),
        "lastsess" => n(sv.lastsess),
        "addr" => addr(sv),
        "mode" => mode(px).into(),
        "connect" => n(k.connect),
        "reuse" => n(k.reuse),
        "srv_icur" => n(sv.idle + sv.safe),
        "src_ilim" if sv.pool_max >= 0 => n(sv.pool_max),
        "idle_conn_cur" => n(sv.idle),
        "safe_conn_cur" => n(sv.safe),
        "used_conn_cur" => n(sv.used),
        "need_conn_est" => n(sv.need),
        "dresp" | "lbtot" | "rate" | "rate_max" | "cli_abrt" | "srv_abrt" | "qtime" | "ctime"
        | "rtime" | "ttime" | "wrew" | "qtime_max" | "ctime_max" | "rtime_max" | "ttime_max" => {
            "0".into()
        }
        "eint" => n(k.internal_errors),
        _ => String::new(),
    }
}

/// `ip:port`, IPv6 in brackets.
fn addr(sv: &SrvSnap) -> String {
    if sv.ipv6 {
        format!("[{}]:{}", sv.ip, sv.port)
    } else {
        format!("{}:{}", sv.ip, sv.port)
    }
}

fn mode(px: &PxSnap) -> &'static str {
    if px.http {
        "http"
    } else {
        "tcp"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{BeSnap, FeSnap};
    use hrs_core::Counters;

    /// `header()` as upstream 2.6.12 prints it.
    const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

    fn srv(name: &str, sid: u32, port: u16) -> SrvSnap {
        crate::snapshot::test_srv(name, sid, port)
    }

    fn be(algo: &'static str, slim: u32) -> BeSnap {
        BeSnap {
            qcur: 0,
            qmax: 0,
            scur: 0,
            smax: 0,
            slim,
            counters: Counters::default(),
            algo,
            down_trans: 0,
            lastchg: 34,
            downtime: 0,
            lastsess: -1,
        }
    }

    fn fe(slim: u32) -> FeSnap {
        FeSnap {
            scur: 0,
            smax: 0,
            slim,
            counters: Counters::default(),
            stopped: false,
        }
    }

    fn px(name: &str, iid: u32, http: bool) -> PxSnap {
        PxSnap {
            name: name.into(),
            iid,
            http,
            disabled: false,
            fe: None,
            be: None,
            servers: Vec::new(),
        }
    }

    #[test]
    fn header_is_upstreams() {
        assert_eq!(COLUMNS.len(), 128);
        assert_eq!(header(), HEADER);
    }

    #[test]
    fn fresh_http_rows_match_upstream() {
        // rows printed by upstream 2.6.12 for the same configuration, fresh process
        let mut f = px("fe", 2, true);
        f.fe = Some(fe(9984));
        let mut b = px("be", 3, true);
        b.be = Some(be("roundrobin", 999));
        b.servers.push(srv("s1", 1, 18081));
        let mut s2 = srv("s2", 2, 18082);
        s2.weight = 5;
        s2.pool_max = 10;
        b.servers.push(s2);
        let mut s3 = srv("s3", 3, 18083);
        s3.admin = Admin::Maint;
        s3.cfg_disabled = true;
        b.servers.push(s3);
        let out = show_stat(&[f, b], &StatFilter::all());
        let want = [
            "fe,FRONTEND,,,0,0,9984,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
            "be,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,34,,,1,3,1,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18081,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
            "be,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,5,1,0,,,34,,,1,3,2,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18082,,http,,,,,,,,0,0,0,,,0,10,0,0,0,0,0,0,0,0,0,5,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
            "be,s3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,34,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18083,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
            "be,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,6,2,0,,0,34,0,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,6,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
        ];
        let got: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn fresh_tcp_rows_match_upstream() {
        let mut b = px("bt", 4, false);
        b.be = Some(be("first", 5));
        b.servers.push(srv("t1", 1, 18085));
        let mut f = px("ft", 6, false);
        f.fe = Some(fe(50));
        let mut e = px("empty", 5, true);
        e.be = Some(be("roundrobin", 1));
        let out = show_stat(&[b, e, f], &StatFilter::all());
        let want = [
            "bt,t1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,34,,,1,4,1,,0,,2,0,,0,,,,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18085,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
            "bt,BACKEND,0,0,0,0,5,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,34,0,,1,4,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,first,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
            "empty,BACKEND,0,0,0,0,1,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,34,,,1,5,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
            "ft,FRONTEND,,,0,0,50,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,6,0,,,,0,0,0,0,,,,,,,,,,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,0,0,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,",
        ];
        let got: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(got, want);
    }

    fn backend() -> PxSnap {
        let mut b = px("be", 3, true);
        b.be = Some(be("roundrobin", 100));
        let mut s1 = srv("s1", 1, 1);
        s1.admin = Admin::Maint;
        let mut s2 = srv("s2", 2, 2);
        s2.admin = Admin::Drain;
        let mut s4 = srv("s4", 3, 4);
        s4.backup = true;
        s4.weight = 3;
        let mut s5 = srv("s5", 4, 5);
        s5.backup = true;
        s5.weight = 4;
        b.servers = vec![s1, s2, s4, s5];
        b
    }

    fn col(out: &str, row: usize, name: &str) -> String {
        let i = COLUMNS.iter().position(|c| *c == name).unwrap();
        out.lines()
            .nth(row)
            .unwrap()
            .split(',')
            .nth(i)
            .unwrap()
            .to_string()
    }

    #[test]
    fn backend_weight_falls_back_to_first_backup() {
        // upstream: s1 MAINT, s2 DRAIN, backups s4 (3) and s5 (4): weight 3, act 0, bck 2
        let out = show_stat(&[backend()], &StatFilter::all());
        assert_eq!(col(&out, 5, "svname"), "BACKEND");
        assert_eq!(col(&out, 5, "status"), "UP");
        assert_eq!(col(&out, 5, "weight"), "3");
        assert_eq!(col(&out, 5, "act"), "0");
        assert_eq!(col(&out, 5, "bck"), "2");
        assert_eq!(col(&out, 2, "status"), "DRAIN");
        assert_eq!(col(&out, 2, "weight"), "1");
    }

    #[test]
    fn filters() {
        let b = backend();
        let mut f = px("fe", 2, true);
        f.fe = Some(fe(10));
        let all = [f, b];
        let names = |flt: StatFilter| -> Vec<String> {
            show_stat(&all, &flt)
                .lines()
                .skip(1)
                .map(|l| {
                    let v: Vec<&str> = l.split(',').collect();
                    format!("{}/{}/{}", v[0], v[1], v[17])
                })
                .collect()
        };
        let up = StatFilter {
            hide_down: true,
            ..StatFilter::all()
        };
        assert_eq!(
            names(up),
            [
                "fe/FRONTEND/OPEN",
                "be/s2/DRAIN",
                "be/s4/no check",
                "be/s5/no check",
                "be/BACKEND/UP (3/4)"
            ]
        );
        let bound = |id, t, s| StatFilter {
            bound: Some((id, t, s)),
            ..StatFilter::all()
        };
        assert_eq!(names(bound(3, 4, -1)).len(), 4);
        assert_eq!(names(bound(3, 2, -1)), ["be/BACKEND/UP"]);
        assert_eq!(
            names(bound(-1, 3, 2)),
            ["fe/FRONTEND/OPEN", "be/BACKEND/UP"]
        );
        assert_eq!(names(bound(3, 4, 2)), ["be/s2/DRAIN"]);
        assert!(names(bound(99, 7, -1)).is_empty());
    }

    #[test]
    fn user_level_hides_addresses_and_algorithms() {
        let b = backend();
        let flt = StatFilter {
            legends: false,
            ..StatFilter::all()
        };
        let out = show_stat(&[b], &flt);
        assert_eq!(col(&out, 1, "addr"), "");
        assert_eq!(col(&out, 5, "algo"), "");
        let out = show_stat(&[backend()], &StatFilter::all());
        assert_eq!(col(&out, 1, "addr"), "127.0.0.1:1");
        assert_eq!(col(&out, 5, "algo"), "roundrobin");
    }

    #[test]
    fn disabled_proxies_are_not_listed() {
        let mut d = px("dis", 5, true);
        d.disabled = true;
        d.fe = Some(fe(1));
        assert_eq!(show_stat(&[d], &StatFilter::all()), HEADER);
    }

    #[test]
    fn ipv6_and_portless_addresses() {
        let mut s = srv("s", 1, 0);
        assert_eq!(addr(&s), "127.0.0.1:0");
        s.ip = "::1".into();
        s.ipv6 = true;
        s.port = 18082;
        assert_eq!(addr(&s), "[::1]:18082");
    }
}
