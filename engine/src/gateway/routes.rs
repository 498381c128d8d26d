//! Gateway routes: a model name clients ask for → providers and models, in fallback order.
//! Everyone reads; admins create, replace and delete (each with its audit entry).

use serde_json::json;
use wire::gateway::{GatewayRoute, RouteInput};

use crate::actions::Caller;
use crate::domain::MemberRole;
use crate::domain::ProviderKind;
use crate::{Error, Result, Store, new_id, now_ms};

/// Most targets of one route.
pub const MAX_TARGETS: usize = 5;

fn from_row((id, model, targets, updated_at): (String, String, String, i64)) -> GatewayRoute {
    GatewayRoute {
        id,
        model,
        targets: serde_json::from_str(&targets).unwrap_or_default(),
        updated_at,
    }
}

/// The workspace's routes, by model name.
pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<GatewayRoute>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, model, targets, updated_at FROM gateway_routes WHERE workspace_id = $1 ORDER BY model",
    )
    .bind(workspace_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The route of one model name, if there is one.
pub async fn find<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    workspace_id: &str,
    model: &str,
) -> Result<Option<GatewayRoute>> {
    let row: Option<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, model, targets, updated_at FROM gateway_routes WHERE workspace_id = $1 AND model = $2",
    )
    .bind(workspace_id)
    .bind(model)
    .fetch_optional(db)
    .await?;
    Ok(row.map(from_row))
}

/// Creates or replaces the route of `req.model` (admins).
pub async fn put(store: &Store, caller: Caller<'_>, req: &RouteInput) -> Result<GatewayRoute> {
    caller.who.require(MemberRole::Admin)?;
    let ws = &caller.who.workspace_id;
    let model = req.model.trim();
    if model.is_empty() || model.chars().count() > 200 {
        return Err(Error::invalid("model", "must be 1 to 200 characters"));
    }
    if req.targets.is_empty() || req.targets.len() > MAX_TARGETS {
        return Err(Error::invalid(
            "targets",
            format!("one to {MAX_TARGETS} targets"),
        ));
    }
    for (i, t) in req.targets.iter().enumerate() {
        if t.model.trim().is_empty() || t.model.chars().count() > 200 {
            return Err(Error::invalid(
                "targets",
                format!("[{i}].model must be 1 to 200 characters"),
            ));
        }
        let provider = crate::store::providers::get(store, ws, &t.provider_id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::invalid(
                    "targets",
                    format!("[{i}].provider_id: no such provider here"),
                ),
                other => other,
            })?;
        let kind = ProviderKind::parse(&provider.kind)?;
        if !matches!(
            kind,
            ProviderKind::Openai | ProviderKind::OpenaiCompatible | ProviderKind::Anthropic
        ) {
            return Err(Error::invalid(
                "targets",
                format!(
                    "[{i}]: {} speaks {}; the gateway routes to OpenAI, OpenAI-compatible and Anthropic providers",
                    provider.name, provider.kind
                ),
            ));
        }
    }
    let targets: Vec<_> = req
        .targets
        .iter()
        .map(|t| json!({ "provider_id": t.provider_id, "model": t.model.trim() }))
        .collect();
    let targets = serde_json::Value::from(targets).to_string();
    let now = now_ms();
    let mut tx = store.begin().await?;
    let existing = find(&mut *tx, ws, model).await?;
    let id = match &existing {
        Some(r) => {
            sqlx::query("UPDATE gateway_routes SET targets = $2, updated_at = $3 WHERE id = $1")
                .bind(&r.id)
                .bind(&targets)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            r.id.clone()
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO gateway_routes (id, workspace_id, model, targets, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(&id)
            .bind(ws)
            .bind(model)
            .bind(&targets)
            .bind(&caller.who.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    caller
        .audit(
            &mut tx,
            "gateway.route_put",
            format!("gateway_route:{id}"),
            json!({ "model": model, "targets": req.targets.len(), "replaced": existing.is_some() }),
        )
        .await?;
    let out = find(&mut *tx, ws, model)
        .await?
        .ok_or_else(|| Error::not_found("gateway route", model))?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes the route of a model name (admins).
pub async fn delete(store: &Store, caller: Caller<'_>, model: &str) -> Result<()> {
    caller.who.require(MemberRole::Admin)?;
    let mut tx = store.begin().await?;
    let done = sqlx::query("DELETE FROM gateway_routes WHERE workspace_id = $1 AND model = $2")
        .bind(&caller.who.workspace_id)
        .bind(model)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(Error::not_found("gateway route", model));
    }
    caller
        .audit(
            &mut tx,
            "gateway.route_delete",
            format!("gateway_route:{model}"),
            json!({ "model": model }),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
