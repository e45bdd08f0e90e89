//! The description of the machine and software a benchmark ran on (CPU, cores, memory,
//! kernel, versions of every program involved, commit of the proxy) and the UTC date,
//! for the report. Reading is best effort: what cannot be found says "unknown".

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the report says about where it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub mem_total_bytes: u64,
    pub kernel: String,
    /// `RLIMIT_NOFILE` (soft, hard) after the driver raised the soft one.
    pub fd_limit: (u64, u64),
    /// The 1, 5 and 15 minute load averages when the run began ("0.52 0.40 0.33").
    pub load_avg: String,
    /// (program, version line), in report order.
    pub versions: Vec<(String, String)>,
    /// `git rev-parse --short HEAD` of the workspace, with "-dirty" when the proxy's
    /// sources (`crates/`) have uncommitted changes.
    pub commit: String,
    /// When the proxy binary was last modified (built), "YYYY-MM-DD HH:MM UTC": the commit
    /// is read at run time, so this tells whether the binary can be older.
    pub proxy_built: String,
}

/// Paths of the programs whose versions the report lists.
pub struct Programs<'a> {
    pub proxy: &'a Path,
    pub haproxy: &'a Path,
    pub nginx: &'a Path,
    pub wrk: &'a Path,
    pub h2load: &'a Path,
    pub ab: &'a Path,
}

/// Collects the machine description. `workspace` is where git is asked for the commit.
pub fn describe(programs: &Programs, workspace: &Path, fd_limit: (u64, u64)) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    let versions = vec![
        (
            "haproxy-rs".to_string(),
            first_line_of(programs.proxy, &["-v"], None),
        ),
        (
            "haproxy".to_string(),
            first_line_of(programs.haproxy, &["-v"], None),
        ),
        (
            "nginx".to_string(),
            first_line_of(programs.nginx, &["-v"], None),
        ),
        (
            "wrk".to_string(),
            first_line_of(programs.wrk, &["-v"], Some("wrk ")),
        ),
        (
            "h2load".to_string(),
            first_line_of(programs.h2load, &["--version"], None),
        ),
        ("ab".to_string(), first_line_of(programs.ab, &["-V"], None)),
        (
            "rustc".to_string(),
            first_line_of(Path::new("rustc"), &["--version"], None),
        ),
    ];
    Machine {
        cpu_model: parse_cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_string()),
        cores: crate::procs::online_cpus(),
        mem_total_bytes: crate::procs::parse_status_bytes(&meminfo, "MemTotal").unwrap_or(0),
        kernel,
        fd_limit,
        load_avg: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "unknown".to_string()),
        versions,
        commit: git_commit(workspace),
        proxy_built: std::fs::metadata(programs.proxy)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or_else(|| "unknown".to_string(), |d| format_utc(d.as_secs())),
    }
}

/// The first line (or the first starting with `prefix`) of what `program args` prints
/// on stdout or stderr; "unknown" if it cannot run.
fn first_line_of(program: &Path, args: &[&str], prefix: Option<&str>) -> String {
    let Ok(out) = Command::new(program).args(args).output() else {
        return "unknown".to_string();
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && match prefix {
                    Some(p) => l.starts_with(p),
                    None => true,
                }
        })
        .unwrap_or("unknown")
        .to_string()
}

fn git_commit(workspace: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(workspace)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "crates",
            ])
            .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        None => "unknown".to_string(),
    }
}

/// The "model name" of `/proc/cpuinfo`.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "model name").then(|| v.trim().to_string())
    })
}

/// The current UTC date and time as "YYYY-MM-DD HH:MM UTC".
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

/// Formats seconds since the Unix epoch as "YYYY-MM-DD HH:MM UTC" (the C library's
/// `gmtime_r` does the calendar).
pub fn format_utc(secs: u64) -> String {
    let t = libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX);
    // SAFETY: an all-zero `tm` is a valid value (integers and a null zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: gmtime_r reads `t` and writes only into `tm`, both valid local values.
    if unsafe { libc::gmtime_r(&t, &mut tm) }.is_null() {
        return "unknown date".to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29 12:34 UTC");
        assert_eq!(format_utc(1_735_689_599), "2024-12-31 23:59 UTC");
    }

    #[test]
    fn cpu_model() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(parse_cpu_model(text), Some("AMD EPYC 7B13".to_string()));
        assert_eq!(parse_cpu_model(""), None);
    }
}
