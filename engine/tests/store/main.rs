//! Store tests: every test runs on SQLite and on Postgres (see `engine::store_test!`).

mod agents;
mod analytics;
mod migrations;
mod seed;
