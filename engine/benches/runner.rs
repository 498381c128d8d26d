//! `make bench`: the runner's throughput and its own overhead, with a zero-latency simulator so
//! that every millisecond measured is Fleetdeck's (queue, prompts, tools, records, events), on
//! SQLite and Postgres side by side in one run.
//!
//! Prints tasks/s and calls/s, and the runner's overhead per model call (p50/p99): a step's wall
//! time divided by its calls, since the simulator itself answers in ~0 ms. SQLite with 1, 4 and
//! 8 workers, Postgres with 1, 2, 4 and 8 (where `FOR UPDATE SKIP LOCKED` lets workers claim
//! different tasks at once), each on a fresh database, beside the goal and the figures measured
//! before the trustworthy-execution issue. `FLEETDECK_BENCH_TASKS` sets the tasks per run
//! (default 200: shorter runs are too noisy on a shared machine). Then 8 workers again with a
//! hard workspace budget and a soft member budget: the cost of enforcement, side by side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::Store;
use engine::actions::Caller;
use engine::auth::secrets::MasterKey;
use engine::auth::{AuthMethod, Principal};
use engine::domain::MemberRole;
use engine::events::EventBus;
use engine::runner::{Runner, RunnerConfig, SubmitTask};
use engine::seed::ensure_seeded;
use engine::store::sessions::ClientInfo;
use engine::store::users;
use engine::testing::TestDb;

