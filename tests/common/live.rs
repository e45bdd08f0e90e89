//! A proxy that lives for a whole test: spawned once (`BIN -d -f haproxy.cfg` in a fresh temp
//! directory) on a configuration whose `${FE}` is an inherited listener (`fd@N`, made
//! inheritable only in the child between fork and exec), then driven by many connections and
//! checked at the end: still running, no panic in its output.
//!
//! The proxy runs in its own process group, SIGKILLed (group-wide) when the [`LiveProxy`] is
//! dropped, whatever happened. Its stdout and stderr go to `proxy.log` in the temp directory,
//! which is removed on drop unless `HRS_KEEP` is set.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running proxy with one frontend listener.
pub struct LiveProxy {
    child: Child,
    /// Where the `${FE}` listener accepts.
    pub addr: SocketAddr,
    /// Holds `haproxy.cfg` and `proxy.log`.
    pub dir: PathBuf,
    exited: Option<ExitStatus>,
}

impl LiveProxy {
    /// Spawns `bin -d -f haproxy.cfg` with `config`, where `${FE}` becomes `fd@N` of a
    /// listener bound here on 127.0.0.1, port 0. `tag` names the temp directory. Once
    /// spawned, only the proxy holds the listener: if it dies, connecting is refused.
    pub fn spawn(bin: &Path, config: &str, tag: &str) -> LiveProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a listener");
        let addr = listener.local_addr().unwrap();
        let fd = listener.as_raw_fd();
        let dir = std::env::temp_dir().join(format!("hrs-live-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temp dir");
        let config = config.replace("${FE}", &format!("fd@{fd}"));
        std::fs::write(dir.join("haproxy.cfg"), config).expect("cannot write the config");
        let log = File::create(dir.join("proxy.log")).expect("cannot create proxy.log");

        let mut cmd = Command::new(bin);
        cmd.args(["-d", "-f", "haproxy.cfg"])
            .current_dir(&dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env(
                "HOME",
                std::env::var_os("HOME").unwrap_or_else(|| "/root".into()),
            )
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        // SAFETY: only fcntl(2), async-signal-safe, between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        drop(listener);
        LiveProxy {
            child,
            addr,
            dir,
            exited: None,
        }
    }

    /// `None` while the proxy runs, its exit status once it exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Everything the proxy wrote so far (stdout and stderr), lossily decoded.
    pub fn log(&self) -> String {
        let bytes = std::fs::read(self.dir.join("proxy.log")).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The last `n` lines of [`LiveProxy::log`], each cut to 300 characters.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| l.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The lines around the first `panicked` of the log, if any.
    pub fn panic_excerpt(&self) -> Option<String> {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let i = lines.iter().position(|l| l.contains("panicked"))?;
        let from = i.saturating_sub(5);
        let to = (i + 25).min(lines.len());
        Some(lines[from..to].join("\n"))
    }
}

impl Drop for LiveProxy {
    fn drop(&mut self) {
        // SAFETY: plain kill(2); the child leads its own process group (process_group(0)).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        if self.exited.is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::env::var_os("HRS_KEEP").is_some() {
            eprintln!("kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
