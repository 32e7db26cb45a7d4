//! The database layout shorthand (`topology.database_layouts`): it expands to databases
//! whose copies rotate over the servers, refuses nonsense at the layout's fields, and a
//! scenario written with it runs exactly as the same scenario written out by hand.

use serde_json::{Value, json};

use crate::root;

fn shipped(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(format!("scenarios/{name}.json")))
        .expect("shipped scenario");
    serde_json::from_str(&text).expect("json")
}

fn parse(v: &Value) -> Result<dialtone_scenario::Scenario, String> {
    let text = serde_json::to_string(v).expect("json");
    dialtone_scenario::parse("layout.json", "layout", &text).map_err(|e| e.to_string())
}

/// `scenario` with its databases replaced by `layout`.
fn with_layout(mut v: Value, layout: Value) -> Value {
    let t = v["topology"].as_object_mut().expect("topology");
    t.remove("databases");
    t.insert("database_layouts".into(), json!([layout]));
    v
}

/// Six servers in two sites, no databases yet: the organisation.
fn six_servers(layout: Value) -> Value {
    let mut v = shipped("site-failure-dac");
    let servers: Vec<Value> = (1..=6)
        .map(|i| json!({"name": format!("mbx{i}"), "site": if i <= 3 { "dc1" } else { "dc2" }}))
        .collect();
    v["topology"]["servers"] = json!(servers);
    v["topology"]["dag"]["members"] = json!(["mbx1", "mbx2", "mbx3", "mbx4", "mbx5", "mbx6"]);
    v["strategy"] = json!({"name": "none"});
    with_layout(v, layout)
}

/// A copy: (server name, preference, lag ms).
type Copy = (String, u32, u64);

/// (database name, its copies most preferred first).
fn layout_of(sc: &dialtone_scenario::Scenario) -> Vec<(String, Vec<Copy>)> {
    sc.world
        .databases
        .iter()
        .map(|d| {
            let copies = d
                .copies
                .iter()
                .map(|c| {
                    (
                        sc.names.servers[c.server.index()].clone(),
                        c.preference,
                        c.replay_lag.as_millis(),
                    )
                })
                .collect();
            (d.name.clone(), copies)
        })
        .collect()
}

#[test]
fn layouts_rotate_preferences_over_distinct_servers_with_balanced_actives() {
    let v = six_servers(json!({"count": 24, "name": "DB{:02}", "size": "200GB",
        "users": 12_001, "copies": 3,
        "servers": ["mbx1", "mbx2", "mbx3", "mbx4", "mbx5", "mbx6"],
        "lagged": {"copies": 1, "replay_lag": "7d"}}));
    let sc = parse(&v).unwrap_or_else(|e| panic!("{e}"));
    let dbs = layout_of(&sc);
    assert_eq!(dbs.len(), 24);
    assert_eq!(dbs[0].0, "DB01");
    assert_eq!(dbs[23].0, "DB24");
    // Copies 3 over sites of 3 + 3 servers: 2 in dc1 (the first listed), 1 in dc2.
    assert_eq!(
        dbs[0].1,
        vec![
            ("mbx1".into(), 1, 0),
            ("mbx2".into(), 2, 0),
            ("mbx4".into(), 3, 7 * 86_400_000)
        ]
    );
    assert_eq!(
        dbs[2].1,
        vec![
            ("mbx3".into(), 1, 0),
            ("mbx1".into(), 2, 0),
            ("mbx6".into(), 3, 7 * 86_400_000)
        ]
    );
    let mut actives = std::collections::BTreeMap::new();
    for (_, copies) in &dbs {
        let mut servers: Vec<&String> = copies.iter().map(|c| &c.0).collect();
        servers.sort();
        servers.dedup();
        assert_eq!(servers.len(), 3, "copies on distinct servers: {copies:?}");
        *actives.entry(copies[0].0.clone()).or_insert(0) += 1;
    }
    // The active copies rotate over the first site's servers: 8 each.
    assert_eq!(
        actives.into_iter().collect::<Vec<_>>(),
        vec![("mbx1".into(), 8), ("mbx2".into(), 8), ("mbx3".into(), 8)]
    );
    // 12,001 users over 24 databases: the first takes the one left over.
    let users: Vec<u64> = sc
        .world
        .databases
        .iter()
        .map(|d| d.params.mailboxes)
        .collect();
    assert_eq!(users[0], 501);
    assert!(users[1..].iter().all(|&u| u == 500), "{users:?}");
    assert_eq!(users.iter().sum::<u64>(), 12_001);
}

