//! The audit log page's data (admins only): the same engine functions and wire types as
//! `/api/v1/audit` and `/api/v1/audit/verify`.

use leptos::prelude::*;

use crate::model::AppError;
use wire::Page;
use wire::audit::{AuditCheck, Entry};

/// Entries newest first, a page at a time, and whether the chain verifies.
#[server(prefix = "/api", endpoint = "audit")]
pub async fn get_audit(cursor: Option<String>) -> Result<(Page<Entry>, AuditCheck), AppError> {
    use engine::store::{audit, page::PageRequest};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    who.require(engine::domain::MemberRole::Admin)?;
    let request = PageRequest::parse(Some("200"), cursor.as_deref())?;
    let filter = audit::Filter {
        limit: request.limit,
        ..Default::default()
    };
    let page = audit::page(&cx.store, &who.workspace_id, filter, &request).await?;
    let check = audit::check(&cx.store, &who.workspace_id).await?;
    Ok((page, check))
}
