//! Intrusive doubly linked lists over an [`Arena`]: [`Link`] (the field
//! embedded in members, C's `struct list` member), [`Adapter`] (which field a
//! list uses), [`ListHead`] (C's list head), [`Iter`] and [`Cursor`].
//!
//! A list operation only touches the head it is called on and the `Link`
//! fields selected by its adapter in the arena it is given (the member and
//! its two neighbours); other fields and other links are never read/written.

use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::arena::{Arena, Handle};
use crate::bug_on;

/// Source of head identities (0 = "no head yet" / "not linked").
static NEXT_HEAD_ID: AtomicU64 = AtomicU64::new(1);

/// Selects the [`Link`] field of `T` a list uses. Implemented on zero-sized
/// marker types, normally with [`crate::list_adapter!`]. Both functions must
/// return the same field.
pub trait Adapter<T> {
    /// The link field of `t` used by lists with this adapter.
    fn link(t: &T) -> &Link<T>;
    /// Same field, mutably.
    fn link_mut(t: &mut T) -> &mut Link<T>;
}

/// The list membership field embedded in objects (C's `struct list` member).
///
/// A `Link` is either unlinked (fresh, [`Link::new`]) or linked in exactly one
/// [`ListHead`], whose identity it records. Only `ListHead` modifies it.
/// Cloning gives a fresh *unlinked* link (a copy of an object is in no list),
/// so objects embedding links may derive `Clone`.
pub struct Link<T> {
    prev: Option<Handle<T>>,
    next: Option<Handle<T>>,
    /// Id of the holding head, 0 when unlinked.
    owner: u64,
}

impl<T> Link<T> {
    /// Unlinked link (`LIST_INIT` on a member).
    pub const fn new() -> Self {
        Link {
            prev: None,
            next: None,
            owner: 0,
        }
    }

    /// True if the member is in a list through this link (`LIST_INLIST`).
    pub fn is_linked(&self) -> bool {
        self.owner != 0
    }

    /// Previous member, `None` if first or unlinked.
    pub fn prev(&self) -> Option<Handle<T>> {
        self.prev
    }

    /// Next member, `None` if last or unlinked.
    pub fn next(&self) -> Option<Handle<T>> {
        self.next
    }
}

impl<T> Default for Link<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Link<T> {
    /// Returns an unlinked link, see the type docs.
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_linked() {
            write!(f, "Link({:?} <- -> {:?})", self.prev, self.next)
        } else {
            f.write_str("Link(unlinked)")
        }
    }
}

/// Reports a corrupted list: member `h` was removed from the arena while still linked. A
/// [`bug_on!`] (a panic in debug builds); otherwise the caller gives the list up
/// ([`ListHead::poison`]) or stops walking it, and the process goes on.
#[cold]
#[inline(never)]
#[track_caller]
fn corrupt<T>(h: Handle<T>) {
    bug_on!(
        true,
        "hrs-list: list corrupted: member {h:?} is stale (removed from the arena while still linked?)"
    );
}

/// The link of neighbour `h`, which the caller checked to be live.
fn link_mut<T, A: Adapter<T>>(arena: &mut Arena<T>, h: Handle<T>) -> Option<&mut Link<T>> {
    arena.get_mut(h).map(A::link_mut)
}

/// Is every handle of `hs` live? Reports the first that is not ([`corrupt`]).
#[track_caller]
fn neighbours_live<T>(arena: &Arena<T>, hs: [Option<Handle<T>>; 2]) -> bool {
    for h in hs.into_iter().flatten() {
        if !arena.contains(h) {
            corrupt(h);
            return false;
        }
    }
    true
}

/// Head of an intrusive list of `T` linked through the field chosen by the
/// adapter `A` (C's `struct list` head).
///
/// Not circular: holds `first`, `last` and `len`. Every member records the
/// identity of the head holding it, so membership checks are O(1) and using
/// the wrong head is detected. Rules:
///
/// * the head is needed to unlink (no `LIST_DELETE` on a lone member);
/// * unlink a member from every list before [`Arena::remove`] (otherwise the
///   list is corrupted: reaching the stale handle is a [`bug_on!`], after which
///   the list is given up, see [`ListHead::poison`]);
/// * dropping a non-empty head leaves its members marked linked: use
///   [`ListHead::clear`] first if the members outlive it.
pub struct ListHead<T, A> {
    first: Option<Handle<T>>,
    last: Option<Handle<T>>,
    len: usize,
    /// Identity recorded in members' links; allocated on first insertion.
    id: u64,
    _a: PhantomData<fn() -> A>,
}

impl<T, A> Default for ListHead<T, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, A> fmt::Debug for ListHead<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListHead")
            .field("first", &self.first)
            .field("last", &self.last)
            .field("len", &self.len)
            .finish()
    }
}

