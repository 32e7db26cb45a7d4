//! The scenario file as written: permissive serde types (unknown fields are errors),
//! with defaults from exchange-facts.md. docs/SCENARIOS.md documents every field.

use dialtone_engine::{SimDuration, SimTime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::{Dist, Rate, Size};

mod layout;
pub(crate) mod step;
pub use layout::{LaggedSpec, LayoutSpec};
pub use step::{ActionSpec, DbRefSpec, RecordSpec, StepSpec};

fn d(s: &str) -> SimDuration {
    s.parse().unwrap_or(SimDuration::ZERO)
}

/// A whole scenario file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The JSON Schema of this format, for editors (`dialtone schema`; ignored).
    #[serde(rename = "$schema", default, skip_serializing)]
    pub schema: Option<String>,
    /// What the scenario shows and what to expect.
    pub description: String,
    /// Comments for people (ignored by dialtone, and not part of the scenario's digest).
    #[serde(default, skip_serializing)]
    pub notes: Vec<String>,
    /// Sites, servers, the DAG, databases, DNS, transport, backup.
    pub topology: TopologySpec,
    /// Client mix: shares of users per client kind (the same mix for every database).
    #[serde(default = "default_clients")]
    pub clients: Vec<ClientSpec>,
    /// How clients retry and how fast the helpdesk works.
    #[serde(default)]
    pub client_behaviour: ClientBehaviourSpec,
    /// Mail volume and shape.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// What breaks.
    #[serde(default)]
    pub failures: Vec<FailureSpec>,
    /// Repair crews other than the operators, named by failures' `crew`.
    #[serde(default)]
    pub crews: Vec<CrewSpec>,
    /// What the administrators do.
    pub strategy: StrategySpec,
    /// Horizon and seed.
    pub run: RunSpec,
    /// Metric options.
    #[serde(default)]
    pub metrics: MetricsSpec,
}

/// The organisation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// Datacenters (AD sites).
    pub sites: Vec<SiteSpec>,
    /// WAN links.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Mailbox servers (witness servers are declared in `dag`).
    pub servers: Vec<ServerSpec>,
    /// The database availability group.
    pub dag: DagSpec,
    /// Mailbox databases, written out one by one.
    #[serde(default)]
    pub databases: Vec<DatabaseSpec>,
    /// Databases written as layouts (`count` databases, copies spread over servers);
    /// validation expands them after `databases`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub database_layouts: Vec<LayoutSpec>,
    /// DNS records and client caches.
    #[serde(default)]
    pub dns: DnsSpec,
    /// Mail transport.
    #[serde(default)]
    pub transport: TransportSpec,
    /// Backups.
    #[serde(default)]
    pub backup: BackupSpec,
    /// Continuous replication.
    #[serde(default)]
    pub replication: ReplicationSpec,
    /// Automatic behaviour timing.
    #[serde(default)]
    pub timing: TimingSpec,
    /// Active Directory has domain controllers besides the Exchange servers, so it
    /// survives the loss of one (default true; false: Exchange is also the only domain
    /// controller, as in Small Business Server).
    #[serde(default = "yes")]
    pub active_directory_elsewhere: bool,
}

/// A site.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Unique name.
    pub name: String,
}

/// A WAN link.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// The two sites it joins.
    pub between: [String; 2],
    /// Name used by failures (default `"A-B"`).
    #[serde(default)]
    pub name: Option<String>,
    /// Round-trip latency (informational; DAG members need at most 500 ms).
    #[serde(default)]
    pub latency: Option<SimDuration>,
}

/// A mailbox server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Unique name.
    pub name: String,
    /// Its site.
    pub site: String,
    /// Active mailboxes before service degrades (default unlimited).
    #[serde(default)]
    pub capacity_mailboxes: Option<u64>,
    /// Database schema version (default 15, Exchange 2013+).
    #[serde(default = "default_schema")]
    pub schema_version: u32,
}

fn default_schema() -> u32 {
    15
}

