//! Providers: the credentials of the model APIs a workspace calls (keys never leave the
//! server; only their last four characters do).

use serde::{Deserialize, Serialize};

/// A provider as the API and the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Provider {
    /// UUIDv7.
    pub id: String,
    /// Unique name within the workspace.
    pub name: String,
    /// `openai`, `anthropic`, `gemini`, `openai_compatible` or `simulator`.
    pub kind: String,
    /// Endpoint override (required for OpenAI-compatible servers).
    pub base_url: Option<String>,
    /// The last four characters of the key, when one is set.
    pub api_key_last4: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Provider {
    /// Whether it is the offline simulator (its output is labelled "Simulated").
    pub fn simulated(&self) -> bool {
        self.kind == "simulator"
    }

    /// `••••abcd` when a key is stored.
    pub fn key_hint(&self) -> Option<String> {
        self.api_key_last4
            .as_ref()
            .map(|tail| format!("••••{tail}"))
    }
}

/// A provider as a caller sends it; absent fields keep their value (PATCH).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// Unique name in the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `openai`, `anthropic`, `gemini`, `openai_compatible` or `simulator` (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The API's base URL (required for `openai_compatible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The provider's API key: sealed at rest, never shown again (only its last four characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// The result of "test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderCheck {
    /// Whether the provider answered with a complete reply.
    pub ok: bool,
    /// The model asked.
    pub model: String,
    /// Wall time of the call.
    pub latency_ms: i64,
    /// The reply (short) or why it failed (`auth`, `rate_limited`, … and an excerpt).
    pub message: String,
    /// The error class when it failed.
    pub error_class: Option<String>,
}

impl ProviderCheck {
    /// A sentence for a toast.
    pub fn summary(&self) -> String {
        if self.ok {
            format!(
                "Connection OK: {} answered in {} ms",
                self.model, self.latency_ms
            )
        } else {
            format!(
                "Connection failed ({}): {}",
                self.error_class.as_deref().unwrap_or("error"),
                self.message
            )
        }
    }
}

/// What to test a provider with; the body is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderTest {
    /// The model to call (default: the kind's small model).
    #[serde(default)]
    pub model: Option<String>,
}
