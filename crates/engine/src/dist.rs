//! Distributions of durations: how long a repair, an operator's step or a time to failure
//! takes. Sampled from a named stream, returned as whole milliseconds.
//!
//! Parameter conventions (stated once, because confusing them is the classic bug):
//!
//! - `Exponential { mean }`: rate = 1/mean.
//! - `Weibull { shape, scale }`: P(X > x) = exp(−(x/scale)^shape); mean = scale·Γ(1 + 1/shape).
//! - `LogNormal { mean, sd }`: the mean and standard deviation *of the duration itself*
//!   (not of its logarithm): σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2.
//! - `Gamma { shape, scale }`: mean = shape·scale (scale, not rate).
//! - `Uniform { min, max }`, `Fixed(d)`, and `Empirical(values)` (each value equally likely).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma as GammaDist};

use crate::rng::StreamExt;
use crate::time::SimDuration;

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationDist {
    /// Always the same.
    Fixed(SimDuration),
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: SimDuration,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound.
        max: SimDuration,
    },
    /// Weibull with a shape and a scale.
    Weibull {
        /// Shape k (> 0); 1 is exponential.
        shape: f64,
        /// Scale λ.
        scale: SimDuration,
    },
    /// Lognormal given by the mean and standard deviation of the duration.
    LogNormal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        sd: SimDuration,
    },
    /// Gamma with a shape and a scale.
    Gamma {
        /// Shape k (> 0).
        shape: f64,
        /// Scale θ.
        scale: SimDuration,
    },
    /// One of the listed values, each equally likely.
    Empirical(Vec<SimDuration>),
}

/// Why a distribution's parameters are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// A shape that is not a positive finite number.
    #[error("shape must be a positive finite number")]
    Shape,
    /// A mean or scale of zero where it must be positive.
    #[error("mean or scale must be more than zero")]
    ZeroScale,
    /// `min > max`.
    #[error("uniform minimum is larger than its maximum")]
    Bounds,
    /// No values.
    #[error("an empirical distribution needs at least one value")]
    Empty,
}

