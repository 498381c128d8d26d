//! One module per route.

pub mod access;
pub mod agent_files;
pub mod agent_filters;
pub mod agent_knowledge;
pub mod agent_personas;
pub mod agent_templates;
pub mod agent_versions;
pub mod agents;
pub mod alert_rules;
pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod budgets;
pub mod calls;
pub mod dashboard;
pub mod gateway_settings;
pub mod health;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod studio;
pub mod studio_runs;
pub mod task_detail;
pub mod task_settings;
pub mod task_table;
pub mod tasks;
pub mod traces;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::components::load_error::LoadError;
use crate::model::AppError;

/// The heading block at the top of a page.
#[component]
pub fn PageHeader(
    /// The page's `<h1>`.
    title: &'static str,
    /// One line under it.
    subtitle: &'static str,
    /// Actions on the right (buttons).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="subtitle">{subtitle}</p>
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </div>
    }
}

/// Placeholder blocks shown while a page's data loads.
#[component]
pub fn Skeleton(
    /// How many blocks.
    count: usize,
) -> impl IntoView {
    view! {
        <div class="skeleton-grid" aria-busy="true" aria-label="Loading">
            {(0..count).map(|_| view! { <div class="skeleton"></div> }).collect_view()}
        </div>
    }
}

/// Renders a page's data once it has loaded: skeleton blocks while it loads, the reason and a
/// retry button (and a toast) when it fails.
pub fn loaded<T, V>(
    data: Resource<Result<T, AppError>>,
    skeleton: usize,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    let retry = Callback::new(move |_| data.refetch());
    view! {
        // A transition, not a suspense: a reload keeps what is shown until the new data is
        // there, so live pages never flash skeletons or shift.
        <Transition fallback=move || view! { <Skeleton count=skeleton /> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(value) => render(value).into_any(),
                        Err(error) => view! { <LoadError error retry /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
