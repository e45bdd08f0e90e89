//! `balance leastconn`: fast weighted least connections (`lb_fwlc.c`, 2.6).
//!
//! Each group (active, backup) keeps its usable servers in a tree ordered by load relative
//! to weight. A server with `n` connections in flight (`served` + its queue) has key
//! `0` when `n == 0`, else `(n + 1) * 4096 / eweight`. The `+ 1` ranks loaded servers by the
//! load they would have once picked, so with unequal weights the heavier server takes the
//! next connection first; idle servers all share key 0 so that under low load the
//! connections still rotate over every server rather than go to the heaviest one.
//!
//! The server's place is updated when its count changes ([`Lb::conn_taken`],
//! [`Lb::conn_released`](super::Lb::conn_released), upstream `fwlc_srv_reposition`), and
//! only if its key actually changes (2.6 skips no-op repositions). A repositioned server
//! goes after the servers that already had that key, so equally loaded servers are served
//! in turn. Changes of queue length are picked up at the next reposition, as upstream.
//!
//! `get_next` walks the tree from the least loaded server and returns the first one that is
//! not saturated (`served + queued < maxconn + maxqueue`, or no `maxconn`) and not the one to
//! avoid, falling back to the avoided one. O(log n) when the first server is eligible.
//!
//! Invariant: a server is in its group's tree iff it is usable.
//!
//! [`Lb::conn_taken`]: super::Lb::conn_taken

use super::tree::SrvTrees;
use super::{Counts, Source, Srv, ACT, BCK, EWEIGHT_MAX};

/// Leastconn state of one backend.
#[derive(Debug)]
pub(crate) struct Fwlc {
    t: SrvTrees,
}

fn group(srv: &Srv) -> usize {
    if srv.backup {
        BCK
    } else {
        ACT
    }
}

/// `fwlc_queue_srv`'s key for server `srv` with effective weight `eweight` (unsigned
/// wrapping arithmetic like upstream's `unsigned int`).
fn key(srv: &Srv, eweight: u32) -> u32 {
    let inflight = srv.served.wrapping_add(srv.queued);
    if inflight == 0 {
        0
    } else {
        inflight.wrapping_add(1).wrapping_mul(EWEIGHT_MAX) / eweight.max(1)
    }
}

impl Fwlc {
    /// `fwlc_init_server_tree`.
    pub(crate) fn new(srvs: &[Srv]) -> Fwlc {
        let mut f = Fwlc {
            t: SrvTrees::new(srvs.len()),
        };
        for (s, srv) in srvs.iter().enumerate() {
            if srv.currently_usable() {
                f.t.set_group(s, Some(group(srv)));
                f.t.queue(s, key(srv, srv.next_eweight));
            }
        }
        f
    }

    /// `fwlc_srv_reposition`.
    pub(crate) fn reposition(&mut self, s: usize, srvs: &[Srv]) {
        let srv = &srvs[s];
        let new_key = key(srv, srv.cur_eweight);
        if self.t.key_of(s) == Some(new_key) {
            return;
        }
        // an unusable server is in no tree and stays out (both are no-ops for it)
        self.t.dequeue(s);
        self.t.queue(s, new_key);
    }

    /// `fwlc_update_server_weight` and the status functions it dispatches to.
    pub(crate) fn update(&mut self, s: usize, srvs: &[Srv]) {
        let srv = &srvs[s];
        match (srv.currently_usable(), srv.willbe_usable()) {
            (false, false) => {}
            (false, true) => {
                self.t.set_group(s, Some(group(srv)));
                self.t.queue(s, key(srv, srv.next_eweight));
            }
            (true, false) => {
                self.t.dequeue(s);
                self.t.set_group(s, None);
            }
            (true, true) => {
                self.t.dequeue(s);
                self.t.set_group(s, Some(group(srv)));
                self.t.queue(s, key(srv, srv.next_eweight));
            }
        }
    }

    /// `fwlc_get_next_server`.
    pub(crate) fn get_next(
        &self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let g = match counts.source() {
            Source::Group(g) => g,
            Source::FirstBackup(f) => return Some(f),
            Source::Nothing => return None,
        };
        let mut avoided = None;
        for s in self.t.iter(g) {
            let srv = &srvs[s];
            debug_assert!(srv.currently_usable());
            let room = srv.maxconn == 0
                || u64::from(srv.served) + u64::from(srv.queued)
                    < u64::from(srv.maxconn) + u64::from(srv.maxqueue);
            if room {
                if Some(s) != avoid {
                    return Some(s);
                }
                avoided = Some(s);
            }
        }
        avoided
    }

    /// Checks the module invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self, srvs: &[Srv]) {
        self.t.check(|s| srvs[s].currently_usable());
    }
}
