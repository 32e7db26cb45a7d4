//! Invariants over random organisations, failures and strategies (proptest, fixed case
//! count): validation never panics; a valid scenario runs without error (mail
//! conservation is checked at the end of every run); every playbook finishes or says why
//! it is stuck; trace time never goes backwards; the same seed gives the same summary
//! and the same trace. One to three operators run each playbook and repair every other
//! repaired failure (chosen from the draw's seed, so the draws themselves are unchanged),
//! so work queues for people.
//!
//! The generator picks the strategy first and then makes sure the organisation has what
//! it responds to (a failure of its kind; two sites and DAC mode for the switchovers), so
//! most generated scenarios are valid; `most_random_organisations_are_valid` checks that,
//! and that every strategy of `Strategy::ALL` gets valid draws, or the property
//! test would pass vacuously on scenarios the validator refuses.

use dialtone_engine::MemoryTrace;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

const KINDS: [&str; 9] = [
    "site-power-loss",
    "server-loss",
    "server-outage",
    "database-corruption",
    "disk-loss",
    "wan-cut",
    "witness-loss",
    "partial-datacenter",
    "dns-server-loss",
];

/// Every built-in strategy, from the library's own list.
fn strategies() -> Vec<&'static str> {
    dialtone_scenario::Strategy::ALL
        .iter()
        .map(|s| s.name())
        .collect()
}

/// What the generator draws; `build` turns it into a scenario file.
#[derive(Debug, Clone)]
struct Draw {
    sites: usize,
    server_sites: Vec<usize>,
    /// (copy on server i?, mailboxes, GB)
    dbs: Vec<(Vec<bool>, u64, u64)>,
    /// (kind, target index, at hour, repair after hours)
    failures: Vec<(usize, usize, u64, Option<u64>)>,
    strategy: usize,
    dac: bool,
    dynamic: bool,
    dial: usize,
    seed: u64,
    messages: u32,
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        1usize..=3,
        prop::collection::vec(0usize..3, 1..=6),
        prop::collection::vec(
            (
                prop::collection::vec(any::<bool>(), 7),
                10u64..500,
                1u64..80,
            ),
            1..=3,
        ),
        prop::collection::vec(
            (0usize..9, 0usize..8, 0u64..47, prop::option::of(1u64..30)),
            0..4,
        ),
        (
            0usize..64, // strategy, modulo the list
            any::<bool>(),
            any::<bool>(),
            0usize..3,
            0u64..1000,
            0u32..200,
        ),
    )
        .prop_map(
            |(
                sites,
                server_sites,
                dbs,
                failures,
                (strategy, dac, dynamic, dial, seed, messages),
            )| Draw {
                sites,
                server_sites,
                dbs,
                failures,
                strategy,
                dac,
                dynamic,
                dial,
                seed,
                messages,
            },
        )
}

