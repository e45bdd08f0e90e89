//! `haproxy-rs`: the process. Reads HAProxy's command line, loads the configuration, and
//! either answers (`-v`, `-vv`, `-c`, `-cc`) or runs: in the foreground (`-d`, `-db`), as a
//! daemon (`-D`) or as a master with one worker (`-W`, `-Ws`).
//!
//! Owns process-level concerns only: exit codes, stderr messages in HAProxy's layout, the pid
//! file, forking. The proxy itself lives in the worker ([`worker`]) and the crates below.

mod affinity;
mod cli;
mod version;
mod watchdog;
mod worker;

use hrs_cfg::diag::io_reason;
use hrs_cfg::{cond, Diag, Level};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::exit;

/// Prints HAProxy-style messages on stderr; the first one is preceded by the two notices
/// HAProxy prints once (version and executable path).
struct Out {
    pid: u32,
    quiet: bool,
    started: bool,
}

impl Out {
    fn emit(&mut self, level: Level, msg: &str) {
        self.emit_diag(&Diag::bare(level, msg));
    }

    fn emit_diag(&mut self, d: &Diag) {
        if self.quiet {
            return; // -q hides every message, alerts included, as upstream
        }
        let mut err = std::io::stderr().lock();
        if !self.started {
            self.started = true;
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let _ = writeln!(
                err,
                "[NOTICE]   ({}) : haproxy version is {}",
                self.pid,
                version::VERSION
            );
            let _ = writeln!(
                err,
                "[NOTICE]   ({}) : path to executable is {exe}",
                self.pid
            );
        }
        let _ = writeln!(err, "{}", d.render(self.pid));
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let prog = std::env::args()
        .next()
        .unwrap_or_else(|| "haproxy-rs".into());
    let args = match cli::parse(&argv) {
        Ok(a) => a,
        Err(cli::UsageError(why)) => {
            print!("{}", version::version_text());
            eprintln!("[ALERT]    ({}) : {why}", std::process::id());
            eprint!("{}", cli::usage(&prog));
            exit(1);
        }
    };
    let mut out = Out {
        pid: std::process::id(),
        quiet: args.quiet,
        started: false,
    };
    match &args.action {
        cli::Action::Version => {
            print!("{}", version::version_text());
            exit(0);
        }
        cli::Action::BuildOptions => {
            print!("{}", version::build_options_text());
            exit(0);
        }
        cli::Action::Condition(expr) => exit(check_condition(expr, &mut out)),
        cli::Action::Check | cli::Action::Run => {}
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();

    let files = expand_files(&args.files, &mut out);
    if files.is_empty() {
        print!("{}", version::version_text());
        eprint!("{}", cli::usage(&prog));
        exit(1);
    }
    let compiler = hrs_sample::SampleCompiler::new();
    let ctx = hrs_cfg::ParseCtx {
        features: version::FEATURES,
        version: version::VERSION,
        compiler: &compiler,
        acl_kws: &hrs_sample::SampleKeywords,
        default_nbthread: version::default_nbthread(),
    };
    // the messages include the closing alerts of a failed load; rules, ACLs and log-formats
    // are compiled there too, so that -c reports what startup would
    let (cfg, diags) = hrs_cfg::parse_files(&files, &ctx);
    for d in diags.printed() {
        out.emit_diag(d);
    }
    let opts = hrs_cfg::check::LoadOpts {
        check: args.action == cli::Action::Check,
        quiet: args.quiet,
        zero_warning: args.zero_warning,
    };
    let verdict = hrs_cfg::check::verdict(&cfg, &diags, opts);
    if let Some(alert) = verdict.alert {
        out.emit(Level::Alert, alert);
    }
    for line in &verdict.stdout {
        println!("{line}");
    }
    if let Some(code) = verdict.exit {
        exit(code);
    }
    let listening = hrs_cfg::check::has_listener(&cfg);
    if !listening {
        out.emit(
            Level::Alert,
            "[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
        );
        exit(1);
    }
    exit(run(&args, &cfg, &mut out));
}

/// `-cc <expr>`: 0 when true, 1 when false, 2 (with an alert) when it does not evaluate.
fn check_condition(expr: &str, out: &mut Out) -> i32 {
    let ctx = cond::ProcessCtx {
        features: version::FEATURES,
        version: version::VERSION,
    };
    match cond::check_condition(expr, &ctx) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(alert) => {
            out.emit(Level::Alert, &alert);
            2
        }
    }
}

/// Replaces directories by the `*.cfg` files they hold (not starting with `.`), in lexical
/// order, as HAProxy's `cfgfiles_expand_directories()`. A missing path is fatal.
fn expand_files(files: &[PathBuf], out: &mut Out) -> Vec<PathBuf> {
    let mut res = Vec::new();
    for f in files {
        match std::fs::metadata(f) {
            Err(e) => {
                out.emit(
                    Level::Alert,
                    &format!(
                        "Cannot open configuration file/directory {} : {}",
                        f.display(),
                        io_reason(&e)
                    ),
                );
                exit(1);
            }
            Ok(m) if m.is_dir() => {
                let mut names: Vec<String> = match std::fs::read_dir(f) {
                    Ok(rd) => rd
                        .filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect(),
                    Err(e) => {
                        out.emit(
                            Level::Alert,
                            &format!(
                                "Cannot open configuration directory {} : {}",
                                f.display(),
                                io_reason(&e)
                            ),
                        );
                        exit(1);
                    }
                };
                names.sort();
                for n in names {
                    let p = f.join(&n);
                    if !n.starts_with('.') && n.ends_with(".cfg") && p.is_file() {
                        res.push(p);
                    }
                }
            }
            Ok(_) => res.push(f.clone()),
        }
    }
    res
}

fn write_pidfile(path: &Path, pid: u32, out: &mut Out) -> bool {
    match std::fs::write(path, format!("{pid}\n")) {
        Ok(()) => true,
        Err(e) => {
            out.emit(
                Level::Alert,
                &format!(
                    "[{}.main()] Cannot create pidfile {}",
                    "haproxy",
                    path.display()
                ),
            );
            log::debug!("pidfile: {e}");
            false
        }
    }
}

/// Starts serving. Returns the process exit code.
fn run(args: &cli::Args, cfg: &hrs_cfg::Config, out: &mut Out) -> i32 {
    let pidfile = args
        .pidfile
        .clone()
        .or_else(|| cfg.global.pidfile.as_ref().map(PathBuf::from));
    // Signals are blocked before any fork or thread so that only the signalfd sees them.
    if let Err(e) = hrs_ev::block_signals(&worker::SIGNALS) {
        out.emit(Level::Alert, &format!("cannot block signals: {e}"));
        return 1;
    }
    let master_worker = args.master_worker || cfg.global.master_worker;
    let daemon = (args.daemon || cfg.global.daemon) && !args.foreground;
    if master_worker {
        return master::run(args, cfg, out, pidfile.as_deref(), daemon);
    }
    if daemon {
        // SAFETY: single-threaded here; the child continues with a copy of our state.
        match unsafe { libc::fork() } {
            -1 => {
                out.emit(Level::Alert, "[haproxy.main()] Cannot fork.");
                return 1;
            }
            0 => {
                // SAFETY: plain syscalls in the child.
                unsafe { libc::setsid() };
                detach_stdio();
            }
            child => {
                if let Some(p) = &pidfile {
                    write_pidfile(p, child as u32, out);
                }
                return 0;
            }
        }
    } else if let Some(p) = &pidfile {
        if !write_pidfile(p, std::process::id(), out) {
            return 1;
        }
    }
    run_worker(args, cfg, out)
}

/// Points stdin/stdout/stderr to /dev/null (daemon mode).
fn detach_stdio() {
    // SAFETY: open/dup2/close on descriptors owned by this process.
    unsafe {
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

/// The number of threads to run: `nbthread` when set, else the CPUs this process may run
/// on (`sched_getaffinity`), between 1 and `MAX_THREADS`, as upstream 2.6 defaults.
pub fn nbthread(cfg: &hrs_cfg::Config) -> usize {
    match cfg.global.nbthread {
        Some(n) => n as usize,
        None => version::default_nbthread(),
    }
    .clamp(1, hrs_core::MAX_THREADS)
}

/// One thread's loop: its world over `sh`, its registration of the listeners (thread 0
/// also serves the stats sockets and takes the signals), until it is stopped.
fn run_thread(
    cfg: &hrs_cfg::Config,
    sh: std::sync::Arc<hrs_core::Shared>,
    tid: hrs_core::Tid,
    socks: Vec<std::sync::Arc<worker::ListenSock>>,
    stats: Vec<worker::StatsSock>,
    debug: bool,
    wdt: &watchdog::Registry,
) -> Result<(), String> {
    if let Some(cpus) = affinity::thread_cpus(&cfg.global.cpu_map, usize::from(tid)) {
        affinity::apply(&cpus);
    }
    let mut ev = hrs_ev::Ev::new().map_err(|e| format!("cannot create the poller: {e}"))?;
    if let Some(clock) = watchdog::current_cpu_clock() {
        let mut reg = wdt.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = reg.get_mut(usize::from(tid)) {
            *slot = Some(watchdog::Watched {
                heartbeat: ev.heartbeat(),
                clock,
            });
        }
    }
    let world = hrs_backend::world::build_thread_world(cfg, sh, tid).map_err(|e| e.0)?;
    let mut w = worker::Worker::new(world, &mut ev, socks, stats, debug).map_err(|e| e.0)?;
    while !w.done(&ev) {
        ev.run_once(&mut w)
            .map_err(|e| format!("poller failure: {e}"))?;
    }
    Ok(())
}

/// The worker's life: open listeners, start `nbthread` threads (this one is thread 0), loop
/// until stopped, wait for the other threads. Returns the exit code.
fn run_worker(args: &cli::Args, cfg: &hrs_cfg::Config, out: &mut Out) -> i32 {
    if lock_stats_wanted() {
        hrs_core::lock::count_acquisitions();
    }
    let n = nbthread(cfg);
    let sh = match hrs_backend::world::build_shared(cfg, args.debug, n) {
        Ok(sh) => sh,
        Err(e) => {
            out.emit(Level::Alert, &e.0);
            return 1;
        }
    };
    let socks = match worker::open_sockets(cfg, n) {
        Ok(s) => s,
        Err(worker::BindError(msg)) => {
            out.emit(Level::Alert, &msg);
            return 1;
        }
    };
    let wdt: watchdog::Registry =
        std::sync::Arc::new(std::sync::Mutex::new((0..n).map(|_| None).collect()));
    watchdog::start(std::sync::Arc::clone(&wdt));
    let cfg_shared = std::sync::Arc::new(cfg.clone());
    let mut others = Vec::new();
    for tid in 1..n {
        let (cfg, sh, listeners) = (
            std::sync::Arc::clone(&cfg_shared),
            std::sync::Arc::clone(&sh),
            socks.listeners.clone(),
        );
        let debug = args.debug;
        let wdt = std::sync::Arc::clone(&wdt);
        let spawned = std::thread::Builder::new()
            .name(format!("hrs-thread-{}", tid + 1))
            .spawn(move || {
                let tid = tid as hrs_core::Tid;
                run_thread(&cfg, sh, tid, listeners, Vec::new(), debug, &wdt)
            });
        match spawned {
            Ok(h) => others.push(h),
            Err(e) => {
                out.emit(
                    Level::Alert,
                    &format!("cannot start thread {}: {e}", tid + 1),
                );
                return 1;
            }
        }
    }
    let mut code = 0;
    if let Err(msg) = run_thread(
        cfg,
        std::sync::Arc::clone(&sh),
        0,
        socks.listeners,
        socks.stats,
        args.debug,
        &wdt,
    ) {
        out.emit(Level::Alert, &msg);
        // the other threads stop with this one
        for t in 1..n {
            sh.send(t as hrs_core::Tid, hrs_core::Msg::Stop { hard: true });
        }
        code = 1;
    }
    for h in others {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => {
                out.emit(Level::Alert, &msg);
                code = 1;
            }
            Err(_) => code = 1,
        }
    }
    print_lock_stats();
    code
}

/// `HRS_LOCK_STATS=1` (set by `hrs-bench`): lock acquisitions are counted and printed at exit.
fn lock_stats_wanted() -> bool {
    std::env::var_os("HRS_LOCK_STATS").is_some_and(|v| v == "1")
}

/// Under `HRS_LOCK_STATS=1` (set by `hrs-bench`), one stderr line per lock rank once every
/// thread has stopped: `hrs-lock-stats: RANK acquired N contended M` (`docs/performance.md`).
fn print_lock_stats() {
    if !lock_stats_wanted() {
        return;
    }
    for (rank, acquired, contended) in hrs_core::lock::contention() {
        eprintln!("hrs-lock-stats: {rank:?} acquired {acquired} contended {contended}");
    }
}

mod master {
    //! Master-worker mode (`-W`, `-Ws`): the master forks one worker, relays stop signals to
    //! it and exits once it is gone, with 128 + the signal that asked it to stop (130 for
    //! SIGINT), as HAProxy's master does.

    use super::*;

    fn sigset(sigs: &[i32]) -> libc::sigset_t {
        // SAFETY: sigset_t is plain data initialised by sigemptyset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &s in sigs {
                libc::sigaddset(&mut set, s);
            }
            set
        }
    }

