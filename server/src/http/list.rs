//! The query every list endpoint takes: `limit` and `cursor` (see [`engine::store::page`]).
//!
//! Parameters arrive as text and are parsed here, so that a bad one is a 422 naming it
//! (`{"field": "limit", …}`) rather than a generic "cannot parse the query".

use engine::store::page::{Page, PageRequest, in_memory};
use serde::Deserialize;

use super::error::ApiError;

/// `limit` and `cursor`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The checked request.
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(
            self.limit.as_deref(),
            self.cursor.as_deref(),
        )?)
    }

    /// Pages a short list (kept whole in memory) by its unique `key`.
    pub fn page<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> Result<Page<T>, ApiError> {
        Ok(in_memory(items, key, &self.request()?))
    }
}

/// A number parameter, or a 422 naming it.
pub fn number(field: &'static str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| engine::Error::invalid(field, "must be a whole number").into()),
    }
}
