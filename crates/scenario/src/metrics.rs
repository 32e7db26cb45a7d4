//! The metrics of one run, exactly as docs/METRICS.md defines them, and the stable
//! summary.json shape (keys change only with a new [`SCHEMA_VERSION`]).
//!
//! Every output file dialtone writes starts with `kind` ([`Kind`]) and `schema_version`
//! ([`SCHEMA_VERSION`]); the types here read back with `deny_unknown_fields` and with every
//! key required (a `null` is `None`, a missing key is an error), so a renamed or missing
//! key is an error, never a silent 0. `dialtone_study::io` reads and writes the files.

use dialtone_engine::SimTime;
use dialtone_model::HomeId;
use dialtone_model::world::GroupOutage;
use serde::{Deserialize, Deserializer, Serialize};

use crate::runner::{Runner, StepReport};
use crate::validate::Scenario;

/// The shape version of every output file (`schema_version`): bumped whenever the keys
/// of any output change (added, renamed or removed); a build reads exactly its own
/// version (docs/METRICS.md, "Output files").
pub const SCHEMA_VERSION: u32 = 3;

/// What an output file is (its `kind` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// summary.json of `dialtone run` ([`Summary`]).
    Run,
    /// summary.json of `dialtone study` or `merge` (`dialtone_study::StudySummary`).
    Study,
    /// study.json: what a study folder is a study (or a shard) of
    /// (`dialtone_study::StudyMeta`).
    StudyMeta,
    /// summary.json of `dialtone compare` (`dialtone_study::compare::Comparison`).
    Compare,
    /// summary.json of `dialtone sweep` (`dialtone_study::sweep::SweepSummary`).
    Sweep,
    /// study.json of a compare or sweep folder: what its arms are, for `--resume`, shards
    /// and `merge` (`dialtone_study::arms::ArmsMeta`).
    ArmsMeta,
}

impl Kind {
    /// The name written in files: `run`, `study`, `study-meta`, `compare`, `sweep`,
    /// `arms-meta`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Study => "study",
            Kind::StudyMeta => "study-meta",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
            Kind::ArmsMeta => "arms-meta",
        }
    }

    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Kind::Run,
        Kind::Study,
        Kind::StudyMeta,
        Kind::Compare,
        Kind::Sweep,
        Kind::ArmsMeta,
    ];
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `#[serde(deserialize_with = "nullable")]` for an `Option` key that must be present:
/// `null` reads as `None` ("never reached"), a missing key is an error (serde's default
/// would silently read it as `None`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// summary.json of a run (`kind` `run`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Always [`Kind::Run`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario name (file stem).
    pub scenario: String,
    /// Strategy name.
    pub strategy: String,
    /// Master seed.
    pub seed: u64,
    /// Replication index.
    pub replication: u64,
    /// Simulated horizon, seconds.
    pub horizon_s: f64,
    /// When the first failure happened, seconds (null if none did).
    #[serde(deserialize_with = "nullable")]
    pub first_failure_s: Option<f64>,
    /// Headline metrics.
    pub metrics: Metrics,
    /// Per cohort (database x client kind).
    pub cohorts: Vec<CohortMetrics>,
    /// Per database.
    pub databases: Vec<DatabaseMetrics>,
    /// The playbook as it ran.
    pub playbook: PlaybookReport,
    /// Users without service and without history over time (change points).
    pub curves: Curves,
}

/// Change-point curves `[time_s, users]`: the value holds from its time to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curves {
    /// Users in the organisation.
    pub users: u64,
    /// Users who cannot both send and receive.
    pub without_service: Vec<(f64, u64)>,
    /// Users without their history (not counting offline readers).
    pub without_history: Vec<(f64, u64)>,
    /// The same per client kind present in the scenario: `(kind, users, without
    /// service, without history)`.
    pub by_kind: Vec<KindCurves>,
}

/// Curves of one client kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindCurves {
    /// The kind (`outlook-cached`, `web`, ...).
    pub kind: String,
    /// Its users.
    pub users: u64,
    /// Users of this kind without send/receive.
    pub without_service: Vec<(f64, u64)>,
    /// Users of this kind without history.
    pub without_history: Vec<(f64, u64)>,
}

