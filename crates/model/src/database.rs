//! Mailbox databases, their copies, and continuous replication.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `db.log_generation`: delivering a message writes `message_kb` to the active copy's
//!   transaction log stream; a log closes every 1 MB (1024 KB) and only closed logs ship.
//!   `log_gen` counts closed logs.
//! - `db.copy_queue`: a passive copy that receives logs (the world decides: its server
//!   reaches the active copy's and is a running DAG member, not stopped or evicted) copies
//!   closed logs at `ms_per_log` each (per copy); the copy queue is `log_gen − copied`. A
//!   copy that receives none falls behind and catches up after, in backlog × `ms_per_log`.
//! - `db.replay`: a non-lagged copy replays what it has copied; a lagged copy replays only
//!   logs closed at least `replay_lag` ago. Replay takes `ms_per_replay_log` a log (the
//!   replay rate) and runs while the copy receives logs. The replay queue is
//!   `copied − replayed`.
//! - `db.healthy`: a passive copy is healthy (resynchronised) when its copy queue is under
//!   [`HEALTHY_COPY_QUEUE`] logs and, unless it is lagged, its replay queue under
//!   [`HEALTHY_REPLAY_QUEUE`].
//! - `db.activation_replay`: activating a copy first pulls the logs ACLL copies (at
//!   `ms_per_log` each) and replays what the copy has not replayed (a lagged copy's whole
//!   lag window) at `ms_per_replay_log` each; the database mounts when that is done
//!   ([`DbState::Replaying`]).
//! - `db.logical_corruption`: a corruption written at log `g` (the log being filled)
//!   corrupts the active copy at once. [`Corruption::Shipped`] (logical corruption, the
//!   scenario's `database-corruption`): log `g` closes and ships before the corruption is
//!   detected, so every copy that replays `g` is corrupt too; a lagged copy that has not
//!   replayed `g` survives, with the data before `g`. [`Corruption::Stopping`] (a corrupt
//!   write that stops the database at once): log `g` never closes or ships, so every
//!   passive copy stays clean. A failed-corrupt database's closed logs keep shipping.
//!   Activating a copy below the corruption clamps the truncation point to its head.
//! - `db.truncation`: logs below the smallest point every copy still needs (copied for
//!   lagged copies, replayed for others) and, without circular logging, below the last
//!   backup, are truncated. A copy that is down or suspended therefore blocks truncation;
//!   when the log volume holds more than `log_volume_logs` untruncated logs, the database
//!   dismounts (`LogVolumeFull`) at the write that fills it. A copy that needs a truncated
//!   log must be reseeded.
//! - `db.lost_messages`: mounting a copy that has `copied = g` loses every message not
//!   wholly in logs `1..=g`: `messages − floor(g · 1024 / message_kb)`.
//! - `db.schema`: a database moves only to a server of its schema version.
//! - `db.restore`: a restore from the last backup rolls forward only through logs that
//!   still exist: not truncated after the backup, on a log volume that survives.

use dialtone_engine::{SimDuration, SimTime};

use crate::ids::ServerId;

/// Log file size in KB (1 MB from Exchange 2007 on).
pub const LOG_KB: u64 = 1024;

/// Rule `db.healthy`: a healthy copy's copy queue is under this many logs (exchange-facts
/// §3: Active Manager's criteria and the Data Guarantee API, "copy queue < 10 logs").
pub const HEALTHY_COPY_QUEUE: u64 = 10;

/// Rule `db.healthy`: a healthy non-lagged copy's replay queue is under this many logs
/// (exchange-facts §3: Active Manager's criteria, "replay queue < 50 logs").
pub const HEALTHY_REPLAY_QUEUE: u64 = 50;

/// What kind of database it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// A production database.
    Production,
    /// An empty dial tone database standing in for a failed one.
    DialTone,
    /// A recovery database (RDB / 2003 Recovery Storage Group): no client or mail access.
    Recovery,
}

/// Whether the database serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbState {
    /// Mounted on its active copy's server.
    Mounted,
    /// Not mounted (by an administrator, a lost quorum, or no copy within the dial).
    Dismounted,
    /// Failed: the active copy is damaged or its log volume is full.
    Failed(FailReason),
    /// Just activated: the new active copy is pulling its last logs (ACLL) and replaying
    /// what it has not replayed; it mounts at the given time (rule
    /// `db.activation_replay`).
    Replaying(SimTime),
}

/// Why a database failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// Logical or physical corruption.
    Corrupt,
    /// Untruncated logs filled the log volume.
    LogVolumeFull,
    /// The disk holding it is gone.
    DiskLost,
}

/// Rule `db.logical_corruption`: how a corruption reaches the log stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// Logical corruption: valid transactions with bad content (a faulty client or
    /// store bug, an administrative or automation error). Nothing fails when they are
    /// written, so they are detected only after the log holding them closed and shipped:
    /// every copy that replays it is corrupt; a lagged copy behind it is not.
    Shipped,
    /// A corrupt write that stops the database at once: it stays in the log being
    /// filled, which never closes or ships, so every passive copy stays clean.
    Stopping,
}

/// The health of one copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyHealth {
    /// Copying and replaying normally (possibly behind).
    Healthy,
    /// Suspended by an administrator: neither copies nor counts as a candidate.
    Suspended,
    /// Needs a reseed (its logs were truncated, or it diverged, or its disk was lost).
    FailedAndSuspended,
    /// Being reseeded; healthy again at the given time.
    Seeding(SimTime),
}

/// A copy's fixed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyConfig {
    /// The server holding it.
    pub server: ServerId,
    /// Activation preference, 1 = most preferred.
    pub preference: u32,
    /// Replay lag (zero for a normal copy).
    pub replay_lag: SimDuration,
}

/// One copy of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Configuration.
    pub config: CopyConfig,
    /// Last closed log copied here.
    pub copied: u64,
    /// Last log replayed into the copy's database file.
    pub replayed: u64,
    /// Health.
    pub health: CopyHealth,
    /// `Suspend-MailboxDatabaseCopy -ActivationOnly` or a blocked server policy.
    pub activation_blocked: bool,
    /// Milliseconds of copying done towards the next log.
    carry_ms: u64,
    /// Milliseconds of replay done towards the next log.
    replay_carry_ms: u64,
}

