//! Who is calling: the [`Auth`] extractor (API key or session cookie), CSRF protection for
//! cookie-authenticated writes, session cookies, and client information for the audit log.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use engine::auth::{AuthMethod, Principal};
use engine::store::sessions::ClientInfo;

use super::AppState;
use super::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fleetdeck_session";

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
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Writes authenticated by cookie must come from this site: browsers send `Origin` on
/// cross-site POST/PUT/PATCH/DELETE, so a mismatch (or neither `Origin` nor `Referer`) is
/// refused. Together with `SameSite=Lax` cookies this stops cross-site request forgery.
pub fn check_same_origin(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let same = match (host, origin) {
        (Some(host), Some(origin)) => origin
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host)),
        _ => false,
    };
    if same {
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
    let max_age = engine::store::sessions::SESSION_TTL_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie_header(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
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

/// Records a mutating action in the audit log; failures are logged, never shown.
pub async fn audit(
    state: &AppState,
    who: &Principal,
    client: &ClientInfo,
    action: &str,
    target: String,
    details: serde_json::Value,
) {
    let entry = engine::store::audit::NewEntry {
        workspace_id: who.workspace_id.clone(),
        actor_user_id: Some(who.user_id.clone()),
        actor: match who.method {
            AuthMethod::Session => who.email.clone(),
            AuthMethod::ApiKey => format!("{} (API key)", who.email),
        },
        action: action.to_owned(),
        target,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        details,
    };
    if let Err(e) = engine::store::audit::record(&state.store, &entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}