impl<T, A> ListHead<T, A> {
    /// Empty list (`LIST_HEAD_INIT`), usable in `const`/`static` context.
    pub const fn new() -> Self {
        ListHead {
            first: None,
            last: None,
            len: 0,
            id: 0,
            _a: PhantomData,
        }
    }

    /// True if the list has no member (`LIST_ISEMPTY`). O(1).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of members. O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// First member (`LIST_NEXT(head)` / `LIST_ELEM(head->n)`), `None` if empty.
    pub fn first(&self) -> Option<Handle<T>> {
        self.first
    }

    /// Last member (`LIST_PREV(head)`), `None` if empty.
    pub fn last(&self) -> Option<Handle<T>> {
        self.last
    }

    /// Removal-safe forward cursor from the first member
    /// (`list_for_each_entry_safe`). See [`Cursor`].
    pub fn cursor(&self) -> Cursor<T, A> {
        Cursor {
            next: self.first,
            owner: self.id,
            rev: false,
            _a: PhantomData,
        }
    }

    /// Removal-safe backward cursor from the last member
    /// (`list_for_each_entry_safe_rev`). See [`Cursor`].
    pub fn cursor_rev(&self) -> Cursor<T, A> {
        Cursor {
            next: self.last,
            owner: self.id,
            rev: true,
            _a: PhantomData,
        }
    }

    fn ensure_id(&mut self) -> u64 {
        if self.id == 0 {
            self.id = NEXT_HEAD_ID.fetch_add(1, Ordering::Relaxed);
        }
        self.id
    }
}

