//! The agent registry.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::agents::{
    AgentQuery, AgentRegistry, delete_agent, get_agent, get_agent_registry, preview_prompt,
    save_agent,
};
use crate::api::providers::list_providers;
use crate::components::empty_state::EmptyState;
use crate::components::more_pages::{LoadMore, MorePages, PagedQuery};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::agent_files::{FileActions, ImportPanel};
use crate::pages::agent_filters::{AgentFilters, filtered, use_agent_query};
use crate::pages::agent_templates::TemplatesPanel;
use crate::pages::{PageHeader, Shape, loaded};
use wire::Page;
use wire::agents::{Agent, AgentInput, AgentSummary, FallbackTarget};
use wire::providers::Provider;

/// Which agent the editor shows: none, a new one, or an existing one by id.
#[derive(Clone, PartialEq)]
enum Editing {
    Closed,
    New,
    Existing(String),
}

/// The registry as the page read it (shared so a save, clone or import can reload it).
pub type Registry = Resource<Result<AgentRegistry, crate::model::AppError>>;

/// `/agents`.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let query = use_agent_query();
    let data: Registry = Resource::new(move || query.get(), get_agent_registry);
    let more = MorePages::new(query.get_untracked());
    let editing = RwSignal::new(Editing::Closed);
    let importing = RwSignal::new(false);
    let templates = RwSignal::new(false);
    provide_context(editing);
    provide_context(data);
    // `?new=1` (the palette, Ctrl/Cmd+N) opens the editor for a new agent; `?edit=<id>` (an
    // agent chosen in the palette) opens that agent's.
    let params = leptos_router::hooks::use_query_map();
    Effect::new(move |_| {
        let params = params.read();
        if params.get("new").is_some() {
            editing.set(Editing::New);
        } else if let Some(id) = params.get("edit").filter(|id| !id.is_empty()) {
            editing.set(Editing::Existing(id));
        }
    });
    view! {
        <Title text="Agents" />
        <PageHeader title="Agents" subtitle="The agents in this workspace and what they run on.">
            <button class="button button-secondary" type="button" data-testid="open-templates" on:click=move |_| templates.set(true)>
                "Templates"
            </button>
            <button class="button button-secondary" type="button" data-testid="import-agent" on:click=move |_| importing.set(true)>
                "Import"
            </button>
            <button class="button" type="button" data-testid="new-agent" on:click=move |_| editing.set(Editing::New)>
                "New agent"
            </button>
        </PageHeader>
        {move || importing.get().then(|| view! { <ImportPanel open=importing /> }.into_any())}
        {move || templates.get().then(|| view! { <TemplatesPanel open=templates /> }.into_any())}
        {move || match editing.get() {
            Editing::Closed => ().into_any(),
            Editing::New => view! { <AgentEditor agent=None /> }.into_any(),
            Editing::Existing(id) => {
                let agent = Resource::new(move || id.clone(), get_agent);
                view! { {loaded(agent, &[Shape::Panels(1)], |a| view! { <AgentEditor agent=Some(a) /> })} }.into_any()
            }
        }}
        {loaded(data, &[Shape::Line, Shape::Cards(6)], move |registry| {
            let query = query.get_untracked();
            view! {
                <AgentFilters query=query.clone() registry=registry.clone() />
                <AgentList page=registry.page query more />
            }
            .into_any()
        })}
    }
    // Type-erased: the page's view type is otherwise too deep for the wasm build.
    .into_any()
}

const ROLES: [&str; 5] = ["ANALYST", "PLANNER", "BUILDER", "TESTER", "REVIEWER"];

