//! The operator's copies. `fleetdeck export`: model calls, tasks or audit entries of a time range as CSV or JSON
//! Lines, streamed — rows are read from a database cursor and written one at a time, so
//! memory stays flat on millions of rows. Every workspace's rows, each with its workspace id
//! (an operator's command, not a member's). `fleetdeck backup` on SQLite: [`sqlite_backup`].

use std::io::Write;

use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::{Error, Result, Store};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `llm_calls`, by `created_at`.
    Calls,
    /// `events` (what retention archives and writes out), by `created_at`.
    Events,
    /// `tasks`, by `created_at`.
    Tasks,
    /// `audit_log`, by `created_at`.
    Audit,
}

impl Kind {
    /// `calls`, `tasks` or `audit`.
    pub fn parse(raw: &str) -> Result<Kind> {
        match raw {
            "calls" => Ok(Kind::Calls),
            "tasks" => Ok(Kind::Tasks),
            "audit" => Ok(Kind::Audit),
            "events" => Ok(Kind::Events),
            _ => Err(Error::invalid(
                "what",
                "must be calls, tasks, audit or events",
            )),
        }
    }

    /// The table, its archive (if it has one) and its columns, in export order.
    fn spec(self) -> (&'static str, &'static [(&'static str, Col)]) {
        use Col::{Int, Text};
        match self {
            Kind::Events => (
                "events",
                &[
                    ("workspace_id", Text),
                    ("topic", Text),
                    ("seq", Int),
                    ("kind", Text),
                    ("payload", Text),
                    ("created_at", Int),
                ],
            ),
            Kind::Calls => (
                "llm_calls",
                &[
                    ("id", Text),
                    ("workspace_id", Text),
                    ("created_at", Int),
                    ("source", Text),
                    ("provider_kind", Text),
                    ("model", Text),
                    ("provider_id", Text),
                    ("agent_id", Text),
                    ("task_id", Text),
                    ("agent_run_id", Text),
                    ("role", Text),
                    ("workflow", Text),
                    ("prompt_tokens", Int),
                    ("completion_tokens", Int),
                    ("cached_tokens", Int),
                    ("cache_write_tokens", Int),
                    ("reasoning_tokens", Int),
                    ("usage_estimated", Int),
                    ("cost_micros", Int),
                    ("price_known", Int),
                    ("latency_ms", Int),
                    ("ttft_ms", Int),
                    ("success", Int),
                    ("error_class", Text),
                    ("attempt", Int),
                    ("api_key_id", Text),
                    ("session_id", Text),
                    ("external_task", Text),
                ],
            ),
            Kind::Tasks => (
                "tasks",
                &[
                    ("id", Text),
                    ("workspace_id", Text),
                    ("created_at", Int),
                    ("started_at", Int),
                    ("finished_at", Int),
                    ("status", Text),
                    ("workflow", Text),
                    ("complexity", Text),
                    ("description", Text),
                    ("prompt_tokens", Int),
                    ("completion_tokens", Int),
                    ("cached_tokens", Int),
                    ("cost_micros", Int),
                    ("unpriced_calls", Int),
                    ("error", Text),
                    ("created_by", Text),
                    ("rerun_of", Text),
                ],
            ),
            Kind::Audit => (
                "audit_log",
                &[
                    ("id", Text),
                    ("workspace_id", Text),
                    ("seq", Int),
                    ("created_at", Int),
                    ("actor", Text),
                    ("actor_user_id", Text),
                    ("action", Text),
                    ("target", Text),
                    ("ip", Text),
                    ("user_agent", Text),
                    ("details", Text),
                    ("prev_hash", Text),
                    ("hash", Text),
                ],
            ),
        }
    }
}

/// How a column is read.
#[derive(Debug, Clone, Copy)]
enum Col {
    Text,
    Int,
}

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one line per row (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `csv` or `jsonl`.
    pub fn parse(raw: &str) -> Result<Format> {
        match raw {
            "csv" => Ok(Format::Csv),
            "jsonl" | "json" => Ok(Format::Jsonl),
            _ => Err(Error::invalid("format", "must be csv or jsonl")),
        }
    }
}

/// Writes every row of `kind` created in `[from, to)` (Unix ms) to `out`, oldest first; the
/// number of rows written.
pub async fn export<W: Write>(
    store: &Store,
    kind: Kind,
    format: Format,
    from: i64,
    to: i64,
    out: W,
) -> Result<u64> {
    export_from(store, kind, false, format, from, to, out).await
}

/// [`export`], from the archive table (`llm_calls_archive`, `events_archive`) when `archived`.
pub async fn export_from<W: Write>(
    store: &Store,
    kind: Kind,
    archived: bool,
    format: Format,
    from: i64,
    to: i64,
    out: W,
) -> Result<u64> {
    let (table, columns) = kind.spec();
    let table = match (archived, kind) {
        (false, _) => table.to_owned(),
        (true, Kind::Calls | Kind::Events) => format!("{table}_archive"),
        (true, _) => {
            return Err(Error::invalid(
                "archived",
                "only calls and events have an archive",
            ));
        }
    };
    let order = if kind == Kind::Events {
        "created_at, workspace_id, topic, seq"
    } else {
        "created_at, id"
    };
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let sql = format!(
        "SELECT {} FROM {table} WHERE created_at >= $1 AND created_at < $2 ORDER BY {order}",
        names.join(", ")
    );
    let failed = |e: &dyn std::fmt::Display| Error::invalid("out", format!("cannot write: {e}"));
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to)
        .fetch(store.pool());
    let mut written = 0_u64;
    match format {
        Format::Csv => {
            // The csv writer buffers a little and quotes as RFC 4180 says.
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&names).map_err(|e| failed(&e))?;
            while let Some(row) = rows.try_next().await? {
                let fields = read(&row, columns)?.into_iter().map(|v| match v {
                    Value::Null => String::new(),
                    Value::String(s) => s,
                    other => other.to_string(),
                });
                w.write_record(fields).map_err(|e| failed(&e))?;
                written += 1;
            }
            w.flush().map_err(|e| failed(&e))?;
        }
        Format::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            while let Some(row) = rows.try_next().await? {
                let object: Map<String, Value> = names
                    .iter()
                    .map(|n| (*n).to_owned())
                    .zip(read(&row, columns)?)
                    .collect();
                serde_json::to_writer(&mut out, &object).map_err(|e| failed(&e))?;
                out.write_all(b"\n").map_err(|e| failed(&e))?;
                written += 1;
            }
            out.flush().map_err(|e| failed(&e))?;
        }
    }
    Ok(written)
}

/// One row's values, by the columns' kinds.
fn read(row: &sqlx::any::AnyRow, columns: &[(&str, Col)]) -> Result<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (_, col))| {
            Ok(match col {
                Col::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::String),
                Col::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::from),
            })
        })
        .collect()
}

/// SQLite's online backup of the whole database into a new file at `path`: a consistent,
/// compacted copy while others write (`VACUUM INTO`). SQLite only.
pub async fn sqlite_backup(store: &Store, path: &std::path::Path) -> Result<()> {
    if store.backend() != super::backend::Backend::Sqlite {
        return Err(Error::invalid("database", "an online copy is for SQLite"));
    }
    sqlx::query("VACUUM INTO $1")
        .bind(path.to_string_lossy().into_owned())
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Whether a database has Fleetdeck's tables (a restore checks its file first).
pub async fn is_fleetdeck(store: &Store) -> bool {
    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM workspaces")
        .fetch_one(store.pool())
        .await
        .is_ok()
}
