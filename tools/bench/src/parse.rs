//! Parsers of the load generators' reports: `wrk` (HTTP/1.1 keep-alive, with
//! `--latency`), `h2load` (HTTP/2) and `ab` (ApacheBench, HTTP/1.0 one request per
//! connection). Each turns the text a tool prints into a [`ClientResult`]. Also the lock
//! counters haproxy-rs prints at exit under `HRS_LOCK_STATS=1`. Nothing here runs a
//! process.

use crate::model::LockCount;

/// What one client run reports, in the units the tables use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientResult {
    /// Requests completed (with any status).
    pub requests: u64,
    /// Requests per second, as the tool computed it over its own run time.
    pub rps: f64,
    /// Requests that failed or got no 2xx/3xx answer, plus socket errors: should be 0.
    pub errors: u64,
    /// A human-readable breakdown of `errors` when there are any (empty otherwise).
    pub error_detail: String,
    /// Median latency in microseconds (`wrk --latency` only).
    pub p50_us: Option<f64>,
    /// 99th percentile latency in microseconds (`wrk --latency` only).
    pub p99_us: Option<f64>,
}

/// Parses the report of `wrk --latency`.
///
/// Needs the "N requests in" and "Requests/sec:" lines; socket errors and non-2xx/3xx
/// responses are counted as errors; the "Latency Distribution" 50% and 99% lines, if
/// present, give the percentiles. Returns an error naming what is missing otherwise.
pub fn parse_wrk(out: &str) -> Result<ClientResult, String> {
    let mut r = ClientResult::default();
    let mut got_requests = false;
    let mut got_rps = false;
    let mut in_latency = false;
    let mut details = Vec::new();
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("Latency Distribution") {
            in_latency = true;
            continue;
        }
        if in_latency {
            if let Some((pct, value)) = t.split_once('%') {
                let us = parse_duration_us(value.trim());
                match pct.trim() {
                    "50" => r.p50_us = us,
                    "99" => r.p99_us = us,
                    _ => {}
                }
                continue;
            }
            in_latency = false;
        }
        if let Some(idx) = t.find(" requests in ") {
            r.requests = parse_u64(&t[..idx])?;
            got_requests = true;
        } else if let Some(rest) = t.strip_prefix("Requests/sec:") {
            r.rps = parse_f64(rest)?;
            got_rps = true;
        } else if let Some(rest) = t.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in rest.split(',') {
                let mut words = part.split_whitespace();
                if let (Some(kind), Some(n)) = (words.next(), words.next()) {
                    let n = parse_u64(n)?;
                    if n > 0 {
                        r.errors += n;
                        details.push(format!("{n} socket {kind} errors"));
                    }
                }
            }
        } else if let Some(rest) = t.strip_prefix("Non-2xx or 3xx responses:") {
            let n = parse_u64(rest)?;
            r.errors += n;
            details.push(format!("{n} non-2xx/3xx responses"));
        }
    }
    if !got_requests || !got_rps {
        return Err("wrk printed no \"requests in\" / \"Requests/sec\" line".to_string());
    }
    r.error_detail = details.join(", ");
    Ok(r)
}

