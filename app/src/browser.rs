//! Browser-only helpers (the `hydrate` build): theme persistence, the hydration marker and
//! chart drawing. Failures here (no `localStorage` in a private window, ECharts not loaded)
//! degrade the page instead of breaking it.

use charming::component::{Axis, Grid};
use charming::datatype::{DataPoint, DataPointItem};
use charming::element::{AxisType, ItemStyle, Tooltip, Trigger};
use charming::series::Bar;
use charming::theme::Theme as ChartTheme;
use charming::{Chart, WasmRenderer};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::components::theme::Theme;

const THEME_KEY: &str = "fleetdeck-theme";

#[wasm_bindgen]
extern "C" {
    /// `echarts.dispose(element)`: frees the chart drawn in an element before drawing anew.
    #[wasm_bindgen(catch, js_namespace = echarts, js_name = dispose)]
    fn echarts_dispose(element: &web_sys::Element) -> Result<(), JsValue>;

    /// What ECharts passes to a click handler (only the bar's index is read).
    type ClickParams;
    #[wasm_bindgen(method, getter, js_name = dataIndex)]
    fn data_index(this: &ClickParams) -> Option<u32>;

    /// `Intl.DateTimeFormat`, for the browser's time zone.
    #[wasm_bindgen(js_namespace = Intl)]
    type DateTimeFormat;
    #[wasm_bindgen(constructor, js_namespace = Intl)]
    fn new() -> DateTimeFormat;
    #[wasm_bindgen(method, js_name = resolvedOptions)]
    fn resolved_options(this: &DateTimeFormat) -> ResolvedOptions;
    type ResolvedOptions;
    #[wasm_bindgen(method, getter, js_name = timeZone)]
    fn time_zone(this: &ResolvedOptions) -> Option<String>;

    /// A drawn chart, seen for what charming does not bind: event handlers.
    type EchartsInstance;
    /// `chart.on(event, handler)`.
    #[wasm_bindgen(method, js_name = on)]
    fn on(this: &EchartsInstance, event: &str, handler: &Closure<dyn FnMut(ClickParams)>);
}

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// The theme the bootstrap script (or an earlier toggle) applied.
pub fn current_theme() -> Theme {
    match root()
        .and_then(|r| r.get_attribute("data-theme"))
        .as_deref()
    {
        Some("dark") => Theme::Dark,
        _ => Theme::Light,
    }
}

/// Switches theme, stores the choice and returns the new theme.
pub fn toggle_theme() -> Theme {
    let next = match current_theme() {
        Theme::Dark => Theme::Light,
        Theme::Light => Theme::Dark,
    };
    let name = match next {
        Theme::Dark => "dark",
        Theme::Light => "light",
    };
    if let Some(root) = root() {
        let _ = root.set_attribute("data-theme", name);
    }
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(THEME_KEY, name);
    }
    next
}

/// Marks the document as hydrated (`<body data-hydrated="true">`) for tests and tooling.
pub fn mark_hydrated() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Bar values, each with its own colour when one is given.
fn bars(values: &[f64], colors: &[String]) -> Vec<DataPoint> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let item = DataPointItem::new(*value);
            match colors.get(i) {
                Some(color) => item
                    .item_style(ItemStyle::new().color(color.as_str()))
                    .into(),
                None => item.into(),
            }
        })
        .collect()
}

thread_local! {
    /// Charts drawn on this page already: they are redrawn without the grow-in animation, so a
    /// live page that reloads its data every few seconds does not make its bars jump.
    static DRAWN: std::cell::RefCell<std::collections::HashSet<String>> =
        std::cell::RefCell::default();
}

