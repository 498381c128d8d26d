//! The store: one API over SQLite (embedded default) and Postgres (production).
//!
//! Queries go through sqlx's `Any` driver with portable SQL (text ids, integer timestamps and
//! money, `$n` placeholders, `ON CONFLICT` upserts), so every repository function has one code
//! path for both backends. What cannot be portable — connection pragmas, creating databases —
//! lives in [`backend`]. Repository modules take an executor or a connection so that callers
//! can compose them into one transaction.

mod agent_list;
pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod backend;
mod batch;
pub mod credits;
pub mod export;
pub mod group;
pub mod knowledge;
mod list_cache;
pub mod llm_calls;
pub mod page;
pub mod personas;
pub mod prices;
pub mod prompt_versions;
pub mod providers;
pub mod queue;
pub mod retention;
pub mod rollups;
pub mod runs;
pub mod sessions;
pub mod settings;
pub mod task_archive;
mod task_list;
pub mod tasks;
pub mod users;
pub mod workspaces;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::AnyPool;
use sqlx::migrate::Migrator;

pub use backend::Backend;

use crate::{Error, Result};

/// Migrations compiled into the binary, one folder per backend (append-only).
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// A connection pool to Fleetdeck's database plus which backend it is.
///
/// Cloning is cheap (the pool is reference-counted); state is injected, never global.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where writes go: on SQLite a pool of one connection (see `backend::connect_pools`).
    writer: AnyPool,
    backend: Backend,
    /// The group-commit writer for call records, started on first use (see [`group`]).
    calls: std::sync::Arc<std::sync::OnceLock<group::GroupWriter>>,
    /// API keys recently resolved (see [`api_keys::resolve`]).
    pub(crate) key_cache: std::sync::Arc<api_keys::KeyCache>,
    /// Pages of the tasks list, each with the change counter it was read at (SQLite).
    pub(crate) task_lists: std::sync::Arc<list_cache::TaskListCache>,
}

pub use wire::ops::MigrationStatus;

/// A snapshot of the connection pool, for `/metrics`.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Of those, idle ones.
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
}

impl Store {
    /// Connects to the database behind `url` (`sqlite:…` or `postgres://…`).
    ///
    /// For SQLite the file and its folder are created when missing, and WAL journaling, foreign
    /// keys and a busy timeout are switched on for every connection.
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn connect(url: &str) -> Result<Store> {
        let backend = Backend::from_url(url)?;
        tracing::Span::current().record("backend", backend.as_str());
        let (pool, writer) = backend::connect_pools(backend, url).await?;
        Ok(Store {
            pool,
            writer,
            backend,
            calls: std::sync::Arc::default(),
            key_cache: std::sync::Arc::default(),
            task_lists: std::sync::Arc::default(),
        })
    }

    /// Connects to (and creates) the SQLite database file at `path`.
    pub async fn open_sqlite_file(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Config(format!(
                    "cannot create data directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        Store::connect(&backend::sqlite_url(path)).await
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads.
    ///
    /// Writes go through [`Store::writer`] or [`Store::begin`]: on SQLite a write on this pool
    /// would wait for the writer in SQLite's sleeping busy handler instead of in line.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes outside a transaction (one statement that changes something).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Begins a write transaction.
    ///
    /// Never open a second one (or write through [`Store::writer`]) while holding one: on
    /// SQLite there is one writer connection, and the second would wait for the first forever.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.writer.begin().await?)
    }

    fn group(&self) -> &group::GroupWriter {
        self.calls.get_or_init(|| {
            group::GroupWriter::spawn(self.writer.clone(), self.backend == Backend::Sqlite)
        })
    }

    /// Records a model call through the group-commit writer (see [`group`]): it is written
    /// with whatever else arrives meanwhile, in one transaction, and this returns after that
    /// commit. Never call it while holding a transaction from [`Store::begin`].
    pub async fn record_call(&self, record: group::CallRecord) -> Result<group::Recorded> {
        match self.group().record(record).await {
            Ok(result) => result,
            // The writer task's runtime is gone (a test's, or shutdown): record alone.
            Err(record) => group::commit_call(&self.writer, &record).await,
        }
    }

    /// Runs a write through the group-commit writer (see [`group`]) and stores the events it
    /// returns in the same transaction, in the workspace's topics; returns its value and the
    /// stored events (to broadcast) after the commit.
    ///
    /// `work` may run twice (alone, when the batch it was in failed), so it owns what it uses;
    /// it must fence before it writes, so that an [`Error::LeaseLost`] leaves nothing behind.
    /// Never call it while holding a transaction from [`Store::begin`].
    pub async fn write<T, F>(
        &self,
        workspace_id: &str,
        mut work: F,
    ) -> Result<(T, Vec<std::sync::Arc<crate::events::Event>>)>
    where
        T: Send + 'static,
        F: for<'c> FnMut(
                &'c mut sqlx::AnyConnection,
            ) -> futures_util::future::BoxFuture<
                'c,
                Result<(T, Vec<crate::events::Outgoing>)>,
            > + Send
            + 'static,
    {
        let run: group::WorkFn = Box::new(move |conn| {
            let fut = work(conn);
            Box::pin(async move {
                let (value, events) = fut.await?;
                Ok((Box::new(value) as Box<dyn std::any::Any + Send>, events))
            })
        });
        let work = group::Work {
            workspace_id: workspace_id.to_owned(),
            run,
        };
        let (value, events) = match self.group().write(work).await {
            Ok(result) => result?,
            Err(mut work) => group::commit_work(&self.writer, &mut work).await?,
        };
        let value = value
            .downcast::<T>()
            .map_err(|_| Error::Db(sqlx::Error::WorkerCrashed))?;
        Ok((*value, events))
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration; a no-op when the schema is current.
    #[tracing::instrument(skip(self), fields(backend = self.backend.as_str()))]
    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.writer).await?;
        Ok(())
    }

    /// Compares the applied migrations with those compiled into this binary.
    pub async fn migration_status(&self) -> Result<MigrationStatus> {
        let migrator = self.migrator();
        let expected: Vec<_> = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .collect();
        let rows: Vec<(i64, Vec<u8>)> = match sqlx::query_as(
            "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        {
            Ok(rows) => rows,
            // No bookkeeping table yet: nothing is applied.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let applied = expected
            .iter()
            .filter(|m| {
                rows.iter()
                    .any(|(v, sum)| *v == m.version && sum.as_slice() == &*m.checksum)
            })
            .count();
        let unknown = rows
            .iter()
            .filter(|(v, _)| !expected.iter().any(|m| m.version == *v))
            .count();
        Ok(MigrationStatus {
            expected: expected.len(),
            applied,
            unknown,
        })
    }

    /// Runs a trivial query and returns how long the round trip took.
    pub async fn ping(&self) -> Result<Duration> {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(started.elapsed())
    }

    /// The pool's current size, for metrics.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Closes every connection, waiting for checked-out ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}
