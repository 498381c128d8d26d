//! Tasks over HTTP, SSE and WebSocket: submit a workflow on the simulator, watch it live, resume
//! streams without gaps, estimate, cancel, re-run, credits and permissions.

use std::time::Duration;

use engine::domain::MemberRole;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::app_test;
use crate::helpers::{TestApp, default_ws, member_with_key};

pub(crate) const COMPLEX: &str = "Add rate limiting to the public API across all endpoints, with per-key \
     quotas stored in the database and a security review";

/// An admin key, with the simulator switched to zero latency unless `slow`.
pub(crate) async fn setup(app: &TestApp, slow: bool) -> String {
    let ws = default_ws(app).await;
    let (_, key) = member_with_key(app, &ws, "dev@example.com", MemberRole::Admin).await;
    let url = if slow {
        "sim://local?token_delay_ms=40&ttft_ms=100"
    } else {
        "sim://local?token_delay_ms=0&ttft_ms=0"
    };
    set_simulator(app, &key, url).await;
    key
}

/// Points the simulator provider at `url` (its options: latency, failures…); returns its id.
pub(crate) async fn set_simulator(app: &TestApp, key: &str, url: &str) -> String {
    let providers: Value = get(app, key, "/api/v1/providers").await;
    let sim = providers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "simulator")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/providers/{sim}")))
        .bearer_auth(key)
        .json(&json!({ "base_url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    sim
}

pub(crate) async fn get(app: &TestApp, key: &str, path: &str) -> Value {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// The id of the workspace's first agent with `role` (the seeded ones have one each).
pub(crate) async fn agent_by_role(app: &TestApp, key: &str, role: &str) -> String {
    let agents = get(app, key, "/api/v1/agents").await;
    agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == role)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn wait_finished(app: &TestApp, key: &str, id: &str) -> Value {
    for _ in 0..600 {
        let task = get(app, key, &format!("/api/v1/tasks/{id}")).await;
        if ["completed", "failed", "cancelled"].contains(&task["status"].as_str().unwrap()) {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {id} did not finish");
}

/// Parses an SSE body into (id, event, data) triples.
fn parse_sse(body: &str) -> Vec<(i64, String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(v).ok();
                }
            }
            Some((id?, event?, data?))
        })
        .collect()
}

app_test!(a_feature_task_runs_five_agents_with_exact_costs, |app| {
    let key = setup(&app, false).await;
    let me: Value = get(&app, &key, "/api/auth/session").await;
    let credits_before = me["credits"].as_i64().unwrap();
    let (status, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": COMPLEX, "workflow": "feature_implementation" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "queued");
    let id = task["id"].as_str().unwrap().to_owned();

    let done = wait_finished(&app, &key, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let steps = done["steps"].as_array().unwrap();
    let roles: Vec<&str> = steps.iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"]
    );
    for s in steps {
        assert_eq!(s["status"], "completed");
        assert!(s["prompt_tokens"].as_i64().unwrap() > 0);
        assert!(s["completion_tokens"].as_i64().unwrap() > 0);
        assert!(s["cost_micros"].as_i64().unwrap() > 0);
    }
    let step_sum: i64 = steps
        .iter()
        .map(|s| s["cost_micros"].as_i64().unwrap())
        .sum();
    assert_eq!(done["cost_micros"].as_i64().unwrap(), step_sum);
    // The task's cost is exactly the sum of its recorded calls.
    let (calls_sum, calls): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), COUNT(*) FROM llm_calls WHERE task_id = $1",
    )
    .bind(&id)
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(calls_sum, step_sum);
    assert!(calls >= 5);

    let me: Value = get(&app, &key, "/api/auth/session").await;
    assert_eq!(me["credits"].as_i64().unwrap(), credits_before - 1);

    // The builder wrote files inside the task directory, with diffs recorded.
    let records = get(&app, &key, &format!("/api/v1/tasks/{id}/records")).await;
    let changes = records["file_changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["change_kind"] == "created"
        && c["path"].as_str().unwrap().starts_with("src/")
        && c["after_content"].as_str().unwrap().contains("pub fn")));
    assert!(records["tool_calls"].as_array().unwrap().len() >= 3);
    assert!(records["runs"][2]["messages"].as_array().unwrap().len() >= 3);
    // Every changed file carries its line diff; the diff of a created file is all additions.
    let created = changes
        .iter()
        .find(|c| c["change_kind"] == "created")
        .unwrap();
    let diff = created["diff"].as_array().unwrap();
    assert!(!diff.is_empty() && diff.iter().all(|l| l["op"] == "+"));

    // SSE replays everything from the start and ends after the terminal event.
    let body = app
        .client
        .post(app.url(&format!("/api/v1/tasks/{id}/stream")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = parse_sse(&body);
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"task_created"));
    assert_eq!(kinds.last(), Some(&"task_completed"));
    for kind in [
        "task_status",
        "step_started",
        "token",
        "tool_call",
        "file_change",
        "step_completed",
        "cost_update",
    ] {
        assert!(kinds.contains(&kind), "missing {kind}: {kinds:?}");
    }
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.0, i as i64 + 1, "seq without gaps");
    }
    // Resuming with Last-Event-ID gives exactly the rest.
    let resumed = app
        .client
        .post(app.url(&format!("/api/v1/tasks/{id}/stream")))
        .bearer_auth(&key)
        .header("Last-Event-ID", "10")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rest = parse_sse(&resumed);
    assert_eq!(rest.first().unwrap().0, 11);
    assert_eq!(rest.len(), events.len() - 10);
});

