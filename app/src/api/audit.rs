//! The audit log page's data (admins only).

use leptos::prelude::*;

use crate::model::{AppError, AuditView};

/// The newest 200 entries and whether the chain verifies.
#[server(prefix = "/api", endpoint = "audit")]
pub async fn get_audit() -> Result<AuditView, AppError> {
    use crate::model::AuditRow;
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    who.require(engine::domain::MemberRole::Admin)?;
    let filter = engine::store::audit::Filter {
        limit: 200,
        ..Default::default()
    };
    let entries = engine::store::audit::list(&cx.store, &who.workspace_id, &filter).await?;
    let verification = engine::store::audit::verify(&cx.store, &who.workspace_id).await?;
    Ok(AuditView {
        intact: verification.first_broken_seq.is_none(),
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                seq: e.seq,
                when: crate::ssr::timestamp(e.created_at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
    })
}
