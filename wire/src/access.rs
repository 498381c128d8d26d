//! Who may act: API keys, workspace members and their credits.

use serde::{Deserialize, Serialize};

/// An API key as lists show it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ApiKey {
    /// Id.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// A label chosen by the owner.
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it last authenticated a request (updated at most once a minute).
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// A new key: the key itself, shown this once, and how lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedKey {
    /// The key (`fdk_…`): store it now, it cannot be shown again.
    pub key: String,
    /// The key as lists show it.
    pub api_key: ApiKey,
}

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Member {
    /// User id.
    pub id: String,
    /// Lower-case e-mail address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// `admin`, `developer` or `viewer`.
    pub role: String,
    /// Credit balance.
    pub credits: i64,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// One row of the credit ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct LedgerEntry {
    /// Id.
    pub id: String,
    /// Whose balance changed.
    pub user_id: String,
    /// The change (negative for spending).
    pub delta: i64,
    /// The balance after it.
    pub balance_after: i64,
    /// Why, e.g. `task submission` or `top-up`.
    pub reason: String,
    /// Who caused it (the admin for top-ups).
    pub actor_user_id: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A member's balance after a top-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balance {
    /// The member.
    pub user_id: String,
    /// Their credits now.
    pub credits: i64,
}

/// A new member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Their e-mail address.
    pub email: String,
    /// A password (at least 12 characters); without one they sign in by link.
    #[serde(default)]
    pub password: Option<String>,
    /// `admin`, `developer` or `viewer`.
    pub role: String,
}

/// Credits to add to a member (by id or e-mail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TopUp {
    /// The member's id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Or their e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Credits to add (positive).
    pub amount: i64,
}

/// A new API key's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. `ci bot`.
    pub name: String,
}
