//! Running the benchmark: the backend nginx for the whole session, then for every round,
//! scenario, case and target (rotated) a fresh target process with the case's thread
//! count, an unmeasured warm-up, and the measured client run with the CPU, accept-counter
//! and memory readings around it; haproxy-rs's lock counters are read from what it prints
//! when it stops. Owns every process it starts (through [`Guard`]s) and the temp
//! directory's contents.

use std::fs;
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::model::{cases, Case, Failure, Metric, Results, Sample, Target, Work, TWIN_THREADS};
use crate::parse::{self, ClientResult};
use crate::procs::{self, Guard};
use crate::report::Params;
use crate::setup;

/// The programs a benchmark runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub proxy: PathBuf,
    pub haproxy: PathBuf,
    pub nginx: PathBuf,
    pub wrk: PathBuf,
    pub h2load: PathBuf,
    pub ab: PathBuf,
}

/// Finds an executable named `name` in `PATH`, then in the sbin directories (Debian puts
/// nginx and haproxy in /usr/sbin, which a non-root `PATH` may lack).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Whether `p` is a regular file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `targets` rotated so that round `round` (from 1) starts with the next target than the
/// previous round did.
pub fn rotated(targets: &[Target], round: u32) -> Vec<Target> {
    if targets.is_empty() {
        return Vec::new();
    }
    let start = (round.saturating_sub(1) as usize) % targets.len();
    targets[start..]
        .iter()
        .chain(&targets[..start])
        .copied()
        .collect()
}

/// Why [`Bench::run_all`] stopped early.
#[derive(Debug)]
pub enum Stop {
    /// SIGINT or SIGTERM.
    Interrupted,
    /// The backend died: nothing more can be measured.
    Fatal(String),
}

/// The listening ports, all distinct.
struct Ports {
    backend: u16,
    backend_h2: u16,
    /// haproxy-rs and haproxy (HTTP/1.1 and h2c on the same bind).
    proxy: u16,
    nginx: u16,
    nginx_h2: u16,
}

/// A target ready to be measured: its process (none for `Direct`), the processes whose
/// CPU time counts, the one whose memory S4 reads, and where the clients connect.
struct Running {
    guard: Option<Guard>,
    cpu_pids: Vec<u32>,
    mem_pid: u32,
    http_port: u16,
    h2_port: u16,
}

impl Running {
    /// An error if the target's process exited, with the tail of its log.
    fn check_alive(&mut self) -> Result<(), String> {
        if let Some(g) = self.guard.as_mut() {
            if let Some(st) = g.exited() {
                return Err(format!(
                    "{} exited during the run ({st}):\n{}",
                    g.name(),
                    g.log_tail(15)
                ));
            }
        }
        Ok(())
    }
}

/// A benchmark session: the backend is up for as long as this lives.
pub struct Bench {
    tools: Tools,
    params: Params,
    tmp: PathBuf,
    ports: Ports,
    backend: Guard,
    backend_workers: Vec<u32>,
    clock_ticks: f64,
    pub results: Results,
}

impl Bench {
    /// Writes the nginx configurations under `tmp` (an existing, empty directory), starts
    /// the backend and waits until it answers. Fails with a message if it does not.
    pub fn start(tools: Tools, params: Params, tmp: &Path) -> Result<Bench, String> {
        let p = setup::free_ports(5).map_err(|e| format!("no free port: {e}"))?;
        let ports = Ports {
            backend: p[0],
            backend_h2: p[1],
            proxy: p[2],
            nginx: p[3],
            nginx_h2: p[4],
        };
        for dir in ["backend", "logs"] {
            fs::create_dir_all(tmp.join(dir)).map_err(|e| format!("{}: {e}", tmp.display()))?;
        }
        let wc = params.worker_connections;
        let backend_dir = tmp.join("backend");
        write(
            &backend_dir.join("nginx.conf"),
            &setup::nginx_backend_conf(&backend_dir, ports.backend, ports.backend_h2, wc),
        )?;
        for workers in [1, TWIN_THREADS] {
            let proxy_dir = tmp.join(nginx_proxy_dir(workers));
            fs::create_dir_all(&proxy_dir).map_err(|e| format!("{}: {e}", proxy_dir.display()))?;
            write(
                &proxy_dir.join("nginx.conf"),
                &setup::nginx_proxy_conf(
                    &proxy_dir,
                    workers,
                    (ports.nginx, ports.nginx_h2, ports.backend),
                    wc,
                ),
            )?;
        }
        let mut backend = Guard::spawn(
            "backend nginx",
            &mut nginx_command(&tools.nginx, &backend_dir),
            &tmp.join("logs/backend.log"),
        )
        .map_err(|e| e.to_string())?;
        setup::wait_ready(
            ports.backend,
            true,
            Some(&mut backend),
            Duration::from_secs(10),
        )?;
        setup::wait_ready(
            ports.backend_h2,
            false,
            Some(&mut backend),
            Duration::from_secs(5),
        )?;
        let backend_workers = procs::children_of(backend.pid());
        if backend_workers.is_empty() {
            return Err("backend nginx has no worker process".to_string());
        }
        Ok(Bench {
            tools,
            params,
            tmp: tmp.to_path_buf(),
            ports,
            backend,
            backend_workers,
            clock_ticks: procs::clock_ticks_per_sec(),
            results: Results::default(),
        })
    }

