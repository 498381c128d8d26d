//! What a page shows when its data could not be loaded: the reason and a retry button.

use leptos::prelude::*;

use crate::components::toast::{ToastKind, use_toasts};
use crate::model::AppError;

/// An inline error with a retry action; also raises a toast so the failure is noticed.
#[component]
pub fn LoadError(error: AppError, retry: Callback<()>) -> impl IntoView {
    let message = error.to_string();
    if let Some(toasts) = use_toasts() {
        let message = message.clone();
        Effect::new(move |_| toasts.show(ToastKind::Error, message.clone()));
    }
    view! {
        <div class="error-panel" role="alert">
            <h2>"Could not load this page"</h2>
            <p>{message}</p>
            <button class="button" type="button" on:click=move |_| retry.run(())>
                "Try again"
            </button>
        </div>
    }
}