    fn notify_systemd(msg: &str) {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return;
        };
        let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
            return;
        };
        let _ = sock.send_to(msg.as_bytes(), path);
    }

    /// Runs the master; returns its exit code.
    pub fn run(
        args: &cli::Args,
        cfg: &hrs_cfg::Config,
        out: &mut Out,
        pidfile: Option<&Path>,
        daemon: bool,
    ) -> i32 {
        if daemon {
            // SAFETY: single-threaded; the parent only writes nothing and exits.
            match unsafe { libc::fork() } {
                -1 => return 1,
                0 => {
                    // SAFETY: plain syscalls in the child.
                    unsafe { libc::setsid() };
                    detach_stdio();
                }
                _ => return 0,
            }
        }
        if let Some(p) = pidfile {
            if !write_pidfile(p, std::process::id(), out) {
                return 1;
            }
        }
        let mut all = worker::SIGNALS.to_vec();
        all.push(libc::SIGCHLD);
        let set = sigset(&all);
        // SAFETY: blocking signals for this thread; the worker unblocks nothing (it uses a
        // signalfd on the same blocked set).
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        // SAFETY: single-threaded fork; the child runs the worker and exits.
        let child = unsafe { libc::fork() };
        if child < 0 {
            out.emit(Level::Alert, "[haproxy.main()] Cannot fork.");
            return 1;
        }
        if child == 0 {
            let code = run_worker(args, cfg, out);
            exit(code);
        }
        if args.systemd {
            notify_systemd(&format!("READY=1\nMAINPID={}\n", std::process::id()));
        }
        let mut stop_sig: Option<i32> = None;
        loop {
            // SAFETY: waits for one of the blocked signals in `set`.
            let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
            if sig < 0 {
                continue;
            }
            match sig {
                libc::SIGCHLD => {
                    let mut status = 0;
                    // SAFETY: reaps our worker without blocking.
                    let pid = unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
                    if pid == child {
                        out.emit(Level::Warning, "Exiting Master process...");
                        if let Some(s) = stop_sig {
                            return 128 + s;
                        }
                        if libc::WIFEXITED(status) {
                            return libc::WEXITSTATUS(status);
                        }
                        return 128 + libc::WTERMSIG(status);
                    }
                }
                libc::SIGINT | libc::SIGTERM | libc::SIGUSR1 => {
                    // a hard stop overrides an earlier soft one
                    if sig != libc::SIGUSR1 || stop_sig.is_none() {
                        stop_sig = Some(sig);
                    }
                    // SAFETY: signalling our own child.
                    unsafe { libc::kill(child, sig) };
                }
                _ => {}
            }
        }
    }
}
