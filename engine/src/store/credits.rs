//! Credits: a per-user balance that pays for agent runs, and the ledger of every change.
//!
//! Deduction is one conditional `UPDATE … WHERE credits >= n`: the database decides, so
//! concurrent calls can never take the balance below zero (a CHECK constraint backs this up).

use crate::auth::Principal;
use crate::{Error, Result, Store, new_id, now_ms};

pub use wire::access::LedgerEntry;

/// The caller's balance.
pub async fn balance(store: &Store, user_id: &str) -> Result<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT credits FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(store.pool())
        .await?;
    row.map(|(c,)| c)
        .ok_or_else(|| Error::not_found("user", user_id))
}

/// Takes `amount` credits from the caller, or fails with [`Error::InsufficientCredits`]
/// and changes nothing. Returns the new balance.
#[tracing::instrument(skip(store, who), fields(user.id = %who.user_id))]
pub async fn deduct(store: &Store, who: &Principal, amount: i64, reason: &str) -> Result<i64> {
    let mut tx = store.begin().await?;
    let balance = deduct_in(&mut tx, who, amount, reason).await?;
    tx.commit().await?;
    Ok(balance)
}

/// [`deduct`] on the caller's transaction, so that the deduction and what it pays for (a task
/// submission) commit or roll back together.
pub async fn deduct_in(
    tx: &mut sqlx::AnyConnection,
    who: &Principal,
    amount: i64,
    reason: &str,
) -> Result<i64> {
    let updated =
        sqlx::query("UPDATE users SET credits = credits - $1 WHERE id = $2 AND credits >= $1")
            .bind(amount)
            .bind(&who.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if updated == 0 {
        return Err(Error::InsufficientCredits(
            "not enough credits: ask an admin to top up your balance".into(),
        ));
    }
    record(tx, &who.workspace_id, &who.user_id, -amount, reason, None).await
}

/// Gives back credits [`deduct`] took for work that then never happened (a gateway request no
/// provider answered). Returns the new balance.
pub async fn refund(store: &Store, who: &Principal, amount: i64, reason: &str) -> Result<i64> {
    let mut tx = store.begin().await?;
    sqlx::query("UPDATE users SET credits = credits + $1 WHERE id = $2")
        .bind(amount)
        .bind(&who.user_id)
        .execute(&mut *tx)
        .await?;
    let balance = record(
        &mut tx,
        &who.workspace_id,
        &who.user_id,
        amount,
        reason,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(balance)
}

/// Adds credits to a member of the admin's workspace. Returns the new balance.
#[tracing::instrument(skip(tx, admin), fields(admin.id = %admin.user_id))]
pub async fn top_up(
    tx: &mut sqlx::AnyConnection,
    admin: &Principal,
    user_id: &str,
    amount: i64,
) -> Result<i64> {
    if !(1..=1_000_000).contains(&amount) {
        return Err(Error::invalid("amount", "must be between 1 and 1,000,000"));
    }
    let updated = sqlx::query(
        "UPDATE users SET credits = credits + $1 WHERE id = $2 AND id IN \
         (SELECT user_id FROM memberships WHERE workspace_id = $3)",
    )
    .bind(amount)
    .bind(user_id)
    .bind(&admin.workspace_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(Error::not_found("user", user_id));
    }
    let balance = record(
        &mut *tx,
        &admin.workspace_id,
        user_id,
        amount,
        "top-up",
        Some(&admin.user_id),
    )
    .await?;
    Ok(balance)
}

async fn record(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    user_id: &str,
    delta: i64,
    reason: &str,
    actor: Option<&str>,
) -> Result<i64> {
    let (balance,): (i64,) = sqlx::query_as("SELECT credits FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO credit_ledger (id, workspace_id, user_id, delta, balance_after, reason, \
         actor_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(workspace_id)
    .bind(user_id)
    .bind(delta)
    .bind(balance)
    .bind(reason)
    .bind(actor)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(balance)
}

/// One page of the ledger, newest first (see [`super::page`]).
pub async fn ledger_page(
    store: &Store,
    workspace_id: &str,
    request: &super::page::PageRequest,
) -> Result<super::page::Page<LedgerEntry>> {
    let after = match &request.after {
        Some(key) => Some(super::page::parse_time_id(key)?),
        None => None,
    };
    let rows = ledger(
        store,
        workspace_id,
        request.limit + 1,
        after.as_ref().map(|(at, id)| (*at, id.as_str())),
    )
    .await?;
    Ok(super::page::from_rows(rows, request.limit, |e| {
        super::page::time_id_key(e.created_at, &e.id)
    }))
}

/// The ledger of a workspace, newest first, a keyset page at a time: `after` is the last
/// entry's `(created_at, id)` of the previous page.
pub async fn ledger(
    store: &Store,
    workspace_id: &str,
    limit: i64,
    after: Option<(i64, &str)>,
) -> Result<Vec<LedgerEntry>> {
    let (at, id) = after.unwrap_or((i64::MAX, ""));
    Ok(sqlx::query_as(
        "SELECT id, user_id, delta, balance_after, reason, actor_user_id, created_at \
         FROM credit_ledger WHERE workspace_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND $3 <> '' AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(workspace_id)
    .bind(at)
    .bind(id)
    .bind(limit.clamp(1, 1000))
    .fetch_all(store.pool())
    .await?)
}
