//! Group commit (`engine::store::group`), on both databases: many workers' calls recorded at
//! once share transactions, yet each is recorded exactly once, every counter is the sum of its
//! calls, a stale claim's record is refused without failing the records batched with it, and
//! one bad record fails only its own caller.

use std::collections::BTreeSet;
use std::time::Duration;

use engine::actions::Caller;
use engine::events::{EventKind, Outgoing};
use engine::store::llm_calls::NewLlmCall;
use engine::store::queue::{self, Lease};
use engine::store::runs::{self, Answered};
use engine::store::sessions::ClientInfo;
use engine::{Error, Store, store_test};
use futures_util::future::join_all;
use serde_json::json;

use crate::runner::{custom, runner, setup};

const TASKS: usize = 6;
const CALLS: usize = 30;

/// A claimed task with a started step: its lease and run id.
async fn claimed_step(store: &Store, ws: &str) -> (Lease, String) {
    let (task, lease) = queue::claim(store, "bench", 60_000).await.unwrap().unwrap();
    let plan = task.planned_steps();
    let start = runs::StepStart {
        workspace_id: ws,
        task_id: &task.id,
        index: 0,
        plan: &plan[0],
        system_prompt: "s",
        input: "i",
        context_window: 0,
        versioned: true,
        persona: None,
    };
    let (run_id, _) = runs::start_step(store, &lease, &start, |_| Vec::new())
        .await
        .unwrap();
    (lease, run_id)
}

fn call(ws: &str, lease: &Lease, run_id: &str, cost: i64, priced: bool) -> NewLlmCall {
    NewLlmCall {
        workspace_id: ws.to_owned(),
        task_id: Some(lease.task_id.clone()),
        agent_run_id: Some(run_id.to_owned()),
        provider_kind: "simulator".into(),
        model: "sim-fast".into(),
        prompt_tokens: 10,
        completion_tokens: cost,
        cost_micros: if priced { cost } else { 0 },
        price_known: priced,
        latency_ms: 3,
        success: true,
        attempt: 1,
        created_at: engine::now_ms(),
        ..NewLlmCall::default()
    }
}

fn announce(lease: &Lease, n: usize) -> Vec<Outgoing> {
    vec![Outgoing::new(
        format!("task:{}", lease.task_id),
        EventKind::CostUpdate,
        json!({ "n": n }),
    )]
}

