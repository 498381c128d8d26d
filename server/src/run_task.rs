//! `fleetdeck run --task "…"` (SPEC F-01): submits a task to a running instance over its REST
//! API (`FLEETDECK_API_KEY`) and follows it over its SSE stream — a progress line per step
//! (indicatif) with its tokens and cost as they grow, then a summary. Exits 0 only when the task
//! completes. On a terminal the lines are live progress bars; piped, each step's end is one
//! plain line, so scripts and logs read the same facts.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use wire::events::{Event, EventKind};
use wire::format::format_micros;
use wire::tasks::{SubmitTask, Task};

/// What to submit, and where.
#[derive(Debug)]
pub struct RunTask<'a> {
    /// The instance, e.g. `http://127.0.0.1:3000`.
    pub url: &'a str,
    /// An API key of the instance.
    pub api_key: Option<&'a str>,
    /// The task.
    pub request: SubmitTask,
}

/// A step as the terminal shows it.
struct StepLine {
    label: String,
    bar: ProgressBar,
    streamed_chars: usize,
    tokens: i64,
    cost_micros: i64,
    price_known: bool,
}

impl StepLine {
    fn figures(&self) -> String {
        let cost = if self.price_known {
            format_micros(self.cost_micros)
        } else {
            format!("≥ {} (a price is unknown)", format_micros(self.cost_micros))
        };
        format!("{} tokens, {cost}", self.tokens)
    }
}

/// Runs the command; the exit code says whether the task completed.
pub async fn run(args: RunTask<'_>) -> ExitCode {
    match follow(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn follow(args: RunTask<'_>) -> Result<bool, String> {
    let key = args
        .api_key
        .filter(|k| !k.is_empty())
        .ok_or("set FLEETDECK_API_KEY to a key of the instance (Settings → API keys)")?;
    let base = args.url.trim_end_matches('/');
    let client = engine::providers::http_client();
    let response = client
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(key)
        .json(&args.request)
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
        .map_err(|e| format!("unreadable answer to the submission: {e}"))?;
    println!(
        "Task {} queued: {} workflow, {} task.",
        task.id, task.workflow, task.complexity
    );
    let started = Instant::now();
    let response = client
        .get(format!("{base}/api/v1/tasks/{}/stream", task.id))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("cannot follow the task: {e}"))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let live = std::io::stderr().is_terminal();
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner:.cyan} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut steps: BTreeMap<i64, StepLine> = BTreeMap::new();
    let mut events = response.bytes_stream().eventsource();
    while let Some(item) = events.next().await {
        let item = item.map_err(|e| format!("the event stream broke: {e}"))?;
        if item.event == "reset" {
            println!("(fell behind the live events; the summary below is read from the task)");
            continue;
        }
        let Ok(event) = serde_json::from_str::<Event>(&item.data) else {
            continue;
        };
        let data = &event.data;
        let index = data["index"].as_i64().unwrap_or(-1);
        match event.kind {
            EventKind::StepStarted => {
                let simulated = if data["simulated"].as_bool() == Some(true) {
                    " [Simulated]"
                } else {
                    ""
                };
                let label = format!(
                    "{} ({}, {}{simulated})",
                    text(&data["role"]),
                    text(&data["agent_name"]),
                    text(&data["model"]),
                );
                let bar = if live {
                    bars.add(ProgressBar::new_spinner())
                } else {
                    ProgressBar::hidden()
                };
                bar.set_style(style.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("{label}: starting"));
                steps.insert(
                    index,
                    StepLine {
                        label,
                        bar,
                        streamed_chars: 0,
                        tokens: 0,
                        cost_micros: 0,
                        price_known: true,
                    },
                );
            }
            EventKind::Token => {
                if let Some(step) = steps.get_mut(&index) {
                    step.streamed_chars += data["text"].as_str().map_or(0, str::len);
                    let message = format!(
                        "{}: writing… {} characters, {}",
                        step.label,
                        step.streamed_chars,
                        step.figures()
                    );
                    step.bar.set_message(message);
                }
            }
            EventKind::CostUpdate => {
                if let Some(step) = steps.get_mut(&index) {
                    step.tokens += data["prompt_tokens"].as_i64().unwrap_or(0)
                        + data["completion_tokens"].as_i64().unwrap_or(0);
                    step.cost_micros += data["delta_micros"].as_i64().unwrap_or(0);
                    step.price_known &= data["price_known"].as_bool().unwrap_or(true);
                    let message = format!("{}: {}", step.label, step.figures());
                    step.bar.set_message(message);
                }
            }
            EventKind::StepCompleted | EventKind::StepFailed => {
                if let Some(step) = steps.get_mut(&index) {
                    let line = if event.kind == EventKind::StepCompleted {
                        format!("✓ {}: {}", step.label, step.figures())
                    } else {
                        format!("✗ {}: {}", step.label, text(&data["error"]))
                    };
                    step.bar.finish_and_clear();
                    if live {
                        let _ = bars.println(&line);
                    } else {
                        println!("{line}");
                    }
                }
            }
            EventKind::TaskCompleted | EventKind::TaskFailed | EventKind::TaskCancelled => {
                for step in steps.values() {
                    step.bar.finish_and_clear();
                }
                return summary(&client, base, key, &task.id, started).await;
            }
            _ => {}
        }
    }
    Err("the event stream ended before the task did".to_owned())
}

/// The final line, from the task as stored (exact totals, whatever the stream showed).
async fn summary(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    started: Instant,
) -> Result<bool, String> {
    let task: Task = client
        .get(format!("{base}/api/v1/tasks/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("cannot read the task: {e}"))?
        .json()
        .await
        .map_err(|e| format!("unreadable task: {e}"))?;
    let cost = if task.price_known() {
        format_micros(task.cost_micros)
    } else {
        format!(
            "≥ {} ({} calls of unknown price)",
            format_micros(task.cost_micros),
            task.unpriced_calls
        )
    };
    let tokens = task.prompt_tokens + task.completion_tokens;
    let took = started.elapsed().as_secs_f64();
    match task.status.as_str() {
        "completed" => {
            println!("Task completed in {took:.1} s: {tokens} tokens, {cost}.");
            Ok(true)
        }
        status => {
            let why = task.error.unwrap_or_default();
            println!("Task {status} after {took:.1} s: {why} ({tokens} tokens, {cost}).");
            Ok(false)
        }
    }
}

/// The API's refusal as one line: its message, or the HTTP status.
pub(crate) async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["message"].as_str() {
        Some(message) => format!("{message} (HTTP {})", status.as_u16()),
        None => format!("the instance answered HTTP {}", status.as_u16()),
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("?").to_owned()
}
