//! LLM providers behind one trait (SPEC F-03).
//!
//! Every provider streams: [`Provider::complete`] forwards text deltas to a callback as they
//! arrive and returns the whole [`Completion`] (text, tool calls, usage) when the stream ends
//! properly. A stream that breaks before its terminal message is an error
//! ([`ErrorClass::StreamCut`]), never a short success — a half answer must not be billed or fed to
//! the next agent as if it were whole.
//!
//! Clients: [`openai`] (OpenAI and every OpenAI-compatible server), [`anthropic`], [`gemini`] and
//! the offline [`simulator`]. [`retry`] wraps any of them with backoff, `Retry-After` and a
//! fallback chain, and reports every attempt so the runner can record it as an `llm_calls` row.

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod retry;
pub mod simulator;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::ProviderKind;

/// A boxed future, so that the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives streamed text deltas as they arrive.
pub type DeltaSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Who wrote a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// The task or a tool result, from our side.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
}

/// One message of a conversation (the system prompt travels separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: MessageRole,
    /// Text content (may be empty for an assistant turn made only of tool calls).
    pub content: String,
    /// Tool calls the assistant made in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For [`MessageRole::Tool`]: the id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For [`MessageRole::Tool`]: the tool's name (Gemini needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

impl Message {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: MessageRole::User,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
        }
    }

    /// An assistant message, possibly with tool calls.
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Self {
            role: MessageRole::Assistant,
            content: content.into(),
            tool_calls,
            tool_call_id: None,
            tool_name: None,
        }
    }

    /// The result of one tool call.
    pub fn tool_result(call: &ToolCall, output: impl Into<String>) -> Self {
        Self {
            role: MessageRole::Tool,
            content: output.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call.id.clone()),
            tool_name: Some(call.name.clone()),
        }
    }
}

/// A tool the model may call, described by a JSON Schema for its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Function name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id (generated when the provider gives none).
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments as JSON.
    pub arguments: serde_json::Value,
}

/// One request to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Model name as the provider spells it.
    pub model: String,
    /// System prompt.
    pub system: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    pub temperature: f64,
    /// Completion token limit.
    pub max_tokens: i64,
    /// Tools offered to the model.
    pub tools: Vec<ToolSpec>,
    /// JSON mode: the JSON Schema the answer must keep (the agent's output schema). Asked of
    /// providers that support it (OpenAI's `response_format`; the simulator answers an
    /// instance); the others are only checked after the step.
    #[serde(default)]
    pub response_schema: Option<serde_json::Value>,
}

/// Token usage of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: i64,
    /// Completion tokens, reasoning ones included.
    pub completion_tokens: i64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: i64,
    /// Reasoning ("thinking") tokens, where reported.
    pub reasoning_tokens: i64,
    /// Prompt tokens written to the provider's cache (Anthropic's cache creation), priced
    /// above fresh input; part of `prompt_tokens`.
    #[serde(default)]
    pub cache_write_tokens: i64,
    /// True when the provider reported nothing and these are estimates.
    pub estimated: bool,
}

/// A finished model answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Completion {
    /// The answer text.
    pub text: String,
    /// Tool calls the model asked for.
    pub tool_calls: Vec<ToolCall>,
    /// Token usage.
    pub usage: Usage,
    /// Milliseconds from the request to the first streamed token.
    pub ttft_ms: Option<i64>,
}

/// Why a provider call failed; decides whether it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 429.
    RateLimited,
    /// 5xx.
    ServerError,
    /// The per-call timeout elapsed.
    Timeout,
    /// Connecting failed or the connection was reset.
    Connection,
    /// The stream ended before its terminal message.
    StreamCut,
    /// The provider answered something we cannot parse.
    Malformed,
    /// 400 and other client errors.
    BadRequest,
    /// 401/403.
    Auth,
    /// The call was cancelled by the user.
    Cancelled,
    /// A hard budget refused the call before it was made (nothing was sent).
    BudgetExceeded,
}

impl ErrorClass {
    /// Snake-case name, as stored in `llm_calls.error_class`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::ServerError => "server_error",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connection => "connection",
            ErrorClass::StreamCut => "stream_cut",
            ErrorClass::Malformed => "malformed",
            ErrorClass::BadRequest => "bad_request",
            ErrorClass::Auth => "auth",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::BudgetExceeded => "budget_exceeded",
        }
    }

    /// Whether another attempt may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::RateLimited
                | ErrorClass::ServerError
                | ErrorClass::Timeout
                | ErrorClass::Connection
                | ErrorClass::StreamCut
                | ErrorClass::Malformed
        )
    }
}

/// A failed provider call. The message never contains the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{class:?}: {message}")]
pub struct ProviderError {
    /// Why it failed.
    pub class: ErrorClass,
    /// Human-readable detail (an excerpt of the provider's answer at most).
    pub message: String,
    /// The provider's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// Usage the provider reported before failing (a cut stream may have billed tokens).
    pub partial_usage: Option<Usage>,
}

impl ProviderError {
    /// Builds an error of the given class.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
            partial_usage: None,
        }
    }

    /// Classifies a non-success HTTP status, reading `Retry-After` and an excerpt of the body.
    pub fn from_status(status: u16, retry_after: Option<Duration>, body: &str) -> Self {
        let class = match status {
            429 => ErrorClass::RateLimited,
            401 | 403 => ErrorClass::Auth,
            408 => ErrorClass::Timeout,
            500..=599 => ErrorClass::ServerError,
            _ => ErrorClass::BadRequest,
        };
        let excerpt: String = body.chars().take(300).collect();
        Self {
            class,
            message: format!("HTTP {status}: {excerpt}"),
            retry_after,
            partial_usage: None,
        }
    }

    /// Classifies a transport error from reqwest.
    pub fn from_reqwest(err: &reqwest::Error) -> Self {
        let class = if err.is_timeout() {
            ErrorClass::Timeout
        } else if err.is_decode() {
            ErrorClass::Malformed
        } else if err.is_body() {
            ErrorClass::StreamCut
        } else {
            ErrorClass::Connection
        };
        // reqwest's Display includes the URL, never headers, so no key can leak here.
        Self::new(class, err.to_string())
    }
}

