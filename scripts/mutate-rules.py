#!/usr/bin/env python3
"""Breaks each model rule once and checks that the test suite notices.

Each mutation replaces one exact snippet in one file, runs `cargo test -p dialtone-model`
(or the cargo test arguments a fifth element names, for a rule outside the model: the
runner's and the crews' rules live in the scenario crate), and restores the file. A
mutation the tests do not catch is printed as SURVIVED: either a
missing test or a rule that does not matter. Run from the repository root:

    python3 scripts/mutate-rules.py            # all
    python3 scripts/mutate-rules.py dns        # only mutations whose name contains "dns"
"""
import pathlib
import subprocess
import sys

M = "crates/model/src/"
# Tests of the scenario runner and of studies, for rules that live outside the model.
END_TO_END = ["-p", "dialtone-scenario", "-p", "dialtone-study", "--test", "it"]
S = "crates/scenario/src/"
# The scenario crate's rules are tested there and, for crews, by validation Case 4a.
SCENARIO = ["-p", "dialtone-scenario"]
STUDY = ["-p", "dialtone-scenario", "-p", "dialtone-study"]
# The restore rules of the scenario layer (circular-logging default and warning).
RESTORE_TESTS = ["-p", "dialtone-scenario", "--test", "it", "restores"]
# The merge rules seen end to end (the stay-on-alternate swap, the direction).
MERGE_TESTS = ["-p", "dialtone-scenario", "--test", "it", "merge"]
# The shipped scenarios' headline numbers.
GOLDEN = ["-p", "dialtone-scenario", "--test", "it", "golden"]
# The database unit tests (rule `db.logical_corruption`).
DB_TESTS = ["-p", "dialtone-model", "--lib", "database::tests"]
# Seed 004's switchover and switchback, end to end.
SWITCHBACK = ["-p", "dialtone-scenario", "--test", "it", "switchback::"]
# The database layout shorthand.
LAYOUT = ["-p", "dialtone-scenario", "--test", "it", "layout"]
# The binomial sampler's distribution tests.
DRAW_TESTS = ["-p", "dialtone-model", "--lib", "draw::"]
MUTATIONS = [
    # A move to a server that is down says so (not quorum).
    ("admin.move_target_down", M + "world/actions/databases.rs",
     "        if !self.server_up(to) {\n            return Err(ActionError::Unreachable(to.0));", "        if false {\n            return Err(ActionError::Unreachable(to.0));",
     ["-p", "dialtone-scenario", "--test", "it", "a_move_back_to"]),
    # Rule world.split_brain_sent: mail sent from a rogue copy is split-brain mail.
    ("world.split_brain_sent", M + "world/clients.rs",
     "if reaches { bk.users - bk.connected } else { 0 }", "if reaches { 0 } else { 0 }",
     ["-p", "dialtone-scenario", "--test", "it", "users_working_on_the_losing"]),
    # Rule playbook.switchback_go: no switchback into a primary lost again.
    ("playbook.switchback_go", S + "playbook/switchback.rs",
     "                &[go],\n", "                &[outage],\n",
     ["-p", "dialtone-scenario", "--test", "it", "a_primary_lost_again"]),
    # Rule metrics.rto per incident: a planned dismount is no incident.
    ("metrics.rto_planned", M + "world/homes.rs",
     "            if planned {\n                self.planned_pause = true;", "            if false {\n                self.planned_pause = true;",
     ["-p", "dialtone-model", "--lib", "homes"]),
    ("metrics.rto_longest", M + "world/homes.rs",
     "                    && self\n                        .down", "                    && false\n                    && self\n                        .down",
     ["-p", "dialtone-model", "--lib", "homes"]),
    # Rule strategy.recovery_needed: no restore or dial tone while a copy survives.
    ("strategy.recovery_needed", S + "validate/strategy.rs",
     "            .filter(|&h| !self.copy_survives(h))\n", "",
     ["-p", "dialtone-scenario", "--test", "it", "matrix"]),
    # Rule strategy.switchover_needed: no switchover away from the healthy site.
    ("strategy.switchover_needed", S + "validate/strategy.rs",
     "    active_in_x || 2 * kept <= kept + lost\n", "    true\n",
     ["-p", "dialtone-scenario", "--test", "it", "losing_the_second"]),
    # Rule clients.profile: a failed copy does not hold the mailboxes.
    ("clients.profile_data", M + "world/clients.rs",
     "(i == db.active || c.health != CopyHealth::FailedAndSuspended)", "(i == db.active || true)",
     ["-p", "dialtone-scenario", "--test", "it", "moving_back_from"]),
    # Rule db.restore_in_place_target: restore onto a copy whose disk and server exist.
    ("db.restore_in_place_target", M + "world/actions/recovery.rs",
     "        if usable(db.active) {\n", "        if true {\n",
     ["-p", "dialtone-scenario", "--test", "it", "moving_back_from"]),
    # Rule causes.stack in the timeline: a repair that leaves the server down says so.
    ("causes.stack_timeline", M + "world/events.rs",
     "(true, true) => \"power-on-still-down\",", "(true, true) => \"power-on\",",
     ["-p", "dialtone-scenario", "--test", "it", "a_repair_that_leaves"]),
    # Rule playbook.reseed_after_restore: the copies come back after a restore.
    ("playbook.reseed_after_restore", S + "playbook/restore.rs",
     "        reseed_copies(b, org, h, mount);\n", "",
     RESTORE_TESTS),
    # Rule db.restore_needs_backup: nothing to restore without a backup.
    ("db.restore_needs_backup", M + "world/actions/recovery.rs",
     "        if self.dbs[d].backup_taken {\n", "        if true {\n",
     ["-p", "dialtone-model", "--lib", "restore"]),
    ("db.restore_needs_backup_validation", S + "validate/mod.rs",
     "Some(d) if world.timing.backup_every.is_none() =>", "Some(d) if false =>",
     RESTORE_TESTS),
    ("db.restore_needs_backup_warning", S + "validate/warnings.rs",
     "matches!(f.when, When::At { at, .. } if at < first)", "false",
     RESTORE_TESTS),
    ("transport.safety_net_lag", S + "validate/warnings.rs",
     ".any(|c| c.replay_lag > hold)", ".any(|c| c.replay_lag > hold && false)",
     RESTORE_TESTS),
    # Rule world.arrivals: mail that arrived before a change point is offered before it.
    ("world.arrivals_change_points", M + "world/mod.rs",
     "let check = if matches!(ev, Event::BucketWake(_) | Event::HelpdeskTick) {",
     "let check = if !matches!(ev, Event::MailTick) {"),
    ("world.arrivals_split", M + "world/mail.rs",
     "binomial(split, *pending, share.1)", "*pending"),
    # Rule world.arrivals_touched: a change point splits only the groups it may re-route,
    # each from its own last split; a failover splits its database's groups.
    ("world.arrivals_touched_share", M + "world/mail.rs",
     "let elapsed = now.saturating_duration_since(from).as_millis() as f64;",
     "let elapsed = now.as_millis() as f64;"),
    ("world.arrivals_touched_from", M + "world/mail.rs",
     "(k > 0).then_some((k, from))", "(k > 0).then_some((k, SimTime::ZERO))"),
    ("world.arrivals_touched_failover", M + "world/touched.rs",
     "Some(self.groups_of_db(*d))", "{ let _ = d; Some(Touched::default()) }"),
    # A partial pass advances only the databases it names.
    ("world.arrivals_touched_only", M + "world/replication.rs",
     "if only.is_some_and(|o| o.binary_search(&(d as u32)).is_err()) {", "if false {",
     ["-p", "dialtone-model", "--lib", "a_partial_replication_pass"]),
    # An action also touches the databases waiting for Active Manager's retry.
    ("world.arrivals_touched_retries", M + "world/touched.rs",
     "*on |= wait.is_some();", "*on |= wait.is_some() && false;",
     ["-p", "dialtone-model", "--lib", "waiting_for_active_managers_retry"]),
    # Client events split nothing and advance nothing, even in a quiet stretch.
    ("world.arrivals_touched_clients", M + "world/mod.rs",
     "let check = if matches!(ev, Event::BucketWake(_) | Event::HelpdeskTick) {",
     "let check = if false {",
     ["-p", "dialtone-model", "--lib", "a_client_event_in_a_quiet_stretch"]),
    # Rule perf.safety_net_spread: quiet mail's hourly stamps are drawn when a take-back
    # reads them.
    ("perf.safety_net_spread", M + "transport.rs",
     "if d.from >= d.at {", "if d.from >= d.at || d.count > 0 {",
     ["-p", "dialtone-model", "--lib", "transport"]),
    # A database's replication advances with its groups' splits: a change point that
    # does not touch it leaves its clock.
    ("world.arrivals_touched_clock", M + "world/replication.rs",
     "if only.is_none() {", "if only.is_none() || only.is_some() {",
     ["-p", "dialtone-model", "--lib", "whole_interval"]),
    # Rule transport.restore_loss: a restore loses what the restored database received,
    # not the mail a dial tone database received later.
    ("transport.restore_loss", M + "transport.rs",
     "list.partition_point(|d| d.at <= until)", "list.len()",
     ["-p", "dialtone-model", "--lib", "transport"]),
    # The 2003 Recovery Storage Group procedure (seed 003).
    ("rsg.preconditions", S + "validate/strategy.rs",
     "if server_lost && !i.options.active_directory_elsewhere {", "if false {",
     ["-p", "dialtone-scenario", "--test", "it", "rsg"]),
    ("rsg.rebuild", S + "playbook/dial_tone.rs",
     "            c.rebuild.clone(),\n",
     "            StepKind::Act(Action::RebuildServer { server: s }).default_duration(),\n",
     ["-p", "dialtone-scenario", "--test", "it", "rsg"]),
    ("rsg.remove_mailboxes_first", S + "playbook/dial_tone.rs",
     "            &[remove],\n", "            &[],\n",
     ["-p", "dialtone-scenario", "--test", "it", "rsg"]),
    ("rsg.merge", S + "playbook/dial_tone.rs",
     "    if c.merge {\n        let done", "    if false {\n        let done",
     ["-p", "dialtone-scenario", "--test", "it", "rsg"]),
    ("rsg.exmerge", S + "playbook/dial_tone.rs",
     "(org.world.timing.merge_mailboxes_per_hour / 2).max(1)",
     "org.world.timing.merge_mailboxes_per_hour",
     ["-p", "dialtone-scenario", "--test", "it", "rsg"]),
    # A partial datacenter failure stops inbound mail only if transport stops.
    ("strategy.inbound_mail_warning", S + "validate/warnings.rs",
     "*s == mx && services.contains(&ServiceKind::Transport)", "*s == mx",
     ["-p", "dialtone-scenario", "--test", "it", "matrix"]),
    # Start-DAG (the switchback) undoes Stop-DAG: its copies truncate again.
    ("strategy.stopped_copies_fill", S + "validate/warnings.rs",
     "                        *x = on;\n", "                        *x = true;\n",
     ["-p", "dialtone-scenario", "--test", "it", "stopped"]),
    # Only a volume that fills before the horizon is worth a warning.
    ("strategy.stopped_copies_fill_horizon", S + "validate/warnings.rs",
     "(days < days_left).then_some((d, days))", "Some((d, days))",
     ["-p", "dialtone-scenario", "--test", "it", "stopped"]),
    # A playbook that moves the MX record lets mail in.
    ("strategy.inbound_mail_mx_moved", S + "validate/warnings.rs",
     "    if moves_mx {\n", "    if false {\n",
     ["-p", "dialtone-scenario", "--test", "it", "matrix"]),
    # The strategy x failure matrix (docs/SCENARIOS.md): restore-only after a site loss
    # must be refused with its reason, not run zero steps.
    ("strategy.matrix_answer", S + "strategy.rs",
     "Answer::Refused(DATACENTER_FAILURE),\n        WanCut | WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),\n    }\n}\n\n/// `none`.",
     "Answer::Steps,\n        WanCut | WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),\n    }\n}\n\n/// `none`.",
     ["-p", "dialtone-scenario", "--test", "it", "matrix"]),
    # Strategies without steps answer a failure or say why not too.
    ("strategy.matrix_no_action", S + "validate/strategy.rs",
     "        input.failure()?;\n", "",
     ["-p", "dialtone-scenario", "--test", "it", "matrix"]),
    # Rule metrics.rto: back is the last restoration of the original data; down again at
    # the end = never back (issue 12 §6: one definition for every strategy).
    ("metrics.rto_last_back", M + "world/homes.rs",
     "                self.service_back = None;\n                self.data_back = None;\n", "",
     ["-p", "dialtone-model", "--lib", "homes"]),
    ("metrics.rto_data", M + "world/homes.rs",
     "let whole = home.history_ready == home.users && self.merge_finished(id);", "let whole = true;",
     ["-p", "dialtone-scenario", "--test", "it", "down_again"]),
    ("metrics.rto_swap_pause", M + "world/homes.rs",
     "            if !planned {\n                self.service_back = None;\n            }\n", "            self.service_back = None;\n",
     ["-p", "dialtone-model", "--lib", "homes"]),
    ("network.reachability", M + "network.rs",
     "if self.site_up[a.index()] && self.site_up[b.index()] {", "if true {"),
    ("server.capacity", M + "server.rs",
     "capacity.map_or(active, |c| active.min(c))", "capacity.map_or(active, |_| active)"),
    ("quorum.majority", M + "quorum.rs",
     ".find(|&l| 2 * self.votes_in(p, l) > total);", ".find(|&l| 2 * self.votes_in(p, l) >= total);"),
    ("quorum.dynamic", M + "quorum.rs",
     "self.weight[i] = self.in_cluster[i] && p.member_partition[i] == Some(l);", "self.weight[i] = self.in_cluster[i];"),
    ("quorum.stale_config", M + "quorum.rs",
     "stale_here > 0 && 2 * votes > old_total", "false"),
    ("dac.mount_gate", M + "dac.rs",
     "self.bit[m] && !self.view[site][m].stopped", "!self.view[site][m].stopped"),
    ("dac.bit_all_members", M + "dac.rs",
     "if peer_has_bit || all_started_reachable || witness_rule {", "if peer_has_bit || witness_rule {"),
    ("dac.stopped_list", M + "dac.rs",
     "let started = |i: usize| !self.view[v.site][i].stopped;", "let started = |_i: usize| true;"),
    ("dac.two_member_witness", M + "dac.rs",
     "set_at >= witness_boot", "set_at > witness_boot"),
    ("dac.witness_boot_time", M + "world/quorum.rs",
     ".map(|w| self.booted_at[w.index()])", ".map(|_| SimTime::ZERO)"),
    ("dac.bit_reconsidered", M + "world/quorum.rs",
     "                self.dac.reconsider(&v.view());\n", "                let _ = &v;\n"),
    ("dac.restore_started_only", M + "world/actions/cluster.rs",
     ".partition(|&m| !self.dac.stopped_in(site.index(), m));", ".partition(|_| true);"),
    ("cluster.add_server", M + "world/actions/cluster.rs",
     "        self.cluster.add_back(m);\n        self.clussvc(server, true, now);\n",
     "        self.clussvc(server, true, now);\n"),
    ("cluster.node_majority", M + "world/actions/cluster.rs",
     "        self.witness = None;\n        self.cluster.set_witness_configured(false);\n", ""),
    ("playbook.switchback_connected", S + "playbook/switchback.rs",
     "\"wait for the primary to be repaired and reachable\",\n        Cond::SiteConnected(x, y),",
     "\"wait for the primary to be repaired and reachable\",\n        Cond::SiteUp(x),", SWITCHBACK),
    ("playbook.switchback_window_after_resync", S + "playbook/switchback.rs",
     "DurationDist::Fixed(after),\n        &synced,", "DurationDist::Fixed(after),\n        &[up],", SWITCHBACK),
    ("playbook.switchback_dns_after_dismount", S + "playbook/switchback.rs",
     "Action::ChangeDns { record: r, site: x },\n                &dismounts,",
     "Action::ChangeDns { record: r, site: x },\n                &[outage],", SWITCHBACK),
    ("playbook.switchback_propagation", S + "playbook/switchback.rs",
     "(org.world.dns.propagation.as_millis())", "(0u64)", SWITCHBACK),
    ("playbook.switchback_refused_move", S + "playbook/switchback.rs",
     "db: DbRef::Original,\n            },\n        ),\n        &[after],",
     "db: DbRef::DialTone,\n            },\n        ),\n        &[after],", SWITCHBACK),
    ("playbook.switchback_add_server", S + "playbook/switchback.rs",
     "    if dc.dac {\n        return vec![b.act(", "    if true {\n        return vec![b.act(", SWITCHBACK),
    ("playbook.skip_checks_decision", S + "playbook/switchover.rs",
     "skip_checks: dc.accept_data_loss,\n                },\n                &ready,",
     "skip_checks: true,\n                },\n                &ready,", SWITCHBACK),
    ("playbook.node_majority", S + "playbook/switchover.rs",
     "if !survivors.is_multiple_of(2) && dag.witness.is_some() {", "if false {", SWITCHBACK),
    ("dns.uniform_phase", M + "dns.rs",
     "phase + (t_ms - phase) / ttl * ttl", "t_ms"),
    ("dns.ttl_cap", M + "dns.rs",
     "self.ttl.min(RESOLVER_TTL_CAP)", "self.ttl"),
    ("am.mount_dial", M + "active_manager.rs",
     "MountDial::GoodAvailability => 6,", "MountDial::GoodAvailability => 7,"),
    ("am.order", M + "active_manager.rs",
     "eligible.sort_by_key(|c| (c.copy_queue, c.preference, c.copy));", "eligible.sort_by_key(|c| (c.preference, c.copy));"),
    ("am.acll", M + "active_manager.rs",
     "let remaining = if c.acll { 0 } else { c.copy_queue };", "let remaining = c.copy_queue;"),
    ("db.replay_lag", M + "database.rs",
     "let target = if lag.is_zero() {", "let target = if true {"),
    ("db.corruption_open_log", M + "database.rs",
     "let closes = how == Corruption::Shipped;", "let closes = how == Corruption::Shipped || true;", DB_TESTS),
    ("db.corruption_closed_log_closes", M + "database.rs",
     "let closes = how == Corruption::Shipped;", "let closes = how == Corruption::Shipped && false;", DB_TESTS),
    ("db.corruption_closed_log_ships", M + "database.rs",
     "DbState::Mounted | DbState::Failed(FailReason::Corrupt)", "DbState::Mounted", DB_TESTS),
    ("db.corruption_lagged_behind_survives", M + "database.rs",
     ".is_some_and(|g| self.copies[i].replayed >= g)", ".is_some_and(|g| self.copies[i].copied >= g)", DB_TESTS),
    ("db.corruption_activation_clamps_truncation", M + "database.rs",
     "self.truncated_below = self.truncated_below.min(g);", "", DB_TESTS),
    ("db.truncation", M + "database.rs",
     ".filter(|&(i, c)| i != self.active && c.health != CopyHealth::FailedAndSuspended)", ".filter(|&(i, c)| i != self.active && c.health == CopyHealth::Healthy && false)"),
    ("db.lost_messages", M + "database.rs",
     "(g * LOG_KB / self.params.message_kb.max(1)).min(self.messages)", "(g * LOG_KB / self.params.message_kb.max(1) + 1).min(self.messages)"),
    ("db.restore_truncated", M + "database.rs",
     "        if self.roll_forward_possible() {", "        if true {"),
    ("db.restore_lost_active_volume", M + "database.rs",
     "                    self.state != DbState::Failed(FailReason::DiskLost)\n", "                    true\n"),
    ("db.restore_lost_passive_volume", M + "database.rs",
     "matches!(c.health, CopyHealth::Healthy | CopyHealth::Suspended)", "true"),
    ("db.restore_failover_from_lost_disk", M + "database.rs",
     "            self.copies[old].health = CopyHealth::FailedAndSuspended;\n", ""),
    # The database layout shorthand (validate/layout.rs), tested by the layout tests.
    ("layout.placement", S + "validate/layout.rs",
     "out.push(g[(i + k) % g.len()].clone());", "out.push(g[k % g.len()].clone());", LAYOUT),
    ("layout.site_share", S + "validate/layout.rs",
     "if left > 0 && q[g] < n {", "if left > 0 && q[g] < n && g == 0 {", LAYOUT),
    ("layout.lagged", S + "validate/layout.rs",
     "lag.filter(|_| j >= lagged_from)", "lag.filter(|_| j + 1 >= lagged_from)", LAYOUT),
    ("layout.users_spread", S + "validate/layout.rs",
     "move |i| each + u64::from((i as u64) < extra)", "move |_| each", LAYOUT),
    ("db.circular_default", S + "validate/databases.rs",
     "!backups && copies >= 3", "copies >= 3", RESTORE_TESTS),
    ("db.circular_override", S + "validate/databases.rs",
     "circular_logging: db.circular_logging.unwrap_or_else(|| {", "circular_logging: None.unwrap_or_else(|| {", RESTORE_TESTS),
    ("db.circular_warning", S + "validate/warnings.rs",
     ".filter(|&(i, db)| restored[i] && db.params.circular_logging)", ".filter(|_| false)", RESTORE_TESTS),
    ("restore.rate", M + "restore.rs",
     "self.rates.stream.min(self.rates.total / n).max(1)", "self.rates.stream.max(1)"),
    # Rule restore.streams: at most `streams` restores read; the rest queue, FIFO.
    ("restore.streams", M + "restore.rs",
     "while self.reading.len() < self.rates.streams.max(1) {", "while !self.queued.is_empty() {"),
    ("restore.streams_fifo", M + "restore.rs",
     "match self.queued.pop_front() {", "match self.queued.pop_back() {"),
    ("restore.streams_scenario", S + "validate/topology.rs",
     "streams: self.restore_streams(t.backup.restore_streams),", "streams: usize::MAX,",
     ["-p", "dialtone-scenario", "--test", "it", "restore_streams"]),
    # Rule db.seed_source: seeds from one source server share its rate.
    ("db.seed_source", M + "seeding.rs",
     "ms += ((left - served) * (n - k as u128)).div_ceil(rate);", "ms += (left - served).div_ceil(rate);"),
    ("db.seed_source_per_server", M + "seeding.rs",
     ".filter(|&i| self.running[i].source == src)", ".filter(|_| true)"),
    ("db.seed_source_advance", M + "seeding.rs",
     "dt * rate / n\n", "dt * rate\n"),
    ("db.seed_abandon", M + "world/actions/databases.rs",
     "k.copy != db.active && db.copies[k.copy].health == CopyHealth::Seeding(done)", "k.copy != db.active || done > now"),
    ("restore.size", M + "restore.rs",
     "left: u128::from(bytes) * 1000,", "left: 1 << 50,"),
    ("restore.replay", M + "restore.rs",
     "let ms = millibytes.div_ceil(u128::from(self.replay.max(1)));", "let ms = millibytes / u128::MAX;"),
    ("transport.shadow", M + "transport.rs",
     "if p.shadow_redundancy {", "if false {"),
    ("transport.safety_net", M + "transport.rs",
     "(lost, held && !p.safety_net_hold.is_zero());", "(lost, false);"),
    # Safety Net has a place (issue 11 §3) and a power loss keeps the queue (§7).
    ("transport.safety_net_place", M + "transport.rs",
     "let from = if primary && reachable {", "let from = if primary {"),
    ("transport.safety_net_reach", M + "transport.rs",
     "(self.down_since(s).is_none() && path.reaches_authoritative(r.db, s))", "self.down_since(s).is_none()"),
    ("transport.safety_net_shadow_12h", M + "transport.rs",
     "now.saturating_duration_since(r.at) >= p.safety_net_shadow_after", "true"),
    ("transport.safety_net_primary_lost", M + "transport.rs",
     ".is_none_or(|lost| lost < at)", ".is_none_or(|_| true)"),
    ("transport.resubmit_auto", M + "transport.rs",
     "        self.take_back(now, db, lost, true, SimTime::MAX);\n        self.request_resubmit(now, db)\n",
     "        self.take_back(now, db, lost, true, SimTime::MAX);\n        0\n"),
    ("transport.resubmit_manual", M + "world/actions/recovery.rs",
     ".restore_loss(now, DatabaseId::from(home.index()), lost, until);", ".lossy_mount(now, DatabaseId::from(home.index()), lost);"),
    ("transport.power_cycle", M + "transport.rs",
     "            self.down_since[s] = Some(now);\n",
     "            self.down_since[s] = Some(now);\n            self.server_lost(now, server);\n"),
    ("transport.power_cycle_shadow", M + "transport.rs",
     ".is_some_and(|t| now.saturating_duration_since(t) >= p.shadow_resubmit)", ".is_some_and(|_| false)"),
    # A step skips asking for take-overs only while no server has been down that long.
    ("perf.hub_takes_over", M + "transport.rs",
     ".any(|&t| now.saturating_duration_since(t) >= p.shadow_resubmit)",
     ".any(|&t| now.saturating_duration_since(t) > p.shadow_resubmit)",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("transport.safety_net_index", M + "transport.rs",
     "let d = &mut list[i - 1];", "let d = &mut list[0];"),
    # The hub queue's groups (rule perf.hub_groups): only groups with the same next try
    # join; retries come in buckets of increasing next tries; a joined group keeps the
    # offer time of its oldest batch, which decides when anything in it expires.
    # A bucket waiting for its DNS refresh is evaluated again when a change still
    # propagating becomes authoritative (its cached answer turns stale then): fuzz
    # regression run-crash-ab1f498b, checked by check_buckets_exact in debug builds.
    ("perf.clients_dns_due_propagation", M + "world/clients.rs",
     ".map_or(tick, |e| tick.min(e))", ".map_or(tick, |_| tick)",
     ["-p", "dialtone-scenario", "--test", "it", "fuzz_replay"]),
    ("perf.hub_groups", M + "transport/hub.rs",
     "(into.db, into.server, into.next) == (g.db, g.server, g.next)",
     "(into.db, into.server) == (g.db, g.server)",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("perf.hub_groups_buckets", M + "transport/hub.rs",
     "if last.is_none_or(|t| t < g.next) {", "if true {",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("perf.hub_groups_oldest", M + "transport/hub.rs",
     "        self.oldest = self.oldest.min(other.oldest);\n", "",
     ["-p", "dialtone-model", "--lib", "transport"]),
    # A group left empty by expiry leaves the queue (else the queue never empties and
    # quiet stretches stop); the count of groups, which `idle` reads, stays exact.
    ("perf.hub_groups_empty", M + "transport.rs",
     "            if !g.batches.is_empty() {\n", "            if true {\n",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("perf.hub_groups_count", M + "transport/hub.rs",
     "            _ => None,\n        }?;\n        self.groups -= 1;\n", "            _ => None,\n        }?;\n",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("transport.hub_queue", M + "transport.rs",
     "self.fates.bounced += g.expire(now, p.message_expiry);",
     "let _ = g.expire(now, p.message_expiry);"),
    # A step's deliveries to one database are recorded in offer order.
    ("transport.delivery_order", M + "transport.rs",
     "            if list.len() > 1 {\n", "            if false {\n",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("transport.delivery_order_server", M + "transport.rs",
     "(b.offered, server, b.recovered, b.count)", "(b.offered, b.recovered, b.count)",
     ["-p", "dialtone-model", "--lib", "transport"]),
    ("clients.autodiscover", M + "world/actions/recovery.rs",
     "self.buckets[b].knows_location = false;", "self.buckets[b].knows_location = true;"),
    # Issue 12 §5: nobody is pinned unless the scenario says so.
    ("clients.pinned_default", S + "spec/mod.rs",
     "fn dns_pinned() -> f64 {\n    0.0\n}", "fn dns_pinned() -> f64 {\n    0.05\n}",
     ["-p", "dialtone-scenario", "--test", "it", "clients::"]),
    # Issue 12 §5: a cached-mode user in dial tone is online or offline, never both.
    ("clients.cached_choice", M + "clients.rs",
     "        disconnected + offline_choosers,\n        without_history - offline_choosers,\n        disconnected + offline_choosers,\n",
     "        disconnected,\n        0,\n        disconnected + without_history,\n"),
    ("clients.cached_choice_e2e", M + "clients.rs",
     "        disconnected + offline_choosers,\n        without_history - offline_choosers,\n        disconnected + offline_choosers,\n",
     "        disconnected,\n        0,\n        disconnected + without_history,\n",
     ["-p", "dialtone-scenario", "--test", "it", "clients::"]),
    # Issue 12 §5: the helpdesk does not change profiles the mailboxes have left.
    ("clients.helpdesk_obsolete", M + "world/clients.rs",
     "            if self.profile_change_obsolete(h, target) {", "            if false && self.profile_change_obsolete(h, target) {"),
    # Issue 12 §6: time to service counts from the failure that caused the outage.
    ("metrics.outage_cause", S + "metrics.rs",
     "            .filter(|&f| f <= rise)\n", "            .filter(|&f| f <= first)\n", SCENARIO),
    # Issue 12 §6: the residual outage E[D²]/(2E[D]), and the users' outages it reads.
    ("metrics.residual_outage", M + "residual.rs",
     "self.sum_d2 as f64 / (2.0 * self.sum_d as f64) / 1000.0", "self.sum_d as f64 / (2.0 * self.sum_d as f64) / 1000.0 * 1000.0",
     ["-p", "dialtone-model", "--lib", "residual"]),
    ("metrics.residual_tracking", M + "residual.rs",
     "let d1 = (n * t).saturating_sub(self.s1);", "let d1 = n * t;",
     ["-p", "dialtone-model", "--lib", "residual"]),
    ("metrics.helpdesk_hours", S + "metrics.rs",
     "        changes as f64 / per_hour as f64\n", "        changes as f64 / 60.0\n", SCENARIO),
    ("clients.profile", M + "world/clients.rs",
     ".filter(|(s, _)| holds_copy(db, *s))", ".filter(|_| true)"),
    ("world.quorum_loss", M + "world/quorum.rs",
     "&& self.quorum().is_some()\n                    && self.partition_of(s) == self.quorum()", ""),
    ("world.failover", M + "world/serving.rs",
     "        self.serving[d].is_none()\n            && has_quorum", "        false && self.serving[d].is_none()\n            && has_quorum"),
    # Merges move data (issue 11 §5): a per-mailbox overhead plus the data at a throughput.
    ("world.merge_data", M + "world/actions/recovery.rs",
     "u128::from(bytes) * 1000 / u128::from(self.config.timing.merge_bytes_per_s.max(1));", "0;"),
    ("world.merge_overhead", M + "world/actions/recovery.rs",
     "u128::from(h.users) * 3_600_000 / u128::from(mailboxes_per_hour.max(1));", "0;"),
    ("world.merge_history", M + "world/actions/recovery.rs",
     ".map_or(0, |r| self.dbs[r.index()].params.size_mb)", ".map_or(0, |_| 0)"),
    ("playbook.stay_swaps", S + "playbook/dial_tone.rs",
     'let swap = b.act("swap databases", Action::Swap { home: h }, &[mount, wait]);\n    // The restored database is live',
     'let swap = wait;\n    // The restored database is live', MERGE_TESTS),
    # Mounts are finite (issue 11 §6): k databases mount at a time.
    ("world.mount_concurrency", M + "world/replication.rs",
     "let at = now.max(free).saturating_add(failover);", "let at = now.saturating_add(failover);"),
    # Active Manager retries an unmountable database on a change or after a backoff.
    ("am.retry_backoff", M + "world/replication.rs",
     "                self.retry_later(d, now, ctx);\n                return;\n", ""),
    ("am.retry_on_change", M + "world/serving.rs",
     "&& (epoch != self.am_epoch || self.serving[d].is_some())", "&& self.serving[d].is_some()"),
    # Without quorum Active Manager waits for the change that restores it, not a timer.
    ("am.retry_quorum", M + "world/quorum.rs",
     "            && self.quorum().is_none()\n", ""),
    ("am.retry_quorum_members", M + "world/quorum.rs",
     ".all(|c| self.member[c.config.server.index()].is_some())", ".all(|_| true)"),
    # A disk loss leaves a row in the timeline (issue 11 §7).
    ("timeline.disk_loss", M + "world/events.rs",
     'ctx.trace_with("disk", if up { "replaced" } else { "lost" }, || {',
     'ctx.trace_with("disk", if up { "replaced" } else { "replaced" }, || {',
     ["-p", "dialtone-scenario", "--test", "it", "disk_loss"]),
    # Failures stack: a component is up only when none of its causes is active.
    ("causes.stack", M + "causes.rs",
     "self.active.retain(|&c| c != cause);", "self.active.clear();"),
    ("causes.repair_ends_its_own", M + "world/events.rs",
     "let changed = self.set_cause(c, cause, down, now);",
     "let changed = if !down { self.replace(c, now) } else { self.set_cause(c, cause, true, now) };"),
    ("causes.admin_power", M + "world/actions/operations.rs",
     "self.set_cause(c, Cause::Admin, !on, now);",
     "if on { self.replace(c, now); } else { self.set_cause(c, Cause::Admin, true, now); }"),
    ("causes.admin_service", M + "world/actions/cluster.rs",
     "self.set_cause(c, Cause::Admin, !running, now);",
     "if running { self.replace(c, now); } else { self.set_cause(c, Cause::Admin, true, now); }"),
    ("causes.force_quorum", M + "world/actions/cluster.rs",
     "if !self.admin_can_start(Component::Service(server, ServiceKind::Cluster)) {", "if false {"),
    ("causes.rebuild", M + "world/actions/operations.rs",
     "self.replace(Component::ServerPower(server), now);",
     "self.set_cause(Component::ServerPower(server), Cause::Admin, false, now);"),
    ("causes.disk_reseed", M + "world/actions/databases.rs",
     "if !self.component_up(Component::Disk(DatabaseId::from(d), copy)) {", "if false {"),
    ("causes.failure_instance", "crates/scenario/src/runner.rs",
     "let cause = Cause::Failure(index as u32);", "let cause = Cause::Failure(0);", END_TO_END),
    ("runner.operators", S + "runner.rs",
     "|| self.crews.request(OPERATORS, ctx.now(), Work::Step(i))", "|| true", SCENARIO),
    ("runner.crews", S + "runner.rs",
     "if self.crews.request(crew, ctx.now(), Work::Repair(index)) {", "if true {", STUDY),
    ("crews.fifo", S + "crews.rs",
     "match self.queue[c].pop_first() {", "match self.queue[c].pop_last() {", SCENARIO),
    ("crews.count", S + "crews.rs",
     "let free: Vec<u32> = counts.into_iter().collect();", "let free: Vec<u32> = counts.into_iter().map(|n| n + 1).collect();", STUDY),
    # Replication and resynchronisation take time (issue 11 §4, §7).
    ("resync.stopped_member", M + "world/replication.rs",
     "&& self.dac.stopped_in(self.site_of(active).index(), m))", "&& false)"),
    ("resync.cluster_service", M + "world/replication.rs",
     "&& self.servers[s.index()].services.cluster", "", GOLDEN),
    ("resync.copy_rate", M + "database.rs",
     "let budget = dt + c.carry_ms;", "let budget = 2 * dt + c.carry_ms;"),
    ("resync.replay_rate", M + "database.rs",
     "let budget = dt + c.replay_carry_ms;", "let budget = u64::MAX / 2;"),
    ("resync.healthy_copy_queue", M + "database.rs",
     ".saturating_sub(c.copied) < HEALTHY_COPY_QUEUE", ".saturating_sub(c.copied) <= HEALTHY_COPY_QUEUE"),
    ("resync.healthy_replay_queue", M + "database.rs",
     "self.replay_queue(i) < HEALTHY_REPLAY_QUEUE", "self.replay_queue(i) <= HEALTHY_REPLAY_QUEUE"),
    ("resync.copies_healthy", M + "world/homes.rs",
     "db.copy_healthy(i))", "db.copies[i].health == crate::database::CopyHealth::Healthy)"),
    ("resync.switchback_direction", M + "world/homes.rs",
     "db.copy_healthy(i))", "db.copies[i].health == crate::database::CopyHealth::Healthy)",
     ["-p", "dialtone-scenario", "--test", "it", "directions"]),
    ("resync.activation_replay", M + "database.rs",
     "let backlog = g.saturating_sub(c.replayed);", "let backlog = 0;"),
    ("resync.acll_time", M + "database.rs",
     "pulled.saturating_mul(self.params.ms_per_log)", "0"),
    ("resync.log_volume_at_write", M + "database.rs",
     "        self.check_log_volume();\n        closed\n", "        closed\n"),
    # Studies of several arms (compare, sweep): every arm on the same seed (common random
    # numbers across variants and strategies).
    ("study.arms_share_the_seed", "crates/study/src/arms.rs",
     "run_replications_with(sc, *seed, idx, threads, &|r, e, t| done(k, r, e, t))",
     "run_replications_with(sc, seed.wrapping_add(k as u64), idx, threads, &|r, e, t| done(k, r, e, t))",
     ["-p", "dialtone-study", "--test", "it", "arms::"]),
    # A shard of a compare or sweep runs only its slice of every arm.
    ("study.arms_shard_slice", "crates/study/src/arms.rs",
     ".map_or(0..self.replications, |s| s.range(self.replications))",
     ".map_or(0..self.replications, |_| 0..self.replications)",
     ["-p", "dialtone-study", "--test", "it", "arms::"]),
    # --resume skips the replications in the journal.
    ("study.arms_resume_skips_done", "crates/study/src/arms.rs",
     ".filter(|r| d.binary_search_by_key(r, |x| x.replication).is_err())",
     ".filter(|_| !d.is_empty() || d.is_empty())",
     ["-p", "dialtone-study", "--test", "it", "arms::"]),
    # A sweep range LO..HI/N spaces N points evenly, both ends included.
    ("study.range_even_spacing", "crates/study/src/axis.rs",
     "Spacing::Count(_) => a + (b - a) * i as f64 / (n - 1) as f64,",
     "Spacing::Count(_) => a + (b - a) * i as f64 / n as f64,",
     ["-p", "dialtone-study", "--lib", "axis::"]),
    # The strategy axis (and a variant's strategy) replaces the file's strategy.
    ("study.strategy_axis", "crates/study/src/sweep.rs",
     "validate(&file, name, spec, strategy.map(|s| s.name()))",
     "validate(&file, name, spec, strategy.map(|_| \"none\").filter(|_| false))",
     ["-p", "dialtone-study", "--test", "it", "arms::"]),
    # Performance (issue 14): a database is skipped by the replication advance only when
    # advancing it would change nothing but its clock (database::tests's property test);
    # each condition of `Database::settled_when` is needed.
    ("perf.settled_replay", M + "database.rs",
     "\n                        || c.replayed < c.copied\n                        || c.replay_carry_ms != 0",
     "", DB_TESTS),
    ("perf.settled_ships", M + "database.rs",
     "|| (ships && (c.copied != self.log_gen || c.carry_ms != 0))", "", DB_TESTS),
    ("perf.settled_history", M + "database.rs",
     " || !self.closed_at.is_empty()", "", DB_TESTS),
    ("perf.settled_log_volume", M + "database.rs",
     " && !self.log_volume_full()", "", DB_TESTS),
    ("perf.settled_seeding", M + "database.rs",
     "CopyHealth::Seeding(_) => true,", "CopyHealth::Seeding(_) => false,", DB_TESTS),
    # Rule perf.replication_dirty: a database found unsettled stays listed; every mutable
    # access lists one; a server whose partition, DAG membership or DAC stopped flags
    # changed lists the databases with a copy on it; a listed database forgets its
    # connectivity. Debug builds assert that every unlisted database is settled.
    ("perf.replication_rescan", M + "world/replication.rs",
     "            let stays = !db.settled_when(connected);", "            let stays = false;"),
    ("perf.replication_mark_on_write", M + "world/dbs.rs",
     "    fn index_mut(&mut self, d: usize) -> &mut Database {\n        self.touch(d);",
     "    fn index_mut(&mut self, d: usize) -> &mut Database {"),
    ("perf.replication_partition", M + "world/replication.rs",
     "let key = (self.partition_of(sid), self.runs_in_dag(sid));",
     "let key = (None::<u32>, self.runs_in_dag(sid));"),
    ("perf.replication_runs", M + "world/replication.rs",
     "let key = (self.partition_of(sid), self.runs_in_dag(sid));",
     "let key = (self.partition_of(sid), true);"),
    ("perf.replication_stopped", M + "world/replication.rs",
     "changed |= *was != now_stopped;", "changed |= false;"),
    ("perf.replication_forget_shipping", M + "world/dbs.rs",
     "        self.shipping[d] = None;\n", ""),
    # A database's log shipping is kept across changes to it while its active copy stays.
    ("perf.replication_shipping_active", M + "world/dbs.rs",
     ".filter(|&(active, _)| active == self.v[d].active)", ".filter(|_| true)"),
    # Rule perf.playbook_ready: a step whose last `after` step finished is ready.
    ("perf.playbook_ready", S + "runner.rs",
     "                self.ready.push(j);\n", "", END_TO_END),
    # A refresh skips a client bucket only when its evaluation would change nothing.
    ("perf.clients_home_inputs", M + "world/clients.rs",
     "if now_inputs.is_none() || old != now_inputs {", "if now_inputs.is_none() {", END_TO_END),
    ("perf.clients_reprofile_unquiet", M + "world/clients.rs",
     "                    self.bucket_quiet.unquiet(b);\n", "", END_TO_END),
    # A refresh visits only loud buckets and the buckets of groups whose inputs changed.
    ("perf.clients_dirty_groups", M + "world/clients.rs",
     "            visit.extend_from_slice(self.bucket_quiet.group_buckets(h as usize));\n", ""),
    # Rule perf.clients_waiting: a bucket waits (is skipped) only when its evaluation
    # changed nothing but a wake, and only until that wake.
    ("perf.clients_waiting_due", M + "clients.rs",
     "            if w <= now {", "            if w < now {"),
    # Rule perf.serve_tables: a member leaving the running partition keeps the view it
    # shared (the tables themselves are shared by both sides of the exhaustive test).
    ("perf.serve_views_freeze", M + "world/serving.rs",
     "                views.follows[m] = false;\n", ""),
    ("perf.serve_views_copy", M + "world/serving.rs",
     "                views.own[m].clone_from(&views.current);\n", ""),
    # Rule perf.refresh_changes: a refresh serves the databases and checks the groups
    # something changed, found from marks set by every mutable access; debug builds
    # assert after every refresh that serving or checking anything else changes nothing.
    ("perf.refresh_touch_db", M + "world/dbs.rs",
     "    fn touch(&mut self, d: usize) {\n        self.touched.mark(d);\n",
     "    fn touch(&mut self, d: usize) {\n"),
    ("perf.refresh_touch_home", M + "world/homes.rs", "        self.touched.mark(h);\n", ""),
    ("perf.refresh_db_key_failed", M + "world/changes.rs",
     "failed |= 1 << i;", "failed |= 0;"),
    ("perf.refresh_db_groups", M + "world/changes.rs",
     "                ch.serve.mark(d);\n                for &h in &ch.db_groups[d] {\n                    ch.groups.mark(h as usize);\n                }\n",
     "                ch.serve.mark(d);\n"),
    ("perf.refresh_serving_groups", M + "world/changes.rs",
     "        if before != after {\n            for &h in &ch.db_groups[d] {",
     "        if false {\n            for &h in &ch.db_groups[d] {"),
    ("perf.refresh_home_serves", M + "world/changes.rs", "        ch.serve.mark(key.current);\n", ""),
    ("perf.refresh_no_mount", M + "world/changes.rs", "            ch.no_mount.mark(d);\n", ""),
    ("perf.refresh_failover", M + "world/replication.rs", "        self.changes.serve.mark(d);\n", ""),
    ("perf.refresh_over_capacity", M + "world/changes.rs", "                    groups.push(h as u32);\n", ""),
    # Rule perf.clients_dns_due: while DNS answers settle, a quiet bucket waits only until
    # its next DNS refresh.
    ("perf.clients_dns_due", M + "world/clients.rs",
     "(Evaluated::Quiet, Some(t)) => self.bucket_quiet.evaluated_waiting(b, t),",
     "(Evaluated::Quiet, Some(_)) => self.bucket_quiet.evaluated(b, true),"),
    # Mail held by senders is handled per offer instant and only when due (issue 14:
    # a permanent outage of the MX endpoint scanned every queued batch at every step).
    ("perf.sender_waves_due", M + "transport.rs",
     "self.sender_queue.pop_front_if(|w| w.next <= now)", "self.sender_queue.pop_front()",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    ("perf.sender_waves_order", M + "transport.rs",
     "due.sort_unstable_by_key(|w| w.seq);", "",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    # Held mail is pruned in full hourly; a read database is pruned up to the last step.
    ("perf.prune_catch_up", M + "transport.rs",
     "until: SimTime) {\n        self.catch_up(db);\n", "until: SimTime) {\n",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    # A step scans the hub queue only when a batch is due, and asks the world once per
    # database and server.
    ("perf.hub_due_earliest", M + "transport.rs",
     "if self.hub_queue.earliest() > now {", "if self.hub_queue.earliest() >= now {",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    ("perf.hub_due_pushed", M + "transport/hub.rs",
     "let ready = self.ready.iter().map(|g| g.next).min();",
     "let ready: Option<SimTime> = None;",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    ("perf.hub_due_asked", M + "transport.rs",
     "if step == self.steps && server == from {", "if step == self.steps {",
     ["-p", "dialtone-model", "--lib", "transport::tests"]),
    # Rule draw.binomial_btrd: Hormann's BTRD gives exact binomial draws (its
    # acceptance region, the squeeze and where its lower bound holds, the exact test,
    # the recursion, the mode, the flip, the bound below which inversion is used, the
    # Stirling table).
    ("draw.binomial_btrd_centre", M + "draw.rs",
     "let u_r_v_r = 0.86 * v_r;", "let u_r_v_r = 0.9 * v_r;", DRAW_TESTS),
    ("draw.binomial_btrd_shift", M + "draw.rs",
     "let u = v / v_r - 0.43;", "let u = v / v_r - 0.42;", DRAW_TESTS),
    ("draw.binomial_btrd_squeeze", M + "draw.rs",
     "if below.is_some_and(|b| v < b) {", "if v < above {", DRAW_TESTS),
    ("draw.binomial_btrd_squeeze_tail", M + "draw.rs",
     "((km < 0.5 * npq).then_some(t - rho), t + rho)", "(Some(t - rho), t + rho)",
     DRAW_TESTS),
    ("draw.binomial_btrd_exact", M + "draw.rs",
     "v <= exact_bound(nf, m, k, r)", "v <= exact_bound(nf, m, k, r) + 0.1",
     DRAW_TESTS),
    ("draw.binomial_btrd_recursion", M + "draw.rs",
     "f *= nr / i - r;", "f *= nr / i - r * 0.99;", DRAW_TESTS),
    ("draw.binomial_btrd_mode", M + "draw.rs",
     "let m = ((nf + 1.0) * p) as i64 as f64;", "let m = ((nf + 1.0) * p) as i64 as f64 + 2.0;",
     DRAW_TESTS),
    ("draw.binomial_btrd_flip", M + "draw.rs",
     "return if flipped { n - k } else { k };", "return k;", DRAW_TESTS),
    ("draw.binomial_btrd_bound", M + "draw.rs",
     "const BTRD_FROM: f64 = 10.0;", "const BTRD_FROM: f64 = 1.0;", DRAW_TESTS),
    ("draw.binomial_btrd_tail", M + "draw.rs",
     "if k < 10.0 {", "if k < 1.0 {", DRAW_TESTS),
    # Quiet stretches: mail before the last tick is written as shipped, and a stretch
    # runs only while nothing waits.
    ("world.quiet_stretches_shipped", M + "world/quiet.rs",
     "self.dbs[d].write_shipped(g, old, |i| i < 64 && conn & (1 << i) != 0);",
     "let _ = conn;\n                self.dbs[d].write(g, old);",
     ["-p", "dialtone-model", "--lib", "world::quiet::tests"]),
    ("world.quiet_stretches_keep_up", M + "database.rs",
     "                    if tick_logs * per_log > tick_ms as f64 / 2.0 {\n                        return None;\n                    }\n",
     "",
     ["-p", "dialtone-model", "--lib", "quiet"]),
]


def regression_files():
    """Where proptest saves failures: `src/` tests in `CRATE/proptest-regressions/`,
    integration tests beside the test (`tests/NAME.proptest-regressions`) or in
    `tests/proptest-regressions/` (a test in a folder)."""
    crates = pathlib.Path("crates")
    return sorted(
        set(crates.glob("*/proptest-regressions/**/*.txt"))
        | set(crates.glob("*/tests/**/*.proptest-regressions"))
        | set(crates.glob("*/tests/proptest-regressions/**/*.txt"))
    )


def regressions():
    """The proptest regression files and their contents: a mutant's failures are saved
    there by proptest, and must not outlive the mutant."""
    return {f: f.read_text() for f in regression_files()}


def restore_regressions(saved):
    for f in regression_files():
        if f not in saved:
            f.unlink()
    for f, text in saved.items():
        if f.read_text() != text:
            f.write_text(text)


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    survived = []
    saved = regressions()
    for name, path, old, new, *args in MUTATIONS:
        args = args[0] if args else ["-p", "dialtone-model"]
        if only not in name:
            continue
        p = pathlib.Path(path)
        text = p.read_text()
        if text.count(old) != 1:
            print(f"STALE     {name}: snippet not found once in {path}; update this script")
            survived.append(name)
            continue
        p.write_text(text.replace(old, new))
        try:
            r = subprocess.run(["cargo", "test", "-q", *args],
                               capture_output=True, text=True)
        finally:
            p.write_text(text)
            restore_regressions(saved)
        if r.returncode == 0:
            print(f"SURVIVED  {name}")
            survived.append(name)
        else:
            print(f"caught    {name}")
    print(f"{len(survived)} survived" + (f": {', '.join(survived)}" if survived else ""))
    sys.exit(1 if survived else 0)


if __name__ == "__main__":
    main()
