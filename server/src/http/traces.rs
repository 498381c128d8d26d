//! External traces: OTLP/HTTP ingestion at `POST /v1/traces` (protobuf or JSON, authenticated
//! with a Fleetdeck API key, as exporters send `Authorization` or `x-api-key` headers), and the
//! Traces page's reads under `/api/v1/traces`. Decoding and storing are the engine's
//! ([`engine::gateway::otlp`]); this edge picks the encoding and maps errors.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::gateway::otlp::{self, Encoding};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::traces::{TraceDetail, TraceSummary};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::list::ListQuery;
use super::openapi::{ErrorBody, ReadErrors, ReadOneErrors};

/// `POST /v1/traces`.
pub fn otlp_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest))
}

/// The routes under `/api/v1/traces`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}

/// Receives an OTLP/HTTP trace export. Spans following the OpenTelemetry GenAI conventions
/// become model calls (`source = otlp`, priced, in analytics and the calls explorer), agent
/// invocations and tool executions, grouped into traces. A span exported again is stored once.
#[utoipa::path(post, path = "/v1/traces", tag = "gateway",
    request_body(content = Object, description = "An OTLP `ExportTraceServiceRequest`, as `application/x-protobuf` or `application/json`"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "An `ExportTraceServiceResponse` in the request's encoding (`partial_success` counts refused spans)", body = Object),
        (status = 400, description = "Not an OTLP export", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 415, description = "Neither protobuf nor JSON", body = ErrorBody),
        (status = 500, description = "The spans could not be stored", body = ErrorBody)))]
async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match ingest_inner(&state, &headers, &body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn ingest_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "send a Fleetdeck API key (Authorization: Bearer … or x-api-key)",
        )
    };
    let key = super::gateway::api_key(headers).ok_or_else(unauthorized)?;
    let (who, key_id) = engine::store::api_keys::resolve_with_id(&state.store, key)
        .await?
        .ok_or_else(unauthorized)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let encoding = if content_type.starts_with("application/x-protobuf")
        || content_type.starts_with("application/protobuf")
    {
        Encoding::Protobuf
    } else if content_type.starts_with("application/json") {
        Encoding::Json
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send application/x-protobuf or application/json (OTLP/HTTP)",
        ));
    };
    // OTLP asks for 400 on a body that does not decode (422 is not retried either way).
    let request = otlp::decode(body, encoding)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", e.to_string()))?;
    let ingested = otlp::ingest(&state.store, &who.workspace_id, Some(&key_id), request).await?;
    tracing::info!(
        spans = ingested.spans,
        calls = ingested.calls,
        duplicates = ingested.duplicates,
        rejected = ingested.rejected,
        "otlp: export received"
    );
    let content_type = match encoding {
        Encoding::Protobuf => "application/x-protobuf",
        Encoding::Json => "application/json",
    };
    let mut response = otlp::response(&ingested, encoding).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// External traces, newest first.
#[utoipa::path(get, path = "", tag = "gateway", params(ListQuery),
    responses((status = 200, description = "A page of traces", body = Page<TraceSummary>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<TraceSummary>>, ApiError> {
    let request = query.request()?;
    Ok(Json(
        engine::gateway::traces::list(&state.store, &who, &request).await?,
    ))
}

/// One trace: its spans as a tree (parents first), each model call's record, conversations
/// and tool calls.
#[utoipa::path(get, path = "/{trace_id}", tag = "gateway",
    params(("trace_id" = String, Path, description = "32 hex digits")),
    responses((status = 200, description = "The trace", body = TraceDetail), ReadOneErrors))]
async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(trace_id): Path<String>,
) -> Result<Json<TraceDetail>, ApiError> {
    Ok(Json(
        engine::gateway::traces::get(&state.store, &who, &trace_id).await?,
    ))
}