/// A witness server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessSpec {
    /// Its name (not a DAG member).
    pub server: String,
    /// Its site.
    pub site: String,
}

/// The DAG.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DagSpec {
    /// Member servers.
    pub members: Vec<String>,
    /// The file share witness.
    #[serde(default)]
    pub witness: Option<WitnessSpec>,
    /// The alternate witness for Restore-DAG.
    #[serde(default)]
    pub alternate_witness: Option<WitnessSpec>,
    /// DAC mode (Exchange default: off; Microsoft recommends on).
    #[serde(default)]
    pub dac_mode: bool,
    /// Dynamic quorum (default on, Windows 2012 R2+).
    #[serde(default = "yes")]
    pub dynamic_quorum: bool,
    /// AutoDatabaseMountDial: Lossless, GoodAvailability (default), BestAvailability.
    #[serde(default)]
    pub mount_dial: MountDialSpec,
}

fn yes() -> bool {
    true
}

/// AutoDatabaseMountDial.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum MountDialSpec {
    /// 0 logs.
    Lossless,
    /// 6 logs.
    #[default]
    GoodAvailability,
    /// 12 logs.
    BestAvailability,
}

/// A mailbox database.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// Unique name.
    pub name: String,
    /// Size of the database file.
    pub size: Size,
    /// Mailboxes (users) in it.
    pub mailboxes: u64,
    /// Copies; the first (or preference 1) is active at the start.
    pub copies: Vec<CopySpec>,
    /// Circular logging (default: on with 3 or more copies and no backups, native data
    /// protection; off when the organisation backs up).
    #[serde(default)]
    pub circular_logging: Option<bool>,
}

/// A database copy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CopySpec {
    /// The server holding it (a DAG member).
    pub server: String,
    /// Activation preference, 1 = most preferred (default: list order).
    #[serde(default)]
    pub preference: Option<u32>,
    /// Replay lag (default none; at most 14 days).
    #[serde(default)]
    pub replay_lag: Option<SimDuration>,
}

/// DNS.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    /// TTL of client-facing records (Microsoft recommends 5 min).
    #[serde(default = "dns_ttl")]
    pub ttl: SimDuration,
    /// Delay before a change reaches the authoritative server.
    #[serde(default = "dns_prop")]
    pub propagation: SimDuration,
    /// Share of clients that resolve only at start-up (0..1; default 0: an assumption a
    /// scenario states, not a fact, see docs/MODEL.md `clients.pinned`).
    #[serde(default = "dns_pinned")]
    pub pinned_client_share: f64,
    /// How often pinned clients restart.
    #[serde(default = "dns_restart")]
    pub restart_period: SimDuration,
    /// Site the client access namespace points to (default: the site of the first
    /// database's active copy).
    #[serde(default)]
    pub client_access_site: Option<String>,
    /// Site the MX record points to (default: as client access).
    #[serde(default)]
    pub mx_site: Option<String>,
    /// The client access namespace lists every site's address: clients fail over to a
    /// reachable site without a DNS change (about 21 s; default false).
    #[serde(default)]
    pub multi_ip: bool,
}

fn dns_ttl() -> SimDuration {
    d("5m")
}
fn dns_prop() -> SimDuration {
    d("1m")
}
/// Rule `clients.pinned`: no client is pinned unless the scenario says so.
fn dns_pinned() -> f64 {
    0.0
}
fn dns_restart() -> SimDuration {
    d("1d")
}

impl Default for DnsSpec {
    fn default() -> Self {
        DnsSpec {
            ttl: dns_ttl(),
            propagation: dns_prop(),
            pinned_client_share: dns_pinned(),
            restart_period: dns_restart(),
            client_access_site: None,
            mx_site: None,
            multi_ip: false,
        }
    }
}

/// Edge/MX arrangement.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeSpec {
    /// Only the MX record's site accepts (a switchover changes the MX record).
    #[default]
    ActivePassive,
    /// Every site accepts.
    ActiveActive,
}

