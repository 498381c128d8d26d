//! `/agents/:id/versions`: an agent's prompt versions with the numbers of the steps that ran
//! each (runs, success, mean cost and duration), a line diff of any two (chosen in the URL:
//! `?from=1&to=2`, so a comparison can be linked), and Activate / Roll back.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::agents::{ActivatePromptVersion, get_agent_versions, get_prompt_diff};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{Shape, loaded};
use wire::format::{format_micros, timestamp};
use wire::prompts::{AgentVersions, PromptDiff, PromptDiffLine, PromptVersion};

/// `/agents/:id/versions`.
#[component]
pub fn AgentVersionsPage() -> impl IntoView {
    let params = use_params_map();
    // The agent's id as a signal, not a view rebuilt per id: the page's resource is then made
    // with the page, and the router waits for its data before showing it (as for every page).
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    view! { <Versions id /> }
}

#[component]
fn Versions(id: Memo<String>) -> impl IntoView {
    let activate = ServerAction::<ActivatePromptVersion>::new();
    let data = Resource::new(
        move || (id.get(), activate.version().get()),
        |(id, _)| get_agent_versions(id),
    );
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let (Some(result), Some(t)) = (activate.value().get(), toasts) {
            match result {
                Ok(a) => t.show(
                    ToastKind::Success,
                    format!("{} now runs that version", a.name),
                ),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    view! {
        <Title text="Prompt versions · Fleetdeck" />
        {loaded(data, &[Shape::Table(4)], move |v| view! { <VersionsBody view=v activate /> })}
    }
}

#[component]
fn VersionsBody(
    view: AgentVersions,
    activate: ServerAction<ActivatePromptVersion>,
) -> impl IntoView {
    let AgentVersions { agent, versions } = view;
    let query = use_query_map();
    let newest = versions.first().map_or(1, |v| v.version);
    let pick = move |key: &str, default: i64| {
        query
            .read()
            .get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(default)
    };
    // By default the active version against the one before it — or, after a roll back,
    // against the newest.
    let active = versions
        .iter()
        .find(|v| v.is_active)
        .map_or(newest, |v| v.version);
    let (default_from, default_to) = if active == newest {
        ((active - 1).max(1), active)
    } else {
        (active, newest)
    };
    let id = agent.id.clone();
    let diff = {
        let id = id.clone();
        Resource::new(
            move || (pick("from", default_from), pick("to", default_to)),
            move |(from, to)| get_prompt_diff(id.clone(), from, to),
        )
    };
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    let options = move |selected: i64| {
        numbers
            .iter()
            .map(|n| view! { <option value=n.to_string() selected=*n == selected>{format!("v{n}")}</option> })
            .collect_view()
    };
    let count = versions.len();
    view! {
        <div class="page-header">
            <div>
                <p class="crumbs"><a href="/agents">"Agents"</a>" / "{agent.name.clone()}</p>
                <h1>"Prompt versions"</h1>
                <p class="subtitle">
                    {format!(
                        "{count} version{} of {}'s prompt. Each step records the version it ran; numbers are from finished steps.",
                        if count == 1 { "" } else { "s" },
                        agent.name,
                    )}
                </p>
            </div>
        </div>
        <section class="card">
            <h2>"Versions"</h2>
            <div class="table-scroll" tabindex="0">
                <table data-testid="version-table">
                    <thead>
                        <tr>
                            <th scope="col">"Version"</th>
                            <th scope="col">"Note"</th>
                            <th scope="col" class="col-wide">"Saved"</th>
                            <th scope="col" class="num">"Runs"</th>
                            <th scope="col" class="num">"Success"</th>
                            <th scope="col" class="num">"Avg cost"</th>
                            <th scope="col" class="num">"Avg duration"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {versions
                            .into_iter()
                            .map(|v| view! { <VersionRow v agent_id=id.clone() active activate /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card" aria-labelledby="diff-title">
            <h2 id="diff-title">"Compare"</h2>
            <form method="get" class="inline-form diff-form" data-testid="diff-form">
                <label>
                    "From"
                    <select name="from" data-testid="diff-from">{options(pick("from", default_from))}</select>
                </label>
                <label>
                    "To"
                    <select name="to" data-testid="diff-to">{options(pick("to", default_to))}</select>
                </label>
                <button class="button button-secondary" type="submit">"Compare"</button>
            </form>
            {loaded(diff, &[Shape::Rows(6)], |d| view! { <DiffView diff=d /> }.into_any())}
        </section>
    }
    // Type-erased: the page's view type is otherwise too deep for the wasm build.
    .into_any()
}

#[component]
fn VersionRow(
    v: PromptVersion,
    agent_id: String,
    active: i64,
    activate: ServerAction<ActivatePromptVersion>,
) -> impl IntoView {
    let s = &v.stats;
    let success = s
        .success_rate()
        .map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0));
    // A cost with unpriced steps in it is a lower bound: say so rather than show it as exact.
    let cost = match s.avg_cost_micros() {
        None => "—".to_owned(),
        Some(_) if s.unpriced_runs == s.runs => "unknown".to_owned(),
        Some(c) if s.unpriced_runs > 0 => format!("≥ {}", format_micros(c)),
        Some(c) => format_micros(c),
    };
    let duration = s.avg_duration_ms().map_or_else(
        || "—".to_owned(),
        |ms| format!("{:.1} s", ms as f64 / 1000.0),
    );
    let author = v.created_by.clone().unwrap_or_else(|| "—".to_owned());
    let label = if v.version < active {
        "Roll back"
    } else {
        "Activate"
    };
    let number = v.version;
    view! {
        <tr data-testid="version-row" data-version=number.to_string()>
            <th scope="row">
                {format!("v{number}")}
                {v.is_active.then(|| view! { <span class="badge badge-ok" data-testid="version-active">"Active"</span> })}
            </th>
            <td>
                {v.note.clone()}
                <details class="version-text">
                    <summary>"Show prompt"</summary>
                    <p class="muted small">{match &v.created_by {
                        Some(by) => format!("Saved {} by {by}", timestamp(v.created_at)),
                        None => format!("Saved {}", timestamp(v.created_at)),
                    }}</p>
                    <pre class="message-text">{v.system_prompt.clone()}</pre>
                    {(!v.custom_instructions.is_empty()).then(|| view! {
                        <p class="muted">"Custom instructions"</p>
                        <pre class="message-text">{v.custom_instructions.clone()}</pre>
                    })}
                </details>
            </td>
            <td class="col-wide">
                <span>{timestamp(v.created_at)}</span>
                <span class="muted small">" · "{author}</span>
            </td>
            <td class="num">{s.runs.to_string()}</td>
            <td class="num">{success}</td>
            <td class="num">{cost}</td>
            <td class="num">{duration}</td>
            <td>
                {(!v.is_active).then(|| view! {
                    <ActionForm action=activate>
                        <input type="hidden" name="id" value=agent_id.clone() />
                        <input type="hidden" name="version" value=number.to_string() />
                        <button class="button button-small button-secondary" type="submit" data-testid="activate-version">{label}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn DiffView(diff: PromptDiff) -> impl IntoView {
    let summary = if diff.added == 0 && diff.removed == 0 {
        format!("v{} and v{} are the same.", diff.from, diff.to)
    } else {
        format!(
            "v{} → v{}: {} line{} added, {} removed.",
            diff.from,
            diff.to,
            diff.added,
            if diff.added == 1 { "" } else { "s" },
            diff.removed
        )
    };
    view! {
        <p class="muted" data-testid="diff-summary">{summary}</p>
        <h3 class="diff-title">"System prompt"</h3>
        <Lines lines=diff.system_prompt />
        <h3 class="diff-title">"Custom instructions"</h3>
        <Lines lines=diff.custom_instructions />
    }
}

#[component]
fn Lines(lines: Vec<PromptDiffLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="muted">"Empty in both."</p> }.into_any();
    }
    view! {
        <pre class="diff" tabindex="0" data-testid="prompt-diff">
            {lines
                .into_iter()
                .map(|l| {
                    let (class, mark, said) = match l.tag.as_str() {
                        "insert" => ("diff-add", "+ ", "added: "),
                        "delete" => ("diff-del", "- ", "removed: "),
                        _ => ("diff-same", "  ", ""),
                    };
                    view! {
                        <span class=class>
                            <em class="sr-only">{said}</em>
                            <b aria-hidden="true" class="diff-mark">{mark}</b>
                            {l.text}
                        </span>
                    }
                })
                .collect_view()}
        </pre>
    }
    .into_any()
}
