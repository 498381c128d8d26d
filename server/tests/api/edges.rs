//! The edges' shared rules: roles are checked before bodies are read, NUL characters and
//! oversized text are refused cleanly, and REST and the pages' server functions answer each
//! engine error with the same status.

use engine::domain::MemberRole;
use reqwest::Method;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{TestApp, default_ws, member_with_key};
use crate::identity::sign_in;

app_test!(roles_are_checked_before_bodies_are_read, |app| {
    let ws = default_ws(&app).await;
    let (_, viewer) = member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
    let (_, dev) = member_with_key(&app, &ws, "dev@example.com", MemberRole::Developer).await;
    let aid = engine::store::agents::list(app.store().pool(), &ws)
        .await
        .unwrap()[0]
        .id
        .clone();
    let writes = [
        (Method::POST, "/api/v1/agents".to_owned(), &viewer),
        (Method::PATCH, format!("/api/v1/agents/{aid}"), &viewer),
        (Method::POST, "/api/v1/tasks".to_owned(), &viewer),
        (Method::POST, "/api/v1/api-keys".to_owned(), &viewer),
        (Method::POST, "/api/v1/providers".to_owned(), &dev),
        (
            Method::PUT,
            "/api/v1/settings/default_model".to_owned(),
            &dev,
        ),
        (Method::PUT, "/api/v1/prices".to_owned(), &dev),
        (Method::POST, "/api/v1/users".to_owned(), &dev),
        (Method::POST, "/api/v1/credits/topup".to_owned(), &dev),
    ];
    for (method, path, key) in writes {
        for body in [
            r#"{"unknown_field": 1}"#,
            "not json at all",
            "{\"name\": \"a\\u0000b\"}",
        ] {
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{method} {path} with {body}");
        }
    }
});

app_test!(
    nul_characters_and_oversized_text_are_refused_cleanly,
    |app| {
        let ws = default_ws(&app).await;
        let (_, key) = member_with_key(&app, &ws, "dev@example.com", MemberRole::Developer).await;
        let cookie = sign_in(&app, "dev@example.com").await;
        let agents_before = engine::store::agents::list(app.store().pool(), &ws)
            .await
            .unwrap()
            .len();
        let send = |method: Method, path: &str, body: Option<Value>| {
            let mut req = app.client.request(method, app.url(path)).bearer_auth(&key);
            if let Some(body) = body {
                req = req.json(&body);
            }
            req.send()
        };
        for (method, path, body) in [
            (Method::GET, "/api/v1/agents/%00", None),
            (Method::GET, "/api/v1/tasks?status=%00", None),
            (Method::GET, "/api/v1/tasks/abc%00def", None),
            (
                Method::POST,
                "/api/v1/agents",
                Some(json!({ "name": "Evil\u{0}", "role": "BUILDER" })),
            ),
            (
                Method::POST,
                "/api/v1/tasks",
                Some(json!({ "description": "Fix \u{0} this" })),
            ),
            (
                Method::POST,
                "/api/v1/agents",
                Some(
                    json!({ "name": "Big", "role": "BUILDER", "description": "x".repeat(2_000_001) }),
                ),
            ),
        ] {
            let res = send(method.clone(), path, body).await.unwrap();
            assert_eq!(res.status(), 422, "{method} {path}");
            let err: Value = res.json().await.unwrap();
            assert_eq!(err["code"], "VALIDATION_FAILED", "{err}");
        }
        // Server functions too (form-encoded NUL).
        let res = app
            .client
            .post(app.url("/api/get_task"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("id=a%00b")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let after = engine::store::agents::list(app.store().pool(), &ws)
            .await
            .unwrap()
            .len();
        assert_eq!(after, agents_before, "nothing was created");
    }
);

/// Calls a server function with a session cookie from our own origin.
async fn server_fn(app: &TestApp, cookie: Option<&str>, endpoint: &str, form: &str) -> u16 {
    let mut req = app
        .client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", app.base.clone())
        .body(form.to_owned());
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap().status().as_u16()
}

app_test!(both_edges_answer_each_error_with_the_same_status, |app| {
    let ws = default_ws(&app).await;
    let (_, dev_key) = member_with_key(&app, &ws, "dev@example.com", MemberRole::Developer).await;
    let (_, viewer_key) =
        member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
    let (broke_id, broke_key) =
        member_with_key(&app, &ws, "broke@example.com", MemberRole::Developer).await;
    sqlx::query("UPDATE users SET credits = 0 WHERE id = $1")
        .bind(&broke_id)
        .execute(app.store().pool())
        .await
        .unwrap();
    let dev = sign_in(&app, "dev@example.com").await;
    let viewer = sign_in(&app, "viewer@example.com").await;
    let broke = sign_in(&app, "broke@example.com").await;
    // A cancelled task, for conflicts.
    let task: Value = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&dev_key)
        .json(&json!({ "description": "Fix the typo" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = task["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/tasks/{tid}/cancel")))
        .bearer_auth(&dev_key)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status() == 409);

    let rest = |method: Method, path: String, key: Option<String>, body: Option<Value>| {
        let mut req = app.client.request(method, app.url(&path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let missing = "0190aaaa-0000-7000-8000-000000000000";
    let cases: Vec<(&str, u16, u16, u16)> = vec![
        (
            "not found",
            404,
            rest(
                Method::GET,
                format!("/api/v1/tasks/{missing}"),
                Some(dev_key.clone()),
                None,
            )
            .await,
            server_fn(&app, Some(&dev), "get_task", &format!("id={missing}")).await,
        ),
        (
            "invalid",
            422,
            rest(
                Method::POST,
                "/api/v1/tasks/estimate".into(),
                Some(dev_key.clone()),
                Some(json!({ "description": "" })),
            )
            .await,
            server_fn(
                &app,
                Some(&dev),
                "estimate_task",
                "description=&workflow=feature_implementation&force_analyst=false&steps=",
            )
            .await,
        ),
        (
            "conflict",
            409,
            rest(
                Method::POST,
                format!("/api/v1/tasks/{tid}/cancel"),
                Some(dev_key.clone()),
                None,
            )
            .await,
            server_fn(&app, Some(&dev), "cancel_task", &format!("id={tid}")).await,
        ),
        (
            "unauthorized",
            401,
            rest(Method::GET, "/api/v1/tasks".into(), None, None).await,
            server_fn(&app, None, "list_tasks", "").await,
        ),
        (
            "forbidden",
            403,
            rest(
                Method::POST,
                format!("/api/v1/tasks/{tid}/rerun"),
                Some(viewer_key.clone()),
                None,
            )
            .await,
            server_fn(&app, Some(&viewer), "rerun_task", &format!("id={tid}")).await,
        ),
        (
            "insufficient credits",
            402,
            rest(
                Method::POST,
                "/api/v1/tasks".into(),
                Some(broke_key.clone()),
                Some(json!({ "description": "Fix the typo" })),
            )
            .await,
            server_fn(
                &app,
                Some(&broke),
                "submit_task",
                "description=Fix+the+typo&workflow=feature_implementation",
            )
            .await,
        ),
    ];
    for (kind, expected, rest_status, fn_status) in cases {
        assert_eq!(
            (rest_status, fn_status),
            (expected, expected),
            "{kind}: REST {rest_status}, server function {fn_status}"
        );
    }
});