/// Transport.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransportSpec {
    /// Edge/MX arrangement.
    #[serde(default)]
    pub edge: EdgeSpec,
    /// Shadow redundancy (default on).
    #[serde(default = "yes")]
    pub shadow_redundancy: bool,
    /// Safety Net hold time (default 2 days; "0s" turns it off).
    #[serde(default = "two_days")]
    pub safety_net_hold: SimDuration,
    /// External senders' retry interval (RFC 5321: at least 30 min).
    #[serde(default = "thirty_min")]
    pub sender_retry: SimDuration,
    /// External senders give up after (RFC 5321: 4-5 days).
    #[serde(default = "four_days")]
    pub sender_expiry: SimDuration,
    /// Exchange's delivery retry (5 min).
    #[serde(default = "five_min")]
    pub delivery_retry: SimDuration,
    /// Exchange's MessageExpirationTimeout (2 days).
    #[serde(default = "two_days")]
    pub message_expiration: SimDuration,
    /// ShadowResubmitTimeSpan (3 h).
    #[serde(default = "three_h")]
    pub shadow_resubmit: SimDuration,
    /// How long a resubmit request waits for an unreachable primary Safety Net before
    /// the shadow Safety Net answers (12 h).
    #[serde(default = "twelve_h")]
    pub safety_net_shadow_after: SimDuration,
}

fn two_days() -> SimDuration {
    d("2d")
}
fn thirty_min() -> SimDuration {
    d("30m")
}
fn four_days() -> SimDuration {
    d("4d")
}
fn five_min() -> SimDuration {
    d("5m")
}
fn three_h() -> SimDuration {
    d("3h")
}
fn twelve_h() -> SimDuration {
    d("12h")
}

impl Default for TransportSpec {
    fn default() -> Self {
        TransportSpec {
            edge: EdgeSpec::default(),
            shadow_redundancy: true,
            safety_net_hold: two_days(),
            sender_retry: thirty_min(),
            sender_expiry: four_days(),
            delivery_retry: five_min(),
            message_expiration: two_days(),
            shadow_resubmit: three_h(),
            safety_net_shadow_after: twelve_h(),
        }
    }
}

/// Backups.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    /// Full backups this often (default daily; `null` for none).
    #[serde(default = "one_day")]
    pub every: Option<SimDuration>,
    /// Time of the first backup after the start (default 22h).
    #[serde(default = "at_22h")]
    pub first: SimDuration,
    /// Site where backups are kept (default: anywhere reachable).
    #[serde(default)]
    pub site: Option<String>,
    /// What one restore stream reads from the backup location (default 45GB/h: the DPM
    /// example, exchange-facts §8).
    #[serde(default = "restore_rate")]
    pub restore_rate: Rate,
    /// What the backup location delivers in total, shared by concurrent restores
    /// (default 300GB/h: the DPM example, exchange-facts §8).
    #[serde(default = "restore_total_rate")]
    pub restore_total_rate: Rate,
    /// How many restores read from the backup location at once; the others wait their
    /// turn, first started first (default 7: the DPM example's parallel streams,
    /// exchange-facts §8).
    #[serde(default = "restore_streams")]
    pub restore_streams: u32,
    /// Log replay into a restored database (default 10MB/s: no published figure;
    /// docs/MODEL.md gives the assumption).
    #[serde(default = "replay_rate")]
    pub replay_rate: Rate,
}

fn one_day() -> Option<SimDuration> {
    Some(d("1d"))
}
fn at_22h() -> SimDuration {
    d("22h")
}
fn restore_rate() -> Rate {
    Rate(45.0 * (1u64 << 30) as f64 / 3600.0)
}
fn restore_total_rate() -> Rate {
    Rate(300.0 * (1u64 << 30) as f64 / 3600.0)
}
fn restore_streams() -> u32 {
    7
}
fn replay_rate() -> Rate {
    Rate(10.0 * (1u64 << 20) as f64)
}

