//! haproxy-rs configuration language: HAProxy 2.6's `haproxy.cfg` subset.
//!
//! Owns the lexer ([`lexer`]), addresses ([`addr`]), networks as HAProxy reads and compares
//! them ([`net`]), the condition language ([`cond`]), the typed model of a configuration
//! ([`model`]), upstream's keyword names ([`kw`]), the section and keyword parsers
//! ([`parse`]), the process, thread and CPU sets of `cpu-map` and `bind ... thread`
//! ([`thread`]) and the post-parse validity checks ([`check`]). It produces diagnostics
//! ([`diag`]) in HAProxy's wording and never touches sockets or the event loop: the binary
//! turns the model into live objects.

pub mod acl;
pub mod addr;
pub mod check;
pub mod cond;
pub mod diag;
pub mod kw;
pub mod lexer;
pub mod model;
pub mod net;
pub mod parse;
pub mod thread;
pub mod units;

pub use diag::{Diag, Level};
pub use model::Config;
pub use parse::{parse_files, ParseCtx};
