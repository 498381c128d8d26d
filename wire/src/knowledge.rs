//! Knowledge sources (SPEC F-02): named text documents given to one agent — reference material
//! added to its system prompt under their names, so what the preview shows is what the model
//! reads.

use serde::{Deserialize, Serialize};

/// Most knowledge sources of one agent.
pub const MAX_SOURCES: usize = 20;
/// Most characters of one source.
pub const MAX_CHARS: usize = 100_000;
/// Most characters of all of an agent's sources together.
pub const MAX_TOTAL_CHARS: usize = 200_000;

/// One knowledge source of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnowledgeSource {
    /// UUIDv7.
    pub id: String,
    /// The agent it is given to.
    pub agent_id: String,
    /// Unique among the agent's sources; the heading it appears under in the prompt.
    pub name: String,
    /// The text.
    pub content: String,
    /// Characters of the text.
    pub chars: i64,
    /// Estimated tokens of the text (an estimate: providers count their own).
    pub estimated_tokens: i64,
    /// E-mail of who added it (none for a deleted user).
    pub created_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A knowledge source as an agent file carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KnowledgeDoc {
    /// Its name.
    pub name: String,
    /// Its text.
    pub content: String,
}

/// A knowledge source to add.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewKnowledge {
    /// 1–120 characters, unique among the agent's sources.
    pub name: String,
    /// 1–100,000 characters of text (all of an agent's sources: at most 200,000).
    pub content: String,
}
