//! Anthropic messages API, streaming.
//!
//! Wire format: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`, answered by
//! named SSE events: `message_start` (input usage), `content_block_start` (text or `tool_use`),
//! `content_block_delta` (`text_delta`, `input_json_delta`, `thinking_delta`), `message_delta`
//! (output usage), `message_stop` (the terminal event), `ping` and `error`.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    BoxFuture, ChatRequest, Completion, DeltaSink, ErrorClass, HttpConfig, MessageRole, Provider,
    ProviderError, ToolCall, Usage, elapsed_ms,
};
use crate::domain::ProviderKind;

/// The API version header value this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// A client for the Anthropic messages API.
#[derive(Debug, Clone)]
pub struct Anthropic {
    config: HttpConfig,
}

impl Anthropic {
    /// A client for `config.base_url` (e.g. `https://api.anthropic.com`).
    pub fn new(config: HttpConfig) -> Self {
        Self { config }
    }

    fn body(request: &ChatRequest) -> Value {
        // Anthropic wants alternating user/assistant turns; consecutive tool results go into one
        // user turn as tool_result blocks.
        let mut messages: Vec<Value> = Vec::new();
        for m in &request.messages {
            match m.role {
                MessageRole::User => messages.push(json!({
                    "role": "user",
                    "content": [{"type": "text", "text": m.content}],
                })),
                MessageRole::Assistant => {
                    let mut blocks = Vec::new();
                    if !m.content.is_empty() {
                        blocks.push(json!({"type": "text", "text": m.content}));
                    }
                    for c in &m.tool_calls {
                        blocks.push(json!({
                            "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments,
                        }));
                    }
                    messages.push(json!({"role": "assistant", "content": blocks}));
                }
                MessageRole::Tool => {
                    let block = json!({
                        "type": "tool_result",
                        "tool_use_id": m.tool_call_id,
                        "content": m.content,
                    });
                    let merged = messages.last_mut().and_then(|last| {
                        let is_results =
                            last["role"] == "user" && last["content"][0]["type"] == "tool_result";
                        if is_results {
                            last["content"].as_array_mut()
                        } else {
                            None
                        }
                    });
                    match merged {
                        Some(blocks) => blocks.push(block),
                        None => messages.push(json!({"role": "user", "content": [block]})),
                    }
                }
            }
        }
        let mut body = json!({
            "model": request.model,
            "system": request.system,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature.min(1.0),
            "stream": true,
        });
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
                .collect();
        }
        body
    }

    async fn run(
        &self,
        request: &ChatRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<Completion, ProviderError> {
        let start = Instant::now();
        let mut builder = self
            .config
            .client
            .post(format!("{}/v1/messages", self.config.base_url))
            .header("anthropic-version", API_VERSION)
            .json(&Self::body(request));
        if let Some(key) = &self.config.api_key {
            builder = builder.header("x-api-key", key);
        }
        let response = super::send(builder).await?;
        let mut events = Box::pin(super::sse_events(response));

        let mut out = Completion::default();
        let mut usage = Usage::default();
        let mut saw_usage = false;
        let mut blocks: BTreeMap<u64, Block> = BTreeMap::new();
        let mut stopped = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| partial(super::sse_error(&e), saw_usage, usage))?;
            let data: Value = match event.event.as_str() {
                "ping" => continue,
                _ if event.data.trim().is_empty() => continue,
                _ => serde_json::from_str(&event.data).map_err(|e| {
                    partial(
                        ProviderError::new(ErrorClass::Malformed, format!("bad event: {e}")),
                        saw_usage,
                        usage,
                    )
                })?,
            };
            match event.event.as_str() {
                "message_start" => {
                    if let Ok(u) =
                        serde_json::from_value::<WireUsage>(data["message"]["usage"].clone())
                    {
                        usage.cached_tokens = u.cache_read_input_tokens;
                        usage.cache_write_tokens = u.cache_creation_input_tokens;
                        usage.prompt_tokens = u.input_tokens
                            + u.cache_read_input_tokens
                            + u.cache_creation_input_tokens;
                        usage.completion_tokens = u.output_tokens;
                        saw_usage = true;
                    }
                }
                "content_block_start" => {
                    let index = data["index"].as_u64().unwrap_or(0);
                    let block = &data["content_block"];
                    if block["type"] == "tool_use" {
                        blocks.insert(
                            index,
                            Block {
                                id: block["id"].as_str().unwrap_or_default().to_owned(),
                                name: block["name"].as_str().unwrap_or_default().to_owned(),
                                json: String::new(),
                            },
                        );
                    }
                }
                "content_block_delta" => {
                    let index = data["index"].as_u64().unwrap_or(0);
                    let delta = &data["delta"];
                    match delta["type"].as_str() {
                        Some("text_delta") => {
                            let text = delta["text"].as_str().unwrap_or_default();
                            if !text.is_empty() {
                                if out.ttft_ms.is_none() {
                                    out.ttft_ms = Some(elapsed_ms(start));
                                }
                                on_delta(text);
                                out.text.push_str(text);
                            }
                        }
                        Some("input_json_delta") => {
                            if let Some(b) = blocks.get_mut(&index) {
                                b.json
                                    .push_str(delta["partial_json"].as_str().unwrap_or_default());
                            }
                        }
                        _ => {}
                    }
                }
                "message_delta" => {
                    if let Some(n) = data["usage"]["output_tokens"].as_i64() {
                        usage.completion_tokens = n;
                        saw_usage = true;
                    }
                }
                "message_stop" => {
                    stopped = true;
                    break;
                }
                "error" => {
                    let kind = data["error"]["type"].as_str().unwrap_or_default();
                    let class = match kind {
                        "rate_limit_error" => ErrorClass::RateLimited,
                        "overloaded_error" | "api_error" => ErrorClass::ServerError,
                        "authentication_error" | "permission_error" => ErrorClass::Auth,
                        "invalid_request_error" => ErrorClass::BadRequest,
                        _ => ErrorClass::ServerError,
                    };
                    let message = data["error"]["message"].as_str().unwrap_or(kind).to_owned();
                    return Err(partial(
                        ProviderError::new(class, message),
                        saw_usage,
                        usage,
                    ));
                }
                _ => {}
            }
        }
        if !stopped {
            return Err(partial(
                ProviderError::new(ErrorClass::StreamCut, "stream ended before message_stop"),
                saw_usage,
                usage,
            ));
        }
        for block in blocks.into_values() {
            let arguments = if block.json.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&block.json).map_err(|e| {
                    ProviderError::new(
                        ErrorClass::Malformed,
                        format!("tool input is not JSON: {e}"),
                    )
                })?
            };
            out.tool_calls.push(ToolCall {
                id: block.id,
                name: block.name,
                arguments,
            });
        }
        if !saw_usage {
            usage = Usage {
                prompt_tokens: super::estimate_request_tokens(request),
                completion_tokens: super::estimate_tokens(&out.text),
                estimated: true,
                ..Usage::default()
            };
        }
        out.usage = usage;
        Ok(out)
    }
}

impl Provider for Anthropic {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, on_delta))
    }
}

fn partial(mut err: ProviderError, saw_usage: bool, usage: Usage) -> ProviderError {
    if saw_usage {
        err.partial_usage = Some(usage);
    }
    err
}

struct Block {
    id: String,
    name: String,
    json: String,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    cache_read_input_tokens: i64,
    #[serde(default)]
    cache_creation_input_tokens: i64,
}
