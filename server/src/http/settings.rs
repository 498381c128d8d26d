//! `/api/v1/settings/{key}`: the workspace defaults (provider, model, temperature).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use engine::store::settings;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::ApiJson;

/// The routes under `/api/v1/settings`.
pub fn router() -> Router<AppState> {
    Router::new().route("/{key}", get(read).put(write))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    value: Value,
}

async fn read(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    settings::check_key(&key)?;
    let value = settings::get(state.store.pool(), &who.workspace_id, &key)
        .await?
        .ok_or_else(|| engine::Error::not_found("setting", &key))?;
    Ok(Json(json!({ "key": key, "value": value })))
}

async fn write(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Body>,
) -> Result<Json<Value>, ApiError> {
    engine::actions::settings::set(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &key,
        &body.value,
    )
    .await?;
    Ok(Json(json!({ "key": key, "value": body.value })))
}
