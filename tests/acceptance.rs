//! The issues' acceptance, end to end: `curl`, `wrk -c 100 -d 10s` (no socket error, no
//! non-2xx) and `ab -k` (no failed request, no non-2xx) through `haproxy-rs` to nginx, each on
//! a 4 KB and a 100 KB static file; over HTTP/2 (when nghttp2-client is installed) curl
//! `--http2-prior-knowledge`, nghttp, and h2load with 200,000 requests in three concurrency
//! profiles, to nginx over HTTP/1.1 and over `proto h2`; the proxy alive and panic-free at
//! the end.
//!
//! The work is done by `tools/acceptance.sh`, run here on this test's own binary; it takes
//! about a minute (two 10 s wrk runs, the h2load runs). Without nginx, wrk, ab or curl installed the test prints a
//! note and passes. The script runs in its own process group, which gets SIGTERM (the
//! script's trap stops nginx and the proxy) then SIGKILL if it outlives [`LIMIT`].

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest the script may run.
const LIMIT: Duration = Duration::from_secs(300);

/// `tool` in `PATH` or in the usual sbin directories.
fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

#[test]
fn curl_wrk_ab_through_haproxy_rs_to_nginx() {
    let missing: Vec<&str> = ["nginx", "wrk", "ab", "curl"]
        .into_iter()
        .filter(|t| find_tool(t).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "NOTE: acceptance skipped: {} not installed (needs nginx, wrk, ab, curl)",
            missing.join(", ")
        );
        return;
    }
    let script = common::tests_dir().join("../tools/acceptance.sh");
    let script = script.canonicalize().unwrap_or(script);
    let out_path = std::env::temp_dir().join(format!("hrs-acceptance-{}.log", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("cannot create the output file");
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(common::hrs())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .expect("cannot run bash");

    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("cannot wait for the script") {
            break Some(st);
        }
        if started.elapsed() > LIMIT {
            kill_group(child.id(), libc::SIGTERM);
            std::thread::sleep(Duration::from_secs(3));
            kill_group(child.id(), libc::SIGKILL);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = read_lossy(&out_path);
    let _ = std::fs::remove_file(&out_path);
    println!("{output}");
    eprintln!("acceptance ran in {} s", started.elapsed().as_secs());
    match status {
        None => panic!(
            "tools/acceptance.sh did not finish within {} s:\n{output}",
            LIMIT.as_secs()
        ),
        Some(st) => assert!(
            st.success(),
            "tools/acceptance.sh failed ({}):\n{output}",
            st.code().map_or_else(
                || format!("signal {:?}", st.signal()),
                |c| format!("exit {c}")
            )
        ),
    }
}

fn kill_group(pid: u32, sig: i32) {
    // SAFETY: plain kill(2) on the process group the script leads (process_group(0)).
    unsafe { libc::kill(-(pid as libc::pid_t), sig) };
}

fn read_lossy(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}
