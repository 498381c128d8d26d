//! The HTTP error type: every API error is the JSON body of SPEC.md with the right status.
//!
//! `{ "code": "AGENT_NOT_FOUND", "message": "...", "details": {...}, "request_id": "...",
//! "timestamp": "..." }`. Internal causes are logged with the request id, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::middleware::current_request_id;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    details: Value,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a Value,
    request_id: String,
    timestamp: String,
}

impl ApiError {
    /// An error with a status, a machine-readable code and a human message.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            details: Value::Object(Default::default()),
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// 404 for a route that does not exist.
    pub fn route_not_found(path: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such API route")
            .with_details(serde_json::json!({ "path": path }))
    }

    /// 500 that hides its cause from the client and logs it.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "an internal error occurred; quote the request id when reporting it",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<engine::Error> for ApiError {
    /// The status and code come from the engine ([`engine::Error::http_status`]), the same
    /// table the server functions use.
    fn from(err: engine::Error) -> Self {
        use engine::Error as E;
        let status =
            StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match &err {
            E::Config(_) | E::Db(_) | E::Migrate(_) => ApiError::internal(&err),
            E::NotFound { id, .. } => ApiError::new(status, err.code(), err.to_string())
                .with_details(serde_json::json!({ "id": id })),
            E::Invalid { field, reason } => ApiError::new(status, err.code(), err.to_string())
                .with_details(serde_json::json!({ "field": field, "reason": reason })),
            E::Conflict(message)
            | E::Unauthorized(message)
            | E::Forbidden(message)
            | E::InsufficientCredits(message)
            | E::BudgetExceeded(message) => ApiError::new(status, err.code(), message.clone()),
            E::LeaseLost(_) => ApiError::new(status, err.code(), err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: &self.code,
            message: &self.message,
            details: &self.details,
            request_id: current_request_id().unwrap_or_default(),
            timestamp: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        };
        (self.status, Json(body)).into_response()
    }
}
