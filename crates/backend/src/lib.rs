//! `hrs-backend`: choosing a server and getting a connection to it (HAProxy's `backend.c`,
//! `lb_*.c`, `queue.c`).

pub mod backend;
pub mod lb;
pub mod pool;
pub mod server;
