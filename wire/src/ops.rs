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
