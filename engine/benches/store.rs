//! `make bench`: records per second through group commit (`engine::store::group`): each call
//! row with its hourly rollup, written by 1, 8 and 64 concurrent callers, on SQLite and on
//! Postgres side by side in one run. With one caller every record is its own transaction; with
//! more, records that arrive together share one.
//!
//! Run with `cargo bench -p engine --bench store`. `FLEETDECK_BENCH_CALLS` sets the number of
//! records per backend (default 20,000: long enough for steady figures), `FLEETDECK_BENCH_WRITERS` the writer counts (default
//! `1,8,64`; one count to profile it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::time::Instant;

use engine::seed::ensure_seeded;
use engine::store::llm_calls::{NewLlmCall, record};
use engine::testing::TestDb;
use engine::{Store, now_ms};

async fn insert_calls(store: &Store, n: usize, concurrency: usize) -> f64 {
    let ws = ensure_seeded(store).await.expect("seed").workspace_id;
    let started = Instant::now();
    let per_worker = n / concurrency;
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let store = store.clone();
        let ws = ws.clone();
        workers.push(tokio::spawn(async move {
            for i in 0..per_worker {
                let call = NewLlmCall {
                    workspace_id: ws.clone(),
                    provider_kind: "simulator".into(),
                    model: if i % 2 == 0 {
                        "sim-standard"
                    } else {
                        "sim-fast"
                    }
                    .into(),
                    prompt_tokens: 800 + (i as i64 % 300),
                    completion_tokens: 200 + (w as i64 * 7 % 100),
                    cost_micros: 1_600,
                    latency_ms: 900,
                    success: i % 50 != 0,
                    attempt: 1,
                    created_at: now_ms(),
                    ..NewLlmCall::default()
                };
                record(&store, &call).await.expect("record call");
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("FLEETDECK_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    println!("llm_calls through group commit: {n} records per run, each with its rollup");
    println!("  goal:    >= 50,000 records/s with 8 writers");
    println!(
        "  before:  one transaction per call (before issue 10): 0.7-2.8k records/s; group commit of \
         statements one by one (2026-11-23): sqlite 2.6k / 12.9k / 27.7k, postgres 1.3k / 7.4k / \
         21.2k records/s with 1 / 8 / 64 writers"
    );
    println!(
        "  before:  2026-11-25, before the writer kept its connection between batches and spun on \
         its SQLite commits (this machine): sqlite 5.6-6.0k / 25-27k / 74-75k, postgres 2.1-2.3k / 10.1-10.7k / \
         29.8-31.7k records/s with 1 / 8 / 64 writers"
    );
    let counts: Vec<usize> = match std::env::var("FLEETDECK_BENCH_WRITERS") {
        Ok(v) => v.split(',').filter_map(|c| c.trim().parse().ok()).collect(),
        Err(_) => vec![1, 8, 64],
    };
    for concurrency in counts {
        let sqlite = TestDb::sqlite().await;
        let sqlite_rate = insert_calls(&sqlite.store, n, concurrency).await;
        let pg_rate = match TestDb::postgres().await {
            Some(pg) => Some(insert_calls(&pg.store, n, concurrency).await),
            None => None,
        };
        println!("  {concurrency} writer(s): sqlite {sqlite_rate:>9.0} records/s");
        match pg_rate {
            Some(rate) => println!(
                "  {concurrency} writer(s): postgres {rate:>7.0} records/s  (postgres/sqlite = {:.2})",
                rate / sqlite_rate
            ),
            None => println!("  {concurrency} writer(s): postgres unreachable, not measured"),
        }
    }
}
