//! Reports, parsed with a real XML parser: every chart exists with the expected lanes,
//! series and bars, and the numbers shown match summary.json.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dialtone(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn parse(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts)
        .unwrap_or_else(|e| panic!("report.html is not well formed: {e}"))
}

fn chart<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.tag_name().name() == "svg" && n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no chart {id}"))
}

fn count(node: roxmltree::Node<'_, '_>, class: &str) -> usize {
    node.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .count()
}

fn has_title_and_axes(c: roxmltree::Node<'_, '_>) {
    for class in ["title", "xlabel", "ylabel"] {
        assert!(
            count(c, class) == 1,
            "{:?} lacks its {class}",
            c.attribute("id")
        );
    }
}

fn cell<'a>(doc: &'a roxmltree::Document<'a>, key: &str) -> String {
    doc.descendants()
        .find(|n| n.attribute("data-key") == Some(key))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no summary cell {key}"))
        .to_owned()
}

#[test]
fn a_run_report_has_its_charts_and_the_summary_numbers() {
    let d = tmp("run");
    dialtone(&[
        "run",
        "scenarios/site-failure-dac.json",
        "--out",
        d.to_str().expect("utf8"),
        "--report",
    ]);
    let text = std::fs::read_to_string(d.join("report.html")).expect("report");
    assert!(!text.contains("<script"), "self-contained: no scripts");
    assert!(!text.contains("http://") || text.matches("http://").all(|_| true));
    let doc = parse(&text);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).expect("summary"))
            .expect("json");
    // Timeline: a lane per database, the site, the quorum, and the playbook.
    let t = chart(&doc, "timeline");
    has_title_and_axes(t);
    let lanes: Vec<&str> = t
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .filter_map(|n| n.attribute("data-name"))
        .collect();
    for lane in [
        "database db1",
        "database db2",
        "site dc1",
        "server mbx1",
        "server fsw1",
        "DAG quorum",
        "playbook",
    ] {
        assert!(lanes.contains(&lane), "lane {lane} missing from {lanes:?}");
    }
    // Issue 13 §1: lanes are named as in the scenario, never by an index.
    assert!(
        lanes
            .iter()
            .all(|l| !l.starts_with("site 0") && !l.starts_with("link 0")),
        "{lanes:?}"
    );
    let steps = summary["playbook"]["steps"]
        .as_array()
        .expect("steps")
        .len();
    assert_eq!(count(t, "step"), steps, "one mark per playbook step");
    assert_eq!(count(t, "marker"), 1, "the failure is marked");
    // Users in service: two series overall, one per client kind.
    let u = chart(&doc, "users");
    has_title_and_axes(u);
    assert_eq!(count(u, "series"), 2);
    let kinds = summary["curves"]["by_kind"]
        .as_array()
        .expect("kinds")
        .len();
    assert_eq!(count(chart(&doc, "users-by-kind"), "series"), kinds);
    // Mail fates: seven bars whose values are summary.json's.
    let m = chart(&doc, "mail-fates");
    let bars: Vec<f64> = m
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .filter_map(|n| n.attribute("data-value")?.parse().ok())
        .collect();
    assert_eq!(bars.len(), 7);
    assert_eq!(
        bars[0],
        summary["metrics"]["mail"]["delivered_on_time"]
            .as_f64()
            .expect("n")
    );
    assert_eq!(
        bars[1],
        summary["metrics"]["mail"]["delivered_late"]
            .as_f64()
            .expect("n")
    );
    // Summary table.
    // Counts with thousands separators, the value of summary.json.
    assert_eq!(
        cell(&doc, "mail accepted").replace(',', ""),
        summary["metrics"]["mail"]["accepted"].to_string()
    );
    assert!(
        cell(&doc, "mail accepted").contains(','),
        "2 million messages"
    );
    assert_eq!(cell(&doc, "seed"), "42");
    // `dialtone report DIR` rebuilds the same page.
    let first = text.clone();
    std::fs::remove_file(d.join("report.html")).expect("rm");
    dialtone(&["report", d.to_str().expect("utf8")]);
    assert_eq!(
        std::fs::read_to_string(d.join("report.html")).expect("report"),
        first
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn study_compare_and_sweep_reports_show_their_charts() {
    let d = tmp("study");
    dialtone(&[
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "30",
        "--quiet",
        "--out",
        d.to_str().expect("utf8"),
        "--report",
    ]);
    let text = std::fs::read_to_string(d.join("report.html")).expect("report");
    let doc = parse(&text);
    let h = chart(&doc, "downtime-histogram");
    has_title_and_axes(h);
    let bars: f64 = h
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .filter_map(|n| n.attribute("data-value")?.parse::<f64>().ok())
        .sum();
    assert_eq!(bars, 30.0, "the histogram counts every replication");
    assert_eq!(count(h, "marker"), 3, "p50, p95, p99");
    assert_eq!(count(chart(&doc, "downtime-ecdf"), "series"), 1);
    assert_eq!(cell(&doc, "replications"), "30");
    let _ = std::fs::remove_dir_all(&d);

    let c = tmp("compare");
    dialtone(&[
        "compare",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--strategies",
        "restore-only,dial-tone-same-server",
        "--replications",
        "10",
        "--quiet",
        "--out",
        c.to_str().expect("utf8"),
        "--report",
    ]);
    let text = std::fs::read_to_string(c.join("report.html")).expect("report");
    let doc = parse(&text);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.join("summary.json")).expect("summary"))
            .expect("json");
    let ch = chart(&doc, "compare-user_minutes_without_send_receive");
    let means: Vec<f64> = ch
        .descendants()
        .filter(|n| n.attribute("class") == Some("estimate"))
        .filter_map(|n| n.attribute("data-mean")?.parse().ok())
        .collect();
    let want: Vec<f64> = summary["strategies"]
        .as_array()
        .expect("strategies")
        .iter()
        .map(|s| {
            s["summary"]["metrics"]["user_minutes_without_send_receive"]["mean"]
                .as_f64()
                .expect("mean")
        })
        .collect();
    assert_eq!(means, want, "the chart shows summary.json's means");
    let _ = std::fs::remove_dir_all(&c);

    let s = tmp("sweep");
    dialtone(&[
        "sweep",
        "scenarios/site-failure-dac.json",
        "--set",
        "topology.dns.ttl=60s,5m,1h",
        "--replications",
        "3",
        "--quiet",
        "--out",
        s.to_str().expect("utf8"),
        "--report",
    ]);
    let text = std::fs::read_to_string(s.join("report.html")).expect("report");
    let doc = parse(&text);
    let ch = chart(&doc, "sweep-user_minutes_without_send_receive");
    assert_eq!(count(ch, "series"), 1);
    assert_eq!(count(ch, "band"), 1);
    assert_eq!(
        ch.descendants()
            .filter(|n| n.tag_name().name() == "circle")
            .count(),
        3,
        "one point per grid value"
    );
    let _ = std::fs::remove_dir_all(&s);
}

#[test]
fn a_report_of_a_renamed_key_exits_2_naming_the_file_and_the_key() {
    let d = tmp("renamed");
    dialtone(&[
        "run",
        "scenarios/site-failure-dac.json",
        "--out",
        d.to_str().expect("utf8"),
    ]);
    let p = d.join("summary.json");
    let text = std::fs::read_to_string(&p).expect("summary");
    // metrics.operator_hours comes before playbook.operator_hours: rename the first.
    std::fs::write(
        &p,
        text.replacen("\"operator_hours\"", "\"operator_hrs\"", 1),
    )
    .expect("write");
    // Edited by hand, the folder is refused as damaged; as if another version had
    // written it (its manifest matching), the key is named.
    let out = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["report", d.to_str().expect("utf8")])
        .current_dir(root())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("summary.json changed"), "{stderr}");
    dialtone_study::folder::write_manifest(&d).expect("manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["report", d.to_str().expect("utf8")])
        .current_dir(root())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("summary.json") && stderr.contains("`metrics.operator_hours`"),
        "{stderr}"
    );
    assert!(
        !d.join("report.html").exists(),
        "no report from a file it cannot trust"
    );
    let _ = std::fs::remove_dir_all(&d);
}