impl Copy {
    /// Whether this is a lagged copy.
    pub fn is_lagged(&self) -> bool {
        !self.config.replay_lag.is_zero()
    }
}

/// Parameters of one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbParams {
    /// Size of the database file in MB (drives restore and reseed times).
    pub size_mb: u64,
    /// Mailboxes in it.
    pub mailboxes: u64,
    /// Average message size written to the log, KB.
    pub message_kb: u64,
    /// Milliseconds to copy one log between sites.
    pub ms_per_log: u64,
    /// Milliseconds to replay one log into a copy's database file (rule `db.replay`).
    pub ms_per_replay_log: u64,
    /// Logs the log volume holds before the database dismounts.
    pub log_volume_logs: u64,
    /// Circular logging (logs truncate without a backup).
    pub circular_logging: bool,
    /// Schema version of the database.
    pub schema_version: u32,
}

/// A database and its copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Parameters.
    pub params: DbParams,
    /// What kind of database.
    pub kind: DbKind,
    /// Whether it serves.
    pub state: DbState,
    /// Copies; `copies[active]` is the active one.
    pub copies: Vec<Copy>,
    /// Index of the active copy.
    pub active: usize,
    /// Closed logs written (the active copy's log generation).
    pub log_gen: u64,
    /// KB written since the start (closed and open logs).
    kb_written: u64,
    /// Messages written since the start (`db.lost_messages` needs it).
    pub messages: u64,
    /// When mail was last written to it: a restore loses the most recent messages
    /// written up to then, not those a later dial tone database received.
    pub last_written: SimTime,
    /// Logs below this are truncated.
    pub truncated_below: u64,
    /// Last log covered by a backup.
    pub backed_up: u64,
    /// Whether a backup was ever taken (rule `db.restore_needs_backup`).
    pub backup_taken: bool,
    /// The log in which a logical corruption was written.
    pub corrupt_from: Option<u64>,
    /// When each closed log was closed, for lagged replay: `(time, log_gen)` pairs,
    /// pruned to the longest lag. Empty when no copy is lagged.
    closed_at: Vec<(SimTime, u64)>,
    /// When replication state was last brought up to date.
    updated: SimTime,
    /// `log_gen` when replication was last brought up to date: logs closed since then
    /// (a mail batch written at this instant) are still shipping.
    advanced_gen: u64,
}

/// Rule `db.schema`: why a database cannot move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("database schema version {database} cannot move to a server with schema version {server}")]
pub struct SchemaMismatch {
    /// The database's version.
    pub database: u32,
    /// The target server's version.
    pub server: u32,
}

/// Rule `db.schema`.
pub fn check_schema(database: u32, server: u32) -> Result<(), SchemaMismatch> {
    if database == server {
        Ok(())
    } else {
        Err(SchemaMismatch { database, server })
    }
}

impl Database {
    /// A mounted production database with its copies, active on `copies[0]`, nothing
    /// written yet.
    pub fn new(params: DbParams, copies: &[CopyConfig]) -> Self {
        Database {
            params,
            kind: DbKind::Production,
            state: DbState::Mounted,
            copies: copies
                .iter()
                .map(|&config| Copy {
                    config,
                    copied: 0,
                    replayed: 0,
                    health: CopyHealth::Healthy,
                    activation_blocked: false,
                    carry_ms: 0,
                    replay_carry_ms: 0,
                })
                .collect(),
            active: 0,
            log_gen: 0,
            kb_written: 0,
            messages: 0,
            last_written: SimTime::ZERO,
            truncated_below: 0,
            backed_up: 0,
            backup_taken: false,
            corrupt_from: None,
            closed_at: Vec::new(),
            updated: SimTime::ZERO,
            advanced_gen: 0,
        }
    }

    /// The index of this database's copy on `server`, if it has one there.
    pub fn copy_on(&self, server: ServerId) -> Option<usize> {
        self.copies.iter().position(|c| c.config.server == server)
    }

