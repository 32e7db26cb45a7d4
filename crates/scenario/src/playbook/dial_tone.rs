//! Dial tone recovery: an empty database gives users send and receive at once, the old
//! mail is restored beside it and merged in later. 2013 on the same server or on an
//! alternate server (seeds 000/001; 2007 portability, seed 002) and the 2003 Recovery
//! Storage Group method (seed 003), which is the same-server procedure in 2003's words.

use dialtone_engine::{DurationDist, SimDuration};
use dialtone_model::world::{Action, DbRef};
use dialtone_model::{HomeId, ServerId};

use super::{Builder, Cond, Org, Rsg2003, StepKind};

/// Step names of the dial tone / restore / swap procedure in each version's words.
struct Words {
    create: &'static str,
    move_: &'static str,
    mount: &'static str,
    restore: &'static str,
    /// Add-ResubmitRequest after the swap; `None` where the version has no Safety Net
    /// (2003: the mail delivered since the backup whose logs are gone stays lost).
    resubmit: Option<&'static str>,
}

/// 2013 (seed 000, exchange-facts §6).
const SAME_SERVER_2013: Words = Words {
    create: "create dial tone",
    move_: "move mailboxes to dial tone",
    mount: "mount dial tone",
    restore: "restore to recovery database",
    resubmit: Some(RESUBMIT),
};

/// Add-ResubmitRequest (Exchange 2013+: Safety Net; docs/MODEL.md).
const RESUBMIT: &str = "resubmit from Safety Net";

/// 2003 (seed 003); how the dial tone mail goes back is [`copy_back`]'s choice.
const RSG_2003: Words = Words {
    create: "recreate the mailboxes (empty store)",
    move_: "point the mailboxes at it",
    mount: "mount the new store",
    restore: "restore into the Recovery Storage Group",
    resubmit: None,
};

/// Rule `rsg.merge`: administrator time per mailbox to repair the rules and offline
/// folder files a Merge after the swap breaks (assumption, docs/MODEL.md).
const MERGE_REPAIR_PER_MAILBOX: SimDuration = SimDuration::from_millis(2 * 60_000);

/// Rule `rsg.exmerge`: the Exchange 2003 store caches mailbox permissions, so the
/// permissions ExMerge needs take effect this long after they are granted (assumption,
/// docs/MODEL.md).
const EXMERGE_PERMISSIONS: SimDuration = SimDuration::from_millis(120 * 60_000);

/// `dial-tone-same-server`: each group on its own active server.
pub(super) fn same_server(b: &mut Builder, org: Org<'_>, homes: &[HomeId]) {
    for &h in homes {
        let s = org.active_server(h);
        let swap = dial_tone_and_swap(b, h, s, &[], &SAME_SERVER_2013, org.db_name(h));
        b.act(
            "merge dial tone data",
            Action::Merge {
                home: h,
                mailboxes_per_hour: None,
            },
            &[swap],
        );
    }
}

/// `dial-tone-rsg-2003` (seed 003): remove the old mailboxes in Active Directory, rebuild
/// the lost server from bare metal under the same name (rule `rsg.rebuild`), then the
/// same-server procedure with a Recovery Storage Group, and the dial tone mail back as
/// `c` chooses ([`copy_back`]).
pub(super) fn rsg_2003(
    b: &mut Builder,
    org: Org<'_>,
    homes: &[HomeId],
    s: ServerId,
    rebuild: bool,
    c: &Rsg2003,
) {
    let manual = StepKind::Manual.default_duration();
    let remove = b.manual(
        "remove the old mailboxes (Active Directory Users and Computers, Exchange Tasks)",
        manual,
        &[],
    );
    let first = if rebuild {
        b.timed(
            "rebuild the server from bare metal: Windows, Exchange 2003 and its service pack, same name",
            StepKind::Act(Action::RebuildServer { server: s }),
            c.rebuild.clone(),
            &[remove],
        )
    } else {
        remove
    };
    for &h in homes {
        let swap = dial_tone_and_swap(b, h, s, &[first], &RSG_2003, org.db_name(h));
        copy_back(b, org, h, swap, c);
    }
}

/// Step 4 of seed 003: the dial tone mail, now in the Recovery Storage Group, back into
/// the swapped-in mailboxes. With SP1, Recover Mailbox Data: Copy (the seed's advice) or
/// Merge, which after the swap breaks rules and offline files (rule `rsg.merge`: a
/// repair by the administrators afterwards); without SP1, ExMerge (rule `rsg.exmerge`).
fn copy_back(b: &mut Builder, org: Org<'_>, h: HomeId, swap: usize, c: &Rsg2003) {
    let merge = if c.service_pack_1 {
        let name = if c.merge {
            "Recover Mailbox Data: Merge"
        } else {
            "Recover Mailbox Data: Copy"
        };
        let a = Action::Merge {
            home: h,
            mailboxes_per_hour: None,
        };
        b.act(name, a, &[swap])
    } else {
        let manual = StepKind::Manual.default_duration();
        let grant = b.manual(
            "ExMerge: map the IFS drive letter, grant permissions on every mailbox",
            manual,
            &[swap],
        );
        let wait = b.delay(
            "wait for the mailbox permissions to take effect",
            DurationDist::Fixed(EXMERGE_PERMISSIONS),
            &[grant],
        );
        // Export to PST, then import: each mailbox is handled twice.
        let rate = (org.world.timing.merge_mailboxes_per_hour / 2).max(1);
        let a = Action::Merge {
            home: h,
            mailboxes_per_hour: Some(rate),
        };
        b.act("ExMerge: export to PST and import", a, &[wait])
    };
    if c.merge {
        let done = b.wait("wait for the merge", Cond::MergeFinished(h), &[merge]);
        let mailboxes = org.world.databases[h.index()].params.mailboxes;
        let per = MERGE_REPAIR_PER_MAILBOX.as_millis();
        let d = SimDuration::from_millis(per.saturating_mul(mailboxes));
        b.manual(
            "repair the rules and offline folder files the Merge broke",
            DurationDist::Fixed(d),
            &[done],
        );
    }
}

