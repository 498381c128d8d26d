//! What a list or chart shows when there is nothing yet: a title and why.

use leptos::prelude::*;

/// An empty state.
#[component]
pub fn EmptyState(
    /// One short line.
    title: &'static str,
    /// What will appear here and how it gets there.
    message: &'static str,
    /// For tests.
    #[prop(optional)]
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid=testid>
            <svg class="empty-art" viewBox="0 0 64 64" aria-hidden="true">
                <rect x="10" y="14" width="44" height="36" rx="6" />
                <path d="M10 24h44M20 34h16M20 41h24" />
            </svg>
            <h3>{title}</h3>
            <p>{message}</p>
        </div>
    }
}
