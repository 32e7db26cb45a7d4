//! `cargo run --release -p dialtone-example-mm1 -- [SEED] [REPLICATIONS] [MINUTES]`
//!
//! Runs independent replications of the M/M/1 queue of validation.md Case 1 and prints
//! L and W with 95% confidence intervals beside their exact values.

use std::process::ExitCode;

use dialtone_engine::RngStreams;
use dialtone_engine::stats::Welford;
use dialtone_example_mm1::{Params, run};

fn arg(args: &[String], i: usize, name: &str, default: u64) -> Result<u64, String> {
    match args.get(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("{name} must be a whole number, got {s:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| {
        Ok::<_, String>((
            arg(&args, 0, "SEED", 42)?,
            arg(&args, 1, "REPLICATIONS", 20)?,
            arg(&args, 2, "MINUTES", 100_000)?,
        ))
    })();
    let (seed, reps, minutes) = match parsed {
        Ok(v) if v.1 >= 2 && v.2 > 0 => v,
        Ok(_) => {
            eprintln!("mm1: REPLICATIONS must be at least 2 and MINUTES positive");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("mm1: {e}\nusage: mm1 [SEED] [REPLICATIONS] [MINUTES]");
            return ExitCode::from(2);
        }
    };
    let params = Params::case1(1_000, minutes);
    let (mut l, mut w) = (Welford::new(), Welford::new());
    let mut events = 0;
    for rep in 0..reps {
        match run(params, &RngStreams::new(seed, rep)) {
            Ok(e) => {
                l.push(e.l);
                w.push(e.w_min);
                events += e.events;
            }
            Err(e) => {
                eprintln!("mm1: {e}");
                return ExitCode::from(1);
            }
        }
    }
    println!(
        "M/M/1, lambda = 0.8/min, mu = 1/min; seed {seed}, {reps} replications of {minutes} min after 1000 min warm-up, {events} events"
    );
    println!(
        "{:<28} {:>10} {:>22} {:>10}",
        "quantity", "estimate", "95% CI", "exact"
    );
    for (name, est, exact) in [
        ("L (mean number in system)", &l, params.exact_l()),
        ("W (mean time in system, min)", &w, params.exact_w_min()),
    ] {
        let h = 1.96 * est.std_error();
        println!(
            "{name:<28} {:>10.4} {:>22} {exact:>10.4}",
            est.mean(),
            format!("[{:.4}, {:.4}]", est.mean() - h, est.mean() + h)
        );
    }
    ExitCode::SUCCESS
}
