//! Agents as files on the Agents page: the Import panel (paste an exported agent), and each
//! card's Export link and Clone button. The same engine actions as `/api/v1/agents/import`,
//! `/{id}/export` and `/{id}/clone`.

use leptos::prelude::*;

use crate::api::agents::{clone_agent, import_agent};
use crate::components::toast::{ToastKind, use_toasts};
use wire::agents::ImportedAgent;

type Agents = crate::pages::agents::Registry;

/// What an import or a clone made, as a toast: its name, then anything not carried over.
fn announce(made: &ImportedAgent, verb: &str) -> String {
    let mut text = format!("{verb} as {}", made.agent.name);
    for note in &made.notes {
        text.push_str(". ");
        text.push_str(note);
    }
    text
}

/// The panel to paste an exported agent into.
#[component]
pub fn ImportPanel(open: RwSignal<bool>) -> impl IntoView {
    let agents = expect_context::<Agents>();
    let text = RwSignal::new(String::new());
    let toasts = use_toasts();
    let import = Action::new(move |file: &String| {
        let file = file.clone();
        async move { import_agent(file).await }
    });
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match import.value().get() {
        Some(Ok(made)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Success, announce(&made, "Imported"));
            }
            error.set(None);
            text.set(String::new());
            open.set(false);
            agents.refetch();
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="import-title" data-testid="import-panel">
            <h2 id="import-title">"Import an agent"</h2>
            <form on:submit=move |ev| {
                ev.prevent_default();
                import.dispatch(text.get_untracked());
            }>
                <label>
                    "Paste a file exported from Fleetdeck (fleetdeck.agent, version 1)"
                    <textarea rows="8" class="mono" data-testid="import-text" spellcheck="false"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="import-error">{e}</p> })}
                <div class="form-actions">
                    <button class="button button-secondary" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="button" type="submit" data-testid="import-submit"
                        disabled=move || import.pending().get() || text.get().trim().is_empty()>"Import agent"</button>
                </div>
            </form>
        </section>
    }
}

/// A card's Export link (a file download) and Clone button.
#[component]
pub fn FileActions(id: String) -> impl IntoView {
    let agents = expect_context::<Agents>();
    let toasts = use_toasts();
    let clone = Action::new(move |id: &String| {
        let id = id.clone();
        async move { clone_agent(id).await }
    });
    Effect::new(move |_| match clone.value().get() {
        Some(Ok(made)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Success, announce(&made, "Cloned"));
            }
            agents.refetch();
        }
        Some(Err(e)) => {
            if let Some(t) = toasts {
                t.show(ToastKind::Error, e.to_string());
            }
        }
        None => {}
    });
    let href = format!("/api/v1/agents/{id}/export");
    view! {
        <a class="button button-small button-secondary" data-testid="export-agent" href=href download="">"Export"</a>
        <button class="button button-small button-secondary" type="button" data-testid="clone-agent"
            disabled=move || clone.pending().get()
            on:click=move |_| { clone.dispatch(id.clone()); }>"Clone"</button>
    }
}
