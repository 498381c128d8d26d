//! Store tests: every test runs on SQLite and on Postgres (see `engine::store_test!`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

mod agent_registry;
mod agents;
mod alerts;
mod analytics;
mod budget_runs;
mod budgets;
mod costs;
mod identity;
mod migrations;
mod personas;
mod providers;
mod recording;
mod retention;
mod runner;
mod seed;
mod studio;
mod task_archive;
mod task_list;
mod trends;
