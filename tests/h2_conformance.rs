//! HTTP/2 client-side conformance, checked against transcripts recorded from upstream
//! HAProxy 2.6: each case drives raw HTTP/2 frames (RFC 9113, HPACK per RFC 7541, codec in
//! `common::h2wire`) into a proxy whose frontend speaks HTTP/2 (`bind ... proto h2`, or a
//! plain HTTP bind that must detect the connection preface), in front of a scripted
//! HTTP/1.1 origin run here, and turns what comes back into a normalised transcript: frames
//! in order (type, stream, flags that matter, error codes, decoded header lists, DATA
//! lengths summed per run of frames), whether the connection closed, what the origin
//! received, whether the proxy still runs. Transcripts hold no ports and no timings (a
//! close is "about Ns" within 0.4 s).
//!
//! Upstream's transcript of each case is recorded in `tests/h2/conformance-expected.txt`
//! (one section per case). haproxy-rs's transcript must equal it always, with or without
//! upstream installed, except for the pinned differences of [`PINS`]: documented line
//! substitutions applied to the recorded transcript first (where the `h2` crate signals a
//! protocol error, paces WINDOW_UPDATEs or shuts down differently). A pin is printed with
//! its reason when used, and fails the case once the record no longer has its upstream
//! lines (a stale pin); a request forwarded or refused differently is never pinned. When
//! upstream is installed (tests/common/reference.rs) it runs the same case in parallel,
//! with its own proxy and origin, and its transcript must equal the record as it is, so a
//! change in upstream is noticed. Without upstream, each case says it ran on our side only.
//!
//! Re-recording: `HRS_DIFF_BLESS=1 cargo test -p haproxy-rs --test h2_conformance [CASE]`
//! runs upstream three times per case, records the transcript only if the three agree, then
//! checks haproxy-rs as usual; review the diff of the record before committing it.
//!
//! Cases cover the connection preface and SETTINGS (defaults and `tune.h2.*`), streams,
//! PING, WINDOW_UPDATE and flow control, stream-state and frame-size errors, malformed
//! requests (pseudo-headers, connection-specific fields, content-length mismatches), the
//! HTTP/1 request the origin gets (chunked bodies, `:authority` over `host`, cookies),
//! response trailers, client resets, GOAWAY on soft stop and on `timeout client`, and abuse
//! (rapid reset, CONTINUATION flood, SETTINGS and PING floods, huge header lists, zero
//! window), where only the class of outcome is compared. Where upstream's behaviour departs
//! from the RFC, a comment at the case says so.
//!
//! Knobs, which narrow or change the run and are refused under CI (`common::knob`):
//! `HRS_DIFF_BLESS=1` (above); `HRS_H2_UPSTREAM_ONLY=1` runs only upstream, against the
//! record, and prints its transcripts (haproxy-rs is not checked); `HRS_H2_SELF_CHECK=1`
//! runs upstream in haproxy-rs's place, compared with the record without pins (it checks
//! that transcripts are deterministic; haproxy-rs is not checked). Plain variables, which
//! only add output: `HRS_H2_VERBOSE=1` prints every transcript (with `-- --nocapture`);
//! `HRS_KEEP=1` keeps the proxies' temp directories.

mod common;

use common::h2wire::{self as w, Conn, Frame, Recv};
use common::live::LiveProxy;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ES: u8 = w::END_STREAM;
const EH: u8 = w::END_HEADERS;
/// The longest wait for something that should come at once.
const WAIT: Duration = Duration::from_secs(3);
/// The body of the origin's default response.
const OK_BODY: &[u8] = b"hello from origin\n";

// ---------------------------------------------------------------------------------------
// Pinned differences.

/// A pinned difference: in `case`'s upstream transcript, every run of the consecutive lines
/// `upstream` is replaced by `ours` before the comparison with haproxy-rs's transcript. In
/// `ours`, `{*}` matches any text (for timings). The reason is printed when the pin is used;
/// a pin whose `upstream` lines are not in upstream's transcript fails the case (stale pin);
/// any other difference still fails it. Not applied under `HRS_H2_SELF_CHECK`.
struct Pin {
    case: &'static str,
    upstream: &'static [&'static str],
    ours: &'static [&'static str],
    reason: &'static str,
}

/// The reason shared by the pins of WINDOW_UPDATE totals.
const WU_PACING: &str = "h2 crate: WINDOW_UPDATE only once half a window is consumed \
    (release_capacity threshold), so a few bytes of DATA credit nothing; upstream credits \
    every DATA frame and raises the connection window to 2^31-1 on the first one";
/// The reason shared by the pins of our SETTINGS frame.
const SETTINGS_CONTENT: &str = "SETTINGS content: no ENABLE_CONNECT_PROTOCOL (RFC 8441 \
    extended CONNECT not implemented), MAX_HEADER_LIST_SIZE=tune.bufsize advertised \
    (docs/mux-h2.md), parameters in the h2 crate's order";
/// The reason shared by the pins of FRAME_SIZE_ERROR and FLOW_CONTROL_ERROR codes.
const H2_DECODE_ERR: &str = "h2 crate: a frame it cannot decode (bad length or value) -> \
    GOAWAY PROTOCOL_ERROR; upstream uses the code the RFC 9113 section names \
    (FRAME_SIZE_ERROR §4.2/§6.x, FLOW_CONTROL_ERROR §6.5.2)";
/// The reason shared by the pins of malformed header fields.
const H2_BAD_FIELD: &str = "h2 crate: malformed header field -> connection error \
    PROTOCOL_ERROR (upstream: stream error RST_STREAM; RFC 9113 §5.4.1 allows treating a \
    stream error as a connection error)";
/// The reason shared by the pins of streams errors the h2 crate makes connection errors.
const H2_STREAM_AS_CONN: &str = "h2 crate: this stream error -> connection error (GOAWAY, \
    close); upstream: RST_STREAM and the connection stays (RFC 9113 §5.4.1 allows either)";
/// The reason shared by the pins of the server SETTINGS sent before the preface is checked.
const H2_EARLY_SETTINGS: &str = "h2 crate: the server SETTINGS go out at accept, before the \
    client preface is checked; upstream checks the preface first and closes silently \
    (RFC 9113 §3.4 allows omitting the GOAWAY)";
/// The reason shared by the pins of soft stop.
const H2_SOFT_STOP: &str = "h2 crate graceful shutdown on soft stop: GOAWAY(2^31-1), a \
    PING, the final GOAWAY on its ACK, and a close as soon as no stream is left; upstream \
    sends the final GOAWAY and closes after `timeout client` of idleness";

/// The reason shared by the pins of the reset after a FRAME_SIZE_ERROR on a DATA frame.
const H2_FRAME_SIZE_NO_RST: &str = "after its GOAWAY FRAME_SIZE_ERROR, upstream also resets \
    the stream it was receiving (RST_STREAM NO_ERROR); the h2 crate sends only the GOAWAY, \
    which closes it (RFC 9113 §6.8)";

/// The reason shared by the pins of a client's GOAWAY.
const H2_GOAWAY_ANSWER: &str = "h2 crate: answers a client's GOAWAY with its own \
    GOAWAY(NO_ERROR, last stream) before closing; upstream closes silently (RFC 9113 §6.8 \
    allows both)";

