//! System health (SPEC F-09): a snapshot of the deployment as one workspace sees it — database
//! latency, queue, workers and their heartbeats, providers' last success and failure, failures
//! of the last 24 hours — and recorded checks (`POST /api/v1/system/health`, e.g. from cron).
//!
//! Every figure is read from something small: counts over the rollups, the queue through its
//! index, the `workers` table the runners beat into, provider columns the call writer keeps.

use wire::ops::{ProviderHealth, RecentFailure, SystemCheck, SystemHealth, WorkerStatus};

use crate::actions::Caller;
use crate::domain::MemberRole;
use crate::store::llm_calls::HOUR_MS;
use crate::{Result, Store, new_id, now_ms};

/// A worker that has not beaten for this long is counted dead.
pub const WORKER_TIMEOUT_MS: i64 = 30_000;
/// A queued task older than this makes the deployment `degraded` (nobody is taking work).
pub const STUCK_QUEUE_MS: i64 = 5 * 60_000;

/// Task id, description, workflow, error, finished at.
type FailureRow = (String, String, String, Option<String>, Option<i64>);
type WorkerRow = (String, String, i64, i64, String, i64, i64);
type ProviderRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// The health of the deployment for `workspace_id`, at `now`; `started_at_ms` is when this
/// process started.
#[tracing::instrument(skip(store))]
pub async fn snapshot(
    store: &Store,
    workspace_id: &str,
    started_at_ms: i64,
) -> Result<SystemHealth> {
    let now = now_ms();
    let latency = store.ping().await?;
    let db = store.pool();
    let (queued, running, oldest): (i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT), \
         MIN(CASE WHEN status = 'queued' THEN created_at END) \
         FROM tasks WHERE workspace_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(workspace_id)
    .fetch_one(db)
    .await?;
    let since = now - 24 * HOUR_MS;
    let hour = since - since.rem_euclid(HOUR_MS);
    let (failed_tasks,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(tasks), 0) AS BIGINT) FROM task_rollups_hourly \
         WHERE workspace_id = $1 AND hour_ms >= $2 AND status = 'failed'",
    )
    .bind(workspace_id)
    .bind(hour)
    .fetch_one(db)
    .await?;
    let (calls, failed_calls): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN outcome = 'failed' THEN calls ELSE 0 END), 0) AS BIGINT) \
         FROM call_rollups_hourly WHERE workspace_id = $1 AND hour_ms >= $2",
    )
    .bind(workspace_id)
    .bind(hour)
    .fetch_one(db)
    .await?;
    let workers: Vec<WorkerRow> = sqlx::query_as(
        "SELECT id, host, pid, slots, version, started_at, heartbeat_at FROM workers \
         ORDER BY heartbeat_at DESC LIMIT 100",
    )
    .fetch_all(db)
    .await?;
    let providers: Vec<ProviderRow> = sqlx::query_as(
        "SELECT id, name, kind, CAST(enabled AS BIGINT), last_success_at, last_failure_at, last_error \
         FROM providers WHERE workspace_id = $1 ORDER BY name",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    let failures: Vec<FailureRow> = sqlx::query_as(
        "SELECT id, description, workflow, error, finished_at FROM tasks \
         WHERE workspace_id = $1 AND status = 'failed' ORDER BY finished_at DESC LIMIT 10",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    let last_check = last_check(store, workspace_id).await?;
    let retention = last_retention(store).await?;

    let workers: Vec<WorkerStatus> = workers
        .into_iter()
        .map(
            |(id, host, pid, slots, version, started_at, heartbeat_at)| WorkerStatus {
                alive: now - heartbeat_at <= WORKER_TIMEOUT_MS,
                id,
                host,
                pid,
                slots,
                version,
                started_at,
                heartbeat_at,
            },
        )
        .collect();
    let providers: Vec<ProviderHealth> = providers
        .into_iter()
        .map(
            |(id, name, kind, enabled, ok, failed, error)| ProviderHealth {
                failing: failed.is_some_and(|f| f >= since && ok.is_none_or(|s| s < f)),
                id,
                name,
                kind,
                enabled: enabled != 0,
                last_success_at: ok,
                last_failure_at: failed,
                last_error: error,
            },
        )
        .collect();

    let mut problems = Vec::new();
    if !workers.iter().any(|w| w.alive) {
        problems.push("no worker is running: queued tasks will wait".to_owned());
    }
    if let Some(oldest) = oldest.filter(|at| now - at > STUCK_QUEUE_MS) {
        problems.push(format!(
            "the oldest queued task has waited {} minutes",
            (now - oldest) / 60_000
        ));
    }
    for p in providers.iter().filter(|p| p.failing && p.enabled) {
        problems.push(format!(
            "provider {} is failing ({})",
            p.name,
            p.last_error.as_deref().unwrap_or("error")
        ));
    }
    Ok(SystemHealth {
        status: if problems.is_empty() {
            "ok"
        } else {
            "degraded"
        }
        .to_owned(),
        problems,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_secs: ((now - started_at_ms) / 1000).max(0),
        database: store.backend().as_str().to_owned(),
        database_latency_ms: latency.as_secs_f64() * 1000.0,
        queued_tasks: queued,
        running_tasks: running,
        oldest_queued_at: oldest,
        failed_tasks_24h: failed_tasks,
        calls_24h: calls,
        failed_calls_24h: failed_calls,
        workers,
        providers,
        recent_failures: failures
            .into_iter()
            .map(
                |(task_id, description, workflow, error, finished_at)| RecentFailure {
                    task_id,
                    description,
                    workflow,
                    error,
                    finished_at: finished_at.unwrap_or_default(),
                },
            )
            .collect(),
        last_check,
        retention,
    })
}

/// The retention job's latest run (the deployment's, not a workspace's).
async fn last_retention(store: &Store) -> Result<Option<wire::ops::RetentionRun>> {
    type Row = (String, i64, Option<i64>, i64, i64, i64, i64, i64, i64);
    let row: Option<Row> = sqlx::query_as(
        "SELECT day, started_at, finished_at, archived_calls, archived_events, exported_calls, \
         exported_events, expired_sessions, archived_tasks FROM retention_runs \
         ORDER BY day DESC LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(
        |(
            day,
            started_at,
            finished_at,
            archived_calls,
            archived_events,
            exported_calls,
            exported_events,
            expired_sessions,
            archived_tasks,
        )| {
            wire::ops::RetentionRun {
                day,
                started_at,
                finished_at,
                archived_calls,
                archived_events,
                exported_calls,
                exported_events,
                expired_sessions,
                archived_tasks,
            }
        },
    ))
}

