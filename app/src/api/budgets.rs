//! The Budgets page's data and actions: the engine functions `/api/v1/budgets` calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::budgets::Budget;

/// What a budget can apply to, for the form's "Applies to" list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// `scope:id` (`workspace:` for the whole workspace).
    pub value: String,
    /// As people read it.
    pub label: String,
}

/// How many agents the form offers (a registry can hold 100,000; `POST /api/v1/budgets` takes
/// any).
pub const AGENT_CHOICES: i64 = 200;

/// The workspace's budgets, and (for admins) what a new one could apply to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetsView {
    /// By name.
    pub budgets: Vec<Budget>,
    /// Empty for members who cannot make budgets. Agents: the first [`AGENT_CHOICES`] by name.
    pub subjects: Vec<Subject>,
    /// Whether the workspace has more agents than the subjects offer.
    pub more_agents: bool,
    /// The workspace's time zone, whose calendar the periods follow (`UTC` when unset).
    pub time_zone: String,
}

/// The budgets with their current periods.
#[server(prefix = "/api", endpoint = "budgets")]
pub async fn list_budgets() -> Result<BudgetsView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let budgets = engine::budgets::list(&cx.store, &who).await?;
    let mut subjects = Vec::new();
    let mut more_agents = false;
    if who.role.includes(engine::domain::MemberRole::Admin) {
        subjects.push(Subject {
            value: "workspace:".into(),
            label: "The whole workspace".into(),
        });
        let first = engine::store::agents::page(
            cx.store.pool(),
            &who.workspace_id,
            &engine::store::agents::AgentFilter::default(),
            &engine::store::page::PageRequest {
                limit: AGENT_CHOICES,
                after: None,
            },
        )
        .await?;
        more_agents = first.next_cursor.is_some();
        for a in first.items {
            subjects.push(Subject {
                value: format!("agent:{}", a.id),
                label: format!("Agent · {}", a.name),
            });
        }
        for m in engine::store::users::list(cx.store.pool(), &who.workspace_id).await? {
            subjects.push(Subject {
                value: format!("user:{}", m.id),
                label: format!("Member · {}", m.email),
            });
        }
        for k in engine::store::api_keys::list(&cx.store, &who).await? {
            if k.revoked_at.is_none() {
                subjects.push(Subject {
                    value: format!("api_key:{}", k.id),
                    label: format!("API key · {}", k.name),
                });
            }
        }
    }
    let time_zone = engine::store::settings::get(
        cx.store.pool(),
        &who.workspace_id,
        engine::store::settings::TIME_ZONE,
    )
    .await?
    .and_then(|v| v.as_str().map(str::to_owned))
    .filter(|z| !z.is_empty())
    .unwrap_or_else(|| "UTC".to_owned());
    Ok(BudgetsView {
        budgets,
        subjects,
        more_agents,
        time_zone,
    })
}

/// Sets the workspace's time zone, whose calendar budgets follow (admins). Periods already
/// under way keep their bounds.
#[server(prefix = "/api", endpoint = "set_time_zone")]
pub async fn set_time_zone(time_zone: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::settings::set(
        &cx.store,
        caller,
        engine::store::settings::TIME_ZONE,
        &serde_json::json!(time_zone.trim()),
    )
    .await?;
    Ok(())
}

/// The budget a form describes: `applies_to` is `scope:id`; `hard` is a checkbox (present when
/// ticked); `thresholds` a comma-separated list of percentages (default 50, 80, 100).
#[cfg(feature = "ssr")]
fn input_of(
    name: String,
    applies_to: &str,
    period: String,
    amount_usd: &str,
    hard: bool,
    thresholds: &str,
) -> Result<wire::budgets::BudgetInput, AppError> {
    let (scope, subject) = applies_to.split_once(':').unwrap_or((applies_to, ""));
    let amount = amount_usd
        .trim()
        .trim_start_matches('$')
        .parse::<f64>()
        .map_err(|_| engine::Error::invalid("amount_usd", "must be an amount in dollars"))?;
    let thresholds = if thresholds.trim().is_empty() {
        wire::budgets::default_thresholds()
    } else {
        thresholds
            .split(',')
            .map(|t| t.trim().trim_end_matches('%').parse::<u32>())
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|_| {
                engine::Error::invalid("thresholds", "must be percentages separated by commas")
            })?
    };
    Ok(wire::budgets::BudgetInput {
        name,
        scope: scope.to_owned(),
        subject_id: subject.to_owned(),
        period,
        amount_usd: amount,
        hard,
        thresholds,
    })
}

/// Makes a budget (admins).
#[server(prefix = "/api", endpoint = "create_budget")]
pub async fn create_budget(
    name: String,
    applies_to: String,
    period: String,
    amount_usd: String,
    #[server(default)] hard: Option<String>,
    #[server(default)] thresholds: String,
) -> Result<Budget, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let input = input_of(
        name,
        &applies_to,
        period,
        &amount_usd,
        hard.is_some(),
        &thresholds,
    )?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::budgets::create(&cx.store, caller, &input).await?)
}

/// Changes a budget (admins); what its periods spent stays.
#[server(prefix = "/api", endpoint = "update_budget")]
pub async fn update_budget(
    id: String,
    name: String,
    applies_to: String,
    period: String,
    amount_usd: String,
    #[server(default)] hard: Option<String>,
    #[server(default)] thresholds: String,
) -> Result<Budget, AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let input = input_of(
        name,
        &applies_to,
        period,
        &amount_usd,
        hard.is_some(),
        &thresholds,
    )?;
    let caller = engine::actions::Caller::new(&who, &client);
    Ok(engine::budgets::update(&cx.store, caller, &id, &input).await?)
}

/// Deletes a budget (admins).
#[server(prefix = "/api", endpoint = "delete_budget")]
pub async fn delete_budget(id: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::budgets::delete(&cx.store, caller, &id).await?;
    Ok(())
}
