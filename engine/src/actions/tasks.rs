//! Archiving and restoring tasks (developers and admins). Submitting, cancelling and re-running
//! belong to the runner ([`crate::runner::Runner`]), which also wakes workers and publishes.

use serde_json::json;

use super::Caller;
use crate::domain::MemberRole;
use crate::store::task_archive;
use crate::{Result, Store, now_ms};

/// Archives finished tasks: out of the tasks list, kept whole (all or nothing; one audit entry).
pub async fn archive(
    store: &Store,
    caller: Caller<'_>,
    ids: &[String],
) -> Result<wire::tasks::ArchiveOutcome> {
    set_archived(store, caller, ids, true).await
}

/// Brings archived tasks back into the list.
pub async fn restore(
    store: &Store,
    caller: Caller<'_>,
    ids: &[String],
) -> Result<wire::tasks::ArchiveOutcome> {
    set_archived(store, caller, ids, false).await
}

/// Archives (`archived` true) or restores tasks: the one action behind both.
pub async fn set_archived(
    store: &Store,
    caller: Caller<'_>,
    ids: &[String],
    archived: bool,
) -> Result<wire::tasks::ArchiveOutcome> {
    caller.who.require(MemberRole::Developer)?;
    let mut tx = store.begin().await?;
    let outcome =
        task_archive::set_archived(&mut tx, &caller.who.workspace_id, ids, archived, now_ms())
            .await?;
    let (action, target) = match (archived, ids) {
        (true, [one]) => ("task.archive", format!("task:{one}")),
        (false, [one]) => ("task.restore", format!("task:{one}")),
        (true, _) => ("task.archive", "tasks".to_owned()),
        (false, _) => ("task.restore", "tasks".to_owned()),
    };
    if outcome.changed > 0 {
        caller
            .audit(
                &mut tx,
                action,
                target,
                json!({ "ids": ids, "changed": outcome.changed }),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}
