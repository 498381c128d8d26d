//! The gateway (SPEC F-19): agents running anywhere call `/v1/chat/completions` with a
//! Fleetdeck API key; a route maps the model they ask for to a provider and model, with an
//! explicit fallback chain, and every call is recorded like an agent's.

use serde::{Deserialize, Serialize};

/// One provider and model a route sends to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteTarget {
    /// A provider of the workspace (OpenAI or OpenAI-compatible).
    pub provider_id: String,
    /// The model name as that provider spells it.
    pub model: String,
}

/// A model name clients ask for, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GatewayRoute {
    /// UUIDv7.
    pub id: String,
    /// The model name clients send (e.g. `gpt-4o` or an alias such as `fast`).
    pub model: String,
    /// Tried in order: the first, then each fallback when one answers 429 or 5xx or cannot be
    /// reached.
    pub targets: Vec<RouteTarget>,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// A route to create or replace (by its model name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// 1–200 characters.
    pub model: String,
    /// 1–5 targets, in order.
    pub targets: Vec<RouteTarget>,
}

/// An error of the OpenAI-compatible endpoints, in OpenAI's own format (so SDKs show it as
/// they show OpenAI's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenAiErrorBody {
    /// The error.
    pub error: OpenAiError,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenAiError {
    /// For people.
    pub message: String,
    /// `invalid_request_error`, `authentication_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// E.g. `model_not_found`, `invalid_api_key`.
    pub code: String,
    /// The offending parameter, when there is one.
    pub param: Option<String>,
}

/// An error of `/v1/messages`, in Anthropic's own format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnthropicErrorBody {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error.
    pub error: AnthropicError,
}

/// What went wrong, as Anthropic says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnthropicError {
    /// E.g. `invalid_request_error`, `authentication_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For people.
    pub message: String,
}