app_test!(the_websocket_streams_live_and_resumes_without_gaps, |app| {
    let key = setup(&app, true).await;
    let ws_url = app.ws_url("/ws");
    let connect = || async {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                ws_url.as_str(),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
        tokio_tungstenite::connect_async(request).await.unwrap().0
    };
    let (status, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Fix the typo in the README", "workflow": "code_review", "force_analyst": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = task["id"].as_str().unwrap().to_owned();
    let topic = format!("task:{id}");

    // First connection: read a few events, then drop it mid-task.
    let mut socket = connect().await;
    socket
        .send(Message::text(
            json!({"type": "subscribe", "topics": [topic], "since": 0}).to_string(),
        ))
        .await
        .unwrap();
    let mut seen: Vec<i64> = Vec::new();
    while seen.len() < 4 {
        let msg = socket.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["type"] == "event" {
            assert_eq!(v["topic"], topic);
            seen.push(v["seq"].as_i64().unwrap());
        }
    }
    drop(socket);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Reconnect from the last seen seq: no gap, no duplicate, through the terminal event.
    let mut socket = connect().await;
    let last = *seen.last().unwrap();
    socket
        .send(Message::text(
            json!({"type": "subscribe", "topics": [topic], "since": last}).to_string(),
        ))
        .await
        .unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("events keep coming")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["type"] != "event" {
            continue;
        }
        seen.push(v["seq"].as_i64().unwrap());
        if v["kind"] == "task_completed" {
            break;
        }
    }
    let expected: Vec<i64> = (1..=seen.len() as i64).collect();
    assert_eq!(seen, expected);

    // Unknown topics are refused with a clear message.
    socket
        .send(Message::text(
            json!({"type": "subscribe", "topics": ["secrets"]}).to_string(),
        ))
        .await
        .unwrap();
    loop {
        let msg = socket.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["type"] == "error" {
            assert!(v["message"].as_str().unwrap().contains("unknown topic"));
            break;
        }
    }
});