    fn max_lag(&self) -> SimDuration {
        self.copies
            .iter()
            .map(|c| c.config.replay_lag)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// Rule `db.log_generation`: `count` messages are delivered at `now`. Call
    /// [`Database::advance`] first. Returns logs closed.
    pub fn write(&mut self, now: SimTime, count: u64) -> u64 {
        let closed = self.append(now, count);
        self.check_log_volume();
        closed
    }

    /// Rule `world.quiet_stretches`: `count` messages delivered at `now` whose logs every
    /// passive copy that is healthy and receives logs (`connected(i)`) has already copied
    /// and replayed, as the tick-by-tick writes and advances before `now` would have left
    /// them; then truncation, and the log volume checked. Valid only where
    /// [`Database::quiet_room`] allowed it: the copies keep up with a tick's logs and the
    /// log volume cannot fill. Returns logs closed.
    pub fn write_shipped(
        &mut self,
        now: SimTime,
        count: u64,
        connected: impl Fn(usize) -> bool,
    ) -> u64 {
        let closed = self.append(now, count);
        let head = self.log_gen;
        for (i, c) in self.copies.iter_mut().enumerate() {
            if i != self.active && c.health == CopyHealth::Healthy && connected(i) {
                c.copied = head;
                c.replayed = head;
                c.carry_ms = 0;
                c.replay_carry_ms = 0;
            }
        }
        self.advanced_gen = head;
        // Brought up to date at `now`, as the tick's advance would have.
        self.catch_up_clock(now);
        self.truncate();
        closed
    }

    /// Rule `world.quiet_stretches`: whether mail may be written to this database a
    /// stretch at a time ([`Database::write_shipped`]), with at most `tick_logs` logs a
    /// tick of `tick_ms`. `None`: it must be written tick by tick (not mounted, not
    /// settled, a lagged copy whose closed-log history needs each tick's time, a copy
    /// seeding, or a copy that receives logs and copies or replays a tick's logs in more
    /// than half a tick). Otherwise how many logs it can take before its log volume fills
    /// (`u64::MAX` when truncation keeps up: circular logging and every passive copy that
    /// counts for truncation receives logs).
    pub fn quiet_room(
        &self,
        connected: impl Fn(usize) -> bool,
        tick_logs: f64,
        tick_ms: u64,
    ) -> Option<u64> {
        if self.state != DbState::Mounted
            || self.max_lag() != SimDuration::ZERO
            || !self.settled_when(&connected)
        {
            return None;
        }
        let per_log = self.params.ms_per_log.max(self.params.ms_per_replay_log) as f64;
        let mut blocks_truncation = !self.params.circular_logging;
        for (i, c) in self.copies.iter().enumerate() {
            if i == self.active {
                continue;
            }
            match c.health {
                CopyHealth::Seeding(_) => return None,
                CopyHealth::Healthy if connected(i) => {
                    if tick_logs * per_log > tick_ms as f64 / 2.0 {
                        return None;
                    }
                }
                CopyHealth::FailedAndSuspended => {}
                _ => blocks_truncation = true,
            }
        }
        if !blocks_truncation {
            return Some(u64::MAX);
        }
        let used = self.log_gen - self.truncated_below;
        Some(self.params.log_volume_logs.saturating_sub(used))
    }

    /// The write itself: counters, the active copy's head, the closed-log history.
    fn append(&mut self, now: SimTime, count: u64) -> u64 {
        self.messages += count;
        self.last_written = now;
        self.kb_written += count * self.params.message_kb;
        let head = self.kb_written / LOG_KB;
        let closed = head - self.log_gen;
        self.log_gen = head;
        let active = self.active;
        // The active copy holds every closed log.
        self.copies[active].copied = head;
        self.copies[active].replayed = head;
        if closed > 0 && !self.max_lag().is_zero() {
            self.closed_at.push((now, head));
        }
        closed
    }

    /// Rules `db.copy_queue`, `db.replay`, `db.logical_corruption`, `db.truncation`:
    /// brings replication up to `now`. `connected(i)` says whether copy `i` could reach
    /// the active copy and receive logs (its server a running DAG member, not stopped or
    /// evicted) during the whole interval since the last call (state changes are events,
    /// so it is constant in between). Only such copies copy and replay.
    pub fn advance(&mut self, now: SimTime, connected: impl Fn(usize) -> bool) {
        let dt = now.saturating_duration_since(self.updated).as_millis();
        self.updated = now;
        let head = self.log_gen;
        self.advanced_gen = head;
        let per_log = self.params.ms_per_log.max(1);
        let ships = self.closed_logs_ship();
        for i in 0..self.copies.len() {
            if i == self.active {
                continue;
            }
            let c = &mut self.copies[i];
            if let CopyHealth::Seeding(done) = c.health
                && now >= done
            {
                c.health = CopyHealth::Healthy;
                c.copied = head;
                c.replayed = head;
                c.carry_ms = 0;
                c.replay_carry_ms = 0;
            }
            if c.health != CopyHealth::Healthy || !connected(i) {
                continue;
            }
            if c.copied < self.truncated_below {
                c.health = CopyHealth::FailedAndSuspended;
                continue;
            }
            if ships {
                let budget = dt + c.carry_ms;
                let can = budget / per_log;
                let behind = head - c.copied;
                if can >= behind {
                    c.copied = head;
                    c.carry_ms = 0;
                } else {
                    c.copied += can;
                    c.carry_ms = budget % per_log;
                }
            }
            self.replay(i, now, dt);
        }
        self.prune_closed_at(now);
        self.truncate();
    }

    /// Sets the replication clock to `since` unless it is later: the last moment the
    /// database was (or, being [`Database::settled`], could have been) brought up to date
    /// without change. The next [`Database::advance`] counts from there.
    pub fn catch_up_clock(&mut self, since: SimTime) {
        self.updated = self.updated.max(since);
    }

    /// Whether closed logs ship to the passive copies: while the database is mounted and
    /// from a database that failed corrupt (its server and log volume are intact; rule
    /// `db.logical_corruption`).
    fn closed_logs_ship(&self) -> bool {
        matches!(
            self.state,
            DbState::Mounted | DbState::Failed(FailReason::Corrupt)
        )
    }

    /// Whether [`Database::advance`] would change nothing but its clock, whatever the
    /// interval and the connectivity: every passive copy that replicates holds every
    /// closed log (when logs ship), has replayed all it copied and carries no partial log;
    /// truncation is up to date; none is seeding and none is lagged (no closed-log history
    /// to prune). A database settles a moment after each mail batch and stays so until
    /// something writes to it or changes it.
    pub fn settled(&self) -> bool {
        self.settled_when(|_| true)
    }

    /// [`Database::settled`] while `connected(i)` says which copies receive logs (see
    /// [`Database::advance`]): a copy that receives none does not change either.
    pub fn settled_when(&self, connected: impl Fn(usize) -> bool) -> bool {
        if self.advanced_gen != self.log_gen || !self.closed_at.is_empty() {
            return false;
        }
        let ships = self.closed_logs_ship();
        for (i, c) in self.copies.iter().enumerate() {
            if i == self.active {
                continue;
            }
            let moves = match c.health {
                CopyHealth::Seeding(_) => true,
                CopyHealth::Healthy if connected(i) => {
                    c.copied < self.truncated_below
                        || c.replayed < c.copied
                        || c.replay_carry_ms != 0
                        || (ships && (c.copied != self.log_gen || c.carry_ms != 0))
                }
                _ => false,
            };
            if moves {
                return false;
            }
        }
        self.truncation_point() <= self.truncated_below && !self.log_volume_full()
    }

    /// Rule `db.replay` for copy `i` over the last `dt` milliseconds: towards what it
    /// copied (a lagged copy: what aged past its lag), at `ms_per_replay_log` a log.
    fn replay(&mut self, i: usize, now: SimTime, dt: u64) {
        {
            let lag = self.copies[i].config.replay_lag;
            let target = if lag.is_zero() {
                self.copies[i].copied
            } else {
                let cutoff = now.as_millis().checked_sub(lag.as_millis());
                let aged = cutoff.map_or(0, |c| {
                    let k = self.closed_at.partition_point(|&(t, _)| t.as_millis() <= c);
                    if k == 0 { 0 } else { self.closed_at[k - 1].1 }
                });
                aged.min(self.copies[i].copied)
            };
            let per_log = self.params.ms_per_replay_log.max(1);
            let c = &mut self.copies[i];
            let behind = target.saturating_sub(c.replayed);
            let budget = dt + c.replay_carry_ms;
            let can = budget / per_log;
            if can >= behind {
                c.replayed = c.replayed.max(target);
                c.replay_carry_ms = 0;
            } else {
                c.replayed += can;
                c.replay_carry_ms = budget % per_log;
            }
        }
    }

    /// Keeps just enough history of closed logs for the longest lag.
    fn prune_closed_at(&mut self, now: SimTime) {
        let lag = self.max_lag().as_millis();
        if let Some(cut) = now.as_millis().checked_sub(lag) {
            let k = self
                .closed_at
                .partition_point(|&(t, _)| t.as_millis() <= cut);
            if k > 1 {
                self.closed_at.drain(..k - 1);
            }
        }
    }

    /// Rule `db.truncation`.
    fn truncate(&mut self) {
        let point = self.truncation_point();
        self.truncated_below = self.truncated_below.max(point);
        self.check_log_volume();
    }

    /// Rule `db.truncation`: the log below which every copy that still counts is done.
    fn truncation_point(&self) -> u64 {
        let needed = self
            .copies
            .iter()
            .enumerate()
            .filter(|&(i, c)| i != self.active && c.health != CopyHealth::FailedAndSuspended)
            .map(|(_, c)| if c.is_lagged() { c.copied } else { c.replayed })
            .min()
            .unwrap_or(self.log_gen);
        let mut point = needed.min(self.log_gen);
        if !self.params.circular_logging {
            point = point.min(self.backed_up);
        }
        point
    }

    /// Rule `db.truncation`: more than `log_volume_logs` untruncated logs fill the log
    /// volume and the database dismounts. Checked at every write, so it fails at the
    /// moment the log that fills the volume closes.
    fn check_log_volume(&mut self) {
        if self.log_volume_full() {
            self.state = DbState::Failed(FailReason::LogVolumeFull);
        }
    }

    fn log_volume_full(&self) -> bool {
        self.state == DbState::Mounted
            && self.log_gen - self.truncated_below > self.params.log_volume_logs
    }

    /// A full backup at `now` covers every closed log.
    pub fn backup(&mut self) {
        self.backed_up = self.log_gen;
        self.backup_taken = true;
        self.truncate();
    }

    /// Copy queue of copy `i` (logs the active has and it has not copied).
    pub fn copy_queue(&self, i: usize) -> u64 {
        self.log_gen.saturating_sub(self.copies[i].copied)
    }

    /// Rule `db.healthy`: whether passive copy `i` is healthy and resynchronised: copy
    /// queue under [`HEALTHY_COPY_QUEUE`], and (unless lagged, whose replay queue is its
    /// lag by design) replay queue under [`HEALTHY_REPLAY_QUEUE`]. The copy queue counts
    /// logs closed before replication was last brought up to date: a mail batch written at
    /// this very instant stands for minutes of mail that ship as they are written.
    pub fn copy_healthy(&self, i: usize) -> bool {
        let c = &self.copies[i];
        c.health == CopyHealth::Healthy
            && self.advanced_gen.min(self.log_gen).saturating_sub(c.copied) < HEALTHY_COPY_QUEUE
            && (c.is_lagged() || self.replay_queue(i) < HEALTHY_REPLAY_QUEUE)
    }

    /// Rule `am.acll`: attempt-copy-last-logs pulls the logs copy `i` lacks from the old
    /// active copy (whose server must be up and reachable: the caller checks). Returns the
    /// number of logs pulled; [`Database::activate`] times them.
    pub fn acll(&mut self, i: usize) -> u64 {
        let pulled = self.log_gen.saturating_sub(self.copies[i].copied);
        self.copies[i].copied = self.log_gen;
        pulled
    }

    /// Replay queue of copy `i`.
    pub fn replay_queue(&self, i: usize) -> u64 {
        self.copies[i]
            .copied
            .saturating_sub(self.copies[i].replayed)
    }

    /// Rule `db.logical_corruption`: corruption is written at `now` into the log being
    /// filled, `log_gen + 1`; the active copy is corrupt and the database fails at once.
    /// [`Corruption::Shipped`]: that log closes (and ships with the next
    /// [`Database::advance`]); [`Corruption::Stopping`]: it stays open and never ships.
    pub fn corrupt(&mut self, now: SimTime, how: Corruption) {
        let g = self.log_gen + 1;
        self.corrupt_from = Some(self.corrupt_from.map_or(g, |c| c.min(g)));
        let closes = how == Corruption::Shipped;
        if closes {
            self.kb_written = g * LOG_KB;
            self.log_gen = g;
            let active = self.active;
            self.copies[active].copied = g;
            self.copies[active].replayed = g;
            if !self.max_lag().is_zero() {
                self.closed_at.push((now, g));
            }
        }
        self.state = DbState::Failed(FailReason::Corrupt);
    }

    /// Whether copy `i` holds corrupt data (it replayed the corrupt log).
    pub fn copy_corrupt(&self, i: usize) -> bool {
        if i == self.active && self.corrupt_from.is_some() {
            return true;
        }
        self.corrupt_from
            .is_some_and(|g| self.copies[i].replayed >= g)
    }

    /// Rule `db.lost_messages`: messages wholly contained in logs `1..=g`.
    pub fn messages_in_logs(&self, g: u64) -> u64 {
        (g * LOG_KB / self.params.message_kb.max(1)).min(self.messages)
    }

    /// Makes copy `i` the active one at `now`, discarding the logs it lacks. An old
    /// active copy whose disk was lost stays failed (it needs a reseed).
    /// Returns the messages lost (rule `db.lost_messages`). Copies ahead of the new
    /// active (diverged) are cut back to it. Rule `db.activation_replay`: the copy first
    /// replays everything it has copied and not replayed (a lagged copy's lag window; with
    /// corruption, only up to the log before it), after the `pulled` logs ACLL copied
    /// ([`Database::acll`]); it mounts at once when there is nothing to pull or replay,
    /// else it is [`DbState::Replaying`] until [`Database::activation_time`] says.
    pub fn activate(&mut self, i: usize, now: SimTime, pulled: u64) -> u64 {
        // The old active copy's disk (or server) is gone: so are its logs; it needs a
        // reseed and is no candidate (rule `db.restore` reads this).
        let old = self.active;
        if old != i && self.state == DbState::Failed(FailReason::DiskLost) {
            self.copies[old].health = CopyHealth::FailedAndSuspended;
        }
        let c = &self.copies[i];
        let mut g = c.copied;
        if let Some(bad) = self.corrupt_from
            && g >= bad
        {
            g = bad - 1;
        }
        let backlog = g.saturating_sub(c.replayed);
        let lost = self.messages - self.messages_in_logs(g);
        self.messages -= lost;
        self.log_gen = g;
        self.kb_written = g * LOG_KB;
        if self.corrupt_from.is_some_and(|bad| bad > g) {
            self.corrupt_from = None;
        }
        // A copy activated below the corruption (a lagged copy): logs past its head are
        // discarded, so nothing above it counts as truncated.
        self.truncated_below = self.truncated_below.min(g);
        self.active = i;
        for (j, c) in self.copies.iter_mut().enumerate() {
            if j == i {
                c.copied = g;
                c.replayed = g;
            } else if c.copied > g {
                c.copied = g;
                c.replayed = c.replayed.min(g);
            }
        }
        self.closed_at.retain(|&(_, head)| head <= g);
        let ms = self.activation_time(pulled, backlog);
        self.state = if ms == 0 {
            DbState::Mounted
        } else {
            DbState::Replaying(now.saturating_add(SimDuration::from_millis(ms)))
        };
        lost
    }

    /// Rules `am.acll`, `db.activation_replay`: milliseconds an activation takes to copy
    /// `pulled` logs and replay `backlog` logs.
    pub fn activation_time(&self, pulled: u64, backlog: u64) -> u64 {
        pulled.saturating_mul(self.params.ms_per_log)
            + backlog.saturating_mul(self.params.ms_per_replay_log)
    }

    /// Rule `db.activation_replay`: a replaying activation that is due mounts. Returns
    /// whether it did.
    pub fn finish_activation(&mut self, now: SimTime) -> bool {
        match self.state {
            DbState::Replaying(at) if at <= now => {
                self.state = DbState::Mounted;
                true
            }
            _ => false,
        }
    }

    /// Rule `db.restore`: what a restore from the last backup recovers: `(head log,
    /// messages)`. It rolls forward from the backup only through logs that still exist:
    /// none when logs after the backup were truncated (circular logging truncates
    /// replayed logs; logs below `truncated_below` are gone on every copy), and otherwise
    /// up to the newest log on a surviving log volume ([`Database::surviving_log`]).
    /// Never past a corruption.
    pub fn restorable(&self) -> (u64, u64) {
        let mut head = self.backed_up;
        if self.roll_forward_possible() {
            head = head.max(self.surviving_log());
        }
        if let Some(bad) = self.corrupt_from {
            head = head.min(bad.saturating_sub(1));
        }
        (head, self.messages_in_logs(head))
    }

    /// Whether the logs right after the last backup still exist: the first log a
    /// roll-forward needs, `backed_up + 1`, is not below `truncated_below`.
    pub fn roll_forward_possible(&self) -> bool {
        self.truncated_below <= self.backed_up + 1
    }

    /// The newest log that survives on a log volume: the active copy's (unless its disk
    /// or server was lost) and those copied to passive copies that are healthy or
    /// suspended (a copy that failed, lost its disk or is being reseeded holds none).
    pub fn surviving_log(&self) -> u64 {
        self.copies
            .iter()
            .enumerate()
            .filter(|&(i, c)| {
                if i == self.active {
                    self.state != DbState::Failed(FailReason::DiskLost)
                } else {
                    matches!(c.health, CopyHealth::Healthy | CopyHealth::Suspended)
                }
            })
            .map(|(_, c)| c.copied)
            .max()
            .unwrap_or(0)
    }

    /// Restores the active copy from a backup rolled forward to log `head`, holding
    /// `messages`: dismounted and ready to mount; passive copies need a reseed.
    pub fn restore_to(&mut self, head: u64, messages: u64) {
        self.messages = messages;
        self.log_gen = head;
        self.kb_written = head * LOG_KB;
        self.corrupt_from = None;
        self.state = DbState::Dismounted;
        self.truncated_below = self.truncated_below.min(head);
        self.closed_at.retain(|&(_, g)| g <= head);
        let active = self.active;
        for (i, c) in self.copies.iter_mut().enumerate() {
            if i == active {
                c.copied = head;
                c.replayed = head;
            } else {
                c.copied = c.copied.min(head);
                c.replayed = c.replayed.min(head);
                c.health = CopyHealth::FailedAndSuspended;
            }
        }
    }

    /// Copy `i` is being reseeded from the active copy and is healthy again at `done`
    /// (the world times seeds sharing their source, rule `db.seed_source`).
    pub fn reseed(&mut self, i: usize, done: SimTime) {
        self.copies[i].health = CopyHealth::Seeding(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> DbParams {
        DbParams {
            size_mb: 400_000,
            mailboxes: 2500,
            message_kb: 64, // 16 messages per log
            ms_per_log: 100,
            ms_per_replay_log: 10,
            log_volume_logs: 10_000,
            circular_logging: true,
            schema_version: 1,
        }
    }

    fn copy(server: u32, preference: u32, lag_h: u64) -> CopyConfig {
        CopyConfig {
            server: ServerId(server),
            preference,
            replay_lag: SimDuration::from_hours(lag_h).unwrap_or(SimDuration::MAX),
        }
    }

    fn at_s(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    #[test]
    fn quiet_room_needs_copies_that_keep_up_and_counts_the_log_volume_left() {
        // Rule world.quiet_stretches: 100 ms a log; a 300 s tick allows 1,500 logs a tick.
        let all = |_: usize| true;
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        db.write(at_s(1), 160);
        assert_eq!(db.quiet_room(all, 10.0, 300_000), None, "not settled yet");
        db.advance(at_s(60), all);
        assert_eq!(db.quiet_room(all, 1_000.0, 300_000), Some(u64::MAX));
        assert_eq!(
            db.quiet_room(all, 2_000.0, 300_000),
            None,
            "too slow a copy"
        );
        // A copy that receives no logs blocks truncation: the room is what is left.
        let none = |i: usize| i == 0;
        assert_eq!(db.quiet_room(none, 2_000.0, 300_000), Some(10_000));
        db.write_shipped(at_s(120), 1_600, none);
        assert_eq!(
            db.copies[1].copied, 10,
            "not shipped to a disconnected copy"
        );
        assert_eq!(db.quiet_room(none, 2_000.0, 300_000), Some(10_000 - 100));
        db.write_shipped(at_s(180), 1_600, all);
        assert_eq!(db.copies[1].copied, 210);
        assert_eq!(db.copies[1].replayed, 210);
        assert!(db.settled(), "written as shipped: nothing left to advance");
        // A lagged copy needs every tick's closing time.
        let lagged = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 1)]);
        assert_eq!(lagged.quiet_room(all, 1.0, 300_000), None);
    }

    #[test]
    fn messages_make_logs() {
        let mut db = Database::new(params(), &[copy(0, 1, 0)]);
        assert_eq!(db.write(at_s(1), 15), 0, "15 x 64 KB is under one log");
        assert_eq!(db.write(at_s(2), 1), 1);
        assert_eq!(db.log_gen, 1);
        assert_eq!(db.messages_in_logs(1), 16);
    }

    #[test]
    fn the_copy_queue_grows_during_a_wan_cut_and_drains_after() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        // One log a second for 100 s with the WAN cut.
        for s in 1..=100 {
            db.advance(at_s(s), |_| false);
            db.write(at_s(s), 16);
        }
        assert_eq!(db.copy_queue(1), 100);
        // WAN back: 10 logs a second drain it while 1 a second arrives.
        let mut s = 100;
        loop {
            s += 1;
            db.advance(at_s(s), |_| true);
            if db.copy_queue(1) == 0 {
                break;
            }
            db.write(at_s(s), 16);
            assert!(s < 200, "must drain");
        }
        // 100 behind, gaining 9 a second (10 copied, 1 written): caught up in about 11 s.
        assert!((110..=113).contains(&s), "drained at {s}");
        assert_eq!(db.replay_queue(1), 0);
    }

