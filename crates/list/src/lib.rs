//! `hrs-list`: the intrusive-list arena used by the whole proxy, the Rust form
//! of HAProxy's `struct list` (`include/haproxy/list.h`, `list-t.h`).
//!
//! This crate owns three things and touches nothing else (no I/O, no logging,
//! no global state except the [`BUG_COUNT`] counter):
//!
//! * [`Arena<T>`]: a slab of objects (connections, sessions, streams, servers)
//!   addressed by typed, generation-checked [`Handle<T>`]s. A handle to a
//!   removed object never resolves to whatever later reuses its slot.
//! * [`Link<T>`] + [`Adapter<T>`] + [`ListHead<T, A>`]: doubly linked lists
//!   whose links live *inside* the member objects, one `Link` field per list
//!   the object may belong to (exactly like embedding several `struct list`
//!   in a C struct). The zero-sized adapter type `A` (declared with
//!   [`list_adapter!`]) selects which field a given list uses.
//! * [`KeyedLists<K, T, A>`]: a map `key -> ListHead`, for per-server pools
//!   indexed by connection hash (idle/safe/avail trees in HAProxy).
//!
//! Differences with C that matter to callers:
//!
//! * Lists are **not circular** and the head is not stored in the members, so
//!   every mutating operation (including unlinking, `LIST_DEL_INIT`) takes the
//!   head *and* the arena explicitly: `head.unlink(&mut arena, h)`.
//! * A member must be unlinked from **every** list before [`Arena::remove`];
//!   the arena does not know about lists. Removing a linked member leaves its
//!   neighbours pointing at a stale handle, which is detected (panic) the next
//!   time the list is walked through that point.
//! * Every link records which head holds it, so unlinking through the wrong
//!   head and [`ListHead::contains`] are O(1) checks.
//!
//! Precondition violations that can be recovered from (pushing an
//! already-linked member, a stale handle, the wrong head) are reported with
//! [`bug_on!`]: a panic in debug builds or with the `strict` feature, otherwise
//! a no-op counted in [`BUG_COUNT`] (HAProxy's `BUG_ON`/`COUNT_IF`).
//!
//! ```
//! use hrs_list::{list_adapter, Arena, KeyedLists, Link, ListHead};
//!
//! struct Conn { hash: u64, idle_link: Link<Conn>, sess_link: Link<Conn> }
//! list_adapter! {
//!     pub IdleList = Conn { idle_link };
//!     pub SessList = Conn { sess_link };
//! }
//!
//! let mut conns = Arena::new();
//! let mut sess_conns: ListHead<Conn, SessList> = ListHead::new();
//! let mut idle: KeyedLists<u64, Conn, IdleList> = KeyedLists::new();
//!
//! let c = conns.insert(Conn { hash: 42, idle_link: Link::new(), sess_link: Link::new() });
//! sess_conns.push_back(&mut conns, c);
//! idle.push_back(&mut conns, 42, c); // in two lists at once
//! assert_eq!(idle.first(&42), Some(c));
//!
//! // Walk and remove safely (list_for_each_entry_safe).
//! let mut cur = sess_conns.cursor();
//! while let Some(h) = cur.next(&conns) {
//!     sess_conns.unlink(&mut conns, h);
//!     let key = conns[h].hash;
//!     idle.unlink(&mut conns, key, h);
//!     conns.remove(h); // unlinked from every list first
//! }
//! assert!(sess_conns.is_empty() && idle.is_empty() && conns.is_empty());
//! assert_eq!(conns.get(c).map(|c| c.hash), None); // stale handle detected
//! ```

#![forbid(unsafe_code)]

mod arena;
mod keyed;
mod list;

