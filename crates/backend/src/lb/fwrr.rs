//! `balance roundrobin`: HAProxy's fast weighted round robin (`lb_fwrr.c`).
//!
//! Each group (active, backup) schedules its servers on a line of positions. One cycle
//! ("window") is `curr_weight` positions long (the sum of effective weights when the cycle
//! started); a server of effective weight `w` gets a slot every `next_weight / w` positions,
//! the remainder accumulating in `rweight` until it is worth one more position. Three trees:
//!
//! * `curr`: servers placed in the current window, keyed by `256 * npos + tie`, where `tie`
//!   favours heavy servers and servers with a larger accumulated remainder;
//! * `init`: servers not yet placed in this window, keyed by decreasing weight; one is
//!   pulled in whenever the first `curr` server's position is still ahead of `curr_pos`
//!   (a hole), which is how heavy servers start first and light ones get interleaved;
//! * `next`: servers whose next position falls beyond the window. When `curr` and `init` are
//!   both empty the `init`/`next` roles swap and a new window starts with the weights as
//!   they are now (`next_weight`).
//!
//! A pick takes the first server of `curr` (or of `init` on a hole), advances its position,
//! and requeues it. Saturated servers (`maxconn` reached or a queue) and the avoided server
//! are taken out like a pick and put back afterwards "as if consumed", so skipping a server
//! costs it its turn. Runtime changes follow upstream: going down removes the server but
//! leaves the window length alone until the next swap; coming up inserts it at
//! `curr_pos + remaining / eweight`; a weight change adjusts its next position.
//!
//! Invariants: a usable server is in exactly one of the three trees of its group, or
//! momentarily out of all of them inside `get_next`; an unusable one is in none
//! (`lb_tree == None`); `next_weight` is the sum of the group's usable effective weights.
//!
//! Arithmetic is done in `i64` where upstream uses `int`, and the `curr` key is computed in
//! wrapping `u32` like upstream's `eb32` key, so orderings agree; they could only differ
//! where upstream's signed `int` would overflow (more than ~2 million servers' worth of
//! weight).

use super::tree::{DupTree, NodeId};
use super::{Counts, Source, Srv, ACT, BCK, EWEIGHT_MAX, MAX_WEIGHT, WEIGHT_SCALE};

/// One of a group's three physical trees. `init` and `next` are roles that `T0`/`T1` swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tree {
    Curr,
    T0,
    T1,
}

#[derive(Debug, Default)]
struct Group {
    curr: DupTree,
    t: [DupTree; 2],
    /// Which of `t` currently plays `init` (the other one is `next`).
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn init_tree(&self) -> Tree {
        if self.init == 0 {
            Tree::T0
        } else {
            Tree::T1
        }
    }

    fn next_tree(&self) -> Tree {
        if self.init == 0 {
            Tree::T1
        } else {
            Tree::T0
        }
    }

    fn tree_mut(&mut self, t: Tree) -> &mut DupTree {
        match t {
            Tree::Curr => &mut self.curr,
            Tree::T0 => &mut self.t[0],
            Tree::T1 => &mut self.t[1],
        }
    }
}

/// A server's place in its group (`npos`, `lpos`, `rweight`, `lb_tree`, `lb_node`).
#[derive(Clone, Copy, Debug, Default)]
struct Pos {
    npos: i64,
    lpos: i64,
    rweight: i64,
    lb_tree: Option<Tree>,
    node: Option<NodeId>,
}

/// Roundrobin state of one backend.
#[derive(Debug)]
pub(crate) struct Fwrr {
    grp: [Group; 2],
    pos: Vec<Pos>,
}

fn gi(srv: &Srv) -> usize {
    if srv.backup {
        BCK
    } else {
        ACT
    }
}

impl Fwrr {
    /// `fwrr_init_server_groups`: each window starts as long as its group's total weight,
    /// usable servers wait in `init` by decreasing weight (declaration order on ties).
    pub(crate) fn new(srvs: &[Srv], counts: &Counts) -> Fwrr {
        let mut f = Fwrr {
            grp: [Group::default(), Group::default()],
            pos: vec![Pos::default(); srvs.len()],
        };
        for (g, tot) in [(ACT, counts.tot_wact), (BCK, counts.tot_wbck)] {
            let grp = &mut f.grp[g];
            grp.curr_pos = i64::from(tot);
            grp.curr_weight = i64::from(tot);
            grp.next_weight = i64::from(tot);
        }
        for (s, srv) in srvs.iter().enumerate() {
            if srv.currently_usable() {
                let init = f.grp[gi(srv)].init_tree();
                f.queue_by_weight(s, srv, init);
            }
        }
        f
    }

