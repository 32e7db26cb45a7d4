//! `dialtone init`: a starting scenario from a few choices (sites, servers, databases,
//! copies, users, client mix, DNS TTL, strategy), written with the database layout
//! shorthand so that it stays short, and a `notes` list (JSON has no comments; the spec
//! accepts and ignores `notes`) that says what each part is and what to change next.
//!
//! The organisation: sites `dc1`..; servers `mbx1`.. in site order, all DAG members (a
//! lone server stands alone); a file share witness `fsw1` in dc1 and an alternate `fsw2`
//! in dc2 (with `automatic-site-failover`, the witness stands in a site of its own);
//! databases `DB01`.. of 200GB with the users spread evenly, copies rotating over the
//! servers with the active copies in dc1. The failure fits the strategy: a power loss of
//! dc1 for the datacenter strategies, a corruption of the first database for the dial
//! tone and restore strategies.

use dialtone_engine::SimDuration;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::schema::SCHEMA_FILE;
use crate::strategy::Strategy;
use crate::validate::limits;

/// The choices; [`Default`] gives the defaults `dialtone init` documents.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Sites (datacenters), 1 to 16.
    pub sites: u32,
    /// Mailbox servers in each site.
    pub servers_per_site: u32,
    /// Mailbox databases.
    pub databases: u32,
    /// Copies of each database (default: 3, or fewer when there are fewer servers).
    pub copies: Option<u32>,
    /// Users in all, spread evenly over the databases.
    pub users: u64,
    /// Client mix, `KIND=SHARE,...` with kinds `outlook-cached`, `outlook`,
    /// `outlook-manual` (no Autodiscover), `web`, `mobile` (default: the format's mix).
    pub clients: Option<String>,
    /// TTL of the client-facing DNS records.
    pub ttl: SimDuration,
    /// A built-in strategy (not `custom`).
    pub strategy: String,
    /// Lag one copy of each database by this much (default: no lagged copy).
    pub lag: Option<SimDuration>,
    /// Master seed.
    pub seed: u64,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            sites: 2,
            servers_per_site: 2,
            databases: 4,
            copies: None,
            users: 2_000,
            clients: None,
            ttl: SimDuration::from_millis(300_000),
            strategy: Strategy::DatacenterSwitchoverDac.name().to_owned(),
            lag: None,
            seed: 42,
        }
    }
}

/// A choice `dialtone init` cannot make a scenario of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{flag}: {message}")]
pub struct InitError {
    /// The command-line flag.
    pub flag: &'static str,
    /// What is wrong and what would do.
    pub message: String,
}

fn refuse<T>(flag: &'static str, message: impl Into<String>) -> Result<T, InitError> {
    Err(InitError {
        flag,
        message: message.into(),
    })
}

