//! The axum application: operational endpoints, the REST API under `/api/v1`, the Leptos pages
//! and server functions, and static files — behind request ids, metrics and security headers.

pub mod agents;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod budgets;
pub mod calls;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod knowledge;
pub mod list;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod personas;
pub mod prices;
pub mod providers;
pub mod runs;
pub mod session;
pub mod settings;
pub mod system;
pub mod tasks;
pub mod templates;
pub mod traces;
pub mod users;
pub mod ws;

use std::time::Instant;

use axum::Router;
use axum::extract::FromRef;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use leptos_config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use self::error::ApiError;
use self::middleware::REQUEST_ID_HEADER;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: engine::Store,
    /// The workspace pages and API calls act in until sign-in assigns one per user.
    pub workspace_id: String,
    /// Site layout and address for Leptos.
    pub leptos_options: LeptosOptions,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// When this process started serving.
    pub started_at: Instant,
    /// Seals provider API keys.
    pub master_key: engine::auth::secrets::MasterKey,
    /// The gateway's resolved routes and upstream HTTP client.
    pub gateway: std::sync::Arc<engine::gateway::Gateway>,
    /// Plans, queues and runs tasks; owns the event bus.
    pub runner: std::sync::Arc<engine::runner::Runner>,
    /// Whether session cookies are marked `Secure`.
    pub cookie_secure: bool,
    /// Requests per minute per client IP and per API key on `/api`.
    pub rate_limiter: std::sync::Arc<middleware::RateLimiter>,
    /// The larger limit of a signed-in browser's own pages (their server functions).
    pub page_rate_limiter: std::sync::Arc<middleware::RateLimiter>,
    /// Origins allowed by CORS on `/api` (none by default).
    pub cors_origins: Vec<String>,
    /// Delivers magic sign-in links.
    pub mailer: crate::mail::LinkMailer,
    /// Sends alerts to webhooks and e-mail (and "send test").
    pub notifier: std::sync::Arc<engine::alerts::notify::Notifier>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Builds the whole router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let mailer = state.mailer.clone();
    let context = app::ssr::ServerContext {
        store: state.store.clone(),
        master_key: state.master_key.clone(),
        cookie_secure: state.cookie_secure,
        runner: state.runner.clone(),
        gateway: state.gateway.clone(),
        notifier: state.notifier.clone(),
        mail_enabled: state.mailer.enabled(),
        send_magic_link: std::sync::Arc::new(move |email: &str, token: &str| {
            mailer.deliver(email, token)
        }),
    };
    let page_context = context.clone();
    let fallback_context = context;
    let options = state.leptos_options.clone();

    let (api, ops, auth, doc, v1) = documented_routers();
    let api =
        api.fallback(|uri: axum::http::Uri| async move { ApiError::route_not_found(uri.path()) });
    let api = with_cors(api, &state.cors_origins);
    openapi::publish(doc);

    // The built site's files: precompressed brotli and gzip (made once by `make site`) sent to
    // browsers that accept them, with conditional requests answered 304.
    let pkg = tower_http::services::ServeDir::new(
        std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir),
    )
    .precompressed_br()
    .precompressed_gzip();
    let mut router = Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .merge(ops)
        .merge(openapi::docs_page())
        .nest("/api/v1", api)
        .nest("/api/auth", auth)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(page_context.clone()),
            {
                let options = options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_context.clone()),
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_session_for_pages,
        ))
        .layer(axum::middleware::from_fn(middleware::reject_nul))
        .layer(axum::middleware::from_fn(middleware::cache_static))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::rate_limit,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &axum::http::Request<_>| {
                            let id = request
                                .headers()
                                .get(&REQUEST_ID_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default();
                            tracing::info_span!(
                                "request",
                                request_id = %id,
                                method = %request.method(),
                                path = %request.uri().path(),
                            )
                        })
                        // One line per request at info (status and latency), inside the span that
                        // carries the request id.
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
                .layer(CompressionLayer::new()),
        );
    for header in middleware::security_headers() {
        router = router.layer(header);
    }
    // The gateway after the layers: none of them wraps it (compression would hold a stream
    // back; `/api`'s per-session limits are not a gateway's).
    router.merge(v1).with_state(state)
}

/// A worker process's routes: health and metrics only (no pages, no API).
pub fn worker_router(state: AppState) -> Router {
    let (ops, _) = ops::worker_router().split_for_parts();
    ops.layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}

/// The documented routes, and the document made from them: `/api/v1/*`, `/api/auth/*` and
/// the operational routes (`/health`, `/ready`, `/metrics`, `/ws`). Every route there is
/// registered with its `#[utoipa::path]`, so the document cannot leave one out.
pub fn documented_routers() -> (
    Router<AppState>,
    Router<AppState>,
    Router<AppState>,
    utoipa::openapi::OpenApi,
    Router<AppState>,
) {
    use utoipa::OpenApi;
    use utoipa_axum::router::OpenApiRouter;
    let (api, api_doc) = OpenApiRouter::<AppState>::new()
        .nest("/providers", providers::router())
        .nest("/settings", settings::router())
        .nest("/prices", prices::router())
        .nest("/api-keys", api_keys::router())
        .nest("/users", users::router())
        .nest("/credits", users::credits_router())
        .nest("/audit", audit::router())
        .nest("/budgets", budgets::router())
        .nest("/alerts", alerts::router())
        .nest("/tasks", tasks::router())
        .nest(
            "/agents",
            agents::router()
                .merge(personas::agent_router())
                .merge(knowledge::agent_router()),
        )
        .nest("/personas", personas::router())
        .nest("/runs", runs::router())
        .nest("/templates", templates::router())
        .nest("/gateway", gateway::router())
        .nest("/traces", traces::router())
        .nest("/metrics", metrics::router())
        .nest("/calls", calls::router())
        .nest("/system", system::router())
        .routes(utoipa_axum::routes!(openapi::document))
        .split_for_parts();
    let (auth, auth_doc) = session::router().split_for_parts();
    let (ops, ops_doc) = ops::router().split_for_parts();
    let mut doc = openapi::ApiDoc::openapi()
        .nest("/api/v1", api_doc)
        .nest("/api/auth", auth_doc);
    doc.merge(ops_doc);
    let (v1, v1_doc) = gateway::v1_router()
        .merge(traces::otlp_router())
        .split_for_parts();
    // Exports and prompts can be large (base64 images, long conversations).
    let v1 = v1.layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024));
    doc.merge(v1_doc);
    (api, ops, auth, doc, v1)
}

/// Adds CORS for the configured origins; with none configured, browsers keep the same-origin
/// policy and no CORS headers are sent.
fn with_cors(router: Router<AppState>, origins: &[String]) -> Router<AppState> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<axum::http::HeaderValue> = origins
        .iter()
        .filter_map(|o| axum::http::HeaderValue::from_str(o.trim()).ok())
        .collect();
    if allowed.is_empty() {
        return router;
    }
    router.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::POST,
                axum::http::Method::PUT,
                axum::http::Method::PATCH,
                axum::http::Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
            ]),
    )
}
