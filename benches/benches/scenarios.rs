//! One replication of a scenario per size: a small shipped scenario (site-failure-dac: 2
//! databases, 5,000 users), enterprise-two-sites (100 databases, 50,000 users) and
//! enterprise-two-sites with twice the databases (made as `dialtone bench` and
//! `benches/scale/scale-scenario.py` make them). Untraced, as a study runs them.
//! `cargo bench -p dialtone-benches --bench scenarios`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dialtone_scenario::Scenario;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn load(name: &str, databases_factor: usize) -> Scenario {
    let path = scenarios_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    dialtone_study::bench::scale(&mut doc, databases_factor, None)
        .unwrap_or_else(|e| panic!("{e}"));
    dialtone_scenario::parse(&path.display().to_string(), name, &doc.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    // A replication of the larger ones takes 0.1-0.5 s: few samples, short warm-up.
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (label, name, k) in [
        ("site-failure-dac", "site-failure-dac", 1),
        ("enterprise-two-sites", "enterprise-two-sites", 1),
        (
            "enterprise-two-sites-x2-databases",
            "enterprise-two-sites",
            2,
        ),
    ] {
        let sc = load(name, k);
        g.bench_function(label, |b| {
            b.iter(|| black_box(dialtone_scenario::run(&sc, sc.seed, 0).map(|s| s.seed)))
        });
    }
    g.finish();
}

criterion_group!(benches, scenarios);
criterion_main!(benches);
