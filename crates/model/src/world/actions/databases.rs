//! Database cmdlets: Mount- and Dismount-Database, Move-ActiveMailboxDatabase, the
//! activation policy, reseeding and removing copies.

use dialtone_engine::SimTime;

use super::{ActionError, DbRef, FollowUp, Outcome};
use crate::database::{CopyHealth, DbState};
use crate::ids::{DatabaseId, HomeId, ServerId};
use crate::seeding::SeedKey;
use crate::world::Event;
use crate::world::World;
use crate::world::components::Component;

impl World {
    /// Mount-Database.
    pub(super) fn mount(&mut self, home: HomeId, db: DbRef) -> Outcome {
        let d = self.db_ref(home, db)?;
        let dbx = &self.dbs[d];
        let s = dbx.copies[dbx.active].config.server;
        if matches!(dbx.state, DbState::Failed(_)) {
            return Err(ActionError::CannotMount("the database has failed"));
        }
        if matches!(dbx.state, DbState::Replaying(_)) {
            // Already being mounted: it mounts when its replay ends (like the cmdlet
            // waiting for the mount), so a playbook's mount after a move is not refused.
            return Ok(FollowUp::Nothing);
        }
        if db == DbRef::Original && self.restoring_in_place.get(home.index()).copied() == Some(true)
        {
            return Err(ActionError::CannotMount("its restore has not finished"));
        }
        if !self.server_up(s) {
            return Err(ActionError::Unreachable(s.0));
        }
        if !self.may_mount_on(s) {
            return Err(ActionError::CannotMount(
                "no quorum, or DAC has no automount consensus",
            ));
        }
        self.dbs[d].state = DbState::Mounted;
        Ok(FollowUp::Nothing)
    }

    /// Dismount-Database.
    pub(super) fn dismount(&mut self, home: HomeId, db: DbRef) -> Outcome {
        let d = self.db_ref(home, db)?;
        if self.dbs[d].state == DbState::Mounted {
            self.dbs[d].state = DbState::Dismounted;
        }
        Ok(FollowUp::Nothing)
    }

    /// Move-ActiveMailboxDatabase of group `home`'s original database to the copy on
    /// `to`; `skip_checks` accepts data loss beyond the mount dial.
    pub(super) fn move_active(
        &mut self,
        home: HomeId,
        to: ServerId,
        skip_checks: bool,
        now: SimTime,
    ) -> Outcome {
        let (d, copy) = self.copy_of(home, to)?;
        // The plainest reason first: a target that is down is down (architect review).
        if !self.server_up(to) {
            return Err(ActionError::Unreachable(to.0));
        }
        if !self.may_mount_on(to) {
            return Err(ActionError::CannotMount(
                "target has no quorum or DAC consensus",
            ));
        }
        let c = &self.dbs[d].copies[copy];
        if copy != self.dbs[d].active && c.health != CopyHealth::Healthy {
            return Err(ActionError::CannotMount("target copy is not healthy"));
        }
        if self.dbs[d].copy_corrupt(copy) {
            return Err(ActionError::CannotMount("target copy is corrupt"));
        }
        let old = self.dbs[d].copies[self.dbs[d].active].config.server;
        let reach = self.servers_reach(old, to);
        let behind = self.dbs[d].copy_queue(copy);
        let queue = if reach { 0 } else { behind };
        if !skip_checks && queue > self.config.dag.mount_dial.max_lost_logs() {
            return Err(ActionError::BeyondDial(queue));
        }
        let lost = if copy == self.dbs[d].active {
            self.dbs[d].state = DbState::Mounted;
            0
        } else {
            // ACLL pulls the last logs from the reachable old active (rule `am.acll`).
            let pulled = if reach { self.dbs[d].acll(copy) } else { 0 };
            self.dbs[d].activate(copy, now, pulled)
        };
        if lost > 0 {
            self.transport
                .lossy_mount(now, DatabaseId::from(home.index()), lost);
        }
        Ok(match self.dbs[d].state {
            DbState::Replaying(at) => FollowUp::At(at, Event::ActivationDone(DatabaseId::from(d))),
            _ => FollowUp::Nothing,
        })
    }

    /// Set-MailboxServer -DatabaseCopyAutoActivationPolicy Blocked / Unrestricted.
    pub(super) fn block_activation(&mut self, server: ServerId, blocked: bool) -> Outcome {
        for db in &mut self.dbs {
            for c in &mut db.copies {
                if c.config.server == server {
                    c.activation_blocked = blocked;
                }
            }
        }
        Ok(FollowUp::Nothing)
    }

    /// Update-MailboxDatabaseCopy (reseed) of group `home`'s copy on `server`.
    pub(super) fn reseed(&mut self, home: HomeId, server: ServerId, now: SimTime) -> Outcome {
        let (d, copy) = self.copy_of(home, server)?;
        if copy == self.dbs[d].active || self.dbs[d].copies[copy].health == CopyHealth::Healthy {
            return Ok(FollowUp::Nothing); // nothing to reseed: it resynchronises by itself
        }
        if !self.component_up(Component::Disk(DatabaseId::from(d), copy)) {
            return Err(ActionError::DiskDown);
        }
        let active = self.dbs[d].copies[self.dbs[d].active].config.server;
        if self.dbs[d].state != DbState::Mounted || !self.servers_reach(active, server) {
            return Err(ActionError::CannotReseed);
        }
        let bytes = self.dbs[d].params.size_mb.saturating_mul(1 << 20);
        let key = SeedKey {
            db: DatabaseId::from(d),
            copy,
        };
        self.seeds.start(now, key, active, bytes);
        self.write_seed_times();
        Ok(FollowUp::Nothing)
    }

    /// Rule `db.seed_source`: forgets the seeds that finished or were abandoned (their
    /// copy failed, was removed or activated) and, if one was abandoned, retimes the
    /// others from its source.
    pub(in crate::world) fn settle_seeds(&mut self, now: SimTime) {
        if self.seeds.is_empty() {
            return;
        }
        let dbs = &self.dbs;
        let seeding = |k: SeedKey, done: SimTime| {
            let db = &dbs[k.db.index()];
            k.copy != db.active && db.copies[k.copy].health == CopyHealth::Seeding(done)
        };
        if self.seeds.settle(now, seeding) {
            self.write_seed_times();
        }
    }

    /// Every seeding copy's finish time as the seeds now share their sources.
    fn write_seed_times(&mut self) {
        for (k, done) in self.seeds.running() {
            self.dbs[k.db.index()].reseed(k.copy, done);
        }
    }

    /// Remove-MailboxDatabaseCopy: lets logs truncate; the copy needs a reseed later.
    pub(super) fn remove_copy(&mut self, home: HomeId, server: ServerId) -> Outcome {
        let (d, copy) = self.copy_of(home, server)?;
        if copy != self.dbs[d].active {
            self.dbs[d].copies[copy].health = CopyHealth::FailedAndSuspended;
        }
        Ok(FollowUp::Nothing)
    }

    /// Group `home`'s original database and the index of its copy on `server`.
    fn copy_of(&self, home: HomeId, server: ServerId) -> Result<(usize, usize), ActionError> {
        let d = self.db_ref(home, DbRef::Original)?;
        let copy = self.dbs[d]
            .copy_on(server)
            .ok_or(ActionError::NoCopy(server.0))?;
        Ok((d, copy))
    }
}
