use serde_json::Value;

use crate::app_test;

app_test!(
    the_dashboard_is_server_rendered_with_database_counts,
    |app| {
        let res = app.client.get(app.url("/")).send().await.unwrap();
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
    let res = app
        .client
        .post(app.url("/api/dashboard"))
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
    assert_eq!(body["cost_today"], "$0.00");
});

app_test!(every_page_renders, |app| {
    for (path, marker) in [
        ("/agents", "Analyst"),
        ("/tasks", "No tasks yet"),
        ("/analytics", "No LLM calls recorded yet"),
        ("/settings", "sim-standard"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(marker), "{path} lacks {marker}");
    }
});

app_test!(unknown_pages_are_404, |app| {
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
});
