//! `#[server]` functions, one module per area. Each is a thin edge: find the server context,
//! call one engine function, convert the result into a wire type from [`crate::model`].

pub mod access;
pub mod agents;
pub mod audit;
pub mod dashboard;
pub mod providers;
pub mod session;
pub mod settings;
pub mod tasks;
