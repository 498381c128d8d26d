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
            | engine::Error::InsufficientCredits(_) => AppError::Invalid(err.to_string()),
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

/// Formats micro-dollars for display.
pub fn money(micros: i64) -> String {
    engine::domain::Money(micros).to_string()
}

/// Formats a cost that may include calls at an unknown price: "price unknown" rather than
/// "$0.00" when nothing was priced, "$0.12 + unknown" when part was.
pub fn cost_label(micros: i64, price_known: bool) -> String {
    engine::domain::Money(micros).label(price_known)
}

/// Formats a unit price (micro-dollars per million tokens) without rounding it.
pub fn price(micros: i64) -> String {
    engine::domain::Money(micros).price()
}

/// `128k`, `1.05M` for a context window in tokens.
pub fn tokens_short(tokens: i64) -> String {
    if tokens >= 1_000_000 {
        let text = format!("{:.2}", tokens as f64 / 1_000_000.0);
        format!("{}M", text.trim_end_matches('0').trim_end_matches('.'))
    } else if tokens >= 1_000 {
        format!("{}k", tokens / 1_000)
    } else {
        tokens.to_string()
    }
}

/// The display name of a provider kind.
pub fn provider_kind_name(kind: &str) -> String {
    match kind {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "gemini" => "Google Gemini",
        "openai_compatible" => "OpenAI-compatible",
        "simulator" => "Simulator",
        other => other,
    }
    .to_owned()
}

/// `Nov 22` for a UTC midnight in Unix milliseconds.
pub fn day_label(day_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = u64::try_from(day_ms / 1000).unwrap_or(0);
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    // RFC 3339: YYYY-MM-DDTHH:MM:SSZ.
    let text = humantime::format_rfc3339_seconds(when).to_string();
    let month: usize = text.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let day: u32 = text.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(1);
    format!("{} {day}", MONTHS[month.clamp(1, 12) - 1])
}

/// `2026-11-22 14:03:07 UTC` for Unix milliseconds.
pub fn timestamp(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).unwrap_or(0);
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(when)
        .to_string()
        .replace('T', " ")
        .replace('Z', " UTC")
}

#[cfg(test)]
mod tests {
    #[test]
    fn context_windows_are_short() {
        assert_eq!(super::tokens_short(128_000), "128k");
        assert_eq!(super::tokens_short(1_047_576), "1.05M");
        assert_eq!(super::tokens_short(2_000_000), "2M");
        assert_eq!(super::tokens_short(0), "0");
    }

    #[test]
    fn day_labels_are_short_dates() {
        assert_eq!(super::day_label(0), "Jan 1");
        // 2026-11-22T00:00:00Z
        assert_eq!(super::day_label(1_795_305_600_000), "Nov 22");
    }
}
