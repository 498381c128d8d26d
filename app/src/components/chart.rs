//! Bar charts drawn by ECharts through `charming`, in the browser only.
//!
//! The server renders an empty, labelled container of fixed height (so nothing jumps); after
//! hydration an effect draws into it, and draws again when the theme changes or the window is
//! resized.

use leptos::prelude::*;

/// One bar per label.
#[component]
pub fn BarChart(
    /// DOM id of the container; unique on the page.
    id: &'static str,
    /// What the chart shows, for screen readers.
    aria_label: String,
    /// Category labels (x axis).
    labels: Vec<String>,
    /// One value per label.
    values: Vec<f64>,
    /// Series name shown in the tooltip.
    series: &'static str,
    /// One colour per bar (CSS colour strings); the theme's accent when empty.
    #[prop(optional)]
    colors: Vec<String>,
    /// Show every category label (for a handful of categories).
    #[prop(optional)]
    all_labels: bool,
    /// The values are dollars (the axis reads `$…`, fractions allowed).
    #[prop(optional)]
    dollars: bool,
    /// One address per bar: clicking a bar opens what is behind it (the calls of that period).
    #[prop(optional)]
    links: Vec<String>,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use crate::components::theme::use_theme;
        let redraw = RwSignal::new(0u32);
        let handle = window_event_listener(leptos::ev::resize, move |_| {
            redraw.update(|n| *n = n.wrapping_add(1))
        });
        on_cleanup(move || handle.remove());
        Effect::new(move |_| {
            redraw.track();
            let dark = use_theme() == Some(crate::components::theme::Theme::Dark);
            crate::browser::render_bar_chart(
                id, &labels, &values, series, &colors, all_labels, dollars, dark, &links,
            );
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (labels, values, series, colors, all_labels, dollars, links);
    view! { <div id=id class="chart" role="img" aria-label=aria_label></div> }
}