/// An object whose keys keep the order written (a `serde_json` map sorts them).
struct Obj(Vec<(&'static str, Value)>);

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The top of the file, in the order people read it.
#[derive(Serialize)]
struct Starter {
    #[serde(rename = "$schema")]
    schema: &'static str,
    description: String,
    notes: Vec<String>,
    topology: Topology,
    clients: Vec<Obj>,
    failures: Vec<Obj>,
    strategy: Value,
    run: Obj,
}

#[derive(Serialize)]
struct Topology {
    sites: Value,
    links: Value,
    servers: Vec<Obj>,
    dag: Obj,
    database_layouts: Vec<Obj>,
    dns: Obj,
}

/// The starting scenario as pretty JSON text with a final newline.
pub fn starter_text(o: &InitOptions) -> Result<String, InitError> {
    let mut t = serde_json::to_string_pretty(&build(o)?).unwrap_or_default();
    t.push('\n');
    Ok(t)
}

/// The starting scenario, or why the choices make none.
pub fn starter(o: &InitOptions) -> Result<Value, InitError> {
    Ok(serde_json::to_value(build(o)?).unwrap_or_default())
}

fn build(o: &InitOptions) -> Result<Starter, InitError> {
    let strategy = strategy(o)?;
    let servers = servers(o)?;
    let copies = copies(o, servers.len() as u32)?;
    let clients = clients(o.clients.as_deref())?;
    if o.ttl.is_zero() {
        return refuse("ttl", "must be longer than zero (e.g. 5m)");
    }
    let dc1 = "dc1".to_owned();
    let sites: Vec<String> = (1..=o.sites).map(|i| format!("dc{i}")).collect();
    let witness_site = match strategy {
        Strategy::AutomaticSiteFailover => format!("dc{}", o.sites + 1),
        _ => dc1.clone(),
    };
    let mut all_sites = sites.clone();
    if !all_sites.contains(&witness_site) {
        all_sites.push(witness_site.clone());
    }
    let names: Vec<String> = servers.iter().map(|(n, _)| n.clone()).collect();
    let topology = Topology {
        sites: all_sites.iter().map(|s| json!({"name": s})).collect(),
        links: links(&all_sites),
        servers: servers
            .iter()
            .map(|(n, s)| Obj(vec![("name", json!(n)), ("site", json!(s))]))
            .collect(),
        dag: dag(&names, &sites, &witness_site, strategy),
        database_layouts: layout(o, copies, &names),
        dns: Obj(vec![
            ("ttl", json!(o.ttl.to_string())),
            (
                "multi_ip",
                json!(strategy == Strategy::AutomaticSiteFailover),
            ),
        ]),
    };
    Ok(Starter {
        schema: SCHEMA_FILE,
        description: description(o, copies, strategy),
        notes: notes(o, strategy),
        topology,
        clients,
        failures: failure(strategy, o),
        strategy: json!({"name": strategy.name()}),
        run: Obj(vec![
            ("horizon", json!("4d")),
            ("seed", json!(o.seed)),
            ("replications", json!(100)),
        ]),
    })
}

fn strategy(o: &InitOptions) -> Result<Strategy, InitError> {
    let names: Vec<&str> = (Strategy::ALL.iter())
        .filter(|s| **s != Strategy::Custom)
        .map(|s| s.name())
        .collect();
    let Some(s) = Strategy::ALL
        .iter()
        .copied()
        .find(|s| s.name() == o.strategy && *s != Strategy::Custom)
    else {
        return refuse(
            "strategy",
            format!(
                "{:?} is not a built-in strategy (custom playbooks are written by hand); use one of {}",
                o.strategy,
                names.join(", ")
            ),
        );
    };
    // The site count is checked first: "--sites 0" is about the sites, not the strategy.
    if o.sites == 0 || o.sites > 16 {
        return refuse("sites", "between 1 and 16");
    }
    if datacenter(s) && o.sites < 2 {
        return refuse(
            "strategy",
            format!(
                "{} needs a second site to switch to: give --sites 2 or more",
                s.name()
            ),
        );
    }
    // Their playbooks stop the failed site's members and restore the DAG in the other:
    // with a third site of members Restore-DAG is refused (measured: the switchback
    // playbook gets stuck), so init does not write that organisation.
    if datacenter(s) && s != Strategy::AutomaticSiteFailover && o.sites > 2 {
        return refuse(
            "sites",
            format!(
                "{} switches between two datacenters: give --sites 2 (or automatic-site-failover, \
                 a dial tone or restore strategy for more sites)",
                s.name()
            ),
        );
    }
    Ok(s)
}

/// The strategies that answer the loss of a datacenter.
fn datacenter(s: Strategy) -> bool {
    matches!(
        s,
        Strategy::DatacenterSwitchoverDac
            | Strategy::DatacenterSwitchoverNonDac
            | Strategy::Switchback
            | Strategy::AutomaticSiteFailover
    )
}

/// (server, site) in site order.
fn servers(o: &InitOptions) -> Result<Vec<(String, String)>, InitError> {
    if o.sites == 0 || o.sites > 16 {
        return refuse("sites", "between 1 and 16");
    }
    if o.servers_per_site == 0 {
        return refuse("servers-per-site", "at least 1 mailbox server a site");
    }
    let total = u64::from(o.sites) * u64::from(o.servers_per_site);
    if total > limits::DAG_MEMBERS as u64 {
        return refuse(
            "servers-per-site",
            format!(
                "{total} servers in all: a DAG holds at most {} members",
                limits::DAG_MEMBERS
            ),
        );
    }
    Ok((0..o.sites)
        .flat_map(|s| (0..o.servers_per_site).map(move |k| (s, k)))
        .map(|(s, k)| {
            let n = s * o.servers_per_site + k + 1;
            (format!("mbx{n}"), format!("dc{}", s + 1))
        })
        .collect())
}

fn copies(o: &InitOptions, servers: u32) -> Result<u32, InitError> {
    let copies = o.copies.unwrap_or(servers.min(3));
    if copies == 0 || copies > servers {
        return refuse(
            "copies",
            format!(
                "between 1 and the number of servers ({servers}): each copy is on its own server"
            ),
        );
    }
    if o.databases == 0 || o.databases as usize > limits::DATABASES {
        return refuse("databases", format!("between 1 and {}", limits::DATABASES));
    }
    let per_db = o.users.div_ceil(u64::from(o.databases));
    if o.users < u64::from(o.databases) || per_db > limits::MAILBOXES_PER_DB {
        return refuse(
            "users",
            format!(
                "at least one user per database ({} in all, for {} databases) and at most {} \
                 per database ({} in all)",
                o.databases,
                o.databases,
                limits::MAILBOXES_PER_DB,
                limits::MAILBOXES_PER_DB * u64::from(o.databases)
            ),
        );
    }
    if o.lag.is_some() && copies < 2 {
        return refuse(
            "lag",
            "a lagged copy needs --copies 2 or more (the active copy is never lagged)",
        );
    }
    Ok(copies)
}

/// `KIND=SHARE,...` to the `clients` list.
fn clients(mix: Option<&str>) -> Result<Vec<Obj>, InitError> {
    let mix = mix.unwrap_or("outlook-cached=0.7,outlook-manual=0.05,web=0.1,mobile=0.15");
    let mut out = Vec::new();
    let mut total = 0.0;
    for part in mix.split(',') {
        let Some((kind, share)) = part.split_once('=') else {
            return refuse(
                "clients",
                format!("{part:?} is not KIND=SHARE (e.g. web=0.1)"),
            );
        };
        let Some(share) = share
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| (0.0..=1.0).contains(s))
        else {
            return refuse(
                "clients",
                format!("{part:?}: a share is a number from 0 to 1"),
            );
        };
        total += share;
        let outlook = |k: &'static str, on: bool| vec![("kind", json!("outlook")), (k, json!(on))];
        let mut fields = match kind.trim() {
            "outlook-cached" => outlook("cached_mode", true),
            "outlook" => outlook("cached_mode", false),
            "outlook-manual" => outlook("autodiscover", false),
            "web" => vec![("kind", json!("web"))],
            "mobile" => vec![("kind", json!("mobile"))],
            other => {
                return refuse(
                    "clients",
                    format!(
                        "unknown client kind {other:?}: outlook-cached, outlook, outlook-manual, web or mobile"
                    ),
                );
            }
        };
        fields.push(("share", json!(share)));
        out.push(Obj(fields));
    }
    if (total - 1.0).abs() > 1e-6 {
        return refuse("clients", crate::validate::shares_sum_message(total));
    }
    Ok(out)
}

/// Every pair of sites joined by a link.
fn links(sites: &[String]) -> Value {
    let mut v = Vec::new();
    for (i, a) in sites.iter().enumerate() {
        for b in &sites[i + 1..] {
            v.push(json!({"between": [a, b], "latency": "20ms"}));
        }
    }
    Value::Array(v)
}

fn dag(members: &[String], sites: &[String], witness_site: &str, s: Strategy) -> Obj {
    if members.len() < 2 {
        return Obj(vec![("members", json!([]))]);
    }
    let mut dag = vec![
        ("members", json!(members)),
        ("witness", json!({"server": "fsw1", "site": witness_site})),
    ];
    if let Some(second) = sites
        .get(1)
        .filter(|_| s != Strategy::AutomaticSiteFailover)
    {
        dag.push((
            "alternate_witness",
            json!({"server": "fsw2", "site": second}),
        ));
    }
    dag.push(("dac_mode", json!(s != Strategy::DatacenterSwitchoverNonDac)));
    Obj(dag)
}

/// The databases' name pattern: wide enough for all of them.
fn db_pattern(databases: u32) -> &'static str {
    if databases >= 100 {
        "DB{:03}"
    } else {
        "DB{:02}"
    }
}

