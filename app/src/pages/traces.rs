//! Traces (`/traces`, `/traces/:id`): what agents running elsewhere exported over OTLP. The
//! list is newest first, a keyset page at a time, the older appended as it scrolls; a trace shows its spans as a tree on a time
//! line, each opening to its model call (what answered, tokens, cost), the conversation it
//! carried and its tool call, with the same viewers a task's steps use.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::traces::{get_trace, list_traces};
use crate::components::empty_state::EmptyState;
use crate::components::more_pages::{LoadMore, MorePages, PagedQuery};
use crate::pages::{PageHeader, Shape, loaded};
use wire::Page;
use wire::format::{cost_label, timestamp, tokens_short};
use wire::traces::{TraceDetail, TraceMessage, TraceSpan, TraceSummary};

fn span_ms(ms: i64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

fn trace_cost(t: &TraceSummary) -> String {
    if t.calls == 0 {
        return "—".to_owned();
    }
    cost_label(t.cost_micros, t.unpriced_calls == 0)
}

/// Where the traces list starts (`/traces?cursor=…`); it has no filters.
#[derive(Clone)]
struct TracesCursor {
    cursor: String,
}

impl PagedQuery for TracesCursor {
    type Item = TraceSummary;

    fn at_cursor(&self, cursor: String) -> Self {
        Self { cursor }
    }

    fn url(&self) -> String {
        crate::components::more_pages::list_url("/traces", &[("cursor", &self.cursor)])
    }

    fn fetch(
        self,
    ) -> impl std::future::Future<Output = Result<Page<TraceSummary>, crate::model::AppError>> + 'static
    {
        list_traces(self.cursor)
    }
}

/// `/traces`.
#[component]
pub fn TracesPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = Memo::new(move |_| query.read().get("cursor").unwrap_or_default());
    let traces = Resource::new(move || cursor.get(), list_traces);
    let more = MorePages::new(TracesCursor {
        cursor: cursor.get_untracked(),
    });
    view! {
        <Title text="Traces" />
        <PageHeader title="Traces" subtitle="Agents running elsewhere, as their OpenTelemetry exporters report them: every model call and tool execution, priced." />
        {loaded(traces, &[Shape::Table(8)], move |page| view! { <TraceTable page first=cursor.get_untracked().is_empty() more /> })}
    }
}

#[component]
fn TraceTable(
    page: Page<TraceSummary>,
    first: bool,
    more: MorePages<TracesCursor>,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <EmptyState
                title="No traces yet"
                message="Point an OpenTelemetry exporter at this server's /v1/traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) with a Fleetdeck API key in an Authorization: Bearer header (OTEL_EXPORTER_OTLP_HEADERS). Spans that follow the GenAI conventions appear here as traces."
                testid="traces-empty"
            />
        }
        .into_any();
    }
    more.continue_from(&page);
    let newest = (!first).then(|| "/traces".to_owned());
    view! {
        <section class="card table-card">
            <div class="table-scroll" tabindex="0">
                <table data-testid="trace-table">
                    <thead>
                        <tr>
                            <th scope="col">"Trace"</th>
                            <th scope="col">"Started (UTC)"</th>
                            <th scope="col" class="num">"Duration"</th>
                            <th scope="col" class="num">"Calls · tools"</th>
                            <th scope="col" class="num">"Errors"</th>
                            <th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Cost"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.items.into_iter().map(|t| view! { <TraceRow t /> }).collect_view()}
                        <For each=move || more.rows.get() key=|t| t.trace_id.clone() let:t>
                            <TraceRow t />
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
        <LoadMore more newest noun="traces" />
    }
    .into_any()
}

/// One trace: its name and source, when, how long, its calls, errors, tokens and cost.
#[component]
fn TraceRow(t: TraceSummary) -> impl IntoView {
    let source = [t.service.clone(), t.agent_name.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr data-testid="trace-row">
            <td>
                <a href=format!("/traces/{}", t.trace_id) data-testid="trace-link">{t.name.clone()}</a>
                {(!source.is_empty()).then(|| view! { <div class="small muted">{source}</div> })}
            </td>
            <td class="small">{timestamp(t.started_at)}</td>
            <td class="num">{span_ms(t.ended_at - t.started_at)}</td>
            <td class="num">{format!("{} · {}", t.calls, t.tool_calls)}</td>
            <td class="num">
                {if t.errors > 0 {
                    view! { <span class="status status-failed">{t.errors}</span> }.into_any()
                } else {
                    view! { <span class="muted">"0"</span> }.into_any()
                }}
            </td>
            <td class="num">{tokens_short(t.prompt_tokens + t.completion_tokens)}</td>
            <td class="num">{trace_cost(&t)}</td>
        </tr>
    }
    .into_any()
}

/// `/traces/:id`.
#[component]
pub fn TraceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let trace = Resource::new(move || id.get(), get_trace);
    view! {
        <Title text="Trace" />
        <p class="small"><a href="/traces">"← Traces"</a></p>
        {loaded(trace, &[Shape::Panels(1)], move |detail| view! { <TraceView detail /> }.into_any())}
    }
}

