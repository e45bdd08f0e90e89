//! Unit tests of `hrs-conn` on scripted transports (no socket): the socket layer under the
//! readiness contract ([`sock`]), the HTTP/1 mux with scripted bytes ([`mux_h1`]), the
//! pass-through mux ([`mux_pt`]) and the HTTP/2 mux with raw frames ([`mux_h2`]). The tests
//! play the stream's part themselves: they read what the mux put in the stream and install
//! the response the mux must send. [`kit`] builds the world and the connections, [`h2kit`]
//! the HTTP/2 peers.

// test support: not every helper serves every test
#[allow(dead_code)]
mod kit;

#[allow(dead_code)]
mod h2kit;

// the workspace's raw HTTP/2 codec for tests (frames, HPACK), shared with tests/common
#[allow(dead_code)]
#[path = "../../../../tests/common/h2wire.rs"]
mod h2wire;

mod mux_h1;
mod mux_h2;
mod mux_pt;
mod sock;
