//! Adding, changing and removing providers (admins), and recording connection tests.

use serde_json::json;

use super::Caller;
use crate::auth::secrets::MasterKey;
use crate::domain::MemberRole;
use crate::store::providers::{self, Provider, ProviderInput};
use crate::{Result, Store};

/// Adds a provider, its key sealed under the master key.
pub async fn create(
    store: &Store,
    master: &MasterKey,
    caller: Caller<'_>,
    input: &ProviderInput,
) -> Result<Provider> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    let provider = providers::create(&mut tx, master, &caller.who.workspace_id, input).await?;
    caller
        .audit(
            &mut tx,
            "provider.create",
            format!("provider:{}", provider.id),
            json!({
                "name": provider.name, "kind": provider.kind,
                "api_key_set": input.api_key.is_some(),
            }),
        )
        .await?;
    tx.commit().await?;
    Ok(provider)
}

/// Renames a provider, moves it or rotates its key.
pub async fn update(
    store: &Store,
    master: &MasterKey,
    caller: Caller<'_>,
    id: &str,
    input: &ProviderInput,
) -> Result<Provider> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    let provider = providers::update(&mut tx, master, &caller.who.workspace_id, id, input).await?;
    caller
        .audit(
            &mut tx,
            if input.api_key.is_some() {
                "provider.rotate_key"
            } else {
                "provider.update"
            },
            format!("provider:{id}"),
            json!({ "name": provider.name }),
        )
        .await?;
    tx.commit().await?;
    Ok(provider)
}

/// Removes a provider; agents that named it fail clearly until given another.
pub async fn delete(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    providers::delete(&mut tx, &caller.who.workspace_id, id).await?;
    caller
        .audit(
            &mut tx,
            "provider.delete",
            format!("provider:{id}"),
            json!({}),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a connection test (the test itself changes nothing).
pub async fn record_test(
    store: &Store,
    caller: Caller<'_>,
    id: &str,
    check: &crate::runner::ProviderCheck,
) -> Result<()> {
    let mut tx = store.begin().await?;
    caller
        .audit(
            &mut tx,
            "provider.test",
            format!("provider:{id}"),
            json!({ "ok": check.ok, "model": check.model, "error_class": check.error_class }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
