//! Workspace settings and the price table (admins).

use serde_json::json;

use super::Caller;
use crate::domain::MemberRole;
use crate::store::prices::{self, Price};
use crate::store::settings;
use crate::{Result, Store};

/// Sets one workspace setting after checking its value; answers the value as stored.
pub async fn set(
    store: &Store,
    caller: Caller<'_>,
    key: &str,
    value: &serde_json::Value,
) -> Result<serde_json::Value> {
    caller.who.require(MemberRole::Admin)?;
    let ws = &caller.who.workspace_id;
    settings::check_key(key)?;
    settings::validate(store, ws, key, value).await?;
    // A root is kept canonical, so chosen directories (canonical too) compare by prefix.
    let value = &if key == settings::WORKDIR_ROOT {
        settings::canonical_root(value).await?
    } else {
        value.clone()
    };
    let mut tx = store.begin().await?;
    settings::put(&mut *tx, ws, key, value).await?;
    caller
        .audit(
            &mut tx,
            "setting.update",
            format!("setting:{key}"),
            json!({ "value": value }),
        )
        .await?;
    tx.commit().await?;
    Ok(value.clone())
}

/// Sets several settings together (a form's fields): every value is checked before any is
/// written, then all are written with one audit entry naming them, in one transaction.
pub async fn set_all(
    store: &Store,
    caller: Caller<'_>,
    target: &str,
    values: &[(&str, serde_json::Value)],
) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let ws = &caller.who.workspace_id;
    let mut stored = Vec::with_capacity(values.len());
    for (key, value) in values {
        settings::validate(store, ws, key, value).await?;
        let value = if *key == settings::WORKDIR_ROOT {
            settings::canonical_root(value).await?
        } else {
            value.clone()
        };
        stored.push((*key, value));
    }
    let mut tx = store.begin().await?;
    let mut details = serde_json::Map::new();
    for (key, value) in &stored {
        settings::put(&mut *tx, ws, key, value).await?;
        details.insert((*key).to_owned(), value.clone());
    }
    caller
        .audit(
            &mut tx,
            "setting.update",
            format!("settings:{target}"),
            serde_json::Value::Object(details),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Switches the workspace defaults (provider, model, temperature) together: all are checked
/// before any is written, and one audit entry records them.
pub async fn set_defaults(
    store: &Store,
    caller: Caller<'_>,
    provider_id: &str,
    model: &str,
    temperature: f64,
) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let ws = &caller.who.workspace_id;
    let values = [
        (settings::DEFAULT_PROVIDER, json!(provider_id)),
        (settings::DEFAULT_MODEL, json!(model.trim())),
        (settings::DEFAULT_TEMPERATURE, json!(temperature)),
    ];
    for (key, value) in &values {
        settings::validate(store, ws, key, value).await?;
    }
    let mut tx = store.begin().await?;
    for (key, value) in &values {
        settings::put(&mut *tx, ws, key, value).await?;
    }
    caller
        .audit(
            &mut tx,
            "setting.update",
            "settings:defaults".to_owned(),
            json!({ "provider_id": provider_id, "model": model.trim(), "temperature": temperature }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the price of a model (validated by the store).
pub async fn set_price(store: &Store, caller: Caller<'_>, price: &Price) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    prices::upsert(&mut *tx, price).await?;
    caller
        .audit(
            &mut tx,
            "price.update",
            format!("price:{}/{}", price.provider_kind, price.model),
            json!({
                "input": price.input_per_mtok_micros,
                "output": price.output_per_mtok_micros,
                "cached_input": price.cached_input_per_mtok_micros,
                "cache_write": price.cache_write_per_mtok_micros,
                "context_window": price.context_window,
            }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
