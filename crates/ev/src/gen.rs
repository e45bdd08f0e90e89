//! A slab whose slots carry a generation, so that handles to freed slots go stale safely.
//!
//! Owns nothing but its entries. Used for the task table and the fd table of [`crate::Ev`]; the
//! public handle types ([`crate::TaskId`], [`crate::FdId`]) wrap the `(idx, gen)` pair it hands
//! out. A slot's generation is bumped when it is freed, so an old handle never matches the next
//! occupant of the same index (the ABA guard of h2's `store::Key`). Generations are kept to 31
//! bits so that an fd `(idx, gen)` pair packs into a mio token that never collides with the
//! reserved tokens near `usize::MAX`.

use slab::Slab;

/// Mask applied to generations (31 bits).
pub(crate) const GEN_MASK: u32 = 0x7fff_ffff;

pub(crate) struct GenSlab<T> {
    slab: Slab<(u32, T)>,
    /// Next generation to hand out for each index ever used.
    gens: Vec<u32>,
}

impl<T> GenSlab<T> {
    pub(crate) fn new() -> Self {
        GenSlab {
            slab: Slab::new(),
            gens: Vec::new(),
        }
    }

    /// Stores `val`; returns its `(idx, gen)`.
    pub(crate) fn insert(&mut self, val: T) -> (u32, u32) {
        let entry = self.slab.vacant_entry();
        let idx = entry.key();
        assert!(idx <= u32::MAX as usize, "GenSlab: index overflow");
        if idx >= self.gens.len() {
            debug_assert_eq!(idx, self.gens.len());
            self.gens.push(0);
        }
        let gen = self.gens[idx];
        entry.insert((gen, val));
        (idx as u32, gen)
    }

    pub(crate) fn get(&self, idx: u32, gen: u32) -> Option<&T> {
        match self.slab.get(idx as usize) {
            Some((g, v)) if *g == gen => Some(v),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, idx: u32, gen: u32) -> Option<&mut T> {
        match self.slab.get_mut(idx as usize) {
            Some((g, v)) if *g == gen => Some(v),
            _ => None,
        }
    }

    /// Frees the slot if `(idx, gen)` is live; bumps the slot's generation.
    pub(crate) fn remove(&mut self, idx: u32, gen: u32) -> Option<T> {
        self.get(idx, gen)?;
        let (_, v) = self.slab.remove(idx as usize);
        let g = &mut self.gens[idx as usize];
        *g = g.wrapping_add(1) & GEN_MASK;
        Some(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32, &T)> {
        self.slab.iter().map(|(i, (g, v))| (i as u32, *g, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_miss() {
        let mut s = GenSlab::new();
        let (i, g) = s.insert("a");
        assert_eq!(s.get(i, g), Some(&"a"));
        assert_eq!(s.remove(i, g), Some("a"));
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.remove(i, g), None);
        let (i2, g2) = s.insert("b");
        assert_eq!(i2, i, "slot reused");
        assert_ne!(g2, g, "with a new generation");
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.get(i2, g2), Some(&"b"));
        assert_eq!(s.len(), 1);
    }
}
