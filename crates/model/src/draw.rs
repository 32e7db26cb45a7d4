//! Draws shared by the mail model and the transport ledger.
//!
//! Rule `draw.binomial_btrd`: a binomial draw with `n min(p, 1 - p)` of 10 or more (and
//! `n` below 2^53, f64's exact integers) uses Hörmann's BTRD, an exact
//! transformed-rejection sampler (W. Hörmann, "The generation of binomial random
//! variates", J. Statist. Comput. Simul. 46, 1993). Mail splits its pending
//! arrivals at every tick and change point with such draws (tens to hundreds of messages
//! a tick per group): rand_distr's BTPE took about 630 instructions a draw there, uniforms
//! included, BTRD takes about 280, because most of its draws there are accepted after one
//! uniform and a few multiplications (docs/PERFORMANCE.md). The other draws keep
//! rand_distr's samplers: its inversion (BINV) below that bound, as the paper recommends.

use dialtone_engine::{StreamExt, StreamRng};

/// Below this mean `n * min(p, 1 - p)` the draw is by inversion (the paper's bound).
const BTRD_FROM: f64 = 10.0;

/// A binomial draw: how many of `n` fall in a share `p`.
pub(crate) fn binomial(rng: &mut StreamRng, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let flipped = p > 0.5;
    let small = if flipped { 1.0 - p } else { p };
    // Counts from 2^53 on are not exact in an f64 (and are not mail): rand_distr's.
    if n as f64 * small >= BTRD_FROM && n < 1 << 53 {
        let k = btrd(rng, n, small);
        return if flipped { n - k } else { k };
    }
    match rand_distr::Binomial::new(n, p) {
        Ok(b) => rand_distr::Distribution::sample(&b, rng),
        Err(_) => 0,
    }
}

/// `ln k! - ln(sqrt(2 pi) (k + 1)^(k + 1/2) e^-(k + 1))`: the error of Stirling's
/// formula at `k + 1`; below 10 the correctly rounded values (computed with 40-digit
/// decimals), from 10 its series.
fn stirling_tail(k: f64) -> f64 {
    const TABLE: [f64; 10] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_3,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_093,
        0.016_644_691_189_821_193,
        0.013_876_128_823_070_748,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_096,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
    ];
    if k < 10.0 {
        return TABLE[k as usize];
    }
    let r = 1.0 / (k + 1.0);
    let r2 = r * r;
    (1.0 / 12.0 - (1.0 / 360.0 - r2 / 1260.0) * r2) * r
}

/// Hörmann's BTRD for `p <= 0.5` and `n p >= 10`: the step numbers are the paper's.
#[allow(clippy::many_single_char_names)] // The paper's names.
fn btrd(rng: &mut StreamRng, n: u64, p: f64) -> u64 {
    // Step 0: set-up.
    let nf = n as f64;
    let q = 1.0 - p;
    // Truncation is the floor of a non-negative value, and cheaper than `floor` (a
    // library call on x86-64 without SSE4.1); n is below 2^53, so nothing saturates.
    let m = ((nf + 1.0) * p) as i64 as f64;
    let r = p / q;
    let npq = nf * p * q;
    let sqrt_npq = npq.sqrt();
    let b = 1.15 + 2.53 * sqrt_npq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    let alpha = (2.83 + 5.1 / b) * sqrt_npq;
    let v_r = 0.92 - 4.2 / b;
    let u_r_v_r = 0.86 * v_r;
    loop {
        // Step 1: the centre, accepted without a test.
        let mut v = rng.unit();
        if v <= u_r_v_r {
            // Non-negative here for any n p >= 10 (its least value is about
            // n p + 0.73 - 0.12 p - 1.86 sqrt(n p q), above 4), so truncation is the floor.
            let u = v / v_r - 0.43;
            return ((2.0 * a / (0.5 - u.abs()) + b) * u + c) as i64 as u64;
        }
        // Step 2: a point of the hat outside the centre.
        let u = if v >= v_r {
            rng.unit() - 0.5
        } else {
            let u = v / v_r - 0.93;
            v = v_r * rng.unit();
            0.5f64.copysign(u) - u
        };
        // Step 3.0.
        let us = 0.5 - u.abs();
        let x = (2.0 * a / us + b) * u + c;
        if x < 0.0 || x >= nf + 1.0 {
            continue;
        }
        let k = x as i64 as f64;
        v *= alpha / (a / (us * us) + b);
        if accepts(v, k, m, nf, npq, r) {
            return k as i64 as u64;
        }
    }
}

