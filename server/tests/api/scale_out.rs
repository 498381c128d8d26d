//! Scale-out on Postgres, as an operator runs it: two `fleetdeck serve --workers 0` processes
//! and a `fleetdeck worker` on one fresh database. A WebSocket client on server A receives
//! every event of a task submitted through server B and run by the worker, in order with no
//! gap; a cancel through A stops the worker's work within a second; a worker killed with
//! SIGKILL mid-task is replaced and the task finishes with no step or call doubled (its cost
//! is exactly its calls'). A process
//! with another master key refuses to start.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::get_json;

const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const OTHER_KEY: &str = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=";

/// A process of the binary, killed when dropped.
struct Proc {
    child: Child,
    base: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fleetdeck(url: &str, dir: &Path, key: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.env("DATABASE_URL", url)
        .env("FLEETDECK_DATA_DIR", dir)
        .env("FLEETDECK_MASTER_KEY", key)
        .env("FLEETDECK_CONFIG", dir.join("absent.toml"))
        .env("FLEETDECK_LOG_FORMAT", "json")
        .env("FLEETDECK_LOG", "warn")
        .env("FLEETDECK_SITE_ROOT", dir.join("site"))
        // The default lease (15 s, renewed every 5 s): a cancel that stops the work within a
        // second came through the events, not a renewal.
        .env("FLEETDECK_RATE_LIMIT_PER_MINUTE", "100000");
    cmd
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetdeck-scale-{name}-{}", engine::new_id()));
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    dir
}

async fn start(url: &str, dir: &Path, args: &[&str]) -> Proc {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = fleetdeck(url, dir, KEY)
        .args(args)
        .args(["--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc {
        child,
        base: format!("http://{addr}"),
    };
    let http = engine::providers::http_client();
    for _ in 0..300 {
        if http
            .get(format!("{}/health", proc.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return proc;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{args:?} did not come up");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn subscribe(base: &str, key: &str, topic: &str) -> Socket {
    let mut request = format!("{}/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "subscribe", "topics": [topic], "since": 0 }).to_string(),
        ))
        .await
        .unwrap();
    socket
}

/// The task's events as the socket delivers them, until its terminal event.
async fn until_terminal(socket: &mut Socket) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        let Ok(text) = msg.to_text() else { continue };
        let v: Value = serde_json::from_str(text).unwrap_or_default();
        if v["type"] != "event" {
            continue;
        }
        let event = v;
        let terminal = ["task_completed", "task_failed", "task_cancelled"]
            .contains(&event["kind"].as_str().unwrap_or_default());
        events.push(event);
        if terminal {
            return events;
        }
    }
}

/// Reads the socket until an event of `kind` arrives.
async fn wait_for_kind(socket: &mut Socket, kind: &str) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or_default();
        if v["type"] == "event" && v["kind"] == kind {
            return;
        }
    }
}

