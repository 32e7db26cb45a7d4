//! Rule `world.arrivals` end to end (issue 11 §7): where a failure falls relative to the
//! mail tick does not matter. Every shipped scenario's failures are on a 5-minute tick;
//! shifting all of them by 7 s either way changes no headline mean by more than the
//! headline's own replication noise.

use dialtone_engine::SimDuration;
use dialtone_scenario::{Scenario, Summary};

use crate::root;

/// Replications per shift (seeds 0..R of the scenario's master seed).
const R: u64 = 6;

/// `name` with every failure's `at` moved by `shift_ms` (may be negative).
fn shifted(name: &str, shift_ms: i64) -> Scenario {
    let path = root().join(format!("scenarios/{name}.json"));
    let text = std::fs::read_to_string(&path).expect("file");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let failures = v
        .pointer_mut("/failures")
        .and_then(serde_json::Value::as_array_mut)
        .expect("failures");
    for f in failures {
        let at: SimDuration = f["at"]
            .as_str()
            .expect("a fixed time")
            .parse()
            .expect("time");
        let ms = at.as_millis() as i64 + shift_ms;
        f["at"] = serde_json::Value::String(format!("{ms}ms"));
    }
    dialtone_scenario::parse("shifted.json", name, &v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// The headlines an architect reads: name, value, and what a 7 s shift itself may
/// change (each way, so 14 s worth): 14 s of every user's time, 14 s on a time, 14 s of
/// mail at the office-hours peak rate (a failure 7 s earlier leaves 7 s more mail to a
/// window that ends at a fixed time, such as a DNS cache expiry).
fn headlines(s: &Summary) -> Vec<(&'static str, f64, f64)> {
    let m = &s.metrics;
    let mail = &m.mail;
    let users: u64 = s.cohorts.iter().map(|c| c.users).sum();
    let user_minutes = users as f64 * 14.0 / 60.0;
    let messages = mail.accepted as f64 / s.horizon_s * 2.7 * 14.0;
    // Never back: far beyond any horizon, so a shift that strands a database shows.
    let back = |t: Option<f64>| t.unwrap_or(1e9);
    vec![
        (
            "user_minutes_without_send_receive",
            m.user_minutes_without_send_receive,
            user_minutes,
        ),
        (
            "user_minutes_without_history",
            m.user_minutes_without_history,
            user_minutes,
        ),
        ("time_to_service_all_s", back(m.time_to_service_all_s), 14.0),
        ("time_to_history_all_s", back(m.time_to_history_all_s), 14.0),
        (
            "not_delivered",
            (mail.bounced + mail.lost_silently + mail.queued_at_end) as f64,
            messages,
        ),
        ("delivered_late", mail.delivered_late as f64, messages),
        (
            "split_brain_messages",
            m.split_brain_messages as f64,
            messages,
        ),
    ]
}

/// Per headline: name, mean and standard deviation over the replications of `sc`, and
/// the direct effect allowed.
fn stats(sc: &Scenario) -> Vec<(&'static str, f64, f64, f64)> {
    let runs: Vec<_> = (0..R)
        .map(|r| headlines(&dialtone_scenario::run(sc, sc.seed, r).expect("runs")))
        .collect();
    (0..runs[0].len())
        .map(|k| {
            let xs: Vec<f64> = runs.iter().map(|h| h[k].1).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            (runs[0][k].0, mean, var.sqrt(), runs[0][k].2)
        })
        .collect()
}

#[test]
fn shifting_every_failure_by_7_seconds_moves_no_headline_beyond_its_noise() {
    let names = [
        "db-corruption-dial-tone-same-server",
        "restore-only",
        "server-loss-dial-tone-alternate",
        "server-loss-dial-tone-alternate-stay",
        "single-site-rebuild-2003",
        "site-failure-dac",
        "site-failure-non-dac",
        "split-brain-non-dac",
        "switchback",
        "three-site-automatic-failover",
        "enterprise-two-sites",
    ];
    let mut moved = Vec::new();
    for name in names {
        let base = stats(&shifted(name, 0));
        for shift in [-7_000, 7_000] {
            for ((k, mean, ..), (_, base_mean, sd, direct)) in
                stats(&shifted(name, shift)).iter().zip(&base)
            {
                // Replication noise, and what the 7 s themselves change.
                let allowed = sd + direct + 1.0;
                if (mean - base_mean).abs() > allowed {
                    moved.push(format!(
                        "{name} {shift:+} ms: {k} {base_mean:.1} -> {mean:.1} (allowed {allowed:.1})"
                    ));
                }
            }
        }
    }
    assert!(moved.is_empty(), "headlines moved:\n{}", moved.join("\n"));
}
