//! One set of wire types: a program written against the `wire` crate reads every area of the
//! REST API into the very types the pages' server functions answer with. Paired with the
//! contract proxy (which checks the JSON against the document), this keeps the three in step:
//! the code, the document and the types clients compile against.

use engine::domain::MemberRole;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use wire::Page;

use crate::app_test;
use crate::helpers::TestApp;
use crate::tasks::{COMPLEX, setup, wait_finished};

async fn read<T: DeserializeOwned>(app: &TestApp, key: &str, path: &str) -> T {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let text = res.text().await.unwrap();
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} does not read as its wire type: {e}\n{text}"))
}

app_test!(every_area_reads_as_its_wire_type, |app| {
    let key = setup(&app, false).await;

    let agents: Page<wire::agents::AgentSummary> = read(&app, &key, "/api/v1/agents").await;
    assert_eq!(agents.items.len(), 5);
    assert!(agents.items.iter().all(|a| a.simulated()));
    let one: wire::agents::Agent = read(
        &app,
        &key,
        &format!("/api/v1/agents/{}", agents.items[0].id),
    )
    .await;
    assert_eq!(one.name, agents.items[0].name);
    assert!(!one.provider_deleted && one.fallbacks.is_empty());

    let providers: Page<wire::providers::Provider> = read(&app, &key, "/api/v1/providers").await;
    assert!(
        providers
            .items
            .iter()
            .any(wire::providers::Provider::simulated)
    );
    let prices: Page<wire::settings::Price> = read(&app, &key, "/api/v1/prices").await;
    assert!(!prices.items.is_empty());
    let model: wire::settings::Setting = read(&app, &key, "/api/v1/settings/default_model").await;
    assert_eq!(model.key, "default_model");

    let res = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&key)
        .json(&wire::tasks::SubmitTask {
            description: COMPLEX.into(),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let task: wire::tasks::Task = res.json().await.unwrap();
    wait_finished(&app, &key, &task.id).await;
    let detail: wire::tasks::TaskDetail =
        read(&app, &key, &format!("/api/v1/tasks/{}", task.id)).await;
    assert_eq!(detail.task.status, "completed");
    assert_eq!(detail.steps.len(), 5);
    assert_eq!(
        detail.task.cost_micros,
        detail.steps.iter().map(|s| s.cost_micros).sum::<i64>()
    );
    let records: wire::tasks::TaskRecords =
        read(&app, &key, &format!("/api/v1/tasks/{}/records", task.id)).await;
    assert_eq!(records.runs.len(), 5);
    assert!(
        records
            .runs
            .iter()
            .all(|r| r.simulated && !r.messages.is_empty())
    );
    let tasks: Page<wire::tasks::Task> = read(&app, &key, "/api/v1/tasks").await;
    assert_eq!(tasks.items[0].id, task.id);

    let created: wire::access::CreatedKey = app
        .client
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(&key)
        .json(&wire::access::NewApiKey {
            name: "typed".into(),
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created.key.starts_with(&created.api_key.prefix));
    let keys: Page<wire::access::ApiKey> = read(&app, &key, "/api/v1/api-keys").await;
    assert!(keys.items.iter().any(|k| k.id == created.api_key.id));
    let members: Page<wire::access::Member> = read(&app, &key, "/api/v1/users").await;
    assert!(
        members
            .items
            .iter()
            .any(|m| m.role == MemberRole::Admin.as_str())
    );
    let ledger: Page<wire::access::LedgerEntry> = read(&app, &key, "/api/v1/credits/ledger").await;
    assert!(ledger.items.iter().any(|e| e.delta == -1));
    let audit: Page<wire::audit::Entry> = read(&app, &key, "/api/v1/audit").await;
    assert!(audit.items.iter().any(|e| e.action == "task.submit"));
    let check: wire::audit::AuditCheck = read(&app, &key, "/api/v1/audit/verify").await;
    assert!(check.intact);
    let me: wire::session::SessionInfo = read(&app, &key, "/api/auth/session").await;
    assert_eq!(me.role, "admin");
    let health: wire::ops::Health = read(&app, &key, "/health").await;
    assert_eq!(health.status, "ok");
    let ready: wire::ops::Ready = read(&app, &key, "/ready").await;
    assert!(ready.database.migrations.is_current());

    // Requests are the same types: an agent created from a typed input.
    let input = wire::agents::AgentInput {
        name: Some("Typed".into()),
        role: Some("BUILDER".into()),
        ..Default::default()
    };
    let res = app
        .client
        .post(app.url("/api/v1/agents"))
        .bearer_auth(&key)
        .json(&input)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let agent: wire::agents::Agent = res.json().await.unwrap();
    assert_eq!(
        (agent.name.as_str(), agent.role.as_str()),
        ("Typed", "BUILDER")
    );
});

app_test!(
    the_cost_report_counts_a_task_and_names_bad_parameters,
    |app| {
        let key = setup(&app, false).await;
        let res = app
            .client
            .post(app.url("/api/v1/tasks"))
            .bearer_auth(&key)
            .json(&wire::tasks::SubmitTask {
                description: COMPLEX.into(),
                ..Default::default()
            })
            .send()
            .await
            .unwrap();
        let task: wire::tasks::Task = res.json().await.unwrap();
        wait_finished(&app, &key, &task.id).await;
        let detail: wire::tasks::TaskDetail =
            read(&app, &key, &format!("/api/v1/tasks/{}", task.id)).await;
        let report: wire::analytics::CostReport = read(
            &app,
            &key,
            "/api/v1/metrics/costs?granularity=hour&group_by=role",
        )
        .await;
        assert_eq!(report.total.cost_micros, detail.task.cost_micros);
        assert_eq!(
            report.total.prompt_tokens + report.total.completion_tokens,
            detail.task.tokens()
        );
        let roles: Vec<&str> = report.groups.iter().map(|g| g.group.as_str()).collect();
        for role in ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"] {
            assert!(roles.contains(&role), "{roles:?}");
        }
        let calls: Page<wire::calls::Call> = read(
            &app,
            &key,
            &format!("/api/v1/calls?task={}&limit=3", task.id),
        )
        .await;
        assert_eq!(calls.items.len(), 3);
        assert!(calls.next_cursor.is_some());
        assert!(
            calls
                .items
                .iter()
                .all(|c| c.task_id.as_deref() == Some(task.id.as_str())
                    && c.outcome == "success"
                    && c.provider_kind == "simulator")
        );
        let speed: wire::analytics::PerformanceReport =
            read(&app, &key, "/api/v1/metrics/performance").await;
        assert_eq!(speed.rows.len(), 1, "one model answered every call");
        assert_eq!(speed.rows[0].group, "simulator/sim-standard");
        assert_eq!(speed.rows[0].calls, report.total.calls);
        assert!(speed.rows[0].p95_latency_ms.is_some());
        let res = app
            .client
            .get(app.url("/api/v1/metrics/costs?group_by=role&format=csv"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = res.text().await.unwrap();
        assert!(csv.starts_with("period_start,group,label,calls"));
        // One row per role and day (two days if the task ran across midnight UTC).
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!((5..=10).contains(&rows.len()), "{csv}");
        for role in ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"] {
            assert!(
                rows.iter().any(|r| r.split(',').nth(1) == Some(role)),
                "{role}: {csv}"
            );
        }
        for (query, field) in [
            ("format=xml", "format"),
            ("granularity=hour&from=0&to=4000000000", "granularity"),
            ("granularity=fortnight", "granularity"),
            ("group_by=colour", "group_by"),
            ("from=yesterday", "from"),
            ("from=2000&to=1000", "to"),
        ] {
            let res = app
                .client
                .get(app.url(&format!("/api/v1/metrics/costs?{query}")))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["details"]["field"], field, "{query}: {body}");
        }
    }
);