#[test]
fn a_single_site_layout_rotates_over_every_server() {
    let mut v = six_servers(
        json!({"count": 6, "name": "db{}", "first": 0, "size": "100GB",
        "mailboxes": 100, "copies": 2, "servers": ["mbx1", "mbx2", "mbx3"]}),
    );
    v["topology"]["dag"]["members"] = json!(["mbx1", "mbx2", "mbx3"]);
    let sc = parse(&v).unwrap_or_else(|e| panic!("{e}"));
    let dbs = layout_of(&sc);
    let got: Vec<(String, String, String)> = dbs
        .iter()
        .map(|(n, c)| (n.clone(), c[0].0.clone(), c[1].0.clone()))
        .collect();
    let want = [
        ("db0", "mbx1", "mbx2"),
        ("db1", "mbx2", "mbx3"),
        ("db2", "mbx3", "mbx1"),
        ("db3", "mbx1", "mbx2"),
        ("db4", "mbx2", "mbx3"),
        ("db5", "mbx3", "mbx1"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// Validates and runs one replication.
fn summary(v: &Value) -> dialtone_scenario::Summary {
    let sc = parse(v).unwrap_or_else(|e| panic!("{e}"));
    dialtone_scenario::run(&sc, sc.seed, 0).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_layout_runs_exactly_as_the_same_databases_written_out() {
    // site-failure-dac: db1 [mbx1 mbx2 | mbx3 mbx4], db2 [mbx2 mbx1 | mbx4 mbx3].
    let by_hand = shipped("site-failure-dac");
    let short = with_layout(
        by_hand.clone(),
        json!({"count": 2, "name": "db{}", "size": "400GB", "users": 5000, "copies": 4,
               "servers": ["mbx1", "mbx2", "mbx3", "mbx4"]}),
    );
    let a = summary(&by_hand);
    let b = summary(&short);
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&b).expect("json")
    );
    assert!(a.metrics.user_minutes_without_send_receive > 0.0);
    // The expanded scenario is the same scenario: same digest (studies of either merge).
    assert_eq!(
        parse(&by_hand).expect("valid").digest(),
        parse(&short).expect("valid").digest()
    );
}

#[test]
fn the_enterprise_scenario_is_one_layout() {
    // 100 databases x 4 copies, 2 per site, rotating over 8 servers a site.
    let by_hand = shipped("enterprise-two-sites");
    let servers: Vec<String> = (1..=16).map(|i| format!("mbx{i:02}")).collect();
    let short = with_layout(
        by_hand.clone(),
        json!({"count": 100, "name": "db{:03}", "size": "250GB", "mailboxes": 500,
               "copies": 4, "servers": servers}),
    );
    let a = parse(&by_hand).expect("valid");
    let b = parse(&short).expect("valid");
    assert_eq!(layout_of(&a), layout_of(&b));
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn layouts_and_written_databases_coexist() {
    let mut v = shipped("site-failure-dac");
    v["topology"]["database_layouts"] = json!([{"count": 3, "name": "extra{}", "size": "50GB",
        "mailboxes": 10, "copies": 2, "servers": ["mbx3", "mbx4"]}]);
    let sc = parse(&v).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = sc.names.databases.iter().map(String::as_str).collect();
    assert_eq!(names, ["db1", "db2", "extra1", "extra2", "extra3"]);
    // Failures and cohorts still find the written databases; the generated ones have users.
    assert_eq!(sc.world.cohorts.iter().map(|c| c.users).sum::<u64>(), 5030);
}

type Case = (&'static str, Value, &'static [&'static str]);

fn cases() -> Vec<Case> {
    let ok = json!({"count": 4, "name": "DB{:02}", "size": "200GB", "mailboxes": 100,
        "copies": 3, "servers": ["mbx1", "mbx2", "mbx3", "mbx4", "mbx5", "mbx6"]});
    let with = |k: &str, x: Value| {
        let mut l = ok.clone();
        l[k] = x;
        l
    };
    vec![
        (
            "no databases",
            with("count", json!(0)),
            &["database_layouts[0].count", "at least 1"],
        ),
        (
            "too many",
            with("count", json!(10_001)),
            &["database_layouts[0].count", "limit of 10000"],
        ),
        (
            "no placeholder",
            with("name", json!("DB")),
            &["database_layouts[0].name", "placeholder"],
        ),
        (
            "two placeholders",
            with("name", json!("D{}B{}")),
            &["database_layouts[0].name"],
        ),
        (
            "too few servers",
            with("copies", json!(7)),
            &["database_layouts[0].copies", "(6)"],
        ),
        (
            "no copies",
            with("copies", json!(0)),
            &["database_layouts[0].copies"],
        ),
        (
            "unknown server",
            with("servers", json!(["mbx1", "mbx9", "mbx3"])),
            &["database_layouts[0].servers[1]", "unknown server \"mbx9\""],
        ),
        (
            "server twice",
            with("servers", json!(["mbx1", "mbx1", "mbx3"])),
            &["servers[1]", "twice"],
        ),
        (
            "zero size",
            with("size", json!("0GB")),
            &["database_layouts[0].size"],
        ),
        (
            "zero mailboxes",
            with("mailboxes", json!(0)),
            &["database_layouts[0].mailboxes"],
        ),
        (
            "both counts",
            with("users", json!(100)),
            &["database_layouts[0]:", "one of them"],
        ),
        (
            "fewer users than databases",
            {
                let mut l = with("users", json!(3));
                l.as_object_mut().expect("object").remove("mailboxes");
                l
            },
            &["database_layouts[0].users", "(this gives 0)"],
        ),
        (
            "all copies lagged",
            with("lagged", json!({"copies": 3, "replay_lag": "7d"})),
            &["lagged.copies", "never lagged"],
        ),
        (
            "lag too long",
            with("lagged", json!({"copies": 1, "replay_lag": "15d"})),
            &["lagged.replay_lag", "14 days"],
        ),
        (
            "unknown field",
            with("colour", json!("blue")),
            &["unknown field `colour`"],
        ),
    ]
}

#[test]
fn bad_layouts_are_refused_at_their_fields() {
    for (what, layout, want) in cases() {
        let e = parse(&six_servers(layout)).expect_err(what);
        for w in want {
            assert!(e.contains(w), "{what}: {w:?} not in {e}");
        }
    }
}

#[test]
fn generated_names_must_not_collide() {
    let mut v = shipped("site-failure-dac");
    v["topology"]["database_layouts"] = json!([{"count": 2, "name": "db{}", "first": 2,
        "size": "50GB", "mailboxes": 10, "copies": 2, "servers": ["mbx3", "mbx4"]}]);
    let e = parse(&v).expect_err("db2 is written out");
    assert!(
        e.contains("database_layouts[0].name: generates \"db2\", a name already used by topology.databases[1]"),
        "{e}"
    );
    let layout = json!({"count": 2, "name": "x{}", "size": "50GB", "mailboxes": 10,
        "copies": 1, "servers": ["mbx1"]});
    v["topology"]["database_layouts"] = json!([layout.clone(), layout]);
    let e = parse(&v).expect_err("two layouts make x1");
    assert!(
        e.contains("database_layouts[1].name: generates \"x1\""),
        "{e}"
    );
}

#[test]
fn problems_of_generated_databases_name_their_layout() {
    // A copy on a server that is not a DAG member is found after expansion.
    let mut v = six_servers(json!({"count": 2, "name": "DB{}", "size": "200GB",
        "mailboxes": 100, "copies": 2, "servers": ["mbx1", "mbx2"]}));
    v["topology"]["dag"]["members"] = json!(["mbx1", "mbx3", "mbx4"]);
    let e = parse(&v).expect_err("mbx2 is no member");
    assert!(
        e.contains("topology.database_layouts[0].copies[1].server: database \"DB1\""),
        "{e}"
    );
}
