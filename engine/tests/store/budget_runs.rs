//! Budgets around real runs, on both databases (issue 11's acceptance): 40 tasks submitted at
//! once against a hard workspace budget that covers about ten — the recorded spend never
//! passes the budget, every task that did not complete failed with `BUDGET_EXCEEDED`, the
//! budget's spend is exactly the calls' cost, and no hold is left once all are finished; then a
//! spent budget refuses new tasks up front without taking a credit.

use std::time::Duration;

use engine::Error;
use engine::actions::Caller;
use engine::store::sessions::ClientInfo;
use engine::store::tasks;
use engine::store_test;
use wire::budgets::BudgetInput;

use crate::runner::{custom, runner, setup};

async fn finished(store: &engine::Store, ws: &str, id: &str) -> tasks::Task {
    let started = std::time::Instant::now();
    loop {
        let task = tasks::get(store.pool(), ws, id).await.unwrap();
        if task.is_finished() {
            return task;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "task still {}",
            task.status
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn spent_on_calls(store: &engine::Store, ws: &str) -> i64 {
    let (cost,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM llm_calls WHERE workspace_id = $1",
    )
    .bind(ws)
    .fetch_one(store.pool())
    .await
    .unwrap();
    cost
}

store_test!(a_hard_budget_stops_a_burst_of_tasks_exactly, |store| {
    let who = setup(&store, "token_delay_ms=0&ttft_ms=0").await;
    let ws = who.workspace_id.clone();
    let client = ClientInfo::default();
    let caller = Caller::new(&who, &client);
    let r = runner(&store, |c| c.workers = 4);
    let workers = r.start();

    // What one task costs, without a budget.
    let first = r.submit(caller, &custom(&["BUILDER"])).await.unwrap();
    let first = finished(&store, &ws, &first.id).await;
    assert_eq!(first.status, "completed", "{:?}", first.error);
    let one = spent_on_calls(&store, &ws).await;
    assert!(one > 0);
    // Agents answer in at most 300 tokens here: each call's worst case stays well below the
    // budget (with the seeded 4096 it would be a third of it).
    sqlx::query("UPDATE agents SET max_tokens = 300")
        .execute(store.pool())
        .await
        .unwrap();

    // A hard budget with room for about ten more.
    let budget = engine::budgets::create(
        &store,
        caller,
        &BudgetInput {
            name: "Burst".into(),
            scope: "workspace".into(),
            subject_id: String::new(),
            period: "month".into(),
            amount_usd: (one * 11) as f64 / 1e6,
            hard: true,
            thresholds: vec![50, 80, 100],
        },
    )
    .await
    .unwrap();
    let request = custom(&["BUILDER"]);
    let submitted =
        futures_util::future::join_all((0..40).map(|_| r.submit(caller, &request))).await;
    let mut outcomes = (0, 0);
    for task in submitted {
        match task {
            Ok(task) => {
                let task = finished(&store, &ws, &task.id).await;
                if task.status == "completed" {
                    outcomes.0 += 1;
                } else {
                    assert_eq!(task.status, "failed");
                    let error = task.error.unwrap_or_default();
                    assert!(error.contains("BUDGET_EXCEEDED"), "{error}");
                    assert!(error.contains("\"Burst\""), "{error}");
                    outcomes.1 += 1;
                }
            }
            Err(Error::BudgetExceeded(_)) => outcomes.1 += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    // Calls that only other calls' holds stood in the way of waited for them to settle: most
    // of the room was used (about ten tasks' worth, less the last calls' worst cases).
    assert!(outcomes.0 >= 5 && outcomes.1 >= 20, "{outcomes:?}");

    // Never past the budget; its spend is exactly what the calls cost; nothing left held.
    let (spent, reserved, amount): (i64, i64, i64) = sqlx::query_as(
        "SELECT p.spent_micros, p.reserved_micros, b.amount_micros FROM budget_periods p \
         JOIN budgets b ON b.id = p.budget_id WHERE b.id = $1",
    )
    .bind(&budget.id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(spent <= amount, "{spent} > {amount}");
    assert_eq!(spent, spent_on_calls(&store, &ws).await - one);
    assert_eq!(reserved, 0);
    let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM budget_reservations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(held, 0);

    // Once spent, a new task is refused before any credit is taken.
    sqlx::query("UPDATE budget_periods SET spent_micros = $2 WHERE budget_id = $1")
        .bind(&budget.id)
        .bind(amount)
        .execute(store.pool())
        .await
        .unwrap();
    let (credits,): (i64,) = sqlx::query_as("SELECT credits FROM users WHERE id = $1")
        .bind(&who.user_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    match r.submit(caller, &custom(&["BUILDER"])).await {
        Err(e @ Error::BudgetExceeded(_)) => {
            assert_eq!(
                (e.http_status(), e.code().as_str()),
                (402, "BUDGET_EXCEEDED")
            );
        }
        other => panic!("{other:?}"),
    }
    let (after,): (i64,) = sqlx::query_as("SELECT credits FROM users WHERE id = $1")
        .bind(&who.user_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(after, credits);
    r.shutdown();
    for w in workers {
        let _ = w.await;
    }
});
