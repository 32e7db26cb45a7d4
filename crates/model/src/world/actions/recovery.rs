//! Recovery actions: dial tone databases, moving mailboxes, restores from backup (into a
//! recovery database or in place), the swap and the merge, with the follow-ups the world
//! times itself (scheduled backups, restore completion, merge progress).

use dialtone_engine::{Ctx, SimDuration, SimTime, TraceSink};

use super::{ActionError, DbRef, FollowUp, Outcome};
use crate::database::{CopyConfig, Database, DbKind, DbParams, DbState, check_schema};
use crate::ids::{DatabaseId, HomeId, ServerId};
use crate::world::components::Component;
use crate::world::{Event, World};

/// How often a running merge reports progress.
const MERGE_TICK: SimDuration = SimDuration::from_millis(300_000);

impl World {
    /// New-MailboxDatabase: an empty dial tone database for group `home` on `server`
    /// (dismounted until mounted).
    pub(super) fn create_dial_tone(&mut self, home: HomeId, server: ServerId) -> Outcome {
        let orig = self.db_ref(home, DbRef::Original)?;
        check_schema(
            self.dbs[orig].params.schema_version,
            self.servers[server.index()].schema_version,
        )?;
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        let db = self.new_db(home, server, DbKind::DialTone, 0);
        let id = self.push_db(db);
        if self.dial_tone.len() <= home.index() {
            self.dial_tone.resize(home.index() + 1, None);
        }
        self.dial_tone[home.index()] = Some(id);
        Ok(FollowUp::Nothing)
    }

    /// Set-Mailbox -Database for every mailbox of group `home` (configuration only).
    pub(super) fn move_mailboxes(&mut self, home: HomeId, to: DbRef) -> Outcome {
        let d = self.db_ref(home, to)?;
        let h = home.index();
        let orig = self.homes[h].original.index();
        let target_server = self.dbs[d].copies[self.dbs[d].active].config.server;
        check_schema(
            self.dbs[orig].params.schema_version,
            self.servers[target_server.index()].schema_version,
        )?;
        let old_server = self.dbs[self.homes[h].current.index()].copies[0]
            .config
            .server;
        let from = self.homes[h].current.index();
        if self.dbs[from].kind == DbKind::DialTone && self.dbs[d].kind != DbKind::DialTone {
            // Moving back: the dial tone database now holds the mail to merge.
            self.dbs[from].state = DbState::Mounted;
            self.dbs[from].kind = DbKind::Recovery;
            self.homes[h].recovery = Some(DatabaseId::from(from));
            self.homes[h].recovery_holds_dial_tone = true;
        }
        self.homes[h].current = DatabaseId::from(d);
        self.homes[h].history_ready = if self.dbs[d].kind == DbKind::DialTone {
            0
        } else if self.db_has_history(d) {
            self.homes[h].users
        } else {
            0
        };
        if old_server != target_server {
            for b in 0..self.buckets.len() {
                let c = self.cohorts[self.buckets[b].cohort.index()];
                if c.home == home && c.kind.follows_moves() {
                    self.buckets[b].knows_location = false;
                    self.bucket_quiet.unquiet(b);
                }
            }
        }
        Ok(FollowUp::Nothing)
    }

    /// Restores group `home`'s last backup into a recovery database on `server` and rolls
    /// forward the surviving logs; the database mounts when the restore finishes.
    pub(super) fn restore_backup(
        &mut self,
        home: HomeId,
        server: ServerId,
        now: SimTime,
    ) -> Outcome {
        let orig = self.db_ref(home, DbRef::Original)?;
        self.check_backup(orig)?;
        self.check_restore_target(server)?;
        check_schema(
            self.dbs[orig].params.schema_version,
            self.servers[server.index()].schema_version,
        )?;
        let (head, kept) = self.dbs[orig].restorable();
        let lost = self.dbs[orig].messages - kept;
        let logs = head.saturating_sub(self.dbs[orig].backed_up);
        let size = self.dbs[orig].params.size_mb;
        let mut rdb = self.new_db(home, server, DbKind::Recovery, size);
        rdb.messages = kept;
        let id = self.push_db(rdb);
        self.restored.resize(self.dbs.len(), false);
        self.restored[id] = true;
        self.homes[home.index()].recovery = Some(DatabaseId::from(id));
        self.homes[home.index()].recovery_holds_dial_tone = false;
        Ok(self.restore_running(home, id, lost, logs, now))
    }

