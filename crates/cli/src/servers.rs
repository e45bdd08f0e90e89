//! `show servers conn` and `show servers state` (HAProxy 2.6's `dump_servers_state` and
//! its connection variant in `server.c`/`proxy.c`).
//!
//! Owns the two headers and line formats. Every proxy with a backend is listed, disabled
//! ones included (as upstream does), optionally only one. Pure: works on
//! [`crate::snapshot`] structs.

use crate::snapshot::PxSnap;

/// Version line of the `show servers state` format.
const STATE_VERSION: &str = "1\n";
/// The column names of `show servers state`.
const STATE_HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// `show servers conn [<backend>]`: the header (with `nbthread` per-thread columns), then
/// one line per server of the backends in `proxies` (already restricted by the caller).
pub fn show_servers_conn(proxies: &[&PxSnap], nbthread: u32) -> String {
    let mut out = format!(
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[{nbthread}]\n"
    );
    for px in proxies.iter().filter(|p| p.be.is_some()) {
        for s in &px.servers {
            let idle_cur = s.idle + s.safe;
            out.push_str(&format!(
                "{}/{} {}/{} {} {} - {} {} {} {} {} {} {} {}",
                px.name,
                s.name,
                px.iid,
                s.sid,
                s.ip,
                s.port,
                s.purge_delay,
                s.used,
                s.max_used,
                s.need,
                s.idle,
                s.safe,
                s.pool_max,
                idle_cur
            ));
            // no per-thread counts when the server keeps no idle connection (upstream
            // allocates `curr_idle_thr` only with `pool-max-conn` not 0)
            if s.pool_max != 0 {
                for t in 0..nbthread as usize {
                    out.push_str(&format!(" {}", s.idle_thr.get(t).copied().unwrap_or(0)));
                }
            }
            out.push('\n');
        }
    }
    out
}

/// `show servers state [<backend>]`: the format version, the header, then one line per
/// server. `proxies` is already restricted by the caller.
pub fn show_servers_state(proxies: &[&PxSnap]) -> String {
    let mut out = String::from(STATE_VERSION);
    out.push_str(STATE_HEADER);
    for px in proxies.iter().filter(|p| p.be.is_some()) {
        for s in &px.servers {
            out.push_str(&format!(
                "{} {} {} {} {} {} {} {} {} {} 1 0 {} {} 0 0 0 - {} - 0 0 - - 0\n",
                px.iid,
                px.name,
                s.sid,
                s.name,
                s.ip,
                if s.running() { 2 } else { 0 },
                s.admin_flags(),
                s.weight,
                s.weight,
                s.lastchg,
                s.health(),
                s.check_state(),
                s.port
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Admin, BeSnap, SrvSnap};
    use hrs_core::Counters;

    fn srv(name: &str, sid: u32, port: u16) -> SrvSnap {
        SrvSnap {
            lastchg: 35,
            ..crate::snapshot::test_srv(name, sid, port)
        }
    }

    fn backend(name: &str, iid: u32, servers: Vec<SrvSnap>) -> PxSnap {
        PxSnap {
            name: name.into(),
            iid,
            http: true,
            disabled: false,
            fe: None,
            be: Some(BeSnap {
                qcur: 0,
                qmax: 0,
                scur: 0,
                smax: 0,
                slim: 1,
                counters: Counters::default(),
                algo: "roundrobin",
                down_trans: 0,
                lastchg: 0,
                downtime: 0,
                lastsess: -1,
            }),
            servers,
        }
    }

    #[test]
    fn conn_lines_match_upstream() {
        let mut s2 = srv("s2", 2, 18082);
        s2.pool_max = 10;
        let mut k1 = srv("k1", 1, 18086);
        k1.purge_delay = 2000;
        let mut six = srv("s6", 3, 0);
        six.ip = "::1".into();
        six.ipv6 = true;
        (six.idle, six.safe, six.used, six.max_used, six.need) = (1, 2, 3, 4, 5);
        six.idle_thr = vec![3];
        let be = backend("be", 3, vec![srv("s1", 1, 18081), s2, six]);
        let bk = backend("bk", 4, vec![k1]);
        let out = show_servers_conn(&[&be, &bk], 1);
        assert_eq!(
            out,
            "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n\
             be/s1 3/1 127.0.0.1 18081 - 5000 0 0 0 0 0 -1 0 0\n\
             be/s2 3/2 127.0.0.1 18082 - 5000 0 0 0 0 0 10 0 0\n\
             be/s6 3/3 ::1 0 - 5000 3 4 5 1 2 -1 3 3\n\
             bk/k1 4/1 127.0.0.1 18086 - 2000 0 0 0 0 0 -1 0 0\n"
        );
    }

    #[test]
    fn conn_lines_have_one_column_per_thread_unless_pool_max_is_0() {
        let mut s1 = srv("s1", 1, 18081);
        (s1.idle, s1.safe) = (1, 2);
        s1.idle_thr = vec![0, 2, 0, 1];
        let mut s2 = srv("s2", 2, 18082);
        s2.pool_max = 0;
        let be = backend("be", 3, vec![s1, s2]);
        assert_eq!(
            show_servers_conn(&[&be], 4),
            "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[4]\n\
             be/s1 3/1 127.0.0.1 18081 - 5000 0 0 0 1 2 -1 3 0 2 0 1\n\
             be/s2 3/2 127.0.0.1 18082 - 5000 0 0 0 0 0 0 0\n"
        );
    }

    #[test]
    fn state_lines_match_upstream() {
        let mut s1 = srv("s1", 1, 18081);
        s1.admin = Admin::Drain;
        let mut s2 = srv("s2", 2, 18082);
        s2.weight = 5;
        s2.admin = Admin::Maint;
        s2.health_zero = true;
        let mut s3 = srv("s3", 3, 18083);
        s3.admin = Admin::Maint;
        s3.cfg_disabled = true;
        s3.health_zero = true;
        let mut s4 = srv("s4", 4, 18084);
        s4.cfg_disabled = true;
        s4.health_zero = true;
        let be = backend("be", 3, vec![s1, s2, s3, s4]);
        let out = show_servers_state(&[&be]);
        assert_eq!(
            out,
            "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n\
             3 be 1 s1 127.0.0.1 2 8 1 1 35 1 0 2 0 0 0 0 - 18081 - 0 0 - - 0\n\
             3 be 2 s2 127.0.0.1 0 1 5 5 35 1 0 0 0 0 0 0 - 18082 - 0 0 - - 0\n\
             3 be 3 s3 127.0.0.1 0 5 1 1 35 1 0 0 8 0 0 0 - 18083 - 0 0 - - 0\n\
             3 be 4 s4 127.0.0.1 2 4 1 1 35 1 0 0 8 0 0 0 - 18084 - 0 0 - - 0\n"
        );
    }

    #[test]
    fn empty_backend_prints_headers_only() {
        let e = backend("empty", 5, Vec::new());
        assert!(show_servers_conn(&[&e], 1).ends_with("idle_per_thr[1]\n"));
        assert!(show_servers_state(&[&e]).ends_with("srv_agent_port\n"));
    }
}
