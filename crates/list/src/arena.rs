//! Generation-checked slab arena: owns the objects and their [`Handle`]s.
//!
//! This module only knows about slots and generations; it never looks inside
//! the stored objects, so it cannot know whether an object is still linked in
//! some list (see [`crate::ListHead`] for that contract). It touches nothing
//! outside the arena it is called on.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::ops::{Index, IndexMut};

use slab::Slab;

/// Typed, generation-checked reference to an object stored in an [`Arena<T>`]
/// (the Rust stand-in for a C pointer to a pool-allocated object).
///
/// A handle is a plain `Copy` value; it does not keep the object alive. Once
/// the object is removed, every lookup with the handle fails, even if the slot
/// is reused. Printed as `#idx.gen`.
pub struct Handle<T> {
    idx: u32,
    gen: NonZeroU32,
    _t: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// Rebuilds a handle from [`Handle::idx`] and [`Handle::gen`] (e.g. an id
    /// typed on the CLI). Returns `None` if `gen` is 0, which no handle has.
    /// The result may of course be stale; the arena checks that on use.
    pub fn from_raw(idx: u32, gen: u32) -> Option<Self> {
        NonZeroU32::new(gen).map(|gen| Handle {
            idx,
            gen,
            _t: PhantomData,
        })
    }

    /// Slot index in the arena (reused after removal).
    pub fn idx(self) -> u32 {
        self.idx
    }

    /// Generation of the object (never 0; unique per arena until 2^32 inserts).
    pub fn gen(self) -> u32 {
        self.gen.get()
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, o: &Self) -> bool {
        self.idx == o.idx && self.gen == o.gen
    }
}
impl<T> Eq for Handle<T> {}
impl<T> Hash for Handle<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.idx.hash(state);
        self.gen.hash(state);
    }
}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Handle<T> {
    /// By slot index, then generation.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.idx, self.gen).cmp(&(o.idx, o.gen))
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.idx, self.gen)
    }
}
impl<T> fmt::Display for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

struct Entry<T> {
    gen: NonZeroU32,
    val: T,
}

