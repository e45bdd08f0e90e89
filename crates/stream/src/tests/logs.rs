//! Traffic logs (`log.c`: `strm_log`, `__send_log`, `build_log_header`): every header
//! format, `len`, the message limit, levels and facilities, `log global`, several targets,
//! `option httplog`/`tcplog`/`log-format`, the "Connect from" line, `option dontlognull`.
//! The expected bytes were compared with haproxy 2.6.12's datagrams.

use super::http::{get, ok, rsp};
use super::kit::{Kit, LogLine};
use hrs_cfg::model::LogTarget;

/// A frontend answering 200 by itself with log lines `logs` and `extra` lines.
fn cfg(global: &str, logs: &str, extra: &str) -> String {
    let mut s = String::from("global\n");
    for l in global.lines().filter(|l| !l.trim().is_empty()) {
        s.push_str(&format!("    {}\n", l.trim()));
    }
    s.push_str(
        "defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
",
    );
    for l in logs
        .lines()
        .chain(extra.lines())
        .filter(|l| !l.trim().is_empty())
    {
        s.push_str(&format!("    {}\n", l.trim()));
    }
    s.push_str("    default_backend be\nbackend be\n    server s1 10.0.0.1:80\n");
    s
}

const MSG_FMT: &str = "log-format \"%ST %ts hello\"";

/// Runs one request answered 200 by the server; returns the log lines captured.
fn one_request(k: &mut Kit) -> Vec<LogLine> {
    let c = k.client();
    c.send(&get("/"));
    k.run();
    k.srv(0).take();
    k.srv(0).send(&ok("abc"));
    k.run();
    assert_eq!(rsp(&c.take()).status(), 200);
    k.take_logs_raw()
}

fn lines(text: &str, logs: &str, extra: &str) -> Vec<LogLine> {
    let mut k = Kit::new(&cfg(text, logs, extra));
    one_request(&mut k)
}

fn udp() -> LogTarget {
    LogTarget::Udp("127.0.0.1:514".parse().unwrap())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Checks `Mmm dd hh:mm:ss ` at the start of `s`; returns the rest.
fn legacy_date(s: &str) -> &str {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(s.len() > 16, "{s:?}");
    assert!(MONTHS.contains(&&s[..3]), "month in {s:?}");
    let b = s.as_bytes();
    assert_eq!(b[3], b' ', "{s:?}");
    assert!(b[4] == b' ' || b[4].is_ascii_digit(), "day in {s:?}");
    assert!(b[5].is_ascii_digit(), "day in {s:?}");
    assert_eq!(&s[6..7], " ");
    time(&s[7..15]);
    assert_eq!(&s[15..16], " ", "{s:?}");
    &s[16..]
}

fn time(t: &str) {
    let b = t.as_bytes();
    assert_eq!(b.len(), 8, "{t:?}");
    for (i, c) in b.iter().enumerate() {
        if i == 2 || i == 5 {
            assert_eq!(*c, b':', "{t:?}");
        } else {
            assert!(c.is_ascii_digit(), "{t:?}");
        }
    }
}

/// Checks `YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm ` at the start of `s`; returns the rest.
fn iso_date(s: &str) -> &str {
    let b = s.as_bytes();
    assert!(b.len() > 33, "{s:?}");
    for (i, c) in b[..33].iter().enumerate() {
        let want = match i {
            4 | 7 => Some(b'-'),
            10 => Some(b'T'),
            13 | 16 | 29 => Some(b':'),
            19 => Some(b'.'),
            26 => None, // sign
            32 => Some(b' '),
            _ => {
                assert!(c.is_ascii_digit(), "position {i} of {s:?}");
                continue;
            }
        };
        match want {
            Some(w) => assert_eq!(*c, w, "position {i} of {s:?}"),
            None => assert!(*c == b'+' || *c == b'-', "offset sign in {s:?}"),
        }
    }
    &s[33..]
}

fn pid() -> u32 {
    std::process::id()
}

#[test]
fn default_format_is_rfc3164_without_host_name() {
    let l = lines("", "log 127.0.0.1 local0", MSG_FMT);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].0, udp(), "no port: syslog's 514");
    let s = text(&l[0].1);
    let rest = s.strip_prefix("<134>").expect("local0.info = 16*8+6");
    let rest = legacy_date(rest);
    assert_eq!(rest, format!("haproxy[{}]: 200 -- hello\n", pid()));
}

