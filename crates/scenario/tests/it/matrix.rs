//! The strategy × failure matrix: every built-in strategy against a scenario with one
//! failure of every kind. Each pair responds with steps, takes no action by design, or is
//! refused at validation with its reason (`Strategy::answer`); a new strategy or failure
//! kind is in this table the moment it exists. docs/SCENARIOS.md lists the same matrix.

use dialtone_scenario::spec::FailureKind;
use dialtone_scenario::strategy::Answer;
use dialtone_scenario::{Strategy, parse};
use serde_json::{Value, json};

/// One failure of `kind`, at 10:00 on day 2, repaired after 6 hours where a repair means
/// something (a switchback needs the site back).
fn failure(kind: FailureKind) -> Value {
    let target = match kind {
        FailureKind::DatabaseCorruption => "db1",
        FailureKind::DiskLoss => "db1@mbx1",
        FailureKind::ServerLoss | FailureKind::ServerOutage => "mbx1",
        FailureKind::SitePowerLoss | FailureKind::PartialDatacenter => "dc1",
        FailureKind::WanCut => "dc1-dc2",
        FailureKind::WitnessLoss => "fsw",
        FailureKind::DnsServerLoss => "dns",
    };
    let mut f = json!({"kind": kind.name(), "target": target, "at": "1d10h"});
    if !matches!(
        kind,
        FailureKind::ServerLoss | FailureKind::DatabaseCorruption | FailureKind::DiskLoss
    ) {
        f["repair_after"] = json!("6h");
    }
    if kind == FailureKind::PartialDatacenter {
        f["services"] = json!(["client-access", "transport"]);
    }
    f
}

/// The failures of a matrix cell: one of `kind`, and for a server or disk loss also the
/// loss of db1's other copy (its server, mbx3), so that there is data to recover (with a copy left, Active
/// Manager fails over and the recovery strategies refuse: rule
/// `strategy.recovery_needed`).
fn failures(kind: FailureKind) -> Value {
    let mut v = vec![failure(kind)];
    if matches!(kind, FailureKind::ServerLoss | FailureKind::DiskLoss) {
        v.push(json!({"kind": "server-loss", "target": "mbx3", "at": "1d10h"}));
    }
    Value::Array(v)
}

/// Two datacenters of two DAG members each, the witness in a third site, an alternate
/// witness in the second, DAC mode and daily backups: an organisation every built-in
/// strategy can run, so a refusal below is the failure kind's, not the topology's.
fn organisation(strategy: &str, failures: Value) -> Value {
    let mut s = json!({"name": strategy});
    if strategy == "custom" {
        s["steps"] = json!([{"id": "look", "action": "manual"}]);
    }
    json!({
        "description": "matrix",
        "topology": {
            "sites": [{"name": "dc1"}, {"name": "dc2"}, {"name": "dc3"}],
            "links": [{"between": ["dc1", "dc2"]}, {"between": ["dc1", "dc3"]},
                      {"between": ["dc2", "dc3"]}],
            "servers": [{"name": "mbx1", "site": "dc1"}, {"name": "mbx2", "site": "dc1"},
                        {"name": "mbx3", "site": "dc2"}, {"name": "mbx4", "site": "dc2"}],
            "dag": {"members": ["mbx1", "mbx2", "mbx3", "mbx4"],
                    "witness": {"server": "fsw", "site": "dc3"},
                    "alternate_witness": {"server": "fsw2", "site": "dc2"},
                    "dac_mode": true},
            "databases": [
                {"name": "db1", "size": "10GB", "mailboxes": 40,
                 "copies": [{"server": "mbx1"}, {"server": "mbx3"}]},
                {"name": "db2", "size": "10GB", "mailboxes": 40,
                 "copies": [{"server": "mbx2"}, {"server": "mbx4"}]}
            ],
            "transport": {"edge": "active-active"}
        },
        "client_behaviour": {"buckets": 1},
        "workload": {"messages_per_user_per_day": 10, "tick": "1h"},
        "failures": failures,
        "strategy": s,
        "run": {"horizon": "3d", "seed": 7}
    })
}

