//! Actions: one engine function per thing a user can do, shared by every edge.
//!
//! Each takes the [`Caller`] (who, from where) and does, in order: the role check, the
//! validation, the change and its audit entry — the last two in **one transaction**, so an
//! action is never done without its entry nor its entry written for an action that failed.
//! REST handlers, server functions and the CLI only parse, call one of these and map the error
//! (the same way: [`crate::Error::http_status`]).
//!
//! Tasks' actions (submit, cancel, re-run, delete) live on [`crate::runner::Runner`], which
//! also wakes its workers; they follow the same rule.

pub mod access;
pub mod agent_files;
pub mod agents;
pub mod knowledge;
pub mod personas;
pub mod providers;
pub mod settings;
pub mod tasks;
pub mod templates;

use sqlx::AnyConnection;

use crate::Result;
use crate::auth::Principal;
use crate::store::audit;
use crate::store::sessions::ClientInfo;

/// Who is acting and from where: what every action needs for its role check and audit entry.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The authenticated caller.
    pub who: &'a Principal,
    /// Their address and user agent, for the audit log.
    pub client: &'a ClientInfo,
}

impl<'a> Caller<'a> {
    /// A caller.
    pub fn new(who: &'a Principal, client: &'a ClientInfo) -> Self {
        Self { who, client }
    }

    /// Appends the audit entry of this caller's action on `conn` (inside the action's
    /// transaction).
    pub async fn audit(
        &self,
        conn: &mut AnyConnection,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) -> Result<()> {
        audit::append(
            conn,
            &audit::entry(self.who, self.client, action, target, details),
        )
        .await?;
        Ok(())
    }
}
