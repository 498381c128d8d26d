//! Settings → Tasks: when finished tasks are archived automatically, and the directory that
//! tasks' chosen working directories must lie under. Both saved together by one engine action.

use leptos::prelude::*;

use crate::api::tasks::{SaveTaskSettings, TaskSettingsView, task_settings};
use crate::components::toast::{ToastKind, use_toasts};
use crate::pages::{Shape, loaded};

/// The Tasks card of the Settings page.
#[component]
pub fn TaskSettingsCard() -> impl IntoView {
    let toasts = use_toasts();
    let save = ServerAction::<SaveTaskSettings>::new();
    let data = Resource::new(move || save.version().get(), |_| task_settings());
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        if let Some(t) = toasts {
            match result {
                Ok(()) => t.show(ToastKind::Success, "Task settings saved"),
                Err(e) => t.show(ToastKind::Error, e.to_string()),
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="task-settings-title" data-testid="task-settings-card">
            <h2 id="task-settings-title">"Tasks"</h2>
            {loaded(data, &[Shape::Rows(3)], move |s| view! { <TaskSettingsForm settings=s save /> }.into_any())}
        </section>
    }
}

#[component]
fn TaskSettingsForm(
    settings: TaskSettingsView,
    save: ServerAction<SaveTaskSettings>,
) -> impl IntoView {
    let archive = if settings.archive_after_days == 0 {
        "Finished tasks stay in the list until someone archives them.".to_owned()
    } else {
        format!(
            "Finished tasks are archived {} day(s) after they finish (checked daily); they stay searchable under Tasks → Archived.",
            settings.archive_after_days
        )
    };
    let root = if settings.workdir_root.is_empty() {
        "Tasks run in a directory of their own; set a root to let people choose an existing directory under it.".to_owned()
    } else {
        format!(
            "Tasks may run in an existing directory under {} (every process that runs tasks must see it).",
            settings.workdir_root
        )
    };
    view! {
        <p class="muted small" data-testid="task-archive-summary">{archive}</p>
        <p class="muted small" data-testid="task-workdir-summary">{root}</p>
        {settings.can_edit.then(|| view! {
            <ActionForm action=save attr:class="settings-form task-settings-form">
                <label>
                    "Archive finished tasks after (days, 0 = never)"
                    <input name="archive_after_days" type="number" min="0" max="3650" step="1" required
                        value=settings.archive_after_days.to_string() data-testid="archive-after-days" />
                </label>
                <label>
                    "Allowed root for working directories"
                    <input name="workdir_root" type="text" spellcheck="false" autocomplete="off"
                        placeholder="/srv/projects (empty: none)"
                        value=settings.workdir_root.clone() data-testid="workdir-root" />
                </label>
                <div class="form-actions">
                    <button class="button" type="submit" data-testid="save-task-settings"
                        disabled=move || save.pending().get()>"Save"</button>
                </div>
            </ActionForm>
        })}
    }
}
