//! Reading external traces (what [`super::otlp`] stored): the list, newest first a keyset page
//! at a time from the per-trace rows, and one trace's span tree with the conversation and tool
//! calls its spans carry, read from the GenAI conventions' attributes.

use std::collections::HashMap;

use serde_json::{Map, Value};
use wire::traces::{TraceDetail, TraceMessage, TraceSpan, TraceSummary, TraceToolCall};

use crate::auth::Principal;
use crate::store::page::{Page, PageRequest, from_rows, parse_time_id, time_id_key};
use crate::{Error, Result, Store};

type SummaryRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

const SUMMARY: &str = "trace_id, name, service, agent_name, started_at, ended_at, spans, calls, \
                       tool_calls, errors, prompt_tokens, completion_tokens, cost_micros, unpriced_calls";

fn summary(r: SummaryRow) -> TraceSummary {
    TraceSummary {
        trace_id: r.0,
        name: r.1,
        service: r.2,
        agent_name: r.3,
        started_at: r.4,
        ended_at: r.5,
        spans: r.6,
        calls: r.7,
        tool_calls: r.8,
        errors: r.9,
        prompt_tokens: r.10,
        completion_tokens: r.11,
        cost_micros: r.12,
        unpriced_calls: r.13,
    }
}

/// The workspace's external traces, newest first.
pub async fn list(
    store: &Store,
    who: &Principal,
    request: &PageRequest,
) -> Result<Page<TraceSummary>> {
    let (after_at, after_id) = match &request.after {
        Some(key) => parse_time_id(key)?,
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY} FROM otel_traces WHERE workspace_id = $1 \
         AND (started_at < $2 OR (started_at = $2 AND trace_id < $3)) \
         ORDER BY started_at DESC, trace_id DESC LIMIT $4"
    )))
    .bind(&who.workspace_id)
    .bind(after_at)
    .bind(&after_id)
    .bind(request.limit + 1)
    .fetch_all(store.pool())
    .await?;
    let page = from_rows(rows, request.limit, |r| time_id_key(r.4, &r.0));
    Ok(Page {
        items: page.items.into_iter().map(summary).collect(),
        next_cursor: page.next_cursor,
    })
}

type SpanRow = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<String>,
    String,
    Option<String>,
);

/// One trace with its spans, parents before children (siblings by start).
pub async fn get(store: &Store, who: &Principal, trace_id: &str) -> Result<TraceDetail> {
    let trace_id = trace_id.trim().to_ascii_lowercase();
    let row: Option<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY} FROM otel_traces WHERE workspace_id = $1 AND trace_id = $2"
    )))
    .bind(&who.workspace_id)
    .bind(&trace_id)
    .fetch_optional(store.pool())
    .await?;
    let trace = summary(row.ok_or_else(|| Error::not_found("trace", &trace_id))?);
    let rows: Vec<SpanRow> = sqlx::query_as(
        "SELECT span_id, parent_span_id, name, operation, agent_name, tool_name, provider, model, \
         started_at, ended_at, error, attributes, call_id FROM otel_spans \
         WHERE workspace_id = $1 AND trace_id = $2 ORDER BY started_at, span_id",
    )
    .bind(&who.workspace_id)
    .bind(&trace_id)
    .fetch_all(store.pool())
    .await?;
    let mut calls = crate::store::llm_calls::of_trace(store, &who.workspace_id, &trace_id).await?;
    let spans: Vec<TraceSpan> = rows
        .into_iter()
        .map(|r| {
            let attributes: Map<String, Value> = serde_json::from_str(&r.11).unwrap_or_default();
            let mut input = Vec::new();
            if let Some(system) = attributes.get("gen_ai.system_instructions") {
                input.extend(messages(system, "system"));
            }
            if let Some(sent) = attributes.get("gen_ai.input.messages") {
                input.extend(messages(sent, "user"));
            }
            let output = attributes
                .get("gen_ai.output.messages")
                .map(|v| messages(v, "assistant"))
                .unwrap_or_default();
            let plain = |k: &str| attributes.get(k).map(text_of);
            TraceSpan {
                tool_arguments: plain("gen_ai.tool.call.arguments"),
                tool_result: plain("gen_ai.tool.call.result"),
                span_id: r.0,
                parent_span_id: r.1,
                name: r.2,
                operation: r.3,
                agent_name: r.4,
                tool_name: r.5,
                provider: r.6,
                model: r.7,
                started_at: r.8,
                ended_at: r.9,
                error: r.10,
                depth: 0,
                call: r.12.and_then(|id| calls.remove(&id)),
                input,
                output,
                attributes: Value::Object(attributes),
            }
        })
        .collect();
    Ok(TraceDetail {
        trace,
        spans: tree(spans),
    })
}

