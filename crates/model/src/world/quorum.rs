//! The cluster seen from the world: which partition has quorum, rogue partitions of
//! members with a stale configuration, DAC's view as members boot and AD replicates, and
//! whether a member may mount; the heartbeat that re-evaluates quorum (rules `quorum.*`,
//! `dac.*`, `world.heartbeat`, `world.quorum_loss`).

use dialtone_engine::{Ctx, SimTime, TraceSink};

use super::{Event, World};
use crate::dac::StartView;
use crate::ids::{ServerId, SiteId};
use crate::quorum::Presence;

impl World {
    /// Whether member server `s` may mount: in the quorum partition, cluster service up,
    /// DAC gate open. Non-members need only be up.
    pub(super) fn may_mount_on(&self, s: ServerId) -> bool {
        if !self.server_up(s) {
            return false;
        }
        match self.member[s.index()] {
            None => true,
            Some(m) => {
                let srv = &self.servers[s.index()];
                self.cluster.is_member(m)
                    && srv.services.cluster
                    && self.quorum().is_some()
                    && self.partition_of(s) == self.quorum()
                    && self.dac.may_mount(m, srv.site.index(), true)
            }
        }
    }

    /// Rule `am.retry_quorum`: no copy of database `d` can mount until the DAG has
    /// quorum again (every copy is on a member and no partition has quorum, so
    /// [`World::may_mount_on`] refuses them all), and quorum changes only when a heartbeat
    /// or an administrator's action evaluates it or a fault takes its members down or up:
    /// each bumps `am_epoch`, which retries the database at once (rule `am.retry`). A
    /// timer retry before then could not mount, so Active Manager waits for the change.
    pub(super) fn waits_for_quorum(&self, d: usize) -> bool {
        !self.retry_without_quorum
            && self.quorum().is_none()
            && self.dbs[d]
                .copies
                .iter()
                .all(|c| self.member[c.config.server.index()].is_some())
    }

    pub(super) fn presence(&self, witness: Option<ServerId>) -> (Vec<Option<u32>>, Option<u32>) {
        let parts = self
            .config
            .dag
            .members
            .iter()
            .map(|&s| {
                if self.servers[s.index()].services.cluster {
                    self.partition_of(s)
                } else {
                    None
                }
            })
            .collect();
        let w = witness.and_then(|w| self.partition_of(w));
        (parts, w)
    }

