//! The Alerts pages' data and actions: the engine functions `/api/v1/alerts` calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::alerts::{Alert, AlertCounts, AlertRule, Channel, ChannelCreated, Delivery};

/// The alerts of one tab, and whether the viewer may act on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    /// Newest first (at most 100).
    pub alerts: Vec<Alert>,
    /// Developers and admins acknowledge and resolve.
    pub can_act: bool,
    /// The bell's counts.
    pub counts: AlertCounts,
}

/// The bell's counts.
#[server(prefix = "/api", endpoint = "alert_counts")]
pub async fn get_alert_counts() -> Result<AlertCounts, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::alerts::counts(&cx.store, &who).await?)
}

/// The alerts in `state` (`active` or `resolved`).
#[server(prefix = "/api", endpoint = "list_alerts")]
pub async fn list_alerts(state: String) -> Result<AlertsView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let request = engine::store::page::PageRequest::parse(Some("100"), None)?;
    let page = engine::alerts::list(&cx.store, &who, Some(&state), &request).await?;
    let counts = engine::alerts::counts(&cx.store, &who).await?;
    Ok(AlertsView {
        alerts: page.items,
        can_act: who.role.includes(engine::domain::MemberRole::Developer),
        counts,
    })
}

/// Acknowledges an alert (developers and admins).
#[server(prefix = "/api", endpoint = "acknowledge_alert")]
pub async fn acknowledge_alert(id: String) -> Result<Alert, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::alerts::acknowledge(&cx.store, cx.runner.bus(), caller, &id).await?)
}

/// Resolves an alert (developers and admins).
#[server(prefix = "/api", endpoint = "resolve_alert")]
pub async fn resolve_alert(id: String) -> Result<Alert, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::alerts::resolve(&cx.store, cx.runner.bus(), caller, &id).await?)
}

/// A channel with its most recent deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelLog {
    /// The channel.
    pub channel: Channel,
    /// Newest first (at most 10).
    pub deliveries: Vec<Delivery>,
}

/// The Rules page: every rule, and for admins the channels with their logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// One per kind.
    pub rules: Vec<AlertRule>,
    /// Empty for members who are not admins.
    pub channels: Vec<ChannelLog>,
    /// Whether the viewer may change rules and channels.
    pub admin: bool,
    /// Whether e-mail channels can send (an SMTP server is configured).
    pub mail_configured: bool,
}

/// The rules, and the channels for admins.
#[server(prefix = "/api", endpoint = "alert_settings")]
pub async fn get_alert_settings() -> Result<AlertSettings, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let rules = engine::alerts::rules::list(&cx.store, &who).await?;
    let admin = who.role.includes(engine::domain::MemberRole::Admin);
    let mut channels = Vec::new();
    if admin {
        for channel in engine::alerts::channels::list(&cx.store, &who).await? {
            let mut deliveries =
                engine::alerts::channels::deliveries(&cx.store, &who, &channel.id).await?;
            deliveries.truncate(10);
            channels.push(ChannelLog {
                channel,
                deliveries,
            });
        }
    }
    Ok(AlertSettings {
        rules,
        channels,
        admin,
        mail_configured: cx.notifier.mail_configured(),
    })
}

/// Changes a rule (admins). `enabled` is a checkbox (present when ticked); the rule's numbers
/// come as `params[name]=value`, one input each on the form.
#[server(prefix = "/api", endpoint = "update_alert_rule")]
pub async fn update_alert_rule(
    kind: String,
    #[server(default)] enabled: Option<String>,
    severity: String,
    #[server(default)] params: std::collections::BTreeMap<String, String>,
) -> Result<AlertRule, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let mut map = serde_json::Map::new();
    for (key, value) in params {
        let number = value
            .trim()
            .parse::<f64>()
            .map_err(|_| engine::Error::invalid("params", format!("{key} must be a number")))?;
        map.insert(key, serde_json::json!(number));
    }
    let input = wire::alerts::AlertRuleInput {
        enabled: Some(enabled.is_some()),
        severity: Some(severity),
        params: Some(map),
    };
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::alerts::rules::update(&cx.store, caller, &kind, &input).await?)
}

/// Makes a channel (admins); a webhook's signing secret is answered this once.
#[server(prefix = "/api", endpoint = "create_channel")]
pub async fn create_channel(
    name: String,
    kind: String,
    target: String,
    #[server(default)] format: String,
    min_severity: String,
) -> Result<ChannelCreated, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let input = wire::alerts::ChannelInput {
        name,
        kind,
        target,
        format: (!format.is_empty()).then_some(format),
        min_severity: Some(min_severity),
        enabled: Some(true),
    };
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::alerts::channels::create(&cx.store, &cx.master_key, caller, &input).await?)
}

/// Deletes a channel (admins).
#[server(prefix = "/api", endpoint = "delete_channel")]
pub async fn delete_channel(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::alerts::channels::delete(&cx.store, caller, &id).await?;
    Ok(())
}

/// Sends a test message to a channel now (admins).
#[server(prefix = "/api", endpoint = "test_channel")]
pub async fn test_channel(id: String) -> Result<Delivery, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::alerts::notify::send_test(&cx.store, &cx.notifier, caller, &id).await?)
}