#[test]
fn every_strategy_answers_every_failure_kind_or_says_why_not() {
    let mut cells = 0;
    for strategy in Strategy::ALL {
        for kind in FailureKind::ALL {
            let text = organisation(strategy.name(), failures(kind)).to_string();
            let pair = format!("{strategy} x {}", kind.name());
            let got = parse("matrix.json", "matrix", &text);
            match strategy.answer(kind) {
                Answer::Steps => {
                    let sc = got.unwrap_or_else(|e| panic!("{pair}: refused: {e}"));
                    assert!(!sc.playbook.is_empty(), "{pair}: no steps");
                    assert_eq!(sc.trigger, Some(0), "{pair}");
                }
                Answer::NoAction => {
                    let sc = got.unwrap_or_else(|e| panic!("{pair}: refused: {e}"));
                    assert!(sc.playbook.is_empty(), "{pair}: steps by design none");
                    assert_eq!(sc.trigger, Some(0), "{pair}");
                }
                Answer::Refused(reason) => {
                    let e = got
                        .err()
                        .unwrap_or_else(|| panic!("{pair}: accepted"))
                        .to_string();
                    assert!(
                        e.contains("strategy.name") && e.contains(reason),
                        "{pair}: {e}"
                    );
                    assert!(e.contains(&format!("not a {}", kind.name())), "{pair}: {e}");
                }
            }
            cells += 1;
        }
    }
    assert_eq!(cells, Strategy::ALL.len() * FailureKind::ALL.len());
}

/// A refused failure does not hide an answered one: the strategy responds to the
/// failure it answers even when a refused one comes first.
#[test]
fn a_strategy_responds_to_the_first_failure_it_answers() {
    let failures = json!([failure(FailureKind::SitePowerLoss), {
        "kind": "server-loss", "target": "mbx2", "at": "2d"
    }, {"kind": "server-loss", "target": "mbx4", "at": "2d"}]);
    let text = organisation("restore-only", failures).to_string();
    let sc = parse("matrix.json", "matrix", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.trigger, Some(1));
    assert!(!sc.playbook.is_empty());
}

/// The matrix as docs/SCENARIOS.md shows it: one row a strategy, one column a failure
/// kind; "steps", "—" (no action by design) or "refused".
fn markdown() -> String {
    let mut out = String::from("| strategy |");
    for k in FailureKind::ALL {
        out.push_str(&format!(" {} |", k.name()));
    }
    out.push_str("\n| --- |");
    out.push_str(&" --- |".repeat(FailureKind::ALL.len()));
    out.push('\n');
    for s in Strategy::ALL {
        out.push_str(&format!("| `{s}` |"));
        for k in FailureKind::ALL {
            out.push_str(match s.answer(k) {
                Answer::Steps => " steps |",
                Answer::NoAction => " — |",
                Answer::Refused(_) => " refused |",
            });
        }
        out.push('\n');
    }
    out
}

#[test]
fn scenarios_md_lists_the_matrix() {
    let doc = std::fs::read_to_string(crate::root().join("docs/SCENARIOS.md")).expect("doc");
    let table = markdown();
    assert!(
        doc.contains(&table),
        "docs/SCENARIOS.md must contain the strategy x failure matrix:\n{table}"
    );
}

/// The inbound-mail warnings of `strategy` against `failure` with the given edge.
fn inbound_warnings(strategy: &str, failure: Value, edge: &str) -> Vec<String> {
    let mut v = organisation(strategy, json!([failure]));
    v["topology"]["transport"]["edge"] = json!(edge);
    let sc = parse("matrix.json", "matrix", &v.to_string()).unwrap_or_else(|e| panic!("{e}"));
    sc.warnings
        .iter()
        .filter(|w| matches!(w, dialtone_scenario::Warning::InboundMailStopped { .. }))
        .map(|w| w.to_string())
        .collect()
}

