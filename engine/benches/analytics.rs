//! `make bench`: Analytics on ten million calls. Generates calls over 90 days (50 agents, 6
//! models of 3 providers, 93 % succeeded / 5 % failed / 2 % cancelled, five roles, four
//! workflows) through the bulk recording path (calls and their rollups in one transaction per
//! 20,000), plus finished tasks (the trigger writes their rollups), then times each analytics
//! query and the calls explorer's first page and page 1,000 — p50 and p95 over 20 runs — on
//! SQLite and Postgres side by side, and prints each database's size. Goal: p95 < 50 ms.
//!
//! Run with `cargo bench -p engine --bench analytics`. `FLEETDECK_BENCH_ANALYTICS_CALLS` sets
//! the number of calls (default 10,000,000); `FLEETDECK_BENCH_KEEP=1` keeps the databases and
//! `FLEETDECK_BENCH_REUSE=<sqlite url>,<postgres url>` measures kept ones again. After the
//! load, Postgres is vacuumed and analysed, as autovacuum does within a minute of such a load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::future::Future;
use std::time::{Duration, Instant};

use engine::analytics::costs::{CostQuery, Granularity, GroupBy, costs};
use engine::analytics::{DAY_MS, dashboard, performance, tasks};
use engine::seed::ensure_seeded;
use engine::store::llm_calls::{self, CallFilter, NewLlmCall};
use engine::store::page::PageRequest;
use engine::testing::TestDb;
use engine::{Store, now_ms};

const GOAL_MS: f64 = 50.0;
const RUNS: usize = 20;
const MODELS: [(&str, &str); 6] = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4"),
    ("anthropic", "claude-haiku-4"),
    ("openai_compatible", "llama-3.3-70b"),
    ("openai_compatible", "qwen-2.5-72b"),
];
const ROLES: [&str; 5] = ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"];
const WORKFLOWS: [&str; 4] = [
    "feature_implementation",
    "bug_fix",
    "code_review",
    "documentation",
];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high 32 bits scaled to [0, n): `% n` of the top 31 bits (as before) never
        // reached past 2^31 ms, so "90 days" of data all fell into the last 25.
        (((self.0 >> 32) as u128 * u128::from(n)) >> 32) as u64
    }
}

