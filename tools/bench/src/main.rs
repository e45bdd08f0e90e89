//! `hrs-bench`: the benchmark driver behind `make bench`. It compares haproxy-rs with
//! upstream haproxy 2.6 and nginx (as reverse proxies, and the backend directly as the
//! limit) on the scenarios of the performance issue (S1 keep-alive HTTP/1.1, S2 clients
//! closing after every request per `http-reuse` mode, S3 HTTP/2, S4 memory of idle
//! connections, S5 latency), alternating the targets over several rounds, and reports
//! medians with their spread and the ratios to haproxy as markdown (stdout and the
//! generated section of `docs/performance.md`) and JSON.
//!
//! This file owns the program's flow and exit status: 0 measured, 1 some run failed (or
//! the setup after the arguments did), 2 bad arguments or missing programs, 130
//! interrupted (nothing written). The modules own the rest: [`cli`] the options,
//! [`runner`] the processes and measurements, [`report`] the output.

mod cli;
mod json;
mod machine;
mod model;
mod parse;
mod procs;
mod report;
mod runner;
mod setup;
mod stats;

use std::path::{Path, PathBuf};

use cli::{Options, Parsed};
use report::Params;
use runner::{Bench, Stop, Tools};

fn main() {
    let code = run();
    std::process::exit(code);
}

/// The workspace root (this crate lives in `tools/bench`), anchoring default paths.
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.join("../..")
        .canonicalize()
        .unwrap_or_else(|_| here.to_path_buf())
}

/// Everything up to the exit status; every process and the temp directory are released
/// before it returns.
fn run() -> i32 {
    let workspace = workspace_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match cli::parse(&args, &workspace) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return 0;
        }
        Err(e) => {
            eprintln!("hrs-bench: {e}");
            eprintln!("{}", cli::USAGE);
            return 2;
        }
    };
    let tools = match find_tools(&opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hrs-bench: {e}");
            return 2;
        }
    };
    procs::install_signal_handlers();
    let fd_limit = match procs::raise_nofile_limit() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hrs-bench: cannot read or raise RLIMIT_NOFILE: {e}");
            return 1;
        }
    };
    let params = make_params(&opts, fd_limit.1);
    let machine = machine::describe(
        &machine::Programs {
            proxy: &tools.proxy,
            haproxy: &tools.haproxy,
            nginx: &tools.nginx,
            wrk: &tools.wrk,
            h2load: &tools.h2load,
            ab: &tools.ab,
        },
        &workspace,
        fd_limit,
    );
    let date = machine::utc_now();
    print_plan(&opts, &params, &tools);

    let tmp = match TempDir::create(opts.keep) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("hrs-bench: cannot create the temp directory: {e}");
            return 1;
        }
    };
    let (results, stop) = {
        let mut bench = match Bench::start(tools, params.clone(), &tmp.path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("hrs-bench: the backend does not start: {e}");
                return 1;
            }
        };
        let outcome = bench.run_all();
        (std::mem::take(&mut bench.results), outcome.err())
        // the backend stops here, before the temp directory goes
    };
    match stop {
        Some(Stop::Interrupted) => {
            eprintln!("hrs-bench: interrupted; everything started is stopped, nothing written");
            return 130;
        }
        Some(Stop::Fatal(e)) => {
            eprintln!("hrs-bench: {e}");
            return 1;
        }
        None => {}
    }

    let section = report::render_section(&results, &machine, &params, &date);
    println!("{section}");
    let mut code = 0;
    let json = report::to_json(&results, &machine, &params, &date).to_pretty();
    match write_file(&opts.json, &json) {
        Ok(()) => eprintln!("hrs-bench: wrote {}", opts.json.display()),
        Err(e) => {
            eprintln!("hrs-bench: {e}");
            code = 1;
        }
    }
    if let Some(doc) = &opts.doc {
        let current = std::fs::read_to_string(doc).unwrap_or_else(|_| report::doc_template());
        match write_file(doc, &report::replace_section(&current, &section)) {
            Ok(()) => eprintln!("hrs-bench: wrote {}", doc.display()),
            Err(e) => {
                eprintln!("hrs-bench: {e}");
                code = 1;
            }
        }
    }
    let with_errors = results.samples.iter().filter(|s| s.errors > 0).count();
    if with_errors > 0 {
        eprintln!("hrs-bench: {with_errors} run(s) had failed requests (marked ⚠ in the tables)");
    }
    if !results.failures.is_empty() {
        eprintln!("hrs-bench: {} run(s) failed:", results.failures.len());
        for f in &results.failures {
            eprintln!(
                "  {} {} {} round {}: {}",
                f.scenario.id(),
                f.case,
                f.target.key(),
                f.round,
                f.message
            );
        }
        code = 1;
    }
    code
}