impl Default for BackupSpec {
    fn default() -> Self {
        BackupSpec {
            every: one_day(),
            first: at_22h(),
            site: None,
            restore_rate: restore_rate(),
            restore_total_rate: restore_total_rate(),
            restore_streams: restore_streams(),
            replay_rate: replay_rate(),
        }
    }
}

/// Continuous replication.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationSpec {
    /// Log copy throughput between servers (default 20MB/s).
    #[serde(default = "twenty_mb")]
    pub log_copy_rate: Rate,
    /// Reseed throughput of one source server, shared by the reseeds it serves at once
    /// (default 20MB/s, Microsoft's example; rule `db.seed_source`).
    #[serde(default = "twenty_mb")]
    pub seed_rate: Rate,
    /// Log volume size; untruncated logs beyond it dismount the database (default 500GB).
    #[serde(default = "log_volume")]
    pub log_volume: Size,
}

fn twenty_mb() -> Rate {
    Rate(20.0 * (1u64 << 20) as f64)
}
fn log_volume() -> Size {
    Size(500 << 30)
}

impl Default for ReplicationSpec {
    fn default() -> Self {
        ReplicationSpec {
            log_copy_rate: twenty_mb(),
            seed_rate: twenty_mb(),
            log_volume: log_volume(),
        }
    }
}

/// Automatic behaviour.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimingSpec {
    /// Heartbeat detection (default 10s).
    #[serde(default = "ten_s")]
    pub heartbeat: SimDuration,
    /// Active Manager failover duration: one database's mount (default 30s).
    #[serde(default = "thirty_s")]
    pub failover: SimDuration,
    /// Databases Active Manager mounts at once after a failover or Restore-DAG (default
    /// 4: no published figure; docs/MODEL.md gives the assumption).
    #[serde(default = "four")]
    pub mount_concurrency: u32,
    /// Both databases dismounted during a swap (default 5m).
    #[serde(default = "five_min")]
    pub swap_outage: SimDuration,
    /// Merge (restore request) per-mailbox overhead, as mailboxes per hour with no data
    /// to move (default 500: no published figure; docs/MODEL.md gives the assumption).
    #[serde(default = "merge_rate")]
    pub merge_mailboxes_per_hour: u64,
    /// Merge (restore request) data throughput for one database's requests (default
    /// 10GB/h: no published figure; docs/MODEL.md gives the assumption).
    #[serde(default = "merge_data_rate")]
    pub merge_data_rate: Rate,
}

fn ten_s() -> SimDuration {
    d("10s")
}
fn thirty_s() -> SimDuration {
    d("30s")
}
fn four() -> u32 {
    4
}
fn merge_rate() -> u64 {
    500
}
fn merge_data_rate() -> Rate {
    Rate(10.0 * (1u64 << 30) as f64 / 3600.0)
}

impl Default for TimingSpec {
    fn default() -> Self {
        TimingSpec {
            heartbeat: ten_s(),
            failover: thirty_s(),
            mount_concurrency: four(),
            swap_outage: five_min(),
            merge_mailboxes_per_hour: merge_rate(),
            merge_data_rate: merge_data_rate(),
        }
    }
}

/// A client kind and its share of users.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// `outlook`, `web` or `mobile`.
    pub kind: ClientKindSpec,
    /// Outlook with Autodiscover (default true).
    #[serde(default = "yes")]
    pub autodiscover: bool,
    /// Outlook cached mode (default false).
    #[serde(default)]
    pub cached_mode: bool,
    /// Share of each database's users (shares add up to 1).
    pub share: f64,
}

/// Client program.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKindSpec {
    /// Outlook.
    Outlook,
    /// Outlook on the web.
    Web,
    /// ActiveSync devices.
    Mobile,
}

