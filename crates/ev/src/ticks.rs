//! HAProxy tick arithmetic (include/haproxy/ticks.h) on wrapping `u32` milliseconds.
//!
//! This module owns only pure functions on [`Tick`]s; it touches no clock and no state.
//! A [`Tick`] is a plain `u32` alias (not a newtype) so that code ported from HAProxy reads the
//! same (`tick_add(now_ms, timeout)`), and so that configuration timeouts (plain `u32` ms, 0 =
//! unset) mix with it without conversions. The value `0` is [`TICK_ETERNITY`]: "never"; every
//! function that *produces* a date skips 0 so that a real date never reads as eternity.
//!
//! Dates wrap around `u32::MAX` (about 49.7 days). Two dates are compared through the *signed*
//! difference of their values (`(t1 - t2) as i32`), exactly as ticks.h does with `int`s, so any
//! two dates less than 2^31 ms (~24.8 days) apart compare correctly across the wrap. Durations
//! passed to [`tick_add`] must therefore stay below 2^31 ms (checked by `debug_assert!`).

/// A date in milliseconds on the wrapping loop clock (`now_ms`). `0` is [`TICK_ETERNITY`].
pub type Tick = u32;

/// The "never" date: a timer set to this never expires and is ignored by [`tick_first`].
pub const TICK_ETERNITY: Tick = 0;

/// Largest duration that [`tick_add`] accepts (HAProxy's ticks are `int`s).
pub const TICK_MAX_DELAY: u32 = i32::MAX as u32;

/// Signed distance `t1 - t2` in ms, wrapping (the `(t1 - t2)` of ticks.h).
#[inline]
pub fn tick_diff(t1: Tick, t2: Tick) -> i32 {
    t1.wrapping_sub(t2) as i32
}

/// `tick_isset`: true unless `t` is [`TICK_ETERNITY`].
#[inline]
pub fn tick_isset(t: Tick) -> bool {
    t != TICK_ETERNITY
}

/// `tick_add`: the date `timeout` ms after `now`, wrapping; never returns [`TICK_ETERNITY`]
/// (a result of 0 is bumped to 1, i.e. 1 ms late at worst).
///
/// Precondition: `timeout <= TICK_MAX_DELAY` (debug-asserted).
#[inline]
pub fn tick_add(now: Tick, timeout: u32) -> Tick {
    debug_assert!(
        timeout <= TICK_MAX_DELAY,
        "tick_add: timeout {timeout} too large"
    );
    let t = now.wrapping_add(timeout);
    if t == 0 {
        1
    } else {
        t
    }
}

/// `tick_add_ifset`: [`TICK_ETERNITY`] if `timeout` is 0 (an unset HAProxy timeout), otherwise
/// [`tick_add`]`(now, timeout)`.
#[inline]
pub fn tick_add_ifset(now: Tick, timeout: u32) -> Tick {
    if timeout == 0 {
        TICK_ETERNITY
    } else {
        tick_add(now, timeout)
    }
}

/// `tick_is_lt`: `t1 < t2` in wrapping order. Both must be set (eternity is not special here,
/// exactly as in ticks.h).
#[inline]
pub fn tick_is_lt(t1: Tick, t2: Tick) -> bool {
    tick_diff(t1, t2) < 0
}

/// `tick_is_le`: `t1 <= t2` in wrapping order. Both must be set, as for [`tick_is_lt`].
#[inline]
pub fn tick_is_le(t1: Tick, t2: Tick) -> bool {
    tick_diff(t1, t2) <= 0
}

/// `tick_is_expired`: true if `timer` is set and `timer <= now`. Eternity never expires.
#[inline]
pub fn tick_is_expired(timer: Tick, now: Tick) -> bool {
    tick_isset(timer) && tick_diff(timer, now) <= 0
}

/// `tick_first`: the earliest of two dates, ignoring [`TICK_ETERNITY`]; returns eternity only
/// if both are eternity.
#[inline]
pub fn tick_first(t1: Tick, t2: Tick) -> Tick {
    if !tick_isset(t1) {
        return t2;
    }
    if !tick_isset(t2) {
        return t1;
    }
    if tick_diff(t1, t2) <= 0 {
        t1
    } else {
        t2
    }
}

