//! validation.md Case 4 under the acceptance protocol of its section 2.0 (fixed seeds,
//! |error| ≤ 3.29 SE, 95% half-width within budget).

use dialtone_engine::RngStreams;
use dialtone_engine::stats::Welford;
use dialtone_example_machine_repair::{Params, run};

fn check(name: &str, est: &Welford, exact: f64, budget_abs: f64) {
    let se = est.std_error();
    let err = (est.mean() - exact).abs();
    assert!(
        err <= 3.29 * se,
        "{name}: estimate {:.6} vs exact {exact:.6}: error {err:.6} > 3.29 SE = {:.6}",
        est.mean(),
        3.29 * se
    );
    assert!(
        1.96 * se <= budget_abs,
        "{name}: half-width {:.6} > budget {budget_abs}",
        1.96 * se
    );
}

fn study(p: Params, seed: u64) -> (Welford, Welford, Welford, Welford) {
    let (mut l, mut busy, mut up, mut all_down) = (
        Welford::new(),
        Welford::new(),
        Welford::new(),
        Welford::new(),
    );
    for rep in 0..20 {
        let e = run(p, &RngStreams::new(seed, rep)).expect("valid streams");
        l.push(e.l);
        busy.push(e.busy);
        up.push(e.machine_up);
        all_down.push(e.all_down);
    }
    (l, busy, up, all_down)
}

#[test]
fn exact_values_of_case_4a_are_right() {
    // The oracle itself, against the published rationals.
    let p = Params {
        machines: 2,
        repairers: 1,
        mttf_h: 10.0,
        mttr_h: 8.0,
        measured_h: 0,
        warmup_h: 0,
    };
    let pi = p.stationary();
    for (got, want) in pi.iter().zip([25.0 / 97.0, 40.0 / 97.0, 32.0 / 97.0]) {
        assert!((got - want).abs() < 1e-12);
    }
    assert!((p.exact_l() - 104.0 / 97.0).abs() < 1e-12);
    assert!((p.exact_busy() - 72.0 / 97.0).abs() < 1e-12);
    let p = Params {
        machines: 3,
        repairers: 2,
        ..p
    };
    assert!((p.exact_l() - 1.403417).abs() < 1e-6);
    assert!((p.exact_busy() - 1.277267).abs() < 1e-6);
}

#[test]
fn two_machines_one_repairer_matches_case_4a() {
    // sigma^2(L) = 7.507: 20 x 50,000 h gives a half-width near 0.0054 (0.5% of L).
    let p = Params {
        machines: 2,
        repairers: 1,
        mttf_h: 10.0,
        mttr_h: 8.0,
        measured_h: 50_000,
        warmup_h: 100,
    };
    let (l, busy, up, all_down) = study(p, 4_001);
    check("L", &l, 104.0 / 97.0, 0.011);
    check("repairer busy", &busy, 72.0 / 97.0, 0.005);
    check("machine availability", &up, 45.0 / 97.0, 0.005);
    check("both down", &all_down, 32.0 / 97.0, 0.005);
}

#[test]
fn three_machines_two_repairers_matches_case_4b() {
    let p = Params {
        machines: 3,
        repairers: 2,
        mttf_h: 10.0,
        mttr_h: 8.0,
        measured_h: 50_000,
        warmup_h: 100,
    };
    let (l, busy, _, all_down) = study(p, 4_002);
    check("L", &l, 1.403417, 0.014);
    check("busy repairers", &busy, 1.277267, 0.01);
    check("all down", &all_down, 0.126150, 0.005);
}