impl<T, A: Adapter<T>> ListHead<T, A> {
    /// Link of `h` if `h` is live and a member of this very list.
    fn member_link<'a>(&self, arena: &'a Arena<T>, h: Handle<T>) -> Option<&'a Link<T>> {
        let l = A::link(arena.get(h)?);
        (self.id != 0 && l.owner == self.id).then_some(l)
    }

    /// Links unlinked `h` between `prev` and `next` (adjacent members of self).
    fn link_between(
        &mut self,
        arena: &mut Arena<T>,
        h: Handle<T>,
        prev: Option<Handle<T>>,
        next: Option<Handle<T>>,
        op: &str,
    ) {
        let owner = self.ensure_id();
        if !neighbours_live(arena, [prev, next]) {
            self.poison();
            return self.link_between(arena, h, None, None, op);
        }
        let Some(t) = arena.get_mut(h) else {
            bug_on!(true, "hrs-list: {op}: stale handle {h:?}");
            return;
        };
        let l = A::link_mut(t);
        if bug_on!(
            l.is_linked(),
            "hrs-list: {op}: {h:?} is already linked in a list with this adapter"
        ) {
            return;
        }
        *l = Link { prev, next, owner };
        match prev.and_then(|p| link_mut::<T, A>(arena, p)) {
            Some(pl) => pl.next = Some(h),
            None => self.first = Some(h),
        }
        match next.and_then(|n| link_mut::<T, A>(arena, n)) {
            Some(nl) => nl.prev = Some(h),
            None => self.last = Some(h),
        }
        self.len += 1;
    }

    /// Gives up a corrupted list (a member was removed from the arena while linked):
    /// it becomes empty under a new identity, so that its former members, which still
    /// look linked, are no longer taken for members of it (unlinking one is a
    /// [`bug_on!`] and a no-op, as for a member of another list). Used after
    /// [`bug_on!`] reported the corruption, in builds that do not panic on it.
    pub fn poison(&mut self) {
        self.first = None;
        self.last = None;
        self.len = 0;
        self.id = NEXT_HEAD_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// Inserts `h` at the beginning (`LIST_INSERT(head, el)`). O(1).
    ///
    /// Precondition: `h` is live and not linked through adapter `A`. A
    /// violation is a [`bug_on!`]: panic in debug/`strict`, otherwise ignored
    /// (list unchanged) and counted.
    pub fn push_front(&mut self, arena: &mut Arena<T>, h: Handle<T>) {
        let first = self.first;
        self.link_between(arena, h, None, first, "push_front");
    }

    /// Appends `h` at the end (`LIST_APPEND(head, el)`). O(1).
    /// Preconditions and violations as for [`ListHead::push_front`].
    pub fn push_back(&mut self, arena: &mut Arena<T>, h: Handle<T>) {
        let last = self.last;
        self.link_between(arena, h, last, None, "push_back");
    }

    /// Inserts `h` right after member `at` (`LIST_INSERT(&at->list, el)`). O(1).
    ///
    /// Preconditions: `at` is a member of this list; `h` as for
    /// [`ListHead::push_front`]. Violations are [`bug_on!`]s (ignored in release).
    pub fn insert_after(&mut self, arena: &mut Arena<T>, at: Handle<T>, h: Handle<T>) {
        let Some(next) = self.member_link(arena, at).map(|l| l.next) else {
            bug_on!(
                true,
                "hrs-list: insert_after: {at:?} is not a member of this list"
            );
            return;
        };
        self.link_between(arena, h, Some(at), next, "insert_after");
    }

    /// Inserts `h` right before member `at` (`LIST_APPEND(&at->list, el)`). O(1).
    /// Preconditions and violations as for [`ListHead::insert_after`].
    pub fn insert_before(&mut self, arena: &mut Arena<T>, at: Handle<T>, h: Handle<T>) {
        let Some(prev) = self.member_link(arena, at).map(|l| l.prev) else {
            bug_on!(
                true,
                "hrs-list: insert_before: {at:?} is not a member of this list"
            );
            return;
        };
        self.link_between(arena, h, prev, Some(at), "insert_before");
    }

    /// Unlinks `h` and re-initialises its link (`LIST_DEL_INIT`). O(1).
    ///
    /// Returns `true` if `h` was a member and is now unlinked; `false` (no-op)
    /// if `h` is stale or not linked through adapter `A`. If `h` is linked in
    /// *another* list with the same adapter, that is a [`bug_on!`] and `false`.
    ///
    /// A stale neighbour of `h` (removed from the arena while still linked)
    /// means the list is corrupted: a [`bug_on!`], then the list is given up
    /// ([`ListHead::poison`]) and `h` is unlinked alone (`true`).
    pub fn unlink(&mut self, arena: &mut Arena<T>, h: Handle<T>) -> bool {
        let Some(t) = arena.get_mut(h) else {
            return false;
        };
        let l = A::link_mut(t);
        if !l.is_linked() {
            return false;
        }
        if bug_on!(
            l.owner != self.id,
            "hrs-list: unlink: {h:?} is linked in another list"
        ) {
            return false;
        }
        let (prev, next) = (l.prev, l.next);
        *l = Link::new();
        if !neighbours_live(arena, [prev, next]) {
            self.poison();
            return true;
        }
        match prev.and_then(|p| link_mut::<T, A>(arena, p)) {
            Some(pl) => pl.next = next,
            None => self.first = next,
        }
        match next.and_then(|n| link_mut::<T, A>(arena, n)) {
            Some(nl) => nl.prev = prev,
            None => self.last = prev,
        }
        self.len -= 1;
        true
    }

    /// Unlinks and returns the first member, `None` if empty (`LIST_DEL_INIT`
    /// of `LIST_NEXT(head)`). O(1). A corrupted list (its first member was
    /// removed while linked) is a [`bug_on!`]: the list is given up and `None`
    /// returned.
    pub fn pop_front(&mut self, arena: &mut Arena<T>) -> Option<Handle<T>> {
        let h = self.first?;
        if !self.unlink(arena, h) {
            corrupt(h);
            self.poison();
            return None;
        }
        Some(h)
    }

    /// Unlinks and returns the last member, `None` if empty. O(1). Corruption
    /// as for [`ListHead::pop_front`].
    pub fn pop_back(&mut self, arena: &mut Arena<T>) -> Option<Handle<T>> {
        let h = self.last?;
        if !self.unlink(arena, h) {
            corrupt(h);
            self.poison();
            return None;
        }
        Some(h)
    }

    /// Member after `h` (`LIST_NEXT`/`list_next`). `None` if `h` is last, or
    /// if `h` is stale or not a member of this list. O(1).
    pub fn next(&self, arena: &Arena<T>, h: Handle<T>) -> Option<Handle<T>> {
        self.member_link(arena, h)?.next
    }

    /// Member before `h` (`LIST_PREV`). `None` if `h` is first, or if `h` is
    /// stale or not a member of this list. O(1).
    pub fn prev(&self, arena: &Arena<T>, h: Handle<T>) -> Option<Handle<T>> {
        self.member_link(arena, h)?.prev
    }

    /// True if `h` is live and a member of this list. O(1) thanks to the head
    /// identity stored in links (C would need an O(n) walk).
    pub fn contains(&self, arena: &Arena<T>, h: Handle<T>) -> bool {
        self.member_link(arena, h).is_some()
    }

    /// Iterates over members' handles, first to last (`list_for_each_entry`);
    /// also double-ended and exact-size. The arena is borrowed, so the list
    /// cannot change meanwhile; use [`ListHead::cursor`] to modify.
    ///
    /// # Panics
    /// While iterating, if the list is corrupted.
    pub fn iter<'a>(&self, arena: &'a Arena<T>) -> Iter<'a, T, A> {
        Iter {
            arena,
            front: self.first,
            back: self.last,
            remaining: self.len,
            _a: PhantomData,
        }
    }

    /// Moves all members of `other` to the end of `self`, in order, leaving
    /// `other` empty (HAProxy's `LIST_SPLICE`, but appending). O(len(other))
    /// because members' links record their head.
    ///
    /// A corrupted `other` (a member removed while linked) is a [`bug_on!`]:
    /// `other` is given up ([`ListHead::poison`]) and `self` keeps what it had.
    pub fn append(&mut self, arena: &mut Arena<T>, other: &mut Self) {
        if other.is_empty() {
            return;
        }
        let mut cur = other.first;
        while let Some(h) = cur {
            match arena.get(h) {
                Some(t) => cur = A::link(t).next,
                None => {
                    corrupt(h);
                    other.poison();
                    return;
                }
            }
        }
        if !neighbours_live(arena, [self.last, None]) {
            self.poison();
        }
        let id = self.ensure_id();
        let mut cur = other.first;
        while let Some(l) = cur.and_then(|h| link_mut::<T, A>(arena, h)) {
            l.owner = id;
            cur = l.next;
        }
        let (ofirst, olast) = (other.first, other.last);
        match self
            .last
            .and_then(|l| Some((l, link_mut::<T, A>(arena, l)?)))
        {
            Some((l, ll)) => {
                ll.next = ofirst;
                if let Some(fl) = ofirst.and_then(|f| link_mut::<T, A>(arena, f)) {
                    fl.prev = Some(l);
                }
            }
            None => self.first = ofirst,
        }
        self.last = olast;
        self.len += other.len;
        other.first = None;
        other.last = None;
        other.len = 0;
    }

    /// Unlinks every member (re-initialising their links). O(n).
    /// Unlike C's `LIST_INIT(head)`, members are not left dangling.
    ///
    /// # Panics
    /// If the list is corrupted.
    pub fn clear(&mut self, arena: &mut Arena<T>) {
        while self.pop_front(arena).is_some() {}
    }

    /// Full consistency check, in all builds (O(n), for tests and debugging):
    /// `first`/`last`/`len` agree, every member is live, linked in this head,
    /// `prev`/`next` are symmetric, and there is no cycle. Returns a
    /// description of the first problem found.
    pub fn check_invariants(&self, arena: &Arena<T>) -> Result<(), String> {
        let empty = self.len == 0;
        if self.first.is_none() != empty || self.last.is_none() != empty {
            return Err(format!(
                "head inconsistent: first={:?} last={:?} len={}",
                self.first, self.last, self.len
            ));
        }
        let (mut prev, mut cur, mut n) = (None, self.first, 0usize);
        while let Some(h) = cur {
            if n >= self.len {
                return Err(format!(
                    "more than len={} members reachable (cycle?)",
                    self.len
                ));
            }
            let t = arena
                .get(h)
                .ok_or_else(|| format!("member {h:?} at position {n} is stale"))?;
            let l = A::link(t);
            if !l.is_linked() {
                return Err(format!("member {h:?} at position {n} is not marked linked"));
            }
            if l.owner != self.id {
                return Err(format!(
                    "member {h:?} at position {n} belongs to another head"
                ));
            }
            if l.prev != prev {
                return Err(format!(
                    "member {h:?} at position {n}: prev={:?}, expected {prev:?}",
                    l.prev
                ));
            }
            prev = Some(h);
            cur = l.next;
            n += 1;
        }
        if n != self.len {
            return Err(format!("{n} members reachable but len={}", self.len));
        }
        if prev != self.last {
            return Err(format!("walk ended at {prev:?} but last={:?}", self.last));
        }
        Ok(())
    }
}

