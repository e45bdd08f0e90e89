//! [`KeyedLists`]: a map `key -> ListHead`, for per-server connection pools
//! indexed by connection hash (HAProxy's `idle_conns`/`safe_conns`/
//! `avail_conns` trees of `conn_hash_node`). Owns the map and its heads; only
//! touches the adapter-selected links of members in the arena it is given.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::arena::{Arena, Handle};
use crate::list::{Adapter, Iter, ListHead};

/// Map from key to a non-empty [`ListHead<T, A>`]. A head exists only while
/// it has members: it is created on first insertion under a key and dropped
/// when its last member is unlinked, so [`KeyedLists::keys`] lists exactly the
/// keys having members. The same rules as [`ListHead`] apply (unlink from
/// every list before `Arena::remove`; the key is needed to unlink).
pub struct KeyedLists<K, T, A> {
    map: HashMap<K, ListHead<T, A>>,
    len: usize,
}

impl<K, T, A> Default for KeyedLists<K, T, A> {
    fn default() -> Self {
        KeyedLists {
            map: HashMap::new(),
            len: 0,
        }
    }
}

impl<K: fmt::Debug, T, A> fmt::Debug for KeyedLists<K, T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl<K: Hash + Eq + Copy, T, A: Adapter<T>> KeyedLists<K, T, A> {
    /// Empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total number of members over all keys. O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no key has members. O(1).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of members under `key` (0 if none). O(1).
    pub fn len_of(&self, key: &K) -> usize {
        self.map.get(key).map_or(0, ListHead::len)
    }