/// Parses the report of `h2load`.
///
/// Needs "finished in Xs, Y req/s" and "requests: N total, N started, N done, N
/// succeeded, N failed, N errored, N timeout". `requests` is the "done" count; errors
/// are the "failed" count (h2load counts errored streams and 4xx/5xx answers there) or
/// the timeouts if more.
pub fn parse_h2load(out: &str) -> Result<ClientResult, String> {
    let mut r = ClientResult::default();
    let mut got_rps = false;
    let mut got_requests = false;
    for line in out.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("finished in ") {
            // "1.00s, 67843.00 req/s, 5.44MB/s"
            let field = rest
                .split(',')
                .map(str::trim)
                .find(|f| f.ends_with("req/s"))
                .ok_or_else(|| format!("h2load: no req/s in {t:?}"))?;
            r.rps = parse_f64(field.trim_end_matches("req/s"))?;
            got_rps = true;
        } else if let Some(rest) = t.strip_prefix("requests:") {
            let counts = labelled_counts(rest)?;
            let get = |label: &str| {
                counts
                    .iter()
                    .find(|(l, _)| l == label)
                    .map(|(_, n)| *n)
                    .ok_or_else(|| format!("h2load: no \"{label}\" count in {t:?}"))
            };
            r.requests = get("done")?;
            let failed = get("failed")?;
            let errored = get("errored").unwrap_or(0);
            let timeout = get("timeout").unwrap_or(0);
            r.errors = failed.max(timeout);
            if r.errors > 0 {
                r.error_detail = format!("{failed} failed ({errored} errored), {timeout} timeouts");
            }
            got_requests = true;
        }
    }
    if !got_rps || !got_requests {
        return Err("h2load printed no \"finished in\" / \"requests:\" line".to_string());
    }
    Ok(r)
}

/// Parses the report of `ab`.
///
/// Needs "Complete requests:" and "Requests per second:"; "Failed requests:" and
/// "Non-2xx responses:" count as errors.
pub fn parse_ab(out: &str) -> Result<ClientResult, String> {
    let mut r = ClientResult::default();
    let mut got_requests = false;
    let mut got_rps = false;
    let mut details = Vec::new();
    for line in out.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Complete requests:") {
            r.requests = parse_u64(rest)?;
            got_requests = true;
        } else if let Some(rest) = t.strip_prefix("Requests per second:") {
            // "18915.67 [#/sec] (mean)"
            let value = rest.split_whitespace().next().unwrap_or("");
            r.rps = parse_f64(value)?;
            got_rps = true;
        } else if let Some(rest) = t.strip_prefix("Failed requests:") {
            let n = parse_u64(rest)?;
            if n > 0 {
                r.errors += n;
                details.push(format!("{n} failed requests"));
            }
        } else if let Some(rest) = t.strip_prefix("Non-2xx responses:") {
            let n = parse_u64(rest)?;
            if n > 0 {
                r.errors += n;
                details.push(format!("{n} non-2xx responses"));
            }
        }
    }
    if !got_requests || !got_rps {
        return Err("ab printed no \"Complete requests\" / \"Requests per second\" line".into());
    }
    r.error_detail = details.join(", ");
    Ok(r)
}

/// Converts a wrk duration ("93.00us", "1.20ms", "2.00s", "1.00m") to microseconds.
/// Returns `None` for anything else.
pub fn parse_duration_us(s: &str) -> Option<f64> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000_000.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000_000.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000_000.0)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().map(|v| v * scale)
}

/// "67843 total, 67943 started, ..." -> [("total", 67843), ("started", 67943), ...]
fn labelled_counts(s: &str) -> Result<Vec<(String, u64)>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(label)) = (words.next(), words.next()) {
            out.push((label.to_string(), parse_u64(n)?));
        }
    }
    Ok(out)
}

fn parse_u64(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("not a count: {:?}", s.trim()))
}

fn parse_f64(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("not a number: {:?}", s.trim()))
}