/// Dial tone on server `s` for group `h`, restore to a recovery database on `s`, swap
/// (and resubmit where the version has Safety Net): the procedure of 2013 same-server
/// dial tone and of the 2003 Recovery Storage Group alike. Returns the swap's step.
fn dial_tone_and_swap(
    b: &mut Builder,
    h: HomeId,
    s: ServerId,
    deps: &[usize],
    w: &Words,
    db: &str,
) -> usize {
    let create = b.act(
        format!("{} {db}", w.create),
        Action::CreateDialTone { home: h, server: s },
        deps,
    );
    let mv = b.act(
        w.move_,
        Action::MoveMailboxes {
            home: h,
            to: DbRef::DialTone,
        },
        &[create],
    );
    let mount = b.act(
        w.mount,
        Action::Mount {
            home: h,
            db: DbRef::DialTone,
        },
        &[mv],
    );
    let restore = b.act(
        w.restore,
        Action::RestoreBackup { home: h, server: s },
        &[create],
    );
    let wait = b.wait("wait for the restore", Cond::RestoreFinished(h), &[restore]);
    let swap = b.act("swap databases", Action::Swap { home: h }, &[mount, wait]);
    if let Some(name) = w.resubmit {
        b.act(name, Action::ResubmitRequest { home: h }, &[swap]);
    }
    swap
}

/// `dial-tone-alternate-server` (and `-stay`): dial tone on `alt`, profiles changed by
/// the helpdesk; then either the original restored, mounted and the mailboxes moved back
/// with a merge, or (stay) history restored beside the dial tone, swapped in and the
/// dial tone mail merged into it.
pub(super) fn alternate(
    b: &mut Builder,
    org: Org<'_>,
    homes: &[HomeId],
    failed: ServerId,
    alt: ServerId,
    stay: bool,
    rebuild: bool,
) {
    let rebuild = rebuild.then(|| {
        b.act(
            "rebuild the failed server",
            Action::RebuildServer { server: failed },
            &[],
        )
    });
    for &h in homes {
        let create = b.act(
            format!("create dial tone {} on the alternate", org.db_name(h)),
            Action::CreateDialTone {
                home: h,
                server: alt,
            },
            &[],
        );
        let mv = b.act(
            "move mailbox configuration to the alternate",
            Action::MoveMailboxes {
                home: h,
                to: DbRef::DialTone,
            },
            &[create],
        );
        let mount = b.act(
            "mount dial tone",
            Action::Mount {
                home: h,
                db: DbRef::DialTone,
            },
            &[mv],
        );
        b.act(
            "helpdesk: profiles to the alternate",
            Action::ReconfigureProfiles {
                home: h,
                server: alt,
            },
            &[mv],
        );
        if stay {
            stay_on_alternate(b, h, alt, create, mount);
        } else {
            let deps: Vec<usize> = rebuild.into_iter().collect();
            move_back(b, h, failed, &deps, mount);
        }
    }
}

/// Seed 000 ("dial tone on an alternate server and stay"): restore history into a
/// recovery database on the alternate, swap it with the dial tone database there, then
/// merge the dial tone mail into it (not the whole history into the dial tone database).
fn stay_on_alternate(b: &mut Builder, h: HomeId, alt: ServerId, create: usize, mount: usize) {
    let restore = b.act(
        "restore to recovery database",
        Action::RestoreBackup {
            home: h,
            server: alt,
        },
        &[create],
    );
    let wait = b.wait("wait for the restore", Cond::RestoreFinished(h), &[restore]);
    let swap = b.act("swap databases", Action::Swap { home: h }, &[mount, wait]);
    // The restored database is live after the swap: ask Safety Net for what the restore
    // could not roll forward into it.
    b.act(RESUBMIT, Action::ResubmitRequest { home: h }, &[swap]);
    b.act(
        "merge dial tone data",
        Action::Merge {
            home: h,
            mailboxes_per_hour: None,
        },
        &[swap],
    );
}

/// Restore the original in place, mount it, move the mailboxes and profiles back, merge
/// the dial tone data.
fn move_back(b: &mut Builder, h: HomeId, failed: ServerId, deps: &[usize], mount: usize) {
    let restore = b.act(
        "restore the original database",
        Action::RestoreInPlace { home: h },
        deps,
    );
    let wait = b.wait("wait for the restore", Cond::RestoreFinished(h), &[restore]);
    let mount_orig = b.act(
        "mount the restored database",
        Action::Mount {
            home: h,
            db: DbRef::Original,
        },
        &[wait],
    );
    let back = b.act(
        "move mailbox configuration back",
        Action::MoveMailboxes {
            home: h,
            to: DbRef::Original,
        },
        &[mount_orig, mount],
    );
    b.act(RESUBMIT, Action::ResubmitRequest { home: h }, &[back]);
    b.act(
        "helpdesk: profiles back",
        Action::ReconfigureProfiles {
            home: h,
            server: failed,
        },
        &[back],
    );
    b.act(
        "merge dial tone data",
        Action::Merge {
            home: h,
            mailboxes_per_hour: None,
        },
        &[back],
    );
}