#[component]
/// The editor of a new agent (`None`) or of an existing one.
fn AgentEditor(agent: Option<Agent>) -> impl IntoView {
    let editing = expect_context::<RwSignal<Editing>>();
    let agents = expect_context::<Registry>();
    let providers = Resource::new(|| (), |_| list_providers());
    let is_new = agent.is_none();
    let id = agent.as_ref().map(|a| a.id.clone());
    let field_of = |f: fn(&Agent) -> String, default: &str| {
        RwSignal::new(agent.as_ref().map_or_else(|| default.to_owned(), f))
    };
    let name = field_of(|a| a.name.clone(), "");
    let role = field_of(|a| a.role.clone(), "BUILDER");
    let description = field_of(|a| a.description.clone(), "");
    let provider_id = field_of(|a| a.provider_id.clone().unwrap_or_default(), "");
    let model = field_of(|a| a.model.clone(), "sim-standard");
    let temperature = field_of(|a| a.temperature.to_string(), "0.7");
    let max_tokens = field_of(|a| a.max_tokens.to_string(), "4096");
    let system_prompt = field_of(|a| a.system_prompt.clone(), "");
    let custom = field_of(|a| a.custom_instructions.clone(), "");
    let tags = field_of(|a| a.tags.join(", "), "");
    let tools = RwSignal::new(
        agent
            .as_ref()
            .map_or_else(wire::agents::all_tools, |a| a.tools.clone()),
    );
    let input_schema = field_of(|a| pretty(a.input_schema.as_ref()), "");
    let output_schema = field_of(|a| pretty(a.output_schema.as_ref()), "");
    let is_public = RwSignal::new(agent.as_ref().is_some_and(|a| a.is_public));
    let agent_has_schema = agent
        .as_ref()
        .is_some_and(|a| a.input_schema.is_some() || a.output_schema.is_some());
    let fallbacks = RwSignal::new(agent.map(|a| a.fallbacks).unwrap_or_default());
    // A change of the prompt makes a new prompt version: its note is asked for only then.
    let version_note = RwSignal::new(String::new());
    let original = StoredValue::new((system_prompt.get_untracked(), custom.get_untracked()));
    let prompt_changed = move || {
        !is_new && original.with_value(|(p, c)| *p != system_prompt.get() || *c != custom.get())
    };
    let task = RwSignal::new("Add input validation to the signup form".to_owned());
    // An agent being edited shows its active persona in the preview too.
    let preview_agent = id.clone();
    // Bumped when a knowledge source is added or removed: the preview is read again.
    let knowledge_changed = RwSignal::new(0_u32);
    let knowledge_agent = id.clone();
    let preview = Resource::new(
        // The counter is part of the value: a source that returns an equal value refetches
        // nothing.
        move || {
            (
                knowledge_changed.get(),
                role.get(),
                system_prompt.get(),
                custom.get(),
                task.get(),
                tools.with(Vec::is_empty),
            )
        },
        move |(_, r, p, c, t, none)| preview_prompt(r, p, c, t, preview_agent.clone(), !none),
    );
    let toasts = use_toasts();
    let save = Action::new(move |(id, input): &(Option<String>, AgentInput)| {
        let (id, input) = (id.clone(), input.clone());
        async move { save_agent(id, input).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Success, "Agent saved");
            }
            editing.set(Editing::Closed);
            agents.refetch();
        }
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    let field = |label: &'static str, signal: RwSignal<String>, testid: &'static str| {
        view! {
            <label>
                {label}
                <input data-testid=testid prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev)) />
            </label>
        }
    };
    // Opened from a card far down the list (or on a phone, where the list is one long column),
    // the editor comes above it, out of sight: it is brought into view once there.
    let section = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        // After the next frame: the editor is built before it is put in the page, where a
        // position means nothing yet.
        #[cfg(feature = "hydrate")]
        if let Some(el) = section.get() {
            request_animation_frame(move || {
                let top = el.get_bounding_client_rect().top();
                let height = web_sys::window()
                    .and_then(|w| w.inner_height().ok())
                    .and_then(|h| h.as_f64())
                    .unwrap_or(0.0);
                if el.is_connected() && (top < 0.0 || top > height / 2.0) {
                    el.scroll_into_view();
                }
            });
        }
    });
    view! {
        <section class="card agent-editor" aria-labelledby="agent-editor-title" node_ref=section>
            <h2 id="agent-editor-title">{if is_new { "New agent" } else { "Edit agent" }}</h2>
            <form class="agent-form" on:submit=move |ev| {
                ev.prevent_default();
                let Ok(temperature) = temperature.get_untracked().trim().parse::<f64>() else {
                    if let Some(t) = toasts {
                        t.show(ToastKind::Error, "temperature: must be a number between 0 and 2");
                    }
                    return;
                };
                // Not a whole number: 0, which the engine refuses with its own message.
                let max_tokens = max_tokens.get_untracked().trim().parse::<i64>().unwrap_or(0);
                // A schema box: empty removes the schema; otherwise it must be JSON (the engine
                // checks it is a JSON Schema).
                let schema = |field: &str, text: String| -> Result<Option<serde_json::Value>, String> {
                    if text.trim().is_empty() {
                        return Ok(None);
                    }
                    serde_json::from_str(&text).map(Some).map_err(|e| format!("{field}: not JSON: {e}"))
                };
                let schemas = schema("input_schema", input_schema.get_untracked())
                    .and_then(|i| Ok((i, schema("output_schema", output_schema.get_untracked())?)));
                let (input_schema, output_schema) = match schemas {
                    Ok(both) => both,
                    Err(message) => {
                        if let Some(t) = toasts {
                            t.show(ToastKind::Error, message);
                        }
                        return;
                    }
                };
                let input = AgentInput {
                    name: Some(name.get_untracked()),
                    role: Some(role.get_untracked()),
                    description: Some(description.get_untracked()),
                    provider_id: Some(provider_id.get_untracked()),
                    model: Some(model.get_untracked()),
                    temperature: Some(temperature),
                    max_tokens: Some(max_tokens),
                    system_prompt: Some(system_prompt.get_untracked()),
                    custom_instructions: Some(custom.get_untracked()),
                    // Comma-separated; blanks dropped. The engine checks their number and length.
                    tags: Some(
                        tags.get_untracked()
                            .split(',')
                            .map(|t| t.trim().to_owned())
                            .filter(|t| !t.is_empty())
                            .collect(),
                    ),
                    is_public: Some(is_public.get_untracked()),
                    tools: Some(tools.get_untracked()),
                    input_schema: Some(input_schema),
                    output_schema: Some(output_schema),
                    version_note: Some(version_note.get_untracked())
                        .filter(|n| !n.trim().is_empty()),
                    // Rows left without a model are dropped, as an empty row means nothing.
                    fallbacks: Some(
                        fallbacks
                            .get_untracked()
                            .into_iter()
                            .filter(|f| !f.model.trim().is_empty())
                            .collect(),
                    ),
                };
                save.dispatch((id.clone(), input));
            }>
                <div class="agent-form-grid">
                    {field("Name", name, "agent-name")}
                    <label>
                        "Role"
                        <select data-testid="agent-role" on:change=move |ev| role.set(event_target_value(&ev))>
                            {ROLES.iter().map(|r| view! { <option value=*r selected=move || role.get() == *r>{*r}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Provider"
                        <select data-testid="agent-provider" on:change=move |ev| provider_id.set(event_target_value(&ev))>
                            <option value="" selected=move || provider_id.get().is_empty()>"Workspace default provider"</option>
                            <Transition fallback=|| ()>
                                {move || Suspend::new(async move {
                                    providers.await.unwrap_or_default().into_iter().map(|p| {
                                        let pid = p.id.clone();
                                        let label = provider_label(&p);
                                        view! { <option value=p.id.clone() selected=move || provider_id.get() == pid>{label}</option> }
                                    }).collect_view()
                                })}
                            </Transition>
                        </select>
                    </label>
                    {field("Model", model, "agent-model")}
                    {field("Temperature (0–2)", temperature, "agent-temperature")}
                    {field("Max tokens", max_tokens, "agent-max-tokens")}
                </div>
                // Type-erased: the editor's view type is deep enough to exceed the compiler's
                // recursion limit in the wasm build otherwise.
                {view! { <FallbackEditor fallbacks providers /> }.into_any()}
                {field("Description", description, "agent-description")}
                <div class="agent-form-grid">
                    {field("Tags (comma-separated)", tags, "agent-tags")}
                    <label class="checkbox">
                        <input type="checkbox" data-testid="agent-public" prop:checked=move || is_public.get()
                            on:change=move |ev| is_public.set(event_target_checked(&ev)) />
                        "Public: listed on the workspace's public pages"
                    </label>
                </div>
                {view! { <ToolPicker tools /> }.into_any()}
                <label>
                    "System prompt (empty uses the role template)"
                    <textarea rows="4" data-testid="agent-system-prompt" prop:value=move || system_prompt.get() on:input=move |ev| system_prompt.set(event_target_value(&ev))></textarea>
                </label>
                <label>
                    "Custom instructions"
                    <textarea rows="2" data-testid="agent-instructions" prop:value=move || custom.get() on:input=move |ev| custom.set(event_target_value(&ev))></textarea>
                </label>
                <details class="schemas" open=agent_has_schema>
                    <summary>"Input and output schemas (JSON Schema, optional)"</summary>
                    <p class="small muted">"A task's input must be JSON that keeps the input schema; the agent's answer must be JSON that keeps the output schema, or its step fails naming the path and the rule."</p>
                    <div class="agent-form-grid">
                        <label>
                            "Input schema"
                            <textarea rows="6" class="mono" spellcheck="false" data-testid="agent-input-schema" placeholder=r#"{"type": "object", "required": ["repo"]}"#
                                prop:value=move || input_schema.get() on:input=move |ev| input_schema.set(event_target_value(&ev))></textarea>
                        </label>
                        <label>
                            "Output schema"
                            <textarea rows="6" class="mono" spellcheck="false" data-testid="agent-output-schema" placeholder=r#"{"type": "object", "required": ["verdict"]}"#
                                prop:value=move || output_schema.get() on:input=move |ev| output_schema.set(event_target_value(&ev))></textarea>
                        </label>
                    </div>
                </details>
                {move || prompt_changed().then(|| view! {
                    <label>
                        "Note for the new prompt version (optional)"
                        <input data-testid="agent-version-note" maxlength="200" placeholder="What changed and why"
                            prop:value=move || version_note.get() on:input=move |ev| version_note.set(event_target_value(&ev)) />
                    </label>
                })}
                <div class="prompt-preview" data-testid="prompt-preview">
                    <label>
                        "Preview for the task"
                        <input data-testid="preview-task" prop:value=move || task.get() on:input=move |ev| task.set(event_target_value(&ev)) />
                    </label>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match preview.await {
                                Ok(p) => view! {
                                    <p class="small muted">{format!("{} task · ~{} prompt tokens · exactly what the model receives:", p.complexity, p.tokens)}</p>
                                    <pre class="message-text" data-testid="preview-system">{p.system_prompt}</pre>
                                    <pre class="message-text">{p.user_message}</pre>
                                }.into_any(),
                                Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </div>
                <div class="form-actions">
                    <button class="button button-secondary" type="button" on:click=move |_| editing.set(Editing::Closed)>"Cancel"</button>
                    <button class="button" type="submit" data-testid="agent-save" disabled=move || save.pending().get()>"Save agent"</button>
                </div>
            </form>
            {knowledge_agent.map(|agent_id| view! {
                <crate::pages::agent_knowledge::KnowledgeEditor agent_id changed=knowledge_changed />
            }.into_any())}
        </section>
    }
}

/// Most fallbacks an agent may have (the engine's limit).
const fn agents_max_fallbacks() -> usize {
    5
}

/// The agent's explicit fallback chain: ordered rows of provider and model, tried in turn when
/// the agent's own model fails. Nothing is added implicitly, so an empty list means "fail".
#[component]
fn FallbackEditor(
    fallbacks: RwSignal<Vec<FallbackTarget>>,
    providers: Resource<Result<Vec<Provider>, crate::model::AppError>>,
) -> impl IntoView {
    let count = move || fallbacks.with(Vec::len);
    let full = move || fallbacks.with(Vec::len) >= agents_max_fallbacks();
    view! {
        <fieldset class="fallbacks" data-testid="agent-fallbacks">
            <legend>"Fallbacks"</legend>
            <p class="small muted">
                "Tried in order when the agent's own model fails (after its retries). With none, the step fails with the provider's error."
            </p>
            <ol class="fallback-list">
                {move || (0..count()).map(|i| {
                    let current = fallbacks.with(|f| f.get(i).cloned().unwrap_or_default());
                    let pid = current.provider_id.clone().unwrap_or_default();
                    view! {
                        <li class="fallback-row" data-testid="fallback-row">
                            <label>
                                <span class="sr-only">{format!("Fallback {} provider", i + 1)}</span>
                                <select data-testid="fallback-provider" on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    let v = Some(v).filter(|p| !p.is_empty());
                                    fallbacks.update(|f| if let Some(row) = f.get_mut(i) { row.provider_id = v; });
                                }>
                                    <option value="" selected=pid.is_empty()>"Workspace default provider"</option>
                                    <Transition fallback=|| ()>
                                        {
                                            let pid = pid.clone();
                                            move || {
                                                let pid = pid.clone();
                                                Suspend::new(async move {
                                                    providers.await.unwrap_or_default().into_iter().map(|p| {
                                                        let selected = p.id == pid;
                                                        let label = provider_label(&p);
                                                        view! { <option value=p.id.clone() selected=selected>{label}</option> }
                                                    }).collect_view()
                                                })
                                            }
                                        }
                                    </Transition>
                                </select>
                            </label>
                            <label>
                                <span class="sr-only">{format!("Fallback {} model", i + 1)}</span>
                                <input data-testid="fallback-model" placeholder="model" prop:value=current.model.clone() on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    fallbacks.update(|f| if let Some(row) = f.get_mut(i) { row.model = v; });
                                } />
                            </label>
                            <button class="button button-secondary button-small" type="button" aria-label=format!("Move fallback {} up", i + 1) disabled=i == 0
                                on:click=move |_| fallbacks.update(|f| if i > 0 && i < f.len() { f.swap(i - 1, i); })>"↑"</button>
                            <button class="button button-secondary button-small" type="button" aria-label=format!("Remove fallback {}", i + 1) data-testid="fallback-remove"
                                on:click=move |_| fallbacks.update(|f| if i < f.len() { f.remove(i); })>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <button class="button button-secondary button-small" type="button" data-testid="fallback-add"
                disabled=full
                on:click=move |_| fallbacks.update(|f| f.push(FallbackTarget::default()))>"Add fallback"</button>
        </fieldset>
    }
}

/// The registry's first page (or the one its address names) and the pages after it, loaded as
/// the list's foot nears the screen.
#[component]
fn AgentList(
    page: Page<AgentSummary>,
    query: AgentQuery,
    more: MorePages<AgentQuery>,
) -> impl IntoView {
    if page.items.is_empty() && filtered(&query) {
        return view! {
            <EmptyState
                title="No agent matches these filters"
                message="Change the words or a filter above, or clear them to see every agent."
                testid="agents-no-match"
            />
        }
        .into_any();
    }
    if page.items.is_empty() {
        return view! {
            <EmptyState
                title="No agents yet"
                message="Agents are the building blocks of every workflow: a role, a prompt and a model."
            />
        }
            .into_any();
    }
    // A (re)read of the first page — a new filter, or a save, clone, import or delete —
    // starts the scroll again from it: the pages after it may have changed.
    more.reset(AgentQuery {
        cursor: String::new(),
        ..query.clone()
    });
    more.continue_from(&page);
    let newest = (!query.cursor.is_empty()).then(|| {
        AgentQuery {
            cursor: String::new(),
            ..query
        }
        .url()
    });
    view! {
        <div class="agent-grid" data-testid="agent-list">
            {page.items.into_iter().map(|agent| view! { <AgentCardView agent /> }).collect_view()}
            <For each=move || more.rows.get() key=|a| a.id.clone() let:agent>
                <AgentCardView agent />
            </For>
        </div>
        <LoadMore more newest noun="agents" word="more" first="← First" />
    }
    .into_any()
}

#[component]
fn AgentCardView(agent: AgentSummary) -> impl IntoView {
    let editing = expect_context::<RwSignal<Editing>>();
    let agents = expect_context::<Registry>();
    let confirming = RwSignal::new(false);
    let toasts = use_toasts();
    let remove = Action::new(move |id: &String| {
        let id = id.clone();
        async move { delete_agent(id).await }
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => agents.refetch(),
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    let id = agent.id.clone();
    let role_class = format!("role-pill role-{}", agent.role.to_ascii_lowercase());
    let status_class = format!("status status-{}", agent.status);
    let simulated = agent.simulated();
    let cost = wire::format::format_micros(agent.cost_micros);
    let provider = agent
        .provider_name
        .unwrap_or_else(|| "Workspace default".to_owned());
    view! {
        <article class="agent-card" data-testid="agent-card">
            <header>
                <h2>{agent.name}</h2>
                <span class=role_class>{agent.role}</span>
            </header>
            <p class="agent-description">{agent.description}</p>
            {agent.active_persona.clone().map(|p| view! {
                <p class="small muted" data-testid="agent-persona">"Persona: "<strong>{p}</strong></p>
            })}
            {(!agent.tags.is_empty() || agent.is_public).then(|| view! {
                <ul class="tag-list" aria-label="Tags">
                    {agent.is_public.then(|| view! { <li class="badge badge-ok">"Public"</li> })}
                    {agent.tags.iter().map(|t| {
                        let href = format!("/agents?tag={}", crate::pages::agent_filters::encode(t));
                        view! { <li><a class="tag" href=href data-testid="agent-tag">{t.clone()}</a></li> }
                    }).collect_view()}
                </ul>
            })}
            <dl class="agent-meta">
                <div>
                    <dt>"Provider"</dt>
                    <dd>
                        {provider}
                        {simulated
                            .then(|| {
                                view! {
                                    <span
                                        class="badge badge-sim"
                                        title="Runs on the built-in offline simulator: outputs, tokens and costs are simulated"
                                    >
                                        "Simulated"
                                    </span>
                                }
                            })}
                    </dd>
                </div>
                <div>
                    <dt>"Model"</dt>
                    <dd>{agent.model}</dd>
                </div>
                <div>
                    <dt>"Temperature"</dt>
                    <dd>{format!("{:.1}", agent.temperature)}</dd>
                </div>
                <div>
                    <dt>"Status"</dt>
                    <dd>
                        <span class=status_class>{agent.status}</span>
                    </dd>
                </div>
                <div>
                    <dt>"Tokens"</dt>
                    <dd class="num">{agent.tokens.to_string()}</dd>
                </div>
                <div>
                    <dt>"Cost"</dt>
                    <dd class="num">{cost}</dd>
                </div>
            </dl>
            <div class="card-actions">
                <button class="button button-small button-secondary" type="button" data-testid="edit-agent"
                    on:click={
                        let id = id.clone();
                        move |_| editing.set(Editing::Existing(id.clone()))
                    }>"Edit"</button>
                <a class="button button-small" data-testid="agent-try" href=format!("/studio?agent={id}")>"Try"</a>
                <a class="button button-small button-secondary" data-testid="agent-versions"
                    href=format!("/agents/{id}/versions")>"Versions"</a>
                <a class="button button-small button-secondary" data-testid="agent-personas"
                    href=format!("/agents/{id}/personas")>"Personas"</a>
                <FileActions id=id.clone() />
                {move || if confirming.get() {
                    let id = id.clone();
                    view! {
                        <span class="small">"Delete this agent?"</span>
                        <button class="button button-small danger" type="button" data-testid="confirm-delete-agent"
                            on:click=move |_| { remove.dispatch(id.clone()); }>"Delete"</button>
                        <button class="button button-small button-secondary" type="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                    }.into_any()
                } else {
                    view! {
                        <button class="button button-small button-secondary" type="button" data-testid="delete-agent"
                            on:click=move |_| confirming.set(true)>"Delete"</button>
                    }.into_any()
                }}
            </div>
        </article>
    }
    // Type-erased: a card is drawn both in the first page and in the scroller's `For`, and its
    // view type is otherwise too deep for the wasm build.
    .into_any()
}

/// The file tools a step offers the agent (none: it answers from the prompt alone).
#[component]
fn ToolPicker(tools: RwSignal<Vec<String>>) -> impl IntoView {
    let about = |t: &str| match t {
        "list_files" => "List the task's files",
        "read_file" => "Read a file",
        _ => "Create or replace a file",
    };
    view! {
        <fieldset class="tool-picker" data-testid="agent-tools">
            <legend>"Tools"</legend>
            {wire::agents::AGENT_TOOLS
                .into_iter()
                .map(|t| {
                    let name = t.to_owned();
                    view! {
                        <label class="checkbox">
                            <input type="checkbox" data-testid=format!("agent-tool-{t}")
                                prop:checked=move || tools.with(|l| l.iter().any(|x| x == t))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    tools.update(|l| {
                                        l.retain(|x| *x != name);
                                        if on {
                                            l.push(name.clone());
                                        }
                                    });
                                } />
                            <code>{t}</code>" — "{about(t)}
                        </label>
                    }
                })
                .collect_view()}
            <p class="muted small">"Without tools the agent answers from its prompt and the work so far alone."</p>
        </fieldset>
    }
}

/// `Name (Kind)` for a provider choice.
fn provider_label(p: &Provider) -> String {
    format!("{} ({})", p.name, wire::format::provider_kind_name(&p.kind))
}

/// A schema as its editor box shows it: indented JSON, or nothing.
fn pretty(schema: Option<&serde_json::Value>) -> String {
    schema
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_default()
}
