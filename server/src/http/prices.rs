//! `/api/v1/prices`: the price table (everyone reads; admins set prices).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use engine::store::prices::{self, Price};

use super::AppState;
use super::auth::{Admin, Auth, Client};
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
    engine::actions::settings::set_price(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &price,
    )
    .await?;
    Ok(Json(price))
}