fn default_clients() -> Vec<ClientSpec> {
    let c = |kind, autodiscover, cached_mode, share| ClientSpec {
        kind,
        autodiscover,
        cached_mode,
        share,
    };
    vec![
        c(ClientKindSpec::Outlook, true, true, 0.7),
        c(ClientKindSpec::Outlook, false, false, 0.05),
        c(ClientKindSpec::Web, true, false, 0.1),
        c(ClientKindSpec::Mobile, true, false, 0.15),
    ]
}

/// Client behaviour.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBehaviourSpec {
    /// Phase buckets per cohort (default 8; more is finer and slower).
    #[serde(default = "buckets")]
    pub buckets: u32,
    /// Outlook reconnect interval (default 1m).
    #[serde(default = "one_min")]
    pub outlook_retry: SimDuration,
    /// Web retry interval (default 5m).
    #[serde(default = "five_min")]
    pub web_retry: SimDuration,
    /// Mobile retry interval (default 15m).
    #[serde(default = "fifteen_min")]
    pub mobile_retry: SimDuration,
    /// Helpdesk profile changes per hour (default 30).
    #[serde(default = "helpdesk")]
    pub helpdesk_per_hour: u64,
    /// Share of cached-mode Outlook users who, offered a dial tone mailbox, work online
    /// in it rather than offline in their old offline copy (0..1, default 1: seed 002's
    /// purpose of dial tone, docs/MODEL.md `clients.cached_choice`).
    #[serde(default = "cached_online")]
    pub cached_online_share: f64,
}

fn buckets() -> u32 {
    8
}
fn one_min() -> SimDuration {
    d("1m")
}
fn fifteen_min() -> SimDuration {
    d("15m")
}
fn helpdesk() -> u64 {
    30
}
/// Rule `clients.cached_choice`: users take the dial tone mailbox.
fn cached_online() -> f64 {
    1.0
}

impl Default for ClientBehaviourSpec {
    fn default() -> Self {
        ClientBehaviourSpec {
            buckets: buckets(),
            outlook_retry: one_min(),
            web_retry: five_min(),
            mobile_retry: fifteen_min(),
            helpdesk_per_hour: helpdesk(),
            cached_online_share: cached_online(),
        }
    }
}

/// Mail.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Inbound messages per user per day (default 60).
    #[serde(default = "msgs")]
    pub messages_per_user_per_day: f64,
    /// Messages each user sends per day, internal and outbound (default 0.4 x
    /// `messages_per_user_per_day`: an assumption, docs/MODEL.md `world.split_brain_sent`).
    /// Only mail sent from a copy that a split brain discards is counted.
    #[serde(default)]
    pub sent_per_user_per_day: Option<f64>,
    /// `flat` or `office-hours` (default office-hours).
    #[serde(default)]
    pub profile: ProfileSpec,
    /// Average message size (default 75KB).
    #[serde(default = "msg_size")]
    pub message_size: Size,
    /// Length of a mail batch (default 5m).
    #[serde(default = "five_min")]
    pub tick: SimDuration,
    /// Draw mail a stretch at a time while nothing waits (default true; docs/MODEL.md
    /// `world.quiet_stretches`). `false` ticks every `tick` all run long: the same
    /// distributions from different draws, many times the cost of a long quiet horizon.
    #[serde(default = "yes")]
    pub quiet_stretches: bool,
}

fn msgs() -> f64 {
    60.0
}
fn msg_size() -> Size {
    Size(75 << 10)
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            messages_per_user_per_day: msgs(),
            sent_per_user_per_day: None,
            profile: ProfileSpec::default(),
            message_size: msg_size(),
            tick: five_min(),
            quiet_stretches: true,
        }
    }
}

/// Daily shape of mail.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileSpec {
    /// The same rate all day.
    Flat,
    /// 08:00-18:00 on weekdays carry 80% of the week's mail.
    #[default]
    OfficeHours,
}

