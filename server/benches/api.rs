//! `make bench`: the REST API's list endpoints under a fixed request rate (open loop), on a real
//! server in process with SQLite, authenticated with an API key.
//!
//! Requests are sent on a schedule — 1,000 and then 5,000 a second — whether or not earlier ones
//! have answered, and each latency is measured from the moment its request was due, so a server
//! that falls behind shows it (no coordinated omission, unlike a closed-loop tool such as wrk).
//! `/health` runs at the same rates beside them as the floor: what HTTP alone costs here. The
//! load generator shares the machine's two cores with the server, so the figures include its
//! own work. `FLEETDECK_BENCH_SECONDS` sets each run's length (default 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(
    dead_code,
    reason = "each benchmark uses its own part of the shared setup"
)]
#[path = "common.rs"]
mod common;

/// Finished tasks stored before the run.
const TASKS: u32 = 5_000;

struct Run {
    sent: usize,
    failed: usize,
    p50_ms: f64,
    p99_ms: f64,
    achieved: f64,
}

async fn run(client: &reqwest::Client, url: &str, key: &str, rate: u32, seconds: u64) -> Run {
    let total = (u64::from(rate) * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<f64>>();
    let started = Instant::now();
    let key: Arc<str> = key.into();
    for i in 0..total {
        let due = started + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, key, tx) = (client.clone(), url.to_owned(), key.clone(), tx.clone());
        tokio::spawn(async move {
            let ok = match client.get(&url).bearer_auth(&*key).send().await {
                Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                Err(_) => false,
            };
            // From when the request was due, not from when it went out.
            let _ = tx.send(ok.then(|| due.elapsed().as_secs_f64() * 1000.0));
        });
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(total);
    let mut failed = 0;
    while let Some(result) = rx.recv().await {
        match result {
            Some(ms) => latencies.push(ms),
            None => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Run {
        sent: total,
        failed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        achieved: total as f64 / elapsed,
    }
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("FLEETDECK_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let bench = common::start("api-bench").await;
    let (base, key) = (bench.base.clone(), bench.key.clone());
    // A realistic history, so that the tasks list answers a full page (50 of them) rather
    // than an empty one: finished tasks, written straight to the table (running them would
    // put the workers' load under the measurement).
    let ws = engine::store::workspaces::first(bench.store.pool())
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut tx = bench.store.begin().await.unwrap();
    for i in 0..TASKS {
        sqlx::query(
            "INSERT INTO tasks (id, workspace_id, description, workflow, complexity, status, \
             prompt_tokens, completion_tokens, cost_micros, created_at, started_at, finished_at) \
             VALUES ($1, $2, $3, 'feature_implementation', 'complex', 'completed', 4000, 500, 6100, $4, $4, $4)",
        )
        .bind(engine::new_id())
        .bind(&ws)
        .bind(format!("Benchmark task {i}: add rate limiting to the public API"))
        .bind(1_700_000_000_000_i64 + i64::from(i) * 60_000)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    // Warm the pools (HTTP connections, database connections).
    for _ in 0..200 {
        let _ = client
            .get(format!("{base}/api/v1/agents"))
            .bearer_auth(&key)
            .send()
            .await;
    }

    println!(
        "api: open-loop GETs at fixed rates, {seconds} s each, SQLite, API-key auth; \
         {TASKS} tasks stored (the list answers its first page of 50)"
    );
    println!("  goal:   p99 < 10 ms at 5,000 req/s on the list endpoints");
    println!(
        "  before: GET /api/v1/agents topped out near 3,000 req/s with p99 42 ms at 64 \
         connections (wrk, closed loop; every request wrote the key's last-used time)"
    );
    println!(
        "  before: GET /api/v1/tasks (5,000 stored) fell behind at 5,000 req/s: 1,493 req/s \
         achieved, p99 7.1 s (each request decoded its 50 rows; now a cached page while the \
         tasks counter has not moved)"
    );
    for rate in [1000, 5000] {
        for path in [
            "/health",
            "/api/v1/agents",
            "/api/v1/tasks",
            "/api/v1/providers",
        ] {
            let r = run(&client, &format!("{base}{path}"), &key, rate, seconds).await;
            println!(
                "  {rate:>5} req/s  {path:<20} achieved {:>7.0} req/s  p50 {:>7.2} ms  p99 {:>8.2} ms  failed {}/{}",
                r.achieved, r.p50_ms, r.p99_ms, r.failed, r.sent
            );
        }
    }
}
