//! `hrs-stream`: sessions, streams and their analysers (HAProxy's `session.c`, `stream.c`,
//! `stream_interface.c`, `http_ana.c`, `log.c`).
//!
//! Owns the life of a client session from accept to close, and of each stream from its
//! creation by the mux to the end of the transaction: request rules, backend switching,
//! server assignment and connection (through `hrs-backend`), retries and timeouts, response
//! rules, locally generated replies, logging, and what happens to both connections at the
//! end. Also dispatches connection I/O callbacks to the right mux ([`io::conn_io_cb`]).
//!
//! Threads: a session and its streams live and die on the thread that accepted them. From
//! other threads this crate touches only the shared state (`World::sh`: counters and
//! gauges as atomics, process variables under their lock); it handles the messages other
//! threads send to the runtime layers ([`io::handle_msg`]). `docs/threads.md`.
//!
//! The stream-interface and the session are modules of this crate rather than crates of
//! their own: both are small state holders whose behaviour is driven by `process_stream`
//! (see `docs/decisions.md`).

pub mod io;
pub mod log;
pub mod rules;
pub mod session;
pub mod stream;
pub mod stream_interface;

pub use io::{conn_io_cb, dispatch};
pub use session::session_accept;
pub use stream::process_stream;

#[cfg(test)]
mod tests;
