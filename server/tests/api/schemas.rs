//! Agents' input and output JSON Schemas over HTTP: a schema is checked when saved; input that
//! breaks an agent's input schema is refused before any credit is taken; an answer that breaks
//! the output schema fails its step naming the JSON path and the rule; in JSON mode the
//! simulator answers an instance of the schema.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

/// A local OpenAI-compatible server that streams whatever `answer` holds, with usage.
async fn fake_json_model(answer: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || {
            let text = answer.lock().unwrap().clone();
            async move {
                let delta = json!({ "choices": [{ "delta": { "content": text } }] });
                let usage = json!({ "choices": [], "usage": { "prompt_tokens": 50, "completion_tokens": 10 } });
                let body = format!("data: {delta}\n\ndata: {usage}\n\ndata: [DONE]\n\n");
                ([("content-type", "text/event-stream")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

app_test!(schemas_check_inputs_before_and_outputs_after, |app| {
    let key = setup(&app, false).await;
    let answer = std::sync::Arc::new(std::sync::Mutex::new(r#"{"verdict": 5}"#.to_owned()));
    let base = fake_json_model(answer.clone()).await;
    let (status, provider) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Local JSON", "kind": "openai_compatible", "base_url": base, "api_key": "sk-json-local" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{provider}");
    let builder = agent_by_role(&app, &key, "BUILDER").await;
    let patch = |body: Value| {
        let (app, key, builder) = (&app, &key, &builder);
        async move {
            let res = app
                .client
                .patch(app.url(&format!("/api/v1/agents/{builder}")))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };

    // A schema that is not one: 422 naming the field, nothing stored.
    let (status, body) = patch(json!({ "output_schema": { "type": 5 } })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"]["field"], "output_schema", "{body}");

    let verdict = json!({
        "type": "object", "required": ["verdict"],
        "properties": { "verdict": { "type": "string" } }
    });
    let (status, agent) = patch(json!({
        "provider_id": provider["id"], "model": "json-model", "output_schema": verdict
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{agent}");
    assert_eq!(agent["output_schema"], verdict);

    // An answer that breaks the schema fails the step, naming the path and the rule.
    let submit =
        json!({ "description": "Review the release", "workflow": "custom", "steps": ["BUILDER"] });
    let (_, task) = post(&app, &key, "/api/v1/tasks", submit.clone()).await;
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["steps"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("output schema")
            && error.contains("at /verdict")
            && error.contains("\"string\""),
        "{error}"
    );

    // One that keeps it (in a fenced block, as models write it) completes.
    *answer.lock().unwrap() = "```json\n{\"verdict\": \"ship\"}\n```".to_owned();
    let (_, task) = post(&app, &key, "/api/v1/tasks", submit).await;
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");

    // An input schema: input that breaks it is refused up front (422), no credit taken.
    let (status, _) = patch(json!({
        "input_schema": { "type": "object", "required": ["repo"] }
    }))
    .await;
    assert_eq!(status, StatusCode::OK);
    let credits = get(&app, &key, "/api/auth/session").await["credits"].clone();
    let (status, body) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "{\"branch\": \"main\"}", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"]["field"], "description");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Builder's input schema"),
        "{body}"
    );
    assert_eq!(
        get(&app, &key, "/api/auth/session").await["credits"],
        credits
    );
    let (status, _) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "{\"repo\": \"fleetdeck\"}", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // `null` removes a schema.
    let (_, agent) = patch(json!({ "input_schema": null })).await;
    assert_eq!(agent["input_schema"], Value::Null);
    assert_eq!(agent["output_schema"], verdict, "the other one stays");

    // JSON mode offline: a simulated agent with an output schema answers an instance of it.
    let reviewer = agent_by_role(&app, &key, "REVIEWER").await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/agents/{reviewer}")))
        .bearer_auth(&key)
        .json(&json!({ "output_schema": {
            "type": "object", "required": ["verdict", "issues"],
            "properties": { "verdict": { "enum": ["ship", "block"] },
                            "issues": { "type": "array", "items": { "type": "string" } } }
        } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, run) = post(
        &app,
        &key,
        "/api/v1/runs",
        json!({ "agent_id": reviewer, "input": "Review the release" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let id = run["id"].as_str().unwrap();
    assert_eq!(wait_finished(&app, &key, id).await["status"], "completed");
    let summary = get(&app, &key, &format!("/api/v1/runs/{id}")).await;
    assert_eq!(summary["provider_kind"], "simulator");
    let output: Value = serde_json::from_str(summary["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["verdict"], "ship", "{output}");
});
