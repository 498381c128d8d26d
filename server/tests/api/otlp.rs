//! OTLP/HTTP ingestion: a small agent trace (an `invoke_agent` span, a `chat` span with usage,
//! cache and reasoning tokens, an `execute_tool` span) exported as protobuf and as JSON becomes
//! a trace on the Traces API with its span tree, conversation and tool call, and its model call
//! a priced `llm_calls` row (`source = otlp`); an exporter's retry doubles nothing; bad exports
//! are refused with clear errors.

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::tasks::setup;

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(key: &str, v: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(v.to_owned()))
}

fn i(key: &str, v: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(v))
}

/// provider, model, prompt, completion, cached, reasoning, cost, priced, estimated.
type CallRow = (String, String, i64, i64, i64, i64, i64, i64, i64);

const T0: u64 = 1_760_000_000_000_000_000;

fn span(trace: [u8; 16], id: u8, parent: Option<u8>, name: &str, ms: (u64, u64)) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent
            .map(|p| vec![0, 0, 0, 0, 0, 0, 0, p])
            .unwrap_or_default(),
        name: name.to_owned(),
        start_time_unix_nano: T0 + ms.0 * 1_000_000,
        end_time_unix_nano: T0 + ms.1 * 1_000_000,
        ..Span::default()
    }
}

