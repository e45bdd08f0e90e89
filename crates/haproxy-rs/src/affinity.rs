//! `cpu-map`: which CPUs each thread may run on (upstream's `cpu_map.proc` and
//! `cpu_map.thread[]`, applied when the threads start).
//!
//! Owns the resolution of the configuration's `cpu-map` lines into one CPU set per thread
//! ([`thread_cpus`], pure) and its application to the calling thread ([`apply`]). Touches
//! nothing of another thread: each thread pins itself.

use hrs_cfg::model::{CpuMap, CpuSet};

/// The CPUs thread `tid` (0-based) may run on, `None` when no line restricts it. A line
/// without a thread part, or whose thread part is thread 1 alone, maps the whole process
/// (with `auto:`, to its lowest CPU); a line with threads maps each of them, with `auto:`
/// one CPU each, handed out in increasing order to the threads in increasing order. A
/// thread mapped both ways runs on the CPUs of both, unless they have none in common (then
/// its own). Later lines replace earlier ones for the same target, as upstream.
pub fn thread_cpus(maps: &[CpuMap], tid: usize) -> Option<CpuSet> {
    let mut proc: Option<CpuSet> = None;
    let mut thr: Option<CpuSet> = None;
    for m in maps {
        match m.threads {
            None | Some(1) => {
                proc = Some(if m.auto { first_only(&m.cpus) } else { m.cpus });
            }
            Some(mask) => {
                if tid >= 64 || mask & (1u64 << tid) == 0 {
                    continue;
                }
                thr = Some(if m.auto {
                    // the k-th thread of the set gets the k-th CPU
                    let k = (mask & ((1u64 << tid) - 1)).count_ones() as usize;
                    let mut one = CpuSet::default();
                    if let Some(c) = m.cpus.iter().nth(k) {
                        one.set(c);
                    }
                    one
                } else {
                    m.cpus
                });
            }
        }
    }
    match (proc, thr) {
        (Some(p), Some(t)) => {
            let both = CpuSet(std::array::from_fn(|i| p.0[i] & t.0[i]));
            Some(if both.count() > 0 { both } else { t })
        }
        (p, t) => t.or(p),
    }
}

fn first_only(s: &CpuSet) -> CpuSet {
    let mut one = CpuSet::default();
    if let Some(c) = s.iter().next() {
        one.set(c);
    }
    one
}

/// Pins the calling thread to `cpus`. A set with no CPU, or one the system refuses (no such
/// CPU), leaves the thread where it is, as upstream does not fail on it.
pub fn apply(cpus: &CpuSet) {
    if cpus.count() == 0 {
        return;
    }
    // SAFETY: cpu_set_t is plain data, filled with CPU_SET below its size; the call reads it
    // and applies to the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
        for c in cpus.iter().filter(|&c| c < max) {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            log::warn!(
                target: "hrs::cpu_map",
                "cannot set the CPU affinity: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hrs_cfg::diag::Loc;

    fn cpus(list: &[usize]) -> CpuSet {
        let mut s = CpuSet::default();
        for &c in list {
            s.set(c);
        }
        s
    }

    fn line(auto: bool, threads: Option<u64>, list: &[usize]) -> CpuMap {
        CpuMap {
            auto,
            procs: 1,
            threads,
            cpus: cpus(list),
            loc: Loc {
                file: "c.cfg".into(),
                line: 1,
            },
        }
    }

    fn of(maps: &[CpuMap], tid: usize) -> Option<Vec<usize>> {
        thread_cpus(maps, tid).map(|s| s.iter().collect())
    }

    #[test]
    fn no_line_no_pinning() {
        assert_eq!(of(&[], 0), None);
    }

    #[test]
    fn auto_hands_out_one_cpu_per_thread_in_order() {
        // cpu-map auto:1/1-4 2-5
        let m = [line(true, Some(0b1111), &[2, 3, 4, 5])];
        assert_eq!(of(&m, 0), Some(vec![2]));
        assert_eq!(of(&m, 3), Some(vec![5]));
        assert_eq!(of(&m, 4), None, "thread 5 is not in the set");
        // cpu-map auto:1/2,4 0-1: the threads of the set in order
        let m = [line(true, Some(0b1010), &[0, 1])];
        assert_eq!(
            (of(&m, 1), of(&m, 3), of(&m, 0)),
            (Some(vec![0]), Some(vec![1]), None)
        );
    }

    #[test]
    fn a_thread_set_gets_every_cpu_and_later_lines_win() {
        // cpu-map 1/2-3 0-1, then cpu-map 1/3 7
        let m = [
            line(false, Some(0b110), &[0, 1]),
            line(false, Some(0b100), &[7]),
        ];
        assert_eq!(of(&m, 1), Some(vec![0, 1]));
        assert_eq!(of(&m, 2), Some(vec![7]));
        assert_eq!(of(&m, 0), None);
    }

    #[test]
    fn the_process_map_applies_to_every_thread_and_narrows_thread_maps() {
        // cpu-map 1 0-3 (and cpu-map 1/1 means the process too), cpu-map 1/2 2-5
        for proc in [None, Some(1)] {
            let m = [
                line(false, proc, &[0, 1, 2, 3]),
                line(false, Some(0b10), &[2, 3, 4, 5]),
            ];
            assert_eq!(of(&m, 0), Some(vec![0, 1, 2, 3]));
            assert_eq!(of(&m, 1), Some(vec![2, 3]));
        }
        // nothing in common: the thread's own
        let m = [line(false, None, &[0]), line(false, Some(0b10), &[1])];
        assert_eq!(of(&m, 1), Some(vec![1]));
        // auto on the process: its lowest CPU
        assert_eq!(of(&[line(true, None, &[3, 5])], 2), Some(vec![3]));
    }
}
