//! The gateway's edges. `/v1/chat/completions` and `/v1/models` speak OpenAI's API, and
//! `/v1/messages` Anthropic's, to agents
//! running anywhere, authenticated with Fleetdeck API keys (`Authorization: Bearer` or
//! `x-api-key`), outside `/api`'s layers (no compression that would hold a stream back, no
//! per-session rate limit). `/api/v1/gateway/routes` configures where a model name goes.
//!
//! Pass-through, not re-encoding: the request body is forwarded with only `model` replaced
//! (unknown fields survive), and, for a stream whose client did not ask for usage,
//! `stream_options.include_usage` added — the usage chunk it brings is then taken out of what
//! the client receives. Answers are forwarded with the upstream's status and body; a stream
//! event by event as it arrives. A 429, a 5xx or an unreachable upstream moves to the route's
//! next target. Each attempt is recorded when it ends (from a task of its own, so the client
//! never waits for it); a stream cut before `[DONE]` is a failure, never a success.

use std::time::Instant;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::gateway::{Proxied, Upstream, anthropic_usage, openai_usage};
use futures_util::StreamExt;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wire::gateway::{AnthropicError, AnthropicErrorBody, OpenAiError, OpenAiErrorBody};

use super::AppState;

mod routes;
mod tap;
pub use routes::router;
use tap::Tap;

/// `/v1/*`: the OpenAI-compatible endpoints.
pub fn v1_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat_completions))
        .routes(routes!(messages))
        .routes(routes!(models))
}

/// The API a request speaks (and its answer and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// `/v1/chat/completions`.
    OpenAi,
    /// `/v1/messages`.
    Anthropic,
}

impl Api {
    /// Whether a provider of `kind` speaks it.
    fn speaks(self, kind: engine::domain::ProviderKind) -> bool {
        use engine::domain::ProviderKind as K;
        match self {
            Api::OpenAi => matches!(kind, K::Openai | K::OpenaiCompatible),
            Api::Anthropic => kind == K::Anthropic,
        }
    }

    /// An error in this API's own format, so SDKs show it as they show the provider's.
    fn error(self, status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
        match self {
            Api::OpenAi => openai_error(status, kind, code, message),
            Api::Anthropic => {
                let body = AnthropicErrorBody {
                    kind: "error".to_owned(),
                    error: AnthropicError {
                        kind: kind.to_owned(),
                        message: message.to_owned(),
                    },
                };
                (status, Json(body)).into_response()
            }
        }
    }
}

/// An error in OpenAI's format, so SDKs show it as they show OpenAI's own.
fn openai_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    let body = OpenAiErrorBody {
        error: OpenAiError {
            message: message.to_owned(),
            kind: kind.to_owned(),
            code: code.to_owned(),
            param: None,
        },
    };
    (status, Json(body)).into_response()
}

/// The API key a request carries, in `Authorization: Bearer` or `x-api-key`.
pub(super) fn api_key(headers: &HeaderMap) -> Option<&str> {
    super::auth::bearer(headers).or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    })
}

/// The caller's workspace and key, from `Authorization: Bearer` or `x-api-key`.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(engine::auth::Principal, String), Response> {
    let key = api_key(headers);
    let unauthorized = |m: &str| {
        openai_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            m,
        )
    };
    let Some(key) = key else {
        return Err(unauthorized(
            "send a Fleetdeck API key (Authorization: Bearer …)",
        ));
    };
    match engine::store::api_keys::resolve_with_id(&state.store, key).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(unauthorized("the API key is invalid or revoked")),
        Err(e) => {
            tracing::error!(error = %e, "gateway: API key lookup failed");
            Err(openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "the gateway could not check the key",
            ))
        }
    }
}

/// Whether an upstream answer is worth trying the next target for.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn class_of(status: StatusCode) -> &'static str {
    if status == StatusCode::TOO_MANY_REQUESTS {
        "rate_limited"
    } else if status.is_server_error() {
        "server_error"
    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        "auth"
    } else {
        "bad_request"
    }
}

/// What every attempt's record shares.
#[derive(Clone)]
struct Attempt {
    state: AppState,
    base: Proxied,
}

impl Attempt {
    /// Records the attempt from a task of its own: the client never waits for it.
    fn record(&self, up: &Upstream, started: Instant, mut call: Proxied) {
        call.latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (store, up) = (self.state.store.clone(), up.clone());
        tokio::spawn(async move {
            if let Err(e) = engine::gateway::record(&store, &up, call).await {
                tracing::error!(error = %e, "gateway: a call could not be recorded");
            }
        });
    }
}

