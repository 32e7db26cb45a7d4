//! `cargo run --release -p dialtone-example-machine-repair -- [SEED] [REPLICATIONS] [HOURS]`
//!
//! Runs the two shops of validation.md Case 4 (2 machines / 1 repairer and 3 machines /
//! 2 repairers, MTTF 10 h, MTTR 8 h) and prints estimates with 95% confidence intervals
//! beside the exact values.

use std::process::ExitCode;

use dialtone_engine::RngStreams;
use dialtone_engine::stats::Welford;
use dialtone_example_machine_repair::{Params, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut nums = [42u64, 20, 100_000];
    for (i, s) in args.iter().take(3).enumerate() {
        match s.parse() {
            Ok(v) => nums[i] = v,
            Err(_) => {
                eprintln!(
                    "machine_repair: expected a whole number, got {s:?}\nusage: machine_repair [SEED] [REPLICATIONS] [HOURS]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let [seed, reps, hours] = nums;
    if reps < 2 || hours == 0 {
        eprintln!("machine_repair: REPLICATIONS must be at least 2 and HOURS positive");
        return ExitCode::from(2);
    }
    for (m, c) in [(2, 1), (3, 2)] {
        let p = Params {
            machines: m,
            repairers: c,
            mttf_h: 10.0,
            mttr_h: 8.0,
            measured_h: hours,
            warmup_h: 100,
        };
        let (mut l, mut busy, mut up) = (Welford::new(), Welford::new(), Welford::new());
        for rep in 0..reps {
            match run(p, &RngStreams::new(seed, rep)) {
                Ok(e) => {
                    l.push(e.l);
                    busy.push(e.busy);
                    up.push(e.machine_up);
                }
                Err(e) => {
                    eprintln!("machine_repair: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        println!(
            "\n{m} machines, {c} repairer(s), MTTF 10 h, MTTR 8 h; seed {seed}, {reps} x {hours} h"
        );
        println!(
            "{:<30} {:>10} {:>22} {:>10}",
            "quantity", "estimate", "95% CI", "exact"
        );
        let exact_l = p.exact_l();
        for (name, est, exact) in [
            ("L (machines down)", &l, exact_l),
            ("busy repairers", &busy, p.exact_busy()),
            (
                "availability of one machine",
                &up,
                1.0 - exact_l / f64::from(m),
            ),
        ] {
            let h = 1.96 * est.std_error();
            println!(
                "{name:<30} {:>10.6} {:>22} {exact:>10.6}",
                est.mean(),
                format!("[{:.5}, {:.5}]", est.mean() - h, est.mean() + h)
            );
        }
    }
    ExitCode::SUCCESS
}
