//! The calls explorer (`/calls`): every recorded model call, newest first, filtered by what is
//! in the URL (`provider`, `model`, `agent`, `role`, `workflow`, `task`, `outcome`,
//! `error_class`), 50 at a time by keyset — page 1,000 loads as fast as page 1 — the older pages
//! appended as the list scrolls. A call links to its task, where its step shows the
//! conversation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::calls::{CallsQuery, list_calls};
use crate::components::empty_state::EmptyState;
use crate::components::more_pages::{LoadMore, MorePages, PagedQuery};
use crate::pages::{PageHeader, Shape, loaded};
use wire::Page;
use wire::calls::Call;
use wire::format::{cost_label, timestamp};

/// The URL of the explorer for `query` (its cursor included when set).
pub fn calls_url(query: &CallsQuery) -> String {
    crate::components::more_pages::list_url(
        "/calls",
        &[
            ("provider", &query.provider),
            ("model", &query.model),
            ("agent", &query.agent),
            ("role", &query.role),
            ("workflow", &query.workflow),
            ("task", &query.task),
            ("outcome", &query.outcome),
            ("error_class", &query.error_class),
            ("from", &query.from),
            ("to", &query.to),
            ("weekday", &query.weekday),
            ("hour", &query.hour),
            ("tz", &query.tz),
            ("cursor", &query.cursor),
        ],
    )
}

impl PagedQuery for CallsQuery {
    type Item = Call;

    fn at_cursor(&self, cursor: String) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    fn url(&self) -> String {
        calls_url(self)
    }

    fn fetch(
        self,
    ) -> impl std::future::Future<Output = Result<Page<Call>, crate::model::AppError>> + 'static
    {
        list_calls(self)
    }
}

/// `/calls`.
#[component]
pub fn CallsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let get = |name: &str| p.get(name).unwrap_or_default();
        CallsQuery {
            provider: get("provider"),
            model: get("model"),
            agent: get("agent"),
            role: get("role"),
            workflow: get("workflow"),
            task: get("task"),
            outcome: get("outcome"),
            error_class: get("error_class"),
            from: get("from"),
            to: get("to"),
            weekday: get("weekday"),
            hour: get("hour"),
            tz: get("tz"),
            cursor: get("cursor"),
        }
    });
    let calls = Resource::new(move || query.get(), list_calls);
    let more = MorePages::new(query.get_untracked());
    // A new filter forgets the older pages (not on the first run: the first page has just set
    // where they continue from).
    Effect::watch(
        move || query.get(),
        move |q, _, _| more.reset(q.clone()),
        false,
    );
    view! {
        <Title text="Calls" />
        <PageHeader title="Calls" subtitle="Every model call, newest first: what answered, what it cost, how long it took." />
        {move || view! { <Filters query=query.get() /> }}
        {loaded(calls, &[Shape::Table(10)], move |page| view! { <CallTable page query=query.get_untracked() more /> })}
    }
}

#[component]
fn Filters(query: CallsQuery) -> impl IntoView {
    let outcome = query.outcome.clone();
    let time_window = window(&query);
    let option = move |value: &'static str, label: &'static str| {
        let selected = outcome == value;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <form class="card filter-bar" method="get" action="/calls" data-testid="call-filters">
            <label>"Provider" <input name="provider" value=query.provider placeholder="openai" /></label>
            <label>"Model" <input name="model" value=query.model placeholder="gpt-4o" /></label>
            <label>"Role" <input name="role" value=query.role placeholder="BUILDER" /></label>
            <label>
                "Outcome"
                <select name="outcome" data-testid="filter-outcome">
                    {option("", "Any")}
                    {option("success", "Succeeded")}
                    {option("failed", "Failed")}
                    {option("cancelled", "Cancelled")}
                </select>
            </label>
            <label>"Error" <input name="error_class" value=query.error_class placeholder="rate_limited" /></label>
            // Filters from a drill-down that have no field here ride along.
            <input type="hidden" name="agent" value=query.agent />
            <input type="hidden" name="workflow" value=query.workflow />
            <input type="hidden" name="task" value=query.task />
            <input type="hidden" name="from" value=query.from.clone() />
            <input type="hidden" name="to" value=query.to.clone() />
            <input type="hidden" name="weekday" value=query.weekday.clone() />
            <input type="hidden" name="hour" value=query.hour.clone() />
            <input type="hidden" name="tz" value=query.tz.clone() />
            {time_window}
            <div class="filter-actions">
                <button class="button" type="submit" data-testid="apply-filters">"Filter"</button>
                <a class="button button-secondary" href="/calls">"Clear"</a>
            </div>
        </form>
    }
}

const WEEKDAYS: [&str; 7] = [
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
];

