//! `/api/v1/api-keys`: keys for programs; the key itself is shown once, at creation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::store::api_keys::{self, ApiKeyInfo};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::access::{CreatedKey, NewApiKey};

use super::AppState;
use super::auth::{Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{ActionErrors, CreateErrors, ReadErrors};
use engine::store::page::Page;

/// The routes under `/api/v1/api-keys`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// API keys, oldest first: a developer's own, or every key for admins (never the keys
/// themselves).
#[utoipa::path(get, path = "/", tag = "access", params(ListQuery),
    responses((status = 200, description = "The keys", body = Page<ApiKeyInfo>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<ApiKeyInfo>>, ApiError> {
    let keys = api_keys::list(&state.store, &who).await?;
    Ok(Json(q.page(keys, |k| k.id.clone())?))
}

/// Makes an API key for the caller (developers and admins).
#[utoipa::path(post, path = "/", tag = "access", request_body = NewApiKey,
    responses((status = 201, description = "Created; the key is in the body this once",
        body = CreatedKey), CreateErrors))]
async fn create(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let created = engine::actions::access::create_api_key(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &body.name,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a key (its owner, or an admin); it stops working at once.
#[utoipa::path(delete, path = "/{id}", tag = "access",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), ActionErrors))]
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