/// The lock counters in haproxy-rs's output: every line
/// `hrs-lock-stats: RANK acquired N contended M` (printed once all its threads stopped),
/// in order; other lines are ignored, malformed counter lines too.
pub fn parse_lock_stats(out: &str) -> Vec<LockCount> {
    out.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("hrs-lock-stats:")?;
            match rest.split_whitespace().collect::<Vec<_>>()[..] {
                [rank, "acquired", a, "contended", c] => Some(LockCount {
                    rank: rank.to_string(),
                    acquired: a.parse().ok()?,
                    contended: c.parse().ok()?,
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 1s test @ http://127.0.0.1:18080/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    96.77us  103.97us   3.23ms   99.51%
    Req/Sec    80.21k     1.41k   81.96k    72.73%
  Latency Distribution
     50%   93.00us
     75%  102.00us
     90%  108.00us
     99%    1.28ms
  87671 requests in 1.10s, 13.80MB read
Requests/sec:  79728.96
Transfer/sec:     12.55MB
";

    #[test]
    fn wrk_clean_run() {
        let r = parse_wrk(WRK).unwrap();
        assert_eq!(r.requests, 87671);
        assert_eq!(r.rps, 79728.96);
        assert_eq!(r.errors, 0);
        assert_eq!(r.error_detail, "");
        assert_eq!(r.p50_us, Some(93.0));
        assert_eq!(r.p99_us, Some(1280.0));
    }

    #[test]
    fn wrk_errors() {
        let out = WRK.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 3, write 0, timeout 2\n  Non-2xx or 3xx responses: 7\nRequests/sec:",
        );
        let r = parse_wrk(&out).unwrap();
        assert_eq!(r.errors, 12);
        assert_eq!(
            r.error_detail,
            "3 socket read errors, 2 socket timeout errors, 7 non-2xx/3xx responses"
        );
    }

    #[test]
    fn wrk_garbage() {
        assert!(parse_wrk("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }

    const H2LOAD: &str = "starting benchmark...
Application protocol: h2c

finished in 5.00s, 67843.00 req/s, 5.44MB/s
requests: 339215 total, 339315 started, 339215 done, 339215 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 339215 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 5.44MB (5699302) total, 3.17MB (3324307) headers (space savings 50.51%), 1.10MB (1153331) data
";

    #[test]
    fn h2load_clean_and_failed() {
        let r = parse_h2load(H2LOAD).unwrap();
        assert_eq!((r.requests, r.rps, r.errors), (339215, 67843.0, 0));
        let out = H2LOAD.replace("0 failed, 0 errored", "12 failed, 2 errored");
        let r = parse_h2load(&out).unwrap();
        assert_eq!(r.errors, 12);
        assert_eq!(r.error_detail, "12 failed (2 errored), 0 timeouts");
        assert!(parse_h2load("h2load: connect failed").is_err());
    }

    const AB: &str = "Concurrency Level:      50
Time taken for tests:   1.001 seconds
Complete requests:      18943
Failed requests:        0
Total transferred:      3030880 bytes
Requests per second:    18915.67 [#/sec] (mean)
Time per request:       2.643 [ms] (mean)
";

    #[test]
    fn ab_clean_and_failed() {
        let r = parse_ab(AB).unwrap();
        assert_eq!((r.requests, r.rps, r.errors), (18943, 18915.67, 0));
        let out = AB.replace(
            "Failed requests:        0",
            "Failed requests:        4\n   (Connect: 0, Receive: 4, Length: 0, Exceptions: 0)\nNon-2xx responses:      9",
        );
        let r = parse_ab(&out).unwrap();
        assert_eq!(r.errors, 13);
        assert_eq!(r.error_detail, "4 failed requests, 9 non-2xx responses");
        assert!(parse_ab("apr_socket_recv: Connection refused (111)").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("93.00us"), Some(93.0));
        assert_eq!(parse_duration_us("1.5ms"), Some(1500.0));
        assert_eq!(parse_duration_us("2.00s"), Some(2_000_000.0));
        assert_eq!(parse_duration_us("1.00m"), Some(60_000_000.0));
        assert_eq!(parse_duration_us("fast"), None);
    }

    #[test]
    fn lock_stats_lines() {
        let out = "[NOTICE] started\nhrs-lock-stats: Lbprm acquired 1200 contended 3\n\
                   hrs-lock-stats: IdleConns acquired 0 contended 0\n\
                   hrs-lock-stats: Inbox acquired x contended 0\n\
                   hrs-lock-stats: ProcVars acquired 7\n";
        assert_eq!(
            parse_lock_stats(out),
            vec![
                LockCount {
                    rank: "Lbprm".into(),
                    acquired: 1200,
                    contended: 3
                },
                LockCount {
                    rank: "IdleConns".into(),
                    acquired: 0,
                    contended: 0
                },
            ]
        );
        assert!(parse_lock_stats("").is_empty());
    }
}
