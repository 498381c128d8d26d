//! A search for one agent among any number of them: a combobox (the WAI-ARIA 1.2 pattern, as
//! in the palette) listing the agents whose name, description, model or tags hold the typed
//! words, read where they are stored (`get_agent_page`, the Agents page's own query, by name).
//! The Studio's and the budget form's selects offer only the first agents by name — a registry
//! can hold 100,000 — and this finds any other.
//!
//! The focus stays in the field: the arrow keys move through the matches, Enter picks one,
//! Escape closes the list; a click picks too (the list keeps the focus from leaving on
//! mouse-down, so the field's blur does not close it first).

use leptos::prelude::*;
use wire::agents::AgentSummary;

use crate::api::agents::{AgentQuery, get_agent_page};

/// Matches shown at most: a search narrows with more words, not with scrolling.
const SHOWN: usize = 8;

/// "Find any agent": calls `on_pick` with the agent chosen.
#[component]
pub fn AgentSearch(
    /// Unique on the page: the field's and its list's ids, and their test ids.
    id: &'static str,
    /// What picking an agent does.
    on_pick: Callback<AgentSummary>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(0_usize);
    let words = Memo::new(move |_| text.get().trim().to_owned());
    // The newest answer and the words it is for; `None` until the first arrives. Searches are
    // started from the field's input (never while rendering: a resource read here would hold
    // the page's suspense, on the server for ever), and an answer to older words than the
    // last ones asked is dropped.
    let answer = RwSignal::new(None::<(String, Result<Vec<AgentSummary>, String>)>);
    let asked = StoredValue::new(0_u64);
    let search = move |words: String| {
        let n = asked.get_value() + 1;
        asked.set_value(n);
        if words.is_empty() {
            answer.set(Some((words, Ok(Vec::new()))));
            return;
        }
        leptos::task::spawn_local(async move {
            let result = get_agent_page(AgentQuery {
                q: words.clone(),
                ..AgentQuery::default()
            })
            .await
            .map(|page| page.items.into_iter().take(SHOWN).collect::<Vec<_>>())
            .map_err(|e| e.to_string());
            if asked.get_value() == n {
                answer.set(Some((words, result)));
            }
        });
    };
    let matches = Memo::new(move |_| answer.get().map(|(_, result)| result));
    let shown = Memo::new(move |_| open.get() && !words.get().is_empty());
    let pick = move |agent: AgentSummary| {
        text.set(agent.name.clone());
        open.set(false);
        on_pick.run(agent);
    };
    let input_id = format!("{id}-input");
    let list_id = format!("{id}-list");
    let option_id = move |i: usize| format!("{id}-option-{i}");

    // The list holds options only (a listbox of none is hidden); what the search is doing is
    // said beside it, where screen readers hear it.
    let list = Memo::new(move |_| matches.get().and_then(Result::ok).unwrap_or_default());
    let status = Memo::new(move |_| match matches.get() {
        None => Some("Searching…".to_owned()),
        Some(Err(e)) => Some(format!("The search failed: {e}")),
        Some(Ok(l)) if l.is_empty() => Some(format!(
            "No agent matches “{}”.",
            answer.with(|a| a.as_ref().map(|(w, _)| w.clone()).unwrap_or_default())
        )),
        Some(Ok(_)) => None,
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let list = list.get_untracked();
        let count = list.len();
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                if !open.get_untracked() {
                    open.set(true);
                    active.set(0);
                } else if count > 0 {
                    active.update(|a| *a = (*a + 1) % count);
                }
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = (*a + count - 1) % count);
            }
            // Enter picks from an open list; otherwise it submits the form as usual.
            "Enter" if shown.get_untracked() && count > 0 => {
                ev.prevent_default();
                if let Some(agent) = list.get(active.get_untracked()).cloned() {
                    pick(agent);
                }
            }
            "Escape" if open.get_untracked() => {
                ev.prevent_default();
                ev.stop_propagation();
                open.set(false);
            }
            _ => {}
        }
    };

    let options = move || {
        list.get()
            .into_iter()
            .enumerate()
            .map(|(i, agent)| {
                let label = agent.name.clone();
                let role = agent.role.to_lowercase();
                view! {
                    <li
                        id=option_id(i)
                        role="option"
                        class="palette-option"
                        aria-selected=move || (active.get() == i).to_string()
                        data-testid=format!("{id}-option")
                        on:mousedown=|ev| ev.prevent_default()
                        on:mousemove=move |_| active.set(i)
                        on:click=move |_| pick(agent.clone())
                    >
                        <span class="palette-label">{label}</span>
                        <span class="palette-kind">{role}</span>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <div class="agent-search">
            <label for=input_id.clone()>"Find any agent"</label>
            <input
                id=input_id
                type="search"
                role="combobox"
                aria-autocomplete="list"
                aria-expanded=move || shown.get().to_string()
                aria-controls=list_id.clone()
                aria-activedescendant=move || {
                    (shown.get() && !list.with(Vec::is_empty)).then(|| option_id(active.get()))
                }
                autocomplete="off"
                spellcheck="false"
                placeholder="Name, model or tag…"
                data-testid=format!("{id}-input")
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    active.set(0);
                    open.set(true);
                    search(words.get_untracked());
                }
                on:focus=move |_| open.set(true)
                on:blur=move |_| open.set(false)
                on:keydown=on_keydown
            />
            <div class="agent-search-list" hidden=move || !shown.get() on:mousedown=|ev| ev.prevent_default()>
                <ul
                    class="palette-results"
                    id=list_id
                    role="listbox"
                    aria-label="Agents that match"
                    hidden=move || list.with(Vec::is_empty)
                    data-testid=format!("{id}-list")
                >
                    {options}
                </ul>
                <p class="palette-empty" role="status" hidden=move || status.with(Option::is_none) data-testid=format!("{id}-status")>
                    {move || status.get()}
                </p>
            </div>
        </div>
    }
}
