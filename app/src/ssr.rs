//! The server side of the app: what `#[server]` functions need from the running server.

use leptos::prelude::use_context;

use crate::model::AppError;

/// Provided by the server to every page render and server function call.
#[derive(Clone, Debug)]
pub struct ServerContext {
    /// The database.
    pub store: engine::Store,
    /// The workspace the request acts in.
    pub workspace_id: String,
}

/// The server context of the current request.
pub fn context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>()
        .ok_or_else(|| AppError::Internal("the server context is missing".to_owned()))
}

impl From<engine::Error> for AppError {
    fn from(err: engine::Error) -> Self {
        match err {
            engine::Error::NotFound { .. } => AppError::NotFound(err.to_string()),
            engine::Error::Invalid { .. }
            | engine::Error::Conflict(_)
            | engine::Error::InsufficientCredits(_) => AppError::Invalid(err.to_string()),
            engine::Error::Unauthorized(_) | engine::Error::Forbidden(_) => {
                AppError::Denied(err.to_string())
            }
            engine::Error::Config(_) | engine::Error::Db(_) | engine::Error::Migrate(_) => {
                tracing::error!(error = %err, source = ?std::error::Error::source(&err), "server function failed");
                AppError::Internal("the server could not complete the request".to_owned())
            }
        }
    }
}

/// Formats micro-dollars for display.
pub fn money(micros: i64) -> String {
    engine::domain::Money(micros).to_string()
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