    /// True if `key` has at least one member.
    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// Keys having members, in unspecified order.
    pub fn keys(&self) -> impl Iterator<Item = K> + '_ {
        self.map.keys().copied()
    }

    /// Read-only head of `key`'s list (never empty), for `next`/`prev`/
    /// `cursor`/`iter`. `None` if `key` has no member.
    pub fn get(&self, key: &K) -> Option<&ListHead<T, A>> {
        self.map.get(key)
    }

    /// First member under `key` (oldest if pushed with `push_back`).
    pub fn first(&self, key: &K) -> Option<Handle<T>> {
        self.map.get(key).and_then(ListHead::first)
    }

    /// Last member under `key`.
    pub fn last(&self, key: &K) -> Option<Handle<T>> {
        self.map.get(key).and_then(ListHead::last)
    }

    /// True if `h` is live and a member of `key`'s list. O(1).
    pub fn contains(&self, arena: &Arena<T>, key: &K, h: Handle<T>) -> bool {
        self.map.get(key).is_some_and(|l| l.contains(arena, h))
    }

    /// Members under `key`, first to last (empty if none).
    pub fn iter_of<'a>(&self, arena: &'a Arena<T>, key: &K) -> Iter<'a, T, A> {
        match self.map.get(key) {
            Some(l) => l.iter(arena),
            None => Iter::empty(arena),
        }
    }

    fn with_head<R>(&mut self, key: K, f: impl FnOnce(&mut ListHead<T, A>) -> R) -> R {
        let head = self.map.entry(key).or_default();
        let before = head.len();
        let r = f(head);
        let after = head.len();
        if after == 0 {
            self.map.remove(&key);
        }
        self.len = self.len + after - before;
        r
    }

    /// Appends `h` to `key`'s list, creating it if needed (`LIST_APPEND`).
    /// Preconditions/violations as for [`ListHead::push_front`] (on a
    /// violation in release, nothing changes and no empty head is left).
    pub fn push_back(&mut self, arena: &mut Arena<T>, key: K, h: Handle<T>) {
        self.with_head(key, |l| l.push_back(arena, h));
    }

    /// Inserts `h` at the beginning of `key`'s list (`LIST_INSERT`).
    /// Preconditions/violations as for [`KeyedLists::push_back`].
    pub fn push_front(&mut self, arena: &mut Arena<T>, key: K, h: Handle<T>) {
        self.with_head(key, |l| l.push_front(arena, h));
    }

    /// Unlinks `h` from `key`'s list (`LIST_DEL_INIT`), dropping the head if
    /// it becomes empty. Returns `false` (no-op) if `key` has no list, or as
    /// [`ListHead::unlink`] does (stale, not linked, or linked elsewhere —
    /// e.g. under another key, which is a [`crate::bug_on!`]).
    ///
    /// # Panics
    /// As [`ListHead::unlink`], if the list is corrupted.
    pub fn unlink(&mut self, arena: &mut Arena<T>, key: K, h: Handle<T>) -> bool {
        if !self.map.contains_key(&key) {
            return false;
        }
        self.with_head(key, |l| l.unlink(arena, h))
    }

    /// Unlinks and returns the first member under `key` (e.g. the oldest idle
    /// connection), dropping the head if it becomes empty.
    ///
    /// # Panics
    /// If the list is corrupted.
    pub fn pop_front(&mut self, arena: &mut Arena<T>, key: K) -> Option<Handle<T>> {
        if !self.map.contains_key(&key) {
            return None;
        }
        self.with_head(key, |l| l.pop_front(arena))
    }

    /// Unlinks and returns the last member under `key` (e.g. the most recently
    /// idled connection), dropping the head if it becomes empty.
    ///
    /// # Panics
    /// If the list is corrupted.
    pub fn pop_back(&mut self, arena: &mut Arena<T>, key: K) -> Option<Handle<T>> {
        if !self.map.contains_key(&key) {
            return None;
        }
        self.with_head(key, |l| l.pop_back(arena))
    }

    /// Unlinks every member under every key and drops all heads. O(n).
    pub fn clear(&mut self, arena: &mut Arena<T>) {
        for (_, mut l) in self.map.drain() {
            l.clear(arena);
        }
        self.len = 0;
    }

    /// Full consistency check (all builds, O(n)): no empty head, total length
    /// matches, and [`ListHead::check_invariants`] holds for every head.
    pub fn check_invariants(&self, arena: &Arena<T>) -> Result<(), String> {
        let mut total = 0;
        for l in self.map.values() {
            if l.is_empty() {
                return Err("empty head kept in the map".into());
            }
            l.check_invariants(arena)?;
            total += l.len();
        }
        if total != self.len {
            return Err(format!("sum of list lengths {total} != len {}", self.len));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Link;

    struct Conn {
        hash: u64,
        idle: Link<Conn>,
    }
    crate::list_adapter!(IdleList = Conn { idle });

    fn conns(hashes: &[u64]) -> (Arena<Conn>, Vec<Handle<Conn>>) {
        let mut ar = Arena::new();
        let hs = hashes
            .iter()
            .map(|&hash| {
                ar.insert(Conn {
                    hash,
                    idle: Link::new(),
                })
            })
            .collect();
        (ar, hs)
    }

    #[test]
    fn keyed_push_unlink_drops_empty_heads() {
        let (mut ar, h) = conns(&[1, 1, 2, 3]);
        let mut kl: KeyedLists<u64, Conn, IdleList> = KeyedLists::new();
        assert!(kl.is_empty() && kl.first(&1).is_none());
        for &c in &h {
            let key = ar[c].hash;
            kl.push_back(&mut ar, key, c);
        }
        kl.check_invariants(&ar).unwrap();
        assert_eq!(
            (kl.len(), kl.len_of(&1), kl.len_of(&2), kl.len_of(&9)),
            (4, 2, 1, 0)
        );
        let mut keys: Vec<u64> = kl.keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, [1, 2, 3]);
        assert_eq!((kl.first(&1), kl.last(&1)), (Some(h[0]), Some(h[1])));
        assert_eq!(kl.iter_of(&ar, &1).collect::<Vec<_>>(), [h[0], h[1]]);
        assert_eq!(kl.iter_of(&ar, &9).count(), 0);
        assert!(kl.contains(&ar, &1, h[1]) && !kl.contains(&ar, &2, h[1]));
        assert_eq!(kl.get(&1).unwrap().next(&ar, h[0]), Some(h[1]));

        assert!(!kl.unlink(&mut ar, 9, h[2]), "unknown key: no-op");
        assert!(kl.unlink(&mut ar, 2, h[2]));
        assert!(!kl.contains_key(&2), "empty head dropped");
        assert!(!kl.unlink(&mut ar, 2, h[2]));
        assert_eq!(kl.len(), 3);
        assert_eq!(kl.pop_front(&mut ar, 1), Some(h[0]));
        assert_eq!(kl.pop_back(&mut ar, 1), Some(h[1]));
        assert_eq!(kl.pop_front(&mut ar, 1), None);
        assert_eq!(kl.pop_back(&mut ar, 1), None);
        assert!(!kl.contains_key(&1));
        kl.push_front(&mut ar, 3, h[0]);
        assert_eq!(kl.iter_of(&ar, &3).collect::<Vec<_>>(), [h[0], h[3]]);
        kl.check_invariants(&ar).unwrap();
        kl.clear(&mut ar);
        assert!(kl.is_empty() && kl.keys().count() == 0);
        assert!(h.iter().all(|&c| !ar[c].idle.is_linked()));
        kl.check_invariants(&ar).unwrap();
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "linked in another list")
    )]
    fn keyed_unlink_under_wrong_key_is_a_bug() {
        let (mut ar, h) = conns(&[1, 2]);
        let mut kl: KeyedLists<u64, Conn, IdleList> = KeyedLists::new();
        kl.push_back(&mut ar, 1, h[0]);
        kl.push_back(&mut ar, 2, h[1]);
        assert!(!kl.unlink(&mut ar, 2, h[0]));
        assert_eq!(kl.len(), 2);
        kl.check_invariants(&ar).unwrap();
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "already linked")
    )]
    fn keyed_refused_push_leaves_no_empty_head() {
        let (mut ar, h) = conns(&[1]);
        let mut kl: KeyedLists<u64, Conn, IdleList> = KeyedLists::new();
        kl.push_back(&mut ar, 1, h[0]);
        kl.push_back(&mut ar, 5, h[0]);
        assert!(!kl.contains_key(&5));
        assert_eq!(kl.len(), 1);
        kl.check_invariants(&ar).unwrap();
    }
}