/// One model endpoint that can answer a [`ChatRequest`].
pub trait Provider: Send + Sync {
    /// The kind, for pricing and records.
    fn kind(&self) -> ProviderKind;

    /// Runs the request, streaming text deltas to `on_delta`.
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

/// Connection settings for an HTTP provider.
#[derive(Clone)]
pub struct HttpConfig {
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The API key (None for keyless local servers).
    pub api_key: Option<String>,
    /// Shared client (connection pool).
    pub client: reqwest::Client,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "********"))
            .finish()
    }
}

/// Builds the shared HTTP client used by all provider clients.
///
/// The per-call timeout is applied by [`retry`], not here, so that one client serves calls with
/// different limits. Connect timeout stays short so that a dead host fails fast.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a bundled crypto provider; install ring (already used by lettre)
    // once. A second install attempt returns Err, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("fleetdeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Builds the client for a provider kind.
pub fn client_for(kind: ProviderKind, config: Option<HttpConfig>) -> Arc<dyn Provider> {
    match (kind, config) {
        (ProviderKind::Simulator, _) | (_, None) => Arc::new(simulator::Simulator::default()),
        (ProviderKind::Openai | ProviderKind::OpenaiCompatible, Some(cfg)) => {
            Arc::new(openai::OpenAi::new(kind, cfg))
        }
        (ProviderKind::Anthropic, Some(cfg)) => Arc::new(anthropic::Anthropic::new(cfg)),
        (ProviderKind::Gemini, Some(cfg)) => Arc::new(gemini::Gemini::new(cfg)),
    }
}

/// The client for a stored provider: the simulator (options from its `sim://` base URL), or an
/// HTTP client for its base URL (the kind's default when it has none) and key. The one place
/// provider clients are built, for task steps and for "test connection" alike.
pub fn connect(
    kind: ProviderKind,
    base_url: Option<&str>,
    api_key: Option<String>,
    client: &reqwest::Client,
) -> Result<Arc<dyn Provider>, crate::Error> {
    if kind == ProviderKind::Simulator {
        return Ok(Arc::new(simulator::Simulator::new(
            simulator::SimConfig::from_base_url(base_url),
        )));
    }
    let base_url = base_url
        .map(str::to_owned)
        .or_else(|| default_base_url(kind).map(str::to_owned))
        .ok_or_else(|| crate::Error::invalid("base_url", "this provider needs a base URL"))?;
    Ok(client_for(
        kind,
        Some(HttpConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            client: client.clone(),
        }),
    ))
}

/// The default base URL of a provider kind (OpenAI-compatible servers have none).
pub fn default_base_url(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::Openai => Some("https://api.openai.com/v1"),
        ProviderKind::Anthropic => Some("https://api.anthropic.com"),
        ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
        ProviderKind::OpenaiCompatible | ProviderKind::Simulator => None,
    }
}

/// A rough token count for text: used only where a provider reports no usage (then marked
/// estimated) and for pre-run cost estimates.
pub fn estimate_tokens(text: &str) -> i64 {
    let chars = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    (chars + 3) / 4
}

/// Estimated prompt tokens of a whole request.
pub fn estimate_request_tokens(request: &ChatRequest) -> i64 {
    let mut total = estimate_tokens(&request.system) + 3;
    for m in &request.messages {
        total += estimate_tokens(&m.content) + 4;
        for call in &m.tool_calls {
            total += estimate_tokens(&call.arguments.to_string()) + 4;
        }
    }
    total
}

/// Reads a `Retry-After` header given in seconds (HTTP dates are rare from LLM APIs and are
/// treated as absent, which falls back to exponential backoff).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = raw.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(300.0)))
}

/// Sends a request and turns non-success statuses into [`ProviderError`]s.
pub(crate) async fn send(
    builder: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ProviderError> {
    let response = builder
        .send()
        .await
        .map_err(|e| ProviderError::from_reqwest(&e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    Err(ProviderError::from_status(
        status.as_u16(),
        retry_after,
        &body,
    ))
}

/// Iterates the Server-Sent Events of a streaming response.
pub(crate) fn sse_events(
    response: reqwest::Response,
) -> impl futures_util::Stream<
    Item = Result<eventsource_stream::Event, eventsource_stream::EventStreamError<reqwest::Error>>,
> {
    use eventsource_stream::Eventsource;
    response.bytes_stream().eventsource()
}

/// Maps an SSE stream error to a provider error.
pub(crate) fn sse_error(
    err: &eventsource_stream::EventStreamError<reqwest::Error>,
) -> ProviderError {
    match err {
        // Any transport failure after the stream began (reqwest reports a dropped body as a
        // decode or body error) means the answer was cut off; only a timeout stays a timeout.
        eventsource_stream::EventStreamError::Transport(e) => {
            let mut out = ProviderError::from_reqwest(e);
            if out.class != ErrorClass::Timeout {
                out.class = ErrorClass::StreamCut;
            }
            out
        }
        other => ProviderError::new(ErrorClass::Malformed, other.to_string()),
    }
}

/// Milliseconds since `start`.
pub(crate) fn elapsed_ms(start: std::time::Instant) -> i64 {
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}
