//! Honest provenance and prices over HTTP: a failing real provider never becomes simulated text
//! under its name; a fallback that answers is named, with why, in the API, the page and the
//! Markdown export; a model with no price is "price unknown", never $0.00.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::identity::sign_in;
use crate::tasks::{get, post, setup, wait_finished};

/// A local OpenAI-compatible server that refuses every key with 401.
async fn fake_unauthorized() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                [("content-type", "application/json")],
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

async fn patch(app: &crate::helpers::TestApp, key: &str, path: &str, body: Value) -> Value {
    let res = app
        .client
        .patch(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// A task's Markdown export.
async fn markdown(app: &crate::helpers::TestApp, key: &str, id: &str) -> String {
    app.client
        .get(app.url(&format!("/api/v1/tasks/{id}/conversation.md")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A task's page as the signed-in admin of `setup` sees it.
async fn task_page(app: &crate::helpers::TestApp, id: &str) -> String {
    let cookie = sign_in(app, "dev@example.com").await;
    app.client
        .get(app.url(&format!("/tasks/{id}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn agent_id(agents: &Value, role: &str) -> String {
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

app_test!(a_failing_provider_fails_or_falls_back_by_name, |app| {
    let key = setup(&app, false).await;
    let base = fake_unauthorized().await;
    let (status, provider) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Local", "kind": "openai_compatible", "base_url": base, "api_key": "sk-wrong-0000" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{provider}");
    let providers = get(&app, &key, "/api/v1/providers").await;
    let sim = providers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "simulator")
        .unwrap()["id"]
        .clone();
    let builder = agent_id(&get(&app, &key, "/api/v1/agents").await, "BUILDER");
    patch(
        &app,
        &key,
        &format!("/api/v1/agents/{builder}"),
        json!({ "provider_id": provider["id"], "model": "gpt-4o-mini" }),
    )
    .await;
    let submit = json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] });

    // No fallback configured: the step fails with the provider's error. No simulated text.
    let (_, task) = post(&app, &key, "/api/v1/tasks", submit.clone()).await;
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    let step = &done["steps"][0];
    assert_eq!(step["provider_kind"], "openai_compatible");
    assert_eq!(step["simulated"], false);
    assert_eq!(step["output"], "");
    assert!(
        step["error"].as_str().unwrap().contains("HTTP 401"),
        "{step}"
    );
    let (calls, auth_failures): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN error_class = 'auth' AND provider_kind = 'openai_compatible' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM llm_calls WHERE task_id = $1",
    )
    .bind(task["id"].as_str().unwrap())
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(
        (calls, auth_failures),
        (1, 1),
        "one attempt, not retried, recorded"
    );

    // An explicit fallback: the step completes, labelled with the fallback that answered.
    let agent = patch(
        &app,
        &key,
        &format!("/api/v1/agents/{builder}"),
        json!({ "fallbacks": [{ "provider_id": sim, "model": "sim-fast" }] }),
    )
    .await;
    assert_eq!(agent["fallbacks"][0]["model"], "sim-fast", "{agent}");
    let (_, task) = post(&app, &key, "/api/v1/tasks", submit).await;
    let id = task["id"].as_str().unwrap().to_owned();
    let done = wait_finished(&app, &key, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let step = &done["steps"][0];
    assert_eq!(step["provider_kind"], "simulator");
    assert_eq!(step["model"], "sim-fast");
    assert_eq!(step["simulated"], true);
    let note = step["fallback_note"].as_str().unwrap();
    assert!(
        note.starts_with("openai_compatible/gpt-4o-mini: auth (HTTP 401")
            && note.ends_with("→ fell back to simulator/sim-fast"),
        "{note}"
    );

    // The Markdown export says which provider answered, that it is simulated, and why.
    let md = markdown(&app, &key, &id).await;
    assert!(md.contains("answered by simulator/sim-fast"), "{md}");
    assert!(md.contains("**Simulated**"), "{md}");
    assert!(
        md.contains("> Fallback: openai_compatible/gpt-4o-mini: auth (HTTP 401"),
        "{md}"
    );

    // And so does the page.
    let page = task_page(&app, &id).await;
    assert!(
        page.contains("Fallback: openai_compatible/gpt-4o-mini: auth (HTTP 401"),
        "{page}"
    );
    assert!(page.contains("simulator · sim-fast"), "{page}");

    // Fallbacks must name providers of the workspace.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/agents/{builder}")))
        .bearer_auth(&key)
        .json(&json!({ "fallbacks": [{ "provider_id": "no-such-provider", "model": "x" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
});

app_test!(an_agent_whose_provider_was_deleted_fails_clearly, |app| {
    let key = setup(&app, false).await;
    let (_, provider) = post(
        &app,
        &key,
        "/api/v1/providers",
        json!({ "name": "Doomed", "kind": "simulator" }),
    )
    .await;
    let builder = agent_id(&get(&app, &key, "/api/v1/agents").await, "BUILDER");
    patch(
        &app,
        &key,
        &format!("/api/v1/agents/{builder}"),
        json!({ "provider_id": provider["id"] }),
    )
    .await;
    let res = app
        .client
        .delete(app.url(&format!(
            "/api/v1/providers/{}",
            provider["id"].as_str().unwrap()
        )))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().contains("was deleted"),
        "{done}"
    );
    let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE task_id = $1")
        .bind(task["id"].as_str().unwrap())
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(calls, 0, "nothing ran in its place");
    // Choosing a provider again (here: the workspace default) makes it usable.
    patch(
        &app,
        &key,
        &format!("/api/v1/agents/{builder}"),
        json!({ "provider_id": "" }),
    )
    .await;
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
});

app_test!(a_model_without_a_price_is_price_unknown, |app| {
    let key = setup(&app, false).await;
    let builder = agent_id(&get(&app, &key, "/api/v1/agents").await, "BUILDER");
    // The simulator answers any model name; this one is not in the price table.
    patch(
        &app,
        &key,
        &format!("/api/v1/agents/{builder}"),
        json!({ "model": "sim-unpriced" }),
    )
    .await;
    let (_, estimate) = post(
        &app,
        &key,
        "/api/v1/tasks/estimate",
        json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    assert_eq!(estimate["price_known"], false, "{estimate}");
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Add input validation", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let done = wait_finished(&app, &key, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["price_known"], false);
    assert_eq!(done["steps"][0]["price_known"], false);
    assert!(done["unpriced_calls"].as_i64().unwrap() >= 1);
    let (unpriced,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(unpriced_calls), 0) AS BIGINT) FROM call_rollups_hourly WHERE model = 'sim-unpriced'",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(
        unpriced,
        done["unpriced_calls"].as_i64().unwrap(),
        "rollups count them apart"
    );
    let md = markdown(&app, &key, &id).await;
    assert!(
        md.contains("- Cost: price unknown (some calls used a model with no price)"),
        "{md}"
    );
    let page = task_page(&app, &id).await;
    assert!(page.contains("price unknown"), "{page}");
    if let Some(at) = page.find("$0.00") {
        let context: String = page[at.saturating_sub(300)..].chars().take(400).collect();
        panic!("an unpriced task is never shown as free: …{context}…");
    }
});
