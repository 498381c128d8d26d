//! Traces exported by agents running elsewhere (OTLP/HTTP, SPEC F-19): the list the Traces page
//! shows and one trace's span tree, with the conversation and tool calls its spans carry.

use serde::{Deserialize, Serialize};

/// One external trace, as listed (kept up to date as its spans arrive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSummary {
    /// The trace id (32 hex digits).
    pub trace_id: String,
    /// The root span's name (or the earliest span's, until the root arrives).
    pub name: String,
    /// The exporting service (`service.name`).
    pub service: Option<String>,
    /// The agent the trace invokes (`gen_ai.agent.name`), when one is named.
    pub agent_name: Option<String>,
    /// Unix ms of its earliest span's start.
    pub started_at: i64,
    /// Unix ms of its latest span's end.
    pub ended_at: i64,
    /// Spans received.
    pub spans: i64,
    /// Model calls among them.
    pub calls: i64,
    /// Tool executions among them.
    pub tool_calls: i64,
    /// Spans with an error status.
    pub errors: i64,
    /// Prompt tokens of its calls.
    pub prompt_tokens: i64,
    /// Completion tokens of its calls.
    pub completion_tokens: i64,
    /// Cost of its priced calls, micro-USD.
    pub cost_micros: i64,
    /// Calls whose price is unknown (the cost is then a lower bound).
    pub unpriced_calls: i64,
}

/// One message of a span's conversation (`gen_ai.input.messages` / `gen_ai.output.messages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceMessage {
    /// `system`, `user`, `assistant`, `tool`.
    pub role: String,
    /// Its text.
    pub content: String,
    /// Tool calls it asks for.
    pub tool_calls: Vec<TraceToolCall>,
}

/// A tool call a message asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceToolCall {
    /// The tool.
    pub name: String,
    /// Its arguments, as JSON text.
    pub arguments: String,
}

/// One span of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSpan {
    /// 16 hex digits.
    pub span_id: String,
    /// The parent span, none for a root.
    pub parent_span_id: Option<String>,
    /// Its name.
    pub name: String,
    /// `gen_ai.operation.name`: `chat`, `invoke_agent`, `execute_tool`, …
    pub operation: Option<String>,
    /// `gen_ai.agent.name`.
    pub agent_name: Option<String>,
    /// `gen_ai.tool.name`.
    pub tool_name: Option<String>,
    /// The provider (`gen_ai.provider.name`).
    pub provider: Option<String>,
    /// The model that answered (`gen_ai.response.model`, else the requested one).
    pub model: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms.
    pub ended_at: i64,
    /// The error, when its status is an error.
    pub error: Option<String>,
    /// Depth in the tree (0 for roots), for drawing it.
    pub depth: i64,
    /// The recorded call of a model-call span.
    pub call: Option<crate::calls::Call>,
    /// The conversation sent (`gen_ai.system_instructions` and `gen_ai.input.messages`).
    pub input: Vec<TraceMessage>,
    /// The answer (`gen_ai.output.messages`).
    pub output: Vec<TraceMessage>,
    /// A tool span's arguments and result (`gen_ai.tool.call.arguments` / `.result`).
    pub tool_arguments: Option<String>,
    /// A tool span's result.
    pub tool_result: Option<String>,
    /// Every attribute as exported (the span's, then its resource's under `resource.`).
    pub attributes: serde_json::Value,
}

/// A trace and its spans, parents before children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceDetail {
    /// The summary.
    pub trace: TraceSummary,
    /// Its spans, depth-first in start order.
    pub spans: Vec<TraceSpan>,
}