/// Draws (or redraws) a bar chart into the element with `id`.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site, the chart component's props"
)]
pub fn render_bar_chart(
    id: &str,
    labels: &[String],
    values: &[f64],
    series: &str,
    colors: &[String],
    all_labels: bool,
    dollars: bool,
    dark: bool,
    links: &[String],
) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if window.get("echarts").is_none() {
        // Drawn once ECharts has loaded (the page's first chart fetches it).
        let (id, labels, values, series) = (
            id.to_owned(),
            labels.to_vec(),
            values.to_vec(),
            series.to_owned(),
        );
        let (colors, links) = (colors.to_vec(), links.to_vec());
        load_echarts(move || {
            if web_sys::window().and_then(|w| w.get("echarts")).is_none() {
                leptos::logging::warn!("ECharts did not load; chart {id} is not drawn");
                return;
            }
            render_bar_chart(
                &id, &labels, &values, &series, &colors, all_labels, dollars, dark, &links,
            );
        });
        return;
    }
    let Some(element) = window.document().and_then(|d| d.get_element_by_id(id)) else {
        return;
    };
    let _ = echarts_dispose(&element);
    let text = if dark { "#c9d1e0" } else { "#4a5568" };
    let first = DRAWN.with(|d| d.borrow_mut().insert(id.to_owned()));
    let chart = Chart::new()
        .animation(first)
        .background_color("transparent")
        .color(vec!["#6366f1"])
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .grid(Grid::new().left(40).right(16).top(16).bottom(32))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels.to_vec())
                .axis_label({
                    let label = charming::element::AxisLabel::new()
                        .color(text)
                        .font_size(11);
                    // Few categories (roles): show every label. Many (days): let ECharts thin
                    // them out to fit the width.
                    if all_labels { label.interval(0) } else { label }
                }),
        )
        .y_axis(if dollars {
            Axis::new().type_(AxisType::Value).axis_label(
                charming::element::AxisLabel::new()
                    .color(text)
                    .formatter("${value}"),
            )
        } else {
            // Counts: whole ticks only.
            Axis::new()
                .type_(AxisType::Value)
                .min_interval(1)
                .axis_label(charming::element::AxisLabel::new().color(text))
        })
        .series(
            Bar::new()
                .name(series)
                .bar_width("55%")
                .data(bars(values, colors)),
        );
    let theme = if dark {
        ChartTheme::Dark
    } else {
        ChartTheme::Default
    };
    match WasmRenderer::new_opt(None, None)
        .theme(theme)
        .render(id, &chart)
    {
        Ok(drawn) if !links.is_empty() => {
            let links = links.to_vec();
            let open = Closure::<dyn FnMut(ClickParams)>::new(move |params: ClickParams| {
                if let Some(link) = params.data_index().and_then(|i| links.get(i as usize)) {
                    go_to(link);
                }
            });
            drawn.unchecked_ref::<EchartsInstance>().on("click", &open);
            // The chart lives until it is disposed; so does its handler.
            open.forget();
            let _ = element.set_attribute("data-clickable", "true");
        }
        Ok(_) => {}
        Err(e) => leptos::logging::warn!("chart {id} could not be drawn: {e:?}"),
    }
}

/// Fetches ECharts (once per page: later charts wait for the same script) and runs `then` when
/// it has loaded. Pages without charts never download it; the shell names the build's hashed
/// file in `<meta name="fleetdeck-echarts">`. A script that fails to load leaves the charts
/// undrawn, and the page otherwise working.
fn load_echarts(then: impl FnOnce() + 'static) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let script = match document.get_element_by_id("echarts-script") {
        Some(script) => script,
        None => {
            let src = document
                .query_selector("meta[name=fleetdeck-echarts]")
                .ok()
                .flatten()
                .and_then(|m| m.get_attribute("content"))
                .unwrap_or_else(|| "/echarts.min.js".to_owned());
            let Ok(script) = document.create_element("script") else {
                return;
            };
            script.set_id("echarts-script");
            let _ = script.set_attribute("src", &src);
            let Some(head) = document.head() else {
                return;
            };
            if head.append_child(&script).is_err() {
                return;
            }
            script
        }
    };
    let loaded = Closure::once(then);
    let _ = script.add_event_listener_with_callback("load", loaded.as_ref().unchecked_ref());
    // Called at most once by the browser; kept alive until then.
    loaded.forget();
}

/// Loads `path` as a full page (after signing in or out, so every part sees the new session).
pub fn go_to(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
}

/// Asks the user to confirm a destructive action.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// The browser's IANA time zone (`Europe/Paris`), if it says.
pub fn time_zone() -> Option<String> {
    DateTimeFormat::new()
        .resolved_options()
        .time_zone()
        .filter(|tz| !tz.is_empty())
}
