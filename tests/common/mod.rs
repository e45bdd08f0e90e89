//! Helpers shared by the end-to-end tests: where the binaries are, and how to run them.

#![allow(dead_code)]

pub mod cfg_record;
pub mod h2wire;
pub mod live;
pub mod reference;
pub mod rng;
pub mod scenario;

#[allow(unused_imports)]
pub use reference::{knob, knob_on, ours_only, print_now, upstream};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Our binary, built by cargo for this test run.
pub fn hrs() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_haproxy-rs"))
}

/// The workspace's `tests/` directory.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests")
        .canonicalize()
        .unwrap()
}

/// Runs `bin args...` in `dir` with a controlled environment and returns its output.
pub fn run_in(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env(
            "HOME",
            std::env::var_os("HOME").unwrap_or_else(|| "/root".into()),
        )
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .output()
        .expect("cannot run binary")
}
