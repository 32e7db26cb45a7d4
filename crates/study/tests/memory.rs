//! A run's folder is written while the run goes (`RunTrace`): the memory a run with
//! `--out` holds does not grow with its trace. Measured with the counting allocator
//! (per thread, so other tests of this binary do not disturb it).

use std::path::PathBuf;

use dialtone_engine::MemoryTrace;
use dialtone_scenario::Scenario;
use dialtone_study::io::{RunTrace, write_run};
use dialtone_testalloc::{Counting, in_use, peak, reset_peak};

#[global_allocator]
static A: Counting = Counting;

/// site-failure-dac with a site power loss every ~6 hours (repaired after ~1 hour) for
/// `days` days: about 34 trace records a day, so the trace grows with the horizon.
fn recurring_failures(days: u32) -> Scenario {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/site-failure-dac.json"
    );
    let text = std::fs::read_to_string(path).expect("scenario");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["failures"] = serde_json::json!([{
        "kind": "site-power-loss", "target": "dc1",
        "time_to_failure": "exponential(6h)", "time_to_repair": "exponential(1h)"
    }]);
    v["run"]["horizon"] = format!("{days}d").into();
    dialtone_scenario::parse("recurring.json", "recurring", &v.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-memory-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The most bytes held at once while `f` runs, above what was held before.
fn peak_of(f: impl FnOnce()) -> isize {
    reset_peak();
    let base = in_use();
    f();
    peak() - base
}

/// Runs `sc` with --out and --trace as the CLI does; returns the peak and the number of
/// records written.
fn streamed(sc: &Scenario, name: &str) -> (isize, usize) {
    let d = tmp(name);
    let p = peak_of(|| {
        let files = RunTrace::create(&d, true).expect("trace files");
        let (s, files) = dialtone_scenario::run_with(sc, sc.seed, 0, files).expect("runs");
        write_run(&d, &s, files).expect("write");
    });
    let lines = std::fs::read_to_string(d.join("trace.jsonl"))
        .expect("trace")
        .lines()
        .count();
    let _ = std::fs::remove_dir_all(&d);
    (p, lines)
}

/// The peak of the same run without a trace, writing only summary.json: what the run
/// itself holds (its results grow with its failures: the curves of users without
/// service have a point per change).
fn untraced(sc: &Scenario, name: &str) -> isize {
    let d = tmp(name);
    std::fs::create_dir_all(&d).expect("dir");
    let p = peak_of(|| {
        let s = dialtone_scenario::run(sc, sc.seed, 0).expect("runs");
        dialtone_study::io::write_json(&d.join("summary.json"), &s).expect("write");
    });
    let _ = std::fs::remove_dir_all(&d);
    p
}

/// The peak of the same run keeping its trace in memory (as `run --out` did before).
fn kept(sc: &Scenario) -> isize {
    peak_of(|| {
        let (_, sink) =
            dialtone_scenario::run_with(sc, sc.seed, 0, MemoryTrace::default()).expect("runs");
        assert!(!sink.records.is_empty());
    })
}

#[test]
fn a_streamed_trace_costs_the_same_memory_whatever_its_length() {
    let (short, long) = (recurring_failures(15), recurring_failures(60));
    let (streamed_short, records_short) = streamed(&short, "short");
    let (streamed_long, records_long) = streamed(&long, "long");
    assert!(
        records_long > 3 * records_short && records_short > 200,
        "the long run traces far more: {records_short} vs {records_long} records"
    );
    let (bare_short, bare_long) = (untraced(&short, "bare-short"), untraced(&long, "bare-long"));
    let (kept_short, kept_long) = (kept(&short), kept(&long));
    eprintln!(
        "records {records_short} -> {records_long}; peak bytes: streamed {streamed_short} -> {streamed_long}, untraced {bare_short} -> {bare_long}, trace in memory {kept_short} -> {kept_long}"
    );
    // What the trace costs over the untraced run: the files' buffers, the same at both
    // lengths (to within a few hundred bytes of allocator rounding)...
    let (cost_short, cost_long) = (streamed_short - bare_short, streamed_long - bare_long);
    assert!(
        (cost_long - cost_short).abs() < 1024 && cost_long < 256 * 1024,
        "streaming costs {cost_short} bytes for {records_short} records, {cost_long} for {records_long}"
    );
    // ...where kept in memory it grows with every record (~177 bytes each, issue 14).
    let extra = (records_long - records_short) as isize;
    let kept_growth = (kept_long - bare_long) - (kept_short - bare_short);
    assert!(
        kept_growth > 100 * extra,
        "in memory the trace grows by {kept_growth} bytes for {extra} more records"
    );
}
