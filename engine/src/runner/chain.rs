//! An agent's fallback chain, resolved to provider clients.
//!
//! The chain is explicit: the agent's own provider and model, then the fallbacks it lists, in
//! order — nothing is appended implicitly. The workspace's default provider applies only where
//! an agent (or a fallback entry) names no provider. An agent whose provider was deleted cannot
//! run: it fails with a clear error rather than quietly running on something else.

use std::sync::Arc;

use crate::auth::secrets::MasterKey;
use crate::domain::ProviderKind;
use crate::providers::{self, retry::Target};
use crate::store::agents::{Agent, FallbackTarget};
use crate::store::prices::{self, Price};
use crate::store::settings;
use crate::{Error, Result};

/// One resolved entry of a chain.
#[derive(Clone)]
pub(crate) struct Link {
    /// The client and model to ask.
    pub target: Target,
    /// The kind, for records and pricing.
    pub kind: ProviderKind,
    /// The provider row (None for the built-in simulator).
    pub provider_id: Option<String>,
    /// The price, when the price table knows this model.
    pub price: Option<Price>,
}

impl Link {
    /// `openai/gpt-4o`, for notes and logs.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.target.model)
    }
}

/// Everything needed to build clients.
pub(crate) struct Resolver<'a> {
    pub master_key: &'a MasterKey,
    pub http: &'a reqwest::Client,
}

impl Resolver<'_> {
    /// The agent's chain; `Ok(Err(reason))` when it cannot run, with a reason for the user.
    pub async fn chain(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: &str,
        agent: &Agent,
    ) -> Result<std::result::Result<Vec<Link>, String>> {
        if agent.provider_deleted != 0 {
            return Ok(Err(format!(
                "the provider of agent {} was deleted: choose another provider in the agent's settings",
                agent.name
            )));
        }
        let default = settings::get(&mut *conn, workspace_id, settings::DEFAULT_PROVIDER)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|p| !p.is_empty());
        let mut entries = vec![FallbackTarget {
            provider_id: agent.provider_id.clone(),
            model: agent.model.clone(),
        }];
        entries.extend(agent.fallback_list());
        let mut chain = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let provider_id = entry.provider_id.or_else(|| default.clone());
            match self
                .link(conn, workspace_id, provider_id, entry.model)
                .await
            {
                Ok(link) => chain.push(link),
                Err(Error::NotFound { id, .. }) if i == 0 => {
                    return Ok(Err(format!(
                        "the provider {id} of agent {} no longer exists: choose another provider in the agent's settings",
                        agent.name
                    )));
                }
                Err(Error::NotFound { id, .. }) => {
                    // A fallback whose provider was deleted is skipped, loudly.
                    tracing::warn!(agent.id = %agent.id, provider.id = %id, "a fallback's provider no longer exists; skipped");
                }
                Err(Error::Invalid { reason, .. }) => {
                    return Ok(Err(format!("agent {} cannot run: {reason}", agent.name)));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Ok(chain))
    }

    async fn link(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: &str,
        provider_id: Option<String>,
        model: String,
    ) -> Result<Link> {
        let (kind, client) = match &provider_id {
            Some(id) => {
                let p = crate::store::providers::get_in(&mut *conn, workspace_id, id).await?;
                let kind = ProviderKind::parse(&p.kind)?;
                let key = if kind == ProviderKind::Simulator {
                    None
                } else {
                    crate::store::providers::api_key_in(
                        &mut *conn,
                        self.master_key,
                        workspace_id,
                        id,
                    )
                    .await?
                };
                let client = providers::connect(kind, p.base_url.as_deref(), key, self.http)?;
                (kind, client)
            }
            None => (
                ProviderKind::Simulator,
                providers::connect(ProviderKind::Simulator, None, None, self.http)?,
            ),
        };
        let price = prices::get(&mut *conn, kind.as_str(), &model).await?;
        Ok(Link {
            target: Target {
                provider: Arc::clone(&client),
                model,
            },
            kind,
            provider_id,
            price,
        })
    }
}
