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
mod counters;
mod flow;
mod forwardfor;
mod h2;
mod idle;
mod keepalive;
mod logs;
mod ntlm;
mod pools;
mod retries;
mod samples;
mod stale;
mod term;
mod timers;
