//! `hrs-backend`: choosing a server and getting a connection to it (HAProxy's `backend.c`,
//! `lb_*.c`, `queue.c`), and building the runtime proxies and servers from the
//! configuration ([`world::build_shared`], [`world::build_thread_world`]).
//!
//! Threads: the load-balancing state, the queues and server slots are shared, under each
//! backend's lock; a thread's pools are its own, and another thread's idle connections are
//! reached only through that thread's takeover registry ([`server`]); streams of other
//! threads only by message (`docs/threads.md`).

pub mod backend;
pub mod lb;
pub mod pool;
pub mod server;
pub mod world;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_queue;
#[cfg(test)]
mod tests_reuse;
