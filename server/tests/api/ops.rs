use serde_json::Value;

use crate::app_test;

app_test!(health_answers_with_request_id_and_security_headers, |app| {
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID request id: {id}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    // A request id sent by the client is kept.
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
});

app_test!(ready_reports_database_and_migrations, |app| {
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let migrations = &body["database"]["migrations"];
    assert_eq!(migrations["applied"], migrations["expected"]);
});

app_test!(ready_is_503_when_the_database_is_gone, |app| {
    app.store().close().await;
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "NOT_READY");
    assert_eq!(body["request_id"], request_id.as_str());
    // Liveness does not depend on the database.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
});

app_test!(unknown_api_routes_are_json_404s, |app| {
    for path in ["/api/v1/nope", "/api/v1/agents/123/whatever", "/api/v1"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "NOT_FOUND", "{path}");
        assert!(body["message"].as_str().unwrap().len() > 5);
        assert_eq!(body["request_id"], request_id.as_str());
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(body["details"].is_object());
    }
    // A known route still asks for credentials first.
    let res = app
        .client
        .post(app.url("/api/v1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
});

app_test!(metrics_count_requests_and_show_the_pool, |app| {
    app.client.get(app.url("/health")).send().await.unwrap();
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/health\""), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections{"), "{text}");
});

app_test!(shutdown_is_graceful, |app| {
    let mut app = app;
    let server = app.server.take().unwrap();
    let addr = server.addr;
    server.stop().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
});
