//! Alerts (SPEC F-08): rules that watch a workspace's spending and fleet, the alerts they open,
//! and the channels that carry those to people.
//!
//! - [`rules`]: one rule per kind and workspace, with the seed's defaults until an admin
//!   changes them;
//! - [`evaluate`]: what each rule sees right now, run in the background and after events;
//!   it opens what newly fires and resolves what cleared;
//! - [`notify`]: webhook and e-mail channels, a delivery queue in the database (queued with the
//!   alert, in its transaction) and the loop that sends it with retries.
//!
//! An alert is opened at most once per rule and subject (migration 0012: a unique key per
//! workspace), so neither a noisy condition, nor an evaluator running in several processes, nor
//! a restart makes a storm. Every change is published on the workspace's `alerts` topic with
//! the counts the bell shows.

pub mod channels;
pub mod evaluate;
pub mod notify;
pub mod rules;
pub mod service;

use std::sync::Arc;

use serde_json::json;
use sqlx::AnyConnection;
use wire::Page;
use wire::alerts::{Alert, AlertCounts};

use crate::actions::Caller;
use crate::auth::Principal;
use crate::domain::MemberRole;
use crate::events::{self, Event, EventBus, EventKind, Outgoing};
use crate::store::page::{self, PageRequest};
use crate::{Error, Result, Store, new_id, now_ms};

/// The live topic of alerts (one per workspace).
pub const TOPIC: &str = "alerts";

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth a look soon.
    Warning,
    /// Needs someone now.
    Critical,
}

impl Severity {
    /// Parses `info`, `warning` or `critical`.
    pub fn parse(raw: &str, field: &'static str) -> Result<Severity> {
        match raw {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(Error::invalid(field, "must be info, warning or critical")),
        }
    }

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// An alert a rule wants open.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    /// The rule's kind.
    pub kind: rules::Kind,
    /// What it is about (`budget:ID`, `task:ID`, `agent:ID`, `workspace`).
    pub subject: String,
    /// The subject as people read it.
    pub subject_label: String,
    /// Unique while it matters: see migration 0012.
    pub dedup_key: String,
    /// How urgent.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The figures.
    pub message: String,
    /// Where to look (an app path).
    pub link: String,
}

const COLUMNS: &str = "id, kind, subject, subject_label, severity, title, message, link, state, \
     opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn alert_of(r: Row) -> Alert {
    Alert {
        id: r.0,
        kind: r.1,
        subject: r.2,
        subject_label: r.3,
        severity: r.4,
        title: r.5,
        message: r.6,
        link: r.7,
        state: r.8,
        opened_at: r.9,
        acknowledged_at: r.10,
        acknowledged_by: r.11,
        resolved_at: r.12,
        resolved_by: r.13,
    }
}

async fn fetch(conn: &mut AnyConnection, workspace_id: &str, id: &str) -> Result<Alert> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM alerts WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(alert_of)
        .ok_or_else(|| Error::not_found("alert", id))
}

/// The bell's counts, on `conn`.
pub async fn counts_on(conn: &mut AnyConnection, workspace_id: &str) -> Result<AlertCounts> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, COUNT(*) FROM alerts WHERE workspace_id = $1 \
         AND state IN ('open', 'acknowledged') GROUP BY state",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = AlertCounts::default();
    for (state, n) in rows {
        match state.as_str() {
            "open" => counts.open = n,
            _ => counts.acknowledged = n,
        }
    }
    Ok(counts)
}

/// How many alerts need attention (every member).
pub async fn counts(store: &Store, who: &Principal) -> Result<AlertCounts> {
    let mut conn = store.pool().acquire().await?;
    counts_on(&mut conn, &who.workspace_id).await
}

/// Which alerts a list shows.
fn state_filter(raw: Option<&str>) -> Result<&'static [&'static str]> {
    match raw.map(str::trim).unwrap_or("") {
        "" | "all" => Ok(&["open", "acknowledged", "resolved"]),
        "active" => Ok(&["open", "acknowledged"]),
        "open" => Ok(&["open"]),
        "acknowledged" => Ok(&["acknowledged"]),
        "resolved" => Ok(&["resolved"]),
        _ => Err(Error::invalid(
            "state",
            "must be active, open, acknowledged, resolved or all",
        )),
    }
}

/// The workspace's alerts, newest first, filtered by state (`active` = open or acknowledged).
pub async fn list(
    store: &Store,
    who: &Principal,
    state: Option<&str>,
    request: &PageRequest,
) -> Result<Page<Alert>> {
    let states = state_filter(state)?;
    let (before_at, before_id) = match &request.after {
        Some(key) => page::parse_time_id(key)?,
        None => (i64::MAX, String::new()),
    };
    let placeholders: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 5)).collect();
    // Only placeholders are formatted into the statement.
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts WHERE workspace_id = $1 \
         AND (opened_at < $2 OR (opened_at = $2 AND ($3 = '' OR id < $3))) \
         AND state IN ({}) ORDER BY opened_at DESC, id DESC LIMIT $4",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(&who.workspace_id)
        .bind(before_at)
        .bind(&before_id)
        .bind(request.limit + 1);
    for state in states {
        query = query.bind(*state);
    }
    let rows = query.fetch_all(store.pool()).await?;
    let items: Vec<Alert> = rows.into_iter().map(alert_of).collect();
    Ok(page::from_rows(items, request.limit, |a| {
        page::time_id_key(a.opened_at, &a.id)
    }))
}

