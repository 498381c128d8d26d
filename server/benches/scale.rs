//! `make bench`: scale-out on one Postgres. A `fleetdeck serve --workers 0` takes the tasks;
//! 1, 2 and then 4 `fleetdeck worker` processes (one task at a time each) run them; tasks/s is
//! printed side by side. A WebSocket client on the server measures how long the workers'
//! events take to reach it across processes (LISTEN/NOTIFY, then a read of the rows): from the
//! event's timestamp, taken when the worker stored it, to its arrival (p50/p99).
//!
//! The processes share this machine's cores with each other and with Postgres, so the figures
//! show how work spreads, not a cluster's throughput. `FLEETDECK_BENCH_TASKS` sets the tasks
//! per level (default 40). Skipped without a reachable Postgres.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "benchmark code: a failed setup should stop loudly; figures are approximate"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fleetdeck(url: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.env("DATABASE_URL", url)
        .env("FLEETDECK_DATA_DIR", dir)
        .env("FLEETDECK_MASTER_KEY", KEY)
        .env("FLEETDECK_CONFIG", dir.join("absent.toml"))
        .env("FLEETDECK_LOG", "error")
        .env("FLEETDECK_SITE_ROOT", dir.join("site"))
        .env("FLEETDECK_RATE_LIMIT_PER_MINUTE", "100000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetdeck-bench-{name}-{}", engine::new_id()));
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(url: &str, dir: &Path, args: &[&str], workers: Option<&str>) -> (Proc, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = fleetdeck(url, dir);
    if let Some(n) = workers {
        cmd.env("FLEETDECK_WORKERS", n);
    }
    let proc = Proc(cmd.args(args).args(["--addr", &addr]).spawn().unwrap());
    let base = format!("http://{addr}");
    let http = engine::providers::http_client();
    for _ in 0..400 {
        if http
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (proc, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{args:?} did not come up");
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let tasks: usize = std::env::var("FLEETDECK_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let Some(db) = engine::testing::TestDb::postgres().await else {
        println!("scale-out: skipped (no Postgres at 127.0.0.1:5432)");
        return;
    };
    let url = db.url.clone();
    let dir = temp_dir("ops");
    let run = |args: &[&str]| {
        let out = fleetdeck(&url, &dir)
            .stdout(Stdio::piped())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run(&[
        "user",
        "create",
        "--email",
        "bench@example.com",
        "--password",
        "a-long-password",
        "--role",
        "admin",
    ]);
    let key = run(&[
        "api-key",
        "create",
        "--email",
        "bench@example.com",
        "--name",
        "bench",
    ])
    .lines()
    .last()
    .unwrap()
    .trim()
    .to_owned();
    sqlx::query("UPDATE users SET credits = 100000000")
        .execute(db.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE providers SET base_url = 'sim://bench?token_delay_ms=2&ttft_ms=5' WHERE kind = 'simulator'")
        .execute(db.store.pool())
        .await
        .unwrap();
    let (_server, base) = start(&url, &temp_dir("api"), &["serve", "--workers", "0"], None).await;
    let http = engine::providers::http_client();

    // Every live event on the fleet topic, timed on arrival.
    let mut request = format!("{}/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "subscribe", "topics": ["fleet"] }).to_string(),
        ))
        .await
        .unwrap();
    let (lat_tx, mut lat_rx) = tokio::sync::mpsc::unbounded_channel::<i64>();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = socket.next().await {
            let Ok(text) = msg.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or_default();
            if v["type"] == "event"
                && let Some(at) = v["at"].as_i64()
            {
                let _ = lat_tx.send(engine::now_ms() - at);
            }
        }
    });

    println!("\nscale-out on one Postgres — {tasks} tasks per level, simulator at 2 ms per token");
    println!(
        "{:<18} {:>10} {:>12} {:>22}",
        "worker processes", "tasks/s", "vs 1", "event latency p50/p99"
    );
    let mut first = None;
    for processes in [1_usize, 2, 4] {
        let mut workers = Vec::new();
        for i in 0..processes {
            workers.push(start(&url, &temp_dir(&format!("w{i}")), &["worker"], Some("1")).await);
        }
        while lat_rx.try_recv().is_ok() {}
        let done_before: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM tasks WHERE status IN ('completed', 'failed')")
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        let started = Instant::now();
        for i in 0..tasks {
            let res = http
                .post(format!("{base}/api/v1/tasks"))
                .bearer_auth(&key)
                .json(&json!({ "description": format!("Write a short note number {i} about queues") }))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }
        loop {
            let (done,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM tasks WHERE status IN ('completed', 'failed')",
            )
            .fetch_one(db.store.pool())
            .await
            .unwrap();
            if done - done_before.0 >= tasks as i64 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "tasks did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rate = tasks as f64 / started.elapsed().as_secs_f64();
        let base_rate = *first.get_or_insert(rate);
        let mut latencies = Vec::new();
        while let Ok(ms) = lat_rx.try_recv() {
            latencies.push(ms);
        }
        latencies.sort_unstable();
        println!(
            "{:<18} {:>10.1} {:>11.2}x {:>14} / {} ms",
            processes,
            rate,
            rate / base_rate,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
        );
        drop(workers);
    }
    println!(
        "before this change: one process only (a second process on the same Postgres never saw the first one's events)"
    );
}
