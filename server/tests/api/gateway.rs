//! The gateway against local fake upstreams speaking OpenAI's wire format: a streamed answer
//! passes through event by event with the usage chunk the gateway asked for taken out (and kept
//! when the client asked for it), a non-streamed one unchanged; a 429 moves to the route's next
//! target; a stream cut before `[DONE]` is recorded as a failure; every attempt is an
//! `llm_calls` row with `source = gateway`, the API key, and usage and cost exactly as the
//! upstream reported them.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::tasks::{get, post, setup};

/// What the fake upstream received.
pub(crate) type Seen = Arc<Mutex<Vec<Value>>>;

const USAGE: &str = r#"{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":12}}"#;

pub(crate) async fn fake_upstream(seen: Seen) -> String {
    use axum::routing::post;
    let ok = {
        let seen = seen.clone();
        move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body.clone());
                if body["stream"] == true {
                    let mut out = String::new();
                    for piece in ["Hel", "lo"] {
                        let chunk = json!({ "id": "c1", "object": "chat.completion.chunk",
                            "created": 1, "model": "up-mini",
                            "choices": [{ "index": 0, "delta": { "content": piece } }] });
                        out.push_str(&format!("data: {chunk}\n\n"));
                    }
                    if body["stream_options"]["include_usage"] == true {
                        out.push_str(&format!(
                            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-mini\",\"choices\":[],\"usage\":{USAGE}}}\n\n"
                        ));
                    }
                    out.push_str("data: [DONE]\n\n");
                    ([("content-type", "text/event-stream")], out).into_response_parts_free()
                } else if body["tools"].is_array() {
                    let answer = format!(
                        "{{\"id\":\"c3\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"up-mini\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{{\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"get_weather\",\"arguments\":\"{{\\\"city\\\":\\\"Paris\\\"}}\"}}}}]}},\"finish_reason\":\"tool_calls\"}}],\"usage\":{USAGE}}}"
                    );
                    ([("content-type", "application/json")], answer).into_response_parts_free()
                } else {
                    let answer = format!(
                        "{{\"id\":\"c2\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"up-mini\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"Hello\"}},\"finish_reason\":\"stop\"}}],\"usage\":{USAGE},\"x_vendor\":1}}"
                    );
                    ([("content-type", "application/json")], answer).into_response_parts_free()
                }
            }
        }
    };
    let app = axum::Router::new()
        .route("/ok/chat/completions", post(ok))
        .route(
            "/busy/chat/completions",
            post(|| async {
                (
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    [("content-type", "application/json")],
                    r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
                )
            }),
        )
        .route(
            "/cut/chat/completions",
            post(|| async {
                let chunk = json!({ "choices": [{ "index": 0, "delta": { "content": "Hal" } }] });
                (
                    [("content-type", "text/event-stream")],
                    format!("data: {chunk}\n\n"),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Lets both answers of the fake share one return type.
trait Free {
    fn into_response_parts_free(self) -> axum::response::Response;
}

impl<T: axum::response::IntoResponse> Free for T {
    fn into_response_parts_free(self) -> axum::response::Response {
        self.into_response()
    }
}

pub(crate) async fn provider(
    app: &crate::helpers::TestApp,
    key: &str,
    name: &str,
    base: &str,
) -> String {
    let (status, p) = post(
        app,
        key,
        "/api/v1/providers",
        json!({ "name": name, "kind": "openai_compatible", "base_url": base, "api_key": format!("sk-{name}-upstream") }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn put_route(
    app: &crate::helpers::TestApp,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let res = app
        .client
        .put(app.url("/api/v1/gateway/routes"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A gateway call as the test reads it: (model, success, attempt, prompt, completion, cached,
/// reasoning, cost, error class, API key set).
type Row = (
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
);

/// Waits for `n` gateway calls to be recorded (each is recorded from a task of its own once
/// its answer ended), oldest first.
async fn calls(app: &crate::helpers::TestApp, n: usize) -> Vec<Row> {
    for _ in 0..250 {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT model, success, attempt, prompt_tokens, completion_tokens, cached_tokens, \
             reasoning_tokens, cost_micros, error_class, CASE WHEN api_key_id IS NULL THEN 0 ELSE 1 END \
             FROM llm_calls WHERE source = 'gateway' ORDER BY created_at, attempt",
        )
        .fetch_all(app.store().pool())
        .await
        .unwrap();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} gateway calls recorded");
}

app_test!(the_gateway_passes_through_and_records_exactly, |app| {
    let key = setup(&app, false).await;
    let seen: Seen = Arc::default();
    let base = fake_upstream(seen.clone()).await;
    let ok = provider(&app, &key, "ok", &format!("{base}/ok")).await;
    let busy = provider(&app, &key, "busy", &format!("{base}/busy")).await;
    let cut = provider(&app, &key, "cut", &format!("{base}/cut")).await;
    let res = app
        .client
        .put(app.url("/api/v1/prices"))
        .bearer_auth(&key)
        .json(
            &json!({ "provider_kind": "openai_compatible", "model": "up-mini",
            "input_per_mtok_micros": 1_000_000, "output_per_mtok_micros": 4_000_000,
            "cached_input_per_mtok_micros": 500_000, "context_window": 128_000 }),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // Routes: validated; a 429 target first, then the one that answers.
    let (status, err) = put_route(&app, &key, json!({ "model": "team", "targets": [] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["field"], "targets");
    let (status, route) = put_route(
        &app,
        &key,
        json!({ "model": "team", "targets": [
            { "provider_id": busy, "model": "up-big" }, { "provider_id": ok, "model": "up-mini" }
        ] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{route}");
    let (status, _) = put_route(
        &app,
        &key,
        json!({ "model": "flaky", "targets": [{ "provider_id": cut, "model": "up-mini" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let routes = get(&app, &key, "/api/v1/gateway/routes").await;
    assert_eq!(routes["items"].as_array().unwrap().len(), 2);

    // Straight to the server: `/v1` is not part of the REST document the test proxy checks.
    let direct = format!("http://{}", app.server.as_ref().unwrap().addr);
    let chat = |body: Value, auth: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{direct}/v1/chat/completions"))
            .json(&body);
        if let Some(k) = auth {
            req = req.bearer_auth(k);
        }
        req.send()
    };
    let res = chat(json!({ "model": "team", "messages": [] }), None)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "authentication_error");
    let res = chat(json!({ "model": "nope", "messages": [] }), Some(&key))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "model_not_found"
    );

    // Streamed, usage not asked for: the client never sees the usage chunk.
    let messages = json!([{ "role": "user", "content": "Say hello" }]);
    let res = chat(
        json!({ "model": "team", "messages": messages, "stream": true, "seed": 7 }),
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = res.text().await.unwrap();
    assert!(
        body.contains("\"Hel\"") && body.contains("\"lo\"") && body.ends_with("data: [DONE]\n\n"),
        "{body}"
    );
    assert!(
        !body.contains("usage"),
        "the injected usage chunk is hidden: {body}"
    );
    {
        let seen = seen.lock().unwrap();
        let sent = seen.last().unwrap();
        assert_eq!(sent["model"], "up-mini", "only the model is mapped");
        assert_eq!(sent["seed"], 7, "unknown fields survive");
        assert_eq!(sent["stream_options"]["include_usage"], true);
    }

    // Streamed with usage asked for: it is passed on.
    let res = chat(
        json!({ "model": "team", "messages": messages, "stream": true,
                "stream_options": { "include_usage": true } }),
        Some(&key),
    )
    .await
    .unwrap();
    assert!(res.text().await.unwrap().contains("\"cached_tokens\":100"));

    // Not streamed: the upstream's body as it was (its vendor fields too); attributed to the
    // agent its header names.
    let res = app
        .client
        .post(format!("{direct}/v1/chat/completions"))
        .bearer_auth(&key)
        .header("x-fleetdeck-agent", "Reviewer")
        .json(&json!({ "model": "team", "messages": messages }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["x_vendor"], 1);
    assert_eq!(
        answer["model"], "up-mini",
        "the upstream's answer, not rewritten"
    );

    // A stream cut before [DONE].
    let res = chat(
        json!({ "model": "flaky", "messages": messages, "stream": true }),
        Some(&key),
    )
    .await
    .unwrap();
    assert!(res.text().await.unwrap().contains("Hal"));

    // Every attempt recorded: each 429 of the busy target, each answer with exact usage and
    // cost (20 fresh + 100 cached input, 30 output: 20 + 50 + 120 micro-USD).
    let rows = calls(&app, 7).await;
    assert_eq!(rows.len(), 7, "{rows:?}");
    let answered: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "up-mini" && r.1 == 1)
        .collect();
    assert_eq!(answered.len(), 3, "{rows:?}");
    for r in &answered {
        assert_eq!(
            (r.2, r.3, r.4, r.5, r.6, r.7, r.9),
            (2, 120, 30, 100, 12, 190, 1),
            "{r:?}"
        );
    }
    let limited = rows.iter().filter(|r| r.0 == "up-big").count();
    assert_eq!(limited, 3, "{rows:?}");
    assert!(
        rows.iter()
            .filter(|r| r.0 == "up-big")
            .all(|r| r.1 == 0 && r.8.as_deref() == Some("rate_limited"))
    );
    let (attributed,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM llm_calls c JOIN agents a ON a.id = c.agent_id \
         WHERE c.source = 'gateway' AND a.name = 'Reviewer' AND c.success = 1",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(
        attributed, 1,
        "the x-fleetdeck-agent header names the agent"
    );
    let cut_row = rows
        .iter()
        .find(|r| r.8.as_deref() == Some("stream_cut"))
        .expect("the cut stream");
    assert_eq!(cut_row.1, 0);

    // /v1/models lists the routes' names.
    let models: Value = app
        .client
        .get(format!("{direct}/v1/models"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["flaky", "team"]);
});

/// A local upstream speaking Anthropic's messages format: a stream whose `message_start`
/// carries an initial `output_tokens: 1` and whose final `message_delta` the real count.
async fn fake_anthropic(seen: Seen) -> String {
    use axum::routing::post;
    let handler = move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
        let seen = seen.clone();
        async move {
            let mut body = body;
            body["_version"] = json!(
                headers
                    .get("anthropic-version")
                    .and_then(|v| v.to_str().ok())
            );
            body["_key"] = json!(headers.get("x-api-key").and_then(|v| v.to_str().ok()));
            seen.lock().unwrap().push(body.clone());
            let usage = json!({ "input_tokens": 20, "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 5, "output_tokens": 1 });
            if body["stream"] == true {
                let events = [
                    (
                        "message_start",
                        json!({ "type": "message_start", "message": { "id": "m1", "usage": usage } }),
                    ),
                    (
                        "content_block_start",
                        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
                    ),
                    (
                        "content_block_delta",
                        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "Bonjour" } }),
                    ),
                    (
                        "content_block_stop",
                        json!({ "type": "content_block_stop", "index": 0 }),
                    ),
                    (
                        "message_delta",
                        json!({ "type": "message_delta", "delta": { "stop_reason": "end_turn" }, "usage": { "output_tokens": 30 } }),
                    ),
                    ("message_stop", json!({ "type": "message_stop" })),
                ];
                let out: String = events
                    .iter()
                    .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
                    .collect();
                ([("content-type", "text/event-stream")], out).into_response_parts_free()
            } else {
                let mut answer = json!({ "id": "m2", "type": "message", "content": [{ "type": "text", "text": "Bonjour" }], "usage": usage });
                answer["usage"]["output_tokens"] = json!(30);
                ([("content-type", "application/json")], answer.to_string())
                    .into_response_parts_free()
            }
        }
    };
    let app = axum::Router::new().route("/v1/messages", post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

app_test!(anthropic_messages_count_cache_and_the_final_output, |app| {
    let key = setup(&app, false).await;
    let seen: Seen = Arc::default();
    let base = fake_anthropic(seen.clone()).await;
    let (status, p) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Claude", "kind": "anthropic", "base_url": base, "api_key": "sk-ant-upstream" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let res = app
        .client
        .put(app.url("/api/v1/prices"))
        .bearer_auth(&key)
        .json(&json!({ "provider_kind": "anthropic", "model": "claude-up",
            "input_per_mtok_micros": 1_000_000, "output_per_mtok_micros": 4_000_000,
            "cached_input_per_mtok_micros": 500_000, "cache_write_per_mtok_micros": 2_000_000,
            "context_window": 200_000 }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (status, _) = put_route(
        &app,
        &key,
        json!({ "model": "claude", "targets": [{ "provider_id": p["id"], "model": "claude-up" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let direct = format!("http://{}", app.server.as_ref().unwrap().addr);
    let send = |body: Value| {
        app.client
            .post(format!("{direct}/v1/messages"))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
    };
    let messages = json!([{ "role": "user", "content": "Salut" }]);
    let res =
        send(json!({ "model": "claude", "max_tokens": 64, "messages": messages, "stream": true }))
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("event: message_delta") && text.contains("Bonjour"),
        "{text}"
    );
    let res = send(json!({ "model": "claude", "max_tokens": 64, "messages": messages }))
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["content"][0]["text"],
        "Bonjour"
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0]["model"], "claude-up");
        assert_eq!(seen[0]["_version"], "2023-06-01");
        assert_eq!(
            seen[0]["_key"], "sk-ant-upstream",
            "the provider's key, not the client's"
        );
    }
    // An unknown model answers in Anthropic's error format.
    let res = send(json!({ "model": "nope", "max_tokens": 8, "messages": messages }))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "error");

    // Both recorded alike: 20 fresh + 100 cache reads + 5 cache writes in, 30 out (the final
    // count, not message_start's 1); cost 20 + 50 + 10 (cache writes at $2/M) + 120 micro-USD.
    let rows = calls(&app, 2).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        assert_eq!((r.1, r.3, r.4, r.5, r.7), (1, 125, 30, 100, 200), "{r:?}");
    }
    let (writes,): (i64,) = sqlx::query_as(
        "SELECT CAST(SUM(cache_write_tokens) AS BIGINT) FROM llm_calls WHERE source = 'gateway'",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(writes, 10, "5 cache-write tokens per call");
});
