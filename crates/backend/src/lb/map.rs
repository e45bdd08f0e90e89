//! `balance static-rr`: a precomputed map of servers walked in a circle (`lb_map.c`,
//! round-robin half; the same map serves hash-based algorithms upstream).
//!
//! The map has `tot_weight` slots (the sum of the effective weights of the group in use,
//! effective weights being user weights divided by their GCD). It is filled slot by slot:
//! every usable server of the group adds its weight to a score, the server whose
//! `(score + tot) / tot` is largest takes the slot (the earliest declared wins ties) and
//! pays `tot`. This spreads each server evenly and always starts with the first declared
//! server. `get_next` walks the map from `rr_idx`, skipping saturated servers and the one to
//! avoid; `rr_idx` survives map rebuilds (reset to 0 when out of range).
//!
//! The map is rebuilt after every state or weight change (upstream `recalc_server_map`,
//! O(slots × servers)). When no active server is usable, upstream sizes the map with the
//! first backup's weight but still lets every usable backup compete for the slots, so a
//! later backup with a larger weight can take them all: reproduced on purpose (recorded in
//! `srr_backup`). Runtime weights are restricted to 0 and the initial weight by
//! [`Lb::set_weight`](super::Lb::set_weight), as upstream.
//!
//! Invariant: after a rebuild, `map.len() == tot_weight` and every slot names a usable
//! server of the group in use.

use super::{Counts, Srv};

/// Static-rr state of one backend.
#[derive(Debug)]
pub(crate) struct Map {
    map: Vec<usize>,
    rr_idx: usize,
    wscore: Vec<i64>,
}

impl Map {
    /// `init_server_map`: builds the first map.
    pub(crate) fn new(srvs: &[Srv], counts: &Counts) -> Map {
        let mut m = Map {
            map: Vec::new(),
            rr_idx: 0,
            wscore: vec![0; srvs.len()],
        };
        m.recalc(srvs, counts);
        m
    }

    /// `recalc_server_map`, from the servers' `next_*` state and the matching counts.
    fn recalc(&mut self, srvs: &[Srv], counts: &Counts) {
        if counts.tot_used == 0 {
            // Upstream leaves the stale map; `get_next` never reads it (tot_weight is 0).
            return;
        }
        let tot = i64::from(counts.tot_weight);
        let backup = counts.srv_act == 0;
        self.wscore.iter_mut().for_each(|w| *w = 0);
        self.map.clear();
        for _ in 0..tot {
            let mut best: Option<usize> = None;
            let mut max = 0i64;
            for (i, cur) in srvs.iter().enumerate() {
                if cur.backup != backup || !cur.willbe_usable() {
                    continue;
                }
                if tot == 1 {
                    best = Some(i);
                    break;
                }
                self.wscore[i] += i64::from(cur.next_eweight);
                let v = (self.wscore[i] + tot) / tot;
                if best.is_none() || v > max {
                    max = v;
                    best = Some(i);
                }
            }
            debug_assert!(
                best.is_some(),
                "tot_used > 0 implies a usable server in the group"
            );
            if let Some(b) = best {
                self.map.push(b);
                self.wscore[b] -= tot;
            }
        }
        debug_assert_eq!(self.map.len() as i64, tot);
    }

    /// `map_set_server_status_{up,down}`: any change rebuilds the map.
    pub(crate) fn update(&mut self, srvs: &[Srv], counts: &Counts) {
        self.recalc(srvs, counts);
    }

    /// `map_get_server_rr`.
    pub(crate) fn get_next(
        &mut self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let tot = counts.tot_weight as usize;
        if tot == 0 || self.map.len() != tot {
            debug_assert!(tot == 0, "map out of sync with tot_weight");
            return None;
        }
        if self.rr_idx >= tot {
            self.rr_idx = 0;
        }
        let mut newidx = self.rr_idx;
        let mut avoided = None;
        let mut avoididx = 0;
        loop {
            let s = self.map[newidx];
            newidx += 1;
            if srvs[s].has_free_slot() {
                avoided = Some(s);
                avoididx = newidx;
                if Some(s) != avoid {
                    self.rr_idx = newidx;
                    return Some(s);
                }
            }
            if newidx == tot {
                newidx = 0;
            }
            if newidx == self.rr_idx {
                break;
            }
        }
        if avoided.is_some() {
            self.rr_idx = avoididx;
        }
        avoided
    }

    /// Checks the module invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self, srvs: &[Srv], counts: &Counts) {
        if counts.tot_weight == 0 {
            return;
        }
        assert_eq!(self.map.len(), counts.tot_weight as usize);
        for &s in &self.map {
            assert!(srvs[s].currently_usable() && srvs[s].backup == (counts.srv_act == 0));
        }
    }
}