/// The pinned differences, by case in file order. Bugs of ours (a request forwarded or
/// refused differently, wrong statuses, crashes, data loss) are never pinned.
const PINS: &[Pin] = &[
    // settings_default, settings_tuned, preface_on_http_bind.
    Pin {
        case: "settings_default",
        upstream: &["SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, MAX_CONCURRENT_STREAMS=100]"],
        ours: &["SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, MAX_HEADER_LIST_SIZE=16384]"],
        reason: SETTINGS_CONTENT,
    },
    Pin {
        case: "settings_tuned",
        upstream: &[
            "SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, HEADER_TABLE_SIZE=8192, \
                     INITIAL_WINDOW_SIZE=32768, MAX_CONCURRENT_STREAMS=7]",
        ],
        ours: &[
            "SETTINGS s=0 [HEADER_TABLE_SIZE=8192, MAX_CONCURRENT_STREAMS=7, \
                 INITIAL_WINDOW_SIZE=32768, MAX_HEADER_LIST_SIZE=16384]",
        ],
        reason: SETTINGS_CONTENT,
    },
    Pin {
        case: "preface_on_http_bind",
        upstream: &["SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, MAX_CONCURRENT_STREAMS=100]"],
        ours: &["SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, MAX_HEADER_LIST_SIZE=16384]"],
        reason: SETTINGS_CONTENT,
    },
    // settings_max_frame_size.
    Pin {
        case: "settings_max_frame_size",
        upstream: &["bufsize 65536: SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, \
                     MAX_CONCURRENT_STREAMS=100, MAX_FRAME_SIZE=32768]"],
        ours: &["bufsize 65536: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, \
                 MAX_FRAME_SIZE=32768, MAX_HEADER_LIST_SIZE=65536]"],
        reason: SETTINGS_CONTENT,
    },
    Pin {
        case: "settings_max_frame_size",
        upstream: &["bufsize 65536: WINDOW_UPDATE totals: s=0 +2147450880, s=1 +32768"],
        ours: &["bufsize 65536: WINDOW_UPDATE totals: s=0 +32768"],
        reason: WU_PACING,
    },
    Pin {
        case: "settings_max_frame_size",
        upstream: &["default bufsize: SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, \
                     MAX_CONCURRENT_STREAMS=100]"],
        ours: &[
            "default bufsize: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, \
                 MAX_HEADER_LIST_SIZE=16384]",
        ],
        reason: SETTINGS_CONTENT,
    },
    Pin {
        case: "settings_max_frame_size",
        upstream: &["default bufsize: RST_STREAM s=1 NO_ERROR"],
        ours: &[],
        reason: H2_FRAME_SIZE_NO_RST,
    },
    // bad_preface.
    Pin {
        case: "bad_preface",
        upstream: &["wrong preface: CLOSED"],
        ours: &[
            "wrong preface: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, MAX_HEADER_LIST_SIZE=16384]",
            "wrong preface: CLOSED",
        ],
        reason: H2_EARLY_SETTINGS,
    },
    Pin {
        case: "bad_preface",
        upstream: &["HTTP/1.1 request: CLOSED"],
        ours: &[
            "HTTP/1.1 request: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, \
             MAX_HEADER_LIST_SIZE=16384]",
            "HTTP/1.1 request: CLOSED",
        ],
        reason: H2_EARLY_SETTINGS,
    },
    Pin {
        case: "bad_preface",
        upstream: &[
            "PING instead of SETTINGS: SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, \
             MAX_CONCURRENT_STREAMS=100]",
            "PING instead of SETTINGS: CLOSED",
        ],
        ours: &[
            "PING instead of SETTINGS: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, \
             MAX_HEADER_LIST_SIZE=16384]",
            "PING instead of SETTINGS: PING ACK \"12345678\"",
            "PING instead of SETTINGS: still open after 3s",
        ],
        reason: "h2 crate: does not require the client's first frame to be SETTINGS \
                 (RFC 9113 §3.4) and answers the PING; upstream closes (plus our SETTINGS)",
    },
    Pin {
        case: "bad_preface",
        upstream: &[
            "SETTINGS ACK first: SETTINGS s=0 [ENABLE_CONNECT_PROTOCOL=1, \
             MAX_CONCURRENT_STREAMS=100]",
            "SETTINGS ACK first: CLOSED",
        ],
        ours: &[
            "SETTINGS ACK first: SETTINGS s=0 [MAX_CONCURRENT_STREAMS=100, \
             MAX_HEADER_LIST_SIZE=16384]",
            "SETTINGS ACK first: GOAWAY last=0 PROTOCOL_ERROR",
            "SETTINGS ACK first: CLOSED",
        ],
        reason: "h2 crate: an unsolicited SETTINGS ACK as first frame -> GOAWAY \
                 PROTOCOL_ERROR; upstream closes silently (RFC 9113 §3.4 allows omitting \
                 the GOAWAY) (plus our SETTINGS)",
    },
    // ping.
    Pin {
        case: "ping",
        upstream: &["ping of 7 bytes: GOAWAY last=0 FRAME_SIZE_ERROR"],
        ours: &["ping of 7 bytes: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    // window_update_errors.
    Pin {
        case: "window_update_errors",
        upstream: &[
            "increment 0 on an open stream: RST_STREAM s=1 PROTOCOL_ERROR",
            "increment 0 on an open stream: connection still usable",
        ],
        ours: &[
            "increment 0 on an open stream: GOAWAY last=1 PROTOCOL_ERROR",
            "increment 0 on an open stream: CLOSED",
        ],
        reason: H2_STREAM_AS_CONN,
    },
    Pin {
        case: "window_update_errors",
        upstream: &["length 3: GOAWAY last=0 FRAME_SIZE_ERROR"],
        ours: &["length 3: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    // stream_state_errors.
    Pin {
        case: "stream_state_errors",
        upstream: &["HEADERS on stream 3 after 5: GOAWAY last=5 STREAM_CLOSED"],
        ours: &["HEADERS on stream 3 after 5: GOAWAY last=5 PROTOCOL_ERROR"],
        reason: "h2 crate: a stream id not above the last one -> GOAWAY PROTOCOL_ERROR \
                 (RFC 9113 §5.1.1); upstream: STREAM_CLOSED (the stream is implicitly closed)",
    },
    Pin {
        case: "stream_state_errors",
        upstream: &["HEADERS on stream 1 again: GOAWAY last=1 STREAM_CLOSED"],
        ours: &["HEADERS on stream 1 again: GOAWAY last=1 PROTOCOL_ERROR"],
        reason: "h2 crate: HEADERS on a closed stream -> GOAWAY PROTOCOL_ERROR; upstream: \
                 STREAM_CLOSED (RFC 9113 §5.1)",
    },
    Pin {
        case: "stream_state_errors",
        upstream: &[
            "DATA after END_STREAM: RST_STREAM s=1 STREAM_CLOSED",
            "DATA after END_STREAM: connection still usable",
        ],
        ours: &[
            "DATA after END_STREAM: GOAWAY last=1 PROTOCOL_ERROR",
            "DATA after END_STREAM: CLOSED",
        ],
        reason: "h2 crate: DATA on a half-closed (remote) stream -> connection error \
                 PROTOCOL_ERROR; upstream: stream error STREAM_CLOSED (RFC 9113 §5.1; \
                 §5.4.1 allows a connection error)",
    },
    Pin {
        case: "stream_state_errors",
        upstream: &[
            "PRIORITY depending on itself: GOAWAY last=0 PROTOCOL_ERROR",
            "PRIORITY depending on itself: CLOSED",
        ],
        ours: &["PRIORITY depending on itself: connection still usable"],
        reason: "h2 crate: a PRIORITY frame is ignored, even one depending on its own \
                 stream (RFC 9113 §5.3.1: stream error PROTOCOL_ERROR; upstream: connection \
                 error)",
    },
    Pin {
        case: "stream_state_errors",
        upstream: &["PRIORITY of 4 bytes: GOAWAY last=0 FRAME_SIZE_ERROR"],
        ours: &["PRIORITY of 4 bytes: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    Pin {
        case: "stream_state_errors",
        upstream: &[
            "unknown frame type on idle stream 1: GOAWAY last=0 PROTOCOL_ERROR",
            "unknown frame type on idle stream 1: CLOSED",
        ],
        ours: &["unknown frame type on idle stream 1: connection still usable"],
        reason: "h2 crate: frames of unknown type are ignored on any stream (RFC 9113 \
                 §5.5); upstream applies §5.1 first (idle stream -> PROTOCOL_ERROR)",
    },
    Pin {
        case: "stream_state_errors",
        upstream: &[
            "unknown frame type on an open stream: WINDOW_UPDATE totals: s=0 +2147418114, \
             s=1 +2",
        ],
        ours: &[],
        reason: WU_PACING,
    },
    // malformed_requests.
    Pin {
        case: "malformed_requests",
        upstream: &[
            "unknown pseudo-header :foo: RST_STREAM s=1 PROTOCOL_ERROR",
            "unknown pseudo-header :foo: connection still usable",
        ],
        ours: &[
            "unknown pseudo-header :foo: GOAWAY last=0 PROTOCOL_ERROR",
            "unknown pseudo-header :foo: CLOSED",
        ],
        reason: H2_BAD_FIELD,
    },
    Pin {
        case: "malformed_requests",
        upstream: &[
            "uppercase header name: RST_STREAM s=1 PROTOCOL_ERROR",
            "uppercase header name: connection still usable",
        ],
        ours: &[
            "uppercase header name: GOAWAY last=0 PROTOCOL_ERROR",
            "uppercase header name: CLOSED",
        ],
        reason: H2_BAD_FIELD,
    },
    Pin {
        case: "malformed_requests",
        upstream: &[
            "CR LF in a value: RST_STREAM s=1 PROTOCOL_ERROR",
            "CR LF in a value: connection still usable",
        ],
        ours: &[
            "CR LF in a value: GOAWAY last=0 PROTOCOL_ERROR",
            "CR LF in a value: CLOSED",
        ],
        reason: H2_BAD_FIELD,
    },
    Pin {
        case: "malformed_requests",
        upstream: &[
            "NUL in a value: RST_STREAM s=1 PROTOCOL_ERROR",
            "NUL in a value: connection still usable",
        ],
        ours: &[
            "NUL in a value: GOAWAY last=0 PROTOCOL_ERROR",
            "NUL in a value: CLOSED",
        ],
        reason: H2_BAD_FIELD,
    },
    Pin {
        case: "malformed_requests",
        upstream: &[
            "space in a name: RST_STREAM s=1 PROTOCOL_ERROR",
            "space in a name: connection still usable",
        ],
        ours: &[
            "space in a name: GOAWAY last=0 PROTOCOL_ERROR",
            "space in a name: CLOSED",
        ],
        reason: H2_BAD_FIELD,
    },
    Pin {
        case: "malformed_requests",
        upstream: &["empty name: GOAWAY last=0 COMPRESSION_ERROR"],
        ours: &["empty name: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: "h2 crate: an empty field name -> GOAWAY PROTOCOL_ERROR; upstream's HPACK \
                 decoder refuses it with COMPRESSION_ERROR (both connection errors)",
    },
    Pin {
        case: "malformed_requests",
        upstream: &["invalid HPACK (index 0): GOAWAY last=0 COMPRESSION_ERROR"],
        ours: &["invalid HPACK (index 0): GOAWAY last=0 PROTOCOL_ERROR"],
        reason: "h2 crate: an HPACK decoding error -> GOAWAY PROTOCOL_ERROR (RFC 9113 §4.3 \
                 and upstream: COMPRESSION_ERROR)",
    },
    Pin {
        case: "malformed_requests",
        upstream: &["invalid HPACK (index 99): GOAWAY last=0 COMPRESSION_ERROR"],
        ours: &["invalid HPACK (index 99): GOAWAY last=0 PROTOCOL_ERROR"],
        reason: "h2 crate: an HPACK decoding error -> GOAWAY PROTOCOL_ERROR (RFC 9113 §4.3 \
                 and upstream: COMPRESSION_ERROR)",
    },
    // content_length_mismatch.
    Pin {
        case: "content_length_mismatch",
        upstream: &[
            "cl 10, 5 bytes then END_STREAM: WINDOW_UPDATE totals: s=0 +2147418117, \
                     s=1 +5",
        ],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "content_length_mismatch",
        upstream: &[
            "cl 5, 10 bytes in two frames: WINDOW_UPDATE totals: s=0 +2147418117, \
                     s=1 +5",
        ],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "content_length_mismatch",
        upstream: &[
            "two different content-lengths: GOAWAY last=0 PROTOCOL_ERROR",
            "two different content-lengths: CLOSED",
        ],
        ours: &["two different content-lengths: connection still usable"],
        reason: "after the RST_STREAM PROTOCOL_ERROR of a malformed content-length, upstream \
                 also ends the connection (GOAWAY PROTOCOL_ERROR); the h2 crate keeps it \
                 (RFC 9113 §8.1.1: a stream error)",
    },
    Pin {
        case: "content_length_mismatch",
        upstream: &[
            "invalid content-length: GOAWAY last=0 PROTOCOL_ERROR",
            "invalid content-length: CLOSED",
        ],
        ours: &["invalid content-length: connection still usable"],
        reason: "after the RST_STREAM PROTOCOL_ERROR of a malformed content-length, upstream \
                 also ends the connection (GOAWAY PROTOCOL_ERROR); the h2 crate keeps it \
                 (RFC 9113 §8.1.1: a stream error)",
    },
    // request_bodies. Two pins change what reaches the origin; both are deliberate (RFC
    // 9113 on our side) and listed in docs/differences.md.
    Pin {
        case: "request_bodies",
        upstream: &[
            "cl 10, END_STREAM on HEADERS: HEADERS s=1 ES {:status: 200, content-length: 0, \
             x-req-len: 0}",
            "cl 10, END_STREAM on HEADERS: connection still usable",
            "cl 10, END_STREAM on HEADERS: origin: POST /echo HTTP/1.1 | host: example.org || \
             body=\"\"",
        ],
        ours: &[
            "cl 10, END_STREAM on HEADERS: RST_STREAM s=1 PROTOCOL_ERROR",
            "cl 10, END_STREAM on HEADERS: connection still usable",
        ],
        reason: "a content-length of 10 with END_STREAM on HEADERS is malformed (RFC 9113 \
                 §8.1.1): the h2 crate resets the stream; upstream 2.6 forwards the request \
                 without its content-length",
    },
    Pin {
        case: "request_bodies",
        upstream: &[
            "padded DATA, then empty DATA with END_STREAM: GOAWAY last=1 PROTOCOL_ERROR",
            "padded DATA, then empty DATA with END_STREAM: RST_STREAM s=1 NO_ERROR",
            "padded DATA, then empty DATA with END_STREAM: CLOSED",
        ],
        ours: &[
            "padded DATA, then empty DATA with END_STREAM: HEADERS s=1 {:status: 200, \
             content-length: 5, x-req-len: 5}",
            "padded DATA, then empty DATA with END_STREAM: DATA s=1 len=5 ES",
            "padded DATA, then empty DATA with END_STREAM: connection still usable",
            "padded DATA, then empty DATA with END_STREAM: origin: POST /echo HTTP/1.1 | \
             host: example.org | content-length: 5 || body=\"12345\"",
        ],
        reason: "padding: upstream 2.6 fails the connection on the frame after a padded DATA \
                 (its bug: RFC 9113 §6.1 allows padding); the h2 crate skips the padding and \
                 the request is served",
    },
    Pin {
        case: "request_bodies",
        upstream: &["cl 5 exact: WINDOW_UPDATE totals: s=0 +2147418117, s=1 +5"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "request_bodies",
        upstream: &["no cl, two DATA: WINDOW_UPDATE totals: s=0 +2147418123, s=1 +11"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "request_bodies",
        upstream: &["no cl, trailers: WINDOW_UPDATE totals: s=0 +2147418117, s=1 +5"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "request_bodies",
        upstream: &["padded DATA with END_STREAM: WINDOW_UPDATE totals: s=0 +2147418121, s=1 +9"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "request_bodies",
        upstream: &[
            "padded DATA with END_STREAM: GOAWAY last=1 PROTOCOL_ERROR",
            "padded DATA with END_STREAM: CLOSED",
        ],
        ours: &[
            "padded DATA with END_STREAM: connection still usable",
            "padded DATA with END_STREAM: origin: POST /echo HTTP/1.1 | host: example.org | \
             content-length: 5 || body=\"12345\"",
        ],
        reason: "padding: upstream 2.6 answers the frame after a padded DATA with GOAWAY \
                 PROTOCOL_ERROR (after forwarding the same request, hidden by the close); \
                 the h2 crate skips the padding (RFC 9113 §6.1)",
    },
    Pin {
        case: "request_bodies",
        upstream: &[
            "padded DATA, then empty DATA with END_STREAM: WINDOW_UPDATE totals: \
                     s=0 +2147418121, s=1 +9",
        ],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "request_bodies",
        upstream: &["padded DATA of pad length 0: WINDOW_UPDATE totals: s=0 +2147418118, s=1 +6"],
        ours: &[],
        reason: WU_PACING,
    },
    // client_rst_stream.
    Pin {
        case: "client_rst_stream",
        upstream: &["mid-request body: WINDOW_UPDATE totals: s=0 +2147418117, s=1 +5"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "client_rst_stream",
        upstream: &["RST_STREAM of 3 bytes: GOAWAY last=1 FRAME_SIZE_ERROR"],
        ours: &["RST_STREAM of 3 bytes: GOAWAY last=1 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    // settings_errors.
    Pin {
        case: "settings_errors",
        upstream: &["INITIAL_WINDOW_SIZE=2^31: GOAWAY last=0 FLOW_CONTROL_ERROR"],
        ours: &["INITIAL_WINDOW_SIZE=2^31: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    Pin {
        case: "settings_errors",
        upstream: &["length 7: GOAWAY last=0 FRAME_SIZE_ERROR"],
        ours: &["length 7: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    Pin {
        case: "settings_errors",
        upstream: &["ACK with payload: GOAWAY last=0 FRAME_SIZE_ERROR"],
        ours: &["ACK with payload: GOAWAY last=0 PROTOCOL_ERROR"],
        reason: H2_DECODE_ERR,
    },
    // frame_size.
    Pin {
        case: "frame_size",
        upstream: &["DATA of 16384 (the default max): WINDOW_UPDATE totals: \
                     s=0 +2147434496, s=1 +16384"],
        ours: &[],
        reason: WU_PACING,
    },
    Pin {
        case: "frame_size",
        upstream: &["DATA of 16385: RST_STREAM s=1 NO_ERROR"],
        ours: &[],
        reason: H2_FRAME_SIZE_NO_RST,
    },
    // soft_stop_goaway: the whole case is about the shutdown sequence.
    Pin {
        case: "soft_stop_goaway",
        upstream: &[
            "idle: GOAWAY last=2147483647 NO_ERROR",
            "idle: GOAWAY last=0 NO_ERROR",
            "idle: CLOSED",
            "idle: closed about 2s after the signal",
        ],
        ours: &[
            "idle: GOAWAY last=2147483647 NO_ERROR",
            "idle: PING \"\\u{b}{\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}T\"",
            "idle: GOAWAY last=0 NO_ERROR",
            "idle: CLOSED",
            "idle: closed {*}s, not about 2s after the signal",
        ],
        reason: H2_SOFT_STOP,
    },
    Pin {
        case: "soft_stop_goaway",
        upstream: &[
            "used: GOAWAY last=2147483647 NO_ERROR",
            "used: GOAWAY last=1 NO_ERROR",
            "used: CLOSED",
            "used: closed about 2s after the signal",
        ],
        ours: &[
            "used: GOAWAY last=2147483647 NO_ERROR",
            "used: PING \"\\u{b}{\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}T\"",
            "used: GOAWAY last=1 NO_ERROR",
            "used: CLOSED",
            "used: closed {*}s, not about 2s after the signal",
        ],
        reason: H2_SOFT_STOP,
    },
    Pin {
        case: "soft_stop_goaway",
        upstream: &[
            "busy: GOAWAY last=2147483647 NO_ERROR",
            "busy: HEADERS s=1 {:status: 200, content-length: 18, x-req-len: 0}",
            "busy: DATA s=1 len=18 ES",
            "busy: GOAWAY last=1 NO_ERROR",
            "busy: CLOSED",
            "busy: closed about 2.3s after the signal",
        ],
        ours: &[
            "busy: GOAWAY last=2147483647 NO_ERROR",
            "busy: PING \"\\u{b}{\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}T\"",
            "busy: GOAWAY last=1 NO_ERROR",
            "busy: HEADERS s=1 {:status: 200, content-length: 18, x-req-len: 0}",
            "busy: DATA s=1 len=18 ES",
            "busy: CLOSED",
            "busy: closed {*}s, not about 2.3s after the signal",
        ],
        reason: H2_SOFT_STOP,
    },
    Pin {
        case: "soft_stop_goaway",
        upstream: &["proxy exited (exit status: 0) after about 2.3s"],
        ours: &["proxy exited (exit status: 0) after {*}s, not about 2.3s"],
        reason: H2_SOFT_STOP,
    },
    // abuse_rapid_reset.
    Pin {
        case: "abuse_rapid_reset",
        upstream: &["open", "connection still usable"],
        ours: &[
            "GOAWAY last={*} ENHANCE_YOUR_CALM debug=\"too_many_resets\"",
            "CLOSED",
        ],
        reason: "h2 crate: rapid-reset mitigation (max_pending_accept_reset_streams, \
                 CVE-2023-44487) -> GOAWAY ENHANCE_YOUR_CALM and close; upstream 2.6 keeps \
                 the connection",
    },
    // abuse_continuation_flood.
    Pin {
        case: "abuse_continuation_flood",
        upstream: &["100 KB block: GOAWAY last=0 INTERNAL_ERROR"],
        ours: &["100 KB block: GOAWAY last=0 ENHANCE_YOUR_CALM debug=\"too_many_continuations\""],
        reason: "h2 crate: CONTINUATION flood mitigation -> GOAWAY ENHANCE_YOUR_CALM; \
                 upstream: INTERNAL_ERROR (the header block outgrows its buffer)",
    },
    Pin {
        case: "abuse_continuation_flood",
        upstream: &["endless block: GOAWAY last=0 INTERNAL_ERROR"],
        ours: &["endless block: GOAWAY last=0 ENHANCE_YOUR_CALM debug=\"too_many_continuations\""],
        reason: "h2 crate: CONTINUATION flood mitigation -> GOAWAY ENHANCE_YOUR_CALM; \
                 upstream: INTERNAL_ERROR (the header block outgrows its buffer)",
    },
    // abuse_huge_header_list.
    Pin {
        case: "abuse_huge_header_list",
        upstream: &["200 headers of 1 KB: GOAWAY last=0 INTERNAL_ERROR"],
        ours: &["200 headers of 1 KB: GOAWAY last=0 COMPRESSION_ERROR"],
        reason: "h2 crate: a header list above MAX_HEADER_LIST_SIZE, while decoding -> \
                 GOAWAY COMPRESSION_ERROR; upstream: INTERNAL_ERROR (the block outgrows its \
                 buffer)",
    },
    // client_goaway.
    Pin {
        case: "client_goaway",
        upstream: &["GOAWAY on an idle connection: CLOSED"],
        ours: &[
            "GOAWAY on an idle connection: GOAWAY last=0 NO_ERROR",
            "GOAWAY on an idle connection: CLOSED",
        ],
        reason: H2_GOAWAY_ANSWER,
    },
    Pin {
        case: "client_goaway",
        upstream: &[
            "GOAWAY with a stream in flight: DATA s=1 len=18 ES",
            "GOAWAY with a stream in flight: CLOSED",
        ],
        ours: &[
            "GOAWAY with a stream in flight: DATA s=1 len=18 ES",
            "GOAWAY with a stream in flight: GOAWAY last=1 NO_ERROR",
            "GOAWAY with a stream in flight: CLOSED",
        ],
        reason: H2_GOAWAY_ANSWER,
    },
    Pin {
        case: "client_goaway",
        upstream: &["GOAWAY PROTOCOL_ERROR: CLOSED"],
        ours: &[
            "GOAWAY PROTOCOL_ERROR: GOAWAY last=0 NO_ERROR",
            "GOAWAY PROTOCOL_ERROR: CLOSED",
        ],
        reason: H2_GOAWAY_ANSWER,
    },
];

/// A line of the expected transcript: upstream's, or one a pin put in its place.
struct Want {
    text: String,
    /// The pin that put it there.
    pin: Option<usize>,
}

impl Want {
    /// Whether `line` matches: equal, or for a pinned line, equal with each `{*}` standing
    /// for any text.
    fn matches(&self, line: &str) -> bool {
        if self.pin.is_none() {
            return self.text == line;
        }
        let parts: Vec<&str> = self.text.split("{*}").collect();
        if parts.len() == 1 {
            return self.text == line;
        }
        let (first, last) = (parts[0], parts[parts.len() - 1]);
        if !line.starts_with(first) || line.len() < first.len() + last.len() {
            return false;
        }
        let mut rest = &line[first.len()..];
        for p in &parts[1..parts.len() - 1] {
            match rest.find(p) {
                Some(i) => rest = &rest[i + p.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

/// What [`apply_pins`] makes of upstream's transcript.
struct Pinned {
    /// The transcript haproxy-rs must match.
    want: Vec<Want>,
    /// The pins used (index in [`PINS`]) and how many times.
    used: Vec<(usize, usize)>,
    /// The pins whose lines are nowhere in upstream's transcript.
    stale: Vec<usize>,
}

/// Applies `case`'s pins to upstream's transcript, in table order, each to every run of
/// its lines not already pinned.
fn apply_pins(case: &str, upstream: &[String]) -> Pinned {
    let mut want: Vec<Want> = upstream
        .iter()
        .map(|l| Want {
            text: l.clone(),
            pin: None,
        })
        .collect();
    let (mut used, mut stale) = (Vec::new(), Vec::new());
    for (i, p) in PINS.iter().enumerate().filter(|(_, p)| p.case == case) {
        let n = p.upstream.len();
        let mut hits = 0;
        let mut k = 0;
        while n > 0 && k + n <= want.len() {
            let hit = want[k..k + n]
                .iter()
                .zip(p.upstream)
                .all(|(w, u)| w.pin.is_none() && w.text == *u);
            if !hit {
                k += 1;
                continue;
            }
            let repl = p.ours.iter().map(|l| Want {
                text: l.to_string(),
                pin: Some(i),
            });
            want.splice(k..k + n, repl);
            k += p.ours.len();
            hits += 1;
        }
        if hits == 0 {
            stale.push(i);
        } else {
            used.push((i, hits));
        }
    }
    Pinned { want, used, stale }
}

// ---------------------------------------------------------------------------------------
// The scripted HTTP/1.1 origin.

/// One request as the origin received it.
#[derive(Clone, Debug, Default)]
struct OriginReq {
    /// Request line and header lines as received.
    head: Vec<String>,
    /// The body, de-chunked.
    body: Vec<u8>,
    chunked: bool,
    /// Trailer lines of a chunked body.
    trailers: Vec<String>,
    /// False when the connection ended before the whole body.
    complete: bool,
}

/// An HTTP/1.1 server on 127.0.0.1, port 0, one thread per connection, keep-alive. Its
/// answer depends on the path: `/big/N` (N bytes of body), `/trailers` (chunked with a
/// trailer), `/slow/MS` (waits MS ms first), `/echo` (the request body back), anything else
/// `200` with [`OK_BODY`] (its head only for HEAD); every answer carries `x-req-len` (the
/// request body's length).
struct Origin {
    addr: SocketAddr,
    reqs: Arc<Mutex<Vec<OriginReq>>>,
    /// Body bytes written by `/big/N` answers.
    big_sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Origin {
    fn start() -> Origin {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let big_sent = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, b, s) = (reqs.clone(), big_sent.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((sock, _)) => {
                        let (r, b) = (r.clone(), b.clone());
                        std::thread::spawn(move || origin_conn(sock, r, b));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Origin {
            addr,
            reqs,
            big_sent,
            stop,
        }
    }

    fn requests(&self) -> Vec<OriginReq> {
        self.reqs.lock().unwrap().clone()
    }

    /// Waits up to `limit` for `n` requests to have arrived (complete or not).
    fn wait_requests(&self, n: usize, limit: Duration) {
        let end = Instant::now() + limit;
        while self.reqs.lock().unwrap().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// One line per request received, in arrival order.
    fn transcript(&self) -> Vec<String> {
        self.requests().iter().map(describe_origin_req).collect()
    }

    /// [`Origin::transcript`] of the requests received whole.
    fn transcript_complete(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.complete)
            .map(describe_origin_req)
            .collect()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn describe_origin_req(r: &OriginReq) -> String {
    let mut s = format!("origin: {}", r.head.join(" | "));
    if r.body.len() > 100 {
        s += &format!(" || body=<{} bytes>", r.body.len());
    } else {
        s += &format!(" || body={:?}", String::from_utf8_lossy(&r.body));
    }
    if r.chunked {
        s += " (chunked)";
    }
    if !r.trailers.is_empty() {
        s += &format!(" trailers=[{}]", r.trailers.join(" | "));
    }
    if !r.complete {
        s += " INCOMPLETE";
    }
    s
}

/// Reads until `\r\n` (returned without it), or None at EOF/error.
fn read_line(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(i) = buf.windows(2).position(|x| x == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            return Some(line);
        }
        let mut chunk = [0u8; 16384];
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads exactly `n` body bytes into `out`; false if the connection ended first.
fn read_exact_buf(sock: &mut TcpStream, buf: &mut Vec<u8>, n: usize, out: &mut Vec<u8>) -> bool {
    while buf.len() < n {
        let mut chunk = [0u8; 16384];
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => {
                out.append(buf);
                return false;
            }
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
    out.extend(buf.drain(..n));
    true
}

fn origin_conn(mut sock: TcpStream, reqs: Arc<Mutex<Vec<OriginReq>>>, big: Arc<AtomicUsize>) {
    let _ = sock.set_read_timeout(Some(Duration::from_secs(8)));
    let _ = sock.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    loop {
        let mut req = OriginReq::default();
        let Some(first) = read_line(&mut sock, &mut buf) else {
            return;
        };
        req.head.push(first);
        loop {
            let Some(line) = read_line(&mut sock, &mut buf) else {
                push_req(&reqs, req);
                return;
            };
            if line.is_empty() {
                break;
            }
            req.head.push(line);
        }
        let hdr = |name: &str| {
            req.head[1..].iter().find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_ascii_lowercase())
            })
        };
        let cl = hdr("content-length").and_then(|v| v.parse::<usize>().ok());
        req.chunked = hdr("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        // The request is visible as soon as its head is in, the body follows.
        let idx = push_req(&reqs, req.clone());
        let mut complete = true;
        let mut body = Vec::new();
        if req.chunked {
            complete = false;
            while let Some(size_line) = read_line(&mut sock, &mut buf) {
                let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                    .unwrap_or(0);
                if size == 0 {
                    while let Some(t) = read_line(&mut sock, &mut buf) {
                        if t.is_empty() {
                            complete = true;
                            break;
                        }
                        req.trailers.push(t);
                    }
                    break;
                }
                if !read_exact_buf(&mut sock, &mut buf, size, &mut body) {
                    break;
                }
                if read_line(&mut sock, &mut buf).is_none() {
                    break;
                }
            }
        } else if let Some(n) = cl {
            complete = read_exact_buf(&mut sock, &mut buf, n, &mut body);
        }
        req.body = body;
        req.complete = complete;
        let is_head = req.head[0].starts_with("HEAD ");
        let path = req.head[0].split(' ').nth(1).unwrap_or("").to_string();
        let body_len = req.body.len();
        let echo = req.body.clone();
        reqs.lock().unwrap()[idx] = req;
        if !complete {
            return;
        }
        if !origin_answer(&mut sock, &path, is_head, body_len, &echo, &big) {
            return;
        }
    }
}

fn push_req(reqs: &Mutex<Vec<OriginReq>>, r: OriginReq) -> usize {
    let mut v = reqs.lock().unwrap();
    v.push(r);
    v.len() - 1
}

fn origin_answer(
    sock: &mut TcpStream,
    path: &str,
    is_head: bool,
    req_len: usize,
    echo: &[u8],
    big: &AtomicUsize,
) -> bool {
    if let Some(n) = path.strip_prefix("/big/") {
        let n: usize = n.parse().unwrap_or(0);
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\nx-req-len: {req_len}\r\n\r\n");
        if sock.write_all(head.as_bytes()).is_err() {
            return false;
        }
        let chunk = vec![b'x'; 16384];
        let mut left = n;
        while left > 0 {
            let k = left.min(chunk.len());
            if sock.write_all(&chunk[..k]).is_err() {
                return false;
            }
            big.fetch_add(k, Ordering::Relaxed);
            left -= k;
        }
        return true;
    }
    if path == "/trailers" {
        let r = format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-req-len: {req_len}\r\n\r\n\
             5\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: yes\r\nx-checksum: 42\r\n\r\n"
        );
        return sock.write_all(r.as_bytes()).is_ok();
    }
    if let Some(ms) = path.strip_prefix("/slow/") {
        std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(100)));
    }
    let body: &[u8] = if path == "/echo" { echo } else { OK_BODY };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-req-len: {req_len}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).is_ok() && (is_head || sock.write_all(body).is_ok())
}

// ---------------------------------------------------------------------------------------
// Proxy configurations and sides.

/// The knobs of the generated configuration.
#[derive(Default)]
struct Cfg {
    /// Extra `global` lines.
    global: &'static str,
    /// A plain HTTP bind instead of `proto h2`.
    plain_bind: bool,
    /// Extra `frontend` lines.
    frontend: &'static str,
    /// `timeout client`, 5s when empty.
    timeout_client: &'static str,
}

impl Cfg {
    fn render(&self, origin: &Origin) -> String {
        format!(
            "global\n    nbthread 1\n{global}\
             defaults\n    mode http\n    timeout client {tc}\n    timeout server 5s\n    \
             timeout connect 2s\n\
             frontend fe\n    bind ${{FE}}{proto}\n{fe}    default_backend be\n\
             backend be\n    server s1 {origin}\n",
            global = indent(self.global),
            tc = if self.timeout_client.is_empty() {
                "5s"
            } else {
                self.timeout_client
            },
            proto = if self.plain_bind { "" } else { " proto h2" },
            fe = indent(self.frontend),
            origin = origin.addr,
        )
    }
}

fn indent(lines: &str) -> String {
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("    {}\n", l.trim()))
        .collect()
}

/// One binary running one case.
struct Side {
    bin: PathBuf,
    label: &'static str,
    case: &'static str,
    n: AtomicUsize,
}

impl Side {
    /// A fresh origin and a proxy in front of it.
    fn start(&self, cfg: &Cfg) -> (Origin, LiveProxy) {
        let origin = Origin::start();
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let tag = format!("h2-{}-{}-{n}", self.case, self.label);
        let px = LiveProxy::spawn(&self.bin, &cfg.render(&origin), &tag);
        (origin, px)
    }
}

/// The proxy's state at the end of a case: `running`, or how it exited; a panic is marked.
fn proxy_state(px: &mut LiveProxy) -> String {
    let mut s = match px.exit_status() {
        None => "proxy: running".to_string(),
        Some(st) => format!("proxy: exited ({st})"),
    };
    if let Some(p) = px.panic_excerpt() {
        eprintln!("proxy panicked:\n{p}");
        s += " PANICKED";
    }
    s
}

/// Is a variable that only adds output set (not empty, not `0`)? Variables that narrow or
/// change the run go through [`common::knob`] instead.
fn env_on(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The expected transcripts, under `tests/`.
const RECORD: &str = "h2/conformance-expected.txt";
/// The knob that re-records a case's transcript from upstream.
const BLESS: &str = "HRS_DIFF_BLESS";
/// How many upstream runs must agree before their transcript is recorded.
const BLESS_RUNS: usize = 3;
/// The head of a new record file.
const RECORD_HEAD: &str = "\
# Expected transcripts of tests/h2_conformance.rs, one section per case, recorded from
# upstream HAProxy 2.6 (three agreeing runs, `HRS_DIFF_BLESS=1`) and reviewed. upstream is
# checked against them as they are, haproxy-rs with the pinned differences of the test's
# PINS applied.
";

/// Runs `case` on a fresh thread against `bin` (`label` names the run); a panic of the
/// case itself becomes a `CASE PANICKED` line.
fn run_case(
    name: &'static str,
    case: fn(&Side) -> Vec<String>,
    bin: PathBuf,
    label: &'static str,
) -> Vec<String> {
    let side = Side {
        bin,
        label,
        case: name,
        n: AtomicUsize::new(0),
    };
    let h = std::thread::Builder::new()
        .name(format!("{name}-{label}"))
        .spawn(move || case(&side))
        .unwrap();
    match h.join() {
        Ok(t) => t,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            vec![format!("CASE PANICKED: {msg}")]
        }
    }
}

fn show(name: &str, label: &str, t: &[String]) {
    eprintln!("---- {name} [{label}]");
    for l in t {
        eprintln!("  {l}");
    }
}

/// Checks `case` against its recorded transcript (`tests/h2/conformance-expected.txt`):
/// upstream's transcript must equal it, haproxy-rs's must equal it once the case's
/// [`PINS`] are applied (a pin whose upstream lines the record no longer has is stale and
/// fails). Upstream and haproxy-rs run in parallel, each with its own proxy and origin.
///
/// Knobs (refused under CI): `HRS_DIFF_BLESS` records upstream's transcript first (three
/// sequential runs that must agree); `HRS_H2_UPSTREAM_ONLY` runs upstream alone;
/// `HRS_H2_SELF_CHECK` runs upstream in place of haproxy-rs, compared with the record
/// without pins (the suite's determinism). `HRS_H2_VERBOSE` prints the transcripts.
///
/// # Panics
/// On any difference, a missing record, a stale pin, or a knob that cannot be honoured.
fn differential(name: &'static str, case: fn(&Side) -> Vec<String>) {
    let upstream_only = common::knob_on("HRS_H2_UPSTREAM_ONLY");
    let self_check = common::knob_on("HRS_H2_SELF_CHECK");
    let bless = common::knob_on(BLESS);
    let verbose = env_on("HRS_H2_VERBOSE");
    let test = format!("h2_conformance {name}");
    let up = common::upstream(&test);
    if up.is_none() && (upstream_only || self_check || bless) {
        panic!(
            "{test}: HRS_H2_UPSTREAM_ONLY, HRS_H2_SELF_CHECK and {BLESS} need upstream, which \
             is missing"
        );
    }
    let mut errors = String::new();
    if bless {
        let up = up.clone().expect("checked above");
        let runs: Vec<Vec<String>> = (0..BLESS_RUNS)
            .map(|_| run_case(name, case, up.clone(), "upstream"))
            .collect();
        for (k, t) in runs.iter().enumerate() {
            if verbose || k > 0 && *t != runs[0] {
                show(name, &format!("upstream run {}", k + 1), t);
            }
        }
        for (k, t) in runs.iter().enumerate().skip(1) {
            assert!(
                *t == runs[0],
                "{test}: not recorded, upstream runs 1 and {} differ (see above)",
                k + 1
            );
        }
        assert!(
            !runs[0].iter().any(|l| l.starts_with("CASE PANICKED")),
            "{test}: not recorded, the case itself fails against upstream: {:#?}",
            runs[0]
        );
        common::reference::Record::write_section(RECORD, RECORD_HEAD, name, &runs[0]);
        common::print_now(&format!(
            "{test}: recorded {} lines from {BLESS_RUNS} agreeing upstream runs in \
             tests/{RECORD}: review its diff",
            runs[0].len()
        ));
    }
    let record = common::reference::Record::read(RECORD)
        .sections
        .remove(name)
        .unwrap_or_else(|| {
            panic!(
                "{test}: tests/{RECORD} has no section `== {name}`: record it from upstream \
                 with {BLESS}=1, then review it"
            )
        });
    // Not again after a bless; in a self-check, upstream runs in haproxy-rs's place.
    let run_up = up.clone().filter(|_| !bless && !self_check);
    let (t_up, t_hrs) = std::thread::scope(|s| {
        let hu = run_up.map(|b| s.spawn(move || run_case(name, case, b, "upstream")));
        // HRS_H2_SELF_CHECK: upstream in haproxy-rs's place.
        let ours = match &up {
            Some(b) if self_check => b.clone(),
            _ => common::hrs(),
        };
        let hh =
            (!upstream_only).then(|| s.spawn(move || run_case(name, case, ours, "haproxy-rs")));
        (hu.map(|h| h.join().unwrap()), hh.map(|h| h.join().unwrap()))
    });
    if let Some(t) = &t_up {
        if upstream_only || verbose {
            show(name, "upstream", t);
        }
        if *t != record {
            errors += &format!(
                "upstream's transcript differs from the record (- recorded, + upstream; if \
                 upstream changed, re-record with {BLESS}=1 and review)\n{}",
                line_diff(&plain(&record), t)
            );
        }
    }
    // The record with the pinned differences applied (none in a self-check).
    let pinned = apply_pins(if self_check { "" } else { name }, &record);
    for &i in &pinned.stale {
        errors += &format!(
            "stale pin: the recorded transcript no longer has {:?} (reason was: {})\n",
            PINS[i].upstream, PINS[i].reason
        );
    }
    if let Some(t_hrs) = &t_hrs {
        if verbose {
            show(
                name,
                if self_check {
                    "upstream (self-check)"
                } else {
                    "haproxy-rs"
                },
                t_hrs,
            );
        }
        for &(i, hits) in &pinned.used {
            let times = if hits > 1 {
                format!(" ({hits} times)")
            } else {
                String::new()
            };
            eprintln!("{name}: pinned difference{times}: {}", PINS[i].reason);
        }
        let want = &pinned.want;
        let same = want.len() == t_hrs.len() && want.iter().zip(t_hrs).all(|(w, l)| w.matches(l));
        if !same {
            errors += &format!(
                "haproxy-rs differs from the recorded transcript with the pins applied \
                 (- expected, + haproxy-rs; [pin] marks a pinned line: if haproxy-rs now gives \
                 upstream's line, drop the pin)\n{}",
                line_diff(want, t_hrs)
            );
        }
        if up.is_none() {
            common::ours_only(
                &test,
                &format!("case ({} recorded transcript lines)", record.len()),
                1,
            );
        }
    }
    if !errors.is_empty() {
        panic!("{name}: {errors}");
    }
}

/// Lines compared as they are (no pin).
fn plain(lines: &[String]) -> Vec<Want> {
    lines
        .iter()
        .map(|l| Want {
            text: l.clone(),
            pin: None,
        })
        .collect()
}

/// A line diff (longest common subsequence) of the expected transcript `a` against `b`:
/// `  ` common, `- ` only in `a`, `+ ` only in `b`.
fn line_diff(a: &[Want], b: &[String]) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i].matches(&b[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mark = |w: &Want| if w.pin.is_some() { "  [pin]" } else { "" };
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < n || j < m {
        if i < n && j < m && a[i].matches(&b[j]) {
            out += &format!("    {}{}\n", b[j], mark(&a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("  + {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("  - {}{}\n", a[i].text, mark(&a[i]));
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The HTTP/2 client session and its transcript.

/// What ends a [`H2::wait`].
enum Until {
    /// Each of these streams ended (END_STREAM or RST_STREAM).
    Streams(Vec<u32>),
    /// A PING ACK with this payload (not logged).
    PingAck([u8; 8]),
    /// The connection closed.
    Close,
    /// At least this many DATA bytes on this stream.
    Data(u32, usize),
    /// Nothing: read until the limit.
    Quiet,
}

/// One logged event; runs of DATA frames on a stream are summed.
enum Ev {
    Line(String),
    Data { s: u32, len: usize, es: bool },
}

/// A client connection and the transcript of what it got.
struct H2 {
    c: Conn,
    ev: Vec<Ev>,
    closed: bool,
    ping_seq: u8,
    /// WINDOW_UPDATE increments received per stream, reported as totals by [`H2::take`]:
    /// how a proxy batches them is its own business, what it credits in the end is not.
    wu: BTreeMap<u32, u64>,
}

fn describe(f: &Frame) -> String {
    let es = if f.flags & ES != 0 { " ES" } else { "" };
    match f.typ {
        w::HEADERS | w::CONTINUATION => {
            let mut s = format!("{} s={}{es}", w::type_name(f.typ), f.stream);
            if f.flags & EH == 0 {
                s += " (no END_HEADERS)";
            }
            match &f.fields {
                Some(Ok(list)) => {
                    let l: Vec<String> = list.iter().map(|(n, v)| format!("{n}: {v}")).collect();
                    s += &format!(" {{{}}}", l.join(", "));
                }
                Some(Err(e)) => s += &format!(" <HPACK ERROR {e}>"),
                None => {}
            }
            s
        }
        w::SETTINGS if f.flags & w::ACK != 0 => {
            format!("SETTINGS ACK len={}", f.payload.len())
        }
        w::SETTINGS => {
            let p: Vec<String> = f
                .settings()
                .iter()
                .map(|(id, v)| format!("{}={v}", w::setting_name(*id)))
                .collect();
            format!("SETTINGS s={} [{}]", f.stream, p.join(", "))
        }
        w::PING => format!(
            "PING{} {:?}",
            if f.flags & w::ACK != 0 { " ACK" } else { "" },
            String::from_utf8_lossy(&f.payload)
        ),
        w::GOAWAY => {
            let mut s = format!(
                "GOAWAY last={} {}",
                f.goaway_last_stream().unwrap_or(0),
                w::error_name(f.error_code().unwrap_or(0))
            );
            if !f.goaway_debug().is_empty() {
                s += &format!(" debug={:?}", String::from_utf8_lossy(f.goaway_debug()));
            }
            s
        }
        w::RST_STREAM => format!(
            "RST_STREAM s={} {}",
            f.stream,
            w::error_name(f.error_code().unwrap_or(0))
        ),
        w::WINDOW_UPDATE => format!(
            "WINDOW_UPDATE s={} +{}",
            f.stream,
            f.window_increment().unwrap_or(0)
        ),
        _ => format!(
            "{} s={} flags={:#x} len={}",
            w::type_name(f.typ),
            f.stream,
            f.flags,
            f.payload.len()
        ),
    }
}

impl H2 {
    /// Connects, sends nothing.
    fn connect(addr: SocketAddr) -> H2 {
        H2 {
            c: Conn::connect(addr),
            ev: Vec::new(),
            closed: false,
            ping_seq: 0,
            wu: BTreeMap::new(),
        }
    }

    /// Connects and does the handshake (preface, our SETTINGS, ACKs both ways), without
    /// logging it unless `log`.
    fn handshake_with(addr: SocketAddr, ours: &[(u16, u32)], log: bool) -> H2 {
        let mut h = H2::connect(addr);
        h.send(&[w::PREFACE, &w::settings(ours)].concat());
        let end = Instant::now() + WAIT;
        let (mut got_settings, mut got_ack) = (false, false);
        while !(got_settings && got_ack) {
            match h.c.recv(end) {
                Recv::Frame(f) => {
                    if f.typ == w::SETTINGS {
                        if f.flags & w::ACK != 0 {
                            got_ack = true;
                        } else {
                            got_settings = true;
                        }
                    }
                    if log {
                        h.push(&f);
                    } else {
                        h.ack_settings(&f);
                    }
                }
                other => {
                    h.end_event(other, "the handshake");
                    return h;
                }
            }
        }
        if log {
            h.line("handshake done");
        }
        h
    }

    fn handshake(addr: SocketAddr) -> H2 {
        H2::handshake_with(addr, &[], false)
    }

    fn send(&mut self, b: &[u8]) {
        // A failed write shows as a close when reading.
        let _ = self.c.send(b);
    }

    fn line(&mut self, s: impl Into<String>) {
        self.ev.push(Ev::Line(s.into()));
    }

    /// Acknowledges a SETTINGS or a PING from the proxy, as a client must.
    fn ack_settings(&mut self, f: &Frame) {
        if f.typ == w::SETTINGS && f.flags & w::ACK == 0 && f.stream == 0 {
            self.send(&w::settings_ack());
        }
        if f.typ == w::PING && f.flags & w::ACK == 0 && f.stream == 0 && f.payload.len() == 8 {
            let mut p = [0u8; 8];
            p.copy_from_slice(&f.payload);
            self.send(&w::ping(true, p));
        }
    }

    /// Logs a received frame (and ACKs a SETTINGS).
    fn push(&mut self, f: &Frame) {
        self.ack_settings(f);
        if f.typ == w::DATA {
            let len = f.payload.len();
            let es = f.flags & ES != 0;
            if let Some(Ev::Data {
                s,
                len: l,
                es: e @ false,
            }) = self.ev.last_mut()
            {
                if *s == f.stream {
                    *l += len;
                    *e = es;
                    return;
                }
            }
            self.ev.push(Ev::Data {
                s: f.stream,
                len,
                es,
            });
            return;
        }
        if f.typ == w::WINDOW_UPDATE {
            *self.wu.entry(f.stream).or_default() += f.window_increment().unwrap_or(0) as u64;
            return;
        }
        self.ev.push(Ev::Line(describe(f)));
    }

    fn end_event(&mut self, r: Recv, what: &str) {
        match r {
            Recv::Frame(_) => {}
            Recv::Closed { partial } => {
                self.closed = true;
                if partial > 0 {
                    self.line(format!(
                        "CLOSED with {partial} bytes of an incomplete frame"
                    ));
                } else {
                    self.line("CLOSED");
                }
            }
            // A reset after the last frame is a close that had unread input on the proxy
            // side: the same outcome, with timing-dependent flavour.
            Recv::Reset => {
                self.closed = true;
                self.line("CLOSED");
            }
            Recv::Timeout => self.line(format!("TIMEOUT waiting for {what}")),
        }
    }

    /// Reads and logs frames until `until` holds, the connection closes, or `limit`.
    /// Returns whether `until` held (a close satisfies only [`Until::Close`]).
    fn wait(&mut self, until: Until, limit: Duration) -> bool {
        if self.closed {
            return matches!(until, Until::Close);
        }
        let end = Instant::now() + limit;
        let mut pending: Vec<u32> = match &until {
            Until::Streams(v) => v.clone(),
            _ => Vec::new(),
        };
        let mut data_seen = 0usize;
        loop {
            let r = self.c.recv(end);
            let f = match r {
                Recv::Frame(f) => f,
                Recv::Timeout if matches!(until, Until::Quiet) => return true,
                other => {
                    let what = match &until {
                        Until::Streams(v) => format!("the end of streams {v:?}"),
                        Until::PingAck(_) => "a PING ACK".into(),
                        Until::Close => "a close".into(),
                        Until::Data(s, n) => format!("{n} DATA bytes on stream {s}"),
                        Until::Quiet => String::new(),
                    };
                    let is_close = !matches!(other, Recv::Timeout);
                    self.end_event(other, &what);
                    return is_close && matches!(until, Until::Close);
                }
            };
            match &until {
                Until::PingAck(p)
                    if f.typ == w::PING && f.flags & w::ACK != 0 && f.payload == p[..] =>
                {
                    return true;
                }
                _ => {}
            }
            self.push(&f);
            match &until {
                Until::Streams(_)
                    if (f.typ == w::RST_STREAM
                        || (f.flags & ES != 0 && matches!(f.typ, w::DATA | w::HEADERS)))
                        && pending.contains(&f.stream) =>
                {
                    pending.retain(|&s| s != f.stream);
                    if pending.is_empty() {
                        return true;
                    }
                }
                Until::Data(s, n) if f.typ == w::DATA && f.stream == *s => {
                    data_seen += f.payload.len();
                    if data_seen >= *n {
                        return true;
                    }
                }
                _ => {}
            }
        }
    }

    /// Waits for these streams to end, then logs their frames grouped by stream (for
    /// concurrent streams whose frames interleave at will).
    fn wait_grouped(&mut self, streams: &[u32]) {
        let start = self.ev.len();
        self.wait(Until::Streams(streams.to_vec()), WAIT);
        let tail: Vec<Ev> = self.ev.drain(start..).collect();
        let mut by: BTreeMap<u32, Vec<Ev>> = BTreeMap::new();
        let mut rest = Vec::new();
        for e in tail {
            let s = match &e {
                Ev::Data { s, .. } => Some(*s),
                Ev::Line(l) => l
                    .split(' ')
                    .find_map(|t| t.strip_prefix("s="))
                    .and_then(|t| t.parse().ok())
                    .filter(|s| *s != 0),
            };
            match s {
                Some(s) => by.entry(s).or_default().push(e),
                None => rest.push(e),
            }
        }
        for (_, v) in by {
            self.ev.extend(v);
        }
        self.ev.extend(rest);
    }

    /// Sends a PING and reads until its ACK: everything the proxy had to say about what we
    /// sent before is then logged. Returns false if the connection closed instead.
    fn sync(&mut self) -> bool {
        if self.closed {
            return false;
        }
        self.ping_seq += 1;
        let p = *b"sync-00\0";
        let mut p = p;
        p[7] = self.ping_seq;
        self.send(&w::ping(false, p));
        self.wait(Until::PingAck(p), WAIT)
    }

    /// Reads until close (or `limit`), logging.
    fn until_close(&mut self, limit: Duration) -> bool {
        let r = self.wait(Until::Close, limit);
        if !r && !self.closed {
            // `wait` logged a TIMEOUT line; make it explicit.
            if let Some(Ev::Line(l)) = self.ev.last_mut() {
                *l = format!("still open after {}s", limit.as_secs());
            }
        }
        r
    }

    /// The transcript so far, then cleared; WINDOW_UPDATE totals come last.
    fn take(&mut self) -> Vec<String> {
        let mut t: Vec<String> = self
            .ev
            .drain(..)
            .map(|e| match e {
                Ev::Line(l) => l,
                Ev::Data { s, len, es } => {
                    format!("DATA s={s} len={len}{}", if es { " ES" } else { "" })
                }
            })
            .collect();
        if !self.wu.is_empty() {
            let w: Vec<String> = self.wu.iter().map(|(s, n)| format!("s={s} +{n}")).collect();
            t.push(format!("WINDOW_UPDATE totals: {}", w.join(", ")));
            self.wu.clear();
        }
        t
    }

    /// Prefixes each line of [`H2::take`] with `label: `.
    fn take_as(&mut self, label: &str) -> Vec<String> {
        self.take()
            .into_iter()
            .map(|l| format!("{label}: {l}"))
            .collect()
    }
}

/// A request HEADERS frame: pseudo-headers for `method path` at example.org, then `extra`.
fn req(sid: u32, flags: u8, method: &str, path: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    w::headers(
        sid,
        flags,
        &w::encode(&w::request_fields(method, path, "example.org", extra)),
    )
}

fn get(sid: u32, path: &str) -> Vec<u8> {
    req(sid, ES | EH, "GET", path, &[])
}

/// A new connection's GET / on stream 1: its outcome in one line, to show the proxy serves.
fn fresh_get(addr: SocketAddr) -> String {
    let mut h = H2::handshake(addr);
    h.send(&get(1, "/"));
    h.wait(Until::Streams(vec![1]), WAIT);
    format!("fresh connection: {}", h.take().join(" ; "))
}

/// A labelled client script run on a fresh connection.
type Variant = (&'static str, fn(&mut H2));

/// Runs each `(label, f)` on its own fresh connection (after the handshake) to the same
/// proxy, logging each as `label: ...`.
fn variants(addr: SocketAddr, list: &[Variant]) -> Vec<String> {
    let mut t = Vec::new();
    for (label, f) in list {
        let mut h = H2::handshake(addr);
        f(&mut h);
        t.extend(h.take_as(label));
    }
    t
}

/// After a request: wait for stream 1's end (or a close), then a PING round trip to show
/// whether the connection is still usable, then a short wait for a close.
fn settle(h: &mut H2, sid: u32) {
    // A silent proxy costs one wait, not three.
    if h.wait(Until::Streams(vec![sid]), WAIT) || h.closed {
        settle_conn(h);
    }
}

/// After a connection-level event: PING round trip, then close if the proxy closes.
fn settle_conn(h: &mut H2) {
    if h.sync() {
        h.line("connection still usable");
    }
    // Without a PING ACK, the connection closed (logged), or the wait timed out (logged).
}

// ---------------------------------------------------------------------------------------
// 1. Preface and SETTINGS.

fn case_settings(side: &Side, cfg: Cfg) -> Vec<String> {
    let (_o, mut px) = side.start(&cfg);
    let mut h = H2::handshake_with(px.addr, &[], true);
    settle_conn(&mut h);
    let mut t = h.take();
    t.push(proxy_state(&mut px));
    t
}

/// The server speaks first with its SETTINGS, ACKs ours, and advertises its defaults.
/// Upstream advertises only ENABLE_CONNECT_PROTOCOL=1 (RFC 8441) and
/// MAX_CONCURRENT_STREAMS=100, and sends no connection WINDOW_UPDATE at the handshake: it
/// raises the connection window to 2^31-1 with its first WINDOW_UPDATE, on the first DATA.
#[test]
fn settings_default() {
    differential("settings_default", |s| case_settings(s, Cfg::default()));
}

/// `tune.h2.*` change what is advertised. (2.6 refuses `tune.h2.header-table-size` below
/// 4096 at configuration time: "expects a numeric value between 4096 and 65536".)
#[test]
fn settings_tuned() {
    differential("settings_tuned", |s| {
        case_settings(
            s,
            Cfg {
                global: "tune.h2.max-concurrent-streams 7\n\
                         tune.h2.initial-window-size 32768\n\
                         tune.h2.header-table-size 8192",
                ..Cfg::default()
            },
        )
    });
}

/// `tune.h2.max-frame-size` is the SETTINGS_MAX_FRAME_SIZE advertised, capped at
/// `tune.bufsize` (upstream's `h2c_send_settings`: min(max-frame-size, bufsize), sent when
/// not 16384), and frames up to it are received. With `tune.bufsize 65536`, 32768 is
/// advertised and a DATA frame of 32768 bytes (twice the protocol's default) is forwarded;
/// with the default bufsize, 16384 stays the limit (nothing advertised) and a DATA frame of
/// 16385 bytes is a FRAME_SIZE_ERROR.
#[test]
fn settings_max_frame_size() {
    differential("settings_max_frame_size", |side| {
        let mut t = Vec::new();
        let (o, mut px) = side.start(&Cfg {
            global: "tune.bufsize 65536\n\
                     tune.h2.max-frame-size 32768",
            ..Cfg::default()
        });
        let mut h = H2::handshake_with(px.addr, &[], true);
        h.send(&req(1, EH, "POST", "/", &[("content-length", "32768")]));
        h.send(&w::data(1, ES, &[b'a'; 32768]));
        settle(&mut h, 1);
        t.extend(h.take_as("bufsize 65536"));
        t.extend(o.transcript());
        t.push(proxy_state(&mut px));
        let (o, mut px) = side.start(&Cfg {
            global: "tune.h2.max-frame-size 32768",
            ..Cfg::default()
        });
        let mut h = H2::handshake_with(px.addr, &[], true);
        h.send(&req(1, EH, "POST", "/", &[("content-length", "16385")]));
        h.send(&w::data(1, ES, &[b'a'; 16385]));
        settle_conn(&mut h);
        t.extend(h.take_as("default bufsize"));
        // Whether the refused request's head reached the origin first is timing.
        t.extend(o.transcript_complete());
        t.push(proxy_state(&mut px));
        t
    });
}

/// A plain HTTP bind recognises the HTTP/2 preface and serves HTTP/2 (h2c with prior
/// knowledge).
#[test]
fn preface_on_http_bind() {
    differential("preface_on_http_bind", |side| {
        let (o, mut px) = side.start(&Cfg {
            plain_bind: true,
            ..Cfg::default()
        });
        let mut h = H2::handshake_with(px.addr, &[], true);
        h.send(&get(1, "/"));
        h.wait(Until::Streams(vec![1]), WAIT);
        let mut t = h.take();
        t.extend(o.transcript());
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 2. Bad prefaces.

/// Sends `bytes` on a fresh connection and logs what comes back until close: frames if
/// they parse as frames, else the first line of raw bytes.
fn raw_exchange(addr: SocketAddr, label: &str, bytes: &[u8]) -> Vec<String> {
    let mut h = H2::connect(addr);
    h.send(bytes);
    let end = Instant::now() + WAIT;
    // Peek at the first bytes: an HTTP/1 answer is not a frame.
    let mut first = Vec::new();
    while first.len() < 9 && !h.c.eof && Instant::now() < end {
        let r =
            h.c.read_raw_until(Instant::now() + Duration::from_millis(50));
        first.extend(r);
    }
    if first.starts_with(b"HTTP/") {
        let rest = h.c.read_raw_until(end);
        first.extend(rest);
        let text = String::from_utf8_lossy(&first).into_owned();
        let line = text.lines().next().unwrap_or("").to_string();
        let closed = if h.c.eof { "CLOSED" } else { "open" };
        return vec![format!("{label}: HTTP/1 answer {line:?} then {closed}")];
    }
    // Put back what was read and parse frames.
    h.c.unread(&first);
    h.until_close(WAIT);
    h.take_as(label)
}

/// RFC 9113 §3.4 lets a server omit the GOAWAY on a bad preface: upstream closes silently,
/// also when a valid preface is followed by something other than SETTINGS (after sending
/// its own SETTINGS).
#[test]
fn bad_preface() {
    differential("bad_preface", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = Vec::new();
        t.extend(raw_exchange(
            px.addr,
            "wrong preface",
            b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        ));
        t.extend(raw_exchange(
            px.addr,
            "HTTP/1.1 request",
            b"GET / HTTP/1.1\r\nhost: example.org\r\n\r\n",
        ));
        // RFC 9113 §3.4: the preface must be followed by a SETTINGS frame.
        t.extend(raw_exchange(
            px.addr,
            "PING instead of SETTINGS",
            &[w::PREFACE, &w::ping(false, *b"12345678")].concat(),
        ));
        t.extend(raw_exchange(
            px.addr,
            "SETTINGS ACK first",
            &[w::PREFACE, &w::settings_ack()].concat(),
        ));
        t.push(proxy_state(&mut px));
        t
    });
}

/// On a plain HTTP bind, bytes that are not exactly the preface are an HTTP/1 request.
#[test]
fn bad_preface_http_bind() {
    differential("bad_preface_http_bind", |side| {
        let (_o, mut px) = side.start(&Cfg {
            plain_bind: true,
            ..Cfg::default()
        });
        let mut t = raw_exchange(
            px.addr,
            "wrong preface",
            b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        );
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 3. Simple requests.

#[test]
fn get_streams() {
    differential("get_streams", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut h = H2::handshake(px.addr);
        for sid in [1, 3, 5] {
            h.send(&get(sid, &format!("/s{sid}")));
            h.wait(Until::Streams(vec![sid]), WAIT);
        }
        // Two concurrent streams.
        h.send(&[get(7, "/s7"), get(9, "/s9")].concat());
        h.wait_grouped(&[7, 9]);
        let mut t = h.take();
        let mut reqs = o.transcript();
        reqs.sort();
        t.extend(reqs);
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 4. PING.

#[test]
fn ping() {
    differential("ping", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let t = variants(
            px.addr,
            &[
                ("ping", |h| {
                    h.send(&w::ping(false, *b"h2conf!!"));
                    h.wait(Until::Quiet, Duration::from_millis(300));
                }),
                // RFC 9113 §6.7: a PING ACK must not be answered.
                ("ping ack from client", |h| {
                    h.send(&w::ping(true, *b"unasked!"));
                    settle_conn(h);
                }),
                // §6.7: a PING on a stream is a connection error PROTOCOL_ERROR.
                ("ping on stream 1", |h| {
                    h.send(&w::frame(w::PING, 0, 1, b"12345678"));
                    settle_conn(h);
                }),
                // §6.7: a PING whose length is not 8 is a connection error FRAME_SIZE_ERROR.
                ("ping of 7 bytes", |h| {
                    h.send(&w::frame(w::PING, 0, 0, b"1234567"));
                    settle_conn(h);
                }),
            ],
        );
        let mut t = t;
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 5. WINDOW_UPDATE.

/// Opens stream 1 as a POST whose body is still to come (content-length 5).
fn open_post(h: &mut H2) {
    h.send(&req(1, EH, "POST", "/", &[("content-length", "5")]));
}

#[test]
fn window_update_errors() {
    differential("window_update_errors", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                // RFC 9113 §6.9: increment 0 is a PROTOCOL_ERROR, of the connection on
                // stream 0, of the stream otherwise.
                ("increment 0 on stream 0", |h| {
                    h.send(&w::window_update(0, 0));
                    settle_conn(h);
                }),
                ("increment 0 on an open stream", |h| {
                    open_post(h);
                    h.send(&w::window_update(1, 0));
                    settle_conn(h);
                }),
                // §6.9.1: a window above 2^31-1 is a FLOW_CONTROL_ERROR.
                ("connection window overflow", |h| {
                    h.send(&w::window_update(0, 0x7fff_ffff));
                    settle_conn(h);
                }),
                ("stream window overflow", |h| {
                    open_post(h);
                    h.send(&w::window_update(1, 0x7fff_ffff));
                    // The h2 crate may queue its RST_STREAM behind the ACK of a PING read in
                    // the same batch: give it time to come first.
                    h.wait(Until::Quiet, Duration::from_millis(200));
                    settle_conn(h);
                }),
                // §5.1: WINDOW_UPDATE on an idle stream is a connection PROTOCOL_ERROR.
                ("on an idle stream", |h| {
                    h.send(&w::window_update(3, 100));
                    settle_conn(h);
                }),
                // §6.9: a length other than 4 is a FRAME_SIZE_ERROR.
                ("length 3", |h| {
                    h.send(&w::frame(w::WINDOW_UPDATE, 0, 0, &[0, 0, 1]));
                    settle_conn(h);
                }),
                ("valid increment on stream 0", |h| {
                    h.send(&w::window_update(0, 1000));
                    settle_conn(h);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 6. Flow control.

#[test]
fn flow_control_stream_window() {
    differential("flow_control_stream_window", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = Vec::new();
        // A stream window of 10: 10 bytes, then nothing until a WINDOW_UPDATE.
        let mut h = H2::handshake_with(px.addr, &[(w::SETTINGS_INITIAL_WINDOW_SIZE, 10)], false);
        h.send(&get(1, "/big/100"));
        h.wait(Until::Data(1, 10), WAIT);
        h.sync();
        h.wait(Until::Quiet, Duration::from_millis(300));
        h.line("-- WINDOW_UPDATE s=1 +90");
        h.send(&w::window_update(1, 90));
        h.wait(Until::Streams(vec![1]), WAIT);
        t.extend(h.take_as("window 10"));
        // Raising INITIAL_WINDOW_SIZE by SETTINGS applies to open streams (§6.9.2).
        let mut h = H2::handshake_with(px.addr, &[(w::SETTINGS_INITIAL_WINDOW_SIZE, 10)], false);
        h.send(&get(1, "/big/100"));
        h.wait(Until::Data(1, 10), WAIT);
        h.sync();
        h.line("-- SETTINGS INITIAL_WINDOW_SIZE=100");
        h.send(&w::settings(&[(w::SETTINGS_INITIAL_WINDOW_SIZE, 100)]));
        h.wait(Until::Streams(vec![1]), WAIT);
        t.extend(h.take_as("settings raise"));
        // Lowering it makes the window negative (§6.9.2): nothing until it is positive.
        let mut h = H2::handshake_with(px.addr, &[(w::SETTINGS_INITIAL_WINDOW_SIZE, 50)], false);
        h.send(&get(1, "/big/100"));
        h.wait(Until::Data(1, 50), WAIT);
        h.sync();
        h.line("-- SETTINGS INITIAL_WINDOW_SIZE=20 (window -30)");
        h.send(&w::settings(&[(w::SETTINGS_INITIAL_WINDOW_SIZE, 20)]));
        h.sync();
        h.line("-- WINDOW_UPDATE s=1 +40 (window 10)");
        h.send(&w::window_update(1, 40));
        h.wait(Until::Data(1, 10), WAIT);
        h.sync();
        h.wait(Until::Quiet, Duration::from_millis(200));
        h.line("-- WINDOW_UPDATE s=1 +1000");
        h.send(&w::window_update(1, 1000));
        h.wait(Until::Streams(vec![1]), WAIT);
        t.extend(h.take_as("settings lower"));
        t.push(proxy_state(&mut px));
        t
    });
}

#[test]
fn flow_control_connection_window() {
    differential("flow_control_connection_window", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        // The connection window stays 65535 whatever the stream windows (§6.9.2).
        let mut h = H2::handshake_with(
            px.addr,
            &[(w::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20)],
            false,
        );
        h.send(&get(1, "/big/100000"));
        h.wait(Until::Data(1, 65535), WAIT);
        h.sync();
        h.wait(Until::Quiet, Duration::from_millis(300));
        h.line("-- WINDOW_UPDATE s=0 +34465");
        h.send(&w::window_update(0, 34465));
        h.wait(Until::Streams(vec![1]), WAIT);
        let mut t = h.take();
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 7. Stream states.

#[test]
fn stream_state_errors() {
    differential("stream_state_errors", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                // §5.1.1: client streams are odd; an even one is a connection PROTOCOL_ERROR.
                ("HEADERS on stream 2", |h| {
                    h.send(&get(2, "/"));
                    settle_conn(h);
                }),
                ("HEADERS on stream 0", |h| {
                    h.send(&get(0, "/"));
                    settle_conn(h);
                }),
                // §5.1.1: a stream id below one already used is a connection PROTOCOL_ERROR.
                // Upstream sees stream 3 as closed (implicitly, by §5.1.1) and answers
                // GOAWAY STREAM_CLOSED (§5.1, closed state), not PROTOCOL_ERROR.
                ("HEADERS on stream 3 after 5", |h| {
                    h.send(&get(5, "/"));
                    h.wait(Until::Streams(vec![5]), WAIT);
                    h.send(&get(3, "/"));
                    settle_conn(h);
                }),
                // §5.1: HEADERS on a closed stream is a STREAM_CLOSED error.
                ("HEADERS on stream 1 again", |h| {
                    h.send(&get(1, "/"));
                    h.wait(Until::Streams(vec![1]), WAIT);
                    h.send(&get(1, "/"));
                    settle_conn(h);
                }),
                // §6.1: DATA on an idle stream is a connection PROTOCOL_ERROR.
                ("DATA on idle stream 1", |h| {
                    h.send(&w::data(1, ES, b"hello"));
                    settle_conn(h);
                }),
                // §6.1: DATA on stream 0 is a connection PROTOCOL_ERROR.
                ("DATA on stream 0", |h| {
                    h.send(&w::data(0, 0, b"hello"));
                    settle_conn(h);
                }),
                // §5.1: half-closed (remote): DATA is a STREAM_CLOSED stream error.
                ("DATA after END_STREAM", |h| {
                    h.send(&get(1, "/slow/200"));
                    h.send(&w::data(1, ES, b"hello"));
                    settle(h, 1);
                }),
                // §6.4: RST_STREAM on an idle stream is a connection PROTOCOL_ERROR.
                ("RST_STREAM on idle stream 1", |h| {
                    h.send(&w::rst_stream(1, w::CANCEL));
                    settle_conn(h);
                }),
                ("RST_STREAM on stream 0", |h| {
                    h.send(&w::rst_stream(0, w::CANCEL));
                    settle_conn(h);
                }),
                // §6.10: CONTINUATION without HEADERS is a connection PROTOCOL_ERROR.
                ("CONTINUATION alone", |h| {
                    h.send(&w::continuation(1, EH, &w::encode(&[("x-a", "b")])));
                    settle_conn(h);
                }),
                // §6.10: any frame between HEADERS and its CONTINUATION is a connection
                // PROTOCOL_ERROR.
                ("PING inside a header block", |h| {
                    h.send(&req(1, ES, "GET", "/", &[]));
                    h.send(&w::ping(false, *b"inside!!"));
                    settle_conn(h);
                }),
                ("CONTINUATION on another stream", |h| {
                    h.send(&req(1, ES, "GET", "/", &[]));
                    h.send(&w::continuation(3, EH, &w::encode(&[("x-a", "b")])));
                    settle_conn(h);
                }),
                ("HEADERS split in CONTINUATIONs", |h| {
                    let block = w::encode(&w::request_fields(
                        "GET",
                        "/",
                        "example.org",
                        &[("x-a", "b")],
                    ));
                    let (a, b) = block.split_at(10);
                    let (b, c) = b.split_at(10);
                    h.send(
                        &[
                            w::headers(1, ES, a),
                            w::continuation(1, 0, b),
                            w::continuation(1, EH, c),
                        ]
                        .concat(),
                    );
                    settle(h, 1);
                }),
                // RFC 9113 §5.3.1 / RFC 7540 §5.3.1: a stream depending on itself is a
                // *stream* error PROTOCOL_ERROR; upstream makes it a connection error (GOAWAY).
                ("PRIORITY depending on itself", |h| {
                    h.send(&w::priority(1, 1, false, 15));
                    settle_conn(h);
                }),
                // §6.3: PRIORITY on an idle stream is allowed.
                ("PRIORITY on idle stream 3 then GET", |h| {
                    h.send(&w::priority(3, 0, false, 15));
                    h.send(&get(1, "/"));
                    settle(h, 1);
                }),
                ("PRIORITY of 4 bytes", |h| {
                    h.send(&w::frame(w::PRIORITY, 0, 1, &[0, 0, 0, 0]));
                    settle_conn(h);
                }),
                // §5.5: unknown frame types are ignored.
                ("unknown frame type on stream 0", |h| {
                    h.send(&w::frame(0xfa, 0x5, 0, b"whatever"));
                    h.send(&get(1, "/"));
                    settle(h, 1);
                }),
                // Upstream applies §5.1 (only HEADERS or PRIORITY on an idle stream, else a
                // connection PROTOCOL_ERROR) before §5.5 (ignore unknown types).
                ("unknown frame type on idle stream 1", |h| {
                    h.send(&w::frame(0xfa, 0, 1, b"whatever"));
                    settle_conn(h);
                }),
                ("unknown frame type on an open stream", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "2")]));
                    h.send(&w::frame(0xfa, 0, 1, b"whatever"));
                    h.send(&w::data(1, ES, b"ok"));
                    settle(h, 1);
                }),
                // §6.6: a client cannot push.
                ("PUSH_PROMISE from client", |h| {
                    let mut p = 2u32.to_be_bytes().to_vec();
                    p.extend(w::encode(&w::request_fields(
                        "GET",
                        "/",
                        "example.org",
                        &[],
                    )));
                    h.send(&w::frame(w::PUSH_PROMISE, EH, 1, &p));
                    settle_conn(h);
                }),
                // §6.1 / §6.2: padding longer than the payload is a PROTOCOL_ERROR.
                ("HEADERS with too much padding", |h| {
                    let mut p = vec![200u8];
                    p.extend(w::encode(&w::request_fields(
                        "GET",
                        "/",
                        "example.org",
                        &[],
                    )));
                    h.send(&w::frame(w::HEADERS, ES | EH | w::PADDED, 1, &p));
                    settle_conn(h);
                }),
                ("HEADERS with padding and priority", |h| {
                    let mut p = vec![4u8];
                    p.extend(0u32.to_be_bytes());
                    p.push(200);
                    p.extend(w::encode(&w::request_fields(
                        "GET",
                        "/",
                        "example.org",
                        &[],
                    )));
                    p.extend([0u8; 4]);
                    h.send(&w::frame(
                        w::HEADERS,
                        ES | EH | w::PADDED | w::PRIORITY_FLAG,
                        1,
                        &p,
                    ));
                    settle(h, 1);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 8. Malformed requests (RFC 9113 §8.1.1, §8.2, §8.3.1).

/// Sends one request HEADERS (END_STREAM) with exactly these fields on stream 1.
fn send_fields(h: &mut H2, fields: &[(&str, &str)]) {
    h.send(&w::headers(1, ES | EH, &w::encode(fields)));
    settle(h, 1);
}

#[test]
fn malformed_requests() {
    differential("malformed_requests", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                ("missing :method", |h| {
                    send_fields(
                        h,
                        &[(":scheme", "http"), (":path", "/"), (":authority", "a.org")],
                    )
                }),
                ("missing :path", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":authority", "a.org"),
                        ],
                    )
                }),
                ("missing :scheme", |h| {
                    send_fields(
                        h,
                        &[(":method", "GET"), (":path", "/"), (":authority", "a.org")],
                    )
                }),
                ("empty :path", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", ""),
                            (":authority", "a.org"),
                        ],
                    )
                }),
                ("unknown pseudo-header :foo", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            (":authority", "a.org"),
                            (":foo", "bar"),
                        ],
                    )
                }),
                ("response pseudo-header :status", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            (":status", "200"),
                        ],
                    )
                }),
                ("duplicate :method", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                        ],
                    )
                }),
                ("pseudo-header after a regular one", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            ("user-agent", "x"),
                            (":path", "/"),
                        ],
                    )
                }),
                ("uppercase header name", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("User-Agent", "x"),
                        ],
                    )
                }),
                ("connection: keep-alive", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("connection", "keep-alive"),
                        ],
                    )
                }),
                ("keep-alive header", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("keep-alive", "timeout=5"),
                        ],
                    )
                }),
                ("proxy-connection header", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("proxy-connection", "close"),
                        ],
                    )
                }),
                ("upgrade header", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("upgrade", "websocket"),
                        ],
                    )
                }),
                ("transfer-encoding header", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("transfer-encoding", "chunked"),
                        ],
                    )
                }),
                ("te: gzip", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("te", "gzip"),
                        ],
                    )
                }),
                ("te: trailers", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("te", "trailers"),
                        ],
                    )
                }),
                ("CR LF in a value", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("x-a", "1\r\nx-b: 2"),
                        ],
                    )
                }),
                ("NUL in a value", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("x-a", "1\0"),
                        ],
                    )
                }),
                ("space in a name", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("x a", "1"),
                        ],
                    )
                }),
                // §8.2: an empty name makes the request malformed (a stream error); upstream's
                // HPACK decoder refuses it: GOAWAY COMPRESSION_ERROR (§4.3).
                ("empty name", |h| {
                    send_fields(
                        h,
                        &[
                            (":method", "GET"),
                            (":scheme", "http"),
                            (":path", "/"),
                            ("", "1"),
                        ],
                    )
                }),
                ("CONNECT without :authority", |h| {
                    send_fields(h, &[(":method", "CONNECT")])
                }),
                ("invalid HPACK (index 0)", |h| {
                    h.send(&w::headers(1, ES | EH, &[0x80]));
                    settle(h, 1);
                }),
                ("invalid HPACK (index 99)", |h| {
                    h.send(&w::headers(1, ES | EH, &[0x80 | 99]));
                    settle(h, 1);
                }),
            ],
        );
        t.extend(o.transcript());
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 9. content-length (§8.1.1: a mismatch makes the request malformed).

