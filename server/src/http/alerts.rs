//! `/api/v1/alerts`: what the rules opened (every member reads, developers acknowledge and
//! resolve), the rules themselves (`/rules`, admins change them) and the notification channels
//! (`/channels`, admins), with their delivery logs and a "send test".

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::actions::Caller;
use engine::alerts::{self, channels, notify, rules};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::Page;
use wire::alerts::{
    Alert, AlertCounts, AlertRule, AlertRuleInput, Channel, ChannelCreated, ChannelInput, Delivery,
};

use super::AppState;
use super::auth::{Admin, Auth, Client, Developer};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::list::ListQuery;
use super::openapi::{
    ActionErrors, AdminReadErrors, CreateErrors, ReadErrors, ReadOneErrors, UpdateErrors,
};

/// The routes under `/api/v1/alerts`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(counts))
        .routes(routes!(show))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
        .routes(routes!(list_rules))
        .routes(routes!(update_rule))
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(update_channel, delete_channel))
        .routes(routes!(test_channel))
        .routes(routes!(channel_deliveries))
}

/// The filters of the alert list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    /// `active` (open or acknowledged), `open`, `acknowledged`, `resolved` or `all` (default).
    state: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The workspace's alerts, newest first.
#[utoipa::path(get, path = "/", tag = "alerts", params(AlertQuery),
    responses((status = 200, description = "The alerts", body = Page<Alert>), ReadErrors))]
async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Page<Alert>>, ApiError> {
    let request = ListQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .request()?;
    Ok(Json(
        alerts::list(&state.store, &who, q.state.as_deref(), &request).await?,
    ))
}

/// How many alerts are open and acknowledged (the bell).
#[utoipa::path(get, path = "/counts", tag = "alerts",
    responses((status = 200, description = "The counts", body = AlertCounts), ReadErrors))]
async fn counts(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<AlertCounts>, ApiError> {
    Ok(Json(alerts::counts(&state.store, &who).await?))
}

/// One alert.
#[utoipa::path(get, path = "/{id}", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert", body = Alert), ReadOneErrors))]
async fn show(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(alerts::get(&state.store, &who, &id).await?))
}

/// Acknowledges an open alert: someone is on it (developers and admins).
#[utoipa::path(post, path = "/{id}/acknowledge", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert", body = Alert), ActionErrors))]
async fn acknowledge(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        alerts::acknowledge(
            &state.store,
            state.runner.bus(),
            Caller::new(&who, &client),
            &id,
        )
        .await?,
    ))
}

/// Resolves an alert (developers and admins). A condition that still holds opens a new alert
/// at the next evaluation; a budget crossing stays resolved.
#[utoipa::path(post, path = "/{id}/resolve", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert", body = Alert), ActionErrors))]
async fn resolve(
    State(state): State<AppState>,
    Developer(who): Developer,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        alerts::resolve(
            &state.store,
            state.runner.bus(),
            Caller::new(&who, &client),
            &id,
        )
        .await?,
    ))
}

/// Every rule (one per kind) with its settings.
#[utoipa::path(get, path = "/rules", tag = "alerts",
    responses((status = 200, description = "The rules", body = Vec<AlertRule>), ReadErrors))]
async fn list_rules(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<AlertRule>>, ApiError> {
    Ok(Json(rules::list(&state.store, &who).await?))
}

/// Changes a rule (admins); fields left out keep their values.
#[utoipa::path(put, path = "/rules/{kind}", tag = "alerts", request_body = AlertRuleInput,
    params(("kind" = String, Path, description = "The rule's kind, e.g. `stuck_agent`")),
    responses((status = 200, description = "The rule", body = AlertRule), UpdateErrors))]
async fn update_rule(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(kind): Path<String>,
    ApiJson(body): ApiJson<AlertRuleInput>,
) -> Result<Json<AlertRule>, ApiError> {
    Ok(Json(
        rules::update(&state.store, Caller::new(&who, &client), &kind, &body).await?,
    ))
}

/// The notification channels, by name (admins).
#[utoipa::path(get, path = "/channels", tag = "alerts",
    responses((status = 200, description = "The channels", body = Vec<Channel>), AdminReadErrors))]
async fn list_channels(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Json<Vec<Channel>>, ApiError> {
    Ok(Json(channels::list(&state.store, &who).await?))
}

/// Makes a channel (admins). A webhook's signing secret is in this answer only.
#[utoipa::path(post, path = "/channels", tag = "alerts", request_body = ChannelInput,
    responses((status = 201, description = "Created", body = ChannelCreated), CreateErrors))]
async fn create_channel(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<ChannelInput>,
) -> Result<(StatusCode, Json<ChannelCreated>), ApiError> {
    let created = channels::create(
        &state.store,
        &state.master_key,
        Caller::new(&who, &client),
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a channel's name, format, minimum severity or on/off (admins).
#[utoipa::path(put, path = "/channels/{id}", tag = "alerts", request_body = ChannelInput,
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 200, description = "The channel", body = Channel), UpdateErrors))]
async fn update_channel(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChannelInput>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(
        channels::update(&state.store, Caller::new(&who, &client), &id, &body).await?,
    ))
}

/// Deletes a channel and its delivery log (admins).
#[utoipa::path(delete, path = "/channels/{id}", tag = "alerts",
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 204, description = "Deleted"), ActionErrors))]
async fn delete_channel(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    channels::delete(&state.store, Caller::new(&who, &client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test message to a channel now, once, and answers how it went (admins).
#[utoipa::path(post, path = "/channels/{id}/test", tag = "alerts",
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 200, description = "The delivery", body = Delivery), ActionErrors))]
async fn test_channel(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    Ok(Json(
        notify::send_test(
            &state.store,
            &state.notifier,
            Caller::new(&who, &client),
            &id,
        )
        .await?,
    ))
}

/// A channel's delivery log, newest first (admins).
#[utoipa::path(get, path = "/channels/{id}/deliveries", tag = "alerts",
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 200, description = "The deliveries", body = Vec<Delivery>),
        AdminReadErrors))]
async fn channel_deliveries(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    Ok(Json(channels::deliveries(&state.store, &who, &id).await?))
}