/// An agent's trace: invoke_agent → chat (usage, conversation) and execute_tool (failed).
fn agent_trace(trace: [u8; 16]) -> ExportTraceServiceRequest {
    let mut root = span(trace, 1, None, "invoke_agent Planner", (0, 900));
    root.attributes = vec![
        s("gen_ai.operation.name", "invoke_agent"),
        s("gen_ai.agent.name", "Planner"),
        // An agent span's usage sums its calls': never counted as a call of its own.
        i("gen_ai.usage.input_tokens", 120),
    ];
    let mut chat = span(trace, 2, Some(1), "chat otel-model", (10, 400));
    chat.attributes = vec![
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.provider.name", "openai"),
        s("gen_ai.request.model", "otel-model"),
        i("gen_ai.usage.input_tokens", 120),
        i("gen_ai.usage.output_tokens", 30),
        i("gen_ai.usage.cache_read.input_tokens", 100),
        i("gen_ai.usage.reasoning.output_tokens", 12),
        s(
            "gen_ai.input.messages",
            &json!([{ "role": "user", "parts": [{ "type": "text", "content": "Weather in Paris?" }] }])
                .to_string(),
        ),
        s(
            "gen_ai.output.messages",
            &json!([{ "role": "assistant", "parts": [{ "type": "tool_call", "id": "c1",
                "name": "get_weather", "arguments": { "city": "Paris" } }] }])
            .to_string(),
        ),
    ];
    let mut tool = span(trace, 3, Some(1), "execute_tool get_weather", (410, 800));
    tool.attributes = vec![
        s("gen_ai.operation.name", "execute_tool"),
        s("gen_ai.tool.name", "get_weather"),
        s("gen_ai.tool.call.arguments", r#"{"city":"Paris"}"#),
        s("error.type", "timeout"),
    ];
    tool.status = Some(Status {
        code: status::StatusCode::Error as i32,
        message: "the weather service timed out".into(),
    });
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![s("service.name", "trip-planner")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![root, chat, tool],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

app_test!(otlp_exports_become_traces_and_calls, |app| {
    let key = setup(&app, false).await;
    let res = app
        .client
        .put(app.url("/api/v1/prices"))
        .bearer_auth(&key)
        .json(&json!({ "provider_kind": "openai", "model": "otel-model",
            "input_per_mtok_micros": 1_000_000, "output_per_mtok_micros": 4_000_000,
            "cached_input_per_mtok_micros": 500_000, "context_window": 128_000 }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let direct = format!("http://{}", app.server.as_ref().unwrap().addr);
    let export = |body: Vec<u8>, content_type: &'static str, auth: bool| {
        let mut req = app
            .client
            .post(format!("{direct}/v1/traces"))
            .header("content-type", content_type)
            .body(body);
        if auth {
            req = req.bearer_auth(&key);
        }
        req.send()
    };
    let trace_a = [0xA1; 16];
    let proto = agent_trace(trace_a).encode_to_vec();

    // Refused: no key, an encoding OTLP does not have, a body that is no export.
    let res = export(proto.clone(), "application/x-protobuf", false)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = export(proto.clone(), "text/plain", true).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = export(vec![0xFF, 0xFF, 0x01], "application/x-protobuf", true)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "BAD_REQUEST");

    // Protobuf, twice (an exporter's retry): stored once.
    for _ in 0..2 {
        let res = export(proto.clone(), "application/x-protobuf", true)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-protobuf");
        let answer = ExportTraceServiceResponse::decode(res.bytes().await.unwrap()).unwrap();
        assert!(answer.partial_success.is_none());
    }

    // OTLP/JSON as exporters write it (hex ids, nanoseconds as strings), with one span that
    // has no valid id: refused alone, as a partial success.
    let json_export = json!({ "resourceSpans": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "support-bot" } }] },
        "scopeSpans": [{ "spans": [
            { "traceId": "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", "spanId": "0000000000000009",
              "name": "chat claude-x", "kind": 3,
              "startTimeUnixNano": "1760000100000000000", "endTimeUnixNano": "1760000100500000000",
              "attributes": [
                { "key": "gen_ai.operation.name", "value": { "stringValue": "chat" } },
                { "key": "gen_ai.provider.name", "value": { "stringValue": "anthropic" } },
                { "key": "gen_ai.request.model", "value": { "stringValue": "claude-x" } },
                { "key": "gen_ai.usage.input_tokens", "value": { "intValue": "50" } },
                { "key": "gen_ai.usage.output_tokens", "value": { "intValue": "7" } }
              ] },
            { "traceId": "", "spanId": "", "name": "broken",
              "startTimeUnixNano": "1", "endTimeUnixNano": "2" }
        ] }]
    }] });
    let res = export(
        json_export.to_string().into_bytes(),
        "application/json",
        true,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    let rejected = &answer["partialSuccess"]["rejectedSpans"];
    assert!(rejected == "1" || rejected == 1, "{answer}");

    // The calls: the chat spans only, priced where the table knows the model; the unknown
    // one's cost is unknown, not zero.
    let calls: Vec<CallRow> = sqlx::query_as(
        "SELECT provider_kind, model, prompt_tokens, completion_tokens, cached_tokens, \
         reasoning_tokens, cost_micros, price_known, usage_estimated FROM llm_calls \
         WHERE source = 'otlp' ORDER BY created_at",
    )
    .fetch_all(app.store().pool())
    .await
    .unwrap();
    assert_eq!(
        calls,
        vec![
            (
                "openai".into(),
                "otel-model".into(),
                120,
                30,
                100,
                12,
                190,
                1,
                0
            ),
            ("anthropic".into(), "claude-x".into(), 50, 7, 0, 0, 0, 0, 0),
        ]
    );

    // The Traces API: newest first, then one trace's tree.
    let res = app
        .client
        .get(app.url("/api/v1/traces"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = res.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["service"], "support-bot");
    let a = &items[1];
    assert_eq!(a["trace_id"], "a1".repeat(16));
    assert_eq!(a["name"], "invoke_agent Planner");
    assert_eq!(a["agent_name"], "Planner");
    assert_eq!(
        (
            a["spans"].as_i64(),
            a["calls"].as_i64(),
            a["tool_calls"].as_i64(),
            a["errors"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    assert_eq!(a["cost_micros"], 190);
    let res = app
        .client
        .get(app.url(&format!("/api/v1/traces/{}", "a1".repeat(16))))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let detail: Value = res.json().await.unwrap();
    let spans = detail["spans"].as_array().unwrap();
    let shape: Vec<(&str, i64)> = spans
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["depth"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        shape,
        [
            ("invoke_agent Planner", 0),
            ("chat otel-model", 1),
            ("execute_tool get_weather", 1)
        ]
    );
    assert_eq!(spans[1]["call"]["cost_micros"], 190);
    assert_eq!(spans[1]["input"][0]["content"], "Weather in Paris?");
    assert_eq!(
        spans[1]["output"][0]["tool_calls"][0]["name"],
        "get_weather"
    );
    assert_eq!(spans[2]["error"], "the weather service timed out");
    assert_eq!(spans[2]["tool_arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(
        spans[0]["attributes"]["resource.service.name"],
        "trip-planner"
    );
    let res = app
        .client
        .get(app.url(&format!("/api/v1/traces/{}", "c3".repeat(16))))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});
