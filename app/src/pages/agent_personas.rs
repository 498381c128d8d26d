//! `/agents/:id/personas`: an agent's personas — named voices added to its system prompt, with
//! a temperature of their own when they set one. Create, edit, delete, activate (one at a time,
//! or none) and try one in the Studio without activating it. The same engine actions as
//! `/api/v1/agents/{id}/personas` and `/api/v1/personas/{id}`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::personas::{
    AgentPersonas, delete_persona, get_agent_personas, save_persona, set_persona_active,
};
use crate::components::toast::{ToastKind, use_toasts};
use crate::model::AppError;
use crate::pages::{Shape, loaded};
use wire::format::timestamp;
use wire::personas::Persona;

/// What a save sends: agent, persona id ("" for a new one), name, description, prompt,
/// temperature as typed.
type Draft = (String, String, String, String, String, String);

/// The page's actions, shared by its rows.
#[derive(Clone, Copy)]
struct Actions {
    save: Action<Draft, Result<Persona, AppError>>,
    activate: Action<(String, bool), Result<Persona, AppError>>,
    remove: Action<String, Result<(), AppError>>,
    /// The persona being edited ("" for none).
    editing: RwSignal<String>,
}

/// `/agents/:id/personas`.
#[component]
pub fn AgentPersonasPage() -> impl IntoView {
    let params = use_params_map();
    // A signal, not a view rebuilt per id: the router then waits for the page's data (see
    // `agent_versions`).
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    view! { <Personas id /> }
}

