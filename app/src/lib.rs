//! Fleetdeck's Leptos application: the HTML shell, the routes, pages, components and the
//! `#[server]` functions they call.
//!
//! Compiled twice: with `ssr` into the server (where server functions reach the engine through
//! [`ssr::ServerContext`]) and with `hydrate` into the WebAssembly bundle (where the DOM helpers
//! in `browser` run). Neither feature is on by default.

pub mod api;
pub mod components;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::components::theme::provide_theme;
use crate::components::toast::provide_toasts;
use crate::pages::{
    agent_personas::AgentPersonasPage,
    agent_versions::AgentVersionsPage,
    agents::AgentsPage,
    alert_rules::AlertRulesPage,
    alerts::AlertsPage,
    analytics::{AnalyticsPage, RoiPage, TrendsPage},
    audit::AuditPage,
    budgets::BudgetsPage,
    calls::CallsPage,
    dashboard::DashboardPage,
    health::HealthPage,
    login::{LoginPage, SetupPage},
    not_found::NotFound,
    settings::SettingsPage,
    studio::StudioPage,
    task_detail::TaskDetailPage,
    tasks::TasksPage,
    traces::{TraceDetailPage, TracesPage},
};

/// Runs before the first paint so the page never flashes the wrong theme: the stored choice, or
/// the system preference when there is none.
const THEME_BOOTSTRAP: &str = "(function(){try{var t=localStorage.getItem('fleetdeck-theme');\
if(t!=='light'&&t!=='dark'){t=window.matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light';}\
document.documentElement.setAttribute('data-theme',t);}catch(e){}})();";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The hashed file names of this build (see `assets`); the shell is rendered on the server
    // only.
    #[cfg(feature = "ssr")]
    let (options, css, echarts) = {
        let files = assets::assets(&options);
        let mut options = options;
        options.output_name = files.app.clone().into();
        (options, files.css.clone(), files.echarts.clone())
    };
    #[cfg(not(feature = "ssr"))]
    let (css, echarts) = (String::new(), String::new());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="description" content="Fleetdeck: the control plane for your AI agents." />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <script inner_html=THEME_BOOTSTRAP></script>
                <link rel="stylesheet" href=css />
                // ECharts is served from this origin (copied from the npm package at build
                // time) and fetched by the first chart a page draws: pages without charts never
                // load its 300 KB.
                <meta name="fleetdeck-echarts" content=echarts />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_theme();
    provide_toasts();

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::mark_hydrated());

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Fleetdeck".to_owned() } else { format!("{page} · Fleetdeck") }
        } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("agents") view=AgentsPage />
                    <Route path=path!("agents/:id/versions") view=AgentVersionsPage />
                    <Route path=path!("agents/:id/personas") view=AgentPersonasPage />
                    <Route path=path!("studio") view=StudioPage />
                    <Route path=path!("tasks") view=TasksPage />
                    <Route path=path!("tasks/:id") view=TaskDetailPage />
                    <Route path=path!("analytics") view=AnalyticsPage />
                    <Route path=path!("analytics/trends") view=TrendsPage />
                    <Route path=path!("analytics/roi") view=RoiPage />
                    <Route path=path!("system") view=HealthPage />
                    <Route path=path!("calls") view=CallsPage />
                    <Route path=path!("traces") view=TracesPage />
                    <Route path=path!("traces/:id") view=TraceDetailPage />
                    <Route path=path!("budgets") view=BudgetsPage />
                    <Route path=path!("alerts") view=AlertsPage />
                    <Route path=path!("alerts/rules") view=AlertRulesPage />
                    <Route path=path!("settings") view=SettingsPage />
                    <Route path=path!("audit") view=AuditPage />
                    <Route path=path!("login") view=LoginPage />
                    <Route path=path!("setup") view=SetupPage />
                </Routes>
            </Layout>
        </Router>
    }
}