    /// Removes server `s` from whatever tree holds it (its `lb_tree` is left as is).
    fn dequeue(&mut self, s: usize, srv: &Srv) {
        if let Some(id) = self.pos[s].node.take() {
            let t = self.pos[s].lb_tree;
            debug_assert!(t.is_some(), "queued server {s} without tree");
            if let Some(t) = t {
                let found = self.grp[gi(srv)].tree_mut(t).remove(id);
                debug_assert!(found, "server {s} missing from its tree");
            }
        }
    }

    /// `fwrr_queue_by_weight`: into `init`/`next` tree `t`, heavier first.
    fn queue_by_weight(&mut self, s: usize, srv: &Srv, t: Tree) {
        debug_assert!(self.pos[s].node.is_none());
        let key = EWEIGHT_MAX.saturating_sub(srv.next_eweight);
        self.pos[s].node = Some(self.grp[gi(srv)].tree_mut(t).insert(key, s));
        self.pos[s].lb_tree = Some(t);
    }

    /// `fwrr_queue_srv`: places a dequeued server according to `npos`: nowhere if unusable,
    /// in `next` if beyond the window, else in `curr`.
    fn queue_srv(&mut self, s: usize, srv: &Srv) {
        debug_assert!(self.pos[s].node.is_none());
        if !srv.willbe_usable() {
            self.pos[s].lb_tree = None;
            return;
        }
        let grp = &self.grp[gi(srv)];
        let (cw, nw) = (grp.curr_weight, grp.next_weight);
        let p = &mut self.pos[s];
        // (upstream also sends a server of weight 0 to `next`: it is not usable, see above)
        if p.npos >= 2 * cw || p.npos >= cw + nw {
            p.npos -= cw;
            let next = grp.next_tree();
            self.queue_by_weight(s, srv, next);
        } else {
            let tie = (i64::from(EWEIGHT_MAX) + p.rweight - i64::from(srv.next_eweight)) as u32
                / WEIGHT_SCALE;
            let key = ((i64::from(MAX_WEIGHT) * p.npos) as u32).wrapping_add(tie);
            p.node = Some(self.grp[gi(srv)].curr.insert(key, s));
            p.lb_tree = Some(Tree::Curr);
        }
    }

    /// `fwrr_get_srv_init`.
    fn get_srv_init(&mut self, s: usize) {
        self.pos[s].npos = 0;
        self.pos[s].rweight = 0;
    }

    /// `fwrr_switch_trees`: `next` becomes `init` and a new window starts.
    fn switch_trees(&mut self, g: usize) {
        let grp = &mut self.grp[g];
        grp.init = 1 - grp.init;
        grp.curr_weight = grp.next_weight;
        grp.curr_pos = grp.curr_weight;
    }

    /// `fwrr_get_server_from_group`: first of `curr` if its turn has come, else the first of
    /// `init` (prepared), else the first of `curr` anyway.
    fn get_server_from_group(&mut self, g: usize, srvs: &[Srv]) -> Option<usize> {
        let grp = &self.grp[g];
        let s1 = grp.curr.first();
        if let Some(s1) = s1 {
            if srvs[s1].cur_eweight != 0 && self.pos[s1].npos <= grp.curr_pos {
                return Some(s1);
            }
        }
        let init = match grp.init_tree() {
            Tree::T0 => &grp.t[0],
            _ => &grp.t[1],
        };
        if let Some(s2) = init.first() {
            if srvs[s2].cur_eweight != 0 {
                self.get_srv_init(s2);
                return Some(s2);
            }
        }
        s1
    }

    /// `fwrr_update_position`: the server's next turn after this one.
    fn update_position(&mut self, g: usize, s: usize, srv: &Srv) {
        let ew = i64::from(srv.cur_eweight);
        if ew == 0 {
            return;
        }
        let grp = &self.grp[g];
        let p = &mut self.pos[s];
        if p.npos == 0 {
            p.npos = grp.curr_pos;
        }
        p.lpos = p.npos;
        p.npos += grp.next_weight / ew;
        p.rweight += grp.next_weight % ew;
        if p.rweight >= ew {
            p.rweight -= ew;
            p.npos += 1;
        }
    }

