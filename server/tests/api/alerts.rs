//! Alerts end to end over HTTP: a budget crossing opens exactly one alert, delivered to a local
//! webhook receiver (signed, retried after a failure) and a local SMTP server; acknowledging
//! it clears the count; a stalled simulator agent raises the stuck-agent alert, which resolves
//! itself once the task ends; rules and channels are admins' and validated.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use engine::domain::MemberRole;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{Db, TestApp, default_ws, member_with_key, spawn_app_with};
use crate::tasks::{get, post, set_simulator, setup, wait_finished};

/// A webhook receiver on 127.0.0.1 that answers 500 to its first `failures` requests, then
/// 200; every request's headers and body go to the channel.
async fn webhook_receiver(
    failures: usize,
) -> (String, mpsc::UnboundedReceiver<(HeaderMap, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hooks/T000/B000/secret-part",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (tx, seen) = (tx.clone(), seen.clone());
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send((headers, body));
                if n < failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        format!("http://127.0.0.1:{port}/hooks/T000/B000/secret-part"),
        rx,
    )
}

async fn active_alerts(app: &TestApp, key: &str) -> Vec<Value> {
    let page = get(app, key, "/api/v1/alerts?state=active").await;
    page["items"].as_array().unwrap().clone()
}

/// Waits until `found` picks something from the active alerts.
async fn wait_for_alert(app: &TestApp, key: &str, found: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        if let Some(alert) = active_alerts(app, key).await.into_iter().find(&found) {
            return alert;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no such alert: {:?}", active_alerts(app, key).await);
}

/// Checks `X-Fleetdeck-Signature: t=…,v1=…` against HMAC-SHA256(secret, "t.body").
fn signed(headers: &HeaderMap, body: &str, secret: &str) -> bool {
    let Some(header) = headers
        .get("x-fleetdeck-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

async fn budget_crossing_fires_once(db: Db) {
    let (smtp_port, mut inbox) = crate::sign_in_links::fake_smtp().await;
    let Some(app) = spawn_app_with(db, |c| {
        c.smtp_url = Some(secrecy::SecretString::from(format!(
            "smtp://127.0.0.1:{smtp_port}"
        )));
        c.public_url = Some("http://fleetdeck.example".into());
        c.alert_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "alert-viewer@example.com", MemberRole::Viewer).await;
    let (hook_url, mut hooks) = webhook_receiver(1).await;

    // Channels are admins': a viewer is refused before the body is read.
    let res = app
        .client
        .post(app.url("/api/v1/alerts/channels"))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, bad) = post(
        &app,
        &key,
        "/api/v1/alerts/channels",
        json!({ "name": "Bad", "kind": "webhook", "target": "ftp://example.com" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["details"]["field"], "target");

    let (status, hook) = post(
        &app,
        &key,
        "/api/v1/alerts/channels",
        json!({ "name": "Ops hook", "kind": "webhook", "target": hook_url,
                "format": "generic", "min_severity": "info" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let secret = hook["signing_secret"].as_str().unwrap().to_owned();
    let hook_id = hook["channel"]["id"].as_str().unwrap().to_owned();
    // The URL's path is a credential: never shown again.
    assert_eq!(
        hook["channel"]["target"].as_str().unwrap(),
        format!(
            "http://127.0.0.1:{}/…",
            hook_url
                .split(':')
                .nth(2)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
        )
    );
    let listed = get(&app, &key, "/api/v1/alerts/channels").await;
    assert!(!listed.to_string().contains("secret-part"));
    assert!(!listed.to_string().contains(&secret));
    let (status, mail) = post(
        &app,
        &key,
        "/api/v1/alerts/channels",
        json!({ "name": "Ops mail", "kind": "email", "target": "ops@example.com",
                "min_severity": "info" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{mail}");
    assert!(mail["signing_secret"].is_null());
    let mail_id = mail["channel"]["id"].as_str().unwrap().to_owned();

    // "Send test" on the e-mail channel reaches the SMTP server at once.
    let (status, test) = post(
        &app,
        &key,
        &format!("/api/v1/alerts/channels/{mail_id}/test"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["state"], "delivered", "{test}");
    let message = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        message.contains("Test notification from Fleetdeck"),
        "{message}"
    );

    // One task's cost, then a soft budget of twice that, alerting at 80 % only.
    let description = "Summarise the release notes";
    let (status, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": description }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let done = wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
    let cost = done["cost_micros"].as_i64().unwrap();
    assert!(cost > 0, "{done}");
    let (status, budget) = post(
        &app,
        &key,
        "/api/v1/budgets",
        json!({ "name": "Watched", "scope": "workspace", "period": "month",
                "amount_usd": (cost * 2) as f64 / 1e6, "hard": false, "thresholds": [80] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{budget}");
    assert!(active_alerts(&app, &key).await.is_empty());

    // Tasks until the budget passes 80 %.
    for _ in 0..6 {
        let (status, task) = post(
            &app,
            &key,
            "/api/v1/tasks",
            json!({ "description": description }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        wait_finished(&app, &key, task["id"].as_str().unwrap()).await;
        let spent = get(
            &app,
            &key,
            &format!("/api/v1/budgets/{}", budget["id"].as_str().unwrap()),
        )
        .await["budget"]["current"]["spent_micros"]
            .as_i64()
            .unwrap();
        if spent * 100 >= cost * 2 * 80 {
            break;
        }
    }
    let alert = wait_for_alert(&app, &key, |a| a["kind"] == "budget_threshold").await;
    assert_eq!(alert["title"], "Budget Watched passed 80 %");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["severity"], "warning");
    let counts = get(&app, &key, "/api/v1/alerts/counts").await;
    assert_eq!(counts["open"], 1);

    // The webhook: the first attempt got a 500, the retry (5 s later) a 200; both signed, with
    // the same delivery id.
    let mut requests = Vec::new();
    for _ in 0..2 {
        let request = tokio::time::timeout(Duration::from_secs(20), hooks.recv())
            .await
            .expect("a webhook request")
            .unwrap();
        requests.push(request);
    }
    for (headers, body) in &requests {
        assert!(signed(headers, body, &secret), "bad signature on {body}");
        assert!(!signed(headers, body, "whsec_wrong"));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["alert"]["id"], alert["id"]);
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .contains("http://fleetdeck.example/budgets")
        );
    }
    assert_eq!(
        requests[0].0.get("x-fleetdeck-delivery"),
        requests[1].0.get("x-fleetdeck-delivery")
    );
    let mut log = Value::Null;
    for _ in 0..50 {
        log = get(
            &app,
            &key,
            &format!("/api/v1/alerts/channels/{hook_id}/deliveries"),
        )
        .await;
        if log[0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_status"], 200);

    // The e-mail.
    let message = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("Budget Watched passed 80 %"), "{message}");
    assert!(message.contains("ops@example.com"), "{message}");

    // Evaluations go on (every second): still one alert, no further message.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let all = get(&app, &key, "/api/v1/alerts").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
    assert!(hooks.try_recv().is_err());
    assert!(inbox.try_recv().is_err());

    // A viewer cannot acknowledge; a developer or admin can, which clears the bell's count.
    let id = alert["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/alerts/{id}/acknowledge")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, acked) = post(
        &app,
        &key,
        &format!("/api/v1/alerts/{id}/acknowledge"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "dev@example.com");
    let counts = get(&app, &key, "/api/v1/alerts/counts").await;
    assert_eq!(
        (counts["open"].as_i64(), counts["acknowledged"].as_i64()),
        (Some(0), Some(1))
    );
    // Resolved by hand, a budget crossing stays resolved (the same crossing never fires again).
    let (status, resolved) = post(
        &app,
        &key,
        &format!("/api/v1/alerts/{id}/resolve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert!(active_alerts(&app, &key).await.is_empty());
    let audit = get(&app, &key, "/api/v1/audit?action=alert.acknowledge").await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
}

#[tokio::test]
async fn a_budget_crossing_fires_one_alert_to_webhook_and_email_sqlite() {
    budget_crossing_fires_once(Db::Sqlite).await;
}

#[tokio::test]
async fn a_budget_crossing_fires_one_alert_to_webhook_and_email_postgres() {
    budget_crossing_fires_once(Db::Postgres).await;
}

async fn stalled_agent_is_reported(db: Db) {
    let Some(app) = spawn_app_with(db, |c| c.alert_interval_secs = 1).await else {
        return;
    };
    let key = setup(&app, false).await;
    let ws = default_ws(&app).await;
    let (_, viewer) =
        member_with_key(&app, &ws, "rule-viewer@example.com", MemberRole::Viewer).await;

    // Rules: everyone reads the seed's defaults; admins change them, validated.
    let rules = get(&app, &viewer, "/api/v1/alerts/rules").await;
    let enabled: Vec<(&str, bool)> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["enabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        enabled,
        [
            ("budget_threshold", true),
            ("cost_spike", true),
            ("stuck_agent", true),
            ("context_window", true),
            ("failure_rate", true),
            ("agent_cost", false)
        ]
    );
    let res = app
        .client
        .put(app.url("/api/v1/alerts/rules/stuck_agent"))
        .bearer_auth(&viewer)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .put(app.url("/api/v1/alerts/rules/stuck_agent"))
        .bearer_auth(&key)
        .json(&json!({ "params": { "minutes": "soon" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .client
        .put(app.url("/api/v1/alerts/rules/weather"))
        .bearer_auth(&key)
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .client
        .put(app.url("/api/v1/alerts/rules/stuck_agent"))
        .bearer_auth(&key)
        .json(&json!({ "params": { "minutes": 0.05 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rule: Value = res.json().await.unwrap();
    assert_eq!(rule["params"]["minutes"], 0.05);
    assert_eq!(rule["is_default"], false);

    // A simulator that takes a minute to its first token: the task runs and nothing moves.
    set_simulator(&app, &key, "sim://local?ttft_ms=60000").await;
    let (status, task) = post(
        &app,
        &key,
        "/api/v1/tasks",
        json!({ "description": "Summarise the logs" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let task_id = task["id"].as_str().unwrap().to_owned();
    let subject = format!("task:{task_id}");
    let alert = wait_for_alert(&app, &key, |a| {
        a["kind"] == "stuck_agent" && a["subject"] == subject
    })
    .await;
    assert!(
        alert["title"].as_str().unwrap().starts_with("Agent stuck"),
        "{alert}"
    );
    assert_eq!(alert["link"], format!("/tasks/{task_id}"));

    // Once the task ends, the condition clears and the alert resolves by itself.
    let (status, _) = post(
        &app,
        &key,
        &format!("/api/v1/tasks/{task_id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = alert["id"].as_str().unwrap();
    let mut resolved = Value::Null;
    for _ in 0..100 {
        resolved = get(&app, &key, &format!("/api/v1/alerts/{id}")).await;
        if resolved["state"] == "resolved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(resolved["state"], "resolved", "{resolved}");
    assert!(resolved["resolved_by"].is_null());
}

#[tokio::test]
async fn a_stalled_agent_raises_the_stuck_agent_alert_sqlite() {
    stalled_agent_is_reported(Db::Sqlite).await;
}

#[tokio::test]
async fn a_stalled_agent_raises_the_stuck_agent_alert_postgres() {
    stalled_agent_is_reported(Db::Postgres).await;
}
