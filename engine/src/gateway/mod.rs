//! The gateway (SPEC F-19): what the `/v1/chat/completions` edge needs from the engine — the
//! upstreams a requested model is routed to (cached: the hot path makes no database round trip
//! for them), the usage read from the provider's own answer, and the call recorded through the
//! one recording path (`source = gateway`, with the API key), so it counts in analytics,
//! budgets and the calls explorer like any agent's call. Budgets wrap each attempt as they wrap
//! a step's ([`hold`] its worst case, settled to its cost with its record); credits per request
//! are a workspace setting. The edge forwards bytes; nothing here re-encodes a request or an
//! answer.

pub mod otlp;
pub mod routes;
pub mod traces;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::secrets::MasterKey;
use crate::budgets::enforce::{Reservation, Spender};
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

/// Resolved routes, per (workspace, model), the credits each request costs per workspace, and
/// the HTTP client upstream requests share.
pub struct Gateway {
    cache: Mutex<HashMap<(String, String), Resolved>>,
    credits: Mutex<HashMap<String, (Instant, i64)>>,
    http: reqwest::Client,
}

impl Default for Gateway {
    fn default() -> Self {
        Self {
            cache: Mutex::default(),
            credits: Mutex::default(),
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
        if let Ok(mut c) = self.credits.lock() {
            c.clear();
        }
    }

    /// The credits a request costs in the workspace (the `gateway_credits_per_call` setting;
    /// 0 when unset), read at most every few seconds.
    pub async fn credits_per_call(&self, store: &Store, workspace_id: &str) -> Result<i64> {
        if let Ok(c) = self.credits.lock()
            && let Some((at, n)) = c.get(workspace_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(*n);
        }
        let n = crate::store::settings::get(
            store.pool(),
            workspace_id,
            crate::store::settings::GATEWAY_CREDITS_PER_CALL,
        )
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        .max(0);
        if let Ok(mut c) = self.credits.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(workspace_id.to_owned(), (Instant::now(), n));
        }
        Ok(n)
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

/// What a request's attribution headers say it belongs to.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// The agent `x-fleetdeck-agent` names (by id or name), when it names one of the workspace.
    pub agent_id: Option<String>,
    /// The task `x-fleetdeck-task` names, when it is a task of the workspace.
    pub task_id: Option<String>,
    /// `x-fleetdeck-task` when it names no Fleetdeck task: the caller's own label, kept.
    pub external_task: Option<String>,
    /// `x-fleetdeck-session`: the caller's session, kept as sent.
    pub session_id: Option<String>,
}

/// Longest attribution value kept (a header is the caller's to fill).
const LABEL_MAX: usize = 200;

fn label(value: Option<&str>) -> Option<String> {
    let v = value?.trim();
    (!v.is_empty()).then(|| v.chars().take(LABEL_MAX).collect())
}

/// Reads the attribution headers' values (a round trip only for those that were sent). A name
/// that matches nothing is never a refusal: the call is recorded without that link.
pub async fn attribute(
    store: &Store,
    workspace_id: &str,
    agent: Option<&str>,
    task: Option<&str>,
    session: Option<&str>,
) -> Result<Attribution> {
    let mut out = Attribution {
        session_id: label(session),
        ..Attribution::default()
    };
    if let Some(named) = label(agent) {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM agents WHERE workspace_id = $1 AND (id = $2 OR name = $2) \
             ORDER BY id LIMIT 1",
        )
        .bind(workspace_id)
        .bind(&named)
        .fetch_optional(store.pool())
        .await?;
        out.agent_id = row.map(|(id,)| id);
    }
    if let Some(named) = label(task) {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM tasks WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(&named)
                .fetch_optional(store.pool())
                .await?;
        match row {
            Some((id,)) => out.task_id = Some(id),
            None => out.external_task = Some(named),
        }
    }
    Ok(out)
}

/// Output tokens held for a request that sets no `max_tokens` (OpenAI's may omit it): the
/// hold is then an estimate, and the budget may be passed by what one call answers beyond it.
pub const DEFAULT_MAX_OUTPUT: i64 = 8_192;

/// The most a request of `body_len` bytes answering up to `max_tokens` can cost at `price`:
/// every byte of the body a token (no tokenizer makes a token of less than one byte), none of
/// it cached. 0 when the price is unknown (such a call's cost is unknown and counted so).
pub fn worst_cost(price: Option<&Price>, body_len: usize, max_tokens: Option<i64>) -> i64 {
    let Some(price) = price else {
        return 0;
    };
    let usage = Usage {
        prompt_tokens: i64::try_from(body_len).unwrap_or(i64::MAX / 2),
        completion_tokens: max_tokens.unwrap_or(DEFAULT_MAX_OUTPUT).max(0),
        ..Usage::default()
    };
    // Cache writes may cost more than input: the worst case prices the prompt at the dearer.
    let dearer = Price {
        input_per_mtok_micros: price
            .input_per_mtok_micros
            .max(price.cache_write_per_mtok_micros.unwrap_or(0)),
        ..price.clone()
    };
    crate::runner::cost_of(&dearer, &usage)
}

/// How long a request waits for other calls' holds to settle when only they stand between it
/// and a budget's room, before it is refused.
const HOLD_WAIT: Duration = Duration::from_secs(5);

/// Holds a request's worst case on every budget that applies to `spender`, or refuses with
/// [`crate::Error::BudgetExceeded`] naming the budget. Without budgets no round trip is made.
pub async fn hold(
    store: &Store,
    workspace_id: &str,
    spender: &Spender,
    worst_micros: i64,
) -> Result<Reservation> {
    crate::budgets::enforce::reserve(store, workspace_id, spender, worst_micros, HOLD_WAIT).await
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
        cache_write_tokens: 0,
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
        cache_write_tokens: n("cache_creation_input_tokens"),
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
        usage.cache_write_tokens = u.cache_write_tokens;
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
    /// The `x-fleetdeck-task` header, when it names no task of the workspace.
    pub external_task: Option<String>,
    /// The `x-fleetdeck-session` header.
    pub session_id: Option<String>,
    /// What the attempt holds on budgets: settled to its cost with its record.
    pub reservation: Option<Reservation>,
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
        cache_write_tokens: usage.cache_write_tokens,
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
        session_id: call.session_id,
        external_task: call.external_task,
        ..NewLlmCall::default()
    };
    // The budgets' holds are settled to the cost in the transaction that records the call.
    let recorded = store
        .record_call(crate::store::group::CallRecord {
            call: record,
            lease: None,
            step: None,
            events: Vec::new(),
            reservation: call.reservation,
        })
        .await?;
    Ok(recorded.id)
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