/// One alert.
pub async fn get(store: &Store, who: &Principal, id: &str) -> Result<Alert> {
    let mut conn = store.pool().acquire().await?;
    fetch(&mut conn, &who.workspace_id, id).await
}

/// The event that tells the workspace's pages about a change, with the new counts.
async fn stage_change(
    conn: &mut AnyConnection,
    workspace_id: &str,
    action: &str,
    alert: &Alert,
) -> Result<Vec<Arc<Event>>> {
    let counts = counts_on(conn, workspace_id).await?;
    events::stage(
        conn,
        workspace_id,
        vec![Outgoing::new(
            TOPIC,
            EventKind::Alert,
            json!({ "action": action, "alert": alert, "counts": counts }),
        )],
    )
    .await
}

/// Opens `opening` unless an alert with its key exists; on `conn`, inside the caller's
/// transaction. The channels that take its severity get a delivery queued in the same
/// transaction, so an alert is never opened without its notifications nor notified twice.
pub async fn open(
    conn: &mut AnyConnection,
    workspace_id: &str,
    opening: &Opening,
    now: i64,
) -> Result<Option<(Alert, Vec<Arc<Event>>)>> {
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO alerts (id, workspace_id, kind, subject, subject_label, dedup_key, severity, \
         title, message, link, state, opened_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11) \
         ON CONFLICT (workspace_id, dedup_key) DO NOTHING",
    )
    .bind(&id)
    .bind(workspace_id)
    .bind(opening.kind.as_str())
    .bind(&opening.subject)
    .bind(&opening.subject_label)
    .bind(&opening.dedup_key)
    .bind(opening.severity.as_str())
    .bind(&opening.title)
    .bind(&opening.message)
    .bind(&opening.link)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    notify::queue_for_alert(conn, workspace_id, &id, opening.severity, now).await?;
    let alert = fetch(conn, workspace_id, &id).await?;
    let staged = stage_change(conn, workspace_id, "opened", &alert).await?;
    Ok(Some((alert, staged)))
}

/// Resolves an open or acknowledged alert on `conn`: `by` is who did it (`None`: its
/// condition cleared). A condition alert's key is freed for the next occurrence; a budget
/// crossing's is kept, so the same crossing never fires again.
pub async fn resolve_on(
    conn: &mut AnyConnection,
    workspace_id: &str,
    id: &str,
    by: Option<&str>,
    now: i64,
) -> Result<Option<(Alert, Vec<Arc<Event>>)>> {
    let changed = sqlx::query(
        "UPDATE alerts SET state = 'resolved', resolved_at = $3, resolved_by = $4, \
         dedup_key = CASE WHEN kind = 'budget_threshold' THEN dedup_key \
                          ELSE dedup_key || '#' || id END \
         WHERE workspace_id = $1 AND id = $2 AND state <> 'resolved'",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(None);
    }
    let alert = fetch(conn, workspace_id, id).await?;
    let staged = stage_change(conn, workspace_id, "resolved", &alert).await?;
    Ok(Some((alert, staged)))
}

/// Acknowledges an open alert: someone is on it (developers and admins). Acknowledging one
/// already acknowledged or resolved changes nothing and answers it as it is.
pub async fn acknowledge(
    store: &Store,
    bus: &EventBus,
    caller: Caller<'_>,
    id: &str,
) -> Result<Alert> {
    caller.who.require(MemberRole::Developer)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let now = now_ms();
    let changed = sqlx::query(
        "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4 \
         WHERE workspace_id = $1 AND id = $2 AND state = 'open'",
    )
    .bind(ws)
    .bind(id)
    .bind(now)
    .bind(&caller.who.email)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let alert = fetch(&mut tx, ws, id).await?;
    let mut staged = Vec::new();
    if changed > 0 {
        staged = stage_change(&mut tx, ws, "acknowledged", &alert).await?;
        caller
            .audit(
                &mut tx,
                "alert.acknowledge",
                format!("alert:{id}"),
                json!({ "kind": alert.kind, "title": alert.title }),
            )
            .await?;
    }
    tx.commit().await?;
    bus.broadcast(&staged);
    Ok(alert)
}

/// Resolves an alert by hand (developers and admins). A condition that still holds opens a new
/// alert at the next evaluation; a budget crossing stays resolved.
pub async fn resolve(store: &Store, bus: &EventBus, caller: Caller<'_>, id: &str) -> Result<Alert> {
    caller.who.require(MemberRole::Developer)?;
    let ws = caller.who.workspace_id.as_str();
    let mut tx = store.begin().await?;
    let now = now_ms();
    let done = resolve_on(&mut tx, ws, id, Some(&caller.who.email), now).await?;
    let alert = match done {
        Some((alert, staged)) => {
            caller
                .audit(
                    &mut tx,
                    "alert.resolve",
                    format!("alert:{id}"),
                    json!({ "kind": alert.kind, "title": alert.title }),
                )
                .await?;
            tx.commit().await?;
            bus.broadcast(&staged);
            alert
        }
        None => {
            let alert = fetch(&mut tx, ws, id).await?;
            tx.commit().await?;
            alert
        }
    };
    Ok(alert)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_filter() {
        assert!(Severity::Critical > Severity::Warning);
        assert!(Severity::parse("loud", "severity").is_err());
        assert!(
            state_filter(Some("active"))
                .unwrap()
                .contains(&"acknowledged")
        );
        assert!(state_filter(Some("closed")).is_err());
    }
}