/// Slab of `T` addressed by [`Handle<T>`] (HAProxy's pools + pointers).
///
/// Each inserted object gets the next value of a per-arena generation counter
/// (monotonic, wrapping and skipping 0), so a slot reused after
/// [`Arena::remove`] carries a new generation and stale handles are rejected.
pub struct Arena<T> {
    slab: Slab<Entry<T>>,
    last_gen: u32,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Arena<T> {
    /// Empty arena, no allocation.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Empty arena with room for `n` objects before reallocating.
    pub fn with_capacity(n: usize) -> Self {
        Arena {
            slab: Slab::with_capacity(n),
            last_gen: 0,
        }
    }

    fn next_gen(&mut self) -> NonZeroU32 {
        self.last_gen = self.last_gen.wrapping_add(1);
        if self.last_gen == 0 {
            self.last_gen = 1;
        }
        NonZeroU32::new(self.last_gen).unwrap_or(NonZeroU32::MIN)
    }

    /// Stores `val` and returns its new handle (`pool_alloc` + init).
    ///
    /// # Panics
    /// If the arena would exceed `u32::MAX` slots.
    pub fn insert(&mut self, val: T) -> Handle<T> {
        self.insert_with(|_| val)
    }

    /// Like [`Arena::insert`], but builds the object from its own handle, for
    /// objects that must know their handle (e.g. to register themselves).
    /// If `f` panics, nothing is inserted.
    ///
    /// # Panics
    /// If the arena would exceed `u32::MAX` slots, or if `f` panics.
    pub fn insert_with(&mut self, f: impl FnOnce(Handle<T>) -> T) -> Handle<T> {
        let gen = self.next_gen();
        let entry = self.slab.vacant_entry();
        let idx = u32::try_from(entry.key()).expect("hrs-list: arena exceeds u32::MAX slots");
        let h = Handle {
            idx,
            gen,
            _t: PhantomData,
        };
        entry.insert(Entry { gen, val: f(h) });
        h
    }

    /// Removes the object and returns it (`pool_free`). Returns `None` if `h`
    /// is stale (already removed), leaving the arena untouched.
    ///
    /// Precondition (not checked): the object is linked in no list.
    pub fn remove(&mut self, h: Handle<T>) -> Option<T> {
        if self.contains(h) {
            Some(self.slab.remove(h.idx as usize).val)
        } else {
            None
        }
    }

    /// The object behind `h`, or `None` if `h` is stale.
    pub fn get(&self, h: Handle<T>) -> Option<&T> {
        match self.slab.get(h.idx as usize) {
            Some(e) if e.gen == h.gen => Some(&e.val),
            _ => None,
        }
    }

    /// Mutable access to the object behind `h`, or `None` if `h` is stale.
    pub fn get_mut(&mut self, h: Handle<T>) -> Option<&mut T> {
        match self.slab.get_mut(h.idx as usize) {
            Some(e) if e.gen == h.gen => Some(&mut e.val),
            _ => None,
        }
    }

    /// Mutable access to two distinct objects at once. Returns `None` if
    /// either handle is stale.
    ///
    /// # Panics
    /// If `a == b` (both live and identical): that would alias.
    pub fn get2_mut(&mut self, a: Handle<T>, b: Handle<T>) -> Option<(&mut T, &mut T)> {
        if !self.contains(a) || !self.contains(b) {
            return None;
        }
        assert!(
            a != b,
            "hrs-list: Arena::get2_mut called with the same handle {a:?} twice"
        );
        let (x, y) = self.slab.get2_mut(a.idx as usize, b.idx as usize)?;
        Some((&mut x.val, &mut y.val))
    }

    /// The object behind `h`, which the caller's invariants say is live (a handle held by
    /// another object, or one checked earlier in the same task).
    ///
    /// # Errors
    /// [`Stale`] when it is not: a lifecycle bug, reported with [`crate::bug_on!`] (a panic
    /// in debug builds, a count in [`crate::BUG_COUNT`] otherwise). The caller gives up on
    /// the object that holds the handle: its task ends that stream or connection alone.
    #[track_caller]
    pub fn live(&self, h: Handle<T>) -> Result<&T, Stale> {
        match self.slab.get(h.idx as usize) {
            Some(e) if e.gen == h.gen => Ok(&e.val),
            _ => Err(Stale::report(h)),
        }
    }

    /// Mutable [`Arena::live`].
    ///
    /// # Errors
    /// [`Stale`], as [`Arena::live`].
    #[track_caller]
    pub fn live_mut(&mut self, h: Handle<T>) -> Result<&mut T, Stale> {
        match self.slab.get_mut(h.idx as usize) {
            Some(e) if e.gen == h.gen => Ok(&mut e.val),
            _ => Err(Stale::report(h)),
        }
    }

    /// True if `h` refers to a live object (not stale).
    pub fn contains(&self, h: Handle<T>) -> bool {
        self.get(h).is_some()
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// True if no object is stored.
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// Number of objects storable without reallocating.
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// All live objects with their handles, in slot order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (Handle<T>, &T)> + ExactSizeIterator + '_ {
        self.slab.iter().map(|(i, e)| {
            (
                Handle {
                    idx: i as u32,
                    gen: e.gen,
                    _t: PhantomData,
                },
                &e.val,
            )
        })
    }

    /// All live objects, mutably, with their handles, in slot order.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (Handle<T>, &mut T)> + ExactSizeIterator + '_ {
        self.slab.iter_mut().map(|(i, e)| {
            (
                Handle {
                    idx: i as u32,
                    gen: e.gen,
                    _t: PhantomData,
                },
                &mut e.val,
            )
        })
    }
}

/// A handle that had to be live was stale (see [`Arena::live`]): a lifecycle bug, already
/// reported when this value exists. Propagated with `?` up to the task that owns the object
/// holding the handle, which ends that object (HAProxy would `BUG_ON`; we end one stream or
/// connection instead of the process, and count it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stale;

impl Stale {
    /// Reports a stale `h` through [`crate::bug_on!`] and returns the error.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub fn report<T>(h: Handle<T>) -> Stale {
        crate::bug_on!(true, "stale handle {h:?} (object removed from the arena?)");
        Stale
    }
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stale handle")
    }
}

impl std::error::Error for Stale {}

#[cold]
#[inline(never)]
#[track_caller]
fn stale<T>(h: Handle<T>) -> ! {
    panic!("hrs-list: stale handle {h:?} (object removed from the arena?)")
}

impl<T> Index<Handle<T>> for Arena<T> {
    type Output = T;
    /// # Panics
    /// If `h` is stale.
    #[track_caller]
    fn index(&self, h: Handle<T>) -> &T {
        match self.get(h) {
            Some(v) => v,
            None => stale(h),
        }
    }
}

