//! Workspace settings: small JSON values under well-known keys.

use sqlx::{Any, Executor};

use crate::{Error, Result, now_ms};

/// The provider (id) new agents and ad-hoc runs use unless told otherwise.
pub const DEFAULT_PROVIDER: &str = "default_provider";
/// The model used with the default provider.
pub const DEFAULT_MODEL: &str = "default_model";
/// The sampling temperature used unless an agent sets its own.
pub const DEFAULT_TEMPERATURE: &str = "default_temperature";

/// Reads a setting's JSON value.
#[tracing::instrument(skip(db))]
pub async fn get<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    key: &str,
) -> Result<Option<serde_json::Value>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM system_settings WHERE workspace_id = $1 AND key = $2")
            .bind(workspace_id)
            .bind(key)
            .fetch_optional(db)
            .await?;
    row.map(|(text,)| {
        serde_json::from_str(&text).map_err(|e| Error::invalid("setting", e.to_string()))
    })
    .transpose()
}

/// Writes (inserts or replaces) a setting.
#[tracing::instrument(skip(db, value))]
pub async fn put<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    key: &str,
    value: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO system_settings (workspace_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (workspace_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(workspace_id)
    .bind(key)
    .bind(value.to_string())
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}
