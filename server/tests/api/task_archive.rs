//! Task archiving and working directories over REST: archive one or many, list and search the
//! archive, restore; roles checked before bodies; a task submitted in a chosen directory names
//! it and its tools write there; the choices offered back.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{get, post, setup, wait_finished};
use engine::domain::MemberRole;

async fn submit(app: &crate::helpers::TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    post(app, key, "/api/v1/tasks", body).await
}

fn descriptions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["description"].as_str().unwrap().to_owned())
        .collect()
}

app_test!(tasks_are_archived_searched_and_restored, |app| {
    let key = setup(&app, false).await;
    let mut ids = Vec::new();
    for d in [
        "Fix the checkout bug",
        "Document the checkout API",
        "Add dark mode",
    ] {
        let (status, task) = submit(
            &app,
            &key,
            json!({ "description": d, "workflow": "custom", "steps": ["REVIEWER"] }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        assert_eq!(task["agents"], 1);
        assert_eq!(task["archived_at"], Value::Null);
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        wait_finished(&app, &key, id).await;
    }
    // A viewer may not archive: 403 before the body is read (this one is not even JSON).
    let ws = default_ws(&app).await;
    let (_, viewer) = member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
    let res = app
        .client
        .post(app.url("/api/v1/tasks/archive"))
        .bearer_auth(&viewer)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bad bodies: 4xx in the API's format, nothing changes.
    let (status, err) = post(&app, &key, "/api/v1/tasks/archive", json!({ "ids": [] })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["field"], "ids");
    let (status, err) = post(
        &app,
        &key,
        "/api/v1/tasks/archive",
        json!({ "ids": [ids[0], "missing"] }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (status, _) = post(
        &app,
        &key,
        "/api/v1/tasks/archive",
        json!({ "task_ids": [] }),
    )
    .await;
    assert!(status.is_client_error());
    assert_eq!(
        descriptions(&get(&app, &key, "/api/v1/tasks?archived=true").await).len(),
        0
    );

    // Two together, then one by its own route.
    let (status, out) = post(
        &app,
        &key,
        "/api/v1/tasks/archive",
        json!({ "ids": [ids[0], ids[1]] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({ "changed": 2, "unchanged": 0 }));
    let (status, one) = post(
        &app,
        &key,
        &format!("/api/v1/tasks/{}/archive", ids[2]),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert!(one["archived_at"].as_i64().is_some());
    assert_eq!(
        descriptions(&get(&app, &key, "/api/v1/tasks").await).len(),
        0
    );
    assert_eq!(
        descriptions(&get(&app, &key, "/api/v1/tasks?archived=true&q=CHECKOUT").await),
        ["Document the checkout API", "Fix the checkout bug"]
    );
    let res = app
        .client
        .get(app.url("/api/v1/tasks?archived=maybe"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Restored: back in the list; the task's page and analytics never lost it.
    let (status, out) = post(
        &app,
        &key,
        "/api/v1/tasks/restore",
        json!({ "ids": [ids[1]] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["changed"], 1);
    assert_eq!(
        descriptions(&get(&app, &key, "/api/v1/tasks").await),
        ["Document the checkout API"]
    );
    let detail = get(&app, &key, &format!("/api/v1/tasks/{}", ids[0])).await;
    assert_eq!(detail["status"], "completed");
    let audit = get(&app, &key, "/api/v1/audit?action=task.archive").await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
});

app_test!(a_task_runs_in_a_chosen_working_directory, |app| {
    let key = setup(&app, false).await;
    let base = std::env::temp_dir().join(format!("fleetdeck-api-workdir-{}", engine::new_id()));
    std::fs::create_dir_all(base.join("repo/service")).unwrap();
    let root = std::fs::canonicalize(&base).unwrap();
    let root_text = root.to_str().unwrap().to_owned();

    // No root: the form offers nothing and a choice is refused.
    let options = get(&app, &key, "/api/v1/tasks/workdirs").await;
    assert_eq!(options, json!({ "root": null, "recent": [] }));
    let body = json!({ "description": "Add a health endpoint", "workflow": "custom",
                       "steps": ["BUILDER"], "workdir": "repo/service" });
    let (status, err) = submit(&app, &key, body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["field"], "workdir");

    let put = |value: Value| {
        let (app, key) = (&app, &key);
        async move {
            let res = app
                .client
                .put(app.url("/api/v1/settings/workdir_root"))
                .bearer_auth(key)
                .json(&json!({ "value": value }))
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, err) = put(json!("/definitely/not/here")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, setting) = put(json!(format!("{root_text}/./"))).await;
    assert_eq!(status, StatusCode::OK, "{setting}");
    assert_eq!(setting["value"], json!(root_text));

    // Outside the root: refused, no credit taken.
    let credits = |me: Value| me["credits"].as_i64();
    let before = credits(get(&app, &key, "/api/auth/session").await);
    let (status, err) = submit(
        &app,
        &key,
        json!({ "description": "x", "workdir": "../../etc" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("must lie under"),
        "{err}"
    );
    assert_eq!(credits(get(&app, &key, "/api/auth/session").await), before);

    let (status, task) = submit(&app, &key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let chosen = format!("{root_text}/repo/service");
    assert_eq!(task["workdir"], json!(chosen));
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let files = std::fs::read_dir(&chosen).unwrap().count();
    assert!(files > 0, "the BUILDER wrote nothing in {chosen}");
    let options = get(&app, &key, "/api/v1/tasks/workdirs").await;
    assert_eq!(options, json!({ "root": root_text, "recent": [chosen] }));
    let _ = std::fs::remove_dir_all(&base);
});
