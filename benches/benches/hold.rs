//! The hold model (brief section 11): N pending events, each popped event schedules one at
//! now + Exp(1 s), in nanoseconds. One group per N; in each, the full engine, the engine's
//! queue alone, the bare `BinaryHeap<(Reverse<u64>, u64)>` baseline and the `radix-heap`
//! crate, so the ratios come from one run. `cargo bench -p dialtone-benches --bench hold`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dialtone_benches::{BareHeapHold, CrateRadixHold, EngineHold, RadixHold};

/// Events handled per criterion iteration.
const BATCH: u64 = 10_000;

fn hold(c: &mut Criterion) {
    for n in [1_000usize, 100_000, 1_000_000] {
        let mut g = c.benchmark_group(format!("hold/n={n}"));
        g.throughput(Throughput::Elements(BATCH));
        // Each structure is warmed up with 10 N events so it is in steady state, then
        // kept across iterations: every iteration handles BATCH more events.
        let warm = 10 * n as u64;
        let mut engine = EngineHold::new(n, 1);
        engine.run(warm);
        g.bench_function("engine", |b| b.iter(|| black_box(engine.run(BATCH))));
        let mut radix = RadixHold::new(n, 1);
        radix.run(warm);
        g.bench_function("engine_queue_only", |b| {
            b.iter(|| black_box(radix.run(BATCH)))
        });
        let mut heap = BareHeapHold::new(n, 1);
        heap.run(warm);
        g.bench_function("bare_binary_heap", |b| {
            b.iter(|| black_box(heap.run(BATCH)))
        });
        let mut krate = CrateRadixHold::new(n, 1);
        krate.run(warm);
        g.bench_function("radix_heap_crate", |b| {
            b.iter(|| black_box(krate.run(BATCH)))
        });
        g.finish();
    }
}

criterion_group!(benches, hold);
criterion_main!(benches);
