//! The pages as lazy routes: in the browser bundle the pages' code is cut out of the main
//! module into chunks (by `make wasm`'s split step, see `tools/wasm-split`), fetched when one of
//! their pages first shows — so a first visit downloads the shell and the pages it opens, not
//! every page of the app. The server renders them as ever and names the chunks a page needs in
//! its HTML, so the browser fetches them beside the main bundle rather than after it.
//!
//! The pages are split in six groups of pages used together, not one chunk each: code shared
//! by several split points goes into a chunk per set of sharers, and one split point per page
//! (21) made ~550 chunks, a page needing ~150 of them — far more requests than bytes saved.
//! Six groups make ~60 chunks, a page needing ~30. The task page and the calls and traces are
//! groups of their own so that the pages a visit starts on (the Dashboard, the tasks list,
//! Analytics) do not carry them: 64 and 95 KB brotli less on a first visit.
//!
//! A page takes no route data here: each reads its own parameters and starts its own
//! resources, so `data()` is empty and `view()` only mounts the page.

use leptos::prelude::*;
use leptos_router::LazyRoute;

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
    settings::SettingsPage,
    studio::StudioPage,
    task_detail::TaskDetailPage,
    tasks::TasksPage,
    traces::{TraceDetailPage, TracesPage},
};

/// Marks the document hydrated (`<body data-hydrated="true">`, for tests and tooling) once
/// the page around it is: the app's frame hydrates first, a lazy page only after its chunks
/// have arrived.
#[component]
pub fn MarkHydrated() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| crate::browser::mark_hydrated());
}

/// The daily pages: the dashboard and the tasks.
#[derive(Clone, Copy)]
enum Work {
    Dashboard,
    Tasks,
}

#[lazy]
fn work_view(page: Work) -> AnyView {
    match page {
        Work::Dashboard => view! { <DashboardPage /> }.into_any(),
        Work::Tasks => view! { <TasksPage /> }.into_any(),
    }
}

/// A task's run, live (the largest page: steps, events, files, costs): apart, so the dashboard
/// and the tasks list, the pages a visit most often starts on, do not carry it.
#[lazy]
fn run_view() -> AnyView {
    view! { <TaskDetailPage /> }.into_any()
}

/// Where the money and the time went: analytics and health.
#[derive(Clone, Copy)]
enum Insight {
    Analytics,
    Trends,
    Roi,
    Health,
}

#[lazy]
fn insight_view(page: Insight) -> AnyView {
    match page {
        Insight::Analytics => view! { <AnalyticsPage /> }.into_any(),
        Insight::Trends => view! { <TrendsPage /> }.into_any(),
        Insight::Roi => view! { <RoiPage /> }.into_any(),
        Insight::Health => view! { <HealthPage /> }.into_any(),
    }
}

/// What happened, call by call: the calls explorer and the traces.
#[derive(Clone, Copy)]
enum Explore {
    Calls,
    Traces,
    TraceDetail,
}

#[lazy]
fn explore_view(page: Explore) -> AnyView {
    match page {
        Explore::Calls => view! { <CallsPage /> }.into_any(),
        Explore::Traces => view! { <TracesPage /> }.into_any(),
        Explore::TraceDetail => view! { <TraceDetailPage /> }.into_any(),
    }
}

/// Defining agents: the registry, versions, personas and the studio.
#[derive(Clone, Copy)]
enum Build {
    Agents,
    AgentVersions,
    AgentPersonas,
    Studio,
}

#[lazy]
fn build_view(page: Build) -> AnyView {
    match page {
        Build::Agents => view! { <AgentsPage /> }.into_any(),
        Build::AgentVersions => view! { <AgentVersionsPage /> }.into_any(),
        Build::AgentPersonas => view! { <AgentPersonasPage /> }.into_any(),
        Build::Studio => view! { <StudioPage /> }.into_any(),
    }
}

/// Running the instance: settings, audit, budgets, alerts, and signing in.
#[derive(Clone, Copy)]
enum Admin {
    Settings,
    Audit,
    Budgets,
    Alerts,
    AlertRules,
    Login,
    Setup,
}

#[lazy]
fn admin_view(page: Admin) -> AnyView {
    match page {
        Admin::Settings => view! { <SettingsPage /> }.into_any(),
        Admin::Audit => view! { <AuditPage /> }.into_any(),
        Admin::Budgets => view! { <BudgetsPage /> }.into_any(),
        Admin::Alerts => view! { <AlertsPage /> }.into_any(),
        Admin::AlertRules => view! { <AlertRulesPage /> }.into_any(),
        Admin::Login => view! { <LoginPage /> }.into_any(),
        Admin::Setup => view! { <SetupPage /> }.into_any(),
    }
}

/// `lazy_pages!(group_view, __preload_group_view: Route => Group::Page, …)`: a route type per
/// page whose view is its group's lazily loaded view, and whose preload (run by the router
/// before it navigates) fetches the group's chunks.
macro_rules! lazy_pages {
    ($view:ident, $preload:ident: $($route:ident => $page:expr),* $(,)?) => {$(
        #[doc = concat!("The lazily loaded route of `", stringify!($page), "`.")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                let page = $view($page).await;
                view! { {page} <MarkHydrated /> }.into_any()
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                $preload().await;
            }
        }
    )*};
}

lazy_pages! { work_view, __preload_work_view:
    Dashboard => Work::Dashboard,
    Tasks => Work::Tasks,
}

/// The lazily loaded route of the task page.
pub struct TaskDetail;

impl LazyRoute for TaskDetail {
    fn data() -> Self {
        TaskDetail
    }

    async fn view(_this: Self) -> AnyView {
        let page = run_view().await;
        view! { {page} <MarkHydrated /> }.into_any()
    }

    async fn preload() {
        #[cfg(feature = "hydrate")]
        __preload_run_view().await;
    }
}

lazy_pages! { insight_view, __preload_insight_view:
    Analytics => Insight::Analytics,
    Trends => Insight::Trends,
    Roi => Insight::Roi,
    Health => Insight::Health,
}

lazy_pages! { explore_view, __preload_explore_view:
    Calls => Explore::Calls,
    Traces => Explore::Traces,
    TraceDetail => Explore::TraceDetail,
}

lazy_pages! { build_view, __preload_build_view:
    Agents => Build::Agents,
    AgentVersions => Build::AgentVersions,
    AgentPersonas => Build::AgentPersonas,
    Studio => Build::Studio,
}

lazy_pages! { admin_view, __preload_admin_view:
    Settings => Admin::Settings,
    Audit => Admin::Audit,
    Budgets => Admin::Budgets,
    Alerts => Admin::Alerts,
    AlertRules => Admin::AlertRules,
    Login => Admin::Login,
    Setup => Admin::Setup,
}
