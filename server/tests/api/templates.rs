//! `/api/v1/templates`: an agent saved as a template, listed, made into a new agent, deleted;
//! roles before bodies; a taken name is a conflict.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{agent_by_role, get, post, setup};

app_test!(templates_save_list_make_and_delete, |app| {
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "tpl-viewer@example.com", MemberRole::Viewer).await;
    let planner = agent_by_role(&app, &key, "PLANNER").await;

    let res = app
        .client
        .post(app.url("/api/v1/templates"))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = json!({ "agent_id": planner, "name": "Careful planner", "category": "planning" });
    let (status, saved) = post(&app, &key, "/api/v1/templates", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["agent"]["role"], "PLANNER");
    assert_eq!(saved["agent"]["provider"]["kind"], "simulator");
    assert_eq!(saved["created_by"], "dev@example.com");
    let (status, _) = post(&app, &key, "/api/v1/templates", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "a taken name");
    let (status, err) = post(
        &app,
        &key,
        "/api/v1/templates",
        json!({ "agent_id": "nope", "name": "X" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["details"]["field"], "agent_id");

    // Everyone reads the library; an agent is made from it, noted on its first version.
    let list: Value = get(&app, &viewer, "/api/v1/templates").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let id = saved["id"].as_str().unwrap();
    let (status, made) = post(
        &app,
        &key,
        &format!("/api/v1/templates/{id}/agents"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["agent"]["name"], "Planner (copy)");
    let copy = made["agent"]["id"].as_str().unwrap();
    let versions = get(&app, &key, &format!("/api/v1/agents/{copy}/versions")).await;
    assert_eq!(
        versions["items"][0]["note"],
        "From template Careful planner"
    );

    // Deleting it leaves the agent made from it.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/templates/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .client
        .get(app.url(&format!("/api/v1/templates/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    get(&app, &key, &format!("/api/v1/agents/{copy}")).await;
});
