//! Toasts: short messages in a corner, announced to screen readers, gone after a few seconds.

use std::time::Duration;

use leptos::prelude::*;

/// How a toast looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    /// Something worked.
    Success,
    /// Something failed.
    Error,
    /// Neutral information.
    Info,
}

impl ToastKind {
    fn class(self) -> &'static str {
        match self {
            ToastKind::Success => "toast toast-success",
            ToastKind::Error => "toast toast-error",
            ToastKind::Info => "toast toast-info",
        }
    }
}

#[derive(Clone, Debug)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

/// Handle for showing toasts; get it with [`use_toasts`].
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    /// Shows a toast for five seconds.
    pub fn show(&self, kind: ToastKind, message: impl Into<String>) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast {
                id,
                kind,
                message: message.into(),
            })
        });
        let items = self.items;
        set_timeout(
            move || items.update(|items| items.retain(|t| t.id != id)),
            Duration::from_secs(5),
        );
    }

    fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// Provides the toast handle to the whole app.
pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
    });
}

/// The toast handle.
pub fn use_toasts() -> Option<Toasts> {
    use_context::<Toasts>()
}

/// Where toasts appear; rendered once by the layout.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toast-region" role="status" aria-live="polite">
            {move || {
                toasts
                    .map(|t| {
                        t.items
                            .get()
                            .into_iter()
                            .map(|toast| {
                                let id = toast.id;
                                view! {
                                    <div class=toast.kind.class() data-testid="toast">
                                        <span>{toast.message}</span>
                                        <button
                                            type="button"
                                            class="toast-close"
                                            aria-label="Dismiss"
                                            on:click=move |_| t.dismiss(id)
                                        >
                                            "×"
                                        </button>
                                    </div>
                                }
                            })
                            .collect_view()
                    })
            }}
        </div>
    }
}
