//! `/api/v1/providers`: provider credentials (admins manage, everyone reads the masked view).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::{self, Caller};
use engine::store::providers;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::providers::{Provider, ProviderCheck, ProviderInput, ProviderTest};

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{ActionErrors, CreateErrors, ReadErrors, ReadOneErrors, UpdateErrors};
use wire::Page;

/// The routes under `/api/v1/providers`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(test))
}

const ID: &str = "The provider's id";

/// The workspace's providers, by name (keys masked).
#[utoipa::path(get, path = "/", tag = "providers", params(ListQuery),
    responses((status = 200, description = "The providers", body = Page<Provider>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Provider>>, ApiError> {
    let providers = providers::list(state.store.pool(), &who.workspace_id).await?;
    Ok(Json(q.page(providers, |p| p.name.clone())?))
}

/// One provider (key masked).
#[utoipa::path(get, path = "/{id}", tag = "providers", params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The provider", body = Provider), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Provider>, ApiError> {
    Ok(Json(
        providers::get(&state.store, &who.workspace_id, &id).await?,
    ))
}

/// Adds a provider (admins).
#[utoipa::path(post, path = "/", tag = "providers", request_body = ProviderInput,
    responses((status = 201, description = "Created", body = Provider), CreateErrors))]
async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<ProviderInput>,
) -> Result<(StatusCode, Json<Provider>), ApiError> {
    let caller = Caller::new(&who, &client);
    let provider =
        actions::providers::create(&state.store, &state.master_key, caller, &body).await?;
    Ok((StatusCode::CREATED, Json(provider)))
}

/// Changes a provider (admins); a new key replaces the sealed one.
#[utoipa::path(patch, path = "/{id}", tag = "providers", request_body = ProviderInput,
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "The changed provider", body = Provider), UpdateErrors))]
async fn update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProviderInput>,
) -> Result<Json<Provider>, ApiError> {
    let caller = Caller::new(&who, &client);
    let provider =
        actions::providers::update(&state.store, &state.master_key, caller, &id, &body).await?;
    Ok(Json(provider))
}

/// Deletes a provider (admins); agents that used it are marked and fail clearly.
#[utoipa::path(delete, path = "/{id}", tag = "providers", params(("id" = String, Path, description = ID)),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn remove(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actions::providers::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Test connection": one tiny call, reported as `{ok, model, latency_ms, message, error_class}`.
#[utoipa::path(post, path = "/{id}/test", tag = "providers",
    params(("id" = String, Path, description = ID)),
    request_body(content = Option<ProviderTest>, description = "Optional"),
    responses((status = 200, description = "What the call did (a failed call is `ok: false`)",
        body = ProviderCheck), ActionErrors))]
async fn test(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ProviderCheck>, ApiError> {
    // The body is optional: no body tests the kind's default small model.
    if super::middleware::body_has_nul(&body) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "the request body contains a NUL character, which no field accepts",
        ));
    }
    let body: ProviderTest = if body.iter().all(u8::is_ascii_whitespace) {
        ProviderTest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_BODY",
                e.to_string(),
            )
        })?
    };
    let model = body.model;
    let check = state
        .runner
        .test_provider(Caller::new(&who, &client), &id, model)
        .await?;
    Ok(Json(check))
}
