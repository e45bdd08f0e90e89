//! Unit tests of `hrs-stream`: the analysers driven end to end in-process, on scripted
//! client and server connections (no socket), through the worker's own world builder and
//! task dispatch. [`kit`] is the test world, [`http`] reads what the peers received.

// test support: not every helper serves every test
#[allow(dead_code)]
pub(crate) mod http;
#[allow(dead_code)]
pub(crate) mod kit;

mod analysers;
mod basic;
mod forwardfor;
mod idle;
mod logs;
mod retries;
mod stale;
mod term;