/// Headline metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Integral over time of users who cannot both send and receive, minutes.
    pub user_minutes_without_send_receive: f64,
    /// Integral of users whose pre-failure mail is not reachable (cached-mode users
    /// reading their offline copy are counted separately), minutes.
    pub user_minutes_without_history: f64,
    /// Integral of cached-mode users reading their offline copy instead, minutes.
    pub user_minutes_offline_readable: f64,
    /// Time from the first failure until 50% of the affected users have service back.
    #[serde(deserialize_with = "nullable")]
    pub time_to_service_p50_s: Option<f64>,
    /// ... 95% ...
    #[serde(deserialize_with = "nullable")]
    pub time_to_service_p95_s: Option<f64>,
    /// ... all of them.
    #[serde(deserialize_with = "nullable")]
    pub time_to_service_all_s: Option<f64>,
    /// Time from the failure that caused the outage until every user has their history
    /// back.
    #[serde(deserialize_with = "nullable")]
    pub time_to_history_all_s: Option<f64>,
    /// Mean remaining outage for a user who tries to work at a random moment of an
    /// outage: Σ D² / (2 Σ D) over users' outages D, seconds (null without outages).
    #[serde(deserialize_with = "nullable")]
    pub residual_outage_s: Option<f64>,
    /// Time during which some database was mounted twice (split brain), milliseconds
    /// (database-milliseconds when several were).
    pub split_brain_ms: u64,
    /// Messages delivered to the losing side of a split brain.
    pub split_brain_messages: u64,
    /// Administrator time spent on playbook steps, hours.
    pub operator_hours: f64,
    /// Helpdesk time spent changing Outlook profiles, hours.
    pub helpdesk_hours: f64,
    /// Outlook profiles reconfigured by the helpdesk.
    pub profile_changes: u64,
    /// Administrator actions refused by their preconditions.
    pub failed_actions: u64,
    /// Mail fates.
    pub mail: Mail,
}

/// Mail fates; `accepted = delivered_on_time + delivered_late + bounced + lost_silently
/// + queued_at_end`; `recovered` and `left_in_dial_tone` are subsets of the delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    /// Messages senders handed to the system.
    pub accepted: u64,
    /// Delivered within `metrics.on_time_within`.
    pub delivered_on_time: u64,
    /// Delivered later.
    pub delivered_late: u64,
    /// The sender got a non-delivery report.
    pub bounced: u64,
    /// Accepted and never delivered, nobody told.
    pub lost_silently: u64,
    /// Resubmitted by Safety Net or shadow redundancy, then delivered.
    pub recovered: u64,
    /// Delivered to a dial tone database and never merged back.
    pub left_in_dial_tone: u64,
    /// Still queued at the horizon.
    pub queued_at_end: u64,
    /// Median delivery latency (upper bound of its power-of-two bucket), seconds.
    #[serde(deserialize_with = "nullable")]
    pub latency_p50_s: Option<u64>,
    /// 99th percentile delivery latency (same convention), seconds.
    #[serde(deserialize_with = "nullable")]
    pub latency_p99_s: Option<u64>,
}

/// Per cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortMetrics {
    /// The mailbox group's original database.
    pub database: String,
    /// Client kind.
    pub client: String,
    /// Users.
    pub users: u64,
    /// As the headline metric, for this cohort.
    pub user_minutes_without_send_receive: f64,
    /// As the headline metric, for this cohort.
    pub user_minutes_without_history: f64,
    /// As the headline metric, for this cohort.
    pub user_minutes_offline_readable: f64,
}

