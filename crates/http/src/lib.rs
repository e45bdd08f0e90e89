//! `hrs-http`: protocol logic of HTTP messages, without I/O (HAProxy's `h1.c`, `http.c`,
//! `h1_htx.c`, `http_htx.c` error messages).
//!
//! Owns the message head model ([`msg`]); the HTTP/1 head parser with HAProxy's message rules,
//! the body framing codecs and the HTTP/1 formatter ([`h1`]); the default error pages
//! ([`errors`]). Knows nothing of connections, streams or configuration.

pub mod errors;
pub mod h1;
pub mod msg;

pub use msg::{BodyLen, HttpHead, Meth, Version};
