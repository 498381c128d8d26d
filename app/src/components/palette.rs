//! The command palette (Ctrl/Cmd+K) and the keyboard shortcuts of seed 002 appendix D.
//!
//! The palette searches pages, actions, the workspace's agents and its recent tasks (read when
//! it opens, so it never costs a page load anything), ranked by Sublime Text's fuzzy matching;
//! it is used with the keyboard alone: type, ↑/↓, Enter, Esc. Shortcuts with Ctrl/Cmd work
//! everywhere (but Ctrl+D/N/T inside a text field, where they edit text on macOS); the single
//! keys (`/`, `?`) only outside text fields, so typing is never taken over. Chrome keeps Ctrl+N
//! and Ctrl+T for itself (a page cannot have them there): Alt+N and Alt+T do the same
//! everywhere, and the shortcut help says so.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::agents::{AgentQuery, get_agent_page};
use crate::api::tasks::{TasksQuery, list_tasks};

/// What choosing an entry does.
#[derive(Clone, Debug, PartialEq)]
enum Run {
    /// Opens a page of the app.
    Go(String),
    /// Switches between dark and light.
    Theme,
    /// Shows the shortcuts.
    Help,
    /// Signs out.
    SignOut,
}

/// One entry of the palette.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    label: String,
    /// What kind of thing it is, shown beside it: Page, Action, Agent, Task.
    kind: &'static str,
    /// More words to match on (an agent's role, a task's status).
    detail: String,
    run: Run,
}

/// The shortcuts, as the help lists them.
const SHORTCUTS: [(&str, &str); 9] = [
    ("Ctrl/⌘ K", "Open the command palette"),
    ("Ctrl/⌘ N or Alt N", "New agent"),
    ("Ctrl/⌘ T or Alt T", "New task"),
    ("Ctrl/⌘ ,", "Settings"),
    ("Ctrl/⌘ D", "Switch between dark and light"),
    ("/", "Search this page (outside text fields)"),
    ("?", "This help (outside text fields)"),
    ("Esc", "Close the palette or a dialog"),
    (
        "↑ ↓ Enter",
        "Move through the palette's results and open one",
    ),
];

fn fixed_entries() -> Vec<Entry> {
    let action = |label: &str, run: Run| Entry {
        label: label.to_owned(),
        kind: "Action",
        detail: String::new(),
        run,
    };
    let mut entries = vec![
        action("New agent", Run::Go("/agents?new=1".to_owned())),
        action("New task", Run::Go("/tasks?new=1".to_owned())),
        action("Switch theme (dark / light)", Run::Theme),
        action("Keyboard shortcuts", Run::Help),
        action("Sign out", Run::SignOut),
    ];
    for (href, label, _) in super::layout::NAV {
        entries.push(Entry {
            label: label.to_owned(),
            kind: "Page",
            detail: String::new(),
            run: Run::Go(href.to_owned()),
        });
    }
    entries.push(Entry {
        label: "Calls".to_owned(),
        kind: "Page",
        detail: "model calls explorer".to_owned(),
        run: Run::Go("/calls".to_owned()),
    });
    entries
}

/// The entries `query` matches, best first (all of them, in their own order, for no query).
fn ranked(entries: &[Entry], query: &str) -> Vec<Entry> {
    let query = query.trim();
    if query.is_empty() {
        return entries.iter().take(50).cloned().collect();
    }
    let mut scored: Vec<(isize, &Entry)> = entries
        .iter()
        .filter_map(|e| {
            // The name counts most; the detail (a role, a status) less. Each is matched on its
            // own: letters scattered across both would match nearly anything.
            let label = sublime_fuzzy::best_match(query, &e.label).map(|m| m.score() * 2);
            let detail = sublime_fuzzy::best_match(query, &e.detail).map(|m| m.score());
            // Tasks are many, with long descriptions that match loosely: at equal match, named
            // things (actions, pages, agents) come first.
            let weight = if e.kind == "Task" { 3 } else { 4 };
            label.max(detail).map(|s| (s * weight, e))
        })
        .collect();
    // Stable: equal scores keep the entries' own order (actions, pages, agents, tasks).
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored
        .into_iter()
        .take(50)
        .map(|(_, e)| e.clone())
        .collect()
}

