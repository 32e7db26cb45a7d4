//! Small, exact accumulators that models and tests need: the time integral of a
//! piecewise-constant quantity ([`TimeAverage`]) and the mean and variance of independent
//! observations ([`Welford`]).

use crate::time::SimTime;

/// The integral over time of a piecewise-constant value (users out of service, customers
/// in system), accumulated exactly in `u128` value-milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAverage {
    start: SimTime,
    last: SimTime,
    value: u64,
    integral: u128,
}

impl TimeAverage {
    /// Starts integrating `value` at `start`.
    pub fn new(start: SimTime, value: u64) -> Self {
        TimeAverage {
            start,
            last: start,
            value,
            integral: 0,
        }
    }

    /// The value changes to `value` at `now`. `now` earlier than the last change is
    /// treated as the last change (time does not go backwards).
    pub fn set(&mut self, now: SimTime, value: u64) {
        self.advance(now);
        self.value = value;
    }

    /// Accounts for the time up to `now` without changing the value.
    pub fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let dt = now.as_millis() - self.last.as_millis();
            self.integral += u128::from(self.value) * u128::from(dt);
            self.last = now;
        }
    }

    /// The current value.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The integral from the start to the last update, in value-milliseconds.
    pub fn integral_ms(&self) -> u128 {
        self.integral
    }

    /// The time average from the start to `now` (0 for an empty interval).
    pub fn mean_until(&self, now: SimTime) -> f64 {
        let mut copy = *self;
        copy.advance(now);
        let span = copy.last.as_millis().saturating_sub(copy.start.as_millis());
        if span == 0 {
            0.0
        } else {
            copy.integral as f64 / span as f64
        }
    }
}

/// Mean and variance of a stream of observations (Welford's update, numerically stable).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// No observations yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds one observation.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// Sample mean (0 with no observations).
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Sample variance with n-1 in the denominator (0 with fewer than 2 observations).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }
    /// Standard error of the mean, s/√n.
    pub fn std_error(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.variance() / self.n as f64).sqrt()
        }
    }
}

impl FromIterator<f64> for Welford {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut w = Welford::new();
        iter.into_iter().for_each(|x| w.push(x));
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_average_integrates_steps_exactly() {
        let t = SimTime::from_millis;
        let mut a = TimeAverage::new(t(0), 2);
        a.set(t(10), 5); // 2 for 10 ms
        a.set(t(10), 1); // zero-length step
        a.set(t(30), 0); // 1 for 20 ms
        assert_eq!(a.integral_ms(), 40);
        assert!((a.mean_until(t(40)) - 1.0).abs() < 1e-12);
        a.set(t(5), 9); // the past is clamped to the last change
        assert_eq!(a.integral_ms(), 40);
    }

    #[test]
    fn welford_matches_the_two_pass_formula() {
        let xs = [1.0, 4.0, 4.0, 7.0, 9.5];
        let w: Welford = xs.iter().copied().collect();
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((w.mean() - mean).abs() < 1e-12);
        assert!((w.variance() - var).abs() < 1e-12);
        assert!((w.std_error() - (var / 5.0).sqrt()).abs() < 1e-12);
    }
}
