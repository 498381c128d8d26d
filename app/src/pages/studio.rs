//! `/studio?agent=ID`: the playground. Pick an agent; edit its system prompt and instructions
//! and the input inline; run it on one to three models side by side (provider, model,
//! temperature, max tokens per column), the output streaming in; see what answered, tokens,
//! cost, latency and time to first token; save the edited prompt as the agent's next version.
//! A persona other than the active one can be tried (`?persona=ID`) without activating it.
//! Below, the agent's run history. Runs are `/api/v1/runs`: one-step tasks, one credit each.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::agents::save_agent;
use crate::api::runs::{Column, StudioView, get_studio, start_runs};
use crate::components::agent_search::AgentSearch;
use crate::components::empty_state::EmptyState;
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::studio_runs::{History, RunPane};
use crate::pages::{PageHeader, Shape, loaded};
use wire::agents::{Agent, AgentInput};
use wire::personas::Persona;
use wire::providers::Provider;

/// From how many agents the picker gets a search beside it.
const SEARCH_FROM: usize = 12;

/// The most models run side by side.
const MAX_COLUMNS: usize = 3;

/// `/studio`.
#[component]
pub fn StudioPage() -> impl IntoView {
    let query = use_query_map();
    let agent = Memo::new(move |_| query.read().get("agent").unwrap_or_default());
    let data = Resource::new(move || agent.get(), get_studio);
    view! {
        <Title text="Studio · Fleetdeck" />
        <PageHeader title="Studio" subtitle="Try an agent before it runs in a workflow: edit its prompt, run it on several models side by side, keep what works." />
        {loaded(data, &[Shape::Cards(2)], |view| view! { <Studio view /> })}
    }
}

