//! `/api/v1/prices`: the price table (everyone reads; admins set prices).

use axum::Json;
use axum::extract::State;
use engine::store::prices::{self, Price};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{ReadErrors, UpdateErrors};
use engine::store::page::Page;

/// The routes under `/api/v1/prices`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, set))
}

/// The price table by provider kind and model (micro-USD per million tokens).
#[utoipa::path(get, path = "/", tag = "prices", params(ListQuery),
    responses((status = 200, description = "Prices", body = Page<Price>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(_who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Price>>, ApiError> {
    let prices = prices::list(state.store.pool()).await?;
    Ok(Json(q.page(prices, |p| {
        format!("{}\u{1f}{}", p.provider_kind, p.model)
    })?))
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
