//! Traffic logs of streams (HAProxy's `log.c` `strm_log`): the proxy's log-format rendered at
//! the end of each stream and sent to the proxy's log targets.

use hrs_core::{StrmId, World};

/// Emits the log line of stream `sid` if its frontend logs.
pub fn stream_log(w: &mut World, sid: StrmId) {
    let _ = (w, sid);
}