    /// Runs every round: for each scenario, case and target (in rotated order) one
    /// measured run, recorded as a sample or a failure. Progress goes to stderr.
    pub fn run_all(&mut self) -> Result<(), Stop> {
        let rounds = self.params.rounds;
        for round in 1..=rounds {
            for sc in self.params.scenarios.clone() {
                for case in cases(sc) {
                    for target in rotated(&case.targets, round) {
                        if procs::interrupted() {
                            return Err(Stop::Interrupted);
                        }
                        if let Some(st) = self.backend.exited() {
                            return Err(Stop::Fatal(format!(
                                "the backend nginx exited ({st}):\n{}",
                                self.backend.log_tail(15)
                            )));
                        }
                        let label = format!(
                            "[{round}/{rounds}] {} {:<29} {:<11}",
                            sc.id(),
                            case.name,
                            target.key()
                        );
                        match self.run_one(&case, target, round) {
                            Ok(sample) => {
                                eprintln!("{label} {}", brief(&sample));
                                self.results.samples.push(sample);
                            }
                            Err(_) if procs::interrupted() => return Err(Stop::Interrupted),
                            Err(message) => {
                                eprintln!("{label} FAILED: {message}");
                                self.results.failures.push(Failure {
                                    scenario: sc,
                                    case: case.name.clone(),
                                    target,
                                    round,
                                    message,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// One measured run of `target` in `case`, in a fresh target process (stopped when
    /// this returns; haproxy-rs's lock counters, printed as it stops, go in the sample).
    fn run_one(&mut self, case: &Case, target: Target, round: u32) -> Result<Sample, String> {
        let (maxconn, reuse) = match case.work {
            Work::Idle => (self.params.maxconn_idle, None),
            Work::Ab { reuse, .. } => (self.params.maxconn, reuse),
            _ => (self.params.maxconn, None),
        };
        let mut running = self.start_target(target, case.threads, maxconn, reuse)?;
        let mut sample = Sample {
            scenario: case.scenario,
            case: case.name.clone(),
            target,
            round,
            metrics: Vec::new(),
            errors: 0,
            error_detail: String::new(),
            locks: Vec::new(),
        };
        match case.work {
            Work::Idle => self.idle_memory(&mut running, &mut sample)?,
            work => self.load_run(&mut running, work, &mut sample)?,
        }
        running.check_alive()?;
        if target == Target::HaproxyRs {
            if let Some(g) = running.guard.as_mut() {
                g.stop();
                sample.locks = parse::parse_lock_stats(&g.output());
                if sample.locks.is_empty() {
                    return Err(format!(
                        "haproxy-rs printed no lock counters when it stopped:\n{}",
                        g.log_tail(10)
                    ));
                }
            }
        }
        Ok(sample)
    }

    /// Starts `target` (nothing for `Direct`) with `threads` threads (nginx: worker
    /// processes) and waits until it answers. haproxy-rs runs with `HRS_LOCK_STATS=1`.
    fn start_target(
        &self,
        target: Target,
        threads: u32,
        maxconn: usize,
        reuse: Option<&str>,
    ) -> Result<Running, String> {
        let ready = Duration::from_secs(10);
        match target {
            Target::HaproxyRs | Target::Haproxy => {
                let bin = if target == Target::HaproxyRs {
                    &self.tools.proxy
                } else {
                    &self.tools.haproxy
                };
                let cfg = self.tmp.join("proxy.cfg");
                write(
                    &cfg,
                    &setup::haproxy_cfg(
                        threads,
                        self.ports.proxy,
                        self.ports.backend,
                        maxconn,
                        reuse,
                    ),
                )?;
                let mut cmd = Command::new(bin);
                cmd.arg("-db").arg("-f").arg(&cfg);
                if target == Target::HaproxyRs {
                    cmd.env("HRS_LOCK_STATS", "1");
                }
                let log = self.tmp.join(format!("logs/{}.log", target.key()));
                let mut guard =
                    Guard::spawn(target.key(), &mut cmd, &log).map_err(|e| e.to_string())?;
                setup::wait_ready(self.ports.proxy, true, Some(&mut guard), ready)?;
                let pid = guard.pid();
                Ok(Running {
                    guard: Some(guard),
                    cpu_pids: vec![pid],
                    mem_pid: pid,
                    http_port: self.ports.proxy,
                    h2_port: self.ports.proxy,
                })
            }
            Target::Nginx => {
                let dir = self.tmp.join(nginx_proxy_dir(threads));
                let log = self
                    .tmp
                    .join(format!("logs/{}.log", nginx_proxy_dir(threads)));
                let mut guard = Guard::spawn(
                    "nginx proxy",
                    &mut nginx_command(&self.tools.nginx, &dir),
                    &log,
                )
                .map_err(|e| e.to_string())?;
                setup::wait_ready(self.ports.nginx, true, Some(&mut guard), ready)?;
                setup::wait_ready(self.ports.nginx_h2, false, Some(&mut guard), ready)?;
                let workers = procs::children_of(guard.pid());
                let Some(&worker) = workers.first() else {
                    return Err("nginx proxy has no worker process".to_string());
                };
                let mut cpu_pids = vec![guard.pid()];
                cpu_pids.extend(&workers);
                Ok(Running {
                    guard: Some(guard),
                    cpu_pids,
                    mem_pid: worker,
                    http_port: self.ports.nginx,
                    h2_port: self.ports.nginx_h2,
                })
            }
            Target::Direct => Ok(Running {
                guard: None,
                cpu_pids: Vec::new(),
                mem_pid: self.backend_workers[0],
                http_port: self.ports.backend,
                h2_port: self.ports.backend_h2,
            }),
        }
    }

    /// The client command of `work` against `running` for `secs` seconds, and which
    /// parser reads its output.
    fn client_command(&self, work: Work, running: &Running, secs: u32) -> (Command, Client) {
        let http = format!("http://127.0.0.1:{}/", running.http_port);
        let h2 = format!("http://127.0.0.1:{}/", running.h2_port);
        match work {
            Work::Wrk { conns } | Work::Latency { conns } => {
                let threads = match work {
                    Work::Wrk { .. } => self.params.wrk_threads,
                    _ => 1,
                };
                let mut c = Command::new(&self.tools.wrk);
                c.args(["-t", &threads.to_string(), "-c", &conns.to_string()])
                    .args(["-d", &format!("{secs}s"), "--latency", &http]);
                (c, Client::Wrk)
            }
            Work::Ab { conns, .. } => {
                // -t before -n: -t alone would cap the run at 50000 requests
                let mut c = Command::new(&self.tools.ab);
                c.args([
                    "-r",
                    "-q",
                    "-c",
                    &conns.to_string(),
                    "-t",
                    &secs.to_string(),
                ])
                .args(["-n", &self.params.ab_cap.to_string(), &http]);
                (c, Client::Ab)
            }
            Work::H2load { clients, streams } => {
                let mut c = Command::new(&self.tools.h2load);
                c.args([
                    "-t",
                    "1",
                    "-c",
                    &clients.to_string(),
                    "-m",
                    &streams.to_string(),
                ])
                .args(["-D", &secs.to_string(), &h2]);
                (c, Client::H2load)
            }
            Work::Idle => unreachable!("S4 runs no load client"),
        }
    }

    /// Warm-up then one measured client run (S1, S2, S3, S5), filling `sample`.
    fn load_run(
        &self,
        running: &mut Running,
        work: Work,
        sample: &mut Sample,
    ) -> Result<(), String> {
        let logs = self.tmp.join("logs");
        if self.params.warmup > 0.0 {
            // the client runs longer than the warm-up and is stopped when it is over
            let secs = self.params.warmup.ceil() as u32 + 60;
            let (mut cmd, _) = self.client_command(work, running, secs);
            let mut warm = Guard::spawn("warm-up client", &mut cmd, &logs.join("warmup.log"))
                .map_err(|e| e.to_string())?;
            procs::sleep_unless_interrupted(Duration::from_secs_f64(self.params.warmup));
            if let Some(st) = warm.exited() {
                return Err(format!(
                    "warm-up client exited early ({st}):\n{}",
                    warm.log_tail(10)
                ));
            }
            warm.stop();
            procs::sleep_unless_interrupted(Duration::from_millis(200));
        }
        running.check_alive()?;

        let counts_server_conns = matches!(work, Work::Ab { .. });
        let accepts_before = if counts_server_conns {
            Some(
                setup::backend_accepts(self.ports.backend)
                    .map_err(|e| format!("stub_status: {e}"))?,
            )
        } else {
            None
        };
        let proxy_t0 = procs::cpu_ticks_sum(&running.cpu_pids);
        let backend_t0 = procs::cpu_ticks_sum(&self.backend_workers);

        let (mut cmd, client) = self.client_command(work, running, self.params.duration);
        let mut c = Guard::spawn(client.name(), &mut cmd, &logs.join("client.log"))
            .map_err(|e| e.to_string())?;
        let limit = Duration::from_secs(u64::from(self.params.duration) + 60);
        if c.wait_timeout(limit).is_none() {
            c.stop();
            return Err(if procs::interrupted() {
                "interrupted".to_string()
            } else {
                format!("{} did not finish within {limit:?}", client.name())
            });
        }
        let proxy_t1 = procs::cpu_ticks_sum(&running.cpu_pids);
        let backend_t1 = procs::cpu_ticks_sum(&self.backend_workers);
        let accepts_after = if counts_server_conns {
            Some(
                setup::backend_accepts(self.ports.backend)
                    .map_err(|e| format!("stub_status: {e}"))?,
            )
        } else {
            None
        };
        running.check_alive()?;

        let output = c.output();
        let r: ClientResult = client.parse(&output).map_err(|e| {
            format!(
                "{} output unusable ({e}):\n{}",
                client.name(),
                procs::tail_lines(&output, 10)
            )
        })?;
        if r.requests == 0 {
            return Err(format!(
                "{} completed no request:\n{}",
                client.name(),
                procs::tail_lines(&output, 10)
            ));
        }
        let per_req_us = |ticks: u64| ticks as f64 / self.clock_ticks * 1e6 / r.requests as f64;
        let m = &mut sample.metrics;
        m.push((Metric::Rps, r.rps));
        m.push((Metric::Requests, r.requests as f64));
        if !running.cpu_pids.is_empty() {
            m.push((
                Metric::ProxyCpu,
                per_req_us(proxy_t1.saturating_sub(proxy_t0)),
            ));
        }
        m.push((
            Metric::BackendCpu,
            per_req_us(backend_t1.saturating_sub(backend_t0)),
        ));
        if let (Some(before), Some(after)) = (accepts_before, accepts_after) {
            // the second status request's own connection is in `after`
            let opened = after.saturating_sub(before).saturating_sub(1);
            m.push((Metric::ServerConns, opened as f64));
            m.push((
                Metric::ServerConnsPer1k,
                opened as f64 * 1000.0 / r.requests as f64,
            ));
        }
        if let Some(p50) = r.p50_us.filter(|_| matches!(work, Work::Latency { .. })) {
            m.push((Metric::P50, p50));
        }
        if let Some(p99) = r.p99_us.filter(|_| matches!(work, Work::Latency { .. })) {
            m.push((Metric::P99, p99));
        }
        sample.errors = r.errors;
        sample.error_detail = r.error_detail;
        Ok(())
    }

    /// S4: after one warm-up request, the resident memory of the holding process; then
    /// `idle_conns` keep-alive connections each with one complete request, held; 1 s
    /// later the memory again, the backend's open connections, and whether every client
    /// connection is still open.
    fn idle_memory(&self, running: &mut Running, sample: &mut Sample) -> Result<(), String> {
        let n = self.params.idle_conns;
        let addr = (Ipv4Addr::LOCALHOST, running.http_port);
        {
            let mut s = TcpStream::connect(addr).map_err(|e| format!("warm-up connect: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            setup::keepalive_get(&mut s).map_err(|e| format!("warm-up request: {e}"))?;
        }
        procs::sleep_unless_interrupted(Duration::from_millis(300));
        let pid = running.mem_pid;
        let (base, _) = procs::rss(pid).ok_or_else(|| format!("no VmRSS for pid {pid}"))?;

        let started = Instant::now();
        let mut conns = Vec::with_capacity(n);
        for i in 0..n {
            if i % 256 == 0 {
                if procs::interrupted() {
                    return Err("interrupted".to_string());
                }
                running.check_alive()?;
            }
            let mut s = TcpStream::connect(addr)
                .map_err(|e| format!("idle connection {} of {n}: connect: {e}", i + 1))?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            match setup::keepalive_get(&mut s) {
                Ok(200) => conns.push(s),
                Ok(st) => return Err(format!("idle connection {} of {n}: status {st}", i + 1)),
                Err(e) => return Err(format!("idle connection {} of {n}: {e}", i + 1)),
            }
        }
        let opening = started.elapsed();
        procs::sleep_unless_interrupted(Duration::from_secs(1));
        let (loaded, peak) = procs::rss(pid).ok_or_else(|| format!("no VmRSS for pid {pid}"))?;
        let backend_conns = setup::backend_active(self.ports.backend)
            .map_err(|e| format!("stub_status: {e}"))?
            .saturating_sub(1);
        // still open? a closed connection reads as EOF, an open idle one would block
        let mut lost = 0;
        let mut probe = [0u8; 1];
        for s in &conns {
            let _ = s.set_nonblocking(true);
            if matches!(s.peek(&mut probe), Ok(0)) {
                lost += 1;
            }
        }
        drop(conns);
        let m = &mut sample.metrics;
        m.push((Metric::IdleConns, n as f64));
        m.push((Metric::RssBase, base as f64));
        m.push((Metric::RssLoaded, loaded as f64));
        m.push((Metric::RssPeak, peak as f64));
        m.push((
            Metric::BytesPerConn,
            (loaded as f64 - base as f64) / n as f64,
        ));
        m.push((Metric::BackendConns, backend_conns as f64));
        if lost > 0 {
            sample.errors = lost;
            sample.error_detail = format!(
                "{lost} of {n} idle connections closed by the target before the measurement \
                 (opening them took {opening:?})"
            );
        }
        Ok(())
    }
}

/// The load generators.
#[derive(Debug, Clone, Copy)]
enum Client {
    Wrk,
    Ab,
    H2load,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Wrk => "wrk",
            Client::Ab => "ab",
            Client::H2load => "h2load",
        }
    }

    fn parse(self, out: &str) -> Result<ClientResult, String> {
        match self {
            Client::Wrk => parse::parse_wrk(out),
            Client::Ab => parse::parse_ab(out),
            Client::H2load => parse::parse_h2load(out),
        }
    }
}

/// The directory of the nginx proxy with `workers` worker processes (under the temp dir).
fn nginx_proxy_dir(workers: u32) -> String {
    if workers == 1 {
        "nginx-proxy".to_string()
    } else {
        format!("nginx-proxy-{workers}")
    }
}

/// `nginx` in the foreground on the configuration of `dir` (prefix, error log and
/// config all under `dir`).
fn nginx_command(nginx: &Path, dir: &Path) -> Command {
    let mut c = Command::new(nginx);
    c.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    c
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// One progress line's worth of a sample.
fn brief(s: &Sample) -> String {
    let shown = [
        Metric::Rps,
        Metric::ProxyCpu,
        Metric::BackendCpu,
        Metric::ServerConns,
        Metric::P50,
        Metric::P99,
        Metric::RssLoaded,
        Metric::BytesPerConn,
    ];
    let mut parts: Vec<String> = shown
        .iter()
        .filter_map(|&m| s.get(m).map(|v| format!("{} {}", m.format(v), m.header())))
        .collect();
    if s.errors > 0 {
        parts.push(format!("⚠ {} errors: {}", s.errors, s.error_detail));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation() {
        let t = Target::ALL;
        assert_eq!(rotated(&t, 1), t.to_vec());
        assert_eq!(
            rotated(&t, 2),
            vec![
                Target::Haproxy,
                Target::Nginx,
                Target::Direct,
                Target::HaproxyRs
            ]
        );
        assert_eq!(rotated(&t, 5), t.to_vec());
        assert_eq!(
            rotated(&[Target::HaproxyRs, Target::Haproxy], 2),
            vec![Target::Haproxy, Target::HaproxyRs]
        );
        assert!(rotated(&[], 3).is_empty());
    }

    #[test]
    fn programs_are_found() {
        assert!(find_program("sh").is_some());
        assert!(find_program("surely-not-a-program-hrs").is_none());
    }
}
