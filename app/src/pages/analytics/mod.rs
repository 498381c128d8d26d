//! Analytics: where the money and the time went, read from the rollups. Three views share one
//! range picker and keep everything in the URL, so a view can be bookmarked and shared:
//! Costs (`/analytics?range=30d&by=model`), Trends (`/analytics/trends`, with the viewer's
//! time zone as `tz`) and ANALYST ROI (`/analytics/roi`). The range is a preset (`24h`, `7d`,
//! `30d`, `90d`) or `custom` whole UTC days (`&from=2026-11-01&to=2026-11-20`). Every chart has
//! its numbers in a table, and bars open the calls behind them.

mod costs;
mod roi;
mod trends;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub use roi::RoiPage;
pub use trends::TrendsPage;

use crate::api::analytics::{cost_report, performance_report};
use crate::pages::{PageHeader, Shape, loaded};
use costs::{Costs, Speed};

/// The ranges offered, with how they read in sentences.
const RANGES: [(&str, &str); 4] = [
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
];

/// The breakdowns offered.
const GROUPINGS: [(&str, &str); 6] = [
    ("model", "Model"),
    ("provider", "Provider"),
    ("agent", "Agent"),
    ("role", "Role"),
    ("workflow", "Workflow"),
    ("outcome", "Outcome"),
];

/// The views, by path.
const VIEWS: [(&str, &str); 3] = [
    ("/analytics", "Costs"),
    ("/analytics/trends", "Trends"),
    ("/analytics/roi", "ANALYST ROI"),
];

/// The range in the URL: a preset, or `custom` with its first and last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeParams {
    /// `24h`, `7d`, `30d`, `90d` or `custom`.
    pub range: String,
    /// First day (`YYYY-MM-DD`), for `custom`.
    pub from: String,
    /// Last day, included, for `custom`.
    pub to: String,
}

impl RangeParams {
    /// The query string that keeps this range (no leading `?`).
    pub fn query(&self) -> String {
        if self.range == "custom" {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("range", "custom")
                .append_pair("from", &self.from)
                .append_pair("to", &self.to)
                .finish()
        } else {
            format!("range={}", self.range)
        }
    }

    /// How the range reads in a sentence ("30 days", "Nov 1 – Nov 20").
    pub fn name(&self) -> String {
        match RANGES.iter().find(|(k, _)| *k == self.range) {
            Some((_, name)) => (*name).to_owned(),
            None => format!("{} – {}", self.from, self.to),
        }
    }
}

/// The range of the current URL (30 days when absent or unknown).
pub fn use_range() -> Memo<RangeParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        let range = q.get("range").unwrap_or_default();
        if range == "custom" {
            return RangeParams {
                range,
                from: q.get("from").unwrap_or_default(),
                to: q.get("to").unwrap_or_default(),
            };
        }
        RangeParams {
            range: if RANGES.iter().any(|(k, _)| *k == range) {
                range
            } else {
                "30d".to_owned()
            },
            from: String::new(),
            to: String::new(),
        }
    })
}

/// The views' tabs and the range picker: presets as links, and a custom range of days as a
/// form (`GET`, so it lands in the URL). `keep` is the rest of the view's query (`by=model`).
#[component]
pub fn RangeBar(
    /// The current view's path.
    path: &'static str,
    /// The current range.
    range: Memo<RangeParams>,
    /// Other query parameters of the view, kept when the range changes.
    #[prop(into)]
    keep: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let extra = move || {
        keep.get()
            .iter()
            .map(|(k, v)| {
                format!(
                    "&{k}={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect::<String>()
    };
    view! {
        <nav class="tabs" aria-label="Analytics views">
            {VIEWS
                .iter()
                .map(|(href, name)| {
                    let active = *href == path;
                    view! {
                        <a
                            href=move || format!("{href}?{}", range.get().query())
                            class:active=active
                            aria-current=active.then_some("page")
                        >
                            {*name}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <div class="range-bar">
            <nav class="segmented" aria-label="Time range" data-testid="range-picker">
                {RANGES
                    .iter()
                    .map(|(key, name)| {
                        let key = *key;
                        view! {
                            <a
                                href=move || format!("{path}?range={key}{}", extra())
                                class:active=move || range.get().range == key
                                aria-current=move || (range.get().range == key).then_some("page")
                                title=format!("The last {name}")
                            >
                                {key}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <details class="custom-range" open=move || range.get().range == "custom">
                <summary class:active=move || range.get().range == "custom">"Custom"</summary>
                <form method="get" action=path data-testid="custom-range">
                    <input type="hidden" name="range" value="custom" />
                    {move || {
                        keep.get()
                            .into_iter()
                            .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
                            .collect_view()
                    }}
                    <label>
                        "From"
                        <input type="date" name="from" required value=move || range.get().from />
                    </label>
                    <label>
                        "To"
                        <input type="date" name="to" required value=move || range.get().to />
                    </label>
                    <button type="submit" class="button button-small">"Apply"</button>
                    <span class="small muted">"Whole days, UTC"</span>
                </form>
            </details>
        </div>
    }
}

/// `/analytics`: the Costs view.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let query = use_query_map();
    let range = use_range();
    let by = Memo::new(move |_| {
        let b = query.read().get("by").unwrap_or_default();
        if GROUPINGS.iter().any(|(k, _)| *k == b) {
            b
        } else {
            "model".to_owned()
        }
    });
    let costs = Resource::new(
        move || (range.get(), by.get()),
        |(r, by)| cost_report(r.range, r.from, r.to, by),
    );
    let speed = Resource::new(
        move || range.get(),
        |r| performance_report(r.range, r.from, r.to),
    );
    view! {
        <Title text="Analytics" />
        <PageHeader title="Analytics" subtitle="Where the money and the time went, by model, agent, role and workflow." />
        <RangeBar path="/analytics" range keep=Signal::derive(move || vec![("by".to_owned(), by.get())]) />
        {loaded(costs, &[Shape::Stats(4), Shape::Cards(2)], move |report| {
            let params = range.get_untracked();
            view! { <Costs report range_name=params.name() params by=by.get_untracked() /> }
        })}
        <h2 class="section-title">"Speed and reliability by model"</h2>
        {loaded(speed, &[Shape::Table(4)], |report| view! { <Speed report /> })}
    }
}
