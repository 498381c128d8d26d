//! Extractors whose rejections are SPEC error bodies instead of axum's plain text.

use axum::extract::FromRequest;
use axum::extract::rejection::{JsonRejection, QueryRejection};

use super::error::ApiError;

/// A JSON request body; malformed JSON or wrong fields answer 400/422 in the SPEC format.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Query parameters, rejected in the SPEC format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::new(rejection.status(), "INVALID_BODY", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(rejection.status(), "INVALID_QUERY", rejection.body_text())
    }
}
