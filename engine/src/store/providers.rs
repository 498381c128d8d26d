//! Provider credentials per workspace. API keys are stored only encrypted (see the identity
//! issue); this module never sees a plaintext key.

use serde::Serialize;
use sqlx::{Any, Executor, FromRow};

use crate::domain::ProviderKind;
use crate::{Result, new_id, now_ms};

/// A configured provider, as safe to show: the key appears only as its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Provider {
    /// UUIDv7.
    pub id: String,
    /// Owning workspace.
    pub workspace_id: String,
    /// Unique name within the workspace.
    pub name: String,
    /// `openai`, `anthropic`, `gemini`, `openai_compatible` or `simulator`.
    pub kind: String,
    /// Endpoint override (required for OpenAI-compatible servers).
    pub base_url: Option<String>,
    /// The last four characters of the key, when one is set.
    pub api_key_last4: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Adds a provider without a key (the simulator, or a keyless local server).
#[tracing::instrument(skip(db))]
pub async fn create_keyless<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    name: &str,
    kind: ProviderKind,
    base_url: Option<&str>,
) -> Result<Provider> {
    let now = now_ms();
    let provider = Provider {
        id: new_id(),
        workspace_id: workspace_id.to_owned(),
        name: name.to_owned(),
        kind: kind.as_str().to_owned(),
        base_url: base_url.map(str::to_owned),
        api_key_last4: None,
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO providers (id, workspace_id, name, kind, base_url, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&provider.id)
    .bind(&provider.workspace_id)
    .bind(&provider.name)
    .bind(&provider.kind)
    .bind(&provider.base_url)
    .bind(now)
    .execute(db)
    .await?;
    Ok(provider)
}

/// Providers of a workspace, by name.
#[tracing::instrument(skip(db))]
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> Result<Vec<Provider>> {
    Ok(sqlx::query_as(
        "SELECT id, workspace_id, name, kind, base_url, api_key_last4, created_at \
         FROM providers WHERE workspace_id = $1 ORDER BY name",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?)
}
