//! Summary statistics of repeated measurements: the median that the tables report and
//! the spread (minimum, maximum, relative width) that says how much to trust it. Pure
//! functions over `f64` slices, no I/O.

/// The summary of one series of samples (one metric of one target in one case).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `values`. Returns `None` when there is no finite value; non-finite
    /// values (NaN, infinities) are ignored.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Some(Summary {
            n: v.len(),
            median: median_of_sorted(&v),
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    /// The spread relative to the median, in percent: `(max - min) / median * 100`.
    /// `None` when the median is zero (the ratio means nothing then).
    pub fn spread_pct(&self) -> Option<f64> {
        if self.median == 0.0 {
            None
        } else {
            Some((self.max - self.min) / self.median.abs() * 100.0)
        }
    }

    /// Whether the ranges `[min, max]` of `self` and `other` overlap: the difference of
    /// the medians is then within what the repetitions themselves show.
    pub fn overlaps(&self, other: &Summary) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

/// The median of an already sorted, non-empty slice (mean of the two middle values when
/// the length is even).
fn median_of_sorted(v: &[f64]) -> f64 {
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// `a / b`, or `None` when `b` is zero or either is not finite.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        None
    } else {
        Some(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.n, s.median, s.min, s.max), (3, 2.0, 1.0, 3.0));
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median, 2.5);
        let s = Summary::of(&[7.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (7.0, 7.0, 7.0));
    }

    #[test]
    fn empty_and_non_finite() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        let s = Summary::of(&[f64::NAN, 5.0, f64::INFINITY]).unwrap();
        assert_eq!((s.n, s.median), (1, 5.0));
    }

    #[test]
    fn spread_and_overlap() {
        let a = Summary::of(&[90.0, 100.0, 110.0]).unwrap();
        assert_eq!(a.spread_pct(), Some(20.0));
        let b = Summary::of(&[105.0, 120.0, 130.0]).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        let c = Summary::of(&[111.0, 112.0]).unwrap();
        assert!(!a.overlaps(&c));
        assert_eq!(Summary::of(&[0.0, 0.0]).unwrap().spread_pct(), None);
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
        assert_eq!(ratio(f64::NAN, 2.0), None);
    }
}
