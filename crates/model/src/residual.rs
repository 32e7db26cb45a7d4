//! Rule `metrics.residual_outage`: the mean remaining outage that a user who tries to
//! work at a random moment during an outage experiences.
//!
//! A user's outage of length D contributes D user-time and, at a moment s into it, D − s
//! of remaining outage: ∫₀ᴰ (D − s) ds = D²/2. Over outages of lengths Dᵢ the mean
//! remaining outage at a random outage moment is Σ Dᵢ² / (2 Σ Dᵢ), which for i.i.d.
//! lengths converges to E\[D²\] / (2 E\[D\]) (renewal theory: the inspection paradox, a
//! random moment falls in long outages more often). Deterministic D gives D/2,
//! exponential with mean m gives m, uniform on (0, a) gives a/3.

use dialtone_engine::SimDuration;

/// Σ users·D and Σ users·D² over finished user outages, in milliseconds (exact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResidualOutage {
    sum_d: u128,
    sum_d2: u128,
}

impl ResidualOutage {
    /// Records `users` outages of length `d` each.
    pub fn add(&mut self, users: u64, d: SimDuration) {
        let (u, d) = (u128::from(users), u128::from(d.as_millis()));
        self.sum_d = self.sum_d.saturating_add(u * d);
        self.sum_d2 = self.sum_d2.saturating_add(u.saturating_mul(d * d));
    }

    /// Records outages given by their sums: Σ D and Σ D² in milliseconds.
    pub fn add_sums(&mut self, sum_d: u128, sum_d2: u128) {
        self.sum_d = self.sum_d.saturating_add(sum_d);
        self.sum_d2 = self.sum_d2.saturating_add(sum_d2);
    }

    /// Σ users·D, user-milliseconds (equals the integral of users without service).
    pub fn user_ms(&self) -> u128 {
        self.sum_d
    }

    /// The mean remaining outage at a random outage moment, Σ D² / (2 Σ D), seconds;
    /// `None` without any outage.
    pub fn mean_residual_s(&self) -> Option<f64> {
        (self.sum_d > 0).then(|| self.sum_d2 as f64 / (2.0 * self.sum_d as f64) / 1000.0)
    }
}

/// The open outages of one bucket's users, by moments: how many are without service
/// and the sums of their start times and squared start times (milliseconds), so memory
/// stays one entry a bucket whatever happens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOutages {
    n: u64,
    s1: u128,
    s2: u128,
}

impl OpenOutages {
    /// `users` lose service at `now` (ms).
    pub fn start(&mut self, users: u64, now: u64) {
        let (u, t) = (u128::from(users), u128::from(now));
        self.n += users;
        self.s1 = self.s1.saturating_add(u * t);
        self.s2 = self.s2.saturating_add(u.saturating_mul(t * t));
    }

    /// `users` of the open outages end at `now` (ms), recorded in `acc`. The users of a
    /// bucket are alike, so those who return are a proportional share of the open
    /// outages: their Σ D and Σ D² are `users / n` of the open ones' (exact when they all
    /// return together, the usual case).
    pub fn end(&mut self, users: u64, now: u64, acc: &mut ResidualOutage) {
        let k = users.min(self.n);
        if k == 0 {
            return;
        }
        let (n, t) = (u128::from(self.n), u128::from(now));
        // Σ (t − tᵢ) = n t − s1 and Σ (t − tᵢ)² = n t² − 2 t s1 + s2, all non-negative.
        let d1 = (n * t).saturating_sub(self.s1);
        let d2 = (n * t * t + self.s2).saturating_sub(2 * t * self.s1);
        let k128 = u128::from(k);
        acc.add_sums(d1 * k128 / n, d2 / n * k128 + d2 % n * k128 / n);
        let left = n - k128;
        self.s1 = self.s1 * left / n;
        self.s2 = self.s2 / n * left + self.s2 % n * left / n;
        self.n -= k;
    }