/// OpenAI's chat completions, proxied to the route of the requested `model` and recorded.
/// Errors are in OpenAI's format (`{"error": {"message", "type", "code"}}`); an upstream's own
/// error is passed on as it answered.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "gateway",
    request_body(content = Object, description = "An OpenAI chat completions request"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The upstream's answer (JSON, or `text/event-stream` when `stream` is true)", body = Object),
        (status = 400, description = "Not a JSON object, or no `model`", body = OpenAiErrorBody),
        (status = 401, description = "No valid API key", body = OpenAiErrorBody),
        (status = 404, description = "No route for the model", body = OpenAiErrorBody),
        (status = 402, description = "Not enough credits for the request (the `gateway_credits_per_call` setting)", body = OpenAiErrorBody),
        (status = 429, description = "The upstream's rate limit (after the route's fallbacks), or a hard budget (`budget_exceeded`)", body = OpenAiErrorBody),
        (status = 500, description = "The gateway failed", body = OpenAiErrorBody),
        (status = 502, description = "No upstream could be reached", body = OpenAiErrorBody),
        (status = 503, description = "The route has no provider left", body = OpenAiErrorBody)))]
async fn chat_completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    proxy(state, headers, body, Api::OpenAi).await
}

/// Anthropic's messages, proxied to the route of the requested `model` and recorded (usage
/// from `message_start` and the final `message_delta`, cache reads and writes included).
/// Errors are in Anthropic's format (`{"type": "error", "error": {"type", "message"}}`).
#[utoipa::path(post, path = "/v1/messages", tag = "gateway",
    request_body(content = Object, description = "An Anthropic messages request"),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The upstream's answer (JSON, or `text/event-stream` when `stream` is true)", body = Object),
        (status = 400, description = "Not a JSON object, or no `model`", body = AnthropicErrorBody),
        (status = 401, description = "No valid API key", body = AnthropicErrorBody),
        (status = 404, description = "No route for the model", body = AnthropicErrorBody),
        (status = 402, description = "Not enough credits for the request (the `gateway_credits_per_call` setting)", body = AnthropicErrorBody),
        (status = 429, description = "The upstream's rate limit (after the route's fallbacks), or a hard budget (`budget_exceeded`)", body = AnthropicErrorBody),
        (status = 500, description = "The gateway failed", body = AnthropicErrorBody),
        (status = 502, description = "No upstream could be reached", body = AnthropicErrorBody),
        (status = 503, description = "The route has no provider left", body = AnthropicErrorBody)))]
async fn messages(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    proxy(state, headers, body, Api::Anthropic).await
}