    #[test]
    fn a_lagged_copy_survives_a_corruption_that_replicates() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, 24)]);
        for s in 1..=3600 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        db.corrupt(at_s(3600), Corruption::Shipped);
        let bad = db.corrupt_from.expect("corrupt");
        // A few logs later, the non-lagged copy has replayed the bad log; the lagged one
        // (24 h behind) has not.
        db.state = DbState::Mounted; // the application keeps writing on the corrupt copy
        for s in 3601..=3700 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        assert!(db.copy_corrupt(0));
        assert!(db.copy_corrupt(1));
        assert!(
            !db.copy_corrupt(2),
            "lagged copy replayed {} < {bad}",
            db.copies[2].replayed
        );
        // Activating the lagged copy recovers everything before the corruption.
        let lost = db.activate(2, at_s(3701), 0);
        assert_eq!(db.log_gen, bad - 1);
        assert_eq!(
            lost,
            100 * 16,
            "messages in logs 3601..=3700, from the bad log on"
        );
        assert!(db.corrupt_from.is_none());
        assert!(!db.copy_corrupt(2));
    }

    /// A database with a non-lagged copy 1 and a copy 2 lagged 24 h, 3,600 logs written
    /// (one a second) with every copy connected, then corrupted at 3,601 s as `how`.
    fn corrupted(how: Corruption) -> Database {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, 24)]);
        logs(&mut db, 1, 3600, |_| true);
        db.corrupt(at_s(3601), how);
        assert_eq!(
            db.corrupt_from,
            Some(3601),
            "written into the log being filled"
        );
        assert_eq!(db.state, DbState::Failed(FailReason::Corrupt));
        assert!(db.copy_corrupt(0), "the active copy is corrupt at once");
        // An hour on, every copy still connected.
        for s in 3602..=7200 {
            db.advance(at_s(s), |_| true);
        }
        db
    }

    #[test]
    fn a_corrupt_write_in_the_open_log_reaches_no_copy() {
        let db = corrupted(Corruption::Stopping);
        assert_eq!(db.log_gen, 3600, "the open log never closes");
        for i in 1..=2 {
            assert_eq!(db.copies[i].copied, 3600, "copy {i}");
            assert!(!db.copy_corrupt(i), "copy {i} stays clean");
        }
        assert_eq!(db.copies[1].replayed, 3600);
    }

    #[test]
    fn a_corruption_in_a_closed_log_reaches_the_copies_that_replay_it() {
        let db = corrupted(Corruption::Shipped);
        assert_eq!(db.log_gen, 3601, "the corrupt log closed");
        assert_eq!(
            db.copies[1].copied, 3601,
            "and shipped from the failed database"
        );
        assert!(db.copy_corrupt(1), "the non-lagged copy replayed it");
        assert_eq!(db.copies[2].copied, 3601, "the lagged copy holds it");
        assert!(
            !db.copy_corrupt(2),
            "but, 24 h behind, has not replayed it: {}",
            db.copies[2].replayed
        );
    }

    #[test]
    fn activating_a_copy_lagged_behind_a_corruption_clamps_truncation_to_its_head() {
        let mut db = corrupted(Corruption::Shipped);
        assert_eq!(
            db.truncated_below, 3601,
            "every copy has what it needs up to the corrupt log (circular logging)"
        );
        db.activate(2, at_s(7201), 0);
        assert_eq!(
            db.log_gen, 3600,
            "the lagged copy's head, before the corruption"
        );
        assert!(db.corrupt_from.is_none());
        assert_eq!(db.truncated_below, 3600, "clamped to the new head");
        let due = match db.state {
            DbState::Replaying(at) => at,
            other => panic!("replays its lag window first: {other:?}"),
        };
        assert!(db.finish_activation(due));
        // The database keeps writing logs from its new head.
        db.advance(due, |_| true);
        db.write(due, 16);
        assert_eq!(db.log_gen, 3601);
        assert_eq!(db.state, DbState::Mounted);
    }

    #[test]
    fn a_down_copy_blocks_truncation_until_the_log_volume_fills() {
        let p = DbParams {
            log_volume_logs: 50,
            ..params()
        };
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        let mut s = 0;
        while db.state == DbState::Mounted {
            s += 1;
            db.advance(at_s(s), |_| false);
            db.write(at_s(s), 16);
            assert!(s < 100);
        }
        assert_eq!(db.state, DbState::Failed(FailReason::LogVolumeFull));
        assert_eq!(
            s, 51,
            "dismounts at the write of the 51st untruncated log, not at the next advance"
        );
        // Connected all along, the same load never fills it.
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        for s in 1..=500 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        assert_eq!(db.state, DbState::Mounted);
    }

    #[test]
    fn a_copy_whose_logs_were_truncated_needs_a_reseed() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        db.copies[1].health = CopyHealth::FailedAndSuspended; // removed by the admin
        for s in 1..=100 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        assert_eq!(
            db.truncated_below, 99,
            "the removed copy no longer blocks truncation"
        );
        let done = at_s(100 + 20_000);
        db.reseed(1, done);
        db.advance(at_s(20_000), |_| true);
        assert!(matches!(db.copies[1].health, CopyHealth::Seeding(_)));
        db.advance(done, |_| true);
        assert_eq!(db.copies[1].health, CopyHealth::Healthy);
        assert_eq!(db.copy_queue(1), 0);
    }

    #[test]
    fn without_circular_logging_only_backups_truncate() {
        let p = DbParams {
            circular_logging: false,
            ..params()
        };
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        for s in 1..=10 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        db.advance(at_s(11), |_| true);
        assert_eq!(db.truncated_below, 0);
        db.backup();
        assert_eq!(db.truncated_below, 10);
    }

    #[test]
    fn a_lossy_activation_loses_the_uncopied_messages() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        for s in 1..=10 {
            db.advance(at_s(s), |_| true);
            db.write(at_s(s), 16);
        }
        db.advance(at_s(11), |_| true);
        for s in 11..=18 {
            db.advance(at_s(s), |_| false);
            db.write(at_s(s), 16);
        }
        db.write(at_s(18), 5); // an open log's worth too
        assert_eq!(db.copy_queue(1), 8);
        let lost = db.activate(1, at_s(19), 0);
        assert_eq!(lost, 8 * 16 + 5);
        assert_eq!(db.active, 1);
        assert_eq!(
            db.copies[0].copied, 10,
            "the old active diverged and is cut back"
        );
    }

    /// Writes one log a second from `from` to `to` (inclusive), copy `i` connected iff
    /// `connected(i)`.
    fn logs(db: &mut Database, from: u64, to: u64, connected: impl Fn(usize) -> bool) {
        for s in from..=to {
            db.advance(at_s(s), &connected);
            db.write(at_s(s), 16);
        }
        db.advance(at_s(to + 1), &connected);
    }

    #[test]
    fn a_restore_rolls_forward_only_through_untruncated_logs() {
        let three = [copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, 0)];
        for circular in [false, true] {
            let p = DbParams {
                circular_logging: circular,
                ..params()
            };
            let mut db = Database::new(p, &three);
            logs(&mut db, 1, 10, |_| true);
            db.backup();
            logs(&mut db, 11, 100, |_| true);
            db.corrupt(at_s(101), Corruption::Shipped);
            let (head, messages) = db.restorable();
            if circular {
                assert!(
                    db.truncated_below > 11,
                    "circular logging truncated replayed logs"
                );
                assert_eq!(head, 10, "only the backup: the logs after it are gone");
                assert_eq!(messages, 10 * 16);
            } else {
                assert_eq!(db.truncated_below, 10, "only the backup truncates");
                assert_eq!(head, 100, "rolled forward to the corruption");
                assert_eq!(messages, 100 * 16);
            }
        }
        // The boundary: the first log after the backup must not be truncated.
        let mut db = Database::new(params(), &three);
        logs(&mut db, 1, 10, |_| true);
        db.backed_up = 10;
        db.truncated_below = 11;
        assert!(db.roll_forward_possible());
        assert_eq!(db.restorable().0, 10);
        db.truncated_below = 12;
        assert!(!db.roll_forward_possible());
    }

    #[test]
    fn a_lost_log_volume_stops_roll_forward() {
        let p = DbParams {
            circular_logging: false,
            ..params()
        };
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        logs(&mut db, 1, 10, |_| true);
        db.backup();
        logs(&mut db, 11, 30, |_| true);
        // The passive copy is cut off from log 31 on; the active copy reaches 60.
        logs(&mut db, 31, 60, |_| false);
        assert_eq!(db.copies[1].copied, 30);
        assert_eq!(
            db.restorable().0,
            60,
            "every log survives on the active volume"
        );
        // The active copy's disk (or server) is lost: the passive copy's logs remain.
        db.state = DbState::Failed(FailReason::DiskLost);
        assert_eq!(db.surviving_log(), 30);
        assert_eq!(db.restorable(), (30, 30 * 16));
        // Its disk lost too: nothing past the backup.
        db.copies[1].health = CopyHealth::FailedAndSuspended;
        assert_eq!(db.restorable(), (10, 10 * 16));
    }

    #[test]
    fn a_failover_from_a_lost_disk_leaves_no_logs_behind_on_it() {
        let p = DbParams {
            circular_logging: false,
            ..params()
        };
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        logs(&mut db, 1, 10, |_| true);
        db.backup();
        logs(&mut db, 11, 30, |_| true);
        db.state = DbState::Failed(FailReason::DiskLost);
        db.activate(1, at_s(31), 0);
        assert_eq!(db.copies[0].health, CopyHealth::FailedAndSuspended);
        // Then the new active's disk goes too: the old volume holds nothing.
        db.state = DbState::Failed(FailReason::DiskLost);
        assert_eq!(db.restorable().0, 10);
    }

    /// Writes `n` logs at `at` with every passive copy cut off.
    fn backlog(db: &mut Database, at: SimTime, n: u64) {
        db.advance(at, |_| false);
        db.write(at, n * 16);
        db.advance(at, |_| false);
    }

    /// When copy 1's copy queue empties, in seconds after `from`, advancing a second at a
    /// time with nothing written.
    fn drained_after(db: &mut Database, from: u64) -> u64 {
        for s in from + 1..from + 10_000 {
            db.advance(at_s(s), |_| true);
            if db.copy_queue(1) == 0 {
                return s - from;
            }
        }
        panic!("never drained");
    }

    #[test]
    fn catching_up_takes_the_backlog_over_the_copy_rate() {
        // 100 ms a log (10 logs a second): twice the backlog takes twice as long.
        for (logs, secs) in [(100, 10), (200, 20), (3000, 300)] {
            let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
            backlog(&mut db, at_s(1), logs);
            assert_eq!(db.copy_queue(1), logs);
            assert_eq!(drained_after(&mut db, 1), secs, "{logs} logs");
        }
    }

    #[test]
    fn replay_takes_the_replay_rate_and_only_while_receiving_logs() {
        let p = DbParams {
            ms_per_replay_log: 1000,
            ..params()
        };
        let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0)]);
        backlog(&mut db, at_s(0), 100);
        db.advance(at_s(10), |_| true);
        assert_eq!(db.copy_queue(1), 0, "copied at 10 logs a second");
        assert_eq!(db.replay_queue(1), 90, "replayed at one log a second");
        db.advance(at_s(50), |_| false);
        assert_eq!(
            db.replay_queue(1),
            90,
            "a copy that receives no logs stands still"
        );
        db.advance(at_s(140), |_| true);
        assert_eq!(db.replay_queue(1), 0);
    }

    #[test]
    fn a_copy_is_healthy_under_10_logs_to_copy_and_50_to_replay() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, 24)]);
        backlog(&mut db, at_s(1), 200);
        for (copied, replayed, healthy) in [
            (191, 191, true),
            (190, 190, false),
            (200, 151, true),
            (200, 150, false),
        ] {
            db.copies[1].copied = copied;
            db.copies[1].replayed = replayed;
            assert_eq!(
                db.copy_healthy(1),
                healthy,
                "copied {copied}, replayed {replayed}"
            );
        }
        // A lagged copy's replay queue is its lag: only its copy queue counts.
        db.copies[2].copied = 191;
        db.copies[2].replayed = 0;
        assert!(db.copy_healthy(2));
        db.copies[2].copied = 190;
        assert!(!db.copy_healthy(2));
        db.copies[1].copied = 200;
        db.copies[1].replayed = 200;
        db.copies[1].health = CopyHealth::Suspended;
        assert!(!db.copy_healthy(1));
    }

    #[test]
    fn activating_a_lagged_copy_takes_its_lag_window_over_the_replay_rate() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, 24)]);
        logs(&mut db, 1, 3600, |_| true);
        assert_eq!(db.copies[2].replayed, 0, "nothing is a day old yet");
        let now = at_s(3601);
        db.activate(2, now, 0);
        // 3,600 logs at 10 ms each.
        let due = now.saturating_add(SimDuration::from_millis(36_000));
        assert_eq!(db.state, DbState::Replaying(due));
        assert!(!db.finish_activation(SimTime::from_millis(due.as_millis() - 1)));
        assert!(db.finish_activation(due));
        assert_eq!(db.state, DbState::Mounted);
        // A caught-up copy mounts at once.
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        logs(&mut db, 1, 100, |_| true);
        db.activate(1, at_s(101), 0);
        assert_eq!(db.state, DbState::Mounted);
    }

    #[test]
    fn acll_takes_the_time_to_copy_the_last_logs() {
        let mut db = Database::new(params(), &[copy(0, 1, 0), copy(1, 2, 0)]);
        logs(&mut db, 1, 100, |_| true);
        backlog(&mut db, at_s(101), 7);
        assert_eq!(db.copy_queue(1), 7);
        let pulled = db.acll(1);
        assert_eq!(pulled, 7);
        db.activate(1, at_s(101), pulled);
        // 7 logs copied at 100 ms and replayed at 10 ms each.
        assert_eq!(
            db.state,
            DbState::Replaying(at_s(101).saturating_add(SimDuration::from_millis(770)))
        );
        assert_eq!(db.activation_time(7, 0), 700);
    }

    #[test]
    fn schema_versions_must_match() {
        assert!(check_schema(3, 3).is_ok());
        let e = check_schema(3, 2).expect_err("mismatch");
        assert!(e.to_string().contains("schema version 3"));
    }

    /// One step of the settled-database property: mail, replication, a backup, a reseed
    /// or a dismount.
    #[derive(Debug, Clone)]
    enum Step {
        Write(u64),
        Advance(u64, u8),
        Backup,
        Reseed(usize, u64),
        Dismount,
        Mount,
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..80).prop_map(Step::Write),
            (0u64..3_000, any::<u8>()).prop_map(|(ms, m)| Step::Advance(ms, m)),
            Just(Step::Backup),
            (0usize..3, 0u64..2_000).prop_map(|(i, ms)| Step::Reseed(i, ms)),
            Just(Step::Dismount),
            Just(Step::Mount),
        ]
    }

    proptest::proptest! {
        /// What `World::advance_replication` relies on to skip databases: advancing a
        /// database that is settled (under the connectivity it is advanced with) changes
        /// nothing but its clock, whatever the interval.
        #[test]
        fn advancing_a_settled_database_changes_nothing_but_its_clock(
            lag in proptest::prelude::any::<bool>(),
            circular in proptest::prelude::any::<bool>(),
            steps in proptest::collection::vec(step(), 1..120),
            gap in 0u64..10_000_000,
            ms_per_log in 1u64..400,
            ms_per_replay_log in 1u64..400,
        ) {
            let mut p = params();
            p.circular_logging = circular;
            p.ms_per_log = ms_per_log;
            p.ms_per_replay_log = ms_per_replay_log;
            p.log_volume_logs = 4;
            let mut db = Database::new(p, &[copy(0, 1, 0), copy(1, 2, 0), copy(2, 3, u64::from(lag))]);
            let mut now = 0u64;
            for s in steps {
                match s {
                    Step::Write(n) => {
                        db.write(SimTime::from_millis(now), n);
                    }
                    Step::Advance(ms, mask) => {
                        now += ms;
                        let t = SimTime::from_millis(now);
                        let conn = |i: usize| mask & (1 << i) != 0;
                        if db.settled_when(conn) {
                            let later = SimTime::from_millis(now + gap);
                            let mut a = db.clone();
                            a.advance(later, conn);
                            a.updated = db.updated;
                            proptest::prop_assert_eq!(&a, &db);
                        }
                        db.advance(t, conn);
                    }
                    Step::Backup => db.backup(),
                    Step::Reseed(i, ms) => {
                        if i != db.active {
                            db.reseed(i, SimTime::from_millis(now + ms));
                        }
                    }
                    Step::Dismount => db.state = DbState::Dismounted,
                    Step::Mount => db.state = DbState::Mounted,
                }
            }
        }
    }
}
