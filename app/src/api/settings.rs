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
    let provider = match provider_id.as_ref().and_then(|v| v.as_str()) {
        Some(id) => providers::list(db, ws)
            .await?
            .into_iter()
            .find(|p| p.id == id),
        None => None,
    };
    let model = settings::get(db, ws, settings::DEFAULT_MODEL).await?;
    let temperature = settings::get(db, ws, settings::DEFAULT_TEMPERATURE).await?;
    let prices = prices::list(db).await?;
    Ok(SettingsView {
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
