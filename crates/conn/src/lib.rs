//! `hrs-conn`: connections and their muxes (HAProxy's `connection.c`, `raw_sock.c`,
//! `mux_h1.c`, `mux_h2.c`, `mux_pt.c`).
//!
//! Owns the socket I/O of a [`hrs_core::Connection`] ([`sock`]), the HTTP/1 mux that turns
//! bytes into stream messages and back ([`mux_h1`]) and the pass-through mux of `mode tcp`
//! ([`mux_pt`]). May touch the connection it serves and the stream attached to it (its
//! channels and transaction); wakes the stream's task when something changed for it, never
//! calls the stream layer.
//!
//! Threads: everything here runs on the thread that owns the connection. From another
//! thread it touches only shared atomics (frontend gauges when a connection is freed); an
//! idle connection another thread took over is forgotten without touching its socket
//! ([`sock::conn_free`]) and adopted by the taker ([`sock::conn_adopt_back`]):
//! `docs/threads.md`.

pub mod mux_h1;
pub mod mux_h2;
pub mod mux_pt;
pub mod sock;

pub use sock::{conn_adopt_back, conn_free, conn_new_back, conn_new_front};

#[cfg(test)]
mod tests;
