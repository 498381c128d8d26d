//! The page for unknown routes (answered with HTTP 404).

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <div class="empty-state">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a class="button" href="/">"Go to the Dashboard"</a>
        </div>
        <crate::routes::MarkHydrated />
    }
}
