//! `/api/v1/providers`: provider credentials (admins manage, everyone reads the masked view).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use engine::actions::{self, Caller};
use engine::store::providers::{self, Provider, ProviderInput};
use serde::Deserialize;

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::ApiJson;

/// The routes under `/api/v1/providers`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(show).patch(update).delete(remove))
        .route("/{id}/test", axum::routing::post(test))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    name: Option<String>,
    kind: Option<String>,
    base_url: Option<String>,
    api_key: Option<String>,
}

impl From<Body> for ProviderInput {
    fn from(b: Body) -> Self {
        ProviderInput {
            name: b.name,
            kind: b.kind,
            base_url: b.base_url,
            api_key: b.api_key,
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<Provider>>, ApiError> {
    Ok(Json(
        providers::list(state.store.pool(), &who.workspace_id).await?,
    ))
}

async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Provider>, ApiError> {
    Ok(Json(
        providers::get(&state.store, &who.workspace_id, &id).await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<Body>,
) -> Result<(StatusCode, Json<Provider>), ApiError> {
    let caller = Caller::new(&who, &client);
    let provider =
        actions::providers::create(&state.store, &state.master_key, caller, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(provider)))
}

async fn update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Body>,
) -> Result<Json<Provider>, ApiError> {
    let caller = Caller::new(&who, &client);
    let provider =
        actions::providers::update(&state.store, &state.master_key, caller, &id, &body.into())
            .await?;
    Ok(Json(provider))
}

async fn remove(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actions::providers::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestBody {
    model: Option<String>,
}

/// "Test connection": one tiny call, reported as `{ok, model, latency_ms, message, error_class}`.
async fn test(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<engine::runner::ProviderCheck>, ApiError> {
    // The body is optional: no body tests the kind's default small model.
    if super::middleware::body_has_nul(&body) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "the request body contains a NUL character, which no field accepts",
        ));
    }
    let body: TestBody = if body.iter().all(u8::is_ascii_whitespace) {
        TestBody::default()
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
