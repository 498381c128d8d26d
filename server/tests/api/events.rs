//! The event socket's promises: a client that reads slowly and pings all the time still gets
//! every `seq` exactly once, and one resuming from far too far back gets a `reset` and the
//! newest events — never the topic's whole history in memory.

use std::time::Duration;

use engine::domain::MemberRole;
use engine::events::{EventKind, Outgoing};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::app_test;
use crate::helpers::{TestApp, default_ws, member_with_key};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, key: &str) -> Socket {
    let mut request = app.ws_url("/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn next_json(socket: &mut Socket) -> Value {
    let msg = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .expect("a message in time")
        .unwrap()
        .unwrap();
    let message: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    let errors = crate::contract::server_message_errors(&message);
    assert!(
        errors.is_empty(),
        "a /ws message does not match the document: {errors:?}\n  {message}"
    );
    message
}

app_test!(
    a_slow_client_that_pings_all_the_time_gets_every_event_once,
    |app| {
        let ws = default_ws(&app).await;
        let (_, key) = member_with_key(&app, &ws, "ops@example.com", MemberRole::Viewer).await;
        // The check below can fail: a message the document does not describe is refused.
        assert!(!crate::contract::server_message_errors(&json!({"type": "bogus"})).is_empty());
        assert!(
            !crate::contract::server_message_errors(&json!({"type": "event", "topic": "fleet"}))
                .is_empty()
        );
        let mut socket = connect(&app, &key).await;
        socket
            .send(Message::text(
                json!({"type": "subscribe", "topics": ["fleet"]}).to_string(),
            ))
            .await
            .unwrap();
        loop {
            if next_json(&mut socket).await["type"] == "subscribed" {
                break;
            }
        }
        // More events than the server's broadcast buffer holds, published while the client is not
        // reading: it falls behind and is served from the database, a page at a time.
        let bus = app.server.as_ref().unwrap().bus().clone();
        let total = 6000;
        for batch in 0..total / 200 {
            let events = (0..200)
                .map(|i| {
                    Outgoing::new(
                        "fleet",
                        EventKind::CostUpdate,
                        json!({ "n": batch * 200 + i }),
                    )
                })
                .collect();
            bus.publish_all(&ws, None, events).await.unwrap();
        }
        let mut seen: Vec<i64> = Vec::new();
        let (mut pings, mut pongs) = (0, 0);
        while seen.len() < total {
            // A ping before every read: the server's select! keeps choosing the client's message
            // over the pending events, mid-backlog.
            socket
                .send(Message::text(json!({"type": "ping"}).to_string()))
                .await
                .unwrap();
            pings += 1;
            let v = next_json(&mut socket).await;
            match v["type"].as_str() {
                Some("event") => seen.push(v["seq"].as_i64().unwrap()),
                Some("pong") => pongs += 1,
                other => panic!("unexpected {other:?}: {v}"),
            }
            if seen.len().is_multiple_of(500) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // Every ping was answered too, and nothing else arrives: no event twice.
        while pongs < pings {
            let v = next_json(&mut socket).await;
            assert_eq!(v["type"], "pong", "only pongs are left: {v}");
            pongs += 1;
        }
        assert!(pongs > 1000, "the client kept pinging ({pongs} pongs)");
        let expected: Vec<i64> = (1..=total as i64).collect();
        assert_eq!(seen, expected, "every seq exactly once, in order");
    }
);

app_test!(
    resuming_from_far_back_gets_a_reset_not_the_whole_history,
    |app| {
        let ws = default_ws(&app).await;
        let (_, key) = member_with_key(&app, &ws, "ops@example.com", MemberRole::Viewer).await;
        // 100,000 stored events on one topic.
        sqlx::query(
            "INSERT INTO events (workspace_id, topic, seq, kind, payload, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
         SELECT $1, 'costs', i, 'cost_update', '{}', 0 FROM n",
        )
        .bind(&ws)
        .execute(app.store().pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO event_counters (workspace_id, topic, seq) VALUES ($1, 'costs', 100000)",
        )
        .bind(&ws)
        .execute(app.store().pool())
        .await
        .unwrap();
        let mut socket = connect(&app, &key).await;
        socket
            .send(Message::text(
                json!({"type": "subscribe", "topics": ["costs"], "since": 0}).to_string(),
            ))
            .await
            .unwrap();
        let first = next_json(&mut socket).await;
        assert_eq!(first["type"], "reset", "{first}");
        let from = first["seq"].as_i64().unwrap();
        assert_eq!(from, 100_000 - engine::events::DEFAULT_MAX_BACKLOG);
        let mut events = 0;
        let mut last = from;
        loop {
            let v = next_json(&mut socket).await;
            match v["type"].as_str() {
                Some("event") => {
                    let seq = v["seq"].as_i64().unwrap();
                    assert_eq!(seq, last + 1);
                    last = seq;
                    events += 1;
                }
                Some("subscribed") => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(last, 100_000);
        assert_eq!(
            events,
            engine::events::DEFAULT_MAX_BACKLOG,
            "only the newest events"
        );
    }
);
