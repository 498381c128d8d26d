//! A single headline number with its label.

use leptos::prelude::*;

/// A stat card.
#[component]
pub fn StatCard(
    /// What the number counts.
    label: &'static str,
    /// The value, formatted (live values pass a derived signal).
    #[prop(into)]
    value: Signal<String>,
    /// Secondary line.
    #[prop(optional, into)]
    hint: String,
    /// For tests: `data-testid`.
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="stat-card" data-testid=testid>
            <span class="stat-label">{label}</span>
            <span class="stat-value">{value}</span>
            <span class="stat-hint">{hint}</span>
        </div>
    }
}
