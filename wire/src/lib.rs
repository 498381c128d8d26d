//! What crosses the wire, defined once: the requests and responses of the REST API and of the
//! pages' server functions (the same types: a page reads what a program reads), the kinds of
//! live events, and how figures are formatted (money as an integer of micro-USD everywhere,
//! formatted the same on a page rendered by the server and on one updated live in the browser).
//!
//! Responses carry raw values (micro-USD, Unix milliseconds, token counts, provider kinds); the
//! pages format them with [`format`]. Only `serde` (and `humantime` for dates), which the
//! bundle has anyway; the server adds OpenAPI schemas with the `openapi` feature.

pub mod access;
pub mod agents;
pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod budgets;
pub mod calls;
pub mod dashboard;
pub mod events;
pub mod format;
pub mod gateway;
pub mod knowledge;
pub mod ops;
pub mod personas;
pub mod prompts;
pub mod providers;
pub mod runs;
pub mod session;
pub mod settings;
pub mod tasks;
pub mod traces;

pub use format::{cost_label, format_micros};

use serde::{Deserialize, Serialize};

/// One page of a list: every list the API answers is `{ "items": [...], "next_cursor": ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