/// Forwards one request of `api` along its route, recording every attempt.
#[allow(
    clippy::too_many_lines,
    reason = "the attempt loop reads best in one place"
)]
async fn proxy(state: AppState, headers: HeaderMap, body: Bytes, api: Api) -> Response {
    let (who, key_id) = match authenticate(&state, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(&body) else {
        return api.error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_json",
            "the body must be a JSON object",
        );
    };
    let Some(model) = request
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return api.error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "missing_model",
            "`model` is required",
        );
    };
    let upstreams = match state
        .gateway
        .upstreams(&state.store, &state.master_key, &who.workspace_id, &model)
        .await
    {
        Ok(Some(list)) if list.iter().any(|u| api.speaks(u.kind)) => list
            .into_iter()
            .filter(|u| api.speaks(u.kind))
            .collect::<Vec<_>>(),
        Ok(Some(_)) => {
            return api.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "no_upstream",
                &format!(
                    "no provider of the route `{model}` speaks this API (or they were deleted)"
                ),
            );
        }
        Ok(None) => {
            return api.error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                &format!(
                    "The model `{model}` has no route in this Fleetdeck workspace: add one in Settings → Gateway."
                ),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "gateway: route lookup failed");
            return api.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "the gateway could not read its routes",
            );
        }
    };
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    // Usage is needed for the record: asked for when the client did not, and hidden from it.
    let inject = api == Api::OpenAi
        && stream
        && request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            != Some(true);
    if inject {
        let options = request.entry("stream_options").or_insert_with(|| json!({}));
        if let Value::Object(o) = options {
            o.insert("include_usage".into(), Value::Bool(true));
        } else {
            *options = json!({ "include_usage": true });
        }
    }
    // Attribution: an agent or task of the workspace, the caller's session (read only when sent).
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let by = match engine::gateway::attribute(
        &state.store,
        &who.workspace_id,
        header("x-fleetdeck-agent"),
        header("x-fleetdeck-task"),
        header("x-fleetdeck-session"),
    )
    .await
    {
        Ok(by) => by,
        Err(e) => {
            tracing::error!(error = %e, "gateway: attribution lookup failed");
            return api.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "the gateway could not read its attribution headers",
            );
        }
    };
    // Credits (a workspace setting, 0 by default) are taken before anything is sent, and given
    // back when no provider answered.
    let credits = match state
        .gateway
        .credits_per_call(&state.store, &who.workspace_id)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "gateway: settings lookup failed");
            return api.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "the gateway could not read its settings",
            );
        }
    };
    if credits > 0 {
        match engine::store::credits::deduct(&state.store, &who, credits, "gateway request").await {
            Ok(_) => {}
            Err(engine::Error::InsufficientCredits(message)) => {
                return api.error(
                    StatusCode::PAYMENT_REQUIRED,
                    "insufficient_quota",
                    "insufficient_credits",
                    &message,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "gateway: credits could not be taken");
                return api.error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal_error",
                    "the gateway could not take the request's credits",
                );
            }
        }
    }
    let max_tokens = ["max_tokens", "max_completion_tokens"]
        .iter()
        .find_map(|k| request.get(*k).and_then(Value::as_i64));
    let spender = engine::budgets::enforce::Spender {
        agent_id: by.agent_id.clone(),
        user_id: Some(who.user_id.clone()),
        api_key_id: Some(key_id.clone()),
        task_id: by.task_id.clone(),
    };
    let attempt = Attempt {
        state: state.clone(),
        base: Proxied {
            workspace_id: who.workspace_id.clone(),
            api_key_id: Some(key_id),
            agent_id: by.agent_id,
            task_id: by.task_id,
            external_task: by.external_task,
            session_id: by.session_id,
            reservation: None,
            started_at: 0,
            latency_ms: 0,
            ttft_ms: None,
            usage: None,
            error_class: None,
            attempt: 1,
        },
    };
    let (response, answered) = attempts(
        &state, &headers, api, request, stream, inject, &upstreams, &spender, max_tokens, &attempt,
    )
    .await;
    if credits > 0
        && !answered
        && let Err(e) =
            engine::store::credits::refund(&state.store, &who, credits, "gateway request refunded")
                .await
    {
        tracing::error!(error = %e, "gateway: credits could not be given back");
    }
    response
}

