//! The API contract: the OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes and the wire types' `ToSchema` derives, served at `/api/v1/openapi.json`, with a
//! reference page (Swagger UI, vendored into the binary) at `/api/docs`.
//!
//! Routes are registered through `utoipa_axum`'s `OpenApiRouter`, so a route and its entry in
//! the document are written once, together. Error responses are documented by sets (below), each
//! the SPEC error body ([`ErrorBody`]) under the statuses an operation can answer.

use std::collections::BTreeMap;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// The SPEC error body every API error answers with.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({
    "code": "AGENT_NOT_FOUND", "message": "agent 0199… not found", "details": {"id": "0199…"},
    "request_id": "5f0c…", "timestamp": "2026-11-23T09:30:00.000Z"
}))]
pub struct ErrorBody {
    /// Machine-readable, e.g. `VALIDATION_FAILED`, `FORBIDDEN`, `AGENT_NOT_FOUND`.
    pub code: String,
    /// For people; safe to show.
    pub message: String,
    /// Structured details, e.g. `{"field": "name", "reason": "…"}`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The request's id (also in the `x-request-id` header): quote it when reporting a problem.
    pub request_id: String,
    /// RFC 3339, when the error was answered.
    pub timestamp: String,
}

/// What each error status means, for the document.
fn error_status(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("400", "The body is not valid JSON"),
        401 => (
            "401",
            "Not signed in: no, an unknown or an expired API key or session",
        ),
        402 => ("402", "Not enough credits"),
        403 => ("403", "The caller's role does not allow this"),
        404 => ("404", "No such thing in the caller's workspace"),
        409 => (
            "409",
            "Conflicts with the current state (a duplicate name, a finished task…)",
        ),
        413 => ("413", "The body is too large"),
        415 => ("415", "The body is not `application/json`"),
        422 => (
            "422",
            "Invalid input; `details` names the field or parameter",
        ),
        429 => (
            "429",
            "Too many requests; retry after the `retry-after` header's seconds",
        ),
        503 => ("503", "The feature is not configured on this server"),
        _ => (
            "500",
            "An internal error; the cause is logged under the request id",
        ),
    }
}

fn error_responses(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&s| {
            let (code, description) = error_status(s);
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            (code.to_owned(), RefOr::T(response))
        })
        .collect()
}

/// Declares an error set: a type naming the error statuses an operation answers.
macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident: $($status:literal),+) => {
        $(#[$doc])*
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_responses(&[$($status),+])
            }
        }
    };
}

error_set!(
    /// Reads by any member.
    ReadErrors: 401, 422, 429, 500
);
error_set!(
    /// Reads of one thing by any member.
    ReadOneErrors: 401, 404, 422, 429, 500
);
error_set!(
    /// Reads restricted by role.
    AdminReadErrors: 401, 403, 422, 429, 500
);
error_set!(
    /// Creations (a body, a role check, validation, uniqueness).
    CreateErrors: 400, 401, 403, 409, 413, 415, 422, 429, 500
);
error_set!(
    /// Changes to one thing.
    UpdateErrors: 400, 401, 403, 404, 409, 413, 415, 422, 429, 500
);
error_set!(
    /// Actions on one thing without a body (delete, cancel, test).
    ActionErrors: 401, 403, 404, 409, 422, 429, 500
);
error_set!(
    /// Actions that cost credits.
    PaidErrors: 400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500
);
error_set!(
    /// Computations from a body by any member (estimates).
    ComputeErrors: 400, 401, 404, 413, 415, 422, 429, 500
);
error_set!(
    /// Sign-in endpoints (no credentials yet).
    SignInErrors: 400, 401, 413, 415, 422, 429, 500
);
error_set!(
    /// Sign-in links (mail may not be configured).
    MagicLinkErrors: 400, 413, 415, 422, 429, 500, 503
);

/// The API key and the session cookie, and the default that every operation needs one.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A Fleetdeck API key (`fdk_…`), made in Settings → API keys or \
                         `POST /api/v1/api-keys`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                engine::auth::web::SESSION_COOKIE,
                "The browser's session, set by `POST /api/auth/login` or a sign-in link.",
            ))),
        );
    }
}

/// The document's fixed parts; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fleetdeck API",
        description = "Define agents, run tasks and workflows, watch them live and account for \
            every model call. Authenticate with an API key (`Authorization: Bearer fdk_…`) or the \
            browser's session cookie. Errors are always the `ErrorBody` JSON. Lists answer \
            `{ \"items\": [...], \"next_cursor\": ... }`. Live events (`/ws`, and SSE at \
            `/api/v1/tasks/{id}/stream`) are `Event` objects.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    components(schemas(
        ErrorBody,
        wire::events::Event,
        wire::events::ClientMessage,
        wire::events::ServerMessage
    )),
    tags(
        (name = "agents", description = "The agent registry"),
        (name = "tasks", description = "Submit, follow and inspect tasks"),
        (name = "gateway", description = "Routes of the OpenAI-compatible /v1/chat/completions gateway"),
        (name = "runs", description = "Playground runs: one agent, one input, overrides for the run"),
        (name = "providers", description = "Model providers and their keys"),
        (name = "prices", description = "The price table"),
        (name = "settings", description = "Workspace defaults"),
        (name = "access", description = "Members, API keys and credits"),
        (name = "audit", description = "The audit log"),
        (name = "budgets", description = "Spending limits, enforced before every call"),
        (name = "alerts", description = "Alerts, their rules and notification channels"),
        (name = "metrics", description = "Analytics from the hourly rollups"),
        (name = "auth", description = "Signing in and out"),
        (name = "events", description = "Live events"),
        (name = "ops", description = "Health, readiness and metrics")
    )
)]
pub struct ApiDoc;

/// The document as served, made once when the router is built.
static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Keeps the document for [`document`] (the first router built wins: they are all alike).
pub fn publish(doc: utoipa::openapi::OpenApi) {
    if DOCUMENT.get().is_none() {
        let json = doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document cannot be serialised");
            "{}".to_owned()
        });
        let _ = DOCUMENT.set(json);
    }
}

/// This document: every route of the API, its parameters, bodies and responses.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get().cloned().unwrap_or_else(|| "{}".to_owned()),
    )
        .into_response()
}

/// The reference page at `/api/docs`: Swagger UI from the binary, reading our document, with
/// its online validator switched off (no request leaves the machine).
pub fn docs_page() -> axum::Router<super::AppState> {
    let config = utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"])
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_request_duration(true)
        .persist_authorization(true);
    utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(config)
        .into()
}
