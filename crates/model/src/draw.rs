//! Draws shared by the mail model and the transport ledger.

use dialtone_engine::StreamRng;

/// A binomial draw: how many of `n` fall in a share `p` (rand_distr's sampler).
pub(crate) fn binomial(rng: &mut StreamRng, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    match rand_distr::Binomial::new(n, p.min(1.0)) {
        Ok(b) => rand_distr::Distribution::sample(&b, rng),
        Err(_) => 0,
    }
}