#[component]
fn Personas(id: Memo<String>) -> impl IntoView {
    let toasts = use_toasts();
    let show = move |kind: ToastKind, text: String| {
        if let Some(t) = toasts {
            t.show(kind, text);
        }
    };
    let actions = Actions {
        save: Action::new(|d: &Draft| {
            let d = d.clone();
            async move { save_persona(d.0, d.1, d.2, d.3, d.4, d.5).await }
        }),
        activate: Action::new(|(id, on): &(String, bool)| {
            let (id, on) = (id.clone(), *on);
            async move { set_persona_active(id, on).await }
        }),
        remove: Action::new(|id: &String| {
            let id = id.clone();
            async move { delete_persona(id).await }
        }),
        editing: RwSignal::new(String::new()),
    };
    let data = Resource::new(
        move || {
            (
                id.get(),
                actions.save.version().get(),
                actions.activate.version().get(),
                actions.remove.version().get(),
            )
        },
        |(id, ..)| get_agent_personas(id),
    );
    Effect::new(move |_| match actions.save.value().get() {
        Some(Ok(p)) => {
            show(ToastKind::Success, format!("Saved persona {}", p.name));
            actions.editing.set(String::new());
        }
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match actions.activate.value().get() {
        Some(Ok(p)) if p.is_active => show(
            ToastKind::Success,
            format!("{} is now the active persona", p.name),
        ),
        Some(Ok(p)) => show(
            ToastKind::Success,
            format!(
                "{} is no longer active: the agent speaks with its own prompt",
                p.name
            ),
        ),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match actions.remove.value().get() {
        Some(Ok(())) => show(ToastKind::Success, "Persona deleted".to_owned()),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    view! {
        <Title text="Personas · Fleetdeck" />
        {loaded(data, &[Shape::Cards(2), Shape::Panels(1)], move |v| view! { <Body view=v actions /> }.into_any())}
    }
}

#[component]
fn Body(view: AgentPersonas, actions: Actions) -> impl IntoView {
    let AgentPersonas { agent, personas } = view;
    let count = personas.len();
    let active = personas
        .iter()
        .find(|p| p.is_active)
        .map(|p| p.name.clone());
    let subtitle = match &active {
        Some(name) => format!(
            "{count} persona{} of {}. {name} is active: every run and step of the agent speaks with it.",
            if count == 1 { "" } else { "s" },
            agent.name
        ),
        None if count == 0 => format!(
            "A persona is a voice for {}: text added to its system prompt under the persona's name, and a temperature of its own if you set one.",
            agent.name
        ),
        None => format!(
            "{count} persona{} of {}; none is active, so the agent speaks with its own prompt alone.",
            if count == 1 { "" } else { "s" },
            agent.name
        ),
    };
    let agent_id = agent.id.clone();
    let rows = personas
        .into_iter()
        .map(|p| view! { <PersonaCard p agent_id=agent_id.clone() actions /> })
        .collect_view();
    view! {
        <div class="page-header">
            <div>
                <p class="crumbs"><a href="/agents">"Agents"</a>" / "{agent.name.clone()}</p>
                <h1>"Personas"</h1>
                <p class="subtitle" data-testid="personas-summary">{subtitle}</p>
            </div>
            <div class="page-actions">
                <a class="button button-secondary" href=format!("/agents/{}/versions", agent.id)>"Prompt versions"</a>
            </div>
        </div>
        {(count == 0).then(|| view! {
            <p class="empty-state card" data-testid="personas-empty">
                "No personas yet. Add one below — for example a terse reviewer who blocks on missing tests."
            </p>
        })}
        <div class="persona-list" data-testid="persona-list">{rows}</div>
        <section class="card" aria-labelledby="new-persona-title">
            <h2 id="new-persona-title">"New persona"</h2>
            <PersonaForm agent_id=agent.id.clone() persona=None actions />
        </section>
    }
    .into_any()
}

#[component]
fn PersonaCard(p: Persona, agent_id: String, actions: Actions) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = p.id.clone();
    let editing = {
        let id = id.clone();
        move || actions.editing.get() == id
    };
    let temperature = p.temperature.map_or_else(
        || "the agent's temperature".to_owned(),
        |t| format!("temperature {t:.1}"),
    );
    let author = p.created_by.clone().unwrap_or_else(|| "—".to_owned());
    let studio = format!("/studio?agent={agent_id}&persona={id}");
    let persona = StoredValue::new(p.clone());
    view! {
        <article class="card persona" data-testid="persona" data-active=p.is_active.to_string()>
            <header class="panel-head">
                <h2>
                    {p.name.clone()}
                    {p.is_active.then(|| view! { <span class="badge badge-ok" data-testid="persona-active">"Active"</span> })}
                </h2>
                <span class="muted small">{temperature}</span>
            </header>
            {(!p.description.is_empty()).then(|| view! { <p>{p.description.clone()}</p> })}
            {move || if editing() {
                view! { <PersonaForm agent_id=agent_id.clone() persona=Some(persona.get_value()) actions /> }.into_any()
            } else {
                view! { <pre class="message-text persona-prompt">{persona.with_value(|p| p.prompt.clone())}</pre> }.into_any()
            }}
            <p class="muted small">{format!("Added {} by {author}", timestamp(p.created_at))}</p>
            <div class="card-actions">
                {
                    let (id, on) = (id.clone(), !p.is_active);
                    view! {
                        <button class=if on { "button button-small" } else { "button button-small button-secondary" }
                            type="button" data-testid="persona-toggle"
                            disabled=move || actions.activate.pending().get()
                            on:click=move |_| { actions.activate.dispatch((id.clone(), on)); }>
                            {if on { "Activate" } else { "Deactivate" }}
                        </button>
                    }
                }
                <a class="button button-small button-secondary" data-testid="persona-try" href=studio>"Try in Studio"</a>
                {
                    let id = id.clone();
                    view! {
                        <button class="button button-small button-secondary" type="button" data-testid="persona-edit"
                            on:click=move |_| actions.editing.set(id.clone())>"Edit"</button>
                    }
                }
                {move || if confirming.get() {
                    let id = id.clone();
                    view! {
                        <span class="small">"Delete this persona?"</span>
                        <button class="button button-small danger" type="button" data-testid="persona-confirm-delete"
                            on:click=move |_| { actions.remove.dispatch(id.clone()); }>"Delete"</button>
                        <button class="button button-small button-secondary" type="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                    }.into_any()
                } else {
                    view! {
                        <button class="button button-small button-secondary" type="button" data-testid="persona-delete"
                            on:click=move |_| confirming.set(true)>"Delete"</button>
                    }.into_any()
                }}
            </div>
        </article>
    }
    .into_any()
}

/// The form of a new persona (`persona: None`) or of one being edited.
#[component]
fn PersonaForm(agent_id: String, persona: Option<Persona>, actions: Actions) -> impl IntoView {
    let id = persona.as_ref().map(|p| p.id.clone()).unwrap_or_default();
    let is_new = persona.is_none();
    let field =
        |f: fn(&Persona) -> String| RwSignal::new(persona.as_ref().map(f).unwrap_or_default());
    let name = field(|p| p.name.clone());
    let description = field(|p| p.description.clone());
    let prompt = field(|p| p.prompt.clone());
    let temperature = field(|p| p.temperature.map(|t| t.to_string()).unwrap_or_default());
    // A new persona's form empties after it is saved.
    Effect::new(move |_| {
        if is_new && matches!(actions.save.value().get(), Some(Ok(_))) {
            for f in [name, description, prompt, temperature] {
                f.set(String::new());
            }
        }
    });
    let suffix = if is_new { "new".to_owned() } else { id.clone() };
    let ids = move |what: &str| format!("persona-{what}-{suffix}");
    view! {
        <form class="agent-form persona-form" data-testid=if is_new { "persona-new" } else { "persona-form" }
            on:submit=move |ev| {
                ev.prevent_default();
                actions.save.dispatch((
                    agent_id.clone(),
                    id.clone(),
                    name.get_untracked(),
                    description.get_untracked(),
                    prompt.get_untracked(),
                    temperature.get_untracked(),
                ));
            }>
            <div class="form-row">
                <label for=ids("name")>"Name"</label>
                <input id=ids("name") data-testid="persona-name" maxlength="80" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <div class="form-row">
                <label for=ids("description")>"Description"</label>
                <input id=ids("description") data-testid="persona-description" maxlength="500"
                    placeholder="What this voice is for"
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
            </div>
            <div class="form-row">
                <label for=ids("prompt")>"Prompt"</label>
                <textarea id=ids("prompt") data-testid="persona-prompt" rows="4" maxlength="20000" required
                    placeholder="e.g. You are terse. Block the change on any missing test."
                    prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
                <p class="muted small">"Added to the agent's system prompt under the persona's name."</p>
            </div>
            <div class="form-row">
                <label for=ids("temperature")>"Temperature (optional)"</label>
                <input id=ids("temperature") data-testid="persona-temperature" type="number" min="0" max="2" step="0.1"
                    placeholder="The agent's"
                    prop:value=move || temperature.get() on:input=move |ev| temperature.set(event_target_value(&ev)) />
            </div>
            <div class="card-actions">
                <button class="button" type="submit" data-testid="persona-save"
                    disabled=move || actions.save.pending().get()>
                    {if is_new { "Add persona" } else { "Save persona" }}
                </button>
                {(!is_new).then(|| view! {
                    <button class="button button-secondary" type="button"
                        on:click=move |_| actions.editing.set(String::new())>"Cancel"</button>
                })}
            </div>
        </form>
    }
    .into_any()
}
