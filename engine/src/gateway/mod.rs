//! The gateway (SPEC F-19): what the `/v1/chat/completions` edge needs from the engine — the
//! upstreams a requested model is routed to (cached: the hot path makes no database round trip
//! for them), the usage read from the provider's own answer, and the call recorded through the
//! one recording path (`source = gateway`, with the API key), so it counts in analytics,
//! budgets and the calls explorer like any agent's call. The edge forwards bytes; nothing here
//! re-encodes a request or an answer.

pub mod routes;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::secrets::MasterKey;
use crate::domain::ProviderKind;
use crate::providers::Usage;
use crate::store::llm_calls::NewLlmCall;
use crate::store::prices::Price;
use crate::{Result, Store};

/// How long a resolved route is used before it is read again (a changed route clears it at
/// once; a changed provider key is seen within this).
const CACHE_TTL: Duration = Duration::from_secs(5);

/// One provider and model a request may be sent to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The provider row.
    pub provider_id: String,
    /// Its kind.
    pub kind: ProviderKind,
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Its API key, unsealed (never logged).
    pub api_key: Option<String>,
    /// The model name to send.
    pub model: String,
    /// Its price, if the table has it.
    pub price: Option<Price>,
}

/// A resolved route (none: no route of that name) and when it was read.
type Resolved = (Instant, Option<Vec<Upstream>>);

/// Resolved routes, per (workspace, model), and the HTTP client upstream requests share.
pub struct Gateway {
    cache: Mutex<HashMap<(String, String), Resolved>>,
    http: reqwest::Client,
}

impl Default for Gateway {
    fn default() -> Self {
        Self {
            cache: Mutex::default(),
            // No total timeout: a stream lasts as long as the model writes.
            http: crate::providers::http_client(),
        }
    }
}

impl Gateway {
    /// The client for upstream requests (pooled connections).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Forgets every resolved route (after a route changes).
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// The upstreams of `model` in order; `None` when no route has that name.
    pub async fn upstreams(
        &self,
        store: &Store,
        master: &MasterKey,
        workspace_id: &str,
        model: &str,
    ) -> Result<Option<Vec<Upstream>>> {
        let key = (workspace_id.to_owned(), model.to_owned());
        if let Ok(c) = self.cache.lock()
            && let Some((at, hit)) = c.get(&key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(hit.clone());
        }
        let resolved = resolve(store, master, workspace_id, model).await?;
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, (Instant::now(), resolved.clone()));
        }
        Ok(resolved)
    }
}

async fn resolve(
    store: &Store,
    master: &MasterKey,
    workspace_id: &str,
    model: &str,
) -> Result<Option<Vec<Upstream>>> {
    let mut conn = store.pool().acquire().await?;
    let Some(route) = routes::find(&mut *conn, workspace_id, model).await? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(route.targets.len());
    for t in route.targets {
        // A target whose provider was deleted since is skipped; the others still serve.
        let Ok(p) = crate::store::providers::get_in(&mut *conn, workspace_id, &t.provider_id).await
        else {
            tracing::warn!(provider.id = %t.provider_id, model, "a gateway route's provider no longer exists; skipped");
            continue;
        };
        let kind = ProviderKind::parse(&p.kind)?;
        let Some(base_url) = p
            .base_url
            .clone()
            .or_else(|| crate::providers::default_base_url(kind).map(str::to_owned))
        else {
            continue;
        };
        let api_key =
            crate::store::providers::api_key_in(&mut *conn, master, workspace_id, &p.id).await?;
        let price = crate::store::prices::get(&mut *conn, kind.as_str(), &t.model).await?;
        out.push(Upstream {
            provider_id: p.id,
            kind,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: t.model,
            price,
        });
    }
    Ok(Some(out))
}

/// The agent an `x-fleetdeck-agent` header names (its id or its name) in the workspace; none
/// when it names none (the call is then recorded without an agent, not refused).
pub async fn agent_named(store: &Store, workspace_id: &str, named: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM agents WHERE workspace_id = $1 AND (id = $2 OR name = $2) ORDER BY id LIMIT 1",
    )
    .bind(workspace_id)
    .bind(named.trim())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|(id,)| id))
}

/// The usage of an OpenAI `usage` object: prompt tokens (cached ones included, as
/// `prompt_tokens_details.cached_tokens` says how many), completion tokens (reasoning ones
/// included, `completion_tokens_details.reasoning_tokens`).
pub fn openai_usage(usage: &serde_json::Value) -> Option<Usage> {
    let n = |v: &serde_json::Value| v.as_i64();
    Some(Usage {
        prompt_tokens: n(&usage["prompt_tokens"])?,
        completion_tokens: n(&usage["completion_tokens"]).unwrap_or(0),
        cached_tokens: n(&usage["prompt_tokens_details"]["cached_tokens"]).unwrap_or(0),
        reasoning_tokens: n(&usage["completion_tokens_details"]["reasoning_tokens"]).unwrap_or(0),
        estimated: false,
    })
}

