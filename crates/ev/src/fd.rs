//! The fd table: per-fd readiness cache and owner task (HAProxy's `fdtab[]`, src/fd.c).
//!
//! This module owns `FdTab`: one entry per registered mio source, holding the owning
//! [`TaskId`] and a small state word (`FD_EV_READY_R`, `FD_EV_READY_W`, `FD_EV_SHUT_R`,
//! `FD_EV_SHUT_W`, `FD_EV_ERR_RW`). It may touch only that table: `FdTab::update_events`
//! (HAProxy's `fd_update_events`) turns a mio event into state bits and returns the task to
//! wake; it performs no syscall. Registration with the poller is done by [`crate::Ev`].
//!
//! # The readiness contract (edge-triggered, HAProxy's `fd_cant_recv` rule)
//! Sources are registered once for READABLE|WRITABLE, edge-triggered (mio, like ev_epoll with
//! EPOLLET). An edge sets the matching READY bit; nothing else does except
//! [`crate::Ev::fd_may_recv`]/[`crate::Ev::fd_may_send`]. Therefore:
//! * a caller must not attempt `recv`/`send` while [`crate::Ev::fd_recv_ready`] /
//!   [`crate::Ev::fd_send_ready`] is false: the next edge will wake the owner with IO;
//! * a caller clears a READY bit ([`crate::Ev::fd_cant_recv`]/[`crate::Ev::fd_cant_send`]) only
//!   after a real `EAGAIN`/`WouldBlock`, otherwise no edge may ever come and the fd stalls;
//! * the one exception: a short read on a stream socket proves the receive queue empty, and
//!   any later data raises a new edge, so [`crate::Ev::fd_drained_recv`] clears READY_R
//!   then (a short read after SHUT_R was the last data: the caller takes the end at once);
//! * after a short write the bit stays set (the next attempt will tell).
//!
//! A new entry starts with no READY bit: registering (`epoll_ctl(ADD)`) an fd that already has
//! data or room reports it as an edge in the next poll, so nothing is lost. SHUT and ERR bits are
//! sticky until the fd is deregistered; an error or a hang-up also sets the READY bits, because
//! the next `recv`/`send` will then return immediately (0 or the error) instead of blocking.
//!
//! # Virtual entries
//! An entry may also exist without a poller registration ([`crate::Ev::fd_insert_virtual`]):
//! for a transport that is not a kernel socket (the scripted connections of the unit tests).
//! Nothing ever polls it; whoever plays the peer raises its edges with
//! [`crate::Ev::fd_update_events`], the way the poller would for a socket, and the owner sees
//! the same cache and the same contract as above. It is dropped with [`crate::Ev::fd_delete`].

use std::fmt;

use hrs_list::{Arena, Handle};
use log::trace;

use crate::task::TaskId;

/// Generation-checked handle to a registered fd (a handle into the fd table's
/// [`hrs_list::Arena`]). Stale handles read as "not ready" and mutators ignore them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FdId(pub(crate) Handle<FdEntry>);

impl fmt::Debug for FdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "F{}.{}", self.0.idx(), self.0.gen())
    }
}

#[cfg(not(target_pointer_width = "64"))]
compile_error!("hrs-ev packs (idx, gen) into a mio Token and needs a 64-bit usize");

/// Slot index no fd ever gets: tokens whose low 32 bits are `RESERVED_IDX` are free for the
/// loop's own sources (see [`reserved_token`]), so they can never collide with an fd token.
const RESERVED_IDX: u32 = u32::MAX;

/// The `n`th token reserved for a non-fd source (waker, signalfd): `n << 32 | RESERVED_IDX`.
/// `reserved_token(u32::MAX)` is `Token(usize::MAX)`.
pub(crate) const fn reserved_token(n: u32) -> mio::Token {
    mio::Token(((n as usize) << 32) | RESERVED_IDX as usize)
}

impl FdId {
    /// The mio token: `gen << 32 | idx`. `idx` is never [`RESERVED_IDX`] (checked by
    /// [`FdTab::insert`]), so this never equals a [`reserved_token`].
    pub(crate) fn token(self) -> mio::Token {
        mio::Token(((self.0.gen() as usize) << 32) | self.0.idx() as usize)
    }

    /// Inverse of [`FdId::token`]; `None` for a token no fd can have (gen 0). The result may
    /// be stale: the table checks that on use.
    pub(crate) fn from_token(t: mio::Token) -> Option<FdId> {
        Handle::from_raw(t.0 as u32, (t.0 >> 32) as u32).map(FdId)
    }
}

/// Data can be received (edge seen, no EAGAIN since).
pub const FD_EV_READY_R: u8 = 0x01;
/// Data can be sent.
pub const FD_EV_READY_W: u8 = 0x02;
/// The peer shut its write side (read returns 0): EPOLLRDHUP or EPOLLHUP.
pub const FD_EV_SHUT_R: u8 = 0x04;
/// Our write side is unusable (EPOLLHUP, or EPOLLERR with EPOLLOUT).
pub const FD_EV_SHUT_W: u8 = 0x08;
/// The socket reported an error (EPOLLERR).
pub const FD_EV_ERR_RW: u8 = 0x10;

