//! `hrs-backend`: choosing a server and getting a connection to it (HAProxy's `backend.c`,
//! `lb_*.c`, `queue.c`), and building the runtime proxies and servers from the
//! configuration ([`world::build_world`]).

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
