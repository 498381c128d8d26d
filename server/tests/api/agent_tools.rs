//! Agents choose their tools (SPEC F-02): all three file tools by default; an unknown one is a
//! 422 naming `tools`; an agent offered none runs its step without any tool call and its
//! prompt (and preview) says nothing of files.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

app_test!(agents_choose_their_tools, |app| {
    let key = setup(&app, false).await;
    let builder = agent_by_role(&app, &key, "BUILDER").await;
    let path = format!("/api/v1/agents/{builder}");
    let agent = get(&app, &key, &path).await;
    assert_eq!(
        agent["tools"],
        json!(["list_files", "read_file", "write_file"])
    );
    let patch = |body: Value| {
        let (app, key, path) = (&app, &key, &path);
        async move {
            let res = app
                .client
                .patch(app.url(path))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, err) = patch(json!({ "tools": ["read_file", "shell"] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["field"], "tools");
    assert_eq!(
        get(&app, &key, &path).await["tools"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "nothing changed"
    );
    // Stored in one order whatever the order sent.
    let (status, agent) = patch(json!({ "tools": ["read_file", "list_files"] })).await;
    assert_eq!(status, StatusCode::OK, "{agent}");
    assert_eq!(agent["tools"], json!(["list_files", "read_file"]));

    // None: the step makes no tool call and its prompt speaks of no files.
    let (status, _) = patch(json!({ "tools": [] })).await;
    assert_eq!(status, StatusCode::OK);
    let preview = get(
        &app,
        &key,
        &format!("{path}/prompt-preview?task=Add%20a%20flag"),
    )
    .await;
    assert!(
        !preview["system_prompt"]
            .as_str()
            .unwrap()
            .contains("task's own directory")
    );
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Add a --verbose flag", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    assert_eq!(wait_finished(&app, &key, id).await["status"], "completed");
    let records = get(&app, &key, &format!("/api/v1/tasks/{id}/records")).await;
    assert_eq!(records["tool_calls"], json!([]), "{records}");
    assert!(
        !records["runs"][0]["system_prompt"]
            .as_str()
            .unwrap()
            .contains("task's own directory")
    );

    // With them back, the simulated builder writes its files again.
    let (status, _) = patch(json!({ "tools": ["list_files", "read_file", "write_file"] })).await;
    assert_eq!(status, StatusCode::OK);
    let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Add a --quiet flag", "workflow": "custom", "steps": ["BUILDER"] }),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    assert_eq!(wait_finished(&app, &key, id).await["status"], "completed");
    let records = get(&app, &key, &format!("/api/v1/tasks/{id}/records")).await;
    assert!(!records["tool_calls"].as_array().unwrap().is_empty());
});
