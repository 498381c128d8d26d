//! The audit log: every mutating action, append-only, chained by SHA-256 per workspace.
//!
//! Each entry's hash covers the previous entry's hash and all of its own fields, so editing,
//! deleting or reordering any entry breaks the chain from that point on; [`verify`] finds where.
//! Appends take the workspace's row in `audit_heads` first, which serialises concurrent appends
//! on Postgres (row lock) and SQLite (the single writer) alike.

use sqlx::AnyConnection;

use crate::auth::tokens::sha256_hex;
use crate::{Result, Store, new_id, now_ms};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the edge reports it.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    /// Workspace the action happened in.
    pub workspace_id: String,
    /// The acting user, if any (CLI actions have none).
    pub actor_user_id: Option<String>,
    /// A readable actor: an e-mail, or `cli`.
    pub actor: String,
    /// Dotted action name, e.g. `provider.create`.
    pub action: String,
    /// What it acted on, e.g. `provider:0190…`.
    pub target: String,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Extra facts as JSON (never secrets).
    pub details: serde_json::Value,
}

pub use wire::audit::{Entry, Verification};

fn entry_hash(prev: &str, e: &Entry) -> String {
    // A JSON array is an unambiguous encoding of the fields, whatever they contain.
    let canonical = serde_json::json!([
        prev,
        e.seq,
        e.id,
        e.actor_user_id,
        e.actor,
        e.action,
        e.target,
        e.ip,
        e.user_agent,
        e.details,
        e.created_at
    ]);
    sha256_hex(&canonical.to_string())
}

/// Appends an entry on `conn` (use the transaction of the action it records).
pub async fn append(conn: &mut AnyConnection, new: &NewEntry) -> Result<Entry> {
    // Lock (or create) the chain head first.
    sqlx::query(
        "INSERT INTO audit_heads (workspace_id, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (workspace_id) DO UPDATE SET seq = audit_heads.seq",
    )
    .bind(&new.workspace_id)
    .bind(GENESIS)
    .execute(&mut *conn)
    .await?;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE workspace_id = $1")
            .bind(&new.workspace_id)
            .fetch_one(&mut *conn)
            .await?;
    let mut entry = Entry {
        seq: head_seq + 1,
        id: new_id(),
        actor_user_id: new.actor_user_id.clone(),
        actor: new.actor.clone(),
        action: new.action.clone(),
        target: new.target.clone(),
        ip: new.ip.clone(),
        user_agent: new
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(512).collect()),
        details: new.details.to_string(),
        created_at: now_ms(),
        prev_hash: head_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry.prev_hash, &entry);
    sqlx::query(
        "INSERT INTO audit_log (workspace_id, seq, id, actor_user_id, actor, action, target, ip, \
         user_agent, details, created_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&new.workspace_id)
    .bind(entry.seq)
    .bind(&entry.id)
    .bind(&entry.actor_user_id)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.ip)
    .bind(&entry.user_agent)
    .bind(&entry.details)
    .bind(entry.created_at)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2 WHERE workspace_id = $3")
        .bind(entry.seq)
        .bind(&entry.hash)
        .bind(&new.workspace_id)
        .execute(&mut *conn)
        .await?;
    Ok(entry)
}

/// Appends an entry in its own transaction.
pub async fn record(store: &Store, new: &NewEntry) -> Result<Entry> {
    let mut tx = store.begin().await?;
    let entry = append(&mut tx, new).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact action name.
    pub action: Option<String>,
    /// Exact actor (e-mail).
    pub actor: Option<String>,
    /// From this time (Unix ms, inclusive).
    pub since: Option<i64>,
    /// Until this time (Unix ms, exclusive).
    pub until: Option<i64>,
    /// Entries before this seq (for paging back).
    pub before_seq: Option<i64>,
    /// At most this many (1–500).
    pub limit: i64,
}

/// A workspace's entries, newest first.
pub async fn list(store: &Store, workspace_id: &str, filter: &Filter) -> Result<Vec<Entry>> {
    Ok(sqlx::query_as(
        "SELECT seq, id, actor_user_id, actor, action, target, ip, user_agent, details, created_at, \
         prev_hash, hash FROM audit_log WHERE workspace_id = $1 \
         AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
         AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
         AND ($6 IS NULL OR seq < $6) ORDER BY seq DESC LIMIT $7",
    )
    .bind(workspace_id)
    .bind(&filter.action)
    .bind(&filter.actor)
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.before_seq)
    .bind(filter.limit.clamp(1, 500))
    .fetch_all(store.pool())
    .await?)
}

