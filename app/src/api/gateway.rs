//! The gateway's routes as the Settings page sees them: the same engine actions and wire types
//! as `/api/v1/gateway/routes`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::gateway::GatewayRoute;
use wire::providers::Provider;

/// The routes, the providers a route may send to, and the credits a request costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayView {
    /// The routes, by model name.
    pub routes: Vec<GatewayRoute>,
    /// Providers that speak a gateway API (OpenAI's, or Anthropic's for `/v1/messages`).
    pub providers: Vec<Provider>,
    /// Credits taken per request (the `gateway_credits_per_call` setting; 0 when unset).
    pub credits_per_call: i64,
    /// Whether the viewer may change routes (admins).
    pub can_edit: bool,
}

/// The gateway's routes and the providers they may use.
#[server(prefix = "/api", endpoint = "gateway_routes")]
pub async fn get_gateway() -> Result<GatewayView, AppError> {
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    let ws = &who.workspace_id;
    let routes = engine::gateway::routes::list(&cx.store, ws).await?;
    let providers = engine::store::providers::list(cx.store.pool(), ws)
        .await?
        .into_iter()
        .filter(|p| {
            matches!(
                p.kind.as_str(),
                "openai" | "openai_compatible" | "anthropic"
            )
        })
        .collect();
    let credits_per_call = cx.gateway.credits_per_call(&cx.store, ws).await?;
    Ok(GatewayView {
        routes,
        providers,
        credits_per_call,
        can_edit: who.role.includes(engine::domain::MemberRole::Admin),
    })
}

/// Creates or replaces the route of `model`: a target and, optionally, one fallback.
#[server(prefix = "/api", endpoint = "save_gateway_route")]
pub async fn save_gateway_route(
    model: String,
    provider_id: String,
    target_model: String,
    fallback_provider_id: String,
    fallback_model: String,
) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let mut targets = vec![wire::gateway::RouteTarget {
        provider_id,
        model: target_model,
    }];
    if !fallback_provider_id.is_empty() || !fallback_model.trim().is_empty() {
        targets.push(wire::gateway::RouteTarget {
            provider_id: fallback_provider_id,
            model: fallback_model,
        });
    }
    let input = wire::gateway::RouteInput { model, targets };
    let caller = engine::actions::Caller::new(&who, &client);
    engine::gateway::routes::put(&cx.store, caller, &input).await?;
    cx.gateway.invalidate();
    Ok(())
}

/// Sets the credits each gateway request costs (admins; 0 to 1,000).
#[server(prefix = "/api", endpoint = "set_gateway_credits")]
pub async fn set_gateway_credits(credits: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let n: i64 = credits.trim().parse().map_err(|_| {
        AppError::Invalid("credits per request: a whole number from 0 to 1,000".into())
    })?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::actions::settings::set(
        &cx.store,
        caller,
        engine::store::settings::GATEWAY_CREDITS_PER_CALL,
        &serde_json::json!(n),
    )
    .await?;
    cx.gateway.invalidate();
    Ok(())
}

/// Deletes the route of `model`.
#[server(prefix = "/api", endpoint = "delete_gateway_route")]
pub async fn delete_gateway_route(model: String) -> Result<(), AppError> {
    let cx = crate::ssr::context()?;
    let (who, client) = crate::ssr::caller_for_write().await?;
    let caller = engine::actions::Caller::new(&who, &client);
    engine::gateway::routes::delete(&cx.store, caller, &model).await?;
    cx.gateway.invalidate();
    Ok(())
}