fn build(d: &Draw) -> Value {
    let all = strategies();
    let strategy = all[d.strategy % all.len()];
    let switchover = strategy.starts_with("datacenter") || strategy == "switchback";
    let automatic = strategy == "automatic-site-failover";
    let mut nsites = if automatic { 3 } else { d.sites };
    // Automatic site failover needs the witness (in the last site) alone in its site.
    let member_sites = if automatic { 2 } else { nsites };
    let mut server_sites: Vec<usize> = d.server_sites.iter().map(|s| s % member_sites).collect();
    if switchover || automatic {
        // Two sites with members: the second site gets the last server.
        nsites = nsites.max(2);
        if server_sites.len() < 2 {
            server_sites.push(1);
        }
        server_sites[0] = 0;
        let last = server_sites.len() - 1;
        server_sites[last] = 1;
    }
    let dac = match strategy {
        "datacenter-switchover-dac" | "switchback" => true,
        "datacenter-switchover-non-dac" => false,
        _ => d.dac,
    };
    let sites: Vec<String> = (0..nsites).map(|i| format!("s{i}")).collect();
    let n = server_sites.len();
    let servers: Vec<Value> = server_sites
        .iter()
        .enumerate()
        .map(|(i, &s)| json!({"name": format!("m{i}"), "site": sites[s]}))
        .collect();
    let mut links = Vec::new();
    for a in 0..nsites {
        for b in a + 1..nsites {
            links.push(json!({"between": [sites[a], sites[b]]}));
        }
    }
    let databases: Vec<Value> = d
        .dbs
        .iter()
        .enumerate()
        .map(|(i, (on, users, gb))| {
            let mut copies: Vec<Value> = (0..n)
                .filter(|&s| on[s])
                .map(|s| json!({"server": format!("m{s}")}))
                .collect();
            if copies.is_empty() {
                copies.push(json!({"server": "m0"}));
            }
            json!({"name": format!("db{i}"), "size": format!("{gb}GB"),
                   "mailboxes": users, "copies": copies})
        })
        .collect();
    let members: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let mount_dial = ["Lossless", "GoodAvailability", "BestAvailability"][d.dial];
    let dag = json!({
        "members": members, "dac_mode": dac, "dynamic_quorum": d.dynamic,
        "mount_dial": mount_dial,
        "witness": {"server": "fsw", "site": sites[nsites - 1]},
        "alternate_witness": {"server": "fsw2", "site": sites[0]},
    });
    let target = |kind: &str, t: usize| -> String {
        match kind {
            "site-power-loss" | "partial-datacenter" => sites[t % nsites].clone(),
            "server-loss" | "server-outage" => format!("m{}", t % n),
            "database-corruption" => format!("db{}", t % d.dbs.len()),
            "disk-loss" => {
                let i = t % d.dbs.len();
                let c = databases[i]["copies"][0]["server"].as_str().unwrap_or("m0");
                format!("db{i}@{c}")
            }
            "wan-cut" => format!("{}-{}", sites[0], sites[1]),
            "witness-loss" => "fsw".into(),
            _ => "dns".into(),
        }
    };
    let failure = |kind: &str, t: usize, at: u64, repair: Option<u64>| -> Value {
        let kind = if kind == "wan-cut" && nsites == 1 {
            "dns-server-loss"
        } else {
            kind
        };
        let mut f = json!({"kind": kind, "target": target(kind, t), "at": format!("{at}h")});
        if let Some(r) = repair {
            f["repair_after"] = json!(format!("{r}h"));
            if (at + d.seed).is_multiple_of(2) {
                f["crew"] = json!("operators");
            }
        }
        if kind == "partial-datacenter" {
            f["services"] = json!(["client-access"]);
        }
        f
    };
    let mut failures: Vec<Value> = d
        .failures
        .iter()
        .map(|&(k, t, at, r)| failure(KINDS[k], t, at, r))
        .collect();
    // The failure the strategy responds to, at hour 10.
    let trigger = match strategy {
        "dial-tone-same-server" | "custom" => Some(failure("database-corruption", 0, 10, None)),
        "restore-only"
        | "dial-tone-alternate-server"
        | "dial-tone-alternate-stay"
        | "dial-tone-rsg-2003" => Some(failure("server-loss", 0, 10, None)),
        "switchback" => Some(failure("site-power-loss", 0, 10, Some(6))),
        "automatic-site-failover" => Some(failure("site-power-loss", 0, 10, Some(6))),
        s if s.starts_with("datacenter") => Some(failure("site-power-loss", 0, 10, None)),
        _ => None,
    };
    failures.extend(trigger);
    let mut strat = json!({"name": strategy, "operators": {"count": 1 + d.seed % 3}});
    if strategy == "switchback" {
        strat["switchback_after"] = json!("2h");
    }
    if strategy == "custom" {
        // The 2013 dial tone procedure written out as steps, for db0 on its first copy.
        let (db, server) = ("db0", databases[0]["copies"][0]["server"].clone());
        strat["steps"] = json!([
            {"id": "create", "action": "create-dial-tone", "database": db, "server": server},
            {"id": "move", "action": "move-mailboxes", "database": db, "to": "dial-tone",
             "after": ["create"]},
            {"id": "mount", "action": "mount", "database": db, "to": "dial-tone",
             "after": ["move"]},
            {"id": "restore", "action": "restore-backup", "database": db, "server": server,
             "after": ["create"]},
            {"id": "wait", "action": "wait-restore", "database": db, "after": ["restore"]},
            {"id": "swap", "action": "swap", "database": db, "after": ["mount", "wait"]},
            {"id": "merge", "action": "merge", "database": db, "after": ["swap"]}
        ]);
    }
    json!({
        "description": "random",
        "topology": {"sites": sites.iter().map(|s| json!({"name": s})).collect::<Vec<_>>(),
                     "links": links, "servers": servers, "dag": dag, "databases": databases},
        "client_behaviour": {"buckets": 2},
        "workload": {"messages_per_user_per_day": d.messages, "tick": "15m"},
        "failures": failures,
        "strategy": strat,
        "run": {"horizon": "2d", "seed": d.seed}
    })
}