/// Automatic site failover brings users back in minutes, but with an active-passive edge
/// in the failed site nobody moves the MX record: validation says so.
#[test]
fn a_strategy_that_leaves_inbound_mail_without_a_way_in_is_warned_about() {
    let site = failure(FailureKind::SitePowerLoss);
    let w = inbound_warnings("automatic-site-failover", site.clone(), "active-passive");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("topology.transport.edge: failures[0] stops transport in \"dc1\""));
    assert!(w[0].contains("never moves the MX record"), "{}", w[0]);
    // Every site accepts mail: nothing to warn about.
    assert!(inbound_warnings("automatic-site-failover", site.clone(), "active-active").is_empty());
    // The switchover moves the MX record to the second datacenter.
    assert!(
        inbound_warnings("datacenter-switchover-dac", site.clone(), "active-passive").is_empty()
    );
    assert_eq!(inbound_warnings("none", site, "active-passive").len(), 1);
    // A partial datacenter failure stops inbound mail only if transport is among its
    // services.
    let mut partial = failure(FailureKind::PartialDatacenter);
    assert_eq!(
        inbound_warnings("none", partial.clone(), "active-passive").len(),
        1
    );
    partial["services"] = json!(["client-access"]);
    assert!(inbound_warnings("none", partial, "active-passive").is_empty());
    // A failure elsewhere than the MX site leaves the way in open.
    let mut dc2 = failure(FailureKind::SitePowerLoss);
    dc2["target"] = json!("dc2");
    assert!(inbound_warnings("automatic-site-failover", dc2, "active-passive").is_empty());
}

#[test]
fn losing_the_second_datacenter_needs_no_switchover() {
    // Rule strategy.switchover_needed (architect review of issue 12): dc2 holds no
    // active copy and dc1 keeps quorum with the witness, so the datacenter strategies
    // refuse instead of switching over away from the healthy site; losing dc1 still
    // calls for them.
    for strategy in [
        "datacenter-switchover-dac",
        "datacenter-switchover-non-dac",
        "switchback",
    ] {
        let at = |site: &str| {
            crate::directions::variant(
                "site-failure-dac",
                &[
                    ("/strategy/name", json!(strategy)),
                    (
                        "/failures",
                        json!([{"kind": "site-power-loss", "target": site, "at": "1d10h", "repair_after": "18h"}]),
                    ),
                ],
            )
        };
        let _ = at("dc1");
        let text = std::fs::read_to_string(crate::root().join("scenarios/site-failure-dac.json"))
            .expect("file");
        let mut v: Value = serde_json::from_str(&text).expect("json");
        v["strategy"]["name"] = json!(strategy);
        v["failures"][0]["target"] = json!("dc2");
        let err = parse("dc2.json", "dc2", &v.to_string())
            .expect_err("refused")
            .to_string();
        assert!(err.contains("nothing to switch over"), "{strategy}: {err}");
    }
}

#[test]
fn a_database_with_a_surviving_copy_needs_no_recovery_strategy() {
    // Rule strategy.recovery_needed (architect review of issue 12): mbx1 is lost but
    // db1 keeps its copy on mbx3, so Active Manager fails over with all history; restore
    // and dial tone strategies refuse instead of restoring over a serving database or
    // moving users to an empty one. With the other copy lost too, they run.
    for (strategy, kind) in [
        ("restore-only", FailureKind::ServerLoss),
        ("dial-tone-same-server", FailureKind::DiskLoss),
        ("dial-tone-alternate-server", FailureKind::ServerLoss),
        ("dial-tone-rsg-2003", FailureKind::ServerLoss),
    ] {
        let lone = json!([failure(kind)]);
        let err = parse("m.json", "m", &organisation(strategy, lone).to_string())
            .expect_err("refused")
            .to_string();
        assert!(err.contains("nothing to recover"), "{strategy}: {err}");
        let ok = parse(
            "m.json",
            "m",
            &organisation(strategy, failures(kind)).to_string(),
        );
        assert!(ok.is_ok(), "{strategy}: {:?}", ok.err());
    }
}