struct Figures {
    tasks_per_s: f64,
    calls_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn run(store: Store, tasks: usize, workers: usize, budgets: bool) -> Figures {
    let ws = ensure_seeded(&store).await.unwrap().workspace_id;
    let mut conn = store.pool().acquire().await.unwrap();
    let admin = users::create(&mut conn, &ws, "bench@example.com", None, MemberRole::Admin)
        .await
        .unwrap();
    drop(conn);
    sqlx::query("UPDATE users SET credits = 1000000 WHERE id = $1")
        .bind(&admin.id)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE providers SET base_url = 'sim://bench?token_delay_ms=0&ttft_ms=0' WHERE kind = 'simulator'")
        .execute(store.pool())
        .await
        .unwrap();
    let who = Principal {
        user_id: admin.id,
        email: admin.email,
        workspace_id: ws.clone(),
        role: MemberRole::Admin,
        method: AuthMethod::ApiKey,
    };
    if budgets {
        // Enforcement's cost: a hard workspace budget and a soft one on the submitting member,
        // both with room for everything, so every attempt reserves and settles on two budgets.
        for (name, scope, subject, hard) in [
            ("Fleet", "workspace", String::new(), true),
            ("Bench member", "user", who.user_id.clone(), false),
        ] {
            engine::budgets::create(
                &store,
                Caller::new(&who, &ClientInfo::default()),
                &wire::budgets::BudgetInput {
                    name: name.into(),
                    scope: scope.into(),
                    subject_id: subject,
                    period: "month".into(),
                    amount_usd: 1_000_000.0,
                    hard,
                    thresholds: vec![50, 80, 100],
                },
            )
            .await
            .unwrap();
        }
    }
    let work = std::env::temp_dir().join(format!("fleetdeck-bench-{}", engine::new_id()));
    let mut config = RunnerConfig::new(work.clone());
    config.workers = workers;
    let bus = Arc::new(EventBus::new(store.clone(), 4096));
    let runner = Runner::new(store.clone(), bus, MasterKey::generate().unwrap(), config);
    let request = SubmitTask {
        description: "Add rate limiting to the public API across all endpoints with per-key quotas in the database".into(),
        workflow: "feature_implementation".into(),
        ..SubmitTask::default()
    };
    for _ in 0..tasks {
        runner
            .submit(Caller::new(&who, &ClientInfo::default()), &request)
            .await
            .unwrap();
    }
    // The clock starts when the workers do: submitting is the API's work, measured elsewhere.
    let started = Instant::now();
    let workers = runner.start();
    loop {
        let (left,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM tasks WHERE status IN ('queued', 'running')")
                .fetch_one(store.pool())
                .await
                .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    runner.shutdown();
    for w in workers {
        let _ = w.await;
    }
    let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.finished_at - r.started_at, COUNT(c.id) FROM agent_runs r \
         JOIN llm_calls c ON c.agent_run_id = r.id GROUP BY r.id, r.finished_at, r.started_at",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut per_call: Vec<f64> = rows
        .iter()
        .map(|(ms, n)| *ms as f64 / (*n).max(1) as f64)
        .collect();
    per_call.sort_by(f64::total_cmp);
    let _ = std::fs::remove_dir_all(work);
    Figures {
        tasks_per_s: tasks as f64 / elapsed,
        calls_per_s: calls as f64 / elapsed,
        p50_ms: percentile(&per_call, 0.5),
        p99_ms: percentile(&per_call, 0.99),
    }
}

fn line(backend: &str, workers: usize, f: &Figures) {
    println!(
        "  {backend:<9} {workers} worker{} {:>7.1} tasks/s {:>8.1} calls/s   overhead per call p50 {:>6.2} ms  p99 {:>6.2} ms",
        if workers == 1 { " " } else { "s" },
        f.tasks_per_s,
        f.calls_per_s,
        f.p50_ms,
        f.p99_ms
    );
}

#[tokio::main]
async fn main() {
    let tasks: usize = std::env::var("FLEETDECK_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!(
        "runner: {tasks} feature_implementation tasks (5 steps each) per run, zero-latency simulator"
    );
    println!(
        "  goal:     overhead per call p50 <= 2 ms, p99 <= 5 ms (SQLite); >= 1,000 calls/s with 8 workers"
    );
    println!(
        "  before:   sqlite 4 workers 243 calls/s, p50 11.33 ms, p99 26.00 ms; \
         postgres 4 workers 172 calls/s, p50 15.50 ms, p99 29.00 ms (2026-11-23, before issue 8)"
    );
    let mut sqlite_8 = None;
    // `FLEETDECK_BENCH_BACKENDS=sqlite` (or `postgres`) runs one side only, e.g. under a profiler.
    let only = std::env::var("FLEETDECK_BENCH_BACKENDS").unwrap_or_default();
    let runs = |backend: &str| only.is_empty() || only.split(',').any(|b| b.trim() == backend);
    for workers in [1, 4, 8].into_iter().filter(|_| runs("sqlite")) {
        let db = TestDb::sqlite().await;
        let f = run(db.store.clone(), tasks, workers, false).await;
        line("sqlite", workers, &f);
        if workers == 8 {
            sqlite_8 = Some(f.calls_per_s);
        }
    }
    let mut enforced = Vec::new();
    if runs("sqlite") {
        let db = TestDb::sqlite().await;
        let f = run(db.store.clone(), tasks, 8, true).await;
        enforced.push(("sqlite", sqlite_8, f));
    }
    let mut pg_1 = None;
    for workers in [1, 2, 4, 8].into_iter().filter(|_| runs("postgres")) {
        let Some(db) = TestDb::postgres().await else {
            println!("  postgres  unreachable: skipped");
            break;
        };
        let f = run(db.store.clone(), tasks, workers, false).await;
        line("postgres", workers, &f);
        if workers == 8 {
            let without = f.calls_per_s;
            let db = TestDb::postgres().await.unwrap();
            let with = run(db.store.clone(), tasks, 8, true).await;
            enforced.push(("postgres", Some(without), with));
        }
        match (workers, pg_1) {
            (1, _) => pg_1 = Some(f.calls_per_s),
            (8, Some(one)) => {
                println!(
                    "  postgres 8 workers / 1 worker: {:.2}x calls/s (SKIP LOCKED: workers claim different tasks)",
                    f.calls_per_s / one.max(f64::MIN_POSITIVE)
                );
                if let Some(s8) = sqlite_8 {
                    println!(
                        "  postgres/sqlite at 8 workers: {:.2}x calls/s",
                        f.calls_per_s / s8.max(f64::MIN_POSITIVE)
                    );
                }
            }
            _ => {}
        }
    }
    // Budgets' cost, side by side: every attempt holds its worst case on two budgets before
    // the call and settles it with the record.
    for (backend, without, with) in enforced {
        println!(
            "  budgets   {backend:<8} 8 workers: {:>8.1} calls/s with two budgets vs {:>8.1} without ({:.2}x); overhead per call p50 {:.2} ms p99 {:.2} ms",
            with.calls_per_s,
            without.unwrap_or(0.0),
            with.calls_per_s / without.unwrap_or(f64::MIN_POSITIVE).max(f64::MIN_POSITIVE),
            with.p50_ms,
            with.p99_ms
        );
    }
}