/// Steps 3.1 to 3.4 of BTRD: is `v`, a height under the hat at `k`, under `f(k) / f(m)`?
/// Near the mode by the recursion of `f`, farther by a squeeze, and the rest exactly.
#[inline]
fn accepts(mut v: f64, k: f64, m: f64, nf: f64, npq: f64, r: f64) -> bool {
    let km = (k - m).abs();
    if km <= 15.0 {
        // Step 3.1: f(k) / f(m) by its recursion.
        let nr = (nf + 1.0) * r;
        let mut f = 1.0;
        if m < k {
            let mut i = m;
            while i < k {
                i += 1.0;
                f *= nr / i - r;
            }
        } else {
            let mut i = k;
            while i < m {
                i += 1.0;
                v *= nr / i - r;
            }
        }
        return v <= f;
    }
    // Step 3.2: squeeze with bounds of ln f(k) / f(m). The lower bound fails far in the
    // left tail (from km about 0.89 n p q: k = 0 for n = 1e9, p = 1.65e-8), so it accepts
    // only where BTPE's squeeze is used, km < n p q / 2; beyond, the exact test decides.
    let v = v.ln();
    let (below, above) = squeeze(km, npq);
    if below.is_some_and(|b| v < b) {
        return true;
    }
    v <= above && v <= exact_bound(nf, m, k, r)
}

/// BTRD's squeeze of `ln f(k) / f(m)` at `km = |k - m|`: a lower bound where it holds
/// (`km < n p q / 2`) and an upper bound.
#[inline]
fn squeeze(km: f64, npq: f64) -> (Option<f64>, f64) {
    let rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5);
    let t = -km * km / (2.0 * npq);
    ((km < 0.5 * npq).then_some(t - rho), t + rho)
}

/// Steps 3.3 and 3.4 of BTRD: `ln f(k) / f(m)` by Stirling's formula with its tail, for
/// the few draws the squeeze leaves (out of line, so that its logarithms are not hoisted
/// into every draw).
#[cold]
#[inline(never)]
fn exact_bound(nf: f64, m: f64, k: f64, r: f64) -> f64 {
    let nm = nf - m + 1.0;
    let h = (m + 0.5) * ((m + 1.0) / (r * nm)).ln() + stirling_tail(m) + stirling_tail(nf - m);
    let nk = nf - k + 1.0;
    h + (nf + 1.0) * (nm / nk).ln() + (k + 0.5) * (nk * r / (k + 1.0)).ln()
        - stirling_tail(k)
        - stirling_tail(nf - k)
}

