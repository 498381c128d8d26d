//! Knowledge sources over `/api/v1/agents/{id}/knowledge`: added (bounds, names, roles
//! checked), read, carried into the step's system prompt and the preview, exported and
//! imported with the agent, removed; every change audited.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{agent_by_role, get, post, setup, wait_finished};

app_test!(
    knowledge_sources_join_the_prompt_and_travel_with_the_agent,
    |app| {
        let key = setup(&app, false).await;
        let ws = default_ws(&app).await;
        let (_, viewer) =
            member_with_key(&app, &ws, "kb-viewer@example.com", MemberRole::Viewer).await;
        let reviewer = agent_by_role(&app, &key, "REVIEWER").await;
        let path = format!("/api/v1/agents/{reviewer}/knowledge");

        let res = app
            .client
            .post(app.url(&path))
            .bearer_auth(&viewer)
            .body("not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (status, err) = post(
            &app,
            &key,
            &path,
            json!({ "name": "Huge", "content": "x".repeat(100_001) }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["details"]["field"], "content");
        let (status, err) = post(&app, &key, &path, json!({ "name": " ", "content": "x" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["details"]["field"], "name");

        let guide = "Errors are returned, never panicked. Public functions have docs.";
        let (status, added) = post(
            &app,
            &key,
            &path,
            json!({ "name": "Style guide", "content": guide }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_eq!(added["chars"], guide.chars().count());
        assert!(added["estimated_tokens"].as_i64().unwrap() > 0);
        let (status, _) = post(
            &app,
            &key,
            &path,
            json!({ "name": "Style guide", "content": "again" }),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let list = get(&app, &viewer, &path).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        // The preview and the step's prompt carry it under its name.
        let preview = get(
            &app,
            &key,
            &format!("/api/v1/agents/{reviewer}/prompt-preview?task=Review"),
        )
        .await;
        let expected = format!("### Style guide\n{guide}");
        assert!(
            preview["system_prompt"]
                .as_str()
                .unwrap()
                .contains(&expected),
            "{preview}"
        );
        let (_, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Review the parser", "workflow": "custom", "steps": ["REVIEWER"] }),
    )
    .await;
        let id = task["id"].as_str().unwrap();
        assert_eq!(wait_finished(&app, &key, id).await["status"], "completed");
        let records = get(&app, &key, &format!("/api/v1/tasks/{id}/records")).await;
        assert!(
            records["runs"][0]["system_prompt"]
                .as_str()
                .unwrap()
                .contains(&expected)
        );

        // Exported with the agent and imported as a copy with it.
        let file = get(&app, &key, &format!("/api/v1/agents/{reviewer}/export")).await;
        assert_eq!(file["agent"]["knowledge"][0]["name"], "Style guide");
        let (status, made) = post(&app, &key, "/api/v1/agents/import", file.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let copy = made["agent"]["id"].as_str().unwrap();
        let copied = get(&app, &key, &format!("/api/v1/agents/{copy}/knowledge")).await;
        assert_eq!(copied["items"][0]["content"], guide);
        // A file's sources are checked as a set, naming the field.
        let mut twice = file.clone();
        twice["agent"]["knowledge"] = json!([
            { "name": "A", "content": "x" }, { "name": "A", "content": "y" }
        ]);
        let (status, err) = post(&app, &key, "/api/v1/agents/import", twice).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["details"]["field"], "agent.knowledge");

        // Removed: gone from the list and the prompt.
        let kid = added["id"].as_str().unwrap();
        let res = app
            .client
            .delete(app.url(&format!("{path}/{kid}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let list: Value = get(&app, &key, &path).await;
        assert_eq!(list["items"], json!([]));
        let preview = get(
            &app,
            &key,
            &format!("/api/v1/agents/{reviewer}/prompt-preview?task=Review"),
        )
        .await;
        assert!(
            !preview["system_prompt"]
                .as_str()
                .unwrap()
                .contains("Reference material")
        );
        let audit = get(&app, &key, "/api/v1/audit?limit=100").await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"knowledge.add") && actions.contains(&"knowledge.delete"));
    }
);