    /// Restores group `home`'s original database in place from its last backup (on its own
    /// server) and rolls forward the surviving logs; it is ready to mount when the restore
    /// finishes.
    pub(super) fn restore_in_place(&mut self, home: HomeId, now: SimTime) -> Outcome {
        let orig = self.db_ref(home, DbRef::Original)?;
        self.check_backup(orig)?;
        let (head, kept) = self.dbs[orig].restorable();
        let copy = self.restore_in_place_copy(orig);
        let server = self.dbs[orig].copies[copy].config.server;
        self.check_restore_target(server)?;
        self.dbs[orig].active = copy;
        let lost = self.dbs[orig].messages - kept;
        let logs = head.saturating_sub(self.dbs[orig].backed_up);
        self.dbs[orig].restore_to(head, kept);
        self.restored.resize(self.dbs.len(), false);
        self.restored[orig] = true;
        self.restoring_in_place.resize(self.homes.len(), false);
        self.restoring_in_place[home.index()] = true;
        Ok(self.restore_running(home, orig, lost, logs, now))
    }

    /// Add-ResubmitRequest for group `home`: Safety Net resubmits the messages its
    /// restored database lost, if it still holds them (rules `transport.safety_net`,
    /// `transport.safety_net_place`).
    pub(super) fn resubmit_request(&mut self, home: HomeId, now: SimTime) -> Outcome {
        self.home(home)?;
        self.transport
            .request_resubmit(now, DatabaseId::from(home.index()));
        Ok(FollowUp::Nothing)
    }

    /// Swaps the restored database with the dial tone database (both dismounted for the
    /// swap outage).
    pub(super) fn swap(&mut self, home: HomeId, now: SimTime) -> Outcome {
        let h = home.index();
        let cur = self.home(home)?.current.index();
        let Some(rdb) = self.homes[h].recovery.map(|d| d.index()) else {
            return Err(ActionError::SwapNotReady);
        };
        if self.dbs[cur].kind != DbKind::DialTone
            || self.dbs[rdb].state != DbState::Mounted
            || self.homes[h].recovery_holds_dial_tone
        {
            return Err(ActionError::SwapNotReady);
        }
        // Exchange the files: the dial tone object now holds the restored data and the
        // recovery database the dial tone data.
        let restored_messages = self.dbs[rdb].messages;
        let dial_messages = self.dbs[cur].messages;
        self.dbs[cur].kind = DbKind::Production;
        self.dbs[cur].messages = restored_messages;
        self.dbs[rdb].messages = dial_messages;
        self.restored.resize(self.dbs.len(), false);
        self.restored[cur] = true;
        self.homes[h].recovery_holds_dial_tone = true;
        self.homes[h].history_ready = self.homes[h].users;
        self.homes[h].swapping = true;
        let done = now.saturating_add(self.config.timing.swap_outage);
        Ok(FollowUp::At(done, Event::SwapDone(home)))
    }

    /// New-MailboxRestoreRequest for every mailbox of group `home` (rule `world.merge`):
    /// it takes a per-mailbox overhead (`mailboxes_per_hour`, default the world's) plus
    /// the data merged at the merge throughput: the dial tone mail after a swap or a move
    /// back, the whole restored database otherwise.
    pub(super) fn merge(
        &mut self,
        home: HomeId,
        mailboxes_per_hour: Option<u64>,
        now: SimTime,
    ) -> Outcome {
        let h = home.index();
        let Some(rdb) = self.home(home)?.recovery else {
            return Err(ActionError::MergeNotReady);
        };
        if self.dbs[rdb.index()].state != DbState::Mounted {
            return Err(ActionError::MergeNotReady);
        }
        let rate = mailboxes_per_hour.unwrap_or(self.config.timing.merge_mailboxes_per_hour);
        let total = self.merge_duration(home, rate);
        self.homes[h].merging = true;
        self.homes[h].merged = 0;
        self.merge_plan
            .resize(self.homes.len(), (SimTime::ZERO, SimDuration::ZERO));
        self.merge_plan[h] = (now, total);
        Ok(FollowUp::After(
            MERGE_TICK.min(total),
            Event::MergeTick(home),
        ))
    }