#[component]
fn Studio(view: StudioView) -> impl IntoView {
    let StudioView {
        agents,
        more_agents,
        agent,
        providers,
        history,
        personas,
    } = view;
    // Bumped when a run of this page finishes: the history is read again (the first read is
    // the page's own).
    let finished = RwSignal::new(0_u32);
    let agent_id = agent.as_ref().map(|a| a.id.clone()).unwrap_or_default();
    let runs = Resource::new(
        move || finished.get(),
        move |n| {
            let (history, agent_id) = (history.clone(), agent_id.clone());
            async move {
                if n == 0 {
                    Ok(history)
                } else {
                    crate::api::runs::get_run_history(agent_id).await
                }
            }
        },
    );
    let Some(agent) = agent else {
        return view! {
            <EmptyState title="No agents yet" message="Create an agent on the Agents page, then try it here." />
        }
        .into_any();
    };
    // The chosen agent is offered even when it is not among the first agents by name.
    let mut choices: Vec<(String, String)> = agents
        .iter()
        .map(|a| (a.id.clone(), format!("{} ({})", a.name, a.role)))
        .collect();
    if !choices.iter().any(|(id, _)| *id == agent.id) {
        choices.insert(
            0,
            (agent.id.clone(), format!("{} ({})", agent.name, agent.role)),
        );
    }
    // A long registry is searched, not scrolled through: picking opens the agent here.
    let searchable = more_agents || choices.len() > SEARCH_FROM;
    let navigate = use_navigate();
    let open_agent = Callback::new(move |a: wire::agents::AgentSummary| {
        navigate(&format!("/studio?agent={}", a.id), Default::default());
    });
    let options = choices
        .into_iter()
        .map(|(id, label)| {
            let selected = id == agent.id;
            view! { <option value=id selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <form class="card filter-bar" method="get" action="/studio" data-testid="studio-pick">
            <label>
                "Agent"
                <select name="agent" data-testid="studio-agent">{options}</select>
            </label>
            {searchable.then(|| view! { <AgentSearch id="studio-find" on_pick=open_agent /> })}
            <div class="filter-actions">
                <button class="button button-secondary" type="submit">"Open"</button>
                <a class="button button-secondary" href=format!("/agents/{}/versions", agent.id)>"Prompt versions"</a>
            </div>
            {more_agents.then(|| view! {
                <p class="muted small filter-window" data-testid="studio-more-agents">
                    {format!("The list holds the first {} agents by name; “Find any agent” searches them all.", crate::api::runs::STUDIO_CHOICES)}
                </p>
            })}
        </form>
        <Playground agent=agent.clone() providers personas finished />
        <h2 class="section-title">"Run history"</h2>
        {loaded(runs, &[Shape::Table(3)], |runs| view! { <History runs /> })}
    }
    .into_any()
}

#[component]
fn Playground(
    agent: Agent,
    providers: Vec<Provider>,
    personas: Vec<Persona>,
    finished: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    // `?persona=` (from a persona's "Try in Studio"): tried without being activated.
    let asked = use_query_map()
        .get_untracked()
        .get("persona")
        .unwrap_or_default();
    let persona = RwSignal::new(if personas.iter().any(|p| p.id == asked) {
        asked
    } else {
        String::new()
    });
    let system_prompt = RwSignal::new(agent.system_prompt.clone());
    let instructions = RwSignal::new(agent.custom_instructions.clone());
    let input = RwSignal::new(String::new());
    let first = Column {
        provider_id: agent.provider_id.clone().unwrap_or_default(),
        model: agent.model.clone(),
        temperature: agent.temperature.to_string(),
        max_tokens: agent.max_tokens.to_string(),
    };
    let columns = RwSignal::new(vec![first]);
    // Only adding or removing a column redraws the column editors (not each keystroke).
    let count = Memo::new(move |_| columns.with(Vec::len));
    // The runs of the last "Run", one per column.
    let runs: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let agent_id = agent.id.clone();
    let start = Action::new(
        move |(input, prompt, custom, persona, cols): &(
            String,
            String,
            String,
            String,
            Vec<Column>,
        )| {
            let (agent_id, input, prompt, custom, persona, cols) = (
                agent_id.clone(),
                input.clone(),
                prompt.clone(),
                custom.clone(),
                persona.clone(),
                cols.clone(),
            );
            async move { start_runs(agent_id, input, prompt, custom, persona, cols).await }
        },
    );
    Effect::new(move |_| match start.value().get() {
        Some(Ok(ids)) => runs.set(ids),
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    let save_id = agent.id.clone();
    let save = Action::new(move |(prompt, custom): &(String, String)| {
        let input = AgentInput {
            system_prompt: Some(prompt.clone()),
            custom_instructions: Some(custom.clone()),
            version_note: Some("From the Studio".to_owned()),
            ..AgentInput::default()
        };
        let id = save_id.clone();
        async move { save_agent(Some(id), input).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(a)) => {
            if let Some(t) = toasts {
                t.show(
                    ToastKind::Success,
                    format!("Saved as {}'s new prompt version", a.name),
                );
            }
        }
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    let original = StoredValue::new((
        agent.system_prompt.clone(),
        agent.custom_instructions.clone(),
    ));
    let changed =
        move || original.with_value(|(p, c)| *p != system_prompt.get() || *c != instructions.get());
    let providers = StoredValue::new(providers);
    let provider_label = agent
        .provider_name
        .clone()
        .unwrap_or_else(|| "Workspace default".to_owned());
    view! {
        <section class="card studio" aria-labelledby="studio-title">
            <h2 id="studio-title">{format!("Try {}", agent.name)}</h2>
            <p class="small muted">{format!("Runs on {provider_label} · {} by default; each run costs one credit and is recorded like a task step.", agent.model)}</p>
            <div class="studio-grid">
                <label>
                    "System prompt"
                    <textarea rows="6" data-testid="studio-system-prompt" prop:value=move || system_prompt.get()
                        on:input=move |ev| system_prompt.set(event_target_value(&ev))></textarea>
                </label>
                <label>
                    "Custom instructions"
                    <textarea rows="6" data-testid="studio-instructions" prop:value=move || instructions.get()
                        on:input=move |ev| instructions.set(event_target_value(&ev))></textarea>
                </label>
            </div>
            {persona_picker(&agent, &personas, persona)}
            <label>
                "Input"
                <textarea rows="3" data-testid="studio-input" placeholder="What the agent is asked"
                    prop:value=move || input.get() on:input=move |ev| input.set(event_target_value(&ev))></textarea>
            </label>
            <div class="studio-columns" data-testid="studio-columns">
                <For each=move || 0..count.get() key=|i| *i let:i>
                    <ColumnEditor i columns providers />
                </For>
            </div>
            <div class="form-actions">
                <button class="button button-secondary" type="button" data-testid="studio-add-model"
                    disabled=move || count.get() == MAX_COLUMNS
                    on:click=move |_| columns.update(|c| {
                        if c.len() < MAX_COLUMNS {
                            let next = c.last().cloned().unwrap_or_default();
                            c.push(next);
                        }
                    })>"Add a model"</button>
                <button class="button button-secondary" type="button" data-testid="studio-save-version"
                    disabled=move || !changed() || save.pending().get()
                    on:click=move |_| { save.dispatch((system_prompt.get_untracked(), instructions.get_untracked())); }>
                    "Save prompt as new version"
                </button>
                <button class="button" type="button" data-testid="studio-run"
                    disabled=move || input.get().trim().is_empty() || start.pending().get()
                    on:click=move |_| {
                        start.dispatch((
                            input.get_untracked(),
                            system_prompt.get_untracked(),
                            instructions.get_untracked(),
                            persona.get_untracked(),
                            columns.get_untracked(),
                        ));
                    }>
                    {move || match count.get() { 1 => "Run".to_owned(), n => format!("Run on {n} models") }}
                </button>
            </div>
        </section>
        {move || {
            let ids = runs.get();
            (!ids.is_empty()).then(|| view! {
                <div class="run-panes" data-testid="run-panes">
                    {ids.into_iter().map(|id| view! { <RunPane id finished /> }).collect_view()}
                </div>
            })
        }}
    }
    .into_any()
}

/// The persona a run speaks with: the agent's active one (or none), or another one tried
/// without being activated. None to choose from: a hint of where personas are made.
fn persona_picker(agent: &Agent, personas: &[Persona], chosen: RwSignal<String>) -> AnyView {
    if personas.is_empty() {
        return view! {
            <p class="small muted">
                "No personas yet: "
                <a href=format!("/agents/{}/personas", agent.id)>"add one"</a>
                " to give this agent a voice and try it here."
            </p>
        }
        .into_any();
    }
    let default = match &agent.active_persona {
        Some(name) => format!("Active persona ({name})"),
        None => "No persona (none is active)".to_owned(),
    };
    let options = personas
        .iter()
        .filter(|p| !p.is_active)
        .map(|p| {
            let id = p.id.clone();
            let selected = move || chosen.get() == id;
            view! { <option value=p.id.clone() selected=selected>{format!("Try {}", p.name)}</option> }
        })
        .collect_view();
    view! {
        <label class="persona-pick">
            "Persona"
            <select data-testid="studio-persona" on:change=move |ev| chosen.set(event_target_value(&ev))>
                <option value="" selected=move || chosen.get().is_empty()>{default}</option>
                {options}
            </select>
        </label>
    }
    .into_any()
}

#[component]
fn ColumnEditor(
    i: usize,
    columns: RwSignal<Vec<Column>>,
    providers: StoredValue<Vec<Provider>>,
) -> impl IntoView {
    let get = move |f: fn(&Column) -> String| columns.with(|c| c.get(i).map(f).unwrap_or_default());
    let set = move |f: fn(&mut Column, String), value: String| {
        columns.update(|c| {
            if let Some(col) = c.get_mut(i) {
                f(col, value);
            }
        });
    };
    let choices = providers.with_value(|list| {
        list.iter()
            .map(|p| {
                let id = p.id.clone();
                let selected = move || get(|c| c.provider_id.clone()) == id;
                view! { <option value=p.id.clone() selected=selected>{format!("{} ({})", p.name, wire::format::provider_kind_name(&p.kind))}</option> }
            })
            .collect_view()
    });
    view! {
        <fieldset class="studio-column" data-testid="studio-column">
            <legend>{format!("Model {}", i + 1)}</legend>
            <label>
                "Provider"
                <select data-testid="column-provider" on:change=move |ev| set(|c, v| c.provider_id = v, event_target_value(&ev))>
                    <option value="" selected=move || get(|c| c.provider_id.clone()).is_empty()>"Workspace default"</option>
                    {choices}
                </select>
            </label>
            <label>
                "Model"
                <input data-testid="column-model" prop:value=move || get(|c| c.model.clone())
                    on:input=move |ev| set(|c, v| c.model = v, event_target_value(&ev)) />
            </label>
            <div class="studio-pair">
                <label>
                    "Temperature"
                    <input inputmode="decimal" data-testid="column-temperature" prop:value=move || get(|c| c.temperature.clone())
                        on:input=move |ev| set(|c, v| c.temperature = v, event_target_value(&ev)) />
                </label>
                <label>
                    "Max tokens"
                    <input inputmode="numeric" data-testid="column-max-tokens" prop:value=move || get(|c| c.max_tokens.clone())
                        on:input=move |ev| set(|c, v| c.max_tokens = v, event_target_value(&ev)) />
                </label>
            </div>
            {(i > 0).then(|| view! {
                <button class="button button-small button-secondary" type="button" data-testid="column-remove"
                    aria-label=format!("Remove model {}", i + 1)
                    on:click=move |_| columns.update(|c| { if i < c.len() { c.remove(i); } })>"Remove"</button>
            })}
        </fieldset>
    }
}
