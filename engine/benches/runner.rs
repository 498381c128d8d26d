//! `make bench`: the runner's throughput and its own overhead, with a zero-latency simulator so
//! that every millisecond measured is Fleetdeck's (queue, prompts, tools, records, events), on
//! SQLite and Postgres side by side in one run.
//!
//! Prints tasks/s and calls/s, and the runner's overhead per model call (p50/p99): a step's wall
//! time divided by its calls, since the simulator itself answers in ~0 ms.
//! `FLEETDECK_BENCH_TASKS` sets the tasks per backend (default 40).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::Store;
use engine::auth::secrets::MasterKey;
use engine::auth::{AuthMethod, Principal};
use engine::domain::MemberRole;
use engine::events::EventBus;
use engine::runner::{Runner, RunnerConfig, SubmitTask};
use engine::seed::ensure_seeded;
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

async fn run(store: Store, tasks: usize) -> Figures {
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
    let work = std::env::temp_dir().join(format!("fleetdeck-bench-{}", engine::new_id()));
    let mut config = RunnerConfig::new(work.clone());
    config.workers = 4;
    let bus = Arc::new(EventBus::new(store.clone(), 4096));
    let runner = Runner::new(store.clone(), bus, MasterKey::generate().unwrap(), config);
    let request = SubmitTask {
        description: "Add rate limiting to the public API across all endpoints with per-key quotas in the database".into(),
        workflow: "feature_implementation".into(),
        ..SubmitTask::default()
    };
    let started = Instant::now();
    for _ in 0..tasks {
        runner.submit(&who, &request).await.unwrap();
    }
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
        tokio::time::sleep(Duration::from_millis(20)).await;
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

#[tokio::main]
async fn main() {
    let tasks: usize = std::env::var("FLEETDECK_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    println!(
        "runner: {tasks} feature_implementation tasks (5 steps each), 4 workers, zero-latency simulator"
    );
    let sqlite = TestDb::sqlite().await;
    let s = run(sqlite.store.clone(), tasks).await;
    println!(
        "  sqlite    {:>8.1} tasks/s {:>9.1} calls/s   overhead per call p50 {:>6.2} ms  p99 {:>6.2} ms",
        s.tasks_per_s, s.calls_per_s, s.p50_ms, s.p99_ms
    );
    match TestDb::postgres().await {
        Some(pg) => {
            let p = run(pg.store.clone(), tasks).await;
            println!(
                "  postgres  {:>8.1} tasks/s {:>9.1} calls/s   overhead per call p50 {:>6.2} ms  p99 {:>6.2} ms",
                p.tasks_per_s, p.calls_per_s, p.p50_ms, p.p99_ms
            );
            println!(
                "  ratio postgres/sqlite: {:.2}x tasks/s",
                p.tasks_per_s / s.tasks_per_s.max(f64::MIN_POSITIVE)
            );
        }
        None => println!("  postgres  unreachable: skipped"),
    }
}
