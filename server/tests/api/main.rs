//! Server integration tests: the real router on port 0 against a fresh database, over HTTP.
//! Tests that touch the store run on SQLite and on Postgres.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

mod agent_tools;
mod alerts;
mod budgets;
mod cli;
mod contract;
mod crash;
mod edges;
mod events;
mod gateway;
mod gateway_controls;
mod health;
mod helpers;
mod identity;
mod knowledge;
mod openapi;
mod ops;
mod otlp;
mod pages;
mod personas;
mod provenance;
mod rate_limit;
mod run_command;
mod runs;
mod scale_out;
mod schemas;
mod sign_in_links;
mod studio;
mod task_archive;
mod tasks;
mod templates;
mod wire_types;
