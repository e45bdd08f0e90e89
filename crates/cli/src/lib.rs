//! `hrs-cli`: HAProxy's stats socket CLI (`cli.c`, the CLI half of `stats.c`, and the
//! server-state commands of `server.c`/`proxy.c`), byte-compatible with HAProxy 2.6.12 for
//! the commands it supports: `help`, `prompt`, `quit`, `user`, `operator`,
//! `show cli level`, `show info`, `show stat`, `show servers conn|state [<backend>]`,
//! `disable server`, `enable server` and `set server <b>/<s> state ready|drain|maint`.
//!
//! Owns the stats sockets' connections and everything between their bytes and the runtime:
//! request reading and word splitting ([`request`]), the command table and usage messages
//! ([`keywords`]), command execution and levels ([`exec`]), pure formatting of each reply
//! over plain snapshots ([`snapshot`], [`stat`], [`info`], [`servers`]), the window on the
//! [`hrs_core::World`] ([`world`]: snapshots, server lookup, administrative state changes)
//! and the socket plumbing on the worker's event loop ([`io`]). It may read every runtime
//! object and changes only servers' administrative state (with their load-balancing
//! usability, idle connections and queues, through `hrs-backend`). The worker opens the
//! listening sockets and routes `Ctx::CliListener`/`Ctx::CliConn` tasks here.
//!
//! Threads: the CLI runs on thread 0. It reads the shared state only (counters, gauges,
//! queue lengths, per-thread idle counts: `show servers conn` has one column per thread),
//! changes a server's state under its backend's lock, and has the other threads close their
//! idle connections to a server put in maintenance by message (`docs/threads.md`).

pub mod exec;
pub mod info;
pub mod io;
pub mod keywords;
pub mod request;
pub mod servers;
pub mod snapshot;
pub mod stat;
pub mod world;

pub use io::{Cli, CliSock, ProcInfo};

/// Errors of the CLI's API.
#[derive(Debug)]
pub enum CliError {
    /// A listening socket could not be registered in the event loop.
    Register(std::io::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Register(e) => write!(f, "cannot register a stats socket: {e}"),
        }
    }
}

impl std::error::Error for CliError {}