/// What breaks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    /// The kind of failure.
    pub kind: FailureKind,
    /// What fails: a site, server, database, link or witness name; for `disk-loss`,
    /// `"DATABASE@SERVER"`.
    pub target: String,
    /// When (scripted). Give `at`, or `time_to_failure` (stochastic), not both.
    #[serde(default)]
    pub at: Option<SimTime>,
    /// Scripted repair delay; omit for a permanent failure.
    #[serde(default)]
    pub repair_after: Option<SimDuration>,
    /// Stochastic time to failure (from the start, and after each repair).
    #[serde(default)]
    pub time_to_failure: Option<Dist>,
    /// Stochastic time to repair; omit for a permanent failure.
    #[serde(default)]
    pub time_to_repair: Option<Dist>,
    /// For `partial-datacenter`: services that stop (`cluster`, `client-access`,
    /// `transport`, `unified-messaging`).
    #[serde(default)]
    pub services: Vec<String>,
    /// Who repairs it: `"operators"` (the strategy's administrators) or a crew of
    /// `crews`. The repair time starts only when a member is free; omitted, repairs are
    /// independent (nobody waits for anybody).
    #[serde(default)]
    pub crew: Option<String>,
}

/// A repair crew: `count` people who each do one repair at a time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewSpec {
    /// Unique name (not `operators`, which names the strategy's administrators).
    pub name: String,
    /// How many work at once (default 1).
    #[serde(default = "one_u32")]
    pub count: u32,
}

fn one_u32() -> u32 {
    1
}

/// Failure kinds (brief §6).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Logical corruption that replicates to copies that replay it.
    DatabaseCorruption,
    /// One copy's disk (`"db@server"`).
    DiskLoss,
    /// A server's hardware and disks: its copies are gone.
    ServerLoss,
    /// A server stops and comes back with its disks (a crash, a power supply).
    ServerOutage,
    /// A site loses power.
    SitePowerLoss,
    /// A WAN link is cut.
    WanCut,
    /// The witness server fails.
    WitnessLoss,
    /// Some services stop in every server of a site.
    PartialDatacenter,
    /// The authoritative DNS server fails.
    DnsServerLoss,
}

impl FailureKind {
    /// Every kind, in declaration order (the columns of the strategy × failure matrix).
    pub const ALL: [FailureKind; 9] = [
        FailureKind::DatabaseCorruption,
        FailureKind::DiskLoss,
        FailureKind::ServerLoss,
        FailureKind::ServerOutage,
        FailureKind::SitePowerLoss,
        FailureKind::WanCut,
        FailureKind::WitnessLoss,
        FailureKind::PartialDatacenter,
        FailureKind::DnsServerLoss,
    ];

    /// The name in files (`"server-loss"`).
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::DatabaseCorruption => "database-corruption",
            FailureKind::DiskLoss => "disk-loss",
            FailureKind::ServerLoss => "server-loss",
            FailureKind::ServerOutage => "server-outage",
            FailureKind::SitePowerLoss => "site-power-loss",
            FailureKind::WanCut => "wan-cut",
            FailureKind::WitnessLoss => "witness-loss",
            FailureKind::PartialDatacenter => "partial-datacenter",
            FailureKind::DnsServerLoss => "dns-server-loss",
        }
    }
}

/// What the administrators do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// A built-in strategy (`dialtone list strategies`), or `custom` with `steps`.
    pub name: String,
    /// Detection and decision delays.
    #[serde(default)]
    pub operators: OperatorsSpec,
    /// The server to use as the alternate (dial tone alternate strategies; default: the
    /// first suitable one).
    #[serde(default)]
    pub alternate_server: Option<String>,
    /// Switchback: how long after the primary's copies have resynchronised the outage
    /// window is scheduled (default 1d).
    #[serde(default = "one_day_dur")]
    pub switchback_after: SimDuration,
    /// Datacenter switchover: the organisation accepts losing more than the mount dial
    /// allows, so Move-ActiveMailboxDatabase uses skip checks (default false: moves
    /// follow the dial and are refused beyond it).
    #[serde(default)]
    pub accept_data_loss: bool,
    /// DAC switchover: clear the activation block on the second datacenter's servers
    /// rather than move each database explicitly (default false).
    #[serde(default)]
    pub clear_activation_block: bool,
    /// The steps of a `custom` playbook.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// The choices of the 2003 Recovery Storage Group procedure (`dial-tone-rsg-2003`
    /// only; default: its defaults).
    #[serde(default)]
    pub rsg_2003: Option<Rsg2003Spec>,
}

