//! The alert evaluator on real rows, on both databases: each rule fires on what it watches,
//! opens one alert per subject however often it runs, and resolves it once the condition
//! clears (or the rule is switched off).

use std::sync::Arc;

use engine::alerts::evaluate;
use engine::events::EventBus;
use engine::seed::ensure_seeded;
use engine::store::agents;
use engine::store::llm_calls::{self, NewLlmCall};
use engine::{new_id, now_ms, store_test};

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn call(ws: &str, agent: &str, success: bool, cost: i64, at: i64) -> NewLlmCall {
    NewLlmCall {
        workspace_id: ws.into(),
        agent_id: Some(agent.into()),
        role: "BUILDER".into(),
        provider_kind: "simulator".into(),
        model: "sim-standard".into(),
        prompt_tokens: 100,
        completion_tokens: 50,
        cost_micros: cost,
        price_known: true,
        latency_ms: 200,
        success,
        error_class: (!success).then(|| "server_error".to_owned()),
        attempt: 1,
        created_at: at,
        ..NewLlmCall::default()
    }
}

async fn kinds_open(store: &engine::Store, ws: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, subject FROM alerts WHERE workspace_id = $1 AND state = 'open' \
         ORDER BY kind, subject",
    )
    .bind(ws)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

store_test!(failing_agents_open_one_alert_until_they_recover, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let bus = Arc::new(EventBus::new(store.clone(), 64));
    let agent = agents::list(store.pool(), &ws).await.unwrap()[0].id.clone();
    let now = now_ms();
    // 20 recent calls, 12 failed (60 % > 50 %).
    for i in 0..20 {
        llm_calls::record(
            &store,
            &call(&ws, &agent, i % 5 >= 3, 10, now - 20 * MINUTE + i * 1000),
        )
        .await
        .unwrap();
    }
    let first = evaluate::workspace(&store, &bus, &ws, now).await.unwrap();
    assert_eq!(first.opened.len(), 1, "{first:?}");
    assert_eq!(first.opened[0].kind, "failure_rate");
    assert_eq!(first.opened[0].subject, format!("agent:{agent}"));
    assert!(
        first.opened[0]
            .title
            .contains("12 of its last 20 calls failed")
    );
    // However often it runs: one alert.
    for _ in 0..3 {
        let again = evaluate::workspace(&store, &bus, &ws, now + 1000)
            .await
            .unwrap();
        assert!(again.opened.is_empty() && again.resolved.is_empty());
    }
    // 20 newer successes: the last 20 are fine, the alert clears by itself.
    for i in 0..20 {
        llm_calls::record(
            &store,
            &call(&ws, &agent, true, 10, now - 5 * MINUTE + i * 1000),
        )
        .await
        .unwrap();
    }
    let cleared = evaluate::workspace(&store, &bus, &ws, now + 2000)
        .await
        .unwrap();
    assert_eq!(cleared.resolved.len(), 1);
    assert_eq!(cleared.resolved[0].resolved_by, None);
    assert!(kinds_open(&store, &ws).await.is_empty());
    // Failing again later opens a new alert (the key was freed on resolution).
    for i in 0..20 {
        llm_calls::record(
            &store,
            &call(&ws, &agent, false, 10, now - MINUTE + i * 1000),
        )
        .await
        .unwrap();
    }
    let again = evaluate::workspace(&store, &bus, &ws, now + 3000)
        .await
        .unwrap();
    assert_eq!(again.opened.len(), 1);
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE workspace_id = $1")
        .bind(&ws)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(total, 2);
});

store_test!(a_spike_against_the_same_hours_average_fires, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let bus = Arc::new(EventBus::new(store.clone(), 64));
    let agent = agents::list(store.pool(), &ws).await.unwrap()[0].id.clone();
    let now = now_ms();
    // The same hour on each of the last 7 days: $0.50 each.
    for day in 1..=7 {
        llm_calls::record(&store, &call(&ws, &agent, true, 500_000, now - day * DAY))
            .await
            .unwrap();
    }
    // This hour: $0.90 — under 2 × $0.50, nothing.
    llm_calls::record(&store, &call(&ws, &agent, true, 900_000, now))
        .await
        .unwrap();
    let calm = evaluate::workspace(&store, &bus, &ws, now).await.unwrap();
    assert!(calm.opened.is_empty(), "{calm:?}");
    // Another $0.90: $1.80 > $1.00, and above the $1 floor.
    llm_calls::record(&store, &call(&ws, &agent, true, 900_000, now))
        .await
        .unwrap();
    let spike = evaluate::workspace(&store, &bus, &ws, now).await.unwrap();
    assert_eq!(spike.opened.len(), 1, "{spike:?}");
    assert_eq!(spike.opened[0].kind, "cost_spike");
    assert!(
        spike.opened[0].message.contains("$0.50"),
        "{}",
        spike.opened[0].message
    );
});

