//! `hold`: times the hold model for the peer comparison (`benches/peers/run.sh`).
//!
//! `cargo run --release -p dialtone-benches --bin hold -- [EVENTS] [REPEATS]`
//!
//! For N = 1,000 and 100,000 it warms each variant up with 10 N events, then times EVENTS
//! events REPEATS times, interleaving the variants so machine noise hits all alike, and
//! prints one CSV line per variant and N with the median events per second:
//! `hold,<variant>,<n>,<events_per_s>`. It also prints the engine's queue memory per
//! pending event.

use std::process::ExitCode;
use std::time::Instant;

use dialtone_benches::{BareHeapHold, EngineHold, RadixHold};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(f: &mut dyn FnMut() -> u64) -> (f64, u64) {
    let start = Instant::now();
    let c = f();
    (start.elapsed().as_secs_f64(), c)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |i: usize, default: u64| -> Result<u64, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse()
                .map_err(|_| format!("expected a whole number, got {s:?}"))
        })
    };
    let (events, repeats) = match (parse(0, 5_000_000), parse(1, 5)) {
        (Ok(e), Ok(r)) if e > 0 && r > 0 => (e, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("hold: {e}\nusage: hold [EVENTS] [REPEATS]");
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("hold: EVENTS and REPEATS must be positive");
            return ExitCode::from(2);
        }
    };
    println!("# hold model: median of {repeats} runs of {events} events after 10 N warm-up");
    for n in [1_000usize, 100_000] {
        let warm = 10 * n as u64;
        let mut engine = EngineHold::new(n, 1);
        let mut radix = RadixHold::new(n, 1);
        let mut heap = BareHeapHold::new(n, 1);
        engine.run(warm);
        radix.run(warm);
        heap.run(warm);
        let (mut te, mut tr, mut th) = (vec![], vec![], vec![]);
        let mut sink = 0u64;
        for _ in 0..repeats {
            let (t, c) = time(&mut || engine.run(events));
            te.push(events as f64 / t);
            sink ^= c;
            let (t, c) = time(&mut || radix.run(events));
            tr.push(events as f64 / t);
            sink ^= c;
            let (t, c) = time(&mut || heap.run(events));
            th.push(events as f64 / t);
            sink ^= c;
        }
        println!("hold,engine,{n},{:.0}", median(te));
        println!("hold,engine_queue_only,{n},{:.0}", median(tr));
        println!("hold,bare_binary_heap,{n},{:.0}", median(th));
        println!(
            "# n={n}: engine queue holds {:.1} bytes per pending event (payload () ; checksum {sink:x})",
            engine.queue_heap_bytes() as f64 / engine.pending() as f64
        );
    }
    ExitCode::SUCCESS
}
