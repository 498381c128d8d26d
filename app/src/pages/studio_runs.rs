//! The Studio's runs: a live pane per run (the output streaming in over the run's task topic,
//! then what answered and its figures) and the agent's run history, where two runs can be
//! compared (their outputs line by line, their figures side by side).

use leptos::prelude::*;

use crate::api::runs::{RunComparison, get_run, get_run_comparison};
use crate::components::live::use_live;
use crate::pages::{Shape, loaded};
use wire::format::{format_micros, provider_kind_name, timestamp};
use wire::runs::RunSummary;

/// A run's cost as it can honestly be said: unknown, at least, or exact.
fn cost(run: &RunSummary) -> String {
    match (run.unpriced_calls, run.cost_micros) {
        (0, c) => format_micros(c),
        (_, 0) => "unknown".to_owned(),
        (_, c) => format!("≥ {}", format_micros(c)),
    }
}

fn ms(v: Option<i64>) -> String {
    match v {
        None => "—".to_owned(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

/// What answered: model and provider, with the Simulated badge where it applies.
fn answered(run: &RunSummary) -> impl IntoView + use<> {
    let model = run.model.clone().unwrap_or_else(|| "starting…".to_owned());
    let kind = run
        .provider_kind
        .as_deref()
        .map(provider_kind_name)
        .unwrap_or_default();
    let simulated = run.simulated();
    let persona = run.persona.clone();
    view! {
        <span class="run-model" data-testid="run-model">{model}</span>
        <span class="muted small">{format!(" · {kind}")}</span>
        {persona.map(|p| view! { <span class="muted small" data-testid="run-persona">{format!(" · persona {p}")}</span> })}
        {simulated.then(|| view! {
            <span class="badge badge-sim" title="The built-in offline simulator answered: output, tokens and cost are simulated">"Simulated"</span>
        })}
    }
}

/// One run, live.
#[component]
pub fn RunPane(
    id: String,
    /// Bumped once when the run finishes (the page reads its history again).
    finished: RwSignal<u32>,
) -> impl IntoView {
    let summary = {
        let id = id.clone();
        Resource::new(|| (), move |_| get_run(id.clone()))
    };
    let streamed = RwSignal::new(String::new());
    use_live(vec![format!("task:{id}")], move |event| {
        use wire::events::EventKind as K;
        match event.event_kind() {
            Some(K::Token) => {
                let text = event.data["text"].as_str().unwrap_or_default().to_owned();
                streamed.update(|s| s.push_str(&text));
            }
            Some(K::StepRetry) => streamed.set(String::new()),
            Some(K::StepStarted | K::StepCompleted | K::StepFailed | K::CostUpdate) => {
                summary.refetch();
            }
            Some(kind) if kind.is_task() => {
                summary.refetch();
                if matches!(kind, K::TaskCompleted | K::TaskFailed | K::TaskCancelled) {
                    finished.update(|n| *n += 1);
                }
            }
            // `subscribed` or `reset`: events before the subscription are not replayed, so a
            // run that finished meanwhile would stay "running" without this read.
            None => summary.refetch(),
            _ => {}
        }
    });
    view! {
        <article class="card run-pane" data-testid="run-pane" data-run=id.clone()>
            {loaded(summary, &[Shape::Rows(4)], move |run| {
                let finished = run.finished();
                let status_class = format!("status status-{}", run.status);
                let output = run.output.clone();
                view! {
                    <header class="run-head">
                        <div>{answered(&run)}</div>
                        <span class=status_class data-testid="run-status">{run.status.clone()}</span>
                    </header>
                    <pre class="message-text run-output" data-testid="run-output">
                        {move || {
                            let live = streamed.get();
                            if finished || live.is_empty() { output.clone() } else { live }
                        }}
                    </pre>
                    {run.error.clone().map(|e| view! { <p class="form-error" data-testid="run-error">{e}</p> })}
                    <dl class="run-figures" data-testid="run-figures">
                        <div><dt>"Input"</dt><dd class="num">{run.prompt_tokens.to_string()}</dd></div>
                        <div><dt>"Output"</dt><dd class="num">{run.completion_tokens.to_string()}</dd></div>
                        <div><dt>"Cached"</dt><dd class="num">{run.cached_tokens.to_string()}</dd></div>
                        <div><dt>"Cost"</dt><dd class="num" data-testid="run-cost">{cost(&run)}</dd></div>
                        <div><dt>"Latency"</dt><dd class="num" data-testid="run-latency">{ms(run.latency_ms)}</dd></div>
                        <div><dt>"First token"</dt><dd class="num">{ms(run.ttft_ms)}</dd></div>
                    </dl>
                    <a class="small" href=format!("/tasks/{}", run.id)>"Conversation and calls"</a>
                }
            })}
        </article>
    }
}

/// The agent's runs, newest first; pick two to compare.
#[component]
pub fn History(runs: Vec<RunSummary>) -> impl IntoView {
    if runs.is_empty() {
        return view! {
            <p class="muted" data-testid="run-history-empty">"No runs of this agent yet: its first run appears here."</p>
        }
        .into_any();
    }
    let picked: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let comparison = Resource::new(
        move || picked.get(),
        |ids| async move {
            match ids.as_slice() {
                [a, b] => get_run_comparison(a.clone(), b.clone()).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    let rows = runs
        .into_iter()
        .map(|run| {
            let id = run.id.clone();
            let toggle = {
                let id = id.clone();
                move |_| {
                    picked.update(|p| {
                        if let Some(i) = p.iter().position(|x| *x == id) {
                            p.remove(i);
                        } else {
                            p.push(id.clone());
                            if p.len() > 2 {
                                p.remove(0);
                            }
                        }
                    });
                }
            };
            let checked = {
                let id = id.clone();
                move || picked.with(|p| p.contains(&id))
            };
            let input: String = run.input.chars().take(80).collect();
            view! {
                <tr data-testid="run-row">
                    <td>
                        <input type="checkbox" data-testid="run-pick" aria-label="Compare this run"
                            prop:checked=checked on:change=toggle />
                    </td>
                    <td class="col-wide">{timestamp(run.created_at)}</td>
                    <td>{answered(&run)}</td>
                    <td><span class=format!("status status-{}", run.status)>{run.status.clone()}</span></td>
                    <td class="num">{(run.prompt_tokens + run.completion_tokens).to_string()}</td>
                    <td class="num">{cost(&run)}</td>
                    <td class="num">{ms(run.latency_ms)}</td>
                    <td class="run-input"><a href=format!("/tasks/{id}")>{input}</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <p class="small muted">"Tick two runs to compare their outputs and figures."</p>
            <div class="table-scroll" tabindex="0">
                <table data-testid="run-history">
                    <thead>
                        <tr>
                            <th scope="col"><span class="sr-only">"Compare"</span></th>
                            <th scope="col" class="col-wide">"When"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Cost"</th>
                            <th scope="col" class="num">"Latency"</th>
                            <th scope="col">"Input"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {loaded(comparison, &[Shape::Rows(4)], |c| c.map(|c| view! { <Comparison c /> }))}
        </section>
    }
    .into_any()
}

#[component]
fn Comparison(c: RunComparison) -> impl IntoView {
    let side = |run: &RunSummary| {
        view! {
            <div class="compare-side">
                <p>{answered(run)}</p>
                <p class="small">
                    {format!(
                        "{} tokens · {} · {}",
                        run.prompt_tokens + run.completion_tokens,
                        cost(run),
                        ms(run.latency_ms)
                    )}
                </p>
            </div>
        }
    };
    view! {
        <div class="run-compare" data-testid="run-compare">
            <h3 class="diff-title">"Comparison (older → newer)"</h3>
            <div class="compare-sides">{side(&c.a)}{side(&c.b)}</div>
            <pre class="diff" tabindex="0" data-testid="run-diff">
                {c.diff
                    .into_iter()
                    .map(|l| {
                        let (class, mark) = match l.tag.as_str() {
                            "insert" => ("diff-add", "+ "),
                            "delete" => ("diff-del", "- "),
                            _ => ("diff-same", "  "),
                        };
                        view! { <span class=class><b aria-hidden="true" class="diff-mark">{mark}</b>{l.text}</span> }
                    })
                    .collect_view()}
            </pre>
        </div>
    }
}
