//! API keys for programs: shown once at creation, stored as SHA-256 digests.

use crate::auth::tokens::{digest, new_token};
use crate::auth::{AuthMethod, Principal};
use crate::domain::MemberRole;
use crate::{Error, Result, Store, new_id, now_ms};

pub use wire::access::ApiKey as ApiKeyInfo;

/// Creates a key for the caller; returns the plaintext key (to show once) and its record.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    owner: &Principal,
    name: &str,
) -> Result<(String, ApiKeyInfo)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::invalid("name", "must be 1 to 80 characters"));
    }
    crate::domain::check_text("name", name, 80)?;
    let key = new_token("fdk_")?;
    let info = ApiKeyInfo {
        id: new_id(),
        user_id: owner.user_id.clone(),
        name: name.to_owned(),
        prefix: key.chars().take(12).collect(),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, workspace_id, user_id, name, prefix, key_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&info.id)
    .bind(&owner.workspace_id)
    .bind(&info.user_id)
    .bind(&info.name)
    .bind(&info.prefix)
    .bind(digest(&key))
    .bind(info.created_at)
    .execute(&mut *conn)
    .await?;
    Ok((key, info))
}

/// The keys of a workspace (admins) or of the caller (others).
pub async fn list(store: &Store, who: &Principal) -> Result<Vec<ApiKeyInfo>> {
    let all = who.role == MemberRole::Admin;
    Ok(sqlx::query_as(
        "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys \
         WHERE workspace_id = $1 AND ($2 = 1 OR user_id = $3) ORDER BY created_at DESC",
    )
    .bind(&who.workspace_id)
    .bind(i64::from(all))
    .bind(&who.user_id)
    .fetch_all(store.pool())
    .await?)
}

/// Revokes a key: its owner or an admin of the workspace may.
pub async fn revoke(conn: &mut sqlx::AnyConnection, who: &Principal, id: &str) -> Result<()> {
    let all = who.role == MemberRole::Admin;
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 \
         AND revoked_at IS NULL AND ($4 = 1 OR user_id = $5)",
    )
    .bind(now_ms())
    .bind(id)
    .bind(&who.workspace_id)
    .bind(i64::from(all))
    .bind(&who.user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(Error::not_found("api_key", id));
    }
    Ok(())
}

/// How stale an API key's last-used time may get: authenticating writes at most this often.
pub const LAST_USED_EVERY_MS: i64 = 60_000;

/// How long a resolved key is trusted without asking the database again. A revocation in this
/// process empties the cache at once; one made by another process (a second server on the same
/// Postgres) takes effect within this time.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Keys at most in the cache (it is emptied when full: a flood of distinct keys cannot grow it).
const KEY_CACHE_MAX: usize = 10_000;

/// Recently resolved keys, by digest: who they belong to, when that was read, and the last-used
/// time last written.
#[derive(Debug, Default)]
pub struct KeyCache(std::sync::Mutex<std::collections::HashMap<String, CachedKey>>);

#[derive(Debug, Clone)]
struct CachedKey {
    who: Principal,
    key_id: String,
    read_at: std::time::Instant,
    last_used: Option<i64>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<CachedKey> {
        let map = self.0.lock().ok()?;
        map.get(hash)
            .filter(|c| c.read_at.elapsed() < KEY_CACHE_TTL)
            .cloned()
    }

    fn put(&self, hash: String, entry: CachedKey) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= KEY_CACHE_MAX {
                map.clear();
            }
            map.insert(hash, entry);
        }
    }

    /// Forgets every key: after a revocation commits.
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// Who an API key belongs to, if it is valid; records its use at most once a minute.
///
/// Authenticating is a read: a write per request would queue every API call behind the single
/// SQLite writer (the key's last-used time is shown to the minute anyway).
pub async fn resolve(store: &Store, key: &str) -> Result<Option<Principal>> {
    Ok(resolve_with_id(store, key).await?.map(|(who, _)| who))
}

/// [`resolve`], with the key's id (the gateway records it on each call).
pub async fn resolve_with_id(store: &Store, key: &str) -> Result<Option<(Principal, String)>> {
    let hash = digest(key);
    if let Some(cached) = store.key_cache.get(&hash) {
        let now = now_ms();
        if cached
            .last_used
            .is_none_or(|at| now - at >= LAST_USED_EVERY_MS)
        {
            touch(store, &hash, now).await?;
            store.key_cache.put(
                hash,
                CachedKey {
                    last_used: Some(now),
                    ..cached.clone()
                },
            );
        }
        return Ok(Some((cached.who, cached.key_id)));
    }
    let row: Option<(String, String, String, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT u.id, u.email, k.workspace_id, m.role, k.last_used_at, k.id FROM api_keys k \
         JOIN users u ON u.id = k.user_id \
         JOIN memberships m ON m.user_id = k.user_id AND m.workspace_id = k.workspace_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active = 1",
    )
    .bind(&hash)
    .fetch_optional(store.pool())
    .await?;
    let Some((user_id, email, workspace_id, role, last_used, key_id)) = row else {
        return Ok(None);
    };
    let now = now_ms();
    let mut last_used = last_used;
    if last_used.is_none_or(|at| now - at >= LAST_USED_EVERY_MS) {
        touch(store, &hash, now).await?;
        last_used = Some(now);
    }
    let who = Principal {
        user_id,
        email,
        workspace_id,
        role: MemberRole::parse(&role)?,
        method: AuthMethod::ApiKey,
    };
    store.key_cache.put(
        hash,
        CachedKey {
            who: who.clone(),
            key_id: key_id.clone(),
            read_at: std::time::Instant::now(),
            last_used,
        },
    );
    Ok(Some((who, key_id)))
}

/// Records a key's use (conditional, so that requests racing past the minute write it once).
async fn touch(store: &Store, hash: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 \
         AND (last_used_at IS NULL OR last_used_at <= $1 - $3)",
    )
    .bind(now)
    .bind(hash)
    .bind(LAST_USED_EVERY_MS)
    .execute(store.writer())
    .await?;
    Ok(())
}
