//! The syslog target of a scenario (`${SYSLOG}`): a UDP socket the harness binds on
//! 127.0.0.1 and reads once the client script is done.
//!
//! Each datagram is one log message in RFC 3164 form, `<PRI>Mmm dd hh:mm:ss
//! [hostname ]tag[pid]: message`. The header (priority, timestamp, hostname, tag) changes
//! from run to run and is stripped; the message is kept as is. Scenarios make their
//! messages deterministic with a `log-format` of stable fields only (`%ST %tsc %rc %b/%s`),
//! so no other normalization is done.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// How long after the client script log messages may still arrive.
pub const LOG_WAIT: Duration = Duration::from_millis(300);
/// Messages kept at most (more are counted, not recorded).
const MAX_MESSAGES: usize = 1000;

/// The bound syslog socket.
pub struct Syslog(UdpSocket);

impl Syslog {
    pub fn bind() -> std::io::Result<Syslog> {
        UdpSocket::bind("127.0.0.1:0").map(Syslog)
    }

    pub fn port(&self) -> std::io::Result<u16> {
        Ok(self.0.local_addr()?.port())
    }

    /// Every message received until `deadline`, in arrival order, headers stripped. The
    /// kernel queues the datagrams meanwhile, so reading late loses nothing.
    pub fn collect(&self, deadline: Instant) -> Vec<String> {
        let mut out = Vec::new();
        let mut extra = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let now = Instant::now();
            // one last non-blocking pass when the deadline has passed already
            let wait = deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            if self.0.set_read_timeout(Some(wait)).is_err() {
                break;
            }
            match self.0.recv(&mut buf) {
                Ok(n) if out.len() < MAX_MESSAGES => out.push(strip_header(&buf[..n])),
                Ok(_) => extra += 1,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                Err(e) => {
                    out.push(format!("harness: syslog socket error: {e}"));
                    break;
                }
            }
        }
        if extra > 0 {
            out.push(format!("harness: {extra} more messages not shown"));
        }
        out
    }
}

/// The message of an RFC 3164 datagram: the `<PRI>`, the timestamp, an optional hostname
/// and the `tag[pid]:` removed, trailing newlines dropped. A datagram without that header
/// is kept whole, flagged.
pub fn strip_header(datagram: &[u8]) -> String {
    let text = String::from_utf8_lossy(datagram);
    let text = text.trim_end_matches(['\n', '\r']);
    match message(text) {
        Some(m) => m.replace('\n', "\\n"),
        None => format!("[no syslog header] {}", text.replace('\n', "\\n")),
    }
}

/// What follows the header, if `text` has one.
fn message(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('<')?;
    let (pri, rest) = rest.split_once('>')?;
    if pri.is_empty() || !pri.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = skip_timestamp(rest)?;
    // `tag:` or `hostname tag:`; the tag is `name[pid]` or `name`
    let mut rest = rest;
    for _ in 0..2 {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if word.ends_with(':') {
            return Some(after);
        }
        rest = after;
    }
    None
}

/// `Mmm dd hh:mm:ss ` (the day padded with a space) skipped.
fn skip_timestamp(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let ok = b.len() >= 16
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' ';
    ok.then(|| &s[16..])
}