/// Iterator over a list's handles, see [`ListHead::iter`].
pub struct Iter<'a, T, A> {
    arena: &'a Arena<T>,
    front: Option<Handle<T>>,
    back: Option<Handle<T>>,
    remaining: usize,
    _a: PhantomData<fn() -> A>,
}

impl<'a, T, A> Iter<'a, T, A> {
    /// An iterator yielding nothing.
    pub(crate) fn empty(arena: &'a Arena<T>) -> Self {
        Iter {
            arena,
            front: None,
            back: None,
            remaining: 0,
            _a: PhantomData,
        }
    }
}

impl<T, A: Adapter<T>> Iterator for Iter<'_, T, A> {
    type Item = Handle<T>;
    fn next(&mut self) -> Option<Handle<T>> {
        if self.remaining == 0 {
            return None;
        }
        let h = self.front?;
        let Some(t) = self.arena.get(h) else {
            // a corrupted list: the walk stops here
            corrupt(h);
            self.remaining = 0;
            return None;
        };
        self.front = A::link(t).next;
        self.remaining -= 1;
        Some(h)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T, A: Adapter<T>> DoubleEndedIterator for Iter<'_, T, A> {
    fn next_back(&mut self) -> Option<Handle<T>> {
        if self.remaining == 0 {
            return None;
        }
        let h = self.back?;
        let Some(t) = self.arena.get(h) else {
            corrupt(h);
            self.remaining = 0;
            return None;
        };
        self.back = A::link(t).prev;
        self.remaining -= 1;
        Some(h)
    }
}