/// Per database: the outage of its users (the mailbox group whose original database it
/// is), the same definition for every strategy (rule `metrics.rto`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseMetrics {
    /// Name.
    pub name: String,
    /// When its users first lost service (or their original data), seconds.
    #[serde(deserialize_with = "nullable")]
    pub down_s: Option<f64>,
    /// When their original data was last served again (for dial tone: after the swap and
    /// the merge), seconds.
    #[serde(deserialize_with = "nullable")]
    pub back_s: Option<f64>,
    /// Achieved RTO: back − down, seconds (null if the data never came back).
    #[serde(deserialize_with = "nullable")]
    pub rto_s: Option<f64>,
    /// When they last regained send/receive (a dial tone database counts), seconds.
    #[serde(deserialize_with = "nullable")]
    pub service_back_s: Option<f64>,
    /// Time to send/receive: service back − down, seconds (null if never).
    #[serde(deserialize_with = "nullable")]
    pub rto_send_receive_s: Option<f64>,
}

/// The playbook as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookReport {
    /// Whether the operators started it.
    pub started: bool,
    /// Whether every step finished.
    pub finished: bool,
    /// Why it did not finish.
    #[serde(deserialize_with = "nullable")]
    pub stuck: Option<String>,
    /// Administrator time, hours.
    pub operator_hours: f64,
    /// Every step.
    pub steps: Vec<StepReport>,
}

fn minutes(ms: u128) -> f64 {
    ms as f64 / 60_000.0
}

/// Rule `metrics.time_to_service`: on a change-point curve of users without service,
/// the time after `t0` at which the count first falls to at most `(1 − share)` of its
/// peak (after the peak), in seconds; `Some(0)` if nobody was affected; `None` if never.
pub fn time_to(curve: &[(SimTime, u64)], t0: SimTime, share: f64) -> Option<f64> {
    let after = curve.iter().enumerate().filter(|(_, (t, _))| *t >= t0);
    let (ipeak, peak) = after.fold(
        (0, 0u64),
        |acc, (i, &(_, v))| if v > acc.1 { (i, v) } else { acc },
    );
    if peak == 0 {
        return Some(0.0);
    }
    let limit = ((1.0 - share) * peak as f64).floor() as u64;
    curve[ipeak..]
        .iter()
        .find(|&&(_, v)| v <= limit)
        .map(|&(t, _)| t.saturating_duration_since(t0).as_secs_f64())
}

/// Rule `metrics.rto`: a group's outage as seconds; a "back" only after its "down".
fn database_metrics(name: &str, o: Option<&GroupOutage>) -> DatabaseMetrics {
    let o = o.copied().unwrap_or_default().reported();
    let down = o.down;
    let after = |b: Option<SimTime>| b.filter(|b| down.is_some_and(|dn| *b >= dn));
    // Service kept while only the data was lost: send/receive never stopped.
    let service = match o.service_back {
        None if down.is_some() && o.served() => down,
        b => after(b),
    };
    let back = after(o.data_back);
    let since = |b: Option<SimTime>| Some((b? - down?).as_secs_f64());
    DatabaseMetrics {
        name: name.to_owned(),
        down_s: down.map(|x| x.as_secs_f64()),
        back_s: back.map(|x| x.as_secs_f64()),
        rto_s: since(back),
        service_back_s: service.map(|x| x.as_secs_f64()),
        rto_send_receive_s: since(service),
    }
}

/// Rule `metrics.helpdesk_hours`: each profile change holds the helpdesk for
/// 1 / `per_hour` hours (it works at that rate), so `changes / per_hour`.
pub fn helpdesk_hours(changes: u64, per_hour: u64) -> f64 {
    if per_hour == 0 {
        0.0
    } else {
        changes as f64 / per_hour as f64
    }
}

/// Rule `metrics.outage_cause`: the failure that caused the worst outage on a
/// change-point curve: the outage holding the curve's peak (after the first failure)
/// began when the curve last rose from zero before the peak; its cause is the latest
/// failure at or before that rise (the first failure if none is). `None` without failures.
pub fn outage_cause(curve: &[(SimTime, u64)], failures: &[SimTime]) -> Option<SimTime> {
    let first = *failures.first()?;
    let after = curve.iter().enumerate().filter(|(_, (t, _))| *t >= first);
    let (ipeak, _) = after.fold(
        (0, 0u64),
        |acc, (i, &(_, v))| if v > acc.1 { (i, v) } else { acc },
    );
    let rise = (1..=ipeak)
        .rev()
        .find(|&i| curve[i - 1].1 == 0)
        .map_or(first, |i| curve[i].0);
    Some(
        failures
            .iter()
            .copied()
            .filter(|&f| f <= rise)
            .max()
            .unwrap_or(first),
    )
}

