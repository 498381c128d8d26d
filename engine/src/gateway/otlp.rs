//! OTLP/HTTP trace ingestion (`POST /v1/traces`, SPEC F-19): agents instrumented with
//! OpenTelemetry point their exporter at Fleetdeck, and spans that follow the GenAI semantic
//! conventions become what Fleetdeck's own agents leave behind — model calls recorded through
//! the one recording path (`source = otlp`, rolled up, budgets' dashboards and the calls
//! explorer included), agent invocations and tool executions — grouped into traces for the
//! Traces page.
//!
//! Decoding is `opentelemetry-proto`'s (protobuf with prost, JSON with its serde, which knows
//! OTLP/JSON's hex ids and string-encoded integers); nothing here parses the wire by hand.
//!
//! Nothing doubled: exporters retry, so a span is stored once per (workspace, trace, span) and
//! only a span seen for the first time records its call — all of one export in one transaction.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use serde_json::{Map, Value};

use crate::providers::Usage;
use crate::store::llm_calls::NewLlmCall;
use crate::{Error, Result, Store, new_id};

/// How an export is encoded (its `Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

/// Decodes an export request.
pub fn decode(body: &[u8], encoding: Encoding) -> Result<ExportTraceServiceRequest> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|e| Error::invalid("body", format!("not an OTLP protobuf export: {e}"))),
        Encoding::Json => serde_json::from_slice(body)
            .map_err(|e| Error::invalid("body", format!("not an OTLP/JSON export: {e}"))),
    }
}

/// The export's answer in its request's encoding; spans refused are counted in a partial
/// success, as OTLP says.
pub fn response(ingested: &Ingested, encoding: Encoding) -> Vec<u8> {
    let partial = (ingested.rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: i64::try_from(ingested.rejected).unwrap_or(i64::MAX),
        error_message: "spans without a valid trace id, span id or times were refused".to_owned(),
    });
    let answer = ExportTraceServiceResponse {
        partial_success: partial,
    };
    match encoding {
        Encoding::Protobuf => answer.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&answer).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// What one export came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Spans stored for the first time.
    pub spans: usize,
    /// Model calls recorded from them.
    pub calls: usize,
    /// Spans already stored (an exporter's retry).
    pub duplicates: usize,
    /// Spans refused (no valid ids or times).
    pub rejected: usize,
}

/// Operations whose span is one model call (`gen_ai.operation.name`).
const CALL_OPERATIONS: &[&str] = &["chat", "text_completion", "generate_content", "embeddings"];

/// Longest attribute text kept (prompts can be large; the rest is cut with a note).
const TEXT_MAX: usize = 64 * 1024;

/// One span, read.
struct Read {
    trace_id: String,
    span_id: String,
    parent: Option<String>,
    name: String,
    operation: Option<String>,
    agent_name: Option<String>,
    tool_name: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    started_at: i64,
    ended_at: i64,
    error: Option<String>,
    attributes: Map<String, Value>,
    service: Option<String>,
}