#[cfg(test)]
mod tests {
    use dialtone_engine::RngStreams;
    use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete, DiscreteCDF};

    use super::*;

    fn rng(name: &str) -> StreamRng {
        RngStreams::new(2026, 0).stream(name).expect("a valid name")
    }

    /// Pearson's chi-square of `draws` draws of Binomial(n, p) against its exact
    /// probabilities (one cell a count, the tails one cell each, every cell expecting 20
    /// or more), and the statistic's 99.99% quantile. A fixed seed, so the test never
    /// flakes.
    fn chi_square(n: u64, p: f64, draws: u32, name: &str) -> (f64, f64) {
        let exact = statrs::distribution::Binomial::new(p, n).expect("valid");
        let mut counts = std::collections::BTreeMap::new();
        let mut r = rng(name);
        for _ in 0..draws {
            let k = binomial(&mut r, n, p);
            assert!(k <= n, "{k} of {n}");
            *counts.entry(k).or_insert(0u64) += 1;
        }
        let total = f64::from(draws);
        let mean = n as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        // Cells k in [lo, hi] one by one, the two tails each one cell.
        let (mut lo, mut hi) = (mean.floor() as u64, mean.floor() as u64);
        while lo > 0 && exact.pmf(lo - 1) * total >= 20.0 {
            lo -= 1;
        }
        while hi < n && exact.pmf(hi + 1) * total >= 20.0 {
            hi += 1;
        }
        // The tails merged into one cell each, which must expect 20 too.
        while lo > 0 && exact.cdf(lo - 1) * total < 20.0 {
            lo += 1;
        }
        while hi < n && exact.sf(hi) * total < 20.0 {
            hi -= 1;
        }
        assert!(hi - lo > (4.0 * sd) as u64, "cells cover the bulk");
        let observed = |range: &dyn Fn(u64) -> bool| -> f64 {
            counts
                .iter()
                .filter(|(k, _)| range(**k))
                .map(|(_, c)| *c as f64)
                .sum()
        };
        let mut chi2 = 0.0;
        let mut cells = 0;
        let mut add = |o: f64, e: f64| {
            chi2 += (o - e) * (o - e) / e;
            cells += 1;
        };
        if lo > 0 {
            add(observed(&|k| k < lo), exact.cdf(lo - 1) * total);
        }
        for k in lo..=hi {
            add(observed(&|j| j == k), exact.pmf(k) * total);
        }
        if hi < n {
            add(observed(&|k| k > hi), exact.sf(hi) * total);
        }
        let limit = ChiSquared::new(f64::from(cells - 1))
            .expect("valid")
            .inverse_cdf(0.9999);
        (chi2, limit)
    }

    #[test]
    fn btrd_draws_follow_the_exact_binomial() {
        // n p from the threshold up, both sides of p = 1/2, a large n: BTRD's every step
        // is taken (the recursion near the mode, the squeeze and the exact test beyond).
        let cases = [
            (100, 0.1),
            (40, 0.5),
            (300, 1.0 / 12.0),
            (3_000, 0.2),
            (500, 0.93),
            (1_000_000, 0.003),
        ];
        for (i, &(n, p)) in cases.iter().enumerate() {
            let (chi2, limit) = chi_square(n, p, 200_000, &format!("btrd-{i}"));
            assert!(chi2 < limit, "n {n}, p {p}: chi2 {chi2:.1} over {limit:.1}");
        }
    }

    #[test]
    fn inversion_draws_follow_the_exact_binomial() {
        for (i, &(n, p)) in [(20, 0.3), (1_000, 0.004), (9, 0.95), (4, 0.4)]
            .iter()
            .enumerate()
        {
            let (chi2, limit) = chi_square(n, p, 100_000, &format!("binv-{i}"));
            assert!(chi2 < limit, "n {n}, p {p}: chi2 {chi2:.1} over {limit:.1}");
        }
    }

    #[test]
    fn a_large_count_keeps_its_mean_and_variance() {
        // n = 1e9, p = 0.37: the sample mean within 4 standard errors, the variance
        // within 4% (its standard error at 20,000 draws is 1%).
        let (n, p) = (1_000_000_000u64, 0.37);
        let mut r = rng("btrd-large");
        let draws = 20_000;
        let xs: Vec<f64> = (0..draws).map(|_| binomial(&mut r, n, p) as f64).collect();
        let mean = xs.iter().sum::<f64>() / f64::from(draws);
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(draws - 1);
        let (mu, sigma2) = (n as f64 * p, n as f64 * p * (1.0 - p));
        assert!((mean - mu).abs() < 4.0 * (sigma2 / f64::from(draws)).sqrt());
        assert!(
            (var / sigma2 - 1.0).abs() < 0.04,
            "variance ratio {}",
            var / sigma2
        );
    }

    #[test]
    fn the_squeeze_bounds_hold_wherever_they_decide() {
        // ln f(k) / f(m) exactly (statrs' log-probabilities) against the squeeze, for every
        // k the squeeze sees (|k - m| > 15) within 12 sd of the mode: the upper bound
        // everywhere, the lower where it accepts. The first two cases are where the lower
        // bound fails in the far left tail (k = 0 against a mode of 16 and of 30).
        let cases = [
            (1_000_000_000u64, 1.65e-8),
            (1_000_000, 3e-5),
            (300, 1.0 / 12.0),
            (1_000, 0.3),
            (40, 0.5),
            (25_000, 1.0 / 108.0),
            (100_000, 0.45),
        ];
        for (n, p) in cases {
            let exact = statrs::distribution::Binomial::new(p, n).expect("valid");
            let nf = n as f64;
            let npq = nf * p * (1.0 - p);
            let m = ((nf + 1.0) * p) as u64;
            let reach = (12.0 * npq.sqrt()) as u64 + 40;
            for k in m.saturating_sub(reach)..=(m + reach).min(n) {
                let km = k.abs_diff(m) as f64;
                if km <= 15.0 {
                    continue;
                }
                let truth = exact.ln_pmf(k) - exact.ln_pmf(m);
                let (below, above) = squeeze(km, npq);
                assert!(truth <= above + 1e-9, "n {n} p {p} k {k}: above");
                if let Some(below) = below {
                    assert!(below <= truth + 1e-9, "n {n} p {p} k {k}: below");
                }
            }
        }
    }

    #[test]
    fn degenerate_shares_need_no_draw() {
        let mut r = rng("edges");
        assert_eq!(binomial(&mut r, 0, 0.5), 0);
        assert_eq!(binomial(&mut r, 50, 0.0), 0);
        assert_eq!(binomial(&mut r, 50, -1.0), 0);
        assert_eq!(binomial(&mut r, 50, f64::NAN), 0);
        assert_eq!(binomial(&mut r, 50, 1.0), 50);
        assert_eq!(binomial(&mut r, 50, 7.0), 50);
        assert_eq!(binomial(&mut r, u64::MAX, 1.0), u64::MAX);
        // From 2^53 (beyond f64's exact integers) the draw is rand_distr's; either side
        // of that bound it stays within n and near its mean.
        for n in [(1u64 << 53) - 1, 1 << 53, u64::MAX] {
            let k = binomial(&mut r, n, 0.75);
            let (mean, sd) = (n as f64 * 0.75, (n as f64 * 0.75 * 0.25).sqrt());
            assert!(k <= n && (k as f64 - mean).abs() < 6.0 * sd, "{k} of {n}");
        }
    }

    #[test]
    fn stirling_tail_matches_the_log_factorial() {
        // ln k! by summing logarithms, against Stirling's formula plus its tail: exact
        // below 10, and from 10 within the series' first omitted term, 1 / (1680 (k+1)^7)
        // (and the rounding of the sum).
        let mut ln_fact = 0.0f64;
        for k in 0..40u32 {
            if k > 0 {
                ln_fact += f64::from(k).ln();
            }
            let k1 = f64::from(k) + 1.0;
            let stirling = 0.5 * (2.0 * std::f64::consts::PI).ln() + (k1 - 0.5) * k1.ln() - k1;
            let tail = stirling_tail(f64::from(k));
            let allowed = 1e-13
                + if k < 10 {
                    0.0
                } else {
                    1.0 / (1680.0 * k1.powi(7))
                };
            assert!(
                (ln_fact - stirling - tail).abs() <= allowed,
                "k {k}: {}",
                ln_fact - stirling - tail
            );
        }
    }
}
