//! `/api/auth/*`: sign in with a password or a magic link, read the session, sign out.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::auth::Principal;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::{Auth, Client, clear_cookie_header, session_cookie, session_cookie_header};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};

/// The routes under `/api/auth`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/magic-link", post(magic_link))
        .route("/magic-link/redeem", get(redeem))
        .route("/session", get(session))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

/// What `GET /api/auth/session` and a successful login answer.
pub async fn session_body(
    state: &AppState,
    who: &Principal,
) -> Result<serde_json::Value, ApiError> {
    let credits = engine::store::credits::balance(&state.store, &who.user_id).await?;
    let ws = engine::store::workspaces::by_id(state.store.pool(), &who.workspace_id)
        .await?
        .ok_or_else(|| engine::Error::not_found("workspace", &who.workspace_id))?;
    Ok(json!({
        "user": { "id": who.user_id, "email": who.email },
        "workspace": { "id": ws.id, "name": ws.name },
        "role": who.role,
        "credits": credits,
    }))
}

async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let (token, who) =
        engine::store::sessions::login(&state.store, &body.email, &body.password, &client).await?;
    super::auth::audit(
        &state,
        &who,
        &client,
        "session.login",
        format!("user:{}", who.user_id),
        json!({}),
    )
    .await;
    let body = session_body(&state, &who).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie_header(&token, state.cookie_secure),
        )],
        Json(body),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    Auth(who): Auth,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_cookie(&headers) {
        engine::store::sessions::logout(&state.store, &token).await?;
    }
    super::auth::audit(
        &state,
        &who,
        &client,
        "session.logout",
        format!("user:{}", who.user_id),
        json!({}),
    )
    .await;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie_header(state.cookie_secure))],
    )
        .into_response())
}

#[derive(Deserialize)]
struct MagicLinkBody {
    email: String,
}

/// Always 202, known e-mail or not, so that the endpoint cannot be used to find accounts; 503
/// when no SMTP server is configured (no link is made: it would have nowhere safe to go).
async fn magic_link(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MagicLinkBody>,
) -> Result<Response, ApiError> {
    if !state.mailer.enabled() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "EMAIL_NOT_CONFIGURED",
            app::model::EMAIL_NOT_CONFIGURED,
        ));
    }
    if let Some(token) =
        engine::store::sessions::create_magic_link(&state.store, &body.email).await?
    {
        state.mailer.deliver(&body.email, &token);
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "sent", "message": "if the address belongs to an account, a sign-in link is on its way" })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct RedeemQuery {
    token: String,
}

async fn redeem(
    State(state): State<AppState>,
    Client(client): Client,
    ApiQuery(query): ApiQuery<RedeemQuery>,
) -> Result<Response, ApiError> {
    let (token, who) =
        engine::store::sessions::redeem_magic_link(&state.store, &query.token, &client).await?;
    super::auth::audit(
        &state,
        &who,
        &client,
        "session.magic_link",
        format!("user:{}", who.user_id),
        json!({}),
    )
    .await;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie_header(&token, state.cookie_secure),
        )],
        Redirect::to("/"),
    )
        .into_response())
}

async fn session(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(session_body(&state, &who).await?))
}