impl DurationDist {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), DistError> {
        let shape_ok = |k: f64| k.is_finite() && k > 0.0;
        match self {
            DurationDist::Fixed(_) => Ok(()),
            DurationDist::Exponential { mean } | DurationDist::LogNormal { mean, .. } => {
                if mean.is_zero() {
                    Err(DistError::ZeroScale)
                } else {
                    Ok(())
                }
            }
            DurationDist::Uniform { min, max } => {
                if min > max {
                    Err(DistError::Bounds)
                } else {
                    Ok(())
                }
            }
            DurationDist::Weibull { shape, scale } | DurationDist::Gamma { shape, scale } => {
                if !shape_ok(*shape) {
                    Err(DistError::Shape)
                } else if scale.is_zero() {
                    Err(DistError::ZeroScale)
                } else {
                    Ok(())
                }
            }
            DurationDist::Empirical(v) => {
                if v.is_empty() {
                    Err(DistError::Empty)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Draws one duration. Parameters must have passed [`DurationDist::validate`];
    /// otherwise the draw is clamped to something finite rather than panicking.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let secs = |d: &SimDuration| d.as_secs_f64();
        let s = match self {
            DurationDist::Fixed(d) => return *d,
            DurationDist::Exponential { mean } => rng.exp_mean(secs(mean)),
            DurationDist::Uniform { min, max } => {
                let (a, b) = (min.as_millis(), max.as_millis());
                if a >= b {
                    return *min;
                }
                return SimDuration::from_millis(rng.random_range(a..=b));
            }
            DurationDist::Weibull { shape, scale } => {
                let u = 1.0 - rng.unit();
                secs(scale) * (-u.ln()).powf(1.0 / shape.max(f64::MIN_POSITIVE))
            }
            DurationDist::LogNormal { mean, sd } => {
                let (m, s) = (secs(mean), secs(sd));
                let sigma2 = (1.0 + (s * s) / (m * m)).ln();
                let mu = m.ln() - sigma2 / 2.0;
                let z = standard_normal(rng);
                (mu + sigma2.sqrt() * z).exp()
            }
            DurationDist::Gamma { shape, scale } => match GammaDist::new(*shape, secs(scale)) {
                Ok(g) => g.sample(rng),
                Err(_) => 0.0,
            },
            DurationDist::Empirical(v) => {
                if v.is_empty() {
                    return SimDuration::ZERO;
                }
                return v[rng.random_range(0..v.len())];
            }
        };
        SimDuration::from_secs_f64(s).unwrap_or(SimDuration::MAX)
    }

    /// The mean, in seconds.
    pub fn mean_secs(&self) -> f64 {
        match self {
            DurationDist::Fixed(d) => d.as_secs_f64(),
            DurationDist::Exponential { mean } | DurationDist::LogNormal { mean, .. } => {
                mean.as_secs_f64()
            }
            DurationDist::Uniform { min, max } => (min.as_secs_f64() + max.as_secs_f64()) / 2.0,
            DurationDist::Weibull { shape, scale } => {
                scale.as_secs_f64() * gamma_fn(1.0 + 1.0 / shape)
            }
            DurationDist::Gamma { shape, scale } => shape * scale.as_secs_f64(),
            DurationDist::Empirical(v) => {
                v.iter().map(|d| d.as_secs_f64()).sum::<f64>() / v.len().max(1) as f64
            }
        }
    }
}

fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // Box-Muller; 1 - U is in (0, 1].
    let (u1, u2) = (1.0 - rng.unit(), rng.unit());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13).
pub fn gamma_fn(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngStreams;
    use crate::stats::Welford;

    fn s(x: u64) -> SimDuration {
        SimDuration::from_millis(x * 1000)
    }

    /// Mean of 100,000 draws within 3.29 SE of the exact mean.
    fn check_mean(d: DurationDist, exact: f64) {
        assert!(
            (d.mean_secs() - exact).abs() < 1e-9 * exact.max(1.0),
            "{d:?}: mean_secs"
        );
        let mut rng = RngStreams::new(3, 0).stream("dist").expect("valid");
        let w: Welford = (0..100_000)
            .map(|_| d.sample(&mut rng).as_secs_f64())
            .collect();
        assert!(
            (w.mean() - exact).abs() <= 3.29 * w.std_error(),
            "{d:?}: sample mean {} vs {exact}",
            w.mean()
        );
    }

    #[test]
    fn sample_means_match_the_stated_conventions() {
        check_mean(DurationDist::Exponential { mean: s(600) }, 600.0);
        check_mean(
            DurationDist::Uniform {
                min: s(60),
                max: s(180),
            },
            120.0,
        );
        // Weibull(2, 1000/Γ(1.5)) has mean 1000 (validation.md Case 5's insensitivity test).
        let scale = 1000.0 / gamma_fn(1.5);
        let w = DurationDist::Weibull {
            shape: 2.0,
            scale: SimDuration::from_secs_f64(scale).expect("ok"),
        };
        check_mean(w.clone(), w.mean_secs());
        assert!((w.mean_secs() - 1000.0).abs() < 0.001);
        check_mean(
            DurationDist::LogNormal {
                mean: s(1200),
                sd: s(600),
            },
            1200.0,
        );
        // validation.md Case 3a: Gamma(shape 2, scale 0.45 min) has mean 0.9 min = 54 s.
        check_mean(
            DurationDist::Gamma {
                shape: 2.0,
                scale: s(27),
            },
            54.0,
        );
        check_mean(DurationDist::Empirical(vec![s(10), s(20), s(60)]), 30.0);
        check_mean(DurationDist::Fixed(s(5)), 5.0);
    }

    #[test]
    fn lognormal_sd_is_the_durations_own() {
        let d = DurationDist::LogNormal {
            mean: s(1200),
            sd: s(600),
        };
        let mut rng = RngStreams::new(4, 0).stream("dist").expect("valid");
        let w: Welford = (0..200_000)
            .map(|_| d.sample(&mut rng).as_secs_f64())
            .collect();
        assert!(
            (w.variance().sqrt() - 600.0).abs() < 15.0,
            "sd {}",
            w.variance().sqrt()
        );
    }

    #[test]
    fn gamma_function_is_accurate() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-10);
        assert!((gamma_fn(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma_fn(1.5) - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_refused_and_never_panic() {
        assert_eq!(
            DurationDist::Weibull {
                shape: 0.0,
                scale: s(1)
            }
            .validate(),
            Err(DistError::Shape)
        );
        assert_eq!(
            DurationDist::Gamma {
                shape: f64::NAN,
                scale: s(1)
            }
            .validate(),
            Err(DistError::Shape)
        );
        assert_eq!(
            DurationDist::Exponential { mean: s(0) }.validate(),
            Err(DistError::ZeroScale)
        );
        assert_eq!(
            DurationDist::Uniform {
                min: s(2),
                max: s(1)
            }
            .validate(),
            Err(DistError::Bounds)
        );
        assert_eq!(
            DurationDist::Empirical(vec![]).validate(),
            Err(DistError::Empty)
        );
        let mut rng = RngStreams::new(1, 0).stream("dist").expect("valid");
        for d in [
            DurationDist::Weibull {
                shape: 0.0,
                scale: s(1),
            },
            DurationDist::Gamma {
                shape: -1.0,
                scale: s(1),
            },
            DurationDist::Empirical(vec![]),
            DurationDist::LogNormal {
                mean: s(0),
                sd: s(1),
            },
        ] {
            let _ = d.sample(&mut rng);
        }
    }
}
