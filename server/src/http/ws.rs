//! `/ws`: the live event WebSocket (SPEC F-05).
//!
//! The client sends `{"type":"subscribe","topics":["fleet","task:ID","costs"],"since":N}`
//! (`since` is one number for every topic, or an object of per-topic numbers) and receives each
//! event as `{"type":"event","topic":…,"seq":…,"kind":…,"data":…,"at":…}`. Resubscribing with
//! the last seen `seq` delivers exactly what was missed; the backlog comes first, then the
//! `subscribed` reply, then live events. A client too far behind on a topic gets
//! `{"type":"reset","topic":…,"seq":…}` (reload your state; events after `seq` follow) instead
//! of the whole history. Every `seq` is delivered exactly once per topic, however slowly the
//! client reads and however often it pings. Browsers authenticate with their session
//! cookie (and must come from our own origin); programs with `Authorization: Bearer`.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use engine::auth::Principal;
use engine::events::{Delivery, EventBus, Subscription};
use wire::events::{ClientMessage, ServerMessage, Since, TopicPosition};

use super::AppState;
use super::auth::{Auth, bearer};
use super::error::ApiError;

/// The live event socket. Send `{"type":"subscribe","topics":["fleet","task:ID","costs"],
/// "since":N}` (or per-topic `since`); receive each event as `{"type":"event", …Event}`, a
/// `subscribed` reply after the backlog, and `{"type":"reset","topic","seq"}` when too far
/// behind. Browsers use their session cookie (same origin only); programs `Authorization: Bearer`.
#[utoipa::path(get, path = "/ws", tag = "events",
    responses(
        (status = 101, description = "Switching to the WebSocket: the client sends \
            `ClientMessage`s, the server `ServerMessage`s", body = ServerMessage),
        (status = 400, description = "Not a WebSocket upgrade request"),
        (status = 401, description = "Not signed in", body = super::openapi::ErrorBody),
        (status = 403, description = "A cookie-authenticated socket from another origin",
            body = super::openapi::ErrorBody),
        (status = 429, description = "Too many requests", body = super::openapi::ErrorBody)))]
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

fn valid_topic(topic: &str) -> bool {
    topic == engine::events::FLEET
        || topic == engine::events::COSTS
        || topic == engine::alerts::TOPIC
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
                            ServerMessage::Error {
                                message: format!("unknown topic {bad:?}: use fleet, costs, alerts or task:ID"),
                            }
                        } else {
                            let mut positions = Vec::new();
                            for topic in &topics {
                                let from = match &since {
                                    Some(Since::All(n)) => *n,
                                    Some(Since::PerTopic(map)) => map.get(topic).copied().unwrap_or(0),
                                    None => bus.last_seq(&who.workspace_id, topic).await.unwrap_or(0),
                                };
                                positions.push((topic.clone(), from.max(0)));
                            }
                            sub.add(positions);
                            // The backlog, a page at a time (bounded memory), then the reply.
                            let mut failed = false;
                            loop {
                                match sub.next_backlog(&bus).await {
                                    Ok(page) if page.is_empty() => break,
                                    Ok(page) => {
                                        if send(&mut socket, &page).await.is_err() {
                                            return;
                                        }
                                    }
                                    Err(e) => {
                                        tracing::error!(error = %e, "reading events failed");
                                        failed = true;
                                        break;
                                    }
                                }
                            }
                            if failed {
                                ServerMessage::Error {
                                    message: "events could not be read; try again".into(),
                                }
                            } else {
                                ServerMessage::Subscribed {
                                    positions: sub
                                        .positions()
                                        .iter()
                                        .map(|(topic, seq)| TopicPosition {
                                            topic: topic.clone(),
                                            seq: *seq,
                                        })
                                        .collect(),
                                    topics,
                                }
                            }
                        }
                    }
                    Ok(ClientMessage::Unsubscribe { topics }) => {
                        sub.remove(&topics);
                        ServerMessage::Unsubscribed { topics }
                    }
                    Ok(ClientMessage::Ping) => ServerMessage::Pong,
                    Err(e) => ServerMessage::Error {
                        message: format!("bad message: {e}"),
                    },
                };
                if send_message(&mut socket, &reply).await.is_err() {
                    return;
                }
            }
            // Cancel-safe: when a client message wins the race, nothing is lost.
            next = sub.next(&bus) => {
                match next {
                    Some(Ok(deliveries)) => {
                        if send(&mut socket, &deliveries).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "reading events failed");
                        // Retried on the next turn; do not spin on a database that is down.
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                    None => return,
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, deliveries: &[Delivery]) -> Result<(), axum::Error> {
    for delivery in deliveries {
        let message = match delivery {
            Delivery::Event(event) => ServerMessage::Event(event.to_wire()),
            Delivery::Reset { topic, seq } => ServerMessage::Reset {
                topic: topic.clone(),
                seq: *seq,
            },
        };
        send_message(socket, &message).await?;
    }
    Ok(())
}

async fn send_message(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    // Serialising these types cannot fail (string keys, no maps with other keys).
    let text = serde_json::to_string(message).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}
