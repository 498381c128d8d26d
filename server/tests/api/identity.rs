//! Identity and access over HTTP: sign-in, sessions, CSRF, API keys, the authorization
//! matrix, credits, sealed provider keys and the rate limit.

use engine::domain::MemberRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{PASSWORD, TestApp, default_ws, get_json, member_with_key};

/// Signs in and returns the session cookie pair (`name=value`).
pub(crate) async fn sign_in(app: &TestApp, email: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

app_test!(password_sign_in_sessions_and_logout, |app| {
    let ws = default_ws(&app).await;
    member_with_key(&app, &ws, "admin@example.com", MemberRole::Admin).await;

    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "admin@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "admin@example.com");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["credits"], 100);
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let res = app
        .client
        .get(app.url("/api/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["workspace"]["id"], ws.as_str());

    // Wrong password and unknown e-mail answer alike.
    let mut messages = Vec::new();
    for email in ["admin@example.com", "nobody@example.com"] {
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": "not the password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        messages.push(body["message"].clone());
    }
    assert_eq!(messages[0], messages[1]);

    // Logout needs a same-origin request, then the session is gone.
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let res = app
        .client
        .get(app.url("/api/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url("/api/auth/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
});

app_test!(cookie_writes_need_the_same_origin, |app| {
    let ws = default_ws(&app).await;
    let (_, key) = member_with_key(&app, &ws, "admin@example.com", MemberRole::Admin).await;
    let cookie = sign_in(&app, "admin@example.com").await;
    let body = json!({ "name": "Local", "kind": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1" });

    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "CSRF_REJECTED");
    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // API keys are not cookies: no origin needed.
    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .bearer_auth(&key)
        .json(&json!({ "name": "Sim 2", "kind": "simulator" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
});

app_test!(provider_keys_are_masked_everywhere, |app| {
    let ws = default_ws(&app).await;
    let (_, key) = member_with_key(&app, &ws, "admin@example.com", MemberRole::Admin).await;
    let raw = "sk-proj-TOPSECRETVALUE-abcd";
    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .bearer_auth(&key)
        .json(&json!({ "name": "OpenAI", "kind": "openai", "api_key": raw }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    assert!(!text.contains("TOPSECRET"), "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["api_key_last4"], "abcd");
    let id = created["id"].as_str().unwrap().to_owned();

    for path in [
        "/api/v1/providers".to_owned(),
        format!("/api/v1/providers/{id}"),
        "/api/v1/audit".to_owned(),
    ] {
        let text = app
            .client
            .get(app.url(&path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("TOPSECRET"), "{path}: {text}");
    }
    let rotated = app
        .client
        .patch(app.url(&format!("/api/v1/providers/{id}")))
        .bearer_auth(&key)
        .json(&json!({ "api_key": "sk-proj-NEWSECRET-wxyz" }))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["api_key_last4"], "wxyz");

    // Not in the database either, in any column of any table.
    let rows: Vec<(String,)> = sqlx::query_as("SELECT COALESCE(api_key_last4, '') FROM providers")
        .fetch_all(app.store().pool())
        .await
        .unwrap();
    assert!(rows.iter().all(|(v,)| !v.contains("SECRET")));
    let details: Vec<(String,)> = sqlx::query_as("SELECT details FROM audit_log")
        .fetch_all(app.store().pool())
        .await
        .unwrap();
    assert!(!details.is_empty());
    assert!(details.iter().all(|(d,)| !d.contains("SECRET")));
    if let Some(path) = app
        ._db
        .url
        .strip_prefix("sqlite://")
        .and_then(|u| u.split('?').next())
    {
        app.store().close().await;
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                assert!(
                    !bytes.windows(9).any(|w| w == b"TOPSECRET"),
                    "raw key in {path}{suffix}"
                );
                assert!(
                    !bytes.windows(9).any(|w| w == b"NEWSECRET"),
                    "raw key in {path}{suffix}"
                );
            }
        }
    }
});

app_test!(bad_bodies_are_spec_errors, |app| {
    let ws = default_ws(&app).await;
    let (_, key) = member_with_key(&app, &ws, "admin@example.com", MemberRole::Admin).await;
    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_BODY");
    assert!(body["request_id"].is_string());

    let res = app
        .client
        .post(app.url("/api/v1/providers"))
        .bearer_auth(&key)
        .json(&json!({ "name": "x", "kind": "skynet" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "VALIDATION_FAILED");
    assert_eq!(body["details"]["field"], "kind");

    let res = app
        .client
        .put(app.url("/api/v1/settings/default_temperature"))
        .bearer_auth(&key)
        .json(&json!({ "value": 9 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .client
        .get(app.url("/api/v1/settings/nope"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
});

/// Expected statuses for (anonymous, viewer, developer, admin, admin of another workspace).
type Row = (Method, String, Option<Value>, [u16; 5]);
/// A creating route: its path, the body for caller i, and the expected statuses.
type CreateRow = (&'static str, fn(usize) -> Value, [u16; 5]);

app_test!(authorization_matrix, |app| {
    let ws = default_ws(&app).await;
    let other_ws = engine::store::workspaces::create(app.store().pool(), "Other", "other")
        .await
        .unwrap();
    let (_, viewer) = member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
    let (dev_id, developer) =
        member_with_key(&app, &ws, "dev@example.com", MemberRole::Developer).await;
    let (_, admin) = member_with_key(&app, &ws, "admin@example.com", MemberRole::Admin).await;
    let (_, other) =
        member_with_key(&app, &other_ws.id, "other@example.com", MemberRole::Admin).await;

    let provider: Value = app
        .client
        .post(app.url("/api/v1/providers"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "Shared", "kind": "simulator" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = provider["id"].as_str().unwrap().to_owned();
    let admins_key: Value = app
        .client
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "to revoke" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = admins_key["api_key"]["id"].as_str().unwrap().to_owned();
    // A slow simulator keeps the task running while the matrix cancels it.
    sqlx::query(
        "UPDATE providers SET base_url = 'sim://slow?token_delay_ms=200' WHERE kind = 'simulator'",
    )
    .execute(app.store().pool())
    .await
    .unwrap();
    let aid = engine::store::agents::list(app.store().pool(), &ws)
        .await
        .unwrap()[0]
        .id
        .clone();
    let task: Value = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&admin)
        .json(&json!({ "description": "Refactor the database layer for security and performance" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = task["id"].as_str().unwrap().to_owned();

    let rows: Vec<Row> = vec![
        (
            Method::GET,
            "/api/v1/agents".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/api/v1/agents/{aid}"),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("/api/v1/agents/{aid}/prompt-preview?task=x"),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::PATCH,
            format!("/api/v1/agents/{aid}"),
            Some(json!({ "temperature": 0.3 })),
            [401, 403, 200, 200, 404],
        ),
        (
            Method::GET,
            "/api/v1/tasks".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/api/v1/tasks/{tid}"),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("/api/v1/tasks/{tid}/records"),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::POST,
            "/api/v1/tasks/estimate".into(),
            Some(json!({ "description": "Fix a typo" })),
            // The other workspace has no agents to plan with.
            [401, 200, 200, 200, 422],
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{tid}/cancel"),
            None,
            // The developer cancels it; then it is already cancelled for our admin.
            [401, 403, 200, 409, 404],
        ),
        (
            Method::DELETE,
            format!("/api/v1/tasks/{tid}"),
            None,
            [401, 403, 204, 404, 404],
        ),
        (
            Method::POST,
            format!("/api/v1/providers/{pid}/test"),
            None,
            [401, 403, 403, 200, 404],
        ),
        (
            Method::GET,
            "/api/auth/session".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/providers".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/api/v1/providers/{pid}"),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::PATCH,
            format!("/api/v1/providers/{pid}"),
            Some(json!({ "base_url": "http://127.0.0.1:9" })),
            [401, 403, 403, 200, 404],
        ),
        (
            Method::GET,
            "/api/v1/settings/default_model".into(),
            None,
            [401, 200, 200, 200, 404],
        ),
        (
            Method::PUT,
            "/api/v1/settings/default_temperature".into(),
            Some(json!({ "value": 0.4 })),
            [401, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/api-keys".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/users".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/credits/topup".into(),
            Some(json!({ "user_id": dev_id, "amount": 5 })),
            [401, 403, 403, 200, 404],
        ),
        (
            Method::GET,
            "/api/v1/credits/ledger".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/audit".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/audit/verify".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-keys/{kid}"),
            None,
            [401, 404, 404, 204, 404],
        ),
        (
            Method::DELETE,
            format!("/api/v1/providers/{pid}"),
            None,
            [401, 403, 403, 204, 404],
        ),
    ];
    let callers: [Option<&str>; 5] = [
        None,
        Some(&viewer),
        Some(&developer),
        Some(&admin),
        Some(&other),
    ];
    // The other workspace's admin goes before ours so that deletes find the row still there.
    let order = [0, 1, 2, 4, 3];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &rows {
        for &i in &order {
            let mut req = app.client.request(method.clone(), app.url(path));
            if let Some(key) = callers[i] {
                req = req.bearer_auth(key);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let status = req.send().await.unwrap().status();
            if status != StatusCode::from_u16(expected[i]).unwrap() {
                failures.push(format!(
                    "{method} {path} as caller {i}: got {status}, expected {}",
                    expected[i]
                ));
            }
        }
    }
    // Creating things: each caller with a distinct name.
    let creates: [CreateRow; 5] = [
        (
            "/api/v1/agents",
            |i| json!({ "name": format!("A{i}"), "role": "builder" }),
            [401, 403, 201, 201, 201],
        ),
        (
            "/api/v1/tasks",
            |_| json!({ "description": "Fix a typo", "workflow": "code_review" }),
            // The other workspace's admin has no agents: planning fails before any credit is taken.
            [401, 403, 201, 201, 422],
        ),
        (
            "/api/v1/providers",
            |i| json!({ "name": format!("P{i}"), "kind": "simulator" }),
            [401, 403, 403, 201, 201],
        ),
        (
            "/api/v1/api-keys",
            |i| json!({ "name": format!("K{i}") }),
            [401, 403, 201, 201, 201],
        ),
        (
            "/api/v1/users",
            |i| json!({ "email": format!("u{i}@example.com"), "password": PASSWORD, "role": "viewer" }),
            [401, 403, 403, 201, 201],
        ),
    ];
    for (path, body, expected) in creates {
        for i in 0..5 {
            let mut req = app.client.post(app.url(path)).json(&body(i));
            if let Some(key) = callers[i] {
                req = req.bearer_auth(key);
            }
            let status = req.send().await.unwrap().status();
            if status.as_u16() != expected[i] {
                failures.push(format!(
                    "POST {path} as caller {i}: got {status}, expected {}",
                    expected[i]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The other workspace never sees ours.
    let theirs: Value = get_json(&app.client, &app.url("/api/v1/providers"), &other).await;
    let ours: Value = get_json(&app.client, &app.url("/api/v1/providers"), &admin).await;
    let ids = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (ours, theirs) = (ids(&ours), ids(&theirs));
    assert!(!ours.is_empty());
    assert!(
        theirs.iter().all(|id| !ours.contains(id)),
        "another workspace sees our providers"
    );
    let audit: Value = get_json(&app.client, &app.url("/api/v1/audit"), &admin).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "provider.create",
        "provider.update",
        "provider.delete",
        "api_key.revoke",
        "credits.topup",
        "setting.update",
        "user.create",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
    let verify: Value = get_json(&app.client, &app.url("/api/v1/audit/verify"), &admin).await;
    assert_eq!(verify["intact"], true);
});