pub use arena::{Arena, Handle, Stale};
pub use keyed::KeyedLists;
pub use list::{Adapter, Cursor, Iter, Link, ListHead};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Number of [`bug_on!`] conditions hit so far in this process (only
/// observable in builds where they do not panic).
pub static BUG_COUNT: AtomicU64 = AtomicU64::new(0);

/// Returns the current value of [`BUG_COUNT`].
pub fn bug_count() -> u64 {
    BUG_COUNT.load(Ordering::Relaxed)
}

/// `bug_on!(cond)` / `bug_on!(cond, "fmt", args..)`: reports a broken
/// invariant, like HAProxy's `BUG_ON()` / `COUNT_IF()`.
///
/// Evaluates to `cond` (a `bool`) so the caller can bail out when recovery is
/// possible: `if bug_on!(x.is_linked(), "...") { return; }`.
///
/// # Panics
///
/// When `cond` is true and this crate is built with `debug_assertions` or the
/// `strict` feature. Otherwise [`BUG_COUNT`] is incremented and nothing is
/// logged.
#[macro_export]
macro_rules! bug_on {
    ($cond:expr $(,)?) => {
        $crate::bug_on!($cond, "{}", ::core::stringify!($cond))
    };
    ($cond:expr, $($arg:tt)+) => {{
        let cond: bool = $cond;
        if cond {
            $crate::__bug_hit(::core::format_args!($($arg)+));
        }
        cond
    }};
}

/// Slow path of [`bug_on!`]; not part of the API.
#[doc(hidden)]
#[cold]
#[inline(never)]
#[track_caller]
pub fn __bug_hit(args: fmt::Arguments<'_>) {
    BUG_COUNT.fetch_add(1, Ordering::Relaxed);
    if cfg!(any(debug_assertions, feature = "strict")) && !COUNT_ONLY.with(|c| c.get()) {
        panic!("BUG: {args}");
    }
}

thread_local! {
    /// Set by [`with_bugs_counted`]: this thread counts [`bug_on!`] hits instead of panicking.
    static COUNT_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with [`bug_on!`] counting instead of panicking on this thread, as release builds
/// do: lets a debug-build test check what a release build does with a broken invariant (a
/// stale handle ending one stream, say).
pub fn with_bugs_counted<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            COUNT_ONLY.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(COUNT_ONLY.with(|c| c.replace(true)));
    f()
}

/// Declares zero-sized adapter types selecting the [`Link`] field a list uses.
///
/// `list_adapter!(pub IdleList = Connection { idle_link });` expands to a
/// `pub struct IdleList;` implementing [`Adapter<Connection>`] through the
/// field `idle_link: Link<Connection>`. Several declarations may be given,
/// separated by `;`, each optionally preceded by attributes/doc comments.
#[macro_export]
macro_rules! list_adapter {
    ($($(#[$m:meta])* $vis:vis $name:ident = $ty:ty { $field:ident });+ $(;)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        $vis struct $name;

        impl $crate::Adapter<$ty> for $name {
            #[inline]
            fn link(t: &$ty) -> &$crate::Link<$ty> {
                &t.$field
            }
            #[inline]
            fn link_mut(t: &mut $ty) -> &mut $crate::Link<$ty> {
                &mut t.$field
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    #[test]
    fn bug_on_evaluates_to_condition() {
        assert!(!bug_on!(1 + 1 == 3, "never {}", 1));
        assert!(!bug_on!(false));
    }

    #[test]
    fn bugs_counted_on_request() {
        let before = crate::bug_count();
        let hit = crate::with_bugs_counted(|| bug_on!(true, "counted"));
        assert!(hit);
        assert!(
            crate::bug_count() > before,
            "counted (other tests may count too)"
        );
    }

    #[test]
    fn live_reports_stale_handles() {
        let mut a = crate::Arena::new();
        let h = a.insert(5u32);
        assert_eq!(a.live(h), Ok(&5));
        *a.live_mut(h).unwrap() = 6;
        a.remove(h);
        let before = crate::bug_count();
        crate::with_bugs_counted(|| {
            assert_eq!(a.live(h), Err(crate::Stale));
            assert_eq!(a.live_mut(h).map(|v| *v), Err(crate::Stale));
        });
        assert!(crate::bug_count() >= before + 2, "both counted");
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "BUG: stale handle"))]
    fn live_panics_in_debug_builds() {
        let mut a = crate::Arena::new();
        let h = a.insert(1u8);
        a.remove(h);
        let _ = a.live(h);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, feature = "strict"),
        should_panic(expected = "BUG: boom 7")
    )]
    fn bug_on_panics_or_counts() {
        let before = crate::bug_count();
        assert!(bug_on!(true, "boom {}", 7));
        assert!(crate::bug_count() > before);
    }
}