    /// How long merging group `home` takes at `mailboxes_per_hour` of overhead plus its
    /// data at the merge throughput (rule `world.merge`).
    pub(in crate::world) fn merge_duration(
        &self,
        home: HomeId,
        mailboxes_per_hour: u64,
    ) -> SimDuration {
        let h = &self.homes[home.index()];
        let orig = &self.dbs[h.original.index()];
        let bytes = if h.recovery_holds_dial_tone {
            h.dial_tone_messages
                .saturating_mul(orig.params.message_kb)
                .saturating_mul(1 << 10)
        } else {
            h.recovery
                .map_or(0, |r| self.dbs[r.index()].params.size_mb)
                .saturating_mul(1 << 20)
        };
        let overhead_ms = u128::from(h.users) * 3_600_000 / u128::from(mailboxes_per_hour.max(1));
        let data_ms =
            u128::from(bytes) * 1000 / u128::from(self.config.timing.merge_bytes_per_s.max(1));
        let ms = u64::try_from(overhead_ms + data_ms)
            .unwrap_or(u64::MAX)
            .max(1);
        SimDuration::from_millis(ms)
    }

    /// A merge of group `h` progresses by one tick: the share of its planned duration
    /// that has passed is the share of its mailboxes merged.
    pub(in crate::world) fn merge_tick<E: From<Event>, S: TraceSink>(
        &mut self,
        h: HomeId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let users = self.homes[h.index()].users;
        let (start, total) = self
            .merge_plan
            .get(h.index())
            .copied()
            .unwrap_or((now, SimDuration::from_millis(1)));
        let elapsed = now.saturating_duration_since(start).as_millis();
        let total_ms = total.as_millis().max(1);
        let done = u64::try_from(u128::from(users) * u128::from(elapsed) / u128::from(total_ms))
            .unwrap_or(u64::MAX);
        let home = &mut self.homes[h.index()];
        home.merged = done.min(users);
        if !home.recovery_holds_dial_tone {
            home.history_ready = home.history_ready.max(home.merged);
        }
        if elapsed >= total_ms {
            home.merged = users;
            home.merging = false;
            if !home.recovery_holds_dial_tone {
                home.history_ready = users;
            }
            if home.recovery_holds_dial_tone {
                home.dial_tone_messages = 0;
            } else {
                // History merged into the dial tone database: it is the production
                // database from now on.
                let cur = home.current.index();
                home.dial_tone_messages = 0;
                if self.dbs[cur].kind == DbKind::DialTone {
                    self.dbs[cur].kind = DbKind::Production;
                }
            }
            ctx.trace("merge", "done");
        } else {
            let left = SimDuration::from_millis(total_ms - elapsed);
            let _ = ctx.schedule_in(MERGE_TICK.min(left), Event::MergeTick(h).into());
        }
        self.refresh(now, ctx);
    }

    /// A scheduled full backup of every mounted production database; the next one is
    /// scheduled.
    pub(in crate::world) fn backup<E: From<Event>, S: TraceSink>(
        &mut self,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        for db in &mut self.dbs {
            if db.kind == DbKind::Production && db.state == DbState::Mounted {
                db.backup();
            }
        }
        if let Some(every) = self.config.timing.backup_every {
            let _ = ctx.schedule_in(every, Event::Backup.into());
        }
    }

    /// A restore into database `rdb` finishes reading (then its replay starts; the other
    /// restores share the backup location from now on) or finishes replaying: a recovery
    /// database mounts; an original database restored in place is ready for
    /// Mount-Database.
    pub(in crate::world) fn restore_done<E: From<Event>, S: TraceSink>(
        &mut self,
        rdb: DatabaseId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if self.restores.is_reading(rdb) {
            self.restore_event = None;
            for (db, replay) in self.restores.take_done(now) {
                ctx.trace("restore", "read");
                let _ = ctx.schedule(now.saturating_add(replay), Event::RestoreDone(db).into());
            }
            self.schedule_restores(ctx);
            return;
        }
        let d = rdb.index();
        if self.dbs[d].kind == DbKind::Recovery {
            self.dbs[d].state = DbState::Mounted;
        } else if let Some(h) = self.homes.iter().position(|h| h.original == rdb) {
            self.restoring_in_place.resize(self.homes.len(), false);
            self.restoring_in_place[h] = false;
        }
        ctx.trace("restore", "done");
        self.refresh(now, ctx);
    }

    /// Messages delivered into a dial tone database and not merged back, for group `h`.
    pub fn left_in_dial_tone(&self, h: HomeId) -> u64 {
        let home = &self.homes[h.index()];
        if home.users == 0 {
            return home.dial_tone_messages;
        }
        let unmerged = if home.merging && home.recovery_holds_dial_tone {
            home.users - home.merged
        } else {
            home.users
        };
        (u128::from(home.dial_tone_messages) * u128::from(unmerged) / u128::from(home.users)) as u64
    }