store_test!(
    concurrent_calls_share_commits_and_are_each_recorded_once,
    |store| {
        let who = setup(&store, "token_delay_ms=0").await;
        let ws = who.workspace_id.clone();
        let idle = runner(&store, |_| {});
        for _ in 0..=TASKS {
            idle.submit(
                Caller::new(&who, &ClientInfo::default()),
                &custom(&["BUILDER"]),
            )
            .await
            .unwrap();
        }
        let mut steps = Vec::new();
        for _ in 0..TASKS {
            steps.push(claimed_step(&store, &ws).await);
        }
        // One more task whose first claim runs out and is taken over: its records are stale.
        let (_, stale) = queue::claim(&store, "worker-a", 1).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (_, current) = queue::claim(&store, "worker-b", 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stale.task_id, current.task_id);

        // Every task's calls at once, the stale claim's interleaved, and one call naming an agent
        // that does not exist (a foreign-key violation) in the crowd.
        let mut jobs = Vec::new();
        for (t, (step_lease, step_run)) in steps.iter().enumerate() {
            for n in 1..=CALLS {
                let (store_, ws_) = (store.clone(), ws.clone());
                let (lease, run_id) = (step_lease.clone(), step_run.clone());
                jobs.push(tokio::spawn(async move {
                    let priced = n % 10 != 0;
                    let c = call(&ws_, &lease, &run_id, n as i64, priced);
                    let answered = (n == CALLS).then_some(Answered {
                        provider_id: None,
                        fallback_note: Some("openai/gpt-4o: auth (HTTP 401) → fell back"),
                    });
                    let context = if n == CALLS { 777 } else { 0 };
                    let r = runs::record_call(
                        &store_,
                        &lease,
                        &c,
                        context,
                        answered,
                        announce(&lease, n),
                        None,
                    )
                    .await;
                    ("ok", t, r.map(|(_, events)| events))
                }));
                if n % 10 == 0 && t == 0 {
                    let (store, ws) = (store.clone(), ws.clone());
                    let stale = stale.clone();
                    jobs.push(tokio::spawn(async move {
                        let c = call(&ws, &stale, "", 1000, true);
                        let c = NewLlmCall {
                            agent_run_id: None,
                            ..c
                        };
                        let r = runs::record_call(
                            &store,
                            &stale,
                            &c,
                            0,
                            None,
                            announce(&stale, n),
                            None,
                        )
                        .await;
                        ("stale", t, r.map(|(_, events)| events))
                    }));
                }
                if n == CALLS / 2 && t == 1 {
                    let (store, ws) = (store.clone(), ws.clone());
                    let (lease, run_id) = (step_lease.clone(), step_run.clone());
                    jobs.push(tokio::spawn(async move {
                        let c = NewLlmCall {
                            agent_id: Some("no-such-agent".into()),
                            ..call(&ws, &lease, &run_id, 5000, true)
                        };
                        let r = runs::record_call(
                            &store,
                            &lease,
                            &c,
                            0,
                            None,
                            announce(&lease, 0),
                            None,
                        )
                        .await;
                        ("bad", t, r.map(|(_, events)| events))
                    }));
                }
            }
        }
        let mut seqs: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); TASKS];
        for joined in join_all(jobs).await {
            let (what, t, result) = joined.unwrap();
            match (what, result) {
                ("ok", Ok(events)) => {
                    assert_eq!(events.len(), 1);
                    assert!(seqs[t].insert(events[0].seq), "a seq handed out twice");
                }
                ("stale", Err(Error::LeaseLost(_))) => {}
                ("bad", Err(Error::Db(_))) => {}
                (what, result) => panic!("{what} record answered {result:?}"),
            }
        }
        // Each task's call events follow its submission's with no gap and no repeat.
        for s in &seqs {
            let got: Vec<i64> = s.iter().copied().collect();
            assert_eq!(got, (2..2 + CALLS as i64).collect::<Vec<_>>());
        }

        // Each call once; every counter the sum of its calls.
        let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(calls, (TASKS * CALLS) as i64);
        let priced: i64 = (1..=CALLS as i64).filter(|n| n % 10 != 0).sum();
        let tokens: i64 = (1..=CALLS as i64).sum();
        let unpriced = (CALLS / 10) as i64;
        for (lease, run_id) in &steps {
            let task: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT cost_micros, prompt_tokens, completion_tokens, unpriced_calls FROM tasks WHERE id = $1",
        )
        .bind(&lease.task_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
            assert_eq!(task, (priced, 10 * CALLS as i64, tokens, unpriced));
            let run: (i64, i64, i64, i64, i64, Option<String>) = sqlx::query_as(
            "SELECT cost_micros, prompt_tokens, completion_tokens, unpriced_calls, context_tokens, \
             fallback_note FROM agent_runs WHERE id = $1",
        )
        .bind(run_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
            assert_eq!(
                run,
                (
                    priced,
                    10 * CALLS as i64,
                    tokens,
                    unpriced,
                    777,
                    Some("openai/gpt-4o: auth (HTTP 401) → fell back".to_owned())
                )
            );
        }
        let (stale_cost,): (i64,) = sqlx::query_as("SELECT cost_micros FROM tasks WHERE id = $1")
            .bind(&current.task_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(stale_cost, 0, "the stale claim's calls were refused");
        let rollup: (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST(SUM(calls) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT), \
         CAST(SUM(unpriced_calls) AS BIGINT) FROM call_rollups_hourly",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            rollup,
            (
                (TASKS * CALLS) as i64,
                TASKS as i64 * priced,
                TASKS as i64 * unpriced
            )
        );
    }
);