#[test]
fn content_length_mismatch() {
    differential("content_length_mismatch", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                ("cl 10, 5 bytes then END_STREAM", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "10")]));
                    h.send(&w::data(1, ES, b"12345"));
                    settle(h, 1);
                }),
                ("cl 5, 10 bytes", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                    h.send(&w::data(1, ES, b"1234567890"));
                    settle(h, 1);
                }),
                ("cl 5, 10 bytes in two frames", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                    h.send(&w::data(1, 0, b"12345"));
                    h.send(&w::data(1, ES, b"67890"));
                    settle(h, 1);
                }),
                // §8.1.1 makes these malformed (a stream error): upstream sends RST_STREAM
                // PROTOCOL_ERROR, and then GOAWAY PROTOCOL_ERROR too.
                ("two different content-lengths", |h| {
                    h.send(&req(
                        1,
                        EH,
                        "POST",
                        "/echo",
                        &[("content-length", "5"), ("content-length", "6")],
                    ));
                    h.send(&w::data(1, ES, b"12345"));
                    settle(h, 1);
                }),
                ("invalid content-length", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5x")]));
                    h.send(&w::data(1, ES, b"12345"));
                    settle(h, 1);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

/// Bodies that are right: the origin gets them with the right framing.
#[test]
fn request_bodies() {
    differential("request_bodies", |side| {
        let mut t = Vec::new();
        let run = |side: &Side, f: fn(&mut H2, &Origin)| {
            let (o, mut px) = side.start(&Cfg::default());
            let mut h = H2::handshake(px.addr);
            f(&mut h, &o);
            let mut t = h.take();
            // After a connection error, whether the request reached the origin is timing.
            if !h.closed {
                t.extend(o.transcript());
            }
            t.push(proxy_state(&mut px));
            t
        };
        type BodyCase = (&'static str, fn(&mut H2, &Origin));
        let cases: [BodyCase; 9] = [
            ("cl 5 exact", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                h.send(&w::data(1, ES, b"12345"));
                settle(h, 1);
            }),
            // No content-length and no END_STREAM on HEADERS: the length is unknown, so the
            // HTTP/1 request is chunked.
            ("no cl, two DATA", |h, o| {
                h.send(&req(1, EH, "POST", "/echo", &[]));
                h.send(&w::data(1, 0, b"hello "));
                o.wait_requests(1, WAIT);
                std::thread::sleep(Duration::from_millis(50));
                h.send(&w::data(1, ES, b"world"));
                settle(h, 1);
            }),
            ("no cl, empty DATA with END_STREAM", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[]));
                h.send(&w::data(1, ES, b""));
                settle(h, 1);
            }),
            // Trailers in a request (§8.1): HEADERS with END_STREAM after the DATA.
            ("no cl, trailers", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[]));
                h.send(&w::data(1, 0, b"hello"));
                h.send(&w::headers(1, ES | EH, &w::encode(&[("x-trailer", "t1")])));
                settle(h, 1);
            }),
            // §8.1.1: content-length 10 with no DATA at all is malformed, yet upstream
            // forwards it (see the origin's line).
            ("cl 10, END_STREAM on HEADERS", |h, _| {
                h.send(&req(
                    1,
                    ES | EH,
                    "POST",
                    "/echo",
                    &[("content-length", "10")],
                ));
                settle(h, 1);
            }),
            // §6.1: padding is valid. Upstream 2.6.12 forwards the body, yet answers the next
            // frame after a DATA frame with non-zero padding with GOAWAY PROTOCOL_ERROR, as if
            // the padding were not skipped (pad length 0 is fine).
            ("padded DATA with END_STREAM", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                let mut p = vec![3u8];
                p.extend(b"12345");
                p.extend([0u8; 3]);
                h.send(&w::frame(w::DATA, ES | w::PADDED, 1, &p));
                settle(h, 1);
            }),
            ("padded DATA, then empty DATA with END_STREAM", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                let mut p = vec![3u8];
                p.extend(b"12345");
                p.extend([0u8; 3]);
                h.send(&w::frame(w::DATA, w::PADDED, 1, &p));
                h.send(&w::data(1, ES, b""));
                settle(h, 1);
            }),
            ("padded DATA of pad length 0", |h, _| {
                h.send(&req(1, EH, "POST", "/echo", &[("content-length", "5")]));
                h.send(&w::frame(w::DATA, ES | w::PADDED, 1, b"\x0012345"));
                settle(h, 1);
            }),
            (
                "GET, HEADERS without END_STREAM, then empty DATA",
                |h, _| {
                    h.send(&req(1, EH, "GET", "/", &[]));
                    h.send(&w::data(1, ES, b""));
                    settle(h, 1);
                },
            ),
        ];
        for (label, f) in cases {
            t.extend(run(side, f).into_iter().map(|l| format!("{label}: {l}")));
        }
        t
    });
}