    /// Rules `quorum.*`: evaluates the cluster now.
    pub(super) fn evaluate_quorum(&mut self) {
        let (parts, wp) = self.presence(self.witness);
        let out = self.cluster.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: wp,
        });
        // Stale members remember the original witness.
        let (_, old_wp) = self.presence(self.config.dag.witness);
        let stale = self.cluster.clone().evaluate(&Presence {
            member_partition: &parts,
            witness_partition: old_wp,
        });
        let members_in = |label: u32| -> Vec<ServerId> {
            self.config
                .dag
                .members
                .iter()
                .zip(&parts)
                .filter(|(_, p)| **p == Some(label))
                .map(|(&m, _)| m)
                .collect()
        };
        self.quorum_members = out.quorum.map_or(Vec::new(), members_in);
        // A stale member that can reach the running cluster joins it; a rogue cluster
        // exists only apart from it.
        self.rogue_members = stale
            .rogue
            .into_iter()
            .filter(|&r| Some(r) != out.quorum)
            .map(members_in)
            .collect();
    }

    /// The label of the partition with quorum now: that of the first member, still up,
    /// of the partition that had it at the last evaluation.
    pub(super) fn quorum(&self) -> Option<u32> {
        self.quorum_members
            .iter()
            .find_map(|&m| self.partition_of(m))
    }

    /// Labels of rogue partitions now (never the quorum partition's).
    pub(super) fn rogue(&self) -> Vec<u32> {
        let q = self.quorum();
        self.rogue_members
            .iter()
            .filter_map(|ms| ms.iter().find_map(|&m| self.partition_of(m)))
            .filter(|&r| Some(r) != q)
            .collect()
    }

    /// Rules `dac.bit_*`: members that came up since the last refresh start Active
    /// Manager; members that went down lose their bit. Every boot time is recorded before
    /// any member evaluates the rules, so a witness that restarted with a member is seen
    /// as restarted (rule `dac.two_member_witness`).
    pub(super) fn boot_members(&mut self, now: SimTime) {
        let mut changed = Vec::new();
        for s in 0..self.servers.len() {
            let up = self.server_up(ServerId::from(s));
            if up != self.was_up[s] {
                self.was_up[s] = up;
                if up {
                    self.booted_at[s] = now;
                }
                changed.push((s, up));
            }
        }
        for (s, up) in changed {
            let Some(m) = self.member[s] else { continue };
            if up {
                let v = self.start_view(ServerId::from(s), now);
                self.dac.on_start(&v.view());
            } else {
                self.dac.on_down(m);
            }
        }
        // AD replication inside each partition (rule dac.stopped_list).
        let mut by_part: Vec<(u32, usize)> = (0..self.net.sites())
            .filter_map(|s| self.net.component(SiteId::from(s)).map(|c| (c, s)))
            .collect();
        by_part.sort_unstable();
        let mut i = 0;
        while i < by_part.len() {
            let c = by_part[i].0;
            let group: Vec<usize> = by_part[i..]
                .iter()
                .take_while(|(cc, _)| *cc == c)
                .map(|&(_, s)| s)
                .collect();
            i += group.len();
            self.dac.replicate(&group);
        }
    }

    /// What member server `s` sees as its Active Manager asks for the DACP bit.
    fn start_view(&self, s: ServerId, now: SimTime) -> OwnedStartView {
        let reachable = self
            .config
            .dag
            .members
            .iter()
            .map(|&o| self.servers_reach(s, o))
            .collect();
        let witness = self
            .witness
            .filter(|&w| self.servers_reach(s, w))
            .map(|w| self.booted_at[w.index()]);
        OwnedStartView {
            member: self.member[s.index()].unwrap_or(0),
            site: self.site_of(s).index(),
            reachable,
            witness,
            now,
        }
    }

    /// Rule `dac.bit_reconsidered`: after the stopped/started list changed, every running
    /// member whose bit is 0 asks again.
    pub(super) fn reconsider_bits(&mut self, now: SimTime) {
        for &s in &self.config.dag.members.clone() {
            if self.server_up(s) {
                let v = self.start_view(s, now);
                self.dac.reconsider(&v.view());
            }
        }
    }

    pub(super) fn schedule_heartbeat<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if self.heartbeat_pending.is_some_and(|id| ctx.is_pending(id)) {
            return;
        }
        let at = now.saturating_add(self.config.timing.heartbeat_detect);
        self.heartbeat_pending = ctx.schedule(at, Event::Heartbeat.into()).ok();
    }
}

/// A [`StartView`] that owns its reachability list.
struct OwnedStartView {
    member: usize,
    site: usize,
    reachable: Vec<bool>,
    witness: Option<SimTime>,
    now: SimTime,
}

impl OwnedStartView {
    fn view(&self) -> StartView<'_> {
        StartView {
            member: self.member,
            site: self.site,
            reachable: &self.reachable,
            witness: self.witness,
            now: self.now,
        }
    }
}

impl World {
    /// The timeline's record of the cluster's state: which partition has quorum, which
    /// are rogue.
    pub(super) fn trace_quorum<E, S: TraceSink>(&self, ctx: &mut Ctx<'_, E, S>) {
        ctx.trace_with("cluster", "evaluated", || {
            format!("quorum in {:?}, rogue {:?}", self.quorum(), self.rogue())
        });
    }

    /// The cluster's heartbeat timeout: quorum is evaluated.
    pub(super) fn heartbeat<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.heartbeat_pending = None;
        self.evaluate_quorum();
        self.trace_quorum(ctx);
        self.refresh(now, ctx);
    }
}
