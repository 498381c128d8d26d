//! Extractors whose rejections are SPEC error bodies instead of axum's plain text.

use axum::extract::FromRequest;
use axum::extract::rejection::{JsonRejection, QueryRejection};

use super::error::ApiError;

/// A JSON request body; malformed JSON or wrong fields answer 400/422 in the SPEC format, and
/// so does a NUL character anywhere in it (no field accepts one; Postgres cannot store it).
///
/// Put it after the role extractor (`Developer`, `Admin`): extractors run in order, so the role
/// is checked before the body is read.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "INVALID_BODY",
                "expected a request with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req.map(|b| b), state)
            .await
            .map_err(|e| ApiError::new(e.status(), "INVALID_BODY", e.body_text()))?;
        if super::middleware::body_has_nul(&bytes) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                "the request body contains a NUL character, which no field accepts",
            )
            .with_details(serde_json::json!({ "field": "body", "reason": "must not contain a NUL character" })));
        }
        Ok(ApiJson(axum::Json::<T>::from_bytes(&bytes)?.0))
    }
}

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
    /// A 422 (the request is well-formed; a parameter is not) whose details name the parameter
    /// when serde's message does ("…: colour: unknown field `colour`…").
    fn from(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        let field = text
            .strip_prefix("Failed to deserialize query string: ")
            .and_then(|rest| rest.split_once(':'))
            .map(|(field, _)| field.trim())
            .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let error = ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_QUERY",
            text.clone(),
        );
        match field {
            Some(field) => error.with_details(serde_json::json!({ "field": field })),
            None => error,
        }
    }
}
