//! The DAG and cluster cmdlets: Stop-, Restore- and Start-DatabaseAvailabilityGroup, the
//! witness, forced quorum, eviction, forced cleanup and the cluster service.

use dialtone_engine::SimTime;

use super::{ActionError, FollowUp, Outcome};
use crate::causes::Cause;
use crate::ids::{ServerId, SiteId};
use crate::quorum::Presence;
use crate::world::components::Component;
use crate::world::{ServiceKind, World};

impl World {
    /// Stop-DatabaseAvailabilityGroup for `servers`, run from `from_site`; with
    /// `configuration_only` it writes to AD only and touches no server.
    pub(super) fn stop_dag(
        &mut self,
        servers: &[ServerId],
        from_site: SiteId,
        configuration_only: bool,
        now: SimTime,
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
                    self.clussvc(s, false, now);
                }
            }
        }
        self.reconsider_bits(now);
        Ok(FollowUp::Heartbeat)
    }

    /// Restore-DatabaseAvailabilityGroup for the members in `site`: evicts the members
    /// outside it (once they are marked stopped) and those inside it that the site's AD
    /// lists as stopped (rule `dac.restore_started_only`), and moves to the alternate
    /// witness when the survivors need one, provided the shrunk cluster has quorum.
    pub(super) fn restore_dag(&mut self, site: SiteId, now: SimTime) -> Outcome {
        if !self.config.dag.dac_mode {
            return Err(ActionError::NeedsDacMode(
                "Restore-DatabaseAvailabilityGroup",
            ));
        }
        let members = self.config.dag.members.clone();
        let (inside, outside) = self.restore_split(site)?;
        let survivors = inside
            .iter()
            .filter(|&&m| self.cluster.is_member(m))
            .count();
        if survivors == 0 {
            return Err(ActionError::CannotShrinkQuorum);
        }
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
            self.clussvc(members[m], true, now);
        }
        self.dac.restore(&inside, now);
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// The members Restore-DAG in `site` keeps (started, in the site) and evicts (the
    /// rest), or `NotStopped` if a member outside the site is not marked stopped there.
    fn restore_split(&self, site: SiteId) -> Result<(Vec<usize>, Vec<usize>), ActionError> {
        let members = &self.config.dag.members;
        let (inside, mut outside): (Vec<usize>, Vec<usize>) =
            (0..members.len()).partition(|&m| self.site_of(members[m]) == site);
        if outside
            .iter()
            .any(|&m| !self.dac.stopped_in(site.index(), m))
        {
            return Err(ActionError::NotStopped);
        }
        // Rule `dac.restore_started_only`: Restore-DAG restores the started members of
        // the site and evicts every stopped one, its own site's included.
        let (inside, stopped_inside): (Vec<usize>, Vec<usize>) = inside
            .into_iter()
            .partition(|&m| !self.dac.stopped_in(site.index(), m));
        outside.extend(stopped_inside);
        Ok((inside, outside))
    }

    /// Start-DatabaseAvailabilityGroup for `servers`, run from `from_site`.
    pub(super) fn start_dag(
        &mut self,
        servers: &[ServerId],
        from_site: SiteId,
        now: SimTime,
    ) -> Outcome {
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
            self.clussvc(s, true, now);
        }
        self.reconsider_bits(now);
        Ok(FollowUp::Heartbeat)
    }

    /// Add-DatabaseAvailabilityGroupServer (rule `cluster.add_server`): an evicted
    /// member that is up and reaches the running cluster rejoins with a fresh
    /// configuration and its cluster service started.
    pub(super) fn add_dag_server(&mut self, server: ServerId, now: SimTime) -> Outcome {
        let m = self.member_of(server)?;
        let q = self.quorum().ok_or(ActionError::NoQuorum)?;
        if !self.server_up(server) || self.partition_of(server) != Some(q) {
            return Err(ActionError::Unreachable(server.0));
        }
        self.cluster.add_back(m);
        self.clussvc(server, true, now);
        self.evaluate_quorum();
        Ok(FollowUp::Heartbeat)
    }

    /// `cluster /quorum /nodemajority` (rule `cluster.node_majority`): no witness vote.
    pub(super) fn node_majority(&mut self) -> Outcome {
        self.witness = None;
        self.cluster.set_witness_configured(false);
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
    pub(super) fn force_quorum(&mut self, server: ServerId, now: SimTime) -> Outcome {
        let m = self.member_of(server)?;
        if !self.cluster.is_member(m) {
            return Err(ActionError::Evicted(server.0));
        }
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        if !self.admin_can_start(Component::Service(server, ServiceKind::Cluster)) {
            return Err(ActionError::ServiceFailed(server.0));
        }
        self.clussvc(server, true, now);
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
    pub(super) fn force_cleanup(&mut self, server: ServerId, now: SimTime) -> Outcome {
        let m = self.member_of(server)?;
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        self.cluster.cleanup(m);
        self.clussvc(server, false, now);
        self.evaluate_quorum();
        Ok(FollowUp::Nothing)
    }

    /// `net stop clussvc` (`running = false`) or `net start clussvc`.
    pub(super) fn cluster_service(
        &mut self,
        server: ServerId,
        running: bool,
        now: SimTime,
    ) -> Outcome {
        self.member_of(server)?;
        self.clussvc(server, running, now);
        Ok(FollowUp::Heartbeat)
    }

    /// The administrators stop (`running = false`) or start the cluster service on
    /// `server`: their own cause of it being stopped (rule `causes.stack`); starting it
    /// ends no failure of the service still in progress.
    fn clussvc(&mut self, server: ServerId, running: bool, now: SimTime) {
        let c = Component::Service(server, ServiceKind::Cluster);
        self.set_cause(c, Cause::Admin, !running, now);
    }

    /// Sites reachable from `from` (where an AD write made there replicates).
    fn reachable_sites(&self, from: SiteId) -> Vec<usize> {
        (0..self.net.sites())
            .filter(|&s| self.net.reachable(from, SiteId::from(s)))
            .collect()
    }
}
