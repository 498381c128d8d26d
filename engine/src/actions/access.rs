//! Members, credits and API keys.

use serde_json::json;

use super::Caller;
use crate::domain::MemberRole;
use crate::store::api_keys;
use crate::store::credits;
use crate::store::users::{self, Member};
use crate::{Result, Store};

/// Adds a member to the caller's workspace (admins).
pub async fn add_member(
    store: &Store,
    caller: Caller<'_>,
    email: &str,
    password: Option<&str>,
    role: &str,
) -> Result<Member> {
    caller.who.require(MemberRole::Admin)?;
    let role = MemberRole::parse(role)?;
    let mut tx = store.begin().await?;
    let member = users::create(&mut tx, &caller.who.workspace_id, email, password, role).await?;
    caller
        .audit(
            &mut tx,
            "user.create",
            format!("user:{}", member.id),
            json!({ "email": member.email, "role": member.role }),
        )
        .await?;
    tx.commit().await?;
    Ok(member)
}

/// Adds credits to a member of the caller's workspace (admins). Returns the new balance.
pub async fn top_up(store: &Store, caller: Caller<'_>, user_id: &str, amount: i64) -> Result<i64> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    let balance = credits::top_up(&mut tx, caller.who, user_id, amount).await?;
    caller
        .audit(
            &mut tx,
            "credits.topup",
            format!("user:{user_id}"),
            json!({ "amount": amount, "balance": balance }),
        )
        .await?;
    tx.commit().await?;
    Ok(balance)
}

/// Creates an API key for the caller (developers and admins); returns the key, shown once.
pub async fn create_api_key(
    store: &Store,
    caller: Caller<'_>,
    name: &str,
) -> Result<wire::access::CreatedKey> {
    caller.who.require(MemberRole::Developer)?;
    let mut tx = store.begin().await?;
    let (key, info) = api_keys::create(&mut tx, caller.who, name).await?;
    caller
        .audit(
            &mut tx,
            "api_key.create",
            format!("api_key:{}", info.id),
            json!({ "name": info.name, "prefix": info.prefix }),
        )
        .await?;
    tx.commit().await?;
    Ok(wire::access::CreatedKey { key, api_key: info })
}

/// Revokes an API key: its owner's own, or any of the workspace for an admin.
pub async fn revoke_api_key(store: &Store, caller: Caller<'_>, id: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    api_keys::revoke(&mut tx, caller.who, id).await?;
    caller
        .audit(
            &mut tx,
            "api_key.revoke",
            format!("api_key:{id}"),
            json!({}),
        )
        .await?;
    tx.commit().await?;
    // After the commit: a request resolving the key meanwhile could otherwise cache it again.
    store.key_cache.clear();
    Ok(())
}
