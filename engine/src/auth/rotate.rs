//! Master-key rotation (`fleetdeck master-key rotate`): every secret sealed with the master
//! key — providers' API keys and alert channels' webhook secrets — is opened with the old key
//! and sealed with the new one, all in one transaction, so the database never holds a mix.
//! A secret the old key cannot open stops the rotation before anything changes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::secrets::MasterKey;
use crate::{Error, Result, Store};

/// What a rotation re-sealed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Providers' API keys.
    pub provider_keys: usize,
    /// Alert channels' secrets.
    pub channel_secrets: usize,
}

/// Re-seals every stored secret from `old` to `new` in one transaction.
pub async fn reseal(store: &Store, old: &MasterKey, new: &MasterKey) -> Result<Resealed> {
    let mut out = Resealed::default();
    let mut tx = store.begin().await?;
    let providers: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, name, api_key_encrypted FROM providers WHERE api_key_encrypted IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, name, sealed) in providers {
        let plain = old.open(&sealed, &id).map_err(|_| {
            Error::Config(format!(
                "provider \"{name}\"'s key does not open with the current master key: nothing was changed"
            ))
        })?;
        sqlx::query("UPDATE providers SET api_key_encrypted = $1 WHERE id = $2")
            .bind(new.seal(&plain, &id)?)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        out.provider_keys += 1;
    }
    let channels: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, secret_sealed FROM notification_channels WHERE secret_sealed <> ''",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (id, name, sealed) in channels {
        let context = crate::alerts::channels::seal_context(&id);
        let plain = STANDARD
            .decode(&sealed)
            .ok()
            .and_then(|bytes| old.open(&bytes, &context).ok())
            .ok_or_else(|| {
                Error::Config(format!(
                    "alert channel \"{name}\"'s secret does not open with the current master key: nothing was changed"
                ))
            })?;
        sqlx::query("UPDATE notification_channels SET secret_sealed = $1 WHERE id = $2")
            .bind(STANDARD.encode(new.seal(&plain, &context)?))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        out.channel_secrets += 1;
    }
    tx.commit().await?;
    Ok(out)
}