async fn last_check(store: &Store, workspace_id: &str) -> Result<Option<SystemCheck>> {
    let row: Option<(String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, status, detail, checked_by, created_at FROM system_checks \
         WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(workspace_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(
        row.map(|(id, status, detail, checked_by, created_at)| SystemCheck {
            id,
            status,
            detail,
            checked_by,
            created_at,
        }),
    )
}

/// Takes a snapshot and records it as a check (developers and admins; a cron job uses an API
/// key). Returns the snapshot with the new check as its `last_check`.
pub async fn record_check(
    store: &Store,
    caller: Caller<'_>,
    started_at_ms: i64,
) -> Result<SystemHealth> {
    caller.who.require(MemberRole::Developer)?;
    let workspace_id = &caller.who.workspace_id;
    let mut health = snapshot(store, workspace_id, started_at_ms).await?;
    let check = SystemCheck {
        id: new_id(),
        status: health.status.clone(),
        detail: health.problems.join("\n"),
        checked_by: Some(caller.who.email.clone()),
        created_at: now_ms(),
    };
    sqlx::query(
        "INSERT INTO system_checks (id, workspace_id, status, detail, checked_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&check.id)
    .bind(workspace_id)
    .bind(&check.status)
    .bind(&check.detail)
    .bind(&check.checked_by)
    .bind(check.created_at)
    .execute(store.writer())
    .await?;
    // Checks come every few minutes from cron: a year of them per workspace is plenty.
    sqlx::query("DELETE FROM system_checks WHERE workspace_id = $1 AND created_at < $2")
        .bind(workspace_id)
        .bind(check.created_at - 365 * 24 * HOUR_MS)
        .execute(store.writer())
        .await?;
    health.last_check = Some(check);
    Ok(health)
}

/// The host name, for the workers list.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Records that worker `id` (running `slots` tasks at once, started at `started_at`) is alive.
pub async fn heartbeat(store: &Store, id: &str, slots: i64, started_at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO workers (id, host, pid, slots, version, started_at, heartbeat_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )
    .bind(id)
    .bind(host_name())
    .bind(i64::from(std::process::id()))
    .bind(slots)
    .bind(env!("CARGO_PKG_VERSION"))
    .bind(started_at)
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    // Workers gone for a day leave the list.
    sqlx::query("DELETE FROM workers WHERE heartbeat_at < $1")
        .bind(now_ms() - 24 * HOUR_MS)
        .execute(store.writer())
        .await?;
    Ok(())
}

/// Removes worker `id` from the list (a clean stop).
pub async fn worker_stopped(store: &Store, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM workers WHERE id = $1")
        .bind(id)
        .execute(store.writer())
        .await?;
    Ok(())
}
