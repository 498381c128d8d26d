//! Trends, the ANALYST ROI and system health over REST, after real tasks: one that completes
//! and one whose every call fails (a simulator told to fail them all).

use engine::domain::MemberRole;
use reqwest::StatusCode;

use crate::app_test;
use crate::helpers::{default_ws, member_with_key};
use crate::tasks::{COMPLEX, set_simulator, setup, wait_finished};

async fn submit(app: &crate::helpers::TestApp, key: &str, description: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(key)
        .json(&wire::tasks::SubmitTask {
            description: description.into(),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<wire::tasks::Task>().await.unwrap().id
}

async fn read<T: serde::de::DeserializeOwned>(
    app: &crate::helpers::TestApp,
    key: &str,
    path: &str,
) -> T {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// Runs `fleetdeck doctor --url` against the app (off the test's runtime thread, which serves
/// the app): (exit code, stdout).
async fn doctor(app: &crate::helpers::TestApp, key: &str) -> (Option<i32>, String) {
    let (url, key) = (app.url(""), key.to_owned());
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
            .env("FLEETDECK_API_KEY", key)
            .args(["doctor", "--url", &url])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .await
    .unwrap()
}

app_test!(trends_roi_and_health_follow_real_tasks, |app| {
    let key = setup(&app, false).await;
    let done = submit(&app, &key, COMPLEX).await;
    wait_finished(&app, &key, &done).await;
    let (code, out) = doctor(&app, &key).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("✅ workers: 1 alive"), "{out}");
    let (code, out) = doctor(&app, "fd_not-a-key").await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the API key was refused"), "{out}");

    // Now every call fails: the next task fails.
    let sim = set_simulator(
        &app,
        &key,
        "sim://local?failure_rate=1&token_delay_ms=0&ttft_ms=0",
    )
    .await;
    let failed = submit(&app, &key, "Fix the typo in the README").await;
    let task = wait_finished(&app, &key, &failed).await;
    assert_eq!(task["status"], "failed", "{task}");

    let since = engine::now_ms() - 86_400_000;
    let trends: wire::analytics::TrendsReport = read(
        &app,
        &key,
        &format!("/api/v1/metrics/trends?granularity=hour&from={since}&tz=Europe/Paris"),
    )
    .await;
    assert_eq!(trends.time_zone, "Europe/Paris");
    let finished: i64 = trends.workflows.iter().map(|w| w.stats.tasks).sum();
    assert_eq!(finished, 2);
    let completed: i64 = trends.workflows.iter().map(|w| w.stats.completed).sum();
    assert_eq!(completed, 1);
    assert_eq!(trends.top_tasks.len(), 2);
    assert_eq!(
        trends.completion_times.iter().map(|b| b.tasks).sum::<i64>(),
        1
    );
    let calls: i64 = trends.heatmap.iter().map(|c| c.calls).sum();
    assert!(calls >= 5, "the completed task's calls are in the heatmap");

    // The tasks behind Trends' figures: the list with the filters its links carry.
    let behind = |query: String| {
        let (app, key) = (&app, &key);
        async move {
            let page: wire::Page<wire::tasks::Task> =
                read(app, key, &format!("/api/v1/tasks?{query}")).await;
            page.items
        }
    };
    let finished = format!(
        "finished_from={}&finished_to={}",
        trends.from_ms, trends.to_ms
    );
    let completed_tasks = behind(format!("status=completed&{finished}")).await;
    assert_eq!(completed_tasks.len(), 1);
    let failed_tasks = behind(format!("status=failed&{finished}")).await;
    assert_eq!(failed_tasks.len(), 1);
    assert_eq!(failed_tasks[0].id, failed);
    let bucket = trends
        .completion_times
        .iter()
        .position(|b| b.tasks == 1)
        .unwrap();
    let b = &trends.completion_times[bucket];
    let min = if bucket == 0 {
        String::new()
    } else {
        format!("&min_duration_ms={}", b.above_ms)
    };
    let max = b
        .up_to_ms
        .map(|ms| format!("&max_duration_ms={ms}"))
        .unwrap_or_default();
    assert_eq!(
        behind(format!("status=completed&{finished}{min}{max}"))
            .await
            .len(),
        1
    );
    let workflow = &trends.workflows[0].workflow;
    assert_eq!(
        behind(format!("workflow={workflow}&{finished}"))
            .await
            .len() as i64,
        trends.workflows[0].stats.tasks
    );

    let roi: wire::analytics::AnalystRoi = read(
        &app,
        &key,
        &format!("/api/v1/metrics/analyst-roi?from={since}"),
    )
    .await;
    let with: i64 = roi.rows.iter().map(|r| r.with_analyst.tasks).sum();
    let without: i64 = roi.rows.iter().map(|r| r.without_analyst.tasks).sum();
    assert_eq!(with + without, 2);
    assert!(with >= 1, "the complex feature ran its ANALYST");

    let health: wire::ops::SystemHealth = read(&app, &key, "/api/v1/system/health").await;
    assert_eq!(health.failed_tasks_24h, 1);
    assert_eq!(health.recent_failures.len(), 1);
    assert_eq!(health.recent_failures[0].task_id, failed);
    assert!(health.failed_calls_24h >= 1);
    assert!(
        health.workers.iter().any(|w| w.alive),
        "{:?}",
        health.workers
    );
    let sim_health = health.providers.iter().find(|p| p.id == sim).unwrap();
    assert!(sim_health.last_success_at.is_some());
    assert!(sim_health.failing, "its last calls failed: {sim_health:?}");
    assert_eq!(health.status, "degraded");
    assert!(
        health.problems.iter().any(|p| p.contains("is failing")),
        "{:?}",
        health.problems
    );
    assert!(health.last_check.is_none());
    let (code, out) = doctor(&app, &key).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("❌ health: provider") && out.contains("is failing"),
        "{out}"
    );

    // Recording a check: developers and admins; viewers are refused before anything is written.
    let ws = default_ws(&app).await;
    let (_, viewer) = member_with_key(&app, &ws, "viewer@example.com", MemberRole::Viewer).await;
    let res = app
        .client
        .post(app.url("/api/v1/system/health"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .post(app.url("/api/v1/system/health"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let recorded: wire::ops::SystemHealth = res.json().await.unwrap();
    let check = recorded.last_check.unwrap();
    assert_eq!(check.status, "degraded");
    assert!(check.detail.contains("is failing"));
    let again: wire::ops::SystemHealth = read(&app, &viewer, "/api/v1/system/health").await;
    assert_eq!(again.last_check.map(|c| c.id), Some(check.id));

    for (path, field) in [
        ("/api/v1/metrics/trends?tz=Mars/Olympus", "tz"),
        (
            "/api/v1/metrics/trends?granularity=fortnight",
            "granularity",
        ),
        ("/api/v1/metrics/trends?from=2000&to=1000", "to"),
        ("/api/v1/metrics/analyst-roi?from=soon", "from"),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["details"]["field"], field, "{path}: {body}");
    }
    let res = app
        .client
        .get(app.url("/api/v1/system/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
});
