//! Processes: the guard that owns every child the driver starts (and stops it, with its
//! descendants, whatever happens), the SIGINT/SIGTERM flag, the file-descriptor limit,
//! and what the driver reads about a process in `/proc` (CPU time, resident memory,
//! children). The `/proc` text parsers are pure and tested.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT/SIGTERM handler: from then on a signal only sets the flag that
/// [`interrupted`] reads, and the driver stops at the next check.
pub fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Whether SIGINT or SIGTERM arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sleeps for `d`, waking early (and returning `false`) if the driver is interrupted.
pub fn sleep_unless_interrupted(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if interrupted() {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (children inherit it).
/// Returns `(soft, hard)` as they are afterwards.
pub fn raise_nofile_limit() -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(io::Error::last_os_error());
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Clock ticks per second of the utime/stime fields of `/proc/PID/stat`.
pub fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Number of online CPUs.
pub fn online_cpus() -> usize {
    // SAFETY: as above.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        1
    }
}

/// A child process owned by the driver. Dropping it stops the process (SIGTERM, up to 2 s
/// of grace, then SIGKILL) together with the descendants it had, and reaps it.
pub struct Guard {
    name: String,
    child: Child,
    log: PathBuf,
    done: Option<ExitStatus>,
}

impl Guard {
    /// Starts `cmd` with stdin closed and stdout and stderr both written to `log`
    /// (truncated). `name` is what messages call it.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> io::Result<Guard> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {name} ({cmd:?}): {e}")))?;
        Ok(Guard {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
            done: None,
        })
    }

    /// The process id (valid until the guard is dropped).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name given at spawn, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The exit status if the process has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.done.is_none() {
            self.done = self.child.try_wait().ok().flatten();
        }
        self.done
    }

    /// Waits up to `timeout` for the process to exit on its own. Returns its status, or
    /// `None` on timeout or when the driver is interrupted (the process still runs).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.exited() {
                return Some(st);
            }
            if Instant::now() >= end || interrupted() {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The whole log (stdout and stderr) so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of the log, for error messages ("(no output)" if empty).
    pub fn log_tail(&self, n: usize) -> String {
        let tail = tail_lines(&self.output(), n);
        if tail.trim().is_empty() {
            "(no output)".to_string()
        } else {
            tail
        }
    }

    /// Stops the process if it still runs: SIGTERM, up to 2 s, then SIGKILL to it and to
    /// the descendants it had when the stop began; reaps it. Idempotent.
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let descendants = descendants_of(self.pid());
        let pid = self.pid() as libc::pid_t;
        // SAFETY: signalling our own child, which is not reaped yet (so the pid is ours).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let end = Instant::now() + Duration::from_secs(2);
        while self.exited().is_none() && Instant::now() < end {
            thread::sleep(Duration::from_millis(10));
        }
        if self.exited().is_none() {
            let _ = self.child.kill();
            self.done = self.child.wait().ok();
        }
        // Workers of a killed nginx master outlive it: end the ones we saw, if still there.
        for d in descendants {
            if process_alive(d) {
                // SAFETY: a descendant of our child seen a moment ago, still alive.
                unsafe {
                    libc::kill(d as libc::pid_t, libc::SIGKILL);
                }
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `pid` names a live (non-zombie) process.
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => parse_stat(&text).is_some_and(|s| s.state != 'Z'),
        Err(_) => false,
    }
}

/// The last `n` lines of `text`.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The fields of `/proc/PID/stat` the driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
    /// utime + stime, clock ticks.
    pub cpu_ticks: u64,
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and may
/// contain spaces and parentheses, so fields are counted after the last `)`: state is
/// field 3, ppid 4, utime 14, stime 15.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| f.get(n - 3).copied();
    let utime: u64 = field(14)?.parse().ok()?;
    let stime: u64 = field(15)?.parse().ok()?;
    Some(Stat {
        state: field(3)?.chars().next()?,
        ppid: field(4)?.parse().ok()?,
        cpu_ticks: utime + stime,
    })
}

/// utime + stime of `pid` in clock ticks, `None` if it is gone.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text).map(|s| s.cpu_ticks)
}

/// Sum of [`cpu_ticks`] over `pids` (processes gone count 0).
pub fn cpu_ticks_sum(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|p| cpu_ticks(*p)).sum()
}

/// The direct children of `pid`, found by scanning `/proc/*/stat`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{child}/stat")) {
            if parse_stat(&text).is_some_and(|s| s.ppid == pid) {
                out.push(child);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Every descendant of `pid` (children, their children...).
pub fn descendants_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children_of(p) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

/// A `kB` line of `/proc/PID/status` ("VmRSS:     1234 kB"), in bytes.
pub fn parse_status_bytes(text: &str, key: &str) -> Option<u64> {
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
            let kib: u64 = rest.split_whitespace().next()?.parse().ok()?;
            return Some(kib * 1024);
        }
    }
    None
}

/// Resident memory of `pid`: `(VmRSS, VmHWM)` in bytes.
pub fn rss(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        parse_status_bytes(&text, "VmRSS")?,
        parse_status_bytes(&text, "VmHWM")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let text = "1234 (nginx: (a) b) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 1 0 5 1000 200";
        let s = parse_stat(text).unwrap();
        assert_eq!(
            s,
            Stat {
                state: 'S',
                ppid: 77,
                cpu_ticks: 281
            }
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 0"), None);
    }

    #[test]
    fn status_lines() {
        let text = "Name:\tnginx\nVmHWM:\t    5120 kB\nVmRSS:\t    4096 kB\n";
        assert_eq!(parse_status_bytes(text, "VmRSS"), Some(4096 * 1024));
        assert_eq!(parse_status_bytes(text, "VmHWM"), Some(5120 * 1024));
        assert_eq!(parse_status_bytes(text, "VmSwap"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        assert!(rss(me).is_some_and(|(r, h)| r > 0 && h >= r / 2));
        assert!(process_alive(me));
    }

    #[test]
    fn guard_stops_and_reaps() {
        let dir = std::env::temp_dir().join(format!("hrs-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("sleep.log");
        let mut g = Guard::spawn("sleep", Command::new("sleep").arg("30"), &log).unwrap();
        let pid = g.pid();
        assert!(process_alive(pid));
        assert!(children_of(std::process::id()).contains(&pid));
        g.stop();
        assert!(g.exited().is_some());
        assert!(!process_alive(pid));
        drop(g);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tails() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }
}
