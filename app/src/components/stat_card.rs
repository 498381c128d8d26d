//! A single headline number with its label.

use leptos::prelude::*;

/// A stat card.
#[component]
pub fn StatCard(
    /// What the number counts.
    label: &'static str,
    /// The value, formatted (live values pass a closure). A `TextProp`, not a `Signal`: a
    /// derived arena signal created inside a suspended render is disposed with that render's
    /// owner while the text node that reads it can outlive it.
    #[prop(into)]
    value: TextProp,
    /// Secondary line.
    #[prop(optional, into)]
    hint: String,
    /// For tests: `data-testid`.
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="stat-card" data-testid=testid>
            <span class="stat-label">{label}</span>
            <span class="stat-value">{move || value.get().to_string()}</span>
            <span class="stat-hint">{hint}</span>
        </div>
    }
}
