//! The server side of the app: what `#[server]` functions need from the running server.

use leptos::prelude::use_context;

use crate::model::AppError;

/// Sends (or logs) a magic sign-in link: `(email, token)`.
pub type SendMagicLink = std::sync::Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Provided by the server to every page render and server function call.
#[derive(Clone)]
pub struct ServerContext {
    /// The database.
    pub store: engine::Store,
    /// Seals provider API keys.
    pub master_key: engine::auth::secrets::MasterKey,
    /// Whether session cookies are marked `Secure`.
    pub cookie_secure: bool,
    /// E-mails magic sign-in links (SMTP).
    pub send_magic_link: SendMagicLink,
    /// Whether an SMTP server is configured; without one no sign-in link is made.
    pub mail_enabled: bool,
    /// Plans, queues and runs tasks.
    pub runner: std::sync::Arc<engine::runner::Runner>,
    /// The gateway's resolved routes (cleared when a route changes).
    pub gateway: std::sync::Arc<engine::gateway::Gateway>,
    /// Sends alerts to webhooks and e-mail ("send test").
    pub notifier: std::sync::Arc<engine::alerts::notify::Notifier>,
}

/// A `Denied` error with its HTTP status set on the response.
fn denied(status: u16, message: &str) -> AppError {
    if let (Some(response), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(code);
    }
    AppError::Denied(message.to_owned())
}

/// The signed-in caller of this request (from the session cookie), or `Denied`.
pub async fn principal() -> Result<engine::auth::Principal, AppError> {
    optional_principal()
        .await?
        .ok_or_else(|| denied(401, "sign in to continue (or your session has expired)"))
}

/// The signed-in caller, or `None` for an anonymous request (no status is set).
pub async fn optional_principal() -> Result<Option<engine::auth::Principal>, AppError> {
    let cx = context()?;
    let headers: http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|e| AppError::Internal(format!("cannot read the request: {e}")))?;
    let token = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(engine::auth::web::session_from_cookie_header);
    match token {
        Some(token) => Ok(engine::store::sessions::resolve(&cx.store, &token).await?),
        None => Ok(None),
    }
}

/// Like [`principal`], for server functions that change something: also refuses requests
/// from other sites (CSRF), exactly as the REST API does.
pub async fn principal_for_write() -> Result<engine::auth::Principal, AppError> {
    let headers: http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|e| AppError::Internal(format!("cannot read the request: {e}")))?;
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin = headers
        .get(http::header::ORIGIN)
        .or_else(|| headers.get(http::header::REFERER))
        .and_then(|v| v.to_str().ok());
    if !engine::auth::web::same_origin(host, origin) {
        return Err(denied(403, "cross-site request refused"));
    }
    principal().await
}

/// The signed-in caller of a changing server function (CSRF-checked) and their client info:
/// what an engine action takes as its `Caller`.
pub async fn caller_for_write()
-> Result<(engine::auth::Principal, engine::store::sessions::ClientInfo), AppError> {
    let who = principal_for_write().await?;
    Ok((who, client_info().await))
}

/// The origin the page being rendered was requested at: its `Host`, over the scheme a proxy
/// in front says (`X-Forwarded-Proto`), else http. `None` outside a page's render or for a
/// host that is not a plain name, address and port.
pub fn request_origin() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return None;
    }
    let scheme = match parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// The client's address (when known) and user agent, for sessions and the audit log.
pub async fn client_info() -> engine::store::sessions::ClientInfo {
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    engine::store::sessions::ClientInfo {
        ip: None,
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// Adds a `Set-Cookie` header to the response of this server function.
pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Records an action of `who` in the audit log; a failure is logged.
pub async fn audit(
    who: &engine::auth::Principal,
    action: &str,
    target: String,
    details: serde_json::Value,
) {
    let Ok(cx) = context() else { return };
    let client = client_info().await;
    engine::store::audit::record_action(&cx.store, who, &client, action, target, details).await;
}

/// The server context of the current request.
pub fn context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>()
        .ok_or_else(|| AppError::Internal("the server context is missing".to_owned()))
}

impl From<engine::Error> for AppError {
    /// Maps engine errors to wire errors and sets the matching HTTP status on the server
    /// function's response (401/403/404/422 instead of Leptos's default 500).
    fn from(err: engine::Error) -> Self {
        // The status comes from the engine, the same table the REST edge uses.
        let status = err.http_status();
        let error = match err {
            engine::Error::NotFound { .. } => AppError::NotFound(err.to_string()),
            engine::Error::Invalid { .. }
            | engine::Error::Conflict(_)
            | engine::Error::LeaseLost(_)
            | engine::Error::InsufficientCredits(_)
            | engine::Error::BudgetExceeded(_) => AppError::Invalid(err.to_string()),
            engine::Error::Unauthorized(_) | engine::Error::Forbidden(_) => {
                AppError::Denied(err.to_string())
            }
            engine::Error::Config(_) | engine::Error::Db(_) | engine::Error::Migrate(_) => {
                tracing::error!(error = %err, source = ?std::error::Error::source(&err), "server function failed");
                AppError::Internal("the server could not complete the request".to_owned())
            }
        };
        if let (Some(response), Ok(code)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(status),
        ) {
            response.set_status(code);
        }
        error
    }
}