/// Builds the summary of a finished run.
pub fn summarize(
    sc: &Scenario,
    seed: u64,
    replication: u64,
    r: &Runner<'_>,
    end: SimTime,
) -> Summary {
    let w = &r.world;
    let t = w.tallies();
    let f = w.fates();
    let cause = |c: &[(SimTime, u64)]| outage_cause(c, &r.failures).unwrap_or(SimTime::ZERO);
    let (t0, h0) = (
        cause(&t.without_service_curve),
        cause(&t.without_history_curve),
    );
    let playbook = r.playbook_report();
    let left: u64 = (0..w.homes().len())
        .map(|h| w.left_in_dial_tone(HomeId::from(h)))
        .sum();
    let metrics = Metrics {
        user_minutes_without_send_receive: minutes(
            t.without_service.iter().map(|a| a.integral_ms()).sum(),
        ),
        user_minutes_without_history: minutes(
            t.without_history.iter().map(|a| a.integral_ms()).sum(),
        ),
        user_minutes_offline_readable: minutes(
            t.offline_readable.iter().map(|a| a.integral_ms()).sum(),
        ),
        time_to_service_p50_s: time_to(&t.without_service_curve, t0, 0.5),
        time_to_service_p95_s: time_to(&t.without_service_curve, t0, 0.95),
        time_to_service_all_s: time_to(&t.without_service_curve, t0, 1.0),
        time_to_history_all_s: time_to(&t.without_history_curve, h0, 1.0),
        residual_outage_s: t.residual.mean_residual_s(),
        split_brain_ms: t.split_brain.integral_ms() as u64,
        split_brain_messages: t.split_brain_messages,
        operator_hours: playbook.operator_hours,
        helpdesk_hours: helpdesk_hours(t.profile_changes, sc.world.clients.helpdesk_per_hour),
        profile_changes: t.profile_changes,
        failed_actions: t.failed_actions,
        mail: Mail {
            accepted: f.offered,
            delivered_on_time: f.delivered_on_time,
            delivered_late: f.delivered_late,
            bounced: f.bounced,
            lost_silently: f.lost_silently,
            recovered: f.recovered,
            left_in_dial_tone: left,
            queued_at_end: f.queued,
            latency_p50_s: w.transport().latency.quantile_upper_s(0.5),
            latency_p99_s: w.transport().latency.quantile_upper_s(0.99),
        },
    };
    let cohorts = sc
        .world
        .cohorts
        .iter()
        .enumerate()
        .map(|(c, co)| CohortMetrics {
            database: sc.names.databases[co.home.index()].clone(),
            client: co.kind.label().to_owned(),
            users: co.users,
            user_minutes_without_send_receive: minutes(t.without_service[c].integral_ms()),
            user_minutes_without_history: minutes(t.without_history[c].integral_ms()),
            user_minutes_offline_readable: minutes(t.offline_readable[c].integral_ms()),
        })
        .collect();
    let databases = (0..sc.names.databases.len())
        .map(|d| database_metrics(&sc.names.databases[d], w.group_outages().get(d)))
        .collect();
    let pts = |c: &[(SimTime, u64)]| {
        c.iter()
            .map(|&(t, v)| (t.as_secs_f64(), v))
            .collect::<Vec<_>>()
    };
    let curves = Curves {
        users: sc.world.cohorts.iter().map(|c| c.users).sum(),
        without_service: pts(&t.without_service_curve),
        without_history: pts(&t.without_history_curve),
        by_kind: dialtone_model::world::KIND_LABELS
            .iter()
            .zip(&t.by_kind)
            .filter_map(|(label, (svc, hist))| {
                let users: u64 = sc
                    .world
                    .cohorts
                    .iter()
                    .filter(|c| c.kind.label() == *label)
                    .map(|c| c.users)
                    .sum();
                (users > 0).then(|| KindCurves {
                    kind: (*label).to_owned(),
                    users,
                    without_service: pts(svc),
                    without_history: pts(hist),
                })
            })
            .collect(),
    };
    Summary {
        kind: Kind::Run,
        schema_version: SCHEMA_VERSION,
        curves,
        scenario: sc.name.clone(),
        strategy: sc.strategy.name().to_owned(),
        seed,
        replication,
        horizon_s: end.as_secs_f64(),
        first_failure_s: r.first_failure.map(|x| x.as_secs_f64()),
        metrics,
        cohorts,
        databases,
        playbook,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    #[test]
    fn a_null_is_none_and_a_missing_key_is_an_error() {
        let db: DatabaseMetrics =
            serde_json::from_str(r#"{"name":"db1","down_s":10.0,"back_s":null,"rto_s":null,"service_back_s":null,"rto_send_receive_s":null}"#)
                .expect("null reads as None");
        assert_eq!((db.down_s, db.rto_s), (Some(10.0), None));
        let e = serde_json::from_str::<DatabaseMetrics>(
            r#"{"name":"db1","down_s":10.0,"back_s":null,"service_back_s":null,"rto_send_receive_s":null}"#,
        )
        .expect_err("rto_s missing");
        assert!(e.to_string().contains("missing field `rto_s`"), "{e}");
        let e = serde_json::from_str::<DatabaseMetrics>(
            r#"{"name":"db1","down_s":1.0,"back_s":null,"rto_s":null,"service_back_s":null,"rto_send_receive_s":null,"rto":1}"#,
        )
        .expect_err("unknown key");
        assert!(e.to_string().contains("unknown field `rto`"), "{e}");
        for k in Kind::ALL {
            assert_eq!(serde_json::to_value(k).expect("json"), k.as_str());
        }
    }

    #[test]
    fn helpdesk_hours_are_changes_at_the_helpdesk_rate() {
        assert_eq!(helpdesk_hours(100, 30), 100.0 / 30.0);
        assert_eq!(helpdesk_hours(0, 30), 0.0);
        assert_eq!(helpdesk_hours(0, 0), 0.0, "no rate, no work");
    }

    #[test]
    fn time_to_service_counts_from_the_failure_that_caused_the_outage() {
        // A blip at 10 s (fixed by 20 s), a harmless failure at 30 s, then the failure at
        // 500 s that causes the peak outage from 520 s.
        let c = [
            (t(0), 0),
            (t(12), 5),
            (t(20), 0),
            (t(520), 800),
            (t(600), 900),
            (t(900), 0),
        ];
        let fails = [t(10), t(30), t(500), t(700)];
        assert_eq!(outage_cause(&c, &fails), Some(t(500)));
        assert_eq!(
            time_to(&c, t(500), 1.0),
            Some(400.0),
            "900 − 500, not 900 − 10"
        );
        assert_eq!(outage_cause(&c, &[t(10)]), Some(t(10)), "the only failure");
        assert_eq!(outage_cause(&c, &[]), None);
        // Already down when a second failure deepens it: the outage began with the first.
        let deeper = [(t(0), 0), (t(12), 5), (t(50), 900), (t(90), 0)];
        assert_eq!(outage_cause(&deeper, &[t(10), t(40)]), Some(t(10)));
    }

    #[test]
    fn time_to_service_reads_the_curve() {
        // 0 until 100 s, 1000 out, then 600 at 200 s, 40 at 300 s, 0 at 400 s.
        let c = [
            (t(0), 0),
            (t(100), 1000),
            (t(200), 600),
            (t(300), 40),
            (t(400), 0),
        ];
        assert_eq!(time_to(&c, t(100), 0.5), Some(200.0));
        assert_eq!(time_to(&c, t(100), 0.95), Some(200.0));
        assert_eq!(time_to(&c, t(100), 1.0), Some(300.0));
        let never = [(t(0), 0), (t(100), 10)];
        assert_eq!(time_to(&never, t(100), 1.0), None, "never reached is null");
        assert_eq!(
            time_to(&[(t(0), 0)], t(0), 1.0),
            Some(0.0),
            "nobody affected"
        );
    }
}