// ---------------------------------------------------------------------------------------
// 10. The HTTP/1 request the origin gets.

#[test]
fn origin_request() {
    differential("origin_request", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut h = H2::handshake(px.addr);
        // :authority wins over host (RFC 9113 §8.3.1).
        h.send(&w::headers(
            1,
            ES | EH,
            &w::encode(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/a?x=1"),
                (":authority", "from-authority.example"),
                ("host", "from-host.example"),
            ]),
        ));
        h.wait(Until::Streams(vec![1]), WAIT);
        o.wait_requests(1, WAIT);
        // host only.
        h.send(&w::headers(
            3,
            ES | EH,
            &w::encode(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/b"),
                ("host", "only-host.example"),
            ]),
        ));
        h.wait(Until::Streams(vec![3]), WAIT);
        o.wait_requests(2, WAIT);
        // Neither.
        h.send(&w::headers(
            5,
            ES | EH,
            &w::encode(&[(":method", "GET"), (":scheme", "http"), (":path", "/c")]),
        ));
        h.wait(Until::Streams(vec![5]), WAIT);
        o.wait_requests(3, WAIT);
        // Cookie crumbs are joined with "; " (§8.2.3), other fields in order.
        h.send(&w::headers(
            7,
            ES | EH,
            &w::encode(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/d"),
                (":authority", "example.org"),
                ("cookie", "a=1"),
                ("x-one", "1"),
                ("cookie", "b=2"),
                ("x-two", "2"),
                ("cookie", "c=3"),
            ]),
        ));
        h.wait(Until::Streams(vec![7]), WAIT);
        o.wait_requests(4, WAIT);
        // A method other than GET, and an asterisk path.
        h.send(&w::headers(
            9,
            ES | EH,
            &w::encode(&[
                (":method", "OPTIONS"),
                (":scheme", "http"),
                (":path", "*"),
                (":authority", "example.org"),
            ]),
        ));
        h.wait(Until::Streams(vec![9]), WAIT);
        o.wait_requests(5, WAIT);
        let mut t = h.take();
        t.extend(o.transcript());
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 11. Response trailers, and response framings.

