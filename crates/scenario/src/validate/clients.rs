//! `clients`, `client_behaviour` and `workload`: client kinds and shares, retry
//! intervals, the mail rate; the cohorts (database x client kind) they make.

use dialtone_engine::{SimDuration, SimTime};
use dialtone_model::HomeId;
use dialtone_model::clients::ClientKind;
use dialtone_model::server::apportion;
use dialtone_model::world::config::{ClientParams, CohortConfig, DbConfig, MailConfig};

use super::{Validator, limits};
use crate::spec::{ClientKindSpec, EdgeSpec, ProfileSpec, ScenarioSpec};

impl Validator {
    pub(super) fn clients(&mut self, s: &ScenarioSpec) -> ClientParams {
        if s.clients.is_empty() {
            self.err("clients", "at least one client kind is needed");
        }
        let total: f64 = s.clients.iter().map(|c| c.share).sum();
        for (i, c) in s.clients.iter().enumerate() {
            if !(c.share.is_finite() && c.share >= 0.0) {
                self.err(
                    format!("clients[{i}].share"),
                    "a share is a number between 0 and 1",
                );
            }
            if c.kind != ClientKindSpec::Outlook && (c.cached_mode || !c.autodiscover) {
                self.err(
                    format!("clients[{i}]"),
                    "autodiscover and cached_mode apply to Outlook only",
                );
            }
        }
        if !s.clients.is_empty() && (total - 1.0).abs() > 1e-6 {
            self.err("clients", shares_sum_message(total));
        }
        let cb = &s.client_behaviour;
        if cb.buckets == 0 || cb.buckets > limits::BUCKETS {
            self.err(
                "client_behaviour.buckets",
                format!("between 1 and {}", limits::BUCKETS),
            );
        }
        for (p, d) in [
            ("outlook_retry", cb.outlook_retry),
            ("web_retry", cb.web_retry),
            ("mobile_retry", cb.mobile_retry),
        ] {
            self.positive(&format!("client_behaviour.{p}"), d);
        }
        self.count_in(
            "client_behaviour.helpdesk_per_hour",
            cb.helpdesk_per_hour,
            0,
            limits::PER_HOUR,
            "profiles the helpdesk reconfigures an hour",
        );
        if !(0.0..=1.0).contains(&cb.cached_online_share) {
            self.err(
                "client_behaviour.cached_online_share",
                "a share between 0 and 1 (1: every cached-mode user works in the dial tone mailbox)",
            );
        }
        ClientParams {
            cached_online_ppm: (cb.cached_online_share.clamp(0.0, 1.0) * 1e6).round() as u32,
            buckets: cb.buckets.clamp(1, limits::BUCKETS),
            outlook_retry: cb.outlook_retry,
            web_retry: cb.web_retry,
            mobile_retry: cb.mobile_retry,
            helpdesk_per_hour: cb.helpdesk_per_hour,
        }
    }

    /// `workload.*`; the sent rate defaults to [`SENT_SHARE`] of the received one.
    pub(super) fn workload(&mut self, s: &ScenarioSpec) -> MailConfig {
        let w = &s.workload;
        if !(w.messages_per_user_per_day.is_finite()
            && (0.0..=10_000.0).contains(&w.messages_per_user_per_day))
        {
            self.err("workload.messages_per_user_per_day", "between 0 and 10,000");
        }
        let sent = w
            .sent_per_user_per_day
            .unwrap_or(SENT_SHARE * w.messages_per_user_per_day);
        if !(sent.is_finite() && (0.0..=10_000.0).contains(&sent)) {
            self.err("workload.sent_per_user_per_day", "between 0 and 10,000");
        }
        if w.message_size.0 == 0 {
            self.err(
                "workload.message_size",
                "must be more than zero (e.g. \"75KB\")",
            );
        }
        if w.tick < SimDuration::from_millis(1000) || w.tick > SimDuration::from_millis(3_600_000) {
            self.err("workload.tick", "between 1s and 1h");
        }
        MailConfig {
            messages_per_user_per_day: w.messages_per_user_per_day,
            sent_per_user_per_day: sent,
            tick: w.tick,
            office_hours: w.profile == ProfileSpec::OfficeHours,
            edge_active_active: s.topology.transport.edge == EdgeSpec::ActiveActive,
            quiet_stretches: w.quiet_stretches,
            horizon: Some(SimTime::ZERO.saturating_add(s.run.horizon)),
        }
    }
}

/// Rule `world.split_brain_sent`: users send this share of what they receive, unless the
/// file says (an assumption: industry surveys put business users at roughly 35 sent for
/// 90 received a day; no figure in exchange-facts.md).
pub(super) const SENT_SHARE: f64 = 0.4;

/// One cohort per database and client kind with users: each database's mailboxes split
/// by the kinds' shares (largest remainder, so they add up exactly).
pub(super) fn cohorts(s: &ScenarioSpec, dbs: &[DbConfig]) -> Vec<CohortConfig> {
    let shares: Vec<u64> = s
        .clients
        .iter()
        .map(|c| (c.share.max(0.0) * 1e9).round() as u64)
        .collect();
    let mut cohorts = Vec::new();
    for (i, db) in dbs.iter().enumerate() {
        for (c, users) in s
            .clients
            .iter()
            .zip(apportion(db.params.mailboxes, &shares))
        {
            if users == 0 {
                continue;
            }
            let kind = match c.kind {
                ClientKindSpec::Outlook => ClientKind::Outlook {
                    autodiscover: c.autodiscover,
                    cached_mode: c.cached_mode,
                },
                ClientKindSpec::Web => ClientKind::Web,
                ClientKindSpec::Mobile => ClientKind::Mobile,
            };
            cohorts.push(CohortConfig {
                home: HomeId::from(i),
                kind,
                users,
            });
        }
    }
    cohorts
}

/// The refusal of client shares that do not add up to 1: the sum to six decimals (or in
/// scientific notation when huge), and the fix.
pub(crate) fn shares_sum_message(total: f64) -> String {
    let sum = if total.is_finite() && total.abs() < 1e6 {
        let fixed = format!("{total:.6}");
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{total:.3e}")
    };
    format!("shares add up to {sum}, not 1: make the clients' shares sum to 1")
}

#[cfg(test)]
mod tests {
    use super::shares_sum_message;

    #[test]
    fn a_wrong_sum_of_shares_is_printed_readably() {
        assert_eq!(
            shares_sum_message(0.1 + 0.2 + 0.3),
            "shares add up to 0.6, not 1: make the clients' shares sum to 1"
        );
        assert!(shares_sum_message(1.25).starts_with("shares add up to 1.25,"));
        // A huge share is not printed as 300 digits.
        let huge = shares_sum_message(1e300);
        assert!(huge.starts_with("shares add up to 1.000e300,"), "{huge}");
        assert!(huge.len() < 80, "{huge}");
    }
}
