//! The crash test: kill the real `fleetdeck` process with SIGKILL in the middle of a task,
//! start it again, and the task completes — every call recorded before the crash still there,
//! none recorded twice, and the task's cost still the exact sum of its calls. A hard budget
//! watches it all: what the dead worker held for its call under way is given back when the task
//! is claimed again, so once the task is done nothing is reserved and the budget has spent
//! exactly what the calls cost.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use engine::domain::MemberRole;
use engine::testing::TestDb;
use serde_json::{Value, json};

use crate::helpers::get_json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("FLEETDECK_DATA_DIR", dir)
        .env("FLEETDECK_SITE_ROOT", dir.join("site"))
        .env("FLEETDECK_CONFIG", dir.join("absent.toml"))
        .env("FLEETDECK_LOG", "warn")
        .env("FLEETDECK_TASK_LEASE_SECS", "1")
        .env("FLEETDECK_RATE_LIMIT_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("{base}/ready")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

/// (id, agent_run_id, success) of every call of the task.
async fn calls(store: &engine::Store, task: &str) -> Vec<(String, Option<String>, i64)> {
    sqlx::query_as("SELECT id, agent_run_id, success FROM llm_calls WHERE task_id = $1 ORDER BY id")
        .bind(task)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn crash_and_resume(db: TestDb) {
    let dir = std::env::temp_dir().join(format!("fleetdeck-crash-{}", engine::new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = engine::providers::http_client();
    let mut server = start(&dir, &db.url, port);
    wait_ready(&client, &base).await;

    // An admin key, and a simulator slow enough to be caught mid-step.
    let store = engine::Store::connect(&db.url).await.unwrap();
    let ws = engine::store::workspaces::first(store.pool())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_, key) =
        engine::testing::member_with_key(&store, &ws, "ops@example.com", MemberRole::Admin).await;
    sqlx::query("UPDATE providers SET base_url = 'sim://local?token_delay_ms=15&ttft_ms=50' WHERE kind = 'simulator'")
        .execute(store.pool())
        .await
        .unwrap();

    let budget = client
        .post(format!("{base}/api/v1/budgets"))
        .bearer_auth(&key)
        .json(
            &json!({ "name": "Guard", "scope": "workspace", "period": "month", "amount_usd": 100 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(budget.status(), 201);

    let task: Value = client
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&key)
        .json(&json!({ "description": "Refactor the database layer for performance and security across services" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = task["id"].as_str().unwrap().to_owned();

    // Wait until the BUILDER (third step) is working, then kill the process outright.
    loop {
        let t: Value = get_json(&client, &format!("{base}/api/v1/tasks/{id}"), &key).await;
        if t["steps"][2]["status"] == "active" {
            break;
        }
        assert_ne!(
            t["status"], "completed",
            "the task finished before the crash"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let before = calls(&store, &id).await;
    assert!(!before.is_empty());
    let (status,): (String,) = sqlx::query_as("SELECT status FROM tasks WHERE id = $1")
        .bind(&id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(status, "running", "the crash left it running");

    // Restart: the lease expires and the task resumes from its unfinished step.
    let mut server = start(&dir, &db.url, port);
    wait_ready(&client, &base).await;
    let done = loop {
        let t: Value = get_json(&client, &format!("{base}/api/v1/tasks/{id}"), &key).await;
        if t["status"] != "running" && t["status"] != "queued" {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    server.kill().unwrap();
    server.wait().unwrap();

    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["attempts"], 2);
    let after = calls(&store, &id).await;
    for call in &before {
        assert!(after.contains(call), "call {} was lost", call.0);
    }
    // Steps finished before the crash were not run again: their calls are exactly those before.
    for step in &done["steps"].as_array().unwrap()[..2] {
        let run = step["run_id"].as_str().unwrap();
        let n_before = before
            .iter()
            .filter(|c| c.1.as_deref() == Some(run))
            .count();
        let n_after = after.iter().filter(|c| c.1.as_deref() == Some(run)).count();
        assert_eq!(n_before, n_after, "{} re-ran", step["role"]);
    }
    let (sum,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM llm_calls WHERE task_id = $1",
    )
    .bind(&id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(done["cost_micros"].as_i64().unwrap(), sum);
    let steps_sum: i64 = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cost_micros"].as_i64().unwrap())
        .sum();
    assert_eq!(steps_sum, sum);
    // Nothing reserved any more, 15 minutes before the dead worker's hold would have expired,
    // and the budget spent exactly what the calls cost.
    let (holds,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM budget_reservations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(holds, 0);
    let (spent, reserved): (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(spent_micros) AS BIGINT), CAST(SUM(reserved_micros) AS BIGINT) \
         FROM budget_periods",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((spent, reserved), (sum, 0));
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_task_survives_a_crash_on_sqlite() {
    crash_and_resume(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_task_survives_a_crash_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        crash_and_resume(db).await;
    }
}
