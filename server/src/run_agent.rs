//! `fleetdeck run --agent NAME "input"` (SPEC F-01): one playground run of one agent on a
//! running instance (`POST /api/v1/runs`, `FLEETDECK_API_KEY`), what it writes streamed to
//! stdout as it is written (over `/api/v1/runs/{id}/stream`; every turn, the last one being the
//! answer), its tool calls and then what answered and its figures on stderr — so stdout holds
//! only the agent's words. Exits 0 only when the run completes.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::json;
use wire::events::{Event, EventKind};
use wire::format::{format_micros, provider_kind_name};
use wire::runs::RunSummary;
use wire::tasks::Task;

use crate::run_task::refusal;

/// What to run, and where.
#[derive(Debug)]
pub struct RunAgent<'a> {
    /// The instance.
    pub url: &'a str,
    /// An API key of the instance.
    pub api_key: Option<&'a str>,
    /// The agent's name (any case).
    pub agent: &'a str,
    /// The input.
    pub input: &'a str,
    /// A model to run instead of the agent's.
    pub model: Option<&'a str>,
}

/// Runs the command; the exit code says whether the run completed.
pub async fn run(args: RunAgent<'_>) -> ExitCode {
    match follow(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn follow(args: RunAgent<'_>) -> Result<bool, String> {
    let key = args
        .api_key
        .filter(|k| !k.is_empty())
        .ok_or("set FLEETDECK_API_KEY to a key of the instance (Settings → API keys)")?;
    let base = args.url.trim_end_matches('/');
    let client = engine::providers::http_client();
    // The agent by name: the registry's search, then an exact (case-insensitive) match.
    let search = reqwest::Url::parse_with_params(
        &format!("{base}/api/v1/agents"),
        &[("q", args.agent.trim()), ("limit", "200")],
    )
    .map_err(|e| format!("{base} is not a URL: {e}"))?;
    let response = client
        .get(search)
        .bearer_auth(key)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("{base} does not answer: {e}"))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let agents: wire::Page<wire::agents::AgentSummary> = response
        .json()
        .await
        .map_err(|e| format!("unreadable agent list: {e}"))?;
    let agent = agents
        .items
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(args.agent.trim()))
        .ok_or_else(|| format!("no agent named \"{}\" in this workspace", args.agent))?;
    let mut overrides = json!({});
    if let Some(model) = args.model {
        overrides["model"] = json!(model);
    }
    let response = client
        .post(format!("{base}/api/v1/runs"))
        .bearer_auth(key)
        .json(&json!({ "agent_id": agent.id, "input": args.input, "overrides": overrides }))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("{base} does not answer: {e}"))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let task: Task = response
        .json()
        .await
        .map_err(|e| format!("unreadable answer to the run: {e}"))?;
    let response = client
        .get(format!("{base}/api/v1/runs/{}/stream", task.id))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("cannot follow the run: {e}"))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let mut out = std::io::stdout();
    let mut events = response.bytes_stream().eventsource();
    while let Some(item) = events.next().await {
        let item = item.map_err(|e| format!("the event stream broke: {e}"))?;
        let Ok(event) = serde_json::from_str::<Event>(&item.data) else {
            continue;
        };
        match event.kind {
            EventKind::Token => {
                let text = event.data["text"].as_str().unwrap_or_default();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            EventKind::ToolCall => {
                let _ = writeln!(out);
                eprintln!(
                    "[tool {}: {}]",
                    event.data["tool"].as_str().unwrap_or("?"),
                    if event.data["ok"].as_bool() == Some(true) {
                        "ok"
                    } else {
                        "failed"
                    }
                );
            }
            EventKind::StepRetry => {
                eprintln!(
                    "\n[the call failed ({}); retrying — the text above is void]",
                    event.data["error_class"].as_str().unwrap_or("error")
                );
            }
            EventKind::TaskCompleted | EventKind::TaskFailed | EventKind::TaskCancelled => {
                let _ = writeln!(out);
                return summary(&client, base, key, &task.id).await;
            }
            _ => {}
        }
    }
    Err("the event stream ended before the run did".to_owned())
}

/// What answered and the run's figures, from the run as stored.
async fn summary(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
) -> Result<bool, String> {
    let run: RunSummary = client
        .get(format!("{base}/api/v1/runs/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("cannot read the run: {e}"))?
        .json()
        .await
        .map_err(|e| format!("unreadable run: {e}"))?;
    let model = run.model.clone().unwrap_or_else(|| "?".to_owned());
    let provider = run
        .provider_kind
        .as_deref()
        .map(provider_kind_name)
        .unwrap_or("?");
    let simulated = if run.simulated() { ", Simulated" } else { "" };
    let cost = match (run.unpriced_calls, run.cost_micros) {
        (0, c) => format_micros(c),
        (_, 0) => "cost unknown".to_owned(),
        (_, c) => format!("≥ {}", format_micros(c)),
    };
    let ms = |v: Option<i64>| v.map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms"));
    eprintln!(
        "— {model} ({provider}{simulated}) · {} in / {} out tokens · {cost} · {} · first token {}",
        run.prompt_tokens,
        run.completion_tokens,
        ms(run.latency_ms),
        ms(run.ttft_ms)
    );
    if run.status == "completed" {
        Ok(true)
    } else {
        eprintln!(
            "run {}: {}",
            run.status,
            run.error.unwrap_or_else(|| "no reason recorded".to_owned())
        );
        Ok(false)
    }
}