/// Locates every program; the message says which are missing and how to get them.
fn find_tools(opts: &Options) -> Result<Tools, String> {
    if !runner::is_executable(&opts.proxy) {
        return Err(format!(
            "no proxy binary at {} (build it with `cargo build --release -p haproxy-rs`, or pass --proxy)",
            opts.proxy.display()
        ));
    }
    let mut missing = Vec::new();
    let mut find = |name: &str, package: &str| {
        runner::find_program(name).unwrap_or_else(|| {
            missing.push(format!("{name} (package {package})"));
            PathBuf::new()
        })
    };
    let tools = Tools {
        proxy: opts.proxy.clone(),
        haproxy: find("haproxy", "haproxy"),
        nginx: find("nginx", "nginx"),
        wrk: find("wrk", "wrk"),
        h2load: find("h2load", "nghttp2-client"),
        ab: find("ab", "apache2-utils"),
    };
    if missing.is_empty() {
        Ok(tools)
    } else {
        Err(format!(
            "missing programs: {}; `make bench-deps` installs them",
            missing.join(", ")
        ))
    }
}

/// The fixed parameters of this run, from the options and the fd hard limit.
fn make_params(opts: &Options, fd_hard: u64) -> Params {
    let (idle_conns, maxconn_idle) = setup::idle_conns_for_limit(fd_hard);
    let idle_reason = if idle_conns == 10_000 {
        format!("fd hard limit {fd_hard} allows 10,000")
    } else {
        format!(
            "not 10,000: fd hard limit {fd_hard}, and upstream haproxy needs 2 × maxconn + ~150 descriptors"
        )
    };
    Params {
        rounds: opts.rounds,
        duration: opts.duration,
        warmup: opts.warmup,
        wrk_threads: if procs::online_cpus() > 2 { 2 } else { 1 },
        idle_conns,
        idle_reason,
        maxconn: 4000,
        maxconn_idle,
        worker_connections: (idle_conns + 1000).max(4096),
        ab_cap: 100_000 * u64::from(opts.duration),
        scenarios: opts.only.clone(),
    }
}

fn print_plan(opts: &Options, params: &Params, tools: &Tools) {
    let runs_per_round: usize = params
        .scenarios
        .iter()
        .flat_map(|&sc| model::cases(sc))
        .map(|c| c.targets.len())
        .sum();
    let per_run = opts.warmup + f64::from(opts.duration) + 1.0;
    let total = runs_per_round as f64 * opts.rounds as f64 * per_run;
    eprintln!(
        "hrs-bench: {} run(s) per round × {} round(s), about {:.0} min; proxy {}",
        runs_per_round,
        opts.rounds,
        total / 60.0,
        tools.proxy.display()
    );
    if params.scenarios.contains(&model::Scenario::S4) {
        eprintln!(
            "hrs-bench: S4 with {} idle connections ({})",
            params.idle_conns, params.idle_reason
        );
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The run's temp directory (configs, logs, client outputs), removed on drop unless
/// kept.
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    fn create(keep: bool) -> std::io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("hrs-bench.{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path, keep })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("hrs-bench: kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
