//! Process, thread and CPU sets as the configuration writes them: the parsers behind global
//! `cpu-map` and the `thread` and `process` options of `bind` lines.
//!
//! Owns upstream's `parse_process_number()` and `parse_cpu_set()` (cfgparse.c) and the
//! argument parsing of `bind_parse_thread()`/`bind_parse_process()` (listener.c), each
//! returning upstream's error text (a message upstream ends with a line feed keeps it: the
//! caller prints it as upstream does). Pure functions; the reader ([`crate::parse`]) places
//! the messages, the checks ([`crate::check::check_bind_threads`]) compare the sets with the
//! number of threads.

use crate::model::CpuSet;

/// Threads and processes a set may name (`LONGBITS`, and `MAX_THREADS` of upstream's builds).
pub const MAX_THREADS: u32 = 64;

/// Thread groups a configuration may declare (`MAX_TGROUPS` of upstream's 2.6 builds).
pub const MAX_TGROUPS: i64 = 1;

/// C's `str2uic()`: the leading decimal digits of `s` as an `unsigned int`, wrapping, 0
/// without digits.
fn str2uic(s: &[u8]) -> u32 {
    s.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u32, |v, &c| {
            v.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
        })
}

/// `strtol(s, &end, 10)`: the value (saturated as glibc does) and the length read, 0 when no
/// digit was read (then `end` is `s` itself).
fn strtol10(s: &str) -> (i64, usize) {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(b.len());
    let neg = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        let d = i64::from(c - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    (v, i)
}

/// `parse_process_number(arg, &mask, max, autoinc, &err)`: a set of numbers from 1 to `max`
/// (1 to 64): `all`, `odd`, `even`, `N`, `N-M` (either order), `N-` (up to `max`); with
/// `auto_ok`, an `auto:` prefix is accepted and reported. Returns the mask (bit `n-1` for
/// `n`, limited to `max` bits) and whether `auto:` was given.
///
/// Errors, as upstream words them: `'ARG' is not a valid number/range.` for a character
/// other than digits and one dash, `'ARG' is not a valid number/range. It supports numbers
/// from 1 to MAX.\n` (with its line feed) for a number out of range, an empty argument
/// included; `ARG` is what follows `auto:`.
pub fn parse_process_number(arg: &str, max: u32, auto_ok: bool) -> Result<(u64, bool), String> {
    let (auto, arg) = match arg.strip_prefix("auto:") {
        Some(rest) if auto_ok => (true, rest),
        _ => (false, arg),
    };
    let mut mask = match arg {
        "all" => u64::MAX,
        "odd" => u64::MAX / 3,
        "even" => (u64::MAX / 3) << 1,
        _ => {
            let b = arg.as_bytes();
            let mut dash = None;
            for (i, &c) in b.iter().enumerate() {
                if c == b'-' && dash.is_none() {
                    dash = Some(i);
                } else if !c.is_ascii_digit() {
                    return Err(format!("'{arg}' is not a valid number/range."));
                }
            }
            let mut low = str2uic(b);
            let mut high = low;
            if let Some(d) = dash {
                high = if d + 1 == b.len() {
                    max
                } else {
                    str2uic(&b[d + 1..])
                };
            }
            if high < low {
                std::mem::swap(&mut low, &mut high);
            }
            if low < 1 || low > max || high > max {
                return Err(format!(
                    "'{arg}' is not a valid number/range. It supports numbers from 1 to {max}.\n"
                ));
            }
            (low..=high).fold(0u64, |m, n| m | 1 << (n - 1))
        }
    };
    mask &= u64::MAX >> (64 - max.clamp(1, 64));
    Ok((mask, auto))
}

/// `parse_cpu_set(args, &set, 0, &err)`: CPU numbers or ranges (`N`, `N-M` in either order,
/// `N-` up to the last CPU), one per argument, read up to the first empty argument. Each
/// argument must start with a digit and is read as `str2uic()` reads (`0abc` is CPU 0).
///
/// Errors: `'ARG' is not a CPU range.`, `supports CPU numbers from 0 to 1023.`
pub fn parse_cpu_set(args: &[String]) -> Result<CpuSet, String> {
    let mut set = CpuSet::default();
    let last = CpuSet::SIZE as u32 - 1;
    for arg in args.iter().take_while(|a| !a.is_empty()) {
        let b = arg.as_bytes();
        if !b[0].is_ascii_digit() {
            return Err(format!("'{arg}' is not a CPU range."));
        }
        let mut low = str2uic(b);
        let mut high = low;
        if let Some(d) = b.iter().position(|&c| c == b'-') {
            high = if d + 1 < b.len() {
                str2uic(&b[d + 1..])
            } else {
                last
            };
        }
        if high < low {
            std::mem::swap(&mut low, &mut high);
        }
        if high > last {
            return Err(format!("supports CPU numbers from 0 to {last}."));
        }
        for c in low..=high {
            set.set(c as usize);
        }
    }
    Ok(set)
}

/// The thread set of a `bind` line being read: upstream's `bind_thread` and `bind_tgroup`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BindThreads {
    /// Bit `t-1` for thread `t` (or thread `t` of the group), 0 for no restriction.
    pub mask: u64,
    /// The group of `thread G/...`, 0 when none was given.
    pub group: u32,
}

