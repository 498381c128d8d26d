//! The API contract: the OpenAPI document names exactly the routes the server has, each with
//! its parameters, responses and security; the reference page is served from the binary.

use serde_json::Value;

use crate::app_test;
use crate::contract::operation_path;
use crate::helpers::TestApp;

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    out
}

app_test!(every_documented_route_exists_and_is_complete, |app| {
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1"),
        "OpenAPI 3.1: {}",
        doc["openapi"]
    );
    for scheme in ["api_key", "session"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "security scheme {scheme}"
        );
    }
    for schema in ["ErrorBody", "Event", "EventKind"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
    let operations = operations(&doc);
    assert!(operations.len() >= 40, "{} operations", operations.len());
    for (method, path, operation) in &operations {
        // Documented: a summary, tags, and responses that include a success and, for every
        // route that needs credentials, a 401.
        assert!(
            operation["summary"].is_string(),
            "{method} {path}: no summary"
        );
        assert!(operation["tags"].is_array(), "{method} {path}: no tag");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('1') || s.starts_with('2') || s.starts_with('3')),
            "{method} {path}: no success response"
        );
        let public = operation["security"].as_array().is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
        if !public {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                // OTLP ingestion is Fleetdeck's own endpoint: the SPEC body.
                if path.starts_with("/v1/") && path != "/v1/traces" {
                    // The gateway speaks the providers' APIs, errors included.
                    let expected = if path == "/v1/messages" {
                        "#/components/schemas/AnthropicErrorBody"
                    } else {
                        "#/components/schemas/OpenAiErrorBody"
                    };
                    assert_eq!(
                        schema, expected,
                        "{method} {path} {status}: gateway errors are the provider API's body"
                    );
                } else if path != "/ws" || status != "400" {
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}: errors are the SPEC body"
                    );
                }
            }
        }

        // The router has it: a request without credentials reaches the route (it is refused by
        // the route's own rules, never by the router's "no such route" or "wrong method").
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let request = app.client.request(
            reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            app.url(&concrete),
        );
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_ne!(status, 405, "{method} {path}: the router lacks this method");
        if status == 404 {
            let body: Value = response.json().await.unwrap_or_default();
            assert!(
                !(body["code"] == "NOT_FOUND" && body["details"]["path"].is_string()),
                "{method} {path}: the router lacks this route"
            );
        }
    }
    // A path the document does not have is the API's "no such route".
    assert_eq!(operation_path(&doc, "/api/v1/nothing-here"), None);
});

/// axum cannot list a router's routes, so the other direction is kept by construction: every
/// route is registered through `utoipa_axum::routes!`, which documents it, and this test fails
/// if a handler module registers one any other way.
#[test]
fn no_route_is_registered_outside_the_document() {
    // Every source file under src/http, submodules' folders included.
    let mut files = Vec::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "the handler modules are found");
    let mut offenders = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap();
        for (n, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if code.contains(".route(") || code.contains(".route_service(") {
                offenders.push(format!("{}:{}: {code}", path.display(), n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes registered without their OpenAPI entry (use utoipa_axum::routes!):\n{}",
        offenders.join("\n")
    );
}

app_test!(the_reference_page_is_served_from_the_binary, |app| {
    let page = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert!(!init.contains("https://"), "no off-machine address: {init}");
});

app_test!(lists_page_with_a_cursor_and_name_bad_parameters, |app| {
    use engine::domain::MemberRole;
    let ws = crate::helpers::default_ws(&app).await;
    let (_, key) =
        crate::helpers::member_with_key(&app, &ws, "lists@example.com", MemberRole::Admin).await;
    let get = |path: String| {
        let request = app.client.get(app.url(&path)).bearer_auth(&key);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    // Every list answers the same shape; following the cursors visits each item once.
    for list in [
        "agents",
        "providers",
        "prices",
        "api-keys",
        "users",
        "audit",
        "credits/ledger",
        "tasks",
    ] {
        let (status, whole) = get(format!("/api/v1/{list}?limit=200")).await;
        assert_eq!(status, 200, "{list}: {whole}");
        let all: Vec<Value> = whole["items"].as_array().unwrap().clone();
        assert!(
            whole.get("next_cursor").is_some(),
            "{list}: next_cursor is always present"
        );
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/{list}?limit=2&cursor={c}"),
                None => format!("/api/v1/{list}?limit=2"),
            };
            let (status, page) = get(path).await;
            assert_eq!(status, 200, "{list}: {page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            paged.extend(items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            paged, all,
            "{list}: pages in order, none skipped or repeated"
        );
    }
    let (_, agents) = get("/api/v1/agents?limit=200".into()).await;
    assert!(
        agents["items"].as_array().unwrap().len() >= 5,
        "the seeded agents"
    );

    // Bad parameters are 422s that name the parameter.
    for (path, field) in [
        ("/api/v1/agents?limit=0", "limit"),
        ("/api/v1/agents?limit=ten", "limit"),
        ("/api/v1/providers?limit=201", "limit"),
        ("/api/v1/agents?cursor=%25%25", "cursor"),
        ("/api/v1/tasks?cursor=bm9wZQ", "cursor"),
        ("/api/v1/tasks?from=yesterday", "from"),
        ("/api/v1/tasks?status=lost", "status"),
        ("/api/v1/tasks?complexity=huge", "complexity"),
        ("/api/v1/tasks?finished_from=monday", "finished_from"),
        ("/api/v1/tasks?min_duration_ms=-5", "min_duration_ms"),
        ("/api/v1/calls?weekday=1", "hour"),
        (
            "/api/v1/calls?weekday=9&hour=1&from=0&to=3600000",
            "weekday",
        ),
        ("/api/v1/calls?weekday=1&hour=1", "from"),
        (
            "/api/v1/calls?weekday=1&hour=1&from=0&to=3600000&tz=Mars/Olympus",
            "tz",
        ),
        ("/api/v1/audit?since=now", "since"),
        ("/api/v1/credits/ledger?limit=-1", "limit"),
    ] {
        let (status, body) = get(path.into()).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["details"]["field"], field, "{path}: {body}");
    }
    let (status, body) = get("/api/v1/agents?colour=blue".into()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("colour"),
        "{body}"
    );
});
