//! `restore-only`, the baseline dial tone is measured against: rebuild a lost server,
//! restore each failed database from backup over the original, mount it, and ask Safety
//! Net to resubmit the mail the restore lost (Add-ResubmitRequest); users wait. Then
//! every passive copy is reseeded from the restored database (Update-MailboxDatabaseCopy:
//! the old copies hold the corruption or nothing), so the database has redundancy again
//! when the seeds finish.

use dialtone_model::world::{Action, DbRef};
use dialtone_model::{HomeId, ServerId};

use super::{Builder, Cond, Org};

pub(super) fn restore_only(
    b: &mut Builder,
    org: Org<'_>,
    homes: &[HomeId],
    rebuild: Option<ServerId>,
) {
    let rebuild: Vec<usize> = rebuild
        .map(|s| {
            b.act(
                "rebuild the server",
                Action::RebuildServer { server: s },
                &[],
            )
        })
        .into_iter()
        .collect();
    for &h in homes {
        let restore = b.act(
            format!("restore {} from backup", org.db_name(h)),
            Action::RestoreInPlace { home: h },
            &rebuild,
        );
        let wait = b.wait("wait for the restore", Cond::RestoreFinished(h), &[restore]);
        let mount = b.act(
            "mount the restored database",
            Action::Mount {
                home: h,
                db: DbRef::Original,
            },
            &[wait],
        );
        b.act(
            "resubmit from Safety Net",
            Action::ResubmitRequest { home: h },
            &[mount],
        );
        reseed_copies(b, org, h, mount);
    }
}

/// Rule `playbook.reseed_after_restore`: reseeds every passive copy of group `h`'s
/// database after step `after` (the active copy and healthy copies are left alone).
fn reseed_copies(b: &mut Builder, org: Org<'_>, h: HomeId, after: usize) {
    let copies = &org.world.databases[h.index()].copies;
    if copies.len() < 2 {
        return;
    }
    for c in copies {
        b.act(
            format!("reseed the copy on {}", org.names.servers[c.server.index()]),
            Action::Reseed {
                home: h,
                server: c.server,
            },
            &[after],
        );
    }
}
