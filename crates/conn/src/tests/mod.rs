//! Unit tests of `hrs-conn` on scripted transports (no socket): the socket layer under the
//! readiness contract ([`sock`]) and the HTTP/1 mux with scripted bytes ([`mux_h1`]). The
//! tests play the stream's part themselves: they read what the mux put in the stream and
//! install the response the mux must send. [`kit`] builds the world and the connections.

// test support: not every helper serves every test
#[allow(dead_code)]
mod kit;

mod mux_h1;
mod sock;
