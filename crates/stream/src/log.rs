//! Traffic logs of streams (HAProxy's `log.c`: `strm_log`, `sess_log`, `__send_log`): the
//! frontend's log-format rendered at the end of each stream, or the default "Connect from"
//! line when each stream starts (`frontend_accept`), sent to the proxy's log targets (plus
//! the global ones with `log global`).
//!
//! Targets: UDP syslog or stdout/stderr, with upstream's headers: `local` (the default,
//! `<PRI>Mmm dd hh:mm:ss haproxy[pid]: msg`), `rfc3164` (the same with a host name field),
//! `rfc5424`, `priority` (`<PRI>msg`), `short` (`<LEVEL>msg`), `timed`, `iso` and `raw` (the
//! message alone). Traffic logs have level `info`. A line is cut at the target's `len`.

use crate::rules::{local_tm, StrmCtx};
use hrs_cfg::model::{LogFormat, LogSpec, LogTarget};
use hrs_core::{sf, PxId, StrmId, World};
use hrs_list::Stale;
use std::io::Write;

/// Syslog level of traffic logs (`LOG_INFO`).
const LOG_INFO: u8 = 6;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The targets of proxy `px`: its own `log` lines, then the global ones with `log global`.
fn targets(w: &World, px: PxId) -> Vec<LogSpec> {
    let cfg = &w.sh.proxies[px].cfg;
    let mut v = cfg.logs.clone();
    if cfg.log_global {
        v.extend(w.sh.global.logs.iter().cloned());
    }
    v
}

/// Emits the log line of stream `sid` if its frontend has a log format and targets, once
/// (`sf::LOGGED`), unless `option dontlognull` applies (nothing received from the client:
/// `mode tcp` only, since an HTTP stream exists only once a request arrived).
///
/// # Errors
/// [`Stale`]: `sid` is not live.
pub fn stream_log(w: &mut World, sid: StrmId) -> Result<(), Stale> {
    let s = w.streams.live_mut(sid)?;
    if s.flags & (sf::NO_LOG | sf::LOGGED) != 0 {
        return Ok(());
    }
    s.flags |= sf::LOGGED;
    let (fe, received) = (s.fe, s.req.total);
    // `option dontlognull`: a stream that received nothing from the client is not logged
    if w.sh.proxies[fe].cfg.options.dontlognull && received == 0 {
        return Ok(());
    }
    let rules = std::rc::Rc::clone(&w.rules[fe]);
    let Some(fmt) = rules.log_format() else {
        return Ok(());
    };
    let tg = targets(w, fe);
    if tg.is_empty() {
        return Ok(());
    }
    let mut msg = Vec::with_capacity(256);
    fmt.render(&StrmCtx::new(w, sid)?, &mut msg);
    send_log(w, &tg, LOG_INFO, &msg);
    Ok(())
}

/// Emits the default line of a frontend without a log format (`Connect from <ip>:<port>
/// to <ip>:<port> (<fe>/<MODE>)`), when a stream starts: once per request in HTTP, none
/// for a connection that never sent one (upstream's `frontend_accept`).
pub fn sess_log_connect(
    w: &mut World,
    fe: PxId,
    src: Option<std::net::SocketAddr>,
    dst: Option<std::net::SocketAddr>,
) {
    if w.rules[fe].log_format().is_some() {
        return;
    }
    let tg = targets(w, fe);
    if tg.is_empty() {
        return;
    }
    let cfg = &w.sh.proxies[fe].cfg;
    let mode = if cfg.mode == hrs_cfg::model::Mode::Http {
        "HTTP"
    } else {
        "TCP"
    };
    let fmt_addr = |a: Option<std::net::SocketAddr>| match a {
        Some(a) => format!("{}:{}", a.ip(), a.port()),
        None => "-:-".to_string(),
    };
    let msg = format!(
        "Connect from {} to {} ({}/{mode})",
        fmt_addr(src),
        fmt_addr(dst),
        cfg.name
    );
    send_log(w, &tg, LOG_INFO, msg.as_bytes());
}

