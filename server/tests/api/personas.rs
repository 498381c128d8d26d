//! Personas: created, listed, changed, activated (one at a time) and deleted over
//! `/api/v1/agents/{id}/personas` and `/api/v1/personas/{id}`; the active one joins the system
//! prompt of the agent's steps and its preview; one is tried without being activated; roles
//! before bodies, bad fields named, a taken name a conflict, every change audited.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

async fn send(
    app: &crate::helpers::TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The system prompt a finished task's first step ran with.
async fn step_prompt(app: &crate::helpers::TestApp, key: &str, id: &str) -> String {
    let records = get(app, key, &format!("/api/v1/tasks/{id}/records")).await;
    records["runs"][0]["system_prompt"]
        .as_str()
        .unwrap()
        .to_owned()
}

app_test!(personas_are_managed_activated_and_tried, |app| {
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "persona-viewer@example.com", MemberRole::Viewer).await;
    let reviewer = agent_by_role(&app, &key, "REVIEWER").await;
    let list_path = format!("/api/v1/agents/{reviewer}/personas");

    // Roles before bodies; fields named; an unknown agent is a 404.
    let res = app
        .client
        .post(app.url(&list_path))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({ "name": "", "prompt": "x" }), "name"),
        (json!({ "name": "Strict", "prompt": "  " }), "prompt"),
        (
            json!({ "name": "Strict", "prompt": "x", "temperature": 2.5 }),
            "temperature",
        ),
    ] {
        let (status, err) = post(&app, &key, &list_path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["details"]["field"], field, "{err}");
    }
    let (status, _) = post(
        &app,
        &key,
        "/api/v1/agents/nope/personas",
        json!({ "name": "Strict", "prompt": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Two personas; the first is active at once, the second not.
    let (status, strict) = post(
        &app,
        &key,
        &list_path,
        json!({ "name": "Strict", "description": "For release branches",
                "prompt": "Block the change on any missing test.", "temperature": 0.1,
                "activate": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{strict}");
    assert_eq!(strict["is_active"], true);
    assert_eq!(strict["created_by"], "dev@example.com");
    let (status, mentor) = post(
        &app,
        &key,
        &list_path,
        json!({ "name": "Mentor", "prompt": "Explain each finding kindly, with an example." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{mentor}");
    assert_eq!(mentor["is_active"], false);
    assert_eq!(mentor["temperature"], Value::Null);
    let (status, _) = post(
        &app,
        &key,
        &list_path,
        json!({ "name": "Mentor", "prompt": "again" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a taken name");
    let (strict_id, mentor_id) = (
        strict["id"].as_str().unwrap().to_owned(),
        mentor["id"].as_str().unwrap().to_owned(),
    );

    // Everyone reads; the active one comes first, and the agent names it.
    let list = get(&app, &viewer, &list_path).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Strict", "Mentor"]);
    let agent = get(&app, &key, &format!("/api/v1/agents/{reviewer}")).await;
    assert_eq!(agent["active_persona"], "Strict");
    let agents = get(&app, &key, "/api/v1/agents").await;
    let listed = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == reviewer.as_str())
        .unwrap();
    assert_eq!(listed["active_persona"], "Strict");
    let preview = get(
        &app,
        &key,
        &format!("/api/v1/agents/{reviewer}/prompt-preview?task=Review%20it"),
    )
    .await;
    assert!(
        preview["system_prompt"]
            .as_str()
            .unwrap()
            .contains("Persona (Strict):\nBlock the change on any missing test."),
        "{preview}"
    );

    // A task's step runs with the active persona, and records it.
    let (status, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Review the signup form", "workflow": "custom", "steps": ["REVIEWER"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let tid = task["id"].as_str().unwrap();
    assert_eq!(wait_finished(&app, &key, tid).await["status"], "completed");
    assert!(
        step_prompt(&app, &key, tid)
            .await
            .contains("Persona (Strict)")
    );

    // Mentor is tried without being activated: its run says so; Strict stays active.
    let (status, run) = post(
        &app,
        &key,
        &format!("/api/v1/personas/{mentor_id}/test"),
        json!({ "input": "Review the login handler", "overrides": { "model": "sim-fast" } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    let rid = run["id"].as_str().unwrap();
    assert_eq!(wait_finished(&app, &key, rid).await["status"], "completed");
    let summary = get(&app, &key, &format!("/api/v1/runs/{rid}")).await;
    assert_eq!(summary["persona"], "Mentor", "{summary}");
    assert_eq!(summary["overrides"]["persona_id"], mentor_id.as_str());
    assert_eq!(summary["model"], "sim-fast");
    let prompt = step_prompt(&app, &key, rid).await;
    assert!(prompt.contains("Persona (Mentor)") && !prompt.contains("Persona (Strict)"));
    assert_eq!(
        get(&app, &key, &format!("/api/v1/personas/{strict_id}")).await["is_active"],
        true
    );
    // A persona of another agent is no override of this one.
    let builder = agent_by_role(&app, &key, "BUILDER").await;
    let (status, err) = post(
        &app,
        &key,
        "/api/v1/runs",
        json!({ "agent_id": builder, "input": "x", "overrides": { "persona_id": mentor_id } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["details"]["field"], "overrides.persona_id");

    // Changed: absent fields keep, a null temperature returns to the agent's.
    let (status, changed) = send(
        &app,
        &key,
        reqwest::Method::PATCH,
        &format!("/api/v1/personas/{strict_id}"),
        Some(json!({ "name": "Gatekeeper", "temperature": null })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Gatekeeper");
    assert_eq!(changed["temperature"], Value::Null);
    assert_eq!(changed["prompt"], "Block the change on any missing test.");
    let (status, _) = send(
        &app,
        &key,
        reqwest::Method::PATCH,
        &format!("/api/v1/personas/{strict_id}"),
        Some(json!({ "name": "Mentor" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Activating Mentor deactivates Gatekeeper; deactivating leaves none.
    let (status, on) = post(
        &app,
        &key,
        &format!("/api/v1/personas/{mentor_id}/activate"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    let list = get(&app, &key, &list_path).await;
    let active: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["is_active"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(active, ["Mentor"]);
    let (status, _) = post(
        &app,
        &key,
        &format!("/api/v1/personas/{mentor_id}/deactivate"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let agent = get(&app, &key, &format!("/api/v1/agents/{reviewer}")).await;
    assert_eq!(agent["active_persona"], Value::Null);

    // Deleted; the run that used it keeps its name.
    let (status, _) = send(
        &app,
        &viewer,
        reqwest::Method::DELETE,
        &format!("/api/v1/personas/{mentor_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &app,
        &key,
        reqwest::Method::DELETE,
        &format!("/api/v1/personas/{mentor_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/personas/{mentor_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &key, &format!("/api/v1/runs/{rid}")).await["persona"],
        "Mentor"
    );

    // Every change is in the audit log.
    let audit = get(&app, &key, "/api/v1/audit?limit=100").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "persona.create",
        "persona.update",
        "persona.activate",
        "persona.deactivate",
        "persona.delete",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
});