#[test]
fn rfc3164_has_a_host_name_field() {
    let l = lines("", "log 127.0.0.1 format rfc3164 local0", MSG_FMT);
    let s = text(&l[0].1);
    let rest = legacy_date(s.strip_prefix("<134>").unwrap());
    assert_eq!(
        rest,
        format!("localhost haproxy[{}]: 200 -- hello\n", pid())
    );
    let l = lines("", "log 127.0.0.1 format local local0", MSG_FMT);
    let s = text(&l[0].1);
    let rest = legacy_date(s.strip_prefix("<134>").unwrap());
    assert_eq!(rest, format!("haproxy[{}]: 200 -- hello\n", pid()), "local");
}

#[test]
fn rfc5424_header() {
    let l = lines("", "log 127.0.0.1 format rfc5424 local0", MSG_FMT);
    let s = text(&l[0].1);
    let rest = s
        .strip_prefix("<134>1 ")
        .expect("RFC 5424: PRI and VERSION 1");
    let rest = iso_date(rest);
    // HOSTNAME (nil: no log-send-hostname) APP-NAME PROCID MSGID STRUCTURED-DATA
    assert_eq!(rest, format!("- haproxy {} - - 200 -- hello\n", pid()));
}

#[test]
fn short_priority_timed_iso_raw() {
    let l = lines("", "log 127.0.0.1 format short local0", MSG_FMT);
    assert_eq!(text(&l[0].1), "<6>200 -- hello\n", "short: the level only");
    let l = lines("", "log 127.0.0.1 format priority local0", MSG_FMT);
    assert_eq!(text(&l[0].1), "<134>200 -- hello\n");
    let l = lines("", "log 127.0.0.1 format raw local0", MSG_FMT);
    assert_eq!(text(&l[0].1), "200 -- hello\n");
    let l = lines("", "log 127.0.0.1 format timed local0", MSG_FMT);
    let s = text(&l[0].1);
    assert_eq!(iso_date(s.strip_prefix("<6>").unwrap()), "200 -- hello\n");
    let l = lines("", "log 127.0.0.1 format iso local0", MSG_FMT);
    assert_eq!(iso_date(&text(&l[0].1)), "200 -- hello\n");
}

#[test]
fn facility_and_level() {
    for (fac, pri) in [("kern", 6), ("user", 14), ("daemon", 30), ("local7", 190)] {
        let l = lines("", &format!("log 127.0.0.1 format priority {fac}"), MSG_FMT);
        assert_eq!(text(&l[0].1), format!("<{pri}>200 -- hello\n"), "{fac}");
    }
    // traffic logs are `info`: a target whose level is more severe drops them
    for (lvl, sent) in [
        ("emerg", false),
        ("err", false),
        ("notice", false),
        ("info", true),
        ("debug", true),
    ] {
        let l = lines(
            "",
            &format!("log 127.0.0.1 format priority local0 {lvl}"),
            MSG_FMT,
        );
        assert_eq!(l.len(), usize::from(sent), "level {lvl}");
    }
    // a minimum level caps the severity: info is sent as debug
    let l = lines(
        "",
        "log 127.0.0.1 format priority local0 debug debug",
        MSG_FMT,
    );
    assert_eq!(text(&l[0].1), "<135>200 -- hello\n");
    let l = lines(
        "",
        "log 127.0.0.1 format priority local0 info emerg",
        MSG_FMT,
    );
    assert_eq!(text(&l[0].1), "<134>200 -- hello\n");
}

const LONG_FMT: &str =
    "log-format \"%ST %ts abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz\"";
const LONG_MSG: &str =
    "200 -- abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz";