/// The time window a drill-down set, with a link that clears it (keeping the other filters).
fn window(query: &CallsQuery) -> Option<impl IntoView + use<>> {
    let at = |raw: &str| {
        raw.parse::<i64>()
            .ok()
            .map(|ms| format!("{} UTC", timestamp(ms).get(0..16).unwrap_or_default()))
    };
    let (from, to) = (at(&query.from), at(&query.to));
    if from.is_none() && to.is_none() {
        return None;
    }
    let mut text = match (from, to) {
        (Some(f), Some(t)) => format!("{f} – {t}"),
        (Some(f), None) => format!("since {f}"),
        (None, Some(t)) => format!("before {t}"),
        (None, None) => String::new(),
    };
    // An hour of the week (a heatmap cell): `Mondays 14:00–15:00 (Europe/Paris)`.
    if let (Ok(day), Ok(hour)) = (query.weekday.parse::<usize>(), query.hour.parse::<u32>())
        && let Some(name) = WEEKDAYS.get(day)
    {
        let tz = if query.tz.is_empty() {
            "UTC"
        } else {
            query.tz.as_str()
        };
        text = format!(
            "{name} {hour:02}:00–{:02}:00 ({tz}), {text}",
            (hour + 1) % 24
        );
    }
    let clear = calls_url(&CallsQuery {
        from: String::new(),
        to: String::new(),
        weekday: String::new(),
        hour: String::new(),
        tz: String::new(),
        cursor: String::new(),
        ..query.clone()
    });
    Some(view! {
        <p class="filter-window small" data-testid="call-window">
            "Time: " <strong>{text}</strong> " " <a href=clear>"any time"</a>
        </p>
    })
}

/// `Nov 23 09:26:07` (UTC): the full timestamp is the cell's title.
fn when(ms: i64) -> String {
    let stamp = timestamp(ms);
    format!(
        "{} {}",
        wire::format::day_label(ms),
        stamp.get(11..19).unwrap_or_default()
    )
}

fn ms(value: Option<i64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v} ms"))
}

#[component]
fn CallTable(page: Page<Call>, query: CallsQuery, more: MorePages<CallsQuery>) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <EmptyState
                title="No calls match"
                message="Calls appear here as agents run. Clear the filters to see every call."
                testid="calls-empty"
            />
        }
        .into_any();
    }
    more.continue_from(&page);
    let newest = (!query.cursor.is_empty()).then(|| {
        calls_url(&CallsQuery {
            cursor: String::new(),
            ..query.clone()
        })
    });
    view! {
        <section class="card table-card">
            <div class="table-scroll" tabindex="0">
                <table data-testid="call-table">
                    <thead>
                        <tr>
                            <th scope="col">"When (UTC)"</th>
                            <th scope="col">"Task"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Answered by"</th>
                            <th scope="col">"Outcome"</th>
                            <th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Cost"</th>
                            <th scope="col" class="num">"Latency · TTFT"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.items.into_iter().map(|c| view! { <CallRow c /> }).collect_view()}
                        <For each=move || more.rows.get() key=|c| c.id.clone() let:c>
                            <CallRow c />
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
        <LoadMore more newest noun="calls" />
    }
    .into_any()
}

/// One call: when, its task (or trace, or the caller's own label), what answered, its figures.
#[component]
fn CallRow(c: Call) -> impl IntoView {
    let simulated = c.provider_kind == "simulator";
    let outcome_class = format!(
        "status status-{}",
        match c.outcome.as_str() {
            "success" => "completed",
            "cancelled" => "cancelled",
            _ => "failed",
        }
    );
    let outcome = match &c.error_class {
        Some(class) if c.outcome != "success" => format!("{} · {class}", c.outcome),
        _ => c.outcome.clone(),
    };
    view! {
        <tr data-testid="call-row">
            <td class="small" title=timestamp(c.created_at)>{when(c.created_at)}</td>
            <td>
                {match (c.task_id.clone(), c.source == "otlp", c.session_id.clone(), c.external_task.clone()) {
                    (Some(id), ..) => view! { <a href=format!("/tasks/{id}")>{id.chars().take(8).collect::<String>()}</a> }.into_any(),
                    (None, true, Some(trace), _) => view! {
                        <a href=format!("/traces/{trace}") title="The trace this call was exported in" data-testid="call-trace">
                            {format!("trace {}", trace.chars().take(8).collect::<String>())}
                        </a>
                    }.into_any(),
                    (None, _, _, Some(label)) => view! { <span class="small" title="The caller's own task (x-fleetdeck-task)">{label}</span> }.into_any(),
                    _ => view! { <span class="muted">"—"</span> }.into_any(),
                }}
            </td>
            <td>{c.role.clone()}</td>
            <td>
                {format!("{} · {}", c.provider_kind, c.model)}
                {simulated.then(|| view! { " " <span class="badge badge-sim">"Simulated"</span> })}
                {(c.source == "gateway").then(|| view! { " " <span class="badge" title="Proxied by the gateway for an agent running elsewhere" data-testid="call-gateway">"Gateway"</span> })}
                {(c.source == "otlp").then(|| view! { " " <span class="badge" title="Reported by an OpenTelemetry exporter" data-testid="call-otlp">"OTLP"</span> })}
                {(c.attempt > 1).then(|| view! { <span class="small muted">{format!(" (attempt {})", c.attempt)}</span> })}
            </td>
            <td><span class=outcome_class>{outcome}</span></td>
            <td class="num">
                {c.prompt_tokens + c.completion_tokens}
                {c.usage_estimated.then(|| view! { <span class="small muted" title="The provider sent no usage: estimated">" est."</span> })}
            </td>
            <td class="num">{cost_label(c.cost_micros, c.price_known)}</td>
            <td class="num">{format!("{} · {}", ms(Some(c.latency_ms)), ms(c.ttft_ms))}</td>
        </tr>
    }
    .into_any()
}
