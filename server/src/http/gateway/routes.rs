//! `/api/v1/gateway/routes`: where a model name clients send goes (a provider and model, with a
//! fallback), read by members and changed by admins; a change empties the gateway's cache of
//! routes so the next request sees it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::Caller;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::gateway::{GatewayRoute, RouteInput};

use crate::http::AppState;
use crate::http::auth::{Admin, Auth, Client};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::openapi::{ActionErrors, ReadErrors, UpdateErrors};

/// The routes' REST API (nested at `/api/v1/gateway`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_routes, put_route))
        .routes(routes!(delete_route))
}

/// The gateway's routes, by model name.
#[utoipa::path(get, path = "/routes", tag = "gateway",
    responses((status = 200, description = "The routes", body = Page<GatewayRoute>), ReadErrors))]
async fn list_routes(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Page<GatewayRoute>>, ApiError> {
    Ok(Json(Page {
        items: engine::gateway::routes::list(&state.store, &who.workspace_id).await?,
        next_cursor: None,
    }))
}

/// Creates or replaces the route of a model name (admins).
#[utoipa::path(put, path = "/routes", tag = "gateway", request_body = RouteInput,
    responses((status = 200, description = "The route", body = GatewayRoute), UpdateErrors))]
async fn put_route(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<RouteInput>,
) -> Result<Json<GatewayRoute>, ApiError> {
    let route =
        engine::gateway::routes::put(&state.store, Caller::new(&who, &client), &body).await?;
    state.gateway.invalidate();
    Ok(Json(route))
}

/// Deletes the route of a model name (admins).
#[utoipa::path(delete, path = "/routes/{model}", tag = "gateway",
    params(("model" = String, Path, description = "The model name clients send")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn delete_route(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(model): Path<String>,
) -> Result<StatusCode, ApiError> {
    engine::gateway::routes::delete(&state.store, Caller::new(&who, &client), &model).await?;
    state.gateway.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