#[test]
fn len_cuts_the_line_header_included() {
    // over UDP: header + message cut at `len`, then the newline
    let l = lines("", "log 127.0.0.1 len 80 local0", LONG_FMT);
    let s = text(&l[0].1);
    assert_eq!(s.len(), 81, "{s:?}");
    assert!(s.ends_with('\n'));
    let rest = legacy_date(s.strip_prefix("<134>").unwrap());
    let msg = rest.strip_prefix(&format!("haproxy[{}]: ", pid())).unwrap();
    assert!(LONG_MSG.starts_with(msg.trim_end_matches('\n')), "{msg:?}");
    let l = lines("", "log 127.0.0.1 len 80 format rfc5424 local0", LONG_FMT);
    assert_eq!(l[0].1.len(), 81);
    let l = lines("", "log 127.0.0.1 len 80 format short local0", LONG_FMT);
    assert_eq!(text(&l[0].1), format!("<6>{}\n", &LONG_MSG[..77]));
    // on stdout the newline counts in `len`
    let l = lines("", "log stdout len 80 format short local0", LONG_FMT);
    assert_eq!(l[0].0, LogTarget::Stdout);
    assert_eq!(text(&l[0].1), format!("<6>{}\n", &LONG_MSG[..76]));
    // a line shorter than `len` is whole
    let l = lines("", "log 127.0.0.1 len 200 format short local0", LONG_FMT);
    assert_eq!(text(&l[0].1), format!("<6>{LONG_MSG}\n"));
}

#[test]
fn the_message_keeps_at_most_the_longest_len_minus_one() {
    // raw, len 80: the rendered message is cut at 79 (the only logger's len - 1)
    let l = lines("", "log 127.0.0.1 len 80 format raw local0", LONG_FMT);
    assert_eq!(text(&l[0].1), format!("{}\n", &LONG_MSG[..79]));
    // another logger with a longer len raises the limit for all
    let l = lines(
        "log 127.0.0.2 len 1000 local0",
        "log 127.0.0.1 len 80 format raw local0",
        LONG_FMT,
    );
    assert_eq!(
        l.len(),
        1,
        "the global logger is not used without `log global`"
    );
    assert_eq!(text(&l[0].1), format!("{}\n", &LONG_MSG[..80]));
}

#[test]
fn log_global_uses_the_global_targets() {
    let g = "log 127.0.0.2:1514 format raw local1\nlog stderr format short local2";
    let l = lines(g, "log global", MSG_FMT);
    let mut got: Vec<_> = l.iter().map(|(t, b)| (format!("{t:?}"), text(b))).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("Stderr".to_string(), "<6>200 -- hello\n".to_string()),
            (
                "Udp(127.0.0.2:1514)".to_string(),
                "200 -- hello\n".to_string()
            ),
        ]
    );
    // own targets and the global ones
    let l = lines(g, "log global\nlog stdout format raw local0", MSG_FMT);
    assert_eq!(l.len(), 3);
    assert!(l.iter().any(|(t, _)| *t == LogTarget::Stdout));
    // without `log global`, only the own ones
    let l = lines(g, "log stdout format raw local0", MSG_FMT);
    assert_eq!(l.len(), 1);
    // `log global` in defaults is inherited
    let text_cfg = cfg(g, "", MSG_FMT).replace("defaults\n", "defaults\n    log global\n");
    let mut k = Kit::new(&text_cfg);
    assert_eq!(one_request(&mut k).len(), 2);
}

#[test]
fn no_target_no_line() {
    let l = lines("log 127.0.0.2 local0", "", MSG_FMT);
    assert!(l.is_empty());
}

