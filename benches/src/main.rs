//! `hold`: times the hold model for the peer comparison (`benches/peers/run.sh`).
//!
//! `cargo run --release -p dialtone-benches --bin hold -- [EVENTS] [REPEATS] [VARIANT|all] [N]`
//!
//! VARIANT (`engine`, `engine_queue_only`, `bare_binary_heap`; default all) runs one only,
//! for `valgrind --tool=callgrind` instruction counts; N (`1000` or `100000`; default
//! both) runs one size only. Instructions per event = the difference between two runs
//! with different EVENTS, divided by the difference in EVENTS.
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
    let only = args.get(2).map(String::as_str).filter(|v| *v != "all");
    let sizes: Vec<usize> = match args.get(3).map(String::as_str) {
        None => vec![1_000, 100_000],
        Some("1000") => vec![1_000],
        Some("100000") => vec![100_000],
        Some(other) => {
            eprintln!("hold: N must be 1000 or 100000, got {other:?}");
            return ExitCode::from(2);
        }
    };
    if let Some(v) = only
        && !["engine", "engine_queue_only", "bare_binary_heap"].contains(&v)
    {
        eprintln!("hold: unknown VARIANT {v:?}: use engine, engine_queue_only or bare_binary_heap");
        return ExitCode::from(2);
    }
    let want = |v: &str| only.is_none_or(|o| o == v);
    println!("# hold model: median of {repeats} runs of {events} events after 10 N warm-up");
    for n in sizes {
        let warm = 10 * n as u64;
        // Variants not asked for get no events, so callgrind counts only the one wanted.
        let size = |v: &str| if want(v) { n } else { 0 };
        let mut engine = EngineHold::new(size("engine"), 1);
        let mut radix = RadixHold::new(size("engine_queue_only"), 1);
        let mut heap = BareHeapHold::new(size("bare_binary_heap"), 1);
        engine.run(warm);
        radix.run(warm);
        heap.run(warm);
        let (mut te, mut tr, mut th) = (vec![], vec![], vec![]);
        let mut sink = 0u64;
        for _ in 0..repeats {
            if want("engine") {
                let (t, c) = time(&mut || engine.run(events));
                te.push(events as f64 / t);
                sink ^= c;
            }
            if want("engine_queue_only") {
                let (t, c) = time(&mut || radix.run(events));
                tr.push(events as f64 / t);
                sink ^= c;
            }
            if want("bare_binary_heap") {
                let (t, c) = time(&mut || heap.run(events));
                th.push(events as f64 / t);
                sink ^= c;
            }
        }
        for (name, v) in [
            ("engine", te),
            ("engine_queue_only", tr),
            ("bare_binary_heap", th),
        ] {
            if !v.is_empty() {
                println!("hold,{name},{n},{:.0}", median(v));
            }
        }
        if want("engine") {
            println!(
                "# n={n}: engine queue holds {:.1} bytes per pending event (payload () ; checksum {sink:x})",
                engine.queue_heap_bytes() as f64 / engine.pending() as f64
            );
        }
    }
    ExitCode::SUCCESS
}
