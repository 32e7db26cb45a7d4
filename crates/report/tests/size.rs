//! A 10,000-replication study's report is built in under a second and stays under 2 MB.

use dialtone_study::{COLUMNS, Row, StudyMeta, summarize};

#[test]
fn a_ten_thousand_replication_report_is_small_and_fast() {
    let rows: Vec<Row> = (0..10_000u64)
        .map(|r| Row {
            replication: r,
            values: (0..COLUMNS.len())
                .map(|c| Some(((r * 7919 + c as u64 * 104_729) % 100_003) as f64 * 3.7))
                .collect(),
        })
        .collect();
    let meta = StudyMeta {
        kind: dialtone_study::io::Kind::StudyMeta,
        schema_version: dialtone_study::io::SCHEMA_VERSION,
        scenario: "synthetic".into(),
        strategy: "none".into(),
        seed: 1,
        replications: 10_000,
        rto_target_s: 3600.0,
        scenario_digest: "0".into(),
        shard: None,
    };
    let summary = summarize(&meta, &rows);
    let start = std::time::Instant::now();
    let html = dialtone_report::study_page(&summary, &rows).expect("a complete summary");
    let took = start.elapsed();
    assert!(took.as_secs_f64() < 1.0, "built in {took:?}");
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
    eprintln!(
        "10,000-replication report: {} bytes in {took:?}",
        html.len()
    );
}
