//! Workspace settings and the price table: the same engine functions as `/api/v1/settings`
//! and `/api/v1/prices`.

use leptos::prelude::*;

use crate::model::AppError;
use wire::settings::SettingsOverview;

/// The defaults, the providers to choose from and the price table.
#[server(prefix = "/api", endpoint = "settings")]
pub async fn get_settings() -> Result<SettingsOverview, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    Ok(engine::store::settings::overview(&cx.store, &who).await?)
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
    #[server(default)] cache_write: String,
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
    let price = wire::settings::Price {
        provider_kind,
        model: model.trim().to_owned(),
        input_per_mtok_micros: Money::parse_dollars(&input)?.0,
        output_per_mtok_micros: Money::parse_dollars(&output)?.0,
        cached_input_per_mtok_micros: Money::parse_dollars(&cached_input)?.0,
        cache_write_per_mtok_micros: if cache_write.trim().is_empty() {
            None
        } else {
            Some(Money::parse_dollars(&cache_write)?.0)
        },
        context_window,
    };
    engine::actions::settings::set_price(&cx.store, caller, &price).await?;
    Ok(())
}