/// Loads the data set; returns (workspace, seconds spent).
async fn load(store: &Store, n: usize, now: i64) -> (String, f64) {
    let started = Instant::now();
    let ws = ensure_seeded(store).await.unwrap().workspace_id;
    let mut agents = Vec::new();
    for i in 0..50 {
        let id = format!("bench-agent-{i:02}");
        sqlx::query(
            "INSERT INTO agents (id, workspace_id, name, role, model, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'gpt-4o', $5, $5)",
        )
        .bind(&id)
        .bind(&ws)
        .bind(format!("Bench agent {i}"))
        .bind(ROLES[i % ROLES.len()])
        .bind(now - (i as i64 % 90) * DAY_MS)
        .execute(store.writer())
        .await
        .unwrap();
        agents.push(id);
    }
    let mut r = Lcg(42);
    let span = 90 * DAY_MS as u64;
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..n {
        // An agent has one role and one model; the task's workflow and the outcome vary.
        let agent = r.next(50) as usize;
        let (kind, model) = MODELS[agent % MODELS.len()];
        let outcome = r.next(100);
        let success = outcome < 93;
        let latency = 200 + r.next(4_000) as i64 + if r.next(20) == 0 { 20_000 } else { 0 };
        batch.push(NewLlmCall {
            workspace_id: ws.clone(),
            agent_id: Some(agents[agent].clone()),
            role: ROLES[agent % ROLES.len()].into(),
            workflow: WORKFLOWS[r.next(4) as usize].into(),
            provider_kind: kind.into(),
            model: model.into(),
            prompt_tokens: 500 + r.next(6_000) as i64,
            completion_tokens: 50 + r.next(1_500) as i64,
            cached_tokens: r.next(500) as i64,
            reasoning_tokens: r.next(200) as i64,
            cost_micros: 100 + r.next(30_000) as i64,
            price_known: kind != "openai_compatible" || model != "qwen-2.5-72b",
            latency_ms: latency,
            ttft_ms: (r.next(10) < 7).then_some(latency / 5),
            success,
            error_class: (!success).then(|| {
                if outcome >= 98 {
                    "cancelled"
                } else {
                    "rate_limited"
                }
                .to_owned()
            }),
            attempt: 1,
            created_at: now - 1 - r.next(span) as i64,
            ..NewLlmCall::default()
        });
        if batch.len() == 20_000 || i + 1 == n {
            llm_calls::record_bulk(store, &batch).await.unwrap();
            batch.clear();
        }
    }
    let calls_secs = started.elapsed().as_secs_f64();
    println!("    calls written in {calls_secs:.1} s");
    // Finished tasks, one per 20 calls: inserted running, then finished by one UPDATE, so the
    // trigger writes their rollups as it does for the runner.
    let tasks = (n / 20).max(1);
    let mut r = Lcg(7);
    for chunk in (0..tasks).collect::<Vec<_>>().chunks(500) {
        let mut tx = store.writer().begin().await.unwrap();
        for &i in chunk {
            let created = now - 1 - r.next(span) as i64;
            sqlx::query(
                "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, \
                 cost_micros, created_at, started_at, finished_at) \
                 VALUES ($1, $2, 'bench task', $3, $4, 'running', $5, $6, $6, $7)",
            )
            .bind(format!("bench-task-{i:08}"))
            .bind(&ws)
            .bind(WORKFLOWS[r.next(4) as usize])
            .bind(["simple", "medium", "complex"][r.next(3) as usize])
            .bind(r.next(200_000) as i64)
            .bind(created)
            .bind(created + 5_000 + r.next(3_600_000) as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    sqlx::query(
        "UPDATE tasks SET status = CASE WHEN cost_micros % 10 < 8 THEN 'completed' \
         WHEN cost_micros % 10 = 8 THEN 'failed' ELSE 'cancelled' END \
         WHERE workspace_id = $1 AND status = 'running'",
    )
    .bind(&ws)
    .execute(store.writer())
    .await
    .unwrap();
    settle(store).await;
    (ws, started.elapsed().as_secs_f64())
}

/// What a deployment's background maintenance does within a minute of a bulk load: on Postgres
/// `VACUUM ANALYZE` (autovacuum), without which the first reports wade through the dead row
/// versions the load's updates of the rollups left, and plan without statistics.
async fn settle(store: &Store) {
    if store.backend().as_str() == "postgres" {
        sqlx::query("VACUUM ANALYZE")
            .execute(store.pool())
            .await
            .unwrap();
    }
}

async fn timed<F, Fut, T>(f: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = engine::Result<T>>,
{
    // One warm-up run (first reads pull pages into the cache).
    f().await.unwrap();
    let mut runs: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        f().await.unwrap();
        runs.push(started.elapsed());
    }
    runs.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(runs[RUNS / 2 - 1]),
        ms(runs[(RUNS * 95).div_ceil(100) - 1]),
    )
}

async fn size(store: &Store) -> f64 {
    let bytes: i64 = match store.backend().as_str() {
        "sqlite" => {
            sqlx::query_as::<_, (i64,)>(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )
            .fetch_one(store.pool())
            .await
            .unwrap()
            .0
        }
        _ => {
            sqlx::query_as::<_, (i64,)>("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .0
        }
    };
    bytes as f64 / 1e9
}

/// Every measurement on one backend: (name, p50, p95). `reuse` measures a database kept by an
/// earlier run (`FLEETDECK_BENCH_KEEP=1`) instead of loading one.
async fn measure(
    store: &Store,
    n: usize,
    reuse: bool,
) -> (f64, f64, Vec<(&'static str, f64, f64)>) {
    let now = now_ms();
    let (ws, load_secs) = if reuse {
        settle(store).await;
        let ws = engine::store::workspaces::first(store.pool())
            .await
            .unwrap()
            .unwrap()
            .id;
        (ws, 0.0)
    } else {
        load(store, n, now).await
    };
    let ws = ws.as_str();
    let mut out = Vec::new();
    let q30 = |group_by| CostQuery {
        from_ms: now - 30 * DAY_MS,
        to_ms: now,
        granularity: Granularity::Day,
        group_by: Some(group_by),
    };
    let t = timed(|| costs(store, ws, q30(GroupBy::Model))).await;
    out.push(("costs 30d by day and model", t.0, t.1));
    let t = timed(|| {
        costs(
            store,
            ws,
            CostQuery {
                from_ms: now - 90 * DAY_MS,
                to_ms: now,
                granularity: Granularity::Week,
                group_by: Some(GroupBy::Agent),
            },
        )
    })
    .await;
    out.push(("costs 90d by week and agent", t.0, t.1));
    let t =
        timed(|| performance::performance(store, ws, now - 30 * DAY_MS, now, GroupBy::Model)).await;
    out.push(("performance 30d by model", t.0, t.1));
    let tz = tasks::time_zone("Europe/Paris").unwrap();
    let t = timed(|| tasks::trends(store, ws, now - 30 * DAY_MS, now, Granularity::Day, &tz)).await;
    out.push(("trends 30d", t.0, t.1));
    let t = timed(|| tasks::analyst_roi(store, ws, now - 90 * DAY_MS, now)).await;
    out.push(("analyst ROI 90d", t.0, t.1));
    let t = timed(|| dashboard(store, ws, now, 14)).await;
    out.push(("dashboard", t.0, t.1));
    let t = timed(|| engine::health::snapshot(store, ws, now)).await;
    out.push(("system health", t.0, t.1));
    let filter = CallFilter::default();
    let first = PageRequest::parse(None, None).unwrap();
    let t = timed(|| llm_calls::page(store, ws, &filter, &first)).await;
    out.push(("calls page 1", t.0, t.1));
    let mut cursor = None;
    for _ in 0..999 {
        let request = PageRequest::parse(None, cursor.as_deref()).unwrap();
        cursor = llm_calls::page(store, ws, &filter, &request)
            .await
            .unwrap()
            .next_cursor;
    }
    let page_1000 = PageRequest::parse(None, cursor.as_deref()).unwrap();
    let t = timed(|| llm_calls::page(store, ws, &filter, &page_1000)).await;
    out.push(("calls page 1,000", t.0, t.1));
    (load_secs, size(store).await, out)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("FLEETDECK_BENCH_ANALYTICS_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    println!(
        "analytics on {n} calls over 90 days (+ {} tasks): p50 / p95 over {RUNS} runs, goal p95 < {GOAL_MS} ms",
        n / 20
    );
    // `FLEETDECK_BENCH_KEEP=1` leaves both databases in place (their URLs printed), to study
    // the queries on the loaded data with `sqlite3` or `psql` afterwards.
    // `FLEETDECK_BENCH_REUSE=<sqlite url>,<postgres url>` measures two kept databases again
    // (migrated to this build first) without loading them.
    let keep = std::env::var("FLEETDECK_BENCH_KEEP").is_ok_and(|v| v == "1");
    let reuse: Option<Vec<String>> = std::env::var("FLEETDECK_BENCH_REUSE")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let (load_s, size_s, lite) = match reuse.as_ref().and_then(|r| r.first()) {
        Some(url) => {
            let store = Store::connect(url).await.unwrap();
            store.migrate().await.unwrap();
            measure(&store, n, true).await
        }
        None => {
            let sqlite = TestDb::sqlite().await;
            let measured = measure(&sqlite.store, n, false).await;
            if keep {
                println!("  kept: {}", sqlite.url);
                std::mem::forget(sqlite);
            }
            measured
        }
    };
    let pg = match reuse.as_ref().and_then(|r| r.get(1)) {
        Some(url) => {
            let store = Store::connect(url).await.unwrap();
            store.migrate().await.unwrap();
            Some(measure(&store, n, true).await)
        }
        None => match TestDb::postgres().await {
            Some(pg) => {
                let measured = measure(&pg.store, n, false).await;
                if keep {
                    println!("  kept: {}", pg.url);
                    std::mem::forget(pg);
                }
                Some(measured)
            }
            None => None,
        },
    };
    // A kept database measured again was not loaded by this run (0 s).
    let loaded = |secs: f64, gb: f64| {
        if secs > 0.0 {
            format!("{secs:.0} s ({:.0} calls/s), {gb:.2} GB", n as f64 / secs)
        } else {
            format!("kept from an earlier run, {gb:.2} GB")
        }
    };
    println!(
        "  loaded: sqlite {}{}",
        loaded(load_s, size_s),
        pg.as_ref().map_or_else(
            || "; postgres unreachable, not measured".to_owned(),
            |(l, s, _)| format!("; postgres {}", loaded(*l, *s))
        )
    );
    for (i, (name, p50, p95)) in lite.iter().enumerate() {
        let verdict = |p95: f64| if p95 < GOAL_MS { "ok" } else { "OVER GOAL" };
        let pg_text = pg.as_ref().map_or_else(String::new, |(_, _, rows)| {
            let (_, p50, p95) = rows[i];
            format!("   postgres {p50:>7.1} / {p95:>7.1} ms {}", verdict(p95))
        });
        println!(
            "  {name:<28} sqlite {p50:>7.1} / {p95:>7.1} ms {:<9}{pg_text}",
            verdict(*p95)
        );
    }
}
