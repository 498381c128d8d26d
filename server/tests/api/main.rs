//! Server integration tests: the real router on port 0 against a fresh database, over HTTP.
//! Tests that touch the store run on SQLite and on Postgres.

mod cli;
mod helpers;
mod ops;
mod pages;
