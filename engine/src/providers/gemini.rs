//! Google Gemini `streamGenerateContent`, streaming.
//!
//! Wire format: `POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse` with
//! `x-goog-api-key`, answered by SSE `data:` chunks each holding `candidates[0].content.parts`
//! (text or `functionCall`) and `usageMetadata`. There is no `[DONE]`: the chunk that carries a
//! `finishReason` is the terminal one, so a stream without it was cut.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{
    BoxFuture, ChatRequest, Completion, DeltaSink, ErrorClass, HttpConfig, MessageRole, Provider,
    ProviderError, ToolCall, Usage, elapsed_ms,
};
use crate::domain::ProviderKind;

/// A client for the Gemini API.
#[derive(Debug, Clone)]
pub struct Gemini {
    config: HttpConfig,
}

impl Gemini {
    /// A client for `config.base_url` (e.g. `https://generativelanguage.googleapis.com`).
    pub fn new(config: HttpConfig) -> Self {
        Self { config }
    }

    fn body(request: &ChatRequest) -> Value {
        let mut contents: Vec<Value> = Vec::new();
        for m in &request.messages {
            match m.role {
                MessageRole::User => {
                    contents.push(json!({"role": "user", "parts": [{"text": m.content}]}));
                }
                MessageRole::Assistant => {
                    let mut parts = Vec::new();
                    if !m.content.is_empty() {
                        parts.push(json!({"text": m.content}));
                    }
                    for c in &m.tool_calls {
                        parts.push(json!({"functionCall": {"name": c.name, "args": c.arguments}}));
                    }
                    contents.push(json!({"role": "model", "parts": parts}));
                }
                MessageRole::Tool => {
                    let part = json!({"functionResponse": {
                        "name": m.tool_name.clone().unwrap_or_default(),
                        "response": {"content": m.content},
                    }});
                    let merged = contents.last_mut().and_then(|last| {
                        let is_responses = last["role"] == "user"
                            && last["parts"][0].get("functionResponse").is_some();
                        if is_responses {
                            last["parts"].as_array_mut()
                        } else {
                            None
                        }
                    });
                    match merged {
                        Some(parts) => parts.push(part),
                        None => contents.push(json!({"role": "user", "parts": [part]})),
                    }
                }
            }
        }
        let mut body = json!({
            "systemInstruction": {"parts": [{"text": request.system}]},
            "contents": contents,
            "generationConfig": {
                "temperature": request.temperature,
                "maxOutputTokens": request.max_tokens,
            },
        });
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
                .collect();
            body["tools"] = json!([{"functionDeclarations": declarations}]);
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
            .post(format!(
                "{}/v1beta/models/{}:streamGenerateContent?alt=sse",
                self.config.base_url, request.model
            ))
            .json(&Self::body(request));
        if let Some(key) = &self.config.api_key {
            builder = builder.header("x-goog-api-key", key);
        }
        let response = super::send(builder).await?;
        let mut events = Box::pin(super::sse_events(response));

        let mut out = Completion::default();
        let mut usage: Option<Usage> = None;
        let mut finished = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| {
                let mut err = super::sse_error(&e);
                err.partial_usage = usage;
                err
            })?;
            if event.data.trim().is_empty() {
                continue;
            }
            let chunk: Value = serde_json::from_str(&event.data).map_err(|e| {
                ProviderError::new(ErrorClass::Malformed, format!("bad chunk: {e}"))
            })?;
            if let Some(err) = chunk.get("error") {
                let status = err["code"].as_u64().unwrap_or(500);
                return Err(ProviderError::from_status(
                    u16::try_from(status).unwrap_or(500),
                    None,
                    &err.to_string(),
                ));
            }
            if let Some(meta) = chunk.get("usageMetadata") {
                let n = |k: &str| meta[k].as_i64().unwrap_or(0);
                usage = Some(Usage {
                    prompt_tokens: n("promptTokenCount"),
                    completion_tokens: n("candidatesTokenCount") + n("thoughtsTokenCount"),
                    cached_tokens: n("cachedContentTokenCount"),
                    cache_write_tokens: 0,
                    reasoning_tokens: n("thoughtsTokenCount"),
                    estimated: false,
                });
            }
            let candidate = &chunk["candidates"][0];
            if let Some(parts) = candidate["content"]["parts"].as_array() {
                for part in parts {
                    // Thought summaries are not part of the answer.
                    if part["thought"].as_bool() == Some(true) {
                        continue;
                    }
                    if let Some(text) = part["text"].as_str().filter(|t| !t.is_empty()) {
                        if out.ttft_ms.is_none() {
                            out.ttft_ms = Some(elapsed_ms(start));
                        }
                        on_delta(text);
                        out.text.push_str(text);
                    }
                    if let Some(call) = part.get("functionCall") {
                        out.tool_calls.push(ToolCall {
                            id: format!("call_{}", out.tool_calls.len()),
                            name: call["name"].as_str().unwrap_or_default().to_owned(),
                            arguments: call.get("args").cloned().unwrap_or_else(|| json!({})),
                        });
                    }
                }
            }
            if candidate["finishReason"].is_string() {
                finished = true;
            }
        }
        if !finished {
            let mut err =
                ProviderError::new(ErrorClass::StreamCut, "stream ended before a finishReason");
            err.partial_usage = usage;
            return Err(err);
        }
        out.usage = usage.unwrap_or_else(|| Usage {
            prompt_tokens: super::estimate_request_tokens(request),
            completion_tokens: super::estimate_tokens(&out.text),
            estimated: true,
            ..Usage::default()
        });
        Ok(out)
    }
}

impl Provider for Gemini {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, on_delta))
    }
}