async fn submit(http: &reqwest::Client, base: &str, key: &str, what: &str) -> String {
    let task: Value = http
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(key)
        .json(&json!({ "description": what }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    task["id"].as_str().expect("a task id").to_owned()
}

async fn count(store: &engine::Store, sql: &str, id: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_and_workers_share_one_postgres() {
    let Some(db) = engine::testing::TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let dir = temp_dir("ops");
    // An admin and a key, from the command line against the shared database.
    let out = fleetdeck(&url, &dir, KEY)
        .args([
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            "a-long-password",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fleetdeck(&url, &dir, KEY)
        .args([
            "api-key",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "scale-out",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    // The simulator streams slowly enough to watch and to cancel mid-way.
    sqlx::query("UPDATE providers SET base_url = 'sim://local?token_delay_ms=25&ttft_ms=50' WHERE kind = 'simulator'")
        .execute(db.store.pool())
        .await
        .unwrap();

    let a = start(&url, &temp_dir("a"), &["serve", "--workers", "0"]).await;
    let b = start(&url, &temp_dir("b"), &["serve", "--workers", "0"]).await;
    let worker_dir = temp_dir("w");
    let mut worker = start(&url, &worker_dir, &["worker"]).await;
    let http = engine::providers::http_client();
    // The worker serves health and metrics, nothing else.
    let res = http
        .get(format!("{}/api/v1/tasks", worker.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        http.get(format!("{}/metrics", worker.base))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // 1. Submitted through B, run by the worker, watched on A: every event, in order.
    let id = submit(&http, &b.base, &key, "Write a haiku about queues").await;
    let mut socket = subscribe(&a.base, &key, &format!("task:{id}")).await;
    let events = until_terminal(&mut socket).await;
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "in order, no gap"
    );
    assert_eq!(
        events.last().unwrap()["kind"],
        "task_completed",
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e["kind"] == "token"),
        "live tokens crossed processes"
    );
    let stored = count(
        &db.store,
        "SELECT COUNT(*) FROM events WHERE topic = 'task:' || $1",
        &id,
    )
    .await;
    assert_eq!(
        stored,
        seqs.len() as i64,
        "every stored event was delivered"
    );

    // 2. Cancelled through A while the worker runs it: its work stops within a second.
    let id = submit(&http, &b.base, &key, "Add rate limiting to the public API across all endpoints with per-key quotas in the database").await;
    let mut socket = subscribe(&a.base, &key, &format!("task:{id}")).await;
    wait_for_kind(&mut socket, "token").await;
    let cancelled_at = Instant::now();
    let res = http
        .post(format!("{}/api/v1/tasks/{id}/cancel", a.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let tokens = "SELECT COUNT(*) FROM events WHERE topic = 'task:' || $1 AND kind = 'token'";
    let after_a_second = count(&db.store, tokens, &id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        count(&db.store, tokens, &id).await,
        after_a_second,
        "the worker stopped streaming within a second of the cancel"
    );
    let active = count(
        &db.store,
        "SELECT COUNT(*) FROM agent_runs WHERE task_id = $1 AND status = 'active'",
        &id,
    )
    .await;
    assert_eq!(active, 0, "no step left running");
    assert!(cancelled_at.elapsed() < Duration::from_secs(10));

    // 3. The worker is killed mid-task; a new one finishes it, nothing doubled.
    let id = submit(&http, &b.base, &key, "Add rate limiting to the public API across all endpoints with per-key quotas in the database").await;
    let mut socket = subscribe(&a.base, &key, &format!("task:{id}")).await;
    wait_for_kind(&mut socket, "step_completed").await;
    worker.child.kill().unwrap(); // SIGKILL
    let _ = worker.child.wait();
    let _replacement = start(&url, &worker_dir, &["worker"]).await;
    let events = until_terminal(&mut socket).await;
    assert_eq!(
        events.last().unwrap()["kind"],
        "task_completed",
        "{events:?}"
    );
    let doubled_steps = count(
        &db.store,
        "SELECT COUNT(*) FROM (SELECT step_index FROM agent_runs WHERE task_id = $1 \
         AND status = 'completed' GROUP BY step_index HAVING COUNT(*) > 1) d",
        &id,
    )
    .await;
    assert_eq!(doubled_steps, 0, "no step completed twice");
    // No call counted twice: the task's cost, kept as calls are recorded, is exactly the sum
    // of its recorded calls, and so is the sum of its steps'.
    let sum = count(
        &db.store,
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM llm_calls WHERE task_id = $1",
        &id,
    )
    .await;
    let task: Value = get_json(&http, &format!("{}/api/v1/tasks/{id}", a.base), &key).await;
    assert!(sum > 0);
    assert_eq!(task["cost_micros"].as_i64(), Some(sum), "{task}");
    let steps: i64 = task["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cost_micros"].as_i64().unwrap())
        .sum();
    assert_eq!(steps, sum);

    // 4. Workers must share the work root: a task whose files were written by a killed
    // worker, claimed again by one with another work root, fails saying so (it never goes
    // on as if its files did not exist).
    drop(_replacement);
    let lone_dir = temp_dir("w2");
    let mut lone = start(&url, &lone_dir, &["worker"]).await;
    let id = submit(&http, &b.base, &key, "Add rate limiting to the public API across all endpoints with per-key quotas in the database").await;
    let mut socket = subscribe(&a.base, &key, &format!("task:{id}")).await;
    wait_for_kind(&mut socket, "file_change").await;
    lone.child.kill().unwrap();
    let _ = lone.child.wait();
    let _elsewhere = start(&url, &temp_dir("w3"), &["worker"]).await;
    let events = until_terminal(&mut socket).await;
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "task_failed", "{events:?}");
    assert!(
        last.to_string().contains("share"),
        "the failure says why: {last}"
    );

    // 5. A process with another master key refuses to start once provider keys are sealed.
    let res = http
        .post(format!("{}/api/v1/providers", a.base))
        .bearer_auth(&key)
        .json(&json!({ "name": "Sealed", "kind": "openai_compatible",
            "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-sealed-key-1234" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let out = fleetdeck(&url, &temp_dir("stranger"), OTHER_KEY)
        .args(["serve", "--addr", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("master key") && stderr.contains("Sealed"),
        "{stderr}"
    );
    drop((a, b));
}
