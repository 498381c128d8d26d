//! The gateway's routes as the Settings page sees them: the same engine actions and wire types
//! as `/api/v1/gateway/routes`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::gateway::GatewayRoute;
use wire::providers::Provider;

/// The routes, and the providers a route may send to (OpenAI and OpenAI-compatible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayView {
    /// The routes, by model name.
    pub routes: Vec<GatewayRoute>,
    /// Providers that speak OpenAI's API.
    pub providers: Vec<Provider>,
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
        .filter(|p| p.kind == "openai" || p.kind == "openai_compatible")
        .collect();
    Ok(GatewayView {
        routes,
        providers,
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
