//! Workspace settings: small JSON values under well-known keys.

use sqlx::{Any, Executor};

use crate::{Error, Result, now_ms};

/// The provider (id) new agents and ad-hoc runs use unless told otherwise.
pub const DEFAULT_PROVIDER: &str = "default_provider";
/// The model used with the default provider.
pub const DEFAULT_MODEL: &str = "default_model";
/// The sampling temperature used unless an agent sets its own.
pub const DEFAULT_TEMPERATURE: &str = "default_temperature";
/// The workspace's IANA time zone (budgets' calendar days, weeks and months); UTC when unset.
pub const TIME_ZONE: &str = "time_zone";
/// Credits taken from the API key's owner for each request through the gateway (0 when unset).
pub const GATEWAY_CREDITS_PER_CALL: &str = "gateway_credits_per_call";
/// Days after which finished tasks are archived automatically (0 or unset: never).
pub const TASK_ARCHIVE_AFTER_DAYS: &str = "task_archive_after_days";
/// The directory tasks' chosen working directories must lie under (unset or empty: tasks
/// cannot choose one). Stored canonical.
pub const WORKDIR_ROOT: &str = "workdir_root";

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

/// The settings that exist.
pub const KEYS: [&str; 7] = [
    DEFAULT_PROVIDER,
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    TIME_ZONE,
    GATEWAY_CREDITS_PER_CALL,
    TASK_ARCHIVE_AFTER_DAYS,
    WORKDIR_ROOT,
];

/// Fails with not-found for a key that is not a setting.
pub fn check_key(key: &str) -> Result<()> {
    if KEYS.contains(&key) {
        Ok(())
    } else {
        Err(Error::not_found("setting", key))
    }
}

/// Checks a setting's value: the provider must exist in the workspace, the model must be a
/// non-empty name, the temperature a number from 0 to 2, the time zone an IANA name.
pub async fn validate(
    store: &crate::Store,
    workspace_id: &str,
    key: &str,
    value: &serde_json::Value,
) -> Result<()> {
    check_key(key)?;
    match key {
        DEFAULT_PROVIDER => {
            let id = value
                .as_str()
                .ok_or_else(|| Error::invalid("value", "must be a provider id"))?;
            crate::store::providers::get(store, workspace_id, id).await?;
        }
        DEFAULT_MODEL => {
            let ok = value
                .as_str()
                .is_some_and(|m| !m.trim().is_empty() && m.len() <= 200);
            if !ok {
                return Err(Error::invalid("value", "must be a model name"));
            }
        }
        TIME_ZONE => {
            let ok = value
                .as_str()
                .is_some_and(|z| z == "UTC" || jiff::tz::TimeZone::get(z).is_ok());
            if !ok {
                return Err(Error::invalid(
                    "value",
                    "must be an IANA time zone name such as Europe/Paris",
                ));
            }
        }
        GATEWAY_CREDITS_PER_CALL => {
            if !value.as_i64().is_some_and(|n| (0..=1_000).contains(&n)) {
                return Err(Error::invalid(
                    "value",
                    "must be a whole number of credits from 0 to 1,000",
                ));
            }
        }
        TASK_ARCHIVE_AFTER_DAYS => {
            if !value.as_i64().is_some_and(|n| (0..=3_650).contains(&n)) {
                return Err(Error::invalid(
                    "value",
                    "must be a whole number of days from 0 (never) to 3,650",
                ));
            }
        }
        WORKDIR_ROOT => {
            canonical_root(value).await?;
        }
        _ => {
            let ok = value.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t));
            if !ok {
                return Err(Error::invalid("value", "must be a number from 0 to 2"));
            }
        }
    }
    Ok(())
}

/// The value of the `workdir_root` setting as stored: "" (none), or the canonical path of an
/// existing absolute directory.
pub async fn canonical_root(value: &serde_json::Value) -> Result<serde_json::Value> {
    let raw = value
        .as_str()
        .ok_or_else(|| Error::invalid("value", "must be a directory path (or \"\" for none)"))?
        .trim();
    if raw.is_empty() {
        return Ok(serde_json::json!(""));
    }
    if !std::path::Path::new(raw).is_absolute() || raw.len() > 4_096 || raw.contains('\0') {
        return Err(Error::invalid(
            "value",
            "must be an absolute directory path",
        ));
    }
    let path = tokio::fs::canonicalize(raw)
        .await
        .map_err(|_| Error::invalid("value", format!("{raw} does not exist on the server")))?;
    if !tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        return Err(Error::invalid("value", format!("{raw} is not a directory")));
    }
    let text = path
        .to_str()
        .ok_or_else(|| Error::invalid("value", "must be a path in UTF-8"))?;
    Ok(serde_json::json!(text))
}

/// The workspace defaults.
pub async fn defaults(
    store: &crate::Store,
    workspace_id: &str,
) -> Result<wire::settings::Defaults> {
    let db = store.pool();
    let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    Ok(wire::settings::Defaults {
        provider_id: text(get(db, workspace_id, DEFAULT_PROVIDER).await?),
        model: text(get(db, workspace_id, DEFAULT_MODEL).await?),
        temperature: get(db, workspace_id, DEFAULT_TEMPERATURE)
            .await?
            .and_then(|v| v.as_f64()),
    })
}

/// What the Settings page shows `who`: the defaults, the providers and the price table.
pub async fn overview(
    store: &crate::Store,
    who: &crate::auth::Principal,
) -> Result<wire::settings::SettingsOverview> {
    let ws = &who.workspace_id;
    Ok(wire::settings::SettingsOverview {
        defaults: defaults(store, ws).await?,
        providers: super::providers::list(store.pool(), ws).await?,
        prices: super::prices::list(store.pool()).await?,
        can_edit: who.role == crate::domain::MemberRole::Admin,
    })
}
