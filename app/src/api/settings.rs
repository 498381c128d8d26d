//! Workspace settings and the price table, read-only for now.

use leptos::prelude::*;

use crate::model::{AppError, SettingsView};

/// The defaults and the price table.
#[server(prefix = "/api", endpoint = "settings")]
pub async fn get_settings() -> Result<SettingsView, AppError> {
    use crate::model::PriceRow;
    use crate::ssr::{context, price, provider_kind_name, tokens_short};
    use engine::store::{prices, providers, settings};

    let cx = context()?;
    let who = crate::ssr::principal().await?;
    let db = cx.store.pool();
    let ws = &who.workspace_id;
    let provider_id = settings::get(db, ws, settings::DEFAULT_PROVIDER).await?;
    let all_providers = providers::list(db, ws).await?;
    let default_provider_id = provider_id
        .as_ref()
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let provider = default_provider_id
        .as_deref()
        .and_then(|id| all_providers.iter().find(|p| p.id == id).cloned());
    let model = settings::get(db, ws, settings::DEFAULT_MODEL).await?;
    let temperature = settings::get(db, ws, settings::DEFAULT_TEMPERATURE).await?;
    let prices = prices::list(db).await?;
    Ok(SettingsView {
        default_provider_id,
        provider_choices: all_providers.into_iter().map(|p| (p.id, p.name)).collect(),
        can_edit: who.role == engine::domain::MemberRole::Admin,
        default_provider_simulated: provider.as_ref().is_some_and(|p| p.kind == "simulator"),
        default_provider: provider.map(|p| p.name),
        default_model: model.and_then(|v| v.as_str().map(str::to_owned)),
        default_temperature: temperature.and_then(|v| v.as_f64()),
        prices: prices
            .into_iter()
            .map(|p| PriceRow {
                input: price(p.input_per_mtok_micros),
                output: price(p.output_per_mtok_micros),
                cached_input: price(p.cached_input_per_mtok_micros),
                provider: provider_kind_name(&p.provider_kind),
                model: p.model,
                context_window: if p.context_window > 0 {
                    tokens_short(p.context_window)
                } else {
                    "—".to_owned()
                },
            })
            .collect(),
    })
}

/// Switches the workspace defaults (admins).
#[server(prefix = "/api", endpoint = "save_defaults")]
pub async fn save_defaults(
    provider_id: String,
    model: String,
    temperature: String,
) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let temperature: f64 = temperature
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid("temperature must be a number from 0 to 2".into()))?;
    engine::actions::settings::set_defaults(&cx.store, caller, &provider_id, &model, temperature)
        .await?;
    Ok(())
}

/// Sets one model's price from dollar amounts per million tokens (admins).
#[server(prefix = "/api", endpoint = "set_price")]
pub async fn set_price(
    provider_kind: String,
    model: String,
    input: String,
    cached_input: String,
    output: String,
    context_window: String,
) -> Result<(), AppError> {
    use engine::domain::Money;
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    let context_window: i64 = if context_window.trim().is_empty() {
        0
    } else {
        context_window.trim().parse().map_err(|_| {
            AppError::Invalid("the context window must be a whole number of tokens".into())
        })?
    };
    let price = engine::store::prices::Price {
        provider_kind,
        model: model.trim().to_owned(),
        input_per_mtok_micros: Money::parse_dollars(&input)?.0,
        output_per_mtok_micros: Money::parse_dollars(&output)?.0,
        cached_input_per_mtok_micros: Money::parse_dollars(&cached_input)?.0,
        context_window,
    };
    engine::actions::settings::set_price(&cx.store, caller, &price).await?;
    Ok(())
}
