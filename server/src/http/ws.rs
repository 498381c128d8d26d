//! `/ws`: the live event WebSocket (SPEC F-05).
//!
//! The client sends `{"type":"subscribe","topics":["fleet","task:ID","costs"],"since":N}`
//! (`since` is one number for every topic, or an object of per-topic numbers) and receives each
//! event as `{"type":"event","topic":…,"seq":…,"kind":…,"data":…,"at":…}`. Resubscribing with
//! the last seen `seq` delivers exactly what was missed. Browsers authenticate with their session
//! cookie (and must come from our own origin); programs with `Authorization: Bearer`.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use engine::auth::Principal;
use engine::events::{EventBus, Subscription};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Auth, bearer};
use super::error::ApiError;

/// Upgrades an authenticated request to the event socket.
pub async fn handler(
    State(state): State<AppState>,
    Auth(who): Auth,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // Cross-site WebSocket hijacking: a cookie-authenticated socket must come from our origin.
    if bearer(&headers).is_none() {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.is_some() && !engine::auth::web::same_origin(host, origin) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "CROSS_ORIGIN",
                "this socket must be opened from Fleetdeck's own pages",
            ));
        }
    }
    let bus = state.runner.bus().clone();
    Ok(upgrade.on_upgrade(move |socket| serve(socket, bus, who)))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Subscribe {
        topics: Vec<String>,
        #[serde(default)]
        since: Since,
    },
    Unsubscribe {
        topics: Vec<String>,
    },
    Ping,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Since {
    #[default]
    Latest,
    All(i64),
    PerTopic(std::collections::HashMap<String, i64>),
}

fn valid_topic(topic: &str) -> bool {
    topic == engine::events::FLEET
        || topic == engine::events::COSTS
        || topic.strip_prefix("task:").is_some_and(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        })
}

async fn serve(mut socket: WebSocket, bus: std::sync::Arc<EventBus>, who: Principal) {
    let mut sub = Subscription::new(&bus, &who.workspace_id, Vec::new());
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let text = match message {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Subscribe { topics, since }) => {
                        if let Some(bad) = topics.iter().find(|t| !valid_topic(t)) {
                            json!({"type": "error", "message": format!("unknown topic {bad:?}: use fleet, costs or task:ID")})
                        } else {
                            let mut positions = Vec::new();
                            for topic in &topics {
                                let from = match &since {
                                    Since::All(n) => *n,
                                    Since::PerTopic(map) => map.get(topic).copied().unwrap_or(0),
                                    Since::Latest => bus.last_seq(&who.workspace_id, topic).await.unwrap_or(0),
                                };
                                positions.push((topic.clone(), from.max(0)));
                            }
                            sub.add(positions);
                            match sub.backlog(&bus).await {
                                Ok(events) => {
                                    if send_events(&mut socket, &events).await.is_err() {
                                        return;
                                    }
                                    json!({"type": "subscribed", "topics": topics,
                                        "positions": sub.positions().iter().map(|(t, s)| json!({"topic": t, "seq": s})).collect::<Vec<_>>()})
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "reading events failed");
                                    json!({"type": "error", "message": "events could not be read; try again"})
                                }
                            }
                        }
                    }
                    Ok(ClientMessage::Unsubscribe { topics }) => {
                        sub.remove(&topics);
                        json!({"type": "unsubscribed", "topics": topics})
                    }
                    Ok(ClientMessage::Ping) => json!({"type": "pong"}),
                    Err(e) => json!({"type": "error", "message": format!("bad message: {e}")}),
                };
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                    return;
                }
            }
            next = sub.next(&bus) => {
                match next {
                    Some(Ok(events)) => {
                        if send_events(&mut socket, &events).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => tracing::error!(error = %e, "reading events failed"),
                    None => return,
                }
            }
        }
    }
}

async fn send_events(
    socket: &mut WebSocket,
    events: &[std::sync::Arc<engine::events::Event>],
) -> Result<(), axum::Error> {
    for event in events {
        let mut value: Value = serde_json::to_value(&**event).unwrap_or_default();
        value["type"] = json!("event");
        socket.send(Message::Text(value.to_string().into())).await?;
    }
    Ok(())
}
