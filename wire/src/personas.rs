//! Personas (seed 004): named voices of one agent. A persona's prompt is added to the agent's
//! system prompt under its name, and its temperature (when it has one) replaces the agent's.
//! At most one is active: it joins every run and step of the agent; any persona can be tried in
//! the playground without activating it.

use serde::{Deserialize, Serialize};

/// One persona of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Persona {
    /// UUIDv7.
    pub id: String,
    /// The agent it belongs to.
    pub agent_id: String,
    /// Unique among the agent's personas.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Added to the agent's system prompt under the persona's name.
    pub prompt: String,
    /// Replaces the agent's temperature (none: the agent's).
    pub temperature: Option<f64>,
    /// Whether the agent runs with it now.
    pub is_active: bool,
    /// E-mail of its author (none for a deleted user).
    pub created_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// A persona to create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPersona {
    /// 1–80 characters, unique among the agent's personas.
    pub name: String,
    /// Up to 500 characters.
    #[serde(default)]
    pub description: String,
    /// 1–20,000 characters.
    pub prompt: String,
    /// 0.0–2.0 (none: the agent's).
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Make it the agent's active persona at once.
    #[serde(default)]
    pub activate: bool,
}

/// A change to a persona: fields absent keep their value; `"temperature": null` returns to the
/// agent's temperature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonaPatch {
    /// 1–80 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Up to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 1–20,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// 0.0–2.0, or null for the agent's own.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub temperature: Option<Option<f64>>,
}

/// A field that is present (even as `null`) is `Some`; an absent one stays `None` (the default).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Tries a persona in the playground without activating it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TestPersona {
    /// The run's input.
    pub input: String,
    /// What else to change for this run (its `persona_id` is this persona).
    #[serde(default)]
    pub overrides: crate::runs::RunOverrides,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_an_absent_temperature_from_a_null_one() {
        let absent: PersonaPatch = serde_json::from_str(r#"{"name":"Terse"}"#).unwrap();
        assert_eq!(absent.temperature, None);
        let null: PersonaPatch = serde_json::from_str(r#"{"temperature":null}"#).unwrap();
        assert_eq!(null.temperature, Some(None));
        let set: PersonaPatch = serde_json::from_str(r#"{"temperature":0.2}"#).unwrap();
        assert_eq!(set.temperature, Some(Some(0.2)));
    }
}