#[test]
fn httplog_line() {
    let l = lines("", "log stdout format raw local0", "option httplog");
    let s = text(&l[0].1);
    // %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
    // %sq/%bq %hr %hs %{+Q}r
    let f: Vec<&str> = s.trim_end().split(' ').collect();
    assert_eq!(f.len(), 15, "{s:?}");
    assert!(f[0].starts_with("192.0.2.10:"), "{s:?}");
    assert!(f[1].starts_with('[') && f[1].ends_with(']'), "{s:?}");
    assert_eq!(&f[2..4], ["fe", "be/s1"]);
    assert_eq!(f[4].split('/').count(), 5, "timers {s:?}");
    assert_eq!(f[5], "200");
    let bytes: u64 = f[6].parse().unwrap();
    assert!(bytes > 3, "{s:?}");
    assert_eq!(&f[7..10], ["-", "-", "----"]);
    assert_eq!(f[10], "1/1/0/0/0", "{s:?}");
    assert_eq!(f[11], "0/0");
    assert_eq!(&f[12..], ["\"GET", "/", "HTTP/1.1\""]);
}

#[test]
fn tcplog_line() {
    let text_cfg = "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    option tcplog
    default_backend be
backend be
    server s1 10.0.0.1:80
";
    let mut k = Kit::new(text_cfg);
    let c = k.client();
    c.send(b"ping");
    k.run();
    let s = k.srv(0);
    assert_eq!(s.take(), b"ping");
    s.send(b"pong!");
    s.shutw();
    k.run();
    assert_eq!(c.take(), b"pong!");
    c.shutw();
    k.run();
    let l = k.logs();
    assert_eq!(l.len(), 1, "{l:?}");
    // %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
    let f: Vec<&str> = l[0].split(' ').collect();
    assert_eq!(f.len(), 9, "{l:?}");
    assert!(f[0].starts_with("192.0.2.10:"));
    assert_eq!(&f[2..4], ["fe", "be/s1"]);
    assert_eq!(f[4].split('/').count(), 3);
    assert_eq!(f[5], "5", "bytes from the server");
    assert_eq!(f[6], "--");
    assert_eq!(f[8], "0/0");
}

#[test]
fn connect_from_line_per_stream_without_log_format() {
    let mut k = Kit::new(&cfg("", "log stdout format raw local0", ""));
    let idle = k.client();
    k.run();
    assert!(k.logs().is_empty(), "no stream yet, no line");
    drop(idle);
    let c = k.client();
    c.send(&get("/"));
    k.run();
    assert_eq!(
        k.logs(),
        ["Connect from 192.0.2.10:40002 to 127.0.0.1:8080 (fe/HTTP)"]
    );
    k.srv(0).send(&ok(""));
    k.run();
    c.send(&get("/"));
    k.run();
    assert_eq!(k.logs().len(), 1, "each request's stream logs it");
}

#[test]
fn dontlognull_skips_tcp_streams_without_data() {
    let text_cfg = |opt: &str| {
        format!(
            "
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:8080
    log stdout format raw local0
    log-format \"%B %U %ts\"
    {opt}
    default_backend be
backend be
    server s1 10.0.0.1:80
"
        )
    };
    for (opt, data, logged) in [
        ("option dontlognull", false, false),
        ("option dontlognull", true, true),
        ("", false, true),
    ] {
        let mut k = Kit::new(&text_cfg(opt));
        let c = k.client();
        if data {
            c.send(b"x");
        }
        c.shutw();
        k.run();
        k.srv(0).shutw();
        k.run();
        assert_eq!(k.nb_streams(), 0);
        assert_eq!(k.logs().len(), usize::from(logged), "{opt:?} data={data}");
    }
}

#[test]
fn several_targets_each_with_its_format() {
    let l = lines(
        "",
        "log 127.0.0.1:600 format raw local0\nlog 127.0.0.1:601 format short local3\nlog stdout format priority local1",
        MSG_FMT,
    );
    let got: Vec<_> = l.iter().map(|(t, b)| (format!("{t:?}"), text(b))).collect();
    assert_eq!(
        got,
        [
            (
                "Udp(127.0.0.1:600)".to_string(),
                "200 -- hello\n".to_string()
            ),
            (
                "Udp(127.0.0.1:601)".to_string(),
                "<6>200 -- hello\n".to_string()
            ),
            ("Stdout".to_string(), "<142>200 -- hello\n".to_string()),
        ]
    );
}
