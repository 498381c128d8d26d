//! `#[server]` functions, one module per area. Each is a thin edge: find the server context,
//! call the engine function the REST handler calls, answer the same `wire` type.

pub mod access;
pub mod agents;
pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod budgets;
pub mod calls;
pub mod dashboard;
pub mod gateway;
pub mod health;
pub mod knowledge;
pub mod personas;
pub mod providers;
pub mod runs;
pub mod session;
pub mod settings;
pub mod tasks;
pub mod traces;