impl<T, A: Adapter<T>> ExactSizeIterator for Iter<'_, T, A> {}
impl<T, A: Adapter<T>> FusedIterator for Iter<'_, T, A> {}

/// Removal-safe cursor (`list_for_each_entry_safe[_rev]`), made by
/// [`ListHead::cursor`] / [`ListHead::cursor_rev`]. It borrows nothing, so
/// the head and arena may be modified between steps:
///
/// ```text
/// let mut c = head.cursor();
/// while let Some(h) = c.next(&arena) {
///     head.unlink(&mut arena, h);   // allowed
///     arena.remove(h);              // allowed once unlinked from every list
/// }
/// ```
///
/// Each step prefetches the following member before yielding the current
/// one, so the *current* member may be unlinked, moved or removed. As in C,
/// the prefetched (next) member must not be unlinked; if it was removed or
/// moved to another list, [`Cursor::next`] reports a [`bug_on!`] and stops.
/// A current member re-inserted further ahead in the same list is visited
/// again.
pub struct Cursor<T, A> {
    next: Option<Handle<T>>,
    owner: u64,
    rev: bool,
    _a: PhantomData<fn() -> A>,
}

impl<T, A> Clone for Cursor<T, A> {
    fn clone(&self) -> Self {
        Cursor {
            next: self.next,
            owner: self.owner,
            rev: self.rev,
            _a: PhantomData,
        }
    }
}

impl<T, A> fmt::Debug for Cursor<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cursor")
            .field("next", &self.next)
            .field("rev", &self.rev)
            .finish()
    }
}

impl<T, A: Adapter<T>> Cursor<T, A> {
    /// Member the next call will yield (already prefetched), if any.
    pub fn peek(&self) -> Option<Handle<T>> {
        self.next
    }