/// Stores an export's spans in `workspace_id` and records their model calls.
pub async fn ingest(
    store: &Store,
    workspace_id: &str,
    api_key_id: Option<&str>,
    request: ExportTraceServiceRequest,
) -> Result<Ingested> {
    let mut out = Ingested::default();
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        let service = resource
            .get("service.name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                match read(span, &resource, service.as_ref()) {
                    Some(r) => spans.push(r),
                    None => out.rejected += 1,
                }
            }
        }
    }
    if spans.is_empty() {
        return Ok(out);
    }
    let mut tx = store.begin().await?;
    let mut prices = HashMap::new();
    let mut calls: Vec<NewLlmCall> = Vec::new();
    let mut call_ids: Vec<String> = Vec::new();
    let mut traces: HashMap<String, Totals> = HashMap::new();
    for span in &spans {
        let call = if is_call(span) {
            let kind = provider_kind(span.provider.as_deref());
            let model = span.model.clone().unwrap_or_default();
            let key = (kind.clone(), model.clone());
            let price = match prices.get(&key) {
                Some(p) => Clone::clone(p),
                None => {
                    let p = crate::store::prices::get(&mut *tx, &kind, &model).await?;
                    prices.insert(key, p.clone());
                    p
                }
            };
            Some(call_of(span, workspace_id, api_key_id, kind, model, price))
        } else {
            None
        };
        let call_id = call.as_ref().map(|_| new_id());
        let inserted = sqlx::query(
            "INSERT INTO otel_spans (workspace_id, trace_id, span_id, parent_span_id, name, operation, \
             agent_name, tool_name, provider, model, started_at, ended_at, error, attributes, call_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (workspace_id, trace_id, span_id) DO NOTHING",
        )
        .bind(workspace_id)
        .bind(&span.trace_id)
        .bind(&span.span_id)
        .bind(&span.parent)
        .bind(&span.name)
        .bind(&span.operation)
        .bind(&span.agent_name)
        .bind(&span.tool_name)
        .bind(&span.provider)
        .bind(&span.model)
        .bind(span.started_at)
        .bind(span.ended_at)
        .bind(&span.error)
        .bind(Value::Object(span.attributes.clone()).to_string())
        .bind(&call_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            out.duplicates += 1;
            continue;
        }
        out.spans += 1;
        let totals = traces.entry(span.trace_id.clone()).or_default();
        totals.add(span, call.as_ref());
        if let (Some(call), Some(id)) = (call, call_id) {
            calls.push(call);
            call_ids.push(id);
        }
    }
    out.calls = calls.len();
    if !calls.is_empty() {
        crate::store::group::insert_bulk(&mut tx, &call_ids, &calls).await?;
    }
    for (trace_id, t) in &traces {
        upsert_trace(&mut tx, workspace_id, api_key_id, trace_id, t).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// Whether a span is one model call: its operation says so or, for instrumentations that name
/// none, it carries a model and token usage and is no agent or tool span (an `invoke_agent`
/// span's usage sums its calls': counting it would count them twice).
fn is_call(span: &Read) -> bool {
    match span.operation.as_deref() {
        Some(op) => CALL_OPERATIONS.contains(&op),
        None => span.model.is_some() && span.attributes.contains_key("gen_ai.usage.input_tokens"),
    }
}

/// Fleetdeck's provider kind for a `gen_ai.provider.name` (the price table's); another
/// provider keeps its own name, so the record says who answered.
fn provider_kind(provider: Option<&str>) -> String {
    match provider.map(str::to_ascii_lowercase).as_deref() {
        Some("openai") => "openai".to_owned(),
        Some("anthropic") => "anthropic".to_owned(),
        Some("gcp.gemini" | "gcp.vertex_ai" | "gemini" | "google" | "vertex_ai") => {
            "gemini".to_owned()
        }
        Some(other) if !other.is_empty() => other.chars().take(100).collect(),
        _ => "unknown".to_owned(),
    }
}

fn int(attrs: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| match attrs.get(*k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

fn text(attrs: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match attrs.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.chars().take(200).collect()),
        _ => None,
    })
}

/// The usage a span reports (`gen_ai.usage.*`; input tokens include cached ones, as the
/// conventions say; older spellings read too). None when it reports no usage.
pub fn usage_of(attrs: &Map<String, Value>) -> Option<Usage> {
    let input = int(
        attrs,
        &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
    );
    let output = int(
        attrs,
        &[
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
        ],
    );
    if input.is_none() && output.is_none() {
        return None;
    }
    let prompt = input.unwrap_or(0).max(0);
    let cached = int(
        attrs,
        &[
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_read_input_tokens",
            "gen_ai.usage.input_tokens.cached",
        ],
    )
    .unwrap_or(0)
    .clamp(0, prompt);
    let written = int(
        attrs,
        &[
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
            "gen_ai.usage.input_tokens.cache_write",
        ],
    )
    .unwrap_or(0)
    .clamp(0, prompt - cached);
    Some(Usage {
        prompt_tokens: prompt,
        completion_tokens: output.unwrap_or(0).max(0),
        cached_tokens: cached,
        cache_write_tokens: written,
        reasoning_tokens: int(
            attrs,
            &[
                "gen_ai.usage.reasoning.output_tokens",
                "gen_ai.usage.output_tokens.reasoning",
            ],
        )
        .unwrap_or(0)
        .max(0),
        estimated: false,
    })
}