impl BindThreads {
    /// `bind ... thread [<group>/]<set>` (`bind_parse_thread()`): adds the set to `self`.
    ///
    /// Errors (upstream's words, after the line's head): `'ARG' thread-group number must be
    /// between 1 and 1 (was G)`, `'ARG' multiple thread-groups are not supported` (a group
    /// differing from the one of an earlier `thread` or `process` of the line), `'SET' :
    /// ...` with [`parse_process_number`]'s message.
    pub fn parse_thread(&mut self, arg: &str) -> Result<(), String> {
        let (g, end) = strtol10(arg);
        let (group, set) = match arg[end..].strip_prefix('/') {
            Some(rest) => {
                if !(1..=MAX_TGROUPS).contains(&g) {
                    return Err(format!(
                        "'{arg}' thread-group number must be between 1 and {MAX_TGROUPS} (was {g})"
                    ));
                }
                (g as u32, rest)
            }
            None => (0, arg),
        };
        if (self.group != 0 || self.mask != 0) && self.group != group {
            return Err(format!("'{arg}' multiple thread-groups are not supported"));
        }
        let (mask, _) =
            parse_process_number(set, MAX_THREADS, false).map_err(|e| format!("'{set}' : {e}"))?;
        self.mask |= mask;
        self.group = group;
        Ok(())
    }

    /// `bind ... process <proc>[/<set>]` (`bind_parse_process()`, deprecated): the process
    /// must be 1 (`1`, `all`, `odd`, `even`, `1-`...), the threads of `/<set>` are added to
    /// `self`. Returns the deprecation warning upstream gives (the line stays valid).
    ///
    /// Errors: `'process' : ` then [`parse_process_number`]'s message about the process part
    /// or the thread part.
    pub fn parse_process(&mut self, arg: &str) -> Result<String, String> {
        let (proc, threads) = match arg.split_once('/') {
            Some((p, t)) => (p, Some(t)),
            None => (arg, None),
        };
        let err = |e: String| format!("'process' : {e}");
        parse_process_number(proc, 1, false).map_err(err)?;
        if let Some(t) = threads {
            let (mask, _) = parse_process_number(t, MAX_THREADS, false).map_err(err)?;
            self.mask |= mask;
        }
        let mut w =
            format!("'process {arg}' on 'bind' lines is deprecated and will be removed in 2.7.");
        if let Some(t) = threads {
            w.push_str(&format!(" Please use 'thread {t}' instead."));
        }
        Ok(w)
    }
}

/// `nbits(n)`: the mask of threads 1 to `n` (`n` from 1 to 64).
pub fn nbits(n: usize) -> u64 {
    match n {
        0 => 0,
        n if n >= 64 => u64::MAX,
        n => (1 << n) - 1,
    }
}