    /// Every open outage ends at `now` (the horizon).
    pub fn close(&mut self, now: u64, acc: &mut ResidualOutage) {
        self.end(self.n, now, acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_engine::{RngStreams, StreamExt};

    /// Draws `n` outage lengths (seconds) with `draw(u)` from uniform `u`, returns the
    /// accumulator's residual and a delta-method standard error of Σ D²/(2 Σ D).
    fn estimate(n: usize, draw: impl Fn(f64) -> f64) -> (f64, f64) {
        let mut rng = RngStreams::new(12, 0).stream("residual").expect("stream");
        let mut acc = ResidualOutage::default();
        let (mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            let d = draw(rng.unit());
            let ms = (d * 1000.0).round() as u64;
            acc.add(1, SimDuration::from_millis(ms));
            let x = ms as f64 / 1000.0;
            (s1, s2, s3, s4) = (s1 + x, s2 + x * x, s3 + x * x * x, s4 + x * x * x * x);
        }
        let nf = n as f64;
        let (b, a) = (s1 / nf, s2 / nf);
        let var_d = s2 / nf - b * b;
        let var_d2 = s4 / nf - a * a;
        let cov = s3 / nf - a * b;
        // R = A / (2B): gradient (1/(2B), −A/(2B²)).
        let (ga, gb) = (1.0 / (2.0 * b), -a / (2.0 * b * b));
        let var_r = (ga * ga * var_d2 + 2.0 * ga * gb * cov + gb * gb * var_d) / nf;
        (acc.mean_residual_s().expect("outages"), var_r.sqrt())
    }

    #[test]
    fn open_outages_end_by_their_moments() {
        let mut acc = ResidualOutage::default();
        let mut open = OpenOutages::default();
        open.start(2, 1_000);
        open.start(2, 3_000);
        open.end(4, 5_000, &mut acc);
        // Outages 4, 4, 2, 2 s: Σ D = 12 s, Σ D² = 40 s², residual 40/24 s.
        assert_eq!(acc.user_ms(), 12_000);
        assert_eq!(acc.mean_residual_s(), Some(40.0 / 24.0));
        let mut half = ResidualOutage::default();
        let mut open = OpenOutages::default();
        open.start(4, 0);
        open.end(2, 10_000, &mut half);
        open.close(20_000, &mut half);
        assert_eq!(half.user_ms(), 2 * 10_000 + 2 * 20_000);
        assert_eq!(open, OpenOutages::default(), "nothing left open");
    }

    #[test]
    fn deterministic_outages_leave_half_their_length() {
        let (r, _) = estimate(1000, |_| 3600.0);
        assert!((r - 1800.0).abs() < 1e-9, "{r}");
        let mut two = ResidualOutage::default();
        two.add(3, SimDuration::from_millis(60_000));
        assert_eq!(two.mean_residual_s(), Some(30.0));
        assert_eq!(two.user_ms(), 180_000);
        assert_eq!(ResidualOutage::default().mean_residual_s(), None);
    }

    #[test]
    fn exponential_outages_leave_their_mean() {
        // E[D²]/(2E[D]) = 2m²/(2m) = m: memoryless.
        let m = 5400.0;
        let (r, se) = estimate(50_000, |u| -m * (1.0 - u).ln());
        assert!((r - m).abs() < 4.0 * se, "{r} vs {m} (se {se})");
        assert!(
            se < 0.02 * m,
            "the bound is tight enough to mean something: {se}"
        );
    }

    #[test]
    fn uniform_outages_leave_a_third_of_the_longest() {
        // E[D²]/(2E[D]) = (a²/3)/a = a/3, more than the mean remaining time E[D]/2 = a/4.
        let a = 7200.0;
        let (r, se) = estimate(50_000, |u| a * u);
        assert!(
            (r - a / 3.0).abs() < 4.0 * se,
            "{r} vs {} (se {se})",
            a / 3.0
        );
        assert!(se < 0.01 * a, "{se}");
        assert!((r - a / 4.0).abs() > 10.0 * se, "not the naive E[D]/2");
    }
}
