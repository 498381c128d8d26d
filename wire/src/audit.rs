//! The audit log: a hash chain of every change, per workspace.

use serde::{Deserialize, Serialize};

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Entry {
    /// Position in the workspace's chain, from 1.
    pub seq: i64,
    /// Id.
    pub id: String,
    /// The acting user.
    pub actor_user_id: Option<String>,
    /// Readable actor.
    pub actor: String,
    /// Action name.
    pub action: String,
    /// Target.
    pub target: String,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// JSON details.
    pub details: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// What a check of the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    /// Entries checked.
    pub entries: i64,
    /// The first seq whose entry does not match the chain, if any.
    pub first_broken_seq: Option<i64>,
}

/// Whether the audit chain is intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditCheck {
    /// True when no entry was changed or removed.
    pub intact: bool,
    /// What the check found.
    pub verification: Verification,
}