/// Orders spans depth-first (a parent before its children, siblings by start) and sets their
/// depth; a span whose parent never arrived is shown as a root.
fn tree(spans: Vec<TraceSpan>) -> Vec<TraceSpan> {
    let ids: std::collections::HashSet<String> = spans.iter().map(|s| s.span_id.clone()).collect();
    let mut children: HashMap<Option<String>, Vec<TraceSpan>> = HashMap::new();
    for s in spans {
        let parent = s.parent_span_id.clone().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(s);
    }
    let mut out = Vec::new();
    let mut stack: Vec<(TraceSpan, i64)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|s| (s, 0))
        .collect();
    while let Some((mut span, depth)) = stack.pop() {
        span.depth = depth;
        if let Some(kids) = children.remove(&Some(span.span_id.clone())) {
            stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
        }
        out.push(span);
    }
    out
}

/// A text attribute's text; any other value as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Messages in the GenAI conventions' shape (`[{"role", "parts": [{"type": "text", "content"},
/// {"type": "tool_call", "name", "arguments"}, …]}]`, as a JSON string or structured), or a
/// plain text taken as one message of `role`.
fn messages(value: &Value, role: &str) -> Vec<TraceMessage> {
    let parsed = match value {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or_else(|_| value.clone()),
        other => other.clone(),
    };
    let one = |role: &str, content: String| TraceMessage {
        role: role.to_owned(),
        content,
        tool_calls: Vec::new(),
    };
    match parsed {
        Value::String(s) => vec![one(role, s)],
        Value::Array(items) => items
            .iter()
            .map(|m| {
                // System instructions are a list of parts, messages a list of {role, parts}.
                if m.get("parts").is_none() && m.get("content").is_none() {
                    let mut msg = one(role, String::new());
                    part(&mut msg, m);
                    return msg;
                }
                let mut msg = one(m["role"].as_str().unwrap_or(role), String::new());
                match &m["content"] {
                    Value::String(s) => msg.content.push_str(s),
                    Value::Null => {}
                    other => msg.content.push_str(&text_of(other)),
                }
                for p in m["parts"].as_array().into_iter().flatten() {
                    part(&mut msg, p);
                }
                msg
            })
            .collect(),
        other => vec![one(role, text_of(&other))],
    }
}

/// Adds one message part: text to the content, a tool call to the calls, a tool's response
/// as text.
fn part(msg: &mut TraceMessage, p: &Value) {
    let mut push = |s: &str| {
        if !msg.content.is_empty() {
            msg.content.push('\n');
        }
        msg.content.push_str(s);
    };
    match p["type"].as_str() {
        Some("tool_call") => msg.tool_calls.push(TraceToolCall {
            name: p["name"].as_str().unwrap_or("tool").to_owned(),
            arguments: match &p["arguments"] {
                Value::String(s) => s.clone(),
                other => serde_json::to_string_pretty(other).unwrap_or_default(),
            },
        }),
        Some("tool_call_response") => push(&text_of(&p["response"])),
        _ => match &p["content"] {
            Value::String(s) => push(s),
            Value::Null => {}
            other => push(&text_of(other)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_in_the_conventions_shape() {
        let v = Value::String(
            serde_json::json!([
                {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
                {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "rainy, 57°F"}]}
            ])
            .to_string(),
        );
        let m = messages(&v, "user");
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].content, "Weather in Paris?");
        assert_eq!(m[1].tool_calls[0].name, "get_weather");
        assert!(m[1].tool_calls[0].arguments.contains("Paris"));
        assert_eq!(
            (m[2].role.as_str(), m[2].content.as_str()),
            ("tool", "rainy, 57°F")
        );
        let plain = messages(&Value::String("You are terse.".into()), "system");
        assert_eq!(plain[0].role, "system");
        assert_eq!(plain[0].content, "You are terse.");
    }
}
