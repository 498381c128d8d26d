//! `/api/v1/settings/{key}`: the workspace's settings (defaults, time zone, gateway credits,
//! task archiving and working directories).

use axum::Json;
use axum::extract::{Path, State};
use engine::store::settings;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::settings::{Setting, SettingValue};

use super::AppState;
use super::auth::{Admin, Auth, Client};
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi::{ReadOneErrors, UpdateErrors};

/// The routes under `/api/v1/settings`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read, write))
}

const KEY: &str = "`default_provider`, `default_model`, `default_temperature`, `time_zone`, \
                   `gateway_credits_per_call` (credits per gateway request, 0–1,000; 0 when unset), \
                   `task_archive_after_days` (finished tasks are archived after this many days, \
                   0–3,650; 0 or unset: never) or `workdir_root` (the existing server directory \
                   that tasks' chosen working directories must lie under; stored canonical; \
                   \"\" or unset: tasks cannot choose one)";

/// One workspace default.
#[utoipa::path(get, path = "/{key}", tag = "settings", params(("key" = String, Path, description = KEY)),
    responses((status = 200, description = "The setting", body = Setting), ReadOneErrors))]
async fn read(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(key): Path<String>,
) -> Result<Json<Setting>, ApiError> {
    settings::check_key(&key)?;
    let value = settings::get(state.store.pool(), &who.workspace_id, &key)
        .await?
        .ok_or_else(|| engine::Error::not_found("setting", &key))?;
    Ok(Json(Setting { key, value }))
}

/// Sets a workspace default (admins).
#[utoipa::path(put, path = "/{key}", tag = "settings", request_body = SettingValue,
    params(("key" = String, Path, description = KEY)),
    responses((status = 200, description = "The setting as stored", body = Setting), UpdateErrors))]
async fn write(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<SettingValue>,
) -> Result<Json<Setting>, ApiError> {
    let value = engine::actions::settings::set(
        &state.store,
        engine::actions::Caller::new(&who, &client),
        &key,
        &body.value,
    )
    .await?;
    // The gateway caches what it reads of the settings.
    state.gateway.invalidate();
    Ok(Json(Setting { key, value }))
}
