//! `/api/v1/prices`: the price table (everyone reads; admins set prices).

use axum::Json;
use axum::extract::State;
use engine::store::prices::{self, Price};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{ReadErrors, UpdateErrors};

/// The routes under `/api/v1/prices`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, set))
}

/// The price table (micro-USD per million tokens).
#[utoipa::path(get, path = "/", tag = "prices",
    responses((status = 200, description = "Prices", body = Vec<Price>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(_who): Auth,
) -> Result<Json<Vec<Price>>, ApiError> {
    Ok(Json(prices::list(state.store.pool()).await?))
}

/// Sets one model's price (micro-USD per million tokens; admins).
#[utoipa::path(put, path = "/", tag = "prices", request_body = Price,
    responses((status = 200, description = "The price as stored", body = Price), UpdateErrors))]
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