/// Sends `msg` at `level` to every target whose level admits it (`__send_log`,
/// `__do_send_log`): the message keeps at most `max_syslog_len - 1` bytes, a target's
/// `minlevel` caps the severity (the level sent is the less severe of both), the header
/// follows the target's format, and the line is cut at the target's `len` (header
/// included: `len` bytes over UDP, `len - 1` on stdout/stderr), then ends with a newline.
fn send_log(w: &mut World, targets: &[LogSpec], level: u8, msg: &[u8]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let tm = local_tm(now.as_secs() as i64);
    let pid = std::process::id();
    let max = w.sh.global.max_syslog_len;
    let msg = &msg[..msg.len().min(if max == 0 { usize::MAX } else { max - 1 })];
    for t in targets {
        if level > t.level {
            continue;
        }
        let level = level.max(t.minlevel);
        let pri = u32::from(t.facility) * 8 + u32::from(level);
        let mut line = Vec::with_capacity(msg.len() + 64);
        let legacy_date = |line: &mut Vec<u8>| {
            let _ = write!(
                line,
                "{} {:2} {:02}:{:02}:{:02} ",
                MONTHS[usize::from(tm.mon.min(11))],
                tm.mday,
                tm.hour,
                tm.min,
                tm.sec
            );
        };
        let iso_date = |line: &mut Vec<u8>| {
            let off = tm.gmtoff;
            let _ = write!(
                line,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02} ",
                tm.year,
                tm.mon + 1,
                tm.mday,
                tm.hour,
                tm.min,
                tm.sec,
                now.subsec_micros(),
                if off < 0 { '-' } else { '+' },
                off.abs() / 3600,
                off.abs() % 3600 / 60,
            );
        };
        match t.format {
            LogFormat::Raw => {}
            LogFormat::Short => {
                let _ = write!(line, "<{level}>");
            }
            LogFormat::Priority => {
                let _ = write!(line, "<{pri}>");
            }
            LogFormat::Timed => {
                let _ = write!(line, "<{level}>");
                iso_date(&mut line);
            }
            LogFormat::Iso => iso_date(&mut line),
            LogFormat::Local => {
                let _ = write!(line, "<{pri}>");
                legacy_date(&mut line);
                let _ = write!(line, "haproxy[{pid}]: ");
            }
            LogFormat::Rfc3164 => {
                // the host name field is mandatory: `localhost` without `log-send-hostname`
                let _ = write!(line, "<{pri}>");
                legacy_date(&mut line);
                let _ = write!(line, "localhost haproxy[{pid}]: ");
            }
            LogFormat::Rfc5424 => {
                // no `log-send-hostname`: the nil host name
                let _ = write!(line, "<{pri}>1 ");
                iso_date(&mut line);
                let _ = write!(line, "- haproxy {pid} - - ");
            }
        }
        line.extend_from_slice(msg);
        let max = match t.target {
            LogTarget::Udp(_) => t.maxlen,
            LogTarget::Stdout | LogTarget::Stderr => t.maxlen.saturating_sub(1),
        };
        line.truncate(max);
        line.push(b'\n');
        emit(w, &t.target, &line);
    }
}

/// Delivers one log line to `target`, as upstream with its trailing newline (also in a UDP
/// datagram). In unit tests, the line is captured instead when the test kit asks for it.
fn emit(w: &mut World, target: &LogTarget, out: &[u8]) {
    #[cfg(test)]
    if crate::tests::kit::capture_log(target, out) {
        return;
    }
    match target {
        LogTarget::Stdout => {
            let _ = std::io::stdout().lock().write_all(out);
        }
        LogTarget::Stderr => {
            let _ = std::io::stderr().lock().write_all(out);
        }
        LogTarget::Udp(addr) => {
            if w.log_sock.is_none() {
                let bind: std::net::SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                w.log_sock = std::net::UdpSocket::bind(bind).ok();
                if let Some(s) = &w.log_sock {
                    let _ = s.set_nonblocking(true);
                }
            }
            if let Some(s) = &w.log_sock {
                let _ = s.send_to(out, addr);
            }
        }
    }
}
