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
}

impl EventKind {
    /// Every kind, for parsing and documentation.
    pub const ALL: [EventKind; 13] = [
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
}
