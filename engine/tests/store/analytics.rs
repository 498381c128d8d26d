use engine::analytics::{DAY_MS, dashboard};
use engine::seed::ensure_seeded;
use engine::store::llm_calls::{HOUR_MS, NewLlmCall, record};
use engine::store_test;

fn call(ws: &str, at: i64, success: bool, cost: i64) -> NewLlmCall {
    NewLlmCall {
        workspace_id: ws.into(),
        provider_kind: "simulator".into(),
        model: "sim-standard".into(),
        prompt_tokens: 100,
        completion_tokens: 50,
        cost_micros: cost,
        latency_ms: 200,
        success,
        error_class: (!success).then(|| "server_error".into()),
        attempt: 1,
        created_at: at,
        ..NewLlmCall::default()
    }
}

store_test!(dashboard_counts_come_from_calls_and_rollups, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    // A fixed "now": 10:30 UTC on some day.
    let today = 1_790_000_000_000 - 1_790_000_000_000 % DAY_MS;
    let now = today + 10 * HOUR_MS + 30 * 60_000;

    let empty = dashboard(&store, &ws, now, 14).await.unwrap();
    assert_eq!(empty.agents, 5);
    assert_eq!(empty.providers, 1);
    assert_eq!(empty.calls_today, 0);
    assert_eq!(empty.calls_per_day.len(), 14);
    assert!(empty.calls_per_day.iter().all(|d| d.calls == 0));
    assert_eq!(empty.agents_by_role.len(), 5);

    // Two calls in the same hour today, one in another hour today, one yesterday.
    record(&store, &call(&ws, today + 10 * HOUR_MS + 1, true, 1_000))
        .await
        .unwrap();
    record(&store, &call(&ws, today + 10 * HOUR_MS + 2, false, 0))
        .await
        .unwrap();
    record(&store, &call(&ws, today + 2 * HOUR_MS, true, 2_500))
        .await
        .unwrap();
    record(&store, &call(&ws, today - HOUR_MS, true, 7_000))
        .await
        .unwrap();

    let stats = dashboard(&store, &ws, now, 14).await.unwrap();
    assert_eq!(stats.calls_today, 3);
    assert_eq!(stats.cost_today_micros, 3_500);
    assert_eq!(stats.tokens_today, 450);
    let last = stats.calls_per_day.last().unwrap();
    assert_eq!((last.day_ms, last.calls), (today, 3));
    let yesterday = &stats.calls_per_day[12];
    assert_eq!(
        (yesterday.day_ms, yesterday.calls, yesterday.cost_micros),
        (today - DAY_MS, 1, 7_000)
    );

    // The two calls of one hour share the hour's rollup rows, one per outcome.
    let (calls, failures): (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(calls) AS BIGINT), \
         CAST(SUM(CASE WHEN outcome = 'failed' THEN calls ELSE 0 END) AS BIGINT) \
         FROM call_rollups_hourly WHERE workspace_id = $1 AND hour_ms = $2",
    )
    .bind(&ws)
    .bind(today + 10 * HOUR_MS)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((calls, failures), (2, 1));
    let (raw,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE workspace_id = $1")
        .bind(&ws)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(raw, 4);

    // Task counts: the total from the counter the triggers keep (insert adds, delete takes
    // back, a status change moves nothing), open tasks by status; checked against COUNT(*).
    for (i, status) in [
        "queued",
        "queued",
        "running",
        "completed",
        "failed",
        "queued",
    ]
    .iter()
    .enumerate()
    {
        sqlx::query(
            "INSERT INTO tasks (id, workspace_id, description, workflow, status, created_at) \
             VALUES ($1, $2, 'counted', 'bug_fix', $3, $4)",
        )
        .bind(format!("count-{i}"))
        .bind(&ws)
        .bind(status)
        .bind(now)
        .execute(store.writer())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE tasks SET status = 'running' WHERE id = 'count-0'")
        .execute(store.writer())
        .await
        .unwrap();
    sqlx::query("DELETE FROM tasks WHERE id IN ('count-1', 'count-4')")
        .execute(store.writer())
        .await
        .unwrap();
    let (counted,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tasks WHERE workspace_id = $1")
        .bind(&ws)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let stats = dashboard(&store, &ws, now, 14).await.unwrap();
    assert_eq!(
        (stats.tasks_total, stats.tasks_running, stats.tasks_queued),
        (counted, 2, 1)
    );
    assert_eq!(counted, 4);

    // Another workspace sees none of it.
    let other = engine::store::workspaces::create(store.pool(), "Other", "other")
        .await
        .unwrap();
    let theirs = dashboard(&store, &other.id, now, 14).await.unwrap();
    assert_eq!(
        (theirs.calls_today, theirs.agents, theirs.tasks_total),
        (0, 0, 0)
    );
});