/// The usage of an Anthropic `usage` object: input tokens are the uncached ones, so the prompt
/// is input + cache reads + cache writes, of which the cache reads are cached. In a stream,
/// `message_start` carries the input side (and an initial `output_tokens` that is not the
/// answer's: [`anthropic_delta`] replaces it with `message_delta`'s final count).
pub fn anthropic_usage(usage: &serde_json::Value) -> Option<Usage> {
    let n = |k: &str| usage[k].as_i64().unwrap_or(0);
    let input = usage["input_tokens"].as_i64()?;
    let cache_read = n("cache_read_input_tokens");
    Some(Usage {
        prompt_tokens: input + cache_read + n("cache_creation_input_tokens"),
        completion_tokens: n("output_tokens"),
        cached_tokens: cache_read,
        reasoning_tokens: 0,
        estimated: false,
    })
}

/// Applies a streamed `message_delta`'s cumulative usage: its `output_tokens` is the final
/// count; input counts, when it repeats them, replace `message_start`'s.
pub fn anthropic_delta(usage: &mut Usage, delta: &serde_json::Value) {
    if let Some(out) = delta["output_tokens"].as_i64() {
        usage.completion_tokens = out;
    }
    if let Some(u) = anthropic_usage(delta) {
        usage.prompt_tokens = u.prompt_tokens;
        usage.cached_tokens = u.cached_tokens;
    }
}

/// What the edge knows about one proxied call when it ends.
#[derive(Debug, Clone)]
pub struct Proxied {
    /// Workspace of the API key.
    pub workspace_id: String,
    /// The API key.
    pub api_key_id: Option<String>,
    /// The `x-fleetdeck-agent` header, when it names an agent of the workspace (its id).
    pub agent_id: Option<String>,
    /// The `x-fleetdeck-task` header, when it names a task of the workspace.
    pub task_id: Option<String>,
    /// Unix milliseconds when the request was sent upstream.
    pub started_at: i64,
    /// Wall time to the end of the answer.
    pub latency_ms: i64,
    /// To the first byte of a streamed answer's first event.
    pub ttft_ms: Option<i64>,
    /// Usage as the provider reported it (none: unknown, recorded as estimated zero).
    pub usage: Option<Usage>,
    /// Failure class, or none for a complete answer.
    pub error_class: Option<String>,
    /// 1 for the first target, 2 for the first fallback, …
    pub attempt: i64,
}

/// Records a proxied call through the one recording path.
pub async fn record(store: &Store, up: &Upstream, call: Proxied) -> Result<String> {
    let usage = call.usage.unwrap_or(Usage {
        estimated: true,
        ..Usage::default()
    });
    let cost = up
        .price
        .as_ref()
        .map_or(0, |p| crate::runner::cost_of(p, &usage));
    let record = NewLlmCall {
        workspace_id: call.workspace_id,
        task_id: call.task_id,
        agent_id: call.agent_id,
        provider_id: Some(up.provider_id.clone()),
        provider_kind: up.kind.as_str().to_owned(),
        model: up.model.clone(),
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cached_tokens: usage.cached_tokens,
        reasoning_tokens: usage.reasoning_tokens,
        usage_estimated: usage.estimated,
        cost_micros: cost,
        price_known: up.price.is_some(),
        latency_ms: call.latency_ms,
        ttft_ms: call.ttft_ms,
        success: call.error_class.is_none(),
        error_class: call.error_class,
        attempt: call.attempt,
        created_at: call.started_at,
        source: "gateway".to_owned(),
        api_key_id: call.api_key_id,
        ..NewLlmCall::default()
    };
    crate::store::llm_calls::record(store, &record).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_cached_and_reasoning_details() {
        let u = openai_usage(&serde_json::json!({
            "prompt_tokens": 120, "completion_tokens": 30,
            "prompt_tokens_details": { "cached_tokens": 100 },
            "completion_tokens_details": { "reasoning_tokens": 12 }
        }))
        .unwrap();
        assert_eq!(
            (
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_tokens,
                u.reasoning_tokens
            ),
            (120, 30, 100, 12)
        );
        assert!(openai_usage(&serde_json::json!(null)).is_none());
    }

    #[test]
    fn anthropic_usage_counts_cache_reads_and_writes_and_the_final_output() {
        let mut u = anthropic_usage(&serde_json::json!({
            "input_tokens": 20, "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 5, "output_tokens": 1
        }))
        .unwrap();
        assert_eq!(
            (u.prompt_tokens, u.cached_tokens, u.completion_tokens),
            (125, 100, 1)
        );
        anthropic_delta(&mut u, &serde_json::json!({ "output_tokens": 30 }));
        assert_eq!(
            (u.prompt_tokens, u.cached_tokens, u.completion_tokens),
            (125, 100, 30)
        );
    }
}
