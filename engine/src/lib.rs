//! Fleetdeck's domain layer.
//!
//! Everything that decides *what* Fleetdeck does lives here: the store (SQLite or Postgres
//! behind one API), the domain types, the first-run seed and the dashboard analytics. This crate
//! knows nothing of HTTP, axum or Leptos; the `server` crate and the `app` crate's `#[server]`
//! functions are thin edges that call into it.

pub mod actions;
pub mod alerts;
pub mod analytics;
pub mod auth;
pub mod budgets;
pub mod domain;
pub mod error;
pub mod events;
pub mod gateway;
pub mod health;
pub mod listen;
pub mod providers;
pub mod runner;
pub mod schemas;
pub mod seed;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};
pub use store::{Backend, Store};

/// Milliseconds since the Unix epoch: the one timestamp representation in the database.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// A new time-sortable identifier (UUIDv7) in its text form, as every table stores ids.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