    /// Adds a database created at run time; returns its index.
    fn push_db(&mut self, db: Database) -> usize {
        self.dbs.push(db);
        self.serving.push(None);
        self.rogue_serving.push(None);
        self.failover_pending.push(None);
        self.no_mount.push(None);
        self.dbs.len() - 1
    }

    /// A new, dismounted database of `kind` for group `home`, with one copy on `server`.
    fn new_db(&self, home: HomeId, server: ServerId, kind: DbKind, size_mb: u64) -> Database {
        let base = self.config.databases[self.homes[home.index()].original.index()].params;
        let params = DbParams { size_mb, ..base };
        let mut db = Database::new(
            params,
            &[CopyConfig {
                server,
                preference: 1,
                replay_lag: SimDuration::ZERO,
            }],
        );
        db.kind = kind;
        db.state = DbState::Dismounted;
        db
    }

    /// Rule `db.restore_in_place_target`: the copy an in-place restore writes: the active
    /// copy, unless its disk or server is gone; then the most preferred copy whose disk
    /// and server are up (a rebuilt server's new disks), as an administrator would pick.
    fn restore_in_place_copy(&self, d: usize) -> usize {
        let db = &self.dbs[d];
        let usable = |i: usize| {
            self.component_up(Component::Disk(DatabaseId::from(d), i))
                && self.server_up(db.copies[i].config.server)
        };
        if usable(db.active) {
            return db.active;
        }
        (0..db.copies.len())
            .filter(|&i| usable(i))
            .min_by_key(|&i| db.copies[i].config.preference)
            .unwrap_or(db.active)
    }

    /// Rule `db.restore_needs_backup`: a restore needs a backup of database `d` taken
    /// before it (a database with no backup has nothing to roll logs forward from).
    fn check_backup(&self, d: usize) -> Result<(), ActionError> {
        if self.dbs[d].backup_taken {
            Ok(())
        } else {
            Err(ActionError::NoBackup)
        }
    }

    /// A restore onto `server` needs it up and the backup site reachable from it.
    fn check_restore_target(&self, server: ServerId) -> Result<(), ActionError> {
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        if let Some(site) = self.config.timing.backup_site
            && !self.net.reachable(site, self.site_of(server))
        {
            return Err(ActionError::BackupUnreachable(site.0));
        }
        Ok(())
    }

    /// A restore into database `target` has started: the messages it cannot recover are
    /// lost unless an administrator asks Safety Net for them (`resubmit_request`, rule
    /// `transport.resubmit_auto`); it reads the database from the backup location, sharing its
    /// throughput with the other restores (rule `restore.rate`), then replays `logs`
    /// logs (rule `restore.replay`). The follow-up reschedules the restores.
    fn restore_running(
        &mut self,
        home: HomeId,
        target: usize,
        lost: u64,
        logs: u64,
        now: SimTime,
    ) -> FollowUp {
        if lost > 0 {
            let orig = self.homes[home.index()].original.index();
            let until = self.dbs[orig].last_written;
            self.transport
                .restore_loss(now, DatabaseId::from(home.index()), lost, until);
        }
        let bytes = self.dbs[target].params.size_mb.saturating_mul(1 << 20);
        self.restores
            .start(now, DatabaseId::from(target), bytes, logs);
        FollowUp::Restores
    }

    /// Schedules the next restore to finish reading (rates changed: the old event is
    /// cancelled).
    pub(in crate::world) fn schedule_restores<E: From<Event>, S: TraceSink>(
        &mut self,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if let Some(id) = self.restore_event.take() {
            ctx.cancel(id);
        }
        if let Some((at, db)) = self.restores.next_done() {
            self.restore_event = ctx.schedule(at, Event::RestoreDone(db).into()).ok();
        }
    }

    /// Whether database `d` holds its mailboxes' pre-failure items.
    fn db_has_history(&self, d: usize) -> bool {
        let db = &self.dbs[d];
        match db.kind {
            DbKind::DialTone => false,
            DbKind::Recovery => true,
            DbKind::Production => {
                self.restored.get(d).copied().unwrap_or(false)
                    || !matches!(db.state, DbState::Failed(_))
            }
        }
    }
}
