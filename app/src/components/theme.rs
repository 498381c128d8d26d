//! Dark and light theme: the system preference until the user picks one, then their choice,
//! persisted in `localStorage` (the inline bootstrap script in the shell applies it before the
//! first paint).

use leptos::prelude::*;

/// The theme in effect, shared with components that draw (charts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Light backgrounds.
    Light,
    /// Dark backgrounds.
    Dark,
}

/// The current theme signal; `None` on the server, where it is unknown.
#[derive(Clone, Copy)]
pub struct ThemeSignal(pub RwSignal<Option<Theme>>);

/// Makes the theme signal available and reads the theme the bootstrap script chose.
pub fn provide_theme() {
    let signal = RwSignal::new(None);
    provide_context(ThemeSignal(signal));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| signal.set(Some(crate::browser::current_theme())));
}

/// The current theme (`None` until hydrated).
pub fn use_theme() -> Option<Theme> {
    use_context::<ThemeSignal>().and_then(|t| t.0.get())
}

/// A button that switches between dark and light.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let signal = use_context::<ThemeSignal>().map(|t| t.0);
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(signal) = signal {
            signal.set(Some(crate::browser::toggle_theme()));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = signal;
    };
    view! {
        <button
            class="icon-button theme-toggle"
            type="button"
            on:click=toggle
            aria-label="Switch between dark and light theme"
            title="Switch theme"
            data-testid="theme-toggle"
        >
            // Both icons are rendered; CSS shows the one that fits the current theme, so the
            // server and the browser render the same markup.
            <svg class="icon icon-moon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
            </svg>
            <svg class="icon icon-sun" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="12" r="4" />
                <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
            </svg>
        </button>
    }
}