impl<T> IndexMut<Handle<T>> for Arena<T> {
    /// # Panics
    /// If `h` is stale.
    #[track_caller]
    fn index_mut(&mut self, h: Handle<T>) -> &mut T {
        match self.get_mut(h) {
            Some(v) => v,
            None => stale(h),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Arena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove() {
        let mut a = Arena::new();
        assert!(a.is_empty());
        let h1 = a.insert("one");
        let h2 = a.insert("two");
        assert_eq!(a.len(), 2);
        assert_eq!(a.get(h1), Some(&"one"));
        assert_eq!(a[h2], "two");
        *a.get_mut(h2).unwrap() = "deux";
        a[h1] = "un";
        assert_eq!((a[h1], a[h2]), ("un", "deux"));
        assert_eq!(a.remove(h1), Some("un"));
        assert_eq!(a.remove(h1), None);
        assert!(!a.contains(h1) && a.contains(h2));
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn stale_handle_after_slot_reuse() {
        let mut a = Arena::with_capacity(4);
        let old = a.insert(1u32);
        assert_eq!(a.remove(old), Some(1));
        let new = a.insert(2u32);
        assert_eq!(old.idx(), new.idx(), "slab should reuse the slot");
        assert_ne!(old.gen(), new.gen());
        assert_ne!(old, new);
        assert_eq!(a.get(old), None);
        assert_eq!(a.get_mut(old), None);
        assert!(!a.contains(old));
        assert_eq!(a.remove(old), None);
        assert_eq!(
            a[new], 2,
            "the stale remove must not have removed the new occupant"
        );
    }

    #[test]
    #[should_panic(expected = "stale handle #0.1")]
    fn index_stale_panics() {
        let mut a = Arena::new();
        let h = a.insert(());
        a.remove(h);
        let _ = &a[h];
    }

    #[test]
    fn insert_with_sees_own_handle() {
        // Self-referencing objects: the closure gets the final handle.
        struct Node {
            me: Handle<Node>,
        }
        let mut n = Arena::new();
        let h = n.insert_with(|me| Node { me });
        assert_eq!(n[h].me, h);
    }

    #[test]
    fn get2_mut_distinct_and_stale() {
        let mut a = Arena::new();
        let x = a.insert(1);
        let y = a.insert(2);
        {
            let (p, q) = a.get2_mut(x, y).unwrap();
            std::mem::swap(p, q);
        }
        assert_eq!((a[x], a[y]), (2, 1));
        a.remove(y);
        assert!(a.get2_mut(x, y).is_none());
    }

    #[test]
    #[should_panic(expected = "same handle")]
    fn get2_mut_same_panics() {
        let mut a = Arena::new();
        let x = a.insert(1);
        let _ = a.get2_mut(x, x);
    }

    #[test]
    fn iter_and_handle_traits() {
        let mut a = Arena::new();
        let hs: Vec<_> = (0..5).map(|i| a.insert(i * 10)).collect();
        a.remove(hs[2]);
        let got: Vec<_> = a.iter().map(|(h, v)| (h, *v)).collect();
        assert_eq!(got, vec![(hs[0], 0), (hs[1], 10), (hs[3], 30), (hs[4], 40)]);
        for (_, v) in a.iter_mut() {
            *v += 1;
        }
        assert_eq!(a[hs[4]], 41);
        assert_eq!(format!("{:?}", hs[1]), "#1.2");
        assert_eq!(hs[1].to_string(), "#1.2");
        assert!(hs[0] < hs[1]);
        assert_eq!(Handle::<i32>::from_raw(1, 2), Some(hs[1]));
        assert_eq!(Handle::<i32>::from_raw(1, 0), None);
        let set: std::collections::HashSet<_> = hs.iter().copied().collect();
        assert_eq!(set.len(), 5);
        assert_eq!(format!("{a:?}"), "{#0.1: 1, #1.2: 11, #3.4: 31, #4.5: 41}");
    }

    #[test]
    fn generation_wraps_skipping_zero() {
        let mut a = Arena::new();
        a.last_gen = u32::MAX - 1;
        let h1 = a.insert(());
        let h2 = a.insert(());
        assert_eq!((h1.gen(), h2.gen()), (u32::MAX, 1));
    }
}
