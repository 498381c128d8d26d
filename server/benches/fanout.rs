//! `make bench`: WebSocket fan-out. 1,000 local clients subscribe to one running task on a real
//! server (in process, SQLite) and we measure how long each event takes from being published to
//! reaching each client (p50/p99), plus deliveries per second.
//!
//! Clients run in the same process as the server on the same two cores, so the figures include
//! the clients' own work. `FLEETDECK_BENCH_CLIENTS` sets the client count (default 1,000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a failed setup should stop loudly"
)]

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

#[allow(
    dead_code,
    reason = "each benchmark uses its own part of the shared setup"
)]
#[path = "common.rs"]
mod common;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::main]
async fn main() {
    let clients: usize = std::env::var("FLEETDECK_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut bench = common::start("fanout").await;
    let (base, key, store) = (bench.base.clone(), bench.key.clone(), bench.store.clone());
    sqlx::query("UPDATE providers SET base_url = 'sim://bench?token_delay_ms=4&ttft_ms=20' WHERE kind = 'simulator'")
        .execute(store.pool())
        .await
        .unwrap();

    // Clients subscribe from seq 0 so that every one of them reaches the terminal event even if
    // it connects late; only events that arrive live (after the server's "subscribed" reply,
    // which follows the backlog) are measured.
    let http = engine::providers::http_client();
    let task: Value = http
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&key)
        .json(&json!({ "description": "Add rate limiting to the public API across all endpoints with per-key quotas in the database" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let topic = format!("task:{}", task["id"].as_str().unwrap());
    let url = base.replace("http://", "ws://") + "/ws";
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<i64>>();
    let connect_started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(Message::text(
                json!({"type": "subscribe", "topics": [topic], "since": 0}).to_string(),
            ))
            .await
            .unwrap();
        let tx = tx.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut live = false;
            while let Some(Ok(msg)) = socket.next().await {
                let Ok(text) = msg.to_text() else { continue };
                let v: Value = serde_json::from_str(text).unwrap_or_default();
                if v["type"] == "subscribed" {
                    live = true;
                    continue;
                }
                if v["type"] != "event" {
                    continue;
                }
                if live {
                    latencies.push(engine::now_ms() - v["at"].as_i64().unwrap_or(0));
                }
                if v["kind"] == "task_completed" || v["kind"] == "task_failed" {
                    break;
                }
            }
            let _ = tx.send(latencies);
        }));
    }
    drop(tx);
    println!(
        "websocket fan-out: {clients} clients connected and subscribed in {:.2} s",
        connect_started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut all = Vec::new();
    while let Some(mut l) = tokio::time::timeout(Duration::from_secs(300), rx.recv())
        .await
        .unwrap()
    {
        all.append(&mut l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "  {} deliveries in {elapsed:.1} s ({:.0}/s); publish→client latency p50 {} ms, p99 {} ms, max {} ms",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        all.last().copied().unwrap_or(0)
    );
    bench.stop().await;
}
