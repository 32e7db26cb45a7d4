//! Statistics over replications.
//!
//! - Mean and sample standard deviation (n − 1).
//! - 95% confidence interval of the mean: mean ± t(0.975, n − 1) · s/√n, Student t for
//!   every n (statrs), so small studies are not overconfident.
//! - Percentiles: linear interpolation between closest ranks (Hyndman & Fan type 7, the
//!   default of R and NumPy): with sorted x₀..xₙ₋₁, position h = (n − 1)·p,
//!   value = x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋+1 − x⌊h⌋).
//! - `null` values (a time never reached) are not dropped silently: the count and share
//!   of nulls are reported, and statistics describe the non-null values.
//! - Paired differences (compare): statistics of (b − a) over replications where both are
//!   non-null; "significant" when the 95% interval excludes zero.

use dialtone_scenario::metrics::nullable;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Summary statistics of one metric over replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stat {
    /// Replications with a value.
    pub n: u64,
    /// Replications where the metric was null (never reached).
    pub nulls: u64,
    /// nulls / (n + nulls).
    pub null_share: f64,
    /// Mean of the values (null with no value).
    #[serde(deserialize_with = "nullable")]
    pub mean: Option<f64>,
    /// Sample standard deviation (null with fewer than 2 values).
    #[serde(deserialize_with = "nullable")]
    pub sd: Option<f64>,
    /// 95% confidence interval of the mean, Student t (null with fewer than 2 values).
    #[serde(deserialize_with = "nullable")]
    pub ci95: Option<[f64; 2]>,
    /// Median (type 7).
    #[serde(deserialize_with = "nullable")]
    pub p50: Option<f64>,
    /// 95th percentile (type 7).
    #[serde(deserialize_with = "nullable")]
    pub p95: Option<f64>,
    /// 99th percentile (type 7).
    #[serde(deserialize_with = "nullable")]
    pub p99: Option<f64>,
    /// Smallest value.
    #[serde(deserialize_with = "nullable")]
    pub min: Option<f64>,
    /// Largest value.
    #[serde(deserialize_with = "nullable")]
    pub max: Option<f64>,
}

/// The t quantile for a two-sided 95% interval with `df` degrees of freedom.
pub fn t975(df: u64) -> f64 {
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(0.975),
        Err(_) => f64::NAN,
    }
}

/// Type-7 percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Describes a metric's values over replications.
pub fn describe(values: &[Option<f64>]) -> Stat {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let nulls = (values.len() - v.len()) as u64;
    v.sort_by(f64::total_cmp);
    let n = v.len() as u64;
    let total = n + nulls;
    let mean = (n > 0).then(|| v.iter().sum::<f64>() / n as f64);
    let sd = mean
        .filter(|_| n > 1)
        .map(|m| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    let ci95 = match (mean, sd) {
        (Some(m), Some(s)) => {
            let h = t975(n - 1) * s / (n as f64).sqrt();
            Some([m - h, m + h])
        }
        _ => None,
    };
    Stat {
        n,
        nulls,
        null_share: if total == 0 {
            0.0
        } else {
            nulls as f64 / total as f64
        },
        mean,
        sd,
        ci95,
        p50: percentile(&v, 0.5),
        p95: percentile(&v, 0.95),
        p99: percentile(&v, 0.99),
        min: v.first().copied(),
        max: v.last().copied(),
    }
}

/// A paired difference b − a.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diff {
    /// Pairs where both were non-null.
    pub pairs: u64,
    /// Mean of b − a.
    #[serde(deserialize_with = "nullable")]
    pub mean: Option<f64>,
    /// 95% confidence interval of the mean difference (Student t).
    #[serde(deserialize_with = "nullable")]
    pub ci95: Option<[f64; 2]>,
    /// Whether the interval excludes zero.
    pub significant: bool,
}

/// Paired difference of two metrics over the same replications (common random numbers).
pub fn paired(a: &[Option<f64>], b: &[Option<f64>]) -> Diff {
    let d: Vec<Option<f64>> = a
        .iter()
        .zip(b)
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => Some(y - x),
            _ => None,
        })
        .collect();
    let s = describe(&d);
    let significant = s.ci95.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0);
    Diff {
        pairs: s.n,
        mean: s.mean,
        ci95: s.ci95,
        significant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Published two-sided 95% critical values.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (9, 2.262),
            (19, 2.093),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!((t975(df) - t).abs() < 0.001, "df {df}: {}", t975(df));
        }
    }

    #[test]
    fn percentiles_are_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), Some(2.5));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 1.0), Some(4.0));
        assert!((percentile(&v, 0.95).expect("some") - 3.85).abs() < 1e-12);
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn nulls_are_counted_not_dropped() {
        let s = describe(&[Some(1.0), None, Some(3.0), None]);
        assert_eq!((s.n, s.nulls), (2, 2));
        assert_eq!(s.null_share, 0.5);
        assert_eq!(s.mean, Some(2.0));
        let sd = 2f64.sqrt();
        assert!((s.sd.expect("sd") - sd).abs() < 1e-12);
        let h = 12.706_204_736_174_7 * sd / 2f64.sqrt();
        let [lo, hi] = s.ci95.expect("ci");
        assert!((lo - (2.0 - h)).abs() < 1e-6 && (hi - (2.0 + h)).abs() < 1e-6);
        let empty = describe(&[None, None]);
        assert_eq!(
            (empty.mean, empty.ci95, empty.null_share),
            (None, None, 1.0)
        );
    }

    #[test]
    fn paired_differences_see_what_unpaired_ones_miss() {
        // b = a + 1 exactly, with a varying a lot: the paired interval is tight.
        let a: Vec<Option<f64>> = (0..20).map(|i| Some(f64::from(i) * 100.0)).collect();
        let b: Vec<Option<f64>> = a.iter().map(|x| x.map(|x| x + 1.0)).collect();
        let d = paired(&a, &b);
        assert_eq!(d.mean, Some(1.0));
        assert!(d.significant);
        assert_eq!(d.pairs, 20);
    }
}
