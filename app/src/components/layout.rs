//! The frame around every page: navigation (a sidebar on wide screens, a bottom bar on
//! phones), the top bar with the theme switch, the toast region and an error boundary.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::icons::{Icon, IconName};
use crate::components::theme::ThemeToggle;
use crate::components::toast::ToastRegion;

const NAV: [(&str, &str, IconName); 5] = [
    ("/", "Dashboard", IconName::Dashboard),
    ("/agents", "Agents", IconName::Agents),
    ("/tasks", "Tasks", IconName::Tasks),
    ("/analytics", "Analytics", IconName::Analytics),
    ("/settings", "Settings", IconName::Settings),
];

/// Wraps the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <div class="app-frame">
            <nav class="nav" aria-label="Main">
                <a class="brand" href="/">
                    <img src="/favicon.svg" alt="" width="28" height="28" />
                    <span>"Fleetdeck"</span>
                </a>
                <ul class="nav-list">
                    {NAV
                        .into_iter()
                        .map(|(href, label, icon)| {
                            view! {
                                <li>
                                    <A href=href exact=true attr:class="nav-link">
                                        <Icon name=icon />
                                        <span class="nav-label">{label}</span>
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <div class="main-column">
                <header class="topbar">
                    <a class="topbar-brand" href="/">
                        <img src="/favicon.svg" alt="" width="24" height="24" />
                        <span>"Fleetdeck"</span>
                    </a>
                    <div class="topbar-actions">
                        <ThemeToggle />
                    </div>
                </header>
                <main id="content" class="content" tabindex="-1">
                    <ErrorBoundary fallback=|errors| {
                        view! {
                            <div class="error-panel" role="alert">
                                <h2>"Something went wrong"</h2>
                                <ul>
                                    {move || {
                                        errors
                                            .get()
                                            .into_iter()
                                            .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                            .collect_view()
                                    }}
                                </ul>
                                <a class="button" href="">"Reload the page"</a>
                            </div>
                        }
                    }>{children()}</ErrorBoundary>
                </main>
            </div>
        </div>
        <ToastRegion />
    }
}