app_test!(estimates_skip_the_analyst_for_simple_tasks, |app| {
    let key = setup(&app, false).await;
    let (status, simple) = post(
        &app,
        &key,
        "/api/v1/tasks/estimate",
        json!({ "description": "Fix the typo in the README" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(simple["complexity"], "simple");
    assert_eq!(simple["message"], "Simple task — skipping ANALYST");
    assert_eq!(simple["steps"].as_array().unwrap().len(), 4);
    assert!(simple["estimated_cost_micros"].as_i64().unwrap() > 0);
    let (_, forced) = post(
        &app,
        &key,
        "/api/v1/tasks/estimate",
        json!({ "description": "Fix the typo in the README", "force_analyst": true }),
    )
    .await;
    assert_eq!(forced["steps"][0]["role"], "ANALYST");
    let (_, complex) = post(
        &app,
        &key,
        "/api/v1/tasks/estimate",
        json!({ "description": COMPLEX }),
    )
    .await;
    assert_eq!(complex["complexity"], "complex");
    assert_eq!(complex["steps"].as_array().unwrap().len(), 5);

    for bad in [
        json!({ "description": "" }),
        json!({ "description": "x", "workflow": "nope" }),
        json!({ "description": "x", "workflow": "custom" }),
        json!({ "description": "x", "workflow": "custom", "steps": ["not a role!"] }),
    ] {
        let (status, body) = post(&app, &key, "/api/v1/tasks", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["message"].is_string());
    }
    let tasks = get(&app, &key, "/api/v1/tasks").await;
    assert_eq!(tasks["items"], json!([]), "bad input changes nothing");
    let (status, _) = post(&app, &key, "/api/v1/tasks?status=bogus", json!({})).await;
    assert!(status.is_client_error());
});

app_test!(tasks_can_be_cancelled_rerun_and_deleted, |app| {
    let key = setup(&app, true).await;
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": COMPLEX }),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_owned();
    // Wait until it is running, then cancel.
    for _ in 0..100 {
        if get(&app, &key, &format!("/api/v1/tasks/{id}")).await["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, cancelled) =
        post(&app, &key, &format!("/api/v1/tasks/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (status, _) = post(&app, &key, &format!("/api/v1/tasks/{id}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls_after_cancel: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE task_id = $1")
            .bind(&id)
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let calls_later: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE task_id = $1")
        .bind(&id)
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(calls_after_cancel, calls_later, "no calls after cancel");
    assert_eq!(
        get(&app, &key, &format!("/api/v1/tasks/{id}")).await["status"],
        "cancelled"
    );

    let (status, again) = post(&app, &key, &format!("/api/v1/tasks/{id}/rerun"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["rerun_of"], id.as_str());
    assert_eq!(again["description"], COMPLEX);

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/tasks/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .client
        .get(app.url(&format!("/api/v1/tasks/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});

app_test!(
    viewers_cannot_submit_and_empty_balances_pay_nothing,
    |app| {
        let ws = default_ws(&app).await;
        let (_, viewer) =
            member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
        let (status, _) = post(
            &app,
            &viewer,
            "/api/v1/tasks",
            json!({ "description": "x" }),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (dev_id, dev) =
            member_with_key(&app, &ws, "d@example.com", MemberRole::Developer).await;
        sqlx::query("UPDATE users SET credits = 0 WHERE id = $1")
            .bind(&dev_id)
            .execute(app.store().pool())
            .await
            .unwrap();
        let (status, body) = post(
            &app,
            &dev,
            "/api/v1/tasks",
            json!({ "description": "Fix a typo" }),
        )
        .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
        let tasks = get(&app, &dev, "/api/v1/tasks").await;
        assert_eq!(tasks["items"], json!([]));
    }
);

app_test!(agents_are_managed_over_rest_with_a_prompt_preview, |app| {
    let key = setup(&app, false).await;
    let (status, agent) = post(
        &app,
        &key,
        "/api/v1/agents",
        json!({ "name": "Security reviewer", "role": "reviewer", "custom_instructions": "Focus on OWASP top 10." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    let id = agent["id"].as_str().unwrap();
    let preview = get(
        &app,
        &key,
        &format!("/api/v1/agents/{id}/prompt-preview?task=Add%20login"),
    )
    .await;
    let system = preview["system_prompt"].as_str().unwrap();
    assert!(system.starts_with("You are the REVIEWER"));
    assert!(system.ends_with("Focus on OWASP top 10."));
    assert!(
        preview["user_message"]
            .as_str()
            .unwrap()
            .contains("Add login")
    );
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/agents/{id}")))
        .bearer_auth(&key)
        .json(&json!({ "temperature": 0.2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["temperature"], 0.2);
    assert_eq!(updated["name"], "Security reviewer");
    let (status, dup) = post(
        &app,
        &key,
        "/api/v1/agents",
        json!({ "name": "Security reviewer", "role": "reviewer" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");
    let (status, _) = post(
        &app,
        &key,
        "/api/v1/agents",
        json!({ "name": "x", "role": "reviewer", "temperature": 9 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/agents/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
});

app_test!(
    test_connection_reports_success_and_failure_without_leaking_the_key,
    |app| {
        let key = setup(&app, false).await;
        let providers: Value = get(&app, &key, "/api/v1/providers").await;
        let sim = providers["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, check) = post(
            &app,
            &key,
            &format!("/api/v1/providers/{sim}/test"),
            json!({}),
        )
        .await;
        assert_eq!(status, 200, "{check}");
        assert_eq!(check["ok"], true);
        assert_eq!(check["model"], "sim-fast");
        // A real kind pointed at a closed local port fails clearly and never echoes the key.
        let (status, created) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Local vLLM", "kind": "openai_compatible", "base_url": "http://127.0.0.1:9", "api_key": "sk-never-shown-5678" }),
    )
    .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap();
        let (status, check) = post(
            &app,
            &key,
            &format!("/api/v1/providers/{id}/test"),
            json!({ "model": "llama3" }),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(check["ok"], false);
        assert_eq!(check["error_class"], "connection");
        assert!(!check.to_string().contains("sk-never-shown"));
        let (status, _) = post(
            &app,
            &key,
            &format!("/api/v1/providers/{id}/test"),
            json!({ "bogus": 1 }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let ws = default_ws(&app).await;
        let (_, dev) = member_with_key(&app, &ws, "dev2@example.com", MemberRole::Developer).await;
        let (status, _) = post(
            &app,
            &dev,
            &format!("/api/v1/providers/{id}/test"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

/// A local OpenAI-compatible server that streams a short answer with usage to every call.
async fn fake_openai_compatible() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                assert_eq!(headers["authorization"], "Bearer sk-local-abcd");
                let body = "data: {\"choices\":[{\"delta\":{\"content\":\"Done: \"}}]}\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"reviewed.\"}}]}\n\n\
                    data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}\n\n\
                    data: [DONE]\n\n";
                ([("content-type", "text/event-stream")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), calls)
}

app_test!(
    agents_run_on_an_openai_compatible_server_by_configuration_alone,
    |app| {
        let key = setup(&app, false).await;
        let (base, calls) = fake_openai_compatible().await;
        let (status, provider) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Local vLLM", "kind": "openai_compatible", "base_url": base, "api_key": "sk-local-abcd" }),
    )
    .await;
        assert_eq!(status, StatusCode::CREATED, "{provider}");
        // A price for the model, so the cost is exact: $1 per 1M prompt, $2 per 1M completion tokens.
        let res = app
        .client
        .put(app.url("/api/v1/prices"))
        .bearer_auth(&key)
        .json(&json!({
            "provider_kind": "openai_compatible", "model": "llama3", "input_per_mtok_micros": 1_000_000,
            "output_per_mtok_micros": 2_000_000, "cached_input_per_mtok_micros": 500_000, "context_window": 8192,
        }))
        .send()
        .await
        .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        let agents: Value = get(&app, &key, "/api/v1/agents").await;
        for agent in agents["items"].as_array().unwrap() {
            if ["ANALYST", "REVIEWER"].contains(&agent["role"].as_str().unwrap()) {
                let res = app
                    .client
                    .patch(app.url(&format!("/api/v1/agents/{}", agent["id"].as_str().unwrap())))
                    .bearer_auth(&key)
                    .json(&json!({ "provider_id": provider["id"], "model": "llama3" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        }
        let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Review the login flow", "workflow": "code_review", "force_analyst": true }),
    )
    .await;
        let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        for step in done["steps"].as_array().unwrap() {
            assert_eq!(step["provider_kind"], "openai_compatible");
            assert_eq!(step["prompt_tokens"], 1000);
            assert_eq!(step["completion_tokens"], 100);
            // 1000 × $1/M + 100 × $2/M = $0.0012 = 1,200 micro-USD.
            assert_eq!(step["cost_micros"], 1200);
            assert_eq!(step["output"], "Done: reviewed.");
        }
        assert_eq!(done["cost_micros"], 2400);
    }
);
