//! `/api/auth/*`: sign in with a password or a magic link, read the session, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use engine::auth::Principal;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::session::{LinkSent, Login, MagicLinkRequest, SessionInfo};

use super::AppState;
use super::auth::{Auth, Client, clear_cookie_header, session_cookie, session_cookie_header};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::openapi::{MagicLinkErrors, ReadErrors, SignInErrors};

/// The routes under `/api/auth`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(magic_link))
        .routes(routes!(redeem))
        .routes(routes!(session))
}

/// What `GET /api/auth/session` and a successful login answer.
pub async fn session_body(state: &AppState, who: &Principal) -> Result<SessionInfo, ApiError> {
    Ok(engine::store::sessions::info(&state.store, who).await?)
}

/// Signs in with a password; sets the session cookie.
#[utoipa::path(post, path = "/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, description = "Signed in (the `Set-Cookie` header holds the session)",
        body = SessionInfo), SignInErrors))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<Login>,
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

/// Signs out: ends the session and clears its cookie.
#[utoipa::path(post, path = "/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), ReadErrors))]
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

/// Always 202, known e-mail or not, so that the endpoint cannot be used to find accounts; 503
/// when no SMTP server is configured (no link is made: it would have nowhere safe to go).
#[utoipa::path(post, path = "/magic-link", tag = "auth", request_body = MagicLinkRequest, security(()),
    responses((status = 202, description = "Sent if the address belongs to an account", body = LinkSent),
        MagicLinkErrors))]
async fn magic_link(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MagicLinkRequest>,
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
        Json(LinkSent {
            status: "sent".into(),
            message: "if the address belongs to an account, a sign-in link is on its way".into(),
        }),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RedeemQuery {
    /// The token from the sign-in link.
    token: String,
}

/// Redeems a sign-in link: sets the session cookie and redirects to the app.
#[utoipa::path(get, path = "/magic-link/redeem", tag = "auth", params(RedeemQuery), security(()),
    responses((status = 303, description = "Signed in; redirected to `/`"), SignInErrors))]
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

/// Who is signed in.
#[utoipa::path(get, path = "/session", tag = "auth",
    responses((status = 200, description = "The session", body = SessionInfo), ReadErrors))]
async fn session(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<SessionInfo>, ApiError> {
    Ok(Json(session_body(&state, &who).await?))
}
