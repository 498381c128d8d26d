//! Provider credentials per workspace. API keys are stored only encrypted (see the identity
//! issue); this module never sees a plaintext key.

use sqlx::{Any, Executor};

use crate::domain::ProviderKind;
use crate::{Result, new_id, now_ms};

pub use wire::providers::{Provider, ProviderInput};

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
    .bind(workspace_id)
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
        "SELECT id, name, kind, base_url, api_key_last4, created_at \
         FROM providers WHERE workspace_id = $1 ORDER BY name",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?)
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(crate::Error::invalid("name", "must be 1 to 80 characters"));
    }
    Ok(name.to_owned())
}

fn check_base_url(url: &str) -> Result<String> {
    let url = url.trim();
    // sim:// carries the simulator's options (see providers::simulator).
    let ok =
        (url.starts_with("http://") || url.starts_with("https://") || url.starts_with("sim://"))
            && url.len() <= 2048
            && !url.chars().any(char::is_whitespace);
    if ok {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(crate::Error::invalid(
            "base_url",
            "must be an http:// or https:// URL (sim:// for the simulator)",
        ))
    }
}

fn check_key(key: &str) -> Result<&str> {
    let key = key.trim();
    if key.len() < 8 || key.len() > 4096 || key.chars().any(char::is_whitespace) {
        return Err(crate::Error::invalid(
            "api_key",
            "must be 8 to 4096 characters without spaces",
        ));
    }
    Ok(key)
}

fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Creates a provider, sealing its API key under the master key.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    master: &crate::auth::secrets::MasterKey,
    workspace_id: &str,
    input: &ProviderInput,
) -> Result<Provider> {
    let name = check_name(input.name.as_deref().unwrap_or_default())?;
    let kind = ProviderKind::parse(input.kind.as_deref().unwrap_or_default())?;
    let base_url = input.base_url.as_deref().map(check_base_url).transpose()?;
    if kind != ProviderKind::Simulator
        && base_url.as_deref().is_some_and(|u| u.starts_with("sim://"))
    {
        return Err(crate::Error::invalid(
            "base_url",
            "sim:// addresses are only for the simulator",
        ));
    }
    if kind == ProviderKind::OpenaiCompatible && base_url.is_none() {
        return Err(crate::Error::invalid(
            "base_url",
            "is required for openai_compatible providers",
        ));
    }
    let id = new_id();
    let (sealed, tail) = match input.api_key.as_deref() {
        Some(key) => {
            let key = check_key(key)?;
            (Some(master.seal(key.as_bytes(), &id)?), Some(last4(key)))
        }
        None => (None, None),
    };
    let now = now_ms();
    sqlx::query(
        "INSERT INTO providers (id, workspace_id, name, kind, base_url, api_key_encrypted, api_key_last4, \
         key_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(&name)
    .bind(kind.as_str())
    .bind(&base_url)
    .bind(sealed)
    .bind(&tail)
    .bind(i64::from(tail.is_some()))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    get_in(&mut *conn, workspace_id, &id).await
}

/// One provider of a workspace.
pub async fn get(store: &crate::Store, workspace_id: &str, id: &str) -> Result<Provider> {
    get_in(store.pool(), workspace_id, id).await
}

/// [`get`] on any executor (a transaction, to read what it wrote).
pub async fn get_in<'e>(
    db: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    id: &str,
) -> Result<Provider> {
    sqlx::query_as(
        "SELECT id, name, kind, base_url, api_key_last4, created_at \
         FROM providers WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| crate::Error::not_found("provider", id))
}

/// Changes a provider's name, base URL or key (a new key replaces the old: rotation).
pub async fn update(
    tx: &mut sqlx::AnyConnection,
    master: &crate::auth::secrets::MasterKey,
    workspace_id: &str,
    id: &str,
    input: &ProviderInput,
) -> Result<Provider> {
    let current = get_in(&mut *tx, workspace_id, id).await?;
    if input.kind.as_deref().is_some_and(|k| k != current.kind) {
        return Err(crate::Error::invalid(
            "kind",
            "cannot be changed; create a new provider",
        ));
    }
    let name = input.name.as_deref().map(check_name).transpose()?;
    let base_url = input.base_url.as_deref().map(check_base_url).transpose()?;
    let now = now_ms();
    if let Some(name) = name {
        sqlx::query(
            "UPDATE providers SET name = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4",
        )
        .bind(name)
        .bind(now)
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(url) = base_url {
        sqlx::query("UPDATE providers SET base_url = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4")
            .bind(url)
            .bind(now)
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(key) = input.api_key.as_deref() {
        let key = check_key(key)?;
        sqlx::query(
            "UPDATE providers SET api_key_encrypted = $1, api_key_last4 = $2, key_version = key_version + 1, \
             updated_at = $3 WHERE id = $4 AND workspace_id = $5",
        )
        .bind(master.seal(key.as_bytes(), id)?)
        .bind(last4(key))
        .bind(now)
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
    }
    get_in(&mut *tx, workspace_id, id).await
}

/// Deletes a provider; agents that used it keep their settings without a provider.
pub async fn delete(tx: &mut sqlx::AnyConnection, workspace_id: &str, id: &str) -> Result<()> {
    // Agents that named this provider must fail with a clear error from now on, not run on
    // the workspace default without a word: the foreign key only clears provider_id.
    sqlx::query(
        "UPDATE agents SET provider_deleted = 1 WHERE workspace_id = $1 AND provider_id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query("DELETE FROM providers WHERE id = $1 AND workspace_id = $2")
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(crate::Error::not_found("provider", id));
    }
    Ok(())
}

/// The plaintext API key of a provider, for calling it (never for showing it).
pub async fn api_key(
    store: &crate::Store,
    master: &crate::auth::secrets::MasterKey,
    workspace_id: &str,
    id: &str,
) -> Result<Option<String>> {
    api_key_in(store.pool(), master, workspace_id, id).await
}

/// [`api_key`] on a given connection or pool.
pub async fn api_key_in<'e>(
    db: impl Executor<'e, Database = Any>,
    master: &crate::auth::secrets::MasterKey,
    workspace_id: &str,
    id: &str,
) -> Result<Option<String>> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
        "SELECT api_key_encrypted FROM providers WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    let (sealed,) = row.ok_or_else(|| crate::Error::not_found("provider", id))?;
    sealed
        .map(|s| {
            let bytes = master.open(&s, id)?;
            String::from_utf8(bytes)
                .map_err(|_| crate::Error::Config("a stored key is not text".into()))
        })
        .transpose()
}

/// The providers (by name) whose stored API key `master` cannot open: a process started with
/// another deployment's master key. Every process on one database must share one key.
pub async fn unopenable(
    store: &crate::Store,
    master: &crate::auth::secrets::MasterKey,
) -> Result<Vec<String>> {
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, name, api_key_encrypted FROM providers WHERE api_key_encrypted IS NOT NULL \
         ORDER BY name",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(id, _, sealed)| master.open(sealed, id).is_err())
        .map(|(_, name, _)| name)
        .collect())
}
