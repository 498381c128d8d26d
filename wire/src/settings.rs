//! Workspace settings and the price table.

use serde::{Deserialize, Serialize};

use crate::providers::Provider;

/// One row of the price table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Price {
    /// Provider kind, e.g. `openai`.
    pub provider_kind: String,
    /// Model name as the provider spells it.
    pub model: String,
    /// Micro-USD per million prompt tokens.
    pub input_per_mtok_micros: i64,
    /// Micro-USD per million completion tokens.
    pub output_per_mtok_micros: i64,
    /// Micro-USD per million cached prompt tokens.
    pub cached_input_per_mtok_micros: i64,
    /// Micro-USD per million prompt tokens written to the cache (Anthropic bills them at 1.25 ×
    /// input); none: billed as input.
    #[serde(default)]
    pub cache_write_per_mtok_micros: Option<i64>,
    /// The model's context window in tokens (0 when unknown).
    pub context_window: i64,
}

/// A setting and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Setting {
    /// `default_provider`, `default_model`, `default_temperature`, `time_zone` or
    /// `gateway_credits_per_call`.
    pub key: String,
    /// Its value.
    pub value: serde_json::Value,
}

/// A setting's new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingValue {
    /// The value (a provider id, a model name, a temperature…).
    pub value: serde_json::Value,
}

/// The workspace defaults: what an agent that names no provider runs on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Defaults {
    /// The default provider's id, if set.
    pub provider_id: Option<String>,
    /// The default model, if set.
    pub model: Option<String>,
    /// The default temperature, if set.
    pub temperature: Option<f64>,
}

/// The Settings page: the defaults, the providers to choose from and the price table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsOverview {
    /// The workspace defaults.
    pub defaults: Defaults,
    /// The workspace's providers.
    pub providers: Vec<Provider>,
    /// The price table.
    pub prices: Vec<Price>,
    /// Whether the caller may change settings and prices (admins).
    pub can_edit: bool,
}

impl SettingsOverview {
    /// The default provider, if set and still present.
    pub fn default_provider(&self) -> Option<&Provider> {
        let id = self.defaults.provider_id.as_deref()?;
        self.providers.iter().find(|p| p.id == id)
    }
}
