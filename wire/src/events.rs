//! The kinds of live events, one enum for the server that publishes them, the browser that
//! follows them and the tests that check them. On the wire a kind is its snake_case name.

use serde::{Deserialize, Serialize};

/// What a live event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A task was queued.
    TaskCreated,
    /// A worker claimed a task (again, after a crash: `attempt` says which).
    TaskStatus,
    /// A task finished (terminal).
    TaskCompleted,
    /// A task failed (terminal).
    TaskFailed,
    /// A task was cancelled (terminal).
    TaskCancelled,
    /// A step's agent started.
    StepStarted,
    /// A step finished, with the provider and model that answered.
    StepCompleted,
    /// A step failed.
    StepFailed,
    /// An attempt failed and will be retried (drop what it streamed).
    StepRetry,
    /// Streamed text.
    Token,
    /// An agent called a tool.
    ToolCall,
    /// A tool changed a file.
    FileChange,
    /// Cost and tokens added (per call on a task's topic; gathered per tick on `costs`).
    CostUpdate,
    /// An alert opened, was acknowledged or resolved (topic `alerts`), with the open count.
    Alert,
}

impl EventKind {
    /// Every kind, for parsing and documentation.
    pub const ALL: [EventKind; 14] = [
        EventKind::TaskCreated,
        EventKind::TaskStatus,
        EventKind::TaskCompleted,
        EventKind::TaskFailed,
        EventKind::TaskCancelled,
        EventKind::StepStarted,
        EventKind::StepCompleted,
        EventKind::StepFailed,
        EventKind::StepRetry,
        EventKind::Token,
        EventKind::ToolCall,
        EventKind::FileChange,
        EventKind::CostUpdate,
        EventKind::Alert,
    ];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TaskCreated => "task_created",
            EventKind::TaskStatus => "task_status",
            EventKind::TaskCompleted => "task_completed",
            EventKind::TaskFailed => "task_failed",
            EventKind::TaskCancelled => "task_cancelled",
            EventKind::StepStarted => "step_started",
            EventKind::StepCompleted => "step_completed",
            EventKind::StepFailed => "step_failed",
            EventKind::StepRetry => "step_retry",
            EventKind::Token => "token",
            EventKind::ToolCall => "tool_call",
            EventKind::FileChange => "file_change",
            EventKind::CostUpdate => "cost_update",
            EventKind::Alert => "alert",
        }
    }

    /// The kind named `name`, if there is one.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether it ends a task's stream.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventKind::TaskCompleted | EventKind::TaskFailed | EventKind::TaskCancelled
        )
    }

    /// Whether it is about a task as a whole (its state in lists changes).
    pub fn is_task(self) -> bool {
        matches!(
            self,
            EventKind::TaskCreated
                | EventKind::TaskStatus
                | EventKind::TaskCompleted
                | EventKind::TaskFailed
                | EventKind::TaskCancelled
        )
    }
}

/// One event as clients receive it (over `/ws`, as `{"type":"event", …}`, and over a task's
/// SSE stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `fleet`, `costs` or `task:{id}`.
    pub topic: String,
    /// Increases by one per (workspace, topic), with no gaps.
    pub seq: i64,
    /// What happened, e.g. `step_started`.
    pub kind: EventKind,
    /// Kind-specific data.
    #[serde(default)]
    pub data: serde_json::Value,
    /// Unix milliseconds.
    pub at: i64,
}

/// Where a subscription starts: after one seq for every topic, or per topic. Absent: from
/// now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Since {
    /// The same seq for every topic (`0`: from the start, within the backlog's bound).
    All(i64),
    /// A seq per topic; topics left out start from the start.
    PerTopic(std::collections::BTreeMap<String, i64>),
}

/// What a client sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Follow topics (`fleet`, `costs`, `task:{id}`): the backlog after `since` comes first,
    /// then `subscribed`, then new events as they happen.
    Subscribe {
        /// The topics.
        topics: Vec<String>,
        /// Where to start; absent: from now on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Since>,
    },
    /// Stop following topics.
    Unsubscribe {
        /// The topics.
        topics: Vec<String>,
    },
    /// Answered with `pong`.
    Ping,
}

/// A topic and the last seq sent on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicPosition {
    /// The topic.
    pub topic: String,
    /// Its last seq sent.
    pub seq: i64,
}

/// What the server sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// An event.
    Event(Event),
    /// The client was too far behind on `topic`: reload its state; events after `seq` follow.
    Reset {
        /// The topic.
        topic: String,
        /// Events after this one follow.
        seq: i64,
    },
    /// A subscription's backlog has been sent.
    Subscribed {
        /// The topics.
        topics: Vec<String>,
        /// Where each topic stands.
        positions: Vec<TopicPosition>,
    },
    /// Topics are no longer followed.
    Unsubscribed {
        /// The topics.
        topics: Vec<String>,
    },
    /// The answer to `ping`.
    Pong,
    /// A message that could not be served.
    Error {
        /// What went wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventKind::parse("nope"), None);
    }

    #[test]
    fn socket_messages_read_as_documented() {
        use super::{ClientMessage, ServerMessage, Since};
        let sub: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","topics":["fleet"],"since":{"fleet":3}}"#)
                .unwrap();
        assert!(matches!(
            sub,
            ClientMessage::Subscribe {
                since: Some(Since::PerTopic(_)),
                ..
            }
        ));
        let event: ServerMessage = serde_json::from_str(
            r#"{"type":"event","topic":"fleet","seq":4,"kind":"task_created","data":{},"at":1}"#,
        )
        .unwrap();
        assert!(matches!(event, ServerMessage::Event(e) if e.seq == 4));
        let reset = serde_json::to_string(&ServerMessage::Reset {
            topic: "fleet".into(),
            seq: 9,
        })
        .unwrap();
        assert_eq!(reset, r#"{"type":"reset","topic":"fleet","seq":9}"#);
    }
}
