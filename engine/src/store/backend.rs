//! Backend-specific pieces, kept in one small module and tested on both backends.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use crate::{Error, Result};

/// The two supported databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded SQLite: the default, a file in the data directory.
    Sqlite,
    /// Postgres: for teams and several instances.
    Postgres,
}

impl Backend {
    /// Detects the backend from a connection URL.
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Config(
                "DATABASE_URL must start with sqlite:, postgres:// or postgresql://".into(),
            ))
        }
    }

    /// A short name for logs and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The URL of a SQLite database file, created on first connect.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Opens the pools with the per-connection settings each backend needs: one for reads and one
/// for writes.
///
/// SQLite allows one writer at a time; writers on several connections wait for each other in
/// SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 ms…) and made the tail
/// latency of recording a call tens of milliseconds. So SQLite writes go through a pool of one
/// connection: writers queue in the pool, first come first served, and each is woken the moment
/// the previous one commits. Readers keep their own connections (WAL lets them read while a
/// write is in progress). On Postgres both are the same pool: rows are locked, not the file.
pub(crate) async fn connect_pools(backend: Backend, url: &str) -> Result<(AnyPool, AnyPool)> {
    let pool = connect_pool(backend, url, 8).await?;
    let writer = match backend {
        Backend::Sqlite => connect_pool(backend, url, 1).await?,
        Backend::Postgres => pool.clone(),
    };
    Ok((pool, writer))
}

/// Opens one pool of at most `sqlite_connections` connections (SQLite) or 16 (Postgres).
async fn connect_pool(backend: Backend, url: &str, sqlite_connections: u32) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url).map_err(|e| {
        // The URL may hold a password: never echo it back.
        Error::Config(format!(
            "DATABASE_URL cannot be parsed: {}",
            redact(&e.to_string(), url)
        ))
    })?;
    let pool = match backend {
        Backend::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(sqlite_connections)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .before_acquire(ping_when_idle)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers proceed while one writer commits; the busy timeout
                        // makes concurrent writers wait instead of failing with SQLITE_BUSY.
                        // The default 2 MB page cache thrashes on indexes of millions of calls
                        // (inserts land all over them): 32 MB per connection, and reads through
                        // a memory map.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456; \
                             PRAGMA temp_store = MEMORY;",
                        )
                        .execute(conn)
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
        }
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(ping_when_idle)
                .connect_with(options)
                .await
        }
    };
    pool.map_err(Error::from)
}

/// Checks a pooled connection before handing it out only when it sat idle for a while.
///
/// sqlx pings every connection on every acquire by default: a full round trip that cost more
/// than the statement itself (130 µs against 6 µs for a small SQLite statement, measured with
/// `make bench`) on every read and every write. A connection in steady use is known to be
/// alive; one idle for over a second (the database may have restarted meanwhile) is pinged.
fn ping_when_idle(
    conn: &mut sqlx::AnyConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, std::result::Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for > Duration::from_secs(1) {
            use sqlx::Connection;
            conn.ping().await?;
        }
        Ok(true)
    })
}

fn redact(message: &str, url: &str) -> String {
    message.replace(url, "<DATABASE_URL>")
}

/// The SQLite journal mode actually in effect (`wal` when set up correctly).
pub async fn sqlite_journal_mode(pool: &AnyPool) -> Result<String> {
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(pool)
        .await?;
    Ok(mode.to_ascii_lowercase())
}

impl Backend {
    /// An SQL expression for the database's own clock in Unix milliseconds.
    ///
    /// Leases compare against this, never against a process's clock, so that processes whose
    /// clocks disagree still agree on when a lease ran out.
    pub fn now_ms_sql(self) -> &'static str {
        match self {
            // julianday works on every SQLite version; 2440587.5 is the Unix epoch's day.
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// The row-locking suffix of the queue's "next claimable task" sub-select.
    ///
    /// On Postgres `FOR UPDATE SKIP LOCKED` lets N workers each take a different row instead of
    /// all racing for the oldest one; SQLite has one writer at a time and no row locks, and the
    /// claim's conditional `UPDATE` is already exclusive there.
    pub fn skip_locked_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }
}