fn call_of(
    span: &Read,
    workspace_id: &str,
    api_key_id: Option<&str>,
    provider_kind: String,
    model: String,
    price: Option<crate::store::prices::Price>,
) -> NewLlmCall {
    // A span without usage: unknown, recorded as an estimate of nothing (never as known zero).
    let usage = usage_of(&span.attributes).unwrap_or(Usage {
        estimated: true,
        ..Usage::default()
    });
    let cost = price
        .as_ref()
        .map_or(0, |p| crate::runner::cost_of(p, &usage));
    let error_class = span
        .error
        .as_ref()
        .map(|_| text(&span.attributes, &["error.type"]).unwrap_or_else(|| "error".to_owned()));
    NewLlmCall {
        workspace_id: workspace_id.to_owned(),
        provider_kind,
        model,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cached_tokens: usage.cached_tokens,
        reasoning_tokens: usage.reasoning_tokens,
        cache_write_tokens: usage.cache_write_tokens,
        usage_estimated: usage.estimated,
        cost_micros: cost,
        price_known: price.is_some(),
        latency_ms: (span.ended_at - span.started_at).max(0),
        ttft_ms: None,
        success: error_class.is_none(),
        error_class,
        attempt: 1,
        created_at: span.started_at,
        source: "otlp".to_owned(),
        api_key_id: api_key_id.map(str::to_owned),
        session_id: Some(span.trace_id.clone()),
        ..NewLlmCall::default()
    }
}

/// Reads one span; none when it has no valid ids or times (refused).
fn read(
    span: opentelemetry_proto::tonic::trace::v1::Span,
    resource: &Map<String, Value>,
    service: Option<&String>,
) -> Option<Read> {
    let valid = |id: &[u8], len: usize| id.len() == len && id.iter().any(|b| *b != 0);
    if !valid(&span.trace_id, 16) || !valid(&span.span_id, 8) {
        return None;
    }
    let ms = |nanos: u64| i64::try_from(nanos / 1_000_000).ok();
    let started_at = ms(span.start_time_unix_nano).filter(|t| *t > 0)?;
    let ended_at = ms(span.end_time_unix_nano)?.max(started_at);
    let mut attrs = attributes(&span.attributes);
    let error = span.status.as_ref().and_then(|s| {
        (s.code == StatusCode::Error as i32).then(|| {
            if s.message.trim().is_empty() {
                text(&attrs, &["error.type"]).unwrap_or_else(|| "error".to_owned())
            } else {
                s.message.chars().take(2_000).collect()
            }
        })
    });
    let operation = text(&attrs, &["gen_ai.operation.name"]);
    let provider = text(&attrs, &["gen_ai.provider.name", "gen_ai.system"]);
    let model = text(&attrs, &["gen_ai.response.model", "gen_ai.request.model"]);
    let agent_name = text(&attrs, &["gen_ai.agent.name"]);
    let tool_name = text(&attrs, &["gen_ai.tool.name"]);
    for (k, v) in resource {
        attrs.insert(format!("resource.{k}"), v.clone());
    }
    Some(Read {
        trace_id: hex::encode(&span.trace_id),
        span_id: hex::encode(&span.span_id),
        parent: valid(&span.parent_span_id, 8).then(|| hex::encode(&span.parent_span_id)),
        name: span.name.chars().take(500).collect(),
        operation,
        agent_name,
        tool_name,
        provider,
        model,
        started_at,
        ended_at,
        error,
        attributes: attrs,
        service: service.cloned(),
    })
}

/// Attributes as a JSON object (long texts cut).
fn attributes(kvs: &[KeyValue]) -> Map<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), json_of(kv.value.as_ref())))
        .collect()
}

fn json_of(value: Option<&AnyValue>) -> Value {
    use any_value::Value as V;
    match value.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(V::StringValue(s)) => Value::String(cut(s)),
        Some(V::BoolValue(b)) => Value::Bool(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        Some(V::DoubleValue(d)) => {
            serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        Some(V::ArrayValue(a)) => Value::Array(a.values.iter().map(|v| json_of(Some(v))).collect()),
        Some(V::KvlistValue(l)) => Value::Object(attributes(&l.values)),
        Some(V::BytesValue(b)) => Value::String(hex::encode(b)),
        #[allow(
            unreachable_patterns,
            reason = "newer protocol versions add value kinds"
        )]
        Some(_) => Value::Null,
    }
}