pub(crate) struct FdEntry {
    pub(crate) owner: TaskId,
    pub(crate) state: u8,
}

/// See the module doc.
pub(crate) struct FdTab {
    pub(crate) fds: Arena<FdEntry>,
}

impl FdTab {
    pub(crate) fn new() -> Self {
        FdTab { fds: Arena::new() }
    }

    /// # Panics
    /// If the table would need slot [`RESERVED_IDX`] (2^32 - 1 live fds).
    pub(crate) fn insert(&mut self, owner: TaskId) -> FdId {
        let h = self.fds.insert(FdEntry { owner, state: 0 });
        if h.idx() == RESERVED_IDX {
            self.fds.remove(h);
            panic!("hrs-ev: fd table full");
        }
        FdId(h)
    }

    pub(crate) fn remove(&mut self, fd: FdId) -> bool {
        self.fds.remove(fd.0).is_some()
    }

    pub(crate) fn get(&self, fd: FdId) -> Option<&FdEntry> {
        self.fds.get(fd.0)
    }

    pub(crate) fn get_mut(&mut self, fd: FdId) -> Option<&mut FdEntry> {
        self.fds.get_mut(fd.0)
    }

    pub(crate) fn state(&self, fd: FdId) -> u8 {
        self.get(fd).map_or(0, |e| e.state)
    }

    pub(crate) fn set(&mut self, fd: FdId, bits: u8) {
        if let Some(e) = self.get_mut(fd) {
            e.state |= bits;
        }
    }

    pub(crate) fn clr(&mut self, fd: FdId, bits: u8) {
        if let Some(e) = self.get_mut(fd) {
            e.state &= !bits;
        }
    }

    /// `fd_update_events`: merges a mio event into the entry; returns the owner to wake with IO,
    /// or `None` for a stale token. No syscall.
    pub(crate) fn update_events(&mut self, ev: &mio::event::Event) -> Option<TaskId> {
        let fd = FdId::from_token(ev.token())?;
        let n = Self::event_bits(ev);
        self.merge(fd, n)
    }

    /// ORs the state bits `n` of an event into the entry of `fd`; returns its owner, or
    /// `None` for a stale `fd`.
    pub(crate) fn merge(&mut self, fd: FdId, n: u8) -> Option<TaskId> {
        let e = self.get_mut(fd)?;
        e.state |= n;
        trace!(target: "hrs::ev", "fd {fd:?} event {n:#x} -> state {:#x} owner {:?}", e.state, e.owner);
        Some(e.owner)
    }

    /// The state bits a mio event stands for.
    fn event_bits(ev: &mio::event::Event) -> u8 {
        let mut n = 0u8;
        if ev.is_readable() {
            n |= FD_EV_READY_R;
        }
        if ev.is_writable() {
            n |= FD_EV_READY_W;
        }
        if ev.is_read_closed() {
            n |= FD_EV_SHUT_R | FD_EV_READY_R;
        }
        if ev.is_write_closed() {
            n |= FD_EV_SHUT_W | FD_EV_READY_W;
        }
        if ev.is_error() {
            n |= FD_EV_ERR_RW | FD_EV_READY_R | FD_EV_READY_W;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_roundtrip_and_stale() {
        let mut t = FdTab::new();
        let owner = TaskId(Handle::from_raw(0, 1).unwrap());
        let a = t.insert(owner);
        let tok = a.token();
        assert_eq!(FdId::from_token(tok), Some(a));
        t.set(a, FD_EV_READY_R);
        assert_eq!(t.state(a), FD_EV_READY_R);
        assert!(t.remove(a));
        let b = t.insert(owner);
        assert_eq!(b.0.idx(), a.0.idx());
        assert_ne!(b.token(), tok);
        assert_eq!(t.state(a), 0, "stale handle reads not ready");
        assert_eq!(t.state(b), 0, "new entry starts not ready");
        t.set(a, FD_EV_READY_W);
        assert_eq!(t.state(b), 0);
        assert_eq!(FdId::from_token(mio::Token(7)), None, "gen 0 is no fd");
        // the largest fd token differs from every reserved one in its low 32 bits
        let big = FdId(Handle::from_raw(RESERVED_IDX - 1, u32::MAX).unwrap());
        assert_eq!(big.token().0 as u32, RESERVED_IDX - 1);
        assert_eq!(reserved_token(u32::MAX), mio::Token(usize::MAX));
        for n in [0, 1, u32::MAX - 1, u32::MAX] {
            assert_eq!(reserved_token(n).0 as u32, RESERVED_IDX);
        }
    }
}