    /// Yields the next member and prefetches the one after it. `None` at the
    /// end of the list, or (after a [`bug_on!`]) if the prefetched member was
    /// removed from the arena or is no longer in the cursor's list.
    pub fn next(&mut self, arena: &Arena<T>) -> Option<Handle<T>> {
        let h = self.next.take()?;
        let Some(t) = arena.get(h) else {
            bug_on!(
                true,
                "hrs-list: cursor: prefetched member {h:?} was removed"
            );
            return None;
        };
        let l = A::link(t);
        if bug_on!(
            l.owner != self.owner,
            "hrs-list: cursor: prefetched member {h:?} left the list"
        ) {
            return None;
        }
        self.next = if self.rev { l.prev } else { l.next };
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct Obj {
        v: u32,
        a: Link<Obj>,
        b: Link<Obj>,
    }
    crate::list_adapter! {
        /// First link.
        LA = Obj { a };
        pub(crate) LB = Obj { b }
    }
    type HA = ListHead<Obj, LA>;
    type HB = ListHead<Obj, LB>;

    static _CONST_HEAD: HA = ListHead::new();

    fn obj(v: u32) -> Obj {
        Obj {
            v,
            a: Link::new(),
            b: Link::default(),
        }
    }

    fn setup(n: u32) -> (Arena<Obj>, Vec<Handle<Obj>>) {
        let mut ar = Arena::new();
        let hs = (0..n).map(|v| ar.insert(obj(v))).collect();
        (ar, hs)
    }

    fn vals<Ad: Adapter<Obj>>(l: &ListHead<Obj, Ad>, ar: &Arena<Obj>) -> Vec<u32> {
        l.check_invariants(ar).unwrap();
        let fwd: Vec<u32> = l.iter(ar).map(|h| ar[h].v).collect();
        let mut rev: Vec<u32> = l.iter(ar).rev().map(|h| ar[h].v).collect();
        rev.reverse();
        assert_eq!(fwd, rev);
        assert_eq!(l.iter(ar).len(), l.len());
        fwd
    }

    /// A member removed from the arena while linked: in debug builds the next
    /// touch of the list panics (`bug_on!`); in release builds (seen here through
    /// `with_bugs_counted`) walks stop at it, unlinking next to it gives the list up,
    /// and the list keeps working afterwards.
    #[test]
    fn corrupted_list_is_given_up_not_fatal() {
        let (mut ar, h) = setup(4);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        ar.remove(h[2]); // still linked: a lifecycle bug
        let before = crate::bug_count();
        crate::with_bugs_counted(|| {
            let walked: Vec<u32> = l.iter(&ar).map(|x| ar[x].v).collect();
            assert_eq!(walked, vec![0, 1], "the walk stops at the stale member");
            assert!(l.unlink(&mut ar, h[1]), "the member itself is unlinked");
            assert!(l.is_empty(), "the corrupted list is given up");
            assert!(!ar[h[1]].a.is_linked());
            // former members no longer count as members of the list
            assert!(!l.unlink(&mut ar, h[3]));
            let n = ar.insert(obj(9));
            l.push_back(&mut ar, n);
            assert_eq!(l.first(), Some(n));
            assert_eq!(l.pop_front(&mut ar), Some(n));
        });
        assert!(
            crate::bug_count() >= before + 3,
            "each corruption met is counted"
        );
        let mut p = HA::new();
        let (mut ar2, h2) = setup(2);
        p.push_back(&mut ar2, h2[0]);
        ar2.remove(h2[0]);
        crate::with_bugs_counted(|| assert_eq!(p.pop_front(&mut ar2), None));
        assert!(p.is_empty());
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "list corrupted"))]
    fn corrupted_list_panics_in_debug_builds() {
        let (mut ar, h) = setup(2);
        let mut l = HA::new();
        l.push_back(&mut ar, h[0]);
        l.push_back(&mut ar, h[1]);
        ar.remove(h[0]);
        let _ = l.iter(&ar).count();
    }

    #[test]
    fn push_pop_and_navigation() {
        let (mut ar, h) = setup(4);
        let mut l = HA::new();
        assert!(l.is_empty() && l.first().is_none() && l.last().is_none());
        l.push_back(&mut ar, h[1]);
        l.push_back(&mut ar, h[2]);
        l.push_front(&mut ar, h[0]);
        l.push_back(&mut ar, h[3]);
        assert_eq!(vals(&l, &ar), [0, 1, 2, 3]);
        assert_eq!((l.first(), l.last(), l.len()), (Some(h[0]), Some(h[3]), 4));
        assert_eq!(l.next(&ar, h[1]), Some(h[2]));
        assert_eq!(l.prev(&ar, h[1]), Some(h[0]));
        assert_eq!(l.prev(&ar, h[0]), None);
        assert_eq!(l.next(&ar, h[3]), None);
        assert!(ar[h[2]].a.is_linked() && !ar[h[2]].b.is_linked());
        assert_eq!(ar[h[2]].a.next(), Some(h[3]));
        assert_eq!(ar[h[2]].a.prev(), Some(h[1]));
        // Interleaved iteration from both ends meets in the middle.
        let mut it = l.iter(&ar);
        assert_eq!(
            (it.next(), it.next_back(), it.next(), it.next_back()),
            (Some(h[0]), Some(h[3]), Some(h[1]), Some(h[2]))
        );
        assert_eq!((it.next(), it.next_back()), (None, None));

        assert_eq!(l.pop_front(&mut ar), Some(h[0]));
        assert_eq!(l.pop_back(&mut ar), Some(h[3]));
        assert!(!ar[h[0]].a.is_linked() && !ar[h[3]].a.is_linked());
        assert_eq!(vals(&l, &ar), [1, 2]);
        assert_eq!(l.pop_back(&mut ar), Some(h[2]));
        assert_eq!(l.pop_back(&mut ar), Some(h[1]));
        assert_eq!(l.pop_back(&mut ar), None);
        assert_eq!(l.pop_front(&mut ar), None);
        assert!(l.is_empty());
        vals(&l, &ar);
    }

    #[test]
    fn unlink_cases() {
        let (mut ar, h) = setup(5);
        let mut l = HA::new();
        for &x in &h[..4] {
            l.push_back(&mut ar, x);
        }
        assert!(l.unlink(&mut ar, h[1])); // middle
        assert_eq!(vals(&l, &ar), [0, 2, 3]);
        assert!(l.unlink(&mut ar, h[0])); // first
        assert!(l.unlink(&mut ar, h[3])); // last
        assert_eq!(vals(&l, &ar), [2]);
        assert!(!l.unlink(&mut ar, h[1]), "already unlinked: no-op");
        assert!(!l.unlink(&mut ar, h[4]), "never linked: no-op");
        assert_eq!(l.next(&ar, h[1]), None);
        assert!(!l.contains(&ar, h[1]) && l.contains(&ar, h[2]));
        // Re-push after unlink works (link was re-initialised).
        l.push_front(&mut ar, h[1]);
        assert_eq!(vals(&l, &ar), [1, 2]);
        // Stale handle: unlink is a no-op.
        assert!(l.unlink(&mut ar, h[1]));
        ar.remove(h[1]);
        assert!(!l.unlink(&mut ar, h[1]));
        assert!(!l.contains(&ar, h[1]));
        assert!(l.unlink(&mut ar, h[2]));
        assert!(l.is_empty());
        vals(&l, &ar);
    }

    #[test]
    fn stale_handle_never_resolves_to_new_occupant() {
        let (mut ar, h) = setup(2);
        let mut l = HA::new();
        l.push_back(&mut ar, h[0]);
        assert!(l.unlink(&mut ar, h[0]));
        ar.remove(h[0]);
        let n = ar.insert(obj(99));
        assert_eq!(n.idx(), h[0].idx());
        l.push_back(&mut ar, n);
        assert!(!l.contains(&ar, h[0]) && l.contains(&ar, n));
        assert!(
            !l.unlink(&mut ar, h[0]),
            "stale handle must not unlink the new occupant"
        );
        assert_eq!(l.next(&ar, h[0]), None);
        assert_eq!(vals(&l, &ar), [99]);
    }

    #[test]
    fn insert_after_before() {
        let (mut ar, h) = setup(5);
        let mut l = HA::new();
        l.push_back(&mut ar, h[2]);
        l.insert_after(&mut ar, h[2], h[4]); // at last
        l.insert_before(&mut ar, h[2], h[0]); // at first
        l.insert_after(&mut ar, h[0], h[1]); // middle
        l.insert_before(&mut ar, h[4], h[3]); // middle
        assert_eq!(vals(&l, &ar), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn member_of_two_lists_via_two_adapters() {
        let (mut ar, h) = setup(3);
        let mut la = HA::new();
        let mut lb = HB::new();
        for &x in &h {
            la.push_back(&mut ar, x);
            lb.push_front(&mut ar, x);
        }
        assert_eq!(vals(&la, &ar), [0, 1, 2]);
        assert_eq!(vals(&lb, &ar), [2, 1, 0]);
        assert!(la.unlink(&mut ar, h[1]));
        assert_eq!(vals(&la, &ar), [0, 2]);
        assert_eq!(vals(&lb, &ar), [2, 1, 0], "other list untouched");
        assert!(ar[h[1]].b.is_linked() && !ar[h[1]].a.is_linked());
        // Removing from the arena requires unlinking from every list first.
        assert!(lb.unlink(&mut ar, h[1]));
        assert_eq!(ar.remove(h[1]).map(|o| o.v), Some(1));
        assert_eq!(vals(&lb, &ar), [2, 0]);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "already linked")
    )]
    fn push_already_linked_is_a_bug() {
        let (mut ar, h) = setup(2);
        let (mut l1, mut l2) = (HA::new(), HA::new());
        l1.push_back(&mut ar, h[0]);
        l1.push_back(&mut ar, h[1]);
        l2.push_back(&mut ar, h[0]); // release: ignored and counted
        assert_eq!(vals(&l1, &ar), [0, 1]);
        assert!(l2.is_empty());
        vals(&l2, &ar);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "linked in another list")
    )]
    fn unlink_through_wrong_head_is_a_bug() {
        let (mut ar, h) = setup(3);
        let (mut l1, mut l2) = (HA::new(), HA::new());
        for &x in &h {
            l1.push_back(&mut ar, x);
        }
        let x = ar.insert(obj(7));
        l2.push_back(&mut ar, x);
        assert!(!l2.unlink(&mut ar, h[1]));
        assert_eq!(vals(&l1, &ar), [0, 1, 2]);
        assert_eq!(vals(&l2, &ar), [7]);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "stale handle")
    )]
    fn push_stale_is_a_bug() {
        let (mut ar, h) = setup(1);
        ar.remove(h[0]);
        let mut l = HA::new();
        l.push_back(&mut ar, h[0]);
        assert!(l.is_empty());
    }

    #[test]
    fn cursor_remove_every_element() {
        let (mut ar, h) = setup(6);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        let mut seen = vec![];
        let mut c = l.cursor();
        while let Some(x) = c.next(&ar) {
            seen.push(ar[x].v);
            assert!(l.unlink(&mut ar, x));
            assert!(ar.remove(x).is_some());
            l.check_invariants(&ar).unwrap();
        }
        assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
        assert!(l.is_empty() && ar.is_empty());
    }

    #[test]
    fn cursor_remove_alternate_elements_both_directions() {
        let (mut ar, h) = setup(7);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        let mut c = l.cursor();
        let mut i = 0;
        while let Some(x) = c.next(&ar) {
            if i % 2 == 0 {
                l.unlink(&mut ar, x);
                ar.remove(x);
            }
            i += 1;
        }
        assert_eq!(i, 7);
        assert_eq!(vals(&l, &ar), [1, 3, 5]);
        let mut c = l.cursor_rev();
        assert_eq!(c.peek(), Some(h[5]));
        let mut seen = vec![];
        while let Some(x) = c.next(&ar) {
            seen.push(ar[x].v);
            if ar[x].v == 3 {
                l.unlink(&mut ar, x);
            }
        }
        assert_eq!(seen, [5, 3, 1]);
        assert_eq!(vals(&l, &ar), [1, 5]);
        // Moving the current element to the back: visited again, like C.
        let mut c = l.cursor();
        let mut seen = vec![];
        while let Some(x) = c.next(&ar) {
            seen.push(ar[x].v);
            if ar[x].v == 1 && seen.len() == 1 {
                l.unlink(&mut ar, x);
                l.push_back(&mut ar, x);
            }
        }
        assert_eq!(seen, [1, 5, 1]);
        assert_eq!(vals(&l, &ar), [5, 1]);
        // Empty list cursor.
        assert_eq!(HA::new().cursor().next(&ar), None);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "prefetched member")
    )]
    fn cursor_detects_removed_prefetched_member() {
        let (mut ar, h) = setup(3);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        let mut c = l.cursor();
        assert_eq!(c.next(&ar), Some(h[0]));
        l.unlink(&mut ar, h[1]); // the prefetched one: forbidden
        ar.remove(h[1]);
        assert_eq!(c.next(&ar), None); // release: stops
    }

    #[test]
    fn append_and_clear() {
        let (mut ar, h) = setup(5);
        let (mut l1, mut l2) = (HA::new(), HA::new());
        l1.append(&mut ar, &mut l2); // both empty
        l2.push_back(&mut ar, h[0]);
        l1.append(&mut ar, &mut l2); // into empty
        assert_eq!((vals(&l1, &ar), vals(&l2, &ar)), (vec![0], vec![]));
        for &x in &h[1..4] {
            l2.push_back(&mut ar, x);
        }
        l1.append(&mut ar, &mut l2);
        assert_eq!(vals(&l1, &ar), [0, 1, 2, 3]);
        assert!(l2.is_empty() && !l2.contains(&ar, h[1]) && l1.contains(&ar, h[1]));
        assert!(
            l1.unlink(&mut ar, h[2]),
            "moved members belong to the new head"
        );
        l2.push_back(&mut ar, h[4]);
        l2.push_back(&mut ar, h[2]);
        assert_eq!(vals(&l2, &ar), [4, 2]);
        l1.clear(&mut ar);
        assert!(l1.is_empty() && !ar[h[0]].a.is_linked() && !ar[h[3]].a.is_linked());
        vals(&l1, &ar);
    }

    #[test]
    fn check_invariants_detects_removed_member() {
        let (mut ar, h) = setup(3);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        ar.remove(h[1]); // bug: still linked
        let e = l.check_invariants(&ar).unwrap_err();
        assert!(e.contains("stale"), "{e}");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.iter(&ar).count()));
        assert!(r.is_err(), "iterating a corrupted list must panic");
    }

    #[test]
    fn check_invariants_detects_bad_links() {
        let (mut ar, h) = setup(3);
        let mut l = HA::new();
        for &x in &h {
            l.push_back(&mut ar, x);
        }
        ar[h[2]].a.prev = Some(h[0]);
        assert!(l.check_invariants(&ar).unwrap_err().contains("prev"));
        ar[h[2]].a.prev = Some(h[1]);
        ar[h[2]].a.next = Some(h[0]); // cycle
        assert!(l.check_invariants(&ar).unwrap_err().contains("cycle"));
        ar[h[2]].a.next = None;
        ar[h[1]].a.owner = 0;
        assert!(l
            .check_invariants(&ar)
            .unwrap_err()
            .contains("not marked linked"));
        ar[h[1]].a.owner = l.id + 1000;
        assert!(l
            .check_invariants(&ar)
            .unwrap_err()
            .contains("another head"));
        ar[h[1]].a.owner = l.id;
        l.len = 4;
        assert!(l.check_invariants(&ar).is_err());
        l.len = 3;
        l.last = Some(h[1]);
        assert!(l.check_invariants(&ar).unwrap_err().contains("last"));
        l.last = Some(h[2]);
        l.check_invariants(&ar).unwrap();
    }

    #[test]
    fn cloned_object_is_unlinked() {
        let (mut ar, h) = setup(1);
        let mut l = HA::new();
        l.push_back(&mut ar, h[0]);
        let copy = ar[h[0]].clone();
        assert!(!copy.a.is_linked() && copy.v == 0);
        assert_eq!(format!("{:?}", copy.a), "Link(unlinked)");
        assert_eq!(format!("{:?}", ar[h[0]].a), "Link(None <- -> None)");
        let c2 = ar.insert(copy);
        l.push_back(&mut ar, c2);
        assert_eq!(vals(&l, &ar), [0, 0]);
        assert_eq!(
            format!("{l:?}"),
            format!(
                "ListHead {{ first: Some({:?}), last: Some({c2:?}), len: 2 }}",
                h[0]
            )
        );
    }
}
