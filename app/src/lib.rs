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
pub mod routes;

#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, path};

use crate::components::layout::Layout;
use crate::components::theme::provide_theme;
use crate::components::toast::provide_toasts;
use crate::pages::not_found::NotFound;
use crate::routes as r;

/// Runs before the first paint so the page never flashes the wrong theme: the stored choice, or
/// the system preference when there is none.
const THEME_BOOTSTRAP: &str = "(function(){try{var t=localStorage.getItem('fleetdeck-theme');\
if(t!=='light'&&t!=='dark'){t=window.matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light';}\
document.documentElement.setAttribute('data-theme',t);}catch(e){}})();";

/// Starts hydration once the server-rendered page has painted: the script loads the app's
/// module and its wasm after the first frame, with no preload hints in the head. Leptos's
/// `HydrationScripts` preloads both from the head, so the 300 KB module shares the link with the
/// stylesheet the first paint waits for — on a slow connection (and in Lighthouse's model of
/// one, which counted it against the largest paint) the page shows later for it. Hydrating a
/// frame later costs nothing a reader notices; the page is readable from the first paint. A
/// page opened in a background tab (no frames there) starts after a second.
fn hydration_script(options: &LeptosOptions) -> String {
    let base = format!("/{}/{}", options.site_pkg_dir, options.output_name);
    // wasm-bindgen's `_bg` suffix, as `HydrationScripts` names the module.
    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_none() {
        format!("{base}_bg.wasm")
    } else {
        format!("{base}.wasm")
    };
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "(function(js,wasm){{var started=false;function go(){{if(started)return;started=true;\
         import(js).then(function(m){{return m.default({{module_or_path:wasm}}).then(function(){{m.hydrate();}});}});}}\
         requestAnimationFrame(function(){{setTimeout(go,0);}});setTimeout(go,1000);}})({},{});",
        quote(&format!("{base}.js")),
        quote(&wasm),
    )
}

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
                <script type="module" inner_html=hydration_script(&options)></script>
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
    // Whether a navigation is under way (a page's code or data still loading): the frame shows
    // a progress bar meanwhile, since the address changes before the new page can show.
    let routing = crate::components::layout::provide_routing();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Fleetdeck".to_owned() } else { format!("{page} · Fleetdeck") }
        } />
        <Router set_is_routing=routing.set_is_routing>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view={Lazy::<r::Dashboard>::new()} />
                    <Route path=path!("agents") view={Lazy::<r::Agents>::new()} />
                    <Route path=path!("agents/:id/versions") view={Lazy::<r::AgentVersions>::new()} />
                    <Route path=path!("agents/:id/personas") view={Lazy::<r::AgentPersonas>::new()} />
                    <Route path=path!("studio") view={Lazy::<r::Studio>::new()} />
                    <Route path=path!("tasks") view={Lazy::<r::Tasks>::new()} />
                    <Route path=path!("tasks/:id") view={Lazy::<r::TaskDetail>::new()} />
                    <Route path=path!("analytics") view={Lazy::<r::Analytics>::new()} />
                    <Route path=path!("analytics/trends") view={Lazy::<r::Trends>::new()} />
                    <Route path=path!("analytics/roi") view={Lazy::<r::Roi>::new()} />
                    <Route path=path!("system") view={Lazy::<r::Health>::new()} />
                    <Route path=path!("calls") view={Lazy::<r::Calls>::new()} />
                    <Route path=path!("traces") view={Lazy::<r::Traces>::new()} />
                    <Route path=path!("traces/:id") view={Lazy::<r::TraceDetail>::new()} />
                    <Route path=path!("budgets") view={Lazy::<r::Budgets>::new()} />
                    <Route path=path!("alerts") view={Lazy::<r::Alerts>::new()} />
                    <Route path=path!("alerts/rules") view={Lazy::<r::AlertRules>::new()} />
                    <Route path=path!("settings") view={Lazy::<r::Settings>::new()} />
                    <Route path=path!("audit") view={Lazy::<r::Audit>::new()} />
                    <Route path=path!("login") view={Lazy::<r::Login>::new()} />
                    <Route path=path!("setup") view={Lazy::<r::Setup>::new()} />
                </Routes>
            </Layout>
        </Router>
    }
    // Erased: `hydrate_lazy` holds the app's view across an await, and its full type is past
    // the compiler's depth limit there.
    .into_any()
}
