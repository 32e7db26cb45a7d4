//! `dialtone init`'s starting scenarios: each set of choices gives a file that satisfies
//! the schema, validates and runs; nonsense is refused naming the flag.

use dialtone_engine::SimDuration;
use dialtone_scenario::init::{InitOptions, starter_text};

use crate::schema::{validator, violations};

fn d(s: &str) -> SimDuration {
    s.parse().expect("duration")
}

fn choices() -> Vec<(&'static str, InitOptions)> {
    let o = InitOptions::default;
    vec![
        ("defaults", o()),
        (
            "the issue's organisation",
            InitOptions {
                sites: 2,
                servers_per_site: 3,
                databases: 24,
                copies: Some(3),
                users: 12_000,
                lag: Some(d("7d")),
                ..o()
            },
        ),
        (
            "one server, restore",
            InitOptions {
                sites: 1,
                servers_per_site: 1,
                databases: 2,
                users: 500,
                strategy: "restore-only".into(),
                ..o()
            },
        ),
        (
            "one site, dial tone",
            InitOptions {
                sites: 1,
                servers_per_site: 3,
                strategy: "dial-tone-same-server".into(),
                clients: Some("outlook-cached=0.5,outlook=0.2,web=0.2,mobile=0.1".into()),
                ..o()
            },
        ),
        (
            "non-DAC, long TTL",
            InitOptions {
                strategy: "datacenter-switchover-non-dac".into(),
                ttl: d("1h"),
                ..o()
            },
        ),
        (
            "witness in a third site",
            InitOptions {
                strategy: "automatic-site-failover".into(),
                ..o()
            },
        ),
        (
            "three sites, 120 databases",
            InitOptions {
                sites: 3,
                servers_per_site: 2,
                databases: 120,
                copies: Some(4),
                users: 30_000,
                strategy: "automatic-site-failover".into(),
                ..o()
            },
        ),
        (
            "switchback",
            InitOptions {
                strategy: "switchback".into(),
                ..o()
            },
        ),
        (
            "nobody acts",
            InitOptions {
                strategy: "none".into(),
                ..o()
            },
        ),
    ]
}

#[test]
fn every_starting_scenario_satisfies_the_schema_validates_and_runs() {
    let schema = validator();
    for (what, o) in choices() {
        let text = starter_text(&o).unwrap_or_else(|e| panic!("{what}: {e}"));
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
        let bad = violations(&schema, &doc);
        assert!(bad.is_empty(), "{what}: {}", bad.join("\n"));
        let sc = dialtone_scenario::parse("init.json", "init", &text)
            .unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        assert_eq!(sc.names.databases.len(), o.databases as usize, "{what}");
        let users: u64 = sc.world.cohorts.iter().map(|c| c.users).sum();
        assert_eq!(users, o.users, "{what}");
        let s = dialtone_scenario::run(&sc, sc.seed, 0).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(s.playbook.stuck.is_none(), "{what}: {:?}", s.playbook.stuck);
        if o.strategy != "none" {
            assert!(
                s.playbook.started,
                "{what}: the failure starts the playbook"
            );
        }
    }
}

#[test]
fn nonsense_is_refused_naming_the_flag() {
    let o = InitOptions::default;
    let cases: Vec<(InitOptions, &str)> = vec![
        (
            InitOptions {
                servers_per_site: 0,
                ..o()
            },
            "--servers-per-site",
        ),
        (InitOptions { sites: 0, ..o() }, "--sites: between 1 and 16"),
        (
            InitOptions {
                copies: Some(5),
                ..o()
            },
            "--copies: between 1 and the number of servers (4)",
        ),
        (
            InitOptions {
                copies: Some(0),
                ..o()
            },
            "--copies",
        ),
        (
            InitOptions {
                databases: 0,
                ..o()
            },
            "--databases",
        ),
        (
            InitOptions { users: 3, ..o() },
            "--users: at least one user per database",
        ),
        (
            InitOptions {
                servers_per_site: 9,
                ..o()
            },
            "at most 16 members",
        ),
        (
            InitOptions {
                strategy: "custom".into(),
                ..o()
            },
            "--strategy",
        ),
        (
            InitOptions {
                strategy: "switchback".into(),
                sites: 1,
                ..o()
            },
            "second site",
        ),
        (
            InitOptions {
                strategy: "switchback".into(),
                sites: 3,
                ..o()
            },
            "two datacenters",
        ),
        (
            InitOptions {
                clients: Some("web=0.5".into()),
                ..o()
            },
            "add up to 0.5",
        ),
        (
            InitOptions {
                clients: Some("fax=1".into()),
                ..o()
            },
            "unknown client kind",
        ),
        (
            InitOptions {
                ttl: SimDuration::ZERO,
                ..o()
            },
            "--ttl",
        ),
        (
            InitOptions {
                lag: Some(d("1d")),
                copies: Some(1),
                ..o()
            },
            "--lag",
        ),
    ];
    for (opts, want) in cases {
        let e = starter_text(&opts).expect_err(want).to_string();
        assert!(e.contains(want), "{want:?} not in {e:?}");
    }
}
