use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::TestApp;

/// Creates an admin and returns their session cookie (`name=value`).
async fn admin_cookie(app: &TestApp) -> String {
    let ws = engine::store::workspaces::first(app.store().pool())
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.store().pool().acquire().await.unwrap();
    engine::store::users::create(
        &mut conn,
        &ws.id,
        "admin@example.com",
        Some("a long enough password"),
        engine::domain::MemberRole::Admin,
    )
    .await
    .unwrap();
    drop(conn);
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "admin@example.com", "password": "a long enough password" }))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

app_test!(pages_send_visitors_to_setup_then_to_login, |app| {
    let client = no_redirects();
    // First run: no admin yet, every page leads to the one-time setup.
    let res = client.get(app.url("/agents")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/setup");
    let res = client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Create the first admin"));

    let cookie = admin_cookie(&app).await;
    // Setup is closed now; anonymous visitors go to the sign-in page.
    let res = client.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login");
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login");
    let res = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Signed in, the sign-in page sends you home and pages render.
    let res = client
        .get(app.url("/login"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
    let res = client
        .get(app.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Static files and health need no session.
    assert_eq!(
        client
            .get(app.url("/favicon.svg"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Server functions refuse anonymous callers.
    let res = client
        .post(app.url("/api/dashboard"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error() || res.status().is_server_error());
    let text = res.text().await.unwrap();
    assert!(text.contains("Denied"), "{text}");
});

app_test!(
    the_dashboard_is_server_rendered_with_database_counts,
    |app| {
        let cookie = admin_cookie(&app).await;
        let res = app
            .client
            .get(app.url("/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = res.text().await.unwrap();
        assert!(
            html.contains("/pkg/fleetdeck.js"),
            "hydration script is linked"
        );
        assert!(
            html.contains("/echarts.min.js"),
            "ECharts is served locally"
        );
        assert!(!html.contains("cdn"), "nothing from a CDN");
        assert!(html.contains("data-testid=\"stat-agents\""), "{html}");

        let (agents,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM agents")
            .fetch_one(app.store().pool())
            .await
            .unwrap();
        assert_eq!(agents, 5);
    }
);

app_test!(the_dashboard_server_function_reads_the_database, |app| {
    let cookie = admin_cookie(&app).await;
    let res = app
        .client
        .post(app.url("/api/dashboard"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["agents"], 5);
    assert_eq!(body["providers"], 1);
    assert_eq!(body["calls_per_day"].as_array().unwrap().len(), 14);
    assert_eq!(body["cost_today_micros"], 0);
    assert_eq!(body["unpriced_today"], 0);
    assert_eq!(body["active_agents"], 0);
});

app_test!(every_page_renders, |app| {
    let cookie = admin_cookie(&app).await;
    for (path, marker) in [
        ("/agents", "Analyst"),
        ("/tasks", "No tasks yet"),
        ("/analytics", "No LLM calls in this range"),
        ("/calls", "No calls match"),
        // The seeded agents were created just now: the agent creation rate has a point.
        ("/analytics/trends", "When the fleet works"),
        (
            "/analytics/roi?range=custom&from=2026-11-01&to=2026-11-20",
            "No finished tasks in this range",
        ),
        ("/system", "Recent failures"),
        ("/settings", "sim-standard"),
        ("/audit", "session.login"),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(marker), "{path} lacks {marker}");
    }
});

app_test!(unknown_pages_are_404, |app| {
    let cookie = admin_cookie(&app).await;
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
});
