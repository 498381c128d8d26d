//! Retention tiers (seed 002): raw model calls and events stay hot for `hot_days`, then move to
//! archive tables (still queryable: `fleetdeck export … --archived`), then after
//! `archive_days` are written to gzip-compressed JSON Lines files and deleted. Rollups are never
//! touched, so analytics keep every period. Expired sessions and sign-in links are deleted, and
//! finished tasks archived in workspaces that ask for it ([`super::task_archive::auto_archive`]).
//!
//! A daily job: the process whose insert of today's `retention_runs` row wins runs it, so
//! several processes never run it twice. Each move is a batch in its own transaction (insert
//! into the archive and delete from the source together): a crash leaves every row in exactly
//! one table, and the next run picks up where this one stopped. An archive file is written
//! beside its final name and renamed once complete, before its rows are deleted.

use std::path::{Path, PathBuf};

use super::export::{Format, Kind};
use crate::{Error, Result, Store};

/// Rows moved per transaction.
const BATCH: i64 = 5_000;

const DAY_MS: i64 = 86_400_000;

/// How long each tier keeps rows; 0 days disables a tier.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Days raw calls and events stay in the hot tables.
    pub hot_days: i64,
    /// Days they then stay in the archive tables.
    pub archive_days: i64,
    /// Where archive files are written.
    pub dir: PathBuf,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
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
    /// Tasks archived because their workspace archives finished tasks after N days.
    pub archived_tasks: i64,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Runs the day's retention at `now` (Unix ms) unless a process ran it today already (then
/// `None`).
pub async fn run_daily(store: &Store, policy: &Policy, now: i64) -> Result<Option<Report>> {
    let day = jiff::Timestamp::from_millisecond(now)
        .map_err(|e| Error::invalid("now", e.to_string()))?
        .strftime("%Y-%m-%d")
        .to_string();
    let claimed = sqlx::query(
        "INSERT INTO retention_runs (day, started_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
    )
    .bind(&day)
    .bind(now)
    .execute(store.writer())
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    let report = run(store, policy, now).await?;
    sqlx::query(
        "UPDATE retention_runs SET finished_at = $2, archived_calls = $3, archived_events = $4, \
         exported_calls = $5, exported_events = $6, expired_sessions = $7, archived_tasks = $8 \
         WHERE day = $1",
    )
    .bind(&day)
    .bind(crate::now_ms())
    .bind(report.archived_calls)
    .bind(report.archived_events)
    .bind(report.exported_calls)
    .bind(report.exported_events)
    .bind(report.expired_sessions)
    .bind(report.archived_tasks)
    .execute(store.writer())
    .await?;
    Ok(Some(report))
}

/// One pass of every tier at `now`, whatever ran before (idempotent).
pub async fn run(store: &Store, policy: &Policy, now: i64) -> Result<Report> {
    let mut report = Report::default();
    for table in ["sessions", "magic_links"] {
        // Only placeholders are formatted into the statement; the table names are constants.
        report.expired_sessions += sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE expires_at < $1"
        )))
        .bind(now)
        .execute(store.writer())
        .await?
        .rows_affected() as i64;
    }
    report.archived_tasks = super::task_archive::auto_archive(store, now).await?;
    if policy.hot_days > 0 {
        let cutoff = now - policy.hot_days * DAY_MS;
        report.archived_calls = archive(store, "llm_calls", "id", cutoff).await?;
        report.archived_events =
            archive(store, "events", "workspace_id, topic, seq", cutoff).await?;
    }
    if policy.hot_days > 0 && policy.archive_days > 0 {
        let cutoff = now - (policy.hot_days + policy.archive_days) * DAY_MS;
        for (kind, table) in [(Kind::Calls, "llm_calls"), (Kind::Events, "events")] {
            if let Some((rows, file)) = write_out(store, kind, table, cutoff, &policy.dir).await? {
                match kind {
                    Kind::Calls => report.exported_calls = rows,
                    _ => report.exported_events = rows,
                }
                report.files.push(file);
            }
        }
    }
    Ok(report)
}

/// Moves `table`'s rows created before `cutoff` into `{table}_archive`, a batch per
/// transaction; how many.
async fn archive(store: &Store, table: &str, key: &str, cutoff: i64) -> Result<i64> {
    let mut moved = 0;
    loop {
        // The same batch, chosen twice in one transaction: new rows are never this old.
        let batch = format!(
            "SELECT {key} FROM {table} WHERE created_at < $1 ORDER BY created_at, {key} LIMIT {BATCH}"
        );
        let mut tx = store.begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table}_archive SELECT * FROM {table} WHERE ({key}) IN ({batch})"
        )))
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        if n == 0 {
            // Ended explicitly: a transaction left to its drop keeps SQLite's write lock until
            // the connection is next used, stalling every other writer.
            tx.rollback().await?;
            return Ok(moved);
        }
        let deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE ({key}) IN ({batch})"
        )))
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        if deleted != n {
            tx.rollback().await?;
            return Err(Error::Conflict(format!(
                "retention: {n} rows of {table} archived but {deleted} deleted; rolled back"
            )));
        }
        tx.commit().await?;
        moved += n;
    }
}

/// Writes `{table}_archive`'s rows created before `cutoff` to a gzip JSON Lines file, then
/// deletes them; none when there were none.
async fn write_out(
    store: &Store,
    kind: Kind,
    table: &str,
    cutoff: i64,
    dir: &Path,
) -> Result<Option<(i64, PathBuf)>> {
    let (any,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table}_archive WHERE created_at < $1"
    )))
    .bind(cutoff)
    .fetch_one(store.pool())
    .await?;
    if any == 0 {
        return Ok(None);
    }
    let io =
        |e: std::io::Error| Error::Config(format!("retention: cannot write an archive file: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    let day = jiff::Timestamp::from_millisecond(cutoff)
        .map_err(|e| Error::invalid("cutoff", e.to_string()))?
        .strftime("%Y-%m-%d")
        .to_string();
    let file = dir.join(format!("{table}-before-{day}.jsonl.gz"));
    let partial = dir.join(format!("{table}-before-{day}.jsonl.gz.partial"));
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&partial).map_err(io)?,
        flate2::Compression::default(),
    );
    let mut writer = std::io::BufWriter::new(gz);
    let rows = super::export::export_from(store, kind, true, Format::Jsonl, 0, cutoff, &mut writer)
        .await?;
    let gz = writer.into_inner().map_err(|e| io(e.into_error()))?;
    gz.finish().map_err(io)?.sync_all().map_err(io)?;
    std::fs::rename(&partial, &file).map_err(io)?;
    let deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table}_archive WHERE created_at < $1"
    )))
    .bind(cutoff)
    .execute(store.writer())
    .await?
    .rows_affected() as i64;
    tracing::info!(file = %file.display(), rows, deleted, "retention: archive written");
    Ok(Some((i64::try_from(rows).unwrap_or(i64::MAX), file)))
}