/// The choices of the 2003 Recovery Storage Group procedure (seed 003).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rsg2003Spec {
    /// Rebuilding the lost server from bare metal: Windows, Exchange 2003 and its service
    /// pack under the old name (default lognormal(4h, 1h); docs/MODEL.md `rsg.rebuild`).
    #[serde(default = "rsg_rebuild")]
    pub rebuild: Dist,
    /// Recover Mailbox Data: `copy` (the seed's advice) or `merge`.
    #[serde(default)]
    pub recover_mailbox_data: RecoverMailboxData,
    /// The server runs Exchange 2003 Service Pack 1 (default true); without it Recover
    /// Mailbox Data does not exist and the dial tone mail goes back with ExMerge.
    #[serde(default = "yes")]
    pub service_pack_1: bool,
}

impl Default for Rsg2003Spec {
    fn default() -> Self {
        Rsg2003Spec {
            rebuild: rsg_rebuild(),
            recover_mailbox_data: RecoverMailboxData::default(),
            service_pack_1: true,
        }
    }
}

fn rsg_rebuild() -> Dist {
    Dist::parse("lognormal(4h, 1h)").unwrap_or_else(|_| Dist::fixed("4h"))
}

/// Exchange 2003 SP1's Recover Mailbox Data: how the dial tone mail goes back.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RecoverMailboxData {
    /// Copy the recovered mailbox over (seed 003: "Use the Copy option").
    #[default]
    Copy,
    /// Merge into the user's mailbox (seed 003: "will cause big problems since you have
    /// swapped databases").
    Merge,
}

fn one_day_dur() -> SimDuration {
    d("1d")
}

/// The administrators: how many, and their detection and decision delays.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorsSpec {
    /// How many administrators run the playbook (default 2): an action or a manual step
    /// holds one for its duration; ready work waits for a free one.
    #[serde(default = "two")]
    pub count: u32,
    /// From the failure to someone noticing (default 10m).
    #[serde(default = "detection")]
    pub detection: Dist,
    /// From noticing to deciding on the strategy (default lognormal(20m, 10m)).
    #[serde(default = "decision")]
    pub decision: Dist,
}

fn two() -> u32 {
    2
}

fn detection() -> Dist {
    Dist::fixed("10m")
}
fn decision() -> Dist {
    Dist::parse("lognormal(20m, 10m)").unwrap_or_else(|_| Dist::fixed("20m"))
}

impl Default for OperatorsSpec {
    fn default() -> Self {
        OperatorsSpec {
            count: two(),
            detection: detection(),
            decision: decision(),
        }
    }
}

/// Horizon and seed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Simulated time to run.
    pub horizon: SimDuration,
    /// Master seed.
    pub seed: u64,
    /// Replications for studies (default 1).
    #[serde(default = "one")]
    pub replications: u64,
    /// Event budget of one replication: a run that needs more stops with an error
    /// instead of running on (default 200,000,000).
    #[serde(default = "max_events")]
    pub max_events: u64,
}

fn max_events() -> u64 {
    200_000_000
}

fn one() -> u64 {
    1
}

/// Metric options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// Mail delivered within this of being sent is on time (default 5m).
    #[serde(default = "five_min")]
    pub on_time_within: SimDuration,
    /// Target recovery time, for studies (default 1h).
    #[serde(default = "one_hour")]
    pub rto_target: SimDuration,
}

fn one_hour() -> SimDuration {
    d("1h")
}

impl Default for MetricsSpec {
    fn default() -> Self {
        MetricsSpec {
            on_time_within: five_min(),
            rto_target: one_hour(),
        }
    }
}