/// `thread_resolve_group_mask()` for the single thread group: the threads among `nbthread`
/// that serve a `bind` line of set `t`, or upstream's error (`'thread' directive contains
/// threads that belong to no group` when no thread of an ungrouped set exists, `'thread'
/// directive only references threads not belonging to the group` for a grouped one).
pub fn resolve_bind_threads(t: BindThreads, nbthread: usize) -> Result<u64, &'static str> {
    let all = nbits(nbthread);
    if t.mask == 0 {
        return Ok(all);
    }
    if t.mask & all == 0 {
        return Err(if t.group == 0 {
            "'thread' directive contains threads that belong to no group"
        } else {
            "'thread' directive only references threads not belonging to the group"
        });
    }
    Ok(t.mask & all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ppn(arg: &str, max: u32) -> Result<u64, String> {
        parse_process_number(arg, max, false).map(|(m, _)| m)
    }

    #[test]
    fn process_numbers_as_upstream() {
        assert_eq!(ppn("1", 64), Ok(1));
        assert_eq!(ppn("3", 64), Ok(4));
        assert_eq!(ppn("1-3", 64), Ok(7));
        assert_eq!(ppn("3-1", 64), Ok(7));
        assert_eq!(ppn("62-", 64), Ok(0b11 << 61 | 1 << 63));
        assert_eq!(ppn("all", 64), Ok(u64::MAX));
        assert_eq!(ppn("odd", 64), Ok(0x5555_5555_5555_5555));
        assert_eq!(ppn("even", 64), Ok(0xaaaa_aaaa_aaaa_aaaa));
        assert_eq!(ppn("64", 64), Ok(1 << 63));
        // limited to max bits
        assert_eq!(ppn("all", 1), Ok(1));
        assert_eq!(ppn("even", 1), Ok(0));
        assert_eq!(ppn("1-", 1), Ok(1));
        // str2uic wraps: 2^32 + 1 is 1
        assert_eq!(ppn("4294967297", 64), Ok(1));
        let range = |a: &str, m: u32| {
            format!("'{a}' is not a valid number/range. It supports numbers from 1 to {m}.\n")
        };
        for bad in ["0", "65", "", "-", "-3", "0-2"] {
            assert_eq!(ppn(bad, 64), Err(range(bad, 64)), "{bad:?}");
        }
        assert_eq!(ppn("2", 1), Err(range("2", 1)));
        for bad in ["abc", "1-2-3", "1/2", "auto:1", " 1", "+1"] {
            assert_eq!(
                ppn(bad, 64),
                Err(format!("'{bad}' is not a valid number/range.")),
                "{bad:?}"
            );
        }
        assert_eq!(parse_process_number("auto:1-2", 64, true), Ok((3, true)));
        assert_eq!(parse_process_number("1-2", 64, true), Ok((3, false)));
        assert_eq!(
            parse_process_number("auto:", 64, true),
            Err(range("", 64)),
            "the message names what follows auto:"
        );
    }

    fn cpus(args: &[&str]) -> Result<Vec<usize>, String> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_cpu_set(&v).map(|s| s.iter().collect())
    }

    #[test]
    fn cpu_sets_as_upstream() {
        assert_eq!(cpus(&["0"]), Ok(vec![0]));
        assert_eq!(cpus(&["0-2", "5"]), Ok(vec![0, 1, 2, 5]));
        assert_eq!(cpus(&["3-1"]), Ok(vec![1, 2, 3]));
        assert_eq!(cpus(&["1021-"]), Ok(vec![1021, 1022, 1023]));
        assert_eq!(cpus(&["0abc"]), Ok(vec![0]));
        assert_eq!(cpus(&["0,1"]), Ok(vec![0]), "no comma lists in cpu-map");
        assert_eq!(cpus(&["4294967296"]), Ok(vec![0]), "str2uic wraps");
        assert_eq!(
            cpus(&["1", "", "x"]),
            Ok(vec![1]),
            "read up to an empty word"
        );
        assert_eq!(cpus(&["0-1023"]).map(|v| v.len()), Ok(1024));
        assert_eq!(cpus(&["abc"]), Err("'abc' is not a CPU range.".into()));
        assert_eq!(cpus(&["0", "-1"]), Err("'-1' is not a CPU range.".into()));
        for bad in ["1024", "0-1024", "4294967295"] {
            assert_eq!(
                cpus(&[bad]),
                Err("supports CPU numbers from 0 to 1023.".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn bind_thread_and_process_as_upstream() {
        let th = |args: &[&str]| {
            let mut t = BindThreads::default();
            for a in args {
                t.parse_thread(a)?;
            }
            Ok::<_, String>(t)
        };
        let bt = |mask, group| BindThreads { mask, group };
        assert_eq!(th(&["1"]), Ok(bt(1, 0)));
        assert_eq!(th(&["1-2"]), Ok(bt(3, 0)));
        assert_eq!(th(&["2-1"]), Ok(bt(3, 0)));
        assert_eq!(th(&["all"]), Ok(bt(u64::MAX, 0)));
        assert_eq!(th(&["odd"]), Ok(bt(0x5555_5555_5555_5555, 0)));
        assert_eq!(th(&["1/2"]), Ok(bt(2, 1)));
        assert_eq!(th(&["+1/2"]), Ok(bt(2, 1)));
        assert_eq!(th(&["1", "3"]), Ok(bt(5, 0)), "accumulated");
        assert_eq!(
            th(&["0"]),
            Err(
                "'0' : '0' is not a valid number/range. It supports numbers from 1 to 64.\n".into()
            )
        );
        assert_eq!(
            th(&["abc"]),
            Err("'abc' : 'abc' is not a valid number/range.".into())
        );
        assert_eq!(
            th(&[""]),
            Err("'' : '' is not a valid number/range. It supports numbers from 1 to 64.\n".into())
        );
        for (a, g) in [("2/1", "2"), ("/1", "0"), ("-1/1", "-1")] {
            assert_eq!(
                th(&[a]),
                Err(format!(
                    "'{a}' thread-group number must be between 1 and 1 (was {g})"
                ))
            );
        }
        assert_eq!(
            th(&["99999999999999999999/1"]),
            Err("'99999999999999999999/1' thread-group number must be between 1 and 1 (was 9223372036854775807)".into())
        );
        assert_eq!(
            th(&["1/1", "2"]),
            Err("'2' multiple thread-groups are not supported".into())
        );
        assert_eq!(
            th(&["1", "1/2"]),
            Err("'1/2' multiple thread-groups are not supported".into())
        );

        let mut t = BindThreads::default();
        assert_eq!(
            t.parse_process("1"),
            Ok("'process 1' on 'bind' lines is deprecated and will be removed in 2.7.".into())
        );
        assert_eq!(t, bt(0, 0));
        assert_eq!(t.parse_process("all").map(|_| t), Ok(bt(0, 0)));
        assert_eq!(
            t.parse_process("1/2"),
            Ok("'process 1/2' on 'bind' lines is deprecated and will be removed in 2.7. Please use 'thread 2' instead.".into())
        );
        assert_eq!(t, bt(2, 0));
        assert_eq!(
            t.parse_process("2"),
            Err(
                "'process' : '2' is not a valid number/range. It supports numbers from 1 to 1.\n"
                    .into()
            )
        );
        assert_eq!(
            t.parse_process("1/0"),
            Err(
                "'process' : '0' is not a valid number/range. It supports numbers from 1 to 64.\n"
                    .into()
            )
        );
        assert_eq!(
            t.parse_process("auto:1"),
            Err("'process' : 'auto:1' is not a valid number/range.".into())
        );
        // after a grouped thread, process adds to the group's set
        let mut t = th(&["1/1"]).unwrap();
        assert!(t.parse_process("1/2").is_ok());
        assert_eq!(t, bt(3, 1));
    }

    #[test]
    fn bind_threads_resolved_as_upstream() {
        let bt = |mask, group| BindThreads { mask, group };
        assert_eq!(resolve_bind_threads(bt(0, 0), 2), Ok(3));
        assert_eq!(resolve_bind_threads(bt(u64::MAX, 0), 2), Ok(3));
        assert_eq!(resolve_bind_threads(bt(2, 1), 2), Ok(2));
        assert_eq!(resolve_bind_threads(bt(0b110, 0), 2), Ok(2));
        assert_eq!(resolve_bind_threads(bt(u64::MAX, 0), 64), Ok(u64::MAX));
        assert_eq!(
            resolve_bind_threads(bt(1 << 4, 0), 2),
            Err("'thread' directive contains threads that belong to no group")
        );
        assert_eq!(
            resolve_bind_threads(bt(1 << 2, 1), 2),
            Err("'thread' directive only references threads not belonging to the group")
        );
        assert_eq!(nbits(1), 1);
        assert_eq!(nbits(64), u64::MAX);
    }
}
