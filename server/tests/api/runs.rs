//! `/api/v1/runs`: playground runs of one agent with overrides, side by side on two models;
//! their figures, history and stream; the prompt version a run does (not) count towards;
//! refusals before anything is taken.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

app_test!(runs_compare_models_and_keep_a_history, |app| {
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "runs-viewer@example.com", MemberRole::Viewer).await;
    let reviewer = agent_by_role(&app, &key, "REVIEWER").await;
    let credits = get(&app, &key, "/api/auth/session").await["credits"]
        .as_i64()
        .unwrap();

    // Refused before anything is taken: a viewer, a bad temperature, an unknown agent.
    let res = app
        .client
        .post(app.url("/api/v1/runs"))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, body) = post(
        &app,
        &key,
        "/api/v1/runs",
        json!({ "agent_id": reviewer, "input": "Review this", "overrides": { "temperature": 3 } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"]["field"], "overrides.temperature", "{body}");
    let (status, body) = post(
        &app,
        &key,
        "/api/v1/runs",
        json!({ "agent_id": "nope", "input": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"]["field"], "agent_id", "{body}");

    // The same input on two models, side by side; one with its prompt changed for the run.
    let mut ids = Vec::new();
    for overrides in [
        json!({ "model": "sim-fast", "temperature": 0.2 }),
        json!({ "model": "sim-standard", "system_prompt": "You review diffs. Be brief." }),
    ] {
        let (status, task) = post(
            &app,
            &key,
            "/api/v1/runs",
            json!({ "agent_id": reviewer, "input": "Review the login handler", "overrides": overrides }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        assert_eq!(task["workflow"], "playground");
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let done = wait_finished(&app, &key, id).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    let fast: Value = get(&app, &key, &format!("/api/v1/runs/{}", ids[0])).await;
    let standard: Value = get(&app, &key, &format!("/api/v1/runs/{}", ids[1])).await;
    for (run, model) in [(&fast, "sim-fast"), (&standard, "sim-standard")] {
        assert_eq!(run["model"], model, "{run}");
        assert_eq!(run["provider_kind"], "simulator");
        assert!(run["prompt_tokens"].as_i64().unwrap() > 0, "{run}");
        assert!(run["completion_tokens"].as_i64().unwrap() > 0);
        assert!(run["latency_ms"].as_i64().is_some(), "{run}");
        assert!(!run["output"].as_str().unwrap().is_empty());
    }
    assert_eq!(fast["overrides"]["temperature"], 0.2);
    // The run's task is the exact record: the same cost.
    let task = get(&app, &key, &format!("/api/v1/tasks/{}", ids[0])).await;
    assert_eq!(fast["cost_micros"], task["cost_micros"]);
    assert_eq!(
        get(&app, &key, "/api/auth/session").await["credits"]
            .as_i64()
            .unwrap(),
        credits - 2,
        "one credit per run"
    );

    // The run with its own prompt ran no version; the other counts towards version 1.
    let v1 = get(&app, &key, &format!("/api/v1/agents/{reviewer}/versions/1")).await;
    assert_eq!(v1["stats"]["runs"], 1, "{v1}");

    // History: newest first; runs are not in the Tasks list.
    let history = get(&app, &key, &format!("/api/v1/runs?agent_id={reviewer}")).await;
    let listed: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[1].as_str(), ids[0].as_str()]);
    let tasks = get(&app, &key, "/api/v1/tasks").await;
    assert!(
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["workflow"] != "playground"),
        "{tasks}"
    );

    // Its events over SSE, the output streamed as tokens, ending with the run.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/runs/{}/stream", ids[0])))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("event: token") && body.contains("event: task_completed"),
        "{body}"
    );
    let res = app
        .client
        .get(app.url("/api/v1/runs/not-a-run"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});
