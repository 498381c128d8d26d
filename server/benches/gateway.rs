//! `make bench`: the latency the gateway adds. A local mock upstream speaks OpenAI's chat
//! completions (answering at once, streamed or not); requests are sent open-loop at 500, 1,000
//! and 2,000 per second, first straight to the mock, then through `/v1/chat/completions` on a
//! real server (in process, SQLite), side by side in one run. Added latency is the gateway's
//! p50/p99 minus the direct ones. Every proxied call must be persisted (counted after the run).
//!
//! The server, the mock and the load generator share this process and the machine's cores, so
//! the RSS printed is the whole process's and the figures include the client's own work.
//! `FLEETDECK_BENCH_SECONDS` sets each level's duration (default 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "benchmark code: a failed setup should stop loudly; figures are approximate"
)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[allow(
    dead_code,
    reason = "each benchmark uses its own part of the shared setup"
)]
#[path = "common.rs"]
mod common;

/// The p99 added latency the gateway may cost at 2,000 requests/s (issue 13).
const GOAL_P99_ADDED_MS: f64 = 1.0;

const USAGE: &str = r#"{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}"#;

async fn mock_upstream() -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|body: axum::body::Bytes| async move {
            let stream = serde_json::from_slice::<Value>(&body)
                .map(|v| v["stream"] == true)
                .unwrap_or(false);
            if stream {
                let mut out = String::new();
                for piece in ["Hel", "lo", "!"] {
                    out.push_str(&format!(
                        "data: {{\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{piece}\"}}}}]}}\n\n"
                    ));
                }
                out.push_str(&format!(
                    "data: {{\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{USAGE}}}\n\ndata: [DONE]\n\n"
                ));
                ([("content-type", "text/event-stream")], out)
            } else {
                (
                    [("content-type", "application/json")],
                    format!(
                        "{{\"object\":\"chat.completion\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"Hello!\"}},\"finish_reason\":\"stop\"}}],\"usage\":{USAGE}}}"
                    ),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// Sends `rate` requests a second for `seconds` to `url`, each at its scheduled time whatever
/// the others do (open loop); the latencies (ms) of the complete answers.
async fn load(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    stream: bool,
    rate: u32,
    seconds: u64,
) -> (Vec<f64>, usize) {
    let total = rate as u64 * seconds;
    let body = json!({ "model": "bench", "stream": stream,
        "messages": [{ "role": "user", "content": "Say hello" }] })
    .to_string();
    let start = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(at).await;
        let req = http
            .post(url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.clone());
        handles.push(tokio::spawn(async move {
            let sent = Instant::now();
            let res = req.send().await.ok()?;
            if !res.status().is_success() {
                return None;
            }
            res.bytes().await.ok()?;
            Some(sent.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut latencies = Vec::with_capacity(handles.len());
    let mut failed = 0;
    for h in handles {
        match h.await.ok().flatten() {
            Some(ms) => latencies.push(ms),
            None => failed += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    (latencies, failed)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

async fn gateway_calls(store: &engine::Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM llm_calls WHERE source = 'gateway'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("FLEETDECK_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let bench = common::start("gateway").await;
    let mock = mock_upstream().await;
    let http = engine::providers::http_client();
    let provider: Value = http
        .post(format!("{}/api/v1/providers", bench.base))
        .bearer_auth(&bench.key)
        .json(&json!({ "name": "mock", "kind": "openai_compatible", "base_url": mock, "api_key": "sk-mock-upstream" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = http
        .put(format!("{}/api/v1/gateway/routes", bench.base))
        .bearer_auth(&bench.key)
        .json(&json!({ "model": "bench", "targets": [{ "provider_id": provider["id"], "model": "mock-mini" }] }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "route: {}", res.status());
    let direct_url = format!("{mock}/chat/completions");
    let gateway_url = format!("{}/v1/chat/completions", bench.base);
    // Warm both paths (connections, the route cache, statement caches).
    load(&http, &direct_url, &bench.key, false, 200, 1).await;
    load(&http, &gateway_url, &bench.key, false, 200, 1).await;
    let rss_idle = rss_mib();

    println!(
        "\ngateway added latency — in-process server on SQLite, mock upstream answering at once, {seconds} s per level"
    );
    println!(
        "{:<10} {:>7} {:>17} {:>17} {:>17} {:>14} {:>9}",
        "mode",
        "req/s",
        "direct p50/p99",
        "gateway p50/p99",
        "added p50/p99",
        "goal p99 add",
        "failed"
    );
    let mut sent = 0_i64;
    for stream in [false, true] {
        for rate in [500_u32, 1_000, 2_000] {
            let (direct, direct_failed) =
                load(&http, &direct_url, &bench.key, stream, rate, seconds).await;
            let (proxied, proxied_failed) =
                load(&http, &gateway_url, &bench.key, stream, rate, seconds).await;
            sent += (proxied.len() + proxied_failed) as i64;
            let (d50, d99) = (percentile(&direct, 0.5), percentile(&direct, 0.99));
            let (g50, g99) = (percentile(&proxied, 0.5), percentile(&proxied, 0.99));
            let added99 = g99 - d99;
            let verdict = if rate == 2_000 {
                if added99 <= GOAL_P99_ADDED_MS {
                    format!("≤ {GOAL_P99_ADDED_MS} ms met")
                } else {
                    format!("≤ {GOAL_P99_ADDED_MS} ms MISSED")
                }
            } else {
                "—".to_owned()
            };
            println!(
                "{:<10} {:>7} {:>17} {:>17} {:>17} {:>14} {:>9}",
                if stream { "streaming" } else { "json" },
                rate,
                format!("{d50:.2}/{d99:.2} ms"),
                format!("{g50:.2}/{g99:.2} ms"),
                format!("{:.2}/{added99:.2} ms", g50 - d50),
                verdict,
                direct_failed + proxied_failed,
            );
        }
    }
    // Every proxied call persisted: records are written after the answer, so give them a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let warm = 200;
    let mut recorded = gateway_calls(&bench.store).await - warm;
    while recorded < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        recorded = gateway_calls(&bench.store).await - warm;
    }
    println!(
        "persisted: {recorded} of {sent} proxied calls {}",
        if recorded == sent {
            "(all)"
        } else {
            "(MISSING)"
        }
    );
    println!(
        "process RSS (server, mock and load generator together): {rss_idle:.0} MiB after warm-up, {:.0} MiB after the run",
        rss_mib()
    );
    println!("before this change: no gateway benchmark existed (the gateway is new in issue 13)");
}
