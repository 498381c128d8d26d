//! The runner's promises, on both databases: each task runs once however leases and workers
//! race, a task that keeps killing its worker ends, a cut-off call is still accounted, and no
//! event is lost when two buses publish to one topic.

use std::sync::Arc;
use std::time::Duration;

use engine::actions::Caller;
use engine::auth::secrets::MasterKey;
use engine::auth::{AuthMethod, Principal};
use engine::domain::MemberRole;
use engine::events::{Delivery, EventBus, EventKind, Outgoing, Subscription};
use engine::runner::{Runner, RunnerConfig, SubmitTask};
use engine::seed::ensure_seeded;
use engine::store::llm_calls::NewLlmCall;
use engine::store::queue::{self, Fence, Lease};
use engine::store::runs::{self, StepEnd};
use engine::store::sessions::ClientInfo;
use engine::store::{tasks, users};
use engine::{Error, Store, store_test};
use serde_json::json;

/// A seeded workspace with an admin who has credits; the simulator's options set to `sim`.
pub(crate) async fn setup(store: &Store, sim: &str) -> Principal {
    let ws = ensure_seeded(store).await.unwrap().workspace_id;
    let mut conn = store.pool().acquire().await.unwrap();
    let admin = users::create(
        &mut conn,
        &ws,
        "runner@example.com",
        None,
        MemberRole::Admin,
    )
    .await
    .unwrap();
    drop(conn);
    sqlx::query("UPDATE users SET credits = 1000 WHERE id = $1")
        .bind(&admin.id)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE providers SET base_url = 'sim://test?{sim}' WHERE kind = 'simulator'"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    Principal {
        user_id: admin.id,
        email: admin.email,
        workspace_id: ws,
        role: MemberRole::Admin,
        method: AuthMethod::ApiKey,
    }
}

pub(crate) fn runner(store: &Store, config: impl FnOnce(&mut RunnerConfig)) -> Arc<Runner> {
    let work = std::env::temp_dir().join(format!("fleetdeck-runner-{}", engine::new_id()));
    let mut c = RunnerConfig::new(work);
    c.workers = 1;
    c.poll = Duration::from_millis(20);
    config(&mut c);
    let bus = Arc::new(EventBus::new(store.clone(), 4096));
    Runner::new(store.clone(), bus, MasterKey::generate().unwrap(), c)
}

pub(crate) fn custom(steps: &[&str]) -> SubmitTask {
    SubmitTask {
        description: "Add input validation to the signup form".into(),
        workflow: "custom".into(),
        steps: steps.iter().map(|s| (*s).to_owned()).collect(),
        ..SubmitTask::default()
    }
}

