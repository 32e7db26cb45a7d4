//! Mailbox and witness servers: state, services, capacity.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `server.state`: a server is *down* when it or its site has no power; otherwise it is
//!   *evicted* if removed from the DAG's cluster, else *stopped* if Stop-DAG marked it,
//!   else *up*.
//! - `server.services`: cluster, client access, transport and unified messaging run
//!   independently on an up server (a partial datacenter failure stops some of them).
//! - `server.capacity`: a server with capacity C serving A > C active mailboxes serves
//!   only C of them; the A − C others cannot connect, apportioned over cohorts by largest
//!   remainder so the counts stay exact. This is dialtone's own rule (Microsoft publishes
//!   no degradation curve); it makes an overloaded dial tone server visible.

use crate::ids::SiteId;

/// The services a mailbox server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Services {
    /// The cluster service (a DAG member's vote and heartbeat).
    pub cluster: bool,
    /// Client access (Outlook, web, mobile, Autodiscover endpoints).
    pub client_access: bool,
    /// Mail transport (receives and delivers mail).
    pub transport: bool,
    /// Unified messaging.
    pub unified_messaging: bool,
}

impl Services {
    /// All services running.
    pub const ALL: Services = Services {
        cluster: true,
        client_access: true,
        transport: true,
        unified_messaging: true,
    };
}

/// What `server.state` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Powered, in the DAG, not stopped.
    Up,
    /// No power (its own or its site's).
    Down,
    /// Marked stopped by Stop-DatabaseAvailabilityGroup.
    Stopped,
    /// Evicted from the DAG's cluster.
    Evicted,
}

/// A server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The site it stands in.
    pub site: SiteId,
    /// Active mailboxes it serves before service degrades; `None` for no limit.
    pub capacity_mailboxes: Option<u64>,
    /// Database schema version: databases move only between equal versions.
    pub schema_version: u32,
    /// Whether the machine itself has power and runs.
    pub powered: bool,
    /// Which services run.
    pub services: Services,
}

impl Server {
    /// Rule `server.state`.
    pub fn state(&self, site_up: bool, stopped: bool, evicted: bool) -> ServerState {
        if !self.powered || !site_up {
            ServerState::Down
        } else if evicted {
            ServerState::Evicted
        } else if stopped {
            ServerState::Stopped
        } else {
            ServerState::Up
        }
    }
}

/// Rule `server.capacity`: of `active` mailboxes on a server of capacity `capacity`, how
/// many are served.
pub fn served(active: u64, capacity: Option<u64>) -> u64 {
    capacity.map_or(active, |c| active.min(c))
}

/// Splits `total` among parts proportionally to `weights`, exactly (largest remainder,
/// ties to the lower index). Used to spread unserved users over cohorts.
pub fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let total = u128::from(total);
    let mut out: Vec<u64> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut given: u128 = 0;
    for (i, &w) in weights.iter().enumerate() {
        let exact = total * u128::from(w);
        let q = exact / sum;
        out.push(q as u64);
        given += q;
        rems.push((exact % sum, i));
    }
    // Highest remainder first; equal remainders in index order.
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rems.iter().take((total - given) as usize) {
        out[i] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server() -> Server {
        Server {
            site: SiteId(0),
            capacity_mailboxes: Some(6000),
            schema_version: 1,
            powered: true,
            services: Services::ALL,
        }
    }

    #[test]
    fn state_precedence() {
        let s = server();
        assert_eq!(s.state(true, false, false), ServerState::Up);
        assert_eq!(
            s.state(false, true, true),
            ServerState::Down,
            "no power beats all"
        );
        assert_eq!(s.state(true, true, true), ServerState::Evicted);
        assert_eq!(s.state(true, true, false), ServerState::Stopped);
        let off = Server {
            powered: false,
            ..server()
        };
        assert_eq!(off.state(true, false, false), ServerState::Down);
    }

    #[test]
    fn capacity_caps_served_mailboxes() {
        assert_eq!(served(5000, Some(6000)), 5000);
        assert_eq!(served(8000, Some(6000)), 6000);
        assert_eq!(served(8000, None), 8000);
        assert_eq!(apportion(2000, &[5000, 2500, 500]), vec![1250, 625, 125]);
        assert_eq!(apportion(1, &[1, 1]), vec![1, 0], "ties to the lower index");
        assert_eq!(apportion(5, &[0, 0]), vec![0, 0]);
    }

    proptest! {
        #[test]
        fn apportion_is_exact_and_proportional(total in 0u64..1_000_000, w in prop::collection::vec(0u64..100_000, 1..12)) {
            let sum: u64 = w.iter().sum();
            let out = apportion(total, &w);
            if sum > 0 {
                prop_assert_eq!(out.iter().sum::<u64>(), total);
                for (o, wi) in out.iter().zip(&w) {
                    let exact = total as f64 * *wi as f64 / sum as f64;
                    prop_assert!((*o as f64 - exact).abs() < 1.0 + 1e-9);
                }
            }
        }
    }
}
