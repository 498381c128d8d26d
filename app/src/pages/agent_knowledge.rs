//! The agent editor's knowledge sources: named documents added to the agent's system prompt as
//! reference material (the preview above shows them where the model reads them). Paste a
//! document or pick a text file; remove one. The same engine actions as
//! `/api/v1/agents/{id}/knowledge`.

use leptos::prelude::*;

use crate::api::knowledge::{add_knowledge, get_agent_knowledge, remove_knowledge};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{Shape, loaded};
use wire::format::thousands;
use wire::knowledge::{KnowledgeSource, MAX_CHARS, MAX_TOTAL_CHARS};

/// The knowledge sources of a stored agent; `changed` is bumped after an add or a removal (the
/// preview reads them again).
#[component]
pub fn KnowledgeEditor(agent_id: String, changed: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let show = move |kind: ToastKind, text: String| {
        if let Some(t) = toasts {
            t.show(kind, text);
        }
    };
    let add = Action::new(|(agent, name, content): &(String, String, String)| {
        let (agent, name, content) = (agent.clone(), name.clone(), content.clone());
        async move { add_knowledge(agent, name, content).await }
    });
    let remove = Action::new(|(agent, id): &(String, String)| {
        let (agent, id) = (agent.clone(), id.clone());
        async move { remove_knowledge(agent, id).await }
    });
    let sources = {
        let agent_id = agent_id.clone();
        Resource::new(
            move || (add.version().get(), remove.version().get()),
            move |_| get_agent_knowledge(agent_id.clone()),
        )
    };
    let (name, content) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    Effect::new(move |_| match add.value().get() {
        Some(Ok(k)) => {
            show(ToastKind::Success, format!("Added {}", k.name));
            name.set(String::new());
            content.set(String::new());
            changed.update(|n| *n += 1);
        }
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => changed.update(|n| *n += 1),
        Some(Err(e)) => show(ToastKind::Error, e.to_string()),
        None => {}
    });
    let list_agent = agent_id.clone();
    view! {
        <details class="knowledge" data-testid="agent-knowledge">
            <summary>"Knowledge sources"</summary>
            <p class="muted small">
                {format!(
                    "Reference documents added to the system prompt under their names, saved as soon as they are added — up to {} characters each, {} in all.",
                    thousands(MAX_CHARS as i64),
                    thousands(MAX_TOTAL_CHARS as i64),
                )}
            </p>
            {loaded(sources, &[Shape::Rows(2)], move |list| view! { <Sources list agent_id=list_agent.clone() remove /> }.into_any())}
            <form class="agent-form" on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((agent_id.clone(), name.get_untracked(), content.get_untracked()));
            }>
                <label>
                    "Name"
                    <input data-testid="knowledge-name" maxlength="120" placeholder="e.g. Style guide"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label>
                    "Text"
                    <textarea rows="4" data-testid="knowledge-content" placeholder="Paste the document"
                        prop:value=move || content.get() on:input=move |ev| content.set(event_target_value(&ev))></textarea>
                </label>
                <div class="card-actions">
                    <button class="button button-secondary" type="submit" data-testid="knowledge-add"
                        disabled=move || name.get().trim().is_empty() || content.get().trim().is_empty() || add.pending().get()>
                        "Add source"
                    </button>
                </div>
            </form>
        </details>
    }
}

#[component]
fn Sources(
    list: Vec<KnowledgeSource>,
    agent_id: String,
    remove: Action<(String, String), Result<(), crate::model::AppError>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted small" data-testid="knowledge-empty">"None yet."</p> }
            .into_any();
    }
    view! {
        <ul class="knowledge-list">
            {list
                .into_iter()
                .map(|k| {
                    let key = (agent_id.clone(), k.id.clone());
                    view! {
                        <li data-testid="knowledge-source">
                            <div>
                                <strong>{k.name.clone()}</strong>
                                <span class="muted small">{format!(" · {} characters · ~{} tokens (estimated)", thousands(k.chars), k.estimated_tokens)}</span>
                            </div>
                            <button class="button button-small button-secondary" type="button" data-testid="knowledge-remove"
                                aria-label=format!("Remove {}", k.name)
                                on:click=move |_| { remove.dispatch(key.clone()); }>"Remove"</button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