async fn wait_finished(store: &Store, ws: &str, id: &str, limit: Duration) -> tasks::Task {
    let started = std::time::Instant::now();
    loop {
        let task = tasks::get(store.pool(), ws, id).await.unwrap();
        if task.is_finished() {
            return task;
        }
        assert!(
            started.elapsed() < limit,
            "task still {} after {limit:?}",
            task.status
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

store_test!(a_stale_lease_can_write_nothing, |store| {
    let who = setup(&store, "token_delay_ms=0").await;
    let idle = runner(&store, |_| {});
    let task = idle
        .submit(
            Caller::new(&who, &ClientInfo::default()),
            &custom(&["BUILDER"]),
        )
        .await
        .unwrap();
    // First claim, with a lease that runs out at once.
    let (_, first) = queue::claim(&store, "worker-a", 1).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (claimed, second) = queue::claim(&store, "worker-b", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, task.id);
    assert_eq!(claimed.attempts, 2);
    assert_eq!(second.epoch, first.epoch + 1);

    // Every write of the first claim is refused; nothing it tried is stored.
    let plan = claimed.planned_steps();
    let start = runs::StepStart {
        workspace_id: &who.workspace_id,
        task_id: &task.id,
        index: 0,
        plan: &plan[0],
        system_prompt: "s",
        input: "i",
        context_window: 0,
        versioned: true,
        persona: None,
    };
    assert!(matches!(
        runs::start_step(&store, &first, &start, |_| Vec::new()).await,
        Err(Error::LeaseLost(_))
    ));
    let (run_id, _) = runs::start_step(&store, &second, &start, |_| Vec::new())
        .await
        .unwrap();
    let call = NewLlmCall {
        workspace_id: who.workspace_id.clone(),
        task_id: Some(task.id.clone()),
        agent_run_id: Some(run_id.clone()),
        provider_kind: "simulator".into(),
        model: "sim-fast".into(),
        prompt_tokens: 10,
        completion_tokens: 5,
        cost_micros: 7,
        price_known: true,
        success: true,
        attempt: 1,
        created_at: engine::now_ms(),
        ..NewLlmCall::default()
    };
    let event = || {
        vec![Outgoing::new(
            format!("task:{}", task.id),
            EventKind::CostUpdate,
            json!({}),
        )]
    };
    assert!(matches!(
        runs::record_call(&store, &first, &call, 0, None, event(), None).await,
        Err(Error::LeaseLost(_))
    ));
    assert!(matches!(
        idle.bus()
            .publish_fenced(&who.workspace_id, &first, event())
            .await,
        Err(Error::LeaseLost(_))
    ));
    let end = StepEnd {
        run_id: &run_id,
        status: "completed",
        output: "stale",
        conversation: "[]",
        error: None,
    };
    assert!(matches!(
        runs::end_step(&store, &first, end, &who.workspace_id, event()).await,
        Err(Error::LeaseLost(_))
    ));
    assert!(!queue::renew(&store, &first, 60_000).await.unwrap());
    assert!(
        !queue::finish(&store, &first, "completed", None)
            .await
            .unwrap()
    );
    let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(calls, 0, "the stale claim recorded nothing");

    // The current claim writes normally.
    runs::record_call(&store, &second, &call, 0, None, event(), None)
        .await
        .unwrap();
    assert!(queue::renew(&store, &second, 60_000).await.unwrap());
    // A cancelled task still takes the record of a call cut off by the cancel (epoch fence),
    // but no more step writes (running fence).
    idle.cancel(Caller::new(&who, &ClientInfo::default()), &task.id)
        .await
        .unwrap();
    runs::record_call(&store, &second, &call, 0, None, event(), None)
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    assert!(matches!(
        queue::fence(&mut conn, &second, Fence::Running).await,
        Err(Error::LeaseLost(_))
    ));
    queue::fence(&mut conn, &second, Fence::Epoch)
        .await
        .unwrap();
    drop(conn);
    let stale = Lease {
        task_id: task.id.clone(),
        epoch: first.epoch,
    };
    assert!(
        !queue::finish(&store, &stale, "failed", Some("x"))
            .await
            .unwrap()
    );
    let task = tasks::get(store.pool(), &who.workspace_id, &task.id)
        .await
        .unwrap();
    assert_eq!(task.status, "cancelled");
    assert_eq!(task.cost_micros, 14, "two recorded calls of 7 micro-USD");
});

store_test!(
    two_workers_racing_for_one_task_run_each_step_once,
    |store| {
        // Every model call takes ~1 s (streamed at 25 ms a token) and worker A's lease is 300 ms,
        // renewed only every 2 s: A stalls mid-call, B takes the task over, and A must write
        // nothing more once B holds it.
        let who = setup(&store, "token_delay_ms=25&ttft_ms=0").await;
        let a = runner(&store, |c| {
            c.lease = Duration::from_millis(300);
            c.renew_every = Some(Duration::from_secs(2));
        });
        let task = a
            .submit(
                Caller::new(&who, &ClientInfo::default()),
                &custom(&["PLANNER", "REVIEWER"]),
            )
            .await
            .unwrap();
        let a_workers = a.start();
        // Let A claim it and start streaming, then start B.
        let started = std::time::Instant::now();
        loop {
            let t = tasks::get(store.pool(), &who.workspace_id, &task.id)
                .await
                .unwrap();
            if t.status == "running" {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let b = runner(&store, |c| c.lease = Duration::from_secs(30));
        let b_workers = b.start();
        let done =
            wait_finished(&store, &who.workspace_id, &task.id, Duration::from_secs(60)).await;
        a.shutdown();
        b.shutdown();
        for w in a_workers.into_iter().chain(b_workers) {
            let _ = w.await;
        }
        assert_eq!(done.status, "completed", "{:?}", done.error);
        assert!(done.attempts >= 2, "B took the task over from A");

        // Each step ran once: one agent run per step, completed.
        let runs: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT step_index, status, conversation FROM agent_runs WHERE task_id = $1 ORDER BY step_index",
    )
    .bind(&task.id)
    .fetch_all(store.pool())
    .await
    .unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|(_, s, _)| s == "completed"));
        // Each attempt recorded once: the successful calls are exactly the assistant turns of the
        // stored conversations, and the task's cost is exactly the sum of its calls.
        let turns: usize = runs
            .iter()
            .map(|(_, _, c)| {
                serde_json::from_str::<Vec<serde_json::Value>>(c)
                    .unwrap()
                    .iter()
                    .filter(|m| m["role"] == "assistant")
                    .count()
            })
            .sum();
        let (ok_calls, cost): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(success), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) \
         FROM llm_calls WHERE task_id = $1",
    )
    .bind(&task.id)
    .fetch_one(store.pool())
    .await
    .unwrap();
        assert_eq!(
            ok_calls,
            i64::try_from(turns).unwrap(),
            "one record per answered turn"
        );
        assert_eq!(done.cost_micros, cost);
        let (completions,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM events WHERE topic = $1 AND kind = 'step_completed'",
        )
        .bind(format!("task:{}", task.id))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(completions, 2, "each step announced complete once");
    }
);