/// Sends the request along the route's targets until one answers: the response, and whether
/// a provider answered it (an error it sent included).
#[allow(
    clippy::too_many_arguments,
    clippy::too_many_lines,
    reason = "the attempt loop reads best in one place"
)]
async fn attempts(
    state: &AppState,
    headers: &HeaderMap,
    api: Api,
    mut request: serde_json::Map<String, Value>,
    stream: bool,
    inject: bool,
    upstreams: &[Upstream],
    spender: &engine::budgets::enforce::Spender,
    max_tokens: Option<i64>,
    attempt: &Attempt,
) -> (Response, bool) {
    let last = upstreams.len() - 1;
    for (i, up) in upstreams.iter().enumerate() {
        request.insert("model".into(), Value::String(up.model.clone()));
        let Ok(payload) = serde_json::to_vec(&request) else {
            break;
        };
        let mut call = attempt.base.clone();
        call.started_at = engine::now_ms();
        call.attempt = i64::try_from(i + 1).unwrap_or(1);
        // Budgets: the attempt's worst case is held (settled to its cost with its record).
        let worst = engine::gateway::worst_cost(up.price.as_ref(), payload.len(), max_tokens);
        let started = Instant::now();
        match engine::gateway::hold(&state.store, &call.workspace_id, spender, worst).await {
            Ok(held) => call.reservation = Some(held),
            Err(engine::Error::BudgetExceeded(message)) => {
                call.error_class = Some("budget_exceeded".into());
                attempt.record(up, started, call);
                let kind = match api {
                    Api::OpenAi => "insufficient_quota",
                    Api::Anthropic => "rate_limit_error",
                };
                return (
                    api.error(
                        StatusCode::TOO_MANY_REQUESTS,
                        kind,
                        "budget_exceeded",
                        &format!("BUDGET_EXCEEDED: {message}"),
                    ),
                    false,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "gateway: budgets could not be checked");
                return (
                    api.error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "internal_error",
                        "the gateway could not check the budgets",
                    ),
                    false,
                );
            }
        }
        let path = match api {
            Api::OpenAi => "/chat/completions",
            Api::Anthropic => "/v1/messages",
        };
        let mut send = state
            .gateway
            .http()
            .post(format!("{}{path}", up.base_url))
            .header(header::CONTENT_TYPE, "application/json")
            .body(payload);
        match (api, &up.api_key) {
            (Api::OpenAi, Some(key)) => send = send.bearer_auth(key),
            (Api::Anthropic, key) => {
                if let Some(key) = key {
                    send = send.header("x-api-key", key);
                }
                // The client's API version and betas go through; the version is required.
                let version = headers
                    .get("anthropic-version")
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("2023-06-01"));
                send = send.header("anthropic-version", version);
                if let Some(beta) = headers.get("anthropic-beta") {
                    send = send.header("anthropic-beta", beta.clone());
                }
            }
            (Api::OpenAi, None) => {}
        }
        let answer = match send.send().await {
            Ok(a) => a,
            Err(e) => {
                call.error_class = Some(
                    if e.is_timeout() {
                        "timeout"
                    } else {
                        "connection"
                    }
                    .into(),
                );
                attempt.record(up, started, call);
                if i < last {
                    continue;
                }
                return (
                    api.error(
                        StatusCode::BAD_GATEWAY,
                        "server_error",
                        "upstream_unreachable",
                        "the provider could not be reached",
                    ),
                    false,
                );
            }
        };
        let status =
            StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        if !status.is_success() {
            call.error_class = Some(class_of(status).into());
            if retryable(status) && i < last {
                attempt.record(up, started, call);
                continue;
            }
            let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
            let bytes = answer.bytes().await.unwrap_or_default();
            attempt.record(up, started, call);
            return (forward(status, content_type, Body::from(bytes)), true);
        }
        let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
        if !stream {
            let response = match answer.bytes().await {
                Ok(bytes) => {
                    call.usage =
                        serde_json::from_slice::<Value>(&bytes)
                            .ok()
                            .and_then(|v| match api {
                                Api::OpenAi => openai_usage(&v["usage"]),
                                Api::Anthropic => anthropic_usage(&v["usage"]),
                            });
                    attempt.record(up, started, call);
                    forward(status, content_type, Body::from(bytes))
                }
                Err(_) => {
                    call.error_class = Some("stream_cut".into());
                    attempt.record(up, started, call);
                    api.error(
                        StatusCode::BAD_GATEWAY,
                        "server_error",
                        "upstream_cut",
                        "the provider's answer was cut off",
                    )
                }
            };
            return (response, true);
        }
        let tap = Tap::new(api, attempt.clone(), up.clone(), started, call, inject);
        let events = futures_util::stream::unfold(
            (answer.bytes_stream(), tap),
            |(mut upstream, mut tap)| async move {
                loop {
                    match upstream.next().await {
                        Some(Ok(chunk)) => {
                            let out = tap.feed(&chunk);
                            if !out.is_empty() {
                                return Some((Ok::<Bytes, std::io::Error>(out), (upstream, tap)));
                            }
                        }
                        Some(Err(_)) => {
                            tap.finish(Some("stream_cut"));
                            return None;
                        }
                        None => {
                            let class = if tap.failed() {
                                Some("server_error")
                            } else {
                                (!tap.done()).then_some("stream_cut")
                            };
                            tap.finish(class);
                            return None;
                        }
                    }
                }
            },
        );
        return (
            forward(status, content_type, Body::from_stream(events)),
            true,
        );
    }
    (
        api.error(
            StatusCode::BAD_GATEWAY,
            "server_error",
            "upstream_failed",
            "no provider of the route answered",
        ),
        false,
    )
}

fn forward(status: StatusCode, content_type: Option<HeaderValue>, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/json")),
    );
    response
}

/// The model names the workspace's routes answer to, in OpenAI's list format.
#[utoipa::path(get, path = "/v1/models", tag = "gateway",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "`{\"object\": \"list\", \"data\": [{\"id\", \"object\", \"created\", \"owned_by\"}]}`", body = Object),
        (status = 401, description = "No valid API key", body = OpenAiErrorBody),
        (status = 500, description = "The gateway failed", body = OpenAiErrorBody)))]
async fn models(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match authenticate(&state, &headers).await {
        Ok((who, _)) => who,
        Err(response) => return response,
    };
    match engine::gateway::routes::list(&state.store, &who.workspace_id).await {
        Ok(routes) => Json(json!({
            "object": "list",
            "data": routes.iter().map(|r| json!({
                "id": r.model, "object": "model", "created": r.updated_at / 1000, "owned_by": "fleetdeck",
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "gateway: routes could not be listed");
            openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "the gateway could not read its routes",
            )
        }
    }
}
