//! The ordered containers the algorithms sort servers in: the Rust form of HAProxy's
//! non-unique `eb32` trees as the LB code uses them.
//!
//! What the algorithms rely on, and what [`DupTree`] guarantees:
//!
//! * entries are visited in ascending `u32` key order (`eb32_first`, `eb32_next`);
//! * entries with equal keys are visited in insertion order: a new duplicate goes after
//!   every existing entry with that key (ebtree's `eb_insert_dup` appends on the right).
//!   This FIFO tie order is observable: it is how leastconn round-robins between equally
//!   loaded servers and how roundrobin orders servers of equal weight.
//!
//! Internally a `BTreeMap<(key, seq), server>` where `seq` is a per-tree insertion counter,
//! so insert, remove and first are O(log n).

use std::collections::BTreeMap;

/// Where an entry sits in a [`DupTree`]: its key and its insertion rank. Returned by
/// [`DupTree::insert`] and needed to remove the entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NodeId {
    pub(crate) key: u32,
    seq: u64,
}

/// An ordered multiset of server indices keyed by `u32`, duplicates in insertion order.
#[derive(Debug, Default)]
pub(crate) struct DupTree {
    map: BTreeMap<NodeId, usize>,
    seq: u64,
}

impl DupTree {
    /// Inserts server `srv` with `key`, after any entry already holding `key`.
    pub(crate) fn insert(&mut self, key: u32, srv: usize) -> NodeId {
        let id = NodeId { key, seq: self.seq };
        self.seq += 1;
        let old = self.map.insert(id, srv);
        debug_assert!(old.is_none(), "insertion ranks are unique");
        id
    }

    /// Removes the entry `id`; returns whether it was present.
    pub(crate) fn remove(&mut self, id: NodeId) -> bool {
        self.map.remove(&id).is_some()
    }

    /// The server of the entry with the lowest key (the oldest among equal keys).
    pub(crate) fn first(&self) -> Option<usize> {
        self.map.first_key_value().map(|(_, &s)| s)
    }

    /// Every server, in tree order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.map.values().copied()
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// The pair of trees (active, backup) used by leastconn and first, with each server's
/// membership: `lb_tree` (the group the server is assigned to, `None` while unusable)
/// and `node` (its entry, present iff the server is queued in that group's tree).
#[derive(Debug)]
pub(crate) struct SrvTrees {
    trees: [DupTree; 2],
    lb_tree: Vec<Option<usize>>,
    node: Vec<Option<NodeId>>,
}

impl SrvTrees {
    /// Empty trees for `n` servers, none of them assigned.
    pub(crate) fn new(n: usize) -> Self {
        SrvTrees {
            trees: [DupTree::default(), DupTree::default()],
            lb_tree: vec![None; n],
            node: vec![None; n],
        }
    }

    /// Assigns server `s` to group `g` (or to none) without touching its entry.
    pub(crate) fn set_group(&mut self, s: usize, g: Option<usize>) {
        self.lb_tree[s] = g;
    }

    /// The key server `s` is queued with, if it is queued.
    pub(crate) fn key_of(&self, s: usize) -> Option<u32> {
        self.node[s].map(|n| n.key)
    }

    /// Queues server `s` with `key` in its assigned group. Precondition: `s` is assigned and
    /// not queued (debug-asserted); when unassigned nothing happens.
    pub(crate) fn queue(&mut self, s: usize, key: u32) {
        debug_assert!(self.node[s].is_none(), "server {s} queued twice");
        if let Some(g) = self.lb_tree[s] {
            self.node[s] = Some(self.trees[g].insert(key, s));
        }
    }

    /// Removes server `s`'s entry if it has one (`eb32_delete` on an unlinked node is a no-op
    /// upstream too).
    pub(crate) fn dequeue(&mut self, s: usize) {
        if let Some(id) = self.node[s].take() {
            let g = self.lb_tree[s];
            debug_assert!(g.is_some(), "queued server {s} has no group");
            if let Some(g) = g {
                let found = self.trees[g].remove(id);
                debug_assert!(found, "server {s} entry missing from its tree");
            }
        }
    }

    /// Whether server `s` has an entry.
    #[cfg(test)]
    pub(crate) fn is_queued(&self, s: usize) -> bool {
        self.node[s].is_some()
    }

    /// Checks that exactly the servers for which `usable` holds are queued (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self, usable: impl Fn(usize) -> bool) {
        let n = self.node.len();
        for s in 0..n {
            assert_eq!(self.is_queued(s), usable(s), "server {s} membership");
            assert_eq!(self.lb_tree[s].is_some(), usable(s), "server {s} group");
        }
        assert_eq!(
            self.trees[0].len() + self.trees[1].len(),
            (0..n).filter(|&s| usable(s)).count()
        );
    }

    /// The servers of group `g` in tree order.
    pub(crate) fn iter(&self, g: usize) -> impl Iterator<Item = usize> + '_ {
        self.trees[g].iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_fifo_and_keys_ascend() {
        let mut t = DupTree::default();
        let a = t.insert(5, 0);
        t.insert(3, 1);
        t.insert(5, 2);
        t.insert(3, 3);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![1, 3, 0, 2]);
        assert!(t.remove(a));
        assert!(!t.remove(a));
        t.insert(5, 0);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![1, 3, 2, 0]);
        assert_eq!(t.first(), Some(1));
        assert_eq!(t.len(), 4);
    }
}
