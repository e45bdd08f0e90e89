//! Numbers as HAProxy reads them: times with units (`parse_time_err`) and glibc's
//! `atol()`/`atoi()`. Pure functions, no state.

/// Why a time could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// The character at this byte offset is unexpected (HAProxy names it in the alert).
    BadChar(usize),
    /// Larger than 2147483647 ms (`PARSE_TIME_OVER`).
    Overflow,
}

/// Unit of a time value without suffix and of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Ms,
    S,
}

/// Reads `<digits>[us|ms|s|m|h|d]` into `unit`s, as `parse_time_err()`.
///
/// A number without suffix is already in `unit`. Fails on an empty or non-digit start, on
/// trailing characters after the suffix, and on overflow/underflow.
pub fn parse_time(text: &str, unit: TimeUnit) -> Result<u32, TimeError> {
    let b = text.as_bytes();
    if !b.first().is_some_and(|c| c.is_ascii_digit()) {
        return Err(TimeError::BadChar(0));
    }
    let mut i = 0;
    let mut value: u128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        value = (value * 10 + (b[i] - b'0') as u128).min(u64::MAX as u128);
        i += 1;
    }
    // the multiplier from the suffix's unit to microseconds
    let imul: u128 = match b.get(i) {
        None => return check_time(value),
        Some(b's') => 1_000_000,
        Some(b'u') if b.get(i + 1) == Some(&b's') => {
            i += 1;
            1
        }
        Some(b'm') if b.get(i + 1) == Some(&b's') => {
            i += 1;
            1000
        }
        Some(b'm') => 60_000_000,
        Some(b'h') => 3_600_000_000,
        Some(b'd') => 86_400_000_000,
        Some(_) => return Err(TimeError::BadChar(i)),
    };
    i += 1;
    if i < b.len() {
        return Err(TimeError::BadChar(i));
    }
    let out_us: u128 = match unit {
        TimeUnit::Ms => 1000,
        TimeUnit::S => 1_000_000,
    };
    // a non-zero value never rounds down to zero ("1us" is 1 ms), as upstream accepts it
    let result = (value * imul).div_ceil(out_us);
    check_time(result)
}

fn check_time(result: u128) -> Result<u32, TimeError> {
    if result > i32::MAX as u128 {
        return Err(TimeError::Overflow);
    }
    Ok(result as u32)
}

/// C's `atol()` as glibc implements it (`strtol(text, NULL, 10)`), the one reading of
/// numbers that upstream does with `atol()` (proxy and server numeric keywords, `status` of
/// `http-request return`...): leading white space (`isspace`: space, `\t \n \v \f \r`), an
/// optional sign, then decimal digits up to the first other character. No digit gives 0; a
/// value out of range gives `i64::MAX` or `i64::MIN` (strtol's `LONG_MAX`/`LONG_MIN`). Never
/// fails. Takes text or raw bytes (CLI arguments).
pub fn atol(text: &(impl AsRef<[u8]> + ?Sized)) -> i64 {
    let b = text.as_ref();
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(b.len());
    let t = &b[start..];
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    // accumulated negatively when `neg` so that i64::MIN is reachable, as strtol does
    let mut v: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        let d = i64::from(c - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v
}

/// C's `atoi()` as glibc implements it: [`atol`] truncated to an `int` (so a value out of
/// `long` range is -1, and 2^32 + 5 is 5), where upstream stores the result in an `int`.
pub fn atoi(text: &(impl AsRef<[u8]> + ?Sized)) -> i32 {
    atol(text) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("100", TimeUnit::Ms), Ok(100));
        assert_eq!(parse_time("5s", TimeUnit::Ms), Ok(5000));
        assert_eq!(parse_time("2m", TimeUnit::Ms), Ok(120_000));
        assert_eq!(parse_time("1h", TimeUnit::Ms), Ok(3_600_000));
        assert_eq!(parse_time("1d", TimeUnit::Ms), Ok(86_400_000));
        assert_eq!(parse_time("250ms", TimeUnit::Ms), Ok(250));
        assert_eq!(parse_time("1500us", TimeUnit::Ms), Ok(2));
        assert_eq!(parse_time("10x", TimeUnit::Ms), Err(TimeError::BadChar(2)));
        assert_eq!(parse_time("10sx", TimeUnit::Ms), Err(TimeError::BadChar(3)));
        assert_eq!(parse_time("x", TimeUnit::Ms), Err(TimeError::BadChar(0)));
        assert_eq!(parse_time("", TimeUnit::Ms), Err(TimeError::BadChar(0)));
        assert_eq!(parse_time("25d", TimeUnit::Ms), Err(TimeError::Overflow));
        assert_eq!(parse_time("500us", TimeUnit::Ms), Ok(1));
        assert_eq!(parse_time("24d", TimeUnit::Ms), Ok(2_073_600_000));
        assert_eq!(parse_time("0", TimeUnit::Ms), Ok(0));
        assert_eq!(parse_time("3", TimeUnit::S), Ok(3));
        assert_eq!(parse_time("3000ms", TimeUnit::S), Ok(3));
        // the largest value is INT_MAX, with or without a unit
        assert_eq!(parse_time("2147483647", TimeUnit::Ms), Ok(2147483647));
        assert_eq!(
            parse_time("2147483648", TimeUnit::Ms),
            Err(TimeError::Overflow)
        );
        assert_eq!(parse_time("2147483647000us", TimeUnit::Ms), Ok(2147483647));
        assert_eq!(
            parse_time("2147483647001us", TimeUnit::Ms),
            Err(TimeError::Overflow)
        );
        assert_eq!(
            parse_time("99999999999999999999999", TimeUnit::Ms),
            Err(TimeError::Overflow)
        );
        assert_eq!(parse_time("1us", TimeUnit::S), Ok(1));
        assert_eq!(parse_time("2ms", TimeUnit::Ms), Ok(2));
        // `u` is only a unit before `s`
        assert_eq!(parse_time("5u", TimeUnit::Ms), Err(TimeError::BadChar(1)));
        assert_eq!(parse_time("5ux", TimeUnit::Ms), Err(TimeError::BadChar(1)));
    }

    #[test]
    fn atol_basics() {
        assert_eq!(atol("42abc"), 42);
        assert_eq!(atol("abc"), 0);
        assert_eq!(atol(" -7"), -7);
    }

    /// Every case checked against glibc's `atol()`, including where the two copies that
    /// existed before disagreed: the one of hrs-sample skipped only spaces and tabs (so
    /// "\n42" was 0) and wrapped on overflow; the one here stopped at -i64::MAX.
    #[test]
    fn atol_is_glibcs() {
        for (text, want) in [
            ("\n42", 42),
            (" \x0b\x0c\r\t-7x", -7),
            ("99999999999999999999", i64::MAX),
            ("-99999999999999999999", i64::MIN),
            ("-9223372036854775808", i64::MIN),
            ("9223372036854775807", i64::MAX),
            ("+-3", 0),
            ("- 3", 0),
            ("0x10", 0),
            ("", 0),
            ("+", 0),
            ("+200", 200),
            ("0200", 200),
            ("200 ", 200),
        ] {
            assert_eq!(atol(text), want, "atol({text:?})");
        }
        assert_eq!(atol(&b"\t12"[..]), 12);
        // glibc: atoi = (int) strtol; the CLI's copy saturated to i64::MAX instead
        assert_eq!(atoi("99999999999999999999999"), -1);
        assert_eq!(atoi("4294967301"), 5);
        assert_eq!(atoi(&b" +7x"[..]), 7);
        assert_eq!(atoi("-1"), -1);
    }
}