#[component]
fn TraceView(detail: TraceDetail) -> impl IntoView {
    let TraceDetail { trace, spans } = detail;
    let start = trace.started_at;
    let total = (trace.ended_at - trace.started_at).max(1);
    let subtitle = [
        trace.service.clone(),
        trace.agent_name.clone().map(|a| format!("agent {a}")),
        Some(timestamp(trace.started_at)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <div class="page-header">
            <div>
                <h1 data-testid="trace-name">{trace.name.clone()}</h1>
                <p class="subtitle">{subtitle}</p>
            </div>
        </div>
        <dl class="stat-row card" data-testid="trace-stats">
            <div><dt>"Duration"</dt><dd class="num">{span_ms(total)}</dd></div>
            <div><dt>"Spans"</dt><dd class="num">{trace.spans}</dd></div>
            <div><dt>"Model calls"</dt><dd class="num">{trace.calls}</dd></div>
            <div><dt>"Tool calls"</dt><dd class="num">{trace.tool_calls}</dd></div>
            <div><dt>"Errors"</dt><dd class="num">{trace.errors}</dd></div>
            <div><dt>"Tokens in / out"</dt><dd class="num">{format!("{} / {}", tokens_short(trace.prompt_tokens), tokens_short(trace.completion_tokens))}</dd></div>
            <div><dt>"Cost"</dt><dd class="num" data-testid="trace-cost">{trace_cost(&trace)}</dd></div>
        </dl>
        <h2 class="section-title">"Spans"</h2>
        <ol class="span-tree" data-testid="span-tree">
            {spans.into_iter().map(|s| view! { <SpanRow span=s start total /> }.into_any()).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn SpanRow(span: TraceSpan, start: i64, total: i64) -> impl IntoView {
    // The bar: where the span sits in the trace's time, in percent.
    let left = ((span.started_at - start) as f64 / total as f64 * 100.0).clamp(0.0, 100.0);
    let width =
        ((span.ended_at - span.started_at) as f64 / total as f64 * 100.0).clamp(0.5, 100.0 - left);
    let kind = match span.operation.as_deref() {
        Some("invoke_agent" | "create_agent") => "agent",
        Some("execute_tool") => "tool",
        Some(_) if span.call.is_some() => "call",
        _ => "other",
    };
    let label = span.operation.clone().unwrap_or_else(|| "span".to_owned());
    let failed = span.error.is_some();
    let summary_line = match (&span.call, &span.tool_name, &span.agent_name) {
        (Some(c), _, _) => format!(
            "{} · {} · {} in / {} out · {}",
            c.provider_kind,
            c.model,
            c.prompt_tokens,
            c.completion_tokens,
            cost_label(c.cost_micros, c.price_known)
        ),
        (None, Some(tool), _) => format!("tool {tool}"),
        (None, None, Some(agent)) => format!("agent {agent}"),
        _ => String::new(),
    };
    let attributes = serde_json::to_string_pretty(&span.attributes).unwrap_or_default();
    view! {
        <li class=format!("span-row span-{kind}") class:span-failed=failed data-testid="span-row"
            style=format!("--depth: {}", span.depth)>
            <details>
                <summary>
                    <span class="span-name">
                        <span class=format!("badge span-kind span-kind-{kind}")>{label}</span>
                        " " {span.name.clone()}
                        {failed.then(|| view! { " " <span class="status status-failed">"error"</span> })}
                    </span>
                    <span class="span-meta small muted">{summary_line} " · " {span_ms(span.ended_at - span.started_at)}</span>
                    <span class="span-bar" aria-hidden="true">
                        <span style=format!("margin-left: {left:.2}%; width: {width:.2}%")></span>
                    </span>
                </summary>
                <div class="span-body">
                    {span.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
                    {span.call.clone().map(|c| view! {
                        <dl class="step-stats small" data-testid="span-call">
                            <div><dt>"Answered by"</dt><dd>{format!("{} · {}", c.provider_kind, c.model)}</dd></div>
                            <div><dt>"Tokens in / out"</dt><dd class="num">{format!("{} / {}", c.prompt_tokens, c.completion_tokens)}</dd></div>
                            <div><dt>"Cached · reasoning"</dt><dd class="num">{format!("{} · {}", c.cached_tokens, c.reasoning_tokens)}</dd></div>
                            <div><dt>"Cost"</dt><dd class="num">{cost_label(c.cost_micros, c.price_known)}</dd></div>
                            {c.usage_estimated.then(|| view! { <div><dt>"Usage"</dt><dd>"not reported"</dd></div> })}
                        </dl>
                    }.into_any())}
                    {(!span.input.is_empty() || !span.output.is_empty()).then(|| view! {
                        <div class="conversation" data-testid="span-conversation">
                            {span.input.clone().into_iter().chain(span.output.clone()).map(|m| view! { <Message message=m /> }).collect_view()}
                        </div>
                    }.into_any())}
                    {span.tool_arguments.clone().map(|a| view! {
                        <div class="tool-call"><span class="small">"Arguments"</span><pre class="json" tabindex="0">{a}</pre></div>
                    })}
                    {span.tool_result.clone().map(|r| view! {
                        <div class="tool-call"><span class="small">"Result"</span><pre class="json" tabindex="0">{r}</pre></div>
                    })}
                    <details class="span-attributes">
                        <summary class="small">"Attributes"</summary>
                        <pre class="json" tabindex="0">{attributes}</pre>
                    </details>
                </div>
            </details>
        </li>
    }
    .into_any()
}

#[component]
fn Message(message: TraceMessage) -> impl IntoView {
    let TraceMessage {
        role,
        content,
        tool_calls,
    } = message;
    view! {
        <div class=format!("message message-{role}")>
            <div class="message-head"><span class="message-author">{role.clone()}</span></div>
            {(!content.is_empty()).then(|| view! { <pre class="message-text">{content}</pre> })}
            {tool_calls.into_iter().map(|c| view! {
                <div class="tool-call"><span class="small">"Tool call "<code>{c.name}</code></span><pre class="json" tabindex="0">{c.arguments}</pre></div>
            }).collect_view()}
        </div>
    }
}
