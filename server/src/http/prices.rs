//! `/api/v1/prices`: the price table (everyone reads; admins set prices).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use engine::store::prices::{self, Price};
use serde_json::json;

use super::AppState;
use super::auth::{Admin, Auth, Client, audit};
use super::error::ApiError;
use super::extract::ApiJson;

/// The routes under `/api/v1/prices`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).put(set))
}

async fn list(
    State(state): State<AppState>,
    Auth(_who): Auth,
) -> Result<Json<Vec<Price>>, ApiError> {
    Ok(Json(prices::list(state.store.pool()).await?))
}

/// Sets one model's price (micro-USD per million tokens).
async fn set(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(price): ApiJson<Price>,
) -> Result<Json<Price>, ApiError> {
    prices::upsert(state.store.writer(), &price).await?;
    audit(
        &state,
        &who,
        &client,
        "price.update",
        format!("price:{}/{}", price.provider_kind, price.model),
        json!({
            "input": price.input_per_mtok_micros,
            "output": price.output_per_mtok_micros,
            "cached_input": price.cached_input_per_mtok_micros,
        }),
    )
    .await;
    Ok(Json(price))
}