store_test!(
    a_task_that_kills_its_worker_on_every_claim_fails_after_the_cap,
    |store| {
        let who = setup(&store, "token_delay_ms=0").await;
        let r = runner(&store, |c| c.max_reclaims = 3);
        let task = r
            .submit(
                Caller::new(&who, &ClientInfo::default()),
                &custom(&["BUILDER"]),
            )
            .await
            .unwrap();
        // Four claims whose workers die (their leases simply run out): the first and 3 re-claims.
        for n in 1..=4 {
            let (t, _) = queue::claim(&store, &format!("doomed-{n}"), 1)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(t.attempts, n);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let workers = r.start();
        let done =
            wait_finished(&store, &who.workspace_id, &task.id, Duration::from_secs(20)).await;
        r.shutdown();
        for w in workers {
            let _ = w.await;
        }
        assert_eq!(done.status, "failed");
        let error = done.error.unwrap_or_default();
        assert!(error.contains("gave up after 5 claims"), "{error}");
        let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE task_id = $1")
            .bind(&task.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(calls, 0, "it was not run a fifth time");
    }
);

store_test!(
    a_cancel_mid_stream_records_the_call_with_its_partial_usage,
    |store| {
        let who = setup(&store, "token_delay_ms=40&ttft_ms=0").await;
        let r = runner(&store, |_| {});
        let task = r
            .submit(
                Caller::new(&who, &ClientInfo::default()),
                &custom(&["PLANNER"]),
            )
            .await
            .unwrap();
        let mut sub = Subscription::new(
            r.bus(),
            &who.workspace_id,
            vec![(format!("task:{}", task.id), 0)],
        );
        let workers = r.start();
        // Wait until tokens are streaming, then cancel.
        'outer: loop {
            let batch = tokio::time::timeout(Duration::from_secs(20), sub.next(r.bus()))
                .await
                .expect("events")
                .unwrap()
                .unwrap();
            for d in batch {
                if let Delivery::Event(e) = d
                    && e.kind == EventKind::Token
                {
                    break 'outer;
                }
            }
        }
        r.cancel(Caller::new(&who, &ClientInfo::default()), &task.id)
            .await
            .unwrap();
        // The worker records the cut-off attempt as it stops.
        let started = std::time::Instant::now();
        let rows = loop {
            let rows: Vec<(i64, String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT success, COALESCE(error_class, ''), prompt_tokens, completion_tokens, usage_estimated, price_known \
             FROM llm_calls WHERE task_id = $1",
        )
        .bind(&task.id)
        .fetch_all(store.pool())
        .await
        .unwrap();
            if !rows.is_empty() || started.elapsed() > Duration::from_secs(10) {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        r.shutdown();
        for w in workers {
            let _ = w.await;
        }
        assert_eq!(rows.len(), 1, "one record for the cut-off call: {rows:?}");
        let (success, class, prompt, completion, estimated, _) = rows[0].clone();
        assert_eq!((success, class.as_str()), (0, "cancelled"));
        assert!(
            prompt > 0 && completion > 0,
            "partial usage {prompt}/{completion}"
        );
        assert_eq!(
            estimated, 1,
            "the simulator sent no usage before the cut: estimated"
        );
        let t = tasks::get(store.pool(), &who.workspace_id, &task.id)
            .await
            .unwrap();
        assert_eq!(t.status, "cancelled");
        assert_eq!(t.prompt_tokens, prompt, "the task counts the cut-off call");
    }
);

store_test!(two_buses_on_one_database_drop_no_event, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let one = Arc::new(EventBus::new(store.clone(), 64));
    let two = Arc::new(EventBus::new(store.clone(), 64));
    let mut handles = Vec::new();
    for bus in [one.clone(), two.clone()] {
        for _ in 0..4 {
            let (bus, ws) = (bus.clone(), ws.clone());
            handles.push(tokio::spawn(async move {
                for i in 0..50 {
                    bus.publish(&ws, "fleet", EventKind::CostUpdate, json!({ "i": i }))
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for h in handles {
        h.await.unwrap();
    }
    let seqs: Vec<(i64,)> = sqlx::query_as(
        "SELECT seq FROM events WHERE workspace_id = $1 AND topic = 'fleet' ORDER BY seq",
    )
    .bind(&ws)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let seqs: Vec<i64> = seqs.into_iter().map(|(s,)| s).collect();
    assert_eq!(seqs, (1..=400).collect::<Vec<_>>());
    assert_eq!(one.last_seq(&ws, "fleet").await.unwrap(), 400);
});

store_test!(
    a_slow_subscriber_that_is_interrupted_gets_every_event_once,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        // A tiny broadcast buffer makes the reader lag and catch up from the database.
        let bus = Arc::new(EventBus::new(store.clone(), 16));
        let mut sub = Subscription::new(&bus, &ws, vec![("fleet".into(), 0)]);
        let publisher = {
            let (bus, ws) = (bus.clone(), ws.clone());
            tokio::spawn(async move {
                for i in 0..1500 {
                    bus.publish(&ws, "fleet", EventKind::CostUpdate, json!({ "i": i }))
                        .await
                        .unwrap();
                }
            })
        };
        let mut seen = Vec::new();
        let mut interrupted = 0;
        while seen.len() < 1500 {
            // Like the socket's select! on a client's pings: `next` is dropped whenever the timer
            // wins, mid-backlog or mid-wait.
            tokio::select! {
                next = sub.next(&bus) => {
                    for d in next.unwrap().unwrap() {
                        match d {
                            Delivery::Event(e) => seen.push(e.seq),
                            Delivery::Reset { .. } => panic!("no reset within the backlog limit"),
                        }
                    }
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                () = tokio::time::sleep(Duration::from_micros(300)) => interrupted += 1,
            }
        }
        publisher.await.unwrap();
        assert!(interrupted > 0, "the reader was interrupted");
        assert_eq!(seen, (1..=1500).collect::<Vec<_>>());
    }
);

store_test!(
    a_reader_far_behind_gets_a_reset_and_the_newest_events,
    |store| {
        let ws = ensure_seeded(&store).await.unwrap().workspace_id;
        let bus = EventBus::with_max_backlog(store.clone(), 64, 100);
        for i in 0..350 {
            bus.publish(&ws, "costs", EventKind::CostUpdate, json!({ "i": i }))
                .await
                .unwrap();
        }
        let mut sub = Subscription::new(&bus, &ws, vec![("costs".into(), 0)]);
        let mut deliveries = Vec::new();
        loop {
            let page = sub.next_backlog(&bus).await.unwrap();
            if page.is_empty() {
                break;
            }
            deliveries.extend(page);
        }
        assert_eq!(
            deliveries[0],
            Delivery::Reset {
                topic: "costs".into(),
                seq: 250
            }
        );
        let seqs: Vec<i64> = deliveries[1..]
            .iter()
            .map(|d| match d {
                Delivery::Event(e) => e.seq,
                Delivery::Reset { .. } => panic!("one reset"),
            })
            .collect();
        assert_eq!(seqs, (251..=350).collect::<Vec<_>>());
    }
);

store_test!(pruned_token_events_leave_a_reset_not_a_gap, |store| {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let bus = EventBus::new(store.clone(), 64);
    let topic = "task:0190aaaa-0000-7000-8000-000000000000";
    for kind in [
        EventKind::StepStarted,
        EventKind::Token,
        EventKind::Token,
        EventKind::StepCompleted,
    ] {
        bus.publish(&ws, topic, kind, json!({})).await.unwrap();
    }
    assert_eq!(bus.prune_tokens(engine::now_ms() + 1).await.unwrap(), 2);
    let mut sub = Subscription::new(&bus, &ws, vec![(topic.to_owned(), 0)]);
    let page = sub.next_backlog(&bus).await.unwrap();
    let seen: Vec<String> = page
        .iter()
        .map(|d| match d {
            Delivery::Event(e) => format!("{}:{}", e.seq, e.kind.as_str()),
            Delivery::Reset { seq, .. } => format!("reset after {seq}"),
        })
        .collect();
    assert_eq!(
        seen,
        ["1:step_started", "reset after 3", "4:step_completed"],
        "the pruned seqs are announced, not silently skipped"
    );
});