store_test!(
    calls_outside_tasks_commit_in_one_transaction_and_one_bad_one_fails_alone,
    |store| {
        // The gateway's path: calls with no task, no step and no event, one round trip per batch
        // on SQLite with its own BEGIN and COMMIT.
        let ws = engine::seed::ensure_seeded(&store)
            .await
            .unwrap()
            .workspace_id;
        let (provider,): (String,) =
            sqlx::query_as("SELECT id FROM providers WHERE workspace_id = $1 LIMIT 1")
                .bind(&ws)
                .fetch_one(store.pool())
                .await
                .unwrap();
        let base = engine::now_ms();
        let call = |i: i64| NewLlmCall {
            workspace_id: ws.clone(),
            provider_kind: "simulator".into(),
            provider_id: Some(provider.clone()),
            model: "sim-fast".into(),
            prompt_tokens: 10,
            completion_tokens: i,
            cost_micros: i,
            price_known: true,
            latency_ms: 5,
            success: i % 4 != 0,
            error_class: (i % 4 == 0).then(|| "timeout".to_owned()),
            attempt: 1,
            created_at: base + i,
            ..NewLlmCall::default()
        };
        let mut jobs = Vec::new();
        for i in 1..=40 {
            let (store, c) = (store.clone(), call(i));
            jobs.push(tokio::spawn(async move {
                engine::store::llm_calls::record(&store, &c).await
            }));
        }
        let bad = NewLlmCall {
            agent_id: Some("no-such-agent".into()),
            ..call(1000)
        };
        let store_ = store.clone();
        let bad =
            tokio::spawn(async move { engine::store::llm_calls::record(&store_, &bad).await });
        for job in join_all(jobs).await {
            job.unwrap().unwrap();
        }
        assert!(matches!(bad.await.unwrap(), Err(Error::Db(_))));

        // The writer's connection is not left inside a transaction: the next call commits.
        engine::store::llm_calls::record(&store, &call(41))
            .await
            .unwrap();
        let expected: i64 = (1..=41).sum();
        for table in ["llm_calls", "call_rollups_hourly", "call_rollups_daily"] {
            let column = if table == "llm_calls" {
                "COUNT(*), CAST(SUM(cost_micros) AS BIGINT)"
            } else {
                "CAST(SUM(calls) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT)"
            };
            let got: (i64, i64) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {column} FROM {table}")))
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            assert_eq!(got, (41, expected), "{table}");
        }

        // Providers' marks: written within a second, the latest of each kind.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let marks: (Option<i64>, Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT last_success_at, last_failure_at, last_error FROM providers WHERE id = $1",
        )
        .bind(&provider)
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            marks,
            (Some(base + 41), Some(base + 40), Some("timeout".to_owned()))
        );
    }
);

store_test!(
    a_transaction_of_its_own_gets_the_write_connection_while_calls_keep_coming,
    |store| {
        // The group writer keeps the write connection from one batch to the next while calls
        // keep coming; it must still hand it over for a turn (on SQLite there is one).
        let ws = engine::seed::ensure_seeded(&store)
            .await
            .unwrap()
            .workspace_id;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut writers = Vec::new();
        for _ in 0..8 {
            let (store, ws, stop) = (store.clone(), ws.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let mut recorded = 0_i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let c = NewLlmCall {
                        workspace_id: ws.clone(),
                        provider_kind: "simulator".into(),
                        model: "sim-fast".into(),
                        latency_ms: 3,
                        success: true,
                        attempt: 1,
                        created_at: engine::now_ms(),
                        ..NewLlmCall::default()
                    };
                    engine::store::llm_calls::record(&store, &c).await.unwrap();
                    recorded += 1;
                }
                recorded
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let begun = tokio::time::timeout(Duration::from_secs(5), async {
            let mut tx = store.begin().await.unwrap();
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            n
        })
        .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut recorded = 0;
        for w in join_all(writers).await {
            recorded += w.unwrap();
        }
        let seen = begun.expect("a transaction waited for the write connection behind the calls");
        assert!(
            seen > 0,
            "calls were being recorded when the transaction began"
        );
        let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(calls, recorded, "every acknowledged call is stored, once");
    }
);