/// One page of the log, newest first (see [`super::page`]); `filter.before_seq` and
/// `filter.limit` come from `request`.
pub async fn page(
    store: &Store,
    workspace_id: &str,
    filter: Filter,
    request: &super::page::PageRequest,
) -> Result<super::page::Page<Entry>> {
    let before_seq = match &request.after {
        Some(seq) => Some(seq.parse::<i64>().map_err(|_| {
            crate::Error::invalid("cursor", "is not a cursor from a previous page")
        })?),
        None => None,
    };
    let filter = Filter {
        before_seq,
        limit: request.limit + 1,
        ..filter
    };
    let rows = list(store, workspace_id, &filter).await?;
    Ok(super::page::from_rows(rows, request.limit, |e| {
        e.seq.to_string()
    }))
}

/// How many entries [`verify`] reads at a time: a long log is checked in bounded memory.
const VERIFY_BATCH: i64 = 5_000;

/// Recomputes a workspace's chain from the start.
pub async fn verify(store: &Store, workspace_id: &str) -> Result<Verification> {
    verify_in_batches(store, workspace_id, VERIFY_BATCH).await
}

/// [`verify`], reading `batch` entries at a time (tests use small batches to cross their
/// edges with few entries).
pub async fn verify_in_batches(
    store: &Store,
    workspace_id: &str,
    batch: i64,
) -> Result<Verification> {
    let batch_size = batch.max(1);
    // The head first: entries appended while the check runs lie past it and are not judged.
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_optional(store.pool())
            .await?;
    let last = head.as_ref().map_or(i64::MAX, |(seq, _)| *seq);
    let mut prev = GENESIS.to_owned();
    let mut count: i64 = 0;
    loop {
        let entries: Vec<Entry> = sqlx::query_as(
            "SELECT seq, id, actor_user_id, actor, action, target, ip, user_agent, details, \
             created_at, prev_hash, hash FROM audit_log \
             WHERE workspace_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
        )
        .bind(workspace_id)
        .bind(count)
        .bind(last)
        .bind(batch_size)
        .fetch_all(store.pool())
        .await?;
        let batch = entries.len();
        for entry in &entries {
            let expected_seq = count + 1;
            if entry.seq != expected_seq
                || entry.prev_hash != prev
                || entry_hash(&prev, entry) != entry.hash
            {
                return Ok(Verification {
                    entries: count,
                    first_broken_seq: Some(expected_seq.min(entry.seq)),
                });
            }
            prev = entry.hash.clone();
            count += 1;
        }
        if i64::try_from(batch).unwrap_or(i64::MAX) < batch_size {
            break;
        }
    }
    // Entries removed from the end show up as a head that is ahead of the log.
    if let Some((seq, hash)) = head
        && (seq != count || hash != prev)
    {
        return Ok(Verification {
            entries: count,
            first_broken_seq: Some(count + 1),
        });
    }
    Ok(Verification {
        entries: count,
        first_broken_seq: None,
    })
}

/// Every workspace id that has an audit chain.
pub async fn workspaces(store: &Store) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT workspace_id FROM audit_heads ORDER BY workspace_id")
            .fetch_all(store.pool())
            .await?;
    Ok(rows.into_iter().map(|(w,)| w).collect())
}

/// The entry for an action of `who`, from `client`: the actor as the log shows them.
pub fn entry(
    who: &crate::auth::Principal,
    client: &crate::store::sessions::ClientInfo,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry {
        workspace_id: who.workspace_id.clone(),
        actor_user_id: Some(who.user_id.clone()),
        actor: match who.method {
            crate::auth::AuthMethod::Session => who.email.clone(),
            crate::auth::AuthMethod::ApiKey => format!("{} (API key)", who.email),
        },
        action: action.to_owned(),
        target,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        details,
    }
}

/// Records an action taken by an authenticated caller. Both edges (REST and server functions)
/// use this, so entries look the same whichever way the action came in. A failure is logged,
/// not returned: the action itself already happened.
pub async fn record_action(
    store: &Store,
    who: &crate::auth::Principal,
    client: &crate::store::sessions::ClientInfo,
    action: &str,
    target: String,
    details: serde_json::Value,
) {
    let entry = entry(who, client, action, target, details);
    if let Err(e) = record(store, &entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}

/// Whether a workspace's chain is intact, with what the check found.
pub async fn check(store: &Store, workspace_id: &str) -> Result<wire::audit::AuditCheck> {
    let verification = verify(store, workspace_id).await?;
    Ok(wire::audit::AuditCheck {
        intact: verification.first_broken_seq.is_none(),
        verification,
    })
}