/// What a key pressed anywhere asks for.
#[cfg(feature = "hydrate")]
enum Shortcut {
    Palette,
    Go(&'static str),
    Theme,
    Close,
    Search,
    Help,
}

/// The palette and the shortcut help, with the keyboard listener that opens them; `open` is
/// also set by the top bar's search button.
#[component]
pub fn CommandPalette(open: RwSignal<bool>) -> impl IntoView {
    let theme = use_context::<super::theme::ThemeSignal>();
    let toggle_theme = move || {
        #[cfg(feature = "hydrate")]
        {
            let next = crate::browser::toggle_theme();
            if let Some(signal) = theme {
                signal.0.set(Some(next));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = theme;
    };
    let help = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0_usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();

    // Agents and recent tasks, read each time the palette opens (they change as people work) and
    // as words are typed: the first page of each, fuzzy-ranked here, and those whose text
    // contains the words (a registry or a task list of 100,000 is searched where it is stored).
    let words = Memo::new(move |_| query.get().trim().to_owned());
    let found = LocalResource::new(move || {
        let open = open.get();
        let words = words.get();
        async move {
            let mut entries = Vec::new();
            if !open {
                return entries;
            }
            let mut agents = Vec::new();
            if let Ok(page) = get_agent_page(AgentQuery::default()).await {
                agents.extend(page.items);
            }
            if !words.is_empty()
                && let Ok(page) = get_agent_page(AgentQuery {
                    q: words.clone(),
                    ..AgentQuery::default()
                })
                .await
            {
                agents.extend(page.items);
            }
            let mut seen = std::collections::HashSet::new();
            entries.extend(
                agents
                    .into_iter()
                    .filter(|a| seen.insert(a.id.clone()))
                    .map(|a| Entry {
                        label: a.name,
                        kind: "Agent",
                        detail: a.role.to_lowercase(),
                        run: Run::Go(format!("/agents?edit={}", a.id)),
                    }),
            );
            let mut tasks = Vec::new();
            if let Ok(page) = list_tasks(TasksQuery::default()).await {
                tasks.extend(page.items);
            }
            if !words.is_empty()
                && let Ok(page) = list_tasks(TasksQuery {
                    q: words,
                    ..TasksQuery::default()
                })
                .await
            {
                tasks.extend(page.items);
            }
            entries.extend(
                tasks
                    .into_iter()
                    .filter(|t| seen.insert(t.id.clone()))
                    .map(|t| Entry {
                        label: t.description.chars().take(90).collect(),
                        kind: "Task",
                        detail: t.status,
                        run: Run::Go(format!("/tasks/{}", t.id)),
                    }),
            );
            entries
        }
    });
    let results = Memo::new(move |_| {
        let mut entries = fixed_entries();
        if let Some(more) = found.get() {
            entries.extend(more);
        }
        ranked(&entries, &query.get())
    });

    let close = move || {
        open.set(false);
        query.set(String::new());
        selected.set(0);
    };
    let run = {
        let navigate = navigate.clone();
        move |entry: Entry| {
            close();
            match entry.run {
                Run::Go(href) => navigate(&href, Default::default()),
                Run::Theme => toggle_theme(),
                Run::Help => help.set(true),
                Run::SignOut => sign_out(),
            }
        }
    };

    // The keyboard, anywhere on the page.
    #[cfg(feature = "hydrate")]
    {
        let navigate = navigate.clone();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let key = ev.key();
            // In a text field, Ctrl+D, Ctrl+N and Ctrl+T stay the field's (macOS edits text
            // with them: delete forward, next line, transpose); ⌘ and Ctrl+K still work there.
            let editing_key = matches!(key.as_str(), "d" | "D" | "n" | "N" | "t" | "T");
            let command = ev.meta_key() || (ev.ctrl_key() && !(editing_key && in_text_field(&ev)));
            let shortcut = match (command, ev.alt_key(), key.as_str()) {
                (true, false, "k" | "K") => Some(Shortcut::Palette),
                (true, false, "n" | "N") | (false, true, "n" | "N") => {
                    Some(Shortcut::Go("/agents?new=1"))
                }
                (true, false, "t" | "T") | (false, true, "t" | "T") => {
                    Some(Shortcut::Go("/tasks?new=1"))
                }
                (true, false, ",") => Some(Shortcut::Go("/settings")),
                (true, false, "d" | "D") => Some(Shortcut::Theme),
                (false, false, "Escape") if open.get_untracked() || help.get_untracked() => {
                    Some(Shortcut::Close)
                }
                (false, false, "/") if !in_text_field(&ev) && !open.get_untracked() => {
                    Some(Shortcut::Search)
                }
                (false, false, "?") if !in_text_field(&ev) && !open.get_untracked() => {
                    Some(Shortcut::Help)
                }
                _ => None,
            };
            let Some(shortcut) = shortcut else {
                return;
            };
            ev.prevent_default();
            match shortcut {
                Shortcut::Palette if open.get_untracked() => close(),
                Shortcut::Palette => {
                    help.set(false);
                    open.set(true);
                }
                Shortcut::Go(href) => {
                    close();
                    help.set(false);
                    navigate(href, Default::default());
                }
                Shortcut::Theme => toggle_theme(),
                Shortcut::Close => {
                    close();
                    help.set(false);
                }
                Shortcut::Search => {
                    if !focus_search() {
                        open.set(true);
                    }
                }
                Shortcut::Help => help.set(true),
            }
        });
        on_cleanup(move || handle.remove());
    }

    // The search field takes the focus when the palette opens, the Close button when the
    // shortcuts open; closing either gives the focus back to what had it (WCAG 2.4.3).
    let focus_return = FocusReturn::new();
    let help_close = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if open.get()
            && let Some(input) = input.get()
        {
            focus_return.remember();
            let _ = input.focus();
        }
    });
    Effect::new(move |_| {
        if help.get()
            && let Some(button) = help_close.get()
        {
            focus_return.remember();
            let _ = button.focus();
        }
    });
    Effect::watch(
        move || open.get() || help.get(),
        move |now, before, _| {
            if !*now && before == Some(&true) {
                focus_return.give_back();
            }
        },
        false,
    );

    let on_keydown = {
        let run = run.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let count = results.with_untracked(Vec::len);
            match ev.key().as_str() {
                "ArrowDown" if count > 0 => {
                    ev.prevent_default();
                    selected.update(|s| *s = (*s + 1) % count);
                }
                "ArrowUp" if count > 0 => {
                    ev.prevent_default();
                    selected.update(|s| *s = (*s + count - 1) % count);
                }
                "Enter" => {
                    ev.prevent_default();
                    let chosen =
                        results.with_untracked(|r| r.get(selected.get_untracked()).cloned());
                    if let Some(entry) = chosen {
                        run(entry);
                    }
                }
                // The palette holds the focus while it is open.
                "Tab" => ev.prevent_default(),
                _ => {}
            }
        }
    };

    view! {
        <Show when=move || open.get()>
            <div class="palette-backdrop" on:click=move |_| close()>
                <div
                    class="palette"
                    role="dialog"
                    aria-modal="true"
                    aria-label="Command palette"
                    data-testid="palette"
                    on:click=|ev| ev.stop_propagation()
                >
                    <input
                        node_ref=input
                        class="palette-input"
                        type="text"
                        role="combobox"
                        aria-expanded="true"
                        aria-controls="palette-results"
                        aria-autocomplete="list"
                        aria-label="Search pages, agents, tasks and actions"
                        aria-activedescendant=move || {
                            (!results.with(Vec::is_empty)).then(|| format!("palette-option-{}", selected.get()))
                        }
                        placeholder="Search pages, agents, tasks and actions…"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="palette-input"
                        prop:value=move || query.get()
                        on:input=move |ev| {
                            query.set(event_target_value(&ev));
                            selected.set(0);
                        }
                        on:keydown=on_keydown.clone()
                    />
                    <ul class="palette-results" id="palette-results" role="listbox" aria-label="Results">
                        {
                            let run = run.clone();
                            move || {
                                let list = results.get();
                                if list.is_empty() {
                                    return view! {
                                        <li class="palette-empty" data-testid="palette-empty">"Nothing matches."</li>
                                    }
                                        .into_any();
                                }
                                list.into_iter()
                                    .enumerate()
                                    .map(|(i, entry)| {
                                        let run = run.clone();
                                        let chosen = entry.clone();
                                        view! {
                                            <li
                                                id=format!("palette-option-{i}")
                                                role="option"
                                                class="palette-option"
                                                aria-selected=move || (selected.get() == i).to_string()
                                                data-testid="palette-option"
                                                on:mousemove=move |_| selected.set(i)
                                                on:click=move |_| run(chosen.clone())
                                            >
                                                <span class="palette-label">{entry.label}</span>
                                                <span class="palette-kind">{entry.kind}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }
                    </ul>
                    <p class="palette-hint muted small">"↑ ↓ to move · Enter to open · Esc to close · ? for all shortcuts"</p>
                </div>
            </div>
        </Show>
        <Show when=move || help.get()>
            <div class="palette-backdrop" on:click=move |_| help.set(false)>
                <div
                    class="palette shortcut-help"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="shortcut-help-title"
                    data-testid="shortcut-help"
                    on:click=|ev| ev.stop_propagation()
                    // Its one control keeps the focus while it is open.
                    on:keydown=|ev| {
                        if ev.key() == "Tab" {
                            ev.prevent_default();
                        }
                    }
                >
                    <h2 id="shortcut-help-title">"Keyboard shortcuts"</h2>
                    <dl class="shortcut-list">
                        {SHORTCUTS
                            .iter()
                            .map(|(keys, what)| view! { <dt><kbd>{*keys}</kbd></dt> <dd>{*what}</dd> })
                            .collect_view()}
                    </dl>
                    <p class="muted small">"Chrome keeps Ctrl+N and Ctrl+T for new windows and tabs; Alt+N and Alt+T work in every browser."</p>
                    <button class="button button-secondary" type="button" data-testid="shortcut-help-close"
                        node_ref=help_close
                        on:click=move |_| help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
    .into_any()
}

/// The element that had the focus when a dialog opened, given the focus back when the last
/// dialog closes.
#[derive(Clone, Copy)]
struct FocusReturn {
    #[cfg(feature = "hydrate")]
    to: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl FocusReturn {
    fn new() -> Self {
        Self {
            #[cfg(feature = "hydrate")]
            to: StoredValue::new_local(None),
        }
    }

    /// Notes the focused element, unless one is noted already (a dialog opened from another
    /// gives the focus back to what had it before the first).
    fn remember(self) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if self.to.with_value(Option::is_some) {
                return;
            }
            let focused = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            self.to.set_value(focused);
        }
    }

    /// Focuses the noted element again (still on the page: a navigation may have removed it).
    fn give_back(self) {
        #[cfg(feature = "hydrate")]
        if let Some(element) = self.to.try_update_value(Option::take).flatten()
            && element.is_connected()
        {
            let _ = element.focus();
        }
    }
}

/// Ends the session and goes to the sign-in page.
fn sign_out() {
    leptos::task::spawn_local(async {
        if crate::api::session::logout().await.is_ok() {
            #[cfg(feature = "hydrate")]
            crate::browser::go_to("/login");
        }
    });
}

/// Whether a key was typed into a text field (where `/` and `?` are text).
#[cfg(feature = "hydrate")]
fn in_text_field(ev: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| {
            e.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']")
                .ok()
                .flatten()
        })
        .is_some()
}

/// Focuses the page's search field; false when it has none.
#[cfg(feature = "hydrate")]
fn focus_search() -> bool {
    use wasm_bindgen::JsCast;
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("main input[type=search]").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|e| e.focus().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_ranking_puts_the_closest_first() {
        let entries = fixed_entries();
        let top = |q: &str| ranked(&entries, q).first().map(|e| e.label.clone());
        assert_eq!(top("set").as_deref(), Some("Settings"));
        assert_eq!(top("nwag").as_deref(), Some("New agent"));
        assert_eq!(top("anlt").as_deref(), Some("Analytics"));
        assert!(ranked(&entries, "zzzz").is_empty());
        assert_eq!(ranked(&entries, "").len(), entries.len());
    }
}