fn cut(s: &str) -> String {
    if s.len() <= TEXT_MAX {
        return s.to_owned();
    }
    let mut end = TEXT_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [cut at {} KiB]", &s[..end], TEXT_MAX / 1024)
}

/// What one export adds to a trace's row.
#[derive(Default)]
struct Totals {
    name: String,
    started_at: i64,
    ended_at: i64,
    service: Option<String>,
    agent_name: Option<String>,
    spans: i64,
    calls: i64,
    tool_calls: i64,
    errors: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_micros: i64,
    unpriced_calls: i64,
}

impl Totals {
    fn add(&mut self, span: &Read, call: Option<&NewLlmCall>) {
        if self.spans == 0 || span.started_at < self.started_at {
            self.started_at = span.started_at;
            self.name.clone_from(&span.name);
        }
        self.ended_at = self.ended_at.max(span.ended_at);
        if self.service.is_none() {
            self.service.clone_from(&span.service);
        }
        if self.agent_name.is_none() {
            self.agent_name.clone_from(&span.agent_name);
        }
        self.spans += 1;
        self.errors += i64::from(span.error.is_some());
        self.tool_calls += i64::from(span.operation.as_deref() == Some("execute_tool"));
        if let Some(c) = call {
            self.calls += 1;
            self.prompt_tokens += c.prompt_tokens;
            self.completion_tokens += c.completion_tokens;
            self.cost_micros += c.cost_micros;
            self.unpriced_calls += i64::from(!c.price_known);
        }
    }
}

async fn upsert_trace(
    tx: &mut sqlx::AnyConnection,
    workspace_id: &str,
    api_key_id: Option<&str>,
    trace_id: &str,
    t: &Totals,
) -> Result<()> {
    // The earliest span names the trace (a root starts first); counts add up across exports.
    sqlx::query(
        "INSERT INTO otel_traces (workspace_id, trace_id, name, service, agent_name, started_at, \
         ended_at, spans, calls, tool_calls, errors, prompt_tokens, completion_tokens, cost_micros, \
         unpriced_calls, api_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (workspace_id, trace_id) DO UPDATE SET \
         name = CASE WHEN excluded.started_at < otel_traces.started_at THEN excluded.name ELSE otel_traces.name END, \
         started_at = CASE WHEN excluded.started_at < otel_traces.started_at THEN excluded.started_at ELSE otel_traces.started_at END, \
         ended_at = CASE WHEN excluded.ended_at > otel_traces.ended_at THEN excluded.ended_at ELSE otel_traces.ended_at END, \
         service = COALESCE(otel_traces.service, excluded.service), \
         agent_name = COALESCE(otel_traces.agent_name, excluded.agent_name), \
         spans = otel_traces.spans + excluded.spans, calls = otel_traces.calls + excluded.calls, \
         tool_calls = otel_traces.tool_calls + excluded.tool_calls, \
         errors = otel_traces.errors + excluded.errors, \
         prompt_tokens = otel_traces.prompt_tokens + excluded.prompt_tokens, \
         completion_tokens = otel_traces.completion_tokens + excluded.completion_tokens, \
         cost_micros = otel_traces.cost_micros + excluded.cost_micros, \
         unpriced_calls = otel_traces.unpriced_calls + excluded.unpriced_calls",
    )
    .bind(workspace_id)
    .bind(trace_id)
    .bind(&t.name)
    .bind(&t.service)
    .bind(&t.agent_name)
    .bind(t.started_at)
    .bind(t.ended_at)
    .bind(t.spans)
    .bind(t.calls)
    .bind(t.tool_calls)
    .bind(t.errors)
    .bind(t.prompt_tokens)
    .bind(t.completion_tokens)
    .bind(t.cost_micros)
    .bind(t.unpriced_calls)
    .bind(api_key_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
