//! The axum application: operational endpoints, the REST API under `/api/v1`, the Leptos pages
//! and server functions, and static files — behind request ids, metrics and security headers.

pub mod error;
pub mod middleware;
pub mod ops;

use std::time::Instant;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
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
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Builds the whole router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context = app::ssr::ServerContext {
        store: state.store.clone(),
        workspace_id: state.workspace_id.clone(),
    };
    let page_context = context.clone();
    let fallback_context = context;
    let options = state.leptos_options.clone();

    let api = Router::new()
        .fallback(|uri: axum::http::Uri| async move { ApiError::route_not_found(uri.path()) });

    let mut router = Router::new()
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .nest("/api/v1", api)
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
    router.with_state(state)
}
