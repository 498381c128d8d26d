//! Live events in the browser: one WebSocket to `/ws` per page that needs it, subscribed to the
//! page's topics, reconnecting with exponential backoff and resuming from the last seen `seq`
//! of each topic so that nothing is missed or shown twice.
//!
//! Continuity is checked, not assumed: an event whose `seq` is not the next one of its topic
//! means something was missed (it is dropped, and the socket resubscribes from the last seq it
//! did see); a repeat is ignored. A `reset` from the server (the page was too far behind) is
//! passed on so the page reloads its state, as after every (re)connection (`subscribed`).

use serde::{Deserialize, Serialize};

/// What a page hears: an event from `/ws` (a [`wire::events::Event`]), or the connection's
/// own `subscribed` and `reset` notices, after which the page reloads its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// `fleet`, `costs` or `task:{id}`.
    pub topic: String,
    /// Per-topic sequence number (0 for the synthetic `subscribed` event).
    pub seq: i64,
    /// What happened; `subscribed` after each (re)connection and `reset` after the server
    /// skipped events the page was too far behind for — either way the page reloads its state.
    pub kind: String,
    /// Kind-specific data.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl LiveEvent {
    /// The event's kind, or `None` for the connection's own `subscribed` and `reset` notices
    /// (after which a page reloads its state).
    pub fn event_kind(&self) -> Option<wire::events::EventKind> {
        wire::events::EventKind::parse(&self.kind)
    }
}

/// A reload that many events can ask for and that runs at most once per `after_ms`: the first
/// request schedules it, later ones before it runs join it. Live pages use it so that a busy
/// fleet costs each viewer one request per interval, not one per event.
pub fn throttled(
    after_ms: u64,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl Fn() + Clone + Send + Sync + 'static {
    use std::sync::atomic::{AtomicBool, Ordering};
    let pending = std::sync::Arc::new(AtomicBool::new(false));
    move || {
        if pending.swap(true, Ordering::Relaxed) {
            return;
        }
        let (pending, reload) = (pending.clone(), reload.clone());
        leptos::prelude::set_timeout(
            move || {
                pending.store(false, Ordering::Relaxed);
                reload();
            },
            std::time::Duration::from_millis(after_ms),
        );
    }
}

/// Calls `on_event` for each live event of `topics` while the calling component is mounted.
/// On the server this does nothing: live updates start once the page has hydrated.
pub fn use_live(topics: Vec<String>, on_event: impl Fn(LiveEvent) + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    hydrate::start(topics, on_event);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (topics, on_event);
    }
}

#[cfg(feature = "hydrate")]
mod hydrate {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use futures::{SinkExt, StreamExt};
    use gloo_net::websocket::Message;
    use gloo_net::websocket::futures::WebSocket;
    use leptos::prelude::on_cleanup;
    use wire::events::{ClientMessage, ServerMessage, Since};

    use super::LiveEvent;

    fn socket_url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    pub fn start(topics: Vec<String>, on_event: impl Fn(LiveEvent) + Send + Sync + 'static) {
        let stopped = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        {
            let stopped = stopped.clone();
            let mut stop_tx = Some(stop_tx);
            on_cleanup(move || {
                stopped.store(true, Ordering::Relaxed);
                if let Some(tx) = stop_tx.take() {
                    let _ = tx.send(());
                }
            });
        }
        leptos::task::spawn_local(async move {
            let Some(url) = socket_url() else { return };
            let mut stop_rx = stop_rx;
            let mut positions: BTreeMap<String, i64> = BTreeMap::new();
            let mut backoff_ms: u32 = 500;
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(socket) = WebSocket::open(&url) {
                    let (mut tx, mut rx) = socket.split();
                    // First connection: from now on. Later ones: from the last seq seen.
                    let subscribe = ClientMessage::Subscribe {
                        topics: topics.clone(),
                        since: (!positions.is_empty()).then(|| Since::PerTopic(positions.clone())),
                    };
                    let subscribe = serde_json::to_string(&subscribe).unwrap_or_default();
                    if tx.send(Message::Text(subscribe)).await.is_ok() {
                        loop {
                            let next = futures::future::select(rx.next(), &mut stop_rx).await;
                            let message = match next {
                                futures::future::Either::Left((Some(Ok(m)), _)) => m,
                                futures::future::Either::Left(_) => break,
                                futures::future::Either::Right(_) => return,
                            };
                            let Message::Text(text) = message else {
                                continue;
                            };
                            let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                                continue;
                            };
                            match message {
                                ServerMessage::Event(event) => {
                                    match positions.get(&event.topic).copied() {
                                        Some(last) if event.seq <= last => continue,
                                        // A gap: resubscribe from the last seq seen; the server
                                        // sends what was missed.
                                        Some(last) if event.seq > last + 1 => break,
                                        _ => {}
                                    }
                                    positions.insert(event.topic.clone(), event.seq);
                                    on_event(LiveEvent {
                                        topic: event.topic,
                                        seq: event.seq,
                                        kind: event.kind.as_str().to_owned(),
                                        data: event.data,
                                    });
                                }
                                ServerMessage::Reset { topic, seq } => {
                                    positions.insert(topic.clone(), seq);
                                    on_event(LiveEvent {
                                        topic,
                                        seq,
                                        kind: "reset".into(),
                                        data: serde_json::Value::Null,
                                    });
                                }
                                ServerMessage::Subscribed { positions: now, .. } => {
                                    backoff_ms = 500;
                                    for p in now {
                                        positions.entry(p.topic).or_insert(p.seq);
                                    }
                                    on_event(LiveEvent {
                                        topic: String::new(),
                                        seq: 0,
                                        kind: "subscribed".into(),
                                        data: serde_json::Value::Null,
                                    });
                                }
                                ServerMessage::Unsubscribed { .. }
                                | ServerMessage::Pong
                                | ServerMessage::Error { .. } => {}
                            }
                        }
                    }
                }
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                gloo_timers::future::TimeoutFuture::new(backoff_ms).await;
                backoff_ms = (backoff_ms * 2).min(10_000);
            }
        });
    }
}
