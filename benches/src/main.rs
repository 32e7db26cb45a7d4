//! `hold`: times the hold model for the peer comparison (`benches/peers/run.sh`).
//!
//! `cargo run --release -p dialtone-benches --bin hold -- [EVENTS] [REPEATS] [VARIANT|all] [N]`
//!
//! VARIANT (`engine`, `engine_queue_only`, `bare_binary_heap`, `radix_heap_crate`; default
//! all) runs one only, for `valgrind --tool=callgrind` instruction counts; N (any positive
//! count; default 1,000, 100,000 and 1,000,000) runs one size only. Instructions per event
//! = the difference between two runs with different EVENTS, divided by the difference in
//! EVENTS. Keys are nanoseconds (see the library's documentation).
//!
//! For each N it warms each variant up with 10 N events, then times EVENTS events REPEATS
//! times, interleaving the variants so machine noise hits all alike, and prints one CSV
//! line per variant and N with the median events per second:
//! `hold,<variant>,<n>,<events_per_s>`. It also prints the engine's queue memory per
//! pending event.

use std::process::ExitCode;
use std::time::Instant;

use dialtone_benches::{BareHeapHold, CrateRadixHold, EngineHold, RadixHold};

const VARIANTS: [&str; 4] = [
    "engine",
    "engine_queue_only",
    "bare_binary_heap",
    "radix_heap_crate",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The four variants at one size; a variant not asked for holds no events, so callgrind
/// counts only the one wanted.
struct Set {
    engine: EngineHold,
    queue: RadixHold,
    heap: BareHeapHold,
    krate: CrateRadixHold,
}

impl Set {
    fn new(n: usize, want: &dyn Fn(&str) -> bool) -> Self {
        let size = |v: &str| if want(v) { n } else { 0 };
        Set {
            engine: EngineHold::new(size(VARIANTS[0]), 1),
            queue: RadixHold::new(size(VARIANTS[1]), 1),
            heap: BareHeapHold::new(size(VARIANTS[2]), 1),
            krate: CrateRadixHold::new(size(VARIANTS[3]), 1),
        }
    }
    /// Runs `events` events of variant `i`; returns the checksum.
    fn run(&mut self, i: usize, events: u64) -> u64 {
        match i {
            0 => self.engine.run(events),
            1 => self.queue.run(events),
            2 => self.heap.run(events),
            _ => self.krate.run(events),
        }
    }
}

struct Args {
    events: u64,
    repeats: u64,
    only: Option<String>,
    sizes: Vec<usize>,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positive = |i: usize, default: u64| -> Result<u64, String> {
        args.get(i).map_or(Ok(default), |s| match s.parse() {
            Ok(0) | Err(_) => Err(format!("expected a positive whole number, got {s:?}")),
            Ok(v) => Ok(v),
        })
    };
    let (events, repeats) = (positive(0, 5_000_000)?, positive(1, 5)?);
    let only = args.get(2).filter(|v| *v != "all").cloned();
    if let Some(v) = &only
        && !VARIANTS.contains(&v.as_str())
    {
        return Err(format!("unknown VARIANT {v:?}: use one of {VARIANTS:?}"));
    }
    let sizes = match args.get(3) {
        None => vec![1_000, 100_000, 1_000_000],
        Some(_) => vec![usize::try_from(positive(3, 1)?).map_err(|e| e.to_string())?],
    };
    Ok(Args {
        events,
        repeats,
        only,
        sizes,
    })
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hold: {e}\nusage: hold [EVENTS] [REPEATS] [VARIANT|all] [N]");
            return ExitCode::from(2);
        }
    };
    let want = |v: &str| a.only.as_deref().is_none_or(|o| o == v);
    println!(
        "# hold model, nanosecond keys: median of {} runs of {} events after 10 N warm-up",
        a.repeats, a.events
    );
    for &n in &a.sizes {
        let mut set = Set::new(n, &want);
        let mut rates: [Vec<f64>; 4] = Default::default();
        let mut sink = 0u64;
        for i in 0..VARIANTS.len() {
            sink = sink.wrapping_add(set.run(i, 10 * n as u64));
        }
        for _ in 0..a.repeats {
            for (i, v) in VARIANTS.iter().enumerate() {
                if want(v) {
                    let start = Instant::now();
                    sink = sink.wrapping_add(set.run(i, a.events));
                    rates[i].push(a.events as f64 / start.elapsed().as_secs_f64());
                }
            }
        }
        for (v, r) in VARIANTS.iter().zip(rates) {
            if !r.is_empty() {
                println!("hold,{v},{n},{:.0}", median(r));
            }
        }
        if want(VARIANTS[0]) {
            println!(
                "# n={n}: engine queue holds {:.1} bytes per pending event (payload () ; checksum {sink:x})",
                set.engine.queue_heap_bytes() as f64 / set.engine.pending() as f64
            );
        }
    }
    ExitCode::SUCCESS
}
