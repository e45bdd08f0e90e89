//! POSIX signals as loop events, through Linux `signalfd` (HAProxy: src/signal.c delivers
//! signals to tasks from the loop too, not from the handler).
//!
//! This module owns the signal mask helpers and [`SignalFd`], a non-blocking signalfd usable as
//! a mio [`Source`]. It touches the calling thread's signal mask (only in [`block_signals`] /
//! [`unblock_signals`]) and nothing of the loop; [`crate::Ev::signal_register`] wires a
//! `SignalFd` to a task.
//!
//! # Usage and ordering constraint
//! A signal is read from a signalfd only if it is *blocked*, otherwise its normal disposition
//! (often: terminate) runs first. The signal mask is per thread and inherited by threads spawned
//! afterwards, so [`block_signals`] must be called in `main` **before spawning any thread**:
//! a process-directed signal (`kill -TERM pid`) is delivered to any thread that does not block
//! it. With `nbthread N`, only one loop should own the `SignalFd`.

use std::fs::File;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// Size of `struct signalfd_siginfo`, as read from a signalfd.
const SIGINFO_SIZE: usize = 128;
const _: () = assert!(std::mem::size_of::<libc::signalfd_siginfo>() == SIGINFO_SIZE);

fn sigset(sigs: &[i32]) -> io::Result<libc::sigset_t> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `set.as_mut_ptr()` is valid for writes of a sigset_t; sigemptyset initializes it
    // completely and cannot fail with a valid pointer.
    unsafe { libc::sigemptyset(set.as_mut_ptr()) };
    // SAFETY: initialized by sigemptyset just above.
    let mut set = unsafe { set.assume_init() };
    for &s in sigs {
        // SAFETY: `set` is an initialized sigset_t owned by this frame.
        if unsafe { libc::sigaddset(&mut set, s) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(set)
}

fn sigmask(how: libc::c_int, sigs: &[i32]) -> io::Result<()> {
    let set = sigset(sigs)?;
    // SAFETY: `set` is initialized; the old-mask pointer may be null.
    let r = unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

/// Blocks `sigs` in the calling thread (`pthread_sigmask(SIG_BLOCK)`), so that they queue up
/// for a [`SignalFd`] instead of running their default action.
///
/// Precondition: call from `main` before spawning threads (threads inherit the mask; a thread
/// that does not block a signal may receive it). Errors: `EINVAL` for a bad signal number.
pub fn block_signals(sigs: &[i32]) -> io::Result<()> {
    sigmask(libc::SIG_BLOCK, sigs)
}

/// Unblocks `sigs` in the calling thread (`pthread_sigmask(SIG_UNBLOCK)`), e.g. in a child
/// before `exec`. Pending signals are then delivered normally.
pub fn unblock_signals(sigs: &[i32]) -> io::Result<()> {
    sigmask(libc::SIG_UNBLOCK, sigs)
}

/// A non-blocking, close-on-exec `signalfd` for a set of signals.
pub struct SignalFd {
    file: File,
}

impl SignalFd {
    /// Creates a signalfd accepting `sigs`. The signals must also be blocked
    /// ([`block_signals`]) for them to be read here rather than acted upon.
    ///
    /// Errors: those of `signalfd(2)` (EINVAL, EMFILE, ...).
    pub fn new(sigs: &[i32]) -> io::Result<SignalFd> {
        let set = sigset(sigs)?;
        // SAFETY: `set` is initialized; -1 asks for a new fd.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by signalfd, is open and owned by nobody else.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SignalFd {
            file: File::from(owned),
        })
    }

    /// Reads every pending signal (until `EAGAIN`), in delivery order; returns their numbers
    /// (possibly empty). Standard signals do not queue: several deliveries of one pending signal
    /// read as one. Errors: read errors other than `EAGAIN`/`EINTR`.
    pub fn read_pending(&mut self) -> io::Result<Vec<i32>> {
        let mut out = Vec::new();
        let mut buf = [0u8; SIGINFO_SIZE * 8];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    debug_assert_eq!(n % SIGINFO_SIZE, 0, "partial signalfd_siginfo");
                    for rec in buf[..n].chunks_exact(SIGINFO_SIZE) {
                        // ssi_signo is the first u32 of signalfd_siginfo
                        let signo = u32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
                        out.push(signo as i32);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

impl Source for SignalFd {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.file.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.file.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.file.as_raw_fd()).deregister(registry)
    }
}