    /// `fwrr_get_next_server`.
    pub(crate) fn get_next(
        &mut self,
        srvs: &[Srv],
        counts: &Counts,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let g = match counts.source() {
            Source::Group(g) => g,
            Source::FirstBackup(f) => return Some(f),
            Source::Nothing => return None,
        };
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        // Saturated or avoided servers taken out, in extraction order.
        let mut full: Vec<usize> = Vec::new();
        let chosen: Option<usize>;
        'pick: loop {
            let grp = &mut self.grp[g];
            if grp.curr_weight == 0 {
                grp.curr_weight = grp.next_weight;
                grp.curr_pos = grp.curr_weight;
            }
            let s = loop {
                if let Some(s) = self.get_server_from_group(g, srvs) {
                    break s;
                }
                if switched {
                    chosen = avoided;
                    break 'pick;
                }
                switched = true;
                self.switch_trees(g);
            };
            self.update_position(g, s, &srvs[s]);
            self.dequeue(s, &srvs[s]);
            self.grp[g].curr_pos += 1;
            if srvs[s].has_free_slot() {
                if Some(s) != avoid || avoided.is_some() {
                    chosen = Some(s);
                    break;
                }
                avoided = Some(s);
            }
            full.push(s);
        }
        if let Some(s) = chosen {
            self.queue_srv(s, &srvs[s]);
        }
        // Upstream chains the extracted servers LIFO and requeues from the head.
        for &f in full.iter().rev() {
            if Some(f) == chosen {
                continue;
            }
            if switched {
                // Their place was lost with the window: only their weight matters now.
                let init = self.grp[g].init_tree();
                self.queue_by_weight(f, &srvs[f], init);
            } else {
                self.queue_srv(f, &srvs[f]);
            }
        }
        if let Some(s) = chosen {
            debug_assert!(self.pos[s].lb_tree.is_some());
        }
        chosen
    }

    /// `fwrr_update_server_weight`: dispatches a state or weight change of server `s`.
    pub(crate) fn update(&mut self, s: usize, srvs: &[Srv]) {
        let srv = &srvs[s];
        match (srv.currently_usable(), srv.willbe_usable()) {
            (false, false) => {}
            (false, true) => self.set_up(s, srv),
            (true, false) => self.set_down(s, srv),
            (true, true) => self.reweight(s, srv),
        }
    }

    /// `fwrr_set_server_status_down`: out of every tree; the window keeps its length.
    fn set_down(&mut self, s: usize, srv: &Srv) {
        self.grp[gi(srv)].next_weight -= i64::from(srv.cur_eweight);
        self.dequeue(s, srv);
        self.pos[s].lb_tree = None;
    }

    /// `fwrr_set_server_status_up`: placed after the remaining part of the window.
    /// (Upstream's `fwrr_get_srv` first sets `npos` to `curr_pos` for a server in no tree,
    /// which the next line overwrites.)
    fn set_up(&mut self, s: usize, srv: &Srv) {
        let g = gi(srv);
        self.grp[g].next_weight += i64::from(srv.next_eweight);
        let grp = &self.grp[g];
        self.pos[s].npos = grp.curr_pos
            + (grp.next_weight + grp.curr_weight - grp.curr_pos)
                / i64::from(srv.next_eweight.max(1));
        self.queue_srv(s, srv);
    }

    /// The "still usable, new weight" part of `fwrr_update_server_weight`. A usable server
    /// is in a tree and has a non-zero weight: upstream's branches for a server in no tree
    /// or of weight 0 cannot be taken here.
    fn reweight(&mut self, s: usize, srv: &Srv) {
        let g = gi(srv);
        let grp = &mut self.grp[g];
        grp.next_weight =
            grp.next_weight - i64::from(srv.cur_eweight) + i64::from(srv.next_eweight);
        let grp = &self.grp[g];
        let t = self.pos[s].lb_tree;
        debug_assert!(
            t.is_some() && srv.next_eweight > 0,
            "reweight of an unusable server"
        );
        if t == Some(grp.init_tree()) {
            let init = grp.init_tree();
            self.dequeue(s, srv);
            self.queue_by_weight(s, srv, init);
            return;
        }
        // In `curr` or `next` (`fwrr_get_srv` brings the position of one in `next` back
        // to this window): keep its turn if it has not passed, else one step ahead.
        let p = &mut self.pos[s];
        if t == Some(grp.next_tree()) {
            p.npos += grp.curr_weight;
        }
        let step = grp.next_weight / i64::from(srv.next_eweight.max(1));
        p.npos = (p.lpos + step).min(p.npos);
        p.rweight = 0;
        if p.npos < grp.curr_pos + 2 {
            p.npos = grp.curr_pos + step;
        }
        self.dequeue(s, srv);
        self.queue_srv(s, srv);
    }

    /// Checks the module invariants (tests only, O(n)).
    #[cfg(test)]
    pub(crate) fn check(&self, srvs: &[Srv]) {
        let mut wsum = [0i64; 2];
        for (i, srv) in srvs.iter().enumerate() {
            let p = &self.pos[i];
            if srv.currently_usable() {
                wsum[gi(srv)] += i64::from(srv.cur_eweight);
                assert!(
                    p.node.is_some() && p.lb_tree.is_some(),
                    "usable server {i} not queued"
                );
            } else {
                assert!(
                    p.node.is_none() && p.lb_tree.is_none(),
                    "unusable server {i} queued"
                );
            }
        }
        for g in [ACT, BCK] {
            let grp = &self.grp[g];
            assert_eq!(grp.next_weight, wsum[g], "group {g} next_weight");
            let queued = grp.curr.len() + grp.t[0].len() + grp.t[1].len();
            assert_eq!(
                queued,
                srvs.iter()
                    .filter(|s| gi(s) == g && s.currently_usable())
                    .count()
            );
        }
    }
}