#[test]
fn response_framing() {
    differential("response_framing", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut h = H2::handshake(px.addr);
        h.send(&get(1, "/trailers"));
        h.wait(Until::Streams(vec![1]), WAIT);
        h.send(&req(3, ES | EH, "HEAD", "/", &[]));
        h.wait(Until::Streams(vec![3]), WAIT);
        h.send(&get(5, "/big/40000"));
        h.wait(Until::Streams(vec![5]), WAIT);
        let mut t = h.take();
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 12. Client resets.

#[test]
fn client_rst_stream() {
    differential("client_rst_stream", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                ("mid-request body", |h| {
                    h.send(&req(1, EH, "POST", "/echo", &[("content-length", "10")]));
                    h.send(&w::data(1, 0, b"12345"));
                    h.send(&w::rst_stream(1, w::CANCEL));
                    h.send(&get(3, "/"));
                    h.wait(Until::Streams(vec![3]), WAIT);
                    settle_conn(h);
                }),
                ("while the response is pending", |h| {
                    h.send(&get(1, "/slow/300"));
                    h.sync();
                    h.send(&w::rst_stream(1, w::CANCEL));
                    h.send(&get(3, "/"));
                    h.wait(Until::Streams(vec![3]), WAIT);
                    h.wait(Until::Quiet, Duration::from_millis(500));
                    settle_conn(h);
                }),
                ("during a window-blocked response", |h| {
                    h.send(
                        &[
                            w::settings(&[(w::SETTINGS_INITIAL_WINDOW_SIZE, 100)]),
                            get(1, "/big/50000"),
                        ]
                        .concat(),
                    );
                    h.wait(Until::Data(1, 100), WAIT);
                    h.send(&w::rst_stream(1, w::CANCEL));
                    h.send(&w::settings(&[(w::SETTINGS_INITIAL_WINDOW_SIZE, 65535)]));
                    h.send(&get(3, "/"));
                    h.wait(Until::Streams(vec![3]), WAIT);
                    settle_conn(h);
                }),
                // §6.4: RST_STREAM of a length other than 4 is a FRAME_SIZE_ERROR.
                ("RST_STREAM of 3 bytes", |h| {
                    h.send(&get(1, "/slow/300"));
                    h.send(&w::frame(w::RST_STREAM, 0, 1, &[0, 0, 8]));
                    settle_conn(h);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 13. SETTINGS errors and frame sizes.

#[test]
fn settings_errors() {
    differential("settings_errors", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                // §6.5.2: ENABLE_PUSH other than 0 or 1 is a PROTOCOL_ERROR.
                ("ENABLE_PUSH=2", |h| {
                    h.send(&w::settings(&[(w::SETTINGS_ENABLE_PUSH, 2)]));
                    settle_conn(h);
                }),
                // §6.5.2: INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR.
                ("INITIAL_WINDOW_SIZE=2^31", |h| {
                    h.send(&w::settings(&[(w::SETTINGS_INITIAL_WINDOW_SIZE, 1 << 31)]));
                    settle_conn(h);
                }),
                // §6.5.2: MAX_FRAME_SIZE outside 2^14..2^24-1 is a PROTOCOL_ERROR.
                ("MAX_FRAME_SIZE=16383", |h| {
                    h.send(&w::settings(&[(w::SETTINGS_MAX_FRAME_SIZE, 16383)]));
                    settle_conn(h);
                }),
                ("MAX_FRAME_SIZE=2^24", |h| {
                    h.send(&w::settings(&[(w::SETTINGS_MAX_FRAME_SIZE, 1 << 24)]));
                    settle_conn(h);
                }),
                // §6.5: a length not a multiple of 6 is a FRAME_SIZE_ERROR.
                ("length 7", |h| {
                    h.send(&w::frame(w::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 10, 0]));
                    settle_conn(h);
                }),
                // §6.5: an ACK with a payload is a FRAME_SIZE_ERROR.
                ("ACK with payload", |h| {
                    h.send(&w::frame(w::SETTINGS, w::ACK, 0, &[0, 3, 0, 0, 0, 10]));
                    settle_conn(h);
                }),
                // §6.5: SETTINGS on a stream is a PROTOCOL_ERROR.
                ("on stream 1", |h| {
                    h.send(&w::frame(w::SETTINGS, 0, 1, &[]));
                    settle_conn(h);
                }),
                // §6.5.2: unknown settings are ignored.
                ("unknown id 0x99", |h| {
                    h.send(&w::settings(&[(0x99, 1)]));
                    settle_conn(h);
                }),
                ("ENABLE_CONNECT_PROTOCOL=1 and MAX_HEADER_LIST_SIZE", |h| {
                    h.send(&w::settings(&[
                        (w::SETTINGS_ENABLE_CONNECT_PROTOCOL, 1),
                        (w::SETTINGS_MAX_HEADER_LIST_SIZE, 100000),
                        (w::SETTINGS_HEADER_TABLE_SIZE, 0),
                    ]));
                    h.send(&get(1, "/"));
                    settle(h, 1);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

#[test]
fn frame_size() {
    differential("frame_size", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                ("DATA of 16384 (the default max)", |h| {
                    h.send(&req(1, EH, "POST", "/", &[("content-length", "16384")]));
                    h.send(&w::data(1, ES, &[b'a'; 16384]));
                    settle(h, 1);
                }),
                // §4.2: a frame above SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR. Upstream
                // sends GOAWAY FRAME_SIZE_ERROR (last=1), then RST_STREAM s=1 NO_ERROR.
                ("DATA of 16385", |h| {
                    h.send(&req(1, EH, "POST", "/", &[("content-length", "16385")]));
                    h.send(&w::data(1, ES, &[b'a'; 16385]));
                    settle_conn(h);
                }),
                ("HEADERS of 16385", |h| {
                    let mut block = w::encode(&w::request_fields("GET", "/", "example.org", &[]));
                    let pad = 16385 - block.len() - 10;
                    w::encode_literal(&mut block, b"x-pad", &vec![b'p'; pad]);
                    assert_eq!(block.len(), 16385);
                    h.send(&w::headers(1, ES | EH, &block));
                    settle_conn(h);
                }),
                ("unknown type of 16385", |h| {
                    h.send(&w::frame(0xfa, 0, 0, &[0u8; 16385]));
                    settle_conn(h);
                }),
                ("length announced 2^24-1, 100 bytes sent", |h| {
                    h.send(&w::frame_with_len(0xff_ffff, w::DATA, 0, 1, &[0u8; 100]));
                    h.until_close(Duration::from_secs(2));
                }),
            ],
        );
        // Whether the rejected requests' heads reached the origin first is timing.
        t.extend(o.transcript_complete());
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 14. GOAWAY on soft stop.

/// The pid of the process running in the proxy's directory (its cwd).
fn proxy_pid(px: &LiveProxy) -> Option<i32> {
    let dir = px.dir.canonicalize().ok()?;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid as u32 == std::process::id() {
            continue;
        }
        if std::fs::read_link(e.path().join("cwd")).ok().as_deref() == Some(dir.as_path()) {
            return Some(pid);
        }
    }
    None
}

/// `about Ns` when `since` is `expect` seconds ago (within 0.4 s), else the actual delay.
fn close_time(since: Instant, expect: f64) -> String {
    let s = since.elapsed().as_secs_f64();
    if env_on("HRS_H2_VERBOSE") {
        eprintln!("(after {s:.3}s)");
    }
    if (s - expect).abs() < 0.4 {
        format!("about {expect}s")
    } else {
        format!("{s:.1}s, not about {expect}s")
    }
}

/// SIGUSR1 (soft stop): upstream sends GOAWAY(2^31-1, NO_ERROR) at once on every
/// connection (the two-step shutdown of RFC 9113 §6.8), lets streams in flight finish, then
/// when the connection has been idle for `timeout client`, GOAWAY(last stream, NO_ERROR) and
/// a close; the process exits once the last connection is gone.
#[test]
fn soft_stop_goaway() {
    differential("soft_stop_goaway", |side| {
        let (_o, mut px) = side.start(&Cfg {
            timeout_client: "2s",
            ..Cfg::default()
        });
        let mut idle = H2::handshake(px.addr);
        let mut used = H2::handshake(px.addr);
        used.send(&get(1, "/"));
        used.wait(Until::Streams(vec![1]), WAIT);
        let mut busy = H2::handshake(px.addr);
        busy.send(&get(1, "/slow/300"));
        busy.sync();
        let used_pre = used.take_as("used");
        let pid = proxy_pid(&px).expect("cannot find the proxy's pid");
        // SAFETY: plain kill(2) on the proxy we spawned.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        let t0 = Instant::now();
        let mut t = used_pre;
        let results = std::thread::scope(|s| {
            let hs: Vec<_> = [
                ("idle", &mut idle, 2.0),
                ("used", &mut used, 2.0),
                ("busy", &mut busy, 2.3),
            ]
            .into_iter()
            .map(|(label, h, expect)| {
                s.spawn(move || {
                    h.until_close(Duration::from_secs(6));
                    let when = close_time(t0, expect);
                    let mut v = h.take_as(label);
                    if h.closed {
                        v.push(format!("{label}: closed {when} after the signal"));
                    }
                    v
                })
            })
            .collect();
            hs.into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        t.extend(results);
        let end = Instant::now() + Duration::from_secs(3);
        while px.exit_status().is_none() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        t.push(match px.exit_status() {
            Some(st) => format!("proxy exited ({st}) after {}", close_time(t0, 2.3)),
            None => "proxy still running".into(),
        });
        t
    });
}

// ---------------------------------------------------------------------------------------
// 15. Abuse: only the class of outcome is compared.

/// Summarises a flood's answer: each kind of frame as `all` (when `expected` gives its
/// full count and it came), `some`, GOAWAYs in full, and whether the connection closed.
fn flood_summary(frames: &[Frame], closed: bool, expected: &[(&str, usize)]) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut goaways = Vec::new();
    for f in frames {
        let key = match f.typ {
            w::SETTINGS | w::PING if f.flags & w::ACK != 0 => {
                format!("{} ACK", w::type_name(f.typ))
            }
            w::RST_STREAM => format!("RST_STREAM {}", w::error_name(f.error_code().unwrap_or(0))),
            w::HEADERS => format!("HEADERS :status={}", f.field(":status").unwrap_or("?")),
            w::GOAWAY => {
                goaways.push(describe(f));
                continue;
            }
            _ => w::type_name(f.typ),
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut t = Vec::new();
    for (k, n) in &counts {
        let class = match expected.iter().find(|(e, _)| e == k) {
            Some((_, want)) if n == want => "all",
            _ => "some",
        };
        t.push(format!("{k}: {class}"));
    }
    t.extend(goaways);
    t.push(if closed { "CLOSED" } else { "open" }.to_string());
    t
}

/// Reads every frame until close or `quiet` without any.
fn drain(h: &mut H2, quiet: Duration, limit: Duration) -> (Vec<Frame>, bool) {
    let end = Instant::now() + limit;
    let mut frames = Vec::new();
    loop {
        let d = (Instant::now() + quiet).min(end);
        match h.c.recv(d) {
            Recv::Frame(f) => {
                h.ack_settings(&f);
                frames.push(f);
            }
            Recv::Timeout => return (frames, false),
            _ => {
                h.closed = true;
                return (frames, true);
            }
        }
    }
}

/// Writes `bytes` from a thread while the caller reads (so neither side blocks).
fn send_in_background(h: &H2, bytes: Vec<u8>) -> std::thread::JoinHandle<bool> {
    let mut s = h.c.sock.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        s.write_all(&bytes).is_ok()
    })
}

#[test]
fn abuse_rapid_reset() {
    differential("abuse_rapid_reset", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut h = H2::handshake(px.addr);
        let mut bytes = Vec::new();
        for i in 0..2000u32 {
            let sid = 1 + 2 * i;
            bytes.extend(get(sid, "/"));
            bytes.extend(w::rst_stream(sid, w::CANCEL));
        }
        let wr = send_in_background(&h, bytes);
        let (frames, closed) = drain(&mut h, Duration::from_millis(1500), Duration::from_secs(15));
        let _ = wr.join();
        let mut t = flood_summary(&frames, closed, &[]);
        if !closed {
            settle_conn(&mut h);
            t.extend(h.take());
        }
        // Whether some requests reached the origin before their reset is timing: the
        // origin is not part of the transcript.
        t.push(fresh_get(px.addr));
        drop(o);
        t.push(proxy_state(&mut px));
        t
    });
}

/// A header block larger than the buffer (tune.bufsize): upstream answers GOAWAY
/// INTERNAL_ERROR, not ENHANCE_YOUR_CALM or a 431-like response.
#[test]
fn abuse_continuation_flood() {
    differential("abuse_continuation_flood", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = Vec::new();
        // A header block of 100 KB in 100 CONTINUATION frames, the last ending it.
        let mut h = H2::handshake(px.addr);
        let mut bytes = req(1, ES, "GET", "/", &[]);
        for i in 0..100 {
            let mut b = Vec::new();
            w::encode_literal(&mut b, format!("x-pad-{i}").as_bytes(), &[b'v'; 1000]);
            bytes.extend(w::continuation(1, if i == 99 { EH } else { 0 }, &b));
        }
        let wr = send_in_background(&h, bytes);
        let (frames, closed) = drain(&mut h, Duration::from_millis(1000), Duration::from_secs(8));
        let _ = wr.join();
        t.extend(
            flood_summary(&frames, closed, &[])
                .into_iter()
                .map(|l| format!("100 KB block: {l}")),
        );
        // A block that never ends: 2000 CONTINUATION frames of 1 KB.
        let mut h = H2::handshake(px.addr);
        let mut bytes = req(1, ES, "GET", "/", &[]);
        for i in 0..2000 {
            let mut b = Vec::new();
            w::encode_literal(&mut b, format!("x-pad-{i}").as_bytes(), &[b'v'; 1000]);
            bytes.extend(w::continuation(1, 0, &b));
        }
        let wr = send_in_background(&h, bytes);
        let (frames, closed) = drain(&mut h, Duration::from_millis(1000), Duration::from_secs(8));
        let _ = wr.join();
        t.extend(
            flood_summary(&frames, closed, &[])
                .into_iter()
                .map(|l| format!("endless block: {l}")),
        );
        t.push(fresh_get(px.addr));
        t.push(proxy_state(&mut px));
        t
    });
}

#[test]
fn abuse_settings_and_ping_flood() {
    differential("abuse_settings_and_ping_flood", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = Vec::new();
        for (label, one, ack) in [
            ("SETTINGS flood", w::settings(&[]), "SETTINGS ACK"),
            ("PING flood", w::ping(false, *b"floodpng"), "PING ACK"),
        ] {
            let mut h = H2::handshake(px.addr);
            let mut bytes = Vec::new();
            for _ in 0..10000 {
                bytes.extend_from_slice(&one);
            }
            // Send everything before reading anything.
            let wr = send_in_background(&h, bytes);
            let sent_all = wr.join().unwrap_or(false);
            let (frames, closed) =
                drain(&mut h, Duration::from_millis(1000), Duration::from_secs(10));
            t.push(format!("{label}: all sent: {sent_all}"));
            t.extend(
                flood_summary(&frames, closed, &[(ack, 10000)])
                    .into_iter()
                    .map(|l| format!("{label}: {l}")),
            );
            if !closed {
                settle_conn(&mut h);
                t.extend(h.take_as(label));
            }
        }
        t.push(fresh_get(px.addr));
        t.push(proxy_state(&mut px));
        t
    });
}

#[test]
fn abuse_huge_header_list() {
    differential("abuse_huge_header_list", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        let mut t = Vec::new();
        for (label, count, size) in [
            ("20 headers of 500 B", 20usize, 500usize),
            ("200 headers of 1 KB", 200, 1024),
        ] {
            let mut h = H2::handshake(px.addr);
            let mut block = w::encode(&w::request_fields("GET", "/", "example.org", &[]));
            for i in 0..count {
                w::encode_literal(&mut block, format!("x-h-{i}").as_bytes(), &vec![b'v'; size]);
            }
            let chunks: Vec<&[u8]> = block.chunks(16384).collect();
            let mut bytes = Vec::new();
            for (i, c) in chunks.iter().enumerate() {
                let last = i + 1 == chunks.len();
                let fl = if last { EH } else { 0 };
                bytes.extend(if i == 0 {
                    w::headers(1, ES | fl, c)
                } else {
                    w::continuation(1, fl, c)
                });
            }
            let wr = send_in_background(&h, bytes);
            h.wait(Until::Streams(vec![1]), WAIT);
            let _ = wr.join();
            settle_conn(&mut h);
            t.extend(h.take_as(label));
        }
        t.push(format!("origin requests: {}", o.requests().len()));
        t.push(fresh_get(px.addr));
        t.push(proxy_state(&mut px));
        t
    });
}

#[test]
fn abuse_zero_window() {
    differential("abuse_zero_window", |side| {
        let (o, mut px) = side.start(&Cfg::default());
        const BIG: usize = 64 << 20;
        let mut h = H2::handshake_with(px.addr, &[(w::SETTINGS_INITIAL_WINDOW_SIZE, 0)], false);
        h.send(&get(1, &format!("/big/{BIG}")));
        h.wait(Until::Quiet, Duration::from_millis(1500));
        let mut t = h.take_as("zero window");
        t.push(fresh_get(px.addr));
        settle_conn(&mut h);
        t.extend(h.take_as("zero window"));
        let sent = o.big_sent.load(Ordering::Relaxed);
        t.push(format!(
            "origin could write the whole 64 MB body: {}",
            sent >= BIG
        ));
        drop(h);
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 16. http_first_req.

#[test]
fn http_first_req() {
    differential("http_first_req", |side| {
        let (_o, mut px) = side.start(&Cfg {
            frontend: "http-response set-header x-first %[http_first_req]",
            ..Cfg::default()
        });
        let mut h = H2::handshake(px.addr);
        for sid in [1, 3] {
            h.send(&get(sid, "/"));
            h.wait(Until::Streams(vec![sid]), WAIT);
        }
        let mut t = h.take();
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// 17. Idle timeout.

#[test]
fn idle_timeout_client() {
    differential("idle_timeout_client", |side| {
        let (_o, mut px) = side.start(&Cfg {
            timeout_client: "1s",
            ..Cfg::default()
        });
        let mut t = Vec::new();
        std::thread::scope(|s| {
            let a = s.spawn(|| {
                let mut h = H2::handshake(px.addr);
                let t0 = Instant::now();
                h.until_close(Duration::from_secs(4));
                let mut v = h.take_as("no stream");
                v.push(format!("no stream: closed {}", close_time(t0, 1.0)));
                v
            });
            let b = s.spawn(|| {
                let mut h = H2::handshake(px.addr);
                h.send(&get(1, "/"));
                h.wait(Until::Streams(vec![1]), WAIT);
                let t0 = Instant::now();
                h.until_close(Duration::from_secs(4));
                let mut v = h.take_as("after a stream");
                v.push(format!("after a stream: closed {}", close_time(t0, 1.0)));
                v
            });
            t.extend(a.join().unwrap());
            t.extend(b.join().unwrap());
        });
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// More: concurrency limit, client GOAWAY.

#[test]
fn max_concurrent_streams() {
    differential("max_concurrent_streams", |side| {
        let (_o, mut px) = side.start(&Cfg {
            global: "tune.h2.max-concurrent-streams 2",
            ..Cfg::default()
        });
        let mut h = H2::handshake(px.addr);
        h.send(
            &[
                get(1, "/slow/400"),
                get(3, "/slow/400"),
                get(5, "/slow/400"),
            ]
            .concat(),
        );
        h.wait_grouped(&[1, 3, 5]);
        settle_conn(&mut h);
        let mut t = h.take();
        t.push(proxy_state(&mut px));
        t
    });
}

/// A client GOAWAY: upstream finishes the streams in flight, then closes without a GOAWAY
/// of its own.
#[test]
fn client_goaway() {
    differential("client_goaway", |side| {
        let (_o, mut px) = side.start(&Cfg::default());
        let mut t = variants(
            px.addr,
            &[
                ("GOAWAY on an idle connection", |h| {
                    h.send(&w::goaway(0, w::NO_ERROR, b""));
                    h.until_close(Duration::from_secs(2));
                }),
                ("GOAWAY with a stream in flight", |h| {
                    h.send(&get(1, "/slow/200"));
                    h.send(&w::goaway(0, w::NO_ERROR, b""));
                    h.wait(Until::Streams(vec![1]), WAIT);
                    h.until_close(Duration::from_secs(2));
                }),
                ("GOAWAY PROTOCOL_ERROR", |h| {
                    h.send(&w::goaway(0, w::PROTOCOL_ERROR, b"bye"));
                    h.until_close(Duration::from_secs(2));
                }),
                ("GOAWAY on stream 1", |h| {
                    h.send(&w::frame(w::GOAWAY, 0, 1, &[0, 0, 0, 0, 0, 0, 0, 0]));
                    settle_conn(h);
                }),
            ],
        );
        t.push(proxy_state(&mut px));
        t
    });
}

// ---------------------------------------------------------------------------------------
// Self-test of the pins.

/// Every pin names a case of this file and has a reason; pins apply to every run of their
/// lines, `{*}` matches any text, and a pin found nowhere is reported stale.
#[test]
fn pins_are_well_formed() {
    let src = include_str!("h2_conformance.rs");
    for p in PINS {
        assert!(
            src.contains(&format!("differential(\"{}\"", p.case)),
            "pin for unknown case {:?}",
            p.case
        );
        assert!(
            !p.upstream.is_empty() && !p.reason.is_empty(),
            "{:?}",
            p.upstream
        );
    }
    let up: Vec<String> = ["open", "connection still usable", "proxy: running"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let p = apply_pins("abuse_rapid_reset", &up);
    assert!(p.stale.is_empty());
    assert_eq!(p.used.len(), 1);
    let hrs = [
        "GOAWAY last=41 ENHANCE_YOUR_CALM debug=\"too_many_resets\"",
        "CLOSED",
        "proxy: running",
    ];
    assert_eq!(p.want.len(), hrs.len());
    assert!(p.want.iter().zip(hrs).all(|(w, l)| w.matches(l)));
    assert!(!p.want[0].matches("GOAWAY last=41 ENHANCE_YOUR_CALM"));
    // Upstream's own lines are compared exactly, `{*}` included.
    let plain = Want {
        text: "a{*}b".into(),
        pin: None,
    };
    assert!(plain.matches("a{*}b") && !plain.matches("axb"));
    let p = apply_pins("abuse_rapid_reset", &up[2..]);
    assert_eq!(p.stale.len(), 1);
    assert!(p.used.is_empty());
}

/// Every section of the record is a case of this file (a case has one once it ran: its
/// test fails without it).
#[test]
fn record_sections_are_cases() {
    let src = include_str!("h2_conformance.rs");
    let rec = common::reference::Record::read(RECORD);
    assert!(!rec.sections.is_empty(), "tests/{RECORD} is empty");
    for name in rec.sections.keys() {
        assert!(
            src.contains(&format!("differential(\"{name}\"")),
            "tests/{RECORD}: section `== {name}` is no case of this file"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Self-tests of the HPACK codec (RFC 7541 Appendix C).

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn fields(list: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(String, String)> {
    list.into_iter()
        .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

fn pairs(l: &[(&str, &str)]) -> Vec<(String, String)> {
    l.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn hpack_integers_c1() {
    let mut out = Vec::new();
    w::encode_int(&mut out, 0, 5, 10);
    assert_eq!(out, [0x0a]);
    out.clear();
    w::encode_int(&mut out, 0, 5, 1337);
    assert_eq!(out, [0x1f, 0x9a, 0x0a]);
    let mut pos = 0;
    assert_eq!(w::decode_int(&out, &mut pos, 5), Ok(1337));
    assert_eq!(pos, 3);
    out.clear();
    w::encode_int(&mut out, 0, 8, 42);
    assert_eq!(out, [0x2a]);
}

#[test]
fn huffman_codes_are_appendix_b() {
    let c = w::huffman_codes();
    // A sample of Appendix B, from every length range.
    let known: &[(usize, u32, u8)] = &[
        (0, 0x1ff8, 13),
        (1, 0x7fffd8, 23),
        (10, 0x3ffffffc, 30),
        (b' ' as usize, 0x14, 6),
        (b'!' as usize, 0x3f8, 10),
        (b'0' as usize, 0x0, 5),
        (b'a' as usize, 0x3, 5),
        (b't' as usize, 0x9, 5),
        (b'A' as usize, 0x21, 6),
        (b'Z' as usize, 0xfd, 8),
        (b'{' as usize, 0x7ffe, 15),
        (b'~' as usize, 0x1ffd, 13),
        (127, 0xffffffc, 28),
        (128, 0xfffe6, 20),
        (200, 0x3ffffe2, 26),
        (253, 0x7ffffef, 27),
        (254, 0x7fffff0, 27),
        (255, 0x3ffffee, 26),
        (256, 0x3fffffff, 30),
    ];
    for &(sym, code, len) in known {
        assert_eq!(c[sym], (code, len), "symbol {sym}");
    }
    // Kraft equality: a complete prefix code.
    let sum: u64 = w::HUFFMAN_LENGTHS.iter().map(|&l| 1u64 << (30 - l)).sum();
    assert_eq!(sum, 1 << 30);
    // Every byte round-trips.
    let all: Vec<u8> = (0..=255u8).collect();
    assert_eq!(w::huffman_decode(&w::huffman_encode(&all)).unwrap(), all);
    assert_eq!(
        w::huffman_encode(b"www.example.com"),
        unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")
    );
    // Padding longer than 7 bits, or not all ones, is an error; so is EOS.
    assert!(w::huffman_decode(&unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff ff")).is_err());
    // 0x07: '0' (00000) then padding 111; 0x00: '0' then padding 000.
    assert_eq!(w::huffman_decode(&[0x07]).unwrap(), b"0");
    assert!(w::huffman_decode(&[0x00]).is_err());
    assert!(w::huffman_decode(&[0xff, 0xff, 0xff, 0xfc]).is_err());
}

fn c_requests(blocks: [&str; 3]) {
    let mut d = w::Decoder::new(4096);
    let r = fields(d.decode(&unhex(blocks[0])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ])
    );
    assert_eq!(d.table_size(), 57);
    let r = fields(d.decode(&unhex(blocks[1])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ])
    );
    assert_eq!(d.table_size(), 110);
    let r = fields(d.decode(&unhex(blocks[2])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ])
    );
    assert_eq!(d.table_size(), 164);
    assert_eq!(
        d.entries(),
        pairs(&[
            ("custom-key", "custom-value"),
            ("cache-control", "no-cache"),
            (":authority", "www.example.com"),
        ])
    );
}

#[test]
fn hpack_requests_c3() {
    c_requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn hpack_requests_c4_huffman() {
    c_requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

fn c_responses(blocks: [&str; 3]) {
    let mut d = w::Decoder::new(256);
    let r = fields(d.decode(&unhex(blocks[0])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":status", "302"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("location", "https://www.example.com"),
        ])
    );
    assert_eq!(d.table_size(), 222);
    let r = fields(d.decode(&unhex(blocks[1])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":status", "307"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("location", "https://www.example.com"),
        ])
    );
    assert_eq!(d.table_size(), 222);
    let r = fields(d.decode(&unhex(blocks[2])).unwrap());
    assert_eq!(
        r,
        pairs(&[
            (":status", "200"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ("location", "https://www.example.com"),
            ("content-encoding", "gzip"),
            (
                "set-cookie",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
            ),
        ])
    );
    assert_eq!(d.table_size(), 215);
    assert_eq!(
        d.entries(),
        pairs(&[
            (
                "set-cookie",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
            ),
            ("content-encoding", "gzip"),
            ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ])
    );
}

#[test]
fn hpack_responses_c5() {
    c_responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
         3d31",
    ]);
}

#[test]
fn hpack_responses_c6_huffman() {
    c_responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

#[test]
fn hpack_size_updates_and_errors() {
    let mut d = w::Decoder::new(4096);
    // Insert, then shrink the table to 0 (evicts everything), then index it: error.
    d.decode(&unhex("4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))
        .unwrap();
    assert_eq!(d.table_size(), 54);
    assert!(d.decode(&[0x20]).unwrap().is_empty());
    assert_eq!(d.table_size(), 0);
    assert!(d.decode(&[0xbe]).is_err());
    // A size update above the limit, or after a field, is an error.
    assert!(d.decode(&[0x3f, 0xe2, 0x1f]).is_err()); // 4097
    assert!(d.decode(&[0x82, 0x20]).is_err());
    // An entry bigger than the table empties it.
    let mut d = w::Decoder::new(40);
    d.decode(&unhex("4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))
        .unwrap();
    assert_eq!(d.table_size(), 0);
    // Our encoder's output decodes to itself.
    let list = [(":method", "GET"), ("x-long", &*"v".repeat(300))];
    let mut d = w::Decoder::new(4096);
    assert_eq!(fields(d.decode(&w::encode(&list)).unwrap()), pairs(&list));
}
