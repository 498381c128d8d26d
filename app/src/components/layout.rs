//! The frame around every page: navigation (a sidebar on wide screens, a bottom bar on
//! phones), the top bar with the theme switch, the toast region and an error boundary.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::api::session::{Logout, get_session};

use crate::components::alert_bell::AlertBell;
use crate::components::icons::{Icon, IconName};
use crate::components::palette::CommandPalette;
use crate::components::theme::ThemeToggle;
use crate::components::toast::ToastRegion;
use wire::session::SessionInfo;

/// The pages in the navigation; Alerts, Studio and Traces are left out of the phone's bottom bar
/// (the top bar's bell leads to Alerts, each agent card's Try to the Studio; Traces are an
/// engineer's desk page).
pub(crate) const NAV: [(&str, &str, IconName); 11] = [
    ("/", "Dashboard", IconName::Dashboard),
    ("/agents", "Agents", IconName::Agents),
    ("/studio", "Studio", IconName::Studio),
    ("/tasks", "Tasks", IconName::Tasks),
    ("/analytics", "Analytics", IconName::Analytics),
    ("/traces", "Traces", IconName::Traces),
    ("/budgets", "Budgets", IconName::Budgets),
    ("/alerts", "Alerts", IconName::Bell),
    ("/settings", "Settings", IconName::Settings),
    ("/audit", "Audit", IconName::Audit),
    ("/system", "Health", IconName::Health),
];

/// Whether the router is between pages: set by `<Router set_is_routing>`, read by the frame.
#[derive(Clone, Copy)]
pub struct Routing {
    pub is_routing: ReadSignal<bool>,
    pub set_is_routing: WriteSignal<bool>,
}

impl Routing {
    /// Whether a navigation is under way, as the frame reads it (false outside the app).
    fn busy() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
        let routing = use_context::<Routing>();
        move || routing.is_some_and(|r| r.is_routing.get())
    }
}

/// Provides [`Routing`] to the app and returns it for the router.
pub fn provide_routing() -> Routing {
    let (is_routing, set_is_routing) = signal(false);
    let routing = Routing {
        is_routing,
        set_is_routing,
    };
    provide_context(routing);
    routing
}

/// A thin bar across the top while a navigation loads (aria-busy tells assistive technology).
#[component]
fn RouteProgress() -> impl IntoView {
    let busy = Routing::busy();
    view! {
        <div
            class=move || if busy() { "route-progress active" } else { "route-progress" }
            aria-hidden="true"
        ></div>
    }
}

/// Wraps the routed page; the sign-in and setup pages get no navigation.
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let location = use_location();
    let bare = move || matches!(location.pathname.get().as_str(), "/login" | "/setup");
    let bare_children = children.clone();
    view! {
        <Show
            when=move || !bare()
            fallback=move || view! { <main id="content">{bare_children()}</main> }
        >
            <Framed children=children.clone() />
        </Show>
        <RouteProgress />
        <ToastRegion />
    }
    // The frame's views are erased at these edges: with the lazy routes the whole app's view
    // type is held across an await while a page's chunk loads, past the compiler's depth limit.
    .into_any()
}

/// The session's user, balance and sign-out button.
#[component]
fn SessionMenu() -> impl IntoView {
    // Who is signed in, in the first paint: the page's request already resolved the session
    // (the server's page middleware puts it in the request), and a shared value carries it to
    // the browser with the page. Streamed after the page as a resource, its arrival pushed the
    // whole top bar sideways on every page. Only where that is missing is it fetched.
    let known = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<SessionInfo>().cloned())
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<SessionInfo>
        }
    })
    .into_inner();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            #[cfg(feature = "hydrate")]
            crate::browser::go_to("/login");
        }
    });
    let menu = move |s: SessionInfo| {
        view! {
            <span class="credits" data-testid="credits" title="Credits: each agent run costs one">
                {format!("{} credits", s.credits)}
            </span>
            <span class="who" title=format!("{} · {}", s.workspace.name, s.role)>{s.user.email}</span>
            <ActionForm action=logout>
                <button class="button button-secondary" type="submit" data-testid="logout">"Sign out"</button>
            </ActionForm>
        }
    };
    if let Some(s) = known {
        return menu(s).into_any();
    }
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(s)) => menu(s).into_any(),
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn Framed(children: ChildrenFn) -> impl IntoView {
    let palette = RwSignal::new(false);
    let routing = Routing::busy();
    let busy = move || routing().then_some("true");
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
                                <li class:nav-wide-only=href == "/alerts" || href == "/studio" || href == "/traces">
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
                    // Named for phones, where the word is hidden and only the logo shows.
                    <a class="topbar-brand" href="/" aria-label="Fleetdeck">
                        <img src="/favicon.svg" alt="" width="24" height="24" />
                        <span>"Fleetdeck"</span>
                    </a>
                    <div class="topbar-actions">
                        <button class="palette-open" type="button" data-testid="palette-open"
                            title="Search pages, agents, tasks and actions (Ctrl+K)"
                            aria-keyshortcuts="Control+K Meta+K"
                            on:click=move |_| palette.set(true)>
                            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                                <circle cx="11" cy="11" r="7" />
                                <path d="M20 20l-3.5-3.5" />
                            </svg>
                            // The name is the word; on phones it is hidden from sight, not from
                            // screen readers.
                            <span class="palette-open-label">"Search"</span>
                            <kbd class="palette-open-keys" aria-hidden="true">"Ctrl K"</kbd>
                        </button>
                        <AlertBell />
                        <SessionMenu />
                        <ThemeToggle />
                    </div>
                </header>
                <main id="content" class="content" tabindex="-1"
                    aria-busy=busy>
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
        <CommandPalette open=palette />
    }
    .into_any()
}
