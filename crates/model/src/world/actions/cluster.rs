//! The DAG and cluster cmdlets: Stop-, Restore- and Start-DatabaseAvailabilityGroup, the
//! witness, forced quorum, eviction, forced cleanup and the cluster service.

use dialtone_engine::SimTime;

use super::{ActionError, FollowUp, Outcome};
use crate::ids::{ServerId, SiteId};
use crate::quorum::Presence;
use crate::world::World;

impl World {
    /// Stop-DatabaseAvailabilityGroup for `servers`, run from `from_site`; with
    /// `configuration_only` it writes to AD only and touches no server.
    pub(super) fn stop_dag(
        &mut self,
        servers: &[ServerId],
        from_site: SiteId,
        configuration_only: bool,
    ) -> Outcome {
        if !self.config.dag.dac_mode {
            return Err(ActionError::NeedsDacMode("Stop-DatabaseAvailabilityGroup"));
        }
        let members = servers
            .iter()
            .map(|&s| self.member_of(s))
            .collect::<Result<Vec<_>, _>>()?;
        let sites = self.reachable_sites(from_site);
        self.dac.mark(&members, true, &sites);
        if !configuration_only {
            for &s in servers {
                if self.server_up(s) && self.net.reachable(from_site, self.site_of(s)) {
                    self.servers[s.index()].services.cluster = false;
                }
            }
        }
        Ok(FollowUp::Heartbeat)
    }

    /// Restore-DatabaseAvailabilityGroup for the members in `site`: evicts the members
    /// outside it (once they are marked stopped) and moves to the alternate witness when
    /// the survivors need one, provided the shrunk cluster has quorum.
    pub(super) fn restore_dag(&mut self, site: SiteId, now: SimTime) -> Outcome {
        if !self.config.dag.dac_mode {
            return Err(ActionError::NeedsDacMode(
                "Restore-DatabaseAvailabilityGroup",
            ));
        }
        let members = self.config.dag.members.clone();
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..members.len()).partition(|&m| self.site_of(members[m]) == site);
        if outside
            .iter()
            .any(|&m| !self.dac.stopped_in(site.index(), m))
        {
            return Err(ActionError::NotStopped);
        }
        let survivors = inside
            .iter()
            .filter(|&&m| self.cluster.is_member(m))
            .count();
        let use_alternate = survivors.is_multiple_of(2) || survivors == 1;
        let witness = if use_alternate {
            Some(
                self.config
                    .dag
                    .alternate_witness
                    .ok_or(ActionError::NoAlternateWitness)?,
            )
        } else {
            self.witness
        };
        // Check that the shrunk cluster has quorum before changing anything.
        let mut trial = self.cluster.clone();
        for &m in &outside {
            trial.evict(m);
        }
        trial.set_witness_configured(witness.is_some() && use_alternate || self.witness.is_some());
        let (parts, _) = self.presence(None);
        let parts: Vec<Option<u32>> = parts
            .iter()
            .enumerate()
            .map(|(m, p)| {
                if inside.contains(&m) && self.server_up(members[m]) {
                    Some(self.net.component(site).unwrap_or(u32::MAX))
                } else {
                    *p
                }
            })
            .collect();
        let wp = witness.and_then(|w| self.partition_of(w));
        if trial
            .evaluate(&Presence {
                member_partition: &parts,
                witness_partition: wp,
            })
            .quorum
            .is_none()
        {
            return Err(ActionError::CannotShrinkQuorum);
        }
        for &m in &outside {
            self.cluster.evict(m);
        }
        self.witness = witness;
        self.cluster.set_witness_configured(witness.is_some());
        for &m in &inside {
            self.servers[members[m].index()].services.cluster = true;
        }
        self.dac.restore(&inside, now);
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// Start-DatabaseAvailabilityGroup for `servers`, run from `from_site`.
    pub(super) fn start_dag(&mut self, servers: &[ServerId], from_site: SiteId) -> Outcome {
        if !self.config.dag.dac_mode {
            return Err(ActionError::NeedsDacMode("Start-DatabaseAvailabilityGroup"));
        }
        let mut members = Vec::new();
        for &s in servers {
            let m = self.member_of(s)?;
            if !self.server_up(s) || !self.net.reachable(from_site, self.site_of(s)) {
                return Err(ActionError::Unreachable(s.0));
            }
            members.push(m);
        }
        let sites = self.reachable_sites(from_site);
        self.dac.mark(&members, false, &sites);
        for (&s, &m) in servers.iter().zip(&members) {
            self.cluster.add_back(m);
            self.servers[s.index()].services.cluster = true;
        }
        Ok(FollowUp::Heartbeat)
    }

    /// Set-DatabaseAvailabilityGroup -WitnessServer.
    pub(super) fn set_witness(&mut self, server: ServerId) -> Outcome {
        if self.member[server.index()].is_some() {
            return Err(ActionError::WitnessIsMember);
        }
        self.witness = Some(server);
        self.cluster.set_witness_configured(true);
        Ok(FollowUp::Heartbeat)
    }

    /// `net start clussvc /forcequorum` on a member.
    pub(super) fn force_quorum(&mut self, server: ServerId) -> Outcome {
        let m = self.member_of(server)?;
        if !self.cluster.is_member(m) {
            return Err(ActionError::Evicted(server.0));
        }
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        self.servers[server.index()].services.cluster = true;
        let (parts, wp) = self.presence(self.witness);
        self.cluster.force_quorum(
            m,
            &Presence {
                member_partition: &parts,
                witness_partition: wp,
            },
        );
        // Quorum and rogue partitions are always derived together.
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// Evicts a node from the cluster (Failover Cluster Manager).
    pub(super) fn evict_node(&mut self, server: ServerId) -> Outcome {
        let m = self.member_of(server)?;
        if self.quorum().is_none() {
            return Err(ActionError::NoQuorum);
        }
        self.cluster.evict(m);
        // Evicting a node the cluster can reach also cleans its configuration.
        if self.partition_of(server).is_some() && self.partition_of(server) == self.quorum() {
            self.cluster.cleanup(m);
        }
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// `cluster node /forcecleanup` on a member.
    pub(super) fn force_cleanup(&mut self, server: ServerId) -> Outcome {
        let m = self.member_of(server)?;
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        self.cluster.cleanup(m);
        self.servers[server.index()].services.cluster = false;
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// `net stop clussvc` (`running = false`) or `net start clussvc`.
    pub(super) fn cluster_service(&mut self, server: ServerId, running: bool) -> Outcome {
        self.member_of(server)?;
        self.servers[server.index()].services.cluster = running;
        Ok(FollowUp::Heartbeat)
    }

    /// Sites reachable from `from` (where an AD write made there replicates).
    fn reachable_sites(&self, from: SiteId) -> Vec<usize> {
        (0..self.net.sites())
            .filter(|&s| self.net.reachable(from, SiteId::from(s)))
            .collect()
    }
}