/// `tick_first_2nz`: the earliest of two dates where only `t1` may be eternity (if `t1` is
/// eternity, `t2` is returned; `t2` is compared as a real date).
#[inline]
pub fn tick_first_2nz(t1: Tick, t2: Tick) -> Tick {
    if !tick_isset(t1) {
        return t2;
    }
    if tick_diff(t1, t2) <= 0 {
        t1
    } else {
        t2
    }
}

/// `tick_remain`: ms remaining from `now` until `exp`, 0 if `exp` has expired.
///
/// HAProxy leaves eternity undefined here (callers test `tick_isset` first); this version
/// returns `u32::MAX` for [`TICK_ETERNITY`].
#[inline]
pub fn tick_remain(now: Tick, exp: Tick) -> u32 {
    if !tick_isset(exp) {
        return u32::MAX;
    }
    if tick_is_expired(exp, now) {
        return 0;
    }
    tick_diff(exp, now) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_skips_eternity_and_wraps() {
        assert_eq!(tick_add(u32::MAX, 1), 1, "0 is skipped");
        assert_eq!(tick_add(u32::MAX - 5, 10), 4);
        assert_eq!(tick_add(100, 0), 100);
        assert_eq!(tick_add(0, 0), 1);
        assert_eq!(tick_add_ifset(100, 0), TICK_ETERNITY);
        assert_eq!(tick_add_ifset(u32::MAX, 1), 1);
        assert_eq!(tick_add_ifset(10, 5), 15);
    }

    #[test]
    fn compare_across_wrap() {
        let before = u32::MAX - 10;
        let after = tick_add(before, 20); // 9 after the wrap
        assert_eq!(after, 9);
        assert!(tick_is_lt(before, after));
        assert!(!tick_is_lt(after, before));
        assert!(tick_is_le(before, before));
        assert!(!tick_is_lt(before, before));
        assert!(tick_is_le(before, after));
        assert!(!tick_is_le(after, before));
        assert_eq!(tick_diff(after, before), 20);
        assert_eq!(tick_diff(before, after), -20);
    }

    #[test]
    fn expiry() {
        let now = u32::MAX - 2;
        assert!(!tick_is_expired(TICK_ETERNITY, now));
        assert!(!tick_is_expired(TICK_ETERNITY, 0));
        assert!(tick_is_expired(now, now));
        assert!(tick_is_expired(now - 1, now));
        assert!(!tick_is_expired(tick_add(now, 5), now));
        // a date after the wrap expires only once now passed it
        let t = tick_add(now, 5); // == 2 (wrapped past 0)
        assert_eq!(t, 2);
        assert!(!tick_is_expired(t, now));
        assert!(!tick_is_expired(t, 1));
        assert!(tick_is_expired(t, 2));
        assert!(tick_is_expired(t, 3));
    }

    #[test]
    fn first() {
        assert_eq!(tick_first(TICK_ETERNITY, TICK_ETERNITY), TICK_ETERNITY);
        assert_eq!(tick_first(TICK_ETERNITY, 5), 5);
        assert_eq!(tick_first(5, TICK_ETERNITY), 5);
        assert_eq!(tick_first(5, 7), 5);
        assert_eq!(tick_first(7, 5), 5);
        // across the wrap: u32::MAX-1 comes before 3
        assert_eq!(tick_first(3, u32::MAX - 1), u32::MAX - 1);
        assert_eq!(tick_first(u32::MAX - 1, 3), u32::MAX - 1);
        assert_eq!(tick_first_2nz(TICK_ETERNITY, 9), 9);
        assert_eq!(tick_first_2nz(3, u32::MAX - 1), u32::MAX - 1);
        assert_eq!(tick_first_2nz(8, 9), 8);
    }

    #[test]
    fn remain() {
        assert_eq!(tick_remain(10, 15), 5);
        assert_eq!(tick_remain(15, 10), 0);
        assert_eq!(tick_remain(15, 15), 0);
        assert_eq!(tick_remain(u32::MAX - 1, 4), 6);
        assert_eq!(tick_remain(7, TICK_ETERNITY), u32::MAX);
    }
}