fn layout(o: &InitOptions, copies: u32, servers: &[String]) -> Vec<Obj> {
    let mut l = vec![
        ("count", json!(o.databases)),
        ("name", json!(db_pattern(o.databases))),
        ("size", json!("200GB")),
        ("users", json!(o.users)),
        ("copies", json!(copies)),
        ("servers", json!(servers)),
    ];
    if let Some(lag) = o.lag {
        l.push((
            "lagged",
            json!({"copies": 1, "replay_lag": lag.to_string()}),
        ));
    }
    vec![Obj(l)]
}

fn failure(s: Strategy, o: &InitOptions) -> Vec<Obj> {
    let f = if datacenter(s) || (s == Strategy::None && o.sites > 1) {
        vec![
            ("kind", json!("site-power-loss")),
            ("target", json!("dc1")),
            ("at", json!("1d10h")),
            ("repair_after", json!("18h")),
        ]
    } else {
        let first = db_pattern(o.databases)
            .replace("{:02}", "01")
            .replace("{:03}", "001");
        vec![
            ("kind", json!("database-corruption")),
            ("target", json!(first)),
            ("at", json!("1d10h")),
        ]
    };
    vec![Obj(f)]
}

fn description(o: &InitOptions, copies: u32, s: Strategy) -> String {
    format!(
        "A starting scenario from `dialtone init`: {} site(s) of {} mailbox server(s), {} \
         databases with {copies} copies, {} users, DNS TTL {}; the administrators run {}. \
         Edit it to describe your organisation and what you expect.",
        o.sites,
        o.servers_per_site,
        o.databases,
        o.users,
        o.ttl,
        s.name()
    )
}

fn notes(o: &InitOptions, s: Strategy) -> Vec<String> {
    let mut n = vec![
        "notes are comments: dialtone ignores them. docs/SCENARIOS.md documents every field."
            .to_owned(),
        format!(
            "topology.database_layouts writes {} databases at once: copies rotate over the \
             servers listed, the active copies in the first listed server's site (dc1); \
             `dialtone validate` checks the expanded databases.",
            o.databases
        ),
        "failures: what breaks and when (\"1d10h\" is day 2 at 10:00); `at` for a scripted \
         failure, `time_to_failure` for a random one."
            .to_owned(),
        format!(
            "strategy.name: {}; `dialtone list strategies` lists the others, and `dialtone \
             compare FILE --strategies A,B` runs them on the same replications.",
            s.name()
        ),
        "Unset fields take the defaults of docs/SCENARIOS.md (transport, backup, timing, \
         workload); `dialtone schema` prints every field with its default."
            .to_owned(),
    ];
    if s == Strategy::AutomaticSiteFailover {
        n.push(format!(
            "The witness stands in a site of its own (dc{}) so that either datacenter with it \
             keeps quorum, and the namespace lists every site (dns.multi_ip).",
            o.sites + 1
        ));
    }
    n
}
