//! `balance first`: first available server (`lb_fas.c`).
//!
//! Each group (active, backup) keeps its usable servers in a tree ordered by server id
//! (`puid`: explicit `id`, else assigned in declaration order). `get_next` returns the first
//! server that has a free slot (`served < maxconn` and an empty queue, or no `maxconn`) and
//! is not the one to avoid, falling back to the avoided one. Weights only matter for
//! usability (weight 0 = never picked). Servers without `maxconn` are never full, so the
//! first usable one takes everything.
//!
//! Upstream re-inserts a server in its tree on every connection count change
//! (`fas_srv_reposition`); keys are unique ids, so that changes nothing and is not done
//! here (it would only order duplicate ids, which upstream configs cannot have).
//!
//! Invariant: a server is in its group's tree iff it is usable.

use super::tree::SrvTrees;
use super::{Counts, Source, Srv, ACT, BCK};

/// First-available state of one backend.
#[derive(Debug)]
pub(crate) struct Fas {
    t: SrvTrees,
}

fn group(srv: &Srv) -> usize {
    if srv.backup {
        BCK
    } else {
        ACT
    }
}

impl Fas {
    /// `fas_init_server_tree`.
    pub(crate) fn new(srvs: &[Srv]) -> Fas {
        let mut f = Fas {
            t: SrvTrees::new(srvs.len()),
        };
        for (s, srv) in srvs.iter().enumerate() {
            if srv.currently_usable() {
                f.t.set_group(s, Some(group(srv)));
                f.t.queue(s, srv.puid);
            }
        }
        f
    }

    /// `fas_update_server_weight` and the status functions it dispatches to.
    pub(crate) fn update(&mut self, s: usize, srvs: &[Srv]) {
        let srv = &srvs[s];
        match (srv.currently_usable(), srv.willbe_usable()) {
            (false, false) => {}
            (false, true) | (true, true) => {
                self.t.dequeue(s);
                self.t.set_group(s, Some(group(srv)));
                self.t.queue(s, srv.puid);
            }
            (true, false) => {
                self.t.dequeue(s);
                self.t.set_group(s, None);
            }
        }
    }

    /// `fas_get_next_server`.
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
            debug_assert!(srvs[s].currently_usable());
            if srvs[s].has_free_slot() {
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
