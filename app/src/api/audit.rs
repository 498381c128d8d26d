//! The audit log page's data (admins only): the same engine functions and wire types as
//! `/api/v1/audit` and `/api/v1/audit/verify`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use wire::Page;
use wire::audit::{AuditCheck, Entry};

/// The audit page's filters and cursor, as its URL carries them (`/audit?actor=…&action=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Exact actor, as the log shows it (an e-mail, `system`, `cli`).
    pub actor: String,
    /// Exact action name (`provider.create`).
    pub action: String,
    /// Where the page starts (from a previous page).
    pub cursor: String,
}

impl AuditQuery {
    /// Whether the log is filtered.
    pub fn is_filtered(&self) -> bool {
        !self.actor.is_empty() || !self.action.is_empty()
    }

    /// The page's address for these filters (and cursor).
    pub fn url(&self) -> String {
        crate::components::more_pages::list_url(
            "/audit",
            &[
                ("actor", &self.actor),
                ("action", &self.action),
                ("cursor", &self.cursor),
            ],
        )
    }
}

impl crate::components::more_pages::PagedQuery for AuditQuery {
    type Item = Entry;

    fn at_cursor(&self, cursor: String) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    fn url(&self) -> String {
        AuditQuery::url(self)
    }

    fn fetch(self) -> impl std::future::Future<Output = Result<Page<Entry>, AppError>> + 'static {
        get_audit(self)
    }
}

/// Entries newest first, 200 at a time, filtered by actor and action.
#[server(prefix = "/api", endpoint = "audit")]
pub async fn get_audit(query: AuditQuery) -> Result<Page<Entry>, AppError> {
    use engine::store::{audit, page::PageRequest};
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    who.require(engine::domain::MemberRole::Admin)?;
    let cursor = (!query.cursor.is_empty()).then_some(query.cursor.as_str());
    let request = PageRequest::parse(Some("200"), cursor)?;
    let nonempty = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let filter = audit::Filter {
        actor: nonempty(query.actor),
        action: nonempty(query.action),
        limit: request.limit,
        ..Default::default()
    };
    Ok(audit::page(&cx.store, &who.workspace_id, filter, &request).await?)
}

/// Whether the workspace's hash chain verifies: every entry is read again, so the page asks
/// for it apart from the entries and shows them meanwhile.
#[server(prefix = "/api", endpoint = "audit_check")]
pub async fn check_audit() -> Result<AuditCheck, AppError> {
    use engine::store::audit;
    let cx = crate::ssr::context()?;
    let who = crate::ssr::principal().await?;
    who.require(engine::domain::MemberRole::Admin)?;
    Ok(audit::check(&cx.store, &who.workspace_id).await?)
}