#[test]
fn most_random_organisations_are_valid() {
    let mut runner = TestRunner::deterministic();
    let strategy = draw();
    let (mut valid, total) = (0, 200);
    let mut refusals = Vec::new();
    let mut ran = std::collections::BTreeSet::new();
    for _ in 0..total {
        let d = strategy.new_tree(&mut runner).expect("tree").current();
        match dialtone_scenario::parse("random.json", "random", &build(&d).to_string()) {
            Ok(sc) => {
                valid += 1;
                ran.insert(sc.strategy.name());
            }
            Err(e) => refusals.push(e.to_string()),
        }
    }
    eprintln!("{valid}/{total} random organisations valid");
    assert!(
        valid * 2 >= total,
        "only {valid}/{total} random organisations are valid; refusals: {:#?}",
        &refusals[..refusals.len().min(10)]
    );
    for s in strategies() {
        assert!(
            ran.contains(s),
            "no valid random organisation for {s}; valid: {ran:?}; refusals: {refusals:#?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_organisations_run_soundly(d in draw()) {
        let text = build(&d).to_string();
        // Invalid combinations (an even DAG without a usable witness, a strategy the
        // topology cannot run) are refused with a message: fine, as long as nothing
        // panics. `most_random_organisations_are_valid` keeps the refusals a minority.
        let Ok(sc) = dialtone_scenario::parse("random.json", "random", &text) else {
            return Ok(());
        };
        let a = dialtone_scenario::run_with(&sc, sc.seed, 0, MemoryTrace::default());
        prop_assert!(a.is_ok(), "run failed: {:?}\n{}", a.err(), text);
        let (a, trace) = a.expect("ok");
        let backwards = trace.records.windows(2).find(|w| w[1].time < w[0].time);
        prop_assert!(backwards.is_none(), "time went backwards: {:?}\n{}", backwards, text);
        let p = &a.playbook;
        prop_assert!(
            !p.started || p.finished || p.stuck.is_some(),
            "playbook neither finished nor stuck: {:?}\n{}", p, text
        );
        let m = &a.metrics.mail;
        prop_assert_eq!(
            m.accepted,
            m.delivered_on_time + m.delivered_late + m.bounced + m.lost_silently + m.queued_at_end,
            "mail not conserved: {:?}\n{}", m, text
        );
        let (b, trace_b) =
            dialtone_scenario::run_with(&sc, sc.seed, 0, MemoryTrace::default()).expect("second run");
        prop_assert_eq!(
            serde_json::to_string(&a).expect("json"),
            serde_json::to_string(&b).expect("json")
        );
        prop_assert!(trace.records == trace_b.records, "same seed, different trace\n{}", text);
    }
}
