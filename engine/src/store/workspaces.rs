//! Workspaces: the tenants every other row belongs to.

use serde::Serialize;
use sqlx::{Any, Executor, FromRow};

use crate::{Result, new_id, now_ms};

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct Workspace {
    /// UUIDv7.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Creates a workspace.
#[tracing::instrument(skip(db))]
pub async fn create<'e>(
    db: impl Executor<'e, Database = Any>,
    name: &str,
    slug: &str,
) -> Result<Workspace> {
    let ws = Workspace {
        id: new_id(),
        name: name.to_owned(),
        slug: slug.to_owned(),
        created_at: now_ms(),
    };
    sqlx::query("INSERT INTO workspaces (id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&ws.id)
        .bind(&ws.name)
        .bind(&ws.slug)
        .bind(ws.created_at)
        .execute(db)
        .await?;
    Ok(ws)
}

/// Finds a workspace by its slug.
#[tracing::instrument(skip(db))]
pub async fn by_slug<'e>(
    db: impl Executor<'e, Database = Any>,
    slug: &str,
) -> Result<Option<Workspace>> {
    Ok(
        sqlx::query_as("SELECT id, name, slug, created_at FROM workspaces WHERE slug = $1")
            .bind(slug)
            .fetch_optional(db)
            .await?,
    )
}

/// The first workspace ever created: the one a single-team instance works in.
#[tracing::instrument(skip(db))]
pub async fn first<'e>(db: impl Executor<'e, Database = Any>) -> Result<Option<Workspace>> {
    Ok(sqlx::query_as(
        "SELECT id, name, slug, created_at FROM workspaces ORDER BY created_at, id LIMIT 1",
    )
    .fetch_optional(db)
    .await?)
}

/// A workspace by id.
#[tracing::instrument(skip(db))]
pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<Workspace>> {
    Ok(
        sqlx::query_as("SELECT id, name, slug, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}