store_test!(
    agent_cost_is_off_until_switched_on_and_context_windows_fill,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let bus = Arc::new(EventBus::new(store.clone(), 64));
        let agent = agents::list(store.pool(), &ws).await.unwrap()[0].id.clone();
        let now = now_ms();
        llm_calls::record(&store, &call(&ws, &agent, true, 12_000_000, now - MINUTE))
            .await
            .unwrap();
        // A running task whose agent has used 900 of 1,000 tokens of context.
        let task = new_id();
        sqlx::query(
        "INSERT INTO tasks (id, workspace_id, description, workflow, status, created_at, started_at) \
         VALUES ($1, $2, 'Refactor the parser', 'feature_implementation', 'running', $3, $3)",
    )
    .bind(&task)
    .bind(&ws)
    .bind(now)
    .execute(store.pool())
    .await
    .unwrap();
        let run = new_id();
        sqlx::query(
        "INSERT INTO agent_runs (id, workspace_id, task_id, step_index, agent_id, role, status, \
         context_tokens, context_window, created_at) \
         VALUES ($1, $2, $3, 2, $4, 'BUILDER', 'active', 900, 1000, $5)",
    )
    .bind(&run)
    .bind(&ws)
    .bind(&task)
    .bind(&agent)
    .bind(now)
    .execute(store.pool())
    .await
    .unwrap();
        let outcome = evaluate::workspace(&store, &bus, &ws, now).await.unwrap();
        let kinds: Vec<&str> = outcome.opened.iter().map(|a| a.kind.as_str()).collect();
        // $12 in an hour is no spike without history, and the agent-cost rule is off by default.
        assert_eq!(kinds, ["context_window"], "{outcome:?}");
        assert_eq!(outcome.opened[0].link, format!("/tasks/{task}"));
        assert!(outcome.opened[0].title.contains("90 %"));

        // Switched on ($10 over 24 h): fires for the agent.
        sqlx::query(
            "INSERT INTO alert_rules (workspace_id, kind, enabled, severity, params, updated_at) \
         VALUES ($1, 'agent_cost', 1, 'warning', '{\"usd\": 10, \"hours\": 24}', $2)",
        )
        .bind(&ws)
        .bind(now)
        .execute(store.pool())
        .await
        .unwrap();
        let outcome = evaluate::workspace(&store, &bus, &ws, now).await.unwrap();
        assert_eq!(outcome.opened.len(), 1);
        assert_eq!(outcome.opened[0].kind, "agent_cost");

        // Later, with no event for longer than the stuck-agent rule's 10 minutes: that fires too.
        let later = now + 11 * MINUTE;
        let outcome = evaluate::workspace(&store, &bus, &ws, later).await.unwrap();
        assert_eq!(outcome.opened.len(), 1, "{outcome:?}");
        assert_eq!(outcome.opened[0].kind, "stuck_agent");
        assert!(outcome.opened[0].message.contains("The BUILDER"));

        // The run ends and the rule goes off: everything it opened clears.
        sqlx::query("UPDATE agent_runs SET status = 'completed' WHERE id = $1")
            .bind(&run)
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE alert_rules SET enabled = 0 WHERE workspace_id = $1")
            .bind(&ws)
            .execute(store.pool())
            .await
            .unwrap();
        let outcome = evaluate::workspace(&store, &bus, &ws, later).await.unwrap();
        let mut cleared: Vec<&str> = outcome.resolved.iter().map(|a| a.kind.as_str()).collect();
        cleared.sort_unstable();
        assert_eq!(cleared, ["agent_cost", "context_window"]);
        assert_eq!(
            kinds_open(&store, &ws).await,
            [("stuck_agent".to_owned(), format!("task:{task}"))]
        );
    }
);
