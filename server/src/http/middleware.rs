//! Cross-cutting HTTP behaviour: request ids, request metrics and security headers.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

/// The header that carries the request id in both directions.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Makes the request id (set by `SetRequestIdLayer`) available to error bodies and logs, and
/// records the request's count and duration by route template (never by raw path, which would
/// let clients create unbounded label values).
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| route_family(request.uri().path()).to_owned());
    let response = REQUEST_ID.scope(id, next.run(request)).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Counts requests per client key (an API key's digest, else the client IP).
pub type RateLimiter = governor::DefaultKeyedRateLimiter<String>;

/// How many times the API's limit a signed-in browser's pages may call their server
/// functions. The SPEC's limit is against abuse of the API; a person on live pages (a
/// Dashboard refreshing through a burst, several tabs) reaches 100 calls a minute by just
/// watching, and their pages would then fail. Their REST calls keep the API's limit.
pub const PAGE_LIMIT_FACTOR: u32 = 10;

/// Builds the limiter: `per_minute` requests per key, refilled evenly over the minute.
pub fn rate_limiter(per_minute: u32) -> RateLimiter {
    let per_minute =
        std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}

/// Applies the rate limit to `/api/*` (REST, sign-in and server functions); pages and static
/// files are not limited. A signed-in session's server functions count against a separate,
/// larger bucket ([`PAGE_LIMIT_FACTOR`]). Over the limit: 429 with `Retry-After` in seconds.
pub async fn rate_limit(
    axum::extract::State(state): axum::extract::State<super::AppState>,
    request: Request,
    next: Next,
) -> Response {
    use axum::response::IntoResponse;
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    // A signed-in browser is limited per session, not per address: many people behind one
    // address, or one person with several tabs of live pages, must not throttle each other.
    // Only a session that resolves counts (a made-up cookie would otherwise open a new bucket).
    let session = match super::auth::session_cookie(request.headers()) {
        Some(token) if super::auth::bearer(request.headers()).is_none() => {
            match engine::store::sessions::resolve(&state.store, &token).await {
                Ok(Some(_)) => Some(engine::auth::tokens::digest(&token)),
                _ => None,
            }
        }
        _ => None,
    };
    let key = match (super::auth::bearer(request.headers()), session) {
        (Some(token), _) => format!("key:{}", engine::auth::tokens::digest(token)),
        (None, Some(session)) => format!("session:{session}"),
        (None, None) => format!(
            "ip:{}",
            request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default()
        ),
    };
    // Server functions are every `/api/…` path outside the REST API and sign-in.
    let path = request.uri().path();
    let page_call = !path.starts_with("/api/v1/") && !path.starts_with("/api/auth/");
    let limiter = if page_call && key.starts_with("session:") {
        &state.page_rate_limiter
    } else {
        &state.rate_limiter
    };
    match limiter.check_key(&key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = super::error::ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many requests; retry in {secs} s"),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// Most bytes of a request body [`reject_nul`] reads to look for NUL characters.
const NUL_SCAN_LIMIT: usize = 8 * 1024 * 1024;

/// Refuses any `/api/*` request carrying a NUL character — in the path, the query or the body
/// (JSON `\u0000` or form `%00`) — with a 422, before it reaches a handler or a server
/// function. Postgres cannot store NUL in text, and no field of Fleetdeck's has a use for it.
pub async fn reject_nul(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let refuse = |place: &str| {
        super::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            format!("the request's {place} contains a NUL character, which no field accepts"),
        )
        .with_details(
            serde_json::json!({ "field": place, "reason": "must not contain a NUL character" }),
        )
        .into_response()
    };
    let has_nul = |raw: &str| raw.to_ascii_lowercase().contains("%00") || raw.contains('\0');
    if has_nul(request.uri().path()) {
        return refuse("path");
    }
    if request.uri().query().is_some_and(has_nul) {
        return refuse("query");
    }
    // REST bodies are checked by `ApiJson`, after the caller's role (a viewer's write is 403
    // whatever its body holds); server functions' bodies are checked here.
    let path = request.uri().path();
    if path.starts_with("/api/v1/") || path.starts_with("/api/auth/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, NUL_SCAN_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return super::error::ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                "the request body is too large",
            )
            .into_response();
        }
    };
    if body_has_nul(&bytes) {
        return refuse("body");
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Whether a body holds a NUL: raw, JSON-escaped (`\u0000`, not an escaped backslash before
/// `u0000`) or form-encoded (`%00`).
pub fn body_has_nul(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return true;
    }
    let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    if lower.windows(3).any(|w| w == b"%00") {
        return true;
    }
    // `\u0000` preceded by an odd number of backslashes is an escaped NUL.
    let mut i = 0;
    while let Some(pos) = lower[i..].windows(6).position(|w| w == b"\\u0000") {
        let at = i + pos;
        let slashes = lower[..=at]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if slashes % 2 == 1 {
            return true;
        }
        i = at + 1;
    }
    false
}

/// A bounded label for requests no route template matched (static files, pages, 404s).
fn route_family(path: &str) -> &'static str {
    if path.starts_with("/pkg/") {
        "/pkg/*"
    } else if path.starts_with("/api/") {
        "/api/*"
    } else {
        "page"
    }
}

/// Security headers added to every response that does not set its own.
///
/// The content security policy allows inline scripts because Leptos's hydration bootstrap and
/// the theme script are inline, and `wasm-unsafe-eval` to instantiate the WebAssembly bundle;
/// everything else comes only from this origin.
pub fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 5] {
    [
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
                 style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; \
                 frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            ),
        ),
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ]
}

/// How long browsers may keep the site's files: a year and never revalidated for the
/// content-hashed ones (`/pkg/<name>.<16 hex>…`, see `scripts/site.mjs`: a new build names new
/// files), revalidated on each use for the rest (plain-named files, the favicon). Pages and the
/// API are left alone (they set their own or none).
pub async fn cache_static(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED)
        || response.headers().contains_key(header::CACHE_CONTROL)
    {
        return response;
    }
    let policy = if path.starts_with("/pkg/") && is_hashed(&path) {
        "public, max-age=31536000, immutable"
    } else if path.starts_with("/pkg/") || is_static_file(&path) {
        "no-cache"
    } else {
        return response;
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// Whether a file name carries a content hash: a dot-separated part of 16 hex digits
/// (`fleetdeck.0123456789abcdef_bg.wasm` counts, the `_bg` suffix aside).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.split('.').any(|part| {
        let part = part.strip_suffix("_bg").unwrap_or(part);
        part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The site's other files served from its root.
fn is_static_file(path: &str) -> bool {
    matches!(path, "/favicon.svg" | "/echarts.min.js" | "/robots.txt")
}

#[cfg(test)]
mod cache_tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/fleetdeck.0123456789abcdef.js"));
        assert!(is_hashed("/pkg/fleetdeck.0123456789abcdef_bg.wasm"));
        assert!(is_hashed("/pkg/echarts.0123456789abcdef.min.js"));
        assert!(!is_hashed("/pkg/fleetdeck.js"));
        assert!(!is_hashed("/pkg/fleetdeck_bg.wasm"));
        assert!(!is_hashed("/pkg/fleetdeck.0123456789abcdeg.js"));
    }
}
