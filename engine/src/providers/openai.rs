//! OpenAI chat completions, streaming — also every OpenAI-compatible server (Ollama, vLLM,
//! llama.cpp server, OpenRouter) by base URL.
//!
//! Wire format: `POST {base}/chat/completions` with `stream: true` and
//! `stream_options.include_usage`, answered by SSE `data:` chunks carrying `choices[].delta`
//! (text and tool-call fragments) and, last, one chunk with `usage`; the stream ends with
//! `data: [DONE]`. A stream without `[DONE]` was cut.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    BoxFuture, ChatRequest, Completion, DeltaSink, ErrorClass, HttpConfig, MessageRole, Provider,
    ProviderError, ToolCall, Usage, elapsed_ms, estimate_request_tokens, estimate_tokens,
};
use crate::domain::ProviderKind;

/// A client for one OpenAI or OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAi {
    kind: ProviderKind,
    config: HttpConfig,
}

impl OpenAi {
    /// A client for `config.base_url` (e.g. `https://api.openai.com/v1`).
    pub fn new(kind: ProviderKind, config: HttpConfig) -> Self {
        Self { kind, config }
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let mut messages = vec![json!({"role": "system", "content": request.system})];
        for m in &request.messages {
            messages.push(match m.role {
                MessageRole::User => json!({"role": "user", "content": m.content}),
                MessageRole::Assistant if m.tool_calls.is_empty() => {
                    json!({"role": "assistant", "content": m.content})
                }
                MessageRole::Assistant => json!({
                    "role": "assistant",
                    "content": if m.content.is_empty() { Value::Null } else { Value::String(m.content.clone()) },
                    "tool_calls": m.tool_calls.iter().map(|c| json!({
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments.to_string()},
                    })).collect::<Vec<_>>(),
                }),
                MessageRole::Tool => json!({
                    "role": "tool",
                    "tool_call_id": m.tool_call_id,
                    "content": m.content,
                }),
            });
        }
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "temperature": request.temperature,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        // OpenAI itself wants max_completion_tokens (reasoning models reject max_tokens);
        // compatible servers only know max_tokens.
        let limit_key = if self.kind == ProviderKind::Openai {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[limit_key] = json!(request.max_tokens);
        // JSON mode. Not `strict`: strict schemas must close every object
        // (`additionalProperties: false`), which an agent's schema need not; the answer is
        // checked against the full schema after the step in any case.
        if let Some(schema) = &request.response_schema {
            body["response_format"] = json!({"type": "json_schema", "json_schema": {
                "name": "output", "schema": schema,
            }});
        }
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters,
                    }})
                })
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
            .post(format!("{}/chat/completions", self.config.base_url))
            .json(&self.body(request));
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = super::send(builder).await?;
        let mut events = Box::pin(super::sse_events(response));

        let mut out = Completion::default();
        let mut usage: Option<Usage> = None;
        let mut calls: BTreeMap<u64, PartialCall> = BTreeMap::new();
        let mut done = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| with_usage(super::sse_error(&e), usage))?;
            let data = event.data.trim();
            if data == "[DONE]" {
                done = true;
                break;
            }
            if data.is_empty() {
                continue;
            }
            let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
                with_usage(
                    ProviderError::new(ErrorClass::Malformed, format!("bad chunk: {e}")),
                    usage,
                )
            })?;
            if let Some(err) = chunk.error {
                return Err(with_usage(
                    ProviderError::new(ErrorClass::ServerError, err.to_string()),
                    usage,
                ));
            }
            if let Some(u) = chunk.usage {
                usage = Some(u.into_usage());
            }
            for choice in chunk.choices {
                if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                    if out.ttft_ms.is_none() {
                        out.ttft_ms = Some(elapsed_ms(start));
                    }
                    on_delta(&text);
                    out.text.push_str(&text);
                }
                for fragment in choice.delta.tool_calls {
                    let entry = calls.entry(fragment.index).or_default();
                    if let Some(id) = fragment.id {
                        entry.id = id;
                    }
                    if let Some(f) = fragment.function {
                        if let Some(name) = f.name {
                            entry.name.push_str(&name);
                        }
                        if let Some(args) = f.arguments {
                            entry.arguments.push_str(&args);
                        }
                    }
                }
            }
        }
        if !done {
            return Err(with_usage(
                ProviderError::new(ErrorClass::StreamCut, "stream ended before [DONE]"),
                usage,
            ));
        }
        for (index, call) in calls {
            out.tool_calls.push(call.finish(index)?);
        }
        out.usage = usage.unwrap_or_else(|| Usage {
            prompt_tokens: estimate_request_tokens(request),
            completion_tokens: estimate_tokens(&out.text),
            estimated: true,
            ..Usage::default()
        });
        Ok(out)
    }
}

impl Provider for OpenAi {
    fn kind(&self) -> ProviderKind {
        self.kind
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, on_delta))
    }
}

fn with_usage(mut err: ProviderError, usage: Option<Usage>) -> ProviderError {
    err.partial_usage = usage;
    err
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

impl PartialCall {
    fn finish(self, index: u64) -> Result<ToolCall, ProviderError> {
        let arguments = if self.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&self.arguments).map_err(|e| {
                ProviderError::new(
                    ErrorClass::Malformed,
                    format!("tool call arguments are not JSON: {e}"),
                )
            })?
        };
        Ok(ToolCall {
            id: if self.id.is_empty() {
                format!("call_{index}")
            } else {
                self.id
            },
            name: self.name,
            arguments,
        })
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallFragment>,
}

#[derive(Deserialize)]
struct ToolCallFragment {
    #[serde(default)]
    index: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionFragment>,
}

#[derive(Deserialize)]
struct FunctionFragment {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: i64,
    #[serde(default)]
    completion_tokens: i64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: i64,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: i64,
}

impl WireUsage {
    fn into_usage(self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            cached_tokens: self.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
            cache_write_tokens: 0,
            reasoning_tokens: self
                .completion_tokens_details
                .map_or(0, |d| d.reasoning_tokens),
            estimated: false,
        }
    }
}
