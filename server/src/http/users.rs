//! `/api/v1/users` and `/api/v1/credits`: members of the workspace and their credits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::actions::Caller;
use engine::store::users::{self, Member};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Admin, Client};
use super::error::ApiError;
use super::extract::ApiJson;

/// The routes under `/api/v1/users`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).post(create))
}

/// The routes under `/api/v1/credits`.
pub fn credits_router() -> Router<AppState> {
    Router::new()
        .route("/topup", post(top_up))
        .route("/ledger", get(ledger))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    password: Option<String>,
    role: String,
}

async fn list(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(
        users::list(state.store.pool(), &who.workspace_id).await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let member = engine::actions::access::add_member(
        &state.store,
        Caller::new(&who, &client),
        &body.email,
        body.password.as_deref(),
        &body.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUp {
    user_id: Option<String>,
    email: Option<String>,
    amount: i64,
}

async fn top_up(
    State(state): State<AppState>,
    Admin(who): Admin,
    Client(client): Client,
    ApiJson(body): ApiJson<TopUp>,
) -> Result<Json<Value>, ApiError> {
    let user_id = match (body.user_id, body.email) {
        (Some(id), _) => id,
        (None, Some(email)) => {
            users::member_by_email(state.store.pool(), &who.workspace_id, &email)
                .await?
                .map(|m| m.id)
                .ok_or_else(|| engine::Error::not_found("user", email))?
        }
        (None, None) => {
            return Err(engine::Error::invalid("user_id", "give user_id or email").into());
        }
    };
    let balance = engine::actions::access::top_up(
        &state.store,
        Caller::new(&who, &client),
        &user_id,
        body.amount,
    )
    .await?;
    Ok(Json(json!({ "user_id": user_id, "credits": balance })))
}

async fn ledger(State(state): State<AppState>, Admin(who): Admin) -> Result<Json<Value>, ApiError> {
    let entries = engine::store::credits::ledger(&state.store, &who.workspace_id, 500).await?;
    Ok(Json(json!({ "entries": entries })))
}
