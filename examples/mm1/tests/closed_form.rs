//! validation.md Case 1 and the acceptance protocol of its section 2.0: independent
//! replications, SE = s/√R, pass if |estimate − exact| ≤ 3.29·SE and the 95% half-width
//! 1.96·SE is within the precision budget. Seeds are fixed, so the test never flakes;
//! a wrong rate convention, a missing warm-up or a broken queue order fails it.

use dialtone_engine::stats::Welford;
use dialtone_engine::{HashTrace, RngStreams};
use dialtone_example_mm1::{Params, run, run_traced};

const SEED: u64 = 20_261_122;
const REPS: u64 = 20;

fn check(name: &str, est: &Welford, exact: f64, budget_rel: f64) {
    let se = est.std_error();
    let err = (est.mean() - exact).abs();
    assert!(
        err <= 3.29 * se,
        "{name}: estimate {:.5} vs exact {exact:.5}: error {err:.5} > 3.29 SE = {:.5}",
        est.mean(),
        3.29 * se
    );
    assert!(
        1.96 * se <= budget_rel * exact,
        "{name}: half-width {:.5} exceeds the budget {:.5}: run longer",
        1.96 * se,
        budget_rel * exact
    );
}

#[test]
fn mm1_matches_l_and_w() {
    // 20 x 100,000 min: sigma^2(L) = 1800 gives a half-width of about 1.5% of L = 4.
    let params = Params::case1(1_000, 100_000);
    let (mut l, mut w) = (Welford::new(), Welford::new());
    for rep in 0..REPS {
        let e = run(params, &RngStreams::new(SEED, rep)).expect("valid streams");
        l.push(e.l);
        w.push(e.w_min);
        assert!(e.departures > 70_000, "replication {rep}: {e:?}");
    }
    check("L", &l, 4.0, 0.02);
    check("W", &w, 5.0, 0.02);
    // Little's law across the estimates: L = lambda W, within the combined noise.
    assert!((l.mean() - 0.8 * w.mean()).abs() < 3.29 * (l.std_error() + 0.8 * w.std_error()));
}

#[test]
fn a_whole_run_is_deterministic() {
    let params = Params::case1(100, 5_000);
    let streams = RngStreams::new(7, 3);
    let (a, ha) = run_traced(params, &streams, HashTrace::default()).expect("ok");
    let (b, hb) = run_traced(params, &streams, HashTrace::default()).expect("ok");
    assert_eq!(a, b, "same seed, same estimates, to the bit");
    assert_eq!(ha, hb, "same seed, same trace");
    assert!(ha.records() > 1_000);
    let (c, hc) = run_traced(params, &RngStreams::new(8, 3), HashTrace::default()).expect("ok");
    assert_ne!(ha.digest(), hc.digest(), "another seed, another run");
    assert_ne!(a.l, c.l);
}
