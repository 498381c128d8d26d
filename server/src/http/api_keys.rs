//! `/api/v1/api-keys`: keys for programs; the key itself is shown once, at creation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use engine::store::api_keys::{self, ApiKeyInfo};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::ApiJson;

/// The routes under `/api/v1/api-keys`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", delete(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    name: String,
}

async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<ApiKeyInfo>>, ApiError> {
    Ok(Json(api_keys::list(&state.store, &who).await?))
}

async fn create(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<Body>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (key, info) = engine::actions::access::create_api_key(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &body.name,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "key": key, "api_key": info })),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    Auth(who): Auth,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    engine::actions::access::revoke_api_key(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
