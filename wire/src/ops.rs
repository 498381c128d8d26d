//! Operational answers: liveness and readiness.

use serde::{Deserialize, Serialize};

/// The process is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// Seconds since it started serving.
    pub uptime_secs: u64,
}

/// The process can serve: the database answers and its schema is current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ready {
    /// Always `ready`.
    pub status: String,
    /// The database.
    pub database: ReadyDatabase,
}

/// The database as `/ready` saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadyDatabase {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// One round trip, in milliseconds.
    pub latency_ms: f64,
    /// Applied and expected migrations.
    pub migrations: MigrationStatus,
}

/// Whether the database schema matches the migrations compiled into this binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MigrationStatus {
    /// Migrations this binary knows.
    pub expected: usize,
    /// Of those, how many are applied successfully with a matching checksum.
    pub applied: usize,
    /// Versions that are applied in the database but unknown to (newer than) this binary.
    pub unknown: usize,
}

impl MigrationStatus {
    /// True when every known migration is applied and nothing unknown is.
    pub fn is_current(&self) -> bool {
        self.applied == self.expected && self.unknown == 0
    }
}

/// `GET /api/v1/system/health`: how the deployment is doing, as a workspace sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemHealth {
    /// `ok`, or `degraded` when `problems` is not empty.
    pub status: String,
    /// What is wrong, one sentence each.
    pub problems: Vec<String>,
    /// The server's version.
    pub version: String,
    /// Seconds since this process started.
    pub uptime_secs: i64,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// One round trip to the database, ms.
    pub database_latency_ms: f64,
    /// Tasks waiting in this workspace's queue.
    pub queued_tasks: i64,
    /// Tasks running now.
    pub running_tasks: i64,
    /// When the oldest queued task was submitted, Unix ms.
    pub oldest_queued_at: Option<i64>,
    /// Tasks that failed in the last 24 hours.
    pub failed_tasks_24h: i64,
    /// LLM calls in the last 24 hours.
    pub calls_24h: i64,
    /// Of those, how many failed.
    pub failed_calls_24h: i64,
    /// Processes that run tasks, most recent heartbeat first.
    pub workers: Vec<WorkerStatus>,
    /// The workspace's providers and how their last calls went.
    pub providers: Vec<ProviderHealth>,
    /// The last failed tasks, newest first.
    pub recent_failures: Vec<RecentFailure>,
    /// The last recorded check.
    pub last_check: Option<SystemCheck>,
    /// The daily retention job's last run (whichever process ran it); none before the first.
    #[serde(default)]
    pub retention: Option<RetentionRun>,
}

/// What the daily retention job did on its last run: raw calls and events past the hot days
/// moved to the archive tables, archived rows past the archive days written to compressed files
/// and deleted, expired sessions and sign-in links deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionRun {
    /// The day it ran for, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms; none while it runs (or when the process running it stopped midway).
    pub finished_at: Option<i64>,
    /// Calls moved to the archive.
    pub archived_calls: i64,
    /// Events moved to the archive.
    pub archived_events: i64,
    /// Archived calls written to files and deleted.
    pub exported_calls: i64,
    /// Archived events written to files and deleted.
    pub exported_events: i64,
    /// Expired sessions and sign-in links deleted.
    pub expired_sessions: i64,
    /// Finished tasks archived (workspaces' `task_archive_after_days`).
    pub archived_tasks: i64,
}

/// A process that runs tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerStatus {
    /// Its id.
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: i64,
    /// Tasks it runs at once.
    pub slots: i64,
    /// Its version.
    pub version: String,
    /// When it started, Unix ms.
    pub started_at: i64,
    /// Its last heartbeat, Unix ms.
    pub heartbeat_at: i64,
    /// Whether it beat recently (within 30 s).
    pub alive: bool,
}

/// A provider's recent record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderHealth {
    /// Provider id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its last successful call, Unix ms.
    pub last_success_at: Option<i64>,
    /// Its last failed call, Unix ms.
    pub last_failure_at: Option<i64>,
    /// The class of that failure (`rate_limited`, `timeout`, …).
    pub last_error: Option<String>,
    /// Whether its last call failed (and it failed within 24 hours).
    pub failing: bool,
}

/// A task that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentFailure {
    /// Task id.
    pub task_id: String,
    /// What was asked.
    pub description: String,
    /// Its workflow.
    pub workflow: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When, Unix ms.
    pub finished_at: i64,
}

/// A recorded health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemCheck {
    /// Check id.
    pub id: String,
    /// `ok` or `degraded`.
    pub status: String,
    /// The problems found, one per line (empty when ok).
    pub detail: String,
    /// Who recorded it (an e-mail address).
    pub checked_by: Option<String>,
    /// When, Unix ms.
    pub created_at: i64,
}
