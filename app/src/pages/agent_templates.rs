//! The Agents page's template library: save an agent as a template (a name and a category),
//! make an agent from one, delete one. The same engine actions as `/api/v1/templates`.

use leptos::prelude::*;

use crate::api::agents::{agent_from_template, delete_template, list_templates, save_template};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::agents::Registry;
use crate::pages::{Shape, loaded};
use wire::agents::AgentTemplateInfo;

/// The library, shown from the page header's Templates button.
#[component]
pub fn TemplatesPanel(open: RwSignal<bool>) -> impl IntoView {
    let agents = expect_context::<Registry>();
    let toasts = use_toasts();
    let show = move |kind: ToastKind, text: String| {
        if let Some(t) = toasts {
            t.show(kind, text);
        }
    };
    let save = Action::new(move |(agent, name, category): &(String, String, String)| {
        let (agent, name, category) = (agent.clone(), name.clone(), category.clone());
        async move { save_template(agent, name, category).await }
    });
    let make = Action::new(move |id: &String| {
        let id = id.clone();
        async move { agent_from_template(id).await }
    });
    let remove = Action::new(move |id: &String| {
        let id = id.clone();
        async move { delete_template(id).await }
    });
    let templates = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| list_templates(),
    );
    let (agent, name, category) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    Effect::new(move |_| match save.value().get() {
        Some(Ok(t)) => {
            show(ToastKind::Success, format!("Saved template {}", t.name));
            name.set(String::new());
        }
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match make.value().get() {
        Some(Ok(made)) => {
            show(ToastKind::Success, format!("Created {}", made.agent.name));
            agents.refetch();
        }
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = remove.value().get() {
            show(ToastKind::Error, e.to_string());
        }
    });
    // The agents of the list's first page (a registry of 100,000 is not one select).
    let choices = move || {
        agents.get().and_then(Result::ok).map(|r| {
            r.page
                .items
                .into_iter()
                .map(|a| view! { <option value=a.id.clone()>{a.name.clone()}</option> })
                .collect_view()
        })
    };
    view! {
        <section class="card" aria-labelledby="templates-title" data-testid="templates-panel">
            <div class="panel-head">
                <h2 id="templates-title">"Templates"</h2>
                <button class="button button-small button-secondary" type="button" on:click=move |_| open.set(false)>"Close"</button>
            </div>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch((agent.get_untracked(), name.get_untracked(), category.get_untracked()));
            }>
                <label>
                    "Agent"
                    <select data-testid="template-agent" on:change=move |ev| agent.set(event_target_value(&ev))>
                        <option value="">"Choose an agent"</option>
                        {choices}
                    </select>
                    {move || agents.get().and_then(Result::ok).is_some_and(|r| r.page.next_cursor.is_some()).then(|| view! {
                        <span class="muted small" data-testid="template-agent-hint">"The first page of the list below; filter it to offer others."</span>
                    })}
                </label>
                <label>
                    "Template name"
                    <input data-testid="template-name" maxlength="80" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label>
                    "Category"
                    <input data-testid="template-category" maxlength="40" placeholder="e.g. review" prop:value=move || category.get()
                        on:input=move |ev| category.set(event_target_value(&ev)) />
                </label>
                <button class="button" type="submit" data-testid="template-save"
                    disabled=move || agent.get().is_empty() || name.get().trim().is_empty() || save.pending().get()>
                    "Save as template"
                </button>
            </form>
            {loaded(templates, &[Shape::Rows(2)], move |list| view! { <TemplateList list make remove /> })}
        </section>
    }
}

#[component]
fn TemplateList(
    list: Vec<AgentTemplateInfo>,
    make: Action<String, Result<wire::agents::ImportedAgent, crate::model::AppError>>,
    remove: Action<String, Result<(), crate::model::AppError>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted small" data-testid="templates-empty">"No templates yet: save an agent above to reuse its configuration."</p> }.into_any();
    }
    view! {
        <ul class="template-list" data-testid="template-list">
            {list
                .into_iter()
                .map(|t| {
                    let (id, id2) = (t.id.clone(), t.id.clone());
                    let category = if t.category.is_empty() { "Uncategorised".to_owned() } else { t.category.clone() };
                    view! {
                        <li class="template" data-testid="template">
                            <div>
                                <strong>{t.name.clone()}</strong>
                                <span class="tag">{category}</span>
                                <p class="small muted">{format!("{} · {} · {}", t.agent.role, t.agent.model, t.agent.name)}</p>
                            </div>
                            <div class="card-actions">
                                <button class="button button-small" type="button" data-testid="template-use"
                                    on:click=move |_| { make.dispatch(id.clone()); }>"Create agent"</button>
                                <button class="button button-small button-secondary" type="button" data-testid="template-delete"
                                    aria-label=format!("Delete template {}", t.name)
                                    on:click=move |_| { remove.dispatch(id2.clone()); }>"Delete"</button>
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
