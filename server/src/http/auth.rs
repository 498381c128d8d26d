//! Who is calling: the [`Auth`] extractor (API key or session cookie), CSRF protection for
//! cookie-authenticated writes, session cookies, and client information for the audit log.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use engine::auth::{Principal, web};
use engine::store::sessions::ClientInfo;

use super::AppState;
use super::error::ApiError;

/// An authenticated caller. Rejects with 401 when there are no valid credentials and with 403
/// when a cookie-authenticated write comes from another origin (CSRF).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(key) = bearer(&parts.headers) {
            return match engine::store::api_keys::resolve(&state.store, key).await? {
                Some(who) => Ok(Auth(who)),
                None => Err(unauthorized("the API key is invalid or revoked")),
            };
        }
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(unauthorized(
                "sign in or send an API key (Authorization: Bearer …)",
            ));
        };
        let who = engine::store::sessions::resolve(&state.store, &token)
            .await?
            .ok_or_else(|| unauthorized("your session has expired; sign in again"))?;
        check_same_origin(&parts.method, &parts.headers)?;
        Ok(Auth(who))
    }
}

/// A caller with at least the developer role. Checked from the request's head, before any
/// extractor after it reads the body: a viewer's write is 403 whatever its body says.
pub struct Developer(pub Principal);

/// A caller with the admin role (checked before the body, like [`Developer`]).
pub struct Admin(pub Principal);

/// The authenticated caller, if their role includes `role`.
async fn with_role(
    parts: &mut Parts,
    state: &AppState,
    role: engine::domain::MemberRole,
) -> Result<Principal, ApiError> {
    let Auth(who) = Auth::from_request_parts(parts, state).await?;
    who.require(role)?;
    Ok(who)
}

impl FromRequestParts<AppState> for Developer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        with_role(parts, state, engine::domain::MemberRole::Developer)
            .await
            .map(Developer)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        with_role(parts, state, engine::domain::MemberRole::Admin)
            .await
            .map(Admin)
    }
}

/// The caller if there is one, without rejecting anonymous requests.
pub async fn optional(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(key) = bearer(&parts.headers) {
        return Ok(engine::store::api_keys::resolve(&state.store, key).await?);
    }
    match session_cookie(&parts.headers) {
        Some(token) => Ok(engine::store::sessions::resolve(&state.store, &token).await?),
        None => Ok(None),
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
}

/// The bearer token of an `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The session token from the `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(web::session_from_cookie_header)
}

/// Writes authenticated by cookie must come from this site (see [`web::same_origin`]);
/// together with `SameSite=Lax` cookies this stops cross-site request forgery.
pub fn check_same_origin(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    if web::same_origin(host, origin) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "CSRF_REJECTED",
            "cross-site request refused: cookie-authenticated writes must come from this site",
        ))
    }
}

/// `Set-Cookie` for a new session.
pub fn session_cookie_header(token: &str, secure: bool) -> HeaderValue {
    HeaderValue::from_str(&web::set_cookie(token, secure))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie_header(secure: bool) -> HeaderValue {
    HeaderValue::from_str(&web::clear_cookie(secure))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The client's address and user agent.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// Records a mutating action in the audit log (see `engine::store::audit::record_action`).
pub async fn audit(
    state: &AppState,
    who: &Principal,
    client: &ClientInfo,
    action: &str,
    target: String,
    details: serde_json::Value,
) {
    engine::store::audit::record_action(&state.store, who, client, action, target, details).await;
}

/// Pages need a session: without one, a page request is redirected to `/login` — or to
/// `/setup` while no admin exists yet (first run). `/setup` closes once an admin exists.
/// The API, static files and operational endpoints are not pages and pass through (the API
/// answers 401 itself).
pub async fn require_session_for_pages(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::{IntoResponse, Redirect};
    let path = request.uri().path().to_owned();
    let is_page = request.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && !path.starts_with("/public/")
        && !matches!(path.as_str(), "/health" | "/ready" | "/metrics" | "/ws")
        && !path.rsplit('/').next().unwrap_or_default().contains('.');
    if !is_page {
        return next.run(request).await;
    }
    let mut request = request;
    let signed_in = match session_cookie(request.headers()) {
        Some(token) => match engine::store::sessions::resolve(&state.store, &token).await {
            Ok(Some(who)) => {
                // The top bar's session menu is rendered from this, in the page's first paint
                // (`app::components::layout`): fetched while the page streamed, its arrival
                // moved the whole bar. Without it the menu fetches it itself.
                if let Ok(info) = engine::store::sessions::info(&state.store, &who).await {
                    request.extensions_mut().insert(info);
                }
                true
            }
            _ => false,
        },
        None => false,
    };
    let admin_exists = signed_in
        || engine::store::users::admin_exists(state.store.pool())
            .await
            .unwrap_or(true);
    match path.as_str() {
        "/setup" if admin_exists => {
            Redirect::to(if signed_in { "/" } else { "/login" }).into_response()
        }
        "/setup" => next.run(request).await,
        "/login" if signed_in => Redirect::to("/").into_response(),
        "/login" if !admin_exists => Redirect::to("/setup").into_response(),
        "/login" => next.run(request).await,
        _ if signed_in => next.run(request).await,
        _ if !admin_exists => Redirect::to("/setup").into_response(),
        _ => Redirect::to("/login").into_response(),
    }
}
