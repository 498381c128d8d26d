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

/// What a page's data will fill, so that its skeleton stands where the data will and in the
/// same shape: a table's rows where a table comes, stat cards where stat cards come. A page
/// lists its parts top to bottom (`&[Shape::Stats(4), Shape::Table(5)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One wide line: a banner, a filter bar, a page's own heading drawn from its data.
    Line,
    /// A row of `n` stat cards (the Dashboard's, Health's, a task's totals).
    Stats(usize),
    /// A table of `n` rows in a card, under its header row.
    Table(usize),
    /// `n` rows inside a card the page already draws (a list within a section).
    Rows(usize),
    /// `n` cards in a grid (agents, budgets, personas, charts side by side).
    Cards(usize),
    /// `n` wide panels one under the other (a form, a chart, a task's body).
    Panels(usize),
}

impl Shape {
    /// The name the skeleton's part carries in `data-shape` (and the browser test reads).
    fn name(self) -> &'static str {
        match self {
            Shape::Line => "line",
            Shape::Stats(_) => "stats",
            Shape::Table(_) => "table",
            Shape::Rows(_) => "rows",
            Shape::Cards(_) => "cards",
            Shape::Panels(_) => "panels",
        }
    }
}

/// Placeholder shapes shown while a page's data loads: announced once as "Loading…" to screen
/// readers, the shapes themselves hidden from them.
#[component]
pub fn Skeleton(
    /// The parts, top to bottom.
    shapes: &'static [Shape],
) -> impl IntoView {
    let blocks = |n: usize, class: &'static str| {
        (0..n)
            .map(|_| view! { <div class=class></div> })
            .collect_view()
    };
    view! {
        <div class="skeleton-set" role="status" aria-busy="true" data-testid="skeleton">
            <span class="sr-only">"Loading…"</span>
            {shapes
                .iter()
                .map(|&shape| {
                    let name = shape.name();
                    let inner = match shape {
                        Shape::Stats(n) => {
                            view! { <div class="stat-grid">{blocks(n, "skeleton skeleton-stat")}</div> }
                                .into_any()
                        }
                        Shape::Table(n) => {
                            view! {
                                <div class="card skeleton-table">
                                    <div class="skeleton skeleton-row skeleton-head"></div>
                                    {blocks(n, "skeleton skeleton-row")}
                                </div>
                            }
                                .into_any()
                        }
                        Shape::Line => blocks(1, "skeleton skeleton-line-wide").into_any(),
                        Shape::Rows(n) => blocks(n, "skeleton skeleton-row").into_any(),
                        Shape::Cards(n) => {
                            view! { <div class="card-grid skeleton-cards">{blocks(n, "skeleton skeleton-card")}</div> }
                                .into_any()
                        }
                        Shape::Panels(n) => {
                            view! { <div class="skeleton-panels">{blocks(n, "skeleton skeleton-panel")}</div> }
                                .into_any()
                        }
                    };
                    view! { <div class="skeleton-part" aria-hidden="true" data-shape=name>{inner}</div> }
                })
                .collect_view()}
        </div>
    }
}

/// Renders a page's data once it has loaded: skeleton blocks while it loads, the reason and a
/// retry button (and a toast) when it fails.
pub fn loaded<T, V>(
    data: Resource<Result<T, AppError>>,
    skeleton: &'static [Shape],
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
        <Transition fallback=move || view! { <Skeleton shapes=skeleton /> }>
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
